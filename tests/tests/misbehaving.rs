//! Plugins that panic, fail or block (issue #9): each time only that connector or task is
//! FAILED (with a trace), the other pipeline keeps flowing, REST keeps answering, and stopping a
//! blocked task is bounded by `task.shutdown.graceful.timeout.ms`.

use kconnect_tests::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const GRACEFUL_MS: u64 = 2000;

struct Fixture {
    worker: Worker,
    input: std::path::PathBuf,
    output: std::path::PathBuf,
    sent: usize,
}

impl Fixture {
    fn url(&self, path: &str) -> String {
        self.worker.url(path)
    }

    /// The healthy pipeline still carries a new line end to end.
    fn still_flowing(&mut self, after: &str) {
        self.sent += 1;
        let line = format!("healthy {}", self.sent);
        append_lines(&self.input, std::slice::from_ref(&line));
        let output = self.output.clone();
        wait_until(
            Duration::from_secs(30),
            &format!("the healthy pipeline after {after}"),
            || read_lines(&output).contains(&line),
        );
        assert_eq!(
            rest_call("GET", &self.url("/connectors"), None).0,
            200,
            "REST answers after {after}"
        );
    }

    fn create(&self, name: &str, class: &str, extra: Value) -> (u16, Value) {
        let mut config =
            json!({"connector.class": class, "topic": "misbehaving", "topics": "healthy"});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        rest_call(
            "POST",
            &self.url("/connectors"),
            Some(json!({"name": name, "config": config})),
        )
    }

    fn wait_task_failed(&self, name: &str, needle: &str) {
        let url = self.url(&format!("/connectors/{name}/status"));
        wait_until(
            Duration::from_secs(30),
            &format!("{name} task FAILED"),
            || rest_call("GET", &url, None).1["tasks"][0]["state"] == "FAILED",
        );
        let trace = rest_call("GET", &url, None).1["tasks"][0]["trace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            trace.contains(needle),
            "{name}: trace should mention {needle:?}: {trace}"
        );
    }

    /// DELETE returns within the graceful timeout (plus slack for a busy machine).
    fn delete_bounded(&self, name: &str) {
        let started = Instant::now();
        assert_eq!(
            rest_call("DELETE", &self.url(&format!("/connectors/{name}")), None).0,
            204
        );
        let took = started.elapsed();
        assert!(
            took < Duration::from_millis(GRACEFUL_MS + 3000),
            "deleting {name} took {took:?}"
        );
        eprintln!("deleting {name} took {took:?}");
    }
}

fn start(dir: &Path) -> Fixture {
    let rest_port = free_port();
    let worker_config = worker_properties(
        dir,
        "embedded",
        rest_port,
        &format!("task.shutdown.graceful.timeout.ms={GRACEFUL_MS}"),
    );
    let input = dir.join("in.txt");
    let output = dir.join("out.txt");
    append_lines(&input, &["healthy 0".to_string()]);
    let source = write_file(
        dir,
        "source.properties",
        &format!(
            "name=healthy-src\nconnector.class=FileStreamSource\nfile={}\ntopic=healthy\n",
            input.display()
        ),
    );
    let sink = write_file(
        dir,
        "sink.properties",
        &format!(
            "name=healthy-snk\nconnector.class=FileStreamSink\nfile={}\ntopics=healthy\n",
            output.display()
        ),
    );
    let mut worker = Worker::standalone(dir, &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    let mut fixture = Fixture {
        worker,
        input,
        output,
        sent: 0,
    };
    fixture.still_flowing("start");
    fixture
}

const SOURCE: &str = "kconnect.testing.MisbehavingSourceConnector";
const SINK: &str = "kconnect.testing.MisbehavingSinkConnector";

#[test]
fn panics_and_errors_fail_only_their_task() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start(dir.path());
    for (name, class, stage) in [
        ("panic-source-start", SOURCE, "start"),
        ("panic-source-poll", SOURCE, "poll"),
        ("panic-sink-put", SINK, "put"),
        ("panic-sink-flush", SINK, "flush"),
    ] {
        assert_eq!(f.create(name, class, json!({"panic.on": stage})).0, 201);
        f.wait_task_failed(name, "panicked");
        f.still_flowing(name);
    }
    assert_eq!(
        f.create("fail-source-poll", SOURCE, json!({"fail.on": "poll"}))
            .0,
        201
    );
    f.wait_task_failed("fail-source-poll", "");
    f.still_flowing("fail-source-poll");

    // A connector that panics in start is FAILED itself; one whose validate errs is refused.
    assert_eq!(
        f.create(
            "panic-connector",
            SOURCE,
            json!({"panic.on": "connector.start"})
        )
        .0,
        201
    );
    let url = f.url("/connectors/panic-connector/status");
    wait_until(Duration::from_secs(30), "the connector FAILED", || {
        rest_call("GET", &url, None).1["connector"]["state"] == "FAILED"
    });
    let (status, body) = f.create("invalid", SOURCE, json!({"validate.error": "true"}));
    assert_eq!(status, 400, "{body}");
    f.still_flowing("panic-connector and invalid");

    // Stopping a task that panics in stop is fine too.
    assert_eq!(
        f.create("panic-stop", SOURCE, json!({"panic.on": "stop"}))
            .0,
        201
    );
    f.delete_bounded("panic-stop");
    f.still_flowing("panic-stop");
    assert!(f.worker.try_exit().is_none(), "the worker is alive");
}

