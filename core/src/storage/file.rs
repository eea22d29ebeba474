//! [`FileStorage`]: a log in one file of fixed capacity (feature `std`, Unix and Windows).
//!
//! The file holds exactly the bytes a flash device would: an image written here can be
//! flashed to a device, and a flash dump can be opened here. Reads are `pread`, programs and
//! erases are `pwrite`, [`sync`](Storage::sync) is `fdatasync`.
//!
//! * **Geometry.** [`FileStorage::create`] takes it (capacity, write unit, erase sector);
//!   [`FileStorage::open`] needs none: images are self-describing, the geometry is read from
//!   a valid segment header. An opened file reports the image's write unit and, as its erase
//!   size, the largest power of two (≤ 256 KiB) dividing the segment size — a file erases any
//!   range, and a coarse erase size lets mount probe fewer addresses; the image's own erase
//!   size stays in its headers ([`Log::layout`](crate::Log::layout)), so the bytes written are
//!   the same. Addresses in [`Storage`] are `u32`, so a file log holds at most 4 GiB minus one
//!   erase sector.
//! * **Erased bytes read `0xFF`.** A new file reads `0x00`, so it is not a usable image until
//!   [`Log::format`](crate::Log::format) has erased it: creating a log writes its whole
//!   capacity once. Erasing writes `0xFF` in large blocks.
//! * **One writer.** A writer holds an exclusive OS advisory lock (`flock` on Unix,
//!   `LockFileEx` on Windows) for as long as the storage lives; a second writer — in this
//!   process or another — gets [`Error::Locked`] at once, with the path
//!   in the message. [`FileStorage::open_read_only`] takes no lock and never writes, so a log
//!   can be inspected while its writer runs (the inspection sees the log as it was when it
//!   mounted). The lock belongs to the open file: a process forked while it is open shares
//!   it until that process execs or exits (`std::process::Command` closes it at exec), so
//!   a close immediately followed by a reopen can meet `Locked` in a program that spawns
//!   processes from other threads. A reader should not lag a full ring behind a writer
//!   that reclaims segments: remount to follow it.
//!
//! # Durability
//!
//! What survives depends on what failed and on the [`Durability`] mode, which [`FileLog`]
//! applies (a bare `Log<FileStorage>` behaves as `Explicit`):
//!
//! | failure | [`Durability::EveryWrite`] | [`Durability::Explicit`] (group commit) |
//! |---|---|---|
//! | **process crash** (panic, abort, `SIGKILL`) | every operation that returned `Ok` | every operation that returned `Ok` |
//! | **power loss / OS crash** | every operation that returned `Ok` | every operation before the last `sync()` that returned `Ok` |
//!
//! An operation still running when the failure hits is either entirely there or entirely
//! absent (a batch is atomic), and after recovery the log accepts appends (I6).
//!
//! * **Process crash.** Nothing the process handed to the kernel is lost: a `pwrite` that
//!   returned is in the page cache and the file reads back exactly the sequence of completed
//!   writes. [`FileLog`] gathers an operation's writes and hands them over before the
//!   operation returns; a bare `Log<FileStorage>` writes through on every program (write
//!   buffering is off unless [`FileStorage::set_write_buffering`] turns it on).
//! * **Power loss.** Only `fdatasync` makes data durable; whatever the kernel had not
//!   written back is lost, in any order. In `EveryWrite` mode each operation is synced
//!   before it returns. In `Explicit` mode the operations after the last `sync()` may be
//!   lost, and only from the end: the log comes back as a prefix of what was appended (I1),
//!   never with a gap — although the disk may write a later page back before an earlier one.
//!   The frames of one segment need nothing for that (mount stops at the first frame that
//!   is missing); the writes that vouch for earlier ones wait for them, as below.
//!
//! To keep those guarantees `FileStorage` never lets a write that vouches for earlier ones
//! reach the disk before them: it puts a **write barrier** (`fdatasync`, skipped when nothing
//! is pending) in front of each.
//!
//! * **An erase.** The core erases a segment only once the state that lets it go is on the
//!   medium (a trim's or a commit's state frame, the header of the segment that takes over, a
//!   truncation's header), so a power cut can never keep the erase and lose that state — a
//!   trim half applied, or records a consumer had not committed gone. Inside the erase the
//!   range's first write unit (where the segment's header starts) is erased and synced before
//!   the rest is written: flash erases in ascending order, so a cut erase leaves a segment
//!   intact or without a header, and a file must too — page write-back in any order could
//!   otherwise keep the header and lose later pages, a valid segment with holes. The `0xFF`
//!   bytes are durable before the erase returns, so a new segment header can never reach the
//!   disk while stale frames of the segment's previous life are still there. (`Log::format`
//!   erases the whole file in one call: cut by a power loss, a format over an earlier image
//!   may leave that image's later segments with holes — reads there report
//!   [`Error::Corrupt`], never wrong bytes; `FileLog::create` formats only new files.)
//! * **A segment header**, and a reserve place's index slot ([`Storage::fence`]): a header
//!   names the offset where its predecessor's frames end, so without the barrier a new
//!   segment's header could outlive the last frames of the segment before it, and reading
//!   those offsets would fail after the restart.
//! * **Index slots**, which lead mount past the frames before them, are held back (in
//!   memory, read back at once) and written after a barrier: an erase, a fence (a segment's
//!   rotation), closing the storage, or a `sync()` once a page of them (4 KiB: 256 slots) is
//!   pending — handed over at every sync, a slot would dirty the index page again and make the
//!   next sync write a second page. A crash that loses slots loses no record: mount walks the
//!   frames instead (at most 256 index intervals more).
//!
//! The cost falls where writes are pending when a barrier comes: in `Explicit` mode between
//! syncs, rotating into the next segment takes one `fdatasync`, into a *reused* segment three
//! (the erase syncs its first unit, then its `0xFF` bytes), so pick segments much larger than
//! a sync group (`FileLog::create`'s docs suggest sizes); closing with slots and unsynced
//! frames pending takes one. `EveryWrite` mode pays only for erases: two `fdatasync`s per
//! reused segment, three when a trim or commit that reclaims one has just written its state. Erasing what is known
//! to be erased already costs nothing: a freshly created log (erased whole at creation) fills
//! its first pass without an erase barrier.
//!
//! [`FileLog`]: crate::FileLog

