//! The exhaustive power-cut harness, shared by `tests/power_cut.rs` (fast variant, run by
//! `cargo test`) and `examples/powercut.rs` (long variant).
//!
//! A *job* is one scripted workload: a seed and a cell of the geometry × policy matrix. The
//! workload (appends of mixed sizes, batches, consumer commits and rewinds, trims, truncations,
//! clean remounts) runs on a [`SimFlash`] and is checked against a [`Model`] of what was
//! acknowledged. Before each operation the flash is snapshotted; for every mutating storage op
//! the operation makes (counted by a fault-free run from a fresh mount of the same snapshot)
//! and every [`Cut`] mode, the snapshot is restored, mounted, the operation is run with the
//! power cut armed at that op, and the device is rebooted (mounted again) and checked:
//!
//! * mount succeeds (I6); `next_offset` is the before-op or the after-op value (I3);
//! * `first_offset` never moves below the model's, and never beyond what the fault-free run
//!   of the operation dropped (a truncation may also reclaim the head as the policy allows);
//!   under `Reject` it is the before-op or the after-op value, or reclaimed up to the smallest
//!   recovered cursor (I2; see [`TOLERATE_EARLY_RECLAIM`] for the last resort it tolerates);
//! * every record from `first_offset` to `next_offset` reads back byte-identical, by `read`
//!   and by `iter` (I1, I4, I5); offsets below/above the range give the right errors;
//! * every consumer cursor is its before-op or after-op value (I8), consistently with a
//!   truncation in flight;
//! * no storage rule is broken (write-once, alignment: any `StorageError` other than
//!   `PowerLoss` is a violation), no panic (each crash point runs under `catch_unwind`).
//!
//! Then the workload continues from the recovered state (an append that must succeed and read
//! back — I6 —, then a few generated operations) with a *second* cut armed a few mutating ops
//! ahead, armed before the recovery mount so that recovery's own writes are covered too; after
//! that cut the device is rebooted and checked again (and must accept an append again).
//!
//! The fault-free path is checked too: after every op the log equals the model exactly, and
//! for every crash-tested op a fresh mount of the pre-op image must hold the same state and
//! give the same result for the op as the continuously running log.
//!
//! Every crash point is deterministic: it is named by the job seed, geometry, policy, op index,
//! mutating-op index and cut mode, and each run seeds the simulator's torn-write PRNG from
//! those.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use tidelog::format::frame::batch_body_len;
use tidelog::{Config, Cut, Error, FullPolicy, Log, PowerCut, SimFlash, Snapshot, StorageError};

/// The log type under test: 4 consumer cursors, over a borrowed simulator (so the device
/// survives a failed mount and can be power-cycled and mounted again).
pub type TestLog<'a> = Log<&'a mut SimFlash, 4>;

/// Every cut mode, in the order crash points are enumerated.
pub const CUTS: [Cut; 4] = [Cut::Before, Cut::After, Cut::TornPrefix, Cut::TornBits];

/// Consumer names used by the workloads (the last one has the maximal 32 bytes).
pub const NAMES: [&str; 3] = ["a", "uploader", "c0123456789012345678901234567890"];

/// Write sizes of the matrix.
pub const WRITE_SIZES: [usize; 5] = [1, 4, 8, 32, 256];
/// Erase sizes of the matrix.
pub const ERASE_SIZES: [usize; 2] = [256, 4096];
/// Policies of the matrix.
pub const POLICIES: [FullPolicy; 2] = [FullPolicy::Reject, FullPolicy::OverwriteOldest];

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/// splitmix64.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below(hi - lo + 1)
        }
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < per_mille as u64
    }
}

/// Mixes two values into a seed.
pub fn mix(a: u64, b: u64) -> u64 {
    Rng::new(a ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93)).next_u64()
}

// ---------------------------------------------------------------------------------------------
// Geometry and jobs

/// The flash geometry and log layout of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Program unit.
    pub write_size: usize,
    /// Erase sector.
    pub erase_size: usize,
    /// Sectors per segment.
    pub segment_sectors: u32,
    /// Segments in the ring.
    pub segments: u32,
    /// Unused sectors after the last segment.
    pub spare_sectors: u32,
    /// Index interval in bytes.
    pub index_interval: u32,
}

impl Geometry {
    /// Device capacity in bytes.
    pub fn capacity(&self) -> usize {
        (self.segment_sectors * self.segments + self.spare_sectors) as usize * self.erase_size
    }

    /// The configuration `format` is called with.
    pub fn config(&self, policy: FullPolicy) -> Config {
        Config::new()
            .segment_sectors(self.segment_sectors)
            .index_interval(self.index_interval)
            .full_policy(policy)
    }
}

impl fmt::Display for Geometry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ws={} es={} seg={}x{} segs={}{} interval={}",
            self.write_size,
            self.erase_size,
            self.segment_sectors,
            self.erase_size,
            self.segments,
            if self.spare_sectors > 0 { "+spare" } else { "" },
            self.index_interval
        )
    }
}

/// One workload: a seed and a cell of the write size × erase size × policy matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// Seed of everything random in the job.
    pub seed: u64,
    /// Program unit.
    pub write_size: usize,
    /// Erase sector.
    pub erase_size: usize,
    /// Full policy.
    pub policy: FullPolicy,
}

impl Job {
    /// Cell `combo` (modulo [`matrix_len`]) of the matrix, with `seed`.
    pub fn from_matrix(combo: usize, seed: u64) -> Job {
        let combo = combo % matrix_len();
        let policy = POLICIES[combo % POLICIES.len()];
        let rest = combo / POLICIES.len();
        let write_size = WRITE_SIZES[rest % WRITE_SIZES.len()];
        let erase_size = ERASE_SIZES[rest / WRITE_SIZES.len()];
        Job {
            seed,
            write_size,
            erase_size,
            policy,
        }
    }

    /// The matrix cell of this job (inverse of [`Job::from_matrix`]); `--job SEED:COMBO`
    /// replays it in the example.
    pub fn combo(&self) -> usize {
        let ws = WRITE_SIZES.iter().position(|&w| w == self.write_size);
        let es = ERASE_SIZES.iter().position(|&e| e == self.erase_size);
        let pol = POLICIES.iter().position(|&p| p == self.policy);
        match (ws, es, pol) {
            (Some(ws), Some(es), Some(pol)) => (es * WRITE_SIZES.len() + ws) * POLICIES.len() + pol,
            _ => usize::MAX,
        }
    }

