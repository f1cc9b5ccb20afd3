//! Prometheus metrics (`GET /metrics`, Prometheus text format).
//!
//! Task threads only touch atomics and histograms they own through [`TaskMetrics`]; nothing on a
//! record's path takes a lock or looks a label set up. At scrape time [`WorkerMetrics`] walks the
//! registered tasks and writes their current values, so a stopped task's series disappear.

use super::errors::ErrorCounters;
use super::status::StatusCell;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What one task counts.
#[derive(Debug)]
pub struct TaskMetrics {
    /// Records returned by `poll` (source) or read from Kafka (sink).
    pub records_in: AtomicU64,
    /// Records acknowledged by Kafka (source) or given to `put` (sink).
    pub records_out: AtomicU64,
    /// Records per `poll` or `put` call.
    pub batch_size: Histogram,
    /// Seconds per `poll` or `put` call.
    pub call_seconds: Histogram,
    /// Seconds per offset commit: an exactly-once source's transaction commit (its offsets
    /// written and the commit acknowledged), another task's offset flush or sink commit.
    pub commit_seconds: Histogram,
    pub commits_succeeded: AtomicU64,
    pub commits_failed: AtomicU64,
    /// Milliseconds since the epoch of the last successful offset commit; 0 before the first.
    pub last_commit_ms: AtomicI64,
    /// Sink: records in the assigned partitions not yet read; -1 when unknown.
    pub consumer_lag: AtomicI64,
}

impl Default for TaskMetrics {
    fn default() -> TaskMetrics {
        TaskMetrics {
            records_in: AtomicU64::new(0),
            records_out: AtomicU64::new(0),
            batch_size: Histogram::new(exponential_buckets(1.0, 4.0, 9)),
            call_seconds: Histogram::new(exponential_buckets(0.0001, 4.0, 10)),
            commit_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            commits_succeeded: AtomicU64::new(0),
            commits_failed: AtomicU64::new(0),
            last_commit_ms: AtomicI64::new(0),
            consumer_lag: AtomicI64::new(-1),
        }
    }
}

