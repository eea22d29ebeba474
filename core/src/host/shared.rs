//! [`SharedFileLog`]: one file log shared by many threads, with group commit.
//!
//! A [`FileLog`] takes `&mut self`; behind a plain mutex, threads that each want their append
//! durable (`Durability::EveryWrite`) would run their `fdatasync`s one after another. Here the
//! lock covers only the log operation, which hands its bytes to the kernel and takes a ticket
//! (the count of operations handed over so far). The `fdatasync` runs outside the lock, on a
//! second handle of the same file, as **leader/follower group commit**: a thread that needs its
//! ticket durable and finds no sync running becomes the leader — it notes the newest ticket
//! handed over, syncs, and publishes that ticket as durable; threads that arrive meanwhile wait
//! for it, and a sync that started before their operation returned is not enough for them (the
//! next leader covers them). So concurrent durable appends share one `fdatasync` per group,
//! and appends go on while a sync is running.
//!
//! The log itself runs in [`Durability::Explicit`] mode (its own `sync` is never needed for
//! the operations' durability); the [`Durability`] given to the shared handle says whether each
//! write operation waits for its group's sync before it returns.

use super::FileLog;
use crate::config::Config;
use crate::error::Error;
use crate::storage::file::{Durability, FileError};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::vec::Vec;

/// A [`FileLog`] that many threads share (`Sync`), with leader/follower group commit: the
/// lock covers each log operation, the `fdatasync` runs outside it and covers every
/// operation handed to the kernel before it started.
///
/// ```no_run
/// use std::sync::Arc;
/// use tidelog::{Config, Durability, SharedFileLog};
/// let log = Arc::new(SharedFileLog::<16>::create("events.tlog", 64 << 20, Config::new(),
///                                                Durability::EveryWrite)?);
/// let workers: Vec<_> = (0..4u8).map(|t| {
///     let log = Arc::clone(&log);
///     std::thread::spawn(move || log.append(&[t; 100]))  // durable when it returns
/// }).collect();
/// for w in workers { w.join().unwrap()?; }
/// # Ok::<(), tidelog::FileError>(())
/// ```
pub struct SharedFileLog<const C: usize = 4> {
    log: Mutex<Option<FileLog<C>>>,
    path: PathBuf,
    durability: Durability,
    /// Write operations handed to the kernel so far (each one's ticket).
    written: AtomicU64,
    group: Mutex<Group>,
    synced: Condvar,
}

/// The group commit's state.
#[derive(Debug, Default)]
struct Group {
    /// Every ticket up to this one is durable.
    durable: u64,
    /// A leader is syncing.
    syncing: bool,
    /// A second handle of the file (a `dup` of the log's): `fdatasync` on it covers the
    /// writes of every handle. It shares the writer lock, so [`close`](SharedFileLog::close)
    /// drops it; `None` for a read-only handle and after `close`. A leader syncs through a
    /// clone and drops it before it clears `syncing`.
    sync_file: Option<Arc<File>>,
}

impl<const C: usize> SharedFileLog<C> {
    /// Creates a new log file ([`FileLog::create`]) shared by threads.
    pub fn create(
        path: impl AsRef<Path>,
        capacity: u64,
        config: Config,
        durability: Durability,
    ) -> Result<Self, FileError> {
        let log = FileLog::create(path, capacity, config, Durability::Explicit)?;
        Self::new(log, durability)
    }

    /// Opens an existing log file for writing ([`FileLog::open`]) shared by threads.
    pub fn open(
        path: impl AsRef<Path>,
        config: Config,
        durability: Durability,
    ) -> Result<Self, FileError> {
        let log = FileLog::open(path, config, Durability::Explicit)?;
        Self::new(log, durability)
    }

