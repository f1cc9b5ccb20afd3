//! The leader's incremental cooperative assignment (KIP-415), with the semantics of Kafka
//! Connect's `IncrementalCooperativeAssignor`, so that a kconnect leader places work as a Java
//! leader would and the two can take turns leading one group.
//!
//! One round, from what every member says it runs and what the config topic holds:
//! - deleted units (in the last assignment, no longer configured) are revoked from their
//!   workers; units running on more than one worker are revoked from all of them;
//! - lost units (in the last assignment, run by no member now) wait for their worker for
//!   `scheduled.rebalance.max.delay.ms` (the remaining time is sent as `delay`), then go to the
//!   workers that joined empty meanwhile, or to everyone; with a max delay of 0 at once; when no
//!   member left (an assignment that did not reach its worker) at once as well;
//! - new units go to the least loaded workers, connectors and tasks balanced separately;
//! - a worker above its fair share gives units back (load-balancing revocations) when no delay
//!   is running; two revoking rounds in a row wait an exponentially growing delay (40×, up to the
//!   max delay) before revoking again, so that workers joining one by one settle without churn.
//!
//! Each member is sent only its changes: what to start ([`ClusterAssignment::assigned`]) and what
//! to stop ([`ClusterAssignment::revoked`]); it keeps the rest. The module is pure: the time is
//! passed in, the state it keeps between rounds is in [`Assignor`].

use crate::protocol::Units;
use std::collections::{BTreeMap, BTreeSet};

/// A task: its connector and index.
pub type TaskId = (String, i32);

/// What is configured: each connector and its number of committed tasks.
#[derive(Clone, Debug, Default)]
pub struct Configured {
    pub connectors: BTreeMap<String, u32>,
}

impl Configured {
    fn units(&self) -> Set {
        Set {
            connectors: self.connectors.keys().cloned().collect(),
            tasks: self
                .connectors
                .iter()
                .flat_map(|(c, n)| (0..*n as i32).map(move |i| (c.clone(), i)))
                .collect(),
        }
    }
}

/// Connectors and tasks as sets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Set {
    connectors: BTreeSet<String>,
    tasks: BTreeSet<TaskId>,
}

impl Set {
    fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    fn minus(&self, others: &[&Set]) -> Set {
        let mut out = self.clone();
        for other in others {
            out.connectors.retain(|c| !other.connectors.contains(c));
            out.tasks.retain(|t| !other.tasks.contains(t));
        }
        out
    }

    fn extend(&mut self, other: &Set) {
        self.connectors.extend(other.connectors.iter().cloned());
        self.tasks.extend(other.tasks.iter().cloned());
    }

    fn of(units: &Units) -> Set {
        Set {
            connectors: units.connectors.iter().cloned().collect(),
            tasks: units.tasks.iter().cloned().collect(),
        }
    }

    fn into_units(self) -> Units {
        Units {
            connectors: self.connectors.into_iter().collect(),
            tasks: self.tasks.into_iter().collect(),
        }
    }
}

/// One worker's load while a round is computed: its units in order (revocations take the
/// first ones, assignments append).
#[derive(Clone, Debug)]
struct Load {
    worker: String,
    connectors: Vec<String>,
    tasks: Vec<TaskId>,
}

impl Load {
    fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    fn remove(&mut self, set: &Set) {
        self.connectors.retain(|c| !set.connectors.contains(c));
        self.tasks.retain(|t| !set.tasks.contains(t));
    }
}

/// The outcome of a round for the whole group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterAssignment {
    /// Per member: what it starts.
    pub assigned: BTreeMap<String, Units>,
    /// Per member: what it stops.
    pub revoked: BTreeMap<String, Units>,
    /// Per member: everything it runs once it applied its changes.
    pub complete: BTreeMap<String, Units>,
    /// Milliseconds until the next rebalance the leader wants (lost work or successive
    /// revocations waiting); 0 for none.
    pub delay_ms: i32,
}

/// The leader's memory between rounds.
#[derive(Clone, Debug)]
pub struct Assignor {
    max_delay_ms: i32,
    previous_assignment: Set,
    previous_revocation: Set,
    revoked_in_previous: bool,
    /// Workers that joined empty while lost work waited, in the order found.
    candidates: Vec<String>,
    scheduled_rebalance_ms: i64,
    delay_ms: i32,
    previous_generation: i32,
    previous_members: BTreeSet<String>,
    successive_revoking_rounds: u32,
}

