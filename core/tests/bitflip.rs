#![cfg(feature = "sim")]
//! Bit-flip sweep: small images are built (records, a batch, consumer commits, a trim, and in
//! one of them wraparound), then EVERY bit of each image is flipped in turn on a copy, the
//! copy is mounted and every offset is read and iterated.
//!
//! For every flip (invariants I4, I7):
//! * no panic (each flip runs under `catch_unwind`; a panic fails with the bit position);
//! * every record returned, by `read` or by iteration, is byte-identical to the record
//!   appended at that offset; every cursor holds a value that was committed for it;
//! * an append after the flip, if accepted, reads back (and again after a remount).
//!
//! Each byte of the original image is classified from the image itself (with the public
//! `format` decoders), and the flips get a precise expectation by class:
//! * slack — padding, free data area, unused index slots, erased segments — and live index
//!   slots, and checkpoints of segments other than the active one: the flip changes nothing
//!   observable (mount, first/next offsets, every record, every cursor);
//! * a record/batch frame: mount succeeds, the first offset is unchanged, the next offset is
//!   unchanged or (active segment only) cut back to the frame; every readable offset reads
//!   back identical or fails with `Corrupt { addr }` naming exactly that frame, and the
//!   frame's own records always fail that way;
//! * a segment header (or the active segment's checkpoint): mount succeeds and the flip loses
//!   at most the records of the segment it hit — the older members stay readable (review
//!   finding F8), the hit segment's records read back identical or fail with `Corrupt`; in the
//!   active segment it may also bring back an older state (trim point, cursors);
//! * a state frame: mount succeeds (a damaged newest state frame gives way to the newest
//!   intact state before it), and every cursor holds a value that was committed for it.
//!
//! Outcome counts per class are printed (`--nocapture`).

use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};

use tidelog::format::frame::{self, FrameKind, VarintDecoder};
use tidelog::format::header;
use tidelog::format::index::{self, SlotRead, SLOT_LEN};
use tidelog::format::layout::Layout;
use tidelog::{Config, Error, FullPolicy, Log, SimFlash};

const C: usize = 2;
type L = Log<SimFlash, C>;

/// Deterministic record content for `offset`.
fn content(offset: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (offset as usize * 37 + i * 11 + 5) as u8)
        .collect()
}

/// A built image and everything known about it.
struct Built {
    name: &'static str,
    image: Vec<u8>,
    ws: usize,
    es: usize,
    policy: FullPolicy,
    /// Record at each offset ever appended (no truncation in these scenarios).
    recs: Vec<Vec<u8>>,
    first: u64,
    next: u64,
    cursors: BTreeMap<String, u64>,
    /// Every value each cursor ever had.
    history: BTreeMap<String, BTreeSet<u64>>,
    segments_used: u32,
}

struct Builder {
    log: L,
    recs: Vec<Vec<u8>>,
    history: BTreeMap<String, BTreeSet<u64>>,
}

impl Builder {
    fn new(ws: usize, es: usize, cap: usize, cfg: Config) -> Self {
        let sim = SimFlash::new(ws, es, cap).unwrap();
        Builder {
            log: L::format(sim, cfg).unwrap(),
            recs: Vec::new(),
            history: BTreeMap::new(),
        }
    }
    fn append(&mut self, len: usize) {
        let off = self.recs.len() as u64;
        let rec = content(off, len);
        assert_eq!(self.log.append(&rec).unwrap(), off);
        self.recs.push(rec);
    }
    fn batch(&mut self, lens: &[usize]) {
        let off = self.recs.len() as u64;
        let recs: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| content(off + i as u64, l))
            .collect();
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        assert_eq!(self.log.append_batch(&refs).unwrap(), off);
        self.recs.extend(recs);
    }
    fn commit(&mut self, name: &str, off: u64) {
        self.log.commit(name, off).unwrap();
        self.history
            .entry(name.to_string())
            .or_default()
            .insert(off);
    }
    fn finish(self, name: &'static str, policy: FullPolicy) -> Built {
        let (ws, es) = (self.log.layout().write_size, self.log.layout().erase_size);
        let first = self.log.first_offset();
        let next = self.log.next_offset();
        let segments_used = self.log.stats().segments_used;
        let cursors = self
            .log
            .consumers()
            .map(|(n, o)| (n.to_string(), o))
            .collect();
        Built {
            name,
            image: self.log.storage().image().to_vec(),
            ws: ws as usize,
            es: es as usize,
            policy,
            recs: self.recs,
            first,
            next,
            cursors,
            history: self.history,
            segments_used,
        }
    }
}

