//! What a distributed worker adds to kconnect's own resources (`/kconnect/…`): the group as the
//! coordinator describes it, and config history kept in the history topic.

use super::{read, DistributedHerder};
use crate::herder::runtime::blocking;
use kconnect_group::WorkerMetadata;
use kconnect_herder_api::{GroupInfo, GroupMember};
use std::time::Duration;

/// How long describing the group may take before the view is answered without members.
const DESCRIBE_GROUP_TIMEOUT: Duration = Duration::from_secs(12);

impl DistributedHerder {
    /// The group: this worker's view of generation and leader, and the members the group
    /// coordinator lists (Java workers too), each with the REST URL of its Connect metadata.
    pub(super) async fn group_info(&self) -> GroupInfo {
        let group_id = self.cluster.config.group_id.clone();
        let view = self.group.get().map(|g| {
            g.with_view(|v| {
                (
                    v.generation,
                    v.protocol.map(|p| p.name().to_string()),
                    (!v.leader_id.is_empty()).then(|| v.leader_id.clone()),
                    (!v.leader_url.is_empty()).then(|| v.leader_url.clone()),
                    v.member_id.clone(),
                )
            })
        });
        let rebalancing = self.is_rebalancing();
        let Some((generation, protocol, leader_id, leader_url, member_id)) = view else {
            // Heartbeat membership: the live workers, the first of which leads.
            let live = self.live_workers();
            let leader = live.first().cloned();
            let members = live
                .into_iter()
                .map(|worker| GroupMember {
                    leader: Some(&worker) == leader.as_ref(),
                    this_worker: worker == self.cluster.worker_id,
                    url: String::new(),
                    member_id: worker,
                })
                .collect();
            return GroupInfo {
                group_id,
                generation: -1,
                protocol: None,
                leader_url: None,
                leader_id: leader,
                rebalancing,
                members,
            };
        };
        let admin = self.core.worker.admin.clone();
        let described = blocking(DESCRIBE_GROUP_TIMEOUT, "describing the group", {
            let group_id = group_id.clone();
            move || admin.group_members(&group_id)
        })
        .await;
        let members = match described {
            Ok(Ok(members)) => members
                .into_iter()
                .map(|(id, metadata)| GroupMember {
                    // The coordinator sends members' metadata only while the group is stable;
                    // during a rebalance this worker still knows its own URL and the leader's.
                    url: match WorkerMetadata::decode(&metadata) {
                        Ok((_, m)) if !m.url.is_empty() => m.url,
                        _ if id == member_id => format!("{}/", self.core.advertised_url()),
                        _ if leader_id.as_deref() == Some(id.as_str()) => {
                            leader_url.clone().unwrap_or_default()
                        }
                        _ => String::new(),
                    },
                    leader: leader_id.as_deref() == Some(id.as_str()),
                    this_worker: id == member_id,
                    member_id: id,
                })
                .collect(),
            Ok(Err(e)) => {
                log::debug!("cannot describe group {group_id}: {e}");
                Vec::new()
            }
            Err(e) => {
                log::debug!("cannot describe group {group_id}: {e}");
                Vec::new()
            }
        };
        GroupInfo {
            group_id,
            generation,
            protocol,
            leader_id,
            leader_url,
            rebalancing,
            members,
        }
    }

    /// Asks the config history, as read from its topic, under its lock.
    pub(super) fn history_with<R>(
        &self,
        question: impl FnOnce(&crate::herder::history::ConfigHistory) -> R,
    ) -> R {
        question(&read(&self.cluster.history))
    }
}
