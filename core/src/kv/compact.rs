//! Compaction and the generation switch (also behind [`Kv::clear`] and [`Kv::format`]).
//!
//! 1. Verify the whole active journal (a frame that no longer verifies stops the compaction
//!    before anything is written: damage is never copied under a fresh CRC).
//! 2. Erase the other partition (its generation is lower, so whatever an interrupted erase
//!    leaves there is never chosen over the active one).
//! 3. Copy the live entries, in journal order, into `K` frames after the header area. Source
//!    frames are grouped: the live entries of consecutive source frames share one output frame
//!    while it stays within a budget (512 B or 4 write units, whichever is larger — small, as
//!    every `get` verifies the CRC of the whole frame holding its entry), and a source frame's
//!    entries are never split. Each output frame is therefore no larger than the source frames it
//!    replaces, so the compacted journal is never longer than the journal it came from:
//!    compaction cannot fail for lack of room.
//! 4. Sync, program the header (generation + 1, `compacted_end`), sync. The header is the
//!    commit point.
//! 5. Switch RAM state to the new partition and move the index entries to their new places.
//!
//! A failure before step 4 leaves the old partition active and the KV usable. A failure
//! while programming the header leaves the medium in either state, so the KV refuses writes
//! until it is mounted again ([`Error::NeedsRemount`](crate::Error::NeedsRemount)).

use super::format::{
    body_len, data_start, encode_frame_header, encode_header, frame_size, KvHeader,
    KV_FORMAT_VERSION, KV_HEADER_LEN, MAX_GENERATION,
};
use super::frames::{self, EntryWalk};
use super::index::{sealed::IndexImpl, Loc};
use super::{journal, Geo, Kv, KvIndex};
use crate::error::{Fallible, Fault};
use crate::format::ends_within;
use crate::format::frame::{varint_len, FRAME_HEADER_LEN, FRAME_OVERHEAD};
use crate::storage::{Storage, MAX_WRITE_SIZE};
use crate::writer::UnitWriter;

/// Relocations of live entries: `(old entry address, new location)` in ascending old address
/// order. Only collected for an index that keeps locations (which needs `alloc`).
struct Relocs {
    #[cfg(feature = "alloc")]
    v: alloc::vec::Vec<(u32, Loc)>,
}

impl Relocs {
    fn new() -> Self {
        Relocs {
            #[cfg(feature = "alloc")]
            v: alloc::vec::Vec::new(),
        }
    }
    #[allow(unused_variables)]
    fn push(&mut self, old: u32, new: Loc) {
        #[cfg(feature = "alloc")]
        self.v.push((old, new));
    }
    fn as_slice(&self) -> &[(u32, Loc)] {
        #[cfg(feature = "alloc")]
        return &self.v;
        #[cfg(not(feature = "alloc"))]
        &[]
    }
}

/// Live entries of the frame at `frame` (verified before): their count and encoded bytes.
fn live_in_frame<S: Storage, I: IndexImpl>(
    st: &mut S,
    geo: &Geo,
    index: &I,
    frame: u32,
    body_len: u32,
    to: u32,
) -> Fallible<(u32, u32)> {
    let (mut count, mut bytes) = (0u32, 0u32);
    let mut w = EntryWalk::start(st, frame, body_len)?;
    while let Some(e) = w.next(st, &geo.limits)? {
        if journal::is_live(st, geo, index, &e, frame, to)? {
            count += 1;
            bytes += e.len();
        }
    }
    Ok((count, bytes))
}

