//! The conformance scenarios (`tests/conformance/`, repository root): the script and expectation
//! formats of `tests/conformance/README.md`, the Rust runner, the read-back check of an image
//! directory, and the naming of an image address by its FORMAT.md field (for mismatch reports).
//!
//! Shared by `core/tests/conformance.rs` and `core/examples/conformance.rs`.
#![allow(dead_code, clippy::needless_question_mark)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tidelog::format::header::{self, FIXED_HEADER_LEN};
use tidelog::format::layout::Layout;
use tidelog::image::{probe_geometry, ImageKind};
use tidelog::{Config, Error, FullPolicy, Kv, KvConfig, Log, MapIndex, ReadOnly, VecStorage};

/// Consumer capacity of every binding (brief §7).
pub const CONSUMERS: usize = 16;

type TheLog = Log<VecStorage, CONSUMERS>;
type TheKv = Kv<VecStorage, MapIndex>;

/// The scenarios directory.
pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/conformance/scenarios")
}

/// Every scenario name, sorted.
pub fn scenario_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(scenarios_dir())
        .expect("tests/conformance/scenarios")
        .filter_map(|e| {
            let p = e.ok()?.path();
            if p.extension()? != "tls" {
                return None;
            }
            Some(p.file_stem()?.to_str()?.to_string())
        })
        .collect();
    names.sort();
    names
}

/// The fill function of the script format.
pub fn fill(len: usize, seed: u64) -> Vec<u8> {
    (0..len)
        .map(|i| ((seed.wrapping_mul(31) + i as u64 * 7 + (i as u64 >> 8)) % 256) as u8)
        .collect()
}

/// Decodes a hex field (`-` is empty).
pub fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    assert!(s.len().is_multiple_of(2), "odd hex {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Encodes bytes as a hex field.
pub fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        return "-".into();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One operation of a script.
#[derive(Debug, Clone)]
pub enum Op {
    Log {
        ws: usize,
        es: usize,
        cap: usize,
        config: Config,
    },
    Append(Vec<u8>),
    Batch(Vec<Vec<u8>>),
    Sync,
    Commit(String, u64),
    Rewind(String, u64),
    Remove(String),
    Trim(u64),
    Truncate(u64),
    Reopen,
    Kv {
        ws: usize,
        es: usize,
        cap: usize,
        config: KvConfig,
    },
    KvSet(Vec<u8>, Vec<u8>),
    KvSetMultiple(Vec<(Vec<u8>, Vec<u8>)>),
    KvDelete(Vec<u8>),
    KvCompact,
    KvReopen,
}

/// Parses a `.tls` script: `(line number, operation)`.
pub fn parse_script(text: &str) -> Vec<(usize, Op)> {
    let mut ops = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(' ').collect();
        let n = |k: usize| -> u64 {
            f[k].parse()
                .unwrap_or_else(|_| panic!("line {}: {line}", i + 1))
        };
        let op = match f[0] {
            "log" => Op::Log {
                ws: n(1) as usize,
                es: n(2) as usize,
                cap: n(3) as usize,
                config: Config::new()
                    .segment_sectors(n(4) as u32)
                    .index_interval(n(5) as u32)
                    .max_record_size(n(6) as u32)
                    .full_policy(match f[7] {
                        "reject" => FullPolicy::Reject,
                        "overwrite" => FullPolicy::OverwriteOldest,
                        p => panic!("line {}: policy {p}", i + 1),
                    }),
            },
            "append" => Op::Append(unhex(f[1])),
            "append_fill" => Op::Append(fill(n(1) as usize, n(2))),
            "batch" => Op::Batch(f[1..].iter().map(|h| unhex(h)).collect()),
            "batch_fill" => Op::Batch((0..n(1)).map(|k| fill(n(2) as usize, n(3) + k)).collect()),
            "sync" => Op::Sync,
            "commit" => Op::Commit(f[1].into(), n(2)),
            "rewind" => Op::Rewind(f[1].into(), n(2)),
            "remove" => Op::Remove(f[1].into()),
            "trim" => Op::Trim(n(1)),
            "truncate" => Op::Truncate(n(1)),
            "reopen" => Op::Reopen,
            "kv" => Op::Kv {
                ws: n(1) as usize,
                es: n(2) as usize,
                cap: n(3) as usize,
                config: KvConfig::new()
                    .max_key_len(n(4) as u8)
                    .max_value_len(n(5) as u32)
                    .high_water_percent(n(6) as u8),
            },
            "kv_set" => Op::KvSet(unhex(f[1]), unhex(f[2])),
            "kv_set_multiple" => Op::KvSetMultiple(
                f[1..]
                    .chunks(2)
                    .map(|p| (unhex(p[0]), unhex(p[1])))
                    .collect(),
            ),
            "kv_delete" => Op::KvDelete(unhex(f[1])),
            "kv_compact" => Op::KvCompact,
            "kv_reopen" => Op::KvReopen,
            other => panic!("line {}: unknown operation {other}", i + 1),
        };
        ops.push((i + 1, op));
    }
    ops
}

