//! The misbehaving source connector and its task.
//!
//! The task emits STRING values `"<task.id>-<n>"` with source partition `{"task": task.id}` and
//! source offset `{"n": n}`, n counting from 0, and resumes after the offset the worker stored.

use crate::misbehaviour::{
    millis, misbehaviour_config_def, parse_config, Misbehaviour, Stage, STOP_DELAY_MS, TASK_ID,
};
use crate::LOG_TARGET;
use kconnect_plugin_api::abi_stable::std_types::{ROption, RString};
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConfigValue, ConnectError, ConnectRecord,
    ConnectResult, ConnectorContext, PluginClass, Schema, SchemaRef, SchemaType, SourceConnector,
    SourceMap, SourceRecord, SourceTask, TaskContext, Validator, Value,
};
use std::time::Duration;

pub const TOPIC: &str = "topic";
pub const RECORDS_PER_POLL: &str = "records.per.poll";
pub const POLL_INTERVAL_MS: &str = "poll.interval.ms";
pub const MAX_RECORDS: &str = "max.records";

/// The key of the source partition map.
pub const PARTITION_KEY: &str = "task";
/// The key of the source offset map.
pub const OFFSET_KEY: &str = "n";

fn source_config_def() -> ConfigDef {
    misbehaviour_config_def(&Stage::source_stages())
        .define(ConfigKey::optional(
            TOPIC,
            ConfigType::String,
            "testing",
            "The topic records are written to.",
        ))
        .define(
            ConfigKey::optional(RECORDS_PER_POLL, ConfigType::Int, "1", "Records per poll.")
                .validator(Validator::Range {
                    min: Some(0.0),
                    max: None,
                }),
        )
        .define(ConfigKey::optional(
            POLL_INTERVAL_MS,
            ConfigType::Long,
            "0",
            "How long each poll sleeps before returning.",
        ))
        .define(ConfigKey::optional(
            MAX_RECORDS,
            ConfigType::Long,
            "-1",
            "Records each task emits in all before returning empty batches; negative for no limit.",
        ))
}

/// What both misbehaving connectors do; `name` says which one in messages.
#[derive(Debug, Default)]
pub(crate) struct ConnectorCore {
    config: Option<Config>,
    misbehaviour: Misbehaviour,
}

impl ConnectorCore {
    pub(crate) fn validate(&self, def: ConfigDef, config: &Config, name: &str) -> Vec<ConfigValue> {
        let misbehaviour = Misbehaviour::from_config(config).unwrap_or_default();
        if misbehaviour.panics_at(Stage::ConnectorValidate) {
            panic!("{name} panicked in connector.validate as configured");
        }
        let mut values = def.validate(config);
        let wants_error = config
            .get(crate::misbehaviour::VALIDATE_ERROR)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        if wants_error {
            if let Some(value) = values
                .iter_mut()
                .find(|v| v.name == crate::misbehaviour::PANIC_ON)
            {
                value.errors.push(format!(
                    "{name} reports an error as configured by validate.error"
                ));
            }
        }
        values
    }

    pub(crate) fn start(
        &mut self,
        def: ConfigDef,
        config: Config,
        name: &str,
    ) -> ConnectResult<()> {
        self.misbehaviour = Misbehaviour::from_config(&config)?;
        self.misbehaviour.at(Stage::ConnectorStart, name)?;
        parse_config(&def, &config)?;
        log::info!(target: LOG_TARGET, "{name} started");
        self.config = Some(config);
        Ok(())
    }

    pub(crate) fn task_configs(
        &mut self,
        max_tasks: usize,
        name: &str,
    ) -> ConnectResult<Vec<Config>> {
        self.misbehaviour.at(Stage::ConnectorTaskConfigs, name)?;
        let config = self
            .config
            .as_ref()
            .ok_or_else(|| ConnectError::failed(format!("{name} was not started")))?;
        log::debug!(target: LOG_TARGET, "{name} creating {max_tasks} task configs");
        Ok((0..max_tasks)
            .map(|id| {
                let mut task = config.clone();
                task.insert(TASK_ID.to_string(), id.to_string());
                task
            })
            .collect())
    }

    pub(crate) fn stop(&mut self, name: &str) -> ConnectResult<()> {
        self.misbehaviour.at(Stage::ConnectorStop, name)?;
        log::info!(target: LOG_TARGET, "{name} stopped");
        Ok(())
    }
}

/// A source connector that misbehaves on demand (see [`crate::misbehaviour`]).
#[derive(Debug, Default)]
pub struct MisbehavingSourceConnector {
    core: ConnectorCore,
}

impl PluginClass for MisbehavingSourceConnector {
    const CLASS: &'static str = "kconnect.testing.MisbehavingSourceConnector";
    const DOC: &'static str = "Emits numbered records; panics, fails or blocks where told to.";
}

const SOURCE_CONNECTOR: &str = "testing source connector";

impl kconnect_plugin_api::Connector for MisbehavingSourceConnector {
    fn config_def(&self) -> ConfigDef {
        source_config_def()
    }

