//! Error tolerance for records (Kafka's `errors.*` connector keys): a record that fails a
//! converter or transformation either fails the task (`errors.tolerance=none`, the default) or is
//! skipped (`all`), logged when `errors.log.enable`, and sent to the dead letter queue when
//! `errors.deadletterqueue.topic.name` is set.
//!
//! Beyond Kafka, the dead letter queue also works for source connectors: a source record that
//! fails conversion or a transformation is written to the queue as JSON, with the same context
//! headers plus its source partition and offset.
//!
//! Invariant: a record is only ever skipped after it reached the queue (when there is one):
//! [`ErrorHandler::flush`] runs before offsets are committed and fails the task if the queue did
//! not acknowledge, so tolerating errors never loses a record silently.

use super::offsets::{source_map_to_json, value_to_json};
use super::TaskEnv;
use crate::config::connector::Tolerance;
use crate::error::{Result, WorkerError};
use crate::kafka::admin::TopicSpec;
use kconnect_plugin_api::record::SourceMap;
use kconnect_plugin_api::ConnectRecord;
use rdkafka::client::ClientContext;
use rdkafka::message::{BorrowedMessage, Header as KafkaHeader, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where in a record's path a failure happened, named as Kafka's `Stage`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    KeyConverter,
    ValueConverter,
    HeaderConverter,
    Transformation,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
        }
    }
}

/// A record that failed a stage.
#[derive(Clone, Debug)]
pub struct Failure {
    pub stage: Stage,
    /// The converter or transformation (alias) that failed.
    pub class: String,
    pub message: String,
}

impl Failure {
    pub fn new(stage: Stage, class: impl Into<String>, message: impl ToString) -> Failure {
        Failure {
            stage,
            class: class.into(),
            message: message.to_string(),
        }
    }
}

/// Per-task error counts, shown in the task status.
#[derive(Debug, Default)]
pub struct ErrorCounters {
    pub failed: AtomicU64,
    pub retried: AtomicU64,
    pub skipped: AtomicU64,
    pub dead_lettered: AtomicU64,
}

impl ErrorCounters {
    /// `records failed: 1, retried: 0, skipped: 1, sent to DLQ: 1`, or `None` when all are 0.
    pub fn summary(&self) -> Option<String> {
        let [failed, retried, skipped, dlq] = [
            &self.failed,
            &self.retried,
            &self.skipped,
            &self.dead_lettered,
        ]
        .map(|c| c.load(Ordering::Relaxed));
        (failed + retried + skipped + dlq > 0).then(|| {
            format!("records failed: {failed}, retried: {retried}, skipped: {skipped}, sent to DLQ: {dlq}")
        })
    }

    pub fn note_retry(&self) {
        self.retried.fetch_add(1, Ordering::Relaxed);
    }
}

/// Where the failed record came from.
pub enum Origin<'a> {
    Sink(&'a BorrowedMessage<'a>),
    Source {
        /// Absent when a transformation consumed it and errors are not tolerated.
        record: Option<&'a ConnectRecord>,
        partition: &'a SourceMap,
        offset: &'a SourceMap,
    },
}

impl Origin<'_> {
    fn describe(&self) -> String {
        match self {
            Origin::Sink(m) => format!(
                "the record at topic {} partition {} offset {}",
                m.topic(),
                m.partition(),
                m.offset()
            ),
            Origin::Source {
                record,
                partition,
                offset,
            } => format!(
                "the source record{} (source partition {}, offset {})",
                record
                    .map(|r| format!(" for topic {}", r.topic))
                    .unwrap_or_default(),
                source_map_to_json(partition),
                source_map_to_json(offset)
            ),
        }
    }
}

/// Remembers the first failed delivery to the queue.
struct DlqContext {
    failure: Mutex<Option<String>>,
}

impl ClientContext for DlqContext {}

impl ProducerContext for DlqContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
            failure.get_or_insert_with(|| format!("dead letter queue delivery failed: {e}"));
        }
    }
}

