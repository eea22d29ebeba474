//! Records/s drained into JetStream: the drain vs a naive publish-and-wait loop vs raw
//! pipelined JetStream publishing of the same payloads without tidelog (the ceiling), in the
//! same run against the same server.
//!
//! `cargo run --release -p tidelog-drain --example bench -- --nats nats://127.0.0.1:4222`
//! (options: `--records N` for the 100 B case, a quarter of it for 1 KiB; `--rounds R`, best
//! of R).

use std::collections::VecDeque;
use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tidelog::{Config, Durability, FileLog, SharedFileLog};
use tidelog_drain::{connect, ConnectConfig, Drain, DrainOptions};

const IN_FLIGHT: usize = 4096;

fn payload(k: u64, size: usize) -> Vec<u8> {
    let mut v = vec![(k % 251) as u8; size];
    v[..8].copy_from_slice(&k.to_le_bytes());
    v
}

async fn js(url: &str) -> async_nats::jetstream::Context {
    let client = connect(url, &ConnectConfig::default()).await.unwrap();
    async_nats::jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(10))
        .max_ack_inflight(IN_FLIGHT)
        .backpressure_on_inflight(true)
        .build(client)
}

async fn fresh_stream(js: &async_nats::jetstream::Context, name: &str, subject: &str) {
    let _ = js.delete_stream(name).await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: name.to_string(),
        subjects: vec![subject.to_string()],
        ..Default::default()
    })
    .await
    .unwrap();
}

/// Raw: pipelined publishes (same window as the drain), acks awaited in order; with
/// `headers`, each carries the drain's three headers (message id, offset, expected last
/// sequence), which shows what the server's deduplication and sequence check cost.
async fn raw(url: &str, n: u64, size: usize, tag: &str, headers: bool) -> f64 {
    let js = js(url).await;
    let h = if headers { "H" } else { "" };
    let (name, subject) = (format!("BENCH_RAW{h}_{tag}"), format!("bench.raw{h}.{tag}"));
    fresh_stream(&js, &name, &subject).await;
    let payloads: Vec<bytes::Bytes> = (0..n).map(|k| payload(k, size).into()).collect();
    let t = Instant::now();
    let mut acks = VecDeque::with_capacity(IN_FLIGHT);
    for (k, p) in payloads.into_iter().enumerate() {
        if acks.len() == IN_FLIGHT {
            let a: async_nats::jetstream::context::PublishAckFuture = acks.pop_front().unwrap();
            a.into_future().await.unwrap();
        }
        let ack = if headers {
            let m = async_nats::jetstream::message::PublishMessage::build()
                .payload(p)
                .message_id(format!("bench:{k}"))
                .header("Tidelog-Offset", k.to_string())
                .expected_last_sequence(k as u64);
            js.send_publish(subject.clone(), m).await.unwrap()
        } else {
            js.publish(subject.clone(), p).await.unwrap()
        };
        acks.push_back(ack);
    }
    for a in acks {
        a.into_future().await.unwrap();
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    js.delete_stream(&name).await.unwrap();
    rate
}

/// Naive: publish one record, wait for its ack, next.
async fn naive(url: &str, n: u64, size: usize, tag: &str) -> f64 {
    let js = js(url).await;
    let (name, subject) = (format!("BENCH_NAIVE_{tag}"), format!("bench.naive.{tag}"));
    fresh_stream(&js, &name, &subject).await;
    let t = Instant::now();
    for k in 0..n {
        js.publish(subject.clone(), payload(k, size).into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    js.delete_stream(&name).await.unwrap();
    rate
}

/// The drain: a log of `n` records delivered by the library, commits and fsyncs included.
async fn drain(url: &str, dir: &std::path::Path, n: u64, size: usize, tag: &str) -> f64 {
    let path = dir.join(format!("{tag}.tlog"));
    let _ = std::fs::remove_file(&path);
    let capacity = (n * (size as u64 + 16) * 5 / 4 + (8 << 20)).next_multiple_of(4096);
    {
        let mut log: FileLog<16> = FileLog::create(
            &path,
            capacity,
            Config::new().segment_sectors(1024),
            Durability::Explicit,
        )
        .unwrap();
        let recs: Vec<Vec<u8>> = (0..n).map(|k| payload(k, size)).collect();
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        log.extend(&refs).unwrap();
        log.sync().unwrap();
        log.close().unwrap();
    }
    let log =
        Arc::new(SharedFileLog::<16>::open(&path, Config::new(), Durability::Explicit).unwrap());
    let js = js(url).await;
    let mut options = DrainOptions::new(format!("bench-{tag}"), format!("bench.drain.{tag}"));
    options.follow = false;
    let _ = js.delete_stream(&options.stream).await;
    let stream = options.stream.clone();
    let d = Drain::new(Arc::clone(&log), options).unwrap();
    let client = connect(url, &ConnectConfig::default()).await.unwrap();
    let t = Instant::now();
    let report = d.run(client, std::future::pending()).await.unwrap();
    let rate = n as f64 / t.elapsed().as_secs_f64();
    assert_eq!(report.delivered_next, n);
    assert_eq!(report.committed, Some(n));
    js.delete_stream(&stream).await.unwrap();
    log.close().unwrap();
    let _ = std::fs::remove_file(&path);
    rate
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut url = "nats://127.0.0.1:4222".to_string();
    let mut records = 200_000u64;
    let mut rounds = 3;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--nats" => url = args.next().expect("--nats URL"),
            "--records" => {
                records = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--records N")
            }
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--rounds R")
            }
            other => panic!("unknown argument {other}"),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "tidelog-drain bench: {url}, best of {rounds} rounds, {IN_FLIGHT} publishes in flight \
         (drain and raw), nats-server {}",
        std::process::Command::new("nats-server")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|_| "?".into())
    );
    println!("| record | records | drain (rec/s) | raw publish (rec/s) | raw + drain's headers (rec/s) | naive (rec/s) | drain / raw | drain / raw + headers | drain / naive |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for size in [100usize, 1024] {
        let n = if size == 100 { records } else { records / 4 };
        let naive_n = (n / 10).max(1);
        let (mut d, mut r, mut rh, mut s) = (0f64, 0f64, 0f64, 0f64);
        for round in 0..rounds {
            let tag = format!("{size}_{round}");
            r = r.max(rt.block_on(raw(&url, n, size, &tag, false)));
            rh = rh.max(rt.block_on(raw(&url, n, size, &tag, true)));
            d = d.max(rt.block_on(drain(&url, dir.path(), n, size, &tag)));
            s = s.max(rt.block_on(naive(&url, naive_n, size, &tag)));
        }
        println!(
            "| {size} B | {n} | {d:.0} | {r:.0} | {rh:.0} | {s:.0} | {:.0} % | {:.0} % | {:.1}x |",
            100.0 * d / r,
            100.0 * d / rh,
            d / s
        );
    }
}
