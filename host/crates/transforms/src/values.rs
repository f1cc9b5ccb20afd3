//! A subset of Kafka's `Values.parseString`, which `InsertHeader` uses to type its literal:
//! `null`, `true`/`false`, integers (the narrowest of INT8…INT64, a Decimal beyond), other numbers
//! (FLOAT32 when finite as a float, else FLOAT64), ISO dates/times/timestamps as the Connect logical
//! types, and `[…]` arrays and `{k:v}` maps of these (embedded strings must be quoted). Anything
//! else is the original text as a STRING.

use kconnect_plugin_api::abi_stable::std_types::Tuple2;
use kconnect_plugin_api::{SchemaBuilder, SchemaRef, SchemaType, Value};

use crate::java_date::JavaDateFormat;

type Typed = (Option<SchemaRef>, Value);

/// Parses a literal as Kafka's `Values.parseString` would type it.
pub(crate) fn parse_string(text: &str) -> Typed {
    let string = || {
        (
            Some(SchemaBuilder::new(SchemaType::String).build_ref()),
            Value::String(text.into()),
        )
    };
    if text.trim().is_empty() {
        return string();
    }
    parse_value(text.trim(), false).unwrap_or_else(string)
}

fn parse_value(token: &str, embedded: bool) -> Option<Typed> {
    match token {
        "null" => return Some((None, Value::Null)),
        "true" => return Some((Some(primitive(SchemaType::Boolean)), Value::Boolean(true))),
        "false" => return Some((Some(primitive(SchemaType::Boolean)), Value::Boolean(false))),
        _ => {}
    }
    if embedded && token.len() >= 2 && token.starts_with('"') && token.ends_with('"') {
        let inner = token[1..token.len() - 1].replace("\\\"", "\"");
        return Some((
            Some(primitive(SchemaType::String)),
            Value::String(inner.into()),
        ));
    }
    if token.starts_with('[') && token.ends_with(']') {
        return parse_array(&token[1..token.len() - 1]);
    }
    if token.starts_with('{') && token.ends_with('}') {
        return parse_map(&token[1..token.len() - 1]);
    }
    let first = token.chars().next()?;
    if first.is_ascii_digit() {
        if let Some(temporal) = parse_temporal(token) {
            return Some(temporal);
        }
    }
    if first.is_ascii_digit() || first == '+' || first == '-' || first == '.' {
        if let Some(number) = parse_number(token) {
            return Some(number);
        }
    }
    None
}

fn primitive(schema_type: SchemaType) -> SchemaRef {
    SchemaBuilder::new(schema_type).build_ref()
}

