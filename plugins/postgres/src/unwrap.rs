//! `io.debezium.transforms.ExtractNewRecordState` ("unwrap"): replaces a Debezium change
//! event by the row state it carries, for sinks that want rows, not envelopes.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `delete.tombstone.handling.mode` | (from the two legacy keys) | `drop`: no delete events, no tombstones; `tombstone`: a delete becomes a tombstone, tombstones stay; `rewrite`: a delete becomes its `before` row with `__deleted=true`, tombstones are dropped; `rewrite-with-tombstone`: the same, tombstones stay; `delete-to-tombstone`: a delete becomes a tombstone, original tombstones are dropped |
//! | `drop.tombstones` | true | legacy: drop tombstones |
//! | `delete.handling.mode` | drop | legacy: `drop`, `rewrite` or `none` (a delete passes with a null value) |
//! | `add.fields` | "" | envelope fields added to the row: `op`, `ts_ms`, `source.<field>`, …, as `<prefix><field with . as _>` |
//! | `add.fields.prefix` | `__` | prefix of added fields |
//! | `add.headers` | "" | the same fields added as headers |
//! | `add.headers.prefix` | `__` | prefix of added headers |
//!
//! Records that are not change events (no struct value with `op`, such as heartbeats) pass
//! unchanged. With `rewrite` modes every row gets a `__deleted` field ("true" or "false").
//!
//! Invariant: the schema of the rows of one table is built once and shared (cached by the
//! envelope schema).

use kconnect_plugin_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult, Header,
    PluginClass, SchemaBuilder, SchemaRef, Struct, Transformation, Validator, Value,
};

/// What happens to deletes and tombstones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeleteHandling {
    Drop,
    Tombstone,
    Rewrite,
    RewriteWithTombstone,
    DeleteToTombstone,
    /// Legacy `delete.handling.mode=none`: the delete passes with a null value.
    PassNull {
        keep_tombstones: bool,
    },
}

impl DeleteHandling {
    fn keeps_tombstones(self) -> bool {
        matches!(
            self,
            DeleteHandling::Tombstone
                | DeleteHandling::RewriteWithTombstone
                | DeleteHandling::PassNull {
                    keep_tombstones: true
                }
        )
    }

    fn rewrites(self) -> bool {
        matches!(
            self,
            DeleteHandling::Rewrite | DeleteHandling::RewriteWithTombstone
        )
    }
}

fn config_def() -> ConfigDef {
    let modes = [
        "drop",
        "tombstone",
        "rewrite",
        "rewrite-with-tombstone",
        "delete-to-tombstone",
    ];
    ConfigDef::new()
        .define(
            ConfigKey::optional("delete.tombstone.handling.mode", ConfigType::String, "", "drop, tombstone, rewrite, rewrite-with-tombstone or delete-to-tombstone; unset: drop.tombstones and delete.handling.mode decide.")
                .validator(Validator::ValidString {
                    values: std::iter::once("").chain(modes).map(String::from).collect(),
                    case_insensitive: true,
                }),
        )
        .define(ConfigKey::optional("drop.tombstones", ConfigType::Boolean, "true", "Legacy: drop tombstones."))
        .define(
            ConfigKey::optional("delete.handling.mode", ConfigType::String, "drop", "Legacy: drop, rewrite or none.")
                .validator(Validator::ValidString {
                    values: ["drop", "rewrite", "none"].map(String::from).to_vec(),
                    case_insensitive: true,
                }),
        )
        .define(ConfigKey::optional("add.fields", ConfigType::List, "", "Envelope fields to add to the row (op, ts_ms, source.<field>, …)."))
        .define(ConfigKey::optional("add.fields.prefix", ConfigType::String, "__", "Prefix of added fields."))
        .define(ConfigKey::optional("add.headers", ConfigType::List, "", "Envelope fields to add as headers."))
        .define(ConfigKey::optional("add.headers.prefix", ConfigType::String, "__", "Prefix of added headers."))
}

