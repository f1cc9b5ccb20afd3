//! The misbehaving sink connector and its task.
//!
//! The task appends each value it receives as one line to `file` (when set) and flushes after
//! every `put`, so a test can count what arrived while the task is still running.

use crate::misbehaviour::{
    millis, misbehaviour_config_def, parse_config, Misbehaviour, Stage, STOP_DELAY_MS, TASK_ID,
};
use crate::source::ConnectorCore;
use crate::LOG_TARGET;
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConfigValue, ConnectError, ConnectResult,
    ConnectorContext, PartitionOffset, PluginClass, SinkConnector, SinkRecord, SinkTask,
    TaskContext, TopicPartition,
};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::time::Duration;

pub const FILE: &str = "file";

fn sink_config_def() -> ConfigDef {
    misbehaviour_config_def(&Stage::sink_stages()).define(ConfigKey::optional(
        FILE,
        ConfigType::String,
        "",
        "A file each received value is appended to, one per line; empty for none.",
    ))
}

/// A sink connector that misbehaves on demand (see [`crate::misbehaviour`]).
#[derive(Debug, Default)]
pub struct MisbehavingSinkConnector {
    core: ConnectorCore,
}

impl PluginClass for MisbehavingSinkConnector {
    const CLASS: &'static str = "kconnect.testing.MisbehavingSinkConnector";
    const DOC: &'static str = "Appends values to a file; panics, fails or blocks where told to.";
}

const SINK_CONNECTOR: &str = "testing sink connector";

impl kconnect_plugin_api::Connector for MisbehavingSinkConnector {
    fn config_def(&self) -> ConfigDef {
        sink_config_def()
    }

    fn validate(&self, config: &Config) -> Vec<ConfigValue> {
        self.core
            .validate(sink_config_def(), config, SINK_CONNECTOR)
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        self.core.start(sink_config_def(), config, SINK_CONNECTOR)
    }

    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
        self.core.task_configs(max_tasks, SINK_CONNECTOR)
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.core.stop(SINK_CONNECTOR)
    }
}

impl SinkConnector for MisbehavingSinkConnector {
    type Task = MisbehavingSinkTask;
}

/// The task of [`MisbehavingSinkConnector`].
#[derive(Debug, Default)]
pub struct MisbehavingSinkTask {
    misbehaviour: Misbehaviour,
    who: String,
    file: Option<File>,
    stop_delay: Duration,
    received: u64,
}

impl SinkTask for MisbehavingSinkTask {
    fn start(&mut self, config: Config, _context: TaskContext) -> ConnectResult<()> {
        self.who = format!(
            "testing sink task {}",
            config.get(TASK_ID).map_or("0", String::as_str)
        );
        self.misbehaviour = Misbehaviour::from_config(&config)?;
        let parsed = parse_config(&sink_config_def(), &config)?;
        self.stop_delay = millis(parsed.int(STOP_DELAY_MS));
        self.misbehaviour.at(Stage::Start, &self.who)?;
        if let Some(path) = parsed.non_empty_string(FILE) {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| ConnectError::failed(format!("cannot open {path}: {e}")))?;
            self.file = Some(file);
        }
        log::info!(target: LOG_TARGET, "testing sink task started ({})", self.who);
        Ok(())
    }

    fn open(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
        self.misbehaviour.at(Stage::Open, &self.who)?;
        log::debug!(target: LOG_TARGET, "{} opened {} partitions", self.who, partitions.len());
        Ok(())
    }

    fn close(&mut self, partitions: &[TopicPartition]) -> ConnectResult<()> {
        self.misbehaviour.at(Stage::Close, &self.who)?;
        log::debug!(target: LOG_TARGET, "{} closed {} partitions", self.who, partitions.len());
        Ok(())
    }

    fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        self.misbehaviour.at(Stage::Put, &self.who)?;
        if let Some(file) = self.file.as_mut() {
            let mut lines = String::new();
            for record in records {
                lines.push_str(&record.record.value.to_string());
                lines.push('\n');
            }
            file.write_all(lines.as_bytes())?;
            file.flush()?;
        }
        self.received += records.len() as u64;
        log::trace!(target: LOG_TARGET, "{} received {} records", self.who, records.len());
        Ok(())
    }

    fn flush(&mut self, _offsets: &[PartitionOffset]) -> ConnectResult<()> {
        self.misbehaviour.at(Stage::Flush, &self.who)?;
        if let Some(file) = self.file.as_mut() {
            file.sync_data()?;
        }
        Ok(())
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.misbehaviour.at(Stage::Stop, &self.who)?;
        if !self.stop_delay.is_zero() {
            std::thread::sleep(self.stop_delay);
        }
        log::info!(
            target: LOG_TARGET,
            "{} stopped after {} records",
            self.who,
            self.received
        );
        Ok(())
    }
}
