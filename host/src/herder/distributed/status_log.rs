//! The status topic: each worker writes the state of what it runs; every worker reads all of it
//! to answer `GET /connectors/{c}/status`.
//!
//! Kafka Connect's format: key `status-connector-<name>` or `status-task-<name>-<n>`, value
//! `{"state":…,"trace":…,"worker_id":"<host:port>","generation":<n>}`, null when deleted.
//!
//! Invariant: a status written under an older assignment generation by another worker never
//! replaces a newer one — the worker that lost a task may report it UNASSIGNED after the new
//! owner already reported it RUNNING.

use super::assignment::TaskId;
use super::membership::{Heartbeat, Members, HEARTBEAT_PREFIX};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusValue {
    pub state: String,
    pub trace: Option<String>,
    pub worker_id: String,
    #[serde(default)]
    pub generation: u64,
}

/// Every status read from the topic.
#[derive(Clone, Debug, Default)]
pub struct StatusBoard {
    pub connectors: BTreeMap<String, StatusValue>,
    pub tasks: BTreeMap<TaskId, StatusValue>,
    /// Workers' heartbeats (see [`super::membership`]).
    pub members: Members,
}

/// What a status key is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatusKey {
    Connector(String),
    Task(TaskId),
}

impl StatusKey {
    pub fn parse(key: &str) -> Option<StatusKey> {
        if let Some(name) = key.strip_prefix("status-connector-") {
            return Some(StatusKey::Connector(name.to_string()));
        }
        let rest = key.strip_prefix("status-task-")?;
        let (name, id) = rest.rsplit_once('-')?;
        Some(StatusKey::Task((name.to_string(), id.parse().ok()?)))
    }

    pub fn text(&self) -> String {
        match self {
            StatusKey::Connector(name) => format!("status-connector-{name}"),
            StatusKey::Task((name, id)) => format!("status-task-{name}-{id}"),
        }
    }
}

/// Whether `new` replaces `old`. A worker reports UNASSIGNED only for a unit it just stopped
/// because it lost it, possibly after the new owner reported it, possibly under a later
/// generation (a worker that was frozen catches up several at once): that report never hides
/// another worker's. Otherwise a later generation, or the same writer, wins.
fn replaces(old: Option<&StatusValue>, new: &StatusValue) -> bool {
    old.is_none_or(|old| {
        new.worker_id == old.worker_id
            || (new.state != "UNASSIGNED" && new.generation >= old.generation)
    })
}

impl StatusBoard {
    /// Applies one record, written about `seen`; malformed ones are skipped.
    pub fn apply(&mut self, key: &str, value: Option<&[u8]>, seen: Instant) {
        if let Some(worker) = key.strip_prefix(HEARTBEAT_PREFIX) {
            match value.map(serde_json::from_slice::<Heartbeat>) {
                None => self.members.record(worker, None),
                Some(Ok(_)) => self.members.record(worker, Some(seen)),
                Some(Err(e)) => log::debug!("status topic: skipping a malformed heartbeat: {e}"),
            }
            return;
        }
        let Some(key) = StatusKey::parse(key) else {
            log::debug!("status topic: skipping record {key}");
            return;
        };
        let value = match value.map(serde_json::from_slice::<StatusValue>) {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => {
                log::debug!("status topic: skipping a malformed status: {e}");
                return;
            }
        };
        match (key, value) {
            (StatusKey::Connector(name), None) => {
                self.connectors.remove(&name);
            }
            (StatusKey::Task(task), None) => {
                self.tasks.remove(&task);
            }
            (StatusKey::Connector(name), Some(v)) => {
                if replaces(self.connectors.get(&name), &v) {
                    self.connectors.insert(name, v);
                }
            }
            (StatusKey::Task(task), Some(v)) => {
                if replaces(self.tasks.get(&task), &v) {
                    self.tasks.insert(task, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(state: &str, worker: &str, generation: u64) -> Vec<u8> {
        serde_json::to_vec(&StatusValue {
            state: state.into(),
            trace: None,
            worker_id: worker.into(),
            generation,
        })
        .unwrap()
    }

    #[test]
    fn keys_round_trip_with_dashes_in_names() {
        for key in [
            StatusKey::Connector("a-b".into()),
            StatusKey::Task(("a-b-c".into(), 12)),
        ] {
            assert_eq!(StatusKey::parse(&key.text()), Some(key));
        }
        assert_eq!(StatusKey::parse("status-task-x"), None);
    }

    #[test]
    fn an_older_generation_from_another_worker_does_not_win() {
        let mut board = StatusBoard::default();
        board.apply(
            "status-task-c-0",
            Some(&value("RUNNING", "new:1", 5)),
            Instant::now(),
        );
        board.apply(
            "status-task-c-0",
            Some(&value("UNASSIGNED", "old:1", 4)),
            Instant::now(),
        );
        // A worker that was frozen catches up to a later generation before it reports.
        board.apply(
            "status-task-c-0",
            Some(&value("UNASSIGNED", "old:1", 9)),
            Instant::now(),
        );
        board.apply(
            "status-task-c-0",
            Some(&value("RUNNING", "old:1", 3)),
            Instant::now(),
        );
        assert_eq!(board.tasks[&("c".into(), 0)].state, "RUNNING");
        assert_eq!(board.tasks[&("c".into(), 0)].worker_id, "new:1");
        board.apply(
            "status-task-c-0",
            Some(&value("FAILED", "new:1", 5)),
            Instant::now(),
        );
        assert_eq!(board.tasks[&("c".into(), 0)].state, "FAILED");
        board.apply("status-task-c-0", None, Instant::now());
        assert!(board.tasks.is_empty());
        // Kafka Connect's own records parse too.
        board.apply(
            "status-connector-c",
            Some(br#"{"state":"RUNNING","trace":null,"worker_id":"10.0.0.1:8083","generation":3}"#),
            Instant::now(),
        );
        assert_eq!(board.connectors["c"].worker_id, "10.0.0.1:8083");
    }
}
