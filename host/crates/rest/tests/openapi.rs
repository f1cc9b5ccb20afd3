//! The hand-written OpenAPI document against the route table and the running server:
//! every route is documented, every documented operation is served.

mod support;

use kconnect_rest::{HttpMethod, OPENAPI_DOCUMENT, ROUTES};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;
use support::TestServer;

const OPERATION_KEYS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(OPENAPI_DOCUMENT).expect("openapi.json is valid JSON")
}

/// `(method, path)` of every operation in the document.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"].as_object().expect("paths is an object");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        for key in item.as_object().expect("path item is an object").keys() {
            if OPERATION_KEYS.contains(&key.as_str()) {
                operations.insert((key.clone(), path.clone()));
            }
        }
    }
    operations
}

fn routed_operations() -> BTreeSet<(String, String)> {
    ROUTES
        .iter()
        .map(|route| {
            (
                route.method.openapi_key().to_string(),
                route.path.to_string(),
            )
        })
        .collect()
}

#[test]
fn document_is_openapi_3_with_info() {
    let document = document();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    assert!(document["info"]["title"].is_string());
    assert!(document["info"]["version"].is_string());
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let documented = documented_operations(&document());
    let routed = routed_operations();
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.json: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

fn resolve<'a>(document: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    document.pointer(pointer)
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                refs.push(reference.clone());
            }
            map.values().for_each(|child| collect_refs(child, refs));
        }
        Value::Array(items) => items.iter().for_each(|child| collect_refs(child, refs)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let document = document();
    let mut refs = Vec::new();
    collect_refs(&document, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        assert!(
            resolve(&document, &reference).is_some(),
            "dangling $ref {reference}"
        );
    }
}

/// Parameter names of a path item and its operation, following `$ref`s.
fn parameter_names(
    document: &Value,
    item: &Value,
    operation: &Value,
    location: &str,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for list in [&item["parameters"], &operation["parameters"]] {
        for parameter in list.as_array().into_iter().flatten() {
            let parameter = match parameter["$ref"].as_str() {
                Some(reference) => resolve(document, reference).expect("parameter ref resolves"),
                None => parameter,
            };
            if parameter["in"] == location {
                names.insert(parameter["name"].as_str().unwrap().to_string());
            }
        }
    }
    names
}

#[test]
fn path_parameters_are_declared_and_operations_answer_errors_and_success() {
    let document = document();
    for (method, path) in documented_operations(&document) {
        let item = &document["paths"][&path];
        let operation = &item[&method];
        let in_template: BTreeSet<String> = path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        assert_eq!(
            parameter_names(&document, item, operation, "path"),
            in_template,
            "{method} {path}: declared path parameters"
        );
        assert!(operation["summary"].is_string(), "{method} {path}: summary");
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|code| code.starts_with('2')),
            "{method} {path}: a success response"
        );
    }
}

#[test]
fn summaries_in_the_route_table_are_not_empty() {
    for route in ROUTES {
        assert!(
            !route.summary.is_empty(),
            "{} {}",
            route.method.as_str(),
            route.path
        );
    }
}

fn reqwest_method(method: HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
    }
}

/// Sends every documented operation to a live server: none may hit the router's 404 or 405,
/// so each one is registered with the method the document gives it.
#[tokio::test]
async fn every_documented_operation_is_served() {
    let server = TestServer::start().await;
    server.create("c").await;
    let served = server.get("/openapi.json").await;
    assert_eq!(served.status, 200);
    assert_eq!(served.json(), document());

    let document = document();
    for route in ROUTES {
        let method = route.method.openapi_key();
        assert!(
            document["paths"][route.path][method].is_object(),
            "{method} {}",
            route.path
        );
        let path = route
            .path
            .replace("{connector}", "c")
            .replace("{task}", "0")
            .replace("{plugin}", "FileStreamSink")
            .replace("{logger}", "root");
        let body = matches!(
            route.method,
            HttpMethod::Put | HttpMethod::Patch | HttpMethod::Post
        )
        .then(|| serde_json::json!({}));
        let reply = server.send(reqwest_method(route.method), &path, body).await;
        assert_ne!(reply.status, 405, "{method} {path}: {}", reply.text);
        if reply.status == 404 {
            assert_ne!(
                reply.json()["message"],
                "HTTP 404 Not Found",
                "{method} {path}"
            );
        }
    }
    server.stop().await;
}
