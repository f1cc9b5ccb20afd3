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
}

/// Capability: the source task wants `commit_record` for every acknowledged record.
pub const CAPABILITY_COMMIT_RECORD: &str = "commit_record";

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
