//! Power-cut tests: the fast variant of the exhaustive harness (`tests/support/powercut.rs`;
//! the long run is `cargo run --release -p tidelog --features sim --example powercut`).
//!
//! Each test runs workloads over its half of the geometry matrix (write size 1, 4, 8, 32, 256 ×
//! erase size 256, 4096) and crash-tests a sample of their ops at every mutating storage op in
//! every cut mode, with a second cut after each recovery.
#![cfg(feature = "sim")]

#[path = "support/powercut.rs"]
mod powercut;

use powercut::{matrix_len, run_job, Job, JobReport, Settings, CUTS};
use tidelog::{Config, Cut, FullPolicy, Log, PowerCut, SimFlash};

fn run_matrix(policy: FullPolicy, seeds: &[u64]) {
    let settings = Settings::fast();
    let mut total = JobReport::default();
    let mut jobs = 0;
    for &seed in seeds {
        for combo in 0..matrix_len() {
            let job = Job::from_matrix(combo, seed.wrapping_mul(0x9E37_79B9) + combo as u64);
            if job.policy != policy {
                continue;
            }
            assert_eq!(job.combo(), combo);
            let r = run_job(&job, &settings, &[]);
            println!(
                "job {:#x}:{combo} {} {:?}: {} ops, {:.1} wraps, {} full, {} crash points (+{} double-fault), {} violations",
                job.seed,
                job.geometry(),
                job.policy,
                r.ops,
                r.wraps,
                r.fulls,
                r.points,
                r.double_points,
                r.violations
            );
            jobs += 1;
            total.points += r.points;
            total.double_points += r.double_points;
            total.recovery_cuts += r.recovery_cuts;
            total.early_reclaims += r.early_reclaims;
            total.violations += r.violations;
            total.messages.extend(r.messages);
        }
    }
    println!(
        "power_cut {policy:?}: {jobs} jobs, {} crash points ({} double-fault, {} in recovery), {} violations, {} early reclaims (the last resort, tolerated)",
        total.total_points(),
        total.double_points,
        total.recovery_cuts,
        total.violations,
        total.early_reclaims
    );
    assert!(total.points > 0);
    assert_eq!(
        total.violations,
        0,
        "power-cut violations:\n{}",
        total.messages.join("\n")
    );
}

#[test]
fn power_cut_matrix_reject() {
    run_matrix(FullPolicy::Reject, &[1, 2, 3]);
}

#[test]
fn power_cut_matrix_overwrite_oldest() {
    run_matrix(FullPolicy::OverwriteOldest, &[1, 2, 3]);
}

/// Regression: `truncate_back(first)` (drop everything) on a full ring reused the head segment
/// whatever the full policy: it erased the head before the new segment's header committed the
/// truncation, so a power cut in between lost the head's records while the truncation never
/// happened (`next_offset` unchanged, `first_offset` moved forward) — under `Reject`, with no
/// trim and no consumer allowing it (I2, and the documented atomicity of `truncate_back`).
/// Found by the harness (`job 0x9e3779bd:4 ws=8 es=256 … Reject`; first seen as
/// `job 0x13c6ef383:17 … OverwriteOldest`, where reclaiming the head for room is allowed).
/// Fixed: the head is reclaimed through the full policy as for any other truncation, so under
/// `Reject` the call fails with `Error::Full` (as documented) and changes nothing.
#[test]
fn regression_truncate_to_first_on_a_full_ring_is_atomic() {
    let cfg = Config::new().segment_sectors(4).index_interval(128);
    let mut sim = SimFlash::new(4, 256, 4 * 1024).unwrap();
    let mut log: Log<&mut SimFlash, 4> = Log::format(&mut sim, cfg).unwrap();
    let mut n = 0u64;
    while log.append(&[n as u8; 40]).is_ok() {
        n += 1;
    }
    let (first, next) = (log.first_offset(), log.next_offset());
    assert!(first < next);
    let snap = sim.snapshot();
    'cuts: for j in 0..8 {
        for cut in CUTS {
            sim.restore(&snap);
            let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
            let at = log.storage().mutating_ops() + j;
            log.storage_mut()
                .set_fault(Some(PowerCut { at_op: at, cut }));
            let result = log.truncate_back(first);
            let finished = log.storage().is_powered();
            sim.power_cycle();
            let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
            let got = (log.first_offset(), log.next_offset());
            assert!(
                got == (first, next) || got == (first, first),
                "cut {cut:?} at op {j} of truncate_back({first}) ({result:?}): the log holds \
                 {got:?}, neither {:?} nor {:?}",
                (first, next),
                (first, first)
            );
            let mut buf = [0u8; 64];
            for o in got.0..got.1 {
                assert_eq!(log.read(o, &mut buf), Ok(40));
                assert_eq!(buf[..40], [o as u8; 40]);
            }
            if finished {
                break 'cuts; // the op completed before op j: no later cut can fire
            }
        }
    }
}

