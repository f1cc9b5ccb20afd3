//! The connector's settings: the [`ConfigDef`] users see (it documents every key and which
//! spelling comes from which connector) and [`SinkConfig`], the typed form the task runs with.
//!
//! Where Debezium's JDBC sink and Confluent's JDBC sink spell a key differently both are defined;
//! when a config sets both, the Debezium spelling wins. Parsing is pure: it never connects.

use crate::JdbcSinkError;
use kconnect_plugin_api::{Config, ConfigDef, ConfigKey, ConfigType, Importance};
use std::time::Duration;

pub const CONNECTION_URL: &str = "connection.url";
pub const CONNECTION_USERNAME: &str = "connection.username";
pub const CONNECTION_USER: &str = "connection.user";
pub const CONNECTION_PASSWORD: &str = "connection.password";
pub const INSERT_MODE: &str = "insert.mode";
pub const PRIMARY_KEY_MODE: &str = "primary.key.mode";
pub const PK_MODE: &str = "pk.mode";
pub const PRIMARY_KEY_FIELDS: &str = "primary.key.fields";
pub const PK_FIELDS: &str = "pk.fields";
pub const DELETE_ENABLED: &str = "delete.enabled";
pub const SCHEMA_EVOLUTION: &str = "schema.evolution";
pub const AUTO_CREATE: &str = "auto.create";
pub const AUTO_EVOLVE: &str = "auto.evolve";
pub const TABLE_NAME_FORMAT: &str = "table.name.format";
pub const BATCH_SIZE: &str = "batch.size";
pub const MAX_RETRIES: &str = "max.retries";
pub const RETRY_BACKOFF_MS: &str = "retry.backoff.ms";
pub const QUOTE_IDENTIFIERS: &str = "quote.identifiers";
pub const QUOTE_SQL_IDENTIFIERS: &str = "quote.sql.identifiers";
pub const DATABASE_TIME_ZONE: &str = "database.time_zone";
pub const DB_TIMEZONE: &str = "db.timezone";

/// Column names of the `kafka` primary key mode (the same in both Java connectors).
pub const KAFKA_PK_COLUMNS: [&str; 3] =
    ["__connect_topic", "__connect_partition", "__connect_offset"];

