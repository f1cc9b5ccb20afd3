//! The definitions a connector config gains from its transformations and predicates, as Kafka
//! Connect's `ConnectorConfig.enrich` adds them to a validation result: per alias of
//! `transforms` (then of `predicates`), in group `Transforms: <alias>` (`Predicates: <alias>`),
//! - `<kind>.<alias>.type` (order 0, no default, a CLASS naming one of the known classes);
//! - the plugin's own keys, prefixed, from order 2 on (1 is Kafka's per-plugin version, which
//!   kconnect does not have), sorted as Kafka's `ConfigDef.embed` sorts them: by group, order in
//!   group, keys without a default first, importance, name. Transformations also get the
//!   implicit `predicate` and `negate` keys, which hide plugin keys of the same names.
//!
//! An alias whose class is missing or unknown gets only its `type` key: Kafka's validation does
//! not require the full config and skips the rest.

use kconnect_plugin_api::config::Width;
use kconnect_plugin_api::{ConfigDef, ConfigKey, ConfigType, Importance};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// What enrichment needs to know of one kind of plugin.
pub struct EnrichablePlugins<'a> {
    /// `transforms` or `predicates`.
    pub list_key: &'static str,
    /// `Transforms` or `Predicates`: the group prefix.
    pub group: &'static str,
    /// `transformation` or `predicate`, as Kafka words the type key's documentation.
    pub kind_word: &'static str,
    /// `Transformation` or `Predicate`: the type key's display name starts with it.
    pub interface: &'static str,
    /// Every class of this kind, for the type key's recommended values.
    pub classes: &'a [String],
    /// The config definition of a class (full name or alias), `None` when unknown.
    pub config_def: &'a dyn Fn(&str) -> Option<ConfigDef>,
}

/// What enrichment adds to a validation result.
#[derive(Debug, Default)]
pub struct Enriched {
    pub keys: Vec<ConfigKey>,
    /// Keys whose default is Kafka's `null` (optional without a value), which a `ConfigKey`
    /// without a default cannot tell from a required one.
    pub null_defaults: BTreeSet<String>,
    /// Type keys naming a class no plugin has: Kafka cannot parse them, so it shows no value.
    pub unknown_classes: BTreeSet<String>,
}

/// The keys `config` gains from the aliases it lists under `plugins.list_key`.
pub fn enriched_keys(
    config: &std::collections::BTreeMap<String, String>,
    plugins: &EnrichablePlugins<'_>,
) -> Enriched {
    let mut enriched = Enriched::default();
    let listed = config
        .get(plugins.list_key)
        .map(String::as_str)
        .unwrap_or("");
    let mut aliases: Vec<&str> = Vec::new();
    for alias in listed.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        if !aliases.contains(&alias) {
            aliases.push(alias);
        }
    }
    for alias in aliases {
        let prefix = format!("{}.{alias}.", plugins.list_key);
        let group = format!("{}: {alias}", plugins.group);
        let type_key = format!("{prefix}type");
        enriched.keys.push(ConfigKey {
            name: type_key.clone(),
            config_type: ConfigType::Class,
            default_value: None,
            importance: Importance::High,
            documentation: format!("Class for the '{alias}' {}.", plugins.kind_word),
            group: Some(group.clone()),
            order_in_group: 0,
            width: Width::Long,
            display_name: Some(format!("{} type for {alias}", plugins.interface)),
            dependents: Vec::new(),
            validator: None,
            recommended_values: plugins.classes.to_vec(),
        });
        let class = config
            .get(&type_key)
            .map(|class| class.trim())
            .filter(|class| !class.is_empty());
        let Some(def) = class.and_then(|class| (plugins.config_def)(class)) else {
            if class.is_some() {
                enriched.unknown_classes.insert(type_key);
            }
            continue;
        };
        // With whether each has a default: Kafka's implicit `predicate` has one, `null`, which
        // kconnect's `ConfigKey` cannot tell from none.
        let mut own: Vec<(ConfigKey, bool)> = Vec::new();
        if plugins.list_key == "transforms" {
            own.push((
                implicit_key(
                    "predicate",
                    ConfigType::String,
                    None,
                    "The alias of a predicate used to determine whether to apply this transformation.",
                ),
                true,
            ));
            own.push((
                implicit_key(
                    "negate",
                    ConfigType::Boolean,
                    Some("false"),
                    "Whether the configured predicate should be negated.",
                ),
                true,
            ));
        }
        let implicit = own.len();
        let mut groups: Vec<&str> = Vec::new();
        for key in &def.keys {
            if let Some(group) = key.group.as_deref() {
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
        }
        for key in &def.keys {
            if own[..implicit].iter().any(|(k, _)| k.name == key.name) {
                continue;
            }
            own.push((key.clone(), key.default_value.is_some()));
        }
        own.sort_by(|a, b| embed_order(a, b, &groups));
        for (order, (key, has_default)) in (2..).zip(own) {
            if has_default && key.default_value.is_none() {
                enriched
                    .null_defaults
                    .insert(format!("{prefix}{}", key.name));
            }
            enriched.keys.push(ConfigKey {
                name: format!("{prefix}{}", key.name),
                group: Some(match &key.group {
                    Some(inner) => format!("{group}: {inner}"),
                    None => group.clone(),
                }),
                order_in_group: order,
                display_name: Some(key.display_name.clone().unwrap_or(key.name.clone())),
                ..key
            });
        }
    }
    enriched
}

