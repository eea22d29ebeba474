"""Helpers for the tests: CRC-32C, crafting images, file digests."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import List

_TABLE: List[int] = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as FORMAT.md §1 defines it."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def segment_headers(image: bytes) -> List[int]:
    """Addresses of the valid-looking segment headers (magic ``TDLG`` and a good fixed CRC)."""
    found = []
    for addr in range(0, len(image) - 64 + 1, 256):
        h = image[addr : addr + 64]
        if h[:4] == b"TDLG" and struct.unpack_from("<I", h, 60)[0] == crc32c(h[:60]):
            found.append(addr)
    return found


def with_version(image: bytes, version: int) -> bytes:
    """The image with every segment header claiming format ``version`` (CRCs kept valid):
    what a newer writer would leave."""
    out = bytearray(image)
    for addr in segment_headers(image):
        struct.pack_into("<H", out, addr + 4, version)
        struct.pack_into("<I", out, addr + 60, crc32c(bytes(out[addr : addr + 60])))
    return bytes(out)


def unhex(s: str) -> bytes:
    return b"" if s == "-" else bytes.fromhex(s)
