//! FileStorage and FileLog: create/open/reopen, self-describing images, byte-identical images,
//! the writer lock within a process, read-only inspection, durability modes. (The lock
//! against other processes is tested in `lock_across_processes.rs`.)
#![cfg(all(feature = "file", unix))]

use std::path::Path;
use tidelog::{
    Config, Durability, Error, FileError, FileLog, FileStorage, FullPolicy, Log, RamStorage,
    Storage, StorageError,
};

fn records(log: &mut FileLog) -> Vec<(u64, Vec<u8>)> {
    let first = log.first_offset();
    log.iter(first).unwrap().map(|r| r.unwrap()).collect()
}

fn rec(i: u64) -> Vec<u8> {
    let len = (i * 37 % 300) as usize;
    (0..len).map(|j| (i as usize * 7 + j) as u8).collect()
}

#[test]
fn create_append_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tlog");
    let cfg = Config::new().segment_sectors(4);
    let mut log: FileLog = FileLog::create(&path, 256 * 1024, cfg, Durability::Explicit).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 256 * 1024);
    for i in 0..500 {
        assert_eq!(log.append(&rec(i)).unwrap(), i);
    }
    assert_eq!(log.append_batch(&[b"x".as_slice(), b"yz"]).unwrap(), 500);
    log.sync().unwrap();
    let before = records(&mut log);
    assert_eq!(before.len(), 502);
    drop(log);

    let mut log: FileLog = FileLog::open(&path, cfg, Durability::Explicit).unwrap();
    assert_eq!(log.next_offset(), 502);
    assert_eq!(records(&mut log), before);
    assert_eq!(log.append(b"more").unwrap(), 502);
    let mut buf = [0u8; 8];
    assert_eq!(log.read(502, &mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"more");
    assert_eq!(log.path(), path.as_path());
}

#[test]
fn open_needs_no_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.tlog");
    let cfg = Config::new().segment_sectors(2).index_interval(256);
    let mut log: FileLog =
        FileLog::create_with_geometry(&path, 128 * 1024, 16, 8192, cfg, Durability::EveryWrite)
            .unwrap();
    log.append(b"geometry").unwrap();
    drop(log);
    let s = FileStorage::open(&path, Durability::Explicit).unwrap();
    // The erase size reported is the largest power of two dividing the segment size.
    assert_eq!(
        (s.write_size(), s.erase_size(), s.capacity()),
        (16, 16384, 128 * 1024)
    );
    drop(s);
    let mut log: FileLog = FileLog::open(&path, Config::new(), Durability::Explicit).unwrap();
    let l = *log.layout();
    assert_eq!(
        (l.write_size, l.erase_size, l.segment_size),
        (16, 8192, 16384)
    );
    assert_eq!(records(&mut log), vec![(0, b"geometry".to_vec())]);
}

/// The file holds exactly the bytes the same operations produce on a RAM "flash" of the same
/// geometry: an image moves between a file and a device unchanged.
#[test]
fn file_image_is_byte_identical_to_flash_image() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("img.tlog");
    let cfg = Config::new().index_interval(128);
    let cap = 32 * 1024;
    let mut mem = vec![0xFFu8; cap];
    let mut ram: Log<_> = Log::format(RamStorage::new(&mut mem, 4, 4096).unwrap(), cfg).unwrap();
    let mut file: FileLog =
        FileLog::create_with_geometry(&path, cap as u64, 4, 4096, cfg, Durability::Explicit)
            .unwrap();
    for i in 0..150 {
        ram.append(&rec(i)).unwrap();
        file.append(&rec(i)).unwrap();
    }
    ram.commit("c", 100).unwrap();
    file.commit("c", 100).unwrap();
    ram.truncate_back(120).unwrap();
    file.truncate_back(120).unwrap();
    file.sync().unwrap();
    drop(file);
    assert!(std::fs::read(&path).unwrap() == mem, "images differ");
    // And the flash image opens as a file.
    let copy = dir.path().join("from-flash.tlog");
    std::fs::write(&copy, &mem).unwrap();
    let mut log: FileLog = FileLog::open(&copy, cfg, Durability::Explicit).unwrap();
    assert_eq!(log.next_offset(), 120);
    assert_eq!(log.committed("c"), Some(100));
    assert_eq!(records(&mut log).len(), 120);
}

