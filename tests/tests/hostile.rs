//! Hostile input against a running worker: connector configs that try to escape, names that are
//! not names, oversized and deeply nested bodies. The worker answers each with a 4xx and keeps going.

use kconnect_tests::*;
use serde_json::{json, Value};
use std::process::{Child, Command};
use std::time::Duration;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn request(method: &str, url: &str, body: Option<&str>) -> (u16, Value) {
    let request = ureq::request(method, url)
        .timeout(Duration::from_secs(30))
        .set("Content-Type", "application/json");
    let response = match body {
        Some(b) => request.send_string(b),
        None => request.call(),
    };
    let response = match response {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    (
        status,
        serde_json::from_str(&response.into_string().unwrap_or_default()).unwrap_or(Value::Null),
    )
}

#[test]
fn hostile_configs_names_and_bodies_get_4xx_and_the_worker_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = dir.path().join("data");
    std::fs::create_dir(&allowed).unwrap();
    let rest_port = free_port();
    let worker_config = worker_properties(dir.path(), "embedded", rest_port, "");
    let _worker = Running(
        Command::new(&build().kconnect)
            .arg("standalone")
            .arg(&worker_config)
            .current_dir(dir.path())
            .env("KCONNECT_FILE_ALLOWED_DIRS", &allowed)
            .stderr(std::fs::File::create(dir.path().join("worker.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let url = |p: &str| format!("http://127.0.0.1:{rest_port}{p}");
    wait_until(
        Duration::from_secs(60),
        "the worker to be ready",
        || matches!(ureq::get(&url("/health")).call(), Ok(r) if r.status() == 200),
    );

    // A FileStreamSink may only write below the allowed folder, however the path is spelled.
    for escape in [
        "/etc/kconnect-test-escape".to_string(),
        format!("{}/../escape.txt", allowed.display()),
    ] {
        let body = json!({"name": "escape", "config": {"connector.class": "FileStreamSink", "topics": "t", "file": escape}});
        let (status, answer) = request("POST", &url("/connectors"), Some(&body.to_string()));
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("KCONNECT_FILE_ALLOWED_DIRS"),
            "{answer}"
        );
    }
    let inside = json!({"name": "inside", "config": {"connector.class": "FileStreamSink", "topics": "t", "file": allowed.join("out.txt")}});
    assert_eq!(
        request("POST", &url("/connectors"), Some(&inside.to_string())).0,
        201
    );

    // Names that cannot be a path segment are refused; odd paths are 404s, never 5xx.
    for name in ["a/b", "..", "bell\u{7}"] {
        let body =
            json!({"name": name, "config": {"connector.class": "FileStreamSink", "topics": "t"}});
        let (status, answer) = request("POST", &url("/connectors"), Some(&body.to_string()));
        assert_eq!(status, 400, "{name:?}: {answer}");
    }
    for path in [
        "/connectors/a%2Fb",
        "/connectors/..%2F..%2Fetc",
        "/connectors/%07/status",
    ] {
        let (status, answer) = request("GET", &url(path), None);
        assert!((400..500).contains(&status), "{path}: {status} {answer}");
    }

    // Bodies: too large, too deep, not JSON.
    let huge = format!(
        "{{\"name\":\"big\",\"config\":{{\"x\":\"{}\"}}}}",
        "a".repeat(2 * 1024 * 1024)
    );
    assert_eq!(request("POST", &url("/connectors"), Some(&huge)).0, 413);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(request("POST", &url("/connectors"), Some(&deep)).0, 400);
    assert_eq!(
        request("POST", &url("/connectors"), Some("{not json")).0,
        400
    );

    let (status, list) = request("GET", &url("/connectors"), None);
    assert_eq!(
        (status, list),
        (200, json!(["inside"])),
        "still serving, nothing else created"
    );
}
