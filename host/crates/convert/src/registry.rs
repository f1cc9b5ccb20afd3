//! The table of built-in classes: names, aliases, kinds and config definitions.
//!
//! Aliases follow Kafka's `PluginUtils`: the simple class name, and the simple name without the
//! kind's suffix (`Converter`, or `HeaderConverter` for header converters), e.g. `JsonConverter`
//! and `Json`, `SimpleHeaderConverter` and `Simple`. Lookups accept the full name or any alias.

use crate::json::JsonConverter;
use crate::numbers::{
    BooleanConverter, ByteArrayConverter, DoubleConverter, FloatConverter, IntegerConverter,
    LongConverter, ShortConverter,
};
use crate::simple_header::SimpleHeaderConverter;
use crate::string::StringConverter;
use crate::{ConvertError, Converter, HeaderConverter};
use kconnect_plugin_api::config::ParsedConfig;
use kconnect_plugin_api::{ConfigDef, ConfigKey, ConfigType, Importance, PluginKind, Validator};
use std::collections::BTreeMap;

/// A built-in class as the worker lists it (`GET /connector-plugins?connectorsOnly=false`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltinClass {
    /// Kafka's full class name.
    pub class: &'static str,
    pub kind: PluginKind,
    /// Short names that also select the class.
    pub aliases: Vec<&'static str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Builtin {
    Json,
    String,
    ByteArray,
    Boolean,
    Short,
    Integer,
    Long,
    Float,
    Double,
    SimpleHeader,
}

const ALL: [Builtin; 10] = [
    Builtin::Json,
    Builtin::String,
    Builtin::ByteArray,
    Builtin::Boolean,
    Builtin::Short,
    Builtin::Integer,
    Builtin::Long,
    Builtin::Float,
    Builtin::Double,
    Builtin::SimpleHeader,
];

impl Builtin {
    fn class(self) -> &'static str {
        match self {
            Builtin::Json => "org.apache.kafka.connect.json.JsonConverter",
            Builtin::String => "org.apache.kafka.connect.storage.StringConverter",
            Builtin::ByteArray => "org.apache.kafka.connect.converters.ByteArrayConverter",
            Builtin::Boolean => "org.apache.kafka.connect.converters.BooleanConverter",
            Builtin::Short => "org.apache.kafka.connect.converters.ShortConverter",
            Builtin::Integer => "org.apache.kafka.connect.converters.IntegerConverter",
            Builtin::Long => "org.apache.kafka.connect.converters.LongConverter",
            Builtin::Float => "org.apache.kafka.connect.converters.FloatConverter",
            Builtin::Double => "org.apache.kafka.connect.converters.DoubleConverter",
            Builtin::SimpleHeader => "org.apache.kafka.connect.storage.SimpleHeaderConverter",
        }
    }

    fn simple_name(self) -> &'static str {
        let class = self.class();
        class.rsplit('.').next().unwrap_or(class)
    }

    fn is_converter(self) -> bool {
        self != Builtin::SimpleHeader
    }

    /// Kafka's aliases for the class listed as `kind`.
    fn aliases(self, kind: PluginKind) -> Vec<&'static str> {
        let simple = self.simple_name();
        let suffix = if kind == PluginKind::HeaderConverter {
            "HeaderConverter"
        } else {
            "Converter"
        };
        let mut aliases = vec![simple];
        if let Some(pruned) = simple.strip_suffix(suffix).filter(|p| !p.is_empty()) {
            aliases.push(pruned);
        }
        aliases
    }

    fn matches(self, name: &str) -> bool {
        let name = name.trim();
        name == self.class()
            || self.aliases(PluginKind::Converter).contains(&name)
            || self.aliases(PluginKind::HeaderConverter).contains(&name)
    }

    fn lookup(name: &str) -> Option<Builtin> {
        ALL.into_iter().find(|b| b.matches(name))
    }

    fn config_def(self) -> ConfigDef {
        match self {
            Builtin::Json => JsonConverter::config_def(),
            Builtin::String => StringConverter::config_def(),
            Builtin::SimpleHeader => ConfigDef::new(),
            _ => ConfigDef::new().define(converter_type_key()),
        }
    }

    fn converter(self) -> Option<Box<dyn Converter>> {
        Some(match self {
            Builtin::Json => Box::new(JsonConverter::default()),
            Builtin::String => Box::new(StringConverter),
            Builtin::ByteArray => Box::new(ByteArrayConverter),
            Builtin::Boolean => Box::new(BooleanConverter),
            Builtin::Short => Box::new(ShortConverter),
            Builtin::Integer => Box::new(IntegerConverter),
            Builtin::Long => Box::new(LongConverter),
            Builtin::Float => Box::new(FloatConverter),
            Builtin::Double => Box::new(DoubleConverter),
            Builtin::SimpleHeader => return None,
        })
    }

    fn header_converter(self) -> Box<dyn HeaderConverter> {
        match self {
            Builtin::Json => Box::new(JsonConverter::default()),
            Builtin::String => Box::new(StringConverter),
            Builtin::ByteArray => Box::new(ByteArrayConverter),
            Builtin::Boolean => Box::new(BooleanConverter),
            Builtin::Short => Box::new(ShortConverter),
            Builtin::Integer => Box::new(IntegerConverter),
            Builtin::Long => Box::new(LongConverter),
            Builtin::Float => Box::new(FloatConverter),
            Builtin::Double => Box::new(DoubleConverter),
            Builtin::SimpleHeader => Box::new(SimpleHeaderConverter),
        }
    }
}

