//! tidelog side by side with its peers, on the same simulator and the same disk.
//!
//! * [`nor`] — SimFlash as an `embedded-storage-async` NOR flash (write-once, with a
//!   multiwrite overlay, or pretending to be multiwrite), so sequential-storage runs on the
//!   simulator tidelog runs on and both are counted by the same counters.
//! * [`subject`] — both as one FIFO-queue interface.
//! * [`workloads`] — push until wraparound, push/pop cycles, mount, peek, iterate.
//!
//! The `compare` binary runs everything and writes `BENCHMARKS.md`.

#![warn(missing_docs)]

pub mod nor;
pub mod report;
pub mod run;
pub mod subject;
pub mod wal;
pub mod workloads;
