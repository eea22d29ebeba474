"""The README's Python example runs (scripts/test-python.sh also runs mypy --strict on it)."""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path

import pytest

from conftest import REPO


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    m = re.search(r"^```python\n(.*?)^```$", text, re.S | re.M)
    assert m, "README.md has no ```python block"
    return m.group(1)


def test_the_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    example = tmp_path / "readme_example.py"
    example.write_text(readme_example())
    shipped = os.environ.get("TIDELOG_README_EXAMPLE")
    if shipped:  # the file mypy checked is this very example
        assert Path(shipped).read_text() == example.read_text()
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(example), run_name="__main__")
