//! Golden images: every image under `tests/golden/` (repository root) must mount and read back
//! exactly what its `.txt` description says — geometry, first/next offsets, segments in use,
//! committed cursors and every record. They pin on-media format v1: a build that fails here
//! can no longer read images written in the field.
//!
//! The images were written by `cargo run -p tidelog --features sim --example make_golden`
//! (see `tests/golden/README.md`); this test only needs `RamStorage`, so it runs without
//! features.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tidelog::format::{crc32c, FORMAT_VERSION};
use tidelog::{Config, Error, FullPolicy, Log, RamStorage};

/// A parsed `.txt` description.
#[derive(Debug)]
struct Description {
    fields: BTreeMap<String, String>,
    consumers: Vec<(String, u64)>,
    records: Vec<(u64, Vec<u8>)>,
}

impl Description {
    fn parse(text: &str) -> Self {
        let mut d = Description {
            fields: BTreeMap::new(),
            consumers: Vec::new(),
            records: Vec::new(),
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || -> ! { panic!("line {}: cannot parse {line:?}", n + 1) };
            if let Some(rest) = line.strip_prefix("record ") {
                let (off, hex) = rest.split_once(' ').unwrap_or_else(|| bad());
                d.records
                    .push((off.parse().unwrap_or_else(|_| bad()), unhex(hex)));
            } else if let Some(rest) = line.strip_prefix("consumer ") {
                let (name, off) = rest.rsplit_once(' ').unwrap_or_else(|| bad());
                d.consumers
                    .push((name.to_string(), off.parse().unwrap_or_else(|_| bad())));
            } else {
                let (k, v) = line.split_once(": ").unwrap_or_else(|| bad());
                d.fields.insert(k.to_string(), v.to_string());
            }
        }
        d
    }

    fn get(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("missing field {key}"))
    }

    fn num(&self, key: &str) -> u64 {
        self.get(key)
            .parse()
            .unwrap_or_else(|_| panic!("field {key} is not a number"))
    }
}

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    assert!(s.len().is_multiple_of(2), "odd hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

fn all_records<S: tidelog::Storage, const C: usize>(
    log: &mut Log<S, C>,
    from: u64,
) -> Vec<(u64, Vec<u8>)> {
    let mut it = log.iter(from).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut out = Vec::new();
    while let Some((off, n)) = it.next_into(&mut buf).unwrap() {
        out.push((off, buf[..n].to_vec()));
    }
    out
}

fn check_golden(txt: &Path) {
    let name = txt.file_stem().unwrap().to_string_lossy().to_string();
    let d = Description::parse(&std::fs::read_to_string(txt).unwrap());
    let image = std::fs::read(txt.with_file_name(d.get("image"))).unwrap();
    assert_eq!(
        image.len() as u64,
        d.num("image_bytes"),
        "{name}: image size"
    );
    assert_eq!(
        format!("{:08x}", crc32c(&image)),
        d.get("image_crc32c"),
        "{name}: the image bytes changed"
    );
    let version = d.num("format_version");
    assert!(
        (1..=FORMAT_VERSION as u64).contains(&version),
        "{name}: this build must read format v{version}"
    );
    let policy = match d.get("full_policy") {
        "Reject" => FullPolicy::Reject,
        "OverwriteOldest" => FullPolicy::OverwriteOldest,
        p => panic!("{name}: unknown policy {p}"),
    };
    let (ws, es) = (d.num("write_size") as usize, d.num("erase_size") as usize);
    let cfg = Config::new().full_policy(policy);

    // Mount a copy: the golden file itself is never written.
    let mut mem = image.clone();
    let storage = RamStorage::new(&mut mem, ws, es).unwrap();
    let mut log: Log<_> =
        Log::mount(storage, cfg).unwrap_or_else(|e| panic!("{name}: mount failed: {e}"));

    let l = *log.layout();
    for (key, got) in [
        ("write_size", l.write_size as u64),
        ("erase_size", l.erase_size as u64),
        ("segment_size", l.segment_size as u64),
        ("segment_count", l.segment_count as u64),
        ("index_interval", l.index_interval as u64),
        ("max_record_size", l.max_record_size as u64),
        ("max_consumers", l.max_consumers as u64),
    ] {
        assert_eq!(got, d.num(key), "{name}: layout {key}");
    }
    let st = log.stats();
    let (first, next) = (d.num("first_offset"), d.num("next_offset"));
    assert_eq!(st.first_offset, first, "{name}: first offset");
    assert_eq!(st.next_offset, next, "{name}: next offset");
    assert_eq!(st.segments_used as u64, d.num("segments_used"), "{name}");
    assert_eq!(st.segments_total as u64, d.num("segment_count"), "{name}");
    assert_eq!(st.segment_size as u64, d.num("segment_size"), "{name}");
    assert_eq!(
        st.max_record_size as u64,
        d.num("max_record_size"),
        "{name}"
    );

    // Cursors.
    let consumers: Vec<(String, u64)> = log.consumers().map(|(n, o)| (n.to_string(), o)).collect();
    assert_eq!(consumers, d.consumers, "{name}: consumers");
    for (c, off) in &d.consumers {
        assert_eq!(log.committed(c), Some(*off), "{name}: committed({c})");
        let want = if *off < first {
            Err(Error::Overwritten {
                first_available: first,
            })
        } else {
            Ok(*off)
        };
        assert_eq!(log.consumer(c).unwrap().position(), want, "{name}: {c}");
    }

    // Every record, by offset and by iteration; the edges.
    assert_eq!(d.records.len() as u64, next - first, "{name}: record lines");
    let mut buf = vec![0u8; l.max_record_size as usize];
    for (off, rec) in &d.records {
        let n = log
            .read(*off, &mut buf)
            .unwrap_or_else(|e| panic!("{name}: read({off}): {e}"));
        assert_eq!(&buf[..n], &rec[..], "{name}: record {off}");
    }
    assert_eq!(all_records(&mut log, first), d.records, "{name}: iteration");
    assert_eq!(
        log.read(next, &mut buf),
        Err(Error::OutOfRange { first, next }),
        "{name}"
    );
    if first > 0 {
        assert_eq!(
            log.read(first - 1, &mut buf),
            Err(Error::Overwritten {
                first_available: first
            }),
            "{name}"
        );
    }

    // The current build keeps writing the old image: append, remount, everything still there.
    let rec = format!("appended to {name}").into_bytes();
    assert_eq!(log.append(&rec).unwrap(), next, "{name}: append");
    let storage = log.into_storage();
    let mut log: Log<_> = Log::mount(storage, cfg).unwrap();
    assert_eq!(log.next_offset(), next + 1, "{name}");
    let first_now = log.first_offset();
    let mut want: Vec<(u64, Vec<u8>)> = d
        .records
        .iter()
        .filter(|(o, _)| *o >= first_now)
        .cloned()
        .collect();
    want.push((next, rec));
    assert_eq!(
        all_records(&mut log, first_now),
        want,
        "{name}: after append"
    );
}

#[test]
fn golden_images_read_back_exactly() {
    let mut txts: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("tests/golden exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        // Log images are `v<version>_*`; the KV journal's (`kv_*`) are checked by kv_golden.rs.
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('v'))
        })
        .collect();
    txts.sort();
    assert!(
        txts.len() >= 3,
        "expected the golden images in {}",
        golden_dir().display()
    );
    for txt in &txts {
        check_golden(txt);
    }
}
