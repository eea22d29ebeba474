// What the browser tests stand on: a static server on 127.0.0.1 (the installed package, the
// golden images, the conformance scenarios, a blank page and a module worker), and Debian's
// /usr/bin/chromium started by hand with a profile directory and driven over CDP by
// playwright-core — started by hand so a test can SIGKILL the whole browser (its process group)
// and start it again on the same profile. Never a browser download.

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const npm = process.env.TIDELOG_NPM || "/var/tmp/tidelog-npm";
export const { chromium } = await import(pathToFileURL(join(npm, "node_modules/playwright-core/index.mjs")).href);
export const CHROMIUM = process.env.TIDELOG_CHROMIUM || "/usr/bin/chromium";
export const repo = resolve(new URL("../..", import.meta.url).pathname);

export function withTimeout(p, ms, what) {
  let t;
  const timeout = new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The loader line a served page needs (see `serve`). */
export const LOAD_PACKAGE = `<script type="module">import * as tidelog from "/tidelog/index.js"; window.tidelog = tidelog; window.ready = tidelog.init();</script>`;
const PAGE = `<!doctype html><meta charset="utf-8"><title>tidelog tests</title><body>
${LOAD_PACKAGE}`;

// A module worker: runs the job it is sent (an async function's source) with the package.
const WORKER = `import * as tidelog from "/tidelog/index.js";
self.onmessage = async (ev) => {
  try {
    await tidelog.init();
    const job = new Function("tidelog", "arg", "return (" + ev.data.job + ")(tidelog, arg)");
    self.postMessage({ ok: await job(tidelog, ev.data.arg) });
  } catch (e) {
    self.postMessage({ err: String(e && e.name) + ": " + String(e && e.message) });
  }
};`;

const types = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".json": "application/json" };

/** Serves the package at /tidelog/, tests/golden at /golden/, the scenarios at /scenarios/,
 * and `roots` (URL prefix -> directory) besides; `/` (and `/other`, a second tab) is `page`, a
 * page that loads the package into `window.tidelog` and starts `window.ready = init()`. */
export async function serve(pkg, { roots: more = {}, page = PAGE } = {}) {
  const roots = {
    "/tidelog/": resolve(pkg),
    "/golden/": join(repo, "tests/golden"),
    "/scenarios/": join(repo, "tests/conformance/scenarios"),
    ...Object.fromEntries(Object.entries(more).map(([prefix, dir]) => [prefix, resolve(dir)])),
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://127.0.0.1").pathname;
    if (path === "/" || path === "/other") {
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(page);
    }
    if (path === "/worker.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      return res.end(WORKER);
    }
    for (const [prefix, root] of Object.entries(roots)) {
      if (!path.startsWith(prefix)) continue;
      const file = resolve(root, "." + decodeURIComponent(path.slice(prefix.length - 1)));
      if (file.startsWith(root) && existsSync(file) && statSync(file).isFile()) {
        res.writeHead(200, { "content-type": types[extname(file)] || "application/octet-stream", "cache-control": "no-store" });
        return res.end(readFileSync(file));
      }
    }
    res.writeHead(404);
    res.end("not found");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** A fresh profile directory (removed by `cleanup`). */
export function profileDir() {
  return mkdtempSync(join(tmpdir(), "tidelog-chromium-"));
}
export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** Starts chromium on `profile` and connects: `{ context, kill(), close() }`. */
export async function launch(profile) {
  const proc = spawn(
    CHROMIUM,
    [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-default-browser-check", "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank",
    ],
    { detached: true, stdio: ["ignore", "ignore", "pipe"] },
  );
  const ws = await withTimeout(
    new Promise((resolveWs, reject) => {
      let err = "";
      proc.stderr.on("data", (d) => {
        err += d;
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) resolveWs(m[1]);
      });
      proc.on("exit", (code) => reject(new Error(`chromium exited (${code}): ${err.slice(-2000)}`)));
    }),
    60000,
    "chromium start",
  );
  proc.stderr.resume();
  const browser = await withTimeout(chromium.connectOverCDP(ws), 60000, "CDP connect");
  const context = browser.contexts()[0];
  let dead = false;
  const exited = new Promise((r) => proc.on("exit", r));
  return {
    browser,
    context,
    /** SIGKILL to the browser and every child process (no shutdown, no flush of its own). */
    async kill() {
      if (dead) return;
      dead = true;
      try {
        process.kill(-proc.pid, "SIGKILL");
      } catch {
        // already gone
      }
      await withTimeout(exited, 10000, "chromium exit after SIGKILL").catch(() => {});
    },
    /** A normal shutdown (the browser writes back what it holds). */
    async close() {
      if (dead) return;
      dead = true;
      await withTimeout(browser.close(), 20000, "chromium close").catch(() => {});
      try {
        process.kill(-proc.pid, "SIGTERM");
      } catch {
        // already gone
      }
      await withTimeout(exited, 20000, "chromium exit").catch(() => {
        try {
          process.kill(-proc.pid, "SIGKILL");
        } catch {
          // gone
        }
      });
    },
  };
}

/** A page of `context` at `origin` with the package loaded; page errors are collected. */
export async function openPage(context, origin, path = "/") {
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  await withTimeout(page.goto(origin + path), 30000, "page load");
  await withTimeout(page.evaluate(() => window.ready), 30000, "init");
  return page;
}

export async function reload(page) {
  await withTimeout(page.reload(), 30000, "reload");
  await withTimeout(page.evaluate(() => window.ready), 30000, "init after reload");
}

/** CRC-32C (Castagnoli), as FORMAT.md and the .expect image lines use it. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32c(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
