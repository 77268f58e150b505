#!/usr/bin/env bash
# Accuracy and speed of the recognition engine on the real FVC sets in ../shared/data, through the
# phone-sensor protocol (../shared/tools/phone_protocol.py), with NIST NBIS side by side when
# ../shared/tools/nbis-eval is present. Writes the tables to stdout and DET plots to docs/.
#
#   scripts/accuracy.sh [--seeds "1 2 3 4 5"] [--sizes 160,192] [--no-nbis] [--work DIR]
#
# NBIS_EVAL_BIN=path reuses an NBIS baseline built elsewhere.
# About 4 minutes for fphal alone on 2 cores; NBIS adds its build (about 6 minutes, once) and its runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seeds="1 2 3 4 5"
sizes=160,192
nbis=1
work=${TMPDIR:-/tmp}/fphal-accuracy
while [ $# -gt 0 ]; do
    case "$1" in
        --seeds) seeds=$2; shift 2 ;;
        --sizes) sizes=$2; shift 2 ;;
        --no-nbis) nbis=0; shift ;;
        --work) work=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done

data=$root/../shared/data
protocol=$root/../shared/tools/phone_protocol.py
if [ ! -d "$data" ] || [ ! -f "$protocol" ]; then
    echo "accuracy bench: ../shared/data or ../shared/tools/phone_protocol.py is absent; nothing measured."
    exit 0
fi
python3 -c 'import numpy, PIL, matplotlib' 2>/dev/null || pip install --quiet --break-system-packages numpy pillow matplotlib

source "$root/scripts/engines.sh"

rm -rf "$work"
mkdir -p "$work"
for e in "${engines[@]}"; do
    name=${e%%=*}; bin=${e#*=}
    for s in $seeds; do
        echo "protocol: $name, seed $s ..." >&2
        mkdir -p "$work/$name"
        python3 "$protocol" "$bin" "$data" "$work/$name/s$s" --seed "$s" --sizes "$sizes" > "$work/$name/s$s.log"
        grep '^seed' "$work/$name/s$s.log" | sed "s/^/  $name /" >&2
    done
done
python3 scripts/accuracy_report.py --work "$work" --sizes "$sizes" --seeds "$seeds" --plots docs \
    $(for e in "${engines[@]}"; do printf -- '--engine %s ' "$e"; done)

first=$(set -- $seeds; echo "$1")
echo
echo "## Speed (one core, 160x160 crops of seed $first)"
shopt -s nullglob
crops=("$work"/fphal/s"$first"/*_160/*.png)
if [ ${#crops[@]} -gt 40 ]; then
    taskset -c 0 target/release/fphal-eval time --dpi 500 --fingers 5 --views 8 "${crops[@]:0:200}"
fi