/// The settings of the JDBC sink connector.
pub fn config_def() -> ConfigDef {
    let key = |name: &str, ty: ConfigType, default: &str, doc: &str| {
        ConfigKey::optional(name, ty, default, doc).group("JDBC sink", -1)
    };
    ConfigDef::new()
        .define(
            ConfigKey::required(CONNECTION_URL, ConfigType::String,
                "JDBC URL of the database: jdbc:postgresql://host[:port]/database, or jdbc:mysql://host[:port]/database / jdbc:mariadb://… for MariaDB and MySQL. Query parameters `user` and `password` are read too. (Both connectors.)")
                .importance(Importance::High),
        )
        .define(key(CONNECTION_USERNAME, ConfigType::String, "", "Database user (Debezium's spelling; `connection.user` is Confluent's)."))
        .define(key(CONNECTION_USER, ConfigType::String, "", "Database user (Confluent's spelling of `connection.username`)."))
        .define(key(CONNECTION_PASSWORD, ConfigType::Password, "", "Database password (both connectors)."))
        .define(key(INSERT_MODE, ConfigType::String, "insert",
            "insert: plain INSERT; upsert: insert or replace by primary key (ON CONFLICT … DO UPDATE on PostgreSQL, ON DUPLICATE KEY UPDATE on MariaDB/MySQL), idempotent on replay; update: UPDATE by primary key. (Both connectors.)")
            .recommended(&["insert", "upsert", "update"]))
        .define(key(PRIMARY_KEY_MODE, ConfigType::String, "",
            "none, kafka (columns __connect_topic, __connect_partition, __connect_offset), record_key or record_value (Debezium's spelling; `pk.mode` is Confluent's). Default none.")
            .recommended(&["none", "kafka", "record_key", "record_value"]))
        .define(key(PK_MODE, ConfigType::String, "", "Confluent's spelling of `primary.key.mode`."))
        .define(key(PRIMARY_KEY_FIELDS, ConfigType::List, "",
            "Fields of the key (record_key) or value (record_value) forming the primary key; for a primitive key, the one column name. Empty in record_key mode: every key field. (Debezium's spelling; `pk.fields` is Confluent's.)"))
        .define(key(PK_FIELDS, ConfigType::List, "", "Confluent's spelling of `primary.key.fields`."))
        .define(key(DELETE_ENABLED, ConfigType::Boolean, "false",
            "Whether a tombstone (null value) deletes the row of its key; needs primary.key.mode=record_key. When false, tombstones are skipped. (Both connectors.)"))
        .define(key(SCHEMA_EVOLUTION, ConfigType::String, "none",
            "none, or basic: create missing tables and add missing columns (Debezium's key; Confluent's are auto.create and auto.evolve, either of which turns the matching part on).")
            .recommended(&["none", "basic"]))
        .define(key(AUTO_CREATE, ConfigType::Boolean, "false", "Create a missing table from the record schema (Confluent)."))
        .define(key(AUTO_EVOLVE, ConfigType::Boolean, "false", "Add columns for new optional fields (Confluent)."))
        .define(key(TABLE_NAME_FORMAT, ConfigType::String, "${topic}",
            "The destination table; ${topic} is replaced by the record's topic, with '.' and '-' turned into '_' (as Debezium's default naming does). (Both connectors.)"))
        .define(key(BATCH_SIZE, ConfigType::Int, "500", "Most rows in one multi-row statement (both connectors)."))
        .define(key(MAX_RETRIES, ConfigType::Int, "10", "How often a batch whose transaction failed for a connection or server reason is retried, after reconnecting (Confluent's key; Debezium retries through the worker)."))
        .define(key(RETRY_BACKOFF_MS, ConfigType::Long, "3000", "Wait between those retries, in milliseconds."))
        .define(key(QUOTE_IDENTIFIERS, ConfigType::Boolean, "false",
            "Quote table and column names, keeping their case (Debezium's key; Confluent's `quote.sql.identifiers`=always|never also works, and wins when set)."))
        .define(key(QUOTE_SQL_IDENTIFIERS, ConfigType::String, "", "Confluent's always|never for `quote.identifiers`."))
        .define(key(DATABASE_TIME_ZONE, ConfigType::String, "UTC",
            "Time zone of TIMESTAMP/DATETIME columns written from Connect timestamps: UTC or a fixed offset such as +02:00 (Debezium's key; Confluent's `db.timezone` too)."))
        .define(key(DB_TIMEZONE, ConfigType::String, "", "Confluent's spelling of `database.time_zone`."))
}

/// Which database protocol a connection URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    MySql,
}

/// Where to connect, from a `jdbc:` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionTarget {
    pub dialect: Dialect,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Parses `jdbc:postgresql://host[:port]/db[?k=v&…]` and `jdbc:mysql|mariadb://…`.
pub fn parse_jdbc_url(url: &str) -> Result<ConnectionTarget, JdbcSinkError> {
    let bad = |why: &str| JdbcSinkError::Config(format!("{CONNECTION_URL} {url:?}: {why}"));
    let rest = url
        .strip_prefix("jdbc:")
        .ok_or_else(|| bad("must start with jdbc:"))?;
    let (scheme, rest) = rest
        .split_once("://")
        .ok_or_else(|| bad("expected jdbc:<driver>://host/database"))?;
    let (dialect, default_port) = match scheme {
        "postgresql" => (Dialect::Postgres, 5432),
        "mysql" | "mariadb" => (Dialect::MySql, 3306),
        other => {
            return Err(bad(&format!(
                "unsupported driver {other:?} (postgresql, mysql, mariadb)"
            )))
        }
    };
    let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, database) = location.split_once('/').unwrap_or((location, ""));
    if authority.contains(',') {
        return Err(bad("several hosts are not supported"));
    }
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in host"))?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let host = if host.is_empty() { "localhost" } else { host };
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| bad(&format!("port {p:?} is not a number")))?,
        None => default_port,
    };
    let mut target = ConnectionTarget {
        dialect,
        host: host.to_string(),
        port,
        database: database.trim_end_matches('/').to_string(),
        user: None,
        password: None,
    };
    for pair in query.split(['&', ';']).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "user" => target.user = Some(v.to_string()),
            "password" => target.password = Some(v.to_string()),
            _ => log::debug!("ignoring JDBC URL parameter {k}"),
        }
    }
    if target.database.is_empty() {
        return Err(bad("names no database"));
    }
    Ok(target)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsertMode {
    Insert,
    Upsert,
    Update,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrimaryKeyMode {
    None,
    Kafka,
    RecordKey,
    RecordValue,
}

/// The typed config a task runs with.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkConfig {
    pub target: ConnectionTarget,
    pub user: String,
    pub password: String,
    pub insert_mode: InsertMode,
    pub pk_mode: PrimaryKeyMode,
    pub pk_fields: Vec<String>,
    pub delete_enabled: bool,
    pub auto_create: bool,
    pub auto_evolve: bool,
    pub table_name_format: String,
    pub batch_size: usize,
    pub max_retries: u32,
    pub retry_backoff: Duration,
    pub quote_identifiers: bool,
    /// Offset of `database.time_zone` from UTC, in seconds.
    pub time_zone_offset_secs: i32,
}