    /// The geometry: fixed per (write size, erase size), with the segment count, a spare
    /// sector and the index interval varied by the seed. Every geometry here formats (the
    /// segment holds the largest header of a 4-consumer log, an index area and a frame).
    pub fn geometry(&self) -> Geometry {
        let mut r = Rng::new(mix(self.seed, 0x6765_6f6d));
        let ws = self.write_size;
        let (segment_sectors, index_interval, segments) = if self.erase_size <= 256 {
            // 256 B sectors: 1 KiB segments (2 KiB with 256 B program units).
            let sectors = if ws >= 256 { 8 } else { 4 };
            let interval = match ws {
                256 => 512,
                32 => 128,
                _ if r.chance(500) => 64,
                _ => 128,
            };
            (sectors, interval, 4 + r.below(5) as u32)
        } else {
            let interval = match ws {
                256 => 1024,
                _ if r.chance(500) => 128,
                _ => 256,
            };
            (1, interval, 4 + r.below(3) as u32)
        };
        Geometry {
            write_size: ws,
            erase_size: self.erase_size,
            segment_sectors,
            segments,
            spare_sectors: r.chance(250) as u32,
            index_interval,
        }
    }
}

/// Number of cells in the matrix.
pub fn matrix_len() -> usize {
    WRITE_SIZES.len() * ERASE_SIZES.len() * POLICIES.len()
}

/// How much a job does.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// The workload runs until it has appended this many times the capacity (in frame bytes)…
    pub wraps: u32,
    /// … and at least this many ops…
    pub min_ops: usize,
    /// … but at most this many ops.
    pub max_ops: usize,
    /// Per mille of the workload's ops whose crash points are checked (1000 = exhaustive).
    pub crash_per_mille: u32,
    /// Continue after each recovery with a second cut armed.
    pub double_fault: bool,
    /// Violation messages kept per job (all are counted).
    pub max_messages: usize,
}

impl Settings {
    /// The long, exhaustive variant.
    pub const fn exhaustive() -> Self {
        Settings {
            wraps: 3,
            min_ops: 60,
            max_ops: 600,
            crash_per_mille: 1000,
            double_fault: true,
            max_messages: 20,
        }
    }

    /// The fast variant: shorter workloads, a sample of the ops crash-tested.
    pub const fn fast() -> Self {
        Settings {
            wraps: 2,
            min_ops: 40,
            max_ops: 300,
            crash_per_mille: 200,
            double_fault: true,
            max_messages: 20,
        }
    }
}

/// What a job found.
#[derive(Clone, Debug, Default)]
pub struct JobReport {
    /// Crash points checked (one per op × mutating op × cut mode).
    pub points: u64,
    /// Second cuts that fired (during recovery or the continued workload) and were checked.
    pub double_points: u64,
    /// Violations found (each crash point counts at most once).
    pub violations: u64,
    /// The first violation messages.
    pub messages: Vec<String>,
    /// Workload ops run.
    pub ops: usize,
    /// Times a workload op was refused with `Error::Full`.
    pub fulls: u64,
    /// Frame bytes appended divided by the capacity (how often the ring was wrapped).
    pub wraps: f64,
    /// Crash points skipped on request.
    pub skipped: u64,
    /// Second cuts that hit recovery's own writes (mount erasing dead segments).
    pub recovery_cuts: u64,
    /// Reboots that found the head reclaimed under the new state of a trim, commit or rewind
    /// in flight that did not survive (`Reject`; tolerated while [`TOLERATE_EARLY_RECLAIM`] is
    /// set, a violation otherwise).
    pub early_reclaims: u64,
}

impl JobReport {
    /// All crash points: primary plus double-fault ones.
    pub fn total_points(&self) -> u64 {
        self.points + self.double_points
    }
}

// ---------------------------------------------------------------------------------------------
// Records, ops and the model

/// A record: its bytes are derived from `key` (see [`fill`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rec {
    /// Content seed (also picks the pattern: all `0xFF`, all `0x00` or random).
    pub key: u64,
    /// Length in bytes.
    pub len: u32,
}

/// The bytes of record `r`, into `out`.
pub fn fill(r: Rec, out: &mut Vec<u8>) {
    out.clear();
    let len = r.len as usize;
    match r.key % 16 {
        0 => out.resize(len, 0xFF),
        1 => out.resize(len, 0x00),
        _ => {
            let mut g = Rng::new(r.key);
            while out.len() < len {
                let w = g.next_u64().to_le_bytes();
                let n = (len - out.len()).min(8);
                out.extend_from_slice(&w[..n]);
            }
        }
    }
}

/// One workload operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `append`.
    Append(Rec),
    /// `append_batch`.
    Batch(Vec<Rec>),
    /// `commit(NAMES[i], offset)`.
    Commit(usize, u64),
    /// `rewind(NAMES[i], offset)`.
    Rewind(usize, u64),
    /// `trim_front(offset)`.
    Trim(u64),
    /// `truncate_back(len)`.
    Truncate(u64),
    /// A clean unmount and mount.
    Remount,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Append(r) => write!(f, "append(len {}, key {:#x})", r.len, r.key),
            Op::Batch(rs) => write!(
                f,
                "append_batch({} records, {} bytes)",
                rs.len(),
                rs.iter().map(|r| r.len as u64).sum::<u64>()
            ),
            Op::Commit(c, o) => write!(f, "commit({:?}, {o})", NAMES[*c]),
            Op::Rewind(c, o) => write!(f, "rewind({:?}, {o})", NAMES[*c]),
            Op::Trim(o) => write!(f, "trim_front({o})"),
            Op::Truncate(l) => write!(f, "truncate_back({l})"),
            Op::Remount => write!(f, "remount"),
        }
    }
}

/// What the log must hold: records `first..next` (by offset) and the committed cursors.
#[derive(Clone, Debug)]
pub struct Model {
    /// First readable offset.
    pub first: u64,
    /// Next offset.
    pub next: u64,
    /// Offset of `recs[0]`.
    base: u64,
    recs: Vec<Rec>,
    /// Committed offset per consumer of [`NAMES`].
    pub cursors: [Option<u64>; 3],
}

impl Model {
    /// An empty log.
    pub fn new() -> Self {
        Model {
            first: 0,
            next: 0,
            base: 0,
            recs: Vec::new(),
            cursors: [None; 3],
        }
    }

    /// The record at `off` (`base <= off < next`).
    pub fn rec(&self, off: u64) -> Rec {
        self.recs[(off - self.base) as usize]
    }

    /// Smallest committed cursor.
    pub fn min_cursor(&self) -> Option<u64> {
        self.cursors.iter().flatten().copied().min()
    }

