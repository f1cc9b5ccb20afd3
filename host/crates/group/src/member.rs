//! A member of a Kafka Connect group on Kafka's group coordinator: it finds the coordinator,
//! joins (protocol type `connect`, the subprotocols it offers), syncs (the leader hands out the
//! assignments), heartbeats and leaves — the classic group protocol Kafka Connect's workers
//! speak, so that kconnect and Java workers can share one group.
//!
//! Invariants:
//! - a JoinGroup answered MEMBER_ID_REQUIRED is sent again at once with the id the coordinator
//!   gave (KIP-394); an unknown or stale member id is forgotten, and the next join starts over;
//! - every coordinator error comes back typed ([`GroupError::is_rejoin`],
//!   [`GroupError::is_coordinator_lost`]): the caller decides, this module never loops on its
//!   own beyond the MEMBER_ID_REQUIRED round trip;
//! - a coordinator that moved is found again by [`GroupMember::find_coordinator`] before the next
//!   request, from the bootstrap brokers.

use crate::connection::Connection;
use crate::error::GroupError;
use crate::protocol::PROTOCOL_TYPE;
use bytes::Bytes;
use kafka_protocol::error::ParseResponseErrorCode;
use kafka_protocol::messages::find_coordinator_request::FindCoordinatorRequest;
use kafka_protocol::messages::heartbeat_request::HeartbeatRequest;
use kafka_protocol::messages::join_group_request::{JoinGroupRequest, JoinGroupRequestProtocol};
use kafka_protocol::messages::leave_group_request::{LeaveGroupRequest, MemberIdentity};
use kafka_protocol::messages::sync_group_request::{SyncGroupRequest, SyncGroupRequestAssignment};
use kafka_protocol::messages::GroupId;
use kafka_protocol::protocol::StrBytes;
use std::time::Duration;

/// How long a request other than JoinGroup may wait for its answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting to a broker may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The settings of a member (Kafka's worker keys of the same names).
#[derive(Clone, Debug)]
pub struct MemberConfig {
    /// `bootstrap.servers`, as `host:port` entries.
    pub bootstrap: Vec<String>,
    /// `group.id`.
    pub group_id: String,
    /// `session.timeout.ms`.
    pub session_timeout: Duration,
    /// `rebalance.timeout.ms`.
    pub rebalance_timeout: Duration,
    /// `client.id`, as brokers log it.
    pub client_id: String,
}

/// The outcome of a join: this member's place in the new generation.
#[derive(Clone, Debug)]
pub struct Joined {
    pub generation: i32,
    pub member_id: String,
    pub leader_id: String,
    /// The subprotocol the group chose.
    pub protocol: String,
    /// Every member's id and metadata (the chosen subprotocol's), given to the leader only.
    pub members: Vec<(String, Bytes)>,
}

impl Joined {
    pub fn is_leader(&self) -> bool {
        self.member_id == self.leader_id
    }
}

pub struct GroupMember {
    config: MemberConfig,
    coordinator: Option<Connection>,
    member_id: String,
    generation: i32,
}

fn str_bytes(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_string())
}

impl GroupMember {
    pub fn new(config: MemberConfig) -> GroupMember {
        GroupMember {
            config,
            coordinator: None,
            member_id: String::new(),
            generation: -1,
        }
    }

    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    pub fn generation(&self) -> i32 {
        self.generation
    }

