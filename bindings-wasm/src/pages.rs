//! [`PageSet`]: the pages of a flush, handed to JS to persist.

use js_sys::Uint8Array;
use tidelog::PageFlush;
use wasm_bindgen::prelude::*;

/// A snapshot of the dirty pages of a log or KV (from `flushSet()`): `js/idb.js` writes each
/// page (`page(i)`, or deletes it when that is `undefined`: the page is erased) and the
/// manifest in one transaction, then hands the set back to `persisted()`.
#[wasm_bindgen]
pub struct PageSet {
    pub(crate) flush: PageFlush,
}

#[wasm_bindgen]
impl PageSet {
    /// Number of pages in the set.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.flush.pages.len()
    }
    /// Index of the `i`-th page of the set (ascending).
    pub fn index(&self, i: usize) -> Option<u32> {
        self.flush.pages.get(i).map(|p| p.0)
    }
    /// Bytes of the `i`-th page, or `undefined` when it is erased (delete it).
    pub fn page(&self, i: usize) -> Option<Uint8Array> {
        self.flush
            .pages
            .get(i)
            .and_then(|p| p.1.as_deref())
            .map(Uint8Array::from)
    }
}
