//! [`Log`]: the segmented log's public API — format, append, sync, stats, accessors.
//!
//! The log is a ring of segments. The *chain* is the list of live segments from the oldest
//! (`head`) to the active one (`tail`); each segment header links to its predecessor, so a
//! truncation can drop the segments in between by opening a new segment that links past them
//! (see [`truncate_back`](Log::truncate_back)). Appends only ever program the active segment,
//! from RAM state: no storage reads on the append path after mount.
//!
//! The write path (frames, index slots, state frames, opening a segment) lives in `write.rs`,
//! free space and reclaiming the head under the full policy in `space.rs`, reading in
//! `read.rs`, mounting in `recovery.rs`, consumer cursors in `consumer.rs`, trimming and
//! truncation in `trim.rs`.

pub(crate) mod chain;
pub(crate) mod consumer;
pub(crate) mod cursor;
mod extend;
pub(crate) mod read;
pub(crate) mod recovery;
mod space;
mod trim;
mod write;

pub(crate) use space::Purpose;

use crate::config::{Config, FullPolicy};
use crate::control::State;
use crate::epoch::Epoch;
use crate::error::{ConfigError, Error, Fallible, Fault, Result};
use crate::format::frame::{self, FrameKind};
use crate::format::header;
use crate::format::layout::Layout;
use crate::format::state::MAX_CONSUMERS_ON_MEDIA;
use crate::policy::{self, FromConfig, Policy};
use crate::storage::{validate_geometry, Storage};
use crate::word::U64;

/// A crash-safe append-only log over a [`Storage`].
///
/// `C` is the number of named consumer cursors the log can hold (at most 16); it fixes the
/// size of the log in RAM, which never changes after `format`/`mount` (invariant I7). `P`
/// says where the [`FullPolicy`] comes from: the `Config` (the default, [`FromConfig`]) or the
/// type itself, which lets firmware drop the other policy's code (see [`policy`]).
pub struct Log<S: Storage, const C: usize = 4, P: Policy = FromConfig> {
    storage: S,
    layout: Layout,
    /// The policy `Config` asked for; [`policy`](Self::policy) is the one in force.
    configured_policy: FullPolicy,
    _policy: core::marker::PhantomData<P>,
    /// Oldest chain member (segment index).
    head: u32,
    /// Active segment (segment index).
    tail: u32,
    tail_seq: U64,
    tail_base: U64,
    /// Where the next frame goes, relative to the active segment.
    pos: u32,
    /// Frames start here in the active segment.
    data_start: u32,
    /// Index slots used (valid or torn) in the active segment.
    slots_used: u32,
    /// The unused index slots of the active segment are known to read erased (it was opened by
    /// this log). After a mount each slot is checked before it is programmed.
    slots_erased: bool,
    /// A slot position that was not erased was met: the active segment takes no more slots.
    slots_stopped: bool,
    /// Position of the last indexed frame (or `data_start`).
    last_indexed: u32,
    /// Position of the newest state frame in the active segment, 0 = the header checkpoint.
    state_pos: u32,
    /// Next offset to assign.
    next: U64,
    /// False when the active segment may hold torn bytes after `pos`: the next frame goes
    /// to a fresh segment.
    tail_clean: bool,
    /// Position in the active segment up to which its data area is known to be erased or
    /// written by this log (the whole area once this log opened the segment; the end of the
    /// frames after a mount, see [`room_at_tail`](Self::room_at_tail)).
    checked_to: u32,
    /// First readable offset: `max(trim point, base of the head)`, capped at `next`; kept up
    /// to date by every operation that moves the head or the trim point.
    first: U64,
    /// `Some(m)`: the chain may have erased holes (left by a truncation) between the head and
    /// member `m`. `None`: the members from head to tail are consecutive in the ring, so the
    /// member after the head is the next segment and rotation needs no storage read.
    gap_end: Option<u32>,
    /// Segments at the start of the free region (`tail + 1` onwards) that may hold old bytes
    /// and must be erased before use. Segments erased since mount (by `format`, a trim, a
    /// truncation) and not programmed since are known clean and are not erased twice.
    free_dirty: u32,
    /// The durable control state: what the newest state frame or checkpoint on the medium says.
    state: State<C>,
    /// Where the last [`read`](Self::read) ended (see [`ReadHint`](crate::log::read::ReadHint)).
    hint: Option<crate::log::read::ReadHint>,
    /// Stamp of the read positions taken from this log: renewed whenever a segment may leave
    /// the chain or offsets are reused (see [`Epoch`]).
    epoch: Epoch,
    /// A write failed part-way: refuse writes until remounted.
    poisoned: bool,
    /// What mount found (see [`Log::recovery`]).
    report: crate::log::recovery::RecoveryReport,
}

