//! `ReplaceField$Key` / `ReplaceField$Value`: keeps (`include`), drops (`exclude`, which wins) and
//! renames (`renames=old:new`) fields. The pre-3.0 names `whitelist`/`blacklist` are read when
//! `include`/`exclude` are not set. Null keys/values pass unchanged.

use super::prelude::*;
use crate::util::as_java_hash_map;
use kconnect_convert::HashMapOrigin;
use std::collections::{HashMap, HashSet};

pub(crate) const DOC: &str = "Filter or rename fields.";

const PURPOSE: &str = "field replacement";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::with_default(
            "exclude",
            ConfigType::List,
            "",
            "Fields to exclude. This takes precedence over the fields to include.",
        ),
        Spec::with_default(
            "include",
            ConfigType::List,
            "",
            "Fields to include. If specified, only these fields will be used.",
        ),
        Spec::with_default("renames", ConfigType::List, "", "Field rename mappings."),
        replace_null_with_default_spec(),
        Spec::nullable(
            "blacklist",
            ConfigType::List,
            "Deprecated. Use exclude instead.",
        )
        .importance(Importance::Low),
        Spec::nullable(
            "whitelist",
            ConfigType::List,
            "Deprecated. Use include instead.",
        )
        .importance(Importance::Low),
    ]
}

/// `include`/`exclude`, or their deprecated names when only those are given.
fn list_or_deprecated(
    settings: &Settings,
    name: &str,
    deprecated: &str,
) -> Result<Vec<String>, TransformError> {
    let old = settings.nullable_list(deprecated)?;
    match old {
        Some(old) if !settings.is_set(name) => {
            log::warn!(
                "Configuration '{}' is deprecated and may be removed in the future. Please use '{}' instead.",
                settings.full_name(deprecated),
                settings.full_name(name)
            );
            Ok(old)
        }
        Some(_) => {
            log::warn!(
                "Both '{}' and '{}' are set; using '{}'.",
                settings.full_name(name),
                settings.full_name(deprecated),
                settings.full_name(name)
            );
            settings.list(name)
        }
        None => settings.list(name),
    }
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    let mut renames = HashMap::new();
    let mappings = settings.list("renames")?;
    for mapping in &mappings {
        // Java's String.split drops trailing empty parts, so "a:" is one part: invalid.
        let mut parts: Vec<&str> = mapping.split(':').collect();
        while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        match parts.as_slice() {
            [from, to] => {
                renames.insert(from.to_string(), to.to_string());
            }
            _ => {
                return Err(settings.invalid(
                    "renames",
                    &format!("[{}]", mappings.join(", ")),
                    &format!("Invalid rename mapping: {mapping}"),
                ))
            }
        }
    }
    Ok(Box::new(ReplaceField {
        side,
        selection: Selection {
            exclude: list_or_deprecated(settings, "exclude", "blacklist")?
                .into_iter()
                .collect(),
            include: list_or_deprecated(settings, "include", "whitelist")?
                .into_iter()
                .collect(),
            renames,
        },
        replace_null: settings.boolean("replace.null.with.default")?,
        plans: SchemaCache::new(),
    }))
}

/// The derived schema and, per output field, the input field it takes its value from.
struct Plan {
    schema: SchemaRef,
    sources: Vec<usize>,
    /// Whether a kept field has a default, which a null value would take.
    has_defaults: bool,
}

struct ReplaceField {
    side: Side,
    selection: Selection,
    replace_null: bool,
    plans: SchemaCache<Plan>,
}

/// Which fields are kept, and under which names.
struct Selection {
    exclude: HashSet<String>,
    include: HashSet<String>,
    renames: HashMap<String, String>,
}

impl Selection {
    fn keeps(&self, field: &str) -> bool {
        !self.exclude.contains(field) && (self.include.is_empty() || self.include.contains(field))
    }

    fn renamed<'a>(&'a self, field: &'a str) -> &'a str {
        self.renames.get(field).map(String::as_str).unwrap_or(field)
    }

    fn plan(&self, schema: &Schema) -> Result<Plan, TransformError> {
        let mut updated = copy_schema_basics(schema, SchemaType::Struct);
        let mut sources = Vec::new();
        for field in schema.fields.iter() {
            if self.keeps(&field.name) {
                let name = self.renamed(&field.name);
                if updated.field(name).is_some() {
                    return Err(TransformError::data(format!(
                        "Cannot create field because of field name duplication {name}"
                    )));
                }
                push_field(&mut updated, name, field.schema.clone());
                sources.push(field.index as usize);
            }
        }
        Ok(Plan {
            has_defaults: has_defaults(&updated),
            schema: SchemaRef::new(updated),
            sources,
        })
    }
}

impl Transformation for ReplaceField {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        if self.side.value(record).is_null() {
            return Ok(Verdict::Keep);
        }
        let selection = &self.selection;
        let (schema, value) = self.side.slots(record);
        match (schema, value) {
            (ROption::RNone, Value::Map(entries)) => {
                let origin = HashMapOrigin::WithCapacity(entries.len());
                let mut updated = RVec::with_capacity(entries.len());
                for Tuple2(key, value) in std::mem::take(entries) {
                    let name = map_key_string(&key);
                    if selection.keeps(&name) {
                        if selection.renames.is_empty() {
                            updated.push(Tuple2(key, value));
                        } else {
                            map_put(&mut updated, selection.renamed(&name), value);
                        }
                    }
                }
                as_java_hash_map(&mut updated, origin);
                *entries = updated;
            }
            (ROption::RNone, other) => return Err(not_a_map(other, PURPOSE)),
            (ROption::RSome(schema), Value::Struct(value)) => {
                let plan = self
                    .plans
                    .get_or_build(&value.schema, |s| selection.plan(s))?;
                if self.replace_null && plan.has_defaults {
                    fill_defaults(value);
                }
                // Sources increase with the output position, so the kept values can be
                // compacted to the front in place; a rename alone moves none.
                for (position, source) in plan.sources.iter().enumerate() {
                    if position != *source {
                        value.values.swap(position, *source);
                    }
                }
                value.values.truncate(plan.sources.len());
                value.schema = plan.schema.clone();
                *schema = plan.schema.clone();
            }
            (ROption::RSome(_), other) => return Err(not_a_struct(other, PURPOSE)),
        }
        Ok(Verdict::Keep)
    }
}
