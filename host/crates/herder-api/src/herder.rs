//! What the worker exposes to its front ends: [`Herder`] (connectors, tasks, plugins, offsets)
//! and [`LogControl`] (KIP-495 loggers).
//!
//! A front end checks what Kafka's REST resources check before calling (name in body vs path,
//! connector class vs plugin path, required `level`, non-empty offsets) and nothing else:
//! config validation, password masking and rebalance detection live in the herder, which
//! reports them through [`HerderError`].

use crate::console::{ClusterView, ConfigVersion, PreviewRequest, PreviewResult};
use crate::entities::{
    ConfigInfos, ConfigKeyInfo, ConnectorInfo, ConnectorOffsets, ConnectorStateInfo,
    ExpandedConnector, Health, LoggerLevel, Message, PluginInfo, ServerInfo, TargetState, TaskInfo,
    TaskState,
};
use std::collections::BTreeMap;

/// Why a herder call did not succeed. Each variant is an outcome a caller can act on; the
/// message is Kafka's, for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HerderError {
    /// An unknown connector, task, plugin or logger.
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (the connector already exists, …).
    #[error("{0}")]
    Conflict(String),
    /// An invalid config or request.
    #[error("{0}")]
    Invalid(String),
    /// A rebalance is in progress or no leader is known: the caller may retry.
    #[error("Cannot complete request because of a conflicting operation (e.g. worker rebalance)")]
    Rebalancing,
    /// The operation is switched off by the worker's config (e.g. topic tracking).
    #[error("{0}")]
    Disabled(String),
    /// An internal request whose signature does not verify (KIP-507).
    #[error("{0}")]
    Forbidden(String),
    /// The operation did not complete in time.
    #[error("{0}")]
    TimedOut(String),
    /// The operation does not exist in this worker's mode (e.g. an internal inter-worker
    /// request sent to a standalone worker).
    #[error("{0}")]
    Unsupported(String),
    /// Another worker of the cluster serves this request: the group's leader, or the worker
    /// that runs the connector or task. `url` is that worker's REST URL, `None` while no leader
    /// is known. The REST layer forwards the request there (at most two hops, as Kafka does).
    #[error("{message}")]
    ServedElsewhere {
        message: String,
        url: Option<String>,
    },
    /// Anything else: a failure inside the worker.
    #[error("{0}")]
    Internal(String),
}

/// The signature of an internal request between workers (KIP-507): the headers
/// `X-Connect-Request-Signature-Algorithm` and `X-Connect-Authorization`, and the body bytes
/// they sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalRequestSignature {
    pub algorithm: String,
    /// Base64, as sent.
    pub signature: String,
    pub body: Vec<u8>,
}

