#!/usr/bin/env python3
"""How much the synthetic operating point depends on the draw of identification groups.

fphal-synth-bench forms each probe's impostor attempts from one fixed set of comparisons (groups of
5 of the probe's 100 other fingers), so a single high impostor comparison may fall into 2 attempts
(allowed at 150,000 attempts) or into 4 (not allowed), and the threshold moves with that luck. This
script re-scores the rows written by `fphal-synth-bench --views-csv FILE` (a finger's score is the
mean of the evidence of its two best views, as in the engine) and draws the groups again with other
seeds:

    python3 scripts/redraw_threshold.py FILE [--draws 20] [--group 5] [--per-probe 75]

It prints the FRR at the threshold of each draw (at most attempts/50,000 accepted) and the FRR at
no false accept among all 1:1 impostor comparisons (the least lucky draw). The evidence is rounded
to 5 digits in the CSV, so a score may differ from the bench's in the last digit. A comparison a
second look lifted (src/matcher/second_look.rs) has the rows of that look.
"""
import argparse, csv
from collections import defaultdict
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--group", type=int, default=5)
    ap.add_argument("--per-probe", type=int, default=75)
    args = ap.parse_args()
    views = defaultdict(list)
    genuine_pair = {}
    with open(args.csv) as f:
        rows = csv.DictReader(f)
        if "evidence" not in (rows.fieldnames or []):
            raise SystemExit(f"{args.csv} has no evidence column: write it again with fphal-synth-bench --views-csv")
        for row in rows:
            key = (int(row["probe"]), int(row["finger"]))
            views[key].append(float(row["evidence"]))
            genuine_pair[key] = row["genuine"] == "1"
    score = {k: float(np.mean(sorted(v, reverse=True)[:2])) for k, v in views.items()}
    genuine = np.array([s for k, s in score.items() if genuine_pair[k]])
    impostors = defaultdict(list)
    for (probe, finger), s in sorted(score.items()):
        if not genuine_pair[(probe, finger)]:
            impostors[probe].append(s)
    per_probe = [np.array(impostors[p]) for p in sorted(impostors)]
    highest = max(v.max() for v in per_probe)
    print(f"probes {len(genuine)}, impostor comparisons {sum(len(v) for v in per_probe)}")
    print(f"FRR at no false accept among all comparisons (above {highest:.4f}): {np.mean(genuine <= highest) * 100:.2f}%")
    frrs = []
    for d in range(args.draws):
        rng = np.random.default_rng(1000 + d)
        attempts = np.concatenate([v[np.array([rng.choice(len(v), args.group, replace=False) for _ in range(args.per_probe)])].max(axis=1) for v in per_probe])
        attempts = np.sort(attempts)[::-1]
        allowed = len(attempts) // 50_000
        threshold = np.nextafter(attempts[allowed], 1.0)
        frrs.append(np.mean(genuine < threshold) * 100)
    print(f"FRR at the threshold of {args.draws} draws of {len(attempts)} attempts: " + " ".join(f"{x:.2f}%" for x in sorted(frrs)))


if __name__ == "__main__":
    main()
