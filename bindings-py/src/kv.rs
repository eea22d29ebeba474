//! The native side of `tidelog.KV` (`tidelog._tidelog.KVHandle`): a `FileKv`, or a read-only
//! KV image in memory. `tidelog/_kv.py` wraps it as a `MutableMapping[bytes, bytes]`.
//!
//! As in `log.rs`, the lock is only taken with the GIL released.

use crate::args;
use crate::buffer::Bytes;
use crate::errors::{self, IntoPy};
use crate::values::KVStats;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use tidelog::{
    Durability, Error, FileError, FileKv, Kv, KvConfig, KvCursor, KvOp, MapIndex, ReadOnly,
    VecStorage,
};

type ImageKv = Kv<ReadOnly<VecStorage>, MapIndex>;

enum KvBackend {
    File(FileKv),
    Image(ImageKv),
}

/// Runs an operation on either backend (same method names; the file's errors name the file).
macro_rules! kv_op {
    ($b:expr, |$k:ident| $op:expr) => {
        match $b {
            KvBackend::File($k) => $op,
            KvBackend::Image($k) => ($op).map_err(FileError::from),
        }
    };
}

/// A KV journal in a file or an image (wrapped by `tidelog.KV`).
#[pyclass(frozen, module = "tidelog._tidelog")]
pub struct KVHandle {
    inner: Mutex<Option<KvBackend>>,
    path: Option<PathBuf>,
    durability: Durability,
    read_only: bool,
}

impl KVHandle {
    fn lock(&self) -> MutexGuard<'_, Option<KvBackend>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the KV under the lock with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut KvBackend) -> Result<T, FileError> + Send,
    ) -> PyResult<T> {
        py.detach(|| match self.lock().as_mut() {
            Some(kv) => f(kv),
            None => Err(match &self.path {
                Some(p) => FileError::at(Error::Closed, p),
                None => FileError::from(Error::Closed),
            }),
        })
        .py(py)
    }

    fn new(kv: KvBackend, path: Option<PathBuf>, durability: Durability, read_only: bool) -> Self {
        KVHandle {
            inner: Mutex::new(Some(kv)),
            path,
            durability,
            read_only,
        }
    }

    /// A read-only KV over the bytes of an image (geometry from the image).
    pub fn from_image(py: Python<'_>, image: Vec<u8>) -> PyResult<Self> {
        let kv = py
            .detach(|| -> Result<ImageKv, Error> {
                let storage = VecStorage::from_image(image)?;
                Kv::mount(ReadOnly::new(storage), KvConfig::new())
            })
            .py(py)?;
        Ok(Self::new(
            KvBackend::Image(kv),
            None,
            Durability::Explicit,
            true,
        ))
    }
}

