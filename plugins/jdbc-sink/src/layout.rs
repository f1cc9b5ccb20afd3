//! Which columns a record fills and where each value comes from, by primary key mode.
//!
//! Invariant: the primary key columns come first in [`Layout::columns`] (the first
//! [`Layout::pk_len`]), so the first `pk_len` values of a row are its key. A layout is built once
//! per distinct (key schema, value schema, table) and shared by the rows of a batch.

use crate::config::{PrimaryKeyMode, SinkConfig};
use crate::values::{field_type, sql_value, ColumnKind, FieldType, SqlValue, TimeUnit};
use kconnect_plugin_api::{Schema, SchemaRef, SchemaType, SinkRecord, Value};
use std::sync::Arc;

/// Where a column's value is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Topic,
    Partition,
    Offset,
    /// A primitive key as a whole.
    WholeKey,
    KeyField(usize),
    ValueField(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: FieldType,
    pub optional: bool,
    pub source: Source,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub columns: Vec<Column>,
    pub pk_len: usize,
}

impl Layout {
    pub fn pk(&self) -> &[Column] {
        &self.columns[..self.pk_len]
    }

    /// Whether two layouts key rows the same way (a tombstone can share a segment with rows).
    pub fn same_key(&self, other: &Layout) -> bool {
        self.pk_len == other.pk_len
            && self
                .pk()
                .iter()
                .zip(other.pk())
                .all(|(a, b)| a.name == b.name && a.source == b.source)
    }
}

fn column(name: &str, schema: &Schema, source: Source) -> Result<Column, String> {
    Ok(Column {
        name: name.to_string(),
        ty: field_type(schema).map_err(|e| format!("field {name:?}: {e}"))?,
        optional: schema.optional,
        source,
    })
}

fn struct_fields(schema: &Schema, what: &str) -> Result<Vec<(String, SchemaRef)>, String> {
    if schema.schema_type != SchemaType::Struct {
        return Err(format!(
            "the {what} schema is {}, not STRUCT",
            schema.schema_type.upper_name()
        ));
    }
    Ok(schema
        .fields
        .iter()
        .map(|f| (f.name.to_string(), f.schema.clone()))
        .collect())
}

/// The layout of records with these schemas. `value` is `None` for tombstones: the layout then
/// has the key columns only.
pub fn build_layout(
    config: &SinkConfig,
    key: Option<&Schema>,
    value: Option<&Schema>,
) -> Result<Layout, String> {
    let mut columns = Vec::new();
    match config.pk_mode {
        PrimaryKeyMode::None => {}
        PrimaryKeyMode::Kafka => {
            let [t, p, o] = config.kafka_pk_columns();
            let ty = |kind| FieldType {
                kind,
                unit: TimeUnit::Millis,
            };
            let mk = |name: &str, kind, source| Column {
                name: name.to_string(),
                ty: ty(kind),
                optional: false,
                source,
            };
            columns.push(mk(t, ColumnKind::Text, Source::Topic));
            columns.push(mk(p, ColumnKind::Int32, Source::Partition));
            columns.push(mk(o, ColumnKind::Int64, Source::Offset));
        }
        PrimaryKeyMode::RecordKey => {
            let key = key.ok_or("primary.key.mode=record_key but the record key has no schema (use a converter with schemas, or another primary.key.mode)")?;
            if key.schema_type == SchemaType::Struct {
                let fields = struct_fields(key, "key")?;
                let wanted: Vec<&str> = if config.pk_fields.is_empty() {
                    fields.iter().map(|(n, _)| n.as_str()).collect()
                } else {
                    config.pk_fields.iter().map(String::as_str).collect()
                };
                for name in wanted {
                    let index = fields.iter().position(|(n, _)| n == name).ok_or_else(|| {
                        format!("primary key field {name:?} is not a field of the record key")
                    })?;
                    columns.push(column(name, &fields[index].1, Source::KeyField(index))?);
                }
            } else {
                let [name] = config.pk_fields.as_slice() else {
                    return Err("a primitive record key needs exactly one primary.key.fields entry naming its column".to_string());
                };
                columns.push(column(name, key, Source::WholeKey)?);
            }
        }
        PrimaryKeyMode::RecordValue => {
            let value = value.ok_or("primary.key.mode=record_value cannot key a tombstone")?;
            let fields = struct_fields(value, "value")?;
            for name in &config.pk_fields {
                let index = fields.iter().position(|(n, _)| n == name).ok_or_else(|| {
                    format!("primary key field {name:?} is not a field of the record value")
                })?;
                columns.push(column(name, &fields[index].1, Source::ValueField(index))?);
            }
        }
    }
    let pk_len = columns.len();
    if let Some(value) = value {
        for (index, (name, schema)) in struct_fields(value, "value")?.iter().enumerate() {
            if !columns[..pk_len].iter().any(|c| &c.name == name) {
                columns.push(column(name, schema, Source::ValueField(index))?);
            }
        }
    }
    if columns.is_empty() {
        return Err("the record has no columns to write".to_string());
    }
    Ok(Layout { columns, pk_len })
}

