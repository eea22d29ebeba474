//! Reading one segment: its header and checkpoint, its frames and its index slots.
//!
//! Everything here reads; writing is done by the [`Log`](crate::Log) through
//! [`UnitWriter`](crate::writer::UnitWriter). Every byte that reaches a caller has passed a
//! CRC check first (invariant I4): frames are verified whole before any record in them is
//! returned — by streaming them through the read window, or, for the one record a reader
//! asked for when its frame does not fit the window, as it is copied into the reader's buffer
//! (one read instead of a streamed check and a second read for the copy).

use crate::control::State;
use crate::error::{Fallible, Fault};
use crate::format::frame::{self, FrameKind, FRAME_HEADER_LEN};
use crate::format::header::{self, FixedHeader, HeaderError, FIXED_HEADER_LEN};
use crate::format::index::{self, SlotRead, SLOT_LEN};
use crate::format::layout::Layout;
use crate::format::state::{StateView, MAX_CONSUMERS_ON_MEDIA, MAX_NAME_LEN, MIN_STATE_LEN};
use crate::format::{ends_within, is_erased, Crc32c};
use crate::storage::Storage;
use crate::window::{crc_ok, frame_start, varint_at, FrameStart, Window, WINDOW_LEN};

/// Largest state block on the medium.
pub(crate) const MAX_STATE_LEN: usize =
    MIN_STATE_LEN + MAX_CONSUMERS_ON_MEDIA * (1 + MAX_NAME_LEN + 8);
/// Largest state frame: frame header, largest state block, CRC (a checkpoint, the block and its
/// CRC, is shorter).
const MAX_STATE_FRAME_LEN: usize = FRAME_HEADER_LEN + MAX_STATE_LEN + 4;

/// Reads the fixed header at `addr` into `b` and decodes it.
pub(crate) fn read_fixed<S: Storage>(
    storage: &mut S,
    addr: u32,
    b: &mut [u8; FIXED_HEADER_LEN],
) -> Fallible<core::result::Result<FixedHeader, HeaderError>> {
    storage.read(addr, b)?;
    Ok(header::decode_fixed(b))
}

/// What the log needs from the header of one of its segments (the geometry is the log's own):
/// half the size of a [`FixedHeader`], so the many callers move less.
#[derive(Debug, Clone, Copy)]
// 4-aligned although it holds a `u64`: see `word.rs`.
#[repr(Rust, packed(4))]
pub(crate) struct Member {
    pub seq: u64,
    pub base_offset: u64,
    pub prev_seq: u64,
    pub prev_index: u32,
    pub header_len: u16,
}

/// Reads the fixed header of segment `index` and checks it belongs to `layout`. Always
/// inlined: out of line, the `Option<Member>` it returns went through memory (108 B more
/// firmware code, `bash footprint/measure.sh`).
#[inline(always)]
pub(crate) fn read_member_header<S: Storage>(
    storage: &mut S,
    layout: &Layout,
    index: u32,
) -> Fallible<Option<Member>> {
    Ok(match read_header_kind(storage, layout, index)? {
        HeaderKind::Member(m) => Some(m),
        _ => None,
    })
}

/// What the first bytes of a segment hold, for mount.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HeaderKind {
    /// A valid header of this layout.
    Member(Member),
    /// All `0xFF`: an erased (free, or never used) segment.
    Erased,
    /// An intact header of a newer format version.
    Future(u16),
    /// Anything else: a damaged header, a torn one, a header of another geometry, foreign
    /// bytes.
    Other,
}

/// Reads the fixed header of segment `index` and says what it is.
pub(crate) fn read_header_kind<S: Storage>(
    storage: &mut S,
    layout: &Layout,
    index: u32,
) -> Fallible<HeaderKind> {
    let mut b = [0u8; FIXED_HEADER_LEN];
    storage.read(layout.segment_addr(index), &mut b)?;
    Ok(HeaderKind::of(header::decode_fixed(&b), layout, &b))
}

