//! Rescanning a plugin.path while the registry is in use, with real plugin libraries: new files,
//! files still being written, changed, removed and broken files, and the watcher thread.

mod common;

use common::{built_plugins, capture_logs};
use kconnect_loader::files::SETTLE;
use kconnect_loader::{
    detached_task_context, PluginClassInfo, PluginRegistry, PluginWatcher, RescanReport,
    SourceTaskHandle,
};
use kconnect_plugin_api::Value;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SOURCE: &str = "kconnect.testing.MisbehavingSourceConnector";
const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";

fn empty_plugin_path() -> (tempfile::TempDir, PluginRegistry) {
    capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let registry = PluginRegistry::scan(&[dir.path().to_path_buf()]);
    assert!(registry.classes().is_empty());
    (dir, registry)
}

/// Two rescans at least [`SETTLE`] apart: what a file that does not change meanwhile needs.
fn two_looks(registry: &PluginRegistry) -> (RescanReport, RescanReport) {
    let first = registry.rescan();
    std::thread::sleep(SETTLE + Duration::from_millis(20));
    (first, registry.rescan())
}

fn copies_of(registry: &PluginRegistry, class: &str) -> Vec<Arc<PluginClassInfo>> {
    registry
        .classes()
        .into_iter()
        .filter(|c| c.class == class)
        .collect()
}

fn started_task(class: &PluginClassInfo, id: &str) -> SourceTaskHandle {
    let mut task = class.new_source_task().unwrap();
    let config = [("task.id".to_string(), id.to_string())].into();
    task.start(config, detached_task_context()).unwrap();
    task
}

fn polled(task: &mut SourceTaskHandle) -> Value {
    task.poll(Duration::from_millis(1)).unwrap()[0]
        .record
        .value
        .clone()
}

/// The testing plugin with bytes appended: loads the same, but is a different file.
fn rebuilt_testing_plugin(extra: &[u8]) -> Vec<u8> {
    let mut bytes = fs::read(&built_plugins().testing).unwrap();
    bytes.extend_from_slice(extra);
    bytes
}

#[test]
fn a_new_file_is_loaded_by_a_rescan_once_it_has_settled() {
    let (dir, registry) = empty_plugin_path();
    let path = dir.path().join("testing.so");
    fs::copy(&built_plugins().testing, &path).unwrap();

    let (first, second) = two_looks(&registry);
    assert!(first.loaded.is_empty(), "loaded at first sight: {first:?}");
    assert_eq!(first.waiting, vec![path.clone()]);
    assert_eq!(second.loaded.len(), 1, "{second:?}");
    assert_eq!(second.loaded[0].file, path);
    assert!(second.refused.is_empty() && second.waiting.is_empty());

    let source = registry.resolve("MisbehavingSource", &[], None).unwrap();
    assert_eq!(source.file, path);
    assert_ne!(source.loaded_from, path, "the private copy is loaded");
    assert!(source.loaded_from.starts_with(std::env::temp_dir()));
    let mut task = started_task(&source, "new");
    assert_eq!(polled(&mut task), Value::from("new-0"));

    // Nothing changed: nothing more to do.
    let (third, fourth) = two_looks(&registry);
    assert!(third.is_quiet() && fourth.is_quiet() && fourth.waiting.is_empty());
    assert_eq!(copies_of(&registry, SOURCE).len(), 1);
}

#[test]
fn a_half_written_file_is_neither_loaded_nor_failed_until_it_is_complete() {
    let (dir, registry) = empty_plugin_path();
    let path = dir.path().join("testing.so");
    let bytes = fs::read(&built_plugins().testing).unwrap();
    let half = bytes.len() / 2;
    let mut file = fs::File::create(&path).unwrap();
    file.write_all(&bytes[..half]).unwrap();
    file.flush().unwrap();

    // Unchanged across two looks, but shorter than its ELF header says.
    let (first, second) = two_looks(&registry);
    for report in [&first, &second] {
        assert!(report.is_quiet(), "{report:?}");
        assert_eq!(report.waiting, vec![path.clone()]);
    }
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
    assert!(registry.classes().is_empty());

    file.write_all(&bytes[half..]).unwrap();
    drop(file);
    let (third, fourth) = two_looks(&registry);
    assert!(third.loaded.is_empty(), "loaded while it may still change");
    assert_eq!(fourth.loaded.len(), 1, "{fourth:?}");
    assert!(registry.failures().is_empty());
    let source = registry.resolve(SOURCE, &[], None).unwrap();
    assert_eq!(
        polled(&mut started_task(&source, "whole")),
        Value::from("whole-0")
    );
}

