//! # kconnect loader
//!
//! From `plugin.path` folders to a registry of plugin classes, and from a class to live instances.
//!
//! - [`PluginRegistry::scan`] loads every plugin library found (see [`registry`] for the layout,
//!   the checks each file goes through, the aliases a class answers to and the resolution rule);
//!   refused files are reported once each, with a one-line reason ([`LoadFailure`]).
//! - [`PluginRegistry::resolve`] finds a class by full name or alias, optionally pinned to a
//!   version (KIP-891).
//! - [`PluginRegistry::rescan`] (run every half second by a [`PluginWatcher`]) loads what was
//!   added to or changed in `plugin.path` since, once each file is complete; a changed file is
//!   loaded as a new library next to the old one ([`files`] says when a file is complete and why
//!   every library is loaded from a private copy).
//! - The handles in [`handles`] wrap the ABI objects of connectors, tasks, converters,
//!   transformations and predicates in safe, `Send` Rust types.
//! - [`host`] gives plugins the worker's logger: their `log` records arrive in the worker's with
//!   their own target and level.
//!
//! Invariants: plugin libraries are never unloaded and are loaded from private copies that
//! nothing else writes, so every [`PluginClassInfo`] and handle stays valid for the life of the
//! process, whatever happens to the files on `plugin.path`; the registry only grows (its classes
//! are shared as `Arc<PluginClassInfo>`, so a connector keeps the class it started with); no
//! plugin call can unwind into the worker (the plugin side catches panics and returns them as
//! errors).

pub mod error;
pub mod files;
pub mod handles;
pub mod host;
pub mod registry;
pub mod summary;
pub mod version;
pub mod watch;

pub use error::LoaderError;
pub use handles::{
    detached_connector_context, detached_task_context, ConnectorHandle, ConverterHandle,
    PredicateHandle, SinkTaskHandle, SourceTaskHandle, TransformationHandle,
};
pub use host::host_services;
pub use registry::{
    class_aliases, is_compatible_plugin_api, pruned_name, simple_name, LoadFailure,
    PluginClassInfo, PluginInfo, PluginRegistry, RescanReport,
};
pub use summary::{summarize_abi_error, summarize_library_error};
pub use version::{compare_versions, VersionRequirement};
pub use watch::{PluginWatcher, DEFAULT_WATCH_INTERVAL};
