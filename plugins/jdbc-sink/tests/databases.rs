//! The sink task against real PostgreSQL and MariaDB servers (see `servers`), through the
//! plugin API's test kit: every statement shape, type mapping, schema evolution, idempotent
//! replays and a database crash in the middle of a batch.

mod servers;

use kconnect_jdbc_sink_plugin::JdbcSinkConnector;
use kconnect_plugin_api::testkit::{config_from, SinkHarness};
use kconnect_plugin_api::{
    Config, SchemaBuilder, SchemaRef, SchemaType, SinkRecord, Struct, Value,
};
use servers::{MariaDb, Postgres};
use std::collections::BTreeMap;

/// What a test needs of a server.
trait Database {
    fn url(&self) -> String;
    fn credentials(&self) -> [(&'static str, &'static str); 2];
    fn rows(&self, sql: &str) -> Vec<String>;
    /// `|`-separated text of a boolean as the client prints it.
    fn true_text(&self) -> &'static str;
}

impl Database for Postgres {
    fn url(&self) -> String {
        Postgres::url(self)
    }
    fn credentials(&self) -> [(&'static str, &'static str); 2] {
        [
            ("connection.username", "postgres"),
            ("connection.password", "unused"),
        ]
    }
    fn rows(&self, sql: &str) -> Vec<String> {
        self.query(sql)
    }
    fn true_text(&self) -> &'static str {
        "t"
    }
}

impl Database for MariaDb {
    fn url(&self) -> String {
        MariaDb::url(self)
    }
    // Confluent's spelling of the user key, to cover both.
    fn credentials(&self) -> [(&'static str, &'static str); 2] {
        [
            ("connection.user", "sink"),
            ("connection.password", "sinkpw"),
        ]
    }
    fn rows(&self, sql: &str) -> Vec<String> {
        self.query(sql)
    }
    fn true_text(&self) -> &'static str {
        "1"
    }
}

fn config(db: &dyn Database, extra: &[(&str, &str)]) -> Config {
    let url = db.url();
    let mut c = config_from([
        ("connection.url", url.as_str()),
        ("topics", "items"),
        ("retry.backoff.ms", "200"),
    ]);
    c.extend(
        db.credentials()
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    c
}

fn key_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .field("id", SchemaBuilder::new(SchemaType::Int64).build_ref())
        .build_ref()
}

fn value_schema(with_email: bool) -> SchemaRef {
    let mut b = SchemaBuilder::struct_()
        .field("id", SchemaBuilder::new(SchemaType::Int64).build_ref())
        .field("name", SchemaBuilder::new(SchemaType::String).build_ref())
        .field("amount", SchemaBuilder::decimal(2).optional().build_ref())
        .field("day", SchemaBuilder::date().optional().build_ref())
        .field("at", SchemaBuilder::timestamp().optional().build_ref())
        .field(
            "ok",
            SchemaBuilder::new(SchemaType::Boolean)
                .optional()
                .build_ref(),
        );
    if with_email {
        b = b.field(
            "email",
            SchemaBuilder::new(SchemaType::String)
                .optional()
                .build_ref(),
        );
    }
    b.build_ref()
}

/// A change: `Some((name, cents))` writes row `id`, `None` deletes it.
type Change = (i64, Option<(String, i64)>);

fn record(offset: i64, (id, row): &Change, with_email: bool) -> SinkRecord {
    let mut r = SinkRecord {
        kafka_offset: offset,
        ..SinkRecord::default()
    };
    r.record.topic = "items".into();
    r.record.kafka_partition = Some(0).into();
    r.record.key_schema = Some(key_schema()).into();
    r.record.key = Value::Struct(Struct::new(key_schema()).with("id", Value::Int64(*id)));
    if let Some((name, cents)) = row {
        let schema = value_schema(with_email);
        let mut value = Struct::new(schema.clone())
            .with("id", Value::Int64(*id))
            .with("name", Value::from(name.as_str()))
            .with("amount", Value::Bytes(cents.to_be_bytes().to_vec().into()))
            .with("day", Value::Int32(19_782))
            .with("at", Value::Int64(1_709_210_096_500))
            .with("ok", Value::Boolean(id % 2 == 0));
        if with_email {
            value = value.with("email", Value::from(format!("{name}@example.com")));
        }
        r.record.value_schema = Some(schema).into();
        r.record.value = Value::Struct(value);
    }
    r
}

