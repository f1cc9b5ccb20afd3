//! A source task, top to bottom: poll → transforms → converters → producer, with source offsets
//! stored only after the broker acknowledged every record up to them.
//!
//! Offsets: each polled batch gets an id (the producer's delivery opaque). A batch's offsets —
//! the last one per source partition — become committable once all of its records and of every
//! earlier batch are acknowledged. One delivery failure fails the task and its batch's offsets are
//! never stored, so a restart re-reads from the last stored offsets: at least once, in order.

use super::converters::Converters;
use super::errors::{ErrorHandler, Failure, Origin, Stage};
use super::metrics::TaskMetrics;
use super::status::{error_trace, State, StatusCell};
use super::{HostTaskContext, TaskEnv};
use crate::config::connector::Tolerance;
use crate::error::{Result, WorkerError};
use crate::kafka::admin::TopicSpec;
use kconnect_loader::SourceTaskHandle;
use kconnect_plugin_api::record::SourceMap;
use kconnect_plugin_api::{ConnectRecord, SourceRecord};
use kconnect_transforms::TransformChain;
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const POLL_TIMEOUT: Duration = Duration::from_millis(500);
const TOPIC_RECHECK: Duration = Duration::from_secs(10);

struct Batch {
    id: u64,
    /// Records sent minus records acknowledged; acknowledgements may arrive before the batch is sealed.
    pending: i64,
    sealed: bool,
    offsets: Vec<(SourceMap, SourceMap)>,
}

/// Which offsets are safe to store.
#[derive(Default)]
pub struct OffsetTracker {
    batches: VecDeque<Batch>,
    next_id: u64,
    /// Latest acknowledged offset per source partition (few partitions per task: a list).
    committable: Vec<(SourceMap, SourceMap)>,
    failure: Option<String>,
}

impl OffsetTracker {
    fn begin(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.batches.push_back(Batch {
            id,
            pending: 0,
            sealed: false,
            offsets: Vec::new(),
        });
        id
    }

    fn seal(&mut self, id: u64, sent: usize, offsets: Vec<(SourceMap, SourceMap)>) {
        if let Some(batch) = self.find(id) {
            batch.pending += sent as i64;
            batch.sealed = true;
            batch.offsets = offsets;
        }
        self.drain();
    }

    fn find(&mut self, id: u64) -> Option<&mut Batch> {
        let first = self.batches.front()?.id;
        self.batches.get_mut(id.checked_sub(first)? as usize)
    }

    fn acked(&mut self, id: u64, error: Option<String>) {
        if let Some(error) = error {
            self.failure.get_or_insert(error);
        }
        if let Some(batch) = self.find(id) {
            batch.pending -= 1;
        }
        self.drain();
    }

    fn drain(&mut self) {
        if self.failure.is_some() {
            return;
        }
        while self
            .batches
            .front()
            .is_some_and(|b| b.sealed && b.pending == 0)
        {
            let batch = self.batches.pop_front().expect("front exists");
            for (partition, offset) in batch.offsets {
                set_latest(&mut self.committable, partition, offset);
            }
        }
    }

    fn take_committable(&mut self) -> Vec<(SourceMap, SourceMap)> {
        std::mem::take(&mut self.committable)
    }

    fn unacknowledged(&self) -> bool {
        !self.batches.is_empty()
    }
}

/// Sets `partition`'s offset in a short list, replacing an earlier one.
fn set_latest(offsets: &mut Vec<(SourceMap, SourceMap)>, partition: SourceMap, offset: SourceMap) {
    match offsets.iter_mut().rev().find(|(p, _)| *p == partition) {
        Some(entry) => entry.1 = offset,
        None => offsets.push((partition, offset)),
    }
}

/// Counts acknowledgements into the tracker; runs on the producer's polling thread.
struct AckContext {
    tracker: Arc<Mutex<OffsetTracker>>,
    metrics: Arc<TaskMetrics>,
    status: StatusCell,
    /// Set while librdkafka reports the cluster unreachable; cleared by the next acknowledgement.
    broker_trouble: AtomicBool,
}

