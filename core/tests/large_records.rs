//! Records larger than the read window (128 B): their frame's CRC is checked as the record is
//! copied into the caller's buffer (one read for the body and the CRC) instead of streamed
//! through the window and then read a second time for the copy. These tests pin what that must
//! not change: damage in such a record — in its body, its CRC or its length — is `Corrupt` for
//! every way of reading it (read, iterate, peek the length, a buffer too small, into a vector),
//! the bytes are never handed on, and the records around it keep their offsets; and what it
//! buys, counted by `SimFlash`: reads per record while iterating.
#![cfg(all(feature = "sim", feature = "alloc"))]

use tidelog::{Config, Error, FullPolicy, Log, SimFlash};

const MAGIC: &[u8; 8] = b"LARGEREC";

/// Record `i`: `len` bytes, the magic and `i` first (so a test can find it in the image).
fn record(i: u64, len: usize) -> Vec<u8> {
    let mut r: Vec<u8> = (0..len).map(|k| (k as u64 * 31 + i) as u8).collect();
    r[..8].copy_from_slice(MAGIC);
    r[8..16].copy_from_slice(&i.to_le_bytes());
    r
}

fn len_of(i: u64) -> usize {
    // Around the window's size and well past it, a few write units apart.
    [129, 200, 700, 1000, 1500][(i % 5) as usize]
}

fn log_with(records: u64, write_size: usize) -> Log<SimFlash> {
    let sim = SimFlash::new(write_size, 4096, 4096 * 16).unwrap();
    let cfg = Config::new()
        .full_policy(FullPolicy::Reject)
        .index_interval(2048);
    let mut log = Log::format(sim, cfg).unwrap();
    for i in 0..records {
        log.append(&record(i, len_of(i))).unwrap();
    }
    log
}

/// Address of record `i`'s body in the image.
fn body_addr(log: &Log<SimFlash>, i: u64) -> u32 {
    let mut key = MAGIC.to_vec();
    key.extend_from_slice(&i.to_le_bytes());
    let img = log.storage().image();
    img.windows(key.len()).position(|w| w == key).unwrap() as u32
}

#[test]
fn iterating_large_records_costs_two_reads_each() {
    for ws in [1, 4, 32] {
        let mut log = log_with(60, ws);
        log.storage_mut().reset_stats();
        let mut buf = vec![0u8; 4096];
        let mut it = log.iter(0).unwrap();
        let mut n = 0;
        while let Some((off, len)) = it.next_into(&mut buf).unwrap() {
            assert_eq!(
                &buf[..len],
                &record(off, len_of(off))[..],
                "unit {ws}, record {off}"
            );
            n += 1;
        }
        assert_eq!(n, 60);
        let reads = log.storage().stats().reads as f64 / 60.0;
        eprintln!("unit {ws}: {reads:.2} reads per record of 129..1500 B");
        // The frame header (through the window) and the body with its CRC; the first record
        // also pays for the search, and each of the ~11 segment crossings for the next
        // member's header and end. (Streaming the CRC through the window and then reading the
        // record again cost 7.45 reads per record here.)
        assert!(reads <= 2.6, "unit {ws}: {reads:.2} reads per record");
    }
}

#[test]
fn a_buffer_with_no_room_for_the_crc_still_gets_the_record_and_keeps_its_tail() {
    let mut log = log_with(10, 4);
    for i in 0..10 {
        let len = len_of(i);
        for extra in 0..6 {
            let mut buf = vec![0xA5u8; len + extra];
            assert_eq!(log.read(i, &mut buf).unwrap(), len);
            assert_eq!(&buf[..len], &record(i, len)[..]);
            assert!(
                buf[len..].iter().all(|&b| b == 0xA5),
                "bytes past the record"
            );
        }
        let mut small = vec![0u8; len - 1];
        assert_eq!(
            log.read(i, &mut small),
            Err(Error::BufferTooSmall { needed: len as u32 })
        );
    }
}

