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
//! - Records are changed in place; transforms move field values instead of copying them.
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

/// What a transformation decided about a record it was applied to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The record, changed in place, goes on.
    Keep,
    /// The record is dropped (Kafka's transformation returning `null`).
    Discard,
}

/// What a transformation returns. After an error the record may be half changed: a caller that
/// needs the original keeps a copy.
pub type TransformResult = Result<Verdict, TransformError>;

/// Changes or drops one record at a time (Kafka's `Transformation`). A configured instance.
///
/// Records are changed in place: a record is a few hundred bytes, and moving it in and out of
/// every stage of a chain cost more than some transformations' own work.
pub trait Transformation: Send {
    /// Changes the record, or tells it is to be dropped.
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult;

    /// [`Transformation::apply`] for a sink record, whose Kafka offset is known. Only
    /// transformations that read the offset need to override it.
    fn apply_sink(&mut self, record: &mut ConnectRecord, kafka_offset: i64) -> TransformResult {
        let _ = kafka_offset;
        self.apply(record)
    }
}

/// Decides whether a transformation applies to a record (Kafka's `Predicate`).
pub trait Predicate: Send {
    fn test(&mut self, record: &ConnectRecord) -> Result<bool, TransformError>;
}