    /// Opens a log file for reading only ([`FileLog::open_read_only`]) shared by threads.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, FileError> {
        let log = FileLog::open_read_only(path)?;
        Self::new(log, Durability::Explicit)
    }

    /// Shares `log`; `durability` says whether write operations wait for their group's sync.
    pub fn new(mut log: FileLog<C>, durability: Durability) -> Result<Self, FileError> {
        let path = log.path().to_path_buf();
        let read_only = log.storage().is_read_only();
        log.log_mut()
            .storage_mut()
            .set_durability(Durability::Explicit);
        let sync_file = if read_only {
            None
        } else {
            Some(Arc::new(
                log.storage()
                    .try_clone_file()
                    .map_err(|e| FileError::io(e, &path))?,
            ))
        };
        Ok(SharedFileLog {
            log: Mutex::new(Some(log)),
            path,
            durability,
            written: AtomicU64::new(0),
            group: Mutex::new(Group {
                sync_file,
                ..Group::default()
            }),
            synced: Condvar::new(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The durability mode of write operations.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    fn lock(&self) -> Result<MutexGuard<'_, Option<FileLog<C>>>, FileError> {
        // A panic in another thread while it held the lock leaves the log as that operation
        // left it, which the log's own failure handling covers (it refuses writes until
        // remounted when a write failed part-way).
        Ok(self.log.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn closed(&self) -> FileError {
        FileError::at(Error::Closed, &self.path)
    }

    /// Runs `f` on the log under the lock (reads, stats, cursors: anything that needs no
    /// durability). [`Error::Closed`] after [`close`](Self::close).
    pub fn with<T>(&self, f: impl FnOnce(&mut FileLog<C>) -> T) -> Result<T, FileError> {
        let mut guard = self.lock()?;
        let log = guard.as_mut().ok_or_else(|| self.closed())?;
        Ok(f(log))
    }

    /// Runs a write operation under the lock and takes its ticket; in
    /// [`Durability::EveryWrite`] mode, waits until the ticket is durable.
    fn write<T>(
        &self,
        op: impl FnOnce(&mut FileLog<C>) -> Result<T, FileError>,
    ) -> Result<T, FileError> {
        let (value, ticket) = {
            let mut guard = self.lock()?;
            let log = guard.as_mut().ok_or_else(|| self.closed())?;
            let value = op(log)?;
            // The operation's bytes are in the kernel's hands (FileLog flushes before it
            // returns): a sync that starts from now on covers them.
            (value, self.written.fetch_add(1, Ordering::SeqCst) + 1)
        };
        if self.durability == Durability::EveryWrite {
            self.make_durable(ticket)?;
        }
        Ok(value)
    }

    /// Waits until every operation up to `ticket` is durable, syncing as the group's leader
    /// when no sync is running.
    fn make_durable(&self, ticket: u64) -> Result<(), FileError> {
        let mut g = self.group.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if g.durable >= ticket {
                return Ok(());
            }
            if g.syncing {
                g = self.synced.wait(g).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // Gone only after `close`, whose own sync made every ticket durable (unless it
            // failed); a read-only handle never hands out a ticket.
            let Some(file) = g.sync_file.clone() else {
                return Err(self.closed());
            };
            g.syncing = true;
            // Every operation with a ticket up to `target` was handed to the kernel before
            // this point: the sync below covers them all.
            let target = self.written.load(Ordering::SeqCst);
            drop(g);
            let r = crate::storage::file::io::sync_data(&file);
            drop(file);
            g = self.group.lock().unwrap_or_else(|p| p.into_inner());
            g.syncing = false;
            if r.is_ok() {
                g.durable = g.durable.max(target);
            }
            self.synced.notify_all();
            if let Err(e) = r {
                // The waiters try again themselves (each may become a leader).
                return Err(FileError::io(e, &self.path));
            }
        }
    }

    /// The record at `offset` ([`FileLog::read_vec`]).
    pub fn read_vec(&self, offset: u64) -> Result<Vec<u8>, FileError> {
        self.with(|l| l.read_vec(offset))?
    }

    /// The record at `cursor`, moving it on ([`FileLog::read_next_vec`]).
    pub fn read_next_vec(
        &self,
        cursor: &mut crate::ReadCursor,
    ) -> Result<Option<(u64, Vec<u8>)>, FileError> {
        self.with(|l| l.read_next_vec(cursor))?
    }

    /// A cursor at `from` ([`Log::cursor`](crate::Log::cursor)).
    pub fn cursor(&self, from: u64) -> Result<crate::ReadCursor, FileError> {
        let path = &self.path;
        self.with(|l| l.cursor(from).map_err(|e| FileError::at(e, path)))?
    }

    /// Size and position of the log ([`Log::stats`](crate::Log::stats)).
    pub fn stats(&self) -> Result<crate::Stats, FileError> {
        self.with(|l| l.stats())
    }

    /// Appends one record ([`FileLog::append`]); durable when it returns in
    /// [`Durability::EveryWrite`] mode.
    pub fn append(&self, record: &[u8]) -> Result<u64, FileError> {
        self.write(|l| l.append(record))
    }

    /// Appends records atomically ([`FileLog::append_batch`]).
    pub fn append_batch(&self, records: &[&[u8]]) -> Result<u64, FileError> {
        self.write(|l| l.append_batch(records))
    }

    /// Appends any number of records in as many frames as needed ([`FileLog::extend`]).
    pub fn extend(&self, records: &[&[u8]]) -> Result<u64, FileError> {
        self.write(|l| l.extend(records))
    }

    /// Commits a consumer's position ([`FileLog::commit`]).
    pub fn commit(&self, name: &str, offset: u64) -> Result<(), FileError> {
        self.write(|l| l.commit(name, offset))
    }

    /// Moves a consumer's position ([`FileLog::rewind`]).
    pub fn rewind(&self, name: &str, offset: u64) -> Result<(), FileError> {
        self.write(|l| l.rewind(name, offset))
    }

    /// Deletes a consumer ([`FileLog::remove_consumer`]).
    pub fn remove_consumer(&self, name: &str) -> Result<(), FileError> {
        self.write(|l| l.remove_consumer(name))
    }

    /// Drops records below `offset` ([`FileLog::trim_front`]).
    pub fn trim_front(&self, offset: u64) -> Result<(), FileError> {
        self.write(|l| l.trim_front(offset))
    }

    /// Drops records at and above `len` ([`FileLog::truncate_back`]).
    pub fn truncate_back(&self, len: u64) -> Result<(), FileError> {
        self.write(|l| l.truncate_back(len))
    }

    /// Makes every operation that returned before it durable — those made through
    /// [`with`](Self::with) too — with one group sync. A no-op on a read-only handle.
    pub fn sync(&self) -> Result<(), FileError> {
        let ticket = {
            let mut guard = self.lock()?;
            let log = guard.as_mut().ok_or_else(|| self.closed())?;
            if log.storage().is_read_only() {
                return Ok(());
            }
            // Writes made through `with` on the bare log may still be buffered.
            let path = log.path().to_path_buf();
            log.log_mut()
                .storage_mut()
                .flush()
                .map_err(|e| FileError::at(e.into(), &path))?;
            self.written.fetch_add(1, Ordering::SeqCst) + 1
        };
        self.make_durable(ticket)
    }

    /// Syncs, then closes the log ([`FileLog::close`]): the file and its writer lock are
    /// released when it returns, even while other references to this handle live on. Later
    /// calls from any thread get [`Error::Closed`]. Closing twice is [`Error::Closed`].
    pub fn close(&self) -> Result<(), FileError> {
        let log = self.lock()?.take().ok_or_else(|| self.closed())?;
        let synced = self.make_durable(self.written.load(Ordering::SeqCst));
        // The second handle shares the writer lock: close it too (once no leader syncs
        // through it), or the file stays locked as long as this handle lives.
        let mut g = self.group.lock().unwrap_or_else(|p| p.into_inner());
        while g.syncing {
            g = self.synced.wait(g).unwrap_or_else(|p| p.into_inner());
        }
        g.sync_file = None;
        drop(g);
        synced?;
        log.close()
    }

    /// Whether [`close`](Self::close) ran.
    pub fn is_closed(&self) -> bool {
        self.lock().map(|g| g.is_none()).unwrap_or(true)
    }
}

impl<const C: usize> core::fmt::Debug for SharedFileLog<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SharedFileLog")
            .field("path", &self.path)
            .field("durability", &self.durability)
            .finish_non_exhaustive()
    }
}
