//! kconnect's REST API against Apache Kafka Connect's, differentially: the requests of
//! `tests/rest-corpus/requests.json` are sent in the same order to a Java standalone worker and
//! to a kconnect standalone worker, each with its own folder, offsets and connectors on one
//! Apache Kafka broker, and every answer is compared: status code, `Location` and
//! `Content-Type`, and the JSON body after [`normalise`].
//!
//! Invariants:
//! - the corpus is data: each request names what it compares, and waits (a state both workers
//!   must reach first) are part of it, so the two workers see the same sequence of states;
//! - what differs between the sides by construction is written `${s}` (a side token in
//!   connector and topic names, so both sides never share a consumer group or topic) and
//!   `${dir}` (each side's folder) in the corpus, and turned back into these placeholders in
//!   the answers before comparing;
//! - every remaining difference must be listed in `tests/rest-corpus/INTENDED_DIFFERENCES.md`
//!   (request id and JSON pointer, with the reason); the test fails on any difference not
//!   listed, and on a listed one that no longer occurs, so the list stays true.
//!
//! Run with `--nocapture` for the counts.

use kconnect_tests::*;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The side token of each worker, substituted for `${s}` in the corpus.
const JAVA_SIDE: &str = "sidejava";
const KCONNECT_SIDE: &str = "siderust";
/// How long a `wait` of the corpus may take.
const WAIT_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines in each side's input file before the first request.
const INPUT_LINES: usize = 5;

fn corpus_dir() -> PathBuf {
    workspace_root().join("tests/rest-corpus")
}

/// One worker under test, as the corpus sees it.
struct Side {
    name: &'static str,
    token: &'static str,
    dir: PathBuf,
    base_url: String,
}

impl Side {
    /// `${s}` and `${dir}` replaced by this side's values.
    fn substitute(&self, text: &str) -> String {
        text.replace("${dir}", &self.dir.display().to_string())
            .replace("${s}", self.token)
    }

    fn substitute_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.substitute(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.substitute_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.substitute(k), self.substitute_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// This side's values turned back into `${dir}` and `${s}`, and the worker's address into
    /// `<host>`.
    fn unsubstitute(&self, text: &str) -> String {
        let host = self
            .base_url
            .trim_start_matches("http://")
            .trim_end_matches('/');
        text.replace(&self.dir.display().to_string(), "${dir}")
            .replace(self.token, "${s}")
            .replace(host, "<host>")
    }
}

/// One answer, as compared.
#[derive(Debug)]
struct Answer {
    status: u16,
    location: Option<String>,
    content_type: Option<String>,
    body: Value,
}

/// Sends one request of the corpus (`method`, `path`, and `json` or `raw` + `content_type`).
fn send(side: &Side, step: &Value) -> Answer {
    let method = step["method"].as_str().expect("method");
    let path = side.substitute(step["path"].as_str().expect("path"));
    let url = format!("{}{}", side.base_url, path);
    let mut request = ureq::request(method, &url).timeout(Duration::from_secs(60));
    let response = if let Some(body) = step.get("json") {
        let text = serde_json::to_string(&side.substitute_json(body)).expect("json");
        request = request.set("Content-Type", "application/json");
        request.send_string(&text)
    } else if let Some(raw) = step.get("raw") {
        if let Some(content_type) = step.get("content_type").and_then(Value::as_str) {
            request = request.set("Content-Type", content_type);
        }
        request.send_string(&side.substitute(raw.as_str().expect("raw is a string")))
    } else {
        request.call()
    };
    let response = match response {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{} {method} {url}: {e}", side.name),
    };
    let status = response.status();
    let location = response.header("Location").map(|l| side.unsubstitute(l));
    let content_type = response.header("Content-Type").map(str::to_string);
    let text = response.into_string().unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer {
        status,
        location,
        content_type,
        body: normalise(side, body),
    }
}

/// Values that differ between any two workers by nature: worker ids (host:port), stack traces,
/// build versions and commit ids, and the side's own names and paths.
fn normalise(side: &Side, value: Value) -> Value {
    fn walk(side: &Side, key: Option<&str>, value: Value) -> Value {
        match (key, value) {
            (Some("worker_id"), Value::String(_)) => Value::String("<worker>".into()),
            (Some("trace"), Value::String(_)) => Value::String("<trace>".into()),
            (Some("last_modified"), Value::Number(_)) => Value::String("<time>".into()),
            (Some("commit"), Value::String(_)) => Value::String("<commit>".into()),
            (_, Value::String(s)) => Value::String(side.unsubstitute(&s)),
            (_, Value::Array(items)) => {
                Value::Array(items.into_iter().map(|v| walk(side, None, v)).collect())
            }
            (_, Value::Object(map)) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = walk(side, Some(&k), v);
                        (side.unsubstitute(&k), v)
                    })
                    .collect(),
            ),
            (_, other) => other,
        }
    }
    walk(side, None, value)
}

