//! `com.example.CounterSourceConnector`: emits 0, 1, 2… to a topic, the smallest useful
//! third-party source connector.
//!
//! | key             | type   | default | meaning |
//! |-----------------|--------|---------|---------|
//! | `topic`         | STRING | —       | Required: where the numbers go. |
//! | `start`         | LONG   | 0       | The first number, when nothing is stored yet. |
//! | `batch.size`    | INT    | 100     | Numbers per poll. |
//! | `poll.interval.ms` | LONG | 1000   | Pause between two batches. |
//!
//! One task, whatever `tasks.max` says (two counters would emit the same numbers). Each record
//! has no key, an INT64 value, the source partition `{"counter": "main"}` and the offset
//! `{"next": <the number after this one>}`, so a restarted task goes on where Kafka acknowledged.

use kconnect_plugin_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, ConnectResult, Connector,
    ConnectorContext, PluginClass, Schema, SchemaRef, SchemaType, SourceConnector, SourceMap,
    SourceRecord, SourceTask, TaskContext, Validator, Value,
};
use std::time::{Duration, Instant};

const TOPIC: &str = "topic";
const START: &str = "start";
const BATCH_SIZE: &str = "batch.size";
const POLL_INTERVAL_MS: &str = "poll.interval.ms";
const NEXT: &str = "next";

fn config_def() -> ConfigDef {
    let at_least = |min: f64| Validator::Range {
        min: Some(min),
        max: None,
    };
    ConfigDef::new()
        .define(
            ConfigKey::required(TOPIC, ConfigType::String, "Where the numbers go.")
                .validator(Validator::NonEmptyString),
        )
        .define(ConfigKey::optional(
            START,
            ConfigType::Long,
            "0",
            "The first number, when nothing is stored yet.",
        ))
        .define(
            ConfigKey::optional(BATCH_SIZE, ConfigType::Int, "100", "Numbers per poll.")
                .validator(at_least(1.0)),
        )
        .define(
            ConfigKey::optional(
                POLL_INTERVAL_MS,
                ConfigType::Long,
                "1000",
                "Pause between two batches, in milliseconds.",
            )
            .validator(at_least(0.0)),
        )
}

fn partition() -> SourceMap {
    SourceMap::new().with("counter", "main")
}

#[derive(Default)]
pub struct CounterSourceConnector {
    config: Option<Config>,
}

impl PluginClass for CounterSourceConnector {
    const CLASS: &'static str = "com.example.CounterSourceConnector";
    const DOC: &'static str = "Emits 0, 1, 2… to a topic.";
}

impl Connector for CounterSourceConnector {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn start(&mut self, config: Config, _context: ConnectorContext) -> ConnectResult<()> {
        config_def().parse(&config).map_err(ConnectError::config)?;
        self.config = Some(config);
        Ok(())
    }

    fn task_configs(&mut self, _max_tasks: usize) -> ConnectResult<Vec<Config>> {
        let config = self
            .config
            .clone()
            .ok_or_else(|| ConnectError::failed("the connector is not started"))?;
        Ok(vec![config])
    }

    fn stop(&mut self) -> ConnectResult<()> {
        self.config = None;
        Ok(())
    }
}

impl SourceConnector for CounterSourceConnector {
    type Task = CounterSourceTask;
}

#[derive(Default)]
pub struct CounterSourceTask {
    running: Option<Counter>,
}

struct Counter {
    topic: String,
    schema: SchemaRef,
    batch_size: i64,
    interval: Duration,
    next: i64,
    next_batch_at: Instant,
}

impl SourceTask for CounterSourceTask {
    fn start(&mut self, config: Config, context: TaskContext) -> ConnectResult<()> {
        let parsed = config_def().parse(&config).map_err(ConnectError::config)?;
        let next = match context.offset(&partition()) {
            None => parsed.int(START),
            Some(stored) => stored.get(NEXT).and_then(Value::as_i64).ok_or_else(|| {
                ConnectError::failed(format!("stored offset {stored:?} has no number {NEXT}"))
            })?,
        };
        log::info!("counter starts at {next}");
        self.running = Some(Counter {
            topic: parsed.string(TOPIC).to_string(),
            schema: SchemaRef::new(Schema::primitive(SchemaType::Int64)),
            batch_size: parsed.int(BATCH_SIZE),
            interval: Duration::from_millis(parsed.int(POLL_INTERVAL_MS).unsigned_abs()),
            next,
            next_batch_at: Instant::now(),
        });
        Ok(())
    }

    fn poll(&mut self, timeout: Duration) -> ConnectResult<Vec<SourceRecord>> {
        let counter = self
            .running
            .as_mut()
            .ok_or_else(|| ConnectError::failed("poll on a task that is not started"))?;
        // Wait for the next batch, but never past the timeout: an empty poll is fine.
        let wait = counter
            .next_batch_at
            .saturating_duration_since(Instant::now());
        if wait > timeout {
            std::thread::sleep(timeout);
            return Ok(Vec::new());
        }
        std::thread::sleep(wait);
        counter.next_batch_at = Instant::now() + counter.interval;
        let records = (0..counter.batch_size)
            .map(|_| {
                let n = counter.next;
                counter.next = n.wrapping_add(1);
                SourceRecord::new(
                    partition(),
                    SourceMap::new().with(NEXT, counter.next),
                    &counter.topic,
                    Some(counter.schema.clone()),
                    Value::Int64(n),
                )
            })
            .collect();
        Ok(records)
    }

    fn stop(&mut self) -> ConnectResult<()> {
        if let Some(counter) = self.running.take() {
            log::info!("counter stopped before {}", counter.next);
        }
        Ok(())
    }
}

kconnect_plugin_api::export_plugin! {
    source_connectors: [CounterSourceConnector],
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::testkit::{config_from, SourceHarness};

    fn numbers(records: &[SourceRecord]) -> Vec<i64> {
        records
            .iter()
            .filter_map(|r| r.record.value.as_i64())
            .collect()
    }

    #[test]
    fn counts_from_start_and_resumes_after_the_committed_number() {
        let config = config_from([
            (TOPIC, "numbers"),
            (START, "10"),
            (BATCH_SIZE, "3"),
            (POLL_INTERVAL_MS, "0"),
        ]);
        let mut harness = SourceHarness::<CounterSourceConnector>::new(config).unwrap();
        let first = harness.poll_until(5, Duration::from_secs(5)).unwrap();
        assert_eq!(numbers(&first), [10, 11, 12, 13, 14]);
        harness.commit().unwrap();
        harness.restart().unwrap();
        let resumed = harness.poll_until(2, Duration::from_secs(5)).unwrap();
        assert_eq!(numbers(&resumed), [15, 16]);
    }

    #[test]
    fn a_missing_topic_is_refused() {
        let error = SourceHarness::<CounterSourceConnector>::new(config_from([]))
            .err()
            .unwrap();
        assert!(error.message.contains("topic"), "{}", error.message);
    }
}
