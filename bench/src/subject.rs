//! The two contestants behind one interface: [`Tide`] (a tidelog [`Log`] on a [`SimFlash`])
//! and [`Peer`] (a sequential-storage `QueueStorage` on the same SimFlash through
//! [`crate::nor`]).
//!
//! The interface is a FIFO queue, the peer's shape:
//!
//! | [`Subject`] | tidelog | sequential-storage |
//! |---|---|---|
//! | `push` | `append` | `push` |
//! | `peek` | `read` at the consumer's position | `peek` |
//! | `pop` | `read` + cursor `commit` (+ `trim_front`, see [`Consume`]) | `pop` (needs `MultiwriteNorFlash`) |
//! | `iterate` | `iter` from the consumer's position | `iter` |
//! | `remount` | `Log::mount` (RAM state rebuilt from flash) | a new `QueueStorage` with a fresh cache |

use core::fmt;

use embassy_futures::block_on;
use sequential_storage::cache::{
    page_pointers::ArrayPagePointers, page_states::ArrayPageStates, Cache, CacheImpl, Uncached,
};
use sequential_storage::queue::{QueueConfig, QueueStorage};
use tidelog::{Config, FullPolicy, Log, SimFlash, SimStats, Snapshot, Storage};

use crate::nor::{MultiwriteSnapshot, NorError, SimNor, SimNorMultiwrite};

/// Name of tidelog's consumer cursor in these workloads.
pub const CONSUMER: &str = "bench";

/// Everything that can go wrong in a workload.
#[derive(Debug)]
pub enum BenchError {
    /// tidelog returned an error.
    Tide(tidelog::Error),
    /// sequential-storage returned an error (its `Debug` text).
    Peer(String),
    /// The subject cannot do this at all on this flash (the text says why).
    Unsupported(&'static str),
    /// A check failed: the subject returned something else than was stored.
    Check(String),
    /// Set-up failed (geometry, configuration).
    Setup(String),
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Tide(e) => write!(f, "tidelog: {e}"),
            BenchError::Peer(e) => write!(f, "sequential-storage: {e}"),
            BenchError::Unsupported(why) => write!(f, "unsupported: {why}"),
            BenchError::Check(why) => write!(f, "check failed: {why}"),
            BenchError::Setup(why) => write!(f, "set-up: {why}"),
        }
    }
}

impl std::error::Error for BenchError {}

impl From<tidelog::Error> for BenchError {
    fn from(e: tidelog::Error) -> Self {
        BenchError::Tide(e)
    }
}

impl From<sequential_storage::Error<NorError>> for BenchError {
    fn from(e: sequential_storage::Error<NorError>) -> Self {
        BenchError::Peer(peer_error_text(&e))
    }
}

/// The peer's error as text: its `Debug` form, minus the backtrace its test builds attach.
pub fn peer_error_text(e: &sequential_storage::Error<NorError>) -> String {
    let s = format!("{e:?}");
    match s.find(", backtrace") {
        Some(i) => format!("{} }}", &s[..i]),
        None => s,
    }
}

/// Result alias of this crate.
pub type Result<T, E = BenchError> = core::result::Result<T, E>;

/// A FIFO queue on a SimFlash, with the simulator's counters. See the [module docs](self).
pub trait Subject {
    /// Short label for tables.
    fn label(&self) -> String;
    /// Adds `item` at the young end.
    fn push(&mut self, item: &[u8]) -> Result<()>;
    /// Copies the oldest unconsumed item into `buf`; `None` when there is none.
    fn peek(&mut self, buf: &mut [u8]) -> Result<Option<usize>>;
    /// Copies the oldest unconsumed item into `buf` and durably consumes it.
    fn pop(&mut self, buf: &mut [u8]) -> Result<Option<usize>>;
    /// Calls `f` with every unconsumed item, oldest first; returns how many.
    fn iterate(&mut self, f: &mut dyn FnMut(&[u8])) -> Result<u64>;
    /// Forgets every bit of RAM state and mounts again from the flash (a reboot).
    fn remount(&mut self) -> Result<()>;
    /// The simulator's traffic counters.
    fn stats(&mut self) -> SimStats;
    /// Saves the flash contents (for repeated mount measurements).
    fn save(&mut self) -> FlashState;
    /// Puts back flash contents saved by [`save`](Self::save); call
    /// [`remount`](Self::remount) next.
    fn restore(&mut self, state: &FlashState);
}

/// Saved flash contents of a subject.
#[derive(Debug, Clone)]
pub enum FlashState {
    /// A write-once SimFlash.
    Sim(Snapshot),
    /// A SimFlash with a multiwrite overlay.
    Multiwrite(MultiwriteSnapshot),
}

/// How [`Tide`] consumes (the `pop` of the queue interface).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consume {
    /// `read`, then `commit` the cursor after every item (a durable ack per item; under
    /// `FullPolicy::Reject` segments the cursor has passed are reclaimed when needed).
    Commit,
    /// `read`, then `commit` and `trim_front` after every item.
    CommitTrim,
    /// `read` every item; `commit` and `trim_front` after every `n` items.
    Batched(u32),
}

