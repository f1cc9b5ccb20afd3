//! Starting and stopping the pieces a herder runs — connector instances and task threads — the
//! same way in standalone and distributed mode, plus the small conversions both answer REST with.
//!
//! Invariants: plugin calls run on blocking threads, bounded by a timeout where they could hang;
//! a task runs on its own thread and signals its end through a channel, so a task that never
//! returns is left behind instead of blocking the herder.

use super::validation;
use crate::config::{ConnectorConfig, Properties};
use crate::error::WorkerError;
use crate::worker::errors::ErrorCounters;
use crate::worker::metrics::{TaskEntry, TaskMetrics};
use crate::worker::status::{error_trace, State, StatusCell, TaskControl};
use crate::worker::{sink, source, ActiveTopics, TaskEnv, WorkerContext};
use kconnect_herder_api::entities::{ConnectorType, TargetState};
use kconnect_herder_api::HerderError;
use kconnect_loader::{ConnectorHandle, PluginClassInfo};
use kconnect_plugin_api::context::{
    ConnectorContextObject, FfiConnectorContext, FfiConnectorContext_TO,
};
use kconnect_plugin_api::{ConnectError, PluginKind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A task thread as the herder sees it.
pub struct TaskRuntime {
    pub status: StatusCell,
    pub errors: Arc<ErrorCounters>,
    pub control: Arc<TaskControl>,
    pub done: Option<std::sync::mpsc::Receiver<()>>,
}

/// Records a connector's background failures (`raise_error`) in its status, and its requests
/// for new task configs.
struct HostConnectorContext {
    status: StatusCell,
    reconfigure: Arc<AtomicBool>,
}

impl FfiConnectorContext for HostConnectorContext {
    fn request_task_reconfiguration(&self) {
        self.reconfigure.store(true, Ordering::Release);
        log::info!("a connector asked for task reconfiguration");
    }

    fn raise_error(&self, error: ConnectError) {
        self.status.fail(error_trace(&error));
    }
}

pub fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

pub fn internal(e: impl std::fmt::Display) -> HerderError {
    HerderError::Internal(e.to_string())
}

pub fn rest_state(state: State) -> kconnect_herder_api::entities::State {
    use kconnect_herder_api::entities::State as S;
    match state {
        State::Unassigned => S::Unassigned,
        State::Running => S::Running,
        State::Paused => S::Paused,
        State::Stopped => S::Stopped,
        State::Failed => S::Failed,
        State::Restarting => S::Restarting,
    }
}

pub fn connector_type(kind: PluginKind) -> ConnectorType {
    match kind {
        PluginKind::Source => ConnectorType::Source,
        PluginKind::Sink => ConnectorType::Sink,
        _ => ConnectorType::Unknown,
    }
}

pub fn target_name(target: TargetState) -> &'static str {
    match target {
        TargetState::Running => "RUNNING",
        TargetState::Paused => "PAUSED",
        TargetState::Stopped => "STOPPED",
    }
}

/// Adds what Kafka's worker adds to every task config a connector gives (`Worker
/// .connectorTaskConfigs`): `task.class`, and a sink's `topics` / `topics.regex` — a Java worker
/// of the same group runs a task from these configs.
fn with_worker_keys(mut task: Properties, raw: &Properties, task_class: &str) -> Properties {
    task.insert("task.class".to_string(), task_class.to_string());
    for key in ["topics", "topics.regex"] {
        if let Some(value) = raw.get(key) {
            task.insert(key.to_string(), value.clone());
        }
    }
    task
}

/// Puts placeholders back into a task config the connector built from resolved values, so that
/// secrets never reach stored or listed task configs (Kafka's `reverseTransform`).
fn unresolve(mut task: Properties, raw: &Properties, resolved: &Properties) -> Properties {
    for (key, value) in task.iter_mut() {
        if let (Some(raw_value), Some(resolved_value)) = (raw.get(key), resolved.get(key)) {
            if raw_value != resolved_value && value == resolved_value {
                *value = raw_value.clone();
            }
        }
    }
    task
}

