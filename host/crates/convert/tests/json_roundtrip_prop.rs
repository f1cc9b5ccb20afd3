//! Property: schemaless JsonConverter data (maps in Java's `HashMap` order, as Kafka reads
//! them) survives bytes → value → bytes unchanged.

use kconnect_convert::{to_java_hash_map_order, Converter, HashMapOrigin, JsonConverter};
use kconnect_plugin_api::abi_stable::std_types::Tuple2;
use kconnect_plugin_api::Value;
use proptest::prelude::*;
use std::collections::BTreeMap;

fn schemaless() -> JsonConverter {
    let mut converter = JsonConverter::default();
    let config = BTreeMap::from([("schemas.enable".to_string(), "false".to_string())]);
    Converter::configure(&mut converter, &config, false).unwrap();
    converter
}

/// Values as Kafka infers them from JSON: INT64, FLOAT64, strings, lists and string-keyed maps.
fn inferred_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::Int64),
        // Kafka reads a JSON `-0.0` as `0.0` (through a BigDecimal): no value it reads has one.
        (prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO)
            .prop_map(|f| Value::Float64(if f == 0.0 { 0.0 } else { f })),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|items| Value::Array(items.into())),
            prop::collection::btree_map(any::<String>(), inner, 0..6).prop_map(|entries| {
                // In the order of the HashMap Kafka's JsonConverter reads a JSON object into.
                let mut entries: Vec<Tuple2<Value, Value>> = entries
                    .into_iter()
                    .map(|(k, v)| Tuple2(Value::from(k), v))
                    .collect();
                to_java_hash_map_order(&mut entries, HashMapOrigin::Empty);
                Value::Map(entries.into())
            }),
        ]
    })
}

/// Arbitrary JSON text, written by serde_json (whose number forms differ from Jackson's).
fn json_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        prop::num::f64::NORMAL.prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
    .prop_map(|v| v.to_string())
}

proptest! {
    #[test]
    fn kafka_form_bytes_round_trip_exactly(value in inferred_value()) {
        let mut converter = schemaless();
        let Some(bytes) = converter.from_connect("t", None, &value).unwrap() else {
            prop_assert!(value.is_null());
            return Ok(());
        };
        // What we write is valid JSON.
        prop_assert!(serde_json::from_slice::<serde_json::Value>(&bytes).is_ok());
        let (schema, read) = converter.to_connect("t", Some(&bytes)).unwrap();
        prop_assert!(schema.is_none());
        prop_assert_eq!(&read, &value);
        let again = converter.from_connect("t", None, &read).unwrap().unwrap();
        prop_assert_eq!(String::from_utf8_lossy(&again), String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn any_json_reads_to_a_value_that_rewrites_stably(json in json_text()) {
        let mut converter = schemaless();
        let (_, value) = converter.to_connect("t", Some(json.as_bytes())).unwrap();
        let written = converter.from_connect("t", None, &value).unwrap().unwrap_or_else(|| b"null".to_vec());
        let (_, reread) = converter.to_connect("t", Some(&written)).unwrap();
        prop_assert_eq!(&reread, &value);
        let expected: serde_json::Value = serde_json::from_str(&json).unwrap();
        let actual: serde_json::Value = serde_json::from_slice(&written).unwrap();
        prop_assert!(same_json(&expected, &actual), "{} vs {}", json, String::from_utf8_lossy(&written));
    }
}

/// JSON equality with numbers compared by value (Jackson writes `1.0E10` where serde writes `1e10`).
fn same_json(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}
