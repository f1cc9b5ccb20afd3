//! Helpers shared by the built-ins: which side of the record a transform works on, Kafka's
//! `SchemaUtil`/`Requirements`, schemaless map access and the derived-schema cache.

use crate::error::TransformError;
use kconnect_convert::HashMapOrigin;
use kconnect_plugin_api::abi_stable::std_types::{ROption, RVec, Tuple2};
use kconnect_plugin_api::{ConnectRecord, Field, Schema, SchemaRef, SchemaType, Struct, Value};

/// The part of the record a `$Key` or `$Value` variant works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Key,
    Value,
}

impl Side {
    pub fn value(self, record: &ConnectRecord) -> &Value {
        match self {
            Side::Key => &record.key,
            Side::Value => &record.value,
        }
    }

    /// Moves the schema and value out of the record (leaving null in their place).
    pub fn take(self, record: &mut ConnectRecord) -> (Option<SchemaRef>, Value) {
        let (schema, value) = match self {
            Side::Key => (&mut record.key_schema, &mut record.key),
            Side::Value => (&mut record.value_schema, &mut record.value),
        };
        let schema = std::mem::replace(schema, ROption::RNone).into_option();
        (schema, std::mem::take(value))
    }

    /// The schema and the value, to be changed in place.
    pub fn slots(self, record: &mut ConnectRecord) -> (&mut ROption<SchemaRef>, &mut Value) {
        match self {
            Side::Key => (&mut record.key_schema, &mut record.key),
            Side::Value => (&mut record.value_schema, &mut record.value),
        }
    }

    pub fn put(self, record: &mut ConnectRecord, schema: Option<SchemaRef>, value: Value) {
        match self {
            Side::Key => {
                record.key_schema = schema.into();
                record.key = value;
            }
            Side::Value => {
                record.value_schema = schema.into();
                record.value = value;
            }
        }
    }
}

/// The Java class Kafka would name in a message for this value (`found: java.lang.String`).
pub(crate) fn java_class_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Boolean(_) => "java.lang.Boolean",
        Value::Int8(_) => "java.lang.Byte",
        Value::Int16(_) => "java.lang.Short",
        Value::Int32(_) => "java.lang.Integer",
        Value::Int64(_) => "java.lang.Long",
        Value::Float32(_) => "java.lang.Float",
        Value::Float64(_) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Bytes(_) => "[B",
        Value::Array(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.HashMap",
        Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
    }
}

/// Kafka's `Requirements.requireStruct` message.
pub(crate) fn not_a_struct(value: &Value, purpose: &str) -> TransformError {
    TransformError::data(format!(
        "Only Struct objects supported for [{purpose}], found: {}",
        java_class_name(value)
    ))
}

/// Kafka's `Requirements.requireMap` message.
pub(crate) fn not_a_map(value: &Value, purpose: &str) -> TransformError {
    TransformError::data(format!(
        "Only Map objects supported in absence of schema for [{purpose}], found: {}",
        java_class_name(value)
    ))
}

pub(crate) fn require_struct(value: Value, purpose: &str) -> Result<Struct, TransformError> {
    match value {
        Value::Struct(s) => Ok(s),
        other => Err(not_a_struct(&other, purpose)),
    }
}

pub(crate) fn require_map(
    value: Value,
    purpose: &str,
) -> Result<RVec<Tuple2<Value, Value>>, TransformError> {
    match value {
        Value::Map(entries) => Ok(entries),
        other => Err(not_a_map(&other, purpose)),
    }
}

/// A new schema of `schema_type` with the name, version, doc and parameters of `source`
/// (Kafka's `SchemaUtil.copySchemaBasics(source, builder)`): not its optionality or default.
pub(crate) fn copy_schema_basics(source: &Schema, schema_type: SchemaType) -> Schema {
    let mut schema = Schema::primitive(schema_type);
    schema.name = source.name.clone();
    schema.version = source.version;
    schema.doc = source.doc.clone();
    schema.parameters = source.parameters.clone();
    schema
}

/// `SchemaUtil.copySchemaBasics(source)`: the same type, keeping array and map element schemas.
pub(crate) fn copy_schema_basics_same_type(source: &Schema) -> Schema {
    let mut schema = copy_schema_basics(source, source.schema_type);
    schema.key_schema = source.key_schema.clone();
    schema.value_schema = source.value_schema.clone();
    schema
}

/// Appends a field to a STRUCT schema being built.
pub(crate) fn push_field(schema: &mut Schema, name: &str, field_schema: SchemaRef) {
    let index = schema.fields.len() as u32;
    schema.fields.push(Field {
        name: name.into(),
        index,
        schema: field_schema,
    });
}

