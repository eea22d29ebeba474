//! [`FileKv`]: a [`Kv`] in a file, with a durability mode — the KV counterpart of
//! [`FileLog`](super::FileLog).
//!
//! It opens the file (the geometry comes from the image), keeps an in-RAM index
//! ([`MapIndex`]: O(log n) lookups, ascending-key iteration), hands every write's bytes to the
//! kernel before the write returns, applies the [`Durability`] mode (an `fdatasync` after each
//! write in [`Durability::EveryWrite`]) and names the file in its errors. The bytes are those
//! of a KV on flash: an image made here opens on a device, and a device's KV partition dump
//! opens here.

use crate::error::Error;
use crate::kv::{Kv, KvConfig, KvCursor, KvOp, KvStats, MapIndex};
use crate::storage::file::{
    Durability, FileError, FileStorage, DEFAULT_ERASE_SIZE, DEFAULT_WRITE_SIZE,
};
use std::path::Path;
use std::vec::Vec;

/// A [`Kv`] over a [`FileStorage`] with an in-RAM index, and its [`Durability`] mode.
///
/// ```no_run
/// use tidelog::{Durability, FileKv, KvConfig};
/// let mut kv = FileKv::create("settings.tkv", 64 << 10, KvConfig::new(), Durability::EveryWrite)?;
/// kv.set(b"wifi.ssid", b"workshop")?;
/// assert_eq!(kv.get_vec(b"wifi.ssid")?.as_deref(), Some(&b"workshop"[..]));
/// kv.close()?;
/// # Ok::<(), tidelog::FileError>(())
/// ```
pub struct FileKv {
    kv: Kv<FileStorage, MapIndex>,
}

impl FileKv {
    /// Creates a new KV file of `capacity` bytes (it must not exist) with a 4-byte write unit
    /// and 4 KiB erase sectors; each of its two partitions gets half the sectors.
    pub fn create(
        path: impl AsRef<Path>,
        capacity: u64,
        config: KvConfig,
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

    /// [`create`](Self::create) with a chosen write unit and erase sector (e.g. to build the
    /// image of a device's KV partition).
    pub fn create_with_geometry(
        path: impl AsRef<Path>,
        capacity: u64,
        write_size: usize,
        erase_size: usize,
        config: KvConfig,
        durability: Durability,
    ) -> Result<Self, FileError> {
        let path = path.as_ref();
        let storage = FileStorage::create(path, capacity, write_size, erase_size, durability)?;
        super::format_new(path, storage, |s| Kv::format(s, config)).map(Self::from_kv)
    }

    /// Opens an existing KV file for writing (exclusive: a second writer gets
    /// [`Error::Locked`]) and mounts it. `config` supplies the high-water mark; the key and
    /// value limits come from the image.
    pub fn open(
        path: impl AsRef<Path>,
        config: KvConfig,
        durability: Durability,
    ) -> Result<Self, FileError> {
        let storage = FileStorage::open(path, durability)?;
        Self::mount(storage, config)
    }

    /// Opens an existing KV file for reading only: no lock, never writes; writes fail with
    /// [`StorageError::ReadOnly`](crate::StorageError::ReadOnly).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, FileError> {
        let storage = FileStorage::open_read_only(path)?;
        Self::mount(storage, KvConfig::new())
    }

    fn mount(storage: FileStorage, config: KvConfig) -> Result<Self, FileError> {
        super::mount_file(storage, |s| Kv::mount(s, config)).map(Self::from_kv)
    }

    fn from_kv(mut kv: Kv<FileStorage, MapIndex>) -> Self {
        if !kv.storage().is_read_only() {
            // Turning buffering on cannot fail.
            let _ = kv.storage_mut().set_write_buffering(true);
        }
        FileKv { kv }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.kv.storage().path()
    }

    /// The durability mode.
    pub fn durability(&self) -> Durability {
        self.kv.storage().durability()
    }

    /// The bare KV (for reads; writes made through it are handed to the kernel at the next
    /// operation of this `FileKv`, and are durable only after [`sync`](Self::sync)).
    pub fn kv_mut(&mut self) -> &mut Kv<FileStorage, MapIndex> {
        &mut self.kv
    }

    fn err(&mut self, e: Error) -> FileError {
        let io = self.kv.storage_mut().take_io_error();
        FileError::at(e, self.path()).with_source(io)
    }

