//! Stream files: how big they are, how they are built (atomically) and how they grow.
//!
//! A stream is a [`FileLog`] with no consumer cursors, `FullPolicy::Reject` (nothing is ever
//! dropped) and 4 KiB sectors. Its file starts at
//! [`initial_capacity`](super::LogDirOptions::initial_capacity); when an entry does not fit
//! (the log is full, or the entry is larger than a segment holds) the stream is **rewritten**
//! into a new file at least twice as large, with segments large enough for the entry: the new
//! file is built under a temporary name, synced, then renamed over the old one (atomic), so a
//! crash at any point leaves either the old stream or the new one. Doubling keeps the copying
//! to O(1) per byte over the stream's life.

use super::name::TEMP_PREFIX;
use super::options::LogDirOptions;
use crate::config::{Config, FullPolicy};
use crate::error::Error;
use crate::format::frame::{FRAME_OVERHEAD, MAX_BODY_LEN};
use crate::format::header::FIXED_HEADER_LEN;
use crate::format::layout::Layout;
use crate::format::state::MIN_STATE_LEN;
use crate::host::FileLog;
use crate::storage::file::io::sync_dir;
use crate::storage::file::MAX_FILE_CAPACITY;
use crate::storage::{Durability, FileError};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::vec::Vec;

/// A stream's log: no consumer cursors.
pub(crate) type StreamLog = FileLog<0>;

const WRITE_SIZE: u32 = 4;
const ERASE_SIZE: u64 = 4096;
/// Index interval: mount and reads by offset scan at most this many bytes of frames.
const INTERVAL: u32 = 4096;
const MIN_CAPACITY: u64 = 16 * 1024;
/// Segments are sized for about this many per file (mount reads every header)...
const TARGET_SEGMENTS: u64 = 16;
/// ...but no larger than this unless an entry needs it.
const MAX_AUTO_SEGMENT: u64 = 4 << 20;
/// Largest segment: holds the largest frame body the format allows.
const MAX_SEGMENT: u64 = 32 << 20;

/// A stream file's size and segment size, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub capacity: u64,
    pub segment: u64,
}

fn layout(segment: u64) -> Layout {
    Layout {
        write_size: WRITE_SIZE,
        erase_size: ERASE_SIZE as u32,
        segment_size: segment as u32,
        segment_count: 2,
        index_interval: INTERVAL,
        max_record_size: 0,
        max_consumers: 0,
    }
}

/// Largest entry a segment of `segment` bytes holds.
fn max_entry(segment: u64) -> u64 {
    let l = layout(segment);
    let data_start = l.data_start(FIXED_HEADER_LEN + MIN_STATE_LEN + 4) as u64;
    (l.index_start() as u64)
        .saturating_sub(data_start + FRAME_OVERHEAD as u64)
        .min(MAX_BODY_LEN as u64)
}

/// Bytes an entry of `len` bytes takes in the log.
pub(crate) fn frame_bytes(len: usize) -> u64 {
    layout(ERASE_SIZE).frame_size(len) as u64
}

/// The smallest segment that holds an entry of `len` bytes; [`Error::TooLarge`] if none does.
pub(crate) fn segment_for(len: u64) -> Result<u64, Error> {
    let mut seg = ERASE_SIZE;
    while max_entry(seg) < len {
        seg *= 2;
        if seg > MAX_SEGMENT {
            return Err(Error::TooLarge {
                len: len.min(u32::MAX as u64) as u32,
                max: max_entry(MAX_SEGMENT) as u32,
            });
        }
    }
    Ok(seg)
}

/// Sizes a file for `need` bytes of frames whose largest entry is `largest` bytes, with
/// segments of at least `min_segment` bytes. [`Error::Full`] beyond `max_capacity`.
pub(crate) fn plan(
    need: u64,
    largest: u64,
    min_segment: u64,
    options: &LogDirOptions,
) -> Result<Plan, Error> {
    let max = options.max_capacity.min(MAX_FILE_CAPACITY);
    let mut capacity = options
        .initial_capacity
        .max(MIN_CAPACITY)
        .checked_next_power_of_two()
        .ok_or(Error::Full)?;
    // Room for the frames twice over: segment headers, index slots and the unused end of
    // each segment never take more than that.
    while capacity < need.saturating_mul(2) {
        capacity = capacity.checked_mul(2).ok_or(Error::Full)?;
    }
    let auto = (capacity / TARGET_SEGMENTS).clamp(ERASE_SIZE, MAX_AUTO_SEGMENT);
    let segment = segment_for(largest)?.max(min_segment).max(auto);
    let capacity = capacity
        .max(segment.saturating_mul(4))
        // The largest file is just short of 4 GiB (32-bit addresses): a power of two above it
        // becomes the largest whole number of segments below it.
        .min(max / segment * segment);
    if capacity < need.saturating_mul(2) || capacity < segment.saturating_mul(4) {
        return Err(Error::Full);
    }
    Ok(Plan { capacity, segment })
}

