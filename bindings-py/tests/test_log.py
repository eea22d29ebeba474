"""The Log API: appending (every bytes-like type), reading, iterating, trimming, consumers."""

from __future__ import annotations

import array
import mmap
import resource
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

import tidelog


def test_append_read_iterate(path: Path, log: tidelog.Log) -> None:
    assert (log.first_offset, log.next_offset, len(log)) == (0, 0, 0)
    assert log.append(b"boot") == 0
    assert log.append_batch([b"t=21.5", b"", b"t=21.7"]) == 1
    assert log.extend(iter([b"a", b"b"])) == 4
    assert log.next_offset == 6 and len(log) == 6
    assert log.read(0) == b"boot" and log[2] == b"" and log.record_len(1) == 6
    assert list(log) == [(0, b"boot"), (1, b"t=21.5"), (2, b""), (3, b"t=21.7"), (4, b"a"), (5, b"b")]
    assert list(log.iter(start=3)) == [(3, b"t=21.7"), (4, b"a"), (5, b"b")]
    assert list(log.iter(start=1, stop=3)) == [(1, b"t=21.5"), (2, b"")]
    assert list(log.iter(start=6)) == []
    assert log.path == str(path) and not log.read_only and log.durability == "explicit"
    assert log.full_policy == "reject"
    assert repr(log) == f'<tidelog.Log "{path}" first_offset=0 next_offset=6>'


