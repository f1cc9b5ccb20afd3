//! What the worker offers to connectors and tasks while they run: stored offsets, commit requests,
//! task reconfiguration. The worker implements the `Ffi*` traits; plugins see the safe wrappers.

use crate::error::ConnectError;
use crate::record::SourceMap;
use abi_stable::sabi_trait;
use abi_stable::std_types::{RBox, ROption, RVec};

/// The worker's side of a task context, called from inside the plugin.
#[sabi_trait]
pub trait FfiTaskContext: Send + Sync {
    /// Stored source offsets of the given partitions, in the same order (source tasks).
    fn offsets(&self, partitions: RVec<SourceMap>) -> RVec<ROption<SourceMap>>;

    /// Asks the worker to commit offsets soon (sink tasks).
    #[sabi(last_prefix_field)]
    fn request_commit(&self);
}

/// The worker's side of a connector context.
#[sabi_trait]
pub trait FfiConnectorContext: Send + Sync {
    /// The connector's task configs changed; the worker will call `task_configs` again.
    fn request_task_reconfiguration(&self);

    /// The connector failed in the background.
    #[sabi(last_prefix_field)]
    fn raise_error(&self, error: ConnectError);
}

/// A boxed [`FfiTaskContext`] trait object.
pub type TaskContextObject = FfiTaskContext_TO<'static, RBox<()>>;
/// A boxed [`FfiConnectorContext`] trait object.
pub type ConnectorContextObject = FfiConnectorContext_TO<'static, RBox<()>>;

/// Given to a task's `start`.
pub struct TaskContext {
    inner: TaskContextObject,
}

impl TaskContext {
    /// Wraps a worker-provided context (or a test double from the host side of a test).
    pub fn new(inner: TaskContextObject) -> TaskContext {
        TaskContext { inner }
    }

    /// The stored offset of one source partition, if any.
    pub fn offset(&self, partition: &SourceMap) -> Option<SourceMap> {
        self.offsets(std::slice::from_ref(partition))
            .pop()
            .flatten()
    }

    /// The stored offsets of several source partitions, in order.
    pub fn offsets(&self, partitions: &[SourceMap]) -> Vec<Option<SourceMap>> {
        self.inner
            .offsets(partitions.iter().cloned().collect())
            .into_iter()
            .map(Option::from)
            .collect()
    }

    /// Asks the worker to commit offsets soon.
    pub fn request_commit(&self) {
        self.inner.request_commit()
    }
}

/// Given to a connector's `start`.
pub struct ConnectorContext {
    inner: ConnectorContextObject,
}

impl ConnectorContext {
    pub fn new(inner: ConnectorContextObject) -> ConnectorContext {
        ConnectorContext { inner }
    }

    /// Asks the worker to fetch new task configs.
    pub fn request_task_reconfiguration(&self) {
        self.inner.request_task_reconfiguration()
    }

    /// Reports a failure that happened outside a worker call; the connector becomes FAILED.
    pub fn raise_error(&self, error: ConnectError) {
        self.inner.raise_error(error)
    }
}

/// A context with no stored offsets that ignores requests: for tests and tools.
#[derive(Clone, Copy, Debug, Default)]
pub struct DetachedContext;

impl FfiTaskContext for DetachedContext {
    fn offsets(&self, partitions: RVec<SourceMap>) -> RVec<ROption<SourceMap>> {
        partitions.iter().map(|_| ROption::RNone).collect()
    }

    fn request_commit(&self) {}
}

impl FfiConnectorContext for DetachedContext {
    fn request_task_reconfiguration(&self) {}

    fn raise_error(&self, _error: ConnectError) {}
}

impl DetachedContext {
    pub fn task_context() -> TaskContext {
        TaskContext::new(FfiTaskContext_TO::from_value(
            DetachedContext,
            abi_stable::sabi_trait::TD_Opaque,
        ))
    }

    pub fn connector_context() -> ConnectorContext {
        ConnectorContext::new(FfiConnectorContext_TO::from_value(
            DetachedContext,
            abi_stable::sabi_trait::TD_Opaque,
        ))
    }
}
