//! The durability of [`FileStorage`](crate::FileStorage) checked on its I/O calls: the trace of
//! every `pwrite` and `fdatasync` (`storage/file/trace.rs`, recorded in test builds), the order rules a power
//! loss must not break (`check_io_order`), and a model of the disk after a power cut
//! (`disk_after`: whatever was synced, and of each page written since, the version after some
//! prefix of its writes), with the tests that mount every image the model allows.
//!
//! These are unit tests, not integration tests: the trace hooks into the private I/O layer.
//! They drive [`FileLog`](crate::FileLog) and [`FileKv`](crate::FileKv), so they live with
//! them in `host/`.

use crate::storage::file::trace::{self, Event};
use crate::{Config, Durability, FileLog, FullPolicy, Log, RamStorage};
use std::collections::BTreeMap;
use std::vec::Vec;
use std::{format, vec};

/// A new [`FileLog`] at `path`, with write buffering on (its default) or off.
fn new_file_log(
    path: &std::path::Path,
    capacity: u64,
    cfg: Config,
    durability: Durability,
    buffered: bool,
) -> FileLog {
    let mut log: FileLog = FileLog::create(path, capacity, cfg, durability).unwrap();
    log.log_mut()
        .storage_mut()
        .set_write_buffering(buffered)
        .unwrap();
    log
}

/// What the I/O calls in `events` did in an order a power loss could break: an erase, a
/// segment header (a write at the start of a `segment`-byte segment, other than an erase's
/// `0xFF` bytes) or held-back index slots written while a program before them is not yet
/// durable. `Ok` counts the erases and headers; `Err` names the first call out of order.
fn check_io_order(events: &[Event], segment: u64) -> Result<(usize, usize), Event> {
    // `erasing`: syncs left in the erase under way (its sectors' first units, then the rest).
    let (mut pending, mut erasing, mut erases, mut headers) = (false, 0u8, 0, 0);
    for e in events {
        let late = match e {
            // An erase's `0xFF` bytes, synced before it returns.
            Event::Write { .. } if erasing > 0 => false,
            Event::Write { slots: true, .. } => pending,
            Event::Write { at, .. } => {
                let header = at % segment == 0;
                headers += usize::from(header);
                let late = header && pending;
                pending = true;
                late
            }
            Event::Sync => {
                (pending, erasing) = (false, erasing.saturating_sub(1));
                false
            }
            Event::Erase { .. } => {
                (erases, erasing) = (erases + 1, 2);
                pending
            }
        };
        if late {
            return Err(e.clone());
        }
    }
    Ok((erases, headers))
}

/// The core erases a segment only once the state that lets it go is on the medium, writes
/// a segment header only once the frames before it are (the header names the offset where
/// they end), and an index slot only once its frame is; on a file "on the medium" means
/// `fdatasync`ed, as the disk writes pages back in any order. Checked on the I/O calls
/// themselves, for appends across segments, trims, commits that free the head (`Reject`),
/// truncations and wraparound, in both durability modes, through [`FileLog`] (write
/// buffering on) and a bare `Log<FileStorage>` (off).
#[test]
fn no_erase_header_or_slot_overtakes_what_was_programmed_before_it() {
    for durability in [Durability::Explicit, Durability::EveryWrite] {
        for policy in [FullPolicy::Reject, FullPolicy::OverwriteOldest] {
            for buffered in [true, false] {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("log");
                let cfg = Config::new().index_interval(256).full_policy(policy);
                let mut log = new_file_log(&path, 8 * 4096, cfg, durability, buffered);
                log.commit("c", 0).unwrap();
                trace::take();
                let rec = [0x5Au8; 100];
                for _ in 0..8 {
                    for _ in 0..100 {
                        if log.append(&rec).is_err() {
                            break;
                        }
                    }
                    let next = log.next_offset();
                    log.commit("c", next - 20).unwrap();
                    log.trim_front(next - 10).unwrap();
                    log.truncate_back(next - 5).unwrap();
                }
                drop(log);
                let order = check_io_order(&trace::take(), 4096);
                let what = format!("{durability:?} {policy:?} buffered {buffered}");
                assert!(
                    order.as_ref().is_ok_and(|&(e, h)| e >= 8 && h >= 8),
                    "{what}: {order:?} (a call out of order, or too few erases and headers)"
                );
            }
        }
    }
}

