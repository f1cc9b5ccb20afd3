//! JSON trees to Connect schemas and values, as Kafka's `asConnectSchema` and `convertToConnect`.
//!
//! Where Kafka coerces a JSON value of the wrong kind into a meaningless Java value (`0` for a
//! string read as INT32, `null` for a number read as STRING, an empty list for a non-array read
//! as ARRAY) this module fails with a message naming the field type and the JSON node type instead.
//! Numbers read into a narrower integer type wrap as Java's `intValue()`/`longValue()` do.

use super::logical;
use super::parser::{Node, Number};
use crate::bigint::BigDecimal;
use crate::java_hash_map::{to_java_hash_map_order, HashMapOrigin};
use crate::ConvertError;
use base64::Engine;
use kconnect_plugin_api::abi_stable::std_types::{RArc, RBox, ROption, RVec, Tuple2};
use kconnect_plugin_api::data::{
    DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME, TIME_LOGICAL_NAME,
};
use kconnect_plugin_api::{Field, Schema, SchemaRef, SchemaType, Struct, Value};

/// Kafka's `asConnectSchema`; `None` for a JSON null (no schema).
pub(crate) fn parse_schema(
    node: &Node<'_>,
    replace_null_with_default: bool,
) -> Result<Option<SchemaRef>, ConvertError> {
    if matches!(node, Node::Null) {
        return Ok(None);
    }
    Ok(Some(nested_schema(node, replace_null_with_default)?))
}

/// A schema that must exist: `null` there is not "no schema". Kept out of line, as is every error
/// message, so that deeply nested schemas use little stack per level.
#[inline(never)]
fn nested_schema(node: &Node<'_>, replace: bool) -> Result<SchemaRef, ConvertError> {
    Ok(RArc::new(schema_of(node, replace)?))
}

#[cold]
#[inline(never)]
fn schema_error(message: String) -> ConvertError {
    ConvertError::Data(message)
}

fn schema_of(node: &Node<'_>, replace: bool) -> Result<Schema, ConvertError> {
    let type_name = match node.get("type") {
        Some(Node::String(name)) => name.as_ref(),
        _ => return Err(schema_error("Schema must contain 'type' field".into())),
    };
    let schema_type = SchemaType::from_json_name(type_name)
        .ok_or_else(|| schema_error(format!("Unknown schema type: {type_name}")))?;
    let mut schema = Schema::primitive(schema_type);
    match schema_type {
        SchemaType::Array => match node.get("items") {
            None | Some(Node::Null) => {
                return Err(schema_error(
                    "Array schema did not specify the element type".into(),
                ))
            }
            Some(items) => schema.value_schema = ROption::RSome(nested_schema(items, replace)?),
        },
        SchemaType::Map => {
            let keys = node
                .get("keys")
                .ok_or_else(|| schema_error("Map schema did not specify the key type".into()))?;
            let values = node
                .get("values")
                .ok_or_else(|| schema_error("Map schema did not specify the value type".into()))?;
            schema.key_schema = ROption::RSome(nested_schema(keys, replace)?);
            schema.value_schema = ROption::RSome(nested_schema(values, replace)?);
        }
        SchemaType::Struct => {
            let Some(Node::Array(fields)) = node.get("fields") else {
                return Err(schema_error(
                    "Struct schema's \"fields\" argument is not an array.".into(),
                ));
            };
            for field in fields {
                let Some(Node::String(field_name)) = field.get("field") else {
                    return Err(schema_error(
                        "Struct schema's field name not specified properly".into(),
                    ));
                };
                if schema.field(field_name).is_some() {
                    return Err(schema_error(format!(
                        "Cannot create field because of field name duplication {field_name}"
                    )));
                }
                let index = schema.fields.len() as u32;
                schema.fields.push(Field {
                    name: field_name.as_ref().into(),
                    index,
                    schema: nested_schema(field, replace)?,
                });
            }
        }
        _ => {}
    }
    schema.optional = matches!(node.get("optional"), Some(Node::Bool(true)));
    if let Some(Node::String(name)) = node.get("name") {
        schema.name = ROption::RSome(name.as_ref().into());
    }
    if let Some(Node::Number(version)) = node.get("version") {
        if version.integral {
            schema.version = ROption::RSome(wrapping_i64(version) as i32);
        }
    }
    if let Some(Node::String(doc)) = node.get("doc") {
        schema.doc = ROption::RSome(doc.as_ref().into());
    }
    if let Some(Node::Object(parameters)) = node.get("parameters") {
        for (key, value) in parameters {
            let Node::String(value) = value else {
                return Err(schema_error(
                    "Schema parameters must have string values.".into(),
                ));
            };
            schema
                .parameters
                .push(Tuple2(key.as_ref().into(), value.as_ref().into()));
        }
    }
    if let Some(default_node) = node.get("default") {
        // The default is read against the schema as built so far, without a default of its own.
        let without_default = RArc::new(schema.clone());
        let default = to_connect(Some(&without_default), Some(default_node), replace)?;
        if !default.is_null() {
            schema.default_value = ROption::RSome(RBox::new(default));
        }
    }
    Ok(schema)
}

