//! Fuzz harness `ops_powercut`: an arbitrary sequence of log operations, some of them cut by a
//! power loss, checked against the model of the power-cut harness
//! (`core/tests/support/powercut.rs`, the same checks `tests/power_cut.rs` makes).
//!
//! Input: geometry and policy bytes, a seed for the simulator's torn writes, then operations.
//! Each operation byte picks an append, a batch, a commit, a rewind, a trim, a truncation or a
//! clean remount; with its top bit set the operation is cut: it runs from a fresh mount of
//! the pre-op image with a power cut armed at one of its mutating storage ops (chosen by the
//! input, counted by a fault-free reference run on a copy) in one of the four cut modes, and
//! the device reboots — optionally with a second cut armed during recovery's own writes.
//! The recovered log must hold the before-op or the after-op state exactly (I1–I6, I8:
//! `check_recovered`), then the sequence goes on from there. Without a cut, every op must
//! succeed (or fail with `Full` where the policy allows it) and leave the log equal to the
//! model (`verify_exact`).

use super::powercut::{
    check_recovered, full_allowed, loose_first_hi, run_op, verify_exact, Expect, Model, Op, Rec,
    CUTS,
};
use super::reader::Reader;
use tidelog::format::frame::batch_body_len;
use tidelog::{Config, Error, FullPolicy, Log, PowerCut, SimFlash, StorageError};

type TestLog<'a> = Log<&'a mut SimFlash, 4>;

/// Most operations per input.
const MAX_OPS: usize = 64;
/// Most power cuts per input.
const MAX_CUTS: usize = 8;

#[derive(Clone, Copy)]
struct Geo {
    ws: usize,
    es: usize,
    cap: usize,
}

/// Runs the harness on one input; `Err` describes a violation.
pub fn run(data: &[u8]) -> Result<(), String> {
    let mut r = Reader::new(data);
    let ws = [1usize, 4, 8, 32, 256][r.u8() as usize % 5];
    let small = r.u8() & 1 == 0;
    let (es, seg_sectors, interval, segments) = if small {
        let sectors = if ws >= 256 { 8 } else { 4 };
        let interval = match ws {
            256 => 512,
            32 => 128,
            _ => [64, 128, 256][r.u8() as usize % 3],
        };
        (256, sectors, interval, 2 + r.u8() as u32 % 7)
    } else {
        let interval = (ws as u32).max([128, 256, 1024][r.u8() as usize % 3]);
        (4096, 1, interval, 2 + r.u8() as u32 % 5)
    };
    let spare = (r.u8() & 1) as u32;
    let geo = Geo {
        ws,
        es,
        cap: ((seg_sectors * segments + spare) as usize) * es,
    };
    let policy = if r.u8() & 1 == 0 {
        FullPolicy::Reject
    } else {
        FullPolicy::OverwriteOldest
    };
    let consumers = 1 + r.u8() as usize % 3;
    let seed = r.u32() as u64;
    let format_cfg = Config::new()
        .segment_sectors(seg_sectors)
        .index_interval(interval)
        .full_policy(policy);
    let cfg = Config::new().full_policy(policy);
    let mut sim = SimFlash::new(geo.ws, geo.es, geo.cap)
        .map_err(|e| format!("SimFlash::new: {e:?}"))?
        .with_seed(seed);
    let mut h = Harness {
        geo,
        policy,
        cfg,
        consumers,
        keys: 0,
        ops: 0,
        cuts: 0,
        max_rec: 0,
    };
    let mut model = Model::new();
    // A session: one mount (or the format), then ops until a cut, a remount or the end of the
    // input.
    let mut pending: Option<Next> = None;
    let mut formatted = false;
    loop {
        let mut log = match pending.take() {
            None if !formatted => {
                formatted = true;
                match TestLog::format(&mut sim, format_cfg) {
                    Ok(l) => l,
                    Err(Error::InvalidConfig(_)) => return Ok(()),
                    Err(e) => return Err(format!("format failed: {e:?}")),
                }
            }
            None => return Ok(()),
            Some(Next::Remount) => {
                let mut log = TestLog::mount(&mut sim, cfg)
                    .map_err(|e| format!("op#{} remount: mount failed: {e:?}", h.ops))?;
                verify_exact(&mut log, &model).map_err(|m| format!("op#{} remount: {m}", h.ops))?;
                log
            }
            Some(Next::Cut(exp, second)) => {
                let armed = second.is_some();
                sim.set_fault(second);
                let mut log = match TestLog::mount(&mut sim, cfg) {
                    Ok(l) => l,
                    Err(Error::Storage(StorageError::PowerLoss)) if armed => {
                        sim.power_cycle();
                        TestLog::mount(&mut sim, cfg).map_err(|e| {
                            format!(
                                "op#{} {}: mount failed after a cut during recovery: {e:?} (I6)",
                                h.ops, exp.op
                            )
                        })?
                    }
                    Err(e) => {
                        return Err(format!(
                            "op#{} {}: mount failed after the cut: {e:?} (I6)",
                            h.ops, exp.op
                        ))
                    }
                };
                log.storage_mut().set_fault(None);
                // The last resort of DESIGN.md §D3 is tolerated as the harness does (see
                // TOLERATE_EARLY_RECLAIM in core/tests/support/powercut.rs).
                model = check_recovered(&mut log, &exp)
                    .map_err(|m| format!("op#{} {} after the cut: {m}", h.ops, exp.op))?
                    .model;
                log
            }
        };
        h.max_rec = log.layout().max_record_size;
        pending = h.session(&mut log, &mut model, &mut r)?;
    }
}

