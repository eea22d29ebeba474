"""The installed package: metadata, typing marker, the console script, the doctest."""

from __future__ import annotations

import doctest
import importlib.metadata
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import tidelog
import tidelog._tidelog


def test_version_comes_from_cargo_and_matches_the_metadata() -> None:
    assert tidelog.__version__ == importlib.metadata.version("tidelog")
    assert tidelog.__version__.count(".") == 2


def test_format_versions() -> None:
    assert tidelog.FORMAT_VERSION == 1
    assert tidelog.KV_FORMAT_VERSION == 1
    assert tidelog.MAX_CONSUMERS == 16
    assert tidelog.MAX_CONSUMER_NAME == 32


def test_the_package_is_installed_with_its_stubs_and_typing_marker() -> None:
    pkg = Path(tidelog.__file__).parent
    assert Path(sysconfig.get_paths()["purelib"]) in pkg.parents or Path(
        sysconfig.get_paths()["platlib"]
    ) in pkg.parents
    for name in ("py.typed", "_tidelog.pyi", "__init__.py", "_errors.py", "_kv.py", "cli.py"):
        assert (pkg / name).is_file(), name
    # One abi3 native module.
    assert Path(tidelog._tidelog.__file__).name.endswith(".abi3.so")


def test_metadata() -> None:
    meta = importlib.metadata.metadata("tidelog")
    assert meta["Name"] == "tidelog"
    assert meta["Requires-Python"] == ">=3.9"
    licence = (meta.get_all("License-Expression") or []) + (meta.get_all("License") or [])
    assert any("MIT" in x for x in licence)
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert any(r.startswith("tqdm") for r in meta.get_all("Requires-Dist") or [])


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "tidelog"
    assert exe.is_file() or shutil.which("tidelog")
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"tidelog {tidelog.__version__}"
    out = subprocess.run(
        [sys.executable, "-m", "tidelog", "--version"], capture_output=True, text=True, check=True
    )
    assert tidelog.__version__ in out.stdout


def test_the_module_docstring_example_runs() -> None:
    result = doctest.testmod(tidelog, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_public_names_are_exported() -> None:
    for name in tidelog.__all__:
        assert hasattr(tidelog, name), name
