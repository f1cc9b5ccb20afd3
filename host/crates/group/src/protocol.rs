//! Kafka Connect's group protocol: what a worker says of itself when it joins the group (its
//! metadata) and what the leader gives each worker (its assignment), in the encodings of
//! Kafka's `ConnectProtocol` (v0, `default`) and `IncrementalCooperativeConnectProtocol` (v1
//! `compatible`, v2 `sessioned`).
//!
//! Encodings are big-endian; a string is an int16 length and UTF-8; an array is an int32
//! count (-1: null); nullable bytes are an int32 length (-1: null). A connector's own instance
//! is listed among its tasks as task [`CONNECTOR_TASK`] (-1).
//!
//! Invariants: decoding accepts what Kafka's workers write — any order of connectors and tasks,
//! trailing v1 fields left out (they take their defaults), versions above 2 read as 2 (Kafka
//! reads newer versions with the schema it knows) — and refuses truncated input with an
//! error naming what was cut short; encoding writes exactly what Kafka's workers write.

use crate::error::GroupError;
use bytes::{Buf, BufMut};

/// The group protocol type of Kafka Connect workers.
pub const PROTOCOL_TYPE: &str = "connect";

/// The task id that stands for a connector's own instance in an assignment.
pub const CONNECTOR_TASK: i32 = -1;

/// One of Connect's subprotocols, in increasing preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subprotocol {
    /// v0: eager rebalancing (everything is revoked on every rebalance).
    Default,
    /// v1: incremental cooperative rebalancing (KIP-415).
    Compatible,
    /// v2: v1 plus signed internal requests (KIP-507).
    Sessioned,
}

impl Subprotocol {
    /// The name in JoinGroup's protocol list.
    pub fn name(self) -> &'static str {
        match self {
            Subprotocol::Default => "default",
            Subprotocol::Compatible => "compatible",
            Subprotocol::Sessioned => "sessioned",
        }
    }

    /// The version written at the head of metadata and assignments.
    pub fn version(self) -> i16 {
        match self {
            Subprotocol::Default => 0,
            Subprotocol::Compatible => 1,
            Subprotocol::Sessioned => 2,
        }
    }

    pub fn from_name(name: &str) -> Option<Subprotocol> {
        [
            Subprotocol::Default,
            Subprotocol::Compatible,
            Subprotocol::Sessioned,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }

    /// The worker key `connect.protocol` (`eager`, `compatible`, `sessioned`; Kafka's default
    /// is `sessioned`).
    pub fn from_config(value: &str) -> Option<Subprotocol> {
        match value.trim().to_ascii_lowercase().as_str() {
            "eager" => Some(Subprotocol::Default),
            "compatible" => Some(Subprotocol::Compatible),
            "sessioned" => Some(Subprotocol::Sessioned),
            _ => None,
        }
    }

    /// What a worker configured for `self` offers when it joins, most preferred first: every
    /// subprotocol up to its own, so that the group settles on what all members speak.
    pub fn offered(self) -> Vec<Subprotocol> {
        let mut offered: Vec<Subprotocol> = [
            Subprotocol::Sessioned,
            Subprotocol::Compatible,
            Subprotocol::Default,
        ]
        .into_iter()
        .filter(|p| *p <= self)
        .collect();
        offered.dedup();
        offered
    }
}

/// What a worker tells the group when it joins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerMetadata {
    /// The worker's REST URL (the leader forwards requests to it).
    pub url: String,
    /// The offset of the config topic up to which the worker has read.
    pub config_offset: i64,
    /// What the worker runs now (v1, v2); `None` when it runs nothing.
    pub allocation: Option<Assignment>,
}

/// Whether an assignment could be made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AssignmentError {
    #[default]
    None,
    /// The leader could not read the config topic up to the members' offsets: every member
    /// rejoins.
    ConfigMismatch,
    /// A code this worker does not know.
    Other(i16),
}

impl AssignmentError {
    fn code(self) -> i16 {
        match self {
            AssignmentError::None => 0,
            AssignmentError::ConfigMismatch => 1,
            AssignmentError::Other(code) => code,
        }
    }