/// What running a script produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `(line, Ok(returned value) | Err(error code name))` for every operation but `log`/`kv`.
    pub results: Vec<(usize, Result<Option<u64>, String>)>,
    pub log_image: Option<Vec<u8>>,
    pub kv_image: Option<Vec<u8>>,
    pub contents: Contents,
}

/// What the log and the KV hold at the end.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Contents {
    pub first: Option<u64>,
    pub next: Option<u64>,
    pub records: Vec<(u64, Vec<u8>)>,
    pub consumers: Vec<(String, u64)>,
    pub kv: Vec<(Vec<u8>, Vec<u8>)>,
}

fn code(e: Error) -> String {
    e.code().name().to_string()
}

/// Where a runner keeps its log and KV: in memory ([`InMemory`], the Rust runner) or in files
/// ([`InFiles`], the path the Python package takes), which must give the same bytes.
pub trait Target {
    /// The log being written.
    type Log: LogOps;
    /// The KV being written.
    type Kv: KvOps;
    fn format_log(&mut self, ws: usize, es: usize, cap: usize, config: Config) -> Self::Log;
    fn reopen_log(&mut self, log: Self::Log, config: Config) -> Self::Log;
    fn finish_log(&mut self, log: Self::Log) -> Vec<u8>;
    fn format_kv(&mut self, ws: usize, es: usize, cap: usize, config: KvConfig) -> Self::Kv;
    fn reopen_kv(&mut self, kv: Self::Kv, config: KvConfig) -> Self::Kv;
    fn finish_kv(&mut self, kv: Self::Kv) -> Vec<u8>;
}

/// The log operations of a script.
pub trait LogOps {
    fn append(&mut self, r: &[u8]) -> Result<u64, Error>;
    fn append_batch(&mut self, rs: &[&[u8]]) -> Result<u64, Error>;
    fn sync(&mut self) -> Result<(), Error>;
    fn commit(&mut self, name: &str, offset: u64) -> Result<(), Error>;
    fn rewind(&mut self, name: &str, offset: u64) -> Result<(), Error>;
    fn remove_consumer(&mut self, name: &str) -> Result<(), Error>;
    fn trim_front(&mut self, offset: u64) -> Result<(), Error>;
    fn truncate_back(&mut self, len: u64) -> Result<(), Error>;
}

/// The KV operations of a script.
pub trait KvOps {
    fn set(&mut self, k: &[u8], v: &[u8]) -> Result<(), Error>;
    fn set_multiple(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), Error>;
    fn delete(&mut self, k: &[u8]) -> Result<bool, Error>;
    fn compact(&mut self) -> Result<(), Error>;
}

