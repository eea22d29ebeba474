//! Space and reclaim: which segments are free, when the head may be erased, and the full
//! policy's rules for taking the last free segment (the spare) or the active segment's reserve.
//!
//! One rule runs through it: a segment is only erased once the state that makes its records
//! dead is durable (DESIGN.md §D3). Under [`FullPolicy::Reject`](crate::FullPolicy::Reject) the
//! last free segment is kept as a spare so that a state change freeing the head can be written
//! before the head is erased; with no spare (a truncation took it) the active segment keeps a
//! reserve for that state frame instead.

use crate::config::FullPolicy;
use crate::control::State;
use crate::error::{Fallible, Fault};
use crate::format::ends_within;
use crate::format::index::Slot;
use crate::log::chain::SegmentRef;
use crate::log::write::Derived;
use crate::log::Log;
use crate::policy::Policy;
use crate::storage::Storage;

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
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
    pub(super) fn resume_in_reserve(&mut self, size: u32) -> Fallible<bool> {
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
    pub(super) fn largest_state_frame(&self) -> u32 {
        self.layout.frame_size(self.layout.max_state_len()) as u32
    }

    /// Whether any record is live under the durable state: not trimmed, and not committed past
    /// by every consumer.
    pub(super) fn holds_live_records(&mut self) -> Fallible<bool> {
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
        // change partly applied (DESIGN.md §D3).
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
    pub(super) fn frees_head(&self, s: &State<C>, next_base: u64, first: u64) -> bool {
        next_base <= s.trim().max(first) || s.min_cursor().is_some_and(|m| m >= next_base)
    }

    /// The state a reclaim for `purpose` is judged by: a state change's own (a consumer created
    /// at an old offset keeps the records it needs even if every existing consumer is past
    /// them), else the durable one.
    pub(super) fn judged<'a>(&'a self, purpose: Purpose<'a, C>) -> &'a State<C> {
        match purpose {
            Purpose::Control(Some(pending)) => pending,
            _ => &self.state,
        }
    }

    /// The chain member after the head (`None` when the head is the active segment, which is
    /// never reclaimed), where the head's records end (that member's base; the next offset when
    /// the head is the active segment) and the first offset.
    pub(super) fn after_head(&mut self) -> Fallible<(Option<u32>, u64, u64)> {
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
}

/// Places for a state frame in the reserve of an active segment without a free segment (see
/// `Log::resume_in_reserve`): a state that frees the head is made durable in the first one
/// whose frame was not torn by a power cut. Only when earlier cuts tore both does it come to
/// the last resort, reclaiming the head under a state not yet durable (DESIGN.md §D3; the power
/// cut sweep has not met it, the `ops_powercut` fuzzer has). More places would make that rarer
/// still but take their room from the appends whenever no segment is free.
const RESERVE_STATE_FRAMES: u32 = 2;

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
