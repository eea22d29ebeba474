// The browser tests of the npm package, run against the *installed* tarball in headless Debian
// Chromium (harness.mjs):
//
//   node bindings-wasm/tests/browser.mjs --package DIR [--only NAME,NAME] [--kill-rounds N]
//        [--conformance-out DIR]
//
// DIR is node_modules/tidelog of an `npm install` of the tarball. `--only` picks tests by name
// (substring); `--conformance-out` writes the conformance scenarios' images (NAME.log.bin,
// NAME.kv.bin) for scripts/test-conformance.sh to compare with Rust's byte for byte.
// `--only bench` runs the benchmark (bench.mjs; not part of the default run).

import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanup, crc32c, launch, openPage, profileDir, reload, repo, serve, sleep, withTimeout } from "./harness.mjs";
import { bench } from "./bench.mjs";

const args = process.argv.slice(2);
const opt = {};
for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, "")] = args[i + 1];
if (!opt.package) {
  console.error("usage: browser.mjs --package DIR [--only NAME,...] [--kill-rounds N] [--conformance-out DIR]");
  process.exit(2);
}
const KILL_ROUNDS = Number(opt["kill-rounds"] ?? 24);
const only = opt.only ? opt.only.split(",") : null;

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
function eq(a, b, msg) {
  const ja = String(JSON.stringify(a));
  const jb = String(JSON.stringify(b));
  if (ja !== jb) throw new Error(`${msg}:\n  got  ${ja.slice(0, 600)}\n  want ${jb.slice(0, 600)}`);
}

const server = await serve(opt.package);
const { origin } = server;

const tests = [];
const test = (name, f, flags = {}) => tests.push([name, f, flags]);

// ---------------------------------------------------------------------------------------------

test("error classes: every core code has its class, 1:1", async ({ page }) => {
  const r = await page.evaluate(() => {
    const t = window.tidelog;
    const codes = t.coreErrorCodes();
    const camel = (n) => n.toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase()) + "Error";
    const bad = [];
    for (const [code, name] of codes) {
      const cls = t.errorClasses.get(code);
      if (!cls) bad.push(`no class for ${code} ${name}`);
      else if (cls.codeName !== name || cls.name !== camel(name) || t[cls.name] !== cls) bad.push(`${code}: ${cls.name}/${cls.codeName} for ${name}`);
      else if (!(new cls("x") instanceof t.TidelogError)) bad.push(`${cls.name} is not a TidelogError`);
    }
    const e = t.fromCore(Object.assign(new Error("offset out of range"), { tidelogCode: 3, first: 2, next: 9 }));
    return { n: codes.length, classes: t.errorClasses.size, bad, mapped: [e.name, e.code, e.codeName, e.first, e.next, e instanceof t.OutOfRangeError], quota: new t.QuotaError("q") instanceof t.FullError };
  });
  eq(r.bad, [], "classes");
  eq([r.n, r.classes], [25, 25], "one class per code");
  eq(r.mapped, ["OutOfRangeError", 3, "OUT_OF_RANGE", 2, 9, true], "fromCore");
  assert(r.quota, "QuotaError is a FullError");
  return `${r.n} codes, ${r.classes} classes`;
});

