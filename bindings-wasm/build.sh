#!/usr/bin/env bash
# Builds the npm package `tidelog` and packs it: bash bindings-wasm/build.sh OUT_DIR
# (OUT_DIR/tidelog-<version>.tgz; OUT_DIR/package/ is the staged package, for size figures).
#
#   1. cargo build of the wasm module (wasm32-unknown-unknown, profile release-lto: opt-level z,
#      fat LTO, panic = abort);
#   2. wasm-bindgen --target web (the CLI pinned to the crate's version, scripts/setup.sh);
#   3. wasm-opt -Oz from the npm package binaryen (Debian's wasm-opt breaks the output,
#      ../shared/TOOLCHAIN.md);
#   4. the JS files of js/ and the .d.ts next to it; npm pack.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=../scripts/setup.sh
source "$repo/scripts/setup.sh"
out="${1:?usage: build.sh OUT_DIR}"
need_targets wasm32-unknown-unknown
need_wasm_bindgen
need_npm_tools
mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$out/package"
rm -rf "$stage" && mkdir -p "$stage"
(cd "$repo" && cargo build -q -p tidelog-wasm --target wasm32-unknown-unknown --profile release-lto)
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release-lto/tidelog_wasm.wasm"
"$TIDELOG_TOOLS/bin/wasm-bindgen" --target web --out-dir "$stage" --out-name tidelog_wasm \
  --no-typescript "$wasm"
"$TIDELOG_NPM/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$stage/tidelog_wasm_bg.wasm" -o "$stage/tidelog_wasm_bg.wasm"
cp "$here"/js/*.js "$here/index.d.ts" "$here/package.json" "$here/README.md" "$stage/"
rm -f "$out"/tidelog-*.tgz
(cd "$stage" && npm pack --silent --pack-destination "$out" >/dev/null)
raw=$(stat -c %s "$stage/tidelog_wasm_bg.wasm")
gz=$(gzip -9 -c "$stage/tidelog_wasm_bg.wasm" | wc -c)
echo "build.sh: $(ls "$out"/tidelog-*.tgz); tidelog_wasm_bg.wasm $raw B raw, $gz B gzip -9"
