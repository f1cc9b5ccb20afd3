//! Connect data and schemas to JSON text, written straight into a byte buffer in the exact form
//! Kafka's `JsonConverter` produces through Jackson: compact, keys in Kafka's insertion order,
//! strings escaped as Jackson escapes them (`\n`-style escapes, other control characters as
//! upper-case `\u00XX`, non-ASCII as raw UTF-8), floats as Java prints them (non-finite ones quoted),
//! bytes as padded standard base64.

use super::{logical, WriteOptions};
use crate::bigint::{minimal_twos_complement, BigDecimal};
use crate::java_format::{push_java_double, push_java_float};
use crate::ConvertError;
use base64::Engine;
use kconnect_plugin_api::data::DECIMAL_LOGICAL_NAME;
use kconnect_plugin_api::{Schema, SchemaType, Value};

/// For each byte: 0 = copy, otherwise the character after the backslash (`u` = `\u00XX`).
static ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0A] = b'n';
    table[0x0C] = b'f';
    table[0x0D] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Writes `s` as a quoted JSON string.
pub(crate) fn write_string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPES[b as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[run_start..i]);
        run_start = i + 1;
        if escape == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX_UPPER[(b >> 4) as usize]);
            out.push(HEX_UPPER[(b & 0xF) as usize]);
        } else {
            out.push(b'\\');
            out.push(escape);
        }
    }
    out.extend_from_slice(&bytes[run_start..]);
    out.push(b'"');
}

fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    out.resize(start + bytes.len().div_ceil(3) * 4, 0);
    // The buffer was sized for the padded encoding, so this cannot run out of room.
    let written = base64::engine::general_purpose::STANDARD
        .encode_slice(bytes, &mut out[start..])
        .unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn write_f64(out: &mut Vec<u8>, v: f64) {
    let quoted = !v.is_finite();
    if quoted {
        out.push(b'"');
    }
    push_java_double(out, v);
    if quoted {
        out.push(b'"');
    }
}

fn write_f32(out: &mut Vec<u8>, v: f32) {
    let quoted = !v.is_finite();
    if quoted {
        out.push(b'"');
    }
    push_java_float(out, v);
    if quoted {
        out.push(b'"');
    }
}

/// The default a null is replaced with; a `Null` default means none, as in Kafka.
fn default_of(schema: &Schema) -> Option<&Value> {
    schema.default_value().filter(|v| !v.is_null())
}

