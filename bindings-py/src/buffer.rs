//! Bytes-like arguments without a copy: `bytes` directly, anything else (bytearray,
//! memoryview, array.array, mmap, numpy arrays, ...) through the buffer protocol.
//!
//! pyo3's `PyBuffer` is not available with `abi3-py39`: the buffer protocol entered the
//! *limited* API in Python 3.11 (with the layout of `Py_buffer` and the two functions below
//! unchanged since 3.3). So this module declares those two functions and the struct itself,
//! exactly as CPython's `Include/pybuffer.h` does; on 3.11+ they are part of the stable ABI,
//! on 3.9 and 3.10 the interpreter exports them with the same layout (on Linux and macOS,
//! where extension modules resolve symbols against the running interpreter).
//!
//! A held view keeps its exporter from resizing or freeing the memory (a `bytearray` refuses
//! to resize while exported), so the slices stay valid while the GIL is released. As with
//! `os.write` or `file.write`, which also release the GIL while they hold a buffer, changing a
//! buffer's contents from another thread while it is being appended is the caller's race.

use pyo3::exceptions::PyTypeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::ffi::{c_char, c_int, c_void};

/// CPython's `Py_buffer` (`Include/pybuffer.h`, identical since Python 3.3).
#[repr(C)]
struct RawBuffer {
    buf: *mut c_void,
    obj: *mut ffi::PyObject,
    len: ffi::Py_ssize_t,
    itemsize: ffi::Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut ffi::Py_ssize_t,
    strides: *mut ffi::Py_ssize_t,
    suboffsets: *mut ffi::Py_ssize_t,
    internal: *mut c_void,
}

/// `PyBUF_SIMPLE`: a contiguous run of bytes, no format or shape needed.
const PYBUF_SIMPLE: c_int = 0;

extern "C" {
    fn PyObject_GetBuffer(obj: *mut ffi::PyObject, view: *mut RawBuffer, flags: c_int) -> c_int;
    fn PyBuffer_Release(view: *mut RawBuffer);
}

/// The bytes of one bytes-like argument, borrowed from the Python object for as long as this
/// value lives (drop it with the GIL held: the view's release needs it).
pub struct Bytes<'py> {
    /// The exported bytes (found once, at extraction: `as_slice` is a plain read).
    ptr: *const u8,
    len: usize,
    keep: Keep<'py>,
}

enum Keep<'py> {
    /// Immutable: the object's own storage (this reference keeps it alive).
    Bytes { _owner: Bound<'py, PyAny> },
    /// A buffer view; boxed so its address stays fixed (exporters may point into it).
    View(Box<RawBuffer>),
}

impl<'py> Bytes<'py> {
    /// The bytes of `obj`. Errors: `TypeError` for an object that is not bytes-like (str,
    /// int, None, ...), `BufferError` for a non-contiguous buffer.
    pub fn extract(obj: &Bound<'py, PyAny>) -> PyResult<Self> {
        Self::extract_owned(obj.clone())
    }

    /// [`extract`](Self::extract) keeping the reference it is given (no second reference
    /// counted: what `extend` does for every record of an iterable).
    pub fn extract_owned(obj: Bound<'py, PyAny>) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            let bytes = b.as_bytes();
            return Ok(Bytes {
                ptr: bytes.as_ptr(),
                len: bytes.len(),
                keep: Keep::Bytes { _owner: obj },
            });
        }
        let mut view = Box::new(RawBuffer {
            buf: std::ptr::null_mut(),
            obj: std::ptr::null_mut(),
            len: 0,
            itemsize: 0,
            readonly: 0,
            ndim: 0,
            format: std::ptr::null_mut(),
            shape: std::ptr::null_mut(),
            strides: std::ptr::null_mut(),
            suboffsets: std::ptr::null_mut(),
            internal: std::ptr::null_mut(),
        });
        // SAFETY: `obj` is a live object (we hold the GIL through `obj`'s token) and `view`
        // points to a writable `Py_buffer`.
        let rc = unsafe { PyObject_GetBuffer(obj.as_ptr(), &mut *view, PYBUF_SIMPLE) };
        if rc != 0 {
            let py = obj.py();
            return Err(PyErr::take(py).unwrap_or_else(|| {
                PyTypeError::new_err(format!(
                    "a bytes-like object is required, not '{}'",
                    obj.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            }));
        }
        let Ok(len) = usize::try_from(view.len) else {
            // SAFETY: the view was filled by a successful PyObject_GetBuffer.
            unsafe { PyBuffer_Release(&mut *view) };
            return Err(PyTypeError::new_err(
                "the object exported an invalid buffer",
            ));
        };
        if view.buf.is_null() && len != 0 {
            // SAFETY: as above.
            unsafe { PyBuffer_Release(&mut *view) };
            return Err(PyTypeError::new_err(
                "the object exported an invalid buffer",
            ));
        }
        // An empty buffer may export a null pointer; a slice needs a non-null one.
        let ptr = if len == 0 {
            std::ptr::NonNull::<u8>::dangling().as_ptr().cast_const()
        } else {
            view.buf as *const u8
        };
        Ok(Bytes {
            ptr,
            len,
            keep: Keep::View(view),
        })
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr`/`len` are the contents of a `bytes` object this value holds a
        // reference to (immutable for its lifetime), or the `len` contiguous bytes a
        // successful `PyObject_GetBuffer` with `PyBUF_SIMPLE` exported, valid until the view
        // is released (in `drop`); `ptr` is non-null and `len` fits the object's size.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Bytes<'_> {
    fn drop(&mut self) {
        if let Keep::View(v) = &mut self.keep {
            // SAFETY: the view was filled by a successful PyObject_GetBuffer and is released
            // once, with the GIL held: `Bytes` holds a `Bound` or a raw pointer (neither is
            // `Send`), so it never leaves the attached thread; only its borrowed slice enters
            // `Python::detach`.
            unsafe { PyBuffer_Release(&mut **v) };
        }
    }
}

/// Every item of `iterable` as [`Bytes`]. `what` names the argument in the error for an item
/// that is not bytes-like.
pub fn collect<'py>(iterable: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bytes<'py>>> {
    if iterable.is_instance_of::<PyBytes>() || iterable.is_instance_of::<pyo3::types::PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what} takes an iterable of bytes-like records, not a single '{}'",
            iterable.get_type().name()?
        )));
    }
    let mut out = Vec::new();
    for (i, item) in iterable.try_iter()?.enumerate() {
        out.push(Bytes::extract_owned(item?).map_err(|e| {
            if e.is_instance_of::<PyTypeError>(iterable.py()) {
                PyTypeError::new_err(format!("{what}: record {i}: {}", e.value(iterable.py())))
            } else {
                e
            }
        })?);
    }
    Ok(out)
}
