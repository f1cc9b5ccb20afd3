//! Distributed mode end to end (issues #5 and #9): several `kconnect distributed` processes of one
//! group on a real broker share connectors and tasks, agree on statuses through the topics, take
//! over the tasks of a worker killed with SIGKILL without losing a line, let a worker with an
//! empty disk rejoin from the topics alone, add a connector without restarting the others, and
//! refuse a config topic with several partitions. Run with `--nocapture` to see the figures.
//!
//! Every test starts its own broker, so groups and topics never meet across tests. Failover tests
//! set `scheduled.rebalance.max.delay.ms=0`: Kafka's default keeps a vanished worker's tasks
//! unassigned for 5 minutes, waiting for it to come back.

use kconnect_tests::*;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One test of this file at a time: each runs 2 to 4 workers and a broker, and the figures
/// they print (failover times) mean nothing on a machine shared with another cluster.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The group session timeout of the failover tests, small to keep them quick.
const SESSION_TIMEOUT_MS: u64 = 6000;

/// Worker keys for quick failover: short sessions for the workers' group and for the sink
/// tasks' consumer groups (whose partitions stay with a dead consumer until its session ends),
/// and no delay before a vanished worker's tasks are reassigned.
fn quick_failover(session_timeout_ms: u64) -> String {
    format!(
        "session.timeout.ms={session_timeout_ms}
heartbeat.interval.ms=1000
scheduled.rebalance.max.delay.ms=0
"
    )
}

// ---------------------------------------------------------------------------------------------
// A cluster of worker processes
// ---------------------------------------------------------------------------------------------

/// One worker of a test cluster, in its own temporary folder (its "disk") and on its own port,
/// so it can be killed and restarted as the same worker id.
struct Node {
    home: tempfile::TempDir,
    port: u16,
    config: PathBuf,
    process: Option<Worker>,
}

/// Worker processes of one group on one broker, plus a folder for the connectors' files.
struct Cluster {
    data: tempfile::TempDir,
    broker: Broker,
    group: String,
    extra: String,
    nodes: Vec<Node>,
}

impl Cluster {
    /// Starts `workers` workers at once on a one-node broker and waits until each has joined.
    fn start(group: &str, workers: usize, extra: &str) -> Cluster {
        Self::start_on(Broker::start(), group, workers, extra)
    }

    /// The same on a three-node Apache Kafka cluster (replication 3, `min.insync.replicas=2`),
    /// for the fault tests: a broker may die under them.
    fn start_replicated(group: &str, workers: usize, extra: &str) -> Cluster {
        Self::start_on(Broker::start_three(), group, workers, extra)
    }

    fn start_on(broker: Broker, group: &str, workers: usize, extra: &str) -> Cluster {
        let mut cluster = Cluster {
            data: tempfile::tempdir().expect("temp dir"),
            broker,
            group: group.to_string(),
            extra: extra.to_string(),
            nodes: Vec::new(),
        };
        for _ in 0..workers {
            cluster.spawn_node();
        }
        for i in 0..workers {
            cluster.wait_ready(i);
        }
        cluster
    }

    /// Starts one more worker with an empty folder and a new port, without waiting for it.
    fn spawn_node(&mut self) -> usize {
        self.spawn_node_on(free_port())
    }

    fn spawn_node_on(&mut self, port: u16) -> usize {
        let home = tempfile::tempdir().expect("temp dir");
        let config = distributed_worker_properties(
            home.path(),
            &self.broker.bootstrap(),
            &self.group,
            port,
            &self.extra,
        );
        let process = Worker::distributed(home.path(), &config, port);
        self.nodes.push(Node {
            home,
            port,
            config,
            process: Some(process),
        });
        self.nodes.len() - 1
    }

    /// (Re)starts worker `i` on its port with its folder as it is.
    fn restart(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        node.process = None;
        node.process = Some(Worker::distributed(
            node.home.path(),
            &node.config,
            node.port,
        ));
    }

    fn wait_ready(&mut self, i: usize) {
        self.nodes[i]
            .process
            .as_mut()
            .expect("worker started")
            .wait_ready();
    }