    /// Runs a write operation, hands its bytes to the kernel, then syncs in
    /// [`Durability::EveryWrite`] mode.
    fn write<T>(
        &mut self,
        op: impl FnOnce(&mut Kv<FileStorage, MapIndex>) -> crate::Result<T>,
    ) -> Result<T, FileError> {
        let r = op(&mut self.kv);
        let flushed = self.kv.storage_mut().flush();
        if flushed.is_err() {
            self.kv.poison();
        }
        let r = r.and_then(|v| {
            flushed?;
            if self.durability() == Durability::EveryWrite {
                self.kv.sync()?;
            }
            Ok(v)
        });
        r.map_err(|e| self.err(e))
    }

    /// The value of `key`, or `None` ([`Kv::get_vec`]).
    pub fn get_vec(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, FileError> {
        self.kv.get_vec(key).map_err(|e| self.err(e))
    }

    /// Copies the value of `key` into `buf` ([`Kv::get`]).
    pub fn get(&mut self, key: &[u8], buf: &mut [u8]) -> Result<Option<usize>, FileError> {
        self.kv.get(key, buf).map_err(|e| self.err(e))
    }

    /// Whether `key` is present.
    pub fn contains_key(&mut self, key: &[u8]) -> Result<bool, FileError> {
        self.kv.contains_key(key).map_err(|e| self.err(e))
    }

    /// Sets `key` to `value` ([`Kv::set`]).
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), FileError> {
        self.write(|kv| kv.set(key, value))
    }

    /// Deletes `key`; returns whether it was present ([`Kv::delete`]).
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, FileError> {
        self.write(|kv| kv.delete(key))
    }

    /// Sets several keys atomically ([`Kv::set_multiple`]).
    pub fn set_multiple(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), FileError> {
        self.write(|kv| kv.set_multiple(pairs))
    }

    /// Applies sets and deletes atomically ([`Kv::apply`]).
    pub fn apply(&mut self, ops: &[KvOp<'_>]) -> Result<(), FileError> {
        self.write(|kv| kv.apply(ops))
    }

    /// Compacts now ([`Kv::compact`]).
    pub fn compact(&mut self) -> Result<(), FileError> {
        self.write(|kv| kv.compact())
    }

    /// Removes every key, crash-safely ([`Kv::clear`]).
    pub fn clear(&mut self) -> Result<(), FileError> {
        self.write(|kv| kv.clear())
    }

    /// The high-water flag ([`Kv::is_high_water_mark_triggered`]).
    pub fn is_high_water_mark_triggered(&self) -> bool {
        self.kv.is_high_water_mark_triggered()
    }

    /// Size and state ([`Kv::stats`]; `live_keys` is always known here).
    pub fn stats(&self) -> KvStats {
        self.kv.stats()
    }

    /// A cursor before the first live entry, in ascending key order ([`Kv::cursor`]).
    pub fn cursor(&mut self) -> Result<KvCursor, FileError> {
        self.kv.cursor().map_err(|e| self.err(e))
    }

    /// The length of the value of `key`, or `None` ([`Kv::value_len`]).
    pub fn value_len(&mut self, key: &[u8]) -> Result<Option<u32>, FileError> {
        self.kv.value_len(key).map_err(|e| self.err(e))
    }

    /// The next live entry after `cursor` as vectors ([`Kv::next_entry_vec`]).
    #[allow(clippy::type_complexity)]
    pub fn next_entry_vec(
        &mut self,
        cursor: &mut KvCursor,
    ) -> Result<Option<(Vec<u8>, Vec<u8>)>, FileError> {
        self.kv.next_entry_vec(cursor).map_err(|e| self.err(e))
    }

    /// Every live entry, in ascending key order.
    #[allow(clippy::type_complexity)]
    pub fn entries(&mut self) -> Result<Vec<(Vec<u8>, Vec<u8>)>, FileError> {
        self.kv.entries().map_err(|e| self.err(e))
    }

    /// `fdatasync`: every write before it survives power loss once it returns.
    pub fn sync(&mut self) -> Result<(), FileError> {
        self.kv.sync().map_err(|e| self.err(e))
    }

    /// Closes the KV: hands everything buffered to the kernel and releases the file and its
    /// lock, returning the error dropping would have lost (see [`FileLog::close`](super::FileLog::close)).
    pub fn close(self) -> Result<(), FileError> {
        self.kv.into_storage().close()
    }
}

impl core::fmt::Debug for FileKv {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FileKv").field("kv", &self.kv).finish()
    }
}
