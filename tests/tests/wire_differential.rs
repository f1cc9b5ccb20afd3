//! Bytes on the wire, differentially (issue #16): every pipeline of
//! `tests/wire-corpus/pipelines.json` — a FileStreamSource with converters, transforms and
//! predicates — runs on an Apache Kafka Connect standalone worker and on a kconnect standalone
//! worker, on one broker, each reading its own copy of the same lines into its own topic. The
//! records are then compared one by one: partition, key bytes, value bytes, header names and
//! bytes, timestamp type. A difference fails the test unless `INTENDED_DIFFERENCES.md` lists
//! the pipeline with its reason; a listed pipeline that no longer differs fails it too.
//! The other way round, every sink of `tests/wire-corpus/sinks.json` — a FileStreamSink with a
//! converter and transforms — reads one topic of records the test wrote on both workers, and
//! the two files must hold the same bytes: Java's `toString()` of each value as read.
//! Record timestamps are the producers' send times and are compared by type only; kconnect's
//! topic names inside records are read as Java's (`wire-kconnect-` as `wire-java-`).

use kconnect_tests::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SIDES: [&str; 2] = ["java", "kconnect"];

fn corpus_dir() -> PathBuf {
    workspace_root().join("tests/wire-corpus")
}

/// One record as compared: everything but the timestamp's value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct WireRecord {
    partition: i32,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
    timestamp_type: &'static str,
}

impl WireRecord {
    fn show(&self) -> String {
        let text = |b: &Option<Vec<u8>>| match b {
            None => "null".to_string(),
            Some(b) => match std::str::from_utf8(b) {
                Ok(s) => format!("{s:?}"),
                Err(_) => format!(
                    "0x{}",
                    b.iter().map(|x| format!("{x:02x}")).collect::<String>()
                ),
            },
        };
        format!(
            "p{} key={} value={} headers=[{}] {}",
            self.partition,
            text(&self.key),
            text(&self.value),
            self.headers
                .iter()
                .map(|(k, v)| format!("{k}={}", text(v)))
                .collect::<Vec<_>>()
                .join(", "),
            self.timestamp_type
        )
    }
}

/// A kconnect record with its own topic names (`wire-kconnect-…`, which transforms such as
/// InsertField's `topic.field` copy into records) spelt as Java's (`wire-java-…`).
fn as_if_from_java(record: &WireRecord) -> WireRecord {
    let spell = |bytes: &Option<Vec<u8>>| {
        bytes.as_ref().map(|b| match std::str::from_utf8(b) {
            Ok(text) => text.replace("wire-kconnect-", "wire-java-").into_bytes(),
            Err(_) => b.clone(),
        })
    };
    WireRecord {
        key: spell(&record.key),
        value: spell(&record.value),
        headers: record
            .headers
            .iter()
            .map(|(name, value)| (name.clone(), spell(value)))
            .collect(),
        ..record.clone()
    }
}

/// `${side}` replaced.
fn for_side(text: &str, side: &str) -> String {
    text.replace("${side}", side)
}

/// Every record of `topics`, read until none arrived for `quiet` (or `limit` passed).
fn read_all(
    bootstrap: &str,
    topics: &[String],
    quiet: Duration,
    limit: Duration,
) -> BTreeMap<String, Vec<WireRecord>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "wire-differential-reader")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("topic.metadata.refresh.interval.ms", "1000")
        .create()
        .expect("consumer");
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer.subscribe(&names).expect("subscribe");
    let mut records: BTreeMap<String, Vec<WireRecord>> = BTreeMap::new();
    let started = Instant::now();
    let mut last = Instant::now();
    while last.elapsed() < quiet && started.elapsed() < limit {
        let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        last = Instant::now();
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|header| (header.key.to_string(), header.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        let timestamp_type = match message.timestamp() {
            rdkafka::Timestamp::NotAvailable => "no timestamp",
            rdkafka::Timestamp::CreateTime(_) => "CreateTime",
            rdkafka::Timestamp::LogAppendTime(_) => "LogAppendTime",
        };
        records
            .entry(message.topic().to_string())
            .or_default()
            .push(WireRecord {
                partition: message.partition(),
                key: message.key().map(<[u8]>::to_vec),
                value: message.payload().map(<[u8]>::to_vec),
                headers,
                timestamp_type,
            });
    }
    records
}

