//! [`SimFlash`] as an `embedded_storage_async` NOR flash, so sequential-storage runs on the very
//! simulator (and the very counters) tidelog runs on.
//!
//! * [`SimNor`] — the honest wrapper: `NorFlash` only. SimFlash refuses to program a write unit
//!   twice between erases (the write-once rule of ECC flash such as STM32H7's 32-byte units), so
//!   it does **not** implement `MultiwriteNorFlash`.
//! * [`SimNorMultiwrite`] — SimFlash plus an AND-overlay for units programmed a second time, so
//!   the peer's operations that need `MultiwriteNorFlash` (queue `pop`, map `remove_item`) can be
//!   measured. Every re-program is counted as a program of its size. This models plain NOR
//!   flash (which allows clearing more bits in a programmed word), not write-once flash.
//! * [`PretendMultiwrite`] — declares `MultiwriteNorFlash` over a flash that is really
//!   write-once: what happens when the peer's `pop` runs on STM32H7-class flash anyway.
//!
//! Why not the core's `SimNorFlash` (the same simulator as a blocking `embedded-storage`
//! `NorFlash`, which runs the firmware path under the power-cut tests): sequential-storage 8
//! takes `embedded-storage-async`'s traits, and two of the variants here model flash the core's
//! simulator refuses to be (multiwrite). tidelog itself runs on `SimFlash` through its own
//! `Storage` trait, which `NorFlashStorage` maps one to one, so the counts are the same.
//!
//! Geometry is in const generics because `NorFlash` carries it in associated constants:
//! `WRITE_SIZE` (program unit), `ERASE_SIZE` (sector) and `READ_SIZE` (read alignment, 1 by
//! default like SimFlash itself).

use core::fmt;

use embedded_storage_async::nor_flash::{
    ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use tidelog::{SimFlash, SimStats, Snapshot, Storage, StorageError};

/// A SimFlash error, as an `embedded-storage` NOR flash error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NorError(pub StorageError);

impl fmt::Display for NorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimFlash: {}", self.0)
    }
}

impl std::error::Error for NorError {}

impl NorFlashError for NorError {
    fn kind(&self) -> NorFlashErrorKind {
        match self.0 {
            StorageError::NotAligned => NorFlashErrorKind::NotAligned,
            StorageError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// The wrapper's geometry does not match the SimFlash it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeometryMismatch {
    /// What the const generics say: (read, write, erase).
    pub wanted: (usize, usize, usize),
    /// What the SimFlash has: (read, write, erase).
    pub found: (usize, usize, usize),
}

impl fmt::Display for GeometryMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "geometry (read, write, erase) {:?} does not match the SimFlash's {:?}",
            self.wanted, self.found
        )
    }
}

impl std::error::Error for GeometryMismatch {}

/// Checks the const-generic geometry against a SimFlash.
fn check_geometry(
    sim: &SimFlash,
    read: usize,
    write: usize,
    erase: usize,
) -> Result<(), GeometryMismatch> {
    let found = (1, sim.write_size(), sim.erase_size());
    // SimFlash reads at any alignment, so any READ_SIZE that divides the write unit (or is
    // divided by it, as the embedded-storage rules allow) works; the other two must match.
    let read_ok = read >= 1 && (write.is_multiple_of(read) || read.is_multiple_of(write));
    if !read_ok || write != found.1 || erase != found.2 {
        return Err(GeometryMismatch {
            wanted: (read, write, erase),
            found,
        });
    }
    Ok(())
}

