//! The firmware path under power cuts: a log on [`NorFlashStorage`] over an `embedded-storage`
//! `NorFlash` driver (the simulator as one, [`SimNorFlash`]) — what a Rust firmware uses, and
//! what the code-size probes in `footprint/` link — cut at every mutating flash operation of a
//! workload (appends, batches, consumer commits, trims, wraparound), torn one way or the other in
//! turn. After each cut the device is power-cycled and mounted again through the same driver, and
//! must hold exactly the records and cursor of the state before or after the operation in flight
//! (I1, I4, I8), read back byte for byte and by iteration, with the first offset never behind its
//! value before the operation nor past what the consumer released (I2 under `Reject`), and it
//! must take an append again (I6).
#![cfg(feature = "sim")]

use tidelog::{Config, Cut, FullPolicy, Log, NorFlashStorage, PowerCut, SimFlash, SimNorFlash};

const WRITE: usize = 4;
const ERASE: usize = 1024;
const SEGMENTS: usize = 6;

type NorLog = Log<NorFlashStorage<SimNorFlash<WRITE, ERASE>>>;

#[derive(Debug, Clone, Copy)]
enum Op {
    Append(usize),
    Batch(usize),
    Commit,
    Trim,
}

/// A deterministic workload: mostly appends of varied sizes, with batches, commits of the
/// consumer's progress and trims behind it, long enough to wrap the ring several times.
fn workload() -> Vec<Op> {
    let mut ops = Vec::new();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..400 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ops.push(match x % 10 {
            0..=5 => Op::Append(1 + (x >> 8) as usize % 90),
            6 => Op::Batch(2 + (x >> 8) as usize % 4),
            7 | 8 => Op::Commit,
            _ => Op::Trim,
        });
    }
    ops
}

fn record(offset: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (offset as usize * 31 + i * 7) as u8)
        .collect()
}

/// What the log must hold: every record by offset, the first readable offset, the cursor.
#[derive(Debug, Clone, Default)]
struct Model {
    records: Vec<Vec<u8>>,
    first: u64,
    cursor: Option<u64>,
}

impl Model {
    fn next(&self) -> u64 {
        self.records.len() as u64
    }
}

fn config() -> Config {
    Config::new().full_policy(FullPolicy::Reject)
}

fn fresh() -> NorLog {
    let sim = SimFlash::new(WRITE, ERASE, ERASE * SEGMENTS).unwrap();
    let nor = SimNorFlash::<WRITE, ERASE>::new(sim).unwrap();
    Log::format(NorFlashStorage::new(nor), config()).unwrap()
}

/// The model after `op` succeeds on a log in state `m`.
fn plan(m: &Model, op: Op) -> Model {
    let mut a = m.clone();
    match op {
        Op::Append(len) => a.records.push(record(m.next(), len)),
        Op::Batch(n) => {
            for i in 0..n as u64 {
                a.records.push(record(m.next() + i, 5 + i as usize));
            }
        }
        Op::Commit => a.cursor = Some((m.cursor.unwrap_or(m.first) + 6).min(m.next())),
        Op::Trim => a.first = m.first.max(m.cursor.unwrap_or(0)),
    }
    a
}

/// Runs `op` on a log in state `m` (what [`plan`] models).
fn run(log: &mut NorLog, m: &Model, op: Op) -> Result<(), tidelog::Error> {
    let a = plan(m, op);
    match op {
        Op::Append(_) => {
            let off = log.append(&a.records[m.records.len()])?;
            assert_eq!(off, m.next());
        }
        Op::Batch(_) => {
            let refs: Vec<&[u8]> = a.records[m.records.len()..]
                .iter()
                .map(|r| r.as_slice())
                .collect();
            assert_eq!(log.append_batch(&refs)?, m.next());
        }
        Op::Commit => log.commit("fw", a.cursor.unwrap_or(0))?,
        Op::Trim => log.trim_front(a.first)?,
    }
    Ok(())
}

