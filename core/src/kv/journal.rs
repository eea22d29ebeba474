//! Reading the journal of a partition: the mount scan (which frames are valid, where the tail
//! is, what the index holds), lookups by scanning, entry liveness and reading one entry back.
//!
//! Every function takes the storage and the geometry explicitly, so callers can hold other
//! fields of the [`Kv`](super::Kv) (the index) at the same time.

use super::frames::{self, bytes_eq, check_frame, Check, Entry, EntryWalk, KeyBuf, Limits};
use super::index::{sealed::IndexImpl, Loc};
use super::Geo;
use crate::error::{Fallible, Fault};
use crate::format::ends_within;
use crate::format::frame::FRAME_HEADER_LEN;
use crate::storage::Storage;

/// Where the mount scan stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tail {
    /// End of the last valid frame, relative to the partition.
    pub pos: u32,
    /// True when the scan stopped at erased space (or the partition end); false when it
    /// stopped at a torn or damaged frame, behind which nothing may be programmed.
    pub clean: bool,
}

/// Whether the entries of a CRC-valid frame are well formed (`Ok(false)`: they are not).
fn frame_entries_ok<S: Storage>(
    storage: &mut S,
    frame: u32,
    body_len: u32,
    limits: &Limits,
) -> Fallible<bool> {
    let walk = (|| {
        let mut w = EntryWalk::start(storage, frame, body_len)?;
        while w.next(storage, limits)?.is_some() {}
        Ok(())
    })();
    match walk {
        Ok(()) => Ok(true),
        Err(Fault::Corrupt { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Scans the partition at `base` from its data start: finds the end of its valid frames and,
/// for an index that keeps keys, records every entry in `index` (cleared first). A frame is
/// applied only once it is known to be valid whole (CRC and structure), so a batch is
/// recorded entirely or not at all.
pub(crate) fn scan_partition<S: Storage, I: IndexImpl>(
    storage: &mut S,
    geo: &Geo,
    base: u32,
    index: &mut I,
) -> Fallible<Tail> {
    index.clear();
    let limit = base + geo.part;
    let mut pos = base + geo.ds;
    loop {
        let (body_len, size) = match check_frame(storage, geo.ws as usize, pos, limit)? {
            Check::End => {
                return Ok(Tail {
                    pos: pos - base,
                    clean: true,
                })
            }
            Check::Bad => {
                return Ok(Tail {
                    pos: pos - base,
                    clean: false,
                })
            }
            Check::Valid { body_len, size } => (body_len, size),
        };
        if !frame_entries_ok(storage, pos, body_len, &geo.limits)? {
            return Ok(Tail {
                pos: pos - base,
                clean: false,
            });
        }
        if I::INDEXED {
            let mut w = EntryWalk::start(storage, pos, body_len)?;
            while let Some(e) = w.next(storage, &geo.limits)? {
                let key = KeyBuf::read(storage, &e)?;
                if e.set {
                    index.note_set(
                        key.as_slice(),
                        Loc {
                            frame: pos,
                            entry: e.addr,
                        },
                    );
                } else {
                    index.note_delete(key.as_slice());
                }
            }
        }
        pos += size;
    }
}

/// Calls `f(storage, frame, entry)` for every entry of the frames in `[from, to)` (absolute),
/// in journal order, until it returns `Ok(false)`. With `verify`, every frame's CRC is
/// checked first and a frame that fails is [`Error::Corrupt`](crate::Error::Corrupt); without, the frames must have
/// been verified before (their structure is still bounds-checked).
pub(crate) fn for_each_entry<S: Storage>(
    storage: &mut S,
    geo: &Geo,
    from: u32,
    to: u32,
    verify: bool,
    mut f: impl FnMut(&mut S, u32, &Entry) -> Fallible<bool>,
) -> Fallible<()> {
    let mut frame = from;
    while frame < to {
        let (body_len, size) = if verify {
            match check_frame(storage, geo.ws as usize, frame, to)? {
                Check::Valid { body_len, size } => (body_len, size),
                _ => return Err(Fault::Corrupt { addr: frame }),
            }
        } else {
            frames::frame_size_at(storage, geo.ws as usize, frame)?
        };
        if !ends_within(frame, size, to) {
            return Err(Fault::Corrupt { addr: frame });
        }
        let mut w = EntryWalk::start(storage, frame, body_len)?;
        while let Some(e) = w.next(storage, &geo.limits)? {
            if !f(storage, frame, &e)? {
                return Ok(());
            }
        }
        frame += size;
    }
    Ok(())
}

/// Verifies every frame in `[from, to)`: CRC and structure. Any failure is
/// [`Error::Corrupt`](crate::Error::Corrupt) naming the frame.
pub(crate) fn verify_journal<S: Storage>(
    storage: &mut S,
    geo: &Geo,
    from: u32,
    to: u32,
) -> Fallible<()> {
    for_each_entry(storage, geo, from, to, true, |_, _, _| Ok(true))
}

/// The newest entry for `key` in `[from, to)`, verifying every frame: its location if it is
/// a set, `None` if it is a delete or there is none.
pub(crate) fn scan_lookup<S: Storage>(
    storage: &mut S,
    geo: &Geo,
    from: u32,
    to: u32,
    key: &[u8],
) -> Fallible<Option<Loc>> {
    let mut found = None;
    for_each_entry(storage, geo, from, to, true, |st, frame, e| {
        if bytes_eq(st, e.key_addr, e.key_len, key)? {
            found = e.set.then_some(Loc {
                frame,
                entry: e.addr,
            });
        }
        Ok(true)
    })?;
    Ok(found)
}

/// Whether a later entry than `e` (in the frame at `frame` or after it, up to `to`) has the
/// key `key`. The frames must have been verified.
pub(crate) fn occurs_after<S: Storage>(
    storage: &mut S,
    geo: &Geo,
    e: &Entry,
    frame: u32,
    to: u32,
    key: &[u8],
) -> Fallible<bool> {
    let mut later = false;
    for_each_entry(storage, geo, frame, to, false, |st, _, other| {
        if other.addr > e.addr && bytes_eq(st, other.key_addr, other.key_len, key)? {
            later = true;
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(later)
}

/// Whether entry `e` (of the frame at `frame`) is live: a set that no later entry in
/// `[.., to)` overrides. Uses the index when it knows, else scans.
pub(crate) fn is_live<S: Storage, I: IndexImpl>(
    storage: &mut S,
    geo: &Geo,
    index: &I,
    e: &Entry,
    frame: u32,
    to: u32,
) -> Fallible<bool> {
    if !e.set {
        return Ok(false);
    }
    let key = KeyBuf::read(storage, e)?;
    match index.is_live(key.as_slice(), e.addr) {
        Some(live) => Ok(live),
        None => Ok(!occurs_after(storage, geo, e, frame, to, key.as_slice())?),
    }
}

/// Reads back the entry at `loc` after verifying its frame's CRC (which must lie within
/// `limit`). The entry must be a set of `key` when `key` is given.
pub(crate) fn read_entry<S: Storage>(
    storage: &mut S,
    geo: &Geo,
    loc: Loc,
    limit: u32,
    key: Option<&[u8]>,
) -> Fallible<Entry> {
    let corrupt = Fault::Corrupt { addr: loc.frame };
    let body_len = match check_frame(storage, geo.ws as usize, loc.frame, limit)? {
        Check::Valid { body_len, .. } => body_len,
        _ => return Err(corrupt),
    };
    let end = loc.frame + FRAME_HEADER_LEN as u32 + body_len;
    let e = frames::parse_entry(storage, loc.frame, loc.entry, end, &geo.limits)?;
    if !e.set {
        return Err(corrupt);
    }
    if let Some(k) = key {
        if !bytes_eq(storage, e.key_addr, e.key_len, k)? {
            return Err(corrupt);
        }
    }
    Ok(e)
}
