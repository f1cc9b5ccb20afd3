//! The datagen connector run through the plugin-api test kit: what a worker would see.

use kconnect_datagen_plugin::*;
use kconnect_plugin_api::testkit::{config_from, OffsetStore, SourceHarness};
use kconnect_plugin_api::{
    Config, Connector, ErrorKind, SchemaType, SourceMap, SourceRecord, Struct, Value,
};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(10);

/// A fast config for `quickstart` with a fixed seed.
fn fast(quickstart: &str, seed: &str) -> Config {
    config_from([
        (TOPIC_CONFIG, "datagen"),
        (QUICKSTART_CONFIG, quickstart),
        (MAX_INTERVAL_CONFIG, "0"),
        (RANDOM_SEED_CONFIG, seed),
        (BATCH_SIZE_CONFIG, "100"),
    ])
}

fn with(mut config: Config, pairs: &[(&str, &str)]) -> Config {
    config.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    config
}

fn generate(config: Config, count: usize) -> Vec<SourceRecord> {
    let mut harness = SourceHarness::<DatagenConnector>::new(config).unwrap();
    let records = harness.poll_until(count, WAIT).unwrap();
    assert_eq!(records.len(), count);
    harness.stop().unwrap();
    records
}

fn value_struct(record: &SourceRecord) -> &Struct {
    match &record.record.value {
        Value::Struct(s) => s,
        other => panic!("value is not a struct: {other:?}"),
    }
}

fn iteration(record: &SourceRecord) -> i64 {
    record
        .source_offset
        .get(OFFSET_ITERATION_FIELD)
        .and_then(Value::as_i64)
        .expect("offset has an iteration")
}

#[test]
fn the_same_seed_gives_the_same_records_and_another_seed_others() {
    for quickstart in ["users", "orders", "pageviews"] {
        let first = generate(fast(quickstart, "42"), 300);
        let again = generate(fast(quickstart, "42"), 300);
        assert_eq!(first, again, "{quickstart}");
        let other = generate(fast(quickstart, "43"), 300);
        assert_ne!(first, other, "{quickstart}");
    }
}

#[test]
fn seed_and_random_seed_are_the_same_setting() {
    let config = config_from([
        (TOPIC_CONFIG, "datagen"),
        (MAX_INTERVAL_CONFIG, "0"),
        (SEED_CONFIG, "42"),
    ]);
    assert_eq!(generate(config, 50), generate(fast("users", "42"), 50));
}

#[test]
fn tasks_get_their_own_ids_and_streams() {
    let config = with(fast("orders", "9"), &[("tasks.max", "3")]);
    let mut task0 = SourceHarness::<DatagenConnector>::for_task(config.clone(), 0).unwrap();
    let mut task2 = SourceHarness::<DatagenConnector>::for_task(config, 2).unwrap();
    let ids: Vec<&str> = task0
        .task_configs()
        .iter()
        .map(|c| c[TASK_ID_CONFIG].as_str())
        .collect();
    assert_eq!(ids, ["0", "1", "2"]);
    let seeds: Vec<&str> = task0
        .task_configs()
        .iter()
        .map(|c| c[RANDOM_SEED_CONFIG].as_str())
        .collect();
    assert_eq!(seeds, ["9", "9", "9"]);

    let a = task0.poll_until(20, WAIT).unwrap();
    let b = task2.poll_until(20, WAIT).unwrap();
    assert_eq!(a[0].source_partition, SourceMap::new().with("task", 0));
    assert_eq!(b[0].source_partition, SourceMap::new().with("task", 2));
    let order_ids = |records: &[SourceRecord]| -> Vec<i32> {
        records
            .iter()
            .map(|r| match value_struct(r).get("orderid") {
                Some(Value::Int32(id)) => *id,
                other => panic!("orderid {other:?}"),
            })
            .collect()
    };
    // Interleaved: task t of 3 numbers its orders t, t + 3, t + 6…
    assert_eq!(order_ids(&a)[..4], [0, 3, 6, 9]);
    assert_eq!(order_ids(&b)[..4], [2, 5, 8, 11]);
    let items = |records: &[SourceRecord]| -> Vec<Value> {
        records
            .iter()
            .map(|r| value_struct(r).get("itemid").cloned().unwrap())
            .collect()
    };
    assert_ne!(items(&a), items(&b), "tasks draw from different seeds");
}

