//! The connector against a real PostgreSQL (started by the test), run in-process by the
//! plugin-api test kit: snapshot, streaming of every operation, type mapping, resume after a
//! restart without loss or duplicates, and the slot confirmed only after commit.

mod pg_harness;

use kconnect_plugin_api::testkit::SourceHarness;
use kconnect_plugin_api::{Config, SourceRecord, Value};
use kconnect_postgres_plugin::PostgresConnector;
use pg_harness::Postgres;
use std::time::Duration;

const DB: &str = "shop";

fn config(pg: &Postgres, slot: &str, extra: &[(&str, &str)]) -> Config {
    let mut c: Config = pg.connector_config(DB, "shop", slot).into_iter().collect();
    for (k, v) in extra {
        c.insert(k.to_string(), v.to_string());
    }
    c
}

fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
    match v {
        Value::Struct(s) => s
            .get(name)
            .unwrap_or_else(|| panic!("no field {name} in {v}")),
        other => panic!("{other:?} is not a struct (looking for {name})"),
    }
}

fn op(r: &SourceRecord) -> String {
    match &r.record.value {
        Value::Null => "tombstone".into(),
        v => field(v, "op").as_str().unwrap().to_string(),
    }
}

fn ids(records: &[SourceRecord]) -> Vec<(String, i64)> {
    records
        .iter()
        .map(|r| (op(r), field(&r.record.key, "id").as_i64().unwrap()))
        .collect()
}