impl HeaderKind {
    /// What the fixed header `b`, decoded as `decoded`, is for a log of `layout`.
    pub(crate) fn of(
        decoded: core::result::Result<FixedHeader, HeaderError>,
        layout: &Layout,
        b: &[u8; FIXED_HEADER_LEN],
    ) -> Self {
        match decoded {
            Ok(h) if h.layout == *layout => HeaderKind::Member(Member {
                seq: h.seq,
                base_offset: h.base_offset,
                prev_seq: h.prev_seq,
                prev_index: h.prev_index,
                header_len: h.header_len,
            }),
            Err(HeaderError::FutureVersion(v)) => HeaderKind::Future(v),
            _ if is_erased(b) => HeaderKind::Erased,
            _ => HeaderKind::Other,
        }
    }
}

/// Reads the whole header of a segment of `layout` whose fixed part is `h`: whether its
/// checkpoint is intact (`false`: torn or invalid). An intact checkpoint is loaded `into`
/// (`TooManyConsumers` when it holds more cursors than `C`).
pub(crate) fn read_checkpoint<S: Storage, const C: usize>(
    storage: &mut S,
    layout: &Layout,
    seg_addr: u32,
    h: &Member,
    into: &mut State<C>,
) -> Fallible<bool> {
    // FORMAT.md §3: the checkpoint (state block and CRC) follows the fixed part, which the
    // caller has read already; its CRC covers the state block alone.
    let len = (h.header_len as usize).saturating_sub(FIXED_HEADER_LEN);
    load_state_block(
        storage,
        layout,
        seg_addr + FIXED_HEADER_LEN as u32,
        len,
        0,
        into,
    )
}

/// Reads the `len` bytes at `addr`: bytes covered by the CRC-32C in the last 4, the state block
/// starting at `block_at` of them. Checks both: whether they are intact (`false`: torn, damaged,
/// or longer than any state frame). The state is loaded `into` (`TooManyConsumers` when it holds
/// more cursors than `C`; left untouched when the bytes are not intact). One read: a checkpoint (block and CRC) and a state
/// frame (its header, body and CRC) are verified from the same buffer they are parsed from.
fn load_state_block<S: Storage, const C: usize>(
    storage: &mut S,
    layout: &Layout,
    addr: u32,
    len: usize,
    block_at: usize,
    into: &mut State<C>,
) -> Fallible<bool> {
    if len > MAX_STATE_FRAME_LEN || len < block_at + 4 {
        return Ok(false);
    }
    let mut buf = [0u8; MAX_STATE_FRAME_LEN];
    let b = &mut buf[..len];
    storage.read(addr, b)?;
    let Some(view) = crate::format::crc_checked(b)
        .and_then(|covered| StateView::parse(&covered[block_at..], layout.max_consumers as usize))
    else {
        return Ok(false);
    };
    into.load(&view)?;
    Ok(true)
}

/// A frame that passed its CRC check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameInfo {
    pub kind: FrameKind,
    pub body_len: u32,
    /// Records in the frame (0 for a state frame).
    pub count: u32,
    /// Body bytes before the first record: the length of a batch's count, else 0.
    pub lead: u8,
    /// Bytes the frame occupies, padding included.
    pub size: u32,
    /// Whether its CRC was checked. Only a record frame that does not fit the read window and
    /// holds the record a reader looks for is not: its CRC is checked as the record is copied
    /// out ([`RecordWalk::next_into`]).
    pub verified: bool,
}

/// What lies at a frame position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameCheck {
    /// Erased: the end of the frames in this segment.
    End,
    /// Written but not a valid frame (torn write or damage).
    Bad,
    /// A verified frame.
    Valid(FrameInfo),
}

