//! [`DrainError`]: everything that stops a drain, with a message an operator can act on.

use std::fmt;
use tidelog::{ErrorCode, FileError};

/// Why a drain stopped (or could not start). Transient faults — a server that is down, a
/// publish that timed out or was refused — are not errors: the drain backs off and retries
/// them. What reaches the caller is what retrying cannot fix.
#[derive(Debug)]
#[non_exhaustive]
pub enum DrainError {
    /// An option is invalid (the message says which and why).
    InvalidOption(String),
    /// The server could not be reached within the connect timeout, refused the credentials,
    /// or the URL is malformed.
    Connect {
        /// The server URL as given.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The stream exists with settings that break the delivery guarantee.
    IncompatibleStream {
        /// The stream's name.
        stream: String,
        /// Which setting, and what the drain needs instead.
        reason: String,
    },
    /// A JetStream API request failed in a way retrying does not fix (e.g. the server has
    /// JetStream disabled, or refused to create the stream).
    JetStream(String),
    /// The stream holds a record this log does not have: the log was truncated or replaced
    /// after those records were delivered, so its offsets no longer name the same records.
    StreamAhead {
        /// The highest offset the stream holds.
        stream_offset: u64,
        /// The log's next offset.
        log_next: u64,
    },
    /// Records the consumer had not delivered were dropped from the log (wraparound under
    /// `OverwriteOldest`, or a trim past it): delivering the rest would leave a gap.
    Overwritten {
        /// The consumer's committed offset.
        committed: u64,
        /// The first record the log still holds.
        first_available: u64,
    },
    /// The log could not be read at `offset` (e.g. a corrupt record). Everything before
    /// `offset` was delivered and committed; nothing at or after it was.
    Record {
        /// The offset of the record that could not be read.
        offset: u64,
        /// The core's error (its `code()` is stable).
        error: FileError,
    },
    /// Opening, committing, trimming or syncing the log failed.
    Log(FileError),
}

impl DrainError {
    /// The core's stable error code, for errors that come from the log.
    pub fn log_code(&self) -> Option<ErrorCode> {
        match self {
            DrainError::Record { error, .. } | DrainError::Log(error) => Some(error.code()),
            _ => None,
        }
    }

    /// The process exit status the `tidelog-drain` binary uses for this error: 2 for bad
    /// options, 3 for the server (unreachable, credentials, JetStream), 4 for an incompatible
    /// stream, 5 for the log.
    pub fn exit_status(&self) -> u8 {
        match self {
            DrainError::InvalidOption(_) => 2,
            DrainError::Connect { .. } | DrainError::JetStream(_) => 3,
            DrainError::IncompatibleStream { .. } | DrainError::StreamAhead { .. } => 4,
            DrainError::Overwritten { .. } | DrainError::Record { .. } | DrainError::Log(_) => 5,
        }
    }
}

impl fmt::Display for DrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DrainError::InvalidOption(m) => write!(f, "invalid option: {m}"),
            DrainError::Connect { url, reason } => {
                write!(f, "cannot connect to NATS server {url}: {reason}")
            }
            DrainError::IncompatibleStream { stream, reason } => write!(
                f,
                "stream {stream} is not compatible with exactly-once delivery: {reason}"
            ),
            DrainError::JetStream(m) => write!(f, "JetStream: {m}"),
            DrainError::StreamAhead {
                stream_offset,
                log_next,
            } => write!(
                f,
                "the stream already holds offset {stream_offset} but the log ends at \
                 {log_next}: the log was truncated or replaced after delivery; refusing to \
                 publish records under offsets the stream already has"
            ),
            DrainError::Overwritten {
                committed,
                first_available,
            } => write!(
                f,
                "records {committed}..{first_available} were dropped from the log before \
                 they were delivered (the log wrapped or was trimmed past the consumer); \
                 rerun with --accept-loss to go on from offset {first_available}"
            ),
            DrainError::Record { offset, error } => write!(
                f,
                "cannot read the record at offset {offset}: {error} [{}]; records before \
                 {offset} are delivered and committed, nothing after it ({})",
                error.code().name(),
                hint(error.code())
            ),
            DrainError::Log(error) => write!(
                f,
                "log: {error} [{}] ({})",
                error.code().name(),
                hint(error.code())
            ),
        }
    }
}

impl std::error::Error for DrainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DrainError::Record { error, .. } | DrainError::Log(error) => Some(error),
            _ => None,
        }
    }
}

impl From<FileError> for DrainError {
    fn from(e: FileError) -> Self {
        DrainError::Log(e)
    }
}

/// What an operator does about a core error met while draining. Every core code has one
/// (a test walks [`ErrorCode::ALL`]).
pub fn hint(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Full => "the log is full: trim delivered records (--trim) or enlarge it",
        ErrorCode::Corrupt => "the medium is damaged at this record; inspect the image",
        ErrorCode::OutOfRange => "the offset lies outside the log (it was truncated)",
        ErrorCode::Overwritten => "the records were dropped by wraparound or a trim",
        ErrorCode::TooLarge => "the record exceeds the log's maximum record size",
        ErrorCode::BufferTooSmall => "internal: a read buffer was too small",
        ErrorCode::UnsupportedVersion => "the log was written by a newer tidelog; upgrade",
        ErrorCode::NotFormatted => "the file is not a tidelog log (or its creation was cut)",
        ErrorCode::GeometryMismatch => "the image's geometry differs from the storage's",
        ErrorCode::InvalidConfig => "the log's configuration is invalid",
        ErrorCode::InvalidArgument => "an argument was refused by the log",
        ErrorCode::InvalidName => "consumer names are 1..=32 bytes of UTF-8",
        ErrorCode::NoSuchConsumer => "the consumer does not exist",
        ErrorCode::TooManyConsumers => "the log has no room for another consumer",
        ErrorCode::Locked => "another process writes the log; the drain tails it read-only",
        ErrorCode::NeedsRemount => "a write failed part-way: restart the drain to remount",
        ErrorCode::NotFound => "no such file",
        ErrorCode::AlreadyExists => "the file already exists",
        ErrorCode::Closed => "the log was closed by its owner",
        ErrorCode::StorageOutOfBounds => "the file is shorter than its header says",
        ErrorCode::StorageNotAligned => "internal: unaligned storage access",
        ErrorCode::StorageWriteTwice => "internal: a write unit was programmed twice",
        ErrorCode::StoragePowerLoss => "the storage lost power",
        ErrorCode::StorageDevice => "the operating system reported an I/O error",
        ErrorCode::StorageReadOnly => "the log is open read-only: it cannot commit or trim",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_code_has_an_operator_hint() {
        for code in ErrorCode::ALL {
            assert!(!hint(code).is_empty(), "no hint for {}", code.name());
        }
    }

    #[test]
    fn a_record_error_names_offset_code_and_promise() {
        let e = DrainError::Record {
            offset: 512,
            error: FileError::new(tidelog::Error::Corrupt { addr: 0x2000 }, "app.tlog"),
        };
        let m = e.to_string();
        assert!(m.contains("offset 512"), "{m}");
        assert!(m.contains("CORRUPT"), "{m}");
        assert!(m.contains("app.tlog"), "{m}");
        assert_eq!(e.log_code(), Some(ErrorCode::Corrupt));
        assert_eq!(e.exit_status(), 5);
    }
}
