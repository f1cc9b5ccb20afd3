//! # kconnect-convert
//!
//! The worker's built-in converters, byte-compatible with the ones Apache Kafka ships:
//! `JsonConverter`, `StringConverter`, `ByteArrayConverter`, the number converters
//! (`Boolean`/`Short`/`Integer`/`Long`/`Float`/`Double`) and `SimpleHeaderConverter`.
//!
//! The worker looks them up by Kafka's full class name or a short alias with [`builtin_converter`]
//! and [`builtin_header_converter`], lists them with [`builtin_classes`] and validates their settings
//! with [`config_def`].
//!
//! Invariants:
//! - What a converter writes is what Kafka's converter of the same class writes for the same Connect
//!   data (same bytes), except where a module doc says otherwise.
//! - Bad input (bytes, values that do not match their schema, settings) is a [`ConvertError`] naming
//!   what was wrong; nothing here panics on input.
//! - Converters are configured once, then used from one thread; they may keep caches (`&mut self`).

/// How deeply arrays, maps, structs and schemas may nest: Jackson's default limit. Converting at
/// this depth needs about 1 MB of stack in release builds (several MB in debug builds).
pub(crate) const MAX_NESTING: usize = 1000;

/// Implements [`HeaderConverter`] through the [`Converter`] methods, as Kafka's converters do.
macro_rules! header_via_converter {
    ($name:ty) => {
        header_via_converter!($name, |_converter, config| {
            $crate::numbers::check_type_config(config, "header")
        });
    };
    ($name:ty, |$this:ident, $config:ident| $configure:expr) => {
        impl $crate::HeaderConverter for $name {
            fn configure(
                &mut self,
                $config: &std::collections::BTreeMap<String, String>,
            ) -> Result<(), $crate::ConvertError> {
                let $this = self;
                $configure
            }

            fn from_header(
                &mut self,
                topic: &str,
                header: &kconnect_plugin_api::Header,
            ) -> Result<Option<Vec<u8>>, $crate::ConvertError> {
                $crate::Converter::from_connect(
                    self,
                    topic,
                    header.schema.as_ref().into_option(),
                    &header.value,
                )
            }

            fn to_header(
                &mut self,
                topic: &str,
                key: &str,
                bytes: Option<&[u8]>,
            ) -> Result<kconnect_plugin_api::Header, $crate::ConvertError> {
                let (schema, value) = $crate::Converter::to_connect(self, topic, bytes)?;
                Ok(kconnect_plugin_api::Header::new(key, schema, value))
            }
        }
    };
}

mod bigint;
mod java_format;
mod java_hash_map;
mod json;
mod numbers;
mod registry;
mod simple_header;
mod string;

use kconnect_plugin_api::{Header, SchemaRef, Value};
use std::collections::BTreeMap;

pub use java_hash_map::{java_hash_code, to_java_hash_map_order, HashMapOrigin};
pub use json::JsonConverter;
pub use numbers::{
    BooleanConverter, ByteArrayConverter, DoubleConverter, FloatConverter, IntegerConverter,
    LongConverter, ShortConverter,
};
pub use registry::{
    builtin_classes, builtin_converter, builtin_header_converter, config_def, BuiltinClass,
};
pub use simple_header::SimpleHeaderConverter;
pub use string::{push_java_text, StringConverter};

/// Why a conversion or a configuration failed. Messages follow Kafka's wording where Kafka has one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConvertError {
    /// A setting is missing, malformed or unsupported.
    #[error("Invalid converter configuration: {0}")]
    Config(String),
    /// Bytes read from Kafka could not be parsed (not JSON, wrong length, bad encoding).
    #[error("Converting byte[] to Kafka Connect data failed due to serialization error of topic {topic}: {detail}")]
    Deserialization { topic: String, detail: String },
    /// Connect data does not fit its schema or the converter (Kafka's `DataException`).
    #[error("{0}")]
    Data(String),
}

impl ConvertError {
    pub(crate) fn data(message: impl Into<String>) -> ConvertError {
        ConvertError::Data(message.into())
    }

    pub(crate) fn deserialization(topic: &str, detail: impl Into<String>) -> ConvertError {
        ConvertError::Deserialization {
            topic: topic.to_string(),
            detail: detail.into(),
        }
    }
}

impl From<ConvertError> for kconnect_plugin_api::ConnectError {
    /// Settings problems are config errors; everything else fails the task (Kafka's
    /// `DataException` is not retriable).
    fn from(error: ConvertError) -> Self {
        match error {
            ConvertError::Config(_) => kconnect_plugin_api::ConnectError::config(error.to_string()),
            _ => kconnect_plugin_api::ConnectError::failed(error.to_string()),
        }
    }
}

/// Turns record keys or values into bytes and back (Kafka's `Converter`).
// `from_connect` keeps Kafka's name (`fromConnectData`) although it takes `self`.
#[allow(clippy::wrong_self_convention)]
pub trait Converter: Send {
    /// Configures for keys (`is_key`) or values; `config` holds the converter's own keys with the
    /// `key.converter.`/`value.converter.` prefix already stripped (e.g. `schemas.enable`).
    fn configure(
        &mut self,
        config: &BTreeMap<String, String>,
        is_key: bool,
    ) -> Result<(), ConvertError>;

    /// Connect data to bytes; `None` is a Kafka null (a tombstone).
    fn from_connect(
        &mut self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, ConvertError> {
        let mut out = Vec::new();
        Ok(self
            .from_connect_into(topic, schema, value, &mut out)?
            .then_some(out))
    }

    /// Writes `value` into `out` (which the caller has cleared) and returns false for a Kafka
    /// null, leaving `out` as it was. After an error `out` may hold part of the value. This is the
    /// method converters implement: the worker reuses one buffer for every record.
    fn from_connect_into(
        &mut self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, ConvertError>;

    /// Bytes read from Kafka (`None` for a Kafka null) to Connect data.
    fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<SchemaRef>, Value), ConvertError>;
}

/// Turns record headers into bytes and back (Kafka's `HeaderConverter`).
#[allow(clippy::wrong_self_convention)]
pub trait HeaderConverter: Send {
    /// Configures the converter; `config` holds its own keys, prefix stripped.
    fn configure(&mut self, config: &BTreeMap<String, String>) -> Result<(), ConvertError>;

    /// A header's value to bytes; `None` is a null header value.
    fn from_header(
        &mut self,
        topic: &str,
        header: &Header,
    ) -> Result<Option<Vec<u8>>, ConvertError>;

    /// Bytes of the header `key` (`None` for a null value) to a Connect header.
    fn to_header(
        &mut self,
        topic: &str,
        key: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Header, ConvertError>;
}
