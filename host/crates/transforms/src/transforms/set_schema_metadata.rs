//! `SetSchemaMetadata$Key` / `SetSchemaMetadata$Value`: sets the schema's name and/or version
//! (a schema is required); a struct value is re-pointed at the updated schema.

use super::prelude::*;

pub(crate) const DOC: &str =
    "Set the schema name, version or both on the record's key or value schema.";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::nullable("schema.name", ConfigType::String, "Schema name to set.")
            .importance(Importance::High),
        Spec::nullable("schema.version", ConfigType::Int, "Schema version to set.")
            .importance(Importance::High),
        replace_null_with_default_spec(),
    ]
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    let name = settings.nullable_string("schema.name")?;
    let version = settings.nullable_int("schema.version")?.map(|v| v as i32);
    if name.is_none() && version.is_none() {
        return Err(TransformError::config_general(
            "Neither schema name nor version configured",
        ));
    }
    Ok(Box::new(SetSchemaMetadata {
        side,
        name,
        version,
        replace_null: settings.boolean("replace.null.with.default")?,
        schemas: SchemaCache::new(),
    }))
}

struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
    replace_null: bool,
    schemas: SchemaCache<SchemaRef>,
}

impl Transformation for SetSchemaMetadata {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let (schema, value) = self.side.take(record);
        let schema = schema.ok_or_else(|| {
            TransformError::data("Schema required for [updating schema metadata]")
        })?;
        let (name, version) = (&self.name, self.version);
        let updated = self
            .schemas
            .get_or_build(&schema, |s| {
                let mut updated = (**s).clone();
                if let Some(name) = name {
                    updated.name = ROption::RSome(name.as_str().into());
                }
                if let Some(version) = version {
                    updated.version = ROption::RSome(version);
                }
                Ok::<_, TransformError>(SchemaRef::new(updated))
            })?
            .clone();
        let value = match value {
            Value::Struct(s) => {
                let (_, values) = take_values(s, self.replace_null);
                Value::Struct(Struct {
                    schema: updated.clone(),
                    values,
                })
            }
            other => other,
        };
        self.side.put(record, Some(updated), value);
        Ok(Verdict::Keep)
    }
}