/// The pause before a revoking round that follows another: Kafka's exponential backoff with an
/// initial interval of 1 ms (0 when delays are off), a multiplier of 40 and the max delay as cap.
fn successive_revocation_backoff(max_delay_ms: i32, rounds: u32) -> i32 {
    if max_delay_ms <= 1 {
        return max_delay_ms.max(0);
    }
    let max = max_delay_ms as f64;
    let exponent_cap = max.ln() / 40f64.ln();
    let exponent = (rounds as f64).min(exponent_cap);
    40f64.powf(exponent).min(max) as i32
}

impl Assignor {
    /// `scheduled.rebalance.max.delay.ms`.
    pub fn new(max_delay_ms: i32) -> Assignor {
        Assignor {
            max_delay_ms,
            previous_assignment: Set::default(),
            previous_revocation: Set::default(),
            revoked_in_previous: false,
            candidates: Vec::new(),
            scheduled_rebalance_ms: 0,
            delay_ms: 0,
            previous_generation: -1,
            previous_members: BTreeSet::new(),
            successive_revoking_rounds: 0,
        }
    }

    /// The delay the last round asked for.
    pub fn delay_ms(&self) -> i32 {
        self.delay_ms
    }

    /// One round. `members` is what each member says it runs now; `last_completed_generation`
    /// the generation of the leader's last completed sync (a mismatch with the round the leader
    /// remembers makes it forget its previous assignment).
    pub fn assign(
        &mut self,
        configured: &Configured,
        last_completed_generation: i32,
        generation: i32,
        members: &BTreeMap<String, Units>,
        now_ms: i64,
    ) -> ClusterAssignment {
        if self.previous_generation != last_completed_generation {
            self.previous_assignment = Set::default();
        }
        let configured = configured.units();
        let active = members.values().fold(Set::default(), |mut all, units| {
            all.extend(&Set::of(units));
            all
        });
        // A revocation that did not take effect: what runs now is the truth.
        if !self.previous_revocation.is_empty() {
            let still_running = self
                .previous_revocation
                .connectors
                .iter()
                .any(|c| active.connectors.contains(c))
                || self
                    .previous_revocation
                    .tasks
                    .iter()
                    .any(|t| active.tasks.contains(t));
            if still_running {
                self.previous_assignment = active.clone();
            }
            self.previous_revocation = Set::default();
        }

        let deleted = self.previous_assignment.minus(&[&configured]);
        let duplicated = duplicated(members);
        let lost = self.previous_assignment.minus(&[&active, &deleted]);
        let created = configured.minus(&[&self.previous_assignment, &active]);

        let current: Vec<Load> = loads(members, Some(&deleted));
        let mut revoke: BTreeMap<String, Set> = BTreeMap::new();
        let deleted_here = held_by(&deleted, members);
        let duplicated_here = held_by(&duplicated, members);
        add_all(&mut revoke, &deleted_here);
        add_all(&mut revoke, &duplicated_here);

        let mut next: Vec<Load> = loads(members, None);
        remove_all(&mut next, &deleted_here);
        remove_all(&mut next, &duplicated_here);

        let lost_to_reassign = self.handle_lost(&lost, &mut next, now_ms);

        if self.delay_ms == 0 {
            let balancing = balancing_revocations(&configured, &next);
            if self.revoked_in_previous && !balancing.is_empty() {
                self.successive_revoking_rounds += 1;
                self.delay_ms = successive_revocation_backoff(
                    self.max_delay_ms,
                    self.successive_revoking_rounds,
                );
                if self.delay_ms != 0 {
                    self.scheduled_rebalance_ms = now_ms + self.delay_ms as i64;
                } else {
                    add_all(&mut revoke, &balancing);
                    remove_all(&mut next, &balancing);
                }
            } else if !balancing.is_empty() {
                add_all(&mut revoke, &balancing);
                remove_all(&mut next, &balancing);
                self.revoked_in_previous = true;
            } else if self.revoked_in_previous {
                // Balanced: the backoff starts over.
                self.revoked_in_previous = false;
                self.successive_revoking_rounds = 0;
            }
        } else {
            self.revoked_in_previous = false;
        }

        let mut to_assign = created;
        to_assign.extend(&lost_to_reassign);
        assign_connectors(&mut next, &to_assign.connectors);
        assign_tasks(&mut next, &to_assign.tasks);

        let mut outcome = ClusterAssignment {
            delay_ms: self.delay_ms,
            ..ClusterAssignment::default()
        };
        let current: BTreeMap<&str, &Load> =
            current.iter().map(|l| (l.worker.as_str(), l)).collect();
        let mut all_next = Set::default();
        for load in &next {
            let before = current.get(load.worker.as_str());
            let revoked = revoke.get(&load.worker).cloned().unwrap_or_default();
            let assigned = Units {
                connectors: load
                    .connectors
                    .iter()
                    .filter(|c| before.is_none_or(|b| !b.connectors.contains(c)))
                    .cloned()
                    .collect(),
                tasks: load
                    .tasks
                    .iter()
                    .filter(|t| before.is_none_or(|b| !b.tasks.contains(t)))
                    .cloned()
                    .collect(),
            };
            let complete = Units {
                connectors: load
                    .connectors
                    .iter()
                    .filter(|c| !revoked.connectors.contains(*c))
                    .cloned()
                    .collect(),
                tasks: load
                    .tasks
                    .iter()
                    .filter(|t| !revoked.tasks.contains(*t))
                    .cloned()
                    .collect(),
            };
            all_next.connectors.extend(load.connectors.iter().cloned());
            all_next.tasks.extend(load.tasks.iter().cloned());
            outcome.assigned.insert(load.worker.clone(), assigned);
            outcome
                .revoked
                .insert(load.worker.clone(), revoked.into_units());
            outcome.complete.insert(load.worker.clone(), complete);
        }
        // What the next round compares with: everything placed, minus what is being revoked
        // (remembered, to detect a revocation that did not happen), plus the lost work still
        // waiting for its worker.
        for revoked in revoke.values() {
            all_next = all_next.minus(&[revoked]);
            self.previous_revocation.extend(revoked);
        }
        all_next.extend(&lost);
        self.previous_assignment = all_next;
        self.previous_generation = generation;
        self.previous_members = members.keys().cloned().collect();
        outcome
    }