mod buffer;
mod error;
pub(crate) mod io;
mod kv;
mod log;
mod probe;
mod shared;

pub use error::FileError;
pub use kv::FileKv;
pub use log::FileLog;
pub use shared::SharedFileLog;

use super::{check_bounds, check_erase, check_program, validate_geometry, Storage};
use crate::error::{ConfigError, Error, StorageError};
use buffer::{ReadCache, Run};
use std::boxed::Box;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::vec::Vec;

/// When a [`FileLog`] makes its writes durable (see the
/// [module docs](self#durability) for what survives a process crash and a power loss).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `fdatasync` after every write operation (append, batch, commit, trim, truncate): when
    /// it returns `Ok`, the operation survives power loss. Costs one `fdatasync` per
    /// operation (milliseconds on most disks).
    #[default]
    EveryWrite,
    /// Durable at the caller's explicit `sync()` (group commit: many appends, one
    /// `fdatasync`). Operations that returned `Ok` survive a process crash; only synced ones
    /// are guaranteed to survive a power loss.
    Explicit,
}

/// Write unit used by [`FileLog::create`](crate::FileLog::create): 4 bytes (images mount on
/// storages with a 1, 2 or 4-byte program unit).
pub const DEFAULT_WRITE_SIZE: usize = 4;
/// Erase sector used by [`FileLog::create`](crate::FileLog::create): 4 KiB (a memory page).
pub const DEFAULT_ERASE_SIZE: usize = 4096;

/// Largest capacity of a file log with the default 4 KiB erase sectors: storage addresses are
/// `u32`, so a storage holds at most 4 GiB minus one sector
/// ([`max_capacity`](crate::storage::max_capacity)).
pub const MAX_FILE_CAPACITY: u64 = crate::storage::max_capacity(DEFAULT_ERASE_SIZE);

/// Reads are served from one cached block of this size (the core reads in small pieces).
const CACHE_BLOCK: usize = 64 * 1024;
/// Erases write `0xFF` in pieces of this size.
const ERASE_CHUNK: usize = 1024 * 1024;
/// Largest run of contiguous programs gathered into one `pwrite` (write buffering).
const WRITE_BUFFER: usize = 256 * 1024;
/// Held-back index slots are handed over at a sync once this many bytes of them are pending
/// (a page of slots), and at every erase, fence and close.
const SLOT_PAGE: usize = 4096;

/// A [`Storage`] in one file. See the [module docs](self).
pub struct FileStorage {
    file: File,
    path: PathBuf,
    capacity: usize,
    write_size: usize,
    erase_size: usize,
    durability: Durability,
    read_only: bool,
    /// Read-only handles: ranges "erased" in memory only (mount's clean-up after an
    /// interrupted truncation), read back as `0xFF`. The file is never touched.
    overlay: Vec<(u32, u32)>,
    /// A range known to be erased and durable, with nothing programmed into it since: an
    /// erase inside it needs no I/O.
    erased: Option<(u32, u32)>,
    cache: ReadCache,
    /// End of the last read (reads that continue it are served through the cache).
    last_read_end: u64,
    /// Write buffering (see [`FileStorage::set_write_buffering`]): contiguous programs not yet
    /// handed to the kernel.
    buffering: bool,
    wbuf: Run,
    /// Index slots held back until the next barrier ([`Storage::program_index`]): one
    /// contiguous run (slots of one segment are adjacent).
    deferred: Run,
    ff: Option<Box<[u8]>>,
    /// Programs other than index slots were handed to the kernel since the last `fdatasync`:
    /// an erase or a fence makes them durable first (see [`barrier`](Self::barrier)).
    unsynced: bool,
    last_io_error: Option<std::io::Error>,
    /// [`close`](FileStorage::close) ran: nothing left for `Drop` to do.
    closed: bool,
}

