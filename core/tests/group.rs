//! Grouped logs (`LogDir`): every operation, name validation, ordering across reopen, atomic
//! creation, truncation, growth, and the one-writer rule within a process (across processes:
//! `lock_across_processes.rs`).
#![cfg(all(feature = "file", unix))]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use tidelog::group::{LogDir, LogDirOptions};
use tidelog::{Durability, Error};

fn entries(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Every file and directory under `dir`, relative.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(base).unwrap().display().to_string());
            if p.is_dir() {
                walk(base, &p, out);
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The file of `stream` (in whichever group).
fn stream_file(dir: &LogDir, stream: &str) -> PathBuf {
    for g in std::fs::read_dir(dir.path()).unwrap() {
        let g = g.unwrap().path();
        if !g.is_dir() {
            continue;
        }
        for s in std::fs::read_dir(&g).unwrap() {
            let s = s.unwrap().path();
            if s.to_str().unwrap().ends_with(&format!(".{stream}.tlog")) {
                return s;
            }
        }
    }
    panic!("no file for stream {stream}");
}

#[test]
fn every_operation() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = LogDir::open(tmp.path().join("sessions")).unwrap();
    assert_eq!(d.list_groups().unwrap(), Vec::<String>::new());
    d.create_stream("proj", "s1", &[b"a".as_slice(), b"bb"])
        .unwrap();
    d.create_stream("proj", "s2", &[]).unwrap();
    assert_eq!(d.append("s1", b"ccc").unwrap(), 2);
    assert_eq!(d.append("s2", b"").unwrap(), 0);
    assert_eq!(d.read_all("s1").unwrap(), entries(&["a", "bb", "ccc"]));
    assert_eq!(d.read_all("s2").unwrap(), vec![Vec::<u8>::new()]);
    assert_eq!(d.entry_count("s1").unwrap(), 3);
    assert!(d.exists("s1").unwrap() && d.exists("s2").unwrap());
    assert!(!d.exists("s3").unwrap());
    assert_eq!(d.lookup_group_of("s2").unwrap(), "proj");
    assert_eq!(d.list_groups().unwrap(), vec!["proj"]);
    assert_eq!(d.list_streams("proj").unwrap(), vec!["s2", "s1"]);
    d.truncate("s1", 1).unwrap();
    assert_eq!(d.read_all("s1").unwrap(), entries(&["a"]));
    assert_eq!(d.append("s1", b"d").unwrap(), 1);
    drop(d);

    let mut d = LogDir::open(tmp.path().join("sessions")).unwrap();
    assert_eq!(d.read_all("s1").unwrap(), entries(&["a", "d"]));
    assert_eq!(d.entry_count("s2").unwrap(), 1);
    assert_eq!(d.lookup_group_of("s1").unwrap(), "proj");
    assert_eq!(d.append("s2", b"x").unwrap(), 1);
}

#[test]
fn missing_streams_and_groups_are_not_found() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = LogDir::open(tmp.path()).unwrap();
    d.create_stream("g", "s", &[]).unwrap();
    let nf = |e: tidelog::FileError| {
        assert_eq!(e.kind(), Error::NotFound, "{e}");
        e.to_string()
    };
    assert!(nf(d.append("nope", b"x").unwrap_err()).contains("\"nope\""));
    nf(d.read_all("nope").unwrap_err());
    nf(d.entry_count("nope").unwrap_err());
    nf(d.truncate("nope", 0).unwrap_err());
    nf(d.lookup_group_of("nope").unwrap_err());
    assert!(nf(d.list_streams("nogroup").unwrap_err()).contains("group \"nogroup\""));
    assert!(!d.exists("nope").unwrap());
}

