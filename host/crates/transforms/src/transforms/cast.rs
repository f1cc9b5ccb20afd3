//! `Cast$Key` / `Cast$Value`: casts fields, or the whole key or value, to a primitive type.
//!
//! Conversions follow Java's: numbers narrow as `Number.byteValue()` etc. do (two's complement
//! truncation, floats through `int`), strings parse as `Byte.parseByte` …, booleans become 1/0,
//! numbers become booleans when their `long` value is not 0, and strings are printed as Java
//! prints numbers (`1.0`, `1.0E7`). BYTES only cast to STRING (base64); Decimal casts as a number;
//! Date/Time/Timestamp cast to STRING as `Values.dateFormatFor` formats them (UTC).

use super::prelude::*;
use crate::java::{double_to_string, float_to_string};
use crate::java_date::JavaDateFormat;
use crate::util::as_java_hash_map;
use base64::Engine;
use kconnect_convert::HashMapOrigin;
use kconnect_plugin_api::data::{
    DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, DECIMAL_SCALE_PARAMETER, TIMESTAMP_LOGICAL_NAME,
    TIME_LOGICAL_NAME,
};
use std::sync::Arc;

pub(crate) const DOC: &str = "Cast fields or the entire key or value to a specific type, e.g. to force an integer field to a smaller width. Cast from integers, floats, boolean and string to any other type, and cast binary to string (base64 encoded).";

const PURPOSE: &str = "cast types";

const INPUT_TYPES: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]";
const OUTPUT_TYPES: &str = "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::required(
            "spec",
            ConfigType::List,
            "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
        )
        .importance(Importance::High),
        replace_null_with_default_spec(),
    ]
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    let mappings = settings.list("spec")?;
    let (casts, whole) = parse_spec(&mappings).map_err(|m| settings.error("spec", m))?;
    Ok(Box::new(Cast {
        side,
        casts,
        whole,
        replace_null: settings.boolean("replace.null.with.default")?,
        plans: SchemaCache::new(),
    }))
}

fn upper_type(name: &str) -> Option<SchemaType> {
    [
        SchemaType::Int8,
        SchemaType::Int16,
        SchemaType::Int32,
        SchemaType::Int64,
        SchemaType::Float32,
        SchemaType::Float64,
        SchemaType::Boolean,
        SchemaType::String,
        SchemaType::Bytes,
        SchemaType::Array,
        SchemaType::Map,
        SchemaType::Struct,
    ]
    .into_iter()
    .find(|t| t.upper_name() == name.trim().to_ascii_uppercase())
}

fn output_type(name: &str) -> Result<SchemaType, String> {
    let t = upper_type(name)
        .ok_or_else(|| format!("Invalid type found in casting spec: {}", name.trim()))?;
    if matches!(
        t,
        SchemaType::Bytes | SchemaType::Array | SchemaType::Map | SchemaType::Struct
    ) {
        return Err(format!(
            "Cast transformation does not support casting to {}; supported types are {OUTPUT_TYPES}",
            t.upper_name()
        ));
    }
    Ok(t)
}

type Casts = Vec<(String, SchemaType)>;

fn parse_spec(mappings: &[String]) -> Result<(Casts, Option<SchemaType>), String> {
    if mappings.is_empty() {
        return Err("Must specify at least one field to cast.".into());
    }
    let mut casts: Casts = Vec::new();
    let mut whole = None;
    for mapping in mappings {
        // Java's String.split drops trailing empty parts.
        let mut parts: Vec<&str> = mapping.split(':').collect();
        while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        match parts.as_slice() {
            [target] => whole = Some(output_type(target)?),
            [field, target] => {
                let target = output_type(target)?;
                let field = field.trim().to_string();
                casts.retain(|(f, _)| *f != field);
                casts.push((field, target));
            }
            _ => return Err(format!("Invalid cast mapping: {mapping}")),
        }
    }
    if whole.is_some() && mappings.len() > 1 {
        return Err("Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec".into());
    }
    Ok((casts, whole))
}

/// The derived schema and, per input field, the type it is cast to.
struct Plan {
    schema: SchemaRef,
    field_targets: Vec<Option<SchemaType>>,
}

struct Cast {
    side: Side,
    casts: Casts,
    whole: Option<SchemaType>,
    replace_null: bool,
    plans: SchemaCache<Arc<Plan>>,
}

impl Cast {
    fn target_of(&self, field: &str) -> Option<SchemaType> {
        self.casts.iter().find(|(f, _)| f == field).map(|(_, t)| *t)
    }