fn parse_temporal(token: &str) -> Option<Typed> {
    const DAY_MILLIS: i64 = 86_400_000;
    let shape: String = token
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    match shape.as_str() {
        "dddd-dd-dd" => {
            let millis = JavaDateFormat::compile("yyyy-MM-dd")
                .ok()?
                .parse(token)
                .ok()?;
            let days = i32::try_from(millis.div_euclid(DAY_MILLIS)).ok()?;
            Some((Some(SchemaBuilder::date().build_ref()), Value::Int32(days)))
        }
        "dd:dd:dd.dddZ" => {
            let millis = JavaDateFormat::compile("HH:mm:ss.SSS'Z'")
                .ok()?
                .parse(token)
                .ok()?;
            Some((
                Some(SchemaBuilder::time().build_ref()),
                Value::Int32(millis.rem_euclid(DAY_MILLIS) as i32),
            ))
        }
        "dddd-dd-ddTdd:dd:dd.dddZ" => {
            let millis = JavaDateFormat::compile("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
                .ok()?
                .parse(token)
                .ok()?;
            Some((
                Some(SchemaBuilder::timestamp().build_ref()),
                Value::Int64(millis),
            ))
        }
        _ => None,
    }
}

/// A Java `BigDecimal` literal: sign, digits with an optional point, optional exponent.
fn parse_number(token: &str) -> Option<Typed> {
    let (mantissa, exponent) = match token.find(['e', 'E']) {
        Some(at) => (&token[..at], token[at + 1..].parse::<i32>().ok()?),
        None => (token, 0),
    };
    let unsigned = mantissa.trim_start_matches(['+', '-']);
    if mantissa.len() - unsigned.len() > 1 {
        return None;
    }
    let (int_digits, frac_digits) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if (int_digits.is_empty() && frac_digits.is_empty())
        || !all_digits(int_digits)
        || !all_digits(frac_digits)
    {
        return None;
    }
    let frac_significant = frac_digits.trim_end_matches('0');
    let scale = frac_significant.len() as i64 - exponent as i64;
    let negative = mantissa.starts_with('-');
    if scale <= 0 || (int_digits.chars().chain(frac_digits.chars())).all(|c| c == '0') {
        let digits = format!("{int_digits}{frac_significant}");
        let zeros = (-scale).max(0) as usize;
        let magnitude: i128 = format!("{digits}{}", "0".repeat(zeros)).parse().ok()?;
        let value = if negative { -magnitude } else { magnitude };
        return Some(if let Ok(v) = i8::try_from(value) {
            (Some(primitive(SchemaType::Int8)), Value::Int8(v))
        } else if let Ok(v) = i16::try_from(value) {
            (Some(primitive(SchemaType::Int16)), Value::Int16(v))
        } else if let Ok(v) = i32::try_from(value) {
            (Some(primitive(SchemaType::Int32)), Value::Int32(v))
        } else if let Ok(v) = i64::try_from(value) {
            (Some(primitive(SchemaType::Int64)), Value::Int64(v))
        } else {
            let bytes = value.to_be_bytes();
            let skip = bytes
                .windows(2)
                .take_while(|w| {
                    (w[0] == 0 && w[1] & 0x80 == 0) || (w[0] == 0xff && w[1] & 0x80 != 0)
                })
                .count();
            (
                Some(SchemaBuilder::decimal(0).build_ref()),
                Value::Bytes(bytes[skip..].to_vec().into()),
            )
        });
    }
    let as_double: f64 = token.parse().ok()?;
    let as_float = as_double as f32;
    Some(if as_float.is_finite() {
        (
            Some(primitive(SchemaType::Float32)),
            Value::Float32(as_float),
        )
    } else {
        (
            Some(primitive(SchemaType::Float64)),
            Value::Float64(as_double),
        )
    })
}

/// Splits at top-level `sep`, outside quotes and brackets.
fn split_top_level(text: &str, sep: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if in_quotes {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_quotes = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if depth != 0 || in_quotes {
        return None;
    }
    parts.push(&text[start..]);
    Some(parts)
}

/// The schema shared by all non-null elements (integers widen), or none.
fn common_schema(schemas: &[Option<SchemaRef>]) -> Option<SchemaRef> {
    let rank = |t: SchemaType| match t {
        SchemaType::Int8 => Some(0),
        SchemaType::Int16 => Some(1),
        SchemaType::Int32 => Some(2),
        SchemaType::Int64 => Some(3),
        _ => None,
    };
    let mut common: Option<SchemaRef> = None;
    for schema in schemas.iter().flatten() {
        common = match common {
            None => Some(schema.clone()),
            Some(c) if *c == **schema => Some(c),
            Some(c) => match (rank(c.schema_type), rank(schema.schema_type)) {
                (Some(a), Some(b)) if c.name.is_none() && schema.name.is_none() => {
                    Some(if a >= b { c } else { schema.clone() })
                }
                _ => return None,
            },
        };
    }
    common
}

fn widen(value: Value, schema: &Option<SchemaRef>) -> Value {
    let Some(schema) = schema else { return value };
    match (schema.schema_type, value.as_i64()) {
        (SchemaType::Int16, Some(v)) => Value::Int16(v as i16),
        (SchemaType::Int32, Some(v)) => Value::Int32(v as i32),
        (SchemaType::Int64, Some(v)) => Value::Int64(v),
        _ => value,
    }
}

fn parse_array(body: &str) -> Option<Typed> {
    let mut elements = Vec::new();
    if !body.trim().is_empty() {
        for part in split_top_level(body, ',')? {
            elements.push(parse_value(part.trim(), true)?);
        }
    }
    let schemas: Vec<Option<SchemaRef>> = elements.iter().map(|(s, _)| s.clone()).collect();
    let common = common_schema(&schemas);
    let values = elements
        .into_iter()
        .map(|(_, v)| widen(v, &common))
        .collect();
    let schema = common.map(|element| {
        let element = if schemas.iter().any(Option::is_none) {
            let mut optional = (*element).clone();
            optional.optional = true;
            SchemaRef::new(optional)
        } else {
            element
        };
        SchemaBuilder::array(element).build_ref()
    });
    Some((schema, Value::Array(values)))
}

fn parse_map(body: &str) -> Option<Typed> {
    let mut entries = Vec::new();
    if !body.trim().is_empty() {
        for part in split_top_level(body, ',')? {
            let pair = split_top_level(part, ':')?;
            let [key, value] = pair.as_slice() else {
                return None;
            };
            entries.push((
                parse_value(key.trim(), true)?,
                parse_value(value.trim(), true)?,
            ));
        }
    }
    let key_schemas: Vec<_> = entries.iter().map(|((s, _), _)| s.clone()).collect();
    let value_schemas: Vec<_> = entries.iter().map(|(_, (s, _))| s.clone()).collect();
    let key_schema = common_schema(&key_schemas);
    let value_schema = common_schema(&value_schemas);
    let schema = match (&key_schema, &value_schema) {
        (Some(k), Some(v)) => Some(SchemaBuilder::map(k.clone(), v.clone()).build_ref()),
        _ => None,
    };
    let values = entries
        .into_iter()
        .map(|((_, k), (_, v))| Tuple2(widen(k, &key_schema), widen(v, &value_schema)))
        .collect();
    Some((schema, Value::Map(values)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> (Option<SchemaType>, Value) {
        let (schema, value) = parse_string(text);
        (schema.map(|s| s.schema_type), value)
    }

    #[test]
    fn literals_get_kafkas_types() {
        let cases: Vec<(&str, Option<SchemaType>, Value)> = vec![
            ("1234", Some(SchemaType::Int16), Value::Int16(1234)),
            ("7", Some(SchemaType::Int8), Value::Int8(7)),
            ("-70000", Some(SchemaType::Int32), Value::Int32(-70000)),
            (
                "9753186420",
                Some(SchemaType::Int64),
                Value::Int64(9_753_186_420),
            ),
            ("3.25", Some(SchemaType::Float32), Value::Float32(3.25)),
            ("true", Some(SchemaType::Boolean), Value::Boolean(true)),
            ("null", None, Value::Null),
            (
                "best-app-ever",
                Some(SchemaType::String),
                "best-app-ever".into(),
            ),
            ("", Some(SchemaType::String), "".into()),
            ("1970-01-02", Some(SchemaType::Int32), Value::Int32(1)),
        ];
        for (text, schema_type, value) in cases {
            assert_eq!(typed(text), (schema_type, value), "{text}");
        }
    }

    #[test]
    fn arrays_and_maps_are_typed_by_their_elements() {
        let (schema, value) = parse_string("[-3, 0, 5]");
        let schema = schema.unwrap();
        assert_eq!(schema.schema_type, SchemaType::Array);
        assert_eq!(schema.value_schema().unwrap().schema_type, SchemaType::Int8);
        assert_eq!(
            value,
            Value::Array(vec![Value::Int8(-3), Value::Int8(0), Value::Int8(5)].into())
        );
        let (schema, _) = parse_string("{3.4: 4761, -5.9: -9753186420}");
        let schema = schema.unwrap();
        assert_eq!(
            schema.key_schema().unwrap().schema_type,
            SchemaType::Float32
        );
        assert_eq!(
            schema.value_schema().unwrap().schema_type,
            SchemaType::Int64
        );
        // An unquoted word inside an array is not a Connect value: the whole text is a string.
        assert_eq!(typed("[a, b]"), (Some(SchemaType::String), "[a, b]".into()));
    }
}
