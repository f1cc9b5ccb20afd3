//! Debezium's records: topics, key/value/envelope schemas and the change events built from
//! decoded rows.
//!
//! [`TableSchema`] is built once per table (from the catalog for the snapshot, from the pgoutput
//! Relation message while streaming) and shared by every record of the table; building a record
//! ([`RecordBuilder::change`]) is a pure function of the table schema, the change and its
//! source position.
//!
//! Invariants:
//! - topic `<topic.prefix>.<schema>.<table>`; schema names `<topic>.Key`, `<topic>.Value`,
//!   `<topic>.Envelope` and `io.debezium.connector.postgresql.Source`, fields in Debezium's order;
//! - the key is the primary key (the replica identity columns) as a struct, or no key when the
//!   table has none;
//! - a delete is followed by a tombstone (same key, null value) when `tombstones.on.delete`;
//!   an update that changes the key is a delete of the old key (+ tombstone) and a create of
//!   the new one, as Debezium emits it.

use crate::offsets;
use crate::pgoutput::{ColumnValue, Relation, Tuple};
use crate::types::{CatalogType, ColumnKind, TypeSettings, ValueError};
use kconnect_plugin_api::abi_stable::std_types::RVec;
use kconnect_plugin_api::{
    ConnectRecord, Schema, SchemaBuilder, SchemaRef, SchemaType, SourceMap, SourceRecord, Struct,
    Value,
};

/// What Debezium puts in place of an unchanged TOASTed value it was not sent.
pub const UNAVAILABLE_VALUE_PLACEHOLDER: &str = "__debezium_unavailable_value";

/// Debezium's connector name in `source.connector`.
pub const CONNECTOR_NAME: &str = "postgresql";

/// One column of a table.
#[derive(Clone, Debug)]
pub struct TableColumn {
    pub name: String,
    pub kind: ColumnKind,
    pub schema: SchemaRef,
    pub is_key: bool,
    /// Whether the value (`before`/`after`) holds it (`column.include.list`/`exclude.list`);
    /// key columns are in the key either way.
    pub in_value: bool,
}

/// The schemas of one table's records.
#[derive(Clone, Debug)]
pub struct TableSchema {
    pub schema_name: String,
    pub table_name: String,
    pub topic: String,
    pub columns: Vec<TableColumn>,
    /// Positions of the key columns in `columns`.
    key_columns: Vec<usize>,
    key_schema: Option<SchemaRef>,
    value_schema: SchemaRef,
    envelope_schema: SchemaRef,
}

/// A column as the catalog or pgoutput describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDefinition {
    pub name: String,
    pub type_oid: u32,
    pub type_modifier: i32,
    pub not_null: bool,
    pub is_key: bool,
    /// The column's default as `pg_get_expr` prints it (`'x'::text`, `0`, `now()`…).
    pub default_expr: Option<String>,
    pub catalog_type: CatalogType,
}

