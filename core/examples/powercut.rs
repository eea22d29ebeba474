//! The long power-cut run: workloads over the whole geometry × policy matrix, every mutating
//! storage op of every workload op cut in every mode, each recovery checked, then continued
//! with a second cut (see `tests/support/powercut.rs` for what is checked).
//!
//! ```text
//! cargo run --release -p tidelog --features sim --example powercut -- [--points N] [--seed S]
//!     [--threads T]            worker threads (default: available parallelism)
//!     [--job SEED:COMBO]       run one job (seed and matrix cell as printed) and report it
//! ```
//!
//! Runs jobs (job `k`: matrix cell `k mod 20`, seed derived from `S` and `k`) until at least
//! `N` crash points (default 100 000) were checked, printing one line per job. Then the KV
//! journal's power-cut harness (`tests/support/kv_powercut.rs`) runs `N / 5` crash points of KV
//! workloads, compaction included. The last line sums both:
//! `powercut: <N> crash points, <V> violations`; the exit code is non-zero when `V > 0`.
//!
//! Release builds abort on panic (`panic = "abort"` in the workspace profile), so there each job
//! runs in a child process (this binary with `--worker`): a panic at a crash point is reported
//! with its context (the harness's panic hook prints it) and the job is rerun without that
//! crash point. Builds that unwind run jobs in-process and catch panics per crash point.

#[path = "../tests/support/powercut.rs"]
mod powercut;

#[path = "../tests/support/kv_powercut.rs"]
mod kv_powercut;

use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use powercut::{matrix_len, mix, run_job, Job, JobReport, Settings, PANIC_MARKER};

struct Args {
    points: u64,
    seed: u64,
    threads: usize,
    job: Option<(u64, usize)>,
    worker: Option<(u64, usize)>,
    skip: Vec<u64>,
}

fn parse_u64(s: &str) -> Result<u64, String> {
    let r = match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("bad number {s:?}: {e}"))
}

fn parse_job(s: &str) -> Result<(u64, usize), String> {
    let (seed, combo) = s
        .split_once(':')
        .ok_or_else(|| format!("expected SEED:COMBO, got {s:?}"))?;
    Ok((parse_u64(seed)?, parse_u64(combo)? as usize))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        points: 100_000,
        seed: 1,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        job: None,
        worker: None,
        skip: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--points" => a.points = parse_u64(&val()?)?,
            "--seed" => a.seed = parse_u64(&val()?)?,
            "--threads" => a.threads = (parse_u64(&val()?)? as usize).max(1),
            "--job" => a.job = Some(parse_job(&val()?)?),
            "--worker" => a.worker = Some(parse_job(&val()?)?),
            "--skip" => {
                for s in val()?.split(',').filter(|s| !s.is_empty()) {
                    a.skip.push(parse_u64(s)?);
                }
            }
            "-h" | "--help" => {
                return Err(
                    "usage: powercut [--points N] [--seed S] [--threads T] [--job SEED:COMBO]"
                        .into(),
                )
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

/// Child-process mode: run one job and print it in a line protocol.
fn worker(seed: u64, combo: usize, skip: &[u64]) {
    let r = run_job(
        &Job::from_matrix(combo, seed),
        &Settings::exhaustive(),
        skip,
    );
    for m in &r.messages {
        println!("V {m}");
    }
    println!(
        "R {} {} {} {} {} {} {} {} {}",
        r.points,
        r.double_points,
        r.violations,
        r.ops,
        r.fulls,
        r.wraps,
        r.skipped,
        r.recovery_cuts,
        r.early_reclaims
    );
}

fn parse_report(stdout: &str) -> Option<JobReport> {
    let mut r = JobReport::default();
    let mut done = false;
    for line in stdout.lines() {
        if let Some(m) = line.strip_prefix("V ") {
            r.messages.push(m.to_string());
        } else if let Some(rest) = line.strip_prefix("R ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            if f.len() != 9 {
                return None;
            }
            r.points = f[0].parse().ok()?;
            r.double_points = f[1].parse().ok()?;
            r.violations = f[2].parse().ok()?;
            r.ops = f[3].parse().ok()?;
            r.fulls = f[4].parse().ok()?;
            r.wraps = f[5].parse().ok()?;
            r.skipped = f[6].parse().ok()?;
            r.recovery_cuts = f[7].parse().ok()?;
            r.early_reclaims = f[8].parse().ok()?;
            done = true;
        }
    }
    done.then_some(r)
}

/// Runs a job in child processes; a panic (which aborts the child) is reported as a violation
/// and the job is rerun without the crash point that panicked. After too many panics (or one
/// outside a crash point) the job is abandoned, counting the crash points it had checked.
fn run_isolated(seed: u64, combo: usize) -> JobReport {
    const MAX_RERUNS: usize = 8;
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return failed(format!("cannot find the current executable: {e}")),
    };
    let mut skip: Vec<u64> = Vec::new();
    let mut panics: Vec<String> = Vec::new();
    loop {
        let list: Vec<String> = skip.iter().map(u64::to_string).collect();
        let out = Command::new(&exe)
            .arg("--worker")
            .arg(format!("{seed:#x}:{combo}"))
            .arg("--skip")
            .arg(list.join(","))
            .output();
        let out = match out {
            Ok(o) => o,
            Err(e) => return failed(format!("cannot run a worker: {e}")),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            if let Some(mut r) = parse_report(&stdout) {
                r.points += panics.len() as u64;
                r.violations += panics.len() as u64;
                r.messages.splice(0..0, panics);
                return r;
            }
        }
        // `POWERCUT-PANIC <point> <points done> <context> :: <message>`
        let marker = stderr
            .lines()
            .filter_map(|l| l.strip_prefix(PANIC_MARKER))
            .next_back()
            .map(str::trim);
        let Some(line) = marker else {
            let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
            return failed(format!(
                "worker for job {seed:#x}:{combo} failed ({}): {}",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ));
        };
        let mut fields = line.splitn(3, ' ');
        let point = fields.next().unwrap_or("-").parse::<u64>().ok();
        let done: u64 = fields.next().and_then(|d| d.parse().ok()).unwrap_or(0);
        let rest = fields.next().unwrap_or("");
        panics.push(match rest.split_once(" :: ") {
            Some((ctx, msg)) => format!("VIOLATION {ctx}: panic: {msg}"),
            None => format!("VIOLATION {rest}: panic"),
        });
        match point {
            Some(p) if !skip.contains(&p) && skip.len() < MAX_RERUNS => skip.push(p),
            _ => {
                panics.push(format!(
                    "job {seed:#x}:{combo} abandoned after {} panics ({done} crash points checked)",
                    panics.len()
                ));
                return JobReport {
                    points: done + 1,
                    violations: panics.len() as u64 - 1,
                    messages: panics,
                    ..JobReport::default()
                };
            }
        }
    }
}

