//! The one error type of plugin calls. It crosses the boundary as it is (`StableAbi`).

use abi_stable::std_types::RString;
use abi_stable::StableAbi;
use std::fmt;

/// What kind of failure a plugin call reports; the worker acts on it.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Kafka's `RetriableException`: the call may succeed if repeated (a source down for a moment).
    Retriable,
    /// Anything else: the task or connector fails.
    Failed,
    /// The config is invalid.
    Config,
    /// The plugin panicked; caught inside the plugin and turned into this error.
    Panic,
    /// The host asked for something the plugin does not have (an unknown class).
    NotFound,
}

/// An error returned by a plugin: a kind, a one-line message and an optional trace (backtrace or
/// cause chain) shown in the task status.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct ConnectError {
    pub kind: ErrorKind,
    pub message: RString,
    pub trace: RString,
}

impl ConnectError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ConnectError {
        ConnectError {
            kind,
            message: RString::from(message.into()),
            trace: RString::new(),
        }
    }

    /// A failure that stops the task.
    pub fn failed(message: impl Into<String>) -> ConnectError {
        ConnectError::new(ErrorKind::Failed, message)
    }

    /// A failure worth retrying.
    pub fn retriable(message: impl Into<String>) -> ConnectError {
        ConnectError::new(ErrorKind::Retriable, message)
    }

    /// An invalid config.
    pub fn config(message: impl Into<String>) -> ConnectError {
        ConnectError::new(ErrorKind::Config, message)
    }

    /// Adds a trace (backtrace or details).
    pub fn with_trace(mut self, trace: impl Into<String>) -> ConnectError {
        self.trace = RString::from(trace.into());
        self
    }

    pub fn is_retriable(&self) -> bool {
        self.kind == ErrorKind::Retriable
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

impl From<std::io::Error> for ConnectError {
    fn from(e: std::io::Error) -> ConnectError {
        let kind = match e.kind() {
            std::io::ErrorKind::Interrupted
            | std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::TimedOut => ErrorKind::Retriable,
            _ => ErrorKind::Failed,
        };
        ConnectError::new(kind, e.to_string())
    }
}

/// Result of plugin calls.
pub type ConnectResult<T> = Result<T, ConnectError>;
