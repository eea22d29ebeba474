//! [`SimNorFlash`]: the flash simulator as an `embedded-storage` NOR flash driver, so that the
//! firmware path — [`NorFlashStorage`](crate::NorFlashStorage) over a `NorFlash` driver — runs
//! under the same power cuts and write-once checks as the core (`tests/nor_power_cut.rs`).
//!
//! `NorFlash` carries the geometry in associated constants, so the write unit and the sector
//! are const generics here; [`SimNorFlash::new`] refuses a [`SimFlash`] of another geometry.
//! (The benchmarks' `bench/src/nor.rs` wraps the simulator for `embedded-storage-async`, the
//! trait the peer crate is written against; this is the blocking trait firmware drivers
//! implement.)

use core::fmt;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

use super::sim::SimFlash;
use super::Storage;
use crate::error::StorageError;

/// A [`SimFlash`] with program unit `WRITE` and sector `ERASE` bytes, as a `NorFlash` driver
/// (read size 1, like the simulator).
#[derive(Debug)]
pub struct SimNorFlash<const WRITE: usize, const ERASE: usize>(SimFlash);

/// A [`SimFlash`] error as a NOR flash error; [`SimNorError::storage`] keeps the simulator's
/// own (a power loss included), which `NorFlashErrorKind` cannot say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimNorError(pub StorageError);

impl SimNorError {
    /// The simulator's error.
    pub fn storage(&self) -> StorageError {
        self.0
    }
}

impl fmt::Display for SimNorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimFlash: {}", self.0)
    }
}

impl NorFlashError for SimNorError {
    fn kind(&self) -> NorFlashErrorKind {
        match self.0 {
            StorageError::NotAligned => NorFlashErrorKind::NotAligned,
            StorageError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            _ => NorFlashErrorKind::Other,
        }
    }
}

impl<const WRITE: usize, const ERASE: usize> SimNorFlash<WRITE, ERASE> {
    /// Wraps `sim`; `None` when its write unit or sector is not `WRITE` / `ERASE`.
    pub fn new(sim: SimFlash) -> Option<Self> {
        (sim.write_size() == WRITE && sim.erase_size() == ERASE).then_some(SimNorFlash(sim))
    }

    /// The simulator (to arm a power cut, power-cycle it, read its counters).
    pub fn sim(&mut self) -> &mut SimFlash {
        &mut self.0
    }

    /// Gives the simulator back.
    pub fn into_inner(self) -> SimFlash {
        self.0
    }
}

impl<const WRITE: usize, const ERASE: usize> ErrorType for SimNorFlash<WRITE, ERASE> {
    type Error = SimNorError;
}

impl<const WRITE: usize, const ERASE: usize> ReadNorFlash for SimNorFlash<WRITE, ERASE> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), SimNorError> {
        self.0.read(offset, bytes).map_err(SimNorError)
    }

    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl<const WRITE: usize, const ERASE: usize> NorFlash for SimNorFlash<WRITE, ERASE> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), SimNorError> {
        self.0.erase(from, to).map_err(SimNorError)
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), SimNorError> {
        self.0.program(offset, bytes).map_err(SimNorError)
    }
}