/// A field's value as Kafka's `Struct.get` returns it (the schema default for a null) or, with
/// `replace_null_with_default = false`, as `getWithoutDefault` does.
pub(crate) fn resolve_default(value: Value, field_schema: &Schema, replace_null: bool) -> Value {
    if replace_null && value.is_null() {
        if let Some(default) = field_schema.default_value() {
            return default.clone();
        }
    }
    value
}

/// Whether any field of a STRUCT schema has a default: without one, [`fill_defaults`] has
/// nothing to do.
pub(crate) fn has_defaults(schema: &Schema) -> bool {
    schema
        .fields
        .iter()
        .any(|field| field.schema.default_value().is_some())
}

/// Replaces a struct's null values by their fields' defaults, as Kafka's `Struct.get` reads them.
pub(crate) fn fill_defaults(value: &mut Struct) {
    for (v, field) in value.values.iter_mut().zip(value.schema.fields.iter()) {
        if v.is_null() {
            if let Some(default) = field.schema.default_value() {
                *v = default.clone();
            }
        }
    }
}

/// Moves a struct's values out, replacing nulls by defaults when asked.
pub(crate) fn take_values(mut value: Struct, replace_null: bool) -> (SchemaRef, RVec<Value>) {
    if replace_null {
        fill_defaults(&mut value);
    }
    (value.schema, std::mem::take(&mut value.values))
}

/// Looks a string key up in schemaless map entries.
pub(crate) fn map_get<'a>(entries: &'a [Tuple2<Value, Value>], key: &str) -> Option<&'a Value> {
    entries
        .iter()
        .find(|e| e.0.as_str() == Some(key))
        .map(|e| &e.1)
}

/// Sets a string key in schemaless map entries, in place when present (like `HashMap.put`).
pub(crate) fn map_put(entries: &mut RVec<Tuple2<Value, Value>>, key: &str, value: Value) {
    match entries.iter_mut().find(|e| e.0.as_str() == Some(key)) {
        Some(entry) => entry.1 = value,
        None => entries.push(Tuple2(Value::String(key.into()), value)),
    }
}

/// Puts schemaless map entries in the order of the `HashMap` Kafka's transformation builds:
/// `origin` says how it makes it (see [`kconnect_convert::HashMapOrigin`]).
pub(crate) fn as_java_hash_map(entries: &mut RVec<Tuple2<Value, Value>>, origin: HashMapOrigin) {
    kconnect_convert::to_java_hash_map_order(entries, origin);
}

/// Removes a string key from schemaless map entries.
pub(crate) fn map_remove(entries: &mut RVec<Tuple2<Value, Value>>, key: &str) -> Option<Value> {
    let index = entries.iter().position(|e| e.0.as_str() == Some(key))?;
    Some(entries.remove(index).1)
}

/// A map key as Kafka's schemaless transforms see it (they cast keys to `String`).
pub(crate) fn map_key_string(key: &Value) -> String {
    match key {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// How many derived schemas a transform keeps, as Kafka's `LRUCache(16)`.
const SCHEMA_CACHE_SIZE: usize = 16;

/// Derived schemas (or anything derived from a schema) keyed by the input schema.
///
/// A hit on the same `RArc` costs a pointer compare; a structurally equal schema behind another
/// pointer is found by comparison and then remembered under the new pointer, so a stream of
/// records sharing one schema never rebuilds the derived one.
pub(crate) struct SchemaCache<V> {
    entries: Vec<(SchemaRef, V)>,
}

impl<V> SchemaCache<V> {
    pub fn new() -> SchemaCache<V> {
        SchemaCache {
            entries: Vec::new(),
        }
    }

    /// The value derived from `key`, built on a miss.
    pub fn get_or_build<E>(
        &mut self,
        key: &SchemaRef,
        build: impl FnOnce(&SchemaRef) -> Result<V, E>,
    ) -> Result<&V, E> {
        let index = match self
            .entries
            .iter()
            .position(|(k, _)| std::ptr::eq::<Schema>(&**k, &**key))
        {
            Some(index) => index,
            None => {
                let entry = match self.entries.iter().position(|(k, _)| **k == **key) {
                    Some(index) => (key.clone(), self.entries.remove(index).1),
                    None => (key.clone(), build(key)?),
                };
                self.entries.insert(0, entry);
                self.entries.truncate(SCHEMA_CACHE_SIZE);
                0
            }
        };
        Ok(&self.entries[index].1)
    }
}
