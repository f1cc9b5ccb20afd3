//! Who is alive, and who leads: every worker writes a heartbeat record to the status topic every
//! `heartbeat.interval.ms` (key `kconnect-worker-<host:port>`), and every worker reads them all.
//! A worker whose last heartbeat is older than `session.timeout.ms` is gone; one that stops
//! cleanly writes a tombstone, so it is gone at once. The live worker with the smallest id leads:
//! it alone writes assignments.
//!
//! Why not the consumer-group protocol: the brokers these workers are tested against do not
//! start a new generation when a member's session expires, so the survivors are never told to
//! rejoin and the dead member's share stays orphaned (reproduced with a bare rdkafka consumer).
//! Heartbeats through a topic work on every Kafka-protocol broker, and the single-partition
//! config topic still orders every decision: two workers that briefly both think they lead
//! write assignments that every worker applies in the same order, computed from the same inputs.
//!
//! Invariant: a worker counts as joined once it read its own first heartbeat back, so it never
//! leads without having read the others' heartbeats written before its own.

use crate::error::{Result, WorkerError};
use crate::kafka::topic_log::TopicWriter;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub const HEARTBEAT_PREFIX: &str = "kconnect-worker-";

/// A heartbeat's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub worker_id: String,
    pub url: String,
    pub group_id: String,
}

/// Last heartbeat seen per worker.
#[derive(Clone, Debug, Default)]
pub struct Members {
    last_seen: BTreeMap<String, Instant>,
}

impl Members {
    /// Records a heartbeat (`Some(when)`) or a clean departure (`None`).
    pub fn record(&mut self, worker: &str, seen: Option<Instant>) {
        match seen {
            Some(when) => {
                let entry = self.last_seen.entry(worker.to_string()).or_insert(when);
                *entry = (*entry).max(when);
            }
            None => {
                self.last_seen.remove(worker);
            }
        }
    }

    /// Workers heard from within `session_timeout`.
    pub fn live(&self, session_timeout: Duration) -> BTreeSet<String> {
        let now = Instant::now();
        self.last_seen
            .iter()
            .filter(|(_, seen)| now.saturating_duration_since(**seen) <= session_timeout)
            .map(|(worker, _)| worker.clone())
            .collect()
    }
}

/// This worker's heartbeats; a tombstone when it leaves.
pub struct Liveness {
    writer: TopicWriter,
    topic: String,
    key: String,
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
    left: bool,
}

impl Liveness {
    /// Writes a first heartbeat (waiting for the broker), then one every `interval`.
    pub fn start(
        writer: TopicWriter,
        status_topic: &str,
        heartbeat: Heartbeat,
        interval: Duration,
    ) -> Result<Liveness> {
        let key = format!("{HEARTBEAT_PREFIX}{}", heartbeat.worker_id);
        let value = serde_json::to_vec(&heartbeat).expect("a heartbeat serialises to JSON");
        writer.send_blocking(status_topic, &key, Some(&value))?;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread = {
            let (writer, topic, key, stop) = (
                writer.clone(),
                status_topic.to_string(),
                key.clone(),
                stop.clone(),
            );
            std::thread::Builder::new()
                .name("heartbeat".to_string())
                .spawn(move || loop {
                    let (lock, wake) = &*stop;
                    let stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                    let (stopped, _) = wake
                        .wait_timeout_while(stopped, interval, |s| !*s)
                        .unwrap_or_else(|e| e.into_inner());
                    if *stopped {
                        return;
                    }
                    drop(stopped);
                    if let Err(e) = writer.send_blocking(&topic, &key, Some(&value)) {
                        log::warn!("cannot write this worker's heartbeat: {e}");
                    }
                })
                .map_err(|e| WorkerError::thread("the heartbeats", e))?
        };
        Ok(Liveness {
            writer,
            topic: status_topic.to_string(),
            key,
            stop,
            thread: Some(thread),
            left: false,
        })
    }

    /// Stops the heartbeats and tells the others this worker left.
    pub fn leave(&mut self) {
        if std::mem::replace(&mut self.left, true) {
            return;
        }
        let (lock, wake) = &*self.stop;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Err(e) = self.writer.send_blocking(&self.topic, &self.key, None) {
            log::warn!("cannot announce that this worker leaves: {e}");
        }
    }
}

impl Drop for Liveness {
    fn drop(&mut self) {
        self.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_expire_after_the_session_timeout_and_leave_at_once() {
        let mut members = Members::default();
        let now = Instant::now();
        members.record("a:1", Some(now));
        members.record("b:1", Some(now - Duration::from_secs(20)));
        members.record("c:1", Some(now));
        members.record("c:1", None);
        assert_eq!(
            members.live(Duration::from_secs(10)),
            BTreeSet::from(["a:1".to_string()])
        );
        // An older heartbeat read late does not make a worker look older.
        members.record("a:1", Some(now - Duration::from_secs(30)));
        assert!(members.live(Duration::from_secs(10)).contains("a:1"));
    }
}
