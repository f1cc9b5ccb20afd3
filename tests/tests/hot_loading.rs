//! Hot loading (`plugin.path.watch`, on by default): a plugin built outside the workspace (the
//! out-of-tree example) is copied slowly into a running worker's plugin.path and used as soon as
//! it is complete; a new version copied over it is loaded next to it while the connector started
//! from the first keeps running; a broken file is refused with one log line.

use kconnect_tests::*;
use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const COUNTER: &str = "com.example.CounterSourceConnector";
/// The file name both versions are copied to.
const PLUGIN_FILE: &str = "libcounter_connector.so";

/// Builds the example crate at `manifest` (debug) and returns its library, `lib<library>.so`.
/// Both versions share one target folder under the workspace's, so dependencies are built once;
/// their libraries are named apart, since cargo does not copy a library that is up to date to
/// where the other version's was.
fn build_counter(manifest: &Path, library: &str) -> PathBuf {
    let target = target_dir().join("hot-loading-example");
    let output = Command::new(env!("CARGO"))
        .args(["build", "-q", "--manifest-path"])
        .arg(manifest)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building {} failed:\n{}",
        manifest.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let library = target.join("debug").join(format!("lib{library}.so"));
    assert!(library.is_file(), "{} was not built", library.display());
    library
}

/// A copy of the example in `dir` whose version is 0.2.0 (the example's is 0.1.0), with the
/// library name `counter_connector_two`.
fn counter_version_two(dir: &Path) -> PathBuf {
    let example = workspace_root().join("examples/out-of-tree-connector");
    let copy = dir.join("counter-v2");
    fs::create_dir_all(copy.join("src")).unwrap();
    fs::copy(example.join("src/lib.rs"), copy.join("src/lib.rs")).unwrap();
    fs::copy(example.join("Cargo.lock"), copy.join("Cargo.lock")).unwrap();
    let manifest = fs::read_to_string(example.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("version = \"0.1.0\""), "{manifest}");
    let plugin_api = workspace_root().join("plugin-api");
    let manifest = manifest
        .replacen("version = \"0.1.0\"", "version = \"0.2.0\"", 1)
        .replace("[lib]\n", "[lib]\nname = \"counter_connector_two\"\n")
        .replace(
            "path = \"../../plugin-api\"",
            &format!("path = \"{}\"", plugin_api.display()),
        );
    fs::write(copy.join("Cargo.toml"), manifest).unwrap();
    copy.join("Cargo.toml")
}

/// Writes `bytes` to `to` in `chunks` parts with `pause` after each but the last, calling
/// `partial` during each pause (the file then holds part of the bytes).
fn slow_copy(bytes: &[u8], to: &Path, chunks: usize, pause: Duration, mut partial: impl FnMut()) {
    let mut file = fs::File::create(to).unwrap();
    let size = bytes.len().div_ceil(chunks);
    for (i, chunk) in bytes.chunks(size).enumerate() {
        file.write_all(chunk).unwrap();
        file.flush().unwrap();
        if i + 1 < chunks {
            std::thread::sleep(pause);
            partial();
        }
    }
}

fn get_json(worker: &Worker, path: &str) -> Value {
    ureq::get(&worker.url(path))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .into_json()
        .unwrap()
}

