//! The web console and kconnect's own resources behind it (`/kconnect/…`).
//!
//! - The console in a real browser: headless Chromium (Debian's package) driven by
//!   `tests/console/run.mjs` (Playwright's `playwright-core`, axe-core), against a standalone
//!   worker on the embedded broker and a second one with basic authentication. Screenshots go
//!   to `<target>/console-artifacts/`.
//! - A preview tells the truth: what `POST /kconnect/preview` shows for a FileStreamSource
//!   config is what kconnect and Apache Kafka Connect then write to Apache Kafka with it, byte
//!   for byte and topic for topic.
//! - The config history of a distributed cluster is in Kafka: a change made through one worker
//!   is in the other's history, a rollback through either works, and a restarted worker reads
//!   the history back from the topic.
//! - `rest.ui.enable=false` turns the console off.

use kconnect_tests::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Debian's Chromium, which `.ci/run` installs.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Installs the browser test's npm packages (pinned in its lock file) once.
fn npm_packages(console_tests: &Path) {
    let installed = console_tests.join("node_modules/playwright-core/package.json");
    let lock_is_newer = || {
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        modified(&console_tests.join("package-lock.json")) > modified(&installed)
    };
    if installed.exists() && !lock_is_newer() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(console_tests)
        .status()
        .expect("npm runs (Node.js and npm are needed for the browser test)");
    assert!(
        status.success(),
        "npm ci in {} failed",
        console_tests.display()
    );
}

fn worker_with(dir: &Path, extra: &str) -> Worker {
    let mut worker = start_worker(dir, extra);
    worker.wait_ready();
    worker
}

fn start_worker(dir: &Path, extra: &str) -> Worker {
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let config = worker_properties(dir, "embedded", port, extra);
    Worker::standalone(dir, &config, &[], port)
}

#[test]
fn the_console_works_in_a_real_browser() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium package (bash .ci/run does)"
    );
    let console_tests = workspace_root().join("tests/console");
    npm_packages(&console_tests);

    let dir = tempfile::tempdir().unwrap();
    let worker = worker_with(&dir.path().join("open"), "");
    let users = write_file(dir.path(), "users", "console: console-secret\n");
    let guarded = start_worker(
        &dir.path().join("guarded"),
        &format!(
            "rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension\nrest.basic.auth.credentials.file={}",
            users.display()
        ),
    );
    // `/health` needs credentials too.
    let authorization = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "console:console-secret"
        )
    );
    wait_until(Duration::from_secs(60), "the guarded worker ready", || {
        ureq::get(&guarded.url("/health"))
            .set("Authorization", &authorization)
            .call()
            .is_ok_and(|r| r.status() == 200)
    });
    let source_file = write_file(dir.path(), "source.txt", "one\ntwo\nthree\n");
    let artifacts: PathBuf = target_dir().join("console-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();

    let started = Instant::now();
    let output = Command::new("node")
        .arg("run.mjs")
        .current_dir(&console_tests)
        .env("KCONNECT_URL", worker.url(""))
        .env("SOURCE_FILE", &source_file)
        .env(
            "FAILING_CONNECTOR_CLASS",
            "kconnect.testing.MisbehavingSourceConnector",
        )
        .env("KCONNECT_AUTH_URL", guarded.url(""))
        .env("KCONNECT_AUTH_USER", "console")
        .env("KCONNECT_AUTH_PASSWORD", "console-secret")
        .env("CONSOLE_ARTIFACTS", &artifacts)
        .env("CHROMIUM", CHROMIUM)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "{stdout}\n{stderr}\nbrowser test took {:?}",
        started.elapsed()
    );
    assert!(
        output.status.success(),
        "the browser test failed ({}); the worker's log:\n{}",
        output.status,
        worker.logs()
    );
    assert!(
        !stdout.contains("SKIPPED"),
        "every step must run, none skipped:\n{stdout}"
    );
    let result = stdout
        .lines()
        .find_map(|line| line.strip_prefix("CONSOLE-RESULT "))
        .expect("the browser test prints CONSOLE-RESULT");
    let result: Value = serde_json::from_str(result).expect("CONSOLE-RESULT is JSON");
    eprintln!("console figures: {result}");
    assert!(result["list_100_ms"].is_number(), "{result}");
    for page in ["overview", "create-form", "preview", "history"] {
        let shot = artifacts.join(format!("{page}.png"));
        assert!(shot.exists(), "no screenshot {}", shot.display());
    }
}