/// Appends the values of `record` for `columns` (all of a layout's, or its key's) to `out`.
pub fn push_row<'a>(
    columns: &[Column],
    record: &'a SinkRecord,
    tz_offset_secs: i32,
    out: &mut Vec<SqlValue<'a>>,
) -> Result<(), String> {
    let r = &record.record;
    for c in columns {
        let field = |v: &'a Value, i: usize, what: &str| match v {
            Value::Struct(s) => s
                .values
                .get(i)
                .ok_or_else(|| format!("the {what} struct lacks field {:?}", c.name)),
            other => Err(format!("the {what} is {}, not a STRUCT", other.type_name())),
        };
        let value = match c.source {
            Source::Topic => SqlValue::Text(r.topic.as_str()),
            Source::Partition => SqlValue::Int(record.kafka_partition() as i64),
            Source::Offset => SqlValue::Int(record.kafka_offset),
            Source::WholeKey => sql_value(c.ty, &r.key, tz_offset_secs)?,
            Source::KeyField(i) => sql_value(c.ty, field(&r.key, i, "key")?, tz_offset_secs)?,
            Source::ValueField(i) => sql_value(c.ty, field(&r.value, i, "value")?, tz_offset_secs)?,
        };
        out.push(value);
    }
    Ok(())
}

/// Layouts seen lately, found by schema identity first and equality second (converters may
/// build a new but equal schema for every record).
#[derive(Default)]
pub struct LayoutCache {
    entries: Vec<CachedLayout>,
}

/// A layout and what it was built for.
struct CachedLayout {
    table: String,
    key: Option<SchemaRef>,
    value: Option<SchemaRef>,
    layout: Arc<Layout>,
}

fn same_schema(a: Option<&SchemaRef>, b: Option<&SchemaRef>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => std::ptr::eq::<Schema>(&**a, &**b) || **a == **b,
        _ => false,
    }
}

impl LayoutCache {
    const CAPACITY: usize = 32;