/// Kafka's `convertToConnect`. `node` is `None` for a missing struct field.
pub(crate) fn to_connect(
    schema: Option<&SchemaRef>,
    node: Option<&Node<'_>>,
    replace_null_with_default: bool,
) -> Result<Value, ConvertError> {
    let Some(schema) = schema else {
        return Ok(match node {
            None => Value::Null,
            Some(node) => schemaless(node),
        });
    };
    let node = match node {
        None | Some(Node::Null) => {
            if replace_null_with_default {
                if let Some(default) = schema.default_value().filter(|d| !d.is_null()) {
                    return Ok(default.clone());
                }
            }
            if schema.optional {
                return Ok(Value::Null);
            }
            return Err(ConvertError::data(format!(
                "Invalid null value for required {} field",
                schema.schema_type.upper_name()
            )));
        }
        Some(node) => node,
    };
    match schema.name() {
        Some(DECIMAL_LOGICAL_NAME) => return read_decimal(schema, node),
        Some(DATE_LOGICAL_NAME) | Some(TIME_LOGICAL_NAME) => {
            let kind = if schema.name() == Some(DATE_LOGICAL_NAME) {
                "Date"
            } else {
                "Time"
            };
            return match node {
                // Jackson's `isInt`: an integer literal within the int range.
                Node::Number(n) if n.integral && n.text.parse::<i32>().is_ok() => {
                    Ok(Value::Int32(wrapping_i64(n) as i32))
                }
                other => Err(ConvertError::data(format!(
                    "Invalid type for {kind}, underlying representation should be integer but was {}",
                    other.type_name()
                ))),
            };
        }
        Some(TIMESTAMP_LOGICAL_NAME) => {
            return match node {
                Node::Number(n) if n.integral => Ok(Value::Int64(wrapping_i64(n))),
                other => Err(ConvertError::data(format!(
                    "Invalid type for Timestamp, underlying representation should be integral but was {}",
                    other.type_name()
                ))),
            };
        }
        _ => {}
    }
    let mismatch = || {
        ConvertError::data(format!(
            "Invalid value for {} schema: expected {} but found JSON {}",
            schema.schema_type.upper_name(),
            expected_json(schema.schema_type),
            node.type_name()
        ))
    };
    Ok(match (schema.schema_type, node) {
        (SchemaType::Boolean, Node::Bool(b)) => Value::Boolean(*b),
        (SchemaType::Int8, Node::Number(n)) => Value::Int8(wrapping_i64(n) as i32 as i8),
        (SchemaType::Int16, Node::Number(n)) => Value::Int16(wrapping_i64(n) as i32 as i16),
        (SchemaType::Int32, Node::Number(n)) => Value::Int32(wrapping_i64(n) as i32),
        (SchemaType::Int64, Node::Number(n)) => Value::Int64(wrapping_i64(n)),
        (SchemaType::Float32, Node::Number(n)) => Value::Float32(without_negative_zero(
            n.text.parse().map_err(|_| mismatch())?,
        )),
        (SchemaType::Float64, Node::Number(n)) => Value::Float64(without_negative_zero(
            n.text.parse().map_err(|_| mismatch())?,
        )),
        (SchemaType::String, Node::String(s)) => Value::String(s.as_ref().into()),
        (SchemaType::Bytes, Node::String(s)) => Value::Bytes(
            decode_base64(s)
                .ok_or_else(|| ConvertError::data("Invalid bytes field"))?
                .into(),
        ),
        (SchemaType::Array, Node::Array(items)) => {
            let element = schema.value_schema();
            let mut values = RVec::with_capacity(items.len());
            for item in items {
                values.push(to_connect(element, Some(item), replace_null_with_default)?);
            }
            Value::Array(values)
        }
        (SchemaType::Map, _) => read_map(schema, node, replace_null_with_default)?,
        (SchemaType::Struct, Node::Object(members)) => {
            let mut values = Struct::values_for(schema.fields.len());
            for (i, field) in schema.fields.iter().enumerate() {
                // Fields usually arrive in schema order, so look at the same position first.
                let member = match members.get(i) {
                    Some((key, value)) if key == field.name.as_str() => Some(value),
                    _ => members
                        .iter()
                        .find(|(key, _)| key == field.name.as_str())
                        .map(|(_, value)| value),
                };
                values.push(to_connect(
                    Some(&field.schema),
                    member,
                    replace_null_with_default,
                )?);
            }
            Value::Struct(Struct {
                schema: RArc::clone(schema),
                values,
            })
        }
        (SchemaType::Struct, other) => {
            return Err(ConvertError::data(format!(
                "Structs should be encoded as JSON objects, but found {}",
                other.type_name()
            )))
        }
        _ => return Err(mismatch()),
    })
}

