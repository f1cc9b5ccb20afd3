//! The loader against real plugin libraries built by cargo: scanning a plugin.path with good and
//! bad files, resolution between copies, panics, logging, and every kind of class.

mod common;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RVec};
use common::{built_plugins, capture_logs};
use kconnect_loader::{
    detached_connector_context, detached_task_context, ConnectorHandle, ConverterHandle,
    LoaderError, PluginClassInfo, PluginRegistry, PredicateHandle, SinkTaskHandle,
    SourceTaskHandle, TransformationHandle,
};
use kconnect_plugin_api::context::{FfiTaskContext, FfiTaskContext_TO};
use kconnect_plugin_api::{
    Config, ConnectRecord, ErrorKind, PartitionOffset, PluginKind, SinkRecord, SourceMap,
    TopicPartition, Value,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const SOURCE: &str = "kconnect.testing.MisbehavingSourceConnector";
const SINK: &str = "kconnect.testing.MisbehavingSinkConnector";
const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

fn config(pairs: &[(&str, &str)]) -> Config {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A plugin.path folder holding only the testing plugin.
fn testing_plugin_path() -> (tempfile::TempDir, PluginRegistry) {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    fs::copy(&built_plugins().testing, dir.path().join("testing.so")).unwrap();
    let registry = PluginRegistry::scan(&[dir.path().to_path_buf()]);
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    (dir, registry)
}

fn class(registry: &PluginRegistry, name: &str) -> Arc<PluginClassInfo> {
    registry
        .resolve(name, &[], None)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn started_source_task(registry: &PluginRegistry, settings: &[(&str, &str)]) -> SourceTaskHandle {
    let mut task = registry.new_source_task(&class(registry, SOURCE)).unwrap();
    task.start(config(settings), detached_task_context())
        .unwrap();
    task
}

#[test]
fn scan_loads_good_plugins_and_gives_each_bad_file_one_line_reason() {
    let logs = capture_logs();
    let built = built_plugins();
    let root = tempfile::tempdir().unwrap();
    let path = root.path();
    // One plugin directly in the folder, one in its own subfolder (Kafka's layout).
    fs::copy(&built.testing, path.join("libkconnect_testing_plugin.so")).unwrap();
    fs::create_dir(path.join("file-plugin")).unwrap();
    fs::copy(
        &built.file,
        path.join("file-plugin/libkconnect_file_plugin.so"),
    )
    .unwrap();
    fs::write(
        path.join("file-plugin/README.txt"),
        "not a library, not looked at",
    )
    .unwrap();
    fs::write(path.join("empty.so"), b"").unwrap();
    // Longer than an ELF header, so that dlopen reads it and finds no magic number.
    let notes = "These are notes about plugins, written to a file whose name ends in .so.\n";
    fs::write(path.join("notes.so"), notes.repeat(4)).unwrap();
    fs::copy("/lib/x86_64-linux-gnu/libm.so.6", path.join("libm.so")).unwrap();
    fs::copy(&built.old_abi, path.join("old-abi.so")).unwrap();

    let registry = PluginRegistry::scan(&[path.to_path_buf()]);

    let source = class(&registry, "MisbehavingSource");
    assert_eq!(source.class, SOURCE);
    assert_eq!(source.kind, PluginKind::Source);
    assert_eq!(
        source.aliases,
        vec!["MisbehavingSourceConnector", "MisbehavingSource"]
    );
    assert_eq!(source.plugin_name, "kconnect-testing-plugin");
    assert_eq!(source.file, path.join("libkconnect_testing_plugin.so"));
    let upper = class(&registry, "UppercaseValue");
    assert_eq!(upper.kind, PluginKind::Transformation);
    let converter = class(&registry, "ReverseString");
    assert_eq!(converter.class, "kconnect.testing.ReverseStringConverter");
    let file_source = class(&registry, "FileStreamSource");
    assert_eq!(file_source.class, FILE_SOURCE);
    assert_eq!(
        file_source.file,
        path.join("file-plugin/libkconnect_file_plugin.so")
    );

    let reason = |name: &str| -> String {
        let failures: Vec<_> = registry
            .failures()
            .into_iter()
            .filter(|f| f.path == path.join(name))
            .collect();
        assert_eq!(failures.len(), 1, "{name}: {:?}", registry.failures());
        let reason = failures[0].reason.clone();
        assert!(!reason.contains('\n'), "{name}: {reason}");
        reason
    };
    assert_eq!(
        reason("empty.so"),
        "cannot load shared library: file too short"
    );
    assert_eq!(
        reason("notes.so"),
        "cannot load shared library: invalid ELF header"
    );
    assert_eq!(
        reason("libm.so"),
        "not a kconnect plugin (no root module symbol)"
    );
    assert_eq!(
        reason("old-abi.so"),
        format!(
            "incompatible plugin-api: plugin built for 0.0.1, worker has {}",
            kconnect_plugin_api::PLUGIN_API_VERSION
        )
    );
    assert_eq!(registry.failures().len(), 4, "{:?}", registry.failures());

    // One warning per refused file, naming it.
    for name in ["empty.so", "notes.so", "libm.so", "old-abi.so"] {
        let file = path.join(name).display().to_string();
        let warnings = logs.records(|r| r.level == log::Level::Warn && r.message.contains(&file));
        assert_eq!(warnings.len(), 1, "{name}: {warnings:?}");
    }
}

#[test]
fn a_missing_plugin_path_folder_is_a_failure_not_an_error() {
    capture_logs();
    let missing = PathBuf::from("/nonexistent/kconnect/plugins");
    let registry = PluginRegistry::scan(std::slice::from_ref(&missing));
    assert!(registry.classes().is_empty());
    assert_eq!(registry.failures().len(), 1);
    assert_eq!(registry.failures()[0].path, missing);
    assert_eq!(registry.failures()[0].reason, "no such folder");
}

#[test]
fn two_copies_are_both_listed_and_the_first_on_plugin_path_wins() {
    capture_logs();
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    for dir in [&first, &second] {
        fs::create_dir(dir.path().join("testing")).unwrap();
        fs::copy(
            &built_plugins().testing,
            dir.path().join("testing/libkconnect_testing_plugin.so"),
        )
        .unwrap();
    }
    let copy_in = |dir: &Path| dir.join("testing/libkconnect_testing_plugin.so");
    let forward = PluginRegistry::scan(&[first.path().to_path_buf(), second.path().to_path_buf()]);
    let copies: Vec<PathBuf> = forward
        .classes()
        .iter()
        .filter(|c| c.class == SOURCE)
        .map(|c| c.file.clone())
        .collect();
    assert_eq!(copies, vec![copy_in(first.path()), copy_in(second.path())]);
    assert_eq!(class(&forward, SOURCE).file, copy_in(first.path()));
    assert_eq!(
        class(&forward, "MisbehavingSource").file,
        copy_in(first.path())
    );

    let backward = PluginRegistry::scan(&[second.path().to_path_buf(), first.path().to_path_buf()]);
    assert_eq!(class(&backward, SOURCE).file, copy_in(second.path()));

    // Both copies are really loaded, each with its own module.
    for info in forward.classes().iter().filter(|c| c.class == SOURCE) {
        let mut task = info.new_source_task().unwrap();
        task.start(config(&[("task.id", "copy")]), detached_task_context())
            .unwrap();
        let batch = task.poll(Duration::from_millis(10)).unwrap();
        assert_eq!(batch[0].record.value, Value::from("copy-0"));
    }

    let pinned = forward
        .resolve(SOURCE, &[PluginKind::Source], Some("9.9"))
        .unwrap_err();
    assert!(matches!(pinned, LoaderError::VersionNotFound { .. }));
    assert!(
        pinned.to_string().ends_with("available versions: 0.1.0"),
        "{pinned}"
    );
}

#[test]
fn a_panicking_plugin_call_is_an_error_and_the_worker_keeps_running() {
    let (_dir, registry) = testing_plugin_path();
    let mut task = started_source_task(&registry, &[("panic.on", "poll"), ("task.id", "p")]);
    for _ in 0..2 {
        let error = task.poll(Duration::from_millis(10)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Panic);
        assert!(
            error
                .message
                .contains("testing source task p panicked in poll as configured by panic.on"),
            "{}",
            error.message
        );
        assert!(
            error.message.starts_with("plugin panicked in poll"),
            "{}",
            error.message
        );
        assert!(!error.trace.is_empty(), "the plugin's backtrace is kept");
    }
    task.stop().unwrap();

    let mut connector = registry.new_connector(&class(&registry, SINK)).unwrap();
    let error = connector
        .validate(&config(&[("panic.on", "connector.validate")]))
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Panic);
    assert!(
        error.message.contains("connector.validate"),
        "{}",
        error.message
    );
    let error = connector
        .start(
            config(&[("panic.on", "connector.start")]),
            detached_connector_context(),
        )
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Panic);
    connector.stop().unwrap();
}

#[test]
fn configured_failures_keep_their_kind() {
    let (_dir, registry) = testing_plugin_path();
    let mut task = registry.new_sink_task(&class(&registry, SINK)).unwrap();
    let error = task
        .start(
            config(&[("fail.on", "start"), ("fail.retriable", "true")]),
            detached_task_context(),
        )
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Retriable);
    assert!(
        error.message.contains("failed in start"),
        "{}",
        error.message
    );

    let mut connector = registry.new_connector(&class(&registry, SOURCE)).unwrap();
    let error = connector
        .start(
            config(&[("records.per.poll", "many")]),
            detached_connector_context(),
        )
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Config);
    assert!(
        error.message.contains("records.per.poll"),
        "{}",
        error.message
    );
}

