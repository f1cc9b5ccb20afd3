//! SimpleHeaderConverter (and the other converters used for headers) against Kafka's text forms.

use kconnect_convert::{builtin_header_converter, HeaderConverter, SimpleHeaderConverter};
use kconnect_plugin_api::abi_stable::std_types::{RArc, Tuple2};
use kconnect_plugin_api::{Header, Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value};
use std::collections::BTreeMap;

const TOPIC: &str = "t";

fn text_of(schema: Option<SchemaRef>, value: Value) -> Option<String> {
    let header = Header::new("k", schema, value);
    SimpleHeaderConverter
        .from_header(TOPIC, &header)
        .unwrap()
        .map(|bytes| String::from_utf8(bytes).unwrap())
}

fn parsed(text: &str) -> (Option<Schema>, Value) {
    let header = SimpleHeaderConverter
        .to_header(TOPIC, "k", Some(text.as_bytes()))
        .unwrap();
    assert_eq!(header.key.as_str(), "k");
    (
        header.schema.into_option().map(|s| (*s).clone()),
        header.value,
    )
}

fn required(t: SchemaType) -> Option<Schema> {
    Some(Schema::primitive(t))
}

#[test]
fn values_are_written_as_kafkas_values_strings() {
    assert_eq!(
        text_of(None, Value::from("plain")).as_deref(),
        Some("plain")
    );
    assert_eq!(text_of(None, Value::Int32(42)).as_deref(), Some("42"));
    assert_eq!(text_of(None, Value::Float64(2.5)).as_deref(), Some("2.5"));
    assert_eq!(text_of(None, Value::Boolean(true)).as_deref(), Some("true"));
    assert_eq!(
        text_of(None, Value::from(vec![1u8, 2, 3])).as_deref(),
        Some("AQID")
    );
    assert_eq!(text_of(None, Value::Null), None);
    let list = Value::Array(vec![Value::from("a\"b"), Value::Int8(1), Value::Null].into());
    assert_eq!(text_of(None, list).as_deref(), Some(r#"["a\"b",1,null]"#));
    let map = Value::Map(vec![Tuple2(Value::from("k"), Value::Float32(1.5))].into());
    assert_eq!(text_of(None, map).as_deref(), Some(r#"{"k":1.5}"#));
    let schema = SchemaBuilder::struct_()
        .field("id", RArc::new(Schema::primitive(SchemaType::Int64)))
        .field(
            "name",
            SchemaBuilder::new(SchemaType::String)
                .optional()
                .default_value(Value::from("anon"))
                .build_ref(),
        )
        .build_ref();
    let value = Value::Struct(
        Struct::new(schema.clone())
            .with("id", Value::Int64(7))
            .with("name", Value::Null),
    );
    assert_eq!(
        text_of(Some(schema), value).as_deref(),
        Some(r#"{"id":7,"name":"anon"}"#)
    );
}

#[test]
fn logical_values_are_written_as_iso_8601_and_decimal_text() {
    let date = SchemaBuilder::date().build_ref();
    assert_eq!(
        text_of(Some(date.clone()), Value::Int32(19_723)).as_deref(),
        Some("2024-01-01")
    );
    // Kafka formats the epoch day as a time of day, since its millisecond value is below one day.
    assert_eq!(
        text_of(Some(date), Value::Int32(0)).as_deref(),
        Some("00:00:00.000Z")
    );
    let time = SchemaBuilder::time().build_ref();
    assert_eq!(
        text_of(Some(time), Value::Int32(45_296_789)).as_deref(),
        Some("12:34:56.789Z")
    );
    let timestamp = SchemaBuilder::timestamp().build_ref();
    assert_eq!(
        text_of(Some(timestamp), Value::Int64(1_704_164_645_123)).as_deref(),
        Some("2024-01-02T03:04:05.123Z")
    );
    let decimal = SchemaBuilder::decimal(2).build_ref();
    assert_eq!(
        text_of(Some(decimal), Value::from(vec![0xFF, 0x64])).as_deref(),
        Some("-1.56")
    );
}

#[test]
fn text_is_parsed_into_the_narrowest_type() {
    assert_eq!(
        parsed("true"),
        (required(SchemaType::Boolean), Value::Boolean(true))
    );
    assert_eq!(
        parsed(" false "),
        (required(SchemaType::Boolean), Value::Boolean(false))
    );
    assert_eq!(parsed("null"), (None, Value::Null));
    assert_eq!(parsed(""), (required(SchemaType::String), Value::from("")));
    assert_eq!(
        parsed("   "),
        (required(SchemaType::String), Value::from("   "))
    );
    assert_eq!(parsed("12"), (required(SchemaType::Int8), Value::Int8(12)));
    assert_eq!(
        parsed("-300"),
        (required(SchemaType::Int16), Value::Int16(-300))
    );
    assert_eq!(
        parsed("70000"),
        (required(SchemaType::Int32), Value::Int32(70_000))
    );
    assert_eq!(
        parsed("5000000000"),
        (required(SchemaType::Int64), Value::Int64(5_000_000_000))
    );
    assert_eq!(parsed("1.0"), (required(SchemaType::Int8), Value::Int8(1)));
    assert_eq!(
        parsed("1.5"),
        (required(SchemaType::Float32), Value::Float32(1.5))
    );
    assert_eq!(
        parsed("1e40"),
        (required(SchemaType::Float64), Value::Float64(1e40))
    );
    let (schema, value) = parsed("123456789012345678901234567890");
    assert_eq!(schema, Some(SchemaBuilder::decimal(0).build()));
    let Value::Bytes(bytes) = value else {
        panic!("decimal bytes expected")
    };
    assert_eq!(bytes.len(), 13);
    assert_eq!(
        parsed("hello world"),
        (required(SchemaType::String), Value::from("hello world"))
    );
    assert_eq!(
        parsed("12abc"),
        (required(SchemaType::String), Value::from("12abc"))
    );
    // Arrays and maps stay strings (see the module documentation).
    assert_eq!(
        parsed("[1,2]"),
        (required(SchemaType::String), Value::from("[1,2]"))
    );
}

#[test]
fn temporal_text_is_parsed_into_logical_types() {
    assert_eq!(
        parsed("2024-01-01"),
        (Some(SchemaBuilder::date().build()), Value::Int32(19_723))
    );
    assert_eq!(
        parsed("12:34:56.789Z"),
        (
            Some(SchemaBuilder::time().build()),
            Value::Int32(45_296_789)
        )
    );
    assert_eq!(
        parsed("2024-01-02T03:04:05.123Z"),
        (
            Some(SchemaBuilder::timestamp().build()),
            Value::Int64(1_704_164_645_123)
        )
    );
}

#[test]
fn written_scalars_read_back_as_the_same_values() {
    let values = [
        (
            Some(Schema::primitive(SchemaType::Int16)),
            Value::Int16(-1234),
        ),
        (
            Some(Schema::primitive(SchemaType::Boolean)),
            Value::Boolean(false),
        ),
        (
            Some(SchemaBuilder::timestamp().build()),
            Value::Int64(1_000_000_000_123),
        ),
        (
            Some(Schema::primitive(SchemaType::String)),
            Value::from("just text"),
        ),
    ];
    for (schema, value) in values {
        let text = text_of(schema.clone().map(RArc::new), value.clone()).unwrap();
        assert_eq!(parsed(&text), (schema, value), "{text}");
    }
    let null_header = SimpleHeaderConverter.to_header(TOPIC, "k", None).unwrap();
    assert_eq!(null_header, Header::new("k", None, Value::Null));
}

#[test]
fn string_and_number_converters_serve_as_header_converters() {
    let mut string = builtin_header_converter("StringConverter").unwrap();
    string.configure(&BTreeMap::new()).unwrap();
    let header = Header::new("h", None, Value::Int32(5));
    assert_eq!(
        string.from_header(TOPIC, &header).unwrap(),
        Some(b"5".to_vec())
    );
    let read = string.to_header(TOPIC, "h", Some(b"5")).unwrap();
    assert_eq!(read.value, Value::from("5"));
    let mut long =
        builtin_header_converter("org.apache.kafka.connect.converters.LongConverter").unwrap();
    let header = Header::new("n", None, Value::Int64(258));
    let bytes = long.from_header(TOPIC, &header).unwrap().unwrap();
    assert_eq!(bytes, vec![0, 0, 0, 0, 0, 0, 1, 2]);
    assert_eq!(
        long.to_header(TOPIC, "n", Some(&bytes)).unwrap().value,
        Value::Int64(258)
    );
}
