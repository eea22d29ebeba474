#!/usr/bin/env bash
# The browser binding as shipped: the npm package is built and packed (bindings-wasm/build.sh),
# the tarball installed into a fresh directory, its .d.ts checked by `tsc --strict`, and the
# browser tests (bindings-wasm/tests/browser.mjs) run against the installed package in headless
# Debian Chromium; the images of its conformance run are compared byte for byte with the Rust
# runner's; the offline-outbox example (examples/browser) is driven end to end.
# Run by scripts/test.sh; runs on its own too (installs what it needs, idempotently).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=setup.sh
source "$here/setup.sh"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
need_targets wasm32-unknown-unknown
need_wasm_bindgen
need_chromium
need_npm_tools

work="$(mktemp -d "${TMPDIR:-/tmp}/tidelog-browser.XXXXXX")"
trap 'rm -rf "$work"' EXIT
sub() { printf '  -- %s\n' "$*"; }

sub "build and pack the npm package"
timeout 900 bash bindings-wasm/build.sh "$work/npm" | tail -n 1
mkdir "$work/app"
(cd "$work/app" && printf '{"name":"tidelog-test-app","private":true,"type":"module"}\n' >package.json &&
  timeout 120 npm install --offline --no-audit --no-fund --ignore-scripts --loglevel=error "$work"/npm/tidelog-*.tgz >/dev/null)
pkg="$work/app/node_modules/tidelog"

sub "the installed package's types: tsc --strict --noEmit"
cp bindings-wasm/tests/types-check.ts "$work/app/"
(cd "$work/app" && timeout 120 "$TIDELOG_NPM/node_modules/.bin/tsc" --strict --noEmit --target es2022 \
  --module nodenext --moduleResolution nodenext --lib es2022,dom --skipLibCheck false types-check.ts)
echo "  types-check.ts: ok"

sub "browser tests (headless Chromium, the installed tarball)"
timeout 1200 node bindings-wasm/tests/browser.mjs --package "$pkg" --conformance-out "$work/browser-images"

sub "the browser's conformance images against the Rust runner's, byte for byte"
conformance=(cargo run -q --release -p tidelog --all-features --example conformance --)
"${conformance[@]}" run "$work/rust-images" | tail -n 1
"${conformance[@]}" compare "$work/rust-images" "$work/browser-images" | tail -n 1

sub "examples/browser: the offline outbox, reloads mid-drain, exactly once"
timeout 300 node examples/browser/test.mjs --package "$pkg" --screenshot "$work/outbox.png" | tail -n 1
