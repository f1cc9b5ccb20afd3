//! `TimestampRouter`: sets the topic to `topic.format` with `${topic}` and `${timestamp}` (the
//! record timestamp formatted with `timestamp.format`, a `SimpleDateFormat` pattern in UTC).

use super::prelude::*;
use crate::java_date::JavaDateFormat;

pub(crate) const DOC: &str = "Update the record's topic field as a function of the original topic value and the record timestamp. This is mainly useful for sink connectors, since the topic field is often used to determine the equivalent entity name in the destination system(e.g. database table or search index name).";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::with_default(
            "timestamp.format",
            ConfigType::String,
            "yyyyMMdd",
            "Format string for the timestamp that is compatible with java.text.SimpleDateFormat.",
        )
        .importance(Importance::High),
        Spec::with_default(
            "topic.format",
            ConfigType::String,
            "${topic}-${timestamp}",
            "Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively.",
        )
        .importance(Importance::High),
    ]
}

pub(crate) fn configure(settings: &Settings) -> Result<Box<dyn Transformation>, TransformError> {
    let pattern = settings.string("timestamp.format")?;
    let format = JavaDateFormat::compile(&pattern)
        .map_err(|e| settings.invalid("timestamp.format", &pattern, &e))?;
    Ok(Box::new(TimestampRouter {
        topic_format: settings.string("topic.format")?,
        format,
    }))
}

struct TimestampRouter {
    topic_format: String,
    format: JavaDateFormat,
}

impl Transformation for TimestampRouter {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let timestamp = record.timestamp.into_option().ok_or_else(|| {
            TransformError::data(format!(
                "Timestamp missing on record: topic {}",
                record.topic
            ))
        })?;
        let topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &self.format.format(timestamp));
        record.topic = topic.into();
        Ok(Verdict::Keep)
    }
}