/// Regression: with 1-byte write units, an index slot for a frame whose position ends in byte
/// `0xFF` starts with a `0xFF` byte. A power cut that tore the slot's program after that byte
/// left a programmed unit that reads erased; recovery took the slot for unused and the log
/// programmed the next slot over it (`StorageError::WriteTwice`: write-once rule broken).
/// Found by the long harness run (`job 0x28edbe9487ce7467:10 ws=1 es=4096 … Reject: append cut
/// TornPrefix at mutating op 2/2`). Fixed: with 1-byte units, a frame at such a position gets
/// no slot (the next frame is indexed instead), so no slot can tear invisibly.
#[test]
fn regression_torn_index_slot_that_reads_erased_is_not_programmed_again() {
    let cfg = Config::new().index_interval(128);
    let fresh = || SimFlash::new(1, 4096, 4 * 4096).unwrap();
    let mut sim = fresh();
    let mut log: Log<&mut SimFlash, 4> = Log::format(&mut sim, cfg).unwrap();
    let layout = *log.layout();
    // Frames start right after the header (77 bytes: no consumers). One record puts the next
    // frame at position 255 (0xFF), far enough from the start to be due an index slot.
    let data_start = 64 + 9 + 4;
    log.append(&vec![1u8; 255 - data_start - 8]).unwrap();
    let snap = sim.snapshot();
    let slot0 = (layout.segment_addr(0) + layout.slot_pos(0)) as usize;
    for seed in 0..64u64 {
        let mut sim = fresh().with_seed(seed);
        sim.restore(&snap);
        let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
        // Op 0 programs the frame at 255; op 1 was its index slot (before the fix): tear it.
        let at = log.storage().mutating_ops() + 1;
        log.storage_mut().set_fault(Some(PowerCut {
            at_op: at,
            cut: Cut::TornPrefix,
        }));
        for i in 0..3u8 {
            if log.append(&[i; 100]).is_err() {
                break;
            }
        }
        sim.power_cycle();
        let unseen = sim.image()[slot0..slot0 + 16].iter().all(|&b| b == 0xFF)
            && sim.is_programmed(slot0 as u32);
        let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
        for i in 0..20u8 {
            if let Err(e) = log.append(&[i; 100]) {
                panic!(
                    "seed {seed}: append {i} after recovery failed: {e:?} \
                     (torn slot 0 reads erased: {unseen})"
                );
            }
        }
    }
}

/// Under `Reject`, on a full ring whose active segment has no room for a state frame, a trim
/// goes into the spare's header (the checkpoint) before the head it frees is erased: a cut at
/// any of its first ops leaves the first offset at its old or its new value (DESIGN.md §D3).
#[test]
fn trim_on_a_full_ring_is_atomic() {
    let cfg = Config::new().segment_sectors(4).index_interval(128);
    let mut sim = SimFlash::new(4, 256, 4 * 1024).unwrap();
    let mut log: Log<&mut SimFlash, 4> = Log::format(&mut sim, cfg).unwrap();
    // Fill the ring, then the active segment's last bytes (no room left for a state frame).
    while log.append(&[7u8; 40]).is_ok() {}
    while log.append(&[]).is_ok() {}
    let (first, next) = (log.first_offset(), log.next_offset());
    let to = next - 1;
    let snap = sim.snapshot();
    for j in 0..4 {
        for cut in CUTS {
            sim.restore(&snap);
            let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
            let at = log.storage().mutating_ops() + j;
            log.storage_mut()
                .set_fault(Some(PowerCut { at_op: at, cut }));
            let result = log.trim_front(to);
            sim.power_cycle();
            let log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
            let got = log.first_offset();
            assert!(
                got == first || got == to,
                "cut {cut:?} at op {j} of trim_front({to}) ({result:?}): first_offset is {got}, \
                 neither {first} (before) nor {to} (after)"
            );
            assert_eq!(log.next_offset(), next);
        }
    }
}

