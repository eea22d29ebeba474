//! What every probe shares (and the baseline contains too, so it cancels out of the figures):
//! the vector table, a reset handler that initialises RAM and calls the probe's `app`, a
//! panic handler, a tiny blocking executor, and the flash stub.
//!
//! The flash stub is a NOR flash in RAM (`.bss`): reads copy, programs AND bits in, erases
//! fill sectors with `0xFF`, with the bounds and alignment checks of a real driver. It
//! implements both the blocking `embedded-storage` traits (tidelog) and the async
//! `embedded-storage-async` ones (sequential-storage), one body for both.
#![allow(dead_code)]

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use embedded_storage::nor_flash::{self as blocking, NorFlashErrorKind};
use embedded_storage_async::nor_flash as nonblocking;

// ---------------------------------------------------------------------------------------------
// Start-up

extern "C" {
    static mut _sbss: u32;
    static mut _ebss: u32;
    static mut _sdata: u32;
    static mut _edata: u32;
    static _sidata: u32;
}

/// The reset handler: zero `.bss`, copy `.data`, run the probe.
#[no_mangle]
pub unsafe extern "C" fn Reset() -> ! {
    let mut p = &raw mut _sbss;
    while p < &raw mut _ebss {
        core::ptr::write_volatile(p, 0);
        p = p.add(1);
    }
    let (mut d, mut s) = (&raw mut _sdata, &raw const _sidata);
    while d < &raw mut _edata {
        core::ptr::write_volatile(d, core::ptr::read_volatile(s));
        d = d.add(1);
        s = s.add(1);
    }
    super::app()
}

extern "C" fn default_handler() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[link_section = ".vector_table.reset_vector"]
#[no_mangle]
#[used]
static RESET_VECTOR: unsafe extern "C" fn() -> ! = Reset;

/// NMI, HardFault, MemManage, BusFault, UsageFault, 4 reserved, SVCall, DebugMon, reserved,
/// PendSV, SysTick.
#[link_section = ".vector_table.exceptions"]
#[no_mangle]
#[used]
static EXCEPTIONS: [Option<extern "C" fn() -> !>; 14] = [
    Some(default_handler),
    Some(default_handler),
    Some(default_handler),
    Some(default_handler),
    Some(default_handler),
    None,
    None,
    None,
    None,
    Some(default_handler),
    Some(default_handler),
    None,
    Some(default_handler),
    Some(default_handler),
];

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// Polls `f` until it completes (the peer's futures never wait on anything but the stub).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The flash stub

/// Program unit of the stub.
pub const WRITE_SIZE: usize = 4;
/// Erase sector of the stub.
pub const ERASE_SIZE: usize = 4096;
/// Capacity of the stub: 8 sectors.
pub const CAPACITY: usize = 8 * ERASE_SIZE;

static mut MEM: [u8; CAPACITY] = [0; CAPACITY];

/// The NOR flash stub (the memory is a static, like a peripheral's).
#[derive(Debug)]
pub struct StubFlash(());

impl StubFlash {
    /// Takes the flash (call once).
    pub fn take() -> Self {
        StubFlash(())
    }

    // `&raw mut` then a reborrow: a plain `&mut MEM` would be a reference to a `static mut`.
    #[allow(clippy::deref_addrof)]
    fn mem(&mut self) -> &mut [u8; CAPACITY] {
        // SAFETY: `StubFlash` is taken once per probe and is the only user of `MEM`.
        unsafe { &mut *(&raw mut MEM) }
    }

    fn check(off: u32, len: usize, align: usize) -> Result<usize, NorFlashErrorKind> {
        let (a, end) = (off as usize, off as usize + len);
        if end > CAPACITY {
            Err(NorFlashErrorKind::OutOfBounds)
        } else if !a.is_multiple_of(align) || !len.is_multiple_of(align) {
            Err(NorFlashErrorKind::NotAligned)
        } else {
            Ok(a)
        }
    }

    /// Reads `buf.len()` bytes at `off`.
    pub fn do_read(&mut self, off: u32, buf: &mut [u8]) -> Result<(), NorFlashErrorKind> {
        let a = Self::check(off, buf.len(), 1)?;
        buf.copy_from_slice(&self.mem()[a..a + buf.len()]);
        Ok(())
    }

    /// Programs `bytes` at `off` (NOR: clears bits only).
    pub fn do_write(&mut self, off: u32, bytes: &[u8]) -> Result<(), NorFlashErrorKind> {
        let a = Self::check(off, bytes.len(), WRITE_SIZE)?;
        for (m, b) in self.mem()[a..a + bytes.len()].iter_mut().zip(bytes) {
            *m &= *b;
        }
        Ok(())
    }

    /// Erases the sectors of `from..to`.
    pub fn do_erase(&mut self, from: u32, to: u32) -> Result<(), NorFlashErrorKind> {
        if from > to {
            return Err(NorFlashErrorKind::OutOfBounds);
        }
        let a = Self::check(from, (to - from) as usize, ERASE_SIZE)?;
        self.mem()[a..to as usize].fill(0xFF);
        Ok(())
    }
}

impl blocking::ErrorType for StubFlash {
    type Error = NorFlashErrorKind;
}

impl blocking::ReadNorFlash for StubFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.do_read(offset, bytes)
    }
    fn capacity(&self) -> usize {
        CAPACITY
    }
}

impl blocking::NorFlash for StubFlash {
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = ERASE_SIZE;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.do_erase(from, to)
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.do_write(offset, bytes)
    }
}

impl nonblocking::ReadNorFlash for StubFlash {
    const READ_SIZE: usize = 1;
    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.do_read(offset, bytes)
    }
    fn capacity(&self) -> usize {
        CAPACITY
    }
}

impl nonblocking::NorFlash for StubFlash {
    const WRITE_SIZE: usize = WRITE_SIZE;
    const ERASE_SIZE: usize = ERASE_SIZE;
    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.do_erase(from, to)
    }
    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.do_write(offset, bytes)
    }
}

/// RAM "flash" can be rewritten (the peer's map needs this to remove items).
impl nonblocking::MultiwriteNorFlash for StubFlash {}

// ---------------------------------------------------------------------------------------------
// Inputs the optimiser cannot see through

/// Record payload source.
pub static DATA: [u8; 64] = [0x5A; 64];

/// A length in `0..=max` the compiler cannot predict.
#[inline(always)]
pub fn opaque_len(max: usize) -> usize {
    core::hint::black_box(max / 2) % (max + 1)
}

/// A figure a probe publishes for `measure.sh`: put an array of these in the section
/// `.footprint_info` (kept, not loaded).
#[repr(C)]
pub struct Info {
    /// The figure (e.g. a `size_of`).
    pub value: u32,
    /// What it is, NUL-padded.
    pub name: [u8; 28],
}

/// An [`Info`] record.
pub const fn info(name: &str, value: usize) -> Info {
    let b = name.as_bytes();
    let mut out = [0u8; 28];
    let mut i = 0;
    while i < b.len() && i < out.len() {
        out[i] = b[i];
        i += 1;
    }
    Info {
        value: value as u32,
        name: out,
    }
}
