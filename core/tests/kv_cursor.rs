//! `KvCursor` and `KvIter`: detached iteration over a KV's live entries.
//!
//! With `MapIndex` a cursor is the last key it returned: the property test interleaves steps
//! with writes and compactions and checks every step against a `BTreeMap` — the next live key
//! after the last one returned, with its current value (so a key set after the cursor passed
//! it is not repeated, keys ahead are seen as they are now, deleted ones are skipped). With
//! `ScanIndex` a cursor walks the journal: entries come in the order they were last written,
//! and a step after any write is refused with `InvalidArgument`. `BufferTooSmall` never moves
//! a cursor.
#![cfg(feature = "alloc")]

use std::collections::BTreeMap;
use std::ops::Bound;

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use tidelog::{Error, Kv, KvConfig, KvCursor, KvIndex, KvOp, MapIndex, ScanIndex, VecStorage};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

fn new_kv<I: KvIndex>() -> Kv<VecStorage, I> {
    let cfg = KvConfig::new().max_key_len(16).max_value_len(64);
    Kv::format(VecStorage::new(8 * 1024, 4, 1024).unwrap(), cfg).unwrap()
}

fn key(k: u8) -> Vec<u8> {
    format!("k{k:02}").into_bytes()
}

fn value(k: u8, step: usize) -> Vec<u8> {
    let len = (k as usize * 5 + step * 3) % 60;
    (0..len).map(|i| (i + step) as u8 ^ k).collect()
}

fn drain<I: KvIndex>(kv: &mut Kv<VecStorage, I>, cur: &mut KvCursor) -> Vec<(Vec<u8>, Vec<u8>)> {
    std::iter::from_fn(|| kv.next_entry_vec(cur).unwrap()).collect()
}

// ---------------------------------------------------------------------------------------------
// MapIndex: the property test

#[derive(Debug, Clone)]
enum Op {
    /// Cursor `c` takes a step, reading in one of three ways.
    Step(usize, u8),
    Set(u8),
    Delete(u8),
    SetMultiple(Vec<u8>),
    Apply(Vec<(u8, bool)>),
    Compact,
    Clear,
    /// A fresh cursor reads everything.
    Whole,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let k = 0u8..20;
    prop_oneof![
        10 => (0usize..2, 0u8..3).prop_map(|(c, m)| Op::Step(c, m)),
        6 => k.clone().prop_map(Op::Set),
        3 => k.clone().prop_map(Op::Delete),
        2 => prop::collection::vec(k.clone(), 0..5).prop_map(Op::SetMultiple),
        2 => prop::collection::vec((k, any::<bool>()), 0..5).prop_map(Op::Apply),
        1 => Just(Op::Compact),
        1 => Just(Op::Clear),
        1 => Just(Op::Whole),
    ]
}

fn expected_after(model: &Map, last: &Option<Vec<u8>>) -> Option<(Vec<u8>, Vec<u8>)> {
    let lo = match last {
        Some(k) => Bound::Excluded(k.clone()),
        None => Bound::Unbounded,
    };
    model
        .range((lo, Bound::Unbounded))
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
}

