//! kconnect's own resources, beyond Kafka's API, served under `/kconnect/` for the web console
//! (and for curl): the cluster as this worker sees it, a dry run of a connector's converters and
//! transformation chain, and each connector's config history.
//!
//! These bodies are kconnect's; Kafka's entities stay in [`crate::entities`], untouched.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// `GET /kconnect/cluster`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClusterView {
    pub mode: WorkerMode,
    pub version: String,
    /// `None` until the worker reached the cluster.
    pub kafka_cluster_id: Option<String>,
    /// This worker's REST URL as advertised to others.
    pub worker_url: String,
    /// Distributed mode only.
    pub group: Option<GroupInfo>,
    /// Plugin files under `plugin.path` that could not be loaded, with the reason.
    pub plugin_failures: Vec<PluginFailure>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WorkerMode {
    Standalone,
    Distributed,
}

/// The Connect group as this worker sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct GroupInfo {
    pub group_id: String,
    /// The generation this worker last joined; -1 before it joined.
    pub generation: i32,
    /// The subprotocol the group chose (`sessioned`, `compatible`, `default`), when known.
    pub protocol: Option<String>,
    pub leader_id: Option<String>,
    pub leader_url: Option<String>,
    pub rebalancing: bool,
    /// The group's members as the group coordinator describes them (Java workers too); empty
    /// when the coordinator could not be asked.
    pub members: Vec<GroupMember>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GroupMember {
    pub member_id: String,
    /// The member's REST URL, from its Connect metadata.
    pub url: String,
    pub leader: bool,
    /// This worker.
    #[serde(rename = "self")]
    pub this_worker: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PluginFailure {
    pub path: String,
    pub reason: String,
}

/// `POST /kconnect/preview`: sample records through a connector config's converters and
/// transformation chain; nothing is produced or consumed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// A connector config; `connector.class` says whether records go the source way
    /// (transforms, then converters) or the sink way (converters, then transforms).
    pub config: BTreeMap<String, String>,
    pub records: Vec<SampleRecord>,
}

/// One sample. For a source connector, `key` and `value` are what its task emits: a JSON
/// string is a `STRING` with a string schema (as a FileStreamSource line), anything else a
/// schemaless value. For a sink connector they are the bytes in Kafka: a JSON string is taken
/// as its text, anything else as its JSON text.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SampleRecord {
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub partition: Option<i32>,
    #[serde(default)]
    pub key: Json,
    #[serde(default)]
    pub value: Json,
    /// Header names and text values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PreviewResult {
    pub connector_type: crate::entities::ConnectorType,
    pub records: Vec<PreviewedRecord>,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PreviewOutcome {
    /// Through the whole chain.
    Kept,
    /// A transformation or predicate discarded it (e.g. `Filter`).
    Dropped,
    /// A converter or transformation failed on it; see `error`.
    Failed,
}

/// A sample after the chain: the Connect record (schemas as JsonConverter writes them) and,
/// for a source, the bytes that would be written to Kafka.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PreviewedRecord {
    /// The sample's index in the request.
    pub input: usize,
    pub outcome: PreviewOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub topic: Option<String>,
    pub partition: Option<i32>,
    pub key: Json,
    pub value: Json,
    pub key_schema: Json,
    pub value_schema: Json,
    pub headers: Vec<PreviewHeader>,
    /// Sources only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serialized: Option<SerializedRecord>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PreviewHeader {
    pub key: String,
    pub value: Json,
}

/// Bytes as text (lossy UTF-8: converters that write binary show replacement characters).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SerializedRecord {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// One version in `GET /kconnect/connectors/{c}/history`, oldest first, counted from 1.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigVersion {
    pub version: u32,
    /// Milliseconds since the epoch when the change was written.
    pub time: i64,
    /// `None`: the connector was deleted. Password values masked.
    pub config: Option<BTreeMap<String, String>>,
    /// Against the previous version (everything "added" for the first).
    pub changes: Vec<ConfigChange>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigChange {
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}
