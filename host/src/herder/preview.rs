//! A dry run of a connector config's record path (`POST /kconnect/preview`): sample records
//! through the same converters and transformation chain a task of that config would build, in the
//! same order, with nothing produced or consumed and no connector started.
//!
//! - source: the task's record → transformations → key, value and header converters → bytes;
//! - sink: bytes → converters → transformations → the record `put` would receive.
//!
//! Records are shown as JsonConverter (`schemas.enable=true`) writes them, split into schema and
//! payload, so every Connect type has one JSON form whatever the config's own converters are.
//! A sample that fails a converter or a transformation is reported as failed with the message
//! a task would log; it does not fail the request.

use super::validation::{resolve_connector, Refusal};
use crate::config::{ConnectorConfig, Properties};
use crate::worker::converters::Converters;
use crate::worker::transforms::transforms_for;
use crate::worker::WorkerContext;
use kconnect_convert::{Converter, JsonConverter};
use kconnect_herder_api::entities::ConnectorType;
use kconnect_herder_api::{
    HerderError, PreviewHeader, PreviewOutcome, PreviewRequest, PreviewResult, PreviewedRecord,
    SampleRecord, SerializedRecord,
};
use kconnect_plugin_api::{
    ConnectRecord, Header, PluginKind, Schema, SchemaRef, SchemaType, Value,
};
use kconnect_transforms::{TransformChain, Verdict};
use serde_json::Value as Json;

/// The topic of a sample that names none.
const DEFAULT_TOPIC: &str = "preview";
/// At most this many samples per request: a preview is for looking at, not for loading.
pub const MAX_SAMPLES: usize = 100;

/// Runs the samples through the config's chain (blocking: plugin transformations may be called).
pub fn preview(
    worker: &WorkerContext,
    request: PreviewRequest,
) -> Result<PreviewResult, HerderError> {
    if request.records.len() > MAX_SAMPLES {
        return Err(HerderError::Invalid(format!(
            "A preview takes at most {MAX_SAMPLES} records, got {}",
            request.records.len()
        )));
    }
    let mut config: Properties = request.config;
    let class = super::core::connector_class(&config)?;
    let version = config.get("connector.plugin.version").cloned();
    let kind = match resolve_connector(worker, &class, version.as_deref()) {
        Ok(info) => info.kind,
        // The class is in the body, not the path: a 400, as for a connector being created.
        Err(Refusal::UnknownClass(message)) => return Err(HerderError::Invalid(message)),
        Err(Refusal::Invalid(e)) => return Err(e),
    };
    // The name matters to no converter or transformation; a draft may not have one yet.
    config
        .entry("name".to_string())
        .or_insert_with(|| "preview".to_string());
    let parsed = ConnectorConfig::from_properties(config)
        .map_err(|e| HerderError::Invalid(e.to_string()))?;
    let mut converters = Converters::for_connector(worker, &parsed)
        .map_err(|e| HerderError::Invalid(e.to_string()))?;
    let mut transforms =
        transforms_for(worker, &parsed.raw).map_err(|e| HerderError::Invalid(e.to_string()))?;
    let mut shown = Shown::default();
    let records = request
        .records
        .iter()
        .enumerate()
        .map(|(input, sample)| {
            let run = match kind {
                PluginKind::Sink => sink_path(sample, input, &mut converters, &mut transforms),
                _ => source_path(sample, &mut converters, &mut transforms),
            };
            match run {
                Ok(Some((record, serialized))) => shown.kept(input, &record, serialized),
                Ok(None) => shown.outcome(input, PreviewOutcome::Dropped, None),
                Err(message) => shown.outcome(input, PreviewOutcome::Failed, Some(message)),
            }
        })
        .collect();
    Ok(PreviewResult {
        connector_type: if kind == PluginKind::Sink {
            ConnectorType::Sink
        } else {
            ConnectorType::Source
        },
        records,
    })
}

/// What a source task's record becomes: transformed, then converted. `None` when dropped.
fn source_path(
    sample: &SampleRecord,
    converters: &mut Converters,
    transforms: &mut TransformChain,
) -> Result<Option<(ConnectRecord, Option<SerializedRecord>)>, String> {
    let (key_schema, key) = emitted(&sample.key)?;
    let (value_schema, value) = emitted(&sample.value)?;
    let mut record = ConnectRecord {
        topic: topic_of(sample).into(),
        kafka_partition: sample.partition.into(),
        key_schema: key_schema.into(),
        key,
        value_schema: value_schema.into(),
        value,
        timestamp: None.into(),
        headers: sample
            .headers
            .iter()
            .map(|(name, text)| {
                Header::new(
                    name,
                    Some(string_schema()),
                    Value::String(text.as_str().into()),
                )
            })
            .collect(),
    };
    if transforms.apply(&mut record).map_err(|e| e.to_string())? == Verdict::Discard {
        return Ok(None);
    }
    let topic = record.topic.to_string();
    let key = if record.key.is_null() {
        None
    } else {
        converters
            .key
            .from_connect(&topic, record.key_schema(), &record.key)
            .map_err(|e| format!("{}: {e}", converters.classes.key))?
    };
    let value = converters
        .value
        .from_connect(&topic, record.value_schema(), &record.value)
        .map_err(|e| format!("{}: {e}", converters.classes.value))?;
    for header in record.headers.iter() {
        converters
            .header
            .from_header(&topic, header)
            .map_err(|e| format!("{}: {e}", converters.classes.header))?;
    }
    let text = |bytes: Option<Vec<u8>>| bytes.map(|b| String::from_utf8_lossy(&b).into_owned());
    let serialized = SerializedRecord {
        key: text(key),
        value: text(value),
    };
    Ok(Some((record, Some(serialized))))
}

