//! Bit-flip sweep of KV images: every bit of images written by seeded workloads (both
//! partitions in use, several compactions behind them) is flipped in turn.
//!
//! * **Flip, then mount** (both index variants): mount shows a map that existed — the state
//!   after some prefix of the operations (damage in the journal tail truncates it there;
//!   damage in the active header, or among the frames its compaction wrote, falls back to the
//!   previous generation, itself an earlier state). No single flip makes the KV unmountable.
//!   Iteration and `get` never disagree and never return bytes that were not written for that
//!   key at that point. No panic.
//! * **Mount, then flip**: every `get` returns the current value or an error
//!   ([`Error::Corrupt`]) — never other bytes.

#![cfg(all(feature = "sim", feature = "alloc"))]

use std::collections::BTreeMap;

use tidelog::{Error, Kv, KvConfig, KvIndex, MapIndex, ScanIndex, SimFlash};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

struct Image {
    bytes: Vec<u8>,
    ws: usize,
    es: usize,
    cfg: KvConfig,
    /// The map after every prefix of the operations.
    states: Vec<Model>,
    /// The final map.
    last: Model,
}

/// Runs a seeded workload and returns the image with every intermediate state.
fn build(seed: u64, ws: usize, sectors: usize) -> Image {
    let es = 256;
    let cfg = KvConfig::new()
        .max_key_len(8)
        .max_value_len(40)
        .high_water_percent(70);
    let mut kv: Kv<SimFlash, MapIndex> =
        Kv::format(SimFlash::new(ws, es, 2 * sectors * es).unwrap(), cfg).unwrap();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut model = Model::new();
    let mut states = vec![model.clone()];
    for _ in 0..60 {
        let k = vec![b'a' + rng.below(6) as u8; 1 + rng.below(4) as usize];
        match rng.below(10) {
            0 | 1 => {
                if kv.delete(&k).unwrap() {
                    model.remove(&k);
                }
            }
            2 => {
                let k2 = vec![b'a' + rng.below(6) as u8; 2];
                let v = vec![rng.next() as u8; rng.below(20) as usize];
                match kv.set_multiple(&[(&k, &v), (&k2, &v)]) {
                    Ok(()) => {
                        model.insert(k, v.clone());
                        model.insert(k2, v);
                    }
                    Err(Error::Full) => {}
                    Err(e) => panic!("{e}"),
                }
            }
            _ => {
                let v: Vec<u8> = (0..rng.below(41)).map(|_| rng.next() as u8).collect();
                match kv.set(&k, &v) {
                    Ok(()) => {
                        model.insert(k, v);
                    }
                    Err(Error::Full) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }
        states.push(model.clone());
    }
    assert!(kv.stats().generation >= 3, "the workload must compact");
    Image {
        bytes: kv.into_storage().image().to_vec(),
        ws,
        es,
        cfg,
        states,
        last: model,
    }
}

/// Mounts and reads everything: `Err` for any reported error.
fn read<I: KvIndex>(sim: SimFlash, cfg: KvConfig, keys: &[Vec<u8>]) -> Result<Model, Error> {
    let mut kv: Kv<SimFlash, I> = Kv::mount(sim, cfg)?;
    let mut m = Model::new();
    for (k, v) in kv.entries()? {
        assert!(m.insert(k, v).is_none(), "a key iterated twice");
    }
    let mut buf = [0u8; 64];
    for k in keys {
        let got = kv.get(k, &mut buf)?.map(|n| buf[..n].to_vec());
        assert_eq!(got.as_ref(), m.get(k), "get disagrees with iteration");
    }
    Ok(m)
}

fn sweep(img: &Image) -> (u64, u64, u64) {
    let keys: Vec<Vec<u8>> = img
        .states
        .iter()
        .flat_map(|s| s.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (mut same, mut older, mut errors) = (0u64, 0u64, 0u64);
    for bit in 0..img.bytes.len() * 8 {
        let mut bytes = img.bytes.clone();
        bytes[bit / 8] ^= 1 << (bit % 8);
        let a = read::<ScanIndex>(
            SimFlash::from_image(&bytes, img.ws, img.es).unwrap(),
            img.cfg,
            &keys,
        );
        let b = read::<MapIndex>(
            SimFlash::from_image(&bytes, img.ws, img.es).unwrap(),
            img.cfg,
            &keys,
        );
        match (&a, &b) {
            (Ok(x), Ok(y)) => {
                assert_eq!(x, y, "bit {bit}: the index variants disagree");
                if *x == img.last {
                    same += 1;
                } else {
                    assert!(
                        img.states.contains(x),
                        "bit {bit} (byte {:#x}): mounted a map that never existed: {x:?}",
                        bit / 8
                    );
                    older += 1;
                }
            }
            (Err(_), Err(_)) => errors += 1,
            _ => panic!("bit {bit}: one variant mounts, the other fails: {a:?} / {b:?}"),
        }
    }
    (same, older, errors)
}

#[test]
fn flip_then_mount_every_bit() {
    let mut totals = (0, 0, 0);
    for (seed, ws, sectors) in [(1u64, 4usize, 2usize), (2, 1, 3), (3, 32, 3), (4, 8, 2)] {
        let img = build(seed, ws, sectors);
        let (same, older, errors) = sweep(&img);
        println!(
            "kv bit-flip ws={ws} {} bits: {same} unchanged, {older} earlier state, {errors} reported",
            img.bytes.len() * 8
        );
        // A flip in the active partition's compacted frames mounts the previous generation
        // (which the other partition still holds), one in its header too, one in a later frame
        // cuts the journal there: no single flipped bit costs the whole KV.
        assert_eq!(errors, 0, "a single flipped bit made the KV unmountable");
        totals = (totals.0 + same, totals.1 + older, totals.2 + errors);
    }
    assert!(
        totals.1 > 0,
        "some flips must fall back to an earlier state"
    );
    println!(
        "kv bit-flip: {} flips, {} unchanged, {} earlier state, {} reported, 0 wrong",
        totals.0 + totals.1 + totals.2,
        totals.0,
        totals.1,
        totals.2
    );
}

fn flip_after_mount<I: KvIndex>(img: &Image) -> (u64, u64) {
    let (mut ok, mut reported) = (0u64, 0u64);
    let mut buf = [0u8; 64];
    for bit in 0..img.bytes.len() * 8 {
        let sim = SimFlash::from_image(&img.bytes, img.ws, img.es).unwrap();
        let mut kv: Kv<SimFlash, I> = Kv::mount(sim, img.cfg).unwrap();
        kv.storage_mut().flip_bit((bit / 8) as u32, (bit % 8) as u8);
        for (k, v) in &img.last {
            match kv.get(k, &mut buf) {
                Ok(Some(n)) => {
                    assert_eq!(&buf[..n], &v[..], "bit {bit}: wrong bytes for {k:?}");
                    ok += 1;
                }
                Ok(None) => panic!("bit {bit}: {k:?} vanished without an error"),
                Err(Error::Corrupt { .. }) => reported += 1,
                Err(e) => panic!("bit {bit}: {e}"),
            }
        }
    }
    (ok, reported)
}

#[test]
fn mount_then_flip_every_bit() {
    for (seed, ws, sectors) in [(5u64, 4usize, 2usize), (6, 16, 2)] {
        let img = build(seed, ws, sectors);
        let (ok, rep) = flip_after_mount::<MapIndex>(&img);
        assert!(rep > 0);
        let (ok2, rep2) = flip_after_mount::<ScanIndex>(&img);
        assert!(rep2 > 0);
        println!(
            "kv flip after mount ws={ws}: map {ok} correct / {rep} reported, scan {ok2} correct / {rep2} reported"
        );
    }
}
