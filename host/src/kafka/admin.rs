//! Topic administration: the worker creates a source connector's topics (KIP-158 defaults that
//! work on a one-broker cluster) and DLQ topics before producing to them, as Kafka Connect does:
//! many production clusters do not auto-create topics, and those that do would create them with
//! the broker's defaults instead of the connector's.

use super::embedded::EmbeddedBroker;
use crate::error::{Result, WorkerError};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use std::sync::Arc;
use std::time::Duration;

/// How a new topic is laid out (`topic.creation.default.*`).
#[derive(Clone, Debug)]
pub struct TopicSpec {
    pub partitions: i32,
    /// -1 lets the broker choose (its `default.replication.factor`).
    pub replication_factor: i32,
    pub configs: Vec<(String, String)>,
}

impl Default for TopicSpec {
    fn default() -> TopicSpec {
        TopicSpec {
            partitions: 1,
            replication_factor: -1,
            configs: Vec::new(),
        }
    }
}

#[derive(Clone)]
pub enum TopicAdmin {
    Kafka(Arc<AdminClient<DefaultClientContext>>),
    Embedded(Arc<EmbeddedBroker>),
}

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

impl TopicAdmin {
    pub fn kafka(config: &ClientConfig) -> Result<TopicAdmin> {
        let client: AdminClient<DefaultClientContext> = config.create()?;
        Ok(TopicAdmin::Kafka(Arc::new(client)))
    }

    /// The cluster id, for `GET /`.
    pub fn cluster_id(&self) -> Option<String> {
        match self {
            TopicAdmin::Kafka(admin) => admin.inner().fetch_cluster_id(REQUEST_TIMEOUT),
            TopicAdmin::Embedded(_) => Some("embedded".to_string()),
        }
    }

    /// The members of group `group` with their protocol metadata, as the group coordinator
    /// describes them (DescribeGroups; blocking). Empty for the embedded broker.
    pub fn group_members(&self, group: &str) -> Result<Vec<(String, Vec<u8>)>> {
        match self {
            TopicAdmin::Kafka(admin) => {
                let groups = admin
                    .inner()
                    .fetch_group_list(Some(group), REQUEST_TIMEOUT)
                    .map_err(|e| WorkerError::kafka(format!("cannot describe group {group}"), e))?;
                Ok(groups
                    .groups()
                    .iter()
                    .filter(|described| described.name() == group)
                    .flat_map(|described| described.members())
                    .map(|member| {
                        (
                            member.id().to_string(),
                            member.metadata().unwrap_or_default().to_vec(),
                        )
                    })
                    .collect())
            }
            TopicAdmin::Embedded(_) => Ok(Vec::new()),
        }
    }

    /// How many partitions `topic` has; `None` when it does not exist (blocking).
    pub fn partition_count(&self, topic: &str) -> Result<Option<usize>> {
        match self {
            TopicAdmin::Kafka(admin) => {
                let metadata = admin
                    .inner()
                    .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
                    .map_err(|e| {
                        WorkerError::kafka(format!("cannot read metadata of topic {topic}"), e)
                    })?;
                Ok(super::partitions_in(&metadata, topic))
            }
            TopicAdmin::Embedded(_) => Ok(None),
        }
    }

    /// Whether `topic` exists (blocking).
    pub fn topic_exists(&self, topic: &str) -> Result<bool> {
        self.partition_count(topic).map(|n| n.is_some())
    }

    /// Creates `topic` unless it exists; true when this call created it (blocking).
    pub fn ensure_topic(&self, topic: &str, spec: &TopicSpec) -> Result<bool> {
        match self {
            TopicAdmin::Embedded(broker) => {
                // The mock cluster's create is idempotent for an existing topic.
                broker.create_topic(topic, spec.partitions)?;
                Ok(true)
            }
            TopicAdmin::Kafka(admin) => {
                if self.topic_exists(topic)? {
                    return Ok(false);
                }
                let create = |replication: i32| {
                    let mut new_topic =
                        NewTopic::new(topic, spec.partitions, TopicReplication::Fixed(replication));
                    for (k, v) in &spec.configs {
                        new_topic = new_topic.set(k, v);
                    }
                    let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
                    futures::executor::block_on(admin.create_topics(&[new_topic], &options))
                };
                let mut outcome = create(spec.replication_factor)
                    .map_err(|e| WorkerError::kafka(format!("cannot create topic {topic}"), e))?;
                // Brokers older than KIP-464 (and some Kafka-compatible ones) refuse -1.
                if spec.replication_factor < 0
                    && matches!(
                        outcome.first(),
                        Some(Err((_, RDKafkaErrorCode::InvalidReplicationFactor)))
                    )
                {
                    outcome = create(1).map_err(|e| {
                        WorkerError::kafka(format!("cannot create topic {topic}"), e)
                    })?;
                }
                match outcome.into_iter().next() {
                    Some(Ok(_)) => {
                        log::info!(
                            "created topic {topic} with {} partition(s)",
                            spec.partitions
                        );
                        Ok(true)
                    }
                    Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(false),
                    Some(Err((_, code))) => Err(WorkerError::kafka(
                        format!("cannot create topic {topic}"),
                        KafkaError::AdminOp(code),
                    )),
                    None => Err(WorkerError::Cluster(format!(
                        "cannot create topic {topic}: no result"
                    ))),
                }
            }
        }
    }
}
