//! `MaskField$Key` / `MaskField$Value`: replaces fields by their type's "empty" value (0, false,
//! "", empty array or map, 0 for Date/Time/Timestamp and Decimal) or by a configured replacement
//! converted to the field's type (numbers and strings only). Null keys/values pass unchanged.

use super::prelude::*;
use crate::util::as_java_hash_map;
use kconnect_convert::HashMapOrigin;
use kconnect_plugin_api::data::{DECIMAL_LOGICAL_NAME, DECIMAL_SCALE_PARAMETER};
use std::collections::HashSet;

pub(crate) const DOC: &str = "Mask specified fields with a valid null value for the field type (i.e. 0, false, empty string, and so on). For numeric and string fields, an optional replacement value can be specified that is converted to the correct type.";

const PURPOSE: &str = "mask fields";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::required("fields", ConfigType::List, "Names of fields to mask.")
            .importance(Importance::High)
            .non_empty_list(),
        replace_null_with_default_spec(),
        Spec::nullable(
            "replacement",
            ConfigType::String,
            "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
        )
        .importance(Importance::Low)
        .validator(Validator::NonEmptyString),
    ]
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    let fields = settings.list("fields")?;
    Ok(Box::new(MaskField {
        side,
        ordered: fields.clone(),
        fields: fields.into_iter().collect(),
        replacement: settings.nullable_string("replacement")?,
        replace_null: settings.boolean("replace.null.with.default")?,
    }))
}

struct MaskField {
    side: Side,
    fields: HashSet<String>,
    ordered: Vec<String>,
    replacement: Option<String>,
    replace_null: bool,
}

fn is_decimal(schema: Option<&Schema>) -> Option<i32> {
    let schema = schema?;
    if schema.name() != Some(DECIMAL_LOGICAL_NAME) {
        return None;
    }
    schema.parameter(DECIMAL_SCALE_PARAMETER)?.parse().ok()
}

fn cannot_mask(value: &Value, custom: bool) -> TransformError {
    let class = java_class_name(value);
    TransformError::data(if custom {
        format!("Cannot mask value of type class {class} with custom replacement.")
    } else {
        format!("Cannot mask value of type: class {class}")
    })
}

fn not_a_number(replacement: &str) -> TransformError {
    TransformError::data(format!(
        "Unable to convert {replacement} (class java.lang.String) to number"
    ))
}

/// The two's-complement big-endian bytes of `text` as a decimal of `scale`.
fn decimal_bytes(text: &str, scale: i32) -> Option<Vec<u8>> {
    let (int, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let frac = frac.trim_end_matches('0');
    if scale < 0 || frac.len() > scale as usize {
        return None;
    }
    let digits = format!("{int}{frac}{}", "0".repeat(scale as usize - frac.len()));
    let unscaled: i128 = digits.parse().ok()?;
    let bytes = unscaled.to_be_bytes();
    let skip = bytes
        .windows(2)
        .take_while(|w| (w[0] == 0 && w[1] & 0x80 == 0) || (w[0] == 0xff && w[1] & 0x80 != 0))
        .count();
    Some(bytes[skip..].to_vec())
}

impl MaskField {
    fn masked(&self, schema: Option<&Schema>, value: Value) -> Result<Value, TransformError> {
        if value.is_null() {
            return Ok(value);
        }
        match &self.replacement {
            None => Ok(match value {
                Value::Boolean(_) => Value::Boolean(false),
                Value::Int8(_) => Value::Int8(0),
                Value::Int16(_) => Value::Int16(0),
                Value::Int32(_) => Value::Int32(0),
                Value::Int64(_) => Value::Int64(0),
                Value::Float32(_) => Value::Float32(0.0),
                Value::Float64(_) => Value::Float64(0.0),
                Value::String(_) => Value::String("".into()),
                Value::Array(_) => Value::Array(RVec::new()),
                Value::Map(_) => Value::Map(RVec::new()),
                Value::Bytes(_) if is_decimal(schema).is_some() => Value::Bytes(vec![0].into()),
                other => return Err(cannot_mask(&other, false)),
            }),
            Some(text) => {
                let number = || text.trim().parse::<i64>().map_err(|_| not_a_number(text));
                let float = || text.trim().parse::<f64>().map_err(|_| not_a_number(text));
                let narrow = |v: i64, fits: bool| {
                    if fits {
                        Ok(v)
                    } else {
                        Err(not_a_number(text))
                    }
                };
                Ok(match value {
                    Value::Int8(_) => {
                        let v = number()?;
                        Value::Int8(narrow(v, i8::try_from(v).is_ok())? as i8)
                    }
                    Value::Int16(_) => {
                        let v = number()?;
                        Value::Int16(narrow(v, i16::try_from(v).is_ok())? as i16)
                    }
                    Value::Int32(_) => {
                        let v = number()?;
                        Value::Int32(narrow(v, i32::try_from(v).is_ok())? as i32)
                    }
                    Value::Int64(_) => Value::Int64(number()?),
                    Value::Float32(_) => Value::Float32(float()? as f32),
                    Value::Float64(_) => Value::Float64(float()?),
                    Value::String(_) => Value::String(text.as_str().into()),
                    Value::Bytes(_) if is_decimal(schema).is_some() => {
                        let scale = is_decimal(schema).unwrap_or(0);
                        Value::Bytes(
                            decimal_bytes(text, scale)
                                .ok_or_else(|| not_a_number(text))?
                                .into(),
                        )
                    }
                    other => return Err(cannot_mask(&other, true)),
                })
            }
        }
    }
}

impl Transformation for MaskField {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        if self.side.value(record).is_null() {
            return Ok(Verdict::Keep);
        }
        let (schema, value) = self.side.take(record);
        let value = match &schema {
            None => {
                let mut entries = require_map(value, PURPOSE)?;
                let copied = HashMapOrigin::CopyOf(entries.len());
                for field in &self.ordered {
                    let current = map_get(&entries, field).cloned().unwrap_or_default();
                    map_put(&mut entries, field, self.masked(None, current)?);
                }
                as_java_hash_map(&mut entries, copied);
                Value::Map(entries)
            }
            Some(_) => {
                let value = require_struct(value, PURPOSE)?;
                let (struct_schema, values) = take_values(value, self.replace_null);
                let values = values
                    .into_iter()
                    .zip(struct_schema.fields.iter())
                    .map(|(v, field)| {
                        if self.fields.contains(field.name.as_str()) {
                            self.masked(Some(&field.schema), v)
                        } else {
                            Ok(v)
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Value::Struct(Struct {
                    schema: struct_schema,
                    values: values.into(),
                })
            }
        };
        self.side.put(record, schema, value);
        Ok(Verdict::Keep)
    }
}
