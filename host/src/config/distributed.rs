//! The keys only a distributed worker reads, with Kafka Connect's names and defaults.

use super::Properties;
use crate::error::{Result, WorkerError};
use crate::herder::distributed::session_key::KeyConfig;
use kconnect_group::Subprotocol;
use std::time::Duration;

/// Names the topic of kconnect's config history.
pub const HISTORY_TOPIC_KEY: &str = "kconnect.config.history.topic";

/// One of the worker's own topics and the layout it is created with when missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternalTopic {
    /// The key that names it, for error messages.
    pub key: &'static str,
    pub name: String,
    pub partitions: i32,
    /// -1: the broker's default.
    pub replication_factor: i32,
}

/// `kconnect distributed` settings.
#[derive(Clone, Debug)]
pub struct DistributedConfig {
    pub group_id: String,
    pub config_topic: InternalTopic,
    pub offset_topic: InternalTopic,
    pub status_topic: InternalTopic,
    /// kconnect's config history (`kconnect.config.history.topic`, default
    /// `<config.storage.topic>.history`): one partition, every record kept.
    pub history_topic: InternalTopic,
    pub session_timeout: Duration,
    pub heartbeat_interval: Duration,
    /// How long a worker waits to join at start.
    pub rebalance_timeout: Duration,
    pub scheduled_rebalance_max_delay: Duration,
    /// `connect.protocol`: the most recent Connect subprotocol this worker offers.
    pub connect_protocol: Subprotocol,
    /// How workers find each other (`kconnect.membership`).
    pub membership: Membership,
    /// KIP-507's `inter.worker.*` keys.
    pub session_keys: KeyConfig,
    /// KIP-618's `exactly.once.source.support`.
    pub exactly_once_source: ExactlyOnceSourceSupport,
}

/// `exactly.once.source.support` (default `disabled`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExactlyOnceSourceSupport {
    /// Source tasks write and store offsets as without transactions.
    Disabled,
    /// A step towards `enabled` on a running cluster: workers prepare (the leader fences zombie
    /// tasks), source tasks do not use transactions yet.
    Preparing,
    /// Source tasks write each batch and its offsets in one transaction; offsets are read
    /// `read_committed`.
    Enabled,
}

impl ExactlyOnceSourceSupport {
    /// Source tasks run transactionally.
    pub fn transactional_tasks(self) -> bool {
        self == ExactlyOnceSourceSupport::Enabled
    }
}

/// Kafka's `in("disabled", "preparing", "enabled")`: lower case only.
fn exactly_once_source(raw: &Properties) -> Result<ExactlyOnceSourceSupport> {
    const KEY: &str = "exactly.once.source.support";
    match raw.get(KEY).map(|v| v.trim()) {
        None | Some("disabled") => Ok(ExactlyOnceSourceSupport::Disabled),
        Some("preparing") => Ok(ExactlyOnceSourceSupport::Preparing),
        Some("enabled") => Ok(ExactlyOnceSourceSupport::Enabled),
        Some(other) => Err(WorkerError::key(
            KEY,
            format!("Invalid value {other} for configuration {KEY}: String must be one of: disabled, preparing, enabled"),
        )),
    }
}

/// `kconnect.membership`: how the workers of a group find each other and who leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Membership {
    /// Kafka's group coordinator with Kafka Connect's protocol (the default): kconnect and
    /// Java workers can share the group.
    Group,
    /// Heartbeat records in the status topic: for brokers whose group coordinator does not
    /// start new generations when a member's session expires (kconnect workers only).
    Heartbeats,
}

/// Kafka's `connect.protocol` (default `sessioned`).
fn connect_protocol(raw: &Properties) -> Result<Subprotocol> {
    let value = raw
        .get("connect.protocol")
        .map_or("sessioned", |v| v.as_str());
    let protocol = Subprotocol::from_config(value).ok_or_else(|| {
        WorkerError::key(
            "connect.protocol",
            format!("Invalid value {value} for configuration connect.protocol: String must be one of: eager, compatible, sessioned"),
        )
    })?;
    Ok(protocol)
}

fn membership(raw: &Properties) -> Result<Membership> {
    match raw
        .get("kconnect.membership")
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("group") => Ok(Membership::Group),
        Some("heartbeats") => Ok(Membership::Heartbeats),
        Some(other) => Err(WorkerError::key(
            "kconnect.membership",
            format!("\"{other}\" is not one of: group, heartbeats"),
        )),
    }
}

fn required(raw: &Properties, key: &str) -> Result<String> {
    raw.get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            WorkerError::key(
                key,
                format!("Missing required configuration \"{key}\" which has no default value."),
            )
        })
}

fn number<T: std::str::FromStr>(raw: &Properties, key: &str, default: T) -> Result<T> {
    match raw.get(key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<T>()
            .map_err(|_| WorkerError::key(key, format!("\"{v}\" is not a valid number"))),
    }
}

fn millis(raw: &Properties, key: &str, default: u64) -> Result<Duration> {
    number(raw, key, default).map(Duration::from_millis)
}