/// `predicate` and `negate`: defined without group, order, width or display name.
fn implicit_key(
    name: &str,
    config_type: ConfigType,
    default: Option<&str>,
    documentation: &str,
) -> ConfigKey {
    let mut key = ConfigKey::optional(name, config_type, default.unwrap_or(""), documentation)
        .importance(Importance::Medium);
    key.default_value = default.map(str::to_string);
    key
}

/// Kafka's `ConfigDef.sortedConfigs` comparison, of keys with whether they have a default.
fn embed_order(
    (a, a_default): &(ConfigKey, bool),
    (b, b_default): &(ConfigKey, bool),
    groups: &[&str],
) -> Ordering {
    let rank = |key: &ConfigKey| {
        key.group
            .as_deref()
            .map(|g| groups.iter().position(|x| *x == g).unwrap_or(usize::MAX))
    };
    let by_group = match (rank(a), rank(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.cmp(&y),
    };
    by_group
        .then(a.order_in_group.cmp(&b.order_in_group))
        // Keys a value must be given for come first.
        .then(a_default.cmp(b_default))
        .then(importance_rank(a.importance).cmp(&importance_rank(b.importance)))
        .then(a.name.cmp(&b.name))
}

fn importance_rank(importance: Importance) -> u8 {
    match importance {
        Importance::High => 0,
        Importance::Medium => 1,
        Importance::Low => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn insert_field_def() -> ConfigDef {
        ConfigDef::new()
            .define(ConfigKey::optional(
                "topic.field",
                ConfigType::String,
                "",
                "t",
            ))
            .define(
                ConfigKey::optional("static.value", ConfigType::String, "", "v")
                    .importance(Importance::High),
            )
            .define(ConfigKey::required("required.one", ConfigType::String, "r"))
            .define(
                ConfigKey::optional("negate", ConfigType::String, "", "masked")
                    .importance(Importance::Low),
            )
    }

    fn transforms<'a>(
        classes: &'a [String],
        lookup: &'a dyn Fn(&str) -> Option<ConfigDef>,
    ) -> EnrichablePlugins<'a> {
        EnrichablePlugins {
            list_key: "transforms",
            group: "Transforms",
            kind_word: "transformation",
            interface: "Transformation",
            classes,
            config_def: lookup,
        }
    }

    #[test]
    fn each_alias_gets_its_type_then_its_keys_in_kafkas_embedded_order() {
        let classes = vec!["a.Insert".to_string()];
        let lookup = |class: &str| (class == "a.Insert").then(insert_field_def);
        let enriched = enriched_keys(
            &config(&[
                ("transforms", "ins, gone,ins"),
                ("transforms.ins.type", "a.Insert"),
                ("transforms.gone.type", "a.Missing"),
            ]),
            &transforms(&classes, &lookup),
        );
        let keys = &enriched.keys;
        assert_eq!(
            enriched.null_defaults.iter().collect::<Vec<_>>(),
            ["transforms.ins.predicate"]
        );
        assert_eq!(
            enriched.unknown_classes.iter().collect::<Vec<_>>(),
            ["transforms.gone.type"]
        );
        let names: Vec<(&str, i32, &str)> = keys
            .iter()
            .map(|k| {
                (
                    k.name.as_str(),
                    k.order_in_group,
                    k.group.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("transforms.ins.type", 0, "Transforms: ins"),
                // No default first; then by importance, then by name.
                ("transforms.ins.required.one", 2, "Transforms: ins"),
                ("transforms.ins.static.value", 3, "Transforms: ins"),
                ("transforms.ins.negate", 4, "Transforms: ins"),
                ("transforms.ins.predicate", 5, "Transforms: ins"),
                ("transforms.ins.topic.field", 6, "Transforms: ins"),
                // An unknown class: its type only.
                ("transforms.gone.type", 0, "Transforms: gone"),
            ]
        );
        assert_eq!(keys[0].recommended_values, classes);
        assert_eq!(
            keys[0].display_name.as_deref(),
            Some("Transformation type for ins")
        );
        assert_eq!(keys[0].documentation, "Class for the 'ins' transformation.");
        // The implicit negate hides the plugin's own.
        let negate = keys
            .iter()
            .find(|k| k.name == "transforms.ins.negate")
            .unwrap();
        assert_eq!(negate.config_type, ConfigType::Boolean);
        assert_eq!(negate.default_value.as_deref(), Some("false"));
        let predicate = keys
            .iter()
            .find(|k| k.name == "transforms.ins.predicate")
            .unwrap();
        assert_eq!(predicate.default_value, None);
        assert_eq!(predicate.display_name.as_deref(), Some("predicate"));
    }

    #[test]
    fn predicates_have_no_implicit_keys() {
        let classes = vec!["p.Has".to_string()];
        let lookup = |_: &str| {
            Some(ConfigDef::new().define(ConfigKey::required("name", ConfigType::String, "n")))
        };
        let keys = enriched_keys(
            &config(&[("predicates", "p"), ("predicates.p.type", "p.Has")]),
            &EnrichablePlugins {
                list_key: "predicates",
                group: "Predicates",
                kind_word: "predicate",
                interface: "Predicate",
                classes: &classes,
                config_def: &lookup,
            },
        )
        .keys;
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["predicates.p.type", "predicates.p.name"]);
        assert_eq!(
            keys[0].display_name.as_deref(),
            Some("Predicate type for p")
        );
    }
}
