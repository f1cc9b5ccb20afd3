//! Which offsets a sink task may commit, kept apart from the task loop so the rule has tests.
//!
//! Invariants:
//! - a partition's committable offset is the offset after the last record `put` took from it
//!   (records a transformation dropped or the error handler skipped count as taken: they were
//!   dealt with);
//! - only partitions this task owns now are committable: a batch's offsets for a partition
//!   revoked while the batch was collected are dropped, so a task never commits for a partition
//!   another task may already be consuming;
//! - a revoked partition's offset is handed out once, to be committed before it is let go.

use kconnect_plugin_api::{PartitionOffset, TopicPartition};
use std::collections::{BTreeMap, BTreeSet};

/// The next offset per partition of a batch being collected, in order of first appearance.
#[derive(Debug, Default)]
pub struct BatchOffsets(Vec<(TopicPartition, i64)>);

impl BatchOffsets {
    /// Notes the record at `offset`; allocates only when the partition differs from the
    /// previous record's, which in a batch is rare.
    pub fn note(&mut self, topic: &str, partition: i32, offset: i64) {
        let next = offset + 1;
        match self
            .0
            .iter_mut()
            .rev()
            .find(|(tp, _)| tp.partition == partition && tp.topic == topic)
        {
            Some(entry) => entry.1 = next,
            None => self.0.push((TopicPartition::new(topic, partition), next)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a sink task owns and what it may commit of it.
#[derive(Debug, Default)]
pub struct SinkProgress {
    committable: BTreeMap<TopicPartition, i64>,
    assigned: BTreeSet<TopicPartition>,
}

impl SinkProgress {
    pub fn assign(&mut self, partitions: &[TopicPartition]) {
        self.assigned.extend(partitions.iter().cloned());
    }

    /// `put` took the batch: its offsets become committable where this task still owns the
    /// partition.
    pub fn delivered(&mut self, batch: BatchOffsets) {
        for (partition, next) in batch.0 {
            if self.assigned.contains(&partition) {
                self.committable.insert(partition, next);
            }
        }
    }

    /// The offsets to commit now.
    pub fn committable(&self) -> Vec<PartitionOffset> {
        self.committable
            .iter()
            .map(|(partition, offset)| PartitionOffset {
                partition: partition.clone(),
                offset: *offset,
            })
            .collect()
    }

    /// Lets partitions go; returns what to commit for them before they are closed.
    pub fn revoke(&mut self, revoked: &[TopicPartition]) -> Vec<PartitionOffset> {
        let mut last = Vec::new();
        for partition in revoked {
            if let Some(offset) = self.committable.remove(partition) {
                last.push(PartitionOffset {
                    partition: partition.clone(),
                    offset,
                });
            }
            self.assigned.remove(partition);
        }
        last
    }

    /// The partitions this task owns now.
    pub fn assigned(&self) -> Vec<TopicPartition> {
        self.assigned.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition::new(topic, partition)
    }

    fn offsets(progress: &SinkProgress) -> Vec<(String, i32, i64)> {
        progress
            .committable()
            .into_iter()
            .map(|po| {
                (
                    po.partition.topic.to_string(),
                    po.partition.partition,
                    po.offset,
                )
            })
            .collect()
    }

    #[test]
    fn the_offset_after_the_last_record_taken_is_committable() {
        let mut progress = SinkProgress::default();
        progress.assign(&[tp("a", 0), tp("a", 1)]);
        let mut batch = BatchOffsets::default();
        for (partition, offset) in [(0, 5), (1, 9), (0, 6), (0, 7)] {
            batch.note("a", partition, offset);
        }
        assert!(offsets(&progress).is_empty(), "nothing before put took it");
        progress.delivered(batch);
        assert_eq!(
            offsets(&progress),
            [("a".into(), 0, 8), ("a".into(), 1, 10)]
        );
    }

    #[test]
    fn a_partition_revoked_while_its_batch_was_collected_is_not_committed() {
        let mut progress = SinkProgress::default();
        progress.assign(&[tp("a", 0), tp("a", 1)]);
        let mut batch = BatchOffsets::default();
        batch.note("a", 0, 1);
        batch.note("a", 1, 1);
        assert!(progress.revoke(&[tp("a", 1)]).is_empty());
        progress.delivered(batch);
        assert_eq!(offsets(&progress), [("a".into(), 0, 2)]);
        assert_eq!(progress.assigned(), [tp("a", 0)]);
    }

    #[test]
    fn a_revoked_partition_is_committed_once_then_forgotten() {
        let mut progress = SinkProgress::default();
        progress.assign(&[tp("a", 0)]);
        let mut batch = BatchOffsets::default();
        batch.note("a", 0, 41);
        progress.delivered(batch);
        let last = progress.revoke(&[tp("a", 0)]);
        assert_eq!(last.len(), 1);
        assert_eq!(last[0].offset, 42);
        assert!(progress.revoke(&[tp("a", 0)]).is_empty());
        assert!(offsets(&progress).is_empty() && progress.assigned().is_empty());
    }
}
