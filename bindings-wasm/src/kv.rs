//! [`KvCore`]: a KV journal — over the core's `PageStorage` (persisted in IndexedDB by
//! `js/store.js`, or an image opened writable) or over a read-only image.

use crate::args::{self, set};
use crate::errors::{to_js, IntoJs};
use crate::medium::{Holds, Medium};
use crate::pages::PageSet;
use js_sys::{Array, Object, Uint8Array};
use tidelog::{Error, KvConfig, MapIndex, Storage};
use wasm_bindgen::prelude::*;

type MediumKv = tidelog::Kv<Medium, MapIndex>;

/// Runs `$body` with `$k` bound to the mounted KV (`ClosedError` once closed).
macro_rules! with_kv {
    ($self:expr, |$k:ident| $body:expr) => {
        match $self.inner.as_mut() {
            Some($k) => $body,
            None => Err(Error::Closed),
        }
    };
}

fn high_water(percent: u32) -> Result<u8, Error> {
    u8::try_from(percent).map_err(|_| Error::InvalidArgument("highWaterPercent must be 1..=100"))
}

fn config(max_key_len: u32, max_value_len: f64, percent: u32) -> Result<KvConfig, Error> {
    let key = u8::try_from(max_key_len)
        .map_err(|_| Error::InvalidArgument("maxKeyLen must be at most 255"))?;
    let value = args::size(max_value_len, u32::MAX as u64, "maxValueLen out of range")?;
    Ok(KvConfig::new()
        .max_key_len(key)
        .max_value_len(value as u32)
        .high_water_percent(high_water(percent)?))
}

/// A KV journal (see the [module docs](self)).
#[wasm_bindgen]
pub struct KvCore {
    inner: Option<MediumKv>,
}

#[wasm_bindgen]
impl KvCore {
    /// Formats a new KV on an erased page storage of `capacity` bytes (two partitions).
    pub fn create(
        capacity: f64,
        write_size: u32,
        erase_size: u32,
        page_size: u32,
        max_key_len: u32,
        max_value_len: f64,
        high_water_percent: u32,
    ) -> Result<KvCore, JsValue> {
        (|| {
            let medium = Medium::erased(capacity, write_size, erase_size, page_size)?;
            let config = config(max_key_len, max_value_len, high_water_percent)?;
            Ok(KvCore {
                inner: Some(MediumKv::format(medium, config)?),
            })
        })()
        .js()
    }

    /// Mounts a KV from persisted pages (`indices[i]` holds `pages[i]`).
    pub fn load(
        capacity: f64,
        write_size: u32,
        erase_size: u32,
        page_size: u32,
        high_water_percent: u32,
        indices: &[u32],
        pages: &Array,
    ) -> Result<KvCore, JsValue> {
        (|| {
            let medium = Medium::load(capacity, write_size, erase_size, page_size, indices, pages)?;
            let config = KvConfig::new().high_water_percent(high_water(high_water_percent)?);
            Ok(KvCore {
                inner: Some(MediumKv::mount(medium, config)?),
            })
        })()
        .js()
    }

    /// Mounts the KV in an image (geometry from the image), read-only or, with `writable`, on
    /// a page storage holding a copy.
    #[wasm_bindgen(js_name = fromImage)]
    pub fn from_image(image: Vec<u8>, writable: bool, page_size: u32) -> Result<KvCore, JsValue> {
        (|| {
            let medium = Medium::from_image(image, Holds::Kv, writable, page_size)?;
            Ok(KvCore {
                inner: Some(MediumKv::mount(medium, KvConfig::new())?),
            })
        })()
        .js()
    }