/// Deterministic changes over `keys` ids: mostly writes, one in five a delete.
fn changes(count: usize, keys: i64, seed: u64) -> Vec<Change> {
    let mut state = seed;
    (0..count)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let id = ((state >> 33) % keys as u64) as i64;
            let row = (!(state >> 20).is_multiple_of(5))
                .then(|| (format!("n{i}"), (state >> 40) as i64 % 100_000 - 50_000));
            (id, row)
        })
        .collect()
}

/// The table after applying `changes` in order: `id|name|amount`.
fn expected(changes: &[Change]) -> Vec<String> {
    let mut table = BTreeMap::new();
    for (id, row) in changes {
        match row {
            Some((name, cents)) => table.insert(*id, (name.clone(), *cents)),
            None => table.remove(id),
        };
    }
    table
        .iter()
        .map(|(id, (name, cents))| {
            let sign = if *cents < 0 { "-" } else { "" };
            format!(
                "{id}|{name}|{sign}{}.{:02}",
                cents.abs() / 100,
                cents.abs() % 100
            )
        })
        .collect()
}

const UPSERT: [(&str, &str); 4] = [
    ("insert.mode", "upsert"),
    ("primary.key.mode", "record_key"),
    ("delete.enabled", "true"),
    ("schema.evolution", "basic"),
];

fn upserts_deletes_and_replays_end_in_the_expected_state(db: &dyn Database) {
    let mut sink = SinkHarness::<JdbcSinkConnector>::new(config(
        db,
        &[&UPSERT[..], &[("batch.size", "100")]].concat(),
    ))
    .unwrap();
    let all = changes(3000, 400, 7);
    let records: Vec<SinkRecord> = all
        .iter()
        .enumerate()
        .map(|(i, c)| record(i as i64, c, false))
        .collect();
    for batch in records.chunks(250) {
        sink.put(batch).unwrap();
    }
    sink.flush().unwrap();
    let query = "SELECT id, name, amount FROM items ORDER BY id";
    let want = expected(&all);
    assert!(want.len() > 100, "the changes leave a sizeable table");
    assert_eq!(db.rows(query), want);
    // A replay from an older offset (as after a crash) leaves the table as it is.
    for batch in records[1000..].chunks(333) {
        sink.put(batch).unwrap();
    }
    assert_eq!(db.rows(query), want);
    sink.stop().unwrap();
}

fn types_are_mapped(db: &dyn Database, expected_row: &str) {
    let mut sink = SinkHarness::<JdbcSinkConnector>::new(config(db, &UPSERT)).unwrap();
    sink.put(&[record(0, &(2, Some(("two".into(), -1234))), false)])
        .unwrap();
    let rows = db.rows("SELECT id, name, amount, day, at, ok FROM items");
    assert_eq!(rows, [expected_row.replace("TRUE", db.true_text())]);
    sink.stop().unwrap();
}

fn a_new_optional_field_adds_a_column(db: &dyn Database) {
    let mut sink = SinkHarness::<JdbcSinkConnector>::new(config(db, &UPSERT)).unwrap();
    let before: Vec<SinkRecord> = (0..5)
        .map(|i| record(i, &(i, Some((format!("a{i}"), i))), false))
        .collect();
    let after: Vec<SinkRecord> = (5..10)
        .map(|i| record(i, &(i - 3, Some((format!("b{i}"), i))), true))
        .collect();
    // One batch with both schemas: the column is added in the middle of it.
    sink.put(&[before, after].concat()).unwrap();
    let rows = db.rows("SELECT id, name, COALESCE(email, '-') FROM items ORDER BY id");
    assert_eq!(
        rows,
        [
            "0|a0|-",
            "1|a1|-",
            "2|b5|b5@example.com",
            "3|b6|b6@example.com",
            "4|b7|b7@example.com",
            "5|b8|b8@example.com",
            "6|b9|b9@example.com"
        ]
    );
    sink.stop().unwrap();
}

fn without_evolution_a_missing_table_is_an_error_naming_it(db: &dyn Database) {
    let mut sink = SinkHarness::<JdbcSinkConnector>::new(config(
        db,
        &[("table.name.format", "absent_${topic}")],
    ))
    .unwrap();
    let error = sink
        .put(&[record(0, &(1, Some(("x".into(), 1))), false)])
        .unwrap_err();
    assert!(
        error.message.contains("table absent_items does not exist"),
        "{}",
        error.message
    );
}