    fn plan(&self, schema: &Schema) -> Result<Plan, TransformError> {
        let mut updated;
        let mut field_targets = Vec::new();
        if let Some(target) = self.whole {
            updated = copy_schema_basics(schema, target);
        } else {
            updated = copy_schema_basics(schema, SchemaType::Struct);
            for field in schema.fields.iter() {
                let target = self.target_of(&field.name);
                field_targets.push(target);
                let field_schema = match target {
                    Some(target) => {
                        let mut cast = Schema::primitive(target);
                        cast.optional = field.schema.optional;
                        if let Some(default) = field.schema.default_value() {
                            let default = cast_value(Some(&field.schema), default.clone(), target)?;
                            cast.default_value = ROption::RSome(RBox::new(default));
                        }
                        SchemaRef::new(cast)
                    }
                    None => field.schema.clone(),
                };
                push_field(&mut updated, &field.name, field_schema);
            }
        }
        updated.optional = schema.optional;
        if let Some(default) = schema.default_value() {
            let default = match (self.whole, default) {
                (Some(target), default) => cast_value(Some(schema), default.clone(), target)?,
                (None, Value::Struct(s)) => {
                    let updated_ref = SchemaRef::new(updated.clone());
                    Value::Struct(self.cast_struct(s.clone(), &updated_ref, &field_targets)?)
                }
                (None, other) => other.clone(),
            };
            updated.default_value = ROption::RSome(RBox::new(default));
        }
        Ok(Plan {
            schema: SchemaRef::new(updated),
            field_targets,
        })
    }

    fn cast_struct(
        &self,
        value: Struct,
        updated: &SchemaRef,
        targets: &[Option<SchemaType>],
    ) -> Result<Struct, TransformError> {
        let (schema, values) = take_values(value, self.replace_null);
        let values = values
            .into_iter()
            .zip(schema.fields.iter().zip(targets))
            .map(|(v, (field, target))| match target {
                Some(target) => cast_value(Some(&field.schema), v, *target),
                None => Ok(v),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Struct {
            schema: updated.clone(),
            values: values.into(),
        })
    }
}

impl Transformation for Cast {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        if self.side.value(record).is_null() {
            return Ok(Verdict::Keep);
        }
        let (schema, value) = self.side.take(record);
        let (schema, value) = match schema {
            None => match self.whole {
                Some(target) => (None, cast_value(None, value, target)?),
                None => {
                    let mut entries = require_map(value, PURPOSE)?;
                    let copied = HashMapOrigin::CopyOf(entries.len());
                    for (field, target) in &self.casts {
                        let current = map_get(&entries, field).cloned().unwrap_or_default();
                        map_put(&mut entries, field, cast_value(None, current, *target)?);
                    }
                    as_java_hash_map(&mut entries, copied);
                    (None, Value::Map(entries))
                }
            },
            Some(schema) => {
                if self.whole.is_none() && !matches!(value, Value::Struct(_)) {
                    return Err(not_a_struct(&value, PURPOSE));
                }
                let plan = {
                    let mut plans = std::mem::replace(&mut self.plans, SchemaCache::new());
                    let plan = plans
                        .get_or_build(&schema, |s| self.plan(s).map(Arc::new))
                        .cloned();
                    self.plans = plans;
                    plan?
                };
                let value = match (self.whole, value) {
                    (Some(target), value) => cast_value(Some(&schema), value, target)?,
                    (None, Value::Struct(s)) => {
                        Value::Struct(self.cast_struct(s, &plan.schema, &plan.field_targets)?)
                    }
                    (None, other) => return Err(not_a_struct(&other, PURPOSE)),
                };
                (Some(plan.schema.clone()), value)
            }
        };
        self.side.put(record, schema, value);
        Ok(Verdict::Keep)
    }
}

/// A number as Java's `Number` subclasses hold it.
enum Number {
    Integer(i64),
    Float(f64),
    /// Unscaled value and scale of a `BigDecimal`.
    Decimal(i128, i32),
}

impl Number {
    /// `Number.intValue()`-style integer: floats through a saturating cast, decimals truncated.
    fn as_long(&self) -> i64 {
        match *self {
            Number::Integer(v) => v,
            Number::Float(v) => v as i64,
            Number::Decimal(unscaled, scale) => decimal_truncate(unscaled, scale) as i64,
        }
    }

