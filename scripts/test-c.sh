#!/usr/bin/env bash
# The C binding's whole test run (scripts/test.sh calls it; it also runs on its own):
# installs what it needs, checks the committed header against the source, builds libtidelog.a
# for the host, thumbv7em-none-eabihf and thumbv6m-none-eabi, lays out what a user gets
# (include/tidelog.h + lib/libtidelog.a) and runs against that, not the source tree:
#   - the C99 host tests (gcc -std=c99 -Wall -Wextra -Werror -pedantic): every function and
#     status, a power cut at every program/erase, random calls, the conformance scenarios of
#     tests/conformance (results, contents and image bytes as the Rust runner's) — plain, under
#     ASan+UBSan, and under valgrind; the C images compared byte for byte with the Rust
#     runner's and read back by the Rust conformance tool; the README's C example compiled;
#   - the example firmware in QEMU (mps2-an386), several boots in a row continuing from the
#     last image, for three flash geometries (8 B / 4 KiB, the 32-byte ECC unit, 1 B / 256 B),
#     and once on a damaged image, which it must report;
#   - the code-size check (bindings-c/size/check.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/setup.sh"
cd "$here/.."
start=$SECONDS

need_targets thumbv7em-none-eabihf thumbv6m-none-eabi
need_apt gcc valgrind python3
need_arm_gcc
need_qemu_arm
need_cbindgen

sub() { printf '  -- %s\n' "$*"; }

sub "header: bindings-c/include/tidelog.h is what cbindgen $CBINDGEN_VERSION generates"
bash bindings-c/gen-header.sh --check

sub "Rust unit tests (the status table proved complete, object sizes, the header's codes)"
cargo test -q -p tidelog-c 2>&1 | grep -E "^test result" || { cargo test -p tidelog-c; exit 1; }

sub "libtidelog.a for the host, thumbv7em-none-eabihf and thumbv6m-none-eabi"
cargo build -q -p tidelog-c --release
for t in thumbv7em-none-eabihf thumbv6m-none-eabi; do
  cargo build -q -p tidelog-c --profile release-lto --target "$t"
done

# What a user installs: the header and the library, away from the source tree.
dist="$CARGO_TARGET_DIR/tidelog-c-dist"
rm -rf "$dist"
mkdir -p "$dist/include" "$dist/lib"
cp bindings-c/include/tidelog.h "$dist/include/"
cp "$CARGO_TARGET_DIR/release/libtidelog.a" "$dist/lib/"
for t in thumbv7em-none-eabihf thumbv6m-none-eabi; do
  mkdir -p "$dist/lib/$t"
  cp "$CARGO_TARGET_DIR/$t/release-lto/libtidelog.a" "$dist/lib/$t/"
done
# Each firmware library links into a bare-metal image with no symbol missing: the log + KV
# code-size probe, for a Cortex-M0 and a Cortex-M4F.
bare="$CARGO_TARGET_DIR/tidelog-c-bare"
mkdir -p "$bare"
for cpu in "thumbv6m-none-eabi -mcpu=cortex-m0" \
  "thumbv7em-none-eabihf -mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16"; do
  read -r t flags <<<"$cpu"
  for p in probe_rt probe_log_kv; do
    # shellcheck disable=SC2086 # $flags is a list of options
    arm-none-eabi-gcc $flags -mthumb -std=c99 -Wall -Wextra -Werror -pedantic -Os -ffunction-sections \
      -fdata-sections -I"$dist/include" -c "bindings-c/size/$p.c" -o "$bare/$t-$p.o"
  done
  # shellcheck disable=SC2086
  arm-none-eabi-gcc $flags -mthumb -nostdlib -nostartfiles -T examples/firmware-qemu/mps2-an386.ld \
    -Wl,--gc-sections -Wl,--no-warn-execstack "$bare/$t-probe_log_kv.o" "$bare/$t-probe_rt.o" \
    "$dist/lib/$t/libtidelog.a" -lgcc -o "$bare/$t.elf"
  echo "$t: a log + KV image links ($(arm-none-eabi-size "$bare/$t.elf" | awk 'NR == 2 {print $1}') B of code and constants)"
done

# The host library links std: these are what `cargo rustc -p tidelog-c --release --
# --print native-static-libs` names for Linux (README.md, "Using it from C").
host_libs=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)

