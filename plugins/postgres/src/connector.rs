//! `PostgresConnector`: validates the config and hands it to its single task (a replication
//! slot has one reader, so there is never more than one task, as with Debezium).

use crate::config::{extra_problems, postgres_config_def, PostgresSettings};
use crate::PostgresError;
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, PluginClass,
    SourceConnector,
};

/// Streams the changes of a PostgreSQL database as Debezium's records (see the [crate docs](crate)).
#[derive(Debug, Default)]
pub struct PostgresConnector {
    config: Option<Config>,
}

impl PluginClass for PostgresConnector {
    const CLASS: &'static str = "io.kconnect.postgres.PostgresConnector";
    const ALIASES: &'static [&'static str] =
        &["io.debezium.connector.postgresql.PostgresConnector"];
    const DOC: &'static str =
        "PostgreSQL change data capture (pgoutput logical replication) with Debezium's records, topics and offsets.";
}

impl Connector for PostgresConnector {
    fn config_def(&self) -> ConfigDef {
        postgres_config_def()
    }

    fn validate(&self, config: &Config) -> Vec<ConfigValue> {
        let mut values = postgres_config_def().validate(config);
        for (key, problem) in extra_problems(config) {
            match values.iter_mut().find(|v| v.name == key) {
                Some(value) => value.errors.push(problem),
                None => values.push(ConfigValue {
                    name: key.clone(),
                    value: config.get(&key).cloned(),
                    recommended_values: Vec::new(),
                    errors: vec![problem],
                    visible: true,
                }),
            }
        }
        values
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        let settings = PostgresSettings::parse(&config)?;
        log::info!(
            "PostgreSQL connector {} for {}@{}:{}/{}",
            settings.topic_prefix,
            settings.user,
            settings.hostname,
            settings.port,
            settings.dbname
        );
        self.config = Some(config);
        Ok(())
    }

    fn task_configs(&mut self, _max_tasks: usize) -> ConnectResult<Vec<Config>> {
        let config = self
            .config
            .clone()
            .ok_or(PostgresError::NotStarted("taskConfigs"))?;
        Ok(vec![config])
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.config = None;
        Ok(())
    }
}

impl SourceConnector for PostgresConnector {
    type Task = crate::PostgresSourceTask;
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::testkit::config_from;

    #[test]
    fn validation_reports_unsupported_debezium_keys_as_their_own_entries() {
        let config = config_from([
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
            ("message.key.columns", "public.t:id"),
        ]);
        let values = PostgresConnector::default().validate(&config);
        let bad: Vec<&ConfigValue> = values.iter().filter(|v| !v.errors.is_empty()).collect();
        assert_eq!(bad.len(), 1, "{values:?}");
        assert_eq!(bad[0].name, "message.key.columns");
        assert!(bad[0].errors[0].contains("not supported"));
    }
}
