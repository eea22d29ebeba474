//! The exhaustive power-cut harness of the KV journal (shared by `tests/kv_power_cut.rs` and,
//! later, the `powercut` example).
//!
//! Entry point: [`run`]`(seed, min_points) -> (points, violations)` (or [`run_report`] for the
//! details). Needs feature `sim`; with feature `alloc` half of the workloads run on
//! [`MapIndex`](tidelog::MapIndex), the rest on [`ScanIndex`].
//!
//! A *job* is a seeded workload (sets, deletes, `set_multiple`, mixed batches, explicit
//! compactions, `clear` and `format`) on one geometry of a matrix (write size 1, 4, 8, 32,
//! 256; erase size 256 and 1024; 2–4 sectors per partition; high-water mark 40–100 %), sized
//! so compactions, high-water crossings and `Full` are frequent. Snapshot per op:
//!
//! 1. From the image before the op (a snapshot), mount and run the op without a fault: that
//!    gives the new state (the model after the op if it returned `Ok`, the old one after
//!    `Full`), and `k`, the number of mutating storage ops (programs and erases) it issues.
//!    Any error other than `Full`/`TooLarge` is a violation; a fresh mount of the result must
//!    show the new state (every acknowledged op is durable).
//! 2. For every `j < k` and every cut mode (`Before`, `After`, `TornPrefix`, `TornBits`):
//!    restore the snapshot, mount, arm the cut at the `j`-th op, run the op (it must fail with
//!    `PowerLoss` and nothing else — in particular never `WriteTwice`), power-cycle and mount
//!    again with *both* index variants: each must succeed and show exactly the old or the new
//!    state. That is one *crash point*.
//! 3. Progress after recovery (I6): a continuation write (a fresh key) on the recovered KV
//!    must succeed (or report `Full`), never `WriteTwice`, and survive a remount. Every
//!    second crash point also cuts that continuation at a random op of it (a cut during
//!    recovery's own compaction when the tail was torn): the next mount must show the
//!    recovered state with or without the continuation. Those count as crash points too.
//!
//! State is compared by iterating the whole map (`KvIter::next_into`, no allocation needed)
//! and by `get` of every key of the model.

#![allow(dead_code)]

use std::collections::BTreeMap;

use tidelog::{
    Cut, Error, Kv, KvConfig, KvIndex, KvOp, PowerCut, ScanIndex, SimFlash, StorageError,
};

/// The map a KV should hold.
pub type Model = BTreeMap<Vec<u8>, Vec<u8>>;

const CUTS: [Cut; 4] = [Cut::Before, Cut::After, Cut::TornPrefix, Cut::TornBits];
const MAX_KEY: u8 = 16;
const MAX_VALUE: u32 = 120;
/// Key of the continuation write after a recovery (never used by workloads).
const CONT_KEY: &[u8] = b"~continue";

/// splitmix64.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x6b76_5f70_6f77_6572)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// One workload operation.
#[derive(Debug, Clone)]
pub enum Work {
    /// `set`.
    Set(Vec<u8>, Vec<u8>),
    /// `delete`.
    Delete(Vec<u8>),
    /// `set_multiple`.
    SetMultiple(Vec<(Vec<u8>, Vec<u8>)>),
    /// `apply` with sets and deletes.
    Apply(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    /// `compact`.
    Compact,
    /// `clear`.
    Clear,
    /// `Kv::format` over the existing image.
    Format,
}

impl Work {
    /// The model after the op succeeded.
    fn apply(&self, m: &Model) -> Model {
        let mut m = m.clone();
        match self {
            Work::Set(k, v) => {
                m.insert(k.clone(), v.clone());
            }
            Work::Delete(k) => {
                m.remove(k);
            }
            Work::SetMultiple(p) => {
                for (k, v) in p {
                    m.insert(k.clone(), v.clone());
                }
            }
            Work::Apply(p) => {
                for (k, v) in p {
                    match v {
                        Some(v) => m.insert(k.clone(), v.clone()),
                        None => m.remove(k),
                    };
                }
            }
            Work::Compact => {}
            Work::Clear | Work::Format => m.clear(),
        }
        m
    }
}

/// Which index a job's KVs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// [`ScanIndex`].
    Scan,
    /// `MapIndex` (feature `alloc`).
    Map,
}

/// A job: geometry, configuration, index variant and workload seed.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// Seed of the workload.
    pub seed: u64,
    /// Program unit.
    pub write_size: usize,
    /// Erase sector.
    pub erase_size: usize,
    /// Sectors per partition.
    pub sectors: usize,
    /// High-water mark in percent.
    pub percent: u8,
    /// Index variant of the KV under test.
    pub variant: Variant,
    /// Workload operations.
    pub ops: usize,
}

