//! [`ErrorCode`]: the stable number of every error — one append-only table that the bindings
//! share (the table is in [`ErrorCode`]'s docs).

use super::{Error, StorageError};

/// The stable number of every [`Error`]: one append-only table that the bindings
/// share. C's status codes are these numbers (`TL_ERR_<NAME>`), Python's exception classes and
/// JS's `.code` values are named after [`ErrorCode::name`].
///
/// | code | name | [`Error`] variant |
/// |---:|---|---|
/// | 0 | (success: `TL_OK` in C) | — |
/// | 1 | `FULL` | [`Error::Full`] |
/// | 2 | `CORRUPT` | [`Error::Corrupt`] |
/// | 3 | `OUT_OF_RANGE` | [`Error::OutOfRange`] |
/// | 4 | `OVERWRITTEN` | [`Error::Overwritten`] |
/// | 5 | `TOO_LARGE` | [`Error::TooLarge`] |
/// | 6 | `BUFFER_TOO_SMALL` | [`Error::BufferTooSmall`] |
/// | 7 | `UNSUPPORTED_VERSION` | [`Error::UnsupportedVersion`] |
/// | 8 | `NOT_FORMATTED` | [`Error::NotFormatted`] |
/// | 9 | `GEOMETRY_MISMATCH` | [`Error::GeometryMismatch`] |
/// | 10 | `INVALID_CONFIG` | [`Error::InvalidConfig`] |
/// | 11 | `INVALID_ARGUMENT` | [`Error::InvalidArgument`] |
/// | 12 | `INVALID_NAME` | [`Error::InvalidName`] |
/// | 13 | `NO_SUCH_CONSUMER` | [`Error::NoSuchConsumer`] |
/// | 14 | `TOO_MANY_CONSUMERS` | [`Error::TooManyConsumers`] |
/// | 15 | `LOCKED` | [`Error::Locked`] |
/// | 16 | `NEEDS_REMOUNT` | [`Error::NeedsRemount`] |
/// | 17 | `NOT_FOUND` | [`Error::NotFound`] |
/// | 18 | `ALREADY_EXISTS` | [`Error::AlreadyExists`] |
/// | 19 | `CLOSED` | [`Error::Closed`] |
/// | 32 | `STORAGE_OUT_OF_BOUNDS` | [`Error::Storage`]\([`StorageError::OutOfBounds`]) |
/// | 33 | `STORAGE_NOT_ALIGNED` | [`Error::Storage`]\([`StorageError::NotAligned`]) |
/// | 34 | `STORAGE_WRITE_TWICE` | [`Error::Storage`]\([`StorageError::WriteTwice`]) |
/// | 35 | `STORAGE_POWER_LOSS` | [`Error::Storage`]\([`StorageError::PowerLoss`]) |
/// | 36 | `STORAGE_DEVICE` | [`Error::Storage`]\([`StorageError::Device`]) |
/// | 37 | `STORAGE_READ_ONLY` | [`Error::Storage`]\([`StorageError::ReadOnly`]) |
///
/// **Append-only.** A number, once given, keeps its meaning forever; a new variant gets the next
/// free number of its range (1–31 the log's errors, 32–63 the storage's). The compiler refuses
/// two variants with one number (`ErrorCode` is `repr(u16)` with explicit discriminants), and
/// [`Error::code`] is an exhaustive `match`, so a new [`Error`] variant without a code does not
/// build; the tests check that [`ErrorCode::ALL`] lists every code once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u16)]
#[non_exhaustive]
pub enum ErrorCode {
    /// [`Error::Full`].
    Full = 1,
    /// [`Error::Corrupt`].
    Corrupt = 2,
    /// [`Error::OutOfRange`].
    OutOfRange = 3,
    /// [`Error::Overwritten`].
    Overwritten = 4,
    /// [`Error::TooLarge`].
    TooLarge = 5,
    /// [`Error::BufferTooSmall`].
    BufferTooSmall = 6,
    /// [`Error::UnsupportedVersion`].
    UnsupportedVersion = 7,
    /// [`Error::NotFormatted`].
    NotFormatted = 8,
    /// [`Error::GeometryMismatch`].
    GeometryMismatch = 9,
    /// [`Error::InvalidConfig`].
    InvalidConfig = 10,
    /// [`Error::InvalidArgument`].
    InvalidArgument = 11,
    /// [`Error::InvalidName`].
    InvalidName = 12,
    /// [`Error::NoSuchConsumer`].
    NoSuchConsumer = 13,
    /// [`Error::TooManyConsumers`].
    TooManyConsumers = 14,
    /// [`Error::Locked`].
    Locked = 15,
    /// [`Error::NeedsRemount`].
    NeedsRemount = 16,
    /// [`Error::NotFound`].
    NotFound = 17,
    /// [`Error::AlreadyExists`].
    AlreadyExists = 18,
    /// [`Error::Closed`].
    Closed = 19,
    /// [`StorageError::OutOfBounds`].
    StorageOutOfBounds = 32,
    /// [`StorageError::NotAligned`].
    StorageNotAligned = 33,
    /// [`StorageError::WriteTwice`].
    StorageWriteTwice = 34,
    /// [`StorageError::PowerLoss`].
    StoragePowerLoss = 35,
    /// [`StorageError::Device`].
    StorageDevice = 36,
    /// [`StorageError::ReadOnly`].
    StorageReadOnly = 37,
}