#[test]
fn open_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.tlog");
    let e = FileLog::<4>::open(&missing, Config::new(), Durability::Explicit).unwrap_err();
    assert_eq!(e.kind(), Error::NotFound);
    assert!(e.to_string().contains("missing.tlog"), "{e}");

    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, vec![0x5Au8; 64 * 1024]).unwrap();
    let e = FileLog::<4>::open(&junk, Config::new(), Durability::Explicit).unwrap_err();
    assert_eq!(e.kind(), Error::NotFormatted);
    assert!(e.to_string().contains("junk.bin"), "{e}");

    // A create cut short before the first header (the file still reads 0x00).
    let zeros = dir.path().join("zeros.tlog");
    std::fs::write(&zeros, vec![0u8; 64 * 1024]).unwrap();
    let e = FileLog::<4>::open_read_only(&zeros).unwrap_err();
    assert_eq!(e.kind(), Error::NotFormatted);

    let path = dir.path().join("a.tlog");
    FileLog::<4>::create(&path, 64 * 1024, Config::new(), Durability::Explicit).unwrap();
    let e =
        FileLog::<4>::create(&path, 64 * 1024, Config::new(), Durability::Explicit).unwrap_err();
    assert_eq!(e.kind(), Error::AlreadyExists);
    assert!(e.to_string().contains("a.tlog: already exists"), "{e}");
}

#[test]
fn create_checks_the_geometry() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.tlog");
    let too_big = FileStorage::create(&p, (4 << 30) + 4096, 4, 4096, Durability::Explicit);
    assert!(matches!(
        too_big.unwrap_err().kind(),
        Error::InvalidConfig(_)
    ));
    let unaligned = FileStorage::create(&p, 10_000, 4, 4096, Durability::Explicit);
    assert!(matches!(
        unaligned.unwrap_err().kind(),
        Error::InvalidConfig(_)
    ));
    let bad_ws = FileStorage::create(&p, 8192, 3, 4096, Durability::Explicit);
    assert!(matches!(
        bad_ws.unwrap_err().kind(),
        Error::InvalidConfig(_)
    ));
    assert!(!p.exists(), "a failed create leaves no file");
    // One segment only: the log cannot be formatted, and no file is left behind.
    let e = FileLog::<4>::create(&p, 4096, Config::new(), Durability::Explicit).unwrap_err();
    assert!(matches!(e.kind(), Error::InvalidConfig(_)));
    assert!(!p.exists());
}

#[test]
fn a_second_writer_in_the_same_process_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.tlog");
    let mut w: FileLog =
        FileLog::create(&path, 64 * 1024, Config::new(), Durability::EveryWrite).unwrap();
    w.append(b"one").unwrap();
    let e = FileLog::<4>::open(&path, Config::new(), Durability::Explicit).unwrap_err();
    assert_eq!(e.kind(), Error::Locked);
    assert_eq!(e, Error::Locked);
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("locked"),
        "{msg}"
    );
    let e = FileStorage::open(&path, Durability::Explicit).unwrap_err();
    assert_eq!(e.kind(), Error::Locked);
    drop(w);
    let mut w: FileLog = FileLog::open(&path, Config::new(), Durability::Explicit).unwrap();
    assert_eq!(w.append(b"two").unwrap(), 1);
}

#[test]
fn read_only_open_works_while_a_writer_runs_and_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.tlog");
    let mut w: FileLog =
        FileLog::create(&path, 64 * 1024, Config::new(), Durability::Explicit).unwrap();
    for i in 0..50 {
        w.append(&rec(i)).unwrap();
    }
    let image = std::fs::read(&path).unwrap();
    let mut r: FileLog = FileLog::open_read_only(&path).unwrap();
    assert!(r.storage().is_read_only());
    assert_eq!(r.next_offset(), 50);
    assert_eq!(records(&mut r).len(), 50);
    let e = r.append(b"nope").unwrap_err();
    assert_eq!(e.kind(), Error::Storage(StorageError::ReadOnly));
    assert!(r.trim_front(10).is_err());
    r.sync().unwrap();
    drop(r);
    assert!(
        std::fs::read(&path).unwrap() == image,
        "a read-only handle wrote"
    );
    // The writer is unaffected, and a new read-only view sees its new records.
    w.append(b"later").unwrap();
    let mut r: FileLog = FileLog::open_read_only(&path).unwrap();
    assert_eq!(r.next_offset(), 51);
    assert_eq!(records(&mut r)[50].1, b"later");
}

