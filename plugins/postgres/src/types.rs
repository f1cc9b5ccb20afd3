//! PostgreSQL column types → Connect schemas and values, as Debezium maps them.
//!
//! A column's mapping is decided once per table schema ([`ColumnKind::of`]) and then applied to
//! every value ([`ColumnKind::convert`]). Values arrive in PostgreSQL's text output format, both
//! from pgoutput and from the snapshot's `FETCH`, under the session settings the connector fixes
//! (`DateStyle=ISO`, `TimeZone=UTC`, `bytea_output=hex`, `extra_float_digits=3`), so one
//! parser serves both and a row reads the same whichever way it came.
//!
//! | PostgreSQL | Connect (Debezium's defaults) |
//! |---|---|
//! | `smallint`, `integer`, `bigint`, `oid` | INT16, INT32, INT64, INT64 |
//! | `real`, `double precision` | FLOAT32, FLOAT64 |
//! | `boolean` | BOOLEAN |
//! | `text`, `varchar`, `char(n)`, `name`, `"char"` | STRING |
//! | `numeric(p,s)` | `org.apache.kafka.connect.data.Decimal` (`decimal.handling.mode=precise`), FLOAT64 (`double`), STRING (`string`) |
//! | `numeric` (no precision) | `io.debezium.data.VariableScaleDecimal` (precise), FLOAT64, STRING |
//! | `bytea` | BYTES |
//! | `json`, `jsonb` | STRING `io.debezium.data.Json` |
//! | `uuid` | STRING `io.debezium.data.Uuid` |
//! | `date` | INT32 `io.debezium.time.Date` (Connect `Date` with `time.precision.mode=connect`) |
//! | `time(p)` | `io.debezium.time.Time` (p ≤ 3) or `io.debezium.time.MicroTime`; Connect `Time` in `connect` mode |
//! | `timestamp(p)` | `io.debezium.time.Timestamp` (p ≤ 3) or `io.debezium.time.MicroTimestamp`; Connect `Timestamp` in `connect` mode |
//! | `timestamptz` | STRING `io.debezium.time.ZonedTimestamp` (ISO-8601 in UTC) |
//! | `timetz` | STRING `io.debezium.time.ZonedTime` (ISO-8601 in UTC) |
//! | anything else (arrays, enums, intervals, geometric, …) | STRING: the text PostgreSQL prints (a documented difference from Debezium) |
//!
//! Invariant: a value that does not parse as its column's type is an error naming the type and
//! the text, never a silently wrong value.

use kconnect_plugin_api::data::{DECIMAL_LOGICAL_NAME, DECIMAL_SCALE_PARAMETER};
use kconnect_plugin_api::{Schema, SchemaBuilder, SchemaRef, SchemaType, Struct, Value};

/// Type OIDs of the built-in types the connector maps (from `pg_type`).
pub mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const TIMETZ: u32 = 1266;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

/// What the catalog says about a column's type beyond its OID: the element type of an array,
/// the labels of an enum.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CatalogType {
    /// `pg_type.typelem` of an array type.
    pub element_oid: Option<u32>,
    /// The labels of an enum type, in their order, comma-separated (Debezium's `allowed`).
    pub enum_labels: Option<String>,
}

/// `decimal.handling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalMode {
    Precise,
    Double,
    String,
}

/// `time.precision.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePrecisionMode {
    Adaptive,
    AdaptiveTimeMicroseconds,
    Connect,
}

/// The settings that change how types map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeSettings {
    pub decimal: DecimalMode,
    pub time_precision: TimePrecisionMode,
}

impl Default for TypeSettings {
    fn default() -> Self {
        TypeSettings {
            decimal: DecimalMode::Precise,
            time_precision: TimePrecisionMode::Adaptive,
        }
    }
}

