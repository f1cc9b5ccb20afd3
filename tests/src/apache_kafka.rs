//! Apache Kafka in the test bench: KRaft brokers (one node, or three with replication factor 3)
//! and Apache Kafka Connect workers, run from the jars `scripts/apache-kafka.sh home` collects
//! from Maven Central (version pinned in `tests/apache-kafka/pom.xml`).
//!
//! Invariants:
//! - every process listens on free loopback ports and keeps its files in its own temporary
//!   folder, so tests never meet;
//! - a handle is ready when the process answers its protocol (a metadata request naming every
//!   node; `GET /connectors` for Connect), not when a log line appeared;
//! - dropping a handle kills its processes and removes their folders; a process also dies with
//!   the test thread that started it (`PR_SET_PDEATHSIG`), so a crashed test leaves no JVM;
//! - JVMs are small (brokers ≤ 768 MiB heap, Connect ≤ 512 MiB) and use the serial collector:
//!   these machines have 2 cores.

use crate::{free_port, workspace_root, write_file};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long a broker or a Connect worker may take to become ready on a loaded 2-core machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a stopped (SIGTERM) JVM may take to exit before it is killed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The folder holding `libs/` (broker, tools, Connect runtime) and `plugins/connect-file`.
pub fn kafka_home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let output = Command::new("bash")
            .arg(workspace_root().join("scripts/apache-kafka.sh"))
            .arg("home")
            .stderr(Stdio::inherit())
            .output()
            .expect("bash runs scripts/apache-kafka.sh");
        assert!(
            output.status.success(),
            "scripts/apache-kafka.sh home failed: Apache Kafka's jars could not be collected (needs java and mvn)"
        );
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    })
}

/// The Kafka version the harness runs (the name of [`kafka_home`] ends with it).
pub fn kafka_version() -> String {
    kafka_home()
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("apache-kafka-"))
        .unwrap_or("unknown")
        .to_string()
}

/// `java <heap> -cp <libs>/* -Dlog4j2.configurationFile=<log4j> <main> <args…>`, dying with the
/// thread that spawns it.
fn java(heap: &str, log4j: &Path, main: &str, args: &[&Path]) -> Command {
    let mut command = Command::new("java");
    command
        .args(heap.split_whitespace())
        .args(["-XX:+UseSerialGC", "-Djava.awt.headless=true"])
        .arg("-cp")
        .arg(kafka_home().join("libs/*"))
        .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
        .arg(main)
        .args(args);
    // SAFETY: prctl is async-signal-safe; it only sets a flag of the child being created.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    command
}

/// A log4j2 configuration that writes everything at INFO to `log`, in Kafka's layout.
fn log4j_config(dir: &Path, log: &Path) -> PathBuf {
    write_file(
        dir,
        "log4j2.properties",
        &format!(
            "status = error
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
",
            log.display()
        ),
    )
}

