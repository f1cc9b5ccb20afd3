//! Kafka's `org.apache.kafka.connect.storage.SimpleHeaderConverter`: header values are written as
//! the text of Kafka's `Values.convertToString` and read back with the schema inferred as
//! `Values.parseString` infers it for scalars:
//! - empty → STRING `""`; `null` → no schema, null; `true`/`false` → BOOLEAN (surrounding
//!   whitespace ignored);
//! - `HH:mm:ss.SSSZ`, `yyyy-MM-dd`, `yyyy-MM-ddTHH:mm:ss.SSSZ` → Time, Date, Timestamp (UTC, with
//!   `SimpleDateFormat`'s lenient roll-over of out-of-range fields);
//! - an integer → the narrowest of INT8/INT16/INT32/INT64 that holds it; another number → FLOAT32
//!   when finite as a float, else FLOAT64, else Decimal (numbers too large for any of them);
//! - anything else → STRING, unchanged.
//!
//! Differences from Kafka: text that looks like an array or a map (`[1,2]`, `{"a":1}`) is read as a
//! STRING rather than parsed into an ARRAY or MAP; and a number followed by other text (`12,5`) is
//! a STRING where Kafka reads the leading number alone.

use crate::bigint::BigDecimal;
use crate::java_format::{
    days_from_civil, java_double_string, java_float_string, values_date_format, MILLIS_PER_DAY,
};
use crate::json::logical::decimal_scale;
use crate::{ConvertError, HeaderConverter};
use base64::Engine;
use kconnect_plugin_api::data::{
    DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME, TIME_LOGICAL_NAME,
};
use kconnect_plugin_api::{Header, Schema, SchemaBuilder, SchemaRef, SchemaType, Value};
use std::collections::BTreeMap;

/// Kafka's `SimpleHeaderConverter`. It has no settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct SimpleHeaderConverter;

impl HeaderConverter for SimpleHeaderConverter {
    fn configure(&mut self, _config: &BTreeMap<String, String>) -> Result<(), ConvertError> {
        Ok(())
    }

    fn from_header(
        &mut self,
        _topic: &str,
        header: &Header,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        if header.value.is_null() {
            return Ok(None);
        }
        let mut text = String::new();
        append(
            &mut text,
            header.schema.as_ref().into_option().map(|s| &**s),
            &header.value,
            false,
            0,
        )?;
        Ok(Some(text.into_bytes()))
    }

