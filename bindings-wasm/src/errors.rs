//! Core errors as JS exceptions.
//!
//! Every failing call throws a plain JS `Error` whose message is the core's text and whose
//! `tidelogCode` is the core's stable [`ErrorCode`] number, with the variant's fields
//! (`first`/`next`, `len`/`max`, `needed`, `found`, `addr`, `firstAvailable`, `errno`).
//! `js/errors.js` turns it into the `TidelogError` subclass for that code; [`error_codes`]
//! exports the table, so a browser test checks that every code has its class.

use crate::args::set;
use js_sys::Array;
use tidelog::{Error, ErrorCode, StorageError};
use wasm_bindgen::prelude::*;

/// The core's error table: `[code, name, description]` for every code, ascending.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Array {
    ErrorCode::ALL
        .iter()
        .map(|c| {
            Array::of3(
                &JsValue::from(c.as_u16()),
                &JsValue::from_str(c.name()),
                &JsValue::from_str(c.description()),
            )
        })
        .collect()
}

/// The JS exception for a core error.
pub fn to_js(e: Error) -> JsValue {
    let err: JsValue = js_sys::Error::new(&e.to_string()).into();
    set(&err, "tidelogCode", e.code().as_u16());
    match e {
        Error::Corrupt { addr } => set(&err, "addr", addr),
        Error::OutOfRange { first, next } => {
            set(&err, "first", first as f64);
            set(&err, "next", next as f64);
        }
        Error::Overwritten { first_available } => {
            set(&err, "firstAvailable", first_available as f64)
        }
        Error::TooLarge { len, max } => {
            set(&err, "len", len);
            set(&err, "max", max);
        }
        Error::BufferTooSmall { needed } => set(&err, "needed", needed),
        Error::UnsupportedVersion { found } => set(&err, "found", found),
        Error::Storage(StorageError::Device(n)) => set(&err, "errno", n),
        _ => {}
    }
    err
}

/// `?` on a core result: `.js()?`.
pub trait IntoJs<T> {
    /// The value, or the JS exception for the error.
    fn js(self) -> Result<T, JsValue>;
}

impl<T> IntoJs<T> for Result<T, Error> {
    fn js(self) -> Result<T, JsValue> {
        self.map_err(to_js)
    }
}
