//! What one reconciling pass changes on this worker, decided from what the topics say and what
//! runs here, without running anything: [`plan`] is pure, `reconcile` carries it out.
//!
//! Rules:
//! - a connector stops when it is no longer assigned here, was deleted, its config changed, a
//!   restart was asked for it, or it became STOPPED while running; a STOPPED one stays here,
//!   shown STOPPED;
//! - a task stops when it is no longer assigned here, its connector was deleted, changed or
//!   became STOPPED, its own config changed, or a restart was asked for it;
//! - a connector assigned here starts unless it runs already, is STOPPED and known here, or
//!   FAILED with no restart asked (a failed connector waits for a restart);
//! - a task assigned here starts unless it runs (and keeps running), its connector is gone or
//!   STOPPED, or its index is beyond the connector's committed task configs.

use super::assignment::{TaskId, Units};
use super::config_log::ConfigState;
use crate::config::Properties;
use kconnect_herder_api::entities::TargetState;
use std::collections::{BTreeMap, BTreeSet};

/// A connector instance this worker holds, as the plan needs to see it.
pub struct RunningConnector<'a> {
    /// The config it was started with.
    pub raw: &'a Properties,
    /// Whether the instance runs (false: it failed to start, or it is STOPPED).
    pub started: bool,
    /// Whether its status is FAILED.
    pub failed: bool,
}

/// A task this worker runs, as the plan needs to see it.
pub struct RunningTask<'a> {
    pub connector_raw: &'a Properties,
    pub task_config: &'a Properties,
}

/// What runs on this worker before the pass.
#[derive(Default)]
pub struct Running<'a> {
    pub connectors: BTreeMap<&'a str, RunningConnector<'a>>,
    pub tasks: BTreeMap<&'a TaskId, RunningTask<'a>>,
}

/// Restarts asked for (REST, or automatic) since the last pass.
#[derive(Default)]
pub struct Restarts {
    pub connectors: BTreeSet<String>,
    pub tasks: BTreeSet<TaskId>,
}

/// What becomes of a unit this pass stops, and so what this worker writes of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Afterwards {
    /// Its connector was deleted: its status records are removed.
    Deleted,
    /// Assigned to another worker: this one reports it UNASSIGNED.
    MovedAway,
    /// A connector that stays here, STOPPED.
    StaysStopped,
    /// Stopped to start again with a new config or after a restart (or, for a task of a STOPPED
    /// connector, not at all): its owner writes its next status.
    Replaced,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PassPlan {
    pub stop_connectors: Vec<(String, Afterwards)>,
    pub stop_tasks: Vec<(TaskId, Afterwards)>,
    /// Connectors to start (one that is STOPPED is only registered here, shown STOPPED).
    pub start_connectors: Vec<String>,
    /// Tasks to start once their previous owner let go of them.
    pub start_tasks: Vec<TaskId>,
}