/// How one column's text becomes a Connect value.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnKind {
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    /// Text kept as it is (also the fallback for unmapped types).
    Text,
    Bytes,
    /// `numeric(p,s)` as a Connect Decimal of scale `s`.
    Decimal {
        scale: u32,
    },
    /// `numeric` without a scale, as Debezium's VariableScaleDecimal struct.
    VariableDecimal {
        schema: SchemaRef,
    },
    /// Numeric as a FLOAT64 (`decimal.handling.mode=double`).
    NumericDouble,
    /// Date as days since the epoch.
    DateDays,
    TimeMillis,
    TimeMicros,
    TimestampMillis,
    TimestampMicros,
    /// ISO-8601 in UTC with exactly the column's fraction digits, as Debezium prints it.
    ZonedTimestamp {
        fraction_digits: u32,
    },
    ZonedTime,
    /// A one-dimensional array; its elements are optional values of `element`.
    Array {
        element: Box<ColumnKind>,
    },
}

/// A value that did not parse as its column's type.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("cannot read {text:?} as a PostgreSQL {kind}: {reason}")]
pub struct ValueError {
    pub kind: &'static str,
    pub text: String,
    pub reason: &'static str,
}

fn value_error(kind: &'static str, text: &str, reason: &'static str) -> ValueError {
    ValueError {
        kind,
        text: text.chars().take(64).collect(),
        reason,
    }
}

const NUMERIC_PRECISION_PARAMETER: &str = "connect.decimal.precision";

impl ColumnKind {
    /// The mapping and the Connect schema of a column of type `type_oid` with modifier
    /// `type_modifier` (`atttypmod`, -1 for none).
    pub fn of(
        type_oid: u32,
        type_modifier: i32,
        catalog: &CatalogType,
        optional: bool,
        default: Option<String>,
        settings: &TypeSettings,
    ) -> (ColumnKind, SchemaRef) {
        let (kind, builder) = match (catalog.element_oid, &catalog.enum_labels) {
            (Some(element_oid), _) => {
                let (element, element_schema) = Self::of(
                    element_oid,
                    type_modifier,
                    &CatalogType::default(),
                    true,
                    None,
                    settings,
                );
                (
                    ColumnKind::Array {
                        element: Box::new(element),
                    },
                    SchemaBuilder::array(element_schema),
                )
            }
            (None, Some(labels)) => (
                ColumnKind::Text,
                SchemaBuilder::new(SchemaType::String)
                    .name("io.debezium.data.Enum")
                    .version(1)
                    .parameter("allowed", labels),
            ),
            (None, None) => Self::mapping(type_oid, type_modifier, settings),
        };
        let mut builder = if optional {
            builder.optional()
        } else {
            builder
        };
        // A default that does not read as the column's type is left out rather than guessed.
        // (Struct-valued kinds have no constant default in the schema.)
        let default = default.and_then(|text| kind.convert(text.as_bytes()).ok());
        if let Some(value) = default.filter(|v| !matches!(v, Value::Struct(_))) {
            builder = builder.default_value(value);
        }
        let schema = builder.build_ref();
        // A struct value carries its schema, which must be the column's own (optional or not).
        let kind = match kind {
            ColumnKind::VariableDecimal { .. } => ColumnKind::VariableDecimal {
                schema: schema.clone(),
            },
            other => other,
        };
        (kind, schema)
    }