/// SIGTERM, then SIGKILL if the process has not exited within [`SHUTDOWN_TIMEOUT`].
fn terminate(child: &mut Child) {
    // SAFETY: signalling a child process we own and have not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

// ---------------------------------------------------------------------------------------------
// KRaft brokers
// ---------------------------------------------------------------------------------------------

/// The cluster id every test cluster is formatted with: clusters never meet, so one id serves.
const CLUSTER_ID: &str = "a2Nvbm5lY3QtdGVzdHMAAA";

/// One KRaft node (combined broker and controller) of a cluster, with its folder kept across
/// stops and restarts, as a real node keeps its disk.
struct Node {
    id: u32,
    port: u16,
    dir: PathBuf,
    config: PathBuf,
    log4j: PathBuf,
    child: Option<Child>,
}

impl Node {
    fn start(&mut self) {
        assert!(self.child.is_none(), "node {} already runs", self.id);
        let stdout = std::fs::File::create(self.dir.join("stdout.log")).expect("stdout log");
        let child = java(
            "-Xms256m -Xmx768m",
            &self.log4j,
            "kafka.Kafka",
            &[&self.config],
        )
        .stdout(stdout.try_clone().expect("stdout log"))
        .stderr(stdout)
        .spawn()
        .expect("java runs (OpenJDK 17+)");
        self.child = Some(child);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

/// A formatted, empty log folder for node `id` (KRaft's `StorageTool format`), made once per
/// test process and copied for every cluster: formatting costs a JVM start.
fn formatted_log_dir(id: u32, dest: &Path) {
    static TEMPLATES: OnceLock<Mutex<HashMap<u32, tempfile::TempDir>>> = OnceLock::new();
    let mut templates = TEMPLATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let template = templates.entry(id).or_insert_with(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let logs = dir.path().join("logs");
        let config = write_file(
            dir.path(),
            "format.properties",
            &format!(
                "process.roles=broker,controller\nnode.id={id}\ncontroller.quorum.voters={id}@127.0.0.1:2\ncontroller.listener.names=CONTROLLER\nlisteners=PLAINTEXT://127.0.0.1:1,CONTROLLER://127.0.0.1:2\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\nlog.dirs={}\n",
                logs.display()
            ),
        );
        let log4j = log4j_config(dir.path(), &dir.path().join("format.log"));
        let output = java(
            "-Xmx256m",
            &log4j,
            "kafka.tools.StorageTool",
            &[
                Path::new("format"),
                Path::new("-t"),
                Path::new(CLUSTER_ID),
                Path::new("-c"),
                &config,
            ],
        )
        .output()
        .expect("java runs");
        assert!(
            output.status.success(),
            "kafka-storage format failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        dir
    });
    copy_dir(&template.path().join("logs"), dest);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// An Apache Kafka cluster of KRaft nodes on loopback. One node: replication factor 1 for the
/// internal topics. Three nodes: replication factor 3 and `min.insync.replicas=2`, so one node
/// may be stopped or killed while producers with `acks=all` go on.
pub struct Broker {
    nodes: Vec<Node>,
    _dir: tempfile::TempDir,
    /// The first node's client port (the one-node broker's only port).
    pub port: u16,
}

impl Broker {
    /// A single-node broker, ready.
    pub fn start() -> Broker {
        Self::start_cluster(1)
    }

    /// A three-node cluster, every node ready.
    pub fn start_three() -> Broker {
        Self::start_cluster(3)
    }

    fn start_cluster(size: u32) -> Broker {
        let dir = tempfile::tempdir().expect("temp dir");
        let ids: Vec<u32> = (1..=size).collect();
        let ports: Vec<(u16, u16)> = ids.iter().map(|_| (free_port(), free_port())).collect();
        let voters = ids
            .iter()
            .zip(&ports)
            .map(|(id, (_, controller))| format!("{id}@127.0.0.1:{controller}"))
            .collect::<Vec<_>>()
            .join(",");
        let replication = size.min(3);
        let min_isr = if size >= 3 { 2 } else { 1 };
        let mut nodes = Vec::new();
        for (&id, &(port, controller)) in ids.iter().zip(&ports) {
            let node_dir = dir.path().join(format!("node-{id}"));
            let logs = node_dir.join("logs");
            formatted_log_dir(id, &logs);
            let config = write_file(
                &node_dir,
                "server.properties",
                &format!(
                    "process.roles=broker,controller
node.id={id}
controller.quorum.voters={voters}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={logs}
num.partitions=1
default.replication.factor={replication}
min.insync.replicas={min_isr}
offsets.topic.replication.factor={replication}
offsets.topic.num.partitions=5
transaction.state.log.replication.factor={replication}
transaction.state.log.min.isr={min_isr}
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor={replication}
share.coordinator.state.topic.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
log.flush.interval.messages=9223372036854775807
",
                    logs = logs.display()
                ),
            );
            let log4j = log4j_config(&node_dir, &node_dir.join("server.log"));
            nodes.push(Node {
                id,
                port,
                dir: node_dir,
                config,
                log4j,
                child: None,
            });
        }
        let mut broker = Broker {
            port: nodes[0].port,
            nodes,
            _dir: dir,
        };
        for node in &mut broker.nodes {
            node.start();
        }
        broker.wait_ready();
        broker
    }

    /// `host:port,…` of every node.
    pub fn bootstrap(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// How many nodes the cluster has.
    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// Waits until every running node is named by a metadata answer and answers itself.
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let running: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].child.is_some())
            .collect();
        loop {
            for &i in &running {
                let node = &mut self.nodes[i];
                if let Some(Ok(Some(status))) = node.child.as_mut().map(Child::try_wait) {
                    panic!(
                        "Apache Kafka node {} exited with {status} while starting:\n{}\n{}",
                        node.id,
                        std::fs::read_to_string(node.dir.join("stdout.log")).unwrap_or_default(),
                        tail(&node.log(), 60)
                    );
                }
            }
            let ready = running.iter().all(|&i| {
                let node = &self.nodes[i];
                metadata_brokers(&format!("127.0.0.1:{}", node.port))
                    .is_some_and(|ids| running.iter().all(|&j| ids.contains(&self.nodes[j].id)))
            });
            if ready {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "Apache Kafka not ready after {STARTUP_TIMEOUT:?}:\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops node `i` (0-based) with SIGTERM: a clean shutdown that keeps its data.
    pub fn stop_node(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            terminate(&mut child);
        }
    }

    /// Kills node `i` with SIGKILL: no shutdown, unflushed data may be lost as on a crash.
    pub fn kill_node(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `i` again on its ports with its data as it was; waits until it is back.
    pub fn restart_node(&mut self, i: usize) {
        self.nodes[i].start();
        self.wait_ready();
    }

    /// Stops every node (SIGTERM), keeping their data.
    pub fn stop(&mut self) {
        for i in 0..self.nodes.len() {
            self.stop_node(i);
        }
    }

    /// Starts every stopped node again and waits until all are back.
    pub fn restart(&mut self) {
        for node in &mut self.nodes {
            if node.child.is_none() {
                node.start();
            }
        }
        self.wait_ready();
    }

    /// The process id of node `i`, while it runs.
    pub fn pid(&self, i: usize) -> Option<u32> {
        self.nodes[i].child.as_ref().map(Child::id)
    }

    /// The last lines of every node's log, for failure messages.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- Apache Kafka node {}\n{}", n.id, tail(&n.log(), 40)))
            .collect()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// The broker ids a metadata request to `bootstrap` names, or `None` when it does not answer.
fn metadata_brokers(bootstrap: &str) -> Option<Vec<u32>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("log_level", "0")
        .create()
        .ok()?;
    let metadata = consumer.fetch_metadata(None, Duration::from_secs(2)).ok()?;
    Some(metadata.brokers().iter().map(|b| b.id() as u32).collect())
}

/// A record's key and value bytes, as read from a topic.
pub type RawRecord = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The first `count` records of `topic` (every partition, as they arrive), read by a consumer
/// of its own; fails the test when they are not there within 60 s.
pub fn topic_records(bootstrap: &str, topic: &str, count: usize) -> Vec<RawRecord> {
    let consumer = reader(bootstrap, topic);
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut records = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while records.len() < count {
        assert!(
            Instant::now() < deadline,
            "{} of {count} records in {topic} after 60 s",
            records.len()
        );
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            records.push((
                message.key().map(<[u8]>::to_vec),
                message.payload().map(<[u8]>::to_vec),
            ));
        }
    }
    records
}

/// Every record `topic` holds now (up to each partition's end when called).
pub fn all_topic_records(bootstrap: &str, topic: &str) -> Vec<RawRecord> {
    let consumer = reader(bootstrap, topic);
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .expect("topic metadata");
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let total: i64 = partitions
        .iter()
        .map(|p| {
            let (low, high) = consumer
                .fetch_watermarks(topic, *p, Duration::from_secs(10))
                .expect("watermarks");
            high - low
        })
        .sum();
    topic_records(bootstrap, topic, total as usize)
}

fn reader(bootstrap: &str, topic: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        // A group of its own each time: every read starts at the beginning.
        .set("group.id", format!("read-{topic}-{}", reader_suffix()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer")
}

fn reader_suffix() -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ---------------------------------------------------------------------------------------------
// Apache Kafka Connect
// ---------------------------------------------------------------------------------------------

/// An Apache Kafka Connect worker (standalone or distributed) with the FileStream connectors on
/// its `plugin.path`, REST on a free loopback port.
pub struct JavaConnect {
    child: Option<Child>,
    pub rest_port: u16,
    pub log: PathBuf,
    dir: PathBuf,
}

impl JavaConnect {
    /// `ConnectStandalone` with offsets in `dir/java-connect.offsets`, converters as kconnect's
    /// test workers have them (JSON with schemas) unless `extra` sets them; `extra` holds more
    /// `key=value` lines (each key once).
    pub fn standalone(
        dir: &Path,
        bootstrap: &str,
        extra: &str,
        connectors: &[&Path],
    ) -> JavaConnect {
        let rest_port = free_port();
        let config = write_file(
            dir,
            "java-worker.properties",
            &format!(
                "{}offset.storage.file.filename={}\n{extra}\n",
                common_worker_keys(bootstrap, rest_port, extra),
                dir.join("java-connect.offsets").display()
            ),
        );
        let mut args = vec![config.as_path()];
        args.extend_from_slice(connectors);
        Self::spawn(
            dir,
            "org.apache.kafka.connect.cli.ConnectStandalone",
            &args,
            rest_port,
        )
    }

    /// `ConnectDistributed` in group `group` with topics `<group>-configs|offsets|status`.
    pub fn distributed(
        dir: &Path,
        bootstrap: &str,
        group: &str,
        replication: usize,
        extra: &str,
    ) -> JavaConnect {
        let rest_port = free_port();
        let config = write_file(
            dir,
            "java-worker.properties",
            &format!(
                "{}group.id={group}
config.storage.topic={group}-configs
offset.storage.topic={group}-offsets
status.storage.topic={group}-status
config.storage.replication.factor={replication}
offset.storage.replication.factor={replication}
status.storage.replication.factor={replication}
rest.advertised.host.name=127.0.0.1
rest.advertised.port={rest_port}
{extra}
",
                common_worker_keys(bootstrap, rest_port, extra)
            ),
        );
        Self::spawn(
            dir,
            "org.apache.kafka.connect.cli.ConnectDistributed",
            &[&config],
            rest_port,
        )
    }

    fn spawn(dir: &Path, main: &str, args: &[&Path], rest_port: u16) -> JavaConnect {
        let log = dir.join(format!("java-connect-{rest_port}.log"));
        let log4j = log4j_config(dir, &log);
        let stdout = std::fs::File::create(dir.join(format!("java-connect-{rest_port}.out")))
            .expect("stdout log");
        let child = java("-Xms128m -Xmx512m", &log4j, main, args)
            .current_dir(dir)
            .stdout(stdout.try_clone().expect("stdout log"))
            .stderr(stdout)
            .spawn()
            .expect("java runs (OpenJDK 17+)");
        let mut connect = JavaConnect {
            child: Some(child),
            rest_port,
            log,
            dir: dir.to_path_buf(),
        };
        connect.wait_ready();
        connect
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.rest_port, path)
    }

    /// Waits until `GET /connectors` answers 200 (Connect's REST resources are registered once
    /// the herder has started; before that Jetty answers 404 to every path).
    fn wait_ready(&mut self) {
        let url = self.url("/connectors");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "Apache Kafka Connect exited with {status} while starting:\n{}",
                    self.logs()
                );
            }
            if matches!(ureq::get(&url).timeout(Duration::from_secs(2)).call(), Ok(r) if r.status() == 200)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "Apache Kafka Connect not ready after {STARTUP_TIMEOUT:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn logs(&self) -> String {
        let out = std::fs::read_to_string(
            self.dir
                .join(format!("java-connect-{}.out", self.rest_port)),
        )
        .unwrap_or_default();
        format!(
            "{}\n{}",
            tail(&out, 20),
            tail(&std::fs::read_to_string(&self.log).unwrap_or_default(), 80)
        )
    }

    /// The whole worker log, for counting what it did ([`JavaConnect::logs`] is a tail).
    pub fn full_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the worker with SIGTERM (Connect's graceful shutdown).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child);
        }
    }
}

impl Drop for JavaConnect {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Worker keys both modes share, each unless `extra` sets it: JSON converters (as kconnect's
/// test workers have them), the FileStream connectors' folder as `plugin.path` (a test that adds
/// plugins, e.g. Debezium's, names both folders), a 1 s offset flush.
fn common_worker_keys(bootstrap: &str, rest_port: u16, extra: &str) -> String {
    let mut keys =
        format!("bootstrap.servers={bootstrap}\nlisteners=http://127.0.0.1:{rest_port}\n");
    let plugin_path = kafka_home().join("plugins").display().to_string();
    for (key, value) in [
        (
            "key.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("plugin.path", plugin_path.as_str()),
        ("offset.flush.interval.ms", "1000"),
    ] {
        let given = extra.lines().any(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        if !given {
            keys.push_str(&format!("{key}={value}\n"));
        }
    }
    keys
}
