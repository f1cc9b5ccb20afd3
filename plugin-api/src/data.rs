//! The Connect data model: schemas and the values they describe.
//!
//! These types cross the plugin boundary as they are (they are `StableAbi`), so a batch of records
//! moves from a plugin to the worker without being re-encoded. Schemas are shared behind [`RArc`]:
//! every record of a batch points at the same schema instead of carrying a copy.
//!
//! Logical types follow Kafka Connect: a schema's `name` marks them and the value keeps its
//! physical representation (`Decimal` = BYTES holding the unscaled two's-complement big-endian
//! integer with the `scale` parameter, `Date` = INT32 days since the epoch, `Time` = INT32
//! milliseconds since midnight, `Timestamp` = INT64 milliseconds since the epoch).

use abi_stable::std_types::{RArc, RBox, ROption, RString, RVec, Tuple2};
use abi_stable::StableAbi;
use std::fmt;

/// Schema name of the Decimal logical type.
pub const DECIMAL_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Decimal";
/// Parameter of a Decimal schema giving the scale.
pub const DECIMAL_SCALE_PARAMETER: &str = "scale";
/// Schema name of the Date logical type.
pub const DATE_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Date";
/// Schema name of the Time logical type.
pub const TIME_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Time";
/// Schema name of the Timestamp logical type.
pub const TIMESTAMP_LOGICAL_NAME: &str = "org.apache.kafka.connect.data.Timestamp";

/// The physical type of a schema, as in Kafka Connect's `Schema.Type`.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemaType {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
    Bytes,
    Array,
    Map,
    Struct,
}

impl SchemaType {
    /// Kafka's name for the type, as written in JSON schemas (`int32`, `float`, `struct`…).
    pub fn json_name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "int8",
            SchemaType::Int16 => "int16",
            SchemaType::Int32 => "int32",
            SchemaType::Int64 => "int64",
            SchemaType::Float32 => "float",
            SchemaType::Float64 => "double",
            SchemaType::Boolean => "boolean",
            SchemaType::String => "string",
            SchemaType::Bytes => "bytes",
            SchemaType::Array => "array",
            SchemaType::Map => "map",
            SchemaType::Struct => "struct",
        }
    }

    /// Parses Kafka's JSON type name; the inverse of [`SchemaType::json_name`].
    pub fn from_json_name(name: &str) -> Option<SchemaType> {
        Some(match name {
            "int8" => SchemaType::Int8,
            "int16" => SchemaType::Int16,
            "int32" => SchemaType::Int32,
            "int64" => SchemaType::Int64,
            "float" => SchemaType::Float32,
            "double" => SchemaType::Float64,
            "boolean" => SchemaType::Boolean,
            "string" => SchemaType::String,
            "bytes" => SchemaType::Bytes,
            "array" => SchemaType::Array,
            "map" => SchemaType::Map,
            "struct" => SchemaType::Struct,
            _ => return None,
        })
    }

    /// Kafka's upper-case name (`INT32`, `STRUCT`…), used in messages and `Cast` specs.
    pub fn upper_name(self) -> &'static str {
        match self {
            SchemaType::Int8 => "INT8",
            SchemaType::Int16 => "INT16",
            SchemaType::Int32 => "INT32",
            SchemaType::Int64 => "INT64",
            SchemaType::Float32 => "FLOAT32",
            SchemaType::Float64 => "FLOAT64",
            SchemaType::Boolean => "BOOLEAN",
            SchemaType::String => "STRING",
            SchemaType::Bytes => "BYTES",
            SchemaType::Array => "ARRAY",
            SchemaType::Map => "MAP",
            SchemaType::Struct => "STRUCT",
        }
    }

    /// True for the types that hold no other schema.
    pub fn is_primitive(self) -> bool {
        !matches!(
            self,
            SchemaType::Array | SchemaType::Map | SchemaType::Struct
        )
    }
}

/// A shared, immutable schema. Records of one batch usually point at the same one.
pub type SchemaRef = RArc<Schema>;

