#!/usr/bin/env python3
"""Writes the conformance scripts (scenarios/*.tls) — deterministic, stdlib only.

    python3 tests/conformance/make_scenarios.py

The scripts are committed; this generator is how they were made (long loops of appends are
easier to write here than by hand). After changing it, rewrite the expectations with
`cargo run -p tidelog --features file --example conformance -- expect` and review the diff.
"""

from pathlib import Path

OUT = Path(__file__).resolve().parent / "scenarios"


class Script:
    def __init__(self, name: str, about: str) -> None:
        self.name = name
        self.lines = [f"# {line}" for line in about.strip().splitlines()]

    def __call__(self, *fields: object) -> "Script":
        self.lines.append(" ".join(str(f) for f in fields))
        return self

    def note(self, text: str) -> "Script":
        self.lines.append(f"# {text}")
        return self

    def write(self) -> None:
        OUT.mkdir(exist_ok=True)
        (OUT / f"{self.name}.tls").write_text("\n".join(self.lines) + "\n")


def hexs(b: bytes) -> str:
    return b.hex() if b else "-"


def ws1_e256_reject() -> None:
    s = Script(
        "ws1_e256_reject",
        """1-byte program unit, 256 B sectors, 8 segments of 2 KiB, index every 64 B, reject:
records of many sizes (an empty one), batches (one with an empty record), commits, a trim,
reopen, a truncation across segments, a rewind, and refused operations.""",
    )
    s("log", 1, 256, 16384, 8, 64, 0, "reject")
    s("append", hexs(b"boot"))
    s("append", "-")
    s("batch", hexs(b"temp=21.5"), hexs(b""), hexs(b"temp=21.7"))
    for i in range(40):
        s("append_fill", [0, 3, 17, 40, 64, 100][i % 6], i)
    s("commit", "uploader", 10)
    s("commit", "audit", 3)
    s.note("backwards: refused")
    s("commit", "uploader", 9)
    s("sync")
    s("trim", 5)
    s("reopen")
    for i in range(20):
        s("batch_fill", 1 + i % 4, 25, 100 + i)
    s("truncate", 50)
    s.note("past the next offset: refused")
    s("truncate", 1000)
    s("append_fill", 30, 7)
    s("rewind", "uploader", 6)
    s("remove", "audit")
    s.note("no such consumer")
    s("remove", "audit")
    s("reopen")
    s("append", hexs(b"after"))
    s.write()


def ws4_e1k_full_reject() -> None:
    s = Script(
        "ws4_e1k_full_reject",
        """4-byte unit, 1 KiB sectors, 8 segments of 2 KiB, reject: a consumer at 0 keeps
everything, appends until the log is full (refused appends), a commit lets the oldest
segments go, appends continue; a record over the maximum size is refused.""",
    )
    s("log", 4, 1024, 16384, 2, 256, 0, "reject")
    s("commit", "uploader", 0)
    for i in range(300):
        s("append_fill", 48, i)
    s("commit", "uploader", 120)
    for i in range(60):
        s("append_fill", 48, 1000 + i)
    s("trim", 150)
    s("append_fill", 5000, 1)
    s("sync")
    s("reopen")
    for i in range(30):
        s("append_fill", 48, 2000 + i)
    s.write()


def ws8_e4k_overwrite_wrap() -> None:
    s = Script(
        "ws8_e4k_overwrite_wrap",
        """8-byte unit, 4 KiB sectors, 8 segments, index every 512 B, overwrite-oldest: the ring
wraps three times; a consumer falls behind (its records are overwritten), commits and
rewinds; a trim; reopen in the middle.""",
    )
    s("log", 8, 4096, 32768, 1, 512, 0, "overwrite")
    s("commit", "slow", 0)
    for i in range(900):
        if i % 50 == 49:
            s("batch_fill", 5, 20, i)
        else:
            s("append_fill", 90 + i % 40, i)
        if i == 450:
            s("reopen")
        if i == 600:
            s("sync")
    s("commit", "fast", 900)
    s.note("the slow consumer's records were overwritten: a rewind below the first offset is refused")
    s("rewind", "slow", 0)
    s("trim", 950)
    s("rewind", "slow", 950)
    s("reopen")
    s.write()


def ws32_e256_ecc() -> None:
    s = Script(
        "ws32_e256_ecc",
        """32-byte unit (ECC flash: no unit programmed twice), 256 B sectors, segments of 8
sectors, index every 256 B, reject: batches, truncations inside and across segments, reopen,
offsets reused after a truncation.""",
    )
    s("log", 32, 256, 16384, 8, 256, 0, "reject")
    for i in range(30):
        s("batch_fill", 3, 11 + i, i)
    s("commit", "reader", 60)
    s("truncate", 75)
    s("append_fill", 200, 5)
    s("truncate", 40)
    for i in range(12):
        s("append_fill", 33 * (i + 1), 50 + i)
    s("reopen")
    s("truncate", 45)
    s("batch", hexs(b"x" * 100), hexs(b"y" * 3))
    s("sync")
    s.write()


