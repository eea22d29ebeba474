//! [`ConfigError`]: why a geometry or a configuration was refused — the reason inside
//! [`Error::InvalidConfig`](crate::Error::InvalidConfig), one variant per rule, so callers (and
//! the bindings) can match on it instead of on a message.

use core::fmt;

/// The rule a geometry or configuration broke ([`Error::InvalidConfig`](crate::Error::InvalidConfig)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConfigError {
    /// The storage's `read_size` is not 1.
    ReadSize,
    /// `write_size` is not a power of two in 1..=256.
    WriteSize,
    /// `erase_size` is not a power of two in 256..=262144.
    EraseSize,
    /// `erase_size` is not a multiple of `write_size`.
    EraseNotMultipleOfWrite,
    /// The capacity is zero or not a multiple of `erase_size`.
    Capacity,
    /// The capacity is above the largest the 32-bit addresses allow (`2³² − erase_size`).
    CapacityTooLarge,
    /// `segment_sectors` is 0.
    SegmentSectors,
    /// The segment size (`erase_size × segment_sectors`) is 4 GiB or more.
    SegmentTooLarge,
    /// The storage holds fewer than two segments.
    TooFewSegments,
    /// `index_interval` is smaller than the write size.
    IndexInterval,
    /// `index_interval` is so small that the index area would fill the segment.
    IndexArea,
    /// A segment cannot hold its largest header, its index and a frame.
    SegmentTooSmall,
    /// `max_record_size` is larger than what fits in a segment.
    MaxRecordSize,
    /// A partition's start or length is not a multiple of the erase size.
    PartitionAlignment,
    /// A partition extends past the end of its storage.
    PartitionOutOfRange,
    /// A KV needs at least two erase sectors (one per partition).
    KvTooSmall,
    /// A KV partition must be smaller than 2 GiB.
    KvPartitionTooLarge,
    /// A partition cannot hold one entry of `max_key_len` and `max_value_len`.
    KvEntryTooLarge,
    /// `high_water_percent` is outside 1..=100.
    HighWaterPercent,
    /// A grouped store's `max_open_streams` is 0.
    MaxOpenStreams,
}

impl ConfigError {
    /// The rule, in words.
    pub const fn as_str(self) -> &'static str {
        match self {
            ConfigError::ReadSize => "read_size must be 1",
            ConfigError::WriteSize => "write_size must be a power of two in 1..=256",
            ConfigError::EraseSize => "erase_size must be a power of two in 256..=262144",
            ConfigError::EraseNotMultipleOfWrite => "erase_size must be a multiple of write_size",
            ConfigError::Capacity => "capacity must be a non-zero multiple of erase_size",
            ConfigError::CapacityTooLarge => {
                "capacity must be at most 4 GiB minus one erase sector (32-bit addresses)"
            }
            ConfigError::SegmentSectors => "segment_sectors must be at least 1",
            ConfigError::SegmentTooLarge => "segment size must be below 4 GiB",
            ConfigError::TooFewSegments => "the storage must hold at least two segments",
            ConfigError::IndexInterval => "index_interval must be at least the write size",
            ConfigError::IndexArea => {
                "index_interval too small: the index area would fill the segment"
            }
            ConfigError::SegmentTooSmall => "segment too small for its header, index and a frame",
            ConfigError::MaxRecordSize => "max_record_size does not fit in a segment",
            ConfigError::PartitionAlignment => {
                "partition start and length must be multiples of erase_size"
            }
            ConfigError::PartitionOutOfRange => "partition extends past the storage",
            ConfigError::KvTooSmall => "a KV needs at least two erase sectors (one per partition)",
            ConfigError::KvPartitionTooLarge => "a KV partition must be smaller than 2 GiB",
            ConfigError::KvEntryTooLarge => {
                "a partition cannot hold an entry of max_key_len and max_value_len"
            }
            ConfigError::HighWaterPercent => "high_water_percent must be in 1..=100",
            ConfigError::MaxOpenStreams => "max_open_streams must be at least 1",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