/// Every way of reading record `i` is `Corrupt`; every other record reads back whole or is
/// `Corrupt` (a walk cannot pass a damaged frame), never other bytes.
fn check_damaged(log: &mut Log<SimFlash>, bad: u64, records: u64) {
    let len = len_of(bad);
    let corrupt = |r: Result<usize, Error>| matches!(r, Err(Error::Corrupt { .. }));
    for round in 0..2 {
        // Twice: the first attempt must not leave a read hint that skips or shifts offsets.
        let mut buf = vec![0u8; 4096];
        assert!(corrupt(log.read(bad, &mut buf)), "round {round}: read");
        assert!(corrupt(log.record_len(bad)), "round {round}: record_len");
        assert!(
            matches!(log.read_vec(bad), Err(Error::Corrupt { .. })),
            "round {round}: read_vec"
        );
        let mut small = vec![0u8; len / 2];
        assert!(
            corrupt(log.read(bad, &mut small)),
            "round {round}: small buffer"
        );
        let mut exact = vec![0u8; len];
        assert!(
            corrupt(log.read(bad, &mut exact)),
            "round {round}: exact buffer"
        );
        for i in 0..records {
            match log.read(i, &mut buf) {
                Ok(n) => {
                    assert_ne!(i, bad);
                    assert_eq!(&buf[..n], &record(i, len_of(i))[..], "record {i}");
                }
                Err(Error::Corrupt { .. }) => {}
                Err(e) => panic!("record {i}: {e:?}"),
            }
        }
    }
    // Iterating: the cursor stops at the damaged record and stays there.
    let mut it = log.iter(0).unwrap();
    let mut buf = vec![0u8; 4096];
    for i in 0..bad {
        match it.next_into(&mut buf) {
            Ok(Some((off, n))) => {
                assert_eq!(off, i);
                assert_eq!(&buf[..n], &record(i, len_of(i))[..]);
            }
            other => panic!("record {i} before the damage: {other:?}"),
        }
    }
    for _ in 0..2 {
        assert!(matches!(it.next_into(&mut buf), Err(Error::Corrupt { .. })));
        assert_eq!(it.offset(), bad);
    }
    let mut cursor = it.into_cursor();
    assert!(matches!(
        log.peek_len(&mut cursor),
        Err(Error::Corrupt { .. })
    ));
    assert!(matches!(
        log.read_next_vec(&mut cursor),
        Err(Error::Corrupt { .. })
    ));
    assert_eq!(cursor.offset(), bad);
}

#[test]
fn damage_in_a_large_record_is_corrupt_for_every_way_of_reading_it() {
    let records = 12;
    for bad in [3u64, 7, 9] {
        let len = len_of(bad);
        // A bit in the body (its middle and its last byte), in the CRC, in the length field.
        let places = [
            (len as u32 / 2, 3u8),
            (len as u32 - 1, 0),
            (len as u32, 5),
            (len as u32 + 3, 7),
            (-3i32 as u32, 0),
            (-2i32 as u32, 1),
        ];
        for (delta, bit) in places {
            let mut log = log_with(records, 4);
            let at = body_addr(&log, bad).wrapping_add(delta);
            log.storage_mut().flip_bit(at, bit);
            check_damaged(&mut log, bad, records);
            // A fresh mount sees the same — unless the damaged frame lies in the part of the
            // active segment that mount walks (after its last index slot): there damage looks
            // like a torn write, and the log ends before it.
            let sim = log.into_storage();
            let mut log: Log<SimFlash> = Log::mount(sim, Config::new()).unwrap();
            if log.next_offset() == records {
                check_damaged(&mut log, bad, records);
            } else {
                assert_eq!(
                    log.next_offset(),
                    bad,
                    "mount ended the log before the damage"
                );
                assert!(log.recovery().torn_tail);
            }
        }
    }
}