test("bad input: a clear error for each, never a trap, the store intact", async ({ page }) => {
  const r = await page.evaluate(async () => {
    const t = window.tidelog;
    const { Log, Kv } = t;
    const golden = new Uint8Array(await (await fetch("/golden/v1_ws4_e1k_basic.bin")).arrayBuffer());
    const kvGolden = new Uint8Array(await (await fetch("/golden/kv_v1_ws4_e256_basic.bin")).arrayBuffer());
    const log = await Log.open("bad", { capacity: 64 * 1024, eraseSize: 1024, segmentSize: 4096, maxRecordSize: 500 });
    log.appendBatch(["a", "b", "c"]);
    await log.flush();
    const kv = await Kv.open("badkv", { capacity: 4096, eraseSize: 1024, maxKeyLen: 16 });
    const out = [];
    const name = (e) => (e instanceof WebAssembly.RuntimeError ? "TRAP " + e.message : e && e.name);
    const c = async (label, f, want) => {
      try {
        await f();
        out.push([label, "no error", want]);
      } catch (e) {
        out.push([label, name(e), want, String(e.message).slice(0, 120)]);
      }
    };
    const img = Log.fromImage(golden);
    const wimg = Log.fromImage(golden, { writable: true });
    const garbage = new Uint8Array(65536).map((_, i) => (i * 2654435761) >>> 24);
    await c("append(123)", () => log.append(123), "TypeError");
    await c("append(null)", () => log.append(null), "TypeError");
    await c("append({})", () => log.append({}), "TypeError");
    await c("append([1,2])", () => log.append([1, 2]), "TypeError");
    await c("append(too large)", () => log.append(new Uint8Array(501)), "TooLargeError");
    await c("appendBatch('abc')", () => log.appendBatch("abc"), "TypeError");
    await c("appendBatch([1])", () => log.appendBatch([1]), "TypeError");
    await c("appendBatch(null)", () => log.appendBatch(null), "TypeError");
    await c("appendBatch(Uint8Array)", () => log.appendBatch(new Uint8Array(3)), "TypeError");
    await c("appendBatch(too large)", () => log.appendBatch([new Uint8Array(300), new Uint8Array(300)]), "TooLargeError");
    await c("read(-1)", () => log.read(-1), "OutOfRangeError");
    await c("read(1.5)", () => log.read(1.5), "OutOfRangeError");
    await c("read(2**60)", () => log.read(2 ** 60), "OutOfRangeError");
    await c("read(NaN)", () => log.read(NaN), "OutOfRangeError");
    await c("read(Infinity)", () => log.read(Infinity), "OutOfRangeError");
    await c("read(past end)", () => log.read(3), "OutOfRangeError");
    await c("read(-1n)", () => log.read(-1n), "OutOfRangeError");
    await c("read(2n**64n)", () => log.read(2n ** 64n), "OutOfRangeError");
    await c("read('0')", () => log.read("0"), "TypeError");
    await c("read()", () => log.read(), "TypeError");
    await c("entries(-1)", () => log.entries(-1), "OutOfRangeError");
    await c("entries(0, 'x')", () => log.entries(0, "x"), "TypeError");
    await c("entries(0, -1)", () => log.entries(0, -1), "InvalidArgumentError");
    await c("consumer('')", () => log.consumer(""), "InvalidNameError");
    await c("consumer(33 bytes)", () => log.consumer("x".repeat(33)), "InvalidNameError");
    await c("consumer(5)", () => log.consumer(5), "TypeError");
    await c("commit(-1)", () => log.consumer("up").commit(-1), "OutOfRangeError");
    await c("commit(past next)", () => log.consumer("up").commit(99), "OutOfRangeError");
    await c("commit('1')", () => log.consumer("up").commit("1"), "TypeError");
    await c("trimFront(-1)", () => log.trimFront(-1), "OutOfRangeError");
    await c("truncateBack(1e20)", () => log.truncateBack(1e20), "OutOfRangeError");
    await c("flush({durability:'x'})", () => log.flush({ durability: "x" }), "InvalidArgumentError");
    await c("flush({x:1})", () => log.flush({ x: 1 }), "InvalidArgumentError");
    await c("open: second writer", () => Log.open("bad"), "LockedError");
    await c("open(5)", () => Log.open(5), "TypeError");
    await c("open('')", () => Log.open(""), "TypeError");
    await c("open(name, 5)", () => Log.open("o", 5), "TypeError");
    await c("open: unknown option", () => Log.open("o", { capacty: 4096 }), "InvalidArgumentError");
    await c("open: capacity -5", () => Log.open("o", { capacity: -5 }), "InvalidArgumentError");
    await c("open: capacity 1.5", () => Log.open("o", { capacity: 1.5 }), "InvalidArgumentError");
    await c("open: capacity '1'", () => Log.open("o", { capacity: "1" }), "InvalidArgumentError");
    await c("open: fullPolicy", () => Log.open("o", { fullPolicy: "drop" }), "InvalidArgumentError");
    await c("open: durability", () => Log.open("o", { durability: "fast" }), "InvalidArgumentError");
    await c("open: autoFlush -1", () => Log.open("o", { autoFlush: -1 }), "InvalidArgumentError");
    await c("open: segmentSize not sectors", () => Log.open("o", { segmentSize: 1000 }), "InvalidArgumentError");
    await c("open: one segment", () => Log.open("o", { capacity: 4096 }), "InvalidConfigError");
    await c("open: writeSize 3", () => Log.open("o", { writeSize: 3 }), "InvalidConfigError");
    await c("open: eraseSize 100", () => Log.open("o", { eraseSize: 100, segmentSize: 100 }), "InvalidConfigError");
    await c("open: readOnly, absent", () => Log.open("absent", { readOnly: true }), "NotFoundError");
    await c("open: a KV as a log", () => Log.open("badkv-other").then(async (l) => { await l.close(); return Kv.open("badkv-other"); }), "InvalidArgumentError");
    await c("fromImage(zeros)", () => Log.fromImage(new Uint8Array(4096)), "NotFormattedError");
    await c("fromImage(empty)", () => Log.fromImage(new Uint8Array(0)), "NotFormattedError");
    await c("fromImage(garbage)", () => Log.fromImage(garbage), "NotFormattedError");
    await c("fromImage('junk')", () => Log.fromImage("junk"), "NotFormattedError");
    await c("fromImage(123)", () => Log.fromImage(123), "TypeError");
    await c("fromImage(half a golden)", () => Log.fromImage(golden.slice(0, 2048)), "GeometryMismatchError");
    await c("fromImage(KV image)", () => Log.fromImage(kvGolden), "InvalidArgumentError");
    await c("Kv.fromImage(log image)", () => Kv.fromImage(golden), "InvalidArgumentError");
    await c("fromImage: unknown option", () => Log.fromImage(golden, { writeable: true }), "InvalidArgumentError");
    await c("read-only image: append", () => img.append("x"), "StorageReadOnlyError");
    await c("read-only image: commit", () => img.consumer("uploader").commit(40), "StorageReadOnlyError");
    await c("writable image: flush", () => wimg.flush(), "InvalidArgumentError");
    await c("kv.set(1, 'x')", () => kv.set(1, "x"), "TypeError");
    await c("kv.set('k', null)", () => kv.set("k", null), "TypeError");
    await c("kv.get()", () => kv.get(), "TypeError");
    await c("kv.set(long key)", () => kv.set("k".repeat(17), "v"), "TooLargeError");
    await c("kv.setMultiple('ab')", () => kv.setMultiple("ab"), "TypeError");
    await c("kv.setMultiple([['a']])", () => kv.setMultiple([["a"]]), "TypeError");
    await c("Kv.open: maxKeyLen 300", () => Kv.open("k2", { maxKeyLen: 300 }), "InvalidArgumentError");
    // Closed handles, and a handle being closed: writes during close's final flush are
    // refused, not silently lost.
    const it = log.entries();
    const closing = log.close();
    await c("closing: append", () => log.append("late"), "ClosedError");
    await c("closing: close again", () => log.close(), "ClosedError");
    await closing;
    await c("closed: append", () => log.append("x"), "ClosedError");
    await c("closed: read", () => log.read(0), "ClosedError");
    await c("closed: stats", () => log.stats(), "ClosedError");
    await c("closed: nextOffset", () => log.nextOffset, "ClosedError");
    await c("closed: entries", () => log.entries(), "ClosedError");
    await c("closed: an iterator from before", () => it.next(), "ClosedError");
    await c("closed: flush", () => log.flush(), "ClosedError");
    await c("closed: close again", () => log.close(), "ClosedError");
    await c("closed: consumer", () => log.consumer("up"), "ClosedError");
    await kv.close();
    await c("closed kv: get", () => kv.get("a"), "ClosedError");
    // The store is intact: exactly what was there before the bad calls.
    const again = await Log.open("bad");
    const records = [...again].map(([o, r]) => [o, new TextDecoder().decode(r)]);
    await again.close();
    return { out, records };
  });
  const wrong = r.out.filter(([, got, want]) => got !== want);
  eq(wrong, [], "errors");
  eq(r.records, [[0, "a"], [1, "b"], [2, "c"]], "the store after the bad calls");
  return `${r.out.length} bad calls, each the expected error`;
});

