//! Grouped logs: many named logs ("streams") under named groups, in one directory
//! (feature `file`; BRIEF §2, the grouped segment store).
//!
//! ```no_run
//! use tidelog::group::LogDir;
//! let mut dir = LogDir::open("sessions")?;
//! dir.create_stream("project-a", "session-1", &[b"hello".as_slice()])?;
//! dir.append("session-1", b"world")?;
//! assert_eq!(dir.read_all("session-1")?, vec![b"hello".to_vec(), b"world".to_vec()]);
//! assert_eq!(dir.lookup_group_of("session-1")?, "project-a");
//! assert_eq!(dir.list_streams("project-a")?, vec!["session-1".to_string()]);
//! dir.truncate("session-1", 1)?; // keep the first entry
//! # Ok::<(), tidelog::FileError>(())
//! ```
//!
//! # Layout
//!
//! ```text
//! <dir>/.lock                                    creation lock (+ last sequence number)
//! <dir>/<seq>.<group>/                           a group
//! <dir>/<seq>.<group>/<seq>.<stream>.tlog        a stream: a tidelog file log
//! ```
//!
//! `<seq>` is a creation sequence number (16 hex digits), unique in the directory; listings
//! are ordered by it, most recent first — not by file times. The tree is the whole catalog:
//! no index has to be kept in step with it. Stream names are unique across groups, so a
//! stream is named without its group.
//!
//! # Guarantees
//!
//! * **Atomic creation.** `create_stream` builds the stream (all initial entries) under a
//!   temporary name, syncs it, renames it into place and syncs the directory; a new group's
//!   directory appears together with its first stream the same way. After a crash the stream
//!   exists with all its initial entries or not at all; leftovers are removed later.
//! * **Crash-safe appends and truncation.** Each stream is a tidelog log (prefix, durability,
//!   atomicity invariants); `truncate` is the core's atomic `truncate_back`, or, on a full
//!   stream, an atomic rewrite.
//! * **Durability** as chosen in [`LogDirOptions::durability`] (default: every write is
//!   `fdatasync`ed before it returns; see [`Durability`](crate::Durability)).
//! * **One writer per stream.** Writing opens the stream's file with its exclusive lock and
//!   keeps it open (up to [`LogDirOptions::max_open_streams`]); another process (or another
//!   `LogDir`) writing the same stream meanwhile gets [`Error::Locked`]. Reading takes no
//!   lock. [`entry_count`](LogDir::entry_count) lets a writer that released a stream notice
//!   that it grew behind its back.
//! * **Growth.** A stream's file starts small and is rewritten twice as large when full (see
//!   [`LogDirOptions`]); a stream holds up to 4 GiB, an entry up to 16 MiB.
//!
//! Errors are [`FileError`]s naming the stream, group or file: [`Error::InvalidName`],
//! [`Error::NotFound`], [`Error::Locked`], [`Error::Corrupt`] (with the position),
//! [`Error::Storage`] (I/O), [`Error::Full`], [`Error::TooLarge`].

mod catalog;
mod name;
mod options;
mod stream;

pub use name::MAX_NAME_LEN;
pub use options::LogDirOptions;

use crate::config::Config;
use crate::error::Error;
use crate::storage::file::io::sync_dir;
use crate::storage::FileError;
use catalog::{CreateLock, Entry};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::vec::Vec;
use stream::StreamLog;

/// A directory of grouped logs. See the [module docs](self).
#[derive(Debug)]
pub struct LogDir {
    root: PathBuf,
    options: LogDirOptions,
    /// Streams open for writing (their files locked), by name.
    open: HashMap<String, OpenStream>,
    tick: u64,
}

#[derive(Debug)]
struct OpenStream {
    group: String,
    log: StreamLog,
    last_used: u64,
}

fn stream_ctx(stream: &str) -> String {
    std::format!("stream {stream:?}")
}

