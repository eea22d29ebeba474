#!/usr/bin/env bash
# The demo: a simulated device on NOR flash survives hundreds of power cuts.
# Usage: bash scripts/demo.sh [IMAGE_PATH]   (default: demo.img in the current directory)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/setup.sh"
cd "$here/.."
cargo run --release -q -p tidelog --features sim,std --example demo -- "${1:-demo.img}"
