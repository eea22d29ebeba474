"""One Log shared by threads; the GIL is released during I/O and long loops."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Dict, List, Set

import pytest

import tidelog


def test_threads_share_one_log_with_group_commit(path: Path) -> None:
    log = tidelog.Log.create(path, 4 << 20, durability="every_write")
    offsets: List[Set[int]] = [set() for _ in range(8)]
    errors: List[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(200):
                offsets[t].add(log.append(f"{t}:{i}".encode()))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    everything = set().union(*offsets)
    assert len(everything) == 1600 and everything == set(range(1600))
    by_thread = {t: [int(r.split(b":")[1]) for _, r in log if r.startswith(f"{t}:".encode())] for t in range(8)}
    assert all(v == list(range(200)) for v in by_thread.values()), "each thread's records in its order"
    log.close()
    with tidelog.Log.open(path) as again:
        assert again.next_offset == 1600


def test_readers_and_writers_on_threads(path: Path) -> None:
    log = tidelog.Log.create(path, 4 << 20, durability="explicit")
    stop = threading.Event()
    seen: List[int] = []

    def reader() -> None:
        while not stop.is_set():
            n = sum(1 for _ in log)
            seen.append(n)

    r = threading.Thread(target=reader)
    r.start()
    for i in range(50):
        log.extend([b"x" * 10] * 100)
    stop.set()
    r.join()
    assert seen == sorted(seen), "a reader never sees records disappear"
    assert log.next_offset == 5000
    log.close()


def _runs_during(call: Callable[[], object]) -> int:
    """How many times a pure-Python loop on another thread ran while `call` ran."""
    counter = [0]
    done = threading.Event()
    started = threading.Event()

    def spin() -> None:
        started.set()
        while not done.is_set():
            counter[0] += 1

    th = threading.Thread(target=spin)
    th.start()
    started.wait()
    before = counter[0]
    call()
    during = counter[0] - before
    done.set()
    th.join()
    return during


@pytest.mark.parametrize("what", ["extend", "iterate", "create", "sync"])
def test_the_gil_is_released_around_long_calls(tmp_path: Path, what: str) -> None:
    """While the native call runs, another Python thread keeps running: with the GIL held
    through the call it could not run at all (the switch interval is 5 ms; these calls take
    much longer)."""
    log = tidelog.Log.create(tmp_path / "a.tlog", 64 << 20, segment_size=1 << 20, durability="explicit")
    records = [b"r" * 100] * 300_000
    if what != "extend":
        log.extend(records)

    def extend_and_sync(batch: List[bytes]) -> None:
        log.extend(batch)
        log.sync()

    calls: Dict[str, Callable[[], object]] = {
        "extend": lambda: log.extend(records),
        "iterate": lambda: sum(1 for _ in log.iter(stop=300_000)),
        "create": lambda: tidelog.Log.create(tmp_path / "b.tlog", 256 << 20).close(),
        "sync": lambda: extend_and_sync(records[:100_000]),
    }
    assert _runs_during(calls[what]) > 1000
    log.close()
