//! Finding an image's geometry in a file (images are self-describing, FORMAT.md §7.1 step 1):
//! a valid segment header at a multiple of the smallest erase sector.
//!
//! A big log whose low segments are free (trimmed) may have its first header deep in the
//! file, so addresses are probed coarse to fine — 0, then odd multiples of ever smaller
//! powers of two — which finds a header of a log with power-of-two segments after about
//! `capacity / segment size` reads. Other segment sizes fall back to a linear scan.

use crate::error::Error;
use crate::format::header::{self, HeaderError, FIXED_HEADER_LEN};
use crate::format::layout::Layout;
use crate::format::MAGIC;
use crate::kv::format::{
    self as kv_format, KvHeader, KvHeaderError, KV_HEADER_LEN, MAX_FUTURE_HEADER_LEN,
};
use crate::storage::MIN_ERASE_SIZE;
use std::fs::File;
use std::vec::Vec;

/// Why probing failed.
pub(crate) enum ProbeError {
    Io(std::io::Error),
    Tidelog(Error),
}

/// Bytes read per step of the linear scan (plus one header's worth of overlap).
const CHUNK: u64 = 1 << 20;
/// The coarse-to-fine pass stops at this granularity; the linear scan covers the rest.
const FINEST: u64 = 64 * 1024;

/// What probing has seen so far.
#[derive(Default)]
struct Seen {
    future: Option<u16>,
    short: bool,
}

impl Seen {
    /// Checks the header bytes `b` found at `addr`.
    fn check(&mut self, b: &[u8; FIXED_HEADER_LEN], addr: u64, len: u64) -> Option<Layout> {
        if b[..4] != MAGIC {
            return None;
        }
        match header::decode_fixed(b) {
            Ok(h) if fits(&h.layout, addr, u64::MAX) => {
                if fits(&h.layout, addr, len) {
                    return Some(h.layout);
                }
                self.short = true;
            }
            Err(HeaderError::FutureVersion(v)) => self.future = Some(v),
            _ => {}
        }
        None
    }
}

/// The geometry of a valid segment header in the first `len` bytes of `file` whose position
/// and geometry are consistent (it sits at a segment boundary of its own layout, and every
/// segment fits in the file). [`Error::UnsupportedVersion`] if only headers of a newer format
/// are found, [`Error::GeometryMismatch`] if the file is shorter than the image its headers
/// describe, [`Error::NotFormatted`] if there is none.
pub(crate) fn probe(file: &File, len: u64) -> Result<Layout, ProbeError> {
    let mut seen = Seen::default();
    let mut b = [0u8; FIXED_HEADER_LEN];
    let mut at = |addr: u64, seen: &mut Seen| -> Result<Option<Layout>, ProbeError> {
        if addr + FIXED_HEADER_LEN as u64 > len {
            return Ok(None);
        }
        super::io::read_at(file, &mut b, addr).map_err(ProbeError::Io)?;
        Ok(seen.check(&b, addr, len))
    };
    if let Some(l) = at(0, &mut seen)? {
        return Ok(l);
    }
    // Coarse to fine.
    let mut g = if len >= 2 {
        1u64 << (63 - (len / 2).leading_zeros())
    } else {
        0
    };
    while g >= FINEST {
        let mut addr = g;
        while addr < len {
            if let Some(l) = at(addr, &mut seen)? {
                return Ok(l);
            }
            addr += 2 * g;
        }
        g /= 2;
    }
    // Linear, every smallest erase sector.
    let step = MIN_ERASE_SIZE as u64;
    let mut buf = Vec::new();
    let mut base = 0u64;
    while base + FIXED_HEADER_LEN as u64 <= len {
        let n = (CHUNK + FIXED_HEADER_LEN as u64).min(len - base) as usize;
        buf.resize(n, 0);
        super::io::read_at(file, &mut buf, base).map_err(ProbeError::Io)?;
        let mut off = 0usize;
        while off + FIXED_HEADER_LEN <= n && (off as u64) < CHUNK {
            let addr = base + off as u64;
            let mut b = [0u8; FIXED_HEADER_LEN];
            b.copy_from_slice(&buf[off..off + FIXED_HEADER_LEN]);
            if let Some(l) = seen.check(&b, addr, len) {
                return Ok(l);
            }
            off += step as usize;
        }
        base += CHUNK;
    }
    Err(ProbeError::Tidelog(match seen.future {
        _ if seen.short => Error::GeometryMismatch,
        Some(found) => Error::UnsupportedVersion { found },
        None => Error::NotFormatted,
    }))
}

fn fits(l: &Layout, addr: u64, len: u64) -> bool {
    let seg = l.segment_size as u64;
    addr.is_multiple_of(seg)
        && addr / seg < l.segment_count as u64
        && (seg * l.segment_count as u64) <= len
}

/// A KV image in the first `len` bytes of `file` (FORMAT.md §K1): a valid partition header at
/// address 0, or at the start of the second partition, where it would be for a file of this
/// length with any erase size (`⌊len / es / 2⌋ × es`). `Ok(None)` when there is none;
/// [`Error::GeometryMismatch`] for a KV header whose partitions do not fit in the file (a
/// truncated image, as `probe_geometry` says), [`Error::UnsupportedVersion`] for an intact
/// header of a newer KV format.
pub(crate) fn probe_kv(file: &File, len: u64) -> Result<Option<KvHeader>, ProbeError> {
    let mut future = None;
    let mut short = false;
    let mut es = MIN_ERASE_SIZE as u64;
    let mut candidates = [0u64; 12];
    for c in candidates.iter_mut().skip(1) {
        *c = len / es / 2 * es;
        es *= 2;
    }
    for addr in candidates {
        if addr + KV_HEADER_LEN as u64 > len {
            continue;
        }
        let mut b = [0u8; MAX_FUTURE_HEADER_LEN];
        let n = (MAX_FUTURE_HEADER_LEN as u64).min(len - addr) as usize;
        super::io::read_at(file, &mut b[..n], addr).map_err(ProbeError::Io)?;
        match kv_format::decode_header(&b[..n]) {
            Ok(h) if addr == 0 || addr == h.partition_size as u64 => {
                if 2 * h.partition_size as u64 <= len {
                    return Ok(Some(h));
                }
                // A KV image cut short: its partitions do not fit in the file.
                short = true;
            }
            Err(KvHeaderError::FutureVersion(v)) => future = Some(v),
            _ => {}
        }
    }
    match (short, future) {
        (true, _) => Err(ProbeError::Tidelog(Error::GeometryMismatch)),
        (false, Some(found)) => Err(ProbeError::Tidelog(Error::UnsupportedVersion { found })),
        (false, None) => Ok(None),
    }
}

/// The erase size a file storage reports for an image: the largest power of two that divides
/// the segment size, at most 256 KiB. A file erases any range, so it need not be the image's
/// erase size (which stays in the headers); a coarse one lets mount probe fewer addresses.
pub(crate) fn probe_erase_size(l: &Layout) -> usize {
    let pow2 = 1u64 << (l.segment_size as u64).trailing_zeros();
    pow2.clamp(l.erase_size as u64, crate::storage::MAX_ERASE_SIZE as u64) as usize
}