#[test]
fn an_unset_seed_is_fixed_by_the_connector_for_all_tasks() {
    let config = config_from([(TOPIC_CONFIG, "t"), ("tasks.max", "2")]);
    let harness = SourceHarness::<DatagenConnector>::new(config).unwrap();
    let seeds: Vec<&String> = harness
        .task_configs()
        .iter()
        .map(|c| &c[RANDOM_SEED_CONFIG])
        .collect();
    assert!(seeds[0].parse::<i64>().is_ok(), "{seeds:?}");
    assert_eq!(seeds[0], seeds[1]);
}

#[test]
fn every_shape_validates_against_its_shared_schema_and_is_keyed_by_its_id() {
    for quickstart in Quickstart::ALL {
        let records = generate(fast(quickstart.name(), "1"), 500);
        let schema = records[0].record.value_schema().unwrap().clone();
        assert_eq!(schema.schema_type, SchemaType::Struct);
        assert_eq!(
            schema.name(),
            Some(format!("ksql.{}", quickstart.name()).as_str())
        );
        for record in &records {
            assert_eq!(record.record.topic.as_str(), "datagen");
            let value = value_struct(record);
            value
                .validate()
                .unwrap_or_else(|e| panic!("{quickstart:?}: {e}"));
            schema.validate_value(&record.record.value).unwrap();
            assert!(value.values.iter().all(|v| !v.is_null()), "{value:?}");
            // One schema per task, shared by every record.
            assert!(std::ptr::eq(&*value.schema, &*schema));
            let key_schema = record.record.key_schema().unwrap();
            assert_eq!(key_schema.schema_type, SchemaType::String);
            let id = value.get(quickstart.key_field()).unwrap().to_string();
            assert_eq!(record.record.key.as_str(), Some(id.as_str()));
        }
    }
}

#[test]
fn field_values_stay_in_their_documented_ranges() {
    let records = generate(fast("orders", "3"), 1000);
    for record in &records {
        let order = value_struct(record);
        match order.get("orderunits") {
            Some(Value::Float64(units)) => assert!((0.1..10.0).contains(units), "{units}"),
            other => panic!("orderunits {other:?}"),
        }
        let item = order.get("itemid").and_then(Value::as_str).unwrap();
        let n: u32 = item.strip_prefix("Item_").unwrap().parse().unwrap();
        assert!((1..=999).contains(&n), "{item}");
        let Some(Value::Struct(address)) = order.get("address") else {
            panic!("address {order:?}");
        };
        address.validate().unwrap();
        let zip = address.get("zipcode").and_then(Value::as_i64).unwrap();
        assert!((10_000..=99_999).contains(&zip), "{zip}");
    }
    let users = generate(fast("users", "3"), 1000);
    let genders: std::collections::BTreeSet<String> = users
        .iter()
        .map(|r| value_struct(r).get("gender").unwrap().to_string())
        .collect();
    assert_eq!(
        genders.into_iter().collect::<Vec<_>>(),
        ["FEMALE", "MALE", "OTHER"]
    );
    let views = generate(fast("pageviews", "3"), 3);
    let times: Vec<i64> = views
        .iter()
        .map(|r| {
            value_struct(r)
                .get("viewtime")
                .and_then(Value::as_i64)
                .unwrap()
        })
        .collect();
    assert_eq!(times, [1, 11, 21]);
}

