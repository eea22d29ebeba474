//! [`DrainOptions`]: what to drain where, and how hard to push.

use crate::error::DrainError;
use std::time::Duration;

/// The settings of one drain. [`DrainOptions::new`] fills in the defaults; the fields are
/// public so a caller changes what it needs.
#[derive(Debug, Clone)]
pub struct DrainOptions {
    /// Names the log in message ids (`Nats-Msg-Id: <source_id>:<offset>`): ASCII letters,
    /// digits, `-` and `_`, 1..=64 bytes. One drain per source id (see the crate docs).
    pub source_id: String,
    /// The subject every record is published on (no wildcards).
    pub subject: String,
    /// The JetStream stream that captures `subject` (created if absent; see
    /// [`required_stream_settings`](crate::stream::required_stream_settings)).
    pub stream: String,
    /// The log consumer whose committed offset records what is delivered.
    pub consumer: String,
    /// Publishes awaiting their PubAck at most (the pipeline's depth).
    pub max_in_flight: usize,
    /// Delivered records between two cursor commits at most.
    pub commit_every: u64,
    /// Time between two cursor commits at most (while records are being delivered).
    pub commit_interval: Duration,
    /// Trim the log up to the delivered prefix (never past another consumer's committed
    /// offset), so delivered segments are reclaimed.
    pub trim: bool,
    /// Keep tailing the log once caught up (`false`: stop when every record present at that
    /// moment is delivered).
    pub follow: bool,
    /// How often a caught-up drain looks for new records (a read-only handle re-mounts).
    pub poll_interval: Duration,
    /// Wait for each PubAck at most this long before the drain resynchronises.
    pub ack_timeout: Duration,
    /// First wait after a failure; doubles up to [`max_backoff`](Self::max_backoff).
    pub min_backoff: Duration,
    /// Longest wait between two retries.
    pub max_backoff: Duration,
    /// The duplicate window of a stream the drain creates.
    pub duplicate_window: Duration,
    /// When the log dropped undelivered records (see [`DrainError::Overwritten`]), go on
    /// from the first record it still holds instead of stopping.
    pub accept_loss: bool,
}

impl DrainOptions {
    /// Options with the defaults: consumer `"nats"`, stream `TIDELOG_<source_id>`, 4096
    /// publishes in flight, commits every 8192 records or 100 ms, no trim, follow, 50 ms poll,
    /// 5 s ack timeout, backoff 50 ms..5 s, 2 min duplicate window.
    pub fn new(source_id: impl Into<String>, subject: impl Into<String>) -> Self {
        let source_id = source_id.into();
        DrainOptions {
            stream: format!("TIDELOG_{source_id}"),
            source_id,
            subject: subject.into(),
            consumer: "nats".to_string(),
            max_in_flight: 4096,
            commit_every: 8192,
            commit_interval: Duration::from_millis(100),
            trim: false,
            follow: true,
            poll_interval: Duration::from_millis(50),
            ack_timeout: Duration::from_secs(5),
            min_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(5),
            duplicate_window: Duration::from_secs(120),
            accept_loss: false,
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), DrainError> {
        let bad = |m: String| Err(DrainError::InvalidOption(m));
        let id = &self.source_id;
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return bad(format!(
                "source id {id:?}: use 1..=64 ASCII letters, digits, '-' or '_'"
            ));
        }
        if !valid_subject(&self.subject) {
            return bad(format!(
                "subject {:?}: tokens separated by '.', no spaces, no wildcards ('*', '>')",
                self.subject
            ));
        }
        if self.stream.is_empty()
            || self.stream.len() > 255
            || self
                .stream
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || ".*>/\\".contains(c))
        {
            return bad(format!(
                "stream name {:?}: no spaces, '.', '*', '>', '/' or '\\'",
                self.stream
            ));
        }
        if self.consumer.is_empty() || self.consumer.len() > tidelog::MAX_CONSUMER_NAME {
            return bad(format!(
                "consumer name {:?}: 1..={} bytes of UTF-8",
                self.consumer,
                tidelog::MAX_CONSUMER_NAME
            ));
        }
        if self.max_in_flight == 0 || self.max_in_flight > 1 << 20 {
            return bad(format!("max in flight {}: 1..=1048576", self.max_in_flight));
        }
        if self.commit_every == 0 {
            return bad("commit every 0 records: must be at least 1".to_string());
        }
        if self.ack_timeout.is_zero() {
            return bad("ack timeout 0: must be positive".to_string());
        }
        if self.min_backoff.is_zero() || self.max_backoff < self.min_backoff {
            return bad("backoff: need 0 < min <= max".to_string());
        }
        Ok(())
    }
}

/// A NATS subject a message can be published on: non-empty tokens separated by `.`, no
/// whitespace, no wildcard tokens.
fn valid_subject(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|t| !t.is_empty() && t != "*" && t != ">" && !t.chars().any(|c| c.is_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_derive_the_stream_name() {
        let o = DrainOptions::new("dev-1", "telemetry.dev-1");
        o.validate().unwrap();
        assert_eq!(o.stream, "TIDELOG_dev-1");
    }

    #[test]
    fn bad_options_are_refused_with_the_field_named() {
        type Change = fn(&mut DrainOptions);
        let cases: [(&str, Change); 7] = [
            ("source id", |o| o.source_id = "a:b".into()),
            ("source id", |o| o.source_id = String::new()),
            ("subject", |o| o.subject = "telemetry.*".into()),
            ("subject", |o| o.subject = "a..b".into()),
            ("stream name", |o| o.stream = "a.b".into()),
            ("consumer name", |o| o.consumer = "x".repeat(33)),
            ("max in flight", |o| o.max_in_flight = 0),
        ];
        for (field, change) in cases {
            let mut o = DrainOptions::new("dev", "t.dev");
            change(&mut o);
            let e = o.validate().unwrap_err().to_string();
            assert!(e.contains(field), "{e}");
        }
    }
}
