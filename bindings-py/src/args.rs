//! Argument conversions shared by the classes: durability and full-policy words, offsets and
//! sizes given as Python ints.

use crate::errors;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyInt;
use tidelog::{Durability, Error, FullPolicy};

/// `"every_write"` / `"explicit"`.
pub fn durability(py: Python<'_>, word: &str) -> PyResult<Durability> {
    match word {
        "every_write" => Ok(Durability::EveryWrite),
        "explicit" => Ok(Durability::Explicit),
        _ => Err(errors::core(
            py,
            Error::InvalidArgument("durability must be \"every_write\" or \"explicit\""),
        )),
    }
}

/// The word of a durability mode.
pub fn durability_word(d: Durability) -> &'static str {
    match d {
        Durability::EveryWrite => "every_write",
        Durability::Explicit => "explicit",
    }
}

/// `"reject"` / `"overwrite_oldest"`.
pub fn full_policy(py: Python<'_>, word: &str) -> PyResult<FullPolicy> {
    match word {
        "reject" => Ok(FullPolicy::Reject),
        "overwrite_oldest" => Ok(FullPolicy::OverwriteOldest),
        _ => Err(errors::core(
            py,
            Error::InvalidArgument("full_policy must be \"reject\" or \"overwrite_oldest\""),
        )),
    }
}

/// The word of a full policy.
pub fn full_policy_word(p: FullPolicy) -> &'static str {
    match p {
        FullPolicy::Reject => "reject",
        FullPolicy::OverwriteOldest => "overwrite_oldest",
    }
}

/// An offset argument: a Python int, which may lie outside `u64` (negative or huge).
#[derive(Debug, Clone, Copy)]
pub enum Offset {
    /// Representable.
    At(u64),
    /// Negative or above 2^64 - 1: no record is there.
    Outside,
}

impl Offset {
    /// `obj` as an offset. `TypeError` for anything but an int.
    pub fn extract(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        let Ok(int) = obj.cast::<PyInt>() else {
            return Err(PyTypeError::new_err(format!(
                "{what} must be an int, not '{}'",
                obj.get_type().name()?
            )));
        };
        Ok(match int.extract::<u64>() {
            Ok(v) => Offset::At(v),
            Err(_) => Offset::Outside,
        })
    }
}

/// A size argument (a capacity, a count): a non-negative int that fits in `u64`. `what`
/// names it in a `TypeError`; `rule` is the message of the `InvalidArgumentError` for a
/// negative or huge value.
pub fn size(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    what: &str,
    rule: &'static str,
) -> PyResult<u64> {
    match Offset::extract(obj, what)? {
        Offset::At(v) => Ok(v),
        Offset::Outside => Err(errors::core(py, Error::InvalidArgument(rule))),
    }
}
