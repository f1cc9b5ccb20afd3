//! What both herders answer the same way, whatever runs where: one [`HerderCore`] that each
//! herder holds, and the pure pieces of their answers (PATCH merge, restart plan, task lookup,
//! offsets bodies, Kafka's messages).
//!
//! A rule of Kafka's REST semantics that does not depend on the mode lives here, once; the
//! herders only say where their connectors are and how a change reaches them.

use super::readiness::Readiness;
use super::runtime::{blocking, internal};
use super::validation::{self, Refusal, Validated};
use crate::config::connector::Subscription;
use crate::config::{ConnectorConfig, Properties};
use crate::error::WorkerError;
use crate::kafka::ClientSettings;
use crate::worker::offsets::json_to_source_map;
use crate::worker::WorkerContext;
use kconnect_herder_api::entities::{
    ConfigInfos, ConfigKeyInfo, ConnectorOffset, ConnectorOffsets, ConnectorStateInfo,
    ConnectorTaskId, Health, Message, PluginInfo, ServerInfo, State, TaskInfo, TaskState,
};
use kconnect_herder_api::{
    ClusterView, GroupInfo, HerderError, PluginFailure, PreviewRequest, PreviewResult, WorkerMode,
};
use kconnect_plugin_api::record::SourceMap;
use kconnect_plugin_api::PluginKind;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// How long a plugin may take to validate a config before the request fails.
pub const VALIDATION_TIMEOUT: Duration = Duration::from_secs(30);
/// The least time a connector instance is given to start or to give its task configs.
pub const MIN_CONNECTOR_CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a consumer-group offsets request may take (read, alter, reset).
const GROUP_OFFSETS_TIMEOUT: Duration = Duration::from_secs(30);

/// The state and answers both herders share.
pub struct HerderCore {
    pub worker: Arc<WorkerContext>,
    ready: Readiness,
    cluster_id: OnceLock<String>,
    advertised_url: OnceLock<String>,
}

impl HerderCore {
    pub fn new(worker: Arc<WorkerContext>) -> HerderCore {
        HerderCore {
            worker,
            ready: Readiness::default(),
            cluster_id: OnceLock::new(),
            advertised_url: OnceLock::new(),
        }
    }

    /// The Kafka cluster id, once known (it is fetched in the background).
    pub fn set_cluster_id(&self, id: String) {
        let _ = self.cluster_id.set(id);
    }

    /// This worker's REST URL as others reach it, once the REST server is bound.
    pub fn set_advertised_url(&self, url: &str) {
        let _ = self
            .advertised_url
            .set(url.trim_end_matches('/').to_string());
    }

    /// This worker's REST URL without a trailing slash; empty before the server is bound.
    pub fn advertised_url(&self) -> String {
        self.advertised_url.get().cloned().unwrap_or_default()
    }

    /// Marks startup finished: requests waiting for it go on, `GET /health` turns healthy.
    pub fn set_ready(&self) {
        self.ready.set_started();
    }

    pub async fn started(&self) {
        self.ready.started().await
    }

    /// Rebalances are routine: they do not make a started worker unhealthy.
    pub fn health(&self) -> Health {
        if self.ready.is_started() {
            Health::Healthy
        } else {
            Health::Starting(None)
        }
    }

