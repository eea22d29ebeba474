//! `FileKv`: a KV in a file. Round trips through create/open/open_read_only/close, the writer
//! lock, every operation and detached iteration in ascending key order, the high-water flag,
//! a model test (random operations against a `BTreeMap`, reopened in between, in both
//! durability modes), errors that name the file, and `FileStorage::open` telling KV files and
//! log files apart (and neither opening as the other).
#![cfg(all(feature = "file", unix))]

use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use tidelog::{
    Config, Durability, Error, FileError, FileKv, FileLog, FileStorage, KvConfig, KvOp, Storage,
    StorageError,
};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

fn entries_by_cursor(kv: &mut FileKv) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut cur = kv.cursor().unwrap();
    let mut out = Vec::new();
    while let Some(e) = kv.next_entry_vec(&mut cur).unwrap() {
        out.push(e);
    }
    out
}

fn as_vec(m: &Map) -> Vec<(Vec<u8>, Vec<u8>)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[test]
fn create_close_open_and_read_only_round_trip() {
    for durability in [Durability::EveryWrite, Durability::Explicit] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.tkv");
        let mut kv = FileKv::create(&path, 64 * 1024, KvConfig::new(), durability).unwrap();
        assert_eq!(kv.path(), path.as_path());
        assert_eq!(kv.durability(), durability);
        kv.set(b"wifi.ssid", b"workshop").unwrap();
        kv.set_multiple(&[
            (b"fw.version".as_slice(), b"1.4.2".as_slice()),
            (b"fw.slot", b"B"),
        ])
        .unwrap();
        kv.sync().unwrap();
        kv.close().unwrap();

        let mut kv = FileKv::open(&path, KvConfig::new(), durability).unwrap();
        assert_eq!(
            kv.get_vec(b"wifi.ssid").unwrap().as_deref(),
            Some(&b"workshop"[..])
        );
        assert_eq!(kv.get_vec(b"fw.slot").unwrap().as_deref(), Some(&b"B"[..]));
        assert!(kv.delete(b"fw.slot").unwrap());
        kv.close().unwrap();

        let image = std::fs::read(&path).unwrap();
        let mut ro = FileKv::open_read_only(&path).unwrap();
        let want = vec![
            (b"fw.version".to_vec(), b"1.4.2".to_vec()),
            (b"wifi.ssid".to_vec(), b"workshop".to_vec()),
        ];
        assert_eq!(ro.entries().unwrap(), want);
        let e = ro.set(b"x", b"y").unwrap_err();
        assert_eq!(e.kind(), Error::Storage(StorageError::ReadOnly));
        assert_eq!(e.context(), path.display().to_string());
        assert_eq!(
            ro.compact().unwrap_err().kind(),
            Error::Storage(StorageError::ReadOnly)
        );
        assert_eq!(
            ro.entries().unwrap(),
            want,
            "a refused write changed the view"
        );
        ro.close().unwrap();
        assert!(
            std::fs::read(&path).unwrap() == image,
            "a read-only handle wrote"
        );

        // Creating over an existing file is refused, and leaves it alone.
        let e = FileKv::create(&path, 64 * 1024, KvConfig::new(), durability).unwrap_err();
        assert_eq!(e.kind(), Error::AlreadyExists);
        assert!(std::fs::read(&path).unwrap() == image);
    }
}

