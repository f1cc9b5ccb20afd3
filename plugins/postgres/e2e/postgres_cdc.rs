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
    BUILT.get_or_init(|| {
        let mut command = Command::new(env!("CARGO"));
        // As tests/src/lib.rs does: variables cargo set for this test process would make build
        // scripts that watch them rebuild the dependency tree.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy().into_owned();
            if name.starts_with("CARGO_PKG_")
                || [
                    "CARGO_MANIFEST_DIR",
                    "CARGO_MANIFEST_PATH",
                    "CARGO_CRATE_NAME",
                    "CARGO_BIN_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                ]
                .contains(&name.as_str())
            {
                command.env_remove(&name);
            }
        }
        let status = command
            .current_dir(workspace_root())
            .args(["build", "-q", "-p", "kconnect-postgres-plugin"])
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "cargo build -p kconnect-postgres-plugin failed"
        );
        target_dir().join("debug/libkconnect_postgres_plugin.so")
    })
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
    let dir = tempfile::tempdir().unwrap();
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
    assert_eq!(payload["after"]["seen"], "2024-05-01T10:00:00Z");
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
    let restart = order.windows(2).position(|w| w[1] != w[0] + 1).map(|i| i + 1);
    let contiguous = |run: &[i64]| run.windows(2).all(|w| w[1] == w[0] + 1);
    assert_eq!(order[0], 100, "nothing before the bulk was delivered again");
    match restart {
        None => assert!(contiguous(&order)),
        Some(at) => {
            assert!(contiguous(&order[..at]) && contiguous(&order[at..]), "{order:?}");
            assert!(order[at] <= order[at - 1], "a gap at the restart: {order:?}");
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

/// Debezium's connector folder (tests/debezium/pom.xml collects it once, cached in ~/.m2).
fn debezium_plugin_folder() -> PathBuf {
    let pom = workspace_root().join("tests/debezium/pom.xml");
    let text = std::fs::read_to_string(&pom).expect("tests/debezium/pom.xml");
    let version = text
        .split("<debezium.version>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("debezium.version in the pom")
        .to_string();
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap().join(format!(".cache/kconnect/debezium-{version}"));
    let folder = home.join("debezium-connector-postgres");
    if !home.join(".complete").exists() {
        let run = |offline: bool| {
            let mut c = Command::new("mvn");
            c.args(["-B", "-q"]);
            if offline {
                c.arg("-o");
            }
            c.args(["-f", pom.to_str().unwrap(), "package"]).status().map(|s| s.success()).unwrap_or(false)
        };
        // Offline first: a warm ~/.m2 never touches the network.
        assert!(run(true) || run(false), "mvn could not collect Debezium {version} (tests/debezium/pom.xml)");
        std::fs::write(home.join(".complete"), "").unwrap();
    }
    folder
}

/// The same record with what must differ between two connectors removed: processing times,
/// the connector version, positions of snapshot rows (each connector snapshots on its own),
/// and the topic prefix (each connector writes its own topics) replaced by `P`.
fn comparable(record: &Option<Json>, prefix: &str) -> Option<Json> {
    let text = serde_json::to_string(record.as_ref()?).unwrap();
    let mut json: Json = serde_json::from_str(&text.replace(&format!("\"{prefix}."), "\"P.")).unwrap();
    if let Some(payload) = json.get_mut("payload").and_then(Json::as_object_mut) {
        for volatile in ["ts_ms", "ts_us", "ts_ns"] {
            payload.remove(volatile);
        }
        let snapshot = payload.get("op").and_then(Json::as_str) == Some("r");
        if let Some(source) = payload.get_mut("source").and_then(Json::as_object_mut) {
            for volatile in ["ts_ms", "ts_us", "ts_ns", "version", "sequence"] {
                source.remove(volatile);
            }
            source.insert("name".into(), Json::from("P"));
            if snapshot {
                source.remove("lsn");
                source.remove("txId");
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
                let label = x.get("field").and_then(Json::as_str).map_or(i.to_string(), str::to_string);
                differences(&format!("{path}[{label}]"), x, y, out);
            }
        }
        (a, b) if a != b => out.push(format!("{path}: {a} ≠ {b}")),
        _ => {}
    }
}

const TYPES_TABLE: &str = "CREATE TABLE t (id int PRIMARY KEY, i2 smallint, i8 bigint, \
     n numeric(10,3), nv numeric, txt text NOT NULL DEFAULT '', vc varchar(20), ok boolean, raw bytea, \
     j json, jb jsonb, u uuid, d date, tm time, tm3 time(3), ts timestamp, ts3 timestamp(3), \
     tz timestamptz, r real, dp double precision)";

const TYPES_ROWS: &str = "INSERT INTO t VALUES \
     (1, -2, 9000000000, 1234.5, -0.001, 'héllo', 'v', true, '\\xdeadbeef', '{\"a\": [1, 2]}', \
      '{\"b\": null}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1999-12-31', '23:59:59.123456', \
      '01:02:03.456', '2024-02-29 12:00:00.654321', '2024-02-29 12:00:00.5', \
      '2024-06-01 12:00:00.25+02', 1.5, -2.25), \
     (2, NULL, NULL, NULL, NULL, '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
      NULL, NULL, NULL, NULL)";

const WORKLOAD: &[&str] = &[
    "INSERT INTO t (id, txt, n, tz) VALUES (3, 'three', 3, '2000-01-01 00:00:00+00')",
    "UPDATE t SET txt = 'one', nv = 12345678901234567890.5 WHERE id = 1",
    "BEGIN; INSERT INTO t (id, txt) VALUES (4, 'four'); UPDATE t SET i2 = 7 WHERE id = 2; DELETE FROM t WHERE id = 3; COMMIT",
    "UPDATE t SET id = 5 WHERE id = 4",
    "DELETE FROM t WHERE id = 2",
];

#[test]
fn same_records_as_debezium_for_the_same_workload() {
    let debezium = debezium_plugin_folder();
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start(DB);
    pg.psql(DB, TYPES_TABLE);
    pg.psql(DB, TYPES_ROWS);
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();

    let java_dir = dir.path().join("java");
    std::fs::create_dir_all(&java_dir).unwrap();
    let table_keys = "table.include.list=public.t\npublication.autocreate.mode=filtered\n";
    let dbz_connector = write_file(
        &java_dir,
        "debezium.properties",
        &format!(
            "name=dbz\nconnector.class=io.debezium.connector.postgresql.PostgresConnector\ntasks.max=1\n\
             database.hostname=127.0.0.1\ndatabase.port={}\ndatabase.user={}\ndatabase.password={}\n\
             database.dbname={DB}\ntopic.prefix=dbz\nplugin.name=pgoutput\nslot.name=dbz_slot\n\
             publication.name=dbz_pub\n{table_keys}",
            pg.port,
            pg_harness::SUPERUSER,
            pg_harness::PASSWORD
        ),
    );
    let plugin_path = format!("plugin.path={},{}\n", kafka_home().join("plugins").display(), debezium.display());
    let mut java = JavaConnect::standalone(&java_dir, &bootstrap, &plugin_path, &[&dbz_connector]);

    let rust_dir = dir.path().join("rust");
    std::fs::create_dir_all(&rust_dir).unwrap();
    let rest_port = free_port();
    let config = worker_config(&rust_dir, &bootstrap, rest_port);
    let kc_connector = connector_file(&rust_dir, "kc", &pg, ("kc", "kc_slot", "public.t"), "");
    let mut worker = Worker::standalone(&rust_dir, &config, &[&kc_connector], rest_port);
    worker.wait_ready();

    let dbz_topic = TopicReader::new(&bootstrap, "dbz.public.t");
    let kc_topic = TopicReader::new(&bootstrap, "kc.public.t");
    // Both snapshots first, then the workload: both slots exist before the first change.
    let mut dbz_records = dbz_topic.take(2, Duration::from_secs(150));
    let mut kc_records = kc_topic.take(2, Duration::from_secs(60));
    for sql in WORKLOAD {
        pg.psql(DB, sql);
    }
    // c3, u1, c4, u2, d3 + tombstone, (d4 + tombstone + c5), d2 + tombstone
    let changes = 11;
    dbz_records.extend(dbz_topic.take(changes, Duration::from_secs(60)));
    kc_records.extend(kc_topic.take(changes, Duration::from_secs(60)));
    dbz_topic.nothing_more(Duration::from_secs(2));
    kc_topic.nothing_more(Duration::from_secs(1));

    let mut report = Vec::new();
    for (i, ((dk, dv), (kk, kv))) in dbz_records.iter().zip(&kc_records).enumerate() {
        let mut diffs = Vec::new();
        match (comparable(dk, "dbz"), comparable(kk, "kc")) {
            (Some(a), Some(b)) => differences("key", &a, &b, &mut diffs),
            (a, b) if a != b => diffs.push(format!("key: {a:?} ≠ {b:?}")),
            _ => {}
        }
        match (comparable(dv, "dbz"), comparable(kv, "kc")) {
            (Some(a), Some(b)) => differences("value", &a, &b, &mut diffs),
            (a, b) if a != b => diffs.push(format!("value: {a:?} ≠ {b:?}")),
            _ => {}
        }
        for d in diffs {
            report.push(format!("record {i} ({:?}): {d}", op_and_id(&dbz_records[i])));
        }
    }
    java.stop();
    drop(worker);
    assert!(report.is_empty(), "{} differences from Debezium:\n{}", report.len(), report.join("\n"));
}

/// The connector config both workers run (Debezium's keys only).
fn shared_connector_config(pg: &Postgres) -> Json {
    serde_json::json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "database.hostname": "127.0.0.1",
        "database.port": pg.port.to_string(),
        "database.user": pg_harness::SUPERUSER,
        "database.password": pg_harness::PASSWORD,
        "database.dbname": DB,
        "topic.prefix": "shop",
        "plugin.name": "pgoutput",
        "slot.name": "shared_slot",
        "publication.name": "shared_pub",
        "publication.autocreate.mode": "filtered",
        "table.include.list": "public.customers",
    })
}

