//! tidelog's [`FileLog`] against [`okaywal`] on the same disk: 256-byte entries, each one made
//! durable before the next (one `fdatasync` each), then group commit (many entries, one
//! `fdatasync`), then several threads each committing durably.
//!
//! Both sides use `fdatasync` (`File::sync_data`) as the durability barrier. Both are set up
//! with about 1 MiB of pre-allocated space per segment: tidelog a 64 MiB ring of 1 MiB segments
//! (`FullPolicy::OverwriteOldest`, so a long run wraps and pays for its erases), okaywal its
//! defaults (1 MiB pre-allocated segment files, checkpoint after 768 KiB, recycled by a
//! checkpointer that has nothing to do).

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use okaywal::{Entry, EntryId, LogManager, SegmentReader, WriteAheadLog};
use tidelog::{Config, Durability, FileLog, FullPolicy, SharedFileLog};

use crate::subject::{BenchError, Result};

/// Bytes per entry.
pub const ENTRY: usize = 256;
/// Capacity of tidelog's file.
pub const TIDE_CAPACITY: u64 = 64 << 20;
/// Erase sectors (4 KiB) per tidelog segment: 1 MiB segments.
pub const TIDE_SEGMENT_SECTORS: u32 = 256;

/// How long and how much each case runs.
#[derive(Debug, Clone, Copy)]
pub struct WalScale {
    /// Each contestant runs a case for this long in total...
    pub budget: Duration,
    /// ...or for this many commits (fsyncs), whichever comes first.
    pub max_commits: u64,
    /// Time slices per contestant, alternating between them.
    pub rounds: u32,
    /// Entries per group commit.
    pub group: usize,
    /// Threads in the concurrent case.
    pub threads: usize,
}

/// What one side did in one case.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WalMeasure {
    /// Entries made durable.
    pub entries: u64,
    /// Durable commits (calls that waited for an `fdatasync`).
    pub commits: u64,
    /// Wall-clock seconds.
    pub secs: f64,
}

impl WalMeasure {
    /// Entries made durable per second.
    pub fn entries_per_sec(&self) -> f64 {
        self.entries as f64 / self.secs
    }

    /// Mean time of one durable commit, microseconds.
    pub fn micros_per_commit(&self) -> f64 {
        self.secs * 1e6 / self.commits.max(1) as f64
    }
}

fn fe(e: tidelog::FileError) -> BenchError {
    BenchError::Setup(e.to_string())
}

fn ioe(e: io::Error) -> BenchError {
    BenchError::Setup(format!("okaywal: {e}"))
}

/// The entry with number `seq`.
pub fn entry(seq: u64) -> [u8; ENTRY] {
    let mut e = [0u8; ENTRY];
    e[..8].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in e[8..].iter_mut().enumerate() {
        *b = (seq as u8).wrapping_mul(7).wrapping_add(i as u8);
    }
    e
}

/// A new tidelog file log in `dir`.
pub fn tide_create(dir: &Path, durability: Durability) -> Result<FileLog> {
    let config = Config::new()
        .segment_sectors(TIDE_SEGMENT_SECTORS)
        .full_policy(FullPolicy::OverwriteOldest);
    FileLog::create(dir.join("tide.tlog"), TIDE_CAPACITY, config, durability).map_err(fe)
}

/// Entries recovered by [`Keep`]: each entry's chunks, in log order.
pub type Recovered = Arc<Mutex<Vec<Vec<Vec<u8>>>>>;

/// An okaywal [`LogManager`] that keeps nothing: checkpoints succeed at once (the data is
/// assumed applied elsewhere), and recovered entries are handed to an optional collector.
#[derive(Debug, Default, Clone)]
pub struct Keep {
    /// Recovered entries (their chunks), when collecting.
    pub recovered: Option<Recovered>,
}

impl LogManager for Keep {
    fn recover(&mut self, entry: &mut Entry<'_>) -> io::Result<()> {
        if let Some(out) = &self.recovered {
            if let Some(chunks) = entry.read_all_chunks()? {
                out.lock().expect("not poisoned").push(chunks);
            }
        }
        Ok(())
    }

    fn checkpoint_to(
        &mut self,
        _last_checkpointed_id: EntryId,
        _checkpointed_entries: &mut SegmentReader,
        _wal: &WriteAheadLog,
    ) -> io::Result<()> {
        Ok(())
    }
}

/// Opens (creating or recovering) an okaywal log in `dir`.
pub fn okay_open(dir: &Path, manager: Keep) -> Result<WriteAheadLog> {
    WriteAheadLog::recover(dir.join("okaywal"), manager).map_err(ioe)
}

/// The three cases of section 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// One thread; every entry made durable before the next (one `fdatasync` each).
    Durable,
    /// One thread; `group` entries, then one `fdatasync` (tidelog: appends + `sync`; okaywal:
    /// one entry of `group` chunks + `commit`).
    Group,
    /// `threads` threads, each committing its entries durably one by one (okaywal merges
    /// concurrent syncs, and so does tidelog's `SharedFileLog`).
    Threads,
}

/// One contestant, shareable by the worker threads.
trait Side: Sync {
    /// One durable commit of the case; returns the entries it made durable.
    fn commit(&self, case: Case, group: usize) -> Result<u64>;
}

