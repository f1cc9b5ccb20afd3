//! The REST API against a running standalone worker with the file plugin loaded: the seed's
//! curl sequence and the main status codes, over real HTTP.

use kconnect_tests::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn the_seed_sequence_and_status_codes() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    let source = write_file(
        dir.path(),
        "source.properties",
        &format!("name=local-file-source\nconnector.class=FileStreamSource\nfile={}\ntopic=connect-test\n", dir.path().join("test.txt").display()),
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source], rest_port);
    worker.wait_ready();

    // The seed registers its sink with PUT …/config on a standalone worker.
    let sink_config = json!({
        "connector.class": "FileStreamSink", "tasks.max": "1",
        "file": dir.path().join("test.sink.txt").display().to_string(), "topics": "connect-test"
    });
    let (status, info) = rest_call(
        "PUT",
        &worker.url("/connectors/local-file-sink/config"),
        Some(sink_config.clone()),
    );
    assert_eq!(status, 201, "{info}");
    assert_eq!(info["type"], "sink");
    assert_eq!(
        info["tasks"][0],
        json!({"connector": "local-file-sink", "task": 0})
    );
    let (status, _) = rest_call(
        "PUT",
        &worker.url("/connectors/local-file-sink/config"),
        Some(sink_config),
    );
    assert_eq!(status, 200, "an update answers 200");

    let (status, info) = rest_call("GET", &worker.url("/connectors/local-file-source"), None);
    assert_eq!(status, 200);
    assert_eq!(info["config"]["topic"], "connect-test");
    let (status, info) = rest_call("GET", &worker.url("/connectors/local-file-sink"), None);
    assert_eq!(status, 200);
    assert_eq!(info["name"], "local-file-sink");
    let (status, list) = rest_call("GET", &worker.url("/connectors"), None);
    assert_eq!(status, 200);
    assert_eq!(list, json!(["local-file-sink", "local-file-source"]));

    wait_until(Duration::from_secs(30), "both connectors RUNNING", || {
        let (_, s) = rest_call("GET", &worker.url("/connectors?expand=status"), None);
        s["local-file-sink"]["status"]["tasks"][0]["state"] == "RUNNING"
            && s["local-file-source"]["status"]["connector"]["state"] == "RUNNING"
    });

    // Errors carry Kafka's body.
    let (status, body) = rest_call("GET", &worker.url("/connectors/nope/status"), None);
    assert_eq!((status, body["error_code"].clone()), (404, json!(404)));
    let (status, body) = rest_call(
        "POST",
        &worker.url("/connectors"),
        Some(
            json!({"name": "local-file-source", "config": {"connector.class": "FileStreamSource", "topic": "t"}}),
        ),
    );
    assert_eq!(status, 409, "{body}");
    let (status, body) = rest_call(
        "POST",
        &worker.url("/connectors"),
        Some(json!({"name": "bad", "config": {"connector.class": "FileStreamSource"}})),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("contains the following 1 error(s)"),
        "{body}"
    );

    // Pause / resume / stop, and offsets only when stopped.
    assert_eq!(
        rest_call(
            "PUT",
            &worker.url("/connectors/local-file-source/pause"),
            None
        )
        .0,
        202
    );
    wait_until(Duration::from_secs(10), "PAUSED", || {
        rest_call(
            "GET",
            &worker.url("/connectors/local-file-source/status"),
            None,
        )
        .1["connector"]["state"]
            == "PAUSED"
    });
    assert_eq!(
        rest_call(
            "PUT",
            &worker.url("/connectors/local-file-source/resume"),
            None
        )
        .0,
        202
    );
    assert_eq!(
        rest_call(
            "GET",
            &worker.url("/connectors/local-file-source/offsets"),
            None
        )
        .0,
        200
    );
    assert_eq!(
        rest_call(
            "DELETE",
            &worker.url("/connectors/local-file-source/offsets"),
            None
        )
        .0,
        400
    );
    assert_eq!(
        rest_call(
            "PUT",
            &worker.url("/connectors/local-file-source/stop"),
            None
        )
        .0,
        204
    );
    assert_eq!(
        rest_call(
            "DELETE",
            &worker.url("/connectors/local-file-source/offsets"),
            None
        )
        .0,
        200
    );

    // Validation in Kafka's ConfigInfos shape.
    let (status, infos) = rest_call(
        "PUT",
        &worker.url("/connector-plugins/FileStreamSource/config/validate"),
        Some(json!({"connector.class": "FileStreamSource", "name": "v"})),
    );
    assert_eq!(status, 200, "{infos}");
    assert_eq!(infos["error_count"], 1, "topic is missing: {infos}");

    assert_eq!(
        rest_call("DELETE", &worker.url("/connectors/local-file-sink"), None).0,
        204
    );
    assert_eq!(
        rest_call("GET", &worker.url("/connectors/local-file-sink"), None).0,
        404
    );
}

