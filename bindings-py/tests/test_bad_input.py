"""Bad input gets a specific exception with a clear message — never a crash of the
interpreter, never a changed file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import pytest

import tidelog
from support import digest


def test_wrong_record_types(log: tidelog.Log) -> None:
    bad: Any
    for bad in ["text", 42, None, 3.5, [b"a"], {"a": 1}, object()]:
        with pytest.raises(TypeError, match="bytes-like object is required"):
            log.append(bad)
    for bad in [[b"a", "b"], [None], [1, 2], [[b"nested"]]]:
        with pytest.raises(TypeError, match="record"):
            log.append_batch(bad)
        with pytest.raises(TypeError, match="record"):
            log.extend(bad)
    for bad in [b"a single bytes object", "a str"]:
        with pytest.raises(TypeError, match="iterable of bytes-like records"):
            log.append_batch(bad)
        with pytest.raises(TypeError, match="iterable of bytes-like records"):
            log.extend(bad)
    with pytest.raises(TypeError):
        log.extend(42)  # type: ignore[arg-type]
    assert log.next_offset == 0


def test_an_iterable_that_raises_passes_its_error_through(log: tidelog.Log) -> None:
    def gen() -> Iterator[bytes]:
        yield b"one"
        raise RuntimeError("producer failed")

    with pytest.raises(RuntimeError, match="producer failed"):
        log.extend(gen())
    with pytest.raises(RuntimeError, match="producer failed"):
        log.append_batch(gen())
    assert log.next_offset == 0


def test_offsets_of_the_wrong_type_or_out_of_range(log: tidelog.Log) -> None:
    log.extend([b"a", b"b", b"c"])
    bad: Any
    for bad in ["1", 1.0, None, b"1"]:
        with pytest.raises(TypeError, match="must be an int"):
            log.read(bad)
        with pytest.raises(TypeError, match="must be an int"):
            log.trim_front(bad)
        if bad is not None:  # None is the default: from the first offset
            with pytest.raises(TypeError, match="must be an int"):
                log.iter(start=bad)
    for off in [-1, -(2**70), 3, 2**63, 2**64 - 1, 2**64, 2**100]:
        with pytest.raises(tidelog.OutOfRangeError, match=r"readable offsets are 0\.\.3"):
            log.read(off)
        with pytest.raises(IndexError):
            log[off]
    for off in [-1, 2**64, 4]:
        with pytest.raises(tidelog.OutOfRangeError):
            log.trim_front(off)
        with pytest.raises(tidelog.OutOfRangeError):
            log.truncate_back(off)
        with pytest.raises(tidelog.OutOfRangeError):
            log.commit("c", off)
        with pytest.raises(tidelog.OutOfRangeError):
            log.iter(start=off)
    assert [r for _, r in log] == [b"a", b"b", b"c"]


def test_records_over_the_maximum(log: tidelog.Log) -> None:
    limit = log.stats().max_record_size
    log.append(b"x" * limit)
    for call in (log.append, lambda r: log.append_batch([r]), lambda r: log.extend([b"ok", r])):
        with pytest.raises(tidelog.TooLargeError, match=f"maximum of {limit} bytes"):
            call(b"x" * (limit + 1))
    assert log.next_offset == 1


def test_bad_create_arguments(tmp_path: Path) -> None:
    p = tmp_path / "x.tlog"
    cases: list[tuple[Callable[[], object], type[BaseException], Optional[str]]] = [
        (lambda: tidelog.Log.create(p, -1), tidelog.InvalidArgumentError, "capacity"),
        (lambda: tidelog.Log.create(p, "big"), TypeError, "capacity must be an int"),  # type: ignore[arg-type]
        (lambda: tidelog.Log.create(p, 100), tidelog.InvalidConfigError, "invalid configuration"),
        (lambda: tidelog.Log.create(p, 1 << 20, segment_size=1000), tidelog.InvalidArgumentError, "multiple of erase_size"),
        (lambda: tidelog.Log.create(p, 1 << 20, segment_size=1 << 20), tidelog.InvalidConfigError, None),
        (lambda: tidelog.Log.create(p, 1 << 20, write_size=3), tidelog.InvalidConfigError, None),
        (lambda: tidelog.Log.create(p, 1 << 20, erase_size=100), tidelog.InvalidConfigError, "erase_size must be a power of two"),
        (lambda: tidelog.Log.create(p, 1 << 20, full_policy="sometimes"), tidelog.InvalidArgumentError, "full_policy"),  # type: ignore[arg-type]
        (lambda: tidelog.Log.create(p, 1 << 20, durability="maybe"), tidelog.InvalidArgumentError, "durability"),  # type: ignore[arg-type]
        (lambda: tidelog.Log.create(p, 1 << 40), tidelog.InvalidConfigError, None),
        (lambda: tidelog.Log.create(42, 1 << 20), TypeError, None),  # type: ignore[arg-type]
        (lambda: tidelog.Log.create(tmp_path / "no" / "dir" / "x.tlog", 1 << 20), tidelog.NotFoundError, None),
    ]
    for call, exc, words in cases:
        with pytest.raises(exc, match=words):
            call()
        assert not p.exists(), "a failed create leaves no file"


def test_bad_kv_create_arguments(tmp_path: Path) -> None:
    p = tmp_path / "x.tkv"
    cases: list[tuple[Callable[[], object], type[BaseException], str]] = [
        (lambda: tidelog.KV.create(p, -5), tidelog.InvalidArgumentError, "capacity"),
        (lambda: tidelog.KV.create(p, 100), tidelog.InvalidConfigError, "invalid configuration"),
        (lambda: tidelog.KV.create(p, 1 << 16, write_size=512), tidelog.InvalidConfigError, "write_size"),
        (lambda: tidelog.KV.create(p, 1 << 16, erase_size=3), tidelog.InvalidConfigError, "erase_size"),
        (lambda: tidelog.KV.create(p, 1 << 16, max_key_len=256), tidelog.InvalidArgumentError, "max_key_len"),
        (lambda: tidelog.KV.create(p, 1 << 16, high_water_percent=0), tidelog.InvalidConfigError, "high_water_percent"),
        (lambda: tidelog.KV.create(p, 1 << 16, write_size="4"), TypeError, "write_size must be an int"),  # type: ignore[arg-type]
        (lambda: tidelog.KV.create(p, 1 << 16, durability="never"), tidelog.InvalidArgumentError, "durability"),  # type: ignore[arg-type]
    ]
    for call, exc, words in cases:
        with pytest.raises(exc, match=words):
            call()
        assert not p.exists(), "a failed create leaves no file"


def test_a_directory_path(tmp_path: Path) -> None:
    for call in (
        lambda: tidelog.Log.open(tmp_path),
        lambda: tidelog.Log.open(tmp_path, read_only=True),
        lambda: tidelog.KV.open(tmp_path),
        lambda: tidelog.open_image(tmp_path),
    ):
        with pytest.raises(tidelog.StorageDeviceError, match="Is a directory"):
            call()
    with pytest.raises(tidelog.AlreadyExistsError):
        tidelog.Log.create(tmp_path, 1 << 20)


def _make_unwritable(p: Path) -> Callable[[], None]:
    """Makes `p` unwritable even for root (chattr +i) or for a user (chmod); returns the undo."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(p)]).returncode:
            pytest.skip("running as root without chattr +i: cannot make a file read-only")

        def undo_immutable() -> None:
            subprocess.run(["chattr", "-i", str(p)], check=True)

        return undo_immutable
    p.chmod(0o444)

    def undo_chmod() -> None:
        p.chmod(0o644)

    return undo_chmod