#[test]
fn a_second_writer_is_locked_out_until_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.tkv");
    let mut w = FileKv::create(&path, 32 * 1024, KvConfig::new(), Durability::Explicit).unwrap();
    w.set(b"k", b"1").unwrap();
    let e = FileKv::open(&path, KvConfig::new(), Durability::Explicit).unwrap_err();
    assert_eq!(e.kind(), Error::Locked);
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("locked"),
        "{msg}"
    );
    assert_eq!(
        FileStorage::open(&path, Durability::Explicit)
            .unwrap_err()
            .kind(),
        Error::Locked
    );
    // Inspection works while the writer runs, and sees what it wrote.
    let mut ro = FileKv::open_read_only(&path).unwrap();
    assert_eq!(ro.get_vec(b"k").unwrap(), Some(b"1".to_vec()));
    drop(ro);
    w.close().unwrap();
    // The lock is released by close, at once.
    let mut w = FileKv::open(&path, KvConfig::new(), Durability::Explicit).unwrap();
    assert_eq!(w.get_vec(b"k").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn every_operation_and_detached_iteration_in_ascending_key_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ops.tkv");
    let mut kv = FileKv::create(&path, 32 * 1024, KvConfig::new(), Durability::Explicit).unwrap();
    let mut model = Map::new();
    for i in [7u8, 3, 9, 1, 5] {
        kv.set(&[b'k', i], &[i; 3]).unwrap();
        model.insert(vec![b'k', i], vec![i; 3]);
    }
    let mut buf = [0u8; 3];
    assert_eq!(kv.get(b"k\x07", &mut buf).unwrap(), Some(3));
    assert_eq!(buf, [7; 3]);
    assert_eq!(
        kv.get(b"k\x07", &mut [0u8; 2]).unwrap_err().kind(),
        Error::BufferTooSmall { needed: 3 }
    );
    assert!(kv.contains_key(b"k\x03").unwrap());
    assert!(!kv.contains_key(b"nope").unwrap());
    assert_eq!(kv.get_vec(b"nope").unwrap(), None);
    assert!(kv.delete(b"k\x03").unwrap());
    assert!(!kv.delete(b"k\x03").unwrap());
    model.remove(&b"k\x03"[..]);
    kv.apply(&[
        KvOp::Set(b"a", b"first"),
        KvOp::Delete(b"k\x09"),
        KvOp::Set(b"z", b""),
    ])
    .unwrap();
    model.insert(b"a".to_vec(), b"first".to_vec());
    model.remove(&b"k\x09"[..]);
    model.insert(b"z".to_vec(), Vec::new());
    assert_eq!(kv.entries().unwrap(), as_vec(&model));
    assert_eq!(entries_by_cursor(&mut kv), as_vec(&model));
    assert_eq!(kv.stats().live_keys, Some(model.len()));

    // A detached cursor goes on across writes and a compaction, in key order: keys it passed
    // are not seen again, keys ahead are seen with their value at that time.
    let mut cur = kv.cursor().unwrap();
    assert_eq!(
        kv.next_entry_vec(&mut cur).unwrap(),
        Some((b"a".to_vec(), b"first".to_vec()))
    );
    assert_eq!(
        kv.next_entry_vec(&mut cur).unwrap().unwrap().0,
        b"k\x01".to_vec()
    );
    kv.set(b"a", b"again").unwrap(); // passed
    kv.set(b"k\x07", b"new").unwrap(); // ahead
    kv.set(b"k\x06", b"inserted").unwrap(); // ahead, new
    kv.delete(b"k\x05").unwrap(); // ahead, deleted
    let generation = kv.stats().generation;
    kv.compact().unwrap();
    assert_eq!(kv.stats().generation, generation + 1);
    let rest: Vec<Vec<u8>> = std::iter::from_fn(|| kv.next_entry_vec(&mut cur).unwrap())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        rest,
        vec![b"k\x06".to_vec(), b"k\x07".to_vec(), b"z".to_vec()]
    );
    assert_eq!(kv.get_vec(b"k\x07").unwrap(), Some(b"new".to_vec()));

    kv.clear().unwrap();
    assert_eq!(kv.entries().unwrap(), vec![]);
    assert_eq!(kv.stats().live_keys, Some(0));
    kv.close().unwrap();
    let mut kv = FileKv::open(&path, KvConfig::new(), Durability::Explicit).unwrap();
    assert_eq!(kv.entries().unwrap(), vec![], "clear survives a reopen");
}

