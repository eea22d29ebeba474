//! The review findings on the core's public API (F1–F9 of the "core, ready for three bindings"
//! issue), each pinned by the test named after it. Every one of them failed before its fix.
//!
//! * F1 `a_4_gib_storage_is_refused_and_the_last_segment_of_the_largest_one_erases` — capacity
//!   `2³²` was accepted, then the erase end of the last segment overflowed 32 bits.
//! * F2 `an_unused_index_slot_that_does_not_read_erased_is_never_programmed` — slots were
//!   programmed without a blank check: a write-twice on ECC flash.
//! * F3 (public decoders never panic) — `format_total.rs`.
//! * F4 (a member's checkpoint is not needed for chain membership) — FORMAT.md §2.1; pinned by
//!   `bitflip.rs` (a flip in an older checkpoint changes nothing).
//! * F5 `a_bit_in_the_kv_compacted_frames_falls_back_to_the_previous_generation` — mount
//!   refused the KV although the other partition held the generation before; `kv_bitflip.rs`
//!   now requires that no single flipped bit makes a KV unmountable.
//! * F6 (`bytes_free` under Reject) — `model.rs`, `check_full_append`.
//! * F7 `a_segment_of_a_newer_format_version_is_refused_not_dropped` — it was skipped, then
//!   erased by the next append.
//! * F8 `a_damaged_middle_header_loses_only_its_own_segment` — the chain stopped at it and every
//!   older member was silently lost and counted free; `bitflip.rs` checks every header bit.
//! * F9 `a_damaged_truncation_header_undoes_the_truncation_and_says_so` — the decision
//!   (FORMAT.md §7.4): no redundant copy; mount reports it.
#![cfg(feature = "sim")]

use std::collections::BTreeMap;

use tidelog::format::header::{self, FIXED_HEADER_LEN};
use tidelog::storage::{max_capacity, validate_geometry};
use tidelog::{
    Config, ConfigError, Error, FullPolicy, Kv, KvConfig, Log, SimFlash, Storage, StorageError,
};

// ---------------------------------------------------------------------------------------------
// F1

/// A sparse storage of up to 4 GiB: 4 KiB pages materialised on first program, erased pages
/// absent. It reports whatever capacity it is given, so the geometry checks see it.
struct Sparse {
    pages: BTreeMap<u32, Box<[u8; PAGE]>>,
    capacity: usize,
    erase_size: usize,
}

const PAGE: usize = 4096;

impl Sparse {
    fn new(capacity: usize, erase_size: usize) -> Self {
        Sparse {
            pages: BTreeMap::new(),
            capacity,
            erase_size,
        }
    }
}

impl Storage for Sparse {
    fn read_size(&self) -> usize {
        1
    }
    fn write_size(&self) -> usize {
        4
    }
    fn erase_size(&self) -> usize {
        self.erase_size
    }
    fn capacity(&self) -> usize {
        self.capacity
    }
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        if addr as u64 + buf.len() as u64 > self.capacity as u64 {
            return Err(StorageError::OutOfBounds);
        }
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr as u64 + i as u64;
            *b = self
                .pages
                .get(&((a / PAGE as u64) as u32))
                .map_or(0xFF, |p| p[(a % PAGE as u64) as usize]);
        }
        Ok(())
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), StorageError> {
        if addr as u64 + bytes.len() as u64 > self.capacity as u64 {
            return Err(StorageError::OutOfBounds);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let a = addr as u64 + i as u64;
            let page = self
                .pages
                .entry((a / PAGE as u64) as u32)
                .or_insert_with(|| Box::new([0xFF; PAGE]));
            page[(a % PAGE as u64) as usize] &= b;
        }
        Ok(())
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), StorageError> {
        if from > to || to as u64 > self.capacity as u64 {
            return Err(StorageError::OutOfBounds);
        }
        let (first, last) = (from / PAGE as u32, (to as u64).div_ceil(PAGE as u64) as u32);
        let keys: Vec<u32> = self.pages.range(first..last).map(|(k, _)| *k).collect();
        for k in keys {
            self.pages.remove(&k);
        }
        Ok(())
    }
    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

