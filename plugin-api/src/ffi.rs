//! The stable ABI between the worker and a plugin library.
//!
//! Invariants, in order of importance:
//! - The root module [`PluginModule`] is frozen. Its fields are the whole surface a library exports;
//!   new abilities travel as data (the JSON [`PluginManifest`](crate::manifest::PluginManifest) and
//!   its capability flags), because a worker whose root module has more fields rejects older plugins.
//! - Every entry point catches panics inside the plugin and returns them as
//!   [`ErrorKind::Panic`](crate::error::ErrorKind::Panic): an unwinding panic that reached the
//!   worker would abort the whole process.
//! - Calls are synchronous. Each cdylib has its own tokio statics, so no future crosses over.
//! - Object traits may grow only after their `last_prefix_field` method; the worker checks for the
//!   presence of such later methods before calling them.

use crate::context::{ConnectorContextObject, TaskContextObject};
use crate::data::{SchemaRef, Value};
use crate::error::ConnectError;
use crate::logging::LogRecord;
use crate::record::{ConnectRecord, PartitionOffset, SinkRecord, SourceRecord, TopicPartition};
use abi_stable::library::RootModule;
use abi_stable::sabi_trait;
use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec, Tuple2};
use abi_stable::{declare_root_module_statics, StableAbi};

/// A config as it crosses the boundary: ordered `(key, value)` pairs.
pub type ConfigEntries = RVec<Tuple2<RString, RString>>;

/// Converts a config to its ABI form.
pub fn config_to_entries(config: &crate::config::Config) -> ConfigEntries {
    config
        .iter()
        .map(|(k, v)| Tuple2(k.as_str().into(), v.as_str().into()))
        .collect()
}

/// Converts a config from its ABI form.
pub fn entries_to_config(entries: &ConfigEntries) -> crate::config::Config {
    entries
        .iter()
        .map(|e| (e.0.to_string(), e.1.to_string()))
        .collect()
}

