//! `HttpSinkConnector` and its task.
//!
//! Invariant: `put` returns once every request of its batch has its final outcome, so offsets
//! the worker commits after it cover delivered (or, with `behavior.on.error=log|ignore`, given
//! up) records only. Nothing is buffered between calls.

use crate::config::{config_def, ErrorBehavior, HttpSinkConfig};
use crate::request::build_requests;
use crate::service::Service;
use crate::HttpSinkError;
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigValue, ConnectResult, Connector, ConnectorContext, PartitionOffset,
    PluginClass, SinkConnector, SinkRecord, SinkTask, TaskContext,
};
use std::sync::Arc;

#[derive(Default)]
pub struct HttpSinkConnector {
    config: Option<Config>,
}

impl PluginClass for HttpSinkConnector {
    const CLASS: &'static str = "io.kconnect.http.HttpSinkConnector";
    const ALIASES: &'static [&'static str] = &["io.confluent.connect.http.HttpSinkConnector"];
    const DOC: &'static str =
        "Sends records to an HTTP API (POST/PUT/PATCH), one per request or batched.";
}

impl Connector for HttpSinkConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn validate(&self, config: &Config) -> Vec<ConfigValue> {
        let mut values = config_def().validate(config);
        if values.iter().all(|v| v.errors.is_empty()) {
            if let Err(e) = HttpSinkConfig::parse(config) {
                let message = e.to_string();
                let index = values
                    .iter()
                    .position(|v| message.contains(&v.name))
                    .unwrap_or(0);
                values[index].errors.push(message);
            }
        }
        values
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        HttpSinkConfig::parse(&config)?;
        self.config = Some(config);
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
        let config = self
            .config
            .as_ref()
            .ok_or(HttpSinkError::NotStarted("taskConfigs"))?;
        Ok(vec![config.clone(); max_tasks])
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.config = None;
        Ok(())
    }
}

impl SinkConnector for HttpSinkConnector {
    type Task = HttpSinkTask;
}

#[derive(Default)]
pub struct HttpSinkTask {
    running: Option<(Arc<HttpSinkConfig>, Service)>,
}

impl SinkTask for HttpSinkTask {
    fn start(&mut self, config: Config, _context: TaskContext) -> ConnectResult<()> {
        let config = Arc::new(HttpSinkConfig::parse(&config)?);
        let service = Service::new(config.clone())?;
        self.running = Some((config, service));
        Ok(())
    }

    fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
        let (config, service) = self
            .running
            .as_ref()
            .ok_or(HttpSinkError::NotStarted("put"))?;
        let requests = build_requests(config, records)?;
        let outcomes = service.send_all(&requests);
        let mut first_error = None;
        for (request, outcome) in requests.iter().zip(outcomes) {
            let Err(failure) = outcome else { continue };
            let first = &records[request.records[0]];
            let error = HttpSinkError::Delivery(Box::new(crate::DeliveryFailure {
                url: request.url.clone(),
                topic: first.record.topic.to_string(),
                partition: first.kafka_partition(),
                offsets: request
                    .records
                    .iter()
                    .map(|&i| records[i].kafka_offset.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                status: failure
                    .status
                    .map_or_else(|| "no response".to_string(), |s| format!("status {s}")),
                attempts: failure.attempts,
                detail: failure.detail,
            }));
            match config.on_error {
                ErrorBehavior::Fail => {
                    first_error.get_or_insert(error);
                }
                ErrorBehavior::Log => log::error!("{error}; skipped (behavior.on.error=log)"),
                ErrorBehavior::Ignore => log::debug!("{error}; skipped (behavior.on.error=ignore)"),
            }
        }
        match first_error {
            Some(error) => Err(error.into()),
            None => Ok(()),
        }
    }

    fn flush(&mut self, _offsets: &[PartitionOffset]) -> ConnectResult<()> {
        Ok(()) // every put finished its requests
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
    fn every_key_is_documented_and_validation_names_the_key() {
        assert!(config_def().keys.iter().all(|k| k.documentation.len() > 20));
        let values = HttpSinkConnector::default().validate(&config_from([
            ("http.api.url", "http://h/"),
            ("auth.type", "BEARER"),
        ]));
        let failing: Vec<&str> = values
            .iter()
            .filter(|v| !v.errors.is_empty())
            .map(|v| v.name.as_str())
            .collect();
        assert_eq!(failing, ["auth.type"]);
    }

    #[test]
    fn a_missing_ca_file_fails_the_start() {
        let mut task = HttpSinkTask::default();
        let error = task
            .start(
                config_from([
                    ("http.api.url", "https://h/"),
                    ("tls.ca.file", "/nonexistent/ca.pem"),
                ]),
                kconnect_plugin_api::context::DetachedContext::task_context(),
            )
            .unwrap_err();
        assert!(
            error
                .message
                .starts_with("tls.ca.file /nonexistent/ca.pem:"),
            "{}",
            error.message
        );
    }
}
