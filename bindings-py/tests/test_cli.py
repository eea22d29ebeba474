"""The `tidelog` command, run as the installed console script."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

import tidelog
from support import digest

EXE = str(Path(sys.executable).parent / "tidelog")


def run(*args: str, stdin: Optional[bytes] = None) -> Tuple[int, str, str]:
    p = subprocess.run([EXE, *args], input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


@pytest.fixture
def events(tmp_path: Path) -> Path:
    p = tmp_path / "events.tlog"
    with tidelog.Log.create(p, 256 << 10, segment_size=8192) as log:
        log.extend([f"event {i}".encode() for i in range(100)])
        log.append(b"\x00\x01binary\xff")
        log.commit("uploader", 40)
        log.commit("audit", 101)
    return p


def test_stats(events: Path) -> None:
    before = digest(events)
    rc, out, err = run("stats", str(events))
    assert rc == 0, err
    assert "records     101 (offsets 0..101)" in out
    assert "uploader=40" in out and "recovery    clean" in out
    rc, out, _ = run("stats", "--json", str(events))
    doc = json.loads(out)
    assert doc["kind"] == "log" and doc["records"] == 101
    assert doc["stats"]["next_offset"] == 101 and doc["layout"]["write_size"] == 4
    assert doc["consumers"] == {"audit": 101, "uploader": 40}
    assert doc["recovery"]["is_clean"] is True
    assert digest(events) == before


def test_dump_formats_and_ranges(events: Path) -> None:
    rc, out, _ = run("dump", str(events), "--from", "98", "--to", "101")
    assert rc == 0
    assert out.splitlines() == ["98\t8\tevent 98", "99\t8\tevent 99", "100\t9\t000162696e617279ff"]
    rc, out, _ = run("dump", str(events), "--from", "100", "--format", "text")
    assert out == "100\t9\t\\x00\\x01binary\\xff\n"
    rc, out, _ = run("dump", str(events), "--from", "0", "--to", "2", "--format", "hex")
    assert out.splitlines()[0] == "0\t7\t" + b"event 0".hex()
    p = subprocess.run([EXE, "dump", str(events), "--to", "3", "--format", "raw"], capture_output=True)
    assert p.stdout == b"event 0event 1event 2"
    rc, out, _ = run("dump", "--json", str(events), "--from", "99")
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[0] == {"offset": 99, "len": 8, "hex": b"event 99".hex()}
    rc, _, err = run("dump", str(events), "--from", "500")
    assert rc == 2 and "out of range" in err
    rc, _, err = run("dump", str(events), "--from", "-3")
    assert rc == 2


def test_stdin_image_and_flash_dumps(events: Path, golden_dir: Path) -> None:
    rc, out, _ = run("dump", "-", "--from", "99", "--to", "100", stdin=events.read_bytes())
    assert rc == 0 and out == "99\t8\tevent 99\n"
    for image in sorted(golden_dir.glob("v1_*.bin")):
        rc, out, err = run("stats", "--json", str(image))
        assert rc == 0, err
        doc = json.loads(out)
        assert doc["kind"] == "log"
        rc, out, err = run("verify", str(image))
        assert rc == 0, out + err
    rc, out, _ = run("stats", "-", stdin=(golden_dir / "kv_v1_ws4_e256_basic.bin").read_bytes())
    assert rc == 0 and "KV journal" in out


def test_verify_a_clean_log(events: Path) -> None:
    rc, out, err = run("verify", str(events))
    assert rc == 0
    assert out.strip().endswith("OK: 101 of 101 records readable (offsets 0..101)")
    assert err == "", "no progress bar when stderr is not a terminal"
    rc, out, _ = run("verify", "--json", str(events))
    doc = json.loads(out)
    assert doc["ok"] is True and doc["records_checked"] == 101 and doc["damaged"] == []


def test_verify_reports_damaged_positions_and_exits_non_zero(tmp_path: Path) -> None:
    good = tmp_path / "good.tlog"
    with tidelog.Log.create(good, 256 << 10, segment_size=8192) as log:
        for i in range(400):  # one frame each, over several segments
            log.append(f"event {i:03d} ".encode() * 4)
    data = bytearray(good.read_bytes())
    data[data.index(b"event 017") + 3] ^= 0xFF  # a frame in the first (sealed) segment
    bad = tmp_path / "damaged.tlog"
    bad.write_bytes(data)
    before = digest(bad)
    rc, out, _ = run("verify", str(bad))
    assert rc == 1
    assert "DAMAGED offset" in out and "corrupt data at address 0x" in out
    assert "DAMAGED:" in out.splitlines()[-1]
    rc, out, _ = run("verify", "--json", str(bad))
    doc = json.loads(out)
    assert doc["ok"] is False
    assert [d["first"] for d in doc["damaged"]] == [17]
    frame = doc["damaged"][0]["addr"]  # the damaged frame holds the damaged byte
    assert frame <= data.index(b"event 017") < frame + 64
    assert doc["records_checked"] == 400
    assert 0 < doc["records_damaged"] < 20, "the records after the damage are read again"
    assert doc["recovery"]["is_clean"] is True
    # dump stops at the damage with status 1; nothing was written to the file.
    rc, _, err = run("dump", str(bad))
    assert rc == 1 and "damaged record" in err
    assert digest(bad) == before


def test_verify_shows_a_progress_bar_on_a_terminal(events: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        p = subprocess.Popen([EXE, "verify", str(events)], stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        out, _ = p.communicate(timeout=60)
        chunks = []
        while True:
            r, _, _ = select.select([master], [], [], 0.5)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    bar = b"".join(chunks).decode(errors="replace")
    assert p.returncode == 0
    assert "verify" in bar and "101" in bar and "rec" in bar
    assert b"OK" in out


def test_tail_and_follow(events: Path) -> None:
    rc, out, _ = run("tail", "-n", "2", str(events), "--format", "hex")
    assert out.splitlines() == ["99\t8\t" + b"event 99".hex(), "100\t9\t000162696e617279ff"]
    p = subprocess.Popen(
        [EXE, "tail", "-f", "-n", "1", "--interval", "0.05", str(events)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert p.stdout is not None
        assert p.stdout.readline().startswith("100\t")
        with tidelog.Log.open(events) as log:
            for i in range(3):
                log.append(f"live {i}".encode())
                log.sync()
        got: List[str] = []
        deadline = time.monotonic() + 30
        while len(got) < 3 and time.monotonic() < deadline:
            got.append(p.stdout.readline().strip())
        assert got == ["101\t6\tlive 0", "102\t6\tlive 1", "103\t6\tlive 2"]
    finally:
        p.kill()
        p.wait()
    rc, _, err = run("tail", "-f", "-", stdin=events.read_bytes())
    assert rc == 2 and "standard input" in err


def test_consumers(events: Path) -> None:
    rc, out, _ = run("consumers", str(events))
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "COMMITTED", "LAG"]
    assert lines[1].split() == ["audit", "101", "0"]
    assert lines[2].split() == ["uploader", "40", "61"]
    rc, out, _ = run("consumers", "--json", str(events))
    doc = json.loads(out)
    assert doc["consumers"][1] == {"name": "uploader", "committed": 40, "lag": 61, "overwritten": False}


def test_kv(tmp_path: Path, golden_dir: Path) -> None:
    p = tmp_path / "settings.tkv"
    with tidelog.KV.create(p, 64 << 10) as kv:
        kv.update({b"wifi.ssid": b"workshop", b"fw.slot": b"B", b"blob": b"\x00\xff"})
    rc, out, _ = run("kv", str(p))
    assert out.splitlines() == ["blob\t00ff", "fw.slot\tB", "wifi.ssid\tworkshop"]
    rc, out, _ = run("kv", str(p), "wifi.ssid")
    assert rc == 0 and out == "workshop\n"
    rc, out, _ = run("kv", str(p), "626c6f62", "--hex-key", "--json")
    assert json.loads(out) == {"key_hex": "626c6f62", "value_hex": "00ff"}
    rc, _, err = run("kv", str(p), "missing")
    assert rc == 1 and "no key" in err
    rc, out, _ = run("kv", "--json", str(golden_dir / "kv_v1_ws4_e256_basic.bin"))
    doc = json.loads(out)
    assert doc["stats"]["live_keys"] == 3
    rc, out, _ = run("stats", str(p))
    assert rc == 0 and "KV journal" in out and "keys             3" in out


def test_errors_exit_2_with_a_message(tmp_path: Path) -> None:
    rc, _, err = run("stats", str(tmp_path / "missing"))
    assert rc == 2 and err.startswith("tidelog: ") and "not found" in err
    junk = tmp_path / "junk"
    junk.write_bytes(b"junk" * 1000)
    rc, _, err = run("verify", str(junk))
    assert rc == 2 and "no tidelog image" in err
    rc, _, err = run("nonsense", "x")
    assert rc == 2
    rc, _, err = run("kv", str(tmp_path / "missing"))
    assert rc == 2


def test_a_closed_pipe_is_not_an_error(events: Path) -> None:
    p = subprocess.Popen([EXE, "dump", str(events)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None
    p.stdout.read(10)
    p.stdout.close()
    assert p.wait(timeout=30) == 0
    assert p.stderr is not None and b"Traceback" not in p.stderr.read()
