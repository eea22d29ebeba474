//! `tidelog.LogDir`: the grouped store (many named logs, "streams", under named groups in a
//! directory) over `tidelog::group::LogDir`.

use crate::args;
use crate::buffer::{self, Bytes};
use crate::errors::IntoPy;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use tidelog::group::{LogDir as CoreLogDir, LogDirOptions};
use tidelog::{Error, FileError};

/// Many named logs ("streams") under named groups in one directory.
#[pyclass(frozen, module = "tidelog")]
pub struct LogDir {
    inner: Mutex<Option<CoreLogDir>>,
    path: PathBuf,
}

impl LogDir {
    fn lock(&self) -> MutexGuard<'_, Option<CoreLogDir>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the directory under the lock with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut CoreLogDir) -> Result<T, FileError> + Send,
    ) -> PyResult<T> {
        py.detach(|| match self.lock().as_mut() {
            Some(d) => f(d),
            None => Err(FileError::at(Error::Closed, &self.path)),
        })
        .py(py)
    }
}

#[pymethods]
impl LogDir {
    /// Opens (creating it if needed) the directory at `path`.
    #[new]
    #[pyo3(signature = (path, *, durability="every_write", initial_capacity=None, max_capacity=None, max_open_streams=None))]
    fn new(
        py: Python<'_>,
        path: PathBuf,
        durability: &str,
        initial_capacity: Option<&Bound<'_, PyAny>>,
        max_capacity: Option<&Bound<'_, PyAny>>,
        max_open_streams: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let mut options = LogDirOptions {
            durability: args::durability(py, durability)?,
            ..LogDirOptions::default()
        };
        if let Some(o) = initial_capacity {
            options.initial_capacity = args::size(
                py,
                o,
                "initial_capacity",
                "initial_capacity must be a non-negative int",
            )?;
        }
        if let Some(o) = max_capacity {
            options.max_capacity = args::size(
                py,
                o,
                "max_capacity",
                "max_capacity must be a non-negative int",
            )?;
        }
        if let Some(o) = max_open_streams {
            let n = args::size(
                py,
                o,
                "max_open_streams",
                "max_open_streams must be a positive int",
            )?;
            options.max_open_streams = usize::try_from(n).unwrap_or(usize::MAX);
        }
        let dir = py.detach(|| CoreLogDir::open_with(&path, options)).py(py)?;
        Ok(LogDir {
            inner: Mutex::new(Some(dir)),
            path,
        })
    }

    /// The directory.
    #[getter]
    fn path(&self) -> std::ffi::OsString {
        self.path.clone().into_os_string()
    }

    /// Creates stream `stream` in group `group` (created if needed) holding `entries`,
    /// atomically: after a crash it exists with all of them or not at all.
    #[pyo3(signature = (group, stream, entries=None))]
    fn create_stream(
        &self,
        py: Python<'_>,
        group: &str,
        stream: &str,
        entries: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let held = match entries {
            Some(e) => buffer::collect(e, "create_stream")?,
            None => Vec::new(),
        };
        let slices: Vec<&[u8]> = held.iter().map(Bytes::as_slice).collect();
        self.with(py, |d| d.create_stream(group, stream, &slices))
    }

    /// Appends `entry` to `stream`; returns its index (entries are numbered from 0).
    fn append(&self, py: Python<'_>, stream: &str, entry: &Bound<'_, PyAny>) -> PyResult<u64> {
        let entry = Bytes::extract(entry)?;
        let e = entry.as_slice();
        self.with(py, |d| d.append(stream, e))
    }

    /// Every entry of `stream`, in order.
    fn read_all<'py>(&self, py: Python<'py>, stream: &str) -> PyResult<Bound<'py, PyList>> {
        let all = self.with(py, |d| d.read_all(stream))?;
        PyList::new(py, all.iter().map(|e| PyBytes::new(py, e)))
    }

    /// The number of entries in `stream`.
    fn entry_count(&self, py: Python<'_>, stream: &str) -> PyResult<u64> {
        self.with(py, |d| d.entry_count(stream))
    }

    /// Keeps the first `n` entries of `stream` (crash-safe).
    fn truncate(&self, py: Python<'_>, stream: &str, n: &Bound<'_, PyAny>) -> PyResult<()> {
        let n = args::size(py, n, "n", "n must be a non-negative int")?;
        self.with(py, |d| d.truncate(stream, n))
    }

    /// The group holding `stream`.
    fn lookup_group_of(&self, py: Python<'_>, stream: &str) -> PyResult<String> {
        self.with(py, |d| d.lookup_group_of(stream))
    }

    /// True if a stream called `stream` exists (in any group).
    fn exists(&self, py: Python<'_>, stream: &str) -> PyResult<bool> {
        self.with(py, |d| d.exists(stream))
    }

    fn __contains__(&self, py: Python<'_>, stream: &str) -> PyResult<bool> {
        self.exists(py, stream)
    }

    /// Every group, most recently created first.
    fn list_groups(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with(py, |d| d.list_groups())
    }

    /// The streams of `group`, most recently created first.
    fn list_streams(&self, py: Python<'_>, group: &str) -> PyResult<Vec<String>> {
        self.with(py, |d| d.list_streams(group))
    }

    /// Makes every write to the open streams durable.
    fn sync_all(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |d| d.sync_all())
    }

    /// Closes `stream` for writing (releases its lock); False if it was not open.
    fn close_stream(&self, py: Python<'_>, stream: &str) -> PyResult<bool> {
        self.with(py, |d| Ok(d.close_stream(stream)))
    }

    /// Syncs and closes every stream; later calls raise `ClosedError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let dir = py.detach(|| self.lock().take());
        match dir {
            Some(mut d) => py
                .detach(move || {
                    // `LogDir::close` hands every stream's writes to the kernel; the sync
                    // first makes them durable. Every stream is closed either way.
                    let synced = d.sync_all();
                    let closed = d.close();
                    synced.and(closed)
                })
                .py(py),
            None => Err(crate::errors::to_py(
                py,
                &FileError::at(Error::Closed, &self.path),
            )),
        }
    }

    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.lock().is_none())
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        if !self.closed(py) {
            self.close(py)?;
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("<tidelog.LogDir {:?}>", self.path.display().to_string())
    }
}