    fn url(&self, i: usize, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.nodes[i].port)
    }

    fn id(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.nodes[i].port)
    }

    fn index_of(&self, worker_id: &str) -> Option<usize> {
        (0..self.nodes.len()).find(|&i| self.id(i) == worker_id)
    }

    /// Sends `signal` to worker `i`; after SIGKILL, waits for the process to be gone.
    fn signal(&mut self, i: usize, signal: i32) {
        let worker = self.nodes[i].process.as_mut().expect("worker running");
        worker.signal(signal);
        if signal == libc::SIGKILL {
            worker.wait(Duration::from_secs(10));
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.data.path().join(name)
    }

    /// The last lines of every worker's log but REST access lines, for failure messages.
    fn logs(&self) -> String {
        let mut all = String::new();
        for (i, node) in self.nodes.iter().enumerate() {
            let log = std::fs::read_to_string(node.home.path().join(format!(
                "worker-{}-{}.log",
                node.port,
                std::process::id()
            )))
            .unwrap_or_default();
            // REST access lines would drown the rest: the tests poll every 100 ms.
            let lines: Vec<&str> = log
                .lines()
                .filter(|l| !l.contains("actix_web::middleware::logger"))
                .collect();
            let tail = lines[lines.len().saturating_sub(80)..].join("\n");
            all.push_str(&format!(
                "\n----- worker {i} ({}) -----\n{tail}\n",
                self.id(i)
            ));
        }
        all
    }

    /// Worker `i`'s whole log (every run on its port).
    fn log(&self, i: usize) -> String {
        let node = &self.nodes[i];
        std::fs::read_to_string(node.home.path().join(format!(
            "worker-{}-{}.log",
            node.port,
            std::process::id()
        )))
        .unwrap_or_default()
    }

    /// Which workers among `live` run task `task` (e.g. `idle-03-0`) by their logs: a
    /// "task … started" line not followed by a "task … stopped" one.
    fn runners_by_log(&self, live: &[usize], task: &str) -> Vec<String> {
        let started = format!("task {task} started");
        let stopped = format!("task {task} stopped");
        live.iter()
            .filter(|&&i| {
                let log = self.log(i);
                let starts = log.lines().filter(|l| l.contains(&started)).count();
                let stops = log.lines().filter(|l| l.contains(&stopped)).count();
                starts > stops
            })
            .map(|&i| self.id(i))
            .collect()
    }

    /// Every worker's whole log, concatenated.
    fn full_logs(&self) -> String {
        self.nodes
            .iter()
            .map(|node| {
                std::fs::read_to_string(node.home.path().join(format!(
                    "worker-{}-{}.log",
                    node.port,
                    std::process::id()
                )))
                .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits until worker `i`'s view of the placement satisfies `check`, and returns it.
    fn wait_for_placement(
        &self,
        i: usize,
        timeout: Duration,
        what: &str,
        mut check: impl FnMut(&Placement) -> bool,
    ) -> Placement {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        while Instant::now() < deadline {
            if let Some(placement) = placement(&self.url(i, "")) {
                if check(&placement) {
                    return placement;
                }
                last = Some(placement);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "timed out after {timeout:?} waiting for {what}; last placement seen by worker {i}: {last:#?}{}",
            self.logs()
        );
    }
}

/// With `KCONNECT_TEST_LOGS=<folder>`, every worker's log is kept there as
/// `<group>-<worker id>.log` (the temporary folders go away with the test).
impl Drop for Cluster {
    fn drop(&mut self) {
        let Some(folder) = std::env::var_os("KCONNECT_TEST_LOGS") else {
            return;
        };
        let folder = PathBuf::from(folder);
        let _ = std::fs::create_dir_all(&folder);
        for i in 0..self.nodes.len() {
            let name = format!("{}-{}.log", self.group, self.id(i).replace(':', "_"));
            let _ = std::fs::write(folder.join(name), self.log(i));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Statuses
// ---------------------------------------------------------------------------------------------

/// Where each connector and task runs, as one worker's REST API tells: key `"src"` for
/// connector `src`, `"src-0"` for its task 0; value (state, worker id).
type Placement = BTreeMap<String, (String, String)>;

/// The placement from `GET /connectors?expand=status` of the worker at `base`; `None` when that
/// worker does not answer 200 with an object.
fn placement(base: &str) -> Option<Placement> {
    let (_, body) = try_rest_call("GET", &format!("{base}/connectors?expand=status"), None)
        .ok()
        .filter(|(status, _)| *status == 200)?;
    let mut placement = Placement::new();
    for (name, info) in body.as_object()? {
        let status = &info["status"];
        let unit = |v: &Value| {
            (
                v["state"].as_str().unwrap_or_default().to_string(),
                v["worker_id"].as_str().unwrap_or_default().to_string(),
            )
        };
        placement.insert(name.clone(), unit(&status["connector"]));
        for task in status["tasks"].as_array().into_iter().flatten() {
            placement.insert(format!("{name}-{}", task["id"]), unit(task));
        }
    }
    Some(placement)
}

/// Whether each `(connector, tasks)` is RUNNING with exactly that many tasks, all RUNNING.
fn all_running(placement: &Placement, expected: &[(&str, usize)]) -> bool {
    let running = |key: &str| placement.get(key).is_some_and(|(s, _)| s == "RUNNING");
    expected.iter().all(|(name, tasks)| {
        running(name)
            && (0..*tasks).all(|t| running(&format!("{name}-{t}")))
            && !placement.contains_key(&format!("{name}-{tasks}"))
    })
}

/// The worker ids the placement names.
fn workers_used(placement: &Placement) -> BTreeSet<String> {
    placement.values().map(|(_, id)| id.clone()).collect()
}

fn connector_names(base: &str) -> Option<Value> {
    try_rest_call("GET", &format!("{base}/connectors"), None)
        .ok()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| body)
}

// ---------------------------------------------------------------------------------------------
// Connectors, lines, the broker
// ---------------------------------------------------------------------------------------------

/// A FileStreamSource reading `file` into `topic`, which it creates with 3 partitions and the
/// broker's default replication.
fn source_connector(name: &str, file: &Path, topic: &str) -> Value {
    json!({"name": name, "config": {
        "connector.class": "FileStreamSource",
        "tasks.max": "1",
        "file": file.display().to_string(),
        "topic": topic,
        "topic.creation.default.partitions": "3",
        "topic.creation.default.replication.factor": "-1",
    }})
}

/// A FileStreamSource on an empty file of `dir`: a connector and a task that cost next to nothing.
fn idle_source(dir: &Path, name: &str, topic_prefix: &str) -> Value {
    let file = dir.join(format!("{name}.txt"));
    std::fs::write(&file, "").expect("idle file");
    source_connector(name, &file, &format!("{topic_prefix}-{name}"))
}

/// A FileStreamSink appending `topic` to `file` with `tasks` tasks.
fn sink_connector(name: &str, file: &Path, topic: &str, tasks: usize) -> Value {
    json!({"name": name, "config": {
        "connector.class": "FileStreamSink",
        "tasks.max": tasks.to_string(),
        "file": file.display().to_string(),
        "topics": topic,
    }})
}

/// Creates a connector through worker `i`, retrying on 409 as Kafka Connect's clients do: a
/// worker answers 409 while the group rebalances (for instance just after a worker joined).
fn create(cluster: &Cluster, i: usize, connector: Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = rest_call(
            "POST",
            &cluster.url(i, "/connectors"),
            Some(connector.clone()),
        );
        if status == 409 && Instant::now() < deadline {
            eprintln!(
                "create {} on worker {i}: 409, retrying: {}",
                connector["name"], body["message"]
            );
            std::thread::sleep(Duration::from_millis(250));
            continue;
        }
        assert_eq!(
            status,
            201,
            "create on worker {i}: {body}{}",
            cluster.logs()
        );
        return;
    }
}

const PREFIX: &str = "line ";

fn line(i: usize) -> String {
    format!("{PREFIX}{i:06}")
}

/// The sink file's lines. The file sink writes a value and its newline as two writes through a
/// buffer, so a buffer flush can fall between them; with several processes appending to one
/// file, another task's write can then land in between ("line 1line 2" then ""). Such torn
/// lines are mended here (every line starts with [`PREFIX`]) and counted, so the loss and
/// duplicate counts stay exact.
struct SinkContent {
    lines: Vec<String>,
    torn: usize,
}

fn sink_content(path: &Path) -> SinkContent {
    let mut content = SinkContent {
        lines: Vec::new(),
        torn: 0,
    };
    for raw in read_lines(path) {
        let parts: Vec<&str> = raw.split(PREFIX).filter(|p| !p.is_empty()).collect();
        if parts.len() != 1 || !raw.starts_with(PREFIX) {
            content.torn += 1;
        }
        content
            .lines
            .extend(parts.into_iter().map(|p| format!("{PREFIX}{p}")));
    }
    content
}

/// Counts of one run: what was sent, what arrived.
struct Tally {
    received: usize,
    unique: usize,
    duplicates: usize,
    missing: usize,
    foreign: usize,
    torn: usize,
}

fn tally(output: &Path, sent: &HashSet<String>) -> Tally {
    let content = sink_content(output);
    let unique: HashSet<&String> = content.lines.iter().collect();
    Tally {
        received: content.lines.len(),
        unique: unique.len(),
        duplicates: content.lines.len() - unique.len(),
        missing: sent.iter().filter(|l| !unique.contains(l)).count(),
        foreign: unique.iter().filter(|l| !sent.contains(**l)).count(),
        torn: content.torn,
    }
}

/// Waits until every sent line is in the sink, or panics with the counts and the logs.
fn wait_for_all_lines(cluster: &Cluster, output: &Path, sent: &HashSet<String>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let counts = tally(output, sent);
        if counts.missing == 0 {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "{} of {} lines missing in the sink after {timeout:?} ({} received){}",
                counts.missing,
                sent.len(),
                counts.received,
                cluster.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Appends `count` lines, `per_tick` every 100 ms, on its own thread; `written` counts them.
fn writer(
    input: PathBuf,
    count: usize,
    per_tick: usize,
    written: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for chunk in 0..count / per_tick {
            let lines: Vec<String> = (chunk * per_tick..(chunk + 1) * per_tick)
                .map(line)
                .collect();
            append_lines(&input, &lines);
            written.store((chunk + 1) * per_tick, Ordering::Release);
            std::thread::sleep(Duration::from_millis(100));
        }
    })
}

/// FileStreamSource → topic (3 partitions) → FileStreamSink with three sink tasks on a 3-worker
/// cluster `name` over a three-node Apache Kafka cluster, every task RUNNING; lines appended to
/// `input` reach `output`.
struct FilePipeline {
    cluster: Cluster,
    input: PathBuf,
    output: PathBuf,
}

/// The units of a [`FilePipeline`] and their task counts.
const FILE_PIPELINE_UNITS: [(&str, usize); 2] = [("src", 1), ("snk", 3)];

fn file_pipeline(name: &str) -> FilePipeline {
    let cluster = Cluster::start_replicated(name, 3, &quick_failover(SESSION_TIMEOUT_MS));
    let topic = format!("{name}-lines");
    let input = cluster.file("in.txt");
    let output = cluster.file("out.txt");
    std::fs::write(&input, "").unwrap();
    create(&cluster, 0, source_connector("src", &input, &topic));
    create(&cluster, 0, sink_connector("snk", &output, &topic, 3));
    cluster.wait_for_placement(0, Duration::from_secs(90), "every task RUNNING", |p| {
        all_running(p, &FILE_PIPELINE_UNITS)
    });
    FilePipeline {
        cluster,
        input,
        output,
    }
}

/// The index and id of the worker running `unit`.
fn worker_running(cluster: &Cluster, placement: &Placement, unit: &str) -> (usize, String) {
    let id = placement[unit].1.clone();
    let index = cluster
        .index_of(&id)
        .unwrap_or_else(|| panic!("{unit} runs on an unknown worker {id}"));
    (index, id)
}

/// Waits for all `lines` sent to reach the sink, then (after 2 s for stragglers) checks that
/// nothing else arrived and duplicates stay within `duplicate_bound`; prints the counts as `run`.
fn check_every_line_arrived(
    pipeline: &FilePipeline,
    lines: usize,
    duplicate_bound: usize,
    started: Instant,
    run: &str,
) {
    let sent: HashSet<String> = (0..lines).map(line).collect();
    wait_for_all_lines(
        &pipeline.cluster,
        &pipeline.output,
        &sent,
        Duration::from_secs(120),
    );
    let all_in = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let counts = tally(&pipeline.output, &sent);
    eprintln!(
        "{run}: sent {lines}, received {} ({} unique), missing {}, duplicates {} (bound {duplicate_bound}), torn lines mended {}, all in after {all_in:?}",
        counts.received, counts.unique, counts.missing, counts.duplicates, counts.torn
    );
    assert_eq!(counts.foreign, 0, "nothing but source lines");
    assert!(
        counts.duplicates <= duplicate_bound,
        "{} duplicates exceed {duplicate_bound}",
        counts.duplicates
    );
}

fn partition_count(bootstrap: &str, topic: &str) -> Option<usize> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .ok()?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .ok()?;
    let topic = metadata.topics().first()?;
    topic.error().is_none().then(|| topic.partitions().len())
}

fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client");
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1))
        .set("cleanup.policy", "compact");
    let outcome = futures::executor::block_on(admin.create_topics(&[new_topic], &options))
        .expect("create topics");
    match outcome.into_iter().next() {
        Some(Ok(_)) => {}
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => {}
        other => panic!("create topic {topic}: {other:?}"),
    }
}

/// How many times the worker logs say task `task` (e.g. `idle-03-0`) started.
fn task_starts(logs: &str, task: &str) -> usize {
    let needle = format!("task {task} started");
    logs.lines().filter(|l| l.contains(&needle)).count()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn three_workers_share_the_tasks() {
    let _serial = one_at_a_time();
    let cluster = Cluster::start("share", 3, &quick_failover(SESSION_TIMEOUT_MS));
    let topic = "share-lines";
    let input = cluster.file("in.txt");
    let output = cluster.file("out.txt");
    std::fs::write(&input, "").unwrap();

    create(&cluster, 0, source_connector("src", &input, topic));
    // A worker that is not the first (and maybe not the leader) takes creates as well.
    create(&cluster, 1, sink_connector("snk", &output, topic, 3));
    for i in 0..3 {
        wait_until(
            Duration::from_secs(30),
            &format!("worker {i} to list both connectors"),
            || connector_names(&cluster.url(i, "")) == Some(json!(["snk", "src"])),
        );
    }

    let expected = [("src", 1), ("snk", 3)];
    let all_ids: BTreeSet<String> = (0..3).map(|i| cluster.id(i)).collect();
    let spread = cluster.wait_for_placement(
        0,
        Duration::from_secs(90),
        "every task RUNNING and every worker running a part",
        |p| all_running(p, &expected) && workers_used(p) == all_ids,
    );
    eprintln!("placement: {spread:#?}");

    // Every worker answers the same statuses, read from the status topic.
    wait_until(
        Duration::from_secs(30),
        "the same statuses on every worker",
        || {
            let views: Vec<Option<Placement>> =
                (0..3).map(|i| placement(&cluster.url(i, ""))).collect();
            views.iter().all(|v| v.as_ref() == Some(&spread))
        },
    );
    for i in 0..3 {
        let (status, body) = rest_call("GET", &cluster.url(i, "/connectors/snk/status"), None);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["name"], "snk");
        assert_eq!(body["type"], "sink", "{body}");
        let ids: Vec<&Value> = body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["id"])
            .collect();
        assert_eq!(ids, [&json!(0), &json!(1), &json!(2)], "{body}");
        let (_, body) = rest_call("GET", &cluster.url(i, "/connectors/src/status"), None);
        assert_eq!(body["type"], "source", "{body}");
    }

    let sent: Vec<String> = (0..600).map(line).collect();
    append_lines(&input, &sent);
    let sent: HashSet<String> = sent.into_iter().collect();
    wait_for_all_lines(&cluster, &output, &sent, Duration::from_secs(90));
    let counts = tally(&output, &sent);
    assert_eq!(
        partition_count(&cluster.broker.bootstrap(), topic),
        Some(3),
        "the source created its topic with 3 partitions"
    );
    eprintln!(
        "3 workers: sent {}, received {} ({} unique), duplicates {}, torn lines mended {}",
        sent.len(),
        counts.received,
        counts.unique,
        counts.duplicates,
        counts.torn
    );
    assert_eq!(counts.foreign, 0, "nothing but source lines");
    assert_eq!(counts.duplicates, 0, "no failure, no duplicate");
    // Still one cluster view after the traffic: nothing restarted or moved.
    assert_eq!(placement(&cluster.url(2, "")), Some(spread));
}

