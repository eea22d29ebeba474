//! The workloads, written once against [`Subject`] and run on both contestants.
//!
//! Every workload checks what it reads back (items carry their sequence number), so a number in
//! a table is never the cost of doing the wrong thing. Flash counts are deltas of the SimFlash
//! counters around the measured calls only; they are deterministic. Times are wall-clock on the
//! host: each timed workload runs `reps` times from the same starting state and the fastest
//! run counts (the counts of every run must be identical, or the workload fails).

use std::time::Instant;

use tidelog::SimStats;

use crate::subject::{BenchError, Result, Subject};

/// Size of every item, bytes.
pub const ITEM: usize = 64;

/// Fills `out` with item number `seq`: the sequence number (little-endian) then a pattern
/// derived from it.
pub fn item(seq: u64, out: &mut [u8; ITEM]) {
    out[..8].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in out[8..].iter_mut().enumerate() {
        *b = (seq.wrapping_mul(31) as u8).wrapping_add(i as u8);
    }
}

/// The sequence number of an item, after checking the rest of it.
pub fn seq_of(data: &[u8]) -> Result<u64> {
    if data.len() != ITEM {
        return Err(BenchError::Check(format!("item of {} bytes", data.len())));
    }
    let seq = u64::from_le_bytes(data[..8].try_into().expect("8 bytes"));
    let mut want = [0u8; ITEM];
    item(seq, &mut want);
    if data != want {
        return Err(BenchError::Check(format!("item {seq} has wrong bytes")));
    }
    Ok(seq)
}

/// Counters and time of `ops` operations.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measure {
    /// Operations measured.
    pub ops: u64,
    /// SimFlash counters over those operations.
    pub stats: SimStats,
    /// Fastest wall-clock time of the run, seconds.
    pub secs: f64,
}

impl Measure {
    /// `v / ops`.
    pub fn per_op(&self, v: u64) -> f64 {
        if self.ops == 0 {
            0.0
        } else {
            v as f64 / self.ops as f64
        }
    }

    /// Operations per second of host time.
    pub fn ops_per_sec(&self) -> f64 {
        if self.secs > 0.0 {
            self.ops as f64 / self.secs
        } else {
            f64::INFINITY
        }
    }
}

/// `b - a`, field by field.
pub fn delta(a: &SimStats, b: &SimStats) -> SimStats {
    SimStats {
        reads: b.reads - a.reads,
        read_bytes: b.read_bytes - a.read_bytes,
        programs: b.programs - a.programs,
        program_bytes: b.program_bytes - a.program_bytes,
        erases: b.erases - a.erases,
        erase_calls: b.erase_calls - a.erase_calls,
    }
}

/// `a + b`, field by field.
pub fn add(a: &SimStats, b: &SimStats) -> SimStats {
    SimStats {
        reads: a.reads + b.reads,
        read_bytes: a.read_bytes + b.read_bytes,
        programs: a.programs + b.programs,
        program_bytes: a.program_bytes + b.program_bytes,
        erases: a.erases + b.erases,
        erase_calls: a.erase_calls + b.erase_calls,
    }
}

/// Keeps the counts of the first run and the fastest time; fails if runs differ in counts.
fn merge(best: &mut Option<Measure>, m: Measure) -> Result<()> {
    match best {
        None => *best = Some(m),
        Some(b) => {
            if b.stats != m.stats || b.ops != m.ops {
                return Err(BenchError::Check(format!(
                    "non-deterministic counts: {:?} vs {:?}",
                    b.stats, m.stats
                )));
            }
            b.secs = b.secs.min(m.secs);
        }
    }
    Ok(())
}

/// What [`fill`] found.
#[derive(Debug, Clone, Copy)]
pub struct Fill {
    /// Counters of the warm-up pushes (the first pass over freshly formatted flash).
    pub warmup: SimStats,
    /// The measured pushes (steady state: the ring wraps, old items are overwritten).
    pub push: Measure,
    /// Items the subject still holds afterwards (the rest were overwritten).
    pub retained: u64,
    /// Sequence number of the oldest item held.
    pub oldest: u64,
}