test("append, flush, reload, relaunch: everything flushed is there", async ({ page, browser, dir }) => {
  const make = (n) => page.evaluate(async (n) => {
    const log = await window.tidelog.Log.open("persist", { capacity: 256 * 1024, eraseSize: 4096 });
    const start = log.nextOffset;
    for (let i = 0; i < n; i++) log.append(`record ${start + i}`);
    log.appendBatch([`batch ${start + n}`, `batch ${start + n + 1}`]);
    await log.flush();
    log.append("not flushed"); // lost on reload unless flushed: a reload closes nothing
    return log.nextOffset;
  }, n);
  const read = () => page.evaluate(async () => {
    const log = await window.tidelog.Log.open("persist");
    const rs = [...log].map(([o, r]) => [o, new TextDecoder().decode(r)]);
    const s = log.stats();
    await log.close();
    return { rs, s };
  });
  await make(100);
  await reload(page);
  let r = await read();
  eq(r.rs.length, 102, "records after reload");
  eq(r.rs[101], [101, "batch 101"], "last record");
  // The relaunch: a normal browser shutdown, then a new browser on the same profile.
  await browser.close();
  const b2 = await launch(dir);
  try {
    const p2 = await openPage(b2.context, origin);
    r = await p2.evaluate(async () => {
      const log = await window.tidelog.Log.open("persist");
      const rs = [...log].map(([o, r]) => [o, new TextDecoder().decode(r)]);
      await log.close();
      return { rs };
    });
  } finally {
    await b2.close();
  }
  eq(r.rs.length, 102, "records after relaunch");
  eq(r.rs[50], [50, "record 50"], "a record after relaunch");
  return "102 records after reload and after relaunch; the unflushed append gone both times";
});

