//! A sink connector's offsets are its consumer group's committed offsets (KIP-875): read, altered
//! and reset here while the connector is stopped, with a consumer that never joins the group
//! (Kafka accepts such commits for a group with no members).
//!
//! librdkafka's mock cluster (the embedded broker) refuses commits from outside the group, so
//! altering and resetting sink offsets needs a real broker.
//!
//! Resetting a partition commits its low watermark, which is where a sink with Kafka Connect's
//! `auto.offset.reset=earliest` would start anyway; it needs no group-deletion API, which not every
//! Kafka-compatible broker has.

use super::ClientSettings;
use crate::config::connector::Subscription;
use crate::config::Properties;
use crate::error::{Result, WorkerError};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::{Offset, TopicPartitionList};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);
/// A stopped sink's static member stays in its group until its session times out
/// (`session.timeout.ms`, 10 s by default for sink consumers).
const LEAVE_GRACE: Duration = Duration::from_secs(15);

/// One partition's committed position: the next offset the sink will read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Dropping a consumer right after a commit has been seen to hang for minutes (rust-rdkafka
/// #597/#611); drop it on a helper thread and stop waiting after `timeout`.
pub fn close_consumer<C: ConsumerContext + 'static>(consumer: BaseConsumer<C>, timeout: Duration) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("consumer-close".into())
        .spawn(move || {
            consumer.unsubscribe();
            drop(consumer);
            let _ = done_tx.send(());
        });
    if spawned.is_ok() && done_rx.recv_timeout(timeout).is_err() {
        log::warn!("a consumer did not close within {timeout:?}; leaving it behind");
    }
}

fn outside_consumer(clients: &ClientSettings, group: &str) -> Result<BaseConsumer> {
    Ok(clients
        .consumer(&Properties::new(), group, "kconnect-offsets")?
        .create()?)
}

/// Every partition of the topics a subscription covers.
fn partitions(consumer: &BaseConsumer, subscription: &Subscription) -> Result<Vec<(String, i32)>> {
    let metadata = consumer.fetch_metadata(None, TIMEOUT)?;
    let pattern = match subscription {
        Subscription::Pattern(p) => Some(
            regex::Regex::new(&format!("^(?:{p})$"))
                .map_err(|e| WorkerError::key("topics.regex", e.to_string()))?,
        ),
        Subscription::Topics(_) => None,
    };
    let wanted = |topic: &str| match (subscription, &pattern) {
        (Subscription::Topics(topics), _) => topics.iter().any(|t| t == topic),
        (_, Some(re)) => re.is_match(topic),
        _ => false,
    };
    Ok(metadata
        .topics()
        .iter()
        .filter(|t| wanted(t.name()))
        .flat_map(|t| {
            t.partitions()
                .iter()
                .map(move |p| (t.name().to_string(), p.id()))
        })
        .collect())
}

/// The committed offsets of `group` on the subscription's partitions (uncommitted ones omitted).
pub fn read(
    clients: &ClientSettings,
    group: &str,
    subscription: &Subscription,
) -> Result<Vec<GroupOffset>> {
    let consumer = outside_consumer(clients, group)?;
    let mut list = TopicPartitionList::new();
    for (topic, partition) in partitions(&consumer, subscription)? {
        list.add_partition(&topic, partition);
    }
    let committed = consumer.committed_offsets(list, TIMEOUT)?;
    let offsets = committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(offset) => Some(GroupOffset {
                topic: e.topic().to_string(),
                partition: e.partition(),
                offset,
            }),
            _ => None,
        })
        .collect();
    close_consumer(consumer, TIMEOUT);
    Ok(offsets)
}

/// Commits the given positions; `None` resets a partition to its low watermark.
pub fn alter(
    clients: &ClientSettings,
    group: &str,
    changes: &[(String, i32, Option<i64>)],
) -> Result<()> {
    let consumer = outside_consumer(clients, group)?;
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in changes {
        let offset = match offset {
            Some(offset) => *offset,
            None => consumer.fetch_watermarks(topic, *partition, TIMEOUT)?.0,
        };
        list.add_partition_offset(topic, *partition, Offset::Offset(offset))?;
    }
    // The stopped sink's consumer may still be leaving the group for a moment; Kafka refuses
    // commits from outside a group that has members.
    let started = std::time::Instant::now();
    let result = loop {
        let result = consumer.commit(&list, CommitMode::Sync);
        if result.is_ok() || started.elapsed() > LEAVE_GRACE {
            break result;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    close_consumer(consumer, TIMEOUT);
    result.map_err(|e| {
        WorkerError::kafka(
            format!("cannot commit offsets of group {group} (the group must have no members; the embedded broker never accepts this)"),
            e,
        )
    })
}

/// Resets every committed partition of `group` on the subscription.
pub fn reset(clients: &ClientSettings, group: &str, subscription: &Subscription) -> Result<()> {
    let changes: Vec<_> = read(clients, group, subscription)?
        .into_iter()
        .map(|o| (o.topic, o.partition, None))
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    alter(clients, group, &changes)
}
