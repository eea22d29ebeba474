//! cargo-fuzz target `ops_powercut`: see `fuzz/src/ops_powercut.rs` for the input layout and the checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = tidelog_fuzz::ops_powercut::run(data) {
        panic!("ops_powercut violation: {violation}");
    }
});