def test_a_read_only_file_opened_for_writing(tmp_path: Path) -> None:
    p = tmp_path / "ro.tlog"
    with tidelog.Log.create(p, 64 << 10) as log:
        log.append(b"keep me")
    before = digest(p)
    undo = _make_unwritable(p)
    try:
        with pytest.raises(tidelog.StorageDeviceError) as e:
            tidelog.Log.open(p)
        assert e.value.errno in (1, 13)  # EPERM (immutable) or EACCES
        assert str(p) in str(e.value)
        with tidelog.Log.open(p, read_only=True) as ro:
            assert ro[0] == b"keep me"
    finally:
        undo()
    assert digest(p) == before


def test_non_images_and_damaged_images_never_change(tmp_path: Path) -> None:
    cases = {
        "empty": b"",
        "text": b"hello world\n" * 1000,
        "zeros": bytes(64 << 10),
        "erased": b"\xff" * (64 << 10),
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        before = digest(p)
        opens: List[Callable[[], object]] = [
            lambda: tidelog.Log.open(p),
            lambda: tidelog.Log.open(p, read_only=True),
            lambda: tidelog.KV.open(p),
            lambda: tidelog.KV.open(p, read_only=True),
        ]
        for call in opens:
            with pytest.raises(tidelog.NotFormattedError, match="no tidelog image") as e:
                call()
            assert e.value.path == str(p) and str(p) in str(e.value)
        for image in (lambda: tidelog.open_image(p), lambda: tidelog.open_kv_image(data)):
            with pytest.raises(tidelog.NotFormattedError, match="no tidelog image"):
                image()
        assert digest(p) == before, name


def test_garbage_images_never_crash_the_interpreter(tmp_path: Path) -> None:
    """Random bytes with tidelog headers spliced in, mounted in a child interpreter: it must
    exit normally whatever the image holds."""
    src = tmp_path / "real.tlog"
    with tidelog.Log.create(src, 32 << 10, segment_size=4096, erase_size=1024, write_size=4) as log:
        log.extend([os.urandom(i % 90) for i in range(300)])
        log.commit("c", 100)
    script = r"""
import random, sys, tidelog
real = open(sys.argv[1], "rb").read()
rng = random.Random(7)
for n in range(300):
    img = bytearray(real)
    for _ in range(rng.randint(1, 40)):
        i = rng.randrange(len(img))
        img[i] = rng.randrange(256)
    if n % 3 == 0:
        img = img[: rng.randrange(len(img))]
    try:
        log = tidelog.open_image(bytes(img))
        for _ in log.iter():
            pass
    except tidelog.Error:
        pass
print("survived")
"""
    out = subprocess.run([sys.executable, "-c", script, str(src)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "survived"
