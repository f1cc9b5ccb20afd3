//! The JSON bodies of Kafka Connect's REST API, with Kafka's exact field names.
//!
//! Invariants kept here so that clients written for Apache Kafka parse our answers:
//! - field names are Kafka's (`worker_id`, `error_count`, `default_value`, `order_in_group`,
//!   `class`, ...), as Apache Kafka Connect 4.3 writes them (checked side by side in
//!   `tests/tests/rest_differential.rs`);
//! - `trace` in a state is omitted when absent or empty (Jackson `NON_EMPTY`);
//! - `version` in a plugin is omitted when unknown (Kafka hides `undefined`);
//! - every other optional field is written as `null`, as Jackson does by default.
//!
//! Request bodies are parsed leniently where Jackson is lenient: a config value may be a JSON
//! string, number or boolean (Jackson turns scalars into strings), unknown fields are ignored.

use kconnect_plugin_api::config::{ConfigKey, ConfigType, ConfigValue};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// `GET /`: which build answers, and for which Kafka cluster.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    pub version: String,
    pub commit: String,
    pub kafka_cluster_id: String,
}

/// The worker's health as the herder sees it (KIP-1017). The REST layer turns it into a
/// [`WorkerStatus`] body and a status code: healthy 200, starting 503, unhealthy 500.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// Still starting; the optional text says what the worker is busy with.
    Starting(Option<String>),
    Healthy,
    /// Started but unable to serve requests; the optional text says why.
    Unhealthy(Option<String>),
}

/// `GET /health` body.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct WorkerStatus {
    pub status: String,
    pub message: String,
}

impl WorkerStatus {
    /// Kafka's wording for each state, with the herder's details appended.
    pub fn from_health(health: &Health) -> WorkerStatus {
        let (status, base, details) = match health {
            Health::Healthy => (
                "healthy",
                "Worker has completed startup and is ready to handle requests.",
                None,
            ),
            Health::Starting(details) => ("starting", "Worker is still starting up.", details.as_deref()),
            Health::Unhealthy(details) => (
                "unhealthy",
                "Worker was unable to handle this request and may be unable to handle other requests.",
                details.as_deref(),
            ),
        };
        let message = match details {
            Some(details) => format!("{base} {details}"),
            None => base.to_string(),
        };
        WorkerStatus {
            status: status.to_string(),
            message,
        }
    }
}

/// Whether a connector reads from or writes to Kafka.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum ConnectorType {
    Source,
    Sink,
    /// The plugin could not be loaded, so its kind is unknown.
    Unknown,
}

/// A task's identity: `{"connector": "c", "task": 0}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectorTaskId {
    pub connector: String,
    pub task: u32,
}

/// One connector of `GET /connectors?expand=…`: the details asked for.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ExpandedConnector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ConnectorStateInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<ConnectorInfo>,
}

/// `GET /connectors/{c}` and the body of successful creates and updates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorInfo {
    pub name: String,
    pub config: BTreeMap<String, String>,
    pub tasks: Vec<ConnectorTaskId>,
    #[serde(rename = "type")]
    pub connector_type: ConnectorType,
}

/// Lifecycle states shown in status bodies.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Unassigned,
    Running,
    Paused,
    Stopped,
    Failed,
    Restarting,
}

/// The state a connector is asked to be in (`initial_state` on create, KIP-980).
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    Running,
    Paused,
    Stopped,
}

impl TargetState {
    /// Parses Kafka's names, ignoring case as Kafka does.
    pub fn parse(text: &str) -> Option<TargetState> {
        match text.to_ascii_uppercase().as_str() {
            "RUNNING" => Some(TargetState::Running),
            "PAUSED" => Some(TargetState::Paused),
            "STOPPED" => Some(TargetState::Stopped),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for TargetState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TargetState::parse(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid initial_state '{text}': expected one of RUNNING, PAUSED, STOPPED"
            ))
        })
    }
}

fn trace_is_empty(trace: &Option<String>) -> bool {
    trace.as_deref().is_none_or(str::is_empty)
}

/// The connector half of a status body.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorState {
    pub state: State,
    pub worker_id: String,
    #[serde(default, skip_serializing_if = "trace_is_empty")]
    pub trace: Option<String>,
}