/// A Connect schema. Build one with [`SchemaBuilder`].
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Schema {
    pub schema_type: SchemaType,
    pub optional: bool,
    pub default_value: ROption<RBox<Value>>,
    pub name: ROption<RString>,
    pub version: ROption<i32>,
    pub doc: ROption<RString>,
    /// Ordered `(key, value)` pairs, as Kafka keeps them in a `LinkedHashMap`.
    pub parameters: RVec<Tuple2<RString, RString>>,
    /// STRUCT only: the fields, in order.
    pub fields: RVec<Field>,
    /// MAP only: the key schema.
    pub key_schema: ROption<SchemaRef>,
    /// MAP: the value schema; ARRAY: the element schema.
    pub value_schema: ROption<SchemaRef>,
}

/// One field of a STRUCT schema.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Field {
    pub name: RString,
    pub index: u32,
    pub schema: SchemaRef,
}

impl Schema {
    /// A required schema of a primitive type.
    pub fn primitive(schema_type: SchemaType) -> Schema {
        SchemaBuilder::new(schema_type).build()
    }

    /// An optional schema of a primitive type.
    pub fn optional_primitive(schema_type: SchemaType) -> Schema {
        SchemaBuilder::new(schema_type).optional().build()
    }

    /// The value of a parameter, if set.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.0.as_str() == key)
            .map(|p| p.1.as_str())
    }

    /// The field called `name` (STRUCT schemas).
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name.as_str() == name)
    }

    /// The schema name, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().map(|n| n.as_str()).into()
    }

    /// The default value, if any.
    pub fn default_value(&self) -> Option<&Value> {
        self.default_value.as_ref().map(|v| &**v).into()
    }

    /// ARRAY element or MAP value schema.
    pub fn value_schema(&self) -> Option<&SchemaRef> {
        self.value_schema.as_ref().into()
    }

    /// MAP key schema.
    pub fn key_schema(&self) -> Option<&SchemaRef> {
        self.key_schema.as_ref().into()
    }

    /// Checks that `value` conforms to this schema, as Kafka's `ConnectSchema.validateValue` does.
    pub fn validate_value(&self, value: &Value) -> Result<(), String> {
        if value.is_null() {
            return if self.optional || self.default_value.is_some() {
                Ok(())
            } else {
                Err("null value for a required schema".to_string())
            };
        }
        let ok = matches!(
            (self.schema_type, value),
            (SchemaType::Int8, Value::Int8(_))
                | (SchemaType::Int16, Value::Int16(_))
                | (SchemaType::Int32, Value::Int32(_))
                | (SchemaType::Int64, Value::Int64(_))
                | (SchemaType::Float32, Value::Float32(_))
                | (SchemaType::Float64, Value::Float64(_))
                | (SchemaType::Boolean, Value::Boolean(_))
                | (SchemaType::String, Value::String(_))
                | (SchemaType::Bytes, Value::Bytes(_))
                | (SchemaType::Array, Value::Array(_))
                | (SchemaType::Map, Value::Map(_))
                | (SchemaType::Struct, Value::Struct(_))
        );
        if !ok {
            return Err(format!(
                "invalid value {} for schema type {}",
                value.type_name(),
                self.schema_type.upper_name()
            ));
        }
        match value {
            Value::Array(items) => {
                if let Some(element) = self.value_schema() {
                    for item in items.iter() {
                        element.validate_value(item)?;
                    }
                }
            }
            Value::Map(entries) => {
                for entry in entries.iter() {
                    if let Some(k) = self.key_schema() {
                        k.validate_value(&entry.0)?;
                    }
                    if let Some(v) = self.value_schema() {
                        v.validate_value(&entry.1)?;
                    }
                }
            }
            Value::Struct(s) if *s.schema != *self => {
                return Err("struct schema does not match".to_string());
            }
            _ => {}
        }
        Ok(())
    }
}

/// Builds a [`Schema`], in the style of Kafka's `SchemaBuilder`.
#[derive(Clone, Debug)]
pub struct SchemaBuilder {
    schema: Schema,
}