macro_rules! log_ops {
    ($t:ty) => {
        impl LogOps for $t {
            fn append(&mut self, r: &[u8]) -> Result<u64, Error> {
                Ok(<$t>::append(self, r)?)
            }
            fn append_batch(&mut self, rs: &[&[u8]]) -> Result<u64, Error> {
                Ok(<$t>::append_batch(self, rs)?)
            }
            fn sync(&mut self) -> Result<(), Error> {
                Ok(<$t>::sync(self)?)
            }
            fn commit(&mut self, name: &str, offset: u64) -> Result<(), Error> {
                Ok(<$t>::commit(self, name, offset)?)
            }
            fn rewind(&mut self, name: &str, offset: u64) -> Result<(), Error> {
                Ok(<$t>::rewind(self, name, offset)?)
            }
            fn remove_consumer(&mut self, name: &str) -> Result<(), Error> {
                Ok(<$t>::remove_consumer(self, name)?)
            }
            fn trim_front(&mut self, offset: u64) -> Result<(), Error> {
                Ok(<$t>::trim_front(self, offset)?)
            }
            fn truncate_back(&mut self, len: u64) -> Result<(), Error> {
                Ok(<$t>::truncate_back(self, len)?)
            }
        }
    };
}

macro_rules! kv_ops {
    ($t:ty) => {
        impl KvOps for $t {
            fn set(&mut self, k: &[u8], v: &[u8]) -> Result<(), Error> {
                Ok(<$t>::set(self, k, v)?)
            }
            fn set_multiple(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<(), Error> {
                Ok(<$t>::set_multiple(self, pairs)?)
            }
            fn delete(&mut self, k: &[u8]) -> Result<bool, Error> {
                Ok(<$t>::delete(self, k)?)
            }
            fn compact(&mut self) -> Result<(), Error> {
                Ok(<$t>::compact(self)?)
            }
        }
    };
}

log_ops!(TheLog);
log_ops!(tidelog::FileLog<CONSUMERS>);
kv_ops!(TheKv);
kv_ops!(tidelog::FileKv);

/// The Rust runner's target: `VecStorage`.
pub struct InMemory;

impl Target for InMemory {
    type Log = TheLog;
    type Kv = TheKv;
    fn format_log(&mut self, ws: usize, es: usize, cap: usize, config: Config) -> TheLog {
        let storage = VecStorage::new(cap, ws, es).expect("log geometry");
        Log::format(storage, config).expect("format")
    }
    fn reopen_log(&mut self, log: TheLog, config: Config) -> TheLog {
        Log::mount(log.into_storage(), config).expect("remount")
    }
    fn finish_log(&mut self, log: TheLog) -> Vec<u8> {
        log.into_storage().into_vec()
    }
    fn format_kv(&mut self, ws: usize, es: usize, cap: usize, config: KvConfig) -> TheKv {
        let storage = VecStorage::new(cap, ws, es).expect("kv geometry");
        Kv::format(storage, config).expect("kv format")
    }
    fn reopen_kv(&mut self, kv: TheKv, config: KvConfig) -> TheKv {
        Kv::mount(kv.into_storage(), config).expect("kv remount")
    }
    fn finish_kv(&mut self, kv: TheKv) -> Vec<u8> {
        kv.into_storage().into_vec()
    }
}

/// Files in a directory (`FileLog`, `FileKv`; reopen = close and open again).
pub struct InFiles(pub PathBuf);

impl InFiles {
    fn log_path(&self) -> PathBuf {
        self.0.join("log.tlog")
    }
    fn kv_path(&self) -> PathBuf {
        self.0.join("kv.tkv")
    }
}

impl Target for InFiles {
    type Log = tidelog::FileLog<CONSUMERS>;
    type Kv = tidelog::FileKv;
    fn format_log(&mut self, ws: usize, es: usize, cap: usize, config: Config) -> Self::Log {
        let d = tidelog::Durability::Explicit;
        tidelog::FileLog::create_with_geometry(self.log_path(), cap as u64, ws, es, config, d)
            .expect("create")
    }
    fn reopen_log(&mut self, log: Self::Log, config: Config) -> Self::Log {
        log.close().expect("close");
        tidelog::FileLog::open(self.log_path(), config, tidelog::Durability::Explicit)
            .expect("open")
    }
    fn finish_log(&mut self, log: Self::Log) -> Vec<u8> {
        log.close().expect("close");
        std::fs::read(self.log_path()).expect("read the log file")
    }
    fn format_kv(&mut self, ws: usize, es: usize, cap: usize, config: KvConfig) -> Self::Kv {
        let d = tidelog::Durability::Explicit;
        tidelog::FileKv::create_with_geometry(self.kv_path(), cap as u64, ws, es, config, d)
            .expect("create kv")
    }
    fn reopen_kv(&mut self, kv: Self::Kv, config: KvConfig) -> Self::Kv {
        kv.close().expect("close kv");
        tidelog::FileKv::open(self.kv_path(), config, tidelog::Durability::Explicit)
            .expect("open kv")
    }
    fn finish_kv(&mut self, kv: Self::Kv) -> Vec<u8> {
        kv.close().expect("close kv");
        std::fs::read(self.kv_path()).expect("read the kv file")
    }
}

/// Runs a script on `VecStorage` (the Rust runner).
pub fn run(ops: &[(usize, Op)]) -> Outcome {
    run_on(&mut InMemory, ops)
}

/// Runs a script on `target`; the final images are read back (read-only) for the contents.
pub fn run_on<T: Target>(target: &mut T, ops: &[(usize, Op)]) -> Outcome {
    let mut out = Outcome::default();
    let mut log: Option<(T::Log, Config)> = None;
    let mut kv: Option<(T::Kv, KvConfig)> = None;
    for (line, op) in ops {
        let r: Result<Option<u64>, Error> = match op {
            Op::Log {
                ws,
                es,
                cap,
                config,
            } => {
                log = Some((target.format_log(*ws, *es, *cap, *config), *config));
                continue;
            }
            Op::Kv {
                ws,
                es,
                cap,
                config,
            } => {
                kv = Some((target.format_kv(*ws, *es, *cap, *config), *config));
                continue;
            }
            Op::Append(r) => lg(&mut log).append(r).map(Some),
            Op::Batch(rs) => {
                let refs: Vec<&[u8]> = rs.iter().map(Vec::as_slice).collect();
                lg(&mut log).append_batch(&refs).map(Some)
            }
            Op::Sync => lg(&mut log).sync().map(|()| None),
            Op::Commit(n, o) => lg(&mut log).commit(n, *o).map(|()| None),
            Op::Rewind(n, o) => lg(&mut log).rewind(n, *o).map(|()| None),
            Op::Remove(n) => lg(&mut log).remove_consumer(n).map(|()| None),
            Op::Trim(o) => lg(&mut log).trim_front(*o).map(|()| None),
            Op::Truncate(n) => lg(&mut log).truncate_back(*n).map(|()| None),
            Op::Reopen => {
                let (l, cfg) = log.take().expect("no log");
                log = Some((target.reopen_log(l, cfg), cfg));
                Ok(None)
            }
            Op::KvSet(k, v) => kvm(&mut kv).set(k, v).map(|()| None),
            Op::KvSetMultiple(pairs) => {
                let refs: Vec<(&[u8], &[u8])> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_slice(), v.as_slice()))
                    .collect();
                kvm(&mut kv).set_multiple(&refs).map(|()| None)
            }
            Op::KvDelete(k) => kvm(&mut kv).delete(k).map(|d| Some(d as u64)),
            Op::KvCompact => kvm(&mut kv).compact().map(|()| None),
            Op::KvReopen => {
                let (k, cfg) = kv.take().expect("no kv");
                kv = Some((target.reopen_kv(k, cfg), cfg));
                Ok(None)
            }
        };
        out.results.push((*line, r.map_err(code)));
    }
    if let Some((l, _)) = log {
        let img = target.finish_log(l);
        let c = read_image(&img).expect("the final log image reads back");
        (out.contents.first, out.contents.next) = (c.first, c.next);
        out.contents.records = c.records;
        out.contents.consumers = c.consumers;
        out.log_image = Some(img);
    }
    if let Some((k, _)) = kv {
        let img = target.finish_kv(k);
        out.contents.kv = read_image(&img).expect("the final KV image reads back").kv;
        out.kv_image = Some(img);
    }
    out
}

