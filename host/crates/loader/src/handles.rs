//! Safe handles over the ABI objects a plugin creates.
//!
//! Each handle owns one object and turns the ABI's `RResult`s into `Result<_, ConnectError>`,
//! configs into and out of [`Config`], and JSON-encoded definitions into their types. A plugin
//! panic arrives as an ordinary error of kind [`ErrorKind::Panic`](kconnect_plugin_api::ErrorKind)
//! because the plugin side catches it. Handles are `Send` (the worker moves each task to its own
//! thread) but not `Sync`: a task object is used by one thread at a time.

use abi_stable::std_types::{ROption, RResult, RSlice, RStr, RVec};
use kconnect_plugin_api::context::{
    ConnectorContextObject, DetachedContext, FfiConnectorContext_TO, FfiTaskContext_TO,
    TaskContextObject,
};
use kconnect_plugin_api::ffi::{
    config_to_entries, entries_to_config, ConnectorObject, ConverterObject, PredicateObject,
    SinkTaskObject, SourceTaskObject, TransformationObject,
};
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigValue, ConnectError, ConnectRecord, PartitionOffset, SchemaRef,
    SinkRecord, SourceRecord, TopicPartition, Value,
};
use std::fmt;
use std::time::Duration;

fn from_abi<T>(result: RResult<T, ConnectError>) -> Result<T, ConnectError> {
    result.into_result()
}

fn parse_json<T: serde::de::DeserializeOwned>(
    class: &str,
    what: &str,
    json: &str,
) -> Result<T, ConnectError> {
    serde_json::from_str(json)
        .map_err(|e| ConnectError::failed(format!("{class} returned an invalid {what}: {e}")))
}

/// A context for connectors run outside a worker (tools, tests): it ignores every request.
pub fn detached_connector_context() -> ConnectorContextObject {
    FfiConnectorContext_TO::from_value(DetachedContext, abi_stable::sabi_trait::TD_Opaque)
}

/// A context for tasks run outside a worker (tools, tests): no stored offsets, requests ignored.
pub fn detached_task_context() -> TaskContextObject {
    FfiTaskContext_TO::from_value(DetachedContext, abi_stable::sabi_trait::TD_Opaque)
}

macro_rules! debug_by_class {
    ($handle:ident) => {
        impl fmt::Debug for $handle {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($handle))
                    .field("class", &self.class)
                    .finish_non_exhaustive()
            }
        }

        impl $handle {
            /// The class this object is an instance of.
            pub fn class(&self) -> &str {
                &self.class
            }
        }
    };
}

/// A source or sink connector instance.
pub struct ConnectorHandle {
    class: String,
    object: ConnectorObject,
}

debug_by_class!(ConnectorHandle);

impl ConnectorHandle {
    pub(crate) fn new(class: String, object: ConnectorObject) -> ConnectorHandle {
        ConnectorHandle { class, object }
    }

    /// The settings the connector understands.
    pub fn config_def(&self) -> Result<ConfigDef, ConnectError> {
        let json = from_abi(self.object.config_def())?;
        parse_json(&self.class, "config definition", &json)
    }

    /// The connector's verdict on `config`, one value per key it checked.
    pub fn validate(&self, config: &Config) -> Result<Vec<ConfigValue>, ConnectError> {
        let json = from_abi(self.object.validate(config_to_entries(config)))?;
        parse_json(&self.class, "validation result", &json)
    }

    pub fn start(
        &mut self,
        config: Config,
        context: ConnectorContextObject,
    ) -> Result<(), ConnectError> {
        from_abi(self.object.start(config_to_entries(&config), context))
    }

    /// At most `max_tasks` task configs (`max_tasks` beyond `u32::MAX` is capped).
    pub fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Config>, ConnectError> {
        let max = u32::try_from(max_tasks).unwrap_or(u32::MAX);
        let configs = from_abi(self.object.task_configs(max))?;
        Ok(configs.iter().map(entries_to_config).collect())
    }

    pub fn stop(&mut self) -> Result<(), ConnectError> {
        from_abi(self.object.stop())
    }
}

/// A source task instance.
pub struct SourceTaskHandle {
    class: String,
    object: SourceTaskObject,
    wants_commit_record: bool,
}

debug_by_class!(SourceTaskHandle);

impl SourceTaskHandle {
    pub(crate) fn new(
        class: String,
        object: SourceTaskObject,
        wants_commit_record: bool,
    ) -> SourceTaskHandle {
        SourceTaskHandle {
            class,
            object,
            wants_commit_record,
        }
    }

    pub fn start(
        &mut self,
        config: Config,
        context: TaskContextObject,
    ) -> Result<(), ConnectError> {
        from_abi(self.object.start(config_to_entries(&config), context))
    }

    /// The next batch; the batch crosses the ABI as one allocation, not record by record.
    pub fn poll(&mut self, timeout: Duration) -> Result<RVec<SourceRecord>, ConnectError> {
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        from_abi(self.object.poll(millis))
    }

    pub fn commit(&mut self) -> Result<(), ConnectError> {
        from_abi(self.object.commit())
    }

