//! Host code (feature `file`, Unix and Windows): logs and KV maps in files, with a
//! durability mode, shared between threads, and grouped in a directory.
//!
//! Everything here is built on the core's [`Log`](crate::Log) and [`Kv`](crate::Kv) over
//! [`FileStorage`](crate::FileStorage) and adds no log logic: it opens files, gathers an
//! operation's writes, applies the [`Durability`](crate::Durability) mode, names the file in
//! its errors and, for [`LogDir`](group::LogDir), keeps a catalog of streams. Keeping it apart
//! from `storage/` lets the storage layer stand below the log (nothing in `storage/` knows the
//! log), as on firmware.

mod file_kv;
mod file_log;
pub mod group;
mod shared;

// The durability tests: the I/O trace against a model of the disk after a power loss.
#[cfg(test)]
mod disk_model;

pub use file_kv::FileKv;
pub use file_log::FileLog;
pub use shared::SharedFileLog;

use crate::error::Error;
use crate::storage::{FileError, FileStorage};
use std::path::Path;

/// Formats the storage of a file just created at `path` with `format` (a log or a KV); when
/// that fails the file is removed again, so a failed create leaves nothing behind.
fn format_new<T>(
    path: &Path,
    storage: FileStorage,
    format: impl FnOnce(FileStorage) -> Result<T, Error>,
) -> Result<T, FileError> {
    format(storage).map_err(|e| {
        let _ = std::fs::remove_file(path);
        FileError::at(e, path)
    })
}

/// Mounts the storage of an opened file with `mount` (a log or a KV); a failure names the file
/// and carries the I/O error behind it, if reading the file failed.
fn mount_file<T>(
    mut storage: FileStorage,
    mount: impl FnOnce(FileStorage) -> Result<T, Error>,
) -> Result<T, FileError> {
    let path = storage.path().to_path_buf();
    let io = storage.take_io_error();
    mount(storage).map_err(|e| FileError::at(e, &path).with_source(io))
}
