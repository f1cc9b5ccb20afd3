//! # kconnect loader
//!
//! From `plugin.path` folders to a registry of plugin classes, and from a class to live instances.
//!
//! - [`PluginRegistry::scan`] loads every plugin library found (see [`registry`] for the layout,
//!   the checks each file goes through, the aliases a class answers to and the resolution rule);
//!   refused files are reported once each, with a one-line reason ([`LoadFailure`]).
//! - [`PluginRegistry::resolve`] finds a class by full name or alias, optionally pinned to a
//!   version (KIP-891).
//! - The handles in [`handles`] wrap the ABI objects of connectors, tasks, converters,
//!   transformations and predicates in safe, `Send` Rust types.
//! - [`host`] gives plugins the worker's logger: their `log` records arrive in the worker's with
//!   their own target and level.
//!
//! Invariants: plugin libraries are never unloaded, so every [`PluginClassInfo`] and handle stays
//! valid for the life of the process; no plugin call can unwind into the worker (the plugin side
//! catches panics and returns them as errors).

pub mod error;
pub mod handles;
pub mod host;
pub mod registry;
pub mod summary;
pub mod version;

pub use error::LoaderError;
pub use handles::{
    detached_connector_context, detached_task_context, ConnectorHandle, ConverterHandle,
    PredicateHandle, SinkTaskHandle, SourceTaskHandle, TransformationHandle,
};
pub use host::host_services;
pub use registry::{
    class_aliases, is_compatible_plugin_api, pruned_name, simple_name, LoadFailure,
    PluginClassInfo, PluginInfo, PluginRegistry,
};
pub use summary::{summarize_abi_error, summarize_library_error};
pub use version::{compare_versions, VersionRequirement};
