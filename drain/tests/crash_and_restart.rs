//! Exactly once across crashes: the drain SIGKILLed at random moments and restarted, and
//! nats-server restarted under a running drain.

mod common;
use common::*;
use std::process::Stdio;
use std::time::Duration;

/// A small xorshift: reproducible "random" moments.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn sigkill_at_random_moments_then_restart_stays_exactly_once() {
    let server = Server::get();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.tlog");
    const N: u64 = 300_000;
    const MAX: usize = 64;
    make_log(&path, 48 << 20, large_segments(), N, MAX);
    let source = unique("kill");
    let subject = format!("telemetry.{source}");
    let stream = format!("S_{source}");
    let url = server.url();
    // Small batches so each round is cut mid-pipeline, not after the end; a duplicate window
    // shorter than the pause between rounds, so the resume point comes from the stream's
    // last offset, not from deduplication.
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
        "--max-in-flight",
        "64",
        "--duplicate-window",
        "0.1",
    ];
    let seed = std::env::var("DRAIN_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261207);
    let mut rng = Rng(seed);
    let mut rounds = 0;
    let mut progressed = 0;
    let mut before = committed(&path, "nats").unwrap_or(0);
    while rounds < 24 {
        let mut child = drain_cmd()
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + rng.below(200)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        rounds += 1;
        let now = committed(&path, "nats").unwrap_or(0);
        assert!(
            now >= before,
            "the committed offset went back: {before} -> {now}"
        );
        if now > before {
            progressed += 1;
        }
        before = now;
        std::thread::sleep(Duration::from_millis(150));
    }
    let delivered_before_end = read_stream(&url, &stream).len() as u64;
    assert!(
        delivered_before_end < N,
        "every record was delivered before the last kill: make the log bigger"
    );
    assert!(
        progressed >= 5,
        "only {progressed} of {rounds} rounds made progress"
    );
    // The last run finishes the job.
    let mut finish = args.to_vec();
    finish.push("--once");
    let out = run_drain(&finish);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(committed(&path, "nats"), Some(N));
    assert_exactly_once(&read_stream(&url, &stream), &source, 0, N, MAX);
    eprintln!("{rounds} SIGKILL rounds, {progressed} moved the commit, seed {seed}");
}

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn nats_server_restart_mid_drain_resumes_by_itself_exactly_once() {
    let mut server = NatsServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.tlog");
    const N: u64 = 150_000;
    const MAX: usize = 200;
    make_log(&path, 48 << 20, large_segments(), N, MAX);
    let source = unique("restart");
    let subject = format!("telemetry.{source}");
    let stream = format!("S_{source}");
    let url = server.url();
    let child = drain_cmd()
        .args([
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
            "--max-in-flight",
            "512",
            "--ack-timeout",
            "1",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Restart the server twice while records flow.
    for _ in 0..2 {
        let at = committed(&path, "nats").unwrap_or(0);
        wait_until(Duration::from_secs(60), || {
            committed(&path, "nats").unwrap_or(0) > at + 5_000
        });
        let seen = committed(&path, "nats").unwrap();
        assert!(
            seen < N,
            "drained everything before the restart: make the log bigger"
        );
        server.kill();
        std::thread::sleep(Duration::from_millis(700));
        server.restart();
    }
    wait_until(Duration::from_secs(90), || {
        committed(&path, "nats") == Some(N)
    });
    // SIGTERM: a clean stop.
    unsafe_sigterm(child.id());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("disconnected") || err.contains("retrying"),
        "{err}"
    );
    assert_exactly_once(&read_stream(&url, &stream), &source, 0, N, MAX);
}

fn unsafe_sigterm(pid: u32) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}
