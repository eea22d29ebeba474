//! Faults get a clear error (and the right exit status), never a crash or a partial commit:
//! unreachable server, bad URL, wrong credentials, incompatible stream, a log locked by its
//! writer (read-only tailing), a corrupt record, an image, bad options.

mod common;
use common::*;
use std::time::{Duration, Instant};
use tidelog::{Durability, FileLog};

fn base<'a>(path: &'a str, source: &'a str, subject: &'a str, url: &'a str) -> Vec<&'a str> {
    vec![
        "--log",
        path,
        "--source-id",
        source,
        "--subject",
        subject,
        "--nats",
        url,
        "--once",
    ]
}

#[test]
fn unreachable_server_fails_after_the_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tlog");
    make_log(&path, 1 << 20, small_segments(), 10, 50);
    // A port nobody listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let mut args = base(path.to_str().unwrap(), "dev", "t.dev", &url);
    args.extend(["--connect-timeout", "1"]);
    let t = Instant::now();
    let out = run_drain(&args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot connect to NATS server"),
        "{}",
        stderr(&out)
    );
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!(
        committed(&path, "nats"),
        None,
        "nothing delivered, nothing committed"
    );
}

#[test]
fn a_malformed_url_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tlog");
    make_log(&path, 1 << 20, small_segments(), 10, 50);
    let out = run_drain(&base(
        path.to_str().unwrap(),
        "dev",
        "t.dev",
        "nats://bad host:x",
    ));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
}

#[test]
fn bad_options_print_usage_with_status_2() {
    for args in [
        vec!["--log", "x.tlog", "--subject", "t.a"],
        vec!["--log", "x.tlog", "--source-id", "a:b", "--subject", "t.a"],
        vec![
            "--log",
            "x.tlog",
            "--image",
            "y",
            "--source-id",
            "a",
            "--subject",
            "t.a",
        ],
        vec!["--log", "x.tlog", "--source-id", "a", "--subject", "t.>"],
        vec![
            "--log",
            "x.tlog",
            "--source-id",
            "a",
            "--subject",
            "t.a",
            "--max-in-flight",
            "-1",
        ],
        vec!["--bogus"],
    ] {
        let out = run_drain(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("usage: tidelog-drain"), "{args:?}");
    }
}