    pub fn get(
        &mut self,
        config: &SinkConfig,
        table: &str,
        key: Option<&SchemaRef>,
        value: Option<&SchemaRef>,
    ) -> Result<Arc<Layout>, String> {
        if let Some(entry) = self.entries.iter_mut().find(|e| {
            e.table == table
                && same_schema(e.value.as_ref(), value)
                && same_schema(e.key.as_ref(), key)
        }) {
            // Keep the newest schema objects: the next records most likely share them.
            entry.key = key.cloned();
            entry.value = value.cloned();
            return Ok(entry.layout.clone());
        }
        let layout = Arc::new(build_layout(
            config,
            key.map(|s| &**s),
            value.map(|s| &**s),
        )?);
        if self.entries.len() == Self::CAPACITY {
            self.entries.remove(0);
        }
        self.entries.push(CachedLayout {
            table: table.to_string(),
            key: key.cloned(),
            value: value.cloned(),
            layout: layout.clone(),
        });
        Ok(layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CONNECTION_URL;
    use kconnect_plugin_api::testkit::config_from;
    use kconnect_plugin_api::{SchemaBuilder, Struct};

    fn config(pairs: &[(&str, &str)]) -> SinkConfig {
        let mut c = config_from([(CONNECTION_URL, "jdbc:postgresql://h/db")]);
        c.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        SinkConfig::parse(&c).unwrap()
    }

    fn value_schema() -> SchemaRef {
        SchemaBuilder::struct_()
            .field("id", SchemaBuilder::new(SchemaType::Int32).build_ref())
            .field(
                "name",
                SchemaBuilder::new(SchemaType::String)
                    .optional()
                    .build_ref(),
            )
            .build_ref()
    }

    fn names(l: &Layout) -> Vec<&str> {
        l.columns.iter().map(|c| c.name.as_str()).collect()
    }

    #[test]
    fn record_key_puts_key_fields_first_and_skips_them_in_the_value() {
        let key = SchemaBuilder::struct_()
            .field("id", SchemaBuilder::new(SchemaType::Int32).build_ref())
            .build_ref();
        let c = config(&[("pk.mode", "record_key")]);
        let l = build_layout(&c, Some(&key), Some(&value_schema())).unwrap();
        assert_eq!((names(&l), l.pk_len), (vec!["id", "name"], 1));
        assert_eq!(l.columns[0].source, Source::KeyField(0));
        let tombstone = build_layout(&c, Some(&key), None).unwrap();
        assert!(tombstone.same_key(&l));
        assert_eq!(names(&tombstone), ["id"]);
    }

    #[test]
    fn kafka_and_value_modes() {
        let l = build_layout(
            &config(&[("pk.mode", "kafka")]),
            None,
            Some(&value_schema()),
        )
        .unwrap();
        assert_eq!(
            names(&l),
            [
                "__connect_topic",
                "__connect_partition",
                "__connect_offset",
                "id",
                "name"
            ]
        );
        let l = build_layout(
            &config(&[("pk.mode", "record_value"), ("pk.fields", "name")]),
            None,
            Some(&value_schema()),
        )
        .unwrap();
        assert_eq!((names(&l), l.pk_len), (vec!["name", "id"], 1));
    }

    #[test]
    fn missing_fields_and_schemaless_data_are_named() {
        let c = config(&[("pk.mode", "record_value"), ("pk.fields", "nope")]);
        assert!(build_layout(&c, None, Some(&value_schema()))
            .unwrap_err()
            .contains("\"nope\" is not a field of the record value"));
        let c = config(&[("pk.mode", "record_key")]);
        assert!(build_layout(&c, None, Some(&value_schema()))
            .unwrap_err()
            .contains("record key has no schema"));
        let string = SchemaBuilder::new(SchemaType::String).build_ref();
        assert!(build_layout(&config(&[]), None, Some(&string))
            .unwrap_err()
            .contains("not STRUCT"));
    }

    #[test]
    fn rows_borrow_their_values() {
        let c = config(&[("pk.mode", "kafka")]);
        let l = build_layout(&c, None, Some(&value_schema())).unwrap();
        let mut record = SinkRecord {
            kafka_offset: 9,
            ..SinkRecord::default()
        };
        record.record.topic = "t".into();
        record.record.value = Value::Struct(
            Struct::new(value_schema())
                .with("id", Value::Int32(4))
                .with("name", Value::Null),
        );
        let mut row = Vec::new();
        push_row(&l.columns, &record, 0, &mut row).unwrap();
        assert_eq!(
            row,
            [
                SqlValue::Text("t"),
                SqlValue::Int(0),
                SqlValue::Int(9),
                SqlValue::Int(4),
                SqlValue::Null
            ]
        );
    }
}
