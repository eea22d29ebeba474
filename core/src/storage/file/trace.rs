//! What the unit tests see of the file I/O: every `pwrite` and `fdatasync` of this thread, in
//! order — the order the durability arguments of [`FileStorage`](crate::FileStorage) rest on.
//! Test builds only; the durability tests (`host/disk_model.rs`) check it.

use std::cell::RefCell;
use std::vec::Vec;

/// One I/O call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// A `pwrite` of `bytes` at `at` (`slots`: held-back index slots).
    Write {
        at: u64,
        bytes: Vec<u8>,
        slots: bool,
    },
    /// An `fdatasync`.
    Sync,
    /// `FileStorage::erase` is about to write the `0xFF` bytes of `from..to`.
    Erase { from: u32, to: u32 },
}

std::thread_local! {
    static EVENTS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn record(e: Event) {
    EVENTS.with(|v| v.borrow_mut().push(e));
}

/// The events recorded since the last call.
pub(crate) fn take() -> Vec<Event> {
    EVENTS.with(|v| core::mem::take(&mut *v.borrow_mut()))
}
