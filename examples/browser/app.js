// The offline-outbox example's behaviour: records events into a tidelog Log ("outbox", in
// IndexedDB) and delivers them to the server through the consumer "upload".
//
// The guarantees come from the order of operations:
//   recording  append (or appendBatch: all or none) -> await flush() -> only then "recorded";
//   draining   read up to BATCH records from the consumer's position -> POST /ack -> on 200
//              {acked}: commit(acked) -> await flush() -> trimFront(acked).
// A reload or crash before the commit is flushed resends the batch: at-least-once delivery,
// made exactly-once by the server keeping records by offset. window.outbox is the test's handle.

import { init, Log, LockedError } from "/tidelog/index.js";

const BATCH = 10; // records per POST
const TICK_MS = 500; // automatic drain period while the server is reachable
const SHOWN = 100; // queue rows rendered at most

const $ = (id) => document.getElementById(id);
const decoder = new TextDecoder();

let log; // the Log
let upload; // its Consumer
let online = false; // what the server last said about /ack's reachability
let draining = null; // the drain in flight (one at a time)

// --- the log ----------------------------------------------------------------------------------

/** Opens the log; a reload can race the previous page's writer lock, so LockedError is retried. */
async function openLog() {
  for (let attempt = 0; ; attempt++) {
    try {
      return await Log.open("outbox", { capacity: 1 << 20 });
    } catch (e) {
      if (!(e instanceof LockedError) || attempt >= 50) throw e;
      status("the outbox is open in another tab: waiting…", "warn");
      await sleep(100);
    }
  }
}

function text(bytes) {
  return decoder.decode(bytes);
}

/** `[[offset, text], ...]` from the consumer's position up to `stop` (default: the end). */
function pending(stop) {
  return Array.from(log.entries(upload.position, stop), ([o, r]) => [o, text(r)]);
}

function state() {
  return { next: log.nextOffset, committed: upload.committed ?? 0, pending: pending() };
}

async function record(value) {
  if (typeof value !== "string" || value === "") throw new TypeError("record takes a non-empty string");
  const offset = log.append(value);
  await log.flush();
  note(`recorded #${offset}`);
  status(`recorded #${offset}`, "ok");
  render();
  return offset;
}

async function recordBatch(values) {
  if (!Array.isArray(values) || values.length === 0) throw new TypeError("recordBatch takes a non-empty array of strings");
  const first = log.appendBatch(values); // one frame: after a crash all of it or none
  await log.flush();
  const last = first + values.length - 1;
  note(`recorded #${first}–#${last} (one batch)`);
  status(`recorded #${first}–#${last}`, "ok");
  render();
  return first;
}

// --- delivery ---------------------------------------------------------------------------------

/** Sends one batch; concurrent calls share the drain in flight. Resolves to
 * `{sent, acked}` (`acked` null when the server did not acknowledge). */
function drain() {
  if (!draining) {
    draining = drainOnce().finally(() => {
      draining = null;
      render();
    });
  }
  return draining;
}

async function drainOnce() {
  const from = upload.position;
  const next = log.nextOffset;
  if (from >= next) return { sent: 0, acked: from };
  const records = pending(Math.min(from + BATCH, next));
  const range = `#${from}–#${from + records.length - 1}`;
  let res;
  try {
    res = await fetch("/ack", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ records }),
    });
  } catch (e) {
    status(`server unreachable (${e.message}): will retry`, "warn");
    return { sent: records.length, acked: null };
  }
  if (res.status !== 200) {
    status(`server answered ${res.status}: ${range} stays queued`, "warn");
    note(`sent ${range}: HTTP ${res.status}, kept`);
    return { sent: records.length, acked: null };
  }
  const { acked } = await res.json();
  if (!Number.isSafeInteger(acked)) throw new Error(`server sent a bad ack: ${JSON.stringify(acked)}`);
  const upTo = Math.min(acked, log.nextOffset);
  if (upTo > upload.position) {
    upload.commit(upTo); // everything below upTo is delivered…
    await log.flush(); // …durably: after this, a reload no longer resends it
    if (upTo > log.firstOffset) log.trimFront(upTo); // reclaim; persisted by the next flush
  }
  note(`sent ${range}: acked up to #${acked}`);
  status(`delivered up to #${acked}`, "ok");
  return { sent: records.length, acked };
}

