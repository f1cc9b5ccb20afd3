//! From Connect values to SQL parameters: the column kind a schema maps to, the borrowed
//! [`SqlValue`] a field becomes, and its text rendering (decimals, dates, times, timestamps).
//!
//! Invariants: a [`SqlValue`] borrows from the record it came from (no copy of strings or bytes
//! per row); temporal values are normalised to microseconds, timestamps already shifted to
//! `database.time_zone`; the text forms are the ISO ones both PostgreSQL and MariaDB parse.

use kconnect_plugin_api::data::{
    DATE_LOGICAL_NAME, DECIMAL_LOGICAL_NAME, DECIMAL_SCALE_PARAMETER, TIMESTAMP_LOGICAL_NAME,
    TIME_LOGICAL_NAME,
};
use kconnect_plugin_api::{Schema, SchemaType, Value};
use std::fmt::{self, Write};
use std::hash::{Hash, Hasher};

const DEBEZIUM_DATE: &str = "io.debezium.time.Date";
const DEBEZIUM_TIME: &str = "io.debezium.time.Time";
const DEBEZIUM_MICRO_TIME: &str = "io.debezium.time.MicroTime";
const DEBEZIUM_NANO_TIME: &str = "io.debezium.time.NanoTime";
const DEBEZIUM_TIMESTAMP: &str = "io.debezium.time.Timestamp";
const DEBEZIUM_MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
const DEBEZIUM_NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";
const DEBEZIUM_ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
const DEBEZIUM_ZONED_TIME: &str = "io.debezium.time.ZonedTime";
const DEBEZIUM_JSON: &str = "io.debezium.data.Json";

/// What a column holds, independent of the dialect that names its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    Text,
    Bytes,
    Decimal {
        scale: i32,
    },
    Date,
    Time,
    Timestamp,
    /// An ISO-8601 string with an offset (Debezium's ZonedTimestamp).
    ZonedTimestamp,
    /// An ISO-8601 time with an offset (Debezium's ZonedTime).
    ZonedTime,
    Json,
}

/// The unit an integer temporal value counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    Millis,
    Micros,
    Nanos,
}

impl TimeUnit {
    fn to_micros(self, v: i64) -> i64 {
        match self {
            TimeUnit::Millis => v.saturating_mul(1000),
            TimeUnit::Micros => v,
            TimeUnit::Nanos => v.div_euclid(1000),
        }
    }
}

/// How to read a field: its column kind and, for temporal kinds, the unit of its integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldType {
    pub kind: ColumnKind,
    pub unit: TimeUnit,
}

/// The column kind of a Connect schema, from its logical name first and its physical type
/// otherwise. Arrays, maps and structs have no column: the error says which field.
pub fn field_type(schema: &Schema) -> Result<FieldType, String> {
    let plain = |kind| {
        Ok(FieldType {
            kind,
            unit: TimeUnit::Millis,
        })
    };
    let timed = |kind, unit| Ok(FieldType { kind, unit });
    match schema.name() {
        Some(DECIMAL_LOGICAL_NAME) => {
            let scale = schema
                .parameter(DECIMAL_SCALE_PARAMETER)
                .and_then(|s| s.parse().ok())
                .ok_or("a Decimal schema without a numeric scale parameter")?;
            return plain(ColumnKind::Decimal { scale });
        }
        Some(DATE_LOGICAL_NAME | DEBEZIUM_DATE) => return plain(ColumnKind::Date),
        Some(TIME_LOGICAL_NAME | DEBEZIUM_TIME) => {
            return timed(ColumnKind::Time, TimeUnit::Millis)
        }
        Some(DEBEZIUM_MICRO_TIME) => return timed(ColumnKind::Time, TimeUnit::Micros),
        Some(DEBEZIUM_NANO_TIME) => return timed(ColumnKind::Time, TimeUnit::Nanos),
        Some(TIMESTAMP_LOGICAL_NAME | DEBEZIUM_TIMESTAMP) => {
            return timed(ColumnKind::Timestamp, TimeUnit::Millis)
        }
        Some(DEBEZIUM_MICRO_TIMESTAMP) => return timed(ColumnKind::Timestamp, TimeUnit::Micros),
        Some(DEBEZIUM_NANO_TIMESTAMP) => return timed(ColumnKind::Timestamp, TimeUnit::Nanos),
        Some(DEBEZIUM_ZONED_TIMESTAMP) => return plain(ColumnKind::ZonedTimestamp),
        Some(DEBEZIUM_ZONED_TIME) => return plain(ColumnKind::ZonedTime),
        Some(DEBEZIUM_JSON) => return plain(ColumnKind::Json),
        _ => {}
    }
    match schema.schema_type {
        SchemaType::Int8 => plain(ColumnKind::Int8),
        SchemaType::Int16 => plain(ColumnKind::Int16),
        SchemaType::Int32 => plain(ColumnKind::Int32),
        SchemaType::Int64 => plain(ColumnKind::Int64),
        SchemaType::Float32 => plain(ColumnKind::Float32),
        SchemaType::Float64 => plain(ColumnKind::Float64),
        SchemaType::Boolean => plain(ColumnKind::Boolean),
        SchemaType::String => plain(ColumnKind::Text),
        SchemaType::Bytes => plain(ColumnKind::Bytes),
        other => Err(format!(
            "type {} has no column type (flatten it first, e.g. with the Flatten transform)",
            other.upper_name()
        )),
    }
}