#[test]
fn plugin_log_lines_reach_the_worker_logger_with_target_level_and_place() {
    let logs = capture_logs();
    let (_dir, registry) = testing_plugin_path();
    let mut task = started_source_task(&registry, &[("task.id", "logs-42")]);
    task.poll(Duration::from_millis(1)).unwrap();
    task.commit().unwrap();

    let from_task = |r: &common::Captured| {
        r.target == kconnect_testing_plugin::LOG_TARGET && r.message.contains("logs-42")
    };
    let started =
        logs.records(|r| from_task(r) && r.message.starts_with("testing source task started"));
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0].level, log::Level::Info);
    assert!(
        started[0]
            .file
            .as_deref()
            .is_some_and(|f| f.ends_with("source.rs")),
        "{:?}",
        started[0].file
    );
    assert!(started[0].line.is_some());
    let committed = logs.records(|r| from_task(r) && r.message.ends_with("committed"));
    assert_eq!(committed.len(), 1);
    assert_eq!(committed[0].level, log::Level::Debug);
    // The worker's logger refuses trace; the plugin asks before sending, so nothing arrives.
    assert!(logs
        .records(|r| from_task(r) && r.level == log::Level::Trace)
        .is_empty());
}

struct StoredOffsets;

impl FfiTaskContext for StoredOffsets {
    fn offsets(&self, partitions: RVec<SourceMap>) -> RVec<ROption<SourceMap>> {
        partitions
            .iter()
            .map(|p| match p.get("task").and_then(Value::as_str) {
                Some("resumed") => ROption::RSome(SourceMap::new().with("n", Value::Int64(41))),
                _ => ROption::RNone,
            })
            .collect()
    }

