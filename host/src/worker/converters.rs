//! Choosing a connector's key, value and header converters: the connector's own
//! `key.converter`/`value.converter`/`header.converter` when set, else the worker's, each configured
//! with the keys under its prefix. Built-in converters first, then plugin-provided ones.

use super::WorkerContext;
use crate::config::worker::strip_prefix;
use crate::config::{ConnectorConfig, Properties};
use crate::error::{Result, WorkerError};
use kconnect_convert::{ConvertError, Converter, HeaderConverter};
use kconnect_plugin_api::{PluginKind, SchemaRef, Value};

pub struct Converters {
    pub key: Box<dyn Converter>,
    pub value: Box<dyn Converter>,
    pub header: Box<dyn HeaderConverter>,
    /// Their class names, for error reports.
    pub classes: ConverterClasses,
}

pub struct ConverterClasses {
    pub key: String,
    pub value: String,
    pub header: String,
}

/// A converter exported by a plugin, seen through the built-in converter trait.
struct PluginConverter(kconnect_loader::ConverterHandle);

fn plugin_error(e: kconnect_plugin_api::ConnectError) -> ConvertError {
    ConvertError::Data(e.message.to_string())
}

impl Converter for PluginConverter {
    fn configure(&mut self, config: &Properties, is_key: bool) -> Result<(), ConvertError> {
        self.0.configure(config, is_key).map_err(plugin_error)
    }

    fn from_connect_into(
        &mut self,
        topic: &str,
        schema: Option<&SchemaRef>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, ConvertError> {
        match self
            .0
            .from_connect(topic, schema, value)
            .map_err(plugin_error)?
        {
            Some(bytes) => {
                out.extend_from_slice(&bytes);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<(Option<SchemaRef>, Value), ConvertError> {
        self.0.to_connect(topic, bytes).map_err(plugin_error)
    }
}

fn converter(
    worker: &WorkerContext,
    key: &str,
    class: &str,
    config: &Properties,
    is_key: bool,
) -> Result<Box<dyn Converter>> {
    let mut converter: Box<dyn Converter> = match kconnect_convert::builtin_converter(class) {
        Some(c) => c,
        None => {
            let info = worker
                .registry
                .resolve(class, &[PluginKind::Converter], None)
                .map_err(|e| {
                    WorkerError::key(
                        key,
                        format!("Invalid value {class} for configuration {key}: {e}"),
                    )
                })?;
            let handle = worker.registry.new_converter(&info)?;
            Box::new(PluginConverter(handle))
        }
    };
    converter
        .configure(config, is_key)
        .map_err(|e| WorkerError::key(key, e.to_string()))?;
    Ok(converter)
}

impl Converters {
    pub fn for_connector(
        worker: &WorkerContext,
        connector: &ConnectorConfig,
    ) -> Result<Converters> {
        let pick = |key: &str, own: &Option<String>, worker_class: &str| -> (String, Properties) {
            match own {
                Some(class) => (
                    class.clone(),
                    strip_prefix(&connector.raw, &format!("{key}.")),
                ),
                None => (
                    worker_class.to_string(),
                    worker.config.prefixed(&format!("{key}.")),
                ),
            }
        };
        let (key_class, key_config) = pick(
            "key.converter",
            &connector.key_converter,
            &worker.config.key_converter,
        );
        let (value_class, value_config) = pick(
            "value.converter",
            &connector.value_converter,
            &worker.config.value_converter,
        );
        let (header_class, header_config) = pick(
            "header.converter",
            &connector.header_converter,
            &worker.config.header_converter,
        );
        let mut header = kconnect_convert::builtin_header_converter(&header_class).ok_or_else(|| {
            WorkerError::key(
                "header.converter",
                format!("Invalid value {header_class} for configuration header.converter: unknown header converter"),
            )
        })?;
        header
            .configure(&header_config)
            .map_err(|e| WorkerError::key("header.converter", e.to_string()))?;
        Ok(Converters {
            key: converter(worker, "key.converter", &key_class, &key_config, true)?,
            value: converter(
                worker,
                "value.converter",
                &value_class,
                &value_config,
                false,
            )?,
            header,
            classes: ConverterClasses {
                key: key_class,
                value: value_class,
                header: header_class,
            },
        })
    }
}