    fn as_int(&self) -> i32 {
        match *self {
            Number::Float(v) => v as i32,
            _ => self.as_long() as i32,
        }
    }

    fn as_double(&self) -> f64 {
        match *self {
            Number::Integer(v) => v as f64,
            Number::Float(v) => v,
            Number::Decimal(unscaled, scale) => unscaled as f64 / 10f64.powi(scale),
        }
    }
}

fn decimal_truncate(unscaled: i128, scale: i32) -> i128 {
    if scale <= 0 {
        unscaled.saturating_mul(10i128.saturating_pow((-scale) as u32))
    } else {
        unscaled / 10i128.saturating_pow(scale as u32)
    }
}

fn decimal_of(schema: &Schema, bytes: &[u8]) -> Result<Number, TransformError> {
    let scale: i32 = schema
        .parameter(DECIMAL_SCALE_PARAMETER)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| TransformError::data("Decimal schema has no valid scale parameter"))?;
    if bytes.is_empty() || bytes.len() > 16 {
        return Err(TransformError::data(format!(
            "Cast transformation cannot read a Decimal of {} bytes",
            bytes.len()
        )));
    }
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let mut buffer = [fill; 16];
    buffer[16 - bytes.len()..].copy_from_slice(bytes);
    Ok(Number::Decimal(i128::from_be_bytes(buffer), scale))
}

/// `BigDecimal.toString()`.
fn decimal_to_string(unscaled: i128, scale: i32) -> String {
    let negative = unscaled < 0;
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if negative { "-" } else { "" };
    let adjusted = -(scale as i64) + digits.len() as i64 - 1;
    if scale >= 0 && adjusted >= -6 {
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let scale = scale as usize;
        if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            format!("{sign}{int}.{frac}")
        } else {
            format!("{sign}0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if adjusted >= 0 { "+" } else { "" };
        format!("{sign}{mantissa}E{exp_sign}{adjusted}")
    }
}

/// `Values.dateFormatFor(date).format(date)`, in UTC.
fn date_string(millis: i64) -> String {
    const DAY: i64 = 86_400_000;
    let pattern = if millis < DAY {
        "HH:mm:ss.SSS'Z'"
    } else if millis % DAY == 0 {
        "yyyy-MM-dd"
    } else {
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    };
    JavaDateFormat::compile(pattern)
        .map(|f| f.format(millis))
        .unwrap_or_default()
}

fn unexpected(value: &Value) -> TransformError {
    TransformError::data(format!(
        "Unexpected type in Cast transformation: class {}",
        java_class_name(value)
    ))
}

fn out_of_range(text: &str) -> TransformError {
    TransformError::data(format!(
        "Value ({text}) was out of range for requested data type"
    ))
}

/// Casts one value; `schema` is the value's schema, or none for schemaless data.
pub(crate) fn cast_value(
    schema: Option<&Schema>,
    value: Value,
    target: SchemaType,
) -> Result<Value, TransformError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let inferred = match schema {
        Some(schema) => schema.schema_type,
        None => match &value {
            Value::Array(_) => SchemaType::Array,
            Value::Map(_) => SchemaType::Map,
            Value::Struct(_) => SchemaType::Struct,
            _ => SchemaType::String,
        },
    };
    if matches!(
        inferred,
        SchemaType::Array | SchemaType::Map | SchemaType::Struct
    ) {
        return Err(TransformError::data(format!(
            "Cast transformation does not support casting from {}; supported types are {INPUT_TYPES}",
            inferred.upper_name()
        )));
    }
    let logical = schema.and_then(|s| s.name());
    if target == SchemaType::String {
        match (logical, &value) {
            (Some(DATE_LOGICAL_NAME), Value::Int32(days)) => {
                return Ok(date_string(*days as i64 * 86_400_000).into())
            }
            (Some(TIME_LOGICAL_NAME), Value::Int32(millis)) => {
                return Ok(date_string(*millis as i64).into())
            }
            (Some(TIMESTAMP_LOGICAL_NAME), Value::Int64(millis)) => {
                return Ok(date_string(*millis).into())
            }
            _ => {}
        }
    }
    let number = match &value {
        Value::Int8(v) => Some(Number::Integer(*v as i64)),
        Value::Int16(v) => Some(Number::Integer(*v as i64)),
        Value::Int32(v) => Some(Number::Integer(*v as i64)),
        Value::Int64(v) => Some(Number::Integer(*v)),
        Value::Float32(v) => Some(Number::Float(*v as f64)),
        Value::Float64(v) => Some(Number::Float(*v)),
        Value::Bytes(bytes) => match schema {
            Some(s) if s.name() == Some(DECIMAL_LOGICAL_NAME) => Some(decimal_of(s, bytes)?),
            _ => None,
        },
        _ => None,
    };
    let text = match &value {
        Value::String(s) => Some(s.as_str()),
        _ => None,
    };
    Ok(match target {
        SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32 | SchemaType::Int64 => {
            let integer = match (&value, &number, text) {
                (Value::Boolean(b), _, _) => *b as i64,
                (_, Some(n), _) => match target {
                    SchemaType::Int64 => n.as_long(),
                    _ => n.as_int() as i64,
                },
                (_, _, Some(text)) => {
                    let parsed = match target {
                        SchemaType::Int8 => text.parse::<i8>().map(i64::from).ok(),
                        SchemaType::Int16 => text.parse::<i16>().map(i64::from).ok(),
                        SchemaType::Int32 => text.parse::<i32>().map(i64::from).ok(),
                        _ => text.parse::<i64>().ok(),
                    };
                    parsed.ok_or_else(|| out_of_range(text))?
                }
                _ => return Err(unexpected(&value)),
            };
            match target {
                SchemaType::Int8 => Value::Int8(integer as i8),
                SchemaType::Int16 => Value::Int16(integer as i16),
                SchemaType::Int32 => Value::Int32(integer as i32),
                _ => Value::Int64(integer),
            }
        }
        SchemaType::Float32 | SchemaType::Float64 => {
            let double = match (&value, &number, text) {
                (Value::Boolean(b), _, _) => *b as i64 as f64,
                (Value::Float32(v), _, _) if target == SchemaType::Float32 => {
                    return Ok(Value::Float32(*v))
                }
                (_, Some(n), _) => n.as_double(),
                (_, _, Some(text)) => java_parse_double(text).ok_or_else(|| out_of_range(text))?,
                _ => return Err(unexpected(&value)),
            };
            if target == SchemaType::Float32 {
                Value::Float32(double as f32)
            } else {
                Value::Float64(double)
            }
        }
        SchemaType::Boolean => Value::Boolean(match (&value, &number, text) {
            (Value::Boolean(b), _, _) => *b,
            (_, Some(n), _) => n.as_long() != 0,
            (_, _, Some(text)) => text.eq_ignore_ascii_case("true"),
            _ => return Err(unexpected(&value)),
        }),
        SchemaType::String => Value::String(
            match (&value, &number) {
                (Value::Float32(v), _) => float_to_string(*v),
                (Value::Float64(v), _) => double_to_string(*v),
                (_, Some(Number::Decimal(unscaled, scale))) => decimal_to_string(*unscaled, *scale),
                (Value::Bytes(bytes), _) => {
                    base64::engine::general_purpose::STANDARD.encode(bytes.as_slice())
                }
                (other, _) => other.to_string(),
            }
            .into(),
        ),
        other => {
            return Err(TransformError::data(format!(
                "{} is not supported in the Cast transformation.",
                other.upper_name()
            )))
        }
    })
}

