//! The storage abstraction: the only way the core touches a medium.
//!
//! [`Storage`] is shaped after `embedded-storage`'s `NorFlash`, with the rules the log relies
//! on stated up front:
//!
//! * **Geometry.** `read_size` (read alignment, usually 1), `write_size` (program unit,
//!   1..=256 bytes, a power of two), `erase_size` (sector, 256 B..=256 KiB, a power of two and a
//!   multiple of `write_size`), `capacity` (a multiple of `erase_size`, at most 4 GiB minus one
//!   sector: every address, and the end of every erase range, fits in a `u32`).
//! * **Erased bytes read as `0xFF`.** A program can only clear bits.
//! * **Write-once.** tidelog never programs a write unit twice between erases, so it works on
//!   ECC flash (e.g. STM32H7, 32-byte units) that forbids re-programming.
//! * **Ordering.** Programs and erases take effect in the order issued; a program interrupted by
//!   power loss leaves a prefix of its bytes programmed (the unit being written may be partly
//!   programmed); an interrupted erase leaves the sectors before the current one erased and the
//!   current one in an undefined state. A unit that still reads fully erased after an
//!   interrupted program is treated as erased. A storage that may reorder writes on power loss
//!   (a file: the disk writes pages back in any order) must at least never let an erase take
//!   effect while a program issued before it is lost — the log erases a segment only once the
//!   state that lets it go is programmed; `FileStorage` syncs before it erases — nor let an
//!   erase reach any byte of its range before the range's first write unit (a header starts
//!   there: a segment must end up intact or invalid, never valid with holes). Nor may it let
//!   a program issued after a [`fence`](Storage::fence) take effect while one issued before it
//!   is lost: the log fences before the programs that vouch for earlier ones (a segment
//!   header, which names the offset its predecessor's frames end at; a reserve place's index
//!   slot, which leads a reader past the frames before it).
//! * **Durability.** `sync` is the durability barrier: a no-op on flash, `fsync` on a file, the
//!   commit point of a page cache.
//!
//! Implementations here: [`RamStorage`] (a `&mut [u8]`, no allocation), [`NorFlashStorage`] (a
//! zero-cost adapter over any `embedded_storage::nor_flash::NorFlash` driver), [`Partition`] (a
//! sub-range view so a log and other data can share one device), [`ReadOnly`] (a view that
//! never writes, for images), with feature `alloc` `VecStorage` (an owned `Vec<u8>`) and `PageStorage` (pages in memory
//! with a dirty set, for a binding that persists pages itself: the browser's IndexedDB), with
//! feature `file`
//! `FileStorage` (a file, with an exclusive-writer lock) and, with feature `sim`, `SimFlash`
//! (the fault-injecting simulator). (Plain names, not links: these docs also build without
//! the features.)

#[cfg(all(feature = "file", any(unix, windows)))]
pub mod file;
mod nor;
#[cfg(feature = "alloc")]
pub mod page;
mod partition;
mod ram;
mod read_only;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "sim")]
pub mod sim_nor;
#[cfg(feature = "alloc")]
mod vec;

#[cfg(all(feature = "file", any(unix, windows)))]
pub use file::{Durability, FileError, FileStorage};
pub use nor::NorFlashStorage;
#[cfg(feature = "alloc")]
pub use page::{PageFlush, PageStorage};
pub use partition::Partition;
pub use ram::RamStorage;
pub use read_only::ReadOnly;
#[cfg(feature = "alloc")]
pub use vec::VecStorage;

use crate::error::{ConfigError, Error, StorageError};

/// Largest supported program unit in bytes.
pub const MAX_WRITE_SIZE: usize = 256;
/// Smallest supported erase sector in bytes.
pub const MIN_ERASE_SIZE: usize = 256;
/// Largest supported erase sector in bytes.
pub const MAX_ERASE_SIZE: usize = 256 * 1024;

