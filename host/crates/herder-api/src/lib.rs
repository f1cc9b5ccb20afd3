//! The contract between the worker and its front ends (the REST API, the console).
//!
//! The worker's herders implement [`Herder`] and [`LogControl`]; front ends call them and
//! translate the answers. Errors are domain outcomes ([`HerderError`]: not found, conflict,
//! invalid, rebalancing, disabled, timed out): what a front end makes of them — an HTTP status
//! for the REST API — is decided in the front end, in one place.
//!
//! kconnect's own resources (for the console: cluster view, preview, config history) are in
//! [`console`].
//!
//! The data model ([`entities`]) is Kafka Connect's: the structures and JSON field names of
//! Kafka's `runtime.rest.entities`, so that what a herder answers is what Kafka's REST API
//! returns, byte for byte once serialised.

pub mod console;
pub mod entities;
pub mod herder;

pub use console::{
    ClusterView, ConfigChange, ConfigVersion, GroupInfo, GroupMember, PluginFailure, PreviewHeader,
    PreviewOutcome, PreviewRequest, PreviewResult, PreviewedRecord, SampleRecord, SerializedRecord,
    WorkerMode,
};
pub use entities::*;
pub use herder::{Herder, HerderError, InternalRequestSignature, LogControl};
