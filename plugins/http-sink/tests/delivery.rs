//! The HTTP sink task against a real HTTP server in the test (see `server`): bodies, batching,
//! headers and authentication, retries on 503, failures on 400, TLS with a CA file.

mod server;

use kconnect_http_sink_plugin::HttpSinkConnector;
use kconnect_plugin_api::testkit::{config_from, sink_record, SinkHarness};
use kconnect_plugin_api::{Config, SinkRecord, Value};
use server::TestServer;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn config(url: &str, extra: &[(&str, &str)]) -> Config {
    let mut c = config_from([
        ("http.api.url", url),
        ("topics", "events"),
        ("retry.backoff.ms", "100"),
    ]);
    c.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    c
}

fn records(n: i64) -> Vec<SinkRecord> {
    (0..n)
        .map(|i| {
            let mut r = sink_record("events", 0, i, Value::map_from([("n", Value::Int64(i))]));
            r.record.key = Value::from(format!("k{}", i % 3));
            r
        })
        .collect()
}

#[test]
fn one_request_per_record_with_headers_and_basic_auth() {
    let server = TestServer::start(|_| (200, "ok".into()));
    let url = server.url("/in/${topic}/${key}");
    let mut sink = SinkHarness::<HttpSinkConnector>::new(config(
        &url,
        &[
            ("headers", "X-Source:kafka|X-Env:test"),
            ("auth.type", "BASIC"),
            ("connection.user", "alice"),
            ("connection.password", "s3cret"),
            ("max.in.flight.requests", "1"),
        ],
    ))
    .unwrap();
    sink.put(&records(4)).unwrap();
    let got = server.received();
    let summary: Vec<(&str, &str, &str)> = got
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.body.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", "/in/events/k0", r#"{"n":0}"#),
            ("POST", "/in/events/k1", r#"{"n":1}"#),
            ("POST", "/in/events/k2", r#"{"n":2}"#),
            ("POST", "/in/events/k0", r#"{"n":3}"#)
        ]
    );
    assert_eq!(got[0].header("x-source"), Some("kafka"));
    assert_eq!(got[0].header("x-env"), Some("test"));
    // alice:s3cret
    assert_eq!(
        got[0].header("authorization"),
        Some("Basic YWxpY2U6czNjcmV0")
    );
    assert_eq!(got[0].header("content-type"), Some("application/json"));
}

#[test]
fn batches_as_json_arrays_with_bearer_token_and_put() {
    let server = TestServer::start(|_| (204, String::new()));
    let mut sink = SinkHarness::<HttpSinkConnector>::new(config(
        &server.url("/bulk"),
        &[
            ("batch.max.size", "4"),
            ("batch.json.as.array", "true"),
            ("request.method", "PUT"),
            ("auth.type", "BEARER"),
            ("bearer.token", "tok-123"),
        ],
    ))
    .unwrap();
    sink.put(&records(10)).unwrap();
    let mut bodies: Vec<String> = server.received().iter().map(|r| r.body.clone()).collect();
    bodies.sort();
    assert_eq!(
        bodies,
        [
            r#"[{"n":0},{"n":1},{"n":2},{"n":3}]"#,
            r#"[{"n":4},{"n":5},{"n":6},{"n":7}]"#,
            r#"[{"n":8},{"n":9}]"#
        ]
    );
    assert!(server
        .received()
        .iter()
        .all(|r| r.method == "PUT" && r.header("authorization") == Some("Bearer tok-123")));
}

#[test]
fn retries_503_until_the_server_recovers_and_delivers_each_record_once() {
    let up_at = Instant::now() + Duration::from_secs(2);
    let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = accepted.clone();
    let server = TestServer::start(move |r| {
        if Instant::now() < up_at {
            (503, "busy".into())
        } else {
            log.lock().unwrap().push(r.body.clone());
            (200, "ok".into())
        }
    });
    let mut sink = SinkHarness::<HttpSinkConnector>::new(config(
        &server.url("/x"),
        &[("max.retries", "30"), ("retry.backoff.ms", "200")],
    ))
    .unwrap();
    sink.put(&records(20)).unwrap();
    assert!(Instant::now() >= up_at);
    assert!(server.received().len() > 20, "requests were refused first");
    let mut accepted = accepted.lock().unwrap().clone();
    accepted.sort();
    let mut expected: Vec<String> = (0..20).map(|n| format!("{{\"n\":{n}}}")).collect();
    expected.sort();
    assert_eq!(accepted, expected, "each record accepted exactly once");
}

#[test]
fn a_400_fails_the_put_naming_the_record_status_and_response() {
    let server = TestServer::start(|r| {
        if r.body.contains("\"n\":2") {
            (400, "field n must be odd".into())
        } else {
            (200, "ok".into())
        }
    });
    let mut sink = SinkHarness::<HttpSinkConnector>::new(config(
        &server.url("/x"),
        &[("max.in.flight.requests", "2")],
    ))
    .unwrap();
    let error = sink.put(&records(4)).unwrap_err();
    assert!(
        error
            .message
            .contains("offsets 2: status 400 after 1 attempt(s): field n must be odd"),
        "{}",
        error.message
    );
    // 400 is not retried.
    assert_eq!(
        server
            .received()
            .iter()
            .filter(|r| r.body.contains("\"n\":2"))
            .count(),
        1
    );

    let mut tolerant = SinkHarness::<HttpSinkConnector>::new(config(
        &server.url("/x"),
        &[("behavior.on.error", "log")],
    ))
    .unwrap();
    tolerant.put(&records(4)).unwrap();
}

#[test]
fn null_values_are_skipped_or_deleted() {
    let server = TestServer::start(|_| (200, String::new()));
    let mut batch = records(2);
    batch[1].record.value = Value::Null;
    let mut sink = SinkHarness::<HttpSinkConnector>::new(config(
        &server.url("/items/${key}"),
        &[
            ("behavior.on.null.values", "delete"),
            ("max.in.flight.requests", "1"),
        ],
    ))
    .unwrap();
    sink.put(&batch).unwrap();
    let got = server.received();
    assert_eq!(
        (
            got[1].method.as_str(),
            got[1].path.as_str(),
            got[1].body.as_str()
        ),
        ("DELETE", "/items/k1", "")
    );
    let mut sink =
        SinkHarness::<HttpSinkConnector>::new(config(&server.url("/items/${key}"), &[])).unwrap();
    sink.put(&batch).unwrap();
    assert_eq!(server.received().len(), 3);
}

#[test]
fn https_with_a_ca_file() {
    let ca =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.cert.pem()).unwrap();
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(ca.key_pair.serialize_der().into());
    let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![ca.cert.der().clone()], key)
    .unwrap();
    let server = TestServer::start_tls(Arc::new(server_config), |_| (200, "ok".into()));
    let url = format!("https://127.0.0.1:{}/secure", server.port);
    let ca_path = ca_file.display().to_string();
    let mut sink =
        SinkHarness::<HttpSinkConnector>::new(config(&url, &[("tls.ca.file", &ca_path)])).unwrap();
    sink.put(&records(2)).unwrap();
    assert_eq!(server.received().len(), 2);
    // Without the CA the certificate is not trusted.
    let mut untrusting =
        SinkHarness::<HttpSinkConnector>::new(config(&url, &[("max.retries", "0")])).unwrap();
    let error = untrusting.put(&records(1)).unwrap_err();
    assert!(error.message.contains("no response"), "{}", error.message);
}
