//! The plugin manifest: what a plugin exports, as JSON.
//!
//! Growing the plugin model means adding fields here (with serde defaults), never new entry points
//! in the root module: an older worker ignores fields it does not know, and a newer worker fills
//! in defaults for fields an older plugin does not send.

use serde::{Deserialize, Serialize};

/// The kinds of class a plugin can export, named as Kafka's `GET /connector-plugins` names them.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    Source,
    Sink,
    Converter,
    HeaderConverter,
    Transformation,
    Predicate,
}

impl PluginKind {
    /// Kafka's name for the kind (`source`, `header_converter`…).
    pub fn name(self) -> &'static str {
        match self {
            PluginKind::Source => "source",
            PluginKind::Sink => "sink",
            PluginKind::Converter => "converter",
            PluginKind::HeaderConverter => "header_converter",
            PluginKind::Transformation => "transformation",
            PluginKind::Predicate => "predicate",
        }
    }

    /// True for source and sink connectors.
    pub fn is_connector(self) -> bool {
        matches!(self, PluginKind::Source | PluginKind::Sink)
    }
}

/// One exported class.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClassManifest {
    /// Full class name, e.g. `org.apache.kafka.connect.file.FileStreamSourceConnector`.
    pub class: String,
    #[serde(rename = "type")]
    pub kind: PluginKind,
    pub version: String,
    /// Names besides `class` declared by the plugin (the worker derives the usual short ones).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub doc: String,
    /// Optional behaviours the worker may rely on, e.g. `commit_record`.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Connectors: the Java task class of `task.class` ([`crate::Connector::TASK_CLASS`]);
    /// absent (plugins built before it existed) or empty: derived from `class`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_class: Option<String>,
}

impl ClassManifest {
    /// `task.class` for this connector's task configs.
    pub fn java_task_class(&self) -> String {
        java_task_class(&self.class, self.task_class.as_deref())
    }
}

/// `task.class`: the declared task class, else the connector class with `Connector` replaced
/// by `Task` (`…FileStreamSinkConnector` → `…FileStreamSinkTask`), else the class + `Task`.
pub fn java_task_class(connector_class: &str, declared: Option<&str>) -> String {
    if let Some(declared) = declared.filter(|d| !d.trim().is_empty()) {
        return declared.trim().to_string();
    }
    match connector_class.strip_suffix("Connector") {
        Some(base) => format!("{base}Task"),
        None => format!("{connector_class}Task"),
    }
}

/// Capability: the source task wants `commit_record` for every acknowledged record.
pub const CAPABILITY_COMMIT_RECORD: &str = "commit_record";

/// Capability: the source connector delivers exactly once when its tasks run transactionally
/// (Kafka's `SourceConnector.exactlyOnceSupport` answering `SUPPORTED`); without it the
/// connector has not answered, and `exactly.once.support=required` is refused at validation.
pub const CAPABILITY_EXACTLY_ONCE: &str = "exactly_once";

/// Everything a plugin library exports.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PluginManifest {
    /// Version of `kconnect-plugin-api` the plugin was built with.
    pub plugin_api_version: String,
    /// The plugin crate's name and version.
    pub name: String,
    pub version: String,
    pub classes: Vec<ClassManifest>,
}

impl PluginManifest {
    /// Parses a manifest, naming what is wrong when it does not parse.
    pub fn from_json(json: &str) -> Result<PluginManifest, String> {
        serde_json::from_str(json).map_err(|e| format!("invalid plugin manifest: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_java_task_class_is_declared_or_derived_from_the_connector_class() {
        assert_eq!(
            java_task_class(
                "org.apache.kafka.connect.file.FileStreamSinkConnector",
                None
            ),
            "org.apache.kafka.connect.file.FileStreamSinkTask"
        );
        assert_eq!(
            java_task_class(
                "io.debezium.connector.postgresql.PostgresConnector",
                Some("io.debezium.connector.postgresql.PostgresConnectorTask")
            ),
            "io.debezium.connector.postgresql.PostgresConnectorTask"
        );
        assert_eq!(java_task_class("x.Odd", Some(" ")), "x.OddTask");
    }
    use proptest::prelude::*;

    fn kind() -> impl Strategy<Value = PluginKind> {
        prop_oneof![
            Just(PluginKind::Source),
            Just(PluginKind::Sink),
            Just(PluginKind::Converter),
            Just(PluginKind::HeaderConverter),
            Just(PluginKind::Transformation),
            Just(PluginKind::Predicate),
        ]
    }

    fn manifest() -> impl Strategy<Value = PluginManifest> {
        let class = (
            "[a-zA-Z0-9.$_]{1,40}",
            kind(),
            "[0-9.a-z-]{1,12}",
            prop::collection::vec(".{0,12}", 0..3),
            ".{0,20}",
        )
            .prop_map(|(class, kind, version, aliases, doc)| ClassManifest {
                class,
                kind,
                version,
                aliases,
                doc,
                capabilities: Vec::new(),
                task_class: None,
            });
        (
            "[0-9.]{1,8}",
            ".{0,20}",
            "[0-9.]{1,8}",
            prop::collection::vec(class, 0..5),
        )
            .prop_map(
                |(plugin_api_version, name, version, classes)| PluginManifest {
                    plugin_api_version,
                    name,
                    version,
                    classes,
                },
            )
    }

    proptest! {
        /// The worker parses what any plugin sends it: text from a library is untrusted.
        #[test]
        fn any_text_parses_or_errors_without_panicking(text in ".*") {
            let _ = PluginManifest::from_json(&text);
        }

        #[test]
        fn manifests_round_trip(m in manifest()) {
            let json = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(PluginManifest::from_json(&json).unwrap(), m);
        }
    }

    #[test]
    fn unknown_fields_from_newer_plugins_are_ignored_and_missing_optional_ones_default() {
        let json = r#"{"plugin_api_version":"0.1.0","name":"p","version":"1","future":true,
            "classes":[{"class":"a.B","type":"source","version":"1","new_flag":[1]}]}"#;
        let m = PluginManifest::from_json(json).unwrap();
        assert!(m.classes[0].aliases.is_empty() && m.classes[0].capabilities.is_empty());
        let error = PluginManifest::from_json(r#"{"name":"p"}"#).unwrap_err();
        assert!(error.contains("invalid plugin manifest"), "{error}");
    }
}
