//! Reading in offset order: [`ReadCursor`], a resumable read position that lives apart from
//! its log, and [`Iter`], a cursor that borrows the log.
//!
//! A cursor remembers where it is — the offset of the next record, the frame it is in (already
//! verified, with the read [`Window`] it was verified through) and a read hint for the frame
//! after it — so reading the next record usually costs no more than copying it. It holds no borrow of the
//! log: a Python or JS iterator object owns one and hands it to
//! [`Log::read_next`] with a buffer. What it caches is stamped with the log's
//! [`Epoch`]; a cursor from before a head move or a truncation (or from another log) finds its
//! record again by offset, through the verified search, so a stale cursor can never return
//! bytes that are not the record at its offset (invariant I4).

use crate::epoch::Epoch;
use crate::error::{Fallible, Fault, Result};
use crate::log::read::ReadHint;
use crate::log::Log;
use crate::policy::{FromConfig, Policy};
use crate::segment::RecordWalk;
use crate::storage::Storage;
use crate::window::Window;
use crate::word::U64;

/// What a read does with the frame holding its record: copy the record out, or tell its length
/// (`None`: the frame ended early). Given the frame, the storage and the window the frame was
/// checked through.
pub(crate) type RecordOp<'a, S, R> =
    dyn FnMut(&mut RecordWalk, &mut S, &mut Window) -> Fallible<Option<R>> + 'a;

/// A resumable read position: the offset of the next record to read, and what the last read
/// learnt about where it is. Made by [`Log::cursor`]; read with [`Log::read_next`].
///
/// It holds no reference to the log, so it can be stored anywhere (an iterator object of a
/// binding, a struct next to the log). Reading the next record with it costs what the borrowing
/// [`Iter`] costs: usually a copy from the frame it has already verified.
#[derive(Clone)]
pub struct ReadCursor {
    offset: U64,
    /// The log's epoch when `walk`, `end` and `hint` were taken ([`Epoch::NONE`]: nothing
    /// cached).
    epoch: Epoch,
    /// The records left in the current frame; `None` before the first record.
    walk: Option<RecordWalk>,
    /// The end offset of the current frame's segment.
    end: U64,
    /// Where the last frame was, for finding the next one.
    hint: Option<ReadHint>,
    /// The read window the current frame was verified through (its records are copied from it
    /// when it holds them).
    chunk: Window,
}

impl ReadCursor {
    /// A cursor at `offset` with nothing cached (the first read locates it). Reading checks
    /// `offset` against the log then; [`Log::cursor`] checks it at once.
    pub const fn at(offset: u64) -> Self {
        ReadCursor {
            offset: U64::new(offset),
            epoch: Epoch::NONE,
            walk: None,
            end: U64::new(0),
            hint: None,
            chunk: Window::new(),
        }
    }

    /// Offset of the record the next read returns.
    pub fn offset(&self) -> u64 {
        self.offset.get()
    }

    /// Moves the cursor to `offset` (checked at the next read). The read hint is kept: a move
    /// forward usually walks on from the frame last read.
    pub fn seek(&mut self, offset: u64) {
        self.offset = U64::new(offset);
        self.walk = None;
    }
}

