//! [`UnitWriter`]: streams bytes to the medium in write-unit-aligned programs.
//!
//! The core has no heap, so a frame is never assembled in RAM: its bytes pass through a
//! 256-byte staging buffer (a multiple of every supported write unit) and are programmed in
//! ascending order, while a CRC-32C runs over them; the whole units of a long run (a large
//! record body) are programmed straight from the caller's slice, without the copy. The last
//! unit is padded with `0xFF`. Each write unit is programmed exactly once.

use crate::error::StorageError;
use crate::format::frame::{encode_varint, MAX_VARINT_LEN};
use crate::format::Crc32c;
use crate::storage::{Storage, MAX_WRITE_SIZE};

/// Staging buffer size (a multiple of every supported write unit).
const STAGE: usize = MAX_WRITE_SIZE;

/// Chunk size of [`UnitWriter::copy`]'s reads.
const COPY_CHUNK: usize = 256;

/// Streams bytes to `storage` starting at an aligned address.
pub(crate) struct UnitWriter<'s, S: Storage> {
    storage: &'s mut S,
    addr: u32,
    write_size: usize,
    fill: usize,
    digest: Crc32c,
    buf: [u8; STAGE],
}

impl<'s, S: Storage> UnitWriter<'s, S> {
    /// Starts writing at `addr` (aligned to `write_size`).
    pub fn new(storage: &'s mut S, addr: u32, write_size: usize) -> Self {
        UnitWriter {
            storage,
            addr,
            write_size,
            fill: 0,
            digest: Crc32c::new(),
            // Only bytes below `fill` are ever programmed, and `finish` pads the last unit with
            // 0xFF itself; zeroing (the runtime's `memclr4`) links less code than a 0xFF fill.
            buf: [0; STAGE],
        }
    }

    /// Appends bytes covered by the running CRC.
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), StorageError> {
        self.digest.update(bytes);
        self.put_raw(bytes)
    }

    /// Appends a LEB128 value (covered by the running CRC).
    pub fn put_varint(&mut self, v: u32) -> Result<(), StorageError> {
        let mut b = [0u8; MAX_VARINT_LEN];
        let n = encode_varint(v, &mut b);
        self.put(&b[..n])
    }

    /// Appends `len` bytes read from `src`, an address of the same storage (covered by the
    /// running CRC). `src` must not lie in what this writer is writing.
    // Inlining chosen by measurement: see footprint/README.md, "Inlining".
    #[inline(never)]
    pub fn copy(&mut self, mut src: u32, mut len: u32) -> Result<(), StorageError> {
        let mut chunk = [0u8; COPY_CHUNK];
        while len > 0 {
            let n = (COPY_CHUNK as u32).min(len) as usize;
            self.storage.read(src, &mut chunk[..n])?;
            self.put(&chunk[..n])?;
            src += n as u32;
            len -= n as u32;
        }
        Ok(())
    }

    /// The storage, for reads between writes (the KV's compaction reads its source entries
    /// while streaming the output frame); never of the bytes being written.
    pub fn storage(&mut self) -> &mut S {
        self.storage
    }

    /// Appends bytes not covered by the running CRC.
    pub fn put_raw(&mut self, mut bytes: &[u8]) -> Result<(), StorageError> {
        while !bytes.is_empty() {
            // A long run: program its whole units straight from the caller's bytes (after the
            // staged ones, once they end on a unit boundary) instead of copying them through
            // the stage 256 bytes at a time. Same bytes at the same addresses, in order.
            if bytes.len() >= STAGE && self.fill & (self.write_size - 1) == 0 {
                if self.fill > 0 {
                    self.storage.program(self.addr, &self.buf[..self.fill])?;
                    self.addr += self.fill as u32;
                    self.fill = 0;
                }
                let n = bytes.len() & !(self.write_size - 1);
                self.storage.program(self.addr, &bytes[..n])?;
                self.addr += n as u32;
                bytes = &bytes[n..];
                continue;
            }
            let n = (STAGE - self.fill).min(bytes.len());
            self.buf[self.fill..self.fill + n].copy_from_slice(&bytes[..n]);
            self.fill += n;
            bytes = &bytes[n..];
            if self.fill == STAGE {
                self.storage.program(self.addr, &self.buf)?;
                self.addr += STAGE as u32;
                self.fill = 0;
            }
        }
        Ok(())
    }

    /// Ends what was written — every frame, and a header's checkpoint — with the running
    /// CRC-32C (little-endian), pads the last unit with `0xFF`, programs what is staged and
    /// returns the address after the last programmed byte. Takes `&mut self` rather than
    /// `self`: moving the writer (and its 256-byte buffer) into the call cost a 300-byte copy
    /// per frame.
    pub fn finish(&mut self) -> Result<u32, StorageError> {
        let digest = core::mem::replace(&mut self.digest, Crc32c::new());
        self.put_raw(&digest.finalize().to_le_bytes())?;
        if self.fill > 0 {
            let end = crate::format::align_up(self.fill, self.write_size);
            self.buf[self.fill..end].fill(0xFF);
            self.fill = 0;
            self.storage.program(self.addr, &self.buf[..end])?;
            self.addr += end as u32;
        }
        Ok(self.addr)
    }
}
