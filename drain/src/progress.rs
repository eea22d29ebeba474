//! [`Progress`]: counters a running drain keeps up to date, for a progress line or a probe.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Live counters of a drain (all monotonic except `log_next` after a truncation). Read them
/// from any thread while [`Drain::run`](crate::Drain::run) runs.
#[derive(Debug, Default)]
pub struct Progress {
    delivered: AtomicU64,
    delivered_next: AtomicU64,
    committed: AtomicU64,
    log_next: AtomicU64,
    resyncs: AtomicU64,
    problem: Mutex<Option<String>>,
}

/// A consistent-enough copy of [`Progress`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Records acknowledged by the stream during this run.
    pub delivered: u64,
    /// Every record below this offset is in the stream.
    pub delivered_next: u64,
    /// The consumer's committed offset in the log (as last committed by this run).
    pub committed: u64,
    /// The log's next offset (as last seen).
    pub log_next: u64,
    /// Times the pipeline stopped and resynchronised with the stream after a failure.
    pub resyncs: u64,
    /// The last failure the drain is retrying, cleared once records flow again.
    pub problem: Option<String>,
}

impl ProgressSnapshot {
    /// Records in the log not yet in the stream.
    pub fn lag(&self) -> u64 {
        self.log_next.saturating_sub(self.delivered_next)
    }
}

impl Progress {
    /// A copy of the counters.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            delivered: self.delivered.load(Ordering::Relaxed),
            delivered_next: self.delivered_next.load(Ordering::Relaxed),
            committed: self.committed.load(Ordering::Relaxed),
            log_next: self.log_next.load(Ordering::Relaxed),
            resyncs: self.resyncs.load(Ordering::Relaxed),
            problem: self
                .problem
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    pub(crate) fn delivered(&self, next: u64) {
        self.delivered.fetch_add(1, Ordering::Relaxed);
        self.delivered_next.store(next, Ordering::Relaxed);
    }

    pub(crate) fn set_delivered_next(&self, next: u64) {
        self.delivered_next.store(next, Ordering::Relaxed);
    }

    pub(crate) fn set_committed(&self, c: u64) {
        self.committed.store(c, Ordering::Relaxed);
    }

    pub(crate) fn set_log_next(&self, n: u64) {
        self.log_next.store(n, Ordering::Relaxed);
    }

    pub(crate) fn resynced(&self) {
        self.resyncs.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn set_problem(&self, p: Option<String>) {
        *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = p;
    }
}
