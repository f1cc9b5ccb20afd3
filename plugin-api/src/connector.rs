//! The traits a plugin author implements, mirroring Kafka Connect's `SourceConnector`,
//! `SinkConnector`, `SourceTask`, `SinkTask`, `Converter`, `Transformation` and `Predicate`.
//!
//! They are plain Rust: no ABI types, no `unsafe`. The [`export_plugin!`](crate::export_plugin)
//! macro wraps them in the stable ABI and catches every panic inside the plugin.
//!
//! Every call is synchronous and may block: the worker runs each task on its own thread. A task
//! object is used by one thread at a time.

use crate::config::{Config, ConfigDef, ConfigValue};
use crate::context::{ConnectorContext, TaskContext};
use crate::data::{SchemaRef, Value};
use crate::error::ConnectResult;
use crate::record::{ConnectRecord, PartitionOffset, SinkRecord, SourceRecord, TopicPartition};
use std::time::Duration;

/// Identity of an exported class.
pub trait PluginClass {
    /// The class name users write in `connector.class` (or `transforms.x.type`…). Use a dotted,
    /// Java-style name to stay compatible with existing Kafka configs, e.g.
    /// `org.apache.kafka.connect.file.FileStreamSourceConnector`. The worker also accepts the last
    /// segment and, for connectors, the last segment without the `Connector` suffix.
    const CLASS: &'static str;
    /// Further names the class answers to.
    const ALIASES: &'static [&'static str] = &[];
    /// The class version; empty means the plugin's crate version.
    const VERSION: &'static str = "";
    /// One line shown in `kconnect plugins`.
    const DOC: &'static str = "";
}

/// What source and sink connectors share.
pub trait Connector: PluginClass + Default + Send + 'static {
    /// The Java class that runs this connector's tasks on an Apache Kafka Connect worker,
    /// written as `task.class` into every task config (a Java worker of the same group needs it
    /// to run a task whose config a kconnect worker wrote). Empty: the class name with its
    /// `Connector` suffix replaced by `Task`, as Kafka's own connectors name them.
    const TASK_CLASS: &'static str = "";

    /// The settings the connector understands.
    fn config_def(&self) -> ConfigDef;

    /// Validates a config; by default checks it against [`Connector::config_def`].
    fn validate(&self, config: &Config) -> Vec<ConfigValue> {
        self.config_def().validate(config)
    }

    /// Starts the connector with its (already validated) config.
    fn start(&mut self, config: Config, context: ConnectorContext) -> ConnectResult<()>;

    /// The configs of at most `max_tasks` tasks.
    fn task_configs(&mut self, max_tasks: usize) -> ConnectResult<Vec<Config>>;

    /// Stops the connector; the worker calls it once, also after a failed start.
    fn stop(&mut self) -> ConnectResult<()>;
}

/// A connector that imports data into Kafka.
pub trait SourceConnector: Connector {
    /// The task this connector's task configs are run by.
    type Task: SourceTask;

    /// True when the connector delivers exactly once with transactional tasks (KIP-618): its
    /// tasks' offsets say exactly which records were written. Kafka's `exactlyOnceSupport`.
    const EXACTLY_ONCE_SUPPORT: bool = false;
}

/// A connector that exports data from Kafka.
pub trait SinkConnector: Connector {
    /// The task this connector's task configs are run by.
    type Task: SinkTask;
}

/// Reads from a source and returns records (Kafka's `SourceTask`).
pub trait SourceTask: Default + Send + 'static {
    /// Starts the task. Stored offsets are read through `context`.
    fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()>;

    /// Returns the next batch, waiting at most about `timeout` when nothing is available; an empty
    /// batch is fine. Return whole batches: they cross into the worker in one move.
    fn poll(&mut self, timeout: Duration) -> ConnectResult<Vec<SourceRecord>>;

    /// Called after offsets up to the last acknowledged records were stored.
    fn commit(&mut self) -> ConnectResult<()> {
        Ok(())
    }

    /// Called for each record once Kafka acknowledged it (only if the plugin asks for it with
    /// [`SourceTask::WANTS_COMMIT_RECORD`], to keep the per-record path free otherwise).
    fn commit_record(&mut self, _record: &SourceRecord) -> ConnectResult<()> {
        Ok(())
    }

    /// Whether the worker should call [`SourceTask::commit_record`].
    const WANTS_COMMIT_RECORD: bool = false;

    /// Stops the task. Called once, from the task's thread, after the last `poll`.
    fn stop(&mut self) -> ConnectResult<()>;
}

/// Writes records to a destination (Kafka's `SinkTask`).
pub trait SinkTask: Default + Send + 'static {
    /// Starts the task.
    fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()>;

    /// Partitions newly assigned to this task.
    fn open(&mut self, _partitions: &[TopicPartition]) -> ConnectResult<()> {
        Ok(())
    }

    /// Partitions taken away from this task; flush what belongs to them.
    fn close(&mut self, _partitions: &[TopicPartition]) -> ConnectResult<()> {
        Ok(())
    }

    /// Writes a batch. It may buffer; data must be durable after [`SinkTask::flush`].
    fn put(&mut self, records: &[SinkRecord]) -> ConnectResult<()>;

    /// Makes everything given to `put` up to `offsets` durable.
    fn flush(&mut self, _offsets: &[PartitionOffset]) -> ConnectResult<()> {
        Ok(())
    }

    /// Returns the offsets that are safe to commit; by default flushes and returns `offsets`.
    fn pre_commit(&mut self, offsets: Vec<PartitionOffset>) -> ConnectResult<Vec<PartitionOffset>> {
        self.flush(&offsets)?;
        Ok(offsets)
    }

    /// Stops the task.
    fn stop(&mut self) -> ConnectResult<()>;
}

/// Turns Connect data into bytes for Kafka and back (Kafka's `Converter`).
pub trait Converter: PluginClass + Default + Send + 'static {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }

    /// Configures the converter for keys (`is_key`) or values.
    fn configure(&mut self, config: Config, is_key: bool) -> ConnectResult<()>;

    /// Serialises a value; `None` writes a Kafka null (a tombstone).
    // Kafka's name for the method, kept for familiarity.
    #[allow(clippy::wrong_self_convention)]
    fn from_connect(
        &mut self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>>;

    /// Deserialises bytes read from Kafka (`None` for a Kafka null).
    fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> ConnectResult<(Option<SchemaRef>, Value)>;
}

/// Changes or drops one record at a time (Kafka's `Transformation`).
pub trait Transformation: PluginClass + Default + Send + 'static {
    fn config_def(&self) -> ConfigDef;

    fn configure(&mut self, config: Config) -> ConnectResult<()>;

    /// The changed record, or `None` to drop it.
    fn apply(&mut self, record: ConnectRecord) -> ConnectResult<Option<ConnectRecord>>;
}

/// Decides whether a transformation applies to a record (Kafka's `Predicate`).
pub trait Predicate: PluginClass + Default + Send + 'static {
    fn config_def(&self) -> ConfigDef;

    fn configure(&mut self, config: Config) -> ConnectResult<()>;

    fn test(&mut self, record: &ConnectRecord) -> ConnectResult<bool>;
}
