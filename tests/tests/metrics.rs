//! `GET /metrics` during a pipeline: the counts match what flowed.

use kconnect_tests::*;
use std::time::Duration;

/// The value of the first sample whose line starts with `name` and contains every label.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(name) && labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_what_flowed() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    append_lines(
        &input,
        &(0..250).map(|i| format!("line {i}")).collect::<Vec<_>>(),
    );
    let source = write_file(
        dir.path(),
        "source.properties",
        &format!("name=src\nconnector.class=FileStreamSource\nfile={}\ntopic=metrics-test\nbatch.size=100\n", input.display()),
    );
    let sink = write_file(
        dir.path(),
        "sink.properties",
        &format!(
            "name=snk\nconnector.class=FileStreamSink\nfile={}\ntopics=metrics-test\n",
            output.display()
        ),
    );
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    wait_until(Duration::from_secs(60), "250 lines in the sink", || {
        read_lines(&output).len() >= 250
    });

    let scrape = || {
        ureq::get(&worker.url("/metrics"))
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    };
    let src = ["connector=\"src\"", "task=\"0\""];
    let snk = ["connector=\"snk\"", "task=\"0\""];
    // Offsets are committed every second in the tests' worker config.
    wait_until(
        Duration::from_secs(30),
        "offset commits on both tasks",
        || {
            let text = scrape();
            sample(&text, "kconnect_task_offset_commits_succeeded", &src).unwrap_or(0.0) >= 1.0
                && sample(&text, "kconnect_task_offset_commits_succeeded", &snk).unwrap_or(0.0)
                    >= 1.0
        },
    );
    let text = scrape();
    assert_eq!(
        sample(&text, "kconnect_task_records_in", &src),
        Some(250.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "kconnect_task_records_out", &src),
        Some(250.0),
        "acknowledged by Kafka"
    );
    assert_eq!(sample(&text, "kconnect_task_records_in", &snk), Some(250.0));
    assert_eq!(
        sample(&text, "kconnect_task_records_out", &snk),
        Some(250.0),
        "given to put"
    );
    assert_eq!(
        sample(&text, "kconnect_task_state", &[src[0], "state=\"RUNNING\""]),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "kconnect_task_state", &[src[0], "state=\"FAILED\""]),
        Some(0.0)
    );
    assert_eq!(
        sample(&text, "kconnect_task_batch_size_count", &src),
        Some(3.0),
        "three polls of at most 100"
    );
    assert!(sample(&text, "kconnect_task_call_seconds_count", &snk).unwrap_or(0.0) >= 1.0);
    assert_eq!(sample(&text, "kconnect_worker_connectors", &[]), Some(2.0));
    assert_eq!(sample(&text, "kconnect_worker_tasks", &[]), Some(2.0));
    assert_eq!(
        sample(&text, "kconnect_task_records_failed", &src),
        Some(0.0)
    );
    assert!(sample(&text, "kconnect_task_offset_commit_age_seconds", &src).is_some());
    assert!(
        text.contains("# TYPE kconnect_task_call_seconds histogram"),
        "{text}"
    );
}