#[test]
fn tasks_that_block_forever_are_left_behind_within_the_graceful_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = start(dir.path());
    for (name, class, stage) in [
        ("block-source-poll", SOURCE, "poll"),
        ("block-source-stop", SOURCE, "stop"),
        ("block-sink-put", SINK, "put"),
    ] {
        assert_eq!(f.create(name, class, json!({"block.on": stage})).0, 201);
        // Long enough for the sink to join its group and get records to put.
        std::thread::sleep(Duration::from_millis(if class == SINK {
            5000
        } else {
            1500
        }));
        f.still_flowing(name);
        f.delete_bounded(name);
        f.still_flowing(&format!("deleting {name}"));
    }
    // SIGTERM with a blocked task left behind still exits, within the graceful timeout.
    assert_eq!(
        f.create("block-at-exit", SOURCE, json!({"block.on": "stop"}))
            .0,
        201
    );
    std::thread::sleep(Duration::from_millis(1000));
    let started = Instant::now();
    f.worker.signal(libc::SIGTERM);
    let status = f.worker.wait(Duration::from_millis(GRACEFUL_MS + 10_000));
    assert!(status.success(), "{status}");
    eprintln!(
        "SIGTERM with a blocked task: exit after {:?}",
        started.elapsed()
    );
}

/// `commit_record` (asked for by the testing source through its manifest) is called once per
/// record Kafka acknowledged, before `stop`; one that panics is logged and the task goes on.
#[test]
fn commit_record_is_called_for_every_acknowledged_record_and_may_fail_harmlessly() {
    const RECORDS: i64 = 500;
    let dir = tempfile::tempdir().unwrap();
    let mut f = start(dir.path());
    for (name, extra) in [
        ("committing", json!({})),
        ("panic-commit-record", json!({"panic.on": "commit_record"})),
    ] {
        let mut config = json!({"max.records": RECORDS.to_string(), "records.per.poll": "50"});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        assert_eq!(f.create(name, SOURCE, config).0, 201);
        // The stored offset reaches the last record once Kafka acknowledged them all.
        let offsets = f.url(&format!("/connectors/{name}/offsets"));
        wait_until(
            Duration::from_secs(30),
            &format!("{name}: every record acknowledged"),
            || {
                rest_call("GET", &offsets, None).1["offsets"][0]["offset"]["n"]
                    == json!(RECORDS - 1)
            },
        );
        let status = rest_call("GET", &f.url(&format!("/connectors/{name}/status")), None).1;
        assert_eq!(status["tasks"][0]["state"], "RUNNING", "{name}: {status}");
        f.delete_bounded(name);
        f.still_flowing(name);
    }
    let logs = f.worker.logs();
    assert!(
        logs.contains(&format!(
            "testing source task 0 stopped at n = {RECORDS} after {RECORDS} acknowledged records"
        )),
        "commit_record was called once per record: {logs}"
    );
    assert!(
        logs.contains("commit_record failed") && logs.contains("panicked"),
        "the panicking commit_record was logged: {logs}"
    );
    assert!(f.worker.try_exit().is_none(), "the worker is alive");
}
