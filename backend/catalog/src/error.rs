use tributary_identity::IdentityError;
use tributary_provisioning::KafkaAdminError;

/// What can go wrong in catalog operations; messages are safe to show to the caller.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("you are not allowed to do this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A dependency (a Kafka cluster, a registry) did not answer; trying later may work.
    #[error("{0}")]
    Unavailable(String),
    /// The schema is valid but breaks the stream's compatibility level.
    #[error("the schema is incompatible with the stream's earlier versions: {}", .0.join("; "))]
    IncompatibleSchema(Vec<String>),
    #[error("schema registry: {0}")]
    Schema(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CatalogError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation {
            field,
            message: message.into(),
        }
    }
}

impl From<IdentityError> for CatalogError {
    fn from(value: IdentityError) -> Self {
        match value {
            IdentityError::Forbidden => Self::Forbidden,
            // Not a member of the org: the org's things do not exist for the caller.
            IdentityError::NotFound => Self::NotFound,
            IdentityError::Validation { field, message } => Self::Validation { field, message },
            IdentityError::Conflict(m) => Self::Conflict(m),
            IdentityError::Database(e) => Self::Database(e),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<tributary_core::CryptoError> for CatalogError {
    fn from(value: tributary_core::CryptoError) -> Self {
        Self::Internal(format!("cluster credentials: {value}"))
    }
}

/// Maps a broker answer to what the caller can act on.
pub(crate) fn kafka(error: KafkaAdminError, field: &'static str) -> CatalogError {
    use rdkafka::types::RDKafkaErrorCode as C;
    match error {
        KafkaAdminError::InvalidArgument { reason, .. } => CatalogError::validation(field, reason),
        KafkaAdminError::TopicExists(_) => CatalogError::Conflict(
            "a topic of that name exists on the cluster already; adopt it (if your organization is entitled to it) or pick another name".into(),
        ),
        KafkaAdminError::UnknownTopic(_) => {
            CatalogError::validation(field, "the topic does not exist on the cluster")
        }
        KafkaAdminError::Broker {
            code:
                C::InvalidTopic
                | C::InvalidPartitions
                | C::InvalidReplicationFactor
                | C::InvalidConfig
                | C::PolicyViolation
                | C::InvalidRequest,
            message,
        } => {
            CatalogError::validation(field, format!("the cluster refused it: {message}"))
        }
        e if e.is_transient() => {
            CatalogError::Unavailable(format!("the Kafka cluster did not answer: {e}"))
        }
        e => CatalogError::Unavailable(format!("the Kafka cluster refused the operation: {e}")),
    }
}
