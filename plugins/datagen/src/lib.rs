//! # kconnect datagen plugin
//!
//! A source connector that makes up records, in the spirit of Confluent's datagen: the load
//! source of kconnect's benchmarks and demos. Class `io.kconnect.datagen.DatagenConnector` (the
//! worker also accepts `DatagenConnector` and `Datagen`).
//!
//! | key            | type   | default | meaning |
//! |----------------|--------|---------|---------|
//! | `kafka.topic`  | STRING | —       | Required, not empty: the topic every record goes to. |
//! | `quickstart`   | STRING | users   | The shape: `users`, `orders` or `pageviews` (any case). |
//! | `max.interval` | LONG   | 500     | Milliseconds between two records of a task when `throughput` is unset; 0 = as fast as possible. At most one day. |
//! | `throughput`   | DOUBLE | (unset) | Records per second per task; overrides `max.interval`. 0 or less = as fast as possible. |
//! | `iterations`   | LONG   | -1      | Records per task over its whole life (restarts included); less than 1 = unlimited. |
//! | `random.seed`  | LONG   | (unset) | Seed: the same seed gives the same records. `seed` is accepted too. Unset = picked from the clock when the connector starts. |
//! | `batch.size`   | INT    | 1000    | Most records one poll returns. |
//!
//! ## Records
//! The value is a STRUCT ([`Quickstart`] lists the fields); the key is the shape's id field as a
//! STRING (`userid`, `orderid` or `pageid`). Value and key schemas are built once per task and
//! shared by every record. No record timestamp is set (the worker's producer stamps it).
//!
//! Each of the `tasks.max` tasks generates its own stream: the connector hands every task its
//! `task.id`, the task count and the seed, and a task draws from a seed derived from both. Record
//! `n` of a task depends only on the seed, the task id and `n`, so a restarted task continues the
//! same sequence. A record's source partition is `{"task": <id>}` (INT32) and its offset
//! `{"iteration": <records generated so far, this one included>}` (INT64); a starting task reads
//! its stored offset and resumes there, which makes `iterations` a total, not a count per run.
//! Order ids interleave across tasks (`iteration * tasks + task.id`), so they do not repeat
//! until they wrap at `i32::MAX`.
//!
//! ## Pacing
//! With an interval (from `throughput` or `max.interval`) record `k` of a run is due at
//! `start + k * interval`, and a poll returns every record due by then (at most `batch.size`),
//! waiting for the next one if none is due yet, but never longer than the poll's timeout. A task
//! that falls more than a batch behind (a paused or slow worker) forgets the backlog instead of
//! bursting to catch up, so `throughput` is a ceiling. Without an interval every poll returns
//! `batch.size` records at once.
//!
//! ## Where this differs from Confluent's datagen
//! - Only the three built-in shapes: no `schema.filename`/`schema.string` Avro templates.
//! - `max.interval` is a fixed interval, not the upper bound of a random one, so that runs are
//!   reproducible and rates predictable.
//! - Reaching `iterations` leaves the task idle (empty polls) instead of failing it.
//! - Timestamps (`registertime`, `ordertime`) are drawn from Confluent's 2017–2018 ranges with
//!   the seeded generator, not from the clock; `viewtime` counts up from 1 in steps of 10.

mod connector;
pub mod quickstart;
mod rng;
mod task;

pub use connector::DatagenConnector;
pub use quickstart::{Generator, Quickstart, OFFSET_ITERATION_FIELD, PARTITION_TASK_FIELD};
pub use task::DatagenTask;

use kconnect_plugin_api::config::ParsedConfig;
use kconnect_plugin_api::{
    Config, ConfigDef, ConfigKey, ConfigType, ConnectError, Importance, Validator,
};
use std::time::Duration;

/// The topic records go to.
pub const TOPIC_CONFIG: &str = "kafka.topic";
/// The shape of the records.
pub const QUICKSTART_CONFIG: &str = "quickstart";
/// Milliseconds between records when `throughput` is unset.
pub const MAX_INTERVAL_CONFIG: &str = "max.interval";
/// Records per second per task.
pub const THROUGHPUT_CONFIG: &str = "throughput";
/// Records per task over its whole life.
pub const ITERATIONS_CONFIG: &str = "iterations";
/// The seed.
pub const RANDOM_SEED_CONFIG: &str = "random.seed";
/// Another name for [`RANDOM_SEED_CONFIG`].
pub const SEED_CONFIG: &str = "seed";
/// Most records per poll.
pub const BATCH_SIZE_CONFIG: &str = "batch.size";
/// Set by the connector in each task config: the task's id.
pub const TASK_ID_CONFIG: &str = "task.id";
/// Set by the connector in each task config: how many tasks there are.
pub const TASK_COUNT_CONFIG: &str = "task.count";

