#!/usr/bin/env bash
# The whole test suite: formatting and lints, Rust unit tests (among them the committed header's
# freshness, the fuzz corpora replayed and the store crash test), the C contract tests (ASan with
# leak detection, UBSan, valgrind with leak checking, -m32 layout), short torture and soak runs, the
# demo's callback sequence, the installed package's CMake and pkg-config consumers, and the tools'
# sessions. Installs what it needs. The Android and ARM builds are scripts/cross.sh, not part of it.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every temporary file and directory of the suite (the tests' stores, keys and sockets among them)
# goes under one directory, removed at the end.
suite_tmp=$(mktemp -d)
export TMPDIR=$suite_tmp
trap 'rm -rf "$suite_tmp"' EXIT

need_apt=()
echo 'int main(void){return 0;}' > "$TMPDIR/m32-probe.c"
# gcc-<version>-multilib rather than the gcc-multilib meta package, which conflicts with the ARM cross
# compilers that scripts/cross.sh installs.
gcc -m32 "$TMPDIR/m32-probe.c" -o "$TMPDIR/m32-probe" 2>/dev/null || need_apt+=("gcc-$(gcc -dumpversion | cut -d. -f1)-multilib")
command -v valgrind >/dev/null || need_apt+=(valgrind)
command -v cmake >/dev/null || need_apt+=(cmake)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "installing: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

for component in rustfmt clippy; do
    cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$component"
done
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo test"
# One debug build for everything that follows: the tests, target/debug/libfphal.so for the C tests
# and torture, and the QSEECom double, which tests/qsee_bridge.rs and c-tests/fp_qsee.c load as
# fphal would load libQSEEComAPI.so. (A build of another set of packages resolves the
# dependencies' features differently and compiles them again.)
cargo build --quiet --workspace --lib --bins --tests
cargo test --workspace --quiet
echo "== C contract tests"
c-tests/run.sh target/debug/libfphal.so
echo "== ABI torture, short (scripts/torture.sh 5)"
scripts/torture.sh 5 1 target/debug/libfphal.so
echo "== demo"
# The demo's release build (libfphal.so and fphal-host) is also the library the soak and the
# installed package use.
out=$(scripts/demo.sh 2>&1) || { echo "$out"; echo "demo failed"; exit 1; }
# The callbacks in order, one token each: TYPE/detail-word (fid 0 vs other fids, remaining counts).
seq=$(grep -E '^ *[0-9.]+ ms ' <<<"$out" | grep -v ' -> ' \
    | grep -oE '(ACQUIRED|TEMPLATE_ENROLLING|TEMPLATE_REMOVED|TEMPLATE_ENUMERATING|AUTHENTICATED|ERROR) .*$' \
    | awk '{ t = $1; d = $2
             if (t == "AUTHENTICATED") d = ($0 ~ /fid=0 /) ? "reject" : (($0 ~ /HMAC valid/) ? "match" : "badtoken")
             else if (t ~ /^TEMPLATE/) d = ($0 ~ /fid=0 /) ? "none" : (($0 ~ /remaining=0/) ? "last" : "more")
             printf "%s/%s ", t, d }')
expected='^TEMPLATE_ENUMERATING/none ACQUIRED/PARTIAL (ACQUIRED/GOOD TEMPLATE_ENROLLING/more ){13}ACQUIRED/GOOD TEMPLATE_ENROLLING/last ACQUIRED/GOOD AUTHENTICATED/match (ACQUIRED/GOOD AUTHENTICATED/reject ){5}ERROR/LOCKOUT ERROR/LOCKOUT TEMPLATE_ENUMERATING/last TEMPLATE_REMOVED/last TEMPLATE_REMOVED/last TEMPLATE_ENUMERATING/none ERROR/LOCKOUT ERROR/CANCELED $'
if ! grep -qE "$expected" <<<"$seq"; then
    echo "$out"; echo "demo callback sequence: $seq"; echo "demo: unexpected callback sequence"; exit 1
fi
grep -qF "contract violations      none" <<<"$out" || { echo "$out"; echo "demo: contract violations"; exit 1; }
echo "demo: callback sequence as expected"
echo "== soak, short (scripts/soak.sh 1000)"
scripts/soak.sh 1000 1 target/release/libfphal.so
echo "== the installed package: a C++ CMake project (find_package) and a pkg-config build link it and run"
prefix=$(mktemp -d)
scripts/install.sh "$prefix" target/release/libfphal.so >/dev/null
cmake -S c-tests/consumer -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
"$prefix/consumer/fphal_consumer"
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
g++ -std=c++17 -Wall -Wextra -Werror c-tests/consumer/consumer.cpp \
    $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs fphal) -o "$prefix/pkgconfig_consumer"
