#!/usr/bin/env bash
# The Python binding's tests, run against what a user installs: the abi3 wheel built by
# maturin, installed into a fresh venv (nothing from the source tree is importable there).
#
#   1. maturin build --profile release-py  -> one cp39-abi3 wheel
#   2. a throwaway venv gets the wheel (its dependency from the local wheelhouse, offline);
#      the test tools (pytest, hypothesis, mypy) are seen through a .pth file pointing at the
#      tools venv, which never holds tidelog
#   3. mypy --strict on the tests, the benchmark and the README's Python example
#   4. pytest (from a temporary directory, --import-mode=importlib), then a smoke run of
#      bindings-py/bench/bench.py (tiny sizes: it must run; no timing is checked)
#   5. `pip install ./bindings-py` in a second throwaway venv (the PEP 517 path a user takes,
#      build backend from the wheelhouse), then the installed `tidelog` command runs
#
# Sourced helpers come from scripts/setup.sh; caches live under /var/tmp (see setup.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=setup.sh
source "$here/setup.sh"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

need_py_venv
need_py_wheelhouse

work_root="${TIDELOG_PY_WORK:-/var/tmp/tidelog-py}"
dist="$work_root/dist"
mkdir -p "$work_root"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tidelog-py-test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

t0=$SECONDS
echo "python: building the wheel (maturin build --profile release-py)"
rm -rf "$dist"
if ! nice -n 10 timeout 1200 "$TIDELOG_VENV/bin/maturin" build --profile release-py \
    --manifest-path bindings-py/Cargo.toml --out "$dist" >"$tmp/build.log" 2>&1; then
  tail -n 60 "$tmp/build.log" >&2
  exit 1
fi
wheel=$(ls "$dist"/tidelog-*-cp39-abi3-*.whl)
echo "python: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB, $((SECONDS - t0)) s)"

# A fresh venv with the wheel; its dependencies come from the wheelhouse (offline).
venv="$tmp/venv"
"$TIDELOG_PY" -m venv --without-pip "$venv"
py="$venv/bin/python"
setup_quiet "$TIDELOG_PY" -m pip --python "$py" install --disable-pip-version-check --no-input \
  --no-index --find-links "$TIDELOG_PY_WHEELHOUSE" "$wheel"
# The test tools, without installing them into the venv under test.
site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
tools_site=$("$TIDELOG_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$tools_site" >"$site/zz-tidelog-test-tools.pth"
if "$TIDELOG_PY" -c 'import tidelog' >/dev/null 2>&1; then
  echo "python: the tools venv $TIDELOG_VENV must not hold tidelog" >&2
  exit 1
fi

# The README's Python example (the first ```python block), for mypy and for the test that
# runs it.
example="$tmp/readme_example.py"
awk '/^```python$/ { on = 1; next } on && /^```$/ { exit } on { print }' README.md >"$example"
[ -s "$example" ] || { echo "python: no \`\`\`python block in README.md" >&2; exit 1; }

echo "python: mypy --strict (tests, benchmark, README example)"
(cd "$tmp" && MYPYPATH="$repo/tests/conformance" timeout 600 "$py" -m mypy --strict --cache-dir "$work_root/mypy-cache" \
  --no-error-summary "$repo/bindings-py/tests" "$repo/bindings-py/bench" "$example") || {
  echo "python: mypy --strict failed" >&2
  exit 1
}

echo "python: pytest against the installed wheel"
(cd "$tmp" && TIDELOG_REPO="$repo" TIDELOG_README_EXAMPLE="$example" \
  timeout 1200 "$py" -m pytest -p no:cacheprovider --import-mode=importlib -q \
  "$repo/bindings-py/tests")

echo "python: the benchmark runs (a small smoke run; its figures are in BENCHMARKS.md)"
(cd "$tmp" && timeout 300 "$py" "$repo/bindings-py/bench/bench.py" --records 2000 --single 200 \
  --durable 20 --repeat 1 --dir "$tmp" >"$tmp/bench.log" 2>&1) || {
  tail -n 30 "$tmp/bench.log" >&2
  exit 1
}

echo "python: pip install ./bindings-py (PEP 517 build with maturin) in a fresh venv"
venv2="$tmp/venv-src"
"$TIDELOG_PY" -m venv --without-pip "$venv2"
if ! nice -n 10 timeout 1200 "$TIDELOG_PY" -m pip --python "$venv2/bin/python" install \
    --disable-pip-version-check --no-input --no-index --find-links "$TIDELOG_PY_WHEELHOUSE" \
    ./bindings-py >"$tmp/pip-src.log" 2>&1; then
  tail -n 60 "$tmp/pip-src.log" >&2
  exit 1
fi
(cd "$tmp" && "$venv2/bin/tidelog" --version &&
  "$venv2/bin/python" -c 'import tidelog, sys; assert tidelog.__file__.startswith(sys.prefix), tidelog.__file__')
echo "python: done in $((SECONDS - t0)) s"
