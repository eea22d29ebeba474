#![doc = include_str!("../../README.md")]
#![no_std]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(any(feature = "sim", feature = "alloc"))]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod config;
mod consumer;
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
mod state;
pub mod storage;
mod trim;
mod window;
mod word;
mod writer;

pub use config::{Config, FullPolicy};
pub use consumer::Consumer;
pub use cursor::{Iter, ReadCursor};
pub use error::{ConfigError, Error, ErrorCode, Result, StorageError};
#[cfg(feature = "alloc")]
pub use kv::MapIndex;
pub use kv::{Kv, KvConfig, KvCursor, KvIndex, KvIter, KvOp, KvStats, ScanIndex};
pub use log::{Log, Stats};
pub use recovery::RecoveryReport;
pub use state::MAX_CONSUMER_NAME;
#[cfg(feature = "sim")]
pub use storage::sim::{Cut, Fault, SimFlash, SimStats, Snapshot};
#[cfg(all(feature = "std", any(unix, windows)))]
pub use storage::{Durability, FileError, FileKv, FileLog, FileStorage, SharedFileLog};
pub use storage::{NorFlashStorage, Partition, RamStorage, ReadOnly, Storage};
#[cfg(feature = "alloc")]
pub use storage::{PageFlush, PageStorage, VecStorage};
