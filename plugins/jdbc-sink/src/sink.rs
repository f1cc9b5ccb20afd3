//! `JdbcSinkConnector` and its task.
//!
//! Invariant: `put` returns `Ok` only once its records are committed in the database (one
//! transaction per `put`, DDL for new tables and columns before it). Nothing is buffered, so
//! `flush`/`pre_commit` have nothing left to write and the offsets the worker commits after them
//! never run ahead of the table. After a crash the worker replays from the last committed
//! offsets; in upsert mode that rewrites the same final rows.

use crate::config::{config_def, SinkConfig, CONNECTION_URL};
use crate::db::{Connection, DbError, Exec};
use crate::dialect::SqlDialect;
use crate::layout::LayoutCache;
use crate::plan::{segments, statements, Segment};
use crate::JdbcSinkError;
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, PartitionOffset,
    PluginClass, SinkConnector, SinkRecord, SinkTask, TaskContext,
};
use std::collections::{HashMap, HashSet};

/// Writes records into PostgreSQL or MariaDB/MySQL tables.
#[derive(Default)]
pub struct JdbcSinkConnector {
    config: Option<Config>,
}

impl PluginClass for JdbcSinkConnector {
    const CLASS: &'static str = "io.kconnect.jdbc.JdbcSinkConnector";
    const ALIASES: &'static [&'static str] = &[
        "io.debezium.connector.jdbc.JdbcSinkConnector",
        "io.confluent.connect.jdbc.JdbcSinkConnector",
    ];
    const DOC: &'static str =
        "Writes records into PostgreSQL or MariaDB/MySQL tables (insert, upsert, update, delete).";
}

impl Connector for JdbcSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn validate(&self, config: &Config) -> Vec<ConfigValue> {
        let mut values = config_def().validate(config);
        if values.iter().all(|v| v.errors.is_empty()) {
            if let Err(e) = SinkConfig::parse(config) {
                let message = e.to_string();
                // The error goes to the key it names, or to connection.url.
                let index = values
                    .iter()
                    .position(|v| message.contains(&v.name) && v.name != CONNECTION_URL)
                    .or_else(|| values.iter().position(|v| v.name == CONNECTION_URL))
                    .unwrap_or(0);
                values[index].errors.push(message);
            }
        }
        values
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        SinkConfig::parse(&config)?;
        self.config = Some(config);
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
        let config = self
            .config
            .as_ref()
            .ok_or(JdbcSinkError::NotStarted("taskConfigs"))?;
        Ok(vec![config.clone(); max_tasks])
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.config = None;
        Ok(())
    }
}

impl SinkConnector for JdbcSinkConnector {
    type Task = JdbcSinkTask;
}

#[derive(Default)]
pub struct JdbcSinkTask {
    running: Option<Running>,
}

struct Running {
    config: SinkConfig,
    sql: SqlDialect,
    connection: Option<Connection>,
    layouts: LayoutCache,
    /// Column names (lower case) of the tables seen, as the database has them.
    tables: HashMap<String, HashSet<String>>,
}

impl Running {
    fn connection(&mut self) -> Result<&mut Connection, DbError> {
        if self.connection.is_none() {
            self.connection = Some(Connection::connect(&self.config)?);
        }
        Ok(self.connection.as_mut().expect("connected just now"))
    }

    /// Creates or evolves the tables of `segments`; returns which segments to write (deletes
    /// on a table that does not exist have nothing to do).
    fn prepare_tables(&mut self, segments: &[Segment]) -> Result<Vec<bool>, JdbcSinkError> {
        let mut write = Vec::with_capacity(segments.len());
        for segment in segments {
            if !self.tables.contains_key(&segment.table) {
                let query = self.sql.columns_query();
                let catalog_name = self.sql.catalog_name(&segment.table);
                let columns = self.connection()?.table_columns(query, &catalog_name)?;
                if !columns.is_empty() {
                    self.tables.insert(
                        segment.table.clone(),
                        columns.iter().map(|c| c.to_lowercase()).collect(),
                    );
                }
            }
            let Some(known) = self.tables.get(&segment.table) else {
                if !segment.has_writes() {
                    write.push(false);
                    continue;
                }
                if !self.config.auto_create {
                    return Err(JdbcSinkError::TableMissing(segment.table.clone()));
                }
                let ddl = self.sql.create_table(&segment.table, &segment.layout);
                self.connection()?.ddl(&ddl)?;
                let names = segment
                    .layout
                    .columns
                    .iter()
                    .map(|c| c.name.to_lowercase())
                    .collect();
                self.tables.insert(segment.table.clone(), names);
                write.push(true);
                continue;
            };
            let missing: Vec<_> = segment
                .layout
                .columns
                .iter()
                .filter(|c| !known.contains(&c.name.to_lowercase()))
                .cloned()
                .collect();
            if !missing.is_empty() {
                if !self.config.auto_evolve {
                    let names: Vec<&str> = missing.iter().map(|c| c.name.as_str()).collect();
                    return Err(JdbcSinkError::ColumnsMissing {
                        table: segment.table.clone(),
                        columns: names.join(", "),
                    });
                }
                for column in &missing {
                    let ddl = self.sql.add_column(&segment.table, column);
                    self.connection()?.ddl(&ddl)?;
                    if let Some(known) = self.tables.get_mut(&segment.table) {
                        known.insert(column.name.to_lowercase());
                    }
                }
            }
            write.push(true);
        }
        Ok(write)
    }

