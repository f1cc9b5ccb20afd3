//! Reading a built-in's settings the way Kafka's `SimpleConfig` does, with errors that name the
//! full key (`transforms.a.field`, not `field`) when the chain configures a transform.
//!
//! Each built-in describes its settings as [`Spec`]s: a plugin-api [`ConfigKey`] plus the checks
//! Kafka has that plugin-api's validators do not express (non-empty lists, `null` defaults).

use crate::error::TransformError;
use kconnect_plugin_api::config::{parse_list, ParsedValue};
use kconnect_plugin_api::{ConfigDef, ConfigKey, ConfigType, Importance, Validator};
use std::collections::BTreeMap;

/// One setting of a built-in.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub key: ConfigKey,
    /// Kafka's default is `null`: an absent (or empty) value means "not set".
    pub nullable: bool,
    /// Kafka's `NonEmptyListValidator`.
    pub non_empty_list: bool,
}

impl Spec {
    pub fn required(name: &str, config_type: ConfigType, doc: &str) -> Spec {
        Spec {
            key: ConfigKey::required(name, config_type, doc),
            nullable: false,
            non_empty_list: false,
        }
    }

    pub fn with_default(name: &str, config_type: ConfigType, default: &str, doc: &str) -> Spec {
        Spec {
            key: ConfigKey::optional(name, config_type, default, doc),
            nullable: false,
            non_empty_list: false,
        }
    }

    /// A setting whose Kafka default is `null`.
    pub fn nullable(name: &str, config_type: ConfigType, doc: &str) -> Spec {
        Spec {
            key: ConfigKey::optional(name, config_type, "", doc),
            nullable: true,
            non_empty_list: false,
        }
    }

    pub fn importance(mut self, importance: Importance) -> Spec {
        self.key.importance = importance;
        self
    }

    pub fn validator(mut self, validator: Validator) -> Spec {
        self.key.validator = Some(validator);
        self
    }

    pub fn non_empty_list(mut self) -> Spec {
        self.non_empty_list = true;
        self
    }
}

/// The `replace.null.with.default` setting Kafka 3.8 added to several transforms (KIP-1040).
pub(crate) fn replace_null_with_default_spec() -> Spec {
    Spec::with_default(
        "replace.null.with.default",
        ConfigType::Boolean,
        "true",
        "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )
}

/// The `ConfigDef` shown for a built-in (REST `config` endpoints).
pub(crate) fn config_def_of(specs: &[Spec]) -> ConfigDef {
    specs
        .iter()
        .fold(ConfigDef::new(), |def, spec| def.define(spec.key.clone()))
}

/// Typed access to a built-in's settings.
pub(crate) struct Settings<'a> {
    specs: &'a [Spec],
    config: &'a BTreeMap<String, String>,
    prefix: &'a str,
}