/// 4 segments × 1 KiB, write unit 4, index every 64 B, `Reject`: records of many sizes (an
/// empty one too), a batch with an empty record, two consumers, a trim; 3 segments in use and
/// the fourth kept as the policy's spare (so when damage makes the active segment unusable, the
/// next append is refused: `Full`).
fn image_ws4() -> Built {
    let cfg = Config::new().index_interval(64);
    let mut b = Builder::new(4, 1024, 4096, cfg);
    for i in 0..12 {
        b.append([0, 1, 3, 17, 40, 64, 5][i % 7]);
    }
    b.batch(&[10, 0, 33, 7]);
    b.commit("uploader", 5);
    for i in 0..26 {
        b.append(20 + (i * 13) % 50);
    }
    b.log.trim_front(8).unwrap();
    b.commit("audit", 40);
    b.append(9);
    b.batch(&[3, 4]);
    let built = b.finish("ws4_e1k", FullPolicy::Reject);
    assert_eq!(built.first, 8);
    built
}

/// 4 segments × 512 B (2 sectors of 256 B), write unit 32 (ECC flash), `OverwriteOldest`,
/// wrapped several times, then a consumer commit and a trim.
fn image_ws32_wrapped() -> Built {
    let cfg = Config::new()
        .segment_sectors(2)
        .index_interval(128)
        .full_policy(FullPolicy::OverwriteOldest);
    let mut b = Builder::new(32, 256, 2048, cfg);
    for i in 0..60 {
        b.append([2, 30, 0, 45, 12][i % 5]);
    }
    b.batch(&[1, 2, 0, 20]);
    b.commit("c", 50);
    let first = b.log.first_offset();
    assert!(first > 0, "the image must have wrapped");
    b.log.trim_front(first + 2).unwrap();
    b.append(7);
    b.finish("ws32_e256_wrapped", FullPolicy::OverwriteOldest)
}

/// 4 segments × 512 B, write unit 1, index every 64 B, `Reject`.
fn image_ws1() -> Built {
    let cfg = Config::new().segment_sectors(2).index_interval(64);
    let mut b = Builder::new(1, 256, 2048, cfg);
    for i in 0..20 {
        b.append([0, 9, 21, 4][i % 4]);
    }
    b.batch(&[5, 5, 0]);
    b.commit("x", 3);
    b.log.trim_front(2).unwrap();
    for _ in 0..10 {
        b.append(30);
    }
    b.finish("ws1_e256", FullPolicy::Reject)
}

// ---------------------------------------------------------------------------------------------
// Classifying every byte of the original image

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Region {
    /// Padding, free data area, unused slots, erased segments.
    Slack,
    /// A used (valid) index slot's 16 bytes.
    Slot,
    /// The fixed part of the header of the segment holding offsets `first..end`.
    FixedHeader { tail: bool, first: u64, end: u64 },
    /// The checkpoint (state block and its CRC) of the header of the segment holding offsets
    /// `first..end`.
    Checkpoint { tail: bool, first: u64, end: u64 },
    /// A frame holding records `first..first + count`, at absolute address `addr`.
    Frame {
        addr: u32,
        first: u64,
        count: u64,
        tail: bool,
    },
    /// A state frame.
    StateFrame { tail: bool },
}

impl Region {
    fn class(&self) -> &'static str {
        match self {
            Region::Slack => "slack",
            Region::Slot => "index slot",
            Region::FixedHeader { .. } => "fixed header",
            Region::Checkpoint { tail: false, .. } => "checkpoint (older segment)",
            Region::Checkpoint { tail: true, .. } => "checkpoint (active segment)",
            Region::Frame { tail: false, .. } => "record frame (older segment)",
            Region::Frame { tail: true, .. } => "record frame (active segment)",
            Region::StateFrame { .. } => "state frame",
        }
    }
}

