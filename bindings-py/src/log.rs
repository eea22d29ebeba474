//! `tidelog.Log` and `tidelog.Consumer`.
//!
//! Every call that takes the log's lock runs with the GIL released (`Python::detach`): the
//! lock is never waited for, nor held, while attached, so threads never deadlock on it and
//! other Python threads run during I/O.

use crate::args::{self, Offset};
use crate::backend::{write_op, Backend, ImageLog, CONSUMERS};
use crate::buffer::{self, Bytes};
use crate::errors::{self, IntoPy};
use crate::iter::LogIterator;
use crate::values::{Layout, RecoveryReport, Stats};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use std::path::PathBuf;
use std::sync::Mutex;
use tidelog::{Config, Durability, Error, FileError, ReadOnly, SharedFileLog, VecStorage};

/// `extend` hands the core at most this many records (and bytes) per call, so the buffer
/// views it holds stay bounded whatever the iterable's length.
const EXTEND_CHUNK_RECORDS: usize = 64 * 1024;
const EXTEND_CHUNK_BYTES: usize = 16 << 20;

/// Segments a new log gets when `segment_size` is not given (about; see `Log.create`).
const DEFAULT_SEGMENTS: u64 = 64;

/// A crash-safe append-only log in a file, or a read-only image in memory.
#[pyclass(frozen, module = "tidelog")]
pub struct Log {
    pub(crate) backend: Backend,
    path: Option<PathBuf>,
    durability: Durability,
    read_only: bool,
}

impl Log {
    fn from_shared(shared: SharedFileLog<CONSUMERS>, read_only: bool) -> Self {
        Log {
            path: Some(shared.path().to_path_buf()),
            durability: shared.durability(),
            backend: Backend::File(shared),
            read_only,
        }
    }

    /// A read-only log over the bytes of an image (geometry from the image).
    pub(crate) fn from_image(py: Python<'_>, image: Vec<u8>) -> PyResult<Self> {
        let log = py
            .detach(|| -> Result<ImageLog, Error> {
                let storage = VecStorage::from_image(image)?;
                ImageLog::mount(ReadOnly::new(storage), Config::new())
            })
            .py(py)?;
        Ok(Log {
            backend: Backend::Image(Mutex::new(Some(log))),
            path: None,
            durability: Durability::Explicit,
            read_only: true,
        })
    }

    /// An offset argument, or `OutOfRangeError` (with the log's range) for one outside `u64`.
    pub(crate) fn offset(
        &self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        what: &str,
    ) -> PyResult<u64> {
        match Offset::extract(obj, what)? {
            Offset::At(v) => Ok(v),
            Offset::Outside => {
                let e = py
                    .detach(|| self.backend.read(|r| Ok(r.out_of_range())))
                    .py(py)?;
                Err(errors::core(py, e))
            }
        }
    }

    /// Runs a read under the lock with the GIL released.
    pub(crate) fn read_with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut dyn crate::backend::Reader) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        py.detach(|| self.backend.read(f)).py(py)
    }

    fn write<T: Send>(
        &self,
        py: Python<'_>,
        op: impl FnOnce(&Backend) -> Result<T, FileError> + Send,
    ) -> PyResult<T> {
        py.detach(|| op(&self.backend)).py(py)
    }

    fn name_checked(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let name = name.to_string();
        self.read_with(py, move |r| r.check_name(&name))
    }
}

fn reject_single(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<()> {
    if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "{what} takes an iterable of bytes-like records, not a single '{}'",
            obj.get_type().name()?
        )));
    }
    Ok(())
}

