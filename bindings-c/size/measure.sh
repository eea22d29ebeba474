#!/usr/bin/env bash
# Code size of the C binding on a Cortex-M4F: builds libtidelog.a for thumbv7em-none-eabihf
# (profile release-lto: opt-level "z", fat LTO, panic = "abort" — what the firmware example
# links), links the C probes of this directory (probe_log.c and probe_log_kv.c do through
# tidelog.h what footprint/'s log and log_kv probes do in Rust; probe_baseline.c holds the
# start-up and the flash stub only) and the QEMU example firmware, and reads each link map:
#
#   code    the probe's .text above probe_baseline's (C and Rust, like footprint/'s figures)
#   Rust    the part of the link that comes from libtidelog.a: the Rust code (core and
#           binding, one LTO object) .text / .rodata, and compiler_builtins (memcpy & co.)
#   vs Rust the probe's code minus footprint/'s probe of the same operations (its
#           `bash footprint/measure.sh --raw` figures)
#
#   bash bindings-c/size/measure.sh             # the table
#   bash bindings-c/size/measure.sh --raw       # one machine-readable line per probe (check.sh)
#   bash bindings-c/size/measure.sh --markdown  # the BENCHMARKS.md section's table, with the
#                                               # probes' code charged to its source lines
#                                               # (attribute.py; needs llvm, installed here)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/scripts/setup.sh"
need_targets thumbv7em-none-eabihf
need_arm_gcc

mode="${1:-table}"
target=thumbv7em-none-eabihf
(cd "$root" && cargo build -q -p tidelog-c --profile release-lto --target "$target")
lib="$CARGO_TARGET_DIR/$target/release-lto/libtidelog.a"
build="$CARGO_TARGET_DIR/tidelog-c-size"
mkdir -p "$build"

arch=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)
cflags=("${arch[@]}" -std=c99 -Wall -Wextra -Werror -pedantic -Os -ffunction-sections -fdata-sections
        -I"$root/bindings-c/include")
ld=(-nostdlib -nostartfiles -T "$root/examples/firmware-qemu/mps2-an386.ld" -Wl,--gc-sections
    -Wl,--no-warn-execstack)
arm-none-eabi-gcc "${cflags[@]}" -c "$here/probe_rt.c" -o "$build/probe_rt.o"
raw=""
for p in probe_baseline probe_log probe_log_kv; do
  arm-none-eabi-gcc "${cflags[@]}" -c "$here/$p.c" -o "$build/$p.o"
  arm-none-eabi-gcc "${arch[@]}" "${ld[@]}" -Wl,-Map="$build/$p.map" "$build/$p.o" "$build/probe_rt.o" \
    "$lib" -lgcc -o "$build/$p.elf"
  raw+="$(python3 "$here/mapsize.py" "$p" "$build/$p.map")"$'\n'
done
# The example firmware (log + KV + the application, newlib over semihosting).
make -s -C "$root/examples/firmware-qemu" BUILD="$build/fw" CARGO_TARGET_DIR="$CARGO_TARGET_DIR" all
raw+="$(python3 "$here/mapsize.py" firmware "$build/fw/fw.map")"$'\n'
# sizeof of the objects on the target (the probes' statics).
sizes="$(arm-none-eabi-nm -S "$build/probe_log_kv.elf" | while read -r _ size _ name; do
  case "$name" in
    log_obj) printf 'sizeof_tl_log_t=%d ' "$((16#$size))" ;;
    kv_obj) printf 'sizeof_tl_kv_t=%d ' "$((16#$size))" ;;
    iter) printf 'sizeof_tl_iter_t=%d ' "$((16#$size))" ;;
  esac
done)"
# footprint/'s Rust probes of the same operations.
fp="$(bash "$root/footprint/measure.sh" --raw)"
# For the BENCHMARKS.md section: which source pays for the probes' code (attribute.py), from
# the same library built with line tables (the code is the same: the check below).
owners=""
if [ "$mode" = --markdown ]; then
  need_apt llvm
  lines=(--config 'profile.c-size-lines.inherits="release-lto"'
         --config 'profile.c-size-lines.debug="line-tables-only"' --profile c-size-lines)
  (cd "$root" && cargo build -q -p tidelog-c --target "$target" "${lines[@]}")
  for p in probe_log probe_log_kv; do
    arm-none-eabi-gcc "${arch[@]}" "${ld[@]}" -Wl,-Map="$build/$p-lines.map" "$build/$p.o" \
      "$build/probe_rt.o" "$CARGO_TARGET_DIR/$target/c-size-lines/libtidelog.a" -lgcc -o "$build/$p-lines.elf"
    a="$(python3 "$here/mapsize.py" "$p" "$build/$p.map" | cut -d' ' -f2-)"
    b="$(python3 "$here/mapsize.py" "$p" "$build/$p-lines.map" | cut -d' ' -f2-)"
    [ "$a" = "$b" ] || { echo "measure: line tables changed the code of $p ($a / $b)" >&2; exit 1; }
    owners+="$(python3 "$here/attribute.py" "$p" "$build/$p-lines.elf")"$'\n'
  done
