//! Kafka administration for Tributary: topics, SCRAM-SHA-512 users and ACLs.
//!
//! rust-rdkafka's `AdminClient` covers topics but not ACLs or SCRAM credentials; librdkafka has
//! both, so [`ffi`] wraps those few C calls (the crate's only `unsafe`). We chose the FFI over
//! speaking the Kafka protocol ourselves because librdkafka already handles broker discovery,
//! SASL/TLS, controller routing and retries for these requests, and it is the client we ship for
//! producing and consuming anyway. Every operation here is idempotent from the caller's view, so
//! a reconciler can repeat it after a crash.

mod acl;
mod error;
#[allow(unsafe_code)]
mod ffi;
mod scram;

use std::{path::PathBuf, sync::Arc, time::Duration};

use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication},
    client::DefaultClientContext,
    types::RDKafkaErrorCode,
};
use secrecy::{ExposeSecret, SecretString};
use tributary_core::{KafkaUsername, TopicName};

pub use acl::{
    AclBinding, AclBindingFilter, AclOperation, AclPermission, PatternType, ResourceType,
};
pub use error::KafkaAdminError;
pub use scram::{ScramCredentialInfo, ScramUserDescription};

/// How clients reach a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityProtocol {
    /// SASL over plain TCP: only for loopback development stacks.
    SaslPlaintext,
    /// SASL over TLS, optionally with a private CA bundle.
    SaslSsl,
}

impl SecurityProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_uppercase().as_str() {
            "SASL_PLAINTEXT" => Some(Self::SaslPlaintext),
            "SASL_SSL" => Some(Self::SaslSsl),
            _ => None,
        }
    }
}

/// Connection settings of one cluster, with the platform's own (super user) SCRAM login.
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    pub security_protocol: SecurityProtocol,
    pub username: String,
    pub password: SecretString,
    /// PEM CA bundle for `SASL_SSL` clusters with a private CA.
    pub ca_location: Option<PathBuf>,
    /// The same as PEM text (clusters registered through the API keep their bundle in the database).
    pub ca_pem: Option<String>,
}

/// The SASL mechanism Tributary uses everywhere.
pub const SASL_MECHANISM: &str = "SCRAM-SHA-512";

/// SCRAM iteration count for credentials Tributary creates (Kafka's minimum for SHA-512 is 4096).
pub const SCRAM_ITERATIONS: i32 = 8192;

impl KafkaConfig {
    /// Client settings logged in as the platform principal.
    pub fn client_config(&self) -> ClientConfig {
        self.client_config_as(&self.username, self.password.expose_secret())
    }

    /// Client settings for the same cluster, logged in as another SCRAM user.
    pub fn client_config_as(&self, username: &str, password: &str) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap_servers)
            .set("security.protocol", self.security_protocol.as_str())
            .set("sasl.mechanism", SASL_MECHANISM)
            .set("sasl.username", username)
            .set("sasl.password", password)
            .set("log_level", "4");
        if let Some(ca) = &self.ca_location {
            config.set("ssl.ca.location", ca.to_string_lossy());
        }
        if let Some(pem) = &self.ca_pem {
            config.set("ssl.ca.pem", pem);
        }
        config
    }
}

/// A topic to create.
#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub name: TopicName,
    pub partitions: i32,
    pub replication_factor: i32,
    /// Topic-level configs such as `retention.ms` or `cleanup.policy`.
    pub configs: Vec<(String, String)>,
}

/// A topic as the broker describes it.
#[derive(Debug, Clone)]
pub struct TopicDescription {
    pub partitions: i32,
    /// Effective topic configs (`retention.ms`, `cleanup.policy`, ...).
    pub configs: std::collections::BTreeMap<String, String>,
}

/// What the broker said about itself when asked for metadata.
#[derive(Debug, Clone)]
pub struct ClusterInfo {
    pub broker_count: usize,
    pub topic_count: usize,
}

