#!/usr/bin/env bash
# Speed, size and memory of the recognition engine on real 160-px crops, as BENCHMARKS.md reports
# them: one identification against 5 fingers x 14 views on one core (time, template size), the
# instructions one identification executes on average over 150 probes, the second looks at touches
# that almost matched included (valgrind's cachegrind, which counts the same on any machine, loaded
# or not), and the peak resident memory of identifying against 5 fingers x 20 views.
#
#   scripts/engine_speed.sh [--work DIR] [--no-instructions]
#
# The crops are those of scripts/operating.sh (made in DIR when absent, about 2 minutes). About 4
# minutes in all, 3 of them the instruction count. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${TMPDIR:-/tmp}/fphal-operating
instructions=1
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work=$2; shift 2 ;;
        --no-instructions) instructions=0; shift ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done
crops=$work/fphal/S160
if ! ls "$crops"/*_e1_0.png >/dev/null 2>&1; then
    scripts/operating.sh --no-nbis --sizes 160 --work "$work" >/dev/null
fi
if ! ls "$crops"/*_e1_0.png >/dev/null 2>&1; then
    echo "engine speed: no crops in $crops (../shared/data absent?); nothing measured."
    exit 0
fi
cargo build --release -q -p fphal-tools
eval_bin=target/release/fphal-eval
lists=$(mktemp -d)
trap 'rm -rf "$lists"' EXIT
# Enrollment crops of the first fingers (14 each), then probe crops of every finger and turn.
python3 - "$crops" "$lists" <<'EOF'
import os, re, sys
crops, out = sys.argv[1], sys.argv[2]
names = sorted(f for f in os.listdir(crops) if f.endswith(".png"))
fingers = sorted({re.sub(r"_[ep]\d.*", "", f) for f in names})
enrol = lambda n: [f for fg in fingers[:n] for f in names if f.startswith(fg + "_e")]
probes = [f for f in names if "_p" in f]
def write(name, files):
    with open(os.path.join(out, name), "w") as fh:
        fh.write("\n".join(os.path.join(crops, f) for f in files) + "\n")
write("14", enrol(5) + probes[:160])
write("14.10", enrol(5) + probes[:10])
# 20 views per finger: the enrollment crops of 8 fingers (14 each), 20 to a template, then 40 probes.
write("20", enrol(8)[:100] + probes[:40])
EOF
echo "== 5 fingers x 14 views, one core (taskset -c 0)"
taskset -c 0 "$eval_bin" time --dpi 500 --fingers 5 --views 14 $(cat "$lists/14")
echo "== the ridge analysis's share of extraction (its own run: one more analysis per probe)"
taskset -c 0 "$eval_bin" time --dpi 500 --fingers 5 --views 14 --stages $(cat "$lists/14") | grep "ridge analysis"
echo "== 5 fingers x 20 views"
"$eval_bin" time --dpi 500 --fingers 5 --views 20 $(cat "$lists/20") | grep -E "identification|peak resident"
if [ "$instructions" = 1 ] && command -v valgrind >/dev/null; then
    # Two runs that differ only in 150 probes: their difference is what 150 identifications execute
    # (a few of them with second looks, as real touches have).
    declare -A refs
    cp "$lists/14" "$lists/14.160"
    for n in 10 160; do
        valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
            "$eval_bin" time --dpi 500 --fingers 5 --views 14 $(cat "$lists/14.$n") > "$lists/cg.$n" 2>&1
        grep -q "^probes: $n " "$lists/cg.$n" || { echo "cachegrind run of $n probes: not $n usable probes"; exit 1; }
        refs[$n]=$(sed -n 's/.*I *refs: *//p' "$lists/cg.$n" | tr -d ,)
    done
    echo "== instructions per identification against 5 fingers x 14 views (extraction included, mean of 150):" \
        "$(( (${refs[160]} - ${refs[10]}) / 150 ))"
fi