/// Replaces the characters Kafka does not allow in topic names by `_`, as Debezium does.
pub fn sanitize_topic(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl TableSchema {
    /// Builds the schemas of `<schema>.<table>`.
    pub fn new(
        topic_prefix: &str,
        schema_name: &str,
        table_name: &str,
        columns: &[ColumnDefinition],
        in_value: &dyn Fn(&str) -> bool,
        settings: &TypeSettings,
        source_schema: &SchemaRef,
    ) -> TableSchema {
        let topic = sanitize_topic(&format!("{topic_prefix}.{schema_name}.{table_name}"));
        let columns: Vec<TableColumn> = columns
            .iter()
            .map(|c| {
                // Key columns are never null; pgoutput does not tell nullability, so a column
                // is optional unless the catalog said NOT NULL or it is part of the key.
                let optional = !(c.not_null || c.is_key);
                let default = c.default_expr.as_deref().and_then(default_literal);
                let (kind, schema) = ColumnKind::of(
                    c.type_oid,
                    c.type_modifier,
                    &c.catalog_type,
                    optional,
                    default,
                    settings,
                );
                TableColumn {
                    name: c.name.clone(),
                    kind,
                    schema,
                    is_key: c.is_key,
                    in_value: in_value(&c.name),
                }
            })
            .collect();
        let key_columns: Vec<usize> = (0..columns.len()).filter(|&i| columns[i].is_key).collect();
        let key_schema = (!key_columns.is_empty()).then(|| {
            key_columns
                .iter()
                .fold(
                    SchemaBuilder::struct_().name(&format!("{topic}.Key")),
                    |b, &i| b.field(&columns[i].name, columns[i].schema.clone()),
                )
                .build_ref()
        });
        let value_schema = columns
            .iter()
            .filter(|c| c.in_value)
            .fold(
                SchemaBuilder::struct_()
                    .name(&format!("{topic}.Value"))
                    .optional(),
                |b, c| b.field(&c.name, c.schema.clone()),
            )
            .build_ref();
        let envelope_schema = envelope_schema(&topic, &value_schema, source_schema);
        TableSchema {
            schema_name: schema_name.to_string(),
            table_name: table_name.to_string(),
            topic,
            columns,
            key_columns,
            key_schema,
            value_schema,
            envelope_schema,
        }
    }

    /// The schemas of a table pgoutput described. pgoutput says nothing about nullability or
    /// defaults: those come from the catalog's column of the same name, when there is one.
    pub fn from_relation(
        topic_prefix: &str,
        relation: &Relation,
        catalog: &dyn Fn(&str) -> Option<ColumnDefinition>,
        in_value: &dyn Fn(&str) -> bool,
        settings: &TypeSettings,
        source_schema: &SchemaRef,
    ) -> TableSchema {
        let columns: Vec<ColumnDefinition> = relation
            .columns
            .iter()
            .map(|c| {
                let known = catalog(&c.name);
                ColumnDefinition {
                    name: c.name.clone(),
                    type_oid: c.type_oid,
                    type_modifier: c.type_modifier,
                    not_null: known.as_ref().is_some_and(|k| k.not_null),
                    is_key: c.is_key,
                    catalog_type: known
                        .as_ref()
                        .map(|k| k.catalog_type.clone())
                        .unwrap_or_default(),
                    default_expr: known.and_then(|k| k.default_expr),
                }
            })
            .collect();
        TableSchema::new(
            topic_prefix,
            &relation.schema,
            &relation.table,
            &columns,
            in_value,
            settings,
            source_schema,
        )
    }

    pub fn key_schema(&self) -> Option<&SchemaRef> {
        self.key_schema.as_ref()
    }

    pub fn value_schema(&self) -> &SchemaRef {
        &self.value_schema
    }

    pub fn envelope_schema(&self) -> &SchemaRef {
        &self.envelope_schema
    }

    /// The value struct of a row.
    fn row(&self, tuple: &Tuple) -> Result<Value, ValueError> {
        let mut values = Struct::values_for(self.columns.len());
        for (i, column) in self.columns.iter().enumerate() {
            if !column.in_value {
                continue;
            }
            let value = match tuple.get(i).unwrap_or(&ColumnValue::Null) {
                ColumnValue::Text(text) => column.kind.convert(text)?,
                ColumnValue::UnchangedToast => unavailable_value(column),
                ColumnValue::Null if !column.schema.optional => zero_value(&column.schema),
                ColumnValue::Null => Value::Null,
            };
            values.push(value);
        }
        Ok(Value::Struct(Struct {
            schema: self.value_schema.clone(),
            values,
        }))
    }

    /// The key struct of a row, `Null` for a table without a key.
    fn key(&self, tuple: &Tuple) -> Result<Value, ValueError> {
        let Some(schema) = &self.key_schema else {
            return Ok(Value::Null);
        };
        let mut values = Struct::values_for(self.key_columns.len());
        for &i in &self.key_columns {
            let column = &self.columns[i];
            values.push(match tuple.get(i) {
                Some(ColumnValue::Text(text)) => column.kind.convert(text)?,
                _ => zero_value(&column.schema),
            });
        }
        Ok(Value::Struct(Struct {
            schema: schema.clone(),
            values,
        }))
    }

    /// Whether two tuples have the same key.
    fn same_key(&self, a: &Tuple, b: &Tuple) -> bool {
        self.key_columns.iter().all(|&i| a.get(i) == b.get(i))
    }
}

/// The text of a constant default (`'abc'::text` → `abc`, `42`, `-1.5`, `true`), in the form
/// the column's values have; `None` for NULL and for expressions (functions, sequences), whose
/// defaults are not in the schema.
pub fn default_literal(expr: &str) -> Option<String> {
    let expr = expr.trim();
    if let Some(quoted) = expr.strip_prefix('\'') {
        let mut text = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.as_str().starts_with('\'') {
                    chars.next();
                    text.push('\'');
                    continue;
                }
                let cast = chars.as_str();
                // Only a plain cast may follow (`::text`, `::character varying`).
                let plain_cast = cast.is_empty()
                    || cast.strip_prefix("::").is_some_and(|t| {
                        t.chars()
                            .all(|c| c.is_ascii_alphanumeric() || " _\"[]".contains(c))
                    });
                return plain_cast.then_some(text);
            }
            text.push(c);
        }
        return None;
    }
    let unparenthesized = expr
        .strip_prefix('(')
        .and_then(|e| e.strip_suffix(')'))
        .unwrap_or(expr);
    let is_number = {
        let digits = unparenthesized.strip_prefix('-').unwrap_or(unparenthesized);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
    };
    if is_number || matches!(unparenthesized, "true" | "false") {
        Some(unparenthesized.to_string())
    } else {
        None
    }
}