/// What the worker exposes to its front ends. Every call may be made concurrently from several
/// threads, and its future may be dropped (the REST API gives up after its request timeout).
#[async_trait::async_trait]
pub trait Herder: Send + Sync + 'static {
    /// `GET /`.
    async fn server_info(&self) -> ServerInfo;
    /// `GET /health`.
    async fn health(&self) -> Health;
    /// Completes once the worker has finished starting (plugins loaded, connectors known).
    /// Every call below except [`Herder::metrics`] is made only after it completed, so no
    /// answer is built from half-loaded state; the default is a worker that starts at once.
    async fn started(&self) {}
    /// `GET /metrics`: Prometheus text exposition; empty when the worker keeps no metrics.
    async fn metrics(&self) -> String {
        String::new()
    }
    /// Names of all connectors, in the order to list them.
    async fn connectors(&self) -> Vec<String>;
    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, HerderError>;
    /// `GET /connectors?expand=…`: every connector with the details asked for. The default asks
    /// connector by connector (leaving out those deleted meanwhile, as Kafka does); a herder can
    /// answer in one pass instead.
    async fn connectors_expanded(
        &self,
        status: bool,
        info: bool,
    ) -> Result<BTreeMap<String, ExpandedConnector>, HerderError> {
        let mut expanded = BTreeMap::new();
        'connectors: for name in self.connectors().await {
            let mut entry = ExpandedConnector::default();
            if status {
                match self.connector_status(&name).await {
                    Ok(s) => entry.status = Some(s),
                    Err(HerderError::NotFound(_)) => continue 'connectors,
                    Err(e) => return Err(e),
                }
            }
            if info {
                match self.connector_info(&name).await {
                    Ok(i) => entry.info = Some(i),
                    Err(HerderError::NotFound(_)) => continue 'connectors,
                    Err(e) => return Err(e),
                }
            }
            expanded.insert(name, entry);
        }
        Ok(expanded)
    }
    async fn connector_config(&self, name: &str) -> Result<BTreeMap<String, String>, HerderError>;
    /// Creates (`allow_replace == false`: `Conflict` when it exists) or creates-or-replaces a
    /// connector. `config["name"] == name` always holds on entry. Returns whether it was created.
    async fn put_connector_config(
        &self,
        name: &str,
        config: BTreeMap<String, String>,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> Result<(bool, ConnectorInfo), HerderError>;
    /// Applies a patch to an existing connector's config: `None` removes a key (KIP-477).
    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo, HerderError>;
    async fn delete_connector(&self, name: &str) -> Result<(), HerderError>;
    async fn connector_status(&self, name: &str) -> Result<ConnectorStateInfo, HerderError>;
    async fn task_configs(&self, name: &str) -> Result<Vec<TaskInfo>, HerderError>;
    async fn task_status(&self, name: &str, task: u32) -> Result<TaskState, HerderError>;
    async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError>;
    /// KIP-745. When both flags are false only the connector instance restarts and the result
    /// is ignored; otherwise the returned status (tasks to restart shown `RESTARTING`) is the
    /// response body, and `None` makes the front end answer with `connector_status`.
    async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Option<ConnectorStateInfo>, HerderError>;
    async fn pause_connector(&self, name: &str) -> Result<(), HerderError>;
    async fn resume_connector(&self, name: &str) -> Result<(), HerderError>;
    async fn stop_connector(&self, name: &str) -> Result<(), HerderError>;
    async fn connector_offsets(&self, name: &str) -> Result<ConnectorOffsets, HerderError>;
    /// `offsets.offsets` is never empty here. A `None` offset resets that partition.
    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> Result<Message, HerderError>;
    async fn reset_connector_offsets(&self, name: &str) -> Result<Message, HerderError>;
    /// `Disabled("Topic tracking is disabled.")` when `topic.tracking.enable=false`.
    async fn active_topics(&self, name: &str) -> Result<Vec<String>, HerderError>;
    /// `Disabled(...)` when tracking or `topic.tracking.allow.reset` is off.
    async fn reset_active_topics(&self, name: &str) -> Result<(), HerderError>;
    /// `POST /connectors/{c}/tasks`, the internal request by which a follower running a
    /// connector hands its generated task configs to the leader, which writes them. Only a
    /// distributed worker serves it; the default answers as Kafka's standalone worker does.
    /// `signature` is what the request carried (KIP-507), with the body it signs.
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<BTreeMap<String, String>>,
        signature: Option<InternalRequestSignature>,
    ) -> Result<(), HerderError> {
        let _ = (name, configs, signature);
        Err(HerderError::Unsupported(
            "Kafka Connect in standalone mode does not support externally setting task configurations."
                .to_string(),
        ))
    }
    /// `PUT /connectors/{c}/fence`, the internal request by which a worker starting an
    /// exactly-once source task asks the leader to fence out the connector's older task
    /// producers (KIP-618). Only a distributed worker serves it; the default answers as Kafka's
    /// standalone worker does. `signature` as for [`Herder::put_task_configs`].
    async fn fence_zombies(
        &self,
        name: &str,
        signature: Option<InternalRequestSignature>,
    ) -> Result<(), HerderError> {
        let _ = (name, signature);
        Err(HerderError::Unsupported(
            "Kafka Connect in standalone mode does not support exactly-once source connectors."
                .to_string(),
        ))
    }
    /// All plugins, or only source and sink connectors.
    async fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo>;
    /// The config definition of a plugin given by class name or alias.
    async fn plugin_config(&self, plugin: &str) -> Result<Vec<ConfigKeyInfo>, HerderError>;
    /// Validates `config` for the connector plugin named in the path. `config` may lack
    /// `connector.class`; when present it matches `plugin` (checked by the REST layer).
    async fn validate_config(
        &self,
        plugin: &str,
        config: BTreeMap<String, String>,
    ) -> Result<ConfigInfos, HerderError>;

    /// `GET /kconnect/cluster`: this worker, its group and its plugin failures.
    async fn cluster(&self) -> ClusterView;
    /// `POST /kconnect/preview`: `Invalid` for an unknown connector class or a config whose
    /// converters or transformations cannot be built.
    async fn preview(&self, request: PreviewRequest) -> Result<PreviewResult, HerderError>;
    /// `GET /kconnect/connectors/{c}/history`: `NotFound` when the connector has neither a
    /// config nor a history.
    async fn config_history(&self, name: &str) -> Result<Vec<ConfigVersion>, HerderError>;
    /// `POST /kconnect/connectors/{c}/history/{v}/rollback`: writes version `version`'s
    /// config as the connector's config (a new version); `NotFound` for an unknown version,
    /// `Invalid` for a version that is a deletion.
    async fn rollback_config(&self, name: &str, version: u32)
        -> Result<ConnectorInfo, HerderError>;
}

/// Runtime log levels (KIP-495). Level names reach [`LogControl::set_level`] upper-cased and
/// checked against log4j's names (`OFF FATAL ERROR WARN INFO DEBUG TRACE ALL`).
pub trait LogControl: Send + Sync + 'static {
    /// Loggers whose level was set explicitly, plus the root logger.
    fn loggers(&self) -> BTreeMap<String, LoggerLevel>;
    /// A logger's level (its effective level when not set explicitly); `None` when unknown.
    fn logger(&self, name: &str) -> Option<LoggerLevel>;
    /// Sets the level of `name` and its descendants on this worker; returns the loggers changed.
    fn set_level(&self, name: &str, level: &str) -> Result<Vec<String>, HerderError>;
    /// `?scope=cluster`: sets the level on every worker. The default acts on this worker only,
    /// which is right for a standalone worker.
    fn set_cluster_level(&self, name: &str, level: &str) -> Result<(), HerderError> {
        self.set_level(name, level).map(|_| ())
    }
}
