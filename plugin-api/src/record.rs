//! Records: what a source task produces and what a sink task receives.
//!
//! Both share [`ConnectRecord`], the part that transformations see. A batch is an `RVec` of
//! records handed over whole: crossing the plugin boundary moves one pointer, not each field.

use crate::data::{SchemaRef, Value};
use abi_stable::std_types::{RArc, ROption, RString, RVec, Tuple2};
use abi_stable::StableAbi;
use std::fmt;

/// A record header: a key and a value with an optional schema.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Header {
    pub key: RString,
    pub schema: ROption<SchemaRef>,
    pub value: Value,
}

impl Header {
    pub fn new(key: &str, schema: Option<SchemaRef>, value: Value) -> Header {
        Header {
            key: key.into(),
            schema: schema.into(),
            value,
        }
    }
}

/// The part of a record common to source and sink records, and the unit transformations work on.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Default)]
pub struct ConnectRecord {
    pub topic: RString,
    pub kafka_partition: ROption<i32>,
    pub key_schema: ROption<SchemaRef>,
    pub key: Value,
    pub value_schema: ROption<SchemaRef>,
    pub value: Value,
    /// Milliseconds since the epoch.
    pub timestamp: ROption<i64>,
    pub headers: RVec<Header>,
}

impl ConnectRecord {
    /// A record with a value and nothing else.
    pub fn new(topic: &str, value_schema: Option<SchemaRef>, value: Value) -> ConnectRecord {
        ConnectRecord {
            topic: topic.into(),
            value_schema: value_schema.into(),
            value,
            ..ConnectRecord::default()
        }
    }

    pub fn key_schema(&self) -> Option<&SchemaRef> {
        self.key_schema.as_ref().into()
    }

    pub fn value_schema(&self) -> Option<&SchemaRef> {
        self.value_schema.as_ref().into()
    }

    /// The last header called `key`.
    pub fn header(&self, key: &str) -> Option<&Header> {
        self.headers.iter().rev().find(|h| h.key == key)
    }
}

type SourceEntries = RVec<Tuple2<RString, Value>>;

/// An ordered map with string keys: a source partition or a source offset.
///
/// Kafka Connect stores these as JSON, so values should be primitives (strings, numbers, booleans).
///
/// A map made [`shared`](SourceMap::shared) keeps its entries behind a reference count, so that
/// cloning it costs no allocation: a source partition, which every record of a source repeats,
/// is best built once, shared, and cloned into each record. Changing a shared map copies its
/// entries first (the other clones keep theirs). Shared or not, two maps are equal when their
/// entries are.
#[repr(C)]
#[derive(StableAbi, Clone, Default)]
pub struct SourceMap {
    /// The entries of a map that is not shared; empty when `shared` holds them.
    owned: SourceEntries,
    shared: ROption<RArc<SourceEntries>>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// A map holding `entries` as they are (keys are expected to be distinct).
    pub fn from_entries(entries: RVec<Tuple2<RString, Value>>) -> SourceMap {
        SourceMap {
            owned: entries,
            shared: ROption::RNone,
        }
    }

    /// Builder-style insert.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> SourceMap {
        self.insert(key, value.into());
        self
    }

    /// The same map with its entries behind a reference count: its clones share them.
    pub fn shared(self) -> SourceMap {
        match self.shared {
            ROption::RSome(_) => self,
            ROption::RNone => SourceMap {
                owned: RVec::new(),
                shared: ROption::RSome(RArc::new(self.owned)),
            },
        }
    }

    /// Whether clones of this map share its entries.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Sets `key`, replacing an earlier value. A shared map gets its own copy of the entries.
    pub fn insert(&mut self, key: &str, value: Value) {
        if let ROption::RSome(shared) = std::mem::replace(&mut self.shared, ROption::RNone) {
            self.owned = (*shared).clone();
        }
        match self.owned.iter_mut().find(|e| e.0 == key) {
            Some(entry) => entry.1 = value,
            None => self.owned.push(Tuple2(key.into(), value)),
        }
    }

    /// The entries, in insertion order.
    pub fn entries(&self) -> &[Tuple2<RString, Value>] {
        match &self.shared {
            ROption::RSome(shared) => shared.as_slice(),
            ROption::RNone => self.owned.as_slice(),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries().iter().find(|e| e.0 == key).map(|e| &e.1)
    }

    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries().iter().map(|e| (e.0.as_str(), &e.1))
    }
}

