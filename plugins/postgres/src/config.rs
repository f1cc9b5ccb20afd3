//! The connector's settings: Debezium's key names, defaults and meanings, for what it supports.
//!
//! [`postgres_config_def`] documents every key (it is what `kconnect plugins` and the REST API
//! show); [`PostgresSettings::parse`] turns a config into typed settings or an error naming the
//! key. Keys in Debezium's namespaces that this connector does not define are refused
//! ([`unsupported_keys`]) instead of being silently ignored: a config moved from Debezium either
//! means the same here or fails validation. Keys outside those namespaces (the worker's own:
//! `name`, `tasks.max`, `transforms.*`, converters, `topic.creation.*`, `errors.*`…) pass.
//!
//! Invariant: every key read by the task is defined here, with its default.

use crate::types::{DecimalMode, TimePrecisionMode, TypeSettings};
use crate::PostgresError;
use kconnect_plugin_api::config::ParsedConfig;
use kconnect_plugin_api::{Config, ConfigDef, ConfigKey, ConfigType, Importance, Validator};
use regex::Regex;
use std::time::Duration;

pub const HOSTNAME: &str = "database.hostname";
pub const PORT: &str = "database.port";
pub const USER: &str = "database.user";
pub const PASSWORD: &str = "database.password";
pub const DBNAME: &str = "database.dbname";
pub const SSLMODE: &str = "database.sslmode";
pub const SSLROOTCERT: &str = "database.sslrootcert";
pub const TOPIC_PREFIX: &str = "topic.prefix";
pub const PLUGIN_NAME: &str = "plugin.name";
pub const SLOT_NAME: &str = "slot.name";
pub const SLOT_DROP_ON_STOP: &str = "slot.drop.on.stop";
pub const PUBLICATION_NAME: &str = "publication.name";
pub const PUBLICATION_AUTOCREATE_MODE: &str = "publication.autocreate.mode";
pub const SCHEMA_INCLUDE_LIST: &str = "schema.include.list";
pub const SCHEMA_EXCLUDE_LIST: &str = "schema.exclude.list";
pub const TABLE_INCLUDE_LIST: &str = "table.include.list";
pub const TABLE_EXCLUDE_LIST: &str = "table.exclude.list";
pub const COLUMN_INCLUDE_LIST: &str = "column.include.list";
pub const COLUMN_EXCLUDE_LIST: &str = "column.exclude.list";
pub const SNAPSHOT_MODE: &str = "snapshot.mode";
pub const SNAPSHOT_FETCH_SIZE: &str = "snapshot.fetch.size";
pub const TOMBSTONES_ON_DELETE: &str = "tombstones.on.delete";
pub const SKIPPED_OPERATIONS: &str = "skipped.operations";
pub const MAX_BATCH_SIZE: &str = "max.batch.size";
pub const MAX_QUEUE_SIZE: &str = "max.queue.size";
pub const POLL_INTERVAL_MS: &str = "poll.interval.ms";
pub const HEARTBEAT_INTERVAL_MS: &str = "heartbeat.interval.ms";
pub const HEARTBEAT_TOPICS_PREFIX: &str = "topic.heartbeat.prefix";
pub const STATUS_UPDATE_INTERVAL_MS: &str = "status.update.interval.ms";
pub const DECIMAL_HANDLING_MODE: &str = "decimal.handling.mode";
pub const TIME_PRECISION_MODE: &str = "time.precision.mode";
pub const SNAPSHOT_LOCK_TIMEOUT_MS: &str = "snapshot.lock.timeout.ms";
pub const RETRIABLE_RESTART_WAIT_MS: &str = "retriable.restart.connector.wait.ms";

/// Prefixes of Debezium's own settings: an undefined key under one of them is refused.
const DEBEZIUM_NAMESPACES: &[&str] = &[
    "database.",
    "snapshot.",
    "slot.",
    "publication.",
    "table.",
    "column.",
    "schema.",
    "heartbeat.",
    "decimal.",
    "time.",
    "binary.",
    "interval.",
    "hstore.",
    "money.",
    "tombstones.",
    "message.",
    "provide.",
    "event.",
    "signal.",
    "incremental.",
    "notification.",
    "skipped.",
    "include.",
    "plugin.",
    "max.",
    "poll.",
    "retriable.",
    "xmin.",
    "flush.",
    "lsn.",
    "unavailable.",
    "datatype.",
    "converters",
    "custom.",
    "field.",
    "query.",
    "streaming.",
    "status.",
    "topic.",
    "transaction.metadata.",
];

