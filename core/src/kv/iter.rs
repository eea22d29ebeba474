//! Iterating over the live entries of a [`Kv`]: [`KvCursor`], a resumable position that lives
//! apart from the KV (a binding's iterator object owns one), and [`KvIter`], a cursor that
//! borrows the KV.
//!
//! With `MapIndex` (feature `alloc`) a cursor is the last key it returned: each step asks the
//! index for the next live key after it and reads that entry back from its CRC-checked frame,
//! so a cursor stays meaningful across writes and compactions (it sees the map as it is at each
//! step, in ascending key order). With [`ScanIndex`](super::ScanIndex) a cursor walks the
//! journal, which a write or compaction changes under it: it is valid only while the KV is
//! unchanged, and a step after a change is refused with [`Error::InvalidArgument`].

use super::frames::{self, Entry, EntryWalk, KeyBuf};
use super::{journal, Kv, KvIndex};
use crate::epoch::Epoch;
use crate::error::{Error, Result};
use crate::storage::Storage;

/// A resumable position among the live entries of a [`Kv`], from [`Kv::cursor`]; read with
/// [`Kv::next_entry`]. With `MapIndex` it is the last key returned (each step sees the map as
/// it is then, in ascending key order, across writes and compactions); with
/// [`ScanIndex`](super::ScanIndex) it walks the journal and is valid only while the KV is
/// unchanged.
#[derive(Clone)]
pub struct KvCursor {
    /// `MapIndex`: the last key returned.
    last: Option<KeyBuf>,
    /// [`ScanIndex`](super::ScanIndex): the frame being walked, its size and the walk, and the
    /// journal end and KV epoch the walk belongs to.
    frame: u32,
    size: u32,
    walk: Option<EntryWalk>,
    end: u32,
    epoch: Epoch,
}

impl core::fmt::Debug for KvCursor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KvCursor").finish_non_exhaustive()
    }
}

impl<S: Storage, I: KvIndex> Kv<S, I> {
    /// A cursor before the first live entry. With [`ScanIndex`](super::ScanIndex) the whole
    /// journal is verified first ([`Error::Corrupt`] names a damaged frame); with `MapIndex`
    /// each entry's frame is verified as it is read.
    pub fn cursor(&mut self) -> Result<KvCursor> {
        let from = self.base(self.active) + self.geo.ds;
        let end = self.journal_end();
        if !I::INDEXED {
            journal::verify_journal(&mut self.storage, &self.geo, from, end)?;
        }
        Ok(KvCursor {
            last: None,
            frame: from,
            size: 0,
            walk: None,
            end,
            epoch: self.epoch,
        })
    }

    /// Advances `cur` to the next live entry and returns where it is.
    fn advance(&mut self, cur: &mut KvCursor) -> Result<Option<Entry>> {
        if I::INDEXED {
            let after = cur.last.as_ref().map(KeyBuf::as_slice);
            let Some(loc) = self.index.next_after(after) else {
                return Ok(None);
            };
            let end = self.journal_end();
            let e = journal::read_entry(&mut self.storage, &self.geo, loc, end, None)?;
            cur.last = Some(KeyBuf::read(&mut self.storage, &e)?);
            return Ok(Some(e));
        }
        if cur.epoch != self.epoch {
            return Err(Error::InvalidArgument(
                "the KV changed since the cursor was made (ScanIndex cursors see one state)",
            ));
        }
        loop {
            let walk = match &mut cur.walk {
                Some(w) => w,
                None => {
                    if cur.frame >= cur.end {
                        return Ok(None);
                    }
                    let (body, size) =
                        frames::frame_size_at(&mut self.storage, self.geo.ws as usize, cur.frame)?;
                    cur.size = size;
                    cur.walk
                        .insert(EntryWalk::start(&mut self.storage, cur.frame, body)?)
                }
            };
            match walk.next(&mut self.storage, &self.geo.limits)? {
                None => {
                    cur.frame += cur.size;
                    cur.walk = None;
                }
                Some(e) => {
                    let (frame, end) = (cur.frame, cur.end);
                    if journal::is_live(&mut self.storage, &self.geo, &self.index, &e, frame, end)?
                    {
                        return Ok(Some(e));
                    }
                }
            }
        }
    }

