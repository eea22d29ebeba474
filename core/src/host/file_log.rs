//! [`FileLog`]: a [`Log`] in a file, with the [`Durability`] mode applied.
//!
//! A thin wrapper: every bit of log logic is the core's [`Log`]. It opens the file, gathers
//! each operation's writes into as few `pwrite`s as possible (handing them to the kernel
//! before the operation returns), applies the durability mode (an `fdatasync` after each
//! write operation in [`Durability::EveryWrite`]) and turns errors into [`FileError`]s that
//! name the file.

use crate::config::Config;
use crate::error::Error;
use crate::log::cursor::Iter;
use crate::log::Log;
use crate::storage::file::{
    Durability, FileError, FileStorage, DEFAULT_ERASE_SIZE, DEFAULT_WRITE_SIZE,
};
use std::path::Path;

/// A [`Log`] over a [`FileStorage`], with its [`Durability`] mode.
///
/// Reading methods of [`Log`] that take `&self` are reachable through `Deref`
/// (`next_offset`, `committed`, `consumers`, `layout`, …); the writing ones are wrapped here so
/// the durability mode applies. [`log_mut`](Self::log_mut) reaches the bare log: writes made
/// through it are durable only after [`sync`](Self::sync).
///
/// ```no_run
/// use tidelog::{Config, Durability, FileLog};
/// let mut log: FileLog = FileLog::create("app.tlog", 16 << 20, Config::new().segment_sectors(64),
///                                         Durability::Explicit)?;
/// for i in 0..100u32 {
///     log.append(&i.to_le_bytes())?;
/// }
/// log.sync()?; // group commit: one fdatasync for the 100 appends
/// drop(log);
/// let mut log: FileLog = FileLog::open("app.tlog", Config::new(), Durability::Explicit)?;
/// assert_eq!(log.next_offset(), 100);
/// # Ok::<(), tidelog::FileError>(())
/// ```
pub struct FileLog<const C: usize = 4> {
    log: Log<FileStorage, C>,
}

impl<const C: usize> FileLog<C> {
    /// Creates a new log file of `capacity` bytes (it must not exist) with a 4-byte write
    /// unit and 4 KiB erase sectors ([`DEFAULT_WRITE_SIZE`], [`DEFAULT_ERASE_SIZE`]), laid
    /// out by `config`, and returns it open for writing.
    ///
    /// Mount reads every segment header, so pick `config.segment_sectors` for tens to a few
    /// hundred segments (e.g. 1 GiB in 4 MiB segments: `segment_sectors(1024)`); in
    /// [`Durability::Explicit`] mode each segment filled between two syncs also costs one
    /// `fdatasync` (see [`FileStorage`](crate::FileStorage)'s durability docs), so keep segments
    /// well above the bytes of a sync group. Creating
    /// writes the whole capacity once (erased bytes are `0xFF`). If the process dies during
    /// `create`, [`open`](Self::open) reports [`Error::NotFormatted`]: delete the file and
    /// create it again.
    pub fn create(
        path: impl AsRef<Path>,
        capacity: u64,
        config: Config,
        durability: Durability,
    ) -> Result<Self, FileError> {
        Self::create_with_geometry(
            path,
            capacity,
            DEFAULT_WRITE_SIZE,
            DEFAULT_ERASE_SIZE,
            config,
            durability,
        )
    }

    /// [`create`](Self::create) with a chosen write unit and erase sector, e.g. to build an
    /// image for a device with that geometry.
    pub fn create_with_geometry(
        path: impl AsRef<Path>,
        capacity: u64,
        write_size: usize,
        erase_size: usize,
        config: Config,
        durability: Durability,
    ) -> Result<Self, FileError> {
        let path = path.as_ref();
        let storage = FileStorage::create(path, capacity, write_size, erase_size, durability)?;
        super::format_new(path, storage, |s| Log::format(s, config)).map(Self::from_log)
    }

