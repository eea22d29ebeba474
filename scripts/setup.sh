#!/usr/bin/env bash
# Installs what the demo and the test suite need, idempotently (skips what is present).
# Sourced by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

if ! command -v cargo >/dev/null 2>&1; then
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  else
    echo "setup: cargo not found; install Rust with rustup (https://rustup.rs) first" >&2
    exit 1
  fi
fi

# Compiled artefacts live outside the clone so fresh clones reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/tidelog-target}"

need_components() {
  local missing=()
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || missing+=("$c")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: rustup component add ${missing[*]}"
    rustup component add "${missing[@]}"
  fi
}

need_targets() {
  local installed missing=()
  installed=$(rustup target list --installed 2>/dev/null || true)
  for t in "$@"; do
    grep -qx "$t" <<<"$installed" || missing+=("$t")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: rustup target add ${missing[*]}"
    rustup target add "${missing[@]}"
  fi
}

# shellcheck disable=SC2034 # used by the scripts that source this file
EMBEDDED_TARGETS=(thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf wasm32-unknown-unknown)

# ---------------------------------------------------------------------------------------
# Tools for the bindings' tests (Python, browser/WASM, C/embedded). Nothing below runs on
# its own: test.sh / demo.sh call the need_* functions they use. Each one checks first,
# installs only what is missing (one "setup: ..." line per install action, the tool's own
# output shown only when it fails) and is silent when everything is present.
# Never installed: Debian's binaryen (its wasm-opt 108 breaks wasm-bindgen output), and
# nothing may download its own binaries (no `npx playwright install`, no wasm-pack).

# Pins. The wasm crate pins `wasm-bindgen = "=$WASM_BINDGEN_VERSION"`: the CLI and the
# crate must be the same version. Check new ones with `cargo info CRATE` (`cargo search`
# fails here), `pip index versions PKG`, `npm view PKG version`.
WASM_BINDGEN_VERSION=0.2.130
CBINDGEN_VERSION=0.29.4
TIDELOG_PY_REQUIREMENTS='maturin==1.16.0
pytest==9.2.0
hypothesis==6.170.27
mypy==2.4.1'
TIDELOG_NPM_PACKAGES='playwright-core@1.65.2 binaryen@132.0.0 typescript@5.9.3'

# Shared by every clone on the machine (outside the clone, like CARGO_TARGET_DIR).
export TIDELOG_TOOLS="${TIDELOG_TOOLS:-/var/tmp/tidelog-tools}"  # cargo install --root
export TIDELOG_VENV="${TIDELOG_VENV:-/var/tmp/tidelog-venv}"     # Python venv
export TIDELOG_PY="$TIDELOG_VENV/bin/python"
export TIDELOG_NPM="${TIDELOG_NPM:-/var/tmp/tidelog-npm}"        # npm --prefix
case ":$PATH:" in
  *":$TIDELOG_TOOLS/bin:"*) ;;
  *) export PATH="$TIDELOG_TOOLS/bin:$PATH" ;;
esac

# Runs "$@" with its output in a temporary log; prints the log's tail when it fails.
setup_quiet() {
  local log rc=0
  log=$(mktemp "${TMPDIR:-/tmp}/tidelog-setup.XXXXXX")
  "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "setup: failed (exit $rc): $*" >&2
    tail -n 40 "$log" >&2
  fi
  rm -f "$log"
  return "$rc"
}

# Runs "$@" as root: directly when we are root, else through sudo.
setup_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "setup: must be root (or have sudo) to run: $*" >&2
    return 1
  fi
}

# True when the Debian package is installed (not merely known to dpkg).
setup_have_deb() {
  local status
  status=$(dpkg -s "$1" 2>/dev/null) || return 1
  grep -qx 'Status: install ok installed' <<<"$status"
}

# apt-get update, once per shell (or again with "force", after adding a source).
SETUP_APT_UPDATED=""
setup_apt_update() {
  if [ -z "$SETUP_APT_UPDATED" ] || [ "${1:-}" = force ]; then
    echo "setup: apt-get update"
    setup_quiet setup_root apt-get update
    SETUP_APT_UPDATED=1
  fi
}

# apt-get install [APT-OPTIONS] PKG..., non-interactive, without recommended packages.
setup_apt_install() {
  setup_apt_update
  setup_quiet setup_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@"
}

# need_apt PKG...: installs the Debian packages that are not installed.
need_apt() {
  local p missing=()
  for p in "$@"; do
    setup_have_deb "$p" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: apt-get install ${missing[*]}"
    setup_apt_install "${missing[@]}"
  fi
}

