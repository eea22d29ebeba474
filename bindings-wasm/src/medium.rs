//! [`Medium`]: the one storage type every log and KV of this module runs on — the core's
//! `PageStorage` (persisted by `js/idb.js`, or an image opened writable) or a read-only image —
//! and how one is made: erased, from persisted pages, from an image.
//!
//! One type, not two: the core is generic over its storage, and each storage type would
//! compile the whole log and KV once more into the `.wasm` (measured: 72.3 KB gzip with a log
//! and a KV for each of the two storages, 66.1 KB with this enum). Dispatching on an enum per
//! storage call costs a branch where the log already does a copy.

use crate::args;
use js_sys::{Array, Uint8Array};
use tidelog::image::{probe_geometry, ImageKind};
use tidelog::{Error, PageFlush, PageStorage, ReadOnly, Storage, StorageError, VecStorage};
use wasm_bindgen::JsCast;

/// The storage of a log or KV of this module.
pub enum Medium {
    /// Pages in memory with a dirty set.
    Pages(PageStorage),
    /// An image that is never written.
    Image(ReadOnly<VecStorage>),
}

/// What an image opened with `fromImage` must hold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Log,
    Kv,
}

macro_rules! each {
    ($self:expr, |$s:ident| $body:expr) => {
        match $self {
            Medium::Pages($s) => $body,
            Medium::Image($s) => $body,
        }
    };
}

impl Medium {
    /// An erased page storage of `capacity` bytes (a JS number) with the given geometry.
    pub fn erased(
        capacity: f64,
        write_size: u32,
        erase_size: u32,
        page_size: u32,
    ) -> Result<Self, Error> {
        let storage = PageStorage::new(
            args::capacity(capacity)?,
            write_size as usize,
            erase_size as usize,
            page_size as usize,
        )?;
        Ok(Medium::Pages(storage))
    }

    /// A page storage rebuilt from persisted pages: `indices[i]` holds `pages[i]`.
    pub fn load(
        capacity: f64,
        write_size: u32,
        erase_size: u32,
        page_size: u32,
        indices: &[u32],
        pages: &Array,
    ) -> Result<Self, Error> {
        if indices.len() != pages.length() as usize {
            return Err(Error::InvalidArgument("one persisted page per index"));
        }
        let mut list = Vec::with_capacity(indices.len());
        for (i, &index) in indices.iter().enumerate() {
            let page = pages
                .get(i as u32)
                .dyn_into::<Uint8Array>()
                .map_err(|_| Error::InvalidArgument("a persisted page is not a Uint8Array"))?;
            list.push((index, page.to_vec()));
        }
        let storage = PageStorage::from_pages(
            args::capacity(capacity)?,
            write_size as usize,
            erase_size as usize,
            page_size as usize,
            list,
        )?;
        Ok(Medium::Pages(storage))
    }

    /// The image's bytes, geometry read from the image (once): read-only — a mount never
    /// changes a byte of it — or, with `writable`, a page storage holding a copy.
    /// `InvalidArgument` when it holds the other kind of thing than `holds`.
    pub fn from_image(
        mut image: Vec<u8>,
        holds: Holds,
        writable: bool,
        page_size: u32,
    ) -> Result<Self, Error> {
        let g = probe_geometry(&image)?;
        match (holds, g.kind) {
            (Holds::Log, ImageKind::Kv(_)) => {
                return Err(Error::InvalidArgument(
                    "the image holds a KV journal, not a log: open it with Kv.fromImage",
                ))
            }
            (Holds::Kv, ImageKind::Log(_)) => {
                return Err(Error::InvalidArgument(
                    "the image holds a log, not a KV journal: open it with Log.fromImage",
                ))
            }
            _ => {}
        }
        image.truncate(g.capacity);
        Ok(if writable {
            Medium::Pages(PageStorage::from_image(
                &image,
                g.write_size,
                g.erase_size,
                page_size as usize,
            )?)
        } else {
            Medium::Image(ReadOnly::new(VecStorage::from_vec(
                image,
                g.write_size,
                g.erase_size,
            )?))
        })
    }

    fn pages(&self) -> Result<&PageStorage, Error> {
        match self {
            Medium::Pages(p) => Ok(p),
            Medium::Image(_) => Err(Error::Storage(StorageError::ReadOnly)),
        }
    }

    /// The dirty pages to persist (`StorageError::ReadOnly` for an image).
    pub fn flush_set(&self) -> Result<PageFlush, Error> {
        self.pages().map(PageStorage::flush_set)
    }

    /// Marks a committed flush set's pages clean (those not changed again since).
    pub fn persisted(&mut self, flush: &PageFlush) -> Result<(), Error> {
        match self {
            Medium::Pages(p) => {
                p.persisted(flush);
                Ok(())
            }
            Medium::Image(_) => Err(Error::Storage(StorageError::ReadOnly)),
        }
    }

    /// Pages changed since the last persisted flush (none for an image).
    pub fn dirty_count(&self) -> usize {
        self.pages().map_or(0, PageStorage::dirty_count)
    }

    /// The whole image.
    pub fn export_image(&self) -> Vec<u8> {
        match self {
            Medium::Pages(p) => p.export_image(),
            Medium::Image(i) => i.inner().as_slice().to_vec(),
        }
    }
}

impl Storage for Medium {
    fn read_size(&self) -> usize {
        each!(self, |s| s.read_size())
    }
    fn write_size(&self) -> usize {
        each!(self, |s| s.write_size())
    }
    fn erase_size(&self) -> usize {
        each!(self, |s| s.erase_size())
    }
    fn capacity(&self) -> usize {
        each!(self, |s| s.capacity())
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        each!(self, |s| s.read(addr, buf))
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        each!(self, |s| s.program(addr, bytes))
    }
    fn program_index(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        each!(self, |s| s.program_index(addr, bytes))
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        each!(self, |s| s.erase(from, to))
    }
    fn fence(&mut self) -> Result<(), StorageError> {
        each!(self, |s| s.fence())
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        each!(self, |s| s.sync())
    }
    fn is_read_only(&self) -> bool {
        each!(self, |s| s.is_read_only())
    }
}
