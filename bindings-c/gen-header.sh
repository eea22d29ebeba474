#!/usr/bin/env bash
# Regenerates bindings-c/include/tidelog.h from bindings-c/src with the pinned cbindgen
# (scripts/setup.sh: need_cbindgen). With --check it only compares and fails when the
# committed header differs from what the source generates (CI runs that).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../scripts/setup.sh"
need_cbindgen
header="$here/include/tidelog.h"
tmp="$(mktemp "${TMPDIR:-/tmp}/tidelog-h.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
(cd "$here" && cbindgen --quiet --config cbindgen.toml --crate tidelog-c --output "$tmp" .)
if [ "${1:-}" = "--check" ]; then
  if ! diff -u "$header" "$tmp"; then
    echo "bindings-c/include/tidelog.h is out of date: run bash bindings-c/gen-header.sh and commit it" >&2
    exit 1
  fi
  echo "ok   header: bindings-c/include/tidelog.h matches the source (cbindgen $CBINDGEN_VERSION)"
else
  cp "$tmp" "$header"
  echo "wrote bindings-c/include/tidelog.h"
fi
