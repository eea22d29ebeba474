//! [`PageStorage`]: a storage held in memory as fixed-size pages that tracks which pages
//! changed, for a binding that persists pages itself (feature `alloc`).
//!
//! The browser keeps a log in IndexedDB, which stores values, not a block device: the binding
//! holds the image in memory and, at a commit point (`flush`), writes the pages that changed
//! since the last commit in one atomic transaction. This module owns the in-memory side of
//! that contract:
//!
//! * pages of `page_size` bytes (a power of two, 256 B..=1 MiB; the last page may be short);
//!   a page that reads fully erased (`0xFF`) is not materialised, so an empty 4 MiB log costs
//!   a few pages of RAM, not 4 MiB;
//! * a dirty set: every page a program or an erase changed since it was last persisted, each
//!   with a change stamp. [`PageStorage::flush_set`] hands the binding a snapshot of the dirty
//!   pages (their bytes, or "erased" for a page to delete); once the binding's transaction
//!   committed, [`PageStorage::persisted`] clears the marks of the pages that did not change
//!   again in the meantime (an append while the transaction was in flight stays dirty);
//! * loading: [`PageStorage::from_pages`] rebuilds the image from the persisted pages.
//!
//! Bookkeeping is two vectors indexed by page (a slot and a change stamp per page: 24 bytes per
//! page, 6 KiB for a 1 MiB image of 4 KiB pages), not maps: no search and no allocation per
//! access (but a page's first), and in the `.wasm` no B-tree code for these key types; the
//! counts (held pages, dirty pages) are counted from them when asked, not kept beside them.
//!
//! The write orders of FORMAT.md §1.1 hold trivially: a commit persists a whole snapshot of the
//! image atomically, so what survives a crash is exactly the image as it was at the last
//! completed commit — a state the log passed through, which mounts like any image after a
//! power cut between two operations (tested in `core/tests/page_storage.rs`, including a
//! commit at every storage call inside an operation). `fence` and `sync` change nothing here:
//! the binding's flush is the durability barrier.

use super::{check_bounds, check_erase, check_program, validate_geometry, Storage};
use crate::error::{Error, StorageError};
use alloc::boxed::Box;
use alloc::vec::Vec;

/// The page size a binding uses unless it has a reason not to (4 KiB: IndexedDB stores values
/// of this size cheaply, and a 100-byte append dirties one page).
pub const DEFAULT_PAGE_SIZE: usize = 4096;
/// Smallest page size.
pub const MIN_PAGE_SIZE: usize = 256;
/// Largest page size.
pub const MAX_PAGE_SIZE: usize = 1 << 20;

/// A [`Storage`] over pages in memory with a dirty set (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct PageStorage {
    /// Page index -> its bytes, `None` while fully erased.
    pages: Vec<Option<Box<[u8]>>>,
    /// Page index -> the stamp of its last change not yet persisted (0: clean).
    dirty: Vec<u64>,
    stamp: u64,
    page_size: usize,
    write_size: usize,
    erase_size: usize,
    capacity: usize,
}

/// A snapshot of the dirty pages, to persist in one transaction ([`PageStorage::flush_set`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFlush {
    /// Page index and its bytes, or `None` for a page that is now fully erased (delete it from
    /// the persisted set). Ascending page index.
    pub pages: Vec<(u32, Option<Vec<u8>>)>,
    stamps: Vec<(u32, u64)>,
}

impl PageFlush {
    /// True when nothing changed since the last commit.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}

fn check_page_size(page_size: usize, write_size: usize) -> Result<(), Error> {
    if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size)
        || !page_size.is_power_of_two()
        || page_size < write_size
    {
        return Err(Error::InvalidArgument(
            "page size must be a power of two, 256 B..=1 MiB, at least the write size",
        ));
    }
    Ok(())
}

impl PageStorage {
    /// An erased storage (no page materialised) of the given geometry
    /// ([`validate_geometry`]) and page size.
    pub fn new(
        capacity: usize,
        write_size: usize,
        erase_size: usize,
        page_size: usize,
    ) -> Result<Self, Error> {
        validate_geometry(1, write_size, erase_size, capacity)?;
        check_page_size(page_size, write_size)?;
        let count = capacity.div_ceil(page_size);
        Ok(PageStorage {
            pages: (0..count).map(|_| None).collect(),
            dirty: alloc::vec![0; count],
            stamp: 0,
            page_size,
            write_size,
            erase_size,
            capacity,
        })
    }

    /// Rebuilds a storage from persisted pages (as a binding loads them back); nothing is
    /// dirty afterwards. Pages not given read erased.
    ///
    /// Errors: those of [`new`](Self::new); [`Error::InvalidArgument`] for a page index past
    /// the capacity, a page given twice, or a page of the wrong length (the persisted set
    /// does not belong to this geometry).
    pub fn from_pages<I: IntoIterator<Item = (u32, Vec<u8>)>>(
        capacity: usize,
        write_size: usize,
        erase_size: usize,
        page_size: usize,
        pages: I,
    ) -> Result<Self, Error> {
        let mut s = Self::new(capacity, write_size, erase_size, page_size)?;
        for (index, bytes) in pages {
            if (index as usize) >= s.page_count() {
                return Err(Error::InvalidArgument("persisted page past the capacity"));
            }
            if bytes.len() != s.page_len(index) {
                return Err(Error::InvalidArgument("persisted page of the wrong length"));
            }
            let slot = &mut s.pages[index as usize];
            if slot.is_some() {
                return Err(Error::InvalidArgument("persisted page given twice"));
            }
            if bytes.iter().any(|&b| b != 0xFF) {
                *slot = Some(bytes.into_boxed_slice());
            }
        }
        Ok(s)
    }

