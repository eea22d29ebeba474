#!/usr/bin/env bash
# Builds the code-size probes for thumbv7em-none-eabihf (opt-level "z", fat LTO, panic=abort,
# one codegen unit) and prints, per probe, its sections minus the empty baseline's, plus the
# RAM size of the types it holds (size_of on the target, recorded by the probe itself).
#
#   bash footprint/measure.sh            # the table
#   bash footprint/measure.sh --raw      # one machine-readable line per probe (check.sh)
#
# Probes: baseline (start-up + flash stub only), log (tidelog: mount/format, append, read,
# iterate, trim, sync), log_kv (log + the KV journal: set/get/delete/set_multiple/compact),
# peer_queue / peer_map (sequential-storage 8 queue / map over the same stub).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../scripts/setup.sh"
need_targets thumbv7em-none-eabihf

target=thumbv7em-none-eabihf
probes=(baseline log log_kv peer_queue peer_map)

(cd "$here" && cargo build -q --release --target "$target" --bins)
bin_dir="$CARGO_TARGET_DIR/$target/release"
elfs=()
for p in "${probes[@]}"; do elfs+=("$bin_dir/$p"); done
raw="$(python3 "$here/elfsize.py" "${elfs[@]}")"

if [ "${1:-}" = "--raw" ]; then
  printf '%s\n' "$raw"
  exit 0
fi

field() { # field LINE KEY
  local kv
  for kv in $1; do
    [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }
  done
  echo 0
}

base="$(grep '^baseline ' <<<"$raw")"
printf 'Code size on %s (opt-level "z", LTO, panic=abort), bytes above the baseline\n' "$target"
printf '(baseline: start-up, vector table, panic handler, flash stub, memcpy/memset = %s B .text)\n\n' \
  "$(field "$base" text)"
printf '%-11s %8s %8s %8s %8s %8s  %s\n' probe .text .rodata .data .bss flash 'RAM (size_of on target)'
while read -r line; do
  name="${line%% *}"
  [ "$name" = baseline ] && continue
  t=$(( $(field "$line" text) - $(field "$base" text) ))
  r=$(( $(field "$line" rodata) - $(field "$base" rodata) ))
  d=$(( $(field "$line" data) - $(field "$base" data) ))
  b=$(( $(field "$line" bss) - $(field "$base" bss) ))
  info=""
  for kv in $line; do
    case "$kv" in info:*) kv="${kv#info:}"; info+="${kv%%=*} = ${kv#*=} B; " ;; esac
  done
  printf '%-11s %8d %8d %8d %8d %8d  %s\n' "$name" "$t" "$r" "$d" "$b" $(( t + r + d )) "${info%; }"
done <<<"$raw"
printf '\nflash = .text + .rodata + .data; targets: log .text <= 9216, log_kv .text <= 15854 (the peer queue + map together)\n'
