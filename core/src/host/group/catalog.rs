//! Reading the directory tree: which groups and streams exist, their creation sequence
//! numbers, and the creation lock that hands out new ones.
//!
//! The tree is the only catalog: nothing else has to agree with it, so there is nothing to
//! repair after a crash. Entries whose names do not parse (temporary files, foreign files)
//! are ignored.

use super::name::{self, STREAM_SUFFIX, TEMP_PREFIX};
use crate::storage::file::io::{lock_blocking, read_at, write_at};
use crate::storage::FileError;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::string::{String, ToString};
use std::time::{Duration, SystemTime};
use std::vec::Vec;

/// A group or stream found on disk.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub seq: u64,
    pub name: String,
    pub path: PathBuf,
}

/// Lists the entries of `dir` whose file names parse with `suffix` and whose kind (directory
/// or file) matches `dirs`.
fn list(dir: &Path, suffix: &str, dirs: bool) -> Result<Vec<Entry>, FileError> {
    let rd = fs::read_dir(dir).map_err(|e| FileError::io(e, dir))?;
    let mut out = Vec::new();
    for de in rd {
        let de = de.map_err(|e| FileError::io(e, dir))?;
        let file_name = de.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let Some((seq, name)) = name::parse_entry(file_name, suffix) else {
            continue;
        };
        let is_dir = match de.file_type() {
            Ok(t) => t.is_dir(),
            Err(_) => continue,
        };
        if is_dir == dirs {
            out.push(Entry {
                seq,
                name: name.to_string(),
                path: de.path(),
            });
        }
    }
    Ok(out)
}

/// Every group under `root`.
pub(crate) fn groups(root: &Path) -> Result<Vec<Entry>, FileError> {
    list(root, "", true)
}

/// Every stream of the group in `dir`.
pub(crate) fn streams(dir: &Path) -> Result<Vec<Entry>, FileError> {
    match list(dir, STREAM_SUFFIX, false) {
        // The group vanished between listing the root and listing it: it has no streams.
        Err(e) if e.kind() == crate::Error::NotFound => Ok(Vec::new()),
        r => r,
    }
}

/// Sorts most recent first (highest sequence number; ties, which only a hand-made tree can
/// have, by name).
pub(crate) fn newest_first(entries: &mut [Entry]) {
    entries.sort_by(|a, b| b.seq.cmp(&a.seq).then_with(|| a.name.cmp(&b.name)));
}

/// The group called `group`.
pub(crate) fn find_group(root: &Path, group: &str) -> Result<Option<Entry>, FileError> {
    Ok(groups(root)?.into_iter().find(|g| g.name == group))
}

/// Where stream `stream` lives: its group and its file.
pub(crate) fn find_stream(root: &Path, stream: &str) -> Result<Option<(Entry, Entry)>, FileError> {
    for g in groups(root)? {
        if let Some(s) = streams(&g.path)?.into_iter().find(|s| s.name == stream) {
            return Ok(Some((g, s)));
        }
    }
    Ok(None)
}

/// The creation lock (`<root>/.lock`): held while a stream is created, so the name check and
/// the sequence number are race-free across processes. The file also remembers the last
/// sequence number handed out, so numbers are not reused when the newest entries are deleted.
pub(crate) struct CreateLock {
    file: File,
    path: PathBuf,
}

impl CreateLock {
    /// Takes the lock, waiting for another creator to finish.
    pub fn acquire(root: &Path) -> Result<Self, FileError> {
        let path = root.join(".lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| FileError::io(e, &path))?;
        lock_blocking(&file, &path)?;
        Ok(CreateLock { file, path })
    }

    /// A sequence number above every one in use (`max_seen`) and every one handed out.
    pub fn next_seq(&mut self, max_seen: u64) -> Result<u64, FileError> {
        let mut b = [0u8; 8];
        let last = match read_at(&self.file, &mut b, 0) {
            Ok(()) => u64::from_le_bytes(b),
            Err(_) => 0,
        };
        let seq = last.max(max_seen) + 1;
        // Best effort (not synced): after a power loss the tree itself still bounds it.
        write_at(&self.file, &seq.to_le_bytes(), 0).map_err(|e| FileError::io(e, &self.path))?;
        Ok(seq)
    }
}

/// Removes leftovers of interrupted creations and rewrites in `dir`: temporary entries that
/// nobody holds locked and that were last touched over a minute ago. Temporary directories
/// (new groups) are created only under the creation lock, which the caller holds, so every
/// one found is a leftover.
pub(crate) fn remove_stale_temps(dir: &Path, creation_lock_held: bool) {
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    let old = SystemTime::now() - Duration::from_secs(60);
    for de in rd.flatten() {
        let name = de.file_name();
        if !name.to_str().is_some_and(|n| n.starts_with(TEMP_PREFIX)) {
            continue;
        }
        let path = de.path();
        match de.file_type() {
            Ok(t) if t.is_dir() && creation_lock_held => {
                let _ = fs::remove_dir_all(&path);
            }
            Ok(t) if t.is_file() => {
                let stale = de
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t < old);
                let unlocked = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .is_ok_and(|f| crate::storage::file::io::try_lock(&f, &path).is_ok());
                if stale && unlocked {
                    let _ = fs::remove_file(&path);
                }
            }
            _ => {}
        }
    }
}
