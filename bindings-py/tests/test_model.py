"""A stateful property test against a pure-Python model of the log: appends, batches, extends,
trims, truncations, commits, rewinds and reopens, each checked against the model (offsets,
every record, every consumer). A second run against a log with a planted off-by-one proves the
model catches it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Protocol, Tuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

import tidelog

records = st.binary(max_size=48)
names = st.sampled_from(["uploader", "audit", "ü-consumer"])


class LogLike(Protocol):
    """What the machine uses of a log (so a mutant can stand in)."""

    @property
    def first_offset(self) -> int: ...
    @property
    def next_offset(self) -> int: ...
    def append(self, data: bytes) -> int: ...
    def append_batch(self, records: Iterable[bytes]) -> int: ...
    def extend(self, records: Iterable[bytes]) -> int: ...
    def trim_front(self, offset: int) -> None: ...
    def truncate_back(self, length: int) -> None: ...
    def commit(self, name: str, offset: int) -> None: ...
    def rewind(self, name: str, offset: int) -> None: ...
    def committed(self, name: str) -> Optional[int]: ...
    def consumers(self) -> Dict[str, int]: ...
    def read(self, offset: int) -> bytes: ...
    def iter(self, start: Optional[int] = None, stop: Optional[int] = None) -> Iterable[Tuple[int, bytes]]: ...
    def close(self) -> None: ...


class Opened:
    """Opens logs for the machine; the mutant overrides it."""

    def create(self, path: Path) -> LogLike:
        return tidelog.Log.create(path, 1 << 20, segment_size=16 << 10, durability="explicit")

    def open(self, path: Path) -> LogLike:
        return tidelog.Log.open(path, durability="explicit")


class LogMachine(RuleBasedStateMachine):
    opener: Opened = Opened()

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="tidelog-model-"))
        self.path = self.dir / "model.tlog"
        self.log = self.opener.create(self.path)
        self.model: List[bytes] = []  # every record ever at offsets 0..next
        self.first = 0
        self.committed: Dict[str, int] = {}

    @property
    def next(self) -> int:
        return len(self.model)

    def teardown(self) -> None:
        try:
            self.log.close()
        except tidelog.ClosedError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(data=records)
    def append(self, data: bytes) -> None:
        assert self.log.append(data) == self.next
        self.model.append(data)

    @rule(batch=st.lists(records, min_size=1, max_size=6))
    def append_batch(self, batch: List[bytes]) -> None:
        assert self.log.append_batch(batch) == self.next
        self.model.extend(batch)

    @rule(batch=st.lists(records, max_size=40))
    def extend(self, batch: List[bytes]) -> None:
        assert self.log.extend(batch) == self.next
        self.model.extend(batch)

    @rule(k=st.integers(0, 1000))
    def trim_front(self, k: int) -> None:
        offset = k % (self.next + 2)
        if offset > self.next:
            with pytest.raises(tidelog.OutOfRangeError):
                self.log.trim_front(offset)
            return
        self.log.trim_front(offset)
        self.first = max(self.first, offset)

    @rule(k=st.integers(0, 1000))
    def truncate_back(self, k: int) -> None:
        length = k % (self.next + 2)
        if length > self.next or length < self.first:
            with pytest.raises(tidelog.OutOfRangeError):
                self.log.truncate_back(length)
            return
        self.log.truncate_back(length)
        del self.model[length:]
        for name, off in self.committed.items():
            self.committed[name] = min(off, length)

    @rule(name=names, k=st.integers(0, 1000))
    def commit(self, name: str, k: int) -> None:
        offset = k % (self.next + 2)
        current = self.committed.get(name)
        if offset > self.next:
            with pytest.raises(tidelog.OutOfRangeError):
                self.log.commit(name, offset)
        elif current is not None and offset < current:
            with pytest.raises(tidelog.InvalidArgumentError):
                self.log.commit(name, offset)
        else:
            self.log.commit(name, offset)
            self.committed[name] = offset

    @rule(name=names, k=st.integers(0, 1000))
    def rewind(self, name: str, k: int) -> None:
        offset = k % (self.next + 2)
        if offset > self.next:
            with pytest.raises(tidelog.OutOfRangeError):
                self.log.rewind(name, offset)
        elif offset < self.first:
            with pytest.raises(tidelog.OverwrittenError):
                self.log.rewind(name, offset)
        else:
            self.log.rewind(name, offset)
            self.committed[name] = offset

    @rule()
    def reopen(self) -> None:
        self.log.close()
        self.log = self.opener.open(self.path)

    @precondition(lambda self: self.next > self.first)
    @rule(k=st.integers(0, 1000))
    def read_one(self, k: int) -> None:
        offset = self.first + k % (self.next - self.first)
        assert self.log.read(offset) == self.model[offset]

    @invariant()
    def matches_the_model(self) -> None:
        assert self.log.first_offset == self.first
        assert self.log.next_offset == self.next
        assert list(self.log.iter()) == list(enumerate(self.model))[self.first:]
        assert self.log.consumers() == dict(sorted(self.committed.items()))


MODEL_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TestLogModel = LogMachine.TestCase
TestLogModel.settings = MODEL_SETTINGS


class OffByOne:
    """A log whose truncation keeps one record too many: the bug the model must catch."""

    def __init__(self, log: tidelog.Log) -> None:
        self._log = log

    def __getattr__(self, name: str) -> object:
        return getattr(self._log, name)

    def truncate_back(self, length: int) -> None:
        self._log.truncate_back(min(length + 1, self._log.next_offset))


class MutantOpener(Opened):
    def create(self, path: Path) -> LogLike:
        return OffByOne(tidelog.Log.create(path, 1 << 20, segment_size=16 << 10, durability="explicit"))  # type: ignore[return-value]

    def open(self, path: Path) -> LogLike:
        return OffByOne(tidelog.Log.open(path, durability="explicit"))  # type: ignore[return-value]


class MutantMachine(LogMachine):
    opener = MutantOpener()


def test_the_model_catches_a_planted_off_by_one() -> None:
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        run_state_machine_as_test(
            MutantMachine,
            settings=settings(
                MODEL_SETTINGS,
                max_examples=200,
                print_blob=False,
                report_multiple_bugs=False,
                # A fixed sequence: the mutant must be caught on every run, not most.
                derandomize=True,
                database=None,
            ),
        )
