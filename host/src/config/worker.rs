//! The worker's own settings (Kafka's `WorkerConfig`/`StandaloneConfig` keys). Unknown keys are
//! kept in [`WorkerConfig::raw`] and passed on, as Kafka does.

use super::files::Properties;
use crate::error::{Result, WorkerError};
use std::path::PathBuf;
use std::time::Duration;

/// `bootstrap.servers` value that starts librdkafka's in-process mock cluster.
pub const EMBEDDED_BOOTSTRAP: &str = "embedded";

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub raw: Properties,
    pub bootstrap_servers: String,
    pub key_converter: String,
    pub value_converter: String,
    pub header_converter: String,
    pub plugin_path: Vec<PathBuf>,
    /// `plugin.path.watch` (beyond Kafka): load plugins added to `plugin.path` while running.
    pub plugin_path_watch: bool,
    pub offset_storage_file: Option<PathBuf>,
    pub offset_flush_interval: Duration,
    pub offset_flush_timeout: Duration,
    pub task_shutdown_graceful_timeout: Duration,
    pub listeners: Vec<String>,
    pub rest_advertised_host_name: Option<String>,
    pub rest_advertised_port: Option<u16>,
    pub rest_advertised_listener: Option<String>,
    pub topic_creation_enable: bool,
    pub topic_tracking_enable: bool,
    pub topic_tracking_allow_reset: bool,
    pub client_override_policy: OverridePolicy,
    pub max_request_body_bytes: usize,
    /// `rest.ui.enable` (kconnect's): serve the web console at `/ui/`.
    pub rest_ui_enable: bool,
    /// REST TLS, basic authentication, `admin.listeners` and CORS, read from their worker keys
    /// (see `kconnect_rest::security`).
    pub rest_security: kconnect_rest::RestSecurity,
}

/// `connector.client.config.override.policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverridePolicy {
    All,
    None,
    Principal,
}

fn millis(raw: &Properties, key: &str, default: u64) -> Result<Duration> {
    match raw.get(key) {
        None => Ok(Duration::from_millis(default)),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| WorkerError::key(key, format!("\"{v}\" is not a number of milliseconds"))),
    }
}

fn boolean(raw: &Properties, key: &str, default: bool) -> Result<bool> {
    match raw.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(WorkerError::key(
            key,
            format!("\"{v}\" is not true or false"),
        )),
    }
}

fn list(raw: &Properties, key: &str) -> Vec<String> {
    raw.get(key)
        .map(|v| kconnect_plugin_api::config::parse_list(v))
        .unwrap_or_default()
}

impl WorkerConfig {
    /// Reads the worker settings, checking types; converters are required, as in Kafka.
    pub fn from_properties(raw: Properties) -> Result<WorkerConfig> {
        let required = |key: &str| -> Result<String> {
            raw.get(key)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    WorkerError::key(
                        key,
                        format!(
                            "Missing required configuration \"{key}\" which has no default value."
                        ),
                    )
                })
        };
        let key_converter = required("key.converter")?;
        let value_converter = required("value.converter")?;
        let mut listeners = list(&raw, "listeners");
        if listeners.is_empty() {
            listeners.push("http://:8083".to_string());
        }
        let client_override_policy = match raw
            .get("connector.client.config.override.policy")
            .map(|s| s.trim())
            .unwrap_or("All")
        {
            "All" => OverridePolicy::All,
            "None" => OverridePolicy::None,
            "Principal" => OverridePolicy::Principal,
            other => {
                return Err(WorkerError::key(
                    "connector.client.config.override.policy",
                    format!("\"{other}\" is not one of All, None, Principal"),
                ))
            }
        };
        let rest_advertised_port = match raw.get("rest.advertised.port") {
            None => None,
            Some(v) => Some(v.trim().parse::<u16>().map_err(|_| {
                WorkerError::key(
                    "rest.advertised.port",
                    format!("\"{v}\" is not a port number"),
                )
            })?),
        };
        let max_request_body_bytes = match raw.get("rest.max.request.body.bytes") {
            None => 1024 * 1024,
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                WorkerError::key(
                    "rest.max.request.body.bytes",
                    format!("\"{v}\" is not a size in bytes"),
                )
            })?,
        };
        // Certificates and credentials are read here, so that a bad REST security setting stops
        // the worker at start with its key named. KAFKA_OPTS may name Kafka's JAAS file.
        let rest_security = kconnect_rest::RestSecurity::from_worker_properties(
            &listeners,
            &raw,
            std::env::var("KAFKA_OPTS").ok().as_deref(),
        )
        .map_err(|error| match error {
            kconnect_rest::RestError::InvalidConfig { key, message } => {
                WorkerError::key(&key, message)
            }
            other => WorkerError::key("listeners", other.to_string()),
        })?;
        Ok(WorkerConfig {
            bootstrap_servers: raw
                .get("bootstrap.servers")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| "localhost:9092".to_string()),
            key_converter,
            value_converter,
            header_converter: raw
                .get("header.converter")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|| {
                    "org.apache.kafka.connect.storage.SimpleHeaderConverter".to_string()
                }),
            plugin_path: list(&raw, "plugin.path")
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            plugin_path_watch: boolean(&raw, "plugin.path.watch", true)?,
            offset_storage_file: raw
                .get("offset.storage.file.filename")
                .filter(|v| !v.trim().is_empty())
                .map(|v| PathBuf::from(v.trim())),
            offset_flush_interval: millis(&raw, "offset.flush.interval.ms", 60_000)?,
            offset_flush_timeout: millis(&raw, "offset.flush.timeout.ms", 5_000)?,
            task_shutdown_graceful_timeout: millis(
                &raw,
                "task.shutdown.graceful.timeout.ms",
                5_000,
            )?,
            listeners,
            rest_advertised_host_name: raw.get("rest.advertised.host.name").cloned(),
            rest_advertised_port,
            rest_advertised_listener: raw.get("rest.advertised.listener").cloned(),
            topic_creation_enable: boolean(&raw, "topic.creation.enable", true)?,
            topic_tracking_enable: boolean(&raw, "topic.tracking.enable", true)?,
            topic_tracking_allow_reset: boolean(&raw, "topic.tracking.allow.reset", true)?,
            client_override_policy,
            max_request_body_bytes,
            rest_ui_enable: boolean(&raw, "rest.ui.enable", true)?,
            rest_security,
            raw,
        })
    }

    /// True when `bootstrap.servers=embedded`.
    pub fn embedded_broker(&self) -> bool {
        self.bootstrap_servers
            .eq_ignore_ascii_case(EMBEDDED_BOOTSTRAP)
    }

    /// Keys under `prefix` with the prefix removed (`producer.` → `acks`, …).
    pub fn prefixed(&self, prefix: &str) -> Properties {
        strip_prefix(&self.raw, prefix)
    }
}

