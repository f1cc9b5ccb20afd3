//! Source offsets in Debezium's form, and the bookkeeping that turns acknowledged offsets into
//! the LSN the replication slot may confirm.
//!
//! The partition is `{"server": <topic.prefix>}`. A streamed change's offset is
//! `{"transaction_id": null, "lsn_proc", "messageType", "lsn_commit", "lsn", "txId", "ts_usec"}`
//! and a snapshot row's `{"last_snapshot_record", "lsn", "txId", "ts_usec", "snapshot": true}`,
//! as Debezium writes them, so that either connector resumes from the other's offsets.
//!
//! Meaning of the positions in kconnect's offsets (what resuming relies on):
//! - `lsn_commit`: the commit LSN of the change's transaction (pgoutput Begin's `final_lsn`);
//! - `lsn` = `lsn_proc`: the LSN of the change itself.
//!
//! Invariants:
//! - a change is skipped on resume exactly when it is at or before the stored position: its
//!   transaction committed before the stored `lsn_commit`, or it is that transaction's change at
//!   or before the stored `lsn_proc` ([`StoredOffset::already_delivered`]);
//! - the slot's confirmed LSN only ever moves to the end of a transaction (or a heartbeat
//!   position) all of whose records, and all records before them, are covered by the offset
//!   the worker stored after Kafka acknowledged them ([`AckTracker::acknowledged`]).

use kconnect_plugin_api::{SourceMap, Value};
use std::collections::VecDeque;

pub const PARTITION_SERVER: &str = "server";
pub const LSN: &str = "lsn";
pub const LSN_PROC: &str = "lsn_proc";
pub const LSN_COMMIT: &str = "lsn_commit";
pub const TX_ID: &str = "txId";
pub const TS_USEC: &str = "ts_usec";
pub const SNAPSHOT: &str = "snapshot";
pub const LAST_SNAPSHOT_RECORD: &str = "last_snapshot_record";
pub const TRANSACTION_ID: &str = "transaction_id";
pub const MESSAGE_TYPE: &str = "messageType";

/// The source partition of every record of a connector.
pub fn partition(topic_prefix: &str) -> SourceMap {
    SourceMap::new()
        .with(PARTITION_SERVER, topic_prefix)
        .shared()
}

/// Where a streamed change sits in the WAL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamPosition {
    pub lsn: u64,
    pub lsn_commit: u64,
    pub tx_id: u32,
    /// Commit time, microseconds since the Unix epoch.
    pub commit_time_us: i64,
}

/// The offset of a streamed change (`message_type` is Debezium's INSERT, UPDATE, DELETE…).
pub fn streaming_offset(position: &StreamPosition, message_type: &'static str) -> SourceMap {
    SourceMap::new()
        .with(TRANSACTION_ID, Value::Null)
        .with(LSN_PROC, position.lsn as i64)
        .with(MESSAGE_TYPE, message_type)
        .with(LSN_COMMIT, position.lsn_commit as i64)
        .with(LSN, position.lsn as i64)
        .with(TX_ID, position.tx_id as i64)
        .with(TS_USEC, position.commit_time_us)
}

/// The offset of a snapshot row; `last` marks the snapshot's last record.
pub fn snapshot_offset(lsn: u64, tx_id: i64, ts_usec: i64, last: bool) -> SourceMap {
    SourceMap::new()
        .with(LAST_SNAPSHOT_RECORD, last)
        .with(LSN, lsn as i64)
        .with(TX_ID, tx_id)
        .with(TS_USEC, ts_usec)
        .with(SNAPSHOT, true)
}

/// What the stored offset says about where to resume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoredOffset {
    /// Nothing stored: the connector never delivered a record.
    None,
    /// A snapshot was delivered in part: it must be redone.
    SnapshotIncomplete,
    /// The snapshot completed at `lsn` (the slot's consistent point); nothing streamed yet.
    SnapshotComplete { lsn: u64 },
    /// Changes up to this position were delivered.
    Streaming { lsn_commit: u64, lsn_proc: u64 },
}

