//! Kafka ACL values and the bindings a subscription needs.

use serde::{Deserialize, Serialize};
use tributary_core::{Principal, TopicName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResourceType {
    Topic,
    Group,
    Cluster,
    TransactionalId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PatternType {
    Literal,
    Prefixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AclOperation {
    All,
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
    ClusterAction,
    DescribeConfigs,
    AlterConfigs,
    IdempotentWrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AclPermission {
    Allow,
    Deny,
}

/// One concrete ACL entry on the broker.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub pattern_type: PatternType,
    /// `User:<name>`.
    pub principal: String,
    /// `*` for any host.
    pub host: String,
    pub operation: AclOperation,
    pub permission: AclPermission,
}

impl AclBinding {
    /// An ALLOW entry from any host.
    pub fn allow(
        principal: &Principal,
        resource_type: ResourceType,
        resource_name: impl Into<String>,
        pattern_type: PatternType,
        operation: AclOperation,
    ) -> Self {
        Self {
            resource_type,
            resource_name: resource_name.into(),
            pattern_type,
            principal: principal.as_str().to_owned(),
            host: "*".to_owned(),
            operation,
            permission: AclPermission::Allow,
        }
    }

    /// The least-privilege read access of a subscription (PRODUCT.md §2 journey 3):
    /// `TOPIC:<topic> LITERAL READ` and `DESCRIBE`, `GROUP:<group_prefix> PREFIXED READ`.
    pub fn consumer_set(principal: &Principal, topic: &TopicName, group_prefix: &str) -> Vec<Self> {
        vec![
            Self::allow(
                principal,
                ResourceType::Topic,
                topic.as_str(),
                PatternType::Literal,
                AclOperation::Read,
            ),
            Self::allow(
                principal,
                ResourceType::Topic,
                topic.as_str(),
                PatternType::Literal,
                AclOperation::Describe,
            ),
            Self::allow(
                principal,
                ResourceType::Group,
                group_prefix,
                PatternType::Prefixed,
                AclOperation::Read,
            ),
        ]
    }

    /// A filter matching exactly this binding.
    pub fn as_filter(&self) -> AclBindingFilter {
        AclBindingFilter {
            resource_type: Some(self.resource_type),
            resource_name: Some(self.resource_name.clone()),
            pattern_type: Some(self.pattern_type),
            principal: Some(self.principal.clone()),
            host: Some(self.host.clone()),
            operation: Some(self.operation),
            permission: Some(self.permission),
        }
    }
}

/// A pattern over ACL entries; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclBindingFilter {
    pub resource_type: Option<ResourceType>,
    pub resource_name: Option<String>,
    pub pattern_type: Option<PatternType>,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: Option<AclOperation>,
    pub permission: Option<AclPermission>,
}

impl AclBindingFilter {
    /// Every entry of one principal, on any resource.
    pub fn for_principal(principal: &Principal) -> Self {
        Self {
            principal: Some(principal.as_str().to_owned()),
            ..Self::default()
        }
    }
}