/// A NOT NULL column whose value pgoutput did not send (a delete's old row under REPLICA
/// IDENTITY DEFAULT carries the key only): the type's zero, so the row fits its schema.
fn zero_value(schema: &Schema) -> Value {
    match schema.schema_type {
        SchemaType::Int8 => Value::Int8(0),
        SchemaType::Int16 => Value::Int16(0),
        SchemaType::Int32 => Value::Int32(0),
        SchemaType::Int64 => Value::Int64(0),
        SchemaType::Float32 => Value::Float32(0.0),
        SchemaType::Float64 => Value::Float64(0.0),
        SchemaType::Boolean => Value::Boolean(false),
        SchemaType::String => Value::String("".into()),
        SchemaType::Bytes => Value::Bytes(RVec::new()),
        _ => Value::Null,
    }
}

fn unavailable_value(column: &TableColumn) -> Value {
    match column.schema.schema_type {
        SchemaType::String => Value::String(UNAVAILABLE_VALUE_PLACEHOLDER.into()),
        SchemaType::Bytes => Value::Bytes(UNAVAILABLE_VALUE_PLACEHOLDER.as_bytes().to_vec().into()),
        _ if column.schema.optional => Value::Null,
        _ => zero_value(&column.schema),
    }
}

/// `io.debezium.connector.postgresql.Source`, in Debezium's field order.
pub fn source_schema() -> SchemaRef {
    let string = || SchemaRef::new(Schema::primitive(SchemaType::String));
    let optional_string = || SchemaRef::new(Schema::optional_primitive(SchemaType::String));
    let int64 = || SchemaRef::new(Schema::primitive(SchemaType::Int64));
    let optional_int64 = || SchemaRef::new(Schema::optional_primitive(SchemaType::Int64));
    let snapshot = SchemaBuilder::new(SchemaType::String)
        .name("io.debezium.data.Enum")
        .version(1)
        .parameter(
            "allowed",
            "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental",
        )
        .default_value(Value::from("false"))
        .optional()
        .build_ref();
    SchemaBuilder::struct_()
        .name("io.debezium.connector.postgresql.Source")
        .version(1)
        .field("version", string())
        .field("connector", string())
        .field("name", string())
        .field("ts_ms", int64())
        .field("snapshot", snapshot)
        .field("db", string())
        .field("sequence", optional_string())
        .field("ts_us", optional_int64())
        .field("ts_ns", optional_int64())
        .field("schema", string())
        .field("table", string())
        .field("txId", optional_int64())
        .field("lsn", optional_int64())
        .field("xmin", optional_int64())
        // Debezium 3.6: the replication origin of the change (null without one).
        .field("origin", optional_string())
        .field("origin_lsn", optional_int64())
        .build_ref()
}

fn transaction_block_schema() -> SchemaRef {
    SchemaBuilder::struct_()
        .name("event.block")
        .version(1)
        .optional()
        .field("id", SchemaRef::new(Schema::primitive(SchemaType::String)))
        .field(
            "total_order",
            SchemaRef::new(Schema::primitive(SchemaType::Int64)),
        )
        .field(
            "data_collection_order",
            SchemaRef::new(Schema::primitive(SchemaType::Int64)),
        )
        .build_ref()
}

