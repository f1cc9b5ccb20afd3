//! Topics that are not there yet, and a broker that is not there at all, on a real worker:
//! a sink subscribed to a missing topic runs and receives what a source later writes to it (the
//! worker creates the topic through the admin API, as Kafka Connect does, with its own settings
//! rather than the broker's auto-creation defaults), and a
//! source whose broker cannot be reached keeps its task RUNNING with a status trace that names
//! the cause, while the worker keeps answering REST.

use kconnect_tests::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::{json, Value};
use std::time::Duration;

fn status(worker: &Worker, connector: &str) -> Value {
    rest_call(
        "GET",
        &worker.url(&format!("/connectors/{connector}/status")),
        None,
    )
    .1
}

fn running(status: &Value) -> bool {
    status["connector"]["state"] == "RUNNING" && status["tasks"][0]["state"] == "RUNNING"
}

/// Whether the broker knows `topic` (with at least one partition).
fn topic_exists(broker: &Broker, topic: &str) -> bool {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .expect("metadata client");
    let metadata = client
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("metadata");
    metadata
        .topics()
        .iter()
        .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
}

#[test]
fn a_sink_on_a_missing_topic_runs_and_receives_lines_once_a_source_creates_the_topic() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), &broker.bootstrap(), rest_port, "");
    let topic = "late-topic";
    let input = dir.path().join("late.txt");
    let output = dir.path().join("late.sink.txt");
    let sink = write_file(
        dir.path(),
        "late-sink.properties",
        &format!(
            "name=late-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile={}\ntopics={topic}\n",
            output.display()
        ),
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&sink], rest_port);
    worker.wait_ready();
    wait_until(Duration::from_secs(30), "the sink RUNNING", || {
        running(&status(&worker, "late-sink"))
    });
    // A few consumer metadata refreshes later the missing topic has not failed the sink.
    std::thread::sleep(Duration::from_secs(5));
    let sink_status = status(&worker, "late-sink");
    assert!(running(&sink_status), "{sink_status}");
    assert!(
        !topic_exists(&broker, topic),
        "the topic must not exist before the source writes"
    );
    assert!(read_lines(&output).is_empty());

    let expected: Vec<String> = (0..20).map(|i| format!("late line {i}")).collect();
    append_lines(&input, &expected);
    let (code, body) = rest_call(
        "POST",
        &worker.url("/connectors"),
        Some(json!({
            "name": "late-source",
            "config": {
                "connector.class": "FileStreamSource",
                "tasks.max": "1",
                "file": input.display().to_string(),
                "topic": topic,
            }
        })),
    );
    assert_eq!(code, 201, "{body}");
    wait_until(
        Duration::from_secs(30),
        "the source's lines in the sink file",
        || read_lines(&output).len() >= expected.len(),
    );
    assert_eq!(read_lines(&output), expected);
    assert!(topic_exists(&broker, topic));
    assert!(
        worker
            .logs()
            .contains(&format!("created topic {topic} with 1 partition(s)")),
        "the worker created the topic:\n{}",
        worker.logs()
    );
    let sink_status = status(&worker, "late-sink");
    assert!(running(&sink_status), "{sink_status}");
}

#[test]
fn a_source_whose_broker_is_unreachable_says_so_in_its_status_and_rest_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    // Nothing listens there: the port was free a moment ago and is not bound again.
    let closed = format!("127.0.0.1:{}", free_port());
    let worker_config = worker_properties(dir.path(), &closed, rest_port, "");
    let input = dir.path().join("in.txt");
    append_lines(&input, &["one".to_string(), "two".to_string()]);
    let source = write_file(
        dir.path(),
        "source.properties",
        &format!(
            "name=unreachable-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile={}\ntopic=nowhere\n",
            input.display()
        ),
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source], rest_port);
    worker.wait_ready();

    // The task rides the outage out (it resumes by itself once the broker is there, see
    // faults.rs) and its status says what is wrong meanwhile: the failed topic check (after the
    // admin client's request timeout, 10 s) or the producer's own report of the unreachable
    // cluster, whichever came last — both name the problem.
    wait_until(
        Duration::from_secs(60),
        "the problem in the source task's status",
        || {
            let s = status(&worker, "unreachable-source");
            let trace = s["tasks"][0]["trace"].as_str().unwrap_or_default();
            trace.contains("topic nowhere could not be checked")
                || trace.contains("Kafka is unreachable")
        },
    );
    let task_status = status(&worker, "unreachable-source");
    assert_eq!(task_status["tasks"][0]["state"], "RUNNING", "{task_status}");
    wait_until(
        Duration::from_secs(30),
        "the log to name the address that refused",
        || {
            let logs = worker.logs();
            logs.contains(&closed) && logs.contains("Connection refused")
        },
    );

    // The worker itself is still up and answering.
    assert!(worker.try_exit().is_none(), "the worker kept running");
    let (code, info) = rest_call("GET", &worker.url("/"), None);
    assert_eq!(code, 200, "{info}");
    let (code, list) = rest_call("GET", &worker.url("/connectors"), None);
    assert_eq!((code, list), (200, json!(["unreachable-source"])));
}