/// Pushes `warmup` items into a fresh subject from `make` (counted apart), then `pushes` more
/// (measured), `reps` times; returns the last subject (full, wrapped) and the measurement.
/// Checks that the subject then holds exactly the newest items, in order.
pub fn fill<S: Subject>(
    make: &dyn Fn() -> Result<S>,
    warmup: u64,
    pushes: u64,
    reps: u32,
) -> Result<(S, Fill)> {
    let mut best = None;
    let mut last = None;
    let mut warm = SimStats::default();
    let mut it = [0u8; ITEM];
    for _ in 0..reps.max(1) {
        let mut s = make()?;
        let before = s.stats();
        for seq in 0..warmup {
            item(seq, &mut it);
            s.push(&it)?;
        }
        let mid = s.stats();
        warm = delta(&before, &mid);
        let t = Instant::now();
        for seq in warmup..warmup + pushes {
            item(seq, &mut it);
            s.push(&it)?;
        }
        let secs = t.elapsed().as_secs_f64();
        let stats = delta(&mid, &s.stats());
        merge(
            &mut best,
            Measure {
                ops: pushes,
                stats,
                secs,
            },
        )?;
        last = Some(s);
    }
    let mut s = last.expect("at least one run");
    let (retained, oldest) = check_contents(&mut s, warmup + pushes)?;
    Ok((
        s,
        Fill {
            warmup: warm,
            push: best.expect("at least one run"),
            retained,
            oldest,
        },
    ))
}

/// Iterates `s` and checks it holds consecutive items ending at `next - 1`; returns (count,
/// oldest sequence number).
pub fn check_contents<S: Subject>(s: &mut S, next: u64) -> Result<(u64, u64)> {
    let mut seqs = Vec::new();
    let mut bad = None;
    s.iterate(&mut |d| match seq_of(d) {
        Ok(q) => seqs.push(q),
        Err(e) => bad = Some(e),
    })?;
    if let Some(e) = bad {
        return Err(e);
    }
    let n = seqs.len() as u64;
    let first = next - n;
    if seqs.iter().copied().ne(first..next) {
        return Err(BenchError::Check(format!(
            "{}: holds {n} items, not the consecutive newest ones before {next}",
            s.label()
        )));
    }
    Ok((n, first))
}

/// Runs `run` (which returns the operations it did) `reps` times on `s` and keeps the counts
/// of the first run and the fastest time (failing if runs differ in counts). Every run starts
/// from the same reader state, the one the peek workload leaves: the oldest item just read —
/// tidelog's read hint and the peer's caches would otherwise be left wherever the previous run
/// ended. That peek is not counted.
fn reader_runs<S: Subject>(
    s: &mut S,
    reps: u32,
    mut run: impl FnMut(&mut S) -> Result<u64>,
) -> Result<Measure> {
    let mut best = None;
    let mut buf = [0u8; 256];
    for _ in 0..reps.max(1) {
        s.peek(&mut buf)?;
        let before = s.stats();
        let t = Instant::now();
        let ops = run(s)?;
        let secs = t.elapsed().as_secs_f64();
        let stats = delta(&before, &s.stats());
        merge(&mut best, Measure { ops, stats, secs })?;
    }
    Ok(best.expect("at least one run"))
}

/// Peeks at the oldest item `n` times, checking it is item `oldest`.
pub fn peek_oldest<S: Subject>(s: &mut S, n: u64, oldest: u64, reps: u32) -> Result<Measure> {
    let mut buf = [0u8; 256];
    reader_runs(s, reps, |s| {
        for _ in 0..n {
            let len = s
                .peek(&mut buf)?
                .ok_or_else(|| BenchError::Check("peek found nothing".into()))?;
            if len != ITEM || buf[..8] != oldest.to_le_bytes() {
                return Err(BenchError::Check(format!(
                    "peek did not return item {oldest}"
                )));
            }
        }
        Ok(n)
    })
}

/// Reads every item oldest first (`ops` = items read), checking them.
pub fn iterate_all<S: Subject>(s: &mut S, reps: u32) -> Result<Measure> {
    reader_runs(s, reps, |s| {
        let mut bad = None;
        let n = s.iterate(&mut |d| {
            if let Err(e) = seq_of(d) {
                bad = Some(e);
            }
        })?;
        bad.map_or(Ok(n), Err)
    })
}

/// The first operation after a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Read the oldest item (which must be item `.0`).
    Peek(u64),
    /// Push item `.0`.
    Push(u64),
}

