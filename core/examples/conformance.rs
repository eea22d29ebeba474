//! The conformance tool (`tests/conformance/README.md`): runs the scenarios in Rust, rewrites
//! their expectations, compares another language's images with the Rust ones byte for byte,
//! and reads back any directory of images.
//!
//! ```text
//! cargo run -p tidelog --features file --example conformance -- run OUT
//! cargo run -p tidelog --features file --example conformance -- compare RUST_DIR OTHER_DIR
//! cargo run -p tidelog --features file --example conformance -- check DIR
//! cargo run -p tidelog --features file --example conformance -- expect
//! ```
//!
//! `compare` and `check` print one line per mismatch and exit 1 if there is any.

#[path = "../tests/support/conformance.rs"]
mod conformance;

use std::path::Path;
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> &str {
        args.get(i).map(String::as_str).unwrap_or_else(|| {
            eprintln!("usage: conformance run OUT | compare RUST OTHER | check DIR | expect");
            exit(2)
        })
    };
    match arg(0) {
        "run" => {
            let out = Path::new(arg(1));
            for name in conformance::scenario_names() {
                let script = std::fs::read_to_string(
                    conformance::scenarios_dir().join(format!("{name}.tls")),
                )
                .expect("script");
                let o = conformance::run(&conformance::parse_script(&script));
                conformance::write_images(out, &name, &o).expect("write images");
            }
            println!(
                "conformance: {} scenarios run in Rust, images in {}",
                conformance::scenario_names().len(),
                out.display()
            );
        }
        "expect" => {
            for name in conformance::scenario_names() {
                let dir = conformance::scenarios_dir();
                let script = std::fs::read_to_string(dir.join(format!("{name}.tls"))).unwrap();
                let o = conformance::run(&conformance::parse_script(&script));
                std::fs::write(
                    dir.join(format!("{name}.expect")),
                    conformance::expect_text(&o),
                )
                .unwrap();
                println!("{name}: {} results", o.results.len());
            }
        }
        "compare" => {
            let bad = conformance::compare_dirs(Path::new(arg(1)), Path::new(arg(2)));
            for b in &bad {
                println!("MISMATCH {b}");
            }
            println!(
                "conformance compare {} vs {}: {} mismatches",
                arg(1),
                arg(2),
                bad.len()
            );
            exit(i32::from(!bad.is_empty()));
        }
        "check" => {
            let bad = conformance::check_dir(Path::new(arg(1)));
            for b in &bad {
                println!("FAIL {b}");
            }
            println!("conformance check {}: {} failures", arg(1), bad.len());
            exit(i32::from(!bad.is_empty()));
        }
        other => {
            eprintln!("unknown command {other:?}");
            exit(2)
        }
    }
}
