//! Fuzz regressions: every input kept under `tests/fuzz_inputs/<target>/` is replayed through
//! the harness of that cargo-fuzz target (`fuzz/src/<target>.rs`, included here by path — the
//! very code the fuzzer runs), so whatever a fuzz run once found stays fixed.
//!
//! To keep a new crash: copy the artifact (`fuzz/artifacts/<target>/crash-…`) to
//! `tests/fuzz_inputs/<target>/<what-it-found>` and fix the core (or the harness, if the
//! harness was wrong). `seed-*` files are deep corpus inputs kept for coverage. See
//! `tests/fuzz_inputs/README.md` and `fuzz/README.md`.
#![cfg(all(feature = "sim", feature = "alloc"))]

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

#[path = "../../fuzz/src/kv_ops.rs"]
mod kv_ops;
#[path = "support/kv_sizes.rs"]
mod kv_sizes;
#[path = "../../fuzz/src/mount_iter.rs"]
mod mount_iter;
#[path = "../../fuzz/src/ops_powercut.rs"]
mod ops_powercut;
#[path = "support/powercut.rs"]
mod powercut;
#[path = "../../fuzz/src/reader.rs"]
mod reader;

/// Replays every file of `tests/fuzz_inputs/<target>/` through `run`.
fn replay(target: &str, run: fn(&[u8]) -> Result<(), String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_inputs")
        .join(target);
    // A target without kept inputs has no directory in a fresh clone (git keeps no empty
    // directories): nothing to replay.
    let mut files: Vec<_> = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.expect("directory entry").path())
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                // Under Miri only the crash inputs: the deep seeds take many minutes there.
                p.is_file() && !name.starts_with('.') && !(cfg!(miri) && name.starts_with("seed-"))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap_or_default().to_string_lossy();
        let data = fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        match catch_unwind(AssertUnwindSafe(|| run(&data))) {
            Ok(Ok(())) => {}
            Ok(Err(violation)) => failures.push(format!("{target}/{name}: {violation}")),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{target}/{name}: panic: {msg}"));
            }
        }
    }
    println!("{target}: {} inputs replayed", files.len());
    assert!(
        failures.is_empty(),
        "{} of {} kept fuzz inputs fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn mount_iter_inputs() {
    replay("mount_iter", mount_iter::run);
}

#[test]
fn ops_powercut_inputs() {
    replay("ops_powercut", ops_powercut::run);
}

#[test]
fn kv_ops_inputs() {
    replay("kv_ops", kv_ops::run);
}
