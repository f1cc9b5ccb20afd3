//! Misbehaviour on demand, shared by the misbehaving connectors and tasks.
//!
//! Three settings name the stages at which a class misbehaves (comma-separated lists):
//! - `panic.on`: the call panics (the ABI glue turns that into an `ErrorKind::Panic` error),
//! - `fail.on`: the call returns a `ConnectError` (retriable when `fail.retriable=true`, and only
//!   for the first `fail.times` calls when that is not negative),
//! - `block.on`: the call never returns; it sleeps in a loop until the process exits.
//!
//! Stage names: `connector.validate`, `connector.start`, `connector.task_configs`,
//! `connector.stop` for connectors; `start`, `poll`, `commit`, `commit_record`, `stop` for source
//! tasks; `start`, `open`, `put`, `flush`, `close`, `stop` for sink tasks; `none` for nothing.

use crate::LOG_TARGET;
use kconnect_plugin_api::config::parse_list;
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectResult, Validator,
};
use std::fmt;
use std::time::Duration;

pub const PANIC_ON: &str = "panic.on";
pub const FAIL_ON: &str = "fail.on";
pub const BLOCK_ON: &str = "block.on";
pub const FAIL_RETRIABLE: &str = "fail.retriable";
pub const FAIL_TIMES: &str = "fail.times";
pub const VALIDATE_ERROR: &str = "validate.error";
pub const TASK_ID: &str = "task.id";
pub const STOP_DELAY_MS: &str = "stop.delay.ms";