/// tidelog's side: a [`SharedFileLog`] in `Durability::EveryWrite` mode — one log shared by
/// the threads, whose concurrent durable appends share `fdatasync`s (leader/follower group
/// commit). Group commit appends through the bare log (buffered) and syncs once.
struct TideSide {
    log: SharedFileLog,
    next: AtomicU64,
}

impl Side for TideSide {
    fn commit(&self, case: Case, group: usize) -> Result<u64> {
        match case {
            Case::Durable | Case::Threads => {
                let seq = self.next.fetch_add(1, Ordering::Relaxed);
                self.log.append(&entry(seq)).map_err(fe)?;
                Ok(1)
            }
            Case::Group => {
                let seq = self.next.fetch_add(group as u64, Ordering::Relaxed);
                self.log
                    .with(|log| -> tidelog::Result<()> {
                        for i in 0..group as u64 {
                            log.log_mut().append(&entry(seq + i))?;
                        }
                        Ok(())
                    })
                    .map_err(fe)??;
                self.log.sync().map_err(fe)?;
                Ok(group as u64)
            }
        }
    }
}

/// okaywal's side.
struct OkaySide {
    wal: WriteAheadLog,
    next: AtomicU64,
}

impl Side for OkaySide {
    fn commit(&self, case: Case, group: usize) -> Result<u64> {
        let n = if case == Case::Group { group as u64 } else { 1 };
        let seq = self.next.fetch_add(n, Ordering::Relaxed);
        let mut w = self.wal.begin_entry().map_err(ioe)?;
        for i in 0..n {
            w.write_chunk(&entry(seq + i)).map_err(ioe)?;
        }
        w.commit().map_err(ioe)?;
        Ok(n)
    }
}

/// Runs one time slice of `case` on `side`: commits until `slice` has passed or `max` commits
/// are done (split over the threads); adds what was done to `m`.
fn slice(
    side: &dyn Side,
    case: Case,
    scale: &WalScale,
    slice: Duration,
    max: u64,
    m: &mut WalMeasure,
) -> Result<()> {
    let threads = if case == Case::Threads {
        scale.threads.max(1)
    } else {
        1
    };
    let per_thread = max.div_ceil(threads as u64);
    let t = Instant::now();
    let results: Vec<Result<(u64, u64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let (mut commits, mut entries) = (0, 0);
                    while commits < per_thread && t.elapsed() < slice {
                        entries += side.commit(case, scale.group)?;
                        commits += 1;
                    }
                    Ok((commits, entries))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker panicked"))
            .collect()
    });
    m.secs += t.elapsed().as_secs_f64();
    for r in results {
        let (c, e) = r?;
        m.commits += c;
        m.entries += e;
    }
    Ok(())
}

/// Runs `case` on both contestants, in fresh directories, alternating time slices between them
/// (`scale.rounds` slices each, the first contestant alternating) so that a slow spell of a
/// shared disk hits both alike. tidelog's file is checked afterwards: it must hold every entry.
/// Returns (tidelog, okaywal).
pub fn run_case(
    case: Case,
    tide_dir: &Path,
    okay_dir: &Path,
    scale: &WalScale,
) -> Result<(WalMeasure, WalMeasure)> {
    let tide = TideSide {
        log: SharedFileLog::new(
            tide_create(tide_dir, Durability::Explicit)?,
            Durability::EveryWrite,
        )
        .map_err(fe)?,
        next: AtomicU64::new(0),
    };
    let okay = OkaySide {
        wal: okay_open(okay_dir, Keep::default())?,
        next: AtomicU64::new(0),
    };
    let rounds = scale.rounds.max(1);
    let (budget, max) = (
        scale.budget / rounds,
        scale.max_commits.div_ceil(rounds as u64),
    );
    let (mut a, mut b) = (WalMeasure::default(), WalMeasure::default());
    for r in 0..rounds {
        if r % 2 == 0 {
            slice(&tide, case, scale, budget, max, &mut a)?;
            slice(&okay, case, scale, budget, max, &mut b)?;
        } else {
            slice(&okay, case, scale, budget, max, &mut b)?;
            slice(&tide, case, scale, budget, max, &mut a)?;
        }
    }
    tide.log.close().map_err(fe)?;
    okay.wal.shutdown().map_err(ioe)?;
    check_tide(tide_dir, a.entries)?;
    Ok((a, b))
}

/// Reopens tidelog's file and checks it holds `entries` records (the newest ones intact).
pub fn check_tide(dir: &Path, entries: u64) -> Result<()> {
    let config = Config::new().full_policy(FullPolicy::OverwriteOldest);
    let mut log: FileLog =
        FileLog::open(dir.join("tide.tlog"), config, Durability::Explicit).map_err(fe)?;
    if log.next_offset() != entries {
        return Err(BenchError::Check(format!(
            "tidelog file holds {} records after {entries} durable appends",
            log.next_offset()
        )));
    }
    if entries > 0 {
        let mut buf = [0u8; ENTRY];
        let n = log.read(entries - 1, &mut buf).map_err(fe)?;
        if n != ENTRY {
            return Err(BenchError::Check(
                "last tidelog record has the wrong size".into(),
            ));
        }
    }
    Ok(())
}
