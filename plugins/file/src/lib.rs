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

use kconnect_plugin_api::ConfigValue;
use kconnect_plugin_api::{ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Validator};
use std::io;
use std::path::{Component, Path, PathBuf};

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
    /// The source path names a directory: it would open, but never yield a line.
    #[error("Couldn't read {path} for FileStreamSourceTask: it is a directory, not a file")]
    SourceIsDirectory { path: String },
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

/// Parses a connector or task config, reporting the first problem as Kafka words it, and
/// refuses a `file` outside the allowed folders.
fn parse_config(
    def: &ConfigDef,
    config: &kconnect_plugin_api::Config,
) -> Result<kconnect_plugin_api::config::ParsedConfig, FileConnectorError> {
    let parsed = def.parse(config).map_err(FileConnectorError::Config)?;
    if let Some(file) = parsed.non_empty_string(FILE_CONFIG) {
        check_allowed(Path::new(file), allowed_dirs().as_deref())?;
    }
    Ok(parsed)
}

/// `validate` as the worker calls it: the definition's checks plus the allowed folders.
fn validate_config(def: &ConfigDef, config: &kconnect_plugin_api::Config) -> Vec<ConfigValue> {
    let mut values = def.validate(config);
    let file = config
        .get(FILE_CONFIG)
        .map(|f| f.trim())
        .filter(|f| !f.is_empty());
    if let Some(file) = file {
        if let Err(e) = check_allowed(Path::new(file), allowed_dirs().as_deref()) {
            if let Some(value) = values.iter_mut().find(|v| v.name == FILE_CONFIG) {
                value.errors.push(e.to_string());
            }
        }
    }
    values
}

/// Operators confine both connectors to some folders with this environment variable of the
/// worker (absolute paths separated by `:`, as `PATH`); a `file` elsewhere is a config error.
/// Unset, any file the worker's user can reach is allowed, as in Kafka.
pub const ALLOWED_DIRS_ENV: &str = "KCONNECT_FILE_ALLOWED_DIRS";

fn allowed_dirs() -> Option<Vec<PathBuf>> {
    let value = std::env::var_os(ALLOWED_DIRS_ENV)?;
    Some(
        std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
    )
}

/// `path` made absolute with `.` and `..` removed, and symbolic links resolved as far as the
/// path exists, so neither `..` nor a link can lead outside a folder.
fn resolved(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut clean = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    // Resolve links in the longest existing prefix; the rest does not exist yet.
    let mut existing = clean.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut result = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        result.push(name);
    }
    result
}

fn check_allowed(file: &Path, allowed: Option<&[PathBuf]>) -> Result<(), FileConnectorError> {
    let Some(allowed) = allowed else {
        return Ok(());
    };
    let target = resolved(file);
    if allowed.iter().any(|dir| target.starts_with(resolved(dir))) {
        return Ok(());
    }
    Err(FileConnectorError::Config(format!(
        "Invalid value {} for configuration file: the file is outside the folders allowed by {ALLOWED_DIRS_ENV}",
        file.display()
    )))
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
    fn files_outside_the_allowed_folders_are_refused_even_through_dot_dot_and_links() {
        let root = tempfile::tempdir().unwrap();
        let allowed_dir = root.path().join("data");
        std::fs::create_dir(&allowed_dir).unwrap();
        let allowed = [allowed_dir.clone()];
        let check = |p: PathBuf| check_allowed(&p, Some(&allowed));
        assert!(check(allowed_dir.join("in.txt")).is_ok());
        assert!(
            check(allowed_dir.join("new/deeper/out.txt")).is_ok(),
            "need not exist yet"
        );
        assert!(
            check(allowed_dir.join("../secret.txt")).is_err(),
            "no way out with .."
        );
        assert!(check(PathBuf::from("/etc/passwd")).is_err());
        assert!(
            check(root.path().join("data-other/x")).is_err(),
            "a sibling with the same prefix"
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", allowed_dir.join("link")).unwrap();
            assert!(
                check(allowed_dir.join("link/passwd")).is_err(),
                "no way out through a link"
            );
        }
        assert!(
            check_allowed(Path::new("/etc/passwd"), None).is_ok(),
            "unset: anything goes"
        );
        let error = check(PathBuf::from("/etc/passwd")).unwrap_err().to_string();
        assert!(
            error.contains(ALLOWED_DIRS_ENV) && error.contains("/etc/passwd"),
            "{error}"
        );
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