fi

python3 - "$mode" "$sizes" <<EOF
import sys
mode, sizes = sys.argv[1], sys.argv[2]
owners = {}
for line in """$owners""".strip().splitlines():
    name, *kv = line.split()
    owners[name.replace("probe_", "c_")] = {k: int(v) for k, v in (x.split("=") for x in kv)}
rows = {}
for line in """$raw""".strip().splitlines():
    name, *kv = line.split()
    rows[name] = {k: int(v) for k, v in (x.split("=") for x in kv)}
fp = {}
for line in """$fp""".strip().splitlines():
    name, *kv = line.split()
    fp[name] = {k: int(v) for k, v in (x.split("=", 1) for x in kv if not x.startswith("info:"))}
code = lambda d: d["rust_text"] + d["builtins_text"] + d["c_text"]
ro = lambda d: d["rust_rodata"] + d["c_rodata"]
base = rows["probe_baseline"]
out = {}
for probe, ref in (("probe_log", "log"), ("probe_log_kv", "log_kv")):
    d = rows[probe]
    name = probe.replace("probe_", "c_")
    out[name] = dict(
        code=code(d) - code(base), rodata=ro(d) - ro(base), rust_text=d["rust_text"],
        rust_rodata=d["rust_rodata"], builtins=d["builtins_text"],
        rust_probe=fp[ref]["text"] - fp["baseline"]["text"])
fw = rows["firmware"]
sz = dict(x.split("=") for x in sizes.split())
if mode == "--raw":
    for n, d in out.items():
        print(n, " ".join(f"{k}={v}" for k, v in d.items()))
    print("firmware", f"rust_text={fw['rust_text']} rust_rodata={fw['rust_rodata']} "
          f"builtins={fw['builtins_text']} c_text={fw['c_text']}", sizes.strip())
    sys.exit(0)
lines = []
lines.append('C binding on thumbv7em-none-eabihf (libtidelog.a, profile release-lto: opt-level "z", '
             'fat LTO, panic=abort), bytes')
lines.append("")
lines.append(f"{'link':<16} {'code':>7} {'rodata':>7}   {'Rust .text':>10} {'Rust .rodata':>12} "
             f"{'builtins':>8}   {'Rust probe':>10} {'C over Rust':>11}")
for n, d in out.items():
    lines.append(f"{n:<16} {d['code']:>7} {d['rodata']:>7}   {d['rust_text']:>10} {d['rust_rodata']:>12} "
                 f"{d['builtins']:>8}   {d['rust_probe']:>10} {d['code'] - d['rust_probe']:>+11}")
lines.append(f"{'firmware-qemu':<16} {'':>7} {'':>7}   {fw['rust_text']:>10} {fw['rust_rodata']:>12} "
             f"{fw['builtins_text']:>8}   (+ {fw['c_text']} B of C: the application, newlib, printf)")
lines.append("")
lines.append(f"RAM on the target: sizeof(tl_log_t) = {sz.get('sizeof_tl_log_t')} B, sizeof(tl_kv_t) = "
             f"{sz.get('sizeof_tl_kv_t')} B, sizeof(tl_iter_t) = {sz.get('sizeof_tl_iter_t')} B "
             "(the log holds 16 consumer cursors)")
lines.append("code = .text above probe_baseline (start-up, flash stub, memcpy/memset); Rust probe = "
             "footprint/'s log / log_kv .text above its baseline")
if owners:
    lines.append("of the probes' code, lines of bindings-c/src (and nothing of core/src) = "
                 + ", ".join(f"{n}: {o['binding']} B" for n, o in owners.items())
                 + "; lines of core/src = "
                 + ", ".join(f"{n}: {o['core']} B" for n, o in owners.items())
                 + " (bindings-c/size/attribute.py)")
text = "\n".join(lines)
if mode == "--markdown":
    fence = chr(96) * 3
    print(fence + "text\n" + text + "\n" + fence)
else:
    print(text)
EOF