/// The versions of `class` that `GET /connector-plugins` lists.
fn listed_versions(worker: &Worker, class: &str) -> Vec<String> {
    let plugins = get_json(worker, "/connector-plugins");
    plugins
        .as_array()
        .expect("an array")
        .iter()
        .filter(|p| p["class"] == class)
        .map(|p| p["version"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn create_connector(worker: &Worker, name: &str, config: Value) -> Result<Value, (u16, String)> {
    match ureq::post(&worker.url("/connectors")).send_json(json!({"name": name, "config": config}))
    {
        Ok(response) => Ok(response.into_json().unwrap()),
        Err(ureq::Error::Status(status, response)) => {
            Err((status, response.into_string().unwrap_or_default()))
        }
        Err(e) => panic!("POST /connectors: {e}"),
    }
}

fn running(worker: &Worker, name: &str) -> bool {
    let status = get_json(worker, &format!("/connectors/{name}/status"));
    status["connector"]["state"] == "RUNNING"
        && status["tasks"]
            .as_array()
            .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "RUNNING"))
}

fn log_lines_naming(worker: &Worker, file: &Path) -> Vec<String> {
    let name = file.display().to_string();
    worker
        .logs()
        .lines()
        .filter(|l| l.contains(&name))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_plugin_copied_into_a_running_worker_is_loaded_used_and_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let example = workspace_root().join("examples/out-of-tree-connector/Cargo.toml");
    let version_one = fs::read(build_counter(&example, "counter_connector")).unwrap();
    let version_two = counter_version_two(dir.path());
    let version_two = fs::read(build_counter(&version_two, "counter_connector_two")).unwrap();
    assert_ne!(version_one, version_two);

    let hot = dir.path().join("hot");
    fs::create_dir(&hot).unwrap();
    let rest_port = free_port();
    let extra = format!(
        "plugin.path={},{}",
        dir.path().join("plugins").display(),
        hot.display()
    );
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, &extra);
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[], rest_port);
    worker.wait_ready();
    assert!(listed_versions(&worker, COUNTER).is_empty());

    // Slowly: each pause outlasts two rescans, so only the file's own ELF header tells that it
    // is not complete yet.
    let plugin = hot.join(PLUGIN_FILE);
    let mut partial_checks = 0;
    slow_copy(
        &version_one,
        &plugin,
        4,
        Duration::from_millis(1200),
        || {
            assert!(
                listed_versions(&worker, COUNTER).is_empty(),
                "loaded while partial"
            );
            assert!(
                log_lines_naming(&worker, &plugin).is_empty(),
                "a partial file was reported: {:?}",
                log_lines_naming(&worker, &plugin)
            );
            partial_checks += 1;
        },
    );
    assert_eq!(partial_checks, 3);
    let complete = Instant::now();
    wait_until(Duration::from_secs(10), "the counter to be listed", || {
        !listed_versions(&worker, COUNTER).is_empty()
    });
    let pickup = complete.elapsed();
    eprintln!("hot loading: the plugin was listed {pickup:?} after its last byte was written");
    assert!(
        pickup < Duration::from_secs(2),
        "listed only after {pickup:?}"
    );
    assert_eq!(listed_versions(&worker, COUNTER), vec!["0.1.0"]);

    // Used at once, with a sink from the worker's own plugins.
    let sink_file = dir.path().join("numbers.txt");
    create_connector(
        &worker,
        "counter",
        json!({"connector.class": COUNTER, "topic": "numbers", "batch.size": "5",
               "poll.interval.ms": "100"}),
    )
    .expect("the hot-loaded connector is accepted");
    create_connector(
        &worker,
        "numbers-sink",
        json!({"connector.class": "FileStreamSink", "topics": "numbers",
               "file": sink_file.display().to_string()}),
    )
    .expect("the sink is accepted");
    wait_until(Duration::from_secs(30), "numbers in the sink file", || {
        read_lines(&sink_file).len() >= 20
    });
    let numbers: Vec<String> = read_lines(&sink_file).into_iter().take(20).collect();
    let expected: Vec<String> = (0..20).map(|n| n.to_string()).collect();
    assert_eq!(numbers, expected);

    // Version two, written slowly over the very file the first was copied from.
    slow_copy(&version_two, &plugin, 3, Duration::from_millis(700), || {
        assert_eq!(listed_versions(&worker, COUNTER), vec!["0.1.0"]);
    });
    wait_until(
        Duration::from_secs(10),
        "both versions to be listed",
        || listed_versions(&worker, COUNTER).len() == 2,
    );
    let mut versions = listed_versions(&worker, COUNTER);
    versions.sort();
    assert_eq!(versions, vec!["0.1.0", "0.2.0"]);

    // The connector started from version one goes on.
    let flowed = read_lines(&sink_file).len();
    wait_until(
        Duration::from_secs(30),
        "more numbers after the upgrade",
        || read_lines(&sink_file).len() >= flowed + 20,
    );
    assert!(running(&worker, "counter"));
    let lines = read_lines(&sink_file);
    let expected: Vec<String> = (0..lines.len()).map(|n| n.to_string()).collect();
    assert_eq!(lines, expected, "one counter, counting on without a gap");

    // Either version can be pinned (KIP-891); a version that is not there is refused.
    create_connector(
        &worker,
        "counter-two",
        json!({"connector.class": COUNTER, "topic": "numbers-two",
               "connector.plugin.version": "0.2.0", "poll.interval.ms": "100"}),
    )
    .expect("version two can be pinned");
    wait_until(
        Duration::from_secs(30),
        "the pinned connector to run",
        || running(&worker, "counter-two"),
    );
    let (status, body) = create_connector(
        &worker,
        "counter-three",
        json!({"connector.class": COUNTER, "topic": "numbers-three",
               "connector.plugin.version": "0.3.0"}),
    )
    .expect_err("no version 0.3.0 is loaded");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("0.1.0, 0.2.0"), "{body}");

    // A broken file: one log line, counted, and the worker keeps serving.
    let junk = hot.join("junk.so");
    fs::write(
        &junk,
        "not a library at all, though its name ends in .so\n".repeat(8),
    )
    .unwrap();
    wait_until(
        Duration::from_secs(10),
        "the junk file to be refused",
        || !log_lines_naming(&worker, &junk).is_empty(),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let lines = log_lines_naming(&worker, &junk);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("invalid ELF header"), "{lines:?}");
    let metrics = ureq::get(&worker.url("/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "kconnect_worker_plugin_load_failures 1"),
        "{metrics}"
    );
    assert_eq!(listed_versions(&worker, COUNTER).len(), 2);
    let flowed = read_lines(&sink_file).len();
    wait_until(
        Duration::from_secs(30),
        "numbers after the junk file",
        || read_lines(&sink_file).len() > flowed,
    );
    assert!(running(&worker, "counter"));
    assert!(
        log_lines_naming(&worker, &plugin)
            .iter()
            .all(|l| !l.contains("ignoring")),
        "the plugin file was refused at some point:\n{}",
        worker.logs()
    );
    assert!(worker.try_exit().is_none(), "the worker is still running");
}

#[test]
fn with_watching_off_a_new_plugin_waits_for_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let hot = dir.path().join("hot");
    fs::create_dir(&hot).unwrap();
    let rest_port = free_port();
    let extra = format!(
        "plugin.path={},{}\nplugin.path.watch=false",
        dir.path().join("plugins").display(),
        hot.display()
    );
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, &extra);
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[], rest_port);
    worker.wait_ready();
    let testing = "kconnect.testing.MisbehavingSourceConnector";
    let before = listed_versions(&worker, testing).len();
    assert_eq!(before, 1);
    // A second copy of a plugin the worker has: with watching on it would be listed twice.
    fs::copy(&build().testing_plugin, hot.join("testing-copy.so")).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(listed_versions(&worker, testing).len(), before);
    assert!(!worker.logs().contains("watching plugin.path"));
}