    fn from_code(code: i16) -> AssignmentError {
        match code {
            0 => AssignmentError::None,
            1 => AssignmentError::ConfigMismatch,
            other => AssignmentError::Other(other),
        }
    }
}

/// Connectors and tasks, as an assignment lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Units {
    pub connectors: Vec<String>,
    pub tasks: Vec<(String, i32)>,
}

impl Units {
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty() && self.tasks.is_empty()
    }

    /// The same units in a canonical order, for comparisons.
    pub fn sorted(mut self) -> Units {
        self.connectors.sort();
        self.tasks.sort();
        self
    }

    /// Grouped by connector, in order of first appearance: connectors first, then tasks, the
    /// connector's own instance as task -1 (the shape Kafka writes).
    fn grouped(&self) -> Vec<(&str, Vec<i32>)> {
        let mut groups: Vec<(&str, Vec<i32>)> = Vec::new();
        for connector in &self.connectors {
            push_task(&mut groups, connector, CONNECTOR_TASK);
        }
        for (connector, task) in &self.tasks {
            push_task(&mut groups, connector, *task);
        }
        groups
    }
}

fn push_task<'a>(groups: &mut Vec<(&'a str, Vec<i32>)>, connector: &'a str, task: i32) {
    match groups.iter_mut().find(|(name, _)| *name == connector) {
        Some((_, tasks)) => tasks.push(task),
        None => groups.push((connector, vec![task])),
    }
}

/// What the leader gives one worker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    pub error: AssignmentError,
    /// The leader's member id.
    pub leader: String,
    /// The leader's REST URL.
    pub leader_url: String,
    /// The config offset the assignment was made at: the worker reads the config topic up to
    /// it before running what it was given.
    pub config_offset: i64,
    pub assigned: Units,
    /// What the worker must stop (v1, v2).
    pub revoked: Units,
    /// How long lost work waits for its worker before it is given to others (v1, v2).
    pub delay_ms: i32,
}

/// Appends Connect's encodings to a buffer.
struct Writer(Vec<u8>);

impl Writer {
    fn string(&mut self, value: &str) -> Result<(), GroupError> {
        let len = i16::try_from(value.len()).map_err(|_| GroupError::TooLong {
            what: "string",
            len: value.len(),
        })?;
        self.0.put_i16(len);
        self.0.put_slice(value.as_bytes());
        Ok(())
    }

    fn units(&mut self, units: &Units) -> Result<(), GroupError> {
        let groups = units.grouped();
        self.0.put_i32(groups.len() as i32);
        for (connector, tasks) in groups {
            self.string(connector)?;
            self.0.put_i32(tasks.len() as i32);
            for task in tasks {
                self.0.put_i32(task);
            }
        }
        Ok(())
    }
}

/// Reads Connect's encodings, naming what it was reading when the input ends.
struct Reader<'a> {
    input: &'a [u8],
    what: &'static str,
}

