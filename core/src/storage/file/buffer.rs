//! The read cache and the write buffer of a [`FileStorage`].
//!
//! The core reads and programs in small pieces (128-byte reads, 256-byte programs), and on a
//! file every system call costs. Reads that continue the previous one are served from one
//! cached 64 KiB block; with write buffering on, contiguous programs are gathered into one
//! `pwrite`. Both stay coherent: programs update the cached block, and reads see buffered
//! bytes not yet written.

use super::{io, FileStorage, CACHE_BLOCK, WRITE_BUFFER};
use crate::error::StorageError;
use std::boxed::Box;
use std::vec::Vec;

/// Programmed bytes not yet handed to the kernel: one contiguous run from `addr` (the write
/// buffer, and the held-back index slots).
#[derive(Default)]
pub(super) struct Run {
    pub(super) addr: u32,
    pub(super) bytes: Vec<u8>,
}

impl Run {
    /// Whether `len` bytes programmed at `addr` continue this run within `WRITE_BUFFER`.
    pub(super) fn takes(&self, addr: u32, len: usize) -> bool {
        self.addr as u64 + self.bytes.len() as u64 == addr as u64
            && self.bytes.len() + len <= WRITE_BUFFER
    }

    /// Appends `bytes` programmed at `addr` (the run's start when it is empty).
    pub(super) fn push(&mut self, addr: u32, bytes: &[u8]) {
        if self.bytes.is_empty() {
            self.addr = addr;
        }
        self.bytes.extend_from_slice(bytes);
    }
}

/// One cached, aligned block of the file.
pub(super) struct ReadCache {
    pub(super) start: u32,
    pub(super) len: usize,
    pub(super) valid: bool,
    pub(super) buf: Box<[u8]>,
}

impl FileStorage {
    /// Copies buffered (unflushed) program bytes and held-back index slots over `buf`, just
    /// read from the file at `at`.
    pub(super) fn overlay_wbuf(&self, at: u64, buf: &mut [u8]) {
        for run in [&self.wbuf, &self.deferred] {
            let (ws, we) = (run.addr as u64, run.addr as u64 + run.bytes.len() as u64);
            let (lo, hi) = (at.max(ws), (at + buf.len() as u64).min(we));
            if lo < hi {
                buf[(lo - at) as usize..(hi - at) as usize]
                    .copy_from_slice(&run.bytes[(lo - ws) as usize..(hi - ws) as usize]);
            }
        }
    }

    /// Copies `bytes` (just written at `addr`) into the cached block where they overlap.
    pub(super) fn update_cache(&mut self, addr: u32, bytes: Option<&[u8]>, len: usize) {
        let c = &mut self.cache;
        if !c.valid {
            return;
        }
        let (a, b) = (addr as u64, addr as u64 + len as u64);
        let (cs, ce) = (c.start as u64, c.start as u64 + c.len as u64);
        let (lo, hi) = (a.max(cs), b.min(ce));
        if lo >= hi {
            return;
        }
        let dst = &mut c.buf[(lo - cs) as usize..(hi - cs) as usize];
        match bytes {
            Some(src) => dst.copy_from_slice(&src[(lo - a) as usize..(hi - a) as usize]),
            None => dst.fill(0xFF),
        }
    }

    /// Reads `buf.len()` bytes at `addr` from the file, through the cache, with buffered
    /// program bytes applied.
    pub(super) fn read_file(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        let block = CACHE_BLOCK as u64;
        let (a, end) = (addr as u64, addr as u64 + buf.len() as u64);
        // Cache only reads that continue the previous one (walking frames, scanning): the
        // scattered reads of mount and binary searches would just waste a block each.
        let sequential = a >= self.last_read_end && a - self.last_read_end <= 4096;
        self.last_read_end = end;
        let c = &self.cache;
        if c.valid && a >= c.start as u64 && end <= c.start as u64 + c.len as u64 {
            let off = (a - c.start as u64) as usize;
            buf.copy_from_slice(&c.buf[off..off + buf.len()]);
            return Ok(());
        }
        if !sequential || buf.is_empty() || a / block != (end - 1) / block {
            io::read_at(&self.file, buf, a).map_err(|e| self.fail(e))?;
            self.overlay_wbuf(a, buf);
            return Ok(());
        }
        let start = a / block * block;
        let len = block.min(self.capacity as u64 - start) as usize;
        self.cache.valid = false;
        io::read_at(&self.file, &mut self.cache.buf[..len], start).map_err(|e| self.fail(e))?;
        let mut block = core::mem::take(&mut self.cache.buf);
        self.overlay_wbuf(start, &mut block[..len]);
        self.cache.buf = block;
        self.cache.start = start as u32;
        self.cache.len = len;
        self.cache.valid = true;
        let off = (a - start) as usize;
        buf.copy_from_slice(&self.cache.buf[off..off + buf.len()]);
        Ok(())
    }
}