    fn request_commit(&self) {}
}

#[test]
fn every_kind_of_class_round_trips_through_the_abi() {
    let (dir, registry) = testing_plugin_path();

    // Connector: definition, validation, tasks.
    let mut connector: ConnectorHandle = registry.new_connector(&class(&registry, SOURCE)).unwrap();
    let def = connector.config_def().unwrap();
    assert!(def.key("records.per.poll").is_some());
    let verdict = connector
        .validate(&config(&[
            ("validate.error", "true"),
            ("panic.on", "bogus"),
        ]))
        .unwrap();
    let panic_on = verdict.iter().find(|v| v.name == "panic.on").unwrap();
    assert_eq!(panic_on.errors.len(), 2, "{:?}", panic_on.errors);
    connector
        .start(
            config(&[("topic", "numbers"), ("records.per.poll", "3")]),
            detached_connector_context(),
        )
        .unwrap();
    let task_configs = connector.task_configs(2).unwrap();
    assert_eq!(task_configs.len(), 2);
    assert_eq!(task_configs[1]["task.id"], "1");
    assert_eq!(task_configs[1]["topic"], "numbers");
    connector.stop().unwrap();

    // Source task, with offsets stored by the worker read through the context.
    let mut task = registry.new_source_task(&class(&registry, SOURCE)).unwrap();
    assert!(task.wants_commit_record());
    let mut settings = task_configs[1].clone();
    settings.insert("task.id".into(), "resumed".into());
    task.start(
        settings,
        FfiTaskContext_TO::from_value(StoredOffsets, TD_Opaque),
    )
    .unwrap();
    let batch = task.poll(Duration::from_millis(10)).unwrap();
    let values: Vec<String> = batch.iter().map(|r| r.record.value.to_string()).collect();
    assert_eq!(values, ["resumed-42", "resumed-43", "resumed-44"]);
    assert_eq!(batch[2].source_offset.get("n"), Some(&Value::Int64(44)));
    assert_eq!(batch[0].record.topic.as_str(), "numbers");
    task.commit_record(&batch[0]).unwrap();
    task.commit().unwrap();
    task.stop().unwrap();
    let bench = registry
        .new_source_task(&class(&registry, "BenchSource"))
        .unwrap();
    assert!(!bench.wants_commit_record());

    // Sink task: what it is given arrives in its file.
    let lines = dir.path().join("sink.txt");
    let mut sink: SinkTaskHandle = registry
        .new_sink_task(&class(&registry, "MisbehavingSink"))
        .unwrap();
    sink.start(
        config(&[("file", lines.to_str().unwrap())]),
        detached_task_context(),
    )
    .unwrap();
    let partition = TopicPartition::new("in", 0);
    sink.open(std::slice::from_ref(&partition)).unwrap();
    let records: Vec<SinkRecord> = (0..3)
        .map(|i| SinkRecord {
            kafka_offset: i,
            record: ConnectRecord::new("in", None, Value::from(format!("line {i}"))),
            ..SinkRecord::default()
        })
        .collect();
    sink.put(&records).unwrap();
    let offsets = vec![PartitionOffset {
        partition: partition.clone(),
        offset: 3,
    }];
    assert_eq!(sink.pre_commit(offsets.clone()).unwrap(), offsets);
    sink.close(std::slice::from_ref(&partition)).unwrap();
    sink.stop().unwrap();
    assert_eq!(
        fs::read_to_string(&lines).unwrap(),
        "line 0\nline 1\nline 2\n"
    );

    // Converter.
    let mut converter: ConverterHandle = registry
        .new_converter(&class(&registry, "ReverseStringConverter"))
        .unwrap();
    converter.configure(&Config::new(), false).unwrap();
    let bytes = converter
        .from_connect("t", None, &Value::from("kconnect"))
        .unwrap()
        .unwrap();
    assert_eq!(bytes.as_slice(), b"tcennock");
    let (schema, value) = converter.to_connect("t", Some(&bytes)).unwrap();
    assert_eq!(value, Value::from("kconnect"));
    assert!(schema.is_some_and(|s| s.optional));
    assert_eq!(
        converter.from_connect("t", None, &Value::Null).unwrap(),
        None
    );
    let panic = converter
        .from_connect("t", None, &Value::from("__panic__"))
        .unwrap_err();
    assert_eq!(panic.kind, ErrorKind::Panic);

    // Transformation.
    let mut upper: TransformationHandle = registry
        .new_transformation(&class(&registry, "UppercaseValue"))
        .unwrap();
    upper.configure(&Config::new()).unwrap();
    let changed = upper
        .apply(ConnectRecord::new("t", None, Value::from("quiet")))
        .unwrap()
        .unwrap();
    assert_eq!(changed.value, Value::from("QUIET"));

    // Predicate.
    let mut predicate: PredicateHandle = registry
        .new_predicate(&class(&registry, "TopicMatches"))
        .unwrap();
    assert_eq!(
        predicate.configure(&Config::new()).unwrap_err().kind,
        ErrorKind::Config
    );
    predicate.configure(&config(&[("topic", "a")])).unwrap();
    assert!(predicate
        .test(&ConnectRecord::new("a", None, Value::Null))
        .unwrap());
    assert!(!predicate
        .test(&ConnectRecord::new("b", None, Value::Null))
        .unwrap());
}

