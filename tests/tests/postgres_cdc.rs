//! The PostgreSQL CDC plugin end to end: a real PostgreSQL (Debian's binaries, started here),
//! a real Apache Kafka broker, the kconnect binary loading the plugin's cdylib from
//! `plugin.path` under Debezium's class name. Records are read back from Kafka as the
//! JsonConverter wrote them and checked against Debezium's shapes; the slot must advance only
//! after the worker stored the offsets; a restarted (and a kill -9'ed) worker resumes without
//! a new snapshot and without losing a change.
//!
//! Needs the `postgresql` apt package (the server binaries under /usr/lib/postgresql/<ver>/bin).

#[path = "../../plugins/postgres/tests/pg_harness/mod.rs"]
mod pg_harness;

use kconnect_tests::*;
use pg_harness::Postgres;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const DB: &str = "inventory";

/// Builds the plugin (debug) once per test process and returns its `.so`.
fn postgres_plugin() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_plugin("kconnect-postgres-plugin"))
}

/// A worker config whose plugin folder also holds the PostgreSQL plugin.
fn worker_config(dir: &Path, bootstrap: &str, rest_port: u16) -> PathBuf {
    let config = worker_properties(dir, bootstrap, rest_port, "");
    let plugin = postgres_plugin();
    std::fs::copy(
        plugin,
        dir.join("plugins").join(plugin.file_name().unwrap()),
    )
    .expect("copy the plugin");
    config
}

fn connector_file(
    dir: &Path,
    name: &str,
    pg: &Postgres,
    (prefix, slot, table): (&str, &str, &str),
    extra: &str,
) -> PathBuf {
    write_file(
        dir,
        &format!("{name}.properties"),
        &format!(
            "name={name}\nconnector.class=io.debezium.connector.postgresql.PostgresConnector\ntasks.max=1\n\
             database.hostname=127.0.0.1\ndatabase.port={}\ndatabase.user={}\ndatabase.password={}\n\
             database.dbname={DB}\ntopic.prefix={prefix}\nplugin.name=pgoutput\nslot.name={slot}\n\
             publication.name={slot}_pub\npublication.autocreate.mode=filtered\n\
             table.include.list={table}\nstatus.update.interval.ms=500\n{extra}\n",
            pg.port,
            pg_harness::SUPERUSER,
            pg_harness::PASSWORD
        ),
    )
}

/// Reads a topic from the start, as JSON (key, value); `None` for a Kafka null.
struct TopicReader {
    consumer: BaseConsumer,
    topic: String,
}

impl TopicReader {
    fn new(bootstrap: &str, topic: &str) -> TopicReader {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", format!("check-{topic}-{}", std::process::id()))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("topic.metadata.refresh.interval.ms", "500")
            .create()
            .expect("consumer");
        consumer.subscribe(&[topic]).expect("subscribe");
        TopicReader {
            consumer,
            topic: topic.to_string(),
        }
    }

    /// The next `count` records (fails after `timeout`).
    fn take(&self, count: usize, timeout: Duration) -> Vec<(Option<Json>, Option<Json>)> {
        let mut records = Vec::new();
        let deadline = Instant::now() + timeout;
        while records.len() < count {
            assert!(
                Instant::now() < deadline,
                "{} of {count} records in {} after {timeout:?}: {records:#?}",
                records.len(),
                self.topic
            );
            if let Some(Ok(m)) = self.consumer.poll(Duration::from_millis(200)) {
                let parse =
                    |b: Option<&[u8]>| b.map(|b| serde_json::from_slice::<Json>(b).expect("JSON"));
                records.push((parse(m.key()), parse(m.payload())));
            }
        }
        records
    }

    /// Asserts that nothing more arrives within `quiet`.
    fn nothing_more(&self, quiet: Duration) {
        let deadline = Instant::now() + quiet;
        while Instant::now() < deadline {
            if let Some(Ok(m)) = self.consumer.poll(Duration::from_millis(200)) {
                panic!(
                    "unexpected record in {}: {:?}",
                    self.topic,
                    m.payload().map(String::from_utf8_lossy)
                );
            }
        }
    }
}

/// `(op, id)` of an envelope record; `("tombstone", id)` for a null value.
fn op_and_id(record: &(Option<Json>, Option<Json>)) -> (String, i64) {
    let id = record.0.as_ref().expect("a key")["payload"]["id"]
        .as_i64()
        .expect("id");
    match &record.1 {
        None => ("tombstone".to_string(), id),
        Some(v) => (v["payload"]["op"].as_str().expect("op").to_string(), id),
    }
}