    fn to_header(
        &mut self,
        _topic: &str,
        key: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Header, ConvertError> {
        let Some(bytes) = bytes else {
            return Ok(Header::new(key, None, Value::Null));
        };
        let text = String::from_utf8_lossy(bytes);
        let (schema, value) = parse_string(&text);
        Ok(Header::new(key, schema, value))
    }
}

/// Kafka's `Values.append`: `embedded` values (inside arrays, maps, structs) quote their strings.
fn append(
    out: &mut String,
    schema: Option<&Schema>,
    value: &Value,
    embedded: bool,
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
        match (schema.name(), value) {
            (Some(DECIMAL_LOGICAL_NAME), Value::Bytes(unscaled)) => {
                let scale = decimal_scale(schema)?;
                out.push_str(
                    &BigDecimal::from_unscaled_bytes(unscaled, scale as i64).to_java_string(),
                );
                return Ok(());
            }
            (Some(DATE_LOGICAL_NAME), Value::Int32(days)) => {
                out.push_str(&values_date_format(*days as i64 * MILLIS_PER_DAY));
                return Ok(());
            }
            (Some(TIME_LOGICAL_NAME), Value::Int32(millis)) => {
                out.push_str(&values_date_format(*millis as i64));
                return Ok(());
            }
            (Some(TIMESTAMP_LOGICAL_NAME), Value::Int64(millis)) => {
                out.push_str(&values_date_format(*millis));
                return Ok(());
            }
            _ => {}
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
        Value::String(s) => {
            if embedded {
                out.push('"');
                for c in s.chars() {
                    if c == '\\' || c == '"' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            } else {
                out.push_str(s);
            }
        }
        Value::Bytes(b) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(b);
            if embedded {
                out.push('"');
                out.push_str(&encoded);
                out.push('"');
            } else {
                out.push_str(&encoded);
            }
        }
        Value::Array(items) => {
            let element = schema.and_then(|s| s.value_schema()).map(|s| &**s);
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, element, item, true, depth)?;
            }
            out.push(']');
        }
        Value::Map(entries) => {
            let key_schema = schema.and_then(|s| s.key_schema()).map(|s| &**s);
            let value_schema = schema.and_then(|s| s.value_schema()).map(|s| &**s);
            out.push('{');
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, key_schema, &entry.0, true, depth)?;
                out.push(':');
                append(out, value_schema, &entry.1, true, depth)?;
            }
            out.push('}');
        }
        Value::Struct(s) => {
            out.push('{');
            for (i, field) in s.schema.fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                append(out, None, &Value::String(field.name.clone()), true, depth)?;
                out.push(':');
                // Struct.get: a null field reads as its default.
                let raw = s.values.get(field.index as usize).unwrap_or(&Value::Null);
                let field_value = match (raw, field.schema.default_value()) {
                    (Value::Null, Some(default)) => default,
                    _ => raw,
                };
                append(out, Some(&field.schema), field_value, true, depth)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn schema_ref(builder: SchemaBuilder) -> Option<SchemaRef> {
    Some(builder.build_ref())
}

/// Kafka's `Values.parseString` for scalar text; see the module doc.
pub(crate) fn parse_string(text: &str) -> (Option<SchemaRef>, Value) {
    let as_string = || {
        (
            schema_ref(SchemaBuilder::new(SchemaType::String)),
            Value::String(text.into()),
        )
    };
    if text.is_empty() {
        return as_string();
    }
    // Java's String.trim: every character up to U+0020.
    let trimmed = text.trim_matches(|c: char| c <= ' ');
    match trimmed {
        "" => return as_string(),
        "null" => return (None, Value::Null),
        "true" => {
            return (
                schema_ref(SchemaBuilder::new(SchemaType::Boolean)),
                Value::Boolean(true),
            )
        }
        "false" => {
            return (
                schema_ref(SchemaBuilder::new(SchemaType::Boolean)),
                Value::Boolean(false),
            )
        }
        _ => {}
    }
    let first = trimmed.as_bytes()[0];
    if first.is_ascii_digit() {
        if let Some(temporal) = parse_temporal(trimmed) {
            return temporal;
        }
    }
    if first.is_ascii_digit() || first == b'+' || first == b'-' {
        if let Some(number) = parse_number(trimmed) {
            return number;
        }
    }
    as_string()
}

fn parse_number(text: &str) -> Option<(Option<SchemaRef>, Value)> {
    let decimal = BigDecimal::parse(text)?;
    if let Some(integer) = decimal.to_exact_i64() {
        let typed = if let Ok(v) = i8::try_from(integer) {
            (SchemaType::Int8, Value::Int8(v))
        } else if let Ok(v) = i16::try_from(integer) {
            (SchemaType::Int16, Value::Int16(v))
        } else if let Ok(v) = i32::try_from(integer) {
            (SchemaType::Int32, Value::Int32(v))
        } else {
            (SchemaType::Int64, Value::Int64(integer))
        };
        return Some((schema_ref(SchemaBuilder::new(typed.0)), typed.1));
    }
    if decimal.scale != 0 {
        if let Ok(v) = text.parse::<f32>() {
            if v.is_finite() {
                return Some((
                    schema_ref(SchemaBuilder::new(SchemaType::Float32)),
                    Value::Float32(v),
                ));
            }
        }
        if let Ok(v) = text.parse::<f64>() {
            if v.is_finite() {
                return Some((
                    schema_ref(SchemaBuilder::new(SchemaType::Float64)),
                    Value::Float64(v),
                ));
            }
        }
    }
    let scale = i32::try_from(decimal.scale).ok()?;
    Some((
        schema_ref(SchemaBuilder::decimal(scale)),
        Value::Bytes(decimal.unscaled_bytes().into()),
    ))
}

/// Digits at `range` of `text`, if they are all ASCII digits.
fn digits(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    if part.bytes().all(|b| b.is_ascii_digit()) {
        part.parse().ok()
    } else {
        None
    }
}

fn has_separators(text: &str, separators: &[(usize, u8)]) -> bool {
    separators
        .iter()
        .all(|&(at, expected)| text.as_bytes().get(at) == Some(&expected))
}

/// `HH:mm:ss.SSSZ` → milliseconds since midnight.
fn time_millis(text: &str) -> Option<i64> {
    if text.len() != 13 || !has_separators(text, &[(2, b':'), (5, b':'), (8, b'.'), (12, b'Z')]) {
        return None;
    }
    let (h, m, s, ms) = (
        digits(text, 0..2)?,
        digits(text, 3..5)?,
        digits(text, 6..8)?,
        digits(text, 9..12)?,
    );
    Some(h * 3_600_000 + m * 60_000 + s * 1000 + ms)
}

/// `yyyy-MM-dd` → days since the epoch.
fn date_days(text: &str) -> Option<i64> {
    if text.len() != 10 || !has_separators(text, &[(4, b'-'), (7, b'-')]) {
        return None;
    }
    Some(days_from_civil(
        digits(text, 0..4)?,
        digits(text, 5..7)?,
        digits(text, 8..10)?,
    ))
}

fn parse_temporal(text: &str) -> Option<(Option<SchemaRef>, Value)> {
    match text.len() {
        13 => {
            let millis = i32::try_from(time_millis(text)?).ok()?;
            Some((schema_ref(SchemaBuilder::time()), Value::Int32(millis)))
        }
        10 => {
            let days = i32::try_from(date_days(text)?).ok()?;
            Some((schema_ref(SchemaBuilder::date()), Value::Int32(days)))
        }
        24 if text.as_bytes()[10] == b'T' => {
            let millis =
                date_days(text.get(..10)?)? * MILLIS_PER_DAY + time_millis(text.get(11..)?)?;
            Some((schema_ref(SchemaBuilder::timestamp()), Value::Int64(millis)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporal_fields_roll_over_leniently() {
        let (_, value) = parse_temporal("2023-13-01").unwrap();
        assert_eq!(value, Value::Int32(days_from_civil(2024, 1, 1) as i32));
        assert!(parse_temporal("2023-1a-01").is_none());
        assert!(parse_temporal("12:34:56,789Z").is_none());
    }
}
