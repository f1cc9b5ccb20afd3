//! Exactly-once sources (issue #18): `cargo bench -p kconnect-tests --bench exactly_once`.
//!
//! A release `kconnect distributed` worker runs a FileStreamSource (`batch.size=10000`,
//! `transaction.boundary=poll`) over a prepared file into a one-partition topic on one broker,
//! once with `exactly.once.source.support=disabled` and once with `enabled`, three times each in
//! turn (the machine is shared; the fastest attempt counts, the slowest is shown). The rate counts
//! from the first record a `read_committed` consumer sees to the last, so that startup, plugin
//! loading and the group join do not dilute it. Printed: records/s of each mode, the ratio
//! `enabled / disabled` (issue target ≥ 0.8), and the commit latency of the transactions (the
//! worker's `kconnect_task_commit_seconds` histogram: p50 and p99 as bucket bounds).
//!
//! Timings are printed, never asserted; what is asserted is that every line arrived.
//! `KCONNECT_BENCH_RECORDS=N` runs with fewer records for a quick try.

use kconnect_tests::{
    build_release, distributed_worker_from, free_port, write_file, Broker, Worker,
};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

const ATTEMPTS: usize = 3;
const MODES: [&str; 2] = ["disabled", "enabled"];

struct Attempt {
    records_per_second: f64,
    /// `(upper bound, cumulative count)` of the commit-latency buckets.
    commit_buckets: Vec<(f64, f64)>,
}

fn main() {
    let records: usize = std::env::var("KCONNECT_BENCH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300_000);
    let release = build_release();
    let root = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let input = root.path().join("lines.txt");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        for n in 0..records {
            writeln!(
                file,
                "line {n:08} of the exactly-once benchmark, some forty bytes more"
            )
            .unwrap();
        }
    }
    let plugins = root.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        &release.file_plugin,
        plugins.join(release.file_plugin.file_name().unwrap()),
    )
    .unwrap();

    let mut results: Vec<Vec<Attempt>> = MODES.iter().map(|_| Vec::new()).collect();
    for attempt in 0..ATTEMPTS {
        for (m, mode) in MODES.iter().enumerate() {
            let phase = format!("eos-bench-{mode}-{attempt}");
            let result = run_phase(
                &release.kconnect,
                root.path(),
                &plugins,
                &broker.bootstrap(),
                &phase,
                mode,
                &input,
                records,
            );
            eprintln!("{phase}: {:.0} records/s", result.records_per_second);
            results[m].push(result);
        }
    }

    let best = |m: usize| {
        results[m]
            .iter()
            .map(|a| a.records_per_second)
            .fold(0.0, f64::max)
    };
    let slowest = |m: usize| {
        results[m]
            .iter()
            .map(|a| a.records_per_second)
            .fold(f64::INFINITY, f64::min)
    };
    println!(
        "\nexactly-once source throughput, {records} records, batch.size=10000, poll boundaries"
    );
    println!("| mode | records/s (best of {ATTEMPTS}) | slowest |");
    println!("|---|---|---|");
    for (m, mode) in MODES.iter().enumerate() {
        println!("| {mode} | {:.0} | {:.0} |", best(m), slowest(m));
    }
    println!(
        "ratio enabled / disabled: {:.2} (issue target >= 0.8)",
        best(1) / best(0)
    );
    let fastest_enabled = results[1]
        .iter()
        .max_by(|a, b| a.records_per_second.total_cmp(&b.records_per_second))
        .expect("an attempt");
    let quantile = |q: f64| bucket_quantile(&fastest_enabled.commit_buckets, q);
    println!(
        "transaction commit latency (enabled, fastest attempt): p50 <= {} ms, p99 <= {} ms",
        quantile(0.5),
        quantile(0.99)
    );
}

/// One mode, one attempt: a fresh group and topic, a fresh worker.
#[allow(clippy::too_many_arguments)]
fn run_phase(
    kconnect: &Path,
    root: &Path,
    plugins: &Path,
    bootstrap: &str,
    phase: &str,
    mode: &str,
    input: &Path,
    records: usize,
) -> Attempt {
    let dir = root.join(phase);
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let config = write_file(
        &dir,
        "worker.properties",
        &format!(
            "bootstrap.servers={bootstrap}
group.id={phase}
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
config.storage.topic={phase}-configs
offset.storage.topic={phase}-offsets
status.storage.topic={phase}-status
config.storage.replication.factor=-1
offset.storage.replication.factor=-1
status.storage.replication.factor=-1
offset.storage.partitions=3
status.storage.partitions=3
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:{port}
rest.advertised.host.name=127.0.0.1
rest.advertised.port={port}
plugin.path={}
exactly.once.source.support={mode}
",
            plugins.display()
        ),
    );
    let mut worker: Worker = distributed_worker_from(kconnect, &dir, &config, port);
    worker.wait_ready();
    let topic = format!("{phase}-out");
    // The reader is in place before the connector starts, so that its first record comes as
    // soon as the first is committed and the rate is the worker's, not a backlog read back.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("{phase}-reader"))
        .set("isolation.level", "read_committed")
        .set("enable.auto.commit", "false")
        .set("topic.metadata.refresh.interval.ms", "200")
        .create()
        .expect("consumer");
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(&topic, 0, Offset::Beginning)
        .expect("partition");
    consumer.assign(&assignment).expect("assign");
    let (code, body) = kconnect_tests::rest_call(
        "PUT",
        &worker.url(&format!("/connectors/{phase}/config")),
        Some(json!({
            "connector.class": "FileStreamSource",
            "file": input.display().to_string(),
            "topic": topic,
            "batch.size": "10000",
            "topic.creation.default.partitions": "1",
            "topic.creation.default.replication.factor": "1",
        })),
    );
    assert_eq!(code, 201, "{body}");

    let mut seen = 0usize;
    let mut first: Option<Instant> = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    while seen < records {
        assert!(
            Instant::now() < deadline,
            "{phase}: {seen} of {records} records after 600 s"
        );
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            first.get_or_insert_with(Instant::now);
            seen += 1;
        }
    }
    let elapsed = first.expect("records arrived").elapsed().as_secs_f64();
    let metrics = ureq::get(&worker.url("/metrics"))
        .call()
        .ok()
        .and_then(|answer| answer.into_string().ok())
        .unwrap_or_default();
    Attempt {
        records_per_second: records as f64 / elapsed.max(1e-9),
        commit_buckets: commit_buckets(&metrics),
    }
}

/// The `kconnect_task_commit_seconds` buckets of the worker's exposition: `(le, count)`.
fn commit_buckets(text: &str) -> Vec<(f64, f64)> {
    text.lines()
        .filter(|line| line.starts_with("kconnect_task_commit_seconds_bucket"))
        .filter_map(|line| {
            let le = line.split("le=\"").nth(1)?.split('"').next()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            let count = line.rsplit(' ').next()?.parse().ok()?;
            Some((le, count))
        })
        .collect()
}

/// The upper bound, in ms, of the bucket where quantile `q` falls.
fn bucket_quantile(buckets: &[(f64, f64)], q: f64) -> String {
    let Some(total) = buckets
        .iter()
        .map(|(_, c)| *c)
        .fold(None, |m: Option<f64>, c| Some(m.map_or(c, |m| m.max(c))))
    else {
        return "?".to_string();
    };
    buckets
        .iter()
        .find(|(_, count)| *count >= q * total)
        .map(|(le, _)| {
            if le.is_finite() {
                format!("{:.1}", le * 1000.0)
            } else {
                "inf".to_string()
            }
        })
        .unwrap_or_else(|| "?".to_string())
}