fn failed(msg: String) -> JobReport {
    JobReport {
        violations: 1,
        messages: vec![msg],
        ..JobReport::default()
    }
}

fn run_one(seed: u64, combo: usize) -> JobReport {
    if cfg!(panic = "unwind") {
        run_job(&Job::from_matrix(combo, seed), &Settings::exhaustive(), &[])
    } else {
        run_isolated(seed, combo)
    }
}

fn describe(k: Option<usize>, seed: u64, combo: usize, r: &JobReport, secs: f64) -> String {
    let job = Job::from_matrix(combo, seed);
    let k = k.map_or(String::new(), |k| format!("[{k:>3}] "));
    format!(
        "{k}job {seed:#x}:{combo:<2} {} {:?}: {} ops, {:.1} wraps, {} full, {} crash points (+{} double-fault, {} in recovery), {} violations, {} early reclaims (known issue), {secs:.1}s",
        job.geometry(),
        job.policy,
        r.ops,
        r.wraps,
        r.fulls,
        r.points,
        r.double_points,
        r.recovery_cuts,
        r.violations,
        r.early_reclaims
    )
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    if let Some((seed, combo)) = args.worker {
        worker(seed, combo, &args.skip);
        return ExitCode::SUCCESS;
    }
    if let Some((seed, combo)) = args.job {
        let t = Instant::now();
        let r = run_one(seed, combo);
        for m in &r.messages {
            println!("{m}");
        }
        println!(
            "{}",
            describe(None, seed, combo, &r, t.elapsed().as_secs_f64())
        );
        println!(
            "powercut: {} crash points, {} violations",
            r.total_points(),
            r.violations
        );
        return if r.violations > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }

    let start = Instant::now();
    let next_job = AtomicUsize::new(0);
    let total = AtomicU64::new(0);
    let summary = Mutex::new((0u64, 0u64, 0u64)); // (crash points, violations, early reclaims)
    println!(
        "powercut: seed {:#x}, target {} crash points, {} threads, {} matrix cells",
        args.seed,
        args.points,
        args.threads,
        matrix_len()
    );
    std::thread::scope(|s| {
        for _ in 0..args.threads {
            s.spawn(|| loop {
                if total.load(Ordering::SeqCst) >= args.points {
                    break;
                }
                let k = next_job.fetch_add(1, Ordering::SeqCst);
                let combo = k % matrix_len();
                let seed = mix(args.seed, k as u64);
                let t = Instant::now();
                let r = run_one(seed, combo);
                let now = total.fetch_add(r.total_points(), Ordering::SeqCst) + r.total_points();
                let mut sum = summary.lock().unwrap_or_else(|e| e.into_inner());
                sum.0 += r.total_points();
                sum.1 += r.violations;
                sum.2 += r.early_reclaims;
                for m in &r.messages {
                    println!("{m}");
                }
                println!(
                    "{} | total {now} crash points, {:.0}s",
                    describe(Some(k), seed, combo, &r, t.elapsed().as_secs_f64()),
                    start.elapsed().as_secs_f64()
                );
            });
        }
    });
    let (mut points, mut violations, early) = *summary.lock().unwrap_or_else(|e| e.into_inner());
    if early > 0 {
        println!(
            "note: {early} reboots found the head reclaimed under the lost new state of a \
             trim/commit/rewind in flight (Reject, no free segment, both reserve places torn: \
             the last resort of FORMAT.md §8, see TOLERATE_EARLY_RECLAIM in \
             tests/support/powercut.rs)"
        );
    }
    let kv_start = Instant::now();
    let (kv_points, kv_violations) = kv_powercut::run(args.seed, args.points / 5);
    println!(
        "kv: {kv_points} crash points, {kv_violations} violations, {:.1}s",
        kv_start.elapsed().as_secs_f64()
    );
    points += kv_points;
    violations += kv_violations;
    println!("powercut: {points} crash points, {violations} violations");
    if violations > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
