#![doc = include_str!("../../README.md")]
#![no_std]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(any(feature = "sim", feature = "alloc"))]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// The crate's map, one concept per module (each module's doc says what it owns):
//   log            the `Log` type's public API: format, append, sync, stats; its fields are
//                  private to it and its submodules:
//     write        the write path: frames, index slots, state frames, opening a segment
//     space        free space and reclaim under the full policy (spare, reserve, head)
//     recovery     mount: one pass over the headers, the chain, the tail, the newest state
//     chain        the members from head to tail: find a segment, its end, the next, the head
//     read         read by offset and the shared search (`locate`), the read hint
//     cursor       `ReadCursor` and `Iter`: reading in offset order
//     consumer     named consumer cursors;  trim: dropping records at either end
//     extend       packing many records into batch frames
//   segment        one segment's bytes: header, checkpoint, the log's frames, index slots
//   window         the read window the one frame walk goes through (log and KV frames alike)
//   writer         the one frame writer: write-unit-aligned programs with a running CRC
//   control        the control state in RAM (trim point, consumer cursors) and its encoding
//   format         the bytes on the medium (FORMAT.md), public and total
//   kv             the KV journal beside a log
//   storage        the media: RAM, NOR flash, pages, files, the simulator (knows no log)
//   host           (feature `file`) logs and KV maps in files, shared, grouped (`group`)
mod config;
mod control;
mod epoch;
mod error;
pub mod format;
#[cfg(all(feature = "file", any(unix, windows)))]
mod host;
pub mod image;
pub mod kv;
mod log;
pub mod policy;
mod segment;
pub mod storage;
mod window;
mod word;
mod writer;

pub use config::{Config, FullPolicy};
pub use control::MAX_CONSUMER_NAME;
pub use error::{ConfigError, Error, ErrorCode, Result, StorageError};
#[cfg(all(feature = "file", any(unix, windows)))]
pub use host::{group, FileKv, FileLog, SharedFileLog};
#[cfg(feature = "alloc")]
pub use kv::MapIndex;
pub use kv::{Kv, KvConfig, KvCursor, KvIndex, KvIter, KvOp, KvStats, ScanIndex};
pub use log::consumer::Consumer;
pub use log::cursor::{Iter, ReadCursor};
pub use log::recovery::RecoveryReport;
pub use log::{Log, Stats};
#[cfg(feature = "sim")]
pub use storage::sim::{Cut, PowerCut, SimFlash, SimStats, Snapshot};
#[cfg(feature = "sim")]
pub use storage::sim_nor::{SimNorError, SimNorFlash};
#[cfg(all(feature = "file", any(unix, windows)))]
pub use storage::{Durability, FileError, FileStorage};
pub use storage::{NorFlashStorage, Partition, RamStorage, ReadOnly, Storage};
#[cfg(feature = "alloc")]
pub use storage::{PageFlush, PageStorage, VecStorage};
