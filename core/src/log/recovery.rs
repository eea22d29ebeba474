//! Mount: find the segments, validate them, locate the tail and resume safely.
//!
//! Reads, in order: fixed headers until the first valid one (which gives the geometry — an
//! image is self-describing), every segment's header (to find the active segment: the valid
//! one with the highest sequence number), the chain of predecessors back to the oldest live
//! segment, then in the active segment a binary search of the index slots and a scan of at
//! most one index interval of frames. Mount never reads the whole log. (That the rest of the
//! active segment's data area is erased is checked as appends reach it: see `Log::room_at_tail`.)
//!
//! Recovery writes nothing in the common case. A torn frame at the tail is not repaired in
//! place (its units may be partly programmed and the write-once rule forbids programming them
//! again): the log marks the active segment unclean and the next append opens a fresh segment.
//! The only write is erasing dead segments left between chain members by a truncation that
//! was cut short (erasing is idempotent, so a cut during it is harmless).

use crate::config::Config;
use crate::error::{Error, Fallible, Fault};
use crate::format::header::{HeaderError, FIXED_HEADER_LEN, NO_PREV_INDEX, NO_PREV_SEQ};
use crate::format::layout::Layout;
use crate::log::chain::SegmentRef;
use crate::log::read::ReadHint;
use crate::log::Log;
use crate::policy::Policy;
use crate::segment::{self, HeaderKind, Walk, WalkStop};
use crate::storage::{validate_geometry, Storage};
use crate::window::Window;
use crate::word::U64;

/// What mount found that is not a clean log, from [`Log::recovery`]: what it repaired (or, on
/// a read-only storage, would repair) and the damage it worked around. All zero / `false` for a
/// log that was closed cleanly.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct RecoveryReport {
    /// Segments with stale headers between chain members, left by a truncation cut short: a
    /// writable mount erased them, a read-only one ignores them (its overlay reads them
    /// erased; the image is not changed).
    pub stale_segments: u32,
    /// The active segment ends in a torn or damaged frame: its records before it are there,
    /// the next write opens a new segment (nothing is programmed behind torn bytes).
    pub torn_tail: bool,
    /// Chain members whose header is damaged (neither valid nor erased): their records read
    /// [`Error::Corrupt`], the older members stay readable.
    pub damaged_segments: u32,
    /// The newest state frame was damaged: an older one (or the checkpoint) stands in, so a
    /// consumer position or the trim point may be older than the last one written.
    pub state_fallback: bool,
    /// The segment after the active one holds an unreadable header: a segment opening cut by
    /// power loss (harmless), or a header damaged since it was written, in which case the
    /// rotation or truncation it committed is undone (FORMAT.md §7.4).
    pub unreadable_after_tail: bool,
}

