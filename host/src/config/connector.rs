//! A connector's config as the worker reads it: the common keys every connector has (Kafka's
//! `ConnectorConfig`, `SourceConnectorConfig`, `SinkConnectorConfig`), with the rest passed to the
//! plugin untouched.

use super::files::Properties;
use super::worker::strip_prefix;
use crate::error::{Result, WorkerError};
use kconnect_plugin_api::config::{ConfigDef, ConfigKey, ConfigType, Importance, Validator, Width};
use kconnect_plugin_api::PluginKind;
use regex::Regex;
use std::time::Duration;

/// The sink's subscription: `topics` or `topics.regex`, exactly one.
#[derive(Clone, Debug)]
pub enum Subscription {
    Topics(Vec<String>),
    Pattern(String),
}

/// `errors.tolerance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tolerance {
    None,
    All,
}

#[derive(Clone, Debug)]
pub struct ConnectorConfig {
    pub name: String,
    pub connector_class: String,
    pub plugin_version: Option<String>,
    pub tasks_max: usize,
    pub key_converter: Option<String>,
    pub value_converter: Option<String>,
    pub header_converter: Option<String>,
    pub errors_tolerance: Tolerance,
    pub errors_retry_timeout: Option<Duration>,
    pub errors_retry_delay_max: Duration,
    pub errors_log_enable: bool,
    pub errors_log_include_messages: bool,
    pub dlq_topic: Option<String>,
    /// kconnect's opt-in restart of FAILED tasks: the longest wait between attempts, or `None`
    /// when `errors.task.restart.enable` is off (the default, as in Kafka).
    pub task_restart_backoff_max: Option<Duration>,
    pub raw: Properties,
}

impl ConnectorConfig {
    /// Reads the common keys, checked against [`common_config_def`] so messages match Kafka's and
    /// `config/validate`'s. `name` must already be in `raw`.
    pub fn from_properties(raw: Properties) -> Result<ConnectorConfig> {
        let name = raw
            .get("name")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                WorkerError::key(
                    "name",
                    "Missing required configuration \"name\" which has no default value.",
                )
            })?;
        validate_connector_name(&name).map_err(|m| WorkerError::key("name", m))?;
        let def = common_config_def(PluginKind::Source);
        if let Some(bad) = def
            .validate(&raw)
            .into_iter()
            .find(|v| !v.errors.is_empty())
        {
            return Err(WorkerError::key(&bad.name, bad.errors[0].clone()));
        }
        let parsed = def.parse(&raw).map_err(|m| WorkerError::key("config", m))?;
        let own = |key: &str| parsed.non_empty_string(key).map(str::to_string);
        Ok(ConnectorConfig {
            name,
            connector_class: parsed.string("connector.class").to_string(),
            plugin_version: raw
                .get("connector.plugin.version")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            tasks_max: parsed.int("tasks.max") as usize,
            key_converter: own("key.converter"),
            value_converter: own("value.converter"),
            header_converter: own("header.converter"),
            errors_tolerance: if parsed
                .string("errors.tolerance")
                .eq_ignore_ascii_case("all")
            {
                Tolerance::All
            } else {
                Tolerance::None
            },
            errors_retry_timeout: match parsed.int("errors.retry.timeout") {
                -1 => None,
                ms => Some(Duration::from_millis(ms.max(0) as u64)),
            },
            errors_retry_delay_max: Duration::from_millis(
                parsed.int("errors.retry.delay.max.ms").max(0) as u64,
            ),
            errors_log_enable: parsed.boolean("errors.log.enable"),
            errors_log_include_messages: parsed.boolean("errors.log.include.messages"),
            task_restart_backoff_max:
                parsed.boolean("errors.task.restart.enable").then(|| {
                    Duration::from_millis(
                        parsed.int("errors.task.restart.backoff.max.ms").max(1) as u64
                    )
                }),
            dlq_topic: raw
                .get("errors.deadletterqueue.topic.name")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            raw,
        })
    }

    /// The sink subscription; errors unless exactly one of `topics`/`topics.regex` is set.
    pub fn subscription(&self) -> Result<Subscription> {
        let topics = self
            .raw
            .get("topics")
            .map(|t| kconnect_plugin_api::config::parse_list(t))
            .unwrap_or_default();
        let pattern = self
            .raw
            .get("topics.regex")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        match (topics.is_empty(), pattern) {
            (false, None) => Ok(Subscription::Topics(topics)),
            (true, Some(p)) => {
                Regex::new(&p).map_err(|e| {
                    WorkerError::key(
                        "topics.regex",
                        format!("Invalid value {p} for configuration topics.regex: {e}"),
                    )
                })?;
                Ok(Subscription::Pattern(p))
            }
            (false, Some(_)) => Err(WorkerError::key(
                "topics",
                "Must configure one of topics or topics.regex, not both",
            )),
            (true, None) => Err(WorkerError::key(
                "topics",
                "Must configure one of topics or topics.regex",
            )),
        }
    }

    /// The sink's consumer group: `connect-<name>`, or `consumer.override.group.id` when set.
    pub fn sink_group_id(&self) -> String {
        self.raw
            .get("consumer.override.group.id")
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| format!("connect-{}", self.name))
    }

    /// Keys under `prefix`, prefix removed (e.g. `producer.override.`).
    pub fn prefixed(&self, prefix: &str) -> Properties {
        strip_prefix(&self.raw, prefix)
    }
}