tests=(test_api test_powercut test_random conformance)
bin="$CARGO_TARGET_DIR/tidelog-c-tests"
mkdir -p "$bin"
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic -g -I"$dist/include" -Ibindings-c/tests)
build_tests() { # build_tests SUFFIX CFLAGS...
  local suffix="$1" t
  shift
  for t in "${tests[@]}"; do
    gcc "${cflags[@]}" "$@" "bindings-c/tests/$t.c" bindings-c/tests/flash.c \
      "$dist/lib/libtidelog.a" "${host_libs[@]}" -o "$bin/$t$suffix"
  done
}
scenarios=()
for f in tests/conformance/scenarios/*.tls; do scenarios+=("$(basename "$f" .tls)"); done
work="$(mktemp -d "${TMPDIR:-/tmp}/tidelog-c.XXXXXX")"
trap 'rm -rf "$work"' EXIT
conf_out="$work/conformance"
mkdir -p "$conf_out"
run_tests() { # run_tests SUFFIX [WRAPPER...]
  local suffix="$1"
  shift
  timeout 600 "$@" "$bin/test_api$suffix" tests/golden | tail -n 1
  timeout 600 "$@" "$bin/test_powercut$suffix" | tail -n 1
  timeout 600 "$@" "$bin/test_random$suffix" "${RANDOM_CALLS:-20000}" "${RANDOM_SEED:-1}" | cut -c1-100
  timeout 600 "$@" "$bin/conformance$suffix" tests/conformance/scenarios "$conf_out" "${scenarios[@]}" | tail -n 1
}

sub "C99 host tests against the installed header and library"
build_tests "" -O2
run_tests ""
# More seeds of the random calls (quick without instrumentation).
for seed in 2 3 4 5 6 7 8 9; do
  timeout 300 "$bin/test_random" 20000 "$seed" >/dev/null
done
echo "test_random: 8 more seeds of 20000 calls: ok"
# The C images against the Rust runner's, byte for byte, and read back by the Rust tool (the
# release build of the examples that scripts/test.sh makes).
conformance=(cargo run -q --release -p tidelog --all-features --example conformance --)
"${conformance[@]}" run "$conf_out/rust" | tail -n 1
"${conformance[@]}" compare "$conf_out/rust" "$conf_out" | tail -n 1
"${conformance[@]}" check "$conf_out" | tail -n 1
# The README's C example compiles against the header as it stands.
readme_c="$bin/readme_example.c"
sed -n '/^```c$/,/^```$/{/^```/d;p}' README.md >"$readme_c"
[ -s "$readme_c" ] || { echo "FAIL README.md has no C example" >&2; exit 1; }
gcc "${cflags[@]}" -c "$readme_c" -o "$bin/readme_example.o"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -std=c99 -Wall -Wextra -Werror -pedantic -Os \
  -I"$dist/include" -c "$readme_c" -o "$bin/readme_example_arm.o"
echo "README.md: the C example compiles (host gcc and arm-none-eabi-gcc, -std=c99 -Wall -Wextra -Werror -pedantic)"

sub "the same under ASan + UBSan"
build_tests .asan -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests .asan

sub "the same under valgrind (memcheck, --error-exitcode=1)"
build_tests .vg -O1
run_tests .vg valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite

sub "example firmware in QEMU (mps2-an386): three boots in a row per geometry, each continuing from the last image"
fw_build="$CARGO_TARGET_DIR/tidelog-c-fw"
make -s -C examples/firmware-qemu BUILD="$fw_build" CARGO_TARGET_DIR="$CARGO_TARGET_DIR" all
images="$work/firmware"
mkdir -p "$images"
run_fw() { # run_fw IMAGE WRITE_SIZE ERASE_SIZE SECTORS SEED -> the firmware's output; its exit code
  timeout 120 qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none \
    -semihosting-config "enable=on,target=native,arg=fw,arg=$1,arg=$2,arg=$3,arg=$4,arg=$5,arg=4" \
    -kernel "$fw_build/fw.elf"
}
for geometry in "8 4096 16" "32 4096 16" "1 256 64"; do
  read -r ws es n <<<"$geometry"
  img="$images/flash-$ws-$es.img"
  for boot in 1 2 3; do
    if ! out="$(run_fw "$img" "$ws" "$es" "$n" "$boot")"; then
      printf '%s\n' "$out"
      echo "FAIL firmware: write unit $ws, sector $es, boot $boot" >&2
      exit 1
    fi
    summary="$(grep -E '^saved' <<<"$out" | sed -E 's/^saved [^;]*; //')"
    echo "  write unit $ws B, sector $es B, QEMU boot $boot: $summary"
  done
done
# A damaged image: a bit flipped in the last record the firmware left un-uploaded. The next
# boot must see it (its checks fail: exit code 1), not read past it.
img="$images/flash-8-4096.img"
out="$(run_fw "$img" 8 4096 16 4)"
last="$(sed -nE 's/^shutdown: log offsets [0-9]+\.\.([0-9]+) .*/\1/p' <<<"$out")"
python3 - "$img" "$last" <<'EOF'
import struct, sys
path, nxt = sys.argv[1], int(sys.argv[2])
img = bytearray(open(path, "rb").read())
want = struct.pack("<I", nxt - 1)
at = -1
for a in range(0, len(img) - 16):
    first, = struct.unpack_from("<I", img, a + 4)
    if img[a:a + 4] == want and nxt - 8 <= first <= nxt - 1:
        at = a
if at < 0:
    sys.exit(f"record {nxt - 1} not found in {path}")
img[at + 13] ^= 0x08
open(path, "wb").write(img)
EOF
if out="$(run_fw "$img" 8 4096 16 5)"; then
  printf '%s\n' "$out"
  echo "FAIL firmware: a damaged image went unnoticed" >&2
  exit 1
else
  rc=$?
  [ "$rc" -eq 1 ] || { printf '%s\n' "$out"; echo "FAIL firmware: exit code $rc on a damaged image, expected 1" >&2; exit 1; }
  echo "  a damaged image: $(grep -m1 -E '^VIOLATION' <<<"$out" | cut -c1-90)... (exit code 1, as it must)"
fi

sub "code size (fails when a figure grows > 10 % over bindings-c/size/baseline.txt)"
bash bindings-c/size/check.sh

echo "  C binding: all checks passed in $((SECONDS - start)) s"
