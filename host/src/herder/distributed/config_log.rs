//! The config topic: its records, in Kafka Connect's format, and the state they add up to.
//!
//! Kafka Connect's keys and values (schemaless JSON):
//! - `connector-<name>` → `{"properties":{…}}`, null when deleted;
//! - `task-<name>-<n>` → `{"properties":{…}}`, taking effect only with the next
//!   `commit-<name>` → `{"tasks":<count>}`, so a half-written set of task configs is never used;
//! - `target-state-<name>` → `{"state":"STARTED"|"PAUSED","state.v2":"STARTED"|"PAUSED"|"STOPPED"}`;
//! - `restart-connector-<name>` → `{"include-tasks":bool,"only-failed":bool}`;
//! - `tasks-fencing-<name>` → `{"task-count":<n>}` (KIP-618): the leader fenced out the
//!   producers of the connector's earlier task generations, of which there were `n` tasks;
//!   task configs committed after it leave the connector pending another fencing.
//!
//! kconnect's own keys, written only under heartbeat membership (no Java worker shares such
//! a cluster), which a Kafka Connect worker would skip:
//! - `kconnect-assignment` → the [`Assignment`] the leader computed last;
//! - `kconnect-restart-task-<name>-<n>` → `{}`: restart one task.
//!
//! Invariant: the state is a pure function of the records read so far, in log order, so every
//! worker that read up to the same offset holds the same state.

use super::assignment::{Assignment, TaskId};
use super::session_key::{self, SessionKey};
use crate::config::Properties;
use kconnect_herder_api::entities::TargetState;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

pub const ASSIGNMENT_KEY: &str = "kconnect-assignment";
const RESTART_TASK_PREFIX: &str = "kconnect-restart-task-";
const TASK_COUNT_PREFIX: &str = "tasks-fencing-";

/// A restart asked through REST, in the order it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restart {
    Connector {
        name: String,
        include_tasks: bool,
        only_failed: bool,
    },
    Task(TaskId),
}

/// What the config topic says, as of the last record read.
#[derive(Clone, Debug)]
pub struct ConfigState {
    pub connectors: BTreeMap<String, Properties>,
    /// Absent: RUNNING.
    pub targets: BTreeMap<String, TargetState>,
    /// Committed task configs per connector.
    pub tasks: BTreeMap<String, Vec<Properties>>,
    /// Task configs written but not yet committed.
    uncommitted: BTreeMap<String, BTreeMap<u32, Properties>>,
    pub assignment: Assignment,
    /// Restart requests with their sequence number (counted from the start of reading), the
    /// latest few only.
    pub restarts: Vec<(u64, Restart)>,
    restart_count: u64,
    /// The offset after the last record read (Kafka's `ClusterConfigState.offset`); -1 before
    /// any. Members of the group compare it: an assignment is made at an offset every member
    /// reads up to before it acts on it.
    pub offset: i64,
    /// The latest KIP-507 session key (written by a leader under `sessioned`).
    pub session_key: Option<SessionKey>,
    /// The task count of each connector's latest `tasks-fencing-` record (KIP-618).
    pub task_count_records: BTreeMap<String, u32>,
    /// Connectors whose task configs were committed after their latest `tasks-fencing-`
    /// record: a round of zombie fencing is due before exactly-once tasks start.
    pub pending_fencing: BTreeSet<String>,
}

impl Default for ConfigState {
    fn default() -> ConfigState {
        ConfigState {
            connectors: BTreeMap::new(),
            targets: BTreeMap::new(),
            tasks: BTreeMap::new(),
            uncommitted: BTreeMap::new(),
            assignment: Assignment::default(),
            restarts: Vec::new(),
            restart_count: 0,
            offset: -1,
            session_key: None,
            task_count_records: BTreeMap::new(),
            pending_fencing: BTreeSet::new(),
        }
    }
}

const KEPT_RESTARTS: usize = 256;

/// `task-<connector>-<n>` and similar: the connector name may itself contain `-`.
fn split_task(rest: &str) -> Option<(String, u32)> {
    let (name, id) = rest.rsplit_once('-')?;
    Some((name.to_string(), id.parse().ok()?))
}