fn field_names(schema: &Json) -> Vec<&str> {
    schema["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect()
}

fn wait_for_slot_past(pg: &Postgres, slot: &str, lsn: u64, timeout: Duration) -> u64 {
    let deadline = Instant::now() + timeout;
    loop {
        let confirmed = pg.confirmed_flush_lsn(DB, slot).unwrap_or(0);
        if confirmed > lsn {
            return confirmed;
        }
        assert!(
            Instant::now() < deadline,
            "slot {slot} still at {confirmed}, not past {lsn}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn debezium_records_through_the_worker_then_resume_without_snapshot_or_loss() {
    let dir = test_dir();
    let pg = Postgres::start(DB);
    pg.psql(
        DB,
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, balance numeric(8,2), \
         joined date, seen timestamptz, meta jsonb); \
         INSERT INTO customers VALUES (1, 'Ann', 10.50, '2020-01-02', '2024-05-01 10:00:00+00', '{\"vip\": true}'), \
         (2, 'Bob', NULL, NULL, NULL, NULL);",
    );
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();
    let rest_port = free_port();
    let config = worker_config(dir.path(), &bootstrap, rest_port);
    let cdc = connector_file(
        dir.path(),
        "cdc",
        &pg,
        ("shop", "kc_slot", "public.customers"),
        "heartbeat.interval.ms=1000",
    );
    let flat = connector_file(
        dir.path(),
        "flat",
        &pg,
        ("flat", "kc_flat", "public.customers"),
        "transforms=unwrap\ntransforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n\
         transforms.unwrap.delete.tombstone.handling.mode=rewrite\ntransforms.unwrap.add.fields=op,source.table",
    );
    let mut worker = Worker::standalone(dir.path(), &config, &[&cdc, &flat], rest_port);
    worker.wait_ready();

    let topic = TopicReader::new(&bootstrap, "shop.public.customers");
    let snapshot = topic.take(2, Duration::from_secs(90));
    assert_eq!(
        snapshot.iter().map(op_and_id).collect::<Vec<_>>(),
        [("r".into(), 1), ("r".into(), 2)]
    );
    let (key, value) = (
        &snapshot[0].0.as_ref().unwrap(),
        snapshot[0].1.as_ref().unwrap(),
    );
    assert_eq!(key["schema"]["name"], "shop.public.customers.Key");
    assert_eq!(key["schema"]["optional"], false);
    assert_eq!(value["schema"]["name"], "shop.public.customers.Envelope");
    assert_eq!(
        field_names(&value["schema"]),
        [
            "before",
            "after",
            "source",
            "transaction",
            "op",
            "ts_ms",
            "ts_us",
            "ts_ns"
        ]
    );
    let after_schema = &value["schema"]["fields"][1];
    assert_eq!(after_schema["name"], "shop.public.customers.Value");
    let balance_schema = after_schema["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "balance")
        .unwrap();
    assert_eq!(
        balance_schema["name"],
        "org.apache.kafka.connect.data.Decimal"
    );
    assert_eq!(balance_schema["parameters"]["scale"], "2");
    assert_eq!(
        value["schema"]["fields"][2]["name"],
        "io.debezium.connector.postgresql.Source"
    );
    let payload = &value["payload"];
    assert_eq!(payload["after"]["name"], "Ann");
    assert_eq!(
        payload["after"]["balance"], "BBo=",
        "1050 as the JsonConverter's base64 Decimal"
    );
    assert_eq!(payload["after"]["joined"], 18263);
    // A timestamptz without a declared precision: six fraction digits, as Debezium 3.6 prints
    // (the Debezium differential test compares the whole record).
    assert_eq!(payload["after"]["seen"], "2024-05-01T10:00:00.000000Z");
    assert_eq!(payload["after"]["meta"], "{\"vip\": true}");
    assert_eq!(payload["source"]["connector"], "postgresql");
    assert_eq!(payload["source"]["name"], "shop");
    assert_eq!(payload["source"]["db"], DB);
    assert_eq!(payload["source"]["snapshot"], "first");
    assert_eq!(
        snapshot[1].1.as_ref().unwrap()["payload"]["source"]["snapshot"],
        "last"
    );

    pg.psql(
        DB,
        "INSERT INTO customers (id, name) VALUES (3, 'Cid'); UPDATE customers SET name = 'Annie' WHERE id = 1;",
    );
    pg.psql(DB, "DELETE FROM customers WHERE id = 2");
    let changes = topic.take(4, Duration::from_secs(60));
    assert_eq!(
        changes.iter().map(op_and_id).collect::<Vec<_>>(),
        [
            ("c".into(), 3),
            ("u".into(), 1),
            ("d".into(), 2),
            ("tombstone".into(), 2)
        ]
    );
    let delete = &changes[2].1.as_ref().unwrap()["payload"];
    assert_eq!(delete["before"]["id"], 2);
    assert!(delete["source"]["lsn"].as_i64().unwrap() > 0);
    let last_lsn = delete["source"]["lsn"].as_i64().unwrap() as u64;

    // The unwrapped connector: rows, deletes rewritten with __deleted.
    let rows =
        TopicReader::new(&bootstrap, "flat.public.customers").take(5, Duration::from_secs(60));
    let flat_view: Vec<(i64, String, String)> = rows
        .iter()
        .map(|(_, v)| {
            let p = &v.as_ref().expect("rewrite drops tombstones")["payload"];
            (
                p["id"].as_i64().unwrap(),
                p["__op"].as_str().unwrap().to_string(),
                p["__deleted"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        flat_view,
        [
            (1, "r".into(), "false".into()),
            (2, "r".into(), "false".into()),
            (3, "c".into(), "false".into()),
            (1, "u".into(), "false".into()),
            (2, "d".into(), "true".into()),
        ]
    );
    assert_eq!(
        rows[0].1.as_ref().unwrap()["payload"]["__source_table"],
        "customers"
    );

    // The worker stores the offsets, calls commit, and only then the slot moves past them.
    let confirmed = wait_for_slot_past(&pg, "kc_slot", last_lsn, Duration::from_secs(30));
    println!("slot confirmed at {confirmed} after the last change at {last_lsn}");
    // Heartbeats go to Debezium's heartbeat topic.
    let heartbeats =
        TopicReader::new(&bootstrap, "__debezium-heartbeat.shop").take(1, Duration::from_secs(30));
    assert_eq!(
        heartbeats[0].0.as_ref().unwrap()["payload"]["serverName"],
        "shop"
    );

    // A clean stop, changes while the worker is down, a restart: no new snapshot, nothing lost.
    worker.signal(libc::SIGTERM);
    worker.wait(Duration::from_secs(60));
    pg.psql(DB, "INSERT INTO customers (id, name) VALUES (4, 'Dee'); UPDATE customers SET name = 'Cyd' WHERE id = 3;");
    let mut worker = Worker::standalone(dir.path(), &config, &[&cdc, &flat], rest_port);
    worker.wait_ready();
    let resumed = topic.take(2, Duration::from_secs(90));
    assert_eq!(
        resumed.iter().map(op_and_id).collect::<Vec<_>>(),
        [("c".into(), 4), ("u".into(), 3)]
    );
    topic.nothing_more(Duration::from_secs(3));

    // kill -9 in the middle of a stream of transactions: every change arrives again or for the
    // first time; duplicates only after the last acknowledged position.
    for i in 0..100 {
        pg.psql(
            DB,
            &format!(
                "INSERT INTO customers (id, name) VALUES ({}, 'bulk')",
                100 + i
            ),
        );
        if i == 50 {
            worker.signal(libc::SIGKILL);
            worker.wait(Duration::from_secs(30));
        }
    }
    let mut worker = Worker::standalone(dir.path(), &config, &[&cdc, &flat], rest_port);
    worker.wait_ready();
    let mut seen = std::collections::BTreeMap::<i64, usize>::new();
    let mut order = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while seen.len() < 100 {
        assert!(
            Instant::now() < deadline,
            "only {} of 100 bulk ids after kill -9: {seen:?}",
            seen.len()
        );
        for record in topic.take(1, Duration::from_secs(90)) {
            let (op, id) = op_and_id(&record);
            assert_eq!(op, "c");
            *seen.entry(id).or_default() += 1;
            order.push(id);
        }
    }
    // What came before the kill and what came after it are each an unbroken run of ids; the
    // second starts at or before where the first ended (redelivery of unacknowledged changes)
    // and never after it (nothing skipped).
    let restart = order
        .windows(2)
        .position(|w| w[1] != w[0] + 1)
        .map(|i| i + 1);
    let contiguous = |run: &[i64]| run.windows(2).all(|w| w[1] == w[0] + 1);
    assert_eq!(order[0], 100, "nothing before the bulk was delivered again");
    match restart {
        None => assert!(contiguous(&order)),
        Some(at) => {
            assert!(
                contiguous(&order[..at]) && contiguous(&order[at..]),
                "{order:?}"
            );
            assert!(
                order[at] <= order[at - 1],
                "a gap at the restart: {order:?}"
            );
        }
    }
    println!("kill -9: {} records for 100 changes", order.len());
    assert!((100..=199).all(|id| seen.contains_key(&id)));
    drop(worker);
}

// ---------------------------------------------------------------------------------------------
// Differential: Debezium's PostgreSQL connector in Apache Kafka Connect and kconnect's, each with
// its own slot on one database, the same workload, the topics compared record by record.
// ---------------------------------------------------------------------------------------------

/// The folder holding Debezium's connector as one plugin folder, for a Java worker's
/// `plugin.path` (tests/debezium/pom.xml collects it once, cached in ~/.m2).
fn debezium_plugin_path() -> PathBuf {
    let pom = workspace_root().join("tests/debezium/pom.xml");
    let text = std::fs::read_to_string(&pom).expect("tests/debezium/pom.xml");
    let version = text
        .split("<debezium.version>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("debezium.version in the pom")
        .to_string();
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap()
        .join(format!(".cache/kconnect/debezium-{version}"));
    if !home.join(".complete").exists() {
        let run = |offline: bool| {
            let mut c = Command::new("mvn");
            c.args(["-B", "-q"]);
            if offline {
                c.arg("-o");
            }
            c.args(["-f", pom.to_str().unwrap(), "package"])
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        // Offline first: a warm ~/.m2 never touches the network.
        assert!(
            run(true) || run(false),
            "mvn could not collect Debezium {version} (tests/debezium/pom.xml)"
        );
        std::fs::write(home.join(".complete"), "").unwrap();
    }
    home
}

/// The same record with what must differ between two connectors removed: processing times
/// (the envelope's `ts_*`), the connector version, the positions and times of snapshot rows
/// (each connector snapshots on its own), and the topic prefix (each connector writes its own
/// topics) replaced by `P`. A streamed change keeps its `source` whole: both slots decode the
/// same WAL, so LSNs, transaction ids and commit times are the same.
fn comparable(record: &Option<Json>, prefix: &str) -> Option<Json> {
    let text = serde_json::to_string(record.as_ref()?).unwrap();
    let mut json: Json =
        serde_json::from_str(&text.replace(&format!("\"{prefix}."), "\"P.")).unwrap();
    if let Some(payload) = json.get_mut("payload").and_then(Json::as_object_mut) {
        for volatile in ["ts_ms", "ts_us", "ts_ns"] {
            payload.remove(volatile);
        }
        let snapshot = payload.get("op").and_then(Json::as_str) == Some("r");
        if let Some(source) = payload.get_mut("source").and_then(Json::as_object_mut) {
            source.remove("version");
            source.insert("name".into(), Json::from("P"));
            if snapshot {
                for volatile in ["ts_ms", "ts_us", "ts_ns", "lsn", "txId", "sequence"] {
                    source.remove(volatile);
                }
            }
        }
    }
    Some(json)
}
/// Every difference between two JSON values, as `path: debezium ≠ kconnect`.
fn differences(path: &str, debezium: &Json, kconnect: &Json, out: &mut Vec<String>) {
    match (debezium, kconnect) {
        (Json::Object(a), Json::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let p = format!("{path}.{key}");
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => differences(&p, x, y, out),
                    (x, y) => out.push(format!("{p}: {x:?} ≠ {y:?}")),
                }
            }
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                // Name struct fields by their "field" for readable paths.
                let label = x
                    .get("field")
                    .and_then(Json::as_str)
                    .map_or(i.to_string(), str::to_string);
                differences(&format!("{path}[{label}]"), x, y, out);
            }
        }
        (a, b) if a != b => out.push(format!("{path}: {a} ≠ {b}")),
        _ => {}
    }
}

/// `op id` of a record for the report: `t` for a truncate (no key), `tombstone id`.
fn label(record: &(Option<Json>, Option<Json>)) -> String {
    let id = record.0.as_ref().map(|k| k["payload"]["id"].to_string());
    let op = match &record.1 {
        None => "tombstone".to_string(),
        Some(v) => v["payload"]["op"].as_str().unwrap_or("?").to_string(),
    };
    format!("{op} {}", id.unwrap_or_default())
}

/// Every difference between Debezium's records and kconnect's on one table, one line each.
fn compare_topics(
    table: &str,
    debezium: &[(Option<Json>, Option<Json>)],
    kconnect: &[(Option<Json>, Option<Json>)],
    kconnect_prefix: &str,
    report: &mut Vec<String>,
) {
    for (i, ((dk, dv), (kk, kv))) in debezium.iter().zip(kconnect).enumerate() {
        let mut diffs = Vec::new();
        for (what, a, b) in [
            (
                "key",
                comparable(dk, "dbz"),
                comparable(kk, kconnect_prefix),
            ),
            (
                "value",
                comparable(dv, "dbz"),
                comparable(kv, kconnect_prefix),
            ),
        ] {
            match (a, b) {
                (Some(a), Some(b)) => differences(what, &a, &b, &mut diffs),
                (a, b) if a != b => diffs.push(format!("{what}: {a:?} ≠ {b:?}")),
                _ => {}
            }
        }
        for d in diffs {
            report.push(format!("{table} record {i} ({}): {d}", label(&debezium[i])));
        }
    }
}

/// A table of every type the issue names; row 1 sets every column, row 2 only the key.
const SETUP: &str = "CREATE TYPE mood AS ENUM ('happy', 'sad'); \
     CREATE TABLE t (id int PRIMARY KEY, i2 smallint, i8 bigint, \
     n numeric(10,3), nv numeric, txt text NOT NULL DEFAULT '', vc varchar(20) DEFAULT 'vx', \
     ok boolean DEFAULT true, raw bytea, j json, jb jsonb, u uuid, d date, tm time, tm3 time(3), \
     tmz timetz, ts timestamp, ts3 timestamp(3), tz timestamptz, tz0 timestamptz(0), \
     r real, dp double precision, cnt int DEFAULT 0, ia int[], ta text[], e mood); \
     INSERT INTO t VALUES \
     (1, -2, 9000000000, 1234.5, -0.001, 'héllo', 'v', true, '\\xdeadbeef', '{\"a\": [1, 2]}', \
      '{\"b\": null}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1999-12-31', '23:59:59.123456', \
      '01:02:03.456', '10:11:12.5+02', '2024-02-29 12:00:00.654321', '2024-02-29 12:00:00.5', \
      '2024-06-01 12:00:00.25+02', '2024-06-01 12:00:00+02', 1.5, -2.25, 7, '{1,2,NULL}', \
      '{\"a b\",c}', 'sad'), \
     (2, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL); \
     CREATE TABLE f (id int PRIMARY KEY, v text, hidden text); ALTER TABLE f REPLICA IDENTITY FULL; \
     INSERT INTO f VALUES (1, 'full', 'left out');";

/// The workload both connectors stream, and the records each statement gives on its table.
const WORKLOAD: &[(&str, &str, usize)] = &[
    (
        "t",
        "INSERT INTO t (id, txt, n, tz) VALUES (3, 'three', 3, '2000-01-01 00:00:00+00')",
        1,
    ),
    (
        "t",
        "UPDATE t SET txt = 'one', nv = 12345678901234567890.5 WHERE id = 1",
        1,
    ),
    (
        "t",
        "BEGIN; INSERT INTO t (id, txt) VALUES (4, 'four'); UPDATE t SET i2 = 7 WHERE id = 2; \
         DELETE FROM t WHERE id = 3; COMMIT",
        4,
    ),
    // A key change: delete + tombstone + create.
    ("t", "UPDATE t SET id = 5 WHERE id = 4", 3),
    ("t", "DELETE FROM t WHERE id = 2", 2),
    ("f", "UPDATE f SET v = 'fuller' WHERE id = 1", 1),
    ("f", "DELETE FROM f WHERE id = 1", 2),
    (
        "t",
        "INSERT INTO t (id, ia, ta, e) VALUES (6, '{}', '{NULL}', 'happy')",
        1,
    ),
    // A table created while both run.
    (
        "late",
        "BEGIN; CREATE TABLE late (id int PRIMARY KEY, v text); \
         INSERT INTO late VALUES (1, 'a'), (2, 'b'); COMMIT",
        2,
    ),
    ("late", "UPDATE late SET v = 'c' WHERE id = 2", 1),
    ("t", "TRUNCATE t", 1),
];

/// A connector on `pg` in Debezium's keys: every table, truncates included.
fn cdc_config(pg: &Postgres, prefix: &str) -> Vec<(String, String)> {
    let mut config: Vec<(String, String)> = [
        (
            "connector.class",
            "io.debezium.connector.postgresql.PostgresConnector",
        ),
        ("tasks.max", "1"),
        ("plugin.name", "pgoutput"),
        ("skipped.operations", "none"),
        ("column.exclude.list", "public\\.f\\.hidden"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    config.extend(pg.connector_config(DB, prefix, &format!("{prefix}_slot")));
    config
}

/// Debezium's connector in Apache Kafka Connect (distributed, group `dbz`) and kconnect's in a
/// kconnect worker, each with its own slot and publication on one database: the snapshot and a
/// workload of every operation, the topics compared record by record. Then the Java worker
/// stops, changes happen, and a kconnect worker joins group `dbz`: it runs the same connector
/// from Debezium's offsets (no snapshot, nothing lost, nothing repeated) and writes what
/// kconnect's own connector wrote for the same changes.
#[test]
fn same_records_as_debezium_then_kconnect_takes_over_debeziums_offsets() {
    let debezium = debezium_plugin_path();
    let dir = test_dir();
    let pg = Postgres::start(DB);
    pg.psql(DB, SETUP);
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();

    let java_dir = dir.path().join("java");
    std::fs::create_dir_all(&java_dir).unwrap();
    let plugin_path = format!(
        "plugin.path={},{}\n",
        kafka_home().join("plugins").display(),
        debezium.display()
    );
    let mut java = JavaConnect::distributed(&java_dir, &bootstrap, "dbz", 1, &plugin_path);
    let dbz_config: serde_json::Map<String, Json> = cdc_config(&pg, "dbz")
        .into_iter()
        .map(|(k, v)| (k, Json::from(v)))
        .collect();
    let (status, body) = rest_call(
        "PUT",
        &java.url("/connectors/dbz/config"),
        Some(Json::Object(dbz_config)),
    );
    assert!(status == 201 || status == 200, "{status} {body}");

    let rust_dir = dir.path().join("rust");
    std::fs::create_dir_all(&rust_dir).unwrap();
    let rest_port = free_port();
    let config = worker_config(&rust_dir, &bootstrap, rest_port);
    let kc_text: String = std::iter::once("name=kc\n".to_string())
        .chain(
            cdc_config(&pg, "kc")
                .into_iter()
                .map(|(k, v)| format!("{k}={v}\n")),
        )
        .collect();
    let kc_connector = write_file(&rust_dir, "kc.properties", &kc_text);
    let mut kc_worker = Worker::standalone(&rust_dir, &config, &[&kc_connector], rest_port);
    kc_worker.wait_ready();

    let readers = |prefix: &str| -> Vec<(&'static str, TopicReader)> {
        ["t", "f", "late"]
            .into_iter()
            .map(|table| {
                (
                    table,
                    TopicReader::new(&bootstrap, &format!("{prefix}.public.{table}")),
                )
            })
            .collect()
    };
    let (dbz, kc) = (readers("dbz"), readers("kc"));
    let expected = |table: &str, snapshot: usize| {
        snapshot
            + WORKLOAD
                .iter()
                .filter(|(t, _, _)| *t == table)
                .map(|(_, _, n)| n)
                .sum::<usize>()
    };
    // Both snapshots first (both slots exist then), then the workload.
    let mut dbz_records: Vec<Vec<_>> = Vec::new();
    let mut kc_records: Vec<Vec<_>> = Vec::new();
    for (i, snapshot) in [2, 1].into_iter().enumerate() {
        dbz_records.push(dbz[i].1.take(snapshot, Duration::from_secs(150)));
        kc_records.push(kc[i].1.take(snapshot, Duration::from_secs(60)));
    }
    dbz_records.push(Vec::new());
    kc_records.push(Vec::new());
    for (_, sql, _) in WORKLOAD {
        pg.psql(DB, sql);
    }
    for (i, (table, snapshot)) in [("t", 2), ("f", 1), ("late", 0)].into_iter().enumerate() {
        let more = expected(table, snapshot) - snapshot;
        dbz_records[i].extend(dbz[i].1.take(more, Duration::from_secs(60)));
        kc_records[i].extend(kc[i].1.take(more, Duration::from_secs(60)));
    }
    if let Some(folder) = kept_folder(&dir) {
        for (i, (table, _)) in dbz.iter().enumerate() {
            for (side, records) in [("dbz", &dbz_records[i]), ("kc", &kc_records[i])] {
                let lines: String = records
                    .iter()
                    .map(|r| {
                        format!(
                            "{}\n",
                            Json::from(vec![
                                r.0.clone().unwrap_or_default(),
                                r.1.clone().unwrap_or_default()
                            ])
                        )
                    })
                    .collect();
                std::fs::write(folder.join(format!("{side}.{table}.jsonl")), lines).unwrap();
            }
        }
    }
    // column.exclude.list: both leave the column out (so the comparison covers the rest).
    for records in [&dbz_records[1], &kc_records[1]] {
        let after = &records[0].1.as_ref().unwrap()["payload"]["after"];
        assert!(
            after.get("v").is_some() && after.get("hidden").is_none(),
            "{after}"
        );
    }
    let mut report = Vec::new();
    for (i, (table, _)) in dbz.iter().enumerate() {
        compare_topics(table, &dbz_records[i], &kc_records[i], "kc", &mut report);
    }
    assert!(
        report.is_empty(),
        "{} differences from Debezium:\n{}",
        report.len(),
        report.join("\n")
    );

    // The switch: Debezium stops (its offsets are flushed on the way), changes happen while no
    // connector of group dbz runs, and kconnect joins the group.
    java.stop();
    pg.psql(
        DB,
        "INSERT INTO t (id, txt) VALUES (7, 'seven'); UPDATE t SET txt = 'SEVEN' WHERE id = 7; \
         DELETE FROM late WHERE id = 1;",
    );
    let takeover_dir = dir.path().join("takeover");
    std::fs::create_dir_all(&takeover_dir).unwrap();
    let takeover_port = free_port();
    let takeover_config =
        distributed_worker_properties(&takeover_dir, &bootstrap, "dbz", takeover_port, "");
    let plugin = postgres_plugin();
    std::fs::copy(
        plugin,
        takeover_dir
            .join("plugins")
            .join(plugin.file_name().unwrap()),
    )
    .unwrap();
    let mut takeover = Worker::distributed(&takeover_dir, &takeover_config, takeover_port);
    takeover.wait_ready();
    pg.psql(DB, "INSERT INTO t (id, txt) VALUES (8, 'eight')");
    // t: c7, u7, c8; late: d1 + tombstone. The same records as kconnect's own connector.
    let mut report = Vec::new();
    for (i, count) in [(0, 3), (2, 2)] {
        let resumed = dbz[i].1.take(count, Duration::from_secs(120));
        let own = kc[i].1.take(count, Duration::from_secs(60));
        let ops: Vec<String> = resumed.iter().map(label).collect();
        let want: &[&str] = if i == 0 {
            &["c 7", "u 7", "c 8"]
        } else {
            &["d 1", "tombstone 1"]
        };
        assert_eq!(ops, want, "no snapshot, nothing lost:\n{}", takeover.logs());
        compare_topics(dbz[i].0, &resumed, &own, "kc", &mut report);
    }
    for (table, reader) in &dbz {
        reader.nothing_more(Duration::from_millis(if *table == "late" {
            2000
        } else {
            200
        }));
    }
    assert!(
        report.is_empty(),
        "after the switch:\n{}",
        report.join("\n")
    );
    drop(takeover);
    drop(kc_worker);
}

/// The folder of a test run with `KCONNECT_KEEP_TEST_DIR` set, for what a test leaves there.
fn kept_folder(dir: &tempfile::TempDir) -> Option<&Path> {
    std::env::var_os("KCONNECT_KEEP_TEST_DIR").map(|_| dir.path())
}

/// The test's folder; kept (and named on stderr) when `KCONNECT_KEEP_TEST_DIR` is set.
fn test_dir() -> tempfile::TempDir {
    let keep = std::env::var_os("KCONNECT_KEEP_TEST_DIR").is_some();
    let dir = tempfile::Builder::new()
        .prefix("postgres-cdc-")
        .disable_cleanup(keep)
        .tempdir()
        .unwrap();
    if keep {
        eprintln!("test folder: {}", dir.path().display());
    }
    dir
}
