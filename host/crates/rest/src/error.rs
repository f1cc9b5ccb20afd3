//! Errors: [`RestError`] for starting the server, [`ApiError`] for one HTTP answer.
//!
//! Every error answer, whatever produced it (herder, body parsing, routing), goes through
//! [`ApiError`] and so has Kafka's body `{"error_code": <status>, "message": "..."}`. The
//! herder's domain errors get their HTTP status here and nowhere else ([`status_of`]).

use crate::entities::ErrorMessage;
use crate::herder::HerderError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use std::fmt;

/// Why the REST server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error("no REST listener configured")]
    NoListeners,
    #[error("invalid REST listener '{listener}': {reason}")]
    InvalidListener { listener: String, reason: String },
    #[error(
        "REST listener '{listener}' uses scheme '{scheme}'; only http and https are supported"
    )]
    UnsupportedScheme { listener: String, scheme: String },
    /// An `https` listener without TLS settings for its kind (`listeners.https.*` /
    /// `admin.listeners.https.*` / `ssl.*`).
    #[error("REST listener '{listener}' is https but no TLS certificate is configured: set {prefix}ssl.keystore.location (PEM) or {prefix}ssl.certificate.location and {prefix}ssl.key.location")]
    MissingTls { listener: String, prefix: String },
    /// An admin listener on the same address as a regular one (both could not be bound, and
    /// the split would be meaningless).
    #[error("admin listener '{admin}' uses the same host and port as listener '{listener}'; leave admin.listeners unset to serve /admin on the regular listeners")]
    OverlappingAdminListener { admin: String, listener: String },
    /// A worker key with a value the REST server cannot use; `key` is the full key name.
    #[error("{key}: {message}")]
    InvalidConfig { key: String, message: String },
    #[error("cannot listen on {address} (listener '{listener}'): {source}")]
    Bind {
        listener: String,
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the HTTP server: {0}")]
    Server(std::io::Error),
}

/// One error answer: a status and the message of its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// Set when another worker serves the request ([`HerderError::ServedElsewhere`]): the
    /// forwarding layer ([`crate::forward`]) sends the request there instead of answering
    /// this error.
    pub(crate) served_elsewhere: Option<ServedElsewhere>,
}

/// Where a request the herder would not serve belongs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServedElsewhere {
    /// The REST URL of the worker that serves it; `None` while no leader is known.
    pub(crate) url: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            served_elsewhere: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, message)
    }

    pub(crate) fn timed_out() -> ApiError {
        ApiError::new(500, "Request timed out")
    }

    /// 503 for a request that needs the worker started, when startup outlasted the request
    /// timeout; the message is the one `GET /health` gives while starting.
    pub(crate) fn still_starting() -> ApiError {
        ApiError::new(503, "Worker is still starting up.")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

/// The HTTP status Kafka's REST API answers a herder error with.
pub fn status_of(error: &HerderError) -> u16 {
    match error {
        HerderError::NotFound(_) => 404,
        // Reaches a client only when forwarding gave up (Kafka's two hops were used up).
        HerderError::Conflict(_)
        | HerderError::Rebalancing
        | HerderError::ServedElsewhere { .. } => 409,
        HerderError::Invalid(_) => 400,
        HerderError::Disabled(_) | HerderError::Forbidden(_) => 403,
        HerderError::TimedOut(_) | HerderError::Unsupported(_) | HerderError::Internal(_) => 500,
    }
}

impl From<HerderError> for ApiError {
    fn from(error: HerderError) -> ApiError {
        let served_elsewhere = match &error {
            HerderError::ServedElsewhere { url, .. } => Some(ServedElsewhere { url: url.clone() }),
            _ => None,
        };
        ApiError {
            served_elsewhere,
            ..ApiError::new(status_of(&error), error.to_string())
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let body = ErrorMessage {
            error_code: self.status_code().as_u16(),
            message: self.message.clone(),
        };
        HttpResponse::build(self.status_code()).json(body)
    }
}
