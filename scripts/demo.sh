#!/usr/bin/env bash
# The main job: builds libfphal.so and fphal-host, then runs one complete software-mode session
# (fresh temporary store and keys, synthetic fingers on the virtual sensor), one line per event,
# and a summary. Exit status 0 only when no contract rule was broken.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p fphal -p fphal-tools --lib --bin fphal-host
exec target/release/fphal-host "$PWD/target/release/libfphal.so" --demo
