//! A tiny version of every comparison, so `cargo test --workspace` exercises the bench: both
//! contestants round-trip the same items, the simulator wrapper counts like the peer's own
//! test flash, the write-once limits show, the file WAL cases run, and the report renders.

use std::time::Duration;

use embassy_futures::block_on;
use sequential_storage::cache::Cache;
use sequential_storage::mock_flash::{MockFlashBase, WriteCountCheck};
use sequential_storage::queue::{QueueConfig, QueueStorage};
use tidelog::{FullPolicy, SimFlash};
use tidelog_bench::nor::SimNorMultiwrite;
use tidelog_bench::report::{self, Report};
use tidelog_bench::run::{self, Scale};
use tidelog_bench::subject::{best_cache, BestCache, Consume, Peer, Subject, Tide};
use tidelog_bench::wal::{self, Case, Keep, WalScale};
use tidelog_bench::workloads::{self, ITEM};

const W: usize = 4;
const E: usize = 4096;
const P: usize = 8;

fn sim() -> SimFlash {
    SimFlash::new(W, E, P * E).unwrap()
}

fn contents<S: Subject>(s: &mut S) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    s.iterate(&mut |d| v.push(d.to_vec())).unwrap();
    v
}

/// Push, iterate, pop, reboot, iterate: tidelog and the peer hold exactly the same items at
/// every step.
#[test]
fn both_round_trip_the_same_items() {
    let mut tide = Tide::format(sim(), FullPolicy::Reject, Consume::Commit).unwrap();
    let mut peer =
        Peer::<SimNorMultiwrite<W, E>, BestCache<P>>::format(sim(), best_cache::<P>, false, "peer")
            .unwrap();
    let mut it = [0u8; ITEM];
    for seq in 0..150 {
        workloads::item(seq, &mut it);
        tide.push(&it).unwrap();
        peer.push(&it).unwrap();
    }
    let all = contents(&mut tide);
    assert_eq!(all.len(), 150);
    assert_eq!(all, contents(&mut peer));

    let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
    for seq in 0..60u64 {
        let la = tide.pop(&mut a).unwrap().unwrap();
        let lb = peer.pop(&mut b).unwrap().unwrap();
        assert_eq!(&a[..la], &b[..lb]);
        assert_eq!(workloads::seq_of(&a[..la]).unwrap(), seq);
    }
    tide.remount().unwrap();
    peer.remount().unwrap();
    let rest = contents(&mut tide);
    assert_eq!(rest, all[60..].to_vec());
    assert_eq!(rest, contents(&mut peer));
    let la = tide.peek(&mut a).unwrap().unwrap();
    let lb = peer.peek(&mut b).unwrap().unwrap();
    assert_eq!(&a[..la], &b[..lb]);
}

/// Every workload on two geometries, at a tiny scale (each workload checks what it reads).
#[test]
fn every_workload_runs_on_both() {
    let scale = Scale::SMOKE;
    let gs = vec![
        run::run_geometry::<4, 4096, 8>(&scale).unwrap(),
        run::run_geometry::<32, 4096, 4>(&scale).unwrap(),
    ];
    for g in &gs {
        // Both wrapped: they hold fewer items than were pushed, and keep most of a device.
        let pushed = g.warmup + g.pushes;
        for f in [&g.fill.tide, &g.fill.cached, &g.fill.uncached] {
            assert!(f.retained > 0 && f.retained < pushed);
            assert_eq!(f.oldest + f.retained, pushed);
        }
        // Cached and uncached peers store identically; only their reads differ.
        let (c, u) = (g.fill.cached.push.stats, g.fill.uncached.push.stats);
        assert_eq!(
            (c.programs, c.program_bytes, c.erases),
            (u.programs, u.program_bytes, u.erases)
        );
        assert!(u.reads > c.reads);
        // tidelog programs each item in one call, the peer in two.
        assert!(g.fill.tide.push.stats.programs < c.programs);
        // Everybody consumed every cycle.
        for cy in [
            &g.consume.commit,
            &g.consume.commit_trim,
            &g.consume.batch16,
            &g.consume.cached,
            &g.consume.uncached,
        ] {
            assert_eq!(cy.cycle.ops, g.cycles);
        }
        // Mounting after a clean shutdown writes nothing.
        for m in [
            &g.mount_peek_n.tide,
            &g.mount_peek_full.tide,
            &g.mount_peek_full.cached,
        ] {
            assert_eq!(m.stats.programs + m.stats.erases, 0);
        }
    }

    let write_once = run::write_once(&scale).unwrap();
    let err = write_once.pretend_pop.clone().unwrap_err();
    assert!(err.contains("WriteTwice"), "{err}");
    for (unit, peer, cycles, _) in &write_once.wide_units {
        assert!(*unit > 32 && *cycles > 0);
        assert!(peer.contains("WordSizeTooLarge"), "{peer}");
    }

    let r = Report {
        geometries: gs,
        write_once,
        wal: None,
        scale,
        wal_dir: std::env::temp_dir().display().to_string(),
        total_secs: 0.0,
        // The shape `footprint/measure.sh` prints (not run here: a cross build).
        footprint: Some(
            "probe          .text  .rodata\n\
             log             9600     1156\n\
             log_kv         13000     1292\n\
             peer_queue      6842       64\n\
             peer_map        9012       80\n"
                .into(),
        ),
    };
    let page = report::render(&r);
    for heading in [
        "### 1.1", "### 1.2", "### 1.3", "### 1.4", "### 1.5", "### 1.6", "## 2.", "## 3.",
    ] {
        assert!(page.contains(heading), "missing {heading}");
    }
    assert!(page.contains("The log: 9600 B, **1.04× over the 9216 B target**"));
    assert!(page.contains("with the KV journal: 13,000 B, within the 15,854 B target"));
    assert!(page.contains(report::COMMAND));
}

