//! `SharedFileLog`: one file log shared by threads. Every record a thread got an offset for is
//! in the file after close and reopen (offsets unique and dense, contents intact), in both
//! durability modes; `with` reads while others write (a detached cursor stepping through
//! `with` sees every record in order); after `close` every call from any thread is `Closed`;
//! group commit lets concurrent durable appends share syncs (timings printed, not asserted); a
//! read-only shared handle refuses writes. Also `FileLog::close` (the lock is released at
//! once) and `FileLog::refresh`.
#![cfg(all(feature = "file", unix))]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tidelog::{
    Config, Durability, Error, ErrorCode, FileError, FileLog, ReadCursor, SharedFileLog,
    StorageError,
};

fn record(thread: usize, i: usize) -> Vec<u8> {
    let mut r = format!("t{thread}-{i}-").into_bytes();
    let len = r.len() + (i * 13 + thread * 7) % 150;
    r.resize(len, b'a' + (i % 26) as u8);
    r
}

/// Each thread appends `per_thread` records — singly, as batches of three and by `extend` —
/// and returns (offset, record) for every one.
fn hammer(log: &Arc<SharedFileLog>, threads: usize, per_thread: usize) -> Vec<(u64, Vec<u8>)> {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let log = Arc::clone(log);
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut i = 0;
                while i < per_thread {
                    let n = (per_thread - i).min(match i % 7 {
                        3 => 3,
                        5 => 4,
                        _ => 1,
                    });
                    let recs: Vec<Vec<u8>> = (i..i + n).map(|k| record(t, k)).collect();
                    let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
                    let first = match (n, i % 7) {
                        (1, _) => log.append(&recs[0]),
                        (_, 3) => log.append_batch(&refs),
                        _ => log.extend(&refs),
                    }
                    .unwrap();
                    for (k, r) in recs.into_iter().enumerate() {
                        got.push((first + k as u64, r));
                    }
                    i += n;
                }
                got
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

fn read_back(path: &std::path::Path) -> Vec<Vec<u8>> {
    let mut log: FileLog = FileLog::open(path, Config::new(), Durability::Explicit).unwrap();
    let out = log.iter(0).unwrap().map(|r| r.unwrap().1).collect();
    log.close().unwrap();
    out
}

#[test]
fn every_record_a_thread_got_an_offset_for_is_in_the_file() {
    for (durability, per_thread) in [(Durability::Explicit, 300), (Durability::EveryWrite, 40)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.tlog");
        let cfg = Config::new().segment_sectors(4);
        let log: Arc<SharedFileLog> =
            Arc::new(SharedFileLog::create(&path, 4 << 20, cfg, durability).unwrap());
        assert_eq!(log.durability(), durability);
        assert_eq!(log.path(), path.as_path());
        let threads = 4;
        let mut got = hammer(&log, threads, per_thread);
        log.close().unwrap();
        got.sort();
        let total = threads * per_thread;
        assert_eq!(got.len(), total);
        for (i, (off, _)) in got.iter().enumerate() {
            assert_eq!(*off, i as u64, "{durability:?}: offsets unique and dense");
        }
        let file = read_back(&path);
        assert_eq!(file.len(), total, "{durability:?}: records in the file");
        for (off, rec) in &got {
            assert_eq!(&file[*off as usize], rec, "{durability:?}: record {off}");
        }
        // Each thread's records are in the order it appended them.
        let mut by_thread: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for (off, rec) in &got {
            let t = String::from_utf8_lossy(&rec[..rec.iter().position(|&b| b == b'-').unwrap()]);
            by_thread.entry(t.to_string()).or_default().push(*off);
        }
        assert_eq!(by_thread.len(), threads);
    }
}

/// A reader steps a detached cursor through `with` while writers append: it sees every record,
/// in offset order, with the bytes the writers wrote.
#[test]
fn a_cursor_stepped_through_with_reads_while_others_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("with.tlog");
    let log: Arc<SharedFileLog> = Arc::new(
        SharedFileLog::create(
            &path,
            4 << 20,
            Config::new().segment_sectors(4),
            Durability::Explicit,
        )
        .unwrap(),
    );
    let total = 3 * 200;
    let reader = {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut cur = ReadCursor::at(0);
            let mut seen = Vec::new();
            let t = Instant::now();
            while seen.len() < total {
                match log.with(|l| l.log_mut().read_next_vec(&mut cur)).unwrap() {
                    Ok(Some(r)) => seen.push(r),
                    Ok(None) => std::thread::yield_now(),
                    Err(e) => panic!("reader: {e}"),
                }
                assert!(t.elapsed() < Duration::from_secs(30), "reader stalled");
            }
            seen
        })
    };
    let mut got = hammer(&log, 3, 200);
    let seen = reader.join().unwrap();
    got.sort();
    assert_eq!(seen, got);
    assert_eq!(log.with(|l| l.next_offset()).unwrap(), total as u64);
    let mut buf = vec![0u8; 256];
    let n = log.with(|l| l.read(5, &mut buf)).unwrap().unwrap();
    assert_eq!(&buf[..n], &got[5].1[..]);
    log.sync().unwrap();
}

