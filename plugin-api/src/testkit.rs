//! Run a connector's tasks in-process, without a worker or a broker.
//!
//! The harnesses call the author's traits directly, the way the worker calls them through the ABI,
//! so a panic in the connector reaches the test as a panic (with its backtrace) instead of an
//! [`ErrorKind::Panic`](crate::ErrorKind::Panic) error.
//!
//! - [`SourceHarness`] validates a config, starts the connector, asks it for task configs and
//!   starts one task with an in-memory offset store ([`OffsetStore`]). Records returned by
//!   [`SourceHarness::poll_until`] count as sent to Kafka; [`SourceHarness::commit`] stores the last
//!   offset of each source partition among them, and [`SourceHarness::restart`] starts a fresh task
//!   that reads those offsets back, as a task restarted by the worker does.
//! - [`SinkHarness`] does the same for sink tasks: [`SinkHarness::put`] opens partitions the task
//!   has not seen yet and hands it a batch, [`SinkHarness::flush`] runs `pre_commit` with the
//!   offsets consumed so far.
//! - [`sink_record`], [`sink_record_with_schema`] and [`string_sink_records`] build the records a
//!   sink task receives.
//!
//! Invariants: a harness owns exactly one running task between construction and
//! [`SourceHarness::stop`] / [`SinkHarness::stop`] (or drop, which stops quietly); offsets reach
//! the [`OffsetStore`] only through `commit`, never through `poll`.
//!
//! # A source task, stopped and resumed
//!
//! ```
//! use kconnect_plugin_api::testkit::{config_from, SourceHarness};
//! use kconnect_plugin_api::*;
//! use std::time::Duration;
//!
//! /// Emits 0, 1, 2… and resumes after the last committed number.
//! #[derive(Default)]
//! struct Numbers { config: Config }
//! impl PluginClass for Numbers { const CLASS: &'static str = "example.Numbers"; }
//! impl Connector for Numbers {
//!     fn config_def(&self) -> ConfigDef {
//!         ConfigDef::new().define(ConfigKey::required("topic", ConfigType::String, "Topic."))
//!     }
//!     fn start(&mut self, config: Config, _: ConnectorContext) -> ConnectResult<()> {
//!         self.config = config;
//!         Ok(())
//!     }
//!     fn task_configs(&mut self, _max: usize) -> ConnectResult<Vec<Config>> {
//!         Ok(vec![self.config.clone()])
//!     }
//!     fn stop(&mut self) -> ConnectResult<()> { Ok(()) }
//! }
//! impl SourceConnector for Numbers { type Task = NumbersTask; }
//!
//! #[derive(Default)]
//! struct NumbersTask { topic: String, next: i64 }
//! impl SourceTask for NumbersTask {
//!     fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()> {
//!         self.topic = config["topic"].clone();
//!         let stored = context.offset(&SourceMap::new().with("source", "numbers"));
//!         self.next = stored.and_then(|o| o.get("n")?.as_i64()).map_or(0, |n| n + 1);
//!         Ok(())
//!     }
//!     fn poll(&mut self, _timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
//!         let n = self.next;
//!         self.next += 1;
//!         Ok(vec![SourceRecord::new(
//!             SourceMap::new().with("source", "numbers"),
//!             SourceMap::new().with("n", n),
//!             &self.topic,
//!             None,
//!             Value::Int64(n),
//!         )])
//!     }
//!     fn stop(&mut self) -> ConnectResult<()> { Ok(()) }
//! }
//!
//! # fn main() -> ConnectResult<()> {
//! let mut harness = SourceHarness::<Numbers>::new(config_from([("topic", "numbers")]))?;
//! let first = harness.poll_until(3, Duration::from_secs(5))?;
//! assert_eq!(first.len(), 3);
//! assert_eq!(first[2].record.value, Value::Int64(2));
//!
//! harness.commit()?;
//! harness.restart()?;
//! let resumed = harness.poll_until(1, Duration::from_secs(5))?;
//! assert_eq!(resumed[0].record.value, Value::Int64(3));
//! harness.stop()
//! # }
//! ```
//!
//! # A sink task
//!
//! ```
//! use kconnect_plugin_api::testkit::{config_from, string_sink_records, SinkHarness};
//! use kconnect_plugin_api::*;
//! use std::sync::{Arc, Mutex};
//!
//! /// Collects values in memory; "durable" once flushed.
//! #[derive(Default)]
//! struct Collect { config: Config }
//! impl PluginClass for Collect { const CLASS: &'static str = "example.Collect"; }
//! impl Connector for Collect {
//!     fn config_def(&self) -> ConfigDef { ConfigDef::new() }
//!     fn start(&mut self, config: Config, _: ConnectorContext) -> ConnectResult<()> {
//!         self.config = config;
//!         Ok(())
//!     }
//!     fn task_configs(&mut self, _max: usize) -> ConnectResult<Vec<Config>> {
//!         Ok(vec![self.config.clone()])
//!     }
//!     fn stop(&mut self) -> ConnectResult<()> { Ok(()) }
//! }
//! impl SinkConnector for Collect { type Task = CollectTask; }
//!
//! #[derive(Default)]
//! struct CollectTask { buffered: Vec<String>, flushed: Vec<String> }
//! impl SinkTask for CollectTask {
//!     fn start(&mut self, _: Config, _: TaskContext) -> ConnectResult<()> { Ok(()) }
//!     fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
//!         self.buffered.extend(records.iter().map(|r| r.record.value.to_string()));
//!         Ok(())
//!     }
//!     fn flush(&mut self, _: &[PartitionOffset]) -> ConnectResult<()> {
//!         self.flushed.append(&mut self.buffered);
//!         Ok(())
//!     }
//!     fn stop(&mut self) -> ConnectResult<()> { Ok(()) }
//! }
//!
//! # fn main() -> ConnectResult<()> {
//! let mut harness = SinkHarness::<Collect>::new(config_from([("topics", "greetings")]))?;
//! harness.put(&string_sink_records("greetings", 0, 40, &["hello", "world"]))?;
//! assert!(harness.task().flushed.is_empty());
//!
//! let committed = harness.flush()?;
//! assert_eq!(committed[0].offset, 42, "the next offset to consume");
//! assert_eq!(harness.task().flushed, ["hello", "world"]);
//! harness.stop()
//! # }
//! ```

