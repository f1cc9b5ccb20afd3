//! The distributed herder: workers sharing one `group.id` run the connectors and tasks between
//! them, with Kafka as the only coordinator.
//!
//! - [`group`]: membership of the group on Kafka's group coordinator, with Kafka Connect's
//!   protocol and Kafka's incremental cooperative assignment (the default): what each worker
//!   runs comes from the group's assignment.
//! - [`membership`] and [`assignment`]: the fallback (`kconnect.membership=heartbeats`) for
//!   brokers without a working group coordinator: heartbeats in the status topic, and the
//!   leader's placement written to the config topic.
//! - [`config_log`]: the config topic's records (Kafka Connect's format) and the state they build.
//! - [`status_log`]: the status topic.
//! - [`pass_plan`]: what one pass stops and starts on this worker (pure, unit-tested).
//! - `reconcile`: one worker making what it runs match the config topic and the assignment.
//! - `rest`: the REST API on top of the topics; `console`: kconnect's own resources (the group
//!   as described by its coordinator, the config history topic).
//!
//! Invariants:
//! - Every worker reads the three topics from the beginning and keeps reading them; what it
//!   runs follows from what it read, never from a message of another worker. A worker that
//!   starts with an empty disk rebuilds everything from the topics.
//! - Only the leader writes assignments; only a connector's owner writes its task configs; REST
//!   writes go straight to the config topic from whichever worker received them, and return once
//!   that worker read them back (read-your-writes on the worker asked).
//! - The reconciling pass holds one lock, so what runs here changes one pass at a time.

pub mod assignment;
pub mod config_log;
mod console;
pub(crate) mod fencing;
pub mod group;
pub mod membership;
pub mod pass_plan;
mod reconcile;
mod rest;
mod routing;
pub mod session_key;
pub mod status_log;

use crate::config::distributed::{DistributedConfig, Membership};
use crate::config::Properties;
use crate::error::Result;
use crate::herder::core::{HerderCore, VALIDATION_TIMEOUT};
use crate::herder::history::{ConfigHistory, HistoryRecord};
use crate::kafka::topic_log::{TopicReader, TopicWriter};
use crate::kafka::ClientSettings;
use crate::worker::offsets::TopicOffsetStore;
use crate::worker::WorkerContext;
use assignment::TaskId;
use config_log::{ConfigState, Records};
use kconnect_herder_api::HerderError;
use kconnect_plugin_api::PluginKind;
use reconcile::Local;
use status_log::StatusBoard;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// How long a REST write waits to read its own record back.
const READ_BACK_TIMEOUT: Duration = Duration::from_secs(30);
/// How long reading the offset topic to its end may take (before offsets are answered,
/// changed, or source tasks start).
const OFFSETS_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// A call that reads the offset topic is given this much more than the read itself.
const OFFSETS_CALL_SLACK: Duration = Duration::from_secs(5);
/// How long a REST read waits for the config topic to be read to its end: reads answer from
/// what was read by then (the reader is usually within milliseconds of the end).
const FRESH_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long reading the three worker topics to their end may take at startup.
const TOPICS_READ_AT_START: Duration = Duration::from_secs(60);
/// The reconciling pass runs at least this often (statuses, the leader's delayed
/// reassignments), besides on every change.
const RECONCILE_INTERVAL: Duration = Duration::from_millis(500);
/// How long shutdown waits for the last status records to be acknowledged.
const STATUS_FLUSH_AT_SHUTDOWN: Duration = Duration::from_secs(5);