test(`SIGKILL in a flush loop (${KILL_ROUNDS} rounds): a prefix holding every resolved flush`, async ({ dir }) => {
  let acked = 0;
  let total = 0;
  let discarded = 0;
  const lines = [];
  for (let round = 0; round <= KILL_ROUNDS; round++) {
    const b = await launch(dir);
    try {
      const page = await openPage(b.context, origin);
      page.on("console", (m) => {
        const x = /^acked (\d+)$/.exec(m.text());
        if (x) acked = Math.max(acked, Number(x[1]));
      });
      // Check what survived, then write until killed.
      const seen = await withTimeout(page.evaluate(async (round) => {
        const log = await window.tidelog.Log.open("kill", { capacity: 512 * 1024, eraseSize: 4096, writeSize: 4 });
        const bad = [];
        let n = 0;
        let last = null;
        for (const [o, r] of log) {
          const [start, i, size] = new TextDecoder().decode(r).split(":").map(Number);
          if (start + i !== o) bad.push(`offset ${o} holds ${start}+${i}`);
          last = { i, size };
          n++;
        }
        if (last && last.i !== last.size - 1) bad.push(`torn batch at the end: record ${last.i} of ${last.size}`);
        const state = { first: log.firstOffset, next: log.nextOffset, n, bad, lost: log.lost };
        window.loop = (async () => {
          let k = round;
          for (;;) {
            const size = 1 + (k++ % 8);
            const start = log.nextOffset;
            const batch = Array.from({ length: size }, (_, i) => `${start}:${i}:${size}`.padEnd(40 + (k % 60), " "));
            try {
              log.appendBatch(batch);
            } catch (e) {
              if (!(e instanceof window.tidelog.FullError)) throw e;
              log.trimFront(log.nextOffset - 50);
              continue;
            }
            if (k % 3 === 0) continue; // some batches ride on the next flush
            await log.flush({ durability: k % 2 ? "strict" : "relaxed" });
            console.log(`acked ${log.nextOffset}`);
          }
        })();
        return state;
      }, round), 30000, "check and start");
      eq(seen.bad, [], `round ${round}: the recovered log`);
      if (seen.lost) {
        // Chromium discarded the origin's database (its own recovery from a store it found
        // corrupt after the kill): not tidelog's to keep, but it must be reported, and the
        // new log must be empty.
        discarded++;
        eq([seen.first, seen.next], [0, 0], `round ${round}: a discarded store reopens empty`);
        acked = 0;
      }
      assert(seen.next >= acked, `round ${round}: next ${seen.next} < acknowledged ${acked}`);
      assert(seen.n === seen.next - seen.first, `round ${round}: gap (${seen.n} records in ${seen.first}..${seen.next})`);
      total = seen.next;
      if (round < 4 || round === KILL_ROUNDS) lines.push(`round ${round}: ${seen.first}..${seen.next}, acked before the kill ${acked}`);
      if (round === KILL_ROUNDS) break;
      await sleep(150 + ((round * 7919) % 900));
    } finally {
      if (round < KILL_ROUNDS) await b.kill();
      else await b.close();
    }
  }
  assert(discarded <= KILL_ROUNDS / 4, `Chromium discarded the store after ${discarded} of ${KILL_ROUNDS} kills`);
  return `${KILL_ROUNDS} kills; ${total} records at the end; every acknowledged flush survived${discarded ? ` except after ${discarded} kill(s) where Chromium discarded the database (reported as log.lost)` : ""} (${lines.join("; ")})`;
}, { raw: true });

test("a store the browser discarded is reported: log.lost", async ({ page }) => {
  const r = await page.evaluate(async () => {
    const { Log } = window.tidelog;
    const a = await Log.open("lostlog");
    const fresh = a.lost;
    a.append("x");
    await a.close();
    const b = await Log.open("lostlog");
    const reopened = [b.lost, b.length];
    await b.close();
    // What the browser does when it discards a database (clear site data, its own recovery).
    await new Promise((res, rej) => {
      const q = indexedDB.deleteDatabase("tidelog:lostlog");
      q.onsuccess = res;
      q.onerror = () => rej(q.error);
    });
    const c = await Log.open("lostlog");
    const after = [c.lost, c.length];
    await c.close();
    await Log.delete("lostlog");
    const d = await Log.open("lostlog");
    const deleted = d.lost;
    await d.close();
    return { fresh, reopened, after, deleted };
  });
  eq(r, { fresh: false, reopened: [false, 1], after: [true, 0], deleted: false }, "lost");
  return "a new log: lost false; reopened: false; after the database vanished: true; after Log.delete: false";
});

