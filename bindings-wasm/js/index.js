// tidelog for the browser: a crash-safe append-only log (and a KV journal) whose image lives
// in IndexedDB — the same bytes as on a device's flash or in a Python file.
//
//   import { init, Log } from "tidelog";
//   await init();                                   // once: loads the wasm module
//   const log = await Log.open("outbox", { capacity: 1 << 20 });
//   log.append("hello");  await log.flush();        // durable once flush() resolves
//
// What survives what: after `flush()` resolves, every record appended before it survives a
// reload, a tab crash, a killed browser. Appends after the last flush may be lost; never a
// torn batch, never a gap. The package only converts arguments and drives persistence; every
// piece of log logic is the Rust core. Its files: wasm.js (loading the module), args.js
// (argument conversion), store.js (lock, IndexedDB via idb.js, flush, broadcast), log.js and
// kv.js (the classes), errors.js (one class per core error code).

export { init, formatVersion, coreErrorCodes } from "./wasm.js";
export { toBytes } from "./args.js";
export { Log, Consumer } from "./log.js";
export { Kv } from "./kv.js";
export * from "./errors.js";