/// An offset that cannot be resumed from.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("the stored offset {found} has no usable {missing}: cannot tell where to resume")]
pub struct OffsetError {
    pub found: String,
    pub missing: &'static str,
}

fn lsn_field(offset: &SourceMap, key: &str) -> Option<u64> {
    match offset.get(key)? {
        Value::String(s) => s.parse().ok(),
        v => v.as_i64().and_then(|n| u64::try_from(n).ok()),
    }
}

fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Boolean(b)) => *b,
        // Debezium 3 may write the snapshot kind as a string ("INITIAL"…); "false" is none.
        Some(Value::String(s)) => !s.is_empty() && !s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

impl StoredOffset {
    /// Reads a stored offset, Debezium's or kconnect's.
    pub fn parse(stored: Option<&SourceMap>) -> Result<StoredOffset, OffsetError> {
        let Some(offset) = stored else {
            return Ok(StoredOffset::None);
        };
        let describe = || format!("{offset:?}");
        if truthy(offset.get(SNAPSHOT)) {
            if !truthy(offset.get(LAST_SNAPSHOT_RECORD)) {
                return Ok(StoredOffset::SnapshotIncomplete);
            }
            let lsn = lsn_field(offset, LSN).ok_or_else(|| OffsetError {
                found: describe(),
                missing: LSN,
            })?;
            return Ok(StoredOffset::SnapshotComplete { lsn });
        }
        let lsn = lsn_field(offset, LSN);
        let lsn_proc = lsn_field(offset, LSN_PROC)
            .or(lsn)
            .ok_or_else(|| OffsetError {
                found: describe(),
                missing: LSN_PROC,
            })?;
        let lsn_commit = lsn_field(offset, LSN_COMMIT).or(lsn).unwrap_or(lsn_proc);
        Ok(StoredOffset::Streaming {
            lsn_commit,
            lsn_proc,
        })
    }

    /// Whether a change of the transaction committing at `lsn_commit`, at `lsn`, was delivered
    /// before.
    pub fn already_delivered(&self, lsn_commit: u64, lsn: u64) -> bool {
        match *self {
            StoredOffset::Streaming {
                lsn_commit: stored_commit,
                lsn_proc,
            } => lsn_commit < stored_commit || (lsn_commit == stored_commit && lsn <= lsn_proc),
            StoredOffset::SnapshotComplete { lsn: consistent } => lsn_commit < consistent,
            _ => false,
        }
    }
}

/// A transaction (or heartbeat) whose end the slot may confirm once its records are
/// acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    lsn_commit: u64,
    /// LSN of its last record; `None` when it produced no record.
    last_record_lsn: Option<u64>,
    /// What the slot may confirm after it.
    confirm_lsn: u64,
}

/// Tracks delivered-but-unconfirmed transactions, oldest first.
#[derive(Debug, Default)]
pub struct AckTracker {
    pending: VecDeque<Pending>,
    confirmed: u64,
}

impl AckTracker {
    /// A transaction was fully read: it committed at `lsn_commit`, its records (if any) end at
    /// `last_record_lsn`, and after it the slot may confirm `confirm_lsn` (the commit's end).
    pub fn transaction_done(
        &mut self,
        lsn_commit: u64,
        last_record_lsn: Option<u64>,
        confirm_lsn: u64,
    ) {
        self.pending.push_back(Pending {
            lsn_commit,
            last_record_lsn,
            confirm_lsn,
        });
    }

    /// Whether nothing read is waiting for an acknowledgement.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    /// The highest LSN confirmed so far.
    pub fn confirmed(&self) -> u64 {
        self.confirmed
    }