impl LogDir {
    /// Opens (creating it if needed) the directory at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, FileError> {
        Self::open_with(path, LogDirOptions::default())
    }

    /// Opens (creating it if needed) the directory at `path`.
    pub fn open_with(path: impl AsRef<Path>, options: LogDirOptions) -> Result<Self, FileError> {
        let root = path.as_ref().to_path_buf();
        if options.max_open_streams == 0 {
            return Err(FileError::at(
                Error::InvalidConfig(crate::error::ConfigError::MaxOpenStreams),
                &root,
            ));
        }
        if !root.is_dir() {
            fs::create_dir_all(&root).map_err(|e| FileError::io(e, &root))?;
            if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent).map_err(|e| FileError::io(e, parent))?;
            }
        }
        Ok(LogDir {
            root,
            options,
            open: HashMap::new(),
            tick: 0,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Creates stream `stream` in group `group` (creating the group if needed) holding
    /// `initial_entries`. Atomic: afterwards, even after a crash, the stream exists with all
    /// the entries or not at all. The stream is left open for writing.
    ///
    /// Errors: [`Error::InvalidName`]; [`Error::InvalidArgument`] if a stream of that name
    /// exists (in any group); [`Error::TooLarge`] / [`Error::Full`] if the entries cannot be
    /// held (nothing is left behind).
    pub fn create_stream(
        &mut self,
        group: &str,
        stream: &str,
        initial_entries: &[&[u8]],
    ) -> Result<(), FileError> {
        name::validate("group", group)?;
        name::validate("stream", stream)?;
        let (need, largest) = stream::measure(initial_entries);
        stream::plan(need, largest, 0, &self.options)
            .map_err(|e| FileError::new(e, stream_ctx(stream)))?;
        let mut lock = CreateLock::acquire(&self.root)?;
        catalog::remove_stale_temps(&self.root, true);
        let groups = catalog::groups(&self.root)?;
        let mut max_seq = 0;
        let mut target: Option<&Entry> = None;
        for g in &groups {
            max_seq = max_seq.max(g.seq);
            for s in catalog::streams(&g.path)? {
                max_seq = max_seq.max(s.seq);
                if s.name == stream {
                    return Err(FileError::new(Error::AlreadyExists, stream_ctx(stream)));
                }
            }
            if g.name == group {
                target = Some(g);
            }
        }
        let seq = lock.next_seq(max_seq)?;
        let file_name = name::entry_name(seq, stream, name::STREAM_SUFFIX);
        let mut fill = |log: &mut StreamLog| stream::append_all(log, initial_entries);
        let (log, final_path) = match target {
            Some(g) => {
                catalog::remove_stale_temps(&g.path, true);
                let (log, tmp) =
                    stream::build_growing(&g.path, need, largest, 0, &self.options, &mut fill)?;
                let final_path = g.path.join(&file_name);
                if let Err(e) = stream::publish(&tmp, &final_path) {
                    drop(log);
                    let _ = fs::remove_file(&tmp);
                    return Err(e);
                }
                (log, final_path)
            }
            None => {
                // A new group appears together with its first stream: both are built in a
                // temporary directory that is renamed into place.
                let tmp_dir = stream::temp_path(&self.root);
                fs::create_dir(&tmp_dir).map_err(|e| FileError::io(e, &tmp_dir))?;
                let group_dir = self.root.join(name::entry_name(seq, group, ""));
                let r = (|| {
                    let (log, tmp) = stream::build_growing(
                        &tmp_dir,
                        need,
                        largest,
                        0,
                        &self.options,
                        &mut fill,
                    )?;
                    stream::publish(&tmp, &tmp_dir.join(&file_name))?;
                    stream::publish(&tmp_dir, &group_dir)?;
                    Ok(log)
                })();
                match r {
                    Ok(log) => (log, group_dir.join(&file_name)),
                    Err(e) => {
                        let _ = fs::remove_dir_all(&tmp_dir);
                        return Err(e);
                    }
                }
            }
        };
        drop(lock);
        let mut log = log;
        log.log_mut().storage_mut().set_path(&final_path);
        self.insert_open(stream, group, log);
        Ok(())
    }

    /// Appends `entry` to `stream` and returns its index (entries are numbered from 0).
    /// Grows the stream's file when it is full.
    ///
    /// Errors: [`Error::NotFound`], [`Error::Locked`] (another writer has the stream open),
    /// [`Error::TooLarge`] (over 16 MiB), [`Error::Full`] (the stream would exceed
    /// [`LogDirOptions::max_capacity`]).
    pub fn append(&mut self, stream: &str, entry: &[u8]) -> Result<u64, FileError> {
        name::validate("stream", stream)?;
        let o = self.writer(stream)?;
        match o.log.append(entry) {
            Ok(offset) => Ok(offset),
            Err(e) if matches!(e.kind(), Error::Full | Error::TooLarge { .. }) => {
                self.rewrite(stream, None, &[entry])
            }
            Err(e) => Err(e),
        }
    }

    /// Every entry of `stream`, in order.
    pub fn read_all(&mut self, stream: &str) -> Result<Vec<Vec<u8>>, FileError> {
        name::validate("stream", stream)?;
        let collect = |log: &mut StreamLog| -> Result<Vec<Vec<u8>>, FileError> {
            let first = log.first_offset();
            let path = log.path().to_path_buf();
            log.iter(first)?
                .map(|r| r.map(|(_, e)| e))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| FileError::at(e, &path))
        };
        match self.open.get_mut(stream) {
            Some(o) => collect(&mut o.log),
            None => collect(&mut self.reader(stream)?),
        }
    }

    /// Number of entries in `stream`. A writer that finds more entries than it wrote knows
    /// another writer appended meanwhile.
    pub fn entry_count(&mut self, stream: &str) -> Result<u64, FileError> {
        name::validate("stream", stream)?;
        let count = |log: &mut StreamLog| Ok(log.next_offset() - log.first_offset());
        match self.open.get_mut(stream) {
            Some(o) => count(&mut o.log),
            None => count(&mut self.reader(stream)?),
        }
    }

    /// Keeps the first `n` entries of `stream` and drops the rest. Crash-safe: afterwards the
    /// stream holds either all its old entries or exactly the first `n`.
    ///
    /// Errors: [`Error::OutOfRange`] when `n` exceeds the entry count, plus those of
    /// [`append`](Self::append).
    pub fn truncate(&mut self, stream: &str, n: u64) -> Result<(), FileError> {
        name::validate("stream", stream)?;
        let o = self.writer(stream)?;
        let next = o.log.next_offset();
        if n > next {
            return Err(FileError::new(
                Error::OutOfRange { first: 0, next },
                stream_ctx(stream),
            ));
        }
        match o.log.truncate_back(n) {
            Ok(()) => Ok(()),
            // No free segment for the truncation record: rewrite the stream instead.
            Err(e) if e.kind() == Error::Full => self.rewrite(stream, Some(n), &[]).map(|_| ()),
            Err(e) => Err(e),
        }
    }

    /// The group holding `stream`. [`Error::NotFound`] if there is no such stream.
    pub fn lookup_group_of(&mut self, stream: &str) -> Result<String, FileError> {
        name::validate("stream", stream)?;
        if let Some(o) = self.open.get(stream) {
            return Ok(o.group.clone());
        }
        Ok(self.locate(stream)?.0.name)
    }

    /// True if a stream called `stream` exists (in any group).
    pub fn exists(&mut self, stream: &str) -> Result<bool, FileError> {
        name::validate("stream", stream)?;
        if self.open.contains_key(stream) {
            return Ok(true);
        }
        Ok(catalog::find_stream(&self.root, stream)?.is_some())
    }

    /// Every group, most recently created first.
    pub fn list_groups(&self) -> Result<Vec<String>, FileError> {
        let mut g = catalog::groups(&self.root)?;
        catalog::newest_first(&mut g);
        Ok(g.into_iter().map(|e| e.name).collect())
    }

    /// The streams of `group`, most recently created first. [`Error::NotFound`] if there is
    /// no such group.
    pub fn list_streams(&self, group: &str) -> Result<Vec<String>, FileError> {
        name::validate("group", group)?;
        let g = catalog::find_group(&self.root, group)?
            .ok_or_else(|| FileError::new(Error::NotFound, std::format!("group {group:?}")))?;
        let mut s = catalog::streams(&g.path)?;
        catalog::newest_first(&mut s);
        Ok(s.into_iter().map(|e| e.name).collect())
    }

    /// Makes every write to the open streams durable (`fdatasync`); needed only with
    /// [`Durability::Explicit`](crate::Durability::Explicit).
    pub fn sync_all(&mut self) -> Result<(), FileError> {
        for o in self.open.values_mut() {
            o.log.sync()?;
        }
        Ok(())
    }

    /// Closes `stream` for writing, releasing its lock so another process may write it.
    /// Returns false if it was not open. (A failure of the final hand-over is lost; use
    /// [`close`](Self::close) to see it.)
    pub fn close_stream(&mut self, stream: &str) -> bool {
        self.open.remove(stream).is_some()
    }

    /// Closes every stream open for writing (failures of the final hand-over are lost; use
    /// [`close`](Self::close) to see them).
    pub fn close_all(&mut self) {
        self.open.clear();
    }

    /// Closes the store: every stream open for writing is closed
    /// ([`FileLog::close`](crate::FileLog::close)), and the first error of those closes is
    /// returned (all are closed either way).
    pub fn close(mut self) -> Result<(), FileError> {
        let mut first = Ok(());
        for (_, o) in self.open.drain() {
            let r = o.log.close();
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    /// The file that holds `stream`, or [`Error::NotFound`]. For tools that read a stream
    /// directly: the file is a log image with no consumer cursors, replaced by a larger one
    /// under the same path when the stream grows (reopening the path follows it).
    pub fn stream_path(&self, stream: &str) -> Result<PathBuf, FileError> {
        Ok(self.locate(stream)?.1.path)
    }

    /// The group and file of `stream`, or [`Error::NotFound`].
    fn locate(&self, stream: &str) -> Result<(Entry, Entry), FileError> {
        catalog::find_stream(&self.root, stream)?
            .ok_or_else(|| FileError::new(Error::NotFound, stream_ctx(stream)))
    }

    /// A read-only view of a stream not open for writing.
    fn reader(&self, stream: &str) -> Result<StreamLog, FileError> {
        let (_, s) = self.locate(stream)?;
        StreamLog::open_read_only(&s.path)
    }

    /// The stream open for writing, opening (and locking) it if needed.
    fn writer(&mut self, stream: &str) -> Result<&mut OpenStream, FileError> {
        self.tick += 1;
        if !self.open.contains_key(stream) {
            let (g, s) = self.locate(stream)?;
            let log = StreamLog::open(&s.path, Config::new(), self.options.durability)?;
            self.insert_open(stream, &g.name, log);
        }
        let tick = self.tick;
        let o = self
            .open
            .get_mut(stream)
            .ok_or_else(|| FileError::new(Error::NotFound, stream_ctx(stream)))?;
        o.last_used = tick;
        Ok(o)
    }

    fn insert_open(&mut self, stream: &str, group: &str, log: StreamLog) {
        while self.open.len() >= self.options.max_open_streams {
            let lru = self
                .open
                .iter()
                .min_by_key(|(_, o)| o.last_used)
                .map(|(k, _)| k.clone());
            match lru {
                Some(k) => self.open.remove(&k),
                None => break,
            };
        }
        self.tick += 1;
        self.open.insert(
            stream.to_string(),
            OpenStream {
                group: group.to_string(),
                log,
                last_used: self.tick,
            },
        );
    }

    /// Rewrites open stream `stream` into a new, large enough file: its first `keep` entries
    /// (all if `None`), then `extra`. Atomic (built aside, renamed over the old file).
    /// Returns the index of the first of `extra`.
    fn rewrite(
        &mut self,
        stream: &str,
        keep: Option<u64>,
        extra: &[&[u8]],
    ) -> Result<u64, FileError> {
        let options = self.options;
        let o = self
            .open
            .get_mut(stream)
            .ok_or_else(|| FileError::new(Error::NotFound, stream_ctx(stream)))?;
        let old = &mut o.log;
        let keep = keep.unwrap_or(old.next_offset());
        let stats = old.stats();
        let (xneed, xlargest) = stream::measure(extra);
        let path = old.path().to_path_buf();
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let (mut new, tmp) = stream::build_growing(
            &dir,
            stats.bytes_used + xneed,
            xlargest,
            stats.segment_size as u64,
            &options,
            &mut |new: &mut StreamLog| {
                stream::copy_entries(old, new, keep)?;
                stream::append_all(new, extra)
            },
        )
        .map_err(|e| match e.kind() {
            Error::Full | Error::TooLarge { .. } => FileError::new(e.kind(), stream_ctx(stream)),
            _ => e,
        })?;
        if let Err(e) = stream::publish(&tmp, &path) {
            drop(new);
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        new.log_mut().storage_mut().set_path(&path);
        o.log = new;
        Ok(keep)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// The rewrite that `truncate` falls back on when the core finds no room for the
    /// truncation (and that growth uses): keeps the first entries, replaces the file.
    #[test]
    fn rewrite_keeps_a_prefix_and_replaces_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let mut d = LogDir::open(tmp.path()).unwrap();
        let e: Vec<Vec<u8>> = (0..20u8).map(|i| std::vec![i; 100 * i as usize]).collect();
        let refs: Vec<&[u8]> = e.iter().map(|v| v.as_slice()).collect();
        d.create_stream("g", "s", &refs).unwrap();
        let path = d.open["s"].log.path().to_path_buf();
        let ino = fs::metadata(&path).unwrap().ino();
        assert_eq!(d.rewrite("s", Some(7), &[]).unwrap(), 7);
        assert_ne!(fs::metadata(&path).unwrap().ino(), ino);
        assert_eq!(d.open["s"].log.path(), path.as_path());
        assert_eq!(d.read_all("s").unwrap(), e[..7].to_vec());
        assert_eq!(d.rewrite("s", None, &[b"x".as_slice()]).unwrap(), 7);
        d.close_all();
        let mut again = e[..7].to_vec();
        again.push(b"x".to_vec());
        assert_eq!(
            LogDir::open(tmp.path()).unwrap().read_all("s").unwrap(),
            again
        );
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
    }
}
