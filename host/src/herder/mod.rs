//! The herder: what runs where. It owns connectors' lifecycles and answers the REST API.
//!
//! - [`standalone`]: one worker, connectors from files and REST, state beside the offset file.
//! - [`validation`]: config checks shared by create, update and `config/validate`.

pub mod resolver;
pub mod sink_offsets;
pub mod standalone;
pub mod validation;

use crate::config::Properties;
use crate::error::{Result, WorkerError};
use crate::worker::WorkerContext;
use kconnect_transforms::TransformChain;

/// The transformation chain of a connector config, with plugin-provided classes resolved.
pub fn transforms_for(worker: &WorkerContext, config: &Properties) -> Result<TransformChain> {
    let resolver = resolver::PluginResolver {
        registry: &worker.registry,
    };
    TransformChain::from_connector_config(config, &resolver)
        .map_err(|e| WorkerError::key("transforms", e.to_string()))
}
