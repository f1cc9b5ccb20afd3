//! The standalone herder: one worker runs every connector and task.
//!
//! - this module: the connectors' runtimes, starting and stopping them, automatic restarts;
//! - `rest`: the REST API on top of them.
//!
//! Invariants:
//! - Every change to the set of connectors goes through one async lock, so REST calls and
//!   startup never interleave half-applied changes. Plugin calls run on blocking threads, bounded
//!   by `task.shutdown.graceful.timeout.ms` where they could hang.
//! - Connectors created or changed through REST are saved beside the offset file after each
//!   change; files given on the command line win over saved ones at start. Each save also
//!   records what changed in the config history (`history`), so a file edited between two runs
//!   is a version too.

mod rest;

use super::core::{self, HerderCore};
use super::history::FileHistory;
use super::restart_backoff::RestartBackoff;
use super::runtime::{
    self, connector_type, not_found, request_stop, rest_state, target_name, wait_for_tasks,
    TaskLaunch, TaskRuntime,
};
use super::validation::mask;
use crate::config::{ConnectorConfig, Properties};
use crate::error::WorkerError;
use crate::worker::offsets::{FileOffsetStore, StoredConnector};
use crate::worker::status::{State, StatusCell};
use crate::worker::{ActiveTopics, WorkerContext};
use kconnect_herder_api::entities::*;
use kconnect_herder_api::HerderError;
use kconnect_loader::{ConnectorHandle, PluginClassInfo};
use kconnect_plugin_api::PluginKind;
use std::collections::{BTreeMap, BTreeSet};

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

struct ConnectorRuntime {
    config: Arc<ConnectorConfig>,
    kind: PluginKind,
    target: TargetState,
    status: StatusCell,
    handle: Option<Arc<Mutex<ConnectorHandle>>>,
    /// The class the running instance was made from: its tasks are made from the same one,
    /// whatever versions were hot-loaded since, until the connector itself restarts.
    class: Option<Arc<PluginClassInfo>>,
    task_configs: Vec<Properties>,
    tasks: Vec<TaskRuntime>,
    password_keys: BTreeSet<String>,
    active_topics: ActiveTopics,
    /// Automatic restarts per task index.
    restarts: BTreeMap<usize, RestartBackoff>,
}

pub struct StandaloneHerder {
    core: HerderCore,
    /// The offset file, which also keeps the connectors created through REST.
    store: Arc<FileOffsetStore>,
    /// Every config each connector had, beside the offset file.
    history: FileHistory,
    connectors: tokio::sync::Mutex<BTreeMap<String, ConnectorRuntime>>,
    worker_id: OnceLock<String>,
}

impl StandaloneHerder {
    pub fn new(worker: Arc<WorkerContext>, store: Arc<FileOffsetStore>) -> StandaloneHerder {
        StandaloneHerder {
            core: HerderCore::new(worker),
            history: FileHistory::open(FileHistory::beside(store.path())),
            store,
            connectors: tokio::sync::Mutex::new(BTreeMap::new()),
            worker_id: OnceLock::new(),
        }
    }

    pub fn core(&self) -> &HerderCore {
        &self.core
    }

    /// `host:port` of this worker's REST listener, shown as `worker_id` in statuses.
    pub fn set_worker_id(&self, id: String) {
        let _ = self.worker_id.set(id);
    }

    fn worker_id(&self) -> String {
        self.worker_id.get().cloned().unwrap_or_default()
    }

    fn worker(&self) -> &Arc<WorkerContext> {
        &self.core.worker
    }

    fn graceful(&self) -> Duration {
        self.core.graceful()
    }

    /// Persists the connectors (standalone) and updates the worker's connector count.
    fn save(&self, connectors: &BTreeMap<String, ConnectorRuntime>) {
        self.worker().metrics.connectors.store(
            connectors.len() as i64,
            std::sync::atomic::Ordering::Relaxed,
        );
        let stored: BTreeMap<String, StoredConnector> = connectors
            .iter()
            .map(|(name, rt)| {
                (
                    name.clone(),
                    StoredConnector {
                        config: rt.config.raw.clone(),
                        target_state: target_name(rt.target).to_string(),
                    },
                )
            })
            .collect();
        if let Err(e) = self.store.save_connectors(&stored) {
            log::error!("cannot save connector configs: {e}");
        }
        self.history.observe(
            &stored
                .into_iter()
                .map(|(name, connector)| (name, connector.config))
                .collect(),
        );
    }

