//! The plugin side of the ABI: adapters from the author's traits to the `Ffi*` objects, panic
//! capture, and the class registry behind [`export_plugin!`](crate::export_plugin).
//!
//! Invariant: no code path from an `extern "C"` entry point or an object method reaches the
//! author's code outside [`guard`].

use crate::config::ConfigDef;
use crate::connector::{
    Converter, Predicate, SinkConnector, SinkTask, SourceConnector, SourceTask, Transformation,
};
use crate::context::{ConnectorContext, ConnectorContextObject, TaskContext, TaskContextObject};
use crate::data::{SchemaRef, Value};
use crate::error::{ConnectError, ConnectResult, ErrorKind};
use crate::ffi::*;
use crate::manifest::{
    ClassManifest, PluginKind, PluginManifest, CAPABILITY_COMMIT_RECORD, CAPABILITY_EXACTLY_ONCE,
};
use crate::record::{ConnectRecord, PartitionOffset, SinkRecord, SourceRecord, TopicPartition};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RString, RVec, Tuple2};
use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;
use std::time::Duration;

thread_local! {
    static LAST_PANIC: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Replaces the plugin's panic hook (each cdylib has its own) so that a panic's message,
/// location and backtrace are kept for the error instead of being printed to stderr.
pub fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info.to_string();
            let backtrace = std::backtrace::Backtrace::force_capture().to_string();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some((message, backtrace)));
        }))
    });
}

fn panic_error(what: &str, payload: Box<dyn Any + Send>) -> ConnectError {
    let captured = LAST_PANIC.with(|p| p.borrow_mut().take());
    let (message, trace) = captured.unwrap_or_else(|| {
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_string());
        (text, String::new())
    });
    ConnectError::new(
        ErrorKind::Panic,
        format!("plugin panicked in {what}: {message}"),
    )
    .with_trace(trace)
}

/// Runs `f`, turning a panic into an [`ErrorKind::Panic`] error.
pub fn guard<T>(what: &str, f: impl FnOnce() -> ConnectResult<T>) -> RResult<T, ConnectError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => RResult::ROk(value),
        Ok(Err(error)) => RResult::RErr(error),
        Err(payload) => RResult::RErr(panic_error(what, payload)),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> ConnectResult<RString> {
    serde_json::to_string(value)
        .map(RString::from)
        .map_err(|e| ConnectError::failed(format!("cannot encode JSON: {e}")))
}

fn config_def_json(def: ConfigDef) -> ConnectResult<RString> {
    to_json(&def)
}

/// Wraps a connector.
pub struct ConnectorAdapter<C>(C);

impl<C: crate::connector::Connector> FfiConnector for ConnectorAdapter<C> {
    fn config_def(&self) -> RResult<RString, ConnectError> {
        guard("config", || config_def_json(self.0.config_def()))
    }

    fn validate(&self, config: ConfigEntries) -> RResult<RString, ConnectError> {
        guard("validate", || {
            to_json(&self.0.validate(&entries_to_config(&config)))
        })
    }

    fn start(
        &mut self,
        config: ConfigEntries,
        context: ConnectorContextObject,
    ) -> RResult<(), ConnectError> {
        guard("start", || {
            self.0
                .start(entries_to_config(&config), ConnectorContext::new(context))
        })
    }

    fn task_configs(&mut self, max_tasks: u32) -> RResult<RVec<ConfigEntries>, ConnectError> {
        guard("taskConfigs", || {
            let configs = self.0.task_configs(max_tasks as usize)?;
            Ok(configs.iter().map(config_to_entries).collect())
        })
    }

    fn stop(&mut self) -> RResult<(), ConnectError> {
        guard("stop", || self.0.stop())
    }
}

/// Wraps a source task.
pub struct SourceTaskAdapter<T>(T);

impl<T: SourceTask> FfiSourceTask for SourceTaskAdapter<T> {
    fn start(
        &mut self,
        config: ConfigEntries,
        context: TaskContextObject,
    ) -> RResult<(), ConnectError> {
        guard("start", || {
            self.0
                .start(entries_to_config(&config), TaskContext::new(context))
        })
    }