/// One SQL parameter, borrowing from its record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SqlValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
    Bytes(&'a [u8]),
    /// Two's-complement big-endian unscaled integer and its scale.
    Decimal {
        unscaled: &'a [u8],
        scale: i32,
    },
    /// Days since 1970-01-01.
    Date(i64),
    /// Microseconds since midnight.
    Time(i64),
    /// Microseconds since 1970-01-01T00:00 in the database's time zone.
    Timestamp(i64),
}

// Keys are compared to find the last change per row; floats compare by bits for that.
impl Eq for SqlValue<'_> {}

impl Hash for SqlValue<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            SqlValue::Null => {}
            SqlValue::Bool(b) => b.hash(state),
            SqlValue::Int(v) | SqlValue::Date(v) | SqlValue::Time(v) | SqlValue::Timestamp(v) => {
                v.hash(state)
            }
            SqlValue::Float(f) => f.to_bits().hash(state),
            SqlValue::Text(s) => s.hash(state),
            SqlValue::Bytes(b) => b.hash(state),
            SqlValue::Decimal { unscaled, scale } => {
                unscaled.hash(state);
                scale.hash(state)
            }
        }
    }
}

/// The parameter for `value` in a column of type `ty`; `tz_offset_secs` shifts timestamps.
pub fn sql_value<'a>(
    ty: FieldType,
    value: &'a Value,
    tz_offset_secs: i32,
) -> Result<SqlValue<'a>, String> {
    let mismatch = || {
        format!(
            "a {} value where the schema says {:?}",
            value.type_name(),
            ty.kind
        )
    };
    Ok(match (ty.kind, value) {
        (_, Value::Null) => SqlValue::Null,
        (ColumnKind::Boolean, Value::Boolean(b)) => SqlValue::Bool(*b),
        (ColumnKind::Float32, Value::Float32(f)) => SqlValue::Float(*f as f64),
        (ColumnKind::Float64, Value::Float64(f)) => SqlValue::Float(*f),
        (ColumnKind::Decimal { scale }, Value::Bytes(b)) => {
            SqlValue::Decimal { unscaled: b, scale }
        }
        (ColumnKind::Date, v) => SqlValue::Date(v.as_i64().ok_or_else(mismatch)?),
        (ColumnKind::Time, v) => {
            SqlValue::Time(ty.unit.to_micros(v.as_i64().ok_or_else(mismatch)?))
        }
        (ColumnKind::Timestamp, v) => {
            let micros = ty.unit.to_micros(v.as_i64().ok_or_else(mismatch)?);
            SqlValue::Timestamp(micros.saturating_add(tz_offset_secs as i64 * 1_000_000))
        }
        (ColumnKind::Int8 | ColumnKind::Int16 | ColumnKind::Int32 | ColumnKind::Int64, v) => {
            SqlValue::Int(v.as_i64().ok_or_else(mismatch)?)
        }
        (
            ColumnKind::Text
            | ColumnKind::ZonedTimestamp
            | ColumnKind::ZonedTime
            | ColumnKind::Json,
            Value::String(s),
        ) => SqlValue::Text(s.as_str()),
        (ColumnKind::Bytes, Value::Bytes(b)) => SqlValue::Bytes(b),
        _ => return Err(mismatch()),
    })
}

