//! A source task, top to bottom: poll → transforms → converters → producer, with source offsets
//! stored only after the broker acknowledged every record up to them.
//!
//! Threads: the plugin's `poll` and the transformations run on a poller thread of its own, one
//! batch ahead of the task thread, which converts and produces (and serves the producer's
//! acknowledgements). Records are thus changed and freed on the thread where the plugin
//! allocated them: glibc frees memory of another thread's arena under that arena's lock, which
//! the two threads would otherwise contend for.
//! The two hand batches over a channel of one slot, so at most three batches are in the works at
//! a time (being polled, waiting, being sent); sent batches go back to the poller to be freed
//! there, on the thread where the plugin allocated them. While the task runs only the poller
//! calls the task object (its `commit` is requested through a flag and called between two
//! polls); `stop` and the last `commit` come from the task thread once the poller has ended.
//!
//! Offsets: each polled batch gets an id (the producer's delivery opaque). A batch's offsets —
//! the last one per source partition — become committable once all of its records and of every
//! earlier batch are acknowledged. One delivery failure fails the task and its batch's offsets are
//! never stored, so a restart re-reads from the last stored offsets: at least once, in order.
//!
//! Exactly once (KIP-618, `exactly.once.source.support=enabled` in distributed mode): the task's
//! producer is transactional, with Kafka's id `<group.id>-<connector>-<task>` (initialising it
//! fences any older instance of the task). A transaction holds the records of one polled batch
//! (`transaction.boundary=poll`) or of the batches of `transaction.boundary.interval.ms`
//! (`interval`); it ends with their offsets as offset-topic records — once every record is
//! acknowledged — then the commit. A clean stop commits the open one.
//! Offsets are never stored outside a transaction, so a reader of committed records sees a
//! batch's records exactly when the offsets that skip them on a restart. A failed commit aborts
//! and fails the task.
//!
//! `commit_record`: for a task whose manifest asks for it (and only then, so other tasks pay
//! nothing), a sent batch waits on the task thread until it and every earlier batch are
//! acknowledged, then goes back to the poller, which calls `commit_record` for each of its
//! records (those the chain dropped or the error handler skipped included, as Kafka calls
//! `commitRecord` for them) before freeing it. Records never acknowledged are never
//! committed (nor are those acknowledged in the final flush, after `stop`). A failing
//! `commit_record` is logged and the task goes on, as in Kafka.

use super::converters::Converters;
use super::errors::{ErrorHandler, Failure, Origin, Stage, DLQ_FLUSH_TIMEOUT, FIRST_RETRY_DELAY};
use super::metrics::TaskMetrics;
use super::status::{error_trace, State, StatusCell};
use super::{HostTaskContext, TaskEnv};
use crate::config::connector::Tolerance;
use crate::error::{Result, WorkerError};
use crate::kafka::admin::TopicSpec;
use abi_stable::std_types::RVec;
use kconnect_loader::SourceTaskHandle;
use kconnect_plugin_api::record::SourceMap;
use kconnect_plugin_api::{ConnectRecord, SourceRecord};
use kconnect_transforms::{TransformChain, Verdict};
use rdkafka::client::ClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const POLL_TIMEOUT: Duration = Duration::from_millis(500);
const TOPIC_RECHECK: Duration = Duration::from_secs(10);
/// How long the task thread waits for the next batch before it serves acknowledgements again.
const BATCH_WAIT: Duration = Duration::from_millis(50);
/// The longest the poller sleeps (paused, or backing off) before it looks at the controls again.
const POLLER_NAP: Duration = Duration::from_millis(100);
/// How long an exactly-once task waits for its producer's transactional calls.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(30);
/// The delivery opaque of the offset records an exactly-once task writes: not a batch of its.
const OFFSETS_OPAQUE: usize = usize::MAX;

/// What the poller thread hands to the task thread: a batch, or the error that ends the task.
type Polled = Result<PolledBatch>;

/// A polled batch, through the transformation chain.
struct PolledBatch {
    /// The records, transformed in place.
    records: RVec<SourceRecord>,
    /// The records the chain did not pass on, by increasing index.
    exceptions: Vec<(usize, Exception)>,
}

