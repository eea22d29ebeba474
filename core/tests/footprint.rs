//! RAM footprint (invariant I7: the RAM of a log or a KV is fixed by its type).
//!
//! Prints `size_of` of the types in the benchmark configuration (`Log<RamStorage, 4>`, the
//! default 4 consumer cursors; the KV with each index) on this host, and fails when one grows
//! past its budget — a guard against a buffer creeping into a struct. The figures on the
//! firmware target (thumbv7em, 32-bit) and the code-size test are in `footprint/`
//! (`bash footprint/measure.sh`, `bash footprint/check.sh`).

use std::mem::size_of;

use tidelog::{Iter, Kv, Log, RamStorage, ScanIndex};

/// `(what, size_of, budget)`; budgets are for a 64-bit host.
fn figures() -> Vec<(&'static str, usize, usize)> {
    #[allow(unused_mut)]
    let mut v = vec![
        (
            "Log<RamStorage, 4> (benchmark configuration)",
            size_of::<Log<RamStorage<'static>, 4>>(),
            512,
        ),
        (
            "Log<RamStorage, 1>",
            size_of::<Log<RamStorage<'static>, 1>>(),
            320,
        ),
        (
            "Log<RamStorage, 16> (most cursors)",
            size_of::<Log<RamStorage<'static>, 16>>(),
            1280,
        ),
        (
            // 128 B of it is the chunk a frame is verified through, which keeps its body so
            // the record is not read twice.
            "Iter<RamStorage, 4>",
            size_of::<Iter<'static, RamStorage<'static>, 4>>(),
            256,
        ),
        (
            "Kv<RamStorage, ScanIndex>",
            size_of::<Kv<RamStorage<'static>, ScanIndex>>(),
            128,
        ),
    ];
    #[cfg(feature = "alloc")]
    v.push((
        "Kv<RamStorage, MapIndex> (+ heap per key)",
        size_of::<Kv<RamStorage<'static>, tidelog::MapIndex>>(),
        160,
    ));
    v
}

#[test]
fn ram_footprint_within_budget() {
    let mut over = Vec::new();
    for (what, size, budget) in figures() {
        println!("size_of {what}: {size} B (budget {budget} B)");
        if cfg!(target_pointer_width = "64") && size > budget {
            over.push(format!("{what}: {size} B > {budget} B"));
        }
    }
    assert!(over.is_empty(), "RAM footprint over budget: {over:?}");
}