impl FileStorage {
    /// Creates a new file of `capacity` bytes (it must not exist yet) and locks it for
    /// writing. The space is reserved (`fallocate` where supported) but not written: the file
    /// reads `0x00` until [`Log::format`](crate::Log::format) erases it.
    ///
    /// `capacity` must be a multiple of `erase_size` and at most 4 GiB minus one sector; `write_size` and
    /// `erase_size` follow [`validate_geometry`]. The parent
    /// directory is synced, so the file's name survives power loss.
    pub fn create(
        path: impl AsRef<Path>,
        capacity: u64,
        write_size: usize,
        erase_size: usize,
        durability: Durability,
    ) -> Result<Self, FileError> {
        let path = path.as_ref();
        let err = |e: Error| FileError::at(e, path);
        if capacity > crate::storage::max_capacity(erase_size) || capacity > usize::MAX as u64 {
            return Err(err(ConfigError::CapacityTooLarge.into()));
        }
        validate_geometry(1, write_size, erase_size, capacity as usize).map_err(err)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| FileError::io(e, path))?;
        let setup = (|| {
            io::try_lock(&file, path)?;
            file.set_len(capacity).map_err(|e| FileError::io(e, path))?;
            io::preallocate(&file, capacity).map_err(|e| FileError::io(e, path))?;
            io::sync_parent_dir(path).map_err(|e| FileError::io(e, path))
        })();
        if let Err(e) = setup {
            drop(file);
            let _ = std::fs::remove_file(path);
            return Err(e);
        }
        Ok(Self::new(
            file,
            path,
            capacity as usize,
            write_size,
            erase_size,
            durability,
            false,
        ))
    }

    /// Opens an existing log file for writing: takes the exclusive lock (a second writer gets
    /// [`Error::Locked`]) and reads the geometry from the image.
    ///
    /// Errors: [`Error::NotFound`] (no such file),
    /// [`Error::Locked`], [`Error::NotFormatted`]
    /// (no tidelog header in the file), [`Error::UnsupportedVersion`],
    /// I/O errors as [`Error::Storage`].
    pub fn open(path: impl AsRef<Path>, durability: Durability) -> Result<Self, FileError> {
        let path = path.as_ref();
        let file = io::open_locked(path)?;
        Self::from_image(file, path, durability, false)
    }

    /// Opens an existing log file for inspection: no lock (it works while a writer runs), and
    /// nothing is ever written. Programs fail with [`StorageError::ReadOnly`]; erases (which
    /// only mount issues, to drop segments left by an interrupted truncation) are applied to
    /// an in-memory overlay.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, FileError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| FileError::io(e, path))?;
        Self::from_image(file, path, Durability::Explicit, true)
    }

    fn from_image(
        file: File,
        path: &Path,
        durability: Durability,
        read_only: bool,
    ) -> Result<Self, FileError> {
        let len = file.metadata().map_err(|e| FileError::io(e, path))?.len();
        let len = len.min(1 << 32).min(usize::MAX as u64);
        let fail = |e| match e {
            probe::ProbeError::Io(e) => FileError::io(e, path),
            probe::ProbeError::Tidelog(e) => FileError::at(e, path),
        };
        let (ws, es) = match probe::probe(&file, len) {
            Ok(layout) => (layout.write_size as usize, probe::probe_erase_size(&layout)),
            // Not a log: a KV image (its erase size is its own, checked by the KV's mount)?
            Err(probe::ProbeError::Tidelog(Error::NotFormatted)) => {
                match probe::probe_kv(&file, len).map_err(fail)? {
                    Some(h) => (h.write_size as usize, h.erase_size as usize),
                    None => return Err(FileError::at(Error::NotFormatted, path)),
                }
            }
            Err(e) => return Err(fail(e)),
        };
        let len = len.min(crate::storage::max_capacity(es));
        let capacity = (len / es as u64 * es as u64) as usize;
        Ok(Self::new(
            file, path, capacity, ws, es, durability, read_only,
        ))
    }

    fn new(
        file: File,
        path: &Path,
        capacity: usize,
        write_size: usize,
        erase_size: usize,
        durability: Durability,
        read_only: bool,
    ) -> Self {
        FileStorage {
            file,
            path: path.to_path_buf(),
            capacity,
            write_size,
            erase_size,
            durability,
            read_only,
            overlay: Vec::new(),
            erased: None,
            cache: ReadCache {
                start: 0,
                len: 0,
                valid: false,
                buf: std::vec![0u8; CACHE_BLOCK].into_boxed_slice(),
            },
            last_read_end: u64::MAX,
            buffering: false,
            wbuf: Run::default(),
            deferred: Run::default(),
            ff: None,
            unsynced: false,
            last_io_error: None,
            closed: false,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durability mode chosen at open.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Changes the durability mode (see [`Durability`]).
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    /// Gathers contiguous programs into one `pwrite` (the core programs a frame in 256-byte
    /// pieces, and every system call costs): programs stay in memory until
    /// [`flush`](Self::flush), a program elsewhere, an erase, a sync or drop. Off by default;
    /// [`FileLog`] turns it on and flushes after every operation, so an
    /// operation that returned is in the kernel's hands (it survives a process crash).
    /// Index slots ([`Storage::program_index`]) are held back whether buffering is on or not
    /// (see the [module docs](self#durability)). Turning buffering off hands the buffered
    /// programs over.
    pub fn set_write_buffering(&mut self, on: bool) -> Result<(), StorageError> {
        if !on {
            self.flush()?;
        }
        self.buffering = on;
        Ok(())
    }

    /// Hands buffered programs to the kernel (`pwrite`). After it returns they survive a
    /// process crash (not a power loss: that takes [`sync`](Storage::sync)).
    pub fn flush(&mut self) -> Result<(), StorageError> {
        self.hand_over(false)
    }

    /// Hands the held-back index slots to the kernel. Only after a barrier: a slot must never
    /// reach the disk before the frames it points at.
    fn write_deferred(&mut self) -> Result<(), StorageError> {
        self.hand_over(true)
    }

    /// The write barrier of an erase and of [`fence`](Storage::fence): hands the buffered
    /// programs over and makes every program but the held-back slots durable (`fdatasync`,
    /// skipped when nothing is pending), then hands the slots over, whose frames are now
    /// durable. After it, nothing written later can reach the disk before what was programmed
    /// so far; the slots need no such guarantee (derived data: losing one loses no record).
    fn barrier(&mut self) -> Result<(), StorageError> {
        self.flush()?;
        if self.unsynced {
            io::sync_data(&self.file).map_err(|e| self.fail(e))?;
            self.unsynced = false;
        }
        self.write_deferred()
    }

    /// Writes the write buffer (or, `deferred`, the held-back slots) with one `pwrite` and
    /// empties it.
    fn hand_over(&mut self, deferred: bool) -> Result<(), StorageError> {
        let run = if deferred {
            &mut self.deferred
        } else {
            &mut self.wbuf
        };
        if run.bytes.is_empty() {
            return Ok(());
        }
        let r = if deferred {
            io::write_slots_at(&self.file, &run.bytes, run.addr as u64)
        } else {
            io::write_at(&self.file, &run.bytes, run.addr as u64)
        };
        run.bytes.clear();
        // Slots need no barrier of their own (see `barrier`).
        self.unsynced |= !deferred;
        r.map_err(|e| {
            self.cache.valid = false;
            self.fail(e)
        })
    }

    /// What every program does before its bytes go anywhere: checks it, keeps the erased range
    /// and the read cache up to date.
    fn accept_program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        check_program(addr, bytes.len(), self.write_size, self.capacity)?;
        self.note_programmed(addr, bytes.len());
        self.update_cache(addr, Some(bytes), bytes.len());
        Ok(())
    }

    /// Appends `bytes` (programmed at `addr`) to the write buffer or, `deferred`, to the
    /// held-back slots, handing that buffer over first when the bytes do not continue it or
    /// would overflow it.
    fn gather(&mut self, deferred: bool, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        let run = if deferred { &self.deferred } else { &self.wbuf };
        if !run.bytes.is_empty() && !run.takes(addr, bytes.len()) {
            if deferred {
                self.barrier()?;
            } else {
                self.hand_over(false)?;
            }
        }
        let run = if deferred {
            &mut self.deferred
        } else {
            &mut self.wbuf
        };
        run.push(addr, bytes);
        Ok(())
    }

    /// Keeps knowing that the part of the known-erased range above a program at `addr..end` is
    /// still erased and durable: a log fills a fresh file upwards, so its first pass costs no
    /// erase barriers.
    fn note_programmed(&mut self, addr: u32, len: usize) {
        if let Some((from, to)) = self.erased {
            let end = addr as u64 + len as u64;
            if (addr as u64) < to as u64 && end > from as u64 {
                let es = self.erase_size as u64;
                let above = end.div_ceil(es) * es;
                self.erased = (above < to as u64).then_some((above as u32, to));
            }
        }
    }

    /// A second handle of the open file (`dup`): an `fdatasync` on it makes the writes of
    /// this storage durable too ([`SharedFileLog`]'s group commit syncs through it).
    pub fn try_clone_file(&self) -> std::io::Result<File> {
        self.file.try_clone()
    }

    /// True for a handle from [`open_read_only`](Self::open_read_only).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Takes the OS error behind the last [`StorageError::Device`] this storage reported (the
    /// [`Storage`] trait only carries the error number).
    pub fn take_io_error(&mut self) -> Option<std::io::Error> {
        self.last_io_error.take()
    }

    /// Records a rename of the file (the handle stays valid; messages use the new path).
    pub(crate) fn set_path(&mut self, path: &Path) {
        self.path = path.to_path_buf();
    }

    fn fail(&mut self, e: std::io::Error) -> StorageError {
        let code = e.raw_os_error().unwrap_or(-1);
        self.last_io_error = Some(e);
        StorageError::Device(code)
    }
}

