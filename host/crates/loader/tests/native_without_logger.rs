//! A natively linked plugin in a process that has no logger yet: the plugin's `init` installs its
//! forwarding logger as the process logger, which forwards to the worker's services, which ask the
//! process logger... The host side must break that loop instead of overflowing the stack.
//! (Its own test binary, because no logger may be installed before the test runs.)

use kconnect_loader::{detached_task_context, PluginRegistry};
use std::time::Duration;

#[test]
fn logging_through_a_native_plugin_without_a_worker_logger_does_not_recurse() {
    let registry = PluginRegistry::new();
    registry
        .add_native(kconnect_testing_plugin::kconnect_plugin_module(), "native")
        .unwrap();
    log::error!("a worker log line while the plugin's forwarding logger is the process logger");
    let source = registry
        .resolve("kconnect.testing.MisbehavingSourceConnector", &[], None)
        .unwrap();
    let mut task = registry.new_source_task(&source).unwrap();
    let settings = [("task.id".to_string(), "quiet".to_string())].into();
    task.start(settings, detached_task_context()).unwrap();
    let batch = task.poll(Duration::from_millis(1)).unwrap();
    assert_eq!(batch.len(), 1);
    task.stop().unwrap();
}