    /// Decides what becomes of lost work this round; returns what to hand out now.
    fn handle_lost(&mut self, lost: &Set, next: &mut [Load], now_ms: i64) -> Set {
        if lost.is_empty() && !self.revoked_in_previous {
            self.reset_delay();
            return Set::default();
        }
        let active: BTreeSet<&str> = next.iter().map(|l| l.worker.as_str()).collect();
        let nobody_left = self
            .previous_members
            .iter()
            .all(|m| active.contains(m.as_str()));
        if (self.scheduled_rebalance_ms <= 0 && nobody_left) || self.max_delay_ms == 0 {
            return lost.clone();
        }
        if self.scheduled_rebalance_ms > 0 && now_ms >= self.scheduled_rebalance_ms {
            let candidates: Vec<usize> = self
                .candidates
                .iter()
                .filter_map(|c| next.iter().position(|l| &l.worker == c))
                .collect();
            let reassign_now = if candidates.is_empty() {
                lost.clone()
            } else {
                for (i, connector) in lost.connectors.iter().enumerate() {
                    next[candidates[i % candidates.len()]]
                        .connectors
                        .push(connector.clone());
                }
                for (i, task) in lost.tasks.iter().enumerate() {
                    next[candidates[i % candidates.len()]]
                        .tasks
                        .push(task.clone());
                }
                Set::default()
            };
            self.reset_delay();
            self.revoked_in_previous = false;
            return reassign_now;
        }
        for load in next.iter().filter(|l| l.is_empty()) {
            if !self.candidates.contains(&load.worker) {
                self.candidates.push(load.worker.clone());
            }
        }
        self.delay_ms = if now_ms < self.scheduled_rebalance_ms {
            (self.scheduled_rebalance_ms - now_ms).min(self.max_delay_ms as i64) as i32
        } else {
            self.max_delay_ms
        };
        self.scheduled_rebalance_ms = now_ms + self.delay_ms as i64;
        Set::default()
    }

    fn reset_delay(&mut self) {
        self.candidates.clear();
        self.scheduled_rebalance_ms = 0;
        self.delay_ms = 0;
    }
}

