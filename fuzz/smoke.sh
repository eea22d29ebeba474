#!/usr/bin/env bash
# Fuzz smoke run: builds the cargo-fuzz targets (nightly, debug assertions and overflow checks
# on) and runs each for SECONDS (default 30); fails if any target finds a crash, a panic, a
# violation of its checks, a timeout or an out-of-memory.
#
#   bash fuzz/smoke.sh [SECONDS]                   # CI: 30 s per target
#   FUZZ_TARGETS="kv_ops" bash fuzz/smoke.sh 600   # one target, longer
#   FUZZ_JOBS=8 bash fuzz/smoke.sh 3600            # soak: 8 parallel jobs per target, 1 h each
#
# Corpora accumulate in fuzz/corpus/<target>/ (git-ignored); the kept crash inputs in
# core/tests/fuzz_inputs/<target>/ seed every run. A crash leaves its input in
# fuzz/artifacts/<target>/: keep it as a regression (see fuzz/README.md).
# Environment: FUZZ_TARGETS (default: all three), FUZZ_JOBS (default 1), FUZZ_SANITIZER
# (default none: the core forbids unsafe code; `address` for ASan), FUZZ_TARGET_DIR (default
# /var/tmp/tidelog-target-fuzz: instrumented builds stay out of the main target dir).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$here/.."
seconds="${1:-30}"
targets=(${FUZZ_TARGETS:-mount_iter ops_powercut kv_ops})
jobs="${FUZZ_JOBS:-1}"
sanitizer="${FUZZ_SANITIZER:-none}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/tidelog-target-fuzz}"
if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi

# Tools, idempotently: a nightly toolchain and cargo-fuzz.
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "smoke: rustup toolchain install nightly --profile minimal"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "smoke: cargo install cargo-fuzz"
  cargo install cargo-fuzz --locked || cargo install cargo-fuzz
fi

cd "$here"
flags=(-a --sanitizer "$sanitizer")
start=$(date +%s)
cargo +nightly fuzz build "${flags[@]}"
echo "smoke: built in $(( $(date +%s) - start )) s"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "$root/core/tests/fuzz_inputs/$t"
  echo "==> fuzz $t for ${seconds} s (${jobs} job(s))"
  log="$(mktemp)"
  args=(-max_total_time="$seconds" -max_len=4096 -timeout=20 -rss_limit_mb=4096 -print_final_stats=1)
  if [ "$jobs" -gt 1 ]; then args+=(-jobs="$jobs" -workers="$jobs"); fi
  if cargo +nightly fuzz run "${flags[@]}" "$t" "corpus/$t" "$root/core/tests/fuzz_inputs/$t" \
      -- "${args[@]}" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" | sed "s/^/  $t: /" || true
  else
    failed+=("$t")
    grep -E 'violation|panicked|ERROR: libFuzzer|SUMMARY|Test unit written|artifact_prefix' "$log" | head -20 | sed "s/^/  $t: /"
    echo "  $t: full log: $log"
  fi
done
echo "smoke: $(( $(date +%s) - start )) s in total"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "smoke: FAILED: ${failed[*]} (inputs in fuzz/artifacts/<target>/)"
  exit 1
fi
echo "smoke: ok (${targets[*]})"