fn update_mode_changes_existing_rows_only(db: &dyn Database) {
    let mut sink = SinkHarness::<JdbcSinkConnector>::new(config(db, &UPSERT)).unwrap();
    sink.put(&[record(0, &(1, Some(("one".into(), 100))), false)])
        .unwrap();
    sink.stop().unwrap();
    let mut sink = SinkHarness::<JdbcSinkConnector>::new(config(
        db,
        &[("insert.mode", "update"), ("pk.mode", "record_key")],
    ))
    .unwrap();
    sink.put(&[
        record(1, &(1, Some(("uno".into(), 200))), false),
        record(2, &(9, Some(("nine".into(), 900))), false),
    ])
    .unwrap();
    assert_eq!(
        db.rows("SELECT id, name, amount FROM items ORDER BY id"),
        ["1|uno|2.00"]
    );
    sink.stop().unwrap();
}

fn kafka_mode_keeps_every_record(db: &dyn Database) {
    let mut sink = SinkHarness::<JdbcSinkConnector>::new(config(
        db,
        &[
            ("pk.mode", "kafka"),
            ("auto.create", "true"),
            ("table.name.format", "log_${topic}"),
        ],
    ))
    .unwrap();
    let batch: Vec<SinkRecord> = (0..3)
        .map(|i| record(i, &(1, Some((format!("v{i}"), i))), false))
        .collect();
    sink.put(&batch).unwrap();
    assert_eq!(
        db.rows("SELECT __connect_topic, __connect_partition, __connect_offset, name FROM log_items ORDER BY __connect_offset"),
        ["items|0|0|v0", "items|0|1|v1", "items|0|2|v2"]
    );
    sink.stop().unwrap();
}

#[test]
fn postgres() {
    let mut db = Postgres::start();
    upserts_deletes_and_replays_end_in_the_expected_state(&db);
    db.query("DROP TABLE items");
    types_are_mapped(&db, "2|two|-12.34|2024-02-29|2024-02-29 12:34:56.5|TRUE");
    db.query("DROP TABLE items");
    a_new_optional_field_adds_a_column(&db);
    db.query("DROP TABLE items");
    without_evolution_a_missing_table_is_an_error_naming_it(&db);
    update_mode_changes_existing_rows_only(&db);
    kafka_mode_keeps_every_record(&db);
    survives_a_database_crash(&mut db, |db| db.crash_and_restart());
}

#[test]
fn mariadb() {
    let mut db = MariaDb::start();
    upserts_deletes_and_replays_end_in_the_expected_state(&db);
    db.query("DROP TABLE items");
    types_are_mapped(
        &db,
        "2|two|-12.34|2024-02-29|2024-02-29 12:34:56.500000|TRUE",
    );
    db.query("DROP TABLE items");
    a_new_optional_field_adds_a_column(&db);
    db.query("DROP TABLE items");
    without_evolution_a_missing_table_is_an_error_naming_it(&db);
    update_mode_changes_existing_rows_only(&db);
    kafka_mode_keeps_every_record(&db);
    survives_a_database_crash(&mut db, |db| db.crash_and_restart());
}

/// The server is killed between two batches; the next put reconnects (after retries) and the
/// table ends complete.
fn survives_a_database_crash<D: Database>(db: &mut D, crash: impl FnOnce(&mut D)) {
    let table_config = [
        &UPSERT[..],
        &[
            ("table.name.format", "crash_${topic}"),
            ("max.retries", "30"),
        ],
    ]
    .concat();
    let mut sink = SinkHarness::<JdbcSinkConnector>::new(config(db, &table_config)).unwrap();
    let all = changes(600, 100, 11);
    let records: Vec<SinkRecord> = all
        .iter()
        .enumerate()
        .map(|(i, c)| record(i as i64, c, false))
        .collect();
    sink.put(&records[..300]).unwrap();
    crash(db);
    sink.put(&records[300..]).unwrap();
    assert_eq!(
        db.rows("SELECT id, name, amount FROM crash_items ORDER BY id"),
        expected(&all)
    );
    sink.stop().unwrap();
}