    /// One attempt: tables, then the batch's transaction.
    fn write(&mut self, segments: &[Segment], records: &[SinkRecord]) -> Result<(), JdbcSinkError> {
        let wanted = self.prepare_tables(segments)?;
        let mut execs: Vec<Exec> = Vec::new();
        for (segment, _) in segments.iter().zip(&wanted).filter(|(_, w)| **w) {
            statements(&self.config, &self.sql, segment, &mut execs);
        }
        match self.connection()?.run(&execs) {
            Ok(()) => Ok(()),
            Err(DbError::Permanent {
                exec: Some(i),
                message,
            }) => {
                let (first, last) = execs[i].records;
                let (a, b) = (&records[first], &records[last]);
                Err(JdbcSinkError::Statement(format!(
                    "{message}; the statement carried records of topic {} partition {} offsets {}..={} ({})",
                    a.record.topic,
                    a.kafka_partition(),
                    a.kafka_offset,
                    b.kafka_offset,
                    execs[i].sql.chars().take(160).collect::<String>()
                )))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl JdbcSinkTask {
    fn running(&mut self, call: &'static str) -> Result<&mut Running, JdbcSinkError> {
        self.running.as_mut().ok_or(JdbcSinkError::NotStarted(call))
    }
}

impl SinkTask for JdbcSinkTask {
    fn start(&mut self, config: Config, _context: TaskContext) -> ConnectResult<()> {
        let config = SinkConfig::parse(&config)?;
        let sql = SqlDialect {
            dialect: config.target.dialect,
            quote: config.quote_identifiers,
        };
        let mut running = Running {
            config,
            sql,
            connection: None,
            layouts: LayoutCache::default(),
            tables: HashMap::new(),
        };
        // Fail the start on bad credentials or a wrong host, with the database's words.
        running.connection().map_err(JdbcSinkError::from)?;
        self.running = Some(running);
        Ok(())
    }

    fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        let running = self.running("put")?;
        let segments = segments(&running.config, &mut running.layouts, records)?;
        if segments.is_empty() {
            return Ok(());
        }
        let mut attempt = 0;
        loop {
            match running.write(&segments, records) {
                Ok(()) => return Ok(()),
                Err(JdbcSinkError::Unavailable(message))
                    if attempt < running.config.max_retries =>
                {
                    attempt += 1;
                    log::warn!(
                        "writing {} records failed ({message}); reconnecting and retrying in {:?} ({attempt}/{})",
                        records.len(),
                        running.config.retry_backoff,
                        running.config.max_retries
                    );
                    running.connection = None;
                    // What the table looked like may have changed while we were away.
                    running.tables.clear();
                    std::thread::sleep(running.config.retry_backoff);
                }
                Err(e) => {
                    if matches!(e, JdbcSinkError::Unavailable(_)) {
                        running.connection = None;
                        running.tables.clear();
                    }
                    return Err(e.into());
                }
            }
        }
    }

    fn flush(&mut self, _offsets: &[PartitionOffset]) -> ConnectResult<()> {
        // Every put committed its transaction before returning.
        self.running("flush")?;
        Ok(())
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.running = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::testkit::config_from;

    #[test]
    fn validation_puts_consistency_errors_on_the_key_they_name() {
        let connector = JdbcSinkConnector::default();
        let values = connector.validate(&config_from([
            (CONNECTION_URL, "jdbc:postgresql://h/db"),
            ("insert.mode", "upsert"),
        ]));
        let with_errors: Vec<(&str, &Vec<String>)> = values
            .iter()
            .filter(|v| !v.errors.is_empty())
            .map(|v| (v.name.as_str(), &v.errors))
            .collect();
        assert_eq!(with_errors.len(), 1, "{with_errors:?}");
        assert_eq!(with_errors[0].0, "insert.mode");
        assert!(with_errors[0].1[0].contains("needs a primary key"));
        let values = connector.validate(&config_from([(CONNECTION_URL, "jdbc:sqlite:x")]));
        let url = values.iter().find(|v| v.name == CONNECTION_URL).unwrap();
        assert!(
            url.errors[0].contains("expected jdbc:<driver>://host/database"),
            "{:?}",
            url.errors
        );
    }

    #[test]
    fn every_key_is_documented_and_put_before_start_is_an_error() {
        assert!(config_def().keys.iter().all(|k| k.documentation.len() > 20));
        let mut task = JdbcSinkTask::default();
        let error = task.put(&[]).unwrap_err();
        assert!(
            error.message.contains("put called before start"),
            "{}",
            error.message
        );
    }
}
