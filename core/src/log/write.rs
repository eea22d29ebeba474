//! The write path of the [`Log`]: frames, index slots and state frames into the active
//! segment, and opening the next segment (rotation) with its header.
//!
//! Every program the log makes goes through here: one frame writer for records, batches and
//! state frames (`write_frame`), the index slot it may add, the free-area check before a write
//! lands where mount did not see erased bytes (`room_at_tail`), and a new segment's header
//! (`open_segment`). Which segment may be reclaimed to make room is decided in `space.rs`.

use crate::config::FullPolicy;
use crate::control::State;
use crate::error::{Fallible, Fault};
use crate::format::frame::{self, FrameKind, FRAME_HEADER_LEN};
use crate::format::header::{self, FixedHeader, FIXED_HEADER_LEN, NO_PREV_INDEX, NO_PREV_SEQ};
use crate::format::index::{self, Slot};
use crate::format::{ends_within, is_erased, FORMAT_VERSION};
use crate::log::{Log, Purpose};
use crate::policy::Policy;
use crate::segment::MAX_STATE_LEN;
use crate::storage::{Storage, MAX_WRITE_SIZE};
use crate::window::WINDOW_LEN as CHUNK_LEN;
use crate::word::U64;
use crate::writer::UnitWriter;

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
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
    pub(super) fn write_slot(&mut self, slot: Slot, derived: Derived) -> Fallible<bool> {
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
    pub(super) fn room_at_tail(&mut self, size: u32) -> Fallible<bool> {
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
    pub(super) fn reads_erased(&mut self, from: u32, to: u32) -> Fallible<bool> {
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

    /// Where the data of a segment opened now would start (its checkpoint: the current state).
    pub(super) fn fresh_data_start(&self) -> u32 {
        self.layout
            .data_start(FIXED_HEADER_LEN + self.state.encoded_len() + 4)
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

    pub(super) fn write_segment_header(
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

/// Whether an index slot is derived data (see `Log::write_slot`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Derived {
    /// A slot a reader can do without: a storage may hold it back.
    Yes,
    /// A reserve place's slot: mount needs it to find the state frame after a torn frame.
    No,
}
