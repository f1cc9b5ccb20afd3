//! Every built-in transformation on schema'd and schemaless records, with outputs written the way
//! Kafka's transforms produce them. Each table row: config, input record, expected record.
//! Schemaless maps a transformation builds are expected in the order Java's `HashMap` iterates
//! them (each order printed by the same operations in jshell).

mod common;

use common::*;
use kconnect_plugin_api::abi_stable::std_types::ROption;
use kconnect_plugin_api::{ConnectRecord, Header, SchemaBuilder, SchemaRef, SchemaType::*, Value};

struct Case {
    name: &'static str,
    class: &'static str,
    config: Vec<(&'static str, &'static str)>,
    input: ConnectRecord,
    expected: ConnectRecord,
}

fn run(cases: Vec<Case>) {
    for case in cases {
        let mut t = transform(case.class, &case.config);
        match outcome(case.input, |r| t.apply(r)) {
            Ok(Some(actual)) => assert_eq!(actual, case.expected, "case '{}'", case.name),
            Ok(None) => panic!("case '{}': record dropped", case.name),
            Err(e) => panic!("case '{}': {e}", case.name),
        }
    }
}

struct ErrorCase {
    name: &'static str,
    class: &'static str,
    config: Vec<(&'static str, &'static str)>,
    input: ConnectRecord,
    message: &'static str,
}

fn run_errors(cases: Vec<ErrorCase>) {
    for case in cases {
        let mut t = transform(case.class, &case.config);
        let message = apply_error(&mut t, case.input);
        assert!(
            message.contains(case.message),
            "case '{}': '{message}' does not contain '{}'",
            case.name,
            case.message
        );
    }
}

#[test]
fn insert_field() {
    let input_schema = struct_schema(&[("magic", prim(Int64))]);
    let inserted_schema = struct_schema(&[
        ("magic", prim(Int64)),
        ("topic_field", prim(String)),
        ("partition_field", opt(Int32)),
        ("timestamp_field", optional_timestamp_schema()),
        ("instance_id", opt(String)),
    ]);
    let all_fields = vec![
        ("topic.field", "topic_field!"),
        ("partition.field", "partition_field"),
        ("timestamp.field", "timestamp_field?"),
        ("static.field", "instance_id"),
        ("static.value", "my-instance-id"),
    ];
    let defaulted_schema = struct_schema(&[("n", with_default(Int32, Value::Int32(5)))]);
    run(vec![
        Case {
            name: "schema'd value gets typed fields, ! makes them required",
            class: "org.apache.kafka.connect.transforms.InsertField$Value",
            config: all_fields.clone(),
            input: value_record(
                Some(input_schema.clone()),
                strukt(&input_schema, vec![Value::Int64(42)]),
            ),
            expected: value_record(
                Some(inserted_schema.clone()),
                strukt(
                    &inserted_schema,
                    vec![
                        Value::Int64(42),
                        s("test"),
                        Value::Int32(3),
                        Value::Int64(TS),
                        s("my-instance-id"),
                    ],
                ),
            ),
        },
        Case {
            name: "schemaless value gets the timestamp as a long",
            class: "InsertField$Value",
            config: all_fields.clone(),
            input: value_record(None, map(vec![("magic", Value::Int64(42))])),
            expected: value_record(
                None,
                map(vec![
                    ("magic", Value::Int64(42)),
                    ("topic_field", s("test")),
                    ("timestamp_field", Value::Int64(TS)),
                    ("instance_id", s("my-instance-id")),
                    ("partition_field", Value::Int32(3)),
                ]),
            ),
        },
        Case {
            name: "tombstones pass unchanged",
            class: "InsertField$Value",
            config: all_fields.clone(),
            input: value_record(Some(input_schema.clone()), Value::Null),
            expected: value_record(Some(input_schema.clone()), Value::Null),
        },
        Case {
            name: "key variant works on the key",
            class: "InsertField$Key",
            config: vec![("topic.field", "t")],
            input: key_record(None, map(vec![("id", Value::Int32(1))])),
            expected: key_record(None, map(vec![("t", s("test")), ("id", Value::Int32(1))])),
        },
        Case {
            name: "null fields take their default (replace.null.with.default=true)",
            class: "InsertField$Value",
            config: vec![("topic.field", "t")],
            input: value_record(
                Some(defaulted_schema.clone()),
                strukt(&defaulted_schema, vec![Value::Null]),
            ),
            expected: {
                let out = struct_schema(&[
                    ("n", with_default(Int32, Value::Int32(5))),
                    ("t", opt(String)),
                ]);
                value_record(
                    Some(out.clone()),
                    strukt(&out, vec![Value::Int32(5), s("test")]),
                )
            },
        },
        Case {
            name: "null fields stay null with replace.null.with.default=false",
            class: "InsertField$Value",
            config: vec![("topic.field", "t"), ("replace.null.with.default", "false")],
            input: value_record(
                Some(defaulted_schema.clone()),
                strukt(&defaulted_schema, vec![Value::Null]),
            ),
            expected: {
                let out = struct_schema(&[
                    ("n", with_default(Int32, Value::Int32(5))),
                    ("t", opt(String)),
                ]);
                value_record(
                    Some(out.clone()),
                    strukt(&out, vec![Value::Null, s("test")]),
                )
            },
        },
    ]);
    run_errors(vec![
        ErrorCase {
            name: "offsets exist only on sink records",
            class: "InsertField$Value",
            config: vec![("offset.field", "offset")],
            input: value_record(None, map(vec![])),
            message: "Only SinkRecord supported for [field insertion]",
        },
        ErrorCase {
            name: "a schemaless string is not a map",
            class: "InsertField$Value",
            config: vec![("topic.field", "t")],
            input: value_record(None, s("text")),
            message: "Only Map objects supported in absence of schema for [field insertion], found: java.lang.String",
        },
        ErrorCase {
            name: "a schema'd string is not a struct",
            class: "InsertField$Value",
            config: vec![("topic.field", "t")],
            input: value_record(Some(prim(String)), s("text")),
            message: "Only Struct objects supported for [field insertion], found: java.lang.String",
        },
    ]);
}