/// A truncation cut short leaves dead segments that mount erases. A read-only mount drops
/// them in memory only: it reads the right records and leaves the file untouched.
#[test]
fn read_only_mount_after_an_interrupted_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.tlog");
    let cfg = Config::new().index_interval(256);
    let mut w: FileLog = FileLog::create(&path, 64 * 1024, cfg, Durability::Explicit).unwrap();
    while w.stats().segments_used < 6 {
        let i = w.next_offset();
        w.append(&[i as u8; 200]).unwrap();
    }
    let seg = w.layout().segment_size as usize;
    let pre = std::fs::read(&path).unwrap();
    // Truncate into segment 1: the new segment links back to it; 2..=5 are dead and erased.
    let n = (seg / 208 + 3) as u64; // an offset inside segment 1
    w.truncate_back(n).unwrap();
    w.sync().unwrap();
    drop(w);
    // Put the dead segments back, as if power was cut before they were erased.
    let mut img = std::fs::read(&path).unwrap();
    let tail_seg = 6; // segments 0..=5 were used; the truncation opened segment 6
    assert_ne!(&img[tail_seg * seg..tail_seg * seg + 4], &[0xFF; 4]);
    img[2 * seg..tail_seg * seg].copy_from_slice(&pre[2 * seg..tail_seg * seg]);
    std::fs::write(&path, &img).unwrap();

    let mut r: FileLog = FileLog::open_read_only(&path).unwrap();
    assert_eq!(r.next_offset(), n);
    let got = records(&mut r);
    assert_eq!(got.len() as u64, n);
    for (off, bytes) in &got {
        assert_eq!(bytes, &vec![*off as u8; 200]);
    }
    drop(r);
    assert!(
        std::fs::read(&path).unwrap() == img,
        "read-only mount wrote"
    );
    // A writer's mount erases them for real.
    let mut w: FileLog = FileLog::open(&path, cfg, Durability::Explicit).unwrap();
    assert_eq!(records(&mut w).len() as u64, n);
    assert!(std::fs::read(&path).unwrap()[2 * seg..3 * seg]
        .iter()
        .all(|&b| b == 0xFF));
}

#[test]
fn durability_modes() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [Durability::EveryWrite, Durability::Explicit] {
        let path = dir.path().join(format!("{mode:?}.tlog"));
        let mut log: FileLog = FileLog::create(&path, 64 * 1024, Config::new(), mode).unwrap();
        assert_eq!(log.durability(), mode);
        assert_eq!(log.storage().durability(), mode);
        for i in 0..20 {
            log.append(&rec(i)).unwrap();
        }
        log.commit("c", 5).unwrap();
        // No explicit sync: a process crash (here: dropping the handle) loses nothing the
        // kernel was handed, in either mode.
        drop(log);
        let mut log: FileLog = FileLog::open(&path, Config::new(), mode).unwrap();
        assert_eq!(log.next_offset(), 20);
        assert_eq!(log.committed("c"), Some(5));
        log.sync().unwrap();
    }
}

/// A FileLog operation hands its bytes to the kernel before it returns (so it survives a
/// process crash without a sync); a bare `Log<FileStorage>` writes through on every program.
#[test]
fn writes_reach_the_kernel_when_operations_return() {
    let dir = tempfile::tempdir().unwrap();
    let in_file = |p: &Path, needle: &[u8]| {
        std::fs::read(p)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
    };
    let path = dir.path().join("w.tlog");
    let mut log: FileLog =
        FileLog::create(&path, 64 * 1024, Config::new(), Durability::Explicit).unwrap();
    log.append(b"first-record-abc").unwrap();
    assert!(in_file(&path, b"first-record-abc"));
    // Through the bare log the bytes wait in the write buffer (reads see them) until flushed.
    log.log_mut().append(b"second-record-def").unwrap();
    let mut buf = [0u8; 32];
    assert_eq!(log.read(1, &mut buf).unwrap(), 17);
    assert!(!in_file(&path, b"second-record-def"));
    log.log_mut().storage_mut().flush().unwrap();
    assert!(in_file(&path, b"second-record-def"));
    // Unwrapped, the log writes through.
    let mut bare = log.into_log().unwrap();
    bare.append(b"third-record-ghi").unwrap();
    assert!(in_file(&path, b"third-record-ghi"));
    drop(bare);

    let p2 = dir.path().join("bare.tlog");
    let storage = FileStorage::create(&p2, 64 * 1024, 4, 4096, Durability::Explicit).unwrap();
    let mut bare: Log<FileStorage> = Log::format(storage, Config::new()).unwrap();
    bare.append(b"bare-record-jkl").unwrap();
    assert!(in_file(&p2, b"bare-record-jkl"));
}