/// A point in a connector's or task's life where it can be told to misbehave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    ConnectorValidate,
    ConnectorStart,
    ConnectorTaskConfigs,
    ConnectorStop,
    Start,
    Poll,
    Commit,
    CommitRecord,
    Open,
    Put,
    Flush,
    Close,
    Stop,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::ConnectorValidate => "connector.validate",
            Stage::ConnectorStart => "connector.start",
            Stage::ConnectorTaskConfigs => "connector.task_configs",
            Stage::ConnectorStop => "connector.stop",
            Stage::Start => "start",
            Stage::Poll => "poll",
            Stage::Commit => "commit",
            Stage::CommitRecord => "commit_record",
            Stage::Open => "open",
            Stage::Put => "put",
            Stage::Flush => "flush",
            Stage::Close => "close",
            Stage::Stop => "stop",
        }
    }

    const CONNECTOR: [Stage; 4] = [
        Stage::ConnectorValidate,
        Stage::ConnectorStart,
        Stage::ConnectorTaskConfigs,
        Stage::ConnectorStop,
    ];

    /// Stages a source connector and its tasks go through.
    pub fn source_stages() -> Vec<Stage> {
        let mut stages = Stage::CONNECTOR.to_vec();
        stages.extend([
            Stage::Start,
            Stage::Poll,
            Stage::Commit,
            Stage::CommitRecord,
            Stage::Stop,
        ]);
        stages
    }

    /// Stages a sink connector and its tasks go through.
    pub fn sink_stages() -> Vec<Stage> {
        let mut stages = Stage::CONNECTOR.to_vec();
        stages.extend([
            Stage::Start,
            Stage::Open,
            Stage::Put,
            Stage::Flush,
            Stage::Close,
            Stage::Stop,
        ]);
        stages
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The settings shared by the misbehaving classes, for the given stages.
pub fn misbehaviour_config_def(stages: &[Stage]) -> ConfigDef {
    let mut allowed: Vec<String> = stages.iter().map(|s| s.name().to_string()).collect();
    allowed.push("none".to_string());
    let list = |name: &str, doc: &str| {
        ConfigKey::optional(name, ConfigType::List, "none", doc).validator(Validator::ValidList {
            values: allowed.clone(),
        })
    };
    ConfigDef::new()
        .define(list(PANIC_ON, "Stages at which the call panics."))
        .define(list(FAIL_ON, "Stages at which the call returns an error."))
        .define(list(BLOCK_ON, "Stages at which the call never returns."))
        .define(ConfigKey::optional(
            FAIL_RETRIABLE,
            ConfigType::Boolean,
            "false",
            "Whether the errors of fail.on are retriable.",
        ))
        .define(ConfigKey::optional(
            FAIL_TIMES,
            ConfigType::Long,
            "-1",
            "How many calls fail before the stage works again; negative for always.",
        ))
        .define(ConfigKey::optional(
            VALIDATE_ERROR,
            ConfigType::Boolean,
            "false",
            "Whether validate reports an error on panic.on.",
        ))
        .define(ConfigKey::optional(
            STOP_DELAY_MS,
            ConfigType::Long,
            "0",
            "How long stop takes.",
        ))
        .define(ConfigKey::optional(
            TASK_ID,
            ConfigType::String,
            "0",
            "The task's id, set by the connector.",
        ))
}

/// What a class was told to do wrong, and when.
#[derive(Debug, Clone, Default)]
pub struct Misbehaviour {
    panic_on: Vec<String>,
    fail_on: Vec<String>,
    block_on: Vec<String>,
    fail_retriable: bool,
    fail_times: i64,
    failures: i64,
}

impl Misbehaviour {
    /// Reads the misbehaviour settings; unknown stage names are left to `validate` to report.
    pub fn from_config(config: &Config) -> ConnectResult<Misbehaviour> {
        let list = |key: &str| {
            config
                .get(key)
                .map(|raw| parse_list(raw))
                .unwrap_or_default()
        };
        let fail_times = match config.get(FAIL_TIMES) {
            Some(raw) => raw.trim().parse::<i64>().map_err(|_| {
                ConnectError::config(format!(
                    "Invalid value {raw} for configuration {FAIL_TIMES}: Not a number of type LONG"
                ))
            })?,
            None => -1,
        };
        Ok(Misbehaviour {
            panic_on: list(PANIC_ON),
            fail_on: list(FAIL_ON),
            block_on: list(BLOCK_ON),
            fail_retriable: config
                .get(FAIL_RETRIABLE)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            fail_times,
            failures: 0,
        })
    }

    fn names(list: &[String], stage: Stage) -> bool {
        list.iter().any(|s| s == stage.name())
    }

    /// Whether `stage` is told to panic (for calls that cannot return an error).
    pub fn panics_at(&self, stage: Stage) -> bool {
        Misbehaviour::names(&self.panic_on, stage)
    }

    /// Misbehaves at `stage` if told to: panics, returns an error, or blocks forever.
    pub fn at(&mut self, stage: Stage, who: &str) -> ConnectResult<()> {
        if self.panics_at(stage) {
            log::error!(target: LOG_TARGET, "{who} panicking in {stage} as configured");
            panic!("{who} panicked in {stage} as configured by {PANIC_ON}");
        }
        if Misbehaviour::names(&self.fail_on, stage)
            && (self.fail_times < 0 || self.failures < self.fail_times)
        {
            self.failures += 1;
            let message = format!("{who} failed in {stage} as configured by {FAIL_ON}");
            log::warn!(target: LOG_TARGET, "{message}");
            return Err(if self.fail_retriable {
                ConnectError::retriable(message)
            } else {
                ConnectError::failed(message)
            });
        }
        if Misbehaviour::names(&self.block_on, stage) {
            log::warn!(target: LOG_TARGET, "{who} blocking in {stage} as configured");
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        Ok(())
    }
}

/// Parses a config against `def`, as a config error naming the bad key.
pub fn parse_config(
    def: &ConfigDef,
    config: &Config,
) -> ConnectResult<kconnect_plugin_api::config::ParsedConfig> {
    def.parse(config).map_err(ConnectError::config)
}

/// A non-negative millisecond setting as a duration.
pub fn millis(value: i64) -> Duration {
    Duration::from_millis(value.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::ErrorKind;

    fn config(pairs: &[(&str, &str)]) -> Config {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fail_on_fails_only_the_configured_number_of_times() {
        let mut m = Misbehaviour::from_config(&config(&[
            (FAIL_ON, "poll, stop"),
            (FAIL_TIMES, "2"),
            (FAIL_RETRIABLE, "true"),
        ]))
        .unwrap();
        assert!(m.at(Stage::Start, "task").is_ok());
        let error = m.at(Stage::Poll, "task").unwrap_err();
        assert_eq!(error.kind, ErrorKind::Retriable);
        assert!(error.message.contains("poll"), "{}", error.message);
        assert!(m.at(Stage::Stop, "task").is_err());
        assert!(m.at(Stage::Poll, "task").is_ok());
    }

    #[test]
    fn panic_on_panics_with_the_stage_name() {
        let mut m = Misbehaviour::from_config(&config(&[(PANIC_ON, "commit")])).unwrap();
        let payload = std::panic::catch_unwind(move || m.at(Stage::Commit, "task")).unwrap_err();
        let text = payload.downcast_ref::<String>().unwrap();
        assert!(text.contains("commit"), "{text}");
    }

    #[test]
    fn unknown_stage_names_are_validation_errors() {
        let def = misbehaviour_config_def(&Stage::source_stages());
        let values = def.validate(&config(&[(PANIC_ON, "pol")]));
        let panic_on = values.iter().find(|v| v.name == PANIC_ON).unwrap();
        assert_eq!(panic_on.errors.len(), 1);
        assert!(panic_on.errors[0].contains("pol"));
    }
}
