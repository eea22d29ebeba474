#!/usr/bin/env bash
# Miri (the undefined-behaviour interpreter) over the core's tests that can run under it.
#
#   bash scripts/miri.sh
#
# The core is #![forbid(unsafe_code)]; Miri checks that nothing it calls into (core/alloc,
# crc, heapless, embedded-storage) misbehaves on our inputs, and runs every test with
# overflow and debug-assertion checks, interpreted.
#
# Runs: the unit tests (--lib) but those that touch real files, the doctests of the modules,
# and the integration tests that are quick under the interpreter: scenarios, golden,
# kv_golden, fuzz_regressions (crash inputs only, not the deep seeds), footprint.
# Skipped, with the reason:
#   power_cut, kv_power_cut, model, kv_model, bitflip, kv_bitflip, garbage — hundreds of
#     thousands of operations (property tests and sweeps): hours under Miri; they exercise
#     the same code paths as the tests that do run.
#   file_storage, file_crash, group, the unit tests under group:: and storage::file, and the
#     README doctests (core/src/lib.rs: some open a FileStorage; the RamStorage one is what
#     scenarios covers) — FileStorage preallocates with fallocate(2), which Miri does not
#     support.
# Needs the nightly toolchain with the miri and rust-src components (installed if missing).
# MIRIFLAGS defaults to -Zmiri-disable-isolation: golden, kv_golden and fuzz_regressions read
# their inputs from tests/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/setup.sh"
cd "$here/.."

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "miri: rustup toolchain install nightly --profile minimal"
  rustup toolchain install nightly --profile minimal
fi
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^miri'; then
  echo "miri: rustup component add miri rust-src --toolchain nightly"
  rustup component add miri rust-src --toolchain nightly
fi
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
cargo +nightly miri setup -q 2>/dev/null || cargo +nightly miri setup

step() { printf '\n==> %s\n' "$*"; }
step "miri: unit tests"
cargo +nightly miri test -p tidelog --all-features --lib -- --skip group:: --skip storage::file
step "miri: doctests"
cargo +nightly miri test -p tidelog --all-features --doc -- --skip core/src/lib.rs
step "miri: quick integration tests"
cargo +nightly miri test -p tidelog --all-features \
  --test scenarios --test golden --test kv_golden --test fuzz_regressions --test footprint
