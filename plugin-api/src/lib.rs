//! # kconnect plugin API
//!
//! The crate a kconnect connector author depends on. It holds
//! - the Connect data model ([`data`]) and records ([`record`]),
//! - config definitions ([`config`]) for validation and the REST API,
//! - the traits to implement ([`connector`]): [`SourceConnector`], [`SinkConnector`],
//!   [`SourceTask`], [`SinkTask`], [`Converter`], [`Transformation`], [`Predicate`],
//! - the stable ABI ([`ffi`]) and [`export_plugin!`], which turns a `cdylib` into a plugin,
//! - a test kit ([`testkit`]) that runs a connector's tasks in-process, without a worker or a
//!   broker.
//!
//! ## A plugin in one file
//!
//! A plugin is a crate built as a `cdylib` (add `"rlib"` too to test it from other crates):
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! kconnect-plugin-api = "0.1"
//! log = "0.4"
//! ```
//!
//! Its `lib.rs` implements the traits and exports the classes. This one has a source connector
//! that counts up and a sink connector that logs what it receives; the end of the example runs
//! both with the [`testkit`].
//!
//! ```
//! use kconnect_plugin_api::{
//!     Config, ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectResult, Connector,
//!     ConnectorContext, PartitionOffset, PluginClass, Schema, SchemaRef, SchemaType,
//!     SinkConnector, SinkRecord, SinkTask, SourceConnector, SourceMap, SourceRecord, SourceTask,
//!     TaskContext, Validator, Value,
//! };
//! use std::time::Duration;
//!
//! fn counter_config_def() -> ConfigDef {
//!     ConfigDef::new()
//!         .define(
//!             ConfigKey::required("topic", ConfigType::String, "Where the numbers go.")
//!                 .validator(Validator::NonEmptyString),
//!         )
//!         .define(ConfigKey::optional("batch.size", ConfigType::Int, "100", "Numbers per poll.")
//!             .validator(Validator::Range { min: Some(1.0), max: None }))
//! }
//!
//! /// `connector.class=com.example.CounterSourceConnector` (or `CounterSource`, `CounterSourceConnector`).
//! #[derive(Default)]
//! pub struct CounterSourceConnector {
//!     config: Config,
//! }
//!
//! impl PluginClass for CounterSourceConnector {
//!     const CLASS: &'static str = "com.example.CounterSourceConnector";
//!     const DOC: &'static str = "Emits 0, 1, 2… to a topic.";
//! }
//!
//! impl Connector for CounterSourceConnector {
//!     fn config_def(&self) -> ConfigDef {
//!         counter_config_def()
//!     }
//!
//!     fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
//!         self.config = config;
//!         Ok(())
//!     }
//!
//!     fn task_configs(&mut self, _max_tasks: usize) -> ConnectResult<Vec<Config>> {
//!         // One counter: more tasks would emit the same numbers.
//!         Ok(vec![self.config.clone()])
//!     }
//!
//!     fn stop(&mut self) -> ConnectResult<()> {
//!         Ok(())
//!     }
//! }
//!
//! impl SourceConnector for CounterSourceConnector {
//!     type Task = CounterSourceTask;
//! }
//!
//! #[derive(Default)]
//! pub struct CounterSourceTask {
//!     topic: String,
//!     batch_size: i64,
//!     schema: Option<SchemaRef>,
//!     next: i64,
//! }
//!
//! fn counter_partition() -> SourceMap {
//!     SourceMap::new().with("counter", "main")
//! }
//!
//! impl SourceTask for CounterSourceTask {
//!     fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()> {
//!         let parsed = counter_config_def().parse(&config).map_err(ConnectError::config)?;
//!         self.topic = parsed.string("topic").to_string();
//!         self.batch_size = parsed.int("batch.size");
//!         // One schema for every record: records share it behind an RArc.
//!         self.schema = Some(SchemaRef::new(Schema::primitive(SchemaType::Int64)));
//!         // Resume after the last number Kafka acknowledged.
//!         let stored = context.offset(&counter_partition());
//!         self.next = stored.and_then(|o| o.get("next")?.as_i64()).unwrap_or(0);
//!         log::info!("counter starts at {}", self.next);
//!         Ok(())
//!     }
//!
//!     fn poll(&mut self, _timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
//!         let schema = self.schema.clone().ok_or_else(|| ConnectError::failed("not started"))?;
//!         let records = (0..self.batch_size)
//!             .map(|_| {
//!                 let n = self.next;
//!                 self.next += 1;
//!                 SourceRecord::new(
//!                     counter_partition(),
//!                     SourceMap::new().with("next", n + 1),
//!                     &self.topic,
//!                     Some(schema.clone()),
//!                     Value::Int64(n),
//!                 )
//!             })
//!             .collect();
//!         Ok(records)
//!     }
//!
//!     fn stop(&mut self) -> ConnectResult<()> {
//!         Ok(())
//!     }
//! }
//!
//! /// `connector.class=com.example.LogSinkConnector`: logs every record at INFO.
//! #[derive(Default)]
//! pub struct LogSinkConnector {
//!     config: Config,
//! }
//!
//! impl PluginClass for LogSinkConnector {
//!     const CLASS: &'static str = "com.example.LogSinkConnector";
//! }
//!
//! impl Connector for LogSinkConnector {
//!     fn config_def(&self) -> ConfigDef {
//!         ConfigDef::new() // `topics` / `topics.regex` are the worker's business
//!     }
//!
//!     fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
//!         self.config = config;
//!         Ok(())
//!     }
//!
//!     fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>> {
//!         Ok(vec![self.config.clone(); max_tasks])
//!     }
//!
//!     fn stop(&mut self) -> ConnectResult<()> {
//!         Ok(())
//!     }
//! }
//!
//! impl SinkConnector for LogSinkConnector {
//!     type Task = LogSinkTask;
//! }
//!
//! #[derive(Default)]
//! pub struct LogSinkTask {
//!     logged: u64,
//! }
//!
//! impl SinkTask for LogSinkTask {
//!     fn start(&mut self, _config: Config, _context: TaskContext) -> ConnectResult<()> {
//!         Ok(())
//!     }
//!
//!     fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()> {
//!         for record in records {
//!             log::info!("{}-{}@{}: {}", record.record.topic, record.kafka_partition(),
//!                 record.kafka_offset, record.record.value);
//!         }
//!         self.logged += records.len() as u64;
//!         Ok(())
//!     }
//!
//!     fn flush(&mut self, _offsets: &[PartitionOffset]) -> ConnectResult<()> {
//!         Ok(()) // nothing buffered: logging is as durable as it gets
//!     }
//!
//!     fn stop(&mut self) -> ConnectResult<()> {
//!         Ok(())
//!     }
//! }
//!
//! // Once, at the crate root: the symbol the worker loads.
//! kconnect_plugin_api::export_plugin! {
//!     source_connectors: [CounterSourceConnector],
//!     sink_connectors: [LogSinkConnector],
//! }
//!
//! # fn main() -> ConnectResult<()> {
//! use kconnect_plugin_api::testkit::{config_from, sink_record, SinkHarness, SourceHarness};
//!
//! let classes: Vec<String> = kconnect_plugin_registry()
//!     .manifest()
//!     .classes
//!     .into_iter()
//!     .map(|c| c.class)
//!     .collect();
//! assert_eq!(classes, ["com.example.CounterSourceConnector", "com.example.LogSinkConnector"]);
//!
//! let config = config_from([("topic", "numbers"), ("batch.size", "10")]);
//! let mut source = SourceHarness::<CounterSourceConnector>::new(config)?;
//! let records = source.poll_until(25, Duration::from_secs(5))?;
//! assert_eq!(records[24].record.value, Value::Int64(24));
//! source.commit()?;
//! source.restart()?;
//! assert_eq!(source.poll_until(1, Duration::from_secs(5))?[0].record.value, Value::Int64(25));
//!
//! let mut sink = SinkHarness::<LogSinkConnector>::new(config_from([("topics", "numbers")]))?;
//! sink.put(&[sink_record("numbers", 0, 0, 1), sink_record("numbers", 0, 1, 2)])?;
//! assert_eq!(sink.flush()?[0].offset, 2);
//! assert_eq!(sink.task().logged, 2);
//! # Ok(())
//! # }
//! ```
//!
//! Build it with `cargo build --release`; the worker loads `target/release/lib<crate>.so`
//! (`.dylib` on macOS, `.dll` on Windows) from a directory listed in `plugin.path`.
//! `examples/out-of-tree-connector` in the kconnect repository is the same counter as a crate of
//! its own.
//!
//! ## Rules of the ABI
//! - **Panics** are caught inside the plugin by the code `export_plugin!` generates and reach the
//!   worker as [`ErrorKind::Panic`] errors with the panic message and a backtrace: only the
//!   connector or task concerned fails. Keep the default `panic = "unwind"`: with
//!   `panic = "abort"` a panic takes the whole worker down.
//! - **Logging**: use the `log` crate; records reach the worker's logger with their target and
//!   level, and the worker's run-time level changes (`PUT /admin/loggers/...`) apply. Do not
//!   install a logger of your own.
//! - **Threading**: the worker gives each task its own thread, and a connector or task object is
//!   used by one thread at a time; distinct tasks of one connector do run at the same time, so
//!   state shared between them (statics) must be thread-safe.
//! - **Synchronous calls only**: every call blocks until it is done, and `poll` should return
//!   within about its timeout (an empty batch is fine). No futures, wakers or runtime handles
//!   cross the boundary; a plugin that needs async I/O starts its own runtime (inside the plugin,
//!   owned by the connector or task) and blocks on it.
//! - **Types that cross** are the `#[repr(C)]` `abi_stable` types of this crate ([`Value`],
//!   [`Schema`], records, [`ConnectError`]); configs and config definitions cross as strings and
//!   JSON. Never hand a `std` type or a trait object of your own to the worker.
//! - **Building records**: give a struct value its vector through [`Struct::values_for`] (or
//!   build it with [`Struct::new`]): the room it leaves lets InsertField and its like append
//!   fields in place instead of moving every value of every record into a new vector.
//! - **Compatibility**: the worker loads a plugin only when the plugin's plugin-api has the same
//!   major version as the worker's (the same minor while the major is 0); otherwise it refuses
//!   the library with a message naming both versions. Within that range:
//!   - the root module (the entry points behind [`export_plugin!`], [`ffi::PluginModule`]) and
//!     the layout of every type that crosses are **frozen**: `abi_stable` checks the layout at
//!     load time and refuses a mismatch;
//!   - the [`manifest`] **evolves**: new abilities arrive as manifest fields with serde defaults
//!     and as capability flags, so an older worker ignores what it does not know and a newer
//!     worker assumes defaults for what an older plugin does not say;
//!   - config definitions cross as JSON and may gain fields the same way.
//!
//! ## Testing a connector
//! [`testkit::SourceHarness`] and [`testkit::SinkHarness`] start a connector, take its task
//! configs and run one task against an in-memory offset store, so a test can poll, commit,
//! restart and check that the task resumes, or put records and flush — see [`testkit`].