    /// A storage holding the bytes of an image (its length is the capacity), every
    /// materialised page dirty: the first commit persists the whole image.
    ///
    /// Errors: those of [`new`](Self::new).
    pub fn from_image(
        image: &[u8],
        write_size: usize,
        erase_size: usize,
        page_size: usize,
    ) -> Result<Self, Error> {
        let mut s = Self::new(image.len(), write_size, erase_size, page_size)?;
        for index in 0..s.page_count() as u32 {
            let start = index as usize * page_size;
            let bytes = &image[start..start + s.page_len(index)];
            if bytes.iter().any(|&b| b != 0xFF) {
                s.pages[index as usize] = Some(bytes.into());
                s.touch(index as usize);
            }
        }
        Ok(s)
    }

    /// Page size in bytes.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Number of pages covering the capacity (the last one may be short).
    pub fn page_count(&self) -> usize {
        self.capacity.div_ceil(self.page_size)
    }

    /// Length of page `index` (the page size, less for a short last page).
    pub fn page_len(&self, index: u32) -> usize {
        page_len(self.capacity, self.page_size, index as usize)
    }

    /// Pages held in memory (those not fully erased).
    pub fn materialised(&self) -> usize {
        self.pages.iter().filter(|p| p.is_some()).count()
    }

    /// Pages changed since they were last persisted.
    pub fn dirty_count(&self) -> usize {
        self.dirty.iter().filter(|&&stamp| stamp != 0).count()
    }

    /// The materialised pages, ascending (what a full persist writes).
    pub fn pages(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.pages
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_deref().map(|p| (i as u32, p)))
    }

    /// A snapshot of the dirty pages to persist. It does not clear them: call
    /// [`persisted`](Self::persisted) with it once the transaction committed, and nothing
    /// (the next flush retries) when it failed.
    pub fn flush_set(&self) -> PageFlush {
        let mut pages = Vec::new();
        let mut stamps = Vec::new();
        for (index, &stamp) in self.dirty.iter().enumerate() {
            if stamp != 0 {
                pages.push((
                    index as u32,
                    self.pages[index].as_deref().map(<[u8]>::to_vec),
                ));
                stamps.push((index as u32, stamp));
            }
        }
        PageFlush { pages, stamps }
    }

    /// Marks the pages of a committed snapshot clean, except those changed after it was taken.
    pub fn persisted(&mut self, flush: &PageFlush) {
        for &(index, stamp) in &flush.stamps {
            if let Some(d) = self.dirty.get_mut(index as usize) {
                if *d == stamp {
                    *d = 0;
                }
            }
        }
    }

    /// The whole image (`capacity` bytes, erased pages as `0xFF`).
    pub fn export_image(&self) -> Vec<u8> {
        let mut out = alloc::vec![0xFF; self.capacity];
        for (index, page) in self.pages() {
            let start = index as usize * self.page_size;
            out[start..start + page.len()].copy_from_slice(page);
        }
        out
    }

    fn touch(&mut self, index: usize) {
        self.stamp += 1;
        self.dirty[index] = self.stamp;
    }
}

/// Length of page `index` of a storage of `capacity` bytes (the last one may be short).
fn page_len(capacity: usize, page_size: usize, index: usize) -> usize {
    page_size.min(capacity.saturating_sub(index * page_size))
}

/// The pieces of `addr..addr + len` page by page: `(page index, offset in the page, range in
/// the request)`. It borrows nothing, so the caller may change the pages as it goes.
fn spans(
    page_size: usize,
    addr: u32,
    len: usize,
) -> impl Iterator<Item = (usize, usize, core::ops::Range<usize>)> {
    let mut done = 0;
    core::iter::from_fn(move || {
        (done < len).then(|| {
            let a = addr as usize + done;
            let n = (page_size - a % page_size).min(len - done);
            let span = (a / page_size, a % page_size, done..done + n);
            done += n;
            span
        })
    })
}

impl Storage for PageStorage {
    fn read_size(&self) -> usize {
        1
    }
    fn write_size(&self) -> usize {
        self.write_size
    }
    fn erase_size(&self) -> usize {
        self.erase_size
    }
    fn capacity(&self) -> usize {
        self.capacity
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        check_bounds(addr, buf.len(), self.capacity)?;
        for (index, at, r) in spans(self.page_size, addr, buf.len()) {
            let n = r.len();
            match &self.pages[index] {
                Some(p) => buf[r].copy_from_slice(&p[at..at + n]),
                None => buf[r].fill(0xFF),
            }
        }
        Ok(())
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        check_program(addr, bytes.len(), self.write_size, self.capacity)?;
        for (index, at, r) in spans(self.page_size, addr, bytes.len()) {
            let len = page_len(self.capacity, self.page_size, index);
            let slot = &mut self.pages[index];
            let page = slot.get_or_insert_with(|| alloc::vec![0xFF; len].into_boxed_slice());
            let mut changed = false;
            for (m, b) in page[at..at + r.len()].iter_mut().zip(&bytes[r]) {
                let v = *m & *b;
                changed |= v != *m;
                *m = v;
            }
            if changed {
                self.touch(index);
            } else if page.iter().all(|&b| b == 0xFF) {
                // 0xFF programmed into an erased page: nothing to hold.
                *slot = None;
            }
        }
        Ok(())
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        check_erase(from, to, self.erase_size, self.capacity)?;
        for (index, at, r) in spans(self.page_size, from, (to - from) as usize) {
            let slot = &mut self.pages[index];
            let Some(page) = slot.as_deref_mut() else {
                continue; // already erased
            };
            page[at..at + r.len()].fill(0xFF);
            if page.iter().all(|&b| b == 0xFF) {
                *slot = None;
            }
            self.touch(index);
        }
        Ok(())
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}
