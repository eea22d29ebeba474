//! The JetStream side: the stream the drain needs, and where delivery stands in it.
//!
//! The stream must capture exactly the drain's subject and nothing else, keep messages by
//! limits (not by interest or work queue), acknowledge publishes, and be neither sealed nor a
//! mirror. Why: the drain orders its pipelined publishes with `Nats-Expected-Last-Sequence`
//! (the stream's last sequence number is known only if nobody else adds to the stream), and
//! finds where delivery stands from the stream's last message (which must not vanish once
//! it is read by a consumer).

use crate::error::DrainError;
use crate::options::DrainOptions;
use async_nats::jetstream::stream::{Config, RetentionPolicy, StorageType, Stream};
use async_nats::jetstream::{self, context::GetStreamErrorKind};

/// The header carrying the record's log offset (decimal).
pub const OFFSET_HEADER: &str = "Tidelog-Offset";

/// The stream configuration the drain creates when the stream is absent: `subjects =
/// [subject]`, limits retention, file storage, the duplicate window of the options, one
/// replica.
pub fn required_stream_settings(options: &DrainOptions) -> Config {
    Config {
        name: options.stream.clone(),
        subjects: vec![options.subject.clone()],
        retention: RetentionPolicy::Limits,
        storage: StorageType::File,
        duplicate_window: options.duplicate_window,
        num_replicas: 1,
        ..Default::default()
    }
}

/// Why an existing stream's configuration breaks the guarantee, if it does.
pub fn incompatibility(config: &Config, subject: &str) -> Option<String> {
    if config.subjects.len() != 1 || config.subjects[0] != subject {
        return Some(format!(
            "it captures subjects {:?}; the drain needs a stream of its own capturing exactly \
             [{subject:?}] (it orders publishes by the stream's last sequence number)",
            config.subjects
        ));
    }
    if config.retention != RetentionPolicy::Limits {
        return Some(format!(
            "its retention is {:?}; the drain needs Limits (it resumes from the stream's last \
             message, which Interest and WorkQueue retention delete once consumed)",
            config.retention
        ));
    }
    if config.no_ack {
        return Some(
            "it does not acknowledge publishes (no_ack); the drain commits only \
                     acknowledged records"
                .to_string(),
        );
    }
    if config.sealed {
        return Some("it is sealed (takes no more messages)".to_string());
    }
    if config.mirror.is_some() || config.sources.as_ref().is_some_and(|s| !s.is_empty()) {
        return Some("it mirrors or sources other streams".to_string());
    }
    None
}

/// Gets the stream, creating it with [`required_stream_settings`] when it does not exist;
/// refuses an incompatible one.
pub async fn ensure_stream(
    js: &jetstream::Context,
    options: &DrainOptions,
) -> Result<Stream, DrainError> {
    let name = &options.stream;
    let stream = match js.get_stream(name).await {
        Ok(s) => s,
        Err(e) if is_not_found(&e) => {
            match js.create_stream(required_stream_settings(options)).await {
                Ok(s) => s,
                Err(create) => match js.get_stream(name).await {
                    // Created meanwhile by someone else: check theirs.
                    Ok(s) => s,
                    Err(_) => {
                        use async_nats::jetstream::context::CreateStreamErrorKind as K;
                        let m = format!("cannot create stream {name}: {create}");
                        return Err(match create.kind() {
                            K::JetStream(_) | K::InvalidStreamName | K::EmptyStreamName => {
                                DrainError::InvalidOption(m)
                            }
                            _ => DrainError::JetStream(m),
                        });
                    }
                },
            }
        }
        Err(e) => return Err(transient(&e)),
    };
    if let Some(reason) = incompatibility(&stream.cached_info().config, &options.subject) {
        return Err(DrainError::IncompatibleStream {
            stream: name.clone(),
            reason,
        });
    }
    Ok(stream)
}

fn is_not_found(e: &async_nats::jetstream::context::GetStreamError) -> bool {
    matches!(e.kind(), GetStreamErrorKind::JetStream(j)
        if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND)
}

fn transient(e: &dyn std::fmt::Display) -> DrainError {
    DrainError::JetStream(e.to_string())
}

/// Where delivery stands in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPosition {
    /// The stream's last sequence number (0 when it never held a message).
    pub last_sequence: u64,
    /// The log offset of the last message on the subject, if the stream holds one.
    pub last_offset: Option<u64>,
}

/// An error while finding the stream position: `Fatal` for a stream whose content is not the
/// drain's, `Retry` for anything the server may get over.
pub(crate) enum LookupError {
    Fatal(DrainError),
    Retry(String),
}

/// Asks the stream for its last sequence number and the offset of its last message on the
/// subject (a `STREAM.MSG.GET` with `last_by_subj`, which nats-server 2.9 serves).
pub(crate) async fn position(
    stream: &Stream,
    options: &DrainOptions,
) -> Result<StreamPosition, LookupError> {
    let info = stream
        .get_info()
        .await
        .map_err(|e| LookupError::Retry(format!("stream info: {e}")))?;
    if let Some(reason) = incompatibility(&info.config, &options.subject) {
        return Err(LookupError::Fatal(DrainError::IncompatibleStream {
            stream: options.stream.clone(),
            reason,
        }));
    }
    let last_sequence = info.state.last_sequence;
    if info.state.messages == 0 {
        return Ok(StreamPosition {
            last_sequence,
            last_offset: None,
        });
    }
    use async_nats::jetstream::stream::LastRawMessageErrorKind as K;
    let msg = match stream
        .get_last_raw_message_by_subject(&options.subject)
        .await
    {
        Ok(m) => m,
        Err(e) if matches!(e.kind(), K::NoMessageFound) => {
            return Ok(StreamPosition {
                last_sequence,
                last_offset: None,
            })
        }
        Err(e) => return Err(LookupError::Retry(format!("last message: {e}"))),
    };
    let foreign = |why: &str| {
        LookupError::Fatal(DrainError::IncompatibleStream {
            stream: options.stream.clone(),
            reason: format!(
                "its last message on {} (sequence {}) {why}; was it published by something \
                 other than this drain?",
                options.subject, msg.sequence
            ),
        })
    };
    let offset = msg
        .headers
        .get(OFFSET_HEADER)
        .and_then(|v| v.as_str().parse::<u64>().ok())
        .ok_or_else(|| foreign(&format!("has no {OFFSET_HEADER} header")))?;
    let id = msg.headers.get(async_nats::header::NATS_MESSAGE_ID);
    let expected = message_id(&options.source_id, offset);
    if id.map(|v| v.as_str()) != Some(expected.as_str()) {
        return Err(foreign(&format!(
            "has message id {:?}, not {expected:?}",
            id.map(|v| v.as_str().to_string())
        )));
    }
    Ok(StreamPosition {
        last_sequence,
        last_offset: Some(offset),
    })
}

/// The message id of the record at `offset`: `<source_id>:<offset>`.
pub fn message_id(source_id: &str, offset: u64) -> String {
    format!("{source_id}:{offset}")
}
