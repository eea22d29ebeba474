//! Every workload on every geometry, for tidelog and for the peer cached and uncached.

use tidelog::{FullPolicy, SimFlash, SimStats};

use crate::nor::{PretendMultiwrite, SimNor, SimNorMultiwrite};
use crate::subject::{
    best_cache, no_cache, peer_error_text, BenchError, BestCache, Consume, NoCache, Peer, Result,
    Subject, Tide,
};
use crate::workloads::{self, After, Cycles, Fill, Measure, ITEM};

/// A flash geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Program unit, bytes.
    pub write: usize,
    /// Erase sector, bytes.
    pub erase: usize,
    /// Sectors.
    pub sectors: usize,
}

impl Geometry {
    /// Capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.erase * self.sectors
    }

    /// "8 × 4 KiB, write 4 B".
    pub fn label(&self) -> String {
        format!(
            "{} × {} KiB, unit {} B",
            self.sectors,
            self.erase / 1024,
            self.write
        )
    }

    /// A fresh, erased SimFlash of this geometry.
    pub fn sim(&self) -> Result<SimFlash> {
        SimFlash::new(self.write, self.erase, self.capacity())
            .map_err(|e| BenchError::Setup(e.to_string()))
    }
}

/// How much work each workload does.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Pushes in the fill workload, in units of `capacity / 64` (the raw item capacity); the
    /// ring wraps about `rings × 0.7` times.
    pub rings: f64,
    /// Push/pop cycles, in units of `capacity / 64`.
    pub cycle_rings: f64,
    /// Peeks at the oldest item.
    pub peeks: u64,
    /// Items pushed before the "mount after N items" workload.
    pub mount_n: u64,
    /// Mount repetitions (the time is their mean).
    pub mount_reps: u32,
    /// Repetitions of the timed workloads (the fastest counts).
    pub reps: u32,
}

impl Scale {
    /// The scale of `BENCHMARKS.md`.
    pub const FULL: Scale = Scale {
        rings: 3.0,
        cycle_rings: 3.0,
        peeks: 2000,
        mount_n: 100,
        mount_reps: 30,
        reps: 3,
    };

    /// Seconds, for the smoke test.
    pub const SMOKE: Scale = Scale {
        rings: 1.5,
        cycle_rings: 1.5,
        peeks: 10,
        mount_n: 20,
        mount_reps: 2,
        reps: 1,
    };
}

/// One value per contestant.
#[derive(Debug, Clone, Copy)]
pub struct Trio<T> {
    /// tidelog.
    pub tide: T,
    /// sequential-storage with its best cache.
    pub cached: T,
    /// sequential-storage without cache.
    pub uncached: T,
}

/// Consume cycles: tidelog in three consume styles, the peer cached and uncached.
#[derive(Debug, Clone, Copy)]
pub struct ConsumeRow {
    /// `read` + `commit` per item.
    pub commit: Cycles,
    /// `read` + `commit` + `trim_front` per item.
    pub commit_trim: Cycles,
    /// `read` per item, `commit` + `trim_front` every 16.
    pub batch16: Cycles,
    /// Peer `push`/`pop`, best cache (on multiwrite flash).
    pub cached: Cycles,
    /// Peer `push`/`pop`, no cache (on multiwrite flash).
    pub uncached: Cycles,
}

/// Everything measured on one geometry.
#[derive(Debug, Clone)]
pub struct GeometryResults {
    /// The geometry.
    pub geometry: Geometry,
    /// Items pushed in the fill workload before measuring (one raw capacity's worth).
    pub warmup: u64,
    /// Items pushed in the fill workload, measured.
    pub pushes: u64,
    /// Push until wraparound.
    pub fill: Trio<Fill>,
    /// Peek the oldest item, ring full.
    pub peek: Trio<Measure>,
    /// Read every item, ring full.
    pub iterate: Trio<Measure>,
    /// Mount + first peek, ring full.
    pub mount_peek_full: Trio<Measure>,
    /// Mount + first push, ring full.
    pub mount_push_full: Trio<Measure>,
    /// Mount + first peek after `mount_n` items.
    pub mount_peek_n: Trio<Measure>,
    /// Items before `mount_peek_n`.
    pub mount_n: u64,
    /// Push/pop cycles.
    pub consume: ConsumeRow,
    /// Items pushed before the cycles.
    pub prefill: u64,
    /// Cycles run.
    pub cycles: u64,
}

/// The workloads that need only push/peek/iterate/mount, on one subject type.
struct Ring {
    fill: Fill,
    peek: Measure,
    iterate: Measure,
    mount_peek_full: Measure,
    mount_push_full: Measure,
    mount_peek_n: Measure,
}