fn expected_json(schema_type: SchemaType) -> &'static str {
    match schema_type {
        SchemaType::Boolean => "a JSON boolean",
        SchemaType::String => "a JSON string",
        SchemaType::Bytes => "a base64 JSON string",
        SchemaType::Array => "a JSON array",
        SchemaType::Map | SchemaType::Struct => "a JSON object",
        _ => "a JSON number",
    }
}

fn read_map(schema: &Schema, node: &Node<'_>, replace: bool) -> Result<Value, ConvertError> {
    let key_schema = schema.key_schema();
    let value_schema = schema.value_schema();
    let string_keys = key_schema.is_none_or(|k| k.schema_type == SchemaType::String);
    let mut entries = RVec::new();
    if string_keys {
        let Node::Object(members) = node else {
            return Err(ConvertError::data(format!(
                "Maps with string fields should be encoded as JSON objects, but found {}",
                node.type_name()
            )));
        };
        entries.reserve(members.len());
        for (key, value) in members {
            entries.push(Tuple2(
                Value::String(key.as_ref().into()),
                to_connect(value_schema, Some(value), replace)?,
            ));
        }
    } else {
        let Node::Array(pairs) = node else {
            return Err(ConvertError::data(format!(
                "Maps with non-string fields should be encoded as JSON array of tuples, but found {}",
                node.type_name()
            )));
        };
        entries.reserve(pairs.len());
        for pair in pairs {
            let Node::Array(tuple) = pair else {
                return Err(ConvertError::data(format!(
                    "Found invalid map entry instead of array tuple: {}",
                    pair.type_name()
                )));
            };
            if tuple.len() != 2 {
                return Err(ConvertError::data(format!(
                    "Found invalid map entry, expected length 2 but found :{}",
                    tuple.len()
                )));
            }
            entries.push(Tuple2(
                to_connect(key_schema, Some(&tuple[0]), replace)?,
                to_connect(value_schema, Some(&tuple[1]), replace)?,
            ));
        }
    }
    // JsonConverter reads every map into a `new HashMap<>()`.
    to_java_hash_map_order(&mut entries, HashMapOrigin::Empty);
    Ok(Value::Map(entries))
}

