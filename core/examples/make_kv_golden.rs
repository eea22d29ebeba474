//! Writes the golden images that pin the KV on-media format (KV format v1, `FORMAT.md Part II`)
//! into `tests/golden/` (repository root) as `kv_v1_*.bin` + `kv_v1_*.txt`.
//!
//! ```text
//! cargo run -p tidelog --features sim,alloc --example make_kv_golden            # refuses to overwrite
//! cargo run -p tidelog --features sim,alloc --example make_kv_golden -- --force # regenerate
//! ```
//!
//! Each `NAME.txt` is a plain-text description that `core/tests/kv_golden.rs` parses: the
//! geometry, the CRC-32C of the `.bin`, what `stats()` must show after mount, and every live
//! entry as `entry KEY_HEX VALUE_HEX` (`-` for empty) in ascending key order. The content is
//! deterministic. Goldens pin KV format v1 forever: once committed they are not regenerated;
//! a new KV format version adds new images next to them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tidelog::format::crc32c;
use tidelog::kv::format::KV_FORMAT_VERSION;
use tidelog::{Cut, Kv, KvConfig, KvOp, MapIndex, PowerCut, SimFlash};

type K = Kv<SimFlash, MapIndex>;

struct Golden {
    name: &'static str,
    description: &'static str,
    /// High-water percent to mount with (not stored in the image).
    percent: u8,
    image: Vec<u8>,
    write_size: usize,
    erase_size: usize,
}

fn kv(write_size: usize, erase_size: usize, sectors: usize, cfg: KvConfig) -> K {
    let flash = SimFlash::new(write_size, erase_size, 2 * sectors * erase_size).expect("geometry");
    Kv::format(flash, cfg).expect("format")
}

/// A deterministic value: text for even `i`, a byte pattern for odd.
fn value(i: usize, len: usize) -> Vec<u8> {
    if i.is_multiple_of(2) {
        format!("value {i:03} ").bytes().cycle().take(len).collect()
    } else {
        (0..len).map(|j| (i * 37 + j * 11) as u8).collect()
    }
}

/// (a) The worked example of FORMAT.md Part II: write unit 4, erase 256 B, one sector per
/// partition, no compaction.
fn basic() -> Golden {
    let cfg = KvConfig::new().max_key_len(32).max_value_len(64);
    let mut kv = kv(4, 256, 1, cfg);
    kv.set(b"hello", b"world").unwrap();
    kv.set_multiple(&[(b"a", b"1"), (b"b", b"")]).unwrap();
    assert!(kv.delete(b"a").unwrap());
    kv.set(b"n", &[0x00, 0x01, 0xFF]).unwrap();
    Golden {
        name: "kv_v1_ws4_e256_basic",
        description: "write unit 4, erase 256 B, partitions of 1 sector; set, set_multiple, \
                      delete, set (the worked example of FORMAT.md Part II); generation 1",
        percent: 75,
        image: kv.into_storage().image().to_vec(),
        write_size: 4,
        erase_size: 256,
    }
}

/// (b) Compactions: overwrites cross the mark repeatedly; the second partition is active, the
/// first still holds the previous generation; entries appended after the last compaction.
fn compacted() -> Golden {
    let cfg = KvConfig::new().max_key_len(16).max_value_len(100);
    let mut kv = kv(4, 256, 2, cfg);
    for round in 0..9 {
        for k in 0..5usize {
            let key = format!("sensor/{k}");
            kv.set(key.as_bytes(), &value(round * 5 + k, 10 + 3 * k))
                .unwrap();
        }
    }
    assert!(kv.delete(b"sensor/3").unwrap());
    // Reach an odd number of compactions so the second partition is the active one.
    if kv.stats().active_partition == 0 {
        kv.compact().unwrap();
    }
    kv.set(b"sensor/9", &value(99, 7)).unwrap();
    kv.set(b"sensor/0", b"").unwrap();
    let st = kv.stats();
    assert!(st.generation >= 4 && st.active_partition == 1, "{st:?}");
    Golden {
        name: "kv_v1_ws4_e256_compacted",
        description:
            "write unit 4, erase 256 B, partitions of 2 sectors, mark 75 %; 45 overwrites of \
                      5 keys (several compactions), a delete, two sets after the last compaction; \
                      the second partition is active, the first holds the previous generation",
        percent: 75,
        image: kv.into_storage().image().to_vec(),
        write_size: 4,
        erase_size: 256,
    }
}

/// (c) ECC-flash style program unit: write unit 32, erase 1 KiB, a mixed batch with deletes,
/// a longest key and a longest value, an empty key.
fn ecc() -> Golden {
    let cfg = KvConfig::new().max_key_len(255).max_value_len(300);
    let mut kv = kv(32, 1024, 1, cfg);
    let long_key = [b'k'; 255];
    kv.set(&long_key, &value(1, 300)).unwrap();
    kv.set(b"", b"empty key").unwrap();
    kv.apply(&[
        KvOp::Set(b"x", b"1"),
        KvOp::Set(b"y", b"2"),
        KvOp::Delete(b"x"),
        KvOp::Delete(b"never-set"),
        KvOp::Set(b"z", &value(2, 40)),
    ])
    .unwrap();
    kv.compact().unwrap();
    kv.set(b"y", b"22").unwrap();
    Golden {
        name: "kv_v1_ws32_e1k_ecc",
        description: "write unit 32 (ECC flash style), erase 1 KiB, partitions of 1 sector; a \
                      255-byte key with a 300-byte value, an empty key, a batch of sets and \
                      deletes, a compaction, a set after it",
        percent: 90,
        image: kv.into_storage().image().to_vec(),
        write_size: 32,
        erase_size: 1024,
    }
}

