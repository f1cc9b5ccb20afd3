//! The chain built from a connector's `transforms` / `predicates` settings, and config/validate.

mod common;

use common::*;
use kconnect_plugin_api::{ConnectRecord, PluginKind, SchemaType, Value};
use kconnect_transforms::{
    builtin_classes, validate_transform_config, BuiltinsOnly, ExternalResolver, Predicate,
    TransformChain, TransformError, TransformResult, Transformation, Verdict,
};
use std::collections::BTreeMap;

fn chain(pairs: &[(&str, &str)]) -> TransformChain {
    TransformChain::from_connector_config(&config(pairs), &BuiltinsOnly)
        .unwrap_or_else(|e| panic!("chain failed: {e}"))
}

fn chain_error(pairs: &[(&str, &str)]) -> TransformError {
    match TransformChain::from_connector_config(&config(pairs), &BuiltinsOnly) {
        Err(e) => e,
        Ok(c) => panic!("expected an error, built {c:?}"),
    }
}

fn on_topic(topic: &str) -> ConnectRecord {
    let mut r = value_record(None, map(vec![("id", Value::Int32(1))]));
    r.topic = topic.into();
    r
}

#[test]
fn aliases_run_in_order_with_their_own_settings() {
    let mut c = chain(&[
        ("transforms", "insert, route"),
        (
            "transforms.insert.type",
            "org.apache.kafka.connect.transforms.InsertField$Value",
        ),
        ("transforms.insert.topic.field", "source_topic"),
        ("transforms.route.type", "RegexRouter"),
        ("transforms.route.regex", "(.*)"),
        ("transforms.route.replacement", "copy-of-$1"),
    ]);
    assert_eq!(c.aliases(), vec!["insert", "route"]);
    assert!(!c.is_empty());
    let out = outcome(on_topic("orders"), |r| c.apply(r))
        .unwrap()
        .unwrap();
    assert_eq!(out.topic.as_str(), "copy-of-orders");
    // InsertField ran before the topic changed; the fields in the order of Java's HashMap copy.
    assert_eq!(
        out.value,
        map(vec![("source_topic", s("orders")), ("id", Value::Int32(1))])
    );
}

#[test]
fn no_transforms_is_an_empty_chain_that_keeps_records() {
    let mut c = chain(&[("name", "connector"), ("transforms", "")]);
    assert!(c.is_empty());
    let record = on_topic("t");
    assert_eq!(
        outcome(record.clone(), |r| c.apply(r)).unwrap(),
        Some(record)
    );
}

#[test]
fn predicates_and_negate_select_the_records_a_transform_sees() {
    let base = [
        ("transforms", "dropFoo"),
        (
            "transforms.dropFoo.type",
            "org.apache.kafka.connect.transforms.Filter",
        ),
        ("transforms.dropFoo.predicate", "isFoo"),
        ("predicates", "isFoo"),
        (
            "predicates.isFoo.type",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        ),
        ("predicates.isFoo.pattern", "foo.*"),
    ];
    let cases: [(Option<&str>, &str, bool); 4] = [
        (None, "foo-1", false),
        (None, "bar", true),
        (Some("true"), "foo-1", true),
        (Some("true"), "bar", false),
    ];
    for (negate, topic, kept) in cases {
        let mut pairs = base.to_vec();
        if let Some(n) = negate {
            pairs.push(("transforms.dropFoo.negate", n));
        }
        let mut c = chain(&pairs);
        assert_eq!(
            outcome(on_topic(topic), |r| c.apply(r)).unwrap().is_some(),
            kept,
            "negate={negate:?} topic={topic}"
        );
    }
}

#[test]
fn a_dropped_record_stops_the_chain() {
    let mut c = chain(&[
        ("transforms", "drop,route"),
        ("transforms.drop.type", "Filter"),
        ("transforms.route.type", "TimestampRouter"),
    ]);
    assert_eq!(outcome(on_topic("t"), |r| c.apply(r)).unwrap(), None);
}

