//! Where source offsets live: a file in standalone mode ([`FileOffsetStore`]), the offset topic in
//! distributed mode ([`TopicOffsetStore`]). Both keep Kafka's offset-topic shapes: the key
//! `["<connector>", {<source partition>}]` and the offset as a JSON object, so stores can move
//! between modes and between kconnect and Kafka Connect.
//!
//! Invariant for both: `put` only records offsets in memory; they are durable once `flush`
//! returned `Ok`, and a failed flush keeps them for the next one (`needs_flush`).

mod file;
mod java_map;
mod topic;

pub use file::{FileOffsetStore, StoredConnector};
pub use topic::TopicOffsetStore;

use crate::error::Result;
use kconnect_plugin_api::data::Value;
use kconnect_plugin_api::record::SourceMap;
use serde_json::{json, Value as Json};

/// The worker's offset store, whichever mode it runs in.
pub enum OffsetStore {
    File(Arc<FileOffsetStore>),
    Topic(Arc<TopicOffsetStore>),
}

use std::sync::Arc;

impl OffsetStore {
    /// The stored offset of a connector's source partition.
    pub fn get(&self, connector: &str, partition: &SourceMap) -> Option<SourceMap> {
        match self {
            OffsetStore::File(store) => store.get(connector, partition),
            OffsetStore::Topic(store) => store.get(connector, partition),
        }
    }

    /// Records offsets in memory; `flush` makes them durable. `None` deletes.
    pub fn put(
        &self,
        connector: &str,
        offsets: impl IntoIterator<Item = (SourceMap, Option<SourceMap>)>,
    ) {
        match self {
            OffsetStore::File(store) => store.put(connector, offsets),
            OffsetStore::Topic(store) => store.put(connector, offsets),
        }
    }

    pub fn flush(&self) -> Result<()> {
        match self {
            OffsetStore::File(store) => store.flush(),
            OffsetStore::Topic(store) => store.flush(),
        }
    }

    /// True when offsets were recorded but not yet made durable.
    pub fn needs_flush(&self) -> bool {
        match self {
            OffsetStore::File(store) => store.needs_flush(),
            OffsetStore::Topic(store) => store.needs_flush(),
        }
    }

    /// Every stored `(partition, offset)` of a connector.
    pub fn connector_offsets(&self, connector: &str) -> Vec<(Json, Json)> {
        match self {
            OffsetStore::File(store) => store.connector_offsets(connector),
            OffsetStore::Topic(store) => store.connector_offsets(connector),
        }
    }

    /// Deletes every offset of a connector (KIP-875 reset); durable after `flush`.
    pub fn remove_connector(&self, connector: &str) {
        match self {
            OffsetStore::File(store) => store.remove_connector(connector),
            OffsetStore::Topic(store) => store.remove_connector(connector),
        }
    }
}

/// A Connect value as JSON (the way Kafka's schemaless JsonConverter writes offsets).
pub fn value_to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Int8(v) => json!(v),
        Value::Int16(v) => json!(v),
        Value::Int32(v) => json!(v),
        Value::Int64(v) => json!(v),
        Value::Float32(v) => json!(v),
        Value::Float64(v) => json!(v),
        Value::String(s) => Json::String(s.to_string()),
        Value::Bytes(b) => Json::Array(b.iter().map(|x| json!(x)).collect()),
        Value::Array(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|e| (e.0.to_string(), value_to_json(&e.1)))
                .collect(),
        ),
        Value::Struct(s) => Json::Object(
            s.schema
                .fields
                .iter()
                .map(|f| {
                    (
                        f.name.to_string(),
                        value_to_json(&s.values[f.index as usize]),
                    )
                })
                .collect(),
        ),
    }
}

/// JSON back to a Connect value: integers become INT64, as Kafka's schemaless reading does.
pub fn json_to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int64(i),
            None => Value::Float64(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => Value::String(s.as_str().into()),
        Json::Array(items) => Value::Array(items.iter().map(json_to_value).collect()),
        Json::Object(map) => {
            Value::map_from(map.iter().map(|(k, v)| (k.as_str(), json_to_value(v))))
        }
    }
}

pub fn source_map_to_json(map: &SourceMap) -> Json {
    Json::Object(
        map.iter()
            .map(|(k, v)| (k.to_string(), value_to_json(v)))
            .collect(),
    )
}

pub fn json_to_source_map(json: &Json) -> Option<SourceMap> {
    let object = json.as_object()?;
    let mut map = SourceMap::new();
    for (k, v) in object {
        map.insert(k, json_to_value(v));
    }
    Some(map)
}

/// The key of one connector's source partition, `["name",{…}]`, and its compact text, which
/// indexes the store.
pub(crate) fn offset_key(connector: &str, partition: &SourceMap) -> (String, Json) {
    let key = Json::Array(vec![
        Json::String(connector.to_string()),
        source_map_to_json(partition),
    ]);
    (key.to_string(), key)
}

/// The key and value bytes of one offset record, as every worker writes them.
pub(crate) fn offset_record(
    connector: &str,
    partition: &SourceMap,
    offset: &SourceMap,
) -> (String, Vec<u8>) {
    (
        offset_key(connector, partition).0,
        source_map_to_json(offset).to_string().into_bytes(),
    )
}

/// The connector a stored key belongs to.
pub(crate) fn key_connector(key: &Json) -> Option<&str> {
    key.as_array()?.first()?.as_str()
}