/// The value of the first of `names` that is set and not blank.
fn first_set<'a>(config: &'a Config, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .filter_map(|n| config.get(*n))
        .map(|v| v.trim())
        .find(|v| !v.is_empty())
}

impl SinkConfig {
    pub fn parse(config: &Config) -> Result<SinkConfig, JdbcSinkError> {
        let parsed = config_def().parse(config).map_err(JdbcSinkError::Config)?;
        let target = parse_jdbc_url(parsed.string(CONNECTION_URL))?;
        let user = first_set(config, &[CONNECTION_USERNAME, CONNECTION_USER])
            .map(str::to_string)
            .or_else(|| target.user.clone())
            .unwrap_or_default();
        let password = config
            .get(CONNECTION_PASSWORD)
            .filter(|p| !p.is_empty())
            .cloned()
            .or_else(|| target.password.clone())
            .unwrap_or_default();
        let insert_mode = match parsed.string(INSERT_MODE).to_ascii_lowercase().as_str() {
            "insert" => InsertMode::Insert,
            "upsert" => InsertMode::Upsert,
            "update" => InsertMode::Update,
            other => return Err(invalid(INSERT_MODE, other, "insert, upsert, update")),
        };
        let pk_mode_raw = first_set(config, &[PRIMARY_KEY_MODE, PK_MODE]).unwrap_or("none");
        let pk_mode = match pk_mode_raw.to_ascii_lowercase().as_str() {
            "none" => PrimaryKeyMode::None,
            "kafka" => PrimaryKeyMode::Kafka,
            "record_key" => PrimaryKeyMode::RecordKey,
            "record_value" => PrimaryKeyMode::RecordValue,
            other => {
                return Err(invalid(
                    PRIMARY_KEY_MODE,
                    other,
                    "none, kafka, record_key, record_value",
                ))
            }
        };
        let pk_fields = first_set(config, &[PRIMARY_KEY_FIELDS, PK_FIELDS])
            .map(kconnect_plugin_api::config::parse_list)
            .unwrap_or_default();
        let evolution = parsed.string(SCHEMA_EVOLUTION).to_ascii_lowercase();
        let basic = match evolution.as_str() {
            "none" => false,
            "basic" => true,
            other => return Err(invalid(SCHEMA_EVOLUTION, other, "none, basic")),
        };
        let quote_identifiers = match first_set(config, &[QUOTE_SQL_IDENTIFIERS]) {
            Some(v) if v.eq_ignore_ascii_case("always") => true,
            Some(v) if v.eq_ignore_ascii_case("never") => false,
            Some(other) => return Err(invalid(QUOTE_SQL_IDENTIFIERS, other, "always, never")),
            None => parsed.boolean(QUOTE_IDENTIFIERS),
        };
        let zone = first_set(config, &[DATABASE_TIME_ZONE, DB_TIMEZONE]).unwrap_or("UTC");
        let time_zone_offset_secs = parse_time_zone(zone).ok_or_else(|| {
            invalid(
                DATABASE_TIME_ZONE,
                zone,
                "UTC, Z or a fixed offset like +02:00",
            )
        })?;
        let batch_size = parsed.int(BATCH_SIZE);
        if batch_size < 1 {
            return Err(invalid(BATCH_SIZE, &batch_size.to_string(), "at least 1"));
        }
        let config = SinkConfig {
            target,
            user,
            password,
            insert_mode,
            pk_mode,
            pk_fields,
            delete_enabled: parsed.boolean(DELETE_ENABLED),
            auto_create: basic || parsed.boolean(AUTO_CREATE),
            auto_evolve: basic || parsed.boolean(AUTO_EVOLVE),
            table_name_format: parsed.string(TABLE_NAME_FORMAT).to_string(),
            batch_size: batch_size as usize,
            max_retries: parsed.int(MAX_RETRIES).max(0) as u32,
            retry_backoff: Duration::from_millis(parsed.int(RETRY_BACKOFF_MS).max(0) as u64),
            quote_identifiers,
            time_zone_offset_secs,
        };
        config.check_consistency()?;
        Ok(config)
    }