    /// The state after `op` succeeded (with the first offset only moved by a trim; a
    /// rotation may reclaim more, which the caller takes from the log).
    pub fn apply(&self, op: &Op) -> Model {
        let mut m = self.clone();
        match op {
            Op::Append(r) => {
                m.recs.push(*r);
                m.next += 1;
            }
            Op::Batch(rs) => {
                m.recs.extend_from_slice(rs);
                m.next += rs.len() as u64;
            }
            Op::Commit(c, o) | Op::Rewind(c, o) => m.cursors[*c] = Some(*o),
            Op::Trim(o) => m.first = m.first.max(*o),
            Op::Truncate(len) => {
                if *len < m.next {
                    m.recs.truncate((*len - m.base) as usize);
                    m.next = *len;
                    for c in m.cursors.iter_mut().flatten() {
                        *c = (*c).min(*len);
                    }
                }
            }
            Op::Remount => {}
        }
        m
    }

    /// Drops records far below the first offset (keeps clones cheap).
    fn compact(&mut self) {
        let first = self.first.min(self.next);
        if first - self.base > 256 {
            self.recs.drain(..(first - self.base) as usize);
            self.base = first;
        }
    }

    fn same_state(&self, o: &Model) -> bool {
        self.first == o.first && self.next == o.next && self.cursors == o.cursors
    }
}

impl Default for Model {
    fn default() -> Self {
        Model::new()
    }
}

/// The last resort of DESIGN.md §D3, tolerated and counted: under `Reject` with no free segment,
/// a state change that frees the head is made durable in the active segment's reserve before the
/// head is erased (`Log::resume_in_reserve`); when both places of the reserve hold frames torn by
/// earlier cuts (or the image predates the reserve), it reclaims the head under its own new
/// state rather than leaving the log stuck, and a cut before the new header leaves it partly
/// applied: the first offset lands between its old and new value, or a consumer whose commit was
/// in flight finds its durable position below it. While this is `true`, such a reboot after a
/// state op in flight under `Reject` — with the first offset still justified by the op's *new*
/// state — is counted in [`JobReport::early_reclaims`] instead of as a violation; everything
/// else about the recovered log is still checked. It takes three cuts in a row during state
/// changes on a ring without a free segment: the sweep (two cuts per crash point) has not met
/// it since the reserve exists (0 in 455,160 crash points); the `ops_powercut` fuzzer, which
/// cuts op after op, has.
pub const TOLERATE_EARLY_RECLAIM: bool = true;

/// Whether `op` may legitimately fail with `Error::Full` under `policy` (also the fuzz
/// harness `ops_powercut`'s rule).
pub fn full_allowed(policy: FullPolicy, op: &Op) -> bool {
    match policy {
        FullPolicy::Reject => !matches!(op, Op::Remount),
        // Overwrite always finds room for a frame; a truncation needs a segment other than
        // the one it keeps.
        FullPolicy::OverwriteOldest => matches!(op, Op::Truncate(_)),
    }
}

/// Largest first offset the log may report after `op` moved the model from `b` to `a`
/// without a fault-free reference: a rotation may reclaim the oldest segment under
/// `OverwriteOldest` (anything up to the next offset), and under `Reject` when every consumer
/// has committed past it (up to the smallest cursor). Also used by the fuzz harness.
pub fn loose_first_hi(policy: FullPolicy, b: &Model, a: &Model) -> u64 {
    let nominal = a.first.max(b.first);
    let hi = match policy {
        FullPolicy::OverwriteOldest => a.next.max(b.next),
        FullPolicy::Reject => {
            let cursors = [b.min_cursor(), a.min_cursor()];
            cursors.iter().flatten().fold(nominal, |h, &c| h.max(c))
        }
    };
    hi.min(a.next.max(b.next)).max(nominal)
}

/// Generates workload ops from the model.
pub struct Gen {
    rng: Rng,
    salt: u64,
    keys: u64,
    max_rec: u32,
    write_size: u32,
    consumers: usize,
    allow_remount: bool,
    /// `Full` answers since the last successful append: the next op is then a trim (of half
    /// the log after the first, of everything after more).
    pub full_streak: u32,
    trim_due: bool,
}

impl Gen {
    /// A generator for a log with records up to `max_rec` bytes.
    pub fn new(
        seed: u64,
        max_rec: u32,
        write_size: u32,
        consumers: usize,
        allow_remount: bool,
    ) -> Self {
        Gen {
            rng: Rng::new(seed),
            salt: mix(seed, 0x72_6563),
            keys: 0,
            max_rec,
            write_size,
            consumers: consumers.clamp(1, NAMES.len()),
            allow_remount,
            full_streak: 0,
            trim_due: false,
        }
    }

    fn key(&mut self) -> u64 {
        self.keys += 1;
        mix(self.salt, self.keys)
    }

    /// A record of a random size class: empty, small, ~64 B, medium, near the maximum.
    pub fn rec(&mut self) -> Rec {
        let max = self.max_rec as u64;
        let len = match self.rng.below(100) {
            0..=5 => 0,
            6..=35 => self.rng.range(1, 16),
            36..=65 => self.rng.range(48, 80),
            66..=87 => self.rng.range(100, 400),
            _ => self.rng.range(max * 3 / 4, max),
        }
        .min(max);
        Rec {
            key: self.key(),
            len: len as u32,
        }
    }

    /// 2..=20 records whose batch body fits in a frame.
    pub fn batch(&mut self) -> Vec<Rec> {
        let n = self.rng.range(2, 20) as usize;
        let mut v: Vec<Rec> = (0..n)
            .map(|_| {
                let len = if self.rng.chance(100) {
                    self.rng.range(0, 300)
                } else {
                    self.rng.range(0, 24)
                };
                Rec {
                    key: self.key(),
                    len: len as u32,
                }
            })
            .collect();
        let body = |v: &[Rec]| batch_body_len(v.len(), v.iter().map(|r| r.len as usize));
        while v.len() > 2 && body(&v).is_none_or(|b| b > self.max_rec as usize) {
            v.pop();
        }
        while body(&v).is_none_or(|b| b > self.max_rec as usize) {
            let big = v.iter_mut().max_by_key(|r| r.len).expect("non-empty");
            big.len /= 2;
        }
        v
    }

    /// Records the answer to an op: `Full` makes the next op a trim; a successful append ends
    /// the streak.
    pub fn on_result(&mut self, op: &Op, full: bool) {
        if full {
            self.full_streak += 1;
            self.trim_due = true;
        } else if matches!(op, Op::Append(_) | Op::Batch(_)) {
            self.full_streak = 0;
        }
    }

