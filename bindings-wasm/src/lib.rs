//! The wasm module behind the npm package `tidelog` (the package itself is `js/`: the
//! JavaScript classes users import, IndexedDB persistence, Web Locks, BroadcastChannel).
//!
//! This crate only converts: JS numbers to offsets, byte arrays to records, core errors to JS
//! errors carrying the core's stable code, and storage — a log lives on the core's
//! [`PageStorage`](tidelog::PageStorage), whose dirty pages `js/idb.js` persists in one
//! IndexedDB transaction per flush, or on a read-only image. Every piece of log logic is in
//! `core/`.
//!
//! | file | owns |
//! |---|---|
//! | `errors.rs` | core [`Error`](tidelog::Error) → JS `Error` with `tidelogCode` and the variant's fields; the code table |
//! | `args.rs` | JS numbers → offsets and sizes (never a trap on a fraction, a negative or a huge value); properties of returned objects |
//! | `pages.rs` | [`PageSet`]: a flush snapshot handed to JS |
//! | `medium.rs` | `Medium`: the one storage type (pages, or a read-only image: one copy of the core in the `.wasm`), made erased, from persisted pages or from an image |
//! | `log.rs` | [`LogCore`]: a log over pages or over a read-only image |
//! | `kv.rs` | [`KvCore`]: a KV journal over pages or over a read-only image |

mod args;
mod errors;
mod kv;
mod log;
mod medium;
mod pages;

pub use errors::error_codes;
pub use kv::KvCore;
pub use log::{CursorCore, LogCore};
pub use pages::PageSet;

use wasm_bindgen::prelude::wasm_bindgen;

/// The on-media format version this module writes (FORMAT.md).
#[wasm_bindgen(js_name = formatVersion)]
pub fn format_version() -> u32 {
    tidelog::format::FORMAT_VERSION as u32
}
