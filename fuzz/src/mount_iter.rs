//! Fuzz harness `mount_iter`: mount an arbitrary image, then read everything it claims to hold.
//!
//! Input: a mode byte, geometry bytes, then either
//! * (mode bit 0 clear) the raw image bytes (padded with `0xFF` to the capacity), or
//! * (mode bit 0 set) a script of log operations that builds a real image, followed by
//!   `(address, xor)` patches that damage it (no patches: the intact image is checked exactly).
//!
//! Checked on every image (invariants I4, I6, I7): no panic, no hang (every loop is bounded),
//! no storage rule broken by recovery (`SimFlash::from_image` marks every non-erased unit, so
//! programming one is caught as a write-twice); iteration yields consecutive offsets from the
//! first offset, every record at most `max_record_size`, and reaches the next offset unless it
//! reports an error; `read` never returns bytes that differ from what the iteration returned;
//! reads below/above the range give `Overwritten`/`OutOfRange`; an append after mount, if
//! accepted, reads back and survives a remount (one refusal is tolerated on damaged images:
//! a write-twice when damage sits in the free area the append writes to — see `check_image`).
//! An intact image must mount to exactly what was written, and accept an append.

use super::reader::Reader;
use tidelog::{Config, Error, FullPolicy, Log, SimFlash};

type FuzzLog<'a> = Log<&'a mut SimFlash, 4>;

/// Most records iterated or read per image.
const MAX_RECORDS: u64 = 4096;
/// Most operations of a building script.
const MAX_BUILD_OPS: usize = 96;

/// What an intact built image holds.
struct Built {
    first: u64,
    next: u64,
    /// Records `0..next` as appended (those below `first` are not checked).
    records: Vec<Vec<u8>>,
    cursors: Vec<(String, u64)>,
}

/// A built image, and what it holds when it was not damaged afterwards.
type Image = (Vec<u8>, Option<Built>);

/// Runs the harness on one input; `Err` describes a violation.
pub fn run(data: &[u8]) -> Result<(), String> {
    let mut r = Reader::new(data);
    let mode = r.u8();
    let ws = 1usize << (r.u8() % 9);
    let es = 256usize << (r.u8() % 3);
    let sectors = 2 + (r.u8() % 7) as usize;
    let cap = es * sectors;
    let policy = if mode & 2 != 0 {
        FullPolicy::OverwriteOldest
    } else {
        FullPolicy::Reject
    };
    let (image, built) = if mode & 1 == 0 {
        let mut image = vec![0xFFu8; cap];
        let src = r.rest();
        let n = src.len().min(cap);
        image[..n].copy_from_slice(&src[..n]);
        (image, None)
    } else {
        match build(&mut r, ws, es, cap, policy)? {
            Some(b) => b,
            None => return Ok(()),
        }
    };
    check_image(&image, ws, es, policy, built.as_ref())
}

fn storage_rule(e: &Error) -> Result<(), String> {
    match e {
        Error::Storage(se) => Err(format!(
            "storage rule broken on a fault-free device: {se:?} ({e})"
        )),
        _ => Ok(()),
    }
}