fn lg<L>(log: &mut Option<(L, Config)>) -> &mut L {
    &mut log.as_mut().expect("a log operation before `log`").0
}

fn kvm<K>(kv: &mut Option<(K, KvConfig)>) -> &mut K {
    &mut kv.as_mut().expect("a KV operation before `kv`").0
}

fn read_log<S: tidelog::Storage>(l: &mut Log<S, CONSUMERS>, c: &mut Contents) {
    let first = l.first_offset();
    c.first = Some(first);
    c.next = Some(l.next_offset());
    let mut cursor = l.cursor(first).expect("cursor");
    while let Some((off, rec)) = l.read_next_vec(&mut cursor).expect("read back") {
        c.records.push((off, rec));
    }
    c.consumers = l.consumers().map(|(n, o)| (n.to_string(), o)).collect();
}

/// The `.expect` text of an outcome.
pub fn expect_text(o: &Outcome) -> String {
    let mut s = String::new();
    for (line, r) in &o.results {
        match r {
            Ok(None) => writeln!(s, "result {line} ok"),
            Ok(Some(v)) => writeln!(s, "result {line} ok {v}"),
            Err(name) => writeln!(s, "result {line} err {name}"),
        }
        .unwrap();
    }
    let c = &o.contents;
    if let (Some(f), Some(n)) = (c.first, c.next) {
        writeln!(s, "first {f}\nnext {n}").unwrap();
    }
    for (off, r) in &c.records {
        writeln!(s, "record {off} {}", hex(r)).unwrap();
    }
    for (name, off) in &c.consumers {
        writeln!(s, "consumer {name} {off}").unwrap();
    }
    for (k, v) in &c.kv {
        writeln!(s, "kv {} {}", hex(k), hex(v)).unwrap();
    }
    if let Some(img) = &o.log_image {
        writeln!(
            s,
            "log_image {} {:08x}",
            img.len(),
            tidelog::format::crc32c(img)
        )
        .unwrap();
    }
    if let Some(img) = &o.kv_image {
        writeln!(
            s,
            "kv_image {} {:08x}",
            img.len(),
            tidelog::format::crc32c(img)
        )
        .unwrap();
    }
    s
}

