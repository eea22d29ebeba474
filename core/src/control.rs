//! [`State`]: the log's control state kept in RAM — the trim point and the consumer cursors —
//! and its encoding as a state block (FORMAT.md §5). It is written whole: as the checkpoint of
//! every new segment header, and as an `S` frame whenever it changes. So the newest state is
//! always in the active segment, and erasing an old segment never loses it.

use crate::error::{Fallible, Fault};
use crate::format::state::{self as wire, StateView, MAX_NAME_LEN};
use crate::storage::Storage;
use crate::word::U64;
use crate::writer::UnitWriter;

/// Longest consumer name, in bytes.
pub const MAX_CONSUMER_NAME: usize = MAX_NAME_LEN;

/// One named consumer cursor. Plain bytes (`Copy`): a state is copied whole, by one `memcpy`,
/// when a change is prepared. Name bytes past `name_len` are leftovers, never read.
#[derive(Debug, Clone, Copy)]
// 4-aligned although it holds a `u64`: see `word.rs`.
#[repr(Rust, packed(4))]
pub(crate) struct Cursor {
    name: [u8; MAX_NAME_LEN],
    name_len: u8,
    pub offset: u64,
}

impl Cursor {
    const EMPTY: Cursor = Cursor {
        name: [0; MAX_NAME_LEN],
        name_len: 0,
        offset: 0,
    };

    /// Makes this slot the cursor called `name` (1..=32 bytes, checked by the caller), in
    /// place: no cursor is built and copied, and the old name's tail is left as it is.
    fn set(&mut self, name: &[u8], offset: u64) -> Fallible<()> {
        self.name
            .get_mut(..name.len())
            .ok_or(Fault::InvalidName)?
            .copy_from_slice(name);
        self.name_len = name.len() as u8;
        self.offset = offset;
        Ok(())
    }

    /// The cursor's name.
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name_len as usize]
    }

    /// The cursor's name as text: names come from a `&str` or from a state block, whose names
    /// are checked to be UTF-8 ([`StateView::parse`]), so this is never empty.
    pub fn name_str(&self) -> &str {
        core::str::from_utf8(self.name()).unwrap_or_default()
    }
}

/// Trim point and up to `C` cursors, sorted by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct State<const C: usize> {
    trim: U64,
    len: u8,
    table: [Cursor; C],
}

impl<const C: usize> Default for State<C> {
    fn default() -> Self {
        State {
            trim: U64::new(0),
            len: 0,
            table: [Cursor::EMPTY; C],
        }
    }
}

/// Checks a consumer name: 1..=32 bytes.
pub(crate) fn check_name(name: &str) -> Fallible<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        Err(Fault::InvalidName)
    } else {
        Ok(())
    }
}

impl<const C: usize> State<C> {
    /// Loads a validated state block in place (no `State` is built and moved: it is the
    /// largest part of the log). Fails with `TooManyConsumers` if it holds more cursors than
    /// this log type can, leaving `self` partly loaded.
    pub fn load(&mut self, v: &StateView<'_>) -> Fallible<()> {
        self.trim = U64::new(v.trim);
        self.len = 0;
        for (name, offset) in v.cursors() {
            self.table
                .get_mut(self.len as usize)
                .ok_or(Fault::TooManyConsumers)?
                .set(name, offset)?;
            self.len += 1;
        }
        Ok(())
    }

    /// The cursors, sorted by name.
    pub fn cursors(&self) -> &[Cursor] {
        &self.table[..self.len as usize]
    }

    /// The cursors, mutably (names must keep their order).
    pub fn cursors_mut(&mut self) -> &mut [Cursor] {
        &mut self.table[..self.len as usize]
    }

    /// Encoded length of the state block.
    pub fn encoded_len(&self) -> usize {
        wire::encoded_len(self.cursors().iter().map(|c| c.name_len as usize))
    }

    /// Streams the state block into `w` (covered by its CRC).
    pub fn write_to<S: Storage>(&self, w: &mut UnitWriter<'_, S>) -> Fallible<()> {
        let mut prefix = [0u8; wire::MIN_STATE_LEN];
        wire::encode_prefix(self.trim.get(), self.len, &mut prefix);
        w.put(&prefix)?;
        for c in self.cursors() {
            // Streamed field by field: staging a cursor in a zeroed array costs more code.
            let (len, name, offset) = wire::cursor_fields(c.name(), c.offset);
            w.put(&len)?;
            w.put(name)?;
            w.put(&offset)?;
        }
        Ok(())
    }

    /// Position of the cursor called `name` in the sorted table: `Ok(i)` found, `Err(i)`
    /// insertion point.
    pub fn find(&self, name: &[u8]) -> core::result::Result<usize, usize> {
        self.cursors()
            .binary_search_by(|c| wire::name_order(c.name(), name))
    }

    /// Committed offset of `name`.
    pub fn get(&self, name: &[u8]) -> Option<u64> {
        self.find(name).ok().map(|i| self.table[i].offset)
    }

    /// Sets (or creates) cursor `name`. Creating fails with `TooManyConsumers` once the table
    /// holds `max` cursors (at most `C`).
    pub fn set(&mut self, name: &[u8], offset: u64, max: usize) -> Fallible<()> {
        match self.find(name) {
            Ok(i) => self.table[i].offset = offset,
            Err(i) => {
                let len = self.len as usize;
                if len >= max.min(C) {
                    return Err(Fault::TooManyConsumers);
                }
                // Written into the free slot first (a bad name fails before anything moves),
                // then rotated into its place in name order.
                self.table[len].set(name, offset)?;
                self.table[i..=len].rotate_right(1);
                self.len += 1;
            }
        }
        Ok(())
    }

    /// Removes cursor `name`; `NotFound` if absent.
    pub fn remove(&mut self, name: &[u8]) -> Fallible<()> {
        let i = self.find(name).map_err(|_| Fault::NoSuchConsumer)?;
        self.table.copy_within(i + 1..self.len as usize, i);
        self.len -= 1;
        Ok(())
    }

    /// The trim point: offsets below it are dropped.
    pub fn trim(&self) -> u64 {
        self.trim.get()
    }

    /// Moves the trim point.
    pub fn set_trim(&mut self, offset: u64) {
        self.trim = U64::new(offset);
    }

    /// Smallest committed offset, if any consumer exists.
    pub fn min_cursor(&self) -> Option<u64> {
        self.cursors().iter().map(|c| c.offset).min()
    }
}
