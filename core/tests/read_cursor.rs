//! `ReadCursor`: a detached read position yields exactly what `Iter` and `read` yield, and a
//! cursor held across anything the log does — appends, batches, state frames, trims,
//! wraparound, truncations that reuse its offsets, remounts, another log — never returns bytes
//! that are not the record at its offset (invariant I4, I5).
//!
//! The property test runs random operation sequences against a `Log<SimFlash>` and a model (a
//! `Vec` of records and the first readable offset), with three cursors held across all of them
//! (and across remounts: the remounted log is another log to them). The scenario tests below
//! pin the cases one by one; the last one compares the storage reads of a detached cursor with
//! those of `Iter`.
#![cfg(all(feature = "sim", feature = "alloc"))]

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use tidelog::{Config, Error, FullPolicy, Log, ReadCursor, SimFlash};

type L = Log<SimFlash, 4>;
type TestResult = Result<(), TestCaseError>;

/// Cursors held across the whole case.
const HELD: usize = 3;

/// Deterministic record content, distinct per offset and per write (`stamp`), so a record
/// written at a reused offset differs from the one it replaced.
fn content(len: usize, stamp: u64, offset: u64) -> Vec<u8> {
    let mut x = offset.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ stamp.rotate_left(29) ^ len as u64;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

fn varint_len(v: usize) -> usize {
    let mut n = 1;
    let mut v = v >> 7;
    while v > 0 {
        n += 1;
        v >>= 7;
    }
    n
}

/// Formats a log of `segments` segments on `SimFlash`, growing the segment (1, 2, 4, 8
/// sectors) until the layout fits; `max_permille` (0: the largest) shrinks the record limit.
fn format_log(
    ws: usize,
    es: usize,
    segments: u32,
    interval: u32,
    max_permille: u16,
    policy: FullPolicy,
) -> (L, Config) {
    for sectors in [1u32, 2, 4, 8] {
        let sim = SimFlash::new(ws, es, es * sectors as usize * segments as usize).unwrap();
        let mut cfg = Config::new()
            .segment_sectors(sectors)
            .index_interval(interval.max(2 * ws as u32))
            .full_policy(policy);
        let log = match L::format(sim, cfg) {
            Ok(log) => log,
            Err(Error::InvalidConfig(_)) => continue,
            Err(e) => panic!("format: {e:?}"),
        };
        if max_permille == 0 {
            return (log, cfg);
        }
        let max = (log.layout().max_record_size as u64 * max_permille as u64 / 1000).max(1);
        cfg = cfg.max_record_size(max as u32);
        return (L::format(log.into_storage(), cfg).unwrap(), cfg);
    }
    panic!("no layout fits ws {ws} es {es}");
}

// ---------------------------------------------------------------------------------------------
// The property test

#[derive(Debug, Clone, Copy)]
enum Len {
    Abs(u16),
    Permille(u16),
    Max,
    OverMax,
}

impl Len {
    fn resolve(self, max: usize) -> usize {
        match self {
            Len::Abs(n) => (n as usize).min(max),
            Len::Permille(p) => max * p as usize / 1000,
            Len::Max => max,
            Len::OverMax => max + 1,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum At {
    First,
    Next,
    Inside(u8),
    Below(u8),
    Beyond(u8),
}

impl At {
    fn resolve(self, first: u64, next: u64) -> u64 {
        match self {
            At::First => first,
            At::Next => next,
            At::Inside(f) => first + (next - first) * f as u64 / 255,
            At::Below(k) => first.saturating_sub(1 + k as u64),
            At::Beyond(k) => next + 1 + k as u64,
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Append(Len),
    Batch(Vec<Len>),
    Extend(Vec<Len>),
    /// Commit (or rewind) consumer "c": a state frame.
    Commit(At),
    Trim(At),
    Truncate(At),
    Remount,
    /// Held cursor `k` reads up to `n` records.
    Step(usize, usize),
    Seek(usize, At),
    /// A fresh cursor, `Iter` (both ways) and `read` from an offset, against the model.
    Check(At),
}

fn len_strategy() -> impl Strategy<Value = Len> {
    prop_oneof![
        6 => (0u16..48).prop_map(Len::Abs),
        3 => (0u16..=1000).prop_map(Len::Permille),
        1 => Just(Len::Max),
        1 => Just(Len::OverMax),
    ]
}

fn small_len_strategy() -> impl Strategy<Value = Len> {
    prop_oneof![
        8 => (0u16..40).prop_map(Len::Abs),
        2 => (0u16..300).prop_map(Len::Permille),
        1 => Just(Len::OverMax),
    ]
}

fn at_strategy() -> impl Strategy<Value = At> {
    prop_oneof![
        2 => Just(At::First),
        1 => Just(At::Next),
        5 => any::<u8>().prop_map(At::Inside),
        1 => (0u8..3).prop_map(At::Below),
        1 => (0u8..3).prop_map(At::Beyond),
    ]
}

fn inside_strategy() -> impl Strategy<Value = At> {
    prop_oneof![
        1 => Just(At::First),
        1 => Just(At::Next),
        4 => any::<u8>().prop_map(At::Inside),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => len_strategy().prop_map(Op::Append),
        3 => prop::collection::vec(small_len_strategy(), 0..8).prop_map(Op::Batch),
        3 => prop::collection::vec(small_len_strategy(), 0..24).prop_map(Op::Extend),
        2 => inside_strategy().prop_map(Op::Commit),
        2 => at_strategy().prop_map(Op::Trim),
        3 => at_strategy().prop_map(Op::Truncate),
        1 => Just(Op::Remount),
        8 => (0..HELD, 1usize..12).prop_map(|(k, n)| Op::Step(k, n)),
        1 => (0..HELD, at_strategy()).prop_map(|(k, a)| Op::Seek(k, a)),
        2 => at_strategy().prop_map(Op::Check),
    ]
}

#[derive(Debug, Clone, Copy)]
struct Setup {
    segments: u32,
    interval: u32,
    max_permille: u16,
}

fn setup_strategy(es: usize) -> impl Strategy<Value = Setup> {
    let max_segments = if es >= 128 * 1024 { 3 } else { 6 };
    (
        2u32..=max_segments,
        prop_oneof![Just(64u32), Just(256), Just(1024)],
        prop_oneof![3 => Just(0u16), 1 => 50u16..1000],
    )
        .prop_map(|(segments, interval, max_permille)| Setup {
            segments,
            interval,
            max_permille,
        })
}

/// Counters of the states reached, so the generator cannot silently stop reaching them.
#[derive(Debug, Default, Clone, Copy)]
struct Coverage {
    cases: u64,
    steps: u64,
    wraps: u64,
    truncations: u64,
    stale_overwritten: u64,
    stale_out_of_range: u64,
    reused_offsets_read: u64,
    too_small: u64,
    remounts: u64,
}

struct Held {
    cursor: ReadCursor,
    /// The op after which this cursor last read a record.
    last_read_op: u64,
    /// The next offset of the log at that time.
    next_then: u64,
}

struct Harness {
    log: Option<L>,
    cfg: Config,
    policy: FullPolicy,
    max: usize,
    /// Record at every offset (below `first`: dropped).
    recs: Vec<Vec<u8>>,
    /// The op that wrote each record.
    written_by: Vec<u64>,
    first: u64,
    committed: Option<u64>,
    held: Vec<Held>,
    op: u64,
    cov: Coverage,
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

impl Harness {
    fn new(ws: usize, es: usize, policy: FullPolicy, s: &Setup) -> Self {
        let (log, cfg) = format_log(ws, es, s.segments, s.interval, s.max_permille, policy);
        let max = log.layout().max_record_size as usize;
        Harness {
            log: Some(log),
            cfg,
            policy,
            max,
            recs: Vec::new(),
            written_by: Vec::new(),
            first: 0,
            committed: None,
            held: (0..HELD)
                .map(|_| Held {
                    cursor: ReadCursor::at(0),
                    last_read_op: 0,
                    next_then: 0,
                })
                .collect(),
            op: 0,
            cov: Coverage::default(),
        }
    }

    fn log(&mut self) -> &mut L {
        self.log.as_mut().unwrap()
    }

    fn next(&self) -> u64 {
        self.recs.len() as u64
    }

    fn push(&mut self, len: usize) -> Vec<u8> {
        let rec = content(len, self.op, self.next());
        self.recs.push(rec.clone());
        self.written_by.push(self.op);
        rec
    }

    /// After a write: the next offset is the model's; the first offset only moves forward
    /// (by a trim, by wraparound or reclaim), never past the next.
    fn adopt_first(&mut self, ctx: &str) -> TestResult {
        let log = self.log.as_ref().unwrap();
        prop_assert_eq!(log.next_offset(), self.next(), "{}: next offset", ctx);
        let first = log.first_offset();
        prop_assert!(
            first >= self.first && first <= self.next(),
            "{ctx}: first offset {} -> {first} (next {})",
            self.first,
            self.next()
        );
        self.first = first;
        Ok(())
    }

    fn full_allowed(&self) -> bool {
        self.policy == FullPolicy::Reject
    }

    fn append(&mut self, ctx: &str, len: Len) -> TestResult {
        let len = len.resolve(self.max);
        let next = self.next();
        let rec = content(len, self.op, next);
        match self.log().append(&rec) {
            Ok(off) => {
                prop_assert_eq!(off, next, "{}", ctx);
                self.push(len);
            }
            Err(Error::TooLarge { .. }) if len > self.max => {}
            Err(Error::Full) if self.full_allowed() => {}
            Err(e) => return Err(fail(format!("{ctx}: append({len}): {e:?}"))),
        }
        self.adopt_first(ctx)
    }

    fn batch(&mut self, ctx: &str, lens: &[Len]) -> TestResult {
        let lens: Vec<usize> = lens.iter().map(|l| l.resolve(self.max)).collect();
        let next = self.next();
        let recs: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| content(l, self.op, next + i as u64))
            .collect();
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        let body = varint_len(lens.len()) + lens.iter().map(|&l| varint_len(l) + l).sum::<usize>();
        let too_large = lens.iter().any(|&l| l > self.max) || (lens.len() > 1 && body > self.max);
        match self.log().append_batch(&refs) {
            Ok(off) => {
                prop_assert!(!lens.is_empty() && !too_large, "{}: batch accepted", ctx);
                prop_assert_eq!(off, next, "{}", ctx);
                for &l in &lens {
                    self.push(l);
                }
            }
            Err(Error::InvalidArgument(_)) if lens.is_empty() => {}
            Err(Error::TooLarge { .. }) if too_large => {}
            Err(Error::Full) if self.full_allowed() => {}
            Err(e) => return Err(fail(format!("{ctx}: append_batch: {e:?}"))),
        }
        self.adopt_first(ctx)
    }

    fn extend(&mut self, ctx: &str, lens: &[Len]) -> TestResult {
        let lens: Vec<usize> = lens.iter().map(|l| l.resolve(self.max)).collect();
        let next = self.next();
        let recs: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| content(l, self.op, next + i as u64))
            .collect();
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        let r = self.log().extend(&refs);
        let went_in = self.log().next_offset().saturating_sub(next) as usize;
        match r {
            Ok(off) => {
                prop_assert_eq!(off, next, "{}", ctx);
                prop_assert_eq!(went_in, lens.len(), "{}", ctx);
            }
            Err(Error::TooLarge { .. }) if lens.iter().any(|&l| l > self.max) => {
                prop_assert_eq!(went_in, 0, "{}: TooLarge wrote records", ctx);
            }
            Err(Error::Full) if self.full_allowed() => {}
            Err(e) => return Err(fail(format!("{ctx}: extend: {e:?}"))),
        }
        for &l in &lens[..went_in] {
            self.push(l);
        }
        self.adopt_first(ctx)
    }

    fn commit(&mut self, ctx: &str, to: u64) -> TestResult {
        let r = match self.committed {
            Some(c) if to < c => self.log().rewind("c", to),
            _ => self.log().commit("c", to),
        };
        match r {
            Ok(()) => self.committed = Some(to),
            Err(Error::Full) if self.full_allowed() => {}
            Err(e) => return Err(fail(format!("{ctx}: commit/rewind({to}): {e:?}"))),
        }
        self.adopt_first(ctx)
    }

    fn trim(&mut self, ctx: &str, to: u64) -> TestResult {
        let (first, next) = (self.first, self.next());
        match self.log().trim_front(to) {
            Ok(()) => prop_assert!(to <= next, "{}: trim beyond next accepted", ctx),
            Err(Error::OutOfRange { .. }) if to > next => {}
            Err(Error::Full) if self.full_allowed() => {}
            Err(e) => return Err(fail(format!("{ctx}: trim_front({to}): {e:?}"))),
        }
        self.adopt_first(ctx)?;
        if to <= next && self.log().first_offset() < to.max(first) {
            // Only a refused trim leaves the first offset below its target.
            prop_assert!(self.full_allowed(), "{}: trim did not move first", ctx);
        }
        Ok(())
    }

    fn truncate(&mut self, ctx: &str, to: u64) -> TestResult {
        let (first, next) = (self.first, self.next());
        match self.log().truncate_back(to) {
            Ok(()) => {
                prop_assert!((first..=next).contains(&to), "{}: accepted", ctx);
                if to < next {
                    self.cov.truncations += 1;
                }
                self.recs.truncate(to as usize);
                self.written_by.truncate(to as usize);
                if let Some(c) = self.committed.as_mut() {
                    *c = (*c).min(to);
                }
            }
            Err(Error::OutOfRange { first: f, next: n }) if !(first..=next).contains(&to) => {
                prop_assert_eq!((f, n), (first, next), "{}", ctx);
            }
            // Truncation needs a free segment (under either policy, the kept segment is never
            // reused for the new one).
            Err(Error::Full) => {}
            Err(e) => return Err(fail(format!("{ctx}: truncate_back({to}): {e:?}"))),
        }
        self.adopt_first(ctx)
    }

    fn remount(&mut self, ctx: &str) -> TestResult {
        self.cov.remounts += 1;
        let storage = self.log.take().unwrap().into_storage();
        let log = L::mount(storage, self.cfg).map_err(|e| fail(format!("{ctx}: mount: {e:?}")))?;
        prop_assert_eq!(log.first_offset(), self.first, "{}: first after mount", ctx);
        prop_assert_eq!(log.next_offset(), self.next(), "{}: next after mount", ctx);
        self.log = Some(log);
        Ok(())
    }

    /// Held cursor `k` reads up to `n` records, each in one of four ways (peek then exact
    /// buffer; `read_next_vec`; a buffer one byte short first; a large buffer), and every
    /// answer is checked against the model.
    fn step(&mut self, ctx: &str, k: usize, n: usize) -> TestResult {
        for i in 0..n {
            self.cov.steps += 1;
            let (first, next) = (self.first, self.next());
            let mut cur = self.held[k].cursor.clone();
            let off = cur.offset();
            let log = self.log.as_mut().unwrap();
            let mode = (i + k + self.op as usize) % 4;
            if off < first || off > next {
                let want = if off < first {
                    self.cov.stale_overwritten += 1;
                    Error::Overwritten {
                        first_available: first,
                    }
                } else {
                    self.cov.stale_out_of_range += 1;
                    Error::OutOfRange { first, next }
                };
                prop_assert_eq!(log.peek_len(&mut cur).err(), Some(want), "{}", ctx);
                prop_assert_eq!(log.read_next_vec(&mut cur).err(), Some(want), "{}", ctx);
                let mut buf = vec![0u8; self.max];
                prop_assert_eq!(
                    log.read_next(&mut cur, &mut buf).err(),
                    Some(want),
                    "{}",
                    ctx
                );
                prop_assert_eq!(cur.offset(), off, "{}: a failed read moved the cursor", ctx);
                // Recover as a binding would: move to the offset the error names.
                cur.seek(if off < first { first } else { next });
                self.held[k].cursor = cur;
                continue;
            }
            if off == next {
                prop_assert_eq!(log.peek_len(&mut cur), Ok(None), "{}", ctx);
                prop_assert_eq!(log.read_next_vec(&mut cur), Ok(None), "{}", ctx);
                prop_assert_eq!(log.read_next(&mut cur, &mut []), Ok(None), "{}", ctx);
                self.held[k].cursor = cur;
                return Ok(());
            }
            let want = &self.recs[off as usize];
            let got = match mode {
                0 => {
                    let len = log
                        .peek_len(&mut cur)
                        .map_err(|e| fail(format!("{ctx}: {e:?}")))?;
                    prop_assert_eq!(len, Some(want.len()), "{}: peek_len at {}", ctx, off);
                    prop_assert_eq!(cur.offset(), off, "{}: peek_len moved", ctx);
                    let mut buf = vec![0u8; want.len()];
                    let r = log.read_next(&mut cur, &mut buf);
                    prop_assert_eq!(r, Ok(Some((off, want.len()))), "{}", ctx);
                    buf
                }
                1 => match log.read_next_vec(&mut cur) {
                    Ok(Some((o, v))) => {
                        prop_assert_eq!(o, off, "{}", ctx);
                        v
                    }
                    r => return Err(fail(format!("{ctx}: read_next_vec at {off}: {r:?}"))),
                },
                2 if !want.is_empty() => {
                    self.cov.too_small += 1;
                    let mut short = vec![0u8; want.len() - 1];
                    let r = log.read_next(&mut cur, &mut short);
                    prop_assert_eq!(
                        r,
                        Err(Error::BufferTooSmall {
                            needed: want.len() as u32
                        }),
                        "{}: short buffer at {}",
                        ctx,
                        off
                    );
                    prop_assert_eq!(cur.offset(), off, "{}: BufferTooSmall consumed", ctx);
                    let mut buf = vec![0u8; want.len()];
                    let r = log.read_next(&mut cur, &mut buf);
                    prop_assert_eq!(r, Ok(Some((off, want.len()))), "{}", ctx);
                    buf
                }
                _ => {
                    let mut buf = vec![0u8; self.max + 8];
                    let r = log.read_next(&mut cur, &mut buf);
                    prop_assert_eq!(r, Ok(Some((off, want.len()))), "{}", ctx);
                    buf.truncate(want.len());
                    buf
                }
            };
            prop_assert!(
                &got == want,
                "{ctx}: held cursor {k} read other bytes at offset {off}"
            );
            prop_assert_eq!(cur.offset(), off + 1, "{}", ctx);
            let h = &mut self.held[k];
            if self.written_by[off as usize] > h.last_read_op && off < h.next_then {
                // The offset was reused (truncated and written again) since this cursor's
                // last read: it must see the new record.
                self.cov.reused_offsets_read += 1;
            }
            h.cursor = cur;
            h.last_read_op = self.op;
            h.next_then = next;
        }
        Ok(())
    }

    /// From `from`: `Log::cursor`, then a fresh cursor, `Iter::next_into`, the `Iterator` of
    /// `Iter`, `read`, `read_vec` and `record_len` all give the model's records.
    fn check(&mut self, ctx: &str, from: u64) -> TestResult {
        let (first, next) = (self.first, self.next());
        let max = self.max;
        let log = self.log.as_mut().unwrap();
        let made = log.cursor(from);
        if from < first {
            let want = Error::Overwritten {
                first_available: first,
            };
            prop_assert_eq!(made.err(), Some(want), "{}: cursor({})", ctx, from);
            prop_assert_eq!(log.iter(from).err(), Some(want), "{}", ctx);
            return Ok(());
        }
        if from > next {
            let want = Error::OutOfRange { first, next };
            prop_assert_eq!(made.err(), Some(want), "{}: cursor({})", ctx, from);
            prop_assert_eq!(log.iter(from).err(), Some(want), "{}", ctx);
            return Ok(());
        }
        let mut cur = made.map_err(|e| fail(format!("{ctx}: cursor({from}): {e:?}")))?;
        prop_assert_eq!(cur.offset(), from, "{}", ctx);
        let want: Vec<(u64, Vec<u8>)> = (from..next)
            .map(|o| (o, self.recs[o as usize].clone()))
            .collect();
        let mut buf = vec![0u8; max];
        let mut by_cursor = Vec::new();
        while let Some((o, n)) = log
            .read_next(&mut cur, &mut buf)
            .map_err(|e| fail(format!("{ctx}: read_next: {e:?}")))?
        {
            by_cursor.push((o, buf[..n].to_vec()));
            prop_assert!(by_cursor.len() <= want.len(), "{}: cursor runs on", ctx);
        }
        prop_assert!(by_cursor == want, "{ctx}: cursor from {from} differs");
        let mut it = log.iter(from).unwrap();
        let mut by_iter = Vec::new();
        while let Some((o, n)) = it
            .next_into(&mut buf)
            .map_err(|e| fail(format!("{ctx}: next_into: {e:?}")))?
        {
            by_iter.push((o, buf[..n].to_vec()));
            prop_assert!(by_iter.len() <= want.len(), "{}: iter runs on", ctx);
        }
        prop_assert!(
            by_iter == want,
            "{ctx}: Iter::next_into from {from} differs"
        );
        let owned: Result<Vec<(u64, Vec<u8>)>, Error> = log.iter(from).unwrap().collect();
        prop_assert!(
            owned == Ok(want.clone()),
            "{ctx}: Iterator from {from} differs"
        );
        for (o, rec) in &want {
            prop_assert_eq!(
                log.record_len(*o),
                Ok(rec.len()),
                "{}: record_len({})",
                ctx,
                o
            );
            let n = log
                .read(*o, &mut buf)
                .map_err(|e| fail(format!("{ctx}: read({o}): {e:?}")))?;
            prop_assert!(&buf[..n] == rec.as_slice(), "{ctx}: read({o}) differs");
            prop_assert!(log.read_vec(*o).as_ref() == Ok(rec), "{ctx}: read_vec({o})");
        }
        Ok(())
    }

    fn apply(&mut self, i: usize, op: &Op) -> TestResult {
        self.op = i as u64 + 1;
        let ctx = format!("op #{i} {op:?}");
        let ctx = ctx.as_str();
        let (first, next) = (self.first, self.next());
        let before = self.log().first_offset();
        match op {
            Op::Append(l) => self.append(ctx, *l)?,
            Op::Batch(ls) => self.batch(ctx, ls)?,
            Op::Extend(ls) => self.extend(ctx, ls)?,
            Op::Commit(at) => self.commit(ctx, at.resolve(first, next))?,
            Op::Trim(at) => self.trim(ctx, at.resolve(first, next))?,
            Op::Truncate(at) => self.truncate(ctx, at.resolve(first, next))?,
            Op::Remount => self.remount(ctx)?,
            Op::Step(k, n) => self.step(ctx, *k, *n)?,
            Op::Seek(k, at) => self.held[*k].cursor.seek(at.resolve(first, next)),
            Op::Check(at) => self.check(ctx, at.resolve(first, next))?,
        }
        if self.policy == FullPolicy::OverwriteOldest
            && !matches!(op, Op::Trim(_) | Op::Truncate(_))
            && self.first > before
        {
            self.cov.wraps += 1;
        }
        Ok(())
    }
}

fn run_case(ws: usize, es: usize, policy: FullPolicy, s: &Setup, ops: &[Op]) -> TestResult {
    let mut h = Harness::new(ws, es, policy, s);
    for (i, op) in ops.iter().enumerate() {
        h.apply(i, op)?;
    }
    // Every held cursor reads on to the end; then a full check from the first offset.
    for k in 0..HELD {
        h.step("final", k, usize::MAX)?;
    }
    let first = h.first;
    h.check("final", first)?;
    h.remount("final remount")?;
    h.check("after the final remount", first)?;
    h.cov.cases += 1;
    COVERAGE.with(|c| {
        let mut t = c.get();
        let v = h.cov;
        t.cases += v.cases;
        t.steps += v.steps;
        t.wraps += v.wraps;
        t.truncations += v.truncations;
        t.stale_overwritten += v.stale_overwritten;
        t.stale_out_of_range += v.stale_out_of_range;
        t.reused_offsets_read += v.reused_offsets_read;
        t.too_small += v.too_small;
        t.remounts += v.remounts;
        c.set(t);
    });
    Ok(())
}

thread_local! {
    static COVERAGE: std::cell::Cell<Coverage> = std::cell::Cell::new(Coverage::default());
}

fn cases() -> u32 {
    std::env::var("TIDELOG_CURSOR_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// One write size over the erase sizes 256 B, 4 KiB and 128 KiB, both policies.
fn run_write_size(ws: usize) {
    let mut total = Coverage::default();
    for es in [256usize, 4096, 128 * 1024] {
        for policy in [FullPolicy::Reject, FullPolicy::OverwriteOldest] {
            let mut runner = TestRunner::new(PtConfig {
                cases: cases(),
                failure_persistence: None,
                max_shrink_iters: 2048,
                ..PtConfig::default()
            });
            let strategy = (
                setup_strategy(es),
                prop::collection::vec(op_strategy(), 1..80),
            );
            let r = runner.run(&strategy, |(s, ops)| run_case(ws, es, policy, &s, &ops));
            if let Err(e) = r {
                panic!("write_size {ws}, erase_size {es}, {policy:?}: {e}");
            }
            let cov = COVERAGE.with(|c| c.replace(Coverage::default()));
            println!("write_size {ws}, erase_size {es}, {policy:?}: {cov:?}");
            if policy == FullPolicy::OverwriteOldest && es < 128 * 1024 {
                assert!(cov.wraps > 0, "no wraparound: {cov:?}");
            }
            total.truncations += cov.truncations;
            total.stale_overwritten += cov.stale_overwritten;
            total.stale_out_of_range += cov.stale_out_of_range;
            total.reused_offsets_read += cov.reused_offsets_read;
            total.too_small += cov.too_small;
            total.remounts += cov.remounts;
        }
    }
    // The states the property is about must be reached.
    assert!(
        total.truncations > 0
            && total.stale_overwritten > 0
            && total.stale_out_of_range > 0
            && total.reused_offsets_read > 0
            && total.too_small > 0
            && total.remounts > 0,
        "write_size {ws}: {total:?}"
    );
}

#[test]
fn a_cursor_reads_what_iter_and_read_read_ws1() {
    run_write_size(1);
}

#[test]
fn a_cursor_reads_what_iter_and_read_read_ws4() {
    run_write_size(4);
}

#[test]
fn a_cursor_reads_what_iter_and_read_read_ws32() {
    run_write_size(32);
}

#[test]
fn a_cursor_reads_what_iter_and_read_read_ws256() {
    run_write_size(256);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

fn small_log(policy: FullPolicy) -> L {
    let cfg = Config::new().index_interval(64).full_policy(policy);
    L::format(SimFlash::new(4, 1024, 16 * 1024).unwrap(), cfg).unwrap()
}

fn read_all(log: &mut L, cur: &mut ReadCursor) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(r) = log.read_next_vec(cur).unwrap() {
        out.push(r);
    }
    out
}

fn numbered(tag: &str, offs: std::ops::Range<u64>, len: usize) -> Vec<Vec<u8>> {
    offs.map(|o| {
        let mut r = format!("{tag}{o}:").into_bytes();
        r.resize(len, tag.as_bytes()[0]);
        r
    })
    .collect()
}

fn refs(v: &[Vec<u8>]) -> Vec<&[u8]> {
    v.iter().map(Vec::as_slice).collect()
}

/// A cursor in the middle of a batch frame (its body cached), a truncation into that frame,
/// and different records appended at the same offsets: the cursor reads the new records, for
/// a frame body small enough to be cached and for one that is not, and for a truncation inside
/// the active segment and one that drops whole segments.
#[test]
fn a_cursor_held_across_a_truncation_reads_the_new_records_at_reused_offsets() {
    for len in [6usize, 40] {
        for pad_segments in [0usize, 3] {
            let mut log = small_log(FullPolicy::Reject);
            let old = numbered("old", 0..10, len);
            assert_eq!(log.append_batch(&refs(&old)).unwrap(), 0);
            // More records after the batch, filling whole segments: the truncation then drops
            // segments as well.
            let mut after = Vec::new();
            while log.stats().segments_used < 1 + pad_segments as u32 {
                after.push(log.append(&[0xAA; 30]).unwrap());
            }
            let mut cur = log.cursor(0).unwrap();
            let mut buf = [0u8; 64];
            for o in 0..3 {
                assert_eq!(log.read_next(&mut cur, &mut buf).unwrap(), Some((o, len)));
                assert_eq!(&buf[..len], &old[o as usize][..]);
            }
            // Behind the cursor: a second cursor parked past the truncation point.
            let mut beyond = log.cursor(7).unwrap();
            assert_eq!(log.peek_len(&mut beyond).unwrap(), Some(len));
            log.truncate_back(5).unwrap();
            assert_eq!(log.next_offset(), 5);
            // Nothing appended yet: the parked cursor is past the end.
            assert_eq!(
                log.read_next(&mut beyond, &mut buf),
                Err(Error::OutOfRange { first: 0, next: 5 })
            );
            let new = numbered("NEW", 5..12, len + 3);
            log.append(&new[0]).unwrap();
            log.append_batch(&refs(&new[1..])).unwrap();
            let got = read_all(&mut log, &mut cur);
            let mut want: Vec<(u64, Vec<u8>)> =
                (3..5).map(|o| (o as u64, old[o].clone())).collect();
            want.extend((5..12).map(|o| (o as u64, new[o - 5].clone())));
            assert_eq!(
                got, want,
                "record len {len}, {pad_segments} padding segments"
            );
            // The parked cursor, never moved, reads the new record at its offset.
            assert_eq!(
                log.read_next_vec(&mut beyond).unwrap(),
                Some((7, new[2].clone()))
            );
        }
    }
}

/// Trims and wraparound leave a cursor below the first offset: it gets `Overwritten` with the
/// offset to resume at (and stays where it is), and `seek` recovers.
#[test]
fn a_cursor_below_the_first_offset_is_told_where_to_resume() {
    let mut log = small_log(FullPolicy::Reject);
    for i in 0..40u8 {
        log.append(&[i; 20]).unwrap();
    }
    let mut cur = log.cursor(3).unwrap();
    assert_eq!(log.read_next_vec(&mut cur).unwrap(), Some((3, vec![3; 20])));
    log.trim_front(25).unwrap();
    let want = Error::Overwritten {
        first_available: 25,
    };
    assert_eq!(log.read_next_vec(&mut cur), Err(want));
    assert_eq!(log.peek_len(&mut cur), Err(want));
    assert_eq!(log.read_next(&mut cur, &mut [0u8; 64]), Err(want));
    assert_eq!(cur.offset(), 4, "a failed read moved the cursor");
    assert_eq!(log.cursor(24).err(), Some(want));
    cur.seek(25);
    assert_eq!(
        log.read_next_vec(&mut cur).unwrap(),
        Some((25, vec![25; 20]))
    );

    // Wraparound under OverwriteOldest.
    let mut log = small_log(FullPolicy::OverwriteOldest);
    log.append(b"zero").unwrap();
    let mut cur = log.cursor(0).unwrap();
    assert_eq!(log.peek_len(&mut cur).unwrap(), Some(4));
    let mut i = 1u32;
    while log.first_offset() == 0 {
        log.append(&i.to_le_bytes()).unwrap();
        i += 1;
    }
    let first = log.first_offset();
    assert_eq!(
        log.read_next_vec(&mut cur),
        Err(Error::Overwritten {
            first_available: first
        })
    );
    cur.seek(first);
    let got = read_all(&mut log, &mut cur);
    assert_eq!(got.len() as u64, log.next_offset() - first);
    for (o, r) in got {
        assert_eq!(r, (o as u32).to_le_bytes());
    }
}

/// A cursor is a position, not a handle: used with another log (other contents at the same
/// offsets, here with other frame boundaries) it reads that log's records.
#[test]
fn a_cursor_used_with_another_log_reads_that_logs_records() {
    let mut a = small_log(FullPolicy::Reject);
    let mut b = small_log(FullPolicy::Reject);
    let ra = numbered("a", 0..12, 9);
    let rb = numbered("bee", 0..12, 14);
    a.append_batch(&refs(&ra)).unwrap();
    for r in &rb {
        b.append(r).unwrap();
    }
    let mut cur = a.cursor(0).unwrap();
    for o in 0..4 {
        assert_eq!(
            a.read_next_vec(&mut cur).unwrap(),
            Some((o, ra[o as usize].clone()))
        );
    }
    for o in 4..8 {
        assert_eq!(
            b.read_next_vec(&mut cur).unwrap(),
            Some((o, rb[o as usize].clone()))
        );
    }
    // And back: `a`'s cached frame is not trusted after `b` was read.
    assert_eq!(a.read_next_vec(&mut cur).unwrap(), Some((8, ra[8].clone())));
    // A remounted log is another log too.
    let mut a = L::mount(a.into_storage(), Config::new()).unwrap();
    assert_eq!(a.read_next_vec(&mut cur).unwrap(), Some((9, ra[9].clone())));
    // A cursor past the other log's end.
    let mut short = small_log(FullPolicy::Reject);
    short.append(b"only").unwrap();
    assert_eq!(
        short.read_next_vec(&mut cur),
        Err(Error::OutOfRange { first: 0, next: 1 })
    );
}

/// A cursor at the next offset reads nothing, then the records appended later; so does an
/// `Iter` turned back into its cursor.
#[test]
fn a_cursor_at_the_end_sees_records_appended_later() {
    let mut log = small_log(FullPolicy::Reject);
    let mut cur = log.cursor(0).unwrap();
    assert_eq!(log.read_next(&mut cur, &mut []), Ok(None));
    assert_eq!(log.peek_len(&mut cur), Ok(None));
    assert_eq!(log.read_next_vec(&mut cur), Ok(None));
    assert_eq!(cur.offset(), 0);
    log.append(b"first").unwrap();
    assert_eq!(
        log.read_next_vec(&mut cur).unwrap(),
        Some((0, b"first".to_vec()))
    );
    assert_eq!(log.read_next_vec(&mut cur), Ok(None));
    log.append_batch(&[b"x".as_slice(), b"yy", b""]).unwrap();
    log.extend(&[b"e1".as_slice(), b"e2"]).unwrap();
    let got = read_all(&mut log, &mut cur);
    let want: Vec<(u64, Vec<u8>)> = [&b"x"[..], b"yy", b"", b"e1", b"e2"]
        .iter()
        .enumerate()
        .map(|(i, r)| (i as u64 + 1, r.to_vec()))
        .collect();
    assert_eq!(got, want);
    // `cursor(next)` is allowed, one past it is not.
    let next = log.next_offset();
    assert!(log.cursor(next).is_ok());
    assert_eq!(
        log.cursor(next + 1).err(),
        Some(Error::OutOfRange { first: 0, next })
    );
    // Iter at the end, then its cursor after more appends.
    let mut it = log.iter(next).unwrap();
    assert_eq!(it.next_into(&mut []), Ok(None));
    let mut cur = it.into_cursor();
    log.append(b"later").unwrap();
    assert_eq!(
        log.read_next_vec(&mut cur).unwrap(),
        Some((next, b"later".to_vec()))
    );
    // A cursor made with `at` for an offset the log does not have yet.
    let mut ahead = ReadCursor::at(next + 2);
    assert_eq!(
        log.read_next_vec(&mut ahead),
        Err(Error::OutOfRange {
            first: 0,
            next: next + 1
        })
    );
    log.append(b"a").unwrap();
    log.append(b"b").unwrap();
    assert_eq!(
        log.read_next_vec(&mut ahead).unwrap(),
        Some((next + 2, b"b".to_vec()))
    );
}

/// `BufferTooSmall { needed }` consumes nothing (for `read_next`, `Iter::next_into`), names the
/// record's length, and `read_next_vec` / `read_vec` never return it, up to the largest record.
#[test]
fn buffer_too_small_consumes_nothing_and_vec_reads_never_return_it() {
    let mut log = small_log(FullPolicy::Reject);
    let max = log.layout().max_record_size as usize;
    let recs: Vec<Vec<u8>> = vec![vec![1; 10], vec![], vec![3; max], vec![4; 200], vec![5; 1]];
    log.append_batch(&refs(&recs[..2])).unwrap();
    for r in &recs[2..] {
        log.append(r).unwrap();
    }
    let mut cur = log.cursor(0).unwrap();
    let mut small = [0u8; 9];
    for (o, r) in recs.iter().enumerate() {
        let o = o as u64;
        if r.len() > small.len() {
            assert_eq!(
                log.read_next(&mut cur, &mut small),
                Err(Error::BufferTooSmall {
                    needed: r.len() as u32
                })
            );
            assert_eq!(cur.offset(), o);
            assert_eq!(log.peek_len(&mut cur), Ok(Some(r.len())));
            assert_eq!(log.record_len(o), Ok(r.len()));
            assert_eq!(
                log.read(o, &mut small),
                Err(Error::BufferTooSmall {
                    needed: r.len() as u32
                })
            );
            let mut it = log.iter(o).unwrap();
            assert!(matches!(
                it.next_into(&mut small),
                Err(Error::BufferTooSmall { .. })
            ));
            assert_eq!(it.offset(), o);
        }
        let mut vcur = cur.clone();
        assert_eq!(log.read_next_vec(&mut vcur), Ok(Some((o, r.clone()))));
        assert_eq!(log.read_vec(o).as_ref(), Ok(r));
        let mut buf = vec![0u8; r.len()];
        assert_eq!(log.read_next(&mut cur, &mut buf), Ok(Some((o, r.len()))));
        assert_eq!(&buf, r);
    }
    assert_eq!(log.read_next_vec(&mut cur), Ok(None));
}

/// Cost: reading a whole log with a detached cursor takes no more storage reads than `Iter`
/// (the bindings' iterators are built on the cursor and must not be slower).
#[test]
fn a_detached_cursor_reads_no_more_than_iter() {
    for (ws, es, interval) in [(4usize, 1024usize, 256u32), (32, 4096, 1024), (1, 1024, 64)] {
        let cfg = Config::new().index_interval(interval);
        let mut log = L::format(SimFlash::new(ws, es, 16 * es).unwrap(), cfg).unwrap();
        let mut i = 0u64;
        while log.stats().segments_used < 12 {
            match i % 3 {
                0 => log.append(&content((i % 50) as usize, 1, i)).map(|_| ()),
                1 => log
                    .append_batch(&[&content(7, 2, i)[..], &content(0, 2, i), &[9; 30]])
                    .map(|_| ()),
                _ => log.commit("c", log.next_offset() / 2),
            }
            .unwrap();
            i += 1;
        }
        let first = log.first_offset();
        let mut buf = vec![0u8; log.layout().max_record_size as usize];

        log.storage_mut().reset_stats();
        let mut it = log.iter(first).unwrap();
        let mut by_iter = Vec::new();
        while let Some((o, n)) = it.next_into(&mut buf).unwrap() {
            by_iter.push((o, buf[..n].to_vec()));
        }
        let iter_reads = log.storage().stats().reads;

        log.storage_mut().reset_stats();
        let mut cur = log.cursor(first).unwrap();
        let mut by_cursor = Vec::new();
        while let Some((o, n)) = log.read_next(&mut cur, &mut buf).unwrap() {
            by_cursor.push((o, buf[..n].to_vec()));
        }
        let cursor_reads = log.storage().stats().reads;

        // A cursor made with `ReadCursor::at` (nothing checked until the first read).
        log.storage_mut().reset_stats();
        let mut detached = ReadCursor::at(first);
        let mut n = 0u64;
        while log.read_next(&mut detached, &mut buf).unwrap().is_some() {
            n += 1;
        }
        let at_reads = log.storage().stats().reads;

        // Two cursors taking turns (two iterator objects of a binding): each keeps its own
        // read hint, so together they cost at most what two `Iter`s would.
        log.storage_mut().reset_stats();
        let (mut a, mut b) = (ReadCursor::at(first), ReadCursor::at(first));
        let mut m = 0u64;
        while log.read_next(&mut a, &mut buf).unwrap().is_some() {
            assert!(log.read_next(&mut b, &mut buf).unwrap().is_some());
            m += 1;
        }
        let pair_reads = log.storage().stats().reads;

        println!(
            "ws {ws} es {es} interval {interval}: {} records, storage reads: Iter {iter_reads}, \
             cursor {cursor_reads}, ReadCursor::at {at_reads}, two cursors in turn {pair_reads}",
            by_iter.len()
        );
        assert_eq!(by_cursor, by_iter);
        assert_eq!(n as usize, by_iter.len());
        assert_eq!(m as usize, by_iter.len());
        assert!(
            cursor_reads <= iter_reads && at_reads <= iter_reads,
            "a cursor read more than Iter: {cursor_reads} / {at_reads} > {iter_reads}"
        );
        assert!(
            pair_reads <= 2 * iter_reads,
            "two cursors: {pair_reads} > 2 × {iter_reads}"
        );
    }
}
