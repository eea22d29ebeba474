//! FORMAT.md §2: how the medium is cut into segments and how a segment is laid out.
//!
//! ```text
//! medium:   | segment 0 | segment 1 | ... | segment N-1 | unused tail sectors |
//! segment:  | header+checkpoint | frames -> ......... free ......... | index slots -> |
//!           0                   data_start                          index_start    segment_size
//! ```
//!
//! Frames grow upward from `data_start`; index slots fill a fixed area at the end of the
//! segment, slot 0 first. The index area is sized so it can never run out (see
//! [`Layout::max_slots`]), which keeps its position independent of the header length.

use super::align_up;
use super::frame::{FRAME_OVERHEAD, MAX_BODY_LEN};
use super::index::SLOT_LEN;
use super::state::MAX_NAME_LEN;

/// Length of the fixed part of a segment header, CRC included (FORMAT.md §3): where a
/// segment's checkpoint starts, and the least room a segment needs.
pub const FIXED_HEADER_LEN: usize = 64;

/// The geometry of a formatted log: everything needed to find any byte. Stored in every
/// segment header, so an image is self-describing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Program unit in bytes; every frame, slot and header is aligned to it.
    pub write_size: u32,
    /// Erase sector in bytes.
    pub erase_size: u32,
    /// Segment size in bytes (a multiple of `erase_size`).
    pub segment_size: u32,
    /// Number of segments (segment `i` starts at `i * segment_size`).
    pub segment_count: u32,
    /// An index slot is written for a frame that starts at least this many bytes after the
    /// previously indexed frame (or after `data_start`).
    pub index_interval: u32,
    /// Largest record accepted, in bytes.
    pub max_record_size: u32,
    /// Largest number of consumer cursors the log may hold.
    pub max_consumers: u8,
}

impl Layout {
    /// Size of one index slot on the medium: [`SLOT_LEN`] rounded up to the write unit.
    pub fn slot_size(&self) -> u32 {
        align_up(SLOT_LEN, self.write_size as usize) as u32
    }

    /// Number of index slots per segment: `(segment_size - align(64)) / index_interval + 1`.
    /// A slot needs at least `index_interval` bytes of frames before it, so the area can
    /// never overflow.
    ///
    /// Like every method here it never panics, whatever the fields hold (a layout read from
    /// the medium is checked with `layout_is_sane` before the log uses it; a hand-built
    /// insane one gives meaningless values, wrapped around, never a division by zero: wrapping
    /// arithmetic costs a release build nothing over the plain operators).
    pub fn max_slots(&self) -> u32 {
        let data_max = self
            .segment_size
            .wrapping_sub(align_up(FIXED_HEADER_LEN, self.write_size as usize) as u32);
        data_max
            .checked_div(self.index_interval)
            .unwrap_or(0)
            .wrapping_add(1)
    }

    /// Offset (within a segment) of the index area: `segment_size - max_slots * slot_size`.
    pub fn index_start(&self) -> u32 {
        self.segment_size
            .wrapping_sub(self.max_slots().wrapping_mul(self.slot_size()))
    }

    /// The segment after `i` (< `segment_count`) in the ring. Ring steps compare instead of
    /// dividing: no division, and no division-by-zero check, on a 32-bit core.
    pub(crate) fn ring_next(&self, i: u32) -> u32 {
        self.ring_add(i, 1)
    }

    /// The segment `d` steps after `i` in the ring (both at most `segment_count`).
    pub(crate) fn ring_add(&self, i: u32, d: u32) -> u32 {
        let j = i + d;
        if j >= self.segment_count {
            j - self.segment_count
        } else {
            j
        }
    }

    /// Steps forward from segment `from` to segment `to` in the ring (`0..segment_count`).
    pub(crate) fn ring_dist(&self, from: u32, to: u32) -> u32 {
        if to >= from {
            to - from
        } else {
            to + self.segment_count - from
        }
    }

    /// Start address of segment `index`.
    pub fn segment_addr(&self, index: u32) -> u32 {
        index.wrapping_mul(self.segment_size)
    }

