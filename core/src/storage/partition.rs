//! [`Partition`]: a sector-aligned sub-range of another storage, presented as a storage of its
//! own, so one device can hold a log, a KV journal and anything else side by side.

use super::{check_bounds, validate_geometry, Storage};
use crate::error::{ConfigError, Error, StorageError};

/// A view of `len` bytes of `inner` starting at `start` (both multiples of the erase sector).
/// Addresses passed to the partition are relative to `start`.
#[derive(Debug)]
pub struct Partition<S> {
    inner: S,
    start: u32,
    len: usize,
}

impl<S: Storage> Partition<S> {
    /// Creates the view. `start` and `len` must be multiples of `inner.erase_size()` and lie
    /// inside `inner`; otherwise [`Error::InvalidConfig`].
    pub fn new(inner: S, start: u32, len: usize) -> Result<Self, Error> {
        let es = inner.erase_size();
        if !(start as usize).is_multiple_of(es) || !len.is_multiple_of(es) {
            return Err(ConfigError::PartitionAlignment.into());
        }
        if start as u64 + len as u64 > inner.capacity() as u64 {
            return Err(ConfigError::PartitionOutOfRange.into());
        }
        validate_geometry(inner.read_size(), inner.write_size(), es, len)?;
        Ok(Partition { inner, start, len })
    }

    /// Gives the inner storage back.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The inner storage.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The inner storage, mutably.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<S: Storage> Storage for Partition<S> {
    fn read_size(&self) -> usize {
        self.inner.read_size()
    }
    fn write_size(&self) -> usize {
        self.inner.write_size()
    }
    fn erase_size(&self) -> usize {
        self.inner.erase_size()
    }
    fn capacity(&self) -> usize {
        self.len
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        check_bounds(addr, buf.len(), self.len)?;
        self.inner.read(self.start + addr, buf)
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        check_bounds(addr, bytes.len(), self.len)?;
        self.inner.program(self.start + addr, bytes)
    }
    fn program_index(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        check_bounds(addr, bytes.len(), self.len)?;
        self.inner.program_index(self.start + addr, bytes)
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        if from > to {
            return Err(StorageError::OutOfBounds);
        }
        check_bounds(from, (to - from) as usize, self.len)?;
        self.inner.erase(self.start + from, self.start + to)
    }
    fn fence(&mut self) -> Result<(), StorageError> {
        self.inner.fence()
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        self.inner.sync()
    }
    fn is_read_only(&self) -> bool {
        self.inner.is_read_only()
    }
}