fn pair<'py>(item: &Bound<'py, PyAny>, i: usize) -> PyResult<(Bytes<'py>, Bytes<'py>)> {
    let (k, v): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract().map_err(|_| {
        PyTypeError::new_err(format!(
            "item {i}: expected a (key, value) pair of bytes-like objects, not '{}'",
            item.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    })?;
    Ok((Bytes::extract(&k)?, Bytes::extract(&v)?))
}

#[pymethods]
impl KVHandle {
    #[staticmethod]
    #[pyo3(signature = (path, capacity, *, max_key_len=None, max_value_len=None, high_water_percent=None,
                        durability="every_write", write_size=None, erase_size=None))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        py: Python<'_>,
        path: PathBuf,
        capacity: &Bound<'_, PyAny>,
        max_key_len: Option<&Bound<'_, PyAny>>,
        max_value_len: Option<&Bound<'_, PyAny>>,
        high_water_percent: Option<&Bound<'_, PyAny>>,
        durability: &str,
        write_size: Option<&Bound<'_, PyAny>>,
        erase_size: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<KVHandle> {
        let capacity = args::size(
            py,
            capacity,
            "capacity",
            "capacity must be a non-negative int",
        )?;
        let small = |obj: Option<&Bound<'_, PyAny>>,
                     what: &str,
                     rule: &'static str,
                     max: u64,
                     default: u64| {
            let Some(obj) = obj else {
                return Ok(default);
            };
            let v = args::size(py, obj, what, rule)?;
            if v > max {
                return Err(errors::core(py, Error::InvalidArgument(rule)));
            }
            Ok(v)
        };
        let max_key_len = small(
            max_key_len,
            "max_key_len",
            "max_key_len must be from 0 to 255",
            255,
            255,
        )? as u8;
        let max_value_len = small(
            max_value_len,
            "max_value_len",
            "max_value_len must be a non-negative int below 2**32",
            u64::from(u32::MAX),
            0,
        )? as u32;
        let mark = small(
            high_water_percent,
            "high_water_percent",
            "high_water_percent must be from 1 to 100",
            255,
            75,
        )? as u8;
        let ws = small(
            write_size,
            "write_size",
            "write_size must be a power of two from 1 to 256",
            1 << 20,
            4,
        )? as usize;
        let es = small(
            erase_size,
            "erase_size",
            "erase_size must be a power of two from 256 B to 256 KiB",
            1 << 30,
            4096,
        )? as usize;
        let durability = args::durability(py, durability)?;
        let config = KvConfig::new()
            .max_key_len(max_key_len)
            .max_value_len(max_value_len)
            .high_water_percent(mark);
        let kv = py
            .detach(|| FileKv::create_with_geometry(&path, capacity, ws, es, config, durability))
            .py(py)?;
        Ok(Self::new(
            KvBackend::File(kv),
            Some(path),
            durability,
            false,
        ))
    }

    #[staticmethod]
    #[pyo3(signature = (path, *, durability="every_write", high_water_percent=None, read_only=false))]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        durability: &str,
        high_water_percent: Option<&Bound<'_, PyAny>>,
        read_only: bool,
    ) -> PyResult<KVHandle> {
        let durability = args::durability(py, durability)?;
        let mark = match high_water_percent {
            None => 75,
            Some(o) => args::size(
                py,
                o,
                "high_water_percent",
                "high_water_percent must be from 1 to 100",
            )?,
        };
        let mark = u8::try_from(mark).map_err(|_| {
            errors::core(
                py,
                Error::InvalidArgument("high_water_percent must be from 1 to 100"),
            )
        })?;
        let config = KvConfig::new().high_water_percent(mark);
        let kv = py
            .detach(|| {
                if read_only {
                    FileKv::open_read_only(&path)
                } else {
                    FileKv::open(&path, config, durability)
                }
            })
            .py(py)?;
        let durability = if read_only {
            Durability::Explicit
        } else {
            durability
        };
        Ok(Self::new(
            KvBackend::File(kv),
            Some(path),
            durability,
            read_only,
        ))
    }

    #[staticmethod]
    fn open_image(py: Python<'_>, src: &Bound<'_, PyAny>) -> PyResult<KVHandle> {
        let bytes = crate::log::image_bytes(py, src)?;
        Self::from_image(py, bytes)
    }

    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let key = Bytes::extract(key)?;
        let k = key.as_slice();
        let v = self.with(py, |b| kv_op!(b, |kv| kv.get_vec(k)))?;
        Ok(v.map(|v| PyBytes::new(py, &v)))
    }

    fn contains(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let key = Bytes::extract(key)?;
        let k = key.as_slice();
        self.with(py, |b| kv_op!(b, |kv| kv.contains_key(k)))
    }

    fn set(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let (key, value) = (Bytes::extract(key)?, Bytes::extract(value)?);
        let (k, v) = (key.as_slice(), value.as_slice());
        self.with(py, |b| kv_op!(b, |kv| kv.set(k, v)))
    }

    fn delete(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        let key = Bytes::extract(key)?;
        let k = key.as_slice();
        self.with(py, |b| kv_op!(b, |kv| kv.delete(k)))
    }

    /// Sets every `(key, value)` pair atomically (one frame).
    fn set_multiple(&self, py: Python<'_>, pairs: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut held = Vec::new();
        for (i, item) in pairs.try_iter()?.enumerate() {
            held.push(pair(&item?, i)?);
        }
        let slices: Vec<(&[u8], &[u8])> = held
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        self.with(py, |b| kv_op!(b, |kv| kv.set_multiple(&slices)))
    }

    /// Sets `sets` (pairs) and deletes `deletes` (keys) atomically, sets first.
    fn apply(
        &self,
        py: Python<'_>,
        sets: &Bound<'_, PyAny>,
        deletes: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let mut held_sets = Vec::new();
        for (i, item) in sets.try_iter()?.enumerate() {
            held_sets.push(pair(&item?, i)?);
        }
        let mut held_deletes = Vec::new();
        for item in deletes.try_iter()? {
            held_deletes.push(Bytes::extract(&item?)?);
        }
        let ops: Vec<KvOp<'_>> = held_sets
            .iter()
            .map(|(k, v)| KvOp::Set(k.as_slice(), v.as_slice()))
            .chain(held_deletes.iter().map(|k| KvOp::Delete(k.as_slice())))
            .collect();
        self.with(py, |b| kv_op!(b, |kv| kv.apply(&ops)))
    }

    fn compact(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |b| kv_op!(b, |kv| kv.compact()))
    }

    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |b| kv_op!(b, |kv| kv.clear()))
    }

    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |b| kv_op!(b, |kv| kv.sync()))
    }

    fn stats(&self, py: Python<'_>) -> PyResult<KVStats> {
        self.with(py, |b| {
            Ok(match b {
                KvBackend::File(kv) => kv.stats(),
                KvBackend::Image(kv) => kv.stats(),
            })
        })
        .map(KVStats::from)
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        Ok(self.stats(py)?.live_keys)
    }

    #[getter]
    fn high_water_mark_triggered(&self, py: Python<'_>) -> PyResult<bool> {
        self.with(py, |b| {
            Ok(match b {
                KvBackend::File(kv) => kv.is_high_water_mark_triggered(),
                KvBackend::Image(kv) => kv.is_high_water_mark_triggered(),
            })
        })
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let kv = py.detach(|| self.lock().take());
        match kv {
            Some(KvBackend::File(mut kv)) => {
                let writer = !self.read_only;
                py.detach(move || {
                    // Like `Log.close`: a writer's last writes are made durable first. The file
                    // is closed either way.
                    let synced = if writer { kv.sync() } else { Ok(()) };
                    let closed = kv.close();
                    synced.and(closed)
                })
                .py(py)
            }
            Some(KvBackend::Image(_)) => Ok(()),
            None => Err(errors::to_py(
                py,
                &match &self.path {
                    Some(p) => FileError::at(Error::Closed, p),
                    None => FileError::from(Error::Closed),
                },
            )),
        }
    }

    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        py.detach(|| self.lock().is_none())
    }

    #[getter]
    fn path(&self) -> Option<std::ffi::OsString> {
        self.path.as_ref().map(|p| p.clone().into_os_string())
    }

    #[getter]
    fn read_only(&self) -> bool {
        self.read_only
    }

    #[getter]
    fn durability(&self) -> &'static str {
        args::durability_word(self.durability)
    }

    /// Iterates the live entries in ascending key order: `what` is "keys", "values" or
    /// "items".
    fn iterate(slf: &Bound<'_, Self>, what: &str) -> PyResult<KVIterator> {
        let mode = match what {
            "keys" => Mode::Keys,
            "values" => Mode::Values,
            "items" => Mode::Items,
            _ => {
                return Err(errors::core(
                    slf.py(),
                    Error::InvalidArgument("iterate takes \"keys\", \"values\" or \"items\""),
                ))
            }
        };
        let cursor = slf.get().with(slf.py(), |b| match b {
            KvBackend::File(kv) => kv.cursor(),
            KvBackend::Image(kv) => kv.cursor().map_err(FileError::from),
        })?;
        Ok(KVIterator {
            kv: slf.clone().unbind(),
            cursor,
            mode,
            run: VecDeque::new(),
            want: 1,
            done: false,
        })
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Keys,
    Values,
    Items,
}