impl<'a> Settings<'a> {
    /// `prefix` is prepended to key names in errors (`transforms.a.`), empty when configured alone.
    pub fn new(
        specs: &'a [Spec],
        config: &'a BTreeMap<String, String>,
        prefix: &'a str,
    ) -> Settings<'a> {
        Settings {
            specs,
            config,
            prefix,
        }
    }

    /// The full name of a key, as errors show it.
    pub fn full_name(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    fn spec(&self, name: &str) -> &Spec {
        // A missing spec is a bug in this crate (every getter call names a defined key).
        self.specs
            .iter()
            .find(|s| s.key.name == name)
            .unwrap_or_else(|| panic!("setting {name} is not defined"))
    }

    /// Parses a setting; `None` when it is nullable and not set.
    fn parsed(&self, name: &str) -> Result<Option<ParsedValue>, TransformError> {
        let spec = self.spec(name);
        let full = self.full_name(name);
        let raw = match (self.config.get(name), &spec.key.default_value) {
            (Some(raw), _) if spec.nullable && raw.trim().is_empty() => return Ok(None),
            (Some(raw), _) => raw.as_str(),
            (None, _) if spec.nullable => return Ok(None),
            (None, Some(default)) => default.as_str(),
            (None, None) => {
                return Err(TransformError::config(
                    &full,
                    format!(
                        "Missing required configuration \"{full}\" which has no default value."
                    ),
                ))
            }
        };
        let mut named = spec.key.clone();
        named.name = full.clone();
        let parsed = named
            .parse(raw)
            .map_err(|message| TransformError::config(&full, message))?;
        if spec.non_empty_list {
            if let ParsedValue::List(items) = &parsed {
                if items.is_empty() {
                    return Err(TransformError::config(
                        &full,
                        format!("Invalid value [] for configuration {full}: Empty list"),
                    ));
                }
            }
        }
        Ok(Some(parsed))
    }

    /// A STRING (trimmed, as Kafka does), required or with a default.
    pub fn string(&self, name: &str) -> Result<String, TransformError> {
        Ok(self.nullable_string(name)?.unwrap_or_default())
    }

    /// A STRING whose Kafka default is `null`.
    pub fn nullable_string(&self, name: &str) -> Result<Option<String>, TransformError> {
        Ok(match self.parsed(name)? {
            Some(ParsedValue::String(s)) | Some(ParsedValue::Password(s)) => Some(s),
            _ => None,
        })
    }

    pub fn list(&self, name: &str) -> Result<Vec<String>, TransformError> {
        Ok(match self.parsed(name)? {
            Some(ParsedValue::List(items)) => items,
            _ => Vec::new(),
        })
    }

    /// A LIST whose Kafka default is `null`; `None` when not set.
    pub fn nullable_list(&self, name: &str) -> Result<Option<Vec<String>>, TransformError> {
        Ok(match self.parsed(name)? {
            Some(ParsedValue::List(items)) => Some(items),
            _ => None,
        })
    }

    pub fn boolean(&self, name: &str) -> Result<bool, TransformError> {
        Ok(matches!(
            self.parsed(name)?,
            Some(ParsedValue::Boolean(true))
        ))
    }

    pub fn nullable_int(&self, name: &str) -> Result<Option<i64>, TransformError> {
        Ok(match self.parsed(name)? {
            Some(ParsedValue::Int(v)) => Some(v),
            _ => None,
        })
    }

    /// True when the key was given in the config.
    pub fn is_set(&self, name: &str) -> bool {
        self.config.contains_key(name)
    }

    /// A configuration error about `name`, with Kafka's "Invalid value" wording.
    pub fn invalid(&self, name: &str, value: &str, reason: &str) -> TransformError {
        let full = self.full_name(name);
        TransformError::config(
            &full,
            format!("Invalid value {value} for configuration {full}: {reason}"),
        )
    }

    /// A configuration error about `name` with a free-form message.
    pub fn error(&self, name: &str, message: impl Into<String>) -> TransformError {
        TransformError::config(self.full_name(name), message)
    }
}

/// Checks every setting on its own (type, validator, required): one error per bad key, named
/// with `prefix`. This is what Kafka's `ConfigDef.validate` reports for an embedded definition.
pub(crate) fn validate_specs(
    specs: &[Spec],
    config: &BTreeMap<String, String>,
    prefix: &str,
) -> Vec<(String, String)> {
    let settings = Settings::new(specs, config, prefix);
    specs
        .iter()
        .filter_map(|spec| match settings.parsed(&spec.key.name) {
            Ok(_) => None,
            Err(e) => Some((
                e.key()
                    .unwrap_or(&settings.full_name(&spec.key.name))
                    .to_string(),
                e.message().to_string(),
            )),
        })
        .collect()
}

/// Splits a list the way Kafka does (re-exported for the chain's `transforms` and `predicates`).
pub(crate) fn split_list(raw: &str) -> Vec<String> {
    parse_list(raw)
}
