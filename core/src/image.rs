//! Images in memory: what a byte string holds — a log or a KV — and the geometry to mount it
//! with, read from the image itself (FORMAT.md §7.1 step 1 and §K1).
//!
//! A flash dump pulled off a device, an image exported from a browser or a file read into RAM
//! says nothing about the storage it came from; its headers do. [`probe_geometry`] finds them,
//! so a binding can hand any image to `VecStorage::from_image` (feature `alloc`) or to a
//! [`RamStorage`](crate::RamStorage) with the right geometry, wrap it
//! in [`ReadOnly`](crate::ReadOnly) and mount it without changing a byte.

use crate::error::{Error, Result};
use crate::format::header::{self, HeaderError, FIXED_HEADER_LEN};
use crate::format::layout::Layout;
use crate::kv::format::{self as kv_format, KvHeader, KvHeaderError, MAX_FUTURE_HEADER_LEN};
use crate::storage::{max_capacity, MIN_ERASE_SIZE};

/// What an image holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// A log; its geometry, from the first valid segment header.
    Log(Layout),
    /// A KV journal; the header of the partition that identified it (the active one when both
    /// are valid).
    Kv(KvHeader),
}

/// The geometry to mount an image with: the storage a [`Log`](crate::Log) or a
/// [`Kv`](crate::Kv) needs to see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageGeometry {
    /// What the image holds.
    pub kind: ImageKind,
    /// Program unit, bytes.
    pub write_size: usize,
    /// Erase sector, bytes.
    pub erase_size: usize,
    /// The storage capacity to give it: the image's length rounded down to whole erase sectors
    /// (for a KV, at most its two partitions and one odd sector).
    pub capacity: usize,
}

/// Reads the geometry of the log or KV image in `image`.
///
/// A log is recognised by a valid segment header at a multiple of 256 bytes (the smallest
/// erase sector) that lies on a segment boundary of its own geometry, with every segment inside
/// the image; a KV by a valid partition header at address 0, or at the address equal to its
/// partition size (partition 1).
///
/// Errors: [`Error::UnsupportedVersion`] when only headers of a newer format are found,
/// [`Error::GeometryMismatch`] when the image is shorter than its headers describe,
/// [`Error::NotFormatted`] when it holds neither.
pub fn probe_geometry(image: &[u8]) -> Result<ImageGeometry> {
    let len = image.len();
    let mut future = None;
    let mut short = false;
    let mut addr = 0usize;
    while addr + FIXED_HEADER_LEN <= len {
        let mut b = [0u8; FIXED_HEADER_LEN];
        b.copy_from_slice(&image[addr..addr + FIXED_HEADER_LEN]);
        match header::decode_fixed(&b) {
            Ok(h) => {
                let l = h.layout;
                let seg = l.segment_size as usize;
                if addr.is_multiple_of(seg) && addr / seg < l.segment_count as usize {
                    if seg * l.segment_count as usize <= len {
                        return Ok(log_geometry(l, len));
                    }
                    short = true;
                }
            }
            Err(HeaderError::FutureVersion(v)) => future = Some(v),
            Err(_) => {}
        }
        addr += MIN_ERASE_SIZE;
    }
    let mut addr = 0usize;
    while addr < len {
        let end = (addr + MAX_FUTURE_HEADER_LEN).min(len);
        match kv_format::decode_header(&image[addr..end]) {
            Ok(h) if addr == 0 || addr == h.partition_size as usize => {
                let part = h.partition_size as usize;
                if 2 * part <= len {
                    return Ok(kv_geometry(h, len));
                }
                short = true;
            }
            Err(KvHeaderError::FutureVersion(v)) => future = Some(v),
            _ => {}
        }
        addr += MIN_ERASE_SIZE;
    }
    Err(if short {
        Error::GeometryMismatch
    } else if let Some(found) = future {
        Error::UnsupportedVersion { found }
    } else {
        Error::NotFormatted
    })
}

fn log_geometry(l: Layout, len: usize) -> ImageGeometry {
    let es = l.erase_size as usize;
    let cap = (len as u64).min(max_capacity(es)) as usize;
    ImageGeometry {
        kind: ImageKind::Log(l),
        write_size: l.write_size as usize,
        erase_size: es,
        capacity: cap / es * es,
    }
}

fn kv_geometry(h: KvHeader, len: usize) -> ImageGeometry {
    let (es, part) = (h.erase_size as usize, h.partition_size as usize);
    // Two partitions, and the odd last sector a storage of an odd sector count leaves unused.
    let cap = (len / es * es).min(2 * part + es);
    ImageGeometry {
        kind: ImageKind::Kv(h),
        write_size: h.write_size as usize,
        erase_size: es,
        capacity: cap,
    }
}