/// The contents an `.expect` file describes.
pub fn parse_expect_contents(text: &str) -> Contents {
    let mut c = Contents::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "first" => c.first = Some(f[1].parse().unwrap()),
            "next" => c.next = Some(f[1].parse().unwrap()),
            "record" => c.records.push((f[1].parse().unwrap(), unhex(f[2]))),
            "consumer" => c.consumers.push((f[1].to_string(), f[2].parse().unwrap())),
            "kv" => c.kv.push((unhex(f[1]), unhex(f[2]))),
            _ => {}
        }
    }
    c
}

/// Opens an image read-only, geometry from the image, and reads what it holds: the log part of
/// `Contents` for a log image, the `kv` part for a KV image. The image is never changed.
pub fn read_image(image: &[u8]) -> Result<Contents, String> {
    let g = probe_geometry(image).map_err(|e| format!("probe: {e}"))?;
    let storage = VecStorage::from_image(image.to_vec()).map_err(|e| e.to_string())?;
    let mut c = Contents::default();
    match g.kind {
        ImageKind::Log(_) => {
            let mut l: Log<ReadOnly<VecStorage>, CONSUMERS> =
                Log::mount(ReadOnly::new(storage), Config::new()).map_err(|e| e.to_string())?;
            read_log(&mut l, &mut c);
            if l.storage().inner().as_slice() != image {
                return Err("the read-only mount changed the image".into());
            }
        }
        ImageKind::Kv(_) => {
            let mut k: Kv<ReadOnly<VecStorage>, MapIndex> =
                Kv::mount(ReadOnly::new(storage), KvConfig::new()).map_err(|e| e.to_string())?;
            c.kv = k.entries().map_err(|e| e.to_string())?;
        }
    }
    Ok(c)
}

