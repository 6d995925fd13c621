use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::IdentityError;

/// A member's role in an organization, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Developer,
    Billing,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::Admin,
        Role::Developer,
        Role::Billing,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Billing => "billing",
            Self::Viewer => "viewer",
        }
    }

    /// Members, invitations and roles.
    pub fn can_manage_members(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// Org API tokens for machines.
    pub fn can_manage_api_tokens(self) -> bool {
        matches!(self, Self::Owner | Self::Admin | Self::Developer)
    }

    /// In the operator organization: operates the platform (clusters, every draft, the
    /// registry's operator rights). Its viewers and billing members do not.
    pub fn can_operate(self) -> bool {
        matches!(self, Self::Owner | Self::Admin | Self::Developer)
    }

    /// The organization's audit log.
    pub fn can_read_audit_log(self) -> bool {
        matches!(self, Self::Owner | Self::Admin)
    }

    /// Whether a member with this role may grant `other` (only owners make owners).
    pub fn can_grant(self, other: Role) -> bool {
        match self {
            Self::Owner => true,
            Self::Admin => other != Self::Owner,
            _ => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = IdentityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| IdentityError::validation("role", format!("{s:?} is not a role")))
    }
}

/// What an org API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Read the organization's data (catalog, subscriptions, usage).
    Read,
    /// Change the organization's streams and subscriptions.
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        match s {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            other => Err(IdentityError::validation(
                "scopes",
                format!("{other:?} is not a scope (read, write)"),
            )),
        }
    }
}