#[test]
fn kill_9_moves_tasks_and_loses_nothing() {
    let _serial = one_at_a_time();
    const LINES: usize = 12_000;
    const PER_TICK: usize = 50;
    let mut pipeline = file_pipeline("failover");
    let expected = FILE_PIPELINE_UNITS;

    let written = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let feeder = writer(pipeline.input.clone(), LINES, PER_TICK, written.clone());
    // A third of the lines first, so a task that restarted from the beginning of the file
    // would show as far more duplicates than the bound below.
    wait_until(Duration::from_secs(60), "4000 lines written", || {
        written.load(Ordering::Acquire) >= 4000
    });
    let cluster = &mut pipeline.cluster;
    let before = cluster.wait_for_placement(0, Duration::from_secs(10), "a full placement", |p| {
        all_running(p, &expected)
    });
    let (victim, victim_id) = worker_running(cluster, &before, "src-0");
    let moved: Vec<String> = before
        .iter()
        .filter(|(_, (_, id))| *id == victim_id)
        .map(|(unit, _)| unit.clone())
        .collect();
    let in_sink = sink_content(&pipeline.output).lines.len();
    cluster.signal(victim, libc::SIGKILL);
    let killed_at = Instant::now();
    eprintln!(
        "kill -9 of worker {victim} ({victim_id}) at {:?}, running {moved:?}; {in_sink} lines in the sink",
        started.elapsed()
    );

    let survivor = (victim + 1) % 3;
    let after = cluster.wait_for_placement(
        survivor,
        Duration::from_secs(120),
        "the killed worker's tasks RUNNING elsewhere",
        |p| all_running(p, &expected) && !workers_used(p).contains(&victim_id),
    );
    let failover = killed_at.elapsed();
    let target = Duration::from_millis(SESSION_TIMEOUT_MS + 2000);
    let bound = Duration::from_millis(SESSION_TIMEOUT_MS + 15_000);
    eprintln!(
        "failover: {} unit(s) {moved:?} RUNNING on other workers {failover:?} after the kill (session.timeout.ms {SESSION_TIMEOUT_MS}, target {target:?}); now {after:?}",
        moved.len()
    );
    assert!(
        failover <= bound,
        "failover took {failover:?}, more than {bound:?}"
    );

    feeder.join().unwrap();
    // A kill loses at most what was not yet committed: about one offset flush interval (1 s)
    // of flow plus a second, on each side (source offsets, sink offsets).
    let rate = PER_TICK as f64 * 10.0;
    let duplicate_bound = (2.0 * 2.0 * rate) as usize;
    check_every_line_arrived(
        &pipeline,
        LINES,
        duplicate_bound,
        started,
        "kill -9 x1 (3 workers)",
    );
}

