//! Streaming reads of KV frames: [`check_frame`] verifies one through a [`Window`] (the frame
//! check the log's frames share: [`frame_start`] and [`crc_ok`]), and [`EntryWalk`] walks
//! the entries of a verified frame reading only their headers.
//!
//! Frames are written by the log's `UnitWriter` (the same staging, padding and running CRC);
//! compaction reads its source entries through the writer's storage between two writes.

use super::format::{decode_frame_header, frame_size, MAX_KEY_LEN, OP_DELETE, OP_SET};
use crate::error::{Fallible, Fault};
use crate::format::ends_within;
use crate::format::frame::FRAME_HEADER_LEN;
use crate::storage::Storage;
use crate::window::{crc_ok, frame_start, read_varint, FrameStart, Window};

/// What lies at a frame position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Erased (or no room for a frame): the frames of this partition end here.
    End,
    /// Written but not a valid `K` frame: torn or damaged.
    Bad,
    /// A frame whose CRC matches.
    Valid {
        /// Body length.
        body_len: u32,
        /// Bytes the frame occupies, padding included.
        size: u32,
    },
}

/// Verifies the frame at `addr`, which must end at or before `limit` (both absolute).
///
/// End of frames: the first `max(4, write_size)` bytes are all `0xFF`.
pub(crate) fn check_frame<S: Storage>(
    storage: &mut S,
    write_size: usize,
    addr: u32,
    limit: u32,
) -> Fallible<Check> {
    let win = &mut Window::new();
    let hdr = match frame_start(storage, win, write_size, addr, limit)? {
        FrameStart::End => return Ok(Check::End),
        FrameStart::Bad => return Ok(Check::Bad),
        FrameStart::Header(h) => h,
    };
    let Some(body_len) = decode_frame_header(&hdr) else {
        return Ok(Check::Bad);
    };
    let size = frame_size(write_size, body_len);
    if body_len == 0
        || !ends_within(addr, size as u32, limit)
        || !crc_ok(storage, win, addr, &hdr, body_len, size, limit)?
    {
        return Ok(Check::Bad);
    }
    Ok(Check::Valid {
        body_len: body_len as u32,
        size: size as u32,
    })
}

/// Reads the size of the frame at `addr` from its header alone (for frames verified before).
pub(crate) fn frame_size_at<S: Storage>(
    storage: &mut S,
    write_size: usize,
    addr: u32,
) -> Fallible<(u32, u32)> {
    let mut hdr = [0u8; FRAME_HEADER_LEN];
    storage.read(addr, &mut hdr)?;
    let body_len = decode_frame_header(&hdr).ok_or(Fault::Corrupt { addr })?;
    Ok((body_len as u32, frame_size(write_size, body_len) as u32))
}

/// One entry of a frame, located on the medium (absolute addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    /// First byte of the entry (its op).
    pub addr: u32,
    /// True for a set, false for a delete.
    pub set: bool,
    /// First byte of the key.
    pub key_addr: u32,
    /// Key length.
    pub key_len: u32,
    /// First byte of the value (sets; equals `end` for deletes).
    pub val_addr: u32,
    /// Value length (0 for deletes).
    pub val_len: u32,
    /// One past the last byte of the entry.
    pub end: u32,
}

impl Entry {
    /// Encoded length of the entry.
    pub fn len(&self) -> u32 {
        self.end - self.addr
    }
}

/// Limits an entry must respect (from the partition header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub max_key: u32,
    pub max_value: u32,
}

/// Walks the entries of a frame whose CRC was verified. Any structural error (bad op, a length
/// running past the body, a count that does not match the body exactly) is
/// [`Error::Corrupt`](crate::Error::Corrupt) naming the frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EntryWalk {
    /// Frame address.
    pub frame: u32,
    next: u32,
    end: u32,
    remaining: u32,
}