#[test]
fn sink_offsets_reach_insert_field() {
    let mut c = chain(&[
        ("transforms", "offset"),
        ("transforms.offset.type", "InsertField$Value"),
        ("transforms.offset.offset.field", "kafka_offset"),
    ]);
    let out = outcome(on_topic("t"), |r| c.apply_sink(r, 99))
        .unwrap()
        .unwrap();
    assert_eq!(
        out.value,
        // In the order of Java's HashMap copy.
        map(vec![
            ("kafka_offset", Value::Int64(99)),
            ("id", Value::Int32(1))
        ])
    );
    let error = outcome(on_topic("t"), |r| c.apply(r)).unwrap_err();
    assert_eq!(error.alias(), Some("offset"));
}

#[test]
fn configuration_errors_name_the_key_and_alias() {
    let cases: Vec<(Pairs, &str, Option<&str>, &str)> = vec![
        (
            vec![("transforms", "x"), ("transforms.x.type", "com.example.Nope")],
            "transforms.x.type",
            Some("x"),
            "Invalid value com.example.Nope for configuration transforms.x.type: Class com.example.Nope could not be found.",
        ),
        (
            vec![("transforms", "x")],
            "transforms.x.type",
            Some("x"),
            "Missing required configuration \"transforms.x.type\" which has no default value.",
        ),
        (
            vec![("transforms", "x"), ("transforms.x.type", "ExtractField$Value")],
            "transforms.x.field",
            Some("x"),
            "Missing required configuration \"transforms.x.field\" which has no default value.",
        ),
        (
            vec![("transforms", "c"), ("transforms.c.type", "Cast$Value"), ("transforms.c.spec", "a:bogus")],
            "transforms.c.spec",
            Some("c"),
            "Invalid type found in casting spec: bogus",
        ),
        (
            vec![("transforms", "t"), ("transforms.t.type", "TimestampConverter$Value"), ("transforms.t.target.type", "Week")],
            "transforms.t.target.type",
            Some("t"),
            "Invalid value Week for configuration transforms.t.target.type: String must be one of: string, unix, Date, Time, Timestamp",
        ),
        (
            vec![("transforms", "a,a"), ("transforms.a.type", "Filter")],
            "transforms",
            None,
            "Invalid value [a, a] for configuration transforms: Duplicate alias provided.",
        ),
        (
            vec![("transforms", "f"), ("transforms.f.type", "Filter"), ("transforms.f.negate", "true")],
            "transforms.f.type",
            Some("f"),
            "Config 'transforms.f.negate' was provided but there is no config 'transforms.f.predicate' defining a predicate to be negated.",
        ),
        (
            vec![("transforms", "f"), ("transforms.f.type", "Filter"), ("transforms.f.predicate", "p")],
            "transforms.f.predicate",
            Some("f"),
            "Invalid value p for configuration transforms.f.predicate: there is no predicate with alias 'p' in 'predicates'",
        ),
        (
            vec![("transforms", "f"), ("transforms.f.type", "Filter"), ("transforms.f.predicate", "p"), ("predicates", "p")],
            "predicates.p.type",
            None,
            "Missing required configuration \"predicates.p.type\" which has no default value.",
        ),
        (
            vec![("predicates", "p"), ("predicates.p.type", "TopicNameMatches")],
            "predicates.p.pattern",
            None,
            "Missing required configuration \"predicates.p.pattern\" which has no default value.",
        ),
        (
            // A predicate class is not a transformation.
            vec![("transforms", "x"), ("transforms.x.type", "RecordIsTombstone")],
            "transforms.x.type",
            Some("x"),
            "Class RecordIsTombstone could not be found.",
        ),
    ];
    for (pairs, key, alias, message) in cases {
        let e = chain_error(&pairs);
        assert!(e.is_config(), "{pairs:?}");
        assert_eq!(e.key(), Some(key), "{pairs:?}");
        assert_eq!(e.alias(), alias, "{pairs:?}");
        assert!(e.message().ends_with(message), "{pairs:?}: {}", e.message());
    }
}

