//! Deep nesting ends in an error, never in a stack overflow. Jackson's limit of 1000 levels holds.
//! The conversions run on a thread with a large stack because debug builds use several KB of stack
//! per level; release builds need about 1 MB at the limit.

use kconnect_convert::{
    ConvertError, Converter, HeaderConverter, JsonConverter, SimpleHeaderConverter, StringConverter,
};
use kconnect_plugin_api::{Header, Value};
use std::collections::BTreeMap;

fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

/// An envelope whose schema and payload are arrays nested `depth` levels deep.
fn nested_envelope(depth: usize) -> String {
    let schema =
        r#"{"type":"array","items":"#.repeat(depth) + r#"{"type":"int8"}"# + &"}".repeat(depth);
    let payload = "[".repeat(depth) + "7" + &"]".repeat(depth);
    format!(r#"{{"schema":{schema},"payload":{payload}}}"#)
}

fn nested_value(depth: usize) -> Value {
    let mut value = Value::Int64(1);
    for _ in 0..depth {
        value = Value::Array(vec![value].into());
    }
    value
}

#[test]
fn documents_up_to_jacksons_limit_convert_both_ways() {
    on_big_stack(|| {
        let mut converter = JsonConverter::default();
        // The envelope object is the first level.
        let json = nested_envelope(998);
        let (schema, value) = converter.to_connect("t", Some(json.as_bytes())).unwrap();
        let written = converter
            .from_connect("t", schema.as_ref(), &value)
            .unwrap()
            .unwrap();
        assert!(String::from_utf8(written)
            .unwrap()
            .ends_with(&("7".to_string() + &"]".repeat(998) + "}")));
    });
}

#[test]
fn deeper_documents_are_rejected() {
    on_big_stack(|| {
        let mut converter = JsonConverter::default();
        let json = nested_envelope(1000);
        let err = converter
            .to_connect("deep", Some(json.as_bytes()))
            .unwrap_err();
        assert!(matches!(err, ConvertError::Deserialization { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("exceeds the maximum allowed (1000)"),
            "{err}"
        );
    });
}

#[test]
fn too_deep_values_are_rejected_when_written() {
    on_big_stack(|| {
        let value = nested_value(1001);
        let mut json = JsonConverter::default();
        let err = json.from_connect("t", None, &value).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Value nesting exceeds the maximum depth (1000)"
        );
        let err = StringConverter.from_connect("t", None, &value).unwrap_err();
        assert!(err.to_string().contains("maximum depth"), "{err}");
        let header = Header::new("h", None, value);
        let err = SimpleHeaderConverter.from_header("t", &header).unwrap_err();
        assert!(err.to_string().contains("maximum depth"), "{err}");
        let config = BTreeMap::from([("schemas.enable".to_string(), "false".to_string())]);
        Converter::configure(&mut json, &config, false).unwrap();
        assert!(json
            .from_connect("t", None, &nested_value(999))
            .unwrap()
            .is_some());
    });
}

#[test]
fn the_limit_counts_the_envelope_around_a_schema() {
    on_big_stack(|| {
        // 999 nested schema objects inside the envelope make 1000 levels; one more is too many.
        let schema = |depth: usize| {
            r#"{"type":"array","items":"#.repeat(depth - 1)
                + r#"{"type":"int8"}"#
                + &"}".repeat(depth - 1)
        };
        let mut converter = JsonConverter::default();
        let ok = format!(r#"{{"schema":{},"payload":null}}"#, schema(999));
        assert!(converter
            .to_connect("t", Some(ok.as_bytes()))
            .is_err_and(|e| e.to_string().contains("required ARRAY")));
        let too_deep = format!(r#"{{"schema":{},"payload":null}}"#, schema(1000));
        let err = converter
            .to_connect("t", Some(too_deep.as_bytes()))
            .unwrap_err();
        assert!(err.to_string().contains("nesting depth (1001)"), "{err}");
    });
}
