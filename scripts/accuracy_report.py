#!/usr/bin/env python3
"""Tables and DET plots from phone-protocol work directories (see scripts/accuracy.sh).

Every pairs.csv the protocol left behind is scored again by each engine, so the report has the raw
scores: EER and FRR at FAR = 1/1,000 per set (mean over seeds), macro over sets, and a DET curve of
all sets and seeds pooled under one threshold, as a device would use it.
"""
import argparse, glob, os, subprocess, sys
import numpy as np


def score(bin_path, pairs):
    r = subprocess.run([bin_path, "score", "--dpi", "500", pairs], capture_output=True, text=True, check=True)
    gen, imp, gen_m, imp_m = [], [], [], []
    for line in r.stdout.splitlines():
        t, p, s, m = line.strip().split(",")
        same = os.path.basename(t).split(".")[0] == os.path.basename(p).split("_")[0]
        (gen if same else imp).append(float(s))
        (gen_m if same else imp_m).append(m == "1")
    return np.array(gen), np.array(imp), np.array(gen_m), np.array(imp_m)


def rates(gen, imp):
    """FRR and FAR at every distinct score used as a threshold (match = score >= t), ascending t."""
    ts = np.unique(np.concatenate([gen, imp]))
    g, i = np.sort(gen), np.sort(imp)
    frr = np.searchsorted(g, ts, side="left") / len(g)
    far = 1 - np.searchsorted(i, ts, side="left") / len(i)
    return ts, frr, far


def eer(gen, imp):
    _, frr, far = rates(gen, imp)
    k = np.argmin(np.abs(frr - far))
    return (frr[k] + far[k]) / 2


def frr_at_far(gen, imp, target=1e-3):
    ts, frr, far = rates(gen, imp)
    ok = far <= target
    # Above every impostor score FAR is 0: FRR is the share of genuine scores at or below the top impostor.
    best = frr[ok].min() if ok.any() else 1.0
    return min(best, (gen <= imp.max()).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--sizes", default="160,192")
    ap.add_argument("--seeds", default="1 2 3 4 5")
    ap.add_argument("--engine", action="append", required=True, help="name=path of an fphal-eval-like command")
    ap.add_argument("--plots", default=None, help="folder for det-<S>.png")
    ap.add_argument("--threshold", type=float, action="append", default=[],
                    help="also report FRR and FAR of the first engine at this score (repeatable)")
    a = ap.parse_args()
    engines = [e.split("=", 1) for e in a.engine]
    sizes = [int(s) for s in a.sizes.split(",")]
    seeds = a.seeds.split()
    pooled = {}
    for S in sizes:
        table = {}
        for name, bin_path in engines:
            for seed in seeds:
                for pairs in sorted(glob.glob(f"{a.work}/{name}/s{seed}/*_{S}/pairs.csv")):
                    setname = os.path.basename(os.path.dirname(pairs))[: -len(f"_{S}")]
                    gen, imp, gm, im = score(bin_path, pairs)
                    row = table.setdefault(setname, {}).setdefault(name, [])
                    row.append((eer(gen, imp), frr_at_far(gen, imp), 1 - gm.mean(), im.mean()))
                    pg = pooled.setdefault((S, name), ([], [], [], []))
                    pg[0].extend(gen); pg[1].extend(imp); pg[2].extend(gm); pg[3].extend(im)
        print(f"\n### S = {S} px (seeds {', '.join(seeds)}; mean over seeds)\n")
        head = "| set | " + " | ".join(f"{n} EER | {n} FRR @ FAR 1/1000" for n, _ in engines) + " |"
        print(head)
        print("|---|" + "---:|" * (2 * len(engines)))
        macro = {n: [] for n, _ in engines}
        for setname in sorted(table):
            cells = []
            for n, _ in engines:
                v = np.array(table[setname].get(n, [(np.nan,) * 4]))
                macro[n].append(v.mean(axis=0))
                cells += [f"{100 * v[:, 0].mean():.1f}%", f"{100 * v[:, 1].mean():.1f}%"]
            print(f"| {setname} | " + " | ".join(cells) + " |")
        cells = []
        for n, _ in engines:
            m = np.array(macro[n]).mean(axis=0)
            cells += [f"**{100 * m[0]:.1f}%**", f"**{100 * m[1]:.1f}%**"]
        print("| **macro** | " + " | ".join(cells) + " |")
        for n, _ in engines:
            g, i, gm, im = (np.array(x) for x in pooled[(S, n)])
            print(f"\n{n}, all sets pooled: {len(g)} genuine, {len(i)} impostor scores; at its own match "
                  f"decision FRR {100 * (1 - gm.mean()):.1f}%, FAR {100 * im.mean():.2f}% ({int(im.sum())} of {len(i)})")
            if n == engines[0][0]:
                pct = lambda v, ps: " ".join(f"p{p:g}={np.percentile(v, p):.3f}" for p in ps)
                print(f"{n} score distribution: genuine {pct(g, [1, 3, 5, 10, 50])}; "
                      f"impostor (1:1) {pct(i, [50, 99, 99.9])} max={i.max():.3f}")
                for t in a.threshold:
                    print(f"{n} at score {t}: FRR {100 * (g < t).mean():.1f}%, FAR {int((i >= t).sum())} of {len(i)} 1:1 comparisons")
    if a.plots:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        os.makedirs(a.plots, exist_ok=True)
        for S in sizes:
            fig, ax = plt.subplots(figsize=(5.5, 5))
            for n, _ in engines:
                g, i, _, _ = (np.array(x) for x in pooled[(S, n)])
                _, frr, far = rates(g, i)
                keep = (far > 0) & (frr > 0)
                ax.loglog(far[keep] * 100, frr[keep] * 100, label=n)
            ax.set_xlabel("FAR (%)"); ax.set_ylabel("FRR (%)")
            ax.set_xlim(0.01, 100); ax.set_ylim(0.5, 100)
            ax.grid(True, which="both", alpha=0.3)
            ax.set_title(f"DET, phone protocol S={S}, FVC sets pooled")
            ax.legend()
            path = os.path.join(a.plots, f"det-{S}.png")
            fig.savefig(path, dpi=100, bbox_inches="tight")
            print(f"\nDET plot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
