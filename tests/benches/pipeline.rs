//! Throughput of the file pipelines on a real broker (issue #3), in one run printed as a table:
//! the ceiling (a raw rdkafka producer and consumer with the same client settings as the worker's),
//! then a release worker running FileStreamSource → topic and topic → FileStreamSink, with the
//! String converter and with the JSON converter (schemas.enable=true), each run's peak RSS beside.
//!
//! Rates count from the first record seen to the last, so that process start, plugin loading and
//! the consumer group join (fixed costs, whatever the record count) do not dilute them; the time
//! from the start of the phase is printed beside. A sink worker flushes offsets every 100 ms so
//! that its last buffered lines reach the file within that (Kafka's default is 60 s).
//!
//! A sink is compared with the raw consumer reading the same topic: how fast the broker serves a
//! topic back depends on how it was written (batch sizes, and JSON records are larger); the ratio
//! to the raw consumer on the raw producer's topic is printed beside. Each phase runs three times
//! and the fastest attempt counts (the machine is shared; the producer phases last about a
//! second), with the slowest rate shown too. Phases whose rates are compared with each other take
//! their attempts in turn (the raw producer with the sources, the datagen pair), so that a slow
//! spell of the machine weighs on both sides of a ratio.
//!
//! Transformations (issue #6): the datagen source (`pageviews` records: a STRUCT value with a
//! schema, keyed by a string) runs with the String converter twice, plain and through the chain
//! InsertField$Value (a static field) → ReplaceField$Value (a rename) → RegexRouter (a new topic),
//! which does work on every record; the chain's cost is the ratio of the two rates. Both phases
//! use the same source so that only the chain differs: FileStream lines are strings, which
//! InsertField and ReplaceField refuse.
//!
//! Every wait is bounded, and the broker and the workers are killed when their handles drop, so
//! the run ends by itself. `KCONNECT_BENCH_RECORDS=N` runs with fewer records for a quick try;
//! `KCONNECT_BENCH_ONLY=transforms` runs only the two datagen phases.

use kconnect_tests::{
    broker_pid, build_release, cpu_time, free_port, peak_rss_kib, standalone_worker_from,
    worker_pid, write_file, Broker, ReleaseBuild, Worker,
};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientContext, Message};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const DEFAULT_RECORDS: usize = 1_000_000;
/// Bytes of a record value and of an input line (without its `\n`).
const LINE_BYTES: usize = 100;
const SOURCE_BATCH_SIZE: usize = 2000;
/// Longest any one phase may take before it counts as failed.
const PHASE_TIMEOUT: Duration = Duration::from_secs(300);
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
const WATERMARK_TIMEOUT: Duration = Duration::from_secs(2);
/// The harness's setting: a source's stored offsets only gate the end of its run.
const SOURCE_OFFSET_FLUSH_MS: u64 = 1000;
/// A sink's last buffered lines reach its file at the next offset flush (Kafka's default is 60 s).
const SINK_OFFSET_FLUSH_MS: u64 = 100;
const RSS_TARGET_KIB: u64 = 64 * 1024;
/// Each phase runs this many times and the fastest attempt counts: the machine is shared, and
/// a short phase (the producers take about a second) is easily slowed by a neighbour.
const ATTEMPTS: usize = 3;
/// The least acceptable ratio of the datagen pipeline with the transformation chain to the same
/// pipeline without it.
const TRANSFORMS_TARGET_RATIO: f64 = 0.8;
/// The chain of the transformation phase; every record goes through all three.
const TRANSFORM_CHAIN: &str = "transforms=insert,rename,route\n\
    transforms.insert.type=org.apache.kafka.connect.transforms.InsertField$Value\n\
    transforms.insert.static.field=origin\n\
    transforms.insert.static.value=bench\n\
    transforms.rename.type=org.apache.kafka.connect.transforms.ReplaceField$Value\n\
    transforms.rename.renames=pageid:page\n\
    transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter\n\
    transforms.route.regex=bench-datagen-(.*)\n\
    transforms.route.replacement=bench-routed-$1\n";

type Outcome = Result<Measurement, String>;

