// Loading the wasm module: one explicit `await init()` (no top-level await), shared by every
// class of the package; `needInit` guards the synchronous entry points (`fromImage`).

import wasmInit, { errorCodes, formatVersion as coreFormatVersion } from "./tidelog_wasm.js";

let ready = null;
let loaded = false;

/** Loads the wasm module (once; later calls return the same promise). `input`: where to fetch
 * it from (default: next to this file), or a `WebAssembly.Module` / bytes. */
export function init(input) {
  if (!ready) {
    const arg = input === undefined ? { module_or_path: new URL("./tidelog_wasm_bg.wasm", import.meta.url) } : { module_or_path: input };
    ready = wasmInit(arg).then(() => {
      loaded = true;
    }, (e) => {
      ready = null;
      throw e;
    });
  }
  return ready;
}

export function needInit() {
  if (!loaded) throw new Error("tidelog: call `await init()` before using the package");
}

/** The on-media format version this package writes (FORMAT.md). */
export function formatVersion() {
  needInit();
  return coreFormatVersion();
}

/** The core's error table: `[code, name, description]` triples. */
export function coreErrorCodes() {
  needInit();
  return errorCodes();
}
export { coreFormatVersion };
