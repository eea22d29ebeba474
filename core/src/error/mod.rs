//! The one error type of tidelog.
//!
//! Every fallible operation in the crate returns [`Error`]. It is `Copy`, allocation free and
//! `Display`-able, so firmware can return it through C status codes and hosts can map it 1:1
//! onto exception classes. [`StorageError`] is what a [`Storage`](crate::Storage)
//! implementation reports; the log wraps it in [`Error::Storage`].
//!
//! Inside the crate, the machinery below the public methods reports a [`Fault`] instead: the
//! subset of failures that needs no caller context, in 8 bytes. `Error` carries 64-bit
//! offsets (24 bytes, 8-aligned), so every `?` on a `Result<_, Error>` copies three double
//! words and most results travel through memory; a `Result<(), Fault>` fits two registers on
//! a 32-bit core. The public methods convert at the boundary (`From<Fault> for Error`), and
//! build the context-carrying variants ([`Error::OutOfRange`], [`Error::Overwritten`],
//! [`Error::TooLarge`], [`Error::InvalidConfig`], ...) themselves. On thumbv7em this saved
//! 0.85 KB of the log's code and 1.2 KB of the log + KV probe (`bash footprint/measure.sh`).
//!
//! Every error has a stable number, [`Error::code`] (the table is in [`ErrorCode`]), which the
//! bindings use as C status codes, Python exception classes and JS `.code` values.

mod code;
mod config;

pub use code::ErrorCode;
pub use config::ConfigError;

use core::fmt;

/// What went wrong inside a [`Storage`](crate::Storage) implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum StorageError {
    /// The address range lies (partly) outside the storage.
    OutOfBounds,
    /// A program or erase was not aligned to the write unit or erase sector.
    NotAligned,
    /// A write unit was programmed twice without an erase in between, or a program tried to
    /// set bits (NOR flash can only clear bits). Raised by `SimFlash` (feature `sim`); a
    /// correct core never triggers it.
    WriteTwice,
    /// Simulated power loss (fault injection in `SimFlash`, feature `sim`): the operation
    /// may have been partially applied and the device is off until it is restored.
    PowerLoss,
    /// A driver-specific failure, with the driver's code (for files: the OS error number, or
    /// -1 when there is none).
    Device(i32),
    /// A program or erase on a storage opened read-only (e.g. a
    /// `FileStorage::open_read_only` inspection handle).
    ReadOnly,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::OutOfBounds => f.write_str("address out of bounds"),
            StorageError::NotAligned => f.write_str("operation not aligned to the flash geometry"),
            StorageError::WriteTwice => {
                f.write_str("write unit programmed twice without erase (or bits set by a program)")
            }
            StorageError::PowerLoss => f.write_str("power lost during the operation"),
            StorageError::Device(code) => write!(f, "device error {code}"),
            StorageError::ReadOnly => f.write_str("storage is opened read-only"),
        }
    }
}

