//! The KV journal against a `BTreeMap` model (proptest), on the write-once-enforcing
//! simulator.
//!
//! Every generated sequence of operations runs on two KVs at once — [`ScanIndex`] and
//! [`MapIndex`] — over separate simulated flashes. After every operation:
//!
//! * both agree with the model (every key of the pool by `get`, the whole map by iteration);
//! * both images are byte-identical (the two index variants make the same decisions and write
//!   the same bytes);
//! * the high-water flag is exactly "used ≥ mark", and a write that crossed the mark
//!   compacted (the generation moved);
//! * `Error::Full` leaves the map unchanged and is only returned when the live data plus the
//!   new frame really cannot fit in a partition (the bound is one frame per live entry, which
//!   a compacted partition never exceeds) — never silent loss;
//! * a remount (at random points) yields the same map.

#![cfg(all(feature = "sim", feature = "alloc"))]

use std::collections::BTreeMap;

use proptest::prelude::*;
#[path = "support/kv_sizes.rs"]
mod kv_sizes;

use kv_sizes::{compacted_bound, op_frame};
use tidelog::kv::format::data_start;
use tidelog::{Error, Kv, KvConfig, KvIndex, KvOp, MapIndex, ScanIndex, SimFlash};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

const MAX_KEY: u8 = 12;
const MAX_VALUE: u32 = 48;

#[derive(Debug, Clone)]
enum Op {
    Set(u8, Vec<u8>),
    Delete(u8),
    SetMultiple(Vec<(u8, Vec<u8>)>),
    Apply(Vec<(u8, Option<Vec<u8>>)>),
    Get(u8),
    Compact,
    Clear,
    Remount,
}

/// Key `i` of the pool: lengths 0..=12, distinct.
fn key(i: u8) -> Vec<u8> {
    let len = (i as usize * 5) % (MAX_KEY as usize + 1);
    let mut k = vec![b'k'; len];
    if len > 0 {
        k[0] = b'a' + i;
    }
    k
}

const POOL: u8 = 12;

fn value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=MAX_VALUE as usize)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..POOL, value()).prop_map(|(k, v)| Op::Set(k, v)),
        3 => (0..POOL).prop_map(Op::Delete),
        2 => prop::collection::vec((0..POOL, value()), 0..5).prop_map(Op::SetMultiple),
        2 => prop::collection::vec((0..POOL, prop::option::of(value())), 1..4).prop_map(Op::Apply),
        2 => (0..POOL).prop_map(Op::Get),
        1 => Just(Op::Compact),
        1 => Just(Op::Remount),
        1 => Just(Op::Clear),
    ]
}

#[derive(Debug, Clone)]
struct Setup {
    ws: usize,
    sectors: usize,
    percent: u8,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        prop::sample::select(vec![1usize, 4, 8, 32]),
        2usize..=5,
        prop::sample::select(vec![50u8, 75, 90, 100]),
    )
        .prop_map(|(ws, sectors, percent)| Setup {
            ws,
            sectors,
            percent,
        })
}

fn config(percent: u8) -> KvConfig {
    KvConfig::new()
        .max_key_len(MAX_KEY)
        .max_value_len(MAX_VALUE)
        .high_water_percent(percent)
}

/// Everything the KV holds, by iteration, as a model.
fn contents<I: KvIndex>(kv: &mut Kv<SimFlash, I>) -> Model {
    let mut m = Model::new();
    for (k, v) in kv.entries().unwrap() {
        assert!(m.insert(k, v).is_none(), "iteration returned a key twice");
    }
    m
}

fn check_gets<I: KvIndex>(kv: &mut Kv<SimFlash, I>, model: &Model) {
    let mut buf = [0u8; 64];
    for i in 0..POOL {
        let k = key(i);
        let got = kv.get(&k, &mut buf).unwrap().map(|n| buf[..n].to_vec());
        assert_eq!(got.as_ref(), model.get(&k), "get {k:?}");
        assert_eq!(kv.contains_key(&k).unwrap(), model.contains_key(&k));
    }
}

fn apply_model(model: &mut Model, ops: &[(Vec<u8>, Option<Vec<u8>>)]) {
    for (k, v) in ops {
        match v {
            Some(v) => {
                model.insert(k.clone(), v.clone());
            }
            None => {
                model.remove(k);
            }
        }
    }
}

