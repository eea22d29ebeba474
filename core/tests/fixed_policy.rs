#![cfg(feature = "sim")]
//! A policy fixed in the type ([`policy::Reject`], [`policy::OverwriteOldest`]) behaves exactly
//! like the same policy taken from the `Config` ([`policy::FromConfig`]), and wins over the
//! `Config`.
//!
//! The fixed-policy types only let the compiler drop the other policy's branches, so the check
//! is equivalence, op by op: random sequences of appends, batches, trims, truncations, commits
//! and remounts run on two logs over identical simulated flash — one `FromConfig` log told the
//! policy by its `Config`, one fixed-policy log whose `Config` asks for the *other* policy —
//! and every result (offsets, the exact errors, the first offset, stats) and finally the whole
//! flash image must be identical. The model test (`model.rs`) and the power-cut harness check
//! the policies' behaviour itself through `FromConfig`.

use proptest::prelude::*;
use tidelog::policy::{self, FromConfig, Policy};
use tidelog::{Config, Error, FullPolicy, Log, SimFlash, Stats};

const C: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    Append(u16),
    Batch(u8, u16),
    Trim(u8),
    Truncate(u8),
    Commit(bool, u8),
    Remount,
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (1u16..300).prop_map(Op::Append),
        2 => (1u8..6, 1u16..120).prop_map(|(n, l)| Op::Batch(n, l)),
        2 => any::<u8>().prop_map(Op::Trim),
        1 => any::<u8>().prop_map(Op::Truncate),
        3 => (any::<bool>(), any::<u8>()).prop_map(|(w, a)| Op::Commit(w, a)),
        1 => Just(Op::Remount),
    ]
}

/// Everything an operation returned, in a comparable form.
#[derive(Debug, PartialEq)]
enum Outcome {
    Offset(Result<u64, Error>),
    Unit(Result<(), Error>),
}

/// `at` (0..=255) scaled into `first..=next`.
fn between(first: u64, next: u64, at: u8) -> u64 {
    first + (next - first) * at as u64 / 255
}

fn config(policy: FullPolicy) -> Config {
    Config::new().index_interval(64).full_policy(policy)
}

/// Runs `ops` on a log of policy type `P` formatted with `config(policy)`; returns every
/// outcome, the state after each op, and the final image.
fn run<P: Policy>(policy: FullPolicy, ops: &[Op]) -> (Vec<(Outcome, Stats, u64)>, Vec<u8>) {
    let sim = SimFlash::new(4, 512, 512 * 5).expect("geometry");
    let mut log: Log<SimFlash, C, P> = Log::format(sim, config(policy)).expect("format");
    let mut trace = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let (first, next) = (log.first_offset(), log.stats().next_offset);
        let payload = vec![i as u8; 300];
        let outcome = match *op {
            Op::Append(len) => Outcome::Offset(log.append(&payload[..len as usize])),
            Op::Batch(n, len) => {
                let records: Vec<&[u8]> = (0..n).map(|_| &payload[..len as usize]).collect();
                Outcome::Offset(log.append_batch(&records))
            }
            Op::Trim(at) => Outcome::Unit(log.trim_front(between(first, next, at))),
            Op::Truncate(at) => Outcome::Unit(log.truncate_back(between(first, next, at))),
            Op::Commit(who, at) => {
                let name = if who { "a" } else { "b" };
                Outcome::Unit(log.commit(name, between(first, next, at)))
            }
            Op::Remount => {
                let storage = log.into_storage();
                log = Log::mount(storage, config(policy)).expect("remount");
                Outcome::Unit(Ok(()))
            }
        };
        trace.push((outcome, log.stats(), log.first_offset()));
    }
    (trace, log.into_storage().image().to_vec())
}

fn other(p: FullPolicy) -> FullPolicy {
    match p {
        FullPolicy::Reject => FullPolicy::OverwriteOldest,
        FullPolicy::OverwriteOldest => FullPolicy::Reject,
    }
}

/// The fixed-policy log (configured with the other policy) against the configured one.
fn check_equivalent<P: Policy>(fixed: FullPolicy, ops: &[Op]) -> Result<(), TestCaseError> {
    let (want, want_image) = run::<FromConfig>(fixed, ops);
    let (got, got_image) = run::<P>(other(fixed), ops);
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        prop_assert_eq!(w, g, "op {} ({:?})", i, ops[i]);
    }
    prop_assert!(want_image == got_image, "images differ");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_fixed_reject_log_matches_a_configured_one(ops in prop::collection::vec(op_strategy(), 1..120)) {
        check_equivalent::<policy::Reject>(FullPolicy::Reject, &ops)?;
    }

    #[test]
    fn a_fixed_ring_log_matches_a_configured_one(ops in prop::collection::vec(op_strategy(), 1..120)) {
        check_equivalent::<policy::OverwriteOldest>(FullPolicy::OverwriteOldest, &ops)?;
    }
}

#[test]
fn the_type_wins_over_the_config() {
    let sim = SimFlash::new(4, 512, 512 * 4).expect("geometry");
    let cfg = config(FullPolicy::Reject);
    let mut ring: Log<SimFlash, C, policy::OverwriteOldest> =
        Log::format(sim, cfg).expect("format");
    assert_eq!(ring.full_policy(), FullPolicy::OverwriteOldest);
    // A Reject log of four segments refuses long before 100 × 200 B; the ring never does.
    for _ in 0..100 {
        ring.append(&[7u8; 200]).expect("a ring buffer never fills");
    }
    assert!(ring.first_offset() > 0, "old records were dropped");

    let sim = ring.into_storage();
    let mut reject: Log<SimFlash, C, policy::Reject> =
        Log::mount(sim, config(FullPolicy::OverwriteOldest)).expect("mount");
    assert_eq!(reject.full_policy(), FullPolicy::Reject);
    let mut full = None;
    for _ in 0..100 {
        if let Err(e) = reject.append(&[8u8; 200]) {
            full = Some(e);
            break;
        }
    }
    assert_eq!(full, Some(Error::Full));

    // The default type takes the policy from the Config.
    let sim = reject.into_storage();
    let configured: Log<SimFlash, C> =
        Log::mount(sim, config(FullPolicy::OverwriteOldest)).expect("mount");
    assert_eq!(configured.full_policy(), FullPolicy::OverwriteOldest);
}
