//! FORMAT.md §6: index slots — the sparse offset index at the end of each segment.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | `pos`: offset of the indexed frame within the segment |
//! | 4 | 4 | `delta`: the frame's first record offset minus the segment's base offset |
//! | 8 | 4 | `state_pos`: offset of the newest state frame before it in this segment, 0 = none |
//! | 12 | 4 | CRC-32C of bytes 0..12 |
//! | 16 | .. | padding `0xFF` up to the write unit |
//!
//! A slot that reads all `0xFF` is unused. Slots are written in order, so used slots form a
//! prefix of the index area and can be binary searched. A used slot whose CRC fails (torn by
//! power loss) is skipped.

use super::{crc32c, get_u32, is_erased};

/// Encoded length of a slot before padding.
pub const SLOT_LEN: usize = 16;

/// A decoded index slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Frame position within the segment.
    pub pos: u32,
    /// First record offset of the frame, relative to the segment base.
    pub delta: u32,
    /// Position of the newest state frame before `pos` in the segment; 0 when none.
    pub state_pos: u32,
}

/// What a slot's bytes hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotRead {
    /// Never written.
    Unused,
    /// Written but invalid (torn or damaged).
    Invalid,
    /// A valid slot.
    Valid(Slot),
}

/// Encodes a slot.
pub fn encode(s: &Slot) -> [u8; SLOT_LEN] {
    let mut b = [0u8; SLOT_LEN];
    b[0..4].copy_from_slice(&s.pos.to_le_bytes());
    b[4..8].copy_from_slice(&s.delta.to_le_bytes());
    b[8..12].copy_from_slice(&s.state_pos.to_le_bytes());
    let c = crc32c(&b[0..12]);
    b[12..16].copy_from_slice(&c.to_le_bytes());
    b
}

/// Decodes a slot from its first [`SLOT_LEN`] bytes.
// Inlining chosen by measurement: see footprint/README.md, "Inlining".
#[inline(always)]
pub fn decode(b: &[u8; SLOT_LEN]) -> SlotRead {
    if is_erased(b) {
        return SlotRead::Unused;
    }
    if super::crc_checked(&b[..SLOT_LEN]).is_none() {
        return SlotRead::Invalid;
    }
    SlotRead::Valid(Slot {
        pos: get_u32(b, 0),
        delta: get_u32(b, 4),
        state_pos: get_u32(b, 8),
    })
}