/// Verifies the frame at `addr` (absolute), which must end at or before `limit` (absolute),
/// reading through `win` (see [`Window`]): a frame that fits it costs one read, and so do the
/// frames after it that the same read brought. `sought`: the frame's first record is the one
/// a reader looks for; a single-record frame that does not fit the window is then left for the
/// copy to check ([`FrameInfo::verified`]).
// Inlining chosen by measurement: see footprint/README.md, "Inlining".
#[inline(always)]
pub(crate) fn check_frame_into<S: Storage>(
    storage: &mut S,
    layout: &Layout,
    addr: u32,
    limit: u32,
    win: &mut Window,
    sought: bool,
) -> Fallible<FrameCheck> {
    let hdr = match frame_start(storage, win, layout.write_size as usize, addr, limit)? {
        FrameStart::End => return Ok(FrameCheck::End),
        FrameStart::Bad => return Ok(FrameCheck::Bad),
        FrameStart::Header(h) => h,
    };
    let Some((kind, body_len)) = frame::decode_header(&hdr) else {
        return Ok(FrameCheck::Bad);
    };
    let size = layout.frame_size(body_len);
    if !ends_within(addr, size as u32, limit) {
        return Ok(FrameCheck::Bad);
    }
    let verified = !(sought && kind == FrameKind::Record && size > WINDOW_LEN);
    if verified && !crc_ok(storage, win, addr, &hdr, body_len, size, limit)? {
        return Ok(FrameCheck::Bad);
    }
    let body_addr = addr + FRAME_HEADER_LEN as u32;
    let body_end = body_addr + body_len as u32;
    // (count, bytes before the first record): a batch's body leads with its count.
    let (count, lead) = match kind {
        FrameKind::Record => (1, 0),
        FrameKind::State => (0, 0),
        FrameKind::Batch => {
            let count = varint_at(storage, win, body_addr, body_end)?;
            match count {
                Some((c, n)) if c >= 1 && c as usize <= body_len => (c, n as u8),
                _ => return Ok(FrameCheck::Bad),
            }
        }
    };
    Ok(FrameCheck::Valid(FrameInfo {
        kind,
        body_len: body_len as u32,
        count,
        lead,
        size: size as u32,
        verified,
    }))
}

/// Where a [`Walk`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WalkStop {
    /// The verified frame at [`Walk::pos`] holds the offset looked for.
    Found(FrameInfo),
    /// The end of the frames (erased).
    End,
    /// Written but not a valid frame: torn or damaged.
    Bad,
    /// The walk reached the position it was told to stop at.
    Limit,
}

/// A walk over the verified frames of one segment: the one frame walk of the log — reads,
/// iteration and mount all go through [`Walk::run`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Walk {
    /// Position (within the segment) of the next frame to check; where the walk stopped.
    pub pos: u32,
    /// First offset of the frame at `pos`, counted from the segment's base offset: a segment
    /// holds fewer than 2^32 records (each takes a byte at least), so 32 bits do inside it.
    pub delta: u32,
    /// Position of the last state frame passed (`0`: none; a walk may start with one known).
    pub state_pos: u32,
}

impl Walk {
    /// A walk from position `pos`, whose first offset is `delta` past the segment's base.
    pub fn from(pos: u32, delta: u32) -> Self {
        Walk {
            pos,
            delta,
            state_pos: 0,
        }
    }

    /// Walks the frames of the segment at `seg_addr` until the frame holding the record
    /// `target` past the segment's base (at least `delta`; `u32::MAX`: none), the end of the
    /// frames, a frame that does not verify, or position `stop`, whichever comes first; `pos`
    /// and `delta` are left at that frame.
    pub fn run<S: Storage>(
        &mut self,
        storage: &mut S,
        layout: &Layout,
        seg_addr: u32,
        target: u32,
        stop: u32,
        win: &mut Window,
    ) -> Fallible<WalkStop> {
        let limit = seg_addr + layout.index_start();
        while self.pos < stop {
            let sought = target == self.delta;
            match check_frame_into(storage, layout, seg_addr + self.pos, limit, win, sought)? {
                FrameCheck::Valid(f) => {
                    // Callers start at or before `target`; a walk that passed it (a bogus
                    // start on a damaged image) finds nothing rather than the wrong frame.
                    if target.wrapping_sub(self.delta) < f.count {
                        return Ok(WalkStop::Found(f));
                    }
                    if f.kind == FrameKind::State {
                        self.state_pos = self.pos;
                    }
                    self.delta = self.delta.saturating_add(f.count);
                    self.pos += f.size;
                }
                FrameCheck::End => return Ok(WalkStop::End),
                FrameCheck::Bad => return Ok(WalkStop::Bad),
            }
        }
        Ok(WalkStop::Limit)
    }
}