/// Runs one write on a KV and checks the flag rules around it.
fn write<I: KvIndex>(
    kv: &mut Kv<SimFlash, I>,
    ops: &[(Vec<u8>, Option<Vec<u8>>)],
    how: &Op,
) -> Result<(), Error> {
    let before = kv.stats();
    let r = match how {
        Op::Set(..) => kv.set(&ops[0].0, ops[0].1.as_ref().unwrap()),
        Op::Delete(_) => kv.delete(&ops[0].0).map(|_| ()),
        Op::SetMultiple(_) => {
            let pairs: Vec<(&[u8], &[u8])> = ops
                .iter()
                .map(|(k, v)| (&k[..], &v.as_ref().unwrap()[..]))
                .collect();
            kv.set_multiple(&pairs)
        }
        _ => {
            let kops: Vec<KvOp> = ops
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => KvOp::Set(k, v),
                    None => KvOp::Delete(k),
                })
                .collect();
            kv.apply(&kops)
        }
    };
    let after = kv.stats();
    assert_eq!(
        kv.is_high_water_mark_triggered(),
        after.used_bytes >= after.high_water_mark
    );
    if r.is_ok() && before.used_bytes < before.high_water_mark && kv.is_high_water_mark_triggered()
    {
        assert!(
            after.generation > before.generation,
            "a write crossed the mark without compacting: {before:?} -> {after:?}"
        );
    }
    r
}

fn run(setup: Setup, ops: Vec<Op>) {
    let Setup {
        ws,
        sectors,
        percent,
    } = setup;
    let es = 256;
    let cfg = config(percent);
    let mut scan: Kv<SimFlash, ScanIndex> =
        Kv::format(SimFlash::new(ws, es, sectors * es).unwrap(), cfg).unwrap();
    let mut map: Kv<SimFlash, MapIndex> =
        Kv::format(SimFlash::new(ws, es, sectors * es).unwrap(), cfg).unwrap();
    let part = scan.stats().partition_size as usize;
    let mut model = Model::new();
    for (step, op) in ops.iter().enumerate() {
        let ctx = format!("step {step}: {op:?}");
        let wops: Vec<(Vec<u8>, Option<Vec<u8>>)> = match op {
            Op::Set(k, v) => vec![(key(*k), Some(v.clone()))],
            Op::Delete(k) => vec![(key(*k), None)],
            Op::SetMultiple(p) => p.iter().map(|(k, v)| (key(*k), Some(v.clone()))).collect(),
            Op::Apply(p) => p.iter().map(|(k, v)| (key(*k), v.clone())).collect(),
            _ => vec![],
        };
        match op {
            Op::Get(k) => {
                let mut b1 = [0u8; 64];
                let mut b2 = [0u8; 64];
                let k = key(*k);
                let g1 = scan.get(&k, &mut b1).unwrap().map(|n| b1[..n].to_vec());
                let g2 = map.get(&k, &mut b2).unwrap().map(|n| b2[..n].to_vec());
                assert_eq!(g1.as_ref(), model.get(&k), "{ctx}");
                assert_eq!(g2.as_ref(), model.get(&k), "{ctx}");
            }
            Op::Compact => {
                scan.compact().unwrap();
                map.compact().unwrap();
                assert!(scan.stats().used_bytes as usize <= compacted_bound(ws, &model));
            }
            Op::Clear => {
                scan.clear().unwrap();
                map.clear().unwrap();
                model.clear();
            }
            Op::Remount => {
                scan = Kv::mount(scan.into_storage(), cfg).unwrap();
                map = Kv::mount(map.into_storage(), cfg).unwrap();
            }
            Op::Delete(_) | Op::Set(..) | Op::SetMultiple(_) | Op::Apply(_) => {
                let need = compacted_bound(ws, &model) + op_frame(ws, &wops);
                let r1 = write(&mut scan, &wops, op);
                let r2 = write(&mut map, &wops, op);
                assert_eq!(r1, r2, "{ctx}");
                match r1 {
                    Ok(()) => apply_model(&mut model, &wops),
                    Err(Error::Full) => assert!(
                        need > part,
                        "{ctx}: Full although {need} bytes fit in {part}"
                    ),
                    // One frame is limited in size; a batch over the limit is refused whole.
                    Err(Error::TooLarge { len, max }) => assert!(
                        len > max && op_frame(ws, &wops) > max as usize,
                        "{ctx}: TooLarge {len} > {max} for a frame of {} bytes",
                        op_frame(ws, &wops)
                    ),
                    Err(e) => panic!("{ctx}: {e}"),
                }
            }
        }
        assert_eq!(
            scan.storage().image(),
            map.storage().image(),
            "{ctx}: the two index variants wrote different bytes"
        );
        assert_eq!(scan.stats().generation, map.stats().generation);
        assert_eq!(map.stats().live_keys, Some(model.len()), "{ctx}");
        assert_eq!(contents(&mut scan), model, "{ctx}");
        assert_eq!(contents(&mut map), model, "{ctx}");
        check_gets(&mut scan, &model);
        check_gets(&mut map, &model);
    }
    // Everything acknowledged survives a final remount.
    let mut scan: Kv<SimFlash, ScanIndex> = Kv::mount(scan.into_storage(), cfg).unwrap();
    let mut map: Kv<SimFlash, MapIndex> = Kv::mount(map.into_storage(), cfg).unwrap();
    assert_eq!(contents(&mut scan), model);
    assert_eq!(contents(&mut map), model);
    // Map iteration is in key order.
    let keys: Vec<Vec<u8>> = map.entries().unwrap().into_iter().map(|(k, _)| k).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn kv_matches_btreemap(setup in setup(), ops in prop::collection::vec(op(), 1..160)) {
        run(setup, ops);
    }
}