/// (d) A torn tail: power was cut while the last frame was programmed (write unit 1). Mount
/// must ignore it and the next write must compact before writing.
fn torn() -> Golden {
    let cfg = KvConfig::new().max_key_len(16).max_value_len(64);
    let mut kv = kv(1, 256, 2, cfg);
    kv.set(b"first", b"kept").unwrap();
    kv.set_multiple(&[(b"second", b"kept too"), (b"third", &value(4, 20))])
        .unwrap();
    let at = kv.storage().mutating_ops();
    // The frame below is one program of 43 bytes; cut it after a prefix.
    let mut sim = kv.into_storage().with_seed(3);
    sim.set_fault(Some(PowerCut {
        at_op: at,
        cut: Cut::TornPrefix,
    }));
    let mut kv: K = Kv::mount(sim, cfg).unwrap();
    assert!(kv.set(b"lost", &value(5, 30)).is_err());
    let mut sim = kv.into_storage();
    sim.power_cycle();
    let used = Kv::<_, MapIndex>::mount(&mut sim, cfg)
        .unwrap()
        .stats()
        .used_bytes as usize;
    assert_ne!(sim.image()[used], 0xFF, "the cut must leave a torn prefix");
    Golden {
        name: "kv_v1_ws1_e256_torn",
        description: "write unit 1, erase 256 B, partitions of 2 sectors; two writes, then a set \
                      torn by a power cut (a prefix of its frame is on the medium): mount shows \
                      the first two writes only",
        percent: 75,
        image: sim.image().to_vec(),
        write_size: 1,
        erase_size: 256,
    }
}

fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    let mut s = String::new();
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn describe(g: &Golden) -> String {
    let cfg = KvConfig::new().high_water_percent(g.percent);
    let flash = SimFlash::from_image(&g.image, g.write_size, g.erase_size).unwrap();
    let mut kv: K = Kv::mount(flash, cfg).unwrap();
    let st = kv.stats();
    let mut s = String::new();
    let _ = writeln!(s, "# tidelog golden image: KV format v{KV_FORMAT_VERSION}.");
    let _ = writeln!(
        s,
        "# Generated by `cargo run -p tidelog --features sim,alloc --example make_kv_golden`."
    );
    let _ = writeln!(
        s,
        "# Checked by core/tests/kv_golden.rs: every future build must mount it and read exactly this."
    );
    let _ = writeln!(s, "description: {}", g.description);
    let _ = writeln!(s, "image: {}.bin", g.name);
    let _ = writeln!(s, "image_bytes: {}", g.image.len());
    let _ = writeln!(s, "image_crc32c: {:08x}", crc32c(&g.image));
    let _ = writeln!(s, "kv_format_version: {KV_FORMAT_VERSION}");
    let _ = writeln!(s, "write_size: {}", g.write_size);
    let _ = writeln!(s, "erase_size: {}", g.erase_size);
    let _ = writeln!(s, "partition_size: {}", st.partition_size);
    let _ = writeln!(s, "max_key_len: {}", st.max_key_len);
    let _ = writeln!(s, "max_value_len: {}", st.max_value_len);
    let _ = writeln!(s, "high_water_percent: {}", g.percent);
    let _ = writeln!(s, "generation: {}", st.generation);
    let _ = writeln!(s, "active_partition: {}", st.active_partition);
    let _ = writeln!(s, "used_bytes: {}", st.used_bytes);
    let _ = writeln!(
        s,
        "high_water_mark_triggered: {}",
        kv.is_high_water_mark_triggered()
    );
    let entries = kv.entries().unwrap();
    let _ = writeln!(s, "live_keys: {}", entries.len());
    let _ = writeln!(
        s,
        "# entry KEY_HEX VALUE_HEX ('-' = empty), every live entry in ascending key order"
    );
    for (k, v) in &entries {
        let _ = writeln!(s, "entry {} {}", hex(k), hex(v));
    }
    s
}

fn main() -> Result<(), String> {
    let force = std::env::args().any(|a| a == "--force");
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let goldens = [basic(), compacted(), ecc(), torn()];
    let mut existing = Vec::new();
    for g in &goldens {
        for ext in ["bin", "txt"] {
            let p = dir.join(format!("{}.{ext}", g.name));
            if p.exists() {
                existing.push(p.display().to_string());
            }
        }
    }
    if !existing.is_empty() && !force {
        return Err(format!(
            "refusing to overwrite existing golden images (pass --force to regenerate):\n  {}",
            existing.join("\n  ")
        ));
    }
    for g in &goldens {
        let txt = describe(g);
        std::fs::write(dir.join(format!("{}.bin", g.name)), &g.image).map_err(|e| e.to_string())?;
        std::fs::write(dir.join(format!("{}.txt", g.name)), txt).map_err(|e| e.to_string())?;
        println!(
            "wrote {}.bin ({} bytes) and {}.txt",
            g.name,
            g.image.len(),
            g.name
        );
    }
    Ok(())
}