/// Default of [`MAX_INTERVAL_CONFIG`], as in Confluent's datagen.
pub const DEFAULT_MAX_INTERVAL_MS: i64 = 500;
/// Default of [`BATCH_SIZE_CONFIG`].
pub const DEFAULT_BATCH_SIZE: i32 = 1000;
/// The longest interval between two records: bounds the arithmetic of the pacing.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// The settings users write, with Confluent's names where Confluent has them.
pub fn datagen_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::required(
                TOPIC_CONFIG,
                ConfigType::String,
                "The topic the generated records are written to.",
            )
            .validator(Validator::NonEmptyString)
            .importance(Importance::High),
        )
        .define(
            ConfigKey::optional(
                QUICKSTART_CONFIG,
                ConfigType::String,
                Quickstart::Users.name(),
                "The shape of the generated records: users, orders or pageviews.",
            )
            .validator(Validator::ValidString {
                values: Quickstart::ALL.map(|q| q.name().to_string()).to_vec(),
                case_insensitive: true,
            })
            .recommended(&Quickstart::ALL.map(Quickstart::name))
            .importance(Importance::High),
        )
        .define(
            ConfigKey::optional(
                MAX_INTERVAL_CONFIG,
                ConfigType::Long,
                &DEFAULT_MAX_INTERVAL_MS.to_string(),
                "Milliseconds between two records of a task when throughput is unset; 0 generates as fast as possible.",
            )
            .validator(Validator::Range {
                min: Some(0.0),
                max: Some(MAX_INTERVAL.as_millis() as f64),
            }),
        )
        .define(ConfigKey::optional(
            THROUGHPUT_CONFIG,
            ConfigType::String,
            "",
            "Records per second per task; overrides max.interval. 0 or less generates as fast as possible. Unset: max.interval applies.",
        ))
        .define(ConfigKey::optional(
            ITERATIONS_CONFIG,
            ConfigType::Long,
            "-1",
            "Records each task generates over its whole life, restarts included; less than 1 means no limit.",
        ))
        .define(ConfigKey::optional(
            RANDOM_SEED_CONFIG,
            ConfigType::String,
            "",
            "Seed of the generator (a LONG): the same seed gives the same records. Unset: picked from the clock.",
        ))
        .define(
            ConfigKey::optional(
                SEED_CONFIG,
                ConfigType::String,
                "",
                "Another name for random.seed.",
            )
            .importance(Importance::Low),
        )
        .define(
            ConfigKey::optional(
                BATCH_SIZE_CONFIG,
                ConfigType::Int,
                &DEFAULT_BATCH_SIZE.to_string(),
                "The most records one poll returns.",
            )
            .validator(Validator::Range {
                min: Some(1.0),
                max: None,
            })
            .importance(Importance::Low),
        )
}

/// The connector's settings plus the keys the connector adds to each task config.
fn task_config_def() -> ConfigDef {
    let id_range = Validator::Range {
        min: Some(0.0),
        max: None,
    };
    datagen_config_def()
        .define(
            ConfigKey::optional(TASK_ID_CONFIG, ConfigType::Int, "0", "The task's id.")
                .validator(id_range),
        )
        .define(
            ConfigKey::optional(TASK_COUNT_CONFIG, ConfigType::Int, "1", "How many tasks.")
                .validator(Validator::Range {
                    min: Some(1.0),
                    max: None,
                }),
        )
}

/// How records are spaced in time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// Every poll returns a full batch.
    Fast,
    /// One record per interval.
    Every(Duration),
}

/// A validated config.
#[derive(Clone, Debug, PartialEq)]
pub struct DatagenSettings {
    pub topic: String,
    pub quickstart: Quickstart,
    pub pace: Pace,
    /// `None`: unlimited.
    pub iterations: Option<u64>,
    /// `None`: not given.
    pub seed: Option<u64>,
    pub batch_size: usize,
}

impl DatagenSettings {
    /// Parses a connector config, naming the first key that is wrong.
    pub fn parse(config: &Config) -> Result<DatagenSettings, DatagenError> {
        let parsed = datagen_config_def()
            .parse(config)
            .map_err(DatagenError::Config)?;
        DatagenSettings::from_parsed(config, &parsed)
    }

