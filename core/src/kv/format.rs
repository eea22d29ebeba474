//! Every byte the KV journal puts on a medium (`FORMAT.md Part II`, KV format version 1), as
//! pure encode / decode / validate functions over slices — no I/O.
//!
//! A KV image is two equal *partitions*. Each partition in use starts with a 40-byte
//! [partition header](encode_header) (magic `TDKV`), padded with `0xFF` to the write unit, and
//! continues with frames in the log's frame encoding (FORMAT.md §4) with the kind byte `K`
//! (`0x4B`): `kind`, `u24` body length, body, CRC-32C of kind + length + body, `0xFF` padding.
//!
//! A `K` body is LEB128 `count` (≥ 1) followed by `count` entries:
//!
//! | field | size | notes |
//! |---|---|---|
//! | op | 1 | [`OP_SET`] (`0x00`) or [`OP_DELETE`] (`0x01`) |
//! | key length `k` | LEB128 | ≤ `max_key_len` of the header |
//! | key | `k` | |
//! | value length `v` | LEB128 | set only; ≤ `max_value_len` of the header |
//! | value | `v` | set only |
//!
//! The body is byte-for-byte the `postcard` encoding of a `Vec<Entry>` with
//! `enum Entry { Set(&[u8], &[u8]), Delete(&[u8]) }` (postcard writes a sequence as a varint
//! length, an enum as its varint variant index and a byte slice as a varint length plus the
//! bytes; every varint here is below 128 or LEB128 exactly as in the log's batch frames). The
//! core encodes it by hand so that entries stream to the medium without serde or a buffer.

use crate::format::frame::{varint_len, FRAME_OVERHEAD, MAX_BODY_LEN};
use crate::format::{align_up, crc32c, get_u16, get_u32, get_u64};

/// Magic bytes opening every KV partition header: ASCII `TDKV`.
pub const KV_MAGIC: [u8; 4] = *b"TDKV";
/// The KV format version this build writes; it reads versions 1 up to this one.
pub const KV_FORMAT_VERSION: u16 = 1;
/// Length of a version-1 partition header, CRC included.
pub const KV_HEADER_LEN: usize = 40;
/// Largest header of any version a reader inspects (for the CRC check of future versions).
pub const MAX_FUTURE_HEADER_LEN: usize = 256;
/// Kind byte of a KV frame (`K`).
pub const KV_FRAME_KIND: u8 = b'K';
/// Entry op: set a key to a value.
pub const OP_SET: u8 = 0x00;
/// Entry op: delete a key.
pub const OP_DELETE: u8 = 0x01;
/// Largest key length any image may declare.
pub const MAX_KEY_LEN: usize = 255;
/// Largest generation (and thus number of compactions) a valid header may carry (2⁶²).
pub const MAX_GENERATION: u64 = 1 << 62;

/// The decoded partition header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvHeader {
    /// KV format version found (1).
    pub version: u16,
    /// Generation: 1 for a freshly formatted KV, +1 for every compaction. The valid partition
    /// with the higher generation is the active one.
    pub generation: u64,
    /// Program unit in bytes.
    pub write_size: u32,
    /// Erase sector in bytes.
    pub erase_size: u32,
    /// Size of each of the two partitions in bytes (a multiple of `erase_size`).
    pub partition_size: u32,
    /// Longest key accepted, in bytes (≤ 255).
    pub max_key_len: u8,
    /// Longest value accepted, in bytes.
    pub max_value_len: u32,
    /// End (relative to the partition) of the frames written by the compaction that created
    /// this partition; frames after it were appended later.
    pub compacted_end: u32,
}

impl KvHeader {
    /// Where frames start: the header length rounded up to the write unit.
    pub fn data_start(&self) -> u32 {
        data_start(self.write_size as usize) as u32
    }
}

/// Why a partition header did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvHeaderError {
    /// No magic: erased, foreign or destroyed.
    NoMagic,
    /// An intact header (its CRC matches) of a newer format version.
    FutureVersion(u16),
    /// Magic present but the checksum or a field rule failed (torn or damaged).
    Corrupt,
}

/// Where frames start in a partition with this write unit: `align_up(40, write_size)`.
pub const fn data_start(write_size: usize) -> usize {
    align_up(KV_HEADER_LEN, write_size)
}

