//! The per-record cost of the pipeline benchmark's transformation chain (InsertField$Value with a
//! static field → ReplaceField$Value with a rename → RegexRouter) in isolation: datagen-shaped
//! `pageviews` records (a STRUCT value keyed by a string) go through the chain, then through the
//! String converter as a source task converts them, and are freed, batch by batch as a task polls
//! them. Printed: nanoseconds per record with and without the chain, and the chain's own share.
//! Run with `cargo run --release -p kconnect-transforms --example chain_throughput`.

use kconnect_convert::{Converter, StringConverter};
use kconnect_plugin_api::abi_stable::std_types::ROption;
use kconnect_plugin_api::{ConnectRecord, SchemaBuilder, SchemaRef, SchemaType, Struct, Value};
use kconnect_transforms::{BuiltinsOnly, TransformChain, Verdict};
use std::collections::BTreeMap;
use std::time::Instant;

const RECORDS: usize = 1_000_000;
/// Records per batch: the pipeline benchmark's `batch.size`.
const BATCH: usize = 2000;
const ROUNDS: usize = 5;

fn pageviews_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("ksql.pageviews")
        .field(
            "viewtime",
            SchemaBuilder::new(SchemaType::Int64).build_ref(),
        )
        .field("userid", SchemaBuilder::new(SchemaType::String).build_ref())
        .field("pageid", SchemaBuilder::new(SchemaType::String).build_ref())
        .build_ref()
}

/// One polled batch, allocated the way a datagen task allocates it: strings of their own per
/// record, the schemas shared, each struct's values with the room `Struct::values_for` leaves.
fn batch(schema: &SchemaRef, key_schema: &SchemaRef, first: usize) -> Vec<ConnectRecord> {
    (first..first + BATCH)
        .map(|i| {
            let page = format!("Page_{}", i % 100);
            let mut values = Struct::values_for(3);
            values.push(Value::Int64(1_500_000_000_000 + i as i64));
            values.push(Value::String(format!("User_{}", i % 10).into()));
            values.push(Value::String(page.as_str().into()));
            let value = Struct {
                schema: schema.clone(),
                values,
            };
            let mut record = ConnectRecord::new(
                "bench-datagen-chain-0",
                Some(schema.clone()),
                Value::Struct(value),
            );
            record.key_schema = ROption::RSome(key_schema.clone());
            record.key = Value::String(page.into());
            record
        })
        .collect()
}

/// Nanoseconds per record through the chain (if any), the converter and the drop; batches are
/// built outside the timing.
fn run(mut chain: Option<&mut TransformChain>, converter: &mut StringConverter) -> f64 {
    let schema = pageviews_schema();
    let key_schema = SchemaBuilder::new(SchemaType::String).build_ref();
    let mut key = Vec::with_capacity(64);
    let mut value = Vec::with_capacity(256);
    let mut bytes = 0;
    let mut elapsed = 0.0;
    for first in (0..RECORDS).step_by(BATCH) {
        let mut records = batch(&schema, &key_schema, first);
        let start = Instant::now();
        if let Some(chain) = chain.as_deref_mut() {
            for record in records.iter_mut() {
                assert_eq!(chain.apply(record).expect("chain"), Verdict::Keep);
            }
        }
        for record in &records {
            key.clear();
            value.clear();
            converter
                .from_connect_into(&record.topic, record.key_schema(), &record.key, &mut key)
                .expect("key conversion");
            converter
                .from_connect_into(
                    &record.topic,
                    record.value_schema(),
                    &record.value,
                    &mut value,
                )
                .expect("value conversion");
            bytes += key.len() + value.len() + record.topic.len();
        }
        drop(records);
        elapsed += start.elapsed().as_secs_f64();
    }
    assert!(bytes > 0);
    elapsed * 1e9 / RECORDS as f64
}

fn main() {
    let config: BTreeMap<String, String> = [
        ("transforms", "insert,rename,route"),
        (
            "transforms.insert.type",
            "org.apache.kafka.connect.transforms.InsertField$Value",
        ),
        ("transforms.insert.static.field", "origin"),
        ("transforms.insert.static.value", "bench"),
        (
            "transforms.rename.type",
            "org.apache.kafka.connect.transforms.ReplaceField$Value",
        ),
        ("transforms.rename.renames", "pageid:page"),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.regex", "bench-datagen-(.*)"),
        ("transforms.route.replacement", "bench-routed-$1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // An argument picks a subset of the aliases, e.g. `insert` or `rename,route`.
    let mut config = config;
    if let Some(aliases) = std::env::args().nth(1) {
        config.insert("transforms".into(), aliases);
    }
    let mut chain = TransformChain::from_connector_config(&config, &BuiltinsOnly).expect("chain");
    let mut converter = StringConverter;
    // Warm up, then take the best of each.
    let _ = run(Some(&mut chain), &mut converter);
    let mut without = f64::MAX;
    let mut with = f64::MAX;
    for _ in 0..ROUNDS {
        without = without.min(run(None, &mut converter));
        with = with.min(run(Some(&mut chain), &mut converter));
    }
    println!("ns per record without transforms: {without:.0}");
    println!(
        "ns per record with {}: {with:.0}",
        config["transforms"].replace(',', " → ")
    );
    println!("the chain's own cost: {:.0} ns per record", with - without);
}