/// Asks tasks to stop; returns what signals each one's end.
pub fn request_stop<'a>(
    tasks: impl IntoIterator<Item = &'a mut TaskRuntime>,
) -> Vec<std::sync::mpsc::Receiver<()>> {
    tasks
        .into_iter()
        .filter_map(|t| {
            t.control.request_stop();
            t.done.take()
        })
        .collect()
}

/// Waits for task threads to end, until `deadline`; a task still running then is left behind.
pub async fn wait_for_tasks(done: Vec<std::sync::mpsc::Receiver<()>>, deadline: Instant) {
    let _ = tokio::task::spawn_blocking(move || {
        for rx in done {
            let left = deadline.saturating_duration_since(Instant::now());
            if rx.recv_timeout(left).is_err() {
                log::warn!("a task did not stop within task.shutdown.graceful.timeout.ms; leaving it behind");
            }
        }
    })
    .await;
}

/// Runs a blocking closure off the async threads, giving up after `timeout`.
pub async fn blocking<T: Send + 'static>(
    timeout: Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HerderError> {
    match tokio::time::timeout(timeout, tokio::task::spawn_blocking(f)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(HerderError::Internal(format!("{what} failed: {e}"))),
        Err(_) => Err(HerderError::TimedOut(format!(
            "{what} did not finish within {timeout:?}"
        ))),
    }
}

/// A started connector instance.
pub struct StartedConnector {
    pub handle: Arc<Mutex<ConnectorHandle>>,
    /// The class the instance was made from: its tasks are made from the same one, whatever
    /// versions were hot-loaded since, until the connector itself restarts.
    pub class: Arc<PluginClassInfo>,
    /// Task configs with `${…}` placeholders put back.
    pub task_configs: Vec<Properties>,
    /// Set when the connector asks for its task configs to be generated again.
    pub reconfigure: Arc<AtomicBool>,
}

/// Starts a connector instance and asks it for task configs (blocking plugin calls, bounded by
/// `timeout`). On failure the status is FAILED with the trace, and `None` comes back.
pub async fn start_connector(
    worker: &Arc<WorkerContext>,
    config: &Arc<ConnectorConfig>,
    status: &StatusCell,
    timeout: Duration,
) -> Option<StartedConnector> {
    let name = config.name.clone();
    let worker = worker.clone();
    let config = config.clone();
    let context_status = status.clone();
    let reconfigure = Arc::new(AtomicBool::new(false));
    let context_reconfigure = reconfigure.clone();
    let started = blocking(timeout, "connector start", move || {
        let info = validation::resolve_connector(
            &worker,
            &config.connector_class,
            config.plugin_version.as_deref(),
        )?;
        let mut handle = worker.registry.new_connector(&info)?;
        let context: ConnectorContextObject = FfiConnectorContext_TO::from_value(
            HostConnectorContext {
                status: context_status,
                reconfigure: context_reconfigure,
            },
            abi_stable::sabi_trait::TD_Opaque,
        );
        let resolved = worker.providers.resolve(&config.raw)?;
        handle.start(resolved.clone(), context)?;
        let task_configs = handle
            .task_configs(config.tasks_max)?
            .into_iter()
            .map(|task| unresolve(task, &config.raw, &resolved))
            .map(|task| with_worker_keys(task, &config.raw, &info.task_class))
            .collect();
        Ok::<_, WorkerError>((handle, task_configs, info))
    })
    .await;
    let failure = match started {
        Ok(Ok((handle, task_configs, class))) => {
            return Some(StartedConnector {
                handle: Arc::new(Mutex::new(handle)),
                class,
                task_configs,
                reconfigure,
            })
        }
        Ok(Err(WorkerError::Plugin(p))) => error_trace(&p),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    log::error!("connector {name} failed to start: {failure}");
    status.fail(failure);
    None
}

/// Asks a running connector instance for its task configs again (placeholders put back).
pub async fn regenerate_task_configs(
    worker: &Arc<WorkerContext>,
    config: &Arc<ConnectorConfig>,
    started: &StartedConnector,
    timeout: Duration,
) -> Result<Vec<Properties>, HerderError> {
    let worker = worker.clone();
    let config = config.clone();
    let handle = started.handle.clone();
    let task_class = started.class.task_class.clone();
    blocking(timeout, "task configs", move || {
        let resolved = worker.providers.resolve(&config.raw)?;
        let configs = handle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .task_configs(config.tasks_max)?;
        Ok::<_, WorkerError>(
            configs
                .into_iter()
                .map(|task| unresolve(task, &config.raw, &resolved))
                .map(|task| with_worker_keys(task, &config.raw, &task_class))
                .collect(),
        )
    })
    .await?
    .map_err(internal)
}

/// Stops a connector instance, giving up after `timeout`.
pub async fn stop_connector(handle: Option<Arc<Mutex<ConnectorHandle>>>, timeout: Duration) {
    let Some(handle) = handle else { return };
    let result = blocking(timeout, "connector stop", move || {
        handle.lock().unwrap_or_else(|e| e.into_inner()).stop()
    })
    .await;
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::warn!("connector stop failed: {e}"),
        Err(e) => log::warn!("{e}"),
    }
}