def ws256_e4k_wide() -> None:
    s = Script(
        "ws256_e4k_wide",
        """256-byte unit (the largest), 4 KiB sectors, 8 segments, index every 1 KiB,
overwrite-oldest: small records, each in its own 256-byte unit, wrap once.""",
    )
    s("log", 256, 4096, 32768, 1, 1024, 0, "overwrite")
    for i in range(120):
        s("append_fill", 1 + i % 200, i)
    s("commit", "c", 100)
    s("reopen")
    for i in range(20):
        s("batch_fill", 2, 60, 500 + i)
    s.write()


def ws4_e128k_large() -> None:
    s = Script(
        "ws4_e128k_large",
        """4-byte unit, 128 KiB sectors (the largest tested), 3 segments, index every 4 KiB,
reject: large records (tens of KiB), a batch of large records, reopen.""",
    )
    s("log", 4, 131072, 393216, 1, 4096, 0, "reject")
    for i in range(6):
        s("append_fill", 30000 + 1000 * i, i)
    s("batch_fill", 3, 9000, 77)
    s("commit", "archiver", 4)
    s("reopen")
    s("append_fill", 100000, 9)
    s("sync")
    s.write()


def ws4_e32k_truncate() -> None:
    s = Script(
        "ws4_e32k_truncate",
        """4-byte unit, 32 KiB sectors, 4 segments, default index interval, reject:
appends across segments, truncation to the first offset (everything dropped), appends again,
a trim, consumers moved back by truncations.""",
    )
    s("log", 4, 32768, 131072, 1, 1024, 0, "reject")
    for i in range(400):
        s("append_fill", 150, i)
    s("commit", "a", 350)
    s("commit", "b", 100)
    s("truncate", 200)
    s("trim", 50)
    s("truncate", 50)
    for i in range(100):
        s("append_fill", 150, 3000 + i)
    s("reopen")
    s.write()


def kv_ws4_e256() -> None:
    s = Script(
        "kv_ws4_e256",
        """KV, 4-byte unit, 256 B sectors, partitions of 4 sectors, keys up to 32 B, values up
to 64 B, mark at 75 %: sets, overwrites, an atomic batch, deletes, compactions (by the mark
and explicit), reopen; an oversized value is refused.""",
    )
    s("kv", 4, 256, 2048, 32, 64, 75)
    for i in range(60):
        key = f"key{i % 9}".encode()
        s("kv_set", hexs(key), hexs(bytes((i * 7 + k) % 256 for k in range(i % 20))))
    s("kv_set_multiple", hexs(b"a"), hexs(b"1"), hexs(b"b"), "-", hexs(b"key0"), hexs(b"zero"))
    s("kv_delete", hexs(b"key3"))
    s.note("absent: deleting writes nothing")
    s("kv_delete", hexs(b"nope"))
    s("kv_compact")
    s("kv_reopen")
    s("kv_set", hexs(b"after"), hexs(b"reopen"))
    s("kv_set", hexs(b"big"), hexs(b"v" * 65))
    s.write()


def kv_ws32_e1k() -> None:
    s = Script(
        "kv_ws32_e1k",
        """KV, 32-byte unit (ECC), 1 KiB sectors, partitions of 2 sectors, 255-byte keys: the
empty key, a longest key, batches, compaction after every few writes.""",
    )
    s("kv", 32, 1024, 4096, 255, 0, 60)
    s("kv_set", "-", hexs(b"empty key"))
    s("kv_set", hexs(bytes(range(255))), hexs(b"longest key"))
    for i in range(40):
        s("kv_set_multiple", hexs(f"m{i % 5}".encode()), hexs(bytes([i]) * (i % 30)),
          hexs(f"n{i % 3}".encode()), hexs(b"x"))
        if i % 7 == 6:
            s("kv_compact")
    s("kv_delete", "-")
    s("kv_reopen")
    s.write()


def device_ws8_e4k() -> None:
    s = Script(
        "device_ws8_e4k",
        """A device: a telemetry log (8-byte unit, 4 KiB sectors, 16 segments, reject) with an
uploader cursor, and a settings KV on a second device of the same geometry.""",
    )
    s("log", 8, 4096, 65536, 1, 1024, 0, "reject")
    s("kv", 8, 4096, 16384, 64, 256, 75)
    s("kv_set", hexs(b"fw.version"), hexs(b"1.4.2"))
    s("kv_set", hexs(b"wifi.ssid"), hexs(b"workshop"))
    for boot in range(4):
        s("kv_set", hexs(b"boot.count"), hexs(str(boot + 1).encode()))
        for i in range(60):
            s("batch_fill", 4, 24, boot * 1000 + i)
        s("sync")
        s("commit", "uploader", 200 * (boot + 1))
        s("trim", 200 * (boot + 1) - 100)
        s("reopen")
        s("kv_reopen")
    s("kv_set_multiple", hexs(b"fw.version"), hexs(b"1.5.0"), hexs(b"fw.slot"), hexs(b"B"))
    s.write()


if __name__ == "__main__":
    for make in [
        ws1_e256_reject,
        ws4_e1k_full_reject,
        ws8_e4k_overwrite_wrap,
        ws32_e256_ecc,
        ws256_e4k_wide,
        ws4_e128k_large,
        ws4_e32k_truncate,
        kv_ws4_e256,
        kv_ws32_e1k,
        device_ws8_e4k,
    ]:
        make()
    print(f"wrote {len(list(OUT.glob('*.tls')))} scripts to {OUT}")
