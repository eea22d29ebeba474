//! [`NorFlashStorage`]: a zero-cost adapter from any `embedded_storage::nor_flash::NorFlash`
//! driver to tidelog's [`Storage`].

use super::Storage;
use crate::error::StorageError;
use embedded_storage::nor_flash::{NorFlash, NorFlashError, NorFlashErrorKind};

/// Wraps a `NorFlash` driver. Geometry comes from the driver's associated constants; the
/// capacity from `ReadNorFlash::capacity`.
#[derive(Debug)]
pub struct NorFlashStorage<F>(pub F);

impl<F: NorFlash> NorFlashStorage<F> {
    /// Wraps `flash`.
    pub fn new(flash: F) -> Self {
        NorFlashStorage(flash)
    }
    /// Gives the driver back.
    pub fn into_inner(self) -> F {
        self.0
    }
}

fn map_err<E: NorFlashError>(e: E) -> StorageError {
    match e.kind() {
        NorFlashErrorKind::NotAligned => StorageError::NotAligned,
        NorFlashErrorKind::OutOfBounds => StorageError::OutOfBounds,
        _ => StorageError::Device(-1),
    }
}

impl<F: NorFlash> Storage for NorFlashStorage<F> {
    fn read_size(&self) -> usize {
        F::READ_SIZE
    }
    fn write_size(&self) -> usize {
        F::WRITE_SIZE
    }
    fn erase_size(&self) -> usize {
        F::ERASE_SIZE
    }
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        self.0.read(addr, buf).map_err(map_err)
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        self.0.write(addr, bytes).map_err(map_err)
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        self.0.erase(from, to).map_err(map_err)
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}