/// Encodes a version-1 header into `out`.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `TDKV` |
/// | 4 | 2 | version (1) |
/// | 6 | 2 | header length (40) |
/// | 8 | 8 | generation |
/// | 16 | 2 | write size |
/// | 18 | 1 | max key length |
/// | 19 | 1 | reserved, 0 |
/// | 20 | 4 | erase size |
/// | 24 | 4 | partition size |
/// | 28 | 4 | max value length |
/// | 32 | 4 | compacted end |
/// | 36 | 4 | CRC-32C of bytes 0..36 |
pub fn encode_header(h: &KvHeader, out: &mut [u8; KV_HEADER_LEN]) {
    out[0..4].copy_from_slice(&KV_MAGIC);
    out[4..6].copy_from_slice(&KV_FORMAT_VERSION.to_le_bytes());
    out[6..8].copy_from_slice(&(KV_HEADER_LEN as u16).to_le_bytes());
    out[8..16].copy_from_slice(&h.generation.to_le_bytes());
    out[16..18].copy_from_slice(&(h.write_size as u16).to_le_bytes());
    out[18] = h.max_key_len;
    out[19] = 0;
    out[20..24].copy_from_slice(&h.erase_size.to_le_bytes());
    out[24..28].copy_from_slice(&h.partition_size.to_le_bytes());
    out[28..32].copy_from_slice(&h.max_value_len.to_le_bytes());
    out[32..36].copy_from_slice(&h.compacted_end.to_le_bytes());
    let crc = crc32c(&out[0..36]);
    out[36..40].copy_from_slice(&crc.to_le_bytes());
}

/// Decodes and validates a header from the first bytes of a partition (`b` holds at least
/// [`KV_HEADER_LEN`] bytes; to recognise an intact header of a future version it must hold
/// that header whole, up to [`MAX_FUTURE_HEADER_LEN`] bytes).
///
/// A future version is reported only when its header is intact (bytes 6..8 give its length
/// `n`, 12 ≤ `n` ≤ 256, and bytes `n-4..n` hold the CRC-32C of bytes `0..n-4`), so a torn
/// version-1 header is never mistaken for a newer image.
///
/// Always inlined: its two callers pass buffers of known length, and inlined the bounds
/// checks fold away (KV firmware 254 B smaller, `bash footprint/measure.sh`).
#[inline(always)]
pub fn decode_header(b: &[u8]) -> Result<KvHeader, KvHeaderError> {
    if b.len() < KV_HEADER_LEN || b[0..4] != KV_MAGIC {
        return Err(KvHeaderError::NoMagic);
    }
    let version = get_u16(b, 4);
    let header_len = get_u16(b, 6) as usize;
    if version > KV_FORMAT_VERSION {
        let intact = (12..=MAX_FUTURE_HEADER_LEN).contains(&header_len)
            && header_len <= b.len()
            && crate::format::crc_checked(&b[..header_len]).is_some();
        return Err(if intact {
            KvHeaderError::FutureVersion(version)
        } else {
            KvHeaderError::Corrupt
        });
    }
    if version == 0
        || header_len != KV_HEADER_LEN
        || crate::format::crc_checked(&b[..KV_HEADER_LEN]).is_none()
    {
        return Err(KvHeaderError::Corrupt);
    }
    let h = KvHeader {
        version,
        generation: get_u64(b, 8),
        write_size: get_u16(b, 16) as u32,
        max_key_len: b[18],
        erase_size: get_u32(b, 20),
        partition_size: get_u32(b, 24),
        max_value_len: get_u32(b, 28),
        compacted_end: get_u32(b, 32),
    };
    if b[19] != 0 || !header_is_sane(&h) {
        return Err(KvHeaderError::Corrupt);
    }
    Ok(h)
}

/// The field rules of a valid header: geometry as in FORMAT.md §1, `1 ≤ generation < 2⁶²`, a
/// largest entry that fits in a frame of the partition, and a `compacted_end` on a write-unit
/// boundary between the data start and the partition end.
pub fn header_is_sane(h: &KvHeader) -> bool {
    let ws = h.write_size;
    let es = h.erase_size;
    if !(1..=256).contains(&ws) || !ws.is_power_of_two() {
        return false;
    }
    if !(256..=256 * 1024).contains(&es) || !es.is_power_of_two() || !es.is_multiple_of(ws) {
        return false;
    }
    if h.partition_size < es
        || !h.partition_size.is_multiple_of(es)
        || h.partition_size >= (1 << 31)
    {
        return false;
    }
    if h.generation == 0 || h.generation >= MAX_GENERATION {
        return false;
    }
    let ds = data_start(ws as usize) as u64;
    let ce = h.compacted_end as u64;
    // (u32 arithmetic where it is enough: a 64-bit division costs ~500 bytes on a Cortex-M.)
    if ce < ds || ce > h.partition_size as u64 || !h.compacted_end.is_multiple_of(ws) {
        return false;
    }
    match max_entry_frame(
        ws as usize,
        h.max_key_len as usize,
        h.max_value_len as usize,
    ) {
        Some(f) => ds + f as u64 <= h.partition_size as u64,
        None => false,
    }
}

