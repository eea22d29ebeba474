//! [`FileStorage`]: a log in one file of fixed capacity (feature `file`, Unix and Windows).
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
mod probe;
#[cfg(test)]
pub(crate) mod trace;

pub use error::FileError;

use super::{check_bounds, check_erase, check_program, validate_geometry, Storage};
use crate::error::{ConfigError, Error, StorageError};
use buffer::{ReadCache, Run};
use std::boxed::Box;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::vec::Vec;

/// When a [`FileLog`](crate::FileLog) makes its writes durable (see the
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
    /// [`FileLog`](crate::FileLog) turns it on and flushes after every operation, so an
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
    /// this storage durable too ([`SharedFileLog`](crate::SharedFileLog)'s group commit syncs through it).
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
        trace::record(trace::Event::Erase { from, to });
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
