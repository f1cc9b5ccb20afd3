//! `InsertField$Key` / `InsertField$Value`: adds the record's topic, partition, offset (sink
//! records), timestamp or a static string as fields.
//!
//! Field types, as Kafka's: topic STRING, partition INT32, offset INT64, timestamp the Timestamp
//! logical type (schemaless: the INT64 milliseconds), static STRING. A name ending in `?` (or
//! nothing) makes the field optional, `!` required. Null keys/values (tombstones) pass unchanged.
//! The offset exists only for sink records: the worker passes it through
//! [`Transformation::apply_sink`].

use super::prelude::*;
use crate::util::as_java_hash_map;
use kconnect_convert::HashMapOrigin;

pub(crate) const DOC: &str =
    "Insert field(s) using attributes from the record metadata or a configured static value.";

const PURPOSE: &str = "field insertion";
const OPTIONALITY_DOC: &str =
    "Suffix with ! to make this a required field, or ? to keep it optional (the default).";

pub(crate) fn specs() -> Vec<Spec> {
    let field = |name: &str, doc: &str| {
        Spec::nullable(
            name,
            ConfigType::String,
            &format!("{doc} {OPTIONALITY_DOC}"),
        )
    };
    vec![
        field(
            "offset.field",
            "Field name for Kafka offset - only applicable to sink connectors.",
        ),
        field("partition.field", "Field name for Kafka partition."),
        replace_null_with_default_spec(),
        field("static.field", "Field name for static data field."),
        Spec::nullable(
            "static.value",
            ConfigType::String,
            "Static field value, if field name configured.",
        ),
        field("timestamp.field", "Field name for record timestamp."),
        field("topic.field", "Field name for Kafka topic."),
    ]
}

#[derive(Clone, Debug)]
struct InsertionSpec {
    name: String,
    optional: bool,
}

fn insertion_spec(spec: Option<String>) -> Option<InsertionSpec> {
    let spec = spec?;
    Some(if let Some(name) = spec.strip_suffix('?') {
        InsertionSpec {
            name: name.to_string(),
            optional: true,
        }
    } else if let Some(name) = spec.strip_suffix('!') {
        InsertionSpec {
            name: name.to_string(),
            optional: false,
        }
    } else {
        InsertionSpec {
            name: spec,
            optional: true,
        }
    })
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    let spec = |name: &str| settings.nullable_string(name).map(insertion_spec);
    let mut insertions = Insertions {
        topic: spec("topic.field")?,
        partition: spec("partition.field")?,
        offset: spec("offset.field")?,
        timestamp: spec("timestamp.field")?,
        static_field: spec("static.field")?,
        static_value: settings.nullable_string("static.value")?,
        replace_null: settings.boolean("replace.null.with.default")?,
        count: 0,
    };
    insertions.count = [
        &insertions.topic,
        &insertions.partition,
        &insertions.offset,
        &insertions.timestamp,
        &insertions.static_field,
    ]
    .iter()
    .filter(|spec| spec.is_some())
    .count();
    if insertions.count == 0 {
        return Err(TransformError::config_general(
            "No field insertion configured",
        ));
    }
    if let (Some(field), None) = (&insertions.static_field, &insertions.static_value) {
        return Err(settings.invalid(
            "static.value",
            "null",
            &format!("No value specified for static field: {}", field.name),
        ));
    }
    Ok(Box::new(InsertField {
        side,
        insertions,
        schemas: SchemaCache::new(),
    }))
}

struct InsertField {
    side: Side,
    insertions: Insertions,
    schemas: SchemaCache<Updated>,
}

/// The schema a struct gets, derived from its own.
struct Updated {
    schema: SchemaRef,
    /// Whether one of its own fields has a default, which a null value would take.
    has_defaults: bool,
}

/// What InsertField is configured to insert.
struct Insertions {
    topic: Option<InsertionSpec>,
    partition: Option<InsertionSpec>,
    offset: Option<InsertionSpec>,
    timestamp: Option<InsertionSpec>,
    static_field: Option<InsertionSpec>,
    static_value: Option<String>,
    replace_null: bool,
    /// How many fields are inserted.
    count: usize,
}

fn primitive(schema_type: SchemaType, optional: bool) -> SchemaRef {
    let mut schema = Schema::primitive(schema_type);
    schema.optional = optional;
    SchemaRef::new(schema)
}

impl Insertions {
    fn updated(&self, schema: &Schema) -> Result<Updated, TransformError> {
        Ok(Updated {
            schema: self.updated_schema(schema)?,
            has_defaults: has_defaults(schema),
        })
    }