#[test]
fn sink_offsets_are_the_consumer_groups_and_can_be_altered_and_reset_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let broker = Broker::start();
    let worker_config = worker_properties(dir.path(), &broker.bootstrap(), rest_port, "");
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    append_lines(&input, &["a".to_string(), "b".to_string(), "c".to_string()]);
    let source = write_file(
        dir.path(),
        "source.properties",
        &format!(
            "name=src\nconnector.class=FileStreamSource\nfile={}\ntopic=offsets-test\n",
            input.display()
        ),
    );
    let sink = write_file(
        dir.path(),
        "sink.properties",
        &format!(
            "name=snk\nconnector.class=FileStreamSink\nfile={}\ntopics=offsets-test\n",
            output.display()
        ),
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    wait_until(Duration::from_secs(60), "3 lines in the sink", || {
        read_lines(&output).len() >= 3
    });

    assert_eq!(
        rest_call("PUT", &worker.url("/connectors/snk/stop"), None).0,
        204
    );
    let partition = json!({"kafka_topic": "offsets-test", "kafka_partition": 0});
    let (status, offsets) = rest_call("GET", &worker.url("/connectors/snk/offsets"), None);
    assert_eq!(status, 200, "{offsets}");
    assert_eq!(
        offsets,
        json!({"offsets": [{"partition": partition, "offset": {"kafka_offset": 3}}]})
    );

    let (status, body) = rest_call(
        "PATCH",
        &worker.url("/connectors/snk/offsets"),
        Some(json!({"offsets": [{"partition": partition, "offset": {"kafka_offset": 1}}]})),
    );
    assert_eq!(status, 200, "{body}");
    let (_, offsets) = rest_call("GET", &worker.url("/connectors/snk/offsets"), None);
    assert_eq!(offsets["offsets"][0]["offset"]["kafka_offset"], 1);

    let (status, body) = rest_call("DELETE", &worker.url("/connectors/snk/offsets"), None);
    assert_eq!(status, 200, "{body}");
    let (_, offsets) = rest_call("GET", &worker.url("/connectors/snk/offsets"), None);
    assert_eq!(
        offsets["offsets"][0]["offset"]["kafka_offset"], 0,
        "reset to the start of the partition"
    );

    // Resumed from the reset position, the sink writes the three records again.
    assert_eq!(
        rest_call("PUT", &worker.url("/connectors/snk/resume"), None).0,
        202
    );
    wait_until(Duration::from_secs(60), "6 lines in the sink", || {
        read_lines(&output).len() >= 6
    });
}

/// A script's usual start (issue #15): wait for `GET /` to answer, then create a connector at
/// once. Plugins may still be loading then (here: many libraries on `plugin.path`, so loading
/// takes a while); the requests wait for startup instead of answering from a half-loaded
/// registry ("no source or sink connector named …", an empty plugin list).
#[test]
fn requests_sent_as_soon_as_get_root_answers_see_every_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    let plugins = dir.path().join("plugins");
    // Twenty more libraries for the loader to copy, hash and open before it is done.
    let testing = std::fs::read_dir(&plugins)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("testing"))
        .expect("the testing plugin");
    for i in 0..20 {
        let folder = plugins.join(format!("copy-{i:02}"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(&testing, folder.join(format!("libcopy_{i:02}.so"))).unwrap();
    }
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[], rest_port);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while try_rest_call("GET", &worker.url("/"), None).map(|(s, _)| s) != Ok(200) {
        assert!(
            std::time::Instant::now() < deadline,
            "GET / never answered:\n{}",
            worker.logs()
        );
        assert!(
            worker.try_exit().is_none(),
            "worker exited:\n{}",
            worker.logs()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let health_at_first_answer = rest_call("GET", &worker.url("/health"), None).0;
    let (status, body) = rest_call(
        "POST",
        &worker.url("/connectors"),
        Some(json!({"name": "early", "config": {
            "connector.class": "FileStreamSource",
            "file": dir.path().join("in.txt").display().to_string(),
            "topic": "early"}})),
    );
    assert_eq!(
        status,
        201,
        "created right after GET / answered: {body}\n{}",
        worker.logs()
    );
    let (status, plugins) = rest_call("GET", &worker.url("/connector-plugins"), None);
    assert_eq!(status, 200);
    assert!(
        plugins
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["class"] == "org.apache.kafka.connect.file.FileStreamSinkConnector"),
        "{plugins}"
    );
    eprintln!("GET /health when GET / first answered: {health_at_first_answer}; the create that followed: 201");
    worker.wait_ready();
}