/// What a sink task's `put` gets for bytes in Kafka: converted, then transformed.
fn sink_path(
    sample: &SampleRecord,
    input: usize,
    converters: &mut Converters,
    transforms: &mut TransformChain,
) -> Result<Option<(ConnectRecord, Option<SerializedRecord>)>, String> {
    let topic = topic_of(sample);
    let key_bytes = bytes_in_kafka(&sample.key);
    let value_bytes = bytes_in_kafka(&sample.value);
    let (key_schema, key) = converters
        .key
        .to_connect(topic, key_bytes.as_deref())
        .map_err(|e| format!("{}: {e}", converters.classes.key))?;
    let (value_schema, value) = converters
        .value
        .to_connect(topic, value_bytes.as_deref())
        .map_err(|e| format!("{}: {e}", converters.classes.value))?;
    let mut headers = abi_stable::std_types::RVec::new();
    for (name, text) in &sample.headers {
        headers.push(
            converters
                .header
                .to_header(topic, name, Some(text.as_bytes()))
                .map_err(|e| format!("{}: {e}", converters.classes.header))?,
        );
    }
    let mut record = ConnectRecord {
        topic: topic.into(),
        kafka_partition: Some(sample.partition.unwrap_or(0)).into(),
        key_schema: key_schema.into(),
        key,
        value_schema: value_schema.into(),
        value,
        timestamp: None.into(),
        headers,
    };
    // The sample's index stands in for its Kafka offset (InsertField's offset.field).
    let verdict = transforms
        .apply_sink(&mut record, input as i64)
        .map_err(|e| e.to_string())?;
    Ok((verdict == Verdict::Keep).then_some((record, None)))
}

fn topic_of(sample: &SampleRecord) -> &str {
    sample.topic.as_deref().unwrap_or(DEFAULT_TOPIC)
}

fn string_schema() -> SchemaRef {
    SchemaRef::new(Schema::primitive(SchemaType::String))
}

/// A source sample's key or value as a task would emit it: a string with a string schema (as
/// FileStreamSource's lines), null as null, anything else schemaless.
fn emitted(sample: &Json) -> Result<(Option<SchemaRef>, Value), String> {
    match sample {
        Json::Null => Ok((None, Value::Null)),
        Json::String(text) => Ok((Some(string_schema()), Value::String(text.as_str().into()))),
        other => {
            let mut schemaless = JsonConverter::default();
            schemaless
                .configure(
                    &[("schemas.enable".to_string(), "false".to_string())].into(),
                    false,
                )
                .map_err(|e| e.to_string())?;
            let text = other.to_string();
            schemaless
                .to_connect(DEFAULT_TOPIC, Some(text.as_bytes()))
                .map_err(|e| e.to_string())
        }
    }
}

/// A sink sample's key or value as bytes in Kafka: a string's text, null as null, anything else
/// its JSON text.
fn bytes_in_kafka(sample: &Json) -> Option<Vec<u8>> {
    match sample {
        Json::Null => None,
        Json::String(text) => Some(text.as_bytes().to_vec()),
        other => Some(other.to_string().into_bytes()),
    }
}

/// Renders Connect data as JSON: one JsonConverter with schemas for every preview.
struct Shown {
    json: JsonConverter,
}

impl Default for Shown {
    fn default() -> Shown {
        let mut json = JsonConverter::default();
        // Always accepted: schemas.enable is a boolean key of the built-in converter.
        let _ = json.configure(
            &[("schemas.enable".to_string(), "true".to_string())].into(),
            false,
        );
        Shown { json }
    }
}

impl Shown {
    /// `(schema, payload)` of one value; a value that does not fit its schema is shown with
    /// the converter's message in place of the payload.
    fn render(&mut self, schema: Option<&SchemaRef>, value: &Value) -> (Json, Json) {
        match self.json.from_connect(DEFAULT_TOPIC, schema, value) {
            Ok(Some(bytes)) => match serde_json::from_slice::<Json>(&bytes) {
                Ok(Json::Object(mut envelope)) => (
                    envelope.remove("schema").unwrap_or(Json::Null),
                    envelope.remove("payload").unwrap_or(Json::Null),
                ),
                _ => (Json::Null, Json::Null),
            },
            Ok(None) => (Json::Null, Json::Null),
            Err(e) => (Json::Null, Json::String(format!("<cannot be shown: {e}>"))),
        }
    }

    fn kept(
        &mut self,
        input: usize,
        record: &ConnectRecord,
        serialized: Option<SerializedRecord>,
    ) -> PreviewedRecord {
        let (key_schema, key) = self.render(record.key_schema(), &record.key);
        let (value_schema, value) = self.render(record.value_schema(), &record.value);
        let headers = record
            .headers
            .iter()
            .map(|header| PreviewHeader {
                key: header.key.to_string(),
                value: self.render(header.schema.as_ref().into(), &header.value).1,
            })
            .collect();
        PreviewedRecord {
            input,
            outcome: PreviewOutcome::Kept,
            error: None,
            topic: Some(record.topic.to_string()),
            partition: record.kafka_partition.into_option(),
            key,
            value,
            key_schema,
            value_schema,
            headers,
            serialized,
        }
    }

    fn outcome(
        &mut self,
        input: usize,
        outcome: PreviewOutcome,
        error: Option<String>,
    ) -> PreviewedRecord {
        PreviewedRecord {
            input,
            outcome,
            error,
            topic: None,
            partition: None,
            key: Json::Null,
            value: Json::Null,
            key_schema: Json::Null,
            value_schema: Json::Null,
            headers: Vec::new(),
            serialized: None,
        }
    }
}
