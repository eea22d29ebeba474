//! [`Drain`]: the delivery pipeline from a log consumer to a JetStream stream.
//!
//! One generation of the pipeline starts at a *resync*: the drain asks the stream for its
//! last sequence number `S` and the offset `L` of its last message, and starts publishing
//! at `start = max(committed, L + 1)`. The record at offset `k` is published with
//! `Nats-Expected-Last-Sequence: S + (k - start)`, so the stream stores it only right after
//! the record `k - 1` of this generation (or of an earlier one with the same numbering): a
//! publish lost on the way (a dropped connection) makes every later one of the generation
//! fail instead of landing out of order. Acks are awaited in publish order; the delivered
//! prefix grows while they succeed. The first failure stops publishing; the drain waits for
//! the publishes still in flight (each at most the ack timeout after it was sent), backs off
//! and resyncs, which also learns about publishes whose ack was lost.

use crate::error::DrainError;
use crate::options::DrainOptions;
use crate::progress::Progress;
use crate::stream::{self, LookupError, StreamPosition, OFFSET_HEADER};
use async_nats::jetstream::context::PublishErrorKind;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::stream::Stream;
use async_nats::jetstream::{self, context::PublishError};
use bytes::Bytes;
use std::collections::VecDeque;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tidelog::{Durability, Error, FileError, ReadCursor, SharedFileLog};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The log handle a drain reads: shared with the application that appends to it.
pub type DrainLog = SharedFileLog<16>;

/// Records read from the log per lock hold.
const READ_BATCH: usize = 256;

/// How long the publishes still in flight after a failure may take to be acknowledged.
const FAILURE_GRACE: Duration = Duration::from_secs(1);

type AckFuture = Pin<Box<dyn Future<Output = Result<PublishAck, PublishError>> + Send>>;

/// What a finished run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainReport {
    /// Records the stream acknowledged during the run.
    pub delivered: u64,
    /// Every record below this offset is in the stream.
    pub delivered_next: u64,
    /// The consumer's committed offset at the end (`None` on a read-only log).
    pub committed: Option<u64>,
    /// Times the pipeline resynchronised with the stream after a failure.
    pub resyncs: u64,
}

/// Delivers a log's records to a JetStream stream exactly once (see the crate docs for the
/// guarantee and its preconditions).
pub struct Drain {
    log: Arc<DrainLog>,
    options: DrainOptions,
    progress: Arc<Progress>,
    writable: bool,
}

impl Drain {
    /// A drain of `log` with `options` (validated here). A read-only `log` (opened with
    /// `open_read_only`, e.g. beside a writer in another process, or an image) is tailed:
    /// delivery stays exactly once, but nothing is committed or trimmed.
    pub fn new(log: Arc<DrainLog>, options: DrainOptions) -> Result<Self, DrainError> {
        options.validate()?;
        let writable = !log.with(|f| f.storage().is_read_only())?;
        if options.trim && !writable {
            return Err(DrainError::InvalidOption(
                "trim needs a writable log (this one is open read-only)".to_string(),
            ));
        }
        Ok(Drain {
            log,
            options,
            progress: Arc::new(Progress::default()),
            writable,
        })
    }

    /// Whether the drain commits (and may trim): the log is open for writing.
    pub fn commits(&self) -> bool {
        self.writable
    }

    /// The live counters.
    pub fn progress(&self) -> Arc<Progress> {
        Arc::clone(&self.progress)
    }

    /// The options in force.
    pub fn options(&self) -> &DrainOptions {
        &self.options
    }