#[test]
fn kconnect_takes_over_debeziums_offsets_without_a_snapshot_or_a_loss() {
    let debezium = debezium_plugin_folder();
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start(DB);
    pg.psql(
        DB,
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL); \
         INSERT INTO customers VALUES (1, 'Ann'), (2, 'Bob');",
    );
    let broker = Broker::start();
    let bootstrap = broker.bootstrap();
    let topic = TopicReader::new(&bootstrap, "shop.public.customers");

    // Debezium in an Apache Kafka Connect cluster: snapshot, a few changes, a clean stop.
    let java_dir = dir.path().join("java");
    std::fs::create_dir_all(&java_dir).unwrap();
    let plugin_path = format!(
        "plugin.path={},{}\nkey.converter.schemas.enable=true\nvalue.converter.schemas.enable=true\n",
        kafka_home().join("plugins").display(),
        debezium.display()
    );
    let mut java = JavaConnect::distributed(&java_dir, &bootstrap, "cdc", 1, &plugin_path);
    let (status, body) = rest_call(
        "PUT",
        &java.url("/connectors/inventory/config"),
        Some(shared_connector_config(&pg)),
    );
    assert!(status == 201 || status == 200, "{status} {body}");
    let snapshot = topic.take(2, Duration::from_secs(120));
    assert_eq!(snapshot.iter().map(op_and_id).collect::<Vec<_>>(), [("r".into(), 1), ("r".into(), 2)]);
    pg.psql(DB, "INSERT INTO customers VALUES (3, 'Cid'); UPDATE customers SET name = 'Annie' WHERE id = 1;");
    let streamed = topic.take(2, Duration::from_secs(60));
    assert_eq!(streamed.iter().map(op_and_id).collect::<Vec<_>>(), [("c".into(), 3), ("u".into(), 1)]);
    // Let Debezium's offsets reach the offsets topic (offset.flush.interval.ms=1000), then stop.
    std::thread::sleep(Duration::from_secs(5));
    java.stop();

    // Changes while no connector runs.
    pg.psql(DB, "INSERT INTO customers VALUES (4, 'Dee'); DELETE FROM customers WHERE id = 2;");

    // kconnect joins the same group: it reads the connector's config and Debezium's offsets.
    let rust_dir = dir.path().join("rust");
    std::fs::create_dir_all(&rust_dir).unwrap();
    let rest_port = free_port();
    let config = distributed_worker_properties(&rust_dir, &bootstrap, "cdc", rest_port, "");
    let plugin = postgres_plugin();
    std::fs::copy(plugin, rust_dir.join("plugins").join(plugin.file_name().unwrap())).unwrap();
    let mut worker = Worker::distributed(&rust_dir, &config, rest_port);
    worker.wait_ready();
    let resumed = topic.take(3, Duration::from_secs(120));
    assert_eq!(
        resumed.iter().map(op_and_id).collect::<Vec<_>>(),
        [("c".into(), 4), ("d".into(), 2), ("tombstone".into(), 2)],
        "no snapshot again, nothing Debezium delivered, nothing lost:\n{}",
        worker.logs()
    );
    topic.nothing_more(Duration::from_secs(3));
    pg.psql(DB, "UPDATE customers SET name = 'Cyd' WHERE id = 3");
    let next = topic.take(1, Duration::from_secs(60));
    assert_eq!(op_and_id(&next[0]), ("u".into(), 3));
    drop(worker);
}
