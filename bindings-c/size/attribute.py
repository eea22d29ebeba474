#!/usr/bin/env python3
"""Which source pays for each code byte of a probe linked against libtidelog.a built with line
tables (measure.sh --markdown builds it: profile release-lto plus debug = "line-tables-only",
which leaves the code as it is). Each instruction of .text goes to the innermost inlined frame
that names one of our sources:

    core      a frame in core/src (the log, the KV, the storage trait: the same code a Rust
              firmware links, here compiled for what the C API holds)
    binding   a frame in bindings-c/src and none in core/src (argument checks, the objects'
              state word, the callback adapter, status mapping)
    rust_lib  other Rust code (core library routines kept out of line, compiler_builtins)
    c         the C program (no Rust frame)

Constants placed in .text by the linker script (the CRC table) are left out: only addresses
that llvm-objdump decodes inside function symbols count.

Usage: attribute.py NAME ELF   prints one line: NAME core=N binding=N rust_lib=N c=N
Needs llvm-objdump and llvm-symbolizer (Debian: llvm).
"""
import re
import subprocess
import sys


def main():
    name, elf = sys.argv[1], sys.argv[2]
    nm = subprocess.run(["llvm-nm", "--print-size", "--defined-only", elf], capture_output=True,
                        text=True, check=True).stdout
    code = []
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in "tT":
            start, size = int(parts[0], 16), int(parts[1], 16)
            code.append((start & ~1, (start & ~1) + size))
    dis = subprocess.run(["llvm-objdump", "-d", "--no-show-raw-insn", "--section=.text", elf],
                         capture_output=True, text=True, check=True).stdout
    addrs = sorted(int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):\s", dis, re.M))
    insns = []
    for i, a in enumerate(addrs):
        size = (addrs[i + 1] - a) if i + 1 < len(addrs) else 2
        if any(lo <= a < hi for lo, hi in code):
            insns.append((a, size))
    out = subprocess.run(["llvm-symbolizer", "--obj=" + elf, "--inlining=true"],
                         input="\n".join(hex(a) for a, _ in insns), capture_output=True, text=True,
                         check=True).stdout
    totals = {"core": 0, "binding": 0, "rust_lib": 0, "c": 0}
    for (_, size), block in zip(insns, out.strip("\n").split("\n\n")):
        locations = block.split("\n")[1::2]
        if any("/core/src/" in loc and "/library/" not in loc for loc in locations):
            kind = "core"
        elif any("/bindings-c/src/" in loc for loc in locations):
            kind = "binding"
        elif any("/library/" in loc or "compiler-builtins" in loc or "/rustc/" in loc
                 for loc in locations):
            kind = "rust_lib"
        else:
            kind = "c"
        totals[kind] += size
    print(name, " ".join(f"{k}={v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