impl RecoveryReport {
    /// True when mount found nothing to repair or work around.
    pub fn is_clean(&self) -> bool {
        *self == RecoveryReport::default()
    }
}

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// Mounts the log on `storage`, recovering from any interruption.
    ///
    /// The geometry comes from the image; `config` only supplies the full policy.
    /// Errors: [`Error::NotFormatted`] (no tidelog header), [`Error::UnsupportedVersion`] (only
    /// headers of a newer format), [`Error::GeometryMismatch`] (the image does not fit this
    /// storage), [`Error::TooManyConsumers`] (the image holds more cursors than `C`),
    /// [`Error::Corrupt`], storage errors.
    // Never inlined: merged into the caller's one big function (firmware's `main`), this
    // large, once-per-boot code costs register spills; out of line it is smaller
    // (`bash footprint/measure.sh`, see BENCHMARKS.md §3).
    #[inline(never)]
    pub fn mount(mut storage: S, config: Config) -> Result<Self, Error> {
        validate_geometry(
            storage.read_size(),
            storage.write_size(),
            storage.erase_size(),
            storage.capacity(),
        )?;
        let mut headers = HeaderMemory::new();
        let layout = probe_layout(&mut storage, &mut headers)?;
        let mut log = Log::empty(storage, layout, config.full_policy);
        log.recover(&mut headers)?;
        Ok(log)
    }

    /// What mount repaired or worked around (see [`RecoveryReport`]); a log made by
    /// [`format`](Self::format) reports nothing.
    pub fn recovery(&self) -> RecoveryReport {
        self.report
    }

    // Never inlined (into `mount`): see `mount`.
    #[inline(never)]
    fn recover(&mut self, headers: &mut HeaderMemory) -> Fallible<()> {
        let layout = self.layout;
        let n = layout.segment_count;
        // 1. The active segment: the valid header (checkpoint included) with the highest seq
        //    (the lowest index among equal ones). The checkpoint is read for that candidate
        //    alone — and, only when it is torn, for the next candidate below it, found by
        //    scanning the headers again — so a clean mount reads each header once and one
        //    checkpoint, loaded as the state (a state frame found in step 4 replaces it). A segment of a newer format version (written by newer firmware, before
        //    a rollback) is never dropped nor erased: the whole log is refused (FORMAT.md §7.1).
        //    Candidates are ordered by (seq, lowest index first); `below` excludes those tried.
        let mut below: Option<(u64, u32)> = None;
        // A checkpoint holding more cursors than `C` is intact: the error stands only if no
        // state frame replaces it (step 4).
        let mut checkpoint_error = None;
        let (tail, th) = loop {
            let mut best: Option<(u32, segment::Member)> = None;
            for i in 0..n {
                let h = match headers.kind(&mut self.storage, &layout, i)? {
                    HeaderKind::Member(h) => h,
                    HeaderKind::Future(found) => return Err(Fault::UnsupportedVersion { found }),
                    HeaderKind::Erased | HeaderKind::Other => continue,
                };
                // (seq, i) precedes (bs, bi) when seq < bs, or seq == bs and i > bi.
                let tried = below.is_some_and(|(bs, bi)| h.seq > bs || (h.seq == bs && i <= bi));
                if tried || best.as_ref().is_some_and(|(_, b)| b.seq >= h.seq) {
                    continue;
                }
                best = Some((i, h));
            }
            let (i, h) = best.ok_or(Fault::NotFormatted)?;
            match segment::read_checkpoint(
                &mut self.storage,
                &layout,
                layout.segment_addr(i),
                &h,
                &mut self.state,
            ) {
                Ok(true) => break (i, h),
                Ok(false) => below = Some((h.seq, i)),
                Err(e @ Fault::TooManyConsumers) => {
                    checkpoint_error = Some(e);
                    break (i, h);
                }
                Err(e) => return Err(e),
            }
        };
        // What follows the active segment: an unreadable header there is a segment opening cut
        // by power loss — or a header damaged since, whose rotation or truncation is undone
        // (FORMAT.md §7.4).
        let after = layout.ring_next(tail);
        self.report.unreadable_after_tail = after != tail
            && matches!(
                headers.kind(&mut self.storage, &layout, after)?,
                HeaderKind::Other
            );
        // 2. The chain back to the oldest live segment; dead segments between members are
        //    erased (left there only by an interrupted truncation). A member whose header is
        //    damaged (neither valid nor erased) does not end the chain when the segment before
        //    it in the ring carries the sequence number that member's own link would have
        //    named: the older members stay readable, the damaged one's records read `Corrupt`.
        let mut cur = (tail, th);
        // The base of the member after `cur` (the end offset of `cur`'s records), when known.
        let mut cur_end = None;
        let mut walked = 0u32;
        loop {
            let (ci, ch) = cur;
            if ch.prev_index == NO_PREV_INDEX || ch.prev_seq == NO_PREV_SEQ || ch.prev_index >= n {
                break;
            }
            let dist = layout.ring_dist(ch.prev_index, ci);
            if dist == 0 || walked + dist >= n {
                break;
            }
            let ph = match headers.kind(&mut self.storage, &layout, ch.prev_index)? {
                HeaderKind::Member(ph) => ph,
                HeaderKind::Other if dist == 1 => {
                    match self.past_damaged_member(
                        headers,
                        ch.prev_index,
                        ch.prev_seq,
                        ch.base_offset,
                        walked + 1,
                    )? {
                        Some((index, ph, damaged)) => {
                            self.report.damaged_segments += damaged;
                            if self.gap_end.is_none() {
                                self.gap_end = Some(ci);
                            }
                            walked += layout.ring_dist(index, ci);
                            cur = (index, ph);
                            cur_end = None;
                            continue;
                        }
                        None => break,
                    }
                }
                _ => break,
            };
            if ph.seq != ch.prev_seq || ph.base_offset > ch.base_offset {
                break;
            }
            if dist > 1 && self.gap_end.is_none() {
                // Holes from a truncation lie before this member (the nearest to the tail).
                self.gap_end = Some(ci);
            }
            for k in 1..dist {
                let hole = layout.ring_add(ch.prev_index, k);
                if let HeaderKind::Member(_) = headers.kind(&mut self.storage, &layout, hole)? {
                    let a = layout.segment_addr(hole);
                    self.storage.erase(a, a + layout.segment_size)?;
                    headers.erased(hole);
                    self.report.stale_segments += 1;
                }
            }
            walked += dist;
            cur_end = Some(ch.base_offset);
            cur = (ch.prev_index, ph);
        }
        self.head = cur.0;
        let head_base = cur.1.base_offset;
        self.tail = tail;
        self.tail_seq = U64::new(th.seq);
        self.tail_base = U64::new(th.base_offset);
        self.data_start = layout.data_start(th.header_len as usize);
        // 3. The tail: last valid index slot, then at most one interval of frames.
        let seg_addr = layout.segment_addr(tail);
        let (used, last) = segment::used_slots(&mut self.storage, &layout, seg_addr)?;
        let slot = match last {
            // The last used slot is valid: it is the last valid one (no read again).
            Some(s) => Some(s),
            None => segment::find_slot(&mut self.storage, &layout, seg_addr, used, u64::MAX)?,
        };
        let mut w = match slot {
            // A slot's state frame lies before its frame (0: none); anything else is damage.
            Some(s)
                if s.pos >= self.data_start
                    && s.pos < layout.index_start()
                    && (s.state_pos == 0
                        || (s.state_pos >= self.data_start && s.state_pos < s.pos)) =>
            {
                Walk {
                    pos: s.pos,
                    delta: s.delta,
                    state_pos: s.state_pos,
                }
            }
            _ => Walk::from(self.data_start, 0),
        };
        self.last_indexed = w.pos;
        let mut chunk = Window::new();
        let stop = w.run(
            &mut self.storage,
            &layout,
            seg_addr,
            u32::MAX,
            u32::MAX,
            &mut chunk,
        )?;
        let mut state_pos = w.state_pos;
        self.pos = w.pos;
        self.next = U64::new(th.base_offset + w.delta as u64);
        self.slots_used = used;
        self.tail_clean = stop == WalkStop::End;
        self.report.torn_tail = !self.tail_clean;
        // Nothing past the frames is known to be erased yet: `room_at_tail` checks as writes
        // reach it.
        self.checked_to = w.pos;
        // 4. The newest state: the last state frame in the active segment, else its checkpoint.
        //    A damaged newest state frame (bits flipped since it was written) costs its news,
        //    not the log: the newest intact one before it, else the checkpoint, stands in.
        let limit = seg_addr + layout.index_start();
        while state_pos != 0 {
            match segment::read_state_frame(
                &mut self.storage,
                &layout,
                seg_addr + state_pos,
                limit,
                &mut self.state,
            ) {
                Ok(()) => break,
                // The last state frame before the damaged one (the walk stops there).
                Err(Fault::Corrupt { .. }) => {
                    self.report.state_fallback = true;
                    let mut before = Walk::from(self.data_start, 0);
                    before.run(
                        &mut self.storage,
                        &layout,
                        seg_addr,
                        u32::MAX,
                        state_pos,
                        &mut chunk,
                    )?;
                    state_pos = before.state_pos;
                }
                Err(e) => return Err(e),
            }
        }
        self.state_pos = state_pos;
        // No state frame: the checkpoint step 1 loaded is the state.
        if let (0, Some(e)) = (state_pos, checkpoint_error) {
            return Err(e);
        }
        self.set_first_from_head(head_base);
        // The first read (of the first offset, usually) starts at the head's first frame
        // instead of searching for it.
        let head = SegmentRef {
            index: self.head,
            base: head_base,
            data_start: layout.data_start(cur.1.header_len as usize),
        };
        self.hint = Some(ReadHint::segment_start(head, cur_end));
        // Nothing is known about the free segments: erase each before use.
        self.free_dirty = self.free_segments();
        Ok(())
    }
}

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// The chain walk (mount step 2) met segment `damaged`, whose header is neither valid nor
    /// erased, where a member with sequence number `seq` should be (`below` is the base offset
    /// of the member after it; `walked` counts the segments walked so far, it included). Looks
    /// at the segments before it in the ring: if, after a run of such damaged segments, one
    /// carries a valid header whose sequence number is exactly the one the run's links would
    /// name (and whose base is not above `below`), the run was members and the chain goes on
    /// there. Returns that member, its header and the run's length.
    fn past_damaged_member(
        &mut self,
        headers: &mut HeaderMemory,
        damaged: u32,
        seq: u64,
        below: u64,
        walked: u32,
    ) -> Fallible<Option<(u32, segment::Member, u32)>> {
        let layout = self.layout;
        let n = layout.segment_count;
        let mut run = 1u32;
        let mut at = damaged;
        while walked + run < n && (run as u64) < seq {
            at = layout.ring_add(at, n - 1); // the segment before `at`
            match headers.kind(&mut self.storage, &layout, at)? {
                HeaderKind::Member(h) if h.seq == seq - run as u64 && h.base_offset <= below => {
                    return Ok(Some((at, h, run)));
                }
                HeaderKind::Other => run += 1,
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}

/// Finds the first valid segment header (probing every erase sector of the storage) and
/// checks that its geometry fits the storage; the header found is remembered in `headers`
/// (mount's scan does not read it again).
// Inlining chosen by measurement: see footprint/README.md, "Inlining".
#[inline(always)]
fn probe_layout<S: Storage>(storage: &mut S, headers: &mut HeaderMemory) -> Fallible<Layout> {
    let es = storage.erase_size() as u64;
    let cap = storage.capacity() as u64;
    let mut future = None;
    let mut addr = 0u64;
    let mut b = [0u8; FIXED_HEADER_LEN];
    while addr + FIXED_HEADER_LEN as u64 <= cap {
        let decoded = segment::read_fixed(storage, addr as u32, &mut b)?;
        match decoded {
            Ok(h) => {
                let l = h.layout;
                // `addr < cap <= 4 GiB` fits in u32: 32-bit division, no 64-bit routine.
                let a = addr as u32;
                let fits = a.is_multiple_of(l.segment_size) && a / l.segment_size < l.segment_count;
                if fits {
                    check_fits(storage, &l)?;
                    headers.remember(a / l.segment_size, HeaderKind::of(decoded, &l, &b));
                    return Ok(l);
                }
            }
            Err(HeaderError::FutureVersion(v)) => future = Some(v),
            Err(_) => {}
        }
        addr += es;
    }
    Err(match future {
        Some(found) => Fault::UnsupportedVersion { found },
        None => Fault::NotFormatted,
    })
}

/// The image's geometry must be usable on this storage: its write unit and segments aligned
/// to the storage's, and all segments inside it.
fn check_fits<S: Storage>(storage: &S, l: &Layout) -> Fallible<()> {
    let ok = (l.write_size as usize).is_multiple_of(storage.write_size())
        && (l.segment_size as usize).is_multiple_of(storage.erase_size())
        && l.segment_count as u64 * l.segment_size as u64 <= storage.capacity() as u64;
    if ok {
        Ok(())
    } else {
        Err(Fault::GeometryMismatch)
    }
}

/// Segments whose header kind mount keeps once read (the first ones of the ring).
const REMEMBERED: usize = 16;

/// The segment headers mount has read, so that it reads each once: the scan for the active
/// segment (repeated when a checkpoint is torn), the segment after it, the chain walk and its
/// holes all ask here. Bounded (`REMEMBERED` segments, 0.5 KiB of stack during mount): the
/// headers of later segments are read again when asked again.
struct HeaderMemory {
    kinds: [Option<HeaderKind>; REMEMBERED],
}

impl HeaderMemory {
    fn new() -> Self {
        HeaderMemory {
            kinds: [None; REMEMBERED],
        }
    }

    /// What segment `index`'s header is, read unless known.
    fn kind<S: Storage>(
        &mut self,
        storage: &mut S,
        layout: &Layout,
        index: u32,
    ) -> Fallible<HeaderKind> {
        if let Some(Some(k)) = self.kinds.get(index as usize) {
            return Ok(*k);
        }
        let k = segment::read_header_kind(storage, layout, index)?;
        self.remember(index, k);
        Ok(k)
    }

    fn remember(&mut self, index: u32, kind: HeaderKind) {
        if let Some(slot) = self.kinds.get_mut(index as usize) {
            *slot = Some(kind);
        }
    }

    /// Segment `index` was erased.
    fn erased(&mut self, index: u32) {
        self.remember(index, HeaderKind::Erased);
    }
}