/// The flag is a plain reading of the fill level; crossing the mark compacts, and a live map
/// larger than the mark keeps the flag set (also after reopening).
#[test]
fn the_high_water_flag_follows_the_fill_level() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hw.tkv");
    let cfg = KvConfig::new().high_water_percent(20);
    let mut kv = FileKv::create(&path, 16 * 1024, cfg, Durability::Explicit).unwrap();
    let flag_is_fill = |kv: &FileKv| {
        let s = kv.stats();
        kv.is_high_water_mark_triggered() == (s.used_bytes >= s.high_water_mark)
    };
    let g0 = kv.stats().generation;
    // Rewriting one key: the journal grows, crossing the mark compacts it back down.
    for i in 0..200u32 {
        kv.set(b"counter", &i.to_le_bytes()).unwrap();
        assert!(flag_is_fill(&kv));
        assert!(
            !kv.is_high_water_mark_triggered(),
            "one live key stays under the mark"
        );
    }
    assert!(kv.stats().generation > g0, "crossing the mark compacted");
    // Many live keys: the compacted map itself is over the mark.
    let mut i = 0u32;
    while !kv.is_high_water_mark_triggered() {
        kv.set(format!("key{i:04}").as_bytes(), &[i as u8; 60])
            .unwrap();
        assert!(flag_is_fill(&kv));
        i += 1;
    }
    kv.compact().unwrap();
    assert!(kv.is_high_water_mark_triggered() && flag_is_fill(&kv));
    kv.close().unwrap();
    let mut kv = FileKv::open(&path, cfg, Durability::Explicit).unwrap();
    assert!(kv.is_high_water_mark_triggered() && flag_is_fill(&kv));
    assert_eq!(kv.stats().live_keys, Some(i as usize + 1));
    kv.clear().unwrap();
    assert!(!kv.is_high_water_mark_triggered() && flag_is_fill(&kv));
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.tkv");
    let shown = missing.display().to_string();
    for e in [
        FileKv::open(&missing, KvConfig::new(), Durability::Explicit).unwrap_err(),
        FileKv::open_read_only(&missing).unwrap_err(),
    ] {
        assert_eq!(e.kind(), Error::NotFound);
        assert_eq!(e.context(), shown);
        assert!(e.to_string().contains(&shown), "{e}");
    }
    let path = dir.path().join("limits.tkv");
    let cfg = KvConfig::new().max_key_len(8).max_value_len(16);
    let mut kv = FileKv::create(&path, 16 * 1024, cfg, Durability::Explicit).unwrap();
    let e = kv.set(b"a key too long", b"v").unwrap_err();
    assert_eq!(e.kind(), Error::TooLarge { len: 14, max: 8 });
    let e2 = kv.set(b"k", &[0; 17]).unwrap_err();
    assert_eq!(e2.kind(), Error::TooLarge { len: 17, max: 16 });
    for e in [e, e2] {
        assert_eq!(e.context(), path.display().to_string());
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        assert_eq!(e.code(), e.kind().code());
    }
    // A bad geometry at create names the file and leaves none behind.
    let bad = dir.path().join("bad.tkv");
    let e = FileKv::create(&bad, 1000, KvConfig::new(), Durability::Explicit).unwrap_err();
    assert!(matches!(e.kind(), Error::InvalidConfig(_)), "{e}");
    assert!(e.to_string().contains(&bad.display().to_string()), "{e}");
    assert!(!bad.exists());
}

#[test]
fn file_storage_open_reads_the_geometry_of_kv_and_log_files() {
    let dir = tempfile::tempdir().unwrap();
    let kv_path = dir.path().join("g.tkv");
    let mut kv = FileKv::create_with_geometry(
        &kv_path,
        64 * 1024,
        8,
        1024,
        KvConfig::new(),
        Durability::Explicit,
    )
    .unwrap();
    kv.set(b"k", b"v").unwrap();
    kv.close().unwrap();
    let s = FileStorage::open(&kv_path, Durability::Explicit).unwrap();
    assert_eq!(
        (s.write_size(), s.erase_size(), s.capacity()),
        (8, 1024, 64 * 1024)
    );
    s.close().unwrap();

    let log_path = dir.path().join("g.tlog");
    let cfg = Config::new().segment_sectors(2);
    let log: FileLog =
        FileLog::create_with_geometry(&log_path, 64 * 1024, 16, 2048, cfg, Durability::Explicit)
            .unwrap();
    log.close().unwrap();
    let s = FileStorage::open(&log_path, Durability::Explicit).unwrap();
    // A log's storage reports the largest power of two dividing its segment size (4 KiB).
    assert_eq!(
        (s.write_size(), s.erase_size(), s.capacity()),
        (16, 4096, 64 * 1024)
    );
    s.close().unwrap();
    let mut kv = FileKv::open(&kv_path, KvConfig::new(), Durability::Explicit).unwrap();
    assert_eq!(kv.get_vec(b"k").unwrap(), Some(b"v".to_vec()));
}