#[test]
fn a_replaced_file_is_loaded_as_a_new_library_and_the_old_one_keeps_working() {
    let (dir, registry) = empty_plugin_path();
    let path = dir.path().join("testing.so");
    fs::copy(&built_plugins().testing, &path).unwrap();
    two_looks(&registry);
    let old = registry.resolve(SOURCE, &[], None).unwrap();
    let mut old_task = started_task(&old, "old");
    assert_eq!(polled(&mut old_task), Value::from("old-0"));

    // Written in place over the loaded file, as `cp` does: the loaded copy is not touched.
    fs::write(&path, rebuilt_testing_plugin(b"version two")).unwrap();
    let (_, report) = two_looks(&registry);
    assert_eq!(report.loaded.len(), 1, "{report:?}");
    assert_eq!(report.loaded[0].file, path);

    let copies = copies_of(&registry, SOURCE);
    assert_eq!(copies.len(), 2, "both versions are listed");
    assert_eq!(copies[0].loaded_from, old.loaded_from);
    assert_ne!(copies[1].loaded_from, old.loaded_from);
    assert!(copies.iter().all(|c| c.file == path));
    // A rewritten file with the same version string replaces itself for new users.
    let new = registry.resolve(SOURCE, &[], None).unwrap();
    assert_eq!(new.loaded_from, copies[1].loaded_from);
    assert_eq!(polled(&mut started_task(&new, "new")), Value::from("new-0"));
    // What started on the old library goes on, and the old class still makes instances.
    assert_eq!(polled(&mut old_task), Value::from("old-1"));
    assert_eq!(
        polled(&mut started_task(&old, "old-again")),
        Value::from("old-again-0")
    );

    // Renamed into place with a content already loaded from this path: nothing new.
    let staged = dir.path().join("testing.so.part");
    fs::copy(&built_plugins().testing, &staged).unwrap();
    fs::rename(&staged, &path).unwrap();
    let (first, second) = two_looks(&registry);
    assert!(first.is_quiet() && second.is_quiet(), "{second:?}");
    assert_eq!(copies_of(&registry, SOURCE).len(), 2);
    assert_eq!(registry.plugins().len(), 2);
}

#[test]
fn a_removed_file_leaves_its_classes_usable() {
    let (dir, registry) = empty_plugin_path();
    let path = dir.path().join("testing.so");
    fs::copy(&built_plugins().testing, &path).unwrap();
    two_looks(&registry);
    let source = registry.resolve(SOURCE, &[], None).unwrap();
    let mut running = started_task(&source, "running");
    assert_eq!(polled(&mut running), Value::from("running-0"));

    fs::remove_file(&path).unwrap();
    let (first, second) = two_looks(&registry);
    assert!(first.is_quiet() && second.is_quiet());
    assert!(registry.failures().is_empty());

    assert_eq!(polled(&mut running), Value::from("running-1"));
    let again = registry.resolve(SOURCE, &[], None).unwrap();
    assert_eq!(again.loaded_from, source.loaded_from);
    assert_eq!(
        polled(&mut started_task(&again, "later")),
        Value::from("later-0")
    );

    // Put back unchanged: already loaded, so not loaded twice.
    fs::copy(&built_plugins().testing, &path).unwrap();
    let (third, fourth) = two_looks(&registry);
    assert!(third.is_quiet() && fourth.is_quiet());
    assert_eq!(copies_of(&registry, SOURCE).len(), 1);
}

