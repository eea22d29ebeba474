//! The drain beside a live writer in the same process: the application appends through the
//! same `SharedFileLog` while the drain delivers, commits and trims. The log is far smaller
//! than what is written through it, so the writer only keeps going because trim reclaims the
//! delivered segments.

mod common;
use common::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tidelog::{Durability, Error, SharedFileLog};
use tidelog_drain::{connect, ConnectConfig, Drain, DrainOptions};

#[test]
#[ignore = "needs nats-server: scripts/test-drain.sh runs it"]
fn a_writer_keeps_appending_while_the_drain_runs_and_trim_reclaims_segments() {
    let server = Server::get();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.tlog");
    // 512 KiB in 16 KiB segments; ~8 MB go through it.
    const CAPACITY: u64 = 512 << 10;
    const N: u64 = 40_000;
    const MAX: usize = 400;
    let log = Arc::new(
        SharedFileLog::<16>::create(&path, CAPACITY, small_segments(), Durability::Explicit)
            .unwrap(),
    );
    // A second consumer that lags behind: trim must never pass it.
    log.commit("audit", 0).unwrap();
    let source = unique("live");
    let mut options = DrainOptions::new(source.clone(), format!("telemetry.{source}"));
    options.stream = format!("S_{source}");
    options.trim = true;
    let stream = options.stream.clone();
    let drain = Drain::new(Arc::clone(&log), options).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let log = Arc::clone(&log);
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut full_waits = 0u64;
            let mut max_segments = 0;
            let mut k = 0;
            while k < N {
                if k == 500 {
                    // The lagging consumer held trim back so far; then it goes away.
                    assert_eq!(
                        log.stats().unwrap().first_offset,
                        0,
                        "trim passed a consumer"
                    );
                    log.remove_consumer("audit").unwrap();
                }
                match log.append(&record(k, MAX)) {
                    Ok(o) => {
                        assert_eq!(o, k);
                        k += 1;
                    }
                    Err(e) if e.kind() == Error::Full => {
                        full_waits += 1;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err(e) => panic!("append {k}: {e}"),
                }
                let s = log.stats().unwrap();
                max_segments = max_segments.max(s.segments_used);
                if k % 64 == 0 {
                    log.sync().unwrap();
                }
            }
            log.sync().unwrap();
            stop.store(true, Ordering::Relaxed);
            (full_waits, max_segments)
        })
    };
    let url = server.url();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let stop2 = Arc::clone(&stop);
    let report = rt.block_on(async {
        let client = connect(&url, &ConnectConfig::default()).await.unwrap();
        let log2 = Arc::clone(&log);
        drain
            .run(client, async move {
                // Stop once the writer is done and everything is committed.
                loop {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if stop2.load(Ordering::Relaxed)
                        && log2.with(|f| f.committed("nats")).unwrap() == Some(N)
                    {
                        break;
                    }
                }
            })
            .await
    });
    let (full_waits, max_segments) = writer.join().unwrap();
    eprintln!("writer waited {full_waits} times for trim; at most {max_segments} segments used");
    let report = report.unwrap();
    assert_eq!(report.delivered_next, N);
    assert_eq!(report.committed, Some(N));
    let stats = log.stats().unwrap();
    let written: u64 = (0..N).map(|k| record(k, MAX).len() as u64).sum();
    assert!(
        written > 8 * CAPACITY,
        "the test must write far more than the capacity"
    );
    assert!(
        stats.first_offset > N / 2,
        "trim did not reclaim: first offset {}",
        stats.first_offset
    );
    assert_exactly_once(&read_stream(&url, &stream), &source, 0, N, MAX);
    log.close().unwrap();
}