/// Kafka's `convertToJson`: one value, with or without its schema.
pub(crate) fn write_value(
    out: &mut Vec<u8>,
    schema: Option<&Schema>,
    value: &Value,
    options: &WriteOptions,
) -> Result<(), ConvertError> {
    let Some(schema) = schema else {
        return write_schemaless(out, value, options);
    };
    if value.is_null() {
        if options.replace_null_with_default {
            if let Some(default) = default_of(schema) {
                return write_value(out, Some(schema), default, options);
            }
        }
        if schema.optional {
            out.extend_from_slice(b"null");
            return Ok(());
        }
        return Err(ConvertError::data(
            "Conversion error: null value for field that is required and has no default value",
        ));
    }
    if schema.name() == Some(DECIMAL_LOGICAL_NAME) {
        return write_decimal(out, schema, value, options);
    }
    let mismatch = || {
        ConvertError::data(format!(
            "Invalid type for {}: {}",
            schema.schema_type.upper_name(),
            value.type_name()
        ))
    };
    match (schema.schema_type, value) {
        (SchemaType::Int8, Value::Int8(v)) => write_i64(out, *v as i64),
        (SchemaType::Int16, Value::Int16(v)) => write_i64(out, *v as i64),
        (SchemaType::Int32, Value::Int32(v)) => write_i64(out, *v as i64),
        (SchemaType::Int64, Value::Int64(v)) => write_i64(out, *v),
        (SchemaType::Float32, Value::Float32(v)) => write_f32(out, *v),
        (SchemaType::Float64, Value::Float64(v)) => write_f64(out, *v),
        (SchemaType::Boolean, Value::Boolean(v)) => {
            out.extend_from_slice(if *v { b"true" } else { b"false" })
        }
        (SchemaType::String, Value::String(s)) => write_string(out, s),
        (SchemaType::Bytes, Value::Bytes(b)) => write_base64(out, b),
        (SchemaType::Array, Value::Array(items)) => {
            let options = &options.nested()?;
            let element = schema.value_schema().map(|s| &**s);
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match element {
                    Some(element) => write_value(out, Some(element), item, options)?,
                    None => write_schemaless(out, item, options)?,
                }
            }
            out.push(b']');
        }
        (SchemaType::Map, Value::Map(entries)) => {
            let key_schema = schema.key_schema().map(|s| &**s);
            let value_schema = schema.value_schema().map(|s| &**s);
            let object_mode = key_schema.is_some_and(|k| k.schema_type == SchemaType::String);
            let options = &options.nested()?;
            write_map(out, entries, key_schema, value_schema, object_mode, options)?;
        }
        (SchemaType::Struct, Value::Struct(s)) => {
            if !std::ptr::eq(&*s.schema, schema) && *s.schema != *schema {
                return Err(ConvertError::data("Mismatching schema."));
            }
            let options = &options.nested()?;
            out.push(b'{');
            for (i, field) in schema.fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, &field.name);
                out.push(b':');
                let field_value = s.values.get(field.index as usize).ok_or_else(|| {
                    ConvertError::data(format!(
                        "Struct has no value for field {} of its schema",
                        field.name
                    ))
                })?;
                write_value(out, Some(&field.schema), field_value, options)?;
            }
            out.push(b'}');
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

fn write_decimal(
    out: &mut Vec<u8>,
    schema: &Schema,
    value: &Value,
    options: &WriteOptions,
) -> Result<(), ConvertError> {
    let Value::Bytes(unscaled) = value else {
        return Err(ConvertError::data(format!(
            "Invalid type for Decimal, expected BYTES holding the unscaled value but was {}",
            value.type_name()
        )));
    };
    let scale = logical::decimal_scale(schema)?;
    if unscaled.is_empty() {
        return Err(ConvertError::data(
            "Invalid Decimal value: the unscaled integer has no bytes",
        ));
    }
    if options.decimal_numeric {
        let decimal = BigDecimal::from_unscaled_bytes(unscaled, scale as i64);
        out.extend_from_slice(decimal.to_java_string().as_bytes());
    } else {
        write_base64(out, minimal_twos_complement(unscaled));
    }
    Ok(())
}

fn write_map(
    out: &mut Vec<u8>,
    entries: &[kconnect_plugin_api::abi_stable::std_types::Tuple2<Value, Value>],
    key_schema: Option<&Schema>,
    value_schema: Option<&Schema>,
    object_mode: bool,
    options: &WriteOptions,
) -> Result<(), ConvertError> {
    let write_part = |out: &mut Vec<u8>, schema: Option<&Schema>, v: &Value| match schema {
        Some(schema) => write_value(out, Some(schema), v, options),
        None => write_schemaless(out, v, options),
    };
    if object_mode {
        out.push(b'{');
        let mut scratch = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match &entry.0 {
                Value::String(key) => write_string(out, key),
                other => {
                    // Jackson keys the object with the key node's text (`asText`).
                    scratch.clear();
                    write_part(&mut scratch, key_schema, other)?;
                    let text = key_text(&scratch);
                    write_string(out, &text);
                }
            }
            out.push(b':');
            write_part(out, value_schema, &entry.1)?;
        }
        out.push(b'}');
    } else {
        out.push(b'[');
        for (i, entry) in entries.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'[');
            write_part(out, key_schema, &entry.0)?;
            out.push(b',');
            write_part(out, value_schema, &entry.1)?;
            out.push(b']');
        }
        out.push(b']');
    }
    Ok(())
}

