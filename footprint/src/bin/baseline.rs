//! The empty baseline: start-up, vector table, panic handler and the flash stub with each of
//! its operations reachable (so `memcpy`/`memset` and the stub's own code cancel out of the
//! other probes' figures). No log, no peer.
#![no_std]
#![no_main]

#[path = "../rt.rs"]
mod rt;

use core::hint::black_box;
use rt::StubFlash;

fn app() -> ! {
    let mut flash = StubFlash::take();
    let mut buf = [0u8; 64];
    loop {
        let n = rt::opaque_len(buf.len());
        let _ = black_box(flash.do_erase(black_box(0), black_box(rt::ERASE_SIZE as u32)));
        let _ = black_box(flash.do_write(black_box(0), &rt::DATA[..n]));
        let _ = black_box(flash.do_read(black_box(0), &mut buf[..n]));
        black_box(&buf);
    }
}