/// Arrays sorted by their JSON text, at every level (for answers whose order is unspecified).
fn sort_arrays(value: Value) -> Value {
    match value {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(sort_arrays).collect();
            items.sort_by_key(|v| v.to_string());
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, sort_arrays(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

/// Removes the values at `pointers` (not compared by this request).
fn drop_pointers(value: &mut Value, pointers: &[String]) {
    for pointer in pointers {
        let (parent, last) = match pointer.rfind('/') {
            Some(i) => (&pointer[..i], &pointer[i + 1..]),
            None => continue,
        };
        if last == "*" {
            // `/a/*/b` style: drop `b` under every element of `/a`.
            continue;
        }
        if let Some(Value::Object(map)) = value.pointer_mut(parent) {
            map.remove(last);
        }
    }
}

/// Every place where `java` and `rust` differ, as (JSON pointer, Java value, kconnect value).
fn diff(pointer: &str, java: &Value, rust: &Value, out: &mut Vec<(String, String, String)>) {
    match (java, rust) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let path = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff(&path, x, y, out),
                    (x, y) => out.push((path, show(x), show(y))),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if keyed(a).is_some() && keyed(b).is_some() => {
            // Config definitions and values: compared by key name, their order separately.
            let (a, b) = (keyed(a).unwrap_or_default(), keyed(b).unwrap_or_default());
            let order =
                |v: &[(String, &Value)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
            let (order_a, order_b) = (order(&a), order(&b));
            let names: BTreeSet<&String> = order_a.iter().chain(&order_b).collect();
            for name in names {
                let path = format!("{pointer}/name={name}");
                match (find_named(&a, name), find_named(&b, name)) {
                    (Some(x), Some(y)) => diff(&path, x, y, out),
                    (x, y) => out.push((path, show(x), show(y))),
                }
            }
            let common = |x: &[String], y: &[String]| {
                x.iter()
                    .filter(|n| y.contains(n))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            if common(&order_a, &order_b) != common(&order_b, &order_a) {
                out.push((
                    format!("{pointer}#order"),
                    format!("{order_a:?}"),
                    format!("{order_b:?}"),
                ));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff(&format!("{pointer}/{i}"), x, y, out);
            }
        }
        (a, b) if a != b => out.push((pointer.to_string(), show(Some(a)), show(Some(b)))),
        _ => {}
    }
}

/// The elements of an array of config keys or values by name (`name` or `definition.name`),
/// when every element has one.
fn keyed(items: &[Value]) -> Option<Vec<(String, &Value)>> {
    if items.is_empty() {
        return None;
    }
    items
        .iter()
        .map(|item| {
            item.get("name")
                .or_else(|| item.pointer("/definition/name"))
                .and_then(Value::as_str)
                .filter(|_| item.get("class").is_none())
                .map(|name| (name.to_string(), item))
        })
        .collect()
}

fn find_named<'a>(items: &[(String, &'a Value)], name: &str) -> Option<&'a Value> {
    items.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
}