fn read_decimal(schema: &Schema, node: &Node<'_>) -> Result<Value, ConvertError> {
    let scale = logical::decimal_scale(schema)?;
    match node {
        Node::Number(n) => {
            let decimal = BigDecimal::parse(n.text).ok_or_else(|| {
                ConvertError::data(format!("Invalid number {} for Decimal field", n.text))
            })?;
            let rescaled = decimal.with_scale(scale as i64).ok_or_else(|| {
                ConvertError::data(format!(
                    "Decimal value {} does not fit the schema's scale {scale}",
                    n.text
                ))
            })?;
            Ok(Value::Bytes(rescaled.unscaled_bytes().into()))
        }
        Node::String(text) => match decode_base64(text) {
            Some(bytes) if !bytes.is_empty() => Ok(Value::Bytes(bytes.into())),
            _ => Err(ConvertError::data("Invalid bytes for Decimal field")),
        },
        other => Err(ConvertError::data(format!(
            "Invalid type for Decimal, underlying representation should be numeric or bytes but was {}",
            other.type_name()
        ))),
    }
}

/// Jackson decodes base64 leniently about padding; so does this.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT.decode(text).ok()
}

/// Jackson reads JSON numbers for Kafka as `BigDecimal`s, which have no negative zero: `-0.0`
/// becomes `0.0` before Kafka takes its double or float value.
fn without_negative_zero<F: PartialEq + Default>(value: F) -> F {
    if value == F::default() {
        F::default()
    } else {
        value
    }
}

/// Values without a schema: objects become string-keyed maps, integral numbers INT64, other
/// numbers FLOAT64, as Kafka infers them.
fn schemaless(node: &Node<'_>) -> Value {
    match node {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Boolean(*b),
        Node::Number(n) if n.integral => Value::Int64(wrapping_i64(n)),
        Node::Number(n) => {
            Value::Float64(without_negative_zero(n.text.parse().unwrap_or(f64::NAN)))
        }
        Node::String(s) => Value::String(s.as_ref().into()),
        Node::Array(items) => Value::Array(items.iter().map(schemaless).collect()),
        Node::Object(members) => {
            let mut entries: RVec<Tuple2<Value, Value>> = members
                .iter()
                .map(|(k, v)| Tuple2(Value::String(k.as_ref().into()), schemaless(v)))
                .collect();
            to_java_hash_map_order(&mut entries, HashMapOrigin::Empty);
            Value::Map(entries)
        }
    }
}

/// The number truncated toward zero, keeping the low 64 bits of its two's complement, as Java's
/// `BigDecimal.longValue()` (and so Jackson's `longValue()`/`intValue()`) does.
pub(crate) fn wrapping_i64(number: &Number<'_>) -> i64 {
    let text = number.text;
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (
            &unsigned[..at],
            unsigned[at + 1..].parse::<i64>().unwrap_or(i64::MIN),
        ),
        None => (unsigned, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // Digits of the integer part: all digits shifted by the exponent, the rest truncated.
    let kept = (integer.len() as i64).saturating_add(exponent);
    let mut acc: u64 = 0;
    let digits = integer.bytes().chain(fraction.bytes());
    let mut taken: i64 = 0;
    for d in digits {
        if taken >= kept {
            break;
        }
        acc = acc.wrapping_mul(10).wrapping_add((d - b'0') as u64);
        taken += 1;
    }
    // Past 64 more factors of ten the low 64 bits are all zero (2^64 divides 10^64).
    let zeros = (kept - taken).clamp(0, 64);
    for _ in 0..zeros {
        acc = acc.wrapping_mul(10);
    }
    let value = acc as i64;
    if negative {
        value.wrapping_neg()
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Number<'_> {
        Number {
            text,
            integral: !text.contains(['.', 'e', 'E']),
        }
    }

    #[test]
    fn numbers_truncate_and_wrap_like_java() {
        assert_eq!(wrapping_i64(&number("42")), 42);
        assert_eq!(wrapping_i64(&number("-1.9")), -1);
        assert_eq!(wrapping_i64(&number("1.5e2")), 150);
        assert_eq!(wrapping_i64(&number("12e-1")), 1);
        assert_eq!(wrapping_i64(&number("9223372036854775808")), i64::MIN);
        assert_eq!(wrapping_i64(&number("18446744073709551617")), 1);
        assert_eq!(wrapping_i64(&number("1e100")), 0);
        assert_eq!(wrapping_i64(&number("1e-100")), 0);
        assert_eq!(wrapping_i64(&number("4294967297")) as i32, 1);
    }
}