# qemu-system-arm (mps2-an386 runs the thumbv7em firmware tests) without losing qemu-img.
# Debian bookworm's qemu-system-arm 7.2 conflicts with a newer qemu-utils (the image ships
# 10.x from backports): apt removes it, and qemu-img with it. So both come from
# <codename>-backports (a source stanza derived from debian.sources is added when none
# exists); when backports cannot be used, both come from the release itself (qemu-utils
# downgraded to the same 7.2, so qemu-img keeps working).
need_qemu_arm() {
  if setup_have_deb qemu-system-arm && setup_have_deb qemu-utils; then
    return 0
  fi
  local codename="" bpo src=/etc/apt/sources.list.d/tidelog-backports.sources
  # shellcheck source=/dev/null
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || true
  codename=${codename:-bookworm}
  bpo="$codename-backports"
  if ! grep -rqs -- "$bpo" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    local uris="" key=""
    if [ -r /etc/apt/sources.list.d/debian.sources ]; then
      # The stanza of the release itself (Suites: <codename> ...), not the security one.
      uris=$(awk -v c="$codename" 'BEGIN { RS = ""; FS = "\n" }
        { s = ""; u = ""
          for (i = 1; i <= NF; i++) { if ($i ~ /^Suites:/) s = $i; if ($i ~ /^URIs:/) u = $i }
          if ((" " s " ") ~ (" " c " ")) { sub(/^URIs:[ \t]*/, "", u); print u; exit } }' \
        /etc/apt/sources.list.d/debian.sources)
      key=$(awk -v c="$codename" 'BEGIN { RS = ""; FS = "\n" }
        { s = ""; k = ""
          for (i = 1; i <= NF; i++) { if ($i ~ /^Suites:/) s = $i; if ($i ~ /^Signed-By:/) k = $i }
          if ((" " s " ") ~ (" " c " ")) { sub(/^Signed-By:[ \t]*/, "", k); print k; exit } }' \
        /etc/apt/sources.list.d/debian.sources)
    fi
    uris=${uris:-http://deb.debian.org/debian}
    key=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
    echo "setup: adding $bpo to apt sources ($src)"
    printf '%s\n' "# Added by tidelog scripts/setup.sh (need_qemu_arm), derived from debian.sources." \
      "Types: deb" "URIs: $uris" "Suites: $bpo" "Components: main" "Signed-By: $key" |
      setup_root tee "$src" >/dev/null
    setup_apt_update force
  fi
  echo "setup: apt-get install -t $bpo qemu-system-arm qemu-utils"
  if ! setup_apt_install -t "$bpo" qemu-system-arm qemu-utils; then
    echo "setup: $bpo failed; apt-get install qemu-system-arm qemu-utils/$codename (QEMU 7.2)"
    setup_apt_install --allow-downgrades qemu-system-arm "qemu-utils/$codename"
  fi
}

# arm-none-eabi-gcc and newlib (links the C binding's firmware for QEMU).
need_arm_gcc() {
  need_apt gcc-arm-none-eabi libnewlib-arm-none-eabi
}

# /usr/bin/chromium and /usr/bin/chromedriver (browser tests, driven by playwright-core or
# wasm-bindgen-test-runner).
need_chromium() {
  need_apt chromium chromium-driver
}

# nats-server (run with -js for JetStream; tests start their own on 127.0.0.1).
need_nats_server() {
  need_apt nats-server
}

# need_cargo_tool NAME VERSION [BIN]: cargo install NAME at exactly VERSION into
# $TIDELOG_TOOLS, unless `BIN --version` (BIN defaults to NAME) already prints VERSION.
need_cargo_tool() {
  local name="$1" version="$2" bin="${3:-$1}" out=""
  if command -v "$bin" >/dev/null 2>&1; then
    out=$("$bin" --version 2>/dev/null || true)
    if grep -qE "(^|[[:space:]]|v)${version//./\\.}([[:space:]]|$)" <<<"$out"; then
      return 0
    fi
  fi
  # No CARGO_TARGET_DIR: cargo install then builds in a temporary directory it removes,
  # instead of filling the project's shared target directory.
  echo "setup: cargo install $name --version $version --root $TIDELOG_TOOLS"
  if ! setup_quiet env -u CARGO_TARGET_DIR \
      cargo install "$name" --version "$version" --root "$TIDELOG_TOOLS" --locked; then
    echo "setup: cargo install --locked failed; retrying without --locked"
    setup_quiet env -u CARGO_TARGET_DIR \
      cargo install "$name" --version "$version" --root "$TIDELOG_TOOLS"
  fi
}

need_wasm_bindgen() {
  need_cargo_tool wasm-bindgen-cli "$WASM_BINDGEN_VERSION" wasm-bindgen
}

need_cbindgen() {
  need_cargo_tool cbindgen "$CBINDGEN_VERSION"
}

# The venv at $TIDELOG_VENV with $TIDELOG_PY_REQUIREMENTS; reinstalls only when the pins
# change (a stamp in the venv holds their checksum) or the venv's Python no longer runs.
need_py_venv() {
  local stamp="$TIDELOG_VENV/.tidelog-requirements.sha256" sum
  sum=$(printf '%s\n' "$TIDELOG_PY_REQUIREMENTS" | sha256sum | cut -d' ' -f1)
  if "$TIDELOG_PY" -c '' >/dev/null 2>&1; then
    [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ] && return 0
  else
    echo "setup: python3 -m venv $TIDELOG_VENV"
    if ! setup_quiet python3 -m venv --clear "$TIDELOG_VENV"; then
      need_apt python3-venv  # Debian's python3 ships venv/ensurepip separately
      setup_quiet python3 -m venv --clear "$TIDELOG_VENV"
    fi
  fi
  printf '%s\n' "$TIDELOG_PY_REQUIREMENTS" >"$TIDELOG_VENV/tidelog-requirements.txt"
  echo "setup: pip install ${TIDELOG_PY_REQUIREMENTS//$'\n'/ }"
  setup_quiet "$TIDELOG_PY" -m pip install --disable-pip-version-check --no-input \
    -r "$TIDELOG_VENV/tidelog-requirements.txt"
  echo "$sum" >"$stamp"
}

# $TIDELOG_PY_WHEELHOUSE: wheels of what installing the Python package needs from PyPI — the
# build backend (maturin, for `pip install ./bindings-py`) and the package's dependency (tqdm)
# — so installs into throwaway venvs run offline (`pip install --no-index --find-links`).
# Downloads again only when the pins change.
TIDELOG_PY_WHEELHOUSE_PINS='maturin==1.16.0
tqdm==4.70.1'
export TIDELOG_PY_WHEELHOUSE="${TIDELOG_PY_WHEELHOUSE:-/var/tmp/tidelog-py-wheelhouse}"
need_py_wheelhouse() {
  need_py_venv
  local stamp="$TIDELOG_PY_WHEELHOUSE/.tidelog-pins.sha256" sum
  sum=$(printf '%s\n' "$TIDELOG_PY_WHEELHOUSE_PINS" | sha256sum | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ] && return 0
  mkdir -p "$TIDELOG_PY_WHEELHOUSE"
  printf '%s\n' "$TIDELOG_PY_WHEELHOUSE_PINS" >"$TIDELOG_PY_WHEELHOUSE/pins.txt"
  echo "setup: pip download ${TIDELOG_PY_WHEELHOUSE_PINS//$'\n'/ } -d $TIDELOG_PY_WHEELHOUSE"
  setup_quiet "$TIDELOG_PY" -m pip download --disable-pip-version-check --no-input \
    --only-binary=:all: -d "$TIDELOG_PY_WHEELHOUSE" -r "$TIDELOG_PY_WHEELHOUSE/pins.txt"
  echo "$sum" >"$stamp"
}

# $TIDELOG_NPM/node_modules with $TIDELOG_NPM_PACKAGES (playwright-core drives
# /usr/bin/chromium; binaryen's wasm-opt is $TIDELOG_NPM/node_modules/.bin/wasm-opt).
# Reinstalls only when the pins change. --ignore-scripts: no package may download anything.
need_npm_tools() {
  local stamp="$TIDELOG_NPM/.tidelog-packages.sha256" sum
  sum=$(printf '%s\n' "$TIDELOG_NPM_PACKAGES" | sha256sum | cut -d' ' -f1)
  if [ -d "$TIDELOG_NPM/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || need_apt nodejs npm
  mkdir -p "$TIDELOG_NPM"
  echo "setup: npm install --prefix $TIDELOG_NPM $TIDELOG_NPM_PACKAGES"
  # shellcheck disable=SC2086 # the package list is split on purpose
  setup_quiet npm install --prefix "$TIDELOG_NPM" --save-exact --ignore-scripts \
    --no-audit --no-fund --loglevel=error $TIDELOG_NPM_PACKAGES
  echo "$sum" >"$stamp"
}
