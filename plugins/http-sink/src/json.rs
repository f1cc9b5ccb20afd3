//! Connect values as JSON text, written straight into a request body (no intermediate tree).
//!
//! Structs become objects; maps with string keys objects and other maps arrays of
//! `[key, value]` pairs (as Kafka's JsonConverter writes them schemaless); bytes (and so
//! Decimals) base64, as the JsonConverter's default `decimal.format=BASE64` does; logical dates
//! and times their integers. Non-finite floats, which JSON cannot hold, become null.

use base64::Engine;
use kconnect_plugin_api::Value;
use std::fmt::Write;

pub fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int8(v) => push_display(out, v),
        Value::Int16(v) => push_display(out, v),
        Value::Int32(v) => push_display(out, v),
        Value::Int64(v) => push_display(out, v),
        Value::Float32(f) if f.is_finite() => push_display(out, f),
        Value::Float64(f) if f.is_finite() => push_display(out, f),
        Value::Float32(_) | Value::Float64(_) => out.push_str("null"),
        Value::String(s) => write_string(s, out),
        Value::Bytes(b) => {
            out.push('"');
            base64::engine::general_purpose::STANDARD.encode_string(b.as_slice(), out);
            out.push('"');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) if entries.iter().all(|e| matches!(e.0, Value::String(_))) => {
            out.push('{');
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(&entry.0, out);
                out.push(':');
                write_json(&entry.1, out);
            }
            out.push('}');
        }
        Value::Map(entries) => {
            out.push('[');
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                write_json(&entry.0, out);
                out.push(',');
                write_json(&entry.1, out);
                out.push(']');
            }
            out.push(']');
        }
        Value::Struct(s) => {
            out.push('{');
            for (i, (field, value)) in s.schema.fields.iter().zip(s.values.iter()).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(&field.name, out);
                out.push(':');
                write_json(value, out);
            }
            out.push('}');
        }
    }
}

fn push_display(out: &mut String, v: impl std::fmt::Display) {
    let _ = write!(out, "{v}");
}

pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::{SchemaBuilder, SchemaType, Struct};

    fn json(v: &Value) -> String {
        let mut s = String::new();
        write_json(v, &mut s);
        s
    }

    #[test]
    fn structs_maps_and_escapes() {
        let schema = SchemaBuilder::struct_()
            .field("id", SchemaBuilder::new(SchemaType::Int32).build_ref())
            .field("name", SchemaBuilder::new(SchemaType::String).build_ref())
            .field("raw", SchemaBuilder::new(SchemaType::Bytes).build_ref())
            .build_ref();
        let value = Value::Struct(
            Struct::new(schema)
                .with("id", Value::Int32(7))
                .with("name", Value::from("a\"b\n\u{1}"))
                .with("raw", Value::from(vec![1u8, 2, 3])),
        );
        assert_eq!(
            json(&value),
            r#"{"id":7,"name":"a\"b\n\u0001","raw":"AQID"}"#
        );
        assert_eq!(
            json(&Value::map_from([("k", Value::Float64(1.5))])),
            r#"{"k":1.5}"#
        );
        let pairs = Value::Map(
            vec![kconnect_plugin_api::abi_stable::std_types::Tuple2(
                Value::Int32(1),
                Value::Null,
            )]
            .into(),
        );
        assert_eq!(json(&pairs), "[[1,null]]");
        assert_eq!(json(&Value::Float64(f64::NAN)), "null");
        assert_eq!(
            json(&Value::Array(
                vec![Value::Boolean(true), Value::Int64(-2)].into()
            )),
            "[true,-2]"
        );
    }
}
