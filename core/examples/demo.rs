//! The tidelog demo: a telemetry device on (simulated) NOR flash that loses power 200 times.
//!
//! ```text
//! cargo run --release -p tidelog --features sim,std --example demo [-- IMAGE_PATH]
//! ```
//!
//! The device appends batches of sensor readings and calls `sync` after each batch: a batch is
//! *acknowledged* once `sync` returns. An "uploader" consumer reads what is new, checks it,
//! and commits its cursor. The log uses `FullPolicy::Reject`, so nothing the uploader has not
//! committed is ever dropped: when the uploader is offline for long and the flash fills up,
//! appends fail with `Full` and the device waits for it.
//!
//! Power is cut at a random flash operation, 200 times, in all four ways the simulator knows
//! (before or after the operation, a torn program or erase, random bits of the unit in
//! flight). After each cut the device reboots (mounts the log again) and the demo checks,
//! against its own list of acknowledged records:
//!
//! * every acknowledged record the uploader has not passed is present, byte for byte, and the
//!   log holds nothing else: no torn or partial data, no gap;
//! * the batch in flight at the cut is either entirely present or entirely absent;
//! * the uploader's committed cursor is the last one acknowledged (or the one in flight), never
//!   behind it.
//!
//! At the end it writes the flash image to `demo.img` (or the path given) and prints a summary.
//! The exit status is non-zero if any check failed.

use std::process::ExitCode;

use tidelog::{Config, Cut, Error, FullPolicy, Log, PowerCut, SimFlash, StorageError};

const SECTORS: usize = 16;
const SECTOR: usize = 4096;
const WRITE_SIZE: usize = 8;
const CUTS: usize = 200;
const SEED: u64 = 42;
/// A cut is armed 1..=MAX_OPS_TO_CUT flash operations ahead.
const MAX_OPS_TO_CUT: u64 = 80;
const UPLOADER: &str = "uploader";
const SENSORS: usize = 6;

type Device = Log<SimFlash, 2>;

/// splitmix64: deterministic, so every run (and every failure) replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// One telemetry record: `t_ms` (u64), sensor id (u8), reading count (u8), readings (i16 each),
/// all little-endian.
fn encode(t_ms: u64, sensor: u8, readings: &[i16]) -> Vec<u8> {
    let mut r = Vec::with_capacity(10 + 2 * readings.len());
    r.extend_from_slice(&t_ms.to_le_bytes());
    r.push(sensor);
    r.push(readings.len() as u8);
    for v in readings {
        r.extend_from_slice(&v.to_le_bytes());
    }
    r
}

