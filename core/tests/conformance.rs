//! The conformance scenarios in Rust (`tests/conformance/`, repository root): every script runs
//! on `VecStorage` and must give exactly its committed `.expect` (results, contents, image
//! length and CRC), its images must read back the same contents through a read-only mount with
//! the geometry from the image (unchanged afterwards), and a mismatch report names the
//! FORMAT.md field of the first differing byte. The other languages' runners check the same
//! `.expect` files and their images are compared with these (`scripts/test-conformance.sh`).
#![cfg(feature = "file")]

#[path = "support/conformance.rs"]
mod conformance;

use conformance::*;

#[test]
fn every_scenario_gives_its_committed_expectation() {
    let names = scenario_names();
    assert!(names.len() >= 10, "scenarios: {names:?}");
    for name in names {
        let dir = scenarios_dir();
        let script = std::fs::read_to_string(dir.join(format!("{name}.tls"))).unwrap();
        let expect =
            std::fs::read_to_string(dir.join(format!("{name}.expect"))).unwrap_or_else(|_| {
                panic!("{name}.expect missing: run the conformance example's `expect`")
            });
        let o = run(&parse_script(&script));
        let got = expect_text(&o);
        if got != expect {
            let line = got
                .lines()
                .zip(expect.lines())
                .find(|(a, b)| a != b)
                .map(|(a, b)| format!("got {a:?}, expected {b:?}"))
                .unwrap_or_else(|| "different length".into());
            panic!("{name}: the Rust run differs from {name}.expect: {line}");
        }
        // The images read back what was expected, through read-only mounts.
        let want = parse_expect_contents(&expect);
        if let Some(img) = &o.log_image {
            let c = read_image(img).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!((c.first, c.next), (want.first, want.next), "{name}");
            assert_eq!(c.records, want.records, "{name}");
            assert_eq!(c.consumers, want.consumers, "{name}");
        }
        if let Some(img) = &o.kv_image {
            let c = read_image(img).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.kv, want.kv, "{name}");
        }
    }
}

#[test]
fn a_mismatch_names_the_field_of_the_first_differing_byte() {
    let script = std::fs::read_to_string(scenarios_dir().join("ws1_e256_reject.tls")).unwrap();
    let o = run(&parse_script(&script));
    let img = o.log_image.unwrap();
    assert_eq!(compare_images("x", &img, &img), None);
    let layout = match tidelog::image::probe_geometry(&img).unwrap().kind {
        tidelog::image::ImageKind::Log(l) => l,
        _ => unreachable!(),
    };
    let seg = layout.segment_size as usize;
    let cases = [
        (17, "segment 0 header: base_offset (§3)"),
        (seg + 60, "segment 1 header: fixed header CRC-32C (§3)"),
        (seg + 70, "segment 1 header: checkpoint"),
        (
            seg + layout.index_start() as usize + 1,
            "segment 1 index slot 0 (§6)",
        ),
    ];
    for (addr, want) in cases {
        let mut bad = img.clone();
        bad[addr] ^= 0x40;
        let report = compare_images("ws1", &img, &bad).unwrap();
        assert!(report.contains(want), "{report} (wanted {want:?})");
    }
    // A byte inside a frame names the frame.
    let data = seg + 0x300;
    let mut bad = img.clone();
    bad[data] ^= 1;
    let report = compare_images("ws1", &img, &bad).unwrap();
    assert!(
        report.contains("frame at") || report.contains("free data area"),
        "{report}"
    );
    // A KV header field.
    let kv = std::fs::read_to_string(scenarios_dir().join("kv_ws4_e256.tls")).unwrap();
    let kimg = run(&parse_script(&kv)).kv_image.unwrap();
    let mut bad = kimg.clone();
    bad[9] ^= 2;
    let report = compare_images("kv", &kimg, &bad).unwrap();
    assert!(report.contains("header: generation (§K2)"), "{report}");
}

#[test]
fn the_fill_function_is_the_documented_one() {
    // README: byte i of seed s is (s × 31 + i × 7 + ⌊i / 256⌋) mod 256.
    let f = fill(600, 5);
    assert_eq!(&f[..4], &[155, 162, 169, 176]);
    assert_eq!(f[256], ((5 * 31 + 256 * 7 + 1) % 256) as u8);
    assert_eq!(unhex(&hex(&f)), f);
    assert_eq!(hex(&[]), "-");
}

/// The same scripts through `FileLog` and `FileKv` (what the Python package and the host
/// tools use) give the same results and byte-identical images.
#[test]
fn files_give_the_same_bytes_as_memory() {
    for name in scenario_names() {
        let script = std::fs::read_to_string(scenarios_dir().join(format!("{name}.tls"))).unwrap();
        let ops = parse_script(&script);
        let mem = run(&ops);
        let dir = tempfile::tempdir().unwrap();
        let files = run_on(&mut InFiles(dir.path().to_path_buf()), &ops);
        assert_eq!(files.results, mem.results, "{name}: results");
        assert_eq!(files.contents, mem.contents, "{name}: contents");
        for (what, a, b) in [
            ("log image", &mem.log_image, &files.log_image),
            ("KV image", &mem.kv_image, &files.kv_image),
        ] {
            if let (Some(a), Some(b)) = (a, b) {
                if let Some(m) = compare_images(&format!("{name}: {what}"), a, b) {
                    panic!("{m}");
                }
            }
        }
    }
}
