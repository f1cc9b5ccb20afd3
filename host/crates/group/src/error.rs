//! The crate's one error type. Callers decide on the variant: [`GroupError::is_rejoin`] and
//! [`GroupError::is_coordinator_lost`] say what a member does next.

use kafka_protocol::error::ResponseError;

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// Connect's encodings: the input ended inside a field.
    #[error("the {what} is cut short (in {field})")]
    Truncated {
        what: &'static str,
        field: &'static str,
    },
    /// Connect's encodings: a field that cannot be read.
    #[error("the {what} cannot be read: {reason}")]
    Malformed { what: &'static str, reason: String },
    /// A value too long for its encoding.
    #[error("a {what} of {len} bytes is too long to encode")]
    TooLong { what: &'static str, len: usize },
    /// The broker could not be reached, or the connection broke.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A request or response that Kafka's protocol codec refused.
    #[error("{context}: {reason}")]
    Codec { context: String, reason: String },
    /// The broker does not serve a request at any version this worker speaks.
    #[error(
        "the broker does not support {api} at a version kconnect speaks ({ours}; broker: {broker})"
    )]
    UnsupportedApi {
        api: &'static str,
        ours: String,
        broker: String,
    },
    /// The group coordinator answered with an error.
    #[error("{request} for group {group} failed: {error}")]
    Coordinator {
        request: &'static str,
        group: String,
        error: ResponseError,
    },
    /// The group chose a subprotocol this worker did not offer, or none.
    #[error("the group chose protocol {0:?}, which this worker did not offer")]
    UnexpectedProtocol(Option<String>),
}

impl GroupError {
    /// The member must join again (a rebalance started, or its generation or id is stale).
    pub fn is_rejoin(&self) -> bool {
        matches!(
            self,
            GroupError::Coordinator {
                error: ResponseError::RebalanceInProgress
                    | ResponseError::IllegalGeneration
                    | ResponseError::UnknownMemberId
                    | ResponseError::MemberIdRequired
                    | ResponseError::FencedInstanceId,
                ..
            }
        )
    }

    /// The coordinator moved or is not ready: find it again, then retry.
    pub fn is_coordinator_lost(&self) -> bool {
        matches!(
            self,
            GroupError::Io { .. }
                | GroupError::Coordinator {
                    error: ResponseError::NotCoordinator
                        | ResponseError::CoordinatorNotAvailable
                        | ResponseError::CoordinatorLoadInProgress,
                    ..
                }
        )
    }
}
