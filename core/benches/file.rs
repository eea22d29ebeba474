//! File log benchmarks (criterion): append bandwidth against raw `pwrite` of the same bytes in
//! the same run, group commit, and mount time of full 16 MiB and 1 GiB logs.
//!
//! `cargo bench -p tidelog --features file --bench file`. Files go to the system temp dir
//! (`TMPDIR`); the 1 GiB mount case needs 1 GiB free there.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};
use tidelog::{Config, Durability, FileLog, FullPolicy};

const RING: u64 = 64 << 20;

/// A ring log of `capacity` bytes in about `segments` segments (4 KiB sectors).
fn ring_config(capacity: u64, segments: u64) -> Config {
    Config::new()
        .segment_sectors((capacity / segments / 4096).max(1) as u32)
        .index_interval(32 * 1024)
        .full_policy(FullPolicy::OverwriteOldest)
}

/// A file for the raw `pwrite` baseline, in the same state as a log's file: created and
/// erased (written `0xFF` and synced) by formatting a log in it.
fn raw_file(path: &Path, len: u64) -> File {
    let _ = std::fs::remove_file(path);
    drop(FileLog::<4>::create(path, len, ring_config(len, 16), Durability::Explicit).unwrap());
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap()
}

/// A fresh log of `capacity` bytes that rejects appends when full (it is recreated then).
fn fresh_log(path: &Path, capacity: u64) -> FileLog {
    let _ = std::fs::remove_file(path);
    let cfg = ring_config(capacity, 64).full_policy(FullPolicy::Reject);
    FileLog::create(path, capacity, cfg, Durability::Explicit).unwrap()
}

/// Appends without per-append sync (Explicit mode), against raw pwrite of the same bytes:
/// `tidelog` fills fresh logs (recreated, untimed, when full); `tidelog_ring` is the steady
/// state of a wrapping ring, where every reused segment costs an erase barrier (fdatasync).
fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("file_append");
    g.measurement_time(Duration::from_secs(5)).sample_size(30);
    for size in [100usize, 4096] {
        let record = vec![0x5Au8; size];
        g.throughput(Throughput::Bytes(size as u64));

        // Raw pwrite into the same kind of file, always onto erased and synced pages, as the
        // fresh log does (at the end of the file: fdatasync, untimed, and start over). Once
        // the record alone, once with the log's 8 bytes of frame overhead (so writes straddle
        // pages as the log's do).
        let cap = 4 * RING;
        let raw = raw_file(&dir.path().join("raw.bin"), cap);
        let mut pos = 0u64;
        for (name, len) in [("raw_pwrite", size), ("raw_pwrite_framed", size + 8)] {
            let bytes = vec![0x5Au8; len];
            g.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut left = iters;
                    while left > 0 {
                        let room = (cap - pos) / len as u64;
                        if room == 0 {
                            raw.sync_data().unwrap();
                            pos = 0;
                            continue;
                        }
                        let n = left.min(room);
                        let t = Instant::now();
                        for _ in 0..n {
                            raw.write_all_at(&bytes, pos).unwrap();
                            pos += len as u64;
                        }
                        total += t.elapsed();
                        left -= n;
                    }
                    total
                })
            });
        }
        drop(raw);

        let path = dir.path().join(format!("fresh-{size}.tlog"));
        let mut log = fresh_log(&path, cap);
        g.bench_with_input(BenchmarkId::new("tidelog", size), &record, |b, r| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    // Leave a segment unused: Reject keeps a spare for control records.
                    let st = log.stats();
                    let free = st.bytes_free.saturating_sub(2 * st.segment_size as u64);
                    let room = free / (r.len() as u64 + 64);
                    if room < 1000 {
                        log = fresh_log(&path, cap);
                        continue;
                    }
                    let n = left.min(room);
                    let t = Instant::now();
                    for _ in 0..n {
                        log.append(r).unwrap();
                    }
                    total += t.elapsed();
                    left -= n;
                }
                total
            })
        });
        drop(log);
        let _ = std::fs::remove_file(&path);

        let path = dir.path().join(format!("ring-{size}.tlog"));
        let mut log: FileLog =
            FileLog::create(&path, RING, ring_config(RING, 16), Durability::Explicit).unwrap();
        g.bench_with_input(BenchmarkId::new("tidelog_ring", size), &record, |b, r| {
            b.iter(|| log.append(r).unwrap())
        });
        drop(log);
        let _ = std::fs::remove_file(&path);
    }
    g.finish();
}

/// N appends of 4 KiB then one fdatasync, against N raw pwrites then one fdatasync.
fn group_commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("file_group_commit_4KiB");
    g.measurement_time(Duration::from_secs(5)).sample_size(20);
    let record = vec![0xA5u8; 4096];
    let raw = raw_file(&dir.path().join("raw.bin"), RING);
    let path = dir.path().join("gc.tlog");
    let mut log: FileLog =
        FileLog::create(&path, RING, ring_config(RING, 16), Durability::Explicit).unwrap();
    let mut pos = 0u64;
    for n in [1u64, 16, 256] {
        g.throughput(Throughput::Bytes(n * 4096));
        g.bench_function(BenchmarkId::new("raw_pwrite_fdatasync", n), |b| {
            b.iter(|| {
                for _ in 0..n {
                    if pos + 4096 > RING {
                        pos = 0;
                    }
                    raw.write_all_at(&record, pos).unwrap();
                    pos += 4096;
                }
                raw.sync_data().unwrap();
            })
        });
        g.bench_function(BenchmarkId::new("tidelog", n), |b| {
            b.iter(|| {
                for _ in 0..n {
                    log.append(&record).unwrap();
                }
                log.sync().unwrap();
            })
        });
    }
    g.finish();
}

/// Builds a full ring log of `capacity` bytes (every segment in use, wrapped once).
fn full_log(path: &Path, capacity: u64) {
    let mut log: FileLog = FileLog::create(
        path,
        capacity,
        ring_config(capacity, 256),
        Durability::Explicit,
    )
    .unwrap();
    let rec = vec![0x3Cu8; 8000];
    let batch: Vec<&[u8]> = (0..8).map(|_| rec.as_slice()).collect();
    let mut written = 0u64;
    while written < capacity + capacity / 8 {
        log.append_batch(&batch).unwrap();
        written += 64_000;
    }
    // Leave a partly filled active segment with a few small records past the last slot.
    for i in 0..100u32 {
        log.append(&i.to_le_bytes()).unwrap();
    }
    log.sync().unwrap();
    let s = log.stats();
    assert_eq!(s.segments_used, s.segments_total);
}

fn mount(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("file_mount_full");
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    for (name, capacity) in [("16MiB", 16u64 << 20), ("1GiB", 1u64 << 30)] {
        let path = dir.path().join(format!("{name}.tlog"));
        full_log(&path, capacity);
        g.bench_function(BenchmarkId::new("open", name), |b| {
            b.iter(|| {
                let log: FileLog =
                    FileLog::open(&path, Config::new(), Durability::Explicit).unwrap();
                log.next_offset()
            })
        });
        g.bench_function(BenchmarkId::new("open_read_only", name), |b| {
            b.iter(|| {
                let log: FileLog = FileLog::open_read_only(&path).unwrap();
                log.next_offset()
            })
        });
        let _ = std::fs::remove_file(&path);
    }
    g.finish();
}

criterion_group!(benches, append, group_commit, mount);
criterion_main!(benches);