/// Where `addr` lies in a log or KV image, named by its FORMAT.md field.
pub fn describe_addr(image: &[u8], addr: usize) -> String {
    let Ok(g) = probe_geometry(image) else {
        return format!("byte {addr:#x} (not a tidelog image)");
    };
    match g.kind {
        ImageKind::Log(l) => describe_log_addr(image, &l, addr),
        ImageKind::Kv(h) => {
            let part = h.partition_size as usize;
            let (p, at) = (addr / part, addr % part);
            if p >= 2 {
                return format!("byte {addr:#x}: past both KV partitions (unused sector)");
            }
            let ds = tidelog::kv::format::data_start(h.write_size as usize);
            let field = match at {
                0..=3 => "magic",
                4..=5 => "version",
                6..=7 => "header_len",
                8..=15 => "generation",
                16..=17 => "write_size",
                18 => "max_key_len",
                19 => "reserved",
                20..=23 => "erase_size",
                24..=27 => "partition_size",
                28..=31 => "max_value_len",
                32..=35 => "compacted_end",
                36..=39 => "header CRC-32C",
                a if a < ds => "header padding",
                _ => "",
            };
            if field.is_empty() {
                format!("byte {addr:#x}: KV partition {p}, frames at {at:#x} (§K3)")
            } else {
                format!("byte {addr:#x}: KV partition {p} header: {field} (§K2)")
            }
        }
    }
}

fn describe_log_addr(image: &[u8], l: &Layout, addr: usize) -> String {
    let seg = l.segment_size as usize;
    let (i, at) = (addr / seg, addr % seg);
    if i >= l.segment_count as usize {
        return format!("byte {addr:#x}: past the last segment (unused sector, §2)");
    }
    if at < FIXED_HEADER_LEN {
        let field = match at {
            0..=3 => "magic",
            4..=5 => "version",
            6..=7 => "header_len",
            8..=15 => "seq",
            16..=23 => "base_offset",
            24..=31 => "prev_seq",
            32..=35 => "prev_index",
            36..=37 => "write_size",
            38 => "max_consumers",
            39 => "reserved",
            40..=43 => "erase_size",
            44..=47 => "segment_size",
            48..=51 => "segment_count",
            52..=55 => "index_interval",
            56..=59 => "max_record_size",
            _ => "fixed header CRC-32C",
        };
        return format!("byte {addr:#x}: segment {i} header: {field} (§3)");
    }
    let base = i * seg;
    let fixed: [u8; FIXED_HEADER_LEN] = image[base..base + FIXED_HEADER_LEN].try_into().unwrap();
    let header_len =
        header::decode_fixed(&fixed).map_or(FIXED_HEADER_LEN, |h| h.header_len as usize);
    if at < header_len {
        return format!("byte {addr:#x}: segment {i} header: checkpoint (state block, §3, §5)");
    }
    if at >= l.index_start() as usize {
        let slot = (at - l.index_start() as usize) / l.slot_size() as usize;
        return format!("byte {addr:#x}: segment {i} index slot {slot} (§6)");
    }
    if at < l.data_start(header_len) as usize {
        return format!("byte {addr:#x}: segment {i} header padding (§3)");
    }
    // The frame holding `at`: walk the frame lengths from data_start.
    let mut pos = l.data_start(header_len) as usize;
    while pos < l.index_start() as usize {
        let b = &image[base + pos..base + pos + 4];
        if b.iter().all(|&x| x == 0xFF) {
            break;
        }
        let body = u32::from_le_bytes([b[1], b[2], b[3], 0]) as usize;
        let size = l.frame_size(body);
        if at < pos + size {
            return format!(
                "byte {addr:#x}: segment {i} frame at {:#x} (kind {:?}, byte {} of it, §4)",
                base + pos,
                b[0] as char,
                at - pos
            );
        }
        pos += size;
    }
    format!("byte {addr:#x}: segment {i} free data area (§2, §4)")
}