impl core::fmt::Debug for ReadCursor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReadCursor")
            .field("offset", &self.offset.get())
            .finish_non_exhaustive()
    }
}

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// A [`ReadCursor`] at `from`, which must be readable or the next offset (a cursor at the
    /// end sees records appended later).
    ///
    /// Errors: [`Error::OutOfRange`](crate::Error::OutOfRange) past the next offset, [`Error::Overwritten`](crate::Error::Overwritten) below the
    /// first readable offset.
    pub fn cursor(&self, from: u64) -> Result<ReadCursor> {
        if from != self.next_offset() {
            self.check_readable(from)?;
        }
        Ok(ReadCursor::at(from))
    }

    /// Copies the record at the cursor into `buf` and moves the cursor past it:
    /// `Ok(Some((offset, len)))`, or `Ok(None)` when the cursor is at the next offset (records
    /// appended later will be read by the next call).
    ///
    /// Errors: [`Error::BufferTooSmall`](crate::Error::BufferTooSmall) (nothing is consumed: retry with `needed` bytes),
    /// [`Error::Overwritten`](crate::Error::Overwritten) when the cursor's record was trimmed or overwritten since (move
    /// it with [`ReadCursor::seek`]), [`Error::OutOfRange`](crate::Error::OutOfRange) when it lies past the next offset
    /// (after a truncation), [`Error::Corrupt`](crate::Error::Corrupt) where the medium is damaged (the cursor stays
    /// at that record), storage errors.
    pub fn read_next(
        &mut self,
        cursor: &mut ReadCursor,
        buf: &mut [u8],
    ) -> Result<Option<(u64, usize)>> {
        if self.cursor_start(cursor)?.is_none() {
            return Ok(None);
        }
        let len = self.at_cursor(cursor, &mut |walk, storage, chunk| {
            walk.next_into(storage, chunk, buf)
        })?;
        Ok(Some((cursor.advance(), len)))
    }

    /// [`read_next`](Self::read_next) into a vector of exactly the record's length (feature
    /// `alloc`): never [`Error::BufferTooSmall`](crate::Error::BufferTooSmall).
    #[cfg(feature = "alloc")]
    pub fn read_next_vec(
        &mut self,
        cursor: &mut ReadCursor,
    ) -> Result<Option<(u64, alloc::vec::Vec<u8>)>> {
        if self.cursor_start(cursor)?.is_none() {
            return Ok(None);
        }
        let record = self.at_cursor(cursor, &mut |walk, storage, chunk| {
            walk.next_vec(storage, chunk)
        })?;
        Ok(Some((cursor.advance(), record)))
    }

    /// The length of the record at the cursor, without moving it; `None` at the next offset.
    /// Errors as [`read_next`](Self::read_next).
    pub fn peek_len(&mut self, cursor: &mut ReadCursor) -> Result<Option<usize>> {
        if self.cursor_start(cursor)?.is_none() {
            return Ok(None);
        }
        let len = self.at_cursor(cursor, &mut |walk, storage, chunk| {
            walk.peek_len(storage, chunk)
        })?;
        Ok(Some(len as usize))
    }

    /// Runs `op` on the frame holding the cursor's record (`None` from it: the frame ended
    /// early, damage). When the frame was left for `op` to verify and failed, the walk from the
    /// cursor's hint may have met torn remains that the index slots lead past — a state frame
    /// in the reserve (FORMAT.md §7.3) and the records after it follow a frame a power cut
    /// tore — so the record is searched for again without the hint; failing again, the medium
    /// is damaged there. A hint vouches for its frame's size: none is kept at a frame that
    /// failed.
    pub(crate) fn at_cursor<R>(
        &mut self,
        cursor: &mut ReadCursor,
        op: &mut RecordOp<'_, S, R>,
    ) -> Fallible<R> {
        let mut searched = false;
        loop {
            let (walk, chunk) = self.cursor_frame(cursor)?;
            let r = op(walk, &mut self.storage, chunk);
            let (verified, addr) = (walk.verified, walk.frame_addr);
            if verified {
                return r?.ok_or(Fault::Corrupt { addr });
            }
            // A hint vouches for its frame's size: never keep one at a frame that failed.
            cursor.hint = None;
            if searched {
                return r?.ok_or(Fault::Corrupt { addr });
            }
            cursor.walk = None;
            searched = true;
        }
    }

    /// Checks the cursor against the log: `None` at the next offset, else the first readable
    /// offset. Drops what the cursor cached in another epoch.
    fn cursor_start(&self, cursor: &mut ReadCursor) -> Result<Option<u64>> {
        if cursor.epoch != self.epoch {
            cursor.walk = None;
            cursor.hint = None;
            cursor.epoch = self.epoch;
        }
        if cursor.offset.get() == self.next_offset() {
            return Ok(None);
        }
        Ok(Some(self.check_readable(cursor.offset.get())?))
    }

    /// The verified frame holding the cursor's record, positioned at it — the cached one, or
    /// the next one found from the cursor's hint — and the chunk it was verified through.
    fn cursor_frame<'c>(
        &mut self,
        cursor: &'c mut ReadCursor,
    ) -> Fallible<(&'c mut RecordWalk, &'c mut Window)> {
        let off = cursor.offset.get();
        // A truncated segment may hold records past its end: never read them.
        let cached = cursor
            .walk
            .is_some_and(|w| w.remaining > 0 && off < cursor.end.get());
        if !cached {
            let hint = cursor.hint.take();
            let (walk, end, hint) = self.locate(off, &mut cursor.chunk, hint)?;
            cursor.end = U64::new(end);
            cursor.hint = Some(hint);
            cursor.walk = Some(walk);
        }
        let ReadCursor { walk, chunk, .. } = cursor;
        // Just set, or checked above.
        let walk = walk.as_mut().ok_or(Fault::Corrupt { addr: 0 })?;
        Ok((walk, chunk))
    }
}