#[test]
fn record_errors_name_the_alias() {
    let mut c = chain(&[
        ("transforms", "toInt"),
        ("transforms.toInt.type", "Cast$Value"),
        ("transforms.toInt.spec", "int32"),
    ]);
    let error = outcome(value_record(None, s("abc")), |r| c.apply(r)).unwrap_err();
    assert_eq!(error.alias(), Some("toInt"));
    assert!(!error.is_config());
    assert_eq!(
        error.to_string(),
        "transformation 'toInt': Value (abc) was out of range for requested data type"
    );
}

/// A plugin-provided transformation that upper-cases the topic, and one whose configure fails.
struct Plugins;

struct UpperTopic;

impl Transformation for UpperTopic {
    fn apply(&mut self, record: &mut ConnectRecord) -> TransformResult {
        record.topic = record.topic.to_uppercase().into();
        Ok(Verdict::Keep)
    }
}

struct Never;

impl Predicate for Never {
    fn test(&mut self, _record: &ConnectRecord) -> Result<bool, TransformError> {
        Ok(false)
    }
}

impl ExternalResolver for Plugins {
    fn transformation(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Option<Result<Box<dyn Transformation>, TransformError>> {
        match class {
            "com.example.UpperTopic" => Some(match config.get("mode").map(String::as_str) {
                Some("bad") => Err(TransformError::config("mode", "mode must be 'ok'")),
                _ => Ok(Box::new(UpperTopic)),
            }),
            _ => None,
        }
    }

    fn predicate(
        &self,
        class: &str,
        _config: &BTreeMap<String, String>,
    ) -> Option<Result<Box<dyn Predicate>, TransformError>> {
        (class == "com.example.Never").then(|| Ok(Box::new(Never) as Box<dyn Predicate>))
    }
}

#[test]
fn the_resolver_supplies_plugin_classes() {
    let pairs = [
        ("transforms", "upper,drop"),
        ("transforms.upper.type", "com.example.UpperTopic"),
        ("transforms.drop.type", "Filter"),
        ("transforms.drop.predicate", "never"),
        ("predicates", "never"),
        ("predicates.never.type", "com.example.Never"),
    ];
    let mut c = TransformChain::from_connector_config(&config(&pairs), &Plugins).unwrap();
    assert_eq!(
        outcome(on_topic("orders"), |r| c.apply(r))
            .unwrap()
            .unwrap()
            .topic
            .as_str(),
        "ORDERS"
    );

    let mut bad = pairs.to_vec();
    bad.push(("transforms.upper.mode", "bad"));
    let e = TransformChain::from_connector_config(&config(&bad), &Plugins).unwrap_err();
    assert_eq!(e.key(), Some("transforms.upper.mode"));
    assert_eq!(e.alias(), Some("upper"));
    assert_eq!(
        validate_transform_config(&config(&bad), &Plugins),
        vec![(
            "transforms.upper.mode".to_string(),
            "mode must be 'ok'".to_string()
        )]
    );
}

#[test]
fn validate_reports_one_error_per_bad_key() {
    let pairs = [
        ("transforms", "a,b,c,d,e,ok"),
        ("transforms.b.type", "Nope"),
        ("transforms.c.type", "ExtractField$Value"),
        ("transforms.d.type", "Cast$Value"),
        ("transforms.d.spec", "x:bogus"),
        ("transforms.e.type", "HeaderFrom$Value"),
        ("transforms.e.operation", "steal"),
        ("transforms.ok.type", "InsertField$Value"),
        ("transforms.ok.topic.field", "t"),
        ("predicates", "p"),
        ("predicates.p.type", "TopicNameMatches"),
    ];
    let expected: Vec<(&str, &str)> = vec![
        ("transforms.a.type", "Missing required configuration \"transforms.a.type\" which has no default value."),
        ("transforms.b.type", "Invalid value Nope for configuration transforms.b.type: Class Nope could not be found."),
        ("transforms.c.field", "Missing required configuration \"transforms.c.field\" which has no default value."),
        ("transforms.d.spec", "Invalid type found in casting spec: bogus"),
        ("transforms.e.fields", "Missing required configuration \"transforms.e.fields\" which has no default value."),
        ("transforms.e.headers", "Missing required configuration \"transforms.e.headers\" which has no default value."),
        ("transforms.e.operation", "Invalid value steal for configuration transforms.e.operation: String must be one of: move, copy"),
        ("predicates.p.pattern", "Missing required configuration \"predicates.p.pattern\" which has no default value."),
    ];
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(k, m)| (k.to_string(), m.to_string()))
        .collect();
    assert_eq!(
        validate_transform_config(&config(&pairs), &BuiltinsOnly),
        expected
    );

