//! Checking a connector config before anything is stored or started: the plugin's own
//! definition and verdict, plus the worker's common keys (`tasks.max`, converters, `transforms`,
//! `errors.*`, exactly one of `topics`/`topics.regex` for sinks). The result has the shape of
//! Kafka's `ConfigInfos`, and [`invalid_config_message`] words the 400 the way Kafka does.

use crate::config::connector::common_config_def;
use crate::config::Properties;
use crate::worker::WorkerContext;
use kconnect_herder_api::entities::{ConfigInfo, ConfigInfos, ConfigKeyInfo, ConfigValueInfo};
use kconnect_herder_api::HerderError;
use kconnect_loader::PluginClassInfo;
use kconnect_plugin_api::config::{ConfigDef, ConfigKey, ConfigType, ConfigValue};
use kconnect_plugin_api::PluginKind;
use std::collections::BTreeSet;
use std::sync::Arc;

/// What the mask shows instead of a password.
pub const HIDDEN: &str = "[hidden]";

/// Why a connector config could not be checked at all. Callers decide on the variant: an unknown
/// class is a 400 when creating or updating a connector and a 404 from `config/validate`, as in
/// Kafka.
#[derive(Debug)]
pub enum Refusal {
    /// No connector class on `plugin.path` matches the name (with Kafka's message).
    UnknownClass(String),
    /// The config or the plugin could not be checked (unresolvable placeholders, a plugin that
    /// failed to describe or validate).
    Invalid(HerderError),
}