    fn poll(&mut self, timeout_ms: u64) -> RResult<RVec<SourceRecord>, ConnectError> {
        // Vec -> RVec keeps the allocation: the batch crosses as one pointer.
        guard("poll", || {
            self.0
                .poll(Duration::from_millis(timeout_ms))
                .map(RVec::from)
        })
    }

    fn commit(&mut self) -> RResult<(), ConnectError> {
        guard("commit", || self.0.commit())
    }

    fn commit_record(&mut self, record: &SourceRecord) -> RResult<(), ConnectError> {
        guard("commitRecord", || self.0.commit_record(record))
    }

    fn stop(&mut self) -> RResult<(), ConnectError> {
        guard("stop", || self.0.stop())
    }
}

/// Wraps a sink task.
pub struct SinkTaskAdapter<T>(T);

impl<T: SinkTask> FfiSinkTask for SinkTaskAdapter<T> {
    fn start(
        &mut self,
        config: ConfigEntries,
        context: TaskContextObject,
    ) -> RResult<(), ConnectError> {
        guard("start", || {
            self.0
                .start(entries_to_config(&config), TaskContext::new(context))
        })
    }

    fn open(&mut self, partitions: RSlice<'_, TopicPartition>) -> RResult<(), ConnectError> {
        guard("open", || self.0.open(partitions.as_slice()))
    }

    fn close(&mut self, partitions: RSlice<'_, TopicPartition>) -> RResult<(), ConnectError> {
        guard("close", || self.0.close(partitions.as_slice()))
    }

    fn put(&mut self, records: RSlice<'_, SinkRecord>) -> RResult<(), ConnectError> {
        guard("put", || self.0.put(records.as_slice()))
    }

    fn pre_commit(
        &mut self,
        offsets: RVec<PartitionOffset>,
    ) -> RResult<RVec<PartitionOffset>, ConnectError> {
        guard("flush", || {
            self.0.pre_commit(offsets.into_vec()).map(RVec::from)
        })
    }

    fn stop(&mut self) -> RResult<(), ConnectError> {
        guard("stop", || self.0.stop())
    }
}

/// Wraps a converter.
pub struct ConverterAdapter<C>(C);

impl<C: Converter> FfiConverter for ConverterAdapter<C> {
    fn config_def(&self) -> RResult<RString, ConnectError> {
        guard("config", || config_def_json(self.0.config_def()))
    }

    fn configure(&mut self, config: ConfigEntries, is_key: bool) -> RResult<(), ConnectError> {
        guard("configure", || {
            self.0.configure(entries_to_config(&config), is_key)
        })
    }

    fn from_connect(
        &mut self,
        topic: RStr<'_>,
        schema: ROption<SchemaRef>,
        value: &Value,
    ) -> RResult<ROption<RVec<u8>>, ConnectError> {
        guard("fromConnectData", || {
            let bytes =
                self.0
                    .from_connect(topic.as_str(), schema.as_ref().into_option(), value)?;
            Ok(bytes.map(RVec::from).into())
        })
    }

    fn to_connect(
        &mut self,
        topic: RStr<'_>,
        bytes: ROption<RSlice<'_, u8>>,
    ) -> RResult<Tuple2<ROption<SchemaRef>, Value>, ConnectError> {
        guard("toConnectData", || {
            let (schema, value) = self
                .0
                .to_connect(topic.as_str(), bytes.map(|b| b.as_slice()).into_option())?;
            Ok(Tuple2(schema.into(), value))
        })
    }
}

/// Wraps a transformation.
pub struct TransformationAdapter<T>(T);

impl<T: Transformation> FfiTransformation for TransformationAdapter<T> {
    fn config_def(&self) -> RResult<RString, ConnectError> {
        guard("config", || config_def_json(self.0.config_def()))
    }

    fn configure(&mut self, config: ConfigEntries) -> RResult<(), ConnectError> {
        guard("configure", || self.0.configure(entries_to_config(&config)))
    }

    fn apply(&mut self, record: ConnectRecord) -> RResult<ROption<ConnectRecord>, ConnectError> {
        guard("apply", || self.0.apply(record).map(ROption::from))
    }
}

/// Wraps a predicate.
pub struct PredicateAdapter<P>(P);