/// Index slots wait for the next sync (they are derived data): what the kernel holds after
/// appends without a sync (all a process crash leaves) has every record but no slots, mounts
/// and reads completely by walking frames; after `sync` the slots are in the file too.
#[test]
fn index_slots_wait_for_sync_and_a_crash_that_loses_them_loses_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slots.tlog");
    // 64 KiB segments: the first 200 records (about 30 KiB) stay in segment 0.
    let cfg = Config::new().segment_sectors(16).index_interval(256);
    let mut log: FileLog = FileLog::create(&path, 256 * 1024, cfg, Durability::Explicit).unwrap();
    let layout = *log.layout();
    let index_area = |image: &[u8]| {
        let start = (layout.segment_addr(0) + layout.index_start()) as usize;
        image[start..start + layout.segment_size as usize - layout.index_start() as usize].to_vec()
    };
    let n = 200u64;
    for i in 0..n {
        log.append(&rec(i)).unwrap();
    }
    // The log itself sees its slots (reads binary-search them) ...
    let mut buf = [0u8; 300];
    for i in (0..n).step_by(17) {
        let len = log.read(i, &mut buf).unwrap();
        assert_eq!(&buf[..len], rec(i).as_slice());
    }
    // ... the kernel has every record but no slot yet.
    let crashed = std::fs::read(&path).unwrap();
    assert!(index_area(&crashed).iter().all(|&b| b == 0xFF));
    let copy = dir.path().join("crashed.tlog");
    std::fs::write(&copy, &crashed).unwrap();
    let mut reopened: FileLog = FileLog::open(&copy, cfg, Durability::Explicit).unwrap();
    assert_eq!(reopened.next_offset(), n);
    let all = records(&mut reopened);
    assert_eq!(all.len() as u64, n);
    for (off, bytes) in &all {
        assert_eq!(bytes, &rec(*off));
    }
    // Appending after such a crash indexes the new frames from where the slots stopped.
    for i in n..2 * n {
        assert_eq!(reopened.append(&rec(i)).unwrap(), i);
    }
    reopened.sync().unwrap();
    drop(reopened);
    let mut again: FileLog = FileLog::open_read_only(&copy).unwrap();
    assert_eq!(records(&mut again).len() as u64, 2 * n);
    assert!(index_area(&std::fs::read(&copy).unwrap())
        .iter()
        .any(|&b| b != 0xFF));

    // A sync hands slots over only a page (4 KiB) at a time — these are fewer — so that each
    // sync writes the frames' pages alone; closing hands them over behind a barrier.
    log.sync().unwrap();
    assert!(index_area(&std::fs::read(&path).unwrap())
        .iter()
        .all(|&b| b == 0xFF));
    log.close().unwrap();
    assert!(index_area(&std::fs::read(&path).unwrap())
        .iter()
        .any(|&b| b != 0xFF));
}

/// After trimming, the first segments of the file are erased: open finds the geometry in a
/// header deep in the file (power-of-two segments: coarse-to-fine probing; others: scanning).
#[test]
fn open_finds_a_log_whose_first_segments_are_free() {
    let dir = tempfile::tempdir().unwrap();
    for sectors in [16u32, 3] {
        let path = dir.path().join(format!("trimmed-{sectors}.tlog"));
        let seg = 4096 * sectors as u64;
        let cfg = Config::new().segment_sectors(sectors);
        let mut log: FileLog = FileLog::create(&path, seg * 40, cfg, Durability::Explicit).unwrap();
        while log.stats().segments_used < 30 {
            let i = log.next_offset();
            log.append(&rec(i)).unwrap();
        }
        let next = log.next_offset();
        log.trim_front(next - 3).unwrap();
        assert!(log.stats().segments_used <= 2);
        drop(log);
        let img = std::fs::read(&path).unwrap();
        assert!(img[..20 * seg as usize].iter().all(|&b| b == 0xFF));
        let mut log: FileLog = FileLog::open(&path, cfg, Durability::Explicit).unwrap();
        assert_eq!(
            log.storage().erase_size() as u64,
            seg.min(256 * 1024) & seg.wrapping_neg()
        );
        assert_eq!(log.first_offset(), next - 3);
        let got = records(&mut log);
        assert_eq!(got.len(), 3);
        for (off, bytes) in got {
            assert_eq!(bytes, rec(off));
        }
    }
}

#[test]
fn overwrite_oldest_wraps_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring.tlog");
    let cfg = Config::new().full_policy(FullPolicy::OverwriteOldest);
    let mut log: FileLog = FileLog::create(&path, 32 * 1024, cfg, Durability::Explicit).unwrap();
    for i in 0..2000 {
        log.append(&rec(i)).unwrap();
    }
    let first = log.first_offset();
    assert!(first > 0);
    drop(log);
    let mut log: FileLog = FileLog::open(&path, cfg, Durability::Explicit).unwrap();
    assert_eq!(log.first_offset(), first);
    for (off, bytes) in records(&mut log) {
        assert_eq!(bytes, rec(off));
    }
}

#[test]
fn file_logs_are_send() {
    fn send<T: Send>() {}
    send::<Log<FileStorage>>();
    send::<Log<FileStorage, 16>>();
    send::<FileLog>();
    send::<FileStorage>();
    send::<FileError>();
    send::<tidelog::group::LogDir>();
}