/// A log file does not open as a KV, nor a KV file as a log: a plain error naming the file,
/// the file unchanged, and no lock left behind.
#[test]
fn a_log_file_is_not_a_kv_and_a_kv_file_is_not_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("a.tlog");
    let mut log: FileLog =
        FileLog::create(&log_path, 64 * 1024, Config::new(), Durability::Explicit).unwrap();
    log.append(b"record").unwrap();
    log.close().unwrap();
    let kv_path = dir.path().join("a.tkv");
    let mut kv =
        FileKv::create(&kv_path, 64 * 1024, KvConfig::new(), Durability::Explicit).unwrap();
    kv.set(b"key", b"value").unwrap();
    kv.close().unwrap();
    let (log_image, kv_image) = (
        std::fs::read(&log_path).unwrap(),
        std::fs::read(&kv_path).unwrap(),
    );

    let check = |e: FileError, path: &Path| {
        assert_eq!(e.kind(), Error::NotFormatted, "{e}");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    };
    check(
        FileKv::open(&log_path, KvConfig::new(), Durability::EveryWrite).unwrap_err(),
        &log_path,
    );
    check(FileKv::open_read_only(&log_path).unwrap_err(), &log_path);
    check(
        FileLog::<4>::open(&kv_path, Config::new(), Durability::EveryWrite).unwrap_err(),
        &kv_path,
    );
    check(
        FileLog::<4>::open_read_only(&kv_path).unwrap_err(),
        &kv_path,
    );
    assert!(std::fs::read(&log_path).unwrap() == log_image);
    assert!(std::fs::read(&kv_path).unwrap() == kv_image);
    // Each still opens as what it is, for writing (no lock was left held).
    let mut log: FileLog = FileLog::open(&log_path, Config::new(), Durability::Explicit).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(log.read(0, &mut buf).unwrap(), 6);
    assert_eq!(&buf[..6], b"record");
    let mut kv = FileKv::open(&kv_path, KvConfig::new(), Durability::Explicit).unwrap();
    assert_eq!(kv.get_vec(b"key").unwrap(), Some(b"value".to_vec()));
}

// ---------------------------------------------------------------------------------------------
// The model test

#[derive(Debug, Clone)]
enum Op {
    Set(u8, u8),
    Delete(u8),
    SetMultiple(Vec<(u8, u8)>),
    Apply(Vec<(u8, Option<u8>)>),
    Compact,
    Clear,
    Reopen,
    ReadOnlyView,
    Get(u8),
    Iterate,
}

fn key(k: u8) -> Vec<u8> {
    format!("key-{k:02}").into_bytes()
}

fn value(k: u8, v: u8, step: usize) -> Vec<u8> {
    let len = (v as usize * 7 + step) % 120;
    (0..len).map(|i| (i as u8) ^ k ^ v ^ step as u8).collect()
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let k = 0u8..12;
    prop_oneof![
        8 => (k.clone(), any::<u8>()).prop_map(|(k, v)| Op::Set(k, v)),
        3 => k.clone().prop_map(Op::Delete),
        2 => prop::collection::vec((k.clone(), any::<u8>()), 0..5).prop_map(Op::SetMultiple),
        2 => prop::collection::vec((k.clone(), prop::option::of(any::<u8>())), 0..5)
            .prop_map(Op::Apply),
        1 => Just(Op::Compact),
        1 => Just(Op::Clear),
        2 => Just(Op::Reopen),
        1 => Just(Op::ReadOnlyView),
        3 => k.prop_map(Op::Get),
        2 => Just(Op::Iterate),
    ]
}

fn check_all(kv: &mut FileKv, model: &Map, ctx: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        kv.entries().map_err(|e| fail(ctx, e))?,
        as_vec(model),
        "{}: entries",
        ctx
    );
    prop_assert_eq!(entries_by_cursor(kv), as_vec(model), "{}: cursor", ctx);
    prop_assert_eq!(kv.stats().live_keys, Some(model.len()), "{}", ctx);
    let s = kv.stats();
    prop_assert_eq!(
        kv.is_high_water_mark_triggered(),
        s.used_bytes >= s.high_water_mark
    );
    Ok(())
}

fn fail(ctx: &str, e: FileError) -> TestCaseError {
    TestCaseError::fail(format!("{ctx}: {e}"))
}

