//! StringConverter, ByteArrayConverter and the fixed-width converters against Kafka's byte forms.

use kconnect_convert::{
    builtin_converter, BooleanConverter, ByteArrayConverter, ConvertError, Converter,
    DoubleConverter, FloatConverter, IntegerConverter, LongConverter, ShortConverter,
    StringConverter,
};
use kconnect_plugin_api::abi_stable::std_types::{RArc, Tuple2};
use kconnect_plugin_api::{Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value};
use std::collections::BTreeMap;

const TOPIC: &str = "t";

fn no_settings() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn optional(t: SchemaType) -> Schema {
    Schema::optional_primitive(t)
}

fn string_of(converter: &mut dyn Converter, schema: Option<&SchemaRef>, value: Value) -> String {
    let bytes = converter
        .from_connect(TOPIC, schema, &value)
        .unwrap()
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn string_converter_writes_java_to_string_forms() {
    let mut c = StringConverter;
    Converter::configure(&mut c, &no_settings(), false).unwrap();
    assert_eq!(string_of(&mut c, None, Value::from("héllo")), "héllo");
    assert_eq!(string_of(&mut c, None, Value::Int64(-5)), "-5");
    assert_eq!(string_of(&mut c, None, Value::Float64(1.0)), "1.0");
    assert_eq!(string_of(&mut c, None, Value::Float32(1.0e-5)), "1.0E-5");
    assert_eq!(string_of(&mut c, None, Value::Boolean(false)), "false");
    let list = Value::Array(vec![Value::from("a"), Value::Int32(1), Value::Null].into());
    assert_eq!(string_of(&mut c, None, list), "[a, 1, null]");
    let map = Value::Map(
        vec![
            Tuple2(Value::from("k"), Value::Int8(1)),
            Tuple2(Value::Int8(2), Value::from("v")),
        ]
        .into(),
    );
    assert_eq!(string_of(&mut c, None, map), "{k=1, 2=v}");
    let schema = SchemaBuilder::struct_()
        .field("a", RArc::new(Schema::primitive(SchemaType::Int32)))
        .field("b", RArc::new(optional(SchemaType::String)))
        .field("c", RArc::new(optional(SchemaType::String)))
        .build_ref();
    let value = Value::Struct(
        Struct::new(schema.clone())
            .with("a", Value::Int32(1))
            .with("c", Value::from("x")),
    );
    assert_eq!(string_of(&mut c, Some(&schema), value), "Struct{a=1,c=x}");
    let decimal = SchemaBuilder::decimal(3).build_ref();
    assert_eq!(
        string_of(&mut c, Some(&decimal), Value::from(vec![0x30, 0x39])),
        "12.345"
    );
    let timestamp = SchemaBuilder::timestamp().build_ref();
    assert_eq!(
        string_of(&mut c, Some(&timestamp), Value::Int64(86_400_000)),
        "Fri Jan 02 00:00:00 UTC 1970"
    );
    assert_eq!(c.from_connect(TOPIC, None, &Value::Null).unwrap(), None);
}

#[test]
fn string_converter_reads_optional_strings() {
    let mut c = StringConverter;
    let (schema, value) = c.to_connect(TOPIC, Some("naïve".as_bytes())).unwrap();
    assert_eq!(schema.as_deref(), Some(&optional(SchemaType::String)));
    assert_eq!(value, Value::from("naïve"));
    let (schema, value) = c.to_connect(TOPIC, None).unwrap();
    assert_eq!(
        (schema.as_deref(), value),
        (Some(&optional(SchemaType::String)), Value::Null)
    );
    // Invalid UTF-8 decodes with replacement characters, as Java's String constructor does.
    let (_, value) = c.to_connect(TOPIC, Some(b"a\xffb")).unwrap();
    assert_eq!(value, Value::from("a\u{FFFD}b"));
}

#[test]
fn string_converter_supports_only_utf8() {
    let mut c = StringConverter;
    for name in ["UTF-8", "utf8", "Utf-8"] {
        let config = BTreeMap::from([("converter.encoding".to_string(), name.to_string())]);
        Converter::configure(&mut c, &config, true).unwrap();
    }
    let config = BTreeMap::from([("converter.encoding".to_string(), "ISO-8859-1".to_string())]);
    let err = Converter::configure(&mut c, &config, true).unwrap_err();
    assert!(matches!(err, ConvertError::Config(_)));
    assert!(
        err.to_string().contains("ISO-8859-1") && err.to_string().contains("UTF-8"),
        "{err}"
    );
}

#[test]
fn byte_array_converter_passes_bytes_through_and_rejects_the_rest() {
    let mut c = ByteArrayConverter;
    let bytes = Value::from(vec![0u8, 255, 7]);
    let schema = RArc::new(optional(SchemaType::Bytes));
    assert_eq!(
        c.from_connect(TOPIC, Some(&schema), &bytes).unwrap(),
        Some(vec![0, 255, 7])
    );
    assert_eq!(c.from_connect(TOPIC, None, &Value::Null).unwrap(), None);
    let (schema_read, value) = c.to_connect(TOPIC, Some(&[0, 255, 7])).unwrap();
    assert_eq!(
        (schema_read.as_deref(), value),
        (Some(&*schema), bytes.clone())
    );
    let int_schema = RArc::new(Schema::primitive(SchemaType::Int32));
    assert_eq!(
        c.from_connect(TOPIC, Some(&int_schema), &bytes)
            .unwrap_err()
            .to_string(),
        "Invalid schema type for ByteArrayConverter: INT32"
    );
    assert_eq!(
        c.from_connect(TOPIC, None, &Value::from("x"))
            .unwrap_err()
            .to_string(),
        "ByteArrayConverter is not compatible with objects of type STRING"
    );
}

#[test]
fn number_converters_use_big_endian_fixed_widths() {
    let cases: Vec<(&str, Value, Vec<u8>, SchemaType)> = vec![
        (
            "ShortConverter",
            Value::Int16(-2),
            vec![0xFF, 0xFE],
            SchemaType::Int16,
        ),
        (
            "IntegerConverter",
            Value::Int32(0x0102_0304),
            vec![1, 2, 3, 4],
            SchemaType::Int32,
        ),
        (
            "LongConverter",
            Value::Int64(-1),
            vec![0xFF; 8],
            SchemaType::Int64,
        ),
        (
            "FloatConverter",
            Value::Float32(1.5),
            vec![0x3F, 0xC0, 0, 0],
            SchemaType::Float32,
        ),
        (
            "DoubleConverter",
            Value::Float64(-2.0),
            vec![0xC0, 0, 0, 0, 0, 0, 0, 0],
            SchemaType::Float64,
        ),
        (
            "BooleanConverter",
            Value::Boolean(true),
            vec![1],
            SchemaType::Boolean,
        ),
    ];
    for (name, value, bytes, schema_type) in cases {
        let mut c = builtin_converter(name).unwrap();
        c.configure(&no_settings(), false).unwrap();
        assert_eq!(
            c.from_connect(TOPIC, None, &value).unwrap(),
            Some(bytes.clone()),
            "{name}"
        );
        let (schema, read) = c.to_connect(TOPIC, Some(&bytes)).unwrap();
        assert_eq!(schema.as_deref(), Some(&optional(schema_type)), "{name}");
        assert_eq!(read, value, "{name}");
        assert_eq!(
            c.from_connect(TOPIC, None, &Value::Null).unwrap(),
            None,
            "{name}"
        );
        assert_eq!(c.to_connect(TOPIC, None).unwrap().1, Value::Null, "{name}");
    }
    // NaN is written in Java's canonical form.
    let nan = DoubleConverter
        .from_connect(TOPIC, None, &Value::Float64(-f64::NAN))
        .unwrap()
        .unwrap();
    assert_eq!(nan, vec![0x7F, 0xF8, 0, 0, 0, 0, 0, 0]);
}

#[test]
fn number_converters_reject_other_types_and_wrong_sizes() {
    let err = IntegerConverter
        .from_connect(TOPIC, None, &Value::Int64(1))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Failed to serialize to integer (was INT64)"
    );
    let err = LongConverter
        .to_connect("clicks", Some(&[1, 2, 3]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Converting byte[] to Kafka Connect data failed due to serialization error of topic clicks: Failed to deserialize long: Size of data received by LongDeserializer is not 8"
    );
    assert!(ShortConverter.to_connect(TOPIC, Some(&[])).is_err());
    assert!(FloatConverter
        .from_connect(TOPIC, None, &Value::Float64(1.0))
        .is_err());
    let err = BooleanConverter.to_connect(TOPIC, Some(&[2])).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("Unexpected byte received by BooleanDeserializer: 2"),
        "{err}"
    );
    let int_schema = RArc::new(Schema::primitive(SchemaType::Int32));
    let err = BooleanConverter
        .from_connect(TOPIC, Some(&int_schema), &Value::Boolean(true))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Invalid schema type for BooleanConverter: INT32"
    );
}
