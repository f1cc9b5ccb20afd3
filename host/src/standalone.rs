//! `kconnect standalone`: one worker, offsets in a file, connectors from files and REST.
//!
//! Startup order: read and check every config file (a bad one stops startup before anything is
//! written) → broker (embedded or real) → offset store → REST (`GET /` and `/health` answer at
//! once, 503 until ready; other requests wait for startup) → load plugins → connectors → ready. Shutdown on SIGTERM/SIGINT stops tasks within `task.shutdown.graceful.timeout.ms`,
//! flushes offsets and exits 0; a second signal exits at once.

use crate::config::providers::ConfigProviders;
use crate::config::{read_properties, ConnectorConfig, Properties, WorkerConfig};
use crate::error::{Result, WorkerError};
use crate::herder::standalone::StandaloneHerder;
use crate::herder::LoggerControl;
use crate::kafka::EmbeddedBroker;
use crate::startup::{self, Connections};
use crate::worker::metrics::WorkerMetrics;
use crate::worker::offsets::{FileOffsetStore, OffsetStore};
use crate::worker::WorkerContext;
use kconnect_loader::{PluginRegistry, PluginWatcher};
use kconnect_rest::RestServer;
use std::path::PathBuf;
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

        let Connections {
            clients,
            admin,
            embedded,
        } = startup::connect(&config)?;
        let file_store = Arc::new(FileOffsetStore::open(&offset_file)?);
        let offsets = Arc::new(OffsetStore::File(file_store.clone()));

        let rest_config = startup::rest_config(&config);
        let worker = Arc::new(WorkerContext {
            config,
            registry,
            clients,
            admin: admin.clone(),
            offsets,
            metrics: Arc::new(WorkerMetrics::default()),
            providers,
            exactly_once: None,
            exactly_once_support: None,
        });
        let herder = Arc::new(StandaloneHerder::new(worker.clone(), file_store));
        let rest = RestServer::start(rest_config, herder.clone(), Arc::new(LoggerControl)).await?;
        let worker_id = rest
            .advertised_url()
            .trim_end_matches('/')
            .split("://")
            .last()
            .unwrap_or_default()
            .to_string();
        herder.set_worker_id(worker_id);
        herder.core().set_advertised_url(rest.advertised_url());
        let plugin_watcher = startup::load_plugins(&worker).await?;
        log::info!(
            "REST API listening on {:?} ({:?} after start)",
            rest.local_addrs(),
            started.elapsed()
        );
        {
            let herder = herder.clone();
            startup::fetch_cluster_id(admin, move |id| herder.core().set_cluster_id(id));
        }

        if let Err(e) = herder.start_connectors(connectors).await {
            rest.stop().await;
            return Err(e);
        }
        tokio::spawn(herder.clone().supervise_failed_tasks());
        herder.core().set_ready();
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
