"""Shared fixtures. The tests run against the *installed* package (scripts/test-python.sh
installs the wheel into a fresh venv and runs pytest from a temporary directory with
``--import-mode=importlib``): the first check below refuses a tidelog imported from the
source tree."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
# The tests' own helper module (`support.py`) sits next to this file.
sys.path.insert(0, str(HERE))

import tidelog  # noqa: E402

REPO = Path(os.environ.get("TIDELOG_REPO", HERE.parents[1])).resolve()
# The conformance reader (tests/conformance/read_images.py), shared with test_conformance.py.
sys.path.insert(0, str(REPO / "tests" / "conformance"))


def pytest_configure(config: pytest.Config) -> None:
    source = (REPO / "bindings-py" / "python").resolve()
    installed = Path(tidelog.__file__).resolve()
    if source in installed.parents:
        raise pytest.UsageError(
            f"tidelog was imported from the source tree ({installed}); run the tests against "
            "the installed wheel (bash scripts/test-python.sh)"
        )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A path for a new log file."""
    return tmp_path / "test.tlog"


@pytest.fixture
def log(path: Path) -> Iterator[tidelog.Log]:
    """A new 1 MiB log (explicit durability), closed after the test."""
    lg = tidelog.Log.create(path, 1 << 20, durability="explicit")
    yield lg
    if not lg.closed:
        lg.close()


@pytest.fixture
def golden_dir() -> Path:
    d = REPO / "tests" / "golden"
    assert d.is_dir(), f"no golden images at {d}"
    return d