    /// Combinations that cannot work, refused before the first record.
    fn check_consistency(&self) -> Result<(), JdbcSinkError> {
        if self.insert_mode != InsertMode::Insert && self.pk_mode == PrimaryKeyMode::None {
            return Err(JdbcSinkError::Config(format!(
                "{INSERT_MODE}={:?} needs a primary key: set {PRIMARY_KEY_MODE} (or {PK_MODE}) to record_key, record_value or kafka",
                self.insert_mode
            ).to_lowercase()));
        }
        if self.delete_enabled && self.pk_mode != PrimaryKeyMode::RecordKey {
            return Err(JdbcSinkError::Config(format!(
                "{DELETE_ENABLED}=true needs {PRIMARY_KEY_MODE}=record_key: a tombstone has only its key"
            )));
        }
        if self.pk_mode == PrimaryKeyMode::RecordValue && self.pk_fields.is_empty() {
            return Err(JdbcSinkError::Config(format!(
                "{PRIMARY_KEY_MODE}=record_value needs {PRIMARY_KEY_FIELDS} (or {PK_FIELDS}) naming the value fields of the key"
            )));
        }
        if self.pk_mode == PrimaryKeyMode::Kafka
            && !(self.pk_fields.is_empty() || self.pk_fields.len() == 3)
        {
            return Err(JdbcSinkError::Config(format!(
                "{PRIMARY_KEY_MODE}=kafka takes no or three {PRIMARY_KEY_FIELDS} (topic, partition, offset column names)"
            )));
        }
        if !self.table_name_format.contains("${topic}") && self.table_name_format.trim().is_empty()
        {
            return Err(JdbcSinkError::Config(format!(
                "{TABLE_NAME_FORMAT} is empty"
            )));
        }
        Ok(())
    }

    /// The table a topic's records go to.
    pub fn table_for(&self, topic: &str) -> String {
        let topic = topic.replace(['.', '-'], "_");
        self.table_name_format.replace("${topic}", &topic)
    }

    /// Column names of the `kafka` primary key mode.
    pub fn kafka_pk_columns(&self) -> [&str; 3] {
        match self.pk_fields.as_slice() {
            [t, p, o] => [t.as_str(), p.as_str(), o.as_str()],
            _ => KAFKA_PK_COLUMNS,
        }
    }
}

fn invalid(key: &str, value: &str, expected: &str) -> JdbcSinkError {
    JdbcSinkError::Config(format!(
        "Invalid value {value} for configuration {key}: expected {expected}"
    ))
}

