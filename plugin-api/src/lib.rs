//! # kconnect plugin API
//!
//! The crate a kconnect connector author depends on. It holds
//! - the Connect data model ([`data`]) and records ([`record`]),
//! - config definitions ([`config`]) for validation and the REST API,
//! - the traits to implement ([`connector`]): [`SourceConnector`], [`SinkConnector`],
//!   [`SourceTask`], [`SinkTask`], [`Converter`], [`Transformation`], [`Predicate`],
//! - the stable ABI ([`ffi`]) and [`export_plugin!`], which turns a `cdylib` into a plugin.
//!
//! ## Rules of the ABI
//! - **Panics** are caught inside the plugin by the code `export_plugin!` generates and reach the
//!   worker as [`ErrorKind::Panic`] errors: only the connector or task concerned fails. Keep the
//!   default `panic = "unwind"`.
//! - **Logging**: use the `log` crate; records reach the worker's logger with their target and level,
//!   and the worker's run-time level changes apply.
//! - **Threading**: every call is synchronous and may block; the worker gives each task its own
//!   thread. Do not hand futures or runtime handles across; start your own runtime inside the plugin
//!   if you need one.
//! - **Compatibility**: a plugin is loaded only by a worker whose plugin-api has the same major version
//!   (the same minor while the major is 0). Within that range the root module never changes; new
//!   abilities arrive as manifest fields and capability flags.

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

/// The version of this crate, which is the ABI version a plugin is built against.
pub const PLUGIN_API_VERSION: &str = env!("CARGO_PKG_VERSION");

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
