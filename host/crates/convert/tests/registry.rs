//! Lookup of built-in converters by Kafka's class names and aliases, listing and config definitions.

use kconnect_convert::{builtin_classes, builtin_converter, builtin_header_converter, config_def};
use kconnect_plugin_api::{PluginKind, SchemaType, Value};
use std::collections::BTreeMap;

#[test]
fn converters_are_found_by_class_name_simple_name_and_pruned_alias() {
    for name in [
        "org.apache.kafka.connect.json.JsonConverter",
        "JsonConverter",
        "Json",
        "org.apache.kafka.connect.storage.StringConverter",
        "StringConverter",
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        "ByteArray",
        "org.apache.kafka.connect.converters.BooleanConverter",
        "ShortConverter",
        "IntegerConverter",
        "Long",
        "FloatConverter",
        "org.apache.kafka.connect.converters.DoubleConverter",
    ] {
        assert!(builtin_converter(name).is_some(), "{name}");
        assert!(builtin_header_converter(name).is_some(), "{name}");
    }
    assert!(builtin_converter("org.apache.kafka.connect.storage.SimpleHeaderConverter").is_none());
    assert!(
        builtin_header_converter("org.apache.kafka.connect.storage.SimpleHeaderConverter")
            .is_some()
    );
    assert!(builtin_header_converter("Simple").is_some());
    assert!(builtin_converter("io.confluent.connect.avro.AvroConverter").is_none());
    assert!(builtin_converter("Converter").is_none());
}

#[test]
fn looked_up_converters_behave_as_their_class() {
    let mut json = builtin_converter("JsonConverter").unwrap();
    let config = BTreeMap::from([("schemas.enable".to_string(), "false".to_string())]);
    json.configure(&config, false).unwrap();
    assert_eq!(
        json.from_connect("t", None, &Value::Int64(3)).unwrap(),
        Some(b"3".to_vec())
    );
    let mut bytes = builtin_converter("ByteArrayConverter").unwrap();
    let (schema, _) = bytes.to_connect("t", Some(b"x")).unwrap();
    assert_eq!(schema.unwrap().schema_type, SchemaType::Bytes);
}

#[test]
fn every_class_is_listed_once_per_kind() {
    let classes = builtin_classes();
    let converters: Vec<_> = classes
        .iter()
        .filter(|c| c.kind == PluginKind::Converter)
        .collect();
    let headers: Vec<_> = classes
        .iter()
        .filter(|c| c.kind == PluginKind::HeaderConverter)
        .collect();
    assert_eq!(converters.len(), 9);
    assert_eq!(headers.len(), 10);
    let json = converters
        .iter()
        .find(|c| c.class == "org.apache.kafka.connect.json.JsonConverter")
        .unwrap();
    assert_eq!(json.aliases, vec!["JsonConverter", "Json"]);
    let simple = headers
        .iter()
        .find(|c| c.class.ends_with("SimpleHeaderConverter"))
        .unwrap();
    assert_eq!(simple.aliases, vec!["SimpleHeaderConverter", "Simple"]);
    let string_header = headers
        .iter()
        .find(|c| c.class.ends_with("StringConverter"))
        .unwrap();
    assert_eq!(string_header.aliases, vec!["StringConverter"]);
    for class in &classes {
        assert!(config_def(class.class).is_some(), "{}", class.class);
    }
}

#[test]
fn config_definitions_match_kafkas() {
    let json = config_def("Json").unwrap();
    let names: Vec<&str> = json.keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "converter.type",
            "schemas.enable",
            "schemas.cache.size",
            "decimal.format",
            "replace.null.with.default"
        ]
    );
    assert_eq!(
        json.key("schemas.enable").unwrap().default_value.as_deref(),
        Some("true")
    );
    assert_eq!(
        json.key("decimal.format").unwrap().default_value.as_deref(),
        Some("BASE64")
    );
    let mut settings = BTreeMap::from([("converter.type".to_string(), "value".to_string())]);
    assert!(json.validate(&settings).iter().all(|v| v.errors.is_empty()));
    settings.insert("decimal.format".to_string(), "numeric".to_string());
    assert!(json.validate(&settings).iter().all(|v| v.errors.is_empty()));
    settings.insert("schemas.cache.size".to_string(), "lots".to_string());
    assert!(json
        .validate(&settings)
        .iter()
        .any(|v| !v.errors.is_empty()));
    let string = config_def("StringConverter").unwrap();
    assert_eq!(
        string
            .key("converter.encoding")
            .unwrap()
            .default_value
            .as_deref(),
        Some("UTF-8")
    );
    assert!(config_def("SimpleHeaderConverter").unwrap().keys.is_empty());
    assert_eq!(config_def("IntegerConverter").unwrap().keys.len(), 1);
    assert!(config_def("Nope").is_none());
}
