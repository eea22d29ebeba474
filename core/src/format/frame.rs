//! FORMAT.md §4: frames — the unit of the data area. Every append is one frame, so a batch
//! is atomic by one checksum.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | kind: `R` (0x52) one record, `B` (0x42) batch, `S` (0x53) state |
//! | 1 | 3 | body length `n` (u24) |
//! | 4 | n | body |
//! | 4+n | 4 | CRC-32C of bytes 0..4+n |
//! | 8+n | .. | padding `0xFF` up to the write unit |
//!
//! Bodies: `R` — the record bytes; `B` — LEB128 count, then per record LEB128 length and
//! bytes; `S` — a [state block](super::state). A frame's first byte is never `0xFF`, so an
//! erased unit is never mistaken for a frame start.

use super::get_u32;

/// Header bytes before the body.
pub const FRAME_HEADER_LEN: usize = 4;
/// Header plus trailing CRC.
pub const FRAME_OVERHEAD: usize = 8;
/// Largest body a frame can describe (24-bit length).
pub const MAX_BODY_LEN: usize = (1 << 24) - 1;

/// The kind byte of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// One record; the body is the record.
    Record,
    /// Several records: LEB128 count, then LEB128 length + bytes for each.
    Batch,
    /// A state block (trim point and consumer cursors); holds no records.
    State,
}

impl FrameKind {
    /// The kind byte on the medium.
    pub const fn byte(self) -> u8 {
        match self {
            FrameKind::Record => b'R',
            FrameKind::Batch => b'B',
            FrameKind::State => b'S',
        }
    }

    /// Decodes a kind byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'R' => Some(FrameKind::Record),
            b'B' => Some(FrameKind::Batch),
            b'S' => Some(FrameKind::State),
            _ => None,
        }
    }
}

/// Encodes a frame header. The length field is 24 bits: callers keep `body_len` at most
/// [`MAX_BODY_LEN`] (higher bits are dropped).
pub fn encode_header(kind: FrameKind, body_len: usize) -> [u8; FRAME_HEADER_LEN] {
    let l = (body_len as u32).to_le_bytes();
    [kind.byte(), l[0], l[1], l[2]]
}

/// Decodes a frame header: `None` if the kind byte is unknown.
pub fn decode_header(b: &[u8; FRAME_HEADER_LEN]) -> Option<(FrameKind, usize)> {
    let kind = FrameKind::from_byte(b[0])?;
    let len = get_u32(&[b[1], b[2], b[3], 0], 0) as usize;
    Some((kind, len))
}

/// Largest LEB128 encoding of a `u32`.
pub const MAX_VARINT_LEN: usize = 5;

/// Encodes `v` as unsigned LEB128 into `out`, returning the number of bytes written.
pub fn encode_varint(mut v: u32, out: &mut [u8; MAX_VARINT_LEN]) -> usize {
    let mut i = 0;
    loop {
        let byte = (v & 0x7F) as u8;
        v >>= 7;
        if v == 0 {
            out[i] = byte;
            return i + 1;
        }
        out[i] = byte | 0x80;
        i += 1;
    }
}

/// Length of the LEB128 encoding of `v`.
pub const fn varint_len(v: u32) -> usize {
    match v {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0xFFF_FFFF => 4,
        _ => 5,
    }
}

/// Incremental LEB128 decoder (bytes arrive one at a time while a frame is streamed).
#[derive(Debug, Clone, Copy, Default)]
pub struct VarintDecoder {
    value: u32,
    shift: u32,
}

impl VarintDecoder {
    /// Feeds one byte. `Ok(Some(v))` when complete, `Ok(None)` when more bytes are needed,
    /// `Err(())` when the encoding is longer than 5 bytes or overflows a `u32`.
    #[allow(clippy::result_unit_err)]
    pub fn push(&mut self, byte: u8) -> Result<Option<u32>, ()> {
        if self.shift >= 35 || (self.shift == 28 && byte & 0x70 != 0) {
            return Err(());
        }
        self.value |= ((byte & 0x7F) as u32) << self.shift;
        self.shift += 7;
        if byte & 0x80 == 0 {
            let v = self.value;
            *self = VarintDecoder::default();
            Ok(Some(v))
        } else {
            Ok(None)
        }
    }
}

/// Decodes the LEB128 value at the start of `b`: value and length, or `None` when `b` ends
/// first or the encoding is longer than 5 bytes or overflows a `u32`.
pub fn decode_varint(b: &[u8]) -> Option<(u32, usize)> {
    let mut dec = VarintDecoder::default();
    for (i, &byte) in b.iter().take(MAX_VARINT_LEN).enumerate() {
        if let Some(v) = dec.push(byte).ok()? {
            return Some((v, i + 1));
        }
    }
    None
}

/// Body length of a batch of records with the given lengths.
pub fn batch_body_len<I: IntoIterator<Item = usize>>(count: usize, lens: I) -> Option<usize> {
    let mut total = varint_len(u32::try_from(count).ok()?);
    for l in lens {
        let l32 = u32::try_from(l).ok()?;
        total = total.checked_add(varint_len(l32))?.checked_add(l)?;
    }
    Some(total)
}

/// Verifies a complete frame held in memory (`bytes` starts at the kind byte, at least
/// `8 + body_len` long). Returns kind and body.
pub fn check_frame(bytes: &[u8]) -> Option<(FrameKind, &[u8])> {
    if bytes.len() < FRAME_OVERHEAD {
        return None;
    }
    let (kind, len) = decode_header(&[bytes[0], bytes[1], bytes[2], bytes[3]])?;
    if bytes.len() < FRAME_OVERHEAD + len {
        return None;
    }
    let covered = super::crc_checked(&bytes[..FRAME_OVERHEAD + len])?;
    Some((kind, &covered[FRAME_HEADER_LEN..]))
}
