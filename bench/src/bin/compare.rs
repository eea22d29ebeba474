//! Runs every comparison and prints (or writes) `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release -p tidelog-bench --bin compare -- --write BENCHMARKS.md
//! ```
//!
//! Options: `--write PATH` (default: print to stdout), `--quick` (tiny scale, for a smoke
//! run), `--no-wal` (skip section 2), `--wal-dir DIR` (where section 2 puts its files;
//! default: the system temp directory).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tidelog_bench::report::{self, Report, WalRows};
use tidelog_bench::run::{self, Scale};
use tidelog_bench::subject::Result;
use tidelog_bench::wal::{self, Case, WalScale};

/// The line after which BENCHMARKS.md holds sections other benchmarks write.
const OTHER_SECTIONS: &str = "<!-- Sections below are written by other benchmarks";

struct Args {
    write: Option<PathBuf>,
    quick: bool,
    wal: bool,
    wal_dir: PathBuf,
    footprint: bool,
    wal_only: bool,
}

fn args() -> std::result::Result<Args, String> {
    let mut a = Args {
        write: None,
        quick: false,
        wal: true,
        wal_dir: std::env::temp_dir(),
        footprint: true,
        wal_only: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--write" => a.write = Some(it.next().ok_or("--write needs a path")?.into()),
            "--wal-dir" => a.wal_dir = it.next().ok_or("--wal-dir needs a directory")?.into(),
            "--quick" => a.quick = true,
            "--no-wal" => a.wal = false,
            "--no-footprint" => a.footprint = false,
            "--wal-only" => a.wal_only = true,
            "-h" | "--help" => {
                return Err(
                    "usage: compare [--write PATH] [--quick] [--no-wal] [--no-footprint] [--wal-only] [--wal-dir DIR]".into(),
                )
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(a)
}

fn wal_rows(dir: &std::path::Path, scale: &WalScale) -> Result<WalRows> {
    let cases = [
        (
            format!("durable commit per {} B entry", wal::ENTRY),
            Case::Durable,
        ),
        (
            format!("group commit: {} entries per fdatasync", scale.group),
            Case::Group,
        ),
        (
            format!("{} threads, durable commit per entry", scale.threads),
            Case::Threads,
        ),
    ];
    let mut rows = Vec::new();
    for (name, case) in cases {
        let tmp = |what: &str| {
            tempfile::Builder::new()
                .prefix(&format!("tidelog-bench-{what}-"))
                .tempdir_in(dir)
                .map_err(|e| tidelog_bench::subject::BenchError::Setup(e.to_string()))
        };
        let (d1, d2) = (tmp("tide")?, tmp("okaywal")?);
        let (a, b) = wal::run_case(case, d1.path(), d2.path(), scale)?;
        eprintln!(
            "  {name}: tidelog {:.0}/s, okaywal {:.0}/s",
            a.entries_per_sec(),
            b.entries_per_sec()
        );
        rows.push((name, a, b));
    }
    Ok(rows)
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let t = Instant::now();
    let scale = if a.quick { Scale::SMOKE } else { Scale::FULL };
    let wal_scale = if a.quick {
        WalScale {
            budget: Duration::from_millis(200),
            max_commits: 200,
            rounds: 2,
            group: 64,
            threads: 4,
        }
    } else {
        WalScale {
            budget: Duration::from_secs(3),
            max_commits: 50_000,
            rounds: 6,
            group: 64,
            threads: 4,
        }
    };
    if a.wal_only {
        // Section 2 alone, its figures on stderr (for working on the file path).
        if let Err(e) = wal_rows(&a.wal_dir, &wal_scale) {
            eprintln!("compare failed: {e}");
            std::process::exit(1);
        }
        return;
    }
    let run = || -> Result<Report> {
        eprintln!("section 1: flash workloads on three geometries…");
        let geometries = run::run_all(&scale)?;
        eprintln!(
            "  done at {:.1} s; write-once demonstrations…",
            t.elapsed().as_secs_f64()
        );
        let write_once = run::write_once(&scale)?;
        let wal = if a.wal {
            eprintln!("section 2: file WAL in {}…", a.wal_dir.display());
            Some((wal_rows(&a.wal_dir, &wal_scale)?, wal_scale))
        } else {
            None
        };
        let footprint = if a.footprint {
            eprintln!("section 3: code size (footprint/measure.sh)…");
            Some(report::measure_footprint()?)
        } else {
            None
        };
        Ok(Report {
            footprint,
            geometries,
            write_once,
            wal,
            scale,
            wal_dir: a.wal_dir.display().to_string(),
            total_secs: t.elapsed().as_secs_f64(),
        })
    };
    let r = match run() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("compare failed: {e}");
            std::process::exit(1);
        }
    };
    let mut page = report::render(&r);
    match &a.write {
        Some(path) => {
            // The bindings' and the drain's benchmarks keep their own sections after this
            // marker (each written by its own command): a regeneration keeps them.
            if let Ok(old) = std::fs::read_to_string(path) {
                if let Some(at) = old.find(OTHER_SECTIONS) {
                    page.push('\n');
                    page.push_str(&old[at..]);
                }
            }
            if let Err(e) = std::fs::write(path, &page) {
                eprintln!("cannot write {}: {e}", path.display());
                std::process::exit(1);
            }
            eprintln!("wrote {} in {:.1} s", path.display(), r.total_secs);
        }
        None => print!("{page}"),
    }
}
