//! Test harness for kconnect's end-to-end tests: builds the binary and plugins once, starts
//! Apache Kafka brokers and Apache Kafka Connect workers ([`apache_kafka`]) on free loopback
//! ports, runs kconnect workers as real processes and talks to them over HTTP. Everything a test
//! starts is stopped when its handle is dropped.

pub mod apache_kafka;
pub use apache_kafka::{
    all_topic_records, kafka_home, kafka_version, topic_records, Broker, JavaConnect, RawRecord,
};

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The cargo target dir (respects CARGO_TARGET_DIR).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Runs `cargo build -q <args…>` in the workspace; panics when it fails.
fn cargo_build(args: &[&str]) {
    let mut command = Command::new(env!("CARGO"));
    // The variables cargo sets for this test process would reach build scripts that watch them
    // (ring's watches CARGO_MANIFEST_DIR): each change rebuilds the binary's whole dependency
    // tree, once here and once more in the next outer `cargo build`.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
            ]
            .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    let status = command
        .current_dir(workspace_root())
        .args(["build", "-q"])
        .args(args)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build {} failed", args.join(" "));
}

/// Builds the `kconnect` binary and the plugins (debug) once per test process.
pub fn build() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        cargo_build(&[
            "-p",
            "kconnect",
            "-p",
            "kconnect-file-plugin",
            "-p",
            "kconnect-testing-plugin",
        ]);
        let debug = target_dir().join("debug");
        Built {
            kconnect: debug.join("kconnect"),
            file_plugin: debug.join("libkconnect_file_plugin.so"),
            testing_plugin: debug.join("libkconnect_testing_plugin.so"),
        }
    })
}

/// A standalone worker file for the differential tests: the converters and flush interval of
/// the Java worker's (`JavaConnect::standalone`), and only the file plugin on its plugin path.
pub fn file_plugin_worker_properties(dir: &Path, bootstrap: &str, rest_port: u16) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    let built = build();
    std::fs::copy(
        &built.file_plugin,
        plugins.join(built.file_plugin.file_name().expect("name")),
    )
    .expect("copy the file plugin");
    write_file(
        dir,
        "worker.properties",
        &format!(
            "bootstrap.servers={bootstrap}
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.storage.file.filename={}
offset.flush.interval.ms=1000
plugin.path={}
listeners=http://127.0.0.1:{rest_port}
",
            dir.join("connect.offsets").display(),
            plugins.display()
        ),
    )
}

/// Sends one record, waiting while the producer's queue is full (a test producing faster than
/// the broker takes); any other error panics.
pub fn send_waiting(
    producer: &rdkafka::producer::BaseProducer,
    mut record: rdkafka::producer::BaseRecord<'_, str, str>,
) {
    use rdkafka::error::{KafkaError, RDKafkaErrorCode};
    loop {
        match producer.send(record) {
            Ok(()) => break,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(50));
            }
            Err((e, _)) => panic!("produce: {e}"),
        }
    }
    producer.poll(Duration::ZERO);
}

/// Builds one plugin crate (debug) and returns its `.so`, e.g. `kconnect-postgres-plugin` →
/// `target/debug/libkconnect_postgres_plugin.so`. Cargo makes repeated calls cheap.
pub fn build_plugin(package: &str) -> PathBuf {
    cargo_build(&["-p", package]);
    target_dir()
        .join("debug")
        .join(format!("lib{}.so", package.replace('-', "_")))
}

