//! SCRAM credential descriptions as the broker reports them (never the secret itself).

use serde::{Deserialize, Serialize};

/// The credentials one user has on the broker; empty when the user has none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramUserDescription {
    pub user: String,
    pub credentials: Vec<ScramCredentialInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramCredentialInfo {
    /// `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    pub iterations: i32,
}
