//! Exactly-once source delivery (issue #18, KIP-618) on Apache Kafka: a distributed worker with
//! `exactly.once.source.support=enabled` runs a FileStreamSource while lines are appended, and
//! is killed with SIGKILL three times mid-stream, with `poll` and with `interval` transaction
//! boundaries. A `read_committed` reader must then see every line exactly once and in order; a
//! `read_uncommitted` reader of the same topic sees what the killed transactions had written
//! before they were aborted. Validation answers Kafka's preflight checks of
//! `exactly.once.support` and `transaction.boundary`.

use kconnect_tests::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message;
use serde_json::json;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LINES: usize = 6000;

/// Every value of `topic` (one partition) read with `isolation`, until `wanted` arrived or
/// nothing came for `quiet`.
fn values(
    bootstrap: &str,
    topic: &str,
    isolation: &str,
    wanted: usize,
    quiet: Duration,
) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("{topic}-reader-{isolation}"))
        .set("isolation.level", isolation)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut values = Vec::new();
    let mut last = Instant::now();
    while values.len() < wanted && last.elapsed() < quiet {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            last = Instant::now();
            let payload = message.payload().map(String::from_utf8_lossy);
            // JsonConverter with schemas: {"schema":{…},"payload":"line-00042"}.
            let value: serde_json::Value =
                serde_json::from_str(payload.as_deref().unwrap_or("null")).expect("JSON");
            values.push(value["payload"].as_str().unwrap_or_default().to_string());
        }
    }
    values
}

fn task_running(worker: &Worker, name: &str) -> bool {
    try_rest_call(
        "GET",
        &worker.url(&format!("/connectors/{name}/status")),
        None,
    )
    .is_ok_and(|(code, body)| code == 200 && body["tasks"][0]["state"] == "RUNNING")
}

/// Appends `LINES` numbered lines to `input` at about 1250 a second, counting them in `written`.
fn start_appending(
    input: &std::path::Path,
    written: &Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    let (input, written) = (input.to_path_buf(), written.clone());
    std::thread::spawn(move || {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&input)
            .unwrap();
        for n in 0..LINES {
            writeln!(file, "line-{n:05}").unwrap();
            written.store(n + 1, Ordering::Release);
            if n % 50 == 49 {
                file.flush().unwrap();
                std::thread::sleep(Duration::from_millis(40));
            }
        }
    })
}

#[test]
fn killed_three_times_mid_stream_every_line_is_committed_exactly_once() {
    killed_three_times("eos", &[]);
}

#[test]
fn with_interval_boundaries_too() {
    killed_three_times(
        "eos-interval",
        &[
            ("transaction.boundary", "interval"),
            ("transaction.boundary.interval.ms", "300"),
        ],
    );
}

/// The scenario, for connector (and group, and topic prefix) `name` with `boundary` settings.
fn killed_three_times(name: &str, boundary: &[(&str, &str)]) {
    let topic = format!("{name}-lines");
    let topic = topic.as_str();
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let port = free_port();
    let config = distributed_worker_properties(
        dir.path(),
        &broker.bootstrap(),
        name,
        port,
        "exactly.once.source.support=enabled\nsession.timeout.ms=6000\nheartbeat.interval.ms=1000\nscheduled.rebalance.max.delay.ms=0",
    );
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "").unwrap();
    let mut worker = Worker::distributed(dir.path(), &config, port);
    worker.wait_ready();

    // Kafka's preflight checks: FileStreamSource can promise exactly once; no kconnect
    // connector defines its own transaction boundaries.
    let validate = |extra: serde_json::Value| {
        let mut config = json!({
            "connector.class": "FileStreamSource",
            "name": "eos-check",
            "file": input.display().to_string(),
            "topic": topic,
        });
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        let (code, body) = rest_call(
            "PUT",
            &worker.url("/connector-plugins/FileStreamSource/config/validate"),
            Some(config),
        );
        assert_eq!(code, 200, "{body}");
        let errors: Vec<String> = body["configs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["value"]["errors"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e.as_str().map(str::to_string))
            .collect();
        errors
    };
    assert_eq!(
        validate(json!({"exactly.once.support": "REQUIRED"})),
        Vec::<String>::new()
    );
    assert_eq!(
        validate(json!({"transaction.boundary": "connector"})),
        ["The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition."]
    );
    let mut connector = json!({
        "connector.class": "FileStreamSource",
        "file": input.display().to_string(),
        "topic": topic,
        "batch.size": "100",
        "topic.creation.default.partitions": "1",
        "topic.creation.default.replication.factor": "1",
    });
    for (key, value) in boundary {
        connector[*key] = json!(value);
    }
    let (code, body) = rest_call(
        "PUT",
        &worker.url(&format!("/connectors/{name}/config")),
        Some(connector),
    );
    assert_eq!(code, 201, "{body}");

    // Lines are appended while the worker is killed and restarted.
    let written = Arc::new(AtomicUsize::new(0));
    let appender = start_appending(&input, &written);

    for kill in 0..3 {
        wait_until(Duration::from_secs(60), "the task RUNNING", || {
            task_running(&worker, name)
        });
        // Kill once the stream is well under way again.
        let target = (kill + 1) * LINES / 5;
        wait_until(Duration::from_secs(60), "more lines appended", || {
            written.load(Ordering::Acquire) >= target
        });
        std::thread::sleep(Duration::from_millis(700));
        worker.signal(libc::SIGKILL);
        worker.wait(Duration::from_secs(10));
        worker = Worker::distributed(dir.path(), &config, port);
        worker.wait_ready();
    }
    appender.join().unwrap();

    // Every line committed first; then the whole topic again, so a duplicate after the last
    // line counts too.
    let arrived = values(
        &broker.bootstrap(),
        topic,
        "read_committed",
        LINES,
        Duration::from_secs(60),
    );
    assert_eq!(arrived.len(), LINES, "not every line was committed");
    let committed = values(
        &broker.bootstrap(),
        topic,
        "read_committed",
        usize::MAX,
        Duration::from_secs(5),
    );
    let expected: Vec<String> = (0..LINES).map(|n| format!("line-{n:05}")).collect();
    let uncommitted = values(
        &broker.bootstrap(),
        topic,
        "read_uncommitted",
        usize::MAX,
        Duration::from_secs(5),
    );
    eprintln!(
        "{name}: {} lines: {} committed records, {} records in the log (aborted ones included)",
        LINES,
        committed.len(),
        uncommitted.len()
    );
    if committed != expected {
        let first_wrong = committed
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(committed.len().min(expected.len()));
        panic!(
            "committed records are not every line once in order: {} records, first difference at {first_wrong}: {:?} where {:?} was expected\n{}",
            committed.len(),
            committed.get(first_wrong),
            expected.get(first_wrong),
            worker.logs().lines().rev().take(40).collect::<Vec<_>>().join("\n")
        );
    }
    // Each restart read the offset topic to its end, past the transactions' markers.
    let logs = worker.logs();
    assert!(
        !logs.contains("cannot read the offset topic to its end"),
        "a restart did not read the offsets to their end:\n{logs}"
    );
    // The offsets went through transactions too, and the leader recorded its fencing round.
    let fencing_key = format!("tasks-fencing-{name}");
    let fencing = all_topic_records(&broker.bootstrap(), &format!("{name}-configs"))
        .into_iter()
        .filter(|(key, _)| key.as_deref() == Some(fencing_key.as_bytes()))
        .count();
    assert!(fencing >= 1, "no {fencing_key} record in the config topic");
}