fn topic(
    raw: &Properties,
    key: &'static str,
    partitions_key: Option<&str>,
    default_partitions: i32,
    replication_key: &str,
) -> Result<InternalTopic> {
    let partitions = match partitions_key {
        Some(k) => number(raw, k, default_partitions)?,
        None => default_partitions,
    };
    if partitions < 1 {
        return Err(WorkerError::key(
            partitions_key.unwrap_or(key),
            format!("{partitions} is not a partition count (at least 1)"),
        ));
    }
    let replication_factor: i32 = number(raw, replication_key, 3)?;
    if replication_factor == 0 || replication_factor < -1 {
        return Err(WorkerError::key(
            replication_key,
            format!("{replication_factor} is not a replication factor (at least 1, or -1 for the broker's default)"),
        ));
    }
    Ok(InternalTopic {
        key,
        name: required(raw, key)?,
        partitions,
        replication_factor,
    })
}

impl DistributedConfig {
    pub fn from_properties(raw: &Properties) -> Result<DistributedConfig> {
        let group_id = required(raw, "group.id")?;
        let config_topic = topic(
            raw,
            "config.storage.topic",
            None,
            1,
            "config.storage.replication.factor",
        )?;
        let offset_topic = topic(
            raw,
            "offset.storage.topic",
            Some("offset.storage.partitions"),
            25,
            "offset.storage.replication.factor",
        )?;
        let status_topic = topic(
            raw,
            "status.storage.topic",
            Some("status.storage.partitions"),
            5,
            "status.storage.replication.factor",
        )?;
        let history_topic = InternalTopic {
            key: HISTORY_TOPIC_KEY,
            name: raw
                .get(HISTORY_TOPIC_KEY)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| format!("{}.history", config_topic.name)),
            partitions: 1,
            replication_factor: config_topic.replication_factor,
        };
        let names = [&config_topic, &offset_topic, &status_topic, &history_topic];
        for (i, a) in names.iter().enumerate() {
            for b in &names[i + 1..] {
                if a.name == b.name {
                    return Err(WorkerError::key(
                        b.key,
                        format!(
                            "topic {} is also {}; the worker's topics must differ",
                            b.name, a.key
                        ),
                    ));
                }
            }
        }
        let session_timeout = millis(raw, "session.timeout.ms", 10_000)?;
        let heartbeat_interval = millis(raw, "heartbeat.interval.ms", 3_000)?;
        if heartbeat_interval >= session_timeout {
            return Err(WorkerError::key(
                "heartbeat.interval.ms",
                format!(
                    "{} ms must be lower than session.timeout.ms ({} ms)",
                    heartbeat_interval.as_millis(),
                    session_timeout.as_millis()
                ),
            ));
        }
        Ok(DistributedConfig {
            group_id,
            config_topic,
            offset_topic,
            status_topic,
            history_topic,
            session_timeout,
            heartbeat_interval,
            rebalance_timeout: millis(raw, "rebalance.timeout.ms", 60_000)?.max(session_timeout),
            scheduled_rebalance_max_delay: millis(
                raw,
                "scheduled.rebalance.max.delay.ms",
                300_000,
            )?,
            connect_protocol: connect_protocol(raw)?,
            membership: membership(raw)?,
            session_keys: KeyConfig::from_properties(raw)?,
            exactly_once_source: exactly_once_source(raw)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Properties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("group.id", "connect-cluster"),
            ("config.storage.topic", "connect-configs"),
            ("offset.storage.topic", "connect-offsets"),
            ("status.storage.topic", "connect-status"),
        ]
    }

    #[test]
    fn kafka_defaults_apply() {
        let c = DistributedConfig::from_properties(&props(&base())).unwrap();
        assert_eq!(c.offset_topic.partitions, 25);
        assert_eq!(c.status_topic.partitions, 5);
        assert_eq!(c.config_topic.partitions, 1);
        assert_eq!(c.config_topic.replication_factor, 3);
        assert_eq!(c.session_timeout, Duration::from_secs(10));
        assert_eq!(c.scheduled_rebalance_max_delay, Duration::from_secs(300));
    }

    #[test]
    fn missing_and_bad_keys_are_named() {
        let mut p = base();
        p.retain(|(k, _)| *k != "group.id");
        let e = DistributedConfig::from_properties(&props(&p)).unwrap_err();
        assert!(
            e.to_string().starts_with("group.id: Missing required"),
            "{e}"
        );

        let mut p = base();
        p.push(("offset.storage.partitions", "zero"));
        let e = DistributedConfig::from_properties(&props(&p)).unwrap_err();
        assert!(
            e.to_string().starts_with("offset.storage.partitions:"),
            "{e}"
        );

        let mut p = base();
        p.push(("status.storage.topic", "connect-configs"));
        p.retain(|(k, v)| *k != "status.storage.topic" || *v == "connect-configs");
        let e = DistributedConfig::from_properties(&props(&p)).unwrap_err();
        assert!(e.to_string().contains("must differ"), "{e}");

        let mut p = base();
        p.push(("exactly.once.source.support", "ENABLED"));
        let e = DistributedConfig::from_properties(&props(&p)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "exactly.once.source.support: Invalid value ENABLED for configuration exactly.once.source.support: String must be one of: disabled, preparing, enabled"
        );

        let mut p = base();
        p.push(("heartbeat.interval.ms", "20000"));
        let e = DistributedConfig::from_properties(&props(&p)).unwrap_err();
        assert!(e.to_string().starts_with("heartbeat.interval.ms:"), "{e}");
    }
}
