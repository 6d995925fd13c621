//! The registry's errors. The HTTP layer maps each to a Confluent `error_code` once.

/// What can go wrong in the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    #[error("Schema {0} not found.")]
    SchemaNotFound(String),
    #[error("Subject '{0}' was soft deleted. Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error(
        "Subject '{subject}' Version {version} was not deleted first before being permanently deleted"
    )]
    VersionNotSoftDeleted { subject: String, version: i32 },
    #[error("Subject compatibility level not configured for '{0}'")]
    SubjectLevelNotConfigured(String),
    #[error("Invalid schema: {0}")]
    InvalidSchema(String),
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    #[error(
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive: {0}"
    )]
    InvalidLevel(String),
    #[error("Schema being registered is incompatible with an earlier schema for subject: {}", .0.join("; "))]
    Incompatible(Vec<String>),
    /// The schema (or the comparison it needs) costs more than one request may spend; see
    /// [`crate::budget`].
    #[error("Invalid schema: the schema is too complex: {0}")]
    TooComplex(String),
    /// Too much schema work is running at once; the client may retry.
    #[error("{0}")]
    Overloaded(String),
    #[error("Invalid schema reference: {0}")]
    ReferenceNotFound(String),
    #[error("One or more references exist to the schema {0}")]
    ReferenceExists(String),
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    /// The change is refused by a rule of the platform (Confluent's 42205, "operation not
    /// permitted"): a published stream's subjects follow its contract.
    #[error("{0}")]
    NotPermitted(String),
    #[error("cannot decode the message: {0}")]
    Decode(String),
    /// An external registry did not answer, refused the credentials or failed.
    #[error("{0}")]
    Remote(String),
    #[error("store error")]
    Database(#[from] sqlx::Error),
}
