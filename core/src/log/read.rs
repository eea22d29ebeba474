//! Reading by offset: [`Log::read`], and the search every reader shares (`locate`).
//!
//! Locating offset `x` is O(log n): a binary search over the chain's segment headers (bases
//! are non-decreasing along the chain), a binary search over that segment's index slots, then
//! a scan of at most one index interval of frames. Every frame passed over is CRC-checked,
//! so a damaged length can never shift offsets (invariant I4).
//!
//! A reader that goes forward (a consumer reading offset after offset) does not pay for the
//! searches each time: the log remembers where the last read ended ([`ReadHint`]) and walks on
//! from there, for at most one index interval, before it falls back to the search. Past the
//! end of that frame's segment it steps to the next chain member. A
//! [`ReadCursor`](crate::ReadCursor) (and [`Iter`](crate::Iter), built on one) is such a reader:
//! it keeps a hint of its own and finds each next frame the same way, so reads and iteration
//! share one path.

use crate::error::{Error, Fallible, Fault, Result};
use crate::log::chain::SegmentRef;
use crate::log::cursor::{ReadCursor, RecordOp};
use crate::log::Log;
use crate::policy::Policy;
use crate::segment::{self, FrameInfo, RecordWalk, Walk, WalkStop};
use crate::storage::Storage;
use crate::window::Window;

/// The frame of the last record read, so the next read of the same or a later offset starts
/// walking there (or at the frame after it, when the offset is past this one). It stays valid
/// while its segment is a chain member (then its frames never change): every change of the
/// head and every truncation clears it, since only those let a segment leave the chain.
#[derive(Debug, Clone, Copy)]
// 4-aligned although it holds a `u64`: see `word.rs`.
#[repr(Rust, packed(4))]
pub(crate) struct ReadHint {
    seg: SegmentRef,
    /// Frame position within the segment.
    pos: u32,
    /// First offset of that frame.
    offset: u64,
    /// The frame's size on the medium and its number of records.
    size: u32,
    count: u32,
    /// The segment's end offset, once it is no longer the active one (then it is fixed).
    end: Option<u64>,
}

