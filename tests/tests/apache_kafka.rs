//! kconnect beside Apache Kafka Connect on one Apache Kafka broker: each worker's
//! FileStreamSource reads the same file into its own topic, and each worker's FileStreamSink
//! reads the *other* worker's topic, so each sink consumes what the other worker produced. Both
//! output files must equal the input, and both topics must hold the same bytes record for record
//! (keys, values, in order). And a standalone worker moves from one to the other and back with
//! its offset file. Run with `--nocapture` for the startup times.

use kconnect_tests::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::time::{Duration, Instant};

/// A record's key and value bytes.
#[test]
fn kconnect_and_apache_kafka_connect_move_the_same_file_through_one_broker() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let broker = Broker::start();
    let broker_ready = started.elapsed();

    let input = dir.path().join("in.txt");
    let lines: Vec<String> = (0..500)
        .map(|i| format!("line {i:04} with \"quotes\", tabs\tand ünïcödé"))
        .collect();
    append_lines(&input, &lines);

    let java_dir = dir.path().join("java");
    let rust_dir = dir.path().join("rust");
    std::fs::create_dir_all(&java_dir).unwrap();
    std::fs::create_dir_all(&rust_dir).unwrap();
    let connector = |dir: &std::path::Path, name: &str, body: String| {
        write_file(
            dir,
            &format!("{name}.properties"),
            &format!("name={name}\n{body}"),
        )
    };
    // Java: source → from-java; sink ← from-kconnect.
    let java_source = connector(
        &java_dir,
        "java-source",
        format!(
            "connector.class=FileStreamSource\nfile={}\ntopic=from-java\n",
            input.display()
        ),
    );
    let java_sink = connector(
        &java_dir,
        "java-sink",
        format!(
            "connector.class=FileStreamSink\nfile={}\ntopics=from-kconnect\n",
            java_dir.join("out.txt").display()
        ),
    );
    // kconnect: source → from-kconnect; sink ← from-java.
    let rust_source = connector(
        &rust_dir,
        "kconnect-source",
        format!(
            "connector.class=FileStreamSource\nfile={}\ntopic=from-kconnect\n",
            input.display()
        ),
    );
    let rust_sink = connector(
        &rust_dir,
        "kconnect-sink",
        format!(
            "connector.class=FileStreamSink\nfile={}\ntopics=from-java\n",
            rust_dir.join("out.txt").display()
        ),
    );

    let java_start = Instant::now();
    let java = JavaConnect::standalone(
        &java_dir,
        &broker.bootstrap(),
        "key.converter.schemas.enable=true\nvalue.converter.schemas.enable=true",
        &[&java_source, &java_sink],
    );
    let java_ready = java_start.elapsed();

    let rest_port = free_port();
    let worker_config = worker_properties(&rust_dir, &broker.bootstrap(), rest_port, "");
    let rust_start = Instant::now();
    let mut worker = Worker::standalone(
        &rust_dir,
        &worker_config,
        &[&rust_source, &rust_sink],
        rest_port,
    );
    worker.wait_ready();
    let rust_ready = rust_start.elapsed();
    eprintln!(
        "Apache Kafka {} broker ready in {broker_ready:?}; Apache Kafka Connect ready in {java_ready:?}; kconnect ready in {rust_ready:?}",
        kafka_version()
    );

    for (who, out) in [
        ("kconnect", rust_dir.join("out.txt")),
        ("Apache Kafka Connect", java_dir.join("out.txt")),
    ] {
        let deadline = Instant::now() + Duration::from_secs(90);
        while read_lines(&out).len() < lines.len() {
            assert!(
                Instant::now() < deadline,
                "{who}'s sink has {} of {} lines after 90 s\nkconnect:\n{}\nJava:\n{}",
                read_lines(&out).len(),
                lines.len(),
                worker.logs(),
                java.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(
            read_lines(&out),
            lines,
            "{who}'s sink holds the input, in order"
        );
        eprintln!("{who}'s sink complete {:?} after start", started.elapsed());
    }

    let from_java = topic_records(&broker.bootstrap(), "from-java", lines.len());
    let from_kconnect = topic_records(&broker.bootstrap(), "from-kconnect", lines.len());
    eprintln!("topics read {:?} after start", started.elapsed());
    assert_eq!(from_java.len(), from_kconnect.len());
    for (i, (java_record, rust_record)) in from_java.iter().zip(&from_kconnect).enumerate() {
        assert_eq!(
            java_record,
            rust_record,
            "record {i} differs: Java {:?} / kconnect {:?}",
            java_record.1.as_deref().map(String::from_utf8_lossy),
            rust_record.1.as_deref().map(String::from_utf8_lossy)
        );
    }
    eprintln!(
        "{} lines through both workers; both topics hold the same {} records byte for byte",
        lines.len(),
        from_java.len()
    );
}

/// A standalone worker moves from Apache Kafka Connect to kconnect and back with its offset
/// file (Kafka's format, read and written by both): a FileStreamSource runs on Java for 300
/// lines and stops (SIGTERM), kconnect continues from Java's offsets for 300 more, then Java
/// from kconnect's for the last 300. The topic holds each line once, in order.
#[test]
fn a_standalone_worker_moves_between_apache_kafka_connect_and_kconnect_with_its_offsets() {
    const PHASE: usize = 300;
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let input = dir.path().join("in.txt");
    std::fs::write(&input, "").unwrap();
    let offsets = dir.path().join("connect.offsets");
    let topic = "migrating-lines";
    let connector = write_file(
        dir.path(),
        "migrating-source.properties",
        &format!(
            "name=migrating-source\nconnector.class=FileStreamSource\nfile={}\ntopic={topic}\n",
            input.display()
        ),
    );
    // One offset file and the same converters for both workers.
    let shared = format!(
        "key.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\noffset.storage.file.filename={}\n",
        offsets.display()
    );
    let lines: Vec<String> = (0..3 * PHASE)
        .map(|i| format!("migrating line {i:04}"))
        .collect();
    let phase_lines = |phase: usize| &lines[phase * PHASE..(phase + 1) * PHASE];
    let values = |count: usize| -> Vec<String> {
        topic_records(&broker.bootstrap(), topic, count)
            .into_iter()
            .map(|(_, value)| String::from_utf8(value.unwrap_or_default()).unwrap())
            .collect()
    };
    let java_dir = dir.path().join("java");
    std::fs::create_dir_all(&java_dir).unwrap();

    append_lines(&input, phase_lines(0));
    let mut java = JavaConnect::standalone(&java_dir, &broker.bootstrap(), &shared, &[&connector]);
    assert_eq!(values(PHASE), lines[..PHASE]);
    java.stop();
    assert!(
        std::fs::read(&offsets).is_ok_and(|bytes| bytes.starts_with(&[0xAC, 0xED])),
        "Java left its offsets in Kafka's format"
    );

    append_lines(&input, phase_lines(1));
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), &broker.bootstrap(), rest_port, &shared);
    let mut worker = Worker::standalone(dir.path(), &worker_config, &[&connector], rest_port);
    worker.wait_ready();
    let got = values(2 * PHASE);
    assert_eq!(
        got,
        lines[..2 * PHASE],
        "kconnect continued from Java's offsets:\n{}",
        worker.logs()
    );
    worker.signal(libc::SIGTERM);
    assert!(worker.wait(Duration::from_secs(30)).success());

    append_lines(&input, phase_lines(2));
    let java_again =
        JavaConnect::standalone(&java_dir, &broker.bootstrap(), &shared, &[&connector]);
    let got = values(3 * PHASE);
    assert_eq!(
        got,
        lines,
        "Java continued from kconnect's offsets:\n{}",
        java_again.logs()
    );
    // Nothing more than the lines: no replay arrives late.
    std::thread::sleep(Duration::from_secs(2));
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .expect("consumer");
    let (low, high) = consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .expect("watermarks");
    assert_eq!((high - low) as usize, 3 * PHASE, "records in {topic}");
    eprintln!(
        "{} lines through Java, kconnect, Java on one offset file: none lost, none repeated",
        3 * PHASE
    );
}