impl ReadCursor {
    /// Takes `hint` as its read hint, taken in `epoch` (a read by offset lends the log's own).
    pub(crate) fn adopt(&mut self, epoch: Epoch, hint: Option<ReadHint>) {
        self.epoch = epoch;
        self.hint = hint;
    }

    /// Gives its read hint back.
    pub(crate) fn take_hint(&mut self) -> Option<ReadHint> {
        self.hint.take()
    }

    /// Moves past the record just read; returns its offset.
    fn advance(&mut self) -> u64 {
        let off = self.offset.get();
        self.offset = U64::new(off + 1);
        off
    }
}

/// A position in the log that yields records in offset order, borrowing the log: a
/// [`ReadCursor`] with its log at hand.
///
/// The core has no heap, so records are copied into a buffer the caller supplies:
/// ```
/// # use tidelog::{Log, Config, RamStorage};
/// # let mut mem = [0xFFu8; 4096];
/// # let mut log: Log<_> = Log::format(RamStorage::new(&mut mem, 4, 1024).unwrap(), Config::new()).unwrap();
/// # log.append(b"hello").unwrap();
/// let mut it = log.iter(0)?;
/// let mut buf = [0u8; 64];
/// while let Some((offset, len)) = it.next_into(&mut buf)? {
///     println!("{offset}: {:?}", &buf[..len]);
/// }
/// # Ok::<(), tidelog::Error>(())
/// ```
pub struct Iter<'a, S: Storage, const C: usize, P: Policy = FromConfig> {
    log: &'a mut Log<S, C, P>,
    cursor: ReadCursor,
    /// An error ended the iteration (`Iterator` only).
    #[cfg(feature = "alloc")]
    failed: bool,
}

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// Iterates over the records from `from` to the end. See [`Iter`]; errors as
    /// [`cursor`](Self::cursor).
    pub fn iter(&mut self, from: u64) -> Result<Iter<'_, S, C, P>> {
        let cursor = self.cursor(from)?;
        Ok(Iter {
            log: self,
            cursor,
            #[cfg(feature = "alloc")]
            failed: false,
        })
    }
}

impl<S: Storage, const C: usize, P: Policy> Iter<'_, S, C, P> {
    /// Offset of the record the next call returns.
    pub fn offset(&self) -> u64 {
        self.cursor.offset()
    }

    /// Copies the next record into `buf`: `Ok(Some((offset, len)))`, or `Ok(None)` at the end
    /// of the log. On [`Error::BufferTooSmall`](crate::Error::BufferTooSmall) nothing is consumed, so the call can be retried
    /// with a larger buffer. On [`Error::Corrupt`](crate::Error::Corrupt) the iterator stays at that record.
    pub fn next_into(&mut self, buf: &mut [u8]) -> Result<Option<(u64, usize)>> {
        self.log.read_next(&mut self.cursor, buf)
    }

    /// The cursor, to go on reading after the borrow ends.
    pub fn into_cursor(self) -> ReadCursor {
        self.cursor
    }
}

#[cfg(feature = "alloc")]
impl<S: Storage, const C: usize, P: Policy> Iterator for Iter<'_, S, C, P> {
    type Item = Result<(u64, alloc::vec::Vec<u8>)>;

    /// Yields owned records (feature `alloc`). Stops after the first error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.log.read_next_vec(&mut self.cursor) {
            Ok(r) => r.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
