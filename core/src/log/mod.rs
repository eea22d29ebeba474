//! [`Log`]: the segmented log — appends, rotation, the full policy and stats.
//!
//! The log is a ring of segments. The *chain* is the list of live segments from the oldest
//! (`head`) to the active one (`tail`); each segment header links to its predecessor, so a
//! truncation can drop the segments in between by opening a new segment that links past them
//! (see [`truncate_back`](Log::truncate_back)). Appends only ever program the active segment,
//! from RAM state: no storage reads on the append path after mount.
//!
//! Reading lives in `read.rs`, mounting in `recovery.rs`, consumer cursors in `consumer.rs`,
//! trimming and truncation in `trim.rs`.

pub(crate) mod chain;
pub(crate) mod consumer;
pub(crate) mod cursor;
mod extend;
pub(crate) mod read;
pub(crate) mod recovery;
mod trim;

use crate::config::{Config, FullPolicy};
use crate::control::State;
use crate::epoch::Epoch;
use crate::error::{ConfigError, Error, Fallible, Fault, Result};
use crate::format::frame::{self, FrameKind, FRAME_HEADER_LEN};
use crate::format::header::{self, FixedHeader, FIXED_HEADER_LEN, NO_PREV_INDEX, NO_PREV_SEQ};
use crate::format::index::{self, Slot};
use crate::format::layout::Layout;
use crate::format::state::MAX_CONSUMERS_ON_MEDIA;
use crate::format::{ends_within, is_erased, FORMAT_VERSION};
use crate::log::chain::SegmentRef;
use crate::policy::{self, FromConfig, Policy};
use crate::segment::MAX_STATE_LEN;
use crate::storage::{validate_geometry, Storage, MAX_WRITE_SIZE};
use crate::window::WINDOW_LEN as CHUNK_LEN;
use crate::word::U64;
use crate::writer::UnitWriter;

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
    /// capped at the next offset.
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

    /// Writes one frame into the active segment, rotating first when it does not fit (or the
    /// active segment may hold torn bytes), then adds an index slot when one is due.
    ///
    /// `body` streams the frame's body. It is a trait object, not a generic: one copy of this
    /// function serves records, batches and state frames (a generic made one per caller,
    /// ~300 B each on thumbv7em).
    pub(crate) fn write_frame(
        &mut self,
        kind: FrameKind,
        body_len: usize,
        count: u32,
        body: &mut dyn FnMut(&mut UnitWriter<'_, S>) -> Fallible<()>,
    ) -> Fallible<()> {
        let size = self.layout.frame_size(body_len) as u32;
        // Data frames keep out of the reserve; a state frame was placed by `write_state`.
        let data = kind != FrameKind::State;
        let limit = self.layout.index_start();
        let reserve = data as u32 * self.reserve();
        if !self.room_at_tail(size + reserve)? {
            if reserve > 0
                && !ends_within(self.fresh_data_start(), size + reserve, limit)
                && self.holds_live_records()?
            {
                // Not even a fresh segment could hold this record and the reserve, and with
                // live records it would stay without a free segment: the record must wait.
                return Err(Fault::Full);
            }
            self.rotate(Purpose::Data)?;
            if !ends_within(self.pos, size, limit) {
                // Never write past the data area. Unreachable: records are checked against
                // `max_record_size`, which a sane layout keeps within `Layout::max_body`, and
                // the largest state frame fits too (`plan`).
                return Err(Fault::GeometryMismatch);
            }
        }
        let frame_pos = self.pos;
        let addr = self.layout.segment_addr(self.tail) + frame_pos;
        let ws = self.layout.write_size as usize;
        let result = (|| {
            let mut w = UnitWriter::new(&mut self.storage, addr, ws);
            w.put(&frame::encode_header(kind, body_len))?;
            body(&mut w)?;
            w.finish()?;
            Ok(())
        })();
        if let Err(e) = result {
            self.poisoned = true;
            self.tail_clean = false;
            return Err(e);
        }
        let prev_state_pos = self.state_pos;
        self.pos += size;
        let first_of_frame = self.next.get();
        self.next = U64::new(first_of_frame + count as u64);
        if kind == FrameKind::State {
            self.state_pos = frame_pos;
        }
        // No slot for a frame whose position ends in byte 0xFF (possible only with 1-byte write
        // units): the slot's first unit would be 0xFF, so a program torn right after it would
        // leave a programmed unit that reads erased, which recovery takes for an unused slot and
        // programs again. The next due frame is indexed instead.
        if frame_pos - self.last_indexed >= self.layout.index_interval
            && self.slots_used < self.layout.max_slots()
            && !self.slots_stopped
            && frame_pos & 0xFF != 0xFF
        {
            self.write_slot(
                Slot {
                    pos: frame_pos,
                    delta: (first_of_frame - self.tail_base.get()) as u32,
                    state_pos: prev_state_pos,
                },
                Derived::Yes,
            )?;
        }
        Ok(())
    }

    /// Programs the next index slot of the active segment: as derived data, which the storage
    /// may hold back (`Storage::program_index`), or — a reserve place's slot, the only one that
    /// is not derived data (FORMAT.md §6) — like a frame, after a fence. Returns `false`, and
    /// stops giving this segment slots, when the slot's place does not read erased (damage, or
    /// bytes of a foreign image, in a segment this log did not open): programming over it would
    /// break the write-once rule.
    fn write_slot(&mut self, slot: Slot, derived: Derived) -> Fallible<bool> {
        let slot_addr = self.layout.segment_addr(self.tail) + self.layout.slot_pos(self.slots_used);
        let len = self.layout.slot_size() as usize;
        let mut unit = [0u8; MAX_WRITE_SIZE];
        if !self.slots_erased {
            self.storage.read(slot_addr, &mut unit[..len])?;
            if !is_erased(&unit[..len]) {
                self.slots_stopped = true;
                return Ok(false);
            }
        }
        // One write unit or more: the 16 slot bytes, padded with 0xFF (zeroed first and
        // padded after: that links less of the runtime than a 0xFF-filled array).
        let encoded = index::encode(&slot);
        unit[..encoded.len()].copy_from_slice(&encoded);
        unit[encoded.len()..len].fill(0xFF);
        let unit = &unit[..len];
        let r = match derived {
            Derived::Yes => self.storage.program_index(slot_addr, unit),
            // It leads mount past the frames before it: those first (`Storage::fence`).
            Derived::No => self
                .storage
                .fence()
                .and_then(|()| self.storage.program(slot_addr, unit)),
        };
        self.slots_used += 1;
        self.last_indexed = slot.pos;
        if let Err(e) = r {
            self.poisoned = true;
            return Err(e.into());
        }
        Ok(true)
    }

    /// Makes `new` the durable control state: as a state frame in the active segment, or, when
    /// that has no room (or may hold torn bytes), as the checkpoint of a freshly opened segment.
    ///
    /// Every decision to reclaim space is taken under the state already on the medium, never
    /// under `new`: a segment is only erased once the state that makes it dead is durable.
    /// With no free segment (see [`reserve`](Self::reserve)) a state that frees the head goes
    /// into the active segment's reserve, and the head is reclaimed once it is durable.
    pub(crate) fn write_state(&mut self, new: &State<C>) -> Fallible<()> {
        let len = new.encoded_len();
        debug_assert!(len <= MAX_STATE_LEN);
        let size = self.layout.frame_size(len) as u32;
        let reserve = self.reserve();
        let frees = reserve > 0 && {
            let (_, end, first) = self.after_head()?;
            self.frees_head(new, end, first)
        };
        let fits = self.room_at_tail(size + reserve)?;
        let placed = fits || (frees && self.resume_in_reserve(size)?);
        if !placed {
            return self.rotate(Purpose::Control(Some(new)));
        }
        self.write_frame(FrameKind::State, len, 0, &mut |w| new.write_to(w))?;
        self.state = *new;
        if frees {
            // The spare back: with it the reserve is no longer needed.
            self.reclaim_head_if_allowed()?;
        }
        Ok(())
    }

    /// With no free segment, moves the write position of the active segment into its reserve,
    /// for a state frame of `size` bytes that frees the head, when the frames before it leave no
    /// room or one of them is torn. Returns whether it did.
    ///
    /// The reserve is [`RESERVE_STATE_FRAMES`] places, each for the largest state frame. While
    /// no segment is free every frame written at the write position ends before the reserve
    /// (`write_frame`, `write_state`), and free segments only appear, never vanish, while a
    /// segment is active: so the reserve of an active segment without a free segment was never
    /// programmed — even when a power cut tore the frame before it — except by such state frames,
    /// each at the start of its place. An index slot pointing at the place is written *first*:
    /// from then on mount resumes there (finding the frame, its torn remains or erased bytes),
    /// never before it, so nothing is programmed twice. A place whose frame was torn is passed
    /// over for the next one.
    fn resume_in_reserve(&mut self, size: u32) -> Fallible<bool> {
        let place = self.largest_state_frame();
        let mut start = self.layout.index_start() - self.reserve();
        for _ in 0..RESERVE_STATE_FRAMES {
            let mut at = start;
            if at & 0xFF == 0xFF {
                // See the slot rule in `write_frame` (1-byte write units only).
                at += 1;
            }
            start += place;
            if self.pos > at || (self.pos == at && !self.tail_clean) {
                continue; // used, or torn
            }
            if !ends_within(at, size, start) {
                break;
            }
            if self.pos < at {
                if self.slots_used >= self.layout.max_slots() || self.slots_stopped {
                    break;
                }
                // The place must read erased like any write position (`room_at_tail`): only an
                // image written without the reserve, or damaged, holds anything there.
                let (pos, clean) = (self.pos, self.tail_clean);
                (self.pos, self.tail_clean) = (at, true);
                if !self.room_at_tail(size)? {
                    (self.pos, self.tail_clean) = (pos, clean);
                    break;
                }
                // Only this slot leads mount past a torn frame to the state frame: it must not
                // be held back like derived data.
                let written = self.write_slot(
                    Slot {
                        pos: at,
                        delta: (self.next.get() - self.tail_base.get()) as u32,
                        state_pos: self.state_pos,
                    },
                    Derived::No,
                )?;
                if !written {
                    (self.pos, self.tail_clean) = (pos, clean);
                    break;
                }
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Opens the next segment in the ring as the active one, continuing at `self.next`. A
    /// control write's pending state becomes the new segment's checkpoint, and the log's state
    /// once the header is written.
    pub(crate) fn rotate(&mut self, purpose: Purpose<'_, C>) -> Fallible<()> {
        let target = self.layout.ring_next(self.tail);
        let reclaimed = self.make_room(target, None, purpose)?;
        let checkpoint = match purpose {
            Purpose::Control(pending) => pending,
            Purpose::Data => None,
        };
        let (seq, base) = (self.tail_seq.get() + 1, self.next.get());
        self.open_segment(
            target,
            seq,
            base,
            Some((self.tail, self.tail_seq.get())),
            reclaimed,
            checkpoint,
        )?;
        if let Some(new) = checkpoint {
            self.state = *new;
        }
        if self.policy() == FullPolicy::Reject && self.free_segments() == 0 {
            // The spare was taken (by a control write, or by an append when the old segment
            // holds nothing live): win it back if the now-durable state frees the head.
            self.reclaim_head_if_allowed()?;
        }
        Ok(())
    }

    /// Whether `size` bytes fit at the write position of the active segment: it is clean, the
    /// bytes end before the index area, and they and the frame header after them read erased.
    /// After a mount nothing past the frames was known to be erased: that is checked here, one
    /// chunk at a time as appends reach it, so the next frame never programs over, nor a later
    /// mount walks on into, bytes this log did not put there (damage, a foreign image). A segment
    /// this log opened is erased whole.
    fn room_at_tail(&mut self, size: u32) -> Fallible<bool> {
        let limit = self.layout.index_start();
        if !self.tail_clean || !ends_within(self.pos, size, limit) {
            return Ok(false);
        }
        let need = (self.pos + size)
            .saturating_add(FRAME_HEADER_LEN as u32)
            .min(limit);
        if need > self.checked_to {
            let to = self
                .checked_to
                .saturating_add(CHUNK_LEN as u32)
                .max(need)
                .min(limit);
            if !self.reads_erased(self.checked_to.max(self.pos), to)? {
                // Not ours: the segment is done (the next write opens a fresh one).
                self.tail_clean = false;
                return Ok(false);
            }
            self.checked_to = to;
        }
        Ok(true)
    }

    /// Whether bytes `from..to` of the active segment read erased.
    fn reads_erased(&mut self, from: u32, to: u32) -> Fallible<bool> {
        let base = self.layout.segment_addr(self.tail);
        let mut chunk = [0u8; CHUNK_LEN];
        let mut at = from;
        while at < to {
            let n = ((to - at) as usize).min(CHUNK_LEN);
            self.storage.read(base + at, &mut chunk[..n])?;
            if !is_erased(&chunk[..n]) {
                return Ok(false);
            }
            at += n as u32;
        }
        Ok(true)
    }

    /// Bytes at the end of the active segment's data area that only a state frame freeing the
    /// head may use: under [`FullPolicy::Reject`] with no free segment (a truncation took the
    /// spare), [`RESERVE_STATE_FRAMES`] places for the largest state frame, so that such a state
    /// is made durable in the active segment before the head is erased (there is no free
    /// segment to carry it; see [`resume_in_reserve`](Self::resume_in_reserve)). Else 0.
    pub(crate) fn reserve(&self) -> u32 {
        if self.policy() == FullPolicy::Reject && self.free_segments() == 0 {
            RESERVE_STATE_FRAMES * self.largest_state_frame()
        } else {
            0
        }
    }

    /// Bytes the largest state frame of this layout occupies.
    fn largest_state_frame(&self) -> u32 {
        self.layout.frame_size(self.layout.max_state_len()) as u32
    }

    /// Where the data of a segment opened now would start (its checkpoint: the current state).
    fn fresh_data_start(&self) -> u32 {
        self.layout
            .data_start(FIXED_HEADER_LEN + self.state.encoded_len() + 4)
    }

    /// Whether any record is live under the durable state: not trimmed, and not committed past
    /// by every consumer.
    fn holds_live_records(&mut self) -> Fallible<bool> {
        let next = self.next.get();
        Ok(self.first_readable() < next && self.state.min_cursor().is_none_or(|m| m < next))
    }

    /// Free segments: those after the active one and before the head, in ring order.
    pub(crate) fn free_segments(&self) -> u32 {
        self.layout
            .ring_dist(self.layout.ring_next(self.tail), self.head)
    }

    /// Before opening `target` (the segment after the active one): if it is the oldest live
    /// segment, reclaim it (if the policy allows) and move the head forward. `keep` is a segment
    /// that must not be reclaimed. Returns `true` when `target` was such a live segment (it must
    /// be erased before use whatever is known about the free segments).
    ///
    /// Under [`FullPolicy::Reject`] the last free segment is a spare, kept so that a state
    /// change that frees the head can always be made durable *before* the head is erased: the
    /// state goes into the spare's header, then `rotate` reclaims the head, the next spare. An
    /// append, or a state change that frees nothing, may take the spare only when the durable
    /// state frees the head (or the active segment, when it is the head); else the log is full.
    /// A truncation may take it: afterwards the active segment keeps a reserve instead (see
    /// [`reserve`](Self::reserve)).
    pub(crate) fn make_room(
        &mut self,
        target: u32,
        keep: Option<u32>,
        purpose: Purpose<'_, C>,
    ) -> Fallible<bool> {
        if target != self.head {
            let last_free = self.layout.ring_next(target) == self.head;
            if self.policy() == FullPolicy::Reject && last_free {
                let allowed = match purpose {
                    // A truncation (its header is its commit point). Afterwards no segment may
                    // be free: then the active segment keeps room for a state frame that frees
                    // the head (see `reserve`).
                    Purpose::Control(None) => true,
                    _ => {
                        let (_, end, first) = self.after_head()?;
                        self.frees_head(self.judged(purpose), end, first)
                    }
                };
                if !allowed {
                    return Err(Fault::Full);
                }
            }
            return Ok(false);
        }
        if Some(target) == keep || self.head == self.tail {
            return Err(Fault::Full);
        }
        let SegmentRef {
            index: new_head,
            base: new_head_base,
            ..
        } = self.next_member(self.head)?;
        let first = self.first_readable();
        let dead = new_head_base <= first;
        // No free segment (a truncation took the spare, or a power cut came between taking it
        // and winning it back): reclaim under the durable state. Under the pending state of a
        // control write only as the last resort — no room for its state frame in the active
        // segment, reserve included (both places torn, or an image written without one) —
        // rather than leaving the log stuck; a cut before the new header then leaves that
        // change partly applied (FORMAT.md §8).
        let allowed = dead
            || match self.policy() {
                FullPolicy::OverwriteOldest => true,
                FullPolicy::Reject => self.frees_head(self.judged(purpose), new_head_base, first),
            };
        if !allowed {
            return Err(Fault::Full);
        }
        self.advance_head(new_head);
        if !dead {
            self.set_first_from_head(new_head_base);
        }
        Ok(true)
    }

    /// Whether state `s` lets the head go, the next member starting at `next_base`: every
    /// record in it is below the first offset or the trim point, or every consumer has
    /// committed past it.
    fn frees_head(&self, s: &State<C>, next_base: u64, first: u64) -> bool {
        next_base <= s.trim().max(first) || s.min_cursor().is_some_and(|m| m >= next_base)
    }

    /// The state a reclaim for `purpose` is judged by: a state change's own (a consumer created
    /// at an old offset keeps the records it needs even if every existing consumer is past
    /// them), else the durable one.
    fn judged<'a>(&'a self, purpose: Purpose<'a, C>) -> &'a State<C> {
        match purpose {
            Purpose::Control(Some(pending)) => pending,
            _ => &self.state,
        }
    }

    /// The chain member after the head (`None` when the head is the active segment, which is
    /// never reclaimed), where the head's records end (that member's base; the next offset when
    /// the head is the active segment) and the first offset.
    fn after_head(&mut self) -> Fallible<(Option<u32>, u64, u64)> {
        let (next, end) = if self.head == self.tail {
            (None, self.next.get())
        } else {
            let m = self.next_member(self.head)?;
            (Some(m.index), m.base)
        };
        Ok((next, end, self.first_readable()))
    }

    /// Under the durable state, erases the head segment if all its records are trimmed or every
    /// consumer has committed past them (never the active segment). Returns whether it did.
    pub(crate) fn reclaim_head_if_allowed(&mut self) -> Fallible<bool> {
        let (Some(new_head), new_head_base, first) = self.after_head()? else {
            return Ok(false);
        };
        if !self.frees_head(&self.state, new_head_base, first) {
            return Ok(false);
        }
        let a = self.layout.segment_addr(self.head);
        if let Err(e) = self.storage.erase(a, a + self.layout.segment_size) {
            self.poisoned = true;
            return Err(e.into());
        }
        self.advance_head(new_head);
        self.set_first_from_head(new_head_base.max(first));
        Ok(true)
    }

    /// Erases segment `target` (a reclaimed live segment always; a free one unless it is known
    /// clean) and writes its header, with `checkpoint` (`None`: the current state) as its
    /// checkpoint; it becomes the active segment with base offset `base`. The caller makes a
    /// new checkpoint the log's state once this succeeds.
    pub(crate) fn open_segment(
        &mut self,
        target: u32,
        seq: u64,
        base: u64,
        prev: Option<(u32, u64)>,
        reclaimed: bool,
        checkpoint: Option<&State<C>>,
    ) -> Fallible<()> {
        // `target` is either a reclaimed live segment or the first free one.
        let erase = reclaimed || self.free_dirty > 0;
        if !reclaimed {
            self.free_dirty = self.free_dirty.saturating_sub(1);
        }
        let result = self.write_segment_header(target, seq, base, prev, erase, checkpoint);
        if let Err(e) = result {
            self.poisoned = true;
            self.tail_clean = false;
            return Err(e);
        }
        let header_len = result?;
        self.tail = target;
        self.tail_seq = U64::new(seq);
        self.tail_base = U64::new(base);
        self.next = U64::new(base);
        self.data_start = self.layout.data_start(header_len);
        self.pos = self.data_start;
        self.slots_used = 0;
        self.slots_erased = true;
        self.slots_stopped = false;
        self.last_indexed = self.pos;
        self.state_pos = 0;
        self.tail_clean = true;
        self.checked_to = self.layout.index_start();
        Ok(())
    }

    fn write_segment_header(
        &mut self,
        target: u32,
        seq: u64,
        base: u64,
        prev: Option<(u32, u64)>,
        erase: bool,
        checkpoint: Option<&State<C>>,
    ) -> Fallible<usize> {
        let addr = self.layout.segment_addr(target);
        if erase {
            self.storage.erase(addr, addr + self.layout.segment_size)?;
        }
        // The header vouches for the frames before it (the predecessor's end is this base
        // offset): a reordering storage makes them durable first (`Storage::fence`).
        self.storage.fence()?;
        let state = checkpoint.unwrap_or(&self.state);
        let header_len = FIXED_HEADER_LEN + state.encoded_len() + 4;
        let (prev_index, prev_seq) = prev.unwrap_or((NO_PREV_INDEX, NO_PREV_SEQ));
        let fixed = FixedHeader {
            version: FORMAT_VERSION,
            header_len: header_len as u16,
            seq,
            base_offset: base,
            prev_seq,
            prev_index,
            layout: self.layout,
        };
        let mut b = [0u8; FIXED_HEADER_LEN];
        header::encode_fixed(&fixed, &mut b);
        let ws = self.layout.write_size as usize;
        let mut w = UnitWriter::new(&mut self.storage, addr, ws);
        w.put_raw(&b)?;
        state.write_to(&mut w)?;
        w.finish()?;
        Ok(header_len)
    }
}

/// Places for a state frame in the reserve of an active segment without a free segment (see
/// `Log::resume_in_reserve`): a state that frees the head is made durable in the first one
/// whose frame was not torn by a power cut. Only when earlier cuts tore both does it come to
/// the last resort, reclaiming the head under a state not yet durable (FORMAT.md §8; the power
/// cut sweep has not met it, the `ops_powercut` fuzzer has). More places would make that rarer
/// still but take their room from the appends whenever no segment is free.
const RESERVE_STATE_FRAMES: u32 = 2;

/// Whether an index slot is derived data (see `Log::write_slot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Derived {
    /// A slot a reader can do without: a storage may hold it back.
    Yes,
    /// A reserve place's slot: mount needs it to find the state frame after a torn frame.
    No,
}

/// Why a new segment is needed: under [`FullPolicy::Reject`] a truncation and a state change
/// that frees the head may open the spare segment, an append only when the durable state frees
/// the head (see `Log::make_room`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose<'a, const C: usize> {
    /// An append or batch.
    Data,
    /// A state change (commit, rewind, trim: with the state about to be written) or a
    /// truncation.
    Control(Option<&'a State<C>>),
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