/// `Double.parseDouble`: surrounding whitespace allowed, a trailing `d`/`f` type suffix too.
fn java_parse_double(text: &str) -> Option<f64> {
    let trimmed = text.trim();
    let unsuffixed = trimmed
        .strip_suffix(['d', 'D', 'f', 'F'])
        .filter(|rest| !rest.is_empty() && !rest.ends_with(['e', 'E']))
        .unwrap_or(trimmed);
    match unsuffixed {
        "NaN" => Some(f64::NAN),
        "Infinity" | "+Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        other
            if other
                .chars()
                .all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) =>
        {
            other.parse().ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_like_big_decimal() {
        assert_eq!(decimal_to_string(12345, 2), "123.45");
        assert_eq!(decimal_to_string(-5, 3), "-0.005");
        assert_eq!(decimal_to_string(7, 0), "7");
        assert_eq!(decimal_to_string(1, 8), "1E-8");
        assert_eq!(decimal_to_string(12, -3), "1.2E+4");
    }

    #[test]
    fn dates_print_like_values_date_format_for() {
        assert_eq!(date_string(0), "00:00:00.000Z");
        assert_eq!(date_string(86_400_000 * 365), "1971-01-01");
        assert_eq!(
            date_string(86_400_000 * 365 + 1),
            "1971-01-01T00:00:00.001Z"
        );
    }
}