/// Most entries read per refill.
const MAX_RUN: usize = 256;

/// Iterates the live entries of a KV in ascending key order (each step sees the map as it is
/// then).
#[pyclass(module = "tidelog._tidelog")]
pub struct KVIterator {
    kv: Py<KVHandle>,
    cursor: KvCursor,
    mode: Mode,
    run: VecDeque<(Vec<u8>, Vec<u8>)>,
    want: usize,
    done: bool,
}

#[pymethods]
impl KVIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(
        mut slf: PyRefMut<'py, Self>,
        py: Python<'py>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let this = &mut *slf;
        if this.run.is_empty() && !this.done {
            let (kv, cursor, run, want) =
                (this.kv.get(), &mut this.cursor, &mut this.run, this.want);
            let end = kv.with(py, |b| {
                while run.len() < want {
                    let next = match b {
                        KvBackend::File(kv) => kv.next_entry_vec(cursor)?,
                        KvBackend::Image(kv) => kv.next_entry_vec(cursor)?,
                    };
                    match next {
                        Some(e) => run.push_back(e),
                        None => return Ok(true),
                    }
                }
                Ok(false)
            })?;
            this.done = end;
            this.want = (want * 2).min(MAX_RUN);
        }
        let Some((k, v)) = this.run.pop_front() else {
            return Ok(None);
        };
        Ok(Some(match this.mode {
            Mode::Keys => PyBytes::new(py, &k).into_any(),
            Mode::Values => PyBytes::new(py, &v).into_any(),
            Mode::Items => (PyBytes::new(py, &k), PyBytes::new(py, &v))
                .into_pyobject(py)?
                .into_any(),
        }))
    }
}
