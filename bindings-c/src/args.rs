//! C arguments to Rust values and results back: buffers, consumer names, out-parameters.
//!
//! The rules every function follows: a buffer may be NULL when its length is 0 (an empty
//! record, a size query); otherwise NULL is `TL_ERR_NULL_POINTER`. A buffer that overlaps the
//! object it is passed with is `TL_ERR_WRONG_OBJECT` (the call would write the object's own
//! bytes). Out-parameters may be NULL where the header says "optional"; they are written with
//! unaligned stores.

use core::ffi::{c_char, c_void};

use crate::object::Span;
use crate::status::{tl_status, Fail};

/// One record of a batch: `len` bytes at `data` (`data` may be NULL when `len` is 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tl_buf_t {
    /// The bytes.
    pub data: *const c_void,
    /// How many.
    pub len: usize,
}

/// Most records in one `tl_log_append_batch` (the binding lays the batch out on the stack:
/// 8 bytes per record on a 32-bit target).
pub const TL_BATCH_MAX: u32 = 32;

/// An input buffer: `len` bytes at `ptr`.
///
/// # Safety
/// `ptr` is NULL or valid for reads of `len` bytes for `'a`.
pub(crate) unsafe fn input<'a>(
    obj: &[Span],
    ptr: *const c_void,
    len: usize,
) -> Result<&'a [u8], Fail> {
    if len == 0 {
        return Ok(&[]);
    }
    check(obj, ptr as usize, len)?;
    // SAFETY: non-NULL (checked) and valid for `len` bytes (the contract).
    Ok(unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// An output buffer: `cap` bytes at `ptr`.
///
/// # Safety
/// `ptr` is NULL or valid for writes of `cap` bytes for `'a`.
pub(crate) unsafe fn output<'a>(
    obj: &[Span],
    ptr: *mut c_void,
    cap: usize,
) -> Result<&'a mut [u8], Fail> {
    if cap == 0 {
        return Ok(&mut []);
    }
    check(obj, ptr as usize, cap)?;
    // SAFETY: non-NULL (checked) and valid for `cap` bytes (the contract); not the object.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr.cast::<u8>(), cap) })
}

/// Checks a buffer of non-zero length: not NULL (`TL_ERR_NULL_POINTER`), not overlapping
/// any of the objects, not wrapping the address space (`TL_ERR_WRONG_OBJECT`).
pub(crate) fn check(obj: &[Span], addr: usize, len: usize) -> Result<(), Fail> {
    if addr == 0 {
        Err(Fail::of(tl_status::TL_ERR_NULL_POINTER))
    } else if obj.iter().any(|o| o.overlaps(addr, len)) || addr.checked_add(len).is_none() {
        Err(Fail::of(tl_status::TL_ERR_WRONG_OBJECT))
    } else {
        Ok(())
    }
}

/// A required out-parameter: checked before the call does anything.
pub(crate) fn required<T>(ptr: *mut T) -> Result<*mut T, Fail> {
    if ptr.is_null() {
        Err(Fail::of(tl_status::TL_ERR_NULL_POINTER))
    } else {
        Ok(ptr)
    }
}

/// Writes `v` to an out-parameter, if it is not NULL.
///
/// # Safety
/// `ptr` is NULL or valid for a write of a `T` (any alignment).
pub(crate) unsafe fn put<T>(ptr: *mut T, v: T) {
    if !ptr.is_null() {
        // SAFETY: the contract.
        unsafe { ptr.write_unaligned(v) };
    }
}

/// A consumer name: a NUL-terminated UTF-8 string of 1..=`TL_MAX_CONSUMER_NAME` bytes. At
/// most `TL_MAX_CONSUMER_NAME + 1` bytes are read.
///
/// Errors: `TL_ERR_NULL_POINTER`; `TL_ERR_INVALID_NAME` when it is longer or not UTF-8 (the
/// core refuses an empty one with the same status).
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string (or to at least
/// `TL_MAX_CONSUMER_NAME + 1` readable bytes) that lives for `'a`.
pub(crate) unsafe fn name<'a>(obj: &[Span], ptr: *const c_char) -> Result<&'a str, Fail> {
    if ptr.is_null() {
        return Err(Fail::of(tl_status::TL_ERR_NULL_POINTER));
    }
    let max = tl::MAX_CONSUMER_NAME;
    let mut len = 0;
    // SAFETY: reads stop at the NUL or after `max + 1` bytes (the contract).
    while len <= max && unsafe { ptr.add(len).read() } != 0 {
        len += 1;
    }
    if len > max {
        return Err(Fail::of(tl_status::TL_ERR_INVALID_NAME));
    }
    check(obj, ptr as usize, len + 1)?;
    // SAFETY: `len` bytes before the NUL were just read.
    let bytes = unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    // The core's own check of stored cursor names (a fraction of `core::str::from_utf8`'s
    // code, which firmware would link for this alone; it decides the same, a core test shows).
    if !tl::format::state::is_utf8(bytes) {
        return Err(Fail::of(tl_status::TL_ERR_INVALID_NAME));
    }
    // SAFETY: UTF-8, checked above.
    Ok(unsafe { core::str::from_utf8_unchecked(bytes) })
}

/// Lays a C array of `count` buffers out as Rust slices in `out` (the batch functions' stack
/// array) and returns the part used.
///
/// Errors: `TL_ERR_TOO_LARGE` when `count > out.len()`, `TL_ERR_INVALID_ARGUMENT` for 0,
/// `TL_ERR_NULL_POINTER` for a NULL array or a NULL buffer of non-zero length,
/// `TL_ERR_WRONG_OBJECT` for a buffer overlapping the object.
///
/// # Safety
/// `bufs` is NULL or valid for reads of `count` elements, each of them valid per [`input`].
pub(crate) unsafe fn batch<'a, 'o, const N: usize>(
    obj: &[Span],
    bufs: *const tl_buf_t,
    count: usize,
    out: &'o mut [&'a [u8]; N],
) -> Result<&'o [&'a [u8]], Fail> {
    if count == 0 {
        return Err(Fail::of(tl_status::TL_ERR_INVALID_ARGUMENT));
    }
    if count > N {
        return Err(Fail::of(tl_status::TL_ERR_TOO_LARGE));
    }
    check(obj, bufs as usize, count * core::mem::size_of::<tl_buf_t>())?;
    for (i, slot) in out.iter_mut().take(count).enumerate() {
        // SAFETY: `i < count` (the contract).
        let b = unsafe { bufs.add(i).read_unaligned() };
        *slot = unsafe { input(obj, b.data, b.len) }?;
    }
    Ok(&out[..count])
}