    /// The value of `key`, or `undefined`.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, JsValue> {
        with_kv!(self, |k| k.get_vec(key)).js()
    }

    /// Sets `key` to `value`.
    pub fn set(&mut self, key: &[u8], value: &[u8]) -> Result<(), JsValue> {
        with_kv!(self, |k| k.set(key, value)).js()
    }

    /// Deletes `key`; returns whether it was there.
    pub fn delete(&mut self, key: &[u8]) -> Result<bool, JsValue> {
        with_kv!(self, |k| k.delete(key)).js()
    }

    /// Sets several pairs atomically: keys and values concatenated in `data`, the lengths in
    /// `lens` as key, value, key, value, ...
    #[wasm_bindgen(js_name = setMultiple)]
    pub fn set_multiple(&mut self, data: &[u8], lens: &[u32]) -> Result<(), JsValue> {
        let parts = args::split(data, lens).js()?;
        if parts.len() % 2 != 0 {
            return Err(to_js(Error::InvalidArgument("one value per key")));
        }
        let pairs: Vec<(&[u8], &[u8])> = parts.chunks(2).map(|c| (c[0], c[1])).collect();
        with_kv!(self, |k| k.set_multiple(&pairs)).js()
    }

    /// Every live entry as `[key, value]` pairs, ascending keys.
    pub fn entries(&mut self) -> Result<Array, JsValue> {
        fn all(k: &mut MediumKv) -> Result<Array, Error> {
            let mut c = k.cursor()?;
            let out = Array::new();
            while let Some((key, value)) = k.next_entry_vec(&mut c)? {
                out.push(&Array::of2(
                    &Uint8Array::from(&key[..]),
                    &Uint8Array::from(&value[..]),
                ));
            }
            Ok(out)
        }
        with_kv!(self, |k| all(k)).js()
    }

    /// Rewrites the live entries into the other partition.
    pub fn compact(&mut self) -> Result<(), JsValue> {
        with_kv!(self, |k| k.compact()).js()
    }

    /// The KV's figures as a plain object (see `KvStats` in index.d.ts).
    pub fn stats(&mut self) -> Result<Object, JsValue> {
        with_kv!(self, |k| {
            let s = k.stats();
            let o = Object::new();
            set(&o, "generation", s.generation as f64);
            set(&o, "partitionSize", s.partition_size);
            set(&o, "usedBytes", s.used_bytes);
            set(&o, "highWaterMark", s.high_water_mark);
            set(&o, "highWater", k.is_high_water_mark_triggered());
            set(&o, "liveKeys", s.live_keys.map(|n| n as u32));
            set(&o, "maxKeyLen", s.max_key_len);
            set(&o, "maxValueLen", s.max_value_len);
            set(&o, "capacity", k.storage().capacity() as f64);
            set(&o, "writeSize", k.storage().write_size() as u32);
            set(&o, "eraseSize", k.storage().erase_size() as u32);
            set(&o, "readOnly", k.storage().is_read_only());
            Ok(o)
        })
        .js()
    }

    /// The dirty pages to persist.
    #[wasm_bindgen(js_name = flushSet)]
    pub fn flush_set(&mut self) -> Result<PageSet, JsValue> {
        let flush = with_kv!(self, |k| k.storage().flush_set()).js()?;
        Ok(PageSet { flush })
    }

    /// Marks a committed flush set's pages clean.
    pub fn persisted(&mut self, set: &PageSet) -> Result<(), JsValue> {
        with_kv!(self, |k| k.storage_mut().persisted(&set.flush)).js()
    }

    /// Pages changed since the last persisted flush.
    #[wasm_bindgen(js_name = dirtyPages)]
    pub fn dirty_pages(&mut self) -> Result<usize, JsValue> {
        with_kv!(self, |k| Ok(k.storage().dirty_count())).js()
    }

    /// The whole image.
    #[wasm_bindgen(js_name = exportImage)]
    pub fn export_image(&mut self) -> Result<Vec<u8>, JsValue> {
        with_kv!(self, |k| Ok(k.storage().export_image())).js()
    }

    /// Closes the KV.
    pub fn close(&mut self) -> Result<(), JsValue> {
        match self.inner.take() {
            Some(_) => Ok(()),
            None => Err(to_js(Error::Closed)),
        }
    }
}