/// SimFlash as an `embedded_storage_async::nor_flash::NorFlash` (write-once: no
/// `MultiwriteNorFlash`). See the [module docs](self).
///
/// Peer code that needs `MultiwriteNorFlash` does not compile against it — sequential-storage's
/// queue `pop`, for example:
///
/// ```compile_fail,E0277
/// use sequential_storage::cache::Cache;
/// use sequential_storage::queue::{QueueConfig, QueueStorage};
/// use tidelog::SimFlash;
/// use tidelog_bench::nor::SimNor;
///
/// let sim = SimFlash::new(32, 128 * 1024, 8 * 128 * 1024).unwrap();
/// let flash: SimNor<32, { 128 * 1024 }> = SimNor::new(sim).unwrap();
/// let mut q = QueueStorage::new(flash, QueueConfig::new(0..8 * 128 * 1024), Cache::new_uncached());
/// let mut buf = [0u8; 64];
/// // error[E0277]: the trait bound `SimNor<32, 131072>: MultiwriteNorFlash` is not satisfied
/// let _ = embassy_futures::block_on(q.pop(&mut buf));
/// ```
#[derive(Debug)]
pub struct SimNor<const WRITE_SIZE: usize, const ERASE_SIZE: usize, const READ_SIZE: usize = 1> {
    sim: SimFlash,
}

impl<const W: usize, const E: usize, const R: usize> SimNor<W, E, R> {
    /// Wraps `sim`, whose write unit and sector must be `W` and `E`.
    pub fn new(sim: SimFlash) -> Result<Self, GeometryMismatch> {
        check_geometry(&sim, R, W, E)?;
        Ok(SimNor { sim })
    }

    /// The simulator.
    pub fn sim(&self) -> &SimFlash {
        &self.sim
    }

    /// The simulator, mutably (snapshots, fault injection).
    pub fn sim_mut(&mut self) -> &mut SimFlash {
        &mut self.sim
    }

    /// Gives the simulator back.
    pub fn into_inner(self) -> SimFlash {
        self.sim
    }

    /// The simulator's traffic counters.
    pub fn stats(&self) -> SimStats {
        self.sim.stats()
    }
}

impl<const W: usize, const E: usize, const R: usize> ErrorType for SimNor<W, E, R> {
    type Error = NorError;
}

impl<const W: usize, const E: usize, const R: usize> ReadNorFlash for SimNor<W, E, R> {
    const READ_SIZE: usize = R;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorError> {
        if !(offset as usize).is_multiple_of(R) || !bytes.len().is_multiple_of(R) {
            return Err(NorError(StorageError::NotAligned));
        }
        self.sim.read(offset, bytes).map_err(NorError)
    }

    fn capacity(&self) -> usize {
        self.sim.capacity()
    }
}

impl<const W: usize, const E: usize, const R: usize> NorFlash for SimNor<W, E, R> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), NorError> {
        self.sim.erase(from, to).map_err(NorError)
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorError> {
        self.sim.program(offset, bytes).map_err(NorError)
    }
}

/// The physical state of a [`SimNorMultiwrite`]: the SimFlash snapshot and the overlay.
#[derive(Debug, Clone)]
pub struct MultiwriteSnapshot {
    sim: Snapshot,
    mask: Vec<u8>,
    sector_overlays: Vec<u32>,
}

/// SimFlash plus an AND-overlay so a unit can be programmed again (plain NOR flash semantics:
/// the result is the AND of the old and the new bytes). See the [module docs](self).
///
/// First programs of a unit go to SimFlash as usual; a program that touches units SimFlash
/// has already marked stores those units in the overlay instead, and reads AND the overlay in.
/// [`stats`](Self::stats) counts a re-program like any program (one call, its bytes), so the
/// counters mean the same as SimFlash's own.
#[derive(Debug)]
pub struct SimNorMultiwrite<
    const WRITE_SIZE: usize,
    const ERASE_SIZE: usize,
    const READ_SIZE: usize = 1,
> {
    sim: SimFlash,
    /// AND-mask over the whole device (0xFF where nothing was re-programmed).
    mask: Vec<u8>,
    /// Re-programmed units per sector, to skip the mask where there are none.
    sector_overlays: Vec<u32>,
    /// Programs (calls, bytes) served (partly) by the overlay.
    extra: (u64, u64),
    /// Programs (calls, bytes) SimFlash counted for the split parts of those calls.
    counted_twice: (u64, u64),
}