/// tidelog on a SimFlash.
pub struct Tide {
    log: Option<Log<SimFlash>>,
    config: Config,
    consume: Consume,
    /// Next offset to consume (RAM; rebuilt from the committed cursor at mount).
    pos: u64,
    label: String,
}

impl Tide {
    /// Formats a log on `sim`: one segment per erase sector, default index interval.
    pub fn format(sim: SimFlash, policy: FullPolicy, consume: Consume) -> Result<Self> {
        let config = Config::new().full_policy(policy);
        let log = Log::format(sim, config)?;
        let label = match consume {
            Consume::Commit => "tidelog".to_string(),
            Consume::CommitTrim => "tidelog commit+trim".to_string(),
            Consume::Batched(n) => format!("tidelog batch {n}"),
        };
        Ok(Tide {
            log: Some(log),
            config,
            consume,
            pos: 0,
            label,
        })
    }

    /// The log.
    pub fn log(&mut self) -> &mut Log<SimFlash> {
        self.log.as_mut().expect("log present between operations")
    }

    /// Where consuming resumes: the RAM position, moved up past anything overwritten.
    fn position(&mut self) -> Result<u64> {
        let first = self.log().first_offset();
        self.pos = self.pos.max(first);
        Ok(self.pos)
    }
}

impl Subject for Tide {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn push(&mut self, item: &[u8]) -> Result<()> {
        self.log().append(item)?;
        Ok(())
    }

    fn peek(&mut self, buf: &mut [u8]) -> Result<Option<usize>> {
        let pos = self.position()?;
        if pos >= self.log().next_offset() {
            return Ok(None);
        }
        Ok(Some(self.log().read(pos, buf)?))
    }

    fn pop(&mut self, buf: &mut [u8]) -> Result<Option<usize>> {
        let Some(len) = self.peek(buf)? else {
            return Ok(None);
        };
        self.pos += 1;
        let pos = self.pos;
        let (commit, trim) = match self.consume {
            Consume::Commit => (true, false),
            Consume::CommitTrim => (true, true),
            Consume::Batched(n) => {
                let due = pos.is_multiple_of(n as u64);
                (due, due)
            }
        };
        if commit {
            self.log().commit(CONSUMER, pos)?;
        }
        if trim {
            self.log().trim_front(pos)?;
        }
        Ok(Some(len))
    }

    fn iterate(&mut self, f: &mut dyn FnMut(&[u8])) -> Result<u64> {
        let from = self.position()?;
        let mut it = self.log().iter(from)?;
        let mut buf = [0u8; 256];
        let mut n = 0;
        while let Some((_, len)) = it.next_into(&mut buf)? {
            f(&buf[..len]);
            n += 1;
        }
        Ok(n)
    }

    fn remount(&mut self) -> Result<()> {
        let storage = self.log.take().expect("log present").into_storage();
        let log = Log::mount(storage, self.config)?;
        self.pos = match log.committed(CONSUMER) {
            Some(c) => c,
            None => log.first_offset(),
        };
        self.log = Some(log);
        Ok(())
    }

    fn stats(&mut self) -> SimStats {
        self.log().storage().stats()
    }

    fn save(&mut self) -> FlashState {
        FlashState::Sim(self.log().storage().snapshot())
    }

    fn restore(&mut self, state: &FlashState) {
        match state {
            FlashState::Sim(s) => self.log().storage_mut().restore(s),
            FlashState::Multiwrite(_) => panic!("tidelog runs on write-once SimFlash"),
        }
    }
}

/// A flash the peer can run on, with what the workloads need from it.
pub trait PeerFlash: embedded_storage_async::nor_flash::NorFlash<Error = NorError> + Sized {
    /// Wraps a SimFlash of the right geometry.
    fn wrap(sim: SimFlash) -> Result<Self>;
    /// Traffic counters.
    fn counters(&self) -> SimStats;
    /// Saves the flash contents.
    fn save(&self) -> FlashState;
    /// Restores the flash contents.
    fn restore(&mut self, state: &FlashState);
    /// The peer's `pop`, where the flash allows it.
    fn pop<C: CacheImpl<()>>(
        q: &mut QueueStorage<Self, C>,
        buf: &mut [u8],
    ) -> Result<Option<usize>>;
}

impl<const W: usize, const E: usize, const R: usize> PeerFlash for SimNor<W, E, R> {
    fn wrap(sim: SimFlash) -> Result<Self> {
        SimNor::new(sim).map_err(|e| BenchError::Setup(e.to_string()))
    }
    fn counters(&self) -> SimStats {
        self.stats()
    }
    fn save(&self) -> FlashState {
        FlashState::Sim(self.sim().snapshot())
    }
    fn restore(&mut self, state: &FlashState) {
        match state {
            FlashState::Sim(s) => self.sim_mut().restore(s),
            FlashState::Multiwrite(_) => panic!("snapshot of another flash type"),
        }
    }
    fn pop<C: CacheImpl<()>>(
        _q: &mut QueueStorage<Self, C>,
        _buf: &mut [u8],
    ) -> Result<Option<usize>> {
        Err(BenchError::Unsupported(
            "QueueStorage::pop requires MultiwriteNorFlash; write-once flash cannot provide it",
        ))
    }
}

