//! The REST API of a distributed worker. Reads come from the topics as this worker read them, so
//! every worker answers the same. Writes are served where Kafka Connect serves them
//! ([`routing`]): the leader writes configs and the owner restarts a unit, other workers answer
//! `ServedElsewhere` and the REST layer forwards; a write returns once read back here. A write
//! during a rebalance of the workers' group gets 409, as in Kafka Connect, so clients retry
//! instead of racing a new assignment.

use super::config_log::{
    connector_record, delete_connector_records, restart_connector_record, restart_task_record,
    target_record, task_records, ConfigState, Records,
};
use super::config_log::{task_count_record, Restart};
use super::fencing::{self, FencePlan};
use super::routing::{self, Unit};
use super::session_key::{Signature, HMAC_SHA256};
use super::status_log::{StatusBoard, StatusKey};
use super::{
    read, task_ids, Described, DistributedHerder, FRESH_READ_TIMEOUT, OFFSETS_CALL_SLACK,
    OFFSETS_READ_TIMEOUT,
};
use crate::config::Properties;
use crate::herder::core::{self, RestartPlan};
use crate::herder::runtime::{blocking, connector_type, internal, not_found};
use crate::herder::sink_offsets;
use crate::herder::validation::mask;
use crate::kafka::group_offsets;
use async_trait::async_trait;
use kconnect_herder_api::entities::*;
use kconnect_herder_api::{
    ClusterView, ConfigVersion, Herder, HerderError, InternalRequestSignature, PreviewRequest,
    PreviewResult, WorkerMode,
};
use kconnect_plugin_api::PluginKind;
use std::collections::BTreeMap;
use std::sync::Arc;

fn rest_state(text: &str) -> State {
    match text {
        "RUNNING" => State::Running,
        "PAUSED" => State::Paused,
        "STOPPED" => State::Stopped,
        "FAILED" => State::Failed,
        "RESTARTING" => State::Restarting,
        _ => State::Unassigned,
    }
}

/// How long fencing one producer may take at least (a transaction coordinator may need to
/// abort the zombie's open transaction first).
const FENCING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

const OFFSETS_LEADER_ONLY: &str =
    "Only the leader can process external offsets modification requests";

fn kind_type(kind: Option<PluginKind>) -> ConnectorType {
    kind.map_or(ConnectorType::Unknown, connector_type)
}

impl DistributedHerder {
    fn require_joined(&self) -> Result<(), HerderError> {
        if self.is_rebalancing() {
            return Err(HerderError::Rebalancing);
        }
        Ok(())
    }

    /// A request only the group's leader serves: `Ok` here when this worker leads (always
    /// under heartbeat membership, where every worker writes the config topic itself).
    fn as_leader(&self, message: &str) -> Result<(), HerderError> {
        match self.group.get() {
            Some(group) if self.uses_group() => {
                routing::serve_here(group.with_view(routing::leader_route), message)
            }
            _ => Ok(()),
        }
    }

    /// A plain restart of one unit. In the group it is done here, in a reconciling pass before
    /// the answer, when the unit runs here, and served by the owner otherwise (Kafka's
    /// `restartConnector`/`restartTask`). Under heartbeat membership its record goes to the
    /// config topic for the owner to read.
    async fn restart_unit(
        &self,
        unit: Unit<'_>,
        restart: Restart,
        record: (String, Option<Vec<u8>>),
    ) -> Result<(), HerderError> {
        self.require_joined()?;
        let Some(group) = self.group.get().filter(|_| self.uses_group()) else {
            return self.write(vec![record]).await;
        };
        let message = match unit {
            Unit::Connector(_) => {
                "Cannot restart connector since it is not assigned to this member"
            }
            Unit::Task(_) => "Cannot restart task since it is not assigned to this member",
        };
        routing::serve_here(group.with_view(|v| routing::owner_route(v, unit)), message)?;
        self.restarts_here
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(restart);
        self.reconcile().await;
        Ok(())
    }

