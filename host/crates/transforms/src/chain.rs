//! The transformation chain of a connector, built from its `transforms` and `predicates` settings
//! as Kafka's `ConnectorConfig` builds it:
//! - `transforms=a,b` lists the aliases in order; `transforms.a.type` names the class; every other
//!   `transforms.a.<key>` is handed to the class as `<key>` (with `type` too, as Kafka does).
//! - `transforms.a.predicate=p` applies `a` only to records `p` is true for (`negate=true`: false
//!   for); `predicates=p` lists predicate aliases and `predicates.p.type` / `predicates.p.<key>`
//!   configure them. Each stage gets its own predicate instance.
//! - Built-in classes are looked up first, then the [`ExternalResolver`].
//!
//! Errors name the full key (`transforms.a.type`, `transforms.a.field`) and the alias.

use crate::builtins::{find, make_predicate, make_transformation};
use crate::config::{split_list, validate_specs};
use crate::error::TransformError;
use crate::{Predicate, TransformResult, Transformation, Verdict};
use kconnect_plugin_api::{ConnectRecord, PluginKind};
use std::collections::BTreeMap;

/// Supplies transformation and predicate classes that are not built in (from plugins).
pub trait ExternalResolver {
    /// `None` when the resolver does not know `class`.
    fn transformation(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Option<Result<Box<dyn Transformation>, TransformError>>;

    /// `None` when the resolver does not know `class`.
    fn predicate(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Option<Result<Box<dyn Predicate>, TransformError>>;
}

/// A resolver that knows no classes: only built-ins are available.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltinsOnly;

impl ExternalResolver for BuiltinsOnly {
    fn transformation(
        &self,
        _class: &str,
        _config: &BTreeMap<String, String>,
    ) -> Option<Result<Box<dyn Transformation>, TransformError>> {
        None
    }

    fn predicate(
        &self,
        _class: &str,
        _config: &BTreeMap<String, String>,
    ) -> Option<Result<Box<dyn Predicate>, TransformError>> {
        None
    }
}

const PREDICATE_KEY: &str = "predicate";
const NEGATE_KEY: &str = "negate";

struct Stage {
    alias: String,
    transformation: Box<dyn Transformation>,
    predicate: Option<(String, Box<dyn Predicate>)>,
    negate: bool,
}

/// The configured transformations of one connector, applied in order to each record.
pub struct TransformChain {
    stages: Vec<Stage>,
}

impl std::fmt::Debug for TransformChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformChain")
            .field("aliases", &self.aliases())
            .finish()
    }
}

/// The aliases listed in `key`, or an error on a duplicate (Kafka's alias validator).
fn aliases(config: &BTreeMap<String, String>, key: &str) -> Result<Vec<String>, TransformError> {
    let list: Vec<String> = split_list(config.get(key).map(String::as_str).unwrap_or(""))
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
    let mut seen = std::collections::HashSet::new();
    if list.iter().any(|a| !seen.insert(a.as_str())) {
        return Err(TransformError::config(
            key,
            // Kafka names the parsed list, as Java's List.toString prints it.
            format!(
                "Invalid value [{}] for configuration {key}: Duplicate alias provided.",
                list.join(", ")
            ),
        ));
    }
    Ok(list)
}

/// The settings under `prefix`, with the prefix stripped.
fn sub_config(config: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    config
        .range(prefix.to_string()..)
        .take_while(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k[prefix.len()..].to_string(), v.clone()))
        .collect()
}

/// The class named by `<prefix>type`, or the error Kafka reports for that key.
fn class_of(sub: &BTreeMap<String, String>, prefix: &str) -> Result<String, TransformError> {
    let key = format!("{prefix}type");
    match sub.get("type").map(|c| c.trim()) {
        Some(class) if !class.is_empty() => Ok(class.to_string()),
        _ => Err(TransformError::config(
            &key,
            format!("Missing required configuration \"{key}\" which has no default value."),
        )),
    }
}

fn class_not_found(prefix: &str, class: &str) -> TransformError {
    let key = format!("{prefix}type");
    TransformError::config(
        &key,
        format!("Invalid value {class} for configuration {key}: Class {class} could not be found."),
    )
}

/// Errors from plugin classes name their own keys; put them under the alias's prefix.
fn under_prefix(error: TransformError, prefix: &str) -> TransformError {
    match error {
        TransformError::Config {
            alias,
            key: Some(key),
            message,
        } if !key.starts_with(prefix) => TransformError::Config {
            alias,
            key: Some(format!("{prefix}{key}")),
            message,
        },
        other => other.with_default_key(&format!("{prefix}type")),
    }
}

