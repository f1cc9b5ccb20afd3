//! `DatagenConnector`: checks the config, fixes the seed and hands each task its id.

use crate::{
    datagen_config_def, extra_problems, DatagenError, DatagenSettings, RANDOM_SEED_CONFIG,
    SEED_CONFIG, TASK_COUNT_CONFIG, TASK_ID_CONFIG,
};
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, PluginClass,
    SourceConnector,
};
use std::time::{SystemTime, UNIX_EPOCH};

/// Generates users, orders or pageviews records (see the [crate docs](crate)).
#[derive(Debug, Default)]
pub struct DatagenConnector {
    /// The config with the seed fixed, once started.
    config: Option<Config>,
}

impl PluginClass for DatagenConnector {
    const CLASS: &'static str = "io.kconnect.datagen.DatagenConnector";
    const DOC: &'static str =
        "Generates users, orders or pageviews records, like Confluent's datagen.";
}

impl Connector for DatagenConnector {
    fn config_def(&self) -> ConfigDef {
        datagen_config_def()
    }

    fn validate(&self, config: &Config) -> Vec<ConfigValue> {
        let mut values = datagen_config_def().validate(config);
        for (key, problem) in extra_problems(config) {
            if let Some(value) = values.iter_mut().find(|v| v.name == key) {
                value.errors.push(problem);
            }
        }
        values
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        let settings = DatagenSettings::parse(&config)?;
        // Tasks must agree on the seed, and a restarted task must keep it: fix it once here.
        let seed = settings.seed.unwrap_or_else(seed_from_clock);
        let mut config = config;
        config.remove(SEED_CONFIG);
        config.insert(RANDOM_SEED_CONFIG.to_string(), (seed as i64).to_string());
        log::info!(
            "datagen connector started: {} records to {} with seed {}",
            settings.quickstart.name(),
            settings.topic,
            seed as i64
        );
        self.config = Some(config);
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
        let config = self
            .config
            .as_ref()
            .ok_or(DatagenError::NotStarted("taskConfigs"))?;
        let count = max_tasks.clamp(1, i32::MAX as usize);
        Ok((0..count)
            .map(|id| {
                let mut task = config.clone();
                task.insert(TASK_ID_CONFIG.to_string(), id.to_string());
                task.insert(TASK_COUNT_CONFIG.to_string(), count.to_string());
                task
            })
            .collect())
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.config = None;
        Ok(())
    }
}

impl SourceConnector for DatagenConnector {
    type Task = crate::DatagenTask;
}

fn seed_from_clock() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    crate::rng::mix64(nanos as u64 ^ (nanos >> 64) as u64)
}
