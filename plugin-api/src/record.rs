//! Records: what a source task produces and what a sink task receives.
//!
//! Both share [`ConnectRecord`], the part that transformations see. A batch is an `RVec` of
//! records handed over whole: crossing the plugin boundary moves one pointer, not each field.

use crate::data::{SchemaRef, Value};
use abi_stable::std_types::{ROption, RString, RVec, Tuple2};
use abi_stable::StableAbi;

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

/// An ordered map with string keys: a source partition or a source offset.
///
/// Kafka Connect stores these as JSON, so values should be primitives (strings, numbers, booleans).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Default)]
pub struct SourceMap {
    pub entries: RVec<Tuple2<RString, Value>>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Builder-style insert.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> SourceMap {
        self.insert(key, value.into());
        self
    }

    /// Sets `key`, replacing an earlier value.
    pub fn insert(&mut self, key: &str, value: Value) {
        match self.entries.iter_mut().find(|e| e.0 == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push(Tuple2(key.into(), value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|e| e.0 == key).map(|e| &e.1)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|e| (e.0.as_str(), &e.1))
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