#[test]
fn snapshot_then_every_operation_with_debeziums_types() {
    let pg = Postgres::start(DB);
    pg.psql(
        DB,
        "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2) NOT NULL, \
         qty smallint, big bigint, ok boolean, data bytea, doc jsonb, tag uuid, day date, \
         at time, stamp timestamp, zoned timestamptz, ratio double precision, free numeric); \
         INSERT INTO items VALUES (1, 'pen', 1.50, 3, 9000000000, true, '\\x00ff', '{\"a\": 1}', \
         'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29', '12:34:56.789', \
         '2024-01-01 00:00:00.5', '2024-01-01 02:00:00+02', 0.25, -12.345), \
         (2, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL); \
         CREATE TABLE other (id int PRIMARY KEY); INSERT INTO other VALUES (10), (11);",
    );
    let mut source = SourceHarness::<PostgresConnector>::new(config(&pg, "s1", &[])).unwrap();
    let snapshot = source.poll_until(4, Duration::from_secs(30)).unwrap();
    assert_eq!(snapshot.len(), 4, "{snapshot:?}");
    let markers: Vec<(String, &str)> = snapshot
        .iter()
        .map(|r| {
            let source = field(&r.record.value, "source");
            (
                r.record.topic.to_string(),
                field(source, "snapshot").as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        markers,
        [
            ("shop.public.items".to_string(), "first"),
            ("shop.public.items".to_string(), "last_in_data_collection"),
            ("shop.public.other".to_string(), "first_in_data_collection"),
            ("shop.public.other".to_string(), "last"),
        ]
    );
    assert!(snapshot.iter().all(|r| op(r) == "r"));
    assert_eq!(
        snapshot[3].source_offset.get("last_snapshot_record"),
        Some(&Value::Boolean(true))
    );
    assert_eq!(
        snapshot[3].source_partition.get("server"),
        Some(&Value::from("shop"))
    );

    let after = field(&snapshot[0].record.value, "after");
    assert_eq!(field(after, "name"), &Value::from("pen"));
    assert_eq!(
        field(after, "price"),
        &Value::Bytes(vec![0x00, 0x96].into())
    ); // 150 at scale 2
    assert_eq!(field(after, "qty"), &Value::Int16(3));
    assert_eq!(field(after, "big"), &Value::Int64(9_000_000_000));
    assert_eq!(field(after, "ok"), &Value::Boolean(true));
    assert_eq!(field(after, "data"), &Value::Bytes(vec![0, 255].into()));
    assert_eq!(field(after, "doc"), &Value::from("{\"a\": 1}"));
    assert_eq!(
        field(after, "tag"),
        &Value::from("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
    );
    assert_eq!(field(after, "day"), &Value::Int32(19782));
    assert_eq!(field(after, "at"), &Value::Int64(45_296_789_000));
    assert_eq!(field(after, "stamp"), &Value::Int64(1_704_067_200_500_000));
    // timestamptz has 6 fraction digits; Debezium 3.6 prints all of them.
    assert_eq!(
        field(after, "zoned"),
        &Value::from("2024-01-01T00:00:00.000000Z")
    );
    assert_eq!(field(after, "ratio"), &Value::Float64(0.25));
    assert_eq!(field(field(after, "free"), "scale"), &Value::Int32(3));
    let nulls = field(&snapshot[1].record.value, "after");
    assert_eq!(field(nulls, "name"), &Value::Null);
    assert_eq!(field(nulls, "zoned"), &Value::Null);
    let schema = snapshot[0].record.value_schema().unwrap();
    let value_schema = &schema.field("after").unwrap().schema;
    assert_eq!(
        value_schema
            .field("price")
            .unwrap()
            .schema
            .parameter("connect.decimal.precision"),
        Some("10")
    );
    assert!(
        !value_schema.field("price").unwrap().schema.optional,
        "NOT NULL stays required"
    );
    assert_eq!(
        value_schema.field("zoned").unwrap().schema.name(),
        Some("io.debezium.time.ZonedTimestamp")
    );
    source.commit().unwrap();

    pg.psql(
        DB,
        "BEGIN; INSERT INTO items (id, name, price) VALUES (3, 'ink', 2); \
         UPDATE items SET name = 'pencil' WHERE id = 1; COMMIT; \
         DELETE FROM items WHERE id = 2; UPDATE items SET id = 4 WHERE id = 3;",
    );
    let changes = source.poll_until(8, Duration::from_secs(30)).unwrap();
    assert_eq!(
        ids(&changes),
        [
            ("c".to_string(), 3),
            ("u".to_string(), 1),
            ("d".to_string(), 2),
            ("tombstone".to_string(), 2),
            ("d".to_string(), 3),
            ("tombstone".to_string(), 3),
            ("c".to_string(), 4),
        ][..],
        "{changes:#?}"
    );
    let update = &changes[1].record.value;
    assert_eq!(
        field(field(update, "after"), "name"),
        &Value::from("pencil")
    );
    assert_eq!(
        field(update, "before"),
        &Value::Null,
        "REPLICA IDENTITY DEFAULT sends no old row"
    );
    let source_block = field(update, "source");
    assert_eq!(field(source_block, "snapshot"), &Value::from("false"));
    assert_eq!(field(source_block, "db"), &Value::from(DB));
    let tx_of = |r: &SourceRecord| field(field(&r.record.value, "source"), "txId").clone();
    assert_eq!(tx_of(&changes[0]), tx_of(&changes[1]), "one transaction");
    assert_ne!(tx_of(&changes[1]), tx_of(&changes[2]));
    let offset = &changes[0].source_offset;
    for key in ["lsn", "lsn_proc", "lsn_commit", "txId", "ts_usec"] {
        assert!(offset.get(key).is_some(), "offset has {key}: {offset:?}");
    }
    source.stop().unwrap();
}

#[test]
fn resumes_after_a_restart_without_loss_or_duplicates_and_confirms_only_acknowledged() {
    let pg = Postgres::start(DB);
    pg.psql(DB, "CREATE TABLE items (id int PRIMARY KEY, n int)");
    let mut source =
        SourceHarness::<PostgresConnector>::new(config(&pg, "s2", &[("snapshot.mode", "no_data")]))
            .unwrap();
    let created = pg.confirmed_flush_lsn(DB, "s2").expect("the slot exists");

    pg.psql(
        DB,
        "INSERT INTO items SELECT g, 0 FROM generate_series(1, 50) g",
    );
    let first = source.poll_until(50, Duration::from_secs(30)).unwrap();
    assert_eq!(first.len(), 50);
    // Polled, not acknowledged: the slot stays where it was even after status updates.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(pg.confirmed_flush_lsn(DB, "s2"), Some(created));
    source.commit().unwrap();

    // A second transaction polled but not acknowledged, then a restart (as after a crash).
    pg.psql(
        DB,
        "INSERT INTO items SELECT g, 1 FROM generate_series(51, 60) g",
    );
    let unacked = source.poll_until(10, Duration::from_secs(30)).unwrap();
    assert_eq!(unacked.len(), 10);
    source.restart().unwrap();
    pg.psql(DB, "UPDATE items SET n = 2 WHERE id = 1");
    let replay = source.poll_until(11, Duration::from_secs(30)).unwrap();
    let got: Vec<(String, i64)> = ids(&replay);
    let mut expected: Vec<(String, i64)> = (51..=60).map(|i| ("c".to_string(), i)).collect();
    expected.push(("u".to_string(), 1));
    assert_eq!(
        got, expected,
        "the unacknowledged transaction again, nothing before it"
    );
    source.commit().unwrap();
    let confirmed_at = std::time::Instant::now();
    let mut confirmed = created;
    while confirmed_at.elapsed() < Duration::from_secs(20) {
        confirmed = pg.confirmed_flush_lsn(DB, "s2").unwrap();
        if confirmed > created {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        confirmed > created,
        "the slot advanced after commit ({confirmed} > {created})"
    );
    let last_lsn = replay
        .last()
        .unwrap()
        .source_offset
        .get("lsn")
        .unwrap()
        .as_i64()
        .unwrap() as u64;
    assert!(
        confirmed > last_lsn,
        "confirmed past the last acknowledged change"
    );

    // Restart after everything was acknowledged: nothing comes twice.
    source.restart().unwrap();
    assert!(source
        .poll_until(1, Duration::from_secs(3))
        .unwrap()
        .is_empty());
    pg.psql(DB, "DELETE FROM items WHERE id = 60");
    let next = source.poll_until(2, Duration::from_secs(30)).unwrap();
    assert_eq!(
        ids(&next),
        [("d".to_string(), 60), ("tombstone".to_string(), 60)]
    );
    source.stop().unwrap();
}

#[test]
fn table_filters_publication_modes_and_bad_settings_give_clear_errors() {
    let pg = Postgres::start(DB);
    pg.psql(DB, "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY); INSERT INTO a VALUES (1); INSERT INTO b VALUES (2);");
    let mut source = SourceHarness::<PostgresConnector>::new(config(
        &pg,
        "s3",
        &[
            ("table.include.list", "public\\.b"),
            ("publication.autocreate.mode", "filtered"),
        ],
    ))
    .unwrap();
    let snapshot = source.poll_until(1, Duration::from_secs(30)).unwrap();
    assert_eq!(snapshot[0].record.topic.as_str(), "shop.public.b");
    pg.psql(DB, "INSERT INTO a VALUES (3); INSERT INTO b VALUES (4);");
    let changes = source.poll_until(1, Duration::from_secs(30)).unwrap();
    assert_eq!(ids(&changes), [("c".to_string(), 4)]);
    assert_eq!(
        pg.psql(
            DB,
            "SELECT tablename FROM pg_publication_tables WHERE pubname = 's3_publication'"
        ),
        "b"
    );
    source.stop().unwrap();

    let missing = SourceHarness::<PostgresConnector>::new(config(
        &pg,
        "s4",
        &[
            ("publication.autocreate.mode", "disabled"),
            ("publication.name", "nope"),
        ],
    ))
    .err()
    .expect("a missing publication fails the start");
    assert!(
        missing
            .to_string()
            .contains("publication nope does not exist"),
        "{missing}"
    );

    let mut wrong_password = config(&pg, "s5", &[]);
    wrong_password.insert("database.password".into(), "wrong".into());
    let err = SourceHarness::<PostgresConnector>::new(wrong_password)
        .err()
        .expect("bad password");
    assert!(
        err.to_string().contains("cannot connect to PostgreSQL"),
        "{err}"
    );

    let err = SourceHarness::<PostgresConnector>::new(config(
        &pg,
        "s6",
        &[("column.mask.with.12.chars", "public.a.x")],
    ))
    .err()
    .expect("unsupported key");
    assert!(
        err.to_string().contains("column.mask.with.12.chars"),
        "{err}"
    );
}

#[test]
fn tls_with_a_verified_server_certificate_and_scram() {
    let pg = Postgres::start(DB);
    let ca = pg.require_tls();
    pg.psql(
        DB,
        "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1);",
    );
    let ca = ca.to_str().unwrap();
    let mut source = SourceHarness::<PostgresConnector>::new(config(
        &pg,
        "tls",
        &[
            // verify-full checks the name against the certificate: by DNS name (the client
            // refuses to verify an IP address).
            ("database.hostname", "localhost"),
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", ca),
        ],
    ))
    .unwrap();
    let snapshot = source.poll_until(1, Duration::from_secs(30)).unwrap();
    assert_eq!(ids(&snapshot), [("r".to_string(), 1)]);
    pg.psql(DB, "INSERT INTO a VALUES (2)");
    let changes = source.poll_until(1, Duration::from_secs(30)).unwrap();
    assert_eq!(ids(&changes), [("c".to_string(), 2)]);
    source.stop().unwrap();

    // The server refuses logins without TLS: the error says who refused what.
    let err = SourceHarness::<PostgresConnector>::new(config(&pg, "plain", &[]))
        .err()
        .expect("a login without TLS is refused");
    let err = err.to_string();
    assert!(
        err.contains("cannot connect to PostgreSQL") && err.contains("no encryption"),
        "{err}"
    );
}
