//! # kconnect file plugin
//!
//! The two connectors of the Kafka quickstart, behaving like Kafka's `FileStreamSourceConnector`
//! and `FileStreamSinkConnector` and answering to the same class names (the worker also accepts
//! `FileStreamSource`/`FileStreamSourceConnector` and `FileStreamSink`/`FileStreamSinkConnector`).
//!
//! ## `org.apache.kafka.connect.file.FileStreamSourceConnector`
//!
//! | key          | type   | default | meaning |
//! |--------------|--------|---------|---------|
//! | `file`       | STRING | (none)  | File to read; unset or empty reads standard input. |
//! | `topic`      | STRING | —       | Required, not empty: the topic every line goes to. |
//! | `batch.size` | INT    | 2000    | Most records returned by one poll (values below 1 act as 1, as in Kafka). |
//!
//! Always one task, whatever `tasks.max` says: one reader per file is all that makes sense.
//! The task emits one record per line (terminators `\n`, `\r\n` and a lone `\r`; a last line
//! without terminator waits for it) with a `STRING` value schema and no key. Each record's
//! source partition is `{"filename": <file>}` and its offset `{"position": <byte position after
//! the line>}` (INT64); at start the task reads the stored offset and resumes there. It follows
//! the file as it grows. Reading standard input, partition and offset values are null and
//! nothing is resumed (as in Kafka).
//!
//! Where this differs from Kafka:
//! - Positions count bytes, so they stay correct with multi-byte UTF-8 (Kafka counts characters
//!   but skips bytes when it resumes).
//! - Truncation and rotation are handled, which Kafka does not do: when the file becomes shorter
//!   than what was read, or the path now names another file (a new inode), the task logs a
//!   warning and reads the new content from its beginning; an unfinished last line of the old
//!   content is dropped. A stored position beyond the end of the file is treated the same way.
//!   Truncation that is followed by regrowth past the old size before the task looks again
//!   cannot be seen.
//! - A missing file is waited for, as in Kafka, but the warning is logged once, not every poll.
//! - A file that exists but cannot be read fails the task.
//!
//! ## `org.apache.kafka.connect.file.FileStreamSinkConnector`
//!
//! | key    | type   | default | meaning |
//! |--------|--------|---------|---------|
//! | `file` | STRING | (none)  | File to append to (created if missing); unset or empty writes to standard output. |
//!
//! `topics` / `topics.regex` are the worker's business. Each task writes every record's value on
//! its own line, rendered as text (`null` for a null value, as Java's `println` does), through a
//! buffer flushed on `flush`/`pre_commit` and on stop. Flushing hands the data to the operating
//! system, as Kafka does; it does not `fsync`. Like Kafka, the connector hands out `tasks.max`
//! identical task configs.

mod lines;
mod sink;
mod source;

pub use sink::{FileStreamSinkConnector, FileStreamSinkTask};
pub use source::{FileStreamSourceConnector, FileStreamSourceTask};

use kconnect_plugin_api::{ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Validator};
use std::io;

/// The file to read or append to; unset or empty means standard input or output.
pub const FILE_CONFIG: &str = "file";
/// The topic the source connector writes to.
pub const TOPIC_CONFIG: &str = "topic";
/// The most records one source poll returns.
pub const TASK_BATCH_SIZE_CONFIG: &str = "batch.size";
/// Default of [`TASK_BATCH_SIZE_CONFIG`].
pub const DEFAULT_TASK_BATCH_SIZE: i32 = 2000;
/// Key of the source partition: the file name as configured.
pub const FILENAME_FIELD: &str = "filename";
/// Key of the source offset: the byte position after the last line emitted.
pub const POSITION_FIELD: &str = "position";