    fn from_parsed(
        config: &Config,
        parsed: &ParsedConfig,
    ) -> Result<DatagenSettings, DatagenError> {
        let quickstart = Quickstart::parse(parsed.string(QUICKSTART_CONFIG)).ok_or_else(|| {
            DatagenError::invalid(
                QUICKSTART_CONFIG,
                parsed.string(QUICKSTART_CONFIG),
                "String must be one of: users, orders, pageviews",
            )
        })?;
        let pace = match parse_throughput(config)? {
            Some(per_second) if per_second > 0.0 => {
                match Duration::try_from_secs_f64(1.0 / per_second) {
                    Ok(interval) if interval.is_zero() => Pace::Fast,
                    Ok(interval) if interval <= MAX_INTERVAL => Pace::Every(interval),
                    _ => {
                        return Err(DatagenError::invalid(
                            THROUGHPUT_CONFIG,
                            &per_second.to_string(),
                            "a positive throughput must be at least one record per day",
                        ))
                    }
                }
            }
            Some(_) => Pace::Fast,
            None => match parsed.int(MAX_INTERVAL_CONFIG) {
                0 => Pace::Fast,
                // The validator bounds the value to [0, one day].
                millis => Pace::Every(Duration::from_millis(millis.unsigned_abs())),
            },
        };
        let iterations = Some(parsed.int(ITERATIONS_CONFIG))
            .filter(|n| *n >= 1)
            .map(i64::unsigned_abs);
        Ok(DatagenSettings {
            topic: parsed.string(TOPIC_CONFIG).to_string(),
            quickstart,
            pace,
            iterations,
            seed: parse_seed(config)?,
            batch_size: parsed.int(BATCH_SIZE_CONFIG).max(1) as usize,
        })
    }
}

/// The settings of one task: the connector's plus the keys it adds.
pub(crate) struct TaskSettings {
    pub settings: DatagenSettings,
    pub task_id: u32,
    pub task_count: u32,
}

impl TaskSettings {
    pub fn parse(config: &Config) -> Result<TaskSettings, DatagenError> {
        let parsed = task_config_def()
            .parse(config)
            .map_err(DatagenError::Config)?;
        let task_id = parsed.int(TASK_ID_CONFIG);
        let task_id = u32::try_from(task_id).map_err(|_| {
            DatagenError::invalid(TASK_ID_CONFIG, &task_id.to_string(), "not a task id")
        })?;
        let task_count = u32::try_from(parsed.int(TASK_COUNT_CONFIG)).unwrap_or(1);
        Ok(TaskSettings {
            settings: DatagenSettings::from_parsed(config, &parsed)?,
            task_id,
            task_count,
        })
    }
}

/// `throughput` as a number, `None` when unset or empty.
fn parse_throughput(config: &Config) -> Result<Option<f64>, DatagenError> {
    let Some(raw) = non_empty(config, THROUGHPUT_CONFIG) else {
        return Ok(None);
    };
    match raw.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Some(value)),
        _ => Err(DatagenError::invalid(
            THROUGHPUT_CONFIG,
            raw,
            "Not a number of type DOUBLE",
        )),
    }
}

/// The seed from `random.seed` or `seed`; both may be given only with the same value.
fn parse_seed(config: &Config) -> Result<Option<u64>, DatagenError> {
    let parse = |key: &str| -> Result<Option<i64>, DatagenError> {
        non_empty(config, key)
            .map(|raw| {
                raw.trim()
                    .parse::<i64>()
                    .map_err(|_| DatagenError::invalid(key, raw, "Not a number of type LONG"))
            })
            .transpose()
    };
    match (parse(RANDOM_SEED_CONFIG)?, parse(SEED_CONFIG)?) {
        (Some(a), Some(b)) if a != b => Err(DatagenError::ConflictingSeeds {
            random_seed: a,
            seed: b,
        }),
        // The seed's bits, so that negative seeds are as good as positive ones.
        (Some(seed), _) | (None, Some(seed)) => Ok(Some(seed as u64)),
        (None, None) => Ok(None),
    }
}

fn non_empty<'a>(config: &'a Config, key: &str) -> Option<&'a str> {
    config
        .get(key)
        .map(String::as_str)
        .filter(|raw| !raw.trim().is_empty())
}

/// The problems of the keys the [`ConfigDef`] cannot check by itself (types it has no notion of
/// "unset" for, and rules across keys), as `(key, message)`.
fn extra_problems(config: &Config) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if let Err(error) = parse_throughput(config) {
        problems.push((THROUGHPUT_CONFIG, error.to_string()));
    }
    if let Err(error) = parse_seed(config) {
        let key = match &error {
            DatagenError::Invalid { key, .. } if key == SEED_CONFIG => SEED_CONFIG,
            _ => RANDOM_SEED_CONFIG,
        };
        problems.push((key, error.to_string()));
    }
    problems
}

