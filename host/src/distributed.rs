//! `kconnect distributed`: one worker of a cluster sharing `group.id`; configs, offsets and
//! statuses in Kafka topics.
//!
//! Startup order: read and check the worker file (a bad key stops startup, naming it) → broker →
//! the worker's topics, created with Kafka Connect's layouts when missing and checked when
//! present (a config topic with more than one partition stops startup) → read the three topics
//! to their end → REST (`GET /` and `/health` answer at once, 503 until ready; other requests
//! wait for startup) → plugins → heartbeat until this worker reads itself alive → run what the
//! assignment gives this worker → ready. SIGTERM stops tasks within
//! `task.shutdown.graceful.timeout.ms`, flushes offsets, and leaves the group so the others take
//! over at once.

use crate::config::distributed::{DistributedConfig, InternalTopic, Membership};
use crate::config::providers::ConfigProviders;
use crate::config::{read_properties, WorkerConfig};
use crate::error::{Result, WorkerError};
use crate::herder::distributed::group::GroupSettings;
use crate::herder::distributed::membership::{Heartbeat, Liveness};
use crate::herder::distributed::{Cluster, DistributedHerder};
use crate::herder::LoggerControl;
use crate::kafka::admin::TopicSpec;
use crate::kafka::topic_log::TopicWriter;
use crate::kafka::{EmbeddedBroker, TopicAdmin};
use crate::startup::{self, Connections};
use crate::worker::metrics::WorkerMetrics;
use crate::worker::offsets::{OffsetStore, TopicOffsetStore};
use crate::worker::{ExactlyOnceSource, WorkerContext};
use kconnect_group::MemberConfig;
use kconnect_loader::{PluginRegistry, PluginWatcher};
use kconnect_rest::RestServer;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a record written to a worker topic (configs, statuses) may wait for Kafka's
/// acknowledgement.
const WORKER_TOPIC_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// A running distributed worker.
pub struct Distributed {
    pub herder: Arc<DistributedHerder>,
    pub rest: RestServer,
    /// The heartbeats, with `kconnect.membership=heartbeats`.
    liveness: Option<Liveness>,
    _embedded: Option<Arc<EmbeddedBroker>>,
    plugin_watcher: Option<PluginWatcher>,
}

/// Creates a worker topic (compacted) when missing; returns the partition count of one that
/// already existed.
fn ensure_topic(admin: &TopicAdmin, topic: &InternalTopic) -> Result<Option<usize>> {
    ensure_topic_with(admin, topic, &[("cleanup.policy", "compact")])
}

/// [`ensure_topic`] with other topic configs: the config history keeps every record.
fn ensure_topic_with(
    admin: &TopicAdmin,
    topic: &InternalTopic,
    configs: &[(&str, &str)],
) -> Result<Option<usize>> {
    if let Some(found) = admin.partition_count(&topic.name)? {
        return Ok(Some(found));
    }
    let spec = TopicSpec {
        partitions: topic.partitions,
        replication_factor: topic.replication_factor,
        configs: configs
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect(),
    };
    admin
        .ensure_topic(&topic.name, &spec)
        .map_err(|e| WorkerError::key(topic.key, e.to_string()))?;
    Ok(None)
}