/// Keys of `props` under `prefix`, with the prefix removed.
pub fn strip_prefix(props: &Properties, prefix: &str) -> Properties {
    props
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .map(|rest| (rest.to_string(), v.clone()))
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
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
    fn kafka_standalone_file_parses_with_defaults() {
        let c = WorkerConfig::from_properties(props(&[
            ("bootstrap.servers", "localhost:9092"),
            (
                "key.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
            ("key.converter.schemas.enable", "true"),
            ("offset.storage.file.filename", "/tmp/connect.offsets"),
            ("offset.flush.interval.ms", "10000"),
            ("plugin.path", "/a, /b"),
            ("some.unknown.key", "kept"),
        ]))
        .unwrap();
        assert_eq!(c.offset_flush_interval, Duration::from_millis(10_000));
        assert_eq!(
            c.plugin_path,
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(c.listeners, vec!["http://:8083"]);
        assert_eq!(c.prefixed("key.converter.")["schemas.enable"], "true");
        assert_eq!(c.raw["some.unknown.key"], "kept");
        assert!(!c.embedded_broker());
        assert!(c.plugin_path_watch, "hot loading is on by default");
    }

    #[test]
    fn plugin_path_watch_can_be_turned_off_and_must_be_a_boolean() {
        let with = |value: &str| {
            WorkerConfig::from_properties(props(&[
                ("key.converter", "x"),
                ("value.converter", "x"),
                ("plugin.path.watch", value),
            ]))
        };
        assert!(!with(" FALSE ").unwrap().plugin_path_watch);
        assert!(with("true").unwrap().plugin_path_watch);
        let e = with("sometimes").unwrap_err();
        assert!(e.to_string().starts_with("plugin.path.watch:"), "{e}");
    }

    #[test]
    fn rest_security_keys_are_read_and_errors_name_the_key() {
        let with = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("key.converter", "x"), ("value.converter", "x")];
            pairs.extend_from_slice(extra);
            WorkerConfig::from_properties(props(&pairs))
        };
        let c = with(&[
            ("admin.listeners", ""),
            ("access.control.allow.origin", "*"),
        ])
        .unwrap();
        assert_eq!(c.rest_security.admin_listeners, Some(vec![]));
        assert!(c.rest_security.cors.is_some());
        assert!(c.rest_security.basic_auth.is_none() && c.rest_security.tls.is_none());
        let e = with(&[("rest.extension.classes", "com.example.Other")]).unwrap_err();
        assert!(e.to_string().starts_with("rest.extension.classes:"), "{e}");
        let e = with(&[("listeners", "https://:8443")]).unwrap_err();
        assert!(e.to_string().starts_with("listeners:"), "{e}");
    }

    #[test]
    fn errors_name_the_key() {
        let e = WorkerConfig::from_properties(props(&[("value.converter", "x")])).unwrap_err();
        assert!(e.to_string().starts_with("key.converter:"), "{e}");
        let e = WorkerConfig::from_properties(props(&[
            ("key.converter", "x"),
            ("value.converter", "x"),
            ("offset.flush.interval.ms", "soon"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("offset.flush.interval.ms"), "{e}");
    }
}
