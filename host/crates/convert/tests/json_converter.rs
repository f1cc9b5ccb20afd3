//! JsonConverter against JSON written byte for byte the way Kafka's JsonConverter (Jackson) writes it.

use kconnect_convert::{ConvertError, Converter, HeaderConverter, JsonConverter};
use kconnect_plugin_api::abi_stable::std_types::{RArc, Tuple2};
use kconnect_plugin_api::{Header, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value};
use std::collections::BTreeMap;

const TOPIC: &str = "orders";

fn converter(settings: &[(&str, &str)]) -> JsonConverter {
    let config: BTreeMap<String, String> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut converter = JsonConverter::default();
    Converter::configure(&mut converter, &config, false).expect("valid settings");
    converter
}

fn write(converter: &mut JsonConverter, schema: Option<&SchemaRef>, value: &Value) -> String {
    let bytes = converter
        .from_connect(TOPIC, schema, value)
        .expect("conversion succeeds")
        .expect("not a Kafka null");
    String::from_utf8(bytes).expect("UTF-8 JSON")
}

fn read(converter: &mut JsonConverter, json: &str) -> (Option<SchemaRef>, Value) {
    converter
        .to_connect(TOPIC, Some(json.as_bytes()))
        .expect("conversion succeeds")
}

fn primitive(t: SchemaType) -> SchemaRef {
    RArc::new(Schema::primitive(t))
}

/// Writes, compares with Kafka's bytes, reads Kafka's bytes back and compares with the input.
fn assert_round_trip(converter: &mut JsonConverter, schema: &SchemaRef, value: Value, kafka: &str) {
    assert_eq!(write(converter, Some(schema), &value), kafka);
    let (read_schema, read_value) = read(converter, kafka);
    assert_eq!(
        read_schema.as_deref(),
        Some(&**schema),
        "schema read from {kafka}"
    );
    assert_eq!(read_value, value, "value read from {kafka}");
}

#[test]
fn primitives_are_enveloped_exactly_as_kafka_writes_them() {
    let mut c = converter(&[]);
    let cases: Vec<(SchemaType, Value, &str)> = vec![
        (
            SchemaType::Boolean,
            Value::Boolean(true),
            r#"{"schema":{"type":"boolean","optional":false},"payload":true}"#,
        ),
        (
            SchemaType::Int8,
            Value::Int8(-12),
            r#"{"schema":{"type":"int8","optional":false},"payload":-12}"#,
        ),
        (
            SchemaType::Int16,
            Value::Int16(3000),
            r#"{"schema":{"type":"int16","optional":false},"payload":3000}"#,
        ),
        (
            SchemaType::Int32,
            Value::Int32(i32::MIN),
            r#"{"schema":{"type":"int32","optional":false},"payload":-2147483648}"#,
        ),
        (
            SchemaType::Int64,
            Value::Int64(4_000_000_000),
            r#"{"schema":{"type":"int64","optional":false},"payload":4000000000}"#,
        ),
        (
            SchemaType::Float32,
            Value::Float32(12.34),
            r#"{"schema":{"type":"float","optional":false},"payload":12.34}"#,
        ),
        (
            SchemaType::Float64,
            Value::Float64(1.0e10),
            r#"{"schema":{"type":"double","optional":false},"payload":1.0E10}"#,
        ),
        (
            SchemaType::Float64,
            Value::Float64(0.5),
            r#"{"schema":{"type":"double","optional":false},"payload":0.5}"#,
        ),
        (
            SchemaType::String,
            Value::from("hi \"there\""),
            r#"{"schema":{"type":"string","optional":false},"payload":"hi \"there\""}"#,
        ),
        (
            SchemaType::Bytes,
            Value::from(b"\x00\x01\xfftest".to_vec()),
            r#"{"schema":{"type":"bytes","optional":false},"payload":"AAH/dGVzdA=="}"#,
        ),
    ];
    for (schema_type, value, kafka) in cases {
        assert_round_trip(&mut c, &primitive(schema_type), value, kafka);
    }
}