/// The text Jackson's `asText` gives for a scalar node written as `json` (quotes removed).
fn key_text(json: &[u8]) -> String {
    let text = String::from_utf8_lossy(json);
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.to_string(),
        None => text.into_owned(),
    }
}

/// Values without a schema: the type follows the value, as Kafka infers it from the Java class.
fn write_schemaless(
    out: &mut Vec<u8>,
    value: &Value,
    options: &WriteOptions,
) -> Result<(), ConvertError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        Value::Int8(v) => write_i64(out, *v as i64),
        Value::Int16(v) => write_i64(out, *v as i64),
        Value::Int32(v) => write_i64(out, *v as i64),
        Value::Int64(v) => write_i64(out, *v),
        Value::Float32(v) => write_f32(out, *v),
        Value::Float64(v) => write_f64(out, *v),
        Value::String(s) => write_string(out, s),
        Value::Bytes(b) => write_base64(out, b),
        Value::Array(items) => {
            let options = &options.nested()?;
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_schemaless(out, item, options)?;
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            let object_mode = entries.iter().all(|e| matches!(e.0, Value::String(_)));
            write_map(out, entries, None, None, object_mode, &options.nested()?)?;
        }
        // Kafka compares the struct's schema with the (absent) one and fails.
        Value::Struct(_) => return Err(ConvertError::data("Mismatching schema.")),
    }
    Ok(())
}

/// Kafka's `asJsonSchema`: the schema object, keys in Kafka's order.
pub(crate) fn write_schema(
    out: &mut Vec<u8>,
    schema: &Schema,
    options: &WriteOptions,
) -> Result<(), ConvertError> {
    write_schema_members(out, schema, options)?;
    out.push(b'}');
    Ok(())
}

/// Everything of the schema object but its closing brace, so a struct field can add `"field"`.
fn write_schema_members(
    out: &mut Vec<u8>,
    schema: &Schema,
    options: &WriteOptions,
) -> Result<(), ConvertError> {
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(schema.schema_type.json_name().as_bytes());
    out.push(b'"');
    let inner = &options.nested()?;
    let write_nested = |out: &mut Vec<u8>, nested: Option<&Schema>| match nested {
        Some(nested) => write_schema(out, nested, inner),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    };
    match schema.schema_type {
        SchemaType::Array => {
            out.extend_from_slice(b",\"items\":");
            write_nested(out, schema.value_schema().map(|s| &**s))?;
        }
        SchemaType::Map => {
            out.extend_from_slice(b",\"keys\":");
            write_nested(out, schema.key_schema().map(|s| &**s))?;
            out.extend_from_slice(b",\"values\":");
            write_nested(out, schema.value_schema().map(|s| &**s))?;
        }
        SchemaType::Struct => {
            out.extend_from_slice(b",\"fields\":[");
            for (i, field) in schema.fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_schema_members(out, &field.schema, inner)?;
                out.extend_from_slice(b",\"field\":");
                write_string(out, &field.name);
                out.push(b'}');
            }
            out.push(b']');
        }
        _ => {}
    }
    out.extend_from_slice(if schema.optional {
        b",\"optional\":true"
    } else {
        b",\"optional\":false"
    });
    if let Some(name) = schema.name() {
        out.extend_from_slice(b",\"name\":");
        write_string(out, name);
    }
    if let Some(version) = schema.version.into_option() {
        out.extend_from_slice(b",\"version\":");
        write_i64(out, version as i64);
    }
    if let Some(doc) = schema.doc.as_ref().into_option() {
        out.extend_from_slice(b",\"doc\":");
        write_string(out, doc);
    }
    if !schema.parameters.is_empty() {
        out.extend_from_slice(b",\"parameters\":{");
        for (i, parameter) in schema.parameters.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_string(out, &parameter.0);
            out.push(b':');
            write_string(out, &parameter.1);
        }
        out.push(b'}');
    }
    if let Some(default) = default_of(schema) {
        out.extend_from_slice(b",\"default\":");
        write_value(out, Some(schema), default, options)?;
    }
    Ok(())
}
