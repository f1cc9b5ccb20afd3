//! # kconnect-transforms
//!
//! Kafka Connect's built-in single message transforms (SMTs) and predicates, configured with the
//! same class names, option names and defaults as Kafka 3.9, and the [`TransformChain`] that a
//! connector's `transforms` / `predicates` settings describe.
//!
//! - Built-ins are found by Kafka class name (`org.apache.kafka.connect.transforms.InsertField$Value`)
//!   or by the short alias (`InsertField$Value`): [`builtin_transformation`], [`builtin_predicate`],
//!   [`builtin_classes`].
//! - Transforms that derive a schema (InsertField, ReplaceField, Cast, Flatten…) cache the derived
//!   schema per input schema, so a stream of records sharing one schema builds it once.
//! - Records are owned: transforms move field values instead of copying them.
//!
//! Where this differs from Kafka (all documented on the module concerned): Java regexes run on the
//! `regex` crate (module `java`); `SimpleDateFormat` patterns support the common letters only
//! ([`java_date`]); `InsertHeader` types literals with a subset of `Values.parseString`
//! (module `values`); a nullable setting given as an empty string counts as not set; an invalid
//! `RegexRouter` replacement is refused at configure time instead of on the first matching topic.

mod builtins;
mod chain;
mod config;
mod error;
mod java;
pub mod java_date;
mod predicates;
mod transforms;
mod util;
mod values;

pub use builtins::{builtin_classes, builtin_predicate, builtin_transformation, BuiltinClass};
pub use chain::{validate_transform_config, BuiltinsOnly, ExternalResolver, TransformChain};
pub use error::TransformError;

use kconnect_plugin_api::ConnectRecord;

/// What a transformation returns: the changed record, `None` to drop it, or an error.
pub type TransformResult = Result<Option<ConnectRecord>, TransformError>;

/// Changes or drops one record at a time (Kafka's `Transformation`). A configured instance.
pub trait Transformation: Send {
    /// The changed record, or `None` to drop it.
    fn apply(&mut self, record: ConnectRecord) -> TransformResult;

    /// [`Transformation::apply`] for a sink record, whose Kafka offset is known. Only
    /// transformations that read the offset need to override it.
    fn apply_sink(&mut self, record: ConnectRecord, kafka_offset: i64) -> TransformResult {
        let _ = kafka_offset;
        self.apply(record)
    }
}

/// Decides whether a transformation applies to a record (Kafka's `Predicate`).
pub trait Predicate: Send {
    fn test(&mut self, record: &ConnectRecord) -> Result<bool, TransformError>;
}
