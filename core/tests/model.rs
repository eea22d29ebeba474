#![cfg(feature = "sim")]
//! Model-based property test: random operation sequences run against a [`Log`] over
//! [`SimFlash`] (which also catches a unit programmed twice) and against a plain in-memory
//! model (a `Vec` of records, the first readable offset and the consumer cursors).
//!
//! Every result is checked: offsets returned by appends, the exact `Error` variant of every
//! refused operation, the bytes of every record read or iterated (invariant I4), the cursors
//! (I8), the first/next offsets and stats, and all of it again after a remount
//! (`into_storage` + `mount`).
//!
//! * `OverwriteOldest`: which records wraparound drops cannot be predicted exactly, so the
//!   model adopts `first_offset()` after each operation, asserting it never decreases and that
//!   every record at or above it is byte-identical to the model.
//! * `Reject`: the first offset moves only by `trim_front` or — bounded by the lowest committed
//!   cursor — by reclaiming segments every consumer has passed. `Error::Full` is accepted only
//!   when every segment is in use and the refused operation could not have freed one, and it
//!   must change nothing.
//!
//! Geometry matrix: write size {1, 4, 8, 32, 256} × erase size {256 B, 4 KiB, 128 KiB}, one
//! `#[test]` per pair, both full policies in each. `TIDELOG_MODEL_CASES` overrides the number
//! of cases per (geometry, policy).

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, TestCaseError, TestRunner};
use tidelog::{Config, Error, FullPolicy, Log, SimFlash, Stats};

/// Consumer capacity of the log under test: with three names, `TooManyConsumers` happens.
const C: usize = 2;
const NAMES: [&str; 3] = ["a", "uploader", "consumer-name-of-exactly-32-byte"];
/// Bound on the number of records an `AppendMany` op writes (keeps 128 KiB segments cheap).
const MAX_MANY: u8 = 24;

type L = Log<SimFlash, C>;

/// Coverage counters (printed with `--nocapture`, and checked so a test that stops reaching
/// the interesting states fails instead of silently passing).
#[derive(Debug, Default, Clone, Copy)]
struct Coverage {
    cases: u64,
    ops: u64,
    appended: u64,
    full: u64,
    wrapped: u64,
    truncated: u64,
    trimmed: u64,
    remounts: u64,
    cursor_reclaims: u64,
}

thread_local! {
    static COVERAGE: std::cell::Cell<Coverage> = std::cell::Cell::new(Coverage::default());
}

fn count(f: impl FnOnce(&mut Coverage)) {
    COVERAGE.with(|c| {
        let mut v = c.get();
        f(&mut v);
        c.set(v);
    });
}
type TestResult = Result<(), TestCaseError>;

// ---------------------------------------------------------------------------------------------
// Operations

/// A record length, resolved against the log's `max_record_size` when the op runs.
#[derive(Debug, Clone, Copy)]
enum Len {
    /// Exactly this many bytes (capped at the maximum).
    Abs(u16),
    /// This many thousandths of the maximum.
    Permille(u16),
    /// The maximum minus this.
    MaxMinus(u8),
    /// The maximum plus one plus this: always `TooLarge`.
    OverMax(u8),
}

impl Len {
    fn resolve(self, max: usize) -> usize {
        match self {
            Len::Abs(n) => (n as usize).min(max),
            Len::Permille(p) => max * p as usize / 1000,
            Len::MaxMinus(k) => max.saturating_sub(k as usize),
            Len::OverMax(k) => max + 1 + k as usize,
        }
    }
}

/// An offset, resolved against the model's first and next offsets when the op runs.
#[derive(Debug, Clone, Copy)]
enum At {
    First,
    Next,
    /// `first + (next - first) * f / 255`: somewhere inside the readable range.
    Inside(u8),
    /// Below the first offset (clamped at 0).
    Below(u8),
    /// Beyond the next offset.
    Beyond(u8),
    Max,
}