/// Position of the records inside a verified frame, for walking them one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecordWalk {
    /// Frame address (for error reports).
    pub frame_addr: u32,
    /// Address of the next record (its length varint, for batches).
    pub next: u32,
    /// End of the body.
    pub end: u32,
    /// Records left.
    pub remaining: u32,
    /// True for a single-record frame (no length prefix).
    pub single: bool,
    /// Whether the frame's CRC was checked (see [`FrameInfo::verified`]); else the record is
    /// checked as it is copied out.
    pub verified: bool,
}

impl RecordWalk {
    /// Starts walking the records of a verified frame at `frame_addr`.
    pub fn start(frame_addr: u32, info: &FrameInfo) -> Self {
        let body = frame_addr + FRAME_HEADER_LEN as u32;
        RecordWalk {
            frame_addr,
            next: body + info.lead as u32,
            end: body + info.body_len,
            remaining: info.count,
            single: info.kind == FrameKind::Record,
            verified: info.verified,
        }
    }

    /// Checks the CRC of a frame not yet verified by streaming it through `win` (the frame is
    /// a single record: header, the body up to `end`, the CRC after it).
    fn verify<S: Storage>(&mut self, storage: &mut S, win: &mut Window) -> Fallible<()> {
        if !self.verified {
            let body_len = (self.end - self.frame_addr) as usize - FRAME_HEADER_LEN;
            let hdr = frame::encode_header(FrameKind::Record, body_len);
            let (addr, limit) = (self.frame_addr, self.end + 4);
            if !crc_ok(storage, win, addr, &hdr, body_len, usize::MAX, limit)? {
                return Err(Fault::Corrupt { addr });
            }
            self.verified = true;
        }
        Ok(())
    }

    /// Copies the record of a frame not yet verified (a single record, `len` bytes at `addr`)
    /// straight from the medium into `out[..len]` and checks the frame's CRC over it: one read
    /// when `out` has room for the CRC after the record (the bytes there are put back), else
    /// two. On a mismatch `out` holds unverified bytes and the error says so.
    fn copy_verified<S: Storage>(
        &self,
        storage: &mut S,
        addr: u32,
        out: &mut [u8],
        len: usize,
    ) -> Fallible<()> {
        let mut crc = [0u8; 4];
        match out.get_mut(len..len + 4) {
            Some(after) => {
                let kept: [u8; 4] = [after[0], after[1], after[2], after[3]];
                storage.read(addr, &mut out[..len + 4])?;
                crc.copy_from_slice(&out[len..len + 4]);
                out[len..len + 4].copy_from_slice(&kept);
            }
            None => {
                storage.read(addr, &mut out[..len])?;
                storage.read(addr + len as u32, &mut crc)?;
            }
        }
        let buf = &out[..len];
        let mut digest = Crc32c::new();
        digest.update(&frame::encode_header(FrameKind::Record, len));
        digest.update(buf);
        if digest.finalize() != u32::from_le_bytes(crc) {
            return Err(Fault::Corrupt {
                addr: self.frame_addr,
            });
        }
        Ok(())
    }