/// One task's status; also the body of `GET /connectors/{c}/tasks/{t}/status`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    pub id: u32,
    pub state: State,
    pub worker_id: String,
    #[serde(default, skip_serializing_if = "trace_is_empty")]
    pub trace: Option<String>,
}

/// `GET /connectors/{c}/status`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConnectorStateInfo {
    pub name: String,
    pub connector: ConnectorState,
    pub tasks: Vec<TaskState>,
    #[serde(rename = "type")]
    pub connector_type: ConnectorType,
}

/// One entry of `GET /connectors/{c}/tasks`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    pub id: ConnectorTaskId,
    pub config: BTreeMap<String, String>,
}

/// The definition half of a validate entry, and the items of `GET /connector-plugins/{p}/config`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigKeyInfo {
    pub name: String,
    /// Kafka's upper-case type name: `STRING`, `INT`, `LIST`, `PASSWORD`, ...
    #[serde(rename = "type")]
    pub config_type: String,
    pub required: bool,
    pub default_value: Option<String>,
    /// `HIGH`, `MEDIUM` or `LOW`.
    pub importance: String,
    pub documentation: Option<String>,
    pub group: Option<String>,
    /// Position within the group; -1 when the key has none. Kafka 4 writes `order_in_group`
    /// (its record's component name); Kafka 3 wrote `order`, still accepted when reading.
    #[serde(rename = "order_in_group", alias = "order")]
    pub order_in_group: i32,
    /// `NONE`, `SHORT`, `MEDIUM` or `LONG`.
    pub width: String,
    pub display_name: String,
    pub dependents: Vec<String>,
}

impl From<&ConfigKey> for ConfigKeyInfo {
    /// As Kafka's `AbstractHerder.convertConfigKey`: a password default is shown as `[hidden]`,
    /// the display name falls back to the key name.
    fn from(key: &ConfigKey) -> ConfigKeyInfo {
        let default_value = match (&key.default_value, key.config_type) {
            (Some(_), ConfigType::Password) => Some("[hidden]".to_string()),
            (default, _) => default.clone(),
        };
        ConfigKeyInfo {
            name: key.name.clone(),
            config_type: key.config_type.name().to_string(),
            required: key.is_required(),
            default_value,
            importance: key.importance.name().to_string(),
            documentation: Some(key.documentation.clone()),
            group: key.group.clone(),
            order_in_group: key.order_in_group,
            width: key.width.name().to_string(),
            display_name: key.display_name.clone().unwrap_or_else(|| key.name.clone()),
            dependents: key.dependents.clone(),
        }
    }
}

/// The value half of a validate entry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigValueInfo {
    pub name: String,
    pub value: Option<String>,
    pub recommended_values: Vec<String>,
    pub errors: Vec<String>,
    pub visible: bool,
}

impl From<&ConfigValue> for ConfigValueInfo {
    /// Copies the value as is: masking passwords is the herder's job.
    fn from(value: &ConfigValue) -> ConfigValueInfo {
        ConfigValueInfo {
            name: value.name.clone(),
            value: value.value.clone(),
            recommended_values: value.recommended_values.clone(),
            errors: value.errors.clone(),
            visible: value.visible,
        }
    }
}

/// One validated key: `{"definition": ..., "value": ...}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigInfo {
    pub definition: ConfigKeyInfo,
    pub value: ConfigValueInfo,
}

/// `PUT /connector-plugins/{p}/config/validate`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ConfigInfos {
    pub name: String,
    pub error_count: u32,
    pub groups: Vec<String>,
    pub configs: Vec<ConfigInfo>,
}

/// The kinds of plugin `GET /connector-plugins` lists.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum PluginType {
    Source,
    Sink,
    Converter,
    HeaderConverter,
    Transformation,
    Predicate,
}

impl PluginType {
    pub fn is_connector(self) -> bool {
        matches!(self, PluginType::Source | PluginType::Sink)
    }
}

/// One item of `GET /connector-plugins`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    #[serde(rename = "class")]
    pub class_name: String,
    #[serde(rename = "type")]
    pub plugin_type: PluginType,
    /// `None` when the plugin does not say; then the field is left out, as Kafka does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One `{partition, offset}` pair. The shapes are the connector's (source) or
/// `{"kafka_topic","kafka_partition"}` / `{"kafka_offset"}` (sink). A `null` offset in an
/// alter request resets that partition.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ConnectorOffset {
    pub partition: serde_json::Map<String, serde_json::Value>,
    pub offset: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `GET|PATCH /connectors/{c}/offsets`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ConnectorOffsets {
    #[serde(default)]
    pub offsets: Vec<ConnectorOffset>,
}