fn show(value: Option<&Value>) -> String {
    match value {
        None => "<absent>".into(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 300 {
                format!("{}…", text.chars().take(300).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// One row of INTENDED_DIFFERENCES.md: a request id and a place (`status`, `location`,
/// `content-type`, `wait:<worker>` or a JSON pointer into the body), each a pattern where `*`
/// stands for any run of characters.
struct Intended {
    request: String,
    pointer: String,
    used: bool,
}

impl Intended {
    fn covers(&self, request: &str, pointer: &str) -> bool {
        glob(&self.request, request) && glob(&self.pointer, pointer)
    }
}

/// `pattern` matches all of `text`, `*` standing for any run of characters (`/` included).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // matches[j]: p[..i] matches t[..j], row by row over i.
    let mut matches = vec![false; t.len() + 1];
    matches[0] = true;
    for &c in &p {
        let mut next = vec![false; t.len() + 1];
        if c == '*' {
            let mut seen = false;
            for j in 0..=t.len() {
                seen |= matches[j];
                next[j] = seen;
            }
        } else {
            for j in 1..=t.len() {
                next[j] = matches[j - 1] && t[j - 1] == c;
            }
        }
        matches = next;
    }
    matches[t.len()]
}

/// The rows of the table in INTENDED_DIFFERENCES.md whose first cell is a request id in
/// backticks: `| \`id\` | \`pointer\` | reason |`.
fn intended_differences(text: &str) -> Vec<Intended> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').collect();
            if cells.len() < 3 {
                return None;
            }
            let cell = |i: usize| {
                let c = cells[i].trim();
                (c.len() >= 2 && c.starts_with('`') && c.ends_with('`'))
                    .then(|| c[1..c.len() - 1].to_string())
            };
            let reason = cells[2].trim();
            assert!(
                !reason.is_empty() || cell(0).is_none(),
                "INTENDED_DIFFERENCES.md: {line} has no reason"
            );
            Some(Intended {
                request: cell(0)?,
                pointer: cell(1)?,
                used: false,
            })
        })
        .collect()
}

/// Polls `wait.path` on `side` until its status is `wait.status` (when given) and the value at
/// `wait.pointer` equals `wait.equals` or one of `wait.one_of` (when given); the last answer
/// when it never does. `one_of` lets a step wait for a settled state the two workers are
/// listed as reaching differently.
fn wait_for(side: &Side, wait: &Value) -> Result<(), Option<Answer>> {
    let probe = json!({"method": "GET", "path": wait["path"]});
    let deadline = Instant::now() + WAIT_TIMEOUT;
    let mut last = None;
    while Instant::now() < deadline {
        let answer = send(side, &probe);
        let status_ok = match wait.get("status").and_then(Value::as_u64) {
            Some(expected) => u64::from(answer.status) == expected,
            None => true,
        };
        let value_ok = match wait.get("pointer").and_then(Value::as_str) {
            Some(pointer) => {
                let accepted = match wait.get("one_of").and_then(Value::as_array) {
                    Some(values) => values.clone(),
                    None => vec![wait["equals"].clone()],
                };
                let found = answer.body.pointer(pointer);
                accepted
                    .into_iter()
                    .map(|value| normalise(side, side.substitute_json(&value)))
                    .any(|expected| found == Some(&expected))
            }
            None => true,
        };
        if status_ok && value_ok {
            return Ok(());
        }
        last = Some(answer);
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(last)
}

/// The differences of one answer pair, after the request's `sort`/`ignore` options.
fn compare(step: &Value, java: &Answer, rust: &Answer) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    if java.status != rust.status {
        found.push((
            "status".into(),
            java.status.to_string(),
            rust.status.to_string(),
        ));
    }
    if java.location != rust.location {
        found.push((
            "location".into(),
            format!("{:?}", java.location),
            format!("{:?}", rust.location),
        ));
    }
    let media = |a: &Answer| {
        a.content_type.as_deref().map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    };
    // A body-less answer has no media type to compare.
    if java.body != Value::Null && media(java) != media(rust) {
        found.push((
            "content-type".into(),
            format!("{:?}", java.content_type),
            format!("{:?}", rust.content_type),
        ));
    }
    let ignore: Vec<String> = step
        .get("ignore")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let prepare = |body: &Value| {
        let mut body = body.clone();
        if step.get("sort").and_then(Value::as_bool) == Some(true) {
            body = sort_arrays(body);
        }
        drop_pointers(&mut body, &ignore);
        body
    };
    match step
        .get("compare")
        .and_then(Value::as_str)
        .unwrap_or("body")
    {
        "status" => {}
        "shape" => diff(
            "",
            &shape(&prepare(&java.body)),
            &shape(&prepare(&rust.body)),
            &mut found,
        ),
        _ => diff("", &prepare(&java.body), &prepare(&rust.body), &mut found),
    }
    found
}

/// A value with its scalars replaced by their JSON type: for answers whose values depend on
/// timing but whose structure must match.
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
    }
}

