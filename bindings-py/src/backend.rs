//! What a Python `Log` holds: a shared file log, or a read-only image in memory — and
//! [`Reader`], the log's reading methods over either storage.

use std::sync::{Mutex, MutexGuard};
use tidelog::format::layout::Layout;
use tidelog::{
    Error, FileError, FullPolicy, ReadCursor, ReadOnly, RecoveryReport, SharedFileLog, Stats,
    Storage, VecStorage,
};

/// Consumer capacity of every log of this binding: the maximum, so any image mounts.
pub const CONSUMERS: usize = 16;

/// A read-only log over an image in memory (a flash dump, bytes from anywhere).
pub type ImageLog = tidelog::Log<ReadOnly<VecStorage>, CONSUMERS>;

/// The log behind a Python `Log`.
pub enum Backend {
    /// A file log shared by threads (group commit for `every_write`).
    File(SharedFileLog<CONSUMERS>),
    /// An image in memory, never written (`None` once closed).
    Image(Mutex<Option<ImageLog>>),
}

/// The reading methods of a mounted log, whatever its storage (object safe, so one closure
/// serves both backends).
pub trait Reader {
    fn read_vec(&mut self, offset: u64) -> Result<Vec<u8>, Error>;
    fn read_next(
        &mut self,
        cursor: &mut ReadCursor,
        buf: &mut [u8],
    ) -> Result<Option<(u64, usize)>, Error>;
    fn cursor(&self, from: u64) -> Result<ReadCursor, Error>;
    fn record_len(&mut self, offset: u64) -> Result<usize, Error>;
    fn stats(&self) -> Stats;
    fn first_offset(&self) -> u64;
    fn next_offset(&self) -> u64;
    fn layout(&self) -> Layout;
    fn recovery(&self) -> RecoveryReport;
    fn full_policy(&self) -> FullPolicy;
    fn consumers(&self) -> Vec<(String, u64)>;
    fn committed(&self, name: &str) -> Option<u64>;
    fn position(&self, name: &str) -> Result<u64, Error>;
    /// Checks a consumer name (the core's rules: UTF-8, 1..=32 bytes).
    fn check_name(&mut self, name: &str) -> Result<(), Error>;
    /// The error for an offset outside `u64` (negative or huge): out of range.
    fn out_of_range(&self) -> Error {
        Error::OutOfRange {
            first: self.first_offset(),
            next: self.next_offset(),
        }
    }
}

impl<S: Storage> Reader for tidelog::Log<S, CONSUMERS> {
    fn read_vec(&mut self, offset: u64) -> Result<Vec<u8>, Error> {
        tidelog::Log::read_vec(self, offset)
    }
    fn read_next(
        &mut self,
        cursor: &mut ReadCursor,
        buf: &mut [u8],
    ) -> Result<Option<(u64, usize)>, Error> {
        tidelog::Log::read_next(self, cursor, buf)
    }
    fn cursor(&self, from: u64) -> Result<ReadCursor, Error> {
        tidelog::Log::cursor(self, from)
    }
    fn record_len(&mut self, offset: u64) -> Result<usize, Error> {
        tidelog::Log::record_len(self, offset)
    }
    fn stats(&self) -> Stats {
        tidelog::Log::stats(self)
    }
    fn first_offset(&self) -> u64 {
        tidelog::Log::first_offset(self)
    }
    fn next_offset(&self) -> u64 {
        tidelog::Log::next_offset(self)
    }
    fn layout(&self) -> Layout {
        *tidelog::Log::layout(self)
    }
    fn recovery(&self) -> RecoveryReport {
        tidelog::Log::recovery(self)
    }
    fn full_policy(&self) -> FullPolicy {
        tidelog::Log::full_policy(self)
    }
    fn consumers(&self) -> Vec<(String, u64)> {
        tidelog::Log::consumers(self)
            .map(|(n, o)| (n.to_string(), o))
            .collect()
    }
    fn committed(&self, name: &str) -> Option<u64> {
        tidelog::Log::committed(self, name)
    }
    fn position(&self, name: &str) -> Result<u64, Error> {
        tidelog::Log::position(self, name)
    }
    fn check_name(&mut self, name: &str) -> Result<(), Error> {
        tidelog::Log::consumer(self, name).map(|_| ())
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while the lock was held left the log as the core left it (the core refuses
    // writes after a failed one until remounted); reading on is safe.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Backend {
    /// Runs `f` on the log under its lock. Call with the GIL released.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Reader) -> Result<T, Error>,
    ) -> Result<T, FileError> {
        match self {
            Backend::File(shared) => shared
                .with(|fl| {
                    let r = f(fl.log_mut());
                    r.map_err(|e| FileError::at(e, fl.path()))
                })
                .and_then(|r| r),
            Backend::Image(m) => match lock(m).as_mut() {
                Some(log) => f(log).map_err(FileError::from),
                None => Err(FileError::from(Error::Closed)),
            },
        }
    }

    /// Runs `f` on the image log under its lock (a write operation: the core refuses it on the
    /// read-only storage). Call with the GIL released.
    pub fn image_op<T>(
        m: &Mutex<Option<ImageLog>>,
        f: impl FnOnce(&mut ImageLog) -> Result<T, Error>,
    ) -> Result<T, FileError> {
        match lock(m).as_mut() {
            Some(log) => f(log).map_err(FileError::from),
            None => Err(FileError::from(Error::Closed)),
        }
    }

    /// Closes the log; later calls get `ClosedError`, and so does closing twice.
    pub fn close(&self) -> Result<(), FileError> {
        match self {
            Backend::File(shared) => shared.close(),
            Backend::Image(m) => match lock(m).take() {
                Some(_) => Ok(()),
                None => Err(FileError::from(Error::Closed)),
            },
        }
    }

    /// Whether `close` ran.
    pub fn is_closed(&self) -> bool {
        match self {
            Backend::File(shared) => shared.is_closed(),
            Backend::Image(m) => lock(m).is_none(),
        }
    }
}

/// Runs a write operation on either backend: `$l` is the `SharedFileLog` (methods take `&self`
/// and return `FileError`) or the image's `Log` (methods take `&mut self` and return `Error`);
/// the operation's text is the same for both.
macro_rules! write_op {
    ($backend:expr, |$l:ident| $op:expr) => {
        match $backend {
            $crate::backend::Backend::File($l) => $op,
            $crate::backend::Backend::Image(m) => $crate::backend::Backend::image_op(m, |$l| $op),
        }
    };
}
pub(crate) use write_op;