    /// Offset (within its segment) of index slot `slot`.
    // Always inlined: 18 B less firmware code (`bash footprint/measure.sh`).
    #[inline(always)]
    pub fn slot_pos(&self, slot: u32) -> u32 {
        self.index_start()
            .wrapping_add(slot.wrapping_mul(self.slot_size()))
    }

    /// Bytes a frame with a `body_len`-byte body occupies: `align(4 + body_len + 4)`.
    pub fn frame_size(&self, body_len: usize) -> usize {
        align_up(
            super::frame::FRAME_OVERHEAD.wrapping_add(body_len),
            self.write_size as usize,
        )
    }

    /// Where frames start in a segment whose header is `header_len` bytes long.
    pub fn data_start(&self, header_len: usize) -> u32 {
        align_up(header_len, self.write_size as usize) as u32
    }

    /// Length of the largest state block this layout allows: `max_consumers` cursors with
    /// maximal names.
    pub(crate) fn max_state_len(&self) -> usize {
        super::state::encoded_len((0..self.max_consumers as usize).map(|_| MAX_NAME_LEN))
    }

    /// Largest frame body that fits a segment behind the largest header this layout allows,
    /// capped at [`MAX_BODY_LEN`]: `format` sets `max_record_size` to at most this, and a
    /// header claiming more is not sane (so a record that passed the size check always fits
    /// a fresh segment). Only meaningful once the index area fits the segment.
    pub(crate) fn max_body(&self) -> u32 {
        let max_header = FIXED_HEADER_LEN + self.max_state_len() + 4;
        let data_start = self.data_start(max_header) as u64;
        (self.index_start() as u64)
            .saturating_sub(data_start)
            .saturating_sub(FRAME_OVERHEAD as u64)
            .min(MAX_BODY_LEN as u64) as u32
    }
}

/// Checks the geometry rules every valid layout obeys (FORMAT.md §2), so that no later
/// arithmetic on it can overflow or divide by zero.
// Always inlined (its callers are the two header decoders): smaller firmware
// (`bash footprint/measure.sh`).
#[inline(always)]
pub fn layout_is_sane(l: &Layout) -> bool {
    let ws_ok = l.write_size >= 1 && l.write_size <= 256 && l.write_size.is_power_of_two();
    let es_ok = (256..=256 * 1024).contains(&l.erase_size)
        && l.erase_size.is_power_of_two()
        && l.erase_size.is_multiple_of(l.write_size.max(1));
    if !ws_ok || !es_ok {
        return false;
    }
    let seg_ok = l.segment_size >= l.erase_size
        && l.segment_size.is_multiple_of(l.erase_size)
        && l.segment_count >= 2
        // Every segment's end address fits in 32 bits (FORMAT.md §3).
        && (l.segment_size as u64) * (l.segment_count as u64) < 1 << 32;
    if !seg_ok || l.index_interval < l.write_size || l.index_interval == 0 {
        return false;
    }
    if (l.segment_size as usize) < super::align_up(FIXED_HEADER_LEN, l.write_size as usize) {
        return false;
    }
    let index_area = l.max_slots() as u64 * l.slot_size() as u64;
    index_area < l.segment_size as u64
        && (l.max_consumers as usize) <= super::state::MAX_CONSUMERS_ON_MEDIA
        && l.max_record_size <= l.max_body()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_may_not_claim_records_larger_than_a_fresh_segment_holds() {
        let mut l = Layout {
            write_size: 4,
            erase_size: 4096,
            segment_size: 4096,
            segment_count: 8,
            index_interval: 1024,
            max_record_size: 0,
            max_consumers: 4,
        };
        let max = l.max_body();
        // Behind the largest header: fixed part, 4 maximal cursors, checkpoint CRC.
        let header = FIXED_HEADER_LEN + l.max_state_len() + 4;
        assert_eq!(
            max as usize,
            l.index_start() as usize - align_up(header, 4) - FRAME_OVERHEAD
        );
        l.max_record_size = max;
        assert!(layout_is_sane(&l));
        l.max_record_size = max + 1;
        assert!(!layout_is_sane(&l));
    }
}
