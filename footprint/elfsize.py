#!/usr/bin/env python3
"""Section sizes and `.footprint_info` records of 32-bit little-endian ELF files (the probes).

Usage: elfsize.py ELF...   prints, per file, one line:
    <name> text=<n> rodata=<n> data=<n> bss=<n> vectors=<n> [info:<key>=<n> ...]
No dependency on binutils: the section headers are read directly.
"""
import struct
import sys


def sections(path):
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 1 or elf[5] != 1:
        raise SystemExit(f"{path}: not a 32-bit little-endian ELF")
    shoff, = struct.unpack_from("<I", elf, 0x20)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x2E)
    hdrs = [struct.unpack_from("<IIIIIIIIII", elf, shoff + i * shentsize) for i in range(shnum)]
    stroff = hdrs[shstrndx][4]

    def name(off):
        end = elf.index(b"\0", stroff + off)
        return elf[stroff + off:end].decode()

    out = {}
    for h in hdrs:
        # (name, type, flags, addr, offset, size, link, info, addralign, entsize)
        out[name(h[0])] = (h[5], elf[h[4]:h[4] + h[5]] if h[1] != 8 else b"")
    return out


def main():
    for path in sys.argv[1:]:
        secs = sections(path)
        size = lambda n: secs.get(n, (0, b""))[0]
        fields = [
            f"text={size('.text')}",
            f"rodata={size('.rodata')}",
            f"data={size('.data')}",
            f"bss={size('.bss')}",
            f"vectors={size('.vector_table')}",
        ]
        info = secs.get(".footprint_info", (0, b""))[1]
        for i in range(0, len(info) - len(info) % 32, 32):
            value, = struct.unpack_from("<I", info, i)
            key = info[i + 4:i + 32].split(b"\0")[0].decode().replace(" ", "_")
            fields.append(f"info:{key}={value}")
        print(path.rsplit("/", 1)[-1], *fields)


if __name__ == "__main__":
    main()