const GEOMETRIES: [(usize, usize); 7] = [
    (1, 256),
    (4, 256),
    (8, 256),
    (32, 256),
    (4, 1024),
    (32, 1024),
    (256, 1024),
];

impl Job {
    /// The `n`-th job of a run with this seed.
    pub fn new(seed: u64, n: u64) -> Job {
        let mut r = Rng::new(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ n);
        let (write_size, erase_size) = GEOMETRIES[(n % GEOMETRIES.len() as u64) as usize];
        let sectors = if erase_size >= 1024 {
            1 + r.below(2) as usize
        } else {
            2 + r.below(2) as usize
        };
        let variant = if cfg!(feature = "alloc") && (n / GEOMETRIES.len() as u64) % 2 == 1 {
            Variant::Map
        } else {
            Variant::Scan
        };
        Job {
            seed: r.next_u64(),
            write_size,
            erase_size,
            sectors,
            percent: [40, 60, 75, 90, 100][r.below(5) as usize],
            variant,
            ops: 60,
        }
    }

    fn config(&self) -> KvConfig {
        KvConfig::new()
            .max_key_len(MAX_KEY)
            .max_value_len(MAX_VALUE)
            .high_water_percent(self.percent)
    }

    fn flash(&self) -> SimFlash {
        SimFlash::new(
            self.write_size,
            self.erase_size,
            2 * self.sectors * self.erase_size,
        )
        .expect("geometry")
        .with_seed(self.seed)
    }
}

/// Generates the workload of a job.
fn gen_op(r: &mut Rng) -> Work {
    let key = |r: &mut Rng| -> Vec<u8> {
        let i = r.below(10) as u8;
        let len = 1 + (i as usize * 7) % MAX_KEY as usize;
        let mut k = vec![b'a' + i; len];
        k[0] = b'0' + i;
        k
    };
    let value = |r: &mut Rng| -> Vec<u8> {
        let len = match r.below(4) {
            0 => r.below(4),
            1 | 2 => r.below(40),
            _ => r.below(MAX_VALUE as u64 + 1),
        } as usize;
        r.bytes(len)
    };
    match r.below(100) {
        0..=54 => Work::Set(key(r), value(r)),
        55..=69 => Work::Delete(key(r)),
        70..=81 => {
            let n = 1 + r.below(4) as usize;
            Work::SetMultiple((0..n).map(|_| (key(r), value(r))).collect())
        }
        82..=91 => {
            let n = 1 + r.below(4) as usize;
            Work::Apply(
                (0..n)
                    .map(|_| {
                        let k = key(r);
                        let v = (r.below(3) != 0).then(|| value(r));
                        (k, v)
                    })
                    .collect(),
            )
        }
        92..=96 => Work::Compact,
        97..=98 => Work::Clear,
        _ => Work::Format,
    }
}

/// Results of a run.
#[derive(Debug, Default)]
pub struct Report {
    /// Crash points checked.
    pub points: u64,
    /// Of which cuts during the continuation after a recovery.
    pub nested_points: u64,
    /// Violations found.
    pub violations: u64,
    /// Workload ops run.
    pub ops: u64,
    /// Compactions (generation switches) seen in the workloads.
    pub compactions: u64,
    /// `Full` results in the workloads.
    pub fulls: u64,
    /// Jobs run.
    pub jobs: u64,
    /// The first violations, described.
    pub messages: Vec<String>,
}

impl Report {
    fn violation(&mut self, msg: String) {
        self.violations += 1;
        if self.messages.len() < 20 {
            self.messages.push(msg);
        }
    }
}

/// Runs jobs until at least `min_points` crash points were checked. Returns
/// `(points, violations)`.
pub fn run(seed: u64, min_points: u64) -> (u64, u64) {
    let r = run_report(seed, min_points);
    (r.points, r.violations)
}

/// [`run`], with the details.
pub fn run_report(seed: u64, min_points: u64) -> Report {
    let mut report = Report::default();
    let mut n = 0;
    while report.points < min_points {
        let job = Job::new(seed, n);
        run_job(&job, &mut report);
        n += 1;
    }
    report
}

/// Runs one job, adding to `report`.
pub fn run_job(job: &Job, report: &mut Report) {
    match job.variant {
        Variant::Scan => run_typed::<ScanIndex>(job, report),
        #[cfg(feature = "alloc")]
        Variant::Map => run_typed::<tidelog::MapIndex>(job, report),
        #[cfg(not(feature = "alloc"))]
        Variant::Map => run_typed::<ScanIndex>(job, report),
    }
}