    /// Opens an existing log file for writing (exclusive: a second writer gets
    /// [`Error::Locked`]) and mounts it, recovering from any crash. The geometry comes from
    /// the image; `config` supplies the full policy.
    pub fn open(
        path: impl AsRef<Path>,
        config: Config,
        durability: Durability,
    ) -> Result<Self, FileError> {
        let storage = FileStorage::open(path, durability)?;
        Self::mount(storage, config)
    }

    /// Opens an existing log file for reading only: no lock (works while a writer runs),
    /// never writes. It shows the log as it was when opened; open again to see newer records.
    /// Writing methods fail with [`StorageError::ReadOnly`](crate::StorageError::ReadOnly).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, FileError> {
        let storage = FileStorage::open_read_only(path)?;
        Self::mount(storage, Config::new())
    }

    fn mount(storage: FileStorage, config: Config) -> Result<Self, FileError> {
        super::mount_file(storage, |s| Log::mount(s, config)).map(Self::from_log)
    }

    /// Wraps an already mounted log (and turns on its storage's write buffering, flushed
    /// after every operation).
    pub fn from_log(mut log: Log<FileStorage, C>) -> Self {
        if !log.storage().is_read_only() {
            // Turning buffering on cannot fail.
            let _ = log.storage_mut().set_write_buffering(true);
        }
        FileLog { log }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.log.storage().path()
    }

    /// The durability mode.
    pub fn durability(&self) -> Durability {
        self.log.storage().durability()
    }

    /// The bare log. Its storage buffers writes: what is written through it reaches the
    /// kernel at the next operation of this `FileLog`, at `sync`, at drop, or at
    /// `log_mut().storage_mut().flush()`.
    pub fn log_mut(&mut self) -> &mut Log<FileStorage, C> {
        &mut self.log
    }

    /// Unwraps the log (its storage's write buffering is turned off, so every write of the
    /// bare log reaches the kernel when it returns).
    pub fn into_log(mut self) -> Result<Log<FileStorage, C>, FileError> {
        self.log
            .storage_mut()
            .set_write_buffering(false)
            .map_err(|e| self.err(e.into()))?;
        Ok(self.log)
    }

    fn err(&mut self, e: Error) -> FileError {
        let io = self.log.storage_mut().take_io_error();
        FileError::at(e, self.path()).with_source(io)
    }

    /// Runs a write operation, then syncs in [`Durability::EveryWrite`] mode.
    fn write<T>(
        &mut self,
        op: impl FnOnce(&mut Log<FileStorage, C>) -> crate::Result<T>,
    ) -> Result<T, FileError> {
        let r = op(&mut self.log);
        // Hand the operation's bytes to the kernel (even after a failure: the core's view of
        // the medium includes what it programmed).
        let flushed = self.log.storage_mut().flush();
        if flushed.is_err() {
            // What the log believes is on the medium is not: refuse writes until remounted.
            self.log.poison();
        }
        let r = r.and_then(|v| {
            flushed?;
            if self.durability() == Durability::EveryWrite {
                self.log.sync()?;
            }
            Ok(v)
        });
        r.map_err(|e| self.err(e))
    }

    /// Appends one record and returns its offset ([`Log::append`]); synced before returning
    /// in [`Durability::EveryWrite`] mode.
    pub fn append(&mut self, record: &[u8]) -> Result<u64, FileError> {
        self.write(|l| l.append(record))
    }

    /// Appends records atomically ([`Log::append_batch`]).
    pub fn append_batch(&mut self, records: &[&[u8]]) -> Result<u64, FileError> {
        self.write(|l| l.append_batch(records))
    }

    /// Appends any number of records in as many frames as needed ([`Log::extend`]): each
    /// frame atomic, the whole not.
    pub fn extend(&mut self, records: &[&[u8]]) -> Result<u64, FileError> {
        self.write(|l| l.extend(records))
    }

    /// Commits a consumer's position ([`Log::commit`]).
    pub fn commit(&mut self, name: &str, offset: u64) -> Result<(), FileError> {
        self.write(|l| l.commit(name, offset))
    }

    /// Moves a consumer's position, backwards allowed ([`Log::rewind`]).
    pub fn rewind(&mut self, name: &str, offset: u64) -> Result<(), FileError> {
        self.write(|l| l.rewind(name, offset))
    }

    /// Deletes a consumer ([`Log::remove_consumer`]).
    pub fn remove_consumer(&mut self, name: &str) -> Result<(), FileError> {
        self.write(|l| l.remove_consumer(name))
    }

    /// Drops records below `offset` ([`Log::trim_front`]).
    pub fn trim_front(&mut self, offset: u64) -> Result<(), FileError> {
        self.write(|l| l.trim_front(offset))
    }

    /// Drops records at and above `len` ([`Log::truncate_back`]).
    pub fn truncate_back(&mut self, len: u64) -> Result<(), FileError> {
        self.write(|l| l.truncate_back(len))
    }

    /// `fdatasync`: everything written before it survives power loss once it returns.
    pub fn sync(&mut self) -> Result<(), FileError> {
        self.log.sync().map_err(|e| self.err(e))
    }

    /// For a handle from [`open_read_only`](Self::open_read_only): mounts the file again, to
    /// see what its writer has added (or trimmed) since. Read positions taken before
    /// ([`ReadCursor`](crate::ReadCursor)s) find their records again by offset.
    ///
    /// Errors: [`Error::InvalidArgument`] on a writable handle (it sees its own writes), and
    /// those of [`open_read_only`](Self::open_read_only).
    pub fn refresh(&mut self) -> Result<(), FileError> {
        if !self.log.storage().is_read_only() {
            return Err(FileError::at(
                Error::InvalidArgument("refresh is for read-only handles"),
                self.path(),
            ));
        }
        *self = Self::open_read_only(self.path())?;
        Ok(())
    }

    /// Closes the log: hands everything still buffered to the kernel and releases the file
    /// and its writer lock, returning the error that dropping would have lost. It does not
    /// sync (in [`Durability::Explicit`] mode call [`sync`](Self::sync) first, for power-loss
    /// durability); every operation before it survives a process crash once it returns `Ok`.
    pub fn close(self) -> Result<(), FileError> {
        self.log.into_storage().close()
    }

    /// Copies the record at `offset` into `buf` ([`Log::read`]).
    pub fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<usize, FileError> {
        self.log.read(offset, buf).map_err(|e| self.err(e))
    }

    /// The record at `offset` as a vector ([`Log::read_vec`]).
    pub fn read_vec(&mut self, offset: u64) -> Result<std::vec::Vec<u8>, FileError> {
        self.log.read_vec(offset).map_err(|e| self.err(e))
    }

    /// The length of the record at `offset` ([`Log::record_len`]).
    pub fn record_len(&mut self, offset: u64) -> Result<usize, FileError> {
        self.log.record_len(offset).map_err(|e| self.err(e))
    }

    /// The record at `cursor` as a vector, moving it on ([`Log::read_next_vec`]).
    #[allow(clippy::type_complexity)]
    pub fn read_next_vec(
        &mut self,
        cursor: &mut crate::ReadCursor,
    ) -> Result<Option<(u64, std::vec::Vec<u8>)>, FileError> {
        self.log.read_next_vec(cursor).map_err(|e| self.err(e))
    }

    /// Copies the record at `cursor` into `buf`, moving it on ([`Log::read_next`]).
    pub fn read_next(
        &mut self,
        cursor: &mut crate::ReadCursor,
        buf: &mut [u8],
    ) -> Result<Option<(u64, usize)>, FileError> {
        self.log.read_next(cursor, buf).map_err(|e| self.err(e))
    }

    /// Iterates from `from` ([`Log::iter`]; the iterator also yields owned
    /// records).
    pub fn iter(&mut self, from: u64) -> Result<Iter<'_, FileStorage, C>, FileError> {
        let path = self.path().to_path_buf();
        self.log.iter(from).map_err(|e| FileError::at(e, &path))
    }
}

impl<const C: usize> core::ops::Deref for FileLog<C> {
    type Target = Log<FileStorage, C>;
    fn deref(&self) -> &Self::Target {
        &self.log
    }
}

impl<const C: usize> core::fmt::Debug for FileLog<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileLog").field("log", &self.log).finish()
    }
}