#[test]
fn a_missing_or_foreign_log_file_is_a_log_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.tlog");
    let out = run_drain(&base(
        missing.to_str().unwrap(),
        "dev",
        "t.dev",
        "nats://127.0.0.1:1",
    ));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("NOT_FOUND"), "{}", stderr(&out));
    let foreign = dir.path().join("foreign.tlog");
    std::fs::write(&foreign, vec![0x5a; 64 << 10]).unwrap();
    let before = std::fs::read(&foreign).unwrap();
    let out = run_drain(&base(
        foreign.to_str().unwrap(),
        "dev",
        "t.dev",
        "nats://127.0.0.1:1",
    ));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("log:"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&foreign).unwrap(),
        before,
        "a foreign file was changed"
    );
}

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn wrong_credentials_are_refused_right_ones_work() {
    let server = NatsServer::start_with(&["--user", "drain", "--pass", "s3cret"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tlog");
    make_log(&path, 1 << 20, small_segments(), 100, 50);
    let url = server.url();
    let p = path.to_str().unwrap();
    let mut args = base(p, "cred", "t.cred", &url);
    args.extend(["--user", "drain", "--password", "wrong"]);
    let out = run_drain(&args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).to_lowercase().contains("authorization"),
        "{}",
        stderr(&out)
    );
    let mut args = base(p, "cred", "t.cred", &url);
    args.extend(["--connect-timeout", "1"]);
    let out = run_drain(&args);
    assert_eq!(
        out.status.code(),
        Some(3),
        "no credentials: {}",
        stderr(&out)
    );
    assert_eq!(committed(&path, "nats"), None);
    let right = format!("nats://drain:s3cret@127.0.0.1:{}", server.port);
    let out = run_drain(&base(p, "cred", "t.cred", &right));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(committed(&path, "nats"), Some(100));
}

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn an_incompatible_stream_is_refused_with_the_reason() {
    let server = Server::get();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.tlog");
    make_log(&path, 1 << 20, small_segments(), 100, 50);
    let source = unique("incompat");
    let subject = format!("telemetry.{source}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    use async_nats::jetstream::stream::{Config, RetentionPolicy};
    let cases = [
        (
            "wide",
            Config {
                subjects: vec![format!("{subject}.>"), subject.clone()],
                ..Default::default()
            },
            "captures subjects",
        ),
        (
            "workq",
            Config {
                subjects: vec![subject.clone()],
                retention: RetentionPolicy::WorkQueue,
                ..Default::default()
            },
            "retention",
        ),
    ];
    for (suffix, mut config, why) in cases {
        let name = format!("S_{source}_{suffix}");
        config.name = name.clone();
        rt.block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
            js.create_stream(config).await.unwrap();
        });
        let mut args = base(path.to_str().unwrap(), &source, &subject, &url);
        args.extend(["--stream", &name]);
        let out = run_drain(&args);
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("not compatible") && err.contains(why), "{err}");
        assert_eq!(committed(&path, "nats"), None);
        rt.block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(&url).await.unwrap());
            js.delete_stream(&name).await.unwrap();
        });
    }
}

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn a_locked_log_is_tailed_read_only_exactly_once_without_commit() {
    let server = Server::get();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.tlog");
    make_log(&path, 2 << 20, small_segments(), 1_000, 100);
    // The writer (this process) holds the log while the drain runs.
    let mut writer: FileLog<16> =
        FileLog::open(&path, small_segments(), Durability::Explicit).unwrap();
    let source = unique("locked");
    let subject = format!("telemetry.{source}");
    let stream = format!("S_{source}");
    let p = path.to_str().unwrap().to_string();
    let args_owned = vec![
        "--log".to_string(),
        p.clone(),
        "--source-id".into(),
        source.clone(),
        "--subject".into(),
        subject.clone(),
        "--stream".into(),
        stream.clone(),
        "--nats".into(),
        url.clone(),
        "--trim".into(),
    ];
    let child = drain_cmd()
        .args(&args_owned)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The drain sees what the writer appends later (it re-mounts while tailing).
    wait_until(Duration::from_secs(30), || {
        read_stream_len(&url, &stream) == 1_000
    });
    append_records(&mut writer, 1_000, 1_500, 100);
    wait_until(Duration::from_secs(30), || {
        read_stream_len(&url, &stream) == 1_500
    });
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("locked by its writer") && err.contains("not committed"),
        "{err}"
    );
    assert!(err.contains("--trim is off"), "{err}");
    assert_eq!(
        writer.committed("nats"),
        None,
        "a read-only drain committed"
    );
    assert_eq!(writer.first_offset(), 0, "a read-only drain trimmed");
    assert_exactly_once(&read_stream(&url, &stream), &source, 0, 1_500, 100);
    // Once the writer is gone, a drain opens it for writing and commits what the stream has.
    writer.close().unwrap();
    let mut once = args_owned.clone();
    once.push("--once".into());
    let out = run_drain(&once.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("delivered 0 records"),
        "{}",
        stderr(&out)
    );
    assert_eq!(committed(&path, "nats"), Some(1_500));
}

