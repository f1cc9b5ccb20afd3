//! Everything that talks to Kafka: client settings, topic administration, the embedded broker.

pub mod admin;
pub mod clients;
pub mod embedded;
pub mod group_offsets;
pub mod topic_log;

pub use admin::TopicAdmin;

/// How many partitions cluster metadata lists for `topic`; `None` when it is missing or in error.
pub(crate) fn partitions_in(metadata: &rdkafka::metadata::Metadata, topic: &str) -> Option<usize> {
    metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
        .map(|t| t.partitions().len())
        .filter(|n| *n > 0)
}
pub use clients::ClientSettings;
pub use embedded::EmbeddedBroker;