/// A fresh temporary path in `dir`.
pub(crate) fn temp_path(dir: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(std::format!(
        "{TEMP_PREFIX}{}-{n}-{nanos:08x}",
        std::process::id()
    ))
}

/// Builds a stream file at `path` sized by `plan`, filled by `fill`, synced. Errors remove
/// the file. The log is returned open (locked) with durability `durability`.
pub(crate) fn build(
    path: &Path,
    plan: Plan,
    durability: Durability,
    fill: &mut dyn FnMut(&mut StreamLog) -> Result<(), FileError>,
) -> Result<StreamLog, FileError> {
    let config = Config::new()
        .segment_sectors((plan.segment / ERASE_SIZE) as u32)
        .index_interval(INTERVAL)
        .full_policy(FullPolicy::Reject);
    // Built in Explicit mode: one fdatasync at the end rather than one per entry.
    let mut log = StreamLog::create_with_geometry(
        path,
        plan.capacity,
        WRITE_SIZE as usize,
        ERASE_SIZE as usize,
        config,
        Durability::Explicit,
    )?;
    let r = fill(&mut log).and_then(|()| log.sync());
    match r {
        Ok(()) => {
            log.log_mut().storage_mut().set_durability(durability);
            Ok(log)
        }
        Err(e) => {
            drop(log);
            let _ = fs::remove_file(path);
            Err(e)
        }
    }
}

/// [`build`] at a temporary path in `dir`, growing the plan and starting again while `fill`
/// reports [`Error::Full`]. Returns the log and its temporary path.
pub(crate) fn build_growing(
    dir: &Path,
    need: u64,
    largest: u64,
    min_segment: u64,
    options: &LogDirOptions,
    fill: &mut dyn FnMut(&mut StreamLog) -> Result<(), FileError>,
) -> Result<(StreamLog, PathBuf), FileError> {
    let mut need = need;
    loop {
        let p = plan(need, largest, min_segment, options).map_err(|e| FileError::at(e, dir))?;
        let tmp = temp_path(dir);
        match build(&tmp, p, options.durability, fill) {
            Ok(log) => return Ok((log, tmp)),
            Err(e) if e.kind() == Error::Full => need = p.capacity,
            Err(e) => return Err(e),
        }
    }
}

/// Moves a built file (or directory) into place and makes the rename durable.
pub(crate) fn publish(from: &Path, to: &Path) -> Result<(), FileError> {
    fs::rename(from, to).map_err(|e| FileError::io(e, to))?;
    let parent = to.parent().unwrap_or(Path::new("."));
    sync_dir(parent).map_err(|e| FileError::io(e, parent))
}

/// Frame bytes and largest entry of `entries`.
pub(crate) fn measure(entries: &[&[u8]]) -> (u64, u64) {
    entries.iter().fold((0, 0), |(need, largest), e| {
        (need + frame_bytes(e.len()), largest.max(e.len() as u64))
    })
}

/// Appends every entry (one frame each).
pub(crate) fn append_all(log: &mut StreamLog, entries: &[&[u8]]) -> Result<(), FileError> {
    for e in entries {
        log.append(e)?;
    }
    Ok(())
}

/// Copies entries `0..keep` of `from` into `to`.
pub(crate) fn copy_entries(
    from: &mut StreamLog,
    to: &mut StreamLog,
    keep: u64,
) -> Result<(), FileError> {
    let path = from.path().to_path_buf();
    let mut buf: Vec<u8> = std::vec![0u8; 4096];
    let mut it = from
        .log_mut()
        .iter(0)
        .map_err(|e| FileError::at(e, &path))?;
    loop {
        match it.next_into(&mut buf) {
            Ok(Some((off, len))) if off < keep => {
                to.append(&buf[..len])?;
            }
            Ok(_) => return Ok(()),
            Err(Error::BufferTooSmall { needed }) => buf.resize(needed as usize, 0),
            Err(e) => return Err(FileError::at(e, &path)),
        }
    }
}
