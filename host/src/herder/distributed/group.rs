//! This worker's membership of the group `group.id` on Kafka's group coordinator, speaking
//! Kafka Connect's group protocol (`kconnect-group`), so that kconnect workers share a group
//! with each other and with Apache Kafka Connect's Java workers.
//!
//! One thread runs the member: join → (as leader: assign with Kafka's incremental cooperative
//! rules) → sync → apply the assignment → heartbeat until a rebalance, a rejoin request or
//! shutdown (which leaves the group, so the others rebalance at once).
//!
//! Invariants:
//! - what this worker runs ([`GroupView::mine`]) changes only by an assignment: previous units,
//!   minus the revoked ones, plus the assigned ones, once the config topic was read up to the
//!   assignment's offset;
//! - after a revocation the member rejoins only once the revoked units stopped here (or after
//!   the graceful timeout), so the leader never gives a unit out while it still runs;
//! - a leader behind the members' config offset answers CONFIG_MISMATCH, and every member
//!   rejoins after reading further;
//! - the leader rejoins when what is configured (connectors, committed task counts) is not
//!   what its last assignment placed, so new work is placed without waiting for a member change.

use super::assignment::{TaskId, Units};
use super::config_log::ConfigState;
use super::Cluster;
use kconnect_group::assignor::{Assignor, Configured};
use kconnect_group::protocol::{
    Assignment as GroupAssignment, AssignmentError, Subprotocol, Units as GroupUnits,
    WorkerMetadata,
};
use kconnect_group::{GroupMember, MemberConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the member waits before trying again after a failed join or sync.
const RETRY_BACKOFF: Duration = Duration::from_millis(500);
/// How long reading the config topic up to an assignment's offset may take.
const CONFIG_CATCH_UP: Duration = Duration::from_secs(10);

/// What the group says of this worker, as of its last completed sync.
#[derive(Clone, Debug, Default)]
pub struct GroupView {
    pub generation: i32,
    pub member_id: String,
    pub leader_id: String,
    pub leader_url: String,
    /// What this worker runs.
    pub mine: Units,
    /// Between the coordinator announcing a rebalance and the next completed sync, and before
    /// the first.
    pub rebalancing: bool,
    /// At least one sync completed.
    pub joined: bool,
    /// The subprotocol the group chose at the last join.
    pub protocol: Option<Subprotocol>,
    /// As leader: every member's units after the last assignment, by member id. Empty on the
    /// other members, which see only their own assignment (as in Kafka Connect, only the leader
    /// can say which worker runs a unit).
    pub placement: BTreeMap<String, Placed>,
}

/// One member as the leader's last assignment left it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placed {
    /// The member's REST URL, from its metadata.
    pub url: String,
    pub units: Units,
}

impl GroupView {
    pub fn is_leader(&self) -> bool {
        self.joined && self.member_id == self.leader_id
    }

    /// The URL of the member that runs `connector`, as the leader placed it.
    pub fn connector_owner_url(&self, connector: &str) -> Option<&str> {
        self.placement
            .values()
            .find(|placed| placed.units.connectors.contains(connector))
            .map(|placed| placed.url.as_str())
    }

    /// The URL of the member that runs `task`, as the leader placed it.
    pub fn task_owner_url(&self, task: &TaskId) -> Option<&str> {
        self.placement
            .values()
            .find(|placed| placed.units.tasks.contains(task))
            .map(|placed| placed.url.as_str())
    }
}

/// Settings of the membership.
pub struct GroupSettings {
    pub member: MemberConfig,
    /// `connect.protocol`: the most recent subprotocol to offer.
    pub protocol: Subprotocol,
    /// This worker's REST URL, as the group sees it.
    pub url: String,
    pub heartbeat_interval: Duration,
    /// `scheduled.rebalance.max.delay.ms`.
    pub max_delay: Duration,
    /// `task.shutdown.graceful.timeout.ms`: how long revoked units may take to stop.
    pub graceful: Duration,
}

