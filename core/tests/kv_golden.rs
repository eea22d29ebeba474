//! KV golden images: every `tests/golden/kv_v*.bin` (repository root) must mount and read back
//! exactly what its `.txt` description says — geometry, generation, active partition, used
//! bytes, the high-water flag and every live entry. They pin KV format v1 (FORMAT.md Part II):
//! a build that fails here can no longer read KV images written in the field.
//!
//! The images were written by `cargo run -p tidelog --features sim,alloc --example
//! make_kv_golden`. This test only needs `RamStorage` (it runs without features, with
//! `ScanIndex`; with `alloc` also with `MapIndex`). It then writes to a copy of each image
//! (a set, a compaction) and remounts: the current writer must keep working on old images.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tidelog::format::crc32c;
use tidelog::kv::format::{decode_header, KV_FORMAT_VERSION};
use tidelog::{Kv, KvConfig, KvIndex, RamStorage, ScanIndex};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

struct Description {
    fields: BTreeMap<String, String>,
    entries: Map,
}

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

impl Description {
    fn parse(text: &str) -> Self {
        let mut d = Description {
            fields: BTreeMap::new(),
            entries: Map::new(),
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(rest) = line.strip_prefix("entry ") {
                let (k, v) = rest.split_once(' ').expect("entry KEY VALUE");
                assert!(
                    d.entries.insert(unhex(k), unhex(v)).is_none(),
                    "duplicate key"
                );
            } else {
                let (k, v) = line.split_once(": ").expect("key: value");
                d.fields.insert(k.to_string(), v.to_string());
            }
        }
        d
    }
    fn get(&self, k: &str) -> &str {
        self.fields
            .get(k)
            .unwrap_or_else(|| panic!("missing field {k}"))
    }
    fn num(&self, k: &str) -> u64 {
        self.get(k).parse().unwrap()
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

fn goldens() -> Vec<(String, Description, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(golden_dir()).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !(name.starts_with("kv_v") && name.ends_with(".txt")) {
            continue;
        }
        let d = Description::parse(&std::fs::read_to_string(&p).unwrap());
        let bin = std::fs::read(golden_dir().join(d.get("image"))).unwrap();
        out.push((name, d, bin));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Mounts `image` with index `I` and checks it against the description; returns the map.
fn check<I: KvIndex>(name: &str, d: &Description, image: &mut [u8]) -> Map {
    let cfg = KvConfig::new().high_water_percent(d.num("high_water_percent") as u8);
    let (ws, es) = (d.num("write_size") as usize, d.num("erase_size") as usize);
    let mut kv: Kv<RamStorage<'_>, I> = Kv::mount(RamStorage::new(image, ws, es).unwrap(), cfg)
        .unwrap_or_else(|e| panic!("{name}: mount failed: {e}"));
    let st = kv.stats();
    assert_eq!(st.partition_size as u64, d.num("partition_size"), "{name}");
    assert_eq!(st.max_key_len as u64, d.num("max_key_len"), "{name}");
    assert_eq!(st.max_value_len as u64, d.num("max_value_len"), "{name}");
    assert_eq!(st.generation, d.num("generation"), "{name}");
    assert_eq!(
        st.active_partition as u64,
        d.num("active_partition"),
        "{name}"
    );
    assert_eq!(st.used_bytes as u64, d.num("used_bytes"), "{name}");
    assert_eq!(
        kv.is_high_water_mark_triggered().to_string(),
        d.get("high_water_mark_triggered"),
        "{name}"
    );
    let mut got = Map::new();
    let mut it = kv.iter().unwrap();
    let (mut kb, mut vb) = ([0u8; 255], vec![0u8; 1 << 16]);
    while let Some((kl, vl)) = it.next_into(&mut kb, &mut vb).unwrap() {
        assert!(got.insert(kb[..kl].to_vec(), vb[..vl].to_vec()).is_none());
    }
    assert_eq!(got, d.entries, "{name}: entries");
    assert_eq!(got.len() as u64, d.num("live_keys"));
    for (k, v) in &d.entries {
        let n = kv.get(k, &mut vb).unwrap().expect("present");
        assert_eq!(&vb[..n], &v[..], "{name}: get {k:?}");
    }
    assert_eq!(kv.get(b"not a key", &mut vb).unwrap(), None);
    got
}

/// Writes to the image (a set, then a compaction) and remounts.
fn write_on<I: KvIndex>(name: &str, d: &Description, image: &mut [u8], before: &Map) {
    let cfg = KvConfig::new().high_water_percent(d.num("high_water_percent") as u8);
    let (ws, es) = (d.num("write_size") as usize, d.num("erase_size") as usize);
    let mut kv: Kv<RamStorage<'_>, I> =
        Kv::mount(RamStorage::new(image, ws, es).unwrap(), cfg).unwrap();
    let gen = kv.stats().generation;
    kv.set(b"new", b"written by this build").unwrap();
    kv.compact().unwrap();
    assert!(kv.stats().generation > gen, "{name}");
    drop(kv);
    let mut kv: Kv<RamStorage<'_>, I> =
        Kv::mount(RamStorage::new(image, ws, es).unwrap(), cfg).unwrap();
    let mut want = before.clone();
    want.insert(b"new".to_vec(), b"written by this build".to_vec());
    let mut vb = vec![0u8; 1 << 16];
    for (k, v) in &want {
        let n = kv.get(k, &mut vb).unwrap().expect("present");
        assert_eq!(&vb[..n], &v[..], "{name}: after writing, get {k:?}");
    }
}

#[test]
fn kv_golden_images_read_back() {
    let all = goldens();
    assert!(
        all.len() >= 4,
        "expected the KV golden images in tests/golden"
    );
    for (name, d, bin) in &all {
        assert_eq!(bin.len() as u64, d.num("image_bytes"), "{name}");
        assert_eq!(
            format!("{:08x}", crc32c(bin)),
            d.get("image_crc32c"),
            "{name}: the .bin changed"
        );
        assert!(d.num("kv_format_version") <= KV_FORMAT_VERSION as u64);
        // The active header decodes to the described geometry.
        let part = d.num("partition_size") as usize;
        let active = d.num("active_partition") as usize;
        let h = decode_header(&bin[active * part..]).expect("active header");
        assert_eq!(h.generation, d.num("generation"));
        assert_eq!(h.write_size as u64, d.num("write_size"));
        assert_eq!(h.erase_size as u64, d.num("erase_size"));

        let mut img = bin.clone();
        let scan = check::<ScanIndex>(name, d, &mut img);
        assert_eq!(
            img, *bin,
            "{name}: mounting and reading wrote to the medium"
        );
        #[cfg(feature = "alloc")]
        {
            let map = check::<tidelog::MapIndex>(name, d, &mut img);
            assert_eq!(map, scan);
            let mut img = bin.clone();
            write_on::<tidelog::MapIndex>(name, d, &mut img, &scan);
        }
        let mut img = bin.clone();
        write_on::<ScanIndex>(name, d, &mut img, &scan);
    }
}