impl Storage for FileStorage {
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
        self.capacity
    }

    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        check_bounds(addr, buf.len(), self.capacity)?;
        self.read_file(addr, buf)?;
        let (a, b) = (addr as u64, addr as u64 + buf.len() as u64);
        for &(from, to) in &self.overlay {
            let (lo, hi) = (a.max(from as u64), b.min(to as u64));
            if lo < hi {
                buf[(lo - a) as usize..(hi - a) as usize].fill(0xFF);
            }
        }
        Ok(())
    }

    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        if self.read_only {
            return Err(StorageError::ReadOnly);
        }
        self.accept_program(addr, bytes)?;
        if self.buffering && bytes.len() < WRITE_BUFFER {
            return self.gather(false, addr, bytes);
        }
        // Buffered programs go first (program order is the medium's order).
        self.flush()?;
        self.unsynced = true;
        io::write_at(&self.file, bytes, addr as u64).map_err(|e| {
            self.cache.valid = false;
            self.fail(e)
        })
    }

    fn program_index(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        if self.read_only {
            return self.program(addr, bytes);
        }
        self.accept_program(addr, bytes)?;
        self.gather(true, addr, bytes)
    }

    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        check_erase(from, to, self.erase_size, self.capacity)?;
        if from == to {
            return Ok(());
        }
        if self.read_only {
            self.overlay.push((from, to));
            self.update_cache(from, None, (to - from) as usize);
            return Ok(());
        }
        if self.erased.is_some_and(|(a, b)| a <= from && to <= b) {
            return Ok(());
        }
        // The first barrier (see the module docs): what was programmed before the erase, the
        // state that lets the segment go among it, is durable before any `0xFF` byte.
        self.barrier()?;
        #[cfg(test)]
        io::trace::record(io::trace::Event::Erase { from, to });
        let ff = self
            .ff
            .get_or_insert_with(|| std::vec![0xFFu8; ERASE_CHUNK].into_boxed_slice());
        let (file, unit) = (&self.file, self.write_size);
        let (from64, to64) = (from as u64, to as u64);
        let result = (|| {
            // The header dies first (see the module docs): the range's first write unit is
            // erased and durable before any other byte of it is written.
            io::write_at(file, &ff[..unit], from64)?;
            io::sync_data(file)?;
            let mut at = from64;
            while at < to64 {
                let n = (to64 - at).min(ERASE_CHUNK as u64) as usize;
                io::write_at(file, &ff[..n], at)?;
                at += n as u64;
            }
            // The second barrier: the erased bytes are durable before anything after them is
            // written.
            io::sync_data(file)
        })();
        self.update_cache(from, None, (to - from) as usize);
        self.unsynced = result.is_err();
        match result {
            Ok(()) => {
                // Remember the larger of the two known-erased ranges.
                if self.erased.is_none_or(|(a, b)| b - a <= to - from) {
                    self.erased = Some((from, to));
                }
                Ok(())
            }
            Err(e) => {
                self.cache.valid = false;
                self.erased = self.erased.filter(|&(a, b)| b <= from || a >= to);
                Err(self.fail(e))
            }
        }
    }

    fn fence(&mut self) -> Result<(), StorageError> {
        if self.read_only {
            return Ok(());
        }
        self.barrier()
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        if self.read_only {
            return Ok(());
        }
        self.flush()?;
        io::sync_data(&self.file).map_err(|e| self.fail(e))?;
        self.unsynced = false;
        // Index slots only after a barrier (a slot never reaches the disk before its frames),
        // and only a page's worth at a time: handed over after every sync, a slot dirties the
        // index page again, and the next sync writes that page too — a second disk write per
        // sync (measured: 2 pwrites and 1.3 to 2× the time per group commit).
        if self.deferred.bytes.len() >= SLOT_PAGE {
            self.write_deferred()?;
        }
        Ok(())
    }

    fn is_read_only(&self) -> bool {
        self.read_only
    }
}

