#!/usr/bin/env bash
# Soak (c-tests/fp_soak.c): TOUCHES (default 100,000) mixed enroll / authenticate / cancel touches
# through the C ABI against the release library, one device open throughout. Prints memory,
# descriptors, threads and latency for the first and last tenth; fails on growth or a touch left
# unanswered. 100,000 touches take about 35 minutes on one core here. Builds the release library
# unless LIB names one.
#
#   scripts/soak.sh [TOUCHES] [SEED] [LIB]
set -euo pipefail
lib=""
if [ -n "${3:-}" ]; then
    lib=$(realpath -e "$3") # from where the command was given
fi
cd "$(dirname "$0")/.."
touches=${1:-100000}
seed=${2:-1}
if [ -z "$lib" ]; then
    cargo build --release --quiet
    lib=$PWD/target/release/libfphal.so
fi
# Its temporary directory goes under one that is removed afterwards (harness.c's temp_root).
TMPDIR=$(mktemp -d)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
mkdir -p c-tests/build
gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -g -Iinclude c-tests/fp_soak.c c-tests/harness.c \
    -o c-tests/build/fp_soak -ldl -lpthread -lm
c-tests/build/fp_soak "$lib" "$touches" "$seed"
