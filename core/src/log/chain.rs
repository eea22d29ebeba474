//! The chain: which segments are members, in order from the head to the tail, and where each
//! one's records start and end (FORMAT.md §2.1). A member is named by a [`SegmentRef`]; the
//! tail's fields live in the `Log`, the others' in their headers, read when asked (the log keeps
//! no RAM copy of the bases: RAM would grow with the segment count). Reads, trims and
//! truncations find segments here; the head moves forward only through
//! [`advance_head`](Log::advance_head).

use crate::error::{Fallible, Fault};
use crate::log::Log;
use crate::policy::Policy;
use crate::segment;
use crate::storage::Storage;

/// A chain member: where a record's frame is.
#[derive(Debug, Clone, Copy)]
// 4-aligned although it holds a `u64`: see `word.rs`.
#[repr(Rust, packed(4))]
pub(crate) struct SegmentRef {
    pub index: u32,
    pub base: u64,
    pub data_start: u32,
}

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// The chain member holding `offset` (which is readable): the last member whose base is
    /// at most `offset`. Erased holes between members (left by a truncation) are skipped.
    pub(crate) fn find_segment(&mut self, offset: u64) -> Fallible<SegmentRef> {
        if offset >= self.tail_base.get() {
            return Ok(SegmentRef {
                index: self.tail,
                base: self.tail_base.get(),
                data_start: self.data_start,
            });
        }
        let span = self.layout.ring_dist(self.head, self.tail); // members before the tail: 0..span
        let (mut lo, mut hi) = (0u32, span);
        let mut best: Option<SegmentRef> = None;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            // Nearest member at or left of `mid` (holes are rare and short).
            let mut d = mid;
            let found = loop {
                let i = self.layout.ring_add(self.head, d);
                if let Some(h) = segment::read_member_header(&mut self.storage, &self.layout, i)? {
                    break Some((d, i, h));
                }
                if d == lo {
                    break None;
                }
                d -= 1;
            };
            match found {
                Some((d, i, h)) if h.base_offset <= offset => {
                    best = Some(SegmentRef {
                        index: i,
                        base: h.base_offset,
                        data_start: self.layout.data_start(h.header_len as usize),
                    });
                    lo = mid + 1;
                    let _ = d;
                }
                Some((d, _, _)) => hi = d,
                None => lo = mid + 1,
            }
        }
        best.ok_or(Fault::Corrupt {
            addr: self.layout.segment_addr(self.head),
        })
    }

    /// Offset one past the last record of chain member `index` (the next member's base).
    pub(crate) fn segment_end_offset(&mut self, index: u32) -> Fallible<u64> {
        if index == self.tail {
            return Ok(self.next.get());
        }
        Ok(self.next_member(index)?.base)
    }

    /// Makes `new_head` (the chain member after the head) the head. Segments skipped on the way
    /// are holes left by a truncation; they join the free region possibly half-erased (an erase
    /// torn by power loss leaves no valid header for mount to find), so every free segment is
    /// treated as needing an erase again.
    pub(crate) fn advance_head(&mut self, new_head: u32) {
        let skipped = new_head != self.layout.ring_next(self.head);
        self.head = new_head;
        // The old head leaves the chain (to be erased and reused): a read position may point
        // there.
        self.invalidate_reads();
        if Some(new_head) == self.gap_end {
            self.gap_end = None;
        }
        if skipped {
            self.free_dirty = self.free_segments();
        }
    }

    /// The chain member after `index` (skipping erased holes): its index, base offset and
    /// data start.
    pub(crate) fn next_member(&mut self, index: u32) -> Fallible<SegmentRef> {
        let first = self.layout.ring_next(index);
        let mut i = first;
        loop {
            if i == self.tail {
                return Ok(SegmentRef {
                    index: i,
                    base: self.tail_base.get(),
                    data_start: self.data_start,
                });
            }
            if let Some(h) = segment::read_member_header(&mut self.storage, &self.layout, i)? {
                return Ok(SegmentRef {
                    index: i,
                    base: h.base_offset,
                    data_start: self.layout.data_start(h.header_len as usize),
                });
            }
            i = self.layout.ring_next(i);
            if i == first {
                return Err(Fault::Corrupt {
                    addr: self.layout.segment_addr(index),
                });
            }
        }
    }
}
