//! [`Medium`]: the one storage type every log and KV of this module runs on — the core's
//! `PageStorage` (persisted by `js/idb.js`, or an image opened writable) or a read-only image.
//!
//! One type, not two: the core is generic over its storage, and each storage type would
//! compile the whole log and KV once more into the `.wasm` (measured: 72.3 KB gzip with a log
//! and a KV for each of the two storages). Dispatching on an enum per storage call costs a
//! branch where the log already does a copy.

use tidelog::{Error, PageStorage, ReadOnly, Storage, StorageError, VecStorage};

/// The storage of a log or KV of this module.
pub enum Medium {
    /// Pages in memory with a dirty set.
    Pages(PageStorage),
    /// An image that is never written.
    Image(ReadOnly<VecStorage>),
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
    /// The page storage, or `StorageError::ReadOnly` for an image.
    pub fn pages(&self) -> Result<&PageStorage, Error> {
        match self {
            Medium::Pages(p) => Ok(p),
            Medium::Image(_) => Err(Error::Storage(StorageError::ReadOnly)),
        }
    }

    /// The page storage, mutably, or `StorageError::ReadOnly` for an image.
    pub fn pages_mut(&mut self) -> Result<&mut PageStorage, Error> {
        match self {
            Medium::Pages(p) => Ok(p),
            Medium::Image(_) => Err(Error::Storage(StorageError::ReadOnly)),
        }
    }

    /// Pages changed since the last persisted flush (none for an image).
    pub fn dirty_count(&self) -> usize {
        match self {
            Medium::Pages(p) => p.dirty_count(),
            Medium::Image(_) => 0,
        }
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