/// The wrapper counts exactly like the peer's own test flash: the same queue operations on
/// `MockFlashBase` (4-byte words, 4 KiB pages) and on `SimNorMultiwrite<4, 4096, 4>`.
#[test]
fn simulator_counts_match_the_peers_mock_flash() {
    type Mock = MockFlashBase<8, 4, 1024>;
    let mock = Mock::new(WriteCountCheck::Twice, None, false);
    let nor: SimNorMultiwrite<4, 4096, 4> = SimNorMultiwrite::new(sim()).unwrap();
    let range = 0..(8 * 4096) as u32;

    let mut qm = QueueStorage::new(mock, QueueConfig::new(range.clone()), Cache::new_uncached());
    let mut qs = QueueStorage::new(nor, QueueConfig::new(range), Cache::new_uncached());
    let m0 = qm.flash().stats_snapshot();
    let s0 = qs.flash().stats();

    let mut it = [0u8; ITEM];
    let (mut a, mut b) = ([0u8; 256], [0u8; 256]);
    block_on(async {
        qm.erase_all().await.unwrap();
        qs.erase_all().await.unwrap();
        for seq in 0..700u64 {
            workloads::item(seq, &mut it);
            qm.push(&it, true).await.unwrap();
            qs.push(&it, true).await.unwrap();
            if seq % 3 == 0 {
                let x = qm.pop(&mut a).await.unwrap().map(|d| d.to_vec());
                let y = qs.pop(&mut b).await.unwrap().map(|d| d.to_vec());
                assert_eq!(x, y);
            }
            if seq % 50 == 0 {
                let x = qm.peek(&mut a).await.unwrap().map(|d| d.to_vec());
                let y = qs.peek(&mut b).await.unwrap().map(|d| d.to_vec());
                assert_eq!(x, y);
            }
        }
    });

    let m = m0.compare_to(qm.flash().stats_snapshot());
    let s = qs.flash().stats();
    let s = workloads::delta(&s0, &s);
    assert!(m.writes > 1000 && m.erases > 0);
    assert_eq!(
        (m.reads, m.bytes_read, m.writes, m.bytes_written, m.erases),
        (
            s.reads,
            s.read_bytes,
            s.programs,
            s.program_bytes,
            s.erase_calls
        )
    );
}

/// Section 2 at a tiny scale: every case runs on both, and what was committed comes back.
#[test]
fn file_wal_cases_run_and_recover() {
    let scale = WalScale {
        budget: Duration::from_secs(5),
        max_commits: 4,
        rounds: 2,
        group: 8,
        threads: 2,
    };
    let dir = tempfile::tempdir().unwrap();
    let case = |name: &str| {
        let d = dir.path().join(name);
        std::fs::create_dir(&d).unwrap();
        d
    };
    let (od, og) = (case("od"), case("og"));
    let (t, o) = wal::run_case(Case::Durable, &case("td"), &od, &scale).unwrap();
    assert_eq!((t.entries, t.commits), (4, 4));
    assert_eq!((o.entries, o.commits), (4, 4));
    let (t, o) = wal::run_case(Case::Group, &case("tg"), &og, &scale).unwrap();
    assert_eq!((t.entries, t.commits), (32, 4));
    assert_eq!((o.entries, o.commits), (32, 4));
    let (t, o) = wal::run_case(Case::Threads, &case("tt"), &case("ot"), &scale).unwrap();
    assert_eq!((t.entries, o.entries), (4, 4));

    // okaywal gives back the entries it committed (tidelog's file is checked by `run_case`).
    let recover = |d: &std::path::Path| {
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = wal::okay_open(
            d,
            Keep {
                recovered: Some(got.clone()),
            },
        )
        .unwrap();
        log.shutdown().unwrap();
        let v = got.lock().unwrap().clone();
        v
    };
    let want: Vec<Vec<Vec<u8>>> = (0..4).map(|n| vec![wal::entry(n).to_vec()]).collect();
    assert_eq!(recover(&od), want);
    let want: Vec<Vec<Vec<u8>>> = (0..4)
        .map(|c| (0..8).map(|i| wal::entry(c * 8 + i).to_vec()).collect())
        .collect();
    assert_eq!(recover(&og), want);
}