impl<P: Predicate> FfiPredicate for PredicateAdapter<P> {
    fn config_def(&self) -> RResult<RString, ConnectError> {
        guard("config", || config_def_json(self.0.config_def()))
    }

    fn configure(&mut self, config: ConfigEntries) -> RResult<(), ConnectError> {
        guard("configure", || self.0.configure(entries_to_config(&config)))
    }

    fn test(&mut self, record: &ConnectRecord) -> RResult<bool, ConnectError> {
        guard("test", || self.0.test(record))
    }
}

/// Creates a new object of one exported class.
#[derive(Clone, Copy)]
enum Factory {
    Connector(fn() -> ConnectorObject),
    SourceTask(fn() -> SourceTaskObject),
    SinkTask(fn() -> SinkTaskObject),
    Converter(fn() -> ConverterObject),
    Transformation(fn() -> TransformationObject),
    Predicate(fn() -> PredicateObject),
}

struct Entry {
    manifest: ClassManifest,
    object: Factory,
    /// For connectors: their task factory.
    task: Option<Factory>,
}

/// The classes a plugin exports; built by [`export_plugin!`](crate::export_plugin).
pub struct Registry {
    name: &'static str,
    version: &'static str,
    entries: Vec<Entry>,
}

fn class_manifest<P: crate::connector::PluginClass>(
    kind: PluginKind,
    plugin_version: &str,
    capabilities: Vec<String>,
) -> ClassManifest {
    ClassManifest {
        class: P::CLASS.to_string(),
        kind,
        version: if P::VERSION.is_empty() {
            plugin_version.to_string()
        } else {
            P::VERSION.to_string()
        },
        aliases: P::ALIASES.iter().map(|a| a.to_string()).collect(),
        doc: P::DOC.to_string(),
        capabilities,
        task_class: None,
    }
}

/// A connector's manifest, with its Java task class when it declares one.
fn connector_manifest<C: crate::connector::Connector>(
    kind: PluginKind,
    plugin_version: &str,
    capabilities: Vec<String>,
) -> ClassManifest {
    ClassManifest {
        task_class: (!C::TASK_CLASS.is_empty()).then(|| C::TASK_CLASS.to_string()),
        ..class_manifest::<C>(kind, plugin_version, capabilities)
    }
}

impl Registry {
    pub fn new(name: &'static str, version: &'static str) -> Registry {
        Registry {
            name,
            version,
            entries: Vec::new(),
        }
    }

    pub fn source_connector<C: SourceConnector>(&mut self) {
        let mut capabilities = Vec::new();
        if <C::Task as SourceTask>::WANTS_COMMIT_RECORD {
            capabilities.push(CAPABILITY_COMMIT_RECORD.to_string());
        }
        if C::EXACTLY_ONCE_SUPPORT {
            capabilities.push(CAPABILITY_EXACTLY_ONCE.to_string());
        }
        self.entries.push(Entry {
            manifest: connector_manifest::<C>(PluginKind::Source, self.version, capabilities),
            object: Factory::Connector(|| {
                FfiConnector_TO::from_value(ConnectorAdapter(C::default()), TD_Opaque)
            }),
            task: Some(Factory::SourceTask(|| {
                FfiSourceTask_TO::from_value(SourceTaskAdapter(C::Task::default()), TD_Opaque)
            })),
        });
    }

    pub fn sink_connector<C: SinkConnector>(&mut self) {
        self.entries.push(Entry {
            manifest: connector_manifest::<C>(PluginKind::Sink, self.version, Vec::new()),
            object: Factory::Connector(|| {
                FfiConnector_TO::from_value(ConnectorAdapter(C::default()), TD_Opaque)
            }),
            task: Some(Factory::SinkTask(|| {
                FfiSinkTask_TO::from_value(SinkTaskAdapter(C::Task::default()), TD_Opaque)
            })),
        });
    }

    pub fn converter<C: Converter>(&mut self) {
        self.entries.push(Entry {
            manifest: class_manifest::<C>(PluginKind::Converter, self.version, Vec::new()),
            object: Factory::Converter(|| {
                FfiConverter_TO::from_value(ConverterAdapter(C::default()), TD_Opaque)
            }),
            task: None,
        });
    }