def test_every_bytes_like_type(log: tidelog.Log, tmp_path: Path) -> None:
    f = tmp_path / "m"
    f.write_bytes(b"mapped bytes")
    with open(f, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
        records: List[object] = [
            b"bytes",
            bytearray(b"bytearray"),
            memoryview(b"xxmemoryviewxx")[2:-2],
            array.array("H", [1, 2, 3]),
            m,
        ]
        for r in records:
            log.append(r)  # type: ignore[arg-type]
        log.append_batch(records)  # type: ignore[arg-type]
        log.extend(records)  # type: ignore[arg-type]
    expected = [b"bytes", b"bytearray", b"memoryview", array.array("H", [1, 2, 3]).tobytes(), b"mapped bytes"]
    assert [r for _, r in log] == expected * 3


def test_empty_records_of_every_kind(log: tidelog.Log) -> None:
    empties: List[object] = [b"", bytearray(), memoryview(b""), array.array("H"), memoryview(bytearray(4))[4:]]
    for e in empties:
        log.append(e)  # type: ignore[arg-type]
    log.append_batch(empties)  # type: ignore[arg-type]
    log.extend(empties)  # type: ignore[arg-type]
    assert [r for _, r in log] == [b""] * 15
    assert log.record_len(14) == 0


def test_a_held_buffer_keeps_a_bytearray_from_resizing_only_during_the_call(log: tidelog.Log) -> None:
    data = bytearray(b"abc")
    log.append(data)
    data.extend(b"def")  # the view was released when append returned
    assert log.read(0) == b"abc"


def test_non_contiguous_buffer_is_refused(log: tidelog.Log) -> None:
    with pytest.raises(BufferError):
        log.append(memoryview(b"abcdef")[::2])
    assert log.next_offset == 0


def test_append_batch_is_one_frame_bounded_by_the_max_record_size(log: tidelog.Log) -> None:
    max_size = log.stats().max_record_size
    with pytest.raises(tidelog.TooLargeError):
        log.append_batch([b"x" * (max_size // 2)] * 3)
    assert log.next_offset == 0
    # extend packs the same records into as many frames as needed.
    assert log.extend([b"x" * (max_size // 2)] * 3) == 0
    assert log.next_offset == 3


def test_extend_many_records_and_an_empty_iterable(log: tidelog.Log) -> None:
    records = [i.to_bytes(4, "little") for i in range(100_000)]
    assert log.extend(records) == 0
    assert log.extend([]) == 100_000
    assert log.extend(r for r in records[:0]) == 100_000
    assert [r for _, r in log.iter(start=99_998)] == records[-2:]
    assert sum(1 for _ in log) == 100_000


def test_extend_chunks_keep_their_prefix_on_a_bad_record(log: tidelog.Log) -> None:
    """The first bad record of the first chunk stops the call before anything is written."""
    with pytest.raises(TypeError, match="record 2"):
        log.extend([b"a", b"b", "c"])  # type: ignore[list-item]
    assert log.next_offset == 0


def test_iteration_is_lazy_and_sees_the_log_as_it_reads(log: tidelog.Log) -> None:
    log.extend([b"1", b"2"])
    it = log.iter()
    assert next(it) == (0, b"1")
    assert it.offset == 1
    log.append(b"3")
    assert [r for _, r in it] == [b"2", b"3"]
    with pytest.raises(StopIteration):
        next(it)  # finished stays finished


def test_iterator_seek(log: tidelog.Log) -> None:
    log.extend([bytes([i]) for i in range(10)])
    it = log.iter()
    it.seek(7)
    assert [o for o, _ in it] == [7, 8, 9]
    it.seek(2)
    assert next(it) == (2, b"\x02")
    with pytest.raises(tidelog.OutOfRangeError):
        it.seek(-1)


def test_iterating_a_large_log_keeps_memory_bounded(tmp_path: Path) -> None:
    """200 MB of records iterate without the process growing anywhere near that."""
    with tidelog.Log.create(
        tmp_path / "big.tlog", 256 << 20, segment_size=8 << 20, durability="explicit"
    ) as log:
        chunk = [b"r" * 1000] * 10_000
        for _ in range(20):
            log.extend(chunk)
        assert log.stats().bytes_used > 200_000_000
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        n = 0
        for _, rec in log:
            n += len(rec)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert n == 200_000 * 1000
    assert (after - before) * 1024 < 32 << 20, f"iteration grew the peak RSS by {after - before} KiB"


def test_trim_and_truncate(log: tidelog.Log) -> None:
    log.extend([bytes([i]) for i in range(10)])
    log.trim_front(4)
    assert log.first_offset == 4 and len(log) == 6
    with pytest.raises(tidelog.OverwrittenError) as e:
        log.read(3)
    assert e.value.first_available == 4
    log.truncate_back(7)
    assert log.next_offset == 7
    assert log.append(b"new") == 7
    assert [r for _, r in log] == [b"\x04", b"\x05", b"\x06", b"new"]


def test_stats_layout_recovery_are_frozen_values(log: tidelog.Log) -> None:
    log.append(b"x" * 100)
    st = log.stats()
    assert st.next_offset == 1 and st.segments_total == 64 and st.segment_size == 16384
    assert st == log.stats()
    assert repr(st).startswith("Stats(first_offset=0, next_offset=1, ")
    with pytest.raises(AttributeError):
        st.next_offset = 5  # type: ignore[misc]
    lay = log.layout()
    assert (lay.write_size, lay.erase_size, lay.index_interval, lay.max_consumers) == (4, 4096, 1024, 16)
    r = log.recovery()
    assert r.is_clean and not r.torn_tail
    assert "is_clean=True" in repr(r)


def test_create_options(tmp_path: Path) -> None:
    with tidelog.Log.create(
        tmp_path / "ring.tlog",
        64 << 10,
        segment_size=8192,
        index_interval=256,
        max_record_size=100,
        full_policy="overwrite_oldest",
        write_size=32,
        erase_size=1024,
    ) as ring:
        lay = ring.layout()
        assert (lay.write_size, lay.erase_size, lay.segment_size, lay.segment_count) == (32, 1024, 8192, 8)
        assert (lay.index_interval, lay.max_record_size) == (256, 100)
        assert ring.full_policy == "overwrite_oldest"
        for i in range(5000):
            ring.append(i.to_bytes(4, "little") * 20)
        assert ring.first_offset > 0 and ring.next_offset == 5000
    with tidelog.Log.open(tmp_path / "ring.tlog", full_policy="overwrite_oldest") as again:
        assert again.next_offset == 5000


def test_reject_policy_reports_full(tmp_path: Path) -> None:
    with tidelog.Log.create(tmp_path / "small.tlog", 16 << 10, segment_size=4096) as small:
        with pytest.raises(tidelog.FullError):
            for _ in range(10_000):
                small.append(b"y" * 200)
        n = small.next_offset
        small.trim_front(n)
        small.append(b"room again")


def test_reopen_after_close_sees_everything(path: Path) -> None:
    with tidelog.Log.create(path, 1 << 20, durability="every_write") as log:
        log.extend([b"a", b"b"])
        c = log.consumer("uploader")
        c.commit(1)
    with tidelog.Log.open(path) as log:
        assert list(log) == [(0, b"a"), (1, b"b")]
        assert log.consumers() == {"uploader": 1}


def test_closed_log_raises_closed_error_everywhere(log: tidelog.Log) -> None:
    log.append(b"x")
    it = log.iter()
    c = log.consumer("c")
    log.close()
    assert log.closed
    calls: List[Callable[[], object]] = [
        lambda: log.append(b"y"),
        lambda: log.append_batch([b"y"]),
        lambda: log.extend([b"y"]),
        lambda: log.read(0),
        lambda: log[0],
        lambda: len(log),
        lambda: log.first_offset,
        lambda: log.next_offset,
        lambda: log.stats(),
        lambda: log.layout(),
        lambda: log.recovery(),
        lambda: log.sync(),
        lambda: log.trim_front(0),
        lambda: log.truncate_back(0),
        lambda: log.consumers(),
        lambda: log.commit("c", 1),
        lambda: log.consumer("d"),
        lambda: list(log),
        lambda: next(it),
        lambda: c.committed,
        lambda: c.commit(1),
        lambda: log.close(),
        lambda: log.refresh(),
    ]
    for call in calls:
        with pytest.raises(tidelog.ClosedError):
            call()
    assert "closed" in repr(log)


def test_context_manager_closes_on_error(path: Path) -> None:
    with pytest.raises(RuntimeError):
        with tidelog.Log.create(path, 64 << 10) as log:
            log.append(b"kept")
            raise RuntimeError("boom")
    assert log.closed
    with tidelog.Log.open(path) as again:
        assert again[0] == b"kept"


def test_consumers_deliver_then_commit_and_replay(path: Path) -> None:
    with tidelog.Log.create(path, 1 << 20) as log:
        log.extend([f"event {i}".encode() for i in range(10)])
        up = log.consumer("uploader")
        assert up.committed is None and up.position == 0 and up.name == "uploader"
        delivered: List[Tuple[int, bytes]] = []
        for off, rec in up:
            delivered.append((off, rec))
            if off == 4:
                break
        up.commit(5)
        assert up.committed == 5 and log.committed("uploader") == 5
        with pytest.raises(tidelog.InvalidArgumentError):
            up.commit(3)  # backwards needs rewind
        with pytest.raises(tidelog.OutOfRangeError):
            up.commit(11)
    # After a "crash": resume from the committed offset.
    with tidelog.Log.open(path) as log:
        up = log.consumer("uploader")
        assert [o for o, _ in up] == [5, 6, 7, 8, 9]
        assert [o for o, _ in up.iter(stop=7)] == [5, 6]
        up.rewind(2)
        assert up.position == 2
        log.consumer("audit").commit(10)
        assert log.consumers() == {"audit": 10, "uploader": 2}
        up.remove()
        assert log.consumers() == {"audit": 10}
        with pytest.raises(tidelog.NoSuchConsumerError):
            up.remove()
        assert up.log is log
        assert repr(up) == '<tidelog.Consumer "uploader" committed=None>'


def test_consumer_names(log: tidelog.Log) -> None:
    log.append(b"x")
    log.consumer("ü" * 16)  # 32 bytes of UTF-8
    for bad in ["", "x" * 33, "ü" * 17]:
        with pytest.raises(tidelog.InvalidNameError):
            log.consumer(bad)
    with pytest.raises(TypeError):
        log.consumer(b"bytes")  # type: ignore[arg-type]
    for i in range(16):
        log.commit(f"c{i}", 1)
    with pytest.raises(tidelog.TooManyConsumersError):
        log.commit("one-too-many", 1)


def test_a_consumer_behind_a_trim_is_told(log: tidelog.Log) -> None:
    log.extend([b"a"] * 10)
    log.commit("slow", 2)
    log.trim_front(5)
    with pytest.raises(tidelog.OverwrittenError) as e:
        log.consumer("slow").position
    assert e.value.first_available == 5
