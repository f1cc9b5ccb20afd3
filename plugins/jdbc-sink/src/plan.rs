//! From a batch of records to the statements of its transaction. Pure: no database here.
//!
//! A batch is cut into segments of consecutive records bound for one table with one layout
//! (a tombstone joins the segment before it when it keys rows the same way). In upsert mode only
//! the last change of each key in a segment is written: the table ends as if every change had
//! run in order, and a replayed batch writes the same final rows again (idempotent). In insert
//! and update modes changes run in order, consecutive ones of a kind sharing a statement.

use crate::config::{InsertMode, SinkConfig};
use crate::db::Exec;
use crate::dialect::SqlDialect;
use crate::layout::{push_row, Layout, LayoutCache};
use crate::values::SqlValue;
use crate::JdbcSinkError;
use kconnect_plugin_api::SinkRecord;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Insert, upsert or update the row (all the layout's columns).
    Write,
    /// Delete by key (the layout's key columns only).
    Delete,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    /// Where the op's values start in [`Segment::values`].
    pub start: usize,
    /// The record's index in the batch.
    pub record: usize,
}

pub struct Segment<'a> {
    pub table: String,
    pub layout: Arc<Layout>,
    /// The values of every op, back to back: a whole row for writes, the key for deletes.
    pub values: Vec<SqlValue<'a>>,
    pub ops: Vec<Op>,
}

impl<'a> Segment<'a> {
    fn width(&self, kind: OpKind) -> usize {
        match kind {
            OpKind::Write => self.layout.columns.len(),
            OpKind::Delete => self.layout.pk_len,
        }
    }

    fn op_values(&self, op: &Op) -> &[SqlValue<'a>] {
        &self.values[op.start..op.start + self.width(op.kind)]
    }

    pub fn has_writes(&self) -> bool {
        self.ops.iter().any(|op| op.kind == OpKind::Write)
    }
}

fn record_error(record: &SinkRecord, reason: impl Into<String>) -> JdbcSinkError {
    JdbcSinkError::Record {
        topic: record.record.topic.to_string(),
        partition: record.kafka_partition(),
        offset: record.kafka_offset,
        reason: reason.into(),
    }
}

/// Cuts `records` into segments. Tombstones are skipped unless `delete.enabled`.
pub fn segments<'a>(
    config: &SinkConfig,
    cache: &mut LayoutCache,
    records: &'a [SinkRecord],
) -> Result<Vec<Segment<'a>>, JdbcSinkError> {
    let mut segments: Vec<Segment<'a>> = Vec::new();
    let mut table = String::new();
    for (index, record) in records.iter().enumerate() {
        let r = &record.record;
        let tombstone = r.value.is_null();
        if tombstone && !config.delete_enabled {
            log::trace!(
                "skipping the tombstone at {}-{}@{} (delete.enabled=false)",
                r.topic,
                record.kafka_partition(),
                record.kafka_offset
            );
            continue;
        }
        if !tombstone && r.value_schema().is_none() {
            return Err(record_error(record, "the value has no schema: the JDBC sink needs STRUCT values with a schema (e.g. JsonConverter with value.converter.schemas.enable=true, or Avro)"));
        }
        table.clear();
        table.push_str(&config.table_for(&r.topic));
        let value_schema = if tombstone { None } else { r.value_schema() };
        let layout = cache
            .get(config, &table, r.key_schema(), value_schema)
            .map_err(|e| record_error(record, e))?;
        let kind = if tombstone {
            OpKind::Delete
        } else {
            OpKind::Write
        };
        let joins = segments.last().is_some_and(|s| {
            s.table == table
                && (Arc::ptr_eq(&s.layout, &layout) || (tombstone && s.layout.same_key(&layout)))
        });
        if !joins {
            segments.push(Segment {
                table: table.clone(),
                layout: layout.clone(),
                values: Vec::new(),
                ops: Vec::new(),
            });
        }
        let segment = segments.last_mut().expect("a segment was just pushed");
        let start = segment.values.len();
        let columns = match kind {
            OpKind::Write => &segment.layout.columns[..],
            OpKind::Delete => segment.layout.pk(),
        };
        push_row(
            columns,
            record,
            config.time_zone_offset_secs,
            &mut segment.values,
        )
        .map_err(|e| record_error(record, e))?;
        segment.ops.push(Op {
            kind,
            start,
            record: index,
        });
    }
    Ok(segments)
}