/// Every error tidelog reports.
///
/// Positions (`addr`) are byte addresses relative to the start of the storage the log lives
/// on. Offsets are record offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// No space: the log is full under [`FullPolicy::Reject`](crate::FullPolicy::Reject) and no
    /// acknowledged segment can be reclaimed.
    Full,
    /// Data on the medium failed validation (checksum, structure) at this address.
    Corrupt {
        /// Byte address of the damaged frame, slot or header.
        addr: u32,
    },
    /// The offset is not in the log: readable offsets are `first..next`.
    OutOfRange {
        /// First readable offset.
        first: u64,
        /// Next offset to be assigned (one past the last record).
        next: u64,
    },
    /// The requested records were dropped (overwritten by wraparound or trimmed); reading can
    /// resume at `first_available`.
    Overwritten {
        /// The oldest offset still in the log.
        first_available: u64,
    },
    /// A record or batch is larger than the log accepts.
    TooLarge {
        /// Size that was asked for, in bytes.
        len: u32,
        /// Largest size accepted, in bytes.
        max: u32,
    },
    /// The caller's buffer is too small for the record; `needed` bytes are required.
    BufferTooSmall {
        /// Length of the record.
        needed: u32,
    },
    /// The medium holds a tidelog image of a newer format version than this build reads.
    UnsupportedVersion {
        /// Version found on the medium.
        found: u16,
    },
    /// The medium holds no tidelog image (no valid segment header was found).
    NotFormatted,
    /// The medium's geometry (from its headers) cannot be used with this storage, or
    /// headers disagree with each other.
    GeometryMismatch,
    /// The configuration or geometry is invalid; the reason says which rule was broken.
    InvalidConfig(ConfigError),
    /// An argument is invalid; the text says which rule was broken.
    InvalidArgument(&'static str),
    /// A consumer name is empty or longer than [`MAX_CONSUMER_NAME`](crate::MAX_CONSUMER_NAME).
    InvalidName,
    /// No consumer of that name exists.
    NoSuchConsumer,
    /// The consumer table is full (the log's `CONSUMERS` capacity is reached).
    TooManyConsumers,
    /// The storage is locked by another writer.
    Locked,
    /// The storage reported an error.
    Storage(StorageError),
    /// An earlier write failed part-way, so the in-memory view may no longer match the medium.
    /// Reads still work; writes are refused until the log is mounted again (which recovers
    /// exactly what reached the medium).
    NeedsRemount,
    /// A file, stream or group does not exist (a `FileError`'s context names
    /// it). A missing consumer is [`Error::NoSuchConsumer`].
    NotFound,
    /// A file, stream or group that should be new exists already.
    AlreadyExists,
    /// The handle was closed (by `close` from another thread of a shared
    /// handle, or in a binding: a closed or never-opened object).
    Closed,
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::InvalidConfig(e)
    }
}

