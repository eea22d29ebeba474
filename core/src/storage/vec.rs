//! [`VecStorage`]: an owned, heap-backed storage (feature `alloc`).
//!
//! [`RamStorage`](super::RamStorage) borrows its bytes, which suits firmware (a static buffer)
//! but not a binding, whose log object must own its medium without a lifetime: a Python
//! `Log` over a flash dump, a browser log's in-memory image. `VecStorage` owns a `Vec<u8>` and
//! otherwise behaves like `RamStorage`: alignment and bounds are checked, a program ANDs the
//! bytes in as NOR flash would, an erase fills with `0xFF`.

use super::{check_bounds, check_erase, check_program, validate_geometry, Storage};
use crate::error::{Error, StorageError};
use alloc::vec::Vec;

/// A [`Storage`] over an owned `Vec<u8>` (feature `alloc`): like [`RamStorage`](super::RamStorage),
/// but it owns its bytes, so a binding's log object can hold it without a lifetime.
#[derive(Debug, Clone)]
pub struct VecStorage {
    mem: Vec<u8>,
    write_size: usize,
    erase_size: usize,
}

impl VecStorage {
    /// An erased (`0xFF`) storage of `capacity` bytes with the given geometry
    /// ([`validate_geometry`]).
    pub fn new(capacity: usize, write_size: usize, erase_size: usize) -> Result<Self, Error> {
        validate_geometry(1, write_size, erase_size, capacity)?;
        Ok(VecStorage {
            mem: alloc::vec![0xFF; capacity],
            write_size,
            erase_size,
        })
    }

    /// Wraps the bytes of an image with the given geometry (its length is the capacity).
    pub fn from_vec(mem: Vec<u8>, write_size: usize, erase_size: usize) -> Result<Self, Error> {
        validate_geometry(1, write_size, erase_size, mem.len())?;
        Ok(VecStorage {
            mem,
            write_size,
            erase_size,
        })
    }

    /// Wraps the bytes of a log or KV image, with the geometry read from the image
    /// ([`probe_geometry`](crate::image::probe_geometry)); bytes past the last whole erase
    /// sector are dropped.
    ///
    /// Errors: those of [`probe_geometry`](crate::image::probe_geometry).
    pub fn from_image(mut mem: Vec<u8>) -> Result<Self, Error> {
        let g = crate::image::probe_geometry(&mem)?;
        mem.truncate(g.capacity);
        Self::from_vec(mem, g.write_size, g.erase_size)
    }

    /// The bytes (the image).
    pub fn as_slice(&self) -> &[u8] {
        &self.mem
    }

    /// Gives the bytes back.
    pub fn into_vec(self) -> Vec<u8> {
        self.mem
    }
}

impl Storage for VecStorage {
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
        self.mem.len()
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        check_bounds(addr, buf.len(), self.mem.len())?;
        let a = addr as usize;
        buf.copy_from_slice(&self.mem[a..a + buf.len()]);
        Ok(())
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        check_program(addr, bytes.len(), self.write_size, self.mem.len())?;
        let a = addr as usize;
        for (m, b) in self.mem[a..a + bytes.len()].iter_mut().zip(bytes) {
            *m &= *b;
        }
        Ok(())
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        check_erase(from, to, self.erase_size, self.mem.len())?;
        self.mem[from as usize..to as usize].fill(0xFF);
        Ok(())
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}