/// A record the transformation chain did not pass on.
enum Exception {
    /// A transformation dropped it.
    Dropped,
    /// A transformation failed. The batch holds the record as polled when errors are tolerated
    /// (for the error report: keeping it costs a clone per record), else an empty one.
    Failed { failure: Failure, kept: bool },
}

/// Requests from the task thread to the poller thread.
#[derive(Default)]
struct PollerControl {
    /// The task thread is done (stopping or failed): the poller ends after its current poll.
    halt: AtomicBool,
    /// Offsets were stored: the poller calls the task's `commit` before its next poll.
    commit_due: AtomicBool,
}

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

    /// Every batch with a smaller id is acknowledged, and so is every earlier one.
    fn first_unacknowledged(&self) -> u64 {
        self.batches.front().map_or(self.next_id, |b| b.id)
    }
}

/// Notes record `index` as the last of its source partition in `last_of_partition` (indexes
/// into `batch`, one per partition). A batch usually holds one partition: one comparison.
fn note_last_of_partition(
    last_of_partition: &mut Vec<usize>,
    batch: &[SourceRecord],
    index: usize,
) {
    let partition = &batch[index].source_partition;
    match last_of_partition
        .iter_mut()
        .rev()
        .find(|last| batch[**last].source_partition == *partition)
    {
        Some(last) => *last = index,
        None => last_of_partition.push(index),
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
        if batch == OFFSETS_OPAQUE {
            // An exactly-once task's offsets: a failure fails the transaction's commit.
            return;
        }
        let error = result.as_ref().err().map(|(e, message)| {
            use rdkafka::Message;
            format!("delivery to topic {} failed: {e}", message.topic())
        });
        if error.is_none() {
            self.metrics.records_out.fetch_add(1, Ordering::Relaxed);
            // A load first: a swap per acknowledgement would write the shared line every time.
            if self.broker_trouble.load(Ordering::Relaxed)
                && self.broker_trouble.swap(false, Ordering::AcqRel)
            {
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
    /// Polled from this thread (delivery callbacks run here): a polling thread per task would
    /// cost a thread and, in rdkafka, spin for the last millisecond of every poll interval.
    producer: BaseProducer<AckContext>,
    tracker: Arc<Mutex<OffsetTracker>>,
    known_topics: HashSet<String>,
    /// The topic of the previous record once known to exist (consecutive records usually share
    /// one), so that most records skip the hash lookup; empty when there is none.
    last_topic: String,
    topics_checked_at: Instant,
    topic_spec: TopicSpec,
    key_buf: Vec<u8>,
    value_buf: Vec<u8>,
    errors: ErrorHandler,
    /// The task asked for `commit_record`: sent batches wait in `awaiting_ack` until
    /// acknowledged, and keep the offsets of their records.
    wants_commit_record: bool,
    awaiting_ack: VecDeque<(u64, RVec<SourceRecord>)>,
    /// An exactly-once task's transactions; `None` without.
    transactions: Option<Transactions>,
}

/// The transactions of an exactly-once task (KIP-618).
struct Transactions {
    /// Where they write the task's offsets.
    offsets_topic: String,
    /// `transaction.boundary`: `None` ends each transaction with its polled batch (`poll`);
    /// `Some` once it is that old (`interval`).
    interval: Option<Duration>,
    /// When the open transaction began; `None` while none is open.
    open_since: Option<Instant>,
}

impl Transactions {
    fn from_config(offsets_topic: &str, raw: &crate::config::Properties, flush: Duration) -> Self {
        let boundary = raw
            .get("transaction.boundary")
            .map(|b| b.trim().to_ascii_lowercase());
        // Kafka's default interval is the worker's offset.flush.interval.ms.
        let interval = (boundary.as_deref() == Some("interval")).then(|| {
            raw.get("transaction.boundary.interval.ms")
                .and_then(|ms| ms.trim().parse::<u64>().ok())
                .map_or(flush, Duration::from_millis)
        });
        Transactions {
            offsets_topic: offsets_topic.to_string(),
            interval,
            open_since: None,
        }
    }

    /// The open transaction should end now.
    fn due(&self) -> bool {
        match (self.open_since, self.interval) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(began), Some(interval)) => began.elapsed() >= interval,
        }
    }
}

fn run_inner(env: &TaskEnv, mut task: SourceTaskHandle) -> Result<()> {
    let worker = &env.worker;
    let connector = &env.connector;
    let tracker = Arc::new(Mutex::new(OffsetTracker::default()));
    let overrides = crate::kafka::ClientSettings::connector_overrides(&connector.raw, "producer");
    let mut producer_config = worker
        .clients
        .producer(&overrides, &format!("connector-producer-{}", env.name()))?;
    if let Some(exactly_once) = &worker.exactly_once {
        producer_config.set(
            "transactional.id",
            crate::herder::distributed::fencing::transactional_id(
                &exactly_once.group_id,
                &connector.name,
                env.task_id,
            ),
        );
    }
    let producer: BaseProducer<AckContext> = producer_config.create_with_context(AckContext {
        tracker: tracker.clone(),
        metrics: env.metrics.clone(),
        status: env.status.clone(),
        broker_trouble: AtomicBool::new(false),
    })?;
    if worker.exactly_once.is_some() {
        // Fences out any older instance of this task (a zombie) before the first transaction.
        producer
            .init_transactions(TRANSACTION_TIMEOUT)
            .map_err(|e| {
                WorkerError::kafka(
                    format!(
                        "cannot initialise the transactional producer of exactly-once task {}",
                        env.name()
                    ),
                    e,
                )
            })?;
    }
    let mut transforms = super::transforms::transforms_for(worker, &connector.raw)?;
    let mut pipeline = Pipeline {
        env,
        converters: Converters::for_connector(worker, connector)?,
        producer,
        tracker,
        known_topics: HashSet::new(),
        last_topic: String::new(),
        topics_checked_at: Instant::now(),
        topic_spec: topic_spec(&connector.raw),
        key_buf: Vec::with_capacity(64),
        value_buf: Vec::with_capacity(256),
        errors: ErrorHandler::new(env)?,
        wants_commit_record: task.wants_commit_record(),
        awaiting_ack: VecDeque::new(),
        transactions: worker.exactly_once.as_ref().map(|e| {
            Transactions::from_config(
                &e.offsets_topic,
                &connector.raw,
                worker.config.offset_flush_interval,
            )
        }),
    };

    let commit_requested = Arc::new(AtomicBool::new(false));
    let context =
        HostTaskContext::object(&connector.name, worker.offsets.clone(), commit_requested);
    task.start(env.task_config.clone(), context)?;
    env.status.set(State::Running);
    log::info!("source task {} started", env.name());

    let control = PollerControl::default();
    let (batch_sender, batches) = mpsc::sync_channel::<Polled>(1);
    let (spent_sender, spent) = mpsc::channel::<RVec<SourceRecord>>();
    let outcome = std::thread::scope(|scope| {
        let poller = std::thread::Builder::new()
            .name(format!("poll-{}", env.name()))
            .spawn_scoped(scope, || {
                poll_loop(
                    env,
                    &mut task,
                    &mut transforms,
                    &control,
                    batch_sender,
                    spent,
                )
            });
        if let Err(e) = poller {
            return Err(WorkerError::thread(
                format!("the poller of source task {}", env.name()),
                e,
            ));
        }
        let outcome = pipeline.send_loop(&control, batches, spent_sender);
        // The receiver is gone with `send_loop`: a poller waiting to hand over a batch wakes up.
        control.halt.store(true, Ordering::Release);
        outcome
    });

    // The poller has ended: batches acknowledged meanwhile are committed from here, before
    // `stop` (records acknowledged later, during the final flush, are not: `stop` came first).
    if pipeline.wants_commit_record {
        let (release, released) = mpsc::channel();
        pipeline.release_acknowledged(&release);
        drop(release);
        for batch in released {
            commit_records(env, &mut task, &batch);
        }
    }
    // Stop: the plugin first, then wait for acknowledgements and store what was acknowledged.
    let stop_result = task.stop();
    let deadline = Instant::now() + worker.config.task_shutdown_graceful_timeout;
    let _ = pipeline
        .producer
        .flush(deadline.saturating_duration_since(Instant::now()));
    // An open transaction commits on a clean stop, and is aborted after a failure.
    let committed = pipeline
        .end_open_transaction(outcome.is_ok())
        .and_then(|()| pipeline.commit_offsets());
    // A commit the poller had no time to call is called here.
    let commit_due = control.commit_due.load(Ordering::Acquire);
    if matches!(committed, Ok(true)) || commit_due {
        if let Err(e) = task.commit() {
            log::warn!("source task {} commit failed: {e}", env.name());
        }
    }
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

/// The poller thread: polls the task and hands each non-empty batch over, transformed, until the
/// task thread halts it or a poll fails (the error is handed over too); frees the batches
/// already sent.
fn poll_loop(
    env: &TaskEnv,
    task: &mut SourceTaskHandle,
    transforms: &mut TransformChain,
    control: &PollerControl,
    batches: SyncSender<Polled>,
    spent: Receiver<RVec<SourceRecord>>,
) {
    let halted = || control.halt.load(Ordering::Acquire) || env.control.stopping();
    let wants_commit_record = task.wants_commit_record();
    let mut retry_backoff = FIRST_RETRY_DELAY;
    let mut paused = false;
    loop {
        while let Ok(batch) = spent.try_recv() {
            if wants_commit_record {
                commit_records(env, task, &batch);
            }
            drop(batch);
        }
        if halted() {
            return;
        }
        if control.commit_due.swap(false, Ordering::AcqRel) {
            if let Err(e) = task.commit() {
                log::warn!("source task {} commit failed: {e}", env.name());
            }
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
            std::thread::sleep(POLLER_NAP);
            continue;
        }
        let polled_at = Instant::now();
        let polled = match task.poll(POLL_TIMEOUT) {
            Ok(mut records) => {
                retry_backoff = FIRST_RETRY_DELAY;
                let metrics = &env.metrics;
                metrics
                    .call_seconds
                    .observe(polled_at.elapsed().as_secs_f64());
                if records.is_empty() {
                    continue;
                }
                metrics.batch_size.observe(records.len() as f64);
                metrics
                    .records_in
                    .fetch_add(records.len() as u64, Ordering::Relaxed);
                let exceptions =
                    transform_batch(transforms, env.connector.errors_tolerance, &mut records);
                Ok(PolledBatch {
                    records,
                    exceptions,
                })
            }
            Err(e) if e.is_retriable() => {
                log::warn!(
                    "source task {} poll failed, retrying in {retry_backoff:?}: {e}",
                    env.name()
                );
                env.errors.note_retry();
                // In naps, so that a stop does not wait for the whole backoff.
                let wake_at = Instant::now() + retry_backoff;
                while !halted() {
                    let left = wake_at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    std::thread::sleep(left.min(POLLER_NAP));
                }
                retry_backoff = (retry_backoff * 2).min(
                    env.connector
                        .errors_retry_delay_max
                        .max(Duration::from_millis(1)),
                );
                continue;
            }
            Err(e) => Err(e.into()),
        };
        let failed = polled.is_err();
        if batches.send(polled).is_err() || failed {
            return;
        }
    }
}

/// Tells the task of each record of an acknowledged batch. A failure is logged and the task
/// goes on (Kafka logs `commitRecord`'s exceptions too).
fn commit_records(env: &TaskEnv, task: &mut SourceTaskHandle, batch: &[SourceRecord]) {
    for record in batch {
        if let Err(e) = task.commit_record(record) {
            log::warn!("source task {} commit_record failed: {e}", env.name());
        }
    }
}

/// Applies the chain to every record of a batch, in place; returns the records it did not pass on.
fn transform_batch(
    transforms: &mut TransformChain,
    tolerance: Tolerance,
    records: &mut RVec<SourceRecord>,
) -> Vec<(usize, Exception)> {
    let mut exceptions = Vec::new();
    if transforms.is_empty() {
        return exceptions;
    }
    for (index, source_record) in records.iter_mut().enumerate() {
        let kept = (tolerance == Tolerance::All).then(|| source_record.record.clone());
        match transforms.apply(&mut source_record.record) {
            Ok(Verdict::Keep) => {}
            Ok(Verdict::Discard) => exceptions.push((index, Exception::Dropped)),
            Err(e) => {
                let alias = e.alias().unwrap_or("transforms").to_string();
                let failure = Failure::new(Stage::Transformation, alias, e);
                let has_record = kept.is_some();
                // A failed transformation may have left the record half changed: the report
                // shows the record as polled, or nothing.
                source_record.record = kept.unwrap_or_default();
                exceptions.push((
                    index,
                    Exception::Failed {
                        failure,
                        kept: has_record,
                    },
                ));
            }
        }
    }
    exceptions
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

    /// Takes batches from the poller and sends them until the task stops or fails; stores the
    /// acknowledged offsets every `offset.flush.interval.ms` meanwhile.
    fn send_loop(
        &mut self,
        control: &PollerControl,
        batches: Receiver<Polled>,
        spent: Sender<RVec<SourceRecord>>,
    ) -> Result<()> {
        let env = self.env;
        let flush_interval = env.worker.config.offset_flush_interval;
        let mut last_commit = Instant::now();
        loop {
            if env.control.stopping() {
                return Ok(());
            }
            if last_commit.elapsed() >= flush_interval {
                if self.commit_offsets()? {
                    control.commit_due.store(true, Ordering::Release);
                }
                last_commit = Instant::now();
            }
            if let Some(failure) = self.failure() {
                return Err(WorkerError::Cluster(failure));
            }
            if self.transactions.as_ref().is_some_and(Transactions::due) {
                self.commit_transaction()?;
                control.commit_due.store(true, Ordering::Release);
            }
            // Acknowledgements arrive through here (and while the local queue is full).
            self.producer.poll(Duration::ZERO);
            // An idempotent producer whose broker forgot its producer id (a broker that lost its
            // state) can never deliver again: fail loudly rather than stall with records queued.
            if let Some((code, reason)) = self.producer.client().fatal_error() {
                return Err(WorkerError::Cluster(format!(
                    "the producer hit a fatal error ({code:?}): {reason}; restart the task to continue from the stored offsets"
                )));
            }
            self.release_acknowledged(&spent);
            match batches.recv_timeout(BATCH_WAIT) {
                Ok(Ok(batch)) => {
                    if let Some(transactions) = &mut self.transactions {
                        if transactions.open_since.is_none() {
                            self.producer
                                .begin_transaction()
                                .map_err(|e| WorkerError::kafka("cannot begin a transaction", e))?;
                            transactions.open_since = Some(Instant::now());
                        }
                    }
                    let (id, records) = self.send_batch(batch)?;
                    if self.transactions.as_ref().is_some_and(Transactions::due) {
                        self.commit_transaction()?;
                        control.commit_due.store(true, Ordering::Release);
                    }
                    if self.wants_commit_record {
                        self.awaiting_ack.push_back((id, records));
                    } else {
                        // Freed by the poller; gone with it when it has ended.
                        let _ = spent.send(records);
                    }
                }
                Ok(Err(e)) => return Err(e),
                Err(RecvTimeoutError::Timeout) => {}
                // The poller ended by itself: the task is stopping.
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        }
    }

    /// Hands the batches waiting for `commit_record` that are now acknowledged to the poller.
    fn release_acknowledged(&mut self, spent: &Sender<RVec<SourceRecord>>) {
        if self.awaiting_ack.is_empty() {
            return;
        }
        let acknowledged_before = self
            .tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .first_unacknowledged();
        while self
            .awaiting_ack
            .front()
            .is_some_and(|(id, _)| *id < acknowledged_before)
        {
            let (_, records) = self.awaiting_ack.pop_front().expect("front exists");
            let _ = spent.send(records);
        }
    }

    /// Stores the acknowledged offsets once the dead letter queue holds the records skipped before
    /// them (an unacknowledged queue fails the task); true when the task should now be told
    /// through its `commit`.
    fn commit_offsets(&mut self) -> Result<bool> {
        self.errors.flush(DLQ_FLUSH_TIMEOUT)?;
        if self.transactions.is_some() {
            // Stored by the transactions, never from here.
            return Ok(false);
        }
        let offsets = self
            .tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_committable();
        let store = &self.env.worker.offsets;
        if offsets.is_empty() && !store.needs_flush() {
            return Ok(false);
        }
        store.put(
            &self.env.connector.name,
            offsets.into_iter().map(|(p, o)| (p, Some(o))),
        );
        let began = Instant::now();
        let flushed = store.flush();
        self.env
            .metrics
            .commit_seconds
            .observe(began.elapsed().as_secs_f64());
        self.env.metrics.committed(flushed.is_ok());
        self.env.status.warn(
            flushed
                .as_ref()
                .err()
                .map(|e| format!("source offsets cannot be stored, will retry: {e}")),
        );
        // After a failure the offsets stay in memory and go out with the next successful flush.
        Ok(flushed.is_ok())
    }

    /// Ends the open transaction of an exactly-once task: once every record of the batch is
    /// acknowledged (and the records it skipped are in the dead letter queue), its offsets join
    /// the transaction and it commits. Any failure aborts it and fails the task: the records
    /// and the offsets are then both discarded, and a restart polls them again.
    fn commit_transaction(&mut self) -> Result<()> {
        if let Some(transactions) = &mut self.transactions {
            transactions.open_since = None;
        }
        let began = Instant::now();
        let outcome = self.try_commit_transaction();
        self.env
            .metrics
            .commit_seconds
            .observe(began.elapsed().as_secs_f64());
        if outcome.is_err() {
            if let Err(e) = self.producer.abort_transaction(TRANSACTION_TIMEOUT) {
                log::warn!("source task {}: abort failed: {e}", self.env.name());
            }
        }
        self.env.metrics.committed(outcome.is_ok());
        outcome
    }

    /// Waits until every record sent so far is acknowledged, serving the acknowledgements as
    /// they come: `flush` would wait in steps of 100 ms for this thread to serve them.
    fn deliver_all(&self) -> Result<()> {
        let deadline = Instant::now() + TRANSACTION_TIMEOUT;
        while self.producer.in_flight_count() > 0 {
            if Instant::now() >= deadline {
                return Err(WorkerError::Cluster(format!(
                    "task {}: records not acknowledged within {TRANSACTION_TIMEOUT:?}",
                    self.env.name()
                )));
            }
            // Short: a poll does not always end with the first acknowledgement.
            self.producer.poll(Duration::from_millis(1));
        }
        Ok(())
    }

    /// At the end of the task: commits the open transaction (`commit`) or aborts it.
    fn end_open_transaction(&mut self, commit: bool) -> Result<()> {
        let open = self
            .transactions
            .as_ref()
            .is_some_and(|t| t.open_since.is_some());
        if !open {
            return Ok(());
        }
        if commit {
            return self.commit_transaction();
        }
        if let Some(transactions) = &mut self.transactions {
            transactions.open_since = None;
        }
        self.producer
            .abort_transaction(TRANSACTION_TIMEOUT)
            .map_err(|e| WorkerError::kafka("cannot abort the open transaction", e))
    }

    fn try_commit_transaction(&mut self) -> Result<()> {
        let topic = self
            .transactions
            .as_ref()
            .map(|t| t.offsets_topic.clone())
            .unwrap_or_default();
        let name = self.env.name();
        self.deliver_all()?;
        if let Some(failure) = self.failure() {
            return Err(WorkerError::Cluster(failure));
        }
        self.errors.flush(DLQ_FLUSH_TIMEOUT)?;
        let offsets = self
            .tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take_committable();
        for (partition, offset) in &offsets {
            let (key, value) =
                super::offsets::offset_record(&self.env.connector.name, partition, offset);
            let mut record: BaseRecord<'_, [u8], [u8], usize> =
                BaseRecord::with_opaque_to(&topic, OFFSETS_OPAQUE)
                    .key(key.as_bytes())
                    .payload(&value[..]);
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                        record = returned;
                        self.producer.poll(Duration::from_millis(10));
                    }
                    Err((e, _)) => {
                        return Err(WorkerError::kafka(
                            format!("task {name}: cannot send its offsets to topic {topic}"),
                            e,
                        ))
                    }
                }
            }
        }
        // The offsets acknowledged too: the commit would otherwise wait for this thread to
        // serve their acknowledgements.
        self.deliver_all()?;
        let r = self.producer.commit_transaction(TRANSACTION_TIMEOUT);
        r.map_err(|e| WorkerError::kafka(format!("task {name}: the transaction did not commit"), e))
    }

    /// Forgets the known topics every [`TOPIC_RECHECK`] (called once per batch, not per
    /// record), so that one that disappears (a broker that lost its data) is created again.
    fn expire_known_topics(&mut self) {
        if self.topics_checked_at.elapsed() >= TOPIC_RECHECK {
            self.known_topics.clear();
            self.last_topic.clear();
            self.topics_checked_at = Instant::now();
        }
    }

    /// Makes sure a topic exists before records go to it. A failed check does not stop the
    /// task: records wait in the producer meanwhile.
    fn ensure_topic(&mut self, topic: &str) {
        if !self.last_topic.is_empty() && self.last_topic == topic {
            return;
        }
        if self.known_topics.contains(topic) {
            self.last_topic.clear();
            self.last_topic.push_str(topic);
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
        self.last_topic.clear();
        self.last_topic.push_str(topic);
    }

    /// Sends a batch and gives its id and records back (to be freed on the poller thread). The
    /// last offset of each source partition is moved out of them into the tracker (copied,
    /// for a task that will see the records again in `commit_record`).
    fn send_batch(&mut self, batch: PolledBatch) -> Result<(u64, RVec<SourceRecord>)> {
        self.expire_known_topics();
        let PolledBatch {
            mut records,
            exceptions,
        } = batch;
        let batch_id = self
            .tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .begin();
        // The index of each source partition's last record, in order of first appearance.
        let mut last_of_partition: Vec<usize> = Vec::with_capacity(1);
        let mut exceptions = exceptions.into_iter().peekable();
        let mut sent = 0usize;
        for index in 0..records.len() {
            note_last_of_partition(&mut last_of_partition, &records, index);
            let source_record = &records[index];
            let exception = exceptions
                .next_if(|(at, _)| *at == index)
                .map(|(_, exception)| exception);
            // The failure, and whether the batch holds the record to report with it.
            let failed = match exception {
                Some(Exception::Dropped) => None,
                Some(Exception::Failed { failure, kept }) => Some((failure, kept)),
                None => match self.send(&source_record.record, batch_id)? {
                    Ok(()) => {
                        sent += 1;
                        None
                    }
                    Err(failure) => Some((failure, true)),
                },
            };
            if let Some((failure, kept)) = failed {
                let origin = Origin::Source {
                    record: kept.then_some(&source_record.record),
                    partition: &source_record.source_partition,
                    offset: &source_record.source_offset,
                };
                self.errors.handle(failure, origin)?;
            }
        }
        let offsets = last_of_partition
            .into_iter()
            .map(|index| {
                let last = &mut records[index];
                if self.wants_commit_record {
                    (last.source_partition.clone(), last.source_offset.clone())
                } else {
                    (
                        std::mem::take(&mut last.source_partition),
                        std::mem::take(&mut last.source_offset),
                    )
                }
            })
            .collect();
        self.tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seal(batch_id, sent, offsets);
        Ok((batch_id, records))
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
                        return Err(WorkerError::Cluster(failure));
                    }
                }
                Err((e, _)) => {
                    return Err(WorkerError::kafka(
                        format!("cannot send to topic {topic}"),
                        e,
                    ))
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

    fn record_of(partition: &SourceMap, n: i64, value: &str) -> SourceRecord {
        SourceRecord::new(
            partition.clone(),
            offset(n),
            "topic-a",
            None,
            kconnect_plugin_api::Value::from(value),
        )
    }

    #[test]
    fn the_last_record_of_each_partition_is_found() {
        let a = SourceMap::new().with("f", "a").shared();
        let b = SourceMap::new().with("f", "b");
        let batch: Vec<SourceRecord> = [(&a, 1), (&b, 2), (&a, 3), (&a, 4), (&b, 5)]
            .into_iter()
            .map(|(p, n)| record_of(p, n, "x"))
            .collect();
        let mut last = Vec::new();
        for index in 0..batch.len() {
            note_last_of_partition(&mut last, &batch, index);
        }
        assert_eq!(last, vec![3, 4]);
    }

    fn chain(config: &[(&str, &str)]) -> TransformChain {
        let config = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TransformChain::from_connector_config(&config, &kconnect_transforms::BuiltinsOnly)
            .expect("a valid chain")
    }

    #[test]
    fn a_batch_is_transformed_in_place_with_its_exceptions_noted() {
        let partition = SourceMap::new().with("f", "a");
        let mut records: RVec<SourceRecord> = ["keep", "drop", "keep"]
            .into_iter()
            .enumerate()
            .map(|(n, value)| record_of(&partition, n as i64, value))
            .collect();
        records[1].record.topic = "topic-b".into();
        let mut transforms = chain(&[
            ("transforms", "route,skip"),
            (
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.route.regex", "topic-(.*)"),
            ("transforms.route.replacement", "routed-$1"),
            (
                "transforms.skip.type",
                "org.apache.kafka.connect.transforms.Filter",
            ),
            ("transforms.skip.predicate", "is-b"),
            ("predicates", "is-b"),
            (
                "predicates.is-b.type",
                "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            ),
            ("predicates.is-b.pattern", "routed-b"),
        ]);
        let exceptions = transform_batch(&mut transforms, Tolerance::None, &mut records);
        assert_eq!(exceptions.len(), 1);
        assert!(matches!(exceptions[0], (1, Exception::Dropped)));
        assert_eq!(records[0].record.topic.as_str(), "routed-a");
        assert_eq!(records[2].record.topic.as_str(), "routed-a");
        // The offsets stay with their records, whatever the chain did.
        assert_eq!(records[2].source_offset, offset(2));
    }

    #[test]
    fn a_failed_transformation_keeps_the_record_only_when_errors_are_tolerated() {
        let partition = SourceMap::new().with("f", "a");
        let config = [
            ("transforms", "insert"),
            (
                "transforms.insert.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.insert.static.field", "origin"),
            ("transforms.insert.static.value", "bench"),
        ];
        for (tolerance, kept) in [(Tolerance::None, false), (Tolerance::All, true)] {
            // A string value has no fields to insert into: InsertField fails.
            let mut records: RVec<SourceRecord> =
                std::iter::once(record_of(&partition, 1, "text")).collect();
            let exceptions = transform_batch(&mut chain(&config), tolerance, &mut records);
            match exceptions.as_slice() {
                [(0, Exception::Failed { failure, kept: k })] => {
                    assert_eq!(*k, kept);
                    assert_eq!(failure.class, "insert");
                }
                _ => panic!("expected one failure"),
            }
            assert_eq!(records[0].record.value.is_null(), !kept);
        }
    }

    #[test]
    fn batches_count_as_acknowledged_in_order_and_never_past_a_failure() {
        let partition = SourceMap::new().with("f", "a");
        let mut t = OffsetTracker::default();
        assert_eq!(t.first_unacknowledged(), 0);
        let b0 = t.begin();
        let b1 = t.begin();
        t.seal(b0, 1, vec![(partition.clone(), offset(1))]);
        t.seal(b1, 1, vec![(partition.clone(), offset(2))]);
        t.acked(b1, None);
        assert_eq!(t.first_unacknowledged(), b0, "batch 1 waits for batch 0");
        t.acked(b0, None);
        assert_eq!(t.first_unacknowledged(), 2);
        let b2 = t.begin();
        t.seal(b2, 1, vec![(partition, offset(3))]);
        t.acked(b2, Some("boom".into()));
        assert_eq!(
            t.first_unacknowledged(),
            b2,
            "a failed batch is never acknowledged"
        );
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
