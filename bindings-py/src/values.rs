//! Frozen value objects: snapshots of the core's plain structs, with a useful `repr`.

use pyo3::prelude::*;

/// A field value as Python writes it (`True`, `'log'`, `42`).
trait PyRepr {
    fn py_repr(&self) -> String;
}

macro_rules! int_repr {
    ($($t:ty),+) => { $(impl PyRepr for $t { fn py_repr(&self) -> String { self.to_string() } })+ };
}
int_repr!(u8, u16, u32, u64, usize);

impl PyRepr for bool {
    fn py_repr(&self) -> String {
        if *self { "True" } else { "False" }.to_string()
    }
}

impl PyRepr for &str {
    fn py_repr(&self) -> String {
        format!("'{self}'")
    }
}

/// Writes `Name(field=value, ...)`.
macro_rules! repr {
    ($name:literal, $self:ident, $($field:ident),+) => {{
        let fields: Vec<String> = vec![
            $(format!("{}={}", stringify!($field), PyRepr::py_repr(&$self.$field))),+
        ];
        format!("{}({})", $name, fields.join(", "))
    }};
}

/// A snapshot of a log's size and position (`Log.stats()`).
#[pyclass(frozen, eq, get_all, module = "tidelog")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// First readable offset.
    pub first_offset: u64,
    /// Offset the next appended record gets.
    pub next_offset: u64,
    /// Bytes held by segments in use.
    pub bytes_used: u64,
    /// Bytes that can be written before a segment must be reclaimed.
    pub bytes_free: u64,
    /// Segments in use.
    pub segments_used: u32,
    /// Segments on the medium.
    pub segments_total: u32,
    /// Segment size in bytes.
    pub segment_size: u32,
    /// Largest record accepted, in bytes.
    pub max_record_size: u32,
}

impl From<tidelog::Stats> for Stats {
    fn from(s: tidelog::Stats) -> Self {
        Stats {
            first_offset: s.first_offset,
            next_offset: s.next_offset,
            bytes_used: s.bytes_used,
            bytes_free: s.bytes_free,
            segments_used: s.segments_used,
            segments_total: s.segments_total,
            segment_size: s.segment_size,
            max_record_size: s.max_record_size,
        }
    }
}

#[pymethods]
impl Stats {
    fn __repr__(&self) -> String {
        repr!(
            "Stats",
            self,
            first_offset,
            next_offset,
            bytes_used,
            bytes_free,
            segments_used,
            segments_total,
            segment_size,
            max_record_size
        )
    }
}

/// The geometry of a log, as stored in its segment headers (`Log.layout()`).
#[pyclass(frozen, eq, get_all, module = "tidelog")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Program unit in bytes.
    pub write_size: u32,
    /// Erase sector in bytes.
    pub erase_size: u32,
    /// Segment size in bytes.
    pub segment_size: u32,
    /// Segments on the medium.
    pub segment_count: u32,
    /// Bytes of frames between index slots.
    pub index_interval: u32,
    /// Largest record, in bytes.
    pub max_record_size: u32,
    /// Consumer cursors the image holds at most.
    pub max_consumers: u8,
}

impl From<&tidelog::format::layout::Layout> for Layout {
    fn from(l: &tidelog::format::layout::Layout) -> Self {
        Layout {
            write_size: l.write_size,
            erase_size: l.erase_size,
            segment_size: l.segment_size,
            segment_count: l.segment_count,
            index_interval: l.index_interval,
            max_record_size: l.max_record_size,
            max_consumers: l.max_consumers,
        }
    }
}

#[pymethods]
impl Layout {
    fn __repr__(&self) -> String {
        repr!(
            "Layout",
            self,
            write_size,
            erase_size,
            segment_size,
            segment_count,
            index_interval,
            max_record_size,
            max_consumers
        )
    }
}