impl TaskMetrics {
    /// Notes an offset commit.
    pub fn committed(&self, ok: bool) {
        if ok {
            self.commits_succeeded.fetch_add(1, Ordering::Relaxed);
            self.last_commit_ms
                .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
        } else {
            self.commits_failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A running task as the scrape sees it.
#[derive(Debug, Clone)]
pub struct TaskEntry {
    pub kind: &'static str,
    pub status: StatusCell,
    pub metrics: Arc<TaskMetrics>,
    pub errors: Arc<ErrorCounters>,
}

/// The worker's metrics: registered tasks plus worker-wide counts.
#[derive(Debug, Default)]
pub struct WorkerMetrics {
    tasks: Mutex<BTreeMap<(String, u32), TaskEntry>>,
    pub connectors: AtomicI64,
    pub rebalances: AtomicU64,
    pub plugin_load_failures: AtomicU64,
}

const STATES: [&str; 6] = [
    "UNASSIGNED",
    "RUNNING",
    "PAUSED",
    "STOPPED",
    "FAILED",
    "RESTARTING",
];

impl WorkerMetrics {
    pub fn register_task(&self, connector: &str, task: u32, entry: TaskEntry) {
        self.lock().insert((connector.to_string(), task), entry);
    }

    /// Forgets every task of a connector.
    pub fn remove_connector(&self, connector: &str) {
        self.lock().retain(|(c, _), _| c != connector);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, u32), TaskEntry>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The Prometheus text exposition of everything.
    pub fn render(self: &Arc<Self>) -> String {
        let mut registry = Registry::with_prefix("kconnect");
        registry.register_collector(Box::new(Collector(self.clone())));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &registry);
        out
    }
}

#[derive(Debug)]
struct Collector(Arc<WorkerMetrics>);

type Labels = Vec<(&'static str, String)>;

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: &[(Labels, u64)],
) -> Result<(), std::fmt::Error> {
    if series.is_empty() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in series {
        ConstCounter::new(*value).encode(metric.encode_family(labels)?)?;
    }
    Ok(())
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    series: &[(Labels, i64)],
) -> Result<(), std::fmt::Error> {
    if series.is_empty() {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in series {
        ConstGauge::new(*value).encode(metric.encode_family(labels)?)?;
    }
    Ok(())
}

impl prometheus_client::collector::Collector for Collector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let worker = &self.0;
        let tasks = worker.lock().clone();
        let labels = |(connector, task): &(String, u32), entry: &TaskEntry| -> Labels {
            vec![
                ("connector", connector.clone()),
                ("task", task.to_string()),
                ("type", entry.kind.to_string()),
            ]
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let per_task_u64 = |f: &dyn Fn(&TaskEntry) -> u64| -> Vec<(Labels, u64)> {
            tasks.iter().map(|(id, e)| (labels(id, e), f(e))).collect()
        };

        let mut states = Vec::new();
        for (id, entry) in &tasks {
            let current = entry.status.get().state.name();
            for state in STATES {
                let mut l = labels(id, entry);
                l.push(("state", state.to_string()));
                states.push((l, i64::from(current == state)));
            }
        }
        gauge(
            &mut encoder,
            "task_state",
            "1 for the task's current state.",
            &states,
        )?;
        counter(
            &mut encoder,
            "task_records_in",
            "Records polled from the source (source) or read from Kafka (sink).",
            &per_task_u64(&|e| load(&e.metrics.records_in)),
        )?;
        counter(
            &mut encoder,
            "task_records_out",
            "Records acknowledged by Kafka (source) or written with put (sink).",
            &per_task_u64(&|e| load(&e.metrics.records_out)),
        )?;
        counter(
            &mut encoder,
            "task_offset_commits_succeeded",
            "Successful offset commits.",
            &per_task_u64(&|e| load(&e.metrics.commits_succeeded)),
        )?;
        counter(
            &mut encoder,
            "task_offset_commits_failed",
            "Failed offset commits.",
            &per_task_u64(&|e| load(&e.metrics.commits_failed)),
        )?;
        counter(
            &mut encoder,
            "task_records_failed",
            "Records that failed a converter or transformation.",
            &per_task_u64(&|e| load(&e.errors.failed)),
        )?;
        counter(
            &mut encoder,
            "task_retries",
            "Retried operations.",
            &per_task_u64(&|e| load(&e.errors.retried)),
        )?;
        counter(
            &mut encoder,
            "task_records_skipped",
            "Failed records skipped under errors.tolerance=all.",
            &per_task_u64(&|e| load(&e.errors.skipped)),
        )?;
        counter(
            &mut encoder,
            "task_dlq_records",
            "Records written to the dead letter queue.",
            &per_task_u64(&|e| load(&e.errors.dead_lettered)),
        )?;

        let now = chrono::Utc::now().timestamp_millis();
        let ages: Vec<(Labels, i64)> = tasks
            .iter()
            .filter_map(|(id, e)| {
                let last = e.metrics.last_commit_ms.load(Ordering::Relaxed);
                (last > 0).then(|| (labels(id, e), (now - last) / 1000))
            })
            .collect();
        gauge(
            &mut encoder,
            "task_offset_commit_age_seconds",
            "Seconds since the last successful offset commit.",
            &ages,
        )?;
        let lags: Vec<(Labels, i64)> = tasks
            .iter()
            .filter(|(_, e)| e.kind == "sink")
            .filter_map(|(id, e)| {
                let lag = e.metrics.consumer_lag.load(Ordering::Relaxed);
                (lag >= 0).then(|| (labels(id, e), lag))
            })
            .collect();
        gauge(
            &mut encoder,
            "task_consumer_lag",
            "Sink: records in assigned partitions not yet read.",
            &lags,
        )?;

        for (name, help, pick) in [
            (
                "task_batch_size",
                "Records per poll (source) or put (sink).",
                0,
            ),
            (
                "task_call_seconds",
                "Duration of poll (source) or put (sink) calls.",
                1,
            ),
            (
                "task_commit_seconds",
                "Duration of offset commits (an exactly-once source's transaction commits).",
                2,
            ),
        ] {
            if tasks.is_empty() {
                continue;
            }
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
            for (id, entry) in &tasks {
                let histogram = match pick {
                    0 => &entry.metrics.batch_size,
                    1 => &entry.metrics.call_seconds,
                    _ => &entry.metrics.commit_seconds,
                };
                let l = labels(id, entry);
                histogram.encode(metric.encode_family(&l)?)?;
            }
        }

        let task_count = tasks.len() as i64;
        gauge(
            &mut encoder,
            "worker_connectors",
            "Connectors on this worker.",
            &[(vec![], worker.connectors.load(Ordering::Relaxed))],
        )?;
        gauge(
            &mut encoder,
            "worker_tasks",
            "Tasks on this worker.",
            &[(vec![], task_count)],
        )?;
        counter(
            &mut encoder,
            "worker_rebalances",
            "Consumer group rebalances seen by this worker's sink tasks.",
            &[(vec![], load(&worker.rebalances))],
        )?;
        gauge(
            &mut encoder,
            "worker_plugin_load_failures",
            "Plugin files that could not be loaded.",
            &[(
                vec![],
                worker.plugin_load_failures.load(Ordering::Relaxed) as i64,
            )],
        )?;
        Ok(())
    }
}
