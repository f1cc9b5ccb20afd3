//! One worker making what it runs match what the topics say, one pass at a time. What to stop
//! and start is decided by [`pass_plan`](super::pass_plan), without side effects; this
//! module carries it out:
//!
//! 1. restarts asked since the last pass, and everything that must stop — units assigned
//!    elsewhere, deleted, reconfigured or STOPPED — stop, tasks in parallel;
//! 2. the connectors assigned here start, and write their task configs when these changed;
//! 3. the tasks assigned here start (sources after reading the offset topic to its end);
//! 4. pause and resume reach the running units;
//! 5. the leader places connectors and tasks on the live workers;
//! 6. statuses that changed go to the status topic.
//!
//! Units that keep their assignment, config and target are never touched by a pass.

use super::assignment::{rebalance, Inputs, TaskId, Units};
use super::config_log::{
    assignment_record, session_key_record, task_records, ConfigState, Restart,
};
use super::pass_plan::{self, Afterwards, Restarts, Running, RunningConnector, RunningTask};
use super::session_key::SessionKey;
use super::status_log::{StatusKey, StatusValue};
use super::{DistributedHerder, OFFSETS_READ_TIMEOUT};
use crate::config::{ConnectorConfig, Properties};
use crate::herder::restart_backoff::RestartBackoff;
use crate::herder::runtime::{
    self, request_stop, wait_for_tasks, StartedConnector, TaskLaunch, TaskRuntime,
};
use crate::worker::status::{State, StatusCell};
use crate::worker::ActiveTopics;
use kconnect_herder_api::entities::TargetState;
use kconnect_plugin_api::PluginKind;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A connector instance this worker owns.
struct LocalConnector {
    /// The config it was started with.
    raw: Properties,
    status: StatusCell,
    started: Option<StartedConnector>,
}

/// A task this worker runs.
struct LocalTask {
    connector_raw: Properties,
    task_config: Properties,
    runtime: TaskRuntime,
    /// `errors.task.restart.backoff.max.ms` when `errors.task.restart.enable` is on.
    restart_backoff_max: Option<Duration>,
}

/// What runs on this worker.
pub struct Local {
    connectors: BTreeMap<String, LocalConnector>,
    tasks: BTreeMap<TaskId, LocalTask>,
    pub(super) active_topics: BTreeMap<String, ActiveTopics>,
    restarts_seen: u64,
    /// The last status written per unit, so only changes are written.
    published: BTreeMap<StatusKey, StatusValue>,
    /// Tasks waiting for their previous owner to stop them, since when.
    handovers: BTreeMap<TaskId, Instant>,
    /// `errors.task.restart.enable`: automatic restarts per task.
    auto_restarts: BTreeMap<TaskId, RestartBackoff>,
}