/// Units that more than one member runs.
fn duplicated(members: &BTreeMap<String, Units>) -> Set {
    let mut connectors: BTreeMap<&String, usize> = BTreeMap::new();
    let mut tasks: BTreeMap<&TaskId, usize> = BTreeMap::new();
    for units in members.values() {
        for c in units.connectors.iter().collect::<BTreeSet<_>>() {
            *connectors.entry(c).or_default() += 1;
        }
        for t in units.tasks.iter().collect::<BTreeSet<_>>() {
            *tasks.entry(t).or_default() += 1;
        }
    }
    Set {
        connectors: connectors
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(c, _)| c.clone())
            .collect(),
        tasks: tasks
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(t, _)| t.clone())
            .collect(),
    }
}

/// Per member, the units of `set` it runs.
fn held_by(set: &Set, members: &BTreeMap<String, Units>) -> BTreeMap<String, Set> {
    members
        .iter()
        .filter_map(|(member, units)| {
            let held = Set {
                connectors: units
                    .connectors
                    .iter()
                    .filter(|c| set.connectors.contains(*c))
                    .cloned()
                    .collect(),
                tasks: units
                    .tasks
                    .iter()
                    .filter(|t| set.tasks.contains(*t))
                    .cloned()
                    .collect(),
            };
            (!held.is_empty()).then(|| (member.clone(), held))
        })
        .collect()
}

fn add_all(into: &mut BTreeMap<String, Set>, more: &BTreeMap<String, Set>) {
    for (member, set) in more {
        into.entry(member.clone()).or_default().extend(set);
    }
}

fn remove_all(loads: &mut [Load], sets: &BTreeMap<String, Set>) {
    for load in loads {
        if let Some(set) = sets.get(&load.worker) {
            load.remove(set);
        }
    }
}

/// Each member's load, without `exclude`.
fn loads(members: &BTreeMap<String, Units>, exclude: Option<&Set>) -> Vec<Load> {
    members
        .iter()
        .map(|(worker, units)| {
            let mut load = Load {
                worker: worker.clone(),
                connectors: units.connectors.clone(),
                tasks: units.tasks.clone(),
            };
            if let Some(exclude) = exclude {
                load.remove(exclude);
            }
            load
        })
        .collect()
}

/// Revocations that bring every worker down to its fair share, for connectors and for tasks.
fn balancing_revocations(configured: &Set, workers: &[Load]) -> BTreeMap<String, Set> {
    if workers.iter().all(Load::is_empty) || configured.is_empty() {
        return BTreeMap::new();
    }
    let mut out: BTreeMap<String, Set> = BTreeMap::new();
    for (worker, revoked) in fair_share_excess(configured.connectors.len(), workers, |l| {
        l.connectors.clone()
    }) {
        out.entry(worker).or_default().connectors.extend(revoked);
    }
    for (worker, revoked) in fair_share_excess(configured.tasks.len(), workers, |l| l.tasks.clone())
    {
        out.entry(worker).or_default().tasks.extend(revoked);
    }
    out
}

