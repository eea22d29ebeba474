//! [`Epoch`]: a stamp that changes whenever read positions taken from a log may have gone stale.
//!
//! A [`ReadCursor`](crate::ReadCursor) lives apart from its log (a binding's iterator object
//! owns one), so the log cannot clear it when a segment leaves the chain (the head moves, a
//! truncation drops records and reuses their offsets). Instead every position a cursor caches
//! is stamped with the log's epoch, and the log takes a new epoch at each such change: a cursor
//! whose stamp differs finds its record again by offset, through the verified search.
//!
//! Epochs come from one counter shared by every log of the program, so a cursor handed to a
//! log other than the one that stamped it never matches either (until the 32-bit counter wraps,
//! after 4 billion head moves).

use core::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(1);

/// A log's current epoch (see the module doc). `0` is never handed out: it marks a cursor that
/// holds no position yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Epoch(u32);

impl Epoch {
    /// The stamp of a cursor with nothing cached.
    pub(crate) const NONE: Epoch = Epoch(0);

    /// A fresh epoch, different from every other log's current one.
    pub(crate) fn fresh() -> Epoch {
        // Targets without atomic read-modify-write (thumbv6m) only run one thread that could
        // call this: a load and a store are enough there.
        #[cfg(target_has_atomic = "32")]
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        #[cfg(not(target_has_atomic = "32"))]
        let n = {
            let n = NEXT.load(Ordering::Relaxed);
            NEXT.store(n.wrapping_add(1), Ordering::Relaxed);
            n
        };
        Epoch(if n == 0 { Self::fresh().0 } else { n })
    }
}