#[test]
fn names_are_validated() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = LogDir::open(tmp.path()).unwrap();
    let long = "x".repeat(201);
    let bad: &[(&str, &str)] = &[
        ("", "empty"),
        (".", "reserved"),
        ("..", "reserved"),
        ("a/b", "path separator"),
        ("/abs", "path separator"),
        ("a\\b", "path separator"),
        ("a\0b", "NUL"),
        ("a\nb", "control"),
        ("tab\t", "control"),
        ("del\u{7f}", "control"),
        ("c1\u{85}", "control"),
        (&long, "longer than 200"),
    ];
    for (name, why) in bad {
        let checks: Vec<(&str, Result<(), tidelog::FileError>)> = vec![
            ("create/stream", d.create_stream("g", name, &[])),
            ("create/group", d.create_stream(name, "s", &[])),
            ("append", d.append(name, b"x").map(drop)),
            ("read_all", d.read_all(name).map(drop)),
            ("entry_count", d.entry_count(name).map(drop)),
            ("truncate", d.truncate(name, 0)),
            ("lookup", d.lookup_group_of(name).map(drop)),
            ("exists", d.exists(name).map(drop)),
            ("list_streams", d.list_streams(name).map(drop)),
        ];
        for (op, r) in checks {
            let e = r.expect_err(op);
            assert_eq!(e.kind(), Error::InvalidName, "{op} {name:?}");
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("{name:?}")) && msg.contains(why),
                "{op}: {msg}"
            );
        }
    }
    // Nothing was created by the refused calls.
    assert!(tree(tmp.path()).is_empty(), "{:?}", tree(tmp.path()));
    for good in [
        "a.b",
        ".hidden",
        "with space",
        "ünïcode-✓",
        "x.tlog",
        &"y".repeat(200),
    ] {
        d.create_stream(good, good, &[good.as_bytes()]).unwrap();
        assert_eq!(d.read_all(good).unwrap(), vec![good.as_bytes().to_vec()]);
        assert_eq!(d.lookup_group_of(good).unwrap(), good);
    }
}

#[test]
fn stream_names_are_unique_across_groups() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = LogDir::open(tmp.path()).unwrap();
    d.create_stream("g1", "s", &[b"first".as_slice()]).unwrap();
    for g in ["g1", "g2"] {
        let e = d
            .create_stream(g, "s", &[b"second".as_slice()])
            .unwrap_err();
        assert_eq!(e.kind(), Error::AlreadyExists);
        assert!(e.to_string().contains("\"s\": already exists"), "{e}");
    }
    assert_eq!(d.read_all("s").unwrap(), entries(&["first"]));
    assert_eq!(d.list_groups().unwrap(), vec!["g1"]);
}

#[test]
fn listings_are_most_recent_first_across_reopen_not_by_mtime() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("d");
    let mut d = LogDir::open(&root).unwrap();
    d.create_stream("b-group", "s1", &[]).unwrap();
    d.create_stream("a-group", "s2", &[]).unwrap();
    d.create_stream("c-group", "s3", &[]).unwrap();
    d.create_stream("b-group", "s4", &[]).unwrap();
    d.create_stream("b-group", "s0", &[]).unwrap();
    d.append("s1", b"activity in an old stream").unwrap();
    // Make file times say the opposite of the creation order.
    let mut t = std::time::SystemTime::now();
    for s in ["s0", "s4", "s3", "s2", "s1"] {
        let f = std::fs::File::options()
            .append(true)
            .open(stream_file(&d, s))
            .unwrap();
        f.set_modified(t).unwrap();
        t -= std::time::Duration::from_secs(3600);
    }
    drop(d);
    let mut d = LogDir::open(&root).unwrap();
    assert_eq!(
        d.list_groups().unwrap(),
        vec!["c-group", "a-group", "b-group"]
    );
    assert_eq!(d.list_streams("b-group").unwrap(), vec!["s0", "s4", "s1"]);
    assert_eq!(d.list_streams("a-group").unwrap(), vec!["s2"]);
    d.create_stream("a-group", "s5", &[]).unwrap();
    assert_eq!(d.list_streams("a-group").unwrap(), vec!["s5", "s2"]);
    assert_eq!(
        d.list_groups().unwrap(),
        vec!["c-group", "a-group", "b-group"]
    );
}

#[test]
fn create_stream_is_all_or_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = LogDirOptions {
        max_capacity: 64 * 1024,
        ..LogDirOptions::default()
    };
    let mut d = LogDir::open_with(tmp.path(), opts).unwrap();
    let big = vec![7u8; 1000];
    let too_many: Vec<&[u8]> = (0..100).map(|_| big.as_slice()).collect();
    // A new group: neither the group nor the stream appears.
    let e = d.create_stream("g", "s", &too_many).unwrap_err();
    assert_eq!(e.kind(), Error::Full, "{e}");
    assert!(!d.exists("s").unwrap());
    assert_eq!(d.list_groups().unwrap(), Vec::<String>::new());
    let only_lock = |p: &Path| tree(p).iter().all(|n| n == ".lock");
    assert!(only_lock(tmp.path()), "{:?}", tree(tmp.path()));
    // An existing group: no stream, no temporary file.
    d.create_stream("g", "other", &[b"x".as_slice()]).unwrap();
    let before = tree(tmp.path());
    let e = d.create_stream("g", "s", &too_many).unwrap_err();
    assert_eq!(e.kind(), Error::Full);
    assert_eq!(tree(tmp.path()), before);
    assert_eq!(d.list_streams("g").unwrap(), vec!["other"]);
    // An entry larger than any segment can hold.
    let huge = vec![0u8; 17 << 20];
    let e = d.create_stream("g", "s", &[huge.as_slice()]).unwrap_err();
    assert!(matches!(e.kind(), Error::TooLarge { .. }), "{e}");
    assert_eq!(tree(tmp.path()), before);
    // What does fit is created whole.
    d.create_stream("g", "s", &too_many[..20]).unwrap();
    assert_eq!(d.read_all("s").unwrap().len(), 20);
}

