//! Kafka's `org.apache.kafka.connect.storage.StringConverter`: writes any value's Java
//! `toString()` form as UTF-8, reads bytes back as an optional STRING.
//!
//! Only UTF-8 is supported for `converter.encoding`; other encodings are a configuration error.
//! Invalid UTF-8 read from Kafka is decoded with replacement characters, as Java decodes it.
//! BYTES values (where Java prints an identity hash like `[B@1b6d3586`) are written as base64.
//! Dates and times print as `java.util.Date.toString()` does in UTC.

use crate::bigint::BigDecimal;
use crate::java_format::{
    java_date_to_string, java_double_string, java_float_string, MILLIS_PER_DAY,
};
use crate::json::logical::decimal_scale;
use crate::registry::{converter_type_key, parse_config};
use crate::{ConvertError, Converter};
use base64::Engine;
use kconnect_plugin_api::config::Width;
use kconnect_plugin_api::data::{
    DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME, TIME_LOGICAL_NAME,
};
use kconnect_plugin_api::{
    ConfigDef, ConfigKey, ConfigType, Importance, Schema, SchemaRef, SchemaType, Value,
};
use std::collections::BTreeMap;

const ENCODING: &str = "converter.encoding";

/// Kafka's `StringConverter`; also a header converter, as in Kafka.
#[derive(Clone, Debug, Default)]
pub struct StringConverter;

impl StringConverter {
    /// Kafka's `StringConverterConfig` definition.
    pub fn config_def() -> ConfigDef {
        ConfigDef::new().define(converter_type_key()).define(
            ConfigKey::optional(
                ENCODING,
                ConfigType::String,
                "UTF-8",
                "The name of the Java character set to use for encoding strings as byte arrays.",
            )
            .importance(Importance::High)
            .width(Width::Medium)
            .display_name("Encoding"),
        )
    }

    fn apply_config(
        &mut self,
        config: &BTreeMap<String, String>,
        converter_type: &str,
    ) -> Result<(), ConvertError> {
        let parsed = parse_config(&Self::config_def(), config, converter_type)?;
        let encoding = parsed.string(ENCODING);
        let utf8 = ["UTF-8", "UTF8", "unicode-1-1-utf-8"]
            .iter()
            .any(|name| name.eq_ignore_ascii_case(encoding));
        if utf8 {
            Ok(())
        } else {
            Err(ConvertError::Config(format!(
                "Unsupported {ENCODING} '{encoding}': only UTF-8 is supported"
            )))
        }
    }
}

impl Converter for StringConverter {
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
        if let Value::String(s) = value {
            out.extend_from_slice(s.as_bytes());
            return Ok(true);
        }
        if value.is_null() {
            return Ok(false);
        }
        if !out.is_empty() {
            let mut text = String::new();
            push_java_to_string(&mut text, schema.map(|s| &**s), value, 0)?;
            out.extend_from_slice(text.as_bytes());
            return Ok(true);
        }
        // Written straight into `out`, whose capacity the caller reuses from record to record:
        // a fresh string would grow (reallocate) a few times per record.
        let mut text = String::from_utf8(std::mem::take(out)).unwrap_or_default();
        let written = push_java_to_string(&mut text, schema.map(|s| &**s), value, 0);
        *out = text.into_bytes();
        if written.is_err() {
            out.clear();
        }
        written.map(|()| true)
    }

    fn to_connect(
        &mut self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        let value = match bytes {
            Some(bytes) => Value::String(String::from_utf8_lossy(bytes).as_ref().into()),
            None => Value::Null,
        };
        Ok((
            Some(crate::numbers::optional_schema(SchemaType::String)),
            value,
        ))
    }
}

header_via_converter!(StringConverter, |converter, config| converter
    .apply_config(config, "header"));

/// Appends the Java `toString()` of the object Kafka holds for `value` (read with `schema`, when
/// it has one): what Kafka's StringConverter writes and its FileStreamSink prints. BYTES print
/// as base64 where Java prints an identity hash (`[B@1b6d3586`); nesting deeper than the
/// converters accept is an error.
pub fn push_java_text(
    out: &mut String,
    schema: Option<&Schema>,
    value: &Value,
) -> Result<(), ConvertError> {
    push_java_to_string(out, schema, value, 0)
}

/// Appends the Java `toString()` of the object Kafka would hold for `value`.
pub(crate) fn push_java_to_string(
    out: &mut String,
    schema: Option<&Schema>,
    value: &Value,
    depth: usize,
) -> Result<(), ConvertError> {
    let depth = depth + 1;
    if depth > crate::MAX_NESTING {
        return Err(ConvertError::data(format!(
            "Value nesting exceeds the maximum depth ({})",
            crate::MAX_NESTING
        )));
    }
    if let Some(schema) = schema {
        if push_logical(out, schema, value)? {
            return Ok(());
        }
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(v) => out.push_str(if *v { "true" } else { "false" }),
        Value::Int8(v) => out.push_str(itoa::Buffer::new().format(*v)),
        Value::Int16(v) => out.push_str(itoa::Buffer::new().format(*v)),
        Value::Int32(v) => out.push_str(itoa::Buffer::new().format(*v)),
        Value::Int64(v) => out.push_str(itoa::Buffer::new().format(*v)),
        Value::Float32(v) => out.push_str(&java_float_string(*v)),
        Value::Float64(v) => out.push_str(&java_double_string(*v)),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => out.push_str(&base64::engine::general_purpose::STANDARD.encode(b)),
        Value::Array(items) => {
            let element = schema.and_then(|s| s.value_schema()).map(|s| &**s);
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_java_to_string(out, element, item, depth)?;
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let key_schema = schema.and_then(|s| s.key_schema()).map(|s| &**s);
            let value_schema = schema.and_then(|s| s.value_schema()).map(|s| &**s);
            out.push('{');
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_java_to_string(out, key_schema, &entry.0, depth)?;
                out.push('=');
                push_java_to_string(out, value_schema, &entry.1, depth)?;
            }
            out.push('}');
        }
        Value::Struct(s) => {
            out.push_str("Struct{");
            let mut first = true;
            for field in s.schema.fields.iter() {
                let Some(field_value) = s.values.get(field.index as usize) else {
                    continue;
                };
                if field_value.is_null() {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&field.name);
                out.push('=');
                push_java_to_string(out, Some(&field.schema), field_value, depth)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Logical types print as the Java objects Kafka holds for them; false if `schema` is not one.
fn push_logical(out: &mut String, schema: &Schema, value: &Value) -> Result<bool, ConvertError> {
    match (schema.name(), value) {
        (Some(DECIMAL_LOGICAL_NAME), Value::Bytes(unscaled)) => {
            let scale = decimal_scale(schema)?;
            out.push_str(&BigDecimal::from_unscaled_bytes(unscaled, scale as i64).to_java_string());
        }
        (Some(DATE_LOGICAL_NAME), Value::Int32(days)) => {
            out.push_str(&java_date_to_string(*days as i64 * MILLIS_PER_DAY));
        }
        (Some(TIME_LOGICAL_NAME), Value::Int32(millis)) => {
            out.push_str(&java_date_to_string(*millis as i64));
        }
        (Some(TIMESTAMP_LOGICAL_NAME), Value::Int64(millis)) => {
            out.push_str(&java_date_to_string(*millis));
        }
        _ => return Ok(false),
    }
    Ok(true)
}