/// Kafka Connect's own keys that live inside one of Debezium's namespaces.
const FRAMEWORK_PREFIXES: &[&str] = &["topic.creation.", "topic.tracking."];

const SNAPSHOT_MODES: &[&str] = &[
    "initial",
    "always",
    "never",
    "no_data",
    "initial_only",
    "when_needed",
];
const AUTOCREATE_MODES: &[&str] = &["all_tables", "filtered", "disabled"];
const SSL_MODES: &[&str] = &["disable", "prefer", "require", "verify-ca", "verify-full"];

fn one_of(values: &[&str]) -> Validator {
    Validator::ValidString {
        values: values.iter().map(|v| v.to_string()).collect(),
        case_insensitive: true,
    }
}

fn at_least(min: f64) -> Validator {
    Validator::Range {
        min: Some(min),
        max: None,
    }
}

/// Every key the connector understands, with Debezium's names and defaults.
pub fn postgres_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::required(HOSTNAME, ConfigType::String, "Host name or IP address of the PostgreSQL server.")
                .validator(Validator::NonEmptyString),
        )
        .define(ConfigKey::optional(PORT, ConfigType::Int, "5432", "Port of the PostgreSQL server.")
            .validator(Validator::Range { min: Some(1.0), max: Some(65535.0) }))
        .define(
            ConfigKey::required(USER, ConfigType::String, "User to connect as; it needs the REPLICATION attribute (or to be a superuser) and SELECT on the captured tables.")
                .validator(Validator::NonEmptyString),
        )
        .define(ConfigKey::optional(PASSWORD, ConfigType::Password, "", "Password of database.user (SCRAM-SHA-256, MD5 or cleartext, as the server asks)."))
        .define(
            ConfigKey::required(DBNAME, ConfigType::String, "The database to capture changes from.")
                .validator(Validator::NonEmptyString),
        )
        .define(
            ConfigKey::optional(SSLMODE, ConfigType::String, "disable", "TLS: disable, prefer, require, verify-ca or verify-full (libpq's meanings). Debezium's default is prefer; kconnect's is disable until TLS is tested end to end here.")
                .validator(one_of(SSL_MODES)),
        )
        .define(ConfigKey::optional(SSLROOTCERT, ConfigType::String, "", "PEM file of the CA certificates for verify-ca and verify-full; empty means the system's roots."))
        .define(
            ConfigKey::required(TOPIC_PREFIX, ConfigType::String, "Prefix of every topic name (<prefix>.<schema>.<table>) and the `server` of the source partition.")
                .validator(Validator::NonEmptyString),
        )
        .define(
            ConfigKey::optional(PLUGIN_NAME, ConfigType::String, "pgoutput", "The logical decoding plugin; only pgoutput (built into PostgreSQL 10+) is supported.")
                .validator(one_of(&["pgoutput"])),
        )
        .define(
            ConfigKey::optional(SLOT_NAME, ConfigType::String, "debezium", "The logical replication slot; created when missing.")
                .validator(Validator::NonEmptyString),
        )
        .define(ConfigKey::optional(SLOT_DROP_ON_STOP, ConfigType::Boolean, "false", "Drop the slot when the task stops (for tests; the next start snapshots again)."))
        .define(
            ConfigKey::optional(PUBLICATION_NAME, ConfigType::String, "dbz_publication", "The publication streamed.")
                .validator(Validator::NonEmptyString),
        )
        .define(
            ConfigKey::optional(PUBLICATION_AUTOCREATE_MODE, ConfigType::String, "all_tables", "all_tables: create the publication FOR ALL TABLES when missing; filtered: create it (or set its tables) for the tables the include/exclude lists select; disabled: it must exist.")
                .validator(one_of(AUTOCREATE_MODES)),
        )
        .define(ConfigKey::optional(SCHEMA_INCLUDE_LIST, ConfigType::List, "", "Regular expressions matching the whole schema name of schemas to capture; empty means all but the system schemas."))
        .define(ConfigKey::optional(SCHEMA_EXCLUDE_LIST, ConfigType::List, "", "Regular expressions matching schemas not to capture (not with schema.include.list)."))
        .define(ConfigKey::optional(TABLE_INCLUDE_LIST, ConfigType::List, "", "Regular expressions matching the whole <schema>.<table> of tables to capture; empty means all."))
        .define(ConfigKey::optional(TABLE_EXCLUDE_LIST, ConfigType::List, "", "Regular expressions matching <schema>.<table> of tables not to capture (not with table.include.list)."))
        .define(ConfigKey::optional(COLUMN_INCLUDE_LIST, ConfigType::List, "", "Regular expressions matching the whole <schema>.<table>.<column> of columns the change events hold; empty means all. Key columns stay in the key."))
        .define(ConfigKey::optional(COLUMN_EXCLUDE_LIST, ConfigType::List, "", "Regular expressions matching <schema>.<table>.<column> of columns left out of the change events (not with column.include.list)."))
        .define(
            ConfigKey::optional(SNAPSHOT_MODE, ConfigType::String, "initial", "initial: snapshot when no offset is stored, then stream; always: snapshot at every start; no_data (or never): stream only; initial_only: snapshot, then stop; when_needed: snapshot when no offset is stored or the slot is gone.")
                .validator(one_of(SNAPSHOT_MODES)),
        )
        .define(ConfigKey::optional(SNAPSHOT_FETCH_SIZE, ConfigType::Int, "10240", "Rows fetched at a time from a table during the snapshot.").validator(at_least(1.0)))
        .define(ConfigKey::optional(TOMBSTONES_ON_DELETE, ConfigType::Boolean, "true", "Follow each delete event by a tombstone (same key, null value) so that compaction removes the row."))
        .define(ConfigKey::optional(SKIPPED_OPERATIONS, ConfigType::List, "t", "Operations not emitted: c (insert), u (update), d (delete), t (truncate), or none.")
            .validator(Validator::ValidList { values: ["c", "u", "d", "t", "none"].map(String::from).to_vec() }))
        .define(ConfigKey::optional(MAX_BATCH_SIZE, ConfigType::Int, "2048", "Most change events one poll returns.").validator(at_least(1.0)))
        .define(ConfigKey::optional(MAX_QUEUE_SIZE, ConfigType::Int, "8192", "Most replication messages buffered between PostgreSQL and the task; must exceed max.batch.size.").validator(at_least(2.0)))
        .define(ConfigKey::optional(POLL_INTERVAL_MS, ConfigType::Long, "500", "How long a poll waits for the first change before it returns an empty batch.").validator(at_least(0.0)))
        .define(ConfigKey::optional(HEARTBEAT_INTERVAL_MS, ConfigType::Int, "0", "Milliseconds between heartbeat records (to <topic.heartbeat.prefix>.<topic.prefix>) that let the slot advance while the captured tables are quiet; 0 = none.").validator(at_least(0.0)))
        .define(ConfigKey::optional(HEARTBEAT_TOPICS_PREFIX, ConfigType::String, "__debezium-heartbeat", "Prefix of the heartbeat topic."))
        .define(ConfigKey::optional(STATUS_UPDATE_INTERVAL_MS, ConfigType::Int, "10000", "Milliseconds between standby status updates to the server.").validator(at_least(1.0)))
        .define(
            ConfigKey::optional(DECIMAL_HANDLING_MODE, ConfigType::String, "precise", "numeric columns as precise (Connect Decimal / VariableScaleDecimal), double (FLOAT64) or string.")
                .validator(one_of(&["precise", "double", "string"])),
        )
        .define(
            ConfigKey::optional(TIME_PRECISION_MODE, ConfigType::String, "adaptive", "Temporal columns as adaptive (Debezium's io.debezium.time types at the column's precision), adaptive_time_microseconds (time always MicroTime) or connect (Kafka Connect's Date/Time/Timestamp, milliseconds).")
                .validator(one_of(&["adaptive", "adaptive_time_microseconds", "connect"])),
        )
        .define(ConfigKey::optional(SNAPSHOT_LOCK_TIMEOUT_MS, ConfigType::Long, "10000", "Accepted for Debezium configs and without effect: the snapshot reads an exported snapshot and takes no table locks.").importance(Importance::Low))
        .define(ConfigKey::optional(RETRIABLE_RESTART_WAIT_MS, ConfigType::Long, "10000", "Accepted for Debezium configs and without effect: a failed task is restarted by the worker's policy.").importance(Importance::Low))
}