    pub fn server_info(&self) -> ServerInfo {
        ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: option_env!("KCONNECT_COMMIT")
                .unwrap_or("unknown")
                .to_string(),
            kafka_cluster_id: self.cluster_id.get().cloned().unwrap_or_default(),
        }
    }

    pub fn metrics(&self) -> String {
        self.worker.metrics.render()
    }

    pub fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        crate::plugins_listing(&self.worker.registry, connectors_only)
    }

    /// `GET /connector-plugins/{p}/config`. For a connector, as Kafka 4: the plugin's own keys,
    /// then the common keys of its kind (those `config/validate` lists); for any other plugin,
    /// its own.
    pub fn plugin_config(&self, plugin: &str) -> Result<Vec<ConfigKeyInfo>, HerderError> {
        let own = crate::plugin_config(&self.worker, plugin)?;
        let connector_kind = self
            .worker
            .registry
            .resolve(plugin, &[PluginKind::Source, PluginKind::Sink], None)
            .ok()
            .map(|info| info.kind);
        Ok(match connector_kind {
            Some(kind) => with_common_keys(kind, own),
            None => own,
        })
    }

    /// `task.shutdown.graceful.timeout.ms`.
    pub fn graceful(&self) -> Duration {
        self.worker.config.task_shutdown_graceful_timeout
    }

    /// How long a connector instance may take to start or to give its task configs: the
    /// graceful timeout, and never less than [`MIN_CONNECTOR_CALL_TIMEOUT`] (a short graceful
    /// timeout is for stopping tasks, not for connectors that reach out to a database).
    pub fn connector_call_timeout(&self) -> Duration {
        self.graceful().max(MIN_CONNECTOR_CALL_TIMEOUT)
    }

    /// `PUT /connector-plugins/{p}/config/validate`: 404 for an unknown class, as Kafka.
    pub async fn validate_config(
        &self,
        plugin: &str,
        config: BTreeMap<String, String>,
    ) -> Result<ConfigInfos, HerderError> {
        let worker = self.worker.clone();
        let plugin = plugin.to_string();
        let validated = blocking(VALIDATION_TIMEOUT, "validation", move || {
            validation::validate(&worker, &plugin, &config)
        })
        .await?;
        match validated {
            Ok(v) => Ok(v.infos),
            Err(Refusal::UnknownClass(message)) => Err(HerderError::NotFound(message)),
            Err(Refusal::Invalid(e)) => Err(e),
        }
    }

    /// A config about to be created or updated, validated through its plugin: Kafka's 400
    /// message on any error (an unknown class included), the parsed config otherwise.
    pub async fn validated_for_write(
        &self,
        config: Properties,
    ) -> Result<(Validated, ConnectorConfig), HerderError> {
        let class = connector_class(&config)?;
        let worker = self.worker.clone();
        let checked = config.clone();
        let validated = blocking(VALIDATION_TIMEOUT, "validation", move || {
            validation::validate(&worker, &class, &checked)
        })
        .await??;
        if validated.infos.error_count > 0 {
            return Err(HerderError::Invalid(validation::invalid_config_message(
                &validated.infos,
            )));
        }
        let parsed = ConnectorConfig::from_properties(config)
            .map_err(|e| HerderError::Invalid(e.to_string()))?;
        Ok((validated, parsed))
    }

    /// `GET /kconnect/cluster` for this worker; the distributed herder adds its group.
    pub fn cluster_view(&self, mode: WorkerMode, group: Option<GroupInfo>) -> ClusterView {
        ClusterView {
            mode,
            version: env!("CARGO_PKG_VERSION").to_string(),
            kafka_cluster_id: self.cluster_id.get().cloned(),
            worker_url: self.advertised_url(),
            group,
            plugin_failures: self
                .worker
                .registry
                .failures()
                .into_iter()
                .map(|failure| PluginFailure {
                    path: failure.path.display().to_string(),
                    reason: failure.reason,
                })
                .collect(),
        }
    }

    /// `POST /kconnect/preview`, off the async threads (plugin transformations may be called).
    pub async fn preview(&self, request: PreviewRequest) -> Result<PreviewResult, HerderError> {
        let worker = self.worker.clone();
        blocking(VALIDATION_TIMEOUT, "preview", move || {
            super::preview::preview(&worker, request)
        })
        .await?
    }

    /// The keys of PASSWORD type in the definitions of the connector classes `configs` name,
    /// to mask a history that may span several classes.
    pub fn password_keys<'a>(
        &self,
        configs: impl IntoIterator<Item = &'a Properties>,
    ) -> BTreeSet<String> {
        let classes: BTreeSet<&str> = configs
            .into_iter()
            .filter_map(|config| config.get("connector.class"))
            .map(|class| class.trim())
            .collect();
        classes
            .into_iter()
            .filter_map(|class| crate::plugin_config(&self.worker, class).ok())
            .flatten()
            .filter(|key| key.config_type == "PASSWORD")
            .map(|key| key.name)
            .collect()
    }

    /// 403 unless topic tracking (and, for a reset, resetting) is enabled.
    pub fn topic_tracking_allowed(&self, reset: bool) -> Result<(), HerderError> {
        if !self.worker.config.topic_tracking_enable {
            return Err(HerderError::Disabled("Topic tracking is disabled.".into()));
        }
        if reset && !self.worker.config.topic_tracking_allow_reset {
            return Err(HerderError::Disabled(
                "Topic tracking reset is disabled.".into(),
            ));
        }
        Ok(())
    }

    /// Runs `f` on a sink connector's consumer group, off the async threads.
    pub async fn sink_group<T: Send + 'static>(
        &self,
        config: Arc<ConnectorConfig>,
        f: impl FnOnce(&ClientSettings, &str, &Subscription) -> Result<T, WorkerError> + Send + 'static,
    ) -> Result<T, HerderError> {
        let subscription = config
            .subscription()
            .map_err(|e| HerderError::Invalid(e.to_string()))?;
        let worker = self.worker.clone();
        blocking(GROUP_OFFSETS_TIMEOUT, "consumer group offsets", move || {
            f(&worker.clients, &config.sink_group_id(), &subscription)
        })
        .await?
        .map_err(internal)
    }
}

