//! Names that end up on the Kafka broker. Kafka rejects some of them late (at request time) with
//! vague errors, so they are checked here first, with errors that say which rule was broken.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} must be at most {max} characters (got {len})")]
    TooLong {
        kind: &'static str,
        max: usize,
        len: usize,
    },
    #[error("{kind} may only contain ASCII letters, digits, '.', '_' and '-' (found {found:?})")]
    InvalidCharacter { kind: &'static str, found: char },
    #[error("{kind} must not be '.' or '..'")]
    DotName { kind: &'static str },
}

/// Checks the character set Kafka allows in topic names (and that we also allow in user names).
fn check_legal(kind: &'static str, value: &str, max: usize) -> Result<(), NameError> {
    if value.is_empty() {
        return Err(NameError::Empty { kind });
    }
    let len = value.chars().count();
    if len > max {
        return Err(NameError::TooLong { kind, max, len });
    }
    if value == "." || value == ".." {
        return Err(NameError::DotName { kind });
    }
    if let Some(found) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(NameError::InvalidCharacter { kind, found });
    }
    Ok(())
}

/// A Kafka topic name: 1–249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TopicName(String);

impl TopicName {
    /// Kafka's own limit (`Topic.MAX_NAME_LENGTH`).
    pub const MAX_LEN: usize = 249;

    /// Parses a topic name, refusing what the broker would refuse.
    pub fn parse(value: impl Into<String>) -> Result<Self, NameError> {
        let value = value.into();
        check_legal("topic name", &value, Self::MAX_LEN)?;
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A SCRAM user name on the broker. Tributary only creates names in the topic-name alphabet, so
/// they need no SASL escaping and read the same in ACLs, logs and client configs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KafkaUsername(String);

impl KafkaUsername {
    pub const MAX_LEN: usize = 128;

    pub fn parse(value: impl Into<String>) -> Result<Self, NameError> {
        let value = value.into();
        check_legal("Kafka user name", &value, Self::MAX_LEN)?;
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ACL principal of this user (`User:<name>`).
    pub fn principal(&self) -> Principal {
        Principal(format!("User:{}", self.0))
    }
}

/// A Kafka ACL principal, always of the `User:` type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Principal(String);

impl Principal {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.0
            }
        }
    )*};
}
string_newtype_impls!(TopicName, KafkaUsername, Principal);

impl TryFrom<String> for TopicName {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for KafkaUsername {
    type Error = NameError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(TopicName::parse("orders.v1_eu-west").is_ok());
        assert_eq!(
            TopicName::parse(""),
            Err(NameError::Empty { kind: "topic name" })
        );
        assert_eq!(
            TopicName::parse(".."),
            Err(NameError::DotName { kind: "topic name" })
        );
        assert_eq!(
            TopicName::parse("a b"),
            Err(NameError::InvalidCharacter {
                kind: "topic name",
                found: ' '
            })
        );
        let long = "a".repeat(250);
        assert_eq!(
            TopicName::parse(long),
            Err(NameError::TooLong {
                kind: "topic name",
                max: 249,
                len: 250
            })
        );
        assert!(TopicName::parse("a".repeat(249)).is_ok());
    }

    #[test]
    fn usernames_map_to_user_principals() {
        let user = KafkaUsername::parse("sub-42").expect("valid");
        assert_eq!(user.principal().as_str(), "User:sub-42");
        assert!(KafkaUsername::parse("bad=name").is_err());
        assert!(KafkaUsername::parse("ünicode").is_err());
    }

    #[test]
    fn serde_refuses_invalid_names() {
        let parsed: Result<TopicName, _> = serde_json::from_str("\"no spaces\"");
        assert!(parsed.is_err());
    }
}
