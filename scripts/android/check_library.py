#!/usr/bin/env python3
"""Checks an Android build of libfphal.so for what a device's loader and a vendor partition need.

- the ELF machine is the triple's;
- `HMI` is exported (libhardware's dlsym target);
- NEEDED holds only libc.so, libm.so, libdl.so and liblog.so;
- every symbol the library imports is exported by bionic at API 23 for the architecture
  (scripts/android/api23-symbols.txt), but for the weak imports named in OPTIONAL_WEAK, which the
  loader binds to NULL there and whose callers check for it;
- no `_Unwind_*` symbol is imported: the unwinder is inside the library;
- no symbol versions are required (API 23's bionic has none; glibc's would not resolve);
- nothing API 23's loader refuses or does not know: text relocations (refused from API 23), an ELF
  TLS segment (API 29), relative-relocation packing (DT_RELR from API 30, DT_ANDROID_RELR from API 28:
  an older loader skips those relocations). Android's own packing (DT_ANDROID_REL/RELA) loads from
  API 23 and is allowed.

With --executable (fphal-doctor), the same import rules hold for a program: no HMI is needed, and it
must be a position-independent executable whose interpreter is Android's loader.

Usage: check_library.py [--executable] FILE RUST_TRIPLE. Exits 1 with the list of problems, 0 when
clean.
"""

import os
import re
import subprocess
import sys

ARCH = {
    "aarch64-linux-android": ("arm64", "AArch64"),
    "armv7-linux-androideabi": ("arm", "ARM"),
    "x86_64-linux-android": ("x86_64", "Advanced Micro Devices X86-64"),
    "i686-linux-android": ("x86", "Intel 80386"),
}
ALLOWED_NEEDED = {"libc.so", "libm.so", "libdl.so", "liblog.so"}
# Rust's std looks getrandom up weakly (bionic has it from API 28) and falls back to the system call.
OPTIONAL_WEAK = {"getrandom"}
# Dynamic tags API 23's loader refuses or ignores, by number (readelf names only some of them):
# DT_TEXTREL, DT_RELR, DT_ANDROID_RELR.
UNSUPPORTED_DYNAMIC = {0x16: "DT_TEXTREL", 0x24: "DT_RELR", 0x6FFFE000: "DT_ANDROID_RELR"}


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], check=True, capture_output=True, text=True).stdout


def main():
    args = sys.argv[1:]
    executable = args[:1] == ["--executable"]
    args = args[1:] if executable else args
    if len(args) != 2 or args[1] not in ARCH:
        sys.exit(__doc__)
    lib, triple = args
    arch, machine = ARCH[triple]
    table = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api23-symbols.txt")
    bionic = set()
    for line in open(table):
        if not line.startswith("#"):
            _, name, _, arches = line.split()
            if arch in arches.split(","):
                bionic.add(name)

    problems = []
    found = re.search(r"Machine:\s+(.*)", readelf("-h", lib)).group(1).strip()
    if found != machine:
        problems.append(f"ELF machine is {found!r}, expected {machine!r} for {triple}")
    dynamic = readelf("-d", lib)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*)\]", dynamic)
    problems += [f"NEEDED {n} is not one of {sorted(ALLOWED_NEEDED)}" for n in needed if n not in ALLOWED_NEEDED]
    if "VERNEED" in dynamic or ".gnu.version_r" in readelf("-S", lib):
        problems.append("the library requires symbol versions (a glibc or newer-bionic link)")
    tags = {int(t, 16) for t in re.findall(r"^\s*(0x[0-9a-fA-F]+)\s", dynamic, re.M)}
    for tag, name in UNSUPPORTED_DYNAMIC.items():
        if tag in tags:
            problems.append(f"dynamic section has {name}, which API 23's loader refuses or ignores")
    if re.search(r"\(FLAGS\).*TEXTREL", dynamic):
        problems.append("DT_FLAGS has TEXTREL, which API 23's loader refuses")
    if re.search(r"^\s*TLS\s", readelf("-l", lib), re.M):
        problems.append("the library has an ELF TLS segment (loadable only from API 29)")

    imports, weak, exports = [], [], set()
    # Num: Value Size Type Bind Vis [other flags in brackets] Ndx Name
    row = re.compile(r"^\s*\d+:\s+\S+\s+\S+\s+\S+\s+(\S+)\s+\S+\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)")
    for line in readelf("--dyn-syms", lib).splitlines():
        m = row.match(line)
        if not m:
            continue
        bind, ndx, name = m.groups()
        if "@" in name:
            problems.append(f"versioned symbol {name}")
            name = name.split("@")[0]
        if ndx != "UND":
            exports.add(name)
        elif name:
            (weak if bind == "WEAK" else imports).append(name)
    if executable:
        header = readelf("-h", lib)
        if not re.search(r"Type:\s+DYN", header):
            problems.append("not a position-independent executable (Android refuses others from API 21)")
        interp = re.search(r"Requesting program interpreter: (\S+)\]", readelf("-l", lib))
        loader = "/system/bin/linker64" if "64" in arch else "/system/bin/linker"
        if not interp or interp.group(1) != loader:
            problems.append(f"interpreter is {interp.group(1) if interp else None}, expected {loader}")
    elif "HMI" not in exports:
        problems.append("HMI is not exported")
    problems += [f"imports {n}, which bionic does not export at API 23 on {arch}" for n in imports if n not in bionic]
    problems += [
        f"weak import {n} is neither in bionic API 23 on {arch} nor a known optional symbol"
        for n in weak
        if n not in bionic and n not in OPTIONAL_WEAK
    ]
    problems += [f"imports {n}: the unwinder must be inside the library" for n in imports + weak if n.startswith("_Unwind_")]

    optional = sorted(n for n in weak if n not in bionic and n in OPTIONAL_WEAK)
    print(f"{lib}: {machine}; NEEDED {', '.join(needed)}; {len(imports)} imports, all in bionic API 23 ({arch})"
          if not problems else f"{lib}: {len(problems)} problem(s)")
    if optional:
        print(f"  weak imports bionic lacks at API 23 (bound to NULL there, checked by the caller): {', '.join(optional)}")
    for p in problems:
        print("  " + p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