/// The cluster's shared state as this worker reads it from the topics.
pub struct Cluster {
    pub config: DistributedConfig,
    pub worker_id: String,
    pub state: Arc<RwLock<ConfigState>>,
    pub statuses: Arc<RwLock<StatusBoard>>,
    pub offsets: Arc<TopicOffsetStore>,
    pub writer: TopicWriter,
    /// kconnect's config history, as read from its topic.
    pub history: Arc<RwLock<ConfigHistory>>,
    config_reader: TopicReader,
    /// Keeps reading the history topic into `history`.
    _history_reader: TopicReader,
    /// Keeps reading the status topic into `statuses` for as long as the cluster lives.
    _status_reader: TopicReader,
    /// Wakes the reconciling loop: new config records, membership changes.
    pub wake: Arc<tokio::sync::Notify>,
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn key_text(key: Option<&[u8]>) -> Option<&str> {
    key.and_then(|k| std::str::from_utf8(k).ok())
}

impl Cluster {
    /// Starts reading the config and status topics (which must exist) and waits until both were
    /// read to their end.
    pub fn open(
        settings: &ClientSettings,
        config: DistributedConfig,
        worker_id: &str,
        writer: TopicWriter,
        offsets: Arc<TopicOffsetStore>,
    ) -> Result<Cluster> {
        let state = Arc::new(RwLock::new(ConfigState::default()));
        let statuses = Arc::new(RwLock::new(StatusBoard::default()));
        let wake = Arc::new(tokio::sync::Notify::new());
        let client = format!("kconnect-{worker_id}");
        let applying = state.clone();
        let waking = wake.clone();
        let config_reader = TopicReader::start(
            settings,
            &config.config_topic.name,
            &format!("{client}-configs"),
            move |record| {
                let mut state = applying.write().unwrap_or_else(|e| e.into_inner());
                if let Some(key) = key_text(record.key) {
                    state.apply(key, record.value);
                }
                state.offset = record.offset + 1;
            },
            move || waking.notify_one(),
        )?;
        let applying = statuses.clone();
        // History is dated by the writer's clock; once read, heartbeats are dated on arrival,
        // which no clock skew can distort.
        let reading_history = Arc::new(AtomicBool::new(true));
        let history = reading_history.clone();
        let status_reader = TopicReader::start(
            settings,
            &config.status_topic.name,
            &format!("{client}-status"),
            move |record| {
                let now = Instant::now();
                let seen = match record.timestamp_ms {
                    Some(written) if history.load(Ordering::Acquire) => {
                        let age = (unix_ms() - written).max(0) as u64;
                        now.checked_sub(Duration::from_millis(age)).unwrap_or(now)
                    }
                    _ => now,
                };
                if let Some(key) = key_text(record.key) {
                    applying.write().unwrap_or_else(|e| e.into_inner()).apply(
                        key,
                        record.value,
                        seen,
                    );
                }
            },
            || {},
        )?;
        let history = Arc::new(RwLock::new(ConfigHistory::default()));
        let recording = history.clone();
        let history_reader = TopicReader::start(
            settings,
            &config.history_topic.name,
            &format!("{client}-history"),
            move |record| {
                let Some(value) = record.value else { return };
                match serde_json::from_slice::<HistoryRecord>(value) {
                    Ok(change) => {
                        recording
                            .write()
                            .unwrap_or_else(|e| e.into_inner())
                            .apply(change);
                    }
                    Err(e) => log::warn!(
                        "config history record at offset {} skipped: {e}",
                        record.offset
                    ),
                }
            },
            || {},
        )?;
        let timeout = TOPICS_READ_AT_START;
        config_reader.catch_up(timeout)?;
        status_reader.catch_up(timeout)?;
        history_reader.catch_up(timeout)?;
        reading_history.store(false, Ordering::Release);
        offsets.catch_up(timeout)?;
        Ok(Cluster {
            config,
            worker_id: worker_id.to_string(),
            state,
            statuses,
            offsets,
            writer,
            history,
            config_reader,
            _history_reader: history_reader,
            _status_reader: status_reader,
            wake,
        })
    }

    pub fn snapshot(&self) -> ConfigState {
        read(&self.state).clone()
    }

    /// Appends the change of `name`'s config to the history topic unless it repeats the latest
    /// version. The config topic is the truth: a history that could not be written is logged,
    /// and the change stands.
    pub async fn record_history(&self, name: &str, config: Option<&Properties>) {
        let is_change = read(&self.history).is_change(name, config);
        if !is_change {
            return;
        }
        let record = HistoryRecord::now(name, config.cloned());
        let bytes = match serde_json::to_vec(&record) {
            Ok(bytes) => bytes,
            Err(e) => return log::error!("config history of {name}: {e}"),
        };
        let topic = &self.config.history_topic.name;
        if let Err(e) = self.writer.send(topic, name, Some(&bytes)).await {
            log::error!("cannot write the config history of {name} to {topic}: {e}");
        }
    }

