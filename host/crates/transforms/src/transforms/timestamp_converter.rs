//! `TimestampConverter$Key` / `TimestampConverter$Value`: converts a field (or the whole key or
//! value) between a formatted string, a Unix epoch number and the Date, Time and Timestamp logical
//! types. Strings use `format`, a `SimpleDateFormat` pattern in UTC (see [`crate::java_date`] for
//! the supported letters); `unix.precision` scales epoch numbers.
//!
//! Representations, as Connect's: Date is INT32 days, Time INT32 milliseconds of the day,
//! Timestamp and unix INT64. Without a schema, an INT64 is read as unix time and a STRING with
//! `format`.

use super::prelude::*;
use crate::java_date::JavaDateFormat;
use crate::util::as_java_hash_map;
use kconnect_convert::HashMapOrigin;
use kconnect_plugin_api::data::{DATE_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME, TIME_LOGICAL_NAME};

pub(crate) const DOC: &str = "Convert timestamps between different formats such as Unix epoch, strings, and Connect Date/Timestamp types.Applies to individual fields or to the entire value.";

const PURPOSE: &str = "converting timestamp formats";
const DAY_MILLIS: i64 = 86_400_000;
const TYPES: [&str; 5] = ["string", "unix", "Date", "Time", "Timestamp"];

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::required(
            "target.type",
            ConfigType::String,
            "The desired timestamp representation: string, unix, Date, Time, or Timestamp",
        )
        .importance(Importance::High)
        .validator(Validator::ValidString {
            values: TYPES.iter().map(|t| t.to_string()).collect(),
            case_insensitive: false,
        }),
        Spec::with_default(
            "field",
            ConfigType::String,
            "",
            "The field containing the timestamp, or empty if the entire value is a timestamp",
        )
        .importance(Importance::High),
        Spec::with_default(
            "format",
            ConfigType::String,
            "",
            "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when type=string or used to parse the input if the input is a string.",
        ),
        replace_null_with_default_spec(),
        Spec::with_default(
            "unix.precision",
            ConfigType::String,
            "milliseconds",
            "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds. Used to generate the output when type=unix or used to parse the input if the input is a Long.Note: This SMT will cause precision loss during conversions from, and to, values with sub-millisecond components.",
        )
        .importance(Importance::Low)
        .validator(Validator::ValidString {
            values: vec![
                "nanoseconds".into(),
                "microseconds".into(),
                "milliseconds".into(),
                "seconds".into(),
            ],
            case_insensitive: false,
        }),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Precision {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    let target = match settings.string("target.type")?.as_str() {
        "string" => Kind::String,
        "unix" => Kind::Unix,
        "Date" => Kind::Date,
        "Time" => Kind::Time,
        _ => Kind::Timestamp,
    };
    let pattern = settings.string("format")?;
    if target == Kind::String && pattern.is_empty() {
        return Err(settings.error(
            "format",
            "TimestampConverter requires format option to be specified when using string timestamps",
        ));
    }
    let format = if pattern.is_empty() {
        None
    } else {
        Some(JavaDateFormat::compile(&pattern).map_err(|e| {
            settings.error(
                "format",
                format!("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern}: {e}"),
            )
        })?)
    };
    let precision = match settings.string("unix.precision")?.as_str() {
        "seconds" => Precision::Seconds,
        "microseconds" => Precision::Micros,
        "nanoseconds" => Precision::Nanos,
        _ => Precision::Millis,
    };
    Ok(Box::new(TimestampConverter {
        side,
        field: settings.string("field")?,
        target,
        format,
        precision,
        replace_null: settings.boolean("replace.null.with.default")?,
        schemas: SchemaCache::new(),
    }))
}

struct TimestampConverter {
    side: Side,
    field: String,
    target: Kind,
    format: Option<JavaDateFormat>,
    precision: Precision,
    replace_null: bool,
    schemas: SchemaCache<SchemaRef>,
}

fn kind_of_schema(schema: &Schema) -> Result<Kind, TransformError> {
    Ok(match schema.name() {
        Some(TIMESTAMP_LOGICAL_NAME) => Kind::Timestamp,
        Some(DATE_LOGICAL_NAME) => Kind::Date,
        Some(TIME_LOGICAL_NAME) => Kind::Time,
        _ => match schema.schema_type {
            SchemaType::String => Kind::String,
            SchemaType::Int64 => Kind::Unix,
            other => {
                return Err(TransformError::data(format!(
                    "Schema Schema{{{}}} does not correspond to a known timestamp type format",
                    other.upper_name()
                )))
            }
        },
    })
}

fn infer_kind(value: &Value) -> Result<Kind, TransformError> {
    match value {
        Value::Int64(_) => Ok(Kind::Unix),
        Value::String(_) => Ok(Kind::String),
        other => Err(TransformError::data(format!(
            "TimestampConverter does not support class {} objects as timestamps",
            java_class_name(other)
        ))),
    }
}

fn type_schema(kind: Kind, optional: bool) -> SchemaRef {
    let builder = match kind {
        Kind::String => SchemaBuilder::new(SchemaType::String),
        Kind::Unix => SchemaBuilder::new(SchemaType::Int64),
        Kind::Date => SchemaBuilder::date(),
        Kind::Time => SchemaBuilder::time(),
        Kind::Timestamp => SchemaBuilder::timestamp(),
    };
    if optional {
        builder.optional()
    } else {
        builder
    }
    .build_ref()
}