fn envelope_schema(topic: &str, value: &SchemaRef, source: &SchemaRef) -> SchemaRef {
    let optional_int64 = || SchemaRef::new(Schema::optional_primitive(SchemaType::Int64));
    SchemaBuilder::struct_()
        .name(&format!("{topic}.Envelope"))
        .version(2)
        .field("before", value.clone())
        .field("after", value.clone())
        .field("source", source.clone())
        .field("transaction", transaction_block_schema())
        .field("op", SchemaRef::new(Schema::primitive(SchemaType::String)))
        .field("ts_ms", optional_int64())
        .field("ts_us", optional_int64())
        .field("ts_ns", optional_int64())
        .build_ref()
}

/// Debezium's `source.snapshot` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotMarker {
    /// A streamed change.
    False,
    True,
    First,
    FirstInDataCollection,
    LastInDataCollection,
    Last,
}

impl SnapshotMarker {
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotMarker::False => "false",
            SnapshotMarker::True => "true",
            SnapshotMarker::First => "first",
            SnapshotMarker::FirstInDataCollection => "first_in_data_collection",
            SnapshotMarker::LastInDataCollection => "last_in_data_collection",
            SnapshotMarker::Last => "last",
        }
    }

    /// The marker of a snapshot row from where it is in its table and in the whole snapshot.
    pub fn of_snapshot_row(
        first_overall: bool,
        last_overall: bool,
        first_in_table: bool,
        last_in_table: bool,
    ) -> SnapshotMarker {
        if first_overall {
            SnapshotMarker::First
        } else if last_overall {
            SnapshotMarker::Last
        } else if first_in_table {
            SnapshotMarker::FirstInDataCollection
        } else if last_in_table {
            SnapshotMarker::LastInDataCollection
        } else {
            SnapshotMarker::True
        }
    }
}

/// Where and when a change happened: the `source` block and the offset.
#[derive(Clone, Debug)]
pub struct ChangeSource {
    /// Commit time (snapshot: snapshot time), microseconds since the epoch.
    pub ts_us: i64,
    pub tx_id: Option<i64>,
    pub lsn: Option<u64>,
    /// Debezium's `sequence`: `["<last commit lsn>","<lsn>"]`.
    pub sequence: Option<String>,
    pub snapshot: SnapshotMarker,
    pub offset: SourceMap,
    /// When the connector processed the change (the envelope's `ts_ms`/`ts_us`/`ts_ns`),
    /// microseconds since the epoch.
    pub processed_us: i64,
}

/// The kind of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Read,
    Create,
    Update,
    Delete,
    Truncate,
}

impl Operation {
    pub fn code(self) -> &'static str {
        match self {
            Operation::Read => "r",
            Operation::Create => "c",
            Operation::Update => "u",
            Operation::Delete => "d",
            Operation::Truncate => "t",
        }
    }

    /// Debezium's `messageType` in offsets.
    pub fn message_type(self) -> &'static str {
        match self {
            Operation::Read => "READ",
            Operation::Create => "INSERT",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Truncate => "TRUNCATE",
        }
    }
}

/// Builds the records of one connector.
#[derive(Clone, Debug)]
pub struct RecordBuilder {
    pub topic_prefix: String,
    pub database: String,
    pub tombstones_on_delete: bool,
    pub source_schema: SchemaRef,
    partition: SourceMap,
    version: String,
}

impl RecordBuilder {
    pub fn new(topic_prefix: &str, database: &str, tombstones_on_delete: bool) -> RecordBuilder {
        RecordBuilder {
            topic_prefix: topic_prefix.to_string(),
            database: database.to_string(),
            tombstones_on_delete,
            source_schema: source_schema(),
            partition: offsets::partition(topic_prefix),
            version: format!("kconnect-{}", env!("CARGO_PKG_VERSION")),
        }
    }

    fn source(&self, table: &TableSchema, at: &ChangeSource) -> Value {
        let mut values = Struct::values_for(16);
        values.extend([
            Value::from(self.version.as_str()),
            Value::from(CONNECTOR_NAME),
            Value::from(self.topic_prefix.as_str()),
            Value::Int64(at.ts_us.div_euclid(1000)),
            Value::from(at.snapshot.as_str()),
            Value::from(self.database.as_str()),
            at.sequence.as_deref().map_or(Value::Null, Value::from),
            Value::Int64(at.ts_us),
            Value::Int64(at.ts_us.saturating_mul(1000)),
            Value::from(table.schema_name.as_str()),
            Value::from(table.table_name.as_str()),
            at.tx_id.map_or(Value::Null, Value::Int64),
            at.lsn.map_or(Value::Null, |l| Value::Int64(l as i64)),
            Value::Null,
            Value::Null,
            Value::Null,
        ]);
        Value::Struct(Struct {
            schema: self.source_schema.clone(),
            values,
        })
    }

