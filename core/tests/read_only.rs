//! Opening an image read-only never changes a byte of it, and shows what a writer would see:
//! `probe_geometry` reads the geometry from the image, `VecStorage::from_image` owns it,
//! `ReadOnly` refuses every write (without poisoning the log or the KV) and keeps mount's
//! repairs in memory, and `Log::recovery` reports what mount repaired or would repair.
//!
//! Golden images (`tests/golden/`, described by their `.txt` files as in `golden.rs` and
//! `kv_golden.rs`) mount this way with the documented contents; images with stale segments are
//! made by cutting the power during `truncate_back` on `SimFlash`.
#![cfg(all(feature = "sim", feature = "alloc"))]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tidelog::format::crc32c;
use tidelog::format::header::{decode_fixed, encode_fixed, FIXED_HEADER_LEN};
use tidelog::image::{probe_geometry, ImageKind};
use tidelog::{
    Config, Cut, Error, FullPolicy, Kv, KvConfig, KvIndex, KvOp, Log, MapIndex, PowerCut, ReadOnly,
    ScanIndex, SimFlash, StorageError, VecStorage,
};

const RO: Error = Error::Storage(StorageError::ReadOnly);

// ---------------------------------------------------------------------------------------------
// Golden descriptions (the `.txt` format of golden.rs and kv_golden.rs)