// abi_stable's `#[sabi_trait]` expands to impls the lint flags; they are sound.
#![allow(non_local_definitions)]

pub mod config;
pub mod connector;
pub mod context;
pub mod data;
pub mod error;
pub mod export;
pub mod ffi;
pub mod logging;
pub mod manifest;
pub mod record;
pub mod testkit;

pub use abi_stable;
pub use config::{Config, ConfigDef, ConfigKey, ConfigType, ConfigValue, Importance, Validator};
pub use connector::{
    Connector, Converter, PluginClass, Predicate, SinkConnector, SinkTask, SourceConnector,
    SourceTask, Transformation,
};
pub use context::{ConnectorContext, TaskContext};
pub use data::{Field, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value};
pub use error::{ConnectError, ConnectResult, ErrorKind};
pub use manifest::{ClassManifest, PluginKind, PluginManifest};
pub use record::{
    ConnectRecord, Header, PartitionOffset, SinkRecord, SourceMap, SourceRecord, TimestampType,
    TopicPartition,
};

/// The version of the plugin ABI — the root module, the FFI types and what the manifest means —
/// which a plugin records when it is built and the worker checks when it loads it: the same
/// major, and the same minor while the major is 0 (abi_stable's rule, which it also applies to
/// the version it records in every FFI type's layout).
///
/// It is this crate's version, and this crate's version is its own: the worker's releases do
/// not move it, so plugins built against earlier releases keep loading. Bump the patch for
/// additions that leave every frozen type as it is (new manifest data, new optional
/// capabilities in `ClassManifest::capabilities`, new helpers on the plugin side); bump the
/// minor (while 0.x) for a change that would make a worker misread a plugin built before it —
/// a field or function of a frozen type changed, removed or reordered, a value whose meaning
/// changed. abi_stable compares the layouts too, so a layout change that forgot the bump is
/// still refused, with a one-line reason.
pub const ABI_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The ABI version under its earlier name, for plugins that read it.
pub const PLUGIN_API_VERSION: &str = ABI_VERSION;

#[cfg(test)]
mod tests {
    #[test]
    fn exported_symbol_is_abi_stables_root_module_loader() {
        // export_plugin! spells the symbol out; it must match what the loader looks for.
        assert_eq!(
            crate::ffi::ROOT_MODULE_SYMBOL,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }
}