/// A plain `{"message": "..."}` answer.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub message: String,
}

impl Message {
    pub fn new(message: impl Into<String>) -> Message {
        Message {
            message: message.into(),
        }
    }
}

/// The value side of `GET /connectors/{c}/topics`: `{"c": {"topics": [...]}}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ActiveTopicsInfo {
    pub topics: Vec<String>,
}

/// A logger's level (KIP-495); `last_modified` is epoch milliseconds, `null` when never set
/// through the REST API.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LoggerLevel {
    pub level: String,
    pub last_modified: Option<i64>,
}

/// Every error body: `{"error_code": 404, "message": "..."}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ErrorMessage {
    pub error_code: u16,
    pub message: String,
}

/// `POST /connectors` body. `name` and `config` are optional here so that their absence
/// gets a clear 400 rather than a generic parse error.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct CreateConnectorRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "optional_string_map")]
    pub config: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub initial_state: Option<TargetState>,
}

/// A JSON object of config keys to scalar values, read as strings. Null values are refused.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct StringMap(pub BTreeMap<String, String>);

/// A JSON object of config keys to scalar values or `null` (a `null` deletes the key in a PATCH).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NullableStringMap(pub BTreeMap<String, Option<String>>);

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = deserializer.deserialize_map(ScalarMapVisitor)?;
        let mut map = BTreeMap::new();
        for (key, value) in entries {
            match value {
                Some(value) => {
                    map.insert(key, value);
                }
                None => {
                    return Err(de::Error::custom(format!(
                        "the value of config key '{key}' is null; give a string"
                    )))
                }
            }
        }
        Ok(StringMap(map))
    }
}

impl<'de> Deserialize<'de> for NullableStringMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = deserializer.deserialize_map(ScalarMapVisitor)?;
        Ok(NullableStringMap(entries.into_iter().collect()))
    }
}

fn optional_string_map<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    Ok(Option::<StringMap>::deserialize(deserializer)?.map(|map| map.0))
}

/// Reads an object whose values are JSON scalars, keeping them as text (`null` as `None`).
/// A repeated key keeps its last value, as Jackson does.
struct ScalarMapVisitor;

impl<'de> Visitor<'de> for ScalarMapVisitor {
    type Value = Vec<(String, Option<String>)>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object of config keys to string values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut entries: BTreeMap<String, Option<String>> = BTreeMap::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access
                .next_value::<ScalarText>()
                .map_err(|e| de::Error::custom(format!("config key '{key}': {e}")))?;
            entries.insert(key, value.0);
        }
        Ok(entries.into_iter().collect())
    }
}

/// A JSON scalar as text: strings as is, numbers and booleans as JSON writes them, null as None.
struct ScalarText(Option<String>);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarTextVisitor)
    }
}

struct ScalarTextVisitor;