    pub fn transformation<T: Transformation>(&mut self) {
        self.entries.push(Entry {
            manifest: class_manifest::<T>(PluginKind::Transformation, self.version, Vec::new()),
            object: Factory::Transformation(|| {
                FfiTransformation_TO::from_value(TransformationAdapter(T::default()), TD_Opaque)
            }),
            task: None,
        });
    }

    pub fn predicate<P: Predicate>(&mut self) {
        self.entries.push(Entry {
            manifest: class_manifest::<P>(PluginKind::Predicate, self.version, Vec::new()),
            object: Factory::Predicate(|| {
                FfiPredicate_TO::from_value(PredicateAdapter(P::default()), TD_Opaque)
            }),
            task: None,
        });
    }

    /// The manifest of everything registered.
    pub fn manifest(&self) -> PluginManifest {
        PluginManifest {
            plugin_api_version: crate::ABI_VERSION.to_string(),
            name: self.name.to_string(),
            version: self.version.to_string(),
            classes: self.entries.iter().map(|e| e.manifest.clone()).collect(),
        }
    }

    fn find(&self, class: &str) -> ConnectResult<&Entry> {
        self.entries
            .iter()
            .find(|e| e.manifest.class == class)
            .ok_or_else(|| {
                ConnectError::new(
                    ErrorKind::NotFound,
                    format!("plugin {} has no class {class}", self.name),
                )
            })
    }

    fn wrong_kind(class: &str, wanted: &str) -> ConnectError {
        ConnectError::new(ErrorKind::NotFound, format!("{class} is not a {wanted}"))
    }

    pub fn new_connector(&self, class: &str) -> ConnectResult<ConnectorObject> {
        match self.find(class)?.object {
            Factory::Connector(make) => Ok(make()),
            _ => Err(Self::wrong_kind(class, "connector")),
        }
    }

    pub fn new_source_task(&self, connector_class: &str) -> ConnectResult<SourceTaskObject> {
        match self.find(connector_class)?.task {
            Some(Factory::SourceTask(make)) => Ok(make()),
            _ => Err(Self::wrong_kind(connector_class, "source connector")),
        }
    }

    pub fn new_sink_task(&self, connector_class: &str) -> ConnectResult<SinkTaskObject> {
        match self.find(connector_class)?.task {
            Some(Factory::SinkTask(make)) => Ok(make()),
            _ => Err(Self::wrong_kind(connector_class, "sink connector")),
        }
    }

    pub fn new_converter(&self, class: &str) -> ConnectResult<ConverterObject> {
        match self.find(class)?.object {
            Factory::Converter(make) => Ok(make()),
            _ => Err(Self::wrong_kind(class, "converter")),
        }
    }

    pub fn new_transformation(&self, class: &str) -> ConnectResult<TransformationObject> {
        match self.find(class)?.object {
            Factory::Transformation(make) => Ok(make()),
            _ => Err(Self::wrong_kind(class, "transformation")),
        }
    }

    pub fn new_predicate(&self, class: &str) -> ConnectResult<PredicateObject> {
        match self.find(class)?.object {
            Factory::Predicate(make) => Ok(make()),
            _ => Err(Self::wrong_kind(class, "predicate")),
        }
    }
}

/// The body of the exported `init`: logging, panic hook, manifest.
pub fn init(host: HostServicesRef, registry: &Registry) -> RResult<RString, ConnectError> {
    guard("init", || {
        install_panic_hook();
        crate::logging::install(host);
        to_json(&registry.manifest())
    })
}

