//! `HeaderFrom$Key` / `HeaderFrom$Value`: moves or copies fields into headers (appended after the
//! existing ones, with the field's schema).

use super::prelude::*;
use crate::util::as_java_hash_map;
use kconnect_convert::HashMapOrigin;
use std::sync::Arc;

pub(crate) const DOC: &str = "Moves or copies fields in the key/value of a record into that record's headers. Corresponding elements of fields and headers together identify a field and the header it should be moved or copied to.";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::required(
            "fields",
            ConfigType::List,
            "Field names in the record whose values are to be copied or moved to headers.",
        )
        .importance(Importance::High)
        .non_empty_list(),
        Spec::required(
            "headers",
            ConfigType::List,
            "Header names, in the same order as the field names listed in the fields configuration property.",
        )
        .importance(Importance::High)
        .non_empty_list(),
        Spec::required(
            "operation",
            ConfigType::String,
            "Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value).",
        )
        .importance(Importance::High)
        .validator(Validator::ValidString {
            values: vec!["move".into(), "copy".into()],
            case_insensitive: false,
        }),
        replace_null_with_default_spec(),
    ]
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    let fields = settings.list("fields")?;
    let headers = settings.list("headers")?;
    if fields.len() != headers.len() {
        return Err(settings.error(
            "headers",
            "'fields' config must have the same number of elements as 'headers' config.",
        ));
    }
    let operation = settings.string("operation")?;
    Ok(Box::new(HeaderFrom {
        side,
        fields,
        headers,
        purpose: format!("header {operation}"),
        is_move: operation == "move",
        replace_null: settings.boolean("replace.null.with.default")?,
        plans: SchemaCache::new(),
    }))
}

/// For a schema: each listed field's index, and the schema left after a move with the indices
/// of the fields it keeps.
struct Plan {
    field_indices: Vec<usize>,
    moved_schema: SchemaRef,
    kept_indices: Vec<usize>,
}

struct HeaderFrom {
    side: Side,
    fields: Vec<String>,
    headers: Vec<String>,
    purpose: String,
    is_move: bool,
    replace_null: bool,
    plans: SchemaCache<Arc<Plan>>,
}

impl HeaderFrom {
    fn plan(&self, schema: &Schema) -> Result<Plan, TransformError> {
        let field_indices =
            self.fields
                .iter()
                .map(|name| {
                    schema.field(name).map(|f| f.index as usize).ok_or_else(|| {
                        TransformError::data(format!("Field does not exist: {name}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
        let mut moved = copy_schema_basics(schema, SchemaType::Struct);
        let mut kept_indices = Vec::new();
        for field in schema.fields.iter() {
            if !self.fields.iter().any(|f| *f == *field.name) {
                push_field(&mut moved, &field.name, field.schema.clone());
                kept_indices.push(field.index as usize);
            }
        }
        Ok(Plan {
            field_indices,
            moved_schema: SchemaRef::new(moved),
            kept_indices,
        })
    }
}

impl Transformation for HeaderFrom {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let (schema, value) = self.side.take(record);
        let (schema, value) = match schema {
            None => {
                let mut entries = require_map(value, &self.purpose)?;
                let copied = HashMapOrigin::CopyOf(entries.len());
                for (field, header) in self.fields.iter().zip(&self.headers) {
                    let field_value = if self.is_move {
                        map_remove(&mut entries, field)
                    } else {
                        map_get(&entries, field).cloned()
                    };
                    record
                        .headers
                        .push(Header::new(header, None, field_value.unwrap_or_default()));
                }
                as_java_hash_map(&mut entries, copied);
                (None, Value::Map(entries))
            }
            Some(schema) => {
                let value = require_struct(value, &self.purpose)?;
                let plan = {
                    let mut plans = std::mem::replace(&mut self.plans, SchemaCache::new());
                    let plan = plans
                        .get_or_build(&schema, |s| self.plan(s).map(Arc::new))
                        .cloned();
                    self.plans = plans;
                    plan?
                };
                for (index, header) in plan.field_indices.iter().zip(&self.headers) {
                    let field = &schema.fields[*index];
                    let field_value = resolve_default(
                        value.values[*index].clone(),
                        &field.schema,
                        self.replace_null,
                    );
                    record.headers.push(Header::new(
                        header,
                        Some(field.schema.clone()),
                        field_value,
                    ));
                }
                if self.is_move {
                    let (_, mut values) = take_values(value, self.replace_null);
                    let kept: Vec<Value> = plan
                        .kept_indices
                        .iter()
                        .map(|i| std::mem::take(&mut values[*i]))
                        .collect();
                    let moved = Struct {
                        schema: plan.moved_schema.clone(),
                        values: kept.into(),
                    };
                    (Some(plan.moved_schema.clone()), Value::Struct(moved))
                } else {
                    (Some(schema), Value::Struct(value))
                }
            }
        };
        self.side.put(record, schema, value);
        Ok(Verdict::Keep)
    }
}