/// What each worker holds beyond its share of `total` (the first `total % workers` workers
/// above the minimum may keep one more).
fn fair_share_excess<E: Clone>(
    total: usize,
    workers: &[Load],
    held: impl Fn(&Load) -> Vec<E>,
) -> Vec<(String, Vec<E>)> {
    let count = workers.len();
    let minimum = total / count;
    let extras = total % count;
    let sizes: Vec<usize> = workers.iter().map(|w| held(w).len()).collect();
    let at_minimum = sizes.iter().filter(|n| **n == minimum).count();
    let at_one_more = sizes.iter().filter(|n| **n == minimum + 1).count();
    if at_one_more == extras && at_minimum + at_one_more == count {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut extras_given = 0;
    for worker in workers {
        let units = held(worker);
        if units.len() <= minimum {
            continue;
        }
        let keep = if extras_given < extras {
            extras_given += 1;
            if units.len() == minimum + 1 {
                continue;
            }
            minimum + 1
        } else {
            minimum
        };
        out.push((worker.worker.clone(), units[..units.len() - keep].to_vec()));
    }
    out
}

/// Round robin over the least loaded workers (ties by worker id), as Kafka assigns.
fn assign_round_robin<E: Clone>(
    workers: &mut [Load],
    units: &BTreeSet<E>,
    size: impl Fn(&Load) -> usize,
    push: impl Fn(&mut Load, E),
) {
    if workers.is_empty() || units.is_empty() {
        return;
    }
    workers.sort_by(|a, b| size(a).cmp(&size(b)).then_with(|| a.worker.cmp(&b.worker)));
    let mut pending = units.iter().cloned().peekable();
    // The first worker's load as the loop started each pass, as Kafka's loop reads it.
    while pending.peek().is_some() {
        let first_load = size(&workers[0]);
        let up_to = workers
            .iter()
            .position(|w| size(w) > first_load)
            .unwrap_or(workers.len());
        for worker in workers[..up_to].iter_mut() {
            match pending.next() {
                Some(unit) => push(worker, unit),
                None => break,
            }
        }
    }
}

fn assign_connectors(workers: &mut [Load], connectors: &BTreeSet<String>) {
    assign_round_robin(
        workers,
        connectors,
        |l| l.connectors.len(),
        |l, c| l.connectors.push(c),
    );
}

fn assign_tasks(workers: &mut [Load], tasks: &BTreeSet<TaskId>) {
    assign_round_robin(workers, tasks, |l| l.tasks.len(), |l, t| l.tasks.push(t));
}

#[cfg(test)]
mod tests {
    //! Kafka's own scenarios for its assignor (its `IncrementalCooperativeAssignorTest`),
    //! replayed: workers apply what they are given, and allocations are compared as counts.
    use super::*;

    struct Cluster {
        assignor: Assignor,
        configured: Configured,
        members: BTreeMap<String, Units>,
        generation: i32,
        now_ms: i64,
        last: ClusterAssignment,
    }

    const DEFAULT_MAX_DELAY: i32 = 300_000;

    impl Cluster {
        fn new(max_delay_ms: i32) -> Cluster {
            let mut assignor = Assignor::new(max_delay_ms);
            assignor.previous_generation = 1000;
            let mut cluster = Cluster {
                assignor,
                configured: Configured::default(),
                members: BTreeMap::new(),
                generation: 1000,
                now_ms: 1_000_000,
                last: ClusterAssignment::default(),
            };
            cluster.connector("connector1", 4);
            cluster.connector("connector2", 4);
            cluster.join(&["worker1"]);
            cluster
        }

        fn connector(&mut self, name: &str, tasks: u32) {
            self.configured.connectors.insert(name.to_string(), tasks);
        }

        fn join(&mut self, workers: &[&str]) {
            for w in workers {
                assert!(self
                    .members
                    .insert(w.to_string(), Units::default())
                    .is_none());
            }
        }

        fn leave(&mut self, workers: &[&str]) {
            for w in workers {
                assert!(self.members.remove(*w).is_some());
            }
        }

        fn rebalance(&mut self) {
            self.generation += 1;
            self.last = self.assignor.assign(
                &self.configured,
                self.generation - 1,
                self.generation,
                &self.members,
                self.now_ms,
            );
            for (worker, units) in &self.last.complete {
                self.members.insert(worker.clone(), units.clone());
            }
        }

        fn sleep(&mut self, ms: i32) {
            self.now_ms += ms as i64;
        }

        fn counts(&self, f: impl Fn(&Units) -> usize) -> Vec<usize> {
            let mut counts: Vec<usize> = self.members.values().map(f).collect();
            counts.sort();
            counts
        }

        fn connectors(&self) -> Vec<usize> {
            self.counts(|u| u.connectors.len())
        }

        fn tasks(&self) -> Vec<usize> {
            self.counts(|u| u.tasks.len())
        }

        fn no_revocations(&self) -> bool {
            self.last.revoked.values().all(Units::is_empty)
        }

        fn nothing_assigned(&self) -> bool {
            self.last.assigned.values().all(Units::is_empty) && self.no_revocations()
        }

        fn balanced_and_complete(&self) {
            let mut all = Set::default();
            for units in self.members.values() {
                let set = Set::of(units);
                assert!(
                    all.connectors.is_disjoint(&set.connectors),
                    "a connector runs twice"
                );
                assert!(all.tasks.is_disjoint(&set.tasks), "a task runs twice");
                all.extend(&set);
            }
            assert_eq!(all, self.configured.units(), "every unit runs once");
            let c = self.connectors();
            let t = self.tasks();
            assert!(
                c[c.len() - 1] - c[0] <= 1 && t[t.len() - 1] - t[0] <= 1,
                "{c:?} {t:?}"
            );
        }
    }

    #[test]
    fn a_joining_worker_gets_its_share_in_two_rounds() {
        let mut c = Cluster::new(DEFAULT_MAX_DELAY);
        c.rebalance();
        assert_eq!(c.last.delay_ms, 0);
        assert_eq!((c.connectors(), c.tasks()), (vec![2], vec![8]));
        c.balanced_and_complete();

        c.join(&["worker2"]);
        c.rebalance();
        assert_eq!(c.last.delay_ms, 0);
        assert_eq!((c.connectors(), c.tasks()), (vec![0, 1], vec![0, 4]));

        c.rebalance();
        assert!(c.no_revocations());
        assert_eq!((c.connectors(), c.tasks()), (vec![1, 1], vec![4, 4]));
        c.balanced_and_complete();

        c.rebalance();
        assert!(c.nothing_assigned());
    }

    #[test]
    fn workers_joining_after_revocations_wait_a_growing_backoff() {
        let mut c = Cluster::new(DEFAULT_MAX_DELAY);
        c.connector("connector3", 4);
        c.rebalance();
        assert_eq!((c.connectors(), c.tasks()), (vec![3], vec![12]));

        c.join(&["worker2"]);
        c.rebalance();
        assert_eq!((c.connectors(), c.tasks()), (vec![0, 2], vec![0, 6]));

        // A successive revoking round: no revocation now, a delay instead.
        c.join(&["worker3"]);
        c.rebalance();
        assert!(c.assignor.delay_ms() > 0);
        assert_eq!((c.connectors(), c.tasks()), (vec![0, 1, 2], vec![3, 3, 6]));

        let delay = c.assignor.delay_ms();
        c.sleep(delay);
        c.join(&["worker4"]);
        c.rebalance();
        assert_eq!(
            (c.connectors(), c.tasks()),
            (vec![0, 0, 1, 1], vec![0, 3, 3, 3])
        );

        c.join(&["worker5"]);
        c.rebalance();
        assert!(c.assignor.delay_ms() > 40);
        assert_eq!(
            (c.connectors(), c.tasks()),
            (vec![0, 0, 1, 1, 1], vec![1, 2, 3, 3, 3])
        );

        let delay = c.assignor.delay_ms();
        c.sleep(delay);
        c.join(&["worker6"]);
        c.rebalance();
        assert_eq!(c.last.delay_ms, 0);
        assert_eq!(
            (c.connectors(), c.tasks()),
            (vec![0, 0, 0, 1, 1, 1], vec![0, 1, 2, 2, 2, 2])
        );

        c.rebalance();
        assert_eq!(
            (c.connectors(), c.tasks()),
            (vec![0, 0, 0, 1, 1, 1], vec![2, 2, 2, 2, 2, 2])
        );
        c.balanced_and_complete();
    }

    #[test]
    fn with_no_max_delay_revocations_are_immediate() {
        let mut c = Cluster::new(0);
        c.connector("connector3", 4);
        c.rebalance();
        c.join(&["worker2"]);
        c.rebalance();
        assert_eq!((c.connectors(), c.tasks()), (vec![0, 2], vec![0, 6]));
        c.join(&["worker3"]);
        c.rebalance();
        assert_eq!(c.last.delay_ms, 0);
        assert_eq!((c.connectors(), c.tasks()), (vec![0, 1, 1], vec![3, 3, 4]));
        c.rebalance();
        assert!(c.no_revocations());
        assert_eq!((c.connectors(), c.tasks()), (vec![1, 1, 1], vec![4, 4, 4]));
        c.balanced_and_complete();
    }

    #[test]
    fn a_max_delay_of_one_ms_delays_successive_revocations_by_one_ms() {
        let mut c = Cluster::new(1);
        c.connector("connector3", 4);
        c.rebalance();
        c.join(&["worker2"]);
        c.rebalance();
        c.join(&["worker3"]);
        c.rebalance();
        assert_eq!(c.last.delay_ms, 1);
        assert_eq!((c.connectors(), c.tasks()), (vec![0, 1, 2], vec![3, 3, 6]));
    }

    #[test]
    fn work_of_a_worker_that_left_waits_the_delay_then_moves() {
        let mut c = Cluster::new(DEFAULT_MAX_DELAY);
        c.join(&["worker2"]);
        c.rebalance();
        assert_eq!((c.connectors(), c.tasks()), (vec![1, 1], vec![4, 4]));
        c.balanced_and_complete();

        c.leave(&["worker2"]);
        c.rebalance();
        assert_eq!(c.last.delay_ms, DEFAULT_MAX_DELAY);
        assert!(c.nothing_assigned());

        c.sleep(DEFAULT_MAX_DELAY / 2);
        c.rebalance();
        assert_eq!(c.last.delay_ms, DEFAULT_MAX_DELAY / 2);
        assert!(c.nothing_assigned());

        c.sleep(DEFAULT_MAX_DELAY / 2 + 1);
        c.rebalance();
        assert_eq!(c.last.delay_ms, 0);
        assert_eq!((c.connectors(), c.tasks()), (vec![2], vec![8]));
        c.balanced_and_complete();
    }

    #[test]
    fn a_worker_that_bounces_within_the_delay_gets_its_work_back() {
        let mut c = Cluster::new(DEFAULT_MAX_DELAY);
        c.join(&["worker2"]);
        c.rebalance();
        c.leave(&["worker2"]);
        c.rebalance();
        assert_eq!(c.last.delay_ms, DEFAULT_MAX_DELAY);
        assert!(c.nothing_assigned());
        c.sleep(DEFAULT_MAX_DELAY / 2);
        c.rebalance();
        assert_eq!(c.last.delay_ms, DEFAULT_MAX_DELAY / 2);
        assert!(c.nothing_assigned());
        c.sleep(DEFAULT_MAX_DELAY / 4);
        // Back, empty, before the delay is over: it waits, as the candidate for the lost work.
        c.join(&["worker2"]);
        c.rebalance();
        assert_eq!(c.last.delay_ms, DEFAULT_MAX_DELAY / 4);
        assert!(c.nothing_assigned());
        c.sleep(DEFAULT_MAX_DELAY / 4);
        c.rebalance();
        assert_eq!(c.last.delay_ms, 0);
        assert!(c.no_revocations());
        assert_eq!((c.connectors(), c.tasks()), (vec![1, 1], vec![4, 4]));
        assert_eq!(c.last.assigned["worker1"], Units::default());
        c.balanced_and_complete();
    }

    #[test]
    fn a_deleted_connector_is_revoked_from_its_workers() {
        let mut c = Cluster::new(DEFAULT_MAX_DELAY);
        c.connector("connector3", 4);
        c.join(&["worker2"]);
        c.rebalance();
        assert_eq!((c.connectors(), c.tasks()), (vec![1, 2], vec![6, 6]));
        c.balanced_and_complete();
        c.configured.connectors.remove("connector3");
        c.rebalance();
        assert_eq!(c.last.delay_ms, 0);
        let revoked: usize = c
            .last
            .revoked
            .values()
            .map(|u| u.connectors.len() + u.tasks.len())
            .sum();
        assert_eq!(
            revoked, 5,
            "connector3 and its 4 tasks: {:?}",
            c.last.revoked
        );
        assert_eq!((c.connectors(), c.tasks()), (vec![1, 1], vec![4, 4]));
        c.balanced_and_complete();
    }

    #[test]
    fn units_running_twice_are_revoked_from_both_then_placed_once() {
        let mut c = Cluster::new(DEFAULT_MAX_DELAY);
        c.rebalance();
        // A worker joins claiming connector1 and its tasks, which worker1 runs too.
        c.members.insert(
            "worker2".into(),
            Units {
                connectors: vec!["connector1".into()],
                tasks: (0..4).map(|i| ("connector1".to_string(), i)).collect(),
            },
        );
        c.rebalance();
        assert_eq!(c.last.delay_ms, 0);
        assert_eq!((c.connectors(), c.tasks()), (vec![0, 1], vec![0, 4]));
        c.rebalance();
        assert!(c.no_revocations());
        assert_eq!((c.connectors(), c.tasks()), (vec![1, 1], vec![4, 4]));
        c.balanced_and_complete();
        c.rebalance();
        assert!(c.nothing_assigned());
    }

    #[test]
    fn the_backoff_grows_forty_fold_up_to_the_max_delay() {
        assert_eq!(successive_revocation_backoff(300_000, 1), 40);
        assert_eq!(successive_revocation_backoff(300_000, 2), 1600);
        assert_eq!(successive_revocation_backoff(300_000, 3), 64_000);
        assert_eq!(successive_revocation_backoff(300_000, 4), 300_000);
        assert_eq!(successive_revocation_backoff(0, 3), 0);
        assert_eq!(successive_revocation_backoff(1, 3), 1);
    }
}
