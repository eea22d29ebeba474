//! Fuzz harness `kv_ops`: an arbitrary sequence of KV operations on the two index variants
//! side by side, some of them cut by a power loss, against a `BTreeMap` model.
//!
//! Input: geometry, limits, high-water mark and a torn-write seed, then operations. Each
//! operation byte picks a set, delete, `set_multiple`, `apply`, get, compaction, clear or
//! remount (keys from a pool of 16, values sized by the input). With its top bit set a
//! mutating operation is cut: a power cut is armed at one of its next mutating storage ops
//! (chosen by the input; if the operation makes fewer, it completes normally) in one of the
//! four cut modes, on both variants alike.
//!
//! Checked: both variants give the same answers and write byte-identical images; after every
//! operation the whole map (by iteration and by `get` of every pool key) equals the model;
//! `Full` changes nothing and is only returned when the live data plus the new frame cannot
//! fit in a partition; the high-water flag is exactly "used ≥ mark". After a cut, both mount,
//! hold the same map, and that map is the before-op or the after-op one — the after-op one if
//! the operation returned `Ok` (atomic batches, no silent loss); no storage rule is broken.

use std::collections::BTreeMap;

use super::kv_sizes::{compacted_bound, op_frame};
use super::reader::Reader;
use tidelog::kv::format::data_start;
use tidelog::kv::KvIndex;
use tidelog::{
    Cut, Error, Kv, KvConfig, KvOp, MapIndex, PowerCut, ScanIndex, SimFlash, StorageError,
};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

const CUTS: [Cut; 4] = [Cut::Before, Cut::After, Cut::TornPrefix, Cut::TornBits];
/// Most operations per input.
const MAX_OPS: usize = 64;
/// Most power cuts per input.
const MAX_CUTS: usize = 8;
/// Keys in the pool.
const POOL: u8 = 16;

/// One operation. Writes carry their entries: `(key, Some(value))` sets, `(key, None)`
/// deletes.
#[derive(Debug, Clone)]
enum Op {
    Set(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    SetMultiple(Vec<(Vec<u8>, Vec<u8>)>),
    Apply(Vec<(Vec<u8>, Option<Vec<u8>>)>),
    Get(Vec<u8>),
    Compact,
    Clear,
    Remount,
}

impl Op {
    fn entries(&self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        match self {
            Op::Set(k, v) => vec![(k.clone(), Some(v.clone()))],
            Op::Delete(k) => vec![(k.clone(), None)],
            Op::SetMultiple(p) => p
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
            Op::Apply(p) => p.clone(),
            _ => vec![],
        }
    }

    fn mutating(&self) -> bool {
        !matches!(self, Op::Get(_) | Op::Remount)
    }