impl ClientContext for AckContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.broker_trouble.store(true, Ordering::Release);
        self.status.warn(Some(format!(
            "Kafka is unreachable or failing: {error}: {reason}"
        )));
    }
}

impl ProducerContext for AckContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, batch: usize) {
        let error = result.as_ref().err().map(|(e, message)| {
            use rdkafka::Message;
            format!("delivery to topic {} failed: {e}", message.topic())
        });
        if error.is_none() {
            self.metrics.records_out.fetch_add(1, Ordering::Relaxed);
            if self.broker_trouble.swap(false, Ordering::AcqRel) {
                self.status.warn(None);
            }
        }
        self.tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .acked(batch as u64, error);
    }
}

/// Runs a source task on the calling thread until it is stopped or fails.
pub fn run(env: TaskEnv, handle: SourceTaskHandle) {
    let name = env.name();
    match run_inner(&env, handle) {
        Ok(()) => log::info!("source task {name} stopped"),
        Err(e) => {
            log::error!("source task {name} failed: {e}");
            env.status.fail(match &e {
                WorkerError::Plugin(p) => error_trace(p),
                other => other.to_string(),
            });
        }
    }
}

struct Pipeline<'a> {
    env: &'a TaskEnv,
    converters: Converters,
    transforms: TransformChain,
    /// Polled from this thread (delivery callbacks run here): a polling thread per task would
    /// cost a thread and, in rdkafka, spin for the last millisecond of every poll interval.
    producer: BaseProducer<AckContext>,
    tracker: Arc<Mutex<OffsetTracker>>,
    known_topics: HashSet<String>,
    topics_checked_at: Instant,
    topic_spec: TopicSpec,
    key_buf: Vec<u8>,
    value_buf: Vec<u8>,
    errors: ErrorHandler,
}

