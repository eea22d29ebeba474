//! The native module `tidelog._tidelog` of the Python package `tidelog`.
//!
//! A thin binding: every class converts arguments, calls the core (`tidelog`, `core/`) with
//! the GIL released, and maps its error to the exception class of its code
//! (`python/tidelog/_errors.py`). The Python package (`python/tidelog/`) re-exports these
//! classes and adds the pure-Python parts: the exception hierarchy, `KV` as a
//! `MutableMapping`, and the `tidelog` command.

mod args;
mod backend;
mod buffer;
mod errors;
mod iter;
mod kv;
mod log;
mod logdir;
mod values;

use pyo3::prelude::*;

/// A read-only log over a raw image: a flash dump or any bytes holding a tidelog log, given as
/// a path or a bytes-like object. The geometry (program unit 1..256 B, erase sector, segment
/// size) is read from the image; the image is never modified.
#[pyfunction]
fn open_image(py: Python<'_>, src: &Bound<'_, PyAny>) -> PyResult<log::Log> {
    let bytes = log::image_bytes(py, src)?;
    log::Log::from_image(py, bytes)
}

/// What an image (a path or a bytes-like object) holds and the geometry to mount it with.
#[pyfunction]
fn probe_image(py: Python<'_>, src: &Bound<'_, PyAny>) -> PyResult<values::ImageInfo> {
    use errors::IntoPy;
    let bytes = log::image_bytes(py, src)?;
    py.detach(|| tidelog::image::probe_geometry(&bytes))
        .py(py)
        .map(values::ImageInfo::from)
}

#[pymodule]
fn _tidelog(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("FORMAT_VERSION", tidelog::format::FORMAT_VERSION)?;
    m.add("KV_FORMAT_VERSION", tidelog::kv::format::KV_FORMAT_VERSION)?;
    m.add("MAX_CONSUMER_NAME", tidelog::MAX_CONSUMER_NAME)?;
    m.add("MAX_CONSUMERS", backend::CONSUMERS)?;
    m.add("ERROR_CODES", errors::error_codes())?;
    m.add_class::<log::Log>()?;
    m.add_class::<log::Consumer>()?;
    m.add_class::<iter::LogIterator>()?;
    m.add_class::<kv::KVHandle>()?;
    m.add_class::<kv::KVIterator>()?;
    m.add_class::<logdir::LogDir>()?;
    m.add_class::<values::Stats>()?;
    m.add_class::<values::Layout>()?;
    m.add_class::<values::RecoveryReport>()?;
    m.add_class::<values::KVStats>()?;
    m.add_class::<values::ImageInfo>()?;
    m.add_function(wrap_pyfunction!(open_image, m)?)?;
    m.add_function(wrap_pyfunction!(probe_image, m)?)?;
    Ok(())
}