impl FileStorage {
    /// Hands everything still buffered to the kernel — held-back index slots only behind a
    /// barrier (one `fdatasync` when slots and unsynced frames are both pending) — and closes
    /// the file, releasing the writer lock. What dropping does, with the error returned
    /// instead of lost. It does not sync: in `Explicit` mode, call `sync` first for power-loss
    /// durability.
    pub fn close(mut self) -> Result<(), FileError> {
        let r = self.hand_over_all();
        self.closed = true;
        r.map_err(|e| {
            let io = self.take_io_error();
            FileError::at(e.into(), &self.path).with_source(io)
        })
    }

    fn hand_over_all(&mut self) -> Result<(), StorageError> {
        if self.read_only {
            return Ok(());
        }
        if self.deferred.bytes.is_empty() {
            self.flush()
        } else {
            self.barrier()
        }
    }
}

impl Drop for FileStorage {
    fn drop(&mut self) {
        if !self.closed {
            // `close` without the error (nobody to report it to).
            let _ = self.hand_over_all();
        }
    }
}

impl core::fmt::Debug for FileStorage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileStorage")
            .field("path", &self.path)
            .field("capacity", &self.capacity)
            .field("write_size", &self.write_size)
            .field("erase_size", &self.erase_size)
            .field("durability", &self.durability)
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::io::trace::{self, Event};
    use crate::{Config, Durability, FileLog, FullPolicy, Log, RamStorage};
    use std::collections::BTreeMap;
    use std::vec::Vec;
    use std::{format, vec};

    /// A new [`FileLog`] at `path`, with write buffering on (its default) or off.
    fn new_file_log(
        path: &std::path::Path,
        capacity: u64,
        cfg: Config,
        durability: Durability,
        buffered: bool,
    ) -> FileLog {
        let mut log: FileLog = FileLog::create(path, capacity, cfg, durability).unwrap();
        log.log_mut()
            .storage_mut()
            .set_write_buffering(buffered)
            .unwrap();
        log
    }

    /// What the I/O calls in `events` did in an order a power loss could break: an erase, a
    /// segment header (a write at the start of a `segment`-byte segment, other than an erase's
    /// `0xFF` bytes) or held-back index slots written while a program before them is not yet
    /// durable. `Ok` counts the erases and headers; `Err` names the first call out of order.
    fn check_io_order(events: &[Event], segment: u64) -> Result<(usize, usize), Event> {
        // `erasing`: syncs left in the erase under way (its sectors' first units, then the rest).
        let (mut pending, mut erasing, mut erases, mut headers) = (false, 0u8, 0, 0);
        for e in events {
            let late = match e {
                // An erase's `0xFF` bytes, synced before it returns.
                Event::Write { .. } if erasing > 0 => false,
                Event::Write { slots: true, .. } => pending,
                Event::Write { at, .. } => {
                    let header = at % segment == 0;
                    headers += usize::from(header);
                    let late = header && pending;
                    pending = true;
                    late
                }
                Event::Sync => {
                    (pending, erasing) = (false, erasing.saturating_sub(1));
                    false
                }
                Event::Erase { .. } => {
                    (erases, erasing) = (erases + 1, 2);
                    pending
                }
            };
            if late {
                return Err(e.clone());
            }
        }
        Ok((erases, headers))
    }

    /// The core erases a segment only once the state that lets it go is on the medium, writes
    /// a segment header only once the frames before it are (the header names the offset where
    /// they end), and an index slot only once its frame is; on a file "on the medium" means
    /// `fdatasync`ed, as the disk writes pages back in any order. Checked on the I/O calls
    /// themselves, for appends across segments, trims, commits that free the head (`Reject`),
    /// truncations and wraparound, in both durability modes, through [`FileLog`] (write
    /// buffering on) and a bare `Log<FileStorage>` (off).
    #[test]
    fn no_erase_header_or_slot_overtakes_what_was_programmed_before_it() {
        for durability in [Durability::Explicit, Durability::EveryWrite] {
            for policy in [FullPolicy::Reject, FullPolicy::OverwriteOldest] {
                for buffered in [true, false] {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("log");
                    let cfg = Config::new().index_interval(256).full_policy(policy);
                    let mut log = new_file_log(&path, 8 * 4096, cfg, durability, buffered);
                    log.commit("c", 0).unwrap();
                    trace::take();
                    let rec = [0x5Au8; 100];
                    for _ in 0..8 {
                        for _ in 0..100 {
                            if log.append(&rec).is_err() {
                                break;
                            }
                        }
                        let next = log.next_offset();
                        log.commit("c", next - 20).unwrap();
                        log.trim_front(next - 10).unwrap();
                        log.truncate_back(next - 5).unwrap();
                    }
                    drop(log);
                    let order = check_io_order(&trace::take(), 4096);
                    let what = format!("{durability:?} {policy:?} buffered {buffered}");
                    assert!(
                        order.as_ref().is_ok_and(|&(e, h)| e >= 8 && h >= 8),
                        "{what}: {order:?} (a call out of order, or too few erases and headers)"
                    );
                }
            }
        }
    }

    /// What a disk may hold after a power cut that struck after the first `cut` events: every
    /// write before the last `fdatasync` among them, and of each page written since, the
    /// version after some prefix of its writes (page write-back happens at any time, in any
    /// order, and writes the page as it is then). `pick(page, n)` chooses how many of its `n`
    /// writes the page kept.
    fn disk_after(
        durable: &[u8],
        events: &[Event],
        cut: usize,
        mut pick: impl FnMut(u64, usize) -> usize,
    ) -> Vec<u8> {
        const PAGE: u64 = 4096;
        let events = &events[..cut];
        let synced = events
            .iter()
            .rposition(|e| *e == Event::Sync)
            .map_or(0, |i| i + 1);
        let mut disk = durable.to_vec();
        let apply = |img: &mut Vec<u8>, at: u64, bytes: &[u8], page: Option<u64>| {
            for (i, &b) in bytes.iter().enumerate() {
                let a = at + i as u64;
                if page.is_none_or(|p| a / PAGE == p) {
                    img[a as usize] = b;
                }
            }
        };
        for e in &events[..synced] {
            if let Event::Write { at, bytes, .. } = e {
                apply(&mut disk, *at, bytes, None);
            }
        }
        // The writes since, per page, in order.
        let mut pages: BTreeMap<u64, Vec<(u64, &[u8])>> = BTreeMap::new();
        for e in &events[synced..] {
            if let Event::Write { at, bytes, .. } = e {
                let end = at + bytes.len() as u64;
                for p in at / PAGE..end.div_ceil(PAGE) {
                    pages.entry(p).or_default().push((*at, bytes));
                }
            }
        }
        for (p, writes) in pages {
            let keep = pick(p, writes.len());
            for &(at, bytes) in &writes[..keep] {
                apply(&mut disk, at, bytes, Some(p));
            }
        }
        disk
    }

    /// Every disk image a power cut may leave (`disk_after`) over `durable`: after each of the
    /// I/O calls in `events` (and before the first), 24 choices of which pages kept which of
    /// their writes — none, all, and 22 seeded random ones. `check` gets the image, the number
    /// of calls made before the cut, and where the cut fell (for messages).
    fn each_cut_image(
        durable: &[u8],
        events: &[Event],
        mut check: impl FnMut(&mut [u8], usize, &str),
    ) {
        let mut rng = 0x2545_F491_4F6C_DD1Du64;
        for cut in 0..=events.len() {
            for round in 0..24 {
                let mut img = disk_after(durable, events, cut, |_, n| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    match round {
                        0 => 0,
                        1 => n,
                        _ => (rng % (n as u64 + 1)) as usize,
                    }
                });
                let at = format!(
                    "cut after {cut} of {} I/O calls, round {round}",
                    events.len()
                );
                check(&mut img, cut, &at);
            }
        }
    }

    /// End to end, on a model of the disk (`disk_after`): appends across several segments
    /// after the last sync, cut by power loss after every I/O call with many choices of which
    /// unsynced pages reached the disk, leave a prefix of the records (I1): every synced record,
    /// then some of the later ones, each readable, with no gap — in both durability modes,
    /// with write buffering on ([`FileLog`]) and off (a bare `Log<FileStorage>`). Without the
    /// fence before a segment header, a new segment's header reached the disk while the last
    /// frames of the segment before it did not (and held-back slots while their frames did not):
    /// reading the gap failed with `Corrupt` in most cut images.
    #[test]
    fn power_loss_between_syncs_leaves_a_prefix_without_gaps() {
        let rec = |i: u64| vec![(i % 251) as u8; 100];
        // Two 4 KiB pages per segment: its frames and its index slots on different pages.
        let cfg = Config::new()
            .segment_sectors(2)
            .index_interval(256)
            .full_policy(FullPolicy::OverwriteOldest);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let (synced, appended) = (50u64, 180u64);
        for durability in [Durability::Explicit, Durability::EveryWrite] {
            for buffered in [true, false] {
                let _ = std::fs::remove_file(&path);
                let mut log = new_file_log(&path, 16 * 4096, cfg, durability, buffered);
                for i in 0..synced {
                    log.append(&rec(i)).unwrap();
                }
                log.sync().unwrap();
                let durable = std::fs::read(&path).unwrap();
                trace::take();
                // `returned[k]`: I/O calls made when the append of `synced + k` returned.
                let (mut events, mut returned) = (Vec::new(), Vec::new());
                for i in synced..appended {
                    log.append(&rec(i)).unwrap();
                    events.extend(trace::take());
                    returned.push(events.len());
                }
                drop(log);
                events.extend(trace::take());
                let headers = check_io_order(&events, 2 * 4096).map(|(_, h)| h);
                assert!(matches!(headers, Ok(h) if h >= 2), "{headers:?}");
                each_cut_image(&durable, &events, |img, cut, at| {
                    let what = format!("{durability:?} buffered {buffered}: {at}");
                    let mut log: Log<RamStorage<'_>> =
                        Log::mount(RamStorage::new(img, 4, 4096).unwrap(), cfg).unwrap();
                    let (first, end) = (log.first_offset(), log.next_offset());
                    assert_eq!(first, 0, "{what}");
                    if durability == Durability::Explicit {
                        assert!((synced..=appended).contains(&end), "{what}: next {end}");
                    } else {
                        // Every append that returned before the cut was synced.
                        let done = returned.iter().filter(|&&n| n <= cut).count() as u64;
                        assert!(
                            (synced + done..=appended).contains(&end),
                            "{what}: next {end}"
                        );
                    }
                    let mut buf = [0u8; 100];
                    for o in first..end {
                        assert_eq!(log.read(o, &mut buf), Ok(100), "{what}: offset {o}");
                        assert_eq!(buf.to_vec(), rec(o), "{what}: offset {o}");
                    }
                });
            }
        }
    }

    /// End to end, on a model of the disk: a mixed workload after the last sync — appends,
    /// batches, consumer commits, rewinds, trims and truncations, reclaiming and wrapping under
    /// both policies, with write buffering on and off — cut
    /// by power loss after every I/O call with many choices of which unsynced pages reached the
    /// disk, comes back exactly as the log stood after one of its operations (first offset,
    /// cursor and next offset), never before the last sync (`EveryWrite`: before the last
    /// operation that returned), and every record from the first offset on reads back. Without
    /// the erase's first unit synced ahead of the rest, a cut erase of the head left its header
    /// and lost a later page: the head still counted, and reading it failed.
    #[test]
    fn power_loss_between_syncs_leaves_the_log_as_after_one_of_its_operations() {
        let rec = |i: u64| vec![(i % 251) as u8; 60 + (i % 5) as usize * 20];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        for durability in [Durability::Explicit, Durability::EveryWrite] {
            for (policy, buffered) in [
                (FullPolicy::Reject, true),
                (FullPolicy::OverwriteOldest, true),
                (FullPolicy::Reject, false),
            ] {
                let cfg = Config::new()
                    .segment_sectors(2)
                    .index_interval(256)
                    .full_policy(policy);
                let _ = std::fs::remove_file(&path);
                let mut log = new_file_log(&path, 4 * 8192, cfg, durability, buffered);
                log.commit("c", 0).unwrap();
                let state = |log: &mut FileLog| {
                    let first = log.first_offset();
                    (first, log.committed("c").unwrap(), log.next_offset())
                };
                for i in 0..40 {
                    log.append(&rec(i)).unwrap();
                }
                log.sync().unwrap();
                let durable = std::fs::read(&path).unwrap();
                trace::take();
                // `states[k]`: the log after `k` operations past the sync, and the I/O calls
                // made by then.
                let mut states = vec![(state(&mut log), 0)];
                let (mut events, mut rng) = (Vec::new(), 0x9E37_79B9_7F4A_7C15u64);
                for _ in 0..400 {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    let (first, cursor, next) = state(&mut log);
                    let done = match rng % 32 {
                        0 | 1 => log.commit("c", cursor + (rng >> 8) % ((next - cursor) / 2 + 1)),
                        2 => log.trim_front(first + (rng >> 8) % ((next - first) / 4 + 1)),
                        3 => log
                            .append_batch(&[&rec(next), &rec(next + 1), &rec(next + 2)])
                            .map(drop),
                        4 => log.rewind("c", first + (rng >> 8) % (cursor.max(first) - first + 1)),
                        5 => log.truncate_back(
                            next - (rng >> 8) % ((next - cursor.max(first)) / 2 + 1),
                        ),
                        _ => log.append(&rec(next)).map(drop),
                    };
                    if let Err(e) = done {
                        // Full (`Reject`): the consumer catches up, which lets segments go.
                        assert_eq!(e.kind(), crate::Error::Full);
                        log.commit("c", next).unwrap();
                    }
                    events.extend(trace::take());
                    states.push((state(&mut log), events.len()));
                }
                drop(log);
                events.extend(trace::take());
                assert!(events.iter().any(|e| matches!(e, Event::Erase { .. })));
                each_cut_image(&durable, &events, |img, cut, at| {
                    let what = format!("{durability:?} {policy:?} buffered {buffered}: {at}");
                    let mut log: Log<RamStorage<'_>> =
                        Log::mount(RamStorage::new(img, 4, 4096).unwrap(), cfg).unwrap();
                    let got = (
                        log.first_offset(),
                        log.committed("c").unwrap(),
                        log.next_offset(),
                    );
                    let returned = states.iter().filter(|(_, n)| *n <= cut).count();
                    let oldest = match durability {
                        Durability::Explicit => 0,
                        Durability::EveryWrite => returned - 1,
                    };
                    // The log after operation `k`, or during operation `k + 1` once it let
                    // the head go (the first offset moved on) but before its own write.
                    let fits = |k: usize| {
                        let (before, after) = (states[k].0, states.get(k + 1).map(|s| s.0));
                        got == before
                            || after.is_some_and(|after| {
                                (before.0..=after.0).contains(&got.0)
                                    && (got.1 == before.1 || got.1 == after.1)
                                    && (got.2 == before.2 || got.2 == after.2)
                            })
                    };
                    assert!(
                        (oldest..states.len()).any(fits),
                        "{what}: (first, cursor, next) = {got:?}, not the log after or during \
                         any operation from the {oldest}th on"
                    );
                    let mut buf = [0u8; 160];
                    for o in got.0..got.2 {
                        let n = log.read(o, &mut buf);
                        assert_eq!(n, Ok(rec(o).len()), "{what}: offset {o} of {got:?}");
                        assert_eq!(buf[..rec(o).len()], rec(o)[..], "{what}: offset {o}");
                    }
                });
            }
        }
    }

    /// End to end, on a model of the disk (`disk_after`): a trim and a consumer commit that each
    /// let the oldest segment go, under `Reject`, and a truncation that drops whole segments,
    /// cut by power loss after every I/O call with many choices of which unsynced pages reached
    /// the disk, leave the log with the old state or the new one, never between: the first
    /// offset, the cursor and the next offset each at its old or new value, every record from
    /// the first offset and from the cursor on intact (DESIGN.md §D3, §D6) — with segments of one
    /// disk page and of two. Without the barrier before an erase, the erased segments outlived
    /// the state that let them go.
    #[test]
    fn power_loss_never_applies_a_trim_commit_or_truncation_partly() {
        let rec = |i: u64| vec![(i % 251) as u8; 100];
        // Also with two 4 KiB pages per segment (frames and index slots on different pages).
        for sectors in [1, 2] {
            let cfg = Config::new()
                .segment_sectors(sectors)
                .index_interval(512)
                .full_policy(FullPolicy::Reject);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("log");
            // A full log (one spare left) made durable, still open: the spare is known erased, so
            // no erase of it syncs the op's first writes by the way.
            let full = |durability| {
                let _ = std::fs::remove_file(&path);
                let mut log: FileLog =
                    FileLog::create(&path, 8 * 4096 * sectors as u64, cfg, durability).unwrap();
                log.commit("c", 0).unwrap();
                let mut next = 0;
                while log.append(&rec(next)).is_ok() {
                    next += 1;
                }
                log.sync().unwrap();
                let durable = std::fs::read(&path).unwrap();
                (log, durable, next)
            };
            for durability in [Durability::Explicit, Durability::EveryWrite] {
                // The second segment's base: the first trim point that frees the oldest segment. One
                // past it, a head erased under a lost state leaves the first offset (or the records
                // below the cursor) at that base, neither the old value nor the new.
                let (_, durable, next) = full(durability);
                let probe = dir.path().join("probe");
                let second = (1..next)
                    .find(|&o| {
                        std::fs::write(&probe, &durable).unwrap();
                        let mut log: FileLog = FileLog::open(&probe, cfg, durability).unwrap();
                        let before = log.stats().bytes_used;
                        log.trim_front(o).unwrap();
                        log.stats().bytes_used < before
                    })
                    .unwrap();
                for op in ["trim", "commit", "truncate"] {
                    let to = second + 1;
                    let (mut log, durable, next) = full(durability);
                    let before = log.stats().bytes_used;
                    trace::take();
                    // A trim erases the head at once; a commit lets the next rotation take it; a
                    // truncation to the second segment erases the segments after it (holes).
                    let mut appended = next;
                    match op {
                        "trim" => log.trim_front(to).unwrap(),
                        "truncate" => log.truncate_back(to).unwrap(),
                        _ => {
                            log.commit("c", to).unwrap();
                            while log.first_offset() == 0 && appended < next + 100 {
                                log.append(&rec(appended)).unwrap();
                                appended += 1;
                            }
                        }
                    }
                    let freed = log.stats().bytes_used < before
                        || log.first_offset() > 0 && op == "commit"
                        || op == "truncate";
                    let events = trace::take();
                    let erases = events
                        .iter()
                        .filter(|e| matches!(e, Event::Erase { .. }))
                        .count();
                    drop(log);
                    assert!(erases > 0, "{durability:?} {op}: no erase");
                    assert!(
                        freed,
                        "{durability:?} {op}: the oldest segment was not reclaimed"
                    );
                    let mut checked = 0;
                    each_cut_image(&durable, &events, |img, _, at| {
                        let what = format!("{durability:?} {op}, {sectors} sectors: {at}");
                        let mut log: Log<RamStorage<'_>> =
                            Log::mount(RamStorage::new(img, 4, 4096).unwrap(), cfg).unwrap();
                        let first = log.first_offset();
                        let cursor = log.committed("c").unwrap();
                        let end = log.next_offset();
                        if op == "trim" {
                            assert!(first == 0 || first == to, "{what}: first offset {first}");
                            assert_eq!(cursor, 0, "{what}");
                        } else if op == "truncate" {
                            // All records, or those below `to`: none missing in between.
                            assert!(end == next || end == to, "{what}: next offset {end}");
                            assert_eq!((first, cursor), (0, 0), "{what}");
                        } else {
                            assert!(cursor == 0 || cursor == to, "{what}: cursor {cursor}");
                            // Nothing the consumer has not durably committed past is gone.
                            assert!(
                                first <= cursor,
                                "{what}: first offset {first}, cursor {cursor}"
                            );
                        }
                        // Appends after the last sync may be lost (`Explicit`), not reordered.
                        if op != "truncate" {
                            assert!(
                                (next..=appended).contains(&end),
                                "{what}: next offset {end}"
                            );
                        }
                        let mut buf = [0u8; 100];
                        for o in first.max(cursor)..end {
                            assert_eq!(log.read(o, &mut buf), Ok(100), "{what}: offset {o}");
                            assert_eq!(buf.to_vec(), rec(o), "{what}: offset {o}");
                        }
                        checked += 1;
                    });
                    assert!(checked > 100);
                }
            }
        }
    }

    /// The KV journal on a file, end to end on the disk model (`disk_after`): writes after the
    /// last sync, through compactions (the generation switch erases the older partition,
    /// copies the live entries, then commits with a header between two syncs), cut by power
    /// loss after every I/O call with many choices of which unsynced pages reached the disk,
    /// leave the map of some prefix of the writes — every synced write in it, never a mix,
    /// never a mount error. Without the sync before the header, a header reached the disk
    /// while a page of the entries it commits did not: mount failed with `Corrupt`.
    #[test]
    fn power_loss_leaves_the_kv_map_of_a_prefix_of_its_writes() {
        use crate::{FileStorage, Kv, KvConfig, MapIndex};
        type Map = BTreeMap<Vec<u8>, Vec<u8>>;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv");
        let cfg = KvConfig::new().max_key_len(8).high_water_percent(60);
        let storage = FileStorage::create(&path, 8 * 4096, 4, 4096, Durability::Explicit).unwrap();
        let mut kv: Kv<FileStorage, MapIndex> = Kv::format(storage, cfg).unwrap();
        // Write `i`: 24 keys overwritten in turn, every fifth write deletes one. The live set
        // outgrows a 4 KiB page, so a compaction's copy and its header lie on different pages.
        let write = |kv: &mut Kv<FileStorage, MapIndex>, model: &mut Map, i: u32| {
            let key = format!("k{}", i % 24).into_bytes();
            if i % 5 == 4 {
                kv.delete(&key).unwrap();
                model.remove(&key);
            } else {
                let value = vec![(i % 251) as u8; 200 + (i % 7) as usize * 40];
                kv.set(&key, &value).unwrap();
                model.insert(key, value);
            }
        };
        let (mut model, mut states) = (Map::new(), Vec::new());
        for i in 0..30 {
            write(&mut kv, &mut model, i);
        }
        kv.sync().unwrap();
        states.push(model.clone());
        let durable = std::fs::read(&path).unwrap();
        let generation = kv.stats().generation;
        trace::take();
        for i in 30..150 {
            write(&mut kv, &mut model, i);
            states.push(model.clone());
        }
        drop(kv);
        let events = trace::take();
        assert!(
            events.iter().any(|e| matches!(e, Event::Erase { .. })),
            "no compaction"
        );

        let mut generations = std::collections::BTreeSet::new();
        each_cut_image(&durable, &events, |img, _, at| {
            let what = at;
            let storage = RamStorage::new(img, 4, 4096).unwrap();
            let mut kv: Kv<RamStorage<'_>, MapIndex> =
                Kv::mount(storage, cfg).unwrap_or_else(|e| panic!("{what}: mount failed: {e}"));
            generations.insert(kv.stats().generation);
            let map: Map = kv.entries().unwrap().into_iter().collect();
            assert!(
                states.contains(&map),
                "{what}: a map no prefix of the writes gives ({} keys)",
                map.len()
            );
        });
        // The cuts met both sides of at least one compaction.
        assert!(
            generations.len() >= 2 && generations.contains(&generation),
            "{generations:?}"
        );
    }
}