/// Keys of Debezium's SMT that this one does not implement: refused, not ignored.
const UNSUPPORTED: &[&str] = &[
    "route.by.field",
    "drop.fields.header.name",
    "drop.fields.from.key",
    "drop.fields.keep.schema.compatible",
    "replace.null.with.default",
];

/// An envelope field to copy: `source.table` is `("source", Some("table"))`.
#[derive(Clone, Debug, PartialEq)]
struct AddedField {
    path: (String, Option<String>),
    name: String,
}

fn added_fields(spec: &[String], prefix: &str) -> Vec<AddedField> {
    spec.iter()
        .map(|f| {
            let path = match f.split_once('.') {
                Some((outer, inner)) => (outer.to_string(), Some(inner.to_string())),
                None => (f.clone(), None),
            };
            AddedField {
                path,
                name: format!("{prefix}{}", f.replace('.', "_")),
            }
        })
        .collect()
}

/// `transforms.x.type=io.debezium.transforms.ExtractNewRecordState`.
#[derive(Debug)]
pub struct ExtractNewRecordState {
    handling: DeleteHandling,
    fields: Vec<AddedField>,
    headers: Vec<AddedField>,
    /// Envelope schema → row schema with the added fields.
    cache: Vec<(SchemaRef, SchemaRef)>,
}

impl Default for ExtractNewRecordState {
    fn default() -> Self {
        ExtractNewRecordState {
            handling: DeleteHandling::Drop,
            fields: Vec::new(),
            headers: Vec::new(),
            cache: Vec::new(),
        }
    }
}

impl PluginClass for ExtractNewRecordState {
    const CLASS: &'static str = "io.debezium.transforms.ExtractNewRecordState";
    const DOC: &'static str =
        "Replaces a Debezium change event by its row state (Debezium's unwrap SMT).";
}

fn lookup<'a>(
    envelope: &'a Struct,
    path: &(String, Option<String>),
) -> Option<(&'a SchemaRef, &'a Value)> {
    let outer = envelope.schema.field(&path.0)?;
    let value = &envelope.values[outer.index as usize];
    match &path.1 {
        None => Some((&outer.schema, value)),
        Some(inner) => match value {
            Value::Struct(s) => {
                let f = s.schema.field(inner)?;
                Some((&f.schema, &s.values[f.index as usize]))
            }
            _ => None,
        },
    }
}

impl ExtractNewRecordState {
    fn row_schema(&mut self, envelope: &Struct, row: &SchemaRef) -> SchemaRef {
        if self.fields.is_empty() && !self.handling.rewrites() {
            return row.clone();
        }
        if let Some((_, cached)) = self.cache.iter().find(|(e, _)| {
            std::ptr::eq::<kconnect_plugin_api::Schema>(&**e, &*envelope.schema)
                || **e == *envelope.schema
        }) {
            return cached.clone();
        }
        let mut builder = SchemaBuilder::struct_().optional();
        if let Some(name) = row.name() {
            builder = builder.name(name);
        }
        for field in row.fields.iter() {
            builder = builder.field(&field.name, field.schema.clone());
        }
        for added in &self.fields {
            if let Some((schema, _)) = lookup(envelope, &added.path) {
                let mut optional = (**schema).clone();
                optional.optional = true;
                builder = builder.field(&added.name, SchemaRef::new(optional));
            }
        }
        if self.handling.rewrites() {
            builder = builder.field(
                "__deleted",
                SchemaRef::new(kconnect_plugin_api::Schema::optional_primitive(
                    kconnect_plugin_api::SchemaType::String,
                )),
            );
        }
        let schema = builder.build_ref();
        self.cache.push((envelope.schema.clone(), schema.clone()));
        schema
    }
}