/// What a task thread is started from.
pub struct TaskLaunch<'a> {
    pub connector: &'a Arc<ConnectorConfig>,
    pub kind: PluginKind,
    /// The class of the running connector instance; `None` resolves it again (the instance runs
    /// on another worker).
    pub class: Option<&'a Arc<PluginClassInfo>>,
    pub paused: bool,
    pub active_topics: &'a ActiveTopics,
}

/// Starts one task on its own thread. A failure to start leaves the task FAILED with the reason.
pub fn start_task(
    worker: &Arc<WorkerContext>,
    launch: TaskLaunch<'_>,
    id: u32,
    task_config: Properties,
) -> TaskRuntime {
    let name = &launch.connector.name;
    let status = StatusCell::new(State::Unassigned);
    let errors = Arc::new(ErrorCounters::default());
    let metrics = Arc::new(TaskMetrics::default());
    worker.metrics.register_task(
        name,
        id,
        TaskEntry {
            kind: if launch.kind == PluginKind::Source {
                "source"
            } else {
                "sink"
            },
            status: status.clone(),
            metrics: metrics.clone(),
            errors: errors.clone(),
        },
    );
    let control = Arc::new(TaskControl::default());
    control.set_paused(launch.paused);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let spawn = (|| -> Result<(), WorkerError> {
        // Tasks see secrets resolved; the stored and shown configs keep the placeholders.
        let providers = &worker.providers;
        let (connector, task_config) = if providers.is_empty() {
            (launch.connector.clone(), task_config)
        } else {
            let resolved = providers.resolve(&launch.connector.raw)?;
            (
                Arc::new(ConnectorConfig::from_properties(resolved)?),
                providers.resolve(&task_config)?,
            )
        };
        let info = match launch.class {
            Some(class) => class.clone(),
            None => validation::resolve_connector(
                worker,
                &connector.connector_class,
                connector.plugin_version.as_deref(),
            )?,
        };
        let env = TaskEnv {
            connector,
            task_id: id,
            task_config,
            worker: worker.clone(),
            status: status.clone(),
            control: control.clone(),
            active_topics: launch.active_topics.clone(),
            errors: errors.clone(),
            metrics,
        };
        let run: Box<dyn FnOnce() + Send> = match launch.kind {
            PluginKind::Source => {
                let handle = worker.registry.new_source_task(&info)?;
                Box::new(move || source::run(env, handle))
            }
            _ => {
                let handle = worker.registry.new_sink_task(&info)?;
                Box::new(move || sink::run(env, handle))
            }
        };
        std::thread::Builder::new()
            .name(format!("task-{name}-{id}"))
            .spawn(move || {
                run();
                let _ = done_tx.send(());
            })
            .map_err(|e| WorkerError::thread(format!("task {name}-{id}"), e))?;
        Ok(())
    })();
    if let Err(e) = spawn {
        log::error!("task {name}-{id} failed to start: {e}");
        status.fail(e.to_string());
    }
    TaskRuntime {
        status,
        errors,
        control,
        done: Some(done_rx),
    }
}
