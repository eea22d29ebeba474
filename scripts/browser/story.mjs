// The browser's part of the cross-language story: the *installed* npm package in headless
// Chromium (Debian's /usr/bin/chromium, driven by playwright-core; pages served on 127.0.0.1).
//
//   node scripts/browser/story.mjs demo      --package DIR --image LOG.img --screenshot OUT.png
//        opens the flash dump with Log.fromImage, renders the readings as a table and prints
//        the page's rendered text (and saves a screenshot)
//   node scripts/browser/story.mjs read      --package DIR --images DIR --names A,B,...
//        for each scenario, opens DIR/NAME.log.bin and DIR/NAME.kv.bin (when present) with
//        Log.fromImage / Kv.fromImage and prints, as JSON, the state lines the page read
//        (first, next, records, consumers, KV entries: the .expect format)
//   node scripts/browser/story.mjs roundtrip --package DIR --image IN.img --out OUT.img --append N
//        opens IN.img writable (Log.fromImage(bytes, { writable: true })), checks it reads every
//        record, appends a batch of N, exports the image to OUT.img; prints what it read (JSON)
//
// DIR (--package) is the installed package: node_modules/tidelog of an `npm install` of the
// tarball. Every step has a timeout; the server and the browser are stopped on exit.

import { existsSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CHROMIUM, LOAD_PACKAGE, chromium, serve, withTimeout } from "../../bindings-wasm/tests/harness.mjs";

const [mode, ...rest] = process.argv.slice(2);
const opt = {};
for (let i = 0; i < rest.length; i += 2) {
  if (!rest[i].startsWith("--") || rest[i + 1] === undefined) usage();
  opt[rest[i].slice(2)] = rest[i + 1];
}
function usage() {
  console.error("usage: story.mjs demo|read|roundtrip --package DIR ... (see the header)");
  process.exit(2);
}
if (!["demo", "read", "roundtrip"].includes(mode) || !opt.package) usage();
const STEP_MS = 60000;

// ---- a server on 127.0.0.1 (bindings-wasm/tests/harness.mjs): the package, the data, the page ----
const data = resolve(mode === "read" ? opt.images : dirname(opt.image ?? "."));
const PAGE = `<!doctype html><meta charset="utf-8"><title>tidelog: a device's flash in the browser</title>
<style>body{font:14px system-ui,sans-serif;margin:24px}table{border-collapse:collapse}
td,th{border:1px solid #bbb;padding:2px 8px;text-align:right}caption{text-align:left;font-weight:bold;margin:8px 0}</style>
<h1>tidelog: a device's flash in the browser</h1><p id="status">loading…</p><div id="out"></div>
${LOAD_PACKAGE}`;
const server = await serve(opt.package, { roots: { "/data/": data }, page: PAGE });
const { origin } = server;

const browser = await withTimeout(
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  }),
  STEP_MS,
  "chromium launch",
);
let failed = false;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await withTimeout(page.goto(origin + "/"), STEP_MS, "page load");
  await withTimeout(page.evaluate(() => window.ready), STEP_MS, "init");
  if (mode === "demo") await demo(page);
  else if (mode === "read") await read(page);
  else await roundtrip(page);
  if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
} catch (e) {
  console.error(`story.mjs ${mode}: ${e.stack || e}`);
  failed = true;
} finally {
  await browser.close().catch(() => {});
  server.close();
}
process.exit(failed ? 1 : 0);

// ---- the modes ----

async function demo(page) {
  const file = "/data/" + opt.image.split("/").pop();
  const shown = await withTimeout(
    page.evaluate(async (url) => {
      const { Log } = window.tidelog;
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const log = Log.fromImage(bytes); // read-only, geometry from the image
      const s = log.stats();
      const cursors = log.consumers();
      const rows = [];
      for (const [offset, r] of log) {
        const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
        rows.push(`<tr><td>${offset}</td><td>${v.getUint16(10, true)}</td><td>${v.getInt32(12, true)}</td><td>${v.getUint32(4, true)}</td></tr>`);
      }
      const pending = cursors.map(([n, o]) => `${n} at ${o}`).join(", ") || "none";
      document.getElementById("status").textContent =
        `${bytes.length} B image, write unit ${s.writeSize} B, ${s.segmentsTotal} segments of ${s.segmentSize} B; ` +
        `records ${s.firstOffset}..${s.nextOffset}; consumers: ${pending}`;
      document.getElementById("out").innerHTML =
        `<table><caption>readings on the device's flash</caption><tr><th>offset</th><th>sensor</th><th>value</th><th>batch from</th></tr>${rows.join("")}</table>`;
      return { records: rows.length, first: s.firstOffset, next: s.nextOffset };
    }, file),
    STEP_MS,
    "render",
  );
  const text = await page.innerText("body");
  console.log(text.replace(/\t/g, "  ").replace(/\n{2,}/g, "\n").trim());
  await page.screenshot({ path: opt.screenshot, fullPage: true });
  console.log(`browser: ${shown.records} records (offsets ${shown.first}..${shown.next}); screenshot ${opt.screenshot}`);
}

async function read(page) {
  const names = opt.names.split(",").filter(Boolean);
  const out = {};
  for (const name of names) {
    const has = (kind) => existsSync(join(data, `${name}.${kind}.bin`));
    out[name] = await withTimeout(
      page.evaluate(
        async ([name, hasLog, hasKv]) => {
          const { Log, Kv } = window.tidelog;
          const hex = (b) => (b.length ? Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("") : "-");
          const get = async (kind) => new Uint8Array(await (await fetch(`/data/${name}.${kind}.bin`)).arrayBuffer());
          const lines = [];
          if (hasLog) {
            const log = Log.fromImage(await get("log"));
            const s = log.stats();
            lines.push(`first ${s.firstOffset}`, `next ${s.nextOffset}`);
            for (const [o, r] of log) lines.push(`record ${o} ${hex(r)}`);
            for (const [n, o] of log.consumers()) lines.push(`consumer ${n} ${o}`);
          }
          if (hasKv) {
            const kv = Kv.fromImage(await get("kv"));
            for (const [k, v] of kv.entries()) lines.push(`kv ${hex(k)} ${hex(v)}`);
          }
          return lines;
        },
        [name, has("log"), has("kv")],
      ),
      STEP_MS,
      `read ${name}`,
    );
  }
  console.log(JSON.stringify(out));
}

async function roundtrip(page) {
  const file = "/data/" + opt.image.split("/").pop();
  const n = Number(opt.append ?? 3);
  const res = await withTimeout(
    page.evaluate(
      async ([url, n]) => {
        const { Log } = window.tidelog;
        const log = Log.fromImage(new Uint8Array(await (await fetch(url)).arrayBuffer()), { writable: true });
        const records = [];
        for (const [o, r] of log) records.push([o, Array.from(r)]);
        const batch = Array.from({ length: n }, (_, i) => `from the browser ${i}`);
        const at = log.appendBatch(batch);
        const consumers = log.consumers();
        return { records, at, batch, consumers, image: Array.from(log.exportImage()) };
      },
      [file, n],
    ),
    STEP_MS,
    "roundtrip",
  );
  writeFileSync(opt.out, Uint8Array.from(res.image));
  delete res.image;
  console.log(JSON.stringify(res));
}
