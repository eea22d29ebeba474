"""Crash safety across processes: SIGKILL a writer at random moments, reopen, and find every
acknowledged record (and no partial batch); a second writer gets LockedError; a read-only
handle opens beside a writer."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import tidelog

WRITER = r"""
import sys, tidelog
path, durability, round_ = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = tidelog.Log.open(path, durability=durability)
out = sys.stdout
seq = 0
while True:
    n = 1 + seq % 4
    batch = [f"{round_}:{seq}:{i}/{n}:".encode() + bytes(seq % 50) for i in range(n)]
    if n == 1:
        first = log.append(batch[0])
    else:
        first = log.append_batch(batch)
    out.write(f"ACK {first} {n} {round_}:{seq}\n")
    out.flush()
    seq += 1
"""

HOLDER = r"""
import sys, tidelog
log = tidelog.Log.open(sys.argv[1])
log.append(b"from the holder")
sys.stdout.write("READY\n"); sys.stdout.flush()
sys.stdin.readline()
"""


def parse(rec: bytes) -> Tuple[str, int, int]:
    head = rec.split(b":", 3)
    batch_id = f"{int(head[0])}:{int(head[1])}"
    i, n = (int(x) for x in head[2].split(b"/"))
    return batch_id, i, n


@pytest.mark.parametrize("durability", ["every_write", "explicit"])
def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path, durability: str) -> None:
    path = tmp_path / "crash.tlog"
    tidelog.Log.create(path, 8 << 20, segment_size=64 << 10).close()
    rng = random.Random(20261207)
    acked: Dict[str, Tuple[int, int]] = {}  # batch id -> (first offset, count)
    rounds = 30  # per durability mode: 60 in all
    for round_ in range(rounds):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), durability, str(round_)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        want = rng.randint(1, 40)
        got = 0
        while got < want:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"writer died: {proc.stderr.read() if proc.stderr else ''}")
            _, at, count, bid = line.split()
            acked[bid] = (int(at), int(count))
            got += 1
        time.sleep(rng.random() * 0.01)
        os.kill(proc.pid, signal.SIGKILL)
        # Acks written before the kill but not read yet count too.
        rest, _ = proc.communicate(timeout=30)
        for line in rest.splitlines():
            if line.startswith("ACK "):
                _, at, count, bid = line.split()
                acked[bid] = (int(at), int(count))
        assert proc.returncode == -signal.SIGKILL

        with tidelog.Log.open(path) as log:  # recovery runs here
            records = list(log)
        # Offsets are dense; every batch is whole; every acknowledged batch is there.
        assert [o for o, _ in records] == list(range(len(records)))
        seen: Dict[str, List[int]] = {}
        sizes: Dict[str, int] = {}
        for _, rec in records:
            bid, i, n = parse(rec)
            seen.setdefault(bid, []).append(i)
            sizes[bid] = n
        for bid, parts in seen.items():
            assert parts == list(range(sizes[bid])), f"batch {bid} is partial after round {round_}"
        for bid, (start, size) in acked.items():
            assert bid in seen, f"acknowledged batch {bid} lost after round {round_}"
            found = [parse(records[start + k][1])[:2] for k in range(size)]
            assert found == [(bid, k) for k in range(size)]


def test_a_second_writer_process_gets_locked_error_and_a_reader_opens_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "locked.tlog"
    tidelog.Log.create(path, 1 << 20).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().strip() == "READY"
        with pytest.raises(tidelog.LockedError) as e:
            tidelog.Log.open(path)
        assert e.value.path == str(path)
        assert "locked by another writer" in str(e.value)
        with tidelog.Log.open(path, read_only=True) as reader:
            assert reader[0] == b"from the holder"
        holder.stdin.write("done\n")
        holder.stdin.flush()
        assert holder.wait(timeout=30) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    with tidelog.Log.open(path) as log:  # the lock went with the process
        assert log.next_offset == 1


def test_kv_second_writer_is_locked_out(tmp_path: Path) -> None:
    path = tmp_path / "s.tkv"
    kv = tidelog.KV.create(path, 64 << 10)
    kv[b"k"] = b"v"
    with pytest.raises(tidelog.LockedError):
        tidelog.KV.open(path)
    with tidelog.KV.open(path, read_only=True) as ro:
        assert ro[b"k"] == b"v"
    kv.close()
    with tidelog.KV.open(path) as again:
        assert again[b"k"] == b"v"
