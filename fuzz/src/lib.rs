//! The fuzz harnesses of tidelog, one module per cargo-fuzz target (`fuzz_targets/`). Each is
//! a plain function of the input bytes returning `Err(violation)`; the targets panic on it,
//! and `core/tests/fuzz_regressions.rs` replays every kept crash input through the same
//! modules (it includes them by path), so the harnesses are also compiled — and their
//! regressions run — by the ordinary test suite.

#[path = "../../core/tests/support/powercut.rs"]
pub mod powercut;

#[path = "../../core/tests/support/kv_sizes.rs"]
pub mod kv_sizes;

pub mod kv_ops;
pub mod mount_iter;
pub mod ops_powercut;
pub mod reader;