    /// Runs until `shutdown` completes (then: no new publishes, the ones in flight are
    /// awaited, the delivered prefix is committed) or, without
    /// [`follow`](DrainOptions::follow), until every record present is delivered. Server
    /// outages and refused publishes are retried with backoff; the error returned is one
    /// retrying cannot fix (see [`DrainError`]).
    pub async fn run(
        &self,
        client: async_nats::Client,
        shutdown: impl Future<Output = ()>,
    ) -> Result<DrainReport, DrainError> {
        // The client's own window is twice the drain's: publishes given up after a failure
        // keep their permit until their ack or the ack timeout, and must not hold back the
        // next generation.
        let js = jetstream::ContextBuilder::new()
            .timeout(self.options.ack_timeout)
            .ack_timeout(self.options.ack_timeout)
            .max_ack_inflight(self.options.max_in_flight * 2)
            .backpressure_on_inflight(true)
            .build(client);
        let mut run = Run::new(self, js);
        tokio::pin!(shutdown);
        let result = run.go(&mut shutdown).await;
        // Whatever happened, the delivered prefix is committed (a failed commit keeps the
        // first error).
        let committed = run.commit_now().await;
        let report = result?;
        committed?;
        Ok(DrainReport {
            committed: self.writable.then_some(run.committed),
            ..report
        })
    }
}

/// The state of one run.
struct Run<'a> {
    drain: &'a Drain,
    js: jetstream::Context,
    opts: &'a DrainOptions,
    log: &'a Arc<DrainLog>,
    stream: Option<Stream>,
    /// Every record below it is in the stream.
    delivered_next: u64,
    delivered: u64,
    /// The consumer's committed offset (what this run last committed or found).
    committed: u64,
    /// The numbering of this generation: `base_offset` goes at `base_sequence + 1`.
    base_offset: u64,
    base_sequence: u64,
    cursor: ReadCursor,
    ahead: VecDeque<(u64, Vec<u8>)>,
    in_flight: VecDeque<InFlight>,
    /// A commit running on the blocking pool, and the offset it commits.
    commit_task: Option<(u64, JoinHandle<Result<(), FileError>>)>,
    last_commit: Instant,
    failures: u32,
    resyncs: u64,
    /// The first resync ran (it takes the consumer's committed offset).
    started: bool,
}

struct InFlight {
    offset: u64,
    deadline: Instant,
    ack: AckFuture,
}

/// Why a pipeline generation ended.
enum Stop {
    /// A publish failed: resync.
    Failed(String),
    /// The run is over (shutdown, or caught up without follow).
    Done,
}

impl<'a> Run<'a> {
    fn new(drain: &'a Drain, js: jetstream::Context) -> Self {
        Run {
            drain,
            js,
            opts: &drain.options,
            log: &drain.log,
            stream: None,
            delivered_next: 0,
            delivered: 0,
            committed: 0,
            base_offset: 0,
            base_sequence: 0,
            cursor: ReadCursor::at(0),
            ahead: VecDeque::new(),
            in_flight: VecDeque::new(),
            commit_task: None,
            last_commit: Instant::now(),
            failures: 0,
            resyncs: 0,
            started: false,
        }
    }

    async fn go(
        &mut self,
        shutdown: &mut Pin<&mut impl Future<Output = ()>>,
    ) -> Result<DrainReport, DrainError> {
        let progress = &self.drain.progress;
        loop {
            if !self.resync(shutdown).await? {
                break;
            }
            match self.generation(shutdown).await? {
                Stop::Done => break,
                Stop::Failed(why) => {
                    self.failures += 1;
                    self.resyncs += 1;
                    progress.resynced();
                    progress.set_problem(Some(why));
                    if !self.backoff(shutdown).await {
                        break;
                    }
                }
            }
        }
        Ok(DrainReport {
            delivered: self.delivered,
            delivered_next: self.delivered_next,
            committed: None,
            resyncs: self.resyncs,
        })
    }

    /// Sleeps the current backoff; `false` when shutdown came first.
    async fn backoff(&mut self, shutdown: &mut Pin<&mut impl Future<Output = ()>>) -> bool {
        let exp = self.failures.saturating_sub(1).min(16);
        let wait = self
            .opts
            .min_backoff
            .saturating_mul(1 << exp)
            .min(self.opts.max_backoff);
        tokio::select! {
            _ = tokio::time::sleep(wait) => true,
            _ = shutdown.as_mut() => false,
        }
    }