#[test]
fn kconnect_answers_the_rest_corpus_as_apache_kafka_connect_does() {
    let corpus: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus_dir().join("requests.json")).expect("corpus"),
    )
    .expect("requests.json is JSON");
    let steps = corpus["requests"].as_array().expect("requests").clone();
    let mut intended = intended_differences(
        &std::fs::read_to_string(corpus_dir().join("INTENDED_DIFFERENCES.md")).expect("list"),
    );

    let root = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let java_dir = root.path().join(JAVA_SIDE);
    let rust_dir = root.path().join(KCONNECT_SIDE);
    for dir in [&java_dir, &rust_dir] {
        std::fs::create_dir_all(dir).unwrap();
        append_lines(
            &dir.join("in.txt"),
            &(0..INPUT_LINES)
                .map(|i| format!("line {i}"))
                .collect::<Vec<_>>(),
        );
    }
    let rest_port = free_port();
    let worker_file = file_plugin_worker_properties(&rust_dir, &broker.bootstrap(), rest_port);
    let mut worker = Worker::standalone(&rust_dir, &worker_file, &[], rest_port);
    let java = JavaConnect::standalone(&java_dir, &broker.bootstrap(), "", &[]);
    worker.wait_ready();

    let java_side = Side {
        name: "Apache Kafka Connect",
        token: JAVA_SIDE,
        dir: java_dir.clone(),
        base_url: java.url(""),
    };
    let rust_side = Side {
        name: "kconnect",
        token: KCONNECT_SIDE,
        dir: rust_dir.clone(),
        base_url: worker.url(""),
    };

    let mut identical = 0;
    let mut listed_requests = 0;
    let mut unlisted = Vec::new();
    for step in &steps {
        let id = step["id"].as_str().expect("id");
        if let Some(lines) = step.get("append_lines").and_then(Value::as_array) {
            for side in [&java_side, &rust_side] {
                append_lines(
                    &side.dir.join("in.txt"),
                    &lines
                        .iter()
                        .map(|l| l.as_str().unwrap().to_string())
                        .collect::<Vec<_>>(),
                );
            }
        }
        let mut wait_failures = Vec::new();
        if let Some(wait) = step.get("wait") {
            for side in [&java_side, &rust_side] {
                if let Err(last) = wait_for(side, wait) {
                    wait_failures.push((side.name, last));
                }
            }
        }
        let java_answer = send(&java_side, step);
        let rust_answer = send(&rust_side, step);
        if let Some(dump) = std::env::var_os("KCONNECT_REST_DIFF_DUMP") {
            // For whoever investigates a difference: both answers in full.
            let as_json = |a: &Answer| json!({"status": a.status, "location": a.location, "content_type": a.content_type, "body": a.body});
            let text = serde_json::to_string_pretty(
                &json!({"java": as_json(&java_answer), "kconnect": as_json(&rust_answer)}),
            )
            .unwrap_or_default();
            let _ = std::fs::create_dir_all(&dump);
            let _ = std::fs::write(Path::new(&dump).join(format!("{id}.txt")), text);
        }
        let mut differences = compare(step, &java_answer, &rust_answer);
        for (who, last) in wait_failures {
            differences.push((
                format!("wait:{who}"),
                step["wait"].to_string(),
                format!("never reached within {WAIT_TIMEOUT:?}; last answer {last:?}"),
            ));
        }
        if differences.is_empty() {
            identical += 1;
            continue;
        }
        let mut all_listed = true;
        for (pointer, java_value, rust_value) in differences {
            match intended.iter_mut().find(|i| i.covers(id, &pointer)) {
                Some(entry) => entry.used = true,
                None => {
                    all_listed = false;
                    unlisted.push(format!(
                        "{id} {} {}: {pointer}\n    Java:     {java_value}\n    kconnect: {rust_value}",
                        step["method"].as_str().unwrap_or(""),
                        step["path"].as_str().unwrap_or("")
                    ));
                }
            }
        }
        if all_listed {
            listed_requests += 1;
        }
    }
    let stale: Vec<String> = intended
        .iter()
        .filter(|i| !i.used)
        .map(|i| format!("{} {}", i.request, i.pointer))
        .collect();
    eprintln!(
        "{} requests: {identical} identical, {listed_requests} differing only as listed in INTENDED_DIFFERENCES.md, {} with unlisted differences",
        steps.len(),
        steps.len() - identical - listed_requests
    );
    assert!(
        unlisted.is_empty(),
        "{} differences not listed in tests/rest-corpus/INTENDED_DIFFERENCES.md:\n{}\nkconnect log tail:\n{}",
        unlisted.len(),
        unlisted.join("\n"),
        worker.logs().lines().rev().take(30).collect::<Vec<_>>().join("\n")
    );
    assert!(
        stale.is_empty(),
        "listed in INTENDED_DIFFERENCES.md but no longer different: {stale:?}"
    );
}
