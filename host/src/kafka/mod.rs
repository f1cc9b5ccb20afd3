//! Everything that talks to Kafka: client settings, topic administration, the embedded broker.

pub mod admin;
pub mod clients;
pub mod embedded;
pub mod group_offsets;
pub mod topic_log;

pub use admin::TopicAdmin;
pub use clients::ClientSettings;
pub use embedded::EmbeddedBroker;