fn run_case(durability: Durability, ops: &[Op]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.tkv");
    let cfg = KvConfig::new().high_water_percent(60);
    let mut kv =
        FileKv::create(&path, 16 * 1024, cfg, durability).map_err(|e| fail("create", e))?;
    let mut model = Map::new();
    for (i, op) in ops.iter().enumerate() {
        let ctx = format!("op #{i} {op:?}");
        let ctx = ctx.as_str();
        let f = |e| fail(ctx, e);
        match op {
            Op::Set(k, v) => {
                kv.set(&key(*k), &value(*k, *v, i)).map_err(f)?;
                model.insert(key(*k), value(*k, *v, i));
            }
            Op::Delete(k) => {
                let was = kv.delete(&key(*k)).map_err(f)?;
                prop_assert_eq!(was, model.remove(&key(*k)).is_some(), "{}", ctx);
            }
            Op::SetMultiple(pairs) => {
                let owned: Vec<(Vec<u8>, Vec<u8>)> = pairs
                    .iter()
                    .map(|&(k, v)| (key(k), value(k, v, i)))
                    .collect();
                let refs: Vec<(&[u8], &[u8])> = owned
                    .iter()
                    .map(|(k, v)| (k.as_slice(), v.as_slice()))
                    .collect();
                kv.set_multiple(&refs).map_err(f)?;
                model.extend(owned);
            }
            Op::Apply(ops) => {
                let owned: Vec<(Vec<u8>, Option<Vec<u8>>)> = ops
                    .iter()
                    .map(|&(k, v)| (key(k), v.map(|v| value(k, v, i))))
                    .collect();
                let kv_ops: Vec<KvOp<'_>> = owned
                    .iter()
                    .map(|(k, v)| match v {
                        Some(v) => KvOp::Set(k, v),
                        None => KvOp::Delete(k),
                    })
                    .collect();
                kv.apply(&kv_ops).map_err(f)?;
                for (k, v) in owned {
                    match v {
                        Some(v) => model.insert(k, v),
                        None => model.remove(&k),
                    };
                }
            }
            Op::Compact => kv.compact().map_err(f)?,
            Op::Clear => {
                kv.clear().map_err(f)?;
                model.clear();
            }
            Op::Reopen => {
                if durability == Durability::Explicit {
                    kv.sync().map_err(f)?;
                }
                kv.close().map_err(f)?;
                kv = FileKv::open(&path, cfg, durability).map_err(f)?;
                check_all(&mut kv, &model, ctx)?;
            }
            Op::ReadOnlyView => {
                let mut ro = FileKv::open_read_only(&path).map_err(f)?;
                check_all(&mut ro, &model, ctx)?;
            }
            Op::Get(k) => {
                prop_assert_eq!(
                    kv.get_vec(&key(*k)).map_err(f)?,
                    model.get(&key(*k)).cloned()
                );
            }
            Op::Iterate => check_all(&mut kv, &model, ctx)?,
        }
        let s = kv.stats();
        prop_assert_eq!(
            kv.is_high_water_mark_triggered(),
            s.used_bytes >= s.high_water_mark
        );
    }
    check_all(&mut kv, &model, "final")?;
    kv.close().map_err(|e| fail("close", e))?;
    let mut kv = FileKv::open(&path, cfg, durability).map_err(|e| fail("reopen", e))?;
    check_all(&mut kv, &model, "final reopen")
}

#[test]
fn file_kv_matches_a_map_across_reopens_in_both_durability_modes() {
    for (durability, cases) in [(Durability::Explicit, 48), (Durability::EveryWrite, 12)] {
        let mut runner = TestRunner::new(PtConfig {
            cases,
            failure_persistence: None,
            max_shrink_iters: 1024,
            ..PtConfig::default()
        });
        let t = std::time::Instant::now();
        let r = runner.run(&prop::collection::vec(op_strategy(), 1..60), |ops| {
            run_case(durability, &ops)
        });
        if let Err(e) = r {
            panic!("{durability:?}: {e}");
        }
        println!("{durability:?}: {cases} cases in {:?}", t.elapsed());
    }
}

/// A KV file cut short is a geometry mismatch, as `probe_geometry` says of the same bytes (it
/// was "not formatted").
#[test]
fn a_truncated_kv_file_is_a_geometry_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.tkv");
    let mut kv = tidelog::FileKv::create_with_geometry(
        &p,
        16384,
        4,
        1024,
        tidelog::KvConfig::new(),
        tidelog::Durability::Explicit,
    )
    .unwrap();
    kv.set(b"a", b"1").unwrap();
    kv.close().unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(8192)
        .unwrap();
    let bytes = std::fs::read(&p).unwrap();
    assert_eq!(
        tidelog::image::probe_geometry(&bytes).unwrap_err(),
        tidelog::Error::GeometryMismatch
    );
    let e = tidelog::FileKv::open_read_only(&p).unwrap_err();
    assert_eq!(e.code(), tidelog::ErrorCode::GeometryMismatch, "{e}");
}
