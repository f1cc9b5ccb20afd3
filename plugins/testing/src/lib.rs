//! # kconnect testing plugin
//!
//! Fixtures for the worker's tests and benchmarks, exported through the stable ABI like any
//! plugin. Every class lives under `kconnect.testing.`:
//!
//! - [`MisbehavingSourceConnector`] / [`MisbehavingSinkConnector`]: well-behaved by default, they
//!   panic, fail or block at the stage named by `panic.on`, `fail.on` or `block.on` (see
//!   [`misbehaviour`] for the stage names). The source emits values `"<task.id>-<n>"` with source
//!   offset `{"n": n}` and resumes after a stored offset; the sink appends each value it receives
//!   as a line to `file`.
//! - [`BenchSourceConnector`] / [`BenchSinkConnector`]: the cheapest batches the data model
//!   allows, to measure what crossing the ABI costs.
//! - [`ReverseStringConverter`], [`UppercaseValue`] (transformation), [`TopicMatches`]
//!   (predicate): small classes proving that each kind crosses the ABI.
//!
//! Log lines go to target [`LOG_TARGET`], so tests can check that plugin logs reach the worker.

pub mod bench;
pub mod misbehaviour;
pub mod simple;
pub mod sink;
pub mod source;

pub use bench::{BenchSinkConnector, BenchSinkTask, BenchSourceConnector, BenchSourceTask};
pub use simple::{ReverseStringConverter, TopicMatches, UppercaseValue};
pub use sink::{MisbehavingSinkConnector, MisbehavingSinkTask};
pub use source::{MisbehavingSourceConnector, MisbehavingSourceTask};

/// The `log` target of every line this plugin writes.
pub const LOG_TARGET: &str = "kconnect_testing";

kconnect_plugin_api::export_plugin! {
    source_connectors: [MisbehavingSourceConnector, BenchSourceConnector],
    sink_connectors: [MisbehavingSinkConnector, BenchSinkConnector],
    converters: [ReverseStringConverter],
    transformations: [UppercaseValue],
    predicates: [TopicMatches],
}
