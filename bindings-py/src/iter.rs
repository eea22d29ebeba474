//! `tidelog.LogIterator`: lazy iteration over `(offset, record)`, in bounded memory.
//!
//! The iterator owns a core [`ReadCursor`] (a resumable read position that holds no borrow of
//! the log) and a reference to its `Log`. Each refill reads a run of records with
//! `read_next` into one reused buffer, with the GIL released; the run starts at one record
//! and doubles per refill up to [`MAX_RUN`] records (or [`RUN_BYTES`] bytes), so taking the
//! first record costs one read, and a long iteration pays one lock and one GIL release per
//! run. Memory stays bounded by the buffer, whatever the log's size.

use crate::backend::Reader;
use crate::errors;
use crate::log::Log;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::VecDeque;
use tidelog::{Error, FileError, ReadCursor};

/// Most records read per refill.
const MAX_RUN: usize = 1024;
/// Bytes of the run buffer (grown once for a record larger than this).
const RUN_BYTES: usize = 256 * 1024;

/// Iterates `(offset, record)` over a log, lazily; see `Log.iter`.
#[pyclass(module = "tidelog")]
pub struct LogIterator {
    log: Py<Log>,
    cursor: ReadCursor,
    stop: Option<u64>,
    buf: Vec<u8>,
    /// Records read ahead: offset, start in `buf`, length.
    run: VecDeque<(u64, usize, usize)>,
    /// Records to read at the next refill.
    want: usize,
    /// An error met after the records in `run`: raised once they are taken.
    pending: Option<FileError>,
    /// The end was reached (a finished iterator stays finished).
    done: bool,
}

/// Reads up to `want` records into `buf`; `Ok(true)` when the end (or `stop`) was reached.
fn refill(
    r: &mut dyn Reader,
    cursor: &mut ReadCursor,
    stop: Option<u64>,
    buf: &mut Vec<u8>,
    run: &mut VecDeque<(u64, usize, usize)>,
    want: usize,
) -> Result<bool, Error> {
    if buf.len() < RUN_BYTES {
        buf.resize(RUN_BYTES, 0);
    }
    let mut used = 0;
    while run.len() < want {
        if stop.is_some_and(|s| cursor.offset() >= s) {
            return Ok(true);
        }
        match r.read_next(cursor, &mut buf[used..]) {
            Ok(Some((offset, len))) => {
                run.push_back((offset, used, len));
                used += len;
            }
            Ok(None) => return Ok(true),
            Err(Error::BufferTooSmall { needed }) if run.is_empty() => {
                buf.resize(needed as usize, 0);
            }
            // The rest goes into the next run.
            Err(Error::BufferTooSmall { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

impl LogIterator {
    /// An iterator over `log` from `start` (default: its first offset) to `stop`.
    pub fn new(log: &Bound<'_, Log>, start: Option<u64>, stop: Option<u64>) -> PyResult<Self> {
        let py = log.py();
        let cursor = log.get().read_with(py, |r| {
            let from = start.unwrap_or_else(|| r.first_offset());
            r.cursor(from)
        })?;
        Ok(LogIterator {
            log: log.clone().unbind(),
            cursor,
            stop,
            buf: Vec::new(),
            run: VecDeque::new(),
            want: 1,
            pending: None,
            done: false,
        })
    }
}

#[pymethods]
impl LogIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(
        mut slf: PyRefMut<'py, Self>,
        py: Python<'py>,
    ) -> PyResult<Option<(u64, Bound<'py, PyBytes>)>> {
        let this = &mut *slf;
        if this.run.is_empty() {
            if let Some(e) = this.pending.take() {
                return Err(errors::to_py(py, &e));
            }
            if this.done {
                return Ok(None);
            }
            let log = this.log.get();
            let (cursor, stop, buf, run, want) = (
                &mut this.cursor,
                this.stop,
                &mut this.buf,
                &mut this.run,
                this.want,
            );
            let got = py.detach(|| {
                log.backend
                    .read(|r| refill(r, cursor, stop, buf, run, want))
            });
            this.want = (want * 2).min(MAX_RUN);
            match got {
                Ok(end) => this.done = end,
                Err(e) if this.run.is_empty() => return Err(errors::to_py(py, &e)),
                Err(e) => this.pending = Some(e),
            }
            if this.run.is_empty() {
                return Ok(None);
            }
        }
        let Some((offset, start, len)) = this.run.pop_front() else {
            return Ok(None);
        };
        Ok(Some((
            offset,
            PyBytes::new(py, &this.buf[start..start + len]),
        )))
    }

    /// The offset of the record the next step returns.
    #[getter]
    fn offset(&self) -> u64 {
        self.run
            .front()
            .map_or_else(|| self.cursor.offset(), |r| r.0)
    }

    /// Moves the iterator to `offset` (checked at the next step), e.g. past a damaged record
    /// after a `CorruptError`.
    fn seek(&mut self, py: Python<'_>, offset: &Bound<'_, PyAny>) -> PyResult<()> {
        let offset = self.log.get().offset(py, offset, "offset")?;
        self.run.clear();
        self.pending = None;
        self.done = false;
        self.want = 1;
        self.cursor.seek(offset);
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("<tidelog.LogIterator offset={}>", self.offset())
    }
}