/// Builds an image with a script of operations; `None` when the geometry cannot hold a log.
fn build(
    r: &mut Reader<'_>,
    ws: usize,
    es: usize,
    cap: usize,
    policy: FullPolicy,
) -> Result<Option<Image>, String> {
    let mut sim = SimFlash::new(ws, es, cap).map_err(|e| format!("SimFlash::new: {e:?}"))?;
    let seg_sectors = 1 + (r.u8() % 2) as u32;
    let interval = (ws as u32).max(32 << (r.u8() % 5));
    let config = Config::new()
        .segment_sectors(seg_sectors)
        .index_interval(interval)
        .full_policy(policy);
    let mut log: FuzzLog<'_> = match Log::format(&mut sim, config) {
        Ok(l) => l,
        Err(Error::InvalidConfig(_)) => return Ok(None),
        Err(e) => return Err(format!("format failed: {e:?}")),
    };
    let max = log.layout().max_record_size as usize;
    let mut records: Vec<Vec<u8>> = Vec::new();
    let ops = r.u8() as usize % MAX_BUILD_OPS;
    for i in 0..ops {
        let op = r.u8();
        let res = match op % 8 {
            0..=3 => {
                let rec = record(r, max, i);
                let res = log.append(&rec);
                if res.is_ok() {
                    records.push(rec);
                }
                res.map(|_| ())
            }
            4 => {
                let n = 2 + r.u8() as usize % 6;
                let recs: Vec<Vec<u8>> = (0..n).map(|j| record(r, 40, i * 8 + j)).collect();
                let slices: Vec<&[u8]> = recs.iter().map(|v| v.as_slice()).collect();
                let res = log.append_batch(&slices);
                if res.is_ok() {
                    records.extend(recs);
                }
                res.map(|_| ())
            }
            5 => {
                let name = ["a", "uploader", "c"][r.u8() as usize % 3];
                let to = r.range(log.committed(name).unwrap_or(0), log.next_offset());
                log.commit(name, to)
            }
            6 => {
                let first = log.first_offset();
                let to = r.range(first, log.next_offset());
                log.trim_front(to)
            }
            _ => {
                let first = log.first_offset();
                let len = r.range(first, log.next_offset());
                let res = log.truncate_back(len);
                if res.is_ok() {
                    records.truncate(len as usize);
                }
                res
            }
        };
        match res {
            // A batch may exceed the largest record of a small segment.
            Ok(()) | Err(Error::Full) | Err(Error::TooLarge { .. }) => {}
            Err(e) => return Err(format!("building the image: op {op} failed: {e:?}")),
        }
    }
    let built = Built {
        first: log.first_offset(),
        next: log.next_offset(),
        records,
        cursors: log.consumers().map(|(n, o)| (n.to_string(), o)).collect(),
    };
    let mut image = sim.image().to_vec();
    let mut patched = false;
    while !r.is_empty() {
        let addr = r.below(cap as u64) as usize;
        let x = r.u8();
        image[addr] ^= x;
        patched |= x != 0;
    }
    Ok(Some((image, (!patched).then_some(built))))
}

/// A record of up to `max` bytes; the content depends on `seed`.
fn record(r: &mut Reader<'_>, max: usize, seed: usize) -> Vec<u8> {
    let len = r.below(max as u64 + 1) as usize;
    let fill = r.u8();
    (0..len)
        .map(|k| match fill {
            0 => 0xFF,
            1 => 0x00,
            _ => (k.wrapping_mul(31) ^ seed.wrapping_mul(7) ^ fill as usize) as u8,
        })
        .collect()
}