    fn envelope(
        &self,
        table: &TableSchema,
        key: Value,
        before: Value,
        after: Value,
        op: Operation,
        at: &ChangeSource,
    ) -> SourceRecord {
        let mut values = Struct::values_for(8);
        values.extend([
            before,
            after,
            self.source(table, at),
            Value::Null,
            Value::from(op.code()),
            Value::Int64(at.processed_us.div_euclid(1000)),
            Value::Int64(at.processed_us),
            Value::Int64(at.processed_us.saturating_mul(1000)),
        ]);
        self.record(
            table,
            key,
            Some(table.envelope_schema.clone()),
            Value::Struct(Struct {
                schema: table.envelope_schema.clone(),
                values,
            }),
            at,
        )
    }

    fn record(
        &self,
        table: &TableSchema,
        key: Value,
        value_schema: Option<SchemaRef>,
        value: Value,
        at: &ChangeSource,
    ) -> SourceRecord {
        SourceRecord {
            source_partition: self.partition.clone(),
            source_offset: at.offset.clone(),
            record: ConnectRecord {
                topic: table.topic.as_str().into(),
                key_schema: table.key_schema.clone().into(),
                key,
                value_schema: value_schema.into(),
                value,
                ..ConnectRecord::default()
            },
        }
    }

    /// The records of one change, appended to `out`: usually one, two for a delete with a
    /// tombstone, three for an update of the key.
    pub fn change(
        &self,
        table: &TableSchema,
        op: Operation,
        before: Option<&Tuple>,
        after: Option<&Tuple>,
        at: &ChangeSource,
        out: &mut Vec<SourceRecord>,
    ) -> Result<(), ValueError> {
        match (op, before, after) {
            (Operation::Update, Some(old), Some(new)) if !table.same_key(old, new) => {
                // The key changed: Debezium's delete of the old key, then a create of the new.
                self.change(table, Operation::Delete, Some(old), None, at, out)?;
                return self.change(table, Operation::Create, None, Some(new), at, out);
            }
            (Operation::Delete, Some(old), _) => {
                let key = table.key(old)?;
                out.push(self.envelope(table, key.clone(), table.row(old)?, Value::Null, op, at));
                if self.tombstones_on_delete {
                    out.push(self.record(table, key, None, Value::Null, at));
                }
            }
            (_, _, Some(new)) => {
                let key = table.key(new)?;
                // Only REPLICA IDENTITY FULL sends the whole old row; a key-only old tuple of
                // an update whose key did not change is no `before` in Debezium either.
                let before = match before {
                    Some(old) if op == Operation::Update && !only_key_present(table, old) => {
                        table.row(old)?
                    }
                    _ => Value::Null,
                };
                let after = table.row(new)?;
                out.push(self.envelope(table, key, before, after, op, at));
            }
            (Operation::Truncate, None, None) => {
                out.push(self.envelope(table, Value::Null, Value::Null, Value::Null, op, at));
            }
            _ => {}
        }
        Ok(())
    }
}

impl RecordBuilder {
    /// A heartbeat record (Debezium's `ServerNameKey` key and `Heartbeat` value) carrying
    /// `offset`, so that the position it holds is stored once Kafka acknowledged it.
    pub fn heartbeat(&self, topic: &str, offset: SourceMap, now_ms: i64) -> SourceRecord {
        let key_schema = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.ServerNameKey")
            .field(
                "serverName",
                SchemaRef::new(Schema::primitive(SchemaType::String)),
            )
            .build_ref();
        let value_schema = SchemaBuilder::struct_()
            .name("io.debezium.connector.common.Heartbeat")
            .field(
                "ts_ms",
                SchemaRef::new(Schema::primitive(SchemaType::Int64)),
            )
            .build_ref();
        let mut key = Struct::values_for(1);
        key.push(Value::from(self.topic_prefix.as_str()));
        let mut value = Struct::values_for(1);
        value.push(Value::Int64(now_ms));
        SourceRecord {
            source_partition: self.partition.clone(),
            source_offset: offset,
            record: ConnectRecord {
                topic: topic.into(),
                key_schema: Some(key_schema.clone()).into(),
                key: Value::Struct(Struct {
                    schema: key_schema,
                    values: key,
                }),
                value_schema: Some(value_schema.clone()).into(),
                value: Value::Struct(Struct {
                    schema: value_schema,
                    values: value,
                }),
                ..ConnectRecord::default()
            },
        }
    }
}