#[derive(Debug, Default)]
struct Description {
    fields: BTreeMap<String, String>,
    consumers: Vec<(String, u64)>,
    records: Vec<(u64, Vec<u8>)>,
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

impl Description {
    fn parse(text: &str) -> Self {
        let mut d = Description::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("record ") {
                let (off, hex) = rest.split_once(' ').expect("record OFFSET HEX");
                d.records.push((off.parse().unwrap(), unhex(hex)));
            } else if let Some(rest) = line.strip_prefix("consumer ") {
                let (name, off) = rest.rsplit_once(' ').expect("consumer NAME OFFSET");
                d.consumers.push((name.to_string(), off.parse().unwrap()));
            } else if let Some(rest) = line.strip_prefix("entry ") {
                let (k, v) = rest.split_once(' ').expect("entry KEY VALUE");
                d.entries.insert(unhex(k), unhex(v));
            } else {
                let (k, v) = line.split_once(": ").expect("key: value");
                d.fields.insert(k.to_string(), v.to_string());
            }
        }
        d
    }
    fn get(&self, k: &str) -> &str {
        self.fields
            .get(k)
            .unwrap_or_else(|| panic!("missing field {k}"))
    }
    fn num(&self, k: &str) -> u64 {
        self.get(k).parse().unwrap()
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

/// Every golden image whose name starts with `prefix`: (name, description, image bytes).
fn goldens(prefix: &str) -> Vec<(String, Description, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(golden_dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !(name.starts_with(prefix) && name.ends_with(".txt")) {
            continue;
        }
        let d = Description::parse(&std::fs::read_to_string(&p).unwrap());
        let bin = std::fs::read(golden_dir().join(d.get("image"))).unwrap();
        assert_eq!(format!("{:08x}", crc32c(&bin)), d.get("image_crc32c"));
        out.push((name, d, bin));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn records<S: tidelog::Storage, const C: usize>(log: &mut Log<S, C>) -> Vec<(u64, Vec<u8>)> {
    let mut cur = log.cursor(log.first_offset()).unwrap();
    let mut out = Vec::new();
    while let Some(r) = log.read_next_vec(&mut cur).unwrap() {
        out.push(r);
    }
    out
}

type RoLog = Log<ReadOnly<VecStorage>, 16>;
type LogWrite = fn(&mut RoLog) -> Result<(), Error>;
type KvWrite<I> = fn(&mut Kv<ReadOnly<VecStorage>, I>) -> Result<(), Error>;

fn mount_read_only(image: &[u8], cfg: Config) -> RoLog {
    let storage = VecStorage::from_image(image.to_vec()).expect("from_image");
    Log::mount(ReadOnly::new(storage), cfg).expect("read-only mount")
}

// ---------------------------------------------------------------------------------------------
// (a) golden images

#[test]
fn golden_log_images_probe_and_mount_read_only_unchanged() {
    let all = goldens("v");
    assert!(all.len() >= 3, "expected the log golden images");
    for (name, d, bin) in &all {
        let g = probe_geometry(bin).unwrap_or_else(|e| panic!("{name}: probe: {e}"));
        let ImageKind::Log(l) = g.kind else {
            panic!("{name}: probed as {:?}", g.kind)
        };
        for (key, got) in [
            ("write_size", l.write_size as u64),
            ("erase_size", l.erase_size as u64),
            ("segment_size", l.segment_size as u64),
            ("segment_count", l.segment_count as u64),
            ("index_interval", l.index_interval as u64),
            ("max_record_size", l.max_record_size as u64),
            ("max_consumers", l.max_consumers as u64),
        ] {
            assert_eq!(got, d.num(key), "{name}: probed {key}");
        }
        assert_eq!(g.write_size as u64, d.num("write_size"), "{name}");
        assert_eq!(g.erase_size as u64, d.num("erase_size"), "{name}");
        assert_eq!(g.capacity, bin.len(), "{name}: capacity");

        let policy = match d.get("full_policy") {
            "Reject" => FullPolicy::Reject,
            _ => FullPolicy::OverwriteOldest,
        };
        let mut log = mount_read_only(bin, Config::new().full_policy(policy));
        assert!(log.storage().inner().as_slice() == bin.as_slice());
        assert_eq!(log.layout(), &l, "{name}");
        let (first, next) = (d.num("first_offset"), d.num("next_offset"));
        assert_eq!(
            (log.first_offset(), log.next_offset()),
            (first, next),
            "{name}"
        );
        let consumers: Vec<(String, u64)> =
            log.consumers().map(|(n, o)| (n.to_string(), o)).collect();
        assert_eq!(consumers, d.consumers, "{name}: consumers");
        assert_eq!(records(&mut log), d.records, "{name}: records by cursor");
        let mut buf = vec![0u8; l.max_record_size as usize];
        for (off, rec) in &d.records {
            let n = log.read(*off, &mut buf).unwrap();
            assert_eq!(&buf[..n], &rec[..], "{name}: read({off})");
        }
        println!("{name}: {:?}", log.recovery());
        assert!(log.recovery().is_clean(), "{name}: {:?}", log.recovery());
        assert_eq!(log.append(b"no"), Err(RO), "{name}");
        let back = log.into_storage();
        assert!(back.erased_in_overlay().is_empty(), "{name}");
        assert!(
            back.into_inner().into_vec() == *bin,
            "{name}: a read-only mount changed the image"
        );
    }
}

fn kv_entries<S: tidelog::Storage, I: KvIndex>(kv: &mut Kv<S, I>) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut cur = kv.cursor().unwrap();
    let mut out = BTreeMap::new();
    while let Some((k, v)) = kv.next_entry_vec(&mut cur).unwrap() {
        assert!(out.insert(k, v).is_none(), "a key twice");
    }
    out
}

fn check_kv_golden<I: KvIndex>(name: &str, d: &Description, bin: &[u8]) {
    let cfg = KvConfig::new().high_water_percent(d.num("high_water_percent") as u8);
    let storage = ReadOnly::new(VecStorage::from_image(bin.to_vec()).unwrap());
    let mut kv: Kv<_, I> = Kv::mount(storage, cfg).unwrap_or_else(|e| panic!("{name}: {e}"));
    let st = kv.stats();
    assert_eq!(st.generation, d.num("generation"), "{name}");
    assert_eq!(
        st.active_partition as u64,
        d.num("active_partition"),
        "{name}"
    );
    assert_eq!(st.used_bytes as u64, d.num("used_bytes"), "{name}");
    assert_eq!(
        kv.is_high_water_mark_triggered().to_string(),
        d.get("high_water_mark_triggered"),
        "{name}"
    );
    assert_eq!(kv_entries(&mut kv), d.entries, "{name}: entries");
    for (k, v) in &d.entries {
        assert_eq!(kv.get_vec(k).unwrap().as_ref(), Some(v), "{name}");
    }
    assert_eq!(kv.set(b"no", b"no"), Err(RO), "{name}");
    assert!(
        kv.into_storage().into_inner().into_vec() == bin,
        "{name}: a read-only KV mount changed the image"
    );
}

#[test]
fn golden_kv_images_probe_and_mount_read_only_unchanged() {
    let all = goldens("kv_v");
    assert!(all.len() >= 4, "expected the KV golden images");
    for (name, d, bin) in &all {
        let g = probe_geometry(bin).unwrap_or_else(|e| panic!("{name}: probe: {e}"));
        let ImageKind::Kv(h) = g.kind else {
            panic!("{name}: probed as {:?}", g.kind)
        };
        assert_eq!(h.write_size as u64, d.num("write_size"), "{name}");
        assert_eq!(h.erase_size as u64, d.num("erase_size"), "{name}");
        assert_eq!(h.partition_size as u64, d.num("partition_size"), "{name}");
        assert_eq!(h.max_key_len as u64, d.num("max_key_len"), "{name}");
        assert_eq!(h.max_value_len as u64, d.num("max_value_len"), "{name}");
        assert_eq!(g.write_size as u64, d.num("write_size"), "{name}");
        assert_eq!(g.erase_size as u64, d.num("erase_size"), "{name}");
        assert_eq!(g.capacity, bin.len(), "{name}: capacity");
        check_kv_golden::<ScanIndex>(name, d, bin);
        check_kv_golden::<MapIndex>(name, d, bin);
    }
}

// ---------------------------------------------------------------------------------------------
// (b) stale segments left by a truncation cut short

/// A log filling six of its eight segments; `n` is an offset inside segment 1, so
/// `truncate_back(n)` opens a new segment linking back to segment 1 and erases 2..=5.
fn log_before_truncation() -> (SimFlash, Config, u64, Vec<Vec<u8>>) {
    let cfg = Config::new().index_interval(64);
    let mut sim = SimFlash::new(4, 1024, 8 * 1024).unwrap();
    let mut log: Log<&mut SimFlash> = Log::format(&mut sim, cfg).unwrap();
    let mut recs = Vec::new();
    let mut in_segment_1 = None;
    while log.stats().segments_used < 6 {
        let r = vec![log.next_offset() as u8; 40];
        let off = log.append(&r).unwrap();
        recs.push(r);
        if log.stats().segments_used == 2 && in_segment_1.is_none() {
            in_segment_1 = Some(off + 2);
        }
    }
    log.commit("reader", 3).unwrap();
    (sim, cfg, in_segment_1.unwrap(), recs)
}

#[test]
fn stale_segments_mount_read_only_unrepaired_and_a_writer_erases_them() {
    let (sim, cfg, n, recs) = log_before_truncation();
    let snap = sim.snapshot();
    let (ws, es) = (4, 1024);
    let mut with_stale = 0;
    'cuts: for j in 0..16u64 {
        for cut in [Cut::Before, Cut::After, Cut::TornPrefix, Cut::TornBits] {
            let mut sim = SimFlash::new(ws, es, snap.image().len()).unwrap();
            sim.restore(&snap);
            let mut log: Log<&mut SimFlash> = Log::mount(&mut sim, cfg).unwrap();
            let at = log.storage().mutating_ops() + j;
            log.storage_mut()
                .set_fault(Some(PowerCut { at_op: at, cut }));
            let _ = log.truncate_back(n);
            let finished = log.storage().is_powered();
            sim.power_cycle();
            let image = sim.image().to_vec();

            // Read-only: the records of the old or the truncated log, the image unchanged.
            let mut ro = mount_read_only(&image, cfg);
            let report = ro.recovery();
            let got = records(&mut ro);
            let next = ro.next_offset();
            assert!(
                next == n || next == recs.len() as u64,
                "op {j} {cut:?}: truncation not atomic: next {next}"
            );
            let want: Vec<(u64, Vec<u8>)> =
                (0..next).map(|o| (o, recs[o as usize].clone())).collect();
            assert_eq!(got, want, "op {j} {cut:?}: read-only records");
            let overlay = ro.storage().erased_in_overlay().to_vec();
            assert_eq!(
                overlay.iter().map(|(a, b)| b - a).sum::<u32>(),
                report.stale_segments * 1024,
                "op {j} {cut:?}: the overlay holds exactly the stale segments"
            );
            assert!(
                ro.into_storage().into_inner().into_vec() == image,
                "op {j} {cut:?}: the read-only mount changed the image"
            );

            // Writable, on a copy: the same records and report; the stale segments erased.
            let mut copy = SimFlash::from_image(&image, ws, es).unwrap();
            let mut w: Log<&mut SimFlash> = Log::mount(&mut copy, cfg).unwrap();
            assert_eq!(w.recovery(), report, "op {j} {cut:?}: reports differ");
            assert_eq!(records(&mut w), want, "op {j} {cut:?}: writable records");
            for &(a, b) in &overlay {
                assert!(
                    copy.image()[a as usize..b as usize]
                        .iter()
                        .all(|&x| x == 0xFF),
                    "op {j} {cut:?}: the writer did not erase {a}..{b}"
                );
                assert!(image[a as usize..b as usize].iter().any(|&x| x != 0xFF));
            }
            let again: Log<&mut SimFlash> = Log::mount(&mut copy, cfg).unwrap();
            assert_eq!(
                again.recovery().stale_segments,
                0,
                "op {j} {cut:?}: not repaired"
            );
            if report.stale_segments > 0 {
                with_stale += 1;
                assert!(!report.is_clean());
            }
            if finished {
                break 'cuts;
            }
        }
    }
    println!("{with_stale} cut images with stale segments");
    assert!(with_stale > 0, "no cut left stale segments");
}

// ---------------------------------------------------------------------------------------------
// (c) every write refused, reads unaffected

fn sample_log_image() -> Vec<u8> {
    let cfg = Config::new().index_interval(64);
    let mut v = VecStorage::new(8 * 1024, 4, 1024).unwrap();
    let mut log: Log<&mut VecStorage> = Log::format(&mut v, cfg).unwrap();
    for i in 0..30u8 {
        log.append(&[i; 25]).unwrap();
    }
    log.append_batch(&[b"a".as_slice(), b"bc"]).unwrap();
    log.commit("reader", 10).unwrap();
    log.commit("other", 20).unwrap();
    v.into_vec()
}

#[test]
fn every_write_to_a_read_only_log_fails_and_reads_go_on() {
    let image = sample_log_image();
    let mut log = mount_read_only(&image, Config::new());
    let before = records(&mut log);
    let (first, next) = (log.first_offset(), log.next_offset());
    let mut writes: Vec<(&str, LogWrite)> = vec![
        ("append", |l| l.append(b"x").map(drop)),
        ("append_batch", |l| {
            l.append_batch(&[b"x".as_slice(), b"y"]).map(drop)
        }),
        ("extend", |l| l.extend(&[b"x".as_slice(), b"y"]).map(drop)),
        ("commit", |l| l.commit("reader", 15)),
        ("commit (new consumer)", |l| l.commit("new", 1)),
        ("rewind", |l| l.rewind("reader", 2)),
        ("remove_consumer", |l| l.remove_consumer("other")),
        ("trim_front", |l| l.trim_front(5)),
        ("truncate_back", |l| l.truncate_back(7)),
    ];
    writes.push(("append again", |l| l.append(b"x").map(drop)));
    for (what, op) in &writes {
        assert_eq!(op(&mut log), Err(RO), "{what}");
        // Not poisoned: reads work, and the log is as it was.
        assert_eq!(
            (log.first_offset(), log.next_offset()),
            (first, next),
            "{what}"
        );
        assert_eq!(log.read_vec(first), Ok(before[0].1.clone()), "{what}");
        assert_eq!(log.committed("reader"), Some(10), "{what}");
        assert_eq!(log.committed("other"), Some(20), "{what}");
    }
    assert_eq!(records(&mut log), before);
    assert_eq!(
        log.sync(),
        Ok(()),
        "sync on a read-only storage has nothing to do"
    );
    assert!(log.into_storage().into_inner().into_vec() == image);
}

fn kv_refuses_writes<I: KvIndex>() {
    let mut v = VecStorage::new(4 * 1024, 4, 1024).unwrap();
    let mut kv: Kv<&mut VecStorage, I> = Kv::format(&mut v, KvConfig::new()).unwrap();
    kv.set(b"a", b"1").unwrap();
    kv.set_multiple(&[(b"b".as_slice(), b"2".as_slice()), (b"c", b"3")])
        .unwrap();
    drop(kv);
    let image = v.into_vec();
    let storage = ReadOnly::new(VecStorage::from_image(image.clone()).unwrap());
    let mut kv: Kv<_, I> = Kv::mount(storage, KvConfig::new()).unwrap();
    let before = kv_entries(&mut kv);
    assert_eq!(before.len(), 3);
    let writes: Vec<(&str, KvWrite<I>)> = vec![
        ("set", |kv| kv.set(b"a", b"9")),
        ("delete", |kv| kv.delete(b"b").map(drop)),
        ("delete (absent)", |kv| kv.delete(b"zz").map(drop)),
        ("set_multiple", |kv| {
            kv.set_multiple(&[(b"x".as_slice(), b"y".as_slice())])
        }),
        ("apply", |kv| {
            kv.apply(&[KvOp::Delete(b"a"), KvOp::Set(b"d", b"4")])
        }),
        ("compact", |kv| kv.compact()),
        ("clear", |kv| kv.clear()),
        ("set again", |kv| kv.set(b"e", b"5")),
    ];
    for (what, op) in &writes {
        assert_eq!(op(&mut kv), Err(RO), "{what}");
        assert_eq!(kv.get_vec(b"a"), Ok(Some(b"1".to_vec())), "{what}");
    }
    assert_eq!(kv_entries(&mut kv), before);
    assert!(kv.into_storage().into_inner().into_vec() == image);
}

#[test]
fn every_write_to_a_read_only_kv_fails_and_reads_go_on() {
    kv_refuses_writes::<ScanIndex>();
    kv_refuses_writes::<MapIndex>();
}

// ---------------------------------------------------------------------------------------------
// (d) probe errors

/// splitmix64.
fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[test]
fn probing_what_holds_no_image_is_not_formatted() {
    let mut cases: Vec<(String, Vec<u8>)> = vec![
        ("empty".into(), vec![]),
        ("10 bytes".into(), vec![0x5A; 10]),
        ("63 bytes of 0xFF".into(), vec![0xFF; 63]),
        ("all 0xFF".into(), vec![0xFF; 8192]),
        ("all zero".into(), vec![0; 8192]),
    ];
    let mut next = rng(7);
    for i in 0..48 {
        let len = (next() % 20_000) as usize;
        cases.push((
            format!("random #{i} ({len} bytes)"),
            (0..len).map(|_| next() as u8).collect(),
        ));
    }
    for (what, bytes) in &cases {
        assert_eq!(probe_geometry(bytes), Err(Error::NotFormatted), "{what}");
        assert_eq!(
            VecStorage::from_image(bytes.clone()).err(),
            Some(Error::NotFormatted),
            "{what}"
        );
    }
    // An erased storage mounts as nothing, read-only too.
    let ro = ReadOnly::new(VecStorage::new(8192, 4, 1024).unwrap());
    assert_eq!(
        Log::<_>::mount(ro, Config::new()).err(),
        Some(Error::NotFormatted)
    );
}

#[test]
fn probing_an_image_cut_below_its_segments_is_a_geometry_mismatch() {
    let image = sample_log_image();
    for keep in [image.len() / 2, image.len() - 1024, 1024 + 17] {
        let cut = image[..keep].to_vec();
        assert_eq!(
            probe_geometry(&cut),
            Err(Error::GeometryMismatch),
            "log cut to {keep}"
        );
        assert_eq!(
            VecStorage::from_image(cut).err(),
            Some(Error::GeometryMismatch)
        );
    }
    let mut v = VecStorage::new(4 * 1024, 4, 1024).unwrap();
    Kv::<_>::format(&mut v, KvConfig::new())
        .unwrap()
        .set(b"k", b"v")
        .unwrap();
    let kv = v.into_vec();
    assert!(probe_geometry(&kv).is_ok());
    let cut = kv[..3 * 1024].to_vec(); // partition 1 would end at 4 KiB
    assert_eq!(
        probe_geometry(&cut),
        Err(Error::GeometryMismatch),
        "KV cut short"
    );
}

#[test]
fn probing_headers_of_a_newer_version_is_unsupported_version() {
    // Every segment header patched to version 2, its CRC recomputed.
    let mut image = sample_log_image();
    let mut patched = 0;
    for addr in (0..image.len()).step_by(1024) {
        let mut b = [0u8; FIXED_HEADER_LEN];
        b.copy_from_slice(&image[addr..addr + FIXED_HEADER_LEN]);
        if let Ok(mut h) = decode_fixed(&b) {
            h.version = 2;
            encode_fixed(&h, &mut b);
            image[addr..addr + FIXED_HEADER_LEN].copy_from_slice(&b);
            patched += 1;
        }
    }
    assert!(patched >= 2);
    let want = Error::UnsupportedVersion { found: 2 };
    assert_eq!(probe_geometry(&image), Err(want));
    assert_eq!(VecStorage::from_image(image.clone()).err(), Some(want));
    let ro = ReadOnly::new(VecStorage::from_vec(image, 4, 1024).unwrap());
    assert_eq!(Log::<_>::mount(ro, Config::new()).err(), Some(want));

    // A KV header (bytes 4..6 the version, 36..40 the CRC of 0..36).
    let mut v = VecStorage::new(4 * 1024, 4, 1024).unwrap();
    Kv::<_>::format(&mut v, KvConfig::new()).unwrap();
    let mut kv = v.into_vec();
    kv[4..6].copy_from_slice(&2u16.to_le_bytes());
    let crc = crc32c(&kv[0..36]);
    kv[36..40].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(probe_geometry(&kv), Err(want));
    let ro = ReadOnly::new(VecStorage::from_vec(kv, 4, 1024).unwrap());
    assert_eq!(Kv::<_>::mount(ro, KvConfig::new()).err(), Some(want));
}

// ---------------------------------------------------------------------------------------------
// (e) VecStorage round trip, recovery reports

#[test]
fn vec_storage_gives_back_the_image_it_was_made_from() {
    let mut images: Vec<Vec<u8>> = goldens("").into_iter().map(|(_, _, b)| b).collect();
    images.push(sample_log_image());
    for img in &images {
        let v = VecStorage::from_image(img.clone()).unwrap();
        assert_eq!(v.as_slice(), &img[..]);
        assert!(v.into_vec() == *img);
    }
    // Bytes past the last whole sector are dropped.
    let mut longer = sample_log_image();
    let len = longer.len();
    longer.extend_from_slice(&[0xAB; 100]);
    assert!(VecStorage::from_image(longer).unwrap().into_vec() == sample_log_image()[..len]);
}

#[test]
fn a_cleanly_closed_log_reports_a_clean_recovery() {
    let mut sim = SimFlash::new(4, 1024, 8192).unwrap();
    let mut log: Log<&mut SimFlash> = Log::format(&mut sim, Config::new()).unwrap();
    assert!(log.recovery().is_clean(), "a formatted log");
    for i in 0..60u8 {
        log.append(&[i; 30]).unwrap();
    }
    log.commit("c", 10).unwrap();
    log.trim_front(5).unwrap();
    log.truncate_back(50).unwrap();
    let log: Log<&mut SimFlash> = Log::mount(&mut sim, Config::new()).unwrap();
    assert!(log.recovery().is_clean(), "{:?}", log.recovery());
    let ro = mount_read_only(sim.image(), Config::new());
    assert!(ro.recovery().is_clean(), "{:?}", ro.recovery());
}

/// A cut mid-append that leaves bytes of the frame on the medium is a torn tail: reported by a
/// read-only and a writable mount alike, the records before it intact, and the next append
/// goes to a fresh segment.
#[test]
fn a_cut_mid_append_is_reported_as_a_torn_tail() {
    let cfg = Config::new();
    let mut sim = SimFlash::new(4, 1024, 8192).unwrap();
    let mut log: Log<&mut SimFlash> = Log::format(&mut sim, cfg).unwrap();
    for i in 0..3u8 {
        log.append(&[i; 20]).unwrap();
    }
    let snap = sim.snapshot();
    let mut torn = 0;
    for seed in 0..24u64 {
        for cut in [Cut::TornPrefix, Cut::TornBits] {
            let mut sim = SimFlash::new(4, 1024, 8192).unwrap().with_seed(seed);
            sim.restore(&snap);
            let mut log: Log<&mut SimFlash> = Log::mount(&mut sim, cfg).unwrap();
            let at = log.storage().mutating_ops();
            log.storage_mut()
                .set_fault(Some(PowerCut { at_op: at, cut }));
            assert!(log.append(&[0xEE; 100]).is_err());
            sim.power_cycle();
            let changed = sim.image() != snap.image();
            let ro = mount_read_only(sim.image(), cfg);
            let report = ro.recovery();
            assert_eq!(
                ro.next_offset(),
                3,
                "seed {seed} {cut:?}: a torn record is not there"
            );
            drop(ro);
            let mut w: Log<&mut SimFlash> = Log::mount(&mut sim, cfg).unwrap();
            assert_eq!(w.recovery(), report);
            // Bytes of the frame on the medium (a torn frame) are reported; none, nothing is.
            assert_eq!(report.torn_tail, changed, "seed {seed} {cut:?}: {report:?}");
            if changed {
                torn += 1;
            }
            assert_eq!(w.append(b"after").unwrap(), 3);
            assert_eq!(records(&mut w).len(), 4);
        }
    }
    assert!(torn > 0, "no cut tore the frame");
}