/// Connector names end up in REST paths, file names and Kafka keys: refuse the ones that cannot
/// round-trip through a URL path segment.
pub fn validate_connector_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("Connector name cannot be empty".to_string());
    }
    if name.chars().any(|c| c.is_control()) {
        return Err("Connector name cannot contain ISO control characters".to_string());
    }
    if name.contains('/') {
        return Err("Connector name cannot contain '/'".to_string());
    }
    if name == "." || name == ".." {
        return Err(format!("Connector name cannot be \"{name}\""));
    }
    Ok(())
}

/// The keys the worker understands on every connector, for `config/validate` and
/// `connector-plugins/{p}/config` answers (Kafka lists these before the plugin's own).
///
/// Names, types, defaults, importance, groups, positions (`order_in_group`, with Kafka's numbers
/// even where kconnect leaves a key of Kafka's out), widths and display names are Apache Kafka
/// Connect 4.3's, checked side by side by `tests/tests/rest_differential.rs`; the documentation
/// is kconnect's own wording. Keys of features kconnect does not have are left out rather than
/// accepted and ignored; they and kconnect's own keys are listed in
/// `tests/rest-corpus/INTENDED_DIFFERENCES.md`.
pub fn common_config_def(kind: PluginKind) -> ConfigDef {
    let common = "Common";
    let errors = "Error Handling";
    let mut def = ConfigDef::new()
        .define(
            ConfigKey::required(
                "name",
                ConfigType::String,
                "Globally unique name to use for this connector.",
            )
            .group(common, 1)
            .width(Width::Medium)
            .display_name("Connector name"),
        )
        .define(
            ConfigKey::required(
                "connector.class",
                ConfigType::String,
                "Name or alias of the class for this connector.",
            )
            .group(common, 2)
            .width(Width::Long)
            .display_name("Connector class"),
        )
        .define(
            ConfigKey::optional(
                "tasks.max",
                ConfigType::Int,
                "1",
                "Maximum number of tasks to use for this connector.",
            )
            .importance(Importance::High)
            .validator(Validator::Range {
                min: Some(1.0),
                max: None,
            })
            .group(common, 4)
            .width(Width::Short)
            .display_name("Tasks max"),
        )
        .define(
            ConfigKey::optional(
                "key.converter",
                ConfigType::Class,
                "",
                "Converter for record keys; the worker's when empty.",
            )
            .importance(Importance::Low)
            .group(common, 6)
            .width(Width::Short)
            .display_name("Key converter class"),
        )
        .define(
            ConfigKey::optional(
                "value.converter",
                ConfigType::Class,
                "",
                "Converter for record values; the worker's when empty.",
            )
            .importance(Importance::Low)
            .group(common, 8)
            .width(Width::Short)
            .display_name("Value converter class"),
        )
        .define(
            ConfigKey::optional(
                "header.converter",
                ConfigType::Class,
                "",
                "Converter for record headers; the worker's when empty.",
            )
            .importance(Importance::Low)
            .group(common, 10)
            .width(Width::Short)
            .display_name("Header converter class"),
        )
        .define(
            ConfigKey::optional(
                "transforms",
                ConfigType::List,
                "",
                "Aliases of the transformations to apply, in order.",
            )
            .importance(Importance::Low)
            .group("Transforms", 12)
            .width(Width::Long)
            .display_name("Transforms"),
        )
        .define(
            ConfigKey::optional(
                "predicates",
                ConfigType::List,
                "",
                "Aliases of the predicates used by the transformations.",
            )
            .importance(Importance::Low)
            .group("Predicates", 13)
            .width(Width::Long)
            .display_name("Predicates"),
        )
        .define(
            ConfigKey::optional(
                "errors.retry.timeout",
                ConfigType::Long,
                "0",
                "How long a failed conversion or transformation is retried, in ms: 0 (the default) not at all, -1 without end. A sink task's retriable put is retried until it succeeds whatever this says, unless it is positive.",
            )
            .group(errors, 1)
            .width(Width::Medium)
            .display_name("Retry Timeout for Errors"),
        )
        .define(
            ConfigKey::optional(
                "errors.retry.delay.max.ms",
                ConfigType::Long,
                "60000",
                "Longest wait between retries, in ms.",
            )
            .group(errors, 2)
            .width(Width::Medium)
            .display_name("Maximum Delay Between Retries for Errors"),
        )
        .define(
            ConfigKey::optional(
                "errors.tolerance",
                ConfigType::String,
                "none",
                "none: an error fails the task; all: problem records are skipped.",
            )
            .validator(Validator::ValidString {
                values: vec!["none".into(), "all".into()],
                case_insensitive: true,
            })
            .group(errors, 3)
            .width(Width::Short)
            .display_name("Error Tolerance"),
        )
        .define(
            ConfigKey::optional(
                "errors.log.enable",
                ConfigType::Boolean,
                "false",
                "Log each error and failed operation.",
            )
            .group(errors, 4)
            .width(Width::Short)
            .display_name("Log Errors"),
        )
        .define(
            ConfigKey::optional(
                "errors.log.include.messages",
                ConfigType::Boolean,
                "false",
                "Include the failed record in error logs.",
            )
            .group(errors, 5)
            .width(Width::Short)
            .display_name("Log Error Details"),
        );
    if kind == PluginKind::Sink {
        def = def
            .define(
                ConfigKey::optional(
                    "topics",
                    ConfigType::List,
                    "",
                    "Topics to consume; give this or topics.regex.",
                )
                .importance(Importance::High)
                .group(common, 4)
                .width(Width::Long)
                .display_name("Topics"),
            )
            .define(
                ConfigKey::optional(
                    "topics.regex",
                    ConfigType::String,
                    "",
                    "Regular expression of the topics to consume; give this or topics.",
                )
                .importance(Importance::High)
                .group(common, 4)
                .width(Width::Long)
                .display_name("Topics regex"),
            )
            .define(
                ConfigKey::optional(
                    "errors.deadletterqueue.topic.name",
                    ConfigType::String,
                    "",
                    "Topic that receives records that failed.",
                )
                .group(errors, 6)
                .width(Width::Medium)
                .display_name("Dead Letter Queue Topic Name"),
            )
            .define(
                ConfigKey::optional(
                    "errors.deadletterqueue.topic.replication.factor",
                    ConfigType::Short,
                    "3",
                    "Replication factor of the dead letter queue topic when it is created.",
                )
                .group(errors, 7)
                .width(Width::Medium)
                .display_name("Dead Letter Queue Topic Replication Factor"),
            )
            .define(
                ConfigKey::optional(
                    "errors.deadletterqueue.context.headers.enable",
                    ConfigType::Boolean,
                    "false",
                    "Add __connect.errors.* headers describing the failure.",
                )
                .group(errors, 8)
                .width(Width::Medium)
                .display_name("Enable Error Context Headers"),
            );
    }
    if kind == PluginKind::Source {
        let exactly_once = "Exactly Once Support";
        def = def
            .define(
                ConfigKey::optional(
                    "exactly.once.support",
                    ConfigType::String,
                    "requested",
                    "requested or required: with required, a distributed worker refuses the connector unless exactly-once delivery is enabled and the connector says it supports it.",
                )
                .validator(Validator::ValidString {
                    values: vec!["requested".into(), "required".into()],
                    case_insensitive: true,
                })
                .group(exactly_once, 2)
                .width(Width::Short)
                .display_name("Exactly once support"),
            )
            .define(
                ConfigKey::optional(
                    "transaction.boundary",
                    ConfigType::String,
                    "poll",
                    "Where exactly-once transactions end: poll (each polled batch), interval (every transaction.boundary.interval.ms) or connector (defined by the connector).",
                )
                .validator(Validator::ValidString {
                    values: vec!["poll".into(), "interval".into(), "connector".into()],
                    case_insensitive: true,
                })
                .group(exactly_once, 3)
                .width(Width::Short)
                .display_name("Transaction Boundary"),
            );
    }
    // kconnect's own keys come after Kafka's, so Kafka's keep their positions.
    def.define(
        ConfigKey::optional(
            "errors.task.restart.enable",
            ConfigType::Boolean,
            "false",
            "kconnect: restart FAILED tasks automatically, with capped exponential backoff.",
        )
        .group(errors, 9),
    )
    .define(
        ConfigKey::optional(
            "errors.task.restart.backoff.max.ms",
            ConfigType::Long,
            "60000",
            "kconnect: longest wait between automatic restarts of a FAILED task, in ms.",
        )
        .validator(Validator::Range {
            min: Some(1.0),
            max: None,
        })
        .group(errors, 10),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Properties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn common_keys_and_errors() {
        let c = ConnectorConfig::from_properties(props(&[
            ("name", "s"),
            ("connector.class", "FileStreamSink"),
            ("tasks.max", "3"),
            ("topics", "a, b"),
        ]))
        .unwrap();
        assert_eq!(c.tasks_max, 3);
        assert!(matches!(c.subscription().unwrap(), Subscription::Topics(t) if t == ["a", "b"]));

        let e = ConnectorConfig::from_properties(props(&[("name", "s")])).unwrap_err();
        assert!(e.to_string().starts_with("connector.class:"), "{e}");
        let e = ConnectorConfig::from_properties(props(&[
            ("name", "s"),
            ("connector.class", "X"),
            ("tasks.max", "x"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("tasks.max"), "{e}");
        let both = ConnectorConfig::from_properties(props(&[
            ("name", "s"),
            ("connector.class", "X"),
            ("topics", "a"),
            ("topics.regex", "a.*"),
        ]))
        .unwrap();
        assert!(both.subscription().is_err());
    }

    #[test]
    fn names_that_cannot_be_paths_are_refused() {
        for bad in ["a/b", "..", "x\u{7}y", " "] {
            assert!(validate_connector_name(bad).is_err(), "{bad:?}");
        }
        assert!(validate_connector_name("local-file-source").is_ok());
    }
}
