//! The worker's own topics read and written as logs (distributed mode: configs, offsets, status).
//!
//! A [`TopicReader`] reads every partition of a topic from the beginning, on its own thread, and
//! hands each record to a callback in log order; whoever needs the state "as of now" calls
//! [`TopicReader::catch_up`], which waits until every record written before the call was handed
//! over. A [`TopicWriter`] sends records and reports where the broker put them, so a writer can
//! wait until its own reader has seen its write.
//!
//! Invariant: records of one partition reach the callback in offset order, exactly once per
//! reader; the callback runs on the reader thread and must not block.

use super::ClientSettings;
use crate::error::{Result, WorkerError};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One record handed to a reader's callback.
pub struct LogRecord<'a> {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    /// `None` is a tombstone.
    pub value: Option<&'a [u8]>,
    /// When the record was written (the producer's clock), in Unix ms.
    pub timestamp_ms: Option<i64>,
}

struct Shared {
    topic: String,
    consumer: BaseConsumer,
    /// Next offset to hand over, per partition.
    positions: Mutex<Vec<i64>>,
    advanced: Condvar,
    stop: AtomicBool,
}

/// Reads a whole topic, from the beginning, for as long as it lives.
pub struct TopicReader {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a topic that was just created (by this worker or another) may take to appear in the
/// metadata a broker answers with: on a cluster, brokers learn of a new topic one after another.
/// Kafka Connect's `KafkaBasedLog` waits the same 30 s.
const NEW_TOPIC_VISIBLE_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause between two attempts to read a partition's end offsets.
const WATERMARK_RETRY: Duration = Duration::from_millis(200);

/// The partition count of `topic`, from the cluster metadata, once the topic is visible.
pub fn partition_count(consumer: &BaseConsumer, topic: &str) -> Result<usize> {
    let deadline = std::time::Instant::now() + NEW_TOPIC_VISIBLE_TIMEOUT;
    loop {
        let metadata = consumer
            .fetch_metadata(Some(topic), METADATA_TIMEOUT)
            .map_err(|e| WorkerError::kafka(format!("cannot read metadata of topic {topic}"), e))?;
        if let Some(partitions) = super::partitions_in(&metadata, topic) {
            return Ok(partitions);
        }
        if std::time::Instant::now() >= deadline {
            return Err(WorkerError::Cluster(format!(
                "topic {topic} does not exist (waited {NEW_TOPIC_VISIBLE_TIMEOUT:?} for it to appear)"
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

impl TopicReader {
    /// Starts reading `topic`; `apply` gets every record, `after_batch` runs after each poll that
    /// handed over records (to wake whoever waits for changes).
    pub fn start(
        settings: &ClientSettings,
        topic: &str,
        client_id: &str,
        apply: impl FnMut(LogRecord<'_>) + Send + 'static,
        after_batch: impl FnMut() + Send + 'static,
    ) -> Result<TopicReader> {
        Self::start_with(settings, topic, client_id, false, apply, after_batch)
    }

    /// As [`TopicReader::start`]; with `read_committed`, records of transactions not (yet)
    /// committed are never handed over, and those of aborted ones never.
    pub fn start_with(
        settings: &ClientSettings,
        topic: &str,
        client_id: &str,
        read_committed: bool,
        mut apply: impl FnMut(LogRecord<'_>) + Send + 'static,
        mut after_batch: impl FnMut() + Send + 'static,
    ) -> Result<TopicReader> {
        let isolation = if read_committed {
            "read_committed"
        } else {
            "read_uncommitted"
        };
        let consumer: BaseConsumer = settings
            .internal(&[
                ("isolation.level", isolation.to_string()),
                ("client.id", client_id.to_string()),
                ("group.id", format!("{client_id}-reader")),
                ("enable.auto.commit", "false".to_string()),
                ("enable.auto.offset.store", "false".to_string()),
                ("fetch.wait.max.ms", "50".to_string()),
                ("enable.partition.eof", "false".to_string()),
            ])?
            .create()?;
        let partitions = partition_count(&consumer, topic)?;
        let mut assignment = TopicPartitionList::new();
        for partition in 0..partitions as i32 {
            assignment
                .add_partition_offset(topic, partition, Offset::Beginning)
                .map_err(|e| WorkerError::kafka(format!("cannot assign topic {topic}"), e))?;
        }
        consumer.assign(&assignment)?;
        let shared = Arc::new(Shared {
            topic: topic.to_string(),
            consumer,
            positions: Mutex::new(vec![0; partitions]),
            advanced: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let reading = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("read-{topic}"))
            .spawn(move || {
                while !reading.stop.load(Ordering::Acquire) {
                    let mut handed = false;
                    let mut next = reading.consumer.poll(Duration::from_millis(100));
                    while let Some(result) = next {
                        match result {
                            Ok(message) => {
                                apply(LogRecord {
                                    partition: message.partition(),
                                    offset: message.offset(),
                                    key: message.key(),
                                    value: message.payload(),
                                    timestamp_ms: message.timestamp().to_millis(),
                                });
                                let mut positions =
                                    reading.positions.lock().unwrap_or_else(|e| e.into_inner());
                                if let Some(p) = positions.get_mut(message.partition() as usize) {
                                    *p = message.offset() + 1;
                                }
                                handed = true;
                            }
                            Err(e) => {
                                log::warn!("reading topic {}: {e}", reading.topic);
                                break;
                            }
                        }
                        next = reading.consumer.poll(Duration::ZERO);
                    }
                    if handed {
                        after_batch();
                        reading.advanced.notify_all();
                    }
                }
            })
            .map_err(|e| WorkerError::thread(format!("the reader of topic {topic}"), e))?;
        Ok(TopicReader {
            shared,
            thread: Some(thread),
        })
    }

    /// Waits until every record written to the topic before this call was handed over.
    pub fn catch_up(&self, timeout: Duration) -> Result<()> {
        self.handle().catch_up(timeout)
    }

    /// A handle to wait on the reader from another thread.
    pub fn handle(&self) -> ReaderHandle {
        ReaderHandle(self.shared.clone())
    }
}

/// Waits on a [`TopicReader`]'s progress; cheap to clone.
#[derive(Clone)]
pub struct ReaderHandle(Arc<Shared>);

impl ReaderHandle {
    /// Waits until every record written to the topic before this call was handed over.
    pub fn catch_up(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let topic = &self.0.topic;
        let partitions = self.0.positions.lock().map(|p| p.len()).unwrap_or(0);
        let mut ends = Vec::with_capacity(partitions);
        for partition in 0..partitions as i32 {
            // A partition's leader may not know a topic created a moment ago yet (on a cluster,
            // brokers learn of it one after another): ask again until the deadline, as Kafka's
            // consumer retries such errors within its API timeout.
            let watermarks = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.0.consumer.fetch_watermarks(
                    topic,
                    partition,
                    left.max(Duration::from_millis(100)),
                ) {
                    Ok(watermarks) => break watermarks,
                    Err(e) if left > WATERMARK_RETRY => {
                        log::debug!("reading the end of {topic}[{partition}] again: {e}");
                        std::thread::sleep(WATERMARK_RETRY);
                    }
                    Err(e) => {
                        return Err(WorkerError::kafka(
                            format!("cannot read the end of topic {topic}"),
                            e,
                        ))
                    }
                }
            };
            ends.push(watermarks);
        }
        let mut positions = self.0.positions.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let behind = ends.iter().zip(positions.iter()).enumerate().any(
                |(partition, ((low, high), position))| {
                    position < high && low < high && self.fetched_before(partition as i32, *high)
                },
            );
            if !behind {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WorkerError::Cluster(format!(
                    "timed out after {timeout:?} reading topic {topic} to its end"
                )));
            }
            positions = self
                .0
                .advanced
                .wait_timeout(positions, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Whether the consumer has yet to pass `end` in `partition`. The last offsets of a partition
    /// may hold no record to hand over — transaction markers, or records of an aborted or (for
    /// a `read_committed` reader) undecided transaction — which only the consumer's own position
    /// moves past.
    fn fetched_before(&self, partition: i32, end: i64) -> bool {
        let Ok(assigned) = self.0.consumer.position() else {
            return true;
        };
        match assigned
            .find_partition(&self.0.topic, partition)
            .map(|p| p.offset())
        {
            Some(rdkafka::Offset::Offset(position)) => position < end,
            _ => true,
        }
    }

    /// Waits until the record at `offset` of `partition` was handed over.
    pub fn wait_for(&self, partition: i32, offset: i64, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut positions = self.0.positions.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if positions
                .get(partition as usize)
                .is_none_or(|p| *p > offset)
            {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(WorkerError::Cluster(format!(
                    "timed out after {timeout:?} waiting to read back a write to topic {}",
                    self.0.topic
                )));
            }
            positions = self
                .0
                .advanced
                .wait_timeout(positions, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for TopicReader {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Writes records to the worker's topics. Keys are partitioned with murmur2, as Kafka's Java
/// producer does, so a Kafka Connect worker sharing the topics finds offsets where it expects.
#[derive(Clone)]
pub struct TopicWriter {
    producer: FutureProducer,
    timeout: Duration,
}

/// Where the broker put a record.
#[derive(Clone, Copy, Debug)]
pub struct Written {
    pub partition: i32,
    pub offset: i64,
}

impl TopicWriter {
    pub fn new(
        settings: &ClientSettings,
        client_id: &str,
        timeout: Duration,
    ) -> Result<TopicWriter> {
        let producer = settings
            .internal(&[
                ("client.id", client_id.to_string()),
                ("acks", "all".to_string()),
                // Ordered without the idempotent producer, which some Kafka-compatible brokers
                // forget across restarts.
                ("max.in.flight.requests.per.connection", "1".to_string()),
                ("linger.ms", "0".to_string()),
                ("partitioner", "murmur2_random".to_string()),
                ("message.timeout.ms", timeout.as_millis().to_string()),
            ])?
            .create()?;
        Ok(TopicWriter { producer, timeout })
    }

    /// Sends one record (`value: None` is a tombstone) and waits for the broker's acknowledgement.
    pub async fn send(&self, topic: &str, key: &str, value: Option<&[u8]>) -> Result<Written> {
        let mut record: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).key(key);
        if let Some(value) = value {
            record = record.payload(value);
        }
        match self.producer.send(record, self.timeout).await {
            Ok(delivery) => Ok(Written {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Err((e, _)) => Err(WorkerError::kafka(
                format!("cannot write to topic {topic}"),
                e,
            )),
        }
    }

    /// [`TopicWriter::send`] from a thread outside the async runtime.
    pub fn send_blocking(&self, topic: &str, key: &str, value: Option<&[u8]>) -> Result<Written> {
        futures::executor::block_on(self.send(topic, key, value))
    }

    /// Sends many records and waits for all acknowledgements; the first error wins.
    pub fn send_all_blocking(
        &self,
        topic: &str,
        records: &[(String, Option<Vec<u8>>)],
    ) -> Result<()> {
        let mut pending = Vec::with_capacity(records.len());
        for (key, value) in records {
            let mut record: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).key(key);
            if let Some(value) = value {
                record = record.payload(value);
            }
            match self.producer.send_result(record) {
                Ok(delivery) => pending.push(delivery),
                Err((e, _)) => {
                    return Err(WorkerError::kafka(
                        format!("cannot write to topic {topic}"),
                        e,
                    ))
                }
            }
        }
        for delivery in pending {
            match futures::executor::block_on(delivery) {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => {
                    return Err(WorkerError::kafka(
                        format!("cannot write to topic {topic}"),
                        e,
                    ))
                }
                Err(_) => {
                    return Err(WorkerError::Cluster(format!(
                        "cannot write to topic {topic}: the producer went away"
                    )))
                }
            }
        }
        Ok(())
    }

    /// Waits for everything sent to be acknowledged (shutdown).
    pub fn flush(&self, timeout: Duration) {
        if let Err(e) = self.producer.flush(timeout) {
            log::warn!("cannot flush the worker's topic writes: {e}");
        }
    }
}
