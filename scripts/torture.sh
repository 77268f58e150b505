#!/usr/bin/env bash
# ABI torture (c-tests/fp_torture.c): threads of random calls of every entry point, valid and
# invalid, close/open while they run, calls from inside notify, cancel storms and touches on the
# virtual sensor, for SECONDS (default 60) under AddressSanitizer + UBSan with leak detection on,
# then for a fifth of that (at least 5 s) under valgrind memcheck with full leak checking. A
# watchdog in the program fails a run that deadlocks. Prints each run's call count. Builds and
# tortures the debug library unless LIB names one.
#
#   scripts/torture.sh [SECONDS] [SEED] [LIB]
set -euo pipefail
lib=""
if [ -n "${3:-}" ]; then
    lib=$(realpath -e "$3") # from where the command was given
fi
cd "$(dirname "$0")/.."
seconds=${1:-60}
seed=${2:-$RANDOM}
if [ -z "$lib" ]; then
    cargo build --quiet
    lib=$PWD/target/debug/libfphal.so
fi
# Its temporary directories go under one that is removed afterwards (harness.c's temp_root).
TMPDIR=$(mktemp -d)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
mkdir -p c-tests/build
flags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude)
gcc "${flags[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer c-tests/fp_torture.c c-tests/harness.c \
    -o c-tests/build/fp_torture -ldl -lpthread -lm
gcc "${flags[@]}" c-tests/fp_torture.c c-tests/harness.c -o c-tests/build/fp_torture_plain -ldl -lpthread -lm
echo "== torture under ASan + UBSan, leaks detected (${seconds} s, seed $seed)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    c-tests/build/fp_torture "$lib" "$seconds" "$seed"
vg_seconds=$(( seconds / 5 > 5 ? seconds / 5 : 5 ))
echo "== torture under valgrind, full leak check (${vg_seconds} s, seed $((seed + 1)))"
valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite --error-exitcode=99 \
    c-tests/build/fp_torture_plain "$lib" "$vg_seconds" "$((seed + 1))"
echo "torture: passed"
