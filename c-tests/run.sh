#!/usr/bin/env bash
# Builds the C tests with -Wall -Wextra -Werror and runs them against target/debug/libfphal.so:
# under AddressSanitizer, plus one run under valgrind. fp_qsee needs the QSEECom double
# (cargo build -p fphal-qsee-double). Usage: c-tests/run.sh [path/to/libfphal.so [path/to/double.so]]
set -euo pipefail
cd "$(dirname "$0")/.."
LIB=$(realpath "${1:-target/debug/libfphal.so}")
# The QSEECom double (cargo build -p fphal-qsee-double), beside the library unless named.
DOUBLE=$(realpath "${2:-$(dirname "$LIB")/libfphal_qsee_double.so}")
OUT=c-tests/build
mkdir -p "$OUT"
# The tests' temporary directories (configuration, keys, templates, sockets) go under one that is
# removed afterwards (harness.c's temp_root).
TMPDIR=$(mktemp -d)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
CFLAGS=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude)

echo "== layout: LP64"
gcc "${CFLAGS[@]}" c-tests/fp_layout.c -o "$OUT/fp_layout64" && "$OUT/fp_layout64"
echo "== layout: ILP32 (x86, -m32)"
gcc -m32 "${CFLAGS[@]}" c-tests/fp_layout.c -o "$OUT/fp_layout32" && "$OUT/fp_layout32"
echo "== header compiles as C++"
g++ -Wall -Wextra -Werror -fsyntax-only -x c++ include/fphal.h

for t in fp_vts fp_api; do
    gcc "${CFLAGS[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer c-tests/$t.c c-tests/harness.c -o "$OUT/$t" -ldl -lpthread -lm
done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
echo "== fp_vts (ASan)"
"$OUT/fp_vts" "$LIB"
echo "== fp_api (ASan)"
"$OUT/fp_api" "$LIB"
echo "== fp_qsee (ASan): the QSEE bridge through the QSEECom double"
gcc "${CFLAGS[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer c-tests/fp_qsee.c c-tests/harness.c -o "$OUT/fp_qsee" \
    -ldl -lpthread -lm -L"$(dirname "$DOUBLE")" -lfphal_qsee_double -Wl,-rpath,"$(dirname "$DOUBLE")"
"$OUT/fp_qsee" "$LIB" "$DOUBLE"
echo "== fp_vts (valgrind memcheck)"
gcc "${CFLAGS[@]}" c-tests/fp_vts.c c-tests/harness.c -o "$OUT/fp_vts_plain" -ldl -lpthread -lm
valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite --error-exitcode=99 "$OUT/fp_vts_plain" "$LIB"
echo "c-tests: all passed"
