#!/usr/bin/env python3
"""FRR by probe turn and impostors accepted at other thresholds, from one size's operating-point folder.

usage: operating_thresholds.py SIZE_DIR THRESHOLD...

SIZE_DIR is a folder written by scripts/operating.sh (e.g. /tmp/fphal-operating/fphal/S160): its
scores.csv (the protocol's pairs) gives the genuine scores, its all_impostors.csv (scripts/real_impostors.py)
the impostor ones. Nothing is scored again: this only counts, at each threshold (accept at score >= it), on the scores as
written (5 decimals), so a score within 0.000005 of a threshold may count otherwise than the engine's
own decision did.
"""
import os
import sys

from real_impostors import PROBE


def rows(path):
    with open(path) as fh:
        for line in fh:
            t, p, s, _ = line.strip().split(",")
            yield os.path.basename(t)[:-len(".tpl")], os.path.basename(p), float(s)


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 64
    size_dir = sys.argv[1]
    try:
        thresholds = [float(t) for t in sys.argv[2:]]
    except ValueError as e:
        print(f"thresholds must be numbers: {e}", file=sys.stderr)
        return 64
    for name in ("scores.csv", "all_impostors.csv"):
        if not os.path.isfile(os.path.join(size_dir, name)):
            print(f"{size_dir}: no {name}; run scripts/operating.sh first", file=sys.stderr)
            return 1
    genuine = {}
    for finger, probe, score in rows(os.path.join(size_dir, "scores.csv")):
        m = PROBE.match(probe)
        if m and m.group(1) == finger:
            genuine.setdefault(abs(int(m.group(2))), []).append(score)
    impostors = [s for _, _, s in rows(os.path.join(size_dir, "all_impostors.csv"))]
    turns = sorted(genuine)
    print("threshold," + ",".join(f"FRR {t} deg" for t in turns) + f",impostors accepted (of {len(impostors)})")
    for th in thresholds:
        frr = [100 * sum(s < th for s in genuine[t]) / len(genuine[t]) for t in turns]
        print(f"{th}," + ",".join(f"{f:.1f}%" for f in frr) + f",{sum(s >= th for s in impostors)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
