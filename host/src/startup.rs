//! Startup steps `kconnect standalone` and `kconnect distributed` share: reaching the broker,
//! the REST settings, loading plugins.

use crate::config::{Properties, WorkerConfig};
use crate::error::{Result, WorkerError};
use crate::kafka::embedded::EMBEDDED_LIMITS;
use crate::kafka::{ClientSettings, EmbeddedBroker, TopicAdmin};
use crate::worker::WorkerContext;
use kconnect_loader::{PluginWatcher, DEFAULT_WATCH_INTERVAL};
use kconnect_rest::RestConfig;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The Kafka side of a worker: client settings, topic administration and, with
/// `bootstrap.servers=embedded`, the in-process broker (kept alive as long as this is).
pub struct Connections {
    pub clients: ClientSettings,
    pub admin: TopicAdmin,
    pub embedded: Option<Arc<EmbeddedBroker>>,
}

pub fn connect(config: &WorkerConfig) -> Result<Connections> {
    let (embedded, bootstrap) = if config.embedded_broker() {
        let broker = Arc::new(EmbeddedBroker::start()?);
        log::warn!("{EMBEDDED_LIMITS}");
        log::info!(
            "embedded broker listening on {}",
            broker.bootstrap_servers()
        );
        let bootstrap = broker.bootstrap_servers().to_string();
        (Some(broker), bootstrap)
    } else {
        (None, config.bootstrap_servers.clone())
    };
    let clients = ClientSettings::new(config, &bootstrap);
    let admin = match &embedded {
        Some(broker) => TopicAdmin::Embedded(broker.clone()),
        None => TopicAdmin::kafka(&clients.admin(&Properties::new())?)?,
    };
    Ok(Connections {
        clients,
        admin,
        embedded,
    })
}

/// The REST listener's settings from the worker's keys.
pub fn rest_config(config: &WorkerConfig) -> RestConfig {
    let advertised_url = config.rest_advertised_host_name.as_ref().map(|host| {
        let scheme = config
            .rest_advertised_listener
            .clone()
            .unwrap_or_else(|| "http".to_string());
        let port = config.rest_advertised_port.unwrap_or(8083);
        format!("{scheme}://{host}:{port}/")
    });
    RestConfig {
        listeners: config.listeners.clone(),
        max_body_bytes: config.max_request_body_bytes,
        advertised_url,
        security: config.rest_security.clone(),
        ui_enabled: config.rest_ui_enable,
        ..RestConfig::default()
    }
}

/// Loads every plugin of `plugin.path` (off the async threads) and, with `plugin.path.watch`,
/// starts watching the folders for new ones.
pub async fn load_plugins(worker: &Arc<WorkerContext>) -> Result<Option<PluginWatcher>> {
    let scanning = worker.registry.clone();
    tokio::task::spawn_blocking(move || scanning.initial_scan())
        .await
        .map_err(|source| WorkerError::Job {
            what: "plugin loading",
            source,
        })?;
    log::info!(
        "loaded {} plugin class(es) from {} folder(s); {} file(s) rejected",
        worker.registry.classes().len(),
        worker.config.plugin_path.len(),
        worker.registry.failures().len()
    );
    worker
        .metrics
        .plugin_load_failures
        .store(worker.registry.failures().len() as u64, Ordering::Relaxed);
    if !worker.config.plugin_path_watch {
        return Ok(None);
    }
    let metrics = worker.metrics.clone();
    PluginWatcher::start(
        worker.registry.clone(),
        DEFAULT_WATCH_INTERVAL,
        move |report| {
            metrics
                .plugin_load_failures
                .fetch_add(report.refused.len() as u64, Ordering::Relaxed);
        },
    )
    .map(Some)
    .map_err(|e| WorkerError::thread("the plugin.path watcher", e))
}

/// Asks the broker for its cluster id in the background (`GET /` shows it once known).
pub fn fetch_cluster_id(admin: TopicAdmin, set: impl FnOnce(String) + Send + 'static) {
    std::thread::spawn(move || {
        if let Some(id) = admin.cluster_id() {
            set(id);
        }
    });
}