impl<const W: usize, const E: usize, const R: usize> SimNorMultiwrite<W, E, R> {
    /// Wraps `sim`, whose write unit and sector must be `W` and `E`.
    pub fn new(sim: SimFlash) -> Result<Self, GeometryMismatch> {
        check_geometry(&sim, R, W, E)?;
        let cap = sim.capacity();
        Ok(SimNorMultiwrite {
            sim,
            mask: vec![0xFF; cap],
            sector_overlays: vec![0; cap / E],
            extra: (0, 0),
            counted_twice: (0, 0),
        })
    }

    /// The simulator (its counters do not include re-programs; use [`stats`](Self::stats)).
    pub fn sim(&self) -> &SimFlash {
        &self.sim
    }

    /// Traffic counters: SimFlash's, with every re-program counted as one program call of its
    /// size.
    pub fn stats(&self) -> SimStats {
        let mut s = self.sim.stats();
        s.programs = s.programs + self.extra.0 - self.counted_twice.0;
        s.program_bytes = s.program_bytes + self.extra.1 - self.counted_twice.1;
        s
    }

    /// Saves the physical state (image, marks, overlay).
    pub fn snapshot(&self) -> MultiwriteSnapshot {
        MultiwriteSnapshot {
            sim: self.sim.snapshot(),
            mask: self.mask.clone(),
            sector_overlays: self.sector_overlays.clone(),
        }
    }

    /// Puts back a state saved by [`snapshot`](Self::snapshot). Counters are left alone.
    pub fn restore(&mut self, s: &MultiwriteSnapshot) {
        self.sim.restore(&s.sim);
        self.mask.copy_from_slice(&s.mask);
        self.sector_overlays.copy_from_slice(&s.sector_overlays);
    }

    fn program_overlay(&mut self, offset: u32, bytes: &[u8]) -> Result<(), StorageError> {
        let (a, len) = (offset as usize, bytes.len());
        if a + len > self.sim.capacity() || !a.is_multiple_of(W) || !len.is_multiple_of(W) {
            // Let SimFlash report the argument error (and count the call, as it does).
            return self.sim.program(offset, bytes);
        }
        let units = len / W;
        let marked = |s: &SimFlash, u: usize| s.is_programmed((a + u * W) as u32);
        if (0..units).all(|u| !marked(&self.sim, u)) {
            return self.sim.program(offset, bytes);
        }
        // Split into runs: fresh units go to SimFlash, programmed ones to the overlay.
        let mut u = 0;
        while u < units {
            let fresh = !marked(&self.sim, u);
            let start = u;
            while u < units && marked(&self.sim, u) != fresh {
                u += 1;
            }
            let (from, to) = (start * W, u * W);
            if fresh {
                self.sim.program((a + from) as u32, &bytes[from..to])?;
                self.counted_twice.0 += 1;
                self.counted_twice.1 += (to - from) as u64;
            } else {
                for (m, b) in self.mask[a + from..a + to].iter_mut().zip(&bytes[from..to]) {
                    *m &= *b;
                }
                for unit in start..u {
                    self.sector_overlays[(a + unit * W) / E] += 1;
                }
            }
        }
        self.extra.0 += 1;
        self.extra.1 += len as u64;
        Ok(())
    }

    fn erase_overlay(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        self.sim.erase(from, to)?;
        let (from, to) = (from as usize, to as usize);
        for s in from / E..to / E {
            if self.sector_overlays[s] != 0 {
                self.mask[s * E..(s + 1) * E].fill(0xFF);
                self.sector_overlays[s] = 0;
            }
        }
        Ok(())
    }

    fn read_overlay(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), StorageError> {
        self.sim.read(offset, bytes)?;
        if bytes.is_empty() {
            return Ok(());
        }
        let a = offset as usize;
        let (first, last) = (a / E, (a + bytes.len() - 1) / E);
        if (first..=last).any(|s| self.sector_overlays[s] != 0) {
            let len = bytes.len();
            for (b, m) in bytes.iter_mut().zip(&self.mask[a..a + len]) {
                *b &= *m;
            }
        }
        Ok(())
    }
}

