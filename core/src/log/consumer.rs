//! Named consumer cursors (invariant I8): a cursor records how far a consumer has processed
//! the log. Committing persists the whole control state as a state frame, and every new
//! segment carries it in its header checkpoint, so a committed position survives crashes and
//! the erasure of old segments. A cursor only moves backwards through an explicit
//! [`rewind`](Consumer::rewind).
//!
//! A committed offset `o` means "records below `o` are done"; reading resumes at `o`.

use crate::control::{check_name, MAX_CONSUMER_NAME};
use crate::error::{Error, Fallible, Result};
use crate::log::cursor::Iter;
use crate::log::Log;
use crate::policy::{FromConfig, Policy};
use crate::storage::Storage;

impl<S: Storage, const C: usize, P: Policy> Log<S, C, P> {
    /// A handle on the consumer `name` (1..=32 bytes). The cursor is created on its first
    /// commit.
    pub fn consumer(&mut self, name: &str) -> Result<Consumer<'_, S, C, P>> {
        check_name(name)?;
        let mut n = heapless::String::new();
        n.push_str(name).map_err(|_| Error::InvalidName)?;
        Ok(Consumer { log: self, name: n })
    }

    /// Committed offset of consumer `name`, or `None` if it never committed.
    pub fn committed(&self, name: &str) -> Option<u64> {
        self.state.get(name.as_bytes())
    }

    /// Every consumer with its committed offset, in name order (bytewise, as on the medium).
    pub fn consumers(&self) -> impl Iterator<Item = (&str, u64)> {
        self.state
            .cursors()
            .iter()
            .map(|c| (c.name_str(), c.offset))
    }

    /// Where consumer `name` resumes reading: its committed offset, or the first offset if it
    /// never committed (see [`Consumer::position`]).
    ///
    /// Errors: [`Error::InvalidName`], [`Error::Overwritten`] when the committed offset was
    /// dropped (wraparound or trim).
    pub fn position(&self, name: &str) -> Result<u64> {
        check_name(name)?;
        let first = self.first_readable();
        match self.committed(name) {
            Some(c) if c < first => Err(Error::Overwritten {
                first_available: first,
            }),
            Some(c) => Ok(c),
            None => Ok(first),
        }
    }

    /// Persists `offset` as consumer `name`'s position. `offset` may not exceed the next
    /// offset, and may not be below the current committed offset (use
    /// [`rewind`](Consumer::rewind) for that). Committing the current value writes nothing.
    ///
    /// Under [`FullPolicy::Reject`](crate::FullPolicy::Reject) a commit that lets no segment go
    /// fails with [`Error::Full`] when the log has no room left but its spare segment.
    pub fn commit(&mut self, name: &str, offset: u64) -> Result<()> {
        check_name(name)?;
        self.check_writable()?;
        if offset > self.next.get() {
            return Err(Error::OutOfRange {
                first: self.first_readable(),
                next: self.next.get(),
            });
        }
        match self.state.get(name.as_bytes()) {
            Some(cur) if cur == offset => return Ok(()),
            Some(cur) if offset < cur => {
                return Err(Error::InvalidArgument(
                    "commit would move the cursor backwards; use rewind",
                ))
            }
            _ => {}
        }
        Ok(self.set_cursor(name, offset)?)
    }

    /// Moves consumer `name` to `offset`, backwards or forwards, and persists it.
    /// `offset` must be readable or the next offset.
    pub fn rewind(&mut self, name: &str, offset: u64) -> Result<()> {
        check_name(name)?;
        self.check_writable()?;
        let first = self.first_readable();
        if offset > self.next.get() {
            return Err(Error::OutOfRange {
                first,
                next: self.next.get(),
            });
        }
        if offset < first {
            return Err(Error::Overwritten {
                first_available: first,
            });
        }
        if self.state.get(name.as_bytes()) == Some(offset) {
            return Ok(());
        }
        Ok(self.set_cursor(name, offset)?)
    }

    /// Deletes consumer `name` (persisted). [`Error::NoSuchConsumer`] if it does not exist.
    pub fn remove_consumer(&mut self, name: &str) -> Result<()> {
        check_name(name)?;
        self.check_writable()?;
        let mut new = self.state;
        new.remove(name.as_bytes())?;
        Ok(self.write_state(&new)?)
    }

    fn set_cursor(&mut self, name: &str, offset: u64) -> Fallible<()> {
        let mut new = self.state;
        // `set` caps this at `C`.
        new.set(name.as_bytes(), offset, self.layout.max_consumers as usize)?;
        self.write_state(&new)
    }
}

/// A named consumer of a [`Log`], from [`Log::consumer`].
pub struct Consumer<'a, S: Storage, const C: usize, P: Policy = FromConfig> {
    log: &'a mut Log<S, C, P>,
    name: heapless::String<MAX_CONSUMER_NAME>,
}

impl<'a, S: Storage, const C: usize, P: Policy> Consumer<'a, S, C, P> {
    /// The consumer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Committed offset, or `None` if the consumer never committed.
    pub fn committed(&self) -> Option<u64> {
        self.log.committed(&self.name)
    }

    /// Persists `offset` as the position (see [`Log::commit`]).
    pub fn commit(&mut self, offset: u64) -> Result<()> {
        self.log.commit(&self.name, offset)
    }

    /// Moves the position to `offset`, backwards allowed (see [`Log::rewind`]).
    pub fn rewind(&mut self, offset: u64) -> Result<()> {
        self.log.rewind(&self.name, offset)
    }

    /// Where reading resumes: the committed offset, or the first offset if none.
    ///
    /// [`Error::Overwritten`] when the committed offset was dropped (wraparound or trim):
    /// the records between it and `first_available` are gone, and the consumer decides
    /// whether to [`rewind`](Self::rewind) to `first_available`.
    pub fn position(&self) -> Result<u64> {
        self.log.position(&self.name)
    }

    /// Iterates from [`position`](Self::position) (replay after a failure starts here).
    pub fn iter(self) -> Result<Iter<'a, S, C, P>> {
        let from = self.position()?;
        self.log.iter(from)
    }
}
