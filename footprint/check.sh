#!/usr/bin/env bash
# The code-size regression test: fails when a probe's .text (above the empty baseline, on
# thumbv7em-none-eabihf, opt-level "z" + LTO) grows more than 10 % over the committed figure in
# footprint/baseline.txt. Code size is deterministic for a given toolchain and lockfile, so
# this is a test, not a timing. After an intended change, update baseline.txt with the new
# figures (`bash footprint/measure.sh`) in the same commit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
raw="$(bash "$here/measure.sh" --raw)"
bash "$here/measure.sh" | sed 's/^/  /'   # the table, for the log (cached build: instant)

text_of() { # text_of PROBE
  local line kv
  line="$(grep "^$1 " <<<"$raw")" || { echo "check: probe $1 was not built" >&2; exit 1; }
  for kv in $line; do
    [ "${kv%%=*}" = text ] && { echo "${kv#*=}"; return; }
  done
}
base_text="$(text_of baseline)"
status=0
checked=0
while IFS='=' read -r key value; do
  case "$key" in ''|'#'*) continue ;; esac
  probe="${key%_text}"
  committed="$value"
  now=$(( $(text_of "$probe") - base_text ))
  limit=$(( committed + committed / 10 ))
  checked=$((checked + 1))
  if [ "$now" -gt "$limit" ]; then
    echo "FAIL footprint: $probe .text is $now B, more than 10 % over the committed $committed B (limit $limit B)"
    status=1
  elif [ $(( now * 10 )) -lt $(( committed * 9 )) ]; then
    echo "ok   footprint: $probe .text is $now B (committed $committed B): more than 10 % smaller — lower $key in footprint/baseline.txt"
  else
    echo "ok   footprint: $probe .text is $now B (committed $committed B, limit $limit B)"
  fi
done < "$here/baseline.txt"
[ "$checked" -gt 0 ] || { echo "check: no figures in baseline.txt" >&2; exit 1; }
exit "$status"