fn classify(image: &[u8], next: u64) -> Vec<Region> {
    let mut map = vec![Region::Slack; image.len()];
    let layout: Layout = header::decode_fixed(&image[..64].try_into().unwrap())
        .unwrap()
        .layout;
    let seg = layout.segment_size as usize;
    let headers: Vec<Option<header::FixedHeader>> = (0..layout.segment_count as usize)
        .map(|i| header::decode_fixed(&image[i * seg..i * seg + 64].try_into().unwrap()).ok())
        .collect();
    let tail_seq = headers.iter().flatten().map(|h| h.seq).max().unwrap();
    // Where each segment's records end: the base of the next member (by sequence number).
    let mut by_seq: Vec<(u64, u64)> = headers
        .iter()
        .flatten()
        .map(|h| (h.seq, h.base_offset))
        .collect();
    by_seq.sort();
    let end_of = |seq: u64| -> u64 {
        by_seq
            .iter()
            .find(|(s, _)| *s > seq)
            .map_or(next, |&(_, base)| base)
    };
    for (i, h) in headers.iter().enumerate() {
        let base = i * seg;
        let bytes = &image[base..base + seg];
        let Some(h) = h else {
            assert!(
                bytes.iter().all(|&b| b == 0xFF),
                "segment {i} is not erased"
            );
            continue;
        };
        assert_eq!(h.layout, layout);
        let tail = h.seq == tail_seq;
        let hl = h.header_len as usize;
        let (first, end) = (h.base_offset, end_of(h.seq));
        map[base..base + 64].fill(Region::FixedHeader { tail, first, end });
        map[base + 64..base + hl].fill(Region::Checkpoint { tail, first, end });
        let index_start = layout.index_start() as usize;
        let mut pos = layout.data_start(hl) as usize;
        let mut off = h.base_offset;
        while let Some((kind, body)) = frame::check_frame(&bytes[pos..index_start]) {
            let live = frame::FRAME_OVERHEAD + body.len();
            let count = match kind {
                FrameKind::Record => 1,
                FrameKind::State => 0,
                FrameKind::Batch => {
                    let mut d = VarintDecoder::default();
                    body.iter().find_map(|&b| d.push(b).unwrap()).unwrap() as u64
                }
            };
            let region = if kind == FrameKind::State {
                Region::StateFrame { tail }
            } else {
                Region::Frame {
                    addr: (base + pos) as u32,
                    first: off,
                    count,
                    tail,
                }
            };
            map[base + pos..base + pos + live].fill(region);
            off += count;
            pos += layout.frame_size(body.len());
        }
        assert!(bytes[pos..index_start].iter().all(|&b| b == 0xFF));
        for k in 0..layout.max_slots() {
            let p = layout.slot_pos(k) as usize;
            let slot: &[u8; SLOT_LEN] = bytes[p..p + SLOT_LEN].try_into().unwrap();
            match index::decode(slot) {
                SlotRead::Valid(_) => map[base + p..base + p + SLOT_LEN].fill(Region::Slot),
                SlotRead::Unused => {}
                SlotRead::Invalid => panic!("invalid slot {k} in segment {i}"),
            }
        }
    }
    map
}

// ---------------------------------------------------------------------------------------------
// One flip

/// What a mount of a damaged image showed.
#[derive(Debug)]
struct Seen {
    first: u64,
    next: u64,
    /// For each offset in `first..next`: `Ok` (identical bytes) or the error.
    reads: Vec<(u64, Result<(), Error>)>,
    /// Records yielded by iterating from `first`, and the error that stopped it, if any.
    iterated: u64,
    iter_err: Option<Error>,
    cursors: BTreeMap<String, u64>,
    append: Result<u64, Error>,
}

impl Seen {
    fn intact(&self, b: &Built) -> bool {
        self.first == b.first
            && self.next == b.next
            && self.reads.iter().all(|(_, r)| r.is_ok())
            && self.iter_err.is_none()
            && self.iterated == b.next - b.first
            && self.cursors == b.cursors
    }
}

