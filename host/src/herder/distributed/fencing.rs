//! Zombie fencing for exactly-once source connectors (KIP-618), the leader's part of
//! `PUT /connectors/{c}/fence`: before a new generation of a connector's tasks starts with
//! transactional producers, the producers of the previous generation are fenced out, so a task
//! that lives on somewhere (a "zombie") can no longer commit.
//!
//! Invariants, as in Kafka Connect's `DistributedHerder`:
//! - a connector needs a round only when its task configs were committed after its latest
//!   `tasks-fencing-` record ([`ConfigState::pending_fencing`]);
//! - the producers fenced are those of the previous generation, `task-count` of them, with
//!   Kafka's transactional ids `<group.id>-<connector>-<task>`;
//! - one task before and one after needs no fencing: the new task's producer has the same
//!   transactional id and fences the old one itself;
//! - the round ends with a new `tasks-fencing-` record for the current task count, written
//!   only once the fencing succeeded.
//!
//! [`ConfigState::pending_fencing`]: super::config_log::ConfigState::pending_fencing

use crate::error::WorkerError;
use crate::kafka::ClientSettings;
use rdkafka::producer::{BaseProducer, Producer};
use std::time::Duration;

/// What a fencing request has to do for one connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FencePlan {
    /// The latest task configs were already fenced for: nothing to do.
    UpToDate,
    /// Nothing to fence (no earlier transactional tasks, or one task before and after), but
    /// the current task count must be recorded.
    RecordCount(u32),
    /// Fence the producers of tasks `0..producers`, then record `count`.
    Fence { producers: u32, count: u32 },
}

/// The plan from what the config topic says of the connector.
pub fn plan(pending: bool, count_record: Option<u32>, task_count: u32) -> FencePlan {
    if !pending {
        return FencePlan::UpToDate;
    }
    match count_record {
        None => FencePlan::RecordCount(task_count),
        Some(1) if task_count == 1 => FencePlan::RecordCount(task_count),
        Some(producers) => FencePlan::Fence {
            producers,
            count: task_count,
        },
    }
}

/// Kafka Connect's transactional id of an exactly-once source task.
pub fn transactional_id(group_id: &str, connector: &str, task: u32) -> String {
    format!("{group_id}-{connector}-{task}")
}

/// Fences the producers with these transactional ids (Kafka's `Admin.fenceProducers`): a
/// producer that initialises a transactional id bumps its epoch, and the coordinator refuses
/// the older epoch from then on. Blocking.
pub fn fence_producers(
    clients: &ClientSettings,
    transactional_ids: &[String],
    timeout: Duration,
) -> Result<(), WorkerError> {
    for id in transactional_ids {
        let mut config = clients.producer(&Default::default(), "kconnect-zombie-fencing")?;
        config.set("transactional.id", id);
        let producer: BaseProducer = config
            .create()
            .map_err(|e| WorkerError::kafka(format!("fencing producer {id}"), e))?;
        producer
            .init_transactions(timeout)
            .map_err(|e| WorkerError::kafka(format!("fencing producer {id}"), e))?;
        log::debug!("fenced out earlier producers with transactional id {id}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_follows_kafkas_cases() {
        assert_eq!(plan(false, Some(3), 3), FencePlan::UpToDate);
        assert_eq!(plan(false, None, 2), FencePlan::UpToDate);
        // First time with exactly-once: no transactional producers can exist yet.
        assert_eq!(plan(true, None, 2), FencePlan::RecordCount(2));
        // One task before, one after: the new producer fences the old one.
        assert_eq!(plan(true, Some(1), 1), FencePlan::RecordCount(1));
        assert_eq!(
            plan(true, Some(1), 2),
            FencePlan::Fence {
                producers: 1,
                count: 2
            }
        );
        assert_eq!(
            plan(true, Some(3), 1),
            FencePlan::Fence {
                producers: 3,
                count: 1
            }
        );
    }

    #[test]
    fn transactional_ids_are_kafkas() {
        assert_eq!(
            transactional_id("connect-cluster", "my-source", 2),
            "connect-cluster-my-source-2"
        );
    }
}
