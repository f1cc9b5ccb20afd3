//! Who runs what: the leader's incremental, balanced assignment of connectors and tasks to the
//! workers alive.
//!
//! Invariants:
//! - A unit (connector or task) stays where it is while its worker is alive and not above its fair
//!   share: adding a connector or a worker moves as few units as possible, and the others keep
//!   running (no "stop the world" rebalance).
//! - Connectors and tasks are balanced separately; every live worker ends with ⌊n/w⌋ or ⌈n/w⌉
//!   units of each kind.
//! - A worker that vanished keeps its units for `scheduled.rebalance.max.delay.ms` (it may come
//!   back, e.g. a restart); after that they go to the others.
//! - The result depends only on the inputs, so recomputing without a change changes nothing.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A task: its connector and index.
pub type TaskId = (String, u32);

/// What one worker runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Units {
    #[serde(default)]
    pub connectors: BTreeSet<String>,
    #[serde(default)]
    pub tasks: BTreeSet<TaskId>,
}

/// The leader's decision, written to the config topic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Grows by one with each new assignment; statuses carry it, so a late status from an
    /// older assignment cannot hide a newer one.
    pub generation: u64,
    pub leader: String,
    pub workers: BTreeMap<String, Units>,
    /// Workers gone from the group whose units are held for them: worker → when it went (Unix
    /// time in ms).
    #[serde(default)]
    pub departed: BTreeMap<String, u64>,
}

impl Assignment {
    /// The worker a connector is assigned to.
    pub fn connector_owner(&self, name: &str) -> Option<&str> {
        self.workers
            .iter()
            .find(|(_, units)| units.connectors.contains(name))
            .map(|(worker, _)| worker.as_str())
    }

    /// The worker a task is assigned to.
    pub fn task_owner(&self, task: &TaskId) -> Option<&str> {
        self.workers
            .iter()
            .find(|(_, units)| units.tasks.contains(task))
            .map(|(worker, _)| worker.as_str())
    }

    /// Same placement (generation and leader aside).
    pub fn same_placement(&self, other: &Assignment) -> bool {
        self.workers == other.workers && self.departed == other.departed
    }
}

/// What the leader knows when it assigns.
pub struct Inputs<'a> {
    pub previous: &'a Assignment,
    pub live: &'a BTreeSet<String>,
    pub connectors: &'a BTreeSet<String>,
    pub tasks: &'a BTreeSet<TaskId>,
    pub now_ms: u64,
    pub delay_ms: u64,
}

