//! cargo-fuzz target `mount_iter`: see `fuzz/src/mount_iter.rs` for the input layout and the checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = tidelog_fuzz::mount_iter::run(data) {
        panic!("mount_iter violation: {violation}");
    }
});