fn properties(value: &Json) -> Option<Properties> {
    value
        .get("properties")?
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

impl ConfigState {
    pub fn target(&self, connector: &str) -> TargetState {
        self.targets
            .get(connector)
            .copied()
            .unwrap_or(TargetState::Running)
    }

    /// Every task of every connector, as committed.
    pub fn task_ids(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.tasks
            .iter()
            .filter(|(name, _)| self.connectors.contains_key(*name))
            .flat_map(|(name, configs)| (0..configs.len() as u32).map(|i| (name.clone(), i)))
    }

    /// Applies one record; unknown or malformed records are skipped with a log line.
    pub fn apply(&mut self, key: &str, value: Option<&[u8]>) {
        let json = match value.map(serde_json::from_slice::<Json>) {
            None => None,
            Some(Ok(json)) => Some(json),
            Some(Err(e)) => {
                log::warn!("config topic: skipping record {key}: not JSON: {e}");
                return;
            }
        };
        if key == session_key::RECORD_KEY {
            match json.as_ref().map(SessionKey::parse) {
                Some(Some(session_key)) => self.session_key = Some(session_key),
                Some(None) => log::warn!("config topic: skipping malformed {key}"),
                None => {}
            }
        } else if let Some(name) = key.strip_prefix("connector-") {
            match json.as_ref() {
                None => {
                    self.connectors.remove(name);
                    self.targets.remove(name);
                    self.tasks.remove(name);
                    self.uncommitted.remove(name);
                }
                Some(v) => match properties(v) {
                    Some(props) => {
                        self.connectors.insert(name.to_string(), props);
                    }
                    None => log::warn!("config topic: skipping {key}: no properties"),
                },
            }
        } else if let Some(rest) = key.strip_prefix("task-") {
            let (Some((name, id)), Some(props)) =
                (split_task(rest), json.as_ref().and_then(properties))
            else {
                log::warn!("config topic: skipping malformed task record {key}");
                return;
            };
            self.uncommitted.entry(name).or_default().insert(id, props);
        } else if let Some(name) = key.strip_prefix("commit-") {
            let Some(count) = json.as_ref().and_then(|v| v.get("tasks")?.as_u64()) else {
                log::warn!("config topic: skipping malformed commit record {key}");
                return;
            };
            let mut written = self.uncommitted.remove(name).unwrap_or_default();
            let configs: Option<Vec<Properties>> =
                (0..count as u32).map(|i| written.remove(&i)).collect();
            match configs {
                Some(configs) => {
                    self.tasks.insert(name.to_string(), configs);
                    self.pending_fencing.insert(name.to_string());
                }
                None => log::warn!(
                    "config topic: commit of {count} task(s) for {name} without all their configs; keeping the previous ones"
                ),
            }
        } else if let Some(name) = key.strip_prefix("target-state-") {
            match json.as_ref() {
                None => {
                    self.targets.remove(name);
                }
                Some(v) => {
                    let state = v
                        .get("state.v2")
                        .or_else(|| v.get("state"))
                        .and_then(Json::as_str)
                        .map(|s| if s == "STARTED" { "RUNNING" } else { s })
                        .and_then(TargetState::parse);
                    match state {
                        Some(state) => {
                            self.targets.insert(name.to_string(), state);
                        }
                        None => log::warn!("config topic: skipping malformed {key}"),
                    }
                }
            }
        } else if let Some(name) = key.strip_prefix("restart-connector-") {
            let flag = |k: &str| {
                json.as_ref()
                    .and_then(|v| v.get(k)?.as_bool())
                    .unwrap_or(false)
            };
            self.push_restart(Restart::Connector {
                name: name.to_string(),
                include_tasks: flag("include-tasks"),
                only_failed: flag("only-failed"),
            });
        } else if let Some(name) = key.strip_prefix(TASK_COUNT_PREFIX) {
            let count = json.as_ref().and_then(|v| v.get("task-count")?.as_u64());
            match count.and_then(|c| u32::try_from(c).ok()) {
                Some(count) => {
                    self.task_count_records.insert(name.to_string(), count);
                    self.pending_fencing.remove(name);
                }
                None => log::warn!("config topic: skipping malformed task count record {key}"),
            }
        } else if let Some(rest) = key.strip_prefix(RESTART_TASK_PREFIX) {
            if let Some(task) = split_task(rest) {
                self.push_restart(Restart::Task(task));
            }
        } else if key == ASSIGNMENT_KEY {
            match json.map(serde_json::from_value::<Assignment>) {
                Some(Ok(assignment)) => self.assignment = assignment,
                Some(Err(e)) => log::warn!("config topic: skipping a malformed assignment: {e}"),
                None => self.assignment = Assignment::default(),
            }
        } else {
            log::debug!("config topic: skipping record {key}");
        }
    }

    fn push_restart(&mut self, restart: Restart) {
        self.restart_count += 1;
        self.restarts.push((self.restart_count, restart));
        if self.restarts.len() > KEPT_RESTARTS {
            self.restarts.remove(0);
        }
    }

    /// The sequence number of the latest restart request.
    pub fn restart_count(&self) -> u64 {
        self.restart_count
    }
}

/// Records to write, as (key, value); `None` is a tombstone.
pub type Records = Vec<(String, Option<Vec<u8>>)>;

fn bytes(value: Json) -> Option<Vec<u8>> {
    Some(value.to_string().into_bytes())
}

pub fn connector_record(name: &str, config: &Properties) -> (String, Option<Vec<u8>>) {
    (
        format!("connector-{name}"),
        bytes(json!({ "properties": config })),
    )
}

pub fn session_key_record(key: &SessionKey) -> (String, Option<Vec<u8>>) {
    (session_key::RECORD_KEY.to_string(), bytes(key.to_json()))
}

pub fn delete_connector_records(name: &str) -> Records {
    vec![
        (format!("connector-{name}"), None),
        (format!("target-state-{name}"), None),
    ]
}

/// Task configs and their commit, in the order that makes them take effect together.
pub fn task_records(name: &str, configs: &[Properties]) -> Records {
    let mut records: Records = configs
        .iter()
        .enumerate()
        .map(|(i, config)| {
            (
                format!("task-{name}-{i}"),
                bytes(json!({ "properties": config })),
            )
        })
        .collect();
    records.push((
        format!("commit-{name}"),
        bytes(json!({ "tasks": configs.len() })),
    ));
    records
}

pub fn target_record(name: &str, target: TargetState) -> (String, Option<Vec<u8>>) {
    // Kafka Connect before 3.5 reads only `state` and knows no STOPPED.
    let (v1, v2) = match target {
        TargetState::Running => ("STARTED", "STARTED"),
        TargetState::Paused => ("PAUSED", "PAUSED"),
        TargetState::Stopped => ("PAUSED", "STOPPED"),
    };
    (
        format!("target-state-{name}"),
        bytes(json!({ "state": v1, "state.v2": v2 })),
    )
}

pub fn restart_connector_record(
    name: &str,
    include_tasks: bool,
    only_failed: bool,
) -> (String, Option<Vec<u8>>) {
    (
        format!("restart-connector-{name}"),
        bytes(json!({ "include-tasks": include_tasks, "only-failed": only_failed })),
    )
}

/// KIP-618's task count record: the connector's producers up to `task_count` tasks are fenced.
pub fn task_count_record(name: &str, task_count: u32) -> (String, Option<Vec<u8>>) {
    (
        format!("{TASK_COUNT_PREFIX}{name}"),
        bytes(json!({ "task-count": task_count })),
    )
}

pub fn restart_task_record(task: &TaskId) -> (String, Option<Vec<u8>>) {
    (
        format!("{RESTART_TASK_PREFIX}{}-{}", task.0, task.1),
        bytes(json!({})),
    )
}

pub fn assignment_record(assignment: &Assignment) -> (String, Option<Vec<u8>>) {
    (
        ASSIGNMENT_KEY.to_string(),
        serde_json::to_vec(assignment).ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply_all(state: &mut ConfigState, records: Records) {
        for (key, value) in records {
            state.apply(&key, value.as_deref());
        }
    }

    fn props(pairs: &[(&str, &str)]) -> Properties {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn task_configs_take_effect_only_when_committed() {
        let mut state = ConfigState::default();
        let config = props(&[("connector.class", "FileStreamSink"), ("tasks.max", "2")]);
        apply_all(&mut state, vec![connector_record("my-sink", &config)]);
        let tasks = vec![props(&[("t", "0")]), props(&[("t", "1")])];
        let records = task_records("my-sink", &tasks);
        apply_all(&mut state, records[..2].to_vec());
        assert!(
            !state.tasks.contains_key("my-sink"),
            "uncommitted configs are not used"
        );
        apply_all(&mut state, records[2..].to_vec());
        assert_eq!(state.tasks["my-sink"], tasks);
        assert_eq!(
            state.task_ids().collect::<Vec<_>>(),
            vec![("my-sink".to_string(), 0), ("my-sink".to_string(), 1)]
        );
    }

    #[test]
    fn a_commit_missing_configs_keeps_the_previous_ones() {
        let mut state = ConfigState::default();
        apply_all(&mut state, task_records("c", &[props(&[("a", "1")])]));
        state.apply("commit-c", Some(br#"{"tasks":3}"#));
        assert_eq!(state.tasks["c"].len(), 1);
    }

    #[test]
    fn target_states_read_kafka_v1_and_v2() {
        let mut state = ConfigState::default();
        let (key, value) = target_record("c", TargetState::Stopped);
        state.apply(&key, value.as_deref());
        assert_eq!(state.target("c"), TargetState::Stopped);
        state.apply("target-state-c", Some(br#"{"state":"PAUSED"}"#));
        assert_eq!(state.target("c"), TargetState::Paused);
        state.apply("target-state-c", Some(br#"{"state":"STARTED"}"#));
        assert_eq!(state.target("c"), TargetState::Running);
        assert_eq!(state.target("other"), TargetState::Running);
    }

    #[test]
    fn deleting_a_connector_forgets_its_tasks_and_state() {
        let mut state = ConfigState::default();
        apply_all(
            &mut state,
            vec![connector_record("c", &props(&[("a", "b")]))],
        );
        apply_all(&mut state, task_records("c", &[props(&[])]));
        apply_all(&mut state, vec![target_record("c", TargetState::Paused)]);
        apply_all(&mut state, delete_connector_records("c"));
        assert!(state.connectors.is_empty() && state.tasks.is_empty() && state.targets.is_empty());
    }

    #[test]
    fn restarts_and_junk() {
        let mut state = ConfigState::default();
        apply_all(
            &mut state,
            vec![
                restart_connector_record("a-b", true, false),
                restart_task_record(&("a-b".to_string(), 3)),
                ("connector-x".to_string(), Some(b"{not json".to_vec())),
                ("session-key".to_string(), Some(b"{}".to_vec())),
            ],
        );
        assert_eq!(state.restart_count(), 2);
        assert_eq!(state.restarts[1].1, Restart::Task(("a-b".to_string(), 3)));
        assert!(state.connectors.is_empty());
    }

    #[test]
    fn task_configs_committed_after_the_task_count_record_are_pending_fencing() {
        let mut state = ConfigState::default();
        let config = Properties::from([("k".to_string(), "v".to_string())]);
        apply_all(
            &mut state,
            task_records("s", &[config.clone(), config.clone()]),
        );
        assert!(state.pending_fencing.contains("s"));
        assert_eq!(state.task_count_records.get("s"), None);

        apply_all(&mut state, vec![task_count_record("s", 2)]);
        assert!(!state.pending_fencing.contains("s"));
        assert_eq!(state.task_count_records.get("s"), Some(&2));

        apply_all(&mut state, task_records("s", &[config]));
        assert!(state.pending_fencing.contains("s"));
        assert_eq!(state.task_count_records.get("s"), Some(&2));

        // Kafka's own bytes for the record.
        assert_eq!(
            task_count_record("s", 2).1.unwrap(),
            br#"{"task-count":2}"#.to_vec()
        );
    }
}