    /// Finds where delivery stands (retrying while the server does not answer) and sets up
    /// a generation there; `false` when shutdown came first.
    async fn resync(
        &mut self,
        shutdown: &mut Pin<&mut impl Future<Output = ()>>,
    ) -> Result<bool, DrainError> {
        let progress = &self.drain.progress;
        let pos: StreamPosition = loop {
            let found = match &self.stream {
                Some(s) => stream::position(s, self.opts).await,
                None => match stream::ensure_stream(&self.js, self.opts).await {
                    Ok(s) => {
                        self.stream = Some(s);
                        continue;
                    }
                    Err(e @ DrainError::IncompatibleStream { .. })
                    | Err(e @ DrainError::InvalidOption(_)) => Err(LookupError::Fatal(e)),
                    Err(e) if e.to_string().contains("not enabled") => Err(LookupError::Fatal(e)),
                    Err(e) => Err(LookupError::Retry(e.to_string())),
                },
            };
            match found {
                Ok(p) => break p,
                Err(LookupError::Fatal(e)) => return Err(e),
                Err(LookupError::Retry(why)) => {
                    self.failures += 1;
                    progress.set_problem(Some(why));
                    if !self.backoff(shutdown).await {
                        return Ok(false);
                    }
                }
            }
        };
        if !self.drain.writable {
            self.refresh()?;
        }
        let name = &self.opts.consumer;
        let (first, next, position) = self
            .log
            .with(|f| (f.first_offset(), f.next_offset(), f.position(name)))?;
        let committed = match position {
            Ok(c) => c,
            Err(Error::Overwritten { first_available }) => {
                let committed = self.log.with(|f| f.committed(name))?.unwrap_or(0);
                if !self.opts.accept_loss {
                    return Err(DrainError::Overwritten {
                        committed,
                        first_available,
                    });
                }
                first_available
            }
            Err(e) => return Err(FileError::at(e, self.log.path()).into()),
        };
        if !self.started {
            self.started = true;
            self.committed = committed;
            self.delivered_next = committed;
            progress.set_committed(committed);
        }
        let mut start = self.delivered_next.max(committed);
        if let Some(last) = pos.last_offset {
            if last >= next {
                return Err(DrainError::StreamAhead {
                    stream_offset: last,
                    log_next: next,
                });
            }
            start = start.max(last + 1);
        }
        if start < first {
            if !self.opts.accept_loss {
                return Err(DrainError::Overwritten {
                    committed: start,
                    first_available: first,
                });
            }
            start = first;
        }
        self.delivered_next = start;
        progress.set_delivered_next(start);
        progress.set_log_next(next);
        self.base_offset = start;
        self.base_sequence = pos.last_sequence;
        self.cursor = ReadCursor::at(start);
        self.ahead.clear();
        // Records up to the stream's last one are delivered: commit them now.
        if self.drain.writable && start > self.committed {
            self.commit_now().await?;
        }
        Ok(true)
    }

