"""tidelog from Python, side by side with sqlite3 and a plain framed file, in one run.

    python bindings-py/bench/bench.py [--records N] [--durable N] [--dir DIR] [--markdown]

Run it with a Python where the wheel is installed (`pip install ./bindings-py`, or the venv of
`scripts/test-python.sh`). Every workload runs --repeat times (default 3) and the fastest run
counts; all of them write to files in --dir (default: a new temporary directory), on the same
disk. The table's ratio column is tidelog's speed divided by the other's: above 1 tidelog is
faster.

Workloads (records of 100 random bytes):

1. bulk load: N records, then one durability barrier. tidelog `Log.extend` + `sync`; sqlite3
   `executemany` in one transaction (WAL, synchronous=NORMAL) + commit; a buffered `f.write`
   loop of `[u32 length][bytes]` frames + `fsync`. tidelog's file is created (its capacity
   written once) before the clock starts; the cost of that is its own row.
   Contenders take turns (each repeat runs every contender once), as in every workload.
1b. two logs on two threads: N records `extend`ed half into each of two logs from two
   threads at once, against one thread filling both in turn, no sync timed: the parallelism
   the released GIL allows (at most 2.0 on two free cores).
2. single appends: one call per record in a Python loop, no barrier per call: tidelog
   `Log.append` (durability="explicit") against `f.write` of the same bytes (a frame each).
3. iteration: every record of (1) read back in order: `for offset, record in log`; sqlite3
   `SELECT id, data ... ORDER BY id`; the framed file read frame by frame.
4. durable appends: each append durable before the next (tidelog durability="every_write";
   sqlite3 autocommit inserts with synchronous=FULL, WAL; `f.write` + `flush` +
   `os.fdatasync` per frame). Then the same from 4 threads at once: tidelog's threads share one
   log (group commit: concurrent appends share an fdatasync); sqlite3's threads have a
   connection each; the framed file's threads share it under a lock.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import sqlite3
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import tidelog

FRAME = struct.Struct("<I")


def best(repeat: int, setup: Callable[[], object], run: Callable[[object], int]) -> Tuple[float, int]:
    """The fastest of `repeat` runs of `run(setup())`: (seconds, items). Dirty pages of earlier
    runs are written back first (`os.sync`), so no run pays for another's writeback."""
    times = []
    items = 0
    for _ in range(repeat):
        ctx = setup()
        os.sync()
        t = time.perf_counter()
        items = run(ctx)
        times.append(time.perf_counter() - t)
    return min(times), items


