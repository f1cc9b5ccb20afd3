//! REST benchmark (issue #4): `cargo bench -p kconnect-tests --bench rest`.
//!
//! Measures the release build of `kconnect` on the embedded broker, over loopback:
//! 1. startup: 20 plugin libraries on `plugin.path` (copies of the file plugin under 20 names,
//!    one subfolder each), no connectors; the time from spawning the process to the first 200
//!    from `GET /`, polled every millisecond with a raw HTTP/1.1 request. Target ≤ 100 ms.
//! 2. latency: 100 FileStreamSource connectors created through REST, then a closed-loop load of
//!    keep-alive connections on `GET /` (the baseline) and on `GET /connectors?expand=status`
//!    for a bounded time; p50/p99/max and requests/s. Target p99 ≤ 5 ms.
//!
//! The load comes from `wrk` when it is installed, otherwise from the built-in client below
//! (one thread per connection, every latency recorded). Timings are printed, never asserted
//! (machines are noisy); what is asserted is that every answer was a 200.
//!
//! Knobs (environment): `KCONNECT_BENCH_SECONDS` (load per endpoint, default 10),
//! `KCONNECT_BENCH_CONNECTIONS` (default 4), `KCONNECT_BENCH_LOADGEN` (`wrk` or `builtin`;
//! default `wrk` when on `PATH`), `KCONNECT_BENCH_STARTUP_RUNS` (default 10).

use kconnect_tests::{
    build_release, free_port, peak_rss_kib, rss_kib, standalone_worker_from, wait_until,
    worker_pid, write_file, Worker,
};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const PLUGIN_COPIES: usize = 20;
const CONNECTORS: usize = 100;
const STARTUP_TARGET: Duration = Duration::from_millis(100);
const P99_TARGET: Duration = Duration::from_millis(5);
const STATUS_PATH: &str = "/connectors?expand=status";

fn main() {
    let built = build_release();
    println!(
        "kconnect REST benchmark (release build: {})",
        built.kconnect.display()
    );
    startup(&built.kconnect, &built.file_plugin);
    latency(&built.kconnect, &built.file_plugin);
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a whole number")),
        Err(_) => default,
    }
}