fn ring_workloads<S: Subject>(
    make: &dyn Fn() -> Result<S>,
    warmup: u64,
    pushes: u64,
    scale: &Scale,
) -> Result<Ring> {
    let (mut s, fill) = workloads::fill(make, warmup, pushes, scale.reps)?;
    let peek = workloads::peek_oldest(&mut s, scale.peeks, fill.oldest, scale.reps)?;
    let iterate = workloads::iterate_all(&mut s, scale.reps)?;
    let mount_peek_full =
        workloads::mount_then(&mut s, After::Peek(fill.oldest), scale.mount_reps)?;
    let mount_push_full =
        workloads::mount_then(&mut s, After::Push(warmup + pushes), scale.mount_reps)?;
    let mut small = make()?;
    let mut it = [0u8; ITEM];
    for seq in 0..scale.mount_n {
        workloads::item(seq, &mut it);
        small.push(&it)?;
    }
    let mount_peek_n = workloads::mount_then(&mut small, After::Peek(0), scale.mount_reps)?;
    Ok(Ring {
        fill,
        peek,
        iterate,
        mount_peek_full,
        mount_push_full,
        mount_peek_n,
    })
}

/// Runs every workload on geometry (`W`, `E`, `P` sectors).
pub fn run_geometry<const W: usize, const E: usize, const P: usize>(
    scale: &Scale,
) -> Result<GeometryResults> {
    let g = Geometry {
        write: W,
        erase: E,
        sectors: P,
    };
    let raw_items = (g.capacity() / ITEM) as f64;
    let pushes = (raw_items * scale.rings) as u64;

    let tide = || Tide::format(g.sim()?, FullPolicy::OverwriteOldest, Consume::Commit);
    let cached = || {
        Peer::<SimNor<W, E>, BestCache<P>>::format(g.sim()?, best_cache::<P>, true, "peer cached")
    };
    let uncached =
        || Peer::<SimNor<W, E>, NoCache>::format(g.sim()?, no_cache, true, "peer uncached");
    let warmup = raw_items as u64;
    let t = ring_workloads(&tide, warmup, pushes, scale)?;
    let c = ring_workloads(&cached, warmup, pushes, scale)?;
    let u = ring_workloads(&uncached, warmup, pushes, scale)?;
    let trio = |f: fn(&Ring) -> Measure| Trio {
        tide: f(&t),
        cached: f(&c),
        uncached: f(&u),
    };

    // Producer/consumer: a backlog of an eighth of the raw capacity, then push one, pop one.
    // (With 4 segments, tidelog's `Reject` keeps one as a spare for commits and trims, and a
    // commit per item adds a state frame per item: a quarter no longer fits on every geometry.)
    let prefill = (raw_items / 8.0) as u64;
    let cycles = (raw_items * scale.cycle_rings) as u64;
    let tide_c = |mode| move || Tide::format(g.sim()?, FullPolicy::Reject, mode);
    let consume = ConsumeRow {
        commit: workloads::consume(
            &tide_c(Consume::Commit),
            prefill,
            warmup,
            cycles,
            scale.reps,
        )?,
        commit_trim: workloads::consume(
            &tide_c(Consume::CommitTrim),
            prefill,
            warmup,
            cycles,
            scale.reps,
        )?,
        batch16: workloads::consume(
            &tide_c(Consume::Batched(16)),
            prefill,
            warmup,
            cycles,
            scale.reps,
        )?,
        cached: workloads::consume(
            &|| {
                Peer::<SimNorMultiwrite<W, E>, BestCache<P>>::format(
                    g.sim()?,
                    best_cache::<P>,
                    false,
                    "peer cached",
                )
            },
            prefill,
            warmup,
            cycles,
            scale.reps,
        )?,
        uncached: workloads::consume(
            &|| {
                Peer::<SimNorMultiwrite<W, E>, NoCache>::format(
                    g.sim()?,
                    no_cache,
                    false,
                    "peer uncached",
                )
            },
            prefill,
            warmup,
            cycles,
            scale.reps,
        )?,
    };

    Ok(GeometryResults {
        geometry: g,
        warmup,
        pushes,
        fill: Trio {
            tide: t.fill,
            cached: c.fill,
            uncached: u.fill,
        },
        peek: trio(|r| r.peek),
        iterate: trio(|r| r.iterate),
        mount_peek_full: trio(|r| r.mount_peek_full),
        mount_push_full: trio(|r| r.mount_push_full),
        mount_peek_n: trio(|r| r.mount_peek_n),
        mount_n: scale.mount_n,
        consume,
        prefill,
        cycles,
    })
}