    /// Location and length of the next record, advancing past it (a batch's length prefix
    /// from `win` when it holds it).
    fn advance<S: Storage>(
        &mut self,
        storage: &mut S,
        win: &Window,
    ) -> Fallible<Option<(u32, u32)>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        let corrupt = Fault::Corrupt {
            addr: self.frame_addr,
        };
        let (addr, len) = if self.single {
            (self.next, self.end - self.next)
        } else {
            let (len, n) = varint_at(storage, win, self.next, self.end)?.ok_or(corrupt)?;
            (self.next + n, len)
        };
        if !ends_within(addr, len, self.end) {
            return Err(corrupt);
        }
        self.next = addr + len;
        self.remaining -= 1;
        if self.remaining == 0 && self.next != self.end {
            return Err(corrupt);
        }
        Ok(Some((addr, len)))
    }

    /// Skips `n` records.
    pub fn skip<S: Storage>(&mut self, storage: &mut S, win: &Window, n: u32) -> Fallible<()> {
        for _ in 0..n {
            if self.advance(storage, win)?.is_none() {
                return Err(Fault::Corrupt {
                    addr: self.frame_addr,
                });
            }
        }
        Ok(())
    }

    /// The length of the next record, without moving on; `None` when the frame is done.
    pub fn peek_len<S: Storage>(
        &mut self,
        storage: &mut S,
        win: &mut Window,
    ) -> Fallible<Option<u32>> {
        // A length is handed on only from a verified frame.
        self.verify(storage, win)?;
        let mut ahead = *self;
        Ok(ahead.advance(storage, win)?.map(|(_, len)| len))
    }

    /// The next record as a vector of exactly its length (feature `alloc`); `None` when the
    /// frame is done. `win` is the window the frame was verified through.
    #[cfg(feature = "alloc")]
    pub fn next_vec<S: Storage>(
        &mut self,
        storage: &mut S,
        win: &Window,
    ) -> Fallible<Option<alloc::vec::Vec<u8>>> {
        let saved = *self;
        let Some((addr, len)) = self.advance(storage, win)? else {
            return Ok(None);
        };
        let mut v = alloc::vec![0u8; len as usize + 4];
        if self.verified {
            v.truncate(len as usize);
            copy_record(storage, win, addr, &mut v)?;
        } else {
            if let Err(e) = self.copy_verified(storage, addr, &mut v, len as usize) {
                *self = saved;
                return Err(e);
            }
            self.verified = true;
            v.truncate(len as usize);
        }
        Ok(Some(v))
    }

    /// Copies the next record into `buf`, returning its length; `None` when the frame is done.
    /// `win` is the window the frame was verified through. A frame not yet verified is checked
    /// as its record is copied (on [`Fault::Corrupt`] `buf` holds unverified bytes); when
    /// `buf` is too small it is verified through `win` before its length is reported.
    pub fn next_into<S: Storage>(
        &mut self,
        storage: &mut S,
        win: &mut Window,
        buf: &mut [u8],
    ) -> Fallible<Option<usize>> {
        let saved = *self;
        let Some((addr, len)) = self.advance(storage, win)? else {
            return Ok(None);
        };
        let len = len as usize;
        if buf.len() < len {
            *self = saved;
            self.verify(storage, win)?;
            return Err(Fault::BufferTooSmall { needed: len as u32 });
        }
        let copied = if self.verified {
            copy_record(storage, win, addr, &mut buf[..len])
        } else {
            self.copy_verified(storage, addr, buf, len)
        };
        if let Err(e) = copied {
            *self = saved;
            return Err(e);
        }
        self.verified = true;
        Ok(Some(len))
    }
}

/// Copies the record at `addr` (`buf.len()` bytes) out of the window, or the medium when the
/// window does not hold it all.
fn copy_record<S: Storage>(
    storage: &mut S,
    win: &Window,
    addr: u32,
    buf: &mut [u8],
) -> Fallible<()> {
    match win.get(addr, buf.len()) {
        Some(b) => buf.copy_from_slice(b),
        None => storage.read(addr, buf)?,
    }
    Ok(())
}