fn map_case(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut kv = new_kv::<MapIndex>();
    let mut model = Map::new();
    let mut cursors = [kv.cursor().unwrap(), kv.cursor().unwrap()];
    let mut last: [Option<Vec<u8>>; 2] = [None, None];
    let generation = kv.stats().generation;
    for (i, op) in ops.iter().enumerate() {
        let ctx = format!("op #{i} {op:?}");
        match op {
            Op::Step(c, mode) => {
                let want = expected_after(&model, &last[*c]);
                let cur = &mut cursors[*c];
                let got = match mode {
                    0 => kv.next_entry_vec(cur).unwrap(),
                    1 => {
                        let (mut kb, mut vb) = ([0u8; 16], [0u8; 64]);
                        kv.next_entry(cur, &mut kb, &mut vb)
                            .unwrap()
                            .map(|(k, v)| (kb[..k].to_vec(), vb[..v].to_vec()))
                    }
                    _ => {
                        // Too small first (nothing consumed), then large enough.
                        if let Some((k, v)) = &want {
                            let (kb_len, vb_len) = if v.is_empty() {
                                (k.len() - 1, 0)
                            } else {
                                (16, v.len() - 1)
                            };
                            let needed = if v.is_empty() { k.len() } else { v.len() } as u32;
                            let (mut kb, mut vb) = (vec![0u8; kb_len], vec![0u8; vb_len]);
                            prop_assert_eq!(
                                kv.next_entry(cur, &mut kb, &mut vb),
                                Err(Error::BufferTooSmall { needed }),
                                "{}",
                                ctx
                            );
                        }
                        kv.next_entry_vec(cur).unwrap()
                    }
                };
                prop_assert_eq!(&got, &want, "{}", ctx);
                if let Some((k, _)) = got {
                    last[*c] = Some(k);
                }
            }
            Op::Set(k) => {
                kv.set(&key(*k), &value(*k, i)).unwrap();
                model.insert(key(*k), value(*k, i));
            }
            Op::Delete(k) => {
                prop_assert_eq!(
                    kv.delete(&key(*k)).unwrap(),
                    model.remove(&key(*k)).is_some()
                );
            }
            Op::SetMultiple(ks) => {
                let owned: Vec<(Vec<u8>, Vec<u8>)> =
                    ks.iter().map(|&k| (key(k), value(k, i))).collect();
                let pairs: Vec<(&[u8], &[u8])> = owned
                    .iter()
                    .map(|(k, v)| (k.as_slice(), v.as_slice()))
                    .collect();
                kv.set_multiple(&pairs).unwrap();
                model.extend(owned);
            }
            Op::Apply(ks) => {
                let owned: Vec<(Vec<u8>, Option<Vec<u8>>)> = ks
                    .iter()
                    .map(|&(k, set)| (key(k), set.then(|| value(k, i))))
                    .collect();
                let ops: Vec<KvOp<'_>> = owned
                    .iter()
                    .map(|(k, v)| match v {
                        Some(v) => KvOp::Set(k, v),
                        None => KvOp::Delete(k),
                    })
                    .collect();
                kv.apply(&ops).unwrap();
                for (k, v) in owned {
                    match v {
                        Some(v) => model.insert(k, v),
                        None => model.remove(&k),
                    };
                }
            }
            Op::Compact => kv.compact().unwrap(),
            Op::Clear => {
                kv.clear().unwrap();
                model.clear();
            }
            Op::Whole => {
                let mut cur = kv.cursor().unwrap();
                let all = drain(&mut kv, &mut cur);
                let want: Vec<(Vec<u8>, Vec<u8>)> = model.clone().into_iter().collect();
                prop_assert_eq!(&all, &want, "{}", ctx);
                prop_assert_eq!(kv.entries().unwrap(), want, "{}", ctx);
            }
        }
    }
    COMPACTIONS.with(|c| c.set(c.get() + kv.stats().generation - generation));
    Ok(())
}

