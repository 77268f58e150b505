#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for SECONDS each (default 60) with cargo-fuzz on the
# nightly toolchain, installing cargo-fuzz when it is missing. The committed corpus of each target
# (fuzz/corpus/<target>) seeds the run; new inputs go to a scratch corpus, never into the commit.
# A crash stops the script: its input lands in fuzz/artifacts/<target>/; put it into
# fuzz/regressions/<target>/ once fixed, and the test suite replays it for good.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Prints, per target, the executions done and the corpus size, and a total.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cargo +nightly fuzz build -O -a >"$scratch/build.log" 2>&1 || { cat "$scratch/build.log"; exit 1; }
total=0
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    log="$scratch/$t.log"
    if ! cargo +nightly fuzz run -O -a "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz: $t failed; the input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
    runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
    runs=${runs:-0}
    total=$((total + runs))
    printf '%-16s %12s executions in %ss, corpus %s inputs\n' "$t" "$runs" "$seconds" "$(ls "$scratch/$t" | wc -l)"
done
echo "fuzz: ${#targets[@]} targets, $total executions in all, no crash"