impl<const W: usize, const E: usize, const R: usize> ErrorType for SimNorMultiwrite<W, E, R> {
    type Error = NorError;
}

impl<const W: usize, const E: usize, const R: usize> ReadNorFlash for SimNorMultiwrite<W, E, R> {
    const READ_SIZE: usize = R;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorError> {
        if !(offset as usize).is_multiple_of(R) || !bytes.len().is_multiple_of(R) {
            return Err(NorError(StorageError::NotAligned));
        }
        self.read_overlay(offset, bytes).map_err(NorError)
    }

    fn capacity(&self) -> usize {
        self.sim.capacity()
    }
}

impl<const W: usize, const E: usize, const R: usize> NorFlash for SimNorMultiwrite<W, E, R> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), NorError> {
        self.erase_overlay(from, to).map_err(NorError)
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorError> {
        self.program_overlay(offset, bytes).map_err(NorError)
    }
}

impl<const W: usize, const E: usize, const R: usize> MultiwriteNorFlash
    for SimNorMultiwrite<W, E, R>
{
}

/// Claims `MultiwriteNorFlash` for a flash that is really write-once, to show what the peer's
/// multiwrite-only operations do on such flash: SimFlash rejects the second program of a unit
/// with [`StorageError::WriteTwice`] (real ECC flash reports a programming error or corrupts the
/// word's ECC).
#[derive(Debug)]
pub struct PretendMultiwrite<F>(pub F);

impl<F: ErrorType> ErrorType for PretendMultiwrite<F> {
    type Error = F::Error;
}

impl<F: ReadNorFlash> ReadNorFlash for PretendMultiwrite<F> {
    const READ_SIZE: usize = F::READ_SIZE;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.0.read(offset, bytes).await
    }

    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

impl<F: NorFlash> NorFlash for PretendMultiwrite<F> {
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0.erase(from, to).await
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write(offset, bytes).await
    }
}

/// The lie: see the type docs.
impl<F: NorFlash> MultiwriteNorFlash for PretendMultiwrite<F> {}

#[cfg(test)]
mod tests {
    use super::*;
    use embassy_futures::block_on;

    #[test]
    fn write_once_is_enforced_and_multiwrite_ands() {
        let sim = SimFlash::new(4, 256, 1024).unwrap();
        let mut f: SimNor<4, 256> = SimNor::new(sim).unwrap();
        block_on(f.write(4, &[0xF0; 4])).unwrap();
        assert_eq!(
            block_on(f.write(4, &[0x0F; 4])),
            Err(NorError(StorageError::WriteTwice))
        );
        assert!(SimNor::<8, 256>::new(SimFlash::new(4, 256, 1024).unwrap()).is_err());

        let sim = SimFlash::new(4, 256, 1024).unwrap();
        let mut f: SimNorMultiwrite<4, 256> = SimNorMultiwrite::new(sim).unwrap();
        block_on(f.write(4, &[0xF0; 4])).unwrap();
        block_on(f.write(
            0,
            &[0xAA, 0xAA, 0xAA, 0xAA, 0x3C, 0x3C, 0x3C, 0x3C, 1, 2, 3, 4],
        ))
        .unwrap();
        let mut buf = [0u8; 12];
        block_on(f.read(0, &mut buf)).unwrap();
        assert_eq!(
            buf,
            [0xAA, 0xAA, 0xAA, 0xAA, 0x30, 0x30, 0x30, 0x30, 1, 2, 3, 4]
        );
        let s = f.stats();
        assert_eq!((s.programs, s.program_bytes), (2, 16));
        block_on(f.erase(0, 256)).unwrap();
        block_on(f.read(0, &mut buf)).unwrap();
        assert_eq!(buf, [0xFF; 12]);
    }
}