    fn mapping(
        type_oid: u32,
        type_modifier: i32,
        settings: &TypeSettings,
    ) -> (ColumnKind, SchemaBuilder) {
        let named = |t: SchemaType, name: &str| SchemaBuilder::new(t).name(name).version(1);
        // time/timestamp carry their fractional precision as the modifier; none means 6.
        let fraction_digits = if type_modifier < 0 { 6 } else { type_modifier };
        let connect_time = settings.time_precision == TimePrecisionMode::Connect;
        match type_oid {
            oid::INT2 => (ColumnKind::Int16, SchemaBuilder::new(SchemaType::Int16)),
            oid::INT4 => (ColumnKind::Int32, SchemaBuilder::new(SchemaType::Int32)),
            oid::INT8 | oid::OID => (ColumnKind::Int64, SchemaBuilder::new(SchemaType::Int64)),
            oid::FLOAT4 => (ColumnKind::Float32, SchemaBuilder::new(SchemaType::Float32)),
            oid::FLOAT8 => (ColumnKind::Float64, SchemaBuilder::new(SchemaType::Float64)),
            oid::BOOL => (ColumnKind::Boolean, SchemaBuilder::new(SchemaType::Boolean)),
            oid::BYTEA => (ColumnKind::Bytes, SchemaBuilder::new(SchemaType::Bytes)),
            oid::JSON | oid::JSONB => (
                ColumnKind::Text,
                named(SchemaType::String, "io.debezium.data.Json"),
            ),
            oid::UUID => (
                ColumnKind::Text,
                named(SchemaType::String, "io.debezium.data.Uuid"),
            ),
            oid::NUMERIC => Self::numeric(type_modifier, settings.decimal),
            oid::DATE if connect_time => (ColumnKind::DateDays, SchemaBuilder::date()),
            oid::DATE => (
                ColumnKind::DateDays,
                named(SchemaType::Int32, "io.debezium.time.Date"),
            ),
            oid::TIME if connect_time => (ColumnKind::TimeMillis, SchemaBuilder::time()),
            oid::TIME
                if settings.time_precision == TimePrecisionMode::Adaptive
                    && fraction_digits <= 3 =>
            {
                (
                    ColumnKind::TimeMillis,
                    named(SchemaType::Int32, "io.debezium.time.Time"),
                )
            }
            oid::TIME => (
                ColumnKind::TimeMicros,
                named(SchemaType::Int64, "io.debezium.time.MicroTime"),
            ),
            oid::TIMESTAMP if connect_time => {
                (ColumnKind::TimestampMillis, SchemaBuilder::timestamp())
            }
            oid::TIMESTAMP if fraction_digits <= 3 => (
                ColumnKind::TimestampMillis,
                named(SchemaType::Int64, "io.debezium.time.Timestamp"),
            ),
            oid::TIMESTAMP => (
                ColumnKind::TimestampMicros,
                named(SchemaType::Int64, "io.debezium.time.MicroTimestamp"),
            ),
            oid::TIMESTAMPTZ => (
                ColumnKind::ZonedTimestamp {
                    fraction_digits: fraction_digits as u32,
                },
                named(SchemaType::String, "io.debezium.time.ZonedTimestamp"),
            ),
            oid::TIMETZ => (
                ColumnKind::ZonedTime,
                named(SchemaType::String, "io.debezium.time.ZonedTime"),
            ),
            // text, varchar, char(n), name, "char" and every unmapped type: the text as it is.
            _ => (ColumnKind::Text, SchemaBuilder::new(SchemaType::String)),
        }
    }

    fn numeric(type_modifier: i32, mode: DecimalMode) -> (ColumnKind, SchemaBuilder) {
        match mode {
            DecimalMode::Double => (
                ColumnKind::NumericDouble,
                SchemaBuilder::new(SchemaType::Float64),
            ),
            DecimalMode::String => (ColumnKind::Text, SchemaBuilder::new(SchemaType::String)),
            DecimalMode::Precise if type_modifier < 4 => {
                let builder = variable_scale_decimal_builder();
                // `of` replaces the schema by the column's final one.
                let schema = builder.clone().build_ref();
                (ColumnKind::VariableDecimal { schema }, builder)
            }
            DecimalMode::Precise => {
                let precision = ((type_modifier - 4) >> 16) & 0xffff;
                let scale = (type_modifier - 4) & 0xffff;
                (
                    ColumnKind::Decimal {
                        scale: scale as u32,
                    },
                    SchemaBuilder::new(SchemaType::Bytes)
                        .name(DECIMAL_LOGICAL_NAME)
                        .version(1)
                        .parameter(DECIMAL_SCALE_PARAMETER, &scale.to_string())
                        .parameter(NUMERIC_PRECISION_PARAMETER, &precision.to_string()),
                )
            }
        }
    }

