//! Flash traffic of the append path, measured on the simulator.
//!
//! A small NOR part (8 sectors of 4 KiB, 4-byte program unit) holds a ring log
//! (`FullPolicy::OverwriteOldest`, one sector per segment, default index interval). After a
//! warm-up that fills the ring, 64-byte records are appended until the ring has wrapped many
//! times, and the simulator's counters are divided by the number of appends.
//!
//! ```text
//! cargo run --release -p tidelog --features sim --example flash_ops
//! ```
//!
//! The last line is machine-readable:
//! `append: reads/op=<r> programs/op=<p> erases/op=<e> bytes/op=<b>` (bytes = programmed bytes).

use tidelog::{Config, FullPolicy, Log, SimFlash, Storage};

const SECTORS: usize = 8;
const SECTOR: usize = 4096;
const WRITE_SIZE: usize = 4;
const RECORD: usize = 64;
/// Appends measured (about 46 trips round the ring).
const APPENDS: u64 = 20_000;

fn main() -> Result<(), tidelog::Error> {
    let flash = SimFlash::new(WRITE_SIZE, SECTOR, SECTORS * SECTOR)?;
    let config = Config::new().full_policy(FullPolicy::OverwriteOldest);
    let mut log: Log<SimFlash> = Log::format(flash, config)?;
    let layout = *log.layout();

    // Warm-up: fill the ring so every append below runs in steady state (rotation reclaims
    // the oldest segment).
    let mut record = [0u8; RECORD];
    let ring = (layout.segment_count as u64) * (layout.segment_size as u64) / RECORD as u64;
    for i in 0..2 * ring {
        record[..8].copy_from_slice(&i.to_le_bytes());
        log.append(&record)?;
    }

    log.storage_mut().reset_stats();
    for i in 0..APPENDS {
        record[..8].copy_from_slice(&i.to_le_bytes());
        log.append(&record)?;
    }
    let s = log.storage().stats();
    // Each rotation erases the reclaimed segment in one call.
    let rotations = s.erase_calls;
    let stats = log.stats();

    println!(
        "geometry: {} sectors x {} B, write unit {} B; {} segments of {} B, index every {} B",
        SECTORS,
        SECTOR,
        log.storage().write_size(),
        layout.segment_count,
        layout.segment_size,
        layout.index_interval
    );
    println!(
        "workload: {APPENDS} appends of {RECORD} B (OverwriteOldest), {rotations} segment rotations, \
         offsets {}..{} live",
        stats.first_offset, stats.next_offset
    );
    println!(
        "totals:   reads={} ({} B)  programs={} ({} B)  erases={} sectors in {} calls",
        s.reads, s.read_bytes, s.programs, s.program_bytes, s.erases, s.erase_calls
    );
    let per = |v: u64| v as f64 / APPENDS as f64;
    println!(
        "append: reads/op={:.3} programs/op={:.3} erases/op={:.3} bytes/op={:.3}",
        per(s.reads),
        per(s.programs),
        per(s.erases),
        per(s.program_bytes)
    );
    Ok(())
}