/// What a disk may hold after a power cut that struck after the first `cut` events: every
/// write before the last `fdatasync` among them, and of each page written since, the
/// version after some prefix of its writes (page write-back happens at any time, in any
/// order, and writes the page as it is then). `pick(page, n)` chooses how many of its `n`
/// writes the page kept.
fn disk_after(
    durable: &[u8],
    events: &[Event],
    cut: usize,
    mut pick: impl FnMut(u64, usize) -> usize,
) -> Vec<u8> {
    const PAGE: u64 = 4096;
    let events = &events[..cut];
    let synced = events
        .iter()
        .rposition(|e| *e == Event::Sync)
        .map_or(0, |i| i + 1);
    let mut disk = durable.to_vec();
    let apply = |img: &mut Vec<u8>, at: u64, bytes: &[u8], page: Option<u64>| {
        for (i, &b) in bytes.iter().enumerate() {
            let a = at + i as u64;
            if page.is_none_or(|p| a / PAGE == p) {
                img[a as usize] = b;
            }
        }
    };
    for e in &events[..synced] {
        if let Event::Write { at, bytes, .. } = e {
            apply(&mut disk, *at, bytes, None);
        }
    }
    // The writes since, per page, in order.
    let mut pages: BTreeMap<u64, Vec<(u64, &[u8])>> = BTreeMap::new();
    for e in &events[synced..] {
        if let Event::Write { at, bytes, .. } = e {
            let end = at + bytes.len() as u64;
            for p in at / PAGE..end.div_ceil(PAGE) {
                pages.entry(p).or_default().push((*at, bytes));
            }
        }
    }
    for (p, writes) in pages {
        let keep = pick(p, writes.len());
        for &(at, bytes) in &writes[..keep] {
            apply(&mut disk, at, bytes, Some(p));
        }
    }
    disk
}

/// Every disk image a power cut may leave (`disk_after`) over `durable`: after each of the
/// I/O calls in `events` (and before the first), 24 choices of which pages kept which of
/// their writes — none, all, and 22 seeded random ones. `check` gets the image, the number
/// of calls made before the cut, and where the cut fell (for messages).
fn each_cut_image(durable: &[u8], events: &[Event], mut check: impl FnMut(&mut [u8], usize, &str)) {
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    for cut in 0..=events.len() {
        for round in 0..24 {
            let mut img = disk_after(durable, events, cut, |_, n| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                match round {
                    0 => 0,
                    1 => n,
                    _ => (rng % (n as u64 + 1)) as usize,
                }
            });
            let at = format!(
                "cut after {cut} of {} I/O calls, round {round}",
                events.len()
            );
            check(&mut img, cut, &at);
        }
    }
}

/// End to end, on a model of the disk (`disk_after`): appends across several segments
/// after the last sync, cut by power loss after every I/O call with many choices of which
/// unsynced pages reached the disk, leave a prefix of the records (I1): every synced record,
/// then some of the later ones, each readable, with no gap — in both durability modes,
/// with write buffering on ([`FileLog`]) and off (a bare `Log<FileStorage>`). Without the
/// fence before a segment header, a new segment's header reached the disk while the last
/// frames of the segment before it did not (and held-back slots while their frames did not):
/// reading the gap failed with `Corrupt` in most cut images.
#[test]
fn power_loss_between_syncs_leaves_a_prefix_without_gaps() {
    let rec = |i: u64| vec![(i % 251) as u8; 100];
    // Two 4 KiB pages per segment: its frames and its index slots on different pages.
    let cfg = Config::new()
        .segment_sectors(2)
        .index_interval(256)
        .full_policy(FullPolicy::OverwriteOldest);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let (synced, appended) = (50u64, 180u64);
    for durability in [Durability::Explicit, Durability::EveryWrite] {
        for buffered in [true, false] {
            let _ = std::fs::remove_file(&path);
            let mut log = new_file_log(&path, 16 * 4096, cfg, durability, buffered);
            for i in 0..synced {
                log.append(&rec(i)).unwrap();
            }
            log.sync().unwrap();
            let durable = std::fs::read(&path).unwrap();
            trace::take();
            // `returned[k]`: I/O calls made when the append of `synced + k` returned.
            let (mut events, mut returned) = (Vec::new(), Vec::new());
            for i in synced..appended {
                log.append(&rec(i)).unwrap();
                events.extend(trace::take());
                returned.push(events.len());
            }
            drop(log);
            events.extend(trace::take());
            let headers = check_io_order(&events, 2 * 4096).map(|(_, h)| h);
            assert!(matches!(headers, Ok(h) if h >= 2), "{headers:?}");
            each_cut_image(&durable, &events, |img, cut, at| {
                let what = format!("{durability:?} buffered {buffered}: {at}");
                let mut log: Log<RamStorage<'_>> =
                    Log::mount(RamStorage::new(img, 4, 4096).unwrap(), cfg).unwrap();
                let (first, end) = (log.first_offset(), log.next_offset());
                assert_eq!(first, 0, "{what}");
                if durability == Durability::Explicit {
                    assert!((synced..=appended).contains(&end), "{what}: next {end}");
                } else {
                    // Every append that returned before the cut was synced.
                    let done = returned.iter().filter(|&&n| n <= cut).count() as u64;
                    assert!(
                        (synced + done..=appended).contains(&end),
                        "{what}: next {end}"
                    );
                }
                let mut buf = [0u8; 100];
                for o in first..end {
                    assert_eq!(log.read(o, &mut buf), Ok(100), "{what}: offset {o}");
                    assert_eq!(buf.to_vec(), rec(o), "{what}: offset {o}");
                }
            });
        }
    }
}