/// What mount repaired or worked around (`Log.recovery()`); all zero / False for a log that
/// was closed cleanly.
#[pyclass(frozen, eq, get_all, module = "tidelog")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Stale segments left by a cut-short truncation (erased by a writable mount, ignored by a
    /// read-only one).
    pub stale_segments: u32,
    /// The active segment ends in a torn or damaged frame (the records before it are there).
    pub torn_tail: bool,
    /// Chain members whose header is damaged: their records read `CorruptError`.
    pub damaged_segments: u32,
    /// The newest state frame was damaged: an older consumer position or trim point stands in.
    pub state_fallback: bool,
    /// The segment after the active one holds an unreadable header.
    pub unreadable_after_tail: bool,
    /// True when mount found nothing to repair or work around.
    pub is_clean: bool,
}

impl From<tidelog::RecoveryReport> for RecoveryReport {
    fn from(r: tidelog::RecoveryReport) -> Self {
        RecoveryReport {
            stale_segments: r.stale_segments,
            torn_tail: r.torn_tail,
            damaged_segments: r.damaged_segments,
            state_fallback: r.state_fallback,
            unreadable_after_tail: r.unreadable_after_tail,
            is_clean: r.is_clean(),
        }
    }
}

#[pymethods]
impl RecoveryReport {
    fn __repr__(&self) -> String {
        repr!(
            "RecoveryReport",
            self,
            stale_segments,
            torn_tail,
            damaged_segments,
            state_fallback,
            unreadable_after_tail,
            is_clean
        )
    }
}

/// Size and state of a KV (`KV.stats()`).
#[pyclass(frozen, eq, get_all, module = "tidelog")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KVStats {
    /// Generation of the active partition (1 after format, +1 per compaction).
    pub generation: u64,
    /// Active partition: 0 or 1.
    pub active_partition: u8,
    /// Size of each partition in bytes.
    pub partition_size: u32,
    /// Bytes used in the active partition.
    pub used_bytes: u32,
    /// The high-water mark in bytes.
    pub high_water_mark: u32,
    /// Live keys.
    pub live_keys: usize,
    /// Longest key accepted.
    pub max_key_len: u8,
    /// Longest value accepted.
    pub max_value_len: u32,
    /// Largest body of one atomic batch.
    pub max_batch_body: u32,
}

impl From<tidelog::KvStats> for KVStats {
    fn from(s: tidelog::KvStats) -> Self {
        KVStats {
            generation: s.generation,
            active_partition: s.active_partition,
            partition_size: s.partition_size,
            used_bytes: s.used_bytes,
            high_water_mark: s.high_water_mark,
            // A `MapIndex` always knows (every KV of this binding has one).
            live_keys: s.live_keys.unwrap_or(0),
            max_key_len: s.max_key_len,
            max_value_len: s.max_value_len,
            max_batch_body: s.max_batch_body,
        }
    }
}

#[pymethods]
impl KVStats {
    fn __repr__(&self) -> String {
        repr!(
            "KVStats",
            self,
            generation,
            active_partition,
            partition_size,
            used_bytes,
            high_water_mark,
            live_keys,
            max_key_len,
            max_value_len,
            max_batch_body
        )
    }
}

/// What an image holds and the geometry to mount it with (`tidelog.probe_image()`).
#[pyclass(frozen, eq, get_all, module = "tidelog")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// `"log"` or `"kv"`.
    pub kind: &'static str,
    /// Program unit in bytes.
    pub write_size: usize,
    /// Erase sector in bytes.
    pub erase_size: usize,
    /// The capacity a storage for it has: the image's length in whole erase sectors.
    pub capacity: usize,
}

impl From<tidelog::image::ImageGeometry> for ImageInfo {
    fn from(g: tidelog::image::ImageGeometry) -> Self {
        let kind = match g.kind {
            tidelog::image::ImageKind::Log(_) => "log",
            tidelog::image::ImageKind::Kv(_) => "kv",
        };
        ImageInfo {
            kind,
            write_size: g.write_size,
            erase_size: g.erase_size,
            capacity: g.capacity,
        }
    }
}

#[pymethods]
impl ImageInfo {
    fn __repr__(&self) -> String {
        repr!("ImageInfo", self, kind, write_size, erase_size, capacity)
    }
}