#[test]
fn a_4_gib_storage_is_refused_and_the_last_segment_of_the_largest_one_erases() {
    let es = 256 * 1024;
    let four_gib = 1usize << 32;
    assert_eq!(
        validate_geometry(1, 4, es, four_gib),
        Err(Error::InvalidConfig(ConfigError::CapacityTooLarge))
    );
    let cfg = Config::new().segment_sectors(128);
    let refused = Log::<Sparse>::format(Sparse::new(four_gib, es), cfg).err();
    assert_eq!(
        refused,
        Some(Error::InvalidConfig(ConfigError::CapacityTooLarge))
    );
    let kv = Kv::<Sparse>::format(Sparse::new(four_gib, es), KvConfig::new()).err();
    assert_eq!(
        kv,
        Some(Error::InvalidConfig(ConfigError::CapacityTooLarge))
    );

    // The largest capacity, 4 GiB minus one sector, in 127 segments that fill it exactly: the
    // last segment ends at the last address. Truncations move the active segment through the
    // whole ring (each opens the next segment, erasing it: the last one too), then around.
    let cap = max_capacity(es) as usize;
    assert_eq!(cap / es, 127 * 129);
    let cfg = Config::new()
        .segment_sectors(129)
        .full_policy(FullPolicy::OverwriteOldest);
    let mut log: Log<Sparse> = Log::format(Sparse::new(cap, es), cfg).unwrap();
    assert_eq!(log.layout().segment_count, 127);
    for round in 0..130u64 {
        let off = log.append(&round.to_le_bytes()).unwrap();
        log.append(b"dropped").unwrap();
        log.truncate_back(off + 1).unwrap();
    }
    assert_eq!(log.next_offset(), 130);
    let mut log: Log<Sparse> = Log::mount(log.into_storage(), cfg).unwrap();
    assert_eq!(log.next_offset(), 130);
    let mut buf = [0u8; 8];
    let first = log.first_offset();
    for off in first..130 {
        assert_eq!(log.read(off, &mut buf).unwrap(), 8);
        assert_eq!(u64::from_le_bytes(buf), off);
    }
}

// ---------------------------------------------------------------------------------------------
// F2

#[test]
fn an_unused_index_slot_that_does_not_read_erased_is_never_programmed() {
    for ws in [1usize, 4, 32] {
        let cfg = Config::new().index_interval(64);
        let mut log: Log<SimFlash> =
            Log::format(SimFlash::new(ws, 1024, 8 * 1024).unwrap(), cfg).unwrap();
        // Two frames: less than one index interval, so no slot is due yet.
        for i in 0..2u8 {
            log.append(&[i; 20]).unwrap();
        }
        let layout = *log.layout();
        // The active segment is segment 0; its slots are unused. A cleared bit in slot 3
        // (damage after the erase) is not looked for at mount, whose binary search for the
        // first unused slot never reads slot 3 of 16.
        assert_eq!(layout.max_slots(), 16);
        let slot3 = layout.slot_pos(3);
        let mut sim = log.into_storage();
        assert!(!sim.is_programmed(slot3), "slot 3 must still be unused");
        let mut image = sim.image().to_vec();
        image[slot3 as usize + 5] &= !0x10;
        sim = SimFlash::from_image(&image, ws, 1024).unwrap();
        let mut log: Log<SimFlash> = Log::mount(sim, cfg).unwrap();
        // Enough appends that slots 0..=3 fall due (one per 64 B of frames), and more.
        for i in 2..40u8 {
            let r = log.append(&[i; 20]);
            assert_eq!(
                r,
                Ok(i as u64),
                "ws {ws}: append {i} (a write-twice is the bug)"
            );
        }
        let mut log: Log<SimFlash> = Log::mount(log.into_storage(), cfg).unwrap();
        let mut buf = [0u8; 32];
        for i in 0..40u8 {
            assert_eq!(log.read(i as u64, &mut buf).unwrap(), 20, "ws {ws}");
            assert_eq!(buf[0], i);
        }
        assert_eq!(log.append(b"after").unwrap(), 40);
    }
}

// ---------------------------------------------------------------------------------------------
// F7