/// The settings of [`FileStreamSourceConnector`], with Kafka's names, types and importances.
pub fn source_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::optional(
                FILE_CONFIG,
                ConfigType::String,
                "",
                "The file to read lines from. Leave it unset to read standard input.",
            )
            .importance(Importance::High),
        )
        .define(
            ConfigKey::required(
                TOPIC_CONFIG,
                ConfigType::String,
                "The topic the lines are written to.",
            )
            .validator(Validator::NonEmptyString)
            .importance(Importance::High),
        )
        .define(
            ConfigKey::optional(
                TASK_BATCH_SIZE_CONFIG,
                ConfigType::Int,
                &DEFAULT_TASK_BATCH_SIZE.to_string(),
                "The largest number of records the source task returns from one poll.",
            )
            .importance(Importance::Low),
        )
}

/// The settings of [`FileStreamSinkConnector`].
pub fn sink_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::optional(
            FILE_CONFIG,
            ConfigType::String,
            "",
            "The file records are appended to. Leave it unset to write to standard output.",
        )
        .importance(Importance::High),
    )
}

/// Everything that can go wrong in this plugin.
#[derive(Debug, thiserror::Error)]
pub enum FileConnectorError {
    /// The config does not match the connector's [`ConfigDef`].
    #[error("{0}")]
    Config(String),
    /// The source file exists but cannot be opened.
    #[error("Couldn't open file {path} for FileStreamSourceTask: {source}")]
    OpenSource { path: String, source: io::Error },
    /// Reading the source file (or its metadata) failed.
    #[error("Error reading {path} for FileStreamSourceTask: {source}")]
    Read { path: String, source: io::Error },
    /// The stored offset is not a usable byte position.
    #[error("Offset position is the incorrect type: expected a non-negative integer for {path}, found {found}")]
    StoredOffset { path: String, found: String },
    /// The sink file cannot be opened or created.
    #[error("Couldn't find or create file '{path}' for FileStreamSinkTask: {source}")]
    OpenSink { path: String, source: io::Error },
    /// Writing or flushing the sink output failed.
    #[error("Error writing to {target} for FileStreamSinkTask: {source}")]
    Write { target: String, source: io::Error },
    /// The worker called a task before `start` (or after `stop`).
    #[error("{0} was called on a task that is not started")]
    NotStarted(&'static str),
}

impl From<FileConnectorError> for ConnectError {
    fn from(error: FileConnectorError) -> ConnectError {
        match error {
            FileConnectorError::Config(message) => ConnectError::config(message),
            other => ConnectError::failed(other.to_string()),
        }
    }
}

/// Parses a connector or task config, reporting the first problem as Kafka words it.
fn parse_config(
    def: &ConfigDef,
    config: &kconnect_plugin_api::Config,
) -> Result<kconnect_plugin_api::config::ParsedConfig, FileConnectorError> {
    def.parse(config).map_err(FileConnectorError::Config)
}

kconnect_plugin_api::export_plugin! {
    source_connectors: [FileStreamSourceConnector],
    sink_connectors: [FileStreamSinkConnector],
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::PluginKind;

    #[test]
    fn registry_exports_both_connectors_under_kafkas_class_names() {
        let manifest = kconnect_plugin_registry().manifest();
        let classes: Vec<(&str, PluginKind)> = manifest
            .classes
            .iter()
            .map(|c| (c.class.as_str(), c.kind))
            .collect();
        assert_eq!(
            classes,
            vec![
                (
                    "org.apache.kafka.connect.file.FileStreamSourceConnector",
                    PluginKind::Source
                ),
                (
                    "org.apache.kafka.connect.file.FileStreamSinkConnector",
                    PluginKind::Sink
                ),
            ]
        );
        assert_eq!(manifest.name, "kconnect-file-plugin");
    }

    #[test]
    fn config_errors_become_config_kind_and_others_failed() {
        let config: ConnectError = FileConnectorError::Config("bad".into()).into();
        assert_eq!(config.kind, kconnect_plugin_api::ErrorKind::Config);
        let io: ConnectError = FileConnectorError::Read {
            path: "/x".into(),
            source: io::Error::other("boom"),
        }
        .into();
        assert_eq!(io.kind, kconnect_plugin_api::ErrorKind::Failed);
        assert!(io.message.contains("/x"), "{}", io.message);
    }
}