#[test]
fn a_class_is_created_only_as_its_own_kind() {
    let (_dir, registry) = testing_plugin_path();
    let sink = class(&registry, SINK);
    let error = registry.new_source_task(&sink).unwrap_err();
    assert!(matches!(error, LoaderError::WrongKind { .. }));
    let error = registry
        .resolve("MisbehavingSink", &[PluginKind::Source], None)
        .unwrap_err();
    assert!(matches!(error, LoaderError::WrongKind { .. }));
    let error = registry
        .resolve("NoSuchThing", &[PluginKind::Source, PluginKind::Sink], None)
        .unwrap_err();
    assert!(matches!(error, LoaderError::ClassNotFound { .. }));
}

fn assert_send<T: Send + 'static>() {}

#[test]
fn handles_move_between_threads() {
    assert_send::<ConnectorHandle>();
    assert_send::<SourceTaskHandle>();
    assert_send::<SinkTaskHandle>();
    assert_send::<ConverterHandle>();
    assert_send::<TransformationHandle>();
    assert_send::<PredicateHandle>();
    fn assert_shareable<T: Send + Sync>() {}
    assert_shareable::<PluginRegistry>();
    assert_shareable::<PluginClassInfo>();

    let (_dir, registry) = testing_plugin_path();
    let mut task = started_source_task(&registry, &[("task.id", "moved")]);
    let polled = std::thread::spawn(move || {
        let batch = task.poll(Duration::from_millis(1)).unwrap();
        task.stop().unwrap();
        batch[0].record.value.to_string()
    })
    .join()
    .unwrap();
    assert_eq!(polled, "moved-0");
}

#[test]
fn a_natively_linked_plugin_registers_like_a_loaded_one() {
    capture_logs();
    let registry = PluginRegistry::new();
    registry
        .add_native(
            kconnect_testing_plugin::kconnect_plugin_module(),
            "native:testing",
        )
        .unwrap();
    let source = class(&registry, "MisbehavingSource");
    assert_eq!(source.file, PathBuf::from("native:testing"));
    assert_eq!(registry.plugins()[0].name, "kconnect-testing-plugin");

    let mut task = registry.new_source_task(&source).unwrap();
    task.start(
        config(&[("task.id", "n"), ("panic.on", "commit")]),
        detached_task_context(),
    )
    .unwrap();
    assert_eq!(
        task.poll(Duration::from_millis(1)).unwrap()[0].record.value,
        Value::from("n-0")
    );
    let error = task.commit().unwrap_err();
    assert_eq!(error.kind, ErrorKind::Panic);
    assert!(
        error.message.contains("panicked in commit"),
        "{}",
        error.message
    );
}
