#!/usr/bin/env python3
"""Lists the symbols that bionic exports to apps at one API level, per architecture.

Reads bionic's symbol maps (libc/libc.map.txt, libm/libm.map.txt, libdl/libdl.map.txt from AOSP's
bionic) and prints one line per symbol: `library name kind arches`, where kind is `func` or `var`.
The rules are the NDK's: a version block or symbol tagged with architectures exists only there; an
`introduced=` or `introduced-<arch>=` tag gives the first API level; private, platform, LL-NDK, APEX
and future blocks are not part of the NDK. liblog's NDK functions are added by hand: the four below
have been exported since API 3.

Usage: api_symbols.py API LIBC_MAP LIBM_MAP LIBDL_MAP > scripts/android/api23-symbols.txt
"""

import re
import sys

ARCHES = ["arm", "arm64", "x86", "x86_64"]
FIRST_API = {"arm": 9, "x86": 9, "arm64": 21, "x86_64": 21}
CODENAMES = {"L": 21, "M": 23, "N": 24, "O": 26, "O-MR1": 27, "P": 28, "Q": 29, "R": 30, "S": 31, "T": 33}
NOT_NDK_TAGS = {"platform-only", "llndk", "apex", "systemapi", "future"}
LIBLOG = ["__android_log_assert", "__android_log_print", "__android_log_vprint", "__android_log_write"]


def api_of(value):
    return CODENAMES[value] if value in CODENAMES else int(value)


def exists(tags, arch, api):
    """Whether something with these tags is in the NDK for arch at api."""
    if NOT_NDK_TAGS & set(tags):
        return False
    named = [t for t in tags if t in FIRST_API or t == "riscv64"]
    if named and arch not in named:
        return False
    introduced = FIRST_API[arch]
    for tag in tags:
        if tag.startswith("introduced="):
            introduced = max(introduced, api_of(tag.split("=", 1)[1]))
    for tag in tags:
        if tag.startswith("introduced-" + arch + "="):
            introduced = max(FIRST_API[arch], api_of(tag.split("=", 1)[1]))
    return introduced <= api


def parse(path):
    """Yields (block_tags, symbol, symbol_tags) for every global symbol of the map."""
    block_tags, block_name, in_global = None, None, False
    for raw in open(path):
        line, _, comment = raw.partition("#")
        line, tags = line.strip(), comment.split()
        if not line:
            continue
        opened = re.match(r"^(\w+)\s*\{$", line)
        if opened:
            block_name, block_tags, in_global = opened.group(1), tags, False
            continue
        if line.startswith("}"):
            block_name = None
            continue
        if line in ("global:", "local:"):
            in_global = line == "global:"
            continue
        if block_name and in_global and line.endswith(";"):
            if block_name.endswith(("_PRIVATE", "_PLATFORM")):
                continue
            yield block_tags, line[:-1].strip(), tags


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    api = int(sys.argv[1])
    rows = {}
    for library, path in zip(["libc", "libm", "libdl"], sys.argv[2:]):
        for block_tags, name, tags in parse(path):
            arches = [a for a in ARCHES if exists(block_tags, a, api) and exists(tags, a, api)]
            if arches:
                kind = "var" if "var" in tags else "func"
                key = (library, name)
                merged = sorted(set(rows.get(key, (kind, []))[1]) | set(arches), key=ARCHES.index)
                rows[key] = (kind, merged)
    for name in LIBLOG:
        rows[("liblog", name)] = ("func", ARCHES)
    print(f"# bionic's NDK exports at API {api}: library name kind arches (made by scripts/android/api_symbols.py)")
    for (library, name), (kind, arches) in sorted(rows.items()):
        print(library, name, kind, ",".join(arches))


if __name__ == "__main__":
    main()