fn run_inner(env: &TaskEnv, mut task: SourceTaskHandle) -> Result<()> {
    let worker = &env.worker;
    let connector = &env.connector;
    let tracker = Arc::new(Mutex::new(OffsetTracker::default()));
    let overrides = crate::kafka::ClientSettings::connector_overrides(&connector.raw, "producer");
    let producer: BaseProducer<AckContext> = worker
        .clients
        .producer(&overrides, &format!("connector-producer-{}", env.name()))?
        .create_with_context(AckContext {
            tracker: tracker.clone(),
            metrics: env.metrics.clone(),
            status: env.status.clone(),
            broker_trouble: AtomicBool::new(false),
        })?;
    let mut pipeline = Pipeline {
        env,
        converters: Converters::for_connector(worker, connector)?,
        transforms: crate::herder::transforms_for(worker, &connector.raw)?,
        producer,
        tracker,
        known_topics: HashSet::new(),
        topics_checked_at: Instant::now(),
        topic_spec: topic_spec(&connector.raw),
        key_buf: Vec::with_capacity(64),
        value_buf: Vec::with_capacity(256),
        errors: ErrorHandler::new(env)?,
    };

    let commit_requested = Arc::new(AtomicBool::new(false));
    let context =
        HostTaskContext::object(&connector.name, worker.offsets.clone(), commit_requested);
    task.start(env.task_config.clone(), context)?;
    env.status.set(State::Running);
    log::info!("source task {} started", env.name());

    let flush_interval = worker.config.offset_flush_interval;
    let mut last_commit = Instant::now();
    let mut retry_backoff = Duration::from_millis(100);
    let mut paused = false;
    let outcome = loop {
        if env.control.stopping() {
            break Ok(());
        }
        if last_commit.elapsed() >= flush_interval {
            if let Err(e) = pipeline.commit_offsets(&mut task) {
                break Err(e);
            }
            last_commit = Instant::now();
        }
        if let Some(failure) = pipeline.failure() {
            break Err(WorkerError::Kafka(failure));
        }
        let want_pause = env.control.paused();
        if want_pause != paused {
            env.status.set(if want_pause {
                State::Paused
            } else {
                State::Running
            });
            paused = want_pause;
        }
        if paused {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        // Acknowledgements arrive through here (and while the local queue is full).
        pipeline.producer.poll(Duration::ZERO);
        // An idempotent producer whose broker forgot its producer id (a broker that lost its
        // state) can never deliver again: fail loudly rather than stall with records queued.
        if let Some((code, reason)) = pipeline.producer.client().fatal_error() {
            break Err(WorkerError::Kafka(format!(
                "the producer hit a fatal error ({code:?}): {reason}; restart the task to continue from the stored offsets"
            )));
        }
        let polled_at = Instant::now();
        let batch = match task.poll(POLL_TIMEOUT) {
            Ok(batch) => {
                retry_backoff = Duration::from_millis(100);
                let metrics = &env.metrics;
                metrics
                    .call_seconds
                    .observe(polled_at.elapsed().as_secs_f64());
                if !batch.is_empty() {
                    metrics.batch_size.observe(batch.len() as f64);
                    metrics
                        .records_in
                        .fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
                batch
            }
            Err(e) if e.is_retriable() => {
                log::warn!(
                    "source task {} poll failed, retrying in {retry_backoff:?}: {e}",
                    env.name()
                );
                pipeline.errors.counters().note_retry();
                std::thread::sleep(retry_backoff);
                retry_backoff = (retry_backoff * 2).min(
                    connector
                        .errors_retry_delay_max
                        .max(Duration::from_millis(1)),
                );
                continue;
            }
            Err(e) => break Err(e.into()),
        };
        if batch.is_empty() {
            continue;
        }
        if let Err(e) = pipeline.send_batch(batch) {
            break Err(e);
        }
    };

    // Stop: the plugin first, then wait for acknowledgements and store what was acknowledged.
    let stop_result = task.stop();
    let deadline = Instant::now() + worker.config.task_shutdown_graceful_timeout;
    let _ = pipeline
        .producer
        .flush(deadline.saturating_duration_since(Instant::now()));
    let committed = pipeline.commit_offsets(&mut task);
    if pipeline
        .tracker
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .unacknowledged()
    {
        log::warn!("source task {}: some records were not acknowledged before shutdown; they will be sent again", env.name());
    }
    outcome?;
    committed?;
    stop_result.map_err(WorkerError::from)?;
    env.status.set(State::Unassigned);
    Ok(())
}

/// KIP-158 `topic.creation.default.*` with defaults that work on a one-broker cluster.
fn topic_spec(raw: &crate::config::Properties) -> TopicSpec {
    let get = |k: &str| {
        raw.get(&format!("topic.creation.default.{k}"))
            .and_then(|v| v.trim().parse::<i32>().ok())
    };
    TopicSpec {
        partitions: get("partitions").unwrap_or(1),
        replication_factor: get("replication.factor").unwrap_or(-1),
        configs: raw
            .iter()
            .filter_map(|(k, v)| {
                let key = k.strip_prefix("topic.creation.default.")?;
                (key != "partitions" && key != "replication.factor")
                    .then(|| (key.to_string(), v.clone()))
            })
            .collect(),
    }
}

impl Pipeline<'_> {
    fn failure(&self) -> Option<String> {
        self.tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failure
            .clone()
    }

    /// Stores the acknowledged offsets and tells the task.
    /// Stores the acknowledged offsets once the dead letter queue holds the records skipped before
    /// them; an unacknowledged queue fails the task.
    fn commit_offsets(&mut self, task: &mut SourceTaskHandle) -> Result<()> {
        self.errors.flush(Duration::from_secs(30))?;
        let offsets = self
            .tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_committable();
        let store = &self.env.worker.offsets;
        if offsets.is_empty() && !store.needs_flush() {
            return Ok(());
        }
        store.put(
            &self.env.connector.name,
            offsets.into_iter().map(|(p, o)| (p, Some(o))),
        );
        let flushed = store.flush();
        self.env.metrics.committed(flushed.is_ok());
        self.env.status.warn(flushed.as_ref().err().map(|e| {
            format!(
                "source offsets cannot be stored, will retry ({}): {e}",
                e.code()
            )
        }));
        // After a failure the offsets stay in memory and go out with the next successful flush.
        if flushed.is_ok() {
            if let Err(e) = task.commit() {
                log::warn!("source task {} commit failed: {e}", self.env.name());
            }
        }
        Ok(())
    }

    /// Makes sure a topic exists before records go to it. Topics are checked again every
    /// [`TOPIC_RECHECK`], so one that disappears (a broker that lost its data) is created
    /// again. A failed check does not stop the task: records wait in the producer meanwhile.
    fn ensure_topic(&mut self, topic: &str) {
        if self.topics_checked_at.elapsed() >= TOPIC_RECHECK {
            self.known_topics.clear();
            self.topics_checked_at = Instant::now();
        }
        if self.known_topics.contains(topic) {
            return;
        }
        if self.env.worker.config.topic_creation_enable {
            let checked = self.env.worker.admin.ensure_topic(topic, &self.topic_spec);
            self.env.status.warn(checked.err().map(|e| {
                format!("topic {topic} could not be checked or created, will retry: {e}")
            }));
        }
        self.env.note_topic(topic);
        self.known_topics.insert(topic.to_string());
    }

    fn send_batch(&mut self, batch: abi_stable::std_types::RVec<SourceRecord>) -> Result<()> {
        let batch_id = self
            .tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .begin();
        let mut offsets: Vec<(SourceMap, SourceMap)> = Vec::with_capacity(1);
        let mut sent = 0usize;
        for source_record in batch.into_iter() {
            let SourceRecord {
                source_partition,
                source_offset,
                record,
            } = source_record;
            let outcome = match self.transform(record) {
                Ok(Some(record)) => match self.send(&record, batch_id)? {
                    Ok(()) => {
                        sent += 1;
                        Ok(())
                    }
                    Err(failure) => Err((failure, Some(record))),
                },
                Ok(None) => Ok(()),
                Err(failed) => Err(*failed),
            };
            if let Err((failure, record)) = outcome {
                let origin = Origin::Source {
                    record: record.as_ref(),
                    partition: &source_partition,
                    offset: &source_offset,
                };
                self.errors.handle(failure, origin)?;
            }
            set_latest(&mut offsets, source_partition, source_offset);
        }
        self.tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seal(batch_id, sent, offsets);
        Ok(())
    }

    /// Applies the chain. On failure the record is given back only when errors are tolerated
    /// (it is then logged or dead-lettered); keeping a copy costs a clone per record.
    #[allow(clippy::type_complexity)]
    fn transform(
        &mut self,
        record: ConnectRecord,
    ) -> Result<Option<ConnectRecord>, Box<(Failure, Option<ConnectRecord>)>> {
        if self.transforms.is_empty() {
            return Ok(Some(record));
        }
        let kept = (self.env.connector.errors_tolerance == Tolerance::All).then(|| record.clone());
        self.transforms.apply(record).map_err(|e| {
            let alias = e.alias().unwrap_or("transforms").to_string();
            Box::new((Failure::new(Stage::Transformation, alias, e), kept))
        })
    }

    /// Converts and hands one record to the producer. The outer error stops the task; the inner
    /// one is a record that failed a converter.
    fn send(&mut self, record: &ConnectRecord, batch_id: u64) -> Result<Result<(), Failure>> {
        let topic = record.topic.as_str();
        self.ensure_topic(topic);
        let converted = (|| {
            let classes = &self.converters.classes;
            self.key_buf.clear();
            self.value_buf.clear();
            let has_key = !record.key.is_null()
                && self
                    .converters
                    .key
                    .from_connect_into(topic, record.key_schema(), &record.key, &mut self.key_buf)
                    .map_err(|e| Failure::new(Stage::KeyConverter, &classes.key, e))?;
            let has_value = self
                .converters
                .value
                .from_connect_into(
                    topic,
                    record.value_schema(),
                    &record.value,
                    &mut self.value_buf,
                )
                .map_err(|e| Failure::new(Stage::ValueConverter, &classes.value, e))?;
            let headers = if record.headers.is_empty() {
                None
            } else {
                let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
                for header in record.headers.iter() {
                    let bytes = self
                        .converters
                        .header
                        .from_header(topic, header)
                        .map_err(|e| Failure::new(Stage::HeaderConverter, &classes.header, e))?;
                    headers = headers.insert(KafkaHeader {
                        key: header.key.as_str(),
                        value: bytes.as_deref(),
                    });
                }
                Some(headers)
            };
            Ok((has_key, has_value, headers))
        })();
        let (has_key, has_value, headers) = match converted {
            Ok(c) => c,
            Err(failure) => return Ok(Err(failure)),
        };
        let mut message: BaseRecord<'_, [u8], [u8], usize> =
            BaseRecord::with_opaque_to(topic, batch_id as usize);
        if has_key {
            message = message.key(&self.key_buf[..]);
        }
        if has_value {
            message = message.payload(&self.value_buf[..]);
        }
        if let Some(partition) = record.kafka_partition.into_option() {
            message = message.partition(partition);
        }
        if let Some(timestamp) = record.timestamp.into_option() {
            message = message.timestamp(timestamp);
        }
        if let Some(headers) = headers {
            message = message.headers(headers);
        }
        loop {
            match self.producer.send(message) {
                Ok(()) => return Ok(Ok(())),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    // The local queue is full: serve acknowledgements while the broker catches up.
                    message = returned;
                    self.producer.poll(Duration::from_millis(10));
                    if let Some(failure) = self.failure() {
                        return Err(WorkerError::Kafka(failure));
                    }
                }
                Err((e, _)) => {
                    return Err(WorkerError::Kafka(format!(
                        "cannot send to topic {topic}: {e}"
                    )))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset(n: i64) -> SourceMap {
        SourceMap::new().with("n", n)
    }

    #[test]
    fn offsets_are_committable_only_after_all_earlier_records_are_acknowledged() {
        let partition = SourceMap::new().with("f", "a");
        let mut t = OffsetTracker::default();
        let b0 = t.begin();
        let b1 = t.begin();
        t.seal(b0, 2, vec![(partition.clone(), offset(2))]);
        t.seal(b1, 1, vec![(partition.clone(), offset(3))]);
        t.acked(b1, None);
        assert!(
            t.take_committable().is_empty(),
            "batch 1 done but batch 0 is not"
        );
        t.acked(b0, None);
        assert!(t.take_committable().is_empty());
        t.acked(b0, None);
        assert_eq!(t.take_committable(), vec![(partition.clone(), offset(3))]);
        assert!(!t.unacknowledged());
    }

    #[test]
    fn acknowledgements_before_the_seal_and_failures() {
        let partition = SourceMap::new().with("f", "a");
        let mut t = OffsetTracker::default();
        let b0 = t.begin();
        t.acked(b0, None);
        t.seal(b0, 1, vec![(partition.clone(), offset(1))]);
        assert_eq!(t.take_committable().len(), 1);
        let b1 = t.begin();
        t.seal(b1, 1, vec![(partition, offset(2))]);
        t.acked(b1, Some("boom".into()));
        assert!(
            t.take_committable().is_empty(),
            "a failed batch is never committed"
        );
        assert_eq!(t.failure.as_deref(), Some("boom"));
    }
}
