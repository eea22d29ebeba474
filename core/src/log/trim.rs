//! Dropping records at either end: [`Log::trim_front`] (acknowledge and reclaim) and
//! [`Log::truncate_back`] (roll back the newest records).
//!
//! Trimming persists the new trim point in a state frame, then erases the segments that hold
//! nothing at or above it. Truncation opens a new segment whose base offset is the truncation
//! point and whose header links back to the last segment that keeps records: writing that one
//! header is the commit point, so a truncation is atomic. The segments it skipped are erased
//! afterwards (or by the next mount if power is cut first).

use crate::error::{Error, Fallible, Result};
use crate::log::chain::SegmentRef;
use crate::log::{Log, Purpose};
use crate::policy::Policy;
use crate::segment;
use crate::storage::Storage;
use crate::word::U64;

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// Drops every record below `offset` and reclaims the segments that held only those.
    ///
    /// Trimming below the current first offset is a no-op. Cursors behind the new first
    /// offset will see [`Error::Overwritten`]. Errors: [`Error::OutOfRange`] when `offset` is
    /// beyond the next offset.
    // Never inlined: inlined into a big caller it costs register spills; out of line it is
    // smaller (`bash footprint/measure.sh`, see BENCHMARKS.md §3).
    #[inline(never)]
    pub fn trim_front(&mut self, offset: u64) -> Result<()> {
        self.check_writable()?;
        let first = self.first_readable();
        if offset > self.next.get() {
            return Err(Error::OutOfRange {
                first,
                next: self.next.get(),
            });
        }
        if offset <= first {
            return Ok(());
        }
        // The segments the new trim point frees are erased only once it is durable.
        let mut new = self.state;
        new.set_trim(offset);
        self.write_state(&new)?;
        // Writing the state may have opened a segment and dropped the head (OverwriteOldest):
        // the first offset is the larger of the two (or recomputed lazily).
        self.first = U64::new(self.first.get().max(offset));
        Ok(self.reclaim_dead_head()?)
    }

    /// Erases head segments whose records are all below the first offset.
    fn reclaim_dead_head(&mut self) -> Fallible<()> {
        let first = self.first_readable();
        while self.head != self.tail {
            let SegmentRef {
                index: next_head,
                base: next_base,
                ..
            } = self.next_member(self.head)?;
            if next_base > first {
                break;
            }
            let a = self.layout.segment_addr(self.head);
            if let Err(e) = self.storage.erase(a, a + self.layout.segment_size) {
                self.poisoned = true;
                return Err(e.into());
            }
            self.advance_head(next_head);
        }
        Ok(())
    }

    /// Removes every record at or above `len`: afterwards the next offset is `len`, and offsets
    /// from `len` on are assigned again to new records (the one exception to offsets never
    /// being reused, invariant I5). Cursors beyond `len` are moved back to `len`.
    ///
    /// Atomic: after a crash the log holds either all the old records or only those below
    /// `len`. It needs one free segment: with [`FullPolicy::Reject`](crate::FullPolicy::Reject)
    /// and every segment holding live records it fails with [`Error::Full`] (trim first).
    /// Errors: [`Error::OutOfRange`] when `len` is beyond the next offset or below the first.
    pub fn truncate_back(&mut self, len: u64) -> Result<()> {
        self.check_writable()?;
        let first = self.first_readable();
        if len > self.next.get() || len < first {
            return Err(Error::OutOfRange {
                first,
                next: self.next.get(),
            });
        }
        if len == self.next.get() {
            return Ok(());
        }
        // Offsets from `len` on will name other records: forget where reads were.
        self.invalidate_reads();
        // The last segment that keeps records: the last member with a base below `len`.
        let keep = if len > self.tail_base.get() {
            Some((self.tail, self.tail_seq.get()))
        } else if len > first {
            let seg = self.find_segment(len - 1)?;
            let h = segment::read_member_header(&mut self.storage, &self.layout, seg.index)?
                .ok_or(Error::Corrupt {
                    addr: self.layout.segment_addr(seg.index),
                })?;
            Some((seg.index, h.seq))
        } else {
            None
        };
        let target = self.layout.ring_next(self.tail);
        let (saved_head, saved_first) = (self.head, self.first);
        // Even when everything goes (`keep` is `None`), reusing the head obeys the full policy:
        // it is erased before the new header commits the truncation, so a power cut in between
        // would lose its records while the truncation never happened.
        let reclaimed = self.make_room(target, keep.map(|k| k.0), Purpose::Control(None))?;
        let mut new = self.state;
        for c in new.cursors_mut() {
            c.offset = c.offset.min(len);
        }
        let old_tail = self.tail;
        let seq = self.tail_seq.get() + 1;
        if let Err(e) = self.open_segment(target, seq, len, keep, reclaimed, Some(&new)) {
            self.head = saved_head;
            self.first = saved_first;
            return Err(e.into());
        }
        self.state = new;
        match keep {
            None => {
                self.head = target;
                self.gap_end = None;
                self.first = U64::new(len);
                // Every other segment is free now, holding old bytes.
                self.free_dirty = self.free_segments();
            }
            Some((k, _)) if k != old_tail => {
                // The segments between `k` and `target` become holes in the chain.
                self.gap_end = Some(target);
                // Erase the dead segments between the kept one and the new one.
                let mut i = self.layout.ring_next(k);
                while i != target {
                    let a = self.layout.segment_addr(i);
                    if let Err(e) = self.storage.erase(a, a + self.layout.segment_size) {
                        self.poisoned = true;
                        return Err(e.into());
                    }
                    i = self.layout.ring_next(i);
                }
            }
            Some(_) => {}
        }
        Ok(())
    }
}
