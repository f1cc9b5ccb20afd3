//! Source offsets in Debezium's form, and the bookkeeping that turns acknowledged offsets into
//! the LSN the replication slot may confirm.
//!
//! The partition is `{"server": <topic.prefix>}`. A streamed change's offset is
//! `{"transaction_id": null, "lsn_proc", "messageType", "lsn_commit", "lsn", "txId", "ts_usec"}`
//! and a snapshot row's `{"last_snapshot_record", "lsn", "txId", "ts_usec", "snapshot": true}`,
//! as Debezium writes them, so that either connector resumes from the other's offsets.
//!
//! Meaning of the positions, Debezium's (checked against Debezium 3.6's own offsets, which
//! kconnect resumes from):
//! - `lsn_commit`: the end of the last commit before the change's transaction (the first
//!   element of `source.sequence`); every transaction committed before it was delivered;
//! - `lsn` = `lsn_proc`: the LSN of the change itself; `txId`: its transaction.
//!
//! Invariants:
//! - a change is skipped on resume exactly when it is at or before the stored position: its
//!   transaction's commit record lies before the stored `lsn_commit`, or it is a change of the
//!   stored transaction (`txId`) at or before the stored `lsn_proc`
//!   ([`StoredOffset::already_delivered`]); a later transaction is never skipped, even when
//!   its changes were written to the WAL before the stored one's (interleaved transactions);
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
    /// The end of the last commit before the change's transaction.
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
    Streaming {
        lsn_commit: u64,
        lsn_proc: u64,
        /// The transaction of the change at `lsn_proc` (`None` for a heartbeat's position).
        tx_id: Option<u32>,
    },
}

/// A transaction of the stream: where its commit record is (pgoutput Begin's `final_lsn`) and
/// its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub final_lsn: u64,
    pub xid: u32,
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
        let tx_id = offset
            .get(TX_ID)
            .and_then(Value::as_i64)
            .and_then(|id| u32::try_from(id).ok());
        Ok(StoredOffset::Streaming {
            lsn_commit,
            lsn_proc,
            tx_id,
        })
    }

    /// Whether the change at `lsn` of transaction `tx` was delivered before.
    pub fn already_delivered(&self, tx: Transaction, lsn: u64) -> bool {
        match *self {
            StoredOffset::Streaming {
                lsn_commit,
                lsn_proc,
                tx_id,
            } => {
                match tx_id {
                    // A heartbeat's position lies between transactions: delivered are the
                    // transactions that committed at or before it. A transaction that began
                    // before it but committed after has early changes at lower LSNs that
                    // were never sent.
                    None => tx.final_lsn <= lsn_commit,
                    Some(id) => tx.final_lsn < lsn_commit || (id == tx.xid && lsn <= lsn_proc),
                }
            }
            StoredOffset::SnapshotComplete { lsn: consistent } => tx.final_lsn < consistent,
            _ => false,
        }
    }
}

/// A transaction (or heartbeat) whose end the slot may confirm once its records are
/// acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    tx: Transaction,
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
    /// Transaction `tx` was fully read: its records (if any) end at
    /// `last_record_lsn`, and after it the slot may confirm `confirm_lsn` (the commit's end).
    pub fn transaction_done(
        &mut self,
        tx: Transaction,
        last_record_lsn: Option<u64>,
        confirm_lsn: u64,
    ) {
        self.pending.push_back(Pending {
            tx,
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
                Some(lsn) => stored.already_delivered(front.tx, lsn),
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
                lsn_proc: 200,
                tx_id: Some(7)
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

    fn tx(final_lsn: u64, xid: u32) -> Transaction {
        Transaction { final_lsn, xid }
    }

    #[test]
    fn resume_skips_exactly_what_was_delivered() {
        // Delivered up to the change at 420 of transaction 7, which began after the commit
        // that ended at 400.
        let stored = StoredOffset::Streaming {
            lsn_commit: 400,
            lsn_proc: 420,
            tx_id: Some(7),
        };
        assert!(stored.already_delivered(tx(380, 6), 350)); // an earlier transaction
        assert!(stored.already_delivered(tx(500, 7), 420)); // the stored change itself
        assert!(!stored.already_delivered(tx(500, 7), 421)); // later in the same transaction
        assert!(!stored.already_delivered(tx(600, 8), 10)); // a later one
                                                            // A transaction that wrote before the stored change but committed after it.
        assert!(!stored.already_delivered(tx(600, 9), 410));
        assert!(!StoredOffset::None.already_delivered(tx(1, 1), 1));
        let heartbeat = StoredOffset::Streaming {
            lsn_commit: 700,
            lsn_proc: 700,
            tx_id: None,
        };
        assert!(heartbeat.already_delivered(tx(650, 9), 640));
        assert!(!heartbeat.already_delivered(tx(800, 10), 710));
        // Begun before the heartbeat, committed after it: its early changes were not sent.
        assert!(!heartbeat.already_delivered(tx(800, 11), 690));
    }

    #[test]
    fn the_slot_confirms_only_fully_acknowledged_transactions_in_order() {
        let mut t = AckTracker::default();
        t.transaction_done(tx(100, 1), Some(90), 110);
        t.transaction_done(tx(200, 2), None, 210); // filtered out: no records
        t.transaction_done(tx(300, 3), Some(290), 310);
        // Half of the first transaction acknowledged: nothing to confirm.
        let half = StoredOffset::Streaming {
            lsn_commit: 50,
            lsn_proc: 80,
            tx_id: Some(1),
        };
        assert_eq!(t.acknowledged(&half), None);
        let first = StoredOffset::Streaming {
            lsn_commit: 50,
            lsn_proc: 90,
            tx_id: Some(1),
        };
        // The empty transaction after it goes along.
        assert_eq!(t.acknowledged(&first), Some(210));
        assert_eq!(t.acknowledged(&first), None);
        let all = StoredOffset::Streaming {
            lsn_commit: 210,
            lsn_proc: 290,
            tx_id: Some(3),
        };
        assert_eq!(t.acknowledged(&all), Some(310));
        assert!(t.is_idle());
        assert_eq!(t.confirmed(), 310);
    }
}