/// Keys in Debezium's namespaces that this connector does not define, each with why it is
/// refused.
pub fn unsupported_keys(config: &Config) -> Vec<(String, String)> {
    let def = postgres_config_def();
    config
        .keys()
        .filter(|key| def.key(key).is_none())
        .filter(|key| !FRAMEWORK_PREFIXES.iter().any(|p| key.starts_with(p)))
        .filter(|key| DEBEZIUM_NAMESPACES.iter().any(|p| key.starts_with(p)))
        .map(|key| {
            let why = match key.as_str() {
                "database.server.name" => "Debezium 2 replaced it by topic.prefix".to_string(),
                _ => "this Debezium setting is not supported by kconnect's PostgreSQL connector; remove it (see the plugin's docs for the supported keys)".to_string(),
            };
            (key.clone(), why)
        })
        .collect()
}

/// `snapshot.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotMode {
    Initial,
    Always,
    NoData,
    InitialOnly,
    WhenNeeded,
}

/// `publication.autocreate.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutocreateMode {
    AllTables,
    Filtered,
    Disabled,
}

/// Which tables are captured.
#[derive(Clone, Debug, Default)]
pub struct TableFilter {
    schema_include: Vec<Regex>,
    schema_exclude: Vec<Regex>,
    table_include: Vec<Regex>,
    table_exclude: Vec<Regex>,
    column_include: Vec<Regex>,
    column_exclude: Vec<Regex>,
}

