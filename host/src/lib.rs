//! # kconnect
//!
//! A Kafka Connect worker: Kafka's config files, REST API and connector model, with connectors
//! as native plugins loaded through a stable ABI. The binary (`main.rs`) is a thin CLI over this
//! library.
//!
//! - [`config`]: files in Kafka's formats, worker and connector settings.
//! - [`kafka`]: client settings, topic administration, the embedded broker.
//! - [`worker`]: task threads — a record's path through the worker, source and sink.
//! - [`herder`]: connector lifecycles, answering the REST API.
//! - [`standalone`]: wiring it all together for `kconnect standalone`.
//! - [`distributed`]: the same for `kconnect distributed`, a worker of a cluster.

pub mod config;
pub mod distributed;
pub mod error;
pub mod herder;
pub mod kafka;
pub mod logging;
pub mod standalone;
pub mod startup;
pub mod worker;

use kconnect_herder_api::entities::{ConfigKeyInfo, PluginInfo, PluginType};
use kconnect_herder_api::HerderError;
use kconnect_loader::PluginRegistry;
use kconnect_plugin_api::PluginKind;
use worker::WorkerContext;

fn plugin_type(kind: PluginKind) -> PluginType {
    match kind {
        PluginKind::Source => PluginType::Source,
        PluginKind::Sink => PluginType::Sink,
        PluginKind::Converter => PluginType::Converter,
        PluginKind::HeaderConverter => PluginType::HeaderConverter,
        PluginKind::Transformation => PluginType::Transformation,
        PluginKind::Predicate => PluginType::Predicate,
    }
}

/// `GET /connector-plugins`: plugin classes first, then the worker's built-ins.
pub fn plugins_listing(registry: &PluginRegistry, connectors_only: bool) -> Vec<PluginInfo> {
    let version = env!("CARGO_PKG_VERSION").to_string();
    let mut list: Vec<PluginInfo> = registry
        .classes()
        .iter()
        .filter(|c| !connectors_only || c.kind.is_connector())
        .map(|c| PluginInfo {
            class_name: c.class.clone(),
            plugin_type: plugin_type(c.kind),
            version: Some(c.version.clone()),
        })
        .collect();
    if !connectors_only {
        let builtins = kconnect_convert::builtin_classes()
            .into_iter()
            .map(|b| (b.class.to_string(), b.kind))
            .chain(
                kconnect_transforms::builtin_classes()
                    .into_iter()
                    .map(|b| (b.class.to_string(), b.kind)),
            );
        for (class, kind) in builtins {
            list.push(PluginInfo {
                class_name: class,
                plugin_type: plugin_type(kind),
                version: Some(version.clone()),
            });
        }
    }
    list.sort_by(|a, b| {
        a.class_name
            .cmp(&b.class_name)
            .then(a.version.cmp(&b.version))
    });
    list
}

/// `GET /connector-plugins/{p}/config`: the plugin's own definitions.
pub fn plugin_config(
    worker: &WorkerContext,
    plugin: &str,
) -> Result<Vec<ConfigKeyInfo>, HerderError> {
    let keys =
        |def: kconnect_plugin_api::ConfigDef| def.keys.iter().map(ConfigKeyInfo::from).collect();
    if let Some(def) = kconnect_convert::config_def(plugin) {
        return Ok(keys(def));
    }
    if let Some(b) = kconnect_transforms::builtin_classes()
        .into_iter()
        .find(|b| b.class == plugin || b.aliases.iter().any(|a| a == plugin))
    {
        return Ok(keys(b.config_def));
    }
    let all = [
        PluginKind::Source,
        PluginKind::Sink,
        PluginKind::Converter,
        PluginKind::HeaderConverter,
        PluginKind::Transformation,
        PluginKind::Predicate,
    ];
    let info = worker
        .registry
        .resolve(plugin, &all, None)
        .map_err(|e| HerderError::NotFound(format!("Unknown plugin {plugin}: {e}")))?;
    let def = match info.kind {
        PluginKind::Source | PluginKind::Sink => worker
            .registry
            .new_connector(&info)
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .config_def(),
        PluginKind::Converter | PluginKind::HeaderConverter => worker
            .registry
            .new_converter(&info)
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .config_def(),
        PluginKind::Transformation => worker
            .registry
            .new_transformation(&info)
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .config_def(),
        PluginKind::Predicate => worker
            .registry
            .new_predicate(&info)
            .map_err(|e| HerderError::Internal(e.to_string()))?
            .config_def(),
    }
    .map_err(|e| HerderError::Internal(e.to_string()))?;
    Ok(keys(def))
}
