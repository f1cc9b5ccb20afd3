//! # kconnect PostgreSQL change-data-capture source
//!
//! A source connector that streams a PostgreSQL database's changes through logical replication
//! (`pgoutput`) and writes them as Debezium's PostgreSQL connector does: same config keys, same
//! topics, same records, same offsets. A Debezium user switches by keeping the config:
//! `connector.class=io.debezium.connector.postgresql.PostgresConnector` is an alias of
//! [`PostgresConnector`] (`io.kconnect.postgres.PostgresConnector`). The plugin also exports
//! Debezium's `io.debezium.transforms.ExtractNewRecordState` ([`ExtractNewRecordState`]).
//!
//! ## Settings
//! [`config::postgres_config_def`] documents every key; the main ones, with Debezium's
//! defaults: `database.hostname`, `database.port` (5432), `database.user`, `database.password`,
//! `database.dbname`, `database.sslmode` (disable), `topic.prefix`, `plugin.name` (pgoutput,
//! the only one), `slot.name` (debezium), `slot.drop.on.stop`, `publication.name`
//! (dbz_publication), `publication.autocreate.mode` (all_tables | filtered | disabled),
//! `schema.include.list`/`schema.exclude.list`, `table.include.list`/`table.exclude.list`
//! (regular expressions matching the whole name), `snapshot.mode` (initial | always |
//! no_data = never | initial_only | when_needed), `snapshot.fetch.size`,
//! `tombstones.on.delete` (true), `skipped.operations` (t), `max.batch.size` (2048),
//! `max.queue.size` (8192), `poll.interval.ms` (500), `heartbeat.interval.ms` (0),
//! `topic.heartbeat.prefix`, `decimal.handling.mode` (precise | double | string),
//! `time.precision.mode` (adaptive | adaptive_time_microseconds | connect).
//!
//! Any other key in one of Debezium's namespaces (`database.*`, `column.*`, `snapshot.*`,
//! `message.*`, …) fails validation with a message naming it: a moved config either means the
//! same here or is refused. `snapshot.lock.timeout.ms` and `retriable.restart.connector.wait.ms`
//! are accepted and documented as without effect. Keys outside those namespaces belong to the
//! worker and pass.
//!
//! ## Records
//! Topic `<topic.prefix>.<schema>.<table>`; key: the primary key as a struct
//! `<topic>.Key` (no key for a table without one); value: the envelope `<topic>.Envelope`
//! with `before`, `after` (`<topic>.Value`), `source` (`io.debezium.connector.postgresql.Source`),
//! `transaction` (null), `op` (`r` snapshot, `c`, `u`, `d`, `t`), `ts_ms`, `ts_us`, `ts_ns`.
//! Deletes are followed by a tombstone; an update of the key is a delete (+ tombstone) and a
//! create. Column types map as [`types`] documents. See [`records`] for the invariants.
//!
//! ## Offsets and the slot
//! Partition `{"server": <topic.prefix>}`; offsets as Debezium's (`lsn`, `lsn_proc`,
//! `lsn_commit`, `txId`, `ts_usec`, …; snapshot rows `snapshot`/`last_snapshot_record`), so
//! either connector resumes from the other's. The slot's confirmed LSN advances only in
//! [`SourceTask::commit`](kconnect_plugin_api::SourceTask::commit), from the offsets the
//! worker stored for records Kafka acknowledged ([`offsets`]); with `heartbeat.interval.ms`
//! heartbeat records let it advance while the captured tables are quiet.
//!
//! ## The replication client: `pgwire-replication`
//! What crates.io offers for the replication protocol (checked with `cargo info` and the
//! published sources): `tokio-postgres` 0.7 (the maintained general client) has no replication
//! mode and no CopyBoth streaming; `pg_replicate` 0.1.0 is an empty placeholder (the project
//! moved on unpublished, on a git fork of `tokio-postgres`); `pgoutput` 0.0.7 parses messages
//! but has no client. This connector uses `pgwire-replication` (0.5, Apache-2.0/MIT): a
//! maintained Tokio client of the replication protocol for pgoutput with TLS (rustls) and
//! SCRAM-SHA-256, standby status feedback driven by an "applied LSN" the caller raises only
//! when its data is durable (exactly the hook the acknowledged-offsets rule needs),
//! backpressure between the socket and the consumer, and a gated session that runs SQL and
//! replication commands before `START_REPLICATION`. The last point matters most: the slot is
//! created with `EXPORT_SNAPSHOT` on the session that will stream, which then waits while a
//! second session imports the snapshot, so the initial snapshot is consistent with the slot's
//! start point; and every SQL need (catalog, publication, snapshot cursors) runs on the same
//! client, with the same TLS and authentication code, so the plugin has one database
//! dependency. It decodes only Begin/Commit; the change messages are decoded here
//! ([`pgoutput`]), which keeps the mapping to Debezium's records under this crate's control.
//!
//! ## Where this differs from Debezium (documented, on purpose or not yet done)
//! - `source.version` is `kconnect-<version>`; `source.xmin` is always null; the
//!   `transaction` block is always null (`provide.transaction.metadata` is refused).
//! - Unmapped types (arrays, enums, intervals, money, geometric, hstore, …) are STRING with
//!   PostgreSQL's text; column default values are not in the schemas.
//! - `__debezium.oldkey`/`newkey` headers on key changes are not set.
//! - A NOT NULL column absent from a delete's old row (REPLICA IDENTITY DEFAULT) holds its
//!   type's zero value.
//! - TLS modes `prefer` and `require` both require TLS.