    /// Asks the bootstrap brokers, in turn, for the group's coordinator, and connects to it.
    pub fn find_coordinator(&mut self) -> Result<(), GroupError> {
        self.coordinator = None;
        let mut last_error = None;
        for broker in &self.config.bootstrap {
            match self.coordinator_from(broker) {
                Ok(connection) => {
                    self.coordinator = Some(connection);
                    return Ok(());
                }
                Err(e) => {
                    log::debug!(
                        "group {}: no coordinator from {broker}: {e}",
                        self.config.group_id
                    );
                    last_error = Some(e);
                }
            }
        }
        Err(last_error.unwrap_or_else(|| GroupError::Io {
            context: "no bootstrap.servers to find the group coordinator with".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "empty bootstrap list"),
        }))
    }

    fn coordinator_from(&self, broker: &str) -> Result<Connection, GroupError> {
        let group = &self.config.group_id;
        let mut connection = Connection::open(broker, &self.config.client_id, CONNECT_TIMEOUT)?;
        let (version, response) =
            connection.send("FindCoordinator", REQUEST_TIMEOUT, |version| {
                let request = FindCoordinatorRequest::default().with_key_type(0);
                if version >= 4 {
                    request.with_coordinator_keys(vec![str_bytes(group)])
                } else {
                    request.with_key(str_bytes(group))
                }
            })?;
        let (error, host, port) = if version >= 4 {
            let coordinator = response
                .coordinators
                .first()
                .ok_or_else(|| GroupError::Codec {
                    context: format!("FindCoordinator to {broker}"),
                    reason: "no coordinator in the answer".into(),
                })?;
            (
                coordinator.error_code,
                coordinator.host.to_string(),
                coordinator.port,
            )
        } else {
            (
                response.error_code,
                response.host.to_string(),
                response.port,
            )
        };
        if let Some(error) = error.err() {
            return Err(GroupError::Coordinator {
                request: "FindCoordinator",
                group: group.clone(),
                error,
            });
        }
        let address = format!("{host}:{port}");
        if address == connection.address() {
            return Ok(connection);
        }
        Connection::open(&address, &self.config.client_id, CONNECT_TIMEOUT)
    }

    fn coordinator(&mut self) -> Result<&mut Connection, GroupError> {
        if self.coordinator.is_none() {
            self.find_coordinator()?;
        }
        Ok(self.coordinator.as_mut().expect("found above"))
    }

    /// Forgets the coordinator after an error that says it moved or broke.
    fn note(&mut self, error: GroupError) -> GroupError {
        if error.is_coordinator_lost() {
            self.coordinator = None;
        }
        if let GroupError::Coordinator {
            error: kafka_protocol::error::ResponseError::UnknownMemberId,
            ..
        } = &error
        {
            self.member_id.clear();
            self.generation = -1;
        }
        error
    }

    /// Joins the group offering `protocols` (name and metadata, most preferred first); waits
    /// while the coordinator gathers the members, up to the rebalance timeout.
    pub fn join(&mut self, protocols: &[(String, Vec<u8>)]) -> Result<Joined, GroupError> {
        match self.join_once(protocols) {
            Err(GroupError::Coordinator {
                error: kafka_protocol::error::ResponseError::MemberIdRequired,
                ..
            }) => self.join_once(protocols),
            other => other,
        }
        .map_err(|e| self.note(e))
    }

    fn join_once(&mut self, protocols: &[(String, Vec<u8>)]) -> Result<Joined, GroupError> {
        let config = self.config.clone();
        let member_id = self.member_id.clone();
        let timeout = config.rebalance_timeout + REQUEST_TIMEOUT;
        let (_, response) = self.coordinator()?.send("JoinGroup", timeout, |_| {
            JoinGroupRequest::default()
                .with_group_id(GroupId(str_bytes(&config.group_id)))
                .with_session_timeout_ms(config.session_timeout.as_millis() as i32)
                .with_rebalance_timeout_ms(config.rebalance_timeout.as_millis() as i32)
                .with_member_id(str_bytes(&member_id))
                .with_protocol_type(StrBytes::from_static_str(PROTOCOL_TYPE))
                .with_protocols(
                    protocols
                        .iter()
                        .map(|(name, metadata)| {
                            JoinGroupRequestProtocol::default()
                                .with_name(str_bytes(name))
                                .with_metadata(Bytes::from(metadata.clone()))
                        })
                        .collect(),
                )
        })?;
        if !response.member_id.is_empty() {
            self.member_id = response.member_id.to_string();
        }
        if let Some(error) = response.error_code.err() {
            return Err(GroupError::Coordinator {
                request: "JoinGroup",
                group: config.group_id,
                error,
            });
        }
        self.generation = response.generation_id;
        let protocol = response.protocol_name.map(|p| p.to_string());
        let protocol = match protocol {
            Some(name) if protocols.iter().any(|(offered, _)| *offered == name) => name,
            other => return Err(GroupError::UnexpectedProtocol(other)),
        };
        Ok(Joined {
            generation: response.generation_id,
            member_id: self.member_id.clone(),
            leader_id: response.leader.to_string(),
            protocol,
            members: response
                .members
                .into_iter()
                .map(|m| (m.member_id.to_string(), m.metadata))
                .collect(),
        })
    }

    /// Completes the join: the leader gives every member's assignment, the others none; each
    /// gets its own back.
    pub fn sync(
        &mut self,
        joined: &Joined,
        assignments: &[(String, Vec<u8>)],
    ) -> Result<Bytes, GroupError> {
        let group = self.config.group_id.clone();
        let member_id = self.member_id.clone();
        let generation = self.generation;
        let result = self
            .coordinator()
            .and_then(|c| {
                c.send("SyncGroup", REQUEST_TIMEOUT, |_| {
                    SyncGroupRequest::default()
                        .with_group_id(GroupId(str_bytes(&group)))
                        .with_generation_id(generation)
                        .with_member_id(str_bytes(&member_id))
                        .with_protocol_type(Some(StrBytes::from_static_str(PROTOCOL_TYPE)))
                        .with_protocol_name(Some(str_bytes(&joined.protocol)))
                        .with_assignments(
                            assignments
                                .iter()
                                .map(|(member, assignment)| {
                                    SyncGroupRequestAssignment::default()
                                        .with_member_id(str_bytes(member))
                                        .with_assignment(Bytes::from(assignment.clone()))
                                })
                                .collect(),
                        )
                })
            })
            .and_then(|(_, response)| match response.error_code.err() {
                Some(error) => Err(GroupError::Coordinator {
                    request: "SyncGroup",
                    group: group.clone(),
                    error,
                }),
                None => Ok(response.assignment),
            });
        result.map_err(|e| self.note(e))
    }

    /// One heartbeat; a rebalance in progress comes back as an error with
    /// [`GroupError::is_rejoin`].
    pub fn heartbeat(&mut self) -> Result<(), GroupError> {
        let group = self.config.group_id.clone();
        let member_id = self.member_id.clone();
        let generation = self.generation;
        let result = self
            .coordinator()
            .and_then(|c| {
                c.send("Heartbeat", REQUEST_TIMEOUT, |_| {
                    HeartbeatRequest::default()
                        .with_group_id(GroupId(str_bytes(&group)))
                        .with_generation_id(generation)
                        .with_member_id(str_bytes(&member_id))
                })
            })
            .and_then(|(_, response)| match response.error_code.err() {
                Some(error) => Err(GroupError::Coordinator {
                    request: "Heartbeat",
                    group: group.clone(),
                    error,
                }),
                None => Ok(()),
            });
        result.map_err(|e| self.note(e))
    }

    /// Leaves the group at once, so that the others rebalance without waiting for this
    /// member's session to expire.
    pub fn leave(&mut self) -> Result<(), GroupError> {
        if self.member_id.is_empty() {
            return Ok(());
        }
        let group = self.config.group_id.clone();
        let member_id = self.member_id.clone();
        let (_, response) = self
            .coordinator()?
            .send("LeaveGroup", REQUEST_TIMEOUT, |version| {
                let request =
                    LeaveGroupRequest::default().with_group_id(GroupId(str_bytes(&group)));
                if version >= 3 {
                    request.with_members(vec![MemberIdentity::default()
                        .with_member_id(str_bytes(&member_id))
                        .with_reason(Some(StrBytes::from_static_str("the worker is stopping")))])
                } else {
                    request.with_member_id(str_bytes(&member_id))
                }
            })?;
        self.member_id.clear();
        self.generation = -1;
        match response.error_code.err() {
            Some(error) => Err(GroupError::Coordinator {
                request: "LeaveGroup",
                group,
                error,
            }),
            None => Ok(()),
        }
    }
}