/// The three geometries of the tracker issue: a small SPI NOR part, the same with 32-byte
/// write-once units, and STM32H7-class internal flash (32-byte write-once units, 128 KiB
/// sectors).
pub fn run_all(scale: &Scale) -> Result<Vec<GeometryResults>> {
    Ok(vec![
        run_geometry::<4, 4096, 8>(scale)?,
        run_geometry::<32, 4096, 8>(scale)?,
        run_geometry::<32, { 128 * 1024 }, 8>(scale)?,
    ])
}

/// What the peer cannot do on write-once flash, and tidelog doing it.
#[derive(Debug, Clone)]
pub struct WriteOnce {
    /// The geometry (STM32H7-like).
    pub geometry: Geometry,
    /// The peer's `pop` through [`PretendMultiwrite`]: the error (or, unexpectedly, success).
    pub pretend_pop: std::result::Result<(), String>,
    /// Items pushed and peeked fine by the peer on the honest write-once wrapper.
    pub peer_pushed: u64,
    /// tidelog on the same write-once flash: push/pop cycles with a cursor commit each.
    pub tide_cycles: Cycles,
    /// Cycles run by tidelog.
    pub tide_cycles_n: u64,
    /// Larger program units: (unit, peer's `QueueConfig` result, tidelog cycles run).
    pub wide_units: Vec<(usize, String, u64, SimStats)>,
}

fn pretend_pop<const W: usize, const E: usize>(
    g: Geometry,
) -> Result<(u64, std::result::Result<(), String>)> {
    use embassy_futures::block_on;
    use sequential_storage::queue::{QueueConfig, QueueStorage};
    let flash = PretendMultiwrite(
        SimNor::<W, E>::new(g.sim()?).map_err(|e| BenchError::Setup(e.to_string()))?,
    );
    let config = QueueConfig::<PretendMultiwrite<SimNor<W, E>>>::try_new(0..g.capacity() as u32)
        .map_err(|e| BenchError::Setup(format!("{e:?}")))?;
    let mut q = QueueStorage::new(flash, config, no_cache());
    let mut it = [0u8; ITEM];
    let mut buf = [0u8; 256];
    let n = 8;
    for seq in 0..n {
        workloads::item(seq, &mut it);
        block_on(q.push(&it, false)).map_err(|e| BenchError::Peer(peer_error_text(&e)))?;
    }
    let peeked = block_on(q.peek(&mut buf))
        .map_err(|e| BenchError::Peer(peer_error_text(&e)))?
        .map(|d| d.len());
    if peeked != Some(ITEM) {
        return Err(BenchError::Check(
            "peer peek on write-once flash failed".into(),
        ));
    }
    let r = match block_on(q.pop(&mut buf)) {
        Ok(_) => Ok(()),
        Err(e) => Err(peer_error_text(&e)),
    };
    Ok((n, r))
}

fn wide_unit<const W: usize>(cycles: u64) -> Result<(usize, String, u64, SimStats)> {
    const E: usize = 4096;
    let g = Geometry {
        write: W,
        erase: E,
        sectors: 8,
    };
    let peer = match sequential_storage::queue::QueueConfig::<SimNor<W, E>>::try_new(
        0..g.capacity() as u32,
    ) {
        Ok(_) => "accepted".to_string(),
        Err(e) => format!("QueueConfig::try_new → Err({e:?})"),
    };
    let make = || Tide::format(g.sim()?, FullPolicy::Reject, Consume::Commit);
    let c = workloads::consume(&make, 8, cycles, cycles, 1)?;
    Ok((W, peer, cycles, c.cycle.stats))
}

/// Runs the write-once demonstrations on STM32H7-like flash (32-byte units, 128 KiB sectors).
pub fn write_once(scale: &Scale) -> Result<WriteOnce> {
    const W: usize = 32;
    const E: usize = 128 * 1024;
    let g = Geometry {
        write: W,
        erase: E,
        sectors: 8,
    };
    let (peer_pushed, pretend) = pretend_pop::<W, E>(g)?;
    let raw_items = (g.capacity() / ITEM) as f64;
    let cycles = (raw_items * scale.cycle_rings) as u64;
    let make = || Tide::format(g.sim()?, FullPolicy::Reject, Consume::Commit);
    let tide_cycles =
        workloads::consume(&make, (raw_items / 4.0) as u64, raw_items as u64, cycles, 1)?;
    let wide_cycles = ((4096 * 8 / ITEM) as f64 * scale.cycle_rings) as u64;
    Ok(WriteOnce {
        geometry: g,
        pretend_pop: pretend,
        peer_pushed,
        tide_cycles,
        tide_cycles_n: cycles,
        wide_units: vec![
            wide_unit::<64>(wide_cycles)?,
            wide_unit::<256>(wide_cycles)?,
        ],
    })
}