/// The `commit` side of `trim_on_a_full_ring_is_atomic`: a commit that moves every cursor past
/// the head, on a full `Reject` ring whose active segment has no room for its state frame, is
/// durable (in the spare's header) before the head is erased: a cut never drops records the
/// consumer has not durably committed past.
#[test]
fn commit_on_a_full_ring_never_drops_uncommitted_records() {
    let cfg = Config::new().segment_sectors(4).index_interval(128);
    let mut sim = SimFlash::new(4, 256, 4 * 1024).unwrap();
    let mut log: Log<&mut SimFlash, 4> = Log::format(&mut sim, cfg).unwrap();
    log.commit("c", 0).unwrap();
    while log.append(&[7u8; 40]).is_ok() {}
    while log.append(&[]).is_ok() {}
    let next = log.next_offset();
    let snap = sim.snapshot();
    for cut in CUTS {
        sim.restore(&snap);
        let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
        let at = log.storage().mutating_ops();
        log.storage_mut()
            .set_fault(Some(PowerCut { at_op: at, cut }));
        let result = log.commit("c", next);
        sim.power_cycle();
        let log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
        let (first, committed) = (log.first_offset(), log.committed("c"));
        assert!(
            committed == Some(next) || first == 0,
            "cut {cut:?} at the first op of commit(c, {next}) ({result:?}): cursor still \
             {committed:?} but records 0..{first} are gone"
        );
    }
}

/// A 4-segment `Reject` log (1 KiB segments) whose spare a truncation took: no free segment, a
/// consumer holding the oldest records, and the active segment filled by appends as far as
/// they go (with `tear_last`, the last of them torn by a power cut that programmed part of it,
/// so the active segment is unusable after the reboot). Returns the image, its first and next
/// offsets and a trim point that frees the oldest segment and lies inside the next one.
fn full_ring_without_spare(tear_last: bool) -> (SimFlash, u64, u64, u64) {
    let cfg = Config::new().segment_sectors(4).index_interval(128);
    let mut sim = SimFlash::new(4, 256, 4 * 1024).unwrap();
    let mut log: Log<&mut SimFlash, 4> = Log::format(&mut sim, cfg).unwrap();
    log.commit("c", 0).unwrap();
    while log.append(&[7u8; 40]).is_ok() {}
    let stats = log.stats();
    assert_eq!(
        stats.segments_used + 1,
        stats.segments_total,
        "one spare left"
    );
    // The truncation opens the spare: no segment is free afterwards.
    log.truncate_back(log.next_offset() - 1).unwrap();
    let stats = log.stats();
    assert_eq!(stats.segments_used, stats.segments_total, "no free segment");
    let mut before_last = log.storage().snapshot();
    loop {
        let snap = log.storage().snapshot();
        if log.append(&[7u8; 40]).is_err() {
            break;
        }
        before_last = snap;
    }
    if tear_last {
        sim.restore(&before_last);
        let untouched = sim.image().to_vec();
        // A torn prefix of random length: retried until it programmed something. The simulator
        // keeps which units the cut programmed, so writing any of them again would fail.
        for seed in 1.. {
            let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
            let at = log.storage().mutating_ops();
            log.storage_mut().set_fault(Some(PowerCut {
                at_op: at,
                cut: Cut::TornPrefix,
            }));
            assert!(log.append(&[7u8; 40]).is_err());
            sim.power_cycle();
            if sim.image() != &untouched[..] {
                break;
            }
            sim.restore(&before_last);
            sim = sim.with_seed(seed);
        }
    }
    let log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
    let (first, next) = (log.first_offset(), log.next_offset());
    let snap = sim.snapshot();
    let frees_head = |sim: &mut SimFlash, o: u64| {
        sim.restore(&snap);
        let mut log: Log<&mut SimFlash, 4> = Log::mount(sim, cfg).unwrap();
        // A trim that frees nothing has no room left (`Full`): the reserve is not for it.
        log.trim_front(o).is_ok() && log.stats().segments_used < 4
    };
    // One past the second member's base: a head erased under a state that did not survive
    // leaves the first offset at that base, which a completed trim does not.
    let to = (first + 1..next)
        .find(|&o| frees_head(&mut sim, o))
        .expect("some trim frees the oldest segment")
        + 1;
    sim.restore(&snap);
    (sim, first, next, to)
}

