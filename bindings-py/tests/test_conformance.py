"""The conformance scenarios (tests/conformance/, its README has the formats) through the
installed wheel, on files: every operation's result is the one in the committed ``.expect``
(written by the Rust runner), the log and KV end with the expected contents, and the final
images have the expected length and CRC-32C — the same bytes as the Rust core on
``VecStorage``. ``Log.create``/``KV.create`` get each scenario's device geometry through
``write_size=`` and ``erase_size=``.

With ``TIDELOG_CONFORMANCE_OUT`` set, the final images are also written there
(``NAME.log.bin``, ``NAME.kv.bin``), for ``conformance -- compare RUST_DIR THAT_DIR``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Literal, Optional, Tuple, Union

import pytest

import tidelog
from conftest import REPO
from read_images import state_lines
from support import unhex

SCENARIOS = REPO / "tests" / "conformance" / "scenarios"
NAMES = sorted(p.stem for p in SCENARIOS.glob("*.tls"))

POLICIES: Dict[str, Literal["reject", "overwrite_oldest"]] = {
    "reject": "reject",
    "overwrite": "overwrite_oldest",
}

Result = Union[Tuple[Literal["ok"], Optional[int]], Tuple[Literal["err"], str]]


def fill(length: int, seed: int) -> bytes:
    """The script format's fill function: byte i of seed s is (s*31 + i*7 + i//256) mod 256."""
    return bytes((seed * 31 + i * 7 + (i >> 8)) % 256 for i in range(length))


class Runner:
    """Runs one script on files in `root`, recording each operation's result."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.log: Optional[tidelog.Log] = None
        self.kv: Optional[tidelog.KV] = None
        self.policy: Literal["reject", "overwrite_oldest"] = "reject"
        self.high_water = 75
        self.results: List[Tuple[int, Result]] = []

    @property
    def log_path(self) -> Path:
        return self.root / "log.tlog"

    @property
    def kv_path(self) -> Path:
        return self.root / "kv.tkv"

    def the_log(self) -> tidelog.Log:
        assert self.log is not None, "the script has no `log` line"
        return self.log

    def the_kv(self) -> tidelog.KV:
        assert self.kv is not None, "the script has no `kv` line"
        return self.kv

    def run(self, script: str) -> None:
        for number, raw in enumerate(script.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            f = line.split(" ")
            if f[0] == "log":
                ws, es, cap, sectors, interval, maxrec = (int(x) for x in f[1:7])
                self.policy = POLICIES[f[7]]
                self.log = tidelog.Log.create(
                    self.log_path,
                    cap,
                    segment_size=sectors * es,
                    index_interval=interval,
                    max_record_size=maxrec,
                    full_policy=self.policy,
                    durability="explicit",
                    write_size=ws,
                    erase_size=es,
                )
                continue
            if f[0] == "kv":
                ws, es, cap, maxkey, maxvalue, self.high_water = (int(x) for x in f[1:7])
                self.kv = tidelog.KV.create(
                    self.kv_path,
                    cap,
                    max_key_len=maxkey,
                    max_value_len=maxvalue,
                    high_water_percent=self.high_water,
                    durability="explicit",
                    write_size=ws,
                    erase_size=es,
                )
                continue
            try:
                value = self.step(f)
            except tidelog.Error as e:
                self.results.append((number, ("err", e.code_name)))
            else:
                self.results.append((number, ("ok", value)))

    def step(self, f: List[str]) -> Optional[int]:
        op = f[0]
        if op == "append":
            return self.the_log().append(unhex(f[1]))
        if op == "append_fill":
            return self.the_log().append(fill(int(f[1]), int(f[2])))
        if op == "batch":
            return self.the_log().append_batch([unhex(h) for h in f[1:]])
        if op == "batch_fill":
            count, length, seed = int(f[1]), int(f[2]), int(f[3])
            return self.the_log().append_batch([fill(length, seed + k) for k in range(count)])
        if op == "sync":
            self.the_log().sync()
        elif op == "commit":
            self.the_log().commit(f[1], int(f[2]))
        elif op == "rewind":
            self.the_log().rewind(f[1], int(f[2]))
        elif op == "remove":
            self.the_log().remove_consumer(f[1])
        elif op == "trim":
            self.the_log().trim_front(int(f[1]))
        elif op == "truncate":
            self.the_log().truncate_back(int(f[1]))
        elif op == "reopen":
            self.the_log().close()
            self.log = tidelog.Log.open(self.log_path, durability="explicit", full_policy=self.policy)
        elif op == "kv_set":
            self.the_kv()[unhex(f[1])] = unhex(f[2])
        elif op == "kv_set_multiple":
            self.the_kv().set_multiple([(unhex(k), unhex(v)) for k, v in zip(f[1::2], f[2::2])])
        elif op == "kv_delete":
            key = unhex(f[1])
            kv = self.the_kv()
            if key in kv:
                del kv[key]
                return 1
            return 0
        elif op == "kv_compact":
            self.the_kv().compact()
        elif op == "kv_reopen":
            self.the_kv().close()
            self.kv = tidelog.KV.open(
                self.kv_path, durability="explicit", high_water_percent=self.high_water
            )
        else:
            raise AssertionError(f"unknown operation {op!r}")
        return None


def expect_text(r: Runner, log_image: Optional[bytes], kv_image: Optional[bytes]) -> List[str]:
    """The `.expect` lines for what the runner did (the format the Rust runner writes): the
    results, then the state read back from the images (tests/conformance/read_images.py, the
    reader that also checks the other languages' images)."""
    lines = []
    for number, (kind, value) in r.results:
        lines.append(f"result {number} {kind}" + ("" if value is None else f" {value}"))
    return lines + state_lines(log_image, kv_image)


def test_there_are_scenarios() -> None:
    assert len(NAMES) >= 10, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_scenario_gives_the_rust_results_and_bytes(name: str, tmp_path: Path) -> None:
    r = Runner(tmp_path)
    r.run((SCENARIOS / f"{name}.tls").read_text())
    images: Dict[str, Optional[bytes]] = {"log": None, "kv": None}
    if r.log is not None:
        r.log.close()
        images["log"] = r.log_path.read_bytes()
    if r.kv is not None:
        r.kv.close()
        images["kv"] = r.kv_path.read_bytes()
    out = os.environ.get("TIDELOG_CONFORMANCE_OUT")
    if out:
        for kind, image in images.items():
            if image is not None:
                Path(out).mkdir(parents=True, exist_ok=True)
                (Path(out) / f"{name}.{kind}.bin").write_bytes(image)
    got = expect_text(r, images["log"], images["kv"])
    want = (SCENARIOS / f"{name}.expect").read_text().splitlines()
    for g, w in zip(got, want):
        assert g == w, f"{name}: got {g!r}, the Rust runner wrote {w!r}"
    assert len(got) == len(want), f"{name}: {len(got)} lines, the Rust runner wrote {len(want)}"