impl Local {
    pub fn new(restarts_seen: u64) -> Local {
        Local {
            connectors: BTreeMap::new(),
            tasks: BTreeMap::new(),
            active_topics: BTreeMap::new(),
            restarts_seen,
            published: BTreeMap::new(),
            handovers: BTreeMap::new(),
            auto_restarts: BTreeMap::new(),
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A task that could not even start.
fn failed_task(message: String) -> TaskRuntime {
    let status = StatusCell::new(State::Unassigned);
    status.fail(message);
    TaskRuntime {
        status,
        errors: Default::default(),
        control: Default::default(),
        done: None,
    }
}

impl DistributedHerder {
    pub(super) async fn reconcile(&self) {
        let mut local = self.local.lock().await;
        let state = self.cluster.snapshot();
        let (mine, generation) = self.my_units(&state);
        let mut tombstones: Vec<StatusKey> = Vec::new();

        // 1. Restarts, and everything that must stop.
        let (restart_connectors, mut restart_tasks) = self.restarts_since(&mut local, &state);
        restart_tasks.extend(Self::automatic_restarts(&mut local, &state));
        let restarts = Restarts {
            connectors: restart_connectors,
            tasks: restart_tasks,
        };
        let pass = {
            let running = Running {
                connectors: local
                    .connectors
                    .iter()
                    .map(|(name, c)| {
                        let view = RunningConnector {
                            raw: &c.raw,
                            started: c.started.is_some(),
                            failed: c.status.get().state == State::Failed,
                        };
                        (name.as_str(), view)
                    })
                    .collect(),
                tasks: local
                    .tasks
                    .iter()
                    .map(|(id, t)| {
                        let view = RunningTask {
                            connector_raw: &t.connector_raw,
                            task_config: &t.task_config,
                        };
                        (id, view)
                    })
                    .collect(),
            };
            pass_plan::plan(&state, &mine, &running, &restarts)
        };
        let mut stopped_tasks: Vec<LocalTask> = pass
            .stop_tasks
            .iter()
            .filter_map(|(id, _)| local.tasks.remove(id))
            .collect();
        let done = request_stop(stopped_tasks.iter_mut().map(|t| &mut t.runtime));
        let mut stopped_connectors = Vec::new();
        for (name, afterwards) in &pass.stop_connectors {
            let Some(mut connector) = local.connectors.remove(name) else {
                continue;
            };
            stopped_connectors.push(connector.started.take().map(|s| s.handle));
            if *afterwards == Afterwards::StaysStopped {
                connector.status.set(State::Stopped);
                connector.raw = state.connectors[name].clone();
                local.connectors.insert(name.clone(), connector);
            }
        }
        if !done.is_empty() || !stopped_connectors.is_empty() {
            wait_for_tasks(done, Instant::now() + self.graceful()).await;
            for handle in stopped_connectors {
                runtime::stop_connector(handle, self.graceful()).await;
            }
        }
        for (id, afterwards) in &pass.stop_tasks {
            match afterwards {
                Afterwards::Deleted => tombstones.push(StatusKey::Task(id.clone())),
                Afterwards::MovedAway => {
                    self.publish_unassigned(&mut local, StatusKey::Task(id.clone()), generation)
                        .await
                }
                Afterwards::StaysStopped | Afterwards::Replaced => {}
            }
        }
        for (name, afterwards) in &pass.stop_connectors {
            match afterwards {
                Afterwards::Deleted => {
                    tombstones.push(StatusKey::Connector(name.clone()));
                    local.active_topics.remove(name);
                    self.worker().metrics.remove_connector(name);
                }
                Afterwards::MovedAway => {
                    self.publish_unassigned(
                        &mut local,
                        StatusKey::Connector(name.clone()),
                        generation,
                    )
                    .await
                }
                Afterwards::StaysStopped | Afterwards::Replaced => {}
            }
        }

        // 2. Connectors assigned here.
        for name in &pass.start_connectors {
            let raw = &state.connectors[name];
            self.start_connector(&mut local, name, raw, state.target(name), &state)
                .await;
        }
        for (name, connector) in &local.connectors {
            let Some(started) = &connector.started else {
                continue;
            };
            if started
                .reconfigure
                .swap(false, std::sync::atomic::Ordering::AcqRel)
            {
                if let Ok(config) = ConnectorConfig::from_properties(connector.raw.clone()) {
                    match runtime::regenerate_task_configs(
                        self.worker(),
                        &Arc::new(config),
                        started,
                        self.core.connector_call_timeout(),
                    )
                    .await
                    {
                        Ok(configs) => self.write_task_configs(name, &configs, &state).await,
                        Err(e) => log::warn!("connector {name}: new task configs failed: {e}"),
                    }
                }
            }
        }

        // 3. Tasks assigned here.
        let mut to_start = self.after_handover(&mut local, pass.start_tasks);
        if self.worker().exactly_once.is_some() {
            if self.is_leader() {
                self.fence_pending(&state).await;
            }
            self.hold_until_fenced(&mut to_start, &state).await;
        }
        if !to_start.is_empty() {
            let offsets = self.cluster.offsets.clone();
            let caught_up =
                tokio::task::spawn_blocking(move || offsets.catch_up(OFFSETS_READ_TIMEOUT)).await;
            if !matches!(caught_up, Ok(Ok(()))) {
                log::warn!("cannot read the offset topic to its end; source tasks may start from older offsets");
            }
        }
        for id in to_start {
            let raw = state.connectors[&id.0].clone();
            let task_config = state.tasks[&id.0][id.1 as usize].clone();
            let described = self.describe(&id.0, &raw).await;
            let mut restart_backoff_max = None;
            let runtime = match (ConnectorConfig::from_properties(raw.clone()), described.kind) {
                (Err(e), _) => failed_task(e.to_string()),
                // Whether to run it as a source or a sink task is the class's to say: a class
                // this worker cannot find fails the task instead of guessing.
                (Ok(_), None) => failed_task(format!(
                    "cannot start task {}-{}: connector class {} was not found on this worker's plugin.path",
                    id.0,
                    id.1,
                    raw.get("connector.class").map(String::as_str).unwrap_or("(none)")
                )),
                (Ok(config), Some(kind)) => {
                    restart_backoff_max = config.task_restart_backoff_max;
                    let topics = local.active_topics.entry(id.0.clone()).or_default().clone();
                    let launch = TaskLaunch {
                        connector: &Arc::new(config),
                        kind,
                        class: None,
                        paused: state.target(&id.0) == TargetState::Paused,
                        active_topics: &topics,
                    };
                    log::info!("starting task {}-{} (generation {generation})", id.0, id.1);
                    runtime::start_task(self.worker(), launch, id.1, task_config.clone())
                }
            };
            local.tasks.insert(
                id,
                LocalTask {
                    connector_raw: raw,
                    task_config,
                    runtime,
                    restart_backoff_max,
                },
            );
        }

        // 4. Pause and resume.
        for (id, task) in &local.tasks {
            task.runtime
                .control
                .set_paused(state.target(&id.0) == TargetState::Paused);
        }
        for (name, connector) in &local.connectors {
            let want = match state.target(name) {
                TargetState::Running => State::Running,
                TargetState::Paused => State::Paused,
                TargetState::Stopped => State::Stopped,
            };
            let now = connector.status.get().state;
            if now != State::Failed
                && now != want
                && (connector.started.is_some() || want == State::Stopped)
            {
                connector.status.set(want);
            }
        }

        // 5. The leader's placement (in a group, the leader assigns while syncing instead), and
        //    under `sessioned` its session key.
        if !self.uses_group() && self.is_leader() {
            self.lead(&state).await;
        }
        if self.is_leader() && self.signs_requests() {
            self.rotate_session_key(&state).await;
        }

        // 6. Statuses.
        self.worker().metrics.connectors.store(
            local.connectors.len() as i64,
            std::sync::atomic::Ordering::Relaxed,
        );
        *self.running.write().unwrap_or_else(|e| e.into_inner()) = Units {
            connectors: local
                .connectors
                .iter()
                .filter(|(_, c)| c.started.is_some())
                .map(|(name, _)| name.clone())
                .collect(),
            tasks: local.tasks.keys().cloned().collect(),
        };
        self.publish(&mut local, generation, tombstones).await;
    }

    /// Exactly once (KIP-618), the leader's part: a zombie fencing round for every source
    /// connector whose latest task configs were not fenced for yet, wherever its tasks run.
    async fn fence_pending(&self, state: &ConfigState) {
        for name in &state.pending_fencing {
            let Some(raw) = state.connectors.get(name) else {
                continue;
            };
            if self.describe(name, raw).await.kind != Some(PluginKind::Source) {
                continue;
            }
            match self.fence_round(name, state).await {
                Ok(()) => log::info!("zombie fencing of connector {name} done"),
                Err(e) => log::warn!("zombie fencing of connector {name} failed, will retry: {e}"),
            }
        }
    }

    /// Exactly once (KIP-618): a source connector's new task generation starts only after the
    /// leader's zombie fencing round for it (Kafka's `tasks-fencing-` record). Tasks of a
    /// connector still waiting for it are kept back and tried again on a later pass, once the
    /// record is read.
    async fn hold_until_fenced(&self, to_start: &mut Vec<TaskId>, state: &ConfigState) {
        let mut held = BTreeSet::new();
        for id in to_start.iter() {
            let name = &id.0;
            if held.contains(name) || !state.pending_fencing.contains(name) {
                continue;
            }
            let raw = state.connectors[name].clone();
            if self.describe(name, &raw).await.kind == Some(PluginKind::Source) {
                log::debug!("connector {name}: waiting for the leader's zombie fencing");
                held.insert(name.clone());
            }
        }
        to_start.retain(|id| !held.contains(&id.0));
    }

    /// Tasks moved here from a live worker start once that worker reported them stopped (or after
    /// the graceful timeout and a margin), so the old and new owner never run a task together and
    /// the new one reads the offsets the old one flushed on its way out.
    fn after_handover(&self, local: &mut Local, candidates: Vec<TaskId>) -> Vec<TaskId> {
        // In a group, the leader gives out a unit only once no member runs it any more.
        if self.uses_group() {
            return candidates;
        }
        let live = self.live_workers();
        let board = super::read(&self.cluster.statuses);
        let patience = self.graceful() + Duration::from_secs(5);
        let me = self.worker_id();
        let ready: Vec<TaskId> = candidates
            .into_iter()
            .filter(|id| {
                let still_running_elsewhere = board.tasks.get(id).is_some_and(|s| {
                    s.worker_id != me
                        && live.contains(&s.worker_id)
                        && (s.state == "RUNNING" || s.state == "PAUSED")
                });
                if !still_running_elsewhere {
                    return true;
                }
                let since = *local
                    .handovers
                    .entry(id.clone())
                    .or_insert_with(Instant::now);
                since.elapsed() >= patience
            })
            .collect();
        for id in &ready {
            local.handovers.remove(id);
        }
        ready
    }

    /// FAILED tasks of connectors with `errors.task.restart.enable=true` whose backoff (1 s, 2 s,
    /// 4 s… capped by `errors.task.restart.backoff.max.ms`) is over.
    fn automatic_restarts(local: &mut Local, state: &ConfigState) -> Vec<TaskId> {
        let now = Instant::now();
        let mut due_now = Vec::new();
        for (id, task) in &local.tasks {
            let Some(max_backoff) = task.restart_backoff_max else {
                continue;
            };
            if state.target(&id.0) != TargetState::Running {
                continue;
            }
            let backoff = local.auto_restarts.entry(id.clone()).or_default();
            if task.runtime.status.get().state != State::Failed {
                backoff.running(now);
                continue;
            }
            if backoff.failed(now, max_backoff) {
                log::info!(
                    "restarting failed task {}-{} (automatic restart {})",
                    id.0,
                    id.1,
                    backoff.attempts()
                );
                due_now.push(id.clone());
            }
        }
        local
            .auto_restarts
            .retain(|id, _| local.tasks.contains_key(id));
        due_now
    }

    /// The connectors and tasks of this worker that restart requests since the last pass name:
    /// those read from the config topic and those asked of this worker directly.
    fn restarts_since(
        &self,
        local: &mut Local,
        state: &ConfigState,
    ) -> (BTreeSet<String>, BTreeSet<TaskId>) {
        let mut connectors = BTreeSet::new();
        let mut tasks = BTreeSet::new();
        let asked_here =
            std::mem::take(&mut *self.restarts_here.lock().unwrap_or_else(|e| e.into_inner()));
        let from_topic = state
            .restarts
            .iter()
            .filter(|(seq, _)| *seq > local.restarts_seen)
            .map(|(_, restart)| restart);
        for restart in from_topic.chain(asked_here.iter()) {
            match restart {
                Restart::Connector {
                    name,
                    include_tasks,
                    only_failed,
                } => {
                    let failed = |s: &StatusCell| s.get().state == State::Failed;
                    if let Some(c) = local.connectors.get(name) {
                        if !only_failed || failed(&c.status) {
                            connectors.insert(name.clone());
                        }
                    }
                    if *include_tasks {
                        for (id, t) in local.tasks.iter().filter(|(id, _)| &id.0 == name) {
                            if !only_failed || failed(&t.runtime.status) {
                                tasks.insert(id.clone());
                            }
                        }
                    }
                }
                Restart::Task(id) => {
                    if local.tasks.contains_key(id) {
                        tasks.insert(id.clone());
                    }
                }
            }
        }
        local.restarts_seen = state.restart_count();
        (connectors, tasks)
    }

    async fn start_connector(
        &self,
        local: &mut Local,
        name: &str,
        raw: &Properties,
        target: TargetState,
        state: &ConfigState,
    ) {
        let status = StatusCell::new(State::Unassigned);
        let not_started = |status: StatusCell| LocalConnector {
            raw: raw.clone(),
            status,
            started: None,
        };
        let config = match ConnectorConfig::from_properties(raw.clone()) {
            Ok(config) => Arc::new(config),
            Err(e) => {
                status.fail(e.to_string());
                local
                    .connectors
                    .insert(name.to_string(), not_started(status));
                return;
            }
        };
        if target == TargetState::Stopped {
            status.set(State::Stopped);
            local
                .connectors
                .insert(name.to_string(), not_started(status));
            return;
        }
        log::info!("starting connector {name}");
        let timeout = self.core.connector_call_timeout();
        let started = runtime::start_connector(self.worker(), &config, &status, timeout).await;
        if let Some(started) = &started {
            status.set(if target == TargetState::Paused {
                State::Paused
            } else {
                State::Running
            });
            self.write_task_configs(name, &started.task_configs, state)
                .await;
        }
        local.connectors.insert(
            name.to_string(),
            LocalConnector {
                raw: raw.clone(),
                status,
                started,
            },
        );
    }

    /// Writes a connector's task configs unless the topic already holds the same ones.
    async fn write_task_configs(&self, name: &str, configs: &[Properties], state: &ConfigState) {
        if state.tasks.get(name).map(Vec::as_slice) == Some(configs) {
            return;
        }
        log::info!("connector {name}: writing {} task config(s)", configs.len());
        if let Err(e) = self.cluster.write_config(task_records(name, configs)).await {
            log::error!("connector {name}: cannot write task configs: {e}");
        }
    }

    /// Places connectors and tasks on the live workers; writes the assignment if it changed.
    /// Writes a new session key when there is none or the last one expired (KIP-507).
    async fn rotate_session_key(&self, state: &ConfigState) {
        let now = super::unix_ms();
        let ttl = self.cluster.config.session_keys.ttl;
        if !SessionKey::due(state.session_key.as_ref(), now, ttl) {
            return;
        }
        let key = match SessionKey::generate(now) {
            Ok(key) => key,
            Err(e) => {
                log::error!("cannot generate a session key: {e}");
                return;
            }
        };
        match self
            .cluster
            .write_config(vec![session_key_record(&key)])
            .await
        {
            Ok(()) => log::info!("wrote a new session key (valid for {ttl:?})"),
            Err(e) => log::warn!("cannot write the session key: {e}; trying again"),
        }
    }

    async fn lead(&self, state: &ConfigState) {
        let now = now_ms();
        let live = self.live_workers();
        let connectors: BTreeSet<String> = state.connectors.keys().cloned().collect();
        let tasks: BTreeSet<TaskId> = state
            .task_ids()
            .filter(|(name, _)| state.target(name) != TargetState::Stopped)
            .collect();
        // No timer for a held worker's grace: every pass (at least twice a second) looks again.
        let (mut next, _) = rebalance(&Inputs {
            previous: &state.assignment,
            live: &live,
            connectors: &connectors,
            tasks: &tasks,
            now_ms: now,
            delay_ms: self
                .cluster
                .config
                .scheduled_rebalance_max_delay
                .as_millis() as u64,
        });
        if next.same_placement(&state.assignment) {
            return;
        }
        next.generation = state.assignment.generation + 1;
        next.leader = self.worker_id().to_string();
        log::info!(
            "assignment generation {}: {} worker(s), {} connector(s), {} task(s){}",
            next.generation,
            live.len(),
            connectors.len(),
            tasks.len(),
            if next.departed.is_empty() {
                String::new()
            } else {
                format!(
                    ", held for departed {:?}",
                    next.departed.keys().collect::<Vec<_>>()
                )
            }
        );
        if let Err(e) = self
            .cluster
            .write_config(vec![assignment_record(&next)])
            .await
        {
            log::error!("cannot write the assignment: {e}");
        }
    }

    async fn publish_unassigned(&self, local: &mut Local, key: StatusKey, generation: u64) {
        let value = StatusValue {
            state: "UNASSIGNED".to_string(),
            trace: None,
            worker_id: self.worker_id().to_string(),
            generation,
        };
        self.write_status(&key, Some(&value)).await;
        local.published.remove(&key);
    }

    async fn write_status(&self, key: &StatusKey, value: Option<&StatusValue>) {
        let bytes = value.and_then(|v| serde_json::to_vec(v).ok());
        if let Err(e) = self
            .cluster
            .writer
            .send(
                &self.cluster.config.status_topic.name,
                &key.text(),
                bytes.as_deref(),
            )
            .await
        {
            log::warn!("cannot write status {}: {e}", key.text());
        }
    }

    /// Writes the statuses of this worker's units that changed since last written.
    async fn publish(&self, local: &mut Local, generation: u64, tombstones: Vec<StatusKey>) {
        for key in tombstones {
            local.published.remove(&key);
            self.write_status(&key, None).await;
        }
        let me = self.worker_id().to_string();
        let mut current: Vec<(StatusKey, StatusValue)> = Vec::new();
        for (name, connector) in &local.connectors {
            let s = connector.status.get();
            current.push((
                StatusKey::Connector(name.clone()),
                StatusValue {
                    state: s.state.name().to_string(),
                    trace: s.trace,
                    worker_id: me.clone(),
                    generation,
                },
            ));
        }
        for (id, task) in &local.tasks {
            let s = task.runtime.status.get();
            // A warning and error counts ride along in the trace while they matter.
            let parts: Vec<String> = [s.trace, s.warning, task.runtime.errors.summary()]
                .into_iter()
                .flatten()
                .collect();
            current.push((
                StatusKey::Task(id.clone()),
                StatusValue {
                    state: s.state.name().to_string(),
                    trace: (!parts.is_empty()).then(|| parts.join("\n")),
                    worker_id: me.clone(),
                    generation,
                },
            ));
        }
        for (key, value) in current {
            let unchanged = local
                .published
                .get(&key)
                .is_some_and(|old| old.state == value.state && old.trace == value.trace);
            if unchanged {
                continue;
            }
            self.write_status(&key, Some(&value)).await;
            local.published.insert(key, value);
        }
    }

    /// Stops every unit here and reports them UNASSIGNED (shutdown).
    pub(super) async fn stop_everything(&self) {
        let mut local = self.local.lock().await;
        let (_, generation) = self.my_units(&self.cluster.snapshot());
        let deadline = Instant::now() + self.graceful();
        let mut tasks = std::mem::take(&mut local.tasks);
        let done = request_stop(tasks.values_mut().map(|t| &mut t.runtime));
        wait_for_tasks(done, deadline).await;
        let connectors = std::mem::take(&mut local.connectors);
        for (_, mut connector) in connectors {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(100));
            runtime::stop_connector(connector.started.take().map(|s| s.handle), left).await;
        }
        let keys: Vec<StatusKey> = local.published.keys().cloned().collect();
        for key in keys {
            self.publish_unassigned(&mut local, key, generation).await;
        }
        if let Err(e) = self.worker().offsets.flush() {
            log::error!("cannot flush offsets at shutdown: {e}");
        }
    }
}
