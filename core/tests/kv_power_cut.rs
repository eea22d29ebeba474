//! Power-cut tests of the KV journal: the exhaustive harness of `tests/support/kv_powercut.rs`
//! over KV workloads (including cuts during compaction, `clear` and `format`, and a second
//! cut during the first write after each recovery).
//!
//! `KV_POWERCUT_POINTS` (default 20 000) and `KV_POWERCUT_SEED` (default 1) size the run; the
//! last line printed is `powercut: kv <N> crash points, <V> violations`.
#![cfg(feature = "sim")]

#[path = "support/kv_powercut.rs"]
mod kv_powercut;

use std::time::Instant;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[test]
fn kv_power_cut_exhaustive() {
    let seed = env_u64("KV_POWERCUT_SEED", 1);
    let min_points = env_u64("KV_POWERCUT_POINTS", 20_000);
    let t = Instant::now();
    let r = kv_powercut::run_report(seed, min_points);
    println!(
        "kv power-cut: {} jobs, {} ops, {} compactions, {} full, {} crash points ({} after recovery), {:.1}s",
        r.jobs,
        r.ops,
        r.compactions,
        r.fulls,
        r.points,
        r.nested_points,
        t.elapsed().as_secs_f64()
    );
    println!(
        "powercut: kv {} crash points, {} violations",
        r.points, r.violations
    );
    assert!(
        r.compactions > 0 && r.fulls > 0,
        "the workloads must compact and fill up"
    );
    assert_eq!(r.violations, 0, "violations:\n{}", r.messages.join("\n"));
}

/// `run` is the entry point other harnesses call.
#[test]
fn kv_power_cut_entry_point() {
    let (points, violations) = kv_powercut::run(7, 500);
    assert!(points >= 500);
    assert_eq!(violations, 0);
}