impl TableFilter {
    /// Whether `<schema>.<table>` is captured.
    pub fn includes(&self, schema: &str, table: &str) -> bool {
        if matches!(schema, "pg_catalog" | "information_schema") || schema.starts_with("pg_toast") {
            return false;
        }
        let full = format!("{schema}.{table}");
        let matches = |list: &[Regex], s: &str| list.iter().any(|r| r.is_match(s));
        (self.schema_include.is_empty() || matches(&self.schema_include, schema))
            && !matches(&self.schema_exclude, schema)
            && (self.table_include.is_empty() || matches(&self.table_include, &full))
            && !matches(&self.table_exclude, &full)
    }

    /// Whether the change events of `<schema>.<table>` hold `column` in their rows.
    pub fn includes_column(&self, schema: &str, table: &str, column: &str) -> bool {
        let full = format!("{schema}.{table}.{column}");
        (self.column_include.is_empty() || self.column_include.iter().any(|r| r.is_match(&full)))
            && !self.column_exclude.iter().any(|r| r.is_match(&full))
    }
}

/// Which operations are emitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmittedOperations {
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
}

/// A validated config.
#[derive(Clone, Debug)]
pub struct PostgresSettings {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub dbname: String,
    pub sslmode: String,
    pub sslrootcert: Option<String>,
    pub topic_prefix: String,
    pub slot_name: String,
    pub slot_drop_on_stop: bool,
    pub publication_name: String,
    pub publication_autocreate: AutocreateMode,
    pub tables: TableFilter,
    pub snapshot_mode: SnapshotMode,
    pub snapshot_fetch_size: usize,
    pub tombstones_on_delete: bool,
    pub emitted: EmittedOperations,
    pub max_batch_size: usize,
    pub max_queue_size: usize,
    pub poll_interval: Duration,
    pub heartbeat_interval: Option<Duration>,
    pub heartbeat_topic: String,
    pub status_update_interval: Duration,
    pub types: TypeSettings,
}

fn regexes(parsed: &ParsedConfig, key: &str) -> Result<Vec<Regex>, PostgresError> {
    parsed
        .list(key)
        .iter()
        .map(|pattern| {
            // Debezium matches the whole name.
            Regex::new(&format!("^(?:{pattern})$")).map_err(|e| PostgresError::InvalidConfig {
                key: key.to_string(),
                reason: format!("{pattern:?} is not a regular expression: {e}"),
            })
        })
        .collect()
}

fn invalid(key: &str, reason: impl Into<String>) -> PostgresError {
    PostgresError::InvalidConfig {
        key: key.to_string(),
        reason: reason.into(),
    }
}

