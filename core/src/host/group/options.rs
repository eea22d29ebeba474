//! [`LogDirOptions`]: how a [`LogDir`](super::LogDir) sizes, syncs and caches its streams.

use crate::storage::file::{Durability, MAX_FILE_CAPACITY};

/// Settings for [`LogDir::open_with`](super::LogDir::open_with).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogDirOptions {
    /// When appends become durable. Default [`Durability::EveryWrite`]: every `append`,
    /// `create_stream` and `truncate` is `fdatasync`ed before it returns. With
    /// [`Durability::Explicit`], call [`LogDir::sync_all`](super::LogDir::sync_all).
    pub durability: Durability,
    /// Size of a new stream's file, in bytes (rounded up to a power of two, at least 16 KiB).
    /// A stream that fills up grows: it is rewritten into a file twice as large. Default
    /// 64 KiB.
    pub initial_capacity: u64,
    /// Largest a stream's file may grow; beyond it `append` fails with
    /// [`Error::Full`](crate::Error::Full). Default and maximum 4 GiB.
    pub max_capacity: u64,
    /// Streams kept open for writing (each holds its file's writer lock, so other processes
    /// cannot write it meanwhile); the least recently used one is closed beyond this.
    /// Default 32.
    pub max_open_streams: usize,
}

impl Default for LogDirOptions {
    fn default() -> Self {
        LogDirOptions {
            durability: Durability::EveryWrite,
            initial_capacity: 64 * 1024,
            max_capacity: MAX_FILE_CAPACITY,
            max_open_streams: 32,
        }
    }
}