    let valid = [
        ("transforms", "ok"),
        ("transforms.ok.type", "InsertField$Value"),
        ("transforms.ok.topic.field", "t"),
    ];
    assert!(validate_transform_config(&config(&valid), &BuiltinsOnly).is_empty());
    assert_eq!(
        validate_transform_config(&config(&[("transforms", "a, a")]), &BuiltinsOnly)[0].0,
        "transforms"
    );
}

#[test]
fn builtin_classes_list_every_transform_and_predicate_with_its_settings() {
    let classes = builtin_classes();
    let transformations = classes
        .iter()
        .filter(|c| c.kind == PluginKind::Transformation)
        .count();
    let predicates = classes
        .iter()
        .filter(|c| c.kind == PluginKind::Predicate)
        .count();
    assert_eq!((transformations, predicates), (26, 3));
    let insert = classes
        .iter()
        .find(|c| c.class == "org.apache.kafka.connect.transforms.InsertField$Value")
        .unwrap();
    assert_eq!(insert.aliases, vec!["InsertField$Value"]);
    let keys: Vec<&str> = insert
        .config_def
        .keys
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    assert_eq!(
        keys,
        vec![
            "offset.field",
            "partition.field",
            "replace.null.with.default",
            "static.field",
            "static.value",
            "timestamp.field",
            "topic.field"
        ]
    );
    let router = classes
        .iter()
        .find(|c| c.aliases == vec!["TimestampRouter"])
        .unwrap();
    let defaults: Vec<(&str, Option<&str>)> = router
        .config_def
        .keys
        .iter()
        .map(|k| (k.name.as_str(), k.default_value.as_deref()))
        .collect();
    assert_eq!(
        defaults,
        vec![
            ("timestamp.format", Some("yyyyMMdd")),
            ("topic.format", Some("${topic}-${timestamp}"))
        ]
    );
    let topic_matches = classes
        .iter()
        .find(|c| c.class == "org.apache.kafka.connect.transforms.predicates.TopicNameMatches")
        .unwrap();
    assert_eq!(topic_matches.kind, PluginKind::Predicate);
    assert!(topic_matches
        .config_def
        .key("pattern")
        .unwrap()
        .is_required());
}

#[test]
fn a_full_connector_chain_on_schema_d_records() {
    // Route, then key the record by its id, then mask the name: the way a JDBC sink would use it.
    let schema = struct_schema(&[
        ("id", prim(SchemaType::Int64)),
        ("name", prim(SchemaType::String)),
    ]);
    let mut c = chain(&[
        ("transforms", "key,mask,route"),
        ("transforms.key.type", "ValueToKey"),
        ("transforms.key.fields", "id"),
        ("transforms.mask.type", "MaskField$Value"),
        ("transforms.mask.fields", "name"),
        ("transforms.route.type", "TimestampRouter"),
        ("transforms.route.topic.format", "${topic}_${timestamp}"),
        ("transforms.route.timestamp.format", "yyyy_MM"),
    ]);
    let input = value_record(
        Some(schema.clone()),
        strukt(&schema, vec![Value::Int64(5), s("Ann")]),
    );
    let out = outcome(input, |r| c.apply(r)).unwrap().unwrap();
    let key_schema = struct_schema(&[("id", prim(SchemaType::Int64))]);
    assert_eq!(out.topic.as_str(), "test_2017_07");
    assert_eq!(out.key, strukt(&key_schema, vec![Value::Int64(5)]));
    assert_eq!(out.value, strukt(&schema, vec![Value::Int64(5), s("")]));
}
