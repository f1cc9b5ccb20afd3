//! HTTP behaviour over real sockets: routing errors, body errors, status codes and bodies of
//! every endpoint, against the in-test map herder.

mod support;

use kconnect_herder_api::{Health, HerderError};
use kconnect_rest::{RestConfig, RestError, RestServer};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use support::{MapHerder, MapLogs, TestServer, TEST_BODY_LIMIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn unknown_path_is_a_json_404() {
    let server = TestServer::start().await;
    for path in [
        "/nope",
        "/connectors/c/nope",
        "/connectors/c/tasks/0",
        "/admin",
    ] {
        let message = server.get(path).await.assert_error(404);
        assert_eq!(message, "HTTP 404 Not Found", "{path}");
    }
    server.stop().await;
}

#[tokio::test]
async fn wrong_method_on_known_path_is_a_json_405_with_allow() {
    let server = TestServer::start().await;
    let reply = server.send(Method::DELETE, "/connectors", None).await;
    assert_eq!(reply.assert_error(405), "HTTP 405 Method Not Allowed");
    assert_eq!(reply.header("allow"), Some("GET, POST"));
    let reply = server
        .send(Method::POST, "/connectors/c/config", None)
        .await;
    reply.assert_error(405);
    assert_eq!(reply.header("allow"), Some("GET, PUT, PATCH"));
    server.get("/connectors/c/pause").await.assert_error(405);
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let server = TestServer::start().await;
    for body in ["{\"name\": ", "not json", "{\"name\":\"c\",}", ""] {
        let reply = server
            .client
            .post(server.url("/connectors"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let message = support::Reply::from(reply).await.assert_error(400);
        assert!(message.contains("not valid JSON"), "{body:?}: {message}");
    }
    server.stop().await;
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_400_naming_the_problem() {
    let server = TestServer::start().await;
    let reply = server
        .send(Method::PUT, "/connectors/c/config", Some(json!(["a"])))
        .await;
    assert!(reply.assert_error(400).contains("Invalid request body"));
    let reply = server
        .send(
            Method::PUT,
            "/connectors/c/config",
            Some(json!({"connector.class": {"nested": true}})),
        )
        .await;
    assert!(reply.assert_error(400).contains("connector.class"));
    let reply = server
        .send(
            Method::POST,
            "/connectors",
            Some(json!({"name": "c", "config": {}, "initial_state": "SLEEPING"})),
        )
        .await;
    assert!(reply.assert_error(400).contains("SLEEPING"));
    server.stop().await;
}

#[tokio::test]
async fn non_json_content_type_is_a_415() {
    let server = TestServer::start().await;
    let body = json!({"name": "c", "config": {}}).to_string();
    let with_text = server
        .client
        .post(server.url("/connectors"))
        .header("Content-Type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    support::Reply::from(with_text).await.assert_error(415);
    let without_type = server
        .client
        .post(server.url("/connectors"))
        .body(body)
        .send()
        .await
        .unwrap();
    support::Reply::from(without_type).await.assert_error(415);
    server.stop().await;
}

#[tokio::test]
async fn body_over_the_limit_is_a_413() {
    let server = TestServer::start().await;
    let big = "x".repeat(TEST_BODY_LIMIT + 1);
    let reply = server
        .send(
            Method::PUT,
            "/connectors/c/config",
            Some(json!({"connector.class": "FileStreamSink", "big": big})),
        )
        .await;
    let message = reply.assert_error(413);
    assert!(message.contains(&TEST_BODY_LIMIT.to_string()), "{message}");
    assert!(server
        .get("/connectors")
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    server.stop().await;
}

/// Reads one HTTP/1.1 response from a raw socket; the server closes or we stop at the body.
async fn raw_exchange(server: &TestServer, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.server.local_addrs()[0])
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap_or(0);
        if read == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if received.len() >= head_end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn chunked_body_over_the_limit_is_a_413() {
    let server = TestServer::start().await;
    let chunk = format!("{{\"k\":\"{}\"}}", "y".repeat(TEST_BODY_LIMIT));
    let request = format!(
        "PUT /connectors/c/config HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
        chunk.len(),
        chunk
    );
    let response = raw_exchange(&server, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("\"error_code\":413"), "{response}");
    server.stop().await;
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_crashing() {
    let server = TestServer::start().await;
    server.create("c").await;
    let depth = 20_000;
    let body = format!(
        "{{\"offsets\":[{{\"partition\":{{\"p\":{}{}}},\"offset\":null}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert!(body.len() < TEST_BODY_LIMIT);
    let reply = server
        .client
        .patch(server.url("/connectors/c/offsets"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let message = support::Reply::from(reply).await.assert_error(400);
    assert!(message.contains("recursion limit"), "{message}");
    // Nesting within the limit is accepted and reaches the herder intact.
    server.send(Method::PUT, "/connectors/c/stop", None).await;
    let nested =
        json!({"offsets": [{"partition": {"p": [[[{"x": [1, 2]}]]]}, "offset": {"o": 1}}]});
    let reply = server
        .send(Method::PATCH, "/connectors/c/offsets", Some(nested.clone()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let altered = server
        .herder
        .altered_offsets
        .lock()
        .unwrap()
        .clone()
        .unwrap();
    assert_eq!(serde_json::to_value(altered).unwrap(), nested);
    assert_eq!(server.get("/").await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn root_reports_server_info() {
    let server = TestServer::start().await;
    let reply = server.get("/").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"version": "0.1.0", "commit": "abc123", "kafka_cluster_id": "cluster-1"})
    );
    server.stop().await;
}

#[tokio::test]
async fn health_maps_states_to_status_codes() {
    let server = TestServer::start().await;
    let reply = server.get("/health").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["status"], "healthy");

    *server.herder.health.lock().unwrap() =
        Some(Health::Starting(Some("Reading the config topic.".into())));
    let reply = server.get("/health").await;
    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.json(),
        json!({"status": "starting", "message": "Worker is still starting up. Reading the config topic."})
    );

    *server.herder.health.lock().unwrap() = Some(Health::Unhealthy(None));
    let reply = server.get("/health").await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.json()["status"], "unhealthy");
    server.stop().await;
}

#[tokio::test]
async fn create_answers_201_with_location_and_fills_in_name() {
    let server = TestServer::start().await;
    let reply = server.create("sink-1").await;
    let location = reply.header("location").unwrap();
    assert_eq!(location, format!("{}/connectors/sink-1", server.base));
    let info = reply.json();
    assert_eq!(info["name"], "sink-1");
    assert_eq!(info["config"]["name"], "sink-1");
    assert_eq!(info["tasks"], json!([{"connector": "sink-1", "task": 0}]));
    assert_eq!(info["type"], "sink");

    let again = server
        .send(
            Method::POST,
            "/connectors",
            Some(json!({"name": "sink-1", "config": {"connector.class": "FileStreamSink"}})),
        )
        .await;
    assert!(again.assert_error(409).contains("already exists"));
    server.stop().await;
}

#[tokio::test]
async fn create_checks_name_and_config() {
    let server = TestServer::start().await;
    let post = |body: serde_json::Value| server.send(Method::POST, "/connectors", Some(body));

    let reply = post(json!({"config": {"connector.class": "X"}})).await;
    assert!(reply.assert_error(400).contains("name is required"));
    let reply = post(json!({"name": "c"})).await;
    assert!(reply.assert_error(400).contains("config is required"));
    let reply = post(json!({"name": "c", "config": {"name": "d", "connector.class": "X"}})).await;
    assert_eq!(
        reply.assert_error(400),
        "Connector name configuration (d) doesn't match connector name in the URL (c)"
    );
    for bad in ["", "   ", "a/b", "..", ".", "line\nbreak", "bell\u{7}"] {
        let reply = post(json!({"name": bad, "config": {"connector.class": "X"}})).await;
        reply.assert_error(400);
    }
    // A herder validation error passes through as 400.
    let reply = post(json!({"name": "c", "config": {}})).await;
    assert!(reply.assert_error(400).contains("no connector type"));
    assert!(server
        .get("/connectors")
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());

    let reply = post(json!({"name": "  padded  ", "config": {"connector.class": "X"}})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["name"], "padded");
    server.stop().await;
}

#[tokio::test]
async fn create_passes_initial_state_and_scalar_values() {
    let server = TestServer::start().await;
    let reply = server
        .send(
            Method::POST,
            "/connectors",
            Some(json!({
                "name": "paused-one",
                "config": {"connector.class": "FileStreamSource", "tasks.max": 2, "flag": true},
                "initial_state": "paused"
            })),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json()["config"]["tasks.max"], "2");
    assert_eq!(reply.json()["config"]["flag"], "true");
    let status = server.get("/connectors/paused-one/status").await.json();
    assert_eq!(status["connector"]["state"], "PAUSED");
    assert_eq!(status["type"], "source");
    server.stop().await;
}

#[tokio::test]
async fn names_with_spaces_and_percent_encoding_round_trip() {
    let server = TestServer::start().await;
    let reply = server.create("my connector%").await;
    let location = reply.header("location").unwrap().to_string();
    assert!(
        location.ends_with("/connectors/my%20connector%25"),
        "{location}"
    );
    let reply = server.client.get(&location).send().await.unwrap();
    let reply = support::Reply::from(reply).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json()["name"], "my connector%");
    // Encoded slashes, dots, control characters and invalid UTF-8 reach the herder as
    // names that do not exist. Sent raw: HTTP client libraries rewrite dot segments.
    for odd in ["a%2Fb", "%2e%2e", "..", "a%00b", "%FF%FE", "%ZZ"] {
        let request = format!(
            "GET /connectors/{odd} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        );
        let response = raw_exchange(&server, request.as_bytes()).await;
        assert!(response.starts_with("HTTP/1.1 404"), "{odd}: {response}");
        assert!(
            response.contains("\"message\":\"Connector "),
            "{odd}: {response}"
        );
    }
    // Such names cannot be created through a path either.
    for odd in ["%0A", "%2e%2e", "a%2Fb"] {
        let body = json!({"connector.class": "FileStreamSink"}).to_string();
        let request = format!(
            "PUT /connectors/{odd}/config HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let response = raw_exchange(&server, request.as_bytes()).await;
        assert!(response.starts_with("HTTP/1.1 400"), "{odd}: {response}");
        assert!(response.contains("Connector name"), "{odd}: {response}");
    }
    server.stop().await;
}

#[tokio::test]
async fn list_connectors_plain_and_expanded() {
    let server = TestServer::start().await;
    server.create("a").await;
    server.create("b").await;
    assert_eq!(server.get("/connectors").await.json(), json!(["a", "b"]));
    assert_eq!(server.get("/connectors/").await.json(), json!(["a", "b"]));

    let expanded = server
        .get("/connectors?expand=status&expand=info")
        .await
        .json();
    assert_eq!(expanded["a"]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(
        expanded["a"]["status"]["connector"]["worker_id"],
        support::WORKER_ID
    );
    assert_eq!(expanded["b"]["info"]["config"]["name"], "b");

    *server.herder.fail_lookups.lock().unwrap() = Some(HerderError::NotFound("gone".into()));
    assert_eq!(
        server.get("/connectors?expand=info").await.json(),
        json!({})
    );
    *server.herder.fail_lookups.lock().unwrap() = Some(HerderError::Internal("broken".into()));
    let failed = server.get("/connectors?expand=status").await;
    assert_eq!(failed.assert_error(500), "broken");
    *server.herder.fail_lookups.lock().unwrap() = None;

    let status_only = server.get("/connectors?expand=status").await.json();
    assert!(status_only["a"].get("info").is_none());
    assert_eq!(
        server.get("/connectors?expand=bogus").await.json(),
        json!({"a": {}, "b": {}})
    );
    server.stop().await;
}

#[tokio::test]
async fn get_put_patch_and_delete_config() {
    let server = TestServer::start().await;
    let config = json!({"connector.class": "FileStreamSink", "file": "/tmp/a"});
    let created = server
        .send(Method::PUT, "/connectors/c/config", Some(config.clone()))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert!(created
        .header("location")
        .unwrap()
        .ends_with("/connectors/c"));
    assert_eq!(created.json()["config"]["name"], "c");

    let updated = server
        .send(
            Method::PUT,
            "/connectors/c/config",
            Some(json!({"connector.class": "FileStreamSink", "file": "/tmp/b"})),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert!(updated.header("location").is_none());
    assert_eq!(
        server.get("/connectors/c/config").await.json()["file"],
        "/tmp/b"
    );

    let mismatch = server
        .send(
            Method::PUT,
            "/connectors/c/config",
            Some(json!({"name": "other", "connector.class": "X"})),
        )
        .await;
    assert_eq!(
        mismatch.assert_error(400),
        "Connector name configuration (other) doesn't match connector name in the URL (c)"
    );

    let patched = server
        .send(
            Method::PATCH,
            "/connectors/c/config",
            Some(json!({"file": null, "topics": "t"})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let config = server.get("/connectors/c/config").await.json();
    assert!(config.get("file").is_none());
    assert_eq!(config["topics"], "t");
    server
        .send(
            Method::PATCH,
            "/connectors/other/config",
            Some(json!({"a": "b"})),
        )
        .await
        .assert_error(404);

    let deleted = server.send(Method::DELETE, "/connectors/c", None).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.text.is_empty());
    assert_eq!(
        server.get("/connectors/c").await.assert_error(404),
        "Connector c not found"
    );
    server
        .send(Method::DELETE, "/connectors/c", None)
        .await
        .assert_error(404);
    server.stop().await;
}

#[tokio::test]
async fn status_tasks_and_task_endpoints() {
    let server = TestServer::start().await;
    server.create("c").await;
    let status = server.get("/connectors/c/status").await.json();
    assert_eq!(status["name"], "c");
    assert_eq!(
        status["tasks"][0],
        json!({"id": 0, "state": "RUNNING", "worker_id": support::WORKER_ID})
    );

    let tasks = server.get("/connectors/c/tasks").await.json();
    assert_eq!(tasks[0]["id"], json!({"connector": "c", "task": 0}));
    assert_eq!(tasks[0]["config"]["file"], "/tmp/out.txt");

    let task = server.get("/connectors/c/tasks/0/status").await.json();
    assert_eq!(task["state"], "FAILED");
    assert_eq!(task["trace"], "java.lang.RuntimeException: boom");
    server
        .get("/connectors/c/tasks/7/status")
        .await
        .assert_error(404);
    server
        .get("/connectors/c/tasks/-1/status")
        .await
        .assert_error(404);
    server
        .get("/connectors/c/tasks/abc/status")
        .await
        .assert_error(404);

    let restart = server
        .send(Method::POST, "/connectors/c/tasks/0/restart", None)
        .await;
    assert_eq!(restart.status, 204);
    server
        .send(Method::POST, "/connectors/c/tasks/9/restart", None)
        .await
        .assert_error(404);
    server
        .get("/connectors/missing/status")
        .await
        .assert_error(404);
    server.stop().await;
}

#[tokio::test]
async fn restart_connector_204_or_202_with_status() {
    let server = TestServer::start().await;
    server.create("c").await;
    let plain = server
        .send(Method::POST, "/connectors/c/restart", None)
        .await;
    assert_eq!(plain.status, 204);
    assert!(plain.text.is_empty());
    let with_tasks = server
        .send(
            Method::POST,
            "/connectors/c/restart?includeTasks=true&onlyFailed=false",
            None,
        )
        .await;
    assert_eq!(with_tasks.status, 202, "{}", with_tasks.text);
    assert_eq!(with_tasks.json()["tasks"][0]["state"], "RESTARTING");
    // onlyFailed alone: the test herder returns no status, so the REST layer looks it up.
    let only_failed = server
        .send(Method::POST, "/connectors/c/restart?onlyFailed=TRUE", None)
        .await;
    assert_eq!(only_failed.status, 202, "{}", only_failed.text);
    assert_eq!(only_failed.json()["tasks"][0]["state"], "RUNNING");
    let bad_flag = server
        .send(Method::POST, "/connectors/c/restart?includeTasks=yes", None)
        .await;
    assert!(bad_flag.assert_error(400).contains("includeTasks"));
    server
        .send(Method::POST, "/connectors/missing/restart", None)
        .await
        .assert_error(404);
    server.stop().await;
}

#[tokio::test]
async fn pause_resume_and_stop() {
    let server = TestServer::start().await;
    server.create("c").await;
    let state =
        || async { server.get("/connectors/c/status").await.json()["connector"]["state"].clone() };

    let paused = server.send(Method::PUT, "/connectors/c/pause", None).await;
    assert_eq!(paused.status, 202);
    assert!(paused.text.is_empty());
    assert_eq!(state().await, "PAUSED");
    assert_eq!(
        server
            .send(Method::PUT, "/connectors/c/resume", None)
            .await
            .status,
        202
    );
    assert_eq!(state().await, "RUNNING");
    assert_eq!(
        server
            .send(Method::PUT, "/connectors/c/stop", None)
            .await
            .status,
        204
    );
    assert_eq!(state().await, "STOPPED");
    server
        .send(Method::PUT, "/connectors/missing/pause", None)
        .await
        .assert_error(404);
    server.stop().await;
}

#[tokio::test]
async fn offsets_get_alter_and_reset() {
    let server = TestServer::start().await;
    server.create("c").await;
    assert_eq!(
        server.get("/connectors/c/offsets").await.json(),
        json!({"offsets": [{"partition": {"filename": "/tmp/in.txt"}, "offset": {"position": 42}}]})
    );
    for empty in [json!({}), json!({"offsets": []})] {
        let reply = server
            .send(Method::PATCH, "/connectors/c/offsets", Some(empty))
            .await;
        assert_eq!(
            reply.assert_error(400),
            "Partitions / offsets need to be provided for an alter offsets request"
        );
    }
    let body = json!({"offsets": [{"partition": {"filename": "/tmp/in.txt"}, "offset": null}]});
    let running = server
        .send(Method::PATCH, "/connectors/c/offsets", Some(body.clone()))
        .await;
    assert!(running.assert_error(400).contains("STOPPED"));
    server.send(Method::PUT, "/connectors/c/stop", None).await;
    let altered = server
        .send(Method::PATCH, "/connectors/c/offsets", Some(body.clone()))
        .await;
    assert_eq!(altered.status, 200, "{}", altered.text);
    assert!(altered.json()["message"]
        .as_str()
        .unwrap()
        .contains("altered"));
    let stored = server
        .herder
        .altered_offsets
        .lock()
        .unwrap()
        .clone()
        .unwrap();
    assert_eq!(stored.offsets[0].offset, None);
    let reset = server
        .send(Method::DELETE, "/connectors/c/offsets", None)
        .await;
    assert_eq!(reset.status, 200);
    assert!(reset.json()["message"].as_str().unwrap().contains("reset"));
    server.stop().await;
}

#[tokio::test]
async fn active_topics_and_forbidden_reset() {
    let server = TestServer::start().await;
    server.create("c").await;
    assert_eq!(
        server.get("/connectors/c/topics").await.json(),
        json!({"c": {"topics": ["t1", "t2"]}})
    );
    let reset = server
        .send(Method::PUT, "/connectors/c/topics/reset", None)
        .await;
    assert_eq!(reset.assert_error(403), "Topic tracking reset is disabled.");
    server
        .get("/connectors/missing/topics")
        .await
        .assert_error(404);
    server.stop().await;
}

#[tokio::test]
async fn plugins_are_filtered_to_connectors_by_default() {
    let server = TestServer::start().await;
    let connectors = server.get("/connector-plugins").await.json();
    assert_eq!(
        connectors,
        json!([{"class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "type": "sink", "version": "0.1.0"}])
    );
    let all = server
        .get("/connector-plugins?connectorsOnly=false")
        .await
        .json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(
        all[1],
        json!({"class": "org.apache.kafka.connect.json.JsonConverter", "type": "converter"})
    );

    let keys = server
        .get("/connector-plugins/FileStreamSink/config")
        .await
        .json();
    assert_eq!(keys[0]["name"], "file");
    assert_eq!(keys[0]["order_in_group"], -1);
    assert!(keys[0]["default_value"].is_null());
    server
        .get("/connector-plugins/Nope/config")
        .await
        .assert_error(404);
    server.stop().await;
}

#[tokio::test]
async fn validate_checks_connector_class_against_plugin() {
    let server = TestServer::start().await;
    let path = "/connector-plugins/FileStreamSinkConnector/config/validate";
    let mismatch = server
        .send(
            Method::PUT,
            path,
            Some(json!({"connector.class": "FileStreamSource"})),
        )
        .await;
    assert_eq!(
        mismatch.assert_error(400),
        "Included connector type FileStreamSource does not match request type FileStreamSinkConnector"
    );
    for class in [
        "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "FileStreamSink",
    ] {
        let reply = server
            .send(
                Method::PUT,
                path,
                Some(json!({"connector.class": class, "file": "/tmp/x"})),
            )
            .await;
        assert_eq!(reply.status, 200, "{class}: {}", reply.text);
        assert_eq!(reply.json()["error_count"], 0);
    }
    let invalid = server
        .send(Method::PUT, path, Some(json!({"topics": "t"})))
        .await
        .json();
    assert_eq!(invalid["error_count"], 1);
    assert_eq!(invalid["configs"][0]["definition"]["name"], "file");
    assert!(invalid["configs"][0]["value"]["value"].is_null());
    assert_eq!(invalid["groups"], json!(["Common"]));
    server.stop().await;
}

#[tokio::test]
async fn loggers_list_get_and_set() {
    let server = TestServer::start().await;
    assert_eq!(
        server.get("/admin/loggers").await.json(),
        json!({"root": {"level": "INFO", "last_modified": null}})
    );
    let message = server
        .get("/admin/loggers/org.example")
        .await
        .assert_error(404);
    assert_eq!(message, "Logger org.example not found.");

    let put =
        |path: &'static str, body: serde_json::Value| server.send(Method::PUT, path, Some(body));
    let missing = put("/admin/loggers/org.example", json!({})).await;
    assert_eq!(
        missing.assert_error(400),
        "Desired 'level' parameter was not specified in request."
    );
    let invalid = put("/admin/loggers/org.example", json!({"level": "LOUD"})).await;
    assert_eq!(invalid.assert_error(404), "invalid log level 'LOUD'.");

    let changed = put("/admin/loggers/org.example", json!({"level": "debug"})).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json(), json!(["org.example"]));
    assert_eq!(
        server.get("/admin/loggers/org.example").await.json(),
        json!({"level": "DEBUG", "last_modified": 1_700_000_000_000_i64})
    );

    let cluster = put(
        "/admin/loggers/org.example?scope=cluster",
        json!({"level": "WARN"}),
    )
    .await;
    assert_eq!(cluster.status, 204);
    assert_eq!(
        server.logs.cluster_calls.lock().unwrap().clone(),
        vec![("org.example".to_string(), "WARN".to_string())]
    );
    let unknown_scope = put(
        "/admin/loggers/org.other?scope=galaxy",
        json!({"level": "ERROR"}),
    )
    .await;
    assert_eq!(unknown_scope.status, 200, "{}", unknown_scope.text);
    server.stop().await;
}

#[tokio::test]
async fn herder_errors_map_to_kafka_status_codes() {
    let server = TestServer::start().await;
    let cases = [
        (HerderError::Rebalancing, 409),
        (HerderError::Conflict("busy".into()), 409),
        (HerderError::Disabled("no".into()), 403),
        (HerderError::Forbidden("signed wrong".into()), 403),
        (HerderError::Invalid("bad".into()), 400),
        (HerderError::TimedOut("Request timed out".into()), 500),
        (HerderError::Unsupported("not here".into()), 500),
        (HerderError::Internal("broken".into()), 500),
    ];
    for (error, status) in cases {
        *server.herder.fail_lookups.lock().unwrap() = Some(error.clone());
        let message = server.get("/connectors/c").await.assert_error(status);
        assert_eq!(message, error.to_string());
    }
    let message = {
        *server.herder.fail_lookups.lock().unwrap() = Some(HerderError::Rebalancing);
        server.get("/connectors/c/status").await.assert_error(409)
    };
    assert_eq!(
        message,
        "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
    );
    server.stop().await;
}

#[tokio::test]
async fn slow_herder_calls_time_out_with_500() {
    let config = RestConfig {
        request_timeout: Duration::from_millis(200),
        ..support::test_config()
    };
    let server = TestServer::start_with(config).await;
    *server.herder.slow_listing.lock().unwrap() = Some(Duration::from_secs(120));
    assert_eq!(
        server.get("/connectors").await.assert_error(500),
        "Request timed out"
    );
    *server.herder.slow_listing.lock().unwrap() = None;
    assert_eq!(server.get("/connectors").await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn several_listeners_all_serve_and_stop_closes_them() {
    let config = RestConfig {
        listeners: vec!["http://127.0.0.1:0".into(), "http://localhost:0/".into()],
        ..support::test_config()
    };
    let server = TestServer::start_with(config).await;
    let addrs = server.server.local_addrs().to_vec();
    assert_eq!(addrs.len(), 2);
    assert_ne!(addrs[0].port(), 0);
    assert_ne!(addrs[0], addrs[1]);
    assert_eq!(
        server.server.advertised_url(),
        format!("http://127.0.0.1:{}", addrs[0].port())
    );
    for addr in &addrs {
        let reply = server
            .client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
    server.stop().await;
    for addr in &addrs {
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "{addr} still open"
        );
    }
}

#[tokio::test]
async fn start_refuses_bad_listeners() {
    let start = |listeners: Vec<String>| {
        RestServer::start(
            RestConfig {
                listeners,
                ..support::test_config()
            },
            Arc::new(MapHerder::default()),
            Arc::new(MapLogs::default()),
        )
    };
    assert!(matches!(start(vec![]).await, Err(RestError::NoListeners)));
    assert!(matches!(
        start(vec!["ftp://127.0.0.1:0".into()]).await,
        Err(RestError::UnsupportedScheme { .. })
    ));
    // An https listener without a certificate is refused, never served in clear text.
    assert!(matches!(
        start(vec!["https://127.0.0.1:0".into()]).await,
        Err(RestError::MissingTls { .. })
    ));
    assert!(matches!(
        start(vec!["127.0.0.1:8083".into()]).await,
        Err(RestError::InvalidListener { .. })
    ));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    match start(vec![format!("http://127.0.0.1:{port}")]).await {
        Err(RestError::Bind { address, .. }) => assert_eq!(address.port(), port),
        Err(other) => panic!("expected a bind error, got {other}"),
        Ok(_) => panic!("bound a port that is taken"),
    }
}
