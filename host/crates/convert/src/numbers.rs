//! Kafka's fixed-width converters: `ByteArrayConverter` (bytes as they are), `BooleanConverter`
//! (one byte, 0 or 1) and the number converters (big-endian two's complement or IEEE 754 bits, as
//! Kafka's `ShortSerializer`…`DoubleSerializer`). Reading always yields the optional schema of the
//! converter's type; a null value is a Kafka null both ways.

use crate::registry::parse_config;
use crate::{ConvertError, Converter};
use kconnect_plugin_api::abi_stable::std_types::RArc;
use kconnect_plugin_api::{ConfigDef, Schema, SchemaRef, SchemaType, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The optional schema of a primitive type, shared: reading a record then costs no allocation.
pub(crate) fn optional_schema(schema_type: SchemaType) -> SchemaRef {
    static SHARED: [OnceLock<SchemaRef>; 12] = [const { OnceLock::new() }; 12];
    RArc::clone(
        SHARED[schema_type as usize]
            .get_or_init(|| RArc::new(Schema::optional_primitive(schema_type))),
    )
}

pub(crate) fn check_type_config(
    config: &BTreeMap<String, String>,
    converter_type: &str,
) -> Result<(), ConvertError> {
    let def = ConfigDef::new().define(crate::registry::converter_type_key());
    parse_config(&def, config, converter_type).map(|_| ())
}

/// Kafka's `ByteArrayConverter`: BYTES values pass through unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn configure(
        &mut self,
        config: &BTreeMap<String, String>,
        is_key: bool,
    ) -> Result<(), ConvertError> {
        check_type_config(config, if is_key { "key" } else { "value" })
    }

    fn from_connect_into(
        &mut self,
        _topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, ConvertError> {
        if let Some(schema) = schema {
            if schema.schema_type != SchemaType::Bytes {
                return Err(ConvertError::data(format!(
                    "Invalid schema type for ByteArrayConverter: {}",
                    schema.schema_type.upper_name()
                )));
            }
        }
        match value {
            Value::Null => Ok(false),
            Value::Bytes(bytes) => {
                out.extend_from_slice(bytes);
                Ok(true)
            }
            other => Err(ConvertError::data(format!(
                "ByteArrayConverter is not compatible with objects of type {}",
                other.type_name()
            ))),
        }
    }

    fn to_connect(
        &mut self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        let value = match bytes {
            Some(bytes) => Value::Bytes(bytes.to_vec().into()),
            None => Value::Null,
        };
        Ok((Some(optional_schema(SchemaType::Bytes)), value))
    }
}

header_via_converter!(ByteArrayConverter);

/// Kafka's `BooleanConverter`: one byte, `1` for true and `0` for false.
#[derive(Clone, Copy, Debug, Default)]
pub struct BooleanConverter;

impl Converter for BooleanConverter {
    fn configure(
        &mut self,
        config: &BTreeMap<String, String>,
        is_key: bool,
    ) -> Result<(), ConvertError> {
        check_type_config(config, if is_key { "key" } else { "value" })
    }

    fn from_connect_into(
        &mut self,
        _topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, ConvertError> {
        if let Some(schema) = schema {
            if schema.schema_type != SchemaType::Boolean {
                return Err(ConvertError::data(format!(
                    "Invalid schema type for BooleanConverter: {}",
                    schema.schema_type.upper_name()
                )));
            }
        }
        match value {
            Value::Null => Ok(false),
            Value::Boolean(b) => {
                out.push(u8::from(*b));
                Ok(true)
            }
            other => Err(ConvertError::data(format!(
                "BooleanConverter is not compatible with objects of type {}",
                other.type_name()
            ))),
        }
    }

    fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        let value = match bytes {
            None => Value::Null,
            Some([0]) => Value::Boolean(false),
            Some([1]) => Value::Boolean(true),
            Some([other]) => {
                return Err(ConvertError::deserialization(
                    topic,
                    format!(
                        "Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: {}",
                        *other as i8
                    ),
                ))
            }
            Some(_) => {
                return Err(ConvertError::deserialization(
                    topic,
                    "Failed to deserialize boolean: Size of data received by BooleanDeserializer is not 1",
                ))
            }
        };
        Ok((Some(optional_schema(SchemaType::Boolean)), value))
    }
}