impl ReadHint {
    /// A hint at the first frame of chain member `seg` (whose records end at `end`, when known
    /// and it is not the active segment): mount's, so the first read of the head's records
    /// walks from there instead of searching.
    pub(crate) fn segment_start(seg: SegmentRef, end: Option<u64>) -> Self {
        ReadHint {
            seg,
            pos: seg.data_start,
            offset: seg.base,
            size: 0,
            count: 0,
            end,
        }
    }
}

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// Copies the record at `offset` into `buf` and returns its length.
    ///
    /// Errors: [`Error::OutOfRange`] for `offset >= next_offset`, [`Error::Overwritten`] for
    /// an offset below the first readable one, [`Error::BufferTooSmall`] (with the needed
    /// length), [`Error::Corrupt`] when the medium is damaged there.
    pub fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.check_readable(offset)?;
        Ok(self.read_at(offset, buf)?)
    }

    /// [`read`](Self::read) once `offset` is known to be readable.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Fallible<usize> {
        self.with_record(offset, &mut |walk, storage, chunk| {
            walk.next_into(storage, chunk, buf)
        })
    }

    /// Runs `op` on the frame holding `offset` (readable), located with the log's own read
    /// hint: through a cursor that holds it for the call, so reads by offset and by cursor
    /// share one path (see `Log::at_cursor`).
    pub(crate) fn with_record<R>(
        &mut self,
        offset: u64,
        op: &mut RecordOp<'_, S, R>,
    ) -> Fallible<R> {
        let mut cursor = ReadCursor::at(offset);
        cursor.adopt(self.epoch, self.hint.take());
        let r = self.at_cursor(&mut cursor, op);
        self.hint = cursor.take_hint();
        r
    }

    /// The length of the record at `offset` (what [`read`](Self::read) would copy), with the
    /// same errors but [`Error::BufferTooSmall`].
    pub fn record_len(&mut self, offset: u64) -> Result<usize> {
        self.check_readable(offset)?;
        let len = self.with_record(offset, &mut |walk, storage, chunk| {
            walk.peek_len(storage, chunk)
        })?;
        Ok(len as usize)
    }

    /// The record at `offset` as a vector of exactly its length (feature `alloc`), with the
    /// errors of [`read`](Self::read) but [`Error::BufferTooSmall`].
    #[cfg(feature = "alloc")]
    pub fn read_vec(&mut self, offset: u64) -> Result<alloc::vec::Vec<u8>> {
        self.check_readable(offset)?;
        Ok(self.with_record(offset, &mut |walk, storage, chunk| {
            walk.next_vec(storage, chunk)
        })?)
    }

    /// Checks that `offset` is readable; returns the first readable offset.
    pub(crate) fn check_readable(&self, offset: u64) -> Result<u64> {
        let first = self.first_readable();
        if offset >= self.next.get() {
            return Err(Error::OutOfRange {
                first,
                next: self.next.get(),
            });
        }
        if offset < first {
            return Err(Error::Overwritten {
                first_available: first,
            });
        }
        Ok(first)
    }

    /// The frame holding `offset` (readable: see [`check_readable`](Self::check_readable)),
    /// positioned at that record (a large single-record frame still to be verified as its
    /// record is copied: see `Log::at_cursor`), the end offset of its segment (records of a
    /// frame at or past it were truncated away), and the hint for the next read. `hint` is
    /// where the reader's previous read ended (taken in the log's current epoch).
    /// `chunk` is the window the frame is verified through (see [`Window`]): records are
    /// copied from it.
    pub(crate) fn locate(
        &mut self,
        offset: u64,
        chunk: &mut Window,
        hint: Option<ReadHint>,
    ) -> Fallible<(RecordWalk, u64, ReadHint)> {
        // What a reader's window holds from an earlier call may have been programmed since.
        chunk.forget();
        let mut located = None;
        if let Some(h) = hint {
            // A hint's segment is a chain member (see `ReadHint`), so its frames stand even
            // when the first readable offset has moved past them (a trim within the segment).
            if h.offset <= offset {
                let fixed_end = h.end; // a copy: `ReadHint` is packed
                let end = match fixed_end {
                    Some(end) if h.seg.index != self.tail => end,
                    _ => self.segment_end_offset(h.seg.index)?,
                };
                if offset < end {
                    // Past this frame: start at the one after it (the next offset's, usually).
                    let after = h.offset + h.count as u64;
                    let from = if offset >= after {
                        (h.pos + h.size, after)
                    } else {
                        (h.pos, h.offset)
                    };
                    located = Some((h.seg, end, Some(from)));
                } else if offset == end && h.seg.index != self.tail {
                    // Just past this segment (an iterator crossing): the next member starts
                    // there, at its first frame — unless it is empty (its successor has the
                    // same base), then the search finds the member holding `offset`.
                    let seg = self.next_member(h.seg.index)?;
                    let end = self.segment_end_offset(seg.index)?;
                    if seg.base == offset && offset < end {
                        located = Some((seg, end, Some((seg.data_start, seg.base))));
                    }
                }
            }
        }
        let (seg, end, from) = match located {
            Some(l) => l,
            None => {
                let seg = self.find_segment(offset)?;
                (seg, self.segment_end_offset(seg.index)?, None)
            }
        };
        let (addr, info, skip, frame_offset) = self.find_frame(&seg, offset, from, chunk)?;
        let mut walk = RecordWalk::start(addr, &info);
        walk.skip(&mut self.storage, chunk, skip)?;
        let seg_addr = self.layout.segment_addr(seg.index);
        let hint = ReadHint {
            seg,
            pos: addr - seg_addr,
            offset: frame_offset,
            size: info.size,
            count: info.count,
            end: (seg.index != self.tail).then_some(end),
        };
        Ok((walk, end, hint))
    }

    /// The verified frame holding `offset` in `seg`: (address, info, records to skip, first
    /// offset of the frame). `from`: a frame position and its first offset (at most `offset`)
    /// to walk on from, for at most one index interval, before searching the index slots.
    fn find_frame(
        &mut self,
        seg: &SegmentRef,
        offset: u64,
        from: Option<(u32, u64)>,
        chunk: &mut Window,
    ) -> Fallible<(u32, FrameInfo, u32, u64)> {
        let layout = self.layout;
        let seg_addr = layout.segment_addr(seg.index);
        // Offsets inside a segment are counted from its base (see `Walk`).
        let target = (offset - seg.base) as u32;
        let mut from = from.map(|(pos, at)| {
            (
                Walk::from(pos, (at - seg.base) as u32),
                pos.saturating_add(layout.index_interval),
            )
        });
        loop {
            let (mut walk, stop) = match from.take() {
                Some(start) => start,
                None => {
                    let used = if seg.index == self.tail {
                        self.slots_used
                    } else {
                        segment::used_slots(&mut self.storage, &layout, seg_addr)?.0
                    };
                    let want = target as u64;
                    let slot =
                        segment::find_slot(&mut self.storage, &layout, seg_addr, used, want)?;
                    let walk = match slot {
                        Some(s) if s.pos >= seg.data_start && s.pos < layout.index_start() => {
                            Walk::from(s.pos, s.delta)
                        }
                        _ => Walk::from(seg.data_start, 0),
                    };
                    (walk, u32::MAX)
                }
            };
            let r = walk.run(&mut self.storage, &layout, seg_addr, target, stop, chunk);
            if let Ok(WalkStop::Found(f)) = r {
                let skip = target - walk.delta;
                return Ok((seg_addr + walk.pos, f, skip, seg.base + walk.delta as u64));
            }
            if stop == u32::MAX {
                // From the slots: anything but the frame is damage (the offset is readable).
                r?;
                return Err(Fault::Corrupt {
                    addr: seg_addr + walk.pos,
                });
            }
            // From `from`: a damaged frame on the way, or not within one interval — the slots
            // may lead past it.
        }
    }
}
