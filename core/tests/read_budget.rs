//! How many storage reads mount and the read paths cost, counted by `SimFlash` (deterministic:
//! counts, not timings). The bounds are the budgets BENCHMARKS.md §1.2–1.3 report against: mount
//! reads each segment header once and the checkpoint once; a consumer going forward pays about
//! one read per small record (its header, body and CRC, and the state frame before it, come from
//! one read through the frame window); a trim within a segment keeps the read position.
#![cfg(feature = "sim")]

use tidelog::{Config, FullPolicy, Log, SimFlash};

const ITEM: usize = 64;

fn item(i: u64) -> [u8; ITEM] {
    let mut b = [0x5Au8; ITEM];
    b[..8].copy_from_slice(&i.to_le_bytes());
    b
}

fn formatted(write_size: usize, sector: usize) -> Log<SimFlash> {
    let sim = SimFlash::new(write_size, sector, sector * 8).unwrap();
    Log::format(sim, Config::new().full_policy(FullPolicy::Reject)).unwrap()
}

/// Reads (and bytes) of a mount followed by a read of the first offset, after `items` appends.
fn mount_and_peek(write_size: usize, sector: usize, items: u64) -> (u64, u64) {
    let mut log = formatted(write_size, sector);
    for i in 0..items {
        log.append(&item(i)).unwrap();
    }
    let mut sim = log.into_storage();
    sim.reset_stats();
    let mut log: Log<SimFlash> = Log::mount(sim, Config::new()).unwrap();
    let mut buf = [0u8; 256];
    let first = log.first_offset();
    assert_eq!(log.read(first, &mut buf).unwrap(), ITEM);
    assert_eq!(buf[..ITEM], item(first));
    let s = log.storage().stats();
    (s.reads, s.read_bytes)
}

#[test]
fn mount_reads_each_header_once_and_the_first_read_does_not_search() {
    // 8 segments: 8 header reads, the checkpoint, the index slots' search, the tail's frames
    // and the first record.
    let (reads, bytes) = mount_and_peek(4, 4096, 100);
    eprintln!("8 x 4 KiB, unit 4: {reads} reads, {bytes} B");
    assert!(reads <= 8 + 4, "8 x 4 KiB, unit 4: {reads} reads");
    assert!(bytes <= 8 * 64 + 320, "8 x 4 KiB, unit 4: {bytes} bytes");
    let (reads, bytes) = mount_and_peek(32, 128 * 1024, 100);
    eprintln!("8 x 128 KiB, unit 32: {reads} reads, {bytes} B");
    assert!(reads <= 8 + 10, "8 x 128 KiB, unit 32: {reads} reads");
    // An empty log: headers, checkpoint, the index slots' search, the end of frames.
    let mut log = formatted(4, 4096);
    log.sync().unwrap();
    let mut sim = log.into_storage();
    sim.reset_stats();
    let log: Log<SimFlash> = Log::mount(sim, Config::new()).unwrap();
    let empty = log.storage().stats().reads;
    assert!(empty <= 8 + 5, "empty log: {empty} reads");
}

/// Reads per consumed item over `cycles` push/read/commit(/trim) cycles after a backlog.
fn cycle_reads(write_size: usize, trim: bool, cycles: u64) -> f64 {
    let mut log = formatted(write_size, 4096);
    let backlog = 40;
    for i in 0..backlog {
        log.append(&item(i)).unwrap();
    }
    let mut buf = [0u8; 256];
    let mut next = 0u64;
    log.storage_mut().reset_stats();
    for i in 0..cycles {
        log.append(&item(backlog + i)).unwrap();
        assert_eq!(log.read(next, &mut buf).unwrap(), ITEM);
        assert_eq!(buf[..ITEM], item(next));
        next += 1;
        log.commit("c", next).unwrap();
        if trim {
            log.trim_front(next).unwrap();
        }
    }
    log.storage().stats().reads as f64 / cycles as f64
}

#[test]
fn a_consumer_going_forward_pays_about_one_read_per_item() {
    for ws in [4, 32] {
        let commit = cycle_reads(ws, false, 2000);
        assert!(
            commit <= 2.5,
            "unit {ws}, commit: {commit:.2} reads per item"
        );
        let trim = cycle_reads(ws, true, 2000);
        eprintln!("unit {ws}: commit {commit:.3}, commit + trim {trim:.3} reads per item");
        assert!(
            trim <= 8.0,
            "unit {ws}, commit + trim: {trim:.2} reads per item"
        );
    }
}
