#!/usr/bin/env bash
# The C binding's code-size regression test, like footprint/check.sh: fails when a probe's
# code (bindings-c/size/measure.sh: .text above the baseline probe, thumbv7em-none-eabihf,
# profile release-lto) or the example firmware's Rust .text grows more than 10 % over the
# committed figure in bindings-c/size/baseline.txt. Sizes are deterministic for a toolchain and
# lockfile, so this is a test, not a timing. After an intended change, update baseline.txt in
# the same commit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
raw="$(bash "$here/measure.sh" --raw)"
bash "$here/measure.sh" | sed 's/^/  /'   # the table, for the log (cached builds: quick)

value_of() { # value_of LINE-NAME KEY
  local line kv
  line="$(grep "^$1 " <<<"$raw")" || { echo "check: no figures for $1" >&2; exit 1; }
  for kv in $line; do
    [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }
  done
  echo "check: no $2 for $1" >&2
  exit 1
}
status=0
checked=0
while IFS='=' read -r key committed; do
  case "$key" in ''|'#'*) continue ;; esac
  case "$key" in
    c_log_code) now="$(value_of c_log code)" ;;
    c_log_kv_code) now="$(value_of c_log_kv code)" ;;
    firmware_rust_text) now="$(value_of firmware rust_text)" ;;
    *) echo "check: unknown figure $key in baseline.txt" >&2; exit 1 ;;
  esac
  limit=$(( committed + committed / 10 ))
  checked=$((checked + 1))
  if [ "$now" -gt "$limit" ]; then
    echo "FAIL c size: $key is $now B, more than 10 % over the committed $committed B (limit $limit B)"
    status=1
  elif [ $(( now * 10 )) -lt $(( committed * 9 )) ]; then
    echo "ok   c size: $key is $now B (committed $committed B): more than 10 % smaller — lower it in bindings-c/size/baseline.txt"
  else
    echo "ok   c size: $key is $now B (committed $committed B, limit $limit B)"
  fi
done < "$here/baseline.txt"
[ "$checked" -gt 0 ] || { echo "check: no figures in baseline.txt" >&2; exit 1; }
exit "$status"
