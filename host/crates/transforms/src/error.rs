//! The crate's one error type.

use kconnect_plugin_api::{ConnectError, ErrorKind};
use thiserror::Error;

/// Why a transformation or predicate could not be configured or could not handle a record.
///
/// `alias` is the alias from the connector config (`transforms=a` → `a`) once the chain knows it;
/// `key` is the full config key at fault (`transforms.a.field`) for configuration errors.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TransformError {
    /// A setting is missing or invalid (Kafka's `ConfigException`). The message names the key.
    #[error("{}", with_alias(alias, message))]
    Config {
        alias: Option<String>,
        key: Option<String>,
        message: String,
    },
    /// A record the transformation cannot handle (Kafka's `DataException`).
    #[error("{}", with_alias(alias, message))]
    Data {
        alias: Option<String>,
        message: String,
    },
}

fn with_alias(alias: &Option<String>, message: &str) -> String {
    match alias {
        Some(alias) => format!("transformation '{alias}': {message}"),
        None => message.to_string(),
    }
}

impl TransformError {
    /// A configuration error about `key`.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> TransformError {
        TransformError::Config {
            alias: None,
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// A configuration error that is about no single key (e.g. "No field insertion configured").
    pub fn config_general(message: impl Into<String>) -> TransformError {
        TransformError::Config {
            alias: None,
            key: None,
            message: message.into(),
        }
    }

    /// A record that cannot be transformed.
    pub fn data(message: impl Into<String>) -> TransformError {
        TransformError::Data {
            alias: None,
            message: message.into(),
        }
    }

    /// The transformation alias the error happened in, when known.
    pub fn alias(&self) -> Option<&str> {
        match self {
            TransformError::Config { alias, .. } | TransformError::Data { alias, .. } => {
                alias.as_deref()
            }
        }
    }

    /// The config key at fault, for configuration errors that have one.
    pub fn key(&self) -> Option<&str> {
        match self {
            TransformError::Config { key, .. } => key.as_deref(),
            TransformError::Data { .. } => None,
        }
    }

    /// The message without the alias prefix.
    pub fn message(&self) -> &str {
        match self {
            TransformError::Config { message, .. } | TransformError::Data { message, .. } => {
                message
            }
        }
    }

    /// True for configuration errors.
    pub fn is_config(&self) -> bool {
        matches!(self, TransformError::Config { .. })
    }

    /// Sets the alias (keeps one already set: the innermost alias is the one at fault).
    pub fn with_alias(mut self, new_alias: &str) -> TransformError {
        match &mut self {
            TransformError::Config { alias, .. } | TransformError::Data { alias, .. } => {
                if alias.is_none() {
                    *alias = Some(new_alias.to_string());
                }
            }
        }
        self
    }

    /// Sets the key of a configuration error that has none.
    pub(crate) fn with_default_key(mut self, default_key: &str) -> TransformError {
        if let TransformError::Config { key, .. } = &mut self {
            if key.is_none() {
                *key = Some(default_key.to_string());
            }
        }
        self
    }
}

impl From<TransformError> for ConnectError {
    fn from(e: TransformError) -> ConnectError {
        let kind = if e.is_config() {
            ErrorKind::Config
        } else {
            ErrorKind::Failed
        };
        ConnectError::new(kind, e.to_string())
    }
}

impl From<ConnectError> for TransformError {
    /// Errors from plugin-provided classes: config errors stay config errors.
    fn from(e: ConnectError) -> TransformError {
        match e.kind {
            ErrorKind::Config => TransformError::config_general(e.message.to_string()),
            _ => TransformError::data(e.message.to_string()),
        }
    }
}
