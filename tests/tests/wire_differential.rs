//! Bytes on the wire, differentially (issue #16): every pipeline of
//! `tests/wire-corpus/pipelines.json` — a FileStreamSource with converters, transforms and
//! predicates — runs on an Apache Kafka Connect standalone worker and on a kconnect standalone
//! worker, on one broker, each reading its own copy of the same lines into its own topic. The
//! records are then compared one by one: partition, key bytes, value bytes, header names and
//! bytes, timestamp type. A difference fails the test unless `INTENDED_DIFFERENCES.md` lists
//! the pipeline with its reason; a listed pipeline that no longer differs fails it too.
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

#[test]
fn kconnect_writes_the_bytes_apache_kafka_connect_writes() {
    let corpus: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("pipelines.json")).expect("corpus"),
    )
    .expect("pipelines.json is JSON");
    let listed = intended(
        &std::fs::read_to_string(corpus_dir().join("INTENDED_DIFFERENCES.md")).expect("list"),
    );
    let default_lines = corpus["lines"].as_array().expect("lines").clone();
    let pipelines = corpus["pipelines"].as_array().expect("pipelines").clone();

    let root = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let java_dir = root.path().join("java");
    let rust_dir = root.path().join("kconnect");
    std::fs::create_dir_all(&java_dir).unwrap();
    std::fs::create_dir_all(&rust_dir).unwrap();
    let java = JavaConnect::standalone(&java_dir, &broker.bootstrap(), "", &[]);
    let rest_port = free_port();
    let config = file_plugin_worker_properties(&rust_dir, &broker.bootstrap(), rest_port);
    let mut kconnect = Worker::standalone(&rust_dir, &config, &[], rest_port);
    kconnect.wait_ready();
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

    let mut identical = 0;
    let mut listed_differing = 0;
    let mut unlisted = Vec::new();
    let mut stale = Vec::new();
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
        match (differences.is_empty(), listed.contains_key(id)) {
            (true, false) => identical += 1,
            (true, true) => stale.push(id.to_string()),
            (false, true) => listed_differing += 1,
            (false, false) => unlisted.push(format!("{id}: {}", differences.join("\n  "))),
        }
    }
    for id in listed.keys() {
        if !pipelines.iter().any(|p| p["id"] == id.as_str()) {
            stale.push(format!("{id} (no such pipeline)"));
        }
    }
    eprintln!(
        "{} pipelines, {total} records from each worker: {identical} identical, {listed_differing} differing as listed in INTENDED_DIFFERENCES.md, {} with unlisted differences",
        pipelines.len(),
        unlisted.len()
    );
    assert!(
        unlisted.is_empty(),
        "differences not listed in tests/wire-corpus/INTENDED_DIFFERENCES.md:\n{}",
        unlisted.join("\n")
    );
    assert!(stale.is_empty(), "listed but identical now: {stale:?}");
}
