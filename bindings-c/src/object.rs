//! The opaque objects a C program allocates (statically, on the stack, anywhere): `tl_log_t`,
//! `tl_iter_t`, `tl_kv_t`. Each is declared in the header as a byte array of a size known at
//! compile time, in a union with `uint64_t` and `void *` for its alignment; inside, a
//! [`Slot`] holds a *state word* and the real Rust object:
//!
//! | type | holds |
//! |---|---|
//! | `tl_log_t` | [`CLog`] = `Log<CallbackStorage, 16>` (16 consumer cursors) |
//! | `tl_iter_t` | [`IterBody`]: a `ReadCursor` and the address of its log object |
//! | `tl_kv_t` | [`CKv`] = `Kv<CallbackStorage, ScanIndex>` (no heap) |
//!
//! The state word says what the object holds: *ready* (mounted / initialised), *busy* (a call
//! is running on it) or anything else (not mounted: a zeroed object, an unmounted one, another
//! kind of object). Every call checks the pointer (NULL, alignment), then the state word,
//! marks the object busy for the call's duration — so a storage callback that calls back into
//! it gets `TL_ERR_BUSY` instead of a second `&mut` — and marks it ready again.
//!
//! The sizes in the header are upper bounds with a little headroom, per pointer width: the
//! compiler checks below that every real type fits and is aligned, on every target this crate
//! is built for.

use core::ffi::c_void;
use core::mem::{align_of, size_of, MaybeUninit};
use core::ptr::addr_of_mut;

use crate::status::{tl_status, Fail};
use crate::storage::CallbackStorage;

/// The log a `tl_log_t` holds: 16 consumer cursors (the most an image may hold, so every
/// image mounts), the full policy chosen at run time.
pub(crate) type CLog = tl::Log<CallbackStorage, { TL_MAX_CONSUMERS as usize }>;
/// The KV a `tl_kv_t` holds (lookups scan the journal: no heap).
pub(crate) type CKv = tl::Kv<CallbackStorage, tl::ScanIndex>;

/// What a `tl_iter_t` holds.
#[derive(Debug)]
pub(crate) struct IterBody {
    /// The log object the iterator was made on (an iterator reads only that one).
    pub(crate) owner: *const c_void,
    /// The read position.
    pub(crate) cursor: tl::ReadCursor,
}

/// Consumer cursors a log holds (every image, whatever its own capacity, mounts).
pub const TL_MAX_CONSUMERS: u32 = 16;

/// Bytes of a `tl_log_t` (64-bit targets).
#[cfg(target_pointer_width = "64")]
pub const TL_LOG_SIZE: usize = 992;
/// Bytes of a `tl_iter_t` (64-bit targets).
#[cfg(target_pointer_width = "64")]
pub const TL_ITER_SIZE: usize = 272;
/// Bytes of a `tl_kv_t` (64-bit targets).
#[cfg(target_pointer_width = "64")]
pub const TL_KV_SIZE: usize = 160;

/// Bytes of a `tl_log_t` (32-bit targets).
#[cfg(target_pointer_width = "32")]
pub const TL_LOG_SIZE: usize = 976;
/// Bytes of a `tl_iter_t` (32-bit targets).
#[cfg(target_pointer_width = "32")]
pub const TL_ITER_SIZE: usize = 256;
/// Bytes of a `tl_kv_t` (32-bit targets).
#[cfg(target_pointer_width = "32")]
pub const TL_KV_SIZE: usize = 128;

/// A mounted log. Zero-initialise it (a static object is) or mount it before any other
/// call; it holds no pointer into itself, and moving it while mounted is allowed (its
/// iterators then report `TL_ERR_WRONG_OBJECT`).
#[repr(C)]
pub union tl_log_t {
    /// The object's bytes (opaque).
    pub _bytes: [u8; TL_LOG_SIZE],
    /// Alignment.
    pub _align_u64: u64,
    /// Alignment.
    pub _align_ptr: *mut c_void,
}

/// A read position in a log, from `tl_iter_init`.
#[repr(C)]
pub union tl_iter_t {
    /// The object's bytes (opaque).
    pub _bytes: [u8; TL_ITER_SIZE],
    /// Alignment.
    pub _align_u64: u64,
    /// Alignment.
    pub _align_ptr: *mut c_void,
}

/// A mounted KV journal. Zero-initialise it or mount it before any other call.
#[repr(C)]
pub union tl_kv_t {
    /// The object's bytes (opaque).
    pub _bytes: [u8; TL_KV_SIZE],
    /// Alignment.
    pub _align_u64: u64,
    /// Alignment.
    pub _align_ptr: *mut c_void,
}

/// The inside of an object: the state word, then the real object.
#[repr(C)]
pub(crate) struct Slot<T> {
    state: u32,
    value: MaybeUninit<T>,
}