fn build_transformation(
    class: &str,
    config: &BTreeMap<String, String>,
    prefix: &str,
    resolve: &dyn ExternalResolver,
) -> Result<Box<dyn Transformation>, TransformError> {
    if let Some(builtin) = find(class, PluginKind::Transformation) {
        return make_transformation(builtin, config, prefix)
            .map_err(|e| e.with_default_key(&format!("{prefix}type")));
    }
    match resolve.transformation(class, config) {
        Some(result) => result.map_err(|e| under_prefix(e, prefix)),
        None => Err(class_not_found(prefix, class)),
    }
}

fn build_predicate(
    class: &str,
    config: &BTreeMap<String, String>,
    prefix: &str,
    resolve: &dyn ExternalResolver,
) -> Result<Box<dyn Predicate>, TransformError> {
    if let Some(builtin) = find(class, PluginKind::Predicate) {
        return make_predicate(builtin, config, prefix)
            .map_err(|e| e.with_default_key(&format!("{prefix}type")));
    }
    match resolve.predicate(class, config) {
        Some(result) => result.map_err(|e| under_prefix(e, prefix)),
        None => Err(class_not_found(prefix, class)),
    }
}

/// A transform alias's own settings, with `predicate` and `negate` taken out and checked.
struct TransformSettings {
    prefix: String,
    class: String,
    config: BTreeMap<String, String>,
    predicate: Option<String>,
    negate: bool,
}

fn transform_settings(
    config: &BTreeMap<String, String>,
    alias: &str,
    predicates: &[String],
) -> Result<TransformSettings, TransformError> {
    let prefix = format!("transforms.{alias}.");
    let mut sub = sub_config(config, &prefix);
    let class = class_of(&sub, &prefix)?;
    let predicate = sub
        .remove(PREDICATE_KEY)
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty());
    let negate_raw = sub.remove(NEGATE_KEY);
    if negate_raw.is_some() && predicate.is_none() {
        return Err(TransformError::config(
            format!("{prefix}type"),
            format!("Config '{prefix}{NEGATE_KEY}' was provided but there is no config '{prefix}{PREDICATE_KEY}' defining a predicate to be negated."),
        ));
    }
    let negate = match negate_raw.as_deref().map(|n| n.trim().to_ascii_lowercase()) {
        None => false,
        Some(n) if n == "true" => true,
        Some(n) if n == "false" => false,
        Some(_) => {
            let key = format!("{prefix}{NEGATE_KEY}");
            return Err(TransformError::config(
                &key,
                format!(
                    "Invalid value {} for configuration {key}: Expected value to be either true or false",
                    negate_raw.unwrap_or_default()
                ),
            ));
        }
    };
    if let Some(p) = &predicate {
        if !predicates.contains(p) {
            let key = format!("{prefix}{PREDICATE_KEY}");
            return Err(TransformError::config(
                &key,
                format!("Invalid value {p} for configuration {key}: there is no predicate with alias '{p}' in 'predicates'"),
            ));
        }
    }
    Ok(TransformSettings {
        prefix,
        class,
        config: sub,
        predicate,
        negate,
    })
}

impl TransformChain {
    /// A chain that changes nothing.
    pub fn empty() -> TransformChain {
        TransformChain { stages: Vec::new() }
    }

    /// Builds the chain from a connector config (see the module docs for the keys read).
    pub fn from_connector_config(
        config: &BTreeMap<String, String>,
        resolve: &dyn ExternalResolver,
    ) -> Result<TransformChain, TransformError> {
        let transforms = aliases(config, "transforms")?;
        let predicates = aliases(config, "predicates")?;
        // Every listed predicate must be valid, used or not, as Kafka validates them all.
        for alias in &predicates {
            let prefix = format!("predicates.{alias}.");
            let sub = sub_config(config, &prefix);
            let class = class_of(&sub, &prefix)?;
            build_predicate(&class, &sub, &prefix, resolve)?;
        }
        let mut stages = Vec::with_capacity(transforms.len());
        for alias in transforms {
            let settings = transform_settings(config, &alias, &predicates)
                .map_err(|e| e.with_alias(&alias))?;
            let transformation =
                build_transformation(&settings.class, &settings.config, &settings.prefix, resolve)
                    .map_err(|e| e.with_alias(&alias))?;
            let predicate = match settings.predicate {
                Some(p) => {
                    let prefix = format!("predicates.{p}.");
                    let sub = sub_config(config, &prefix);
                    let class = class_of(&sub, &prefix)?;
                    let predicate = build_predicate(&class, &sub, &prefix, resolve)
                        .map_err(|e| e.with_alias(&alias))?;
                    Some((p, predicate))
                }
                None => None,
            };
            stages.push(Stage {
                alias,
                transformation,
                predicate,
                negate: settings.negate,
            });
        }
        Ok(TransformChain { stages })
    }

