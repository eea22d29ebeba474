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
mod error;
pub mod format;
mod log;
mod read;
mod recovery;
mod segment;
mod state;
pub mod storage;
mod trim;
mod writer;

pub use config::{Config, FullPolicy};
pub use consumer::Consumer;
pub use error::{Error, Result, StorageError};
pub use log::{Log, Stats};
pub use read::Iter;
pub use state::MAX_CONSUMER_NAME;
#[cfg(feature = "sim")]
pub use storage::sim::{Cut, Fault, SimFlash, SimStats, Snapshot};
pub use storage::{NorFlashStorage, Partition, RamStorage, Storage};
