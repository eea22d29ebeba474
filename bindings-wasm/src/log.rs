//! [`LogCore`]: one log — over the core's `PageStorage` (a persisted browser log, or an image
//! opened writable) or over a read-only image — and [`CursorCore`], a reading position the
//! JS iterators own.

use crate::args::{self, set};
use crate::errors::{to_js, IntoJs};
use crate::medium::{Holds, Medium};
use crate::pages::PageSet;
use js_sys::{Array, Object, Uint8Array};
use tidelog::{Config, Error, FullPolicy, ReadCursor, Storage};
use wasm_bindgen::prelude::*;

/// Consumer capacity of every log of this binding: the format's maximum, so every image mounts.
pub const CONSUMERS: usize = 16;

type MediumLog = tidelog::Log<Medium, CONSUMERS>;

/// Runs `$body` with `$l` bound to the mounted log (`ClosedError` once closed).
macro_rules! with_log {
    ($self:expr, |$l:ident| $body:expr) => {
        match $self.inner.as_mut() {
            Some($l) => $body,
            None => Err(Error::Closed),
        }
    };
}

/// A full policy by name.
pub fn policy(name: &str) -> Result<FullPolicy, Error> {
    match name {
        "reject" => Ok(FullPolicy::Reject),
        "overwriteOldest" => Ok(FullPolicy::OverwriteOldest),
        _ => Err(Error::InvalidArgument(
            "fullPolicy must be \"reject\" or \"overwriteOldest\"",
        )),
    }
}

fn policy_name(p: FullPolicy) -> &'static str {
    match p {
        FullPolicy::Reject => "reject",
        FullPolicy::OverwriteOldest => "overwriteOldest",
    }
}

/// A log (see the [module docs](self)).
#[wasm_bindgen]
pub struct LogCore {
    inner: Option<MediumLog>,
}

/// A reading position: the next offset to read and the core's read hint.
#[wasm_bindgen]
pub struct CursorCore {
    cursor: ReadCursor,
    stop: Option<u64>,
}

#[wasm_bindgen]
impl CursorCore {
    /// The offset the next read starts at.
    #[wasm_bindgen(getter)]
    pub fn offset(&self) -> f64 {
        self.cursor.offset() as f64
    }
}

impl LogCore {
    fn offset_arg(&mut self, v: f64) -> Result<u64, Error> {
        let (first, next) = with_log!(self, |l| Ok((l.first_offset(), l.next_offset())))?;
        args::offset(v).ok_or(Error::OutOfRange { first, next })
    }
}