/// Services the worker offers every plugin (logging). Frozen like the root module.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = HostServicesRef)))]
#[sabi(missing_field(panic))]
pub struct HostServices {
    /// Whether `level` (1 = error … 5 = trace) is enabled for `target`.
    pub log_enabled: extern "C" fn(level: u8, target: RStr<'_>) -> bool,
    /// Writes a record to the worker's log.
    #[sabi(last_prefix_field)]
    pub log: extern "C" fn(record: &LogRecord<'_>),
}

/// A connector instance, source or sink (the manifest says which).
#[sabi_trait]
pub trait FfiConnector: Send {
    /// The connector's `ConfigDef`, as JSON.
    fn config_def(&self) -> RResult<RString, ConnectError>;
    /// The connector's verdict on a config: a JSON array of `ConfigValue`.
    fn validate(&self, config: ConfigEntries) -> RResult<RString, ConnectError>;
    fn start(
        &mut self,
        config: ConfigEntries,
        context: ConnectorContextObject,
    ) -> RResult<(), ConnectError>;
    fn task_configs(&mut self, max_tasks: u32) -> RResult<RVec<ConfigEntries>, ConnectError>;
    #[sabi(last_prefix_field)]
    fn stop(&mut self) -> RResult<(), ConnectError>;
}

/// A source task instance.
#[sabi_trait]
pub trait FfiSourceTask: Send {
    fn start(
        &mut self,
        config: ConfigEntries,
        context: TaskContextObject,
    ) -> RResult<(), ConnectError>;
    fn poll(&mut self, timeout_ms: u64) -> RResult<RVec<SourceRecord>, ConnectError>;
    fn commit(&mut self) -> RResult<(), ConnectError>;
    fn commit_record(&mut self, record: &SourceRecord) -> RResult<(), ConnectError>;
    #[sabi(last_prefix_field)]
    fn stop(&mut self) -> RResult<(), ConnectError>;
}

/// A sink task instance.
#[sabi_trait]
pub trait FfiSinkTask: Send {
    fn start(
        &mut self,
        config: ConfigEntries,
        context: TaskContextObject,
    ) -> RResult<(), ConnectError>;
    fn open(&mut self, partitions: RSlice<'_, TopicPartition>) -> RResult<(), ConnectError>;
    fn close(&mut self, partitions: RSlice<'_, TopicPartition>) -> RResult<(), ConnectError>;
    fn put(&mut self, records: RSlice<'_, SinkRecord>) -> RResult<(), ConnectError>;
    fn pre_commit(
        &mut self,
        offsets: RVec<PartitionOffset>,
    ) -> RResult<RVec<PartitionOffset>, ConnectError>;
    #[sabi(last_prefix_field)]
    fn stop(&mut self) -> RResult<(), ConnectError>;
}

/// A converter instance.
#[sabi_trait]
pub trait FfiConverter: Send {
    fn config_def(&self) -> RResult<RString, ConnectError>;
    fn configure(&mut self, config: ConfigEntries, is_key: bool) -> RResult<(), ConnectError>;
    // Kafka's name for the method, kept for familiarity.
    #[allow(clippy::wrong_self_convention)]
    fn from_connect(
        &mut self,
        topic: RStr<'_>,
        schema: ROption<SchemaRef>,
        value: &Value,
    ) -> RResult<ROption<RVec<u8>>, ConnectError>;
    #[sabi(last_prefix_field)]
    fn to_connect(
        &mut self,
        topic: RStr<'_>,
        bytes: ROption<RSlice<'_, u8>>,
    ) -> RResult<Tuple2<ROption<SchemaRef>, Value>, ConnectError>;
}

/// A transformation instance.
#[sabi_trait]
pub trait FfiTransformation: Send {
    fn config_def(&self) -> RResult<RString, ConnectError>;
    fn configure(&mut self, config: ConfigEntries) -> RResult<(), ConnectError>;
    #[sabi(last_prefix_field)]
    fn apply(&mut self, record: ConnectRecord) -> RResult<ROption<ConnectRecord>, ConnectError>;
}

/// A predicate instance.
#[sabi_trait]
pub trait FfiPredicate: Send {
    fn config_def(&self) -> RResult<RString, ConnectError>;
    fn configure(&mut self, config: ConfigEntries) -> RResult<(), ConnectError>;
    #[sabi(last_prefix_field)]
    fn test(&mut self, record: &ConnectRecord) -> RResult<bool, ConnectError>;
}

pub type ConnectorObject = FfiConnector_TO<'static, RBox<()>>;
pub type SourceTaskObject = FfiSourceTask_TO<'static, RBox<()>>;
pub type SinkTaskObject = FfiSinkTask_TO<'static, RBox<()>>;
pub type ConverterObject = FfiConverter_TO<'static, RBox<()>>;
pub type TransformationObject = FfiTransformation_TO<'static, RBox<()>>;
pub type PredicateObject = FfiPredicate_TO<'static, RBox<()>>;

/// The root module every plugin library exports. Frozen: see the module docs.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModuleRef)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// Installs the worker's services and returns the plugin's manifest as JSON.
    pub init: extern "C" fn(host: HostServicesRef) -> RResult<RString, ConnectError>,
    /// A new connector of the given class (source or sink).
    pub new_connector: extern "C" fn(class: RStr<'_>) -> RResult<ConnectorObject, ConnectError>,
    /// A new task for the given source connector class.
    pub new_source_task:
        extern "C" fn(connector_class: RStr<'_>) -> RResult<SourceTaskObject, ConnectError>,
    /// A new task for the given sink connector class.
    pub new_sink_task:
        extern "C" fn(connector_class: RStr<'_>) -> RResult<SinkTaskObject, ConnectError>,
    pub new_converter: extern "C" fn(class: RStr<'_>) -> RResult<ConverterObject, ConnectError>,
    pub new_transformation:
        extern "C" fn(class: RStr<'_>) -> RResult<TransformationObject, ConnectError>,
    #[sabi(last_prefix_field)]
    pub new_predicate: extern "C" fn(class: RStr<'_>) -> RResult<PredicateObject, ConnectError>,
}

impl RootModule for PluginModuleRef {
    declare_root_module_statics! {PluginModuleRef}
    const BASE_NAME: &'static str = "kconnect_plugin";
    const NAME: &'static str = "kconnect_plugin";
    /// The ABI version ([`crate::ABI_VERSION`]): abi_stable refuses a library whose version is
    /// not compatible (same major, or same minor while the major is 0).
    const VERSION_STRINGS: abi_stable::sabi_types::VersionStrings =
        abi_stable::sabi_types::VersionStrings::new(crate::ABI_VERSION);
}

/// The name of the symbol every plugin library exports (abi_stable's root module loader).
pub const ROOT_MODULE_SYMBOL: &str = abi_stable::library::ROOT_MODULE_LOADER_NAME;
