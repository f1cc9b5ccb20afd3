//! Reading config files the way Kafka writes them: `.properties` (Java properties syntax), `.json`
//! (`{"name": …, "config": {…}}` as Kafka's standalone mode and REST accept, or a flat object) and
//! `.toml` (a flat table, or `name` plus a `[config]` table). Every key is kept as a string.

use crate::error::{Result, WorkerError};
use std::collections::BTreeMap;
use std::path::Path;

/// Flat string keys and values.
pub type Properties = BTreeMap<String, String>;

fn file_error(path: &Path, message: impl Into<String>) -> WorkerError {
    WorkerError::ConfigFile {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Reads a file of worker or connector settings, choosing the syntax by extension
/// (`.json`, `.toml`, anything else as Java properties).
pub fn read_properties(path: &Path) -> Result<Properties> {
    let text =
        std::fs::read_to_string(path).map_err(|e| file_error(path, format!("cannot read: {e}")))?;
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match extension {
        "json" => parse_json(&text).map_err(|m| file_error(path, m)),
        "toml" => parse_toml(&text).map_err(|m| file_error(path, m)),
        _ => parse_java_properties(&text).map_err(|m| file_error(path, m)),
    }
}

/// Parses Java properties text (comments, `=`/`:`/space separators, escapes, continuations).
pub fn parse_java_properties(text: &str) -> Result<Properties, String> {
    java_properties::read(text.as_bytes())
        .map(|map| map.into_iter().collect())
        .map_err(|e| format!("invalid properties syntax: {e}"))
}

fn json_scalar(key: &str, value: &serde_json::Value) -> Result<String, String> {
    match value {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!(
            "value of \"{key}\" must be a string, number or boolean, not {other}"
        )),
    }
}

/// Parses `{"name": "x", "config": {...}}` (name copied into the config) or a flat object.
pub fn parse_json(text: &str) -> Result<Properties, String> {
    let root: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let object = root
        .as_object()
        .ok_or_else(|| "expected a JSON object".to_string())?;
    let mut properties = Properties::new();
    if let Some(config) = object.get("config") {
        let config = config
            .as_object()
            .ok_or_else(|| "\"config\" must be a JSON object".to_string())?;
        for (k, v) in config {
            properties.insert(k.clone(), json_scalar(k, v)?);
        }
        if let Some(name) = object.get("name") {
            let name = json_scalar("name", name)?;
            if let Some(inner) = properties.get("name") {
                if *inner != name {
                    return Err(format!(
                        "connector name \"{name}\" differs from config name \"{inner}\""
                    ));
                }
            }
            properties.insert("name".to_string(), name);
        }
    } else {
        for (k, v) in object {
            properties.insert(k.clone(), json_scalar(k, v)?);
        }
    }
    Ok(properties)
}

/// Parses a flat TOML table, or `name` plus a `[config]` table. Nested tables elsewhere are
/// flattened with dots (`[producer] acks = "all"` is `producer.acks`).
pub fn parse_toml(text: &str) -> Result<Properties, String> {
    let root: toml::Table = text.parse().map_err(|e| format!("invalid TOML: {e}"))?;
    let mut properties = Properties::new();
    fn walk(prefix: &str, table: &toml::Table, out: &mut Properties) -> Result<(), String> {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(inner) => walk(&key, inner, out)?,
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                toml::Value::Integer(i) => {
                    out.insert(key, i.to_string());
                }
                toml::Value::Float(f) => {
                    out.insert(key, f.to_string());
                }
                toml::Value::Boolean(b) => {
                    out.insert(key, b.to_string());
                }
                toml::Value::Array(items) => {
                    let parts: Result<Vec<String>, String> = items
                        .iter()
                        .map(|i| match i {
                            toml::Value::String(s) => Ok(s.clone()),
                            toml::Value::Integer(n) => Ok(n.to_string()),
                            other => Err(format!("unsupported list item in \"{key}\": {other}")),
                        })
                        .collect();
                    out.insert(key, parts?.join(","));
                }
                toml::Value::Datetime(d) => {
                    out.insert(key, d.to_string());
                }
            }
        }
        Ok(())
    }
    match root.get("config") {
        Some(toml::Value::Table(config)) => {
            walk("", config, &mut properties)?;
            if let Some(toml::Value::String(name)) = root.get("name") {
                properties.insert("name".to_string(), name.clone());
            }
        }
        _ => walk("", &root, &mut properties)?,
    }
    Ok(properties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_properties_as_kafka_ships_them() {
        let text = "# comment\nname=local-file-source\nconnector.class = FileStreamSource\ntasks.max:1\nfile=test.txt\n! other comment\ntopic connect-test\nlong=a\\\n  b\n";
        let p = parse_java_properties(text).unwrap();
        assert_eq!(p["name"], "local-file-source");
        assert_eq!(p["connector.class"], "FileStreamSource");
        assert_eq!(p["tasks.max"], "1");
        assert_eq!(p["topic"], "connect-test");
        assert_eq!(p["long"], "ab");
    }

    #[test]
    fn json_request_shape_and_flat_shape() {
        let p = parse_json(
            r#"{"name":"s","config":{"connector.class":"FileStreamSink","tasks.max":1,"x":true}}"#,
        )
        .unwrap();
        assert_eq!(p["name"], "s");
        assert_eq!(p["tasks.max"], "1");
        assert_eq!(p["x"], "true");
        let flat = parse_json(r#"{"name":"s","topics":"t"}"#).unwrap();
        assert_eq!(flat["topics"], "t");
        assert!(parse_json(r#"{"name":"a","config":{"name":"b"}}"#)
            .unwrap_err()
            .contains("differs"));
        assert!(parse_json("[1]").unwrap_err().contains("object"));
        assert!(parse_json(r#"{"config":{"a":{"b":1}}}"#)
            .unwrap_err()
            .contains("\"a\""));
    }

    proptest::proptest! {
        /// Any text: an answer or an error, never a panic.
        #[test]
        fn properties_parser_never_panics(text in ".*") {
            let _ = parse_java_properties(&text);
        }

        /// Keys and values written the way Java's `Properties.store` escapes them read back as
        /// they were.
        #[test]
        fn escaped_pairs_round_trip(
            pairs in proptest::collection::btree_map("[a-zA-Z0-9._-]{1,20}", "[ -~]{0,40}", 0..10)
        ) {
            let mut text = String::new();
            for (k, v) in &pairs {
                let escaped: String = v
                    .chars()
                    .enumerate()
                    .map(|(i, c)| match c {
                        '\\' => "\\\\".to_string(),
                        ' ' if i == 0 => "\\ ".to_string(),
                        '=' | ':' | '#' | '!' => format!("\\{c}"),
                        c => c.to_string(),
                    })
                    .collect();
                text.push_str(&format!("{k}={escaped}\n"));
            }
            proptest::prop_assert_eq!(parse_java_properties(&text).unwrap(), pairs);
        }

        #[test]
        fn json_and_toml_parsers_never_panic(text in ".*") {
            let _ = parse_json(&text);
            let _ = parse_toml(&text);
        }
    }

    /// Hand-picked hard cases, kept in the repository as a corpus.
    #[test]
    fn corpus_files_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/properties");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let expected = path.with_extension("json");
            if path.extension().is_some_and(|e| e == "properties") {
                let parsed = read_properties(&path).unwrap();
                let want: Properties =
                    serde_json::from_str(&std::fs::read_to_string(&expected).unwrap()).unwrap();
                assert_eq!(parsed, want, "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen >= 3, "the corpus is there");
    }

    #[test]
    fn toml_flat_and_nested() {
        let p = parse_toml("name = \"s\"\n[config]\n\"connector.class\" = \"FileStreamSource\"\ntasks = 2\n[config.producer]\nacks = \"all\"\n").unwrap();
        assert_eq!(p["name"], "s");
        assert_eq!(p["connector.class"], "FileStreamSource");
        assert_eq!(p["producer.acks"], "all");
        assert_eq!(p["tasks"], "2");
    }
}