use crate::config::Config;
use crate::connector::{SinkConnector, SinkTask, SourceConnector, SourceTask};
use crate::context::{
    ConnectorContext, FfiConnectorContext, FfiConnectorContext_TO, FfiTaskContext,
    FfiTaskContext_TO, TaskContext,
};
use crate::data::{Schema, SchemaRef, SchemaType, Value};
use crate::error::{ConnectError, ConnectResult};
use crate::record::{
    ConnectRecord, PartitionOffset, SinkRecord, SourceMap, SourceRecord, TimestampType,
    TopicPartition,
};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RVec};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The config key the harnesses read to decide how many task configs to ask for, as the worker
/// does.
pub const TASKS_MAX_CONFIG: &str = "tasks.max";

/// The timeout each `poll` is given by [`SourceHarness::poll_until`] (capped by what is left of
/// the overall timeout), matching the worker's default.
pub const POLL_TIMEOUT: Duration = Duration::from_millis(100);

/// Builds a [`Config`] from pairs.
///
/// ```
/// let config = kconnect_plugin_api::testkit::config_from([("topic", "t"), ("tasks.max", "2")]);
/// assert_eq!(config["tasks.max"], "2");
/// ```
pub fn config_from<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Config {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Source offsets kept in memory, shared by every task a harness starts: what the worker's offset
/// store would hold. Cloning shares the same store.
#[derive(Clone, Debug, Default)]
pub struct OffsetStore {
    // SourceMap holds floats, so it is neither Hash nor Ord: a short list searched linearly.
    entries: Arc<Mutex<Vec<(SourceMap, SourceMap)>>>,
}

impl OffsetStore {
    pub fn new() -> OffsetStore {
        OffsetStore::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(SourceMap, SourceMap)>> {
        // A panic elsewhere in a test must not hide the offsets from the assertions that follow.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores the offset of a source partition, replacing the previous one.
    pub fn insert(&self, partition: SourceMap, offset: SourceMap) {
        let mut entries = self.lock();
        match entries.iter_mut().find(|(p, _)| *p == partition) {
            Some(entry) => entry.1 = offset,
            None => entries.push((partition, offset)),
        }
    }

    /// The stored offset of a source partition.
    pub fn get(&self, partition: &SourceMap) -> Option<SourceMap> {
        self.lock()
            .iter()
            .find(|(p, _)| p == partition)
            .map(|(_, o)| o.clone())
    }

    /// Every stored `(partition, offset)`, in the order partitions were first stored.
    pub fn entries(&self) -> Vec<(SourceMap, SourceMap)> {
        self.lock().clone()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Forgets every offset.
    pub fn clear(&self) {
        self.lock().clear()
    }
}

/// The task side of the worker, backed by an [`OffsetStore`]; counts commit requests.
#[derive(Clone)]
struct HarnessTaskContext {
    offsets: OffsetStore,
    commit_requests: Arc<AtomicUsize>,
}

impl FfiTaskContext for HarnessTaskContext {
    fn offsets(&self, partitions: RVec<SourceMap>) -> RVec<ROption<SourceMap>> {
        partitions
            .iter()
            .map(|p| self.offsets.get(p).into())
            .collect()
    }

    fn request_commit(&self) {
        self.commit_requests.fetch_add(1, Ordering::Relaxed);
    }
}

impl HarnessTaskContext {
    fn to_context(&self) -> TaskContext {
        TaskContext::new(FfiTaskContext_TO::from_value(self.clone(), TD_Opaque))
    }
}

/// The connector side of the worker: remembers what the connector asked for.
#[derive(Clone, Default)]
struct HarnessConnectorContext {
    reconfigurations: Arc<AtomicUsize>,
    errors: Arc<Mutex<Vec<ConnectError>>>,
}

impl FfiConnectorContext for HarnessConnectorContext {
    fn request_task_reconfiguration(&self) {
        self.reconfigurations.fetch_add(1, Ordering::Relaxed);
    }

    fn raise_error(&self, error: ConnectError) {
        self.errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(error);
    }
}

impl HarnessConnectorContext {
    fn to_context(&self) -> ConnectorContext {
        ConnectorContext::new(FfiConnectorContext_TO::from_value(self.clone(), TD_Opaque))
    }

    fn raised_errors(&self) -> Vec<ConnectError> {
        self.errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Validates `config` with the connector, as the worker does before starting it, and fails with
/// every problem found, named by key.
fn validate_connector<C: crate::connector::Connector>(
    connector: &C,
    config: &Config,
) -> ConnectResult<()> {
    let problems: Vec<String> = connector
        .validate(config)
        .into_iter()
        .flat_map(|value| {
            let name = value.name;
            value
                .errors
                .into_iter()
                .map(move |error| format!("{name}: {error}"))
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConnectError::config(format!(
            "invalid connector config: {}",
            problems.join("; ")
        )))
    }
}

/// How many task configs to ask for: the config's `tasks.max`, 1 when unset.
fn tasks_max(config: &Config) -> ConnectResult<usize> {
    match config.get(TASKS_MAX_CONFIG) {
        None => Ok(1),
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(ConnectError::config(format!(
                "Invalid value {raw} for configuration {TASKS_MAX_CONFIG}: expected a whole number of at least 1"
            ))),
        },
    }
}

/// Validates and starts a connector, then asks it for task configs; stops it again on failure.
fn start_connector<C: crate::connector::Connector>(
    config: Config,
    context: &HarnessConnectorContext,
) -> ConnectResult<(C, Vec<Config>)> {
    let max_tasks = tasks_max(&config)?;
    let mut connector = C::default();
    validate_connector(&connector, &config)?;
    let started = connector
        .start(config, context.to_context())
        .and_then(|()| connector.task_configs(max_tasks));
    match started {
        Ok(task_configs) if task_configs.len() > max_tasks => {
            let _ = connector.stop();
            Err(ConnectError::failed(format!(
                "connector returned {} task configs for tasks.max = {max_tasks}",
                task_configs.len()
            )))
        }
        Ok(task_configs) => Ok((connector, task_configs)),
        Err(error) => {
            // The worker stops a connector also after a failed start.
            let _ = connector.stop();
            Err(error)
        }
    }
}

fn task_config(task_configs: &[Config], task_index: usize) -> ConnectResult<Config> {
    task_configs.get(task_index).cloned().ok_or_else(|| {
        ConnectError::failed(format!(
            "the connector returned {} task configs, so there is no task {task_index}",
            task_configs.len()
        ))
    })
}

/// Runs one task of a source connector in-process. See the [module docs](self) for an example.
pub struct SourceHarness<C: SourceConnector> {
    connector: C,
    connector_context: HarnessConnectorContext,
    task_configs: Vec<Config>,
    task_index: usize,
    task: C::Task,
    /// False once the task is stopped (or failed to restart).
    running: bool,
    /// False once the connector is stopped.
    connector_running: bool,
    context: HarnessTaskContext,
    /// Polled records not yet handed out by `poll_until`.
    backlog: VecDeque<SourceRecord>,
    /// Handed out since the last commit: what the worker would have sent and not yet committed.
    uncommitted: Vec<SourceRecord>,
}

impl<C: SourceConnector> SourceHarness<C> {
    /// Validates `config`, starts the connector and starts task 0 with an empty offset store.
    pub fn new(config: Config) -> ConnectResult<SourceHarness<C>> {
        SourceHarness::with_offsets(config, 0, OffsetStore::new())
    }

    /// Like [`SourceHarness::new`] but runs task `task_index` (the config's `tasks.max` must allow
    /// that many tasks).
    pub fn for_task(config: Config, task_index: usize) -> ConnectResult<SourceHarness<C>> {
        SourceHarness::with_offsets(config, task_index, OffsetStore::new())
    }

    /// Runs task `task_index` against an existing offset store, e.g. one filled with
    /// [`OffsetStore::insert`] or shared with another harness.
    pub fn with_offsets(
        config: Config,
        task_index: usize,
        offsets: OffsetStore,
    ) -> ConnectResult<SourceHarness<C>> {
        let connector_context = HarnessConnectorContext::default();
        let (mut connector, task_configs) = start_connector::<C>(config, &connector_context)?;
        let task_config = match task_config(&task_configs, task_index) {
            Ok(task_config) => task_config,
            Err(error) => {
                let _ = connector.stop();
                return Err(error);
            }
        };
        let context = HarnessTaskContext {
            offsets,
            commit_requests: Arc::new(AtomicUsize::new(0)),
        };
        let mut task = C::Task::default();
        if let Err(error) = task.start(task_config, context.to_context()) {
            let _ = task.stop();
            let _ = connector.stop();
            return Err(error);
        }
        Ok(SourceHarness {
            connector,
            connector_context,
            task_configs,
            task_index,
            task,
            running: true,
            connector_running: true,
            context,
            backlog: VecDeque::new(),
            uncommitted: Vec::new(),
        })
    }

    /// One `poll` of the task with `timeout`. Records still held back by an earlier
    /// [`SourceHarness::poll_until`] come first, without calling the task.
    pub fn poll(&mut self, timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
        let mut records: Vec<SourceRecord> = self.backlog.drain(..).collect();
        if records.is_empty() {
            self.ensure_running("poll")?;
            records = self.task.poll(timeout)?;
        }
        self.uncommitted.extend(records.iter().cloned());
        Ok(records)
    }

    /// Polls until `count` records arrived or `timeout` passed, and returns at most `count`
    /// records: fewer only when the time ran out. Records a poll returned beyond `count` are kept
    /// for the next call, so none is lost or reordered.
    pub fn poll_until(
        &mut self,
        count: usize,
        timeout: Duration,
    ) -> ConnectResult<Vec<SourceRecord>> {
        let deadline = Instant::now() + timeout;
        while self.backlog.len() < count {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            self.ensure_running("poll")?;
            let batch = self.task.poll(POLL_TIMEOUT.min(deadline - now))?;
            self.backlog.extend(batch);
        }
        let take = count.min(self.backlog.len());
        let records: Vec<SourceRecord> = self.backlog.drain(..take).collect();
        self.uncommitted.extend(records.iter().cloned());
        Ok(records)
    }

    /// Acknowledges every record handed out since the last commit, as Kafka would: calls
    /// `commit_record` for each (when the task wants it), stores the last offset of each source
    /// partition, then calls the task's `commit`.
    pub fn commit(&mut self) -> ConnectResult<()> {
        self.ensure_running("commit")?;
        let records = std::mem::take(&mut self.uncommitted);
        if <C::Task as SourceTask>::WANTS_COMMIT_RECORD {
            for record in &records {
                self.task.commit_record(record)?;
            }
        }
        for record in records {
            self.context
                .offsets
                .insert(record.source_partition, record.source_offset);
        }
        self.task.commit()
    }

    /// Stops the task (uncommitted records are forgotten, as after a crash of the worker) and
    /// starts a new one with the same task config, which reads the committed offsets.
    pub fn restart(&mut self) -> ConnectResult<()> {
        if self.running {
            self.running = false;
            self.task.stop()?;
        }
        self.backlog.clear();
        self.uncommitted.clear();
        let config = task_config(&self.task_configs, self.task_index)?;
        self.task = C::Task::default();
        self.task.start(config, self.context.to_context())?;
        self.running = true;
        Ok(())
    }

    /// Stops the task, then the connector.
    pub fn stop(mut self) -> ConnectResult<()> {
        self.stop_all()
    }

    fn stop_all(&mut self) -> ConnectResult<()> {
        let task = if std::mem::take(&mut self.running) {
            self.task.stop()
        } else {
            Ok(())
        };
        let connector = if std::mem::take(&mut self.connector_running) {
            self.connector.stop()
        } else {
            Ok(())
        };
        task.and(connector)
    }

    fn ensure_running(&self, what: &str) -> ConnectResult<()> {
        if self.running {
            Ok(())
        } else {
            Err(ConnectError::failed(format!(
                "cannot {what}: the task failed to restart"
            )))
        }
    }

    /// The task configs the connector returned.
    pub fn task_configs(&self) -> &[Config] {
        &self.task_configs
    }

    /// The running task, to inspect its state.
    pub fn task(&mut self) -> &mut C::Task {
        &mut self.task
    }

    /// The started connector.
    pub fn connector(&mut self) -> &mut C {
        &mut self.connector
    }

    /// The offset store the tasks read from.
    pub fn offsets(&self) -> &OffsetStore {
        &self.context.offsets
    }

    /// How often the task called [`TaskContext::request_commit`].
    pub fn commit_requests(&self) -> usize {
        self.context.commit_requests.load(Ordering::Relaxed)
    }

    /// How often the connector called [`ConnectorContext::request_task_reconfiguration`].
    pub fn reconfiguration_requests(&self) -> usize {
        self.connector_context
            .reconfigurations
            .load(Ordering::Relaxed)
    }

    /// Errors the connector raised with [`ConnectorContext::raise_error`].
    pub fn raised_errors(&self) -> Vec<ConnectError> {
        self.connector_context.raised_errors()
    }
}

impl<C: SourceConnector> Drop for SourceHarness<C> {
    fn drop(&mut self) {
        // A test that fails half-way still stops its task; the error of a stop there is moot.
        let _ = self.stop_all();
    }
}

/// Runs one task of a sink connector in-process. See the [module docs](self) for an example.
pub struct SinkHarness<C: SinkConnector> {
    connector: C,
    connector_context: HarnessConnectorContext,
    task_configs: Vec<Config>,
    task: C::Task,
    running: bool,
    connector_running: bool,
    context: HarnessTaskContext,
    /// Partitions opened on the task, with the next offset to consume (the last put + 1).
    consumed: BTreeMap<TopicPartition, Option<i64>>,
    /// What the last `flush` returned as committable, per partition.
    committed: BTreeMap<TopicPartition, i64>,
}

impl<C: SinkConnector> SinkHarness<C> {
    /// Validates `config`, starts the connector and starts task 0.
    pub fn new(config: Config) -> ConnectResult<SinkHarness<C>> {
        SinkHarness::for_task(config, 0)
    }

    /// Like [`SinkHarness::new`] but runs task `task_index`.
    pub fn for_task(config: Config, task_index: usize) -> ConnectResult<SinkHarness<C>> {
        let connector_context = HarnessConnectorContext::default();
        let (mut connector, task_configs) = start_connector::<C>(config, &connector_context)?;
        let task_config = match task_config(&task_configs, task_index) {
            Ok(task_config) => task_config,
            Err(error) => {
                let _ = connector.stop();
                return Err(error);
            }
        };
        let context = HarnessTaskContext {
            offsets: OffsetStore::new(),
            commit_requests: Arc::new(AtomicUsize::new(0)),
        };
        let mut task = C::Task::default();
        if let Err(error) = task.start(task_config, context.to_context()) {
            let _ = task.stop();
            let _ = connector.stop();
            return Err(error);
        }
        Ok(SinkHarness {
            connector,
            connector_context,
            task_configs,
            task,
            running: true,
            connector_running: true,
            context,
            consumed: BTreeMap::new(),
            committed: BTreeMap::new(),
        })
    }

    /// Assigns partitions to the task (calls `open` with those it does not have yet).
    pub fn open(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
        let new: Vec<TopicPartition> = partitions
            .iter()
            .filter(|p| !self.consumed.contains_key(p))
            .cloned()
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        self.task.open(&new)?;
        for partition in new {
            self.consumed.insert(partition, None);
        }
        Ok(())
    }

    /// Hands a batch to the task, first opening the partitions of its records that are not
    /// assigned yet.
    pub fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        let mut partitions: Vec<TopicPartition> = records.iter().map(partition_of).collect();
        partitions.sort();
        partitions.dedup();
        self.open(&partitions)?;
        self.task.put(records)?;
        for record in records {
            let next = record.kafka_offset + 1;
            let slot = self.consumed.entry(partition_of(record)).or_insert(None);
            *slot = Some(slot.map_or(next, |current| current.max(next)));
        }
        Ok(())
    }

    /// Calls `pre_commit` with the next offset to consume of every partition that received
    /// records, as the worker does before committing, and returns what the task says is safe to
    /// commit (also kept for [`SinkHarness::committed`]).
    pub fn flush(&mut self) -> ConnectResult<Vec<PartitionOffset>> {
        let offsets: Vec<PartitionOffset> = self
            .consumed
            .iter()
            .filter_map(|(partition, next)| {
                next.map(|offset| PartitionOffset {
                    partition: partition.clone(),
                    offset,
                })
            })
            .collect();
        let committable = self.task.pre_commit(offsets)?;
        for offset in &committable {
            self.committed
                .insert(offset.partition.clone(), offset.offset);
        }
        Ok(committable)
    }

    /// Takes partitions away from the task (calls `close`); their offsets are forgotten.
    pub fn close(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
        self.task.close(partitions)?;
        for partition in partitions {
            self.consumed.remove(partition);
        }
        Ok(())
    }

    /// The committed offset (next to consume) of a partition after the last [`SinkHarness::flush`].
    pub fn committed(&self, partition: &TopicPartition) -> Option<i64> {
        self.committed.get(partition).copied()
    }

    /// Closes every open partition, stops the task, then the connector.
    pub fn stop(mut self) -> ConnectResult<()> {
        self.stop_all()
    }

    fn stop_all(&mut self) -> ConnectResult<()> {
        let task = if std::mem::take(&mut self.running) {
            let open: Vec<TopicPartition> = self.consumed.keys().cloned().collect();
            self.consumed.clear();
            let close = if open.is_empty() {
                Ok(())
            } else {
                self.task.close(&open)
            };
            close.and(self.task.stop())
        } else {
            Ok(())
        };
        let connector = if std::mem::take(&mut self.connector_running) {
            self.connector.stop()
        } else {
            Ok(())
        };
        task.and(connector)
    }

    /// The task configs the connector returned.
    pub fn task_configs(&self) -> &[Config] {
        &self.task_configs
    }

    /// The running task, to inspect its state.
    pub fn task(&mut self) -> &mut C::Task {
        &mut self.task
    }

    /// The started connector.
    pub fn connector(&mut self) -> &mut C {
        &mut self.connector
    }

    /// How often the task called [`TaskContext::request_commit`].
    pub fn commit_requests(&self) -> usize {
        self.context.commit_requests.load(Ordering::Relaxed)
    }

    /// How often the connector called [`ConnectorContext::request_task_reconfiguration`].
    pub fn reconfiguration_requests(&self) -> usize {
        self.connector_context
            .reconfigurations
            .load(Ordering::Relaxed)
    }

    /// Errors the connector raised with [`ConnectorContext::raise_error`].
    pub fn raised_errors(&self) -> Vec<ConnectError> {
        self.connector_context.raised_errors()
    }
}

impl<C: SinkConnector> Drop for SinkHarness<C> {
    fn drop(&mut self) {
        let _ = self.stop_all();
    }
}

fn partition_of(record: &SinkRecord) -> TopicPartition {
    TopicPartition::new(&record.record.topic, record.kafka_partition())
}

/// A schemaless sink record (no key, no timestamp), as a sink task receives it from
/// `topic`/`partition` at `offset`.
///
/// ```
/// use kconnect_plugin_api::testkit::sink_record;
/// let record = sink_record("orders", 2, 17, "hello");
/// assert_eq!(record.kafka_partition(), 2);
/// assert_eq!(record.record.value.as_str(), Some("hello"));
/// ```
pub fn sink_record(
    topic: &str,
    partition: i32,
    offset: i64,
    value: impl Into<Value>,
) -> SinkRecord {
    SinkRecord {
        kafka_offset: offset,
        timestamp_type: TimestampType::NoTimestampType,
        record: ConnectRecord {
            kafka_partition: ROption::RSome(partition),
            ..ConnectRecord::new(topic, None, value.into())
        },
    }
}

/// A sink record whose value has a schema.
pub fn sink_record_with_schema(
    topic: &str,
    partition: i32,
    offset: i64,
    schema: SchemaRef,
    value: Value,
) -> SinkRecord {
    let mut record = sink_record(topic, partition, offset, value);
    record.record.value_schema = ROption::RSome(schema);
    record
}

/// Sink records with STRING values (one shared STRING schema) at consecutive offsets from
/// `first_offset`.
pub fn string_sink_records(
    topic: &str,
    partition: i32,
    first_offset: i64,
    values: &[&str],
) -> Vec<SinkRecord> {
    let schema = SchemaRef::new(Schema::primitive(SchemaType::String));
    (first_offset..)
        .zip(values)
        .map(|(offset, value)| {
            sink_record_with_schema(topic, partition, offset, schema.clone(), (*value).into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigDef, ConfigKey, ConfigType};
    use crate::connector::{Connector, PluginClass};

    /// Hands out one task config per task with its `task.id`; each task emits `id.n` strings and
    /// resumes after its stored offset. `fail.start` makes the task's start fail.
    #[derive(Default)]
    struct Tagged {
        config: Config,
    }

    impl PluginClass for Tagged {
        const CLASS: &'static str = "test.Tagged";
    }

    impl Connector for Tagged {
        fn config_def(&self) -> ConfigDef {
            ConfigDef::new()
                .define(ConfigKey::required("topic", ConfigType::String, "topic"))
                .define(ConfigKey::optional(
                    "per.poll",
                    ConfigType::Int,
                    "2",
                    "records per poll",
                ))
        }

        fn start(&mut self, config: Config, context: ConnectorContext) -> ConnectResult<()> {
            if config.contains_key("raise") {
                context.raise_error(ConnectError::failed("raised"));
                context.request_task_reconfiguration();
            }
            self.config = config;
            Ok(())
        }

        fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
            Ok((0..max_tasks)
                .map(|id| {
                    let mut config = self.config.clone();
                    config.insert("task.id".into(), id.to_string());
                    config
                })
                .collect())
        }

        fn stop(&mut self) -> ConnectResult<()> {
            Ok(())
        }
    }

    impl SourceConnector for Tagged {
        type Task = TaggedTask;
    }

    #[derive(Default)]
    struct TaggedTask {
        id: String,
        topic: String,
        per_poll: i64,
        next: i64,
        commits: usize,
        acknowledged: Vec<i64>,
        context: Option<TaskContext>,
    }

    impl TaggedTask {
        fn partition(&self) -> SourceMap {
            SourceMap::new().with("task", self.id.as_str())
        }
    }

    impl SourceTask for TaggedTask {
        const WANTS_COMMIT_RECORD: bool = true;

        fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()> {
            if config.contains_key("fail.start") {
                return Err(ConnectError::failed("told to fail"));
            }
            self.id = config["task.id"].clone();
            self.topic = config["topic"].clone();
            self.per_poll = config.get("per.poll").map_or(2, |v| v.parse().unwrap_or(2));
            self.next = context
                .offset(&self.partition())
                .and_then(|o| o.get("n")?.as_i64())
                .map_or(0, |n| n + 1);
            self.context = Some(context);
            Ok(())
        }

        fn poll(&mut self, _timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
            if let Some(context) = &self.context {
                context.request_commit();
            }
            let records = (0..self.per_poll)
                .map(|_| {
                    let n = self.next;
                    self.next += 1;
                    SourceRecord::new(
                        self.partition(),
                        SourceMap::new().with("n", n),
                        &self.topic,
                        None,
                        format!("{}.{n}", self.id).into(),
                    )
                })
                .collect();
            Ok(records)
        }

        fn commit(&mut self) -> ConnectResult<()> {
            self.commits += 1;
            Ok(())
        }

        fn commit_record(&mut self, record: &SourceRecord) -> ConnectResult<()> {
            let n = record.source_offset.get("n").and_then(Value::as_i64);
            self.acknowledged.push(n.unwrap_or(-1));
            Ok(())
        }

        fn stop(&mut self) -> ConnectResult<()> {
            Ok(())
        }
    }

    fn values(records: &[SourceRecord]) -> Vec<String> {
        records.iter().map(|r| r.record.value.to_string()).collect()
    }

    #[test]
    fn poll_until_returns_exactly_count_and_keeps_the_surplus_in_order() {
        let config = config_from([("topic", "t"), ("per.poll", "3")]);
        let mut harness = SourceHarness::<Tagged>::new(config).unwrap();
        let first = harness.poll_until(4, Duration::from_secs(5)).unwrap();
        assert_eq!(values(&first), ["0.0", "0.1", "0.2", "0.3"]);
        let rest = harness.poll(Duration::ZERO).unwrap();
        assert_eq!(values(&rest), ["0.4", "0.5"], "the surplus comes first");
        assert_eq!(harness.commit_requests(), 2);
    }

    #[test]
    fn restart_resumes_after_the_committed_offset_only() {
        let mut harness = SourceHarness::<Tagged>::new(config_from([("topic", "t")])).unwrap();
        harness.poll_until(3, Duration::from_secs(5)).unwrap();
        harness.commit().unwrap();
        assert_eq!(harness.task().commits, 1);
        assert_eq!(harness.task().acknowledged, [0, 1, 2]);
        // Handed out but never committed: lost on restart, so produced again.
        harness.poll_until(2, Duration::from_secs(5)).unwrap();
        harness.restart().unwrap();
        let resumed = harness.poll_until(1, Duration::from_secs(5)).unwrap();
        assert_eq!(values(&resumed), ["0.3"]);
        let stored = harness
            .offsets()
            .get(&SourceMap::new().with("task", "0"))
            .unwrap();
        assert_eq!(stored.get("n"), Some(&Value::Int64(2)));
    }

    #[test]
    fn later_tasks_and_preloaded_offsets() {
        let offsets = OffsetStore::new();
        offsets.insert(
            SourceMap::new().with("task", "1"),
            SourceMap::new().with("n", 41i64),
        );
        let config = config_from([("topic", "t"), ("tasks.max", "2")]);
        let mut harness = SourceHarness::<Tagged>::with_offsets(config, 1, offsets).unwrap();
        assert_eq!(harness.task_configs().len(), 2);
        let records = harness.poll_until(1, Duration::from_secs(5)).unwrap();
        assert_eq!(values(&records), ["1.42"]);
    }

    #[test]
    fn a_missing_task_is_an_error_naming_the_count() {
        let config = config_from([("topic", "t"), ("tasks.max", "2")]);
        let error = SourceHarness::<Tagged>::for_task(config, 2).err().unwrap();
        assert!(
            error.message.contains("2 task configs"),
            "{}",
            error.message
        );
    }

    #[test]
    fn invalid_configs_fail_with_the_key_named() {
        let error = SourceHarness::<Tagged>::new(Config::new()).err().unwrap();
        assert_eq!(error.kind, crate::ErrorKind::Config);
        assert!(
            error.message.contains("topic: Missing required"),
            "{}",
            error.message
        );

        let config = config_from([("topic", "t"), ("tasks.max", "zero")]);
        let error = SourceHarness::<Tagged>::new(config).err().unwrap();
        assert!(error.message.contains("tasks.max"), "{}", error.message);
    }

    #[test]
    fn failed_task_start_is_returned() {
        let config = config_from([("topic", "t"), ("fail.start", "")]);
        let error = SourceHarness::<Tagged>::new(config).err().unwrap();
        assert_eq!(error.message, "told to fail");
    }

    #[test]
    fn connector_requests_are_recorded() {
        let config = config_from([("topic", "t"), ("raise", "")]);
        let harness = SourceHarness::<Tagged>::new(config).unwrap();
        assert_eq!(harness.reconfiguration_requests(), 1);
        assert_eq!(harness.raised_errors()[0].message, "raised");
    }

    #[derive(Default)]
    struct Recorder {
        config: Config,
    }

    impl PluginClass for Recorder {
        const CLASS: &'static str = "test.Recorder";
    }

    impl Connector for Recorder {
        fn config_def(&self) -> ConfigDef {
            ConfigDef::new()
        }

        fn start(&mut self, config: Config, _: ConnectorContext) -> ConnectResult<()> {
            self.config = config;
            Ok(())
        }

        fn task_configs(&mut self, _max_tasks: usize) -> ConnectResult<Vec<Config>> {
            Ok(vec![self.config.clone()])
        }

        fn stop(&mut self) -> ConnectResult<()> {
            Ok(())
        }
    }

    impl SinkConnector for Recorder {
        type Task = RecorderTask;
    }

    /// Logs every call; commits only what `hold.back` does not hold back.
    #[derive(Default)]
    struct RecorderTask {
        calls: Vec<String>,
        hold_back: i64,
    }

    impl SinkTask for RecorderTask {
        fn start(&mut self, config: Config, _: TaskContext) -> ConnectResult<()> {
            self.hold_back = config
                .get("hold.back")
                .map_or(0, |v| v.parse().unwrap_or(0));
            Ok(())
        }

        fn open(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
            for p in partitions {
                self.calls.push(format!("open {}-{}", p.topic, p.partition));
            }
            Ok(())
        }

        fn close(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
            for p in partitions {
                self.calls
                    .push(format!("close {}-{}", p.topic, p.partition));
            }
            Ok(())
        }

        fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
            for r in records {
                self.calls.push(format!("put {}", r.record.value));
            }
            Ok(())
        }

        fn pre_commit(
            &mut self,
            offsets: Vec<PartitionOffset>,
        ) -> ConnectResult<Vec<PartitionOffset>> {
            Ok(offsets
                .into_iter()
                .map(|mut o| {
                    o.offset -= self.hold_back;
                    o
                })
                .collect())
        }

        fn stop(&mut self) -> ConnectResult<()> {
            Ok(())
        }
    }

    #[test]
    fn put_opens_new_partitions_once_and_flush_reports_next_offsets() {
        let mut harness = SinkHarness::<Recorder>::new(config_from([("hold.back", "1")])).unwrap();
        let a = TopicPartition::new("a", 0);
        harness
            .put(&[sink_record("a", 0, 5, "x"), sink_record("b", 3, 9, 7)])
            .unwrap();
        harness.put(&[sink_record("a", 0, 6, "y")]).unwrap();
        assert_eq!(
            harness.task().calls,
            ["open a-0", "open b-3", "put x", "put 7", "put y"]
        );
        let committed = harness.flush().unwrap();
        assert_eq!(committed.len(), 2);
        // Next to consume on a-0 is 7; the task holds one back.
        assert_eq!(harness.committed(&a), Some(6));
        assert_eq!(harness.committed(&TopicPartition::new("b", 3)), Some(9));
        harness.close(&[a]).unwrap();
        assert_eq!(harness.task().calls.last().unwrap(), "close a-0");
    }

    #[test]
    fn string_records_share_one_schema_and_count_offsets_up() {
        let records = string_sink_records("t", 1, 10, &["a", "b"]);
        assert_eq!(records[1].kafka_offset, 11);
        assert_eq!(records[1].record.value.as_str(), Some("b"));
        let first = records[0].record.value_schema().unwrap();
        let second = records[1].record.value_schema().unwrap();
        assert!(std::ptr::eq(&**first, &**second));
    }
}
