//! The C binding of tidelog: `include/tidelog.h` (generated from this crate by the pinned
//! cbindgen, committed) and `libtidelog.a`.
//!
//! A thin layer: every exported function checks its C arguments, calls the core
//! ([`tl`] is the `tidelog` crate) and turns the result into a status code. No log logic
//! lives here.
//!
//! | module | owns |
//! |---|---|
//! | [`status`] | `tl_status_t`: the core's error codes plus the C-only ones, `tl_strerror` |
//! | [`storage`] | `tl_storage_t` (the flash callbacks) and its adapter to the core's `Storage` |
//! | [`object`] | the opaque, statically allocatable objects (`tl_log_t`, `tl_iter_t`, `tl_kv_t`): sizes, the state word, entering and leaving a call |
//! | [`args`] | C pointers and lengths to Rust slices and names, and results back |
//! | [`log`] | the `tl_log_*` and `tl_iter_*` functions |
//! | [`kv`] | the `tl_kv_*` functions |
//!
//! `unsafe` is confined to [`storage`] (calling the C callbacks), [`object`] (the state word
//! and the object's bytes) and [`args`] (pointers from C); the exported functions themselves
//! only pass raw pointers on.
//!
//! On the bare-metal targets (`target_os = "none"`) the crate is `#![no_std]`, needs no
//! allocator and traps on a panic (none is reachable from the API); on a host it links `std`,
//! whose abort serves as the panic handler (the library is built with `panic = "abort"`).
#![cfg_attr(target_os = "none", no_std)]
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
// The C names (`tl_log_t`, `TL_ERR_FULL`) are the API.
#![allow(non_camel_case_types)]

// In the order of the header (cbindgen follows it): statuses, the storage, the objects, the
// buffers, then the log and the KV.
pub mod status;

pub mod storage;

pub mod object;

pub mod args;

pub mod log;

pub mod kv;

/// The library's version, `major * 10000 + minor * 100 + patch` (compare with
/// `TL_VERSION_NUMBER` from the header the program was compiled with).
#[no_mangle]
pub extern "C" fn tl_version() -> u32 {
    TL_VERSION_NUMBER
}

/// Major version of the library (the header this crate generates).
pub const TL_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const TL_VERSION_MINOR: u32 = 1;
/// Patch version of the library.
pub const TL_VERSION_PATCH: u32 = 0;
/// `TL_VERSION_MAJOR * 10000 + TL_VERSION_MINOR * 100 + TL_VERSION_PATCH`.
pub const TL_VERSION_NUMBER: u32 = 100;
/// The log format version this library writes (it reads every version up to it).
pub const TL_FORMAT_VERSION: u32 = 1;
/// The KV format version this library writes (it reads every version up to it).
pub const TL_KV_FORMAT_VERSION: u32 = 1;

// The version macros are literals (cbindgen copies them into the header): pinned to the
// package version and to the core's format versions at compile time.
const _: () = {
    assert!(parse_u32(env!("CARGO_PKG_VERSION_MAJOR")) == TL_VERSION_MAJOR);
    assert!(parse_u32(env!("CARGO_PKG_VERSION_MINOR")) == TL_VERSION_MINOR);
    assert!(parse_u32(env!("CARGO_PKG_VERSION_PATCH")) == TL_VERSION_PATCH);
    assert!(
        TL_VERSION_NUMBER == TL_VERSION_MAJOR * 10000 + TL_VERSION_MINOR * 100 + TL_VERSION_PATCH
    );
    assert!(TL_FORMAT_VERSION == tl::format::FORMAT_VERSION as u32);
    assert!(TL_KV_FORMAT_VERSION == tl::kv::format::KV_FORMAT_VERSION as u32);
};

const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0u32;
    while i < b.len() {
        assert!(b[i].is_ascii_digit());
        n = n * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    n
}

/// Bare metal: a panic (unreachable from the API) traps into the fault handler instead of
/// spinning, so a watchdog or the fault handler sees it.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        #[cfg(target_arch = "arm")]
        // SAFETY: `udf` raises an undefined-instruction fault; nothing else is touched.
        unsafe {
            core::arch::asm!("udf #0xfe");
        }
        #[cfg(target_arch = "riscv32")]
        // SAFETY: `unimp` raises an illegal-instruction exception; nothing else is touched.
        unsafe {
            core::arch::asm!("unimp");
        }
    }
}
