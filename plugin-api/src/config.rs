//! Config definitions, as Kafka's `ConfigDef`: enough to validate a connector's config and to answer
//! the REST API's `config/validate` with Kafka's shape.
//!
//! Definitions cross the plugin boundary as JSON, so fields can be added here without breaking
//! plugins built against an older plugin-api (unknown fields are ignored, missing ones default).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A connector or task config: string keys to string values, as Kafka passes them.
pub type Config = BTreeMap<String, String>;

/// The type of a config value, as Kafka's `ConfigDef.Type`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConfigType {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Class,
    Password,
}

impl ConfigType {
    /// Kafka's upper-case name, used in validate responses.
    pub fn name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Short => "SHORT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Class => "CLASS",
            ConfigType::Password => "PASSWORD",
        }
    }
}

/// How much a setting matters, as Kafka's `ConfigDef.Importance`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Importance {
    High,
    #[default]
    Medium,
    Low,
}

impl Importance {
    pub fn name(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// Display width hint, as Kafka's `ConfigDef.Width`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Width {
    #[default]
    None,
    Short,
    Medium,
    Long,
}

impl Width {
    pub fn name(self) -> &'static str {
        match self {
            Width::None => "NONE",
            Width::Short => "SHORT",
            Width::Medium => "MEDIUM",
            Width::Long => "LONG",
        }
    }
}

/// Checks on a value beyond its type, as Kafka's built-in validators.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Validator {
    /// Numbers within `[min, max]`; either bound may be open.
    Range { min: Option<f64>, max: Option<f64> },
    /// One of the given strings.
    ValidString {
        values: Vec<String>,
        #[serde(default)]
        case_insensitive: bool,
    },
    /// Every list element one of the given strings.
    ValidList { values: Vec<String> },
    /// A string that is not empty.
    NonEmptyString,
    /// Not null (a value must be given even though the key has a default of null).
    NonNull,
}

impl Validator {
    fn check(&self, name: &str, raw: &str, parsed: &ParsedValue) -> Result<(), String> {
        match self {
            Validator::Range { min, max } => {
                let number = match parsed {
                    ParsedValue::Int(v) => *v as f64,
                    ParsedValue::Double(v) => *v,
                    _ => return Ok(()),
                };
                if let Some(min) = min {
                    if number < *min {
                        return Err(format!(
                            "Invalid value {raw} for configuration {name}: Value must be at least {}",
                            trim_float(*min)
                        ));
                    }
                }
                if let Some(max) = max {
                    if number > *max {
                        return Err(format!(
                            "Invalid value {raw} for configuration {name}: Value must be no more than {}",
                            trim_float(*max)
                        ));
                    }
                }
                Ok(())
            }
            Validator::ValidString {
                values,
                case_insensitive,
            } => {
                let found = values.iter().any(|v| {
                    if *case_insensitive {
                        v.eq_ignore_ascii_case(raw)
                    } else {
                        v == raw
                    }
                });
                if found {
                    Ok(())
                } else {
                    Err(format!(
                        "Invalid value {raw} for configuration {name}: String must be one of: {}",
                        values.join(", ")
                    ))
                }
            }
            Validator::ValidList { values } => {
                if let ParsedValue::List(items) = parsed {
                    for item in items {
                        if !values.contains(item) {
                            return Err(format!(
                                "Invalid value {item} for configuration {name}: Invalid value {item} for configuration {name}: String must be one of: {}",
                                values.join(", ")
                            ));
                        }
                    }
                }
                Ok(())
            }
            Validator::NonEmptyString => {
                if raw.trim().is_empty() {
                    Err(format!(
                        "Invalid value {raw} for configuration {name}: String may not be empty"
                    ))
                } else {
                    Ok(())
                }
            }
            Validator::NonNull => Ok(()),
        }
    }
}

fn trim_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

/// One setting a plugin understands.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ConfigKey {
    pub name: String,
    #[serde(rename = "type")]
    pub config_type: ConfigType,
    /// The default as a string; `None` means the setting is required.
    #[serde(default)]
    pub default_value: Option<String>,
    #[serde(default)]
    pub importance: Importance,
    #[serde(default)]
    pub documentation: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default = "minus_one")]
    pub order_in_group: i32,
    #[serde(default)]
    pub width: Width,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub dependents: Vec<String>,
    #[serde(default)]
    pub validator: Option<Validator>,
    /// Values a UI may offer.
    #[serde(default)]
    pub recommended_values: Vec<String>,
}

fn minus_one() -> i32 {
    -1
}