#[pymethods]
impl Log {
    /// Creates a new log file of `capacity` bytes (it must not exist), writing it once.
    ///
    /// `segment_size`: bytes per segment, a multiple of `erase_size` (default: about 64
    /// segments, capacity / 64 rounded down to whole erase sectors, at least one). The largest
    /// record is a segment less its header and index, unless `max_record_size` says less.
    /// `index_interval`: bytes of frames between index entries (default 1024). `full_policy`:
    /// "reject" (keep every record; `FullError` when full) or "overwrite_oldest" (a ring).
    /// `durability`: "every_write" (each write is on disk when it returns) or "explicit"
    /// (survives a process crash at once, power loss after `sync()`). `write_size` (default 4)
    /// and `erase_size` (default 4096) give the image a flash device's geometry.
    #[staticmethod]
    #[pyo3(signature = (path, capacity, *, segment_size=None, index_interval=None, max_record_size=None,
                        full_policy="reject", durability="every_write", write_size=None, erase_size=None))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        py: Python<'_>,
        path: PathBuf,
        capacity: &Bound<'_, PyAny>,
        segment_size: Option<&Bound<'_, PyAny>>,
        index_interval: Option<&Bound<'_, PyAny>>,
        max_record_size: Option<&Bound<'_, PyAny>>,
        full_policy: &str,
        durability: &str,
        write_size: Option<&Bound<'_, PyAny>>,
        erase_size: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Log> {
        let u32_arg = |obj: Option<&Bound<'_, PyAny>>,
                       what: &str,
                       rule: &'static str,
                       default: u32|
         -> PyResult<u32> {
            match obj {
                None => Ok(default),
                Some(o) => u32::try_from(args::size(py, o, what, rule)?)
                    .map_err(|_| errors::core(py, Error::InvalidArgument(rule))),
            }
        };
        let capacity = args::size(
            py,
            capacity,
            "capacity",
            "capacity must be a non-negative int",
        )?;
        let write_size = u32_arg(
            write_size,
            "write_size",
            "write_size must be a power of two from 1 to 256",
            4,
        )?;
        let erase_size = u32_arg(
            erase_size,
            "erase_size",
            "erase_size must be a power of two from 256 B to 256 KiB",
            4096,
        )?;
        let index_interval = u32_arg(
            index_interval,
            "index_interval",
            "index_interval must be a positive int below 2**32",
            1024,
        )?;
        let max_record_size = u32_arg(
            max_record_size,
            "max_record_size",
            "max_record_size must be a non-negative int below 2**32",
            0,
        )?;
        let es = u64::from(erase_size.max(1));
        let sectors = match segment_size {
            None => (capacity / es / DEFAULT_SEGMENTS).max(1),
            Some(o) => {
                let bytes = args::size(
                    py,
                    o,
                    "segment_size",
                    "segment_size must be a positive multiple of erase_size",
                )?;
                if bytes == 0 || bytes % es != 0 {
                    return Err(errors::core(
                        py,
                        Error::InvalidArgument(
                            "segment_size must be a positive multiple of erase_size",
                        ),
                    ));
                }
                bytes / es
            }
        };
        let sectors = u32::try_from(sectors).map_err(|_| {
            errors::core(
                py,
                Error::InvalidArgument("segment_size must be below 2**32 erase sectors"),
            )
        })?;
        let config = Config::new()
            .segment_sectors(sectors)
            .index_interval(index_interval)
            .max_record_size(max_record_size)
            .full_policy(args::full_policy(py, full_policy)?);
        let durability = args::durability(py, durability)?;
        let shared = py
            .detach(|| -> Result<_, FileError> {
                let log = tidelog::FileLog::create_with_geometry(
                    &path,
                    capacity,
                    write_size as usize,
                    erase_size as usize,
                    config,
                    Durability::Explicit,
                )?;
                SharedFileLog::new(log, durability)
            })
            .py(py)?;
        Ok(Log::from_shared(shared, false))
    }

    /// Opens an existing log file (or a raw flash dump: the geometry comes from the image),
    /// recovering from any crash. A second writer gets `LockedError`. `full_policy` is a
    /// run-time choice (it is not stored in the file): pass the one the log was created with.
    /// `read_only=True` takes no lock, never writes, and shows the log as it was when opened
    /// (`refresh()` mounts it again).
    #[staticmethod]
    #[pyo3(signature = (path, *, durability="every_write", full_policy="reject", read_only=false))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        durability: &str,
        full_policy: &str,
        read_only: bool,
    ) -> PyResult<Log> {
        let durability = args::durability(py, durability)?;
        let config = Config::new().full_policy(args::full_policy(py, full_policy)?);
        let shared = py
            .detach(|| {
                if read_only {
                    SharedFileLog::open_read_only(&path)
                } else {
                    SharedFileLog::open(&path, config, durability)
                }
            })
            .py(py)?;
        Ok(Log::from_shared(shared, read_only))
    }

    /// Appends one record (any bytes-like object, read without a copy) and returns its offset.
    fn append(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<u64> {
        let record = Bytes::extract(data)?;
        let slice = record.as_slice();
        self.write(py, |b| write_op!(b, |l| l.append(slice)))
    }

    /// Appends records atomically, as one frame (after a crash all of them or none); returns
    /// the first offset. One frame is bounded by the maximum record size (`TooLargeError`);
    /// `extend` takes any number.
    fn append_batch(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<u64> {
        let records = buffer::collect(records, "append_batch")?;
        let slices: Vec<&[u8]> = records.iter().map(Bytes::as_slice).collect();
        self.write(py, |b| write_op!(b, |l| l.append_batch(&slices)))
    }

    /// Appends any number of records, fast, packed into as many frames as needed; returns the
    /// offset of the first (the next offset for an empty iterable). Each frame is atomic, the
    /// whole is **not**: after a crash or an error (`FullError`, a record of a later chunk that
    /// is not bytes-like) the log holds a prefix of the records, and `next_offset` tells how
    /// many went in. For all-or-nothing, use `append_batch`.
    fn extend(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<u64> {
        reject_single(records, "extend")?;
        let mut items = records.try_iter()?;
        let mut first = None;
        let mut index = 0usize;
        loop {
            let mut chunk = Vec::new();
            let mut bytes = 0usize;
            let mut exhausted = true;
            while chunk.len() < EXTEND_CHUNK_RECORDS && bytes < EXTEND_CHUNK_BYTES {
                let Some(item) = items.next() else {
                    break;
                };
                let record = Bytes::extract_owned(item?).map_err(|e| {
                    if e.is_instance_of::<PyTypeError>(py) {
                        PyTypeError::new_err(format!("extend: record {index}: {}", e.value(py)))
                    } else {
                        e
                    }
                })?;
                index += 1;
                bytes += record.as_slice().len();
                chunk.push(record);
                exhausted = false;
            }
            let full = chunk.len() >= EXTEND_CHUNK_RECORDS || bytes >= EXTEND_CHUNK_BYTES;
            if chunk.is_empty() && first.is_some() {
                break;
            }
            let slices: Vec<&[u8]> = chunk.iter().map(Bytes::as_slice).collect();
            let off = self.write(py, |b| write_op!(b, |l| l.extend(&slices)))?;
            first.get_or_insert(off);
            if exhausted || !full {
                break;
            }
        }
        Ok(first.unwrap_or_default())
    }

    /// The record at `offset`.
    fn read<'py>(
        &self,
        py: Python<'py>,
        offset: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let offset = self.offset(py, offset, "offset")?;
        let record = self.read_with(py, |r| r.read_vec(offset))?;
        Ok(PyBytes::new(py, &record))
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        offset: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        self.read(py, offset)
    }

    /// The length of the record at `offset`, without reading it whole.
    fn record_len(&self, py: Python<'_>, offset: &Bound<'_, PyAny>) -> PyResult<usize> {
        let offset = self.offset(py, offset, "offset")?;
        self.read_with(py, |r| r.record_len(offset))
    }

    /// Live records: `next_offset - first_offset`.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let n = self.read_with(py, |r| Ok(r.next_offset() - r.first_offset()))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// First readable offset.
    #[getter]
    fn first_offset(&self, py: Python<'_>) -> PyResult<u64> {
        self.read_with(py, |r| Ok(r.first_offset()))
    }

    /// Offset the next appended record gets.
    #[getter]
    fn next_offset(&self, py: Python<'_>) -> PyResult<u64> {
        self.read_with(py, |r| Ok(r.next_offset()))
    }

    fn __iter__(slf: &Bound<'_, Self>) -> PyResult<LogIterator> {
        LogIterator::new(slf, None, None)
    }

    /// Iterates `(offset, record)` from `start` (default: the first offset) to `stop`
    /// (exclusive; default: the end), lazily.
    #[pyo3(signature = (start=None, stop=None))]
    fn iter(
        slf: &Bound<'_, Self>,
        start: Option<&Bound<'_, PyAny>>,
        stop: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<LogIterator> {
        let py = slf.py();
        let log = slf.get();
        let start = start.map(|s| log.offset(py, s, "start")).transpose()?;
        let stop = stop.map(|s| log.offset(py, s, "stop")).transpose()?;
        LogIterator::new(slf, start, stop)
    }

    /// Drops every record below `offset` (space is reclaimed segment by segment).
    fn trim_front(&self, py: Python<'_>, offset: &Bound<'_, PyAny>) -> PyResult<()> {
        let offset = self.offset(py, offset, "offset")?;
        self.write(py, |b| write_op!(b, |l| l.trim_front(offset)))
    }

    /// Drops every record at and above `length` (offsets are then reused).
    fn truncate_back(&self, py: Python<'_>, length: &Bound<'_, PyAny>) -> PyResult<()> {
        let length = self.offset(py, length, "length")?;
        self.write(py, |b| write_op!(b, |l| l.truncate_back(length)))
    }

    /// Durability barrier: everything appended before it survives power loss once it returns.
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        self.write(py, |b| write_op!(b, |l| l.sync()))
    }

    /// A snapshot of the log's size and position.
    fn stats(&self, py: Python<'_>) -> PyResult<Stats> {
        self.read_with(py, |r| Ok(r.stats())).map(Stats::from)
    }

    /// The geometry stored in the image.
    fn layout(&self, py: Python<'_>) -> PyResult<Layout> {
        self.read_with(py, |r| Ok(r.layout()))
            .map(|l| Layout::from(&l))
    }

    /// What mount repaired or worked around.
    fn recovery(&self, py: Python<'_>) -> PyResult<RecoveryReport> {
        self.read_with(py, |r| Ok(r.recovery()))
            .map(RecoveryReport::from)
    }

    /// For a log opened with `read_only=True`: mounts the file again to see what its writer
    /// added (or trimmed) since. A no-op for an image in memory.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        match &self.backend {
            Backend::File(shared) => py
                .detach(|| shared.with(|f| f.refresh()).and_then(|r| r))
                .py(py),
            Backend::Image(_) => self.read_with(py, |_| Ok(())),
        }
    }

    /// Syncs (for a writer) and closes; every later call raises `ClosedError`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.backend.close()).py(py)
    }

    /// Whether `close` ran.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.backend.is_closed())
    }

    /// The file's path (`None` for an image in memory).
    #[getter]
    fn path(&self) -> Option<std::ffi::OsString> {
        self.path.as_ref().map(|p| p.clone().into_os_string())
    }

    /// Opened read-only (or an image in memory).
    #[getter]
    fn read_only(&self) -> bool {
        self.read_only
    }

    /// `"every_write"` or `"explicit"`.
    #[getter]
    fn durability(&self) -> &'static str {
        args::durability_word(self.durability)
    }

    /// `"reject"` or `"overwrite_oldest"`.
    #[getter]
    fn full_policy(&self, py: Python<'_>) -> PyResult<&'static str> {
        self.read_with(py, |r| Ok(args::full_policy_word(r.full_policy())))
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        if !self.closed(py) {
            self.close(py)?;
        }
        Ok(false)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let what = match &self.path {
            Some(p) => format!("{:?}", p.display().to_string()),
            None => "<image>".to_string(),
        };
        match self.read_with(py, |r| Ok((r.first_offset(), r.next_offset()))) {
            Ok((first, next)) => {
                format!("<tidelog.Log {what} first_offset={first} next_offset={next}>")
            }
            Err(_) => format!("<tidelog.Log {what} closed>"),
        }
    }

    // Consumers.

    /// A handle on the consumer `name` (UTF-8, 1..=32 bytes); it is created on its first commit.
    fn consumer(slf: &Bound<'_, Self>, name: &str) -> PyResult<Consumer> {
        slf.get().name_checked(slf.py(), name)?;
        Ok(Consumer {
            log: slf.clone().unbind(),
            name: name.to_string(),
        })
    }

    /// Every consumer with its committed offset, in name order.
    fn consumers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let all = self.read_with(py, |r| Ok(r.consumers()))?;
        let d = PyDict::new(py);
        for (name, off) in all {
            d.set_item(name, off)?;
        }
        Ok(d)
    }

    /// The committed offset of consumer `name`, or None if it never committed.
    fn committed(&self, py: Python<'_>, name: &str) -> PyResult<Option<u64>> {
        let name = name.to_string();
        self.read_with(py, move |r| {
            r.check_name(&name)?;
            Ok(r.committed(&name))
        })
    }

    /// Where consumer `name` resumes: its committed offset, or the first offset.
    fn position(&self, py: Python<'_>, name: &str) -> PyResult<u64> {
        let name = name.to_string();
        self.read_with(py, move |r| r.position(&name))
    }

    /// Persists `offset` as consumer `name`'s position ("records below it are done").
    fn commit(&self, py: Python<'_>, name: &str, offset: &Bound<'_, PyAny>) -> PyResult<()> {
        let offset = self.offset(py, offset, "offset")?;
        self.write(py, |b| write_op!(b, |l| l.commit(name, offset)))
    }

    /// Moves consumer `name` to `offset`, backwards allowed.
    fn rewind(&self, py: Python<'_>, name: &str, offset: &Bound<'_, PyAny>) -> PyResult<()> {
        let offset = self.offset(py, offset, "offset")?;
        self.write(py, |b| write_op!(b, |l| l.rewind(name, offset)))
    }

    /// Deletes consumer `name`.
    fn remove_consumer(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        self.write(py, |b| write_op!(b, |l| l.remove_consumer(name)))
    }
}