#[test]
fn kill_9_and_restart_three_times_loses_nothing() {
    let _serial = one_at_a_time();
    const LINES: usize = 20_000;
    const PER_TICK: usize = 50;
    let mut pipeline = file_pipeline("restarts");
    let expected = FILE_PIPELINE_UNITS;
    let output = pipeline.output.clone();

    let written = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let feeder = writer(pipeline.input.clone(), LINES, PER_TICK, written.clone());
    let cluster = &mut pipeline.cluster;
    for kill in 1..=3 {
        // The pipeline flows before each kill: the newest line written reaches the sink.
        let newest = written.load(Ordering::Acquire).max(PER_TICK) - 1;
        let deadline = Instant::now() + Duration::from_secs(90);
        while !sink_content(&output).lines.contains(&line(newest)) {
            if Instant::now() > deadline {
                let sent: HashSet<String> = (0..=newest).map(line).collect();
                let got: HashSet<String> = sink_content(&output).lines.into_iter().collect();
                let mut missing: Vec<&String> = sent.iter().filter(|l| !got.contains(*l)).collect();
                missing.sort();
                panic!(
                    "before kill #{kill}: {} not in the sink after 90 s; {} of the {} lines written missing, first {:?}, last {:?}; statuses {:?}{}",
                    line(newest),
                    missing.len(),
                    newest + 1,
                    missing.first(),
                    missing.last(),
                    placement(&cluster.url(0, "")),
                    cluster.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(1500));
        let placement =
            cluster.wait_for_placement(0, Duration::from_secs(30), "a full placement", |p| {
                all_running(p, &expected)
            });
        let (victim, victim_id) = worker_running(cluster, &placement, "src-0");
        let in_sink = sink_content(&output).lines.len();
        cluster.signal(victim, libc::SIGKILL);
        let killed_at = Instant::now();
        cluster.restart(victim);
        cluster.wait_ready(victim);
        let rejoined = killed_at.elapsed();
        // Flowing again: a line written after the restart reaches the sink.
        let newest = written.load(Ordering::Acquire).max(PER_TICK) - 1;
        let deadline = Instant::now() + Duration::from_secs(120);
        while !sink_content(&output).lines.contains(&line(newest)) {
            assert!(
                Instant::now() < deadline,
                "{} not in the sink 120 s after restart #{kill}{}",
                line(newest),
                cluster.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        eprintln!(
            "kill -9 #{kill} of worker {victim} ({victim_id}, running src-0) at {:?}: {in_sink} lines in the sink; rejoined after {rejoined:?}, flowing again after {:?}",
            killed_at.duration_since(started),
            killed_at.elapsed()
        );
    }
    feeder.join().unwrap();
    let rate = PER_TICK as f64 * 10.0;
    let duplicate_bound = (3.0 * 2.0 * 2.0 * rate) as usize;
    check_every_line_arrived(
        &pipeline,
        LINES,
        duplicate_bound,
        started,
        "kill -9 and restart x3 (3 workers)",
    );
    let cluster = &pipeline.cluster;
    let expected_ids: BTreeSet<String> = (0..3).map(|i| cluster.id(i)).collect();
    let end = cluster.wait_for_placement(
        0,
        Duration::from_secs(60),
        "every task RUNNING on the 3 workers",
        |p| all_running(p, &expected) && workers_used(p).is_subset(&expected_ids),
    );
    eprintln!("placement after the restarts: {end:?}");
}

#[test]
fn a_broker_killed_under_load_loses_nothing() {
    let _serial = one_at_a_time();
    const LINES: usize = 12_000;
    const PER_TICK: usize = 50;
    let mut pipeline = file_pipeline("broker-kill");
    let written = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let feeder = writer(pipeline.input.clone(), LINES, PER_TICK, written.clone());
    wait_until(Duration::from_secs(60), "4000 lines written", || {
        written.load(Ordering::Acquire) >= 4000
    });
    // The first node: the first bootstrap address every client knows, and a voter of the
    // controller quorum (two of three remain). Producers use acks=all with
    // min.insync.replicas=2, so every acknowledged record is on a surviving node.
    let broker = &mut pipeline.cluster.broker;
    broker.kill_node(0);
    let killed_at = Instant::now();
    let in_sink = sink_content(&pipeline.output).lines.len();
    eprintln!(
        "kill -9 of broker node 1 at {:?}; {in_sink} lines in the sink",
        started.elapsed()
    );
    // Flowing on two nodes: a line written after the kill reaches the sink.
    let newest = written.load(Ordering::Acquire) + 2 * PER_TICK;
    wait_until(
        Duration::from_secs(60),
        "lines written after the kill",
        || written.load(Ordering::Acquire) > newest,
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while !sink_content(&pipeline.output).lines.contains(&line(newest)) {
        assert!(
            Instant::now() < deadline,
            "{} not in the sink 120 s after the broker kill{}\n{}",
            line(newest),
            pipeline.cluster.logs(),
            pipeline.cluster.broker.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let flowing = killed_at.elapsed();
    let broker = &mut pipeline.cluster.broker;
    broker.restart_node(0);
    eprintln!(
        "flowing again on two nodes {flowing:?} after the kill; node 1 back after {:?}",
        killed_at.elapsed()
    );
    feeder.join().unwrap();
    // Nothing may be lost. Duplicates come from the sink: while the dead node's group
    // coordinators move (its broker session expires after ~9 s) offset commits are refused, and
    // the consumers, fenced or timed out, are given back their partitions from the last commit
    // that succeeded, as Kafka's own consumers are. How far back that is varies with which node
    // led what (10 runs: 0 to 13 226 of 12 000), so the bound only catches a replay of the whole
    // topic over and over; issue #17 (Kafka's group protocol for the workers) revisits it.
    let duplicate_bound = 3 * LINES;
    eprintln!("flowing again {flowing:?} after the kill");
    check_every_line_arrived(
        &pipeline,
        LINES,
        duplicate_bound,
        started,
        "broker kill -9 (3 nodes, 3 workers)",
    );
    assert!(
        all_running(
            &placement(&pipeline.cluster.url(0, "")).expect("placement"),
            &FILE_PIPELINE_UNITS
        ),
        "no task failed"
    );
}

#[test]
fn a_worker_with_an_empty_disk_rejoins_from_the_topics() {
    let _serial = one_at_a_time();
    let mut cluster = Cluster::start("rejoin", 2, &quick_failover(SESSION_TIMEOUT_MS));
    let topic = "rejoin-lines";
    let input = cluster.file("in.txt");
    let output = cluster.file("out.txt");
    std::fs::write(&input, "").unwrap();
    create(&cluster, 0, source_connector("src", &input, topic));
    create(&cluster, 1, sink_connector("snk", &output, topic, 3));
    let expected = [("src", 1), ("snk", 3)];
    cluster.wait_for_placement(0, Duration::from_secs(90), "every task RUNNING", |p| {
        all_running(p, &expected)
    });
    let first: Vec<String> = (0..300).map(line).collect();
    append_lines(&input, &first);
    let first: HashSet<String> = first.into_iter().collect();
    wait_for_all_lines(&cluster, &output, &first, Duration::from_secs(90));

    // SIGTERM: the worker leaves the group and its tasks go to the other one.
    let leaving = cluster.id(1);
    cluster.signal(1, libc::SIGTERM);
    let status = cluster.nodes[1]
        .process
        .as_mut()
        .unwrap()
        .wait(Duration::from_secs(60));
    assert!(status.success(), "exit status {status}{}", cluster.logs());

    let fresh = cluster.spawn_node();
    let fresh_id = cluster.id(fresh);
    let fresh_home = cluster.nodes[fresh].home.path().to_path_buf();
    cluster.wait_ready(fresh);
    wait_until(
        Duration::from_secs(30),
        "the fresh worker to list the connectors",
        || connector_names(&cluster.url(fresh, "")) == Some(json!(["snk", "src"])),
    );
    let (status, config) = rest_call("GET", &cluster.url(fresh, "/connectors/src/config"), None);
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["file"], input.display().to_string(), "{config}");
    assert_eq!(config["topic"], topic, "{config}");

    let shared = cluster.wait_for_placement(
        fresh,
        Duration::from_secs(90),
        "the fresh worker to run a share, without the stopped worker",
        |p| {
            let used = workers_used(p);
            all_running(p, &expected) && used.contains(&fresh_id) && !used.contains(&leaving)
        },
    );
    // The same view on both workers; it may have moved on from `shared` meanwhile (the leader
    // may balance once more), so the two views are compared with each other.
    let deadline = Instant::now() + Duration::from_secs(30);
    let shared = loop {
        let views = (
            placement(&cluster.url(0, "")),
            placement(&cluster.url(fresh, "")),
        );
        match &views {
            (Some(a), Some(b)) if a == b && all_running(a, &expected) => break a.clone(),
            _ if Instant::now() > deadline => panic!(
                "the two workers still disagree after 30 s (first view {shared:?}): {views:#?}{}",
                cluster.logs()
            ),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    eprintln!("placement after the rejoin: {shared:#?}");
    // The fresh worker's folder holds its config, its plugins and its log: no state of its own.
    let mut kept: Vec<String> = std::fs::read_dir(&fresh_home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            "plugins".to_string(),
            format!(
                "worker-{}-{}.log",
                cluster.nodes[fresh].port,
                std::process::id()
            ),
            "worker.properties".to_string()
        ],
        "nothing else on the fresh worker's disk"
    );

    let second: Vec<String> = (300..600).map(line).collect();
    append_lines(&input, &second);
    let sent: HashSet<String> = first.into_iter().chain(second).collect();
    wait_for_all_lines(&cluster, &output, &sent, Duration::from_secs(90));
    std::thread::sleep(Duration::from_secs(2));
    let counts = tally(&output, &sent);
    eprintln!(
        "rejoin: sent {}, received {} ({} unique), duplicates {}, torn lines mended {}",
        sent.len(),
        counts.received,
        counts.unique,
        counts.duplicates,
        counts.torn
    );
    assert_eq!(counts.foreign, 0, "nothing but source lines");
    // A graceful stop commits offsets: the source resumes where it was, not at the start.
    assert!(
        counts.duplicates < 300,
        "{} duplicates: the file was read again",
        counts.duplicates
    );
}

#[test]
fn a_new_connector_does_not_restart_the_others() {
    let _serial = one_at_a_time();
    const IDLE: usize = 20;
    let cluster = Cluster::start("many", 2, &quick_failover(SESSION_TIMEOUT_MS));
    let data = cluster.data.path().to_path_buf();
    let idle = |i: usize| idle_source(&data, &format!("idle-{i:02}"), "many");
    for i in 0..IDLE {
        create(&cluster, i % 2, idle(i));
    }
    let expected: Vec<(String, usize)> = (0..IDLE).map(|i| (format!("idle-{i:02}"), 1)).collect();
    let expected: Vec<(&str, usize)> = expected.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    cluster.wait_for_placement(0, Duration::from_secs(180), "20 connectors RUNNING", |p| {
        all_running(p, &expected)
    });
    // Let any rebalance the creates caused settle, then take the reference placement.
    std::thread::sleep(Duration::from_secs(3));
    let reference = cluster.wait_for_placement(0, Duration::from_secs(30), "20 RUNNING", |p| {
        all_running(p, &expected)
    });
    let starts_before: Vec<usize> = {
        let logs = cluster.full_logs();
        (0..IDLE)
            .map(|i| task_starts(&logs, &format!("idle-{i:02}-0")))
            .collect()
    };

    // Every 100 ms, any of the 20 that is not RUNNING where it was is a restart.
    let stop = Arc::new(AtomicBool::new(false));
    let changes = Arc::new(Mutex::new(Vec::<String>::new()));
    let polls = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let (stop, changes, polls) = (stop.clone(), changes.clone(), polls.clone());
        let bases = [cluster.url(0, ""), cluster.url(1, "")];
        let reference = reference.clone();
        std::thread::spawn(move || {
            let mut turn = 0;
            while !stop.load(Ordering::Acquire) {
                if let Some(now) = placement(&bases[turn % 2]) {
                    polls.fetch_add(1, Ordering::Relaxed);
                    for (unit, was) in &reference {
                        let is = now.get(unit);
                        if is != Some(was) {
                            changes
                                .lock()
                                .unwrap()
                                .push(format!("{unit}: {was:?} -> {is:?}"));
                        }
                    }
                }
                turn += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    let created_at = Instant::now();
    create(&cluster, 1, idle(IDLE));
    let newcomer = format!("idle-{IDLE:02}");
    cluster.wait_for_placement(
        0,
        Duration::from_secs(60),
        "the 21st connector RUNNING",
        |p| all_running(p, &[(newcomer.as_str(), 1)]),
    );
    let to_running = created_at.elapsed();
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Release);
    watcher.join().unwrap();
    let logs = cluster.full_logs();
    let starts_after: Vec<usize> = (0..IDLE)
        .map(|i| task_starts(&logs, &format!("idle-{i:02}-0")))
        .collect();
    let changes = changes.lock().unwrap().clone();
    eprintln!(
        "21st connector RUNNING {to_running:?} after its POST; the other 20 over {} status polls: {} change(s); task start log lines before {} after {}",
        polls.load(Ordering::Relaxed),
        changes.len(),
        starts_before.iter().sum::<usize>(),
        starts_after.iter().sum::<usize>()
    );
    if starts_before.iter().sum::<usize>() == 0 {
        eprintln!("(no \"task <name> started\" log lines: only the statuses tell restarts)");
    }
    assert!(
        polls.load(Ordering::Relaxed) >= 10,
        "the statuses were polled"
    );
    assert!(
        changes.is_empty(),
        "the 20 others moved or left RUNNING: {changes:#?}"
    );
    assert_eq!(
        starts_after, starts_before,
        "no task of the 20 started again"
    );
}

#[test]
fn a_config_topic_with_two_partitions_stops_the_worker() {
    let _serial = one_at_a_time();
    let home = tempfile::tempdir().unwrap();
    let broker = Broker::start();
    let group = "twoparts";
    create_topic(&broker.bootstrap(), &format!("{group}-configs"), 2);
    let port = free_port();
    let config = distributed_worker_properties(
        home.path(),
        &broker.bootstrap(),
        group,
        port,
        &quick_failover(SESSION_TIMEOUT_MS),
    );
    let mut worker = Worker::distributed(home.path(), &config, port);
    let status = worker.wait(Duration::from_secs(60));
    let logs = worker.logs();
    eprintln!("exit {status}; log:\n{logs}");
    assert!(!status.success(), "the worker must fail: {status}");
    let named = logs.lines().any(|l| {
        l.contains("config.storage.topic")
            && l.contains(&format!("{group}-configs"))
            && l.contains('2')
            && l.contains("partition")
    });
    assert!(
        named,
        "a line names config.storage.topic, the topic and its 2 partitions:\n{logs}"
    );
}

/// Kafka answers 409 to a connector write while the group rebalances. To hold a rebalance open
/// long enough, the leader is frozen with SIGSTOP before a third worker joins: nobody assigns
/// the newcomer a share until the frozen leader's session (15 s here) expires. The leader is the
/// live worker with the smallest id (kconnect's rule; in Kafka's group protocol freezing any
/// member holds the rebalance open alike), so the newcomer gets a port above the leader's.
#[test]
fn writes_during_a_rebalance_get_409() {
    let _serial = one_at_a_time();
    let mut cluster = Cluster::start("conflict", 2, &quick_failover(15_000));
    let (frozen, asked) = if cluster.id(0) < cluster.id(1) {
        (0, 1)
    } else {
        (1, 0)
    };
    let data = cluster.data.path().to_path_buf();
    let idle = |name: &str| idle_source(&data, name, "conflict");
    create(&cluster, 0, idle("before"));
    cluster.wait_for_placement(0, Duration::from_secs(60), "a connector RUNNING", |p| {
        all_running(p, &[("before", 1)])
    });

    cluster.signal(frozen, libc::SIGSTOP);
    let newcomer_port = loop {
        let port = free_port();
        if port > cluster.nodes[frozen].port {
            break port;
        }
    };
    let joining = cluster.spawn_node_on(newcomer_port);
    let joined_at = Instant::now();
    // Writes every 200 ms until one was refused and a later one went through again: the frozen
    // leader's session expired and a live worker took over the assignment.
    let mut attempts: Vec<(String, u16, Duration)> = Vec::new();
    let mut refusal = None;
    while joined_at.elapsed() < Duration::from_secs(45) {
        let name = format!("during-{}", attempts.len());
        // Until the asked worker learns of the rebalance it forwards the write to the frozen
        // leader, which never answers (as between Kafka's workers): such a write is abandoned
        // after a few seconds (status 0) and must leave nothing behind.
        let answer = ureq::post(&cluster.url(asked, "/connectors"))
            .timeout(Duration::from_secs(4))
            .send_json(idle(&name));
        let (status, body) = match answer {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                let status = r.status();
                (status, r.into_json().unwrap_or(serde_json::Value::Null))
            }
            Err(_) => (0, serde_json::Value::Null),
        };
        attempts.push((name, status, joined_at.elapsed()));
        if status == 409 && refusal.is_none() {
            refusal = Some(body);
        } else if status != 409 && status != 0 && refusal.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // What a leader frozen past its session does when it resumes is the next test's subject.
    cluster.signal(frozen, libc::SIGKILL);
    let summary: Vec<String> = attempts
        .iter()
        .map(|(name, status, at)| format!("{name} {status} at {at:?}"))
        .collect();
    eprintln!("writes while the third worker joins: {summary:?}");
    let body = refusal.unwrap_or_else(|| {
        panic!(
            "no 409 within 45 s of a join the frozen leader holds open: {summary:?}{}",
            cluster.logs()
        )
    });
    assert_eq!(body["error_code"], 409, "{body}");
    let refused: Vec<&(String, u16, Duration)> = attempts
        .iter()
        .filter(|(_, status, _)| *status == 409)
        .collect();
    let (_, last_status, reopened_at) = attempts.last().unwrap();
    assert_eq!(
        *last_status,
        201,
        "a write once the rebalance is over: {summary:?}{}",
        cluster.logs()
    );
    eprintln!(
        "409 from {:?} to {:?} after the third worker started ({} writes refused), 201 again at {reopened_at:?}: {}",
        refused[0].2,
        refused[refused.len() - 1].2,
        refused.len(),
        body["message"]
    );

    cluster.wait_ready(joining);
    // Refused writes left nothing behind; the accepted ones are there and run.
    for i in [asked, joining] {
        for (name, status, _) in &attempts {
            let (found, body) =
                rest_call("GET", &cluster.url(i, &format!("/connectors/{name}")), None);
            let expected = if *status == 409 || *status == 0 {
                404
            } else {
                200
            };
            assert_eq!(
                found, expected,
                "{name} (POST answered {status}) on worker {i}: {body}"
            );
        }
    }
    let accepted: Vec<(&str, usize)> = attempts
        .iter()
        .filter(|(_, status, _)| *status == 201)
        .map(|(name, _, _)| (name.as_str(), 1))
        .chain([("before", 1)])
        .collect();
    cluster.wait_for_placement(
        joining,
        Duration::from_secs(60),
        "every accepted connector RUNNING after the rebalance",
        |p| all_running(p, &accepted),
    );
}

/// A leader frozen (SIGSTOP) past its session is replaced while a worker joins and connectors
/// are created; it resumes right after the others took over. It must then stop what it ran
/// instead of running it a second time, and its stale view must not overwrite what the new owners
/// wrote: every task runs exactly once, on the worker its status names.
#[test]
fn a_leader_frozen_past_its_session_resumes_without_running_tasks_twice() {
    let _serial = one_at_a_time();
    const CONNECTORS: usize = 6;
    let mut cluster = Cluster::start("zombie", 3, &quick_failover(SESSION_TIMEOUT_MS));
    let data = cluster.data.path().to_path_buf();
    for i in 0..CONNECTORS {
        create(
            &cluster,
            i % 3,
            idle_source(&data, &format!("idle-{i}"), "zombie"),
        );
    }
    let mut names: Vec<String> = (0..CONNECTORS).map(|i| format!("idle-{i}")).collect();
    let expected: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 1)).collect();
    let all_ids: BTreeSet<String> = (0..3).map(|i| cluster.id(i)).collect();
    cluster.wait_for_placement(
        0,
        Duration::from_secs(90),
        "all RUNNING on 3 workers",
        |p| all_running(p, &expected) && workers_used(p) == all_ids,
    );
    let leader = (0..3).min_by_key(|&i| cluster.id(i)).unwrap();
    let leader_id = cluster.id(leader);
    let other = (leader + 1) % 3;

    cluster.signal(leader, libc::SIGSTOP);
    let frozen_at = Instant::now();
    let newcomer_port = loop {
        let port = free_port();
        if port > cluster.nodes[leader].port {
            break port;
        }
    };
    cluster.spawn_node_on(newcomer_port);
    // Creates until one is refused (the group waits for the frozen leader) and a later one goes
    // through (the others replaced it); the leader resumes at once.
    let mut refused = false;
    let mut attempt = 0;
    loop {
        assert!(
            frozen_at.elapsed() < Duration::from_secs(45),
            "no write refused then accepted within 45 s{}",
            cluster.logs()
        );
        attempt += 1;
        let name = format!("during-{attempt}");
        // A write the asked worker forwards to the frozen leader is never answered (as between
        // Kafka's workers): abandoned after a few seconds (status 0), like a refused one.
        let answer = ureq::post(&cluster.url(other, "/connectors"))
            .timeout(Duration::from_secs(4))
            .send_json(idle_source(&data, &name, "zombie"));
        let (status, body) = match answer {
            Ok(r) | Err(ureq::Error::Status(_, r)) => {
                let status = r.status();
                (status, r.into_json().unwrap_or(serde_json::Value::Null))
            }
            Err(_) => (0, serde_json::Value::Null),
        };
        match status {
            0 => {}
            409 => refused = true,
            201 => {
                names.push(name);
                if refused {
                    break;
                }
            }
            _ => panic!("create {name}: {status} {body}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let takeover = frozen_at.elapsed();
    cluster.signal(leader, libc::SIGCONT);
    let resumed_at = Instant::now();
    eprintln!(
        "leader {leader_id} frozen; a fourth worker joined; writes accepted again after {takeover:?}; leader resumed"
    );

    // Settled: every worker shows every task RUNNING, on the one worker whose log says it runs
    // it.
    let expected: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 1)).collect();
    let live = [0, 1, 2, 3];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let views: Vec<Option<Placement>> = live
            .iter()
            .map(|&i| placement(&cluster.url(i, "")))
            .collect();
        let first = views[0].clone().unwrap_or_default();
        let agreed = views.iter().all(|v| v.as_ref() == Some(&first));
        let mismatches: Vec<String> = names
            .iter()
            .map(|n| format!("{n}-0"))
            .filter_map(|task| {
                let runners = cluster.runners_by_log(&live, &task);
                let status = first.get(&task).cloned().unwrap_or_default();
                (status.0 != "RUNNING" || runners != [status.1.clone()]).then(|| {
                    format!("{task}: status {status:?}, running on {runners:?} by the logs")
                })
            })
            .collect();
        let connectors_down: Vec<&String> = names
            .iter()
            .filter(|n| first.get(*n).is_none_or(|(state, _)| state != "RUNNING"))
            .collect();
        if agreed && all_running(&first, &expected) && mismatches.is_empty() {
            eprintln!(
                "settled {:?} after the leader resumed: {first:?}",
                resumed_at.elapsed()
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "60 s after the frozen leader resumed: workers agree {agreed}; connectors not RUNNING {connectors_down:?}; tasks {mismatches:#?}; statuses {views:#?}{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A connector config that fails validation on this worker (written by another worker, by an
/// older release, or before its plugin changed) still runs its tasks as what its class is: a
/// sink's tasks consume, they are never started as source tasks.
#[test]
fn a_sink_whose_config_no_longer_validates_still_runs_as_a_sink() {
    let _one = one_at_a_time();
    let cluster = Cluster::start("kind", 1, "");
    let output = cluster.data.path().join("kind.out");
    let config = json!({
        "name": "stale-sink",
        "connector.class": "kconnect.testing.MisbehavingSinkConnector",
        "topics": "kind-in",
        "file": output.display().to_string(),
        "tasks.max": "1",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        // The testing connector's validate reports an error for this: REST would refuse the
        // config, so it goes to the config topic directly, as another worker writes it.
        "validate.error": "true",
    });
    let producer: rdkafka::producer::BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.broker.bootstrap())
        .create()
        .expect("producer");
    let record = json!({ "properties": config }).to_string();
    producer
        .send(
            rdkafka::producer::BaseRecord::to("kind-configs")
                .key("connector-stale-sink")
                .payload(&record),
        )
        .expect("queued");
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).expect("written");

    let status_url = cluster.url(0, "/connectors/stale-sink/status");
    wait_until(
        Duration::from_secs(30),
        "the stale sink's task RUNNING",
        || {
            let (code, status) = rest_call("GET", &status_url, None);
            code == 200 && status["tasks"][0]["state"] == "RUNNING"
        },
    );
    let status = rest_call("GET", &status_url, None).1;
    assert_eq!(status["type"], "sink", "{status}");
    producer
        .send(rdkafka::producer::BaseRecord::<(), str>::to("kind-in").payload("consumed as a sink"))
        .expect("queued");
    rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).expect("written");
    wait_until(
        Duration::from_secs(30),
        "the record in the sink's file",
        || read_lines(&output).contains(&"consumed as a sink".to_string()),
    );
}