#[test]
fn leftovers_of_interrupted_creations_are_ignored_and_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = LogDir::open(tmp.path()).unwrap();
    d.create_stream("g", "s", &[]).unwrap();
    let gdir = stream_file(&d, "s").parent().unwrap().to_path_buf();
    // A new group whose rename never happened, and a stream file never renamed into place.
    std::fs::create_dir(tmp.path().join(".tmp-1-2-3")).unwrap();
    std::fs::write(
        tmp.path().join(".tmp-1-2-3/0000000000000009.x.tlog"),
        b"junk",
    )
    .unwrap();
    let stale = gdir.join(".tmp-4-5-6");
    std::fs::write(&stale, b"junk").unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options()
        .append(true)
        .open(&stale)
        .unwrap()
        .set_modified(old)
        .unwrap();
    assert_eq!(d.list_groups().unwrap(), vec!["g"]);
    assert_eq!(d.list_streams("g").unwrap(), vec!["s"]);
    assert!(!d.exists("x").unwrap());
    d.create_stream("g", "t", &[]).unwrap();
    assert!(!tmp.path().join(".tmp-1-2-3").exists());
    assert!(!stale.exists());
}

#[test]
fn truncate_keeps_the_first_n() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = LogDir::open(tmp.path()).unwrap();
    let init: Vec<Vec<u8>> = (0..50u32)
        .map(|i| i.to_le_bytes().repeat(i as usize))
        .collect();
    let refs: Vec<&[u8]> = init.iter().map(|v| v.as_slice()).collect();
    d.create_stream("g", "s", &refs).unwrap();
    let e = d.truncate("s", 51).unwrap_err();
    assert_eq!(e.kind(), Error::OutOfRange { first: 0, next: 50 });
    d.truncate("s", 50).unwrap();
    d.truncate("s", 30).unwrap();
    assert_eq!(d.read_all("s").unwrap(), init[..30].to_vec());
    assert_eq!(d.append("s", b"new").unwrap(), 30);
    d.truncate("s", 10).unwrap();
    d.close_all();
    let mut d = LogDir::open(tmp.path()).unwrap();
    assert_eq!(d.read_all("s").unwrap(), init[..10].to_vec());
    d.truncate("s", 0).unwrap();
    assert_eq!(d.entry_count("s").unwrap(), 0);
    assert_eq!(d.append("s", b"again").unwrap(), 0);
    assert_eq!(d.read_all("s").unwrap(), entries(&["again"]));
}

/// Truncating a stream that is as full as it gets before growing. (The core keeps a spare
/// segment for control records under `FullPolicy::Reject`; should a truncation still find no
/// room, the stream is rewritten instead — atomically, a new file renamed over the old one.)
#[test]
fn truncating_a_full_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = LogDirOptions {
        initial_capacity: 16 * 1024,
        ..LogDirOptions::default()
    };
    let mut d = LogDir::open_with(tmp.path(), opts).unwrap();
    let entry = |i: u64| vec![i as u8; 700];
    // Find how many entries fill the first file: the append that grows it.
    d.create_stream("g", "probe", &[]).unwrap();
    let f = stream_file(&d, "probe");
    let ino = std::fs::metadata(&f).unwrap().ino();
    let mut fill = 0;
    while std::fs::metadata(&f).unwrap().ino() == ino {
        d.append("probe", &entry(fill)).unwrap();
        fill += 1;
    }
    let fill = fill - 1; // entries that fit before the growth
    d.create_stream("g", "s", &[]).unwrap();
    for i in 0..fill {
        d.append("s", &entry(i)).unwrap();
    }
    d.truncate("s", 2).unwrap();
    assert_eq!(d.read_all("s").unwrap(), vec![entry(0), entry(1)]);
    assert_eq!(d.append("s", b"x").unwrap(), 2);
    d.close_all();
    assert_eq!(
        LogDir::open(tmp.path()).unwrap().entry_count("s").unwrap(),
        3
    );
}

