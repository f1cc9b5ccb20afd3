//! `ExtractField$Key` / `ExtractField$Value`: replaces the key or value by one of its fields.
//!
//! `field.syntax.version=V2` (KIP-821) reads a dotted path into nested structs or maps, with
//! backticks around names that contain dots (`` `a.b`.c ``).

use super::prelude::*;

pub(crate) const DOC: &str = "Extract the specified field from a Struct when schema present, or a Map in the case of schemaless data. Any null values are passed through unmodified.";

const PURPOSE: &str = "field extraction";

pub(crate) fn specs() -> Vec<Spec> {
    vec![
        Spec::required("field", ConfigType::String, "Field name to extract."),
        field_syntax_version_spec(),
        replace_null_with_default_spec(),
    ]
}

pub(crate) fn field_syntax_version_spec() -> Spec {
    Spec::with_default(
        "field.syntax.version",
        ConfigType::String,
        "V1",
        "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\".",
    )
    .importance(Importance::High)
    .validator(Validator::ValidString {
        values: vec!["V1".into(), "V2".into()],
        case_insensitive: true,
    })
}

pub(crate) fn configure(
    settings: &Settings,
    side: Side,
) -> Result<Box<dyn Transformation>, TransformError> {
    let original = settings.string("field")?;
    let steps = if settings
        .string("field.syntax.version")?
        .eq_ignore_ascii_case("V2")
    {
        parse_path_v2(&original).map_err(|m| settings.error("field", m))?
    } else {
        vec![original.clone()]
    };
    Ok(Box::new(ExtractField {
        side,
        original,
        steps,
        replace_null: settings.boolean("replace.null.with.default")?,
    }))
}

/// Splits a V2 path at dots; `` `…` `` wraps a step containing dots, `` \` `` escapes a backtick
/// that would otherwise close the pair.
pub(crate) fn parse_path_v2(path: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = path.chars().collect();
    let incomplete = |at: usize| {
        format!("Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it")
    };
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            let end = chars[i..].iter().position(|c| *c == '.').map(|p| i + p);
            match end {
                Some(end) => {
                    steps.push(chars[i..end].iter().collect());
                    i = end + 1;
                }
                None => {
                    steps.push(chars[i..].iter().collect());
                    i = chars.len();
                }
            }
            continue;
        }
        let opened_at = i;
        i += 1;
        let mut start = i;
        let mut field = String::new();
        loop {
            let close = chars[i..]
                .iter()
                .position(|c| *c == '`')
                .map(|p| i + p)
                .ok_or_else(|| incomplete(opened_at))?;
            let escaped = chars[close - 1] == '\\';
            if close + 1 >= chars.len() {
                if escaped {
                    return Err(incomplete(opened_at));
                }
                field.extend(&chars[start..close]);
                steps.push(std::mem::take(&mut field));
                i = close + 1;
                break;
            }
            if chars[close + 1] != '.' {
                i = close + 1;
                continue;
            }
            if escaped {
                field.extend(&chars[start..close - 1]);
                field.push('`');
                i = close + 1;
                start = i;
                continue;
            }
            field.extend(&chars[start..close]);
            steps.push(std::mem::take(&mut field));
            i = close + 2;
            break;
        }
    }
    if path.ends_with('.') {
        steps.push(String::new());
    }
    Ok(steps)
}

struct ExtractField {
    side: Side,
    original: String,
    steps: Vec<String>,
    replace_null: bool,
}

impl ExtractField {
    fn field_schema(&self, schema: &Schema) -> Option<SchemaRef> {
        let (last, parents) = self.steps.split_last()?;
        let mut current = schema;
        for step in parents {
            current = &current.field(step)?.schema;
        }
        current.field(last).map(|f| f.schema.clone())
    }

    fn extract_from_struct(&self, mut value: Struct) -> Result<Value, TransformError> {
        for (i, step) in self.steps.iter().enumerate() {
            let Some(field) = value.schema.field(step) else {
                return Ok(Value::Null);
            };
            let index = field.index as usize;
            let field_value = std::mem::take(&mut value.values[index]);
            let field_value = resolve_default(field_value, &field.schema, self.replace_null);
            if i + 1 == self.steps.len() {
                return Ok(field_value);
            }
            value = match field_value {
                Value::Null => return Ok(Value::Null),
                Value::Struct(s) => s,
                other => return Err(not_a_struct(&other, "nested field access")),
            };
        }
        Ok(Value::Null)
    }

    fn extract_from_map(
        &self,
        mut entries: RVec<Tuple2<Value, Value>>,
    ) -> Result<Value, TransformError> {
        for (i, step) in self.steps.iter().enumerate() {
            let found = map_remove(&mut entries, step).unwrap_or_default();
            if i + 1 == self.steps.len() {
                return Ok(found);
            }
            entries = match found {
                Value::Null => return Ok(Value::Null),
                Value::Map(m) => m,
                other => return Err(not_a_map(&other, "nested field access")),
            };
        }
        Ok(Value::Null)
    }
}

impl Transformation for ExtractField {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        let (schema, value) = self.side.take(record);
        let (schema, value) = match schema {
            None => match value {
                Value::Null => (None, Value::Null),
                Value::Map(entries) => (None, self.extract_from_map(entries)?),
                other => return Err(not_a_map(&other, PURPOSE)),
            },
            Some(schema) => {
                let field_schema = self.field_schema(&schema).ok_or_else(|| {
                    TransformError::data(format!("Unknown field: {}", self.original))
                })?;
                let value = match value {
                    Value::Null => Value::Null,
                    Value::Struct(s) => self.extract_from_struct(s)?,
                    other => return Err(not_a_struct(&other, PURPOSE)),
                };
                (Some(field_schema), value)
            }
        };
        self.side.put(record, schema, value);
        Ok(Verdict::Keep)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_path_v2;

    #[test]
    fn v2_paths_split_like_kafka() {
        let cases: [(&str, &[&str]); 5] = [
            ("a.b.c", &["a", "b", "c"]),
            ("`a.b`.c", &["a.b", "c"]),
            ("a.`b.c`", &["a", "b.c"]),
            ("a.", &["a", ""]),
            ("`a\\`.b`.c", &["a`.b", "c"]),
        ];
        for (path, expected) in cases {
            assert_eq!(parse_path_v2(path).unwrap(), expected, "{path}");
        }
        assert!(parse_path_v2("`a.b")
            .unwrap_err()
            .contains("Incomplete backtick pair"));
    }
}
