//! tidelog, the log and the KV journal side by side on one device (two `Partition`s of the
//! flash stub): everything the `log` probe does, plus KV mount (formatting a blank medium),
//! set, get, delete, set_multiple, the high-water flag and compaction. Every input comes from
//! `black_box` and every result goes to it.
#![no_std]
#![no_main]

#[path = "../rt.rs"]
mod rt;

use core::hint::black_box;
use rt::{StubFlash, CAPACITY};
use tidelog::{policy, Config, Error, Kv, KvConfig, Log, NorFlashStorage, Partition};

type Part = Partition<NorFlashStorage<StubFlash>>;
/// The firmware configuration: 4 consumer cursors (the default), ring buffer.
type FwLog = Log<Part, 4, policy::OverwriteOldest>;
/// The KV without a heap (`ScanIndex`, the default).
type FwKv = Kv<Part>;

#[link_section = ".footprint_info"]
#[used]
static INFO: [rt::Info; 2] = [
    rt::info("size_of Log<Partition,4>", core::mem::size_of::<FwLog>()),
    rt::info("size_of Kv<Partition>", core::mem::size_of::<FwKv>()),
];

/// The first half of the device holds the log, the second the KV.
fn part(second: bool) -> Part {
    let half = CAPACITY / 2;
    let start = if second { half as u32 } else { 0 };
    match Partition::new(NorFlashStorage::new(StubFlash::take()), start, half) {
        Ok(p) => p,
        Err(_) => loop {
            core::hint::spin_loop();
        },
    }
}

fn log_config() -> Config {
    Config::new()
        .index_interval(black_box(256))
}

fn kv_config() -> KvConfig {
    KvConfig::new()
        .max_key_len(black_box(32))
        .high_water_percent(black_box(75))
}

fn mount_log() -> FwLog {
    loop {
        match Log::mount(part(false), log_config()) {
            Ok(log) => return log,
            Err(Error::NotFormatted) => {
                if let Ok(log) = Log::format(part(false), log_config()) {
                    return log;
                }
            }
            Err(e) => {
                black_box(e);
            }
        }
    }
}

fn mount_kv() -> FwKv {
    loop {
        match Kv::mount(part(true), kv_config()) {
            Ok(kv) => return kv,
            Err(Error::NotFormatted) => {
                if let Ok(kv) = Kv::format(part(true), kv_config()) {
                    return kv;
                }
            }
            Err(e) => {
                black_box(e);
            }
        }
    }
}

fn app() -> ! {
    let mut log = mount_log();
    let mut kv = mount_kv();
    let mut buf = [0u8; 64];
    loop {
        // The log.
        let n = rt::opaque_len(rt::DATA.len());
        let r = log.append(&rt::DATA[..n]);
        black_box(&r);
        let r = log.read(black_box(r.unwrap_or(0)), &mut buf);
        black_box((&r, &buf));
        if let Ok(mut it) = log.iter(black_box(0)) {
            while let Ok(Some(rec)) = it.next_into(&mut buf) {
                black_box((rec, &buf));
            }
        }
        let _ = black_box(log.trim_front(black_box(1)));
        let _ = black_box(log.sync());
        // The KV.
        let key = &rt::DATA[..rt::opaque_len(8)];
        let _ = black_box(kv.set(key, &rt::DATA[..n]));
        let _ = black_box(kv.get(key, &mut buf));
        let _ = black_box(kv.delete(black_box(b"gone")));
        let pairs: [(&[u8], &[u8]); 2] = [(b"a", &rt::DATA[..n]), (b"b", key)];
        let _ = black_box(kv.set_multiple(black_box(&pairs)));
        if kv.is_high_water_mark_triggered() {
            let _ = black_box(kv.compact());
        }
        let _ = black_box(kv.sync());
    }
}