fn main() {
    let records = std::env::var("KCONNECT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_RECORDS);
    eprintln!("building the release worker, file and datagen plugins…");
    let built = build_release();
    let dir = tempfile::tempdir().expect("temporary directory");
    let input = dir.path().join("input.txt");
    write_input(&input, records);
    let broker = Broker::start();
    let bench = Bench {
        built,
        dir: dir.path(),
        broker: &broker,
        records,
    };

    let file_phases =
        std::env::var("KCONNECT_BENCH_ONLY").map_or(true, |v| v.trim() != "transforms");
    let (raw_produce, raw_consume, runs) = if file_phases {
        bench.file_phases(&input)
    } else {
        let skipped = || Err("skipped: KCONNECT_BENCH_ONLY=transforms".to_string());
        (skipped(), skipped(), Vec::new())
    };
    let [plain, chained] = best_of_alternating([
        ("Datagen String", &|attempt| {
            bench.datagen_run(Chain::Without, attempt)
        }),
        ("Datagen String + 3 transforms", &|attempt| {
            bench.datagen_run(Chain::With, attempt)
        }),
    ]);
    let transforms = TransformRun { plain, chained };
    drop(broker);

    let failed = report(
        records,
        file_phases,
        &raw_produce,
        &raw_consume,
        &runs,
        &transforms,
    );
    drop(dir);
    if failed {
        std::process::exit(1);
    }
}

#[derive(Clone, Copy)]
enum Format {
    String,
    Json,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::String => "String",
            Format::Json => "JSON",
        }
    }

    /// The topic a source attempt writes; the sinks read the first one.
    fn topic(self, attempt: usize) -> String {
        format!("bench-{}-{attempt}", self.name().to_ascii_lowercase())
    }

    fn converter_keys(self) -> &'static str {
        match self {
            Format::String => {
                "key.converter=org.apache.kafka.connect.storage.StringConverter\n\
                 value.converter=org.apache.kafka.connect.storage.StringConverter\n"
            }
            Format::Json => {
                "key.converter=org.apache.kafka.connect.json.JsonConverter\n\
                 value.converter=org.apache.kafka.connect.json.JsonConverter\n\
                 key.converter.schemas.enable=true\n\
                 value.converter.schemas.enable=true\n"
            }
        }
    }

    /// The least acceptable ratio to the raw client.
    fn target_ratio(self) -> f64 {
        match self {
            Format::String => 0.9,
            Format::Json => 0.6,
        }
    }
}

/// The phases of one converter.
struct Run {
    format: Format,
    source: Outcome,
    /// The raw consumer reading the topic the source wrote: the sink's own ceiling, since how
    /// fast a topic reads back depends on how it was written (the broker serves it batch by batch).
    raw_read: Outcome,
    sink: Outcome,
}

/// With or without the transformation chain.
#[derive(Clone, Copy)]
enum Chain {
    Without,
    With,
}

impl Chain {
    fn name(self) -> &'static str {
        match self {
            Chain::Without => "plain",
            Chain::With => "chain",
        }
    }

    /// The topic the source writes, and the one its records land in.
    fn topics(self, attempt: usize) -> (String, String) {
        let written = format!("bench-datagen-{}-{attempt}", self.name());
        let landed = match self {
            Chain::Without => written.clone(),
            Chain::With => format!("bench-routed-{}-{attempt}", self.name()),
        };
        (written, landed)
    }

    fn config(self) -> &'static str {
        match self {
            Chain::Without => "",
            Chain::With => TRANSFORM_CHAIN,
        }
    }
}

/// The two datagen phases.
struct TransformRun {
    plain: Outcome,
    chained: Outcome,
}

/// What one phase took.
struct Measurement {
    records: usize,
    /// From the start of the phase (for a worker: its process start) to the last record.
    total: Duration,
    /// From the first record seen to the last.
    steady: Duration,
    /// CPU used by the client side: the worker, or this process for the raw clients.
    client_cpu: Option<Duration>,
    broker_cpu: Option<Duration>,
    worker_peak_rss_kib: Option<u64>,
    /// The rate of the slowest attempt, once [`best_of`] chose this one.
    slowest_rate: Option<f64>,
}

impl Measurement {
    fn rate(&self) -> f64 {
        self.records as f64 / self.steady.as_secs_f64().max(1e-9)
    }
}

/// Line `i` of the input: its number, then filler, `LINE_BYTES` in all.
fn line(i: usize) -> String {
    const FILLER: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut text = format!("{i:010} ");
    while text.len() < LINE_BYTES {
        let missing = LINE_BYTES - text.len();
        text.push_str(&FILLER[..missing.min(FILLER.len())]);
    }
    text
}