#[test]
fn schema_metadata_is_written_in_kafkas_key_order() {
    let mut c = converter(&[]);
    let schema = SchemaBuilder::new(SchemaType::Int32)
        .optional()
        .name("com.example.Count")
        .version(3)
        .doc("how many")
        .parameter("unit", "items")
        .parameter("max", "10")
        .default_value(Value::Int32(7))
        .build_ref();
    assert_round_trip(
        &mut c,
        &schema,
        Value::Int32(5),
        r#"{"schema":{"type":"int32","optional":true,"name":"com.example.Count","version":3,"doc":"how many","parameters":{"unit":"items","max":"10"},"default":7},"payload":5}"#,
    );
}

fn person_schema() -> SchemaRef {
    let address = SchemaBuilder::struct_()
        .name("com.example.Address")
        .optional()
        .field("street", primitive(SchemaType::String))
        .build_ref();
    SchemaBuilder::struct_()
        .name("com.example.Person")
        .version(2)
        .doc("A person")
        .field("id", primitive(SchemaType::Int64))
        .field(
            "name",
            SchemaBuilder::new(SchemaType::String)
                .optional()
                .default_value(Value::from("anon"))
                .build_ref(),
        )
        .field("address", address)
        .field(
            "tags",
            SchemaBuilder::array(primitive(SchemaType::String)).build_ref(),
        )
        .field(
            "scores",
            SchemaBuilder::map(primitive(SchemaType::String), primitive(SchemaType::Int32))
                .optional()
                .build_ref(),
        )
        .build_ref()
}

const PERSON_SCHEMA_JSON: &str = concat!(
    r#"{"type":"struct","fields":["#,
    r#"{"type":"int64","optional":false,"field":"id"},"#,
    r#"{"type":"string","optional":true,"default":"anon","field":"name"},"#,
    r#"{"type":"struct","fields":[{"type":"string","optional":false,"field":"street"}],"optional":true,"name":"com.example.Address","field":"address"},"#,
    r#"{"type":"array","items":{"type":"string","optional":false},"optional":false,"field":"tags"},"#,
    r#"{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":true,"field":"scores"}"#,
    r#"],"optional":false,"name":"com.example.Person","version":2,"doc":"A person"}"#
);

#[test]
fn nested_structs_arrays_and_string_keyed_maps() {
    let mut c = converter(&[]);
    let schema = person_schema();
    let address_schema = schema.field("address").unwrap().schema.clone();
    let address = Struct::new(address_schema).with("street", Value::from("Main St"));
    let person = Struct::new(schema.clone())
        .with("id", Value::Int64(42))
        .with("name", Value::from("Ada"))
        .with("address", Value::Struct(address))
        .with(
            "tags",
            Value::Array(vec![Value::from("a"), Value::from("b")].into()),
        )
        .with(
            "scores",
            // In the order Java's HashMap iterates them (JsonConverter reads maps into one).
            Value::map_from([("art", Value::Int32(75)), ("math", Value::Int32(90))]),
        );
    let kafka = format!(
        r#"{{"schema":{PERSON_SCHEMA_JSON},"payload":{{"id":42,"name":"Ada","address":{{"street":"Main St"}},"tags":["a","b"],"scores":{{"art":75,"math":90}}}}}}"#
    );
    assert_round_trip(&mut c, &schema, Value::Struct(person), &kafka);
}