    /// KIP-507: under `sessioned`, an internal request must carry a valid signature.
    fn verify_internal(
        &self,
        signature: Option<InternalRequestSignature>,
    ) -> Result<(), HerderError> {
        if !self.signs_requests() {
            return Ok(());
        }
        let Some(signature) = signature else {
            return Err(HerderError::Invalid(
                "Internal request missing required signature".to_string(),
            ));
        };
        let Some(key) = self.cluster.snapshot().session_key else {
            // The leader writes one before any follower can sign: a rebalance is under way.
            return Err(HerderError::Rebalancing);
        };
        match key.verify(&signature.algorithm, &signature.body, &signature.signature) {
            Signature::Valid => Ok(()),
            Signature::UnsupportedAlgorithm => Err(HerderError::Invalid(format!(
                "This worker does not support the '{}' key signing algorithm used by other workers. This worker is currently configured to use: [{HMAC_SHA256}]. Check that all workers' configuration files permit the same set of signature algorithms, and correct any misconfigured worker and restart it.",
                signature.algorithm
            ))),
            Signature::Invalid => Err(HerderError::Forbidden(
                "Internal request contained invalid signature.".to_string(),
            )),
        }
    }

    fn info(name: &str, state: &ConfigState, described: &Described) -> ConnectorInfo {
        ConnectorInfo {
            name: name.to_string(),
            config: mask(&state.connectors[name], &described.password_keys),
            tasks: task_ids(state, name)
                .into_iter()
                .map(|(connector, task)| ConnectorTaskId { connector, task })
                .collect(),
            connector_type: kind_type(described.kind),
        }
    }

    fn status(
        name: &str,
        state: &ConfigState,
        board: &StatusBoard,
        described: &Described,
    ) -> ConnectorStateInfo {
        let owner = |o: Option<&str>| o.unwrap_or_default().to_string();
        let connector = match board.connectors.get(name) {
            Some(s) => ConnectorState {
                state: rest_state(&s.state),
                worker_id: s.worker_id.clone(),
                trace: s.trace.clone(),
            },
            None => ConnectorState {
                state: State::Unassigned,
                worker_id: owner(state.assignment.connector_owner(name)),
                trace: None,
            },
        };
        let tasks = task_ids(state, name)
            .into_iter()
            .map(|id| match board.tasks.get(&id) {
                Some(s) => TaskState {
                    id: id.1,
                    state: rest_state(&s.state),
                    worker_id: s.worker_id.clone(),
                    trace: s.trace.clone(),
                },
                None => TaskState {
                    id: id.1,
                    state: State::Unassigned,
                    worker_id: owner(state.assignment.task_owner(&id)),
                    trace: None,
                },
            })
            .collect();
        ConnectorStateInfo {
            name: name.to_string(),
            connector,
            tasks,
            connector_type: kind_type(described.kind),
        }
    }

    /// Validates through the plugin (Kafka's 400 message on any error) and remembers what the
    /// plugin said of the config.
    async fn validated(&self, name: &str, config: Properties) -> Result<(), HerderError> {
        let (validated, _) = self.core.validated_for_write(config.clone()).await?;
        self.remember(
            name,
            Described {
                raw: config,
                kind: Some(validated.kind),
                password_keys: validated.password_keys,
            },
        );
        Ok(())
    }

    /// The config state once every write made before the call was read.
    async fn fresh(&self) -> ConfigState {
        // A no-op write-free barrier: the reader is usually within milliseconds of the end.
        let cluster = self.cluster.clone();
        let _ =
            tokio::task::spawn_blocking(move || cluster.config_reader.catch_up(FRESH_READ_TIMEOUT))
                .await;
        self.cluster.snapshot()
    }

    async fn existing(&self, name: &str) -> Result<ConfigState, HerderError> {
        let state = self.cluster.snapshot();
        if state.connectors.contains_key(name) {
            return Ok(state);
        }
        let state = self.fresh().await;
        if state.connectors.contains_key(name) {
            Ok(state)
        } else {
            Err(not_found(name))
        }
    }