/// DESIGN.md §D3: trimmed data is erased only once the state that makes it dead is durable. On a
/// `Reject` ring with no free segment (a truncation took the spare), a trim that frees the
/// oldest segment goes into the active segment's reserve (the appends before it stopped short
/// of it) — also when a power cut tore the last frame before it. A cut at any point of the
/// trim, and a second cut at any point of the retry, leave the first offset at its old or its
/// new value, never in between, and every record at or above it intact.
#[test]
fn trim_on_a_full_ring_without_spare_is_atomic() {
    let cfg = Config::new().segment_sectors(4).index_interval(128);
    for torn in [false, true] {
        let (mut sim, first, next, to) = full_ring_without_spare(torn);
        let snap = sim.snapshot();
        let check = |sim: &mut SimFlash, what: &str| -> u64 {
            let mut log: Log<&mut SimFlash, 4> = Log::mount(sim, cfg).unwrap();
            let got = log.first_offset();
            assert!(
                got == first || got == to,
                "torn tail {torn}, {what}: first offset {got}, neither {first} nor {to}"
            );
            assert_eq!(log.next_offset(), next, "torn tail {torn}, {what}");
            let mut buf = [0u8; 64];
            for o in got..next {
                assert_eq!(log.read(o, &mut buf), Ok(40), "torn tail {torn}, {what}");
                assert_eq!(buf[..40], [7u8; 40]);
            }
            got
        };
        let mut completed = 0;
        for j in 0..6 {
            for cut in CUTS {
                for k in 0..6 {
                    sim.restore(&snap);
                    let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
                    let at = log.storage().mutating_ops() + j;
                    log.storage_mut()
                        .set_fault(Some(PowerCut { at_op: at, cut }));
                    let r1 = log.trim_front(to);
                    sim.power_cycle();
                    let what = format!("cut {cut:?} at op {j} ({r1:?})");
                    if check(&mut sim, &what) == to {
                        completed += 1;
                        break;
                    }
                    // The retry, cut at its op `k`, then a clean one.
                    let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
                    let at = log.storage().mutating_ops() + k;
                    log.storage_mut()
                        .set_fault(Some(PowerCut { at_op: at, cut }));
                    let r2 = log.trim_front(to);
                    sim.power_cycle();
                    check(&mut sim, &format!("{what}, retry cut at op {k} ({r2:?})"));
                    let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
                    assert_eq!(log.trim_front(to), Ok(()), "{what}: a clean retry");
                    assert_eq!(log.first_offset(), to);
                }
            }
        }
        assert!(completed > 0, "no cut let the trim complete");
        // Uncut, the trim wins the spare back.
        sim.restore(&snap);
        let mut log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
        log.trim_front(to).unwrap();
        let stats = log.stats();
        assert!(
            stats.segments_used < stats.segments_total,
            "torn tail {torn}: {stats:?}"
        );
    }
}

/// A storage that holds every index slot back for good (reads see it, the medium never gets
/// it): what the `Storage::program_index` contract allows for derived data ("even past a crash
/// that then loses it"). Dropping it is the crash.
struct LosesSlots<'a> {
    sim: &'a mut SimFlash,
    held: Vec<(u32, Vec<u8>)>,
}

impl tidelog::Storage for LosesSlots<'_> {
    fn read_size(&self) -> usize {
        self.sim.read_size()
    }
    fn write_size(&self) -> usize {
        self.sim.write_size()
    }
    fn erase_size(&self) -> usize {
        self.sim.erase_size()
    }
    fn capacity(&self) -> usize {
        self.sim.capacity()
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), tidelog::StorageError> {
        self.sim.read(addr, buf)?;
        let (a, b) = (addr as usize, addr as usize + buf.len());
        for (at, bytes) in &self.held {
            for (i, &v) in bytes.iter().enumerate() {
                let p = *at as usize + i;
                if (a..b).contains(&p) {
                    buf[p - a] = v;
                }
            }
        }
        Ok(())
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), tidelog::StorageError> {
        self.sim.program(addr, bytes)
    }
    fn program_index(&mut self, addr: u32, bytes: &[u8]) -> Result<(), tidelog::StorageError> {
        self.held.push((addr, bytes.to_vec()));
        Ok(())
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), tidelog::StorageError> {
        self.held.retain(|(at, _)| *at < from || *at >= to);
        self.sim.erase(from, to)
    }
    fn sync(&mut self) -> Result<(), tidelog::StorageError> {
        self.sim.sync()
    }
}

/// FORMAT.md §6: the one index slot that is not derived data — the one pointing at a reserve
/// place, written before the state frame there (the frame before the place is torn, so only
/// the slot leads mount to it) — is programmed like a frame, never held back like the others
/// (`Storage::program_index` may lose a slot for good). Else the trim's state is lost while the
/// head it freed is erased: a trim half applied.
#[test]
fn a_reserve_slot_is_never_held_back() {
    let cfg = Config::new().segment_sectors(4).index_interval(128);
    let (mut sim, _first, next, to) = full_ring_without_spare(true);
    let mut log: Log<LosesSlots<'_>, 4> = Log::mount(
        LosesSlots {
            sim: &mut sim,
            held: Vec::new(),
        },
        cfg,
    )
    .unwrap();
    log.trim_front(to).unwrap();
    assert!(log.stats().segments_used < 4, "the trim reclaimed the head");
    drop(log); // the held slots are lost
    let log: Log<&mut SimFlash, 4> = Log::mount(&mut sim, cfg).unwrap();
    assert_eq!(log.first_offset(), to);
    assert_eq!(log.next_offset(), next);
}
