//! Kafka Connect's group protocol for kconnect workers, so that they share one group with each
//! other and with Apache Kafka Connect's Java workers, with Kafka's group coordinator as the
//! only coordinator.
//!
//! - [`protocol`]: worker metadata and assignments in Connect's encodings (`default`,
//!   `compatible`, `sessioned`).
//! - [`assignor`]: the leader's incremental cooperative assignment, with Kafka's semantics.
//! - [`member`]: one member of the group: find the coordinator, join, sync, heartbeat, leave.
//! - [`connection`]: one blocking connection to a broker, with Kafka's framing and the API
//!   versions both sides speak.
//!
//! librdkafka cannot be such a member (its groups are consumer groups only); the wire format
//! comes from the `kafka-protocol` crate, generated from Kafka's own message specifications.
//!
//! Not yet: TLS and SASL to the brokers (plaintext only for now).

pub mod assignor;
pub mod connection;
pub mod error;
pub mod member;
pub mod protocol;

pub use error::GroupError;
pub use member::{GroupMember, Joined, MemberConfig};
pub use protocol::{
    Assignment, AssignmentError, Subprotocol, Units, WorkerMetadata, PROTOCOL_TYPE,
};
