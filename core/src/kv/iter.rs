//! [`KvIter`]: iteration over the live entries of a [`Kv`].

use super::io::{self, Entry, EntryWalk, KeyBuf};
use super::{journal, Kv, KvIndex};
use crate::error::{Error, Result};
use crate::storage::Storage;

/// Where the iterator is.
#[derive(Clone)]
struct Cursor {
    /// `MapIndex`: the last key returned.
    last: Option<KeyBuf>,
    /// [`ScanIndex`](super::ScanIndex): the frame being walked, its size and the walk.
    frame: u32,
    size: u32,
    walk: Option<EntryWalk>,
}

/// An iterator over the live entries of a [`Kv`], from [`Kv::iter`].
///
/// Order: ascending keys with `MapIndex`; with
/// [`ScanIndex`](super::ScanIndex), the order in which the entries were last written (journal
/// order). Every returned byte comes from a frame whose CRC was checked.
///
/// It borrows the KV, so the map cannot change while it runs.
pub struct KvIter<'a, S: Storage, I: KvIndex> {
    kv: &'a mut Kv<S, I>,
    cur: Cursor,
    end: u32,
}

impl<'a, S: Storage, I: KvIndex> KvIter<'a, S, I> {
    pub(crate) fn new(kv: &'a mut Kv<S, I>) -> Result<Self> {
        let from = kv.base(kv.active) + kv.geo.ds;
        let end = kv.journal_end();
        if !I::INDEXED {
            journal::verify_journal(&mut kv.storage, &kv.geo, from, end)?;
        }
        Ok(KvIter {
            kv,
            cur: Cursor {
                last: None,
                frame: from,
                size: 0,
                walk: None,
            },
            end,
        })
    }

    /// Advances to the next live entry and returns where it is.
    fn advance(&mut self) -> Result<Option<Entry>> {
        let kv = &mut *self.kv;
        if I::INDEXED {
            let after = self.cur.last.as_ref().map(KeyBuf::as_slice);
            let Some(loc) = kv.index.next_after(after) else {
                return Ok(None);
            };
            let e = journal::read_entry(&mut kv.storage, &kv.geo, loc, self.end, None)?;
            self.cur.last = Some(KeyBuf::read(&mut kv.storage, &e)?);
            return Ok(Some(e));
        }
        loop {
            let walk = match &mut self.cur.walk {
                Some(w) => w,
                None => {
                    if self.cur.frame >= self.end {
                        return Ok(None);
                    }
                    let (body, size) =
                        io::frame_size_at(&mut kv.storage, kv.geo.ws as usize, self.cur.frame)?;
                    self.cur.size = size;
                    self.cur
                        .walk
                        .insert(EntryWalk::start(&mut kv.storage, self.cur.frame, body)?)
                }
            };
            match walk.next(&mut kv.storage, &kv.geo.limits)? {
                None => {
                    self.cur.frame += self.cur.size;
                    self.cur.walk = None;
                }
                Some(e) => {
                    let frame = self.cur.frame;
                    if journal::is_live(&mut kv.storage, &kv.geo, &kv.index, &e, frame, self.end)? {
                        return Ok(Some(e));
                    }
                }
            }
        }
    }

    /// Copies the next live entry's key and value into the buffers and returns their
    /// lengths, or `None` at the end.
    ///
    /// Errors: [`Error::BufferTooSmall`] when either buffer is too small (`needed` is the
    /// length that did not fit; the iterator does not advance), [`Error::Corrupt`], storage
    /// errors. A key never exceeds 255 bytes.
    pub fn next_into(
        &mut self,
        key: &mut [u8],
        value: &mut [u8],
    ) -> Result<Option<(usize, usize)>> {
        let saved = self.cur.clone();
        let Some(e) = self.advance()? else {
            return Ok(None);
        };
        let (k, v) = (e.key_len as usize, e.val_len as usize);
        if key.len() < k || value.len() < v {
            self.cur = saved;
            let needed = if key.len() < k { e.key_len } else { e.val_len };
            return Err(Error::BufferTooSmall { needed });
        }
        self.kv.storage.read(e.key_addr, &mut key[..k])?;
        self.kv.storage.read(e.val_addr, &mut value[..v])?;
        Ok(Some((k, v)))
    }

    /// The next live entry as `(key, value)` vectors, or `None` at the end (feature `alloc`).
    #[cfg(feature = "alloc")]
    #[allow(clippy::type_complexity)]
    pub fn next_vec(&mut self) -> Result<Option<(alloc::vec::Vec<u8>, alloc::vec::Vec<u8>)>> {
        let Some(e) = self.advance()? else {
            return Ok(None);
        };
        let mut k = alloc::vec![0u8; e.key_len as usize];
        let mut v = alloc::vec![0u8; e.val_len as usize];
        self.kv.storage.read(e.key_addr, &mut k)?;
        self.kv.storage.read(e.val_addr, &mut v)?;
        Ok(Some((k, v)))
    }
}