thread_local! {
    static COMPACTIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[test]
fn a_map_index_cursor_steps_through_the_map_as_it_is_at_each_step() {
    let mut runner = TestRunner::new(PtConfig {
        cases: 128,
        failure_persistence: None,
        ..PtConfig::default()
    });
    let r = runner.run(&prop::collection::vec(op_strategy(), 1..120), |ops| {
        map_case(&ops)
    });
    if let Err(e) = r {
        panic!("{e}");
    }
    let n = COMPACTIONS.with(|c| c.get());
    println!("generations passed by cursors: {n}");
    assert!(
        n > 100,
        "writes should have crossed the high-water mark: {n}"
    );
}

#[test]
fn a_map_index_cursor_across_writes_and_a_compaction() {
    let mut kv = new_kv::<MapIndex>();
    for k in [1u8, 3, 5, 7, 9] {
        kv.set(&key(k), b"old").unwrap();
    }
    let mut cur = kv.cursor().unwrap();
    assert_eq!(
        kv.next_entry_vec(&mut cur).unwrap(),
        Some((key(1), b"old".to_vec()))
    );
    assert_eq!(
        kv.next_entry_vec(&mut cur).unwrap(),
        Some((key(3), b"old".to_vec()))
    );
    kv.set(&key(1), b"new").unwrap(); // passed: not repeated
    kv.set(&key(2), b"new").unwrap(); // behind: not seen
    kv.set(&key(7), b"new").unwrap(); // ahead: seen with its new value
    kv.delete(&key(5)).unwrap(); // ahead: skipped
    kv.set(&key(8), b"new").unwrap(); // ahead, new: seen
    kv.compact().unwrap();
    let rest = drain(&mut kv, &mut cur);
    assert_eq!(
        rest,
        vec![
            (key(7), b"new".to_vec()),
            (key(8), b"new".to_vec()),
            (key(9), b"old".to_vec())
        ]
    );
    // At the end it stays at the end, and sees keys set later after its last one.
    assert_eq!(kv.next_entry_vec(&mut cur).unwrap(), None);
    kv.set(&key(0), b"behind").unwrap();
    kv.set(&key(10), b"ahead").unwrap();
    assert_eq!(
        kv.next_entry_vec(&mut cur).unwrap(),
        Some((key(10), b"ahead".to_vec()))
    );
    assert_eq!(kv.next_entry_vec(&mut cur).unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// ScanIndex

/// Live keys in the order they were last written (what a journal walk yields).
fn journal_order(writes: &[(Vec<u8>, bool)]) -> Vec<Vec<u8>> {
    let mut order: Vec<Vec<u8>> = Vec::new();
    for (k, set) in writes {
        order.retain(|x| x != k);
        if *set {
            order.push(k.clone());
        }
    }
    order
}

#[test]
fn a_scan_index_cursor_yields_journal_order_also_after_compactions() {
    let mut kv = new_kv::<ScanIndex>();
    let mut writes = Vec::new();
    let mut values = Map::new();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    for step in 0..400usize {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let k = (rng % 12) as u8;
        if rng.is_multiple_of(5) {
            kv.delete(&key(k)).unwrap();
            writes.push((key(k), false));
            values.remove(&key(k));
        } else if rng.is_multiple_of(7) {
            let (a, b) = (key(k), key((k + 1) % 12));
            let (va, vb) = (value(k, step), value(k + 1, step));
            kv.set_multiple(&[(a.as_slice(), va.as_slice()), (b.as_slice(), vb.as_slice())])
                .unwrap();
            writes.push((a.clone(), true));
            writes.push((b.clone(), true));
            values.insert(a, va);
            values.insert(b, vb);
        } else {
            kv.set(&key(k), &value(k, step)).unwrap();
            writes.push((key(k), true));
            values.insert(key(k), value(k, step));
        }
        if step % 50 == 49 {
            let mut cur = kv.cursor().unwrap();
            let got = drain(&mut kv, &mut cur);
            let want: Vec<(Vec<u8>, Vec<u8>)> = journal_order(&writes)
                .into_iter()
                .map(|k| {
                    let v = values[&k].clone();
                    (k, v)
                })
                .collect();
            assert_eq!(got, want, "after {} writes", step + 1);
            assert_eq!(kv.entries().unwrap(), want);
        }
    }
    assert!(
        kv.stats().generation > 3,
        "the writes should have compacted"
    );
}

#[test]
fn a_scan_index_cursor_refuses_to_step_after_any_write() {
    type Write = fn(&mut Kv<VecStorage, ScanIndex>);
    let writes: Vec<(&str, Write)> = vec![
        ("set", |kv| kv.set(b"z", b"1").unwrap()),
        ("set of a key already read", |kv| {
            kv.set(&key(0), b"again").unwrap()
        }),
        ("delete", |kv| assert!(kv.delete(&key(4)).unwrap())),
        ("set_multiple", |kv| {
            kv.set_multiple(&[(b"x".as_slice(), b"1".as_slice())])
                .unwrap()
        }),
        ("apply", |kv| kv.apply(&[KvOp::Delete(&key(1))]).unwrap()),
        ("compact", |kv| kv.compact().unwrap()),
        ("clear", |kv| kv.clear().unwrap()),
    ];
    for (what, write) in writes {
        let mut kv = new_kv::<ScanIndex>();
        for k in 0..5u8 {
            kv.set(&key(k), &[k; 4]).unwrap();
        }
        let mut cur = kv.cursor().unwrap();
        assert_eq!(
            kv.next_entry_vec(&mut cur).unwrap(),
            Some((key(0), vec![0; 4]))
        );
        let before = cur.clone();
        write(&mut kv);
        assert!(
            matches!(kv.next_entry_vec(&mut cur), Err(Error::InvalidArgument(_))),
            "{what}"
        );
        let (mut kb, mut vb) = ([0u8; 16], [0u8; 64]);
        assert!(
            matches!(
                kv.next_entry(&mut cur, &mut kb, &mut vb),
                Err(Error::InvalidArgument(_))
            ),
            "{what}"
        );
        let mut old = before;
        assert!(
            matches!(kv.next_entry_vec(&mut old), Err(Error::InvalidArgument(_))),
            "{what}"
        );
        // A fresh cursor reads the KV as it is now.
        let mut fresh = kv.cursor().unwrap();
        let all = drain(&mut kv, &mut fresh);
        assert_eq!(all, kv.entries().unwrap(), "{what}");
    }
    // Writes that write nothing change nothing: the cursor goes on.
    let mut kv = new_kv::<ScanIndex>();
    kv.set(b"a", b"1").unwrap();
    kv.set(b"b", b"2").unwrap();
    let mut cur = kv.cursor().unwrap();
    assert_eq!(
        kv.next_entry_vec(&mut cur).unwrap(),
        Some((b"a".to_vec(), b"1".to_vec()))
    );
    assert!(!kv.delete(b"absent").unwrap());
    kv.set_multiple(&[]).unwrap();
    kv.apply(&[]).unwrap();
    assert_eq!(
        kv.next_entry_vec(&mut cur).unwrap(),
        Some((b"b".to_vec(), b"2".to_vec()))
    );
    assert_eq!(kv.next_entry_vec(&mut cur).unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Both indexes

fn too_small_consumes_nothing<I: KvIndex>() {
    let mut kv = new_kv::<I>();
    kv.set(b"short", b"").unwrap();
    kv.set(b"a-longer-key", &[9u8; 40]).unwrap();
    let mut cur = kv.cursor().unwrap();
    let mut seen = Vec::new();
    loop {
        let peek = cur.clone();
        let Some((k, v)) = kv.next_entry_vec(&mut cur.clone()).unwrap() else {
            break;
        };
        assert_eq!(
            kv.next_entry(&mut cur, &mut [], &mut []).unwrap_err(),
            Error::BufferTooSmall {
                needed: k.len() as u32
            }
        );
        if !v.is_empty() {
            let mut kb = vec![0u8; k.len()];
            assert_eq!(
                kv.next_entry(&mut cur, &mut kb, &mut vec![0u8; v.len() - 1]),
                Err(Error::BufferTooSmall {
                    needed: v.len() as u32
                })
            );
        }
        // Nothing consumed: the entry comes next, into buffers of exactly its size.
        let (mut kb, mut vb) = (vec![0u8; k.len()], vec![0u8; v.len()]);
        assert_eq!(
            kv.next_entry(&mut cur, &mut kb, &mut vb).unwrap(),
            Some((k.len(), v.len()))
        );
        assert_eq!((kb, vb), (k.clone(), v.clone()));
        let mut again = peek;
        assert_eq!(
            kv.next_entry_vec(&mut again).unwrap(),
            Some((k.clone(), v.clone()))
        );
        seen.push((k, v));
    }
    assert_eq!(seen, kv.entries().unwrap());
    assert_eq!(seen.len(), 2);
    // KvIter: the same.
    let mut it = kv.iter().unwrap();
    assert!(matches!(
        it.next_into(&mut [], &mut []),
        Err(Error::BufferTooSmall { .. })
    ));
    let mut via_iter = Vec::new();
    while let Some(e) = it.next_vec().unwrap() {
        via_iter.push(e);
    }
    assert_eq!(via_iter, seen);
}

#[test]
fn buffer_too_small_consumes_nothing() {
    too_small_consumes_nothing::<MapIndex>();
    too_small_consumes_nothing::<ScanIndex>();
}