impl ConfigKey {
    /// A key with no default: a value must be given.
    pub fn required(name: &str, config_type: ConfigType, documentation: &str) -> ConfigKey {
        ConfigKey {
            name: name.to_string(),
            config_type,
            default_value: None,
            importance: Importance::High,
            documentation: documentation.to_string(),
            group: None,
            order_in_group: -1,
            width: Width::None,
            display_name: None,
            dependents: Vec::new(),
            validator: None,
            recommended_values: Vec::new(),
        }
    }

    /// A key with a default value (`""` for an empty default).
    pub fn optional(
        name: &str,
        config_type: ConfigType,
        default: &str,
        documentation: &str,
    ) -> ConfigKey {
        ConfigKey {
            default_value: Some(default.to_string()),
            importance: Importance::Medium,
            ..ConfigKey::required(name, config_type, documentation)
        }
    }

    pub fn importance(mut self, importance: Importance) -> Self {
        self.importance = importance;
        self
    }

    pub fn validator(mut self, validator: Validator) -> Self {
        self.validator = Some(validator);
        self
    }

    pub fn group(mut self, group: &str, order: i32) -> Self {
        self.group = Some(group.to_string());
        self.order_in_group = order;
        self
    }

    pub fn width(mut self, width: Width) -> Self {
        self.width = width;
        self
    }

    pub fn display_name(mut self, display_name: &str) -> Self {
        self.display_name = Some(display_name.to_string());
        self
    }

    pub fn recommended(mut self, values: &[&str]) -> Self {
        self.recommended_values = values.iter().map(|v| v.to_string()).collect();
        self
    }

    /// True when a value must be given.
    pub fn is_required(&self) -> bool {
        self.default_value.is_none()
    }

    /// Parses `raw` as this key's type and runs its validator.
    pub fn parse(&self, raw: &str) -> Result<ParsedValue, String> {
        let parsed = parse_typed(&self.name, self.config_type, raw)?;
        if let Some(validator) = &self.validator {
            validator.check(&self.name, raw, &parsed)?;
        }
        Ok(parsed)
    }
}

/// A value parsed according to its [`ConfigType`].
#[derive(Clone, Debug, PartialEq)]
pub enum ParsedValue {
    Boolean(bool),
    String(String),
    Int(i64),
    Double(f64),
    List(Vec<String>),
    Password(String),
}

fn parse_typed(name: &str, config_type: ConfigType, raw: &str) -> Result<ParsedValue, String> {
    let trimmed = raw.trim();
    let bad = |kind: &str| format!("Invalid value {raw} for configuration {name}: {kind}");
    match config_type {
        ConfigType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "true" => Ok(ParsedValue::Boolean(true)),
            "false" => Ok(ParsedValue::Boolean(false)),
            _ => Err(bad("Expected value to be either true or false")),
        },
        ConfigType::String | ConfigType::Class => Ok(ParsedValue::String(trimmed.to_string())),
        ConfigType::Password => Ok(ParsedValue::Password(raw.to_string())),
        ConfigType::Int => trimmed
            .parse::<i32>()
            .map(|v| ParsedValue::Int(v as i64))
            .map_err(|_| bad("Not a number of type INT")),
        ConfigType::Short => trimmed
            .parse::<i16>()
            .map(|v| ParsedValue::Int(v as i64))
            .map_err(|_| bad("Not a number of type SHORT")),
        ConfigType::Long => trimmed
            .parse::<i64>()
            .map(ParsedValue::Int)
            .map_err(|_| bad("Not a number of type LONG")),
        ConfigType::Double => trimmed
            .parse::<f64>()
            .map(ParsedValue::Double)
            .map_err(|_| bad("Not a number of type DOUBLE")),
        ConfigType::List => Ok(ParsedValue::List(parse_list(trimmed))),
    }
}

/// Splits a comma-separated list the way Kafka does: trimmed items, an empty string is an empty list.
pub fn parse_list(raw: &str) -> Vec<String> {
    if raw.trim().is_empty() {
        return Vec::new();
    }
    raw.split(',').map(|s| s.trim().to_string()).collect()
}

/// The outcome of validating one key, as Kafka's `ConfigValue`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ConfigValue {
    pub name: String,
    pub value: Option<String>,
    #[serde(default)]
    pub recommended_values: Vec<String>,
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default = "yes")]
    pub visible: bool,
}

fn yes() -> bool {
    true
}

/// The settings a plugin understands.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ConfigDef {
    pub keys: Vec<ConfigKey>,
}

impl ConfigDef {
    pub fn new() -> ConfigDef {
        ConfigDef::default()
    }