    /// The model after the op succeeded.
    fn apply(&self, m: &Model) -> Model {
        let mut m = m.clone();
        match self {
            Op::Clear => m.clear(),
            _ => {
                for (k, v) in self.entries() {
                    match v {
                        Some(v) => {
                            m.insert(k, v);
                        }
                        None => {
                            m.remove(&k);
                        }
                    }
                }
            }
        }
        m
    }
}

struct Setup {
    ws: usize,
    max_key: usize,
    max_value: usize,
    part: usize,
}

/// Runs the harness on one input; `Err` describes a violation.
pub fn run(data: &[u8]) -> Result<(), String> {
    let mut r = Reader::new(data);
    let ws = [1usize, 4, 8, 32, 256][r.u8() as usize % 5];
    let es = 256usize << (r.u8() % 2);
    let sectors = 2 + r.u8() as usize % 7;
    let max_key = r.u8() % 33;
    let max_value = match r.u8() % 5 {
        0 => 0,
        1 => 16,
        2 => 48,
        3 => 300,
        _ => 1 + r.u8() as u32,
    };
    let percent = 1 + r.u8() % 100;
    let seed = r.u32() as u64;
    let cfg = KvConfig::new()
        .max_key_len(max_key)
        .max_value_len(max_value)
        .high_water_percent(percent);
    let sim = || {
        SimFlash::new(ws, es, sectors * es)
            .map(|s| s.with_seed(seed))
            .map_err(|e| format!("SimFlash::new: {e:?}"))
    };
    let f1 = Kv::<SimFlash, ScanIndex>::format(sim()?, cfg);
    let f2 = Kv::<SimFlash, MapIndex>::format(sim()?, cfg);
    let (mut scan, mut map) = match (f1, f2) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(Error::InvalidConfig(_)), Err(Error::InvalidConfig(_))) => return Ok(()),
        (a, b) => {
            return Err(format!(
                "format: ScanIndex {:?}, MapIndex {:?}",
                a.map(|_| ()),
                b.map(|_| ())
            ))
        }
    };
    let st = scan.stats();
    let setup = Setup {
        ws,
        max_key: st.max_key_len as usize,
        max_value: st.max_value_len as usize,
        part: st.partition_size as usize,
    };
    let mut model = Model::new();
    let mut cuts = 0;
    for step in 0..MAX_OPS {
        if r.is_empty() {
            break;
        }
        let b = r.u8();
        let op = gen_op(b, &setup, &mut r);
        let ctx = format!("step {step}: {op:?}");
        if op.mutating() && b & 0x80 != 0 && cuts < MAX_CUTS {
            let at = r.u8() as u64;
            let cut = CUTS[r.u8() as usize % CUTS.len()];
            let before = model.clone();
            let after = op.apply(&model);
            arm(&mut scan, at, cut);
            arm(&mut map, at, cut);
            let r1 = run_op(&mut scan, &op);
            let r2 = run_op(&mut map, &op);
            let (p1, p2) = (scan.storage().is_powered(), map.storage().is_powered());
            if p1 != p2 || r1 != r2 {
                return Err(format!(
                    "{ctx} cut {cut:?} at +{at}: ScanIndex {r1:?} (powered {p1}), MapIndex {r2:?} (powered {p2})"
                ));
            }
            if p1 {
                // The op made fewer mutating ops: it ran to completion.
                scan.storage_mut().set_fault(None);
                map.storage_mut().set_fault(None);
                check_plain(&ctx, &setup, &op, &r1, &mut model)?;
            } else {
                cuts += 1;
                if let Err(e) = &r1 {
                    if !matches!(e, Error::Storage(StorageError::PowerLoss)) {
                        return Err(format!(
                            "{ctx} cut {cut:?} at +{at}: failed with {e:?} instead of a power-loss error"
                        ));
                    }
                }
                let claimed_ok = r1.is_ok();
                let ctx = format!("{ctx} cut {cut:?} at +{at}");
                let (mut s1, mut s2) = (scan.into_storage(), map.into_storage());
                s1.power_cycle();
                s2.power_cycle();
                if s1.image() != s2.image() {
                    return Err(format!("{ctx}: the two variants left different images"));
                }
                scan = Kv::mount(s1, cfg)
                    .map_err(|e| format!("{ctx}: ScanIndex mount after the cut failed: {e:?}"))?;
                map = Kv::mount(s2, cfg)
                    .map_err(|e| format!("{ctx}: MapIndex mount after the cut failed: {e:?}"))?;
                let got = contents(&mut scan).map_err(|e| format!("{ctx}: ScanIndex: {e}"))?;
                if got == after {
                    model = after;
                } else if got == before && !claimed_ok {
                    model = before;
                } else {
                    return Err(format!(
                        "{ctx}: after the cut the map is {got:?}; before the op {before:?}, after {after:?} (returned Ok: {claimed_ok})"
                    ));
                }
            }
        } else {
            match &op {
                Op::Get(k) => {
                    let g1 = get(&mut scan, k);
                    let g2 = get(&mut map, k);
                    let want = Ok(model.get(k).cloned());
                    if g1 != want || g2 != want {
                        return Err(format!(
                            "{ctx}: ScanIndex {g1:?}, MapIndex {g2:?}, model {want:?}"
                        ));
                    }
                }
                Op::Remount => {
                    scan = Kv::mount(scan.into_storage(), cfg)
                        .map_err(|e| format!("{ctx}: ScanIndex remount failed: {e:?}"))?;
                    map = Kv::mount(map.into_storage(), cfg)
                        .map_err(|e| format!("{ctx}: MapIndex remount failed: {e:?}"))?;
                }
                _ => {
                    let before = scan.stats();
                    let r1 = run_op(&mut scan, &op);
                    let r2 = run_op(&mut map, &op);
                    if r1 != r2 {
                        return Err(format!("{ctx}: ScanIndex {r1:?}, MapIndex {r2:?}"));
                    }
                    let after = scan.stats();
                    if r1.is_ok()
                        && matches!(
                            op,
                            Op::Set(..) | Op::Delete(_) | Op::SetMultiple(_) | Op::Apply(_)
                        )
                        && before.used_bytes < before.high_water_mark
                        && after.used_bytes >= after.high_water_mark
                        && after.generation == before.generation
                    {
                        return Err(format!(
                            "{ctx}: a write crossed the mark without compacting: {before:?} -> {after:?}"
                        ));
                    }
                    check_plain(&ctx, &setup, &op, &r1, &mut model)?;
                }
            }
        }
        check_state(&ctx, &mut scan, &mut map, &model)?;
    }
    // Everything acknowledged survives a final remount.
    let mut scan: Kv<SimFlash, ScanIndex> =
        Kv::mount(scan.into_storage(), cfg).map_err(|e| format!("final remount: {e:?}"))?;
    let mut map: Kv<SimFlash, MapIndex> =
        Kv::mount(map.into_storage(), cfg).map_err(|e| format!("final remount: {e:?}"))?;
    check_state("final remount", &mut scan, &mut map, &model)
}

