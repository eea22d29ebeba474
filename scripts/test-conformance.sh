#!/usr/bin/env bash
# One format everywhere, proved across languages (scripts/test.sh calls it after the bindings'
# own runs; it also runs on its own and builds what it needs, from caches when they are warm).
#
#   1. Every conformance scenario (tests/conformance) run by every runner — Rust (VecStorage),
#      C (the host libtidelog.a, RAM flash), Python (the wheel, in a fresh venv), the browser
#      (the npm tarball installed into a fresh directory, headless Chromium) — each language's
#      images compared byte for byte with Rust's (the first differing byte named with its
#      FORMAT.md field), then every language reads every other language's images and must
#      find exactly what the .expect says.
#   2. A round trip across real boundaries: the QEMU firmware's flash (several boots, power
#      cuts) is dumped; Python opens the log partition (open_image) and the `tidelog` command
#      verifies and dumps it (--json); the browser opens it (Log.fromImage), appends a batch and
#      exports the image; Python appends to a copy of that; the C host library mounts the
#      result; at every step the contents are compared with the previous step's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=setup.sh
source "$here/setup.sh"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
start=$SECONDS

need_apt gcc
need_targets thumbv7em-none-eabihf
need_arm_gcc
need_qemu_arm
need_py_venv
need_py_wheelhouse
need_targets wasm32-unknown-unknown
need_wasm_bindgen
need_chromium
need_npm_tools

sub() { printf '  -- %s\n' "$*"; }
work="$(mktemp -d "${TMPDIR:-/tmp}/tidelog-conformance.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# ---- what each language ships, installed as a user would ----
conformance=(cargo run -q --release -p tidelog --all-features --example conformance --)
cargo build -q --release -p tidelog --all-features --example conformance
cargo build -q -p tidelog-c --release
cbin="$work/c"
mkdir -p "$cbin"
for t in conformance dump_image; do
  gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -Ibindings-c/include -Ibindings-c/tests \
    "bindings-c/tests/$t.c" bindings-c/tests/flash.c "$CARGO_TARGET_DIR/release/libtidelog.a" \
    -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o "$cbin/$t"
done
dist="$work/dist"
if ! nice -n 10 timeout 1200 "$TIDELOG_VENV/bin/maturin" build --profile release-py \
    --manifest-path bindings-py/Cargo.toml --out "$dist" >"$work/wheel.log" 2>&1; then
  tail -n 40 "$work/wheel.log" >&2
  exit 1
fi
venv="$work/venv"
"$TIDELOG_PY" -m venv --without-pip "$venv"
setup_quiet "$TIDELOG_PY" -m pip --python "$venv/bin/python" install --disable-pip-version-check \
  --no-input --no-index --find-links "$TIDELOG_PY_WHEELHOUSE" "$dist"/tidelog-*.whl
py="$venv/bin/python"
# pytest from the tools venv (which never holds tidelog), seen through a .pth file.
site=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$TIDELOG_PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' >"$site/zz-tidelog-test-tools.pth"
tidelog_cli="$venv/bin/tidelog"
(cd "$work" && "$py" -c 'import tidelog, sys; assert tidelog.__file__.startswith(sys.prefix)')
timeout 600 bash bindings-wasm/build.sh "$work/npm" >"$work/npm.log" || { cat "$work/npm.log" >&2; exit 1; }
mkdir "$work/app"
(cd "$work/app" && printf '{"name":"tidelog-conformance","private":true,"type":"module"}\n' >package.json &&
  timeout 120 npm install --offline --no-audit --no-fund --ignore-scripts --loglevel=error "$work"/npm/tidelog-*.tgz >/dev/null)
pkg="$work/app/node_modules/tidelog"
story=(timeout 300 node scripts/browser/story.mjs)
"$TIDELOG_VENV/bin/python" -m mypy --strict --no-error-summary --cache-dir "$work/mypy" \
  tests/conformance/read_images.py --python-executable "$py"