/// A struct built with `Struct::values_for` has room for the fields InsertField adds: they are
/// appended to its own vector, with the same result as when the values must move to a new one.
#[test]
fn insert_field_appends_in_place_when_the_struct_has_room() {
    let schema = struct_schema(&[
        ("n", with_default(Int32, Value::Int32(5))),
        ("m", prim(String)),
    ]);
    let with_room = |values: Vec<Value>| {
        let mut room = kconnect_plugin_api::Struct::values_for(values.len());
        room.extend(values);
        Value::Struct(kconnect_plugin_api::Struct {
            schema: schema.clone(),
            values: room,
        })
    };
    for (config, spare_needed) in [
        (vec![("topic.field", "t")], 1),
        (vec![("topic.field", "t"), ("partition.field", "p")], 2),
        (
            vec![
                ("topic.field", "t"),
                ("partition.field", "p"),
                ("replace.null.with.default", "false"),
            ],
            2,
        ),
        (
            vec![
                ("topic.field", "t"),
                ("partition.field", "p"),
                ("timestamp.field", "ts"),
            ],
            3,
        ),
    ] {
        let input = vec![Value::Null, s("x")];
        let mut tight = value_record(Some(schema.clone()), strukt(&schema, input.clone()));
        let mut roomy = value_record(Some(schema.clone()), with_room(input));
        let buffer = |record: &ConnectRecord| match &record.value {
            Value::Struct(value) => value.values.as_ptr(),
            other => panic!("not a struct: {other:?}"),
        };
        let before = buffer(&roomy);
        let mut t = transform("InsertField$Value", &config);
        assert_eq!(
            t.apply(&mut tight).expect("tight"),
            kconnect_transforms::Verdict::Keep
        );
        let mut t = transform("InsertField$Value", &config);
        assert_eq!(
            t.apply(&mut roomy).expect("roomy"),
            kconnect_transforms::Verdict::Keep
        );
        assert_eq!(roomy, tight, "{config:?}");
        assert_eq!(
            buffer(&roomy) == before,
            spare_needed <= kconnect_plugin_api::Struct::SPARE_FIELDS,
            "{config:?}: appended in place only when the struct has room"
        );
    }
}

#[test]
fn insert_field_offset_on_sink_records_and_config_errors() {
    let schema = struct_schema(&[("a", prim(Int32))]);
    let mut t = transform("InsertField$Value", &[("offset.field", "offset!")]);
    let record = value_record(Some(schema.clone()), strukt(&schema, vec![Value::Int32(1)]));
    let out = outcome(record, |r| t.apply_sink(r, 77)).unwrap().unwrap();
    let expected_schema = struct_schema(&[("a", prim(Int32)), ("offset", prim(Int64))]);
    assert_eq!(out.value_schema, ROption::RSome(expected_schema.clone()));
    assert_eq!(
        out.value,
        strukt(&expected_schema, vec![Value::Int32(1), Value::Int64(77)])
    );

    let none = configure_error("InsertField$Value", &[]);
    assert_eq!(none.message(), "No field insertion configured");
    let no_value = configure_error("InsertField$Value", &[("static.field", "s")]);
    assert_eq!(no_value.key(), Some("static.value"));
    assert!(no_value
        .message()
        .contains("No value specified for static field: s"));
}

#[test]
fn derived_schemas_are_built_once_per_input_schema() {
    let schema = struct_schema(&[("a", prim(Int32)), ("b", prim(String))]);
    let classes: [(&str, Vec<(&str, &str)>); 5] = [
        ("InsertField$Value", vec![("topic.field", "t")]),
        ("ReplaceField$Value", vec![("exclude", "b")]),
        ("Cast$Value", vec![("spec", "a:int64")]),
        ("Flatten$Value", vec![]),
        ("SetSchemaMetadata$Value", vec![("schema.name", "n")]),
    ];
    for (class, config) in classes {
        let mut t = transform(class, &config);
        let first = apply(
            &mut t,
            value_record(
                Some(schema.clone()),
                strukt(&schema, vec![Value::Int32(1), s("x")]),
            ),
        );
        // A structurally equal schema behind another pointer hits the cache too.
        let copy = SchemaRef::new((*schema).clone());
        let second = apply(
            &mut t,
            value_record(
                Some(copy.clone()),
                strukt(&copy, vec![Value::Int32(2), s("y")]),
            ),
        );
        let (a, b) = (
            first.value_schema().unwrap(),
            second.value_schema().unwrap(),
        );
        assert!(std::ptr::eq(&**a, &**b), "{class} rebuilt its schema");
    }
}

