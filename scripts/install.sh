#!/usr/bin/env bash
# Builds the release library (unless LIB is given) and installs it with its header, CMake package
# (fphal::fphal) and pkg-config file under PREFIX, through cmake/CMakeLists.txt.
# Usage: scripts/install.sh PREFIX [LIB]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/install.sh PREFIX [path/to/libfphal.so]" >&2; exit 64; }
prefix=$1
lib=${2:-}
if [ -z "$lib" ]; then
    cargo build --release --quiet -p fphal
    lib=$PWD/target/release/libfphal.so
fi
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
cmake -S cmake -B "$build" -DFPHAL_LIBRARY="$(realpath "$lib")" >/dev/null
cmake --install "$build" --prefix "$prefix"