impl Reader<'_> {
    fn need(&self, bytes: usize, field: &'static str) -> Result<(), GroupError> {
        if self.input.remaining() < bytes {
            return Err(GroupError::Truncated {
                what: self.what,
                field,
            });
        }
        Ok(())
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, GroupError> {
        self.need(2, field)?;
        Ok(self.input.get_i16())
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, GroupError> {
        self.need(4, field)?;
        Ok(self.input.get_i32())
    }

    fn i64(&mut self, field: &'static str) -> Result<i64, GroupError> {
        self.need(8, field)?;
        Ok(self.input.get_i64())
    }

    fn string(&mut self, field: &'static str) -> Result<String, GroupError> {
        let len = self.i16(field)?;
        let len = usize::try_from(len).map_err(|_| GroupError::Malformed {
            what: self.what,
            reason: format!("{field} has a negative length"),
        })?;
        self.need(len, field)?;
        let (text, rest) = self.input.split_at(len);
        self.input = rest;
        String::from_utf8(text.to_vec()).map_err(|_| GroupError::Malformed {
            what: self.what,
            reason: format!("{field} is not UTF-8"),
        })
    }

    fn is_done(&self) -> bool {
        self.input.is_empty()
    }

    /// An array of connector assignments (a null array is empty).
    fn units(&mut self, field: &'static str) -> Result<Units, GroupError> {
        let count = self.i32(field)?;
        let mut units = Units::default();
        for _ in 0..count.max(0) {
            let connector = self.string(field)?;
            let tasks = self.i32(field)?;
            for _ in 0..tasks.max(0) {
                match self.i32(field)? {
                    CONNECTOR_TASK => units.connectors.push(connector.clone()),
                    task => units.tasks.push((connector.clone(), task)),
                }
            }
        }
        Ok(units)
    }
}

impl WorkerMetadata {
    /// The metadata as a worker speaking `protocol` sends it in JoinGroup.
    pub fn encode(&self, protocol: Subprotocol) -> Result<Vec<u8>, GroupError> {
        let mut out = Writer(Vec::with_capacity(64));
        out.0.put_i16(protocol.version());
        out.string(&self.url)?;
        out.0.put_i64(self.config_offset);
        if protocol != Subprotocol::Default {
            match self
                .allocation
                .as_ref()
                .filter(|a| !a.assigned.is_empty() || !a.revoked.is_empty())
            {
                None => out.0.put_i32(-1),
                Some(allocation) => {
                    let bytes = allocation.encode(protocol)?;
                    out.0.put_i32(bytes.len() as i32);
                    out.0.put_slice(&bytes);
                }
            }
        }
        Ok(out.0)
    }

    /// Metadata as any Connect worker sends it; returns its version too.
    pub fn decode(input: &[u8]) -> Result<(i16, WorkerMetadata), GroupError> {
        let mut read = Reader {
            input,
            what: "worker metadata",
        };
        let version = read.i16("version")?;
        if version < 0 {
            return Err(GroupError::Malformed {
                what: "worker metadata",
                reason: format!("unsupported version {version}"),
            });
        }
        let url = read.string("url")?;
        let config_offset = read.i64("config offset")?;
        let mut allocation = None;
        if version >= 1 && !read.is_done() {
            let len = read.i32("allocation")?;
            if len >= 0 {
                let len = len as usize;
                read.need(len, "allocation")?;
                allocation = Some(Assignment::decode(&read.input[..len])?.1);
            }
        }
        Ok((
            version,
            WorkerMetadata {
                url,
                config_offset,
                allocation,
            },
        ))
    }
}

impl Assignment {
    /// The assignment as a leader speaking `protocol` sends it in SyncGroup.
    pub fn encode(&self, protocol: Subprotocol) -> Result<Vec<u8>, GroupError> {
        let mut out = Writer(Vec::with_capacity(128));
        out.0.put_i16(protocol.version());
        out.0.put_i16(self.error.code());
        out.string(&self.leader)?;
        out.string(&self.leader_url)?;
        out.0.put_i64(self.config_offset);
        out.units(&self.assigned)?;
        if protocol != Subprotocol::Default {
            out.units(&self.revoked)?;
            out.0.put_i32(self.delay_ms);
        }
        Ok(out.0)
    }

    /// An assignment as any Connect leader sends it; returns its version too.
    pub fn decode(input: &[u8]) -> Result<(i16, Assignment), GroupError> {
        let mut read = Reader {
            input,
            what: "assignment",
        };
        let version = read.i16("version")?;
        if version < 0 {
            return Err(GroupError::Malformed {
                what: "assignment",
                reason: format!("unsupported version {version}"),
            });
        }
        let error = AssignmentError::from_code(read.i16("error")?);
        let leader = read.string("leader")?;
        let leader_url = read.string("leader url")?;
        let config_offset = read.i64("config offset")?;
        let assigned = read.units("assignment")?;
        let mut assignment = Assignment {
            error,
            leader,
            leader_url,
            config_offset,
            assigned,
            ..Assignment::default()
        };
        // v1 fields may be left out; they then take their defaults.
        if version >= 1 && !read.is_done() {
            assignment.revoked = read.units("revoked")?;
            if !read.is_done() {
                assignment.delay_ms = read.i32("delay")?;
            }
        }
        Ok((version, assignment))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(connectors: &[&str], tasks: &[(&str, i32)]) -> Units {
        Units {
            connectors: connectors.iter().map(|c| c.to_string()).collect(),
            tasks: tasks.iter().map(|(c, t)| (c.to_string(), *t)).collect(),
        }
    }

    #[test]
    fn v0_metadata_is_version_url_and_offset() {
        let metadata = WorkerMetadata {
            url: "http://a:1/".into(),
            config_offset: 7,
            allocation: None,
        };
        let bytes = metadata.encode(Subprotocol::Default).unwrap();
        let mut expected = vec![0, 0, 0, 11];
        expected.extend_from_slice(b"http://a:1/");
        expected.extend_from_slice(&7i64.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(WorkerMetadata::decode(&bytes).unwrap(), (0, metadata));
    }

    #[test]
    fn sessioned_metadata_carries_the_current_assignment() {
        let metadata = WorkerMetadata {
            url: "http://b:2/".into(),
            config_offset: 42,
            allocation: Some(Assignment {
                leader: "leader-1".into(),
                leader_url: "http://a:1/".into(),
                config_offset: 40,
                assigned: units(&["c"], &[("c", 0), ("c", 1)]),
                ..Assignment::default()
            }),
        };
        let bytes = metadata.encode(Subprotocol::Sessioned).unwrap();
        assert_eq!(&bytes[..2], &[0, 2]);
        let (version, decoded) = WorkerMetadata::decode(&bytes).unwrap();
        assert_eq!(version, 2);
        assert_eq!(decoded, metadata);
        let empty = WorkerMetadata {
            allocation: None,
            ..metadata
        };
        let bytes = empty.encode(Subprotocol::Compatible).unwrap();
        assert_eq!(&bytes[bytes.len() - 4..], &(-1i32).to_be_bytes());
    }

    #[test]
    fn assignments_group_tasks_under_their_connector_with_minus_one_for_the_instance() {
        let assignment = Assignment {
            leader: "l".into(),
            leader_url: "u".into(),
            config_offset: 3,
            assigned: units(&["c"], &[("c", 2)]),
            delay_ms: 5,
            ..Assignment::default()
        };
        let bytes = assignment.encode(Subprotocol::Compatible).unwrap();
        let mut expected = vec![0, 1, 0, 0, 0, 1, b'l', 0, 1, b'u'];
        expected.extend_from_slice(&3i64.to_be_bytes());
        expected.extend_from_slice(&1i32.to_be_bytes());
        expected.extend_from_slice(&[0, 1, b'c']);
        expected.extend_from_slice(&2i32.to_be_bytes());
        expected.extend_from_slice(&(-1i32).to_be_bytes());
        expected.extend_from_slice(&2i32.to_be_bytes());
        expected.extend_from_slice(&0i32.to_be_bytes());
        expected.extend_from_slice(&5i32.to_be_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(Assignment::decode(&bytes).unwrap(), (1, assignment));
    }

    #[test]
    fn missing_v1_fields_take_their_defaults_and_truncation_is_named() {
        let v0 = Assignment {
            error: AssignmentError::ConfigMismatch,
            leader: "l".into(),
            leader_url: "u".into(),
            config_offset: 9,
            ..Assignment::default()
        };
        let mut bytes = v0.encode(Subprotocol::Default).unwrap();
        bytes[1] = 1; // a v1 header over a v0 body: revoked and delay left out
        let (_, decoded) = Assignment::decode(&bytes).unwrap();
        assert_eq!(decoded, v0);
        let error = Assignment::decode(&bytes[..bytes.len() - 3]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the assignment is cut short (in assignment)"
        );
        assert!(matches!(error, GroupError::Truncated { .. }));
    }

    #[test]
    fn a_worker_offers_its_protocol_and_every_older_one() {
        assert_eq!(
            Subprotocol::Sessioned.offered(),
            [
                Subprotocol::Sessioned,
                Subprotocol::Compatible,
                Subprotocol::Default
            ]
        );
        assert_eq!(Subprotocol::Default.offered(), [Subprotocol::Default]);
        assert_eq!(
            Subprotocol::from_config("SESSIONED"),
            Some(Subprotocol::Sessioned)
        );
        assert_eq!(
            Subprotocol::from_config("eager"),
            Some(Subprotocol::Default)
        );
        assert_eq!(
            Subprotocol::from_name("compatible"),
            Some(Subprotocol::Compatible)
        );
    }
}
