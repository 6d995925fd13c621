//! Who may read and write which subject. The API crate turns credentials into a [`Caller`];
//! the rules live here, next to the data they guard.

use std::{future::Future, pin::Pin};

use axum::http::HeaderMap;
use uuid::Uuid;

use crate::store::SubjectInfo;

/// An authenticated caller of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A member of the operator organization: reads and writes everything.
    Operator,
    /// Acting for an organization; `write` when its role or token scope allows changes.
    Org { org_id: Uuid, write: bool },
    /// A consumer principal: reads the key and value subjects of the topics it may read.
    Principal { readable_topics: Vec<String> },
}

/// Why a request has no caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// No credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthenticated(String),
    /// Checking the credentials failed (store unavailable).
    #[error("{0}")]
    Unavailable(String),
}

/// Resolves request headers to a [`Caller`].
pub trait RegistryAuth: Send + Sync {
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
    ) -> Pin<Box<dyn Future<Output = Result<Caller, AuthFailure>> + Send + 'a>>;
}

/// Reactions of the rest of the platform to changes made through the REST API, run inside the
/// transaction that made them (so a refused reaction rolls the change back).
pub trait RegistryHooks: Send + Sync {
    /// A new version was registered under `subject` (not called when an identical schema was
    /// registered again).
    fn version_registered<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        subject: &'a str,
        version: i32,
    ) -> Pin<Box<dyn Future<Output = Result<(), crate::RegistryError>> + Send + 'a>>;

    /// The name of the published (or deprecated) stream whose schemas `subject` carries, if any:
    /// such a subject's level and versions are not changed through the REST API.
    fn governing_stream<'a>(
        &'a self,
        _conn: &'a mut sqlx::PgConnection,
        _subject: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<String>, crate::RegistryError>> + Send + 'a>>
    {
        Box::pin(async { Ok(None) })
    }
}

/// Hooks that do nothing (a registry on its own).
pub struct NoHooks;

impl RegistryHooks for NoHooks {
    fn version_registered<'a>(
        &'a self,
        _conn: &'a mut sqlx::PgConnection,
        _subject: &'a str,
        _version: i32,
    ) -> Pin<Box<dyn Future<Output = Result<(), crate::RegistryError>> + Send + 'a>> {
        Box::pin(async { Ok(()) })
    }
}

impl Caller {
    /// Reads: the operator, the owner, anyone for public subjects, a principal for its topics'
    /// `-key`/`-value` subjects.
    pub fn can_read(&self, subject: &SubjectInfo) -> bool {
        if subject.public_read {
            return true;
        }
        match self {
            Self::Operator => true,
            Self::Org { org_id, .. } => subject.owner_org_id == Some(*org_id),
            Self::Principal { readable_topics } => readable_topics.iter().any(|topic| {
                subject
                    .name
                    .strip_prefix(topic.as_str())
                    .is_some_and(|rest| rest == "-key" || rest == "-value")
            }),
        }
    }

    /// Writes (register, delete, per-subject config): the operator, or the owning organization
    /// with write rights. An unowned subject is the operator's alone.
    pub fn can_write(&self, subject: Option<&SubjectInfo>) -> bool {
        match self {
            Self::Operator => true,
            Self::Org { org_id, write } => {
                *write && subject.is_some_and(|s| s.owner_org_id == Some(*org_id))
            }
            Self::Principal { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(name: &str, owner: Option<Uuid>, public_read: bool) -> SubjectInfo {
        SubjectInfo {
            name: name.into(),
            owner_org_id: owner,
            public_read,
        }
    }

    #[test]
    fn rules() {
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        let owned = subject("orders-value", Some(a), false);
        let writer = Caller::Org {
            org_id: a,
            write: true,
        };
        let reader = Caller::Org {
            org_id: a,
            write: false,
        };
        let other = Caller::Org {
            org_id: b,
            write: true,
        };
        assert!(writer.can_read(&owned) && writer.can_write(Some(&owned)));
        assert!(reader.can_read(&owned) && !reader.can_write(Some(&owned)));
        assert!(!other.can_read(&owned) && !other.can_write(Some(&owned)));
        assert!(other.can_read(&subject("orders-value", Some(a), true)));
        assert!(
            !writer.can_write(None),
            "no squatting on unclaimed subjects"
        );
        assert!(!writer.can_write(Some(&subject("x", None, false))));
        assert!(Caller::Operator.can_write(None) && Caller::Operator.can_read(&owned));
        let principal = Caller::Principal {
            readable_topics: vec!["orders".into()],
        };
        assert!(principal.can_read(&owned));
        assert!(principal.can_read(&subject("orders-key", Some(a), false)));
        assert!(!principal.can_read(&subject("orders-x-value", Some(a), false)));
        assert!(!principal.can_write(Some(&owned)));
    }
}