/// The running membership; leaves the group when dropped or [`GroupMembership::leave`]d.
pub struct GroupMembership {
    view: Arc<RwLock<GroupView>>,
    rejoin: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

fn read<T: Clone>(lock: &RwLock<T>) -> T {
    lock.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn to_group_units(units: &Units) -> GroupUnits {
    GroupUnits {
        connectors: units.connectors.iter().cloned().collect(),
        tasks: units
            .tasks
            .iter()
            .map(|(c, i)| (c.clone(), *i as i32))
            .collect(),
    }
}

fn from_group_units(units: &GroupUnits) -> Units {
    Units {
        connectors: units.connectors.iter().cloned().collect(),
        tasks: units
            .tasks
            .iter()
            .filter_map(|(c, i)| u32::try_from(*i).ok().map(|i| (c.clone(), i)))
            .collect(),
    }
}

/// What the config topic asks to be placed: each connector and its committed task count.
fn configured(state: &ConfigState) -> Configured {
    Configured {
        connectors: state
            .connectors
            .keys()
            .map(|name| {
                let tasks = state.tasks.get(name).map_or(0, Vec::len) as u32;
                (name.clone(), tasks)
            })
            .collect(),
    }
}

/// `previous` with an assignment applied.
fn applied(previous: &Units, assignment: &GroupAssignment) -> Units {
    let revoked = from_group_units(&assignment.revoked);
    let assigned = from_group_units(&assignment.assigned);
    let mut next = previous.clone();
    next.connectors.retain(|c| !revoked.connectors.contains(c));
    next.tasks.retain(|t| !revoked.tasks.contains(t));
    next.connectors.extend(assigned.connectors);
    next.tasks.extend(assigned.tasks);
    next
}

impl GroupMembership {
    /// Starts the member thread. `running` tells which units still run here (for revocations);
    /// `wake` is notified after every assignment.
    pub fn start(
        settings: GroupSettings,
        cluster: Arc<Cluster>,
        running: Arc<RwLock<Units>>,
    ) -> std::io::Result<GroupMembership> {
        let view = Arc::new(RwLock::new(GroupView {
            rebalancing: true,
            ..GroupView::default()
        }));
        let rejoin = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let mut runner = Runner {
                member: GroupMember::new(settings.member.clone()),
                assignor: Assignor::new(settings.max_delay.as_millis().min(i32::MAX as u128) as i32),
                settings,
                cluster,
                running,
                view: view.clone(),
                rejoin: rejoin.clone(),
                stop: stop.clone(),
                last_completed_generation: -1,
                placed: None,
                placement: BTreeMap::new(),
            };
            std::thread::Builder::new()
                .name("group-member".to_string())
                .spawn(move || runner.run())?
        };
        Ok(GroupMembership {
            view,
            rejoin,
            stop,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }

    /// Answers a question about the view without copying it (REST calls and every reconcile
    /// pass ask).
    pub fn with_view<R>(&self, question: impl FnOnce(&GroupView) -> R) -> R {
        question(&self.view.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Asks for a rebalance (e.g. the leader saw new work to place).
    pub fn request_rejoin(&self) {
        self.rejoin.store(true, Ordering::Release);
    }

    /// Leaves the group and ends the member thread (blocking: at most one heartbeat
    /// interval and a LeaveGroup round trip).
    pub fn leave(&self) {
        self.stop.store(true, Ordering::Release);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for GroupMembership {
    fn drop(&mut self) {
        self.leave();
    }
}

struct Runner {
    member: GroupMember,
    assignor: Assignor,
    settings: GroupSettings,
    cluster: Arc<Cluster>,
    running: Arc<RwLock<Units>>,
    view: Arc<RwLock<GroupView>>,
    rejoin: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    last_completed_generation: i32,
    /// As leader: what the last assignment was computed for.
    placed: Option<Configured>,
    /// As leader: every member's units after the assignment being synced.
    placement: BTreeMap<String, Placed>,
}

/// What to do after one round.
enum Next {
    /// Heartbeat, rejoining after the delay when there is one.
    Heartbeat(Option<Instant>),
    /// Join again at once.
    Rejoin,
}

impl Runner {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    fn run(&mut self) {
        while !self.stopping() {
            let next = match self.round() {
                Ok(next) => next,
                Err(e) => {
                    if !e.is_rejoin() {
                        log::warn!("group {}: {e}", self.settings.member.group_id);
                        std::thread::sleep(RETRY_BACKOFF);
                    }
                    self.set_rebalancing();
                    continue;
                }
            };
            if let Next::Heartbeat(rejoin_at) = next {
                self.heartbeat_until_rebalance(rejoin_at);
            }
        }
        if let Err(e) = self.member.leave() {
            log::debug!("group {}: leaving: {e}", self.settings.member.group_id);
        }
    }

    fn set_rebalancing(&self) {
        self.view
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .rebalancing = true;
    }

    /// One join and sync; applies the assignment.
    fn round(&mut self) -> Result<Next, kconnect_group::GroupError> {
        let mine = read(&self.view).mine;
        let metadata = WorkerMetadata {
            url: self.settings.url.clone(),
            config_offset: self.cluster.snapshot().offset,
            allocation: (!mine.connectors.is_empty() || !mine.tasks.is_empty()).then(|| {
                GroupAssignment {
                    assigned: to_group_units(&mine),
                    ..GroupAssignment::default()
                }
            }),
        };
        let offered: Vec<(String, Vec<u8>)> = self
            .settings
            .protocol
            .offered()
            .into_iter()
            .map(|p| Ok((p.name().to_string(), metadata.encode(p)?)))
            .collect::<Result<_, kconnect_group::GroupError>>()?;
        let joined = self.member.join(&offered)?;
        let protocol = Subprotocol::from_name(&joined.protocol).ok_or_else(|| {
            kconnect_group::GroupError::UnexpectedProtocol(Some(joined.protocol.clone()))
        })?;
        let assignments = if joined.is_leader() {
            self.assign(&joined, protocol)?
        } else {
            self.placement.clear();
            Vec::new()
        };
        let bytes = self.member.sync(&joined, &assignments)?;
        let (_, assignment) = GroupAssignment::decode(&bytes)?;
        self.last_completed_generation = joined.generation;
        if assignment.error == AssignmentError::ConfigMismatch {
            log::info!(
                "group {}: the leader's config is behind offset {}; reading the config topic and rejoining",
                self.settings.member.group_id,
                assignment.config_offset
            );
            let _ = self.cluster.config_reader.catch_up(CONFIG_CATCH_UP);
            return Ok(Next::Rejoin);
        }
        self.read_config_up_to(assignment.config_offset);
        let mine = applied(&mine, &assignment);
        log::info!(
            "group {}: generation {} as {} (leader {}): runs {} connector(s), {} task(s); {} revoked{}",
            self.settings.member.group_id,
            joined.generation,
            if joined.is_leader() { "leader" } else { "member" },
            assignment.leader_url,
            mine.connectors.len(),
            mine.tasks.len(),
            assignment.revoked.connectors.len() + assignment.revoked.tasks.len(),
            if assignment.delay_ms > 0 {
                format!(", next rebalance in {} ms", assignment.delay_ms)
            } else {
                String::new()
            }
        );
        *self.view.write().unwrap_or_else(|e| e.into_inner()) = GroupView {
            generation: joined.generation,
            member_id: joined.member_id.clone(),
            leader_id: joined.leader_id.clone(),
            leader_url: assignment.leader_url.clone(),
            mine,
            rebalancing: false,
            joined: true,
            protocol: Some(protocol),
            placement: std::mem::take(&mut self.placement),
        };
        self.cluster.wake.notify_one();
        if !assignment.revoked.is_empty() {
            self.wait_until_stopped(&from_group_units(&assignment.revoked));
            return Ok(Next::Rejoin);
        }
        let rejoin_at = (assignment.delay_ms > 0)
            .then(|| Instant::now() + Duration::from_millis(assignment.delay_ms as u64));
        Ok(Next::Heartbeat(rejoin_at))
    }

    /// The leader's part of a round: every member's assignment, encoded for `protocol`.
    fn assign(
        &mut self,
        joined: &kconnect_group::Joined,
        protocol: Subprotocol,
    ) -> Result<Vec<(String, Vec<u8>)>, kconnect_group::GroupError> {
        let mut members = BTreeMap::new();
        let mut urls = BTreeMap::new();
        let mut max_offset = -1;
        self.placement.clear();
        for (member, metadata) in &joined.members {
            let (_, metadata) = WorkerMetadata::decode(metadata)?;
            max_offset = max_offset.max(metadata.config_offset);
            let units = metadata.allocation.map(|a| a.assigned).unwrap_or_default();
            members.insert(member.clone(), units);
            urls.insert(member.clone(), metadata.url);
        }
        if self.cluster.snapshot().offset < max_offset {
            let _ = self.cluster.config_reader.catch_up(CONFIG_CATCH_UP);
        }
        let state = self.cluster.snapshot();
        let base = GroupAssignment {
            leader: joined.leader_id.clone(),
            leader_url: self.settings.url.clone(),
            config_offset: max_offset.max(state.offset),
            ..GroupAssignment::default()
        };
        if state.offset < max_offset {
            let mismatch = GroupAssignment {
                error: AssignmentError::ConfigMismatch,
                config_offset: max_offset,
                ..base
            };
            let bytes = mismatch.encode(protocol)?;
            return Ok(members.keys().map(|m| (m.clone(), bytes.clone())).collect());
        }
        let configured = configured(&state);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let outcome = self.assignor.assign(
            &configured,
            self.last_completed_generation,
            joined.generation,
            &members,
            now_ms,
        );
        self.placed = Some(configured);
        members
            .iter()
            .map(|(member, previous)| {
                let assignment = GroupAssignment {
                    assigned: outcome.assigned.get(member).cloned().unwrap_or_default(),
                    revoked: outcome.revoked.get(member).cloned().unwrap_or_default(),
                    delay_ms: outcome.delay_ms,
                    ..base.clone()
                };
                let placed = Placed {
                    url: urls.get(member).cloned().unwrap_or_default(),
                    units: applied(&from_group_units(previous), &assignment),
                };
                self.placement.insert(member.clone(), placed);
                Ok((member.clone(), assignment.encode(protocol)?))
            })
            .collect()
    }

    /// Waits until the config topic was read up to `offset` (the offset after the last record
    /// the assignment was made with).
    fn read_config_up_to(&self, offset: i64) {
        let deadline = Instant::now() + CONFIG_CATCH_UP;
        while self.cluster.snapshot().offset < offset && Instant::now() < deadline {
            let _ = self
                .cluster
                .config_reader
                .catch_up(Duration::from_millis(500));
        }
    }

    /// Waits until none of `revoked` runs here any more (the reconciling pass stops them).
    fn wait_until_stopped(&self, revoked: &Units) {
        let deadline = Instant::now() + self.settings.graceful + Duration::from_secs(5);
        loop {
            let running = read(&self.running);
            let still: BTreeSet<&String> = revoked
                .connectors
                .iter()
                .filter(|c| running.connectors.contains(*c))
                .collect();
            let still_tasks: BTreeSet<&TaskId> = revoked
                .tasks
                .iter()
                .filter(|t| running.tasks.contains(*t))
                .collect();
            if (still.is_empty() && still_tasks.is_empty()) || Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the leader's last assignment no longer covers what is configured.
    fn placement_outdated(&self) -> bool {
        if !read(&self.view).is_leader() {
            return false;
        }
        let now = configured(&self.cluster.snapshot());
        self.placed
            .as_ref()
            .is_some_and(|placed| placed.connectors != now.connectors)
    }

    fn heartbeat_until_rebalance(&mut self, rejoin_at: Option<Instant>) {
        let interval = self.settings.heartbeat_interval;
        let mut next_beat = Instant::now() + interval;
        loop {
            if self.stopping() {
                return;
            }
            if self.rejoin.swap(false, Ordering::AcqRel)
                || rejoin_at.is_some_and(|at| Instant::now() >= at)
                || self.placement_outdated()
            {
                self.set_rebalancing();
                return;
            }
            if Instant::now() >= next_beat {
                next_beat = Instant::now() + interval;
                if let Err(e) = self.member.heartbeat() {
                    if !e.is_rejoin() {
                        log::debug!("group {}: heartbeat: {e}", self.settings.member.group_id);
                    }
                    self.set_rebalancing();
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignment_removes_the_revoked_and_adds_the_assigned() {
        let previous = Units {
            connectors: BTreeSet::from(["a".to_string(), "b".to_string()]),
            tasks: BTreeSet::from([("a".to_string(), 0), ("b".to_string(), 0)]),
        };
        let assignment = GroupAssignment {
            assigned: GroupUnits {
                connectors: vec!["c".into()],
                tasks: vec![("c".into(), 0)],
            },
            revoked: GroupUnits {
                connectors: vec!["b".into()],
                tasks: vec![("b".into(), 0)],
            },
            ..GroupAssignment::default()
        };
        let next = applied(&previous, &assignment);
        assert_eq!(
            next.connectors,
            BTreeSet::from(["a".to_string(), "c".to_string()])
        );
        assert_eq!(
            next.tasks,
            BTreeSet::from([("a".to_string(), 0), ("c".to_string(), 0)])
        );
    }
}
