//! `bootstrap.servers=embedded`: librdkafka's mock cluster inside the worker, so the quickstart
//! runs with no Kafka installed.
//!
//! Measured limits of that broker, also stated in the startup log and the README: data is in
//! memory only; it keeps at most about 5 MiB or 100k batches per partition and silently drops
//! older data; it has no CreateTopics/DescribeConfigs (topics are created through its own API);
//! read_committed does not filter aborted transactions.

use crate::error::{Result, WorkerError};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

/// One-line statement of the embedded broker's limits, logged at startup.
pub const EMBEDDED_LIMITS: &str = "embedded broker (librdkafka mock cluster): in memory only; keeps at most ~5 MiB or 100k batches per partition and silently drops older data; no CreateTopics/DescribeConfigs (the worker creates topics through the mock API); read_committed does not filter aborted transactions. Use a real Kafka for anything but trying kconnect out.";

pub struct EmbeddedBroker {
    cluster: MockCluster<'static, DefaultProducerContext>,
    bootstrap: String,
}

// SAFETY: librdkafka's mock cluster handle only posts operations to the cluster's own thread
// (rd_kafka_mock_* are documented thread-safe); the Rust wrapper is !Send only because it holds
// a raw pointer.
unsafe impl Send for EmbeddedBroker {}
// SAFETY: as for Send: every call through a shared reference posts to the cluster's thread.
unsafe impl Sync for EmbeddedBroker {}

impl EmbeddedBroker {
    /// Starts a one-broker mock cluster on a free loopback port.
    pub fn start() -> Result<EmbeddedBroker> {
        let cluster = MockCluster::new(1)
            .map_err(|e| WorkerError::kafka("cannot start the embedded broker", e))?;
        let bootstrap = cluster.bootstrap_servers();
        Ok(EmbeddedBroker { cluster, bootstrap })
    }

    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic (the mock broker has no CreateTopics API).
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        self.cluster
            .create_topic(name, partitions.max(1), 1)
            .map_err(|e| {
                WorkerError::kafka(
                    format!("cannot create topic {name} on the embedded broker"),
                    e,
                )
            })
    }
}
