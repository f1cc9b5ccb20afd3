//! The REST API of a two-worker cluster (issue #5): every write made on one worker is seen on the
//! other, with Kafka Connect's status codes and bodies, through a connector's whole life —
//! create, reconfigure, pause, resume, restart, stop, offsets read/altered/reset, delete.

use kconnect_tests::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

fn states(worker: &Worker, name: &str) -> Option<(String, Vec<String>)> {
    let (code, body) = try_rest_call(
        "GET",
        &worker.url(&format!("/connectors/{name}/status")),
        None,
    )
    .ok()?;
    if code != 200 {
        return None;
    }
    let connector = body["connector"]["state"].as_str()?.to_string();
    let tasks = body["tasks"]
        .as_array()?
        .iter()
        .filter_map(|t| t["state"].as_str().map(str::to_string))
        .collect();
    Some((connector, tasks))
}

fn wait_states(workers: &[&Worker], name: &str, connector: &str, tasks: &[&str], what: &str) {
    wait_until(Duration::from_secs(60), what, || {
        workers.iter().all(|w| {
            states(w, name).is_some_and(|(c, t)| {
                c == connector && t.iter().map(String::as_str).eq(tasks.iter().copied())
            })
        })
    });
}

/// A write, retried while the cluster answers 409 for a rebalance, as Kafka's clients do.
fn write(method: &str, url: &str, body: Option<Value>) -> (u16, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (code, answer) = rest_call(method, url, body.clone());
        let rebalancing = code == 409
            && answer["message"]
                .as_str()
                .is_some_and(|m| m.contains("rebalance"));
        if !rebalancing || std::time::Instant::now() > deadline {
            return (code, answer);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn source(dir: &Path, topic: &str) -> Value {
    json!({
        "connector.class": "FileStreamSource",
        "file": dir.join("in.txt").display().to_string(),
        "topic": topic,
        "topic.creation.default.partitions": "1",
        "topic.creation.default.replication.factor": "1",
    })
}

#[test]
fn a_connectors_whole_life_through_either_worker() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let extra =
        "session.timeout.ms=6000\nheartbeat.interval.ms=1000\nscheduled.rebalance.max.delay.ms=0";
    let mut workers = Vec::new();
    for i in 0..2 {
        let worker_dir = dir.path().join(format!("w{i}"));
        std::fs::create_dir_all(&worker_dir).unwrap();
        let port = free_port();
        let config =
            distributed_worker_properties(&worker_dir, &broker.bootstrap(), "life", port, extra);
        let mut worker = Worker::distributed(&worker_dir, &config, port);
        worker.wait_ready();
        workers.push(worker);
    }
    let (a, b) = (&workers[0], &workers[1]);
    append_lines(
        &dir.path().join("in.txt"),
        &["one".to_string(), "two".to_string()],
    );

    // Create on one worker, read on the other.
    let (code, body) = write(
        "POST",
        &a.url("/connectors"),
        Some(json!({"name": "life", "config": source(dir.path(), "life-topic")})),
    );
    assert_eq!(code, 201, "{body}");
    assert_eq!(body["name"], "life");
    assert_eq!(body["type"], "source");
    wait_states(
        &[a, b],
        "life",
        "RUNNING",
        &["RUNNING"],
        "the connector to run, seen by both workers",
    );
    let (code, body) = write(
        "POST",
        &b.url("/connectors"),
        Some(json!({"name": "life", "config": source(dir.path(), "x")})),
    );
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["error_code"], 409);
    let (code, listed) = rest_call("GET", &b.url("/connectors"), None);
    assert_eq!((code, listed), (200, json!(["life"])));
    let (_, tasks) = rest_call("GET", &b.url("/connectors/life/tasks"), None);
    assert_eq!(tasks[0]["id"], json!({"connector": "life", "task": 0}));
    assert_eq!(tasks[0]["config"]["topic"], "life-topic");

    // Reconfigure through the other worker: the task gets the new config.
    let mut changed = source(dir.path(), "life-topic-2");
    changed["name"] = json!("life");
    let (code, body) = write("PUT", &b.url("/connectors/life/config"), Some(changed));
    assert_eq!(code, 200, "{body}");
    wait_until(Duration::from_secs(30), "the new task config", || {
        rest_call("GET", &a.url("/connectors/life/tasks"), None).1[0]["config"]["topic"]
            == "life-topic-2"
    });
    wait_states(
        &[a, b],
        "life",
        "RUNNING",
        &["RUNNING"],
        "the reconfigured connector to run",
    );

    // Pause and resume.
    assert_eq!(write("PUT", &a.url("/connectors/life/pause"), None).0, 202);
    wait_states(
        &[a, b],
        "life",
        "PAUSED",
        &["PAUSED"],
        "pause to reach connector and task",
    );
    assert_eq!(write("PUT", &b.url("/connectors/life/resume"), None).0, 202);
    wait_states(&[a, b], "life", "RUNNING", &["RUNNING"], "resume");

    // Restarts: a task, then the connector with its tasks (202 with RESTARTING).
    assert_eq!(
        write("POST", &b.url("/connectors/life/tasks/0/restart"), None).0,
        204
    );
    assert_eq!(
        write("POST", &b.url("/connectors/life/tasks/7/restart"), None).0,
        404
    );
    let (code, body) = write(
        "POST",
        &a.url("/connectors/life/restart?includeTasks=true"),
        None,
    );
    assert_eq!(code, 202, "{body}");
    assert_eq!(body["connector"]["state"], "RESTARTING");
    assert_eq!(body["tasks"][0]["state"], "RESTARTING");
    wait_states(
        &[a, b],
        "life",
        "RUNNING",
        &["RUNNING"],
        "the restart to finish",
    );

    // Offsets: read while running; altering needs STOPPED.
    wait_until(Duration::from_secs(30), "the source offset", || {
        rest_call("GET", &a.url("/connectors/life/offsets"), None).1["offsets"]
            .as_array()
            .is_some_and(|o| !o.is_empty())
    });
    let altered = json!({"offsets": [{"partition": {"filename": dir.path().join("in.txt").display().to_string()}, "offset": {"position": 4}}]});
    let (code, body) = write(
        "PATCH",
        &b.url("/connectors/life/offsets"),
        Some(altered.clone()),
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("STOPPED"),
        "{body}"
    );
    assert_eq!(write("PUT", &b.url("/connectors/life/stop"), None).0, 204);
    wait_states(&[a, b], "life", "STOPPED", &[], "stop (no tasks left)");
    let (code, body) = write("PATCH", &a.url("/connectors/life/offsets"), Some(altered));
    assert_eq!(code, 200, "{body}");
    let (_, offsets) = rest_call("GET", &b.url("/connectors/life/offsets"), None);
    assert_eq!(
        offsets["offsets"][0]["offset"],
        json!({"position": 4}),
        "{offsets}"
    );
    let (code, body) = write("DELETE", &b.url("/connectors/life/offsets"), None);
    assert_eq!(code, 200, "{body}");
    let (_, offsets) = rest_call("GET", &a.url("/connectors/life/offsets"), None);
    assert_eq!(offsets["offsets"], json!([]), "{offsets}");
    assert_eq!(write("PUT", &a.url("/connectors/life/resume"), None).0, 202);
    wait_states(
        &[a, b],
        "life",
        "RUNNING",
        &["RUNNING"],
        "resume after stop",
    );

    // Delete through one worker: gone on both.
    assert_eq!(write("DELETE", &b.url("/connectors/life"), None).0, 204);
    for w in [a, b] {
        wait_until(Duration::from_secs(10), "the delete to be seen", || {
            rest_call("GET", &w.url("/connectors/life"), None).0 == 404
        });
    }
    let (code, body) = rest_call("GET", &a.url("/connectors/life/status"), None);
    assert_eq!(code, 404);
    assert_eq!(body["error_code"], 404);
    assert_eq!(body["message"], "Connector life not found");
}