/// Patches the version of the fixed header at `addr` to `v` and fixes its CRC.
fn set_version(image: &mut [u8], addr: usize, v: u16) {
    image[addr + 4..addr + 6].copy_from_slice(&v.to_le_bytes());
    let crc = tidelog::format::crc32c(&image[addr..addr + 60]);
    image[addr + 60..addr + 64].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn a_segment_of_a_newer_format_version_is_refused_not_dropped() {
    let cfg = Config::new().index_interval(64);
    let mut log: Log<SimFlash> =
        Log::format(SimFlash::new(4, 1024, 8 * 1024).unwrap(), cfg).unwrap();
    for i in 0..139u32 {
        log.append(&i.to_le_bytes()).unwrap();
    }
    let tail = (0..8u32)
        .max_by_key(|&i| {
            let a = (i * 1024) as usize;
            let b: [u8; FIXED_HEADER_LEN] = log.storage().image()[a..a + 64].try_into().unwrap();
            header::decode_fixed(&b).map(|h| h.seq).unwrap_or(0)
        })
        .unwrap();
    // A firmware rollback: newer firmware wrote the newest segment in format version 2.
    let mut image = log.storage().image().to_vec();
    set_version(&mut image, tail as usize * 1024, 2);
    let sim = SimFlash::from_image(&image, 4, 1024).unwrap();
    let r = Log::<SimFlash>::mount(sim, cfg);
    assert_eq!(r.err(), Some(Error::UnsupportedVersion { found: 2 }));
    // Nothing was erased or written (mount refused before any repair).
    let sim = SimFlash::from_image(&image, 4, 1024).unwrap();
    let mut ro = tidelog::ReadOnly::new(sim);
    assert_eq!(
        Log::<&mut tidelog::ReadOnly<SimFlash>>::mount(&mut ro, cfg).err(),
        Some(Error::UnsupportedVersion { found: 2 })
    );
    assert_eq!(ro.inner().image(), &image[..]);
}

// ---------------------------------------------------------------------------------------------
// F8

#[test]
fn a_damaged_middle_header_loses_only_its_own_segment() {
    // 8 segments of 1 KiB (write unit 4), Reject: a consumer keeps the old records live, so
    // the chain holds several members.
    let cfg = Config::new()
        .index_interval(64)
        .full_policy(FullPolicy::Reject);
    let mut log: Log<SimFlash> =
        Log::format(SimFlash::new(4, 1024, 8 * 1024).unwrap(), cfg).unwrap();
    log.commit("uploader", 0).unwrap();
    let rec = |i: u64| -> Vec<u8> { (0..20).map(|k| (i * 7 + k) as u8).collect() };
    let mut next = 0u64;
    while log.stats().segments_used < 5 {
        assert_eq!(log.append(&rec(next)).unwrap(), next);
        next += 1;
    }
    let layout = *log.layout();
    let seg = layout.segment_size as usize;
    let image = log.storage().image().to_vec();
    // The chain: members by sequence number.
    let mut members: Vec<(u64, u32, u64)> = (0..layout.segment_count)
        .filter_map(|i| {
            let a = i as usize * seg;
            let b: [u8; FIXED_HEADER_LEN] = image[a..a + 64].try_into().unwrap();
            header::decode_fixed(&b)
                .ok()
                .map(|h| (h.seq, i, h.base_offset))
        })
        .collect();
    members.sort();
    assert_eq!(members.len(), 5);
    let (_, hit, hit_base) = members[2];
    let hit_end = members[3].2;
    assert!(hit_base < hit_end);
    let first = log.first_offset();

    // One bit of the third member's base offset.
    let mut damaged = image.clone();
    damaged[hit as usize * seg + 17] ^= 0x04;
    let sim = SimFlash::from_image(&damaged, 4, 1024).unwrap();
    let mut log: Log<SimFlash> = Log::mount(sim, cfg).unwrap();
    assert_eq!(log.first_offset(), first, "older members kept");
    assert_eq!(log.next_offset(), next);
    assert_eq!(log.stats().segments_used, 5, "no member counted free");
    assert_eq!(log.recovery().damaged_segments, 1);
    let mut buf = [0u8; 64];
    for off in first..next {
        match log.read(off, &mut buf) {
            Ok(n) => {
                assert!(!(hit_base..hit_end).contains(&off), "offset {off}");
                assert_eq!(&buf[..n], &rec(off)[..]);
            }
            Err(Error::Corrupt { .. }) => {
                assert!((hit_base..hit_end).contains(&off), "offset {off} lost");
            }
            Err(e) => panic!("offset {off}: {e:?}"),
        }
    }
    // The consumer delivering from its position meets the damage as an error, not a skip.
    let mut it = log.consumer("uploader").unwrap().iter().unwrap();
    let mut delivered = 0u64;
    let err = loop {
        match it.next_into(&mut buf) {
            Ok(Some((off, _))) => delivered = off + 1,
            Ok(None) => panic!("the damaged records were skipped silently"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    assert_eq!(delivered, hit_base);
    // Appends go on; the damaged segment is not reused while its neighbours are live.
    assert_eq!(log.append(b"more").unwrap(), next);
}

// ---------------------------------------------------------------------------------------------
// F9

#[test]
fn a_damaged_truncation_header_undoes_the_truncation_and_says_so() {
    let cfg = Config::new().index_interval(64);
    let mut log: Log<SimFlash> =
        Log::format(SimFlash::new(4, 1024, 8 * 1024).unwrap(), cfg).unwrap();
    for i in 0..30u32 {
        log.append(&i.to_le_bytes()).unwrap();
    }
    log.truncate_back(20).unwrap();
    let layout = *log.layout();
    // The truncation opened a new segment, whose header is the commit point.
    let image = log.storage().image().to_vec();
    let tail = (0..layout.segment_count)
        .max_by_key(|&i| {
            let a = i as usize * 1024;
            let b: [u8; FIXED_HEADER_LEN] = image[a..a + 64].try_into().unwrap();
            header::decode_fixed(&b).map(|h| h.seq).unwrap_or(0)
        })
        .unwrap();
    let mut damaged = image.clone();
    damaged[tail as usize * 1024 + 9] ^= 0x01;
    let log: Log<SimFlash> =
        Log::mount(SimFlash::from_image(&damaged, 4, 1024).unwrap(), cfg).unwrap();
    // FORMAT.md §7.4: the truncation is undone (the records come back) — and mount says that
    // the segment after the active one holds an unreadable header.
    assert_eq!(log.next_offset(), 30);
    assert!(log.recovery().unreadable_after_tail);
    // An intact image reports nothing of the kind.
    let clean: Log<SimFlash> =
        Log::mount(SimFlash::from_image(&image, 4, 1024).unwrap(), cfg).unwrap();
    assert_eq!(clean.next_offset(), 20);
    assert!(clean.recovery().is_clean(), "{:?}", clean.recovery());
}

// ---------------------------------------------------------------------------------------------
// F5

#[test]
fn a_bit_in_the_kv_compacted_frames_falls_back_to_the_previous_generation() {
    let cfg = KvConfig::new().max_key_len(16).max_value_len(64);
    let mut kv: Kv<SimFlash, tidelog::MapIndex> =
        Kv::format(SimFlash::new(4, 1024, 4 * 1024).unwrap(), cfg).unwrap();
    for i in 0..10u8 {
        kv.set(&[b'k', i], &[i; 20]).unwrap();
    }
    kv.compact().unwrap();
    let st = kv.stats();
    assert_eq!(st.generation, 2);
    let before = kv.entries().unwrap();
    kv.set(b"after", b"the compaction").unwrap();
    // One bit in the first frame the compaction wrote (just after the active header).
    let active = st.active_partition as usize;
    let frame = active * st.partition_size as usize + 40 + 6;
    let mut image = kv.storage().image().to_vec();
    image[frame] ^= 0x20;
    let mut kv: Kv<SimFlash, tidelog::MapIndex> =
        Kv::mount(SimFlash::from_image(&image, 4, 1024).unwrap(), cfg).unwrap();
    let st = kv.stats();
    assert!(st.fell_back);
    assert_eq!(st.generation, 1);
    // The map the compaction copied; the write after it is lost.
    assert_eq!(kv.entries().unwrap(), before);
    // The KV goes on; a compaction replaces the damaged generation.
    kv.set(b"new", b"value").unwrap();
    kv.compact().unwrap();
    let mut kv: Kv<SimFlash, tidelog::MapIndex> = Kv::mount(kv.into_storage(), cfg).unwrap();
    assert!(!kv.stats().fell_back);
    assert_eq!(kv.get_vec(b"new").unwrap().as_deref(), Some(&b"value"[..]));
    assert_eq!(kv.entries().unwrap().len(), before.len() + 1);
}
