//! Scenario tests: each reads like the behaviour it pins, on `RamStorage`.

use tidelog::{Config, Error, FullPolicy, Log, RamStorage};

fn ram(mem: &mut [u8], ws: usize, es: usize) -> RamStorage<'_> {
    RamStorage::new(mem, ws, es).unwrap()
}

fn read_all<S: tidelog::Storage, const C: usize>(
    log: &mut Log<S, C>,
    from: u64,
) -> Vec<(u64, Vec<u8>)> {
    let mut it = log.iter(from).unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8192];
    while let Some((off, len)) = it.next_into(&mut buf).unwrap() {
        out.push((off, buf[..len].to_vec()));
    }
    out
}

#[test]
fn append_read_iterate_and_remount() {
    let mut mem = vec![0xFFu8; 16 * 1024];
    let mut log: Log<_> =
        Log::format(ram(&mut mem, 4, 1024), Config::new().index_interval(64)).unwrap();
    let mut expect = Vec::new();
    for i in 0..200u32 {
        let rec = vec![i as u8; (i % 37) as usize];
        let off = log.append(&rec).unwrap();
        assert_eq!(off, i as u64);
        expect.push((off, rec));
    }
    let mut buf = [0u8; 64];
    for (off, rec) in &expect {
        let n = log.read(*off, &mut buf).unwrap();
        assert_eq!(&buf[..n], &rec[..], "offset {off}");
    }
    assert_eq!(read_all(&mut log, 0), expect);
    assert_eq!(read_all(&mut log, 150), expect[150..].to_vec());
    let storage = log.into_storage();
    let mut log: Log<_> = Log::mount(storage, Config::new()).unwrap();
    assert_eq!(log.next_offset(), 200);
    assert_eq!(read_all(&mut log, 0), expect);
    assert_eq!(log.append(b"after").unwrap(), 200);
}

#[test]
fn batches_are_one_frame_and_read_back_in_order() {
    let mut mem = vec![0xFFu8; 8 * 1024];
    let mut log: Log<_> = Log::format(ram(&mut mem, 8, 1024), Config::new()).unwrap();
    let a: Vec<&[u8]> = vec![b"one", b"", b"three", &[7u8; 300]];
    assert_eq!(log.append_batch(&a).unwrap(), 0);
    assert_eq!(log.append(b"x").unwrap(), 4);
    let got = read_all(&mut log, 0);
    assert_eq!(got.len(), 5);
    assert_eq!(got[3].1, vec![7u8; 300]);
    let mut buf = [0u8; 8];
    assert_eq!(log.read(2, &mut buf).unwrap(), 5);
    assert_eq!(
        log.read(3, &mut buf),
        Err(Error::BufferTooSmall { needed: 300 })
    );
    assert_eq!(
        log.append_batch(&[]),
        Err(Error::InvalidArgument("empty batch"))
    );
}

#[test]
fn overwrite_oldest_wraps_and_reports_overwritten() {
    let mut mem = vec![0xFFu8; 4 * 1024];
    let cfg = Config::new()
        .full_policy(FullPolicy::OverwriteOldest)
        .index_interval(128);
    let mut log: Log<_> = Log::format(ram(&mut mem, 4, 1024), cfg).unwrap();
    for i in 0..1000u32 {
        log.append(&i.to_le_bytes()).unwrap();
    }
    let first = log.first_offset();
    assert!(first > 0);
    let mut buf = [0u8; 4];
    assert_eq!(
        log.read(0, &mut buf),
        Err(Error::Overwritten {
            first_available: first
        })
    );
    let all = read_all(&mut log, first);
    assert_eq!(all.len() as u64, 1000 - first);
    for (off, rec) in &all {
        assert_eq!(rec, &(*off as u32).to_le_bytes());
    }
    let s = log.into_storage();
    let mut log: Log<_> = Log::mount(s, cfg).unwrap();
    assert_eq!(log.first_offset(), first);
    assert_eq!(read_all(&mut log, first), all);
}