    /// Converts one non-null value from PostgreSQL's text format.
    pub fn convert(&self, text: &[u8]) -> Result<Value, ValueError> {
        let s = std::str::from_utf8(text)
            .map_err(|_| value_error("value", &String::from_utf8_lossy(text), "not UTF-8"))?;
        Ok(match self {
            ColumnKind::Int16 => Value::Int16(
                s.parse()
                    .map_err(|_| value_error("smallint", s, "not a 16-bit integer"))?,
            ),
            ColumnKind::Int32 => Value::Int32(
                s.parse()
                    .map_err(|_| value_error("integer", s, "not a 32-bit integer"))?,
            ),
            ColumnKind::Int64 => Value::Int64(
                s.parse()
                    .map_err(|_| value_error("bigint", s, "not a 64-bit integer"))?,
            ),
            ColumnKind::Float32 => Value::Float32(parse_float(s, "real")? as f32),
            ColumnKind::Float64 | ColumnKind::NumericDouble => {
                Value::Float64(parse_float(s, "double precision")?)
            }
            ColumnKind::Boolean => match s {
                "t" | "true" => Value::Boolean(true),
                "f" | "false" => Value::Boolean(false),
                _ => return Err(value_error("boolean", s, "neither t nor f")),
            },
            ColumnKind::Text => Value::String(s.into()),
            ColumnKind::Bytes => Value::Bytes(parse_bytea_hex(s)?.into()),
            ColumnKind::Decimal { scale } => {
                Value::Bytes(decimal_unscaled_bytes(s, Some(*scale))?.0.into())
            }
            ColumnKind::VariableDecimal { schema } => {
                let (bytes, scale) = decimal_unscaled_bytes(s, None)?;
                let mut values = Struct::values_for(2);
                values.push(Value::Int32(scale as i32));
                values.push(Value::Bytes(bytes.into()));
                Value::Struct(Struct {
                    schema: schema.clone(),
                    values,
                })
            }
            ColumnKind::DateDays => Value::Int32(parse_date_days(s)?),
            ColumnKind::TimeMillis => Value::Int32((parse_time_micros(s, "time")? / 1000) as i32),
            ColumnKind::TimeMicros => Value::Int64(parse_time_micros(s, "time")?),
            ColumnKind::TimestampMillis => {
                Value::Int64(parse_timestamp_micros(s)?.div_euclid(1000))
            }
            ColumnKind::TimestampMicros => Value::Int64(parse_timestamp_micros(s)?),
            ColumnKind::ZonedTimestamp { fraction_digits } => {
                Value::String(zoned_timestamp(s, *fraction_digits)?.into())
            }
            ColumnKind::ZonedTime => Value::String(zoned_time(s)?.into()),
            ColumnKind::Array { element } => Value::Array(
                parse_array(s)?
                    .into_iter()
                    .map(|item| {
                        item.map_or(Ok(Value::Null), |text| element.convert(text.as_bytes()))
                    })
                    .collect::<Result<Vec<Value>, ValueError>>()?
                    .into(),
            ),
        })
    }
}

fn variable_scale_decimal_builder() -> SchemaBuilder {
    SchemaBuilder::struct_()
        .name("io.debezium.data.VariableScaleDecimal")
        .version(1)
        .doc("Variable scaled decimal")
        .field(
            "scale",
            SchemaRef::new(Schema::primitive(SchemaType::Int32)),
        )
        .field(
            "value",
            SchemaRef::new(Schema::primitive(SchemaType::Bytes)),
        )
}

fn parse_float(s: &str, kind: &'static str) -> Result<f64, ValueError> {
    match s {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => s
            .parse()
            .map_err(|_| value_error(kind, s, "not a floating-point number")),
    }
}

/// `\x0a0b…` (bytea_output=hex) to bytes.
fn parse_bytea_hex(s: &str) -> Result<Vec<u8>, ValueError> {
    let hex = s
        .strip_prefix("\\x")
        .ok_or_else(|| value_error("bytea", s, "not in hex format (\\x…)"))?;
    if hex.len() % 2 != 0 {
        return Err(value_error("bytea", s, "odd number of hex digits"));
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            match (digit(pair[0]), digit(pair[1])) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(value_error("bytea", s, "not a hex digit")),
            }
        })
        .collect()
}