impl PartialEq for SourceMap {
    fn eq(&self, other: &SourceMap) -> bool {
        // Clones of one shared map hold the same entries: no need to compare them.
        if let (ROption::RSome(a), ROption::RSome(b)) = (&self.shared, &other.shared) {
            if std::ptr::eq::<SourceEntries>(&**a, &**b) {
                return true;
            }
        }
        self.entries() == other.entries()
    }
}

impl fmt::Debug for SourceMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries().iter().map(|e| (e.0.as_str(), &e.1)))
            .finish()
    }
}

/// A record produced by a source task.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Default)]
pub struct SourceRecord {
    /// Where the record came from (e.g. `{"filename": "/var/log/app.log"}`).
    pub source_partition: SourceMap,
    /// How far into that partition this record is (e.g. `{"position": 1024}`).
    pub source_offset: SourceMap,
    pub record: ConnectRecord,
}

impl SourceRecord {
    pub fn new(
        source_partition: SourceMap,
        source_offset: SourceMap,
        topic: &str,
        value_schema: Option<SchemaRef>,
        value: Value,
    ) -> SourceRecord {
        SourceRecord {
            source_partition,
            source_offset,
            record: ConnectRecord::new(topic, value_schema, value),
        }
    }
}

/// How a sink record's timestamp was set, as Kafka's `TimestampType`.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimestampType {
    #[default]
    NoTimestampType,
    CreateTime,
    LogAppendTime,
}

/// A record delivered to a sink task.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Default)]
pub struct SinkRecord {
    /// Offset of the record in its Kafka partition.
    pub kafka_offset: i64,
    pub timestamp_type: TimestampType,
    pub record: ConnectRecord,
}

impl SinkRecord {
    /// The partition the record was read from (always set for sink records).
    pub fn kafka_partition(&self) -> i32 {
        self.record.kafka_partition.unwrap_or(0)
    }
}

/// A Kafka topic partition.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: RString,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

/// The next offset to consume for a partition, as sink tasks report them from `pre_commit`.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PartitionOffset {
    pub partition: TopicPartition,
    pub offset: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_of_a_shared_map_share_its_entries() {
        let partition = SourceMap::new()
            .with("filename", "/var/log/app.log")
            .shared();
        let clone = partition.clone();
        assert!(clone.is_shared());
        assert!(std::ptr::eq(partition.entries(), clone.entries()));
        assert_eq!(
            clone.get("filename"),
            Some(&Value::from("/var/log/app.log"))
        );
        assert_eq!(clone.len(), 1);
    }

    #[test]
    fn equality_ignores_whether_a_map_is_shared() {
        let owned = SourceMap::new().with("f", "a").with("n", 1i64);
        let shared = owned.clone().shared();
        assert_eq!(owned, shared);
        assert_eq!(shared, owned);
        assert_ne!(
            shared,
            SourceMap::new().with("f", "a").with("n", 2i64).shared()
        );
        assert_eq!(format!("{owned:?}"), format!("{shared:?}"));
        assert_eq!(
            SourceMap::from_entries(owned.entries().iter().cloned().collect()),
            shared
        );
    }

    #[test]
    fn changing_a_shared_map_leaves_its_clones_alone() {
        let shared = SourceMap::new().with("f", "a").shared();
        let mut changed = shared.clone();
        changed.insert("f", Value::from("b"));
        changed.insert("g", Value::from(true));
        assert!(!changed.is_shared());
        assert_eq!(shared.get("f"), Some(&Value::from("a")));
        assert_eq!(shared.get("g"), None);
        let keys: Vec<&str> = changed.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["f", "g"]);
        assert_eq!(changed.get("f"), Some(&Value::from("b")));
    }
}