// --- the server's reachability (simulated by server.mjs) ---------------------------------------

async function setOnline(want) {
  const res = await fetch(want ? "/online" : "/offline", { method: "POST" });
  online = (await res.json()).online;
  $("online").checked = online;
  note(online ? "server reachable" : "server unreachable (offline)");
  render();
  if (online) drain();
}

async function readOnline() {
  try {
    online = (await (await fetch("/status")).json()).online;
  } catch {
    online = false;
  }
  $("online").checked = online;
}

// --- UI ---------------------------------------------------------------------------------------

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function status(message, kind = "") {
  $("status").textContent = message;
  $("status").className = kind;
}

function note(message) {
  const li = document.createElement("li");
  const t = document.createElement("time");
  t.textContent = new Date().toLocaleTimeString();
  li.append(t, message);
  $("activity").prepend(li);
  while ($("activity").children.length > 12) $("activity").lastChild.remove();
}

function showError(e) {
  $("error").style.display = "block";
  $("error").textContent = `Error: ${e && e.message ? e.message : e}`;
  console.error(e);
}

function render() {
  const position = upload.position;
  const next = log.nextOffset;
  $("recorded").textContent = next;
  $("delivered").textContent = upload.committed ?? 0;
  $("pending").textContent = next - position;
  const rows = pending(Math.min(position + SHOWN, next)).map(([o, t]) => {
    const tr = document.createElement("tr");
    const a = document.createElement("td");
    const b = document.createElement("td");
    a.className = "offset";
    a.textContent = o;
    b.textContent = t;
    tr.append(a, b);
    return tr;
  });
  if (next - position > SHOWN) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td class="offset">…</td><td>and ${next - position - SHOWN} more</td>`;
    rows.push(tr);
  }
  $("queue").tBodies[0].replaceChildren(...rows);
  $("empty").hidden = rows.length > 0;
  const s = log.stats();
  $("stats").textContent = `log "outbox" keeps offsets [${s.firstOffset}, ${s.nextOffset}) (delivered records are ` +
    `trimmed): ${s.bytesUsed} of ${s.capacity} bytes used, ${s.segmentsUsed}/${s.segmentsTotal} segments`;
}

function guard(f) {
  return (...args) => f(...args).catch(showError);
}

function wire() {
  $("record-form").addEventListener("submit", guard(async (ev) => {
    ev.preventDefault();
    const value = $("text").value.trim() || `event at ${new Date().toLocaleTimeString()}`;
    await record(value);
    $("text").value = "";
  }));
  $("record5").addEventListener("click", guard(async () => {
    const base = $("text").value.trim() || "event";
    await recordBatch([1, 2, 3, 4, 5].map((i) => `${base} ${i}/5`));
    $("text").value = "";
  }));
  $("drain").addEventListener("click", guard(() => drain()));
  $("online").addEventListener("change", guard(() => setOnline($("online").checked)));
  setInterval(() => {
    if (online && !draining && upload.position < log.nextOffset) drain().catch(showError);
  }, TICK_MS);
}

async function main() {
  await init(); // loads the wasm module (Log.open would too)
  log = await openLog();
  upload = log.consumer("upload");
  await readOnline();
  wire();
  render();
  const n = log.nextOffset - upload.position;
  note(`opened the outbox: ${n} pending`);
  status(`ready: ${n} pending`);
  window.outbox = { record, recordBatch, drain, state, ready: true };
}

main().catch(showError);
