//! Kafka's `org.apache.kafka.connect.json.JsonConverter`.
//!
//! With `schemas.enable=true` (the default) every value is written as
//! `{"schema":<schema or null>,"payload":<value>}`; without it, the bare value. A null value without a
//! schema is a Kafka null; a null with a schema is written (as its default, or `null`). Reading
//! infers a schemaless value when there is no schema: objects become string-keyed maps (in
//! document order, where Kafka's `HashMap` has none), integral numbers INT64, others FLOAT64.
//!
//! Known differences from Kafka, all on malformed input: a JSON value of the wrong kind for its
//! schema is an error where Kafka silently yields `0`/`null`/an empty list; an absurdly deep
//! Connect value is not guarded against; a map holding the same key twice is written with both.

mod cache;
mod parser;
mod read;
mod write;

use crate::registry::{converter_type_key, parse_config};
use crate::{ConvertError, Converter};
use cache::{SchemaJsonCache, SchemaParseCache};
use kconnect_plugin_api::config::Width;
use kconnect_plugin_api::{
    ConfigDef, ConfigKey, ConfigType, Importance, SchemaRef, Validator, Value,
};
use std::collections::BTreeMap;

const SCHEMAS_ENABLE: &str = "schemas.enable";
const SCHEMAS_CACHE_SIZE: &str = "schemas.cache.size";
const DECIMAL_FORMAT: &str = "decimal.format";
const REPLACE_NULL_WITH_DEFAULT: &str = "replace.null.with.default";

/// How values are written; fixed by `configure`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WriteOptions {
    /// `decimal.format=NUMERIC`: decimals as JSON numbers instead of base64 bytes.
    pub decimal_numeric: bool,
    pub replace_null_with_default: bool,
    /// How many containers enclose the value being written.
    pub depth: usize,
}

impl WriteOptions {
    /// The options for the contents of a container, if nesting may go one level deeper.
    pub(crate) fn nested(&self) -> Result<WriteOptions, ConvertError> {
        if self.depth >= crate::MAX_NESTING {
            return Err(ConvertError::data(format!(
                "Value nesting exceeds the maximum depth ({})",
                crate::MAX_NESTING
            )));
        }
        Ok(WriteOptions {
            depth: self.depth + 1,
            ..*self
        })
    }
}

/// Kafka's `JsonConverter`; also a header converter, as in Kafka.
pub struct JsonConverter {
    schemas_enable: bool,
    options: WriteOptions,
    schema_json: SchemaJsonCache,
    parsed_schemas: SchemaParseCache,
}

impl Default for JsonConverter {
    /// Kafka's defaults: schemas enabled, base64 decimals, nulls replaced by defaults.
    fn default() -> Self {
        JsonConverter {
            schemas_enable: true,
            options: WriteOptions {
                decimal_numeric: false,
                replace_null_with_default: true,
                depth: 0,
            },
            schema_json: SchemaJsonCache::new(1000),
            parsed_schemas: SchemaParseCache::new(1000),
        }
    }
}

impl JsonConverter {
    /// Kafka's `JsonConverterConfig` definition.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new()
            .define(converter_type_key())
            .define(
                ConfigKey::optional(
                    SCHEMAS_ENABLE,
                    ConfigType::Boolean,
                    "true",
                    "Include schemas within each of the serialized values and keys.",
                )
                .importance(Importance::High)
                .group("Schemas", 0)
                .width(Width::Medium)
                .display_name("Enable Schemas"),
            )
            .define(
                ConfigKey::optional(
                    SCHEMAS_CACHE_SIZE,
                    ConfigType::Int,
                    "1000",
                    "The maximum number of schemas that can be cached in this converter instance.",
                )
                .importance(Importance::High)
                .group("Schemas", 1)
                .width(Width::Medium)
                .display_name("Schema Cache Size"),
            )
            .define(
                ConfigKey::optional(
                    DECIMAL_FORMAT,
                    ConfigType::String,
                    "BASE64",
                    "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
                )
                .importance(Importance::Low)
                .validator(Validator::ValidString {
                    values: vec!["BASE64".to_string(), "NUMERIC".to_string()],
                    case_insensitive: true,
                })
                .group("Serialization", 0)
                .width(Width::Medium)
                .display_name("Decimal Format"),
            )
            .define(
                ConfigKey::optional(
                    REPLACE_NULL_WITH_DEFAULT,
                    ConfigType::Boolean,
                    "true",
                    "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
                )
                .importance(Importance::Low)
                .group("Serialization", 1)
                .width(Width::Medium)
                .display_name("Replace null with default"),
            )
    }

    fn apply_config(
        &mut self,
        config: &BTreeMap<String, String>,
        converter_type: &str,
    ) -> Result<(), ConvertError> {
        let parsed = parse_config(&Self::config_def(), config, converter_type)?;
        let cache_size = parsed.int(SCHEMAS_CACHE_SIZE).max(0) as usize;
        self.schemas_enable = parsed.boolean(SCHEMAS_ENABLE);
        self.options = WriteOptions {
            decimal_numeric: parsed
                .string(DECIMAL_FORMAT)
                .eq_ignore_ascii_case("NUMERIC"),
            replace_null_with_default: parsed.boolean(REPLACE_NULL_WITH_DEFAULT),
            depth: 0,
        };
        self.schema_json = SchemaJsonCache::new(cache_size);
        self.parsed_schemas = SchemaParseCache::new(cache_size);
        Ok(())
    }

    /// Kafka's `asJsonSchema` as text: the schema as this converter writes it in an envelope.
    pub fn schema_to_json(&mut self, schema: &SchemaRef) -> Result<Vec<u8>, ConvertError> {
        let mut out = Vec::new();
        let options = self.options;
        self.schema_json.write(&mut out, schema, |out, s| {
            write::write_schema(out, s, &options)
        })?;
        Ok(out)
    }

    /// Kafka's `asConnectSchema` from JSON text; `None` for `null`.
    pub fn schema_from_json(&mut self, json: &[u8]) -> Result<Option<SchemaRef>, ConvertError> {
        let document = parser::parse(json).map_err(ConvertError::Data)?;
        match document.root {
            Some(root) => read::parse_schema(&root, self.options.replace_null_with_default),
            None => Err(ConvertError::data("Schema must contain 'type' field")),
        }
    }
}

