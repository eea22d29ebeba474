//! `tl_storage_t`: the flash driver as a struct of callbacks (the shape of littlefs's
//! `lfs_config`), and [`CallbackStorage`], its adapter to the core's [`Storage`] trait.
//!
//! The adapter copies the struct when a log or KV is formatted or mounted (the caller's copy
//! may go away), checks that the required callbacks are there, keeps the geometry it was
//! given (the core validates it) and turns a callback's non-zero return into
//! `StorageError::Device(code)`, remembering the code for `tl_*_last_device_error`. It checks
//! every request against the geometry before calling the driver, so a driver never sees an
//! address outside `capacity` or a misaligned program or erase. An erase of several sectors
//! becomes one `erase` call per sector, in ascending address order.

use core::ffi::{c_int, c_void};
use tl::{Storage, StorageError};

/// A storage device: the driver's context, its geometry and its callbacks. Copied by
/// `tl_log_format` / `tl_log_mount` / `tl_kv_format` / `tl_kv_mount`; the callbacks and
/// `ctx` must stay valid while the object is mounted.
///
/// Every callback returns 0 on success; any other value fails the operation with
/// `TL_ERR_STORAGE_DEVICE`, and `tl_log_last_device_error` / `tl_kv_last_device_error`
/// return that value. The callbacks must not call back into the object they serve (that
/// returns `TL_ERR_BUSY`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tl_storage_t {
    /// Passed unchanged to every callback (the driver's state, e.g. a base address).
    pub ctx: *mut c_void,
    /// Read alignment in bytes: must be 1 (reads at any address and length).
    pub read_size: u32,
    /// Program unit in bytes: a power of two in 1..=256 (e.g. 8 for STM32L4, 32 for the ECC
    /// flash of STM32H7). Every program is a whole number of units, aligned, to erased units
    /// only: no unit is programmed twice between erases.
    pub write_size: u32,
    /// Erase sector in bytes: a power of two in 256..=262144, a multiple of `write_size`.
    pub erase_size: u32,
    /// Size of the device in bytes: a non-zero multiple of `erase_size`, at most 4 GiB minus
    /// one sector.
    pub capacity: u32,
    /// Copies `len` bytes at `addr` into `buf`. Erased bytes read `0xFF`.
    pub read: Option<
        unsafe extern "C" fn(ctx: *mut c_void, addr: u32, buf: *mut c_void, len: u32) -> c_int,
    >,
    /// Programs `len` bytes from `data` at `addr` (both multiples of `write_size`, all units
    /// erased). Programming clears bits only. Must take effect in the order issued.
    pub prog: Option<
        unsafe extern "C" fn(ctx: *mut c_void, addr: u32, data: *const c_void, len: u32) -> c_int,
    >,
    /// Erases the one sector that starts at `addr` (a multiple of `erase_size`) to `0xFF`.
    pub erase: Option<unsafe extern "C" fn(ctx: *mut c_void, addr: u32) -> c_int>,
    /// Durability barrier: returns once every program and erase before it survives power
    /// loss. May be NULL (raw NOR flash, where every program is durable when it returns).
    pub sync: Option<unsafe extern "C" fn(ctx: *mut c_void) -> c_int>,
}

/// A program callback.
type ProgFn = unsafe extern "C" fn(*mut c_void, u32, *const c_void, u32) -> c_int;
/// A read callback.
type ReadFn = unsafe extern "C" fn(*mut c_void, u32, *mut c_void, u32) -> c_int;
/// An erase callback.
type EraseFn = unsafe extern "C" fn(*mut c_void, u32) -> c_int;

/// The adapter from a [`tl_storage_t`] to the core's [`Storage`] (see the module docs).
#[derive(Debug)]
pub(crate) struct CallbackStorage {
    ctx: *mut c_void,
    read_size: u32,
    write_size: u32,
    erase_size: u32,
    capacity: u32,
    read: ReadFn,
    prog: ProgFn,
    erase: EraseFn,
    sync: Option<unsafe extern "C" fn(*mut c_void) -> c_int>,
    /// The last non-zero value a callback returned (0: none since mount).
    last_error: c_int,
}

impl CallbackStorage {
    /// Copies `dev`; `None` when a required callback (`read`, `prog`, `erase`) is NULL. The
    /// geometry is checked by the core's `format` / `mount`.
    pub(crate) fn new(dev: &tl_storage_t) -> Option<Self> {
        Some(CallbackStorage {
            ctx: dev.ctx,
            read_size: dev.read_size,
            write_size: dev.write_size,
            erase_size: dev.erase_size,
            capacity: dev.capacity,
            read: dev.read?,
            prog: dev.prog?,
            erase: dev.erase?,
            sync: dev.sync,
            last_error: 0,
        })
    }

    /// The last non-zero value a callback returned, 0 if none did since mount.
    pub(crate) fn last_device_error(&self) -> c_int {
        self.last_error
    }

    /// Checks a request against the geometry: inside the device, `addr` and `len` multiples
    /// of `align` (a power of two: validated geometry, or 1).
    fn check(&self, addr: u32, len: usize, align: u32) -> Result<u32, StorageError> {
        let end = addr as u64 + len as u64;
        if end > self.capacity as u64 {
            return Err(StorageError::OutOfBounds);
        }
        let mask = align.wrapping_sub(1);
        if addr & mask != 0 || (len as u32) & mask != 0 {
            return Err(StorageError::NotAligned);
        }
        Ok(len as u32)
    }

    fn done(&mut self, rc: c_int) -> Result<(), StorageError> {
        if rc == 0 {
            Ok(())
        } else {
            self.last_error = rc;
            Err(StorageError::Device(rc))
        }
    }
}

impl Storage for CallbackStorage {
    fn read_size(&self) -> usize {
        self.read_size as usize
    }
    fn write_size(&self) -> usize {
        self.write_size as usize
    }
    fn erase_size(&self) -> usize {
        self.erase_size as usize
    }
    fn capacity(&self) -> usize {
        self.capacity as usize
    }

    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        let len = self.check(addr, buf.len(), 1)?;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: `buf` is valid for `len` bytes; the callback's contract (tl_storage_t).
        let rc = unsafe { (self.read)(self.ctx, addr, buf.as_mut_ptr().cast(), len) };
        self.done(rc)
    }

    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        let len = self.check(addr, bytes.len(), self.write_size)?;
        if len == 0 {
            return Ok(());
        }
        // SAFETY: `bytes` is valid for `len` bytes; the callback's contract (tl_storage_t).
        let rc = unsafe { (self.prog)(self.ctx, addr, bytes.as_ptr().cast(), len) };
        self.done(rc)
    }

    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        if from > to {
            return Err(StorageError::OutOfBounds);
        }
        let es = self.erase_size;
        self.check(from, (to - from) as usize, es)?;
        let mut addr = from;
        while addr < to {
            // SAFETY: the callback's contract (tl_storage_t).
            let rc = unsafe { (self.erase)(self.ctx, addr) };
            self.done(rc)?;
            addr += es;
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        match self.sync {
            // SAFETY: the callback's contract (tl_storage_t).
            Some(sync) => {
                let rc = unsafe { sync(self.ctx) };
                self.done(rc)
            }
            None => Ok(()),
        }
    }
}