#[test]
fn the_console_can_be_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let on = worker_with(&dir.path().join("on"), "");
    let off = worker_with(&dir.path().join("off"), "rest.ui.enable=false");
    let page = |worker: &Worker| match ureq::get(&worker.url("/ui/")).call() {
        Ok(response) => (
            response.status(),
            response.into_string().unwrap_or_default(),
        ),
        Err(ureq::Error::Status(status, response)) => {
            (status, response.into_string().unwrap_or_default())
        }
        Err(e) => panic!("GET /ui/: {e}"),
    };
    let (status, body) = page(&on);
    assert_eq!(status, 200);
    assert!(body.contains("<html"), "{body}");
    let (status, body) = page(&off);
    assert_eq!(status, 404, "{body}");
    // The API is unaffected.
    assert_eq!(rest_call("GET", &off.url("/connectors"), None).0, 200);
}

/// Every record of `topic` as (topic, value bytes), once `count` arrived.
fn topic_values(bootstrap: &str, topic: &str, count: usize) -> Vec<Vec<u8>> {
    topic_records(bootstrap, topic, count)
        .into_iter()
        .map(|(_, value)| value.unwrap_or_default())
        .collect()
}

#[test]
fn a_preview_shows_the_bytes_kconnect_and_apache_kafka_connect_write() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let lines = ["first line", "second, with \"quotes\"", "third", "ünïcödé"];
    let input = write_file(dir.path(), "in.txt", &format!("{}\n", lines.join("\n")));
    // A chain that changes the value's shape and its topic.
    let config = |topic: &str| {
        json!({
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "file": input.display().to_string(),
            "topic": topic,
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "true",
            "transforms": "hoist,insert,route",
            "transforms.hoist.type": "org.apache.kafka.connect.transforms.HoistField$Value",
            "transforms.hoist.field": "line",
            "transforms.insert.type": "org.apache.kafka.connect.transforms.InsertField$Value",
            "transforms.insert.static.field": "origin",
            "transforms.insert.static.value": "preview-test",
            "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
            "transforms.route.regex": "(.*)",
            "transforms.route.replacement": "$1-routed",
        })
    };

    let rust_dir = dir.path().join("rust");
    std::fs::create_dir_all(&rust_dir).unwrap();
    let port = free_port();
    let worker_config = file_plugin_worker_properties(&rust_dir, &broker.bootstrap(), port);
    let mut kconnect = Worker::standalone(&rust_dir, &worker_config, &[], port);
    kconnect.wait_ready();

    let samples: Vec<Value> = lines
        .iter()
        .map(|line| json!({"topic": "preview-kconnect", "value": line}))
        .collect();
    let (status, preview) = rest_call(
        "POST",
        &kconnect.url("/kconnect/preview"),
        Some(json!({"config": config("preview-kconnect"), "records": samples})),
    );
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["connector_type"], "source");
    let shown = preview["records"].as_array().unwrap();
    assert_eq!(shown.len(), lines.len());
    for record in shown {
        assert_eq!(record["outcome"], "kept", "{record}");
        assert_eq!(record["topic"], "preview-kconnect-routed", "{record}");
        assert_eq!(record["value"]["origin"], "preview-test", "{record}");
    }
    let predicted: Vec<Vec<u8>> = shown
        .iter()
        .map(|r| {
            r["serialized"]["value"]
                .as_str()
                .unwrap()
                .as_bytes()
                .to_vec()
        })
        .collect();

    // The preview of a sink config goes the other way: bytes in, what `put` gets out.
    let (status, sink_preview) = rest_call(
        "POST",
        &kconnect.url("/kconnect/preview"),
        Some(json!({
            "config": {
                "connector.class": "FileStreamSink",
                "topics": "t",
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "true",
                "transforms": "line",
                "transforms.line.type": "org.apache.kafka.connect.transforms.ExtractField$Value",
                "transforms.line.field": "line",
            },
            "records": [{"topic": "t", "value": String::from_utf8(predicted[0].clone()).unwrap()}],
        })),
    );
    assert_eq!(status, 200, "{sink_preview}");
    assert_eq!(sink_preview["connector_type"], "sink");
    assert_eq!(
        sink_preview["records"][0]["value"], lines[0],
        "{sink_preview}"
    );
    assert_eq!(sink_preview["records"][0]["value_schema"]["type"], "string");

    // A record a Filter discards is shown as dropped, one a transformation fails on as failed.
    let (status, outcomes) = rest_call(
        "POST",
        &kconnect.url("/kconnect/preview"),
        Some(json!({
            "config": {
                "connector.class": "FileStreamSource",
                "transforms": "drop,insert",
                "transforms.drop.type": "org.apache.kafka.connect.transforms.Filter",
                "transforms.drop.predicate": "isLogs",
                "predicates": "isLogs",
                "predicates.isLogs.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
                "predicates.isLogs.pattern": "logs-.*",
                "transforms.insert.type": "org.apache.kafka.connect.transforms.InsertField$Value",
                "transforms.insert.static.field": "f",
                "transforms.insert.static.value": "v",
            },
            "records": [
                {"topic": "logs-1", "value": "dropped"},
                {"topic": "lines", "value": "a string, which InsertField refuses"},
                {"topic": "lines", "value": {"an": "object"}},
            ],
        })),
    );
    assert_eq!(status, 200, "{outcomes}");
    let outcome = |i: usize| {
        outcomes["records"][i]["outcome"]
            .as_str()
            .unwrap_or("-")
            .to_string()
    };
    assert_eq!(
        [outcome(0), outcome(1), outcome(2)],
        ["dropped", "failed", "kept"],
        "{outcomes}"
    );
    assert!(
        outcomes["records"][1]["error"]
            .as_str()
            .unwrap()
            .contains("Only Struct objects supported"),
        "{outcomes}"
    );
    assert_eq!(
        outcomes["records"][2]["value"],
        json!({"an": "object", "f": "v"})
    );

    // Bad input is a 400 naming what is wrong, never a 500.
    let (status, body) = rest_call(
        "POST",
        &kconnect.url("/kconnect/preview"),
        Some(
            json!({"config": {"connector.class": "FileStreamSource", "transforms": "x"}, "records": []}),
        ),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("transforms.x.type"),
        "{body}"
    );

    // Now run that config for real, on kconnect and on Apache Kafka Connect.
    let (status, body) = rest_call(
        "PUT",
        &kconnect.url("/connectors/preview-kconnect/config"),
        Some(config("preview-kconnect")),
    );
    assert_eq!(status, 201, "{body}");
    let written = topic_values(&broker.bootstrap(), "preview-kconnect-routed", lines.len());
    assert_eq!(
        written
            .iter()
            .map(|v| String::from_utf8_lossy(v))
            .collect::<Vec<_>>(),
        predicted
            .iter()
            .map(|v| String::from_utf8_lossy(v))
            .collect::<Vec<_>>(),
        "kconnect wrote what its preview showed"
    );

    let java_dir = dir.path().join("java");
    std::fs::create_dir_all(&java_dir).unwrap();
    let java = JavaConnect::standalone(&java_dir, &broker.bootstrap(), "", &[]);
    let (status, body) = rest_call(
        "PUT",
        &java.url("/connectors/preview-java/config"),
        Some(config("preview-kconnect")),
    );
    assert_eq!(status, 201, "{body}");
    // Java writes to the same routed topic: the records after kconnect's are Java's.
    let both = topic_values(
        &broker.bootstrap(),
        "preview-kconnect-routed",
        2 * lines.len(),
    );
    assert_eq!(
        both[lines.len()..]
            .iter()
            .map(|v| String::from_utf8_lossy(v))
            .collect::<Vec<_>>(),
        predicted
            .iter()
            .map(|v| String::from_utf8_lossy(v))
            .collect::<Vec<_>>(),
        "Apache Kafka Connect wrote what kconnect's preview showed"
    );
}

