//! `Log::extend`: any number of records, packed greedily into batch frames. It gives exactly
//! what appending them one by one gives (offsets and bytes), in fewer frames; a record over
//! the limit anywhere refuses the whole call before anything is written; `Full` part-way under
//! `Reject` leaves a prefix; and a power cut at any storage operation leaves a prefix cut at a
//! frame boundary (each frame is atomic, invariant I3).
#![cfg(all(feature = "sim", feature = "alloc"))]

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use tidelog::format::frame::{check_frame, decode_varint, FrameKind, FRAME_HEADER_LEN};
use tidelog::format::header::{decode_fixed, FIXED_HEADER_LEN};
use tidelog::format::layout::Layout;
use tidelog::{Config, Cut, Error, FullPolicy, Log, PowerCut, SimFlash};

type L = Log<SimFlash, 4>;

const CUTS: [Cut; 4] = [Cut::Before, Cut::After, Cut::TornPrefix, Cut::TornBits];

fn content(len: usize, tag: u64) -> Vec<u8> {
    let mut x = tag.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ len as u64;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

/// Formats `segments` segments of the smallest sector count that fits the layout.
fn format(ws: usize, es: usize, segments: u32, policy: FullPolicy) -> (L, Config) {
    for sectors in [1u32, 2, 4, 8] {
        let sim = SimFlash::new(ws, es, es * sectors as usize * segments as usize).unwrap();
        let cfg = Config::new()
            .segment_sectors(sectors)
            .index_interval((4 * ws as u32).max(256))
            .full_policy(policy);
        match L::format(sim, cfg) {
            Ok(log) => return (log, cfg),
            Err(Error::InvalidConfig(_)) => continue,
            Err(e) => panic!("{e:?}"),
        }
    }
    panic!("no layout for ws {ws} es {es}");
}

fn all_records<S: tidelog::Storage>(log: &mut Log<S, 4>) -> Vec<(u64, Vec<u8>)> {
    let first = log.first_offset();
    log.iter(first).unwrap().map(|r| r.unwrap()).collect()
}

/// The data frames of an image whose segments were filled in index order (no wraparound, no
/// truncation): the number of records of each `R` / `B` frame, in order.
fn data_frames(image: &[u8], layout: &Layout) -> Vec<u32> {
    let mut out = Vec::new();
    for s in 0..layout.segment_count {
        let seg = layout.segment_addr(s) as usize;
        let mut fixed = [0u8; FIXED_HEADER_LEN];
        fixed.copy_from_slice(&image[seg..seg + FIXED_HEADER_LEN]);
        let Ok(h) = decode_fixed(&fixed) else {
            continue;
        };
        let mut pos = layout.data_start(h.header_len as usize) as usize;
        let end = layout.index_start() as usize;
        while pos + FRAME_HEADER_LEN <= end && image[seg + pos] != 0xFF {
            let bytes = &image[seg + pos..seg + end];
            let Some((kind, body)) = check_frame(bytes) else {
                break; // torn
            };
            match kind {
                FrameKind::Record => out.push(1),
                FrameKind::Batch => out.push(decode_varint(body).expect("count").0),
                FrameKind::State => {}
            }
            pos += layout.frame_size(body.len());
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Same records as one-by-one appends

#[derive(Debug, Clone, Copy)]
enum Len {
    Abs(u16),
    Zero,
    Max,
    Permille(u16),
}

fn len_strategy() -> impl Strategy<Value = Len> {
    prop_oneof![
        8 => (0u16..64).prop_map(Len::Abs),
        2 => Just(Len::Zero),
        1 => Just(Len::Max),
        2 => (0u16..=1000).prop_map(Len::Permille),
    ]
}

fn resolve(l: Len, max: usize) -> usize {
    match l {
        Len::Abs(n) => (n as usize).min(max),
        Len::Zero => 0,
        Len::Max => max,
        Len::Permille(p) => max * p as usize / 1000,
    }
}

/// Twin logs: `a` takes each group of records by `extend`, `b` one `append` at a time (stopping
/// at `Full`). Under `Reject` the two may stop at different records (their frames differ);
/// under `OverwriteOldest` they may have dropped different old records. Where both hold a
/// record, it is the same record at the same offset; `extend` returns the offset `append`
/// would have given the first record, and stops only at `Full`.
fn twins(
    ws: usize,
    es: usize,
    policy: FullPolicy,
    groups: &[Vec<Len>],
) -> Result<(), TestCaseError> {
    let (mut a, _) = format(ws, es, 4, policy);
    let (mut b, _) = format(ws, es, 4, policy);
    let max = a.layout().max_record_size as usize;
    let mut a_full = false;
    let mut b_full = false;
    for (g, lens) in groups.iter().enumerate() {
        let recs: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| content(resolve(l, max), (g * 1000 + i) as u64))
            .collect();
        if !a_full {
            let start = a.next_offset();
            match a.extend(&refs(&recs)) {
                Ok(first) => {
                    prop_assert_eq!(first, start);
                    prop_assert_eq!(a.next_offset(), start + recs.len() as u64);
                }
                Err(Error::Full) if policy == FullPolicy::Reject => a_full = true,
                Err(e) => return Err(TestCaseError::fail(format!("extend: {e:?}"))),
            }
        }
        if !b_full {
            for r in &recs {
                let next = b.next_offset();
                match b.append(r) {
                    Ok(o) => prop_assert_eq!(o, next),
                    Err(Error::Full) if policy == FullPolicy::Reject => {
                        b_full = true;
                        break;
                    }
                    Err(e) => return Err(TestCaseError::fail(format!("append: {e:?}"))),
                }
            }
        }
        if !a_full && !b_full {
            prop_assert_eq!(a.next_offset(), b.next_offset());
        }
    }
    let (ra, rb) = (all_records(&mut a), all_records(&mut b));
    let lo = a.first_offset().max(b.first_offset());
    let hi = a.next_offset().min(b.next_offset());
    let pick = |r: &[(u64, Vec<u8>)]| -> Vec<(u64, Vec<u8>)> {
        r.iter()
            .filter(|(o, _)| (lo..hi).contains(o))
            .cloned()
            .collect()
    };
    prop_assert!(pick(&ra) == pick(&rb), "records {lo}..{hi} differ");
    prop_assert_eq!(pick(&ra).len() as u64, hi.saturating_sub(lo));
    // And the extended log reads back the same after a remount.
    let cfg = Config::new().full_policy(policy);
    let mut a = L::mount(a.into_storage(), cfg).unwrap();
    prop_assert!(all_records(&mut a) == ra, "after remount");
    Ok(())
}

fn run_twins(ws: usize, es: usize) {
    for policy in [FullPolicy::Reject, FullPolicy::OverwriteOldest] {
        let mut runner = TestRunner::new(PtConfig {
            cases: 32,
            failure_persistence: None,
            ..PtConfig::default()
        });
        let groups = prop::collection::vec(prop::collection::vec(len_strategy(), 0..40), 1..12);
        if let Err(e) = runner.run(&groups, |g| twins(ws, es, policy, &g)) {
            panic!("ws {ws} es {es} {policy:?}: {e}");
        }
    }
}

#[test]
fn extend_gives_what_appends_give_ws1() {
    run_twins(1, 1024);
}

#[test]
fn extend_gives_what_appends_give_ws4() {
    run_twins(4, 4096);
}

#[test]
fn extend_gives_what_appends_give_ws32() {
    run_twins(32, 1024);
}

#[test]
fn extend_gives_what_appends_give_ws256() {
    run_twins(256, 128 * 1024);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// Small records are packed: each frame fills what is left of its segment up to the largest
/// record size (so at most two frames per segment: the one that reached that size, then the
/// rest of the segment), the records of the frames are consecutive and in order; one-by-one
/// appends take a frame per record.
#[test]
fn extend_packs_records_into_one_frame_per_segment() {
    for (ws, es) in [(1usize, 1024usize), (4, 1024), (32, 4096), (256, 4096)] {
        let (mut a, _) = format(ws, es, 64, FullPolicy::Reject);
        let (mut b, _) = format(ws, es, 64, FullPolicy::Reject);
        let recs: Vec<Vec<u8>> = (0..400).map(|i| content(i % 23, i as u64)).collect();
        a.extend(&refs(&recs)).unwrap();
        for r in &recs {
            b.append(r).unwrap();
        }
        assert_eq!(all_records(&mut a), all_records(&mut b), "ws {ws} es {es}");
        let layout = *a.layout();
        let fa = data_frames(a.storage().image(), &layout);
        let fb = data_frames(b.storage().image(), &layout);
        println!(
            "ws {ws} es {es}: {} records, extend {} frames in {} segments ({} bytes), appends {} frames ({} bytes)",
            recs.len(),
            fa.len(),
            a.stats().segments_used,
            a.stats().bytes_used,
            fb.len(),
            b.stats().bytes_used
        );
        assert_eq!(fa.iter().sum::<u32>(), 400);
        assert_eq!(fb, vec![1; 400]);
        let segments = a.stats().segments_used as usize;
        assert!(
            fa.len() <= 2 * segments,
            "ws {ws} es {es}: {fa:?} in {segments} segments"
        );
        assert!(fa.len() < recs.len() / 10, "ws {ws} es {es}: {fa:?}");
        assert!(a.stats().bytes_used < b.stats().bytes_used);
    }
}

#[test]
fn extend_of_nothing_appends_nothing() {
    let (mut log, _) = format(4, 1024, 4, FullPolicy::Reject);
    log.append(b"x").unwrap();
    let before = log.storage().image().to_vec();
    assert_eq!(log.extend(&[]), Ok(1));
    assert_eq!(log.next_offset(), 1);
    assert!(log.storage().image() == &before[..]);
    // A single record and records of length 0 and the maximum.
    let max = log.layout().max_record_size as usize;
    assert_eq!(log.extend(&[b"one".as_slice()]), Ok(1));
    let big = vec![7u8; max];
    assert_eq!(log.extend(&[&b""[..], &big, b"", &big]), Ok(2));
    assert_eq!(log.read_vec(3).unwrap(), big);
    assert_eq!(log.read_vec(4).unwrap(), Vec::<u8>::new());
    assert_eq!(log.next_offset(), 6);
}

#[test]
fn an_oversized_record_anywhere_is_too_large_and_nothing_is_written() {
    for policy in [FullPolicy::Reject, FullPolicy::OverwriteOldest] {
        let (mut log, _) = format(4, 1024, 4, policy);
        log.append(b"before").unwrap();
        let max = log.layout().max_record_size as usize;
        let ok: Vec<Vec<u8>> = (0..30).map(|i| content(20, i)).collect();
        for at in [0usize, 15, 29, 30] {
            let mut recs = ok.clone();
            recs.insert(at, vec![1u8; max + 1 + at]);
            let image = log.storage().image().to_vec();
            let ops = log.storage().mutating_ops();
            assert_eq!(
                log.extend(&refs(&recs)),
                Err(Error::TooLarge {
                    len: (max + 1 + at) as u32,
                    max: max as u32
                }),
                "oversized record at {at}"
            );
            assert_eq!(log.next_offset(), 1);
            assert_eq!(
                log.storage().mutating_ops(),
                ops,
                "something was programmed"
            );
            assert!(log.storage().image() == &image[..]);
        }
        // The log is not poisoned.
        assert_eq!(log.extend(&refs(&ok)), Ok(1));
    }
}

#[test]
fn full_part_way_under_reject_leaves_a_prefix() {
    let (mut log, cfg) = format(4, 1024, 4, FullPolicy::Reject);
    log.append(b"first").unwrap();
    let recs: Vec<Vec<u8>> = (0..2000).map(|i| content(10 + i % 31, i as u64)).collect();
    assert_eq!(log.extend(&refs(&recs)), Err(Error::Full));
    let went_in = log.next_offset() - 1;
    assert!(
        went_in > 0 && went_in < recs.len() as u64,
        "{went_in} records went in"
    );
    let want: Vec<(u64, Vec<u8>)> = std::iter::once((0, b"first".to_vec()))
        .chain((0..went_in as usize).map(|i| (i as u64 + 1, recs[i].clone())))
        .collect();
    assert_eq!(all_records(&mut log), want);
    let mut log = L::mount(log.into_storage(), cfg).unwrap();
    assert_eq!(all_records(&mut log), want, "after remount");
    // Trim what was consumed and the rest goes in.
    log.trim_front(log.next_offset()).unwrap();
    let rest = &recs[went_in as usize..went_in as usize + 10];
    assert_eq!(log.extend(&refs(rest)), Ok(went_in + 1));
}

/// A power cut at every storage operation of an extend (in every cut mode) leaves the records
/// before it plus a prefix of the new ones that ends at a frame boundary; the log then takes
/// appends again.
#[test]
fn a_power_cut_during_extend_leaves_a_prefix_cut_at_a_frame_boundary() {
    let cfg = Config::new().index_interval(128);
    let mut sim = SimFlash::new(4, 1024, 8 * 1024).unwrap();
    let mut log: Log<&mut SimFlash> = Log::format(&mut sim, cfg).unwrap();
    for i in 0..3u64 {
        log.append(&content(30, 900 + i)).unwrap();
    }
    let base = 3u64;
    let snap = sim.snapshot();
    // Enough records for about two and a half segments, so the extend rotates twice.
    let recs: Vec<Vec<u8>> = (0..90).map(|i| content(8 + i % 17, i as u64)).collect();

    // The uncut run: where its frames end.
    let mut clean = SimFlash::new(4, 1024, 8 * 1024).unwrap();
    clean.restore(&snap);
    let mut log: Log<&mut SimFlash> = Log::mount(&mut clean, cfg).unwrap();
    let ops_before = log.storage().mutating_ops();
    log.extend(&refs(&recs)).unwrap();
    let layout = *log.layout();
    let ops = log.storage().mutating_ops() - ops_before;
    let frames = data_frames(clean.image(), &layout);
    assert_eq!(&frames[..3], &[1, 1, 1], "the three records before");
    let mut boundaries = vec![0u64];
    for c in &frames[3..] {
        boundaries.push(boundaries.last().unwrap() + *c as u64);
    }
    assert_eq!(*boundaries.last().unwrap(), recs.len() as u64);
    assert!(boundaries.len() >= 3, "expected several frames: {frames:?}");
    println!(
        "extend of {} records: {ops} storage ops, frames {:?}",
        recs.len(),
        &frames[3..]
    );

    let mut seen = std::collections::BTreeSet::new();
    for j in 0..ops {
        for cut in CUTS {
            let mut sim = SimFlash::new(4, 1024, 8 * 1024).unwrap().with_seed(j);
            sim.restore(&snap);
            let mut log: Log<&mut SimFlash> = Log::mount(&mut sim, cfg).unwrap();
            let at = log.storage().mutating_ops() + j;
            log.storage_mut()
                .set_fault(Some(PowerCut { at_op: at, cut }));
            let r = log.extend(&refs(&recs));
            assert!(r.is_err() || cut == Cut::After, "op {j} {cut:?}: {r:?}");
            sim.power_cycle();
            let mut log: Log<&mut SimFlash> = Log::mount(&mut sim, cfg).unwrap();
            let got = all_records(&mut log);
            let n = log.next_offset() - base;
            assert!(
                boundaries.contains(&n),
                "op {j} {cut:?}: {n} records survived, not a frame boundary of {boundaries:?}"
            );
            for (o, rec) in &got {
                let want = if *o < base {
                    content(30, 900 + o)
                } else {
                    recs[(o - base) as usize].clone()
                };
                assert_eq!(rec, &want, "op {j} {cut:?}: record {o}");
            }
            assert_eq!(got.len() as u64, base + n, "op {j} {cut:?}");
            seen.insert(n);
            // Progress (I6): the log takes the rest, and keeps it across a remount.
            let rest = &recs[n as usize..];
            assert_eq!(log.extend(&refs(rest)), Ok(base + n), "op {j} {cut:?}");
            let mut log: Log<&mut SimFlash> = Log::mount(&mut sim, cfg).unwrap();
            assert_eq!(all_records(&mut log).len() as u64, base + recs.len() as u64);
        }
    }
    println!("records surviving a cut: {seen:?}");
    assert!(
        seen.len() >= 3,
        "cuts should leave several different prefixes: {seen:?}"
    );
}