/// How a session ended, when it did not end with the input.
enum Next {
    /// An op was cut: what the reboot may find, and a second cut to arm during recovery.
    Cut(Box<Expect>, Option<PowerCut>),
    /// A clean remount was asked for.
    Remount,
}

struct Harness {
    geo: Geo,
    policy: FullPolicy,
    cfg: Config,
    consumers: usize,
    keys: u64,
    ops: usize,
    cuts: usize,
    max_rec: u32,
}

impl Harness {
    /// Runs ops on `log` until the input ends (`None`), a remount is asked for or an op is cut.
    fn session(
        &mut self,
        log: &mut TestLog<'_>,
        model: &mut Model,
        r: &mut Reader<'_>,
    ) -> Result<Option<Next>, String> {
        while !r.is_empty() && self.ops < MAX_OPS {
            self.ops += 1;
            let b = r.u8();
            let op = self.op(b, model, r);
            if op == Op::Remount {
                return Ok(Some(Next::Remount));
            }
            let cut = b & 0x80 != 0 && self.cuts < MAX_CUTS;
            if !cut {
                self.plain(log, model, op)?;
                continue;
            }
            let ctx = format!("op#{} {op}", self.ops);
            let snap = log.storage().snapshot();
            // The fault-free reference, on a copy: how many mutating ops, and the after state.
            let mut scratch = SimFlash::new(self.geo.ws, self.geo.es, self.geo.cap)
                .map_err(|e| format!("SimFlash::new: {e:?}"))?;
            scratch.restore(&snap);
            let (k, after) = {
                let mut l = TestLog::mount(&mut scratch, self.cfg)
                    .map_err(|e| format!("{ctx}: mounting the pre-op image failed: {e:?}"))?;
                verify_exact(&mut l, model)
                    .map_err(|m| format!("{ctx}: after a clean remount: {m}"))?;
                let base = l.storage().mutating_ops();
                let res = run_op(&mut l, &op);
                let k = l.storage().mutating_ops() - base;
                let after = match res {
                    Ok(_) => {
                        let mut a = model.apply(&op);
                        a.first = l.first_offset();
                        a
                    }
                    Err(Error::Full) if full_allowed(self.policy, &op) => model.clone(),
                    Err(e) => return Err(format!("{ctx}: failed (no fault) with {e:?}")),
                };
                (k, after)
            };
            if k == 0 {
                self.plain(log, model, op)?;
                continue;
            }
            self.cuts += 1;
            let j = r.below(k);
            let mode = CUTS[r.u8() as usize % CUTS.len()];
            let second = r.u8();
            let ctx = format!("{ctx} cut {mode:?} at mutating op {}/{k}", j + 1);
            // The cut run: from a fresh mount of the same image, like the reference.
            let storage = log.storage_mut();
            let claimed_ok = {
                let mut l = TestLog::mount(&mut *storage, self.cfg)
                    .map_err(|e| format!("{ctx}: mounting the pre-op image failed: {e:?}"))?;
                let base = l.storage().mutating_ops();
                l.storage_mut().set_fault(Some(PowerCut {
                    at_op: base + j,
                    cut: mode,
                }));
                let res = run_op(&mut l, &op);
                if l.storage().is_powered() {
                    return Err(format!(
                        "{ctx}: the cut did not fire: the op made fewer mutating ops than its fault-free run ({res:?})"
                    ));
                }
                if let Err(e) = &res {
                    if !matches!(e, Error::Storage(StorageError::PowerLoss)) {
                        return Err(format!(
                            "{ctx}: the op failed with {e:?} instead of a power-loss error"
                        ));
                    }
                }
                res.is_ok()
            };
            storage.power_cycle();
            let first_hi = match op {
                Op::Truncate(_) => after.first.max(loose_first_hi(self.policy, model, &after)),
                _ => after.first,
            };
            let second = (second & 1 == 1).then(|| PowerCut {
                at_op: storage.mutating_ops() + (second >> 1) as u64 % 8,
                cut: CUTS[(second >> 4) as usize % CUTS.len()],
            });
            let exp = Expect {
                op,
                before: model.clone(),
                after,
                first_hi,
                must_after: claimed_ok,
                strict_first: self.policy == FullPolicy::Reject,
            };
            return Ok(Some(Next::Cut(Box::new(exp), second)));
        }
        Ok(None)
    }