/// A worker config on the embedded broker; offsets in `dir`.
fn worker_config(dir: &Path, plugin_path: &[PathBuf], rest_port: u16) -> PathBuf {
    let plugin_path: Vec<String> = plugin_path
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    write_file(
        dir,
        "worker.properties",
        &format!(
            "bootstrap.servers=embedded\nkey.converter=org.apache.kafka.connect.storage.StringConverter\nvalue.converter=org.apache.kafka.connect.storage.StringConverter\noffset.storage.file.filename={}\nplugin.path={}\nlisteners=http://127.0.0.1:{rest_port}\n",
            dir.join("connect.offsets").display(),
            plugin_path.join(","),
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Startup
// ---------------------------------------------------------------------------------------------

fn startup(kconnect: &Path, file_plugin: &Path) {
    let runs = env_number("KCONNECT_BENCH_STARTUP_RUNS", 10).max(1) as usize;
    let dir = tempfile::tempdir().expect("temp dir");
    let plugins = dir.path().join("plugins");
    for copy in 0..PLUGIN_COPIES {
        let folder = plugins.join(format!("file-plugin-{copy:02}"));
        std::fs::create_dir_all(&folder).expect("plugin folder");
        std::fs::copy(
            file_plugin,
            folder.join(format!("libkconnect_file_plugin_{copy:02}.so")),
        )
        .expect("copy the plugin");
    }

    let mut times = Vec::with_capacity(runs);
    let mut ready_times = Vec::with_capacity(runs);
    for run in 0..runs {
        let run_dir = dir.path().join(format!("run-{run}"));
        std::fs::create_dir_all(&run_dir).expect("run dir");
        let port = free_port();
        let config = worker_config(&run_dir, std::slice::from_ref(&plugins), port);
        let spawned = Instant::now();
        let mut worker = standalone_worker_from(kconnect, &run_dir, &config, &[], port);
        let deadline = spawned + Duration::from_secs(30);
        let elapsed = loop {
            if get_once(port, "/").map(|(status, _)| status) == Some(200) {
                break spawned.elapsed();
            }
            if let Some(status) = worker.try_exit() {
                panic!(
                    "worker exited with {status} during startup:\n{}",
                    worker.logs()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no 200 from GET / within 30 s:\n{}",
                worker.logs()
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        // Ready: every plugin loaded (GET /health turns 200), as systemd's READY=1.
        let ready = loop {
            if get_once(port, "/health").map(|(status, _)| status) == Some(200) {
                break spawned.elapsed();
            }
            assert!(
                Instant::now() < deadline,
                "not ready within 30 s:\n{}",
                worker.logs()
            );
            std::thread::sleep(Duration::from_millis(1));
        };
        if run == 0 {
            check_plugins_loaded(&worker);
        }
        times.push(elapsed);
        ready_times.push(ready);
    }
    ready_times.sort();
    times.sort();
    let median = times[times.len() / 2];
    let max = times[times.len() - 1];
    println!(
        "\nstartup, {PLUGIN_COPIES} plugin libraries, no connectors: spawn → first 200 from GET / over {runs} runs"
    );
    println!(
        "  min {}  median {}  max {}  (target ≤ {}: {})",
        ms(times[0]),
        ms(median),
        ms(max),
        ms(STARTUP_TARGET),
        verdict(median <= STARTUP_TARGET && max <= STARTUP_TARGET)
    );
    println!(
        "  ready (GET /health 200, all {PLUGIN_COPIES} libraries loaded): min {}  median {}  max {}",
        ms(ready_times[0]),
        ms(ready_times[ready_times.len() / 2]),
        ms(ready_times[ready_times.len() - 1]),
    );
}

/// Every copy is loaded: each library contributes its connector classes again.
fn check_plugins_loaded(worker: &Worker) {
    let (status, body) = get_once(worker.rest_port, "/connector-plugins?connectorsOnly=false")
        .expect("GET /connector-plugins answers");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let plugins: Vec<Value> = serde_json::from_slice(&body).expect("a JSON list of plugins");
    let file_sources = plugins
        .iter()
        .filter(|p| {
            p["class"]
                .as_str()
                .is_some_and(|class| class.ends_with("FileStreamSourceConnector"))
        })
        .count();
    println!(
        "  (plugin listing: {} entries, FileStreamSourceConnector {file_sources} times)",
        plugins.len()
    );
    assert!(
        file_sources >= PLUGIN_COPIES,
        "expected the {PLUGIN_COPIES} copies of the file plugin to be listed:\n{}",
        worker.logs()
    );
}

// ---------------------------------------------------------------------------------------------
// Latency under load
// ---------------------------------------------------------------------------------------------

fn latency(kconnect: &Path, file_plugin: &Path) {
    let seconds = env_number("KCONNECT_BENCH_SECONDS", 10).max(1);
    let connections = env_number("KCONNECT_BENCH_CONNECTIONS", 4).max(1) as usize;
    let loader = LoadGenerator::choose();

    let dir = tempfile::tempdir().expect("temp dir");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    std::fs::copy(file_plugin, plugins.join("libkconnect_file_plugin.so")).expect("copy");
    let port = free_port();
    let config = worker_config(dir.path(), &[plugins], port);
    let mut worker = standalone_worker_from(kconnect, dir.path(), &config, &[], port);
    worker.wait_ready();

    let created = Instant::now();
    for index in 0..CONNECTORS {
        let name = format!("bench-source-{index:03}");
        let file = write_file(
            dir.path(),
            &format!("{name}.txt"),
            &format!("{name} line 1\n{name} line 2\n{name} line 3\n"),
        );
        let body = json!({
            "name": name,
            "config": {
                "connector.class": "FileStreamSource",
                "tasks.max": "1",
                "file": file.display().to_string(),
                "topic": format!("bench-topic-{index:03}"),
            }
        });
        let response = ureq::post(&worker.url("/connectors"))
            .timeout(Duration::from_secs(30))
            .send_json(body);
        match response {
            Ok(r) if r.status() == 201 => {}
            Ok(r) => panic!("POST /connectors {name}: {}", r.status()),
            Err(e) => panic!("POST /connectors {name}: {e}\n{}", worker.logs()),
        }
    }
    let creation = created.elapsed();
    wait_until(
        Duration::from_secs(60),
        "every connector and task RUNNING",
        || all_running(&worker),
    );
    let body_bytes = get_once(port, STATUS_PATH).map_or(0, |(_, body)| body.len());
    println!(
        "\nlatency: {CONNECTORS} FileStreamSource connectors (created through REST in {}, {} per POST); {connections} keep-alive connections, {seconds} s per endpoint, load from {}",
        ms(creation),
        ms(creation / CONNECTORS as u32),
        loader.name()
    );

    for (label, path) in [
        ("GET /", "/"),
        ("GET /connectors?expand=status", STATUS_PATH),
    ] {
        warm_up(port, path);
        let result = loader.run(port, path, connections, Duration::from_secs(seconds));
        assert_eq!(
            result.failures, 0,
            "{label}: {} answers were not 200",
            result.failures
        );
        println!(
            "  {label:<32} p50 {}  p99 {}  max {}  {:.0} req/s  ({} requests{})",
            ms(result.p50),
            ms(result.p99),
            ms(result.max),
            result.requests_per_second,
            result.requests,
            if path == STATUS_PATH {
                format!(
                    ", {body_bytes} B body; target p99 ≤ {}: {}",
                    ms(P99_TARGET),
                    verdict(result.p99 <= P99_TARGET)
                )
            } else {
                String::new()
            }
        );
    }
    assert!(all_running(&worker), "connectors left RUNNING under load");
    if let Some(pid) = worker_pid(&worker) {
        println!(
            "  worker memory after the run: RSS {} MiB, peak {} MiB",
            mib(rss_kib(pid)),
            mib(peak_rss_kib(pid))
        );
    }
}

fn all_running(worker: &Worker) -> bool {
    let Some((200, body)) = get_once(worker.rest_port, STATUS_PATH) else {
        return false;
    };
    let Ok(Value::Object(statuses)) = serde_json::from_slice::<Value>(&body) else {
        return false;
    };
    statuses.len() == CONNECTORS
        && statuses.values().all(|entry| {
            let status = &entry["status"];
            status["connector"]["state"] == "RUNNING"
                && status["tasks"].as_array().is_some_and(|tasks| {
                    !tasks.is_empty() && tasks.iter().all(|t| t["state"] == "RUNNING")
                })
        })
}

/// A few sequential requests so that both sides have their buffers and code paths warm.
fn warm_up(port: u16, path: &str) {
    let mut connection = Connection::open(port).expect("connect for the warm-up");
    for _ in 0..200 {
        let status = connection.get(path).expect("warm-up request");
        assert_eq!(status, 200, "warm-up GET {path}");
    }
}

struct LoadResult {
    requests: u64,
    failures: u64,
    requests_per_second: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

enum LoadGenerator {
    Wrk,
    Builtin,
}

impl LoadGenerator {
    fn choose() -> LoadGenerator {
        let wrk_installed = Command::new("wrk").arg("--version").output().is_ok();
        match std::env::var("KCONNECT_BENCH_LOADGEN").as_deref() {
            Ok("builtin") => LoadGenerator::Builtin,
            Ok("wrk") if !wrk_installed => {
                panic!("KCONNECT_BENCH_LOADGEN=wrk but wrk is not on PATH")
            }
            Ok("wrk") => LoadGenerator::Wrk,
            Ok(other) => panic!("KCONNECT_BENCH_LOADGEN={other:?}: expected wrk or builtin"),
            Err(_) if wrk_installed => LoadGenerator::Wrk,
            Err(_) => LoadGenerator::Builtin,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            LoadGenerator::Wrk => "wrk",
            LoadGenerator::Builtin => "the built-in closed-loop client",
        }
    }

    fn run(&self, port: u16, path: &str, connections: usize, duration: Duration) -> LoadResult {
        match self {
            LoadGenerator::Wrk => run_wrk(port, path, connections, duration),
            LoadGenerator::Builtin => run_builtin(port, path, connections, duration),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// wrk
// ---------------------------------------------------------------------------------------------

fn run_wrk(port: u16, path: &str, connections: usize, duration: Duration) -> LoadResult {
    let threads = connections.min(2);
    let output = Command::new("wrk")
        .arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs()))
        .arg("--latency")
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "wrk failed:\n{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_wrk(&text).unwrap_or_else(|| panic!("cannot read wrk's report:\n{text}"))
}

/// Reads wrk's `--latency` report: the percentile lines, `Latency avg stdev max`, the request
/// count, non-2xx answers, socket errors and `Requests/sec`.
fn parse_wrk(report: &str) -> Option<LoadResult> {
    let mut p50 = None;
    let mut p99 = None;
    let mut max = None;
    let mut requests = None;
    let mut failures = 0;
    let mut requests_per_second = None;
    for line in report.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", value] => p50 = parse_wrk_duration(value),
            ["99%", value] => p99 = parse_wrk_duration(value),
            ["Latency", _avg, _stdev, value, ..] => max = parse_wrk_duration(value),
            [count, "requests", "in", ..] => requests = count.parse().ok(),
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                failures += count.parse::<u64>().ok()?
            }
            ["Socket", "errors:", rest @ ..] => {
                // "connect 0, read 0, write 0, timeout 0"
                failures += rest
                    .iter()
                    .filter_map(|word| word.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            ["Requests/sec:", value] => requests_per_second = value.parse().ok(),
            _ => {}
        }
    }
    Some(LoadResult {
        requests: requests?,
        failures,
        requests_per_second: requests_per_second?,
        p50: p50?,
        p99: p99?,
        max: max?,
    })
}

/// wrk's durations: `812.00us`, `1.23ms`, `2.00s`, `1.00m`.
fn parse_wrk_duration(text: &str) -> Option<Duration> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

// ---------------------------------------------------------------------------------------------
// The built-in client and its raw HTTP/1.1
// ---------------------------------------------------------------------------------------------

fn run_builtin(port: u16, path: &str, connections: usize, duration: Duration) -> LoadResult {
    let start = Arc::new(Barrier::new(connections + 1));
    let clients: Vec<_> = (0..connections)
        .map(|_| {
            let start = start.clone();
            let path = path.to_string();
            std::thread::spawn(move || {
                let mut connection = Connection::open(port).expect("connect");
                let mut latencies = Vec::with_capacity(1 << 16);
                let mut failures = 0u64;
                start.wait();
                let deadline = Instant::now() + duration;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match connection.get(&path) {
                        Ok(200) => latencies.push(sent.elapsed()),
                        Ok(_) => failures += 1,
                        Err(_) => {
                            failures += 1;
                            connection = Connection::open(port).expect("reconnect");
                        }
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    start.wait();
    let began = Instant::now();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for client in clients {
        let (mine, failed) = client.join().expect("client thread");
        latencies.extend(mine);
        failures += failed;
    }
    let elapsed = began.elapsed();
    latencies.sort();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    LoadResult {
        requests: latencies.len() as u64 + failures,
        failures,
        requests_per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: percentile(0.50),
        p99: percentile(0.99),
        max: latencies.last().copied().unwrap_or_default(),
    }
}

/// A keep-alive HTTP/1.1 connection that reads answers framed by `Content-Length`.
struct Connection {
    reader: BufReader<TcpStream>,
    body: Vec<u8>,
}

impl Connection {
    fn open(port: u16) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Connection {
            reader: BufReader::with_capacity(64 * 1024, stream),
            body: Vec::new(),
        })
    }

    /// Sends `GET path` and reads the whole answer; returns its status.
    fn get(&mut self, path: &str) -> std::io::Result<u16> {
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        self.reader.get_mut().write_all(request.as_bytes())?;
        let (status, length) = read_head(&mut self.reader)?;
        self.body.resize(length, 0);
        self.reader.read_exact(&mut self.body)?;
        Ok(status)
    }
}

fn invalid(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

/// Reads a status line and headers; returns the status and the `Content-Length`.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<(u16, usize)> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid(format!("not an HTTP status line: {line:?}")))?;
    let mut length = None;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("connection closed inside the headers".into()));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(invalid(format!("unsupported framing: {header}")));
            }
        }
    }
    Ok((status, length.unwrap_or(0)))
}

/// One `GET` on a fresh connection; `None` while nothing listens (or on any I/O failure).
fn get_once(port: u16, path: &str) -> Option<(u16, Vec<u8>)> {
    let mut connection = Connection::open(port).ok()?;
    let status = connection.get(path).ok()?;
    Some((status, connection.body))
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "?".to_string(),
        |kib| format!("{:.1}", kib as f64 / 1024.0),
    )
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}