    /// True when the connector configures no transformation.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// The transformation aliases, in order.
    pub fn aliases(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.alias.as_str()).collect()
    }

    /// Applies every transformation in order, in place; [`Verdict::Discard`] when one dropped the
    /// record. Errors name the alias of the transformation (or of the transformation whose
    /// predicate failed).
    pub fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        self.run(record, None)
    }

    /// Like [`TransformChain::apply`] for a sink record, whose Kafka offset some transformations
    /// read (`InsertField`'s `offset.field`).
    pub fn apply_sink(&mut self, record: &mut ConnectRecord, kafka_offset: i64) -> TransformResult {
        self.run(record, Some(kafka_offset))
    }

    fn run(&mut self, record: &mut ConnectRecord, offset: Option<i64>) -> TransformResult {
        for stage in &mut self.stages {
            if let Some((predicate_alias, predicate)) = &mut stage.predicate {
                let matched = predicate.test(record).map_err(|e| {
                    let message = format!("predicate '{predicate_alias}': {}", e.message());
                    TransformError::data(message).with_alias(&stage.alias)
                })?;
                if matched == stage.negate {
                    continue;
                }
            }
            let verdict = match offset {
                Some(offset) => stage.transformation.apply_sink(record, offset),
                None => stage.transformation.apply(record),
            };
            if verdict.map_err(|e| e.with_alias(&stage.alias))? == Verdict::Discard {
                return Ok(Verdict::Discard);
            }
        }
        Ok(Verdict::Keep)
    }
}

/// For `config/validate`: one `(key, message)` per bad key of the `transforms` and `predicates`
/// settings, keys named like Kafka's (`transforms.a.type`, `transforms.a.field`…).
///
/// Each key of a built-in is checked on its own (type, validator, required); when they are all
/// valid the class is configured, and an error that concerns several keys is reported under the
/// key it names, or under `<prefix>type`.
pub fn validate_transform_config(
    config: &BTreeMap<String, String>,
    resolve: &dyn ExternalResolver,
) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let mut push = |e: TransformError, default_key: &str| {
        errors.push((
            e.key().unwrap_or(default_key).to_string(),
            e.message().to_string(),
        ))
    };
    let predicates = aliases(config, "predicates").unwrap_or_else(|e| {
        push(e, "predicates");
        Vec::new()
    });
    let transforms = aliases(config, "transforms").unwrap_or_else(|e| {
        push(e, "transforms");
        Vec::new()
    });
    let mut seen = std::collections::HashSet::new();
    for alias in transforms.iter().filter(|a| seen.insert(a.as_str())) {
        let settings = match transform_settings(config, alias, &predicates) {
            Ok(settings) => settings,
            Err(e) => {
                push(e, &format!("transforms.{alias}.type"));
                continue;
            }
        };
        validate_class(
            &settings.class,
            &settings.config,
            &settings.prefix,
            PluginKind::Transformation,
            resolve,
            &mut push,
        );
    }
    let mut seen = std::collections::HashSet::new();
    for alias in predicates.iter().filter(|a| seen.insert(a.as_str())) {
        let prefix = format!("predicates.{alias}.");
        let sub = sub_config(config, &prefix);
        match class_of(&sub, &prefix) {
            Ok(class) => validate_class(
                &class,
                &sub,
                &prefix,
                PluginKind::Predicate,
                resolve,
                &mut push,
            ),
            Err(e) => push(e, &format!("{prefix}type")),
        }
    }
    errors
}

fn validate_class(
    class: &str,
    sub: &BTreeMap<String, String>,
    prefix: &str,
    kind: PluginKind,
    resolve: &dyn ExternalResolver,
    push: &mut dyn FnMut(TransformError, &str),
) {
    let type_key = format!("{prefix}type");
    if let Some(builtin) = find(class, kind) {
        let key_errors = validate_specs(&builtin.specs, sub, prefix);
        if !key_errors.is_empty() {
            for (key, message) in key_errors {
                push(TransformError::config(key, message), &type_key);
            }
            return;
        }
    }
    let result = match kind {
        PluginKind::Predicate => build_predicate(class, sub, prefix, resolve).map(|_| ()),
        _ => build_transformation(class, sub, prefix, resolve).map(|_| ()),
    };
    if let Err(e) = result {
        push(e, &type_key);
    }
}
