//! A connector's transformation chain: built-in transforms and predicates, and plugin-provided
//! ones seen through the built-in traits so a chain can mix both.

use kconnect_loader::{PluginRegistry, PredicateHandle, TransformationHandle};
use kconnect_plugin_api::{ConnectRecord, PluginKind};
use kconnect_transforms::{
    ExternalResolver, Predicate, TransformError, TransformResult, Transformation, Verdict,
};
use std::collections::BTreeMap;

use super::WorkerContext;
use crate::config::Properties;
use crate::error::{Result, WorkerError};
use kconnect_transforms::TransformChain;

/// The transformation chain of a connector config, with plugin-provided classes resolved.
pub fn transforms_for(worker: &WorkerContext, config: &Properties) -> Result<TransformChain> {
    let resolver = PluginResolver {
        registry: &worker.registry,
    };
    TransformChain::from_connector_config(config, &resolver)
        .map_err(|e| WorkerError::key("transforms", e.to_string()))
}

pub struct PluginResolver<'a> {
    pub registry: &'a PluginRegistry,
}

struct PluginTransformation(TransformationHandle);
struct PluginPredicate(PredicateHandle);

impl Transformation for PluginTransformation {
    /// The plugin ABI takes and gives back records by value (it is frozen): the record is moved
    /// out and back.
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let applied = self
            .0
            .apply(std::mem::take(record))
            .map_err(|e| TransformError::data(e.message.to_string()))?;
        Ok(match applied {
            Some(changed) => {
                *record = changed;
                Verdict::Keep
            }
            None => Verdict::Discard,
        })
    }
}

impl Predicate for PluginPredicate {
    fn test(&mut self, record: &ConnectRecord) -> Result<bool, TransformError> {
        self.0
            .test(record)
            .map_err(|e| TransformError::data(e.message.to_string()))
    }
}

impl ExternalResolver for PluginResolver<'_> {
    fn transformation(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Option<Result<Box<dyn Transformation>, TransformError>> {
        let info = self
            .registry
            .resolve(class, &[PluginKind::Transformation], None)
            .ok()?;
        Some((|| {
            let mut handle = self
                .registry
                .new_transformation(&info)
                .map_err(|e| TransformError::config_general(e.to_string()))?;
            handle
                .configure(config)
                .map_err(|e| TransformError::config_general(e.message.to_string()))?;
            Ok(Box::new(PluginTransformation(handle)) as Box<dyn Transformation>)
        })())
    }

    fn predicate(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Option<Result<Box<dyn Predicate>, TransformError>> {
        let info = self
            .registry
            .resolve(class, &[PluginKind::Predicate], None)
            .ok()?;
        Some((|| {
            let mut handle = self
                .registry
                .new_predicate(&info)
                .map_err(|e| TransformError::config_general(e.to_string()))?;
            handle
                .configure(config)
                .map_err(|e| TransformError::config_general(e.message.to_string()))?;
            Ok(Box::new(PluginPredicate(handle)) as Box<dyn Predicate>)
        })())
    }
}