#[test]
fn streams_grow_when_full() {
    let tmp = tempfile::tempdir().unwrap();
    // Group commit: thousands of appends without an fdatasync each.
    let explicit = LogDirOptions {
        durability: Durability::Explicit,
        ..LogDirOptions::default()
    };
    let mut d = LogDir::open_with(tmp.path(), explicit).unwrap();
    d.create_stream("g", "s", &[]).unwrap();
    let mut expect = Vec::new();
    for i in 0..3000u32 {
        let e = i.to_le_bytes().repeat((i % 50) as usize);
        assert_eq!(d.append("s", &e).unwrap(), i as u64);
        expect.push(e);
    }
    // An entry far larger than the current segments.
    let big = vec![0xAB; 3 << 20];
    assert_eq!(d.append("s", &big).unwrap(), 3000);
    expect.push(big);
    assert_eq!(d.append("s", b"after").unwrap(), 3001);
    expect.push(b"after".to_vec());
    let f = stream_file(&d, "s");
    assert!(std::fs::metadata(&f).unwrap().len() > 6 << 20);
    assert_eq!(d.read_all("s").unwrap(), expect);
    d.sync_all().unwrap();
    d.close_all();
    assert_eq!(
        LogDir::open(tmp.path()).unwrap().read_all("s").unwrap(),
        expect
    );
    // Beyond max_capacity: Full, and the stream is unchanged.
    let opts = LogDirOptions {
        max_capacity: 64 * 1024,
        ..explicit
    };
    let mut d = LogDir::open_with(tmp.path().join("small"), opts).unwrap();
    d.create_stream("g", "s", &[]).unwrap();
    let mut n = 0;
    let err = loop {
        match d.append("s", &[1u8; 1000]) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind(), Error::Full, "{err}");
    assert!(err.to_string().contains("\"s\""), "{err}");
    assert!(n > 10);
    assert_eq!(d.entry_count("s").unwrap(), n);
}

#[test]
fn a_second_handle_is_locked_out_and_detects_growth() {
    let tmp = tempfile::tempdir().unwrap();
    let mut h1 = LogDir::open(tmp.path()).unwrap();
    let mut h2 = LogDir::open(tmp.path()).unwrap();
    h1.create_stream("g", "s", &[b"1".as_slice()]).unwrap();
    h1.append("s", b"2").unwrap();
    let mine = h1.entry_count("s").unwrap();
    assert_eq!(mine, 2);
    // h1 holds the stream open for writing: h2 may read but not write.
    let e = h2.append("s", b"3").unwrap_err();
    assert_eq!(e.kind(), Error::Locked);
    assert!(e.to_string().contains(".s.tlog: locked"), "{e}");
    assert_eq!(h2.read_all("s").unwrap(), entries(&["1", "2"]));
    // Once h1 lets go, h2 writes; h1 notices the stream grew behind its back.
    assert!(h1.close_stream("s"));
    assert_eq!(h2.append("s", b"3").unwrap(), 2);
    assert!(h1.entry_count("s").unwrap() > mine);
    assert_eq!(h1.append("s", b"x").unwrap_err().kind(), Error::Locked);
    h2.close_all();
    assert_eq!(h1.append("s", b"4").unwrap(), 3);
}

#[test]
fn open_streams_are_bounded() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = LogDirOptions {
        max_open_streams: 2,
        durability: Durability::Explicit,
        ..LogDirOptions::default()
    };
    let mut h1 = LogDir::open_with(tmp.path(), opts).unwrap();
    let mut h2 = LogDir::open(tmp.path()).unwrap();
    for s in ["a", "b", "c"] {
        h1.create_stream("g", s, &[]).unwrap();
        h1.append(s, s.as_bytes()).unwrap();
    }
    h1.sync_all().unwrap();
    // "a" was closed to keep two open: another writer may take it.
    h2.append("a", b"from h2").unwrap();
    assert_eq!(h2.append("c", b"x").unwrap_err().kind(), Error::Locked);
    assert_eq!(h1.read_all("a").unwrap(), entries(&["a", "from h2"]));
}

#[test]
fn close_returns_ok_and_releases_every_stream() {
    let root = tempfile::tempdir().unwrap();
    let mut dir = LogDir::open(root.path()).unwrap();
    dir.create_stream("g", "a", &[b"one".as_slice()]).unwrap();
    dir.create_stream("g", "b", &[b"two".as_slice()]).unwrap();
    dir.append("a", b"three").unwrap();
    // A second handle cannot write while the first has the streams open...
    let mut other = LogDir::open(root.path()).unwrap();
    assert_eq!(other.append("a", b"x").unwrap_err().kind(), Error::Locked);
    // ...and can once it is closed.
    dir.close().unwrap();
    other.append("a", b"four").unwrap();
    other.append("b", b"five").unwrap();
    assert_eq!(
        other.read_all("a").unwrap(),
        entries(&["one", "three", "four"])
    );
    other.close().unwrap();
}
