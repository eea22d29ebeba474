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