/// Runs `op` on the image in `sim` (mounting first unless it is a format).
fn run_op<I: KvIndex>(sim: &mut SimFlash, cfg: KvConfig, op: &Work) -> Result<(), Error> {
    if let Work::Format = op {
        return Kv::<_, I>::format(sim, cfg).map(|_| ());
    }
    let mut kv: Kv<&mut SimFlash, I> = Kv::mount(sim, cfg)?;
    match op {
        Work::Set(k, v) => kv.set(k, v),
        Work::Delete(k) => kv.delete(k).map(|_| ()),
        Work::SetMultiple(p) => {
            let pairs: Vec<(&[u8], &[u8])> = p.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            kv.set_multiple(&pairs)
        }
        Work::Apply(p) => {
            let ops: Vec<KvOp> = p
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => KvOp::Set(k, v),
                    None => KvOp::Delete(k),
                })
                .collect();
            kv.apply(&ops)
        }
        Work::Compact => kv.compact(),
        Work::Clear => kv.clear(),
        Work::Format => unreachable!(),
    }
}

/// Mounts the image with index `I` and reads the whole map (iteration, then `get` of every
/// key found and of every key of `also`).
fn read_state<I: KvIndex>(
    sim: &mut SimFlash,
    cfg: KvConfig,
    also: &[&Model],
) -> Result<Model, String> {
    let mut kv: Kv<&mut SimFlash, I> =
        Kv::mount(sim, cfg).map_err(|e| format!("mount failed: {e}"))?;
    let mut m = Model::new();
    {
        let mut it = kv.iter().map_err(|e| format!("iter failed: {e}"))?;
        let mut kb = [0u8; 255];
        let mut vb = vec![0u8; MAX_VALUE as usize];
        while let Some((kl, vl)) = it
            .next_into(&mut kb, &mut vb)
            .map_err(|e| format!("iteration failed: {e}"))?
        {
            if m.insert(kb[..kl].to_vec(), vb[..vl].to_vec()).is_some() {
                return Err(format!("iteration returned key {:?} twice", &kb[..kl]));
            }
        }
    }
    let mut vb = vec![0u8; MAX_VALUE as usize];
    let keys: Vec<Vec<u8>> = m
        .keys()
        .chain(also.iter().flat_map(|a| a.keys()))
        .cloned()
        .collect();
    for k in keys {
        let got = kv
            .get(&k, &mut vb)
            .map_err(|e| format!("get {k:?} failed: {e}"))?
            .map(|n| vb[..n].to_vec());
        if got.as_ref() != m.get(&k) {
            return Err(format!(
                "get {k:?} = {got:?} disagrees with iteration {:?}",
                m.get(&k)
            ));
        }
    }
    Ok(m)
}

/// Reads the state with both index variants; they must agree.
fn read_both(sim: &mut SimFlash, cfg: KvConfig, also: &[&Model]) -> Result<Model, String> {
    let a = read_state::<ScanIndex>(sim, cfg, also)?;
    #[cfg(feature = "alloc")]
    {
        let b = read_state::<tidelog::MapIndex>(sim, cfg, also)?;
        if a != b {
            return Err(format!("ScanIndex reads {a:?}, MapIndex reads {b:?}"));
        }
    }
    Ok(a)
}