/// Everything that can go wrong in this plugin.
#[derive(Debug, thiserror::Error)]
pub enum DatagenError {
    /// A config problem the [`ConfigDef`] found, in Kafka's words.
    #[error("{0}")]
    Config(String),
    /// A value the [`ConfigDef`] cannot check.
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: String,
    },
    #[error(
        "random.seed ({random_seed}) and seed ({seed}) are both set and differ; set one of them"
    )]
    ConflictingSeeds { random_seed: i64, seed: i64 },
    /// The stored offset of a task is not an iteration count.
    #[error("stored offset of datagen task {task} is not a usable iteration count: expected {{\"iteration\": <non-negative integer>}}, found {found}")]
    StoredOffset { task: u32, found: String },
    /// The worker called a task before `start` (or after `stop`).
    #[error("{0} was called on a datagen task that is not started")]
    NotStarted(&'static str),
}

impl DatagenError {
    fn invalid(key: &str, value: &str, reason: &str) -> DatagenError {
        DatagenError::Invalid {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl From<DatagenError> for ConnectError {
    fn from(error: DatagenError) -> ConnectError {
        match error {
            DatagenError::Config(_)
            | DatagenError::Invalid { .. }
            | DatagenError::ConflictingSeeds { .. } => ConnectError::config(error.to_string()),
            other => ConnectError::failed(other.to_string()),
        }
    }
}

kconnect_plugin_api::export_plugin! {
    source_connectors: [DatagenConnector],
}

#[cfg(test)]
mod tests {
    use super::*;
    use kconnect_plugin_api::testkit::config_from;
    use kconnect_plugin_api::PluginKind;

    #[test]
    fn registry_exports_the_connector() {
        let manifest = kconnect_plugin_registry().manifest();
        assert_eq!(manifest.name, "kconnect-datagen-plugin");
        assert_eq!(manifest.classes.len(), 1);
        assert_eq!(
            manifest.classes[0].class,
            "io.kconnect.datagen.DatagenConnector"
        );
        assert_eq!(manifest.classes[0].kind, PluginKind::Source);
    }

    #[test]
    fn pace_comes_from_throughput_then_max_interval() {
        let pace = |pairs: &[(&str, &str)]| {
            let mut config = config_from([(TOPIC_CONFIG, "t")]);
            config.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            DatagenSettings::parse(&config).map(|s| s.pace)
        };
        assert_eq!(pace(&[]).unwrap(), Pace::Every(Duration::from_millis(500)));
        assert_eq!(pace(&[(MAX_INTERVAL_CONFIG, "0")]).unwrap(), Pace::Fast);
        assert_eq!(
            pace(&[(THROUGHPUT_CONFIG, "4"), (MAX_INTERVAL_CONFIG, "0")]).unwrap(),
            Pace::Every(Duration::from_millis(250))
        );
        assert_eq!(pace(&[(THROUGHPUT_CONFIG, "0")]).unwrap(), Pace::Fast);
        assert_eq!(pace(&[(THROUGHPUT_CONFIG, "-3")]).unwrap(), Pace::Fast);
        assert_eq!(pace(&[(THROUGHPUT_CONFIG, "1e300")]).unwrap(), Pace::Fast);
        let error = pace(&[(THROUGHPUT_CONFIG, "1e-9")]).unwrap_err();
        assert!(error.to_string().contains("one record per day"), "{error}");
        let error = pace(&[(MAX_INTERVAL_CONFIG, "-1")]).unwrap_err();
        assert!(error.to_string().contains("max.interval"), "{error}");
    }

    #[test]
    fn iterations_below_one_mean_unlimited() {
        for (raw, expected) in [
            ("-1", None),
            ("0", None),
            ("1", Some(1)),
            ("250", Some(250)),
        ] {
            let config = config_from([(TOPIC_CONFIG, "t"), (ITERATIONS_CONFIG, raw)]);
            assert_eq!(
                DatagenSettings::parse(&config).unwrap().iterations,
                expected,
                "{raw}"
            );
        }
    }

    #[test]
    fn seed_from_either_key() {
        let seed = |pairs: [(&str, &str); 2]| {
            let mut config = config_from(pairs);
            config.insert(TOPIC_CONFIG.into(), "t".into());
            DatagenSettings::parse(&config).map(|s| s.seed)
        };
        assert_eq!(
            seed([(SEED_CONFIG, "5"), (RANDOM_SEED_CONFIG, "")]).unwrap(),
            Some(5)
        );
        assert_eq!(
            seed([(RANDOM_SEED_CONFIG, "-1"), (SEED_CONFIG, " ")]).unwrap(),
            Some(u64::MAX)
        );
        assert_eq!(
            seed([(RANDOM_SEED_CONFIG, "7"), (SEED_CONFIG, "7")]).unwrap(),
            Some(7)
        );
        let error = seed([(RANDOM_SEED_CONFIG, "7"), (SEED_CONFIG, "8")]).unwrap_err();
        assert!(matches!(
            error,
            DatagenError::ConflictingSeeds {
                random_seed: 7,
                seed: 8
            }
        ));
    }
}