    async fn write(&self, records: Records) -> Result<(), HerderError> {
        self.require_joined()?;
        self.cluster.write_config(records).await
    }

    async fn set_target(&self, name: &str, target: TargetState) -> Result<(), HerderError> {
        self.existing(name).await?;
        let mut records = Vec::new();
        if target == TargetState::Stopped {
            // It writes task configs too, which only the leader does.
            self.as_leader("Only the leader can transition connectors to the STOPPED state.")?;
            // A stopped connector has no tasks (Kafka writes an empty task set too).
            records.extend(task_records(name, &[]));
        }
        records.push(target_record(name, target));
        self.write(records).await
    }

    /// Runs `f` on a sink connector's consumer group.
    async fn sink_group<T: Send + 'static>(
        &self,
        raw: Properties,
        f: impl FnOnce(
                &crate::kafka::ClientSettings,
                &str,
                &crate::config::connector::Subscription,
            ) -> Result<T, crate::error::WorkerError>
            + Send
            + 'static,
    ) -> Result<T, HerderError> {
        let config = crate::config::ConnectorConfig::from_properties(raw)
            .map_err(|e| HerderError::Invalid(e.to_string()))?;
        self.core.sink_group(Arc::new(config), f).await
    }

    fn require_stopped(name: &str, state: &ConfigState) -> Result<(), HerderError> {
        let no_tasks = state.tasks.get(name).is_none_or(Vec::is_empty);
        if state.target(name) != TargetState::Stopped || !no_tasks {
            return Err(core::not_stopped(name));
        }
        Ok(())
    }
}

#[async_trait]
impl Herder for DistributedHerder {
    async fn server_info(&self) -> ServerInfo {
        self.core.server_info()
    }

    async fn started(&self) {
        self.core.started().await
    }

    async fn health(&self) -> Health {
        self.core.health()
    }

    async fn metrics(&self) -> String {
        self.core.metrics()
    }

    async fn connectors(&self) -> Vec<String> {
        read(&self.cluster.state)
            .connectors
            .keys()
            .cloned()
            .collect()
    }

    async fn connectors_expanded(
        &self,
        status: bool,
        info: bool,
    ) -> Result<BTreeMap<String, ExpandedConnector>, HerderError> {
        let state = self.cluster.snapshot();
        let board = read(&self.cluster.statuses).clone();
        let mut expanded = BTreeMap::new();
        for (name, raw) in &state.connectors {
            let described = self.describe(name, raw).await;
            expanded.insert(
                name.clone(),
                ExpandedConnector {
                    status: status.then(|| Self::status(name, &state, &board, &described)),
                    info: info.then(|| Self::info(name, &state, &described)),
                },
            );
        }
        Ok(expanded)
    }

    async fn connector_info(&self, name: &str) -> Result<ConnectorInfo, HerderError> {
        let state = self.existing(name).await?;
        let described = self.describe(name, &state.connectors[name]).await;
        Ok(Self::info(name, &state, &described))
    }

    async fn connector_config(&self, name: &str) -> Result<BTreeMap<String, String>, HerderError> {
        let state = self.existing(name).await?;
        let raw = &state.connectors[name];
        let described = self.describe(name, raw).await;
        Ok(mask(raw, &described.password_keys))
    }

