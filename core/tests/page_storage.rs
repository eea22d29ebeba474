//! `PageStorage` (the page cache a binding persists, e.g. to IndexedDB) under the invariants:
//!
//! * it behaves as a NOR medium exactly like `VecStorage` (same bytes after any sequence of
//!   programs and erases; erased pages are not held in memory);
//! * the persisted set, built only from `flush_set` snapshots that committed, is always the
//!   image as it was at the last committed flush — a snapshot that did not commit (a lost
//!   transaction) changes nothing, and pages written while a transaction was in flight stay
//!   dirty for the next one;
//! * a log (and a KV) recovered from the persisted set after a crash is exactly the state at
//!   the last committed flush: every record appended before it, nothing torn, no gap;
//! * a flush at *any* storage call inside an operation (sweep) leaves an image that mounts to
//!   the state before or after that operation, never a torn batch or a gap.
#![cfg(feature = "alloc")]

use std::collections::BTreeMap;
use tidelog::storage::page::DEFAULT_PAGE_SIZE;
use tidelog::{
    Config, Error, FullPolicy, Kv, KvConfig, Log, MapIndex, PageFlush, PageStorage, Storage,
    StorageError, VecStorage,
};

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

/// What a binding persists: page index -> bytes, changed only by committed flush sets.
#[derive(Default, Clone)]
struct Store {
    pages: BTreeMap<u32, Vec<u8>>,
}

impl Store {
    fn apply(&mut self, f: &PageFlush) {
        for (i, p) in &f.pages {
            match p {
                Some(b) => self.pages.insert(*i, b.clone()),
                None => self.pages.remove(i),
            };
        }
    }
    /// A committed flush: the snapshot reaches the store, the storage learns it.
    fn flush(&mut self, s: &mut PageStorage) {
        let f = s.flush_set();
        self.apply(&f);
        s.persisted(&f);
    }
    fn load(&self, like: &PageStorage) -> PageStorage {
        PageStorage::from_pages(
            like.capacity(),
            like.write_size(),
            like.erase_size(),
            like.page_size(),
            self.pages.clone(),
        )
        .expect("the persisted pages load")
    }
}

fn content(offset: u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (offset.wrapping_mul(31).wrapping_add(i as u64 * 7)) as u8)
        .collect()
}