/// A snapshot of the log's size and position, from [`Log::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// First readable offset.
    pub first_offset: u64,
    /// Offset the next appended record gets.
    pub next_offset: u64,
    /// Bytes held by segments in use (live segments, the active one up to its write position).
    pub bytes_used: u64,
    /// Bytes that can be written before a segment must be reclaimed.
    pub bytes_free: u64,
    /// Segments in use (from the oldest live one to the active one).
    pub segments_used: u32,
    /// Segments on the medium.
    pub segments_total: u32,
    /// Segment size in bytes.
    pub segment_size: u32,
    /// Largest record accepted, in bytes.
    pub max_record_size: u32,
}

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    const CONSUMERS_OK: () = assert!(C <= MAX_CONSUMERS_ON_MEDIA, "at most 16 consumers");

    /// Erases the storage and creates an empty log on it, laid out by `config` and the
    /// storage's geometry.
    ///
    /// Errors: [`Error::InvalidConfig`] when the geometry or configuration cannot hold a log
    /// (fewer than two segments, a segment too small for its header, index and one frame, a
    /// `max_record_size` that does not fit, …), or a storage error.
    pub fn format(mut storage: S, config: Config) -> Result<Self> {
        #[allow(clippy::let_unit_value)]
        let () = Self::CONSUMERS_OK;
        let layout = Self::plan(&storage, &config)?;
        // Erase everything, unused tail sectors included, so no header of an earlier image
        // survives anywhere (`plan` checked the capacity: its end fits in 32 bits).
        storage.erase(0, storage.capacity() as u32)?;
        let mut log = Log::empty(storage, layout, config.full_policy);
        log.free_dirty = 0;
        log.open_segment(0, 1, 0, None, false, None)?; // just erased: no second erase
        log.storage.sync()?;
        Ok(log)
    }

    /// Computes and validates the layout `format` would write.
    fn plan(storage: &S, config: &Config) -> Result<Layout> {
        let (ws, es, cap) = (
            storage.write_size(),
            storage.erase_size(),
            storage.capacity(),
        );
        validate_geometry(storage.read_size(), ws, es, cap)?;
        if config.segment_sectors == 0 {
            return Err(ConfigError::SegmentSectors.into());
        }
        let seg = (es as u64) * config.segment_sectors as u64;
        if seg > u32::MAX as u64 {
            return Err(ConfigError::SegmentTooLarge.into());
        }
        // In usize, not u64: `seg` fits (checked above), and 32-bit targets then divide in
        // hardware instead of linking a ~1 KiB 64-bit division routine.
        let count = (cap / seg as usize) as u64;
        if count < 2 {
            return Err(ConfigError::TooFewSegments.into());
        }
        if (config.index_interval as usize) < ws {
            return Err(ConfigError::IndexInterval.into());
        }
        let mut layout = Layout {
            write_size: ws as u32,
            erase_size: es as u32,
            segment_size: seg as u32,
            segment_count: count as u32,
            index_interval: config.index_interval,
            max_record_size: 0,
            max_consumers: C as u8,
        };
        // Every other rule of a sane layout is checked above; the index area (one slot per
        // `index_interval` bytes) must be smaller than the segment before `index_start` can be
        // computed (a tiny interval made it underflow: a panic, or a bogus layout in release).
        if !header::layout_is_sane(&layout) {
            return Err(ConfigError::IndexArea.into());
        }
        // The largest header this log can write: C cursors with maximal names.
        let max_state = layout.max_state_len();
        let max_body = layout.max_body() as u64;
        if max_body < max_state as u64 || max_body == 0 {
            return Err(ConfigError::SegmentTooSmall.into());
        }
        layout.max_record_size = match config.max_record_size {
            0 => max_body as u32,
            m if m as u64 <= max_body => m,
            _ => return Err(ConfigError::MaxRecordSize.into()),
        };
        debug_assert!(header::layout_is_sane(&layout));
        Ok(layout)
    }

    /// A log object with no segment opened yet.
    pub(crate) fn empty(storage: S, layout: Layout, policy: FullPolicy) -> Self {
        Log {
            storage,
            layout,
            configured_policy: policy,
            _policy: core::marker::PhantomData,
            head: 0,
            tail: 0,
            tail_seq: U64::new(0),
            tail_base: U64::new(0),
            pos: 0,
            data_start: 0,
            slots_used: 0,
            slots_erased: false,
            slots_stopped: false,
            last_indexed: 0,
            state_pos: 0,
            next: U64::new(0),
            tail_clean: false,
            checked_to: 0,
            first: U64::new(0),
            gap_end: None,
            free_dirty: 0,
            state: State::default(),
            hint: None,
            epoch: Epoch::fresh(),
            poisoned: false,
            report: crate::log::recovery::RecoveryReport::default(),
        }
    }

    /// Forgets every read position taken from the log so far (its own hint, and through the
    /// epoch those of every [`ReadCursor`](crate::ReadCursor)): a segment may leave the chain,
    /// or offsets be given to other records.
    pub(crate) fn invalidate_reads(&mut self) {
        self.hint = None;
        self.epoch = Epoch::fresh();
    }

    /// Appends one record and returns its offset.
    ///
    /// The record is on the medium when this returns; on storages with a write cache it is
    /// durable after the next [`sync`](Self::sync). Errors: [`Error::TooLarge`],
    /// [`Error::Full`] (policy `Reject`), storage errors (after which the log needs a remount:
    /// [`Error::NeedsRemount`]).
    pub fn append(&mut self, record: &[u8]) -> Result<u64> {
        self.check_writable()?;
        self.check_record(record.len())?;
        let offset = self.next.get();
        self.write_frame(FrameKind::Record, record.len(), 1, &mut |w| {
            w.put(record)?;
            Ok(())
        })?;
        Ok(offset)
    }

    /// Appends several records atomically (one frame, one checksum: after a crash either all
    /// are present or none) and returns the offset of the first.
    ///
    /// Errors: [`Error::InvalidArgument`] for an empty batch, [`Error::TooLarge`] when a record
    /// or the whole batch exceeds the maximum record size, plus those of
    /// [`append`](Self::append).
    pub fn append_batch(&mut self, records: &[&[u8]]) -> Result<u64> {
        self.check_writable()?;
        match records {
            [] => return Err(Error::InvalidArgument("empty batch")),
            [one] => return self.append(one),
            _ => {}
        }
        for r in records {
            self.check_record(r.len())?;
        }
        let body = frame::batch_body_len(records.len(), records.iter().map(|r| r.len()))
            .filter(|&b| b <= self.layout.max_record_size as usize)
            .ok_or(Error::TooLarge {
                len: records
                    .iter()
                    .map(|r| r.len() as u64)
                    .sum::<u64>()
                    .min(u32::MAX as u64) as u32,
                max: self.layout.max_record_size,
            })?;
        let offset = self.next.get();
        self.write_frame(FrameKind::Batch, body, records.len() as u32, &mut |w| {
            w.put_varint(records.len() as u32)?;
            for r in records {
                w.put_varint(r.len() as u32)?;
                w.put(r)?;
            }
            Ok(())
        })?;
        Ok(offset)
    }

    /// Durability barrier: everything appended before it survives power loss once it returns.
    /// A no-op on raw flash; `fsync` on files.
    pub fn sync(&mut self) -> Result<()> {
        self.storage.sync().map_err(|e| {
            self.poisoned = true;
            Error::from(e)
        })
    }

    /// Size and position of the log. Reads nothing.
    pub fn stats(&self) -> Stats {
        let n = self.layout.segment_count;
        let used = self.layout.ring_dist(self.head, self.tail) + 1;
        let seg = self.layout.segment_size as u64;
        let tail_used = self.pos as u64 + self.slots_used as u64 * self.layout.slot_size() as u64;
        let bytes_used = (used as u64 - 1) * seg + tail_used;
        Stats {
            first_offset: self.first_readable(),
            next_offset: self.next.get(),
            bytes_used,
            bytes_free: self.bytes_free(),
            segments_used: used,
            segments_total: n,
            segment_size: self.layout.segment_size,
            max_record_size: self.layout.max_record_size,
        }
    }

    /// Frame bytes the log can take before a segment must be reclaimed: what is left of the
    /// active segment's data area (none when it may hold torn bytes: the next frame opens a
    /// new segment) and the data areas of the free segments — under [`FullPolicy::Reject`]
    /// without the spare segment and the active segment's reserve, which appends never use.
    fn bytes_free(&self) -> u64 {
        let limit = self.layout.index_start();
        let active = if self.tail_clean {
            limit
                .saturating_sub(self.pos)
                .saturating_sub(self.reserve()) as u64
        } else {
            0
        };
        let free = self.free_segments();
        let fresh = match self.policy() {
            FullPolicy::Reject => free.saturating_sub(1),
            FullPolicy::OverwriteOldest => free,
        };
        let per_segment = limit.saturating_sub(self.fresh_data_start()) as u64;
        active + fresh as u64 * per_segment
    }

    /// First readable offset (records below it were trimmed or overwritten).
    pub fn first_offset(&self) -> u64 {
        self.first_readable()
    }

    /// [`first_offset`](Self::first_offset): kept up to date whenever the head or the trim
    /// point moves, so reading it reads nothing.
    #[inline]
    pub(crate) fn first_readable(&self) -> u64 {
        self.first.get()
    }

    /// Sets the first readable offset from the head's base: `max(trim point, head_base)`,
    /// capped at the next offset. Never inlined: its 64-bit compares, copied into each caller,
    /// cost more than the call (`bash footprint/measure.sh`).
    #[inline(never)]
    pub(crate) fn set_first_from_head(&mut self, head_base: u64) {
        self.first = U64::new(self.state.trim().max(head_base).min(self.next.get()));
    }

    /// Offset the next appended record gets.
    pub fn next_offset(&self) -> u64 {
        self.next.get()
    }

    /// The geometry of the image (from its headers).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The full policy in force.
    pub fn full_policy(&self) -> FullPolicy {
        self.policy()
    }

    /// The full policy in force: fixed by `P`, or the configured one. A constant when `P` fixes
    /// it, so the other policy's branches compile away.
    #[inline(always)]
    pub(crate) fn policy(&self) -> FullPolicy {
        policy::resolve::<P>(self.configured_policy)
    }

    /// The storage. Reading it is harmless.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The storage, mutably — for test harnesses (fault injection) and drivers that need
    /// servicing. Writing the log's bytes behind its back voids every guarantee.
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// Gives the storage back.
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// Refuses writes until the log is mounted again: what the log believes is on the medium
    /// may not be there (a storage layer under it lost bytes it had accepted).
    #[cfg(all(feature = "file", any(unix, windows)))]
    pub(crate) fn poison(&mut self) {
        self.poisoned = true;
    }

    pub(crate) fn check_writable(&self) -> Fallible<()> {
        if self.storage.is_read_only() {
            Err(Fault::Storage(crate::error::StorageError::ReadOnly))
        } else if self.poisoned {
            Err(Fault::NeedsRemount)
        } else {
            Ok(())
        }
    }

    fn check_record(&self, len: usize) -> Result<()> {
        if len > self.layout.max_record_size as usize {
            Err(Error::TooLarge {
                len: len.min(u32::MAX as usize) as u32,
                max: self.layout.max_record_size,
            })
        } else {
            Ok(())
        }
    }
}

impl<S: Storage + core::fmt::Debug, const C: usize, P: Policy> core::fmt::Debug for Log<S, C, P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Log")
            .field("layout", &self.layout)
            .field("head", &self.head)
            .field("tail", &self.tail)
            .field("next", &self.next.get())
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}
