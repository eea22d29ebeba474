"""Raw images: a flash dump or any bytes, mounted read-only with the geometry from the image;
never modified. Bad images get a specific error."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

import tidelog
from support import crc32c, digest, segment_headers, with_version


def make_dump(tmp_path: Path, write_size: int, erase_size: int) -> Path:
    p = tmp_path / f"dump_ws{write_size}_e{erase_size}.bin"
    with tidelog.Log.create(
        p, 16 * erase_size, write_size=write_size, erase_size=erase_size, segment_size=2 * erase_size
    ) as log:
        log.extend([f"rec {i}".encode() for i in range(50)])
        log.commit("reader", 20)
    return p


@pytest.mark.parametrize("write_size", [1, 2, 4, 8, 16, 32, 64, 128, 256])
def test_any_program_unit_mounts_from_bytes_and_from_a_path(tmp_path: Path, write_size: int) -> None:
    p = make_dump(tmp_path, write_size, 1024 if write_size <= 64 else 4096)
    before = digest(p)
    data = p.read_bytes()
    for img in (tidelog.open_image(data), tidelog.open_image(p), tidelog.open_image(str(p)),
                tidelog.open_image(bytearray(data)), tidelog.open_image(memoryview(data))):
        with img:
            assert img.read_only and img.path is None
            assert img.layout().write_size == write_size
            assert img.next_offset == 50 and img[7] == b"rec 7"
            assert img.consumers() == {"reader": 20}
            assert [o for o, _ in img.consumer("reader")][:2] == [20, 21]
    info = tidelog.probe_image(data)
    assert (info.kind, info.write_size) == ("log", write_size)
    assert repr(info).startswith("ImageInfo(kind='log', ")
    assert digest(p) == before


def test_writes_to_an_image_are_refused_and_change_nothing(tmp_path: Path) -> None:
    p = make_dump(tmp_path, 4, 1024)
    data = bytearray(p.read_bytes())
    copy = bytes(data)
    img = tidelog.open_image(data)
    for write in (
        lambda: img.append(b"x"),
        lambda: img.append_batch([b"x"]),
        lambda: img.extend([b"x"]),
        lambda: img.trim_front(10),
        lambda: img.truncate_back(10),
        lambda: img.commit("reader", 30),
        lambda: img.rewind("reader", 0),
        lambda: img.remove_consumer("reader"),
    ):
        with pytest.raises(tidelog.StorageReadOnlyError):
            write()
    assert img.next_offset == 50
    assert bytes(data) == copy
    img.refresh()  # nothing to see: a no-op
    img.close()
    with pytest.raises(tidelog.ClosedError):
        img.read(0)


def test_read_only_file_open_never_changes_the_file(tmp_path: Path) -> None:
    p = make_dump(tmp_path, 4, 1024)
    before = digest(p)
    with tidelog.Log.open(p, read_only=True) as ro:
        assert ro.read_only and ro.next_offset == 50
        with pytest.raises(tidelog.StorageReadOnlyError):
            ro.append(b"x")
        with pytest.raises(tidelog.StorageReadOnlyError):
            ro.commit("reader", 40)
    assert digest(p) == before


def test_a_torn_tail_image_mounts_read_only_without_repair(tmp_path: Path) -> None:
    p = make_dump(tmp_path, 4, 1024)
    data = bytearray(p.read_bytes())
    # Tear the last frame: flip a bit in the last written bytes of the active segment.
    last = max(i for i in range(len(data)) if data[i] != 0xFF)
    data[last] ^= 0x01
    copy = bytes(data)
    img = tidelog.open_image(data)
    assert img.recovery().torn_tail
    assert 0 < img.next_offset <= 50
    assert bytes(data) == copy


def test_not_an_image(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is not a tidelog image" * 200)
    before = digest(junk)
    with pytest.raises(tidelog.NotFormattedError):
        tidelog.open_image(junk)
    with pytest.raises(tidelog.NotFormattedError) as e:
        tidelog.Log.open(junk)
    assert str(junk) in str(e.value)
    with pytest.raises(tidelog.NotFormattedError):
        tidelog.Log.open(junk, read_only=True)
    assert digest(junk) == before
    with pytest.raises(tidelog.NotFormattedError):
        tidelog.open_image(b"\xff" * 8192)
    with pytest.raises(tidelog.NotFormattedError):
        tidelog.open_image(b"")
    with pytest.raises(tidelog.NotFormattedError):
        tidelog.probe_image(b"\x00" * 4096)


def test_truncated_image(tmp_path: Path) -> None:
    p = make_dump(tmp_path, 4, 1024)
    data = p.read_bytes()
    with pytest.raises(tidelog.GeometryMismatchError):
        tidelog.open_image(data[: len(data) // 2])
    cut = tmp_path / "cut.bin"
    cut.write_bytes(data[: len(data) // 2 + 100])
    before = digest(cut)
    with pytest.raises((tidelog.GeometryMismatchError, tidelog.NotFormattedError)):
        tidelog.Log.open(cut)
    assert digest(cut) == before


def test_future_version_image(tmp_path: Path) -> None:
    p = make_dump(tmp_path, 4, 1024)
    future = with_version(p.read_bytes(), 2)
    assert segment_headers(future)
    with pytest.raises(tidelog.UnsupportedVersionError) as e:
        tidelog.open_image(future)
    assert e.value.found == 2
    assert "unsupported format version 2" in str(e.value)
    f = tmp_path / "future.bin"
    f.write_bytes(future)
    before = digest(f)
    with pytest.raises(tidelog.UnsupportedVersionError):
        tidelog.Log.open(f)
    with pytest.raises(tidelog.UnsupportedVersionError):
        tidelog.Log.open(f, read_only=True)
    assert digest(f) == before


def test_image_argument_types(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path .* or a bytes-like object"):
        tidelog.open_image(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tidelog.open_image(None)  # type: ignore[arg-type]
    with pytest.raises(tidelog.NotFoundError):
        tidelog.open_image(tmp_path / "missing.bin")
    with pytest.raises(tidelog.StorageDeviceError):
        tidelog.open_image(tmp_path)


def make_kv_dump(tmp_path: Path) -> Path:
    p = tmp_path / "settings.tkv"
    with tidelog.KV.create(p, 16 << 10, erase_size=1024) as kv:
        kv.update({b"a": b"1", b"b": b"2"})
    return p


def test_truncated_kv_image(tmp_path: Path) -> None:
    p = make_kv_dump(tmp_path)
    data = p.read_bytes()
    for cut in (len(data) // 2, len(data) // 2 + 100, 100):
        with pytest.raises(tidelog.GeometryMismatchError, match="geometry does not match"):
            tidelog.open_kv_image(data[:cut])
        f = tmp_path / "cut.tkv"
        f.write_bytes(data[:cut])
        before = digest(f)
        # From a file, the KV's mount finds no partition of the file's size (the core
        # reports NOT_FORMATTED there, where the image probe says GEOMETRY_MISMATCH).
        for read_only in (False, True):
            with pytest.raises((tidelog.GeometryMismatchError, tidelog.NotFormattedError)):
                tidelog.KV.open(f, read_only=read_only)
        assert digest(f) == before


def test_future_version_kv_image(tmp_path: Path) -> None:
    """A partition header of version 2 (CRC valid, FORMAT.md K2): unsupported, not corrupt."""
    p = make_kv_dump(tmp_path)
    img = bytearray(p.read_bytes())
    half = len(img) // 2
    changed = 0
    for base in (0, half):
        if img[base : base + 4] == b"TDKV":
            struct.pack_into("<H", img, base + 4, 2)
            struct.pack_into("<I", img, base + 36, crc32c(bytes(img[base : base + 36])))
            changed += 1
    assert changed >= 1
    with pytest.raises(tidelog.UnsupportedVersionError) as e:
        tidelog.open_kv_image(bytes(img))
    assert e.value.found == 2
    f = tmp_path / "future.tkv"
    f.write_bytes(img)
    before = digest(f)
    for read_only in (False, True):
        with pytest.raises(tidelog.UnsupportedVersionError, match="unsupported format version 2"):
            tidelog.KV.open(f, read_only=read_only)
    assert digest(f) == before