/// The state words of one kind of object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kind {
    ready: u32,
    busy: u32,
}

/// A `tl_log_t`.
pub(crate) const LOG: Kind = Kind {
    ready: 0x7E1D_1061,
    busy: 0x7E1D_1062,
};
/// A `tl_iter_t`.
pub(crate) const ITER: Kind = Kind {
    ready: 0x7E1D_1171,
    busy: 0x7E1D_1172,
};
/// A `tl_kv_t`.
pub(crate) const KV: Kind = Kind {
    ready: 0x7E1D_0CF1,
    busy: 0x7E1D_0CF2,
};
/// Anything but a ready or busy word: not mounted.
const UNMOUNTED: u32 = 0;

/// A C object type and the Rust object inside it.
pub(crate) trait Object {
    /// The Rust object.
    type Inner;
    /// Its state words.
    const KIND: Kind;
}
impl Object for tl_log_t {
    type Inner = CLog;
    const KIND: Kind = LOG;
}
impl Object for tl_iter_t {
    type Inner = IterBody;
    const KIND: Kind = ITER;
}
impl Object for tl_kv_t {
    type Inner = CKv;
    const KIND: Kind = KV;
}

// Every real object fits its C object and is aligned for it (see the module docs): when the
// core grows, raise the size above and regenerate the header (scripts/test-c.sh says how).
const _: () = {
    assert!(
        size_of::<Slot<CLog>>() <= size_of::<tl_log_t>(),
        "TL_LOG_SIZE too small"
    );
    assert!(align_of::<Slot<CLog>>() <= align_of::<tl_log_t>());
    assert!(
        size_of::<Slot<IterBody>>() <= size_of::<tl_iter_t>(),
        "TL_ITER_SIZE too small"
    );
    assert!(align_of::<Slot<IterBody>>() <= align_of::<tl_iter_t>());
    assert!(
        size_of::<Slot<CKv>>() <= size_of::<tl_kv_t>(),
        "TL_KV_SIZE too small"
    );
    assert!(align_of::<Slot<CKv>>() <= align_of::<tl_kv_t>());
};

/// The byte range `[start, end)` of an object, for overlap checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    /// First byte.
    pub(crate) start: usize,
    /// One past the last byte.
    pub(crate) end: usize,
}

impl Span {
    /// The bytes of `*obj`.
    pub(crate) fn of<O>(obj: *const O) -> Span {
        let start = obj as usize;
        Span {
            start,
            end: start.saturating_add(size_of::<O>()),
        }
    }

    /// Whether `[addr, addr + len)` overlaps it.
    pub(crate) fn overlaps(&self, addr: usize, len: usize) -> bool {
        len != 0 && addr < self.end && addr.saturating_add(len) > self.start
    }
}

/// Checks a pointer to an object: not NULL, aligned for its slot.
fn slot<O: Object>(obj: *mut O) -> Result<*mut Slot<O::Inner>, Fail> {
    if obj.is_null() {
        return Err(Fail::of(tl_status::TL_ERR_NULL_POINTER));
    }
    if !(obj as usize).is_multiple_of(align_of::<Slot<O::Inner>>()) {
        return Err(Fail::of(tl_status::TL_ERR_UNALIGNED));
    }
    Ok(obj.cast())
}

/// Checks `obj` (not NULL, aligned to `align`, holding a ready object of `kind`) and marks it
/// busy; returns its state word. Out of line: one copy serves every function.
#[inline(never)]
fn enter(obj: *mut u8, align: usize, kind: Kind) -> Result<*mut u32, Fail> {
    if obj.is_null() {
        return Err(Fail::of(tl_status::TL_ERR_NULL_POINTER));
    }
    if !(obj as usize).is_multiple_of(align) {
        return Err(Fail::of(tl_status::TL_ERR_UNALIGNED));
    }
    // The state word is the first field of every `Slot` (`repr(C)`).
    let state = obj.cast::<u32>();
    // SAFETY: non-NULL and aligned, inside a live object (the contract of the callers); the
    // state word is plain data.
    let word = unsafe { state.read() };
    if word == kind.busy {
        return Err(Fail::of(tl_status::TL_ERR_BUSY));
    }
    if word != kind.ready {
        return Err(Fail::of(tl_status::TL_ERR_NOT_MOUNTED));
    }
    unsafe { state.write(kind.busy) };
    Ok(state)
}