fn read_stream_len(url: &str, stream: &str) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
        match js.get_stream(stream).await {
            Ok(mut s) => s.info().await.unwrap().state.messages,
            Err(_) => 0,
        }
    })
}

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn a_corrupt_record_stops_the_drain_at_its_offset_committing_nothing_past_it() {
    let server = Server::get();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.tlog");
    const N: u64 = 3_000;
    // One frame per record, so the damage hits exactly one record.
    let mut log: FileLog<16> =
        FileLog::create(&path, 2 << 20, small_segments(), Durability::Explicit).unwrap();
    for k in 0..N {
        assert_eq!(log.append(&record(k, 100)).unwrap(), k);
    }
    log.sync().unwrap();
    log.close().unwrap();
    // Damage one byte of record 1234's payload (its bytes start with its offset), in a
    // sealed segment far from the tail.
    const BAD: u64 = 1_234;
    let mut image = std::fs::read(&path).unwrap();
    let needle = record(BAD, 100);
    let at = image
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("record bytes in the image");
    image[at + needle.len() - 1] ^= 0x40;
    std::fs::write(&path, &image).unwrap();
    let source = unique("corrupt");
    let subject = format!("telemetry.{source}");
    let stream = format!("S_{source}");
    let mut args = base(path.to_str().unwrap(), &source, &subject, &url);
    args.extend(["--stream", &stream]);
    let out = run_drain(&args);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("offset 1234") && err.contains("CORRUPT"),
        "{err}"
    );
    // Everything before BAD is delivered and committed, nothing at or past it.
    let c = committed(&path, "nats").unwrap();
    assert_eq!(c, BAD);
    let msgs = read_stream(&url, &stream);
    assert_exactly_once(&msgs, &source, 0, c, 100);
    // Running again stops at the same place, with the same message.
    let out = run_drain(&args);
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(committed(&path, "nats"), Some(c));
    assert_eq!(read_stream(&url, &stream).len() as u64, c);
}

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn an_image_is_drained_read_only_in_one_pass() {
    let server = Server::get();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flash.bin");
    make_log(&path, 1 << 20, small_segments(), 2_000, 120);
    let before = std::fs::read(&path).unwrap();
    let source = unique("image");
    let subject = format!("telemetry.{source}");
    let stream = format!("S_{source}");
    let out = run_drain(&[
        "--image",
        path.to_str().unwrap(),
        "--source-id",
        &source,
        "--subject",
        &subject,
        "--stream",
        &stream,
        "--nats",
        &url,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing committed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the image was changed"
    );
    assert_exactly_once(&read_stream(&url, &stream), &source, 0, 2_000, 120);
    // With --trim an image is refused: it cannot be written.
    let out = run_drain(&[
        "--image",
        path.to_str().unwrap(),
        "--source-id",
        &source,
        "--subject",
        &subject,
        "--nats",
        &url,
        "--trim",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A stream of a grouped store (`LogDir`): drained read-only in one pass (its file holds no
/// consumer cursor), exactly once across runs, also after the stream moved to a larger file.
#[test]
#[ignore = "needs nats-server (scripts/test-drain.sh)"]
fn a_logdir_stream_is_drained_read_only_exactly_once() {
    let server = Server::get();
    let url = server.url();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let mut store = tidelog::group::LogDir::open(&root).unwrap();
    let first: Vec<Vec<u8>> = (0..50).map(|o| record(o, 90)).collect();
    let refs: Vec<&[u8]> = first.iter().map(Vec::as_slice).collect();
    store.create_stream("site-1", "chat", &refs).unwrap();
    // Enough more that the stream outgrows its first file (it is rewritten larger).
    for o in 50..3_000 {
        store.append("chat", &record(o, 90)).unwrap();
    }
    store.close().unwrap();
    let before = std::fs::read(
        tidelog::group::LogDir::open(&root)
            .unwrap()
            .stream_path("chat")
            .unwrap(),
    )
    .unwrap();
    let source = unique("logdir");
    let subject = format!("telemetry.{source}");
    let stream = format!("S_{source}");
    let args = [
        "--logdir",
        root.to_str().unwrap(),
        "--logdir-stream",
        "chat",
        "--source-id",
        &source,
        "--subject",
        &subject,
        "--stream",
        &stream,
        "--nats",
        &url,
    ];
    let out = run_drain(&[&args[..], &["--once"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_exactly_once(&read_stream(&url, &stream), &source, 0, 3_000, 90);
    let path = tidelog::group::LogDir::open(&root)
        .unwrap()
        .stream_path("chat")
        .unwrap();
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "the stream file was changed"
    );
    // The stream grows on (into a larger file again); a second run sends only the new ones.
    let mut store = tidelog::group::LogDir::open(&root).unwrap();
    for o in 3_000..6_000 {
        store.append("chat", &record(o, 90)).unwrap();
    }
    store.close().unwrap();
    let out = run_drain(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_exactly_once(&read_stream(&url, &stream), &source, 0, 6_000, 90);
    // Half a mode is refused.
    let out = run_drain(&[
        "--logdir",
        root.to_str().unwrap(),
        "--source-id",
        "x",
        "--subject",
        "y",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