    /// Creates or replaces a connector; the caller holds the lock.
    async fn apply(
        &self,
        connectors: &mut BTreeMap<String, ConnectorRuntime>,
        name: &str,
        config: Properties,
        target: TargetState,
    ) -> Result<(), HerderError> {
        let (validated, config) = self.core.validated_for_write(config).await?;
        let config = Arc::new(config);
        if let Some(old) = connectors.remove(name) {
            self.stop_runtime(old).await;
        }
        let mut runtime = ConnectorRuntime {
            config,
            kind: validated.kind,
            target,
            status: StatusCell::new(State::Unassigned),
            handle: None,
            class: None,
            task_configs: Vec::new(),
            tasks: Vec::new(),
            password_keys: validated.password_keys,
            active_topics: ActiveTopics::default(),
            restarts: BTreeMap::new(),
        };
        self.start_runtime(name, &mut runtime).await;
        connectors.insert(name.to_string(), runtime);
        Ok(())
    }

    /// Starts the connector instance (unless STOPPED) and its tasks.
    async fn start_runtime(&self, name: &str, runtime: &mut ConnectorRuntime) {
        if runtime.target == TargetState::Stopped {
            runtime.status.set(State::Stopped);
            return;
        }
        if self.start_instance(name, runtime).await {
            let configs = runtime.task_configs.clone();
            for (id, task_config) in configs.into_iter().enumerate() {
                let task = self.start_task(runtime, id as u32, task_config);
                runtime.tasks.push(task);
            }
            log::info!(
                "connector {name} started with {} task(s)",
                runtime.tasks.len()
            );
        }
    }

    /// Starts the connector instance and asks it for task configs; false when it failed.
    async fn start_instance(&self, name: &str, runtime: &mut ConnectorRuntime) -> bool {
        let timeout = self.core.connector_call_timeout();
        let Some(started) =
            runtime::start_connector(self.worker(), &runtime.config, &runtime.status, timeout)
                .await
        else {
            log::debug!("connector {name} did not start");
            return false;
        };
        runtime.handle = Some(started.handle);
        runtime.class = Some(started.class);
        runtime
            .status
            .set(if runtime.target == TargetState::Paused {
                State::Paused
            } else {
                State::Running
            });
        runtime.task_configs = started.task_configs;
        true
    }
    /// Starts one task on its own thread.
    fn start_task(
        &self,
        runtime: &ConnectorRuntime,
        id: u32,
        task_config: Properties,
    ) -> TaskRuntime {
        let launch = TaskLaunch {
            connector: &runtime.config,
            kind: runtime.kind,
            class: runtime.class.as_ref(),
            paused: runtime.target == TargetState::Paused,
            active_topics: &runtime.active_topics,
        };
        runtime::start_task(self.worker(), launch, id, task_config)
    }
    /// Stops tasks, then the connector instance.
    async fn stop_runtime(&self, mut runtime: ConnectorRuntime) -> ConnectorRuntime {
        self.stop_tasks(&mut runtime).await;
        self.stop_instance(runtime.handle.take(), self.graceful())
            .await;
        runtime
    }

    /// Stops a connector instance, giving up after `timeout`.
    async fn stop_instance(&self, handle: Option<Arc<Mutex<ConnectorHandle>>>, timeout: Duration) {
        runtime::stop_connector(handle, timeout).await
    }

    async fn stop_tasks(&self, runtime: &mut ConnectorRuntime) {
        let done = request_stop(&mut runtime.tasks);
        wait_for_tasks(done, Instant::now() + self.graceful()).await;
        runtime.tasks.clear();
        self.worker().metrics.remove_connector(&runtime.config.name);
    }

    /// Starts the connectors of the stored file and the command line (those win).
    pub async fn start_connectors(&self, from_files: Vec<Properties>) -> Result<(), WorkerError> {
        let mut connectors = self.connectors.lock().await;
        let stored = self.store.load_connectors()?;
        let file_names: BTreeSet<String> = from_files
            .iter()
            .filter_map(|c| c.get("name").cloned())
            .collect();
        for (name, stored) in stored {
            if file_names.contains(&name) {
                continue;
            }
            let target = TargetState::parse(&stored.target_state).unwrap_or(TargetState::Running);
            if let Err(e) = self
                .apply(&mut connectors, &name, stored.config, target)
                .await
            {
                log::error!("stored connector {name} could not be started: {e}");
            }
        }
        for config in from_files {
            let name = config.get("name").cloned().unwrap_or_default();
            self.apply(&mut connectors, &name, config, TargetState::Running)
                .await
                .map_err(|e| WorkerError::ConfigKey {
                    key: format!("connector {name}"),
                    message: e.to_string(),
                })?;
        }
        self.save(&connectors);
        Ok(())
    }