#[test]
fn geometry_and_page_size_are_checked() {
    assert!(matches!(
        PageStorage::new(64 * 1024, 4, 4096, 100),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        PageStorage::new(64 * 1024, 512, 4096, 256),
        Err(Error::InvalidConfig(_))
    ));
    assert!(matches!(
        PageStorage::new(64 * 1024, 256, 4096, 128),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        PageStorage::new(1000, 4, 4096, 4096),
        Err(Error::InvalidConfig(_))
    ));
    // A short last page: 3 sectors of 256 B under 1 KiB pages.
    let s = PageStorage::new(768, 1, 256, 1024).unwrap();
    assert_eq!((s.page_count(), s.page_len(0)), (1, 768));
    // Persisted pages that do not fit the geometry are refused, not trusted.
    let bad = |pages: Vec<(u32, Vec<u8>)>| PageStorage::from_pages(8192, 4, 4096, 4096, pages);
    assert!(matches!(
        bad(vec![(2, vec![0; 4096])]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        bad(vec![(0, vec![0; 100])]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        bad(vec![(1, vec![0; 4096]), (1, vec![1; 4096])]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn bounds_and_alignment_are_the_media_rules() {
    let mut s = PageStorage::new(8192, 4, 4096, 4096).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(s.read(8190, &mut buf), Err(StorageError::OutOfBounds));
    assert_eq!(s.program(2, &[0; 4]), Err(StorageError::NotAligned));
    assert_eq!(s.program(8192, &[0; 4]), Err(StorageError::OutOfBounds));
    assert_eq!(s.erase(0, 100), Err(StorageError::NotAligned));
    assert_eq!(s.dirty_count(), 0, "a refused call changes nothing");
}

/// Random programs (spanning pages, 0xFF included) and erases on both storages: same bytes,
/// and no fully erased page is ever held.
#[test]
fn behaves_like_vec_storage_and_holds_no_erased_page() {
    for (ws, es, ps) in [
        (1, 256, 256),
        (4, 4096, 4096),
        (32, 1024, 4096),
        (8, 8192, 1024),
    ] {
        let cap = es * 16;
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (ws * es * ps) as u64);
        let mut p = PageStorage::new(cap, ws, es, ps).unwrap();
        let mut v = VecStorage::new(cap, ws, es).unwrap();
        for _ in 0..3000 {
            if rng.below(8) == 0 {
                let a = rng.below(16) as u32;
                let b = a + 1 + rng.below(16 - a as u64) as u32;
                p.erase(a * es as u32, b * es as u32).unwrap();
                v.erase(a * es as u32, b * es as u32).unwrap();
            } else {
                let units = 1 + rng.below(3 * ps as u64 / ws as u64) as usize;
                let addr = rng.below((cap / ws - units) as u64 + 1) as usize * ws;
                let bytes: Vec<u8> = (0..units * ws)
                    .map(|_| {
                        if rng.below(4) == 0 {
                            0xFF
                        } else {
                            rng.next() as u8
                        }
                    })
                    .collect();
                p.program(addr as u32, &bytes).unwrap();
                v.program(addr as u32, &bytes).unwrap();
            }
        }
        assert_eq!(p.export_image(), v.as_slice(), "ws {ws} es {es} ps {ps}");
        for (i, page) in p.pages() {
            assert!(
                page.iter().any(|&b| b != 0xFF),
                "page {i} is erased but held"
            );
        }
        let mut a = vec![0u8; cap];
        p.read(0, &mut a).unwrap();
        assert_eq!(a, v.as_slice());
    }
}

/// A snapshot taken, then more writes, then the commit: the later writes stay dirty; a
/// snapshot that never commits leaves the store as it was.
#[test]
fn writes_during_a_flush_stay_dirty_and_a_lost_flush_changes_nothing() {
    let mut s = PageStorage::new(16 * 4096, 4, 4096, 4096).unwrap();
    let mut store = Store::default();
    s.program(0, &[1, 2, 3, 4]).unwrap();
    s.program(4096, &[5, 6, 7, 8]).unwrap();
    let inflight = s.flush_set();
    assert_eq!(inflight.pages.len(), 2);
    s.program(4, &[9, 9, 9, 9]).unwrap(); // page 0 again, while the transaction runs
    store.apply(&inflight);
    s.persisted(&inflight);
    assert_eq!(s.dirty_count(), 1, "page 0 changed after the snapshot");
    let lost = s.flush_set();
    assert_eq!(lost.pages.len(), 1);
    // The transaction of `lost` aborts: the store keeps the first commit, page 0 stays dirty.
    assert_eq!(
        store.load(&s).export_image()[..8],
        [1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF]
    );
    assert_eq!(s.dirty_count(), 1);
    store.flush(&mut s);
    assert_eq!(store.load(&s).export_image(), s.export_image());
    assert!(s.flush_set().is_empty());
    // An erase is persisted as a page deletion.
    s.erase(0, 8192).unwrap();
    let f = s.flush_set();
    assert_eq!(f.pages, vec![(0, None), (1, None)]);
    store.apply(&f);
    s.persisted(&f);
    assert!(store.pages.is_empty());
    assert_eq!(s.materialised(), 0);
}

#[derive(Clone, Debug, PartialEq)]
struct LogState {
    first: u64,
    next: u64,
    records: Vec<(u64, Vec<u8>)>,
    cursor: Option<u64>,
}

type L = Log<PageStorage, 4>;

fn state(log: &mut L) -> LogState {
    let (first, next) = (log.first_offset(), log.next_offset());
    let mut records = Vec::new();
    let mut c = log.cursor(first).unwrap();
    while let Some((o, r)) = log.read_next_vec(&mut c).unwrap() {
        records.push((o, r));
    }
    LogState {
        first,
        next,
        records,
        cursor: log.committed("up"),
    }
}

/// One random log operation (appends, batches, commits, trims, truncations).
fn random_op(log: &mut L, rng: &mut Rng) {
    let n = log.next_offset();
    let r = match rng.below(10) {
        0..=3 => log.append(&content(n, rng.below(300) as usize)).map(|_| ()),
        4..=5 => {
            let recs: Vec<Vec<u8>> = (0..1 + rng.below(6))
                .map(|i| content(n + i, rng.below(120) as usize))
                .collect();
            let refs: Vec<&[u8]> = recs.iter().map(|r| &r[..]).collect();
            log.append_batch(&refs).map(|_| ())
        }
        6 => {
            let from = log.committed("up").unwrap_or(0).max(log.first_offset());
            log.commit("up", from + rng.below(n.saturating_sub(from) + 1))
        }
        7 => {
            let first = log.first_offset();
            log.trim_front(first + rng.below((n - first) / 2 + 1))
        }
        8 if rng.below(4) == 0 => {
            let first = log.first_offset();
            log.truncate_back(n - rng.below((n - first).min(3) + 1))
        }
        _ => log.sync(),
    };
    match r {
        Ok(()) | Err(Error::Full) | Err(Error::OutOfRange { .. }) => {}
        Err(e) => panic!("unexpected error {e:?}"),
    }
    if log.stats().bytes_free < 2048 {
        let to = log.next_offset() - (log.next_offset() - log.first_offset()) / 4;
        log.trim_front(to).unwrap();
    }
}

/// Random operations with flushes that commit, flushes that are lost and crashes: after each
/// crash the log reloaded from the store is exactly the state of the last committed flush.
#[test]
fn a_crash_recovers_exactly_the_last_committed_flush() {
    let mut crashes = 0;
    for seed in 1..=12u64 {
        let policy = if seed % 2 == 0 {
            FullPolicy::Reject
        } else {
            FullPolicy::OverwriteOldest
        };
        let (ws, es, ps) = [(4, 4096, 4096), (1, 1024, 4096), (32, 4096, 1024)][seed as usize % 3];
        let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let config = Config::new().full_policy(policy);
        let mut store = Store::default();
        let mut log = L::format(PageStorage::new(es * 12, ws, es, ps).unwrap(), config).unwrap();
        store.flush(log.storage_mut());
        let mut committed = state(&mut log);
        for _ in 0..4000 {
            match rng.below(40) {
                0..=3 => {
                    store.flush(log.storage_mut());
                    committed = state(&mut log);
                    assert_eq!(
                        store.load(log.storage()).export_image(),
                        log.storage().export_image()
                    );
                }
                4 => {
                    let _lost = log.storage().flush_set(); // its transaction aborts
                }
                5 => {
                    crashes += 1;
                    let storage = store.load(log.storage());
                    log = L::mount(storage, config).expect("the persisted image mounts");
                    assert_eq!(state(&mut log), committed, "seed {seed}: recovered state");
                }
                _ => random_op(&mut log, &mut rng),
            }
        }
    }
    assert!(crashes > 500, "{crashes} crashes");
}

/// A storage that commits a flush at one chosen mutating call (before it takes effect).
struct FlushAt {
    inner: PageStorage,
    store: Store,
    calls: usize,
    at: usize,
}

impl FlushAt {
    fn tick(&mut self) {
        if self.calls == self.at {
            self.store.flush(&mut self.inner);
        }
        self.calls += 1;
    }
}

impl Storage for FlushAt {
    fn read_size(&self) -> usize {
        1
    }
    fn write_size(&self) -> usize {
        self.inner.write_size()
    }
    fn erase_size(&self) -> usize {
        self.inner.erase_size()
    }
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        self.inner.read(addr, buf)
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        self.tick();
        self.inner.program(addr, bytes)
    }
    fn program_index(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        self.tick();
        self.inner.program_index(addr, bytes)
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        self.tick();
        self.inner.erase(from, to)
    }
    fn fence(&mut self) -> Result<(), StorageError> {
        self.tick();
        Ok(())
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        self.tick();
        Ok(())
    }
}

/// A flush at every storage call of a script (appends, batches, commits, trims, wraparound):
/// the image mounts to the state before or after the operation the call belonged to.
#[test]
fn a_flush_inside_any_operation_leaves_the_state_before_or_after_it() {
    let script = |log: &mut Log<FlushAt, 4>, i: u64| -> Result<(), Error> {
        let n = log.next_offset();
        match i % 7 {
            0..=2 => log
                .append(&content(n, 40 + (i as usize * 37) % 400))
                .map(|_| ()),
            3 => {
                let recs: Vec<Vec<u8>> = (0..4).map(|k| content(n + k, 60)).collect();
                let refs: Vec<&[u8]> = recs.iter().map(|r| &r[..]).collect();
                log.append_batch(&refs).map(|_| ())
            }
            4 => {
                let from = log.committed("up").unwrap_or(0).max(log.first_offset());
                log.commit("up", from + (n.saturating_sub(from)) / 2)
            }
            5 => log.trim_front(n - (n - log.first_offset()) * 2 / 3),
            _ => log.sync(),
        }
    };
    for policy in [FullPolicy::Reject, FullPolicy::OverwriteOldest] {
        let config = Config::new().full_policy(policy);
        let ops = 240u64;
        let run = |at: usize| {
            let inner = PageStorage::new(6 * 1024, 4, 1024, 1024).unwrap();
            let st = FlushAt {
                inner,
                store: Store::default(),
                calls: 0,
                at,
            };
            let mut log = Log::<FlushAt, 4>::format(st, config).unwrap();
            let mut states = vec![log.storage().inner.export_image()];
            let mut at_op = None;
            for i in 0..ops {
                let before = log.storage().calls;
                let _ = script(&mut log, i);
                let after = log.storage().calls;
                states.push(log.storage().inner.export_image());
                if (before..after).contains(&at) {
                    at_op = Some(i as usize);
                }
            }
            (log, states, at_op)
        };
        let (reference, images, _) = run(usize::MAX);
        let total = reference.storage().calls;
        let view = |img: Vec<u8>| -> LogState {
            let mut l = L::mount(
                PageStorage::from_image(&img, 4, 1024, 1024).unwrap(),
                config,
            )
            .expect("mounts");
            state(&mut l)
        };
        let states: Vec<LogState> = images.into_iter().map(view).collect();
        let mut checked = 0;
        for at in 0..total {
            let (log, _, op) = run(at);
            let Some(op) = op else { continue };
            let st = log.storage();
            let mut recovered = L::mount(st.store.load(&st.inner), config)
                .unwrap_or_else(|e| panic!("{policy:?}: flush at call {at} (op {op}): {e:?}"));
            let got = state(&mut recovered);
            let (before, after) = (&states[op], &states[op + 1]);
            assert!(
                got == *before || got == *after,
                "{policy:?}: flush at call {at} inside op {op}: {got:?}\nbefore {before:?}\nafter {after:?}"
            );
            checked += 1;
        }
        eprintln!("{policy:?}: a flush at {checked} storage calls inside operations");
        assert!(checked > 250, "{policy:?}: {checked} points");
    }
}

/// The KV over pages: a crash recovers the entries of the last committed flush.
#[test]
fn kv_recovers_the_last_committed_flush() {
    type K = Kv<PageStorage, MapIndex>;
    let mut rng = Rng(77);
    let mut store = Store::default();
    let storage = PageStorage::new(4 * 4096, 4, 4096, DEFAULT_PAGE_SIZE).unwrap();
    let mut kv = K::format(storage, KvConfig::new()).unwrap();
    store.flush(kv.storage_mut());
    let entries = |kv: &mut K| -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut c = kv.cursor().unwrap();
        let mut m = BTreeMap::new();
        while let Some((k, v)) = kv.next_entry_vec(&mut c).unwrap() {
            m.insert(k, v);
        }
        m
    };
    let mut committed = entries(&mut kv);
    for step in 0..3000 {
        let key = [b'k', rng.below(40) as u8];
        match rng.below(20) {
            0 => {
                store.flush(kv.storage_mut());
                committed = entries(&mut kv);
            }
            1 => {
                kv = K::mount(store.load(kv.storage()), KvConfig::new()).unwrap();
                assert_eq!(entries(&mut kv), committed, "step {step}");
            }
            2..=4 => {
                kv.delete(&key).unwrap();
            }
            5 => {
                let v = content(step, 10);
                kv.set_multiple(&[(&key[..], &v[..]), (b"pair", &v[..])])
                    .unwrap();
            }
            _ => kv
                .set(&key, &content(step, rng.below(200) as usize))
                .unwrap(),
        }
    }
}

/// An image written on PageStorage is byte-identical to the same operations on VecStorage.
#[test]
fn the_image_is_byte_identical_to_vec_storage() {
    let config = Config::new().full_policy(FullPolicy::OverwriteOldest);
    let mut a =
        Log::<PageStorage, 4>::format(PageStorage::new(8 * 4096, 8, 4096, 4096).unwrap(), config)
            .unwrap();
    let mut b =
        Log::<VecStorage, 4>::format(VecStorage::new(8 * 4096, 8, 4096).unwrap(), config).unwrap();
    for i in 0..3000u64 {
        let r = content(i, (i % 250) as usize);
        assert_eq!(a.append(&r).unwrap(), b.append(&r).unwrap());
        if i % 97 == 0 {
            a.commit("up", i).unwrap();
            b.commit("up", i).unwrap();
        }
    }
    assert_eq!(a.storage().export_image(), b.storage().as_slice());
    assert!(a.storage().materialised() <= 8);
}
