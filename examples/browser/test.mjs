// The offline-outbox example's end-to-end test: starts server.mjs (offline) and a headless
// Debian chromium (playwright-core, never a downloaded browser), then drives the page through
// offline recording, a reload, draining, and a reload in the middle of a drain; checks the
// server holds every offset exactly once; saves a full-page screenshot.
//
//   node examples/browser/test.mjs --package DIR [--screenshot OUT.png]
//
// Env: TIDELOG_NPM (default /var/tmp/tidelog-npm: node_modules/playwright-core),
// TIDELOG_CHROMIUM (default /usr/bin/chromium). Exits non-zero on any failure.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const STEP_TIMEOUT_MS = 30_000;
const SLOW_ACK_MS = 3000; // the in-flight batch's reply delay: the reload happens inside it

function parseArgs(argv) {
  const opts = { package: path.join(here, "node_modules", "tidelog"), screenshot: null };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => inline ?? argv[++i];
    if (flag === "--package") opts.package = path.resolve(value());
    else if (flag === "--screenshot") opts.screenshot = path.resolve(value());
    else throw new Error(`test.mjs: unknown argument ${argv[i]}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const npmDir = process.env.TIDELOG_NPM || "/var/tmp/tidelog-npm";
const chromiumPath = process.env.TIDELOG_CHROMIUM || "/usr/bin/chromium";

// --- helpers ----------------------------------------------------------------------------------

const started = Date.now();
let stepNo = 0;

function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs one step under a timeout and prints `step N: name: detail (ms)`. */
async function step(name, f) {
  stepNo++;
  const t0 = Date.now();
  const detail = await withTimeout(Promise.resolve().then(f), STEP_TIMEOUT_MS, `step ${stepNo} (${name})`);
  console.log(`step ${stepNo}: ${name}: ${detail ?? "ok"} (${Date.now() - t0} ms)`);
}

/** Polls `f` until it returns a truthy value (then returns it). */
async function until(f, what, ms = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`waiting for ${what}: timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// --- the server -------------------------------------------------------------------------------

let server = null;

function startServer() {
  server = spawn(process.execPath, [path.join(here, "server.mjs"), "--port", "0", "--offline", "--package", opts.package], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return withTimeout(new Promise((resolve, reject) => {
    let out = "";
    server.stdout.setEncoding("utf8");
    server.stdout.on("data", (chunk) => {
      out += chunk;
      const m = out.match(/listening (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`server.mjs exited (${code}) before listening`)));
    server.on("error", reject);
  }), STEP_TIMEOUT_MS, "starting server.mjs");
}

function stopServer() {
  if (!server || server.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => server.kill("SIGKILL"), 5000);
    server.on("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    server.kill("SIGTERM");
  });
}

let base; // the server's URL

async function api(method, route, body) {
  const res = await fetch(base + route, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  check(res.ok, `${method} ${route}: HTTP ${res.status}`);
  return res.json();
}

/** Checks the server holds exactly `texts` (index = offset), each once. */
async function checkReceived(texts) {
  const { records, duplicates } = await api("GET", "/received");
  const offsets = records.map(([o]) => o);
  check(offsets.length === texts.length && offsets.every((o, i) => o === i),
    `server has offsets 0..${texts.length - 1} exactly once (has [${offsets.join(",")}])`);
  records.forEach(([o, t]) => check(t === texts[o], `record #${o} is ${JSON.stringify(texts[o])}, server has ${JSON.stringify(t)}`));
  return duplicates;
}

// --- the browser ------------------------------------------------------------------------------

let context = null;
let profile = null;
const pageLog = [];

async function launch() {
  const pw = await import(pathToFileURL(path.join(npmDir, "node_modules", "playwright-core", "index.mjs")).href);
  check(fs.existsSync(chromiumPath), `chromium at ${chromiumPath} (set TIDELOG_CHROMIUM)`);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), "tidelog-outbox-profile-"));
  context = await pw.chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => pageLog.push(`pageerror: ${e.message}`));
  return page;
}

async function ready(page) {
  await page.waitForFunction(() => (window.outbox && window.outbox.ready) || document.getElementById("error").textContent,
    null, { timeout: STEP_TIMEOUT_MS });
  const error = await page.textContent("#error");
  check(!error, `page opened without error (${error})`);
}

const state = (page) => page.evaluate(() => window.outbox.state());

/** Checks the page's state and its rendering agree on what is pending. */
async function checkPending(page, texts, committed) {
  const s = await state(page);
  check(s.next === texts.length, `nextOffset is ${texts.length} (is ${s.next})`);
  check(s.committed === committed, `committed is ${committed} (is ${s.committed})`);
  const want = texts.slice(committed).map((t, i) => [committed + i, t]);
  check(JSON.stringify(s.pending) === JSON.stringify(want), `pending is ${JSON.stringify(want)} (is ${JSON.stringify(s.pending)})`);
  const rows = await page.$$eval("#queue tbody tr", (trs) => trs.map((tr) => [Number(tr.cells[0].textContent), tr.cells[1].textContent]));
  check(JSON.stringify(rows) === JSON.stringify(want), `the queue shows ${want.length} rows (shows ${rows.length})`);
  check(await page.textContent("#pending") === String(want.length), "the pending count is shown");
}

