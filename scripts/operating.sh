#!/usr/bin/env bash
# What a person meets at the shipped threshold, on real prints, with turned fingers: the operating-point
# protocol (../shared/tools/operating_protocol.py, through scripts/operating_point.py, which adds 180°)
# on the FVC sets of ../shared/data, for fphal and, side by side, NIST NBIS when
# ../shared/tools/nbis-eval is present. Outsiders: every unturned probe against the other sets'
# templates (different fingers on other sensors), unless an impostor folder is given. Then every
# impostor comparison the crops allow (scripts/real_impostors.py: every probe at every turn and every
# enrollment crop against every other finger's template, about 84,000 per size), for each engine
# (NBIS's, on its own score scale, only for comparison).
#
#   scripts/operating.sh [--sizes 160,192] [--no-nbis] [--work DIR] [--impostors DIR]
#
# NBIS_EVAL_BIN=path reuses an NBIS baseline built elsewhere. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=160,192
nbis=1
work=${TMPDIR:-/tmp}/fphal-operating
impostors=-
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes=$2; shift 2 ;;
        --no-nbis) nbis=0; shift ;;
        --work) work=$2; shift 2 ;;
        --impostors) impostors=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 64 ;;
    esac
done
data=$root/../shared/data
if [ ! -d "$data" ] || [ ! -f "$root/../shared/tools/operating_protocol.py" ]; then
    echo "operating point: ../shared/data or ../shared/tools/operating_protocol.py is absent; nothing measured."
    exit 0
fi
python3 -c 'import numpy, PIL' 2>/dev/null || pip install --quiet --break-system-packages numpy pillow

source "$root/scripts/engines.sh"
rm -rf "$work"
for e in "${engines[@]}"; do
    name=${e%%=*}; bin=${e#*=}
    echo "== $name"
    start=$(date +%s)
    python3 scripts/operating_point.py "$bin" "$data" "$impostors" "$work/$name" --sizes "$sizes"
    # The protocol's outsiders are the unturned probes; the threshold's evidence is every impostor
    # comparison the crops allow (every turn, enrollment crops too).
    for size in ${sizes//,/ }; do
        python3 scripts/real_impostors.py "$bin" "$work/$name/S$size"
    done
    echo "($name: $(( $(date +%s) - start )) s)"
done
