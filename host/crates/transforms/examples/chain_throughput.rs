//! Throughput of a worker's per-record path with and without the chain InsertField → ReplaceField
//! → RegexRouter on schema'd records that share one schema. The per-record path without
//! transforms is what the worker does anyway: convert the value with the worker's JsonConverter
//! (Kafka's default, `schemas.enable=true`; `SCHEMAS_ENABLE=false` in the environment for the
//! cheaper schemaless output). Run with
//! `cargo run --release -p kconnect-transforms --example chain_throughput [aliases]`.

use kconnect_convert::{Converter, JsonConverter};
use kconnect_plugin_api::abi_stable::std_types::ROption;
use kconnect_plugin_api::{ConnectRecord, SchemaBuilder, SchemaType, Struct, Value};
use kconnect_transforms::{BuiltinsOnly, TransformChain};
use std::collections::BTreeMap;
use std::time::Instant;

const RECORDS: usize = 200_000;
/// Records per batch, about what a source task's poll returns.
const BATCH: usize = 500;

fn records(batch: usize) -> Vec<ConnectRecord> {
    let schema = SchemaBuilder::struct_()
        .name("com.example.Order")
        .field("id", SchemaBuilder::new(SchemaType::Int64).build_ref())
        .field(
            "customer",
            SchemaBuilder::new(SchemaType::String).build_ref(),
        )
        .field(
            "amount",
            SchemaBuilder::new(SchemaType::Float64).build_ref(),
        )
        .field(
            "currency",
            SchemaBuilder::new(SchemaType::String).build_ref(),
        )
        .field("status", SchemaBuilder::new(SchemaType::String).build_ref())
        .field(
            "internal_note",
            SchemaBuilder::new(SchemaType::String)
                .optional()
                .build_ref(),
        )
        .field("created", SchemaBuilder::timestamp().build_ref())
        .field(
            "quantity",
            SchemaBuilder::new(SchemaType::Int32).build_ref(),
        )
        .build_ref();
    (batch * BATCH..(batch + 1) * BATCH)
        .map(|i| {
            let value = Struct {
                schema: schema.clone(),
                values: vec![
                    Value::Int64(i as i64),
                    Value::String(format!("customer-{}", i % 1000).into()),
                    Value::Float64(i as f64 * 1.25),
                    Value::String("EUR".into()),
                    Value::String("SHIPPED".into()),
                    Value::String("do not export".into()),
                    Value::Int64(1_500_000_000_000 + i as i64),
                    Value::Int32((i % 17) as i32),
                ]
                .into(),
            };
            let mut record =
                ConnectRecord::new("orders", Some(schema.clone()), Value::Struct(value));
            record.kafka_partition = ROption::RSome((i % 6) as i32);
            record.timestamp = ROption::RSome(1_500_000_000_000 + i as i64);
            record
        })
        .collect()
}

/// Records per second through the per-record path; batches are built outside the timing.
fn run(mut chain: Option<&mut TransformChain>, converter: &mut JsonConverter) -> f64 {
    let mut out = Vec::with_capacity(1024);
    let mut bytes = 0;
    let mut elapsed = 0.0;
    for batch in 0..RECORDS / BATCH {
        let input = records(batch);
        let start = Instant::now();
        for record in input {
            let record = match chain.as_deref_mut() {
                None => record,
                Some(chain) => match chain.apply(record) {
                    Ok(Some(record)) => record,
                    _ => panic!("the chain failed"),
                },
            };
            out.clear();
            converter
                .from_connect_into(
                    &record.topic,
                    record.value_schema(),
                    &record.value,
                    &mut out,
                )
                .expect("conversion");
            bytes += out.len() + record.topic.len();
        }
        elapsed += start.elapsed().as_secs_f64();
    }
    assert!(bytes > 0);
    RECORDS as f64 / elapsed
}

fn main() {
    let config: BTreeMap<String, String> = [
        ("transforms", "insert,replace,route"),
        (
            "transforms.insert.type",
            "org.apache.kafka.connect.transforms.InsertField$Value",
        ),
        ("transforms.insert.topic.field", "source_topic"),
        ("transforms.insert.partition.field", "source_partition"),
        (
            "transforms.replace.type",
            "org.apache.kafka.connect.transforms.ReplaceField$Value",
        ),
        ("transforms.replace.exclude", "internal_note"),
        (
            "transforms.replace.renames",
            "customer:customer_id,amount:total",
        ),
        (
            "transforms.route.type",
            "org.apache.kafka.connect.transforms.RegexRouter",
        ),
        ("transforms.route.regex", "(.*)"),
        ("transforms.route.replacement", "warehouse.$1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // An argument picks a subset of the aliases, e.g. `insert` or `replace,route`.
    let mut config = config;
    if let Some(aliases) = std::env::args().nth(1) {
        config.insert("transforms".into(), aliases);
    }
    let mut chain = TransformChain::from_connector_config(&config, &BuiltinsOnly).expect("chain");
    // Warm up, then take the best of three rounds of each.
    let schemas_enable = std::env::var("SCHEMAS_ENABLE").unwrap_or_else(|_| "true".into());
    let mut converter = JsonConverter::default();
    converter
        .configure(
            &[("schemas.enable".to_string(), schemas_enable.clone())].into(),
            false,
        )
        .expect("converter config");
    println!("JsonConverter schemas.enable={schemas_enable}");
    let _ = run(Some(&mut chain), &mut converter);
    let mut without: f64 = 0.0;
    let mut with: f64 = 0.0;
    for _ in 0..3 {
        without = without.max(run(None, &mut converter));
        with = with.max(run(Some(&mut chain), &mut converter));
    }
    println!("records/s without transforms: {without:.0}");
    println!("records/s with InsertField, ReplaceField, RegexRouter: {with:.0}");
    println!("ratio: {:.2}", with / without);
}
