#!/usr/bin/env bash
# Makes a minimal Android sysroot for one triple, without the NDK, and a linker wrapper that uses it:
#   OUT/lib/libc.so, libm.so, libdl.so, liblog.so  stubs holding exactly the symbols bionic exports to
#                                                 apps at API 23 for the architecture
#                                                 (scripts/android/api23-symbols.txt), so that a use of
#                                                 a newer or glibc-only symbol fails the link;
#   OUT/lib/crtbegin_so.o                         __dso_handle, which the NDK's crtbegin_so.o defines;
#   OUT/lib/libunwind.a                           LLVM libunwind from the toolchain's rust-src, built for
#                                                 the triple (Rust's Android std links it statically);
#   OUT/cc                                        clang for <triple>23 with lld, -z defs, this sysroot.
# Usage: scripts/android/sysroot.sh RUST_TRIPLE OUT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
triple=$1 out=$2
api=23
case $triple in
    aarch64-linux-android) clang_triple=aarch64-linux-android arch=arm64 ;;
    armv7-linux-androideabi) clang_triple=armv7a-linux-androideabi arch=arm ;;
    x86_64-linux-android) clang_triple=x86_64-linux-android arch=x86_64 ;;
    i686-linux-android) clang_triple=i686-linux-android arch=x86 ;;
    *) echo "sysroot.sh: unknown Android triple $triple" >&2; exit 64 ;;
esac
target=(--target="$clang_triple$api")
mkdir -p "$out/lib" "$out/obj"

# Stub libraries: one assembly file each, functions as empty code symbols and variables as data. A
# variable's size does not matter here: a shared library refers to it through the GOT and never gets a
# copy relocation, and the device's real libc.so is what the loader binds to.
for lib in libc libm libdl liblog; do
    awk -v lib="$lib" -v arch="$arch" '
        $1 == lib && ("," $4 ",") ~ ("," arch ",") {
            if ($3 == "var") printf ".data\n.globl %s\n.type %s, %%object\n.size %s, 8\n%s:\n.zero 8\n", $2, $2, $2, $2
            else printf ".text\n.globl %s\n.type %s, %%function\n%s:\n", $2, $2, $2
        }' "$here/api23-symbols.txt" > "$out/obj/$lib.S"
    clang "${target[@]}" -fuse-ld=lld -shared -nostdlib -Wl,-soname,$lib.so -o "$out/lib/$lib.so" -x assembler "$out/obj/$lib.S"
done

# What the NDK's crtbegin_so.o gives a shared library: its __dso_handle, and at dlclose the
# __cxa_finalize that runs the atexit handlers registered with that handle.
cat > "$out/obj/crtbegin_so.c" <<'C'
extern void __cxa_finalize(void *dso);
__attribute__((visibility("hidden"))) void *__dso_handle = &__dso_handle;
static void on_dlclose(void) { __cxa_finalize(&__dso_handle); }
__attribute__((section(".fini_array"), used)) static void (*const fini)(void) = on_dlclose;
C
clang "${target[@]}" -fPIC -O2 -c "$out/obj/crtbegin_so.c" -o "$out/lib/crtbegin_so.o"

# libunwind, as LLVM's own build compiles it, against the bionic declarations in unwind-include/.
# __BIONIC__ (which bionic's sys/cdefs.h would define) makes arm find unwind tables with bionic's
# dl_unwind_find_exidx, as the NDK's libunwind does.
src=$(rustc --print sysroot)/lib/rustlib/src/rust/src/llvm-project/libunwind
[ -d "$src" ] || rustup component add rust-src
resource=$(clang -print-resource-dir)
flags=("${target[@]}" -nostdinc -isystem "$resource/include" -isystem "$here/unwind-include" -I"$src/include"
    -D__BIONIC__ -D_LIBUNWIND_IS_NATIVE_ONLY -D_LIBUNWIND_HIDE_SYMBOLS -DNDEBUG -fvisibility=hidden -funwind-tables -fPIC -O2
    -Wall -Werror)
objs=()
for f in libunwind.cpp Unwind-EHABI.cpp UnwindLevel1.c UnwindLevel1-gcc-ext.c UnwindRegistersRestore.S UnwindRegistersSave.S; do
    case $f in
        *.cpp) lang=(-std=c++17 -nostdinc++ -fno-exceptions -fno-rtti) ;;
        *.c) lang=(-std=c99) ;;
        *) lang=() ;;
    esac
    clang "${flags[@]}" "${lang[@]}" -c "$src/src/$f" -o "$out/obj/$f.o"
    objs+=("$out/obj/$f.o")
done
rm -f "$out/lib/libunwind.a"
llvm-ar rcs "$out/lib/libunwind.a" "${objs[@]}" 2>/dev/null || ar rcs "$out/lib/libunwind.a" "${objs[@]}"

# The linker rustc calls: undefined symbols are errors (-z defs), start files are ours.
cat > "$out/cc" <<WRAPPER
#!/bin/sh
exec clang --target=$clang_triple$api -fuse-ld=lld -nostartfiles -L"$out/lib" "$out/lib/crtbegin_so.o" -Wl,-z,defs "\$@"
WRAPPER
chmod +x "$out/cc"