impl<const W: usize, const E: usize, const R: usize> PeerFlash for SimNorMultiwrite<W, E, R> {
    fn wrap(sim: SimFlash) -> Result<Self> {
        SimNorMultiwrite::new(sim).map_err(|e| BenchError::Setup(e.to_string()))
    }
    fn counters(&self) -> SimStats {
        self.stats()
    }
    fn save(&self) -> FlashState {
        FlashState::Multiwrite(self.snapshot())
    }
    fn restore(&mut self, state: &FlashState) {
        match state {
            FlashState::Multiwrite(s) => SimNorMultiwrite::restore(self, s),
            FlashState::Sim(_) => panic!("snapshot of another flash type"),
        }
    }
    fn pop<C: CacheImpl<()>>(
        q: &mut QueueStorage<Self, C>,
        buf: &mut [u8],
    ) -> Result<Option<usize>> {
        Ok(block_on(q.pop(buf))?.map(|d| d.len()))
    }
}

/// The peer's cache "at its best" for a queue of `P` pages: page states and page pointers in
/// RAM arrays (the key cache is for maps).
pub type BestCache<const P: usize> = Cache<ArrayPageStates<P>, ArrayPagePointers<P>, Uncached>;

/// The peer without any cache: all state is read from flash on every call.
pub type NoCache = Cache<Uncached, Uncached, Uncached>;

/// A fresh [`BestCache`].
pub fn best_cache<const P: usize>() -> BestCache<P> {
    Cache::new(ArrayPageStates::new(), ArrayPagePointers::new(), Uncached)
}

/// A fresh [`NoCache`].
pub fn no_cache() -> NoCache {
    Cache::new_uncached()
}

/// sequential-storage's queue on a SimFlash (through `F`), with cache `C`.
pub struct Peer<F: PeerFlash, C: CacheImpl<()>> {
    q: Option<QueueStorage<F, C>>,
    new_cache: fn() -> C,
    range: core::ops::Range<u32>,
    overwrite: bool,
    label: String,
}

impl<F: PeerFlash, C: CacheImpl<()>> Peer<F, C> {
    /// A queue over the whole of `sim` (erased first, like tidelog's `format`). `overwrite` is
    /// the peer's `allow_overwrite_old_data` for every push.
    pub fn format(
        sim: SimFlash,
        new_cache: fn() -> C,
        overwrite: bool,
        label: &str,
    ) -> Result<Self> {
        let cap = sim.capacity() as u32;
        let flash = F::wrap(sim)?;
        let config = QueueConfig::<F>::try_new(0..cap)
            .map_err(|e| BenchError::Setup(format!("QueueConfig: {e:?}")))?;
        let mut q = QueueStorage::new(flash, config, new_cache());
        block_on(q.erase_all())?;
        Ok(Peer {
            q: Some(q),
            new_cache,
            range: 0..cap,
            overwrite,
            label: label.to_string(),
        })
    }

    fn q(&mut self) -> &mut QueueStorage<F, C> {
        self.q.as_mut().expect("queue present between operations")
    }
}

impl<F: PeerFlash, C: CacheImpl<()>> Subject for Peer<F, C> {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn push(&mut self, item: &[u8]) -> Result<()> {
        let overwrite = self.overwrite;
        block_on(self.q().push(item, overwrite))?;
        Ok(())
    }

    fn peek(&mut self, buf: &mut [u8]) -> Result<Option<usize>> {
        Ok(block_on(self.q().peek(buf))?.map(|d| d.len()))
    }

    fn pop(&mut self, buf: &mut [u8]) -> Result<Option<usize>> {
        F::pop(self.q(), buf)
    }

    fn iterate(&mut self, f: &mut dyn FnMut(&[u8])) -> Result<u64> {
        let mut buf = [0u8; 256];
        block_on(async {
            let mut it = self.q().iter().await?;
            let mut n = 0;
            while let Some(entry) = it.next(&mut buf).await? {
                f(&entry);
                n += 1;
            }
            Ok(n)
        })
    }

    fn remount(&mut self) -> Result<()> {
        let (flash, _old_cache) = self.q.take().expect("queue present").destroy();
        let config = QueueConfig::<F>::try_new(self.range.clone())
            .map_err(|e| BenchError::Setup(format!("QueueConfig: {e:?}")))?;
        self.q = Some(QueueStorage::new(flash, config, (self.new_cache)()));
        Ok(())
    }

    fn stats(&mut self) -> SimStats {
        self.q().flash().counters()
    }

    fn save(&mut self) -> FlashState {
        self.q().flash().save()
    }

    fn restore(&mut self, state: &FlashState) {
        self.q().flash().restore(state)
    }
}