    /// Tells the task that Kafka acknowledged `record`. Call it only when
    /// [`wants_commit_record`](SourceTaskHandle::wants_commit_record) says so.
    pub fn commit_record(&mut self, record: &SourceRecord) -> Result<(), ConnectError> {
        from_abi(self.object.commit_record(record))
    }

    /// Whether the plugin asked for a `commit_record` call per acknowledged record.
    pub fn wants_commit_record(&self) -> bool {
        self.wants_commit_record
    }

    pub fn stop(&mut self) -> Result<(), ConnectError> {
        from_abi(self.object.stop())
    }
}

/// A sink task instance.
pub struct SinkTaskHandle {
    class: String,
    object: SinkTaskObject,
}

debug_by_class!(SinkTaskHandle);

impl SinkTaskHandle {
    pub(crate) fn new(class: String, object: SinkTaskObject) -> SinkTaskHandle {
        SinkTaskHandle { class, object }
    }

    pub fn start(
        &mut self,
        config: Config,
        context: TaskContextObject,
    ) -> Result<(), ConnectError> {
        from_abi(self.object.start(config_to_entries(&config), context))
    }

    pub fn open(&mut self, partitions: &[TopicPartition]) -> Result<(), ConnectError> {
        from_abi(self.object.open(RSlice::from_slice(partitions)))
    }

    pub fn close(&mut self, partitions: &[TopicPartition]) -> Result<(), ConnectError> {
        from_abi(self.object.close(RSlice::from_slice(partitions)))
    }

    /// Hands a batch to the task; the records are lent, not copied.
    pub fn put(&mut self, records: &[SinkRecord]) -> Result<(), ConnectError> {
        from_abi(self.object.put(RSlice::from_slice(records)))
    }

    /// The offsets that are safe to commit, after the task flushed up to `offsets`.
    pub fn pre_commit(
        &mut self,
        offsets: Vec<PartitionOffset>,
    ) -> Result<Vec<PartitionOffset>, ConnectError> {
        let committed = from_abi(self.object.pre_commit(RVec::from(offsets)))?;
        Ok(committed.into_vec())
    }

    pub fn stop(&mut self) -> Result<(), ConnectError> {
        from_abi(self.object.stop())
    }
}

/// A converter instance.
pub struct ConverterHandle {
    class: String,
    object: ConverterObject,
}

debug_by_class!(ConverterHandle);

impl ConverterHandle {
    pub(crate) fn new(class: String, object: ConverterObject) -> ConverterHandle {
        ConverterHandle { class, object }
    }

    pub fn config_def(&self) -> Result<ConfigDef, ConnectError> {
        let json = from_abi(self.object.config_def())?;
        parse_json(&self.class, "config definition", &json)
    }

    /// Configures the converter for keys (`is_key`) or values.
    pub fn configure(&mut self, config: &Config, is_key: bool) -> Result<(), ConnectError> {
        from_abi(self.object.configure(config_to_entries(config), is_key))
    }

    /// Serialises a value; `None` is a Kafka null. The bytes stay in the plugin's allocation.
    pub fn from_connect(
        &mut self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<RVec<u8>>, ConnectError> {
        let schema = ROption::from(schema.cloned());
        let bytes = from_abi(
            self.object
                .from_connect(RStr::from_str(topic), schema, value),
        )?;
        Ok(bytes.into_option())
    }

    /// Deserialises bytes read from Kafka (`None` for a Kafka null).
    pub fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<SchemaRef>, Value), ConnectError> {
        let bytes = ROption::from(bytes.map(RSlice::from_slice));
        let converted = from_abi(self.object.to_connect(RStr::from_str(topic), bytes))?;
        Ok((converted.0.into_option(), converted.1))
    }
}

/// A transformation instance.
pub struct TransformationHandle {
    class: String,
    object: TransformationObject,
}

debug_by_class!(TransformationHandle);

impl TransformationHandle {
    pub(crate) fn new(class: String, object: TransformationObject) -> TransformationHandle {
        TransformationHandle { class, object }
    }

    pub fn config_def(&self) -> Result<ConfigDef, ConnectError> {
        let json = from_abi(self.object.config_def())?;
        parse_json(&self.class, "config definition", &json)
    }

    pub fn configure(&mut self, config: &Config) -> Result<(), ConnectError> {
        from_abi(self.object.configure(config_to_entries(config)))
    }

    /// The changed record, or `None` when the transformation drops it.
    pub fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>, ConnectError> {
        Ok(from_abi(self.object.apply(record))?.into_option())
    }
}

/// A predicate instance.
pub struct PredicateHandle {
    class: String,
    object: PredicateObject,
}

debug_by_class!(PredicateHandle);

impl PredicateHandle {
    pub(crate) fn new(class: String, object: PredicateObject) -> PredicateHandle {
        PredicateHandle { class, object }
    }

    pub fn config_def(&self) -> Result<ConfigDef, ConnectError> {
        let json = from_abi(self.object.config_def())?;
        parse_json(&self.class, "config definition", &json)
    }

    pub fn configure(&mut self, config: &Config) -> Result<(), ConnectError> {
        from_abi(self.object.configure(config_to_entries(config)))
    }

    pub fn test(&mut self, record: &ConnectRecord) -> Result<bool, ConnectError> {
        from_abi(self.object.test(record))
    }
}