fn describe(rec: &[u8]) -> String {
    if rec.len() < 10 {
        return format!("{rec:02x?}");
    }
    let t = u64::from_le_bytes(rec[..8].try_into().unwrap_or_default());
    let readings: Vec<i16> = rec[10..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    format!(
        "t={}.{:03}s sensor={} readings={readings:?}",
        t / 1000,
        t % 1000,
        rec[8]
    )
}

/// What was under way when the power failed.
enum InFlight {
    /// A batch whose `append_batch` (or `sync`) did not return Ok.
    Batch(Vec<Vec<u8>>),
    /// A cursor commit that did not return Ok.
    Commit(u64),
}

#[derive(Default)]
struct Counts {
    cuts_by_mode: [u32; 4],
    batch_cuts: u32,
    batches_kept: u32,
    batches_dropped: u32,
    commit_cuts: u32,
    rotation_cuts: u32,
    refused_full: u32,
    uploaded_checked: u64,
    verified_after_mount: u64,
}

/// The simulated device and everything the demo knows it acknowledged.
struct Demo {
    rng: Rng,
    /// Every acknowledged record; its index is its offset.
    acked: Vec<Vec<u8>>,
    /// Last uploader commit that returned Ok.
    committed: u64,
    clock_ms: u64,
    sensors: [i16; SENSORS],
    uploader_offline_ticks: u32,
    counts: Counts,
    violations: Vec<String>,
}

impl Demo {
    fn violation(&mut self, msg: String) {
        self.violations.push(msg);
    }

    fn next_batch(&mut self) -> Vec<Vec<u8>> {
        let n = 1 + self.rng.below(8) as usize;
        (0..n)
            .map(|_| {
                self.clock_ms += 10 + self.rng.below(990);
                let s = self.rng.below(SENSORS as u64) as usize;
                let k = 1 + self.rng.below(4) as usize;
                let readings: Vec<i16> = (0..k)
                    .map(|_| {
                        self.sensors[s] =
                            self.sensors[s].wrapping_add(self.rng.below(41) as i16 - 20);
                        self.sensors[s]
                    })
                    .collect();
                encode(self.clock_ms, s as u8 + 1, &readings)
            })
            .collect()
    }

    /// Runs the device until the armed power cut fires; returns what was in flight.
    fn run_until_cut(&mut self, log: &mut Device) -> Result<InFlight, Error> {
        loop {
            let batch = self.next_batch();
            let erases_before = log.storage().stats().erase_calls;
            let refs: Vec<&[u8]> = batch.iter().map(|r| r.as_slice()).collect();
            let mut result = log.append_batch(&refs);
            if result == Err(Error::Full) {
                // Reject policy: the flash holds only records not yet uploaded. Wait for the
                // uploader (bring it back online), then retry once.
                self.counts.refused_full += 1;
                self.uploader_offline_ticks = 0;
                if let Some(cut) = self.upload(log, usize::MAX)? {
                    return Ok(cut);
                }
                result = log.append_batch(&refs);
            }
            match result.and_then(|_| log.sync()) {
                Ok(()) => self.acked.extend(batch),
                Err(Error::Storage(StorageError::PowerLoss)) => {
                    self.counts.batch_cuts += 1;
                    if log.storage().stats().erase_calls != erases_before {
                        self.counts.rotation_cuts += 1;
                    }
                    return Ok(InFlight::Batch(batch));
                }
                Err(e) => return Err(e),
            }
            if self.uploader_offline_ticks > 0 {
                self.uploader_offline_ticks -= 1;
            } else if self.rng.chance(150) {
                // An outage: the uploader is away for a while and the flash fills up.
                self.uploader_offline_ticks = 200 + self.rng.below(800) as u32;
            } else if self.rng.chance(3) {
                if let Some(cut) = self.upload(log, 48)? {
                    return Ok(cut);
                }
            }
        }
    }

    /// The uploader: reads up to `max` new records, checks each against what was
    /// acknowledged, and commits past them. `Some` if the power failed during the commit.
    fn upload(&mut self, log: &mut Device, max: usize) -> Result<Option<InFlight>, Error> {
        let mut buf = [0u8; 256];
        let mut upto = None;
        let mut bad = Vec::new();
        {
            let mut it = log.consumer(UPLOADER)?.iter()?;
            for _ in 0..max {
                let Some((off, len)) = it.next_into(&mut buf)? else {
                    break;
                };
                if self.acked.get(off as usize).map(|r| r.as_slice()) != Some(&buf[..len]) {
                    bad.push(format!("uploader read wrong bytes at offset {off}"));
                }
                self.counts.uploaded_checked += 1;
                upto = Some(off + 1);
            }
        }
        for b in bad {
            self.violation(b);
        }
        let Some(to) = upto else { return Ok(None) };
        let erases_before = log.storage().stats().erase_calls;
        match log.commit(UPLOADER, to) {
            Ok(()) => {
                self.committed = to;
                Ok(None)
            }
            Err(Error::Storage(StorageError::PowerLoss)) => {
                self.counts.commit_cuts += 1;
                if log.storage().stats().erase_calls != erases_before {
                    self.counts.rotation_cuts += 1;
                }
                Ok(Some(InFlight::Commit(to)))
            }
            Err(e) => Err(e),
        }
    }

    /// After a reboot: checks the mounted log against the acknowledged records.
    fn verify(&mut self, log: &mut Device, cut: &str, in_flight: InFlight) {
        let acked = self.acked.len() as u64;
        let next = log.next_offset();
        match in_flight {
            InFlight::Batch(batch) => {
                if next == acked + batch.len() as u64 {
                    self.counts.batches_kept += 1;
                    self.acked.extend(batch);
                } else if next == acked {
                    self.counts.batches_dropped += 1;
                } else {
                    self.violation(format!(
                        "{cut}: batch of {} cut in flight is torn: next offset {next}, \
                         acknowledged {acked}",
                        batch.len()
                    ));
                }
            }
            InFlight::Commit(to) => {
                if next != acked {
                    self.violation(format!("{cut}: next offset {next}, acknowledged {acked}"));
                }
                if log.committed(UPLOADER) == Some(to) {
                    self.committed = to;
                }
            }
        }
        let committed = log.committed(UPLOADER).unwrap_or(0);
        if committed != self.committed {
            self.violation(format!(
                "{cut}: uploader cursor {committed}, last acknowledged commit {}",
                self.committed
            ));
        }
        if let Err(e) = self.check_contents(log, cut) {
            self.violation(format!(
                "{cut}: reading the log after the reboot failed: {e}"
            ));
        }
    }

    /// Every record on the log is the acknowledged one at its offset, up to the last one, and
    /// nothing the uploader still needs was dropped.
    fn check_contents(&mut self, log: &mut Device, cut: &str) -> Result<(), Error> {
        let first = log.first_offset();
        if first > self.committed {
            self.violation(format!(
                "{cut}: records {}..{first} dropped before the uploader committed them",
                self.committed
            ));
        }
        let mut buf = [0u8; 256];
        let mut it = log.iter(first)?;
        let mut expect = first;
        while let Some((off, len)) = it.next_into(&mut buf)? {
            if off != expect
                || self.acked.get(off as usize).map(|r| r.as_slice()) != Some(&buf[..len])
            {
                self.violation(format!(
                    "{cut}: offset {off} holds bytes that were never acknowledged there"
                ));
                break;
            }
            expect += 1;
            self.counts.verified_after_mount += 1;
        }
        if expect != self.acked.len() as u64 {
            self.violation(format!(
                "{cut}: log ends at {expect}, {} records acknowledged",
                self.acked.len()
            ));
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| "demo.img".into());
    match run(&path) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &str) -> Result<bool, Box<dyn std::error::Error>> {
    const MODES: [Cut; 4] = [Cut::Before, Cut::After, Cut::TornPrefix, Cut::TornBits];
    let config = Config::new().full_policy(FullPolicy::Reject);
    let seed = std::env::var("TIDELOG_DEMO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    let flash = SimFlash::new(WRITE_SIZE, SECTOR, SECTORS * SECTOR)?.with_seed(seed);
    let mut log: Device = Log::format(flash, config)?;
    let mut demo = Demo {
        rng: Rng(seed),
        acked: Vec::new(),
        committed: 0,
        clock_ms: 1_700_000_000_000,
        sensors: [200, -40, 1013, 55, 0, 3300],
        uploader_offline_ticks: 0,
        counts: Counts::default(),
        violations: Vec::new(),
    };

    println!(
        "tidelog demo: telemetry on simulated NOR flash ({SECTORS} x {} KiB sectors, \
         {WRITE_SIZE}-byte program unit)",
        SECTOR / 1024
    );
    println!(
        "{CUTS} random power cuts (seed {seed}) while appending batches (sync after each); \
         remount and check after each cut"
    );
    println!();
    let mut survived = 0;
    for n in 1..=CUTS {
        let m = demo.rng.below(4) as usize;
        let at_op = log.storage().mutating_ops() + 1 + demo.rng.below(MAX_OPS_TO_CUT);
        log.storage_mut().set_fault(Some(PowerCut {
            at_op,
            cut: MODES[m],
        }));
        let in_flight = demo.run_until_cut(&mut log)?;
        demo.counts.cuts_by_mode[m] += 1;
        let cut = format!("cut {n} ({:?} at flash op {at_op})", MODES[m]);

        let mut flash = log.into_storage();
        flash.power_cycle();
        let image = flash.image().to_vec();
        log = match Log::mount(flash, config) {
            Ok(l) => l,
            Err(e) => {
                std::fs::write(path, &image)?;
                println!("VIOLATION {cut}: mount failed: {e} (image written to {path})");
                return Ok(false);
            }
        };
        demo.verify(&mut log, &cut, in_flight);
        if !demo.violations.is_empty() {
            break;
        }
        survived = n;
    }

    let c = &demo.counts;
    let stats = log.stats();
    let sim = log.storage().stats();
    let acked = demo.acked.len() as u64;
    let on_flash = stats.next_offset - stats.first_offset;
    println!(
        "power cuts survived:  {survived}  (Before {}, After {}, TornPrefix {}, TornBits {})",
        c.cuts_by_mode[0], c.cuts_by_mode[1], c.cuts_by_mode[2], c.cuts_by_mode[3]
    );
    println!(
        "  during an append:   {}  (batch in flight: {} kept whole, {} dropped whole, 0 torn)",
        c.batch_cuts, c.batches_kept, c.batches_dropped
    );
    println!("  during a commit:    {}", c.commit_cuts);
    println!(
        "  in a rotation:      {}  (the call was opening a new segment)",
        c.rotation_cuts
    );
    println!(
        "records acknowledged: {acked} ({} KiB), {} lost",
        demo.acked.iter().map(|r| r.len()).sum::<usize>() / 1024,
        acked - stats.next_offset.min(acked)
    );
    println!(
        "  on flash now:       {on_flash}  (offsets {}..{})",
        stats.first_offset, stats.next_offset
    );
    println!("  uploaded, reclaimed: {}", stats.first_offset);
    println!(
        "checked after every remount: whole log vs. acknowledged list ({} records)",
        c.verified_after_mount
    );
    println!(
        "uploader cursor:      {}, never moved back ({} records read and checked, replays included)",
        log.committed(UPLOADER).unwrap_or(0),
        c.uploaded_checked
    );
    println!(
        "back-pressure:        {} appends refused (Full) while the uploader was away",
        c.refused_full
    );
    println!(
        "log stats:            first {}, next {}, {}/{} segments, {} of {} bytes used",
        stats.first_offset,
        stats.next_offset,
        stats.segments_used,
        stats.segments_total,
        stats.bytes_used,
        stats.bytes_used + stats.bytes_free
    );
    if let Some(last) = demo.acked.last() {
        println!("last record:          {}", describe(last));
    }
    println!(
        "flash traffic:        {} programs ({} KiB), {} sector erases",
        sim.programs,
        sim.program_bytes / 1024,
        sim.erases
    );
    std::fs::write(path, log.storage().image())?;
    println!("violations:           {}", demo.violations.len());
    for v in demo.violations.iter().take(5) {
        println!("  VIOLATION {v}");
    }
    println!(
        "flash image:          {path} ({} bytes)",
        log.storage().image().len()
    );
    Ok(demo.violations.is_empty())
}