/// Kafka's 409 for creating a connector that exists.
/// The config's `connector.class`, trimmed; Kafka's 400 message when it is missing or empty.
pub fn connector_class(config: &Properties) -> Result<String, HerderError> {
    config
        .get("connector.class")
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            HerderError::Invalid("Connector config is missing connector.class".to_string())
        })
}

pub fn already_exists(name: &str) -> HerderError {
    HerderError::Conflict(format!("Connector {name} already exists"))
}

/// Kafka's 404 for a task index the connector does not have.
pub fn task_not_found(name: &str, task: u32) -> HerderError {
    HerderError::NotFound(format!("Task {name}-{task} not found"))
}

/// Kafka's 400 when offsets are changed on a connector that is not STOPPED.
pub fn not_stopped(name: &str) -> HerderError {
    HerderError::Invalid(format!(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    ))
}

/// The answer to a successful `PATCH /connectors/{c}/offsets`.
pub fn offsets_altered() -> Message {
    Message::new("The offsets for this connector have been altered successfully")
}

/// The answer to a successful `DELETE /connectors/{c}/offsets`.
pub fn offsets_reset() -> Message {
    Message::new("The offsets for this connector have been reset successfully")
}

/// `PATCH /connectors/{c}/config` (KIP-477): `None` removes a key. The name may be left out of
/// the patch or repeated, never changed.
pub fn patched(
    name: &str,
    mut config: Properties,
    patch: BTreeMap<String, Option<String>>,
) -> Result<Properties, HerderError> {
    for (key, value) in patch {
        match value {
            Some(value) => config.insert(key, value),
            None => config.remove(&key),
        };
    }
    if config.get("name").is_some_and(|n| n != name) {
        return Err(HerderError::Invalid(
            "Connector name configuration (name) must match the connector name".into(),
        ));
    }
    config.insert("name".to_string(), name.to_string());
    Ok(config)
}

/// One task's state out of its connector's status.
pub fn task_state(
    status: ConnectorStateInfo,
    name: &str,
    task: u32,
) -> Result<TaskState, HerderError> {
    status
        .tasks
        .into_iter()
        .find(|t| t.id == task)
        .ok_or_else(|| task_not_found(name, task))
}

/// The task configs of a connector as `GET /connectors/{c}/tasks` lists them, passwords masked.
pub fn task_infos<'a>(
    name: &str,
    configs: impl IntoIterator<Item = &'a Properties>,
    password_keys: &BTreeSet<String>,
) -> Vec<TaskInfo> {
    configs
        .into_iter()
        .enumerate()
        .map(|(task, config)| TaskInfo {
            id: ConnectorTaskId {
                connector: name.to_string(),
                task: task as u32,
            },
            config: validation::mask(config, password_keys),
        })
        .collect()
}

/// What `POST /connectors/{c}/restart` restarts (KIP-745).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartPlan {
    pub connector: bool,
    pub tasks: Vec<u32>,
}

impl RestartPlan {
    /// Decides from the connector's current status, and marks what restarts as RESTARTING in
    /// it: that status is the response body.
    pub fn mark(
        report: &mut ConnectorStateInfo,
        include_tasks: bool,
        only_failed: bool,
    ) -> RestartPlan {
        let connector = !only_failed || report.connector.state == State::Failed;
        if connector {
            report.connector.state = State::Restarting;
        }
        let mut tasks = Vec::new();
        if include_tasks {
            for task in report.tasks.iter_mut() {
                if !only_failed || task.state == State::Failed {
                    task.state = State::Restarting;
                    tasks.push(task.id);
                }
            }
        }
        RestartPlan { connector, tasks }
    }

    /// Everything restarts: the connector and every one of its `task_count` tasks.
    pub fn is_whole(&self, task_count: usize) -> bool {
        self.connector && self.tasks.len() == task_count
    }
}

/// The body of `GET /connectors/{c}/offsets` for a source connector.
pub fn source_offsets(stored: Vec<(Json, Json)>) -> ConnectorOffsets {
    let offsets = stored
        .into_iter()
        .filter_map(|(partition, offset)| {
            Some(ConnectorOffset {
                partition: partition.as_object()?.clone(),
                offset: offset.as_object().cloned(),
            })
        })
        .collect();
    ConnectorOffsets { offsets }
}

/// The body of `PATCH /connectors/{c}/offsets` for a source connector; `None` offsets delete.
pub fn source_offset_changes(
    offsets: ConnectorOffsets,
) -> Result<Vec<(SourceMap, Option<SourceMap>)>, HerderError> {
    offsets
        .offsets
        .into_iter()
        .map(|entry| {
            let partition = json_to_source_map(&Json::Object(entry.partition))
                .ok_or_else(|| HerderError::Invalid("partition must be a JSON object".into()))?;
            let offset = entry
                .offset
                .and_then(|o| json_to_source_map(&Json::Object(o)));
            Ok((partition, offset))
        })
        .collect()
}