fn write_input(path: &Path, records: usize) {
    let mut out = BufWriter::new(File::create(path).expect("create the input file"));
    for i in 0..records {
        writeln!(out, "{}", line(i)).expect("write the input file");
    }
    out.flush().expect("write the input file");
}

/// The worker's producer defaults (host/src/kafka/clients.rs), so that the ratio measures the
/// worker and not a difference in client settings.
fn producer_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("max.in.flight.requests.per.connection", "5")
        .set("linger.ms", "5")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.kbytes", "65536");
    config
}

/// The worker's consumer defaults, as [`producer_config`].
fn consumer_config(bootstrap: &str, group: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("topic.metadata.refresh.interval.ms", "2000")
        .set("queued.max.messages.kbytes", "32768");
    config
}

/// Acknowledgements, and when the first and the last arrived (the records landed), so that the
/// raw producer is timed like the worker: from the first record in the topic to the last.
#[derive(Default)]
struct DeliveryCount {
    delivered: AtomicUsize,
    first_error: Mutex<Option<String>>,
    first_ack: OnceLock<Instant>,
    last_ack: Mutex<Option<Instant>>,
}

impl ClientContext for DeliveryCount {}

impl ProducerContext for DeliveryCount {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                let now = Instant::now();
                self.first_ack.get_or_init(|| now);
                *self.last_ack.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                let mut first = self.first_error.lock().unwrap_or_else(|e| e.into_inner());
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// What a worker run's probe sees.
struct Probe {
    /// Records known to be complete (in the topic, or in the sink file).
    done: usize,
    /// A figure that moves whenever records land (a watermark, a file size).
    landed: u64,
}

/// Process figures sampled at the start of a phase.
struct Usage {
    started: Instant,
    broker_cpu: Option<Duration>,
    client_cpu: Option<Duration>,
}

struct Bench<'a> {
    built: &'a ReleaseBuild,
    dir: &'a Path,
    broker: &'a Broker,
    records: usize,
}

