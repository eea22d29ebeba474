#!/usr/bin/env bash
# The demo: one log, three worlds, the same bytes.
#
#   bash scripts/demo.sh [OUT_DIR]        # default ./demo-out
#   bash scripts/demo.sh --simulated [IMAGE]
#                                         # the Rust-only run: a simulated device on NOR flash
#                                         # survives 200 power cuts (writes IMAGE, default demo.img)
#
# 1. firmware (C, tidelog.h + libtidelog.a) boots three times in QEMU (Cortex-M4), logging
#    sensor readings to its flash; the power is cut at a random flash operation in every cycle;
# 2. the flash is dumped to a file and split at the firmware's partition table (log | KV);
# 3. the `tidelog` command (Python) shows the log's stats and last records and verifies it;
# 4. a Python gateway takes the dump, reads the firmware's consumer cursor `uploader` and
#    delivers only the readings the device had not uploaded (then commits the cursor);
# 5. the same dump opens in headless Chromium through the npm package (Log.fromImage) and the
#    page's table is printed (and a screenshot saved).
# Every tool the demo needs is installed on first use (scripts/setup.sh), caches in /var/tmp.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=setup.sh
source "$here/setup.sh"
repo="$(cd "$here/.." && pwd)"

if [ "${1:-}" = "--simulated" ]; then
  cd "$repo"
  exec cargo run --release -q -p tidelog --features sim,std --example demo -- "${2:-demo.img}"
fi
out="$(mkdir -p "${1:-demo-out}" && cd "${1:-demo-out}" && pwd)"
cd "$repo"
t0=$SECONDS
bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
quiet() { # quiet LOG CMD...: runs CMD, shows LOG's tail only when it fails
  local log="$1"
  shift
  if ! "$@" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "demo: failed: $*" >&2
    exit 1
  fi
}

printf 'tidelog demo: device (C, QEMU) -> flash dump -> Python -> browser; files in %s\n' "$out"
printf 'setting up (first run: installs tools and builds, a few minutes; later runs: seconds)\n'
need_targets thumbv7em-none-eabihf wasm32-unknown-unknown
need_arm_gcc
need_qemu_arm
need_py_venv
need_py_wheelhouse
browser=""
if [ -d bindings-wasm ]; then
  need_chromium
  need_npm_tools
  need_wasm_bindgen
  browser=1
fi
fw_build="$CARGO_TARGET_DIR/tidelog-demo-fw"
quiet "$out/build-firmware.log" make -C examples/firmware-qemu BUILD="$fw_build" \
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR" all
venv="${TIDELOG_DEMO_VENV:-/var/tmp/tidelog-demo-venv}"
quiet "$out/build-python.log" nice -n 10 "$TIDELOG_VENV/bin/maturin" build --profile release-py \
  --manifest-path bindings-py/Cargo.toml --out "$out/dist"
[ -x "$venv/bin/python" ] || "$TIDELOG_PY" -m venv --without-pip "$venv"
quiet "$out/install-python.log" "$TIDELOG_PY" -m pip --python "$venv/bin/python" install \
  --disable-pip-version-check --no-input --no-index --force-reinstall \
  --find-links "$TIDELOG_PY_WHEELHOUSE" "$out"/dist/tidelog-*.whl
rm -rf "$out/dist"
if [ -n "$browser" ]; then
  quiet "$out/build-browser.log" bash bindings-wasm/build.sh "$CARGO_TARGET_DIR/tidelog-demo-npm"
  # The page uses the package as a user installs it: the npm tarball, in a fresh directory.
  rm -rf "$out/page"
  mkdir -p "$out/page"
  printf '{"name":"tidelog-demo-page","private":true,"type":"module"}\n' >"$out/page/package.json"
  quiet "$out/install-browser.log" npm install --prefix "$out/page" --offline --no-audit --no-fund \
    --ignore-scripts --loglevel=error "$CARGO_TARGET_DIR"/tidelog-demo-npm/tidelog-*.tgz
fi
echo "ready in $((SECONDS - t0)) s"

# ---- 1. the device ----
ws=8 es=4096 sectors=16
flash="$out/flash.img"
rm -f "$flash"
bold "1. A sensor logger on a Cortex-M4 (QEMU mps2-an386) boots 3 times; the power fails in every cycle"
echo "   flash: $sectors sectors of $es B, write unit $ws B; C firmware with tidelog.h + libtidelog.a"
appended=0
for boot in 1 2 3; do
  if ! fw="$(timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
      -semihosting-config "enable=on,target=native,arg=fw,arg=$flash,arg=$ws,arg=$es,arg=$sectors,arg=$((boot + 40)),arg=3" \
      -kernel "$fw_build/fw.elf")"; then
    printf '%s\n' "$fw" >&2
    echo "demo: the firmware reported a violation" >&2
    exit 1
  fi
  printf '%s\n' "$fw" >"$out/boot-$boot.txt"
  cuts=$(grep -c 'power cut at' <<<"$fw" || true)
  n=$(sed -nE 's/.*cut\), ([0-9]+) readings appended.*/\1/p' <<<"$fw")
  appended=$((appended + n))
  printf '   boot %s: power cut %s time(s), %4s readings appended, %s\n' "$boot" "$cuts" "$n" \
    "$(grep -E '^shutdown' <<<"$fw" | sed 's/^shutdown: //')"