#[test]
fn a_bad_file_is_refused_once_and_forgotten_when_fixed_or_removed() {
    let logs = capture_logs();
    let (dir, registry) = empty_plugin_path();
    let junk = dir.path().join("junk.so");
    let notes = "These are notes about plugins, written to a file whose name ends in .so.\n";
    fs::write(&junk, notes.repeat(4)).unwrap();
    let old_abi = dir.path().join("old-abi.so");
    fs::copy(&built_plugins().old_abi, &old_abi).unwrap();

    let (_, report) = two_looks(&registry);
    let refused: Vec<&Path> = report.refused.iter().map(|f| f.path.as_path()).collect();
    assert_eq!(refused, vec![junk.as_path(), old_abi.as_path()]);
    assert_eq!(
        report.refused[0].reason,
        "cannot load shared library: invalid ELF header"
    );
    assert!(report.refused[1]
        .reason
        .starts_with("incompatible plugin-api"));
    assert_eq!(registry.failures(), report.refused);

    // Later rescans stay quiet about them.
    let (first, second) = two_looks(&registry);
    assert!(first.is_quiet() && second.is_quiet());
    for path in [&junk, &old_abi] {
        let name = path.display().to_string();
        let lines = logs.records(|r| r.level <= log::Level::Info && r.message.contains(&name));
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0].level, log::Level::Warn);
    }

    // Fixed: loaded, and no longer listed as failed.
    fs::copy(&built_plugins().file, &junk).unwrap();
    let (_, fixed) = two_looks(&registry);
    assert_eq!(fixed.loaded.len(), 1, "{fixed:?}");
    assert!(registry.resolve(FILE_SOURCE, &[], None).is_ok());
    let failed: Vec<PathBuf> = registry.failures().into_iter().map(|f| f.path).collect();
    assert_eq!(failed, vec![old_abi.clone()]);

    // Removed: no longer listed either.
    fs::remove_file(&old_abi).unwrap();
    registry.rescan();
    assert!(registry.failures().is_empty(), "{:?}", registry.failures());
}

#[test]
fn a_folder_that_appears_later_is_scanned_then() {
    capture_logs();
    let root = tempfile::tempdir().unwrap();
    let later = root.path().join("later");
    let registry = PluginRegistry::scan(std::slice::from_ref(&later));
    assert_eq!(registry.failures().len(), 1);
    assert_eq!(registry.failures()[0].reason, "no such folder");
    registry.rescan();
    assert_eq!(
        registry.failures().len(),
        1,
        "reported once, kept while true"
    );

    fs::create_dir_all(later.join("testing")).unwrap();
    fs::copy(
        &built_plugins().testing,
        later.join("testing/libkconnect_testing_plugin.so"),
    )
    .unwrap();
    let (_, report) = two_looks(&registry);
    assert_eq!(report.loaded.len(), 1, "{report:?}");
    assert!(registry.failures().is_empty());
}

#[test]
fn the_watcher_loads_new_files_and_reports_refusals_by_itself() {
    let (dir, registry) = empty_plugin_path();
    let registry = Arc::new(registry);
    let reports: Arc<Mutex<Vec<RescanReport>>> = Arc::default();
    let watcher = {
        let reports = reports.clone();
        PluginWatcher::start(
            registry.clone(),
            Duration::from_millis(100),
            move |report| {
                reports.lock().unwrap().push(report.clone());
            },
        )
        .unwrap()
    };
    fs::copy(&built_plugins().testing, dir.path().join("testing.so")).unwrap();
    fs::write(dir.path().join("empty-but-for-this.so"), "no code here").unwrap();

    let deadline = Instant::now() + Duration::from_secs(30);
    while (registry.resolve(SOURCE, &[], None).is_err() || registry.failures().is_empty())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    watcher.stop();
    let reports = reports.lock().unwrap();
    let loaded: usize = reports.iter().map(|r| r.loaded.len()).sum();
    let refused: usize = reports.iter().map(|r| r.refused.len()).sum();
    assert_eq!((loaded, refused), (1, 1), "{reports:?}");
    assert!(registry.resolve(SOURCE, &[], None).is_ok());
}
