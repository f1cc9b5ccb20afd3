//! One blocking connection to a broker: Kafka's framing (an int32 size before each request and
//! response), request headers with correlation ids, and the version of each API chosen once
//! from the broker's ApiVersions answer — the highest both sides speak.
//!
//! Invariants: one request at a time, answered in order (the coordinator's JoinGroup may be
//! held for up to the rebalance timeout, so the read timeout is set per request); a response
//! whose correlation id is not the request's breaks the connection instead of being misread.

use crate::error::GroupError;
use bytes::{Buf, BufMut, BytesMut};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The ApiVersions version asked first (flexible, answered by every Kafka since 2.4).
const API_VERSIONS_VERSION: i16 = 3;
/// The largest response accepted: far above what group requests return.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

pub struct Connection {
    stream: TcpStream,
    address: String,
    client_id: StrBytes,
    correlation_id: i32,
    /// Broker's (min, max) version per API key.
    broker_versions: HashMap<i16, (i16, i16)>,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> GroupError {
    let context = context.into();
    move |source| GroupError::Io { context, source }
}

/// kafka-protocol's encoders and decoders fail with a message: it is kept, with the request.
fn codec(context: &str, error: impl std::fmt::Display) -> GroupError {
    GroupError::Codec {
        context: context.to_string(),
        reason: error.to_string(),
    }
}

impl Connection {
    /// Connects to `address` (`host:port`) and asks which API versions it serves.
    pub fn open(
        address: &str,
        client_id: &str,
        timeout: Duration,
    ) -> Result<Connection, GroupError> {
        let context = || format!("cannot connect to broker {address}");
        let target = address
            .to_socket_addrs()
            .map_err(io(context()))?
            .next()
            .ok_or_else(|| GroupError::Io {
                context: context(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
            })?;
        let stream = TcpStream::connect_timeout(&target, timeout).map_err(io(context()))?;
        stream.set_nodelay(true).map_err(io(context()))?;
        let mut connection = Connection {
            stream,
            address: address.to_string(),
            client_id: StrBytes::from_string(client_id.to_string()),
            correlation_id: 0,
            broker_versions: HashMap::new(),
        };
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kconnect"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let response: ApiVersionsResponse =
            connection.exchange(&request, API_VERSIONS_VERSION, timeout)?;
        if response.error_code != 0 {
            return Err(GroupError::Codec {
                context: format!("ApiVersions to {address}"),
                reason: format!("error code {}", response.error_code),
            });
        }
        connection.broker_versions = response
            .api_keys
            .iter()
            .map(|v| (v.api_key, (v.min_version, v.max_version)))
            .collect();
        Ok(connection)
    }

    pub fn address(&self) -> &str {
        &self.address
    }

    /// The highest version of `R` both this codec and the broker speak.
    fn version_of<R: Request>(&self, api: &'static str) -> Result<i16, GroupError> {
        let ours = R::VERSIONS;
        let broker = self.broker_versions.get(&R::KEY).copied();
        match broker {
            Some((min, max)) if min <= ours.max && ours.min <= max => Ok(ours.max.min(max)),
            _ => Err(GroupError::UnsupportedApi {
                api,
                ours: format!("{}-{}", ours.min, ours.max),
                broker: broker.map_or("none".to_string(), |(a, b)| format!("{a}-{b}")),
            }),
        }
    }

    /// Sends the request `build` makes for the best common version, and returns that version
    /// with the answer.
    pub fn send<R: Request>(
        &mut self,
        api: &'static str,
        timeout: Duration,
        build: impl FnOnce(i16) -> R,
    ) -> Result<(i16, R::Response), GroupError> {
        let version = self.version_of::<R>(api)?;
        let request = build(version);
        let response = self.exchange(&request, version, timeout)?;
        Ok((version, response))
    }

    fn exchange<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        timeout: Duration,
    ) -> Result<R::Response, GroupError> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let api_key = ApiKey::try_from(R::KEY).map_err(|_| GroupError::Codec {
            context: "request".into(),
            reason: format!("unknown API key {}", R::KEY),
        })?;
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation_id)
            .with_client_id(Some(self.client_id.clone()));
        let context = format!("{api_key:?} to {}", self.address);
        let mut body = BytesMut::new();
        header
            .encode(&mut body, R::header_version(version))
            .map_err(|e| codec(&context, e))?;
        request
            .encode(&mut body, version)
            .map_err(|e| codec(&context, e))?;
        let mut frame = BytesMut::with_capacity(body.len() + 4);
        frame.put_i32(body.len() as i32);
        frame.extend_from_slice(&body);
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(io(context.clone()))?;
        self.stream.write_all(&frame).map_err(io(context.clone()))?;

        let mut size = [0u8; 4];
        self.stream
            .read_exact(&mut size)
            .map_err(io(context.clone()))?;
        let size = i32::from_be_bytes(size);
        let size = usize::try_from(size)
            .ok()
            .filter(|s| *s <= MAX_RESPONSE_BYTES)
            .ok_or_else(|| GroupError::Codec {
                context: context.clone(),
                reason: format!("response size {size}"),
            })?;
        let mut response = vec![0u8; size];
        self.stream
            .read_exact(&mut response)
            .map_err(io(context.clone()))?;
        let mut response = bytes::Bytes::from(response);
        let header = ResponseHeader::decode(
            &mut response,
            <R::Response as HeaderVersion>::header_version(version),
        )
        .map_err(|e| codec(&context, e))?;
        if header.correlation_id != self.correlation_id {
            return Err(GroupError::Codec {
                context,
                reason: format!(
                    "answer to request {} while waiting for {}",
                    header.correlation_id, self.correlation_id
                ),
            });
        }
        let decoded =
            R::Response::decode(&mut response, version).map_err(|e| codec(&context, e))?;
        if response.has_remaining() {
            log::debug!(
                "{context}: {} bytes left after the response",
                response.remaining()
            );
        }
        Ok(decoded)
    }
}