/// Checks that the config layer cannot express: key combinations and refused keys.
pub fn extra_problems(config: &Config) -> Vec<(String, String)> {
    let mut problems = unsupported_keys(config);
    let has = |k: &str| config.get(k).is_some_and(|v| !v.trim().is_empty());
    for (include, exclude) in [
        (SCHEMA_INCLUDE_LIST, SCHEMA_EXCLUDE_LIST),
        (TABLE_INCLUDE_LIST, TABLE_EXCLUDE_LIST),
        (COLUMN_INCLUDE_LIST, COLUMN_EXCLUDE_LIST),
    ] {
        if has(include) && has(exclude) {
            problems.push((
                exclude.to_string(),
                format!("{include} and {exclude} cannot both be set"),
            ));
        }
    }
    if let Ok(parsed) = postgres_config_def().parse(config) {
        if parsed.int(MAX_QUEUE_SIZE) <= parsed.int(MAX_BATCH_SIZE) {
            problems.push((
                MAX_QUEUE_SIZE.to_string(),
                format!(
                    "must be larger than {MAX_BATCH_SIZE} ({} <= {})",
                    parsed.int(MAX_QUEUE_SIZE),
                    parsed.int(MAX_BATCH_SIZE)
                ),
            ));
        }
        for key in [
            SCHEMA_INCLUDE_LIST,
            SCHEMA_EXCLUDE_LIST,
            TABLE_INCLUDE_LIST,
            TABLE_EXCLUDE_LIST,
            COLUMN_INCLUDE_LIST,
            COLUMN_EXCLUDE_LIST,
        ] {
            if let Err(e) = regexes(&parsed, key) {
                problems.push((key.to_string(), e.to_string()));
            }
        }
    }
    problems
}

