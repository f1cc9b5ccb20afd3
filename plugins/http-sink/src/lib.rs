//! # kconnect HTTP sink plugin
//!
//! `io.kconnect.http.HttpSinkConnector` (also answering to Confluent's
//! `io.confluent.connect.http.HttpSinkConnector`) sends record values to `http.api.url` with
//! POST, PUT or PATCH: one record per request, or batches of `batch.max.size` records per URL
//! joined by `batch.prefix`/`batch.separator`/`batch.suffix` (a JSON array with
//! `batch.json.as.array=true`, newline-delimited with `batch.separator=\n`). Every key is
//! documented in [`config::config_def`].
//!
//! Steps, one module each: [`config`] → [`request`] (records → requests, [`json`] bodies) →
//! [`service`] (sending, retries, requests in flight) ← [`sink`] (the task).
//!
//! Failures: a status listed in `retry.on.status.codes` and I/O errors are retried with
//! backoff; other statuses of 300 and above fail the request for good. Such a request fails the
//! task with a message naming the records, the status and the response body
//! (`behavior.on.error=fail`), or is logged and skipped (`log`, `ignore`). The plugin API has no
//! errant-record reporter yet, so failed records cannot go to the dead letter queue from here.

pub mod config;
pub mod json;
pub mod request;
pub mod service;
pub mod sink;

pub use sink::{HttpSinkConnector, HttpSinkTask};

use kconnect_plugin_api::{ConnectError, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum HttpSinkError {
    #[error("{0}")]
    Config(String),
    #[error("the HTTP sink is not started ({0} called before start)")]
    NotStarted(&'static str),
    #[error("record topic {topic} partition {partition} offset {offset} has a null value (behavior.on.null.values=fail)")]
    NullValue {
        topic: String,
        partition: i32,
        offset: i64,
    },
    /// Boxed: the details are large, and every `Result` of this crate would carry their size.
    #[error("{0}")]
    Delivery(Box<DeliveryFailure>),
}

/// Records a service refused for good: where, which, and what it answered.
#[derive(Debug, thiserror::Error)]
#[error("{url} refused records of topic {topic} partition {partition} offsets {offsets}: {status} after {attempts} attempt(s): {detail}")]
pub struct DeliveryFailure {
    pub url: String,
    pub topic: String,
    pub partition: i32,
    pub offsets: String,
    pub status: String,
    pub attempts: u32,
    pub detail: String,
}

impl From<HttpSinkError> for ConnectError {
    fn from(e: HttpSinkError) -> ConnectError {
        let kind = match e {
            HttpSinkError::Config(_) => ErrorKind::Config,
            _ => ErrorKind::Failed,
        };
        ConnectError::new(kind, e.to_string())
    }
}

kconnect_plugin_api::export_plugin! {
    sink_connectors: [HttpSinkConnector],
}
