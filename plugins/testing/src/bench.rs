//! Benchmark connectors: they do as little as the data model allows, so that what a benchmark
//! measures is the cost of moving batches, not the connector's work.
//!
//! [`BenchSourceTask`] returns `batch.size` records per poll, each with a `value.bytes`-long
//! STRING value. Everything a record shares with its neighbours is built once at start and cloned
//! (the schema is an `RArc`, so cloning it allocates nothing). [`BenchSinkTask`] counts records and
//! value bytes.

use crate::misbehaviour::TASK_ID;
use crate::LOG_TARGET;
use kconnect_plugin_api::abi_stable::std_types::{ROption, RString, RVec, Tuple2};
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult,
    ConnectorContext, PluginClass, Schema, SchemaRef, SchemaType, SinkConnector, SinkRecord,
    SinkTask, SourceConnector, SourceMap, SourceRecord, SourceTask, TaskContext, Validator, Value,
};
use std::time::Duration;

pub const BATCH_SIZE: &str = "batch.size";
pub const VALUE_BYTES: &str = "value.bytes";
pub const TOPIC: &str = "topic";

fn bench_source_config_def() -> ConfigDef {
    let at_least_one = Validator::Range {
        min: Some(1.0),
        max: None,
    };
    ConfigDef::new()
        .define(
            ConfigKey::optional(BATCH_SIZE, ConfigType::Int, "1000", "Records per poll.")
                .validator(at_least_one.clone()),
        )
        .define(
            ConfigKey::optional(VALUE_BYTES, ConfigType::Int, "100", "Bytes per value.")
                .validator(at_least_one),
        )
        .define(ConfigKey::optional(
            TOPIC,
            ConfigType::String,
            "bench",
            "The topic records are written to.",
        ))
        .define(ConfigKey::optional(
            TASK_ID,
            ConfigType::String,
            "0",
            "The task's id.",
        ))
}

/// Hands every task the connector's config plus its `task.id`.
fn numbered_task_configs(config: &Config, max_tasks: usize) -> Vec<Config> {
    (0..max_tasks)
        .map(|id| {
            let mut task = config.clone();
            task.insert(TASK_ID.to_string(), id.to_string());
            task
        })
        .collect()
}

/// A source connector whose tasks return the cheapest possible batches.
#[derive(Debug, Default)]
pub struct BenchSourceConnector {
    config: Config,
}

impl PluginClass for BenchSourceConnector {
    const CLASS: &'static str = "kconnect.testing.BenchSourceConnector";
    const DOC: &'static str = "Returns batch.size records of value.bytes bytes per poll.";
}

impl kconnect_plugin_api::Connector for BenchSourceConnector {
    fn config_def(&self) -> ConfigDef {
        bench_source_config_def()
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        bench_source_config_def()
            .parse(&config)
            .map_err(ConnectError::config)?;
        self.config = config;
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
        Ok(numbered_task_configs(&self.config, max_tasks))
    }

    fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

impl SourceConnector for BenchSourceConnector {
    type Task = BenchSourceTask;
}

/// The task of [`BenchSourceConnector`].
#[derive(Debug, Default)]
pub struct BenchSourceTask {
    batch_size: usize,
    topic: RString,
    value: RString,
    schema: Option<SchemaRef>,
    partition: SourceMap,
    offset_key: RString,
    next: i64,
}

impl SourceTask for BenchSourceTask {
    fn start(&mut self, config: Config, _context: TaskContext) -> ConnectResult<()> {
        let parsed = bench_source_config_def()
            .parse(&config)
            .map_err(ConnectError::config)?;
        self.batch_size = parsed.int(BATCH_SIZE) as usize;
        self.topic = parsed.string(TOPIC).into();
        self.value = "x".repeat(parsed.int(VALUE_BYTES) as usize).into();
        self.schema = Some(SchemaRef::new(Schema::primitive(SchemaType::String)));
        self.partition = SourceMap::new()
            .with("bench", parsed.string(TASK_ID))
            .shared();
        self.offset_key = "n".into();
        log::info!(target: LOG_TARGET, "bench source task started: {} records per poll", self.batch_size);
        Ok(())
    }

    fn poll(&mut self, _timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
        let schema = self
            .schema
            .as_ref()
            .ok_or_else(|| ConnectError::failed("bench source task was not started"))?;
        let mut records = Vec::with_capacity(self.batch_size);
        for _ in 0..self.batch_size {
            let n = self.next;
            self.next += 1;
            let mut offset = RVec::with_capacity(1);
            offset.push(Tuple2(self.offset_key.clone(), Value::Int64(n)));
            records.push(SourceRecord {
                source_partition: self.partition.clone(),
                source_offset: SourceMap::from_entries(offset),
                record: ConnectRecord {
                    topic: self.topic.clone(),
                    value_schema: ROption::RSome(schema.clone()),
                    value: Value::String(self.value.clone()),
                    ..ConnectRecord::default()
                },
            });
        }
        Ok(records)
    }

    fn stop(&mut self) -> ConnectResult<()> {
        log::info!(target: LOG_TARGET, "bench source task stopped after {} records", self.next);
        Ok(())
    }
}

/// A sink connector whose tasks only count what they receive.
#[derive(Debug, Default)]
pub struct BenchSinkConnector {
    config: Config,
}

impl PluginClass for BenchSinkConnector {
    const CLASS: &'static str = "kconnect.testing.BenchSinkConnector";
    const DOC: &'static str = "Counts the records and value bytes it receives.";
}

fn bench_sink_config_def() -> ConfigDef {
    ConfigDef::new().define(ConfigKey::optional(
        TASK_ID,
        ConfigType::String,
        "0",
        "The task's id.",
    ))
}

impl kconnect_plugin_api::Connector for BenchSinkConnector {
    fn config_def(&self) -> ConfigDef {
        bench_sink_config_def()
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        self.config = config;
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
        Ok(numbered_task_configs(&self.config, max_tasks))
    }

    fn stop(&mut self) -> ConnectResult<()> {
        Ok(())
    }
}

impl SinkConnector for BenchSinkConnector {
    type Task = BenchSinkTask;
}

/// The task of [`BenchSinkConnector`].
#[derive(Debug, Default)]
pub struct BenchSinkTask {
    records: u64,
    bytes: u64,
}

impl BenchSinkTask {
    /// Records and value bytes received so far.
    pub fn totals(&self) -> (u64, u64) {
        (self.records, self.bytes)
    }
}

impl SinkTask for BenchSinkTask {
    fn start(&mut self, _config: Config, _context: TaskContext) -> ConnectResult<()> {
        log::info!(target: LOG_TARGET, "bench sink task started");
        Ok(())
    }

    fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        self.records += records.len() as u64;
        for record in records {
            self.bytes += match &record.record.value {
                Value::String(s) => s.len() as u64,
                Value::Bytes(b) => b.len() as u64,
                _ => 0,
            };
        }
        Ok(())
    }

    fn stop(&mut self) -> ConnectResult<()> {
        log::info!(
            target: LOG_TARGET,
            "bench sink task stopped after {} records, {} value bytes",
            self.records,
            self.bytes
        );
        Ok(())
    }
}
