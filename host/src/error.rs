//! The worker's error type. Callers decide on the variant; where another error caused this one
//! it is kept as the [`source`](std::error::Error::source), so a caller can look at, say, the
//! Kafka error code rather than at the message.

use kconnect_plugin_api::ConnectError;
use rdkafka::error::KafkaError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A config file could not be read or parsed.
    #[error("{path}: {message}")]
    ConfigFile { path: PathBuf, message: String },
    /// A config key has an invalid or missing value.
    #[error("{key}: {message}")]
    ConfigKey { key: String, message: String },
    /// A Kafka client could not be created or one of its calls failed; `context` says what the
    /// worker was doing.
    #[error("{context}: {source}")]
    Kafka {
        context: String,
        #[source]
        source: KafkaError,
    },
    /// Kafka answered, but not as the worker needs: a topic that does not appear, a read or a
    /// write not acknowledged in time, records the producer could not deliver.
    #[error("{0}")]
    Cluster(String),
    /// A `${provider:path:key}` placeholder could not be resolved.
    #[error("{0}")]
    ConfigProvider(#[from] crate::config::providers::ProviderError),
    /// A plugin call failed.
    #[error("{0}")]
    Plugin(#[from] ConnectError),
    /// A plugin or class could not be found or loaded.
    #[error("{0}")]
    Loader(#[from] kconnect_loader::LoaderError),
    /// A connector's config was refused before it could start.
    #[error("{0}")]
    Refused(#[from] crate::herder::validation::Refusal),
    /// Offsets or connector configs could not be stored.
    #[error("offset store {path}: {message}")]
    Store { path: PathBuf, message: String },
    /// The REST server could not start.
    #[error("{0}")]
    Rest(#[from] kconnect_rest::RestError),
    /// A thread of the worker could not be started.
    #[error("cannot start a thread for {what}: {source}")]
    Thread {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A blocking job of the worker panicked or was cancelled.
    #[error("{what} did not complete: {source}")]
    Job {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
    /// A record failed and `errors.tolerance=none` (Kafka's message).
    #[error("Tolerance exceeded in error handler: {0}")]
    ToleranceExceeded(String),
    /// Records sent to the dead letter queue were not acknowledged.
    #[error("{0}")]
    DeadLetterQueue(#[from] crate::worker::errors::DlqUnacknowledged),
}

impl WorkerError {
    pub fn key(key: &str, message: impl Into<String>) -> WorkerError {
        WorkerError::ConfigKey {
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// A failed Kafka client call, with what the worker was doing.
    pub fn kafka(context: impl Into<String>, source: KafkaError) -> WorkerError {
        WorkerError::Kafka {
            context: context.into(),
            source,
        }
    }

    /// A thread that could not be started.
    pub fn thread(what: impl Into<String>, source: std::io::Error) -> WorkerError {
        WorkerError::Thread {
            what: what.into(),
            source,
        }
    }
}

impl From<KafkaError> for WorkerError {
    fn from(source: KafkaError) -> WorkerError {
        WorkerError::kafka("a Kafka request failed", source)
    }
}

pub type Result<T, E = WorkerError> = std::result::Result<T, E>;