/// The unscaled value of a decimal as Java's `BigInteger.toByteArray` writes it (minimal
/// big-endian two's complement), and its scale. With `scale` the fraction is padded (or, when
/// PostgreSQL printed more digits, which it never does for `numeric(p,s)`, refused) to it.
pub fn decimal_unscaled_bytes(s: &str, scale: Option<u32>) -> Result<(Vec<u8>, u32), ValueError> {
    let kind = "numeric";
    if s == "NaN" || s.ends_with("Infinity") {
        return Err(value_error(
            kind,
            s,
            "NaN and infinities have no Decimal form",
        ));
    }
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(value_error(kind, s, "not a decimal number"));
    }
    let scale = scale.unwrap_or(frac_part.len() as u32);
    if frac_part.len() as u32 > scale {
        return Err(value_error(
            kind,
            s,
            "more fraction digits than the column's scale",
        ));
    }
    // Magnitude in base 256, most significant byte first.
    let mut magnitude: Vec<u8> = Vec::with_capacity(digits.len() / 2 + 1);
    let padding = std::iter::repeat_n(b'0', scale as usize - frac_part.len());
    for digit in int_part.bytes().chain(frac_part.bytes()).chain(padding) {
        let mut carry = (digit - b'0') as u32;
        for byte in magnitude.iter_mut().rev() {
            let v = *byte as u32 * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            magnitude.insert(0, carry as u8);
            carry >>= 8;
        }
    }
    let zero = magnitude.iter().all(|&b| b == 0);
    if zero {
        return Ok((vec![0], scale));
    }
    while magnitude.len() > 1 && magnitude[0] == 0 {
        magnitude.remove(0);
    }
    if !negative {
        if magnitude[0] & 0x80 != 0 {
            magnitude.insert(0, 0);
        }
        return Ok((magnitude, scale));
    }
    // Two's complement of the magnitude, then drop redundant leading 0xff bytes.
    let mut bytes = magnitude;
    bytes.insert(0, 0);
    for b in bytes.iter_mut() {
        *b = !*b;
    }
    for b in bytes.iter_mut().rev() {
        let (v, overflow) = b.overflowing_add(1);
        *b = v;
        if !overflow {
            break;
        }
    }
    while bytes.len() > 1 && bytes[0] == 0xff && bytes[1] & 0x80 != 0 {
        bytes.remove(0);
    }
    Ok((bytes, scale))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYY-MM-DD` (with an optional ` BC`) to days since the epoch.
fn parse_date_days_i64(s: &str) -> Result<i64, ValueError> {
    let bad = || value_error("date", s, "not an ISO date (YYYY-MM-DD)");
    let (body, bc) = match s.strip_suffix(" BC") {
        Some(b) => (b, true),
        None => (s, false),
    };
    let mut parts = body.splitn(3, '-');
    let year: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let month: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let day: u32 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    // 1 BC is year 0 of the proleptic calendar.
    let year = if bc { 1 - year } else { year };
    Ok(days_from_civil(year, month, day))
}

fn parse_date_days(s: &str) -> Result<i32, ValueError> {
    if s == "infinity" || s == "-infinity" {
        return Err(value_error(
            "date",
            s,
            "infinite dates have no Connect form",
        ));
    }
    i32::try_from(parse_date_days_i64(s)?).map_err(|_| value_error("date", s, "out of range"))
}

/// `HH:MM:SS[.ffffff]` to microseconds since midnight (24:00:00 is allowed, as PostgreSQL does).
fn parse_time_micros(s: &str, kind: &'static str) -> Result<i64, ValueError> {
    let bad = || value_error(kind, s, "not a time (HH:MM:SS[.ffffff])");
    let (hms, fraction) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = hms.splitn(3, ':');
    let h: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let m: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let sec: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let micros: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<6}").parse().map_err(|_| bad())?
    };
    Ok(((h * 60 + m) * 60 + sec) * 1_000_000 + micros)
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` to microseconds since the epoch.
fn parse_timestamp_micros(s: &str) -> Result<i64, ValueError> {
    if s == "infinity" || s == "-infinity" {
        return Err(value_error(
            "timestamp",
            s,
            "infinite timestamps have no Connect form",
        ));
    }
    let (body, bc) = match s.strip_suffix(" BC") {
        Some(b) => (b, " BC"),
        None => (s, ""),
    };
    let (date, time) = body
        .split_once(' ')
        .ok_or_else(|| value_error("timestamp", s, "no space between date and time"))?;
    let days = parse_date_days_i64(&format!("{date}{bc}"))?;
    Ok(days * 86_400_000_000 + parse_time_micros(time, "timestamp")?)
}