/// Mounts `image` and checks everything it claims to hold.
fn check_image(
    image: &[u8],
    ws: usize,
    es: usize,
    policy: FullPolicy,
    built: Option<&Built>,
) -> Result<(), String> {
    let mut sim = SimFlash::from_image(image, ws, es).map_err(|e| format!("from_image: {e:?}"))?;
    let config = Config::new().full_policy(policy);
    let mut log: FuzzLog<'_> = match Log::mount(&mut sim, config) {
        Ok(l) => l,
        Err(e) => {
            storage_rule(&e)?;
            if built.is_some() {
                return Err(format!("mounting an intact image failed: {e:?}"));
            }
            return Ok(());
        }
    };
    let next = log.next_offset();
    let first = log.first_offset();
    if first > next {
        return Err(format!(
            "first offset {first} is beyond the next offset {next}"
        ));
    }
    let s = log.stats();
    if s.first_offset != first || s.next_offset != next {
        return Err(format!(
            "stats {s:?} disagree with first {first} / next {next}"
        ));
    }
    if s.segments_used > s.segments_total || s.segments_used == 0 {
        return Err(format!("stats {s:?}: segments used out of range"));
    }
    let max = log.layout().max_record_size as usize;
    let mut buf = vec![0u8; max.max(1)];
    // Iterate.
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut complete = false;
    match log.iter(first) {
        Ok(mut it) => loop {
            if seen.len() as u64 >= MAX_RECORDS {
                break;
            }
            match it.next_into(&mut buf) {
                Ok(None) => {
                    complete = true;
                    break;
                }
                Ok(Some((off, n))) => {
                    let want = first + seen.len() as u64;
                    if off != want {
                        return Err(format!("iter yielded offset {off}, expected {want}"));
                    }
                    if off >= next {
                        return Err(format!("iter yielded offset {off} >= next offset {next}"));
                    }
                    if n > max {
                        return Err(format!("record {off} has {n} bytes > max {max}"));
                    }
                    seen.push(buf[..n].to_vec());
                }
                Err(Error::BufferTooSmall { needed }) => {
                    return Err(format!(
                        "iter wants a {needed}-byte buffer, beyond max_record_size {max}"
                    ))
                }
                Err(e) => {
                    storage_rule(&e)?;
                    break;
                }
            }
        },
        Err(e) => storage_rule(&e)?,
    }
    if complete && first + seen.len() as u64 != next {
        return Err(format!(
            "iter ended at {} without an error, before the next offset {next}",
            first + seen.len() as u64
        ));
    }
    // Read back by offset: never different bytes.
    for (i, rec) in seen.iter().enumerate() {
        let off = first + i as u64;
        match log.read(off, &mut buf) {
            Ok(n) => {
                if &buf[..n] != rec.as_slice() {
                    return Err(format!("read({off}) differs from what iter returned (I4)"));
                }
            }
            Err(Error::BufferTooSmall { needed }) => {
                return Err(format!(
                    "read({off}) wants a {needed}-byte buffer, beyond max_record_size {max}"
                ))
            }
            Err(e) => storage_rule(&e)?,
        }
    }
    let r = log.read(next, &mut buf);
    if !matches!(r, Err(Error::OutOfRange { .. })) {
        return Err(format!(
            "read(next offset {next}) = {r:?}, expected OutOfRange"
        ));
    }
    if first > 0 {
        let r = log.read(first - 1, &mut buf);
        if !matches!(r, Err(Error::Overwritten { .. })) {
            return Err(format!("read({}) = {r:?}, expected Overwritten", first - 1));
        }
    }
    let cursors: Vec<(String, u64)> = log.consumers().map(|(n, o)| (n.to_string(), o)).collect();
    if let Some(b) = built {
        if (first, next) != (b.first, b.next) {
            return Err(format!(
                "intact image mounts as {first}..{next}, but {}..{} was written",
                b.first, b.next
            ));
        }
        if !complete || seen.as_slice() != &b.records[first as usize..next as usize] {
            return Err("intact image: the records read back differ from those appended".into());
        }
        if cursors != b.cursors {
            return Err(format!(
                "intact image: cursors {cursors:?}, committed {:?}",
                b.cursors
            ));
        }
    }
    // Progress (I6): an append after mount reads back, also after a remount.
    let probe = b"tidelog-fuzz-probe";
    match log.append(probe) {
        Ok(off) => {
            if off != next {
                return Err(format!("append after mount got offset {off}, not {next}"));
            }
            match log.read(off, &mut buf) {
                Ok(n) if &buf[..n] == probe => {}
                other => return Err(format!("the appended record reads back as {other:?}")),
            }
            log.sync().map_err(|e| format!("sync: {e:?}"))?;
            let storage = log.into_storage();
            let mut log: FuzzLog<'_> = Log::mount(storage, config)
                .map_err(|e| format!("remount after an append failed: {e:?}"))?;
            if log.next_offset() != off + 1 {
                return Err(format!(
                    "after remount the next offset is {}, not {}",
                    log.next_offset(),
                    off + 1
                ));
            }
            match log.read(off, &mut buf) {
                Ok(n) if &buf[..n] == probe => {}
                other => {
                    return Err(format!(
                        "after remount the appended record reads back as {other:?} (I2)"
                    ))
                }
            }
        }
        Err(e) => {
            if built.is_some() && e != Error::Full {
                return Err(format!("an intact image refuses appends: {e:?} (I6)"));
            }
            // Damage inside the free area of the active segment (after the last frame, or in
            // an unused index slot) is checked before anything is programmed there (the frame
            // area as appends reach it, each slot before it is written): a write-twice is a
            // violation like any other storage error.
            storage_rule(&e)?;
        }
    }
    Ok(())
}