    /// Frame bytes `op` appends (0 for non-appends).
    pub fn frame_bytes(&self, op: &Op) -> u64 {
        let body = match op {
            Op::Append(r) => r.len as usize,
            Op::Batch(rs) => {
                batch_body_len(rs.len(), rs.iter().map(|r| r.len as usize)).expect("batch fits")
            }
            _ => return 0,
        };
        let ws = self.write_size as usize;
        ((8 + body).div_ceil(ws) * ws) as u64
    }

    /// The next op for a log in state `m`.
    pub fn op(&mut self, m: &Model) -> Op {
        if self.trim_due {
            self.trim_due = false;
            return if self.full_streak <= 1 {
                Op::Trim(m.first + (m.next - m.first).div_ceil(2))
            } else {
                Op::Trim(m.next)
            };
        }
        let (first, next) = (m.first, m.next);
        match self.rng.below(100) {
            0..=51 => Op::Append(self.rec()),
            52..=65 => Op::Batch(self.batch()),
            66..=75 => {
                let c = self.rng.below(self.consumers as u64) as usize;
                let lo = m.cursors[c].unwrap_or(first);
                let o = if self.rng.chance(400) {
                    next
                } else {
                    self.rng.range(lo, next)
                };
                Op::Commit(c, o)
            }
            76..=79 => {
                let c = self.rng.below(self.consumers as u64) as usize;
                Op::Rewind(c, self.rng.range(first, next))
            }
            80..=86 => {
                let o = match self.rng.below(10) {
                    0..=4 => first + self.rng.range(1, 6),
                    5..=7 => self.rng.range(first, next),
                    8 => m.min_cursor().unwrap_or(next).max(first),
                    _ => next,
                };
                Op::Trim(o.min(next))
            }
            87..=94 => {
                let len = match self.rng.below(20) {
                    0..=9 => next.saturating_sub(self.rng.range(1, 3)),
                    10..=16 => self.rng.range(first, next),
                    _ => first,
                };
                Op::Truncate(len.clamp(first, next))
            }
            _ if self.allow_remount => Op::Remount,
            _ => Op::Append(self.rec()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running ops and checking the log

/// Runs `op` (not `Remount`) on the log; returns the offset an append/batch got.
pub fn run_op(log: &mut TestLog<'_>, op: &Op) -> Result<Option<u64>, Error> {
    let mut buf = Vec::new();
    match op {
        Op::Append(r) => {
            fill(*r, &mut buf);
            log.append(&buf).map(Some)
        }
        Op::Batch(rs) => {
            let bytes: Vec<Vec<u8>> = rs
                .iter()
                .map(|r| {
                    let mut b = Vec::new();
                    fill(*r, &mut b);
                    b
                })
                .collect();
            let slices: Vec<&[u8]> = bytes.iter().map(|b| b.as_slice()).collect();
            log.append_batch(&slices).map(Some)
        }
        Op::Commit(c, o) => log.commit(NAMES[*c], *o).map(|_| None),
        Op::Rewind(c, o) => log.rewind(NAMES[*c], *o).map(|_| None),
        Op::Trim(o) => log.trim_front(*o).map(|_| None),
        Op::Truncate(l) => log.truncate_back(*l).map(|_| None),
        Op::Remount => Ok(None),
    }
}

fn is_power_loss(e: &Error) -> bool {
    matches!(e, Error::Storage(StorageError::PowerLoss))
}

/// Describes an error that must never happen (a storage rule broken, corruption reported).
fn rule_error(e: &Error) -> Option<String> {
    match e {
        Error::Storage(StorageError::WriteTwice) => Some(
            "the log programmed a write unit twice (StorageError::WriteTwice: write-once rule broken)"
                .into(),
        ),
        Error::Storage(StorageError::PowerLoss) => None,
        Error::Storage(se) => Some(format!("storage rejected an op: {se:?}")),
        Error::Corrupt { addr } => Some(format!("Error::Corrupt at {addr:#x}")),
        _ => None,
    }
}

fn cursors_of(log: &TestLog<'_>) -> Result<[Option<u64>; 3], String> {
    let mut c = [None; 3];
    for (i, name) in NAMES.iter().enumerate() {
        c[i] = log.committed(name);
    }
    let known = log.consumers().filter(|(n, _)| NAMES.contains(n)).count();
    let total = log.consumers().count();
    if total != known {
        return Err(format!(
            "unknown consumer cursors appeared: {:?}",
            log.consumers().collect::<Vec<_>>()
        ));
    }
    Ok(c)
}

fn check_bytes(off: u64, how: &str, got: &[u8], want: &[u8]) -> Result<(), String> {
    if got == want {
        return Ok(());
    }
    let at = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    Err(format!(
        "{how} offset {off}: {} bytes differ from the {} bytes appended (first difference at byte {at}) (I1/I4)",
        got.len(),
        want.len()
    ))
}

/// Checks that records `m.first..m.next` read back exactly, by `read` and by `iter`, and
/// that the range bounds give the documented errors. The log's first/next must already
/// equal the model's.
pub fn verify_records(log: &mut TestLog<'_>, m: &Model) -> Result<(), String> {
    let max = log.layout().max_record_size as usize;
    let mut buf = vec![0u8; max.max(1)];
    let mut want = Vec::with_capacity(max);
    let (first, next) = (m.first, m.next);
    for off in first..next {
        let n = log.read(off, &mut buf).map_err(|e| {
            format!("read({off}) failed: {e:?} (readable range {first}..{next}) (I2)")
        })?;
        fill(m.rec(off), &mut want);
        check_bytes(off, "read", &buf[..n], &want)?;
    }
    {
        let mut it = log
            .iter(first)
            .map_err(|e| format!("iter({first}) failed: {e:?}"))?;
        let mut expect = first;
        loop {
            match it.next_into(&mut buf) {
                Ok(None) => break,
                Ok(Some((off, n))) => {
                    if off != expect || off >= next {
                        return Err(format!(
                            "iter({first}) yielded offset {off}, expected {expect} (next {next}) (I1)"
                        ));
                    }
                    fill(m.rec(off), &mut want);
                    check_bytes(off, "iter", &buf[..n], &want)?;
                    expect += 1;
                }
                Err(e) => {
                    return Err(format!(
                        "iter({first}) failed at offset {expect}: {e:?} (I1/I4)"
                    ))
                }
            }
        }
        if expect != next {
            return Err(format!(
                "iter({first}) stopped at {expect}, before next offset {next} (I1)"
            ));
        }
    }
    if first > 0 {
        let r = log.read(first - 1, &mut buf);
        let want = Err(Error::Overwritten {
            first_available: first,
        });
        if r != want {
            return Err(format!("read({}) = {r:?}, expected {want:?}", first - 1));
        }
    }
    let r = log.read(next, &mut buf);
    let want_oor = Err(Error::OutOfRange { first, next });
    if r != want_oor {
        return Err(format!("read({next}) = {r:?}, expected {want_oor:?}"));
    }
    let s = log.stats();
    if s.first_offset != first || s.next_offset != next || s.segments_used > s.segments_total {
        return Err(format!(
            "inconsistent stats {s:?} (first {first}, next {next})"
        ));
    }
    Ok(())
}

/// Checks that the log equals the model exactly.
pub fn verify_exact(log: &mut TestLog<'_>, m: &Model) -> Result<(), String> {
    let next = log.next_offset();
    let first = log.first_offset();
    if (first, next) != (m.first, m.next) {
        return Err(format!(
            "log holds offsets {first}..{next}, the model {}..{}",
            m.first, m.next
        ));
    }
    let c = cursors_of(log)?;
    if c != m.cursors {
        return Err(format!(
            "cursors {c:?} differ from the committed ones {:?} (I8)",
            m.cursors
        ));
    }
    verify_records(log, m)
}

/// What a reboot after a cut during `op` may find.
#[derive(Clone, Debug)]
pub struct Expect {
    /// The operation in flight.
    pub op: Op,
    /// The model before it.
    pub before: Model,
    /// The model after it (for the first offset: what it would have reported).
    pub after: Model,
    /// Largest first offset allowed.
    pub first_hi: u64,
    /// The op returned `Ok`: its effect must be there (I2).
    pub must_after: bool,
    /// `Reject`: the first offset must be the before-op or the after-op value, or at most the
    /// smallest cursor (segments every consumer is done with may be reclaimed for room).
    pub strict_first: bool,
}

/// What a reboot found, when it passed [`check_recovered`].
pub struct Recovered {
    /// The model of what the log holds.
    pub model: Model,
    /// The head was reclaimed under the new state of the op in flight, which did not survive
    /// (tolerated, see [`TOLERATE_EARLY_RECLAIM`]).
    pub early_reclaim: bool,
}

/// Checks a freshly recovered log against `e` and returns the model of what it holds.
pub fn check_recovered(log: &mut TestLog<'_>, e: &Expect) -> Result<Recovered, String> {
    let (b, a) = (&e.before, &e.after);
    let next = log.next_offset();
    let side = if next == a.next {
        a
    } else if next == b.next {
        b
    } else {
        return Err(format!(
            "next_offset {next} is neither the before-op value {} nor the after-op value {} (I2/I3)",
            b.next, a.next
        ));
    };
    if e.must_after && next != a.next {
        return Err(format!(
            "the op returned Ok but after reboot next_offset is {next}, not {} (I2)",
            a.next
        ));
    }
    let first = log.first_offset();
    if first < b.first {
        return Err(format!(
            "first_offset {first} is below the model's first offset {} before the op: dropped records came back (I5)",
            b.first
        ));
    }
    let hi = e.first_hi.max(b.first).min(next);
    if first > hi {
        return Err(format!(
            "first_offset {first} is beyond {hi}: acknowledged records {hi}..{first} were lost (I2)"
        ));
    }
    if e.must_after && first < a.first.min(next) {
        return Err(format!(
            "the op returned Ok but first_offset is {first}, below its effect {} (I2)",
            a.first
        ));
    }
    let cursors = cursors_of(log)?;
    for (i, &got) in cursors.iter().enumerate() {
        let ok = if e.must_after {
            got == a.cursors[i]
        } else if matches!(e.op, Op::Truncate(_)) && a.next != b.next {
            // The truncation (cursor clamping included) is one header: all or nothing.
            got == side.cursors[i]
        } else {
            got == b.cursors[i] || got == a.cursors[i]
        };
        if !ok {
            return Err(format!(
                "cursor {:?} is {got:?}; before the op it was {:?}, after {:?} (next {next}) (I8)",
                NAMES[i], b.cursors[i], a.cursors[i]
            ));
        }
    }
    // Under `Reject` a segment is only reclaimed when it is trimmed or every consumer has
    // committed past it — by the state that is durable after the reboot: the first offset may
    // pass the before-op value only up to the smallest recovered cursor or a trim point in
    // flight (a trim that coincides with a segment boundary looks complete).
    let mut early_reclaim = false;
    if e.strict_first && first != b.first {
        let min_of = |c: &[Option<u64>; 3]| c.iter().flatten().copied().min();
        let trim = match e.op {
            Op::Trim(o) => Some(o),
            _ => None,
        };
        let durable_hi = [Some(b.first), min_of(&cursors), trim]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(b.first);
        // A first offset between the old one and the trim point is a trim partly applied,
        // unless the recovered cursors justify it (every consumer is past the reclaimed
        // segments, which may go with or without the trim).
        let by_cursors = min_of(&cursors).is_some_and(|m| first <= m);
        let partial_trim = trim.is_some_and(|o| first != o) && !by_cursors;
        if first > durable_hi || partial_trim {
            // Only the op's new state (trim point, cursors) allows it, and it did not survive.
            let new_state_hi = [Some(a.first), min_of(&a.cursors), trim]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(a.first);
            let state_op = matches!(e.op, Op::Trim(_) | Op::Commit(..) | Op::Rewind(..));
            if TOLERATE_EARLY_RECLAIM && state_op && first <= new_state_hi {
                early_reclaim = true;
            } else {
                return Err(format!(
                    "first_offset {first} is beyond the before-op value {} and not justified \
                     by the recovered cursors {cursors:?}: records {}..{first} were dropped \
                     (Reject, I2)",
                    b.first, b.first
                ));
            }
        }
    }
    let mut m = side.clone();
    m.first = first;
    m.cursors = cursors;
    verify_records(log, &m)?;
    Ok(Recovered {
        model: m,
        early_reclaim,
    })
}

// ---------------------------------------------------------------------------------------------
// Panics

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static PANIC_MSG: RefCell<Option<String>> = const { RefCell::new(None) };
    static CONTEXT: RefCell<String> = const { RefCell::new(String::new()) };
    /// Crash points (primary and double-fault) checked so far by the job on this thread.
    static POINTS_DONE: Cell<u64> = const { Cell::new(0) };
}

/// Marker printed to stderr by the panic hook when the build aborts on panic (the example's
/// release profile): `POWERCUT-PANIC <point> <points done> <context> :: <message>`, where
/// `<point>` is the crash point's number in its job (`-` outside crash points). The
/// supervisor in the example uses it to report the panic and rerun the job without that
/// crash point.
pub const PANIC_MARKER: &str = "POWERCUT-PANIC";

/// Installs (once) a panic hook that, inside the harness, records the message instead of
/// printing it (and, when panics abort, prints a [`PANIC_MARKER`] line first).
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(|q| q.get()) {
                let msg = info.to_string().replace('\n', " ");
                if cfg!(panic = "abort") {
                    let ctx = CONTEXT.with(|c| c.borrow().clone());
                    let (point, ctx) = ctx.split_once(' ').unwrap_or(("-", ctx.as_str()));
                    let done = POINTS_DONE.with(|d| d.get());
                    eprintln!("{PANIC_MARKER} {point} {done} {ctx} :: {msg}");
                }
                PANIC_MSG.with(|m| *m.borrow_mut() = Some(msg));
            } else {
                default(info);
            }
        }));
    });
}