/// Zombie fencing for real (KIP-618): a producer left over with the transactional id of one
/// of a connector's tasks can commit until the leader's next round of fencing, and never after.
#[test]
fn the_leader_fences_out_the_producers_of_an_earlier_task_generation() {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    use rdkafka::ClientConfig;

    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let port = free_port();
    let config =
        distributed_worker_properties(dir.path(), &broker.bootstrap(), "fencing", port, "");
    let mut worker = Worker::distributed(dir.path(), &config, port);
    worker.wait_ready();
    let source = |tasks: u32| {
        json!({
            "connector.class": "kconnect.testing.MisbehavingSourceConnector",
            "topic": "zombie-topic",
            "tasks.max": tasks.to_string(),
        })
    };
    let (code, body) = write(
        "PUT",
        &worker.url("/connectors/zombies/config"),
        Some(source(2)),
    );
    assert_eq!(code, 201, "{body}");
    wait_states(
        &[&worker],
        "zombies",
        "RUNNING",
        &["RUNNING", "RUNNING"],
        "two tasks",
    );

    let config_topic = "fencing-configs";
    let key = session_key(&broker.bootstrap(), config_topic);
    let fence = || {
        let (code, body) = signed_call("PUT", &worker.url("/connectors/zombies/fence"), "", &key);
        assert_eq!(code, 204, "{body}");
    };
    let count_records = || -> Vec<String> {
        all_topic_records(&broker.bootstrap(), config_topic)
            .into_iter()
            .filter(|(key, _)| key.as_deref() == Some(b"tasks-fencing-zombies".as_slice()))
            .map(|(_, value)| String::from_utf8(value.unwrap_or_default()).unwrap())
            .collect()
    };
    // The first round only records the generation's task count: nothing ran transactionally.
    fence();
    assert_eq!(count_records(), vec![r#"{"task-count":2}"#]);

    // A producer of task 1 of this generation, as an exactly-once task would hold it.
    let zombie: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("transactional.id", "fencing-zombies-1")
        .create()
        .expect("transactional producer");
    let timeout = Duration::from_secs(30);
    zombie.init_transactions(timeout).expect("init");
    let produce_and_commit = || -> Result<(), rdkafka::error::KafkaError> {
        zombie.begin_transaction()?;
        zombie
            .send(
                BaseRecord::to("zombie-topic")
                    .payload("from a zombie")
                    .key("z"),
            )
            .map_err(|(e, _)| e)?;
        zombie.commit_transaction(timeout)
    };
    produce_and_commit().expect("the producer commits before any fencing");

    // A new generation of task configs: the next round fences tasks 0 and 1 of the last one.
    let (code, body) = write(
        "PUT",
        &worker.url("/connectors/zombies/config"),
        Some(source(3)),
    );
    assert_eq!(code, 200, "{body}");
    wait_states(
        &[&worker],
        "zombies",
        "RUNNING",
        &["RUNNING", "RUNNING", "RUNNING"],
        "three tasks",
    );
    fence();
    assert_eq!(
        count_records(),
        vec![r#"{"task-count":2}"#, r#"{"task-count":3}"#]
    );
    let fenced = produce_and_commit();
    assert!(
        fenced.is_err(),
        "the zombie still commits after the fencing"
    );
    eprintln!(
        "the zombie's commit after the fencing: {:?}",
        fenced.unwrap_err()
    );

    // Nothing pending any more: no round, no record.
    fence();
    assert_eq!(count_records().len(), 2);
}