impl PostgresSettings {
    pub fn parse(config: &Config) -> Result<PostgresSettings, PostgresError> {
        if let Some((key, reason)) = extra_problems(config).into_iter().next() {
            return Err(invalid(&key, reason));
        }
        let p = postgres_config_def()
            .parse(config)
            .map_err(PostgresError::Config)?;
        let lower = |key: &str| p.string(key).to_ascii_lowercase();
        let snapshot_mode = match lower(SNAPSHOT_MODE).as_str() {
            "initial" => SnapshotMode::Initial,
            "always" => SnapshotMode::Always,
            "never" | "no_data" => SnapshotMode::NoData,
            "initial_only" => SnapshotMode::InitialOnly,
            _ => SnapshotMode::WhenNeeded,
        };
        let publication_autocreate = match lower(PUBLICATION_AUTOCREATE_MODE).as_str() {
            "all_tables" => AutocreateMode::AllTables,
            "filtered" => AutocreateMode::Filtered,
            _ => AutocreateMode::Disabled,
        };
        let decimal = match lower(DECIMAL_HANDLING_MODE).as_str() {
            "double" => DecimalMode::Double,
            "string" => DecimalMode::String,
            _ => DecimalMode::Precise,
        };
        let time_precision = match lower(TIME_PRECISION_MODE).as_str() {
            "connect" => TimePrecisionMode::Connect,
            "adaptive_time_microseconds" => TimePrecisionMode::AdaptiveTimeMicroseconds,
            _ => TimePrecisionMode::Adaptive,
        };
        let skipped = p.list(SKIPPED_OPERATIONS);
        let skips = |op: &str| skipped.iter().any(|s| s == op);
        let heartbeat_ms = p.int(HEARTBEAT_INTERVAL_MS) as u64;
        let topic_prefix = p.string(TOPIC_PREFIX).to_string();
        Ok(PostgresSettings {
            hostname: p.string(HOSTNAME).to_string(),
            port: p.int(PORT) as u16,
            user: p.string(USER).to_string(),
            password: p.string(PASSWORD).to_string(),
            dbname: p.string(DBNAME).to_string(),
            sslmode: lower(SSLMODE),
            sslrootcert: p.non_empty_string(SSLROOTCERT).map(str::to_string),
            heartbeat_topic: format!("{}.{topic_prefix}", p.string(HEARTBEAT_TOPICS_PREFIX)),
            topic_prefix,
            slot_name: p.string(SLOT_NAME).to_string(),
            slot_drop_on_stop: p.boolean(SLOT_DROP_ON_STOP),
            publication_name: p.string(PUBLICATION_NAME).to_string(),
            publication_autocreate,
            tables: TableFilter {
                schema_include: regexes(&p, SCHEMA_INCLUDE_LIST)?,
                schema_exclude: regexes(&p, SCHEMA_EXCLUDE_LIST)?,
                table_include: regexes(&p, TABLE_INCLUDE_LIST)?,
                table_exclude: regexes(&p, TABLE_EXCLUDE_LIST)?,
                column_include: regexes(&p, COLUMN_INCLUDE_LIST)?,
                column_exclude: regexes(&p, COLUMN_EXCLUDE_LIST)?,
            },
            snapshot_mode,
            snapshot_fetch_size: p.int(SNAPSHOT_FETCH_SIZE) as usize,
            tombstones_on_delete: p.boolean(TOMBSTONES_ON_DELETE),
            emitted: EmittedOperations {
                create: !skips("c"),
                update: !skips("u"),
                delete: !skips("d"),
                truncate: !skips("t"),
            },
            max_batch_size: p.int(MAX_BATCH_SIZE) as usize,
            max_queue_size: p.int(MAX_QUEUE_SIZE) as usize,
            poll_interval: Duration::from_millis(p.int(POLL_INTERVAL_MS) as u64),
            heartbeat_interval: (heartbeat_ms > 0).then(|| Duration::from_millis(heartbeat_ms)),
            status_update_interval: Duration::from_millis(p.int(STATUS_UPDATE_INTERVAL_MS) as u64),
            types: TypeSettings {
                decimal,
                time_precision,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::testkit::config_from;

    fn base() -> Config {
        config_from([
            ("database.hostname", "127.0.0.1"),
            ("database.user", "postgres"),
            ("database.dbname", "shop"),
            ("topic.prefix", "shop"),
            ("name", "cdc"),
            ("tasks.max", "1"),
            ("transforms", "unwrap"),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            ("topic.creation.default.partitions", "1"),
        ])
    }

    #[test]
    fn debeziums_defaults_apply() {
        let s = PostgresSettings::parse(&base()).unwrap();
        assert_eq!(s.port, 5432);
        assert_eq!(s.slot_name, "debezium");
        assert_eq!(s.publication_name, "dbz_publication");
        assert_eq!(s.publication_autocreate, AutocreateMode::AllTables);
        assert_eq!(s.snapshot_mode, SnapshotMode::Initial);
        assert!(s.tombstones_on_delete);
        assert!(!s.emitted.truncate && s.emitted.create);
        assert_eq!(s.max_batch_size, 2048);
        assert_eq!(s.heartbeat_interval, None);
        assert_eq!(s.heartbeat_topic, "__debezium-heartbeat.shop");
    }

    #[test]
    fn unknown_debezium_keys_are_refused_by_name_and_worker_keys_pass() {
        let mut c = base();
        c.insert("column.mask.with.12.chars".into(), "public.t.c".into());
        c.insert("database.server.name".into(), "old".into());
        let problems = unsupported_keys(&c);
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["column.mask.with.12.chars", "database.server.name"]);
        assert!(problems[1].1.contains("topic.prefix"));
        let err = PostgresSettings::parse(&c).unwrap_err().to_string();
        assert!(err.contains("column.mask.with.12.chars"), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let mut c = base();
        c.insert("snapshot.mode".into(), "sometimes".into());
        assert!(PostgresSettings::parse(&c)
            .unwrap_err()
            .to_string()
            .contains("snapshot.mode"));
        let mut c = base();
        c.insert("plugin.name".into(), "decoderbufs".into());
        assert!(PostgresSettings::parse(&c)
            .unwrap_err()
            .to_string()
            .contains("plugin.name"));
        let mut c = base();
        c.insert("table.include.list".into(), "public.(".into());
        assert!(PostgresSettings::parse(&c)
            .unwrap_err()
            .to_string()
            .contains("table.include.list"));
        let mut c = base();
        c.insert("max.queue.size".into(), "10".into());
        c.insert("max.batch.size".into(), "10".into());
        assert!(PostgresSettings::parse(&c)
            .unwrap_err()
            .to_string()
            .contains("max.queue.size"));
    }

    #[test]
    fn table_lists_match_whole_names() {
        let mut c = base();
        c.insert("table.include.list".into(), "public.items,inv\\..*".into());
        let s = PostgresSettings::parse(&c).unwrap();
        assert!(s.tables.includes("public", "items"));
        assert!(!s.tables.includes("public", "items2"));
        assert!(s.tables.includes("inv", "anything"));
        assert!(!s.tables.includes("pg_catalog", "pg_class"));
        let mut c = base();
        c.insert("table.exclude.list".into(), "public\\.secret".into());
        let s = PostgresSettings::parse(&c).unwrap();
        assert!(!s.tables.includes("public", "secret"));
        assert!(s.tables.includes("public", "items"));
        let mut c = base();
        c.insert(
            "column.exclude.list".into(),
            "public\\.items\\.(secret|pin)".into(),
        );
        let s = PostgresSettings::parse(&c).unwrap();
        assert!(!s.tables.includes_column("public", "items", "secret"));
        assert!(s.tables.includes_column("public", "items", "name"));
        assert!(s.tables.includes_column("public", "other", "secret"));
        let mut c = base();
        c.insert("snapshot.mode".into(), "never".into());
        assert_eq!(
            PostgresSettings::parse(&c).unwrap().snapshot_mode,
            SnapshotMode::NoData
        );
    }
}
