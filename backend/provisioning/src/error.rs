use std::time::Duration;

use rdkafka::{error::KafkaError, types::RDKafkaErrorCode};

/// Errors of the Kafka admin layer, classified so callers can decide what to retry and what to
/// report: authorization and validation problems are not retried, timeouts and transport are.
#[derive(Debug, thiserror::Error)]
pub enum KafkaAdminError {
    #[error("invalid {field}: {reason}")]
    InvalidArgument { field: &'static str, reason: String },
    #[error("the platform principal is not authorized for this operation: {0}")]
    NotAuthorized(String),
    #[error("the broker has no ACL authorizer or SCRAM support enabled: {0}")]
    SecurityDisabled(String),
    #[error("topic already exists: {0}")]
    TopicExists(String),
    #[error("unknown topic: {0}")]
    UnknownTopic(String),
    #[error("the broker refused the request: {code:?}: {message}")]
    Broker {
        code: RDKafkaErrorCode,
        message: String,
    },
    #[error("no answer from the broker within {0:?}")]
    Timeout(Duration),
    #[error("item {index} of the request failed: {source}")]
    Item {
        index: usize,
        #[source]
        source: Box<KafkaAdminError>,
    },
    #[error("unexpected answer from librdkafka: {0}")]
    Protocol(String),
    #[error("Kafka client error: {0}")]
    Client(#[from] KafkaError),
    #[error("the blocking admin task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl KafkaAdminError {
    pub(crate) fn from_code(code: RDKafkaErrorCode, message: String) -> Self {
        use RDKafkaErrorCode as C;
        match code {
            C::TopicAuthorizationFailed
            | C::GroupAuthorizationFailed
            | C::ClusterAuthorizationFailed => Self::NotAuthorized(message),
            C::SecurityDisabled => Self::SecurityDisabled(message),
            C::TopicAlreadyExists => Self::TopicExists(message),
            C::UnknownTopicOrPartition => Self::UnknownTopic(message),
            C::OperationTimedOut | C::RequestTimedOut => Self::Timeout(Duration::ZERO),
            code => Self::Broker { code, message },
        }
    }

    /// Whether trying again later may succeed (network, timeouts, broker unavailability).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Join(_) => true,
            Self::Client(e) => matches!(
                e.rdkafka_error_code(),
                Some(
                    RDKafkaErrorCode::BrokerTransportFailure
                        | RDKafkaErrorCode::AllBrokersDown
                        | RDKafkaErrorCode::OperationTimedOut
                        | RDKafkaErrorCode::RequestTimedOut
                        | RDKafkaErrorCode::NotController
                        | RDKafkaErrorCode::LeaderNotAvailable
                )
            ),
            Self::Broker { code, .. } => matches!(
                code,
                RDKafkaErrorCode::NotController
                    | RDKafkaErrorCode::BrokerNotAvailable
                    | RDKafkaErrorCode::NetworkException
                    | RDKafkaErrorCode::BrokerTransportFailure
                    | RDKafkaErrorCode::AllBrokersDown
            ),
            Self::Item { source, .. } => source.is_transient(),
            _ => false,
        }
    }
}
