#!/usr/bin/env python3
"""Sizes of the parts of a GNU ld link, from its map file (-Wl,-Map): the input sections kept
in the output, grouped by where they came from.

Usage: mapsize.py NAME MAP   prints one line:
    NAME rust_text=N rust_rodata=N builtins_text=N builtins_rodata=N c_text=N c_rodata=N
         data=N bss=N mem_builtins=N
rust_*: the Rust code of libtidelog.a (the core and the binding, one LTO object);
builtins_*: compiler_builtins from libtidelog.a (memcpy & co., 64-bit arithmetic helpers);
c_*: everything else (the C program, newlib, libgcc); mem_builtins: the part of
builtins_text that is memcpy / memset / memclr (the routines footprint/'s baseline probe
holds too, so its figures leave them out).
"""
import re
import sys

SECTION = re.compile(r"^ (\.[^\s]+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
NAME_ONLY = re.compile(r"^ (\.[^\s]+)$")
CONT = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
MEM = re.compile(r"(^|\.)(__aeabi_mem\w*|memcpy|memset|memmove|memclr\w*|compiler_builtins\dmem\w*)")


def main():
    name, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        lines = f.read().split("\n")
    try:
        start = lines.index("Linker script and memory map")
    except ValueError:
        raise SystemExit(f"{path}: not a GNU ld map file")
    sizes = {}
    pending = None
    for line in lines[start:]:
        m = SECTION.match(line)
        if m:
            sec, size, src = m.group(1), int(m.group(3), 16), m.group(4)
        else:
            n = NAME_ONLY.match(line)
            if n:
                pending = n.group(1)
                continue
            c = CONT.match(line)
            if not (c and pending):
                pending = None
                continue
            sec, size, src = pending, int(c.group(2), 16), c.group(3)
            pending = None
        if size == 0 or src.startswith("load address") or "*" in sec:
            continue
        kind = None
        for prefix, k in ((".text", "text"), (".rodata", "rodata"), (".data", "data"),
                          (".bss", "bss"), ("COMMON", "bss")):
            if sec.startswith(prefix):
                kind = k
        if kind is None:
            continue
        if "libtidelog.a(" in src:
            group = "builtins" if "compiler_builtins" in src else "rust"
        else:
            group = "c"
        key = f"{group}_{kind}" if kind in ("text", "rodata") else kind
        sizes[key] = sizes.get(key, 0) + size
        if group == "builtins" and kind == "text" and MEM.search(sec):
            sizes["mem_builtins"] = sizes.get("mem_builtins", 0) + size
    keys = ["rust_text", "rust_rodata", "builtins_text", "builtins_rodata", "c_text",
            "c_rodata", "data", "bss", "mem_builtins"]
    print(name, " ".join(f"{k}={sizes.get(k, 0)}" for k in keys))


if __name__ == "__main__":
    main()
