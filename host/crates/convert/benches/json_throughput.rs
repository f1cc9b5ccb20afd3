//! Rough throughput of the JsonConverter hot paths on a typical 10-field record.
//! Run with `cargo bench -p kconnect-convert --bench json_throughput`.

use kconnect_convert::{Converter, JsonConverter};
use kconnect_plugin_api::abi_stable::std_types::RArc;
use kconnect_plugin_api::{Schema, SchemaBuilder, SchemaType, Struct, Value};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let field = |t| RArc::new(Schema::primitive(t));
    let schema = SchemaBuilder::struct_()
        .name("bench.Order")
        .field("id", field(SchemaType::Int64))
        .field("customer", field(SchemaType::String))
        .field("amount", field(SchemaType::Float64))
        .field("quantity", field(SchemaType::Int32))
        .field("paid", field(SchemaType::Boolean))
        .field(
            "note",
            RArc::new(Schema::optional_primitive(SchemaType::String)),
        )
        .field("created", SchemaBuilder::timestamp().build_ref())
        .field("sku", field(SchemaType::String))
        .field("warehouse", field(SchemaType::Int16))
        .field(
            "tags",
            SchemaBuilder::array(field(SchemaType::String)).build_ref(),
        )
        .build_ref();
    let value = Value::Struct(
        Struct::new(schema.clone())
            .with("id", Value::Int64(1_234_567_890))
            .with("customer", Value::from("Ada Lovelace <ada@example.com>"))
            .with("amount", Value::Float64(1234.56))
            .with("quantity", Value::Int32(3))
            .with("paid", Value::Boolean(true))
            .with("note", Value::Null)
            .with("created", Value::Int64(1_704_164_645_123))
            .with("sku", Value::from("SKU-0001-XL"))
            .with("warehouse", Value::Int16(12))
            .with(
                "tags",
                Value::Array(vec![Value::from("new"), Value::from("gift")].into()),
            ),
    );
    for schemas_enable in ["true", "false"] {
        let mut converter = JsonConverter::default();
        let config = BTreeMap::from([("schemas.enable".to_string(), schemas_enable.to_string())]);
        Converter::configure(&mut converter, &config, false).unwrap();
        let records = 500_000;
        let mut out = Vec::with_capacity(4096);
        let mut bytes = 0usize;
        let start = Instant::now();
        for _ in 0..records {
            out.clear();
            converter
                .from_connect_into("t", Some(&schema), black_box(&value), &mut out)
                .unwrap();
            bytes += out.len();
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "write schemas.enable={schemas_enable}: {:.0} records/s, {:.0} MB/s ({} bytes/record)",
            records as f64 / elapsed,
            bytes as f64 / elapsed / 1e6,
            out.len()
        );
        let encoded = out.clone();
        let start = Instant::now();
        for _ in 0..records {
            black_box(
                converter
                    .to_connect("t", Some(black_box(&encoded)))
                    .unwrap(),
            );
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "read  schemas.enable={schemas_enable}: {:.0} records/s, {:.0} MB/s",
            records as f64 / elapsed,
            (encoded.len() * records) as f64 / elapsed / 1e6
        );
    }
}