struct DeadLetterQueue {
    topic: String,
    /// Polled on send and flushed before commits, from the task's own thread.
    producer: BaseProducer<DlqContext>,
    context_headers: bool,
}

pub struct ErrorHandler {
    tolerance: Tolerance,
    log_enable: bool,
    include_messages: bool,
    dlq: Option<DeadLetterQueue>,
    counters: Arc<ErrorCounters>,
    connector: String,
    task_id: u32,
}

fn header<'a>(key: &'a str, value: &'a [u8]) -> KafkaHeader<'a, &'a [u8]> {
    KafkaHeader {
        key,
        value: Some(value),
    }
}

/// How long the records sent to the dead letter queue may take to be acknowledged before the
/// offsets after them are committed (longer fails the task: see [`DlqUnacknowledged`]).
pub const DLQ_FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// The first wait before a retriable plugin call (`poll`, `put`) is tried again; it doubles up
/// to `errors.retry.delay.max.ms`.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);

/// `errors.deadletterqueue.topic.replication.factor` when unset (Kafka's default).
pub const DLQ_DEFAULT_REPLICATION_FACTOR: i32 = 3;

/// Records sent to the dead letter queue were not acknowledged. Their offsets must not be
/// committed: a task that meets this fails (the records would otherwise be lost silently).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DlqUnacknowledged(pub String);

impl ErrorHandler {
    /// Reads the task's `errors.*` settings and, with a dead letter queue, creates its topic and
    /// producer.
    pub fn new(env: &TaskEnv) -> Result<ErrorHandler> {
        let connector = &env.connector;
        let dlq = match &connector.dlq_topic {
            None => None,
            Some(topic) => {
                // Kafka's default, 3, as its ConfigDef says: a queue of records that failed should
                // not live on one broker. A one-node cluster needs the key set, as with Kafka.
                let replication = connector
                    .raw
                    .get("errors.deadletterqueue.topic.replication.factor")
                    .and_then(|r| r.trim().parse::<i32>().ok())
                    .unwrap_or(DLQ_DEFAULT_REPLICATION_FACTOR);
                let spec = TopicSpec {
                    replication_factor: replication,
                    ..TopicSpec::default()
                };
                env.worker.admin.ensure_topic(topic, &spec)?;
                let overrides =
                    crate::kafka::ClientSettings::connector_overrides(&connector.raw, "producer");
                let producer = env
                    .worker
                    .clients
                    .producer(
                        &overrides,
                        &format!("connector-dlq-producer-{}", env.name()),
                    )?
                    .create_with_context(DlqContext {
                        failure: Mutex::new(None),
                    })?;
                Some(DeadLetterQueue {
                    topic: topic.clone(),
                    producer,
                    context_headers: connector
                        .raw
                        .get("errors.deadletterqueue.context.headers.enable")
                        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
                })
            }
        };
        Ok(ErrorHandler {
            tolerance: connector.errors_tolerance,
            log_enable: connector.errors_log_enable,
            include_messages: connector.errors_log_include_messages,
            dlq,
            counters: env.errors.clone(),
            connector: connector.name.clone(),
            task_id: env.task_id,
        })
    }

    pub fn counters(&self) -> &ErrorCounters {
        &self.counters
    }