#[test]
fn after_close_every_call_from_any_thread_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.tlog");
    let log: Arc<SharedFileLog> = Arc::new(
        SharedFileLog::create(&path, 256 * 1024, Config::new(), Durability::EveryWrite).unwrap(),
    );
    log.append(b"one").unwrap();
    log.commit("c", 1).unwrap();
    assert!(!log.is_closed());
    log.close().unwrap();
    assert!(log.is_closed());
    type Call = fn(&SharedFileLog) -> Result<(), FileError>;
    let calls: Vec<(&str, Call)> = vec![
        ("append", |l| l.append(b"x").map(drop)),
        ("append_batch", |l| {
            l.append_batch(&[b"x".as_slice(), b"y"]).map(drop)
        }),
        ("extend", |l| l.extend(&[b"x".as_slice()]).map(drop)),
        ("commit", |l| l.commit("c", 1)),
        ("rewind", |l| l.rewind("c", 0)),
        ("remove_consumer", |l| l.remove_consumer("c")),
        ("trim_front", |l| l.trim_front(1)),
        ("truncate_back", |l| l.truncate_back(0)),
        ("sync", |l| l.sync()),
        ("with", |l| l.with(|l| l.next_offset()).map(drop)),
        ("close", |l| l.close()),
    ];
    let check = |what: &str, e: FileError| {
        assert_eq!(e.kind(), Error::Closed, "{what}");
        assert_eq!(e.code(), ErrorCode::Closed, "{what}");
        assert_eq!(e.code().name(), "CLOSED");
        assert!(
            e.to_string().contains(&path.display().to_string()),
            "{what}: {e}"
        );
    };
    for (what, call) in &calls {
        check(what, call(&log).unwrap_err());
    }
    let other = {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            calls
                .iter()
                .map(|(w, c)| (*w, c(&log).unwrap_err()))
                .collect::<Vec<_>>()
        })
    };
    for (what, e) in other.join().unwrap() {
        check(what, e);
    }
    // The file was closed properly: its lock is free and its records are there.
    let file = read_back(&path);
    assert_eq!(file, vec![b"one".to_vec()]);
}

/// Regression: `close` left the writer lock held until the last reference to the handle was
/// dropped — the group commit's second handle of the file (a `dup`, which shares the lock)
/// stayed open — so reopening the file after `close` failed with `Locked` (a binding's log
/// object lives on after `close` until it is collected). Found by the tests below.
#[test]
fn regression_close_releases_the_writer_lock_while_the_handle_lives() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lock.tlog");
    for durability in [Durability::EveryWrite, Durability::Explicit] {
        let _ = std::fs::remove_file(&path);
        let log: Arc<SharedFileLog> =
            Arc::new(SharedFileLog::create(&path, 256 * 1024, Config::new(), durability).unwrap());
        let still_held = Arc::clone(&log);
        log.append(b"before close").unwrap();
        log.close().unwrap();
        let reopened = SharedFileLog::<4>::open(&path, Config::new(), durability);
        assert!(reopened.is_ok(), "{durability:?}: {:?}", reopened.err());
        let reopened = reopened.unwrap();
        assert_eq!(reopened.append(b"after").unwrap(), 1);
        assert_eq!(still_held.append(b"x").unwrap_err().kind(), Error::Closed);
        reopened.close().unwrap();
    }
}