impl From<Refusal> for HerderError {
    fn from(refusal: Refusal) -> HerderError {
        match refusal {
            Refusal::UnknownClass(message) => HerderError::Invalid(message),
            Refusal::Invalid(e) => e,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::UnknownClass(message) => f.write_str(message),
            Refusal::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Refusal {}

pub struct Validated {
    pub infos: ConfigInfos,
    pub kind: PluginKind,
    pub class: String,
    pub password_keys: BTreeSet<String>,
}

/// Finds the connector class a config names (class or alias, pinned by `connector.plugin.version`).
pub fn resolve_connector(
    worker: &WorkerContext,
    name: &str,
    version: Option<&str>,
) -> Result<Arc<PluginClassInfo>, Refusal> {
    worker
        .registry
        .resolve(name, &[PluginKind::Source, PluginKind::Sink], version)
        .map_err(|e| {
            let available: Vec<String> = worker
                .registry
                .classes()
                .iter()
                .filter(|c| c.kind.is_connector())
                .map(|c| format!("{} ({}, {})", c.class, c.kind.name(), c.version))
                .collect();
            Refusal::UnknownClass(format!(
                "Failed to find any class that implements Connector and which name matches {name} ({e}), available connectors are: {}",
                available.join(", ")
            ))
        })
}

/// Why a converter class cannot serve under `key`, if it cannot: the message of Kafka's
/// `config/validate` error for it.
fn converter_refusal(
    worker: &WorkerContext,
    key: &str,
    class: &str,
    kind: PluginKind,
) -> Option<String> {
    let known = match kind {
        // The plugin ABI has no header converters (a plugin cannot export one): only the
        // built-in ones exist, so a plugin class is refused here rather than at task start.
        PluginKind::HeaderConverter => {
            if kconnect_convert::builtin_header_converter(class).is_some() {
                return None;
            }
            if worker.registry.resolve(class, &[kind], None).is_ok() {
                return Some(format!("Invalid value {class} for configuration {key}: header converters from plugins are not supported; use one of the built-in ones (SimpleHeaderConverter, StringConverter, JsonConverter, …)"));
            }
            false
        }
        _ => {
            kconnect_convert::builtin_converter(class).is_some()
                || worker.registry.resolve(class, &[kind], None).is_ok()
        }
    };
    (!known).then(|| {
        format!("Invalid value {class} for configuration {key}: Class {class} could not be found.")
    })
}

/// Validates `config` for the connector class `plugin` (blocking: calls into the plugin).
pub fn validate(
    worker: &WorkerContext,
    plugin: &str,
    config: &Properties,
) -> Result<Validated, Refusal> {
    // Checks see the values the connector will get; the answer shows what the user wrote.
    let written = config;
    let invalid = |message: String| Refusal::Invalid(HerderError::Invalid(message));
    let resolved = worker
        .providers
        .resolve(config)
        .map_err(|e| invalid(e.to_string()))?;
    let config = &resolved;
    let version = config
        .get("connector.plugin.version")
        .map(String::as_str)
        .filter(|v| !v.is_empty());
    let info = resolve_connector(worker, plugin, version)?;
    let handle = worker
        .registry
        .new_connector(&info)
        .map_err(|e| invalid(format!("cannot instantiate {}: {e}", info.class)))?;
    let plugin_def = handle
        .config_def()
        .map_err(|e| invalid(format!("{} failed to describe its config: {e}", info.class)))?;
    let plugin_values = handle
        .validate(config)
        .map_err(|e| invalid(format!("{} failed to validate the config: {e}", info.class)))?;

    let common_def = common_config_def(info.kind);
    let mut common_values = common_def.validate(config);
    let add_error = |values: &mut Vec<ConfigValue>, key: &str, message: String| {
        if let Some(v) = values.iter_mut().find(|v| v.name == key) {
            v.errors.push(message);
        } else {
            values.push(ConfigValue {
                name: key.to_string(),
                value: config.get(key).cloned(),
                recommended_values: Vec::new(),
                errors: vec![message],
                visible: true,
            });
        }
    };
    if info.kind == PluginKind::Sink {
        let topics = config.get("topics").is_some_and(|t| !t.trim().is_empty());
        let regex = config
            .get("topics.regex")
            .is_some_and(|t| !t.trim().is_empty());
        match (topics, regex) {
            (true, true) => add_error(
                &mut common_values,
                "topics",
                "Must configure one of topics or topics.regex, not both".into(),
            ),
            (false, false) => add_error(
                &mut common_values,
                "topics",
                "Must configure one of topics or topics.regex".into(),
            ),
            (false, true) => {
                if let Err(e) = regex::Regex::new(config["topics.regex"].trim()) {
                    add_error(
                        &mut common_values,
                        "topics.regex",
                        format!("Invalid regex: {e}"),
                    );
                }
            }
            (true, false) => {}
        }
    }
    if let (PluginKind::Source, Some(support)) = (info.kind, worker.exactly_once_support) {
        let valid = |key: &str| {
            common_values
                .iter()
                .find(|v| v.name == key)
                .is_none_or(|v| v.errors.is_empty())
        };
        let setting = |key: &str, default: &str| {
            config
                .get(key)
                .map_or(default, |v| v.trim())
                .to_ascii_lowercase()
        };
        let errors = exactly_once_errors(
            support.transactional_tasks(),
            info.supports_exactly_once(),
            valid("exactly.once.support")
                .then(|| setting("exactly.once.support", "requested"))
                .as_deref(),
            valid("transaction.boundary")
                .then(|| setting("transaction.boundary", "poll"))
                .as_deref(),
        );
        for (key, message) in errors {
            add_error(&mut common_values, key, message);
        }
    }
    for (key, kind) in [
        ("key.converter", PluginKind::Converter),
        ("value.converter", PluginKind::Converter),
        ("header.converter", PluginKind::HeaderConverter),
    ] {
        if let Some(class) = config.get(key).map(|c| c.trim()).filter(|c| !c.is_empty()) {
            if let Some(message) = converter_refusal(worker, key, class, kind) {
                add_error(&mut common_values, key, message);
            }
        }
    }
    let resolver = crate::worker::transforms::PluginResolver {
        registry: &worker.registry,
    };
    for (key, message) in kconnect_transforms::validate_transform_config(config, &resolver) {
        add_error(&mut common_values, &key, message);
    }

    let mut password_keys = BTreeSet::new();
    let mut groups: Vec<String> = Vec::new();
    let mut configs = Vec::new();
    let mut error_count = 0u32;
    let mut seen = BTreeSet::new();
    let enriched = enriched_keys(worker, config);
    let defs: Vec<(&ConfigKey, Option<&ConfigValue>)> = common_def
        .keys
        .iter()
        .chain(&enriched.keys)
        .map(|k| (k, common_values.iter().find(|v| v.name == k.name)))
        .chain(
            plugin_def
                .keys
                .iter()
                .map(|k| (k, plugin_values.iter().find(|v| v.name == k.name))),
        )
        .collect();
    for (key, value) in defs {
        if !seen.insert(key.name.clone()) {
            continue;
        }
        if key.config_type == ConfigType::Password {
            password_keys.insert(key.name.clone());
        }
        if let Some(group) = &key.group {
            if !groups.contains(group) {
                groups.push(group.clone());
            }
        }
        let mut value_info = value
            .map(ConfigValueInfo::from)
            .unwrap_or_else(|| ConfigValueInfo {
                name: key.name.clone(),
                value: config
                    .get(&key.name)
                    .cloned()
                    .or_else(|| key.default_value.clone()),
                recommended_values: key.recommended_values.clone(),
                errors: Vec::new(),
                visible: true,
            });
        if let Some(value) = written.get(&key.name) {
            value_info.value = Some(value.clone());
        }
        if enriched.unknown_classes.contains(&key.name) {
            value_info.value = None;
        }
        // A key's recommendations stand whatever its verdict (Kafka asks its recommender).
        if value_info.recommended_values.is_empty() {
            value_info.recommended_values = key.recommended_values.clone();
        }
        if key.config_type == ConfigType::Password && value_info.value.is_some() {
            value_info.value = Some(HIDDEN.to_string());
        }
        error_count += value_info.errors.len() as u32;
        let mut definition = ConfigKeyInfo::from(key);
        if enriched.null_defaults.contains(&key.name) {
            definition.required = false;
        }
        configs.push(ConfigInfo {
            definition,
            value: value_info,
        });
    }
    // Errors on keys no definition names (e.g. transforms.x.*) still count and are listed.
    for value in common_values.iter().chain(plugin_values.iter()) {
        if !seen.contains(&value.name) && !value.errors.is_empty() {
            seen.insert(value.name.clone());
            error_count += value.errors.len() as u32;
            let key = ConfigKey::optional(&value.name, ConfigType::String, "", "");
            configs.push(ConfigInfo {
                definition: ConfigKeyInfo::from(&key),
                value: ConfigValueInfo::from(value),
            });
        }
    }
    Ok(Validated {
        infos: ConfigInfos {
            name: result_name(written, &info.class),
            error_count,
            groups,
            configs,
        },
        kind: info.kind,
        class: info.class.clone(),
        password_keys,
    })
}

/// A distributed worker's checks of a source connector's exactly-once settings (Kafka's
/// `DistributedHerder.validateSourceConnectorConfig`), each of a setting that passed its own
/// validator (`None` otherwise), lower-cased.
fn exactly_once_errors(
    worker_enabled: bool,
    connector_supports: bool,
    exactly_once_support: Option<&str>,
    transaction_boundary: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut errors = Vec::new();
    if exactly_once_support == Some("required") {
        if !worker_enabled {
            errors.push((
                "exactly.once.support",
                "This worker does not have exactly-once source support enabled.".to_string(),
            ));
        }
        if !connector_supports {
            errors.push(("exactly.once.support", "The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once semantics, and then consider reconfiguring the connector to use the value \"requested\" for this property (which will disable this preflight check and allow the connector to be created).".to_string()));
        }
    }
    // No kconnect plugin can define its boundaries: Kafka's answer for such a connector.
    if transaction_boundary == Some("connector") {
        errors.push(("transaction.boundary", "The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition.".to_string()));
    }
    errors
}

/// The definitions `transforms` and `predicates` add, as Kafka's `ConnectorConfig.enrich`.
fn enriched_keys(worker: &WorkerContext, config: &Properties) -> super::enrich::Enriched {
    let mut all = super::enrich::Enriched::default();
    for (kind, list_key, group, kind_word, interface) in [
        (
            PluginKind::Transformation,
            "transforms",
            "Transforms",
            "transformation",
            "Transformation",
        ),
        (
            PluginKind::Predicate,
            "predicates",
            "Predicates",
            "predicate",
            "Predicate",
        ),
    ] {
        let builtins: Vec<_> = kconnect_transforms::builtin_classes()
            .into_iter()
            .filter(|b| b.kind == kind)
            .collect();
        let mut classes: Vec<String> = builtins
            .iter()
            .map(|b| b.class.clone())
            .chain(
                worker
                    .registry
                    .classes()
                    .iter()
                    .filter(|c| c.kind == kind)
                    .map(|c| c.class.clone()),
            )
            .collect();
        classes.sort();
        classes.dedup();
        let config_def = |class: &str| -> Option<ConfigDef> {
            if let Some(builtin) = builtins
                .iter()
                .find(|b| b.class == class || b.aliases.iter().any(|a| a == class))
            {
                return Some(builtin.config_def.clone());
            }
            let info = worker.registry.resolve(class, &[kind], None).ok()?;
            match kind {
                PluginKind::Transformation => {
                    worker.registry.new_transformation(&info).ok()?.config_def()
                }
                _ => worker.registry.new_predicate(&info).ok()?.config_def(),
            }
            .ok()
        };
        let enriched = super::enrich::enriched_keys(
            config,
            &super::enrich::EnrichablePlugins {
                list_key,
                group,
                kind_word,
                interface,
                classes: &classes,
                config_def: &config_def,
            },
        );
        all.keys.extend(enriched.keys);
        all.null_defaults.extend(enriched.null_defaults);
        all.unknown_classes.extend(enriched.unknown_classes);
    }
    all
}

/// The `name` of a validation result: as Kafka, the `connector.class` the request gave (alias
/// or full name, as written), or the resolved class when the request named none.
fn result_name(config: &Properties, resolved_class: &str) -> String {
    config
        .get("connector.class")
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .unwrap_or(resolved_class)
        .to_string()
}
/// Kafka's 400 message for an invalid connector config.
pub fn invalid_config_message(infos: &ConfigInfos) -> String {
    let errors: Vec<&str> = infos
        .configs
        .iter()
        .flat_map(|c| c.value.errors.iter().map(String::as_str))
        .collect();
    format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        errors.len(),
        errors.join("\n")
    )
}

/// A copy of `config` with password values replaced by `[hidden]`.
pub fn mask(config: &Properties, password_keys: &BTreeSet<String>) -> Properties {
    config
        .iter()
        .map(|(k, v)| {
            if password_keys.contains(k) {
                (k.clone(), HIDDEN.to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_once_checks_follow_kafkas_distributed_herder() {
        assert!(exactly_once_errors(false, false, Some("requested"), Some("poll")).is_empty());
        // A setting that failed its own validator is not checked again.
        assert!(exactly_once_errors(false, false, None, None).is_empty());
        let both = exactly_once_errors(false, false, Some("required"), Some("poll"));
        assert_eq!(both.len(), 2);
        assert_eq!(
            both[0].1,
            "This worker does not have exactly-once source support enabled."
        );
        assert!(both[1]
            .1
            .starts_with("The connector does not implement the API"));
        assert!(exactly_once_errors(true, true, Some("required"), Some("poll")).is_empty());
        let boundary = exactly_once_errors(true, true, Some("requested"), Some("connector"));
        assert_eq!(boundary[0].0, "transaction.boundary");
    }

    #[test]
    fn a_result_is_named_after_the_connector_class_as_written() {
        let class = "org.apache.kafka.connect.file.FileStreamSourceConnector";
        let config = |value: &str| Properties::from([("connector.class".into(), value.into())]);
        assert_eq!(
            result_name(&config("FileStreamSource"), class),
            "FileStreamSource"
        );
        assert_eq!(result_name(&config(class), class), class);
        assert_eq!(result_name(&config(" "), class), class);
        assert_eq!(result_name(&Properties::new(), class), class);
    }
}
