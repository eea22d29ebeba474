//! [`Log::extend`]: appending any number of records fast, packed into as many batch frames as
//! needed.
//!
//! [`Log::append_batch`] writes one frame, so one batch is bounded by the largest record the
//! log accepts. A bulk load (a host tool importing a million readings, a binding's
//! `extend(iterable)`) wants neither that bound nor one frame per record. `extend` packs
//! consecutive records greedily into batch frames: each frame fills what is left of the active
//! segment's data area (or, when the next record does not fit there, a fresh segment, up to
//! the largest record size). Each frame is atomic, the whole is not: after a crash the log
//! holds a prefix of the records, cut at a frame boundary.

use crate::error::{Error, Result};
use crate::format::frame::{varint_len, FRAME_OVERHEAD};
use crate::log::Log;
use crate::policy::Policy;
use crate::storage::Storage;

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// Appends `records` in order, packed greedily into batch frames — each fills what is left
    /// of the active segment, or a fresh segment up to the largest record size — and returns
    /// the offset of the first. An empty slice appends nothing and returns the next offset.
    ///
    /// Every record is checked against the maximum record size before anything is written
    /// ([`Error::TooLarge`]). A later error ([`Error::Full`], a storage error) leaves the frames
    /// written before it in the log: [`next_offset`](Self::next_offset) tells how many records
    /// went in. Each frame is atomic across a crash, the whole call is not.
    pub fn extend(&mut self, records: &[&[u8]]) -> Result<u64> {
        self.check_writable()?;
        let max = self.layout.max_record_size as usize;
        if let Some(big) = records.iter().find(|r| r.len() > max) {
            return Err(Error::TooLarge {
                len: big.len().min(u32::MAX as usize) as u32,
                max: max as u32,
            });
        }
        let first = self.next_offset();
        let mut rest = records;
        while !rest.is_empty() {
            // Fill the active segment; a record that does not fit there opens a fresh one,
            // where a frame may take up to the largest record size.
            let here = self.frame_room().min(max);
            let mut n = pack(rest, here);
            if n == 0 {
                n = pack(rest, max).max(1);
            }
            let (frame, tail) = rest.split_at(n);
            match frame {
                [one] => self.append(one)?,
                many => self.append_batch(many)?,
            };
            rest = tail;
        }
        Ok(first)
    }

    /// The largest frame body that fits at the write position of the active segment, before
    /// the index area and the reserve (0 when the segment may hold torn bytes).
    fn frame_room(&self) -> usize {
        if !self.tail_clean {
            return 0;
        }
        let end = self.layout.index_start().saturating_sub(self.reserve());
        (end.saturating_sub(self.pos) as usize).saturating_sub(FRAME_OVERHEAD)
    }
}

/// How many of the first `records` fit in one frame body of at most `cap` bytes: a single
/// record as an `R` frame (its length is the body), several as a `B` frame (count and lengths
/// as LEB128). 0 when not even the first fits.
fn pack(records: &[&[u8]], cap: usize) -> usize {
    let mut sum = 0usize; // Σ (varint(len) + len) of the records taken
    let mut n = 0usize;
    for r in records {
        let with = sum + varint_len(r.len() as u32) + r.len();
        let body = if n == 0 {
            r.len()
        } else {
            varint_len(n as u32 + 1) + with
        };
        if body > cap {
            break;
        }
        sum = with;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::pack;

    #[test]
    fn pack_counts_the_batch_encoding() {
        let r = [0u8; 10];
        let recs: [&[u8]; 4] = [&r, &r, &r, &r];
        // One record: its length is the body.
        assert_eq!(pack(&recs, 10), 1);
        assert_eq!(pack(&recs, 9), 0);
        // Two: count (1) + 2 × (1 + 10) = 23.
        assert_eq!(pack(&recs, 22), 1);
        assert_eq!(pack(&recs, 23), 2);
        assert_eq!(pack(&recs, 1000), 4);
        assert_eq!(pack(&[], 1000), 0);
    }
}