impl SchemaBuilder {
    pub fn new(schema_type: SchemaType) -> SchemaBuilder {
        SchemaBuilder {
            schema: Schema {
                schema_type,
                optional: false,
                default_value: ROption::RNone,
                name: ROption::RNone,
                version: ROption::RNone,
                doc: ROption::RNone,
                parameters: RVec::new(),
                fields: RVec::new(),
                key_schema: ROption::RNone,
                value_schema: ROption::RNone,
            },
        }
    }

    pub fn struct_() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Struct)
    }

    pub fn array(element: SchemaRef) -> SchemaBuilder {
        let mut b = SchemaBuilder::new(SchemaType::Array);
        b.schema.value_schema = ROption::RSome(element);
        b
    }

    pub fn map(key: SchemaRef, value: SchemaRef) -> SchemaBuilder {
        let mut b = SchemaBuilder::new(SchemaType::Map);
        b.schema.key_schema = ROption::RSome(key);
        b.schema.value_schema = ROption::RSome(value);
        b
    }

    /// `Decimal` with the given scale.
    pub fn decimal(scale: i32) -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Bytes)
            .name(DECIMAL_LOGICAL_NAME)
            .version(1)
            .parameter(DECIMAL_SCALE_PARAMETER, &scale.to_string())
    }

    pub fn date() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int32)
            .name(DATE_LOGICAL_NAME)
            .version(1)
    }

    pub fn time() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int32)
            .name(TIME_LOGICAL_NAME)
            .version(1)
    }

    pub fn timestamp() -> SchemaBuilder {
        SchemaBuilder::new(SchemaType::Int64)
            .name(TIMESTAMP_LOGICAL_NAME)
            .version(1)
    }

    pub fn optional(mut self) -> Self {
        self.schema.optional = true;
        self
    }

    pub fn required(mut self) -> Self {
        self.schema.optional = false;
        self
    }

    pub fn default_value(mut self, value: Value) -> Self {
        self.schema.default_value = ROption::RSome(RBox::new(value));
        self
    }

    pub fn name(mut self, name: &str) -> Self {
        self.schema.name = ROption::RSome(name.into());
        self
    }

    pub fn version(mut self, version: i32) -> Self {
        self.schema.version = ROption::RSome(version);
        self
    }

    pub fn doc(mut self, doc: &str) -> Self {
        self.schema.doc = ROption::RSome(doc.into());
        self
    }

    pub fn parameter(mut self, key: &str, value: &str) -> Self {
        if let Some(p) = self.schema.parameters.iter_mut().find(|p| p.0 == key) {
            p.1 = value.into();
        } else {
            self.schema
                .parameters
                .push(Tuple2(key.into(), value.into()));
        }
        self
    }

    /// Adds a STRUCT field.
    pub fn field(mut self, name: &str, schema: SchemaRef) -> Self {
        let index = self.schema.fields.len() as u32;
        self.schema.fields.push(Field {
            name: name.into(),
            index,
            schema,
        });
        self
    }

    pub fn build(self) -> Schema {
        self.schema
    }

    pub fn build_ref(self) -> SchemaRef {
        RArc::new(self.schema)
    }
}