impl Bench<'_> {
    fn usage_now(&self, client_pid: u32) -> Usage {
        Usage {
            started: Instant::now(),
            broker_cpu: cpu_time(broker_pid(self.broker)),
            client_cpu: cpu_time(client_pid),
        }
    }

    fn since(&self, start: &Usage, client_pid: u32) -> (Option<Duration>, Option<Duration>) {
        let delta = |now: Option<Duration>, then: Option<Duration>| now?.checked_sub(then?);
        (
            delta(cpu_time(client_pid), start.client_cpu),
            delta(cpu_time(broker_pid(self.broker)), start.broker_cpu),
        )
    }

    fn create_topic(&self, topic: &str) -> Result<(), String> {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", self.broker.bootstrap())
            .create()
            .map_err(|e| format!("admin client: {e}"))?;
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let new_topic = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
        let outcome = futures::executor::block_on(admin.create_topics(&[new_topic], &options))
            .map_err(|e| format!("create topic {topic}: {e}"))?;
        match outcome.into_iter().next() {
            Some(Ok(_)) | Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(()),
            Some(Err((_, code))) => Err(format!("create topic {topic}: {code}")),
            None => Err(format!("create topic {topic}: no answer")),
        }
    }

    fn raw_produce(&self, topic: &str) -> Outcome {
        self.create_topic(topic)?;
        let own_pid = std::process::id();
        let start = self.usage_now(own_pid);
        let producer: ThreadedProducer<DeliveryCount> = producer_config(&self.broker.bootstrap())
            .create_with_context(DeliveryCount::default())
            .map_err(|e| format!("producer: {e}"))?;
        let deadline = start.started + PHASE_TIMEOUT;
        let mut value = Vec::with_capacity(LINE_BYTES);
        for i in 0..self.records {
            value.clear();
            value.extend_from_slice(line(i).as_bytes());
            let mut record: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic).payload(&value[..]);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        if Instant::now() > deadline {
                            return Err(format!("raw producer: timed out after {i} records"));
                        }
                        record = back;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err((e, _)) => return Err(format!("raw producer: send: {e}")),
                }
            }
        }
        producer
            .flush(deadline.saturating_duration_since(Instant::now()))
            .map_err(|e| format!("raw producer: flush: {e}"))?;
        let context = producer.context();
        if let Some(e) = context.first_error.lock().unwrap().clone() {
            return Err(format!("raw producer: delivery failed: {e}"));
        }
        let delivered = context.delivered.load(Ordering::Relaxed);
        if delivered != self.records {
            return Err(format!(
                "raw producer: {delivered} of {} delivered",
                self.records
            ));
        }
        let (client_cpu, broker_cpu) = self.since(&start, own_pid);
        let last_ack = context.last_ack.lock().unwrap().unwrap_or(start.started);
        let first_ack = context.first_ack.get().copied().unwrap_or(start.started);
        Ok(Measurement {
            records: self.records,
            total: last_ack - start.started,
            steady: last_ack - first_ack,
            client_cpu,
            broker_cpu,
            worker_peak_rss_kib: None,
            slowest_rate: None,
        })
    }

    fn raw_consume(&self, topic: &str, attempt: usize) -> Outcome {
        let own_pid = std::process::id();
        let start = self.usage_now(own_pid);
        let group = format!("bench-raw-consumer-{topic}-{attempt}");
        let consumer: BaseConsumer = consumer_config(&self.broker.bootstrap(), &group)
            .create()
            .map_err(|e| format!("consumer: {e}"))?;
        consumer
            .subscribe(&[topic])
            .map_err(|e| format!("subscribe: {e}"))?;
        let deadline = start.started + PHASE_TIMEOUT;
        let mut first_seen = None;
        let mut count = 0usize;
        while count < self.records {
            if Instant::now() > deadline {
                return Err(format!(
                    "raw consumer: timed out with {count} of {} records",
                    self.records
                ));
            }
            match consumer.poll(Duration::from_millis(100)) {
                None => {}
                Some(Ok(message)) => {
                    first_seen.get_or_insert_with(Instant::now);
                    // Every value holds a whole line (the JSON envelope adds to it).
                    let value_bytes = message.payload().map_or(0, <[u8]>::len);
                    if value_bytes < LINE_BYTES {
                        return Err(format!(
                            "raw consumer: the record at offset {} of {topic} has {value_bytes} value bytes",
                            message.offset()
                        ));
                    }
                    count += 1;
                }
                Some(Err(e)) => return Err(format!("raw consumer: {e}")),
            }
        }
        let done = Instant::now();
        let (client_cpu, broker_cpu) = self.since(&start, own_pid);
        Ok(Measurement {
            records: self.records,
            total: done - start.started,
            steady: done - first_seen.unwrap_or(start.started),
            client_cpu,
            broker_cpu,
            worker_peak_rss_kib: None,
            slowest_rate: None,
        })
    }

    /// A worker config with its own offsets file and REST port, plugins from the release build.
    fn worker_config(
        &self,
        format: Format,
        run: &str,
        rest_port: u16,
        offset_flush_ms: u64,
    ) -> PathBuf {
        let plugins = self.dir.join("plugins");
        std::fs::create_dir_all(&plugins).expect("plugins dir");
        for plugin in [&self.built.file_plugin, &self.built.datagen_plugin] {
            std::fs::copy(plugin, plugins.join(plugin.file_name().expect("name")))
                .expect("copy a release plugin");
        }
        write_file(
            self.dir,
            &format!("{run}-worker.properties"),
            &format!(
                "bootstrap.servers={}\n{}offset.storage.file.filename={}\noffset.flush.interval.ms={offset_flush_ms}\nplugin.path={}\nlisteners=http://127.0.0.1:{rest_port}\n",
                self.broker.bootstrap(),
                format.converter_keys(),
                self.dir.join(format!("{run}.offsets")).display(),
                plugins.display()
            ),
        )
    }

    fn source_run(&self, format: Format, input: &Path, attempt: usize) -> Outcome {
        let run = format!("source-{}-{attempt}", format.name().to_ascii_lowercase());
        let topic = format.topic(attempt);
        let connector = write_file(
            self.dir,
            &format!("{run}.properties"),
            &format!(
                "name=bench-{run}\nconnector.class=FileStreamSource\ntasks.max=1\nfile={}\ntopic={topic}\nbatch.size={SOURCE_BATCH_SIZE}\n",
                input.display()
            ),
        );
        // Done is when the stored position covers the whole file.
        let offsets_file = self.dir.join(format!("{run}.offsets"));
        let probe = self.source_probe(&offsets_file, "position", LINE_BYTES as u64 + 1, &topic)?;
        self.worker_run(&run, format, SOURCE_OFFSET_FLUSH_MS, &connector, probe)
    }

    /// The raw clients, then FileStreamSource and FileStreamSink with each converter. The raw
    /// producer and the sources alternate their attempts, as the datagen phases do.
    fn file_phases(&self, input: &Path) -> (Outcome, Outcome, Vec<Run>) {
        let [raw_produce, string_source, json_source] = best_of_alternating([
            ("raw producer", &|attempt| {
                self.raw_produce(&format!("bench-raw-{attempt}"))
            }),
            ("FileStreamSource String", &|attempt| {
                self.source_run(Format::String, input, attempt)
            }),
            ("FileStreamSource JSON", &|attempt| {
                self.source_run(Format::Json, input, attempt)
            }),
        ]);
        let raw_consume = match &raw_produce {
            Ok(_) => best_of("raw consumer", |attempt| {
                self.raw_consume("bench-raw-0", attempt)
            }),
            Err(_) => Err("skipped: the raw producer failed".to_string()),
        };
        let mut runs = Vec::new();
        for (format, source) in [(Format::String, string_source), (Format::Json, json_source)] {
            let name = format.name();
            let skipped = || Err("skipped: the source run failed".to_string());
            let raw_read = match &source {
                Ok(_) => best_of(&format!("raw consumer on {}", format.topic(0)), |attempt| {
                    self.raw_consume(&format.topic(0), attempt)
                }),
                Err(_) => skipped(),
            };
            let sink = match &source {
                Ok(_) => best_of(&format!("FileStreamSink {name}"), |attempt| {
                    self.sink_run(format, attempt)
                }),
                Err(_) => skipped(),
            };
            runs.push(Run {
                format,
                source,
                raw_read,
                sink,
            });
        }
        (raw_produce, raw_consume, runs)
    }

    /// A datagen source writing `pageviews` records, through the transformation chain or not.
    fn datagen_run(&self, chain: Chain, attempt: usize) -> Outcome {
        let run = format!("datagen-{}-{attempt}", chain.name());
        let (topic, landed_topic) = chain.topics(attempt);
        let connector = write_file(
            self.dir,
            &format!("{run}.properties"),
            &format!(
                "name=bench-{run}\nconnector.class=io.kconnect.datagen.DatagenConnector\ntasks.max=1\n\
                 kafka.topic={topic}\nquickstart=pageviews\nmax.interval=0\niterations={}\n\
                 random.seed=1\nbatch.size={SOURCE_BATCH_SIZE}\n{}",
                self.records,
                chain.config()
            ),
        );
        // The stored offset is the count of records generated (datagen's `iteration`).
        let offsets_file = self.dir.join(format!("{run}.offsets"));
        let probe = self.source_probe(&offsets_file, "iteration", 1, &landed_topic)?;
        self.worker_run(
            &run,
            Format::String,
            SOURCE_OFFSET_FLUSH_MS,
            &connector,
            probe,
        )
    }

    /// A source run is done when the stored offset `field` (divided by `per_record`) covers
    /// every record: the worker stores an offset only once the broker acknowledged every record
    /// before it. When the records landed is told by the high watermark of `topic`, which moves
    /// with every appended batch (a count that does not depend on the broker's batch
    /// accounting, which differed on the brokers this bench ran on).
    fn source_probe<'p>(
        &self,
        offsets_file: &'p Path,
        field: &'p str,
        per_record: u64,
        topic: &'p str,
    ) -> Result<impl FnMut() -> Probe + 'p, String> {
        let watcher: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.broker.bootstrap())
            .create()
            .map_err(|e| format!("watermark client: {e}"))?;
        let mut stored_records = 0;
        Ok(move || {
            if let Some(offset) = stored_offset(offsets_file, field) {
                stored_records = (offset / per_record) as usize;
            }
            // Before the worker creates the topic there is no watermark: nothing landed yet. The
            // client keeps the topic's absence in its metadata cache, so a miss asks again.
            let high_watermark = match watcher.fetch_watermarks(topic, 0, WATERMARK_TIMEOUT) {
                Ok((_, high)) => high.max(0) as u64,
                Err(_) => {
                    let _ = watcher.fetch_metadata(Some(topic), WATERMARK_TIMEOUT);
                    0
                }
            };
            Probe {
                done: stored_records,
                landed: high_watermark,
            }
        })
    }

    fn sink_run(&self, format: Format, attempt: usize) -> Outcome {
        let run = format!("sink-{}-{attempt}", format.name().to_ascii_lowercase());
        let output = self.dir.join(format!("{run}.txt"));
        let connector = write_file(
            self.dir,
            &format!("{run}.properties"),
            &format!(
                "name=bench-{run}\nconnector.class=FileStreamSink\ntasks.max=1\nfile={}\ntopics={}\n",
                output.display(),
                format.topic(0)
            ),
        );
        // Every line is the same length, so the file size counts the lines without reading them.
        let probe = || {
            let size = std::fs::metadata(&output).map_or(0, |m| m.len());
            Probe {
                done: size as usize / (LINE_BYTES + 1),
                landed: size,
            }
        };
        let measurement = self.worker_run(&run, format, SINK_OFFSET_FLUSH_MS, &connector, probe)?;
        check_sink_output(&output, self.records)?;
        Ok(measurement)
    }

    /// Runs a worker with one connector until the probe says every record is done, then reads
    /// its peak RSS and stops it. The records count from the first move of `landed` to its last.
    fn worker_run(
        &self,
        run: &str,
        format: Format,
        offset_flush_ms: u64,
        connector: &Path,
        mut probe: impl FnMut() -> Probe,
    ) -> Outcome {
        let rest_port = free_port();
        let worker_config = self.worker_config(format, run, rest_port, offset_flush_ms);
        let mut worker = standalone_worker_from(
            &self.built.kconnect,
            self.dir,
            &worker_config,
            &[connector],
            rest_port,
        );
        let pid = worker_pid(&worker).ok_or("the worker has no process id")?;
        let start = self.usage_now(pid);
        let deadline = start.started + PHASE_TIMEOUT;
        let mut landed = 0;
        let mut first_landed = None;
        let mut last_landed = None;
        loop {
            if let Some(status) = worker.try_exit() {
                return Err(format!(
                    "{run}: the worker exited with {status}:\n{}",
                    log_tail(&worker)
                ));
            }
            let now = Instant::now();
            let sample = probe();
            if sample.landed != landed {
                landed = sample.landed;
                first_landed.get_or_insert(now);
                last_landed = Some(now);
            }
            if sample.done >= self.records {
                break;
            }
            if now > deadline {
                return Err(format!(
                    "{run}: timed out after {PHASE_TIMEOUT:?} with {} of {} records:\n{}",
                    sample.done,
                    self.records,
                    log_tail(&worker)
                ));
            }
            std::thread::sleep(SAMPLE_EVERY);
        }
        let done = last_landed.unwrap_or(start.started);
        // Read before the stop: shutting down may allocate, and the figure is the running peak.
        let worker_peak_rss_kib = peak_rss_kib(pid);
        let (client_cpu, broker_cpu) = self.since(&start, pid);
        stop(&mut worker);
        Ok(Measurement {
            records: self.records,
            total: done - start.started,
            steady: done - first_landed.unwrap_or(start.started),
            client_cpu,
            broker_cpu,
            worker_peak_rss_kib,
            slowest_rate: None,
        })
    }
}