/// `UTC`/`Z`/`GMT` or `±HH:MM` (also `UTC+HH:MM`) as seconds east of UTC.
pub fn parse_time_zone(zone: &str) -> Option<i32> {
    let zone = zone.trim();
    let offset = zone
        .strip_prefix("UTC")
        .or_else(|| zone.strip_prefix("GMT"))
        .unwrap_or(zone);
    if offset.is_empty() || offset == "Z" {
        return Some(0);
    }
    let (sign, hm) = match offset.as_bytes()[0] {
        b'+' => (1, &offset[1..]),
        b'-' => (-1, &offset[1..]),
        _ => return None,
    };
    let (h, m) = hm.split_once(':').unwrap_or((hm, "0"));
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 18 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::testkit::config_from;

    #[test]
    fn parses_postgres_and_mariadb_urls() {
        let pg = parse_jdbc_url("jdbc:postgresql://db.example:6543/shop?user=app&password=s3cret")
            .unwrap();
        assert_eq!(pg.dialect, Dialect::Postgres);
        assert_eq!(
            (pg.host.as_str(), pg.port, pg.database.as_str()),
            ("db.example", 6543, "shop")
        );
        assert_eq!(pg.user.as_deref(), Some("app"));
        assert_eq!(pg.password.as_deref(), Some("s3cret"));
        let my = parse_jdbc_url("jdbc:mariadb://127.0.0.1/inventory").unwrap();
        assert_eq!((my.dialect, my.port), (Dialect::MySql, 3306));
        let my = parse_jdbc_url("jdbc:mysql://[::1]:3307/inv").unwrap();
        assert_eq!((my.host.as_str(), my.port), ("::1", 3307));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, why) in [
            ("postgresql://h/db", "must start with jdbc:"),
            ("jdbc:oracle://h/db", "unsupported driver \"oracle\""),
            (
                "jdbc:postgresql://h:port/db",
                "port \"port\" is not a number",
            ),
            ("jdbc:mysql://h", "names no database"),
        ] {
            let message = parse_jdbc_url(url).unwrap_err().to_string();
            assert!(message.contains(why), "{url}: {message}");
        }
    }

    fn base<'a>(extra: &[(&'a str, &'a str)]) -> Config {
        let mut config = config_from([(CONNECTION_URL, "jdbc:postgresql://localhost/db")]);
        config.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        config
    }

    #[test]
    fn both_spellings_are_accepted_and_debeziums_wins() {
        let c = SinkConfig::parse(&base(&[
            (PK_MODE, "record_value"),
            (PK_FIELDS, "id"),
            (CONNECTION_USER, "conf"),
        ]))
        .unwrap();
        assert_eq!(c.pk_mode, PrimaryKeyMode::RecordValue);
        assert_eq!(c.pk_fields, ["id"]);
        assert_eq!(c.user, "conf");
        let c = SinkConfig::parse(&base(&[
            (PK_MODE, "record_value"),
            (PRIMARY_KEY_MODE, "record_key"),
            (CONNECTION_USER, "conf"),
            (CONNECTION_USERNAME, "dbz"),
        ]))
        .unwrap();
        assert_eq!(c.pk_mode, PrimaryKeyMode::RecordKey);
        assert_eq!(c.user, "dbz");
        let c = SinkConfig::parse(&base(&[(SCHEMA_EVOLUTION, "basic")])).unwrap();
        assert!(c.auto_create && c.auto_evolve);
        let c = SinkConfig::parse(&base(&[(AUTO_EVOLVE, "true")])).unwrap();
        assert!(!c.auto_create && c.auto_evolve);
        let c = SinkConfig::parse(&base(&[
            (QUOTE_IDENTIFIERS, "false"),
            (QUOTE_SQL_IDENTIFIERS, "always"),
        ]))
        .unwrap();
        assert!(c.quote_identifiers);
        let c = SinkConfig::parse(&base(&[(DB_TIMEZONE, "+02:00")])).unwrap();
        assert_eq!(c.time_zone_offset_secs, 7200);
    }

    #[test]
    fn inconsistent_configs_are_refused_with_the_reason() {
        for (extra, why) in [
            (vec![(INSERT_MODE, "upsert")], "needs a primary key"),
            (
                vec![(INSERT_MODE, "merge")],
                "Invalid value merge for configuration insert.mode",
            ),
            (
                vec![
                    (DELETE_ENABLED, "true"),
                    (PK_MODE, "record_value"),
                    (PK_FIELDS, "id"),
                ],
                "needs primary.key.mode=record_key",
            ),
            (vec![(PK_MODE, "record_value")], "needs primary.key.fields"),
            (
                vec![(PK_MODE, "everything")],
                "Invalid value everything for configuration primary.key.mode",
            ),
            (
                vec![(DATABASE_TIME_ZONE, "Europe/Paris")],
                "database.time_zone",
            ),
            (vec![(BATCH_SIZE, "0")], "batch.size"),
        ] {
            let message = SinkConfig::parse(&base(&extra)).unwrap_err().to_string();
            assert!(message.contains(why), "{extra:?}: {message}");
        }
    }

    #[test]
    fn table_names_follow_the_format() {
        let c = SinkConfig::parse(&base(&[(TABLE_NAME_FORMAT, "kafka_${topic}")])).unwrap();
        assert_eq!(
            c.table_for("server1.inventory.customers"),
            "kafka_server1_inventory_customers"
        );
    }

    #[test]
    fn time_zones() {
        assert_eq!(parse_time_zone("UTC"), Some(0));
        assert_eq!(parse_time_zone("Z"), Some(0));
        assert_eq!(parse_time_zone("-05:30"), Some(-(5 * 3600 + 30 * 60)));
        assert_eq!(parse_time_zone("UTC+01:00"), Some(3600));
        assert_eq!(parse_time_zone("Mars/Base"), None);
    }
}