/// Encoded length of an entry: `1 + varint(k) + k` for a delete, plus `varint(v) + v` for a
/// set.
pub fn entry_len(key_len: usize, value_len: Option<usize>) -> usize {
    let k = varint_len(key_len.min(u32::MAX as usize) as u32);
    let mut n = (1 + k).saturating_add(key_len);
    if let Some(v) = value_len {
        n = n
            .saturating_add(varint_len(v.min(u32::MAX as usize) as u32))
            .saturating_add(v);
    }
    n
}

/// Body length of a frame holding `count` entries of `entries_len` bytes in total.
// Inlining chosen by measurement: see footprint/README.md, "Inlining".
#[inline(always)]
pub fn body_len(count: usize, entries_len: usize) -> usize {
    varint_len(count.min(u32::MAX as usize) as u32).saturating_add(entries_len)
}

/// Bytes a frame with a `body_len`-byte body occupies: `align_up(8 + body_len, write_size)`.
pub fn frame_size(write_size: usize, body_len: usize) -> usize {
    align_up(FRAME_OVERHEAD.saturating_add(body_len), write_size)
}

/// Size of a frame holding one set entry with the longest key and value, or `None` when its
/// body exceeds the 24-bit frame length.
pub fn max_entry_frame(write_size: usize, max_key: usize, max_value: usize) -> Option<usize> {
    let body = body_len(1, entry_len(max_key, Some(max_value)));
    (body <= MAX_BODY_LEN).then(|| frame_size(write_size, body))
}

/// Encodes a frame header for a KV frame (kind `K`, `u24` length).
pub fn encode_frame_header(body_len: usize) -> [u8; 4] {
    let l = (body_len as u32).to_le_bytes();
    [KV_FRAME_KIND, l[0], l[1], l[2]]
}

/// Decodes a frame header: the body length, or `None` if the kind is not `K`.
pub fn decode_frame_header(b: &[u8; 4]) -> Option<usize> {
    (b[0] == KV_FRAME_KIND).then(|| get_u32(&[b[1], b[2], b[3], 0], 0) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr() -> KvHeader {
        KvHeader {
            version: 1,
            generation: 7,
            write_size: 4,
            erase_size: 256,
            partition_size: 512,
            max_key_len: 32,
            max_value_len: 100,
            compacted_end: 40,
        }
    }

    #[test]
    fn header_round_trip_and_rules() {
        let mut b = [0u8; KV_HEADER_LEN];
        encode_header(&hdr(), &mut b);
        assert_eq!(decode_header(&b), Ok(hdr()));
        assert_eq!(&b[0..4], b"TDKV");
        // Any single bit flip is detected.
        for i in 0..KV_HEADER_LEN * 8 {
            let mut c = b;
            c[i / 8] ^= 1 << (i % 8);
            assert!(decode_header(&c).is_err(), "bit {i}");
        }
        assert_eq!(decode_header(&[0xFF; 40]), Err(KvHeaderError::NoMagic));
        assert_eq!(decode_header(&[0; 40]), Err(KvHeaderError::NoMagic));
        // A torn header whose version bytes are half programmed is corruption, not a future
        // version.
        let mut torn = [0xFFu8; 64];
        torn[..6].copy_from_slice(&b[..6]);
        torn[4] = 0x41;
        assert_eq!(decode_header(&torn), Err(KvHeaderError::Corrupt));
        // An intact future header.
        let mut fut = [0xFFu8; 64];
        fut[..4].copy_from_slice(b"TDKV");
        fut[4..6].copy_from_slice(&2u16.to_le_bytes());
        fut[6..8].copy_from_slice(&48u16.to_le_bytes());
        let crc = crc32c(&fut[..44]);
        fut[44..48].copy_from_slice(&crc.to_le_bytes());
        assert_eq!(decode_header(&fut), Err(KvHeaderError::FutureVersion(2)));
        for bad in [
            KvHeader {
                generation: 0,
                ..hdr()
            },
            KvHeader {
                compacted_end: 42,
                ..hdr()
            },
            KvHeader {
                compacted_end: 516,
                ..hdr()
            },
            KvHeader {
                max_value_len: 1000,
                ..hdr()
            },
            KvHeader {
                write_size: 3,
                ..hdr()
            },
        ] {
            encode_header(&bad, &mut b);
            assert_eq!(decode_header(&b), Err(KvHeaderError::Corrupt), "{bad:?}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(entry_len(3, None), 5);
        assert_eq!(entry_len(3, Some(200)), 1 + 1 + 3 + 2 + 200);
        assert_eq!(body_len(1, 5), 6);
        assert_eq!(frame_size(4, 6), 16);
        assert_eq!(frame_size(32, 6), 32);
        assert_eq!(data_start(1), 40);
        assert_eq!(data_start(32), 64);
        assert_eq!(decode_frame_header(&encode_frame_header(300)), Some(300));
        assert_eq!(decode_frame_header(&[b'B', 0, 0, 0]), None);
    }
}
