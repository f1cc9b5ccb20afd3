//! A sink task, top to bottom: consumer → converters → transforms → put → flush → commit.
//!
//! The consumer is in group `connect-<connector>` with auto-commit off. What may be committed is
//! [`SinkProgress`]'s to say; offsets reach Kafka only after the task's `pre_commit` (which
//! flushes by default) returned them: every
//! `offset.flush.interval.ms`, when the task asks, before partitions are revoked, and at stop.
//! Rebalance callbacks run inside `poll` on this same thread, so they may use the task directly.

use super::converters::Converters;
use super::errors::{
    DlqUnacknowledged, ErrorHandler, Failure, Origin, Stage, DLQ_FLUSH_TIMEOUT, FIRST_RETRY_DELAY,
};
use super::metrics::TaskMetrics;
use super::sink_progress::{BatchOffsets, SinkProgress};
use super::status::{error_trace, State};
use super::{HostTaskContext, TaskEnv};
use crate::config::connector::Subscription;
use crate::error::{Result, WorkerError};
use kconnect_loader::SinkTaskHandle;
use kconnect_plugin_api::{
    ConnectError, PartitionOffset, SinkRecord, TimestampType, TopicPartition,
};
use kconnect_transforms::{TransformChain, Verdict};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{BorrowedMessage, Headers, Message, Timestamp};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// State the loop and the rebalance callbacks share (same thread, never held across `poll`).
struct Shared {
    task: SinkTaskHandle,
    /// The partitions owned and what may be committed of them.
    progress: SinkProgress,
    failure: Option<ConnectError>,
    env: TaskEnv,
    /// Set once the task is stopped: rebalances while the consumer closes must not call it.
    stopped: bool,
    errors: ErrorHandler,
}

struct RebalanceContext {
    shared: Arc<Mutex<Shared>>,
}

impl ClientContext for RebalanceContext {}

fn partitions_of(list: &TopicPartitionList) -> Vec<TopicPartition> {
    list.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let revoked = partitions_of(list);
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            if shared.stopped {
                return;
            }
            let offsets = shared.progress.revoke(&revoked);
            match commit(&mut shared, consumer, offsets, CommitMode::Sync) {
                Ok(()) => {}
                Err(CommitFailure::Refused(e)) => log::warn!(
                    "sink task {}: commit before revocation failed: {e}",
                    shared.env.name()
                ),
                Err(CommitFailure::Plugin(e)) => {
                    shared.failure.get_or_insert(e);
                }
                Err(CommitFailure::Dlq(e)) => {
                    shared.failure.get_or_insert(ConnectError::failed(e.0));
                }
            }
            if let Err(e) = shared.task.close(&revoked) {
                shared.failure.get_or_insert(e);
            }
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            let assigned = partitions_of(list);
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            if shared.stopped {
                return;
            }
            shared
                .env
                .worker
                .metrics
                .rebalances
                .fetch_add(1, Ordering::Relaxed);
            for tp in &assigned {
                shared.env.note_topic(&tp.topic);
            }
            shared.progress.assign(&assigned);
            log::info!(
                "sink task {} assigned {} partition(s)",
                shared.env.name(),
                assigned.len()
            );
            if let Err(e) = shared.task.open(&assigned) {
                shared.failure.get_or_insert(e);
            }
        }
    }
}

