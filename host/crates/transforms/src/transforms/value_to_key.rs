//! `ValueToKey`: replaces the key by a struct (or map) of some value fields. As in Kafka, the
//! record's partition is cleared so the producer partitions by the new key.

use super::prelude::*;
use crate::util::as_java_hash_map;
use kconnect_convert::HashMapOrigin;

pub(crate) const DOC: &str =
    "Replace the record key with a new key formed from a subset of fields in the record value.";

const PURPOSE: &str = "copying fields from value to key";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::required(
            "fields",
            ConfigType::List,
            "Field names on the record value to extract as the record key.",
        )
        .importance(Importance::High)
        .non_empty_list(),
        replace_null_with_default_spec(),
    ]
}

pub(crate) fn configure(settings: &Settings) -> Result<Box<dyn Transformation>, TransformError> {
    Ok(Box::new(ValueToKey {
        fields: settings.list("fields")?,
        replace_null: settings.boolean("replace.null.with.default")?,
        schemas: SchemaCache::new(),
    }))
}

struct ValueToKey {
    fields: Vec<String>,
    replace_null: bool,
    schemas: SchemaCache<(SchemaRef, Vec<usize>)>,
}

impl Transformation for ValueToKey {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let (key_schema, key) = match (record.value_schema(), &record.value) {
            (None, value) => {
                let Value::Map(entries) = value else {
                    return Err(not_a_map(value, PURPOSE));
                };
                let mut key = RVec::new();
                for field in &self.fields {
                    let v = map_get(entries, field).cloned().unwrap_or_default();
                    map_put(&mut key, field, v);
                }
                as_java_hash_map(&mut key, HashMapOrigin::WithCapacity(self.fields.len()));
                (None, Value::Map(key))
            }
            (Some(_), Value::Struct(value)) => {
                let fields = &self.fields;
                let (schema, indices) = self.schemas.get_or_build(&value.schema, |s| {
                    let mut key = SchemaBuilder::struct_().build();
                    let mut indices = Vec::new();
                    for name in fields {
                        let field = s.field(name).ok_or_else(|| {
                            TransformError::data(format!("Field does not exist: {name}"))
                        })?;
                        push_field(&mut key, name, field.schema.clone());
                        indices.push(field.index as usize);
                    }
                    Ok::<_, TransformError>((SchemaRef::new(key), indices))
                })?;
                let values: RVec<Value> = indices
                    .iter()
                    .map(|i| {
                        resolve_default(
                            value.values[*i].clone(),
                            &value.schema.fields[*i].schema,
                            self.replace_null,
                        )
                    })
                    .collect();
                (
                    Some(schema.clone()),
                    Value::Struct(Struct {
                        schema: schema.clone(),
                        values,
                    }),
                )
            }
            (Some(_), other) => return Err(not_a_struct(other, PURPOSE)),
        };
        record.kafka_partition = ROption::RNone;
        record.key_schema = key_schema.into();
        record.key = key;
        Ok(Verdict::Keep)
    }
}
