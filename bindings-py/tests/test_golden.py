"""Every golden image under tests/golden/ decodes to its documented contents (the .txt
description beside it; tests/golden/README.md describes the format)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Literal, Tuple

import pytest

import tidelog
from support import crc32c, digest, unhex

REPO_GOLDEN = Path(__file__).resolve().parents[2] / "tests" / "golden"


class Description:
    def __init__(self, text: str) -> None:
        self.fields: Dict[str, str] = {}
        self.consumers: List[Tuple[str, int]] = []
        self.records: List[Tuple[int, bytes]] = []
        self.entries: Dict[bytes, bytes] = {}
        for n, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("record "):
                off, hx = line[len("record "):].split(" ", 1)
                self.records.append((int(off), unhex(hx)))
            elif line.startswith("consumer "):
                name, off = line[len("consumer "):].rsplit(" ", 1)
                self.consumers.append((name, int(off)))
            elif line.startswith("entry "):
                k, v = line[len("entry "):].split(" ", 1)
                assert unhex(k) not in self.entries, f"line {n}: duplicate key"
                self.entries[unhex(k)] = unhex(v)
            else:
                key, sep, value = line.partition(": ")
                assert sep, f"line {n}: cannot parse {line!r}"
                self.fields[key] = value

    def num(self, key: str) -> int:
        return int(self.fields[key])


def descriptions(prefix: str) -> List[Path]:
    found = sorted(p for p in REPO_GOLDEN.glob("*.txt") if p.name.startswith(prefix))
    return found


LOGS = descriptions("v")
KVS = descriptions("kv_v")


def test_there_are_golden_images(golden_dir: Path) -> None:
    assert len(LOGS) >= 3 and len(KVS) >= 4


@pytest.mark.parametrize("txt", LOGS, ids=lambda p: p.stem)
def test_log_golden_image(txt: Path, tmp_path: Path) -> None:
    d = Description(txt.read_text())
    image_path = txt.with_name(d.fields["image"])
    image = image_path.read_bytes()
    assert len(image) == d.num("image_bytes")
    assert f"{crc32c(image):08x}" == d.fields["image_crc32c"], "the image bytes changed"
    assert 1 <= d.num("format_version") <= tidelog.FORMAT_VERSION
    policies: Dict[str, Literal["reject", "overwrite_oldest"]] = {
        "Reject": "reject",
        "OverwriteOldest": "overwrite_oldest",
    }
    policy = policies[d.fields["full_policy"]]
    before = digest(image_path)

    # In memory, from the bytes; and as a file, read-only and for writing (on a copy).
    copy = tmp_path / image_path.name
    copy.write_bytes(image)
    opened = [tidelog.open_image(image), tidelog.Log.open(image_path, read_only=True)]
    for log in opened:
        with log:
            lay = log.layout()
            for field in ("write_size", "erase_size", "segment_size", "segment_count",
                          "index_interval", "max_record_size", "max_consumers"):
                assert getattr(lay, field) == d.num(field), field
            st = log.stats()
            assert st.first_offset == d.num("first_offset")
            assert st.next_offset == d.num("next_offset")
            assert st.segments_used == d.num("segments_used")
            assert list(log.consumers().items()) == d.consumers
            assert list(log) == d.records
            for off, rec in d.records:
                assert log[off] == rec
    assert digest(image_path) == before

    # The current writer keeps working on the old image.
    with tidelog.Log.open(copy, full_policy=policy) as log:
        n = log.append(b"written by the Python binding")
    with tidelog.Log.open(copy, read_only=True) as log:
        assert log[n] == b"written by the Python binding"
        assert log.next_offset == n + 1


@pytest.mark.parametrize("txt", KVS, ids=lambda p: p.stem)
def test_kv_golden_image(txt: Path, tmp_path: Path) -> None:
    d = Description(txt.read_text())
    image_path = txt.with_name(d.fields["image"])
    image = image_path.read_bytes()
    assert len(image) == d.num("image_bytes")
    assert f"{crc32c(image):08x}" == d.fields["image_crc32c"], "the image bytes changed"
    assert 1 <= d.num("kv_format_version") <= tidelog.KV_FORMAT_VERSION
    before = digest(image_path)
    info = tidelog.probe_image(image)
    assert (info.kind, info.write_size, info.erase_size) == ("kv", d.num("write_size"), d.num("erase_size"))
    for kv in (tidelog.open_kv_image(image), tidelog.KV.open(image_path, read_only=True)):
        with kv:
            st = kv.stats()
            assert st.partition_size == d.num("partition_size")
            assert st.max_key_len == d.num("max_key_len")
            assert st.max_value_len == d.num("max_value_len")
            assert st.generation == d.num("generation")
            assert st.active_partition == d.num("active_partition")
            assert st.used_bytes == d.num("used_bytes")
            assert st.live_keys == d.num("live_keys") == len(kv)
            assert kv.high_water_mark_triggered == (d.fields["high_water_mark_triggered"] == "true")
            assert list(kv.items()) == sorted(d.entries.items())
            assert dict(kv) == d.entries
            for k, v in d.entries.items():
                assert kv[k] == v
    assert digest(image_path) == before

    copy = tmp_path / image_path.name
    copy.write_bytes(image)
    with tidelog.KV.open(copy, high_water_percent=d.num("high_water_percent")) as kv:
        kv[b"py"] = b"binding"
        kv.compact()
    with tidelog.KV.open(copy, read_only=True) as kv:
        assert kv[b"py"] == b"binding"
        assert {k: v for k, v in kv.items() if k != b"py"} == d.entries
