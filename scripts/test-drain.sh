#!/usr/bin/env bash
# tidelog-drain: builds the release binary a user installs, starts a real nats-server
# (JetStream, 127.0.0.1, random port, temp store; stopped on exit), runs the drain's tests
# against that binary and that server, then a short benchmark run (figures only).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/setup.sh"
cd "$here/.."

need_nats_server

echo "  build: cargo build --release -p tidelog-drain --bins --examples"
cargo build -q --release -p tidelog-drain --bins --examples
export TIDELOG_DRAIN_BIN="$CARGO_TARGET_DIR/release/tidelog-drain"

work=$(mktemp -d "${TMPDIR:-/tmp}/tidelog-drain-test.XXXXXX")
nats_pid=""
cleanup() {
  if [ -n "$nats_pid" ]; then
    kill "$nats_pid" 2>/dev/null || true
    wait "$nats_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# -p -1: a random free port (-p 0 would mean 4222), found in the ports file.
nats-server -a 127.0.0.1 -p -1 -js -sd "$work/store" --ports_file_dir "$work" \
  >"$work/nats-server.log" 2>&1 &
nats_pid=$!
port=""
for _ in $(seq 1 200); do
  ports_file=$(ls "$work"/*.ports 2>/dev/null | head -n 1 || true)
  if [ -n "$ports_file" ]; then
    port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$ports_file")
    [ -n "$port" ] && break
  fi
  sleep 0.05
done
if [ -z "$port" ]; then
  echo "test-drain: nats-server did not start:" >&2
  cat "$work/nats-server.log" >&2
  exit 1
fi
export TIDELOG_NATS_URL="nats://127.0.0.1:$port"
echo "  nats-server $(nats-server --version | sed 's/^nats-server: //') on $TIDELOG_NATS_URL"

# The tests that restart the server or need credentials start their own (same binary).
timeout 600 cargo test -q -p tidelog-drain -- --include-ignored

echo "  bench (short run; the BENCHMARKS.md figures come from the default run):"
timeout 300 "$CARGO_TARGET_DIR/release/examples/bench" --nats "$TIDELOG_NATS_URL" \
  --records 40000 --rounds 1
