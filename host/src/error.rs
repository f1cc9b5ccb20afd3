//! The worker's error type. Each variant has a stable code (`KC-…`) that appears in logs and
//! can be searched for in the documentation.

use kconnect_plugin_api::ConnectError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A config file could not be read or parsed.
    #[error("{path}: {message}")]
    ConfigFile { path: PathBuf, message: String },
    /// A config key has an invalid or missing value.
    #[error("{key}: {message}")]
    ConfigKey { key: String, message: String },
    /// A Kafka client could not be created or a Kafka request failed.
    #[error("kafka: {0}")]
    Kafka(String),
    /// A `${provider:path:key}` placeholder could not be resolved.
    #[error("{0}")]
    ConfigProvider(#[from] crate::config::providers::ProviderError),
    /// A plugin call failed.
    #[error("{0}")]
    Plugin(#[from] ConnectError),
    /// A plugin or class could not be found or loaded.
    #[error("{0}")]
    Loader(#[from] kconnect_loader::LoaderError),
    /// Offsets or connector configs could not be stored.
    #[error("offset store {path}: {message}")]
    Store { path: PathBuf, message: String },
    /// The REST server could not start.
    #[error("rest: {0}")]
    Rest(String),
    /// Anything else that stops the worker.
    #[error("{0}")]
    Other(String),
}

impl WorkerError {
    /// A stable code for the variant, printed beside the message.
    pub fn code(&self) -> &'static str {
        match self {
            WorkerError::ConfigFile { .. } => "KC-CONFIG-FILE",
            WorkerError::ConfigKey { .. } => "KC-CONFIG-KEY",
            WorkerError::Kafka(_) => "KC-KAFKA",
            WorkerError::ConfigProvider(_) => "KC-CONFIG-PROVIDER",
            WorkerError::Plugin(_) => "KC-PLUGIN",
            WorkerError::Loader(_) => "KC-LOADER",
            WorkerError::Store { .. } => "KC-STORE",
            WorkerError::Rest(_) => "KC-REST",
            WorkerError::Other(_) => "KC-OTHER",
        }
    }

    pub fn key(key: &str, message: impl Into<String>) -> WorkerError {
        WorkerError::ConfigKey {
            key: key.to_string(),
            message: message.into(),
        }
    }
}

impl From<rdkafka::error::KafkaError> for WorkerError {
    fn from(e: rdkafka::error::KafkaError) -> WorkerError {
        WorkerError::Kafka(e.to_string())
    }
}

pub type Result<T, E = WorkerError> = std::result::Result<T, E>;