/// A named consumer cursor of a log: deliver, then commit; after a crash, iterate again from
/// the committed position.
#[pyclass(frozen, module = "tidelog")]
pub struct Consumer {
    log: Py<Log>,
    name: String,
}

#[pymethods]
impl Consumer {
    /// The consumer's name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// The log.
    #[getter]
    fn log(&self, py: Python<'_>) -> Py<Log> {
        self.log.clone_ref(py)
    }

    /// The committed offset, or None if it never committed.
    #[getter]
    fn committed(&self, py: Python<'_>) -> PyResult<Option<u64>> {
        self.log.get().committed(py, &self.name)
    }

    /// Where reading resumes: the committed offset, or the first offset.
    #[getter]
    fn position(&self, py: Python<'_>) -> PyResult<u64> {
        self.log.get().position(py, &self.name)
    }

    /// Persists `offset` ("records below it are done"); it may not move backwards.
    fn commit(&self, py: Python<'_>, offset: &Bound<'_, PyAny>) -> PyResult<()> {
        self.log.get().commit(py, &self.name, offset)
    }

    /// Moves the position to `offset`, backwards allowed.
    fn rewind(&self, py: Python<'_>, offset: &Bound<'_, PyAny>) -> PyResult<()> {
        self.log.get().rewind(py, &self.name, offset)
    }