/// Whether an old tuple carries only the key columns (REPLICA IDENTITY DEFAULT).
fn only_key_present(table: &TableSchema, tuple: &Tuple) -> bool {
    table
        .columns
        .iter()
        .zip(tuple)
        .all(|(c, v)| c.is_key || matches!(v, ColumnValue::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::oid;
    use bytes::Bytes;

    fn items() -> TableSchema {
        let columns = [
            ColumnDefinition {
                name: "id".into(),
                type_oid: oid::INT4,
                type_modifier: -1,
                not_null: true,
                is_key: true,
                default_expr: None,
                catalog_type: CatalogType::default(),
            },
            ColumnDefinition {
                name: "name".into(),
                type_oid: oid::TEXT,
                type_modifier: -1,
                not_null: false,
                is_key: false,
                default_expr: None,
                catalog_type: CatalogType::default(),
            },
        ];
        TableSchema::new(
            "shop",
            "public",
            "items",
            &columns,
            &|_| true,
            &TypeSettings::default(),
            &source_schema(),
        )
    }

    fn text(s: &str) -> ColumnValue {
        ColumnValue::Text(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn at() -> ChangeSource {
        ChangeSource {
            ts_us: 1_700_000_000_123_456,
            tx_id: Some(750),
            lsn: Some(4242),
            sequence: Some("[\"4000\",\"4242\"]".into()),
            snapshot: SnapshotMarker::False,
            offset: SourceMap::new().with("lsn", 4242i64),
            processed_us: 99_000,
        }
    }

    fn field<'a>(v: &'a Value, name: &str) -> &'a Value {
        match v {
            Value::Struct(s) => s.get(name).unwrap_or_else(|| panic!("no field {name}")),
            other => panic!("{other:?} is not a struct"),
        }
    }

    #[test]
    fn an_insert_is_a_create_event_on_debeziums_topic_with_its_schema_names() {
        let b = RecordBuilder::new("shop", "inventory", true);
        let t = items();
        let mut out = Vec::new();
        b.change(
            &t,
            Operation::Create,
            None,
            Some(&vec![text("7"), text("pen")]),
            &at(),
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        let r = &out[0].record;
        assert_eq!(r.topic.as_str(), "shop.public.items");
        assert_eq!(
            r.key_schema().unwrap().name(),
            Some("shop.public.items.Key")
        );
        assert_eq!(field(&r.key, "id"), &Value::Int32(7));
        let envelope = r.value_schema().unwrap();
        assert_eq!(envelope.name(), Some("shop.public.items.Envelope"));
        let names: Vec<&str> = envelope.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "before",
                "after",
                "source",
                "transaction",
                "op",
                "ts_ms",
                "ts_us",
                "ts_ns"
            ]
        );
        assert_eq!(
            envelope.field("after").unwrap().schema.name(),
            Some("shop.public.items.Value")
        );
        assert_eq!(field(&r.value, "op"), &Value::from("c"));
        assert_eq!(field(&r.value, "before"), &Value::Null);
        assert_eq!(field(field(&r.value, "after"), "name"), &Value::from("pen"));
        assert_eq!(field(&r.value, "ts_ms"), &Value::Int64(99));
        let source = field(&r.value, "source");
        assert_eq!(field(source, "connector"), &Value::from("postgresql"));
        assert_eq!(field(source, "name"), &Value::from("shop"));
        assert_eq!(field(source, "db"), &Value::from("inventory"));
        assert_eq!(field(source, "ts_ms"), &Value::Int64(1_700_000_000_123));
        assert_eq!(field(source, "txId"), &Value::Int64(750));
        assert_eq!(field(source, "lsn"), &Value::Int64(4242));
        assert_eq!(field(source, "table"), &Value::from("items"));
        assert_eq!(
            out[0].source_partition.get("server"),
            Some(&Value::from("shop"))
        );
        if let Value::Struct(s) = &r.value {
            s.validate().unwrap();
        }
    }

    #[test]
    fn a_delete_is_followed_by_a_tombstone_unless_disabled() {
        let t = items();
        let old = vec![text("7"), ColumnValue::Null];
        let mut out = Vec::new();
        RecordBuilder::new("shop", "db", true)
            .change(&t, Operation::Delete, Some(&old), None, &at(), &mut out)
            .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(field(&out[0].record.value, "op"), &Value::from("d"));
        assert_eq!(
            field(field(&out[0].record.value, "before"), "id"),
            &Value::Int32(7)
        );
        assert_eq!(out[1].record.value, Value::Null);
        assert_eq!(out[1].record.key, out[0].record.key);
        let mut out = Vec::new();
        RecordBuilder::new("shop", "db", false)
            .change(&t, Operation::Delete, Some(&old), None, &at(), &mut out)
            .unwrap();
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn an_update_of_the_key_is_a_delete_a_tombstone_and_a_create() {
        let t = items();
        let mut out = Vec::new();
        RecordBuilder::new("shop", "db", true)
            .change(
                &t,
                Operation::Update,
                Some(&vec![text("1"), ColumnValue::Null]),
                Some(&vec![text("2"), text("x")]),
                &at(),
                &mut out,
            )
            .unwrap();
        let ops: Vec<Value> = out
            .iter()
            .map(|r| match &r.record.value {
                Value::Null => Value::Null,
                v => field(v, "op").clone(),
            })
            .collect();
        assert_eq!(ops, [Value::from("d"), Value::Null, Value::from("c")]);
        assert_eq!(field(&out[2].record.key, "id"), &Value::Int32(2));
    }

    #[test]
    fn an_update_with_a_full_old_row_has_a_before_and_toast_placeholders() {
        let t = items();
        let mut out = Vec::new();
        RecordBuilder::new("shop", "db", true)
            .change(
                &t,
                Operation::Update,
                Some(&vec![text("1"), text("a")]),
                Some(&vec![text("1"), ColumnValue::UnchangedToast]),
                &at(),
                &mut out,
            )
            .unwrap();
        assert_eq!(out.len(), 1);
        let v = &out[0].record.value;
        assert_eq!(field(field(v, "before"), "name"), &Value::from("a"));
        assert_eq!(
            field(field(v, "after"), "name"),
            &Value::from(UNAVAILABLE_VALUE_PLACEHOLDER)
        );
    }

    #[test]
    fn snapshot_markers_follow_debeziums_rules() {
        use SnapshotMarker::*;
        assert_eq!(
            SnapshotMarker::of_snapshot_row(true, false, true, false),
            First
        );
        assert_eq!(
            SnapshotMarker::of_snapshot_row(false, true, false, true),
            Last
        );
        assert_eq!(
            SnapshotMarker::of_snapshot_row(false, false, true, false),
            FirstInDataCollection
        );
        assert_eq!(
            SnapshotMarker::of_snapshot_row(false, false, false, true),
            LastInDataCollection
        );
        assert_eq!(
            SnapshotMarker::of_snapshot_row(false, false, false, false),
            True
        );
    }

    #[test]
    fn only_constant_defaults_reach_the_schema() {
        assert_eq!(default_literal("''::text").as_deref(), Some(""));
        assert_eq!(
            default_literal("'it''s'::character varying").as_deref(),
            Some("it's")
        );
        assert_eq!(default_literal("'-1'::integer").as_deref(), Some("-1"));
        assert_eq!(default_literal("(-2.5)").as_deref(), Some("-2.5"));
        assert_eq!(default_literal("42").as_deref(), Some("42"));
        assert_eq!(default_literal("true").as_deref(), Some("true"));
        assert_eq!(default_literal("nextval('t_id_seq'::regclass)"), None);
        assert_eq!(default_literal("now()"), None);
        assert_eq!(default_literal("NULL::text"), None);
        assert_eq!(default_literal("'a'::text || 'b'::text"), None);
    }

    #[test]
    fn topics_are_sanitized() {
        assert_eq!(sanitize_topic("p.public.my table$"), "p.public.my_table_");
    }
}
