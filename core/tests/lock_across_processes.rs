//! The writer lock across processes: a second process is refused with `Locked`, inspection
//! still works, and a dead writer's lock is released — for a file log and for a `LogDir`
//! stream.
//!
//! The other process is this test binary run again (a `*_child` test selected with
//! `--exact`). These tests live apart from the in-process ones on purpose: a process forked
//! by one test thread shares the parent's open files — and so their locks — until it execs,
//! which would make another thread's close-then-reopen flaky; every reopen here retries
//! briefly on `Locked` for that reason.
#![cfg(all(feature = "file", unix))]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use tidelog::group::LogDir;
use tidelog::{Config, Durability, Error, FileError, FileLog};

fn records(log: &mut FileLog) -> Vec<(u64, Vec<u8>)> {
    let first = log.first_offset();
    log.iter(first).unwrap().map(|r| r.unwrap()).collect()
}

fn entries(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// Runs `op` until it stops failing with `Locked` (for at most 5 s).
fn retry_locked<T>(mut op: impl FnMut() -> Result<T, FileError>) -> T {
    let t = std::time::Instant::now();
    loop {
        match op() {
            Err(e) if e.kind() == Error::Locked && t.elapsed().as_secs() < 5 => {
                std::thread::sleep(std::time::Duration::from_millis(5))
            }
            r => return r.unwrap(),
        }
    }
}

/// Spawns this binary running test `name` with `env`, and waits until it prints `ready`.
fn spawn_child(name: &str, env: (&str, &Path), ready: &str) -> std::process::Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(env.0, env.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.trim_end().ends_with(ready) => break,
            Some(Ok(_)) => {}
            other => panic!("child {name} failed: {other:?}"),
        }
    }
    // Keep draining its output, so it can report and exit normally.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

const LOCK_CHILD: &str = "TIDELOG_TEST_LOCK_CHILD";

/// Runs only as a child: holds the file log's writer lock until its stdin closes.
#[test]
fn lock_holder_child() {
    let Ok(path) = std::env::var(LOCK_CHILD) else {
        return;
    };
    let _log: FileLog = retry_locked(|| FileLog::open(&path, Config::new(), Durability::Explicit));
    println!("\nLOCKED");
    std::io::stdout().flush().unwrap();
    let _ = std::io::stdin().read_line(&mut String::new());
}

#[test]
fn a_second_writer_in_another_process_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.tlog");
    let mut log: FileLog =
        FileLog::create(&path, 64 * 1024, Config::new(), Durability::Explicit).unwrap();
    log.append(b"from parent").unwrap();
    drop(log);
    let mut child = spawn_child("lock_holder_child", (LOCK_CHILD, &path), "LOCKED");
    let e = FileLog::<4>::open(&path, Config::new(), Durability::Explicit).unwrap_err();
    assert_eq!(e.kind(), Error::Locked);
    assert!(e.to_string().contains("shared.tlog: locked"), "{e}");
    // Inspection still works while the other process holds the log.
    let mut r: FileLog = FileLog::open_read_only(&path).unwrap();
    assert_eq!(records(&mut r), vec![(0, b"from parent".to_vec())]);
    drop(child.stdin.take()); // the child exits; the OS releases its lock
    assert!(child.wait().unwrap().success());
    let mut log: FileLog =
        retry_locked(|| FileLog::open(&path, Config::new(), Durability::Explicit));
    assert_eq!(log.append(b"again").unwrap(), 1);
}

#[test]
fn a_killed_writer_releases_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.tlog");
    FileLog::<4>::create(&path, 64 * 1024, Config::new(), Durability::Explicit).unwrap();
    let mut child = spawn_child("lock_holder_child", (LOCK_CHILD, &path), "LOCKED");
    assert_eq!(
        FileLog::<4>::open(&path, Config::new(), Durability::Explicit)
            .unwrap_err()
            .kind(),
        Error::Locked
    );
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    retry_locked(|| FileLog::<4>::open(&path, Config::new(), Durability::Explicit));
}

const GROUP_CHILD: &str = "TIDELOG_TEST_GROUP_CHILD";

/// Runs only as a child: writes to stream "s" (so holds it open) until its stdin closes.
#[test]
fn group_writer_child() {
    let Ok(root) = std::env::var(GROUP_CHILD) else {
        return;
    };
    let mut d = LogDir::open(root).unwrap();
    retry_locked(|| d.append("s", b"from child"));
    println!("\nREADY");
    std::io::stdout().flush().unwrap();
    let _ = std::io::stdin().read_line(&mut String::new());
}

#[test]
fn a_second_process_writing_a_stream_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut d = LogDir::open(tmp.path()).unwrap();
    d.create_stream("g", "s", &[b"from parent".as_slice()])
        .unwrap();
    d.close_all();
    let mut child = spawn_child("group_writer_child", (GROUP_CHILD, tmp.path()), "READY");
    let e = d.append("s", b"parent again").unwrap_err();
    assert_eq!(e.kind(), Error::Locked, "{e}");
    assert!(e.to_string().contains(".s.tlog: locked"), "{e}");
    assert_eq!(
        d.read_all("s").unwrap(),
        entries(&["from parent", "from child"])
    );
    assert_eq!(
        d.entry_count("s").unwrap(),
        2,
        "the writer sees the stream grew"
    );
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    assert_eq!(retry_locked(|| d.append("s", b"parent again")), 2);
}