async function setOnline(page, on) {
  const box = page.locator("#online");
  if (on) await box.check();
  else await box.uncheck();
  await until(async () => (await api("GET", "/status")).online === on, `the server to be ${on ? "online" : "offline"}`);
}

// --- the scenario -----------------------------------------------------------------------------

async function run() {
  const texts = []; // what the page recorded, index = offset
  let page;
  await step("start server.mjs (offline) and chromium", async () => {
    base = await startServer();
    page = await launch();
    await page.goto(base + "/");
    await ready(page);
    return base;
  });

  await step("record 3 events and a batch of 5 while offline", async () => {
    for (const t of ["sign-in", "open report", "edit title"]) {
      await page.fill("#text", t);
      await page.click("#record");
      await page.waitForFunction((o) => document.getElementById("status").textContent === `recorded #${o}`, texts.length);
      texts.push(t);
    }
    await page.fill("#text", "photo");
    await page.click("#record5");
    await page.waitForFunction(() => document.getElementById("status").textContent === "recorded #3–#7");
    for (let i = 1; i <= 5; i++) texts.push(`photo ${i}/5`);
    await page.click("#drain"); // offline: 503, nothing leaves the queue
    await page.waitForFunction(() => document.getElementById("status").textContent.startsWith("server answered 503"));
    await checkPending(page, texts, 0);
    const { records } = await api("GET", "/received");
    check(records.length === 0, `the server received nothing (has ${records.length})`);
    return "8 pending, server received 0";
  });

  await step("reload: the queue is durable", async () => {
    await page.reload();
    await ready(page);
    await checkPending(page, texts, 0);
    return "still 8 pending";
  });

  await step("switch online and drain", async () => {
    await setOnline(page, true);
    await until(async () => (await state(page)).pending.length === 0, "the queue to drain");
    await checkPending(page, texts, 8);
    const dups = await checkReceived(texts);
    check(dups === 0, `no duplicates yet (${dups})`);
    return "server has offsets 0..7 exactly once";
  });

  let inFlight;
  await step("record 12 more offline, reload in the middle of a drain", async () => {
    await setOnline(page, false);
    for (let i = 1; i <= 7; i++) {
      const t = `note ${i}`;
      check(await page.evaluate((x) => window.outbox.record(x), t) === texts.length, `${t} gets offset ${texts.length}`);
      texts.push(t);
    }
    const batch = [1, 2, 3, 4, 5].map((i) => `scan ${i}/5`);
    check(await page.evaluate((b) => window.outbox.recordBatch(b), batch) === texts.length, "the batch's first offset");
    texts.push(...batch);
    await checkPending(page, texts, 8);
    await api("POST", "/slow", { ms: SLOW_ACK_MS }); // the server stores, then holds its reply
    await setOnline(page, true); // the page drains #8–#17 at once
    inFlight = await until(async () => {
      const { records } = await api("GET", "/received");
      return records.length > 8 && records.length;
    }, "the server to receive the next batch");
    await api("POST", "/offline"); // so the reloaded page does not resend before we look
    await page.reload(); // the reply (and the commit it leads to) never reaches the page
    await ready(page);
    await checkPending(page, texts, 8);
    return `server stored #8–#${inFlight - 1} but the page never committed them: 12 pending after the reload`;
  });

  let duplicates;
  await step("drain after the interrupted batch", async () => {
    await api("POST", "/slow", { ms: 0 });
    await setOnline(page, true);
    await until(async () => (await state(page)).pending.length === 0, "the queue to drain");
    await checkPending(page, texts, 20);
    duplicates = await checkReceived(texts);
    check(duplicates > 0, "the interrupted batch was resent (and dropped by the server)");
    return `server has offsets 0..19 exactly once, ${duplicates} duplicates dropped`;
  });

  await step("screenshot", async () => {
    await setOnline(page, false);
    await page.fill("#text", "offline again");
    await page.click("#record");
    await page.waitForFunction(() => document.getElementById("status").textContent === "recorded #20");
    if (!opts.screenshot) return "skipped (no --screenshot)";
    await page.screenshot({ path: opts.screenshot, fullPage: true });
    return opts.screenshot;
  });

  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`outbox example: ok (20 records delivered exactly once, ${duplicates} duplicates dropped, 2 reloads, ${secs} s)`);
}

async function cleanup() {
  if (context) await withTimeout(context.close(), 10_000, "closing chromium").catch((e) => console.error(e.message));
  await stopServer();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
}

process.on("SIGINT", () => cleanup().finally(() => process.exit(130)));
process.on("SIGTERM", () => cleanup().finally(() => process.exit(143)));

let failed = false;
try {
  await run();
} catch (e) {
  failed = true;
  console.error(`outbox example: FAILED at step ${stepNo}: ${e.message}`);
  if (pageLog.length) console.error(`page output:\n  ${pageLog.slice(-20).join("\n  ")}`);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