/// A connector plugin's own keys, then the common keys of its `kind` (Kafka 4's order); a
/// plugin key of the same name as a common one is shown once, as the common key.
fn with_common_keys(kind: PluginKind, own: Vec<ConfigKeyInfo>) -> Vec<ConfigKeyInfo> {
    let common: Vec<ConfigKeyInfo> = crate::config::connector::common_config_def(kind)
        .keys
        .iter()
        .map(ConfigKeyInfo::from)
        .collect();
    let mut keys: Vec<ConfigKeyInfo> = own
        .into_iter()
        .filter(|key| common.iter().all(|c| c.name != key.name))
        .collect();
    keys.extend(common);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_herder_api::entities::{ConnectorState, ConnectorType};

    #[test]
    fn a_connectors_config_lists_its_own_keys_then_the_common_keys_of_its_kind() {
        let own = |name: &str| {
            ConfigKeyInfo::from(&kconnect_plugin_api::config::ConfigKey::required(
                name,
                kconnect_plugin_api::config::ConfigType::String,
                "doc",
            ))
        };
        let sink = with_common_keys(PluginKind::Sink, vec![own("file"), own("topics")]);
        let names: Vec<&str> = sink.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names[..4], ["file", "name", "connector.class", "tasks.max"]);
        assert_eq!(names.iter().filter(|n| **n == "topics").count(), 1);
        let topics = sink.iter().find(|k| k.name == "topics").unwrap();
        assert_eq!(topics.group.as_deref(), Some("Common"));
        let source = with_common_keys(PluginKind::Source, vec![own("topic")]);
        assert!(source.iter().all(|k| k.name != "topics"));
        assert_eq!(source.first().map(|k| k.name.as_str()), Some("topic"));
    }

    fn status(connector: State, tasks: &[State]) -> ConnectorStateInfo {
        ConnectorStateInfo {
            name: "c".into(),
            connector: ConnectorState {
                state: connector,
                worker_id: "w".into(),
                trace: None,
            },
            tasks: tasks
                .iter()
                .enumerate()
                .map(|(id, state)| TaskState {
                    id: id as u32,
                    state: *state,
                    worker_id: "w".into(),
                    trace: None,
                })
                .collect(),
            connector_type: ConnectorType::Source,
        }
    }

    #[test]
    fn a_plain_restart_is_the_connector_alone() {
        let mut report = status(State::Running, &[State::Failed, State::Running]);
        let plan = RestartPlan::mark(&mut report, false, false);
        assert_eq!(
            plan,
            RestartPlan {
                connector: true,
                tasks: vec![]
            }
        );
        assert_eq!(report.connector.state, State::Restarting);
        assert_eq!(report.tasks[0].state, State::Failed);
    }

    #[test]
    fn only_failed_restarts_failed_units_and_marks_them() {
        let mut report = status(
            State::Running,
            &[State::Failed, State::Running, State::Failed],
        );
        let plan = RestartPlan::mark(&mut report, true, true);
        assert_eq!(
            plan,
            RestartPlan {
                connector: false,
                tasks: vec![0, 2]
            }
        );
        assert_eq!(report.connector.state, State::Running);
        let states: Vec<State> = report.tasks.iter().map(|t| t.state).collect();
        assert_eq!(
            states,
            [State::Restarting, State::Running, State::Restarting]
        );
        assert!(!plan.is_whole(3));
    }

    #[test]
    fn include_tasks_restarts_everything() {
        let mut report = status(State::Failed, &[State::Running, State::Paused]);
        let plan = RestartPlan::mark(&mut report, true, false);
        assert!(plan.is_whole(2));
        assert!(report.tasks.iter().all(|t| t.state == State::Restarting));
    }

    #[test]
    fn a_patch_sets_removes_and_keeps_the_name() {
        let config: Properties = [("name", "c"), ("a", "1"), ("b", "2")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let patch = BTreeMap::from([
            ("a".to_string(), None),
            ("c".to_string(), Some("3".to_string())),
        ]);
        let merged = patched("c", config.clone(), patch).unwrap();
        assert_eq!(
            merged.into_iter().collect::<Vec<_>>(),
            [("b", "2"), ("c", "3"), ("name", "c")].map(|(k, v)| (k.to_string(), v.to_string()))
        );
        let renamed = BTreeMap::from([("name".to_string(), Some("other".to_string()))]);
        assert!(matches!(
            patched("c", config, renamed),
            Err(HerderError::Invalid(_))
        ));
    }

    #[test]
    fn an_unknown_task_is_not_found_with_kafkas_message() {
        let error = task_state(status(State::Running, &[State::Running]), "c", 1).unwrap_err();
        assert_eq!(error, HerderError::NotFound("Task c-1 not found".into()));
    }
}