#[test]
fn fast_mode_fills_whole_batches_and_offsets_count_records() {
    let mut harness = SourceHarness::<DatagenConnector>::new(fast("users", "5")).unwrap();
    let batch = harness.poll(Duration::from_millis(100)).unwrap();
    assert_eq!(batch.len(), 100, "batch.size");
    let iterations: Vec<i64> = batch.iter().map(iteration).collect();
    assert_eq!(iterations, (1..=100).collect::<Vec<i64>>());
    assert_eq!(harness.task().generated(), 100);
}

#[test]
fn iterations_cap_the_records_of_a_task() {
    let config = with(fast("users", "5"), &[(ITERATIONS_CONFIG, "250")]);
    let mut harness = SourceHarness::<DatagenConnector>::new(config).unwrap();
    let records = harness
        .poll_until(1000, Duration::from_millis(500))
        .unwrap();
    assert_eq!(records.len(), 250);
    assert_eq!(iteration(records.last().unwrap()), 250);
    assert!(harness.poll(Duration::from_millis(10)).unwrap().is_empty());
}

#[test]
fn a_restarted_task_resumes_the_same_sequence_and_iterations_stay_a_total() {
    let config = with(fast("pageviews", "11"), &[(ITERATIONS_CONFIG, "10")]);
    let uninterrupted = generate(config.clone(), 10);

    let mut harness = SourceHarness::<DatagenConnector>::new(config).unwrap();
    let before = harness.poll_until(4, WAIT).unwrap();
    harness.commit().unwrap();
    harness.restart().unwrap();
    let after = harness.poll_until(100, Duration::from_millis(500)).unwrap();
    assert_eq!(after.len(), 6, "10 in total, 4 of them before the restart");
    let resumed: Vec<SourceRecord> = before.into_iter().chain(after).collect();
    assert_eq!(resumed, uninterrupted);
}

#[test]
fn a_stored_offset_is_where_the_task_starts() {
    let offsets = OffsetStore::new();
    offsets.insert(
        SourceMap::new().with("task", 0),
        // Offsets come back from the worker's JSON store as whatever integer type it parsed.
        SourceMap::new().with("iteration", Value::Int32(7)),
    );
    let config = with(fast("users", "5"), &[(ITERATIONS_CONFIG, "10")]);
    let mut harness =
        SourceHarness::<DatagenConnector>::with_offsets(config.clone(), 0, offsets).unwrap();
    assert_eq!(harness.task().generated(), 7);
    let records = harness.poll_until(100, Duration::from_millis(300)).unwrap();
    assert_eq!(
        records.iter().map(iteration).collect::<Vec<_>>(),
        [8, 9, 10]
    );
    assert_eq!(records, generate(config, 10)[7..]);
}

#[test]
fn an_unusable_stored_offset_fails_the_start_naming_it() {
    for stored in [Value::Int64(-1), Value::from("seven")] {
        let offsets = OffsetStore::new();
        offsets.insert(
            SourceMap::new().with("task", 0),
            SourceMap::new().with("iteration", stored.clone()),
        );
        let error = SourceHarness::<DatagenConnector>::with_offsets(fast("users", "1"), 0, offsets)
            .err()
            .unwrap();
        assert_eq!(error.kind, ErrorKind::Failed);
        assert!(error.message.contains("task 0"), "{}", error.message);
        assert!(
            error.message.contains(&format!("iteration={stored}")),
            "{}",
            error.message
        );
    }
}

#[test]
fn max_interval_spaces_records_out() {
    let config = config_from([
        (TOPIC_CONFIG, "t"),
        (MAX_INTERVAL_CONFIG, "10"),
        (RANDOM_SEED_CONFIG, "1"),
    ]);
    let mut harness = SourceHarness::<DatagenConnector>::new(config).unwrap();
    let started = Instant::now();
    let records = harness.poll_until(10, WAIT).unwrap();
    let took = started.elapsed();
    assert_eq!(records.len(), 10);
    // Records are due 10 ms apart from the start: the 10th no earlier than 90 ms in.
    assert!(took >= Duration::from_millis(50), "{took:?}");
}