impl At {
    fn resolve(self, first: u64, next: u64) -> u64 {
        match self {
            At::First => first,
            At::Next => next,
            At::Inside(f) => first + (next - first) * f as u64 / 255,
            At::Below(k) => first.saturating_sub(1 + k as u64),
            At::Beyond(k) => next + 1 + k as u64,
            At::Max => u64::MAX,
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    /// One record of this length; the byte is a content seed.
    Append(Len, u8),
    /// This many records of this length (stops at the first `Full`).
    AppendMany(u8, Len),
    /// A batch of records with these lengths (empty: `InvalidArgument`).
    Batch(Vec<Len>, u8),
    /// Read one offset; `true`: with a buffer one byte too small.
    Read(At, bool),
    /// Iterate from an offset to the end; `true`: every record is first asked for with an
    /// empty buffer (`BufferTooSmall`, nothing consumed), then read.
    Iter(At, bool),
    /// `Consumer::iter`: from the committed position (or the first offset).
    ConsumerIter(usize),
    Trim(At),
    Truncate(At),
    /// Consumer (index into `NAMES`) commits an offset.
    Commit(usize, At),
    Rewind(usize, At),
    Remove(usize),
    Position(usize),
    Stats,
    Sync,
    Remount,
}

fn len_strategy() -> impl Strategy<Value = Len> {
    prop_oneof![
        4 => (0u16..48).prop_map(Len::Abs),
        3 => (0u16..=1000).prop_map(Len::Permille),
        1 => (0u8..4).prop_map(Len::MaxMinus),
        1 => (0u8..3).prop_map(Len::OverMax),
    ]
}

fn small_len_strategy() -> impl Strategy<Value = Len> {
    prop_oneof![
        6 => (0u16..48).prop_map(Len::Abs),
        3 => (0u16..400).prop_map(Len::Permille),
        1 => (0u8..3).prop_map(Len::OverMax),
    ]
}

fn at_strategy() -> impl Strategy<Value = At> {
    prop_oneof![
        2 => Just(At::First),
        2 => Just(At::Next),
        6 => any::<u8>().prop_map(At::Inside),
        1 => (0u8..3).prop_map(At::Below),
        1 => (0u8..3).prop_map(At::Beyond),
        1 => Just(At::Max),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    let who = 0..NAMES.len();
    prop_oneof![
        10 => (len_strategy(), any::<u8>()).prop_map(|(l, s)| Op::Append(l, s)),
        4 => (1..=MAX_MANY, small_len_strategy()).prop_map(|(n, l)| Op::AppendMany(n, l)),
        3 => (prop::collection::vec(small_len_strategy(), 0..6), any::<u8>())
            .prop_map(|(v, s)| Op::Batch(v, s)),
        4 => (at_strategy(), prop::bool::weighted(0.15)).prop_map(|(a, s)| Op::Read(a, s)),
        2 => (at_strategy(), prop::bool::weighted(0.3)).prop_map(|(a, s)| Op::Iter(a, s)),
        1 => (0..NAMES.len()).prop_map(Op::ConsumerIter),
        2 => at_strategy().prop_map(Op::Trim),
        2 => at_strategy().prop_map(Op::Truncate),
        3 => (who.clone(), at_strategy()).prop_map(|(w, a)| Op::Commit(w, a)),
        1 => (who.clone(), at_strategy()).prop_map(|(w, a)| Op::Rewind(w, a)),
        1 => who.clone().prop_map(Op::Remove),
        1 => who.prop_map(Op::Position),
        1 => Just(Op::Stats),
        1 => Just(Op::Sync),
        2 => Just(Op::Remount),
    ]
}

/// Per-case layout choices (the geometry and policy are fixed per runner).
#[derive(Debug, Clone, Copy)]
struct Setup {
    segments: u32,
    /// Index interval: `[64, 256, 1024, 4096][i]`, at least twice the write size.
    interval: usize,
    /// 0: the largest record that fits; otherwise this many thousandths of it.
    max_permille: u16,
}

fn setup_strategy(es: usize) -> impl Strategy<Value = Setup> {
    let max_segments: u32 = if es >= 128 * 1024 { 4 } else { 8 };
    (
        2u32..=max_segments,
        0usize..4,
        prop_oneof![3 => Just(0u16), 1 => 50u16..1000],
    )
        .prop_map(|(segments, interval, max_permille)| Setup {
            segments,
            interval,
            max_permille,
        })
}

// ---------------------------------------------------------------------------------------------
// The model

#[derive(Debug, Clone, Default)]
struct Model {
    /// Record at offset `i` (below `first`: dropped, kept only for convenience).
    recs: Vec<Vec<u8>>,
    first: u64,
    cursors: BTreeMap<&'static str, u64>,
}

impl Model {
    fn next(&self) -> u64 {
        self.recs.len() as u64
    }
    fn min_cursor(cursors: &BTreeMap<&'static str, u64>) -> Option<u64> {
        cursors.values().copied().min()
    }
}

/// Deterministic record content, distinct per offset and seed.
fn content(len: usize, seed: u8, offset: u64) -> Vec<u8> {
    let mut x = (offset.wrapping_mul(0x9E37_79B9_7F4A_7C15)) ^ ((seed as u64) << 32) ^ len as u64;
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

/// Drains an iterator (bounded: one call more than `expected` records). With `probe`, each
/// record is first asked for with an empty buffer, which must fail with `BufferTooSmall` (for
/// a non-empty record) without consuming it.
fn collect(
    mut it: tidelog::Iter<'_, SimFlash, C>,
    buf: &mut [u8],
    expected: u64,
    probe: bool,
    got: &mut Vec<(u64, Vec<u8>)>,
) -> Result<(), Error> {
    for _ in 0..=expected {
        if probe {
            let at = it.offset();
            match it.next_into(&mut []) {
                Ok(Some((off, 0))) => {
                    got.push((off, Vec::new()));
                    continue;
                }
                Ok(None) => return Ok(()),
                Err(Error::BufferTooSmall { .. }) => {}
                Ok(Some((off, len))) => panic!("{len} bytes at {off} in an empty buffer"),
                Err(e) => return Err(e),
            }
            assert_eq!(it.offset(), at, "BufferTooSmall consumed a record");
        }
        match it.next_into(buf)? {
            Some((off, len)) => got.push((off, buf[..len].to_vec())),
            None => return Ok(()),
        }
    }
    Ok(())
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

// ---------------------------------------------------------------------------------------------
// The harness

struct Harness {
    log: Option<L>,
    cfg: Config,
    policy: FullPolicy,
    model: Model,
    max: usize,
    segments_total: u32,
    segment_size: u32,
    buf: Vec<u8>,
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// Formats a log of `setup.segments` segments, growing the segment (1, 2, 4, 8 sectors) and
/// then the index interval until the layout fits.
fn format_log(ws: usize, es: usize, policy: FullPolicy, setup: &Setup) -> (L, Config) {
    let base_interval = [64usize, 256, 1024, 4096][setup.interval].max(2 * ws);
    for interval in [base_interval, base_interval * 4, base_interval * 16] {
        for sectors in [1u32, 2, 4, 8] {
            let cap = es * sectors as usize * setup.segments as usize;
            let sim = SimFlash::new(ws, es, cap).expect("geometry");
            let mut cfg = Config::new()
                .segment_sectors(sectors)
                .index_interval(interval as u32)
                .full_policy(policy);
            let log = match L::format(sim, cfg) {
                Ok(log) => log,
                Err(Error::InvalidConfig(_)) => continue,
                Err(e) => panic!("format: {e:?}"),
            };
            if setup.max_permille == 0 {
                return (log, cfg);
            }
            let auto = log.layout().max_record_size as u64;
            let max = (auto * setup.max_permille as u64 / 1000).max(1) as u32;
            cfg = cfg.max_record_size(max);
            let log = L::format(log.into_storage(), cfg).expect("format with a smaller max");
            return (log, cfg);
        }
    }
    panic!("no layout fits: ws {ws} es {es} {setup:?}");
}

impl Harness {
    fn new(ws: usize, es: usize, policy: FullPolicy, setup: &Setup) -> Self {
        let (log, cfg) = format_log(ws, es, policy, setup);
        let st = log.stats();
        assert_eq!(st.max_record_size, log.layout().max_record_size);
        Harness {
            max: st.max_record_size as usize,
            segments_total: st.segments_total,
            segment_size: st.segment_size,
            log: Some(log),
            cfg,
            policy,
            model: Model::default(),
            buf: vec![0u8; st.max_record_size as usize + 16],
        }
    }

    fn log(&mut self) -> &mut L {
        self.log.as_mut().expect("log")
    }

    fn stats(&mut self, _ctx: &str) -> Result<Stats, TestCaseError> {
        Ok(self.log().stats())
    }

    fn out_of_range(&self) -> Error {
        Error::OutOfRange {
            first: self.model.first,
            next: self.model.next(),
        }
    }

    fn overwritten(&self) -> Error {
        Error::Overwritten {
            first_available: self.model.first,
        }
    }

    /// May an operation that leaves trim point `first_after` and cursors `cursors_after` in
    /// force fail with `Full`? Only when every segment but the spare is in use and reclaiming the oldest one
    /// is not allowed: under `OverwriteOldest` never (except `truncate_back`), under `Reject`
    /// not when everything is trimmed or every consumer has consumed everything.
    fn full_allowed(
        &self,
        pre: &Stats,
        first_after: u64,
        cursors_after: &BTreeMap<&'static str, u64>,
    ) -> bool {
        let next = self.model.next();
        // Under `Reject` appends leave the last free segment to control writes (commit, trim,
        // truncate), so they may see `Full` with one segment free.
        pre.segments_used + 1 >= pre.segments_total
            && self.policy == FullPolicy::Reject
            && first_after < next
            && Model::min_cursor(cursors_after).is_none_or(|m| m < next)
    }

    /// A refused append of a frame with a `body`-byte body: `bytes_free` must have said it
    /// would not fit (F6: no `Full` while the stats promise room for it).
    fn check_full_append(&mut self, ctx: &str, pre: &Stats, body: usize) -> TestResult {
        let frame = self.log().layout().frame_size(body) as u64;
        prop_assert!(
            pre.bytes_free < frame,
            "{ctx}: Full for a {frame}-byte frame with bytes_free {} ({pre:?})",
            pre.bytes_free
        );
        Ok(())
    }

    /// Checks an error against `Full` rules: nothing may have changed.
    fn check_full(&mut self, ctx: &str, pre: &Stats, allowed: bool) -> TestResult {
        prop_assert!(allowed, "{ctx}: Full was not allowed here (stats {pre:?})");
        count(|c| c.full += 1);
        let post = self.stats(ctx)?;
        prop_assert_eq!(&post, pre, "{}: a refused operation changed the stats", ctx);
        Ok(())
    }

    /// One append of `len` bytes through `append` (or `append_batch` of one).
    fn append_one(&mut self, ctx: &str, len: usize, seed: u8, as_batch: bool) -> TestResult {
        let pre = self.stats(ctx)?;
        let next = self.model.next();
        let rec = content(len, seed, next);
        let r = if as_batch {
            self.log().append_batch(&[&rec])
        } else {
            self.log().append(&rec)
        };
        if len > self.max {
            prop_assert_eq!(
                r,
                Err(Error::TooLarge {
                    len: len as u32,
                    max: self.max as u32
                }),
                "{}",
                ctx
            );
            return Ok(());
        }
        match r {
            Ok(off) => {
                prop_assert_eq!(off, next, "{}: append returned a wrong offset", ctx);
                self.model.recs.push(rec);
                count(|c| c.appended += 1);
            }
            Err(Error::Full) => {
                let allowed =
                    self.full_allowed(&pre, self.model.first, &self.model.cursors.clone());
                self.check_full(ctx, &pre, allowed)?;
                self.check_full_append(ctx, &pre, len)?;
            }
            Err(e) => return Err(fail(format!("{ctx}: append failed: {e:?}"))),
        }
        Ok(())
    }

    fn batch(&mut self, ctx: &str, lens: &[Len], seed: u8) -> TestResult {
        let lens: Vec<usize> = lens.iter().map(|l| l.resolve(self.max)).collect();
        if lens.len() == 1 {
            return self.append_one(ctx, lens[0], seed, true);
        }
        let pre = self.stats(ctx)?;
        let next = self.model.next();
        let recs: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, &l)| content(l, seed, next + i as u64))
            .collect();
        let refs: Vec<&[u8]> = recs.iter().map(|r| r.as_slice()).collect();
        let r = self.log().append_batch(&refs);
        if lens.is_empty() {
            prop_assert_eq!(r, Err(Error::InvalidArgument("empty batch")), "{}", ctx);
            return Ok(());
        }
        let max = self.max as u32;
        if let Some(&big) = lens.iter().find(|&&l| l > self.max) {
            let want = Error::TooLarge {
                len: big as u32,
                max,
            };
            prop_assert_eq!(r, Err(want), "{}", ctx);
            return Ok(());
        }
        let body = varint_len(lens.len()) + lens.iter().map(|&l| varint_len(l) + l).sum::<usize>();
        if body > self.max {
            let want = Error::TooLarge {
                len: lens.iter().sum::<usize>() as u32,
                max,
            };
            prop_assert_eq!(r, Err(want), "{}: batch body of {} bytes", ctx, body);
            return Ok(());
        }
        match r {
            Ok(off) => {
                prop_assert_eq!(off, next, "{}: batch returned a wrong offset", ctx);
                count(|c| c.appended += recs.len() as u64);
                self.model.recs.extend(recs);
            }
            Err(Error::Full) => {
                let allowed =
                    self.full_allowed(&pre, self.model.first, &self.model.cursors.clone());
                self.check_full(ctx, &pre, allowed)?;
                self.check_full_append(ctx, &pre, body)?;
            }
            Err(e) => return Err(fail(format!("{ctx}: batch failed: {e:?}"))),
        }
        Ok(())
    }

    fn read(&mut self, ctx: &str, off: u64, short: bool) -> TestResult {
        let (first, next) = (self.model.first, self.model.next());
        let want_len = (off >= first && off < next).then(|| self.model.recs[off as usize].len());
        let buf_len = match want_len {
            Some(l) if short && l > 0 => l - 1,
            _ => self.buf.len(),
        };
        let mut buf = std::mem::take(&mut self.buf);
        let r = self.log().read(off, &mut buf[..buf_len]);
        let outcome = match want_len {
            None if off >= next => {
                prop_assert_eq!(r, Err(self.out_of_range()), "{}: read({})", ctx, off);
                Ok(())
            }
            None => {
                prop_assert_eq!(r, Err(self.overwritten()), "{}: read({})", ctx, off);
                Ok(())
            }
            Some(l) if short && l > 0 => {
                let want = Error::BufferTooSmall { needed: l as u32 };
                prop_assert_eq!(r, Err(want), "{}: read({})", ctx, off);
                Ok(())
            }
            Some(_) => match r {
                Ok(n) => {
                    let rec = &self.model.recs[off as usize];
                    prop_assert!(
                        buf[..n] == rec[..],
                        "{ctx}: read({off}) returned {n} bytes that differ from the model's {}",
                        rec.len()
                    );
                    Ok(())
                }
                Err(e) => Err(fail(format!("{ctx}: read({off}) failed: {e:?}"))),
            },
        };
        self.buf = buf;
        outcome
    }

    fn iter(&mut self, ctx: &str, from: u64, probe: bool) -> TestResult {
        let next = self.model.next();
        let mut buf = std::mem::take(&mut self.buf);
        let mut got = Vec::new();
        let r = (|| -> Result<(), Error> {
            let log = self.log.as_mut().expect("log");
            let it = log.iter(from)?;
            collect(it, &mut buf, next.saturating_sub(from), probe, &mut got)
        })();
        self.buf = buf;
        self.check_iter(ctx, from, r, &got)
    }

    fn consumer_iter(&mut self, ctx: &str, who: usize) -> TestResult {
        let name = NAMES[who];
        let from = match self.model.cursors.get(name) {
            Some(&c) => c,
            None => self.model.first,
        };
        let next = self.model.next();
        let mut buf = std::mem::take(&mut self.buf);
        let mut got = Vec::new();
        let r = (|| -> Result<(), Error> {
            let log = self.log.as_mut().expect("log");
            let it = log.consumer(name)?.iter()?;
            collect(it, &mut buf, next.saturating_sub(from), false, &mut got)
        })();
        self.buf = buf;
        self.check_iter(ctx, from, r, &got)
    }

    fn check_iter(
        &mut self,
        ctx: &str,
        from: u64,
        r: Result<(), Error>,
        got: &[(u64, Vec<u8>)],
    ) -> TestResult {
        let (first, next) = (self.model.first, self.model.next());
        if from > next {
            prop_assert_eq!(r, Err(self.out_of_range()), "{}: iter({})", ctx, from);
        } else if from < first && from != next {
            prop_assert_eq!(r, Err(self.overwritten()), "{}: iter({})", ctx, from);
        } else {
            r.map_err(|e| fail(format!("{ctx}: iter({from}) failed: {e:?}")))?;
            prop_assert_eq!(
                got.len() as u64,
                next - from,
                "{}: iter({}) yielded the wrong number of records",
                ctx,
                from
            );
            for (i, (off, bytes)) in got.iter().enumerate() {
                prop_assert_eq!(*off, from + i as u64, "{}: iter offsets", ctx);
                prop_assert!(
                    bytes == &self.model.recs[*off as usize],
                    "{ctx}: iter({from}) returned wrong bytes at offset {off}"
                );
            }
        }
        Ok(())
    }

    fn trim(&mut self, ctx: &str, to: u64) -> TestResult {
        let pre = self.stats(ctx)?;
        let r = self.log().trim_front(to);
        if to > self.model.next() {
            prop_assert_eq!(r, Err(self.out_of_range()), "{}: trim_front({})", ctx, to);
            return Ok(());
        }
        match r {
            Ok(()) => {
                if to > self.model.first {
                    count(|c| c.trimmed += 1);
                }
                self.model.first = self.model.first.max(to);
            }
            Err(Error::Full) => {
                let allowed = self.full_allowed(&pre, to, &self.model.cursors.clone());
                self.check_full(ctx, &pre, allowed)?;
            }
            Err(e) => return Err(fail(format!("{ctx}: trim_front({to}) failed: {e:?}"))),
        }
        Ok(())
    }

    fn truncate(&mut self, ctx: &str, len: u64) -> TestResult {
        let pre = self.stats(ctx)?;
        let r = self.log().truncate_back(len);
        if len > self.model.next() || len < self.model.first {
            prop_assert_eq!(
                r,
                Err(self.out_of_range()),
                "{}: truncate_back({})",
                ctx,
                len
            );
            return Ok(());
        }
        match r {
            Ok(()) => {
                if len < self.model.next() {
                    count(|c| c.truncated += 1);
                }
                self.model.recs.truncate(len as usize);
                for c in self.model.cursors.values_mut() {
                    *c = (*c).min(len);
                }
            }
            Err(Error::Full) => {
                // Truncation needs a free segment whatever the policy.
                let allowed = pre.segments_used == pre.segments_total;
                self.check_full(ctx, &pre, allowed)?;
            }
            Err(e) => return Err(fail(format!("{ctx}: truncate_back({len}) failed: {e:?}"))),
        }
        Ok(())
    }

    fn commit(&mut self, ctx: &str, who: usize, to: u64, rewind: bool) -> TestResult {
        let name = NAMES[who];
        let pre = self.stats(ctx)?;
        let r = if rewind {
            self.log().rewind(name, to)
        } else {
            self.log().commit(name, to)
        };
        let cur = self.model.cursors.get(name).copied();
        let want = if to > self.model.next() {
            Some(self.out_of_range())
        } else if rewind && to < self.model.first {
            Some(self.overwritten())
        } else if cur == Some(to) {
            None
        } else if !rewind && cur.is_some_and(|c| to < c) {
            Some(Error::InvalidArgument(
                "commit would move the cursor backwards; use rewind",
            ))
        } else if cur.is_none() && self.model.cursors.len() >= C {
            Some(Error::TooManyConsumers)
        } else {
            None
        };
        if let Some(e) = want {
            prop_assert_eq!(r, Err(e), "{}: {} {:?} -> {}", ctx, name, cur, to);
            return Ok(());
        }
        let mut after = self.model.cursors.clone();
        after.insert(name, to);
        match r {
            Ok(()) => self.model.cursors = after,
            Err(Error::Full) => {
                let allowed = self.full_allowed(&pre, self.model.first, &after);
                self.check_full(ctx, &pre, allowed)?;
            }
            Err(e) => return Err(fail(format!("{ctx}: commit/rewind failed: {e:?}"))),
        }
        Ok(())
    }

    fn remove(&mut self, ctx: &str, who: usize) -> TestResult {
        let name = NAMES[who];
        let pre = self.stats(ctx)?;
        let r = self.log().remove_consumer(name);
        if !self.model.cursors.contains_key(name) {
            prop_assert_eq!(r, Err(Error::NoSuchConsumer), "{}", ctx);
            return Ok(());
        }
        let mut after = self.model.cursors.clone();
        after.remove(name);
        match r {
            Ok(()) => self.model.cursors = after,
            Err(Error::Full) => {
                let allowed = self.full_allowed(&pre, self.model.first, &after);
                self.check_full(ctx, &pre, allowed)?;
            }
            Err(e) => return Err(fail(format!("{ctx}: remove_consumer failed: {e:?}"))),
        }
        Ok(())
    }

    fn position(&mut self, ctx: &str, who: usize) -> TestResult {
        let name = NAMES[who];
        let want = match self.model.cursors.get(name) {
            Some(&c) if c < self.model.first => Err(self.overwritten()),
            Some(&c) => Ok(c),
            None => Ok(self.model.first),
        };
        let got = self.log().consumer(name).and_then(|c| c.position());
        prop_assert_eq!(got, want, "{}: position of {}", ctx, name);
        Ok(())
    }

    fn remount(&mut self, ctx: &str) -> TestResult {
        count(|c| c.remounts += 1);
        let storage = self.log.take().expect("log").into_storage();
        let log =
            L::mount(storage, self.cfg).map_err(|e| fail(format!("{ctx}: mount failed: {e:?}")))?;
        self.log = Some(log);
        let st = self.stats(ctx)?;
        prop_assert_eq!(
            st.first_offset,
            self.model.first,
            "{}: first after mount",
            ctx
        );
        prop_assert_eq!(
            st.next_offset,
            self.model.next(),
            "{}: next after mount",
            ctx
        );
        self.verify_all(ctx)
    }

    /// Reads every record by offset and by iteration.
    fn verify_all(&mut self, ctx: &str) -> TestResult {
        let (first, next) = (self.model.first, self.model.next());
        for off in first..next {
            self.read(ctx, off, false)?;
        }
        self.iter(ctx, first, false)
    }

    /// After every operation: offsets, stats, cursors. Adopts the first offset under the rules
    /// of the policy.
    fn after_op(&mut self, ctx: &str, pre_first: u64) -> TestResult {
        let st = self.stats(ctx)?;
        let next = self.model.next();
        prop_assert_eq!(st.next_offset, next, "{}: next offset", ctx);
        prop_assert_eq!(self.log().next_offset(), next, "{}: next_offset()", ctx);
        prop_assert_eq!(st.segments_total, self.segments_total, "{}", ctx);
        prop_assert_eq!(st.segment_size, self.segment_size, "{}", ctx);
        prop_assert_eq!(st.max_record_size as usize, self.max, "{}", ctx);
        prop_assert!(st.segments_used >= 1 && st.segments_used <= st.segments_total);
        prop_assert!(
            st.bytes_used + st.bytes_free <= st.segments_total as u64 * st.segment_size as u64,
            "{}: bytes used + free {:?}",
            ctx,
            st
        );
        let first = st.first_offset;
        let expected = self.model.first;
        prop_assert!(first <= next, "{ctx}: first {first} > next {next}");
        prop_assert!(
            first >= pre_first && first >= expected,
            "{ctx}: first offset went backwards: {pre_first} (expected {expected}) -> {first}"
        );
        if first != expected {
            count(|c| match self.policy {
                FullPolicy::Reject => c.cursor_reclaims += 1,
                _ => c.wrapped += 1,
            });
        }
        if self.policy == FullPolicy::Reject && first != expected {
            // Only segments every consumer has passed may be reclaimed.
            let min = Model::min_cursor(&self.model.cursors);
            prop_assert!(
                min.is_some_and(|m| first <= m),
                "{ctx}: Reject dropped unconsumed records: first {expected} -> {first}, \
                 cursors {:?}",
                self.model.cursors
            );
        }
        self.model.first = first;
        let got: BTreeMap<String, u64> = self
            .log()
            .consumers()
            .map(|(n, o)| (n.to_string(), o))
            .collect();
        let want: BTreeMap<String, u64> = self
            .model
            .cursors
            .iter()
            .map(|(n, o)| (n.to_string(), *o))
            .collect();
        prop_assert_eq!(got, want, "{}: cursors", ctx);
        for name in NAMES {
            let c = self.model.cursors.get(name).copied();
            prop_assert_eq!(
                self.log().committed(name),
                c,
                "{}: committed({})",
                ctx,
                name
            );
        }
        Ok(())
    }

    fn apply(&mut self, i: usize, op: &Op) -> TestResult {
        count(|c| c.ops += 1);
        let ctx = format!("op #{i} {op:?}");
        let ctx = ctx.as_str();
        let pre_first = self.model.first;
        let (first, next) = (self.model.first, self.model.next());
        match op {
            Op::Append(len, seed) => self.append_one(ctx, len.resolve(self.max), *seed, false)?,
            Op::AppendMany(n, len) => {
                for k in 0..*n {
                    let before = self.model.next();
                    self.append_one(ctx, len.resolve(self.max), k, false)?;
                    if self.model.next() == before {
                        break; // refused (Full or TooLarge)
                    }
                    self.after_op(ctx, pre_first)?;
                }
            }
            Op::Batch(lens, seed) => self.batch(ctx, lens, *seed)?,
            Op::Read(at, short) => self.read(ctx, at.resolve(first, next), *short)?,
            Op::Iter(at, probe) => self.iter(ctx, at.resolve(first, next), *probe)?,
            Op::ConsumerIter(w) => self.consumer_iter(ctx, *w)?,
            Op::Trim(at) => self.trim(ctx, at.resolve(first, next))?,
            Op::Truncate(at) => self.truncate(ctx, at.resolve(first, next))?,
            Op::Commit(w, at) => self.commit(ctx, *w, at.resolve(first, next), false)?,
            Op::Rewind(w, at) => self.commit(ctx, *w, at.resolve(first, next), true)?,
            Op::Remove(w) => self.remove(ctx, *w)?,
            Op::Position(w) => self.position(ctx, *w)?,
            Op::Stats => {
                let a = self.stats(ctx)?;
                let b = self.stats(ctx)?;
                prop_assert_eq!(a, b, "{}: stats is not a pure read", ctx);
            }
            Op::Sync => self
                .log()
                .sync()
                .map_err(|e| fail(format!("{ctx}: sync failed: {e:?}")))?,
            Op::Remount => self.remount(ctx)?,
        }
        self.after_op(ctx, pre_first)
    }
}

fn run_case(ws: usize, es: usize, policy: FullPolicy, setup: &Setup, ops: &[Op]) -> TestResult {
    count(|c| c.cases += 1);
    let mut h = Harness::new(ws, es, policy, setup);
    for (i, op) in ops.iter().enumerate() {
        h.apply(i, op)?;
    }
    h.verify_all("final")?;
    h.remount("final remount")
}

fn cases() -> u32 {
    std::env::var("TIDELOG_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn run_geometry(ws: usize, es: usize) {
    for policy in [FullPolicy::Reject, FullPolicy::OverwriteOldest] {
        let config = PtConfig {
            cases: cases(),
            failure_persistence: None,
            max_shrink_iters: 4096,
            ..PtConfig::default()
        };
        let mut runner = TestRunner::new(config);
        let strategy = (
            setup_strategy(es),
            prop::collection::vec(op_strategy(), 1..100),
        );
        let result = runner.run(&strategy, |(setup, ops)| {
            run_case(ws, es, policy, &setup, &ops)
        });
        if let Err(e) = result {
            panic!("write_size {ws}, erase_size {es}, {policy:?}: {e}");
        }
        let cov = COVERAGE.with(|c| c.replace(Coverage::default()));
        println!("write_size {ws}, erase_size {es}, {policy:?}: {cov:?}");
        // The generator must keep reaching the states that matter.
        assert!(cov.appended > 0 && cov.remounts > 0 && cov.truncated > 0 && cov.trimmed > 0);
        match policy {
            FullPolicy::Reject => assert!(cov.full > 0, "no case reached Full: {cov:?}"),
            _ => assert!(cov.wrapped > 0, "no case wrapped around: {cov:?}"),
        }
    }
}

/// Regression: `Log::format` with an `index_interval` so small that the index area (one
/// slot per interval) exceeds the segment used to underflow `Layout::index_start` — a panic
/// with overflow checks, and in release a bogus layout (16 MiB max record) whose appends
/// returned `Ok` and whose image then mounted as `NotFormatted` (the data was lost). It must be
/// a plain `InvalidConfig`.
#[test]
fn format_rejects_an_index_interval_too_small_for_the_segment() {
    for (ws, es, interval) in [
        (1, 256, 1),
        (1, 256, 8),
        (4, 1024, 4),
        (8, 4096, 8),
        (1, 4096, 15),
    ] {
        let sim = SimFlash::new(ws, es, 4 * es).unwrap();
        let cfg = Config::new().index_interval(interval);
        let r = std::panic::catch_unwind(move || L::format(sim, cfg).map(|_| ()));
        match r {
            Ok(Err(Error::InvalidConfig(_))) => {}
            other => panic!("ws {ws} es {es} interval {interval}: {other:?}"),
        }
    }
    // A small interval that fits still formats and works.
    let sim = SimFlash::new(1, 1024, 4096).unwrap();
    let mut log = L::format(sim, Config::new().index_interval(64)).unwrap();
    assert_eq!(log.append(b"x").unwrap(), 0);
    let log = L::mount(log.into_storage(), Config::new()).unwrap();
    assert_eq!(log.next_offset(), 1);
}

macro_rules! geometry_tests {
    ($($name:ident: $ws:expr, $es:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run_geometry($ws, $es);
            }
        )*
    };
}

geometry_tests! {
    model_ws1_erase256: 1, 256;
    model_ws1_erase4k: 1, 4096;
    model_ws1_erase128k: 1, 128 * 1024;
    model_ws4_erase256: 4, 256;
    model_ws4_erase4k: 4, 4096;
    model_ws4_erase128k: 4, 128 * 1024;
    model_ws8_erase256: 8, 256;
    model_ws8_erase4k: 8, 4096;
    model_ws8_erase128k: 8, 128 * 1024;
    model_ws32_erase256: 32, 256;
    model_ws32_erase4k: 32, 4096;
    model_ws32_erase128k: 32, 128 * 1024;
    model_ws256_erase256: 256, 256;
    model_ws256_erase4k: 256, 4096;
    model_ws256_erase128k: 256, 128 * 1024;
}