#[test]
fn null_fields_take_their_default_unless_told_otherwise() {
    let schema = person_schema();
    let person = Struct::new(schema.clone())
        .with("id", Value::Int64(1))
        .with("name", Value::Null)
        .with("tags", Value::Array(Default::default()));
    let mut replacing = converter(&[("schemas.enable", "false")]);
    assert_eq!(
        write(
            &mut replacing,
            Some(&schema),
            &Value::Struct(person.clone())
        ),
        r#"{"id":1,"name":"anon","address":null,"tags":[],"scores":null}"#
    );
    let mut keeping = converter(&[
        ("schemas.enable", "false"),
        ("replace.null.with.default", "false"),
    ]);
    assert_eq!(
        write(&mut keeping, Some(&schema), &Value::Struct(person)),
        r#"{"id":1,"name":null,"address":null,"tags":[],"scores":null}"#
    );
    // Reading: a missing or null field becomes the default only when replacing.
    let envelope = format!(r#"{{"schema":{PERSON_SCHEMA_JSON},"payload":{{"id":1,"tags":[]}}}}"#);
    let (_, value) = read(&mut converter(&[]), &envelope);
    let Value::Struct(read_person) = value else {
        panic!("struct expected")
    };
    assert_eq!(read_person.get("name"), Some(&Value::from("anon")));
    let (_, value) = read(
        &mut converter(&[("replace.null.with.default", "false")]),
        &envelope,
    );
    let Value::Struct(read_person) = value else {
        panic!("struct expected")
    };
    assert_eq!(read_person.get("name"), Some(&Value::Null));
}

#[test]
fn maps_with_non_string_keys_are_arrays_of_pairs() {
    let mut c = converter(&[]);
    let schema =
        SchemaBuilder::map(primitive(SchemaType::Int32), primitive(SchemaType::String)).build_ref();
    let value = Value::Map(
        vec![
            Tuple2(Value::Int32(1), Value::from("one")),
            Tuple2(Value::Int32(2), Value::from("two")),
        ]
        .into(),
    );
    assert_round_trip(
        &mut c,
        &schema,
        value,
        r#"{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":false},"optional":false},"payload":[[1,"one"],[2,"two"]]}"#,
    );
}

#[test]
fn decimals_as_base64_and_as_numbers() {
    let schema = SchemaBuilder::decimal(2).build_ref();
    let schema_json = r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}}"#;
    // 1.56 is the unscaled 156, two's complement 0x009C.
    let value = Value::from(vec![0x00, 0x9C]);
    assert_round_trip(
        &mut converter(&[]),
        &schema,
        value.clone(),
        &format!(r#"{{"schema":{schema_json},"payload":"AJw="}}"#),
    );
    let mut numeric = converter(&[("decimal.format", "numeric")]);
    assert_round_trip(
        &mut numeric,
        &schema,
        value.clone(),
        &format!(r#"{{"schema":{schema_json},"payload":1.56}}"#),
    );
    // -1.56 is 0xFF64; redundant sign bytes are not written, as BigInteger.toByteArray omits them.
    let negative = Value::from(vec![0xFF, 0xFF, 0x64]);
    assert_eq!(
        write(
            &mut converter(&[("schemas.enable", "false")]),
            Some(&schema),
            &negative
        ),
        r#""/2Q=""#
    );
    assert_eq!(
        write(
            &mut converter(&[("schemas.enable", "false"), ("decimal.format", "NUMERIC")]),
            Some(&schema),
            &negative
        ),
        "-1.56"
    );
    // Reading accepts both forms whatever decimal.format says; numbers are rescaled to the schema.
    let (_, read_value) = read(
        &mut converter(&[]),
        &format!(r#"{{"schema":{schema_json},"payload":1.5}}"#),
    );
    assert_eq!(read_value, Value::from(vec![0x00, 0x96]));
    let err = converter(&[])
        .to_connect(
            TOPIC,
            Some(format!(r#"{{"schema":{schema_json},"payload":1.567}}"#).as_bytes()),
        )
        .unwrap_err();
    assert!(err.to_string().contains("scale"), "{err}");
}

#[test]
fn dates_times_and_timestamps_are_integers() {
    let mut c = converter(&[]);
    let cases = [
        (
            SchemaBuilder::date().build_ref(),
            Value::Int32(10_000),
            r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}"#,
        ),
        (
            SchemaBuilder::time().build_ref(),
            Value::Int32(14_400_000),
            r#"{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}"#,
        ),
        (
            SchemaBuilder::timestamp().build_ref(),
            Value::Int64(4_000_000_000),
            r#"{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}"#,
        ),
    ];
    for (schema, value, kafka) in cases {
        assert_round_trip(&mut c, &schema, value, kafka);
    }
    let err = c
        .to_connect(TOPIC, Some(br#"{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":"2024-01-01"}"#))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid type for Date, underlying representation should be integer but was STRING"
    );
}

#[test]
fn nulls_follow_kafka() {
    let mut c = converter(&[]);
    // No schema and no value: a Kafka null (tombstone).
    assert_eq!(c.from_connect(TOPIC, None, &Value::Null).unwrap(), None);
    let mut out = Vec::new();
    assert!(!c
        .from_connect_into(TOPIC, None, &Value::Null, &mut out)
        .unwrap());
    assert!(out.is_empty());
    assert_eq!(c.to_connect(TOPIC, None).unwrap(), (None, Value::Null));
    // An optional schema with a null value is written, not dropped.
    let optional = RArc::new(Schema::optional_primitive(SchemaType::String));
    assert_round_trip(
        &mut c,
        &optional,
        Value::Null,
        r#"{"schema":{"type":"string","optional":true},"payload":null}"#,
    );
    let mut bare = converter(&[("schemas.enable", "false")]);
    assert_eq!(write(&mut bare, Some(&optional), &Value::Null), "null");
    // A null with a default is the default.
    let defaulted = SchemaBuilder::new(SchemaType::Int32)
        .default_value(Value::Int32(3))
        .build_ref();
    assert_eq!(
        write(&mut c, Some(&defaulted), &Value::Null),
        r#"{"schema":{"type":"int32","optional":false,"default":3},"payload":3}"#
    );
    // Required and no default: an error both ways.
    let required = primitive(SchemaType::Int32);
    let err = c
        .from_connect(TOPIC, Some(&required), &Value::Null)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Conversion error: null value for field that is required and has no default value"
    );
    let err = c
        .to_connect(
            TOPIC,
            Some(br#"{"schema":{"type":"int32","optional":false},"payload":null}"#),
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid null value for required INT32 field"
    );
    // A value without a schema in an envelope carries "schema":null.
    assert_eq!(
        write(&mut c, None, &Value::Int64(5)),
        r#"{"schema":null,"payload":5}"#
    );
}

#[test]
fn schemaless_reading_infers_maps_int64_and_float64() {
    let json = r#"{"a":1,"b":2.5,"c":[true,null,"x"],"d":{"e":-3},"f":1e2}"#;
    let mut bare = converter(&[("schemas.enable", "false")]);
    let (schema, value) = read(&mut bare, json);
    assert_eq!(schema, None);
    let expected = Value::map_from([
        ("a", Value::Int64(1)),
        ("b", Value::Float64(2.5)),
        (
            "c",
            Value::Array(vec![Value::Boolean(true), Value::Null, Value::from("x")].into()),
        ),
        ("d", Value::map_from([("e", Value::Int64(-3))])),
        ("f", Value::Float64(100.0)),
    ]);
    assert_eq!(value, expected);
    // Written back the way Kafka writes those Java objects.
    assert_eq!(
        write(&mut bare, None, &value),
        r#"{"a":1,"b":2.5,"c":[true,null,"x"],"d":{"e":-3},"f":100.0}"#
    );
    // In an envelope with a null schema the payload is inferred the same way.
    let mut enveloped = converter(&[]);
    let (schema, value) = read(
        &mut enveloped,
        &format!(r#"{{"schema":null,"payload":{json}}}"#),
    );
    assert_eq!((schema, value), (None, expected));
    // Empty input is Jackson's missing node: a null value.
    assert_eq!(read(&mut bare, "  "), (None, Value::Null));
}

#[test]
fn schemaless_writing_infers_from_values() {
    let mut bare = converter(&[("schemas.enable", "false")]);
    let value = Value::Map(
        vec![
            Tuple2(Value::Int32(1), Value::Float32(1.5)),
            Tuple2(Value::Int16(2), Value::Bytes(vec![1, 2, 3].into())),
        ]
        .into(),
    );
    assert_eq!(write(&mut bare, None, &value), r#"[[1,1.5],[2,"AQID"]]"#);
    assert_eq!(
        write(&mut bare, None, &Value::Float64(f64::NAN)),
        r#""NaN""#
    );
    assert_eq!(
        write(&mut bare, None, &Value::Float64(f64::NEG_INFINITY)),
        r#""-Infinity""#
    );
    let struct_schema = SchemaBuilder::struct_()
        .field("a", primitive(SchemaType::Int8))
        .build_ref();
    let nested = Value::Array(
        vec![Value::Struct(
            Struct::new(struct_schema).with("a", Value::Int8(1)),
        )]
        .into(),
    );
    assert_eq!(
        bare.from_connect(TOPIC, None, &nested)
            .unwrap_err()
            .to_string(),
        "Mismatching schema."
    );
}

#[test]
fn strings_are_escaped_as_jackson_escapes_them() {
    let mut bare = converter(&[("schemas.enable", "false")]);
    let text = "q\"b\\s/\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é😀\u{2028}";
    let json = write(
        &mut bare,
        Some(&primitive(SchemaType::String)),
        &Value::from(text),
    );
    assert_eq!(
        json,
        "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001F\u{7f}é😀\u{2028}\""
    );
    let (_, value) = read(&mut converter(&[("schemas.enable", "false")]), &json);
    assert_eq!(value, Value::from(text));
}

#[test]
fn struct_values_must_carry_the_schema_they_are_written_with() {
    let mut c = converter(&[]);
    let schema = SchemaBuilder::struct_()
        .field("a", primitive(SchemaType::Int8))
        .build_ref();
    let other = SchemaBuilder::struct_()
        .field("b", primitive(SchemaType::Int8))
        .build_ref();
    let value = Value::Struct(Struct::new(other).with("b", Value::Int8(1)));
    assert_eq!(
        c.from_connect(TOPIC, Some(&schema), &value)
            .unwrap_err()
            .to_string(),
        "Mismatching schema."
    );
    let err = c
        .from_connect(TOPIC, Some(&schema), &Value::from("x"))
        .unwrap_err();
    assert_eq!(err.to_string(), "Invalid type for STRUCT: STRING");
}

#[test]
fn malformed_input_fails_with_kafkas_messages() {
    let mut c = converter(&[]);
    let err = c.to_connect("payments", Some(b"{not json")).unwrap_err();
    assert!(matches!(err, ConvertError::Deserialization { .. }));
    let message = err.to_string();
    assert!(
        message.starts_with("Converting byte[] to Kafka Connect data failed due to serialization error of topic payments: "),
        "{message}"
    );
    // Invalid JSON inside the schema is reported as such, even though the schema is parsed lazily.
    for json in [
        r#"{"schema":{"type":"int8",},"payload":1}"#,
        r#"{"schema":tru,"payload":1}"#,
        r#"{"schema":{"type":"int8"]}"#,
    ] {
        let err = c.to_connect(TOPIC, Some(json.as_bytes())).unwrap_err();
        assert!(
            matches!(err, ConvertError::Deserialization { .. }),
            "{json}: {err}"
        );
    }
    let envelope_error = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";
    for json in [
        r#"{"a":1}"#,
        r#"{"schema":null}"#,
        r#"{"schema":null,"payload":1,"extra":2}"#,
        "[1]",
        "5",
        "",
    ] {
        let err = c.to_connect(TOPIC, Some(json.as_bytes())).unwrap_err();
        assert_eq!(err.to_string(), envelope_error, "{json}");
    }
    let cases = [
        (r#"{"schema":{"type":"uint8"},"payload":1}"#, "Unknown schema type: uint8"),
        (r#"{"schema":{"optional":true},"payload":1}"#, "Schema must contain 'type' field"),
        (r#"{"schema":{"type":"array"},"payload":[]}"#, "Array schema did not specify the element type"),
        (r#"{"schema":{"type":"map","keys":{"type":"string"}},"payload":{}}"#, "Map schema did not specify the value type"),
        (r#"{"schema":{"type":"struct","fields":{}},"payload":{}}"#, "Struct schema's \"fields\" argument is not an array."),
        (r#"{"schema":{"type":"struct","fields":[{"type":"int8"}]},"payload":{}}"#, "Struct schema's field name not specified properly"),
        (r#"{"schema":{"type":"int8","parameters":{"a":1}},"payload":1}"#, "Schema parameters must have string values."),
        (r#"{"schema":{"type":"struct","fields":[]},"payload":[]}"#, "Structs should be encoded as JSON objects, but found ARRAY"),
        (r#"{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":{}}"#, "Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT"),
        (r#"{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":[[1]]}"#, "Found invalid map entry, expected length 2 but found :1"),
        (r#"{"schema":{"type":"bytes"},"payload":"%%%"}"#, "Invalid bytes field"),
    ];
    for (json, message) in cases {
        let err = c.to_connect(TOPIC, Some(json.as_bytes())).unwrap_err();
        assert_eq!(err.to_string(), message, "{json}");
    }
}

#[test]
fn payloads_must_match_their_schema() {
    let mut c = converter(&[]);
    let err = c
        .to_connect(
            TOPIC,
            Some(br#"{"schema":{"type":"int32"},"payload":"12"}"#),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("INT32") && err.to_string().contains("STRING"),
        "{err}"
    );
    // Numbers read into narrower types truncate and wrap as Java's intValue() does.
    let (_, value) = read(&mut c, r#"{"schema":{"type":"int8"},"payload":300}"#);
    assert_eq!(value, Value::Int8(44));
    let (_, value) = read(&mut c, r#"{"schema":{"type":"int32"},"payload":-7.9}"#);
    assert_eq!(value, Value::Int32(-7));
}

#[test]
fn key_order_of_the_envelope_does_not_matter_when_reading() {
    let mut c = converter(&[]);
    let (schema, value) = read(
        &mut c,
        r#" { "payload" : [1, 2] , "schema" : { "type" : "array", "items" : { "type" : "int16" } } } "#,
    );
    assert_eq!(schema.unwrap().schema_type, SchemaType::Array);
    assert_eq!(
        value,
        Value::Array(vec![Value::Int16(1), Value::Int16(2)].into())
    );
}

#[test]
fn schemas_are_cached_and_shared() {
    let mut c = converter(&[]);
    // Equal schemas behind different pointers write the same bytes.
    let a = SchemaBuilder::new(SchemaType::Int32).optional().build_ref();
    let b = SchemaBuilder::new(SchemaType::Int32).optional().build_ref();
    assert_eq!(
        write(&mut c, Some(&a), &Value::Int32(1)),
        write(&mut c, Some(&b), &Value::Int32(1))
    );
    // Records read with the same schema text share one schema.
    let json = r#"{"schema":{"type":"int32","optional":true},"payload":1}"#;
    let (s1, _) = read(&mut c, json);
    let (s2, _) = read(&mut c, json);
    assert!(std::ptr::eq(
        &**s1.as_ref().unwrap(),
        &**s2.as_ref().unwrap()
    ));
    // A cache of size zero still converts.
    let mut uncached = converter(&[("schemas.cache.size", "0")]);
    assert_eq!(
        write(&mut uncached, Some(&a), &Value::Int32(1)),
        r#"{"schema":{"type":"int32","optional":true},"payload":1}"#
    );
    let (s3, _) = read(&mut uncached, json);
    assert_eq!(s3.as_deref(), Some(&*a));
}

#[test]
fn from_connect_into_appends_to_the_buffer() {
    let mut c = converter(&[("schemas.enable", "false")]);
    let mut out = Vec::new();
    assert!(c
        .from_connect_into(TOPIC, None, &Value::from("x"), &mut out)
        .unwrap());
    assert_eq!(out, br#""x""#);
}

#[test]
fn invalid_settings_are_rejected() {
    let mut c = JsonConverter::default();
    let bad = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
    let err = Converter::configure(&mut c, &bad("schemas.enable", "maybe"), true).unwrap_err();
    assert!(err.to_string().contains("schemas.enable"), "{err}");
    let err = Converter::configure(&mut c, &bad("decimal.format", "HEX"), true).unwrap_err();
    assert!(err.to_string().contains("decimal.format"), "{err}");
}

#[test]
fn works_as_a_header_converter() {
    let mut c = JsonConverter::default();
    HeaderConverter::configure(&mut c, &BTreeMap::new()).unwrap();
    let header = Header::new("h", Some(primitive(SchemaType::Int16)), Value::Int16(7));
    let bytes = c.from_header(TOPIC, &header).unwrap().unwrap();
    assert_eq!(
        bytes,
        br#"{"schema":{"type":"int16","optional":false},"payload":7}"#
    );
    assert_eq!(c.to_header(TOPIC, "h", Some(&bytes)).unwrap(), header);
}

#[test]
fn schemas_convert_to_and_from_json_text() {
    let mut c = converter(&[]);
    let schema = person_schema();
    let json = c.schema_to_json(&schema).unwrap();
    assert_eq!(String::from_utf8(json.clone()).unwrap(), PERSON_SCHEMA_JSON);
    assert_eq!(
        c.schema_from_json(&json).unwrap().as_deref(),
        Some(&*schema)
    );
    assert_eq!(c.schema_from_json(b"null").unwrap(), None);
}

#[test]
fn errors_map_to_connect_errors() {
    use kconnect_plugin_api::{ConnectError, ErrorKind};
    let config_error: ConnectError = ConvertError::Config("bad".into()).into();
    assert_eq!(config_error.kind, ErrorKind::Config);
    let data_error: ConnectError = ConvertError::Data("Mismatching schema.".into()).into();
    assert_eq!(
        (data_error.kind, data_error.message.as_str()),
        (ErrorKind::Failed, "Mismatching schema.")
    );
}