/// Checks the answer of a write that ran without a cut and updates the model.
fn check_plain(
    ctx: &str,
    setup: &Setup,
    op: &Op,
    res: &Result<(), Error>,
    model: &mut Model,
) -> Result<(), String> {
    match res {
        Ok(()) => {
            *model = op.apply(model);
            Ok(())
        }
        Err(Error::Full) if !matches!(op, Op::Clear) => {
            let need = compacted_bound(setup.ws, model) + op_frame(setup.ws, &op.entries());
            if need <= setup.part {
                return Err(format!(
                    "{ctx}: Full although {need} bytes fit in a {}-byte partition",
                    setup.part
                ));
            }
            Ok(())
        }
        Err(Error::TooLarge { .. }) if matches!(op, Op::SetMultiple(_) | Op::Apply(_)) => {
            // A batch larger than a partition can ever hold.
            let frame = op_frame(setup.ws, &op.entries());
            if data_start(setup.ws) + frame <= setup.part {
                return Err(format!(
                    "{ctx}: TooLarge for a {frame}-byte frame that fits in a partition"
                ));
            }
            Ok(())
        }
        Err(e) => Err(format!("{ctx}: failed with {e:?}")),
    }
}

/// The whole KV against the model, both variants, plus the flag and the images.
fn check_state(
    ctx: &str,
    scan: &mut Kv<SimFlash, ScanIndex>,
    map: &mut Kv<SimFlash, MapIndex>,
    model: &Model,
) -> Result<(), String> {
    if scan.storage().image() != map.storage().image() {
        return Err(format!(
            "{ctx}: the two index variants wrote different bytes"
        ));
    }
    for (name, st, flag) in [
        (
            "ScanIndex",
            scan.stats(),
            scan.is_high_water_mark_triggered(),
        ),
        ("MapIndex", map.stats(), map.is_high_water_mark_triggered()),
    ] {
        if flag != (st.used_bytes >= st.high_water_mark) {
            return Err(format!("{ctx}: {name}: flag {flag} but {st:?}"));
        }
    }
    if map.stats().live_keys != Some(model.len()) {
        return Err(format!(
            "{ctx}: MapIndex counts {:?} live keys, the model {}",
            map.stats().live_keys,
            model.len()
        ));
    }
    let c1 = contents(scan).map_err(|e| format!("{ctx}: ScanIndex: {e}"))?;
    let c2 = contents(map).map_err(|e| format!("{ctx}: MapIndex: {e}"))?;
    if &c1 != model || &c2 != model {
        return Err(format!(
            "{ctx}: ScanIndex holds {c1:?}, MapIndex {c2:?}, the model {model:?}"
        ));
    }
    for i in 0..POOL {
        let k = pool_key(i, 32);
        let want = Ok(model.get(&k).cloned());
        let (g1, g2) = (get(scan, &k), get(map, &k));
        if g1 != want || g2 != want {
            return Err(format!(
                "{ctx}: get({k:?}): ScanIndex {g1:?}, MapIndex {g2:?}, model {want:?}"
            ));
        }
    }
    Ok(())
}