    async fn put_connector_config(
        &self,
        name: &str,
        config: BTreeMap<String, String>,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> Result<(bool, ConnectorInfo), HerderError> {
        crate::config::connector::validate_connector_name(name).map_err(HerderError::Invalid)?;
        self.require_joined()?;
        let exists = self.fresh().await.connectors.contains_key(name);
        if exists && !allow_replace {
            return Err(core::already_exists(name));
        }
        self.validated(name, config.clone()).await?;
        self.as_leader("Only the leader can set connector configs.")?;
        let mut records = Vec::new();
        if let Some(target) = initial_state.filter(|_| !exists) {
            records.push(target_record(name, target));
        }
        records.push(connector_record(name, &config));
        self.write(records).await?;
        self.cluster.record_history(name, Some(&config)).await;
        let state = self.cluster.snapshot();
        if !state.connectors.contains_key(name) {
            return Err(HerderError::Conflict(format!(
                "Connector {name} was deleted while it was being written"
            )));
        }
        let described = self.describe(name, &state.connectors[name]).await;
        Ok((!exists, Self::info(name, &state, &described)))
    }

    async fn patch_connector_config(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo, HerderError> {
        self.as_leader("Only the leader can set connector configs.")?;
        let state = self.existing(name).await?;
        let config = core::patched(name, state.connectors[name].clone(), patch)?;
        self.put_connector_config(name, config, true, None)
            .await
            .map(|(_, info)| info)
    }

    async fn delete_connector(&self, name: &str) -> Result<(), HerderError> {
        self.as_leader("Only the leader can delete connector configs.")?;
        let state = self.existing(name).await?;
        self.write(delete_connector_records(name)).await?;
        self.cluster.record_history(name, None).await;
        // Statuses go too; the owner also removes them when it stops the connector.
        let topic = &self.cluster.config.status_topic.name;
        let keys = std::iter::once(StatusKey::Connector(name.to_string()))
            .chain(task_ids(&state, name).into_iter().map(StatusKey::Task));
        for key in keys {
            if let Err(e) = self.cluster.writer.send(topic, &key.text(), None).await {
                log::warn!("cannot delete status {}: {e}", key.text());
            }
        }
        Ok(())
    }

    async fn connector_status(&self, name: &str) -> Result<ConnectorStateInfo, HerderError> {
        let state = self.existing(name).await?;
        let described = self.describe(name, &state.connectors[name]).await;
        let board = read(&self.cluster.statuses);
        Ok(Self::status(name, &state, &board, &described))
    }

    async fn task_configs(&self, name: &str) -> Result<Vec<TaskInfo>, HerderError> {
        let state = self.existing(name).await?;
        let described = self.describe(name, &state.connectors[name]).await;
        Ok(core::task_infos(
            name,
            state.tasks.get(name).into_iter().flatten(),
            &described.password_keys,
        ))
    }

    async fn task_status(&self, name: &str, task: u32) -> Result<TaskState, HerderError> {
        core::task_state(self.connector_status(name).await?, name, task)
    }

    async fn restart_task(&self, name: &str, task: u32) -> Result<(), HerderError> {
        let state = self.existing(name).await?;
        if task as usize >= state.tasks.get(name).map_or(0, Vec::len) {
            return Err(core::task_not_found(name, task));
        }
        let id = (name.to_string(), task);
        self.restart_unit(
            Unit::Task(&id),
            Restart::Task(id.clone()),
            restart_task_record(&id),
        )
        .await
    }

    /// A Java follower that runs a connector hands its task configs to the leader it was
    /// assigned, signed under `sessioned` (KIP-507), unsigned under `compatible`. As in Kafka,
    /// only the leader writes them (a follower forwards); the records are the ones a kconnect
    /// worker writes for its own connectors (tasks, then their commit).
    async fn put_task_configs(
        &self,
        name: &str,
        configs: Vec<Properties>,
        signature: Option<InternalRequestSignature>,
    ) -> Result<(), HerderError> {
        self.require_joined()?;
        self.verify_internal(signature)?;
        self.as_leader("Only the leader may write task configurations.")?;
        self.existing(name).await?;
        self.write(task_records(name, &configs)).await
    }

    /// The leader's zombie fencing (KIP-618, module `fencing`): Kafka's checks in Kafka's
    /// order, then the round the config topic calls for.
    async fn fence_zombies(
        &self,
        name: &str,
        signature: Option<InternalRequestSignature>,
    ) -> Result<(), HerderError> {
        self.verify_internal(signature)?;
        self.as_leader("Only the leader may perform zombie fencing.")?;
        let state = self.fresh().await;
        let Some(raw) = state.connectors.get(name) else {
            return Err(not_found(name));
        };
        if self.describe(name, raw).await.kind != Some(PluginKind::Source) {
            return Err(HerderError::Invalid(format!(
                "Connector {name} is not a source connector"
            )));
        }
        self.fence_round(name, &state).await
    }

    async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Option<ConnectorStateInfo>, HerderError> {
        let mut report = self.connector_status(name).await?;
        if !include_tasks && !only_failed {
            // Kafka's plain restart: the connector alone, by its owner.
            let restart = Restart::Connector {
                name: name.to_string(),
                include_tasks,
                only_failed,
            };
            let record = restart_connector_record(name, include_tasks, only_failed);
            self.restart_unit(Unit::Connector(name), restart, record)
                .await?;
            return Ok(None);
        }
        self.require_joined()?;
        self.as_leader("Only the leader can process restart requests.")?;
        // The connector's owner decides what restarts from the statuses it reads (the
        // record carries only the flags); this marks the same units in the answer.
        RestartPlan::mark(&mut report, include_tasks, only_failed);
        self.write(vec![restart_connector_record(
            name,
            include_tasks,
            only_failed,
        )])
        .await?;
        Ok(Some(report))
    }

    async fn pause_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Paused).await
    }