test("consumers: a commit survives a reload, rewind replays", async ({ page }) => {
  await page.evaluate(async () => {
    const log = await window.tidelog.Log.open("consumers", { capacity: 128 * 1024 });
    log.extend(Array.from({ length: 20 }, (_, i) => `m${i}`));
    const c = log.consumer("upload");
    let n = 0;
    for (const [o] of c) {
      if (++n > 12) break;
      c.commit(o + 1);
    }
    await log.flush();
  });
  await reload(page);
  const r = await page.evaluate(async () => {
    const log = await window.tidelog.Log.open("consumers");
    const c = log.consumer("upload");
    const committed = c.committed;
    const next = [...c].map(([o]) => o);
    c.rewind(5);
    const replay = [...c].map(([o]) => o)[0];
    const all = log.consumers();
    await log.close();
    return { committed, next: [next[0], next.length], replay, all };
  });
  eq(r, { committed: 12, next: [12, 8], replay: 5, all: [["upload", 5]] }, "consumer");
  return "committed 12 after reload; 8 left; rewind to 5 replays from 5";
});

test("two tabs: the second writer gets LockedError; a read-only tab follows commits", async ({ page, context }) => {
  await page.evaluate(async () => {
    window.w = await window.tidelog.Log.open("tabs", { capacity: 128 * 1024 });
    window.w.append("first");
    await window.w.flush();
  });
  const other = await openPage(context, origin, "/other");
  const r1 = await other.evaluate(async () => {
    const { Log } = window.tidelog;
    let locked;
    try {
      await Log.open("tabs");
    } catch (e) {
      locked = [e.name, e instanceof window.tidelog.LockedError];
    }
    window.ro = await Log.open("tabs", { readOnly: true });
    window.events = [];
    window.ro.onCommit((e) => window.events.push(e));
    let refused;
    try {
      window.ro.append("x");
    } catch (e) {
      refused = e.name;
    }
    return { locked, len: window.ro.length, refused };
  });
  eq(r1, { locked: ["LockedError", true], len: 1, refused: "StorageReadOnlyError" }, "second tab");
  await page.evaluate(async () => {
    window.w.appendBatch(["second", "third"]);
    await window.w.flush();
  });
  const r2 = await withTimeout(other.evaluate(async () => {
    while (window.events.length === 0) await new Promise((r) => setTimeout(r, 20));
    const before = window.ro.length;
    await window.ro.refresh();
    return { event: window.events[0], before, after: window.ro.length, last: new TextDecoder().decode(window.ro.read(2)) };
  }), 20000, "broadcast");
  eq([r2.event.nextOffset, r2.before, r2.after, r2.last], [3, 1, 3, "third"], "read-only tab after the broadcast");
  // Once the writer closes, the second tab may write.
  await page.evaluate(() => window.w.close());
  const r3 = await other.evaluate(async () => {
    const l = await window.tidelog.Log.open("tabs");
    const o = l.append("from the second tab");
    await l.close();
    return o;
  });
  eq(r3, 3, "the second tab writes after the first closed");
  return "LockedError; read-only view saw generation " + r2.event.generation + " and refreshed to 3 records";
});

test("a dedicated worker writes, the page reads", async ({ page }) => {
  const r = await withTimeout(page.evaluate(async () => {
    const worker = new Worker("/worker.js", { type: "module" });
    const run = (job, arg) => new Promise((resolve, reject) => {
      worker.onmessage = (ev) => (ev.data.err ? reject(new Error(ev.data.err)) : resolve(ev.data.ok));
      worker.postMessage({ job: job.toString(), arg });
    });
    const next = await run(async (t, n) => {
      const log = await t.Log.open("worker", { capacity: 128 * 1024 });
      for (let i = 0; i < n; i++) log.append(`from the worker ${i}`);
      const kv = await t.Kv.open("worker-kv");
      kv.set("who", "worker");
      await kv.close();
      await log.close();
      return log.closed ? n : -1;
    }, 10);
    worker.terminate();
    const log = await window.tidelog.Log.open("worker");
    const kv = await window.tidelog.Kv.open("worker-kv");
    const r = { next, len: log.length, last: new TextDecoder().decode(log.read(9)), who: new TextDecoder().decode(kv.get("who")) };
    await log.close();
    await kv.close();
    return r;
  }), 30000, "worker");
  eq(r, { next: 10, len: 10, last: "from the worker 9", who: "worker" }, "worker");
  return "10 records and a KV entry written in a worker, read on the page";
});