#[test]
fn reject_policy_fills_then_trim_reclaims() {
    let mut mem = vec![0xFFu8; 4 * 1024];
    let mut log: Log<_> = Log::format(ram(&mut mem, 4, 1024), Config::new()).unwrap();
    let mut n = 0u64;
    loop {
        match log.append(&[1u8; 40]) {
            Ok(o) => n = o + 1,
            Err(Error::Full) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(n > 40);
    log.trim_front(n / 2).unwrap();
    assert_eq!(log.first_offset(), n / 2);
    log.append(&[2u8; 40]).unwrap();
    let s = log.into_storage();
    let log: Log<_> = Log::mount(s, Config::new()).unwrap();
    assert_eq!(log.first_offset(), n / 2);
    assert_eq!(log.next_offset(), n + 1);
}

#[test]
fn consumers_commit_rewind_and_survive_rotation_and_remount() {
    let mut mem = vec![0xFFu8; 4 * 1024];
    let mut log: Log<_, 2> = Log::format(ram(&mut mem, 4, 1024), Config::new()).unwrap();
    for i in 0..20u8 {
        log.append(&[i; 30]).unwrap();
    }
    log.commit("uploader", 5).unwrap();
    assert_eq!(
        log.commit("uploader", 4),
        Err(Error::InvalidArgument(
            "commit would move the cursor backwards; use rewind"
        ))
    );
    log.commit("b", 7).unwrap();
    assert_eq!(log.commit("c", 7), Err(Error::TooManyConsumers));
    for i in 0..40u8 {
        log.append(&[i; 30]).unwrap();
    }
    let s = log.into_storage();
    let mut log: Log<_, 2> = Log::mount(s, Config::new()).unwrap();
    assert_eq!(log.committed("uploader"), Some(5));
    assert_eq!(log.committed("b"), Some(7));
    log.rewind("b", 2).unwrap();
    let c = log.consumer("b").unwrap();
    assert_eq!(c.position().unwrap(), 2);
    let mut it = c.iter().unwrap();
    let mut buf = [0u8; 64];
    assert_eq!(it.next_into(&mut buf).unwrap(), Some((2, 30)));
}

#[test]
fn truncate_back_within_and_across_segments() {
    let mut mem = vec![0xFFu8; 16 * 1024];
    let mut log: Log<_> =
        Log::format(ram(&mut mem, 4, 1024), Config::new().index_interval(64)).unwrap();
    for i in 0..100u32 {
        log.append(&[i as u8; 50]).unwrap();
    }
    log.commit("c", 90).unwrap();
    log.truncate_back(95).unwrap();
    assert_eq!(log.next_offset(), 95);
    assert_eq!(log.append(b"new95").unwrap(), 95);
    log.truncate_back(30).unwrap();
    assert_eq!(log.committed("c"), Some(30));
    assert_eq!(log.append(b"new30").unwrap(), 30);
    let expect = read_all(&mut log, 0);
    assert_eq!(expect.len(), 31);
    assert_eq!(expect[30].1, b"new30".to_vec());
    assert_eq!(expect[29].1, vec![29u8; 50]);
    let s = log.into_storage();
    let mut log: Log<_> = Log::mount(s, Config::new()).unwrap();
    assert_eq!(read_all(&mut log, 0), expect);
    log.truncate_back(0).unwrap();
    assert_eq!(read_all(&mut log, 0), vec![]);
    assert_eq!(log.append(b"z").unwrap(), 0);
}

#[test]
fn reject_keeps_a_spare_segment_for_commits_trims_and_truncations() {
    let mut mem = vec![0xFFu8; 4 * 1024];
    let mut log: Log<_> = Log::format(ram(&mut mem, 4, 1024), Config::new()).unwrap();
    while log.append(&[1u8; 40]).is_ok() {}
    let st = log.stats();
    assert_eq!(
        st.segments_used + 1,
        st.segments_total,
        "appends stop one segment early"
    );
    let next = log.next_offset();
    // Truncation and trimming still work on the "full" log: the first may use the spare, the
    // second frees whole segments again.
    log.truncate_back(next - 1).unwrap();
    assert_eq!(log.next_offset(), next - 1);
    log.trim_front(next / 2).unwrap();
    assert_eq!(log.first_offset(), next / 2);
    // A consumer at the first offset keeps every record from being reclaimed: appends fill the
    // log again and stop, and nothing it still needs is dropped.
    log.commit("late", next / 2).unwrap();
    while log.append(&[2u8; 40]).is_ok() {}
    assert_eq!(log.first_offset(), next / 2);
    // After remount the same state is there; once the consumer moves on, appends resume.
    let end = log.next_offset();
    let s = log.into_storage();
    let mut log: Log<_> = Log::mount(s, Config::new()).unwrap();
    assert_eq!((log.first_offset(), log.next_offset()), (next / 2, end));
    assert_eq!(log.committed("late"), Some(next / 2));
    log.commit("late", end).unwrap();
    log.append(b"more").unwrap();
}

#[test]
fn bad_input_gets_specific_errors() {
    let mut mem = vec![0xFFu8; 4 * 1024];
    assert!(matches!(
        RamStorage::new(&mut mem, 3, 1024),
        Err(Error::InvalidConfig(_))
    ));
    let mut small = vec![0xFFu8; 1024];
    assert!(matches!(
        Log::<_>::format(ram(&mut small, 4, 1024), Config::new()),
        Err(Error::InvalidConfig(_))
    ));
    let mut blank = vec![0xFFu8; 4096];
    assert_eq!(
        Log::<_>::mount(ram(&mut blank, 4, 1024), Config::new()).err(),
        Some(Error::NotFormatted)
    );
    let mut log: Log<_> =
        Log::format(ram(&mut mem, 4, 1024), Config::new().max_record_size(100)).unwrap();
    assert_eq!(
        log.append(&[0; 101]),
        Err(Error::TooLarge { len: 101, max: 100 })
    );
    let mut buf = [0u8; 4];
    assert_eq!(
        log.read(0, &mut buf),
        Err(Error::OutOfRange { first: 0, next: 0 })
    );
    assert!(matches!(log.consumer(""), Err(Error::InvalidName)));
    assert!(matches!(
        log.commit(&"x".repeat(33), 0),
        Err(Error::InvalidName)
    ));
}

/// A storage that counts reads (to pin the cost of a forward reader).
struct CountingReads<'a> {
    inner: RamStorage<'a>,
    reads: u64,
}

impl tidelog::Storage for CountingReads<'_> {
    fn read_size(&self) -> usize {
        self.inner.read_size()
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
    fn read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), tidelog::StorageError> {
        self.reads += 1;
        self.inner.read(addr, buf)
    }
    fn program(&mut self, addr: u32, bytes: &[u8]) -> Result<(), tidelog::StorageError> {
        self.inner.program(addr, bytes)
    }
    fn erase(&mut self, from: u32, to: u32) -> Result<(), tidelog::StorageError> {
        self.inner.erase(from, to)
    }
    fn sync(&mut self) -> Result<(), tidelog::StorageError> {
        Ok(())
    }
}

