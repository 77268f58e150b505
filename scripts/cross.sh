#!/usr/bin/env bash
# Builds the release library for the phones' and ARM boards' triples and checks each:
#   Android (aarch64, armv7, x86_64, i686): linked against a stub sysroot of bionic's API-23 exports
#     (scripts/android/sysroot.sh; the NDK is not needed), then scripts/android/check_library.py:
#     ELF machine, HMI exported, NEEDED only libc/libm/libdl/liblog, every import in bionic API 23,
#     the unwinder inside, no symbol versions. For aarch64 and armv7 it also builds fphal-doctor,
#     checked the same way as a position-independent executable for Android's loader. Nothing here
#     runs bionic: link-level checks only.
#   ARM Linux (aarch64-unknown-linux-gnu, armv7-unknown-linux-gnueabihf): run under qemu-user: the
#     C layout checks compiled by the ARM compilers, the VTS cases and the API test against the ARM
#     library, and the library's Rust unit tests. No sanitizers under qemu.
# Each library is left at target/<triple>/release/libfphal.so (the doctor beside it). Installs the Rust targets and Debian
# packages it needs. Not part of the test suite: it takes about 12 minutes on a 2-core machine from a fresh clone.
# Usage: scripts/cross.sh [TRIPLE...]   (default: all six)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
android=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android i686-linux-android)
linux=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
triples=("$@")
[ ${#triples[@]} -gt 0 ] || triples=("${android[@]}" "${linux[@]}")
start=$(date +%s)
for t in "${triples[@]}"; do
    case " ${android[*]} ${linux[*]} " in
        *" $t "*) ;;
        *) echo "unknown triple $t (known: ${android[*]} ${linux[*]})"; exit 64 ;;
    esac
done

need=()
for pair in clang:clang ld.lld:lld qemu-aarch64:qemu-user aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu \
    arm-linux-gnueabihf-gcc:gcc-arm-linux-gnueabihf readelf:binutils; do
    command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target add "${triples[@]}" >/dev/null
rustup component add rust-src >/dev/null

env_name() { tr 'a-z-' 'A-Z_' <<<"$1"; }
failed=()
step() { # step NAME COMMAND...: runs in a subshell that stops at its first failing command, and
    # records a failure instead of stopping the script. (Not `if ! cmd`: bash ignores `set -e` inside
    # a function whose status a condition tests, so a failure mid-step would go unnoticed.)
    local name=$1 rc; shift
    echo "== $name"
    set +e
    (set -e; "$@")
    rc=$?
    set -e
    if [ "$rc" -ne 0 ]; then echo "FAILED: $name"; failed+=("$name"); fi
}

build_android() {
    local t=$1 sysroot=$root/target/android-sysroot/$1
    scripts/android/sysroot.sh "$t" "$sysroot"
    # The sysroot links what API 23 has (the control) and refuses what it lacks: getentropy (API 28)
    # and glibc's __fprintf_chk.
    echo 'int getpid(void); int control(void) { return getpid(); }' > "$sysroot/obj/control.c"
    "$sysroot/cc" -shared -fPIC -nodefaultlibs "$sysroot/obj/control.c" -o "$sysroot/obj/control.so" -lc
    echo 'int getentropy(void *, unsigned long); int __fprintf_chk(void *, int, const char *, ...);
          int probe(void) { char b[4]; return getentropy(b, 4) + __fprintf_chk(0, 1, "x"); }' > "$sysroot/obj/probe.c"
    local refused
    refused=$("$sysroot/cc" -shared -fPIC -nodefaultlibs "$sysroot/obj/probe.c" -o "$sysroot/obj/probe.so" -lc 2>&1) || true
    for sym in getentropy __fprintf_chk; do
        grep -q "undefined symbol: $sym" <<<"$refused" || { echo "the $t sysroot did not refuse $sym: $refused"; return 1; }
    done
    env "CARGO_TARGET_$(env_name "$t")_LINKER=$sysroot/cc" cargo build --release --quiet --target "$t" -p fphal
    python3 scripts/android/check_library.py "target/$t/release/libfphal.so" "$t"
    # fphal-doctor for the phones porters meet (64-bit, and 32-bit userspaces).
    case $t in
        aarch64-linux-android | armv7-linux-androideabi)
            env "CARGO_TARGET_$(env_name "$t")_LINKER=$sysroot/cc" \
                cargo build --release --quiet --target "$t" -p fphal-tools --bin fphal-doctor
            python3 scripts/android/check_library.py --executable "target/$t/release/fphal-doctor" "$t"
            ;;
    esac
}

run_linux() {
    local t=$1 cc qemu sysroot
    case $t in
        aarch64-unknown-linux-gnu) cc=aarch64-linux-gnu-gcc qemu=qemu-aarch64 sysroot=/usr/aarch64-linux-gnu ;;
        armv7-unknown-linux-gnueabihf) cc=arm-linux-gnueabihf-gcc qemu=qemu-arm sysroot=/usr/arm-linux-gnueabihf ;;
    esac
    # The cross glibc, and only it: a second ARM glibc elsewhere would be mixed in and hang.
    local run=("$qemu" -L "$sysroot" -E "LD_LIBRARY_PATH=$sysroot/lib")
    local T; T=$(env_name "$t")
    export "CARGO_TARGET_${T}_LINKER=$cc" "CARGO_TARGET_${T}_RUNNER=${run[*]}"
    cargo build --release --quiet --target "$t" -p fphal
    local lib=$root/target/$t/release/libfphal.so out=$root/c-tests/build/$t
    mkdir -p "$out"
    local cflags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -g -Iinclude)
    "$cc" "${cflags[@]}" c-tests/fp_layout.c -o "$out/fp_layout"
    "${run[@]}" "$out/fp_layout"
    echo "-- layout: arm32/arm64 offsets as the contract's tables (compiled by $cc)"
    for prog in fp_vts fp_api; do
        "$cc" "${cflags[@]}" "c-tests/$prog.c" c-tests/harness.c -o "$out/$prog" -ldl -lpthread -lm
        echo "-- $prog under $qemu"
        "${run[@]}" "$out/$prog" "$lib"
    done
    echo "-- Rust unit tests under $qemu"
    cargo test --quiet --target "$t" -p fphal --lib
}

for t in "${triples[@]}"; do
    case " ${android[*]} " in
        *" $t "*) step "$t: build and import check" build_android "$t" ;;
        *) step "$t: build and tests under qemu" run_linux "$t" ;;
    esac
done

echo "== sizes (stripped by the release profile)"
for t in "${triples[@]}"; do
    if [ -f "target/$t/release/libfphal.so" ]; then
        printf '%-34s %9d bytes\n' "$t" "$(stat -c %s "target/$t/release/libfphal.so")"
    fi
done
echo "cross.sh: $(($(date +%s) - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
    printf 'failed: %s\n' "${failed[@]}"; exit 1
fi
echo "cross.sh: all ${#triples[@]} triples built and checked"
