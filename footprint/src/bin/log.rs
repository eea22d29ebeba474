//! tidelog, the log only: mount (formatting a blank medium), append, read by offset, iterate,
//! trim, sync — over the flash stub through the `NorFlashStorage` adapter, the way firmware
//! uses it. Every input comes from `black_box` and every result goes to it.
#![no_std]
#![no_main]

#[path = "../rt.rs"]
mod rt;

use core::hint::black_box;
use rt::StubFlash;
use tidelog::{policy, Config, Error, Log, NorFlashStorage};

/// The firmware configuration: 4 consumer cursors (the default), ring buffer.
type FwLog = Log<NorFlashStorage<StubFlash>, 4, policy::OverwriteOldest>;

#[link_section = ".footprint_info"]
#[used]
static INFO: [rt::Info; 1] = [rt::info(
    "size_of Log<NorFlash,4>",
    core::mem::size_of::<FwLog>(),
)];

fn config() -> Config {
    Config::new()
        .index_interval(black_box(256))
}

fn mount() -> FwLog {
    loop {
        let storage = NorFlashStorage::new(StubFlash::take());
        match Log::mount(storage, config()) {
            Ok(log) => return log,
            Err(Error::NotFormatted) => {
                let storage = NorFlashStorage::new(StubFlash::take());
                if let Ok(log) = Log::format(storage, config()) {
                    return log;
                }
            }
            Err(e) => {
                black_box(e);
            }
        }
    }
}

fn app() -> ! {
    let mut log = mount();
    let mut buf = [0u8; 64];
    loop {
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
    }
}
