#!/usr/bin/env bash
# Builds libfphal.so and runs the scripted client session (c-tests/fp_demo.c), printing every callback.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
mkdir -p c-tests/build
gcc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude c-tests/fp_demo.c c-tests/harness.c -o c-tests/build/fp_demo -ldl -lpthread -lm
exec c-tests/build/fp_demo "$PWD/target/release/libfphal.so"
