//! REST answers that do not depend on where connectors run, shared by both herders.

use super::runtime::{blocking, internal};
use super::validation::{self, Refusal};
use crate::config::connector::Subscription;
use crate::config::ConnectorConfig;
use crate::error::WorkerError;
use crate::kafka::ClientSettings;
use crate::worker::offsets::json_to_source_map;
use crate::worker::WorkerContext;
use kconnect_herder_api::entities::{ConfigInfos, ConnectorOffsets, ServerInfo};
use kconnect_herder_api::HerderError;
use kconnect_plugin_api::record::SourceMap;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub fn server_info(kafka_cluster_id: Option<&String>) -> ServerInfo {
    ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        commit: option_env!("KCONNECT_COMMIT")
            .unwrap_or("unknown")
            .to_string(),
        kafka_cluster_id: kafka_cluster_id.cloned().unwrap_or_default(),
    }
}

/// `PUT /connector-plugins/{p}/config/validate`: 404 for an unknown class, as Kafka.
pub async fn validate_config(
    worker: &Arc<WorkerContext>,
    plugin: &str,
    config: BTreeMap<String, String>,
) -> Result<ConfigInfos, HerderError> {
    let worker = worker.clone();
    let plugin = plugin.to_string();
    let validated = blocking(Duration::from_secs(30), "validation", move || {
        validation::validate(&worker, &plugin, &config)
    })
    .await?;
    match validated {
        Ok(v) => Ok(v.infos),
        Err(Refusal::UnknownClass(message)) => Err(HerderError::NotFound(message)),
        Err(Refusal::Invalid(e)) => Err(e),
    }
}

/// The body of `PATCH /connectors/{c}/offsets` for a source connector; `None` offsets delete.
pub fn source_offset_changes(
    offsets: ConnectorOffsets,
) -> Result<Vec<(SourceMap, Option<SourceMap>)>, HerderError> {
    offsets
        .offsets
        .into_iter()
        .map(|entry| {
            let partition = json_to_source_map(&serde_json::Value::Object(entry.partition))
                .ok_or_else(|| HerderError::Invalid("partition must be a JSON object".into()))?;
            let offset = entry
                .offset
                .and_then(|o| json_to_source_map(&serde_json::Value::Object(o)));
            Ok((partition, offset))
        })
        .collect()
}

/// Kafka's 400 when offsets are changed on a connector that is not STOPPED.
pub fn not_stopped(name: &str) -> HerderError {
    HerderError::Invalid(format!(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    ))
}

/// 403 unless topic tracking (and, for a reset, resetting) is enabled.
pub fn topic_tracking_allowed(worker: &WorkerContext, reset: bool) -> Result<(), HerderError> {
    if !worker.config.topic_tracking_enable {
        return Err(HerderError::Disabled("Topic tracking is disabled.".into()));
    }
    if reset && !worker.config.topic_tracking_allow_reset {
        return Err(HerderError::Disabled(
            "Topic tracking reset is disabled.".into(),
        ));
    }
    Ok(())
}

/// Runs `f` on a sink connector's consumer group, off the async threads.
pub async fn sink_group<T: Send + 'static>(
    worker: &Arc<WorkerContext>,
    config: Arc<ConnectorConfig>,
    f: impl FnOnce(&ClientSettings, &str, &Subscription) -> Result<T, WorkerError> + Send + 'static,
) -> Result<T, HerderError> {
    let subscription = config
        .subscription()
        .map_err(|e| HerderError::Invalid(e.to_string()))?;
    let worker = worker.clone();
    blocking(
        Duration::from_secs(30),
        "consumer group offsets",
        move || f(&worker.clients, &config.sink_group_id(), &subscription),
    )
    .await?
    .map_err(internal)
}