/// End to end, on a model of the disk: a mixed workload after the last sync — appends,
/// batches, consumer commits, rewinds, trims and truncations, reclaiming and wrapping under
/// both policies, with write buffering on and off — cut
/// by power loss after every I/O call with many choices of which unsynced pages reached the
/// disk, comes back exactly as the log stood after one of its operations (first offset,
/// cursor and next offset), never before the last sync (`EveryWrite`: before the last
/// operation that returned), and every record from the first offset on reads back. Without
/// the erase's first unit synced ahead of the rest, a cut erase of the head left its header
/// and lost a later page: the head still counted, and reading it failed.
#[test]
fn power_loss_between_syncs_leaves_the_log_as_after_one_of_its_operations() {
    let rec = |i: u64| vec![(i % 251) as u8; 60 + (i % 5) as usize * 20];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    for durability in [Durability::Explicit, Durability::EveryWrite] {
        for (policy, buffered) in [
            (FullPolicy::Reject, true),
            (FullPolicy::OverwriteOldest, true),
            (FullPolicy::Reject, false),
        ] {
            let cfg = Config::new()
                .segment_sectors(2)
                .index_interval(256)
                .full_policy(policy);
            let _ = std::fs::remove_file(&path);
            let mut log = new_file_log(&path, 4 * 8192, cfg, durability, buffered);
            log.commit("c", 0).unwrap();
            let state = |log: &mut FileLog| {
                let first = log.first_offset();
                (first, log.committed("c").unwrap(), log.next_offset())
            };
            for i in 0..40 {
                log.append(&rec(i)).unwrap();
            }
            log.sync().unwrap();
            let durable = std::fs::read(&path).unwrap();
            trace::take();
            // `states[k]`: the log after `k` operations past the sync, and the I/O calls
            // made by then.
            let mut states = vec![(state(&mut log), 0)];
            let (mut events, mut rng) = (Vec::new(), 0x9E37_79B9_7F4A_7C15u64);
            for _ in 0..400 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let (first, cursor, next) = state(&mut log);
                let done = match rng % 32 {
                    0 | 1 => log.commit("c", cursor + (rng >> 8) % ((next - cursor) / 2 + 1)),
                    2 => log.trim_front(first + (rng >> 8) % ((next - first) / 4 + 1)),
                    3 => log
                        .append_batch(&[&rec(next), &rec(next + 1), &rec(next + 2)])
                        .map(drop),
                    4 => log.rewind("c", first + (rng >> 8) % (cursor.max(first) - first + 1)),
                    5 => {
                        log.truncate_back(next - (rng >> 8) % ((next - cursor.max(first)) / 2 + 1))
                    }
                    _ => log.append(&rec(next)).map(drop),
                };
                if let Err(e) = done {
                    // Full (`Reject`): the consumer catches up, which lets segments go.
                    assert_eq!(e.kind(), crate::Error::Full);
                    log.commit("c", next).unwrap();
                }
                events.extend(trace::take());
                states.push((state(&mut log), events.len()));
            }
            drop(log);
            events.extend(trace::take());
            assert!(events.iter().any(|e| matches!(e, Event::Erase { .. })));
            each_cut_image(&durable, &events, |img, cut, at| {
                let what = format!("{durability:?} {policy:?} buffered {buffered}: {at}");
                let mut log: Log<RamStorage<'_>> =
                    Log::mount(RamStorage::new(img, 4, 4096).unwrap(), cfg).unwrap();
                let got = (
                    log.first_offset(),
                    log.committed("c").unwrap(),
                    log.next_offset(),
                );
                let returned = states.iter().filter(|(_, n)| *n <= cut).count();
                let oldest = match durability {
                    Durability::Explicit => 0,
                    Durability::EveryWrite => returned - 1,
                };
                // The log after operation `k`, or during operation `k + 1` once it let
                // the head go (the first offset moved on) but before its own write.
                let fits = |k: usize| {
                    let (before, after) = (states[k].0, states.get(k + 1).map(|s| s.0));
                    got == before
                        || after.is_some_and(|after| {
                            (before.0..=after.0).contains(&got.0)
                                && (got.1 == before.1 || got.1 == after.1)
                                && (got.2 == before.2 || got.2 == after.2)
                        })
                };
                assert!(
                    (oldest..states.len()).any(fits),
                    "{what}: (first, cursor, next) = {got:?}, not the log after or during \
                     any operation from the {oldest}th on"
                );
                let mut buf = [0u8; 160];
                for o in got.0..got.2 {
                    let n = log.read(o, &mut buf);
                    assert_eq!(n, Ok(rec(o).len()), "{what}: offset {o} of {got:?}");
                    assert_eq!(buf[..rec(o).len()], rec(o)[..], "{what}: offset {o}");
                }
            });
        }
    }
}