/// The ops of a segment that decide the table's final state, in order. In upsert mode that is
/// the last op of each key; otherwise every op.
pub fn effective_ops(segment: &Segment, mode: InsertMode) -> Vec<Op> {
    if mode != InsertMode::Upsert {
        return segment.ops.clone();
    }
    let pk = segment.layout.pk_len;
    let mut last: HashMap<&[SqlValue], usize> = HashMap::with_capacity(segment.ops.len());
    for (i, op) in segment.ops.iter().enumerate() {
        last.insert(&segment.values[op.start..op.start + pk], i);
    }
    segment
        .ops
        .iter()
        .enumerate()
        .filter(|(i, op)| last[&segment.values[op.start..op.start + pk]] == *i)
        .map(|(_, op)| *op)
        .collect()
}

/// The statements writing `segment`, multi-row where the mode allows.
pub fn statements<'a>(
    config: &SinkConfig,
    sql: &SqlDialect,
    segment: &Segment<'a>,
    out: &mut Vec<Exec<'a>>,
) {
    let ops = effective_ops(segment, config.insert_mode);
    let layout = &segment.layout;
    let mut run_start = 0;
    while run_start < ops.len() {
        let kind = ops[run_start].kind;
        let run_end = ops[run_start..]
            .iter()
            .position(|op| op.kind != kind)
            .map_or(ops.len(), |n| run_start + n);
        let run = &ops[run_start..run_end];
        run_start = run_end;
        if kind == OpKind::Write && config.insert_mode == InsertMode::Update {
            if layout.columns.len() == layout.pk_len {
                continue; // nothing but the key: an update changes nothing
            }
            let statement = sql.update(&segment.table, layout);
            let order = sql.update_parameter_order(layout);
            for op in run {
                let row = segment.op_values(op);
                out.push(Exec {
                    sql: statement.clone(),
                    params: order.iter().map(|&i| row[i]).collect(),
                    records: (op.record, op.record),
                });
            }
            continue;
        }
        let width = segment.width(kind);
        for chunk in run.chunks(SqlDialect::rows_per_statement(width, config.batch_size)) {
            let statement = match kind {
                OpKind::Write => {
                    sql.insert(&segment.table, layout, chunk.len(), config.insert_mode)
                }
                OpKind::Delete => sql.delete(&segment.table, layout, chunk.len()),
            };
            let mut params = Vec::with_capacity(width * chunk.len());
            for op in chunk {
                params.extend_from_slice(segment.op_values(op));
            }
            let records = (chunk[0].record, chunk[chunk.len() - 1].record);
            out.push(Exec {
                sql: statement,
                params,
                records,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Dialect, CONNECTION_URL};
    use kconnect_plugin_api::testkit::config_from;
    use kconnect_plugin_api::{SchemaBuilder, SchemaRef, SchemaType, Struct, Value};

    fn config(pairs: &[(&str, &str)]) -> SinkConfig {
        let mut c = config_from([
            (CONNECTION_URL, "jdbc:postgresql://h/db"),
            ("pk.mode", "record_key"),
            ("delete.enabled", "true"),
        ]);
        c.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        SinkConfig::parse(&c).unwrap()
    }

    fn schemas() -> (SchemaRef, SchemaRef) {
        let key = SchemaBuilder::struct_()
            .field("id", SchemaBuilder::new(SchemaType::Int64).build_ref())
            .build_ref();
        let value = SchemaBuilder::struct_()
            .field("id", SchemaBuilder::new(SchemaType::Int64).build_ref())
            .field("v", SchemaBuilder::new(SchemaType::String).build_ref())
            .build_ref();
        (key, value)
    }

    /// `Some(v)` writes row `id` with value `v`, `None` is a tombstone.
    fn records(changes: &[(i64, Option<&str>)]) -> Vec<SinkRecord> {
        let (key_schema, value_schema) = schemas();
        changes
            .iter()
            .enumerate()
            .map(|(offset, (id, v))| {
                let mut r = SinkRecord {
                    kafka_offset: offset as i64,
                    ..SinkRecord::default()
                };
                r.record.topic = "items".into();
                r.record.key_schema = Some(key_schema.clone()).into();
                r.record.key =
                    Value::Struct(Struct::new(key_schema.clone()).with("id", Value::Int64(*id)));
                if let Some(v) = v {
                    r.record.value_schema = Some(value_schema.clone()).into();
                    r.record.value = Value::Struct(
                        Struct::new(value_schema.clone())
                            .with("id", Value::Int64(*id))
                            .with("v", Value::from(*v)),
                    );
                }
                r
            })
            .collect()
    }

    const PG: SqlDialect = SqlDialect {
        dialect: Dialect::Postgres,
        quote: false,
    };

    #[test]
    fn upsert_keeps_the_last_change_per_key_in_one_segment() {
        let c = config(&[("insert.mode", "upsert")]);
        let batch = records(&[
            (1, Some("a")),
            (2, Some("b")),
            (1, None),
            (3, Some("c")),
            (2, Some("b2")),
            (1, Some("a2")),
            (3, None),
        ]);
        let segments = segments(&c, &mut LayoutCache::default(), &batch).unwrap();
        assert_eq!(segments.len(), 1, "tombstones join the rows' segment");
        let ops = effective_ops(&segments[0], c.insert_mode);
        let summary: Vec<(OpKind, usize)> = ops.iter().map(|op| (op.kind, op.record)).collect();
        assert_eq!(
            summary,
            [(OpKind::Write, 4), (OpKind::Write, 5), (OpKind::Delete, 6)]
        );
        let mut execs = Vec::new();
        statements(&c, &PG, &segments[0], &mut execs);
        assert_eq!(execs.len(), 2);
        assert!(
            execs[0].sql.starts_with(
                "INSERT INTO items (id, v) VALUES ($1, $2), ($3, $4) ON CONFLICT (id)"
            ),
            "{}",
            execs[0].sql
        );
        assert_eq!(
            execs[0].params,
            [
                SqlValue::Int(2),
                SqlValue::Text("b2"),
                SqlValue::Int(1),
                SqlValue::Text("a2")
            ]
        );
        assert_eq!(execs[1].sql, "DELETE FROM items WHERE (id) IN (($1))");
        assert_eq!(execs[1].params, [SqlValue::Int(3)]);
    }

    #[test]
    fn insert_mode_runs_changes_in_order_and_chunks_by_batch_size() {
        let c = config(&[("batch.size", "2")]);
        let batch = records(&[
            (1, Some("a")),
            (2, Some("b")),
            (3, Some("c")),
            (1, None),
            (4, Some("d")),
        ]);
        let segments = segments(&c, &mut LayoutCache::default(), &batch).unwrap();
        let mut execs = Vec::new();
        statements(&c, &PG, &segments[0], &mut execs);
        let shapes: Vec<(&str, usize, (usize, usize))> = execs
            .iter()
            .map(|e| (&e.sql[..6], e.params.len(), e.records))
            .collect();
        assert_eq!(
            shapes,
            [
                ("INSERT", 4, (0, 1)),
                ("INSERT", 2, (2, 2)),
                ("DELETE", 1, (3, 3)),
                ("INSERT", 2, (4, 4))
            ]
        );
    }

    #[test]
    fn update_mode_writes_one_statement_per_row() {
        let c = config(&[("insert.mode", "update")]);
        let batch = records(&[(1, Some("a")), (2, Some("b"))]);
        let segments = segments(&c, &mut LayoutCache::default(), &batch).unwrap();
        let mut execs = Vec::new();
        statements(&c, &PG, &segments[0], &mut execs);
        assert_eq!(execs.len(), 2);
        assert_eq!(execs[1].sql, "UPDATE items SET v = $2 WHERE id = $1");
        assert_eq!(execs[1].params, [SqlValue::Int(2), SqlValue::Text("b")]);
    }

    #[test]
    fn tombstones_are_skipped_without_delete_enabled_and_schemaless_values_refused() {
        let c = config(&[("delete.enabled", "false")]);
        let batch = records(&[(1, None)]);
        assert!(segments(&c, &mut LayoutCache::default(), &batch)
            .unwrap()
            .is_empty());
        let mut batch = records(&[(1, Some("a"))]);
        batch[0].record.value_schema = None.into();
        batch[0].kafka_offset = 41;
        let message = segments(&c, &mut LayoutCache::default(), &batch)
            .err()
            .unwrap()
            .to_string();
        assert!(
            message
                .starts_with("record topic items partition 0 offset 41: the value has no schema"),
            "{message}"
        );
    }
}
