//! The table of built-in classes: Kafka's class names, their short aliases, settings and
//! constructors.

use crate::config::{config_def_of, Settings, Spec};
use crate::error::TransformError;
use crate::predicates::{has_header_key, record_is_tombstone, topic_name_matches};
use crate::transforms::*;
use crate::util::Side;
use crate::{Predicate, Transformation};
use kconnect_plugin_api::{ConfigDef, PluginKind};
use std::collections::BTreeMap;
use std::sync::OnceLock;

type MakeTransformation = fn(&Settings) -> Result<Box<dyn Transformation>, TransformError>;
type MakePredicate = fn(&Settings) -> Result<Box<dyn Predicate>, TransformError>;

#[derive(Clone, Copy)]
pub(crate) enum Make {
    Transformation(MakeTransformation),
    Predicate(MakePredicate),
}

pub(crate) struct Builtin {
    pub class: String,
    pub alias: String,
    pub doc: &'static str,
    pub specs: Vec<Spec>,
    pub make: Make,
}

impl Builtin {
    pub fn kind(&self) -> PluginKind {
        match self.make {
            Make::Transformation(_) => PluginKind::Transformation,
            Make::Predicate(_) => PluginKind::Predicate,
        }
    }
}

/// A built-in class, as the REST API and `kconnect plugins` list it.
#[derive(Clone, Debug, PartialEq)]
pub struct BuiltinClass {
    /// Kafka's class name, e.g. `org.apache.kafka.connect.transforms.InsertField$Value`.
    pub class: String,
    pub kind: PluginKind,
    /// Short names the class also answers to, e.g. `InsertField$Value`.
    pub aliases: Vec<String>,
    pub config_def: ConfigDef,
    /// Kafka's overview of the class.
    pub doc: String,
}

const TRANSFORMS: &str = "org.apache.kafka.connect.transforms.";
const PREDICATES: &str = "org.apache.kafka.connect.transforms.predicates.";

fn table() -> Vec<Builtin> {
    let mut all = Vec::new();
    let mut add = |package: &str, name: &str, doc: &'static str, specs: Vec<Spec>, make: Make| {
        all.push(Builtin {
            class: format!("{package}{name}"),
            alias: name.to_string(),
            doc,
            specs,
            make,
        })
    };
    macro_rules! keyed {
        ($name:literal, $module:ident) => {
            add(
                TRANSFORMS,
                concat!($name, "$Key"),
                $module::DOC,
                $module::specs(),
                Make::Transformation(|s| $module::configure(s, Side::Key)),
            );
            add(
                TRANSFORMS,
                concat!($name, "$Value"),
                $module::DOC,
                $module::specs(),
                Make::Transformation(|s| $module::configure(s, Side::Value)),
            );
        };
    }
    macro_rules! plain {
        ($name:literal, $module:ident) => {
            add(
                TRANSFORMS,
                $name,
                $module::DOC,
                $module::specs(),
                Make::Transformation($module::configure),
            );
        };
    }
    macro_rules! predicate {
        ($name:literal, $module:ident) => {
            add(
                PREDICATES,
                $name,
                $module::DOC,
                $module::specs(),
                Make::Predicate($module::configure),
            );
        };
    }
    keyed!("Cast", cast);
    plain!("DropHeaders", drop_headers);
    keyed!("ExtractField", extract_field);
    plain!("Filter", filter);
    keyed!("Flatten", flatten);
    keyed!("HeaderFrom", header_from);
    keyed!("HoistField", hoist_field);
    keyed!("InsertField", insert_field);
    plain!("InsertHeader", insert_header);
    keyed!("MaskField", mask_field);
    plain!("RegexRouter", regex_router);
    keyed!("ReplaceField", replace_field);
    keyed!("SetSchemaMetadata", set_schema_metadata);
    keyed!("TimestampConverter", timestamp_converter);
    plain!("TimestampRouter", timestamp_router);
    plain!("ValueToKey", value_to_key);
    predicate!("HasHeaderKey", has_header_key);
    predicate!("RecordIsTombstone", record_is_tombstone);
    predicate!("TopicNameMatches", topic_name_matches);
    all
}

pub(crate) fn registry() -> &'static [Builtin] {
    static TABLE: OnceLock<Vec<Builtin>> = OnceLock::new();
    TABLE.get_or_init(table)
}

/// The built-in of `kind` called `name` (class name or alias).
pub(crate) fn find(name: &str, kind: PluginKind) -> Option<&'static Builtin> {
    let name = name.trim();
    registry()
        .iter()
        .find(|b| b.kind() == kind && (b.class == name || b.alias == name))
}

pub(crate) fn make_transformation(
    builtin: &Builtin,
    config: &BTreeMap<String, String>,
    prefix: &str,
) -> Result<Box<dyn Transformation>, TransformError> {
    match builtin.make {
        Make::Transformation(make) => make(&Settings::new(&builtin.specs, config, prefix)),
        Make::Predicate(_) => Err(TransformError::config_general(format!(
            "{} is a predicate, not a transformation",
            builtin.class
        ))),
    }
}

pub(crate) fn make_predicate(
    builtin: &Builtin,
    config: &BTreeMap<String, String>,
    prefix: &str,
) -> Result<Box<dyn Predicate>, TransformError> {
    match builtin.make {
        Make::Predicate(make) => make(&Settings::new(&builtin.specs, config, prefix)),
        Make::Transformation(_) => Err(TransformError::config_general(format!(
            "{} is a transformation, not a predicate",
            builtin.class
        ))),
    }
}

/// Configures a built-in transformation by Kafka class name or alias; `None` for other names.
pub fn builtin_transformation(
    class: &str,
    config: &BTreeMap<String, String>,
) -> Option<Result<Box<dyn Transformation>, TransformError>> {
    find(class, PluginKind::Transformation).map(|b| make_transformation(b, config, ""))
}

/// Configures a built-in predicate by Kafka class name or alias; `None` for other names.
pub fn builtin_predicate(
    class: &str,
    config: &BTreeMap<String, String>,
) -> Option<Result<Box<dyn Predicate>, TransformError>> {
    find(class, PluginKind::Predicate).map(|b| make_predicate(b, config, ""))
}

/// Every built-in transformation and predicate.
pub fn builtin_classes() -> Vec<BuiltinClass> {
    registry()
        .iter()
        .map(|b| BuiltinClass {
            class: b.class.clone(),
            kind: b.kind(),
            aliases: vec![b.alias.clone()],
            config_def: config_def_of(&b.specs),
            doc: b.doc.to_string(),
        })
        .collect()
}