    /// Copies the next live entry's key and value into the buffers and returns their lengths,
    /// or `None` at the end.
    ///
    /// Errors: [`Error::BufferTooSmall`] when either buffer is too small (`needed` is the
    /// length that did not fit; the cursor does not move), [`Error::Corrupt`],
    /// [`Error::InvalidArgument`] for a [`ScanIndex`](super::ScanIndex) cursor after a write,
    /// storage errors. A key never exceeds 255 bytes.
    pub fn next_entry(
        &mut self,
        cur: &mut KvCursor,
        key: &mut [u8],
        value: &mut [u8],
    ) -> Result<Option<(usize, usize)>> {
        let saved = cur.clone();
        let Some(e) = self.advance(cur)? else {
            return Ok(None);
        };
        let (k, v) = (e.key_len as usize, e.val_len as usize);
        if key.len() < k || value.len() < v {
            *cur = saved;
            let needed = if key.len() < k { e.key_len } else { e.val_len };
            return Err(Error::BufferTooSmall { needed });
        }
        self.storage.read(e.key_addr, &mut key[..k])?;
        self.storage.read(e.val_addr, &mut value[..v])?;
        Ok(Some((k, v)))
    }

    /// The next live entry as `(key, value)` vectors, or `None` at the end (feature `alloc`).
    /// Errors as [`next_entry`](Self::next_entry), never [`Error::BufferTooSmall`].
    #[cfg(feature = "alloc")]
    #[allow(clippy::type_complexity)]
    pub fn next_entry_vec(
        &mut self,
        cur: &mut KvCursor,
    ) -> Result<Option<(alloc::vec::Vec<u8>, alloc::vec::Vec<u8>)>> {
        let Some(e) = self.advance(cur)? else {
            return Ok(None);
        };
        let mut k = alloc::vec![0u8; e.key_len as usize];
        let mut v = alloc::vec![0u8; e.val_len as usize];
        self.storage.read(e.key_addr, &mut k)?;
        self.storage.read(e.val_addr, &mut v)?;
        Ok(Some((k, v)))
    }
}

/// An iterator over the live entries of a [`Kv`], from [`Kv::iter`]: a [`KvCursor`] with the KV
/// at hand.
///
/// Order: ascending keys with `MapIndex`; with
/// [`ScanIndex`](super::ScanIndex), the order in which the entries were last written (journal
/// order). Every returned byte comes from a frame whose CRC was checked.
///
/// It borrows the KV, so the map cannot change while it runs.
pub struct KvIter<'a, S: Storage, I: KvIndex> {
    kv: &'a mut Kv<S, I>,
    cur: KvCursor,
}

impl<'a, S: Storage, I: KvIndex> KvIter<'a, S, I> {
    pub(crate) fn new(kv: &'a mut Kv<S, I>) -> Result<Self> {
        let cur = kv.cursor()?;
        Ok(KvIter { kv, cur })
    }

    /// Copies the next live entry's key and value into the buffers and returns their
    /// lengths, or `None` at the end (see [`Kv::next_entry`]).
    pub fn next_into(
        &mut self,
        key: &mut [u8],
        value: &mut [u8],
    ) -> Result<Option<(usize, usize)>> {
        self.kv.next_entry(&mut self.cur, key, value)
    }

    /// The next live entry as `(key, value)` vectors, or `None` at the end (feature `alloc`).
    #[cfg(feature = "alloc")]
    #[allow(clippy::type_complexity)]
    pub fn next_vec(&mut self) -> Result<Option<(alloc::vec::Vec<u8>, alloc::vec::Vec<u8>)>> {
        self.kv.next_entry_vec(&mut self.cur)
    }
}
