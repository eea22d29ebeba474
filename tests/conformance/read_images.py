"""Reads another runner's conformance images through the installed Python package.

    python tests/conformance/read_images.py DIR [NAME...]
    python tests/conformance/read_images.py DIR --reader-json FILE [NAME...]

For every scenario (all of ``scenarios/`` by default) the images ``DIR/NAME.log.bin`` and
``DIR/NAME.kv.bin`` that another language's runner wrote are opened read-only with
``tidelog.open_image`` / ``tidelog.open_kv_image`` (geometry from the image) and must read
exactly as the scenario's committed ``.expect`` says: first and next offsets, every record,
every consumer cursor, every KV entry (nothing more), and the images' length and CRC-32C.
An image the scenario does not produce must not be there. Exit status 0 when every scenario
reads as expected, 1 otherwise (each mismatch printed with its scenario and line).

With ``--reader-json FILE`` the state was read by another reader (the browser:
``scripts/browser/story.mjs read`` prints ``{NAME: [line, ...]}``): its lines are checked
instead of Python's, the images' length and CRC-32C still computed here from the files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

import tidelog

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def _crc32c_table() -> List[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as FORMAT.md §1 defines it."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def state_lines(log_image: Optional[bytes], kv_image: Optional[bytes]) -> List[str]:
    """The `.expect` lines that describe the final state (all but the `result` lines), in the
    order the Rust runner writes them, read from the images alone."""
    lines: List[str] = []
    if log_image is not None:
        with tidelog.open_image(log_image) as img:
            lines.append(f"first {img.first_offset}")
            lines.append(f"next {img.next_offset}")
            lines += [f"record {o} {rec.hex() or '-'}" for o, rec in img]
            lines += [f"consumer {n} {o}" for n, o in img.consumers().items()]
    if kv_image is not None:
        with tidelog.open_kv_image(kv_image) as kv:
            lines += [f"kv {k.hex() or '-'} {v.hex() or '-'}" for k, v in kv.items()]
    return lines + image_lines(log_image, kv_image)


def image_lines(log_image: Optional[bytes], kv_image: Optional[bytes]) -> List[str]:
    """The `.expect` lines of the images' length and CRC-32C."""
    lines = []
    if log_image is not None:
        lines.append(f"log_image {len(log_image)} {crc32c(log_image):08x}")
    if kv_image is not None:
        lines.append(f"kv_image {len(kv_image)} {crc32c(kv_image):08x}")
    return lines


def read_scenario(directory: Path, name: str, reader: Optional[Dict[str, List[str]]] = None) -> List[str]:
    """Mismatches of `directory`'s images of scenario `name` against its .expect."""
    want = [
        line
        for line in (SCENARIOS / f"{name}.expect").read_text().splitlines()
        if line and not line.startswith("result ") and not line.startswith("#")
    ]
    has_log = any(line.startswith("log_image ") for line in want)
    has_kv = any(line.startswith("kv_image ") for line in want)
    images: List[Optional[bytes]] = []
    problems: List[str] = []
    for kind, expected in (("log", has_log), ("kv", has_kv)):
        path = directory / f"{name}.{kind}.bin"
        if expected and not path.is_file():
            problems.append(f"{path}: missing")
        elif not expected and path.exists():
            problems.append(f"{path}: the scenario writes no {kind} image")
        images.append(path.read_bytes() if expected and path.is_file() else None)
    if problems:
        return problems
    if reader is not None:
        if name not in reader:
            return [f"{name}: the reader's output has no such scenario"]
        got = list(reader[name]) + image_lines(images[0], images[1])
    else:
        try:
            got = state_lines(images[0], images[1])
        except tidelog.Error as e:
            return [f"{directory}/{name}: cannot be read: {type(e).__name__}: {e}"]
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            problems.append(f"{name}: state line {i + 1}: read {g[:120]!r}, .expect says {w[:120]!r}")
            break
    if len(got) != len(want):
        problems.append(f"{name}: {len(got)} state lines read, .expect has {len(want)}")
    return problems


def main(argv: List[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2 if not argv else 0
    directory = Path(argv[0])
    rest = argv[1:]
    reader: Optional[Dict[str, List[str]]] = None
    if rest[:1] == ["--reader-json"] and len(rest) >= 2:
        reader = json.loads(Path(rest[1]).read_text())
        rest = rest[2:]
    names = rest or sorted(p.stem for p in SCENARIOS.glob("*.tls"))
    failed = 0
    for name in names:
        problems = read_scenario(directory, name, reader)
        for p in problems:
            print(f"  FAIL {p}", file=sys.stderr)
        failed += bool(problems)
    print(f"{len(names) - failed} of {len(names)} scenarios read as .expect says ({directory})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
