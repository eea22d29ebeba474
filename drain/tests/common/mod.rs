//! Test support: a real nats-server on 127.0.0.1, logs with known records, reading a stream
//! back.
#![allow(dead_code)]

use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tidelog::{Config, Durability, FileLog};

/// A nats-server with JetStream, on a random port of 127.0.0.1, storing in a temp dir; killed
/// on drop. Restartable on the same port and store.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
}

impl NatsServer {
    pub fn start() -> NatsServer {
        Self::start_with(&[])
    }

    /// Starts one with extra command-line arguments (e.g. `--user`, `--pass`).
    pub fn start_with(extra: &[&str]) -> NatsServer {
        let dir = tempfile::tempdir().unwrap();
        let mut s = NatsServer {
            child: None,
            port: 0,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let ports_dir = self.dir.path().join("ports");
        let _ = std::fs::remove_dir_all(&ports_dir);
        std::fs::create_dir_all(&ports_dir).unwrap();
        let port = if self.port == 0 {
            "-1".to_string()
        } else {
            self.port.to_string()
        };
        let child = Command::new(nats_server_bin())
            .args(["-a", "127.0.0.1", "-p", &port, "-js", "-sd"])
            .arg(self.dir.path().join("store"))
            .arg("--ports_file_dir")
            .arg(&ports_dir)
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (install it: scripts/setup.sh need_nats_server)");
        self.child = Some(child);
        // The ports file appears once the server listens.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(p) = std::fs::read_dir(&ports_dir)
                .unwrap()
                .flatten()
                .find(|e| e.file_name().to_string_lossy().ends_with(".ports"))
            {
                let text = std::fs::read_to_string(p.path()).unwrap_or_default();
                if let Some(port) = text
                    .split("127.0.0.1:")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .and_then(|p| p.parse().ok())
                {
                    self.port = port;
                    break;
                }
            }
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        wait_until(Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
        });
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: no clean shutdown).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn nats_server_bin() -> PathBuf {
    std::env::var_os("NATS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("nats-server"))
}

/// The server shared by the tests that do not stop it: `$TIDELOG_NATS_URL` (started by
/// scripts/test-drain.sh), else a private one for this test.
pub enum Server {
    Shared(String),
    Own(NatsServer),
}

impl Server {
    pub fn get() -> Server {
        match std::env::var("TIDELOG_NATS_URL") {
            Ok(u) if !u.is_empty() => Server::Shared(u),
            _ => Server::Own(NatsServer::start()),
        }
    }
    pub fn url(&self) -> String {
        match self {
            Server::Shared(u) => u.clone(),
            Server::Own(s) => s.url(),
        }
    }
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !f() {
        assert!(Instant::now() < deadline, "timed out after {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The record at `offset` of the test logs: its length varies (1..=max), its bytes name it.
pub fn record(offset: u64, max: usize) -> Vec<u8> {
    let mut x = offset.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let len = 1 + (next() % max as u64) as usize;
    let mut v = offset.to_le_bytes().to_vec();
    while v.len() < len {
        v.push(next() as u8);
    }
    v.truncate(len.max(8));
    v
}

/// A log config with small segments (so trims reclaim, and a corrupt sealed segment exists).
pub fn small_segments() -> Config {
    Config::new().segment_sectors(4)
}

/// A log config with 256 KiB segments (for logs of tens of MiB).
pub fn large_segments() -> Config {
    Config::new().segment_sectors(64)
}

/// Creates a log file of `capacity` bytes holding records `0..n` (see [`record`]).
pub fn make_log(path: &Path, capacity: u64, config: Config, n: u64, max: usize) {
    let mut log: FileLog<16> =
        FileLog::create(path, capacity, config, Durability::Explicit).unwrap();
    append_records(&mut log, 0, n, max);
    log.sync().unwrap();
    log.close().unwrap();
}

pub fn append_records(log: &mut FileLog<16>, from: u64, to: u64, max: usize) {
    let mut o = from;
    while o < to {
        let end = (o + 500).min(to);
        let recs: Vec<Vec<u8>> = (o..end).map(|k| record(k, max)).collect();
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        assert_eq!(log.extend(&refs).unwrap(), o);
        o = end;
    }
}

/// One message of the stream: (sequence, Tidelog-Offset, Nats-Msg-Id, payload).
#[derive(Debug)]
pub struct Msg {
    pub sequence: u64,
    pub offset: u64,
    pub id: String,
    pub payload: Vec<u8>,
}

/// Every message of `stream`, in stream order.
pub fn read_stream(url: &str, stream: &str) -> Vec<Msg> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut s = js.get_stream(stream).await.unwrap();
        let total = s.info().await.unwrap().state.messages;
        let mut out = Vec::with_capacity(total as usize);
        if total == 0 {
            return out;
        }
        let consumer = s
            .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
            .await
            .unwrap();
        let mut msgs = consumer.messages().await.unwrap();
        while (out.len() as u64) < total {
            let m = tokio::time::timeout(Duration::from_secs(30), msgs.next())
                .await
                .expect("stream read timed out")
                .unwrap()
                .unwrap();
            let h = m.headers.as_ref().expect("headers");
            let offset = h.get("Tidelog-Offset").unwrap().as_str().parse().unwrap();
            let id = h.get("Nats-Msg-Id").unwrap().as_str().to_string();
            let sequence = m.info().unwrap().stream_sequence;
            out.push(Msg {
                sequence,
                offset,
                id,
                payload: m.payload.to_vec(),
            });
        }
        out
    })
}

/// Asserts the stream holds exactly the records `from..to` of [`record`] (size `max`), once
/// each, in offset order, byte-identical, with message ids `<source>:<offset>`.
pub fn assert_exactly_once(msgs: &[Msg], source: &str, from: u64, to: u64, max: usize) {
    let offsets: Vec<u64> = msgs.iter().map(|m| m.offset).collect();
    let expected: Vec<u64> = (from..to).collect();
    if offsets != expected {
        let dup = offsets.windows(2).find(|w| w[1] <= w[0]);
        let first_bad = offsets
            .iter()
            .zip(expected.iter())
            .position(|(a, b)| a != b);
        panic!(
            "stream offsets differ: {} messages, expected {}; first difference at index \
             {first_bad:?}; first out-of-order pair {dup:?}",
            offsets.len(),
            expected.len()
        );
    }
    for m in msgs {
        assert_eq!(m.id, format!("{source}:{}", m.offset));
        assert!(
            m.payload == record(m.offset, max),
            "payload of offset {} differs",
            m.offset
        );
    }
}

/// The binary under test: `$TIDELOG_DRAIN_BIN` (the release build scripts/test-drain.sh
/// makes, as a user installs it), else the one cargo built for the tests.
pub fn drain_cmd() -> Command {
    match std::env::var_os("TIDELOG_DRAIN_BIN") {
        Some(bin) if !bin.is_empty() => Command::new(bin),
        _ => Command::new(env!("CARGO_BIN_EXE_tidelog-drain")),
    }
}

/// Runs the binary with `args` to completion (at most 120 s).
pub fn run_drain(args: &[&str]) -> Output {
    let mut child = drain_cmd()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "tidelog-drain did not finish: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The consumer's committed offset, read through a read-only handle (works beside a writer).
pub fn committed(path: &Path, consumer: &str) -> Option<u64> {
    let log: FileLog<16> = FileLog::open_read_only(path).unwrap();
    log.committed(consumer)
}