/// A Connect value. With a schema it must match the schema's type; without one (schemaless data)
/// maps and arrays hold whatever the source produced.
#[repr(C, u8)]
#[derive(StableAbi, Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    String(RString),
    Bytes(RVec<u8>),
    Array(RVec<Value>),
    /// Ordered entries; keys are values because Connect maps may have any key schema.
    Map(RVec<Tuple2<Value, Value>>),
    Struct(Struct),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The string, for STRING values.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The integer, for any integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int8(v) => Some(v as i64),
            Value::Int16(v) => Some(v as i64),
            Value::Int32(v) => Some(v as i64),
            Value::Int64(v) => Some(v),
            _ => None,
        }
    }

    /// A short name of the variant, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "BOOLEAN",
            Value::Int8(_) => "INT8",
            Value::Int16(_) => "INT16",
            Value::Int32(_) => "INT32",
            Value::Int64(_) => "INT64",
            Value::Float32(_) => "FLOAT32",
            Value::Float64(_) => "FLOAT64",
            Value::String(_) => "STRING",
            Value::Bytes(_) => "BYTES",
            Value::Array(_) => "ARRAY",
            Value::Map(_) => "MAP",
            Value::Struct(_) => "STRUCT",
        }
    }

    /// Looks a string key up in a MAP value.
    pub fn map_get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|e| e.0.as_str() == Some(key))
                .map(|e| &e.1),
            _ => None,
        }
    }

    /// A schemaless MAP from string keys.
    pub fn map_from<I, K>(entries: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<RString>,
    {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| Tuple2(Value::String(k.into()), v))
                .collect(),
        )
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Value {
        Value::Int32(v)
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int64(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Boolean(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Bytes(v.into())
    }
}

/// A STRUCT value: a schema and one value per field, in field order.
///
/// Build the value vector with [`Struct::values_for`] (or the struct with [`Struct::new`]): it
/// leaves room for [`Struct::SPARE_FIELDS`] more values, so that a transformation adding fields
/// (InsertField, typically one or two) appends them in place. Without that room it must move
/// every value into a new vector and free the old one, for each record: in a source pipeline
/// that reallocation costs more than the rest of such a transformation.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct Struct {
    pub schema: SchemaRef,
    pub values: RVec<Value>,
}

impl Struct {
    /// How many values beyond its fields a struct built by this crate has room for.
    pub const SPARE_FIELDS: usize = 2;

    /// An empty value vector for a struct of `fields` fields, with room for
    /// [`Struct::SPARE_FIELDS`] more.
    pub fn values_for(fields: usize) -> RVec<Value> {
        RVec::with_capacity(fields + Self::SPARE_FIELDS)
    }

    /// A struct with every field null (or its default), to be filled with [`Struct::put`].
    pub fn new(schema: SchemaRef) -> Struct {
        let mut values = Self::values_for(schema.fields.len());
        values.extend(
            schema
                .fields
                .iter()
                .map(|f| f.schema.default_value().cloned().unwrap_or(Value::Null)),
        );
        Struct { schema, values }
    }

    /// Sets a field; errors when the schema has no such field.
    pub fn put(&mut self, field: &str, value: Value) -> Result<&mut Self, String> {
        let index = self
            .schema
            .field(field)
            .ok_or_else(|| format!("{field} is not a valid field name"))?
            .index as usize;
        self.values[index] = value;
        Ok(self)
    }

    /// Builder-style [`Struct::put`] that panics on an unknown field — for tests and examples.
    pub fn with(mut self, field: &str, value: Value) -> Self {
        self.put(field, value).expect("unknown struct field");
        self
    }

    /// The value of a field.
    pub fn get(&self, field: &str) -> Option<&Value> {
        let index = self.schema.field(field)?.index as usize;
        self.values.get(index)
    }

    /// Checks every field against its schema.
    pub fn validate(&self) -> Result<(), String> {
        for field in self.schema.fields.iter() {
            let value = &self.values[field.index as usize];
            field
                .schema
                .validate_value(value)
                .map_err(|e| format!("field {}: {e}", field.name))?;
        }
        Ok(())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Boolean(v) => write!(f, "{v}"),
            Value::Int8(v) => write!(f, "{v}"),
            Value::Int16(v) => write!(f, "{v}"),
            Value::Int32(v) => write!(f, "{v}"),
            Value::Int64(v) => write!(f, "{v}"),
            Value::Float32(v) => write!(f, "{v}"),
            Value::Float64(v) => write!(f, "{v}"),
            Value::String(v) => f.write_str(v),
            Value::Bytes(v) => write!(f, "{:?}", v.as_slice()),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}={}", e.0, e.1)?;
                }
                f.write_str("}")
            }
            Value::Struct(s) => {
                // Kafka's Struct.toString: Struct{a=1,b=x}
                f.write_str("Struct{")?;
                let mut first = true;
                for field in s.schema.fields.iter() {
                    let v = &s.values[field.index as usize];
                    if v.is_null() {
                        continue;
                    }
                    if !first {
                        f.write_str(",")?;
                    }
                    first = false;
                    write!(f, "{}={}", field.name, v)?;
                }
                f.write_str("}")
            }
        }
    }
}
