//! The herder: what runs where. It owns connectors' lifecycles and answers the REST API.
//!
//! - [`standalone`]: one worker, connectors from files and REST, state beside the offset file.
//! - [`distributed`]: a cluster of workers sharing connectors and tasks through Kafka topics.
//! - [`runtime`]: starting and stopping connector instances and task threads, for both.
//! - [`validation`]: config checks shared by create, update and `config/validate`.
//! - [`readiness`]: whether startup has finished, which REST requests wait for.

pub mod answers;
pub mod distributed;
pub mod readiness;
pub mod resolver;
pub mod runtime;
pub mod sink_offsets;
pub mod standalone;
pub mod validation;

use crate::config::Properties;
use crate::error::{Result, WorkerError};
use crate::logging::{level_name, parse_level, WorkerLogger};
use crate::worker::WorkerContext;
use kconnect_rest::entities::LoggerLevel;
use kconnect_rest::{HerderError, LogControl};
use kconnect_transforms::TransformChain;
use std::collections::BTreeMap;

/// The transformation chain of a connector config, with plugin-provided classes resolved.
pub fn transforms_for(worker: &WorkerContext, config: &Properties) -> Result<TransformChain> {
    let resolver = resolver::PluginResolver {
        registry: &worker.registry,
    };
    TransformChain::from_connector_config(config, &resolver)
        .map_err(|e| WorkerError::key("transforms", e.to_string()))
}

/// `/admin/loggers` on top of the worker's logger.
pub struct LoggerControl;

impl LogControl for LoggerControl {
    fn loggers(&self) -> BTreeMap<String, LoggerLevel> {
        WorkerLogger::get()
            .map(|l| {
                l.loggers()
                    .into_iter()
                    .map(|(name, s)| {
                        (
                            name,
                            LoggerLevel {
                                level: level_name(s.level).to_string(),
                                last_modified: s.last_modified,
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn logger(&self, name: &str) -> Option<LoggerLevel> {
        let s = WorkerLogger::get()?.effective(name);
        Some(LoggerLevel {
            level: level_name(s.level).to_string(),
            last_modified: s.last_modified,
        })
    }

    fn set_level(&self, name: &str, level: &str) -> Result<Vec<String>, HerderError> {
        let level = parse_level(level)
            .ok_or_else(|| HerderError::BadRequest(format!("Invalid log level '{level}'.")))?;
        let logger = WorkerLogger::get()
            .ok_or_else(|| HerderError::Internal("no logger installed".into()))?;
        Ok(logger.set_level(name, level))
    }
}
