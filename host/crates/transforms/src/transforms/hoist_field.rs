//! `HoistField$Key` / `HoistField$Value`: wraps the key or value in a struct (or map) of one field.

use super::prelude::*;

pub(crate) const DOC: &str = "Wrap data using the specified field name in a Struct when schema present, or a Map in the case of schemaless data.";

pub(crate) fn specs() -> Vec<Spec> {
    vec![Spec::required(
        "field",
        ConfigType::String,
        "Field name for the single field that will be created in the resulting Struct or Map.",
    )]
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    Ok(Box::new(HoistField {
        side,
        field: settings.string("field")?,
        schemas: SchemaCache::new(),
    }))
}

struct HoistField {
    side: Side,
    field: String,
    schemas: SchemaCache<SchemaRef>,
}

impl Transformation for HoistField {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let (schema, value) = self.side.take(record);
        let (schema, value) = match schema {
            None => (
                None,
                Value::Map(vec![Tuple2(Value::String(self.field.as_str().into()), value)].into()),
            ),
            Some(schema) => {
                if value.is_null() && !schema.optional && schema.default_value().is_none() {
                    return Err(TransformError::data(format!(
                        "Invalid value: null used for required field: \"{}\", schema type: {}",
                        self.field,
                        schema.schema_type.upper_name()
                    )));
                }
                let field = &self.field;
                let hoisted = self
                    .schemas
                    .get_or_build(&schema, |s| {
                        Ok::<_, TransformError>(
                            SchemaBuilder::struct_().field(field, s.clone()).build_ref(),
                        )
                    })?
                    .clone();
                let value = Value::Struct(Struct {
                    schema: hoisted.clone(),
                    values: vec![value].into(),
                });
                (Some(hoisted), value)
            }
        };
        self.side.put(record, schema, value);
        Ok(Verdict::Keep)
    }
}
