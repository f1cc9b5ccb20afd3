//! Running connectors' tasks: each task on its own thread, calling its plugin synchronously.
//!
//! - [`source`]: poll → transforms → converters → producer; offsets stored only once every record
//!   up to them was acknowledged.
//! - [`sink`]: consumer → converters → transforms → put → flush → commit; [`sink_progress`]:
//!   which of its offsets may be committed.

pub mod converters;
pub mod errors;
pub mod metrics;
pub mod offsets;
pub mod sink;
pub mod sink_progress;
pub mod source;
pub mod status;
pub mod transforms;

use crate::config::{ConnectorConfig, WorkerConfig};
use crate::kafka::{ClientSettings, TopicAdmin};
use kconnect_loader::PluginRegistry;
use kconnect_plugin_api::context::{FfiTaskContext, FfiTaskContext_TO, TaskContextObject};
use kconnect_plugin_api::record::SourceMap;
use offsets::OffsetStore;
use status::{StatusCell, TaskControl};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What every task of this worker shares.
pub struct WorkerContext {
    pub config: WorkerConfig,
    pub registry: Arc<PluginRegistry>,
    pub clients: ClientSettings,
    pub admin: TopicAdmin,
    pub offsets: Arc<OffsetStore>,
    pub metrics: Arc<metrics::WorkerMetrics>,
    /// `config.providers`: resolves `${…}` placeholders in connector configs when they start.
    pub providers: crate::config::providers::ConfigProviders,
    /// Set when source tasks deliver exactly once (distributed, `exactly.once.source.support=enabled`).
    pub exactly_once: Option<ExactlyOnceSource>,
    /// A distributed worker's `exactly.once.source.support`; `None` in standalone mode, where
    /// Kafka does not check a source connector's exactly-once settings.
    pub exactly_once_support: Option<crate::config::distributed::ExactlyOnceSourceSupport>,
}

/// Where exactly-once source tasks (KIP-618) commit: each polled batch and its source offsets
/// go to Kafka in one transaction of the task's own transactional producer.
#[derive(Clone, Debug)]
pub struct ExactlyOnceSource {
    /// `group.id`: the first part of each task's transactional id.
    pub group_id: String,
    /// The worker's `offset.storage.topic`, where the transactions write the offsets.
    pub offsets_topic: String,
}

/// Topics a connector produced to or consumed from (KIP-558).
pub type ActiveTopics = Arc<Mutex<BTreeSet<String>>>;

/// One task's identity, controls and shared state.
#[derive(Clone)]
pub struct TaskEnv {
    pub connector: Arc<ConnectorConfig>,
    pub task_id: u32,
    pub task_config: kconnect_plugin_api::Config,
    pub worker: Arc<WorkerContext>,
    pub status: StatusCell,
    pub control: Arc<TaskControl>,
    pub active_topics: ActiveTopics,
    pub errors: Arc<errors::ErrorCounters>,
    pub metrics: Arc<metrics::TaskMetrics>,
}

impl TaskEnv {
    pub fn name(&self) -> String {
        format!("{}-{}", self.connector.name, self.task_id)
    }

    pub fn note_topic(&self, topic: &str) {
        let mut topics = self.active_topics.lock().unwrap_or_else(|e| e.into_inner());
        if !topics.contains(topic) {
            topics.insert(topic.to_string());
        }
    }
}

/// The context a plugin task sees: stored offsets of its connector, commit requests.
pub struct HostTaskContext {
    connector: String,
    offsets: Arc<OffsetStore>,
    commit_requested: Arc<AtomicBool>,
}

impl HostTaskContext {
    pub fn object(
        connector: &str,
        offsets: Arc<OffsetStore>,
        commit_requested: Arc<AtomicBool>,
    ) -> TaskContextObject {
        FfiTaskContext_TO::from_value(
            HostTaskContext {
                connector: connector.to_string(),
                offsets,
                commit_requested,
            },
            abi_stable::sabi_trait::TD_Opaque,
        )
    }
}

impl FfiTaskContext for HostTaskContext {
    fn offsets(
        &self,
        partitions: abi_stable::std_types::RVec<SourceMap>,
    ) -> abi_stable::std_types::RVec<abi_stable::std_types::ROption<SourceMap>> {
        partitions
            .iter()
            .map(|p| self.offsets.get(&self.connector, p).into())
            .collect()
    }

    fn request_commit(&self) {
        self.commit_requested.store(true, Ordering::Release);
    }
}
