//! Error tolerance and the dead letter queue (issue #6), on a real broker: one record in a
//! hundred is malformed JSON.

use kconnect_tests::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::ClientConfig;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const BAD_LINE: usize = 57;

/// 100 lines of Kafka-style JSON envelopes, one of them not JSON at all.
fn input_lines() -> Vec<String> {
    (0..100)
        .map(|i| {
            if i == BAD_LINE {
                "{this is not json".to_string()
            } else {
                format!(
                    r#"{{"schema":{{"type":"string","optional":false}},"payload":"record {i}"}}"#
                )
            }
        })
        .collect()
}

/// The source writes lines as they are (StringConverter); the sink reads them as JSON.
fn start(dir: &Path, broker: &Broker, topic: &str, sink_extra: &str) -> Worker {
    let rest_port = free_port();
    let worker_config = worker_properties(dir, &broker.bootstrap(), rest_port, "");
    let input = dir.join("in.txt");
    append_lines(&input, &input_lines());
    let source = write_file(
        dir,
        "source.properties",
        &format!(
            "name=src\nconnector.class=FileStreamSource\nfile={}\ntopic={topic}\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\n",
            input.display()
        ),
    );
    let sink = write_file(
        dir,
        "sink.properties",
        &format!(
            "name=snk\nconnector.class=FileStreamSink\nfile={}\ntopics={topic}\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\n{sink_extra}\n",
            dir.join("out.txt").display()
        ),
    );
    let mut worker = Worker::standalone(dir, &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    worker
}

fn sink_task_status(worker: &Worker) -> Value {
    let body = ureq::get(&worker.url("/connectors/snk/tasks/0/status"))
        .call()
        .map(|r| r.into_string().unwrap_or_default())
        .unwrap_or_default();
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

#[test]
fn with_tolerance_none_the_task_fails_naming_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let worker = start(dir.path(), &broker, "errors-none", "");
    wait_until(Duration::from_secs(60), "the sink task to fail", || {
        sink_task_status(&worker)["state"] == "FAILED"
    });
    let trace = sink_task_status(&worker)["trace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(trace.contains("Tolerance exceeded"), "{trace}");
    assert!(
        trace.contains(&format!("topic errors-none partition 0 offset {BAD_LINE}")),
        "the trace names topic, partition and offset: {trace}"
    );
    // Records before the bad one were delivered; nothing after it.
    let out = read_lines(&dir.path().join("out.txt"));
    assert_eq!(out.len(), BAD_LINE, "{out:?}");
}

#[test]
fn with_tolerance_all_the_good_records_reach_the_sink_and_the_bad_one_the_dlq() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let worker = start(
        dir.path(),
        &broker,
        "errors-all",
        "errors.tolerance=all\nerrors.log.enable=true\nerrors.deadletterqueue.topic.name=errors-all-dlq\nerrors.deadletterqueue.topic.replication.factor=1\nerrors.deadletterqueue.context.headers.enable=true",
    );
    let out = dir.path().join("out.txt");
    wait_until(Duration::from_secs(60), "99 records in the sink", || {
        read_lines(&out).len() >= 99
    });
    let expected: Vec<String> = (0..100)
        .filter(|i| *i != BAD_LINE)
        .map(|i| format!("record {i}"))
        .collect();
    assert_eq!(read_lines(&out), expected, "every good record, in order");
    let status = sink_task_status(&worker);
    assert_eq!(status["state"], "RUNNING", "{status}");
    assert!(
        status["trace"]
            .as_str()
            .unwrap_or_default()
            .contains("skipped: 1, sent to DLQ: 1"),
        "error counts are shown: {status}"
    );

    // The bad record is in the DLQ with its original bytes and Kafka's context headers.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&["errors-all-dlq"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let message = loop {
        assert!(Instant::now() < deadline, "no record in the DLQ");
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            break m.detach();
        }
    };
    assert_eq!(message.payload(), Some("{this is not json".as_bytes()));
    let headers: Vec<(String, String)> = message
        .headers()
        .map(|h| {
            h.iter()
                .map(|h| {
                    (
                        h.key.to_string(),
                        String::from_utf8_lossy(h.value.unwrap_or_default()).to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let get = |k: &str| {
        headers
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("__connect.errors.topic"), Some("errors-all"));
    assert_eq!(get("__connect.errors.partition"), Some("0"));
    assert_eq!(
        get("__connect.errors.offset"),
        Some(BAD_LINE.to_string().as_str())
    );
    assert_eq!(get("__connect.errors.connector.name"), Some("snk"));
    assert_eq!(get("__connect.errors.task.id"), Some("0"));
    assert_eq!(get("__connect.errors.stage"), Some("VALUE_CONVERTER"));
    assert!(
        get("__connect.errors.exception.message").is_some_and(|m| !m.is_empty()),
        "{headers:?}"
    );
    assert!(
        worker.logs().contains("Error encountered in task snk-0"),
        "errors.log.enable logs the failure"
    );
}

fn task_status(worker: &Worker, connector: &str) -> Value {
    let body = ureq::get(&worker.url(&format!("/connectors/{connector}/tasks/0/status")))
        .call()
        .map(|r| r.into_string().unwrap_or_default())
        .unwrap_or_default();
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

#[test]
fn failed_tasks_restart_automatically_when_asked_and_recover() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    // The source's file lies below a regular file: opening it fails until that is fixed.
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "not a folder").unwrap();
    let input = blocker.join("in.txt");
    let output = dir.path().join("out.txt");
    let restarting = write_file(
        dir.path(),
        "restarting.properties",
        &format!(
            "name=restarting\nconnector.class=FileStreamSource\nfile={}\ntopic=restarts\nerrors.task.restart.enable=true\nerrors.task.restart.backoff.max.ms=2000\n",
            input.display()
        ),
    );
    let plain = write_file(
        dir.path(),
        "plain.properties",
        &format!(
            "name=plain\nconnector.class=FileStreamSource\nfile={}\ntopic=plain\n",
            input.display()
        ),
    );
    let sink = write_file(
        dir.path(),
        "sink.properties",
        &format!(
            "name=snk\nconnector.class=FileStreamSink\nfile={}\ntopics=restarts\n",
            output.display()
        ),
    );
    let mut worker = Worker::standalone(
        dir.path(),
        &worker_config,
        &[&restarting, &plain, &sink],
        rest_port,
    );
    worker.wait_ready();
    wait_until(Duration::from_secs(30), "both sources FAILED", || {
        task_status(&worker, "restarting")["state"] == "FAILED"
            && task_status(&worker, "plain")["state"] == "FAILED"
    });
    wait_until(Duration::from_secs(30), "two automatic restarts", || {
        worker
            .logs()
            .contains("restarting failed task restarting-0 (automatic restart 2)")
    });
    assert!(
        !worker.logs().contains("restarting failed task plain-0"),
        "off by default"
    );

    // Fix the cause: the next automatic restart succeeds and records flow.
    std::fs::remove_file(&blocker).unwrap();
    std::fs::create_dir(&blocker).unwrap();
    append_lines(&input, &["after the fix".to_string()]);
    wait_until(Duration::from_secs(30), "the record in the sink", || {
        read_lines(&output) == ["after the fix".to_string()]
    });
    assert_eq!(task_status(&worker, "restarting")["state"], "RUNNING");
    assert_eq!(
        task_status(&worker, "plain")["state"],
        "FAILED",
        "not restarted without the setting"
    );
}

#[test]
fn beyond_kafka_a_source_record_that_fails_conversion_goes_to_the_dlq() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), &broker.bootstrap(), rest_port, "");
    let input = dir.path().join("in.txt");
    append_lines(&input, &["first".to_string(), "second".to_string()]);
    // ByteArrayConverter refuses the STRING values FileStreamSource produces.
    let source = write_file(
        dir.path(),
        "source.properties",
        &format!(
            "name=src\nconnector.class=FileStreamSource\nfile={}\ntopic=never-written\nvalue.converter=org.apache.kafka.connect.converters.ByteArrayConverter\nerrors.tolerance=all\nerrors.deadletterqueue.topic.name=source-dlq\nerrors.deadletterqueue.topic.replication.factor=1\nerrors.deadletterqueue.context.headers.enable=true\n",
            input.display()
        ),
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source], rest_port);
    worker.wait_ready();

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("group.id", "source-dlq-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&["source-dlq"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "only {} records in the DLQ",
            seen.len()
        );
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            seen.push(m.detach());
        }
    }
    assert_eq!(
        seen[0].payload(),
        Some("\"first\"".as_bytes()),
        "the record, as JSON"
    );
    let header = |m: &rdkafka::message::OwnedMessage, key: &str| {
        m.headers().and_then(|h| {
            h.iter()
                .find(|h| h.key == key)
                .and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).to_string()))
        })
    };
    assert_eq!(
        header(&seen[0], "__connect.errors.stage").as_deref(),
        Some("VALUE_CONVERTER")
    );
    assert_eq!(
        header(&seen[0], "__connect.errors.topic").as_deref(),
        Some("never-written")
    );
    assert_eq!(
        header(&seen[1], "__connect.errors.source.offset").as_deref(),
        Some("{\"position\":13}")
    );
    let status = ureq::get(&worker.url("/connectors/src/tasks/0/status"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        status.contains("RUNNING") && status.contains("sent to DLQ: 2"),
        "{status}"
    );
}