/// The worker id running task 0 of `name`, as `worker`'s REST API tells it, once RUNNING.
fn task_owner(worker: &Worker, name: &str) -> Option<String> {
    let (code, body) = try_rest_call(
        "GET",
        &worker.url(&format!("/connectors/{name}/status")),
        None,
    )
    .ok()?;
    let task = &body["tasks"][0];
    (code == 200 && task["state"] == "RUNNING")
        .then(|| task["worker_id"].as_str().map(str::to_string))
        .flatten()
}

#[test]
fn a_zombie_task_is_fenced_out_by_its_replacement() {
    let name = "eos-zombie";
    let topic = format!("{name}-lines");
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "").unwrap();
    let mut workers = Vec::new();
    for i in 0..2 {
        let worker_dir = dir.path().join(format!("w{i}"));
        std::fs::create_dir_all(&worker_dir).unwrap();
        let port = free_port();
        let config = distributed_worker_properties(
            &worker_dir,
            &broker.bootstrap(),
            name,
            port,
            "exactly.once.source.support=enabled\nsession.timeout.ms=6000\nheartbeat.interval.ms=1000\nscheduled.rebalance.max.delay.ms=0",
        );
        let mut worker = Worker::distributed(&worker_dir, &config, port);
        worker.wait_ready();
        workers.push(worker);
    }
    let (code, body) = rest_call(
        "PUT",
        &workers[0].url(&format!("/connectors/{name}/config")),
        Some(json!({
            "connector.class": "FileStreamSource",
            "file": input.display().to_string(),
            "topic": topic,
            "batch.size": "100",
            "topic.creation.default.partitions": "1",
            "topic.creation.default.replication.factor": "1",
        })),
    );
    assert!(code == 201 || code == 409, "{code} {body}");
    let mut owner = String::new();
    wait_until(Duration::from_secs(60), "the task RUNNING", || {
        workers
            .iter()
            .find_map(|w| task_owner(w, name))
            .is_some_and(|o| {
                owner = o;
                true
            })
    });

    let written = Arc::new(AtomicUsize::new(0));
    let appender = start_appending(&input, &written);
    wait_until(Duration::from_secs(60), "lines appended", || {
        written.load(Ordering::Acquire) >= LINES / 4
    });
    // Freeze the worker running the task until the other one runs it, then wake it up: its
    // task, a zombie now, may still hold an open transaction and records to send.
    let (zombie, survivor) = if workers[0].worker_id() == owner {
        (0, 1)
    } else {
        (1, 0)
    };
    workers[zombie].signal(libc::SIGSTOP);
    let survivor_id = workers[survivor].worker_id();
    wait_until(
        Duration::from_secs(60),
        "the other worker running the task",
        || task_owner(&workers[survivor], name).as_deref() == Some(survivor_id.as_str()),
    );
    workers[zombie].signal(libc::SIGCONT);
    appender.join().unwrap();

    let arrived = values(
        &broker.bootstrap(),
        &topic,
        "read_committed",
        LINES,
        Duration::from_secs(60),
    );
    assert_eq!(arrived.len(), LINES, "not every line was committed");
    let committed = values(
        &broker.bootstrap(),
        &topic,
        "read_committed",
        usize::MAX,
        Duration::from_secs(5),
    );
    let expected: Vec<String> = (0..LINES).map(|n| format!("line-{n:05}")).collect();
    eprintln!(
        "{name}: {} lines, {} committed records",
        LINES,
        committed.len()
    );
    assert!(
        committed == expected,
        "committed records are not every line once in order ({} records)\nzombie's log:\n{}",
        committed.len(),
        workers[zombie]
            .logs()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    );
}