/// Copies the live entries of `[from, to)` into the partition at `dst`; returns the end of
/// the copied frames (absolute).
// Inlining chosen by measurement: see footprint/README.md, "Inlining".
#[inline(always)]
fn copy_live<S: Storage, I: IndexImpl>(
    st: &mut S,
    geo: &Geo,
    index: &I,
    from: u32,
    to: u32,
    dst: u32,
    relocs: &mut Relocs,
) -> Fallible<u32> {
    let ws = geo.ws as usize;
    let budget = 512usize.max(4 * ws);
    let dst_end = dst + geo.part;
    let mut out = dst + geo.ds;
    let mut f = from;
    while f < to {
        // Sizing pass: which source frames share the next output frame.
        let (mut count, mut bytes, mut g) = (0u32, 0u32, f);
        while g < to {
            let (body, size) = frames::frame_size_at(st, ws, g)?;
            let (c, b) = live_in_frame(st, geo, index, g, body, to)?;
            if count > 0
                && c > 0
                && FRAME_OVERHEAD + body_len((count + c) as usize, (bytes + b) as usize) > budget
            {
                break;
            }
            count += c;
            bytes += b;
            g += size;
        }
        if count == 0 {
            break; // nothing live from f to the end
        }
        // Writing pass.
        let body = body_len(count as usize, bytes as usize);
        if !ends_within(out, frame_size(ws, body) as u32, dst_end) {
            return Err(Fault::Full); // cannot happen: output frames never outgrow their sources
        }
        let mut w = UnitWriter::new(st, out, ws);
        w.put(&encode_frame_header(body))?;
        w.put_varint(count)?;
        let mut at = out + (FRAME_HEADER_LEN + varint_len(count)) as u32;
        let mut written = 0u32;
        let mut h = f;
        while h < g {
            // Reads of the source go through the writer's storage, between its writes.
            let (hbody, hsize) = frames::frame_size_at(w.storage(), ws, h)?;
            let mut walk = EntryWalk::start(w.storage(), h, hbody)?;
            while let Some(e) = walk.next(w.storage(), &geo.limits)? {
                if journal::is_live(w.storage(), geo, index, &e, h, to)? {
                    w.copy(e.addr, e.len())?;
                    if I::INDEXED {
                        relocs.push(
                            e.addr,
                            Loc {
                                frame: out,
                                entry: at,
                            },
                        );
                    }
                    at += e.len();
                    written += 1;
                }
            }
            h += hsize;
        }
        if written != count || at != out + (FRAME_HEADER_LEN + body) as u32 {
            // The medium changed under us: abandon before the commit point.
            return Err(Fault::Corrupt { addr: f });
        }
        out = w.finish()?;
        f = g;
    }
    Ok(out)
}

impl<S: Storage, I: KvIndex> Kv<S, I> {
    /// Commits the live map (`keep`) or an empty map as the next generation in the other
    /// partition, which becomes the active one. See the [module docs](self).
    pub(crate) fn switch_generation(&mut self, keep: bool) -> Fallible<()> {
        let geo = self.geo;
        let next_gen = self.generation + 1;
        if next_gen >= MAX_GENERATION {
            return Err(Fault::Full);
        }
        let src_from = self.base(self.active) + geo.ds;
        let src_end = self.journal_end();
        let dst_p = 1 - self.active;
        let dst = self.base(dst_p);
        if keep {
            journal::verify_journal(&mut self.storage, &geo, src_from, src_end)?;
        }
        self.storage.erase(dst, dst + geo.part)?;
        self.epoch = crate::epoch::Epoch::fresh();
        let mut relocs = Relocs::new();
        let out_end = if keep {
            copy_live(
                &mut self.storage,
                &geo,
                &self.index,
                src_from,
                src_end,
                dst,
                &mut relocs,
            )?
        } else {
            dst + geo.ds
        };
        self.storage.sync()?;
        let header = KvHeader {
            version: KV_FORMAT_VERSION,
            generation: next_gen,
            write_size: geo.ws,
            erase_size: geo.es,
            partition_size: geo.part,
            max_key_len: geo.limits.max_key as u8,
            max_value_len: geo.limits.max_value,
            compacted_end: out_end - dst,
        };
        let mut h = [0u8; KV_HEADER_LEN];
        encode_header(&header, &mut h);
        // Zeroed, then padded with 0xFF: that links less of the runtime than a 0xFF fill.
        let n = data_start(geo.ws as usize);
        let mut unit = [0u8; MAX_WRITE_SIZE];
        unit[..KV_HEADER_LEN].copy_from_slice(&h);
        unit[KV_HEADER_LEN..n].fill(0xFF);
        let committed = self
            .storage
            .program(dst, &unit[..n])
            .and_then(|()| self.storage.sync());
        if let Err(e) = committed {
            // The header may or may not be on the medium: only a mount can tell.
            self.poisoned = true;
            return Err(e.into());
        }
        self.active = dst_p;
        self.generation = next_gen;
        self.pos = out_end - dst;
        self.tail_clean = true;
        self.journal_compact = true;
        self.recheck = false;
        if !keep {
            self.index.clear();
        } else if !self.index.relocate(relocs.as_slice()) {
            // Cannot happen (every live key was copied); rebuild from the medium to be sure.
            journal::scan_partition(&mut self.storage, &geo, dst, &mut self.index)?;
        }
        Ok(())
    }
}