/// Splits a trailing UTC offset (`+HH`, `-HH:MM`, `+HH:MM:SS`) off; returns the rest and the
/// offset in seconds east of UTC.
fn split_offset<'a>(s: &'a str, kind: &'static str) -> Result<(&'a str, i64), ValueError> {
    let bad = || value_error(kind, s, "no UTC offset");
    let at = s.rfind(['+', '-']).ok_or_else(bad)?;
    let (rest, offset) = s.split_at(at);
    // A '-' inside the date part is no offset.
    if !rest.contains(':') {
        return Err(bad());
    }
    let sign = if offset.starts_with('-') { -1 } else { 1 };
    let mut seconds = 0i64;
    for (i, part) in offset[1..].split(':').enumerate() {
        let v: i64 = part.parse().map_err(|_| bad())?;
        seconds += v * [3600, 60, 1].get(i).copied().ok_or_else(bad)?;
    }
    Ok((rest, sign * seconds))
}

/// The elements of a one-dimensional array literal (`{1,NULL,"a b"}`), `None` for NULL.
fn parse_array(s: &str) -> Result<Vec<Option<String>>, ValueError> {
    let bad = |reason| value_error("array", s, reason);
    let body = s
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .ok_or_else(|| bad("not an array literal ({…})"))?;
    let mut items = Vec::new();
    if body.is_empty() {
        return Ok(items);
    }
    let mut chars = body.chars().peekable();
    loop {
        let item = if chars.peek() == Some(&'"') {
            chars.next();
            let mut text = String::new();
            loop {
                match chars.next() {
                    Some('\\') => text.push(chars.next().ok_or_else(|| bad("ends in an escape"))?),
                    Some('"') => break,
                    Some(c) => text.push(c),
                    None => return Err(bad("unterminated quoted element")),
                }
            }
            Some(text)
        } else {
            let mut text = String::new();
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '{' {
                    return Err(bad("multi-dimensional arrays are not supported"));
                }
                text.push(c);
                chars.next();
            }
            (text != "NULL").then_some(text)
        };
        items.push(item);
        match chars.next() {
            None => return Ok(items),
            Some(',') => {}
            Some(_) => return Err(bad("junk after a quoted element")),
        }
    }
}

/// The fraction of a second as `java.time`'s ISO formatters print it: as many digits as
/// needed, none for a whole second (Debezium's ZonedTime).
fn minimal_fraction(micros: i64) -> String {
    if micros == 0 {
        return String::new();
    }
    format!(".{micros:06}").trim_end_matches('0').to_string()
}

/// The fraction of a second with exactly `digits` digits (none for 0), as Debezium's
/// ZonedTimestamp and ZonedTime print a column of that precision.
fn iso_fraction(micros: i64, digits: u32) -> String {
    let digits = digits.min(6);
    if digits == 0 {
        return String::new();
    }
    let scaled = micros / 10i64.pow(6 - digits);
    format!(".{scaled:0width$}", width = digits as usize)
}

/// `timestamptz` text to the ISO-8601 UTC string of `io.debezium.time.ZonedTimestamp`.
fn zoned_timestamp(s: &str, fraction_digits: u32) -> Result<String, ValueError> {
    let (local, offset) = split_offset(s, "timestamp with time zone")?;
    let utc = parse_timestamp_micros(local)? - offset * 1_000_000;
    let days = utc.div_euclid(86_400_000_000);
    let in_day = utc.rem_euclid(86_400_000_000);
    let (year, month, day) = civil_from_days(days);
    let secs = in_day / 1_000_000;
    Ok(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        iso_fraction(in_day % 1_000_000, fraction_digits)
    ))
}