impl<'de> Visitor<'de> for ScalarTextVisitor {
    type Value = ScalarText;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string, number, boolean or null")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_string())))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value)))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_string())))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_string())))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<ScalarText, E> {
        Ok(ScalarText(Some(value.to_string())))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<ScalarText, E> {
        match serde_json::Number::from_f64(value) {
            Some(number) => Ok(ScalarText(Some(number.to_string()))),
            None => Err(E::custom("a number that is not finite")),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<ScalarText, E> {
        Ok(ScalarText(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<ScalarText, E> {
        Ok(ScalarText(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_trace_is_omitted_when_absent_or_empty() {
        let mut task = TaskState {
            id: 0,
            state: State::Running,
            worker_id: "w:8083".into(),
            trace: None,
        };
        assert_eq!(
            serde_json::to_value(&task).unwrap(),
            json!({"id": 0, "state": "RUNNING", "worker_id": "w:8083"})
        );
        task.trace = Some(String::new());
        assert!(serde_json::to_value(&task).unwrap().get("trace").is_none());
        task.trace = Some("boom".into());
        assert_eq!(serde_json::to_value(&task).unwrap()["trace"], "boom");
    }

    #[test]
    fn connector_info_uses_kafka_field_names() {
        let info = ConnectorInfo {
            name: "c".into(),
            config: BTreeMap::from([("name".to_string(), "c".to_string())]),
            tasks: vec![ConnectorTaskId {
                connector: "c".into(),
                task: 1,
            }],
            connector_type: ConnectorType::Sink,
        };
        assert_eq!(
            serde_json::to_value(&info).unwrap(),
            json!({"name": "c", "config": {"name": "c"}, "tasks": [{"connector": "c", "task": 1}], "type": "sink"})
        );
    }

    #[test]
    fn plugin_version_is_left_out_when_unknown() {
        let plugin = PluginInfo {
            class_name: "a.B".into(),
            plugin_type: PluginType::HeaderConverter,
            version: None,
        };
        assert_eq!(
            serde_json::to_value(&plugin).unwrap(),
            json!({"class": "a.B", "type": "header_converter"})
        );
    }

    #[test]
    fn config_key_info_writes_order_in_group_and_reads_order() {
        let key = ConfigKeyInfo {
            name: "k".into(),
            config_type: "STRING".into(),
            required: false,
            default_value: None,
            importance: "HIGH".into(),
            documentation: None,
            group: None,
            order_in_group: -1,
            width: "NONE".into(),
            display_name: "k".into(),
            dependents: vec![],
        };
        let written = serde_json::to_value(&key).unwrap();
        assert_eq!(written["order_in_group"], -1);
        assert!(written.get("order").is_none());
        assert!(written["default_value"].is_null());
        let mut kafka_3_style = written.clone();
        let order = kafka_3_style
            .as_object_mut()
            .unwrap()
            .remove("order_in_group")
            .unwrap();
        kafka_3_style["order"] = order;
        assert_eq!(
            serde_json::from_value::<ConfigKeyInfo>(kafka_3_style).unwrap(),
            key
        );
    }

    #[test]
    fn config_key_info_hides_password_defaults() {
        use kconnect_plugin_api::config::ConfigType;
        let key = ConfigKey::optional("secret", ConfigType::Password, "s3cr3t", "doc");
        let info = ConfigKeyInfo::from(&key);
        assert_eq!(info.default_value.as_deref(), Some("[hidden]"));
        assert_eq!(info.display_name, "secret");
        assert!(!info.required);
    }

    #[test]
    fn string_map_reads_scalars_as_text_and_refuses_null_and_objects() {
        let map: StringMap =
            serde_json::from_str(r#"{"a":"x","b":1,"c":true,"d":1.5,"e":-3}"#).unwrap();
        assert_eq!(map.0["b"], "1");
        assert_eq!(map.0["c"], "true");
        assert_eq!(map.0["d"], "1.5");
        assert_eq!(map.0["e"], "-3");
        let null = serde_json::from_str::<StringMap>(r#"{"a":null}"#).unwrap_err();
        assert!(null.to_string().contains("'a'"), "{null}");
        let nested = serde_json::from_str::<StringMap>(r#"{"a":{"b":1}}"#).unwrap_err();
        assert!(nested.to_string().contains("'a'"), "{nested}");
        assert!(serde_json::from_str::<StringMap>("[]").is_err());
    }

    #[test]
    fn nullable_string_map_keeps_nulls_as_none() {
        let map: NullableStringMap = serde_json::from_str(r#"{"a":null,"b":"x"}"#).unwrap();
        assert_eq!(map.0["a"], None);
        assert_eq!(map.0["b"].as_deref(), Some("x"));
    }

    #[test]
    fn create_request_reads_initial_state_in_any_case() {
        let request: CreateConnectorRequest =
            serde_json::from_str(r#"{"name":"c","config":{},"initial_state":"paused"}"#).unwrap();
        assert_eq!(request.initial_state, Some(TargetState::Paused));
        let bad = serde_json::from_str::<CreateConnectorRequest>(r#"{"initial_state":"sleeping"}"#)
            .unwrap_err();
        assert!(bad.to_string().contains("sleeping"), "{bad}");
    }

    #[test]
    fn health_messages_follow_kafka() {
        let starting =
            WorkerStatus::from_health(&Health::Starting(Some("Reading configs.".into())));
        assert_eq!(starting.status, "starting");
        assert_eq!(
            starting.message,
            "Worker is still starting up. Reading configs."
        );
        let healthy = WorkerStatus::from_health(&Health::Healthy);
        assert_eq!(healthy.status, "healthy");
    }
}
