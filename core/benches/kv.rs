//! Criterion benches of the KV journal on `RamStorage` (4 KiB sectors, 4-byte program unit):
//! `set`, `get`, `set_multiple` throughput and compaction time, for both index variants.
//!
//! ```text
//! cargo bench -p tidelog --features sim,alloc --bench kv
//! ```
//!
//! * `kv_set/map` — `MapIndex`, 2 × 256 KiB, 1 000 keys overwritten in turn with 32-byte
//!   values (steady state: includes the compactions the mark triggers).
//! * `kv_set/scan` — `ScanIndex`, 2 × 8 KiB, 50 keys (includes its O(n²) compactions).
//! * `kv_set_multiple/map_16` — batches of 16 pairs, as `kv_set/map`.
//! * `kv_get/map_10k` — `MapIndex` holding 10 000 keys (compacted, 2 × 1 MiB).
//! * `kv_get/scan_50` — `ScanIndex` holding 50 keys (every get scans the journal).
//! * `kv_compact/map_10k` — compaction of 10 000 live keys (24-byte values) with `MapIndex`.
//! * `kv_compact/scan_50` — compaction of 50 live keys with `ScanIndex`.
//! * `kv_mount/map_10k` — mount (replay and index build) of the 10 000-key image.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tidelog::{Kv, KvConfig, KvIndex, MapIndex, RamStorage, ScanIndex};

const WS: usize = 4;
const SECTOR: usize = 4096;

fn ram(mem: &mut [u8]) -> RamStorage<'_> {
    mem.fill(0xFF);
    RamStorage::new(mem, WS, SECTOR).expect("geometry")
}

fn cfg() -> KvConfig {
    KvConfig::new().max_key_len(32).max_value_len(256)
}

fn key(i: usize) -> [u8; 8] {
    let mut k = *b"key00000";
    let d = format!("{:05}", i % 100_000);
    k[3..].copy_from_slice(d.as_bytes());
    k
}

fn value(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 31 + j * 7) as u8).collect()
}

fn filled<'a, I: KvIndex>(mem: &'a mut [u8], keys: usize, vlen: usize) -> Kv<RamStorage<'a>, I> {
    let mut kv: Kv<_, I> = Kv::format(ram(mem), cfg()).unwrap();
    let pairs: Vec<([u8; 8], Vec<u8>)> = (0..keys).map(|i| (key(i), value(i, vlen))).collect();
    for chunk in pairs.chunks(64) {
        let refs: Vec<(&[u8], &[u8])> = chunk.iter().map(|(k, v)| (&k[..], &v[..])).collect();
        kv.set_multiple(&refs).unwrap();
    }
    kv.compact().unwrap();
    kv
}

fn set(c: &mut Criterion) {
    let mut g = c.benchmark_group("kv_set");
    g.throughput(Throughput::Elements(1));
    let v = value(1, 32);
    let mut mem = vec![0u8; 2 * 256 * 1024];
    let mut kv: Kv<_, MapIndex> = filled(&mut mem, 1000, 32);
    let mut i = 0usize;
    g.bench_function("map", |b| {
        b.iter(|| {
            i += 1;
            kv.set(&key(i % 1000), black_box(&v)).unwrap();
        })
    });
    let mut mem = vec![0u8; 2 * 8 * 1024];
    let mut kv: Kv<_, ScanIndex> = filled(&mut mem, 50, 32);
    g.bench_function("scan", |b| {
        b.iter(|| {
            i += 1;
            kv.set(&key(i % 50), black_box(&v)).unwrap();
        })
    });
    g.finish();

    let mut g = c.benchmark_group("kv_set_multiple");
    g.throughput(Throughput::Elements(16));
    let mut mem = vec![0u8; 2 * 256 * 1024];
    let mut kv: Kv<_, MapIndex> = filled(&mut mem, 1000, 32);
    let keys: Vec<[u8; 8]> = (0..1000).map(key).collect();
    g.bench_function("map_16", |b| {
        b.iter(|| {
            i += 16;
            let refs: Vec<(&[u8], &[u8])> = (0..16)
                .map(|j| (&keys[(i + j) % 1000][..], &v[..]))
                .collect();
            kv.set_multiple(black_box(&refs)).unwrap();
        })
    });
    g.finish();
}

fn get(c: &mut Criterion) {
    let mut g = c.benchmark_group("kv_get");
    g.throughput(Throughput::Elements(1));
    let mut buf = [0u8; 256];
    let mut mem = vec![0u8; 2 * 1024 * 1024];
    let mut kv: Kv<_, MapIndex> = filled(&mut mem, 10_000, 24);
    let mut i = 0usize;
    g.bench_function("map_10k", |b| {
        b.iter(|| {
            i = (i + 7919) % 10_000;
            black_box(kv.get(&key(i), &mut buf).unwrap());
        })
    });
    let mut mem = vec![0u8; 2 * 8 * 1024];
    let mut kv: Kv<_, ScanIndex> = filled(&mut mem, 50, 32);
    g.bench_function("scan_50", |b| {
        b.iter(|| {
            i = (i + 7) % 50;
            black_box(kv.get(&key(i), &mut buf).unwrap());
        })
    });
    g.finish();
}

fn compact(c: &mut Criterion) {
    let mut g = c.benchmark_group("kv_compact");
    g.sample_size(20);
    let mut mem = vec![0u8; 2 * 1024 * 1024];
    let mut kv: Kv<_, MapIndex> = filled(&mut mem, 10_000, 24);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("map_10k", |b| b.iter(|| kv.compact().unwrap()));
    let mut mem = vec![0u8; 2 * 8 * 1024];
    let mut kv: Kv<_, ScanIndex> = filled(&mut mem, 50, 32);
    g.throughput(Throughput::Elements(50));
    g.bench_function("scan_50", |b| b.iter(|| kv.compact().unwrap()));
    g.finish();

    let mut g = c.benchmark_group("kv_mount");
    g.sample_size(20);
    let mut mem = vec![0u8; 2 * 1024 * 1024];
    drop(filled::<MapIndex>(&mut mem, 10_000, 24));
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("map_10k", |b| {
        b.iter(|| {
            let st = RamStorage::new(&mut mem, WS, SECTOR).unwrap();
            black_box(Kv::<_, MapIndex>::mount(st, cfg()).unwrap().stats());
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = set, get, compact
}
criterion_main!(benches);
