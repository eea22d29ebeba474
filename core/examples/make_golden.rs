//! Writes the golden images that pin on-media format v1 into `tests/golden/` (repository root).
//!
//! ```text
//! cargo run -p tidelog --features sim --example make_golden            # refuses to overwrite
//! cargo run -p tidelog --features sim --example make_golden -- --force # regenerate
//! ```
//!
//! Each image `NAME.bin` comes with `NAME.txt`, a plain-text description that
//! `core/tests/golden.rs` parses: the geometry, the CRC-32C of the `.bin`, what `stats()` must
//! show after mount, the committed cursors and every readable record as `record OFFSET HEX`
//! (`-` for an empty record). Content is deterministic, so a regenerated image is identical
//! byte for byte as long as the writer is unchanged.
//!
//! Goldens pin format v1 forever: once committed they are never regenerated for v1. A new
//! format version adds new images next to them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tidelog::format::crc32c;
use tidelog::format::FORMAT_VERSION;
use tidelog::{Config, FullPolicy, Log, SimFlash};

/// Consumer capacity the images are written with (stored in them as `max_consumers`).
const C: usize = 2;
type L = Log<SimFlash, C>;

struct Golden {
    name: &'static str,
    description: &'static str,
    policy: FullPolicy,
    log: L,
}

/// Deterministic record: readable text for even offsets, a byte pattern for odd ones. `gen`
/// changes the content, so a record written after a truncation differs from the one it
/// replaced at the same offset.
fn record(offset: u64, len: usize, gen: u8) -> Vec<u8> {
    if offset.is_multiple_of(2) {
        let text = format!(
            "event {offset:05} gen {gen} temp={}.{} ",
            18 + offset % 9,
            offset % 10
        );
        text.bytes().cycle().take(len).collect()
    } else {
        (0..len)
            .map(|i| (offset as usize * 31 + i * 7 + gen as usize * 97) as u8)
            .collect()
    }
}

fn append_gen(log: &mut L, len: usize, gen: u8) {
    let off = log.next_offset();
    assert_eq!(log.append(&record(off, len, gen)).unwrap(), off);
}

fn append(log: &mut L, len: usize) {
    append_gen(log, len, 0);
}

fn batch(log: &mut L, lens: &[usize]) {
    batch_gen(log, lens, 0);
}

fn batch_gen(log: &mut L, lens: &[usize], gen: u8) {
    let off = log.next_offset();
    let recs: Vec<Vec<u8>> = lens
        .iter()
        .enumerate()
        .map(|(i, &l)| record(off + i as u64, l, gen))
        .collect();
    let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
    assert_eq!(log.append_batch(&refs).unwrap(), off);
}

/// (a) write unit 4, erase 1 KiB, 4 segments: records (one empty), a batch (with an empty
/// record), two consumer commits; three segments in use.
fn basic() -> Golden {
    let cfg = Config::new().index_interval(64);
    let mut log = L::format(SimFlash::new(4, 1024, 4096).unwrap(), cfg).unwrap();
    for i in 0..20 {
        append(&mut log, [24, 0, 7, 40, 13][i % 5]);
    }
    batch(&mut log, &[5, 0, 30, 2]);
    log.commit("uploader", 12).unwrap();
    log.commit("audit", 3).unwrap();
    for i in 0..16 {
        append(&mut log, 20 + i * 3 % 37);
    }
    log.commit("uploader", 40).unwrap();
    assert_eq!(log.stats().segments_used, 3);
    Golden {
        name: "v1_ws4_e1k_basic",
        description: "write unit 4, erase 1 KiB, 4 segments of 1 sector, index every 64 B; \
                      records (one empty), a batch of 4 (one empty), consumers uploader and audit",
        policy: FullPolicy::Reject,
        log,
    }
}

/// (b) write unit 32 (ECC flash), erase 4 KiB, 4 segments, overwrite-oldest: wrapped twice,
/// a consumer, a trim.
fn wrapped() -> Golden {
    let cfg = Config::new()
        .index_interval(256)
        .full_policy(FullPolicy::OverwriteOldest);
    let mut log = L::format(SimFlash::new(32, 4096, 16384).unwrap(), cfg).unwrap();
    for i in 0..200 {
        append(&mut log, [60, 150, 0, 220, 95, 31][i % 6]);
        if i == 120 {
            batch(&mut log, &[10, 20, 0, 40, 5]);
        }
    }
    let first = log.first_offset();
    assert!(first > 60, "must have wrapped: first {first}");
    log.commit("cloud", first + 10).unwrap();
    log.trim_front(first + 4).unwrap();
    append(&mut log, 77);
    Golden {
        name: "v1_ws32_e4k_wrapped",
        description: "write unit 32 (ECC flash style), erase 4 KiB, 4 segments of 1 sector, index \
                      every 256 B, overwrite-oldest; wrapped around, a batch, consumer cloud, \
                      trimmed",
        policy: FullPolicy::OverwriteOldest,
        log,
    }
}