#[test]
fn limits_and_errors() {
    let cfg = config(75);
    let mut kv: Kv<SimFlash, MapIndex> =
        Kv::format(SimFlash::new(4, 256, 4 * 256).unwrap(), cfg).unwrap();
    let long_key = [b'x'; MAX_KEY as usize + 1];
    assert_eq!(
        kv.set(&long_key, b"v"),
        Err(Error::TooLarge {
            len: MAX_KEY as u32 + 1,
            max: MAX_KEY as u32
        })
    );
    assert_eq!(
        kv.set(b"k", &[0; MAX_VALUE as usize + 1]),
        Err(Error::TooLarge {
            len: MAX_VALUE + 1,
            max: MAX_VALUE
        })
    );
    // A batch larger than a partition can never fit.
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..20u8)
        .map(|i| (vec![i], vec![i; MAX_VALUE as usize]))
        .collect();
    let refs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    assert!(matches!(
        kv.set_multiple(&refs),
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(kv.set_multiple(&[]), Ok(()));
    assert_eq!(kv.stats().used_bytes as usize, data_start(4));
    assert_eq!(kv.delete(b"absent"), Ok(false));
    assert_eq!(
        kv.stats().used_bytes as usize,
        data_start(4),
        "nothing written"
    );
    kv.set(b"k", b"value").unwrap();
    let mut small = [0u8; 2];
    assert_eq!(
        kv.get(b"k", &mut small),
        Err(Error::BufferTooSmall { needed: 5 })
    );
    assert_eq!(kv.value_len(b"k"), Ok(Some(5)));
    assert_eq!(kv.get_vec(b"k"), Ok(Some(b"value".to_vec())));
    assert_eq!(kv.get(&long_key, &mut small), Ok(None));
    let mut it = kv.iter().unwrap();
    let mut kb = [0u8; 1];
    let mut vb = [0u8; 64];
    assert_eq!(
        it.next_into(&mut kb, &mut vb),
        Ok(Some((1, 5))),
        "a 1-byte key fits"
    );
    assert_eq!(it.next_into(&mut kb, &mut vb), Ok(None));
    // Configuration errors.
    let one_sector = SimFlash::new(4, 256, 256).unwrap();
    assert!(matches!(
        Kv::<_, ScanIndex>::format(one_sector, cfg),
        Err(Error::InvalidConfig(_))
    ));
    let flash = SimFlash::new(4, 256, 2 * 256).unwrap();
    assert!(matches!(
        Kv::<_, ScanIndex>::format(flash, KvConfig::new().max_value_len(10_000)),
        Err(Error::InvalidConfig(_))
    ));
    let flash = SimFlash::new(4, 256, 2 * 256).unwrap();
    assert!(matches!(
        Kv::<_, ScanIndex>::format(flash, cfg.high_water_percent(0)),
        Err(Error::InvalidConfig(_))
    ));
    // Default limits: the largest value fits.
    let flash = SimFlash::new(4, 256, 4 * 256).unwrap();
    let mut kv: Kv<_, ScanIndex> = Kv::format(flash, KvConfig::new()).unwrap();
    let st = kv.stats();
    assert_eq!(st.max_key_len, 255);
    let big = vec![7u8; st.max_value_len as usize];
    kv.set(&[1u8; 255], &big).unwrap();
    let mut buf = vec![0u8; big.len()];
    assert_eq!(kv.get(&[1u8; 255], &mut buf), Ok(Some(big.len())));
    assert_eq!(buf, big);
    // Unformatted media.
    assert_eq!(
        Kv::<_, ScanIndex>::mount(SimFlash::new(4, 256, 1024).unwrap(), cfg).unwrap_err(),
        Error::NotFormatted
    );
}

/// The flag scenarios, step by step: crossing compacts; a compacted state over the
/// mark keeps the flag; a write that does not fit retries once after a compaction that can
/// help, and fails with `Full` without compacting when nothing changed since the last one.
#[test]
fn high_water_mark_flag() {
    // 2 sectors of 256 B: partitions of 256 B, data from 40, mark at 50 % = 128 B.
    let cfg = KvConfig::new()
        .max_key_len(8)
        .max_value_len(100)
        .high_water_percent(50);
    let mut kv: Kv<SimFlash, MapIndex> =
        Kv::format(SimFlash::new(4, 256, 2 * 256).unwrap(), cfg).unwrap();
    assert!(!kv.is_high_water_mark_triggered());
    // Overwrites of one key: each set is a 24-byte frame; crossing 128 compacts to one entry.
    for i in 0..3u8 {
        kv.set(b"a", &[i; 10]).unwrap();
    }
    assert_eq!(kv.stats().generation, 1);
    kv.set(b"a", &[9; 10]).unwrap(); // 40 + 4 * 24 = 136 >= 128: crossed, compacted
    assert_eq!(kv.stats().generation, 2);
    assert!(!kv.is_high_water_mark_triggered());
    assert_eq!(kv.stats().used_bytes, 40 + 24);
    // Live data over the mark: 100-byte values in distinct keys.
    kv.set(b"b", &[1; 60]).unwrap(); // 64 + 76 = 140 >= 128: crossed; compacted: 128, still over
    let st = kv.stats();
    assert_eq!(st.generation, 3);
    assert!(
        kv.is_high_water_mark_triggered(),
        "compacted state over the mark keeps the flag"
    );
    assert_eq!(st.used_bytes, 128);
    // Still fits: no compaction (no crossing), flag stays.
    kv.set(b"c", &[2; 60]).unwrap();
    assert_eq!(kv.stats().generation, 3);
    assert!(kv.is_high_water_mark_triggered());
    // Does not fit: compaction could help (a write happened) but cannot make room -> Full,
    // after exactly one compaction; the map is unchanged.
    assert_eq!(kv.set(b"d", &[3; 60]), Err(Error::Full));
    assert_eq!(kv.stats().generation, 4);
    // Nothing written since that compaction: Full again without compacting.
    assert_eq!(kv.set(b"d", &[3; 60]), Err(Error::Full));
    assert_eq!(kv.stats().generation, 4);
    assert_eq!(kv.get_vec(b"d"), Ok(None));
    assert_eq!(kv.get_vec(b"c"), Ok(Some(vec![2; 60])));
    // Deleting makes room; a later write that does not fit compacts and then fits.
    assert_eq!(kv.delete(b"b"), Ok(true));
    kv.set(b"d", &[3; 60]).unwrap();
    assert!(kv.stats().generation > 4);
    assert_eq!(kv.get_vec(b"d"), Ok(Some(vec![3; 60])));
    assert_eq!(kv.get_vec(b"b"), Ok(None));
    // Remount keeps everything.
    let mut kv: Kv<SimFlash, ScanIndex> = Kv::mount(kv.into_storage(), cfg).unwrap();
    assert_eq!(kv.get_vec(b"a"), Ok(Some(vec![9; 10])));
    assert_eq!(kv.get_vec(b"c"), Ok(Some(vec![2; 60])));
    assert_eq!(kv.get_vec(b"d"), Ok(Some(vec![3; 60])));
}

/// `format` over an existing image commits the empty state as a new generation, and a
/// geometry the image was not made for is refused.
#[test]
fn format_over_existing_and_geometry() {
    let cfg = config(75);
    let mut kv: Kv<SimFlash, MapIndex> =
        Kv::format(SimFlash::new(4, 256, 4 * 256).unwrap(), cfg).unwrap();
    kv.set(b"x", b"1").unwrap();
    let gen = kv.stats().generation;
    let mut kv: Kv<SimFlash, MapIndex> = Kv::format(kv.into_storage(), cfg).unwrap();
    assert_eq!(kv.stats().generation, gen + 1);
    assert_eq!(kv.get_vec(b"x"), Ok(None));
    let image = kv.into_storage().image().to_vec();
    // The same bytes seen as a storage with another write size: geometry mismatch.
    let other = SimFlash::from_image(&image, 8, 256).unwrap();
    assert_eq!(
        Kv::<_, ScanIndex>::mount(other, cfg).unwrap_err(),
        Error::GeometryMismatch
    );
}
