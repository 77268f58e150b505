#!/usr/bin/env bash
# Contract latencies and the stripped size of libfphal.so (release build). Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
mkdir -p c-tests/build
gcc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude c-tests/fp_bench.c c-tests/harness.c -o c-tests/build/fp_bench -ldl -lpthread -lm
c-tests/build/fp_bench "$PWD/target/release/libfphal.so"
strip -o c-tests/build/libfphal.stripped.so target/release/libfphal.so
echo
echo "stripped libfphal.so: $(stat -c %s c-tests/build/libfphal.stripped.so) bytes"