/// (c) write unit 1, erase 256 B, segments of 2 sectors: a truncation across segments (the
/// truncated offsets are then reused by new records) and one inside the active segment.
fn truncated() -> Golden {
    let cfg = Config::new().segment_sectors(2).index_interval(64);
    let mut log = L::format(SimFlash::new(1, 256, 2048).unwrap(), cfg).unwrap();
    for i in 0..14 {
        append(&mut log, [11, 3, 25][i % 3]);
    }
    log.commit("reader", 12).unwrap();
    assert!(log.stats().segments_used >= 2);
    log.truncate_back(5).unwrap(); // across segments; moves "reader" back to 5
    for _ in 0..6 {
        append_gen(&mut log, 9, 1);
    }
    log.truncate_back(9).unwrap(); // inside the active segment
    batch_gen(&mut log, &[4, 4], 2);
    Golden {
        name: "v1_ws1_e256_truncated",
        description: "write unit 1, erase 256 B, 4 segments of 2 sectors, index every 64 B; \
                      truncate_back(5) across segments, new records, truncate_back(9), a batch; \
                      consumer reader moved back by the truncation",
        policy: FullPolicy::Reject,
        log,
    }
}

fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// The description the test checks the image against.
fn describe(g: &mut Golden, file: &str, image: &[u8]) -> String {
    let l = *g.log.layout();
    let st = g.log.stats();
    let mut t = String::new();
    let w = &mut t;
    let _ = writeln!(
        w,
        "# tidelog golden image: on-media format v{FORMAT_VERSION}."
    );
    let _ = writeln!(
        w,
        "# Generated by `cargo run -p tidelog --features sim --example make_golden`."
    );
    let _ = writeln!(
        w,
        "# Checked by core/tests/golden.rs: every future build must mount it and read exactly this."
    );
    let _ = writeln!(w, "description: {}", g.description);
    let _ = writeln!(w, "image: {file}");
    let _ = writeln!(w, "image_bytes: {}", image.len());
    let _ = writeln!(w, "image_crc32c: {:08x}", crc32c(image));
    let _ = writeln!(w, "format_version: {FORMAT_VERSION}");
    let _ = writeln!(w, "full_policy: {:?}", g.policy);
    let _ = writeln!(w, "write_size: {}", l.write_size);
    let _ = writeln!(w, "erase_size: {}", l.erase_size);
    let _ = writeln!(w, "segment_size: {}", l.segment_size);
    let _ = writeln!(w, "segment_count: {}", l.segment_count);
    let _ = writeln!(w, "index_interval: {}", l.index_interval);
    let _ = writeln!(w, "max_record_size: {}", l.max_record_size);
    let _ = writeln!(w, "max_consumers: {}", l.max_consumers);
    let _ = writeln!(w, "first_offset: {}", st.first_offset);
    let _ = writeln!(w, "next_offset: {}", st.next_offset);
    let _ = writeln!(w, "segments_used: {}", st.segments_used);
    let _ = writeln!(w, "# consumer NAME COMMITTED_OFFSET");
    let consumers: Vec<(String, u64)> =
        g.log.consumers().map(|(n, o)| (n.to_string(), o)).collect();
    for (name, off) in consumers {
        let _ = writeln!(w, "consumer {name} {off}");
    }
    let _ = writeln!(
        w,
        "# record OFFSET HEX_BYTES ('-' = empty), every readable record from first to next"
    );
    let mut it = g.log.iter(st.first_offset).unwrap();
    let mut buf = vec![0u8; l.max_record_size as usize];
    let mut n = 0u64;
    while let Some((off, len)) = it.next_into(&mut buf).unwrap() {
        let _ = writeln!(w, "record {off} {}", hex(&buf[..len]));
        n += 1;
    }
    assert_eq!(n, st.next_offset - st.first_offset);
    t
}

fn main() {
    let force = std::env::args().any(|a| a == "--force");
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    std::fs::create_dir_all(&dir).expect("create tests/golden");
    let dir = dir.canonicalize().unwrap_or(dir);
    let mut goldens = [basic(), wrapped(), truncated()];
    let existing: Vec<PathBuf> = goldens
        .iter()
        .flat_map(|g| ["bin", "txt"].map(|ext| dir.join(format!("{}.{ext}", g.name))))
        .filter(|p| p.exists())
        .collect();
    if !existing.is_empty() && !force {
        eprintln!(
            "refusing to overwrite golden images (they pin format v{FORMAT_VERSION} forever):"
        );
        for p in &existing {
            eprintln!("  {}", p.display());
        }
        eprintln!("pass --force to regenerate them anyway");
        std::process::exit(1);
    }
    for g in goldens.iter_mut() {
        let image = g.log.storage().image().to_vec();
        assert!(image.len() < 64 * 1024);
        let bin = format!("{}.bin", g.name);
        let txt = describe(g, &bin, &image);
        // Sanity: the image mounts from its bytes alone.
        let sim = SimFlash::from_image(&image, g.log.layout().write_size as usize, 256).unwrap();
        let check = L::mount(sim, Config::new().full_policy(g.policy)).unwrap();
        assert_eq!(check.stats(), g.log.stats());
        std::fs::write(dir.join(&bin), &image).expect("write image");
        std::fs::write(dir.join(format!("{}.txt", g.name)), txt).expect("write description");
        println!("wrote {} ({} bytes)", dir.join(&bin).display(), image.len());
    }
}