    /// One pipeline generation: publish, await acks in order, commit the delivered prefix.
    async fn generation(
        &mut self,
        shutdown: &mut Pin<&mut impl Future<Output = ()>>,
    ) -> Result<Stop, DrainError> {
        let progress = Arc::clone(&self.drain.progress);
        let mut failed: Option<String> = None;
        let mut read_error: Option<(u64, FileError)> = None;
        let mut stopping = false;
        loop {
            self.reap_commit().await?;
            // Fill the pipeline.
            while failed.is_none() && !stopping && self.in_flight.len() < self.opts.max_in_flight {
                if self.ahead.is_empty() {
                    if read_error.is_some() {
                        break;
                    }
                    // The records read before a bad one are still published.
                    if let Err(e) = self.read_ahead() {
                        read_error = Some((self.cursor.offset(), e));
                    }
                }
                let Some((offset, record)) = self.ahead.pop_front() else {
                    break;
                };
                match self.publish(offset, record).await {
                    Ok(f) => self.in_flight.push_back(f),
                    Err(e) if matches!(e.kind(), PublishErrorKind::MaxPayloadExceeded) => {
                        self.settle().await;
                        return Err(DrainError::JetStream(format!(
                            "the record at offset {offset} does not fit the server's \
                             max_payload ({e}); records before it are delivered"
                        )));
                    }
                    Err(e) => failed = Some(format!("publishing offset {offset}: {e}")),
                }
            }
            let Some(front) = self.in_flight.pop_front() else {
                // Nothing in flight.
                if stopping {
                    return Ok(Stop::Done);
                }
                if let Some(why) = failed {
                    return Ok(Stop::Failed(why));
                }
                if let Some((offset, error)) = read_error.take() {
                    if !self.drain.writable && self.retry_read_after_refresh(offset)? {
                        continue;
                    }
                    return Err(DrainError::Record { offset, error });
                }
                self.maybe_commit(true).await?;
                if !self.opts.follow {
                    return Ok(Stop::Done);
                }
                tokio::select! {
                    _ = tokio::time::sleep(self.opts.poll_interval) => {}
                    _ = shutdown.as_mut() => stopping = true,
                }
                if !stopping && !self.drain.writable {
                    self.refresh()?;
                }
                continue;
            };
            let deadline = if failed.is_some() {
                front.deadline.min(Instant::now() + FAILURE_GRACE)
            } else {
                front.deadline
            };
            let InFlight { offset, ack, .. } = front;
            let ack = tokio::time::timeout_at(deadline, ack);
            tokio::pin!(ack);
            let result = loop {
                tokio::select! {
                    r = &mut ack => break r,
                    // Shutdown completes once: never polled again after that.
                    _ = shutdown.as_mut(), if !stopping => stopping = true,
                }
            };
            if failed.is_some() {
                // Not contiguous any more: the resync finds out whether it landed.
                continue;
            }
            match result {
                Ok(Ok(ack)) => {
                    let expected = self.base_sequence + (offset - self.base_offset) + 1;
                    if ack.sequence != expected {
                        if !ack.duplicate {
                            failed = Some(format!(
                                "offset {offset} landed at sequence {}, expected {expected}",
                                ack.sequence
                            ));
                            continue;
                        }
                        // Already in the stream, but not where this generation's
                        // numbering puts it: the later publishes expect a message that is
                        // not there, so resync after them.
                        failed = Some(format!(
                            "offset {offset} was already in the stream at sequence {}",
                            ack.sequence
                        ));
                    }
                    // A duplicate at the expected sequence: an earlier publish of this
                    // record landed in its place (after a reconnect); the numbering holds.
                    self.delivered_next = offset + 1;
                    self.delivered += 1;
                    progress.delivered(offset + 1);
                    if self.failures > 0 {
                        self.failures = 0;
                        progress.set_problem(None);
                    }
                    self.maybe_commit(false).await?;
                }
                Ok(Err(e)) => failed = Some(format!("offset {offset}: {e}")),
                Err(_) => {
                    failed = Some(format!(
                        "offset {offset}: no ack within {:?}",
                        self.opts.ack_timeout
                    ))
                }
            }
        }
    }

    /// Waits for the publishes in flight to settle (after a fatal error), counting the
    /// contiguous acknowledged prefix.
    async fn settle(&mut self) {
        let mut broken = false;
        while let Some(InFlight {
            offset,
            deadline,
            ack,
        }) = self.in_flight.pop_front()
        {
            let r = tokio::time::timeout_at(deadline, ack).await;
            if !broken && matches!(r, Ok(Ok(ref a)) if !a.duplicate) {
                self.delivered_next = offset + 1;
                self.delivered += 1;
                self.drain.progress.delivered(offset + 1);
            } else {
                broken = true;
            }
        }
    }

    async fn publish(&mut self, offset: u64, record: Vec<u8>) -> Result<InFlight, PublishError> {
        let expected_last = self.base_sequence + (offset - self.base_offset);
        let message = PublishMessage::build()
            .payload(Bytes::from(record))
            .message_id(stream::message_id(&self.opts.source_id, offset))
            .header(OFFSET_HEADER, offset.to_string())
            .expected_last_sequence(expected_last);
        let ack = self
            .js
            .send_publish(self.opts.subject.clone(), message)
            .await?;
        Ok(InFlight {
            offset,
            deadline: Instant::now() + self.opts.ack_timeout,
            ack: ack.into_future(),
        })
    }