/// The admin client of one cluster. Cheap to clone.
#[derive(Clone)]
pub struct KafkaAdmin {
    admin: Arc<AdminClient<DefaultClientContext>>,
    timeout: Duration,
}

impl std::fmt::Debug for KafkaAdmin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaAdmin")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl KafkaAdmin {
    /// Creates the client; it connects lazily, so use [`KafkaAdmin::cluster_info`] to check reachability.
    pub fn new(config: &KafkaConfig, timeout: Duration) -> Result<Self, KafkaAdminError> {
        let admin: AdminClient<DefaultClientContext> = config.client_config().create()?;
        Ok(Self {
            admin: Arc::new(admin),
            timeout,
        })
    }

    /// Runs a blocking librdkafka call off the async runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&AdminClient<DefaultClientContext>, Duration) -> Result<T, KafkaAdminError>
        + Send
        + 'static,
    ) -> Result<T, KafkaAdminError> {
        let admin = Arc::clone(&self.admin);
        let timeout = self.timeout;
        tokio::task::spawn_blocking(move || f(&admin, timeout)).await?
    }

    /// Fetches cluster metadata: proves the broker answers and our login works.
    pub async fn cluster_info(&self) -> Result<ClusterInfo, KafkaAdminError> {
        self.blocking(|admin, timeout| {
            let metadata = admin.inner().fetch_metadata(None, timeout)?;
            Ok(ClusterInfo {
                broker_count: metadata.brokers().len(),
                topic_count: metadata.topics().len(),
            })
        })
        .await
    }

    /// Whether a topic exists (and the platform may describe it).
    pub async fn topic_exists(&self, topic: &TopicName) -> Result<bool, KafkaAdminError> {
        let name = topic.as_str().to_owned();
        self.blocking(move |admin, timeout| {
            let metadata = admin.inner().fetch_metadata(Some(&name), timeout)?;
            Ok(metadata
                .topics()
                .iter()
                .any(|t| t.name() == name && t.error().is_none() && !t.partitions().is_empty()))
        })
        .await
    }

    fn admin_options(&self) -> AdminOptions {
        AdminOptions::new()
            .request_timeout(Some(self.timeout))
            .operation_timeout(Some(self.timeout))
    }

    /// Partition count and the non-default configs of a topic; `None` if it does not exist.
    pub async fn describe_topic(
        &self,
        topic: &TopicName,
    ) -> Result<Option<TopicDescription>, KafkaAdminError> {
        let name = topic.as_str().to_owned();
        let partitions = self
            .blocking({
                let name = name.clone();
                move |admin, timeout| {
                    let metadata = admin.inner().fetch_metadata(Some(&name), timeout)?;
                    Ok(metadata
                        .topics()
                        .iter()
                        .find(|t| {
                            t.name() == name && t.error().is_none() && !t.partitions().is_empty()
                        })
                        .map(|t| t.partitions().len()))
                }
            })
            .await?;
        let Some(partitions) = partitions else {
            return Ok(None);
        };
        let results = self
            .admin
            .describe_configs([&ResourceSpecifier::Topic(&name)], &self.admin_options())
            .await?;
        let mut configs = std::collections::BTreeMap::new();
        for result in results {
            let resource = result.map_err(|code| KafkaAdminError::from_code(code, name.clone()))?;
            for entry in resource.entries {
                if let Some(value) = entry.value {
                    configs.insert(entry.name, value);
                }
            }
        }
        Ok(Some(TopicDescription {
            partitions: i32::try_from(partitions).unwrap_or(i32::MAX),
            configs,
        }))
    }

    /// Creates a topic; an existing topic of that name is reported as [`KafkaAdminError::TopicExists`].
    pub async fn create_topic(&self, spec: &TopicSpec) -> Result<(), KafkaAdminError> {
        let mut topic = NewTopic::new(
            spec.name.as_str(),
            spec.partitions,
            TopicReplication::Fixed(spec.replication_factor),
        );
        for (key, value) in &spec.configs {
            topic = topic.set(key, value);
        }
        let results = self
            .admin
            .create_topics([&topic], &self.admin_options())
            .await?;
        for result in results {
            if let Err((name, code)) = result {
                return Err(KafkaAdminError::from_code(code, name));
            }
        }
        Ok(())
    }

    /// Creates the topic unless it exists already (idempotent).
    pub async fn ensure_topic(&self, spec: &TopicSpec) -> Result<(), KafkaAdminError> {
        match self.create_topic(spec).await {
            Ok(()) | Err(KafkaAdminError::TopicExists(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes a topic; a topic that does not exist is not an error (idempotent).
    pub async fn delete_topic(&self, topic: &TopicName) -> Result<(), KafkaAdminError> {
        let results = self
            .admin
            .delete_topics(&[topic.as_str()], &self.admin_options())
            .await?;
        for result in results {
            match result {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
                Err((name, code)) => return Err(KafkaAdminError::from_code(code, name)),
            }
        }
        Ok(())
    }

    /// Creates ACL entries; entries that exist already are left as they are (idempotent).
    pub async fn create_acls(&self, acls: Vec<AclBinding>) -> Result<(), KafkaAdminError> {
        self.blocking(move |admin, timeout| ffi::create_acls(admin, &acls, timeout))
            .await
    }

    /// Lists ACL entries matching a filter.
    pub async fn describe_acls(
        &self,
        filter: AclBindingFilter,
    ) -> Result<Vec<AclBinding>, KafkaAdminError> {
        self.blocking(move |admin, timeout| ffi::describe_acls(admin, &filter, timeout))
            .await
    }

    /// Deletes every entry matching any of the filters and returns what was deleted.
    pub async fn delete_acls(
        &self,
        filters: Vec<AclBindingFilter>,
    ) -> Result<Vec<AclBinding>, KafkaAdminError> {
        self.blocking(move |admin, timeout| ffi::delete_acls(admin, &filters, timeout))
            .await
    }

    /// Creates the user's SCRAM-SHA-512 credential or replaces its password (idempotent).
    pub async fn upsert_scram_user(
        &self,
        user: &KafkaUsername,
        password: &SecretString,
    ) -> Result<(), KafkaAdminError> {
        if password.expose_secret().is_empty() {
            return Err(KafkaAdminError::InvalidArgument {
                field: "password",
                reason: "must not be empty".into(),
            });
        }
        let user = user.as_str().to_owned();
        let password = password.clone();
        self.blocking(move |admin, timeout| {
            ffi::alter_scram(
                admin,
                &user,
                Some(password.expose_secret()),
                SCRAM_ITERATIONS,
                timeout,
            )
        })
        .await
    }

    /// Removes the user's SCRAM-SHA-512 credential; a user without one is not an error.
    pub async fn delete_scram_user(&self, user: &KafkaUsername) -> Result<(), KafkaAdminError> {
        let user = user.as_str().to_owned();
        let result = self
            .blocking(move |admin, timeout| {
                ffi::alter_scram(admin, &user, None, SCRAM_ITERATIONS, timeout)
            })
            .await;
        match result {
            Err(KafkaAdminError::Broker {
                code: RDKafkaErrorCode::ResourceNotFound,
                ..
            }) => Ok(()),
            other => other,
        }
    }

    /// Describes the SCRAM credentials of the given users (all users when empty).
    pub async fn describe_scram_users(
        &self,
        users: &[KafkaUsername],
    ) -> Result<Vec<ScramUserDescription>, KafkaAdminError> {
        let users: Vec<String> = users.iter().map(|u| u.as_str().to_owned()).collect();
        self.blocking(move |admin, timeout| {
            let refs: Vec<&str> = users.iter().map(String::as_str).collect();
            ffi::describe_scram(admin, &refs, timeout)
        })
        .await
    }
}
