//! [`PageSet`]: the pages of a flush, handed to JS to persist, and the loading of persisted
//! pages back into a [`PageStorage`].

use js_sys::{Array, Uint8Array};
use tidelog::{Error, PageFlush, PageStorage};
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

/// A page storage rebuilt from persisted pages: `indices[i]` holds `pages[i]`.
pub fn load(
    capacity: usize,
    write_size: usize,
    erase_size: usize,
    page_size: usize,
    indices: &[u32],
    pages: &Array,
) -> Result<PageStorage, Error> {
    if indices.len() != pages.length() as usize {
        return Err(Error::InvalidArgument("one persisted page per index"));
    }
    let mut list = Vec::with_capacity(indices.len());
    for (i, &index) in indices.iter().enumerate() {
        let page = pages
            .get(i as u32)
            .dyn_into::<Uint8Array>()
            .map_err(|_| Error::InvalidArgument("a persisted page is not a Uint8Array"))?;
        list.push((index, page.to_vec()));
    }
    PageStorage::from_pages(capacity, write_size, erase_size, page_size, list)
}