    /// Deletes the consumer from the log.
    fn remove(&self, py: Python<'_>) -> PyResult<()> {
        self.log.get().remove_consumer(py, &self.name)
    }

    /// Iterates `(offset, record)` from the position.
    fn __iter__(&self, py: Python<'_>) -> PyResult<LogIterator> {
        self.iter(py, None)
    }

    /// Iterates `(offset, record)` from the position to `stop` (exclusive; default: the end).
    #[pyo3(signature = (stop=None))]
    fn iter(&self, py: Python<'_>, stop: Option<&Bound<'_, PyAny>>) -> PyResult<LogIterator> {
        let log = self.log.bind(py);
        let start = self.position(py)?;
        let stop = stop.map(|s| log.get().offset(py, s, "stop")).transpose()?;
        LogIterator::new(log, Some(start), stop)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        match self.committed(py) {
            Ok(c) => format!(
                "<tidelog.Consumer {:?} committed={}>",
                self.name,
                c.map_or("None".to_string(), |c| c.to_string())
            ),
            Err(_) => format!("<tidelog.Consumer {:?} (log closed)>", self.name),
        }
    }
}

/// The bytes of an image argument: a bytes-like object, or a path to read (GIL released).
pub fn image_bytes(py: Python<'_>, src: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if src.is_instance_of::<PyString>() || src.hasattr("__fspath__")? {
        let path: PathBuf = src.extract()?;
        return py
            .detach(|| std::fs::read(&path).map_err(|e| FileError::io(e, &path)))
            .py(py);
    }
    match Bytes::extract(src) {
        Ok(b) => Ok(b.as_slice().to_vec()),
        Err(e) if e.is_instance_of::<PyTypeError>(py) => Err(PyTypeError::new_err(format!(
            "an image is a path (str or os.PathLike) or a bytes-like object, not '{}'",
            src.get_type().name()?
        ))),
        Err(e) => Err(e),
    }
}