impl From<StorageError> for Error {
    fn from(e: StorageError) -> Self {
        Error::Storage(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Full => f.write_str("no space left (log or KV is full)"),
            Error::Corrupt { addr } => write!(f, "corrupt data at address {addr:#x}"),
            Error::OutOfRange { first, next } => {
                write!(f, "offset out of range (readable offsets are {first}..{next})")
            }
            Error::Overwritten { first_available } => write!(
                f,
                "records were dropped by wraparound or trim; first available offset is {first_available}"
            ),
            Error::TooLarge { len, max } => write!(
                f,
                "{len} bytes exceed the maximum of {max} bytes (record, batch, key or value)"
            ),
            Error::BufferTooSmall { needed } => {
                write!(f, "buffer too small: the record needs {needed} bytes")
            }
            Error::UnsupportedVersion { found } => write!(
                f,
                "unsupported format version {found} (this build reads versions up to {})",
                crate::format::FORMAT_VERSION
            ),
            Error::NotFormatted => f.write_str("no tidelog image found on the storage"),
            Error::GeometryMismatch => {
                f.write_str("the image's geometry does not match the storage or is inconsistent")
            }
            Error::InvalidConfig(why) => write!(f, "invalid configuration: {why}"),
            Error::InvalidArgument(why) => write!(f, "invalid argument: {why}"),
            Error::InvalidName => f.write_str("invalid consumer name"),
            Error::NoSuchConsumer => f.write_str("no consumer with that name"),
            Error::TooManyConsumers => f.write_str("consumer table is full"),
            Error::Locked => f.write_str("storage is locked by another writer"),
            Error::Storage(e) => write!(f, "storage error: {e}"),
            Error::NeedsRemount => {
                f.write_str("an earlier write failed; mount the log again before writing")
            }
            Error::NotFound => f.write_str("not found"),
            Error::AlreadyExists => f.write_str("already exists"),
            Error::Closed => f.write_str("the handle is closed"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

#[cfg(feature = "std")]
impl std::error::Error for StorageError {}

/// A failure inside the log's machinery: what [`Error`] says without caller context, in
/// 8 bytes (see the module doc). Converted to [`Error`] by the public methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// See [`Error::Full`].
    Full,
    /// See [`Error::Corrupt`].
    Corrupt { addr: u32 },
    /// See [`Error::BufferTooSmall`].
    BufferTooSmall { needed: u32 },
    /// See [`Error::UnsupportedVersion`].
    UnsupportedVersion { found: u16 },
    /// See [`Error::NotFormatted`].
    NotFormatted,
    /// See [`Error::GeometryMismatch`].
    GeometryMismatch,
    /// See [`Error::InvalidName`].
    InvalidName,
    /// See [`Error::NoSuchConsumer`].
    NoSuchConsumer,
    /// See [`Error::TooManyConsumers`].
    TooManyConsumers,
    /// See [`Error::NeedsRemount`].
    NeedsRemount,
    /// See [`Error::Storage`].
    Storage(StorageError),
}

impl From<StorageError> for Fault {
    fn from(e: StorageError) -> Self {
        Fault::Storage(e)
    }
}

impl From<Fault> for Error {
    fn from(f: Fault) -> Self {
        match f {
            Fault::Full => Error::Full,
            Fault::Corrupt { addr } => Error::Corrupt { addr },
            Fault::BufferTooSmall { needed } => Error::BufferTooSmall { needed },
            Fault::UnsupportedVersion { found } => Error::UnsupportedVersion { found },
            Fault::NotFormatted => Error::NotFormatted,
            Fault::GeometryMismatch => Error::GeometryMismatch,
            Fault::InvalidName => Error::InvalidName,
            Fault::NoSuchConsumer => Error::NoSuchConsumer,
            Fault::TooManyConsumers => Error::TooManyConsumers,
            Fault::NeedsRemount => Error::NeedsRemount,
            Fault::Storage(e) => Error::Storage(e),
        }
    }
}

/// The result of the log's internal machinery (see [`Fault`]).
pub(crate) type Fallible<T> = core::result::Result<T, Fault>;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_fits_two_registers_of_a_32_bit_core() {
        // The point of `Fault` (module doc): keep it this small.
        assert!(core::mem::size_of::<Fault>() <= 8);
        assert!(core::mem::size_of::<Result<(), Fault>>() <= 8);
    }

    /// One error of each code: an exhaustive `match`, so a new code without an example does
    /// not build.
    fn example(c: ErrorCode) -> Error {
        match c {
            ErrorCode::Full => Error::Full,
            ErrorCode::Corrupt => Error::Corrupt { addr: 1 },
            ErrorCode::OutOfRange => Error::OutOfRange { first: 1, next: 2 },
            ErrorCode::Overwritten => Error::Overwritten { first_available: 3 },
            ErrorCode::TooLarge => Error::TooLarge { len: 9, max: 8 },
            ErrorCode::BufferTooSmall => Error::BufferTooSmall { needed: 5 },
            ErrorCode::UnsupportedVersion => Error::UnsupportedVersion { found: 2 },
            ErrorCode::NotFormatted => Error::NotFormatted,
            ErrorCode::GeometryMismatch => Error::GeometryMismatch,
            ErrorCode::InvalidConfig => Error::InvalidConfig(ConfigError::WriteSize),
            ErrorCode::InvalidArgument => Error::InvalidArgument("x"),
            ErrorCode::InvalidName => Error::InvalidName,
            ErrorCode::NoSuchConsumer => Error::NoSuchConsumer,
            ErrorCode::TooManyConsumers => Error::TooManyConsumers,
            ErrorCode::Locked => Error::Locked,
            ErrorCode::NeedsRemount => Error::NeedsRemount,
            ErrorCode::NotFound => Error::NotFound,
            ErrorCode::AlreadyExists => Error::AlreadyExists,
            ErrorCode::Closed => Error::Closed,
            ErrorCode::StorageOutOfBounds => Error::Storage(StorageError::OutOfBounds),
            ErrorCode::StorageNotAligned => Error::Storage(StorageError::NotAligned),
            ErrorCode::StorageWriteTwice => Error::Storage(StorageError::WriteTwice),
            ErrorCode::StoragePowerLoss => Error::Storage(StorageError::PowerLoss),
            ErrorCode::StorageDevice => Error::Storage(StorageError::Device(-5)),
            ErrorCode::StorageReadOnly => Error::Storage(StorageError::ReadOnly),
        }
    }

    /// The error of every code, back again through the exhaustive `Error::code`: every
    /// variant has a code and no two variants share one; every code is in `ALL` once, in
    /// ascending order, with a name and a description of its own.
    #[test]
    fn every_error_variant_has_its_own_stable_code() {
        let all = ErrorCode::ALL;
        for (i, &c) in all.iter().enumerate() {
            assert_eq!(example(c).code(), c, "{c:?}");
            assert_eq!(ErrorCode::from_u16(c.as_u16()), Some(c));
            assert!(c.as_u16() > 0, "0 is success");
            if i > 0 {
                assert!(all[i - 1].as_u16() < c.as_u16(), "ALL ascending: {c:?}");
                assert_ne!(all[i - 1].name(), c.name());
            }
            for &d in &all[..i] {
                assert_ne!(d.name(), c.name());
                assert_ne!(d.description(), c.description());
            }
            assert!(c
                .name()
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_'));
        }
        // No number outside the table decodes (so ALL misses none that `from_u16` knows).
        let known = (0..=u16::MAX)
            .filter(|&n| ErrorCode::from_u16(n).is_some())
            .count();
        assert_eq!(known, all.len());
        // The storage errors keep their range.
        assert!(all
            .iter()
            .all(|c| (c.as_u16() >= 32) == matches!(example(*c), Error::Storage(_))));
    }

    /// The codes are a published table (C status codes, the bindings): they never change.
    #[test]
    fn the_published_numbers_do_not_change() {
        let pinned = [
            (ErrorCode::Full, 1),
            (ErrorCode::Corrupt, 2),
            (ErrorCode::OutOfRange, 3),
            (ErrorCode::Overwritten, 4),
            (ErrorCode::TooLarge, 5),
            (ErrorCode::BufferTooSmall, 6),
            (ErrorCode::UnsupportedVersion, 7),
            (ErrorCode::NotFormatted, 8),
            (ErrorCode::GeometryMismatch, 9),
            (ErrorCode::InvalidConfig, 10),
            (ErrorCode::InvalidArgument, 11),
            (ErrorCode::InvalidName, 12),
            (ErrorCode::NoSuchConsumer, 13),
            (ErrorCode::TooManyConsumers, 14),
            (ErrorCode::Locked, 15),
            (ErrorCode::NeedsRemount, 16),
            (ErrorCode::NotFound, 17),
            (ErrorCode::AlreadyExists, 18),
            (ErrorCode::Closed, 19),
            (ErrorCode::StorageOutOfBounds, 32),
            (ErrorCode::StorageNotAligned, 33),
            (ErrorCode::StorageWriteTwice, 34),
            (ErrorCode::StoragePowerLoss, 35),
            (ErrorCode::StorageDevice, 36),
            (ErrorCode::StorageReadOnly, 37),
        ];
        assert_eq!(pinned.len(), ErrorCode::ALL.len());
        for (c, n) in pinned {
            assert_eq!(c.as_u16(), n, "{c:?}");
        }
    }

    #[test]
    fn every_fault_becomes_the_error_of_the_same_name() {
        let pairs = [
            (Fault::Full, Error::Full),
            (Fault::Corrupt { addr: 7 }, Error::Corrupt { addr: 7 }),
            (
                Fault::BufferTooSmall { needed: 9 },
                Error::BufferTooSmall { needed: 9 },
            ),
            (
                Fault::UnsupportedVersion { found: 3 },
                Error::UnsupportedVersion { found: 3 },
            ),
            (Fault::NotFormatted, Error::NotFormatted),
            (Fault::GeometryMismatch, Error::GeometryMismatch),
            (Fault::InvalidName, Error::InvalidName),
            (Fault::NoSuchConsumer, Error::NoSuchConsumer),
            (Fault::TooManyConsumers, Error::TooManyConsumers),
            (Fault::NeedsRemount, Error::NeedsRemount),
            (
                Fault::Storage(StorageError::Device(-5)),
                Error::Storage(StorageError::Device(-5)),
            ),
        ];
        for (f, e) in pairs {
            assert_eq!(Error::from(f), e);
        }
    }
}