    fn validate(&self, config: &Config) -> Vec<ConfigValue> {
        self.core
            .validate(source_config_def(), config, SOURCE_CONNECTOR)
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        self.core
            .start(source_config_def(), config, SOURCE_CONNECTOR)
    }

    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
        self.core.task_configs(max_tasks, SOURCE_CONNECTOR)
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.core.stop(SOURCE_CONNECTOR)
    }
}

impl SourceConnector for MisbehavingSourceConnector {
    type Task = MisbehavingSourceTask;
}

#[derive(Debug)]
struct SourceState {
    task_id: String,
    topic: RString,
    schema: SchemaRef,
    partition: SourceMap,
    records_per_poll: usize,
    poll_interval: Duration,
    stop_delay: Duration,
    /// Records left to emit; `None` for no limit.
    remaining: Option<u64>,
    next: i64,
    acknowledged: u64,
}

/// The task of [`MisbehavingSourceConnector`].
#[derive(Debug, Default)]
pub struct MisbehavingSourceTask {
    misbehaviour: Misbehaviour,
    state: Option<SourceState>,
}

impl MisbehavingSourceTask {
    fn who(&self) -> String {
        match &self.state {
            Some(state) => format!("testing source task {}", state.task_id),
            None => "testing source task".to_string(),
        }
    }

    fn state(&mut self) -> ConnectResult<&mut SourceState> {
        self.state
            .as_mut()
            .ok_or_else(|| ConnectError::failed("testing source task was not started"))
    }
}

impl SourceTask for MisbehavingSourceTask {
    // Asked for so that the worker's per-record acknowledgement path has a plugin to exercise.
    const WANTS_COMMIT_RECORD: bool = true;

    fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()> {
        self.misbehaviour = Misbehaviour::from_config(&config)?;
        let parsed = parse_config(&source_config_def(), &config)?;
        let task_id = parsed.string(TASK_ID).to_string();
        let partition = SourceMap::new().with(PARTITION_KEY, task_id.as_str());
        let next = context
            .offset(&partition)
            .and_then(|offset| offset.get(OFFSET_KEY).and_then(Value::as_i64))
            .map_or(0, |n| n + 1);
        let max_records = parsed.int(MAX_RECORDS);
        self.state = Some(SourceState {
            task_id,
            topic: parsed.string(TOPIC).into(),
            schema: SchemaRef::new(Schema::primitive(SchemaType::String)),
            partition,
            records_per_poll: parsed.int(RECORDS_PER_POLL).max(0) as usize,
            poll_interval: millis(parsed.int(POLL_INTERVAL_MS)),
            stop_delay: millis(parsed.int(STOP_DELAY_MS)),
            remaining: u64::try_from(max_records).ok(),
            next,
            acknowledged: 0,
        });
        let who = self.who();
        self.misbehaviour.at(Stage::Start, &who)?;
        log::info!(target: LOG_TARGET, "testing source task started ({who}, next n = {next})");
        Ok(())
    }

    fn poll(&mut self, _timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
        let who = self.who();
        self.misbehaviour.at(Stage::Poll, &who)?;
        let state = self.state()?;
        if !state.poll_interval.is_zero() {
            std::thread::sleep(state.poll_interval);
        }
        let count = match state.remaining {
            Some(remaining) => (state.records_per_poll as u64).min(remaining) as usize,
            None => state.records_per_poll,
        };
        if let Some(remaining) = state.remaining.as_mut() {
            *remaining -= count as u64;
        }
        let mut records = Vec::with_capacity(count);
        for _ in 0..count {
            let n = state.next;
            state.next += 1;
            records.push(SourceRecord {
                source_partition: state.partition.clone(),
                source_offset: SourceMap::new().with(OFFSET_KEY, Value::Int64(n)),
                record: ConnectRecord {
                    topic: state.topic.clone(),
                    value_schema: ROption::RSome(state.schema.clone()),
                    value: Value::String(format!("{}-{n}", state.task_id).into()),
                    ..ConnectRecord::default()
                },
            });
        }
        log::trace!(target: LOG_TARGET, "{who} polled {count} records");
        Ok(records)
    }

    fn commit(&mut self) -> ConnectResult<()> {
        let who = self.who();
        self.misbehaviour.at(Stage::Commit, &who)?;
        log::debug!(target: LOG_TARGET, "{who} committed");
        Ok(())
    }

    fn commit_record(&mut self, _record: &SourceRecord) -> ConnectResult<()> {
        let who = self.who();
        self.misbehaviour.at(Stage::CommitRecord, &who)?;
        self.state()?.acknowledged += 1;
        Ok(())
    }

    fn stop(&mut self) -> ConnectResult<()> {
        let who = self.who();
        self.misbehaviour.at(Stage::Stop, &who)?;
        if let Some(state) = &self.state {
            if !state.stop_delay.is_zero() {
                std::thread::sleep(state.stop_delay);
            }
            log::info!(
                target: LOG_TARGET,
                "{who} stopped at n = {} after {} acknowledged records",
                state.next,
                state.acknowledged
            );
        }
        Ok(())
    }
}