/// End to end, on a model of the disk (`disk_after`): a trim and a consumer commit that each
/// let the oldest segment go, under `Reject`, and a truncation that drops whole segments,
/// cut by power loss after every I/O call with many choices of which unsynced pages reached
/// the disk, leave the log with the old state or the new one, never between: the first
/// offset, the cursor and the next offset each at its old or new value, every record from
/// the first offset and from the cursor on intact (DESIGN.md §D3, §D6) — with segments of one
/// disk page and of two. Without the barrier before an erase, the erased segments outlived
/// the state that let them go.
#[test]
fn power_loss_never_applies_a_trim_commit_or_truncation_partly() {
    let rec = |i: u64| vec![(i % 251) as u8; 100];
    // Also with two 4 KiB pages per segment (frames and index slots on different pages).
    for sectors in [1, 2] {
        let cfg = Config::new()
            .segment_sectors(sectors)
            .index_interval(512)
            .full_policy(FullPolicy::Reject);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        // A full log (one spare left) made durable, still open: the spare is known erased, so
        // no erase of it syncs the op's first writes by the way.
        let full = |durability| {
            let _ = std::fs::remove_file(&path);
            let mut log: FileLog =
                FileLog::create(&path, 8 * 4096 * sectors as u64, cfg, durability).unwrap();
            log.commit("c", 0).unwrap();
            let mut next = 0;
            while log.append(&rec(next)).is_ok() {
                next += 1;
            }
            log.sync().unwrap();
            let durable = std::fs::read(&path).unwrap();
            (log, durable, next)
        };
        for durability in [Durability::Explicit, Durability::EveryWrite] {
            // The second segment's base: the first trim point that frees the oldest segment. One
            // past it, a head erased under a lost state leaves the first offset (or the records
            // below the cursor) at that base, neither the old value nor the new.
            let (_, durable, next) = full(durability);
            let probe = dir.path().join("probe");
            let second = (1..next)
                .find(|&o| {
                    std::fs::write(&probe, &durable).unwrap();
                    let mut log: FileLog = FileLog::open(&probe, cfg, durability).unwrap();
                    let before = log.stats().bytes_used;
                    log.trim_front(o).unwrap();
                    log.stats().bytes_used < before
                })
                .unwrap();
            for op in ["trim", "commit", "truncate"] {
                let to = second + 1;
                let (mut log, durable, next) = full(durability);
                let before = log.stats().bytes_used;
                trace::take();
                // A trim erases the head at once; a commit lets the next rotation take it; a
                // truncation to the second segment erases the segments after it (holes).
                let mut appended = next;
                match op {
                    "trim" => log.trim_front(to).unwrap(),
                    "truncate" => log.truncate_back(to).unwrap(),
                    _ => {
                        log.commit("c", to).unwrap();
                        while log.first_offset() == 0 && appended < next + 100 {
                            log.append(&rec(appended)).unwrap();
                            appended += 1;
                        }
                    }
                }
                let freed = log.stats().bytes_used < before
                    || log.first_offset() > 0 && op == "commit"
                    || op == "truncate";
                let events = trace::take();
                let erases = events
                    .iter()
                    .filter(|e| matches!(e, Event::Erase { .. }))
                    .count();
                drop(log);
                assert!(erases > 0, "{durability:?} {op}: no erase");
                assert!(
                    freed,
                    "{durability:?} {op}: the oldest segment was not reclaimed"
                );
                let mut checked = 0;
                each_cut_image(&durable, &events, |img, _, at| {
                    let what = format!("{durability:?} {op}, {sectors} sectors: {at}");
                    let mut log: Log<RamStorage<'_>> =
                        Log::mount(RamStorage::new(img, 4, 4096).unwrap(), cfg).unwrap();
                    let first = log.first_offset();
                    let cursor = log.committed("c").unwrap();
                    let end = log.next_offset();
                    if op == "trim" {
                        assert!(first == 0 || first == to, "{what}: first offset {first}");
                        assert_eq!(cursor, 0, "{what}");
                    } else if op == "truncate" {
                        // All records, or those below `to`: none missing in between.
                        assert!(end == next || end == to, "{what}: next offset {end}");
                        assert_eq!((first, cursor), (0, 0), "{what}");
                    } else {
                        assert!(cursor == 0 || cursor == to, "{what}: cursor {cursor}");
                        // Nothing the consumer has not durably committed past is gone.
                        assert!(
                            first <= cursor,
                            "{what}: first offset {first}, cursor {cursor}"
                        );
                    }
                    // Appends after the last sync may be lost (`Explicit`), not reordered.
                    if op != "truncate" {
                        assert!(
                            (next..=appended).contains(&end),
                            "{what}: next offset {end}"
                        );
                    }
                    let mut buf = [0u8; 100];
                    for o in first.max(cursor)..end {
                        assert_eq!(log.read(o, &mut buf), Ok(100), "{what}: offset {o}");
                        assert_eq!(buf.to_vec(), rec(o), "{what}: offset {o}");
                    }
                    checked += 1;
                });
                assert!(checked > 100);
            }
        }
    }
}

