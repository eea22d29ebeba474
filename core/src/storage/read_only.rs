//! [`ReadOnly`]: a view of a storage that never writes to it.
//!
//! Opening a flash dump, an exported browser image or a log file owned by a running writer
//! must not change a byte of it. Mount may want to write — it erases the stale segments an
//! interrupted truncation left behind (FORMAT.md §7.1 step 3) — so `ReadOnly` keeps such
//! erases in a small in-memory overlay (the erased ranges read back `0xFF`) instead of applying
//! them, and refuses programs with [`StorageError::ReadOnly`]. The log sees
//! [`Storage::is_read_only`] and refuses every write up front (without marking itself as
//! needing a remount); what mount would have repaired is in
//! [`Log::recovery`](crate::Log::recovery).

use super::Storage;
use crate::error::StorageError;

/// Most erased ranges the overlay holds (adjacent ranges merge). A mount erases at most the
/// holes of one interrupted truncation: one or two ranges.
const OVERLAY_RANGES: usize = 8;

/// A read-only view of `S`: programs fail with [`StorageError::ReadOnly`], erases go to an
/// in-memory overlay (mount's clean-up of an interrupted truncation), which reads back `0xFF`;
/// the image underneath never changes.
#[derive(Debug)]
pub struct ReadOnly<S> {
    inner: S,
    overlay: heapless::Vec<(u32, u32), OVERLAY_RANGES>,
}

impl<S: Storage> ReadOnly<S> {
    /// Wraps `inner`; nothing is ever written to it.
    pub fn new(inner: S) -> Self {
        ReadOnly {
            inner,
            overlay: heapless::Vec::new(),
        }
    }

    /// The storage underneath (unchanged).
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Gives the storage back, unchanged.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The ranges erased in the overlay only (what a writer's mount would have erased).
    pub fn erased_in_overlay(&self) -> &[(u32, u32)] {
        &self.overlay
    }
}

impl<S: Storage> Storage for ReadOnly<S> {
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
        self.inner.capacity()
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        self.inner.read(addr, buf)?;
        let (a, b) = (addr as u64, addr as u64 + buf.len() as u64);
        for &(from, to) in &self.overlay {
            let (lo, hi) = (a.max(from as u64), b.min(to as u64));
            if lo < hi {
                buf[(lo - a) as usize..(hi - a) as usize].fill(0xFF);
            }
        }
        Ok(())
    }
    fn program(&mut self, _addr: u32, _bytes: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }
    fn program_index(&mut self, _addr: u32, _bytes: &[u8]) -> Result<(), StorageError> {
        Err(StorageError::ReadOnly)
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        super::check_erase(from, to, self.erase_size(), self.capacity())?;
        if from == to {
            return Ok(());
        }
        // Merge with every range it touches, then keep the union.
        let (mut lo, mut hi) = (from, to);
        self.overlay.retain(|&(a, b)| {
            let touches = a <= hi && lo <= b;
            if touches {
                lo = lo.min(a);
                hi = hi.max(b);
            }
            !touches
        });
        self.overlay
            .push((lo, hi))
            .map_err(|_| StorageError::ReadOnly)
    }
    fn fence(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
    fn is_read_only(&self) -> bool {
        true
    }
}
