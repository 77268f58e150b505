#!/usr/bin/env bash
# Makes a minimal Android sysroot for one triple, without the NDK, and a linker wrapper that uses it:
#   OUT/lib/libc.so, libm.so, libdl.so, liblog.so  stubs holding exactly the symbols bionic exports to
#                                                 apps at API 23 for the architecture
#                                                 (scripts/android/api23-symbols.txt), so that a use of
#                                                 a newer or glibc-only symbol fails the link;
#   OUT/lib/crtbegin_so.o                         __dso_handle, which the NDK's crtbegin_so.o defines;
#   OUT/lib/crtbegin_dynamic.o                    an executable's _start, which the NDK's defines;
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

# What the NDK's crtbegin_dynamic.o gives an executable (fphal-doctor), after bionic's ABI
# (libc/arch-common/bionic/crtbegin.c and libc_init_common.h, the same from android-6.0.1_r1 to
# today): _start passes the initial stack pointer to libc's __libc_init, with main and a
# structors_array_t of which a dynamic executable's libc uses only fini_array, a list framed by -1
# and 0 that libc runs at exit. The loader runs the executable's init_array itself.
cat > "$out/obj/crtbegin_dynamic.c" <<'C'
typedef void fn(void);
typedef struct { fn **preinit_array; fn **init_array; fn **fini_array; } structors_array_t;
extern int main(int, char **, char **);
extern void __libc_init(void *raw_args, fn *onexit, int (*slingshot)(int, char **, char **),
                        const structors_array_t *structors) __attribute__((noreturn));
extern fn *__fini_array_start[] __attribute__((weak));
extern fn *__fini_array_end[] __attribute__((weak));
__attribute__((visibility("hidden"))) void *__dso_handle = &__dso_handle;
static void run_fini_array(void) {
    for (long n = __fini_array_end - __fini_array_start; n-- > 0;) __fini_array_start[n]();
}
static fn *fini_framed[] = { (fn *)-1, run_fini_array, 0 };
__attribute__((used, noreturn)) void fphal_start_main(void *raw_args) {
    structors_array_t structors = { 0, 0, fini_framed };
    __libc_init(raw_args, 0, main, &structors);
}
#define START(body) __asm__(".text\n.globl _start\n.type _start,%function\n_start:\n" body "\n.size _start,.-_start\n")
#if defined(__aarch64__)
START("mov x29, #0\nmov x30, #0\nmov x0, sp\nb fphal_start_main");
#elif defined(__arm__)
START("mov fp, #0\nmov lr, #0\nmov r0, sp\nb fphal_start_main");
#elif defined(__x86_64__)
START("xorl %ebp, %ebp\nmovq %rsp, %rdi\nandq $-16, %rsp\ncall fphal_start_main");
#elif defined(__i386__)
START("xorl %ebp, %ebp\nmovl %esp, %eax\nandl $-16, %esp\nsubl $12, %esp\npushl %eax\ncall fphal_start_main");
#endif
C
clang "${target[@]}" -fPIE -O2 -c "$out/obj/crtbegin_dynamic.c" -o "$out/lib/crtbegin_dynamic.o"

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

# The linker rustc calls: undefined symbols are errors (-z defs), start files are ours (a shared
# library's or an executable's).
cat > "$out/cc" <<WRAPPER
#!/bin/sh
start="$out/lib/crtbegin_dynamic.o"
for arg in "\$@"; do [ "\$arg" = -shared ] && start="$out/lib/crtbegin_so.o"; done
exec clang --target=$clang_triple$api -fuse-ld=lld -nostartfiles -L"$out/lib" "\$start" -Wl,-z,defs "\$@"
WRAPPER
chmod +x "$out/cc"
