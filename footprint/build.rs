//! Puts `link.x` (the memory map and section layout of the probes) on the linker's search path
//! and links every binary with it, for bare-metal ARM targets only.
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=link.x");
    let target = env::var("TARGET").unwrap_or_default();
    if !target.starts_with("thumb") {
        return;
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("link.x", out.join("link.x")).expect("copy link.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rustc-link-arg-bins=--gc-sections");
}