/// The pipelines `INTENDED_DIFFERENCES.md` lists: `| id | reason |` rows of its table.
fn intended(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .collect();
            let id = cells.first()?.trim().trim_matches('`');
            if id.is_empty() || id == "pipeline" || id.starts_with("---") {
                return None;
            }
            Some((
                id.to_string(),
                cells.get(1).unwrap_or(&"").trim().to_string(),
            ))
        })
        .collect()
}

/// A corpus file of `tests/wire-corpus`.
fn corpus(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(corpus_dir().join(file)).expect(file))
        .expect("a corpus is JSON")
}

/// The rows of `INTENDED_DIFFERENCES.md`.
fn listed_differences() -> BTreeMap<String, String> {
    intended(&std::fs::read_to_string(corpus_dir().join("INTENDED_DIFFERENCES.md")).expect("list"))
}

/// How the pipelines or sinks of one test compared with the list of intended differences.
#[derive(Default)]
struct Tally {
    identical: usize,
    listed_differing: usize,
    unlisted: Vec<String>,
    stale: Vec<String>,
}

impl Tally {
    fn note(&mut self, id: &str, differences: &[String], listed: &BTreeMap<String, String>) {
        match (differences.is_empty(), listed.contains_key(id)) {
            (true, false) => self.identical += 1,
            (true, true) => self.stale.push(id.to_string()),
            (false, true) => self.listed_differing += 1,
            (false, false) => self
                .unlisted
                .push(format!("{id}: {}", differences.join("\n  "))),
        }
    }

    /// Fails on an unlisted difference or on a listed one that is gone.
    fn assert_true_to_the_list(&self) {
        assert!(
            self.unlisted.is_empty(),
            "differences not listed in tests/wire-corpus/INTENDED_DIFFERENCES.md:\n{}",
            self.unlisted.join("\n")
        );
        assert!(
            self.stale.is_empty(),
            "listed but identical now: {:?}",
            self.stale
        );
    }
}

/// A broker, an Apache Kafka Connect standalone worker in `root/java` and a kconnect one in
/// `root/kconnect`, both ready.
fn start_both(root: &std::path::Path) -> (Broker, JavaConnect, Worker) {
    let broker = Broker::start();
    let java_dir = root.join("java");
    let rust_dir = root.join("kconnect");
    std::fs::create_dir_all(&java_dir).unwrap();
    std::fs::create_dir_all(&rust_dir).unwrap();
    let java = JavaConnect::standalone(&java_dir, &broker.bootstrap(), "", &[]);
    let rest_port = free_port();
    let config = file_plugin_worker_properties(&rust_dir, &broker.bootstrap(), rest_port);
    let mut kconnect = Worker::standalone(&rust_dir, &config, &[], rest_port);
    kconnect.wait_ready();
    (broker, java, kconnect)
}

/// The ids of both corpora: a listed id in neither is stale.
fn corpus_ids() -> Vec<String> {
    let ids = |file: &str, array: &str| -> Vec<String> {
        corpus(file)[array]
            .as_array()
            .expect(array)
            .iter()
            .map(|p| p["id"].as_str().expect("id").to_string())
            .collect()
    };
    let mut all = ids("pipelines.json", "pipelines");
    all.extend(ids("sinks.json", "sinks"));
    all
}

