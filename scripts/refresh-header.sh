#!/usr/bin/env bash
# Copies the header that the build generates (cbindgen, into OUT_DIR) over the committed
# include/fphal.h. Run it after changing an exported function; the test suite fails until then.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo build --quiet --message-format=json -p fphal \
    | grep -o '"out_dir":"[^"]*/build/fphal-[0-9a-f]*/out"' | tail -n 1 | cut -d'"' -f4)
[ -n "$out" ] && [ -f "$out/fphal.h" ] || { echo "refresh-header: the build did not report fphal's OUT_DIR" >&2; exit 1; }
if cmp -s "$out/fphal.h" include/fphal.h; then
    echo "include/fphal.h is current"
else
    cp "$out/fphal.h" include/fphal.h
    echo "include/fphal.h refreshed from $out/fphal.h"
fi