test("autoFlush: appends reach IndexedDB without an explicit flush", async ({ page }) => {
  await page.evaluate(async () => {
    const log = await window.tidelog.Log.open("auto", { capacity: 128 * 1024, autoFlush: 50 });
    for (let i = 0; i < 5; i++) log.append(`auto ${i}`);
    const t0 = performance.now();
    while (log.dirtyPages > 0 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
  });
  await reload(page);
  const n = await page.evaluate(async () => {
    const log = await window.tidelog.Log.open("auto");
    const n = log.length;
    await log.close();
    return n;
  });
  eq(n, 5, "records after reload");
  return "5 appends flushed by autoFlush: 50 ms, there after reload";
});

test("KV: set, setMultiple, delete, compact survive a reload", async ({ page }) => {
  await page.evaluate(async () => {
    const kv = await window.tidelog.Kv.open("settings", { capacity: 8192, eraseSize: 1024 });
    kv.set("a", "1");
    kv.setMultiple([["b", "2"], ["c", "3"]]);
    for (let i = 0; i < 50; i++) kv.set("counter", String(i));
    kv.delete("a");
    kv.compact();
    kv.set("d", new Uint8Array([0, 255]));
    await kv.flush();
    kv.set("lost", "not flushed");
  });
  await reload(page);
  const r = await page.evaluate(async () => {
    const kv = await window.tidelog.Kv.open("settings");
    const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    const e = [...kv].map(([k, v]) => [new TextDecoder().decode(k), hex(v)]);
    const s = kv.stats();
    await kv.close();
    return { e, gen: s.generation };
  });
  eq(r.e, [["b", "32"], ["c", "33"], ["counter", "3439"], ["d", "00ff"]], "entries after reload");
  return `4 entries after reload (generation ${r.gen})`;
});

test("quota exhausted: QuotaError, the committed state intact, writes resume", async ({ page, browser }) => {
  // The override must be in place before the origin's storage bucket is first used (Chromium
  // reads the quota when it opens the bucket); 2 MB: the committed part fits, the flood not.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: 2 << 20 });
  const r1 = await page.evaluate(async () => {
    window.q = await window.tidelog.Log.open("quota", { capacity: 16 << 20, eraseSize: 65536 });
    for (let i = 0; i < 200; i++) window.q.append(`committed ${i}`);
    await window.q.flush();
    const est = await window.tidelog.Log.estimate();
    return { usage: est.usage, next: window.q.nextOffset };
  });
  const r2 = await page.evaluate(async () => {
    const q = window.q;
    const est = await window.tidelog.Log.estimate();
    const noise = new Uint8Array(32 * 1024);
    for (let i = 0; i < 100; i++) {
      crypto.getRandomValues(noise);
      q.append(noise);
    }
    let err;
    try {
      await q.flush();
    } catch (e) {
      err = [e.name, e instanceof window.tidelog.FullError, e.code];
    }
    const view = await window.tidelog.Log.open("quota", { readOnly: true });
    const committed = [view.nextOffset, new TextDecoder().decode(view.read(199))];
    await view.close();
    // Trim what did not fit, then flush again.
    q.truncateBack(200);
    let afterTrim = "ok";
    try {
      await q.flush();
    } catch (e) {
      afterTrim = e.name;
    }
    return { err, committed, afterTrim, memory: q.nextOffset, est };
  });
  eq(r2.err, ["QuotaError", true, 1], `the flush over quota (usage ${r1.usage}, then ${JSON.stringify(r2.est)})`);
  eq(r2.committed, [200, "committed 199"], "the committed state, seen by another handle");
  await cdp.send("Storage.overrideQuotaForOrigin", { origin }); // the quota back
  const r3 = await page.evaluate(async () => {
    const q = window.q;
    q.append("after the quota");
    await q.flush();
    await q.close();
    const l = await window.tidelog.Log.open("quota");
    const r = [l.nextOffset, new TextDecoder().decode(l.read(200))];
    await l.close();
    return r;
  });
  eq(r3, [201, "after the quota"], "writes after the quota came back");
  return `QuotaError (FullError, code 1); committed 200 records intact; flush after truncating the unflushed tail: ${r2.afterTrim}; after the quota came back: ok`;
});

test("golden images: Log.fromImage / Kv.fromImage read what their descriptions say", async ({ page }) => {
  const dir = join(repo, "tests/golden");
  const names = readdirSync(dir).filter((f) => f.endsWith(".txt")).map((f) => f.slice(0, -4));
  const lines = [];
  for (const name of names) {
    const txt = readFileSync(join(dir, `${name}.txt`), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
    const field = (k) => (txt.find((l) => l.startsWith(k + ": ")) || "").slice(k.length + 2);
    const want = txt.filter((l) => /^(record|consumer|entry) /.test(l));
    const kv = name.startsWith("kv_");
    const got = await page.evaluate(async ([name, kv, policy]) => {
      const { Log, Kv } = window.tidelog;
      const bytes = new Uint8Array(await (await fetch(`/golden/${name}.bin`)).arrayBuffer());
      const hex = (b) => (b.length ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : "-");
      const out = [];
      if (kv) {
        const k = Kv.fromImage(bytes);
        for (const [key, v] of k) out.push(`entry ${hex(key)} ${hex(v)}`);
        return { out, gen: k.stats().generation };
      }
      const log = Log.fromImage(bytes, { fullPolicy: policy });
      for (const [o, r] of log) out.push(`record ${o} ${hex(r)}`);
      for (const [n, o] of log.consumers()) out.push(`consumer ${n} ${o}`);
      const s = log.stats();
      const image = log.exportImage();
      return { out, first: s.firstOffset, next: s.nextOffset, used: s.segmentsUsed, same: image.length === bytes.length && image.every((b, i) => b === bytes[i]) };
    }, [name, kv, field("full_policy") === "OverwriteOldest" ? "overwriteOldest" : "reject"]);
    const sort = (a) => [...a].sort();
    eq(sort(got.out), sort(want), `${name}: contents`);
    if (kv) eq(got.gen, Number(field("generation")), `${name}: generation`);
    else {
      eq([got.first, got.next, got.used], [Number(field("first_offset")), Number(field("next_offset")), Number(field("segments_used"))], `${name}: stats`);
      assert(got.same, `${name}: exportImage() of a read-only image is the image`);
    }
    lines.push(`${name} (${want.length})`);
  }
  return `${names.length} goldens: ${lines.join(", ")}`;
});

test("conformance scenarios: results, contents and image bytes as the Rust runner's", async ({ page }) => {
  const dir = join(repo, "tests/conformance/scenarios");
  const names = readdirSync(dir).filter((f) => f.endsWith(".tls")).map((f) => f.slice(0, -4)).sort();
  const out = opt["conformance-out"];
  if (out) mkdirSync(out, { recursive: true });
  for (const name of names) {
    const script = readFileSync(join(dir, `${name}.tls`), "utf8");
    const r = await withTimeout(page.evaluate(runScenario, [name, script]), 60000, name);
    const lines = [...r.lines];
    if (r.log) lines.push(`log_image ${r.log.length} ${crc32c(r.log).toString(16).padStart(8, "0")}`);
    if (r.kv) lines.push(`kv_image ${r.kv.length} ${crc32c(r.kv).toString(16).padStart(8, "0")}`);
    const want = readFileSync(join(dir, `${name}.expect`), "utf8").split("\n").filter(Boolean);
    for (let i = 0; i < Math.max(lines.length, want.length); i++) {
      if (lines[i] !== want[i]) throw new Error(`${name}: line ${i + 1}: got ${JSON.stringify(lines[i])}, the Rust runner wrote ${JSON.stringify(want[i])}`);
    }
    if (out) {
      if (r.log) writeFileSync(join(out, `${name}.log.bin`), Uint8Array.from(r.log));
      if (r.kv) writeFileSync(join(out, `${name}.kv.bin`), Uint8Array.from(r.kv));
    }
  }
  return `${names.length} scenarios: every result, record, cursor, KV entry, image length and CRC-32C as Rust's${out ? `; images in ${out}` : ""}`;
});

/** Runs a conformance script in the page (tests/conformance/README.md has the format) on
 * IndexedDB-backed logs — `reopen` closes and opens from IndexedDB again. */
async function runScenario([name, script]) {
  const { Log, Kv } = window.tidelog;
  const unhex = (s) => (s === "-" ? new Uint8Array(0) : Uint8Array.from(s.match(/../g).map((h) => parseInt(h, 16))));
  const hex = (b) => (b.length ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : "-");
  const fill = (len, seed) => Uint8Array.from({ length: len }, (_, i) => (seed * 31 + i * 7 + (i >> 8)) % 256);
  const ln = `conf-${name}-log`;
  const kn = `conf-${name}-kv`;
  await Log.delete(ln);
  await Kv.delete(kn);
  let log = null;
  let kv = null;
  let policy = "reject";
  let highWater = 75;
  const results = [];
  const lines = script.split("\n");
  for (let n = 1; n <= lines.length; n++) {
    const line = lines[n - 1].trim();
    if (!line || line.startsWith("#")) continue;
    const f = line.split(" ");
    if (f[0] === "log") {
      const [ws, es, cap, sectors, interval, maxrec] = f.slice(1, 7).map(Number);
      policy = f[7] === "overwrite" ? "overwriteOldest" : "reject";
      log = await Log.open(ln, { writeSize: ws, eraseSize: es, capacity: cap, segmentSize: sectors * es, indexInterval: interval, maxRecordSize: maxrec, fullPolicy: policy });
      continue;
    }
    if (f[0] === "kv") {
      const [ws, es, cap, maxkey, maxvalue, hw] = f.slice(1, 7).map(Number);
      highWater = hw;
      kv = await Kv.open(kn, { writeSize: ws, eraseSize: es, capacity: cap, maxKeyLen: maxkey, maxValueLen: maxvalue, highWaterPercent: hw });
      continue;
    }
    let value = null;
    try {
      switch (f[0]) {
        case "append": value = log.append(unhex(f[1])); break;
        case "append_fill": value = log.append(fill(+f[1], +f[2])); break;
        case "batch": value = log.appendBatch(f.slice(1).map(unhex)); break;
        case "batch_fill": value = log.appendBatch(Array.from({ length: +f[1] }, (_, k) => fill(+f[2], +f[3] + k))); break;
        case "sync": await log.flush(); break;
        case "commit": log.consumer(f[1]).commit(+f[2]); break;
        case "rewind": log.consumer(f[1]).rewind(+f[2]); break;
        case "remove": log.consumer(f[1]).remove(); break;
        case "trim": log.trimFront(+f[1]); break;
        case "truncate": log.truncateBack(+f[1]); break;
        case "reopen": await log.close(); log = await Log.open(ln, { fullPolicy: policy }); break;
        case "kv_set": kv.set(unhex(f[1]), unhex(f[2])); break;
        case "kv_set_multiple": {
          const pairs = [];
          for (let i = 1; i + 1 < f.length; i += 2) pairs.push([unhex(f[i]), unhex(f[i + 1])]);
          kv.setMultiple(pairs);
          break;
        }
        case "kv_delete": value = kv.delete(unhex(f[1])) ? 1 : 0; break;
        case "kv_compact": kv.compact(); break;
        case "kv_reopen": await kv.close(); kv = await Kv.open(kn, { highWaterPercent: highWater }); break;
        default: throw new Error(`unknown operation ${f[0]}`);
      }
      results.push(`result ${n} ok${value === null ? "" : " " + value}`);
    } catch (e) {
      if (!e.codeName) throw e;
      results.push(`result ${n} err ${e.codeName}`);
    }
  }
  const out = { lines: results, log: null, kv: null };
  if (log) {
    await log.close();
    const stored = await Log.open(ln, { readOnly: true }); // what IndexedDB holds
    const image = stored.exportImage();
    await stored.close();
    const img = Log.fromImage(image, { fullPolicy: policy });
    out.lines.push(`first ${img.firstOffset}`, `next ${img.nextOffset}`);
    for (const [o, r] of img) out.lines.push(`record ${o} ${hex(r)}`);
    for (const [c, o] of img.consumers()) out.lines.push(`consumer ${c} ${o}`);
    out.log = Array.from(image);
  }
  if (kv) {
    await kv.close();
    const stored = await Kv.open(kn, { readOnly: true });
    const image = stored.exportImage();
    await stored.close();
    for (const [k, v] of Kv.fromImage(image)) out.lines.push(`kv ${hex(k)} ${hex(v)}`);
    out.kv = Array.from(image);
  }
  return out;
}

test("bench", async (ctx) => bench(ctx, origin), { manual: true });

// ---------------------------------------------------------------------------------------------

/** Runs test `f` on a fresh profile: with `raw`, `f({ dir })` starts browsers itself; else one
 * browser and a page with the package loaded, `f({ page, browser, context, dir })`, and the
 * page must have thrown nothing. */
async function run(f, flags) {
  const dir = profileDir();
  try {
    if (flags.raw) return await f({ dir });
    const b = await launch(dir);
    try {
      const page = await openPage(b.context, origin);
      const r = await f({ page, browser: b, context: b.context, dir });
      if (page.errors.length) throw new Error(`page errors: ${page.errors.join("; ")}`);
      return r;
    } finally {
      await b.close();
    }
  } finally {
    cleanup(dir);
  }
}

let failed = 0;
let ran = 0;
const t0 = Date.now();
for (const [name, f, flags = {}] of tests) {
  if (only ? !only.some((o) => name.includes(o)) : flags.manual) continue;
  ran++;
  const t = Date.now();
  try {
    const summary = await withTimeout(run(f, flags), 600000, name);
    console.log(`ok   ${name} (${((Date.now() - t) / 1000).toFixed(1)} s): ${summary}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name} (${((Date.now() - t) / 1000).toFixed(1)} s): ${e.stack || e}`);
  }
}
server.close();
console.log(`browser tests: ${ran - failed} passed, ${failed} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
process.exit(failed || ran === 0 ? 1 : 0);
