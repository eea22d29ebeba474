//! Reading frames through a window: the primitives of the one frame walk that the log and the
//! KV share (FORMAT.md §4 and K3: both frame kinds are a 4-byte header, a body and a CRC-32C
//! over the two, padded to the write unit).
//!
//! A [`Window`] is what one read of the medium brought, up to [`WINDOW_LEN`] bytes. Checking a
//! frame through it costs one read when the frame fits — and the frames after it that the
//! same read brought cost none — so a reader going forward pays about one read per small
//! record, header, body and CRC included, and copies the record out of the window. Every byte
//! handed on has passed its frame's CRC check first (invariant I4): [`frame_start`] and
//! [`crc_ok`] are the check; what a frame *means* is the caller's (`segment` for the log,
//! `kv::frames` for the KV).

use crate::error::{Fallible, Fault};
use crate::format::frame::{self, FRAME_HEADER_LEN, MAX_VARINT_LEN};
use crate::format::{ends_within, is_erased, Crc32c};
use crate::storage::Storage;

/// Bytes one read of a [`Window`] brings at most.
pub(crate) const WINDOW_LEN: usize = 128;

/// What one read of the medium brought: up to [`WINDOW_LEN`] bytes from `start` (absolute).
/// Valid within one operation only: erased bytes of the active segment it holds may be
/// programmed afterwards, so each search starts with [`forget`](Window::forget).
#[derive(Clone)]
pub(crate) struct Window {
    bytes: [u8; WINDOW_LEN],
    start: u32,
    len: u32,
}

impl Window {
    /// An empty window.
    pub const fn new() -> Self {
        Window {
            bytes: [0u8; WINDOW_LEN],
            start: 0,
            len: 0,
        }
    }

    /// Drops what the window holds.
    pub fn forget(&mut self) {
        self.len = 0;
    }

    /// The `n` bytes at `addr`, when the window holds them all.
    pub fn get(&self, addr: u32, n: usize) -> Option<&[u8]> {
        let from = addr.checked_sub(self.start)? as usize;
        let to = from.checked_add(n)?;
        self.bytes.get(from..to).filter(|_| to <= self.len as usize)
    }

    /// Reads the bytes from `addr` up to `to` (exclusive), at most [`WINDOW_LEN`] of them.
    // Inlining chosen by measurement: see footprint/README.md, "Inlining".
    #[inline(always)]
    pub fn fill<S: Storage>(&mut self, storage: &mut S, addr: u32, to: u32) -> Fallible<()> {
        let n = (to.saturating_sub(addr) as usize).min(WINDOW_LEN);
        self.len = 0;
        storage.read(addr, &mut self.bytes[..n])?;
        self.start = addr;
        self.len = n as u32;
        Ok(())
    }

    /// The `n` bytes at `addr` (`n <= WINDOW_LEN`, `addr + n <= limit`), read unless held: a
    /// read brings as much as fits before `limit`.
    pub fn at<S: Storage>(
        &mut self,
        storage: &mut S,
        addr: u32,
        n: usize,
        limit: u32,
    ) -> Fallible<&[u8]> {
        if self.get(addr, n).is_none() {
            self.fill(storage, addr, limit)?;
        }
        self.get(addr, n).ok_or(Fault::Corrupt { addr })
    }

    /// Hands bytes `from..to` to `f` piece by piece, reading through the window what it does
    /// not hold (reads stop at `limit`, `to <= limit`).
    // Inlining chosen by measurement: see footprint/README.md, "Inlining".
    #[inline(always)]
    fn stream<S: Storage>(
        &mut self,
        storage: &mut S,
        from: u32,
        to: u32,
        limit: u32,
        f: &mut dyn FnMut(&[u8]),
    ) -> Fallible<()> {
        let mut at = from;
        while at < to {
            if self.get(at, 1).is_none() {
                self.fill(storage, at, limit)?;
            }
            let n = (self.start + self.len).min(to) - at;
            f(self
                .get(at, n as usize)
                .ok_or(Fault::Corrupt { addr: at })?);
            at += n;
        }
        Ok(())
    }
}