/// Hands a batch to the task; a retriable failure is retried with capped exponential backoff
/// (`errors.retry.delay.max.ms`) until it succeeds or the task is stopped, as Kafka retries a
/// `put` that threw a `RetriableException` whatever `errors.retry.timeout` says (its default 0
/// and -1 both retry for as long as it takes). Beyond Kafka, a positive `errors.retry.timeout`
/// bounds these retries too.
fn put_with_retries(shared: &mut Shared, batch: &[SinkRecord], env: &TaskEnv) -> Result<()> {
    let started = Instant::now();
    let mut delay = FIRST_RETRY_DELAY;
    let metrics = &env.metrics;
    loop {
        let called_at = Instant::now();
        match shared.task.put(batch) {
            Ok(()) => {
                metrics
                    .call_seconds
                    .observe(called_at.elapsed().as_secs_f64());
                metrics.batch_size.observe(batch.len() as f64);
                metrics
                    .records_out
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                return Ok(());
            }
            Err(e) if e.is_retriable() && !env.control.stopping() => {
                let out_of_time = env
                    .connector
                    .errors_retry_timeout
                    .is_some_and(|limit| !limit.is_zero() && started.elapsed() >= limit);
                if out_of_time {
                    return Err(e.into());
                }
                shared.errors.counters().note_retry();
                log::warn!(
                    "sink task {}: put failed, retrying in {delay:?}: {e}",
                    env.name()
                );
                std::thread::sleep(delay);
                delay = (delay * 2).min(
                    env.connector
                        .errors_retry_delay_max
                        .max(Duration::from_millis(1)),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Why a commit did not happen. Only [`CommitFailure::Refused`] is retried (with the next
/// commit, which carries the same offsets or later ones); the others fail the task, so a record
/// that went neither to the task nor to an acknowledged dead letter queue is never committed past.
#[derive(Debug, thiserror::Error)]
enum CommitFailure {
    /// Kafka did not take the commit (coordinator moving, a rebalance under way…).
    #[error("{0}")]
    Refused(rdkafka::error::KafkaError),
    /// The task's `flush`/`pre_commit` failed.
    #[error("{0}")]
    Plugin(ConnectError),
    /// Skipped records were not acknowledged by the dead letter queue.
    #[error("{0}")]
    Dlq(DlqUnacknowledged),
}

impl From<CommitFailure> for WorkerError {
    fn from(failure: CommitFailure) -> WorkerError {
        match failure {
            CommitFailure::Refused(e) => e.into(),
            CommitFailure::Plugin(e) => e.into(),
            CommitFailure::Dlq(e) => e.into(),
        }
    }
}

/// Asks the task which offsets are safe and commits those.
fn commit(
    shared: &mut Shared,
    consumer: &BaseConsumer<RebalanceContext>,
    offsets: Vec<PartitionOffset>,
    mode: CommitMode,
) -> Result<(), CommitFailure> {
    if offsets.is_empty() {
        return Ok(());
    }
    // Skipped records must be in the dead letter queue before their offsets are committed.
    shared
        .errors
        .flush(DLQ_FLUSH_TIMEOUT)
        .map_err(CommitFailure::Dlq)?;
    let safe = shared
        .task
        .pre_commit(offsets)
        .map_err(CommitFailure::Plugin)?;
    if safe.is_empty() {
        return Ok(());
    }
    let mut list = TopicPartitionList::with_capacity(safe.len());
    for po in &safe {
        list.add_partition_offset(
            &po.partition.topic,
            po.partition.partition,
            Offset::Offset(po.offset),
        )
        .map_err(CommitFailure::Refused)?;
    }
    let committed = consumer.commit(&list, mode);
    shared.env.metrics.committed(committed.is_ok());
    committed.map_err(CommitFailure::Refused)
}

/// Records left to read on the assigned partitions, from the consumer's positions and the high
/// watermarks librdkafka keeps from its fetch responses. Asking the broker instead (a ListOffsets
/// round trip per partition, on every commit) stalled the task loop: the sink ran 20% slower.
fn update_lag(consumer: &BaseConsumer<RebalanceContext>, metrics: &TaskMetrics) {
    let Ok(positions) = consumer.position() else {
        return;
    };
    let mut lag = 0;
    for e in positions.elements() {
        if let (Offset::Offset(position), Some(high)) = (
            e.offset(),
            cached_high_watermark(consumer, e.topic(), e.partition()),
        ) {
            lag += (high - position).max(0);
        }
    }
    metrics.consumer_lag.store(lag, Ordering::Relaxed);
}

/// The high watermark of a partition as the last fetch response gave it; `None` before one.
fn cached_high_watermark<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
) -> Option<i64> {
    let topic = std::ffi::CString::new(topic).ok()?;
    let (mut low, mut high) = (-1i64, -1i64);
    // SAFETY: the client handle lives as long as `consumer`, the topic is a NUL-terminated
    // string that outlives the call, and librdkafka only writes the two offsets.
    let error = unsafe {
        rdkafka::bindings::rd_kafka_get_watermark_offsets(
            consumer.client().native_ptr(),
            topic.as_ptr(),
            partition,
            &mut low,
            &mut high,
        )
    };
    (error == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0)
        .then_some(high)
}

/// Runs a sink task on the calling thread until it is stopped or fails.
pub fn run(env: TaskEnv, handle: SinkTaskHandle) {
    let name = env.name();
    match run_inner(&env, handle) {
        Ok(()) => log::info!("sink task {name} stopped"),
        Err(e) => {
            log::error!("sink task {name} failed: {e}");
            env.status.fail(match &e {
                WorkerError::Plugin(p) => error_trace(p),
                other => other.to_string(),
            });
        }
    }
}

fn max_poll_records(env: &TaskEnv) -> usize {
    env.connector
        .raw
        .get("consumer.override.max.poll.records")
        .or_else(|| env.worker.config.raw.get("consumer.max.poll.records"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(500)
}

/// The task's consumer, in group `connect-<connector>`, subscribed.
fn subscribed_consumer(
    env: &TaskEnv,
    shared: &Arc<Mutex<Shared>>,
    subscription: &Subscription,
) -> Result<BaseConsumer<RebalanceContext>> {
    let connector = &env.connector;
    let overrides = crate::kafka::ClientSettings::connector_overrides(&connector.raw, "consumer");
    let group = connector.sink_group_id();
    let mut consumer_config = env.worker.clients.consumer(
        &overrides,
        &group,
        &format!("connector-consumer-{}", env.name()),
    )?;
    // Static membership: a task restarted after a crash takes its own place in the group at
    // once, instead of waiting for its dead predecessor's session to expire.
    if consumer_config.get("group.instance.id").is_none() {
        consumer_config.set("group.instance.id", format!("{group}-{}", env.task_id));
    }
    let consumer: BaseConsumer<RebalanceContext> =
        consumer_config.create_with_context(RebalanceContext {
            shared: shared.clone(),
        })?;
    match subscription {
        Subscription::Topics(topics) => {
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            consumer.subscribe(&topics)?;
        }
        // librdkafka treats a subscription starting with ^ as a regular expression.
        Subscription::Pattern(pattern) => {
            consumer.subscribe(&[&format!("^{}", pattern.trim_start_matches('^'))])?
        }
    }
    Ok(consumer)
}

/// Replaces a consumer that hit a fatal error (librdkafka fences a static member whose
/// coordinator moved with FENCED_INSTANCE_ID, and such a consumer never consumes again): its
/// partitions are closed on the task without a commit (none can succeed), and a new consumer
/// takes its place in the group. Records after the last commit come again: at least once.
fn replace_fatal_consumer(
    env: &TaskEnv,
    shared: &Arc<Mutex<Shared>>,
    subscription: &Subscription,
    consumer: BaseConsumer<RebalanceContext>,
) -> Result<BaseConsumer<RebalanceContext>> {
    {
        let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
        let assigned = guard.progress.assigned();
        guard.progress.revoke(&assigned);
        if let Err(e) = guard.task.close(&assigned) {
            guard.failure.get_or_insert(e);
        }
        // The old consumer's last callbacks must not reach the task.
        guard.stopped = true;
    }
    drop(consumer);
    shared.lock().unwrap_or_else(|e| e.into_inner()).stopped = false;
    subscribed_consumer(env, shared, subscription)
}

fn run_inner(env: &TaskEnv, mut task: SinkTaskHandle) -> Result<()> {
    let worker = &env.worker;
    let connector = &env.connector;
    let subscription = connector.subscription()?;
    let mut converters = Converters::for_connector(worker, connector)?;
    let mut transforms = super::transforms::transforms_for(worker, &connector.raw)?;
    let commit_requested = Arc::new(AtomicBool::new(false));
    let context = HostTaskContext::object(
        &connector.name,
        worker.offsets.clone(),
        commit_requested.clone(),
    );
    task.start(env.task_config.clone(), context)?;

    let shared = Arc::new(Mutex::new(Shared {
        task,
        progress: SinkProgress::default(),
        failure: None,
        env: env.clone(),
        stopped: false,
        errors: ErrorHandler::new(env)?,
    }));
    let mut consumer = subscribed_consumer(env, &shared, &subscription)?;
    env.status.set(State::Running);
    log::info!("sink task {} started", env.name());

    let batch_limit = max_poll_records(env);
    let flush_interval = worker.config.offset_flush_interval;
    let mut last_commit = Instant::now();
    let mut paused = false;
    let mut batch: Vec<SinkRecord> = Vec::with_capacity(batch_limit);
    let outcome: Result<()> = loop {
        if env.control.stopping() {
            break Ok(());
        }
        if let Some(failure) = shared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failure
            .take()
        {
            break Err(failure.into());
        }
        let want_pause = env.control.paused();
        if want_pause != paused {
            let assignment = consumer.assignment()?;
            if want_pause {
                consumer.pause(&assignment)?;
                env.status.set(State::Paused);
            } else {
                consumer.resume(&assignment)?;
                env.status.set(State::Running);
            }
            paused = want_pause;
        }

        batch.clear();
        // What this batch holds becomes committable only once `put` took it.
        let mut batch_offsets = BatchOffsets::default();
        let mut failed: Option<WorkerError> = None;
        let mut read = 0u64;
        let mut wait = Duration::from_millis(200);
        while batch.len() < batch_limit {
            match consumer.poll(wait) {
                None => break,
                Some(Err(e)) => {
                    log::warn!("sink task {}: consumer error: {e}", env.name());
                    break;
                }
                Some(Ok(message)) => {
                    wait = Duration::ZERO;
                    read += 1;
                    match to_sink_record(&message, &mut converters, &mut transforms) {
                        Ok(Some(record)) => batch.push(record),
                        Ok(None) => {}
                        Err(failure) => {
                            let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
                            if let Err(e) = guard.errors.handle(failure, Origin::Sink(&message)) {
                                failed = Some(e);
                                break;
                            }
                        }
                    }
                    batch_offsets.note(message.topic(), message.partition(), message.offset());
                }
            }
        }
        // A conversion failure with errors.tolerance=none fails the task; the records before it
        // are still delivered so its offset is where a restart resumes.
        if read > 0 {
            env.metrics.records_in.fetch_add(read, Ordering::Relaxed);
        }
        if !batch_offsets.is_empty() {
            let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
            if !batch.is_empty() {
                if let Err(e) = put_with_retries(&mut guard, &batch, env) {
                    break Err(e);
                }
            }
            guard.progress.delivered(batch_offsets);
        }
        if let Some(failure) = failed {
            break Err(failure);
        }
        if let Some((code, reason)) = consumer.client().fatal_error() {
            log::warn!(
                "sink task {}: the consumer hit a fatal error ({code:?}: {reason}); replacing it, records after the last commit come again",
                env.name()
            );
            consumer = match replace_fatal_consumer(env, &shared, &subscription, consumer) {
                Ok(consumer) => consumer,
                Err(e) => {
                    // No consumer left to close: the task stops here, its partitions closed.
                    let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
                    guard.stopped = true;
                    let _ = guard.task.stop();
                    return Err(e);
                }
            };
            // A paused task pauses its new consumer's partitions once they are assigned.
            paused = false;
            continue;
        }
        if last_commit.elapsed() >= flush_interval || commit_requested.swap(false, Ordering::AcqRel)
        {
            let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
            let offsets = guard.progress.committable();
            // The task failing to flush, or the dead letter queue failing, fails the task;
            // Kafka refusing a commit is retried with the next one.
            match commit(&mut guard, &consumer, offsets, CommitMode::Async) {
                Err(CommitFailure::Refused(e)) => {
                    log::warn!("sink task {}: offset commit failed: {e}", env.name())
                }
                Err(fatal) => break Err(fatal.into()),
                Ok(()) => {}
            }
            drop(guard);
            update_lag(&consumer, &env.metrics);
            last_commit = Instant::now();
        }
    };

    // Stop: flush and commit what was delivered, close the partitions, stop the task.
    let stop_result = {
        let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
        if outcome.is_ok() {
            let offsets = guard.progress.committable();
            if let Err(e) = commit(&mut guard, &consumer, offsets, CommitMode::Async) {
                log::warn!("sink task {}: final offset commit failed: {e}", env.name());
            }
        }
        let assigned = guard.progress.assigned();
        let _ = guard.task.close(&assigned);
        guard.stopped = true;
        guard.task.stop()
    };
    crate::kafka::group_offsets::close_consumer(
        consumer,
        worker.config.task_shutdown_graceful_timeout,
    );
    outcome?;
    stop_result?;
    env.status.set(State::Unassigned);
    Ok(())
}

fn to_sink_record(
    message: &BorrowedMessage<'_>,
    converters: &mut Converters,
    transforms: &mut TransformChain,
) -> Result<Option<SinkRecord>, Failure> {
    let topic = message.topic();
    let (key_schema, key) = converters
        .key
        .to_connect(topic, message.key())
        .map_err(|e| Failure::new(Stage::KeyConverter, &converters.classes.key, e))?;
    let (value_schema, value) = converters
        .value
        .to_connect(topic, message.payload())
        .map_err(|e| Failure::new(Stage::ValueConverter, &converters.classes.value, e))?;
    let mut headers = abi_stable::std_types::RVec::new();
    if let Some(kafka_headers) = message.headers() {
        for header in kafka_headers.iter() {
            let h = converters
                .header
                .to_header(topic, header.key, header.value)
                .map_err(|e| Failure::new(Stage::HeaderConverter, &converters.classes.header, e))?;
            headers.push(h);
        }
    }
    let (timestamp, timestamp_type) = match message.timestamp() {
        Timestamp::NotAvailable => (None, TimestampType::NoTimestampType),
        Timestamp::CreateTime(t) => (Some(t), TimestampType::CreateTime),
        Timestamp::LogAppendTime(t) => (Some(t), TimestampType::LogAppendTime),
    };
    let mut record = kconnect_plugin_api::ConnectRecord {
        topic: topic.into(),
        kafka_partition: abi_stable::std_types::ROption::RSome(message.partition()),
        key_schema: key_schema.into(),
        key,
        value_schema: value_schema.into(),
        value,
        timestamp: timestamp.into(),
        headers,
    };
    if !transforms.is_empty() {
        let verdict = transforms
            .apply_sink(&mut record, message.offset())
            .map_err(|e| {
                let alias = e.alias().unwrap_or("transforms").to_string();
                Failure::new(Stage::Transformation, alias, e)
            })?;
        if verdict == Verdict::Discard {
            return Ok(None);
        }
    }
    Ok(Some(SinkRecord {
        kafka_offset: message.offset(),
        timestamp_type,
        record,
    }))
}

#[cfg(test)]
mod tests {
    use super::cached_high_watermark;
    use crate::kafka::embedded::EmbeddedBroker;
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    use rdkafka::{Offset, TopicPartitionList};
    use std::time::{Duration, Instant};

    /// The lag metric reads the high watermark librdkafka keeps from fetch responses: none
    /// before the first fetch, the partition's end after one.
    #[test]
    fn the_high_watermark_comes_from_the_last_fetch() {
        let broker = EmbeddedBroker::start().expect("embedded broker");
        broker.create_topic("lagging", 1).expect("topic");
        let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap_servers())
            .create()
            .expect("producer");
        for i in 0..5 {
            producer
                .send(BaseRecord::<(), str>::to("lagging").payload(&format!("record {i}")))
                .expect("queued");
        }
        producer
            .flush(Duration::from_secs(10))
            .expect("acknowledged");

        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap_servers())
            .set("group.id", "lag-test")
            .create()
            .expect("consumer");
        assert_eq!(cached_high_watermark(&consumer, "lagging", 0), None);
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset("lagging", 0, Offset::Beginning)
            .expect("partition");
        consumer.assign(&assignment).expect("assign");
        let deadline = Instant::now() + Duration::from_secs(10);
        while consumer.poll(Duration::from_millis(100)).is_none() {
            assert!(Instant::now() < deadline, "no record fetched in 10 s");
        }
        assert_eq!(cached_high_watermark(&consumer, "lagging", 0), Some(5));
        assert_eq!(cached_high_watermark(&consumer, "elsewhere", 0), None);
    }
}