/// Builds the root module around a registry getter. Used by [`export_plugin!`](crate::export_plugin).
#[macro_export]
#[doc(hidden)]
macro_rules! __root_module {
    ($registry:path) => {{
        use $crate::abi_stable::std_types::{RResult, RStr, RString};
        use $crate::error::ConnectError;
        use $crate::export::guard;
        use $crate::ffi::*;

        extern "C" fn init(host: HostServicesRef) -> RResult<RString, ConnectError> {
            $crate::export::init(host, $registry())
        }
        extern "C" fn new_connector(class: RStr<'_>) -> RResult<ConnectorObject, ConnectError> {
            guard("newConnector", || $registry().new_connector(class.as_str()))
        }
        extern "C" fn new_source_task(class: RStr<'_>) -> RResult<SourceTaskObject, ConnectError> {
            guard("newTask", || $registry().new_source_task(class.as_str()))
        }
        extern "C" fn new_sink_task(class: RStr<'_>) -> RResult<SinkTaskObject, ConnectError> {
            guard("newTask", || $registry().new_sink_task(class.as_str()))
        }
        extern "C" fn new_converter(class: RStr<'_>) -> RResult<ConverterObject, ConnectError> {
            guard("newConverter", || $registry().new_converter(class.as_str()))
        }
        extern "C" fn new_transformation(
            class: RStr<'_>,
        ) -> RResult<TransformationObject, ConnectError> {
            guard("newTransformation", || {
                $registry().new_transformation(class.as_str())
            })
        }
        extern "C" fn new_predicate(class: RStr<'_>) -> RResult<PredicateObject, ConnectError> {
            guard("newPredicate", || $registry().new_predicate(class.as_str()))
        }
        use $crate::abi_stable::prefix_type::PrefixTypeTrait;
        PluginModule {
            init,
            new_connector,
            new_source_task,
            new_sink_task,
            new_converter,
            new_transformation,
            new_predicate,
        }
        .leak_into_prefix()
    }};
}

/// Exports a plugin's classes through the stable ABI. Use it once, at the crate root of a
/// `cdylib`; list each kind that the plugin has, in this order:
///
/// ```ignore
/// kconnect_plugin_api::export_plugin! {
///     source_connectors: [MySourceConnector],
///     sink_connectors: [MySinkConnector],
///     converters: [],
///     transformations: [],
///     predicates: [],
/// }
/// ```
///
/// Every entry point the macro generates catches panics, so a panicking plugin fails only the
/// connector or task concerned. Plugins must keep the default `panic = "unwind"`.
#[macro_export]
macro_rules! export_plugin {
    (
        $(source_connectors: [$($source:ty),* $(,)?] $(,)?)?
        $(sink_connectors: [$($sink:ty),* $(,)?] $(,)?)?
        $(converters: [$($converter:ty),* $(,)?] $(,)?)?
        $(transformations: [$($transformation:ty),* $(,)?] $(,)?)?
        $(predicates: [$($predicate:ty),* $(,)?] $(,)?)?
    ) => {
        /// The classes this plugin exports (generated by `export_plugin!`).
        pub fn kconnect_plugin_registry() -> &'static $crate::export::Registry {
            static REGISTRY: ::std::sync::OnceLock<$crate::export::Registry> =
                ::std::sync::OnceLock::new();
            REGISTRY.get_or_init(|| {
                #[allow(unused_mut)]
                let mut registry = $crate::export::Registry::new(
                    env!("CARGO_PKG_NAME"),
                    env!("CARGO_PKG_VERSION"),
                );
                $($(registry.source_connector::<$source>();)*)?
                $($(registry.sink_connector::<$sink>();)*)?
                $($(registry.converter::<$converter>();)*)?
                $($(registry.transformation::<$transformation>();)*)?
                $($(registry.predicate::<$predicate>();)*)?
                registry
            })
        }

        /// The root module of this plugin library (generated by `export_plugin!`).
        pub fn kconnect_plugin_module() -> $crate::ffi::PluginModuleRef {
            static MODULE: ::std::sync::OnceLock<$crate::ffi::PluginModuleRef> =
                ::std::sync::OnceLock::new();
            *MODULE.get_or_init(|| $crate::__root_module!(kconnect_plugin_registry))
        }

        // abi_stable's `#[export_root_module]`, spelled out so that plugin crates need no direct
        // dependency on abi_stable. The symbol name is abi_stable's ROOT_MODULE_LOADER_NAME.
        #[no_mangle]
        #[doc(hidden)]
        pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi_stable::library::LibHeader = {
            extern "C" fn loader() -> $crate::abi_stable::library::RootModuleResult {
                $crate::abi_stable::library::__call_root_module_loader(kconnect_plugin_module)
            }
            unsafe {
                $crate::abi_stable::library::LibHeader::from_constructor::<
                    $crate::ffi::PluginModuleRef,
                >(loader, $crate::abi_stable::library::CheckTypeLayout::Yes)
            }
        };
    };
}