impl Transformation for ExtractNewRecordState {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: Config) -> ConnectResult<()> {
        if let Some(key) = UNSUPPORTED.iter().find(|k| config.contains_key(**k)) {
            return Err(ConnectError::config(format!(
                "ExtractNewRecordState: {key} is not supported by kconnect's implementation; remove it"
            )));
        }
        let p = config_def().parse(&config).map_err(ConnectError::config)?;
        self.handling = match p
            .string("delete.tombstone.handling.mode")
            .to_ascii_lowercase()
            .as_str()
        {
            "drop" => DeleteHandling::Drop,
            "tombstone" => DeleteHandling::Tombstone,
            "rewrite" => DeleteHandling::Rewrite,
            "rewrite-with-tombstone" => DeleteHandling::RewriteWithTombstone,
            "delete-to-tombstone" => DeleteHandling::DeleteToTombstone,
            _ => {
                let keep_tombstones = !p.boolean("drop.tombstones");
                match (
                    p.string("delete.handling.mode")
                        .to_ascii_lowercase()
                        .as_str(),
                    keep_tombstones,
                ) {
                    ("rewrite", false) => DeleteHandling::Rewrite,
                    ("rewrite", true) => DeleteHandling::RewriteWithTombstone,
                    ("none", keep) => DeleteHandling::PassNull {
                        keep_tombstones: keep,
                    },
                    (_, false) => DeleteHandling::Drop,
                    (_, true) => DeleteHandling::Tombstone,
                }
            }
        };
        self.fields = added_fields(p.list("add.fields"), p.string("add.fields.prefix"));
        self.headers = added_fields(p.list("add.headers"), p.string("add.headers.prefix"));
        self.cache.clear();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> ConnectResult<Option<ConnectRecord>> {
        let envelope = match &record.value {
            Value::Null => {
                return Ok(self.handling.keeps_tombstones().then_some(record));
            }
            Value::Struct(s)
                if s.schema.field("op").is_some() && s.schema.field("after").is_some() =>
            {
                s.clone()
            }
            _ => return Ok(Some(record)),
        };
        let op = envelope.get("op").and_then(Value::as_str).unwrap_or("");
        let is_delete = op == "d";
        for added in &self.headers {
            if let Some((schema, value)) = lookup(&envelope, &added.path) {
                record.headers.push(Header::new(
                    &added.name,
                    Some(schema.clone()),
                    value.clone(),
                ));
            }
        }
        let state_field = if is_delete { "before" } else { "after" };
        if is_delete {
            match self.handling {
                DeleteHandling::Drop => return Ok(None),
                DeleteHandling::Tombstone
                | DeleteHandling::DeleteToTombstone
                | DeleteHandling::PassNull { .. } => {
                    record.value = Value::Null;
                    record.value_schema = None.into();
                    return Ok(Some(record));
                }
                DeleteHandling::Rewrite | DeleteHandling::RewriteWithTombstone => {}
            }
        }
        let Some(row_field) = envelope.schema.field(state_field) else {
            return Ok(Some(record));
        };
        let row_schema = row_field.schema.clone();
        let row = envelope.values[row_field.index as usize].clone();
        let schema = self.row_schema(&envelope, &row_schema);
        if self.fields.is_empty() && !self.handling.rewrites() {
            record.value_schema = Some(schema).into();
            record.value = row;
            return Ok(Some(record));
        }
        let mut values = Struct::values_for(schema.fields.len());
        match row {
            Value::Struct(s) => values.extend(s.values),
            _ => values.extend(row_schema.fields.iter().map(|_| Value::Null)),
        }
        for added in &self.fields {
            if let Some((_, value)) = lookup(&envelope, &added.path) {
                values.push(value.clone());
            }
        }
        if self.handling.rewrites() {
            values.push(Value::from(if is_delete { "true" } else { "false" }));
        }
        record.value = Value::Struct(Struct {
            schema: schema.clone(),
            values,
        });
        record.value_schema = Some(schema).into();
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pgoutput::ColumnValue;
    use crate::records::{
        source_schema, ChangeSource, ColumnDefinition, Operation, RecordBuilder, SnapshotMarker,
        TableSchema,
    };
    use crate::types::{oid, CatalogType, TypeSettings};
    use kconnect_plugin_api::testkit::config_from;
    use kconnect_plugin_api::SourceMap;

    fn events(op: Operation) -> Vec<ConnectRecord> {
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
        let table = TableSchema::new(
            "p",
            "public",
            "t",
            &columns,
            &|_| true,
            &TypeSettings::default(),
            &source_schema(),
        );
        let row = vec![ColumnValue::Text("1".into()), ColumnValue::Text("a".into())];
        let at = ChangeSource {
            ts_us: 5_000,
            tx_id: Some(1),
            lsn: Some(2),
            sequence: None,
            snapshot: SnapshotMarker::False,
            offset: SourceMap::new(),
            processed_us: 0,
        };
        let mut out = Vec::new();
        let (before, after) = if op == Operation::Delete {
            (Some(&row), None)
        } else {
            (None, Some(&row))
        };
        RecordBuilder::new("p", "db", true)
            .change(&table, op, before, after, &at, &mut out)
            .unwrap();
        out.into_iter().map(|r| r.record).collect()
    }

    fn unwrap_with(pairs: &[(&str, &str)]) -> ExtractNewRecordState {
        let mut t = ExtractNewRecordState::default();
        t.configure(config_from(pairs.iter().copied())).unwrap();
        t
    }

    #[test]
    fn a_create_becomes_its_row() {
        let mut t = unwrap_with(&[]);
        let out = t
            .apply(events(Operation::Create).remove(0))
            .unwrap()
            .unwrap();
        assert_eq!(out.value_schema().unwrap().name(), Some("p.public.t.Value"));
        let Value::Struct(s) = &out.value else {
            panic!()
        };
        assert_eq!(s.get("name"), Some(&Value::from("a")));
    }

    #[test]
    fn by_default_deletes_and_tombstones_are_dropped() {
        let mut t = unwrap_with(&[]);
        let mut deletes = events(Operation::Delete);
        assert_eq!(deletes.len(), 2);
        assert!(t.apply(deletes.remove(0)).unwrap().is_none());
        assert!(t.apply(deletes.remove(0)).unwrap().is_none());
    }

    #[test]
    fn rewrite_marks_deletes_and_adds_fields() {
        let mut t = unwrap_with(&[
            ("delete.tombstone.handling.mode", "rewrite"),
            ("add.fields", "op,source.table,ts_ms"),
        ]);
        let mut deletes = events(Operation::Delete);
        let out = t.apply(deletes.remove(0)).unwrap().unwrap();
        let Value::Struct(s) = &out.value else {
            panic!()
        };
        assert_eq!(s.get("id"), Some(&Value::Int32(1)));
        assert_eq!(s.get("__op"), Some(&Value::from("d")));
        assert_eq!(s.get("__source_table"), Some(&Value::from("t")));
        assert_eq!(s.get("__deleted"), Some(&Value::from("true")));
        s.validate().unwrap();
        assert!(
            t.apply(deletes.remove(0)).unwrap().is_none(),
            "rewrite drops tombstones"
        );
        let create = t
            .apply(events(Operation::Create).remove(0))
            .unwrap()
            .unwrap();
        let Value::Struct(c) = &create.value else {
            panic!()
        };
        assert_eq!(c.get("__deleted"), Some(&Value::from("false")));
    }

    #[test]
    fn legacy_keys_keep_tombstones_and_turn_deletes_into_nulls() {
        let mut t = unwrap_with(&[
            ("drop.tombstones", "false"),
            ("delete.handling.mode", "none"),
        ]);
        let deletes = events(Operation::Delete);
        let out: Vec<_> = deletes.into_iter().map(|r| t.apply(r).unwrap()).collect();
        assert!(out
            .iter()
            .all(|r| r.as_ref().is_some_and(|r| r.value.is_null())));
    }

    #[test]
    fn unsupported_keys_are_refused_by_name() {
        let mut t = ExtractNewRecordState::default();
        let err = t
            .configure(config_from([("route.by.field", "x")]))
            .unwrap_err();
        assert!(err.to_string().contains("route.by.field"));
    }

    #[test]
    fn non_envelope_records_pass() {
        let mut t = unwrap_with(&[]);
        let r = ConnectRecord::new("x", None, Value::from("plain"));
        assert_eq!(t.apply(r.clone()).unwrap(), Some(r));
    }
}