def race(repeat: int, runs: Sequence[Tuple[Callable[[], object], Callable[[object], int]]]) -> List[float]:
    """`best` for several contenders, taking turns (each repeat runs every contender once), so
    a slow phase of the machine does not fall on one of them only: the fastest time of each."""
    times: List[List[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for i, (setup, run) in enumerate(runs):
            t, _ = best(1, setup, run)
            times[i].append(t)
    return [min(t) for t in times]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.n: int = args.records
        self.repeat: int = args.repeat
        self.single: int = args.single
        self.durable_n: int = args.durable
        self.root = Path(tempfile.mkdtemp(prefix="tidelog-bench-", dir=args.dir))
        self.records = [os.urandom(100) for _ in range(self.n)]
        self.rows: List[Tuple[str, str, float, str, float]] = []
        self.seq = 0

    def path(self, name: str) -> Path:
        self.seq += 1
        return self.root / f"{self.seq:03d}-{name}"

    def row(self, workload: str, other: str, ours: float, theirs: float, unit: str) -> None:
        """`ours` and `theirs` are rates (items per second)."""
        self.rows.append((workload, other, ours, unit, theirs))

    # Sizes.

    def capacity(self, n: int) -> int:
        need = n * 110 + (16 << 20)
        return (need + (8 << 20) - 1) // (8 << 20) * (8 << 20) + (16 << 20)

    def new_log(self, n: int, durability: str) -> tidelog.Log:
        return tidelog.Log.create(
            self.path("log.tlog"),
            self.capacity(n),
            segment_size=8 << 20,
            durability=durability,  # type: ignore[arg-type]
        )

    # 1. Bulk load.

    def bulk(self) -> None:
        rep, recs, n = self.repeat, self.records, self.n
        created: List[float] = []
        # The newest file of each contender: what the iteration workload reads back (older
        # runs' files are removed as the next run starts, so the disk does not fill up).
        last: Dict[str, Path] = {}

        def fresh(kind: str, name: str) -> Path:
            old = last.pop(kind, None)
            if old is not None:
                for p in old.parent.glob(old.name + "*"):  # sqlite's -wal and -shm too
                    p.unlink()
            last[kind] = self.path(name)
            return last[kind]

        def setup_log() -> tidelog.Log:
            p = fresh("log", "bulk.tlog")
            t = time.perf_counter()
            log = tidelog.Log.create(p, self.capacity(n), segment_size=8 << 20, durability="explicit")
            created.append(time.perf_counter() - t)
            return log

        def run_log(log: object) -> int:
            assert isinstance(log, tidelog.Log)
            log.extend(recs)
            log.sync()
            log.close()
            return n

        def setup_sqlite() -> sqlite3.Connection:
            con = sqlite3.connect(fresh("sqlite", "bulk.sqlite"))
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            con.commit()
            return con

        def run_sqlite(con: object) -> int:
            assert isinstance(con, sqlite3.Connection)
            with con:
                con.executemany("INSERT INTO log (data) VALUES (?)", ((r,) for r in recs))
            con.close()
            return n

        def setup_file() -> Path:
            return fresh("file", "bulk.frames")

        def run_file(p: object) -> int:
            assert isinstance(p, Path)
            with open(p, "wb") as f:
                w, pack = f.write, FRAME.pack
                for r in recs:
                    w(pack(len(r)))
                    w(r)
                f.flush()
                os.fsync(f.fileno())
            return n

        t_log, t_sql, t_file = race(
            rep, [(setup_log, run_log), (setup_sqlite, run_sqlite), (setup_file, run_file)]
        )
        self.bulk_log, self.bulk_sqlite, self.bulk_file = last["log"], last["sqlite"], last["file"]

        label = f"bulk load: {n:,} × 100 B, one sync (records/s)"
        self.row(label, "sqlite3 executemany", n / t_log, n / t_sql, "rec/s")
        self.row(label, "f.write framing loop", n / t_log, n / t_file, "rec/s")
        t_create = min(created)
        self.row(
            f"bulk load incl. creating the {self.capacity(n) >> 20} MiB log file",
            "f.write framing loop",
            n / (t_log + t_create),
            n / t_file,
            "rec/s",
        )
        self.create_seconds = t_create

    # 1b. Two logs on two threads.

    def two_logs(self) -> None:
        """`extend` into two logs from two threads at once against one thread filling both in
        turn: how far releasing the GIL lets two writers run in parallel (2.0 at most). Only
        the `extend` calls are timed (their pwrites hand the frames to the kernel); the logs
        are closed, which syncs them, before the next run starts."""
        rep, n = self.repeat, self.n
        half = [self.records[: n // 2], self.records[n // 2 : n // 2 * 2]]
        total = len(half[0]) * 2
        open_logs: List[tidelog.Log] = []

        def close_all() -> None:
            while open_logs:
                open_logs.pop().close()
            for old in self.root.glob("*-pair.tlog"):
                old.unlink()

        def setup() -> List[tidelog.Log]:
            close_all()
            open_logs.extend(
                tidelog.Log.create(
                    self.path("pair.tlog"), self.capacity(n // 2), segment_size=8 << 20, durability="explicit"
                )
                for _ in range(2)
            )
            return list(open_logs)

        def run_one_thread(logs: object) -> int:
            assert isinstance(logs, list)
            for log, recs in zip(logs, half):
                log.extend(recs)
            return total

        def run_two_threads(logs: object) -> int:
            assert isinstance(logs, list)
            ts = [threading.Thread(target=log.extend, args=(recs,)) for log, recs in zip(logs, half)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            return total

        # The control, run in the same turns: work that releases the GIL for sure (hashlib
        # hashes buffers over 2 KiB without it) on two threads against one — the parallelism
        # this machine offers at that moment (other processes may hold a core).
        blob = b"\x5a" * (16 << 20)

        def hash_blobs(k: int) -> None:
            for _ in range(k):
                hashlib.sha256(blob).digest()

        def run_hash_two(_: object) -> int:
            ts = [threading.Thread(target=hash_blobs, args=(4,)) for _ in range(2)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            return 8

        def run_hash_one(_: object) -> int:
            hash_blobs(8)
            return 8

        none = lambda: None  # noqa: E731
        t_two, t_one, h_two, h_one = race(
            rep,
            [(setup, run_two_threads), (setup, run_one_thread), (none, run_hash_two), (none, run_hash_one)],
        )
        close_all()
        self.parallelism = (t_one / t_two, h_one / h_two)
        self.row(
            f"extend into 2 logs: {total:,} records, no sync (records/s)",
            "the same on 1 thread",
            total / t_two,
            total / t_one,
            "rec/s",
        )

    # 2. Single appends.

    def appends(self) -> None:
        rep, n = self.repeat, min(self.n, self.single)
        recs = self.records[:n]

        def setup_log() -> tidelog.Log:
            return self.new_log(n, "explicit")

        def run_log(log: object) -> int:
            assert isinstance(log, tidelog.Log)
            append = log.append
            for r in recs:
                append(r)
            return n

        def setup_file() -> object:
            return open(self.path("single.frames"), "wb")

        def run_file(f: object) -> int:
            w, pack = f.write, FRAME.pack  # type: ignore[attr-defined]
            for r in recs:
                w(pack(len(r)) + r)
            return n

        t_log, t_file = race(rep, [(setup_log, run_log), (setup_file, run_file)])
        label = f"single append() calls: {n:,} in a Python loop (calls/s)"
        self.row(label, "f.write per record", n / t_log, n / t_file, "calls/s")
        self.per_call = (t_log / n * 1e6, t_file / n * 1e6)

    # 3. Iteration.

    def iteration(self) -> None:
        rep, n = self.repeat, self.n

        def run_log(_: object) -> int:
            count = 0
            with tidelog.Log.open(self.bulk_log, read_only=True) as log:
                for _off, _rec in log:
                    count += 1
            assert count == n
            return count

        def run_sqlite(_: object) -> int:
            count = 0
            con = sqlite3.connect(self.bulk_sqlite)
            for _id, _data in con.execute("SELECT id, data FROM log ORDER BY id"):
                count += 1
            con.close()
            assert count == n
            return count

        def run_file(_: object) -> int:
            count = 0
            unpack = FRAME.unpack
            with open(self.bulk_file, "rb") as f:
                read = f.read
                while True:
                    h = read(4)
                    if not h:
                        break
                    read(unpack(h)[0])
                    count += 1
            assert count == n
            return count

        none = lambda: None  # noqa: E731
        t_log, t_sql, t_file = race(rep, [(none, run_log), (none, run_sqlite), (none, run_file)])
        label = f"iteration: {n:,} records read back in order (records/s)"
        self.row(label, "sqlite3 SELECT", n / t_log, n / t_sql, "rec/s")
        self.row(label, "framed file read loop", n / t_log, n / t_file, "rec/s")

    # 4. Durable appends.

    def durable(self) -> None:
        rep, n, threads = self.repeat, self.durable_n, 4
        recs = self.records[:n]

        def setup_log() -> tidelog.Log:
            return self.new_log(n, "every_write")

        def run_log(log: object) -> int:
            assert isinstance(log, tidelog.Log)
            for r in recs:
                log.append(r)
            log.close()
            return n

        def setup_sqlite() -> Path:
            p = self.path("durable.sqlite")
            con = sqlite3.connect(p)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            con.commit()
            con.close()
            return p

        def sqlite_conn(p: Path) -> sqlite3.Connection:
            con = sqlite3.connect(p, isolation_level=None, timeout=60, check_same_thread=False)
            con.execute("PRAGMA synchronous=FULL")
            return con

        def run_sqlite(p: object) -> int:
            assert isinstance(p, Path)
            con = sqlite_conn(p)
            for r in recs:
                con.execute("INSERT INTO log (data) VALUES (?)", (r,))
            con.close()
            return n

        def setup_file() -> object:
            return open(self.path("durable.frames"), "wb")

        def run_file(f: object) -> int:
            w, flush, fd, pack = f.write, f.flush, f.fileno(), FRAME.pack  # type: ignore[attr-defined]
            for r in recs:
                w(pack(len(r)) + r)
                flush()
                os.fdatasync(fd)
            f.close()  # type: ignore[attr-defined]
            return n

        t_log, t_sql, t_file = race(
            rep, [(setup_log, run_log), (setup_sqlite, run_sqlite), (setup_file, run_file)]
        )
        label = f"durable appends: {n:,}, each synced before the next (appends/s)"
        self.row(label, "sqlite3 synchronous=FULL", n / t_log, n / t_sql, "appends/s")
        self.row(label, "f.write + fdatasync", n / t_log, n / t_file, "appends/s")

        def on_threads(work: Callable[[int], None]) -> None:
            ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()

        per = n // threads

        def run_log_mt(log: object) -> int:
            assert isinstance(log, tidelog.Log)

            def work(k: int) -> None:
                for r in recs[k * per : (k + 1) * per]:
                    log.append(r)

            on_threads(work)
            log.close()
            return per * threads

        def run_sqlite_mt(p: object) -> int:
            assert isinstance(p, Path)
            cons = [sqlite_conn(p) for _ in range(threads)]

            def work(k: int) -> None:
                for r in recs[k * per : (k + 1) * per]:
                    cons[k].execute("INSERT INTO log (data) VALUES (?)", (r,))

            on_threads(work)
            for c in cons:
                c.close()
            return per * threads

        def run_file_mt(f: object) -> int:
            lock = threading.Lock()
            w, flush, fd, pack = f.write, f.flush, f.fileno(), FRAME.pack  # type: ignore[attr-defined]

            def work(k: int) -> None:
                for r in recs[k * per : (k + 1) * per]:
                    with lock:
                        w(pack(len(r)) + r)
                        flush()
                        os.fdatasync(fd)

            on_threads(work)
            f.close()  # type: ignore[attr-defined]
            return per * threads

        t_log, t_sql, t_file = race(
            rep, [(setup_log, run_log_mt), (setup_sqlite, run_sqlite_mt), (setup_file, run_file_mt)]
        )
        label = f"durable appends from {threads} threads: {per * threads:,} (appends/s)"
        self.row(label, "sqlite3 synchronous=FULL", per * threads / t_log, per * threads / t_sql, "appends/s")
        self.row(label, "f.write + fdatasync, locked", per * threads / t_log, per * threads / t_file, "appends/s")

    # Output.

    def report(self, out: Sequence[str]) -> None:
        for line in out:
            print(line)

    def table(self, markdown: bool) -> List[str]:
        def fmt(x: float) -> str:
            return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"

        head = ("workload", "against", "tidelog", "other", "tidelog / other")
        body = [(w, o, fmt(a), fmt(b), f"{a / b:.2f}×") for w, o, a, _u, b in self.rows]
        if markdown:
            lines = ["| " + " | ".join(head) + " |", "|---|---|---:|---:|---:|"]
            lines += ["| " + " | ".join(r) + " |" for r in body]
            return lines
        widths = [max(len(r[i]) for r in [head, *body]) for i in range(5)]
        lines = ["  ".join(h.ljust(widths[i]) if i < 2 else h.rjust(widths[i]) for i, h in enumerate(head))]
        lines.append("  ".join("-" * w for w in widths))
        for r in body:
            lines.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(r)))
        return lines


def disk_of(p: Path) -> str:
    best_mount, dev, fs = "", "?", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and str(p.resolve()).startswith(parts[1]) and len(parts[1]) > len(best_mount):
                    best_mount, dev, fs = parts[1], parts[0], parts[2]
    except OSError:
        pass
    return f"{fs} on {dev} (mounted at {best_mount or '?'})"


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="records of the bulk load and iteration")
    ap.add_argument("--single", type=int, default=200_000, help="single append() calls")
    ap.add_argument("--durable", type=int, default=2000, help="durable appends")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=None, help="where the files go (default: a temporary directory)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args(argv)
    b = Bench(args)
    started = time.perf_counter()
    try:
        b.bulk()
        b.two_logs()
        b.appends()
        b.iteration()
        b.durable()
    finally:
        shutil.rmtree(b.root, ignore_errors=True)
    took = time.perf_counter() - started
    print(f"command: python bindings-py/bench/bench.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(
        f"tidelog {tidelog.__version__} · Python {platform.python_version()} · sqlite {sqlite3.sqlite_version} · "
        f"{platform.machine()}, {os.cpu_count()} CPUs · disk: {disk_of(b.root.parent)} · best of {args.repeat} · {took:.0f} s"
    )
    print()
    b.report(b.table(args.markdown))
    print()
    ours, control = b.parallelism
    print(
        f"two threads, two logs: extend ran {ours:.2f}× as fast as on one thread; in the same turns, "
        f"hashlib.sha256 (which releases the GIL) ran {control:.2f}× as fast on two threads as on one "
        f"(the parallelism the machine offered)"
    )
    us_log, us_file = b.per_call
    print(
        f"per append() call: tidelog {us_log:.2f} µs, f.write {us_file:.2f} µs "
        f"(+{us_log - us_file:.2f} µs per call: the call into the core, its lock, the CRC and a pwrite "
        f"handing the frame to the kernel before append returns; f.write only copies into Python's buffer)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