/// Mounts the damaged image and reads everything. `Err(msg)` is an invariant violation;
/// `Ok(Err(e))` a mount error.
fn check(b: &Built, image: &[u8]) -> Result<Result<Seen, Error>, String> {
    let sim = SimFlash::from_image(image, b.ws, b.es).unwrap();
    let cfg = Config::new().full_policy(b.policy);
    let mut log = match L::mount(sim, cfg) {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    let first = log.first_offset();
    let next = log.next_offset();
    if first > next {
        return Err(format!("first {first} > next {next}"));
    }
    let same = |off: u64, bytes: &[u8]| -> Result<(), String> {
        match b.recs.get(off as usize) {
            Some(r) if r[..] == *bytes => Ok(()),
            Some(r) => Err(format!(
                "offset {off}: returned {bytes:02x?}, appended {r:02x?}"
            )),
            None => Err(format!("offset {off} was never appended: {bytes:02x?}")),
        }
    };
    let mut buf = vec![0u8; 1024];
    let mut reads = Vec::new();
    // Bounded even if the damaged log claims a huge range.
    for off in first..next.min(first + 4 * b.recs.len() as u64 + 8) {
        match log.read(off, &mut buf) {
            Ok(n) => {
                same(off, &buf[..n])?;
                reads.push((off, Ok(())));
            }
            Err(e) => reads.push((off, Err(e))),
        }
    }
    let (mut iterated, mut iter_err) = (0u64, None);
    match log.iter(first) {
        Ok(mut it) => loop {
            if iterated > 4 * b.recs.len() as u64 + 8 {
                return Err("iteration does not end".into());
            }
            match it.next_into(&mut buf) {
                Ok(Some((off, n))) => {
                    if off != first + iterated {
                        return Err(format!("iteration skipped to {off}"));
                    }
                    same(off, &buf[..n])?;
                    iterated += 1;
                }
                Ok(None) => break,
                Err(e) => {
                    iter_err = Some(e);
                    break;
                }
            }
        },
        Err(e) => iter_err = Some(e),
    }
    let cursors: BTreeMap<String, u64> = log.consumers().map(|(n, o)| (n.to_string(), o)).collect();
    for (name, off) in &cursors {
        if !b.history.get(name).is_some_and(|h| h.contains(off)) {
            return Err(format!("cursor {name} = {off} was never committed"));
        }
    }
    // Progress: an accepted append reads back, also after a remount.
    let rec = b"appended after the flip".to_vec();
    let append = log.append(&rec);
    if let Ok(off) = append {
        let n = log
            .read(off, &mut buf)
            .map_err(|e| format!("reading the new record {off}: {e:?}"))?;
        if buf[..n] != rec[..] {
            return Err(format!("new record {off} reads back wrong"));
        }
        if let Ok(mut log) = L::mount(log.into_storage(), cfg) {
            if let Ok(n) = log.read(off, &mut buf) {
                if buf[..n] != rec[..] {
                    return Err(format!("new record {off} reads back wrong after remount"));
                }
            }
        }
    }
    Ok(Ok(Seen {
        first,
        next,
        reads,
        iterated,
        iter_err,
        cursors,
        append,
    }))
}

/// The class-specific expectation (see the module docs).
fn expect(b: &Built, region: Region, seen: &Result<Seen, Error>) -> Result<(), String> {
    let must_mount = || match seen {
        Ok(s) => Ok(s),
        Err(e) => Err(format!("mount failed: {e:?}")),
    };
    match region {
        Region::Slack | Region::Slot | Region::Checkpoint { tail: false, .. } => {
            let s = must_mount()?;
            if !s.intact(b) {
                return Err(format!("not intact: {s:?}"));
            }
        }
        Region::Frame {
            addr,
            first,
            count,
            tail,
        } => {
            let s = must_mount()?;
            if s.first != b.first {
                return Err(format!("first offset {} != {}", s.first, b.first));
            }
            if !(s.next == b.next || tail && s.next == first) {
                return Err(format!("next offset {} (frame at {first})", s.next));
            }
            for (off, r) in &s.reads {
                let in_frame = (first..first + count).contains(off);
                match r {
                    Ok(()) if !in_frame => {}
                    Err(Error::Corrupt { addr: a }) if *a == addr => {}
                    other => {
                        return Err(format!(
                            "offset {off}: {other:?}, expected Corrupt {{ addr: {addr:#x} }}"
                        ))
                    }
                }
            }
            match s.iter_err {
                None | Some(Error::Corrupt { .. }) => {}
                Some(e) => return Err(format!("iteration failed with {e:?}")),
            }
        }
        // Every single-bit flip in a header loses at most the records of the segment it hit
        // (review finding F8): the older members stay readable, and in the active segment's
        // header (or checkpoint, which mount needs there) it costs that segment's records.
        Region::FixedHeader { tail, first, end } | Region::Checkpoint { tail, first, end } => {
            let s = must_mount()?;
            let hit = first..end;
            let lost = |range: core::ops::Range<u64>| range.clone().all(|o| hit.contains(&o));
            // The active segment holds the newest state: losing it may bring an older trim
            // point back (more records readable again, each checked byte for byte).
            if (!tail && s.first < b.first) || !lost(b.first..s.first.min(b.next)) {
                return Err(format!(
                    "first offset {} -> {} (segment hit: {hit:?})",
                    b.first, s.first
                ));
            }
            if s.next > b.next || (!tail && s.next != b.next) || !lost(s.next.max(b.first)..b.next)
            {
                return Err(format!(
                    "next offset {} -> {} (segment hit: {hit:?})",
                    b.next, s.next
                ));
            }
            for (off, r) in &s.reads {
                match r {
                    Ok(()) => {}
                    Err(Error::Corrupt { .. }) if hit.contains(off) => {}
                    other => {
                        return Err(format!(
                            "offset {off} outside the segment hit ({hit:?}): {other:?}"
                        ))
                    }
                }
            }
        }
        Region::StateFrame { .. } => {
            must_mount()?;
        }
    }
    Ok(())
}

#[derive(Debug, Default)]
struct Tally {
    flips: u64,
    intact: u64,
    degraded: u64,
    mount_errors: BTreeMap<String, u64>,
    /// Appends refused after a successful mount, by error.
    append_refused: BTreeMap<String, u64>,
}

/// An error's variant (and storage error kind), for tallies.
fn short(e: &Error) -> String {
    match e {
        Error::Storage(s) => format!("Storage({s:?})"),
        e => format!("{e:?}")
            .split([' ', '('])
            .next()
            .unwrap_or("")
            .to_string(),
    }
}

fn sweep(b: &Built) {
    let map = classify(&b.image, b.next);
    let mut tallies: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut image = b.image.clone();
    for addr in 0..image.len() {
        for bit in 0..8u8 {
            image[addr] ^= 1 << bit;
            let region = map[addr];
            let outcome = catch_unwind(AssertUnwindSafe(|| check(b, &image)));
            image[addr] ^= 1 << bit;
            let where_ = format!("{}: byte {addr:#x} bit {bit} ({region:?})", b.name);
            let seen = match outcome {
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{where_}: PANIC {msg}"));
                    continue;
                }
                Ok(Err(violation)) => {
                    failures.push(format!("{where_}: {violation}"));
                    continue;
                }
                Ok(Ok(seen)) => seen,
            };
            if let Err(e) = expect(b, region, &seen) {
                failures.push(format!("{where_}: {e}"));
            }
            let t = tallies.entry(region.class()).or_default();
            t.flips += 1;
            match &seen {
                Ok(s) => {
                    if s.intact(b) {
                        t.intact += 1;
                    } else {
                        t.degraded += 1;
                    }
                    if let Err(e) = s.append {
                        *t.append_refused.entry(short(&e)).or_default() += 1;
                    }
                }
                Err(e) => *t.mount_errors.entry(short(e)).or_default() += 1,
            }
        }
    }
    println!(
        "{} ({} bytes, {} flips; offsets {}..{}, {} segments in use):",
        b.name,
        b.image.len(),
        b.image.len() * 8,
        b.first,
        b.next,
        b.segments_used
    );
    for (class, t) in &tallies {
        println!("  {class:32} {t:?}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} flips broke an expectation; first ones:\n{}",
        failures.len(),
        b.image.len() * 8,
        failures[..failures.len().min(20)].join("\n")
    );
    // The sweep must have hit every class that exists in these images.
    for class in [
        "slack",
        "index slot",
        "fixed header",
        "record frame (older segment)",
    ] {
        assert!(
            tallies.contains_key(class),
            "no {class} bytes in {}",
            b.name
        );
    }
    // A single flipped bit must almost never cost the whole log.
    let total: u64 = tallies.values().map(|t| t.flips).sum();
    let unmountable: u64 = tallies
        .values()
        .map(|t| t.mount_errors.values().sum::<u64>())
        .sum();
    assert!(
        unmountable * 20 < total,
        "{unmountable} of {total} flips made the log unmountable"
    );
}

#[test]
fn every_bit_flip_ws4_erase1k() {
    sweep(&image_ws4());
}

#[test]
fn every_bit_flip_ws32_erase256_wrapped() {
    sweep(&image_ws32_wrapped());
}

#[test]
fn every_bit_flip_ws1_erase256() {
    sweep(&image_ws1());
}