impl SqlValue<'_> {
    /// Writes the value as SQL text input (not quoted). `Null` and `Bytes` have no text form
    /// here: callers send them out of band.
    pub fn write_text(&self, out: &mut impl Write) -> fmt::Result {
        match *self {
            SqlValue::Null => Ok(()),
            SqlValue::Bool(b) => out.write_str(if b { "true" } else { "false" }),
            SqlValue::Int(v) => write!(out, "{v}"),
            SqlValue::Float(f) if f.is_nan() => out.write_str("NaN"),
            SqlValue::Float(f) if f.is_infinite() => {
                out.write_str(if f > 0.0 { "Infinity" } else { "-Infinity" })
            }
            SqlValue::Float(f) => write!(out, "{f}"),
            SqlValue::Text(s) => out.write_str(s),
            SqlValue::Bytes(b) => b.iter().try_for_each(|byte| write!(out, "{byte:02x}")),
            SqlValue::Decimal { unscaled, scale } => write_decimal(unscaled, scale, out),
            SqlValue::Date(days) => write_date(days, out),
            SqlValue::Time(micros) => write_time(micros, out),
            SqlValue::Timestamp(micros) => {
                let days = micros.div_euclid(86_400_000_000);
                write_date(days, out)?;
                out.write_char(' ')?;
                write_time(micros.rem_euclid(86_400_000_000), out)
            }
        }
    }
}