impl EntryWalk {
    /// Starts walking the frame at `frame` with a `body_len`-byte body.
    pub fn start<S: Storage>(storage: &mut S, frame: u32, body_len: u32) -> Fallible<Self> {
        let body = frame + FRAME_HEADER_LEN as u32;
        let end = body + body_len;
        let (count, n) = read_varint(storage, body, end)?.ok_or(Fault::Corrupt { addr: frame })?;
        if count == 0 {
            return Err(Fault::Corrupt { addr: frame });
        }
        Ok(EntryWalk {
            frame,
            next: body + n,
            end,
            remaining: count,
        })
    }

    /// The next entry, or `None` after the last one.
    pub fn next<S: Storage>(
        &mut self,
        storage: &mut S,
        limits: &Limits,
    ) -> Fallible<Option<Entry>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        let e = parse_entry(storage, self.frame, self.next, self.end, limits)?;
        self.next = e.end;
        self.remaining -= 1;
        if self.remaining == 0 && self.next != self.end {
            return Err(Fault::Corrupt { addr: self.frame });
        }
        Ok(Some(e))
    }
}

/// Parses the entry at `addr` of the frame at `frame` whose body ends at `end` (absolute).
/// Structural errors are [`Error::Corrupt`](crate::Error::Corrupt) naming the frame.
pub(crate) fn parse_entry<S: Storage>(
    storage: &mut S,
    frame: u32,
    addr: u32,
    end: u32,
    limits: &Limits,
) -> Fallible<Entry> {
    let corrupt = Fault::Corrupt { addr: frame };
    if addr >= end {
        return Err(corrupt);
    }
    let mut op = [0u8; 1];
    storage.read(addr, &mut op)?;
    let set = match op[0] {
        OP_SET => true,
        OP_DELETE => false,
        _ => return Err(corrupt),
    };
    let (key_len, n) = read_varint(storage, addr + 1, end)?.ok_or(corrupt)?;
    if key_len > limits.max_key {
        return Err(corrupt);
    }
    let key_addr = addr + 1 + n;
    if !ends_within(key_addr, key_len, end) {
        return Err(corrupt);
    }
    let after_key = key_addr + key_len;
    let (val_addr, val_len) = if set {
        let (v, n) = read_varint(storage, after_key, end)?.ok_or(corrupt)?;
        if v > limits.max_value {
            return Err(corrupt);
        }
        (after_key + n, v)
    } else {
        (after_key, 0)
    };
    if !ends_within(val_addr, val_len, end) {
        return Err(corrupt);
    }
    Ok(Entry {
        addr,
        set,
        key_addr,
        key_len,
        val_addr,
        val_len,
        end: val_addr + val_len,
    })
}

/// Whether the `len` bytes at `addr` equal `key`. `len` is a parsed entry's key length (at
/// most [`MAX_KEY_LEN`]), so one read does.
pub(crate) fn bytes_eq<S: Storage>(
    storage: &mut S,
    addr: u32,
    len: u32,
    key: &[u8],
) -> Fallible<bool> {
    if len as usize != key.len() || key.len() > MAX_KEY_LEN {
        return Ok(false);
    }
    let mut stored = [0u8; MAX_KEY_LEN];
    storage.read(addr, &mut stored[..key.len()])?;
    // A byte loop, not `==` on slices: that would link the runtime's `memcmp` for this alone.
    Ok(stored.iter().zip(key).all(|(a, b)| a == b))
}

/// A key read from the medium into a stack buffer.
#[derive(Clone)]
pub(crate) struct KeyBuf {
    buf: [u8; MAX_KEY_LEN],
    len: usize,
}

impl KeyBuf {
    /// Reads the key of `e` (its length was checked against the limits, ≤ 255).
    pub fn read<S: Storage>(storage: &mut S, e: &Entry) -> Fallible<Self> {
        let mut k = KeyBuf {
            buf: [0; MAX_KEY_LEN],
            len: (e.key_len as usize).min(MAX_KEY_LEN),
        };
        storage.read(e.key_addr, &mut k.buf[..k.len])?;
        Ok(k)
    }

    /// The key bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}