fn describe(m: &Model) -> String {
    let items: Vec<String> = m
        .iter()
        .map(|(k, v)| format!("{}={}B", String::from_utf8_lossy(k), v.len()))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn generation(sim: &mut SimFlash, cfg: KvConfig) -> u64 {
    Kv::<&mut SimFlash, ScanIndex>::mount(sim, cfg).map_or(0, |kv| kv.stats().generation)
}

fn run_typed<I: KvIndex>(job: &Job, report: &mut Report) {
    let cfg = job.config();
    let mut sim = job.flash();
    report.jobs += 1;
    if let Err(e) = Kv::<_, I>::format(&mut sim, cfg) {
        report.violation(format!("{job:?}: format failed: {e}"));
        return;
    }
    let mut rng = Rng::new(job.seed);
    let mut model = Model::new();
    let mut cont_n = 0u64;
    for step in 0..job.ops {
        let op = gen_op(&mut rng);
        let ctx = format!("{job:?} step {step} {op:?}");
        let base = sim.snapshot();
        let gen_before = generation(&mut sim, cfg);
        // 1. The op without a fault.
        let start = sim.mutating_ops();
        let result = run_op::<I>(&mut sim, cfg, &op);
        let k = sim.mutating_ops() - start;
        report.ops += 1;
        let new = match result {
            Ok(()) => op.apply(&model),
            Err(Error::Full) => {
                report.fulls += 1;
                model.clone()
            }
            Err(Error::TooLarge { .. }) => model.clone(),
            Err(e) => {
                report.violation(format!("{ctx}: failed without a fault: {e}"));
                return;
            }
        };
        match read_both(&mut sim, cfg, &[&model, &new]) {
            Ok(m) if m == new => {}
            Ok(m) => {
                report.violation(format!(
                    "{ctx}: after the op: {} expected {}",
                    describe(&m),
                    describe(&new)
                ));
                return;
            }
            Err(e) => {
                report.violation(format!("{ctx}: after the op: {e}"));
                return;
            }
        }
        let after = sim.snapshot();
        report.compactions += generation(&mut sim, cfg).saturating_sub(gen_before);
        // 2. Every cut point of the op, in every mode.
        for j in 0..k {
            for (ci, &cut) in CUTS.iter().enumerate() {
                sim.restore(&base);
                report.points += 1;
                let at = sim.mutating_ops() + j;
                let pctx = format!("{ctx} cut {cut:?} at op {j}/{k}");
                // Mount only reads, so the op's mutating ops start right after it.
                sim.set_fault(Some(PowerCut { at_op: at, cut }));
                let r = run_op::<I>(&mut sim, cfg, &op);
                match r {
                    Err(Error::Storage(StorageError::PowerLoss)) => {}
                    other => {
                        report.violation(format!("{pctx}: the op returned {other:?}"));
                        continue;
                    }
                }
                sim.power_cycle();
                let recovered = match read_both(&mut sim, cfg, &[&model, &new]) {
                    Ok(m) if m == model || m == new => m,
                    Ok(m) => {
                        report.violation(format!(
                            "{pctx}: recovered {} — neither old {} nor new {}",
                            describe(&m),
                            describe(&model),
                            describe(&new)
                        ));
                        continue;
                    }
                    Err(e) => {
                        report.violation(format!("{pctx}: {e}"));
                        continue;
                    }
                };
                // 3. Progress: a continuation write, possibly cut itself.
                cont_n += 1;
                let cont = Work::Set(CONT_KEY.to_vec(), cont_n.to_le_bytes().to_vec());
                let with_cont = cont.apply(&recovered);
                let crashed = sim.snapshot();
                let start = sim.mutating_ops();
                let r = run_op::<I>(&mut sim, cfg, &cont);
                let ck = sim.mutating_ops() - start;
                let expect_cont = match r {
                    Ok(()) => with_cont.clone(),
                    Err(Error::Full) => recovered.clone(),
                    Err(e) => {
                        report.violation(format!("{pctx}: continuation failed: {e}"));
                        continue;
                    }
                };
                match read_both(&mut sim, cfg, &[&recovered, &with_cont]) {
                    Ok(m) if m == expect_cont => {}
                    Ok(m) => report.violation(format!(
                        "{pctx}: after continuation {} expected {}",
                        describe(&m),
                        describe(&expect_cont)
                    )),
                    Err(e) => report.violation(format!("{pctx}: after continuation: {e}")),
                }
                if ck > 0 && (j + ci as u64).is_multiple_of(2) {
                    let mut r2 = Rng::new(job.seed ^ cont_n);
                    let cj = r2.below(ck);
                    let ccut = CUTS[r2.below(4) as usize];
                    sim.restore(&crashed);
                    report.points += 1;
                    report.nested_points += 1;
                    sim.set_fault(Some(PowerCut {
                        at_op: sim.mutating_ops() + cj,
                        cut: ccut,
                    }));
                    let r = run_op::<I>(&mut sim, cfg, &cont);
                    if r != Err(Error::Storage(StorageError::PowerLoss)) {
                        report.violation(format!(
                            "{pctx}: continuation cut {ccut:?} at {cj}/{ck} returned {r:?}"
                        ));
                    } else {
                        sim.power_cycle();
                        match read_both(&mut sim, cfg, &[&recovered, &with_cont]) {
                            Ok(m) if m == recovered || m == with_cont => {}
                            Ok(m) => report.violation(format!(
                                "{pctx}: continuation cut {ccut:?} at {cj}/{ck}: {}",
                                describe(&m)
                            )),
                            Err(e) => report.violation(format!(
                                "{pctx}: continuation cut {ccut:?} at {cj}/{ck}: {e}"
                            )),
                        }
                    }
                }
            }
        }
        // On with the op's result.
        sim.restore(&after);
        model = new;
    }
}
