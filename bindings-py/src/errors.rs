//! Core errors to Python exceptions.
//!
//! The exception classes are defined in Python (`tidelog/_errors.py`), one per
//! [`ErrorCode`], named after [`ErrorCode::name`]. This module hands the code, the core's
//! message (`Display`), the context (path or name) and the fields a variant carries to
//! `tidelog._errors._from_core`, which builds the instance of the class for that code.
//! [`error_codes`] exports the core's table, so a test checks that every code has its class.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use tidelog::{Error, ErrorCode, FileError, StorageError};

static FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The core's error table: `(code, name, description)` for every [`ErrorCode`], ascending.
pub fn error_codes() -> Vec<(u16, &'static str, &'static str)> {
    ErrorCode::ALL
        .iter()
        .map(|c| (c.as_u16(), c.name(), c.description()))
        .collect()
}

/// The Python exception for a core error.
pub fn to_py(py: Python<'_>, e: &FileError) -> PyErr {
    match build(py, e) {
        Ok(err) => err,
        // Building the exception failed (a broken installation): say that, with the message.
        Err(build_err) => build_err,
    }
}

fn build(py: Python<'_>, e: &FileError) -> PyResult<PyErr> {
    let factory = FACTORY.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("tidelog._errors")?
            .getattr("_from_core")?
            .unbind())
    })?;
    let details = PyDict::new(py);
    match e.kind() {
        Error::Corrupt { addr } => details.set_item("addr", addr)?,
        Error::OutOfRange { first, next } => {
            details.set_item("first", first)?;
            details.set_item("next", next)?;
        }
        Error::Overwritten { first_available } => {
            details.set_item("first_available", first_available)?
        }
        Error::TooLarge { len, max } => {
            details.set_item("len", len)?;
            details.set_item("max", max)?;
        }
        Error::BufferTooSmall { needed } => details.set_item("needed", needed)?,
        Error::UnsupportedVersion { found } => details.set_item("found", found)?,
        Error::Storage(StorageError::Device(n)) if n > 0 => details.set_item("errno", n)?,
        _ => {}
    }
    if !details.contains("errno")? {
        if let Some(n) = e.io_error().and_then(|io| io.raw_os_error()) {
            details.set_item("errno", n)?;
        }
    }
    let context = (!e.context().is_empty()).then(|| e.context());
    let exc = factory
        .bind(py)
        .call1((e.code().as_u16(), e.to_string(), context, details))?;
    Ok(PyErr::from_value(exc))
}

/// `?` on a core result inside a method: `.py(py)?`.
pub trait IntoPy<T> {
    /// The value, or the Python exception for the error.
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, FileError> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &e))
    }
}

impl<T> IntoPy<T> for Result<T, Error> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &FileError::from(e)))
    }
}

/// A plain core error (no context) as a Python exception.
pub fn core(py: Python<'_>, e: Error) -> PyErr {
    to_py(py, &FileError::from(e))
}