header_via_converter!(BooleanConverter);

macro_rules! number_converter {
    ($(#[$doc:meta])* $name:ident, $variant:ident, $rust:ty, $schema_type:expr, $type_name:literal,
     $deserializer:literal, $to_bytes:expr, $from_bytes:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl Converter for $name {
            fn configure(
                &mut self,
                config: &BTreeMap<String, String>,
                is_key: bool,
            ) -> Result<(), ConvertError> {
                check_type_config(config, if is_key { "key" } else { "value" })
            }

            fn from_connect_into(
                &mut self,
                _topic: &str,
                _schema: Option<&SchemaRef>,
                value: &Value,
                out: &mut Vec<u8>,
            ) -> Result<bool, ConvertError> {
                let to_bytes: fn($rust) -> [u8; std::mem::size_of::<$rust>()] = $to_bytes;
                match value {
                    Value::Null => Ok(false),
                    Value::$variant(v) => {
                        out.extend_from_slice(&to_bytes(*v));
                        Ok(true)
                    }
                    other => Err(ConvertError::data(format!(
                        concat!("Failed to serialize to ", $type_name, " (was {})"),
                        other.type_name()
                    ))),
                }
            }

            fn to_connect(
                &mut self,
                topic: &str,
                bytes: Option<&[u8]>,
            ) -> Result<(Option<SchemaRef>, Value), ConvertError> {
                let from_bytes: fn([u8; std::mem::size_of::<$rust>()]) -> $rust = $from_bytes;
                let value = match bytes {
                    None => Value::Null,
                    Some(bytes) => {
                        let fixed = bytes.try_into().map_err(|_| {
                            ConvertError::deserialization(
                                topic,
                                format!(
                                    concat!(
                                        "Failed to deserialize ",
                                        $type_name,
                                        ": Size of data received by ",
                                        $deserializer,
                                        " is not {}"
                                    ),
                                    std::mem::size_of::<$rust>()
                                ),
                            )
                        })?;
                        Value::$variant(from_bytes(fixed))
                    }
                };
                Ok((Some(optional_schema($schema_type)), value))
            }
        }

        header_via_converter!($name);
    };
}

number_converter!(
    /// Kafka's `ShortConverter`: INT16 as 2 big-endian bytes.
    ShortConverter, Int16, i16, SchemaType::Int16, "short", "ShortDeserializer",
    |v| v.to_be_bytes(), i16::from_be_bytes
);
number_converter!(
    /// Kafka's `IntegerConverter`: INT32 as 4 big-endian bytes.
    IntegerConverter, Int32, i32, SchemaType::Int32, "integer", "IntegerDeserializer",
    |v| v.to_be_bytes(), i32::from_be_bytes
);
number_converter!(
    /// Kafka's `LongConverter`: INT64 as 8 big-endian bytes.
    LongConverter, Int64, i64, SchemaType::Int64, "long", "LongDeserializer",
    |v| v.to_be_bytes(), i64::from_be_bytes
);
number_converter!(
    /// Kafka's `FloatConverter`: FLOAT32 as its 4 raw IEEE 754 bytes, big-endian.
    FloatConverter, Float32, f32, SchemaType::Float32, "float", "FloatDeserializer",
    |v| v.to_bits().to_be_bytes(), |b| f32::from_bits(u32::from_be_bytes(b))
);
number_converter!(
    /// Kafka's `DoubleConverter`: FLOAT64 as 8 IEEE 754 bytes, big-endian, NaNs in the canonical
    /// form (Java's `doubleToLongBits`).
    DoubleConverter, Float64, f64, SchemaType::Float64, "double", "DoubleDeserializer",
    |v| if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() }.to_be_bytes(),
    |b| f64::from_bits(u64::from_be_bytes(b))
);
