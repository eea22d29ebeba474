// The browser benchmark (node bindings-wasm/tests/browser.mjs --package DIR --only bench):
// 10,000 appends of 100 B and one flush, against the ways a web app stores records without
// tidelog — one IndexedDB transaction per record (what idb-keyval's `set` does), and one
// transaction with 10,000 puts — and against the floor for tidelog's own write pattern: one
// transaction that puts as many 4 KiB pages as the flush wrote, plus a manifest. Then the time to
// open a 4 MiB log. Everything in one page, side by side, both durability modes; figures are
// medians of five runs (three for the transaction of 10,000 puts, one for the per-record puts:
// 4-8 s each), after an unmeasured warm-up.

export async function bench({ page }, _origin) {
  const N = 10000;
  const r = await page.evaluate(async (N) => {
    const { Log } = window.tidelog;
    const rec = new Uint8Array(100).fill(7);
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const openDb = (name) => new Promise((res, rej) => {
      const q = indexedDB.open(name, 1);
      q.onupgradeneeded = () => q.result.createObjectStore("s");
      q.onsuccess = () => res(q.result);
      q.onerror = () => rej(q.error);
    });
    const done = (tx) => new Promise((res, rej) => {
      tx.oncomplete = res;
      tx.onabort = () => rej(tx.error);
    });
    const out = {};
    let run = 0;
    {
      // Warm-up (the wasm code paths, IndexedDB's first transactions): not measured.
      const w = await Log.open("bench-warmup", { capacity: 4 << 20 });
      for (let i = 0; i < N; i++) w.append(rec);
      await w.flush();
      await w.close();
    }
    for (const durability of ["relaxed", "strict"]) {
      const tl = [];
      const appends = [];
      const pages = [];
      for (let k = 0; k < 5; k++) {
        const log = await Log.open(`bench-${run++}`, { capacity: 4 << 20, durability });
        const t = performance.now();
        for (let i = 0; i < N; i++) log.append(rec);
        appends.push(performance.now() - t);
        const dirty = log.dirtyPages;
        await log.flush();
        tl.push(performance.now() - t);
        pages.push(dirty);
        await log.close();
      }
      const raw = [];
      const db = await openDb(`bench-raw-${durability}`);
      const page = new Uint8Array(4096).fill(1);
      for (let k = 0; k < 5; k++) {
        const t = performance.now();
        const tx = db.transaction("s", "readwrite", { durability });
        const s = tx.objectStore("s");
        for (let i = 0; i < pages[0]; i++) s.put(page.slice(), i);
        s.put({ generation: k, pages: pages[0] }, "manifest");
        await done(tx);
        raw.push(performance.now() - t);
      }
      const one = [];
      for (let k = 0; k < 3; k++) {
        const t = performance.now();
        const tx = db.transaction("s", "readwrite", { durability });
        const s = tx.objectStore("s");
        for (let i = 0; i < N; i++) s.put(rec.slice(), `r${i}`);
        await done(tx);
        one.push(performance.now() - t);
      }
      const t = performance.now();
      for (let i = 0; i < N; i++) {
        const tx = db.transaction("s", "readwrite", { durability });
        tx.objectStore("s").put(rec.slice(), `p${i}`);
        await done(tx);
      }
      const perRecord = performance.now() - t;
      db.close();
      out[durability] = { tidelog: median(tl), appends: median(appends), pages: pages[0], raw: median(raw), one: median(one), perRecord };
    }
    // Reopen of a 4 MiB log: fill it (records of 1000 B, trimmed as needed), flush, time open.
    const big = await Log.open("bench-reopen", { capacity: 4 << 20, fullPolicy: "overwriteOldest" });
    const kb = new Uint8Array(1000).fill(3);
    while (big.stats().bytesUsed < (4 << 20) - 128 * 1024) big.append(kb);
    await big.flush();
    const used = big.stats().bytesUsed;
    await big.close();
    const reopen = [];
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      const l = await Log.open("bench-reopen");
      reopen.push(performance.now() - t);
      await l.close();
    }
    out.reopen = { ms: median(reopen), used };
    return out;
  }, N);
  const f = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
  const lines = [];
  for (const d of ["relaxed", "strict"]) {
    const x = r[d];
    lines.push(
      `${d}: tidelog ${N} x 100 B + one flush ${f(x.tidelog)} (the appends ${f(x.appends)}; ${x.pages} pages) | one put per record ${f(x.perRecord)} = ${(x.perRecord / x.tidelog).toFixed(0)}x slower | ` +
        `one transaction of ${N} puts ${f(x.one)} = ${(x.one / x.tidelog).toFixed(1)}x | raw floor (${x.pages} x 4 KiB pages + manifest, one transaction) ${f(x.raw)}: tidelog at ${(x.tidelog / x.raw).toFixed(2)}x of it`,
    );
  }
  lines.push(`reopen of a ${(r.reopen.used / 1048576).toFixed(2)} MiB log: ${f(r.reopen.ms)}`);
  for (const l of lines) console.log(`  bench: ${l}`);
  return "figures above";
}