pub struct Built {
    pub kconnect: PathBuf,
    pub file_plugin: PathBuf,
    pub testing_plugin: PathBuf,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Waits until `check` holds, or panics with `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// A kconnect worker process.
pub struct Worker {
    child: Option<Child>,
    pub rest_port: u16,
    pub log: PathBuf,
}

impl Worker {
    /// Starts `kconnect standalone <worker> <connectors…>` with logs to `log`.
    pub fn standalone(
        dir: &Path,
        worker_config: &Path,
        connectors: &[&Path],
        rest_port: u16,
    ) -> Worker {
        standalone_worker_from(&build().kconnect, dir, worker_config, connectors, rest_port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.rest_port, path)
    }

    /// Waits for `GET /health` to answer 200.
    pub fn wait_ready(&mut self) {
        let url = self.url("/health");
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.try_exit() {
                panic!(
                    "worker exited with {status} during startup:\n{}",
                    self.logs()
                );
            }
            if matches!(ureq::get(&url).timeout(Duration::from_secs(2)).call(), Ok(r) if r.status() == 200)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("worker not ready after 60s:\n{}", self.logs());
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Sends a signal (`libc::SIGTERM`, `libc::SIGKILL`…).
    pub fn signal(&self, signal: i32) {
        if let Some(child) = &self.child {
            // SAFETY: sending a signal to a child process this handle owns and has not reaped.
            unsafe {
                libc::kill(child.id() as i32, signal);
            }
        }
    }

    /// Waits for the process to end.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_exit() {
                return status;
            }
            if Instant::now() > deadline {
                panic!("worker did not exit within {timeout:?}:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Writes a file and returns its path.
pub fn write_file(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path
}

/// Appends lines to a file (as `echo >> file`).
pub fn append_lines(path: &Path, lines: &[String]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open");
    for line in lines {
        writeln!(f, "{line}").expect("append");
    }
}

/// The lines of a file (empty when missing).
pub fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `dir/plugins`, holding the file and testing plugins of the debug build.
fn test_plugin_path(dir: &Path) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    let built = build();
    for so in [&built.file_plugin, &built.testing_plugin] {
        let _ = std::fs::copy(so, plugins.join(so.file_name().expect("name")));
    }
    plugins
}

/// A standalone worker config for tests: plugins from the build, offsets in `dir`.
pub fn worker_properties(dir: &Path, bootstrap: &str, rest_port: u16, extra: &str) -> PathBuf {
    let plugins = test_plugin_path(dir);
    write_file(
        dir,
        "worker.properties",
        &format!(
            "bootstrap.servers={bootstrap}\nkey.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\nkey.converter.schemas.enable=true\nvalue.converter.schemas.enable=true\noffset.storage.file.filename={}\noffset.flush.interval.ms=1000\nplugin.path={}\nlisteners=http://127.0.0.1:{rest_port}\n{extra}\n",
            dir.join("connect.offsets").display(),
            plugins.display()
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Helpers of the pipeline benchmark (benches/pipeline.rs) and the late-topic tests
// (tests/late_topic.rs): a release build, workers started from any binary, process figures.
// ---------------------------------------------------------------------------------------------

/// The release `kconnect` binary and file plugin.
pub struct ReleaseBuild {
    pub kconnect: PathBuf,
    pub file_plugin: PathBuf,
    pub datagen_plugin: PathBuf,
}

/// Builds the `kconnect` binary, the file and datagen plugins in release once per process, for
/// benchmarks; tests keep using the debug [`build`].
pub fn build_release() -> &'static ReleaseBuild {
    static BUILT: OnceLock<ReleaseBuild> = OnceLock::new();
    BUILT.get_or_init(|| {
        cargo_build(&[
            "--release",
            "-p",
            "kconnect",
            "-p",
            "kconnect-file-plugin",
            "-p",
            "kconnect-datagen-plugin",
        ]);
        let release = target_dir().join("release");
        ReleaseBuild {
            kconnect: release.join("kconnect"),
            file_plugin: release.join("libkconnect_file_plugin.so"),
            datagen_plugin: release.join("libkconnect_datagen_plugin.so"),
        }
    })
}

/// Starts `<kconnect> standalone <worker> <connectors…>` like [`Worker::standalone`], but from
/// the given binary (a release build for benchmarks).
pub fn standalone_worker_from(
    kconnect: &Path,
    dir: &Path,
    worker_config: &Path,
    connectors: &[&Path],
    rest_port: u16,
) -> Worker {
    let mut args = vec![Path::new("standalone"), worker_config];
    args.extend_from_slice(connectors);
    spawn_worker(kconnect, dir, &args, rest_port)
}

/// Runs `<kconnect> <args…>` in `dir` with logs appended to `dir/worker-<port>-<test pid>.log`
/// (a worker restarted on the same port keeps one log).
fn spawn_worker(kconnect: &Path, dir: &Path, args: &[&Path], rest_port: u16) -> Worker {
    let log = dir.join(format!("worker-{rest_port}-{}.log", std::process::id()));
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .expect("log file");
    let child = Command::new(kconnect)
        .args(args)
        .current_dir(dir)
        .env("KCONNECT_LOG", "info")
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .spawn()
        .expect("kconnect starts");
    Worker {
        child: Some(child),
        rest_port,
        log,
    }
}

/// The process id of a worker that has not been reaped yet.
pub fn worker_pid(worker: &Worker) -> Option<u32> {
    worker.child.as_ref().map(Child::id)
}

/// The process id of a broker's first node.
pub fn broker_pid(broker: &Broker) -> u32 {
    broker.pid(0).expect("the broker runs")
}

/// Peak resident set size (`VmHWM`) of a live process, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPU time (user + system, all threads) a live process has used so far.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the line: indices 11 and 12 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

// ---------------------------------------------------------------------------------------------
// REST benchmark and API fuzzing (benches/rest.rs, tests/schemathesis.rs): current memory.
// ---------------------------------------------------------------------------------------------

/// Resident set size (`VmRSS`) of a live process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

// ---------------------------------------------------------------------------------------------
// Distributed mode (tests/distributed.rs): workers of one group sharing a broker, REST calls.
// ---------------------------------------------------------------------------------------------

impl Worker {
    /// Starts `kconnect distributed <worker>` with logs to `dir/worker-<port>-<test pid>.log`
    /// (appended to, so a worker restarted on the same port keeps one log).
    pub fn distributed(dir: &Path, worker_config: &Path, rest_port: u16) -> Worker {
        distributed_worker_from(&build().kconnect, dir, worker_config, rest_port)
    }

    /// The id statuses show for this worker: `host:port` of its advertised REST URL, as
    /// [`distributed_worker_properties`] advertises it.
    pub fn worker_id(&self) -> String {
        format!("127.0.0.1:{}", self.rest_port)
    }
}

/// Starts `<kconnect> distributed <worker>` like [`Worker::distributed`], from any binary.
pub fn distributed_worker_from(
    kconnect: &Path,
    dir: &Path,
    worker_config: &Path,
    rest_port: u16,
) -> Worker {
    spawn_worker(
        kconnect,
        dir,
        &[Path::new("distributed"), worker_config],
        rest_port,
    )
}

/// A distributed worker config for tests, written to `dir/worker.properties` with the plugins
/// copied to `dir/plugins`: group `group`, its three topics named `<group>-configs`,
/// `<group>-offsets` and `<group>-status` (the broker's default replication: 1 on a one-node
/// test broker, 3 on a three-node one), REST
/// on `127.0.0.1:<rest_port>` advertised as such. Timings (`session.timeout.ms`…) go in `extra`,
/// one `key=value` a line: each key must appear once.
pub fn distributed_worker_properties(
    dir: &Path,
    bootstrap: &str,
    group: &str,
    rest_port: u16,
    extra: &str,
) -> PathBuf {
    let plugins = test_plugin_path(dir);
    write_file(
        dir,
        "worker.properties",
        &format!(
            "bootstrap.servers={bootstrap}
group.id={group}
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
config.storage.topic={group}-configs
offset.storage.topic={group}-offsets
status.storage.topic={group}-status
config.storage.replication.factor=-1
offset.storage.replication.factor=-1
status.storage.replication.factor=-1
offset.storage.partitions=3
status.storage.partitions=3
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:{rest_port}
rest.advertised.host.name=127.0.0.1
rest.advertised.port={rest_port}
plugin.path={}
{extra}
",
            plugins.display()
        ),
    )
}

/// One HTTP call: the status and the JSON body (`Null` when the body is not JSON). Panics only
/// when no HTTP answer came at all (connection refused, timeout).
pub fn rest_call(
    method: &str,
    url: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    match try_rest_call(method, url, body) {
        Ok(answer) => answer,
        Err(e) => panic!("{method} {url}: {e}"),
    }
}

/// The session key a distributed cluster's leader wrote last to `config_topic` (KIP-507).
pub fn session_key(bootstrap: &str, config_topic: &str) -> Vec<u8> {
    use base64::Engine;
    let value = all_topic_records(bootstrap, config_topic)
        .into_iter()
        .filter(|(key, _)| key.as_deref() == Some(b"session-key".as_slice()))
        .filter_map(|(_, value)| value)
        .next_back()
        .expect("a session-key record in the config topic");
    let value: serde_json::Value = serde_json::from_slice(&value).expect("session key JSON");
    base64::engine::general_purpose::STANDARD
        .decode(value["key"].as_str().expect("a key"))
        .expect("a base64 key")
}

/// An internal request signed with `key` as a worker signs it (`X-Connect-Authorization`:
/// base64 HMAC-SHA256 of the body): the status and the JSON body (`Null` when none).
pub fn signed_call(method: &str, url: &str, body: &str, key: &[u8]) -> (u16, serde_json::Value) {
    use base64::Engine;
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(body.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let request = ureq::request(method, url)
        .set("Content-Type", "application/json")
        .set("X-Connect-Request-Signature-Algorithm", "HmacSHA256")
        .set("X-Connect-Authorization", &signature);
    let response = match request.send_string(body) {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// [`rest_call`] that reports transport errors (a worker killed or not listening yet) instead of
/// panicking.
pub fn try_rest_call(
    method: &str,
    url: &str,
    body: Option<serde_json::Value>,
) -> Result<(u16, serde_json::Value), String> {
    let request = ureq::request(method, url).timeout(Duration::from_secs(30));
    let response = match body {
        Some(b) => request.send_json(b),
        None => request.call(),
    };
    let response = match response {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    ))
}
