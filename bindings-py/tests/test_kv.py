"""tidelog.KV: a MutableMapping[bytes, bytes] over a file; atomic batches; compaction."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Dict, Iterator, cast

import pytest

import tidelog


@pytest.fixture
def kv(tmp_path: Path) -> Iterator[tidelog.KV]:
    k = tidelog.KV.create(tmp_path / "s.tkv", 64 << 10, max_key_len=32, max_value_len=200)
    yield k
    if not k.closed:
        k.close()


def test_mutable_mapping(kv: tidelog.KV) -> None:
    assert isinstance(kv, MutableMapping)
    assert len(kv) == 0 and list(kv) == [] and not kv
    kv[b"wifi.ssid"] = b"workshop"
    kv[bytearray(b"b")] = memoryview(b"xyz")
    kv[b"a"] = b""
    assert kv[b"wifi.ssid"] == b"workshop" and kv[b"b"] == b"xyz" and kv[b"a"] == b""
    assert list(kv) == [b"a", b"b", b"wifi.ssid"], "ascending keys"
    assert list(kv.values()) == [b"", b"xyz", b"workshop"]
    assert list(kv.items())[0] == (b"a", b"")
    assert b"a" in kv and b"zz" not in kv and cast(object, "a") not in kv
    assert kv.get(b"zz") is None and kv.get(b"zz", b"d") == b"d"
    with pytest.raises(KeyError):
        kv[b"zz"]
    del kv[b"a"]
    with pytest.raises(KeyError):
        del kv[b"a"]
    assert kv.pop(b"b") == b"xyz"
    assert kv.setdefault(b"n", b"1") == b"1"
    assert kv == {b"wifi.ssid": b"workshop", b"n": b"1"}
    assert repr(kv).endswith("keys=2>")


def test_update_and_set_multiple_are_atomic_batches(kv: tidelog.KV) -> None:
    kv.update({b"fw.version": b"1.4.2", b"fw.slot": b"B"})
    kv.update([(b"x", b"1"), (b"x", b"2")])  # later pairs win
    kv.set_multiple([(b"y", b"3")])
    assert dict(kv) == {b"fw.slot": b"B", b"fw.version": b"1.4.2", b"x": b"2", b"y": b"3"}
    before = dict(kv)
    with pytest.raises(tidelog.TooLargeError):
        kv.update({b"ok": b"v", b"too-long-value": b"v" * 201})
    assert dict(kv) == before, "a refused batch writes nothing"
    with pytest.raises(TypeError):
        kv.update(key=b"v")
    with pytest.raises(TypeError, match="pair"):
        kv.set_multiple([b"not a pair"])  # type: ignore[list-item]
    kv.apply(set={b"z": b"9"}, delete=[b"x", b"y"])
    assert dict(kv) == {b"fw.slot": b"B", b"fw.version": b"1.4.2", b"z": b"9"}
    kv.clear()
    assert len(kv) == 0


def test_limits_and_types(kv: tidelog.KV) -> None:
    with pytest.raises(tidelog.TooLargeError):
        kv[b"k" * 33] = b"v"
    with pytest.raises(tidelog.TooLargeError):
        kv[b"k"] = b"v" * 201
    with pytest.raises(TypeError):
        kv["str key"] = b"v"  # type: ignore[index]
    with pytest.raises(TypeError):
        kv[b"k"] = "str value"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        kv[None]  # type: ignore[index]


def test_compaction_and_the_high_water_flag(tmp_path: Path) -> None:
    kv = tidelog.KV.create(tmp_path / "hw.tkv", 8192, high_water_percent=50, erase_size=1024)
    gen = kv.stats().generation
    for i in range(500):
        kv[b"key%d" % (i % 5)] = b"value %d" % i
    st = kv.stats()
    assert st.generation > gen, "crossing the mark compacted"
    assert st.live_keys == 5 and not kv.high_water_mark_triggered
    kv.compact()
    assert kv.stats().generation == st.generation + 1
    # Fill with live keys until even the compacted map is over the mark.
    with pytest.raises(tidelog.FullError):
        for i in range(10_000):
            kv[b"live%05d" % i] = b"v" * 100
    assert kv.high_water_mark_triggered
    kv.close()


def test_reopen_and_close(tmp_path: Path) -> None:
    p = tmp_path / "r.tkv"
    with tidelog.KV.create(p, 64 << 10, durability="explicit") as kv:
        kv[b"a"] = b"1"
        kv.sync()
        assert kv.durability == "explicit" and kv.path == str(p) and not kv.read_only
    assert kv.closed
    for call in (lambda: kv[b"a"], lambda: len(kv), lambda: kv.close(), lambda: list(kv)):
        with pytest.raises(tidelog.ClosedError):
            call()
    with tidelog.KV.open(p) as again:
        assert dict(again) == {b"a": b"1"}
    with tidelog.KV.open(p, read_only=True) as ro:
        with pytest.raises(tidelog.StorageReadOnlyError):
            ro[b"b"] = b"2"
    with pytest.raises(TypeError):
        tidelog.KV(object())  # type: ignore[arg-type]


def test_iteration_sees_writes_in_key_order(kv: tidelog.KV) -> None:
    for k in [b"c", b"a", b"e"]:
        kv[k] = k
    it = iter(kv)
    assert next(it) == b"a"
    kv[b"0"] = b"0"  # before the cursor (the last key returned): not seen
    kv[b"b"] = b"b"  # after it: seen
    del kv[b"e"]
    assert list(it) == [b"b", b"c"]


def test_a_log_file_is_not_a_kv(tmp_path: Path) -> None:
    p = tmp_path / "log.tlog"
    tidelog.Log.create(p, 64 << 10).close()
    with pytest.raises(tidelog.NotFormattedError):
        tidelog.KV.open(p)
    kvp = tmp_path / "kv.tkv"
    tidelog.KV.create(kvp, 64 << 10).close()
    with pytest.raises(tidelog.NotFormattedError):
        tidelog.Log.open(kvp)


def test_a_model_of_random_operations(tmp_path: Path) -> None:
    import random

    rng = random.Random(5)
    kv = tidelog.KV.create(tmp_path / "m.tkv", 16 << 10, erase_size=1024, max_key_len=8, max_value_len=40)
    model: Dict[bytes, bytes] = {}
    for step in range(3000):
        k = b"k%d" % rng.randrange(30)
        op = rng.random()
        if op < 0.6:
            v = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
            kv[k] = v
            model[k] = v
        elif op < 0.8:
            assert (k in kv) == (k in model)
            if k in model:
                del kv[k]
                del model[k]
        elif op < 0.9:
            pairs = {b"k%d" % rng.randrange(30): b"%d" % step for _ in range(3)}
            kv.update(pairs)
            model.update(pairs)
        else:
            kv.close()
            kv = tidelog.KV.open(tmp_path / "m.tkv")
        if step % 100 == 0:
            assert dict(kv.items()) == model
    assert dict(kv) == model and list(kv) == sorted(model)
    kv.close()