    /// Restarts FAILED tasks of connectors with `errors.task.restart.enable=true`, waiting
    /// 1 s, 2 s, 4 s… (capped by `errors.task.restart.backoff.max.ms`) between attempts. Runs
    /// until the process ends.
    pub async fn supervise_failed_tasks(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let mut connectors = self.connectors.lock().await;
            let names: Vec<String> = connectors.keys().cloned().collect();
            for name in names {
                let Some(rt) = connectors.get_mut(&name) else {
                    continue;
                };
                let Some(max_backoff) = rt.config.task_restart_backoff_max else {
                    continue;
                };
                if rt.target != TargetState::Running {
                    continue;
                }
                for id in 0..rt.tasks.len() {
                    let now = Instant::now();
                    let backoff = rt.restarts.entry(id).or_default();
                    if rt.tasks[id].status.get().state != State::Failed {
                        backoff.running(now);
                        continue;
                    }
                    if !backoff.failed(now, max_backoff) {
                        continue;
                    }
                    let attempt = backoff.attempts();
                    log::info!("restarting failed task {name}-{id} (automatic restart {attempt})");
                    self.restart_task_locked(rt, id).await;
                }
            }
        }
    }

    /// Stops every connector (SIGTERM): all tasks in parallel, then the connector instances, the
    /// whole bounded by the graceful timeout.
    pub async fn shutdown(&self) {
        let mut connectors = self.connectors.lock().await;
        let deadline = Instant::now() + self.graceful();
        let done: Vec<_> = connectors
            .values_mut()
            .flat_map(|rt| request_stop(&mut rt.tasks))
            .collect();
        wait_for_tasks(done, deadline).await;
        for (_, mut rt) in std::mem::take(&mut *connectors) {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(100));
            self.stop_instance(rt.handle.take(), left).await;
        }
        if let Err(e) = self.worker().offsets.flush() {
            log::error!("cannot flush offsets at shutdown: {e}");
        }
    }

    fn info(name: &str, rt: &ConnectorRuntime) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_string(),
            config: mask(&rt.config.raw, &rt.password_keys),
            tasks: (0..rt.tasks.len() as u32)
                .map(|task| ConnectorTaskId {
                    connector: name.to_string(),
                    task,
                })
                .collect(),
            connector_type: connector_type(rt.kind),
        }
    }

    fn status(&self, name: &str, rt: &ConnectorRuntime) -> ConnectorStateInfo {
        let status = rt.status.get();
        ConnectorStateInfo {
            name: name.to_string(),
            connector: ConnectorState {
                state: rest_state(status.state),
                worker_id: self.worker_id(),
                trace: status.trace,
            },
            tasks: rt
                .tasks
                .iter()
                .enumerate()
                .map(|(id, t)| {
                    let s = t.status.get();
                    // A warning and error counts ride along in the trace while they matter.
                    let parts: Vec<String> = [s.trace, s.warning, t.errors.summary()]
                        .into_iter()
                        .flatten()
                        .collect();
                    let trace = (!parts.is_empty()).then(|| parts.join("\n"));
                    TaskState {
                        id: id as u32,
                        state: rest_state(s.state),
                        worker_id: self.worker_id(),
                        trace,
                    }
                })
                .collect(),
            connector_type: connector_type(rt.kind),
        }
    }

    async fn restart_task_locked(&self, rt: &mut ConnectorRuntime, id: usize) {
        if let Some(task) = rt.tasks.get_mut(id..=id) {
            let done = request_stop(task);
            wait_for_tasks(done, Instant::now() + self.graceful()).await;
        }
        if let Some(config) = rt.task_configs.get(id).cloned() {
            let task = self.start_task(rt, id as u32, config);
            rt.tasks[id] = task;
        }
    }

    async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        let mut connectors = self.connectors.lock().await;
        let rt = connectors.get_mut(name).ok_or_else(|| not_found(name))?;
        let previous = rt.target;
        rt.target = target;
        match (previous, target) {
            (TargetState::Stopped, TargetState::Running | TargetState::Paused) => {
                self.start_runtime(name, rt).await;
            }
            (_, TargetState::Stopped) => {
                self.stop_tasks(rt).await;
                self.stop_instance(rt.handle.take(), self.graceful()).await;
                rt.task_configs.clear();
                rt.status.set(State::Stopped);
            }
            (_, paused_or_running) => {
                let paused = paused_or_running == TargetState::Paused;
                for task in &rt.tasks {
                    task.control.set_paused(paused);
                }
                if rt.status.get().state != State::Failed {
                    rt.status.set(if paused {
                        State::Paused
                    } else {
                        State::Running
                    });
                }
            }
        }
        self.save(&connectors);
        Ok(())
    }

    fn require_stopped(name: &str, rt: &ConnectorRuntime) -> Result<(), HerderError> {
        if rt.target != TargetState::Stopped || !rt.tasks.is_empty() {
            return Err(core::not_stopped(name));
        }
        Ok(())
    }
}