/// The KV journal on a file, end to end on the disk model (`disk_after`): writes after the
/// last sync, through compactions (the generation switch erases the older partition,
/// copies the live entries, then commits with a header between two syncs), cut by power
/// loss after every I/O call with many choices of which unsynced pages reached the disk,
/// leave the map of some prefix of the writes — every synced write in it, never a mix,
/// never a mount error. Without the sync before the header, a header reached the disk
/// while a page of the entries it commits did not: mount failed with `Corrupt`.
#[test]
fn power_loss_leaves_the_kv_map_of_a_prefix_of_its_writes() {
    use crate::{FileStorage, Kv, KvConfig, MapIndex};
    type Map = BTreeMap<Vec<u8>, Vec<u8>>;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kv");
    let cfg = KvConfig::new().max_key_len(8).high_water_percent(60);
    let storage = FileStorage::create(&path, 8 * 4096, 4, 4096, Durability::Explicit).unwrap();
    let mut kv: Kv<FileStorage, MapIndex> = Kv::format(storage, cfg).unwrap();
    // Write `i`: 24 keys overwritten in turn, every fifth write deletes one. The live set
    // outgrows a 4 KiB page, so a compaction's copy and its header lie on different pages.
    let write = |kv: &mut Kv<FileStorage, MapIndex>, model: &mut Map, i: u32| {
        let key = format!("k{}", i % 24).into_bytes();
        if i % 5 == 4 {
            kv.delete(&key).unwrap();
            model.remove(&key);
        } else {
            let value = vec![(i % 251) as u8; 200 + (i % 7) as usize * 40];
            kv.set(&key, &value).unwrap();
            model.insert(key, value);
        }
    };
    let (mut model, mut states) = (Map::new(), Vec::new());
    for i in 0..30 {
        write(&mut kv, &mut model, i);
    }
    kv.sync().unwrap();
    states.push(model.clone());
    let durable = std::fs::read(&path).unwrap();
    let generation = kv.stats().generation;
    trace::take();
    for i in 30..150 {
        write(&mut kv, &mut model, i);
        states.push(model.clone());
    }
    drop(kv);
    let events = trace::take();
    assert!(
        events.iter().any(|e| matches!(e, Event::Erase { .. })),
        "no compaction"
    );

    let mut generations = std::collections::BTreeSet::new();
    each_cut_image(&durable, &events, |img, _, at| {
        let what = at;
        let storage = RamStorage::new(img, 4, 4096).unwrap();
        let mut kv: Kv<RamStorage<'_>, MapIndex> =
            Kv::mount(storage, cfg).unwrap_or_else(|e| panic!("{what}: mount failed: {e}"));
        generations.insert(kv.stats().generation);
        let map: Map = kv.entries().unwrap().into_iter().collect();
        assert!(
            states.contains(&map),
            "{what}: a map no prefix of the writes gives ({} keys)",
            map.len()
        );
    });
    // The cuts met both sides of at least one compaction.
    assert!(
        generations.len() >= 2 && generations.contains(&generation),
        "{generations:?}"
    );
}
