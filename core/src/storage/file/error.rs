//! [`FileError`]: a tidelog [`Error`] plus what it concerns (a path, a stream name) and the
//! OS error behind it.
//!
//! Why a second error type: [`Error`] is `Copy` and allocation free so that firmware and C
//! can use it, which leaves no room for a path or an [`std::io::Error`]. Host code (files,
//! grouped logs) wants both in its messages, so its operations return `FileError`, whose
//! [`kind`](FileError::kind) is the plain [`Error`] (for matching, and for the bindings'
//! 1:1 mapping to exceptions and status codes).

use crate::error::{Error, StorageError};
use std::io;
use std::path::Path;
use std::string::{String, ToString};

/// An [`Error`] with context: the file or name it concerns, an optional detail and the OS
/// error behind it. Its `Display` reads e.g. `/var/log/app.tlog: locked by another writer`.
#[derive(Debug)]
pub struct FileError {
    kind: Error,
    context: String,
    detail: Option<&'static str>,
    source: Option<io::Error>,
}

impl FileError {
    /// An error of `kind` concerning `context` (a path or a name).
    pub fn new(kind: Error, context: impl Into<String>) -> Self {
        FileError {
            kind,
            context: context.into(),
            detail: None,
            source: None,
        }
    }

    /// An error of `kind` concerning the file at `path`.
    pub fn at(kind: Error, path: &Path) -> Self {
        FileError::new(kind, path.display().to_string())
    }

    /// An OS error on `path`, classified: a missing file is [`Error::NotFound`], an existing
    /// one where a new one was wanted is [`Error::AlreadyExists`], a lock held elsewhere is
    /// [`Error::Locked`], anything else [`Error::Storage`] with the OS error number.
    pub fn io(err: io::Error, path: &Path) -> Self {
        let kind = match err.kind() {
            io::ErrorKind::NotFound => Error::NotFound,
            io::ErrorKind::AlreadyExists => Error::AlreadyExists,
            io::ErrorKind::WouldBlock => Error::Locked,
            _ => Error::Storage(StorageError::Device(err.raw_os_error().unwrap_or(-1))),
        };
        FileError {
            kind,
            context: path.display().to_string(),
            detail: None,
            source: Some(err),
        }
    }

    /// Adds a short explanation (shown after the kind).
    pub(crate) fn with_detail(mut self, detail: &'static str) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Attaches the OS error behind a storage failure, if there is one.
    pub(crate) fn with_source(mut self, source: Option<io::Error>) -> Self {
        if self.source.is_none() {
            self.source = source;
        }
        self
    }

    /// The plain error, for matching (`e.kind() == Error::Locked`).
    pub fn kind(&self) -> Error {
        self.kind
    }

    /// The stable code of the error ([`Error::code`]).
    pub fn code(&self) -> crate::ErrorCode {
        self.kind.code()
    }

    /// What the error concerns: a path, or a group/stream name.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The OS error behind it, if any.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }
}

impl core::fmt::Display for FileError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if !self.context.is_empty() {
            write!(f, "{}: ", self.context)?;
        }
        // The core's texts for these name consumers; here they concern files and streams.
        // An OS error is shown as the OS words it, rather than as a bare number.
        let source_said_it = match (self.kind, &self.source) {
            (Error::Locked, _) => f.write_str("locked by another writer").map(|_| true)?,
            (Error::NotFound, _) => f.write_str("not found").map(|_| true)?,
            (Error::InvalidName, _) => f.write_str("invalid name").map(|_| true)?,
            (Error::AlreadyExists, _) => f.write_str("already exists").map(|_| true)?,
            (Error::Storage(StorageError::Device(_)), Some(s)) => {
                write!(f, "I/O error: {s}").map(|_| true)?
            }
            (k, _) => write!(f, "{k}").map(|_| false)?,
        };
        if let Some(d) = self.detail {
            write!(f, " ({d})")?;
        }
        match &self.source {
            Some(s) if !source_said_it => write!(f, ": {s}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

impl From<Error> for FileError {
    fn from(kind: Error) -> Self {
        FileError::new(kind, String::new())
    }
}

impl From<FileError> for Error {
    /// Drops the context, keeping the kind.
    fn from(e: FileError) -> Self {
        e.kind
    }
}

impl PartialEq<Error> for FileError {
    fn eq(&self, other: &Error) -> bool {
        self.kind == *other
    }
}