# ---- 1. the scenarios, every runner, every reader ----
sub "conformance scenarios: each runner's images (Rust, C, Python, browser)"
scenarios=()
for f in tests/conformance/scenarios/*.tls; do scenarios+=("$(basename "$f" .tls)"); done
img="$work/images"
mkdir -p "$work/c-reread"
mkdir -p "$img/rust" "$img/c" "$img/python"
"${conformance[@]}" run "$img/rust" | tail -n 1
"$cbin/conformance" tests/conformance/scenarios "$img/c" "${scenarios[@]}" | tail -n 1
(cd "$work" && TIDELOG_REPO="$repo" TIDELOG_CONFORMANCE_OUT="$img/python" timeout 600 "$py" -m pytest \
  -p no:cacheprovider --import-mode=importlib -q "$repo/bindings-py/tests/test_conformance.py" | tail -n 1)
timeout 600 node bindings-wasm/tests/browser.mjs --package "$pkg" --conformance-out "$img/browser" \
  --only "conformance scenarios" | tail -n 1
langs=(rust c python browser)
sub "byte for byte against the Rust runner's images"
for l in "${langs[@]}"; do
  [ "$l" = rust ] && continue
  printf '  %-8s ' "$l:"
  "${conformance[@]}" compare "$img/rust" "$img/$l" | tail -n 1
done
sub "every language reads every other language's images (contents, cursors, KV, length, CRC)"
for l in "${langs[@]}"; do
  printf '  %-23s' "Rust reads $l:"
  "${conformance[@]}" check "$img/$l" | tail -n 1
  printf '  %-23s' "C reads $l:"
  TIDELOG_CONFORMANCE_READ="$img/$l" "$cbin/conformance" tests/conformance/scenarios "$work/c-reread" \
    "${scenarios[@]}" 2>"$work/c-read.err" | tail -n 1 || { cat "$work/c-read.err" >&2; exit 1; }
  printf '  %-23s' "Python reads $l:"
  (cd "$work" && "$py" "$repo/tests/conformance/read_images.py" "$img/$l")
  printf '  %-23s' "browser reads $l:"
  names=$(IFS=,; echo "${scenarios[*]}")
  "${story[@]}" read --package "$pkg" --images "$img/$l" --names "$names" >"$work/browser-read-$l.json"
  (cd "$work" && "$py" "$repo/tests/conformance/read_images.py" "$img/$l" --reader-json "$work/browser-read-$l.json")
done

# ---- 2. the round trip ----
sub "round trip: QEMU firmware -> Python (open_image, tidelog verify, dump --json) -> browser appends, exports -> Python appends -> C mounts"
fw_build="$CARGO_TARGET_DIR/tidelog-c-fw"
make -s -C examples/firmware-qemu BUILD="$fw_build" CARGO_TARGET_DIR="$CARGO_TARGET_DIR" all
ws=8 es=4096 sectors=16
dev="$work/device.img"
for boot in 1 2 3; do
  out="$(timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
    -semihosting-config "enable=on,target=native,arg=fw,arg=$dev,arg=$ws,arg=$es,arg=$sectors,arg=$boot,arg=4" \
    -kernel "$fw_build/fw.elf")" || { printf '%s\n' "$out"; echo "FAIL: firmware boot $boot" >&2; exit 1; }
  echo "  QEMU boot $boot: $(grep -E '^saved' <<<"$out" | sed -E 's/^saved [^;]*; //' | cut -c1-100)"
done
# The firmware's partition table: the log in the first 3/4 of the sectors, the KV after.
kv_sectors=$((sectors / 4 < 2 ? 2 : sectors / 4))
log_bytes=$(((sectors - kv_sectors) * es))
head -c "$log_bytes" "$dev" >"$work/log.img"
tail -c +"$((log_bytes + 1))" "$dev" >"$work/kv.img"
sha_before=$(sha256sum "$work/log.img" | cut -d' ' -f1)
(cd "$work" && "$tidelog_cli" verify -q log.img >verify.txt) || { cat "$work/verify.txt"; exit 1; }
echo "  tidelog verify: $(tail -n 1 "$work/verify.txt" | cut -c1-100)"
(cd "$work" && "$tidelog_cli" dump --json log.img >dump.jsonl)
"$py" - "$work" <<'EOF'
import json, sys
from pathlib import Path
import tidelog
w = Path(sys.argv[1])
with tidelog.open_image(w / "log.img") as log:
    records = [(o, bytes(r)) for o, r in log]
    uploader = log.consumers().get("uploader")
    first, nxt = log.first_offset, log.next_offset
dumped = [json.loads(line) for line in (w / "dump.jsonl").read_text().splitlines()]
assert [(d["offset"], bytes.fromhex(d["hex"])) for d in dumped] == records, "dump --json differs from open_image"
assert records and [o for o, _ in records] == list(range(first, nxt)), (first, nxt, len(records))
for o, r in records:  # the firmware's reading: 16 B, its own offset first
    assert len(r) == 16 and int.from_bytes(r[:4], "little") == o & 0xFFFFFFFF, o
with tidelog.open_kv_image(w / "kv.img") as kv:
    boots = int.from_bytes(kv[b"boots"], "little")
print(f"  Python: {len(records)} readings at offsets {first}..{nxt}, uploader at {uploader}, "
      f"KV boots {boots}; dump --json agrees record for record")
(w / "device.json").write_text(json.dumps({"records": [[o, r.hex()] for o, r in records], "next": nxt,
                                           "consumers": [["uploader", uploader]]}))
EOF
"${story[@]}" roundtrip --package "$pkg" --image "$work/log.img" --out "$work/browser.img" --append 3 >"$work/browser.json"
"$py" - "$work" <<'EOF'
import json, sys
from pathlib import Path
import tidelog
w = Path(sys.argv[1])
device, browser = json.loads((w / "device.json").read_text()), json.loads((w / "browser.json").read_text())
assert [[o, bytes(r).hex()] for o, r in browser["records"]] == device["records"], "the browser read other records"
assert browser["at"] == device["next"], (browser["at"], device["next"])
assert browser["consumers"] == device["consumers"], (browser["consumers"], device["consumers"])
records = [(o, bytes.fromhex(h)) for o, h in device["records"]]
records += [(browser["at"] + i, b.encode()) for i, b in enumerate(browser["batch"])]
with tidelog.open_image(w / "browser.img") as log:
    assert [(o, bytes(r)) for o, r in log] == records, "Python reads the browser's export differently"
print(f"  browser: Log.fromImage read the {len(device['records'])} readings and the cursor; appended "
      f"{len(browser['batch'])} at offset {browser['at']}; Python reads its exportImage() exactly")
# Python appends to a copy of the browser's export (the raw image opened as a log file).
(w / "appended.img").write_bytes((w / "browser.img").read_bytes())
with tidelog.Log.open(w / "appended.img") as log:
    added = [b"from python %d" % i for i in range(5)]
    at = log.append_batch(added)
    log.sync()
with tidelog.open_image(w / "appended.img") as log:
    after = [(o, bytes(r)) for o, r in log]
    consumers = list(log.consumers().items())
assert after == records + list(zip(range(at, at + 5), added)), "append"
lines = [f"first {after[0][0]}", f"next {after[-1][0] + 1}"]
lines += [f"record {o} {r.hex() or '-'}" for o, r in after]
lines += [f"consumer {n} {o}" for n, o in consumers]
(w / "appended.python.txt").write_text("\n".join(lines) + "\n")
print(f"  Python: appended a batch of 5 at offset {at} to a copy; {len(after)} records now")
EOF
[ "$(sha256sum "$work/log.img" | cut -d' ' -f1)" = "$sha_before" ] || { echo "FAIL: reading changed the dump" >&2; exit 1; }
"$cbin/dump_image" "$work/appended.img" "$ws" "$es" uploader >"$work/appended.c.txt"
if ! diff -q "$work/appended.python.txt" "$work/appended.c.txt" >/dev/null; then
  diff "$work/appended.python.txt" "$work/appended.c.txt" | head -n 10 >&2
  echo "FAIL: the C library reads the appended image differently from Python" >&2
  exit 1
fi
echo "  C: tl_log_mount of the appended copy: $(grep -c '^record' "$work/appended.c.txt") records, cursors and bytes as Python reads them"
echo "  conformance: all checks passed in $((SECONDS - start)) s"