#[test]
fn distributed_workers_share_one_config_history_in_kafka() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let group = "history-group";
    let start = |name: &str, port: u16| {
        let worker_dir = dir.path().join(name);
        std::fs::create_dir_all(&worker_dir).unwrap();
        let config = distributed_worker_properties(
            &worker_dir,
            &broker.bootstrap(),
            group,
            port,
            "heartbeat.interval.ms=1000\nsession.timeout.ms=6000",
        );
        let mut worker = Worker::distributed(&worker_dir, &config, port);
        worker.wait_ready();
        worker
    };
    let a = start("a", free_port());
    let b_port = free_port();
    let mut b = start("b", b_port);
    let input = write_file(dir.path(), "in.txt", "x\n");
    let config = |topic: &str| {
        json!({
            "connector.class": "FileStreamSource",
            "file": input.display().to_string(),
            "topic": topic,
        })
    };
    // Writes may meet a rebalance (409): retry those.
    let write = |worker: &Worker, method: &str, path: &str, body: Option<Value>| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, answer) = rest_call(method, &worker.url(path), body.clone());
            if status != 409 || Instant::now() > deadline {
                return (status, answer);
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    };
    assert_eq!(
        write(&a, "PUT", "/connectors/h/config", Some(config("v1"))).0,
        201
    );
    assert_eq!(
        write(&b, "PUT", "/connectors/h/config", Some(config("v2"))).0,
        200
    );
    // The same config again is not a new version.
    assert_eq!(
        write(&b, "PUT", "/connectors/h/config", Some(config("v2"))).0,
        200
    );

    let history = |worker: &Worker| {
        let (status, versions) =
            rest_call("GET", &worker.url("/kconnect/connectors/h/history"), None);
        assert_eq!(status, 200, "{versions}");
        versions.as_array().cloned().unwrap_or_default()
    };
    let topics_of = |versions: &[Value]| -> Vec<String> {
        versions
            .iter()
            .map(|v| v["config"]["topic"].as_str().unwrap_or("-").to_string())
            .collect()
    };
    wait_until(
        Duration::from_secs(20),
        "both workers see 2 versions",
        || topics_of(&history(&a)) == ["v1", "v2"] && topics_of(&history(&b)) == ["v1", "v2"],
    );
    let second = &history(&a)[1];
    assert_eq!(
        second["changes"],
        json!([{"key": "topic", "before": "v1", "after": "v2"}]),
        "{second}"
    );

    let (status, info) = write(
        &a,
        "POST",
        "/kconnect/connectors/h/history/1/rollback",
        None,
    );
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["config"]["topic"], "v1", "{info}");
    wait_until(
        Duration::from_secs(20),
        "the rollback reaches worker b",
        || rest_call("GET", &b.url("/connectors/h/config"), None).1["topic"] == "v1",
    );

    // Deleting is a version too; worker b, restarted, reads the whole history back.
    assert_eq!(write(&b, "DELETE", "/connectors/h", None).0, 204);
    b.signal(15);
    b.wait(Duration::from_secs(30));
    drop(b);
    let b = start("b", b_port);
    let versions = history(&b);
    assert_eq!(
        topics_of(&versions),
        ["v1", "v2", "v1", "-"],
        "{versions:?}"
    );
    assert_eq!(versions[3]["config"], Value::Null);
    let numbers: Vec<i64> = versions
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    // A deletion cannot be rolled back to; an earlier version recreates the connector.
    assert_eq!(
        write(
            &b,
            "POST",
            "/kconnect/connectors/h/history/4/rollback",
            None
        )
        .0,
        400
    );
    let (status, info) = write(
        &b,
        "POST",
        "/kconnect/connectors/h/history/2/rollback",
        None,
    );
    assert_eq!(status, 200, "{info}");
    assert_eq!(
        rest_call("GET", &a.url("/connectors/h/config"), None).1["topic"],
        "v2"
    );

    // The cluster view: two members, one leader, this worker marked, each with its URL (the
    // coordinator describes members' metadata only while the group is stable: wait for that).
    let urls = [a.rest_port, b.rest_port].map(|port| format!("http://127.0.0.1:{port}/"));
    let mut view = Value::Null;
    wait_until(Duration::from_secs(30), "a stable group's view", || {
        view = rest_call("GET", &a.url("/kconnect/cluster"), None).1;
        let members = view["group"]["members"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        members.len() == 2
            && members.iter().filter(|m| m["leader"] == true).count() == 1
            && members.iter().filter(|m| m["self"] == true).count() == 1
            && urls
                .iter()
                .all(|url| members.iter().any(|m| m["url"] == url.as_str()))
    });
    assert_eq!(view["mode"], "distributed", "{view}");
}