#[test]
fn throughput_overrides_max_interval() {
    let config = config_from([
        (TOPIC_CONFIG, "t"),
        (MAX_INTERVAL_CONFIG, "0"),
        (THROUGHPUT_CONFIG, "200"),
        (RANDOM_SEED_CONFIG, "1"),
    ]);
    let mut harness = SourceHarness::<DatagenConnector>::new(config).unwrap();
    let started = Instant::now();
    let records = harness.poll_until(21, WAIT).unwrap();
    let took = started.elapsed();
    assert_eq!(records.len(), 21);
    // 200 per second: the 21st is due 100 ms after the first.
    assert!(took >= Duration::from_millis(50), "{took:?}");
}

#[test]
fn a_record_not_due_within_the_timeout_makes_an_empty_poll() {
    let config = config_from([
        (TOPIC_CONFIG, "t"),
        (MAX_INTERVAL_CONFIG, "86400000"),
        (RANDOM_SEED_CONFIG, "1"),
    ]);
    let mut harness = SourceHarness::<DatagenConnector>::new(config).unwrap();
    assert_eq!(
        harness.poll(Duration::from_millis(10)).unwrap().len(),
        1,
        "the first is due at once"
    );
    assert!(harness.poll(Duration::from_millis(10)).unwrap().is_empty());
}

/// The problems `validate` reports for one key.
fn problems(config: &Config, key: &str) -> Vec<String> {
    DatagenConnector::default()
        .validate(config)
        .into_iter()
        .find(|v| v.name == key)
        .unwrap_or_else(|| panic!("{key} is not defined"))
        .errors
}

#[test]
fn invalid_configs_are_reported_per_key_and_refused_at_start() {
    let cases: [(Config, &str, &str); 7] = [
        (
            config_from([]),
            TOPIC_CONFIG,
            "Missing required configuration \"kafka.topic\"",
        ),
        (
            config_from([(TOPIC_CONFIG, " ")]),
            TOPIC_CONFIG,
            "String may not be empty",
        ),
        (with(fast("clicks", "1"), &[]), QUICKSTART_CONFIG, "clicks"),
        (
            with(fast("users", "1"), &[(THROUGHPUT_CONFIG, "fast")]),
            THROUGHPUT_CONFIG,
            "Invalid value fast for configuration throughput: Not a number of type DOUBLE",
        ),
        (
            with(fast("users", "x1"), &[]),
            RANDOM_SEED_CONFIG,
            "Invalid value x1 for configuration random.seed: Not a number of type LONG",
        ),
        (
            with(fast("users", "1"), &[(SEED_CONFIG, "2")]),
            RANDOM_SEED_CONFIG,
            "random.seed (1) and seed (2) are both set and differ",
        ),
        (
            with(fast("users", "1"), &[(BATCH_SIZE_CONFIG, "0")]),
            BATCH_SIZE_CONFIG,
            "Value must be at least 1",
        ),
    ];
    for (config, key, expected) in cases {
        let reported = problems(&config, key);
        assert!(
            reported.iter().any(|p| p.contains(expected)),
            "{key}: {reported:?} lacks {expected:?}"
        );
        let error = SourceHarness::<DatagenConnector>::new(config)
            .err()
            .unwrap();
        assert_eq!(error.kind, ErrorKind::Config);
        assert!(error.message.contains(expected), "{}", error.message);
    }
    assert!(problems(&fast("users", "1"), THROUGHPUT_CONFIG).is_empty());
}

#[test]
fn quickstart_ignores_case() {
    let records = generate(fast("OrDeRs", "1"), 1);
    assert_eq!(
        records[0].record.value_schema().unwrap().name(),
        Some("ksql.orders")
    );
}
