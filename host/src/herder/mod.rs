//! The herder: what runs where. It owns connectors' lifecycles and answers the REST API.
//!
//! - [`standalone`]: one worker, connectors from files and REST, state beside the offset file.
//! - [`distributed`]: a cluster of workers sharing connectors and tasks through Kafka topics.
//! - [`core`]: what both answer the same way (health, plugins, validation for a write, PATCH
//!   merge, restart plan, offsets bodies, Kafka's messages).
//! - [`runtime`]: starting and stopping connector instances and task threads, for both.
//! - [`validation`]: config checks shared by create, update and `config/validate`.
//! - [`history`]: each connector's config versions, for the console's history and rollback.
//! - [`preview`]: a dry run of a config's converters and transformations on sample records.
//! - [`readiness`]: whether startup has finished, which REST requests wait for.
//! - [`restart_backoff`]: when a FAILED task restarts by itself (`errors.task.restart.enable`).

pub mod core;
pub mod distributed;
pub mod enrich;
pub mod history;
pub mod preview;
pub mod readiness;
pub mod restart_backoff;
pub mod runtime;
pub mod sink_offsets;
pub mod standalone;
pub mod validation;

use crate::logging::{level_name, parse_level, WorkerLogger};
use kconnect_herder_api::entities::LoggerLevel;
use kconnect_herder_api::{HerderError, LogControl};
use std::collections::BTreeMap;

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
            .ok_or_else(|| HerderError::Invalid(format!("Invalid log level '{level}'.")))?;
        let logger = WorkerLogger::get()
            .ok_or_else(|| HerderError::Internal("no logger installed".into()))?;
        Ok(logger.set_level(name, level))
    }
}