    /// Reads up to a batch of records at the cursor into `ahead` (under one lock hold).
    fn read_ahead(&mut self) -> Result<(), FileError> {
        let room = (self.opts.max_in_flight - self.in_flight.len()).clamp(1, READ_BATCH);
        let (cursor, ahead) = (&mut self.cursor, &mut self.ahead);
        let (next, r) = self.log.with(|f| {
            let mut r = Ok(());
            for _ in 0..room {
                match f.read_next_vec(cursor) {
                    Ok(Some(rec)) => ahead.push_back(rec),
                    Ok(None) => break,
                    Err(e) => {
                        r = Err(e);
                        break;
                    }
                }
            }
            (f.next_offset(), r)
        })?;
        self.drain.progress.set_log_next(next);
        r
    }

    /// Re-mounts a read-only log to see its writer's new records.
    fn refresh(&mut self) -> Result<(), FileError> {
        self.log.with(|f| f.refresh())?
    }

    /// A read-only view may be stale (its writer reclaimed segments since): re-mount and
    /// try the record once more. `true` when it reads now.
    fn retry_read_after_refresh(&mut self, offset: u64) -> Result<bool, DrainError> {
        self.refresh()?;
        self.cursor.seek(offset);
        match self.read_ahead() {
            Ok(()) => Ok(true),
            Err(error) => Err(DrainError::Record { offset, error }),
        }
    }

    /// Collects a finished background commit.
    async fn reap_commit(&mut self) -> Result<(), DrainError> {
        if self
            .commit_task
            .as_ref()
            .is_some_and(|(_, t)| t.is_finished())
        {
            self.finish_commit().await?;
        }
        Ok(())
    }

    async fn finish_commit(&mut self) -> Result<(), DrainError> {
        if let Some((at, task)) = self.commit_task.take() {
            task.await
                .map_err(|e| DrainError::JetStream(format!("commit task: {e}")))??;
            self.committed = at;
            self.drain.progress.set_committed(at);
        }
        Ok(())
    }

    /// Starts a commit of the delivered prefix when one is due (`now`: whenever it moved)
    /// and none is running.
    async fn maybe_commit(&mut self, now: bool) -> Result<(), DrainError> {
        if !self.drain.writable || self.delivered_next <= self.committed {
            return Ok(());
        }
        if self.commit_task.is_some() {
            if !now {
                return Ok(());
            }
            self.finish_commit().await?;
            if self.delivered_next <= self.committed {
                return Ok(());
            }
        }
        let due = now
            || self.delivered_next - self.committed >= self.opts.commit_every
            || self.last_commit.elapsed() >= self.opts.commit_interval;
        if due {
            self.start_commit();
        }
        Ok(())
    }

    fn start_commit(&mut self) {
        let at = self.delivered_next;
        let log = Arc::clone(self.log);
        let name = self.opts.consumer.clone();
        let trim = self.opts.trim;
        self.last_commit = Instant::now();
        let task = tokio::task::spawn_blocking(move || commit(&log, &name, at, trim));
        self.commit_task = Some((at, task));
    }

    /// Commits the delivered prefix and waits for it (a no-op on a read-only log).
    async fn commit_now(&mut self) -> Result<(), DrainError> {
        self.finish_commit().await?;
        if self.drain.writable && self.delivered_next > self.committed {
            self.start_commit();
            self.finish_commit().await?;
        }
        Ok(())
    }
}

/// Commits `at` for consumer `name`, trims (when asked) up to the lowest committed offset of
/// all consumers, and makes both durable.
fn commit(log: &DrainLog, name: &str, at: u64, trim: bool) -> Result<(), FileError> {
    log.commit(name, at)?;
    if trim {
        let (first, lowest) = log.with(|f| {
            let lowest = f.consumers().map(|(_, c)| c).min().unwrap_or(at);
            (f.first_offset(), lowest.min(at))
        })?;
        if lowest > first {
            log.trim_front(lowest)?;
        }
    }
    if log.durability() == Durability::Explicit {
        log.sync()?;
    }
    Ok(())
}