impl Distributed {
    /// Starts the worker; returns once it joined the cluster.
    pub async fn start(worker_file: PathBuf) -> Result<Distributed> {
        let started = Instant::now();
        let raw = read_properties(&worker_file)?;
        let providers = ConfigProviders::from_worker_config(&raw)?;
        let raw = providers.resolve(&raw)?;
        let in_file = |e: WorkerError| WorkerError::ConfigFile {
            path: worker_file.clone(),
            message: e.to_string(),
        };
        let config = WorkerConfig::from_properties(raw.clone()).map_err(in_file)?;
        let cluster_config = DistributedConfig::from_properties(&raw).map_err(in_file)?;
        let registry = Arc::new(PluginRegistry::unscanned(&config.plugin_path));

        let Connections {
            clients,
            admin,
            embedded,
        } = startup::connect(&config)?;
        let rest_config = startup::rest_config(&config);

        // The topics first: a wrong layout must stop the worker before it serves anything.
        let checking = admin.clone();
        let topics = cluster_config.clone();
        tokio::task::spawn_blocking(move || {
            // The config topic's order is the order of every decision: one partition only.
            let config_topic = &topics.config_topic;
            if let Some(found) = ensure_topic(&checking, config_topic)?.filter(|n| *n != 1) {
                return Err(WorkerError::key(
                    config_topic.key,
                    format!(
                        "Topic '{}' supplied via the 'config.storage.topic' property is required to have a single partition in order to guarantee consistency of connector configurations, but found {found} partitions.",
                        config_topic.name
                    ),
                ));
            }
            ensure_topic(&checking, &topics.offset_topic)?;
            ensure_topic(&checking, &topics.status_topic)?;
            ensure_topic_with(
                &checking,
                &topics.history_topic,
                &[("cleanup.policy", "delete"), ("retention.ms", "-1"), ("retention.bytes", "-1")],
            )?;
            Ok(())
        })
        .await
        .map_err(|source| WorkerError::Job {
            what: "the worker topics check",
            source,
        })??;

        let id = kconnect_rest::planned_advertised_url(&rest_config)
            .map(|url| url.split("://").last().unwrap_or_default().to_string())
            .map_err(|e| WorkerError::key("listeners", e.to_string()))?;
        let writer = TopicWriter::new(
            &clients,
            &format!("kconnect-{id}"),
            WORKER_TOPIC_WRITE_TIMEOUT,
        )?;
        let opening = (
            clients.clone(),
            cluster_config.clone(),
            id.clone(),
            writer.clone(),
        );
        let cluster = tokio::task::spawn_blocking(move || {
            let (clients, cluster_config, id, writer) = opening;
            let offsets = Arc::new(TopicOffsetStore::start(
                &clients,
                &cluster_config.offset_topic.name,
                writer.clone(),
                &format!("kconnect-{id}"),
                cluster_config.exactly_once_source.transactional_tasks(),
            )?);
            Cluster::open(&clients, cluster_config, &id, writer, offsets)
        })
        .await
        .map_err(|source| WorkerError::Job {
            what: "reading the worker topics",
            source,
        })??;
        let cluster = Arc::new(cluster);
        log::info!(
            "read the config, status and offset topics in {:?}: {} connector(s)",
            started.elapsed(),
            cluster.snapshot().connectors.len()
        );

        let worker = Arc::new(WorkerContext {
            config,
            registry,
            clients: clients.clone(),
            admin: admin.clone(),
            offsets: Arc::new(OffsetStore::Topic(cluster.offsets.clone())),
            metrics: Arc::new(WorkerMetrics::default()),
            providers,
            exactly_once: cluster
                .config
                .exactly_once_source
                .transactional_tasks()
                .then(|| ExactlyOnceSource {
                    group_id: cluster.config.group_id.clone(),
                    offsets_topic: cluster.config.offset_topic.name.clone(),
                }),
            exactly_once_support: Some(cluster.config.exactly_once_source),
        });
        let herder = Arc::new(DistributedHerder::new(worker.clone(), cluster.clone()));
        // REST answers (`/health` 503) while plugins load and the worker joins.
        let rest = RestServer::start(rest_config, herder.clone(), Arc::new(LoggerControl)).await?;
        herder.core().set_advertised_url(rest.advertised_url());

        let plugin_watcher = startup::load_plugins(&worker).await?;
        {
            let herder = herder.clone();
            startup::fetch_cluster_id(admin.clone(), move |id| herder.core().set_cluster_id(id));
        }

        let liveness = match cluster.config.membership {
            Membership::Group => {
                if clients.security_protocol() != "PLAINTEXT" {
                    return Err(WorkerError::key(
                        "security.protocol",
                        format!(
                            "{}: kconnect's group membership speaks PLAINTEXT only so far; set kconnect.membership=heartbeats to run this worker over TLS or SASL",
                            clients.security_protocol()
                        ),
                    ));
                }
                let settings = GroupSettings {
                    member: MemberConfig {
                        bootstrap: clients
                            .bootstrap()
                            .split(',')
                            .map(|b| b.trim().to_string())
                            .filter(|b| !b.is_empty())
                            .collect(),
                        group_id: cluster.config.group_id.clone(),
                        session_timeout: cluster.config.session_timeout,
                        rebalance_timeout: cluster.config.rebalance_timeout,
                        client_id: format!("connect-{id}"),
                    },
                    protocol: cluster.config.connect_protocol,
                    url: format!("{}/", rest.advertised_url().trim_end_matches('/')),
                    heartbeat_interval: cluster.config.heartbeat_interval,
                    max_delay: cluster.config.scheduled_rebalance_max_delay,
                    graceful: worker.config.task_shutdown_graceful_timeout,
                };
                herder
                    .join_group(settings)
                    .map_err(|e| WorkerError::thread("the group member", e))?;
                None
            }
            Membership::Heartbeats => {
                let heartbeat = Heartbeat {
                    worker_id: id.clone(),
                    url: format!("{}/", rest.advertised_url()),
                    group_id: cluster.config.group_id.clone(),
                };
                let beating = (
                    cluster.writer.clone(),
                    cluster.config.status_topic.name.clone(),
                );
                let interval = cluster.config.heartbeat_interval;
                Some(
                    tokio::task::spawn_blocking(move || {
                        Liveness::start(beating.0, &beating.1, heartbeat, interval)
                    })
                    .await
                    .map_err(|source| WorkerError::Job {
                        what: "starting the heartbeats",
                        source,
                    })??,
                )
            }
        };
        let deadline = Instant::now() + cluster.config.rebalance_timeout;
        while !herder.has_joined() {
            if Instant::now() > deadline {
                return Err(WorkerError::Cluster(format!(
                    "could not join group {} within rebalance.timeout.ms",
                    cluster.config.group_id
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::spawn(herder.clone().run());
        // Ready once the leader gave this worker its place: writes before that would get 409.
        while herder.is_rebalancing() {
            if Instant::now() > deadline {
                log::warn!("no assignment includes this worker yet; serving anyway");
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        herder.core().set_ready();
        log::info!(
            "kconnect distributed worker {id} joined group {} in {:?}",
            cluster.config.group_id,
            started.elapsed()
        );
        Ok(Distributed {
            herder,
            rest,
            liveness,
            _embedded: embedded,
            plugin_watcher,
        })
    }

    /// Stops what runs here, leaves the group, stops REST.
    pub async fn stop(mut self) {
        drop(self.plugin_watcher.take());
        self.herder.shutdown().await;
        let herder = self.herder.clone();
        let liveness = self.liveness.take();
        let _ = tokio::task::spawn_blocking(move || {
            herder.leave_group();
            if let Some(mut liveness) = liveness {
                liveness.leave();
            }
        })
        .await;
        self.rest.stop().await;
    }
}