    /// Runs `op` without a fault and checks the log against the model.
    fn plain(&mut self, log: &mut TestLog<'_>, model: &mut Model, op: Op) -> Result<(), String> {
        let ctx = format!("op#{} {op} (no fault)", self.ops);
        match run_op(log, &op) {
            Ok(off) => {
                if let (Some(off), true) = (off, matches!(op, Op::Append(_) | Op::Batch(_))) {
                    if off != model.next {
                        return Err(format!(
                            "{ctx}: returned offset {off}, expected {} (I5)",
                            model.next
                        ));
                    }
                }
                let mut a = model.apply(&op);
                let first = log.first_offset();
                let hi = loose_first_hi(self.policy, model, &a);
                if first < a.first || first > hi {
                    return Err(format!(
                        "{ctx}: first_offset {first} outside the allowed {}..={hi}",
                        a.first
                    ));
                }
                a.first = first;
                *model = a;
            }
            Err(Error::Full) if full_allowed(self.policy, &op) => {}
            Err(e) => return Err(format!("{ctx}: failed with {e:?}")),
        }
        verify_exact(log, model).map_err(|m| format!("{ctx}: {m}"))
    }

    /// The op selected by `b` (low bits), with its arguments from the input.
    fn op(&mut self, b: u8, m: &Model, r: &mut Reader<'_>) -> Op {
        let (first, next) = (m.first, m.next);
        match b & 0x0F {
            0..=5 => Op::Append(self.rec(r)),
            6 | 7 => Op::Batch(self.batch(r)),
            8 | 9 => {
                let c = r.u8() as usize % self.consumers;
                let lo = m.cursors[c].unwrap_or(first);
                Op::Commit(c, r.range(lo, next))
            }
            10 => {
                let c = r.u8() as usize % self.consumers;
                Op::Rewind(c, r.range(first, next))
            }
            11 | 12 => Op::Trim(r.range(first, next)),
            13 | 14 => Op::Truncate(r.range(first, next)),
            _ => Op::Remount,
        }
    }

    fn key(&mut self, r: &mut Reader<'_>) -> u64 {
        self.keys += 1;
        (r.u8() as u64) << 32 | self.keys
    }

    /// A record of a size class picked by the input: tiny, ~64 B, medium, near the maximum.
    fn rec(&mut self, r: &mut Reader<'_>) -> Rec {
        let max = self.max_rec as u64;
        let c = r.u8();
        let len = match c % 4 {
            0 => (c / 4) as u64 % 17,
            1 => r.range(48, 80),
            2 => r.range(100, 400),
            _ => r.range(max * 3 / 4, max),
        }
        .min(max);
        Rec {
            key: self.key(r),
            len: len as u32,
        }
    }

    /// 2..=9 small records whose batch fits in a frame.
    fn batch(&mut self, r: &mut Reader<'_>) -> Vec<Rec> {
        let n = 2 + r.u8() as usize % 8;
        let mut v: Vec<Rec> = (0..n)
            .map(|_| {
                let len = r.range(0, 40) as u32;
                Rec {
                    key: self.key(r),
                    len,
                }
            })
            .collect();
        let max = self.max_rec as usize;
        let body = |v: &[Rec]| batch_body_len(v.len(), v.iter().map(|r| r.len as usize));
        while body(&v).is_none_or(|b| b > max) {
            let big = v.iter_mut().max_by_key(|r| r.len).expect("non-empty");
            if big.len == 0 {
                break;
            }
            big.len /= 2;
        }
        v
    }
}