/// Reads index slot `slot` of the segment at `seg_addr` through `win`. When the search's range
/// ends two slots on (`hi`), the slot after it is the next probe if this one is below the
/// sought boundary: the read brings it too.
// Inlining chosen by measurement: see footprint/README.md, "Inlining".
#[inline(always)]
fn read_slot<S: Storage>(
    storage: &mut S,
    win: &mut Window,
    layout: &Layout,
    seg_addr: u32,
    slot: u32,
    hi: u32,
) -> Fallible<SlotRead> {
    let addr = seg_addr + layout.slot_pos(slot);
    let to = addr + layout.slot_size() * if hi - slot == 2 { 2 } else { 1 };
    let mut b = [0u8; SLOT_LEN];
    b.copy_from_slice(win.at(storage, addr, SLOT_LEN, to)?);
    Ok(index::decode(&b))
}

/// Number of used slots (valid or torn) in the segment: slots are written in order, so the
/// used ones form a prefix, found by binary search. With it, the last used slot when it is
/// valid (the search has read it: the lower bound only moves past a slot it read as used), so
/// mount finds the last indexed frame without reading that slot again.
pub(crate) fn used_slots<S: Storage>(
    storage: &mut S,
    layout: &Layout,
    seg_addr: u32,
) -> Fallible<(u32, Option<index::Slot>)> {
    let (mut lo, mut hi) = (0u32, layout.max_slots());
    let mut last = None;
    let win = &mut Window::new();
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match read_slot(storage, win, layout, seg_addr, mid, hi)? {
            SlotRead::Unused => hi = mid,
            read => {
                last = match read {
                    SlotRead::Valid(s) => Some(s),
                    _ => None,
                };
                lo = mid + 1;
            }
        }
    }
    Ok((lo, last))
}

/// The last valid slot among the first `used` slots whose `delta` is at most `max_delta`,
/// found by binary search. A slot that does not verify (torn: only ever the last one written;
/// or damaged) is judged by the next valid slot after it: without that, one damaged slot in
/// the middle hid every later slot, so reads started their scan before it — and stopped at any
/// damaged frame there, though later slots lead past it (found by the `mount_iter` fuzzer).
pub(crate) fn find_slot<S: Storage>(
    storage: &mut S,
    layout: &Layout,
    seg_addr: u32,
    used: u32,
    max_delta: u64,
) -> Fallible<Option<index::Slot>> {
    let (mut lo, mut hi) = (0u32, used);
    let mut best = None;
    let win = &mut Window::new();
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let mut probe = mid;
        let found = loop {
            match read_slot(storage, win, layout, seg_addr, probe, hi)? {
                SlotRead::Valid(s) => break Some((probe, s)),
                _ if probe + 1 < hi => probe += 1,
                _ => break None,
            }
        };
        match found {
            // Slots are in offset order: everything up to `probe` is at most `max_delta`.
            Some((at, s)) if (s.delta as u64) <= max_delta => {
                best = Some(s);
                lo = at + 1;
            }
            _ => hi = mid,
        }
    }
    Ok(best)
}

/// Reads and parses the state frame at `addr` (absolute), which must end at or before `limit`,
/// into `into` (left untouched when the frame is damaged: [`Fault::Corrupt`]).
pub(crate) fn read_state_frame<S: Storage, const C: usize>(
    storage: &mut S,
    layout: &Layout,
    addr: u32,
    limit: u32,
    into: &mut State<C>,
) -> Fallible<()> {
    let mut hdr = [0u8; FRAME_HEADER_LEN];
    storage.read(addr, &mut hdr)?;
    if let Some((FrameKind::State, body_len)) = frame::decode_header(&hdr) {
        // FORMAT.md §4: the frame CRC covers the frame header and the body.
        let len = FRAME_HEADER_LEN + body_len + 4;
        if ends_within(addr, layout.frame_size(body_len) as u32, limit)
            && load_state_block(storage, layout, addr, len, FRAME_HEADER_LEN, into)?
        {
            return Ok(());
        }
    }
    Err(Fault::Corrupt { addr })
}
