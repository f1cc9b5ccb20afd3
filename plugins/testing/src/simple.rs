//! One small class of each remaining kind, each with a visible effect so a test can tell that the
//! call really went through the plugin.

use crate::LOG_TARGET;
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectRecord, ConnectResult,
    Converter, PluginClass, Predicate, Schema, SchemaRef, SchemaType, Transformation, Value,
};

/// A converter that writes STRING values reversed and reads bytes back reversed.
///
/// The value `"__panic__"` makes it panic, so converter panics can be tested too.
#[derive(Debug, Default)]
pub struct ReverseStringConverter {
    is_key: bool,
}

/// The value that makes [`ReverseStringConverter`] panic.
pub const PANIC_VALUE: &str = "__panic__";

impl PluginClass for ReverseStringConverter {
    const CLASS: &'static str = "kconnect.testing.ReverseStringConverter";
    const DOC: &'static str = "Stores strings reversed.";
}

fn reversed(text: &str) -> String {
    text.chars().rev().collect()
}

impl Converter for ReverseStringConverter {
    fn configure(&mut self, _config: Config, is_key: bool) -> ConnectResult<()> {
        self.is_key = is_key;
        log::debug!(target: LOG_TARGET, "reverse string converter configured (is_key = {is_key})");
        Ok(())
    }

    fn from_connect(
        &mut self,
        topic: &str,
        _schema: Option<&SchemaRef>,
        value: &Value,
    ) -> ConnectResult<Option<Vec<u8>>> {
        match value {
            Value::Null => Ok(None),
            Value::String(text) if text.as_str() == PANIC_VALUE => {
                panic!("reverse string converter asked to panic on topic {topic}")
            }
            Value::String(text) => Ok(Some(reversed(text).into_bytes())),
            other => Err(ConnectError::failed(format!(
                "reverse string converter cannot write a {} value to topic {topic}",
                other.type_name()
            ))),
        }
    }

    fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> ConnectResult<(Option<SchemaRef>, Value)> {
        let schema = SchemaRef::new(Schema::optional_primitive(SchemaType::String));
        match bytes {
            None => Ok((Some(schema), Value::Null)),
            Some(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|e| {
                    ConnectError::failed(format!(
                        "topic {topic} holds bytes that are not UTF-8: {e}"
                    ))
                })?;
                Ok((Some(schema), Value::String(reversed(text).into())))
            }
        }
    }
}

/// A transformation that upper-cases STRING values and leaves every other record alone.
#[derive(Debug, Default)]
pub struct UppercaseValue;

impl PluginClass for UppercaseValue {
    const CLASS: &'static str = "kconnect.testing.UppercaseValue";
    const DOC: &'static str = "Upper-cases string values.";
}

impl Transformation for UppercaseValue {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }

    fn configure(&mut self, _config: Config) -> ConnectResult<()> {
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> ConnectResult<Option<ConnectRecord>> {
        if let Value::String(text) = &record.value {
            record.value = Value::String(text.to_uppercase().into());
        }
        Ok(Some(record))
    }
}

/// A predicate that is true for records of one topic.
#[derive(Debug, Default)]
pub struct TopicMatches {
    topic: String,
}

/// The setting naming the topic [`TopicMatches`] is true for.
pub const PREDICATE_TOPIC: &str = "topic";

impl PluginClass for TopicMatches {
    const CLASS: &'static str = "kconnect.testing.TopicMatches";
    const DOC: &'static str = "True for records of the topic named by `topic`.";
}

impl Predicate for TopicMatches {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(ConfigKey::required(
            PREDICATE_TOPIC,
            ConfigType::String,
            "The topic the predicate is true for.",
        ))
    }

    fn configure(&mut self, config: Config) -> ConnectResult<()> {
        let parsed = self
            .config_def()
            .parse(&config)
            .map_err(ConnectError::config)?;
        self.topic = parsed.string(PREDICATE_TOPIC).to_string();
        Ok(())
    }

    fn test(&mut self, record: &ConnectRecord) -> ConnectResult<bool> {
        Ok(record.topic.as_str() == self.topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converter_round_trips_and_reverses() {
        let mut converter = ReverseStringConverter::default();
        let bytes = converter
            .from_connect("t", None, &Value::from("abc"))
            .unwrap()
            .unwrap();
        assert_eq!(bytes, b"cba");
        let (_, value) = converter.to_connect("t", Some(&bytes)).unwrap();
        assert_eq!(value, Value::from("abc"));
        assert!(converter.from_connect("t", None, &Value::Int32(1)).is_err());
    }

    #[test]
    fn predicate_needs_a_topic() {
        let mut predicate = TopicMatches::default();
        assert!(predicate.configure(Config::new()).is_err());
        let config = [(PREDICATE_TOPIC.to_string(), "a".to_string())].into();
        predicate.configure(config).unwrap();
        assert!(predicate
            .test(&ConnectRecord::new("a", None, Value::Null))
            .unwrap());
        assert!(!predicate
            .test(&ConnectRecord::new("b", None, Value::Null))
            .unwrap());
    }
}
