//! Builders shared by the integration tests.
#![allow(dead_code)]

use kconnect_plugin_api::abi_stable::std_types::{RBox, ROption};
use kconnect_plugin_api::{
    ConnectRecord, Header, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value,
};
use kconnect_transforms::{
    builtin_predicate, builtin_transformation, Predicate, TransformError, TransformResult,
    Transformation, Verdict,
};
use std::collections::BTreeMap;

/// Config pairs, as written in a table row.
pub type Pairs = Vec<(&'static str, &'static str)>;

pub fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A configured built-in; panics with the configure error so a failing table row says why.
pub fn transform(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Transformation> {
    match builtin_transformation(class, &config(pairs)) {
        Some(Ok(t)) => t,
        Some(Err(e)) => panic!("{class} failed to configure: {e}"),
        None => panic!("{class} is not a built-in"),
    }
}

pub fn predicate(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Predicate> {
    match builtin_predicate(class, &config(pairs)) {
        Some(Ok(p)) => p,
        Some(Err(e)) => panic!("{class} failed to configure: {e}"),
        None => panic!("{class} is not a built-in"),
    }
}

/// The configure error of a built-in (panics when it configures).
pub fn configure_error(class: &str, pairs: &[(&str, &str)]) -> kconnect_transforms::TransformError {
    match builtin_transformation(class, &config(pairs))
        .or_else(|| builtin_predicate(class, &config(pairs)).map(|r| r.map(|_| unreachable())))
    {
        Some(Err(e)) => e,
        Some(Ok(_)) => panic!("{class} configured with {pairs:?}"),
        None => panic!("{class} is not a built-in"),
    }
}

fn unreachable() -> Box<dyn Transformation> {
    panic!("predicate configured")
}

pub fn prim(t: SchemaType) -> SchemaRef {
    SchemaBuilder::new(t).build_ref()
}

pub fn opt(t: SchemaType) -> SchemaRef {
    SchemaBuilder::new(t).optional().build_ref()
}

pub fn with_default(t: SchemaType, default: Value) -> SchemaRef {
    SchemaBuilder::new(t)
        .optional()
        .default_value(default)
        .build_ref()
}

/// A STRUCT schema from `(name, schema)` pairs.
pub fn struct_schema(fields: &[(&str, SchemaRef)]) -> SchemaRef {
    fields
        .iter()
        .fold(SchemaBuilder::struct_(), |b, (name, s)| {
            b.field(name, s.clone())
        })
        .build_ref()
}

pub fn optional_struct_schema(fields: &[(&str, SchemaRef)]) -> SchemaRef {
    fields
        .iter()
        .fold(SchemaBuilder::struct_().optional(), |b, (name, s)| {
            b.field(name, s.clone())
        })
        .build_ref()
}

/// A struct value with values in field order.
pub fn strukt(schema: &SchemaRef, values: Vec<Value>) -> Value {
    assert_eq!(schema.fields.len(), values.len(), "one value per field");
    Value::Struct(Struct {
        schema: schema.clone(),
        values: values.into(),
    })
}

pub fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::map_from(entries)
}

pub fn s(text: &str) -> Value {
    Value::String(text.into())
}

pub const TS: i64 = 1_500_000_000_000; // 2017-07-14T02:40:00.000Z

/// A record on topic `test`, partition 3, timestamp [`TS`], with the given value.
pub fn value_record(schema: Option<SchemaRef>, value: Value) -> ConnectRecord {
    ConnectRecord {
        topic: "test".into(),
        kafka_partition: ROption::RSome(3),
        key_schema: ROption::RNone,
        key: Value::Null,
        value_schema: schema.into(),
        value,
        timestamp: ROption::RSome(TS),
        headers: Default::default(),
    }
}

pub fn key_record(schema: Option<SchemaRef>, key: Value) -> ConnectRecord {
    let mut record = value_record(None, s("unchanged"));
    record.key_schema = schema.into();
    record.key = key;
    record
}

pub fn with_headers(mut record: ConnectRecord, headers: Vec<Header>) -> ConnectRecord {
    record.headers = headers.into();
    record
}

pub fn timestamp_schema() -> SchemaRef {
    SchemaBuilder::timestamp().build_ref()
}

pub fn optional_timestamp_schema() -> SchemaRef {
    SchemaBuilder::timestamp().optional().build_ref()
}

/// A copy of `schema` with a default value.
pub fn defaulted(schema: &SchemaRef, default: Value) -> SchemaRef {
    let mut copy: Schema = (**schema).clone();
    copy.default_value = ROption::RSome(RBox::new(default));
    SchemaRef::new(copy)
}

/// Applies a transformation or chain (`apply`) to `record`: the changed record, or `None` when it
/// was dropped.
pub fn outcome(
    mut record: ConnectRecord,
    apply: impl FnOnce(&mut ConnectRecord) -> TransformResult,
) -> Result<Option<ConnectRecord>, TransformError> {
    Ok(match apply(&mut record)? {
        Verdict::Keep => Some(record),
        Verdict::Discard => None,
    })
}

/// Applies `t` and unwraps the kept record.
pub fn apply(t: &mut Box<dyn Transformation>, record: ConnectRecord) -> ConnectRecord {
    match outcome(record, |r| t.apply(r)) {
        Ok(Some(r)) => r,
        Ok(None) => panic!("record dropped"),
        Err(e) => panic!("apply failed: {e}"),
    }
}

/// Applies `t` and returns the error message.
pub fn apply_error(t: &mut Box<dyn Transformation>, record: ConnectRecord) -> String {
    match outcome(record, |r| t.apply(r)) {
        Err(e) => e.to_string(),
        Ok(r) => panic!("expected an error, got {r:?}"),
    }
}