/// Compares two images of one scenario: `None` when byte-identical, else a report naming the
/// first differing byte and its field.
pub fn compare_images(what: &str, expected: &[u8], got: &[u8]) -> Option<String> {
    if expected == got {
        return None;
    }
    if expected.len() != got.len() {
        return Some(format!(
            "{what}: {} bytes, expected {} (Rust)",
            got.len(),
            expected.len()
        ));
    }
    let at = expected.iter().zip(got).position(|(a, b)| a != b).unwrap();
    let differ = expected.iter().zip(got).filter(|(a, b)| a != b).count();
    Some(format!(
        "{what}: {differ} bytes differ; first at {} — expected {:#04x} (Rust), got {:#04x}",
        describe_addr(expected, at),
        expected[at],
        got[at]
    ))
}

/// The image files a runner writes for scenario `name` into `dir`.
pub fn image_paths(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{name}.log.bin")),
        dir.join(format!("{name}.kv.bin")),
    )
}

/// Writes an outcome's images into `dir`.
pub fn write_images(dir: &Path, name: &str, o: &Outcome) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let (lp, kp) = image_paths(dir, name);
    if let Some(i) = &o.log_image {
        std::fs::write(lp, i)?;
    }
    if let Some(i) = &o.kv_image {
        std::fs::write(kp, i)?;
    }
    Ok(())
}

/// Reads back every image of every scenario found in `dir` and checks it against the
/// scenario's `.expect`: the failures, one line each.
pub fn check_dir(dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for name in scenario_names() {
        let expect = std::fs::read_to_string(scenarios_dir().join(format!("{name}.expect")))
            .unwrap_or_default();
        let want = parse_expect_contents(&expect);
        let (lp, kp) = image_paths(dir, &name);
        for (path, is_kv) in [(lp, false), (kp, true)] {
            let Ok(img) = std::fs::read(&path) else {
                continue;
            };
            match read_image(&img) {
                Err(e) => failures.push(format!("{name}: {}: {e}", path.display())),
                Ok(got) => {
                    let ok = if is_kv {
                        got.kv == want.kv
                    } else {
                        (got.first, got.next, &got.records, &got.consumers)
                            == (want.first, want.next, &want.records, &want.consumers)
                    };
                    if !ok {
                        failures.push(format!(
                            "{name}: {} reads back other contents than expected",
                            path.display()
                        ));
                    }
                }
            }
        }
    }
    failures
}

/// Compares every image in `other` with the Rust one in `rust`: the mismatches, one each.
pub fn compare_dirs(rust: &Path, other: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for name in scenario_names() {
        let (rl, rk) = image_paths(rust, &name);
        let (ol, ok) = image_paths(other, &name);
        for (r, o, what) in [(rl, ol, "log image"), (rk, ok, "KV image")] {
            let Ok(want) = std::fs::read(&r) else {
                continue;
            };
            match std::fs::read(&o) {
                Err(_) => out.push(format!("{name}: {what} missing in {}", other.display())),
                Ok(got) => {
                    if let Some(m) = compare_images(&format!("{name}: {what}"), &want, &got) {
                        out.push(m);
                    }
                }
            }
        }
    }
    out
}

/// Results keyed by line, from an `.expect` text (for runners that compare result by result).
pub fn parse_expect_results(text: &str) -> BTreeMap<usize, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("result "))
        .filter_map(|r| {
            let (line, rest) = r.split_once(' ')?;
            Some((line.parse().ok()?, rest.to_string()))
        })
        .collect()
}
