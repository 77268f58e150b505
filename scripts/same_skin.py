#!/usr/bin/env python3
"""The same skin turned and upright: the 90° and 180° probes of an operating-point folder turned back.

usage: same_skin.py EVAL_BIN SIZE_DIR [REAL_DIR]

The protocol draws each turn's crops anew, so the probes of two turns show different skin. This
turns every 90° and 180° probe of SIZE_DIR (a folder written by scripts/operating.sh, e.g.
/tmp/fphal-operating/fphal/S160) back upright exactly, a quarter or half turn of its pixels, scores
the upright copies against their own finger's template with EVAL_BIN (`fphal-eval score --dpi 500`)
and prints, per turn, the FRR at the engine's own decision turned and upright, how many score below
0.09 (impostor level) each way, and how many of those below 0.09 turned score above 0.12 upright:
touches whose turn no stage finds. A 90° probe's sign was drawn at random; it is found by locating
the turned-back crop in its impression, read from REAL_DIR (default ../shared/data) as the protocol
reads it. The upright copies are written to SIZE_DIR/upright/.
"""
import functools
import os
import re
import subprocess
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "tools"))
try:
    import operating_protocol  # noqa: E402
except ImportError:
    sys.exit("same_skin.py: ../shared/tools/operating_protocol.py is absent; nothing measured")

PROBE = re.compile(r"(?P<set>fvc\d+_DB\d_B)-(?P<finger>\d+)_p(?P<impression>\d)_\d_r(?P<turn>90|180)\.png$")


def quarters_back(image, crop):
    """The quarter turns (1 or 3) that lay a 90° crop back the way it lies in `image`: the one whose
    turned-back copy correlates highest somewhere in it (by FFT, the image's spectrum taken once)."""
    h, w = image.shape[0] + crop.shape[0], image.shape[1] + crop.shape[1]
    whole = np.fft.rfft2(image - image.mean(), (h, w))

    def located(k):
        c = np.rot90(crop, k) - crop.mean()
        return np.fft.irfft2(whole * np.fft.rfft2(c[::-1, ::-1], (h, w)), (h, w)).max()

    return max((1, 3), key=located)


@functools.lru_cache(maxsize=None)
def impression(real_dir, set_name, finger, number):
    """An impression as the protocol reads it (each is the source of two probe crops)."""
    year, db = set_name.split("_", 1)
    path = os.path.join(real_dir, year, db, f"{finger}_{number}.png")
    return np.asarray(operating_protocol.load(path, operating_protocol.DPI.get(set_name, 500)), float)


def rows(path):
    with open(path) as fh:
        for line in fh:
            parts = line.strip().split(",")
            if len(parts) == 4:
                yield parts[0], parts[1], float(parts[2]), parts[3] == "1"


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 64
    eval_bin, size_dir = sys.argv[1], sys.argv[2]
    real_dir = sys.argv[3] if len(sys.argv) == 4 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    scores = os.path.join(size_dir, "scores.csv")
    if not os.path.isfile(scores):
        print(f"{size_dir}: no scores.csv; run scripts/operating.sh first", file=sys.stderr)
        return 1
    turned = {}  # probe name -> (template, score, matched)
    for template, probe, score, matched in rows(scores):
        name = os.path.basename(probe)
        m = PROBE.search(name)
        if m and os.path.basename(template) == f"{m['set']}-{m['finger']}.tpl":
            turned[name] = (template, score, matched)
    if not turned:
        print(f"{size_dir}: no 90° or 180° genuine probes in scores.csv", file=sys.stderr)
        return 1
    out = os.path.join(size_dir, "upright")
    os.makedirs(out, exist_ok=True)
    pairs = []
    for name, (template, _, _) in sorted(turned.items()):
        m = PROBE.search(name)
        crop = np.asarray(Image.open(os.path.join(size_dir, name)), float)
        if m["turn"] == "180":
            quarters = 2
        else:
            quarters = quarters_back(impression(real_dir, m["set"], m["finger"], m["impression"]), crop)
        path = os.path.join(out, name)
        Image.fromarray(np.rot90(crop, quarters).astype(np.uint8)).save(path)
        pairs.append(f"{template},{path}")
    pairs_file = os.path.join(out, "pairs.csv")
    with open(pairs_file, "w") as fh:
        fh.write("\n".join(pairs) + "\n")
    scored = subprocess.run([eval_bin, "score", "--dpi", "500", pairs_file], capture_output=True, text=True)
    if scored.returncode != 0:
        print(f"{eval_bin} score failed: {scored.stderr.strip()[-300:]}", file=sys.stderr)
        return 1
    upright = {}
    for line in scored.stdout.splitlines():
        parts = line.strip().split(",")
        if len(parts) == 4:
            upright[os.path.basename(parts[1])] = (float(parts[2]), parts[3] == "1")
    for turn in ("90", "180"):
        names = [n for n in turned if PROBE.search(n)["turn"] == turn and n in upright]
        t = np.array([turned[n][1] for n in names])
        u = np.array([upright[n][0] for n in names])
        frr_t = 100 * np.mean([not turned[n][2] for n in names])
        frr_u = 100 * np.mean([not upright[n][1] for n in names])
        lost = int(((t < 0.09) & (u > 0.12)).sum())
        print(f"{turn} deg, {len(names)} probes: FRR turned {frr_t:.1f}% upright {frr_u:.1f}%; "
              f"below 0.09 turned {int((t < 0.09).sum())} upright {int((u < 0.09).sum())}; "
              f"of those below 0.09 turned, above 0.12 upright: {lost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