    /// Deals with a failed record: `Err` (the task fails) unless errors are tolerated.
    pub fn handle(&mut self, failure: Failure, origin: Origin<'_>) -> Result<()> {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        let what = format!(
            "{} ({}) failed for {}: {}",
            failure.stage.name(),
            failure.class,
            origin.describe(),
            failure.message
        );
        if self.tolerance == Tolerance::None {
            return Err(WorkerError::ToleranceExceeded(what.to_string()));
        }
        if self.log_enable {
            match (&origin, self.include_messages) {
                (
                    Origin::Source {
                        record: Some(record),
                        ..
                    },
                    true,
                ) => {
                    log::error!(
                        "Error encountered in task {}-{}: {what}; record value: {}",
                        self.connector,
                        self.task_id,
                        record.value
                    )
                }
                _ => log::error!(
                    "Error encountered in task {}-{}: {what}",
                    self.connector,
                    self.task_id
                ),
            }
        }
        if let Some(dlq) = &self.dlq {
            self.send_to_dlq(dlq, &failure, &origin)?;
            self.counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
        }
        self.counters.skipped.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn send_to_dlq(
        &self,
        dlq: &DeadLetterQueue,
        failure: &Failure,
        origin: &Origin<'_>,
    ) -> Result<()> {
        let task_id = self.task_id.to_string();
        let (key, value, mut headers, topic, partition, offset) = match origin {
            Origin::Sink(m) => {
                let mut headers = OwnedHeaders::new();
                if let Some(original) = m.headers() {
                    for h in original.iter() {
                        headers = headers.insert(h);
                    }
                }
                (
                    m.key().map(<[u8]>::to_vec),
                    m.payload().map(<[u8]>::to_vec),
                    headers,
                    m.topic().to_string(),
                    m.partition().to_string(),
                    m.offset().to_string(),
                )
            }
            Origin::Source {
                record,
                partition,
                offset,
            } => {
                let placeholder = ConnectRecord::default();
                let record = record.unwrap_or(&placeholder);
                let json = |v| value_to_json(v).to_string().into_bytes();
                let headers = OwnedHeaders::new()
                    .insert(header(
                        "__connect.errors.source.partition",
                        source_map_to_json(partition).to_string().as_bytes(),
                    ))
                    .insert(header(
                        "__connect.errors.source.offset",
                        source_map_to_json(offset).to_string().as_bytes(),
                    ));
                (
                    (!record.key.is_null()).then(|| json(&record.key)),
                    (!record.value.is_null()).then(|| json(&record.value)),
                    headers,
                    record.topic.to_string(),
                    record
                        .kafka_partition
                        .into_option()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    String::new(),
                )
            }
        };
        if dlq.context_headers {
            let exception = match failure.stage {
                Stage::Transformation => "org.apache.kafka.connect.errors.ConnectException",
                _ => "org.apache.kafka.connect.errors.DataException",
            };
            for (k, v) in [
                ("__connect.errors.topic", topic.as_str()),
                ("__connect.errors.partition", partition.as_str()),
                ("__connect.errors.offset", offset.as_str()),
                ("__connect.errors.connector.name", self.connector.as_str()),
                ("__connect.errors.task.id", task_id.as_str()),
                ("__connect.errors.stage", failure.stage.name()),
                ("__connect.errors.class.name", failure.class.as_str()),
                ("__connect.errors.exception.class.name", exception),
                (
                    "__connect.errors.exception.message",
                    failure.message.as_str(),
                ),
                (
                    "__connect.errors.exception.stacktrace",
                    failure.message.as_str(),
                ),
            ] {
                if !v.is_empty() {
                    headers = headers.insert(header(k, v.as_bytes()));
                }
            }
        }
        let mut message: BaseRecord<'_, [u8], [u8], ()> =
            BaseRecord::with_opaque_to(&dlq.topic, ()).headers(headers);
        if let Some(key) = &key {
            message = message.key(&key[..]);
        }
        if let Some(value) = &value {
            message = message.payload(&value[..]);
        }
        let sent = dlq.producer.send(message).map_err(|(e, _)| {
            WorkerError::kafka(format!("cannot send to dead letter queue {}", dlq.topic), e)
        });
        dlq.producer.poll(Duration::ZERO);
        sent
    }

    /// Waits for the queue to acknowledge what was sent; call before committing offsets.
    pub fn flush(&self, timeout: Duration) -> Result<(), DlqUnacknowledged> {
        let Some(dlq) = &self.dlq else { return Ok(()) };
        dlq.producer.flush(timeout).map_err(|e| {
            DlqUnacknowledged(format!(
                "dead letter queue {} not acknowledged: {e}",
                dlq.topic
            ))
        })?;
        match dlq
            .producer
            .context()
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            Some(failure) => Err(DlqUnacknowledged(failure)),
            None => Ok(()),
        }
    }
}