    async fn resume_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Running).await
    }

    async fn stop_connector(&self, name: &str) -> Result<(), HerderError> {
        self.set_target(name, TargetState::Stopped).await
    }

    async fn connector_offsets(&self, name: &str) -> Result<ConnectorOffsets, HerderError> {
        let state = self.existing(name).await?;
        let raw = state.connectors[name].clone();
        if self.describe(name, &raw).await.kind == Some(PluginKind::Sink) {
            let offsets = self.sink_group(raw, group_offsets::read).await?;
            return Ok(sink_offsets::to_rest(offsets));
        }
        let store = self.cluster.offsets.clone();
        blocking(
            OFFSETS_READ_TIMEOUT + OFFSETS_CALL_SLACK,
            "reading offsets",
            move || store.catch_up(OFFSETS_READ_TIMEOUT),
        )
        .await?
        .map_err(internal)?;
        Ok(core::source_offsets(
            self.cluster.offsets.connector_offsets(name),
        ))
    }

    async fn alter_connector_offsets(
        &self,
        name: &str,
        offsets: ConnectorOffsets,
    ) -> Result<Message, HerderError> {
        self.require_joined()?;
        self.as_leader(OFFSETS_LEADER_ONLY)?;
        let state = self.existing(name).await?;
        Self::require_stopped(name, &state)?;
        let raw = state.connectors[name].clone();
        if self.describe(name, &raw).await.kind == Some(PluginKind::Sink) {
            let changes = sink_offsets::from_rest(offsets)?;
            self.sink_group(raw, move |clients, group, _| {
                group_offsets::alter(clients, group, &changes)
            })
            .await?;
        } else {
            let changes = core::source_offset_changes(offsets)?;
            let store = self.cluster.offsets.clone();
            let name = name.to_string();
            blocking(
                OFFSETS_READ_TIMEOUT + OFFSETS_CALL_SLACK,
                "writing offsets",
                move || {
                    store.put(&name, changes);
                    store.flush()
                },
            )
            .await?
            .map_err(internal)?;
        }
        Ok(core::offsets_altered())
    }

    async fn reset_connector_offsets(&self, name: &str) -> Result<Message, HerderError> {
        self.require_joined()?;
        self.as_leader(OFFSETS_LEADER_ONLY)?;
        let state = self.existing(name).await?;
        Self::require_stopped(name, &state)?;
        let raw = state.connectors[name].clone();
        if self.describe(name, &raw).await.kind == Some(PluginKind::Sink) {
            self.sink_group(raw, group_offsets::reset).await?;
        } else {
            let store = self.cluster.offsets.clone();
            let name = name.to_string();
            blocking(
                OFFSETS_READ_TIMEOUT + OFFSETS_CALL_SLACK,
                "resetting offsets",
                move || {
                    store.catch_up(OFFSETS_READ_TIMEOUT)?;
                    store.remove_connector(&name);
                    store.flush()
                },
            )
            .await?
            .map_err(internal)?;
        }
        Ok(core::offsets_reset())
    }

    async fn active_topics(&self, name: &str) -> Result<Vec<String>, HerderError> {
        self.core.topic_tracking_allowed(false)?;
        self.existing(name).await?;
        // The topics seen by this worker's tasks of the connector.
        let local = self.local.lock().await;
        Ok(local
            .active_topics
            .get(name)
            .map(|t| {
                t.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn reset_active_topics(&self, name: &str) -> Result<(), HerderError> {
        self.core.topic_tracking_allowed(true)?;
        self.existing(name).await?;
        let local = self.local.lock().await;
        if let Some(topics) = local.active_topics.get(name) {
            topics.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        Ok(())
    }

    async fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        self.core.plugins(connectors_only)
    }

    async fn plugin_config(&self, plugin: &str) -> Result<Vec<ConfigKeyInfo>, HerderError> {
        self.core.plugin_config(plugin)
    }

    async fn validate_config(
        &self,
        plugin: &str,
        config: BTreeMap<String, String>,
    ) -> Result<ConfigInfos, HerderError> {
        self.core.validate_config(plugin, config).await
    }

    async fn cluster(&self) -> ClusterView {
        let group = self.group_info().await;
        self.core.cluster_view(WorkerMode::Distributed, Some(group))
    }

    async fn preview(&self, request: PreviewRequest) -> Result<PreviewResult, HerderError> {
        self.core.preview(request).await
    }

    async fn config_history(&self, name: &str) -> Result<Vec<ConfigVersion>, HerderError> {
        let exists = self.fresh().await.connectors.contains_key(name);
        self.history_with(|history| {
            let passwords = self.core.password_keys(history.configs(name));
            history.answer(name, exists, &passwords)
        })
    }

    async fn rollback_config(
        &self,
        name: &str,
        version: u32,
    ) -> Result<ConnectorInfo, HerderError> {
        let config = self.history_with(|history| history.rollback_config(name, version))?;
        self.put_connector_config(name, config, true, None)
            .await
            .map(|(_, info)| info)
    }
}

impl DistributedHerder {
    /// The round of zombie fencing the config topic calls for (module `fencing`); the leader's.
    pub(super) async fn fence_round(
        &self,
        name: &str,
        state: &ConfigState,
    ) -> Result<(), HerderError> {
        let task_count = state.tasks.get(name).map_or(0, Vec::len) as u32;
        let plan = fencing::plan(
            state.pending_fencing.contains(name),
            state.task_count_records.get(name).copied(),
            task_count,
        );
        let count = match plan {
            FencePlan::UpToDate => return Ok(()),
            FencePlan::RecordCount(count) => count,
            FencePlan::Fence { producers, count } => {
                let group_id = &self.cluster.config.group_id;
                let ids: Vec<String> = (0..producers)
                    .map(|task| fencing::transactional_id(group_id, name, task))
                    .collect();
                let clients = self.worker().clients.clone();
                let timeout = self.graceful().max(FENCING_TIMEOUT);
                blocking(timeout + OFFSETS_CALL_SLACK, "zombie fencing", move || {
                    fencing::fence_producers(&clients, &ids, timeout)
                })
                .await?
                .map_err(|e| {
                    HerderError::Internal(format!("Failed to perform zombie fencing: {e}"))
                })?;
                count
            }
        };
        self.write(vec![task_count_record(name, count)]).await
    }
}
