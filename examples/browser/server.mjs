// The offline-outbox example's server (node:http only, no dependencies): serves the page
// (this directory), maps /tidelog/ to the installed npm package, and plays the upload
// endpoint the page drains into.
//
//   node examples/browser/server.mjs [--port 8080] [--package DIR] [--offline] [--delay-ms N]
//
//   POST /ack       {records: [[offset, text], ...]} -> 200 {acked} (503 while offline). Records
//                   are deduplicated by offset (a second copy is counted, not stored); `acked` is
//                   one past the contiguous run of offsets received (starting at the first
//                   offset this server ever saw: 0 for a fresh page).
//   GET  /received  {records: [[offset, text], ...] (ascending), duplicates}
//   POST /online, POST /offline, GET /status  the simulated reachability of /ack
//   POST /slow      {ms} (or ?ms=N): delay every /ack reply by N ms — after the records are
//                   stored — so a test can reload the page while a batch is in flight.
//
// Prints `listening http://127.0.0.1:PORT` once it accepts connections; stops on SIGTERM/SIGINT.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = { port: 0, package: path.join(here, "node_modules", "tidelog"), offline: false, delayMs: 0 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => inline ?? argv[++i];
    if (flag === "--port") opts.port = Number(value());
    else if (flag === "--package") opts.package = path.resolve(value());
    else if (flag === "--offline") opts.offline = true;
    else if (flag === "--delay-ms") opts.delayMs = Number(value());
    else throw new Error(`server.mjs: unknown argument ${argv[i]}`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0) throw new Error("server.mjs: --port takes a port number");
  if (!(opts.delayMs >= 0)) throw new Error("server.mjs: --delay-ms takes a number of ms");
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
if (!fs.existsSync(path.join(opts.package, "index.js"))) {
  console.error(`server.mjs: no package at ${opts.package} (see README.md: npm install the tarball, or pass --package DIR)`);
  process.exit(2);
}

// --- the upload endpoint's state --------------------------------------------------------------

const received = new Map(); // offset -> text
let duplicates = 0;
let base = null; // the first offset ever received: where the contiguous run starts
let contiguous = 0; // one past the contiguous run
let online = !opts.offline;
let delayMs = opts.delayMs;

function store(records) {
  for (const [offset, text] of records) {
    if (received.has(offset)) {
      duplicates++;
      continue;
    }
    received.set(offset, text);
    if (base === null) base = contiguous = offset;
  }
  while (received.has(contiguous)) contiguous++;
  return contiguous;
}

function validRecords(body) {
  const ok = body && Array.isArray(body.records) && body.records.every(
    (r) => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && r[0] >= 0 && typeof r[1] === "string");
  return ok ? body.records : null;
}

// --- HTTP -------------------------------------------------------------------------------------

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".md": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
};

function send(res, status, body, type = "application/json") {
  const data = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(data);
}

function readBody(req, limit = 1 << 20) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > limit) reject(new Error("body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

async function readJson(req) {
  const text = await readBody(req);
  return text ? JSON.parse(text) : {};
}

/** A file under `root` for the URL path `rel` (null when outside it or missing). */
function fileUnder(root, rel) {
  let decoded;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  const file = path.resolve(root, "." + path.posix.normalize("/" + decoded));
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  try {
    return fs.statSync(file).isFile() ? file : null;
  } catch {
    return null;
  }
}

function serveStatic(res, pathname) {
  let file;
  if (pathname.startsWith("/tidelog/")) file = fileUnder(opts.package, pathname.slice("/tidelog/".length));
  else if (pathname.startsWith("/node_modules/")) file = null; // only via /tidelog/
  else file = fileUnder(here, pathname === "/" ? "index.html" : pathname.slice(1));
  if (!file) return send(res, 404, "not found\n", "text/plain; charset=utf-8");
  send(res, 200, fs.readFileSync(file), TYPES[path.extname(file)] ?? "application/octet-stream");
}

async function handle(req, res) {
  const url = new URL(req.url, "http://127.0.0.1");
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case "POST /ack": {
      if (!online) return send(res, 503, { error: "offline (simulated): POST /online to reconnect" });
      const records = validRecords(await readJson(req));
      if (!records) return send(res, 400, { error: "expected {records: [[offset, text], ...]}" });
      const acked = store(records);
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return send(res, 200, { acked });
    }
    case "GET /received": {
      const records = [...received].sort((a, b) => a[0] - b[0]);
      return send(res, 200, { records, duplicates });
    }
    case "POST /online":
    case "POST /offline":
      online = route === "POST /online";
      return send(res, 200, { online });
    case "GET /status":
      return send(res, 200, { online, delayMs });
    case "POST /slow": {
      const body = await readJson(req);
      const ms = Number(url.searchParams.get("ms") ?? body.ms ?? 0);
      if (!(ms >= 0)) return send(res, 400, { error: "ms must be >= 0" });
      delayMs = ms;
      return send(res, 200, { delayMs });
    }
    default:
      if (req.method === "GET" || req.method === "HEAD") return serveStatic(res, url.pathname);
      return send(res, 405, { error: `${route}: no such endpoint` });
  }
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) send(res, 400, { error: String(e.message || e) });
    else res.destroy();
  });
});

server.listen(opts.port, "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${server.address().port}`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // delayed /ack replies and keep-alive sockets
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
