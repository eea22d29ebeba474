//! [`RamStorage`]: a log in a caller-provided byte slice (no allocation).
//!
//! Useful for RAM-backed logs (retained RAM across warm resets, tests, benches) and for
//! decoding an image that has been read into memory. It checks alignment and bounds but, unlike
//! [`SimFlash`](crate::SimFlash), does not police the write-once rule: a program simply ANDs
//! the bytes in, as NOR flash would.

use super::{check_bounds, check_erase, check_program, validate_geometry, Storage};
use crate::error::{Error, StorageError};

/// A [`Storage`] over `&mut [u8]` with a chosen write unit and erase sector.
#[derive(Debug)]
pub struct RamStorage<'a> {
    mem: &'a mut [u8],
    write_size: usize,
    erase_size: usize,
}

impl<'a> RamStorage<'a> {
    /// Wraps `mem` (its length is the capacity). The geometry is validated
    /// ([`validate_geometry`]). The contents are left as they are: to
    /// start from an erased medium, fill `mem` with `0xFF` (or let [`Log::format`](crate::Log::format)
    /// erase it).
    pub fn new(mem: &'a mut [u8], write_size: usize, erase_size: usize) -> Result<Self, Error> {
        validate_geometry(1, write_size, erase_size, mem.len())?;
        Ok(RamStorage {
            mem,
            write_size,
            erase_size,
        })
    }

    /// The underlying bytes (the image).
    pub fn as_slice(&self) -> &[u8] {
        self.mem
    }
}

impl Storage for RamStorage<'_> {
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