/// Runs `f`, turning a panic into `Err(message)`. `context` (which starts with the crash
/// point number, or `-`) is what an aborting build prints.
fn guarded<T>(context: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    let outer = CONTEXT.with(|c| c.replace(context.to_string()));
    let quiet = QUIET.with(|q| q.replace(true));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(quiet));
    CONTEXT.with(|c| *c.borrow_mut() = outer);
    r.map_err(|_| {
        PANIC_MSG
            .with(|m| m.borrow_mut().take())
            .unwrap_or_else(|| "panic".into())
    })
}

// ---------------------------------------------------------------------------------------------
// The job runner

/// Runs one job; crash points whose number is in `skip` are not run (used after a panic in an
/// aborting build).
pub fn run_job(job: &Job, settings: &Settings, skip: &[u64]) -> JobReport {
    install_panic_hook();
    let geo = job.geometry();
    let mut r = Runner {
        job: *job,
        geo,
        mount_cfg: Config::new().full_policy(job.policy),
        settings: *settings,
        skip,
        report: JobReport::default(),
        point_seq: 0,
        max_rec: 0,
        consumers: 1 + (mix(job.seed, 0x636f) % 3) as usize,
        prefix: format!(
            "job {:#x}:{} {} {:?}",
            job.seed,
            job.combo(),
            geo,
            job.policy
        ),
    };
    POINTS_DONE.with(|d| d.set(0));
    let ctx = format!("- {} (workload)", r.prefix);
    match guarded(&ctx, || r.run()) {
        Ok(()) => {}
        Err(msg) => {
            let m = format!(
                "{}: panic in the workload (fault-free path): {msg}",
                r.prefix
            );
            r.violation(m);
        }
    }
    r.report
}