#[test]
fn replace_field() {
    let defaulted = struct_schema(&[
        ("n", with_default(Int32, Value::Int32(5))),
        ("m", prim(String)),
    ]);
    let defaulted_input = || {
        value_record(
            Some(defaulted.clone()),
            strukt(&defaulted, vec![Value::Null, s("x")]),
        )
    };
    let renamed_defaulted = |n: Value| {
        let out = struct_schema(&[
            ("number", with_default(Int32, Value::Int32(5))),
            ("m", prim(String)),
        ]);
        value_record(Some(out.clone()), strukt(&out, vec![n, s("x")]))
    };
    let schema = struct_schema(&[
        ("dont", prim(String)),
        ("abc", prim(Int32)),
        ("foo", prim(Boolean)),
        ("etc", prim(String)),
    ]);
    let input = || {
        value_record(
            Some(schema.clone()),
            strukt(
                &schema,
                vec![
                    s("whatever"),
                    Value::Int32(42),
                    Value::Boolean(true),
                    s("etc"),
                ],
            ),
        )
    };
    let renamed = struct_schema(&[
        ("xyz", prim(Int32)),
        ("bar", prim(Boolean)),
        ("etc", prim(String)),
    ]);
    let included = struct_schema(&[("abc", prim(Int32)), ("foo", prim(Boolean))]);
    let schemaless = || {
        value_record(
            None,
            map(vec![
                ("dont", s("whatever")),
                ("abc", Value::Int32(42)),
                ("foo", Value::Boolean(true)),
                ("etc", s("etc")),
            ]),
        )
    };
    run(vec![
        Case {
            name: "exclude and rename with a schema",
            class: "org.apache.kafka.connect.transforms.ReplaceField$Value",
            config: vec![("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
            input: input(),
            expected: value_record(
                Some(renamed.clone()),
                strukt(
                    &renamed,
                    vec![Value::Int32(42), Value::Boolean(true), s("etc")],
                ),
            ),
        },
        Case {
            name: "include with a schema",
            class: "ReplaceField$Value",
            config: vec![("include", "abc,foo")],
            input: input(),
            expected: value_record(
                Some(included.clone()),
                strukt(&included, vec![Value::Int32(42), Value::Boolean(true)]),
            ),
        },
        Case {
            name: "the deprecated whitelist acts as include",
            class: "ReplaceField$Value",
            config: vec![("whitelist", "abc,foo")],
            input: input(),
            expected: value_record(
                Some(included.clone()),
                strukt(&included, vec![Value::Int32(42), Value::Boolean(true)]),
            ),
        },
        Case {
            name: "exclude wins over include; blacklist acts as exclude",
            class: "ReplaceField$Value",
            config: vec![("include", "abc,foo"), ("blacklist", "foo")],
            input: input(),
            expected: {
                let only = struct_schema(&[("abc", prim(Int32))]);
                value_record(Some(only.clone()), strukt(&only, vec![Value::Int32(42)]))
            },
        },
        Case {
            name: "exclude and rename without a schema",
            class: "ReplaceField$Value",
            config: vec![("exclude", "dont"), ("renames", "abc:xyz,foo:bar")],
            input: schemaless(),
            expected: value_record(
                None,
                map(vec![
                    ("xyz", Value::Int32(42)),
                    ("etc", s("etc")),
                    ("bar", Value::Boolean(true)),
                ]),
            ),
        },
        Case {
            name: "include on the key without a schema",
            class: "ReplaceField$Key",
            config: vec![("include", "id")],
            input: key_record(
                None,
                map(vec![("id", Value::Int32(1)), ("other", Value::Int32(2))]),
            ),
            expected: key_record(None, map(vec![("id", Value::Int32(1))])),
        },
        Case {
            name: "tombstones pass unchanged",
            class: "ReplaceField$Value",
            config: vec![("exclude", "dont")],
            input: value_record(Some(schema.clone()), Value::Null),
            expected: value_record(Some(schema.clone()), Value::Null),
        },
        Case {
            name: "a rename alone: a null field takes its default",
            class: "ReplaceField$Value",
            config: vec![("renames", "n:number")],
            input: defaulted_input(),
            expected: renamed_defaulted(Value::Int32(5)),
        },
        Case {
            name: "…or stays null with replace.null.with.default=false",
            class: "ReplaceField$Value",
            config: vec![
                ("renames", "n:number"),
                ("replace.null.with.default", "false"),
            ],
            input: defaulted_input(),
            expected: renamed_defaulted(Value::Null),
        },
    ]);
    let bad = configure_error("ReplaceField$Value", &[("renames", "a:b:c")]);
    assert_eq!(bad.key(), Some("renames"));
    assert_eq!(
        bad.message(),
        "Invalid value [a:b:c] for configuration renames: Invalid rename mapping: a:b:c"
    );
}

#[test]
fn regex_router() {
    let routed = |topic: &str| {
        let mut r = value_record(None, Value::Null);
        r.topic = topic.into();
        r
    };
    let cases: [(&str, &str, &str, &str); 6] = [
        ("(.*)", "prefix-$1", "orig", "prefix-orig"),
        ("(.*)-(\\d+)", "$2.$1", "events-7", "7.events"),
        (
            "(?<db>[a-z]+)\\.(?<table>[a-z]+)",
            "${table}_${db}",
            "app.users",
            "users_app",
        ),
        ("nomatch", "x", "orig", "orig"),
        // Matcher.matches() needs the whole topic; a partial match leaves it unchanged.
        ("orig", "x", "original", "original"),
        ("a|ab", "X", "ab", "Xb"), // replaceFirst replaces the first match, as Java does
    ];
    for (regex, replacement, topic, expected) in cases {
        let mut t = transform(
            "org.apache.kafka.connect.transforms.RegexRouter",
            &[("regex", regex), ("replacement", replacement)],
        );
        assert_eq!(
            apply(&mut t, routed(topic)).topic.as_str(),
            expected,
            "{regex}"
        );
    }
    let bad_regex = configure_error("RegexRouter", &[("regex", "("), ("replacement", "x")]);
    assert_eq!(bad_regex.key(), Some("regex"));
    assert!(bad_regex
        .message()
        .starts_with("Invalid value ( for configuration regex: Invalid regex:"));
    let bad_group = configure_error("RegexRouter", &[("regex", "(.*)"), ("replacement", "$2")]);
    assert_eq!(bad_group.key(), Some("replacement"));
    assert!(bad_group.message().ends_with("No group 2"));
}

#[test]
fn cast() {
    let decimal = SchemaBuilder::decimal(2).build_ref();
    let input_schema = struct_schema(&[
        ("int8", prim(Int8)),
        ("int16", prim(Int16)),
        ("int32", prim(Int32)),
        ("int64", prim(Int64)),
        ("float32", prim(Float32)),
        ("float64", prim(Float64)),
        ("boolean", prim(Boolean)),
        ("string", prim(String)),
        ("bigint", prim(Int64)),
        ("bytes", prim(Bytes)),
        ("optional", opt(Int32)),
        ("timestamp", timestamp_schema()),
        ("decimal", decimal.clone()),
        ("untouched", prim(String)),
    ]);
    let spec = "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,string:int32,bigint:int16,bytes:string,optional:int32,timestamp:string,decimal:string";
    let output_schema = struct_schema(&[
        ("int8", prim(Int16)),
        ("int16", prim(Int32)),
        ("int32", prim(Int64)),
        ("int64", prim(Boolean)),
        ("float32", prim(Float64)),
        ("float64", prim(Boolean)),
        ("boolean", prim(Int8)),
        ("string", prim(Int32)),
        ("bigint", prim(Int16)),
        ("bytes", prim(String)),
        ("optional", opt(Int32)),
        ("timestamp", prim(String)),
        ("decimal", prim(String)),
        ("untouched", prim(String)),
    ]);
    let whole_in = SchemaBuilder::new(Int64).optional().build_ref();
    let whole_out = SchemaBuilder::new(Int32).optional().build_ref();
    run(vec![
        Case {
            name: "every field type with a schema",
            class: "org.apache.kafka.connect.transforms.Cast$Value",
            config: vec![("spec", spec)],
            input: value_record(
                Some(input_schema.clone()),
                strukt(
                    &input_schema,
                    vec![
                        Value::Int8(8),
                        Value::Int16(16),
                        Value::Int32(32),
                        Value::Int64(42),
                        Value::Float32(32.5),
                        Value::Float64(-1.5),
                        Value::Boolean(true),
                        s("42"),
                        Value::Int64(70000),
                        Value::Bytes(vec![1, 2, 3].into()),
                        Value::Null,
                        Value::Int64(TS),
                        Value::Bytes(vec![0x30, 0x39].into()), // 12345 at scale 2
                        s("same"),
                    ],
                ),
            ),
            expected: value_record(
                Some(output_schema.clone()),
                strukt(
                    &output_schema,
                    vec![
                        Value::Int16(8),
                        Value::Int32(16),
                        Value::Int64(32),
                        Value::Boolean(true),
                        Value::Float64(32.5),
                        Value::Boolean(true), // (long) -1.5 is -1, not 0
                        Value::Int8(1),
                        Value::Int32(42),
                        Value::Int16(4464), // 70000 narrowed as Java's shortValue()
                        s("AQID"),
                        Value::Null,
                        s("2017-07-14T02:40:00.000Z"),
                        s("123.45"),
                        s("same"),
                    ],
                ),
            ),
        },
        Case {
            name: "the whole schema'd value, keeping optionality",
            class: "Cast$Value",
            config: vec![("spec", "int32")],
            input: value_record(Some(whole_in.clone()), Value::Int64(42)),
            expected: value_record(Some(whole_out.clone()), Value::Int32(42)),
        },
        Case {
            name: "the whole schemaless value to string, printed as Java prints doubles",
            class: "Cast$Value",
            config: vec![("spec", "string")],
            input: value_record(None, Value::Float64(63521704.02)),
            expected: value_record(None, s("6.352170402E7")),
        },
        Case {
            name: "schemaless map fields; a missing field becomes null",
            class: "Cast$Value",
            config: vec![("spec", "a:float32,b:int8,c:boolean,d:string")],
            input: value_record(
                None,
                map(vec![
                    ("a", s("1.5")),
                    ("c", s("TRUE")),
                    ("d", Value::Float32(3.0)),
                ]),
            ),
            expected: value_record(
                None,
                map(vec![
                    ("a", Value::Float32(1.5)),
                    ("b", Value::Null),
                    ("c", Value::Boolean(true)),
                    ("d", s("3.0")),
                ]),
            ),
        },
        Case {
            name: "the key",
            class: "Cast$Key",
            config: vec![("spec", "int64")],
            input: key_record(Some(prim(String)), s("-7")),
            expected: key_record(Some(prim(Int64)), Value::Int64(-7)),
        },
        Case {
            name: "null values pass",
            class: "Cast$Value",
            config: vec![("spec", "int64")],
            input: value_record(Some(whole_in.clone()), Value::Null),
            expected: value_record(Some(whole_in.clone()), Value::Null),
        },
    ]);
    run_errors(vec![
        ErrorCase {
            name: "unparseable number",
            class: "Cast$Value",
            config: vec![("spec", "int32")],
            input: value_record(None, s("abc")),
            message: "Value (abc) was out of range for requested data type",
        },
        ErrorCase {
            name: "bytes only cast to string",
            class: "Cast$Value",
            config: vec![("spec", "int32")],
            input: value_record(Some(prim(Bytes)), Value::Bytes(vec![1].into())),
            message: "Unexpected type in Cast transformation: class [B",
        },
        ErrorCase {
            name: "maps are not castable",
            class: "Cast$Value",
            config: vec![("spec", "m:int32")],
            input: value_record(None, map(vec![("m", map(vec![]))])),
            message: "Cast transformation does not support casting from MAP",
        },
    ]);
    let cases = [
        ("", "Must specify at least one field to cast."),
        ("a:array", "Cast transformation does not support casting to ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"),
        ("foo:bar", "Invalid type found in casting spec: bar"),
        ("int8,a:int16", "may ony specify a single cast in their spec"),
    ];
    for (spec, message) in cases {
        let e = configure_error("Cast$Value", &[("spec", spec)]);
        assert_eq!(e.key(), Some("spec"), "{spec}");
        assert!(e.message().contains(message), "{spec}: {}", e.message());
    }
}

#[test]
fn extract_field() {
    let schema = struct_schema(&[("magic", prim(Int32)), ("other", prim(String))]);
    let inner = optional_struct_schema(&[("b", prim(String))]);
    let nested = struct_schema(&[("a", inner.clone()), ("a.b", prim(String))]);
    let defaulted_schema = struct_schema(&[("d", with_default(Int32, Value::Int32(9)))]);
    run(vec![
        Case {
            name: "a struct field becomes the value, with its schema",
            class: "org.apache.kafka.connect.transforms.ExtractField$Value",
            config: vec![("field", "magic")],
            input: value_record(
                Some(schema.clone()),
                strukt(&schema, vec![Value::Int32(42), s("x")]),
            ),
            expected: value_record(Some(prim(Int32)), Value::Int32(42)),
        },
        Case {
            name: "a map entry becomes the value",
            class: "ExtractField$Value",
            config: vec![("field", "magic")],
            input: value_record(None, map(vec![("magic", Value::Int32(42))])),
            expected: value_record(None, Value::Int32(42)),
        },
        Case {
            name: "a missing map entry is null",
            class: "ExtractField$Value",
            config: vec![("field", "nope")],
            input: value_record(None, map(vec![("magic", Value::Int32(42))])),
            expected: value_record(None, Value::Null),
        },
        Case {
            name: "null values pass, with the field's schema",
            class: "ExtractField$Value",
            config: vec![("field", "magic")],
            input: value_record(Some(schema.clone()), Value::Null),
            expected: value_record(Some(prim(Int32)), Value::Null),
        },
        Case {
            name: "V1 reads a field whose name has a dot",
            class: "ExtractField$Value",
            config: vec![("field", "a.b")],
            input: value_record(
                Some(nested.clone()),
                strukt(
                    &nested,
                    vec![strukt(&inner, vec![s("nested")]), s("dotted")],
                ),
            ),
            expected: value_record(Some(prim(String)), s("dotted")),
        },
        Case {
            name: "V2 reads a nested struct field",
            class: "ExtractField$Value",
            config: vec![("field", "a.b"), ("field.syntax.version", "v2")],
            input: value_record(
                Some(nested.clone()),
                strukt(
                    &nested,
                    vec![strukt(&inner, vec![s("nested")]), s("dotted")],
                ),
            ),
            expected: value_record(Some(prim(String)), s("nested")),
        },
        Case {
            name: "V2 reads a nested map entry",
            class: "ExtractField$Key",
            config: vec![("field", "a.b"), ("field.syntax.version", "V2")],
            input: key_record(None, map(vec![("a", map(vec![("b", Value::Int8(1))]))])),
            expected: key_record(None, Value::Int8(1)),
        },
        Case {
            name: "a null field with a default gives the default",
            class: "ExtractField$Value",
            config: vec![("field", "d")],
            input: value_record(
                Some(defaulted_schema.clone()),
                strukt(&defaulted_schema, vec![Value::Null]),
            ),
            expected: value_record(Some(with_default(Int32, Value::Int32(9))), Value::Int32(9)),
        },
        Case {
            name: "…or null with replace.null.with.default=false",
            class: "ExtractField$Value",
            config: vec![("field", "d"), ("replace.null.with.default", "false")],
            input: value_record(
                Some(defaulted_schema.clone()),
                strukt(&defaulted_schema, vec![Value::Null]),
            ),
            expected: value_record(Some(with_default(Int32, Value::Int32(9))), Value::Null),
        },
    ]);
    run_errors(vec![ErrorCase {
        name: "an unknown struct field",
        class: "ExtractField$Value",
        config: vec![("field", "nonexistent")],
        input: value_record(
            Some(schema.clone()),
            strukt(&schema, vec![Value::Int32(1), s("x")]),
        ),
        message: "Unknown field: nonexistent",
    }]);
    let bad = configure_error(
        "ExtractField$Value",
        &[("field", "a"), ("field.syntax.version", "V3")],
    );
    assert_eq!(bad.key(), Some("field.syntax.version"));
    assert_eq!(
        bad.message(),
        "Invalid value V3 for configuration field.syntax.version: String must be one of: V1, V2"
    );
}

#[test]
fn flatten() {
    let c = optional_struct_schema(&[("D", prim(String))]);
    let a = struct_schema(&[("B", prim(Int32)), ("C", c.clone())]);
    let list = SchemaBuilder::array(prim(Int32)).build_ref();
    let dict = SchemaBuilder::map(prim(String), prim(Int32)).build_ref();
    let schema = struct_schema(&[("A", a.clone()), ("E", list.clone()), ("F", dict.clone())]);
    let value = |d: Value| {
        strukt(
            &schema,
            vec![
                strukt(&a, vec![Value::Int32(1), d]),
                Value::Array(vec![Value::Int32(7)].into()),
                map(vec![("k", Value::Int32(2))]),
            ],
        )
    };
    let flat = |delimiter: &str| {
        struct_schema(&[
            (&format!("A{delimiter}B"), prim(Int32)),
            (&format!("A{delimiter}C{delimiter}D"), opt(String)), // optional because C is
            ("E", list.clone()),
            ("F", dict.clone()),
        ])
    };
    let flat_dot = flat(".");
    let flat_hash = flat("#");
    run(vec![
        Case {
            name: "nested structs become a.b names; arrays and maps stay",
            class: "org.apache.kafka.connect.transforms.Flatten$Value",
            config: vec![],
            input: value_record(Some(schema.clone()), value(strukt(&c, vec![s("deep")]))),
            expected: value_record(
                Some(flat_dot.clone()),
                strukt(
                    &flat_dot,
                    vec![
                        Value::Int32(1),
                        s("deep"),
                        Value::Array(vec![Value::Int32(7)].into()),
                        map(vec![("k", Value::Int32(2))]),
                    ],
                ),
            ),
        },
        Case {
            name: "a null optional struct gives null fields; custom delimiter",
            class: "Flatten$Value",
            config: vec![("delimiter", "#")],
            input: value_record(Some(schema.clone()), value(Value::Null)),
            expected: value_record(
                Some(flat_hash.clone()),
                strukt(
                    &flat_hash,
                    vec![
                        Value::Int32(1),
                        Value::Null,
                        Value::Array(vec![Value::Int32(7)].into()),
                        map(vec![("k", Value::Int32(2))]),
                    ],
                ),
            ),
        },
        Case {
            name: "schemaless nested maps; nulls and arrays are kept",
            class: "Flatten$Value",
            config: vec![],
            input: value_record(
                None,
                map(vec![
                    (
                        "A",
                        map(vec![
                            ("B", Value::Int32(1)),
                            ("C", map(vec![("D", s("x"))])),
                        ]),
                    ),
                    ("N", Value::Null),
                    ("L", Value::Array(vec![Value::Int8(1)].into())),
                ]),
            ),
            expected: value_record(
                None,
                map(vec![
                    ("A.B", Value::Int32(1)),
                    ("A.C.D", s("x")),
                    ("N", Value::Null),
                    ("L", Value::Array(vec![Value::Int8(1)].into())),
                ]),
            ),
        },
        Case {
            name: "the key",
            class: "Flatten$Key",
            config: vec![("delimiter", "_")],
            input: key_record(
                None,
                map(vec![("a", map(vec![("b", Value::Boolean(true))]))]),
            ),
            expected: key_record(None, map(vec![("a_b", Value::Boolean(true))])),
        },
        Case {
            name: "null values pass",
            class: "Flatten$Value",
            config: vec![],
            input: value_record(None, Value::Null),
            expected: value_record(None, Value::Null),
        },
    ]);
    let inner = struct_schema(&[("x", prim(Int32))]);
    let with_struct_in_map = value_record(
        None,
        map(vec![("s", strukt(&inner, vec![Value::Int32(1)]))]),
    );
    let mut t = transform("Flatten$Value", &[]);
    assert!(apply_error(&mut t, with_struct_in_map).contains("Flatten transformation does not support class org.apache.kafka.connect.data.Struct for record without schemas (for field s)."));
}

#[test]
fn hoist_field() {
    let hoisted_int = struct_schema(&[("magic", prim(Int32))]);
    run(vec![
        Case {
            name: "a schema'd value is wrapped in a struct",
            class: "org.apache.kafka.connect.transforms.HoistField$Value",
            config: vec![("field", "magic")],
            input: value_record(Some(prim(Int32)), Value::Int32(42)),
            expected: value_record(
                Some(hoisted_int.clone()),
                strukt(&hoisted_int, vec![Value::Int32(42)]),
            ),
        },
        Case {
            name: "a schemaless value is wrapped in a map",
            class: "HoistField$Key",
            config: vec![("field", "magic")],
            input: key_record(None, Value::Int32(42)),
            expected: key_record(None, map(vec![("magic", Value::Int32(42))])),
        },
    ]);
    let mut t = transform("HoistField$Value", &[("field", "magic")]);
    assert!(
        apply_error(&mut t, value_record(Some(prim(Int32)), Value::Null))
            .contains("Invalid value: null used for required field: \"magic\"")
    );
}

#[test]
fn mask_field() {
    let decimal = SchemaBuilder::decimal(2).build_ref();
    let schema = struct_schema(&[
        ("magic", prim(Int32)),
        ("bool", prim(Boolean)),
        ("byte", prim(Int8)),
        ("long", prim(Int64)),
        ("double", prim(Float64)),
        ("string", prim(String)),
        ("date", SchemaBuilder::date().build_ref()),
        ("decimal", decimal.clone()),
        ("array", SchemaBuilder::array(prim(Int32)).build_ref()),
        (
            "map",
            SchemaBuilder::map(prim(String), prim(String)).build_ref(),
        ),
        ("kept", prim(String)),
    ]);
    let values = || {
        vec![
            Value::Int32(42),
            Value::Boolean(true),
            Value::Int8(1),
            Value::Int64(123),
            Value::Float64(1.5),
            s("secret"),
            Value::Int32(17000),
            Value::Bytes(vec![0x30, 0x39].into()),
            Value::Array(vec![Value::Int32(1)].into()),
            map(vec![("k", s("v"))]),
            s("visible"),
        ]
    };
    let all = "magic,bool,byte,long,double,string,date,decimal,array,map";
    run(vec![
        Case {
            name: "every type masked to its empty value",
            class: "org.apache.kafka.connect.transforms.MaskField$Value",
            config: vec![("fields", all)],
            input: value_record(Some(schema.clone()), strukt(&schema, values())),
            expected: value_record(
                Some(schema.clone()),
                strukt(
                    &schema,
                    vec![
                        Value::Int32(0),
                        Value::Boolean(false),
                        Value::Int8(0),
                        Value::Int64(0),
                        Value::Float64(0.0),
                        s(""),
                        Value::Int32(0),
                        Value::Bytes(vec![0].into()),
                        Value::Array(Default::default()),
                        Value::Map(Default::default()),
                        s("visible"),
                    ],
                ),
            ),
        },
        Case {
            name: "a replacement converted to each field's type",
            class: "MaskField$Value",
            config: vec![
                ("fields", "magic,long,double,string,decimal"),
                ("replacement", "12"),
            ],
            input: value_record(Some(schema.clone()), strukt(&schema, values())),
            expected: {
                let mut v = values();
                v[0] = Value::Int32(12);
                v[3] = Value::Int64(12);
                v[4] = Value::Float64(12.0);
                v[5] = s("12");
                v[7] = Value::Bytes(vec![0x04, 0xb0].into()); // 12.00 is 1200 unscaled
                value_record(Some(schema.clone()), strukt(&schema, v))
            },
        },
        Case {
            name: "schemaless map entries",
            class: "MaskField$Key",
            config: vec![("fields", "magic,name")],
            input: key_record(
                None,
                map(vec![
                    ("magic", Value::Int32(42)),
                    ("name", s("x")),
                    ("k", s("v")),
                ]),
            ),
            expected: key_record(
                None,
                map(vec![
                    ("magic", Value::Int32(0)),
                    ("name", s("")),
                    ("k", s("v")),
                ]),
            ),
        },
    ]);
    run_errors(vec![
        ErrorCase {
            name: "booleans take no replacement",
            class: "MaskField$Value",
            config: vec![("fields", "bool"), ("replacement", "x")],
            input: value_record(Some(schema.clone()), strukt(&schema, values())),
            message: "Cannot mask value of type class java.lang.Boolean with custom replacement.",
        },
        ErrorCase {
            name: "a replacement that is not a number for a number field",
            class: "MaskField$Value",
            config: vec![("fields", "magic"), ("replacement", "abc")],
            input: value_record(Some(schema.clone()), strukt(&schema, values())),
            message: "Unable to convert abc (class java.lang.String) to number",
        },
    ]);
    let empty = configure_error("MaskField$Value", &[("fields", "")]);
    assert_eq!(empty.key(), Some("fields"));
    assert_eq!(
        empty.message(),
        "Invalid value [] for configuration fields: Empty list"
    );
}

#[test]
fn set_schema_metadata() {
    let schema = struct_schema(&[("a", prim(Int32))]);
    let renamed = SchemaBuilder::struct_()
        .name("foo")
        .version(42)
        .field("a", prim(Int32))
        .build_ref();
    let named_string = SchemaBuilder::new(String).name("bar").build_ref();
    run(vec![
        Case {
            name: "name and version on a struct, whose value follows the schema",
            class: "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
            config: vec![("schema.name", "foo"), ("schema.version", "42")],
            input: value_record(Some(schema.clone()), strukt(&schema, vec![Value::Int32(1)])),
            expected: value_record(
                Some(renamed.clone()),
                strukt(&renamed, vec![Value::Int32(1)]),
            ),
        },
        Case {
            name: "the key schema of a primitive",
            class: "SetSchemaMetadata$Key",
            config: vec![("schema.name", "bar")],
            input: key_record(Some(prim(String)), s("k")),
            expected: key_record(Some(named_string.clone()), s("k")),
        },
    ]);
    run_errors(vec![ErrorCase {
        name: "a schema is required",
        class: "SetSchemaMetadata$Value",
        config: vec![("schema.name", "foo")],
        input: value_record(None, map(vec![])),
        message: "Schema required for [updating schema metadata]",
    }]);
    assert_eq!(
        configure_error("SetSchemaMetadata$Value", &[]).message(),
        "Neither schema name nor version configured"
    );
    let bad = configure_error("SetSchemaMetadata$Value", &[("schema.version", "x")]);
    assert_eq!(bad.key(), Some("schema.version"));
    assert_eq!(
        bad.message(),
        "Invalid value x for configuration schema.version: Not a number of type INT"
    );
}

#[test]
fn timestamp_converter() {
    let date = SchemaBuilder::date().build_ref();
    let time = SchemaBuilder::time().build_ref();
    let with_string = struct_schema(&[("ts", prim(String)), ("other", prim(Int32))]);
    let with_date = struct_schema(&[("ts", date.clone()), ("other", prim(Int32))]);
    run(vec![
        Case {
            name: "schemaless unix millis to a formatted string",
            class: "org.apache.kafka.connect.transforms.TimestampConverter$Value",
            config: vec![
                ("target.type", "string"),
                ("format", "yyyy-MM-dd HH:mm:ss.SSS"),
            ],
            input: value_record(None, Value::Int64(TS)),
            expected: value_record(None, s("2017-07-14 02:40:00.000")),
        },
        Case {
            name: "schemaless string to Timestamp (millis)",
            class: "TimestampConverter$Value",
            config: vec![
                ("target.type", "Timestamp"),
                ("format", "yyyy-MM-dd'T'HH:mm:ssXXX"),
            ],
            input: value_record(None, s("2017-07-14T04:40:00+02:00")),
            expected: value_record(None, Value::Int64(TS)),
        },
        Case {
            name: "a string field to Date",
            class: "TimestampConverter$Value",
            config: vec![
                ("target.type", "Date"),
                ("field", "ts"),
                ("format", "yyyy-MM-dd"),
            ],
            input: value_record(
                Some(with_string.clone()),
                strukt(&with_string, vec![s("2017-07-14"), Value::Int32(1)]),
            ),
            expected: value_record(
                Some(with_date.clone()),
                strukt(&with_date, vec![Value::Int32(17361), Value::Int32(1)]),
            ),
        },
        Case {
            name: "a Timestamp to unix seconds",
            class: "TimestampConverter$Value",
            config: vec![("target.type", "unix"), ("unix.precision", "seconds")],
            input: value_record(Some(timestamp_schema()), Value::Int64(TS)),
            expected: value_record(Some(prim(Int64)), Value::Int64(TS / 1000)),
        },
        Case {
            name: "unix microseconds to Time (milliseconds of the day)",
            class: "TimestampConverter$Value",
            config: vec![("target.type", "Time"), ("unix.precision", "microseconds")],
            input: value_record(Some(prim(Int64)), Value::Int64(TS * 1000)),
            expected: value_record(Some(time.clone()), Value::Int32(9_600_000)),
        },
        Case {
            name: "a Date key to Timestamp",
            class: "TimestampConverter$Key",
            config: vec![("target.type", "Timestamp")],
            input: key_record(Some(date.clone()), Value::Int32(17361)),
            expected: key_record(Some(timestamp_schema()), Value::Int64(17361 * 86_400_000)),
        },
        Case {
            name: "a schemaless map field",
            class: "TimestampConverter$Value",
            config: vec![
                ("target.type", "string"),
                ("field", "at"),
                ("format", "yyyyMMdd"),
            ],
            input: value_record(None, map(vec![("at", Value::Int64(TS))])),
            expected: value_record(None, map(vec![("at", s("20170714"))])),
        },
    ]);
    run_errors(vec![
        ErrorCase {
            name: "a string that does not match the pattern",
            class: "TimestampConverter$Value",
            config: vec![("target.type", "unix"), ("format", "yyyy-MM-dd")],
            input: value_record(None, s("14/07/2017")),
            message:
                "Could not parse timestamp: value (14/07/2017) does not match pattern (yyyy-MM-dd)",
        },
        ErrorCase {
            name: "an int is not a schemaless timestamp",
            class: "TimestampConverter$Value",
            config: vec![("target.type", "unix")],
            input: value_record(None, Value::Int32(1)),
            message:
                "TimestampConverter does not support class java.lang.Integer objects as timestamps",
        },
    ]);
    let cases: [(Pairs, &str, &str); 3] = [
        (vec![("target.type", "bogus")], "target.type", "String must be one of: string, unix, Date, Time, Timestamp"),
        (vec![("target.type", "string")], "format", "TimestampConverter requires format option to be specified when using string timestamps"),
        (vec![("target.type", "string"), ("format", "yy-MM-dd")], "format", "pattern 'yy-MM-dd' uses 'yy'"),
    ];
    for (config, key, message) in cases {
        let e = configure_error("TimestampConverter$Value", &config);
        assert_eq!(e.key(), Some(key));
        assert!(e.message().contains(message), "{}", e.message());
    }
}

#[test]
fn timestamp_router() {
    let cases: [(Vec<(&str, &str)>, &str); 3] = [
        (vec![], "test-20170714"),
        (
            vec![
                ("topic.format", "${timestamp}_${topic}"),
                ("timestamp.format", "yyyy-MM"),
            ],
            "2017-07_test",
        ),
        (
            vec![("timestamp.format", "yyyy-MM-dd'T'HH")],
            "test-2017-07-14T02",
        ),
    ];
    for (config, expected) in cases {
        let mut t = transform(
            "org.apache.kafka.connect.transforms.TimestampRouter",
            &config,
        );
        assert_eq!(
            apply(&mut t, value_record(None, Value::Null))
                .topic
                .as_str(),
            expected
        );
    }
    let mut t = transform("TimestampRouter", &[]);
    let mut record = value_record(None, Value::Null);
    record.timestamp = ROption::RNone;
    assert!(apply_error(&mut t, record).contains("Timestamp missing on record"));
}

#[test]
fn value_to_key() {
    let schema = struct_schema(&[("a", prim(Int32)), ("b", opt(String)), ("c", prim(Int32))]);
    let key_schema = struct_schema(&[("a", prim(Int32)), ("b", opt(String))]);
    let value = strukt(&schema, vec![Value::Int32(1), s("two"), Value::Int32(3)]);
    let mut expected = value_record(Some(schema.clone()), value.clone());
    expected.kafka_partition = ROption::RNone; // Kafka clears it so the new key decides
    expected.key_schema = ROption::RSome(key_schema.clone());
    expected.key = strukt(&key_schema, vec![Value::Int32(1), s("two")]);
    let schemaless_value = map(vec![
        ("a", Value::Int32(1)),
        ("b", s("two")),
        ("c", Value::Int32(3)),
    ]);
    let mut schemaless_expected = value_record(None, schemaless_value.clone());
    schemaless_expected.kafka_partition = ROption::RNone;
    schemaless_expected.key = map(vec![("a", Value::Int32(1)), ("b", s("two"))]);
    run(vec![
        Case {
            name: "struct fields become a struct key",
            class: "org.apache.kafka.connect.transforms.ValueToKey",
            config: vec![("fields", "a,b")],
            input: value_record(Some(schema.clone()), value.clone()),
            expected,
        },
        Case {
            name: "map entries become a map key",
            class: "ValueToKey",
            config: vec![("fields", "a,b")],
            input: value_record(None, schemaless_value),
            expected: schemaless_expected,
        },
    ]);
    run_errors(vec![ErrorCase {
        name: "a field the value does not have",
        class: "ValueToKey",
        config: vec![("fields", "a,d")],
        input: value_record(Some(schema.clone()), value),
        message: "Field does not exist: d",
    }]);
}

#[test]
fn header_from() {
    let schema = struct_schema(&[("id", prim(Int32)), ("name", prim(String))]);
    let moved = struct_schema(&[("name", prim(String))]);
    let existing = Header::new("existing", None, s("x"));
    run(vec![
        Case {
            name: "move with a schema: the header keeps the field's schema",
            class: "org.apache.kafka.connect.transforms.HeaderFrom$Value",
            config: vec![("fields", "id"), ("headers", "h_id"), ("operation", "move")],
            input: with_headers(
                value_record(
                    Some(schema.clone()),
                    strukt(&schema, vec![Value::Int32(7), s("n")]),
                ),
                vec![existing.clone()],
            ),
            expected: with_headers(
                value_record(Some(moved.clone()), strukt(&moved, vec![s("n")])),
                vec![
                    existing.clone(),
                    Header::new("h_id", Some(prim(Int32)), Value::Int32(7)),
                ],
            ),
        },
        Case {
            name: "copy without a schema",
            class: "HeaderFrom$Value",
            config: vec![
                ("fields", "id,name"),
                ("headers", "a,b"),
                ("operation", "copy"),
            ],
            input: value_record(None, map(vec![("id", Value::Int32(7)), ("name", s("n"))])),
            expected: with_headers(
                value_record(None, map(vec![("name", s("n")), ("id", Value::Int32(7))])),
                vec![
                    Header::new("a", None, Value::Int32(7)),
                    Header::new("b", None, s("n")),
                ],
            ),
        },
        Case {
            name: "move from the key without a schema",
            class: "HeaderFrom$Key",
            config: vec![("fields", "id"), ("headers", "id"), ("operation", "move")],
            input: key_record(None, map(vec![("id", Value::Int32(7)), ("name", s("n"))])),
            expected: with_headers(
                key_record(None, map(vec![("name", s("n"))])),
                vec![Header::new("id", None, Value::Int32(7))],
            ),
        },
    ]);
    let mismatch = configure_error(
        "HeaderFrom$Value",
        &[("fields", "a,b"), ("headers", "x"), ("operation", "copy")],
    );
    assert_eq!(
        mismatch.message(),
        "'fields' config must have the same number of elements as 'headers' config."
    );
    let bad_op = configure_error(
        "HeaderFrom$Value",
        &[("fields", "a"), ("headers", "x"), ("operation", "steal")],
    );
    assert_eq!(bad_op.key(), Some("operation"));
    assert_eq!(
        bad_op.message(),
        "Invalid value steal for configuration operation: String must be one of: move, copy"
    );
}

#[test]
fn insert_header_drop_headers_and_filter() {
    let input = || value_record(None, s("v"));
    run(vec![
        Case {
            name: "a text literal is a STRING header",
            class: "org.apache.kafka.connect.transforms.InsertHeader",
            config: vec![("header", "app.id"), ("value.literal", "best-app-ever")],
            input: input(),
            expected: with_headers(
                input(),
                vec![Header::new(
                    "app.id",
                    Some(prim(String)),
                    s("best-app-ever"),
                )],
            ),
        },
        Case {
            name: "a number literal is typed like Values.parseString",
            class: "InsertHeader",
            config: vec![("header", "n"), ("value.literal", "1234")],
            input: input(),
            expected: with_headers(
                input(),
                vec![Header::new("n", Some(prim(Int16)), Value::Int16(1234))],
            ),
        },
        Case {
            name: "drop every header with a listed key",
            class: "org.apache.kafka.connect.transforms.DropHeaders",
            config: vec![("headers", "a,b")],
            input: with_headers(
                input(),
                vec![
                    Header::new("a", None, s("1")),
                    Header::new("c", None, s("2")),
                    Header::new("b", None, s("3")),
                    Header::new("a", None, s("4")),
                ],
            ),
            expected: with_headers(input(), vec![Header::new("c", None, s("2"))]),
        },
    ]);
    let mut filter = transform("org.apache.kafka.connect.transforms.Filter", &[]);
    assert_eq!(outcome(input(), |r| filter.apply(r)).unwrap(), None);
    let missing = configure_error("InsertHeader", &[("header", "h")]);
    assert_eq!(missing.key(), Some("value.literal"));
    assert_eq!(
        missing.message(),
        "Missing required configuration \"value.literal\" which has no default value."
    );
}

#[test]
fn predicates() {
    let on_topic = |topic: &str| {
        let mut r = value_record(None, s("v"));
        r.topic = topic.into();
        r
    };
    let tombstone = value_record(None, Value::Null);
    let with_header = with_headers(on_topic("t"), vec![Header::new("trace", None, s("1"))]);
    let cases: Vec<(&str, Pairs, ConnectRecord, bool)> = vec![
        (
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
            vec![("pattern", "foo.*")],
            on_topic("foobar"),
            true,
        ),
        (
            "TopicNameMatches",
            vec![("pattern", "foo.*")],
            on_topic("barfoo"),
            false,
        ), // whole name must match
        (
            "TopicNameMatches",
            vec![("pattern", "a|b")],
            on_topic("b"),
            true,
        ),
        (
            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
            vec![("name", "trace")],
            with_header.clone(),
            true,
        ),
        (
            "HasHeaderKey",
            vec![("name", "trace")],
            on_topic("t"),
            false,
        ),
        (
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            vec![],
            tombstone,
            true,
        ),
        ("RecordIsTombstone", vec![], on_topic("t"), false),
    ];
    for (class, config, record, expected) in cases {
        let mut p = predicate(class, &config);
        assert_eq!(p.test(&record).unwrap(), expected, "{class} {config:?}");
    }
    let bad = configure_error("TopicNameMatches", &[("pattern", "(")]);
    assert_eq!(bad.key(), Some("pattern"));
    assert!(bad
        .message()
        .starts_with("Invalid value ( for configuration pattern: Invalid regex:"));
    let empty = configure_error("HasHeaderKey", &[("name", "")]);
    assert_eq!(
        empty.message(),
        "Invalid value  for configuration name: String may not be empty"
    );
}
