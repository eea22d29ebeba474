#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod connect;
mod drain;
pub mod error;
pub mod options;
pub mod progress;
pub mod stream;

pub use connect::{connect, ConnectConfig};
pub use drain::{Drain, DrainLog, DrainReport};
pub use error::DrainError;
pub use options::DrainOptions;
pub use progress::{Progress, ProgressSnapshot};