/// Runs `f` on the object `obj` holds, marked busy meanwhile.
///
/// Errors: `TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`, `TL_ERR_NOT_MOUNTED`, or
/// `f`'s.
///
/// # Safety
/// `obj` is NULL or points to a `O` the caller may read and write (the C API's contract: an
/// object that is zeroed, or was set up by this library).
pub(crate) unsafe fn with<O: Object, R>(
    obj: *mut O,
    f: impl FnOnce(&mut O::Inner) -> Result<R, Fail>,
) -> Result<R, Fail> {
    let state = enter(obj.cast(), align_of::<Slot<O::Inner>>(), O::KIND)?;
    let slot = obj.cast::<Slot<O::Inner>>();
    // SAFETY: a ready word means `value` was initialised by `set` (below) and is not borrowed
    // (the busy word keeps re-entrant calls out). The state word is not part of the borrow.
    let inner = unsafe { &mut *addr_of_mut!((*slot).value).cast::<O::Inner>() };
    let r = f(inner);
    unsafe { state.write(O::KIND.ready) };
    r
}

/// Runs `f` on two objects at once (an iterator and its log), both marked busy meanwhile.
///
/// Errors: those of [`with`], `TL_ERR_WRONG_OBJECT` when the two overlap.
///
/// # Safety
/// As for [`with`], for both pointers.
pub(crate) unsafe fn with2<A: Object, B: Object, R>(
    a: *mut A,
    b: *mut B,
    f: impl FnOnce(&mut A::Inner, &mut B::Inner) -> Result<R, Fail>,
) -> Result<R, Fail> {
    // Check both before marking either busy, so an error leaves both as they were.
    let (sa, sb) = (Span::of(a), Span::of(b));
    slot(a)?;
    slot(b)?;
    if sa.overlaps(sb.start, sb.end - sb.start) {
        return Err(Fail::of(tl_status::TL_ERR_WRONG_OBJECT));
    }
    // SAFETY: the contract; the objects are disjoint, so the two borrows are too.
    unsafe { with(a, |x| with(b, |y| f(x, y))) }
}

/// Puts what `make` returns into `obj` (format, mount, iterator init), replacing what it
/// held. The object is busy while `make` runs and ready after it succeeds; after an error it
/// is not mounted.
///
/// Errors: `TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`, `TL_ERR_WRONG_OBJECT`
/// (a live object of another kind), or `make`'s.
///
/// # Safety
/// As for [`with`].
pub(crate) unsafe fn set<O: Object>(
    obj: *mut O,
    make: impl FnOnce() -> Result<O::Inner, Fail>,
) -> Result<(), Fail> {
    let slot = slot(obj)?;
    // SAFETY: as in `with`.
    let state = unsafe { addr_of_mut!((*slot).state) };
    let word = unsafe { state.read() };
    if word == O::KIND.busy {
        return Err(Fail::of(tl_status::TL_ERR_BUSY));
    }
    // A live object of another kind (a `tl_iter_t *` passed to `tl_log_mount`, say): refused
    // rather than overwritten (it may be smaller).
    if [LOG, ITER, KV]
        .iter()
        .any(|k| k.ready != O::KIND.ready && (word == k.ready || word == k.busy))
    {
        return Err(Fail::of(tl_status::TL_ERR_WRONG_OBJECT));
    }
    unsafe { state.write(O::KIND.busy) };
    match make() {
        Ok(v) => {
            // SAFETY: `value` is not borrowed (the object was busy: no other call holds it);
            // what it held before needs no drop (plain data).
            unsafe { addr_of_mut!((*slot).value).write(MaybeUninit::new(v)) };
            unsafe { state.write(O::KIND.ready) };
            Ok(())
        }
        Err(e) => {
            unsafe { state.write(UNMOUNTED) };
            Err(e)
        }
    }
}

/// Marks `obj` not mounted (unmount, iterator done).
///
/// Errors: `TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`, `TL_ERR_NOT_MOUNTED`.
///
/// # Safety
/// As for [`with`].
pub(crate) unsafe fn clear<O: Object>(obj: *mut O) -> Result<(), Fail> {
    // SAFETY: the contract.
    unsafe { with(obj, |_| Ok(())) }?;
    let slot = slot(obj)?;
    // SAFETY: as in `with`; the object is ready and not borrowed.
    unsafe { addr_of_mut!((*slot).state).write(UNMOUNTED) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sizes_leave_little_headroom() {
        // The header's sizes are bounds; keep them honest (RAM is what firmware counts).
        let pairs = [
            (size_of::<Slot<CLog>>(), TL_LOG_SIZE),
            (size_of::<Slot<IterBody>>(), TL_ITER_SIZE),
            (size_of::<Slot<CKv>>(), TL_KV_SIZE),
        ];
        for (real, declared) in pairs {
            eprintln!("real {real} declared {declared}");
            assert!(real <= declared);
            assert!(
                declared - real <= 64,
                "lower the declared size to {real} + headroom"
            );
        }
    }
}
