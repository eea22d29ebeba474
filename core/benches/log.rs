//! Criterion benches of the log on `RamStorage`: append (single and batched), read by offset,
//! iteration (the borrowing `Iter` and a detached `ReadCursor`) and mount.
//!
//! ```text
//! cargo bench -p tidelog --features sim
//! ```
//!
//! Every log uses 4 KiB sectors and a 4-byte program unit. Append benches run on a ring
//! (`FullPolicy::OverwriteOldest`) so they can run indefinitely; the whole run stays well
//! under three minutes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tidelog::{Config, FullPolicy, Log, RamStorage};

const WRITE_SIZE: usize = 4;
const SECTOR: usize = 4096;
/// RAM log size for the append / read / iterate benches.
const LOG_BYTES: usize = 4 << 20;
/// 64 KiB segments for the 4 MiB log.
const SEGMENT_SECTORS: u32 = 16;

fn ring_config(segment_sectors: u32) -> Config {
    Config::new()
        .segment_sectors(segment_sectors)
        .full_policy(FullPolicy::OverwriteOldest)
}

fn ram(mem: &mut [u8]) -> RamStorage<'_> {
    RamStorage::new(mem, WRITE_SIZE, SECTOR).expect("geometry")
}

/// Deterministic record contents (xorshift64*): payload bytes are not all alike.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

fn record(len: usize, seed: u64) -> Vec<u8> {
    let mut r = vec![0u8; len];
    Rng(seed | 1).fill(&mut r);
    r
}

/// A ring log over `mem`, appended to until it has wrapped (steady state).
fn full_ring<'a>(mem: &'a mut [u8], segment_sectors: u32, rec: &[u8]) -> Log<RamStorage<'a>> {
    mem.fill(0xFF);
    let capacity = mem.len() as u64;
    let mut log: Log<_> = Log::format(ram(mem), ring_config(segment_sectors)).expect("format");
    let records = capacity * 3 / 2 / (rec.len() as u64 + 8);
    for _ in 0..records {
        log.append(rec).expect("append");
    }
    log
}

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append");
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut mem = vec![0xFFu8; LOG_BYTES];
    for len in [64usize, 1024] {
        let rec = record(len, len as u64);
        let mut log: Log<_> = Log::format(ram(&mut mem), ring_config(SEGMENT_SECTORS)).unwrap();
        g.throughput(Throughput::ElementsAndBytes {
            elements: 1,
            bytes: len as u64,
        });
        g.bench_function(BenchmarkId::new("record", format!("{len}B")), |b| {
            b.iter(|| log.append(black_box(&rec)).unwrap())
        });
    }
    let recs: Vec<Vec<u8>> = (0..16).map(|i| record(64, 100 + i)).collect();
    let batch: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
    let mut log: Log<_> = Log::format(ram(&mut mem), ring_config(SEGMENT_SECTORS)).unwrap();
    g.throughput(Throughput::ElementsAndBytes {
        elements: 16,
        bytes: 16 * 64,
    });
    g.bench_function("batch/16x64B", |b| {
        b.iter(|| log.append_batch(black_box(&batch)).unwrap())
    });
    g.finish();
}

fn read(c: &mut Criterion) {
    let mut g = c.benchmark_group("read");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut mem = vec![0xFFu8; LOG_BYTES];
    let rec = record(64, 7);
    let mut log = full_ring(&mut mem, SEGMENT_SECTORS, &rec);
    let first = log.first_offset();
    let next = log.next_offset();
    let span = next - first;
    let mut buf = [0u8; 64];

    g.throughput(Throughput::ElementsAndBytes {
        elements: 1,
        bytes: 64,
    });
    let mut rng = Rng(0x5eed);
    g.bench_function("random_offset/64B", |b| {
        b.iter(|| {
            let off = first + rng.next() % span;
            log.read(black_box(off), &mut buf).unwrap()
        })
    });

    g.throughput(Throughput::ElementsAndBytes {
        elements: span,
        bytes: span * 64,
    });
    g.sample_size(10);
    g.bench_function(
        BenchmarkId::new("iterate_all/64B", format!("{span}")),
        |b| {
            b.iter(|| {
                let mut it = log.iter(first).unwrap();
                let mut n = 0u64;
                while let Some((_, len)) = it.next_into(&mut buf).unwrap() {
                    n += len as u64;
                }
                black_box(n)
            })
        },
    );
    // The same walk with a detached `ReadCursor` (what a Python or JS iterator holds): it must
    // cost what the borrowing iterator costs.
    g.bench_function(BenchmarkId::new("cursor_all/64B", format!("{span}")), |b| {
        b.iter(|| {
            let mut cursor = log.cursor(first).unwrap();
            let mut n = 0u64;
            while let Some((_, len)) = log.read_next(&mut cursor, &mut buf).unwrap() {
                n += len as u64;
            }
            black_box(n)
        })
    });
    g.finish();
}

fn mount(c: &mut Criterion) {
    let mut g = c.benchmark_group("mount");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    let rec = record(64, 9);
    // Mount reads every segment header, then one segment's index and at most one index
    // interval of frames: its cost follows the segment count, not the data volume.
    // `image/*`: the same 16 KiB segments for every size (4, 64, 1024 segments).
    // `16_segments/*`: 16 segments whatever the size (segments of 4 KiB, 64 KiB, 1 MiB).
    let sizes: [(&str, usize); 3] = [("64KiB", 64 << 10), ("1MiB", 1 << 20), ("16MiB", 16 << 20)];
    for (series, fixed_segment) in [("image", true), ("16_segments", false)] {
        for (label, bytes) in sizes {
            let sectors = if fixed_segment {
                4
            } else {
                (bytes / 16 / SECTOR) as u32
            };
            let mut mem = vec![0xFFu8; bytes];
            let _ = full_ring(&mut mem, sectors, &rec);
            g.bench_function(BenchmarkId::new(series, label), |b| {
                b.iter(|| {
                    let log: Log<_> = Log::mount(ram(&mut mem), ring_config(sectors)).unwrap();
                    black_box(log.next_offset())
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, append, read, mount);
criterion_main!(benches);