impl ErrorCode {
    /// Every code, in ascending order.
    pub const ALL: [ErrorCode; 25] = [
        ErrorCode::Full,
        ErrorCode::Corrupt,
        ErrorCode::OutOfRange,
        ErrorCode::Overwritten,
        ErrorCode::TooLarge,
        ErrorCode::BufferTooSmall,
        ErrorCode::UnsupportedVersion,
        ErrorCode::NotFormatted,
        ErrorCode::GeometryMismatch,
        ErrorCode::InvalidConfig,
        ErrorCode::InvalidArgument,
        ErrorCode::InvalidName,
        ErrorCode::NoSuchConsumer,
        ErrorCode::TooManyConsumers,
        ErrorCode::Locked,
        ErrorCode::NeedsRemount,
        ErrorCode::NotFound,
        ErrorCode::AlreadyExists,
        ErrorCode::Closed,
        ErrorCode::StorageOutOfBounds,
        ErrorCode::StorageNotAligned,
        ErrorCode::StorageWriteTwice,
        ErrorCode::StoragePowerLoss,
        ErrorCode::StorageDevice,
        ErrorCode::StorageReadOnly,
    ];

    /// The number.
    pub const fn as_u16(self) -> u16 {
        self as u16
    }

    /// The code with number `n`, if there is one.
    pub const fn from_u16(n: u16) -> Option<ErrorCode> {
        let mut i = 0;
        while i < Self::ALL.len() {
            if Self::ALL[i] as u16 == n {
                return Some(Self::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// The name, in capitals with underscores: C's `TL_ERR_<NAME>`, JS's `.code`, Python's
    /// exception class (`FULL` → `FullError`).
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::Full => "FULL",
            ErrorCode::Corrupt => "CORRUPT",
            ErrorCode::OutOfRange => "OUT_OF_RANGE",
            ErrorCode::Overwritten => "OVERWRITTEN",
            ErrorCode::TooLarge => "TOO_LARGE",
            ErrorCode::BufferTooSmall => "BUFFER_TOO_SMALL",
            ErrorCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ErrorCode::NotFormatted => "NOT_FORMATTED",
            ErrorCode::GeometryMismatch => "GEOMETRY_MISMATCH",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::InvalidName => "INVALID_NAME",
            ErrorCode::NoSuchConsumer => "NO_SUCH_CONSUMER",
            ErrorCode::TooManyConsumers => "TOO_MANY_CONSUMERS",
            ErrorCode::Locked => "LOCKED",
            ErrorCode::NeedsRemount => "NEEDS_REMOUNT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::AlreadyExists => "ALREADY_EXISTS",
            ErrorCode::Closed => "CLOSED",
            ErrorCode::StorageOutOfBounds => "STORAGE_OUT_OF_BOUNDS",
            ErrorCode::StorageNotAligned => "STORAGE_NOT_ALIGNED",
            ErrorCode::StorageWriteTwice => "STORAGE_WRITE_TWICE",
            ErrorCode::StoragePowerLoss => "STORAGE_POWER_LOSS",
            ErrorCode::StorageDevice => "STORAGE_DEVICE",
            ErrorCode::StorageReadOnly => "STORAGE_READ_ONLY",
        }
    }

    /// A short description of the code, without the details a particular [`Error`] carries
    /// (C's `tl_strerror`).
    pub const fn description(self) -> &'static str {
        match self {
            ErrorCode::Full => "no space left (log or KV is full)",
            ErrorCode::Corrupt => "corrupt data on the medium",
            ErrorCode::OutOfRange => "offset out of range",
            ErrorCode::Overwritten => "records were dropped by wraparound or trim",
            ErrorCode::TooLarge => "record, batch, key or value too large",
            ErrorCode::BufferTooSmall => "buffer too small",
            ErrorCode::UnsupportedVersion => "unsupported format version",
            ErrorCode::NotFormatted => "no tidelog image found",
            ErrorCode::GeometryMismatch => "geometry does not match the image",
            ErrorCode::InvalidConfig => "invalid configuration or geometry",
            ErrorCode::InvalidArgument => "invalid argument",
            ErrorCode::InvalidName => "invalid name",
            ErrorCode::NoSuchConsumer => "no consumer with that name",
            ErrorCode::TooManyConsumers => "consumer table is full",
            ErrorCode::Locked => "locked by another writer",
            ErrorCode::NeedsRemount => "an earlier write failed; mount again before writing",
            ErrorCode::NotFound => "not found",
            ErrorCode::AlreadyExists => "already exists",
            ErrorCode::Closed => "handle is closed",
            ErrorCode::StorageOutOfBounds => "storage address out of bounds",
            ErrorCode::StorageNotAligned => "storage operation not aligned to the geometry",
            ErrorCode::StorageWriteTwice => "write unit programmed twice without erase",
            ErrorCode::StoragePowerLoss => "power lost during the operation",
            ErrorCode::StorageDevice => "storage device error",
            ErrorCode::StorageReadOnly => "storage is read-only",
        }
    }
}

impl StorageError {
    /// The stable code of this storage error.
    pub const fn code(&self) -> ErrorCode {
        match self {
            StorageError::OutOfBounds => ErrorCode::StorageOutOfBounds,
            StorageError::NotAligned => ErrorCode::StorageNotAligned,
            StorageError::WriteTwice => ErrorCode::StorageWriteTwice,
            StorageError::PowerLoss => ErrorCode::StoragePowerLoss,
            StorageError::Device(_) => ErrorCode::StorageDevice,
            StorageError::ReadOnly => ErrorCode::StorageReadOnly,
        }
    }
}

impl Error {
    /// The stable code of this error (see [`ErrorCode`]).
    pub const fn code(&self) -> ErrorCode {
        match self {
            Error::Full => ErrorCode::Full,
            Error::Corrupt { .. } => ErrorCode::Corrupt,
            Error::OutOfRange { .. } => ErrorCode::OutOfRange,
            Error::Overwritten { .. } => ErrorCode::Overwritten,
            Error::TooLarge { .. } => ErrorCode::TooLarge,
            Error::BufferTooSmall { .. } => ErrorCode::BufferTooSmall,
            Error::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion,
            Error::NotFormatted => ErrorCode::NotFormatted,
            Error::GeometryMismatch => ErrorCode::GeometryMismatch,
            Error::InvalidConfig(_) => ErrorCode::InvalidConfig,
            Error::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Error::InvalidName => ErrorCode::InvalidName,
            Error::NoSuchConsumer => ErrorCode::NoSuchConsumer,
            Error::TooManyConsumers => ErrorCode::TooManyConsumers,
            Error::Locked => ErrorCode::Locked,
            Error::NeedsRemount => ErrorCode::NeedsRemount,
            Error::NotFound => ErrorCode::NotFound,
            Error::AlreadyExists => ErrorCode::AlreadyExists,
            Error::Closed => ErrorCode::Closed,
            Error::Storage(e) => e.code(),
        }
    }
}