LD_LIBRARY_PATH="$prefix/lib" "$prefix/pkgconfig_consumer"
rm -rf "$prefix"
echo "== fphal-host names each violation of a contract-breaking module"
mkdir -p c-tests/build
gcc -std=c11 -Wall -Wextra -Werror -shared -fPIC -Iinclude c-tests/bad_module.c -o c-tests/build/fingerprint.bad.so
set +e
out=$(target/release/fphal-host c-tests/build/fingerprint.bad.so --script c-tests/bad_module.script 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "$out"; echo "fphal-host exit status $rc, expected 2 (violations)"; exit 1; }
for v in "device version is 0x0200" "set_notify returned 1" "get_authenticator_id returned 0" "fid=0 with remaining=1" \
    "ACQUIRED_DETECTED (6)" "after ERROR(CANCELED)" "remove returned -1"; do
    grep -qF -- "$v" <<<"$out" || { echo "$out"; echo "fphal-host did not report: $v"; exit 1; }
done
echo "fphal-host: all 7 planted violations reported"
# Runs an fphal-host script against libfphal.so with a fresh store and key; extra TOML lines may
# follow the script's name. Prints the session; fails when the host does.
host_session() {
    local script=$1 extra=${2:-} d out
    d=$(mktemp -d)
    printf '[log]\nlevel = "error"\n[sensor]\nruntime_dir = "%s"\n[trustlet]\nkey_dir = "%s"\n%b' "$d" "$d" "$extra" > "$d/fphal.toml"
    out=$(FPHAL_CONFIG="$d/fphal.toml" target/release/fphal-host target/release/libfphal.so --key "$d/auth_token.key" --script "$script" 2>&1) \
        || { echo "$out"; echo "session $script failed"; rm -rf "$d"; return 1; }
    rm -rf "$d"
    grep -qF "0 contract violation(s)" <<<"$out" || { echo "$out"; echo "contract violations in $script"; return 1; }
    echo "$out"
}
echo "== a finger already enrolled is refused (fphal-host script through the C ABI and the virtual sensor)"
out=$(host_session c-tests/duplicate_finger.script '[enroll]\nsamples = 3\n') || { echo "$out"; exit 1; }
for expect in "remaining=0" "ERROR                  VENDOR+1"; do
    grep -qF -- "$expect" <<<"$out" || { echo "$out"; echo "duplicate-finger session lacks: $expect"; exit 1; }
done
echo "duplicate finger: refused with ERROR(VENDOR+1)"
echo "== each acquired code from a matching synthetic touch (fphal-host script through the C ABI and the virtual sensor)"
out=$(host_session c-tests/acquired_codes.script) || { echo "$out"; exit 1; }
codes=$(grep -w ACQUIRED <<<"$out" | awk '{print $NF}' | tr '\n' ' ')
expected="GOOD VENDOR+1 PARTIAL TOO_FAST INSUFFICIENT GOOD GOOD IMAGER_DIRTY "
[ "$codes" = "$expected" ] || { echo "$out"; echo "acquired codes: got '$codes', expected '$expected'"; exit 1; }
echo "acquired codes: $codes"
echo "== a full session through the QSEE bridge and the QSEECom double (fphal-host contract checker)"
qd=$(mktemp -d)
printf 'fphal-qsee-double-auth-token-key' > "$qd/keymaster.key"
chmod 600 "$qd/keymaster.key"
printf '[log]\nlevel = "error"\n[sensor]\nruntime_dir = "%s"\n[trustlet]\nkind = "qsee-fpc"\n[qsee]\nlibrary = "%s"\ngeneration = "tama"\nshared_heap = "memfd"\n' \
    "$qd" "$PWD/target/debug/libfphal_qsee_double.so" > "$qd/fphal.toml"
out=$(FPHAL_CONFIG="$qd/fphal.toml" target/release/fphal-host target/release/libfphal.so --key "$qd/keymaster.key" \
    --script c-tests/qsee_session.script 2>&1) || { echo "$out"; echo "QSEE session failed"; exit 1; }
rm -rf "$qd"
for expect in "0 contract violation(s)" "remaining=0" "type=FINGERPRINT t=1234ms HMAC valid" "ERROR                  CANCELED" \
    "TEMPLATE_REMOVED       gid=0 fid=4096 remaining=0" "TEMPLATE_ENUMERATING   gid=0 fid=0 remaining=0"; do
    grep -qF -- "$expect" <<<"$out" || { echo "$out"; echo "QSEE session lacks: $expect"; exit 1; }
done
echo "QSEE session: enroll, match with a valid token, cancel, remove, no contract violation"
echo "fphal test suite: all passed"
