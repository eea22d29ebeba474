//! The stream holds every record of the log exactly once, in order, byte-identical; the
//! consumer is committed to the end; running the drain again delivers nothing new.

mod common;
use common::*;

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn drains_100k_records_exactly_once_in_order_byte_identical() {
    let server = Server::get();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.tlog");
    const N: u64 = 100_000;
    const MAX: usize = 200;
    make_log(&path, 32 << 20, large_segments(), N, MAX);
    let source = unique("exact");
    let subject = format!("telemetry.{source}");
    let stream = format!("S_{source}");
    let url = server.url();
    let args = [
        "--log",
        path.to_str().unwrap(),
        "--source-id",
        &source,
        "--subject",
        &subject,
        "--stream",
        &stream,
        "--nats",
        &url,
        "--once",
        "--consumer",
        "nats",
    ];
    let out = run_drain(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("delivered 100000 records"),
        "{}",
        stderr(&out)
    );
    assert_eq!(committed(&path, "nats"), Some(N));
    let msgs = read_stream(&url, &stream);
    assert_exactly_once(&msgs, &source, 0, N, MAX);
    // Sequence numbers are dense: nothing was stored and then refused.
    assert!(msgs
        .iter()
        .enumerate()
        .all(|(i, m)| m.sequence == i as u64 + 1));

    // Again: nothing to do, nothing published.
    let out = run_drain(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("delivered 0 records"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read_stream(&url, &stream).len() as u64, N);
}

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn a_lost_commit_is_recovered_from_the_stream_without_duplicates() {
    // The consumer was never committed (as after a crash between PubAck and commit, or a
    // restart later than the duplicate window): the stream's last offset says where to go on.
    let server = Server::get();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.tlog");
    make_log(&path, 4 << 20, small_segments(), 3_000, 100);
    let copy = dir.path().join("copy.tlog");
    std::fs::copy(&path, &copy).unwrap();
    let source = unique("lost");
    let subject = format!("telemetry.{source}");
    let stream = format!("S_{source}");
    let url = server.url();
    let base = |p: &std::path::Path| {
        vec![
            "--log".to_string(),
            p.to_str().unwrap().to_string(),
            "--source-id".into(),
            source.clone(),
            "--subject".into(),
            subject.clone(),
            "--stream".into(),
            stream.clone(),
            "--nats".into(),
            url.clone(),
            "--once".into(),
            "--duplicate-window".into(),
            "0.1".into(),
        ]
    };
    let a = base(&path);
    let out = run_drain(&a.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", stderr(&out));
    std::thread::sleep(std::time::Duration::from_millis(300)); // past the duplicate window
                                                               // The copy has no commit: the drain must skip what the stream holds.
    let b = base(&copy);
    let out = run_drain(&b.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("delivered 0 records"),
        "{}",
        stderr(&out)
    );
    assert_eq!(committed(&copy, "nats"), Some(3_000));
    assert_exactly_once(&read_stream(&url, &stream), &source, 0, 3_000, 100);
}