/// Reboot, then one operation: counted and timed together, `reps` times from the same flash
/// contents (`ops` = 1, time = mean over the runs). Leaves `s` as it found it (remounted).
pub fn mount_then<S: Subject>(s: &mut S, after: After, reps: u32) -> Result<Measure> {
    let saved = s.save();
    let reps = reps.max(1);
    let mut first: Option<SimStats> = None;
    let mut total = 0.0;
    let mut buf = [0u8; 256];
    let mut it = [0u8; ITEM];
    for _ in 0..reps {
        s.restore(&saved);
        let before = s.stats();
        let t = Instant::now();
        s.remount()?;
        match after {
            After::Peek(oldest) => {
                let len = s
                    .peek(&mut buf)?
                    .ok_or_else(|| BenchError::Check("nothing after mount".into()))?;
                if len != ITEM || buf[..8] != oldest.to_le_bytes() {
                    return Err(BenchError::Check(format!(
                        "{}: first item after mount is not {oldest}",
                        s.label()
                    )));
                }
            }
            After::Push(seq) => {
                item(seq, &mut it);
                s.push(&it)?;
            }
        }
        total += t.elapsed().as_secs_f64();
        let stats = delta(&before, &s.stats());
        match first {
            None => first = Some(stats),
            Some(f) if f != stats => {
                return Err(BenchError::Check("mount counts differ between runs".into()))
            }
            Some(_) => {}
        }
    }
    s.restore(&saved);
    s.remount()?;
    Ok(Measure {
        ops: 1,
        stats: first.expect("at least one run"),
        secs: total / reps as f64,
    })
}

/// What [`consume`] measured.
#[derive(Debug, Clone, Copy)]
pub struct Cycles {
    /// The pushes of the cycles.
    pub push: Measure,
    /// The pops (consume operations) of the cycles.
    pub pop: Measure,
    /// Whole cycles (push + pop), with the time of the whole loop.
    pub cycle: Measure,
}

/// Producer/consumer steady state: `prefill` items, `warmup` unmeasured cycles of (push one,
/// pop one), then `cycles` measured ones, on fresh subjects from `make`, `reps` times. Every
/// pop must return the next item in order, and after a final remount the oldest item must not
/// be past the next unconsumed one.
pub fn consume<S: Subject>(
    make: &dyn Fn() -> Result<S>,
    prefill: u64,
    warmup: u64,
    cycles: u64,
    reps: u32,
) -> Result<Cycles> {
    let mut best: Option<Cycles> = None;
    let mut it = [0u8; ITEM];
    let mut buf = [0u8; 256];
    for _ in 0..reps.max(1) {
        let mut s = make()?;
        for seq in 0..prefill {
            item(seq, &mut it);
            s.push(&it)?;
        }
        let mut next_pop = 0u64;
        for c in 0..warmup {
            item(prefill + c, &mut it);
            s.push(&it)?;
            let len = s
                .pop(&mut buf)?
                .ok_or_else(|| BenchError::Check("pop found nothing".into()))?;
            if len != ITEM || buf[..8] != next_pop.to_le_bytes() {
                return Err(BenchError::Check(format!(
                    "{}: pop did not return item {next_pop}",
                    s.label()
                )));
            }
            next_pop += 1;
        }
        let (mut push, mut pop) = (SimStats::default(), SimStats::default());
        let t = Instant::now();
        for c in warmup..warmup + cycles {
            item(prefill + c, &mut it);
            let a = s.stats();
            s.push(&it)?;
            let b = s.stats();
            let len = s
                .pop(&mut buf)?
                .ok_or_else(|| BenchError::Check("pop found nothing".into()))?;
            let d = s.stats();
            push = add(&push, &delta(&a, &b));
            pop = add(&pop, &delta(&b, &d));
            if len != ITEM || buf[..8] != next_pop.to_le_bytes() {
                return Err(BenchError::Check(format!(
                    "{}: pop did not return item {next_pop}",
                    s.label()
                )));
            }
            next_pop += 1;
        }
        let secs = t.elapsed().as_secs_f64();
        // After a reboot the consumer resumes exactly after the last consumed item.
        s.remount()?;
        let len = s
            .peek(&mut buf)?
            .ok_or_else(|| BenchError::Check("empty after remount".into()))?;
        let resumed = u64::from_le_bytes(buf[..8].try_into().expect("8 bytes"));
        if len != ITEM || resumed > next_pop {
            return Err(BenchError::Check(format!(
                "{}: after remount the oldest item is {resumed}, consumed up to {next_pop}",
                s.label()
            )));
        }
        let m = |stats, secs| Measure {
            ops: cycles,
            stats,
            secs,
        };
        let run = Cycles {
            push: m(push, secs),
            pop: m(pop, secs),
            cycle: m(add(&push, &pop), secs),
        };
        match &mut best {
            None => best = Some(run),
            Some(b) => {
                if b.cycle.stats != run.cycle.stats {
                    return Err(BenchError::Check("non-deterministic counts".into()));
                }
                let secs = b.cycle.secs.min(secs);
                b.push.secs = secs;
                b.pop.secs = secs;
                b.cycle.secs = secs;
            }
        }
    }
    Ok(best.expect("at least one run"))
}
