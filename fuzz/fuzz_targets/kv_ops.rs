//! cargo-fuzz target `kv_ops`: see `fuzz/src/kv_ops.rs` for the input layout and the checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = tidelog_fuzz::kv_ops::run(data) {
        panic!("kv_ops violation: {violation}");
    }
});