#[test]
fn kconnect_writes_the_bytes_apache_kafka_connect_writes() {
    let corpus = corpus("pipelines.json");
    let listed = listed_differences();
    let default_lines = corpus["lines"].as_array().expect("lines").clone();
    let pipelines = corpus["pipelines"].as_array().expect("pipelines").clone();

    let root = tempfile::tempdir().unwrap();
    let (broker, java, kconnect) = start_both(root.path());
    let base = |side: &str| {
        if side == "java" {
            java.url("")
        } else {
            kconnect.url("")
        }
    };

    let mut read_topics = Vec::new();
    let mut lines_of = BTreeMap::new();
    for pipeline in &pipelines {
        let id = pipeline["id"].as_str().expect("id");
        let lines: Vec<String> = pipeline["lines"]
            .as_array()
            .unwrap_or(&default_lines)
            .iter()
            .map(|l| l.as_str().expect("a line is a string").to_string())
            .collect();
        lines_of.insert(id.to_string(), lines.len());
        for side in SIDES {
            let dir = root.path().join(side);
            let input = dir.join(format!("{id}.txt"));
            std::fs::write(
                &input,
                lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
            )
            .unwrap();
            let mut config = json!({
                "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
                "file": input.display().to_string(),
                "topic": format!("wire-{side}-{id}"),
            });
            for (key, value) in pipeline["config"].as_object().expect("config") {
                config[key] = json!(for_side(value.as_str().expect("string values"), side));
            }
            let (code, body) = rest_call(
                "POST",
                &format!("{}/connectors", base(side)),
                Some(json!({"name": format!("wire-{id}"), "config": config})),
            );
            assert_eq!(code, 201, "{side} {id}: {body}");
            let read = pipeline["read"]
                .as_str()
                .map(|r| for_side(r, side))
                .unwrap_or(format!("wire-{side}-{id}"));
            read_topics.push(read);
        }
    }
    // Every task RUNNING on both sides before reading: a FAILED one would read as "no records".
    let not_running = |side: &str| -> Vec<String> {
        pipelines
            .iter()
            .filter_map(|p| {
                let id = p["id"].as_str().unwrap();
                let (_, status) = rest_call(
                    "GET",
                    &format!("{}/connectors/wire-{id}/status", base(side)),
                    None,
                );
                let running = status["tasks"]
                    .as_array()
                    .is_some_and(|t| !t.is_empty() && t.iter().all(|t| t["state"] == "RUNNING"));
                (!running).then(|| {
                    let trace = status["tasks"][0]["trace"].as_str().unwrap_or_default();
                    format!(
                        "{id}: {}",
                        trace.lines().take(3).collect::<Vec<_>>().join(" / ")
                    )
                })
            })
            .collect()
    };
    for side in SIDES {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let failing = not_running(side);
            if failing.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{side}: tasks not RUNNING after 60 s:\n{}",
                failing.join("\n")
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    let records = read_all(
        &broker.bootstrap(),
        &read_topics,
        Duration::from_secs(8),
        Duration::from_secs(120),
    );

    let mut tally = Tally::default();
    let mut total = 0;
    for (i, pipeline) in pipelines.iter().enumerate() {
        let id = pipeline["id"].as_str().unwrap();
        let empty = Vec::new();
        let java_records = records.get(&read_topics[2 * i]).unwrap_or(&empty);
        let rust_records: Vec<WireRecord> = records
            .get(&read_topics[2 * i + 1])
            .unwrap_or(&empty)
            .iter()
            .map(as_if_from_java)
            .collect();
        let rust_records = &rust_records;
        total += java_records.len();
        let mut differences = Vec::new();
        if java_records.len() != rust_records.len() {
            differences.push(format!(
                "{} records from Java, {} from kconnect",
                java_records.len(),
                rust_records.len()
            ));
        }
        for (n, (j, r)) in java_records.iter().zip(rust_records).enumerate() {
            if j != r {
                differences.push(format!(
                    "record {n}:\n    Java     {}\n    kconnect {}",
                    j.show(),
                    r.show()
                ));
            }
        }
        let filtered_out = id.contains("dropped");
        if java_records.is_empty() && !filtered_out {
            differences.push(format!(
                "Java wrote nothing of {} lines: the pipeline proves nothing",
                lines_of[id]
            ));
        }
        tally.note(id, &differences, &listed);
    }
    let known = corpus_ids();
    for id in listed.keys() {
        if !known.contains(id) {
            tally.stale.push(format!("{id} (no such pipeline or sink)"));
        }
    }
    eprintln!(
        "{} pipelines, {total} records from each worker: {} identical, {} differing as listed in INTENDED_DIFFERENCES.md, {} with unlisted differences",
        pipelines.len(),
        tally.identical,
        tally.listed_differing,
        tally.unlisted.len()
    );
    tally.assert_true_to_the_list();
}

/// The bytes a sink corpus record has: text as UTF-8, `{"base64": …}` decoded, null for none.
fn record_bytes(record: &Value) -> Option<Vec<u8>> {
    use base64::Engine;
    match record {
        Value::Null => None,
        Value::String(text) => Some(text.as_bytes().to_vec()),
        other => Some(
            base64::engine::general_purpose::STANDARD
                .decode(
                    other["base64"]
                        .as_str()
                        .expect("text, null or {\"base64\": …}"),
                )
                .expect("base64"),
        ),
    }
}

/// Lines printed, differentially: each sink of `tests/wire-corpus/sinks.json` reads the same
/// records on both workers into a file of its own; the files must be the same bytes.
#[test]
fn kconnect_prints_the_lines_apache_kafka_connect_prints() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    const FIRST_TIMESTAMP: i64 = 1_700_000_000_000;
    const DAY_MS: i64 = 86_400_000;
    let corpus = corpus("sinks.json");
    let listed = listed_differences();
    let sinks = corpus["sinks"].as_array().expect("sinks").clone();

    let root = tempfile::tempdir().unwrap();
    let (broker, java, kconnect) = start_both(root.path());
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .expect("producer");
    for sink in &sinks {
        let id = sink["id"].as_str().expect("id");
        let topic = format!("wire-{id}");
        for (i, record) in sink["records"]
            .as_array()
            .expect("records")
            .iter()
            .enumerate()
        {
            let bytes = record_bytes(record);
            let mut message: BaseRecord<'_, [u8], [u8]> =
                BaseRecord::to(&topic).timestamp(FIRST_TIMESTAMP + i as i64 * DAY_MS);
            if let Some(bytes) = &bytes {
                message = message.payload(bytes);
            }
            producer.send(message).map_err(|(e, _)| e).expect("send");
        }
    }
    producer.flush(Duration::from_secs(30)).expect("flush");

    let output = |side: &str, id: &str| root.path().join(side).join(format!("{id}.out"));
    for sink in &sinks {
        let id = sink["id"].as_str().unwrap();
        for side in SIDES {
            let base = if side == "java" {
                java.url("")
            } else {
                kconnect.url("")
            };
            let mut config = json!({
                "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
                "file": output(side, id).display().to_string(),
                "topics": format!("wire-{id}"),
            });
            for (key, value) in sink["config"].as_object().expect("config") {
                config[key] = value.clone();
            }
            let (code, body) = rest_call(
                "POST",
                &format!("{base}/connectors"),
                Some(json!({"name": format!("wire-{id}-{side}"), "config": config})),
            );
            assert_eq!(code, 201, "{side} {id}: {body}");
        }
    }
    // Every record is a line: wait until both files have them all (sinks flush on commit).
    let lines = |path: &std::path::Path| {
        std::fs::read(path)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let short: Vec<String> = sinks
            .iter()
            .flat_map(|sink| {
                let id = sink["id"].as_str().unwrap();
                let expected = sink["records"].as_array().unwrap().len();
                SIDES.into_iter().filter_map(move |side| {
                    let have = lines(&output(side, id));
                    (have < expected).then(|| format!("{side} {id}: {have} of {expected} lines"))
                })
            })
            .collect();
        if short.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let status = |base: String, name: String| {
                rest_call("GET", &format!("{base}/connectors/{name}/status"), None).1
            };
            panic!(
                "sinks did not write every record within 120 s:\n{}\nJava's statuses: {}\nkconnect's: {}",
                short.join("\n"),
                sinks
                    .iter()
                    .map(|s| status(java.url(""), format!("wire-{}-java", s["id"].as_str().unwrap())).to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
                sinks
                    .iter()
                    .map(|s| status(kconnect.url(""), format!("wire-{}-kconnect", s["id"].as_str().unwrap())).to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }

    let mut tally = Tally::default();
    for sink in &sinks {
        let id = sink["id"].as_str().unwrap();
        let java_text = std::fs::read(output("java", id)).unwrap();
        let rust_text = std::fs::read(output("kconnect", id)).unwrap();
        let java_lines = String::from_utf8_lossy(&java_text);
        let rust_lines = String::from_utf8_lossy(&rust_text);
        let mut differences: Vec<String> = java_lines
            .lines()
            .zip(rust_lines.lines())
            .enumerate()
            .filter(|(_, (j, r))| j != r)
            .map(|(n, (j, r))| format!("line {n}:\n    Java     {j:?}\n    kconnect {r:?}"))
            .collect();
        if differences.is_empty() && java_text != rust_text {
            differences.push(format!(
                "{} lines from Java, {} from kconnect",
                java_lines.lines().count(),
                rust_lines.lines().count()
            ));
        }
        tally.note(id, &differences, &listed);
    }
    eprintln!(
        "{} sinks: {} print identical lines, {} differ as listed in INTENDED_DIFFERENCES.md, {} with unlisted differences",
        sinks.len(),
        tally.identical,
        tally.listed_differing,
        tally.unlisted.len()
    );
    tally.assert_true_to_the_list();
}