/// What the first bytes at a frame position say (FORMAT.md §4 "End of frames").
pub(crate) enum FrameStart {
    /// No room for a frame before `limit`, or the first `max(4, write_size)` bytes are erased.
    End,
    /// The frame header is erased but the rest of its first unit is not: torn.
    Bad,
    /// A frame header to decode.
    Header([u8; FRAME_HEADER_LEN]),
}

/// The frame header at `addr` (absolute), telling the end of frames (erased) from a header.
pub(crate) fn frame_start<S: Storage>(
    storage: &mut S,
    win: &mut Window,
    write_size: usize,
    addr: u32,
    limit: u32,
) -> Fallible<FrameStart> {
    if !ends_within(addr, FRAME_HEADER_LEN as u32, limit) {
        // No room for a frame: the data area is exhausted (or a bogus position).
        return Ok(FrameStart::End);
    }
    let mut hdr = [0u8; FRAME_HEADER_LEN];
    hdr.copy_from_slice(win.at(storage, addr, FRAME_HEADER_LEN, limit)?);
    if !is_erased(&hdr) {
        return Ok(FrameStart::Header(hdr));
    }
    // The rest of the header's unit must be erased too (units are aligned: it ends before
    // `limit`).
    let to = limit.min(addr.saturating_add(write_size as u32));
    let mut erased = true;
    win.stream(storage, addr, to, limit, &mut |b| erased &= is_erased(b))?;
    Ok(if erased {
        FrameStart::End
    } else {
        FrameStart::Bad
    })
}

/// Whether the CRC after the `body_len`-byte body of the frame at `addr` (header `hdr`, `size`
/// bytes on the medium, ending before `limit`) matches. A frame that fits the window is read
/// whole in one go, with the header after it.
pub(crate) fn crc_ok<S: Storage>(
    storage: &mut S,
    win: &mut Window,
    addr: u32,
    hdr: &[u8; FRAME_HEADER_LEN],
    body_len: usize,
    size: usize,
    limit: u32,
) -> Fallible<bool> {
    let body = addr + FRAME_HEADER_LEN as u32;
    let crc_at = body + body_len as u32;
    if win.get(crc_at, 4).is_none() && size <= WINDOW_LEN {
        win.fill(
            storage,
            addr,
            limit.min(addr + (size + FRAME_HEADER_LEN) as u32),
        )?;
    }
    let mut digest = Crc32c::new();
    digest.update(hdr);
    win.stream(storage, body, crc_at, limit, &mut |b| digest.update(b))?;
    let stored = win.at(storage, crc_at, 4, limit)?;
    Ok(digest.finalize() == crate::format::get_u32(stored, 0))
}

/// The LEB128 value at `addr` (not past `end`) and its length: from the window when it holds
/// those bytes, else read (not through the window, which keeps the frame it holds).
pub(crate) fn varint_at<S: Storage>(
    storage: &mut S,
    win: &Window,
    addr: u32,
    end: u32,
) -> Fallible<Option<(u32, u32)>> {
    let n = (MAX_VARINT_LEN as u32).min(end.saturating_sub(addr)) as usize;
    let mut b = [0u8; MAX_VARINT_LEN];
    match win.get(addr, n) {
        Some(held) => b[..n].copy_from_slice(held),
        None => storage.read(addr, &mut b[..n])?,
    }
    Ok(frame::decode_varint(&b[..n]).map(|(v, len)| (v, len as u32)))
}

/// Reads a LEB128 value at `addr`, not reading past `end`. Returns value and length.
pub(crate) fn read_varint<S: Storage>(
    storage: &mut S,
    addr: u32,
    end: u32,
) -> Fallible<Option<(u32, u32)>> {
    let n = (MAX_VARINT_LEN as u32).min(end.saturating_sub(addr)) as usize;
    let mut b = [0u8; MAX_VARINT_LEN];
    storage.read(addr, &mut b[..n])?;
    Ok(frame::decode_varint(&b[..n]).map(|(v, len)| (v, len as u32)))
}