impl Converter for JsonConverter {
    fn configure(
        &mut self,
        config: &BTreeMap<String, String>,
        is_key: bool,
    ) -> Result<(), ConvertError> {
        self.apply_config(config, if is_key { "key" } else { "value" })
    }

    fn from_connect_into(
        &mut self,
        _topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, ConvertError> {
        if schema.is_none() && value.is_null() {
            return Ok(false);
        }
        let options = self.options;
        if self.schemas_enable {
            out.extend_from_slice(b"{\"schema\":");
            match schema {
                Some(schema) => self
                    .schema_json
                    .write(out, schema, |out, s| write::write_schema(out, s, &options))?,
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"payload\":");
            write::write_value(out, schema.map(|s| &**s), value, &options)?;
            out.push(b'}');
        } else {
            write::write_value(out, schema.map(|s| &**s), value, &options)?;
        }
        Ok(true)
    }

    fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        let Some(bytes) = bytes else {
            return Ok((None, Value::Null));
        };
        // The schema text is usually the same from record to record: it is only delimited here and
        // parsed when the cache does not know it.
        let lazy_member = self.schemas_enable.then_some("schema");
        let document = parser::parse_with_lazy_member(bytes, lazy_member)
            .map_err(|detail| ConvertError::deserialization(topic, detail))?;
        let replace = self.options.replace_null_with_default;
        if !self.schemas_enable {
            let value = match &document.root {
                Some(root) => read::to_connect(None, Some(root), replace)?,
                None => Value::Null,
            };
            return Ok((None, value));
        }
        let members = match &document.root {
            Some(parser::Node::Object(members)) => members.as_slice(),
            _ => &[],
        };
        let schema_at = members.iter().position(|(k, _)| k == "schema");
        // The delimited schema text must be checked as JSON before anything else is reported,
        // unless the cache knows it (then it was checked before).
        let schema_text = schema_at.map(|i| &bytes[document.root_member_spans[i].clone()]);
        let mut cached = None;
        let mut parsed_schema_text = None;
        if let Some(text) = schema_text {
            cached = self.parsed_schemas.get(text);
            if cached.is_none() {
                // The schema sits inside the envelope object.
                let schema_document = parser::parse_enclosed(text, 1)
                    .map_err(|detail| ConvertError::deserialization(topic, detail))?;
                parsed_schema_text = schema_document.root;
            }
        }
        let payload_at = members.iter().position(|(k, _)| k == "payload");
        let (Some(_), Some(payload_at), 2) = (schema_at, payload_at, members.len()) else {
            return Err(ConvertError::data(
                "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.",
            ));
        };
        let schema = match (cached, parsed_schema_text, schema_text) {
            (Some(schema), _, _) => Some(schema),
            (None, Some(node), Some(text)) => {
                let schema = read::parse_schema(&node, replace)?;
                if let Some(schema) = &schema {
                    self.parsed_schemas.insert(text, schema);
                }
                schema
            }
            _ => return Err(ConvertError::data("Schema must contain 'type' field")),
        };
        let value = read::to_connect(schema.as_ref(), Some(&members[payload_at].1), replace)?;
        Ok((schema, value))
    }
}

header_via_converter!(JsonConverter, |converter, config| converter
    .apply_config(config, "header"));

/// Connect's logical types as this converter needs them.
pub(crate) mod logical {
    use crate::ConvertError;
    use kconnect_plugin_api::data::DECIMAL_SCALE_PARAMETER;
    use kconnect_plugin_api::Schema;

    /// The `scale` parameter of a Decimal schema.
    pub(crate) fn decimal_scale(schema: &Schema) -> Result<i32, ConvertError> {
        let raw = schema.parameter(DECIMAL_SCALE_PARAMETER).ok_or_else(|| {
            ConvertError::data("Invalid Decimal schema: scale parameter not found.")
        })?;
        raw.trim().parse::<i32>().map_err(|_| {
            ConvertError::data(format!(
                "Invalid Decimal schema: scale parameter {raw:?} is not an integer."
            ))
        })
    }
}