/// Decides the pass. `mine` is what the assignment gives this worker.
pub fn plan(state: &ConfigState, mine: &Units, running: &Running, restarts: &Restarts) -> PassPlan {
    let stopped = |name: &str| state.target(name) == TargetState::Stopped;
    let stop_connectors: Vec<(String, Afterwards)> = running
        .connectors
        .iter()
        .filter(|(name, c)| {
            !mine.connectors.contains(**name)
                || state.connectors.get(**name) != Some(c.raw)
                || restarts.connectors.contains(**name)
                || (stopped(name) && c.started)
        })
        .map(|(name, _)| {
            let afterwards = if !state.connectors.contains_key(*name) {
                Afterwards::Deleted
            } else if !mine.connectors.contains(*name) {
                Afterwards::MovedAway
            } else if stopped(name) {
                Afterwards::StaysStopped
            } else {
                Afterwards::Replaced
            };
            (name.to_string(), afterwards)
        })
        .collect();
    let stop_tasks: Vec<(TaskId, Afterwards)> = running
        .tasks
        .iter()
        .filter(|(id, t)| {
            let name = id.0.as_str();
            !mine.tasks.contains(**id)
                || state.connectors.get(name) != Some(t.connector_raw)
                || stopped(name)
                || state.tasks.get(name).and_then(|c| c.get(id.1 as usize)) != Some(t.task_config)
                || restarts.tasks.contains(**id)
        })
        .map(|(id, _)| {
            let afterwards = if !state.connectors.contains_key(&id.0) {
                Afterwards::Deleted
            } else if !mine.tasks.contains(*id) {
                Afterwards::MovedAway
            } else {
                Afterwards::Replaced
            };
            ((*id).clone(), afterwards)
        })
        .collect();

    let still_held = |name: &str| {
        running.connectors.get(name).filter(|_| {
            stop_connectors
                .iter()
                .all(|(n, after)| n != name || *after == Afterwards::StaysStopped)
        })
    };
    let start_connectors = mine
        .connectors
        .iter()
        .filter(|name| state.connectors.contains_key(*name))
        .filter(|name| match still_held(name) {
            None => true,
            Some(held) => {
                let stays_stopped = stop_connectors
                    .iter()
                    .any(|(n, after)| n == *name && *after == Afterwards::StaysStopped);
                let started = held.started && !stays_stopped;
                !(started || stopped(name) || (held.failed && !restarts.connectors.contains(*name)))
            }
        })
        .cloned()
        .collect();
    let start_tasks = mine
        .tasks
        .iter()
        .filter(|id| {
            !running.tasks.contains_key(id)
                || stop_tasks.iter().any(|(stopping, _)| stopping == *id)
        })
        .filter(|id| {
            state.connectors.contains_key(&id.0)
                && !stopped(&id.0)
                && state
                    .tasks
                    .get(&id.0)
                    .is_some_and(|c| (id.1 as usize) < c.len())
        })
        .cloned()
        .collect();
    PassPlan {
        stop_connectors,
        stop_tasks,
        start_connectors,
        start_tasks,
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

    /// A cluster with connector `c` (config `raw`) and `tasks` committed task configs.
    fn state(raw: &Properties, tasks: usize) -> ConfigState {
        let mut state = ConfigState::default();
        state.connectors.insert("c".into(), raw.clone());
        state.tasks.insert(
            "c".into(),
            (0..tasks)
                .map(|i| props(&[("task", &i.to_string())]))
                .collect(),
        );
        state
    }

    fn task(i: u32) -> TaskId {
        ("c".to_string(), i)
    }

    fn all_of_c(tasks: u32) -> Units {
        Units {
            connectors: BTreeSet::from(["c".to_string()]),
            tasks: (0..tasks).map(task).collect(),
        }
    }

    #[test]
    fn an_empty_worker_starts_what_it_is_given() {
        let raw = props(&[("connector.class", "X")]);
        let plan = plan(
            &state(&raw, 2),
            &all_of_c(2),
            &Running::default(),
            &Restarts::default(),
        );
        assert_eq!(
            plan,
            PassPlan {
                start_connectors: vec!["c".into()],
                start_tasks: vec![task(0), task(1)],
                ..PassPlan::default()
            }
        );
    }

    #[test]
    fn units_that_keep_assignment_config_and_target_are_left_alone() {
        let raw = props(&[("connector.class", "X")]);
        let state = state(&raw, 1);
        let config = &state.tasks["c"][0];
        let id = task(0);
        let running = Running {
            connectors: BTreeMap::from([(
                "c",
                RunningConnector {
                    raw: &raw,
                    started: true,
                    failed: false,
                },
            )]),
            tasks: BTreeMap::from([(
                &id,
                RunningTask {
                    connector_raw: &raw,
                    task_config: config,
                },
            )]),
        };
        let plan = plan(&state, &all_of_c(1), &running, &Restarts::default());
        assert_eq!(plan, PassPlan::default());
    }

    #[test]
    fn a_new_connector_config_restarts_the_connector_and_its_tasks() {
        let old = props(&[("connector.class", "X"), ("v", "1")]);
        let new = props(&[("connector.class", "X"), ("v", "2")]);
        let state = state(&new, 1);
        let config = &state.tasks["c"][0];
        let id = task(0);
        let running = Running {
            connectors: BTreeMap::from([(
                "c",
                RunningConnector {
                    raw: &old,
                    started: true,
                    failed: false,
                },
            )]),
            tasks: BTreeMap::from([(
                &id,
                RunningTask {
                    connector_raw: &old,
                    task_config: config,
                },
            )]),
        };
        let plan = plan(&state, &all_of_c(1), &running, &Restarts::default());
        assert_eq!(plan.stop_connectors, [("c".into(), Afterwards::Replaced)]);
        assert_eq!(plan.stop_tasks, [(task(0), Afterwards::Replaced)]);
        assert_eq!(plan.start_connectors, ["c".to_string()]);
        assert_eq!(plan.start_tasks, [task(0)]);
    }

    #[test]
    fn a_stopped_connector_stays_here_stopped_and_its_tasks_end() {
        let raw = props(&[("connector.class", "X")]);
        let mut state = state(&raw, 1);
        state.targets.insert("c".into(), TargetState::Stopped);
        let config = state.tasks["c"][0].clone();
        let id = task(0);
        let running = Running {
            connectors: BTreeMap::from([(
                "c",
                RunningConnector {
                    raw: &raw,
                    started: true,
                    failed: false,
                },
            )]),
            tasks: BTreeMap::from([(
                &id,
                RunningTask {
                    connector_raw: &raw,
                    task_config: &config,
                },
            )]),
        };
        let plan = plan(&state, &all_of_c(1), &running, &Restarts::default());
        assert_eq!(
            plan.stop_connectors,
            [("c".into(), Afterwards::StaysStopped)]
        );
        assert_eq!(plan.stop_tasks, [(task(0), Afterwards::Replaced)]);
        assert!(plan.start_connectors.is_empty() && plan.start_tasks.is_empty());
    }

    #[test]
    fn units_moved_away_or_deleted_stop_and_say_so() {
        let raw = props(&[("connector.class", "X")]);
        let state = state(&raw, 2);
        let config = state.tasks["c"][0].clone();
        let (t0, t1) = (task(0), task(1));
        let running_task = || RunningTask {
            connector_raw: &raw,
            task_config: &config,
        };
        let running = Running {
            connectors: BTreeMap::from([(
                "c",
                RunningConnector {
                    raw: &raw,
                    started: true,
                    failed: false,
                },
            )]),
            tasks: BTreeMap::from([(&t0, running_task()), (&t1, running_task())]),
        };
        let elsewhere = Units {
            connectors: BTreeSet::new(),
            tasks: BTreeSet::from([task(0)]),
        };
        let moved = plan(&state, &elsewhere, &running, &Restarts::default());
        assert_eq!(moved.stop_connectors, [("c".into(), Afterwards::MovedAway)]);
        assert_eq!(moved.stop_tasks, [(task(1), Afterwards::MovedAway)]);

        let deleted = plan(
            &ConfigState::default(),
            &all_of_c(2),
            &running,
            &Restarts::default(),
        );
        assert_eq!(deleted.stop_connectors, [("c".into(), Afterwards::Deleted)]);
        assert_eq!(
            deleted.stop_tasks,
            [
                (task(0), Afterwards::Deleted),
                (task(1), Afterwards::Deleted)
            ]
        );
        assert!(deleted.start_connectors.is_empty() && deleted.start_tasks.is_empty());
    }

    #[test]
    fn a_failed_connector_waits_for_a_restart() {
        let raw = props(&[("connector.class", "X")]);
        let state = state(&raw, 0);
        let running = Running {
            connectors: BTreeMap::from([(
                "c",
                RunningConnector {
                    raw: &raw,
                    started: false,
                    failed: true,
                },
            )]),
            tasks: BTreeMap::new(),
        };
        let idle = plan(&state, &all_of_c(0), &running, &Restarts::default());
        assert_eq!(idle, PassPlan::default());
        let restarts = Restarts {
            connectors: BTreeSet::from(["c".to_string()]),
            tasks: BTreeSet::new(),
        };
        let restarted = plan(&state, &all_of_c(0), &running, &restarts);
        assert_eq!(
            restarted.stop_connectors,
            [("c".into(), Afterwards::Replaced)]
        );
        assert_eq!(restarted.start_connectors, ["c".to_string()]);
    }

    #[test]
    fn tasks_beyond_the_committed_configs_wait() {
        let raw = props(&[("connector.class", "X")]);
        // The assignment already names task 1, whose config is not committed yet.
        let plan = plan(
            &state(&raw, 1),
            &all_of_c(2),
            &Running::default(),
            &Restarts::default(),
        );
        assert_eq!(plan.start_tasks, [task(0)]);
    }
}
