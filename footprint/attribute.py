#!/usr/bin/env python3
"""Where a probe's code bytes go: every instruction of its .text attributed to a source.

    python3 footprint/attribute.py [PROBE] [--by file|line|function|symbol] [--top N] [--only TEXT]

PROBE is a footprint probe (default: log). The probe is built like measure.sh builds it
(thumbv7em-none-eabihf, opt-level "z", fat LTO) plus line tables
(CARGO_PROFILE_RELEASE_DEBUG=line-tables-only, which does not change the code: the .text size
printed at the end equals measure.sh's), into its own target directory. Each instruction's bytes
go to the innermost inlined source it came from:

    --by file      source file (default)      --by line      file:line
    --by function  innermost inlined function --by symbol    the linked symbol holding it
    --by owner     innermost tidelog line (core/src/...) in the inline chain: library code
                   such as `?` and slice indexing charged to the tidelog line that used it
    --by owner-function   the same, summed per tidelog function
    --only TEXT    count only instructions whose innermost source location contains TEXT, e.g.
                   `--by owner --only result.rs` says which tidelog lines pay for `?`

Inlining makes symbol sizes misleading (most of the log inlines into the probe's `app`); the
source view is what to read before shrinking code. Lines of `library/core/src/result.rs` are `?` and
`Result` moves; `compiler-builtins` files are the C runtime's memory routines.

Needs llvm-objdump and llvm-symbolizer (Debian: apt-get install llvm); not part of CI.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = "thumbv7em-none-eabihf"


def build(probe):
    target_dir = os.environ.get("FOOTPRINT_ATTRIBUTE_TARGET_DIR", "/var/tmp/tidelog-footprint-lines")
    env = dict(os.environ, CARGO_TARGET_DIR=target_dir, CARGO_PROFILE_RELEASE_DEBUG="line-tables-only")
    subprocess.run(["cargo", "build", "-q", "--release", "--target", TARGET, "--bin", probe],
                   cwd=HERE, env=env, check=True)
    return os.path.join(target_dir, TARGET, "release", probe)


def instructions(elf):
    """(address, size) of every instruction in .text."""
    dis = subprocess.run(["llvm-objdump", "-d", "--no-show-raw-insn", "--section=.text", elf],
                         capture_output=True, text=True, check=True).stdout
    addrs = sorted(int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):\s", dis, re.M))
    return [(a, (addrs[i + 1] - a) if i + 1 < len(addrs) else 2) for i, a in enumerate(addrs)]


def attribute(elf, insns, by, only=None):
    inlining = "false" if by == "symbol" else "true"
    out = subprocess.run(["llvm-symbolizer", "--obj=" + elf, "--inlining=" + inlining, "-C"],
                         input="\n".join(hex(a) for a, _ in insns),
                         capture_output=True, text=True, check=True).stdout
    totals = collections.Counter()
    for (_, size), block in zip(insns, out.strip("\n").split("\n\n")):
        lines = block.split("\n")
        function = lines[0]
        location = lines[1] if len(lines) > 1 else "?"
        if only is not None and only not in location:
            continue
        path = location.rsplit(":", 2)[0]
        if by in ("owner", "owner-function"):
            frames = list(zip(lines[0::2], lines[1::2]))
            ours = [loc for _, loc in frames if "/core/src/" in loc and "/library/" not in loc]
            if not ours:
                key = "(outside tidelog) " + short(path)
            elif by == "owner":
                key = short(ours[0].rsplit(":", 1)[0])
            else:
                key = next(f for f, loc in frames if loc == ours[0])
        elif by in ("function", "symbol"):
            key = function
        elif by == "line":
            key = short(location.rsplit(":", 1)[0])
        else:
            key = short(path)
        totals[key] += size
    return totals


def short(path):
    for marker in ("/library/", "/core/src/", "/src/"):
        if marker in path:
            return path[path.index(marker) + 1:]
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("probe", nargs="?", default="log")
    ap.add_argument("--by", choices=["file", "line", "function", "symbol", "owner", "owner-function"], default="file")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--only", help="only instructions whose innermost location contains this")
    a = ap.parse_args()
    elf = build(a.probe)
    insns = instructions(elf)
    totals = attribute(elf, insns, a.by, a.only)
    for key, size in totals.most_common(a.top):
        print(f"{size:7d}  {key}")
    what = f"bytes from {a.only!r} in" if a.only else "total .text of"
    print(f"{sum(totals.values()):7d}  {what} {a.probe} (the baseline probe's included)")


if __name__ == "__main__":
    sys.exit(main())