    /// Writes records to the config topic in order and waits until this worker read them back.
    pub async fn write_config(&self, records: Records) -> Result<(), HerderError> {
        let topic = &self.config.config_topic.name;
        let mut last = None;
        for (key, value) in &records {
            last = Some(
                self.writer
                    .send(topic, key, value.as_deref())
                    .await
                    .map_err(|e| HerderError::Internal(e.to_string()))?,
            );
        }
        let Some(written) = last else { return Ok(()) };
        let wait = tokio::task::spawn_blocking({
            let reader = self.config_reader.handle();
            move || reader.wait_for(written.partition, written.offset, READ_BACK_TIMEOUT)
        });
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(HerderError::TimedOut(e.to_string())),
            Err(e) => Err(HerderError::Internal(e.to_string())),
        }
    }
}

/// What this worker knows about a connector's class, cached per config.
#[derive(Clone)]
struct Described {
    raw: Properties,
    kind: Option<PluginKind>,
    password_keys: BTreeSet<String>,
}

pub struct DistributedHerder {
    core: HerderCore,
    cluster: Arc<Cluster>,
    /// The group membership, once started (`kconnect.membership=group`).
    group: OnceLock<group::GroupMembership>,
    /// What runs here, as of the last reconciling pass (the membership waits on it after a
    /// revocation).
    running: Arc<RwLock<assignment::Units>>,
    local: tokio::sync::Mutex<Local>,
    /// Plain restarts of units that run here, asked through REST, for the next pass.
    restarts_here: Mutex<Vec<config_log::Restart>>,
    described: Mutex<BTreeMap<String, Described>>,
    stopping: AtomicBool,
}

impl DistributedHerder {
    pub fn new(worker: Arc<WorkerContext>, cluster: Arc<Cluster>) -> DistributedHerder {
        let restarts_seen = read(&cluster.state).restart_count();
        DistributedHerder {
            core: HerderCore::new(worker),
            cluster,
            group: OnceLock::new(),
            running: Arc::new(RwLock::new(assignment::Units::default())),
            local: tokio::sync::Mutex::new(Local::new(restarts_seen)),
            restarts_here: Mutex::new(Vec::new()),
            described: Mutex::new(BTreeMap::new()),
            stopping: AtomicBool::new(false),
        }
    }

    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    pub fn core(&self) -> &HerderCore {
        &self.core
    }

    fn worker(&self) -> &Arc<WorkerContext> {
        &self.core.worker
    }

    fn worker_id(&self) -> &str {
        &self.cluster.worker_id
    }

    fn graceful(&self) -> Duration {
        self.core.graceful()
    }

    /// The workers alive now, as this worker reads the heartbeats.
    pub fn live_workers(&self) -> BTreeSet<String> {
        read(&self.cluster.statuses)
            .members
            .live(self.cluster.config.session_timeout)
    }

    /// Starts this worker's membership of the group on Kafka's coordinator.
    pub fn join_group(&self, settings: group::GroupSettings) -> std::io::Result<()> {
        let membership =
            group::GroupMembership::start(settings, self.cluster.clone(), self.running.clone())?;
        let _ = self.group.set(membership);
        Ok(())
    }

    /// Leaves the group (shutdown), after everything here stopped.
    pub fn leave_group(&self) {
        if let Some(group) = self.group.get() {
            group.leave();
        }
    }

    fn uses_group(&self) -> bool {
        self.cluster.config.membership == Membership::Group
    }

    /// True once this worker joined: its first sync completed (group), or it read its own
    /// heartbeat back (heartbeats).
    pub fn has_joined(&self) -> bool {
        if self.uses_group() {
            return self.group.get().is_some_and(|g| g.with_view(|v| v.joined));
        }
        self.live_workers().contains(self.worker_id())
    }

    /// The group's leader (group), or the live worker with the smallest id (heartbeats).
    fn is_leader(&self) -> bool {
        if self.uses_group() {
            return self
                .group
                .get()
                .is_some_and(|g| g.with_view(group::GroupView::is_leader));
        }
        self.live_workers().first().map(String::as_str) == Some(self.worker_id())
    }