/// Group commit: N threads × M durable appends end with N × M records in the file; the time
/// against one thread doing all of them is printed (with group commit it is shorter, as
/// concurrent appends share one `fdatasync`), not asserted.
#[test]
fn concurrent_durable_appends_share_syncs() {
    let (threads, per_thread) = (8, 25);
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.tlog");
    let log: Arc<SharedFileLog> = Arc::new(
        SharedFileLog::create(&one, 1 << 20, Config::new(), Durability::EveryWrite).unwrap(),
    );
    let t = Instant::now();
    for i in 0..threads * per_thread {
        log.append(&record(0, i)).unwrap();
    }
    let single = t.elapsed();
    log.close().unwrap();

    let many = dir.path().join("many.tlog");
    let log: Arc<SharedFileLog> = Arc::new(
        SharedFileLog::create(&many, 1 << 20, Config::new(), Durability::EveryWrite).unwrap(),
    );
    let t = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|th| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    log.append(&record(th, i)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let grouped = t.elapsed();
    log.close().unwrap();
    println!(
        "{} durable appends: one thread {single:?}, {threads} threads {grouped:?} ({:.2}x)",
        threads * per_thread,
        grouped.as_secs_f64() / single.as_secs_f64()
    );
    assert_eq!(read_back(&one).len(), threads * per_thread);
    assert_eq!(read_back(&many).len(), threads * per_thread);
}

#[test]
fn a_read_only_shared_handle_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.tlog");
    let writer =
        SharedFileLog::<4>::create(&path, 256 * 1024, Config::new(), Durability::Explicit).unwrap();
    writer.append(b"written").unwrap();
    writer.sync().unwrap();
    let image = std::fs::read(&path).unwrap();
    let ro = SharedFileLog::<4>::open_read_only(&path).unwrap();
    let e = ro.append(b"no").unwrap_err();
    assert_eq!(e.kind(), Error::Storage(StorageError::ReadOnly));
    assert_eq!(e.code(), ErrorCode::StorageReadOnly);
    assert_eq!(
        ro.trim_front(1).unwrap_err().kind(),
        Error::Storage(StorageError::ReadOnly)
    );
    assert_eq!(
        ro.commit("c", 1).unwrap_err().kind(),
        Error::Storage(StorageError::ReadOnly)
    );
    let mut buf = [0u8; 16];
    assert_eq!(ro.with(|l| l.read(0, &mut buf)).unwrap().unwrap(), 7);
    assert_eq!(&buf[..7], b"written");
    ro.sync().unwrap();
    ro.close().unwrap();
    assert!(
        std::fs::read(&path).unwrap() == image,
        "a read-only handle wrote"
    );
    // A second writer is still refused while the first runs.
    let e = SharedFileLog::<4>::open(&path, Config::new(), Durability::Explicit).unwrap_err();
    assert_eq!(e.kind(), Error::Locked);
    writer.close().unwrap();
    let again = SharedFileLog::<4>::open(&path, Config::new(), Durability::Explicit).unwrap();
    assert_eq!(again.append(b"more").unwrap(), 1);
}

#[test]
fn shared_file_logs_are_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<SharedFileLog>();
    both::<SharedFileLog<16>>();
}

// ---------------------------------------------------------------------------------------------
// FileLog::close and FileLog::refresh

#[test]
fn file_log_close_returns_ok_and_releases_the_lock_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("close.tlog");
    for durability in [Durability::Explicit, Durability::EveryWrite] {
        let _ = std::fs::remove_file(&path);
        let mut log: FileLog =
            FileLog::create(&path, 128 * 1024, Config::new(), durability).unwrap();
        log.append(b"a").unwrap();
        log.append_batch(&[b"b".as_slice(), b"c"]).unwrap();
        let closed = log.close();
        assert!(closed.is_ok(), "{closed:?}");
        let mut log: FileLog = FileLog::open(&path, Config::new(), durability).unwrap();
        assert_eq!(log.next_offset(), 3);
        log.append(b"d").unwrap();
        log.close().unwrap();
        let mut log: FileLog = FileLog::open(&path, Config::new(), durability).unwrap();
        assert_eq!(log.iter(0).unwrap().count(), 4);
    }
}

#[test]
fn refresh_shows_a_read_only_handle_what_the_writer_added() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refresh.tlog");
    let mut w: FileLog =
        FileLog::create(&path, 256 * 1024, Config::new(), Durability::Explicit).unwrap();
    for i in 0..10u8 {
        w.append(&[i; 10]).unwrap();
    }
    let mut r: FileLog = FileLog::open_read_only(&path).unwrap();
    let mut cur = r.cursor(0).unwrap();
    let mut seen = Vec::new();
    while let Some((o, v)) = r.log_mut().read_next_vec(&mut cur).unwrap() {
        seen.push((o, v));
    }
    assert_eq!(seen.len(), 10);
    for i in 10..15u8 {
        w.append(&[i; 10]).unwrap();
    }
    w.trim_front(2).unwrap();
    assert_eq!(
        r.next_offset(),
        10,
        "a read-only handle shows the log as it was opened"
    );
    r.refresh().unwrap();
    assert_eq!((r.first_offset(), r.next_offset()), (2, 15));
    // The cursor taken before the refresh finds its place in the refreshed log.
    while let Some((o, v)) = r.log_mut().read_next_vec(&mut cur).unwrap() {
        seen.push((o, v));
    }
    assert_eq!(seen.len(), 15);
    for (o, v) in &seen {
        assert_eq!(v, &vec![*o as u8; 10]);
    }
    let e = w.refresh().unwrap_err();
    assert!(matches!(e.kind(), Error::InvalidArgument(_)), "{e}");
    assert_eq!(e.context(), path.display().to_string());
    assert_eq!(w.append(b"still writable").unwrap(), 15);
}