/// One crash point: op `i` of the workload, cut at its `j`-th mutating op in mode `cut`.
struct Point<'p> {
    i: usize,
    op: &'p Op,
    snap: &'p Snapshot,
    before: &'p Model,
    after: &'p Model,
    j: u64,
    k: u64,
    cut: Cut,
}

/// What the fault-free run of an op from a fresh mount of its pre-op snapshot did.
struct Reference {
    result: Result<Option<u64>, Error>,
    ops: u64,
    after: Model,
}

enum Continued {
    Done(Model),
    Crashed(Box<Expect>),
}

struct Runner<'s> {
    job: Job,
    geo: Geometry,
    mount_cfg: Config,
    settings: Settings,
    skip: &'s [u64],
    report: JobReport,
    point_seq: u64,
    max_rec: u32,
    consumers: usize,
    prefix: String,
}

impl Runner<'_> {
    fn violation(&mut self, msg: String) {
        self.report.violations += 1;
        if self.report.messages.len() < self.settings.max_messages {
            self.report.messages.push(msg);
        }
    }

    fn scratch(&self, snap: &Snapshot, seed: u64) -> SimFlash {
        let g = &self.geo;
        let mut sim = SimFlash::new(g.write_size, g.erase_size, g.capacity())
            .expect("valid geometry")
            .with_seed(seed);
        sim.restore(snap);
        sim
    }

    /// The fault-free workload, with the crash points of each op.
    fn run(&mut self) {
        let geo = self.geo;
        let mut sim = SimFlash::new(geo.write_size, geo.erase_size, geo.capacity())
            .expect("valid geometry")
            .with_seed(mix(self.job.seed, 1));
        let log = match TestLog::format(&mut sim, geo.config(self.job.policy)) {
            Ok(l) => l,
            Err(e) => {
                let m = format!("{}: Log::format failed: {e:?}", self.prefix);
                self.violation(m);
                return;
            }
        };
        self.max_rec = log.layout().max_record_size;
        let mut log = Some(log);
        let mut gen = Gen::new(
            mix(self.job.seed, 2),
            self.max_rec,
            geo.write_size as u32,
            self.consumers,
            true,
        );
        let mut pick = Rng::new(mix(self.job.seed, 3));
        let mut model = Model::new();
        let target = self.settings.wraps as u64 * geo.capacity() as u64;
        let mut bytes = 0u64;
        for i in 0..self.settings.max_ops {
            if bytes >= target && i >= self.settings.min_ops {
                break;
            }
            self.report.ops = i + 1;
            let op = gen.op(&model);
            let cur = log.as_mut().expect("log");
            let snap = cur.storage().snapshot();
            let crash = op != Op::Remount && pick.chance(self.settings.crash_per_mille);
            let reference = if crash {
                match self.reference(&op, &snap, &model) {
                    Ok(r) => Some(r),
                    Err(msg) => {
                        let m = format!("{}: op#{i} {op}: {msg}", self.prefix);
                        self.violation(m);
                        None
                    }
                }
            } else {
                None
            };
            // The op on the continuously running log.
            let before = model.clone();
            let result = if op == Op::Remount {
                let s = log.take().expect("log").into_storage();
                match TestLog::mount(s, self.mount_cfg) {
                    Ok(l) => {
                        log = Some(l);
                        Ok(None)
                    }
                    Err(e) => {
                        let m = format!("{}: op#{i} clean remount failed: {e:?}", self.prefix);
                        self.violation(m);
                        return;
                    }
                }
            } else {
                run_op(log.as_mut().expect("log"), &op)
            };
            let cur = log.as_mut().expect("log");
            let outcome = self.apply_result(cur, &op, &before, &result, &mut gen, true);
            match outcome {
                Ok(m) => model = m,
                Err(msg) => {
                    let m = format!("{}: op#{i} {op} (no fault): {msg}", self.prefix);
                    self.violation(m);
                    return;
                }
            }
            if let Err(msg) = verify_exact(cur, &model) {
                let m = format!("{}: op#{i} {op} (no fault): {msg}", self.prefix);
                self.violation(m);
                return;
            }
            bytes += if result.is_ok() {
                gen.frame_bytes(&op)
            } else {
                0
            };
            if let Some(r) = reference {
                let same_result = match (&r.result, &result) {
                    (Ok(x), Ok(y)) => x == y,
                    (Err(x), Err(y)) => x == y,
                    _ => false,
                };
                if !same_result || !r.after.same_state(&model) {
                    let m = format!(
                        "{}: op#{i} {op}: after a clean remount the op gives {:?} (first {}, next {}, cursors {:?}); without the remount {:?} (first {}, next {}, cursors {:?})",
                        self.prefix, r.result, r.after.first, r.after.next, r.after.cursors,
                        result, model.first, model.next, model.cursors
                    );
                    self.violation(m);
                }
                for j in 0..r.ops {
                    for cut in CUTS {
                        let p = Point {
                            i,
                            op: &op,
                            snap: &snap,
                            before: &before,
                            after: &r.after,
                            j,
                            k: r.ops,
                            cut,
                        };
                        self.point(&p);
                    }
                }
            }
            model.compact();
        }
        self.report.wraps = bytes as f64 / geo.capacity() as f64;
    }

    /// Turns the result of a fault-free `op` into the new model, checking it.
    fn apply_result(
        &mut self,
        log: &mut TestLog<'_>,
        op: &Op,
        before: &Model,
        result: &Result<Option<u64>, Error>,
        gen: &mut Gen,
        workload: bool,
    ) -> Result<Model, String> {
        match result {
            Ok(off) => {
                if let (Some(off), true) = (off, matches!(op, Op::Append(_) | Op::Batch(_))) {
                    if *off != before.next {
                        return Err(format!(
                            "returned offset {off}, expected {} (I5)",
                            before.next
                        ));
                    }
                }
                let mut a = before.apply(op);
                let first = log.first_offset();
                let hi = loose_first_hi(self.job.policy, before, &a);
                if first < a.first || first > hi {
                    return Err(format!(
                        "first_offset {first} outside the allowed {}..={hi}",
                        a.first
                    ));
                }
                a.first = first;
                gen.on_result(op, false);
                Ok(a)
            }
            Err(Error::Full) if full_allowed(self.job.policy, op) => {
                self.report.fulls += workload as u64;
                gen.on_result(op, true);
                if gen.full_streak > 4 {
                    return Err("the log stays full even after trimming everything".into());
                }
                Ok(before.clone())
            }
            Err(e) => Err(format!("failed with {e:?}")),
        }
    }

    /// Runs `op` fault-free from a fresh mount of `snap` and counts its mutating ops.
    fn reference(&self, op: &Op, snap: &Snapshot, before: &Model) -> Result<Reference, String> {
        let mut sim = self.scratch(snap, mix(self.job.seed, 4));
        let mut log = TestLog::mount(&mut sim, self.mount_cfg)
            .map_err(|e| format!("mounting the pre-op image failed: {e:?}"))?;
        verify_exact(&mut log, before).map_err(|m| format!("after a clean remount: {m}"))?;
        let base = log.storage().mutating_ops();
        let result = run_op(&mut log, op);
        let ops = log.storage().mutating_ops() - base;
        let after = match &result {
            Ok(_) => {
                let mut a = before.apply(op);
                a.first = log.first_offset();
                a
            }
            Err(_) => before.clone(),
        };
        Ok(Reference { result, ops, after })
    }

    /// Runs one crash point (guarded), and counts it.
    fn point(&mut self, p: &Point<'_>) {
        self.point_seq += 1;
        if self.skip.contains(&self.point_seq) {
            self.report.skipped += 1;
            return;
        }
        self.report.points += 1;
        let ctx = format!(
            "{} {}: op#{} {} cut {:?} at mutating op {}/{}",
            self.point_seq,
            self.prefix,
            p.i,
            p.op,
            p.cut,
            p.j + 1,
            p.k
        );
        let mut detail = String::new();
        let r = guarded(&ctx, || self.crash_point(p, &mut detail));
        let done = self.report.total_points();
        POINTS_DONE.with(|d| d.set(done));
        let msg = match r {
            Ok(Ok(())) => return,
            Ok(Err(m)) => m,
            Err(panic) => format!("panic: {panic}"),
        };
        // Drop the leading point number from the context in the message.
        let ctx = ctx.split_once(' ').map_or(ctx.as_str(), |(_, c)| c);
        self.violation(format!("VIOLATION {ctx}{detail}: {msg}"));
    }

    fn crash_point(&mut self, p: &Point<'_>, detail: &mut String) -> Result<(), String> {
        let cut_ix = CUTS.iter().position(|&c| c == p.cut).unwrap_or(0) as u64;
        let seed = mix(mix(self.job.seed, p.i as u64), p.j * 4 + cut_ix);
        let mut sim = self.scratch(p.snap, seed);
        let mut rng = Rng::new(mix(seed, 5));
        let claimed_ok = {
            let mut log = TestLog::mount(&mut sim, self.mount_cfg)
                .map_err(|e| format!("mounting the pre-op image failed: {e:?}"))?;
            let base = log.storage().mutating_ops();
            log.storage_mut().set_fault(Some(PowerCut {
                at_op: base + p.j,
                cut: p.cut,
            }));
            let res = run_op(&mut log, p.op);
            if log.storage().is_powered() {
                return Err(format!(
                    "the cut did not fire: the op made fewer mutating ops than its fault-free run ({res:?})"
                ));
            }
            if let Err(e) = &res {
                if let Some(why) = rule_error(e) {
                    return Err(why);
                }
                if !is_power_loss(e) {
                    return Err(format!(
                        "the op failed with {e:?} instead of a power-loss error"
                    ));
                }
            }
            res.is_ok()
        };
        sim.power_cycle();
        let second = if self.settings.double_fault {
            Some((rng.below(7), CUTS[rng.below(4) as usize]))
        } else {
            None
        };
        // The fault-free run bounds how far the first offset may move, except for a
        // truncation: it may reclaim the head for room (as the policy allows) and then reset
        // the first offset to its length.
        let first_hi = match p.op {
            Op::Truncate(_) => {
                p.after
                    .first
                    .max(loose_first_hi(self.job.policy, p.before, p.after))
            }
            _ => p.after.first,
        };
        let exp = Expect {
            op: p.op.clone(),
            before: p.before.clone(),
            after: p.after.clone(),
            first_hi,
            must_after: claimed_ok,
            strict_first: self.job.policy == FullPolicy::Reject,
        };
        self.recover_and_continue(&mut sim, exp, second, &mut rng, detail)
    }

    /// Reboots (with the second cut armed `second.0` mutating ops ahead, so recovery's own
    /// writes are covered), checks the recovered log, continues the workload; after a second
    /// cut, reboots and checks again.
    fn recover_and_continue(
        &mut self,
        sim: &mut SimFlash,
        mut exp: Expect,
        mut second: Option<(u64, Cut)>,
        rng: &mut Rng,
        detail: &mut String,
    ) -> Result<(), String> {
        loop {
            let armed = second.take();
            if let Some((r, cut)) = armed {
                sim.set_fault(Some(PowerCut {
                    at_op: sim.mutating_ops() + r,
                    cut,
                }));
            }
            let mut armed = armed.map(|(_, cut)| cut);
            let mounted = TestLog::mount(&mut *sim, self.mount_cfg);
            let mut log = match mounted {
                Ok(l) => l,
                Err(e) if armed.is_some() && is_power_loss(&e) => {
                    // The second cut hit recovery's own writes.
                    self.report.double_points += 1;
                    self.report.recovery_cuts += 1;
                    let cut = armed.unwrap_or(Cut::Before);
                    detail.push_str(&format!(" + second cut {cut:?} during recovery"));
                    armed = None;
                    sim.power_cycle();
                    TestLog::mount(&mut *sim, self.mount_cfg).map_err(|e| {
                        format!("mount failed after a cut during recovery: {e:?} (I6)")
                    })?
                }
                Err(e) => return Err(format!("mount failed after the cut: {e:?} (I6)")),
            };
            let Recovered {
                model,
                early_reclaim,
            } = check_recovered(&mut log, &exp)?;
            self.report.early_reclaims += early_reclaim as u64;
            match self.continue_workload(&mut log, model, armed, rng, detail)? {
                Continued::Done(m) => {
                    log.storage_mut().set_fault(None);
                    verify_exact(&mut log, &m)
                        .map_err(|msg| format!("after the continued workload: {msg}"))?;
                    return Ok(());
                }
                Continued::Crashed(e) => {
                    self.report.double_points += 1;
                    sim.power_cycle();
                    exp = *e;
                }
            }
        }
    }

    /// After recovery: an append that must work and read back (I6), then a few generated ops.
    /// With a cut `armed`, it may fire: the op in flight is returned for the next check.
    fn continue_workload(
        &mut self,
        log: &mut TestLog<'_>,
        mut m: Model,
        armed: Option<Cut>,
        rng: &mut Rng,
        detail: &mut String,
    ) -> Result<Continued, String> {
        let mut gen = Gen::new(
            rng.next_u64(),
            self.max_rec,
            self.geo.write_size as u32,
            self.consumers,
            false,
        );
        let mut appended = false;
        let mut extra = 2;
        for _ in 0..10 {
            let op = if !appended {
                if gen.trim_due {
                    gen.op(&m)
                } else {
                    Op::Append(gen.rec())
                }
            } else if extra > 0 {
                extra -= 1;
                gen.op(&m)
            } else {
                break;
            };
            let before = m.clone();
            let nominal = before.apply(&op);
            // While the second cut is armed, a fault-free run of the op from a fresh mount of
            // the current image bounds how far the first offset may move (as for the first cut).
            let reference = if armed.is_some() {
                let snap = log.storage().snapshot();
                let r = self
                    .reference(&op, &snap, &before)
                    .map_err(|msg| format!("after recovery, {op}: {msg}"))?;
                Some(r)
            } else {
                None
            };
            let res = run_op(log, &op);
            if armed.is_some() && !log.storage().is_powered() {
                if let Err(e) = &res {
                    if let Some(why) = rule_error(e) {
                        return Err(format!("after recovery, {op}: {why}"));
                    }
                }
                detail.push_str(&format!(
                    " + second cut {:?} during {op} after recovery",
                    armed.unwrap_or(Cut::Before)
                ));
                let loose = loose_first_hi(self.job.policy, &before, &nominal);
                let first_hi = match (&op, &reference) {
                    (Op::Truncate(_), Some(r)) => r.after.first.max(loose),
                    (_, Some(r)) => r.after.first,
                    (_, None) => loose,
                };
                return Ok(Continued::Crashed(Box::new(Expect {
                    op,
                    before,
                    after: nominal,
                    first_hi,
                    must_after: res.is_ok(),
                    strict_first: self.job.policy == FullPolicy::Reject,
                })));
            }
            if let Err(e) = &res {
                if let Some(why) = rule_error(e) {
                    return Err(format!("after recovery, {op}: {why}"));
                }
            }
            m = self
                .apply_result(log, &op, &before, &res, &mut gen, false)
                .map_err(|msg| format!("after recovery, {op}: {msg}"))?;
            if let Some(r) = &reference {
                let same = match (&r.result, &res) {
                    (Ok(x), Ok(y)) => x == y,
                    (Err(x), Err(y)) => x == y,
                    _ => false,
                };
                if !same || !r.after.same_state(&m) {
                    return Err(format!(
                        "after recovery, {op} gives {res:?} (first {}, next {}), but {:?} (first {}, next {}) after a clean remount",
                        m.first, m.next, r.result, r.after.first, r.after.next
                    ));
                }
            }
            if (log.next_offset(), cursors_of(log)?) != (m.next, m.cursors) {
                return Err(format!(
                    "after recovery, {op}: next {} cursors {:?}, expected {} {:?}",
                    log.next_offset(),
                    cursors_of(log)?,
                    m.next,
                    m.cursors
                ));
            }
            if let (Op::Append(r), Ok(Some(off)), false) = (&op, &res, appended) {
                let mut buf = vec![0u8; self.max_rec as usize + 1];
                let n = log.read(*off, &mut buf).map_err(|e| {
                    format!("the first append after recovery does not read back: {e:?} (I6)")
                })?;
                let mut want = Vec::new();
                fill(*r, &mut want);
                check_bytes(*off, "first append after recovery: read", &buf[..n], &want)?;
                appended = true;
            }
        }
        if !appended {
            return Err("the log does not accept appends after recovery (I6)".into());
        }
        Ok(Continued::Done(m))
    }
}
