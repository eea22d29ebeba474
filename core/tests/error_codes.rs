//! Error codes as the bindings see them: every error the public API produces in the scenarios
//! below — together they produce every code there is — has its `code()` in `ErrorCode::ALL`,
//! a number that `ErrorCode::from_u16` maps back, a name and a description, and a non-empty
//! `Display`; a `FileError`'s code is its kind's, and its `Display` names what it concerns.
#![cfg(all(feature = "file", feature = "sim", unix))]

use std::collections::BTreeSet;

use tidelog::format::header::{decode_fixed, encode_fixed, FIXED_HEADER_LEN};
use tidelog::image::probe_geometry;
use tidelog::{
    Config, Cut, Durability, Error, ErrorCode, FileError, FileKv, FileLog, Kv, KvConfig, Log,
    PowerCut, ReadOnly, SharedFileLog, SimFlash, Storage, VecStorage,
};

/// What the scenarios produced: (scenario, error), and (scenario, file error).
#[derive(Default)]
struct Seen {
    errors: Vec<(&'static str, Error)>,
    file_errors: Vec<(&'static str, FileError)>,
}

impl Seen {
    fn err<T: std::fmt::Debug>(&mut self, what: &'static str, r: Result<T, Error>) {
        match r {
            Err(e) => self.errors.push((what, e)),
            Ok(v) => panic!("{what}: expected an error, got {v:?}"),
        }
    }
    fn file<T: std::fmt::Debug>(&mut self, what: &'static str, r: Result<T, FileError>) {
        match r {
            Err(e) => self.file_errors.push((what, e)),
            Ok(v) => panic!("{what}: expected an error, got {v:?}"),
        }
    }
}

fn sim_log(cfg: Config) -> Log<SimFlash, 2> {
    Log::format(SimFlash::new(4, 1024, 8 * 1024).unwrap(), cfg).unwrap()
}

fn log_scenarios(s: &mut Seen) {
    let mut log = sim_log(Config::new());
    let max = log.layout().max_record_size as usize;
    for i in 0..20u8 {
        log.append(&[i; 40]).unwrap();
    }
    let mut buf = [0u8; 8];
    s.err("read past the end", log.read(20, &mut buf));
    s.err("read into a small buffer", log.read(0, &mut buf));
    s.err("a record over the maximum", log.append(&vec![0; max + 1]));
    s.err("an empty batch", log.append_batch(&[]));
    s.err("a consumer name too long", log.commit(&"n".repeat(33), 1));
    s.err(
        "removing an unknown consumer",
        log.remove_consumer("nobody"),
    );
    log.commit("a", 1).unwrap();
    log.commit("b", 1).unwrap();
    s.err("a third consumer in a log for two", log.commit("c", 1));
    log.remove_consumer("b").unwrap();
    log.trim_front(5).unwrap();
    s.err("read below the first offset", log.read(0, &mut buf));
    s.err(
        "a cursor below the first offset",
        log.cursor(1).map(|c| c.offset()),
    );
    s.err("truncate past the end", log.truncate_back(99));
    loop {
        match log.append(&[7; 100]) {
            Ok(_) => {}
            Err(e) => {
                s.errors.push(("appending to a full log", e));
                break;
            }
        }
    }

    // Damage: a flipped bit in a record is reported, never returned.
    let mut log = sim_log(Config::new());
    log.append(&[0x11; 64]).unwrap();
    let at = log
        .storage()
        .image()
        .windows(64)
        .position(|w| w.iter().all(|&b| b == 0x11))
        .unwrap();
    log.storage_mut().flip_bit(at as u32 + 10, 3);
    s.err("reading a damaged record", log.read_vec(0));

    // A power cut: the write fails with the storage's error, later writes need a remount.
    let mut log = sim_log(Config::new());
    let at_op = log.storage().mutating_ops();
    log.storage_mut().set_fault(Some(PowerCut {
        at_op,
        cut: Cut::TornPrefix,
    }));
    s.err("a power cut during an append", log.append(&[1; 50]));
    log.storage_mut().power_cycle();
    s.err("writing after a failed write", log.append(b"x"));

    // Images.
    let blank = VecStorage::new(8 * 1024, 4, 1024).unwrap();
    s.err(
        "mounting a blank storage",
        Log::<_>::mount(blank, Config::new()),
    );
    let mut v = VecStorage::new(8 * 1024, 4, 1024).unwrap();
    Log::<_>::format(&mut v, Config::new()).unwrap();
    let mut image = v.into_vec();
    s.err("probing an image cut short", probe_geometry(&image[..4096]));
    let mut b = [0u8; FIXED_HEADER_LEN];
    b.copy_from_slice(&image[..FIXED_HEADER_LEN]);
    let mut h = decode_fixed(&b).unwrap();
    h.version = 2;
    encode_fixed(&h, &mut b);
    image[..FIXED_HEADER_LEN].copy_from_slice(&b);
    s.err("an image of a newer format", probe_geometry(&image));
    s.err(
        "a storage geometry that cannot hold a log",
        Log::<_>::format(VecStorage::new(1024, 4, 1024).unwrap(), Config::new()),
    );
    s.err(
        "an erase size that is not a power of two",
        VecStorage::new(3000, 4, 1000),
    );

    // Read-only.
    let mut v = VecStorage::new(8 * 1024, 4, 1024).unwrap();
    Log::<_>::format(&mut v, Config::new())
        .unwrap()
        .append(b"r")
        .unwrap();
    let ro = ReadOnly::new(VecStorage::from_image(v.into_vec()).unwrap());
    let mut log: Log<_> = Log::mount(ro, Config::new()).unwrap();
    s.err("appending to a read-only log", log.append(b"x"));

    // The storage trait itself (what a binding's storage callback reports).
    let mut sim = SimFlash::new(4, 1024, 4096).unwrap();
    s.err(
        "a read out of bounds",
        sim.read(4096, &mut buf).map_err(Error::from),
    );
    s.err(
        "a misaligned program",
        sim.program(2, &[0; 4]).map_err(Error::from),
    );
    sim.program(0, &[0; 4]).unwrap();
    s.err(
        "programming a unit twice",
        sim.program(0, &[0; 4]).map_err(Error::from),
    );

    // The KV.
    let cfg = KvConfig::new().max_key_len(8).max_value_len(100);
    let mut kv: Kv<_> = Kv::format(VecStorage::new(2 * 1024, 4, 1024).unwrap(), cfg).unwrap();
    s.err("a KV key too long", kv.set(b"a key too long", b"v"));
    let mut n = 0u32;
    let full = loop {
        match kv.set(&n.to_le_bytes(), &[0; 100]) {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
    };
    s.errors.push(("a full KV", full));
}

fn file_scenarios(s: &mut Seen) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.tlog");
    s.file(
        "opening a missing file",
        FileLog::<4>::open(&path, Config::new(), Durability::Explicit),
    );
    let mut log: FileLog =
        FileLog::create(&path, 64 * 1024, Config::new(), Durability::Explicit).unwrap();
    log.append(b"x").unwrap();
    s.file(
        "creating over an existing file",
        FileLog::<4>::create(&path, 64 * 1024, Config::new(), Durability::Explicit),
    );
    s.file(
        "a second writer",
        FileLog::<4>::open(&path, Config::new(), Durability::Explicit),
    );
    s.file("a FileLog read past the end", log.read(5, &mut [0u8; 8]));
    s.file("refresh on a writable handle", log.refresh());
    s.file(
        "a directory as a log file",
        FileLog::<4>::open(dir.path(), Config::new(), Durability::Explicit),
    );
    s.file(
        "a file too small for a log",
        FileLog::<4>::create(
            dir.path().join("tiny.tlog"),
            4096,
            Config::new(),
            Durability::Explicit,
        ),
    );
    log.close().unwrap();
    let mut ro: FileLog = FileLog::open_read_only(&path).unwrap();
    s.file("appending through a read-only FileLog", ro.append(b"x"));
    s.file("a log file opened as a KV", FileKv::open_read_only(&path));

    let shared: SharedFileLog = SharedFileLog::create(
        dir.path().join("s.tlog"),
        64 * 1024,
        Config::new(),
        Durability::EveryWrite,
    )
    .unwrap();
    shared.append(b"x").unwrap();
    shared.close().unwrap();
    s.file("appending to a closed shared log", shared.append(b"y"));
    s.file("closing a shared log twice", shared.close());
    let mut kv = FileKv::create(
        dir.path().join("k.tkv"),
        16 * 1024,
        KvConfig::new().max_key_len(4),
        Durability::Explicit,
    )
    .unwrap();
    s.file("a FileKv key too long", kv.set(b"too long", b""));
}

#[test]
fn every_error_has_a_code_in_the_table_and_a_message() {
    let mut s = Seen::default();
    log_scenarios(&mut s);
    file_scenarios(&mut s);
    let mut codes = BTreeSet::new();
    let all: Vec<(String, Error)> = s
        .errors
        .iter()
        .map(|(w, e)| (w.to_string(), *e))
        .chain(
            s.file_errors
                .iter()
                .map(|(w, e)| (format!("{w} (FileError)"), e.kind())),
        )
        .collect();
    for (what, e) in &all {
        let c = e.code();
        assert!(
            ErrorCode::ALL.contains(&c),
            "{what}: {e:?} has code {c:?}, not in ALL"
        );
        assert_eq!(ErrorCode::from_u16(c.as_u16()), Some(c), "{what}");
        assert!(c.as_u16() > 0, "{what}: 0 is success");
        assert!(
            !c.name().is_empty() && !c.description().is_empty(),
            "{what}"
        );
        let shown = e.to_string();
        assert!(!shown.is_empty(), "{what}: {e:?} displays as nothing");
        println!("{:>2} {:<22} {what}: {shown}", c.as_u16(), c.name());
        codes.insert(c);
    }
    for (what, e) in &s.file_errors {
        assert_eq!(e.code(), e.kind().code(), "{what}");
        let shown = e.to_string();
        assert!(!shown.is_empty(), "{what}");
        if !e.context().is_empty() {
            assert!(
                shown.contains(e.context()),
                "{what}: {shown:?} does not name {:?}",
                e.context()
            );
        }
        // A FileError turns into the plain error of its kind.
        assert_eq!(Error::from(FileError::new(e.kind(), e.context())), e.kind());
    }
    let missing: Vec<ErrorCode> = ErrorCode::ALL
        .iter()
        .copied()
        .filter(|c| !codes.contains(c))
        .collect();
    assert!(missing.is_empty(), "no scenario produced {missing:?}");
    // Numbers outside the table decode to nothing.
    assert_eq!(ErrorCode::from_u16(0), None);
    assert_eq!(ErrorCode::from_u16(20), None);
    assert_eq!(ErrorCode::from_u16(u16::MAX), None);
}