/// The largest value of the offset field `field` in a standalone worker's offsets file (none
/// while it is missing or being rewritten).
fn stored_offset(offsets_file: &Path, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(offsets_file).ok()?;
    let entries: serde_json::Value = serde_json::from_str(&text).ok()?;
    entries
        .as_array()?
        .iter()
        .filter_map(|entry| entry.get(1)?.get(field)?.as_u64())
        .max()
}

/// Runs `attempt` [`ATTEMPTS`] times and keeps the fastest, with the slowest rate and the
/// highest peak RSS of all; the first failure fails the phase.
fn best_of(phase: &str, attempt: impl Fn(usize) -> Outcome) -> Outcome {
    let [outcome] = best_of_alternating([(phase, &attempt)]);
    outcome
}

type Phase<'a> = (&'a str, &'a dyn Fn(usize) -> Outcome);

/// [`best_of`] for phases compared with each other, their attempts taken in turn (a, b, a, b,
/// …) so that a slow spell of the shared machine weighs on all of them. A failed attempt ends
/// its phase; the others go on.
fn best_of_alternating<const N: usize>(phases: [Phase<'_>; N]) -> [Outcome; N] {
    let mut outcomes: [Result<Best, String>; N] = std::array::from_fn(|_| Ok(Best::default()));
    for i in 0..ATTEMPTS {
        for ((phase, attempt), outcome) in phases.iter().zip(outcomes.iter_mut()) {
            if let Ok(best) = outcome {
                match attempt(i) {
                    Ok(measurement) => best.add(phase, i, measurement),
                    Err(e) => *outcome = Err(e),
                }
            }
        }
    }
    let mut phases = phases.iter();
    outcomes.map(|outcome| {
        let (phase, _) = phases.next().expect("one phase per outcome");
        outcome.and_then(|best| best.finish(phase))
    })
}

/// The fastest attempt of a phase so far, with the slowest rate and the highest RSS of all.
#[derive(Default)]
struct Best {
    fastest: Option<Measurement>,
    slowest_rate: Option<f64>,
    peak_rss_kib: Option<u64>,
}

impl Best {
    fn add(&mut self, phase: &str, attempt: usize, measurement: Measurement) {
        eprintln!(
            "{phase}, attempt {}: {:.0} records/s",
            attempt + 1,
            measurement.rate()
        );
        let rate = measurement.rate();
        self.slowest_rate = Some(self.slowest_rate.map_or(rate, |r| r.min(rate)));
        self.peak_rss_kib = self.peak_rss_kib.max(measurement.worker_peak_rss_kib);
        if self.fastest.as_ref().is_none_or(|b| rate > b.rate()) {
            self.fastest = Some(measurement);
        }
    }

    fn finish(self, phase: &str) -> Outcome {
        let mut fastest = self
            .fastest
            .ok_or_else(|| format!("{phase}: no attempt ran"))?;
        fastest.slowest_rate = self.slowest_rate;
        fastest.worker_peak_rss_kib = self.peak_rss_kib;
        Ok(fastest)
    }
}

/// SIGTERM, then a bounded wait; the handle's drop kills a worker that is still there.
fn stop(worker: &mut Worker) {
    worker.signal(libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(30);
    while worker.try_exit().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn log_tail(worker: &Worker) -> String {
    let logs = worker.logs();
    let lines: Vec<&str> = logs.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The sink file holds exactly the input lines, in order.
fn check_sink_output(output: &Path, records: usize) -> Result<(), String> {
    let file = File::open(output).map_err(|e| format!("{}: {e}", output.display()))?;
    let mut count = 0;
    for (i, read) in BufReader::new(file).lines().enumerate() {
        let text = read.map_err(|e| format!("{}: {e}", output.display()))?;
        if i >= records || text != line(i) {
            return Err(format!(
                "{}: line {} is {text:?}, expected {:?}",
                output.display(),
                i + 1,
                (i < records).then(|| line(i))
            ));
        }
        count += 1;
    }
    if count != records {
        return Err(format!(
            "{}: {count} lines, expected {records}",
            output.display()
        ));
    }
    Ok(())
}

fn secs(d: Option<Duration>) -> String {
    d.map_or("-".to_string(), |d| format!("{:.2}", d.as_secs_f64()))
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("-".to_string(), |k| format!("{:.1}", k as f64 / 1024.0))
}

fn row(label: &str, outcome: &Outcome) {
    match outcome {
        Ok(m) => {
            let cpu_per_record = m.client_cpu.map_or("-".to_string(), |c| {
                format!("{:.2}", c.as_secs_f64() * 1e6 / m.records as f64)
            });
            println!(
                "{label:<30} {:>11.0} {:>11} {:>9.2} {:>9.2} {:>9} {:>10} {:>10} {:>12}",
                m.rate(),
                m.slowest_rate
                    .map_or("-".to_string(), |r| format!("{r:.0}")),
                m.steady.as_secs_f64(),
                m.total.as_secs_f64(),
                mib(m.worker_peak_rss_kib),
                secs(m.client_cpu),
                secs(m.broker_cpu),
                cpu_per_record,
            )
        }
        Err(e) => println!("{label:<30} FAILED: {e}"),
    }
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "PASS"
    } else {
        "MISS"
    }
}

/// Prints the table and the target lines; true when a phase failed outright.
fn report(
    records: usize,
    file_phases: bool,
    raw_produce: &Outcome,
    raw_consume: &Outcome,
    runs: &[Run],
    transforms: &TransformRun,
) -> bool {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!();
    println!(
        "pipeline benchmark: {records} records of {LINE_BYTES} bytes, Apache Kafka {} broker (one KRaft node) on loopback, {cores} CPU(s), load average {}",
        kconnect_tests::kafka_version(),
        load.join(" ")
    );
    println!("rates count from the first record seen to the last; 'total' counts from the start of the phase (worker process start)");
    println!("each phase ran {ATTEMPTS} times: the fastest attempt is shown, with the slowest rate beside; RSS is the highest of all attempts");
    println!();
    println!(
        "{:<30} {:>11} {:>11} {:>9} {:>9} {:>9} {:>10} {:>10} {:>12}",
        "phase",
        "records/s",
        "slowest/s",
        "steady s",
        "total s",
        "RSS MiB",
        "client CPU",
        "broker CPU",
        "client µs/rec"
    );
    row("raw producer → bench-raw", raw_produce);
    row("raw consumer ← bench-raw", raw_consume);
    for run in runs {
        let topic = run.format.topic(0);
        row(
            &format!("FileStreamSource {} → {topic}", run.format.name()),
            &run.source,
        );
        row(&format!("raw consumer ← {topic}"), &run.raw_read);
        row(
            &format!("FileStreamSink {} ← {topic}", run.format.name()),
            &run.sink,
        );
    }
    row("Datagen String → topic", &transforms.plain);
    row("Datagen String + 3 transforms", &transforms.chained);
    println!();
    let ratio = |m: &Outcome, c: &Outcome| match (m, c) {
        (Ok(m), Ok(c)) => Some(m.rate() / c.rate()),
        _ => None,
    };
    let mut failed = file_phases && (raw_produce.is_err() || raw_consume.is_err());
    for run in runs {
        let name = run.format.name();
        let target = run.format.target_ratio();
        let line = |label: &str, ratio: Option<f64>, ceiling: &str, note: String| match ratio {
            Some(r) => println!(
                "{label:<12} {r:>5.2} × {ceiling:<30} (target ≥ {target:.1})  {}{note}",
                verdict(r >= target)
            ),
            None => println!("{label:<12} no ratio: a phase failed"),
        };
        line(
            &format!("{name} source"),
            ratio(&run.source, raw_produce),
            "raw producer",
            String::new(),
        );
        line(
            &format!("{name} sink"),
            ratio(&run.sink, &run.raw_read),
            &format!("raw consumer on {}", run.format.topic(0)),
            ratio(&run.sink, raw_consume)
                .map(|r| format!("   ({r:.2} × raw consumer on bench-raw)"))
                .unwrap_or_default(),
        );
        failed |= run.source.is_err() || run.raw_read.is_err() || run.sink.is_err();
        for (what, outcome) in [("source", &run.source), ("sink", &run.sink)] {
            if let Ok(m) = outcome {
                let label = format!("{name} {what}");
                match m.worker_peak_rss_kib {
                    Some(kib) => println!(
                        "{label:<12} peak RSS {:>5.1} MiB{:<22} (target ≤ 64 MiB)  {}",
                        kib as f64 / 1024.0,
                        "",
                        verdict(kib <= RSS_TARGET_KIB)
                    ),
                    None => println!("{label:<12} peak RSS unknown"),
                }
            }
        }
    }
    let ratio_to_plain = ratio(&transforms.chained, &transforms.plain);
    match ratio_to_plain {
        Some(r) => println!(
            "{:<12} {r:>5.2} × {:<30} (target ≥ {TRANSFORMS_TARGET_RATIO:.1})  {}   ({} raw producer)",
            "transforms",
            "datagen without transforms",
            verdict(r >= TRANSFORMS_TARGET_RATIO),
            ratio(&transforms.chained, raw_produce)
                .map_or("-".to_string(), |r| format!("{r:.2} ×")),
        ),
        None => println!("{:<12} no ratio: a phase failed", "transforms"),
    }
    for (what, outcome) in [
        ("datagen", &transforms.plain),
        ("transforms", &transforms.chained),
    ] {
        if let Ok(Measurement {
            worker_peak_rss_kib: Some(kib),
            ..
        }) = outcome
        {
            println!(
                "{what:<12} peak RSS {:>5.1} MiB{:<22} (target ≤ 64 MiB)  {}",
                *kib as f64 / 1024.0,
                "",
                verdict(*kib <= RSS_TARGET_KIB)
            );
        }
    }
    failed |= transforms.plain.is_err() || transforms.chained.is_err();
    failed
}
