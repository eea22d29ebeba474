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

EMBEDDED_TARGETS=(thumbv6m-none-eabi thumbv7em-none-eabihf riscv32imc-unknown-none-elf wasm32-unknown-unknown)