/// A new, unconfigured converter for a full class name or alias; `None` if it is not a built-in
/// converter (`SimpleHeaderConverter` is only a header converter).
pub fn builtin_converter(class_or_alias: &str) -> Option<Box<dyn Converter>> {
    Builtin::lookup(class_or_alias)?.converter()
}

/// A new, unconfigured header converter for a full class name or alias. Every built-in converter
/// is also a header converter, as in Kafka.
pub fn builtin_header_converter(class_or_alias: &str) -> Option<Box<dyn HeaderConverter>> {
    Some(Builtin::lookup(class_or_alias)?.header_converter())
}

/// Every built-in class, once per kind it can serve: converters, then header converters.
pub fn builtin_classes() -> Vec<BuiltinClass> {
    let converters = ALL
        .into_iter()
        .filter(|b| b.is_converter())
        .map(|b| BuiltinClass {
            class: b.class(),
            kind: PluginKind::Converter,
            aliases: b.aliases(PluginKind::Converter),
        });
    let header_converters = ALL.into_iter().map(|b| BuiltinClass {
        class: b.class(),
        kind: PluginKind::HeaderConverter,
        aliases: b.aliases(PluginKind::HeaderConverter),
    });
    converters.chain(header_converters).collect()
}

/// The settings a built-in class understands, as Kafka's `config()` returns them; `None` for a
/// name that is not built in. Like Kafka's, the definitions include `converter.type`, which has no
/// default: the worker sets it (`key`, `value` or `header`) before validating a user's settings.
pub fn config_def(class_or_alias: &str) -> Option<ConfigDef> {
    Some(Builtin::lookup(class_or_alias)?.config_def())
}

/// Kafka's `ConverterConfig.TYPE_CONFIG`.
pub(crate) const CONVERTER_TYPE: &str = "converter.type";

pub(crate) fn converter_type_key() -> ConfigKey {
    ConfigKey::required(
        CONVERTER_TYPE,
        ConfigType::String,
        "How this converter will be used.",
    )
    .importance(Importance::Low)
    .validator(Validator::ValidString {
        values: vec!["key".to_string(), "value".to_string(), "header".to_string()],
        case_insensitive: false,
    })
}

/// Parses a converter's settings against `def`, with `converter.type` set as Kafka sets it.
pub(crate) fn parse_config(
    def: &ConfigDef,
    config: &BTreeMap<String, String>,
    converter_type: &str,
) -> Result<ParsedConfig, ConvertError> {
    let mut config = config.clone();
    config.insert(CONVERTER_TYPE.to_string(), converter_type.to_string());
    def.parse(&config).map_err(ConvertError::Config)
}