done
echo "   every boot checked: no acknowledged batch lost, no torn batch, the cursor where it was committed"

# ---- 2. the dump ----
kv_sectors=$((sectors / 4 < 2 ? 2 : sectors / 4))
log_bytes=$(((sectors - kv_sectors) * es))
head -c "$log_bytes" "$flash" >"$out/log.img"
tail -c +"$((log_bytes + 1))" "$flash" >"$out/kv.img"
bold "2. The flash is dumped: $flash ($(stat -c %s "$flash") B) = log.img ($log_bytes B) + kv.img"

# ---- 3. the CLI ----
bold "3. The tidelog command (pip install ./bindings-py) reads the dump"
(cd "$out" && "$venv/bin/tidelog" stats log.img >stats.txt)
echo "   \$ tidelog stats log.img"
sed 's/^/   /' "$out/stats.txt" | head -n 12
cli_records=$(sed -nE 's/^records +([0-9]+).*/\1/p' "$out/stats.txt")
(cd "$out" && echo "   \$ tidelog tail -n 3 log.img" && "$venv/bin/tidelog" tail -n 3 log.img | sed 's/^/   /')
(cd "$out" && echo "   \$ tidelog verify log.img" && "$venv/bin/tidelog" verify -q log.img | sed 's/^/   /' | tail -n 2)

# ---- 4. Python delivers ----
bold "4. A Python gateway delivers what the device had not uploaded (consumer 'uploader')"
cp "$out/log.img" "$out/gateway.img"
rm -f "$out/delivered.jsonl"
cat >"$out/deliver.py" <<'EOF'
import json, tidelog

# The dump, opened as a log (geometry from the image); the device's own cursor says where to go on.
with tidelog.Log.open("gateway.img") as log, open("delivered.jsonl", "a") as server:
    uploader = log.consumer("uploader")
    start = uploader.position
    sent = 0
    for offset, rec in uploader:             # from the committed position on
        sensor = int.from_bytes(rec[10:12], "little")   # the firmware's 16-byte reading
        value = int.from_bytes(rec[12:16], "little", signed=True)
        server.write(json.dumps({"offset": offset, "sensor": sensor, "value": value}) + "\n")
        sent += 1
    server.flush()
    if sent:
        uploader.commit(offset + 1)          # deliver, then commit
    log.sync()
    print(f"delivered {sent} readings (offsets {start}..{log.next_offset}); uploader now at {uploader.committed}")
EOF
(cd "$out" && sed 's/^/   | /' deliver.py | sed -n '3,16p' && printf '   $ python deliver.py\n   ' && "$venv/bin/python" deliver.py)
(cd "$out" && printf '   run it again: ' && "$venv/bin/python" deliver.py)
records=$(cd "$out" && "$venv/bin/python" -c 'import tidelog; l = tidelog.open_image("log.img"); print(len(l))')

# ---- 5. the browser ----
if [ -n "$browser" ]; then
  bold "5. The same dump in a web page: headless Chromium, the npm package, Log.fromImage"
  timeout 300 node "$repo/scripts/browser/story.mjs" demo --package "$out/page/node_modules/tidelog" \
    --image "$out/log.img" --screenshot "$out/browser.png" >"$out/browser.txt"
  sed 's/^/   /' "$out/browser.txt"
  browser_records=$(sed -nE 's/^browser: ([0-9]+) records.*/\1/p' "$out/browser.txt")
fi

bold "Summary"
echo "   firmware appended $appended readings over 3 boots; the dump holds $records of them (the rest uploaded and trimmed on the device)"
echo "   the same dump, read three ways: tidelog CLI $cli_records records, Python $records$( [ -n "$browser" ] && echo ", browser $browser_records")"
if [ "$cli_records" != "$records" ] || { [ -n "$browser" ] && [ "$browser_records" != "$records" ]; }; then
  echo "demo: the languages disagree" >&2
  exit 1
fi
echo "   Python: $(wc -l <"$out/delivered.jsonl") delivered by the gateway (delivered.jsonl), exactly once: the second run found nothing new"
echo "   files: $out/{flash.img,log.img,kv.img,deliver.py,delivered.jsonl$( [ -n "$browser" ] && echo ",browser.png"),boot-*.txt}"
echo "   done in $((SECONDS - t0)) s"
