//! `Flatten$Key` / `Flatten$Value`: lifts nested struct (or map) fields to the top level, naming
//! them `parent<delimiter>child`. Arrays (and, with a schema, maps) are kept as they are. A
//! flattened field is optional when any ancestor is, and inherits a default from an ancestor's.

use super::prelude::*;

pub(crate) const DOC: &str = "Flatten a nested data structure, generating names for each field by concatenating the field names at each level with a configurable delimiter character. Applies to Struct when schema present, or a Map in the case of schemaless data. Array fields and their contents are not modified. The default delimiter is '.'.";

const PURPOSE: &str = "flattening";

pub(crate) fn specs() -> Vec<Spec> {
    vec![Spec::with_default(
        "delimiter",
        ConfigType::String,
        ".",
        "Delimiter to insert between field names from the input record when generating field names for the output record",
    )]
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    Ok(Box::new(Flatten {
        side,
        delimiter: settings.string("delimiter")?,
        schemas: SchemaCache::new(),
    }))
}

struct Flatten {
    side: Side,
    delimiter: String,
    schemas: SchemaCache<SchemaRef>,
}

impl Flatten {
    fn name(&self, prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}{}{field}", self.delimiter)
        }
    }

    fn flatten_schema(&self, schema: &Schema) -> Result<SchemaRef, TransformError> {
        let mut flat = copy_schema_basics(schema, SchemaType::Struct);
        let default = match schema.default_value() {
            Some(Value::Struct(s)) => Some(s),
            _ => None,
        };
        self.flatten_fields(schema, "", &mut flat, schema.optional, default)?;
        Ok(SchemaRef::new(flat))
    }

    fn flatten_fields(
        &self,
        schema: &Schema,
        prefix: &str,
        flat: &mut Schema,
        optional: bool,
        default_from_parent: Option<&Struct>,
    ) -> Result<(), TransformError> {
        for field in schema.fields.iter() {
            let name = self.name(prefix, &field.name);
            let field_optional = optional || field.schema.optional;
            let field_default = field.schema.default_value().cloned().or_else(|| {
                default_from_parent.map(|parent| {
                    resolve_default(
                        parent.values[field.index as usize].clone(),
                        &field.schema,
                        true,
                    )
                })
            });
            let field_default = field_default.filter(|d| !d.is_null());
            if field.schema.schema_type == SchemaType::Struct {
                let nested_default = match &field_default {
                    Some(Value::Struct(s)) => Some(s),
                    _ => None,
                };
                self.flatten_fields(&field.schema, &name, flat, field_optional, nested_default)?;
                continue;
            }
            if flat.field(&name).is_some() {
                return Err(TransformError::data(format!(
                    "Cannot create field because of field name duplication {name}"
                )));
            }
            let mut converted = copy_schema_basics_same_type(&field.schema);
            converted.optional = field_optional;
            if let Some(default) = field_default {
                converted.default_value = ROption::RSome(RBox::new(default));
            }
            push_field(flat, &name, SchemaRef::new(converted));
        }
        Ok(())
    }

    /// Appends the leaf values of `value` in schema order (nulls under a null struct).
    fn flatten_values(schema: &Schema, value: Option<Struct>, out: &mut Vec<Value>) {
        let mut values = value.map(|v| v.values.into_vec());
        for field in schema.fields.iter() {
            let field_value = values
                .as_mut()
                .map(|v| std::mem::take(&mut v[field.index as usize]))
                .map(|v| resolve_default(v, &field.schema, true))
                .unwrap_or_default();
            if field.schema.schema_type == SchemaType::Struct {
                let nested = match field_value {
                    Value::Struct(s) => Some(s),
                    _ => None,
                };
                Self::flatten_values(&field.schema, nested, out);
            } else {
                out.push(field_value);
            }
        }
    }

    fn flatten_map(
        &self,
        entries: RVec<Tuple2<Value, Value>>,
        prefix: &str,
        out: &mut RVec<Tuple2<Value, Value>>,
    ) -> Result<(), TransformError> {
        for Tuple2(key, value) in entries {
            let name = self.name(prefix, &map_key_string(&key));
            match value {
                Value::Map(nested) => self.flatten_map(nested, &name, out)?,
                Value::Struct(_) => {
                    return Err(TransformError::data(format!(
                        "Flatten transformation does not support class {} for record without schemas (for field {name}).",
                        java_class_name(&value)
                    )))
                }
                other => map_put(out, &name, other),
            }
        }
        Ok(())
    }
}

impl Transformation for Flatten {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let (schema, value) = self.side.take(record);
        let (schema, value) = match schema {
            None => match value {
                Value::Null => (None, Value::Null),
                Value::Map(entries) => {
                    let mut out = RVec::new();
                    self.flatten_map(entries, "", &mut out)?;
                    (None, Value::Map(out))
                }
                other => return Err(not_a_map(&other, PURPOSE)),
            },
            Some(schema) => {
                if schema.schema_type != SchemaType::Struct {
                    return Err(not_a_struct(&value, PURPOSE));
                }
                let flat = {
                    let mut cache = std::mem::replace(&mut self.schemas, SchemaCache::new());
                    let flat = cache
                        .get_or_build(&schema, |s| self.flatten_schema(s))
                        .cloned();
                    self.schemas = cache;
                    flat?
                };
                let value = match value {
                    Value::Null => Value::Null,
                    Value::Struct(s) => {
                        let mut values = Vec::with_capacity(flat.fields.len());
                        Self::flatten_values(&schema, Some(s), &mut values);
                        Value::Struct(Struct {
                            schema: flat.clone(),
                            values: values.into(),
                        })
                    }
                    other => return Err(not_a_struct(&other, PURPOSE)),
                };
                (Some(flat), value)
            }
        };
        self.side.put(record, schema, value);
        Ok(Verdict::Keep)
    }
}
