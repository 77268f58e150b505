#!/usr/bin/env python3
"""Every real impostor comparison an operating-point work folder allows, for the threshold's evidence.

usage: real_impostors.py EVAL_BIN SIZE_DIR

SIZE_DIR is one size's folder written by the operating-point protocol (scripts/operating.sh): templates
<set>-<finger>.tpl, enrollment crops <set>-<finger>_e*.png and probe crops <set>-<finger>_p*_r<turn>.png.
The protocol itself counts only the unturned probes against other fingers. This scores every probe, at
every turn, and every enrollment crop against every template of another finger (same set and other sets:
different fingers, though other sensors for the latter), prints how many reach the command's own match
decision and the score quantiles by turn, and keeps the scores in SIZE_DIR/all_impostors.csv.
"""
import glob
import os
import re
import subprocess
import sys

import numpy as np

PROBE = re.compile(r"(.+)_p\d+_\d+_r(-?\d+)\.png$")
ENROLLED = re.compile(r"(.+)_e\d+_\d+\.png$")


def crops(size_dir):
    """(finger key, turn in degrees, path) of every crop in the folder."""
    out = []
    for path in sorted(glob.glob(os.path.join(size_dir, "*.png"))):
        name = os.path.basename(path)
        m = PROBE.match(name)
        if m:
            out.append((m.group(1), abs(int(m.group(2))), path))
            continue
        m = ENROLLED.match(name)
        if m:
            out.append((m.group(1), 0, path))
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 64
    evalbin, size_dir = sys.argv[1:]
    templates = {os.path.basename(t)[:-len(".tpl")]: t for t in sorted(glob.glob(os.path.join(size_dir, "*.tpl")))}
    if len(templates) < 2:
        print(f"{size_dir}: fewer than two templates; run scripts/operating.sh first", file=sys.stderr)
        return 1
    found = crops(size_dir)
    if not found:
        print(f"{size_dir}: no enrollment or probe crops; run scripts/operating.sh first", file=sys.stderr)
        return 1
    pairs = os.path.join(size_dir, "all_impostor_pairs.csv")
    turn_of = {}
    with open(pairs, "w") as fh:
        for key, turn, path in found:
            turn_of[path] = turn
            for other, t in templates.items():
                if other != key:
                    fh.write(f"{t},{path}\n")
    try:
        r = subprocess.run([evalbin, "score", "--dpi", "500", pairs], capture_output=True, text=True, timeout=7200)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"{evalbin}: cannot score: {e}", file=sys.stderr)
        return 1
    if r.returncode != 0:
        print(f"score failed: {r.stderr.strip()[-300:]}", file=sys.stderr)
        return 1
    with open(os.path.join(size_dir, "all_impostors.csv"), "w") as fh:
        fh.write(r.stdout)
    by_turn, accepted, top = {}, 0, (0.0, "", "")
    for line in r.stdout.splitlines():
        t, p, s, m = line.strip().split(",")
        s = float(s)
        by_turn.setdefault(turn_of[p], []).append(s)
        accepted += m.strip() == "1"
        if s > top[0]:
            top = (s, os.path.basename(t), os.path.basename(p))
    if not by_turn:
        print(f"{evalbin}: scored nothing", file=sys.stderr)
        return 1
    every = np.concatenate([np.asarray(v) for v in by_turn.values()])
    size = os.path.basename(os.path.normpath(size_dir))
    print(f"{size}: {len(every)} real impostor comparisons (every crop of every turn against every other "
          f"finger's template), {accepted} at or above the match decision; highest {top[0]:.3f} "
          f"({top[2]} against {top[1]})")
    for turn in sorted(by_turn):
        q = np.percentile(by_turn[turn], [50, 99, 99.9])
        print(f"{size}:   turn {turn:3d} deg: {len(by_turn[turn])} comparisons, p50 {q[0]:.3f} p99 {q[1]:.3f} "
              f"p99.9 {q[2]:.3f} max {max(by_turn[turn]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
