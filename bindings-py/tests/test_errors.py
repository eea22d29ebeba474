"""Every core error code has its exception class; the hierarchy; the fields; pickling."""

from __future__ import annotations

import errno
import pickle
from pathlib import Path

import pytest

import tidelog
from tidelog import _errors


def class_name(code_name: str) -> str:
    return "".join(part.capitalize() for part in code_name.split("_")) + "Error"


def test_every_core_error_code_has_its_class() -> None:
    """The table comes from the native module (the core's `ErrorCode::ALL`): a code added to
    the core without a class here fails this test."""
    assert len(tidelog.ERROR_CODES) >= 25
    seen = set()
    for code, name, description in tidelog.ERROR_CODES:
        cls = tidelog.error_class(code)
        assert cls is not None, f"core error {code} {name} has no exception class"
        assert cls.__name__ == class_name(name)
        assert getattr(tidelog, cls.__name__) is cls
        assert issubclass(cls, tidelog.Error)
        assert cls.code == code and cls.code_name == name
        assert description
        seen.add(cls)
        # The native side builds exceptions through the same table.
        exc = _errors._from_core(code, f"message of {name}", "/some/path", {})
        assert type(exc) is cls
        assert str(exc) == f"message of {name}"
        assert exc.path == "/some/path"
    assert len(seen) == len(tidelog.ERROR_CODES)
    # No class for a number the core does not use.
    codes = {c for c, _, _ in tidelog.ERROR_CODES}
    assert all(tidelog.error_class(n) is None for n in range(0, 200) if n not in codes)


def test_an_unknown_code_is_still_a_tidelog_error() -> None:
    exc = _errors._from_core(999, "new", None, {})
    assert type(exc) is tidelog.Error
    assert "999" in str(exc)


def test_builtin_bases() -> None:
    assert issubclass(tidelog.OutOfRangeError, IndexError)
    assert issubclass(tidelog.OverwrittenError, IndexError)
    assert issubclass(tidelog.OutOfRangeError, tidelog.OffsetError)
    assert issubclass(tidelog.TooLargeError, ValueError)
    assert issubclass(tidelog.InvalidArgumentError, ValueError)
    assert issubclass(tidelog.InvalidConfigError, ValueError)
    assert issubclass(tidelog.InvalidNameError, ValueError)
    assert issubclass(tidelog.ClosedError, ValueError)
    assert issubclass(tidelog.NoSuchConsumerError, LookupError)
    assert issubclass(tidelog.NotFoundError, FileNotFoundError)
    assert issubclass(tidelog.AlreadyExistsError, FileExistsError)
    assert issubclass(tidelog.StorageDeviceError, OSError)
    assert issubclass(tidelog.StorageDeviceError, tidelog.StorageError)
    for code, name, _ in tidelog.ERROR_CODES:
        cls = tidelog.error_class(code)
        assert cls is not None
        assert issubclass(cls, tidelog.StorageError) == name.startswith("STORAGE_")


def test_fields_of_real_errors(path: Path, log: tidelog.Log) -> None:
    log.extend([b"a", b"b", b"c"])
    with pytest.raises(tidelog.OutOfRangeError) as e:
        log.read(3)
    assert (e.value.first, e.value.next) == (0, 3)
    assert e.value.path == str(path)
    assert "readable offsets are 0..3" in str(e.value)
    assert str(path) in str(e.value)
    log.trim_front(2)
    with pytest.raises(tidelog.OverwrittenError):
        log.read(0)
    big = b"x" * (log.stats().max_record_size + 1)
    with pytest.raises(tidelog.TooLargeError) as t:
        log.append(big)
    assert t.value.len == len(big) and t.value.max == log.stats().max_record_size
    assert f"{len(big)} bytes exceed the maximum of {t.value.max} bytes" in str(t.value)


def test_os_errors_carry_errno(tmp_path: Path) -> None:
    with pytest.raises(tidelog.NotFoundError) as nf:
        tidelog.Log.open(tmp_path / "missing.tlog")
    assert nf.value.errno == errno.ENOENT
    assert nf.value.filename == str(tmp_path / "missing.tlog")
    p = tmp_path / "x.tlog"
    tidelog.Log.create(p, 64 << 10).close()
    with pytest.raises(tidelog.AlreadyExistsError) as ae:
        tidelog.Log.create(p, 64 << 10)
    assert ae.value.errno == errno.EEXIST
    with pytest.raises(tidelog.StorageDeviceError) as de:
        tidelog.Log.open(tmp_path)
    assert de.value.errno == errno.EISDIR
    assert "Is a directory" in str(de.value)


def test_exceptions_pickle(path: Path, log: tidelog.Log) -> None:
    log.append(b"x")
    with pytest.raises(tidelog.OutOfRangeError) as e:
        log.read(5)
    back = pickle.loads(pickle.dumps(e.value))
    assert type(back) is tidelog.OutOfRangeError
    assert (back.first, back.next, back.path, str(back)) == (0, 1, str(path), str(e.value))
    nf = tidelog.NotFoundError("gone", path="/x")
    back2 = pickle.loads(pickle.dumps(nf))
    assert isinstance(back2, FileNotFoundError) and back2.errno == errno.ENOENT


def test_constructing_with_an_unknown_field_is_refused() -> None:
    with pytest.raises(TypeError):
        tidelog.CorruptError("x", nonsense=1)
    assert tidelog.CorruptError("x", addr=5).addr == 5
