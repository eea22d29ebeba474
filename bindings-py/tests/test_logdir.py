"""tidelog.LogDir: the grouped store."""

from __future__ import annotations

from pathlib import Path

import pytest

import tidelog


def test_grouped_streams(tmp_path: Path) -> None:
    root = tmp_path / "sessions"
    with tidelog.LogDir(root) as d:
        assert d.path == str(root)
        d.create_stream("project-a", "session-1", [b"hello"])
        d.create_stream("project-a", "session-2")
        d.create_stream("project-b", "session-3", [b"x", bytearray(b"y")])
        assert d.append("session-1", b"world") == 1
        assert d.read_all("session-1") == [b"hello", b"world"]
        assert d.entry_count("session-3") == 2
        assert d.lookup_group_of("session-3") == "project-b"
        assert d.list_groups() == ["project-b", "project-a"], "most recent first"
        assert d.list_streams("project-a") == ["session-2", "session-1"]
        assert d.exists("session-2") and "session-2" in d and not d.exists("nope")
        d.truncate("session-1", 1)
        assert d.read_all("session-1") == [b"hello"]
        assert d.close_stream("session-1") and not d.close_stream("session-1")
        d.sync_all()
    assert d.closed
    with pytest.raises(tidelog.ClosedError):
        d.read_all("session-1")
    with tidelog.LogDir(root, durability="explicit", initial_capacity=16 << 10) as again:
        assert again.read_all("session-1") == [b"hello"]
        for i in range(2000):  # grows past its first file
            again.append("session-2", b"%d" % i)
        assert again.entry_count("session-2") == 2000


def test_errors(tmp_path: Path) -> None:
    with tidelog.LogDir(tmp_path / "d") as d:
        d.create_stream("g", "s", [b"a"])
        with pytest.raises(tidelog.AlreadyExistsError):
            d.create_stream("g", "s")
        with pytest.raises(tidelog.NotFoundError) as nf:
            d.append("missing", b"x")
        assert "missing" in str(nf.value)
        with pytest.raises(tidelog.NotFoundError):
            d.list_streams("no-group")
        with pytest.raises(tidelog.InvalidNameError):
            d.create_stream("g", "bad/name")
        with pytest.raises(tidelog.OutOfRangeError):
            d.truncate("s", 5)
        with pytest.raises(tidelog.InvalidArgumentError):
            d.truncate("s", -1)
        with pytest.raises(TypeError):
            d.append("s", "text")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            d.create_stream("g", "t", [b"a", 1])  # type: ignore[list-item]
        assert not d.exists("t")
    with pytest.raises(tidelog.InvalidArgumentError):
        tidelog.LogDir(tmp_path / "e", durability="never")  # type: ignore[arg-type]