// Each module has one job; see their docs for the invariants.
pub mod config;
mod connector;
pub mod offsets;
pub mod pgoutput;
pub mod records;
pub mod session;
pub mod snapshot;
mod task;
pub mod types;
pub mod unwrap;

pub use connector::PostgresConnector;
pub use task::PostgresSourceTask;
pub use unwrap::ExtractNewRecordState;

use kconnect_plugin_api::ConnectError;

/// Everything that can go wrong in this plugin.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("{0}")]
    Config(String),
    #[error("Invalid value for configuration {key}: {reason}")]
    InvalidConfig { key: String, reason: String },
    #[error("cannot connect to PostgreSQL at {what}: {error}")]
    Connect { what: String, error: String },
    #[error("PostgreSQL ({on}) refused {sql:?}: {error}")]
    Sql {
        sql: String,
        on: String,
        error: String,
    },
    #[error("publication {publication} does not exist and publication.autocreate.mode is disabled: create it (CREATE PUBLICATION …) or set publication.autocreate.mode to all_tables or filtered")]
    MissingPublication { publication: String },
    #[error("no table matches the schema/table include and exclude lists: a filtered publication would be empty")]
    NoTables,
    #[error("replication slot {slot} is a {plugin} slot of database {database:?}: slot.name must name a pgoutput slot of database.dbname (or a free name)")]
    ForeignSlot {
        slot: String,
        plugin: String,
        database: String,
    },
    #[error("replication stream: {0}")]
    Stream(String),
    #[error(transparent)]
    Decode(#[from] pgoutput::DecodeError),
    #[error("table {table}: {source}")]
    Value {
        table: String,
        source: types::ValueError,
    },
    #[error(transparent)]
    Offset(#[from] offsets::OffsetError),
    #[error("{0} was called before the task started")]
    NotStarted(&'static str),
    #[error("cannot start the task's runtime: {0}")]
    Runtime(std::io::Error),
}

impl PostgresError {
    pub(crate) fn connect(what: &str, error: impl std::fmt::Display) -> PostgresError {
        PostgresError::Connect {
            what: what.to_string(),
            error: error.to_string(),
        }
    }

    pub(crate) fn stream(error: impl std::fmt::Display) -> PostgresError {
        PostgresError::Stream(error.to_string())
    }

    pub(crate) fn value(table: &records::TableSchema, source: types::ValueError) -> PostgresError {
        PostgresError::Value {
            table: format!("{}.{}", table.schema_name, table.table_name),
            source,
        }
    }
}

impl From<PostgresError> for ConnectError {
    fn from(error: PostgresError) -> ConnectError {
        match error {
            PostgresError::Config(_)
            | PostgresError::InvalidConfig { .. }
            | PostgresError::MissingPublication { .. }
            | PostgresError::NoTables
            | PostgresError::ForeignSlot { .. } => ConnectError::config(error.to_string()),
            other => ConnectError::failed(other.to_string()),
        }
    }
}

kconnect_plugin_api::export_plugin! {
    source_connectors: [PostgresConnector],
    transformations: [ExtractNewRecordState],
}
