#![doc = include_str!("../../README.md")]
#![no_std]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(any(feature = "sim", feature = "alloc"))]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// The crate's map, one concept per module (each module's doc says what it owns):
//   log        the `Log` type: append, rotation, the full policy, stats
//   recovery   mount: one pass over the headers, the chain, the tail, the newest state
//   chain      the members from head to tail: find a segment, its end, the next one, the head
//   segment    one segment's bytes: header, checkpoint, frames of the log, index slots
//   window     the read window the one frame walk goes through (log and KV frames alike)
//   writer     the one frame writer: write-unit-aligned programs with a running CRC
//   read       read by offset and the shared search (`locate`), the read hint
//   cursor     `ReadCursor` and `Iter`: reading in offset order
//   control    the control state in RAM (trim point, consumer cursors) and its encoding
//   consumer   named consumer cursors; trim: dropping records at either end
//   extend     packing many records into batch frames
//   format     the bytes on the medium (FORMAT.md), public and total
//   kv         the KV journal beside a log; storage: the media; group: many logs in files
mod chain;
mod config;
mod consumer;
mod control;
mod cursor;
mod epoch;
mod error;
mod extend;
pub mod format;
#[cfg(all(feature = "std", any(unix, windows)))]
pub mod group;
pub mod image;
pub mod kv;
mod log;
pub mod policy;
mod read;
mod recovery;
mod segment;
pub mod storage;
mod trim;
mod window;
mod word;
mod writer;

pub use config::{Config, FullPolicy};
pub use consumer::Consumer;
pub use control::MAX_CONSUMER_NAME;
pub use cursor::{Iter, ReadCursor};
pub use error::{ConfigError, Error, ErrorCode, Result, StorageError};
#[cfg(feature = "alloc")]
pub use kv::MapIndex;
pub use kv::{Kv, KvConfig, KvCursor, KvIndex, KvIter, KvOp, KvStats, ScanIndex};
pub use log::{Log, Stats};
pub use recovery::RecoveryReport;
#[cfg(feature = "sim")]
pub use storage::sim::{Cut, Fault, SimFlash, SimStats, Snapshot};
#[cfg(feature = "sim")]
pub use storage::sim_nor::{SimNorError, SimNorFlash};
#[cfg(all(feature = "std", any(unix, windows)))]
pub use storage::{Durability, FileError, FileKv, FileLog, FileStorage, SharedFileLog};
pub use storage::{NorFlashStorage, Partition, RamStorage, ReadOnly, Storage};
#[cfg(feature = "alloc")]
pub use storage::{PageFlush, PageStorage, VecStorage};