/// Checks the recovered log against the states before (`b`) and after (`a`) the op in flight.
fn check(log: &mut NorLog, b: &Model, a: &Model) -> Result<(), String> {
    let next = log.next_offset();
    let side = if next == a.next() {
        a
    } else if next == b.next() {
        b
    } else {
        return Err(format!(
            "next offset {next}, neither {} nor {}",
            b.next(),
            a.next()
        ));
    };
    let first = log.first_offset();
    if first < b.first.min(next) {
        return Err(format!(
            "first offset {first} is behind {} (records lost)",
            b.first
        ));
    }
    // Under `Reject` only a trim, or a reclaim once the consumer is past the head, moves it.
    let most = [
        b.first,
        a.first,
        b.cursor.unwrap_or(0),
        a.cursor.unwrap_or(0),
    ];
    if first > most.into_iter().max().unwrap_or(0).min(next) {
        return Err(format!(
            "first offset {first}: unconsumed records were dropped"
        ));
    }
    let cursor = log.committed("fw");
    if cursor != b.cursor && cursor != a.cursor {
        return Err(format!(
            "cursor {cursor:?}, neither {:?} nor {:?}",
            b.cursor, a.cursor
        ));
    }
    let mut buf = [0u8; 128];
    for off in first..next {
        let len = log
            .read(off, &mut buf)
            .map_err(|e| format!("read {off}: {e}"))?;
        if buf[..len] != side.records[off as usize][..] {
            return Err(format!("record {off} differs"));
        }
    }
    let mut it = log.iter(first).map_err(|e| e.to_string())?;
    let mut n = first;
    while let Some((off, len)) = it.next_into(&mut buf).map_err(|e| e.to_string())? {
        if off != n || buf[..len] != side.records[off as usize][..] {
            return Err(format!("iteration at {off} differs"));
        }
        n += 1;
    }
    if n != next {
        return Err(format!("iteration ended at {n}, next offset {next}"));
    }
    Ok(())
}

#[test]
fn the_firmware_path_recovers_from_a_cut_at_every_flash_operation() {
    // The fault-free run: how many mutating operations it issues.
    let ops = workload();
    let mut log = fresh();
    let mut m = Model::default();
    let start_ops = log.storage_mut().0.sim().mutating_ops();
    let mut full = 0;
    for &op in &ops {
        match run(&mut log, &m, op) {
            Ok(()) => {
                m = plan(&m, op);
                m.first = m.first.max(log.first_offset());
            }
            Err(tidelog::Error::Full) => full += 1,
            Err(e) => panic!("fault-free run: {op:?}: {e}"),
        }
    }
    let total = log.storage_mut().0.sim().mutating_ops() - start_ops;
    eprintln!(
        "{} records, first {}, {full} full, {total} flash operations",
        m.next(),
        m.first
    );
    assert!(
        m.first > 0 && m.next() > 3 * 100,
        "the workload wraps the ring"
    );
    let mut points = 0u64;
    for at in 0..total {
        // The two torn kinds alternate from one operation to the next.
        let cut = [Cut::TornPrefix, Cut::TornBits][at as usize % 2];
        let mut log = fresh();
        let mut before = Model::default();
        let base = log.storage_mut().0.sim().mutating_ops();
        log.storage_mut().0.sim().set_fault(Some(PowerCut {
            at_op: base + at,
            cut,
        }));
        let mut after = before.clone();
        for &op in &ops {
            after = plan(&before, op);
            let r = run(&mut log, &before, op);
            if !log.storage_mut().0.sim().is_powered() {
                break;
            }
            if r.is_ok() {
                before = after.clone();
                before.first = before.first.max(log.first_offset());
            }
        }
        assert!(!log.storage_mut().0.sim().is_powered(), "cut {at} fired");
        let mut nor = log.into_storage().into_inner();
        nor.sim().power_cycle();
        nor.sim().set_fault(None);
        let mut log: NorLog = Log::mount(NorFlashStorage::new(nor), config())
            .unwrap_or_else(|e| panic!("cut at op {at} ({cut:?}): mount: {e}"));
        if let Err(e) = check(&mut log, &before, &after) {
            panic!("cut at op {at} ({cut:?}): {e}");
        }
        // I6: the log takes an append again and reads it back.
        let next = log.next_offset();
        match log.append(b"after the cut") {
            Ok(off) => {
                let mut buf = [0u8; 32];
                let len = log.read(off, &mut buf).unwrap();
                assert_eq!((off, &buf[..len]), (next, &b"after the cut"[..]));
            }
            Err(tidelog::Error::Full) => {}
            Err(e) => panic!("cut at op {at} ({cut:?}): append after recovery: {e}"),
        }
        points += 1;
    }
    assert!(
        points == total && total > 350,
        "{points} crash points over {total} operations"
    );
}