/// Computes the next placement; the caller sets generation and leader. Also returns when (Unix
/// ms) a held worker's grace ends, so the leader looks again then.
pub fn rebalance(inputs: &Inputs<'_>) -> (Assignment, Option<u64>) {
    let mut departed = BTreeMap::new();
    let mut next_check: Option<u64> = None;
    // Workers that vanished: held during the grace period, released after.
    let mut held: Vec<&String> = Vec::new();
    for worker in inputs.previous.workers.keys() {
        if inputs.live.contains(worker) || inputs.delay_ms == 0 {
            continue;
        }
        let since = inputs
            .previous
            .departed
            .get(worker)
            .copied()
            .unwrap_or(inputs.now_ms);
        let until = since.saturating_add(inputs.delay_ms);
        if inputs.now_ms < until {
            departed.insert(worker.clone(), since);
            held.push(worker);
            next_check = Some(next_check.map_or(until, |n: u64| n.min(until)));
        }
    }
    let live: Vec<&String> = inputs.live.iter().collect();
    let previous = |pick: fn(&Units) -> Vec<Unit>| -> BTreeMap<&String, Vec<Unit>> {
        inputs
            .previous
            .workers
            .iter()
            .map(|(w, units)| (w, pick(units)))
            .collect()
    };
    let connectors: BTreeSet<Unit> = inputs.connectors.iter().cloned().map(Unit::C).collect();
    let tasks: BTreeSet<Unit> = inputs.tasks.iter().cloned().map(Unit::T).collect();
    let placed_connectors = balance(
        &previous(|u| u.connectors.iter().cloned().map(Unit::C).collect()),
        &live,
        &held,
        &connectors,
    );
    let placed_tasks = balance(
        &previous(|u| u.tasks.iter().cloned().map(Unit::T).collect()),
        &live,
        &held,
        &tasks,
    );
    let mut workers: BTreeMap<String, Units> = BTreeMap::new();
    for worker in live.iter().copied().chain(held.iter().copied()) {
        workers.entry(worker.clone()).or_default();
    }
    for (worker, units) in placed_connectors.into_iter().chain(placed_tasks) {
        let entry = workers.entry(worker).or_default();
        for unit in units {
            match unit {
                Unit::C(c) => {
                    entry.connectors.insert(c);
                }
                Unit::T(t) => {
                    entry.tasks.insert(t);
                }
            }
        }
    }
    (
        Assignment {
            generation: inputs.previous.generation,
            leader: inputs.previous.leader.clone(),
            workers,
            departed,
        },
        next_check,
    )
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Unit {
    C(String),
    T(TaskId),
}

/// Places `all` units on `live` workers (and keeps those of `held` workers), moving as few as
/// possible from `previous`.
fn balance(
    previous: &BTreeMap<&String, Vec<Unit>>,
    live: &[&String],
    held: &[&String],
    all: &BTreeSet<Unit>,
) -> BTreeMap<String, BTreeSet<Unit>> {
    let mut taken: BTreeSet<&Unit> = BTreeSet::new();
    // What a worker keeps of its previous units: those still existing, each unit once.
    let mut keep = |worker: &String| -> BTreeSet<Unit> {
        previous
            .get(worker)
            .into_iter()
            .flatten()
            .filter(|u| all.contains(*u) && taken.insert(*u))
            .cloned()
            .collect()
    };
    let mut result: BTreeMap<String, BTreeSet<Unit>> = held
        .iter()
        .map(|worker| ((*worker).clone(), keep(worker)))
        .collect();
    let mut loads: Vec<(String, BTreeSet<Unit>)> = live
        .iter()
        .map(|worker| ((*worker).clone(), keep(worker)))
        .collect();
    let mut pool: Vec<Unit> = all.iter().filter(|u| !taken.contains(u)).cloned().collect();
    if loads.is_empty() {
        return result;
    }
    let total = loads.iter().map(|(_, u)| u.len()).sum::<usize>() + pool.len();
    let base = total / loads.len();
    let extra = total % loads.len();
    // The most loaded keep the extra units: fewer moves.
    let mut order: Vec<usize> = (0..loads.len()).collect();
    order.sort_by(|a, b| {
        loads[*b]
            .1
            .len()
            .cmp(&loads[*a].1.len())
            .then(loads[*a].0.cmp(&loads[*b].0))
    });
    let mut targets = vec![base; loads.len()];
    for i in order.into_iter().take(extra) {
        targets[i] += 1;
    }
    for (i, (_, units)) in loads.iter_mut().enumerate() {
        while units.len() > targets[i] {
            if let Some(unit) = units.pop_last() {
                pool.push(unit);
            }
        }
    }
    pool.sort();
    for unit in pool {
        // The least loaded worker with room, by name among equals.
        let pick = (0..loads.len())
            .filter(|i| loads[*i].1.len() < targets[*i])
            .min_by(|a, b| {
                loads[*a]
                    .1
                    .len()
                    .cmp(&loads[*b].1.len())
                    .then(loads[*a].0.cmp(&loads[*b].0))
            });
        if let Some(i) = pick {
            loads[i].1.insert(unit);
        }
    }
    result.extend(loads);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn tasks(connector: &str, n: u32) -> BTreeSet<TaskId> {
        (0..n).map(|i| (connector.to_string(), i)).collect()
    }

    fn run(
        previous: &Assignment,
        live: &[&str],
        connectors: &[&str],
        all_tasks: &BTreeSet<TaskId>,
    ) -> Assignment {
        rebalance(&Inputs {
            previous,
            live: &set(live),
            connectors: &set(connectors),
            tasks: all_tasks,
            now_ms: 1_000,
            delay_ms: 0,
        })
        .0
    }

    fn moved(before: &Assignment, after: &Assignment) -> usize {
        let mut moves = 0;
        for (worker, units) in &before.workers {
            let now = after.workers.get(worker).cloned().unwrap_or_default();
            moves += units.connectors.difference(&now.connectors).count();
            moves += units.tasks.difference(&now.tasks).count();
        }
        moves
    }

    fn loads(a: &Assignment) -> Vec<(usize, usize)> {
        a.workers
            .values()
            .map(|u| (u.connectors.len(), u.tasks.len()))
            .collect()
    }

    #[test]
    fn a_fresh_cluster_spreads_every_unit() {
        let mut all = tasks("sink", 3);
        all.extend(tasks("source", 1));
        let a = run(
            &Assignment::default(),
            &["w1", "w2", "w3"],
            &["sink", "source"],
            &all,
        );
        assert_eq!(loads(&a), vec![(1, 2), (1, 1), (0, 1)]);
        let placed: usize = a.workers.values().map(|u| u.tasks.len()).sum();
        assert_eq!(placed, 4);
        // The sink's tasks land on three different workers.
        for i in 0..3 {
            assert!(a.task_owner(&("sink".to_string(), i)).is_some());
        }
        let owners: BTreeSet<_> = (0..3)
            .map(|i| a.task_owner(&("sink".to_string(), i)).unwrap())
            .collect();
        assert_eq!(owners.len(), 3);
    }

    #[test]
    fn recomputing_without_a_change_changes_nothing() {
        let all = tasks("c", 7);
        let a = run(&Assignment::default(), &["a", "b", "c"], &["c"], &all);
        let b = run(&a, &["a", "b", "c"], &["c"], &all);
        assert!(a.same_placement(&b));
    }

    #[test]
    fn a_new_connector_moves_nothing_that_runs() {
        let mut names: Vec<String> = (0..20).map(|i| format!("c{i:02}")).collect();
        let mut all: BTreeSet<TaskId> = names.iter().map(|n| (n.clone(), 0)).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let before = run(&Assignment::default(), &["w1", "w2"], &refs, &all);
        names.push("c20".to_string());
        all.insert(("c20".to_string(), 0));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let after = run(&before, &["w1", "w2"], &refs, &all);
        assert_eq!(moved(&before, &after), 0);
        assert!(after.connector_owner("c20").is_some());
    }

    #[test]
    fn a_new_worker_takes_a_fair_share_and_nothing_else_moves() {
        let all = tasks("c", 6);
        let before = run(&Assignment::default(), &["w1", "w2"], &["c"], &all);
        let after = run(&before, &["w1", "w2", "w3"], &["c"], &all);
        assert_eq!(after.workers["w3"].tasks.len(), 2);
        assert_eq!(moved(&before, &after), 2, "only what w3 takes moves");
    }

    #[test]
    fn a_dead_workers_units_go_to_the_others_at_once_without_delay() {
        let all = tasks("c", 6);
        let before = run(&Assignment::default(), &["w1", "w2", "w3"], &["c"], &all);
        let after = run(&before, &["w1", "w2"], &["c"], &all);
        assert!(!after.workers.contains_key("w3"));
        assert_eq!(loads(&after), vec![(1, 3), (0, 3)]);
        assert_eq!(
            moved(&before, &after),
            before.workers["w3"].tasks.len() + before.workers["w3"].connectors.len()
        );
    }

    #[test]
    fn a_vanished_worker_is_held_for_the_delay_then_released() {
        let all = tasks("c", 4);
        let before = run(&Assignment::default(), &["w1", "w2"], &["c"], &all);
        let live = set(&["w1"]);
        let connectors = set(&["c"]);
        let inputs = |previous, now_ms| Inputs {
            previous,
            live: &live,
            connectors: &connectors,
            tasks: &all,
            now_ms,
            delay_ms: 5_000,
        };
        let (held, next) = rebalance(&inputs(&before, 10_000));
        assert_eq!(held.workers["w2"], before.workers["w2"]);
        assert_eq!(held.departed["w2"], 10_000);
        assert_eq!(next, Some(15_000));
        let (still, _) = rebalance(&inputs(&held, 14_999));
        assert!(still.same_placement(&held));
        let (released, next) = rebalance(&inputs(&still, 15_000));
        assert!(!released.workers.contains_key("w2"));
        assert_eq!(released.workers["w1"].tasks.len(), 4);
        assert_eq!(next, None);
    }

    #[test]
    fn a_worker_back_within_the_delay_gets_its_units_back() {
        let all = tasks("c", 4);
        let before = run(&Assignment::default(), &["w1", "w2"], &["c"], &all);
        let connectors = set(&["c"]);
        let (held, _) = rebalance(&Inputs {
            previous: &before,
            live: &set(&["w1"]),
            connectors: &connectors,
            tasks: &all,
            now_ms: 1,
            delay_ms: 60_000,
        });
        let back = run(&held, &["w1", "w2"], &["c"], &all);
        assert!(back.same_placement(&before));
    }

    #[test]
    fn deleted_units_disappear_and_nobody_alive_means_nothing_placed() {
        let all = tasks("c", 2);
        let before = run(&Assignment::default(), &["w1"], &["c"], &all);
        let after = run(&before, &["w1"], &[], &BTreeSet::new());
        assert_eq!(after.workers["w1"], Units::default());
        let nobody = run(&before, &[], &["c"], &all);
        assert!(nobody.workers.is_empty());
    }
}