impl TimestampConverter {
    fn format(&self) -> Result<&JavaDateFormat, TransformError> {
        self.format.as_ref().ok_or_else(|| {
            TransformError::data(
                "TimestampConverter requires format option to be specified when using string timestamps",
            )
        })
    }

    /// Milliseconds since the epoch from a value of `kind`.
    fn to_raw(&self, kind: Kind, value: &Value) -> Result<i64, TransformError> {
        let expected = |what: &str| {
            TransformError::data(format!(
                "Expected {what}, but found class {}",
                java_class_name(value)
            ))
        };
        match (kind, value) {
            (Kind::String, Value::String(text)) => {
                let format = self.format()?;
                format.parse(text).map_err(|_| {
                    TransformError::data(format!(
                        "Could not parse timestamp: value ({text}) does not match pattern ({})",
                        format.pattern()
                    ))
                })
            }
            (Kind::String, _) => Err(expected("string timestamp to be a String")),
            (Kind::Unix, Value::Int64(v)) => Ok(match self.precision {
                Precision::Seconds => v.saturating_mul(1000),
                Precision::Millis => *v,
                Precision::Micros => v / 1000,
                Precision::Nanos => v / 1_000_000,
            }),
            (Kind::Unix, _) => Err(expected("Unix timestamp to be a Long")),
            (Kind::Date, Value::Int32(days)) => Ok(*days as i64 * DAY_MILLIS),
            (Kind::Date, _) => Err(expected("Date to be a java.util.Date")),
            (Kind::Time, Value::Int32(millis)) => Ok(*millis as i64),
            (Kind::Time, _) => Err(expected("Time to be a java.util.Date")),
            (Kind::Timestamp, Value::Int64(millis)) => Ok(*millis),
            (Kind::Timestamp, _) => Err(expected("Timestamp to be a java.util.Date")),
        }
    }

    fn to_target(&self, millis: i64) -> Result<Value, TransformError> {
        Ok(match self.target {
            Kind::String => Value::String(self.format()?.format(millis).into()),
            Kind::Unix => Value::Int64(match self.precision {
                Precision::Seconds => millis / 1000,
                Precision::Millis => millis,
                Precision::Micros => millis.saturating_mul(1000),
                Precision::Nanos => millis.saturating_mul(1_000_000),
            }),
            Kind::Date => Value::Int32(millis.div_euclid(DAY_MILLIS) as i32),
            Kind::Time => Value::Int32(millis.rem_euclid(DAY_MILLIS) as i32),
            Kind::Timestamp => Value::Int64(millis),
        })
    }

    /// Converts a value of `kind` (inferred from the value when `None`).
    fn convert(&self, value: Value, kind: Option<Kind>) -> Result<Value, TransformError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let kind = match kind {
            Some(kind) => kind,
            None => infer_kind(&value)?,
        };
        self.to_target(self.to_raw(kind, &value)?)
    }

    fn updated_schema(&self, schema: &Schema) -> Result<SchemaRef, TransformError> {
        let mut updated = copy_schema_basics(schema, SchemaType::Struct);
        for field in schema.fields.iter() {
            let field_schema = if *field.name == *self.field {
                type_schema(self.target, field.schema.optional)
            } else {
                field.schema.clone()
            };
            push_field(&mut updated, &field.name, field_schema);
        }
        updated.optional = schema.optional;
        if let Some(Value::Struct(default)) = schema.default_value() {
            let updated_ref = SchemaRef::new(updated.clone());
            let default = self.convert_struct(default.clone(), &updated_ref)?;
            updated.default_value = ROption::RSome(RBox::new(Value::Struct(default)));
        }
        Ok(SchemaRef::new(updated))
    }

    fn convert_struct(&self, value: Struct, updated: &SchemaRef) -> Result<Struct, TransformError> {
        let (schema, values) = take_values(value, self.replace_null);
        let values = values
            .into_iter()
            .zip(schema.fields.iter())
            .map(|(v, field)| {
                if *field.name == *self.field {
                    self.convert(v, Some(kind_of_schema(&field.schema)?))
                } else {
                    Ok(v)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Struct {
            schema: updated.clone(),
            values: values.into(),
        })
    }
}

impl Transformation for TimestampConverter {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let (schema, value) = self.side.take(record);
        let (schema, value) = match schema {
            None if value.is_null() || self.field.is_empty() => (None, self.convert(value, None)?),
            None => {
                let mut entries = require_map(value, PURPOSE)?;
                let copied = HashMapOrigin::CopyOf(entries.len());
                let current = map_get(&entries, &self.field).cloned().unwrap_or_default();
                map_put(&mut entries, &self.field, self.convert(current, None)?);
                as_java_hash_map(&mut entries, copied);
                (None, Value::Map(entries))
            }
            Some(schema) if self.field.is_empty() => {
                let kind = kind_of_schema(&schema)?;
                (
                    Some(type_schema(self.target, schema.optional)),
                    self.convert(value, Some(kind))?,
                )
            }
            Some(schema) => {
                let updated = {
                    let mut cache = std::mem::replace(&mut self.schemas, SchemaCache::new());
                    let updated = cache
                        .get_or_build(&schema, |s| self.updated_schema(s))
                        .cloned();
                    self.schemas = cache;
                    updated?
                };
                let value = match value {
                    Value::Null => Value::Null,
                    Value::Struct(s) => Value::Struct(self.convert_struct(s, &updated)?),
                    other => return Err(not_a_struct(&other, PURPOSE)),
                };
                (Some(updated), value)
            }
        };
        self.side.put(record, schema, value);
        Ok(Verdict::Keep)
    }
}