/// A forward reader (a consumer reading offset after offset while records arrive, the head
/// is overwritten and the tail truncated) always gets the right record, and pays a few reads
/// per record rather than a search each time: the log walks on from where the last read
/// ended.
#[test]
fn a_forward_reader_gets_every_record_cheaply_through_rotations_trims_and_truncations() {
    let mut mem = vec![0xFFu8; 8 * 1024];
    let storage = CountingReads {
        inner: ram(&mut mem, 4, 1024),
        reads: 0,
    };
    let cfg = Config::new()
        .index_interval(256)
        .full_policy(FullPolicy::OverwriteOldest);
    let mut log: Log<_> = Log::format(storage, cfg).unwrap();
    let record = |off: u64, gen: u64| -> Vec<u8> {
        let len = ((off * 7 + gen) % 23) as usize;
        (0..len)
            .map(|j| (off as usize * 3 + j + gen as usize) as u8)
            .collect()
    };
    // The model: the record at each offset (with the truncation generation that wrote it).
    let mut gens: Vec<u64> = Vec::new();
    let mut gen = 0u64;
    let mut reader = 0u64;
    let mut buf = [0u8; 32];
    let (mut reads_done, mut storage_reads) = (0u64, 0u64);
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut step = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for round in 0..3000u64 {
        match step() % 16 {
            0..=5 => {
                let off = log.next_offset();
                assert_eq!(log.append(&record(off, gen)).unwrap(), off);
                gens.push(gen);
            }
            6 => {
                let off = log.next_offset();
                let recs: Vec<Vec<u8>> = (0..3).map(|i| record(off + i, gen)).collect();
                let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
                assert_eq!(log.append_batch(&refs).unwrap(), off);
                gens.extend([gen; 3]);
            }
            7 if round % 5 == 0 => {
                // Truncate a few of the newest records; their offsets get new records.
                let next = log.next_offset();
                let first = log.first_offset();
                let len = next.saturating_sub(step() % 4).max(first);
                log.truncate_back(len).unwrap();
                gens.truncate(len as usize);
                gen += 1;
                reader = reader.min(len);
            }
            8 if round % 3 == 0 => {
                let first = log.first_offset();
                log.trim_front((first + step() % 3).min(reader)).unwrap();
            }
            _ => {
                let first = log.first_offset();
                reader = reader.max(first);
                if reader < log.next_offset() {
                    let before = log.storage().reads;
                    let n = log.read(reader, &mut buf).unwrap();
                    storage_reads += log.storage().reads - before;
                    reads_done += 1;
                    let want = record(reader, gens[reader as usize]);
                    assert_eq!(&buf[..n], want.as_slice(), "offset {reader}, round {round}");
                    // Now and then the same record again (a retry), else the next one.
                    if step() % 4 != 0 {
                        reader += 1;
                    }
                }
            }
        }
    }
    assert!(reads_done > 1000, "{reads_done} reads");
    let per_read = storage_reads as f64 / reads_done as f64;
    println!("{reads_done} reads, {per_read:.2} storage reads each");
    // About 3.7 here (a forward read or a retry: 2 — the frame header, then body and CRC,
    // the record copied from that; a read after a head change or a truncation: a search);
    // 25.6 before the log remembered where the last read ended and read small records once.
    assert!(
        per_read < 5.0,
        "{per_read:.1} storage reads per forward read"
    );
}

