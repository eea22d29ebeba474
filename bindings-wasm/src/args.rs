//! JS values to Rust and back: numbers to offsets and sizes, properties of the plain objects
//! the module returns.
//!
//! Offsets cross the boundary as JS numbers (`f64`): every offset a log can reach in practice
//! is below 2^53, where a number is exact. A value that is not a whole number in
//! `0..=Number.MAX_SAFE_INTEGER` (negative, fractional, NaN, infinite, huge) is outside every
//! log: it gets the same error as an offset past the end, never a trap or a silent rounding.

use js_sys::Reflect;
use tidelog::Error;
use wasm_bindgen::JsValue;

/// The largest integer a JS number holds exactly.
pub const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// `v` as an offset, or `None` when no log has it.
pub fn offset(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_SAFE).then_some(v as u64)
}

/// `v` as a size in `0..=max`, or `InvalidArgument(what)`.
pub fn size(v: f64, max: u64, what: &'static str) -> Result<u64, Error> {
    match offset(v) {
        Some(n) if n <= max => Ok(n),
        _ => Err(Error::InvalidArgument(what)),
    }
}

/// A storage capacity: a size below 4 GiB.
pub fn capacity(v: f64) -> Result<usize, Error> {
    size(v, u32::MAX as u64, "capacity must be below 4 GiB").map(|n| n as usize)
}

/// Sets `obj[key] = value` on an object this module made (it cannot fail there).
pub fn set(obj: &JsValue, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

/// A batch passed as one buffer of concatenated records and their lengths, split back into
/// records. Errors: `InvalidArgument` when the lengths do not add up to the buffer.
pub fn split<'a>(data: &'a [u8], lens: &[u32]) -> Result<Vec<&'a [u8]>, Error> {
    let mut out = Vec::with_capacity(lens.len());
    let mut at = 0usize;
    for &n in lens {
        let end = at
            .checked_add(n as usize)
            .filter(|&e| e <= data.len())
            .ok_or(Error::InvalidArgument(
                "batch lengths exceed the batch data",
            ))?;
        out.push(&data[at..end]);
        at = end;
    }
    if at != data.len() {
        return Err(Error::InvalidArgument(
            "batch lengths do not cover the batch data",
        ));
    }
    Ok(out)
}