    fn updated_schema(&self, schema: &Schema) -> Result<SchemaRef, TransformError> {
        let mut updated = copy_schema_basics(schema, SchemaType::Struct);
        updated.fields = schema.fields.clone();
        let mut add = |spec: &Option<InsertionSpec>, field_schema: &dyn Fn(bool) -> SchemaRef| {
            if let Some(spec) = spec {
                if updated.field(&spec.name).is_some() {
                    return Err(TransformError::data(format!(
                        "Cannot create field because of field name duplication {}",
                        spec.name
                    )));
                }
                push_field(&mut updated, &spec.name, field_schema(spec.optional));
            }
            Ok(())
        };
        add(&self.topic, &|o| primitive(SchemaType::String, o))?;
        add(&self.partition, &|o| primitive(SchemaType::Int32, o))?;
        add(&self.offset, &|o| primitive(SchemaType::Int64, o))?;
        add(&self.timestamp, &|o| {
            let builder = SchemaBuilder::timestamp();
            if o { builder.optional() } else { builder }.build_ref()
        })?;
        add(&self.static_field, &|o| primitive(SchemaType::String, o))?;
        Ok(SchemaRef::new(updated))
    }

    fn insert_into_map(&self, entries: &mut RVec<Tuple2<Value, Value>>, metadata: Metadata) {
        let copied = HashMapOrigin::CopyOf(entries.len());
        if let (Some(spec), Some(topic)) = (&self.topic, metadata.topic) {
            map_put(entries, &spec.name, Value::String(topic));
        }
        if let (Some(spec), Some(partition)) = (&self.partition, metadata.partition) {
            map_put(entries, &spec.name, Value::Int32(partition));
        }
        if let (Some(spec), Some(offset)) = (&self.offset, metadata.offset) {
            map_put(entries, &spec.name, Value::Int64(offset));
        }
        if let (Some(spec), Some(timestamp)) = (&self.timestamp, metadata.timestamp) {
            map_put(entries, &spec.name, Value::Int64(timestamp));
        }
        if let (Some(spec), Some(value)) = (&self.static_field, &self.static_value) {
            map_put(entries, &spec.name, Value::String(value.as_str().into()));
        }
        as_java_hash_map(entries, copied);
    }

    /// Gives `value` the `updated` schema and the inserted fields' values, after its own.
    fn insert_into_struct(&self, value: &mut Struct, updated: &Updated, metadata: Metadata) {
        let values = &mut value.values;
        if values.capacity() - values.len() >= self.count {
            // The room `Struct::values_for` leaves: appended in place.
            if self.replace_null && updated.has_defaults {
                fill_defaults(value);
            }
        } else {
            // A new vector from the worker's allocator rather than `reserve` on the polled
            // one, which would reallocate through the plugin's.
            let mut grown = Struct::values_for(values.len() + self.count);
            let fields = value.schema.fields.iter();
            for (field_value, field) in values.drain(..).zip(fields) {
                grown.push(resolve_default(
                    field_value,
                    &field.schema,
                    self.replace_null,
                ));
            }
            *values = grown;
        }
        let values = &mut value.values;
        if let Some(topic) = metadata.topic {
            values.push(Value::String(topic));
        }
        if self.partition.is_some() {
            values.push(metadata.partition.map(Value::Int32).unwrap_or_default());
        }
        if self.offset.is_some() {
            values.push(metadata.offset.map(Value::Int64).unwrap_or_default());
        }
        if self.timestamp.is_some() {
            values.push(metadata.timestamp.map(Value::Int64).unwrap_or_default());
        }
        if self.static_field.is_some() {
            values.push(
                self.static_value
                    .as_deref()
                    .map(Value::from)
                    .unwrap_or_default(),
            );
        }
        value.schema = updated.schema.clone();
    }
}

impl InsertField {
    fn insert(&mut self, record: &mut ConnectRecord, offset: Option<i64>) -> TransformResult {
        if self.side.value(record).is_null() {
            return Ok(Verdict::Keep);
        }
        let insertions = &self.insertions;
        let offset = match (&insertions.offset, offset) {
            (Some(_), None) => {
                return Err(TransformError::data(format!(
                    "Only SinkRecord supported for [{PURPOSE}], found: org.apache.kafka.connect.source.SourceRecord"
                )))
            }
            (_, offset) => offset,
        };
        let metadata = Metadata {
            topic: insertions.topic.is_some().then(|| record.topic.clone()),
            partition: record.kafka_partition.into_option(),
            offset,
            timestamp: record.timestamp.into_option(),
        };
        let (schema, value) = self.side.slots(record);
        match (schema, value) {
            (ROption::RNone, Value::Map(entries)) => insertions.insert_into_map(entries, metadata),
            (ROption::RNone, other) => return Err(not_a_map(other, PURPOSE)),
            (ROption::RSome(schema), Value::Struct(value)) => {
                let updated = self
                    .schemas
                    .get_or_build(schema, |s| insertions.updated(s))?;
                insertions.insert_into_struct(value, updated, metadata);
                *schema = updated.schema.clone();
            }
            (ROption::RSome(_), other) => return Err(not_a_struct(other, PURPOSE)),
        }
        Ok(Verdict::Keep)
    }
}

/// What InsertField inserts from the record, read before its value is borrowed.
struct Metadata {
    /// Only when the topic is inserted.
    topic: Option<RString>,
    partition: Option<i32>,
    offset: Option<i64>,
    timestamp: Option<i64>,
}

impl Transformation for InsertField {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        self.insert(record, None)
    }

    fn apply_sink(&mut self, record: &mut ConnectRecord, kafka_offset: i64) -> TransformResult {
        self.insert(record, Some(kafka_offset))
    }
}
