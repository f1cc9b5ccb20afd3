//! Configuration: files in Kafka's formats, the worker's settings and a connector's common keys.

pub mod connector;
pub mod distributed;
pub mod files;
pub mod providers;
pub mod worker;

pub use connector::ConnectorConfig;
pub use files::{read_properties, Properties};
pub use worker::{WorkerConfig, EMBEDDED_BOOTSTRAP};