/// `timetz` text to the ISO-8601 UTC string of `io.debezium.time.ZonedTime`.
fn zoned_time(s: &str) -> Result<String, ValueError> {
    let (local, offset) = split_offset(s, "time with time zone")?;
    let utc = (parse_time_micros(local, "time with time zone")? - offset * 1_000_000)
        .rem_euclid(86_400_000_000);
    let secs = utc / 1_000_000;
    Ok(format!(
        "{:02}:{:02}:{:02}{}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        minimal_fraction(utc % 1_000_000)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(type_oid: u32, modifier: i32) -> (ColumnKind, SchemaRef) {
        ColumnKind::of(
            type_oid,
            modifier,
            &CatalogType::default(),
            true,
            None,
            &TypeSettings::default(),
        )
    }

    #[test]
    fn numeric_with_precision_is_a_decimal_with_debeziums_parameters() {
        let (k, schema) = kind(oid::NUMERIC, ((10 << 16) | 2) + 4);
        assert_eq!(schema.name(), Some(DECIMAL_LOGICAL_NAME));
        assert_eq!(schema.parameter("scale"), Some("2"));
        assert_eq!(schema.parameter("connect.decimal.precision"), Some("10"));
        assert!(schema.optional);
        // 12.5 at scale 2 is 1250 = 0x04e2.
        assert_eq!(
            k.convert(b"12.5").unwrap(),
            Value::Bytes(vec![0x04, 0xe2].into())
        );
        assert_eq!(
            k.convert(b"-1.00").unwrap(),
            Value::Bytes(vec![0x9c].into())
        );
        assert!(k.convert(b"1.234").is_err());
    }

    #[test]
    fn unscaled_bytes_match_javas_big_integer() {
        let b = |s: &str| decimal_unscaled_bytes(s, None).unwrap().0;
        assert_eq!(b("0"), vec![0]);
        assert_eq!(b("127"), vec![0x7f]);
        assert_eq!(b("128"), vec![0x00, 0x80]);
        assert_eq!(b("-128"), vec![0x80]);
        assert_eq!(b("-129"), vec![0xff, 0x7f]);
        assert_eq!(b("-256"), vec![0xff, 0x00]);
        assert_eq!(b("65536"), vec![0x01, 0x00, 0x00]);
        assert_eq!(
            decimal_unscaled_bytes("3.14159", None).unwrap(),
            (vec![0x04, 0xcb, 0x2f], 5)
        );
    }

    #[test]
    fn unconstrained_numeric_is_a_variable_scale_decimal() {
        let (k, schema) = kind(oid::NUMERIC, -1);
        assert_eq!(schema.name(), Some("io.debezium.data.VariableScaleDecimal"));
        let Value::Struct(s) = k.convert(b"-0.5").unwrap() else {
            panic!("not a struct");
        };
        assert_eq!(s.get("scale"), Some(&Value::Int32(1)));
        assert_eq!(s.get("value"), Some(&Value::Bytes(vec![0xfb].into())));
    }

    #[test]
    fn times_follow_the_adaptive_precision_mode() {
        let (k, s) = kind(oid::TIME, -1);
        assert_eq!(s.name(), Some("io.debezium.time.MicroTime"));
        assert_eq!(
            k.convert(b"01:02:03.5").unwrap(),
            Value::Int64(3_723_500_000)
        );
        let (k, s) = kind(oid::TIME, 3);
        assert_eq!(s.name(), Some("io.debezium.time.Time"));
        assert_eq!(k.convert(b"00:00:01.25").unwrap(), Value::Int32(1250));
        let (k, s) = kind(oid::TIMESTAMP, -1);
        assert_eq!(s.name(), Some("io.debezium.time.MicroTimestamp"));
        assert_eq!(
            k.convert(b"2024-02-29 12:00:00.000001").unwrap(),
            Value::Int64(1_709_208_000_000_001)
        );
        let (k, s) = kind(oid::DATE, -1);
        assert_eq!(s.name(), Some("io.debezium.time.Date"));
        assert_eq!(k.convert(b"1970-01-02").unwrap(), Value::Int32(1));
        assert_eq!(k.convert(b"1969-12-31").unwrap(), Value::Int32(-1));
        let connect = TypeSettings {
            time_precision: TimePrecisionMode::Connect,
            ..TypeSettings::default()
        };
        let (k, s) = ColumnKind::of(
            oid::TIMESTAMP,
            -1,
            &CatalogType::default(),
            false,
            None,
            &connect,
        );
        assert_eq!(s.name(), Some("org.apache.kafka.connect.data.Timestamp"));
        assert_eq!(
            k.convert(b"1970-01-01 00:00:01.9").unwrap(),
            Value::Int64(1900)
        );
    }

    #[test]
    fn arrays_and_enums_as_debezium_maps_them() {
        let int_array = CatalogType {
            element_oid: Some(oid::INT4),
            enum_labels: None,
        };
        let (k, schema) =
            ColumnKind::of(1007, -1, &int_array, true, None, &TypeSettings::default());
        assert_eq!(schema.schema_type, SchemaType::Array);
        assert!(schema.value_schema().unwrap().optional);
        assert_eq!(
            k.convert(b"{1,NULL,-3}").unwrap(),
            Value::Array(vec![Value::Int32(1), Value::Null, Value::Int32(-3)].into())
        );
        assert_eq!(k.convert(b"{}").unwrap(), Value::Array(Vec::new().into()));
        let text_array = CatalogType {
            element_oid: Some(oid::TEXT),
            enum_labels: None,
        };
        let (k, _) = ColumnKind::of(1009, -1, &text_array, true, None, &TypeSettings::default());
        assert_eq!(
            k.convert(br#"{"a b",c,"q\"x","NULL"}"#).unwrap(),
            Value::Array(
                vec![
                    Value::from("a b"),
                    Value::from("c"),
                    Value::from("q\"x"),
                    Value::from("NULL")
                ]
                .into()
            )
        );
        assert!(k.convert(b"{{1},{2}}").is_err());
        let mood = CatalogType {
            element_oid: None,
            enum_labels: Some("happy,sad".into()),
        };
        let (k, schema) = ColumnKind::of(16384, -1, &mood, true, None, &TypeSettings::default());
        assert_eq!(schema.name(), Some("io.debezium.data.Enum"));
        assert_eq!(schema.parameter("allowed"), Some("happy,sad"));
        assert_eq!(k.convert(b"sad").unwrap(), Value::from("sad"));
    }

    #[test]
    fn zoned_values_are_iso_strings_in_utc_with_the_columns_fraction_digits() {
        // Debezium 3.6 prints exactly the column's precision (6 when none is declared).
        let (k, _) = kind(oid::TIMESTAMPTZ, -1);
        assert_eq!(
            k.convert(b"2024-01-01 01:30:00+02").unwrap(),
            Value::from("2023-12-31T23:30:00.000000Z")
        );
        assert_eq!(
            k.convert(b"2024-01-01 00:00:00.12+05:30").unwrap(),
            Value::from("2023-12-31T18:30:00.120000Z")
        );
        let (k, _) = kind(oid::TIMESTAMPTZ, 3);
        assert_eq!(
            k.convert(b"2024-01-01 00:00:00.12+00").unwrap(),
            Value::from("2024-01-01T00:00:00.120Z")
        );
        let (k, _) = kind(oid::TIMESTAMPTZ, 0);
        assert_eq!(
            k.convert(b"2024-01-01 00:00:00+00").unwrap(),
            Value::from("2024-01-01T00:00:00Z")
        );
        let (k, _) = kind(oid::TIMETZ, -1);
        assert_eq!(k.convert(b"01:00:00-01").unwrap(), Value::from("02:00:00Z"));
        assert_eq!(
            k.convert(b"10:11:12.5+02").unwrap(),
            Value::from("08:11:12.5Z")
        );
    }

    #[test]
    fn other_common_types() {
        assert_eq!(
            kind(oid::BOOL, -1).0.convert(b"t").unwrap(),
            Value::Boolean(true)
        );
        assert_eq!(
            kind(oid::BYTEA, -1).0.convert(b"\\x00ff").unwrap(),
            Value::Bytes(vec![0, 255].into())
        );
        assert_eq!(kind(oid::JSONB, -1).1.name(), Some("io.debezium.data.Json"));
        assert_eq!(kind(oid::UUID, -1).1.name(), Some("io.debezium.data.Uuid"));
        assert_eq!(
            kind(oid::INT2, -1).0.convert(b"-7").unwrap(),
            Value::Int16(-7)
        );
        assert_eq!(
            kind(oid::FLOAT4, -1).0.convert(b"1.5").unwrap(),
            Value::Float32(1.5)
        );
        let err = kind(oid::INT4, -1).0.convert(b"x1").unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read \"x1\" as a PostgreSQL integer: not a 32-bit integer"
        );
        let double = TypeSettings {
            decimal: DecimalMode::Double,
            ..TypeSettings::default()
        };
        let (k, s) = ColumnKind::of(
            oid::NUMERIC,
            -1,
            &CatalogType::default(),
            true,
            None,
            &double,
        );
        assert_eq!(s.schema_type, SchemaType::Float64);
        assert_eq!(k.convert(b"2.25").unwrap(), Value::Float64(2.25));
    }
}