    /// Adds a key (builder style).
    pub fn define(mut self, key: ConfigKey) -> ConfigDef {
        self.keys.retain(|k| k.name != key.name);
        self.keys.push(key);
        self
    }

    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// Validates every defined key against `config`: one [`ConfigValue`] per key, in definition order.
    pub fn validate(&self, config: &Config) -> Vec<ConfigValue> {
        self.keys
            .iter()
            .map(|key| {
                let given = config.get(&key.name);
                let mut errors = Vec::new();
                match (given, &key.default_value) {
                    (Some(raw), _) => {
                        if let Err(e) = key.parse(raw) {
                            errors.push(e);
                        }
                    }
                    (None, None) => errors.push(format!(
                        "Missing required configuration \"{}\" which has no default value.",
                        key.name
                    )),
                    (None, Some(_)) => {}
                }
                ConfigValue {
                    name: key.name.clone(),
                    value: given.cloned().or_else(|| key.default_value.clone()),
                    recommended_values: key.recommended_values.clone(),
                    errors,
                    visible: true,
                }
            })
            .collect()
    }

    /// Parses `config` into typed values, failing on the first invalid or missing key.
    pub fn parse(&self, config: &Config) -> Result<ParsedConfig, String> {
        let mut values = BTreeMap::new();
        for key in &self.keys {
            let raw = match (config.get(&key.name), &key.default_value) {
                (Some(raw), _) => raw.as_str(),
                (None, Some(default)) => default.as_str(),
                (None, None) => {
                    return Err(format!(
                        "Missing required configuration \"{}\" which has no default value.",
                        key.name
                    ))
                }
            };
            values.insert(key.name.clone(), key.parse(raw)?);
        }
        Ok(ParsedConfig { values })
    }
}

/// Typed values of a config, from [`ConfigDef::parse`]. The getters panic on a key that was not
/// defined, which is a bug in the plugin, not bad user input.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedConfig {
    values: BTreeMap<String, ParsedValue>,
}

impl ParsedConfig {
    fn get(&self, name: &str) -> &ParsedValue {
        self.values
            .get(name)
            .unwrap_or_else(|| panic!("config key {name} is not defined"))
    }

    pub fn string(&self, name: &str) -> &str {
        match self.get(name) {
            ParsedValue::String(s) | ParsedValue::Password(s) => s,
            other => panic!("config key {name} is not a string: {other:?}"),
        }
    }

    /// A string, or `None` when it is empty.
    pub fn non_empty_string(&self, name: &str) -> Option<&str> {
        Some(self.string(name)).filter(|s| !s.is_empty())
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            ParsedValue::Int(v) => *v,
            other => panic!("config key {name} is not an integer: {other:?}"),
        }
    }

    pub fn double(&self, name: &str) -> f64 {
        match self.get(name) {
            ParsedValue::Double(v) => *v,
            ParsedValue::Int(v) => *v as f64,
            other => panic!("config key {name} is not a number: {other:?}"),
        }
    }

    pub fn boolean(&self, name: &str) -> bool {
        match self.get(name) {
            ParsedValue::Boolean(v) => *v,
            other => panic!("config key {name} is not a boolean: {other:?}"),
        }
    }

    pub fn list(&self, name: &str) -> &[String] {
        match self.get(name) {
            ParsedValue::List(v) => v,
            other => panic!("config key {name} is not a list: {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(ConfigKey::required("file", ConfigType::String, "the file"))
            .define(
                ConfigKey::optional("batch.size", ConfigType::Int, "2000", "batch").validator(
                    Validator::Range {
                        min: Some(1.0),
                        max: None,
                    },
                ),
            )
    }

    #[test]
    fn missing_required_key_is_reported_with_kafkas_message() {
        let values = def().validate(&Config::new());
        assert_eq!(
            values[0].errors,
            vec!["Missing required configuration \"file\" which has no default value."]
        );
        assert!(values[1].errors.is_empty());
        assert_eq!(values[1].value.as_deref(), Some("2000"));
    }

    #[test]
    fn bad_number_and_range_are_errors() {
        let mut config = Config::new();
        config.insert("file".into(), "x".into());
        config.insert("batch.size".into(), "many".into());
        assert_eq!(
            def().parse(&config).unwrap_err(),
            "Invalid value many for configuration batch.size: Not a number of type INT"
        );
        config.insert("batch.size".into(), "0".into());
        assert_eq!(
            def().parse(&config).unwrap_err(),
            "Invalid value 0 for configuration batch.size: Value must be at least 1"
        );
        config.insert("batch.size".into(), " 7 ".into());
        assert_eq!(def().parse(&config).unwrap().int("batch.size"), 7);
    }

    #[test]
    fn definitions_round_trip_through_json() {
        let json = serde_json::to_string(&def()).unwrap();
        let back: ConfigDef = serde_json::from_str(&json).unwrap();
        assert_eq!(back, def());
    }
}