    /// Given the offset stored after Kafka acknowledged records, the new LSN the slot may
    /// confirm, if it moved.
    pub fn acknowledged(&mut self, stored: &StoredOffset) -> Option<u64> {
        let before = self.confirmed;
        while let Some(front) = self.pending.front() {
            let covered = match front.last_record_lsn {
                None => true,
                Some(lsn) => stored.already_delivered(front.lsn_commit, lsn),
            };
            if !covered {
                break;
            }
            self.confirmed = self.confirmed.max(front.confirm_lsn);
            self.pending.pop_front();
        }
        (self.confirmed > before).then_some(self.confirmed)
    }

    /// Whatever is pending is forgotten (a restarted stream re-reads it).
    pub fn clear(&mut self) {
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_have_debeziums_keys() {
        let o = streaming_offset(
            &StreamPosition {
                lsn: 200,
                lsn_commit: 300,
                tx_id: 7,
                commit_time_us: 5,
            },
            "INSERT",
        );
        let keys: Vec<&str> = o.iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "transaction_id",
                "lsn_proc",
                "messageType",
                "lsn_commit",
                "lsn",
                "txId",
                "ts_usec"
            ]
        );
        assert_eq!(
            StoredOffset::parse(Some(&o)).unwrap(),
            StoredOffset::Streaming {
                lsn_commit: 300,
                lsn_proc: 200
            }
        );
        let s = snapshot_offset(100, 3, 4, false);
        assert_eq!(
            StoredOffset::parse(Some(&s)).unwrap(),
            StoredOffset::SnapshotIncomplete
        );
        let s = snapshot_offset(100, 3, 4, true);
        assert_eq!(
            StoredOffset::parse(Some(&s)).unwrap(),
            StoredOffset::SnapshotComplete { lsn: 100 }
        );
    }

    #[test]
    fn debeziums_own_offsets_parse() {
        let o = SourceMap::new()
            .with("transaction_id", Value::Null)
            .with("lsn_proc", 63619219552i64)
            .with("lsn_commit", 63619219552i64)
            .with("lsn", 63619219552i64)
            .with("txId", 1650i64)
            .with("ts_usec", 1666268220374889i64);
        assert!(matches!(
            StoredOffset::parse(Some(&o)).unwrap(),
            StoredOffset::Streaming {
                lsn_proc: 63619219552,
                ..
            }
        ));
        let no_lsn = SourceMap::new().with("txId", 1i64);
        assert!(StoredOffset::parse(Some(&no_lsn))
            .unwrap_err()
            .to_string()
            .contains("no usable lsn_proc"));
    }

    #[test]
    fn resume_skips_exactly_what_was_delivered() {
        let stored = StoredOffset::Streaming {
            lsn_commit: 500,
            lsn_proc: 420,
        };
        assert!(stored.already_delivered(400, 450)); // an earlier transaction
        assert!(stored.already_delivered(500, 420)); // the stored change itself
        assert!(!stored.already_delivered(500, 421)); // later in the same transaction
        assert!(!stored.already_delivered(600, 10));
        assert!(!StoredOffset::None.already_delivered(1, 1));
    }

    #[test]
    fn the_slot_confirms_only_fully_acknowledged_transactions_in_order() {
        let mut t = AckTracker::default();
        t.transaction_done(100, Some(90), 110);
        t.transaction_done(200, None, 210); // filtered out: no records
        t.transaction_done(300, Some(290), 310);
        // Half of the first transaction acknowledged: nothing to confirm.
        let half = StoredOffset::Streaming {
            lsn_commit: 100,
            lsn_proc: 80,
        };
        assert_eq!(t.acknowledged(&half), None);
        let first = StoredOffset::Streaming {
            lsn_commit: 100,
            lsn_proc: 90,
        };
        // The empty transaction after it goes along.
        assert_eq!(t.acknowledged(&first), Some(210));
        assert_eq!(t.acknowledged(&first), None);
        let all = StoredOffset::Streaming {
            lsn_commit: 300,
            lsn_proc: 290,
        };
        assert_eq!(t.acknowledged(&all), Some(310));
        assert!(t.is_idle());
        assert_eq!(t.confirmed(), 310);
    }
}
