//! The two index variants of the KV journal: where `get` finds a key.
//!
//! * [`ScanIndex`] (no heap, zero bytes of RAM): nothing is kept in RAM. `get` walks the
//!   active partition's journal from the start, verifying every frame, and takes the newest
//!   entry for the key: O(journal bytes) per lookup. Compaction and iteration decide whether
//!   an entry is live by looking for a later entry with the same key: O(entries²) key reads.
//!   Right for small journals (a few KiB, tens to hundreds of keys) on memory-mapped NOR,
//!   where reads are cheap and RAM is not.
//! * `MapIndex` (feature `alloc`): a `BTreeMap<Vec<u8>, location>` of every live key,
//!   rebuilt at mount. `get` is O(log n) plus one frame read and CRC check; compaction and
//!   iteration are O(n log n). Costs the keys plus ~40 bytes per key of heap.
//!
//! Both read and write exactly the same bytes: an image written with one mounts with the
//! other, and the same sequence of operations produces byte-identical images.

/// Where an entry lives: its frame (to verify the CRC before returning bytes) and the entry
/// itself (absolute addresses in the storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub(crate) frame: u32,
    pub(crate) entry: u32,
}

/// What an index knows about a key (internal to the journal).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The key is live; its newest entry is here.
    Found(Loc),
    /// The key is not live.
    Absent,
    /// The index does not know: scan the journal.
    Unknown,
}

pub(crate) mod sealed {
    use super::{Loc, Lookup};

    /// The operations the journal needs from an index (not public API).
    pub trait IndexImpl {
        /// True when the index holds every live key (lookups never answer `Unknown`).
        const INDEXED: bool;
        /// An empty index.
        fn new_index() -> Self;
        /// Forgets everything.
        fn clear(&mut self);
        /// `key` was set by the entry at `loc`.
        fn note_set(&mut self, key: &[u8], loc: Loc);
        /// `key` was deleted.
        fn note_delete(&mut self, key: &[u8]);
        /// Where the newest entry of `key` is.
        fn lookup(&self, key: &[u8]) -> Lookup;
        /// Whether the entry at `entry` is the live one for `key` (`None`: unknown).
        fn is_live(&self, key: &[u8], entry: u32) -> Option<bool>;
        /// After a compaction: moves every location by `relocs` (sorted by old entry address:
        /// `(old entry, new location)`). False if a live key was not relocated.
        fn relocate(&mut self, relocs: &[(u32, Loc)]) -> bool;
        /// Number of live keys, when known.
        fn live_keys(&self) -> Option<usize>;
        /// The location of the smallest key greater than `after` (the first key if `None`).
        fn next_after(&self, after: Option<&[u8]>) -> Option<Loc>;
    }
}

/// An index variant of [`Kv`](super::Kv): [`ScanIndex`] or (feature `alloc`) `MapIndex`.
/// Sealed: the journal relies on the exact behaviour of these two.
pub trait KvIndex: sealed::IndexImpl {}

/// No index: lookups scan the journal (no heap, no RAM per key). See the
/// [module docs](self) for the trade-off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanIndex;

impl KvIndex for ScanIndex {}

impl sealed::IndexImpl for ScanIndex {
    const INDEXED: bool = false;
    fn new_index() -> Self {
        ScanIndex
    }
    fn clear(&mut self) {}
    fn note_set(&mut self, _key: &[u8], _loc: Loc) {}
    fn note_delete(&mut self, _key: &[u8]) {}
    fn lookup(&self, _key: &[u8]) -> Lookup {
        Lookup::Unknown
    }
    fn is_live(&self, _key: &[u8], _entry: u32) -> Option<bool> {
        None
    }
    fn relocate(&mut self, _relocs: &[(u32, Loc)]) -> bool {
        true
    }
    fn live_keys(&self) -> Option<usize> {
        None
    }
    fn next_after(&self, _after: Option<&[u8]>) -> Option<Loc> {
        None
    }
}

#[cfg(feature = "alloc")]
pub use map::MapIndex;

#[cfg(feature = "alloc")]
mod map {
    use super::{sealed, KvIndex, Loc, Lookup};
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use core::ops::Bound;

    /// An in-RAM `BTreeMap` from every live key to its newest entry (feature `alloc`):
    /// O(log n) `get`, iteration in ascending key order. See the [module docs](super).
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct MapIndex {
        map: BTreeMap<Vec<u8>, Loc>,
    }

    impl KvIndex for MapIndex {}

    impl sealed::IndexImpl for MapIndex {
        const INDEXED: bool = true;
        fn new_index() -> Self {
            MapIndex::default()
        }
        fn clear(&mut self) {
            self.map.clear();
        }
        fn note_set(&mut self, key: &[u8], loc: Loc) {
            match self.map.get_mut(key) {
                Some(l) => *l = loc,
                None => {
                    self.map.insert(key.to_vec(), loc);
                }
            }
        }
        fn note_delete(&mut self, key: &[u8]) {
            self.map.remove(key);
        }
        fn lookup(&self, key: &[u8]) -> Lookup {
            match self.map.get(key) {
                Some(l) => Lookup::Found(*l),
                None => Lookup::Absent,
            }
        }
        fn is_live(&self, key: &[u8], entry: u32) -> Option<bool> {
            Some(self.map.get(key).is_some_and(|l| l.entry == entry))
        }
        fn relocate(&mut self, relocs: &[(u32, Loc)]) -> bool {
            let mut ok = true;
            for loc in self.map.values_mut() {
                match relocs.binary_search_by_key(&loc.entry, |r| r.0) {
                    Ok(i) => *loc = relocs[i].1,
                    Err(_) => ok = false,
                }
            }
            ok
        }
        fn live_keys(&self) -> Option<usize> {
            Some(self.map.len())
        }
        fn next_after(&self, after: Option<&[u8]>) -> Option<Loc> {
            let lower = match after {
                Some(k) => Bound::Excluded(k),
                None => Bound::Unbounded,
            };
            self.map
                .range::<[u8], _>((lower, Bound::Unbounded))
                .next()
                .map(|(_, l)| *l)
        }
    }
}