#[wasm_bindgen]
impl LogCore {
    /// Formats a new log on an erased page storage of `capacity` bytes (`max_record_size` 0:
    /// what fits a segment; `index_interval`: bytes of frames between index slots).
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        capacity: f64,
        write_size: u32,
        erase_size: u32,
        segment_size: f64,
        page_size: u32,
        full_policy: &str,
        max_record_size: f64,
        index_interval: u32,
    ) -> Result<LogCore, JsValue> {
        (|| {
            let seg = args::size(
                segment_size,
                u32::MAX as u64,
                "segmentSize must be below 4 GiB",
            )?;
            let max = args::size(
                max_record_size,
                u32::MAX as u64,
                "maxRecordSize out of range",
            )?;
            if erase_size == 0 || seg % erase_size as u64 != 0 || seg == 0 {
                return Err(Error::InvalidArgument(
                    "segmentSize must be a positive multiple of eraseSize",
                ));
            }
            let medium = Medium::erased(capacity, write_size, erase_size, page_size)?;
            let config = Config::new()
                .segment_sectors((seg / erase_size as u64) as u32)
                .max_record_size(max as u32)
                .index_interval(index_interval)
                .full_policy(policy(full_policy)?);
            Ok(LogCore {
                inner: Some(MediumLog::format(medium, config)?),
            })
        })()
        .js()
    }

    /// Mounts a log from persisted pages (`indices[i]` holds `pages[i]`).
    #[allow(clippy::too_many_arguments)]
    pub fn load(
        capacity: f64,
        write_size: u32,
        erase_size: u32,
        page_size: u32,
        full_policy: &str,
        indices: &[u32],
        pages: &Array,
    ) -> Result<LogCore, JsValue> {
        (|| {
            let medium = Medium::load(capacity, write_size, erase_size, page_size, indices, pages)?;
            let config = Config::new().full_policy(policy(full_policy)?);
            Ok(LogCore {
                inner: Some(MediumLog::mount(medium, config)?),
            })
        })()
        .js()
    }

    /// Mounts the log in an image (geometry from the image): read-only — a mount never
    /// changes a byte of it — or, with `writable`, on a page storage holding a copy.
    #[wasm_bindgen(js_name = fromImage)]
    pub fn from_image(
        image: Vec<u8>,
        writable: bool,
        page_size: u32,
        full_policy: &str,
    ) -> Result<LogCore, JsValue> {
        (|| {
            let medium = Medium::from_image(image, Holds::Log, writable, page_size)?;
            let config = Config::new().full_policy(policy(full_policy)?);
            Ok(LogCore {
                inner: Some(MediumLog::mount(medium, config)?),
            })
        })()
        .js()
    }

    /// Appends one record; returns its offset.
    pub fn append(&mut self, record: &[u8]) -> Result<f64, JsValue> {
        with_log!(self, |l| l.append(record)).map(|o| o as f64).js()
    }

    /// Appends a batch (one atomic frame): the records concatenated in `data`, their lengths in
    /// `lens`. Returns the first record's offset.
    #[wasm_bindgen(js_name = appendBatch)]
    pub fn append_batch(&mut self, data: &[u8], lens: &[u32]) -> Result<f64, JsValue> {
        let records = args::split(data, lens).js()?;
        with_log!(self, |l| l.append_batch(&records))
            .map(|o| o as f64)
            .js()
    }

    /// Appends any number of records, in as many atomic frames as needed (each frame whole
    /// or absent after a crash, not the whole call). Returns the first record's offset.
    pub fn extend(&mut self, data: &[u8], lens: &[u32]) -> Result<f64, JsValue> {
        let records = args::split(data, lens).js()?;
        with_log!(self, |l| l.extend(&records))
            .map(|o| o as f64)
            .js()
    }

    /// The record at `offset`.
    pub fn read(&mut self, offset: f64) -> Result<Vec<u8>, JsValue> {
        let o = self.offset_arg(offset).js()?;
        with_log!(self, |l| l.read_vec(o)).js()
    }

    /// A reading position at `from` (the first readable offset when `undefined`), stopping
    /// before `stop` (the end when `undefined`).
    pub fn cursor(&mut self, from: Option<f64>, stop: Option<f64>) -> Result<CursorCore, JsValue> {
        let from = match from {
            Some(v) => self.offset_arg(v).js()?,
            None => with_log!(self, |l| Ok(l.first_offset())).js()?,
        };
        let stop = match stop {
            None => None,
            Some(v) if v == f64::INFINITY => None,
            Some(v) => Some(
                args::offset(v)
                    .ok_or(Error::InvalidArgument("stop must be a whole number >= 0"))
                    .js()?,
            ),
        };
        let cursor = with_log!(self, |l| l.cursor(from)).js()?;
        Ok(CursorCore { cursor, stop })
    }

    /// The next record at the cursor as `[offset, Uint8Array]`, or `undefined` at the end.
    #[wasm_bindgen(js_name = readNext)]
    pub fn read_next(&mut self, cur: &mut CursorCore) -> Result<JsValue, JsValue> {
        if cur.stop.is_some_and(|s| cur.cursor.offset() >= s) {
            return Ok(JsValue::UNDEFINED);
        }
        match with_log!(self, |l| l.read_next_vec(&mut cur.cursor)).js()? {
            Some((o, r)) => {
                Ok(Array::of2(&JsValue::from(o as f64), &Uint8Array::from(&r[..])).into())
            }
            None => Ok(JsValue::UNDEFINED),
        }
    }

    /// Length of the record at `offset`.
    #[wasm_bindgen(js_name = recordLen)]
    pub fn record_len(&mut self, offset: f64) -> Result<u32, JsValue> {
        let o = self.offset_arg(offset).js()?;
        with_log!(self, |l| l.record_len(o)).map(|n| n as u32).js()
    }

    /// First readable offset.
    #[wasm_bindgen(js_name = firstOffset)]
    pub fn first_offset(&mut self) -> Result<f64, JsValue> {
        with_log!(self, |l| Ok(l.first_offset() as f64)).js()
    }

    /// Offset the next record gets.
    #[wasm_bindgen(js_name = nextOffset)]
    pub fn next_offset(&mut self) -> Result<f64, JsValue> {
        with_log!(self, |l| Ok(l.next_offset() as f64)).js()
    }

    /// The log's figures as a plain object (see `Stats` in index.d.ts).
    pub fn stats(&mut self) -> Result<Object, JsValue> {
        with_log!(self, |l| {
            let s = l.stats();
            let g = l.layout();
            let o = Object::new();
            set(&o, "firstOffset", s.first_offset as f64);
            set(&o, "nextOffset", s.next_offset as f64);
            set(&o, "length", (s.next_offset - s.first_offset) as f64);
            set(&o, "bytesUsed", s.bytes_used as f64);
            set(&o, "bytesFree", s.bytes_free as f64);
            set(&o, "segmentsUsed", s.segments_used);
            set(&o, "segmentsTotal", s.segments_total);
            set(&o, "segmentSize", s.segment_size);
            set(&o, "maxRecordSize", s.max_record_size);
            set(&o, "writeSize", g.write_size);
            set(&o, "eraseSize", g.erase_size);
            set(&o, "capacity", l.storage().capacity() as f64);
            set(&o, "fullPolicy", policy_name(l.full_policy()));
            set(&o, "readOnly", l.storage().is_read_only());
            Ok(o)
        })
        .js()
    }

    /// Consumers and their committed offsets, as `[name, offset]` pairs.
    pub fn consumers(&mut self) -> Result<Array, JsValue> {
        with_log!(self, |l| Ok(l
            .consumers()
            .map(|(n, o)| Array::of2(&JsValue::from_str(n), &JsValue::from(o as f64)))
            .collect::<Array>()))
        .js()
    }

    /// A consumer's committed offset, `undefined` when it has none.
    pub fn committed(&mut self, name: &str) -> Result<Option<f64>, JsValue> {
        // `consumer` checks the name (UTF-8, 1..=32 bytes).
        with_log!(self, |l| l
            .consumer(name)
            .map(|c| c.committed().map(|o| o as f64)))
        .js()
    }

    /// Where a consumer reads next (its committed offset, or the first readable one).
    pub fn position(&mut self, name: &str) -> Result<f64, JsValue> {
        with_log!(self, |l| l.consumer(name).and_then(|c| c.position()))
            .map(|o| o as f64)
            .js()
    }

    /// Commits a consumer at `offset` (the next offset it will read).
    pub fn commit(&mut self, name: &str, offset: f64) -> Result<(), JsValue> {
        let o = self.offset_arg(offset).js()?;
        with_log!(self, |l| l.commit(name, o)).js()
    }

    /// Moves a consumer back to `offset`.
    pub fn rewind(&mut self, name: &str, offset: f64) -> Result<(), JsValue> {
        let o = self.offset_arg(offset).js()?;
        with_log!(self, |l| l.rewind(name, o)).js()
    }

    /// Removes a consumer.
    #[wasm_bindgen(js_name = removeConsumer)]
    pub fn remove_consumer(&mut self, name: &str) -> Result<(), JsValue> {
        with_log!(self, |l| l.remove_consumer(name)).js()
    }

    /// Drops the records below `offset`.
    #[wasm_bindgen(js_name = trimFront)]
    pub fn trim_front(&mut self, offset: f64) -> Result<(), JsValue> {
        let o = self.offset_arg(offset).js()?;
        with_log!(self, |l| l.trim_front(o)).js()
    }

    /// Drops the records from offset `len` on.
    #[wasm_bindgen(js_name = truncateBack)]
    pub fn truncate_back(&mut self, len: f64) -> Result<(), JsValue> {
        let o = self.offset_arg(len).js()?;
        with_log!(self, |l| l.truncate_back(o)).js()
    }

    /// The dirty pages to persist (see [`PageSet`]).
    #[wasm_bindgen(js_name = flushSet)]
    pub fn flush_set(&mut self) -> Result<PageSet, JsValue> {
        let flush = with_log!(self, |l| l.storage().flush_set()).js()?;
        Ok(PageSet { flush })
    }

    /// Marks a committed flush set's pages clean (those not changed again since).
    pub fn persisted(&mut self, set: &PageSet) -> Result<(), JsValue> {
        with_log!(self, |l| l.storage_mut().persisted(&set.flush)).js()
    }

    /// Pages changed since the last persisted flush.
    #[wasm_bindgen(js_name = dirtyPages)]
    pub fn dirty_pages(&mut self) -> Result<usize, JsValue> {
        with_log!(self, |l| Ok(l.storage().dirty_count())).js()
    }

    /// The whole image (`capacity` bytes), as a device or another language reads it.
    #[wasm_bindgen(js_name = exportImage)]
    pub fn export_image(&mut self) -> Result<Vec<u8>, JsValue> {
        with_log!(self, |l| Ok(l.storage().export_image())).js()
    }

    /// Closes the log: every later call throws `ClosedError`, and so does closing twice.
    pub fn close(&mut self) -> Result<(), JsValue> {
        match self.inner.take() {
            Some(_) => Ok(()),
            None => Err(to_js(Error::Closed)),
        }
    }

    /// Whether `close` ran.
    #[wasm_bindgen(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_none()
    }
}