/// A byte-addressed medium with NOR flash semantics. See the [module docs](self) for the
/// rules every implementation must follow.
pub trait Storage {
    /// Read alignment in bytes (addresses and lengths of reads are multiples of it). tidelog
    /// requires 1 for now; byte-addressable NOR, RAM and files all qualify.
    fn read_size(&self) -> usize;
    /// Program unit in bytes (1..=256, a power of two).
    fn write_size(&self) -> usize;
    /// Erase sector in bytes (256..=262144, a power of two, a multiple of `write_size`).
    fn erase_size(&self) -> usize;
    /// Total size in bytes (a multiple of `erase_size`).
    fn capacity(&self) -> usize;
    /// Reads `buf.len()` bytes at `addr`.
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError>;
    /// Programs `bytes` at `addr`. `addr` and `bytes.len()` are multiples of `write_size`, and
    /// every unit touched is erased.
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError>;
    /// Programs an index slot: derived data a reader can do without (FORMAT.md §6), under the
    /// rules of [`program`](Self::program). A storage may hold it back — past later programs,
    /// past a [`sync`](Self::sync), even past a crash that then loses it — provided reads see
    /// it at once, it never lands after an erase that covers it, and (on a storage that
    /// reorders writes) never before the frames programmed ahead of it. The default programs
    /// it at once; `FileStorage` (feature `file`) writes it after its next barrier (a sync, an
    /// erase, a fence), which saves a system call per slot and keeps a slot from reaching the
    /// disk before its frames.
    fn program_index(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        self.program(addr, bytes)
    }
    /// Erases the sectors of `from..to` (both multiples of `erase_size`) to `0xFF`, in
    /// ascending address order.
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError>;
    /// Ordering point: no program issued after it may survive a power loss that loses one
    /// issued before it. The log calls it before the programs that vouch for earlier ones (a
    /// segment header, a reserve place's index slot; see the [module docs](self)): without it
    /// a storage that reorders writes could keep a new segment's header and lose the last
    /// frames of the segment before, leaving a gap in the middle of the log. The default does
    /// nothing, which is right for every storage that keeps program order (flash, RAM);
    /// `FileStorage` (feature `file`) syncs when programs since the last sync are pending.
    fn fence(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
    /// Durability barrier: returns once everything programmed or erased before it survives
    /// power loss.
    fn sync(&mut self) -> Result<(), StorageError>;
    /// True for a storage that never writes (a [`ReadOnly`] view, a file opened read-only):
    /// the log and the KV then refuse every write operation with
    /// [`StorageError::ReadOnly`] before touching the medium. The default is `false`.
    fn is_read_only(&self) -> bool {
        false
    }
}

impl<T: Storage + ?Sized> Storage for &mut T {
    fn read_size(&self) -> usize {
        (**self).read_size()
    }
    fn write_size(&self) -> usize {
        (**self).write_size()
    }
    fn erase_size(&self) -> usize {
        (**self).erase_size()
    }
    fn capacity(&self) -> usize {
        (**self).capacity()
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        (**self).read(addr, buf)
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        (**self).program(addr, bytes)
    }
    fn program_index(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        (**self).program_index(addr, bytes)
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        (**self).erase(from, to)
    }
    fn fence(&mut self) -> Result<(), StorageError> {
        (**self).fence()
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        (**self).sync()
    }
    fn is_read_only(&self) -> bool {
        (**self).is_read_only()
    }
}

/// The largest capacity a storage with `erase_size`-byte sectors may report: 4 GiB minus one
/// sector, so that the end address of every range — the last sector's included — fits the
/// `u32` addresses of [`Storage`].
pub const fn max_capacity(erase_size: usize) -> u64 {
    (1u64 << 32) - erase_size as u64
}

/// Checks a geometry against the rules in the [module docs](self).
///
/// Returns [`Error::InvalidConfig`] naming the first rule that is broken.
pub fn validate_geometry(
    read_size: usize,
    write_size: usize,
    erase_size: usize,
    capacity: usize,
) -> Result<(), Error> {
    if read_size != 1 {
        return Err(ConfigError::ReadSize.into());
    }
    if write_size == 0 || write_size > MAX_WRITE_SIZE || !write_size.is_power_of_two() {
        return Err(ConfigError::WriteSize.into());
    }
    if !(MIN_ERASE_SIZE..=MAX_ERASE_SIZE).contains(&erase_size) || !erase_size.is_power_of_two() {
        return Err(ConfigError::EraseSize.into());
    }
    if !erase_size.is_multiple_of(write_size) {
        return Err(ConfigError::EraseNotMultipleOfWrite.into());
    }
    if capacity == 0 || !capacity.is_multiple_of(erase_size) {
        return Err(ConfigError::Capacity.into());
    }
    if capacity as u64 > max_capacity(erase_size) {
        return Err(ConfigError::CapacityTooLarge.into());
    }
    Ok(())
}

/// Checks a program request: inside `capacity` (else `OutOfBounds`), start and length multiples
/// of `write_size` (else `NotAligned`).
pub(crate) fn check_program(
    addr: u32,
    len: usize,
    write_size: usize,
    capacity: usize,
) -> Result<(), StorageError> {
    check_bounds(addr, len, capacity)?;
    if !(addr as usize).is_multiple_of(write_size) || !len.is_multiple_of(write_size) {
        return Err(StorageError::NotAligned);
    }
    Ok(())
}

/// Checks an erase request: `from <= to` and inside `capacity` (else `OutOfBounds`), both
/// multiples of `erase_size` (else `NotAligned`).
pub(crate) fn check_erase(
    from: u32,
    to: u32,
    erase_size: usize,
    capacity: usize,
) -> Result<(), StorageError> {
    if from > to {
        return Err(StorageError::OutOfBounds);
    }
    check_bounds(from, (to - from) as usize, capacity)?;
    if !(from as usize).is_multiple_of(erase_size) || !(to as usize).is_multiple_of(erase_size) {
        return Err(StorageError::NotAligned);
    }
    Ok(())
}

/// Checks that `addr..addr+len` lies inside `capacity`.
pub(crate) fn check_bounds(addr: u32, len: usize, capacity: usize) -> Result<(), StorageError> {
    let end = addr as u64 + len as u64;
    if end > capacity as u64 {
        Err(StorageError::OutOfBounds)
    } else {
        Ok(())
    }
}