fn arm<I: KvIndex>(kv: &mut Kv<SimFlash, I>, at: u64, cut: Cut) {
    let base = kv.storage().mutating_ops();
    kv.storage_mut().set_fault(Some(PowerCut {
        at_op: base + at,
        cut,
    }));
}

fn run_op<I: KvIndex>(kv: &mut Kv<SimFlash, I>, op: &Op) -> Result<(), Error> {
    match op {
        Op::Set(k, v) => kv.set(k, v),
        Op::Delete(k) => kv.delete(k).map(|_| ()),
        Op::SetMultiple(p) => {
            let pairs: Vec<(&[u8], &[u8])> = p.iter().map(|(k, v)| (&k[..], &v[..])).collect();
            kv.set_multiple(&pairs)
        }
        Op::Apply(p) => {
            let ops: Vec<KvOp<'_>> = p
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => KvOp::Set(k, v),
                    None => KvOp::Delete(k),
                })
                .collect();
            kv.apply(&ops)
        }
        Op::Compact => kv.compact(),
        Op::Clear => kv.clear(),
        Op::Get(_) | Op::Remount => Ok(()),
    }
}

fn get<I: KvIndex>(kv: &mut Kv<SimFlash, I>, key: &[u8]) -> Result<Option<Vec<u8>>, Error> {
    let mut buf = vec![0u8; 1024];
    kv.get(key, &mut buf).map(|o| o.map(|n| buf[..n].to_vec()))
}

/// Everything the KV holds, by iteration.
fn contents<I: KvIndex>(kv: &mut Kv<SimFlash, I>) -> Result<Model, String> {
    let mut m = Model::new();
    for (k, v) in kv
        .entries()
        .map_err(|e| format!("iteration failed: {e:?}"))?
    {
        if m.insert(k.clone(), v).is_some() {
            return Err(format!("iteration returned key {k:?} twice"));
        }
    }
    Ok(m)
}

/// Key `i` of the pool, at most `max` bytes (distinct for distinct `i` when `max` allows).
fn pool_key(i: u8, max: usize) -> Vec<u8> {
    let len = (i as usize * 5) % 33;
    let mut k = vec![b'k'; len.min(max)];
    if let Some(b) = k.first_mut() {
        *b = b'a' + i;
    }
    k
}

fn gen_key(s: &Setup, r: &mut Reader<'_>) -> Vec<u8> {
    pool_key(r.u8() % POOL, s.max_key)
}

fn gen_value(s: &Setup, r: &mut Reader<'_>) -> Vec<u8> {
    let c = r.u8();
    let len = match c % 4 {
        0 => (c / 4) as usize % 9,
        1 => r.below(49) as usize,
        2 => s.max_value,
        _ => r.below(s.max_value as u64 + 1) as usize,
    }
    .min(s.max_value)
    .min(1024);
    let fill = r.u8();
    (0..len)
        .map(|i| match fill {
            0 => 0xFF,
            1 => 0,
            _ => (i as u8).wrapping_mul(fill) ^ c,
        })
        .collect()
}

fn gen_op(b: u8, s: &Setup, r: &mut Reader<'_>) -> Op {
    match b & 0x0F {
        0..=4 => Op::Set(gen_key(s, r), gen_value(s, r)),
        5 | 6 => Op::Delete(gen_key(s, r)),
        7 | 8 => {
            let n = r.u8() as usize % 5;
            Op::SetMultiple((0..n).map(|_| (gen_key(s, r), gen_value(s, r))).collect())
        }
        9 | 10 => {
            let n = 1 + r.u8() as usize % 4;
            Op::Apply(
                (0..n)
                    .map(|_| {
                        let k = gen_key(s, r);
                        let v = (r.u8() & 1 == 0).then(|| gen_value(s, r));
                        (k, v)
                    })
                    .collect(),
            )
        }
        11 => Op::Get(gen_key(s, r)),
        12 => Op::Compact,
        13 => Op::Clear,
        _ => Op::Remount,
    }
}