/// A chain member can hold no records: with 256-byte program units every frame fills a unit,
/// so the commit's and the trim's state frames fill the second segment and the next record
/// goes to a third one with the same base offset. A forward reader crossing out of the first
/// segment must find that record in the member after the empty one (found by the model test).
#[test]
fn a_forward_reader_crosses_an_empty_chain_member() {
    let mut mem = vec![0xFFu8; 4 * 1024];
    let cfg = Config::new()
        .segment_sectors(4)
        .index_interval(512)
        .full_policy(FullPolicy::Reject);
    let mut log: Log<_> = Log::format(ram(&mut mem, 256, 256), cfg).unwrap();
    assert_eq!(log.append(b"0").unwrap(), 0);
    assert_eq!(log.append_batch(&[b"1", b"2"]).unwrap(), 1);
    log.commit("a", 0).unwrap();
    log.trim_front(1).unwrap();
    assert_eq!(log.append(b"3").unwrap(), 3);
    let stats = log.stats();
    assert_eq!(
        stats.segments_used, 3,
        "the middle segment holds only state frames"
    );
    let expect: Vec<(u64, Vec<u8>)> = (1..4u64).map(|o| (o, o.to_string().into_bytes())).collect();
    // Offset after offset, as a consumer reads (each read walks on from the last one).
    let mut buf = [0u8; 8];
    for (off, rec) in &expect {
        let n = log.read(*off, &mut buf).unwrap();
        assert_eq!(&buf[..n], &rec[..], "read({off})");
    }
    assert_eq!(read_all(&mut log, 1), expect);
}

/// Bits flipped in the newest state frame after it was written cost its news only: mount
/// takes the newest intact state frame before it (not the older checkpoint in the header).
/// Frames and an index slot follow the damaged one, so mount starts its walk at the slot,
/// which names the damaged frame as the newest state.
#[test]
fn a_damaged_newest_state_frame_gives_way_to_the_intact_one_before_it() {
    let mut mem = vec![0xFFu8; 4 * 1024];
    let cfg = Config::new().index_interval(64);
    let mut log: Log<_> = Log::format(ram(&mut mem, 4, 1024), cfg).unwrap();
    for i in 0..5u8 {
        log.append(&[i; 10]).unwrap();
    }
    log.commit("a", 1).unwrap();
    log.commit("b", 2).unwrap();
    let before = mem.clone();
    let mut log: Log<_> = Log::mount(ram(&mut mem, 4, 1024), cfg).unwrap();
    log.commit("a", 3).unwrap();
    for i in 5..25u8 {
        log.append(&[i; 10]).unwrap();
    }
    // The new state frame is the first byte that changed (it went to erased space); its
    // body starts after the 3-byte frame header.
    let start = (0..mem.len()).find(|&i| mem[i] != before[i]).unwrap();
    assert_eq!(mem[start], b'S', "a state frame");
    mem[start + 8] ^= 0x10;
    let mut log: Log<_> = Log::mount(ram(&mut mem, 4, 1024), cfg).unwrap();
    assert_eq!(
        log.committed("a"),
        Some(1),
        "the commit in the damaged frame is lost"
    );
    assert_eq!(
        log.committed("b"),
        Some(2),
        "the intact frame before it stands"
    );
    assert_eq!(log.next_offset(), 25);
    let mut buf = [0u8; 16];
    assert_eq!(log.read(24, &mut buf).unwrap(), 10);
    assert_eq!(buf[..10], [24u8; 10]);
}