    /// Whether the group speaks `sessioned`: internal requests are signed (KIP-507).
    fn signs_requests(&self) -> bool {
        self.group.get().is_some_and(|g| {
            g.with_view(|v| v.protocol == Some(kconnect_group::protocol::Subprotocol::Sessioned))
        })
    }

    /// What this worker runs and the generation that gave it.
    fn my_units(&self, state: &ConfigState) -> (assignment::Units, u64) {
        if self.uses_group() {
            return self.group.get().map_or_else(Default::default, |g| {
                g.with_view(|v| (v.mine.clone(), v.generation.max(0) as u64))
            });
        }
        let mine = state
            .assignment
            .workers
            .get(self.worker_id())
            .cloned()
            .unwrap_or_default();
        (mine, state.assignment.generation)
    }

    /// A rebalance is in progress: between the coordinator announcing one and the next
    /// completed sync (group); while the assignment does not match the live workers yet,
    /// workers held for `scheduled.rebalance.max.delay.ms` aside (heartbeats); or before this
    /// worker joined.
    pub fn is_rebalancing(&self) -> bool {
        if self.uses_group() {
            return self
                .group
                .get()
                .is_none_or(|g| g.with_view(|v| v.rebalancing || !v.joined));
        }
        let live = self.live_workers();
        if !live.contains(self.worker_id()) {
            return true;
        }
        let assignment = read(&self.cluster.state).assignment.clone();
        let assigned: BTreeSet<String> = assignment
            .workers
            .keys()
            .filter(|w| !assignment.departed.contains_key(*w))
            .cloned()
            .collect();
        assigned != live
    }

    /// Keeps this worker in line with the topics until shutdown: on every change and at least
    /// every half second (statuses, the leader's delayed reassignments).
    pub async fn run(self: Arc<Self>) {
        while !self.stopping.load(Ordering::Acquire) {
            self.reconcile().await;
            tokio::select! {
                _ = self.cluster.wake.notified() => {}
                _ = tokio::time::sleep(RECONCILE_INTERVAL) => {}
            }
        }
    }

    /// Stops everything this worker runs (SIGTERM), within the graceful timeout, and reports
    /// its units UNASSIGNED.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::Release);
        self.stop_everything().await;
        self.cluster.writer.flush(STATUS_FLUSH_AT_SHUTDOWN);
    }

    /// Kind and password keys of a connector config, asking the plugin once per config.
    async fn describe(&self, name: &str, raw: &Properties) -> Described {
        if let Some(d) = self
            .described
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .filter(|d| &d.raw == raw)
        {
            return d.clone();
        }
        let worker = self.worker().clone();
        let config = raw.clone();
        let class = raw
            .get("connector.class")
            .map(|c| c.trim().to_string())
            .unwrap_or_default();
        let validated = {
            let class = class.clone();
            super::runtime::blocking(VALIDATION_TIMEOUT, "validation", move || {
                super::validation::validate(&worker, &class, &config)
            })
            .await
        };
        let described = match validated {
            Ok(Ok(v)) => Described {
                raw: raw.clone(),
                kind: Some(v.kind),
                password_keys: v.password_keys,
            },
            _ => {
                // A config that fails validation (or a validation that timed out) says nothing of
                // what its class is: the kind comes from the class itself, and nothing is kept,
                // so the next pass validates again.
                let version = raw
                    .get("connector.plugin.version")
                    .map(String::as_str)
                    .filter(|v| !v.is_empty());
                let kind = super::validation::resolve_connector(self.worker(), &class, version)
                    .ok()
                    .map(|info| info.kind);
                return Described {
                    raw: raw.clone(),
                    kind,
                    password_keys: BTreeSet::new(),
                };
            }
        };
        self.described
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), described.clone());
        described
    }

    fn remember(&self, name: &str, described: Described) {
        self.described
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), described);
    }
}

/// The task ids of a connector, as committed.
fn task_ids(state: &ConfigState, name: &str) -> Vec<TaskId> {
    let count = state.tasks.get(name).map_or(0, Vec::len) as u32;
    (0..count).map(|i| (name.to_string(), i)).collect()
}
