//! [`Config`]: how a log is laid out when formatted and how it behaves when full.

/// What [`Log::append`](crate::Log::append) does when no segment is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FullPolicy {
    /// Keep every record: reclaim the oldest segment only when it is trimmed or every consumer
    /// has committed past it; otherwise fail with [`Error::Full`](crate::Error::Full).
    ///
    /// One segment is kept free as a spare: appends (and commits, rewinds or trims that free
    /// nothing) stop one segment early, so a commit or trim that lets the oldest segment go can
    /// always be made durable *before* that segment is erased. A truncation may take the spare;
    /// until the oldest segment goes, the active segment then keeps room for that state frame.
    #[default]
    Reject,
    /// Ring buffer: drop the oldest segment. Consumers that fell behind get
    /// [`Error::Overwritten`](crate::Error::Overwritten) instead of data.
    OverwriteOldest,
}

/// Settings for [`Log::format`](crate::Log::format) and [`Log::mount`](crate::Log::mount).
///
/// `segment_sectors`, `index_interval` and `max_record_size` shape the image and are stored
/// in it; `mount` takes them from the image and ignores these fields. `full_policy` is a
/// run-time choice and applies to both, unless the log's type fixes the policy (see
/// [`policy`](crate::policy)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Segment size in erase sectors (≥ 1). The medium holds `capacity / segment size`
    /// segments; at least 2 are required.
    pub segment_sectors: u32,
    /// Bytes of frames between index slots (≥ write size). Smaller: faster reads by offset
    /// and mount, more index bytes. Default 1024.
    pub index_interval: u32,
    /// Largest record in bytes; 0 means "the largest that fits in a segment" (the default).
    pub max_record_size: u32,
    /// Behaviour when the log is full. Ignored by a log whose type fixes the policy
    /// ([`policy::Reject`](crate::policy::Reject), [`policy::OverwriteOldest`](crate::policy::OverwriteOldest)).
    pub full_policy: FullPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            segment_sectors: 1,
            index_interval: 1024,
            max_record_size: 0,
            full_policy: FullPolicy::Reject,
        }
    }
}

impl Config {
    /// The default configuration.
    pub const fn new() -> Self {
        Config {
            segment_sectors: 1,
            index_interval: 1024,
            max_record_size: 0,
            full_policy: FullPolicy::Reject,
        }
    }
    /// Sets [`segment_sectors`](Self::segment_sectors).
    pub const fn segment_sectors(mut self, n: u32) -> Self {
        self.segment_sectors = n;
        self
    }
    /// Sets [`index_interval`](Self::index_interval).
    pub const fn index_interval(mut self, bytes: u32) -> Self {
        self.index_interval = bytes;
        self
    }
    /// Sets [`max_record_size`](Self::max_record_size).
    pub const fn max_record_size(mut self, bytes: u32) -> Self {
        self.max_record_size = bytes;
        self
    }
    /// Sets [`full_policy`](Self::full_policy).
    pub const fn full_policy(mut self, p: FullPolicy) -> Self {
        self.full_policy = p;
        self
    }
}
