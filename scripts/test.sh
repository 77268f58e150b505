#!/usr/bin/env bash
# The whole test suite: Rust unit tests, the C contract tests (ASan, UBSan, valgrind, -m32 layout),
# the demo's callback sequence, and the committed header's freshness. Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
echo 'int main(void){return 0;}' > /tmp/fphal-m32-probe.c
gcc -m32 /tmp/fphal-m32-probe.c -o /tmp/fphal-m32-probe 2>/dev/null || need_apt+=(gcc-multilib)
command -v valgrind >/dev/null || need_apt+=(valgrind)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing: ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "== cargo test"
cargo test --workspace --quiet
echo "== C contract tests"
cargo build --quiet
c-tests/run.sh target/debug/libfphal.so
echo "== demo"
out=$(scripts/demo.sh 2>&1)
for expect in "TEMPLATE_ENUMERATING   gid=0 fid=0 remaining=0" "ACQUIRED               PARTIAL" \
    "remaining=0" "(not recognised)" "(match, signed token)" "ERROR                  CANCELED" "TEMPLATE_REMOVED"; do
    grep -qF -- "$expect" <<<"$out" || { echo "demo output lacks: $expect"; echo "$out"; exit 1; }
done
echo "demo: callback sequence as expected"
echo "== committed header matches the generated one"
git diff --exit-code -- include/
echo "fphal test suite: all passed"
