// Compiled by `tsc --strict --noEmit` against the installed package (scripts/test-browser.sh):
// the .d.ts describes the API as the README uses it. Never run.
import { init, Log, Kv, Consumer, TidelogError, OutOfRangeError, QuotaError, FullError, type Stats } from "tidelog";

export async function outbox(send: (r: Uint8Array) => Promise<void>): Promise<number> {
  await init();
  const log: Log = await Log.open("outbox", { capacity: 1 << 20, fullPolicy: "reject", durability: "relaxed", autoFlush: 100 });
  const first: number = log.append("hello");
  log.appendBatch([new Uint8Array([1, 2]), "two", new ArrayBuffer(3)]);
  log.extend(["a", "b"]);
  await log.flush({ durability: "strict" });
  const up: Consumer = log.consumer("upload");
  for (const [offset, rec] of up) {
    await send(rec);
    up.commit(offset + 1);
  }
  const committed: number | undefined = up.committed;
  for (const [o, r] of log.entries(0, 10)) void [o, r.byteLength];
  const s: Stats = log.stats();
  const image: Uint8Array = log.exportImage();
  const view = Log.fromImage(image);
  const stop = log.onCommit((e) => void e.generation);
  stop();
  try {
    log.read(-1);
  } catch (e) {
    if (e instanceof OutOfRangeError) void [e.first, e.next, e.code, e.codeName];
    else if (e instanceof QuotaError || e instanceof FullError || e instanceof TidelogError) void e.code;
  }
  const kv = await Kv.open("settings", { capacity: 16384 });
  kv.set("k", "v");
  kv.setMultiple([["a", "1"], [new Uint8Array([0]), "2"]]);
  const v: Uint8Array | undefined = kv.get("k");
  for (const [k, val] of kv) void [k.length, val.length];
  await kv.close();
  await log.close();
  return first + (committed ?? 0) + s.nextOffset + view.length + (v?.length ?? 0);
}