/// Renders a decimal exactly; unscaled values beyond 128 bits are written in hex-free long
/// division so no precision is lost.
pub fn write_decimal(unscaled: &[u8], scale: i32, out: &mut impl Write) -> fmt::Result {
    let negative = unscaled.first().is_some_and(|b| b & 0x80 != 0);
    // Magnitude as big-endian bytes.
    let mut magnitude: Vec<u8> = if negative {
        let mut m: Vec<u8> = unscaled.iter().map(|b| !b).collect();
        for byte in m.iter_mut().rev() {
            let (sum, carry) = byte.overflowing_add(1);
            *byte = sum;
            if !carry {
                break;
            }
        }
        m
    } else {
        unscaled.to_vec()
    };
    let mut digits = Vec::new();
    while magnitude.iter().any(|b| *b != 0) {
        let mut remainder = 0u32;
        for byte in magnitude.iter_mut() {
            let acc = (remainder << 8) | *byte as u32;
            *byte = (acc / 10) as u8;
            remainder = acc % 10;
        }
        digits.push(b'0' + remainder as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    digits.reverse();
    if negative {
        out.write_char('-')?;
    }
    let text = std::str::from_utf8(&digits).map_err(|_| fmt::Error)?;
    if scale <= 0 {
        out.write_str(text)?;
        (0..-scale).try_for_each(|_| out.write_char('0'))
    } else {
        let scale = scale as usize;
        if text.len() <= scale {
            out.write_str("0.")?;
            (text.len()..scale).try_for_each(|_| out.write_char('0'))?;
            out.write_str(text)
        } else {
            let (int, frac) = text.split_at(text.len() - scale);
            write!(out, "{int}.{frac}")
        }
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (proleptic Gregorian calendar).
pub fn write_date(days: i64, out: &mut impl Write) -> fmt::Result {
    let (y, m, d) = civil_date(days);
    write!(out, "{y:04}-{m:02}-{d:02}")
}

/// Year, month, day of a day count since 1970-01-01, by counting whole 400-year eras (146 097
/// days each) from 0000-03-01 so that leap days fall at the end of each year.
fn civil_date(days: i64) -> (i64, u32, u32) {
    let from_march_0000 = days + 719_468;
    let era = from_march_0000.div_euclid(146_097);
    let day_of_era = from_march_0000.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `HH:MM:SS.ffffff` of microseconds since midnight.
pub fn write_time(micros: i64, out: &mut impl Write) -> fmt::Result {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    write!(
        out,
        "{:02}:{:02}:{:02}.{frac:06}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::SchemaBuilder;

    fn text(v: SqlValue) -> String {
        let mut s = String::new();
        v.write_text(&mut s).unwrap();
        s
    }

    #[test]
    fn decimals_render_exactly() {
        let cases: [(&[u8], i32, &str); 8] = [
            (&[0x30, 0x39], 2, "123.45"),
            (&[0xcf, 0xc7], 2, "-123.45"),
            (&[0x05], 3, "0.005"),
            (&[0xff], 0, "-1"),
            (&[], 2, "0.00"),
            (&[0x01], -2, "100"),
            (
                &[0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                0,
                "-43556142965880123323311949751266331066368",
            ),
            (&[0x00, 0xff], 1, "25.5"),
        ];
        for (bytes, scale, expected) in cases {
            assert_eq!(
                text(SqlValue::Decimal {
                    unscaled: bytes,
                    scale
                }),
                expected,
                "{bytes:?} scale {scale}"
            );
        }
    }

    #[test]
    fn dates_and_times_render_in_iso_form() {
        assert_eq!(text(SqlValue::Date(0)), "1970-01-01");
        assert_eq!(text(SqlValue::Date(19_782)), "2024-02-29");
        assert_eq!(text(SqlValue::Date(-1)), "1969-12-31");
        assert_eq!(text(SqlValue::Date(-719_468)), "0000-03-01");
        assert_eq!(text(SqlValue::Time(45_296_789_012)), "12:34:56.789012");
        assert_eq!(
            text(SqlValue::Timestamp(1_709_210_096_500_000)),
            "2024-02-29 12:34:56.500000"
        );
        assert_eq!(text(SqlValue::Timestamp(-1)), "1969-12-31 23:59:59.999999");
    }

    #[test]
    fn logical_and_debezium_types_map_to_kinds_and_units() {
        let kind = |s: SchemaBuilder| field_type(&s.build()).unwrap();
        assert_eq!(
            kind(SchemaBuilder::decimal(3)).kind,
            ColumnKind::Decimal { scale: 3 }
        );
        assert_eq!(kind(SchemaBuilder::timestamp()).kind, ColumnKind::Timestamp);
        let micro = kind(SchemaBuilder::new(SchemaType::Int64).name(DEBEZIUM_MICRO_TIMESTAMP));
        assert_eq!(
            (micro.kind, micro.unit),
            (ColumnKind::Timestamp, TimeUnit::Micros)
        );
        let nano = kind(SchemaBuilder::new(SchemaType::Int64).name(DEBEZIUM_NANO_TIME));
        assert_eq!((nano.kind, nano.unit), (ColumnKind::Time, TimeUnit::Nanos));
        assert_eq!(
            kind(SchemaBuilder::new(SchemaType::Int32).name(DEBEZIUM_DATE)).kind,
            ColumnKind::Date
        );
        assert_eq!(
            kind(SchemaBuilder::new(SchemaType::String).name(DEBEZIUM_ZONED_TIMESTAMP)).kind,
            ColumnKind::ZonedTimestamp
        );
        let array = SchemaBuilder::array(SchemaBuilder::new(SchemaType::Int32).build_ref()).build();
        assert!(field_type(&array).unwrap_err().contains("ARRAY"));
    }

    #[test]
    fn values_convert_with_units_and_time_zone() {
        let ts = FieldType {
            kind: ColumnKind::Timestamp,
            unit: TimeUnit::Millis,
        };
        assert_eq!(
            sql_value(ts, &Value::Int64(1000), 3600).unwrap(),
            SqlValue::Timestamp(3_601_000_000)
        );
        let nanos = FieldType {
            kind: ColumnKind::Time,
            unit: TimeUnit::Nanos,
        };
        assert_eq!(
            sql_value(nanos, &Value::Int64(1_500), 0).unwrap(),
            SqlValue::Time(1)
        );
        let int = FieldType {
            kind: ColumnKind::Int32,
            unit: TimeUnit::Millis,
        };
        assert_eq!(sql_value(int, &Value::Null, 0).unwrap(), SqlValue::Null);
        let message = sql_value(int, &Value::from("x"), 0).unwrap_err();
        assert!(
            message.contains("STRING value where the schema says Int32"),
            "{message}"
        );
        assert_eq!(text(SqlValue::Float(f64::NEG_INFINITY)), "-Infinity");
    }
}
