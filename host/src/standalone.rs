//! `kconnect standalone`: one worker, offsets in a file, connectors from files and REST.
//!
//! Startup order: read and check every config file (a bad one stops startup before anything is
//! written) → load plugins → broker (embedded or real) → offset store → REST → connectors →
//! ready. Shutdown on SIGTERM/SIGINT stops tasks within `task.shutdown.graceful.timeout.ms`,
//! flushes offsets and exits 0; a second signal exits at once.

use crate::config::providers::ConfigProviders;
use crate::config::{read_properties, ConnectorConfig, Properties, WorkerConfig};
use crate::error::{Result, WorkerError};
use crate::herder::standalone::StandaloneHerder;
use crate::herder::LoggerControl;
use crate::kafka::embedded::EMBEDDED_LIMITS;
use crate::kafka::{ClientSettings, EmbeddedBroker, TopicAdmin};
use crate::worker::metrics::WorkerMetrics;
use crate::worker::offsets::{FileOffsetStore, OffsetStore};
use crate::worker::WorkerContext;
use kconnect_loader::{PluginRegistry, PluginWatcher, DEFAULT_WATCH_INTERVAL};
use kconnect_rest::{RestConfig, RestServer};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

/// Reads and checks the connector files given on the command line.
pub fn read_connector_files(paths: &[PathBuf]) -> Result<Vec<Properties>> {
    let mut configs = Vec::new();
    for path in paths {
        let props = read_properties(path)?;
        ConnectorConfig::from_properties(props.clone()).map_err(|e| WorkerError::ConfigFile {
            path: path.clone(),
            message: e.to_string(),
        })?;
        configs.push(props);
    }
    Ok(configs)
}

/// A running standalone worker.
pub struct Standalone {
    pub herder: Arc<StandaloneHerder>,
    pub rest: RestServer,
    _embedded: Option<Arc<EmbeddedBroker>>,
    /// Hot loading (`plugin.path.watch`): rescans `plugin.path` until stopped.
    plugin_watcher: Option<PluginWatcher>,
}

impl Standalone {
    /// Starts everything; returns once connectors are started and the worker is ready.
    pub async fn start(worker_file: PathBuf, connector_files: Vec<PathBuf>) -> Result<Standalone> {
        let started = Instant::now();
        let raw = read_properties(&worker_file)?;
        // Placeholders in the worker file itself are resolved once, at start, as Kafka does.
        let providers = ConfigProviders::from_worker_config(&raw)?;
        let raw = providers.resolve(&raw)?;
        let config = WorkerConfig::from_properties(raw).map_err(|e| WorkerError::ConfigFile {
            path: worker_file.clone(),
            message: e.to_string(),
        })?;
        let offset_file = config.offset_storage_file.clone().ok_or_else(|| WorkerError::ConfigFile {
            path: worker_file.clone(),
            message: "offset.storage.file.filename: Missing required configuration \"offset.storage.file.filename\" which has no default value.".into(),
        })?;
        let connectors = read_connector_files(&connector_files)?;

        // Plugins are loaded once REST answers: GET / and /health (503 until ready) work while
        // libraries load.
        let registry = Arc::new(PluginRegistry::unscanned(&config.plugin_path));

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
        let clients = ClientSettings::new(&config, &bootstrap);
        let admin = match &embedded {
            Some(broker) => TopicAdmin::Embedded(broker.clone()),
            None => TopicAdmin::kafka(&clients.admin(&Properties::new())?)?,
        };
        let file_store = Arc::new(FileOffsetStore::open(&offset_file)?);
        let offsets = Arc::new(OffsetStore::File(file_store.clone()));

        let rest_config = RestConfig {
            listeners: config.listeners.clone(),
            max_body_bytes: config.max_request_body_bytes,
            advertised_url: advertised_url(&config),
            security: config.rest_security.clone(),
            ..RestConfig::default()
        };
        let worker = Arc::new(WorkerContext {
            config,
            registry,
            clients,
            admin: admin.clone(),
            offsets,
            metrics: Arc::new(WorkerMetrics::default()),
            providers,
        });
        let herder = Arc::new(StandaloneHerder::new(worker.clone(), file_store));
        let rest = RestServer::start(rest_config, herder.clone(), Arc::new(LoggerControl))
            .await
            .map_err(|e| WorkerError::Rest(e.to_string()))?;
        let worker_id = rest
            .advertised_url()
            .trim_end_matches('/')
            .split("://")
            .last()
            .unwrap_or_default()
            .to_string();
        herder.set_worker_id(worker_id);
        let scanning = worker.registry.clone();
        tokio::task::spawn_blocking(move || scanning.initial_scan())
            .await
            .map_err(|e| WorkerError::Other(format!("plugin loading failed: {e}")))?;
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
        let plugin_watcher = if worker.config.plugin_path_watch {
            let metrics = worker.metrics.clone();
            let watcher = PluginWatcher::start(
                worker.registry.clone(),
                DEFAULT_WATCH_INTERVAL,
                move |report| {
                    metrics
                        .plugin_load_failures
                        .fetch_add(report.refused.len() as u64, Ordering::Relaxed);
                },
            )
            .map_err(|e| {
                WorkerError::Other(format!("cannot start the plugin.path watcher: {e}"))
            })?;
            Some(watcher)
        } else {
            None
        };
        log::info!(
            "REST API listening on {:?} ({:?} after start)",
            rest.local_addrs(),
            started.elapsed()
        );
        {
            let herder = herder.clone();
            std::thread::spawn(move || {
                if let Some(id) = admin.cluster_id() {
                    herder.set_cluster_id(id);
                }
            });
        }

        if let Err(e) = herder.start_connectors(connectors).await {
            rest.stop().await;
            return Err(e);
        }
        tokio::spawn(herder.clone().supervise_failed_tasks());
        herder.set_ready();
        log::info!(
            "kconnect standalone worker started in {:?}",
            started.elapsed()
        );
        Ok(Standalone {
            herder,
            rest,
            _embedded: embedded,
            plugin_watcher,
        })
    }

    /// Stops connectors and the REST server.
    pub async fn stop(self) {
        drop(self.plugin_watcher);
        self.herder.shutdown().await;
        self.rest.stop().await;
    }
}

fn advertised_url(config: &WorkerConfig) -> Option<String> {
    let host = config.rest_advertised_host_name.clone()?;
    let scheme = config
        .rest_advertised_listener
        .clone()
        .unwrap_or_else(|| "http".to_string());
    let port = config.rest_advertised_port.unwrap_or(8083);
    Some(format!("{scheme}://{host}:{port}/"))
}
