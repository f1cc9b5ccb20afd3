//! The Kafka quickstart, end to end on a real broker: file → topic → file, following growth,
//! resuming after a restart without loss, flushing offsets on SIGTERM.

use kconnect_tests::*;
use std::path::Path;
use std::time::Duration;

fn connector_files(dir: &Path, tag: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let source = write_file(
        dir,
        "connect-file-source.properties",
        &format!(
            "name=local-file-source\nconnector.class=FileStreamSource\ntasks.max=1\nfile={}\ntopic=connect-test-{tag}\n",
            dir.join("test.txt").display()
        ),
    );
    let sink = write_file(
        dir,
        "connect-file-sink.properties",
        &format!(
            "name=local-file-sink\nconnector.class=FileStreamSink\ntasks.max=1\nfile={}\ntopics=connect-test-{tag}\n",
            dir.join("test.sink.txt").display()
        ),
    );
    (source, sink)
}

fn lines(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("line {i}")).collect()
}

#[test]
fn quickstart_on_a_real_broker_follows_the_file_and_resumes_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), &broker.bootstrap(), rest_port, "");
    let (source, sink) = connector_files(dir.path(), "resume");
    let input = dir.path().join("test.txt");
    let output = dir.path().join("test.sink.txt");
    append_lines(&input, &lines(0, 100));

    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    wait_until(
        Duration::from_secs(60),
        "the first 100 lines in the sink",
        || read_lines(&output).len() >= 100,
    );
    // The file keeps growing while the worker runs.
    append_lines(&input, &lines(100, 200));
    wait_until(Duration::from_secs(30), "200 lines in the sink", || {
        read_lines(&output).len() >= 200
    });
    assert_eq!(
        read_lines(&output),
        lines(0, 200),
        "in order, nothing lost, nothing doubled"
    );

    // SIGTERM: graceful stop with offsets flushed, exit 0.
    worker.signal(libc::SIGTERM);
    let status = worker.wait(Duration::from_secs(30));
    assert!(status.success(), "exit status {status}:\n{}", worker.logs());
    let offsets = std::fs::read(dir.path().join("connect.offsets"))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap();
    assert!(
        offsets.contains("\"position\""),
        "offsets flushed on shutdown: {offsets}"
    );

    // Lines written while the worker is down arrive after the restart, and nothing is re-sent.
    append_lines(&input, &lines(200, 250));
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    wait_until(Duration::from_secs(60), "250 lines in the sink", || {
        read_lines(&output).len() >= 250
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(read_lines(&output), lines(0, 250));
}

#[test]
fn quickstart_on_the_embedded_broker() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    let (source, sink) = connector_files(dir.path(), "embedded");
    let input = dir.path().join("test.txt");
    let output = dir.path().join("test.sink.txt");
    append_lines(&input, &lines(0, 50));
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&source, &sink], rest_port);
    worker.wait_ready();
    wait_until(Duration::from_secs(60), "50 lines in the sink", || {
        read_lines(&output).len() >= 50
    });
    assert_eq!(read_lines(&output), lines(0, 50));
    assert!(
        worker.logs().contains("embedded broker"),
        "the limits are stated in the log"
    );
}

fn expect_startup_error(dir: &Path, worker_config: &Path, connectors: &[&Path], expected: &[&str]) {
    let mut worker = Worker::standalone(dir, worker_config, connectors, free_port());
    let status = worker.wait(Duration::from_secs(30));
    assert!(!status.success(), "a config error must stop startup");
    let logs = worker.logs();
    for e in expected {
        assert!(logs.contains(e), "expected {e:?} in:\n{logs}");
    }
}

#[test]
fn config_errors_stop_startup_with_a_message_naming_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    let no_class = write_file(dir.path(), "no-class.properties", "name=x\ntopic=t\n");
    expect_startup_error(
        dir.path(),
        &worker_config,
        &[&no_class],
        &["no-class.properties", "connector.class"],
    );
    let unknown = write_file(
        dir.path(),
        "unknown.properties",
        "name=x\nconnector.class=NoSuchConnector\ntopic=t\n",
    );
    expect_startup_error(
        dir.path(),
        &worker_config,
        &[&unknown],
        &["NoSuchConnector"],
    );
    let bad_number = write_file(
        dir.path(),
        "bad.properties",
        "name=x\nconnector.class=FileStreamSource\ntopic=t\ntasks.max=many\n",
    );
    expect_startup_error(
        dir.path(),
        &worker_config,
        &[&bad_number],
        &["bad.properties", "tasks.max"],
    );
    let missing = dir.path().join("missing.properties");
    expect_startup_error(
        dir.path(),
        &worker_config,
        &[&missing],
        &["missing.properties", "cannot read"],
    );
    let bad_worker = write_file(
        dir.path(),
        "bad-worker.properties",
        "bootstrap.servers=embedded\nvalue.converter=StringConverter\n",
    );
    expect_startup_error(
        dir.path(),
        &bad_worker,
        &[],
        &["bad-worker.properties", "key.converter"],
    );
    assert!(
        !dir.path().join("connect.offsets").exists(),
        "nothing written"
    );
}
