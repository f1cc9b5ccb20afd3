//! # kconnect JDBC sink plugin
//!
//! `io.kconnect.jdbc.JdbcSinkConnector` (also answering to Debezium's
//! `io.debezium.connector.jdbc.JdbcSinkConnector` and Confluent's
//! `io.confluent.connect.jdbc.JdbcSinkConnector`) writes Kafka records into PostgreSQL or
//! MariaDB/MySQL tables through native drivers (`postgres`, `mysql`): one connection per task,
//! prepared statements, multi-row statements, one transaction per `put`.
//!
//! The keys are those of Debezium's and Confluent's JDBC sinks, both spellings where they differ
//! (see [`config::config_def`], which documents each key and its origin). What it does:
//! - `insert.mode`: `insert`, `upsert` (`ON CONFLICT … DO UPDATE` on PostgreSQL,
//!   `ON DUPLICATE KEY UPDATE` on MariaDB/MySQL), `update`;
//! - `primary.key.mode`/`pk.mode`: `none`, `kafka`, `record_key`, `record_value`;
//! - `delete.enabled`: a tombstone deletes the row of its key;
//! - `schema.evolution=basic` or `auto.create`/`auto.evolve`: missing tables are created and
//!   missing columns added (nullable);
//! - types from Connect schemas, their logical types (Decimal, Date, Time, Timestamp) and
//!   Debezium's `io.debezium.time.*` types ([`values`], [`dialect`]).
//!
//! Values must be STRUCTs with a schema; schemaless values fail the task with a message naming
//! the record. Delivery is at least once; in upsert mode replays are idempotent (see [`plan`]).
//! Modules, one per step: [`config`] → [`layout`] (record → columns) → [`plan`] (batch →
//! statements) → [`dialect`] (SQL text) → [`db`] (connection, transaction) ← [`sink`] (task).

pub mod config;
pub mod db;
pub mod dialect;
pub mod layout;
pub mod plan;
pub mod sink;
pub mod values;

pub use sink::{JdbcSinkConnector, JdbcSinkTask};

use kconnect_plugin_api::{ConnectError, ErrorKind};

/// Everything that can go wrong in this plugin.
#[derive(Debug, thiserror::Error)]
pub enum JdbcSinkError {
    /// The config is invalid; the message names the key.
    #[error("{0}")]
    Config(String),
    #[error("the JDBC sink is not started ({0} called before start)")]
    NotStarted(&'static str),
    /// A record cannot be written as it is.
    #[error("record topic {topic} partition {partition} offset {offset}: {reason}")]
    Record {
        topic: String,
        partition: i32,
        offset: i64,
        reason: String,
    },
    #[error(
        "table {0} does not exist: create it, or set schema.evolution=basic (or auto.create=true)"
    )]
    TableMissing(String),
    #[error("table {table} has no column(s) {columns}: add them, or set schema.evolution=basic (or auto.evolve=true)")]
    ColumnsMissing { table: String, columns: String },
    /// The database cannot be reached or refused the transaction for a passing reason.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database refused a statement.
    #[error("database refused the batch: {0}")]
    Statement(String),
}

impl From<JdbcSinkError> for ConnectError {
    fn from(e: JdbcSinkError) -> ConnectError {
        let kind = match e {
            JdbcSinkError::Config(_) => ErrorKind::Config,
            // The worker retries these within errors.retry.timeout.
            JdbcSinkError::Unavailable(_) => ErrorKind::Retriable,
            _ => ErrorKind::Failed,
        };
        ConnectError::new(kind, e.to_string())
    }
}

kconnect_plugin_api::export_plugin! {
    sink_connectors: [JdbcSinkConnector],
}
