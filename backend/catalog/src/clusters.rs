//! Kafka clusters registered by the operator. SASL passwords are sealed with the configured
//! encryption keys (the row id is authenticated with them) and never leave this module in clear,
//! except inside the client configuration handed to librdkafka.

use std::time::Instant;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;
use tributary_db::{
    audit::{self, AuditEntry},
    outbox,
};
use tributary_identity::Actor;
use tributary_provisioning::{KafkaAdmin, KafkaConfig, SecurityProtocol};
use tributary_registry::RemoteRegistry;
use uuid::Uuid;

use crate::{Catalog, CatalogError};

/// The latest health check of a cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterHealth {
    /// `unknown`, `healthy` or `unhealthy`.
    pub status: String,
    pub message: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<i32>,
    pub broker_count: Option<i32>,
}

/// A registered cluster, without its secret.
#[derive(Debug, Clone, Serialize)]
pub struct Cluster {
    pub id: Uuid,
    pub name: String,
    pub region: String,
    pub bootstrap_servers: String,
    pub security_protocol: String,
    pub sasl_username: String,
    pub has_ca_bundle: bool,
    /// `None`: the embedded registry at `/registry`.
    pub schema_registry_url: Option<String>,
    /// The user (or API key) the external registry is called with; its secret is never shown.
    pub schema_registry_username: Option<String>,
    pub health: ClusterHealth,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A cluster as anyone choosing one sees it (e.g. a provider creating a stream): what it is
/// called, where it runs and whether it is up. Its addresses, users, registry and the details of
/// its health checks are the operator's.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterSummary {
    pub id: Uuid,
    pub name: String,
    pub region: String,
    /// The latest health check succeeded (a cluster never checked yet is not up).
    pub up: bool,
}

impl From<&ClusterRow> for ClusterSummary {
    fn from(r: &ClusterRow) -> Self {
        Self {
            id: r.id,
            name: r.name.clone(),
            region: r.region.clone(),
            up: r.health_status == "healthy",
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClusterRow {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    region: String,
    bootstrap_servers: String,
    security_protocol: String,
    sasl_username: String,
    sasl_password_encrypted: String,
    ca_pem: Option<String>,
    schema_registry_url: Option<String>,
    schema_registry_username: Option<String>,
    schema_registry_password_encrypted: Option<String>,
    health_status: String,
    health_message: String,
    health_checked_at: Option<DateTime<Utc>>,
    health_latency_ms: Option<i32>,
    broker_count: Option<i32>,
    created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

pub(crate) const CLUSTER_COLUMNS: &str = "id, name, region, bootstrap_servers, security_protocol, sasl_username, sasl_password_encrypted, ca_pem, schema_registry_url, schema_registry_username, schema_registry_password_encrypted, health_status, health_message, health_checked_at, health_latency_ms, broker_count, created_at, updated_at";

impl From<&ClusterRow> for Cluster {
    fn from(r: &ClusterRow) -> Self {
        Self {
            id: r.id,
            name: r.name.clone(),
            region: r.region.clone(),
            bootstrap_servers: r.bootstrap_servers.clone(),
            security_protocol: r.security_protocol.clone(),
            sasl_username: r.sasl_username.clone(),
            has_ca_bundle: r.ca_pem.is_some(),
            schema_registry_url: r.schema_registry_url.clone(),
            schema_registry_username: r.schema_registry_username.clone(),
            health: ClusterHealth {
                status: r.health_status.clone(),
                message: r.health_message.clone(),
                checked_at: r.health_checked_at,
                latency_ms: r.health_latency_ms,
                broker_count: r.broker_count,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// What the operator gives to register or change a cluster.
#[derive(Debug, Clone, Default)]
pub struct ClusterInput {
    pub name: String,
    pub region: String,
    pub bootstrap_servers: String,
    pub security_protocol: String,
    pub sasl_username: String,
    /// Required when registering; `None` keeps the stored one on update.
    pub sasl_password: Option<String>,
    pub ca_pem: Option<String>,
    pub schema_registry_url: Option<String>,
    /// Basic credentials of the external registry; an empty user means none.
    pub schema_registry_username: Option<String>,
    /// `None` keeps the stored secret on update (if the user stays set).
    pub schema_registry_password: Option<String>,
}

struct ValidCluster {
    name: String,
    region: String,
    bootstrap_servers: String,
    protocol: SecurityProtocol,
    sasl_username: String,
    ca_pem: Option<String>,
    schema_registry_url: Option<String>,
    schema_registry_username: Option<String>,
}

/// A trimmed optional text; blank counts as absent.
fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn validate(input: &ClusterInput) -> Result<ValidCluster, CatalogError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(CatalogError::validation(
            "name",
            "must be 1 to 100 characters",
        ));
    }
    let region = input.region.trim();
    if region.chars().count() > 60 {
        return Err(CatalogError::validation(
            "region",
            "must be at most 60 characters",
        ));
    }
    let servers: Vec<&str> = input
        .bootstrap_servers
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if servers.is_empty() || servers.len() > 20 {
        return Err(CatalogError::validation(
            "bootstrapServers",
            "must list 1 to 20 `host:port` addresses, separated by commas",
        ));
    }
    for server in &servers {
        let valid = server.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !valid {
            return Err(CatalogError::validation(
                "bootstrapServers",
                format!("`{server}` is not a `host:port` address"),
            ));
        }
    }
    let protocol = SecurityProtocol::parse(input.security_protocol.trim()).ok_or_else(|| {
        CatalogError::validation("securityProtocol", "must be SASL_SSL or SASL_PLAINTEXT")
    })?;
    let sasl_username = input.sasl_username.trim();
    if sasl_username.is_empty() || sasl_username.len() > 256 {
        return Err(CatalogError::validation(
            "saslUsername",
            "must be 1 to 256 characters",
        ));
    }
    let ca_pem = non_empty(&input.ca_pem);
    if let Some(pem) = &ca_pem {
        if protocol != SecurityProtocol::SaslSsl {
            return Err(CatalogError::validation(
                "caPem",
                "a CA bundle only applies to SASL_SSL clusters",
            ));
        }
        if !pem.contains("-----BEGIN CERTIFICATE-----") || pem.len() > 256 * 1024 {
            return Err(CatalogError::validation(
                "caPem",
                "must be PEM certificates (-----BEGIN CERTIFICATE-----), at most 256 KiB",
            ));
        }
    }
    let schema_registry_url =
        non_empty(&input.schema_registry_url).map(|u| u.trim_end_matches('/').to_owned());
    if let Some(url) = &schema_registry_url {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) || url.len() > 2048
        {
            return Err(CatalogError::validation(
                "schemaRegistryUrl",
                "must be an http(s) URL of a Confluent-compatible registry, or empty for the embedded one",
            ));
        }
    }
    let schema_registry_username = non_empty(&input.schema_registry_username);
    if let Some(user) = &schema_registry_username {
        if schema_registry_url.is_none() {
            return Err(CatalogError::validation(
                "schemaRegistryUsername",
                "credentials only apply to an external registry; give its URL too",
            ));
        }
        if user.len() > 256 || user.contains(':') {
            return Err(CatalogError::validation(
                "schemaRegistryUsername",
                "must be at most 256 characters, without `:`",
            ));
        }
    }
    if let Some(password) = &input.schema_registry_password
        && (password.len() > 1024 || (schema_registry_username.is_some() && password.is_empty()))
    {
        return Err(CatalogError::validation(
            "schemaRegistryPassword",
            "must be 1 to 1024 characters",
        ));
    }
    Ok(ValidCluster {
        name: name.to_owned(),
        region: region.to_owned(),
        bootstrap_servers: servers.join(","),
        protocol,
        sasl_username: sasl_username.to_owned(),
        ca_pem,
        schema_registry_url,
        schema_registry_username,
    })
}

fn registry_password_context(id: Uuid) -> String {
    format!("cluster:{id}:schema_registry_password")
}

fn password_context(id: Uuid) -> String {
    format!("cluster:{id}:sasl_password")
}

fn check_password(password: &str) -> Result<(), CatalogError> {
    if password.is_empty() || password.len() > 1024 {
        return Err(CatalogError::validation(
            "saslPassword",
            "must be 1 to 1024 characters",
        ));
    }
    Ok(())
}

impl Catalog {
    async fn require_operator(&self, actor: &Actor) -> Result<(), CatalogError> {
        if self.identity.is_operator(actor).await? {
            Ok(())
        } else {
            Err(CatalogError::Forbidden)
        }
    }

    pub(crate) async fn cluster_row(
        &self,
        conn: &mut PgConnection,
        id: Uuid,
    ) -> Result<ClusterRow, CatalogError> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CLUSTER_COLUMNS} from clusters where id = $1"
        )))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(CatalogError::NotFound)
    }

    async fn cluster_rows(&self) -> Result<Vec<ClusterRow>, CatalogError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CLUSTER_COLUMNS} from clusters order by name"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every cluster as anyone signed in may see it, to choose where a stream lives.
    pub async fn cluster_summaries(&self) -> Result<Vec<ClusterSummary>, CatalogError> {
        Ok(self
            .cluster_rows()
            .await?
            .iter()
            .map(ClusterSummary::from)
            .collect())
    }

    /// Every cluster with its addresses, users, registry and latest health check (operator
    /// only; secrets are never returned).
    pub async fn clusters(&self, actor: &Actor) -> Result<Vec<Cluster>, CatalogError> {
        self.require_operator(actor).await?;
        Ok(self
            .cluster_rows()
            .await?
            .iter()
            .map(Cluster::from)
            .collect())
    }

    /// The cluster a stream lives on, for the stream's provider members and the operator.
    pub async fn stream_cluster(
        &self,
        actor: &Actor,
        stream: &crate::Stream,
    ) -> Result<ClusterSummary, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let (orgs, operator) = self.viewer_orgs(&mut conn, Some(actor)).await?;
        if !operator && !orgs.contains(&stream.provider_org_id) {
            return Err(CatalogError::Forbidden);
        }
        Ok(ClusterSummary::from(
            &self.cluster_row(&mut conn, stream.cluster_id).await?,
        ))
    }

    /// Registers a cluster (operator only). The connection is not required to work yet: the
    /// health check says whether it does.
    pub async fn register_cluster(
        &self,
        actor: &Actor,
        input: ClusterInput,
    ) -> Result<Cluster, CatalogError> {
        self.require_operator(actor).await?;
        let mut tx = self.pool.begin().await?;
        let cluster = self.insert_cluster(&mut tx, &input).await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: None,
                action: "cluster.registered",
                target_type: "cluster",
                target_id: cluster.id.to_string(),
                before: None,
                after: Some(serde_json::to_value(&cluster).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(cluster)
    }

    /// The sealed registry secret to store: none without a user, the new one if given, else the
    /// one kept from before.
    fn seal_registry_secret(
        &self,
        id: Uuid,
        valid: &ValidCluster,
        input: &ClusterInput,
        kept: Option<&String>,
    ) -> Result<Option<String>, CatalogError> {
        match (
            &valid.schema_registry_username,
            &input.schema_registry_password,
            kept,
        ) {
            (None, _, _) => Ok(None),
            (Some(_), Some(secret), _) => Ok(Some(
                self.secrets.seal(secret, &registry_password_context(id))?,
            )),
            (Some(_), None, Some(kept)) => Ok(Some(kept.clone())),
            (Some(_), None, None) => Err(CatalogError::validation(
                "schemaRegistryPassword",
                "is required with a registry user",
            )),
        }
    }

    async fn insert_cluster(
        &self,
        conn: &mut PgConnection,
        input: &ClusterInput,
    ) -> Result<Cluster, CatalogError> {
        let valid = validate(input)?;
        let password = input
            .sasl_password
            .as_deref()
            .ok_or_else(|| CatalogError::validation("saslPassword", "is required"))?;
        check_password(password)?;
        let id = Uuid::new_v4();
        let sealed = self.secrets.seal(password, &password_context(id))?;
        let registry_sealed = self.seal_registry_secret(id, &valid, input, None)?;
        let row: ClusterRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "insert into clusters (id, name, region, bootstrap_servers, security_protocol, sasl_username, sasl_password_encrypted, ca_pem, schema_registry_url,
                                   schema_registry_username, schema_registry_password_encrypted)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             returning {CLUSTER_COLUMNS}"
        )))
        .bind(id)
        .bind(&valid.name)
        .bind(&valid.region)
        .bind(&valid.bootstrap_servers)
        .bind(valid.protocol.as_str())
        .bind(&valid.sasl_username)
        .bind(sealed)
        .bind(&valid.ca_pem)
        .bind(&valid.schema_registry_url)
        .bind(&valid.schema_registry_username)
        .bind(registry_sealed)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| unique_name(e, &valid.name))?;
        let cluster = Cluster::from(&row);
        outbox::enqueue(
            conn,
            "cluster",
            &id.to_string(),
            "cluster.registered",
            json!({ "clusterId": id, "name": cluster.name, "region": cluster.region }),
        )
        .await?;
        Ok(cluster)
    }

    /// The demo data's cluster: registers it unless a cluster of that name exists.
    pub async fn ensure_cluster_system(
        &self,
        input: ClusterInput,
    ) -> Result<Cluster, CatalogError> {
        let existing: Option<Uuid> = sqlx::query_scalar("select id from clusters where name = $1")
            .bind(input.name.trim())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(id) = existing {
            // A cluster registered before credentials were stored has none: give it these.
            let sealed: String =
                sqlx::query_scalar("select sasl_password_encrypted from clusters where id = $1")
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
            if sealed.is_empty()
                && let Some(password) = input.sasl_password.as_deref()
            {
                check_password(password)?;
                sqlx::query(
                    "update clusters set sasl_username = $2, sasl_password_encrypted = $3, updated_at = now() where id = $1",
                )
                .bind(id)
                .bind(input.sasl_username.trim())
                .bind(self.secrets.seal(password, &password_context(id))?)
                .execute(&self.pool)
                .await?;
                self.forget_admin(id);
            }
            let mut conn = self.pool.acquire().await?;
            return Ok(Cluster::from(&self.cluster_row(&mut conn, id).await?));
        }
        let mut tx = self.pool.begin().await?;
        let cluster = self.insert_cluster(&mut tx, &input).await?;
        tx.commit().await?;
        Ok(cluster)
    }

    /// Changes a cluster; a `None` password, registry secret or CA bundle keeps the stored one
    /// (operator only); an empty CA bundle removes it.
    pub async fn update_cluster(
        &self,
        actor: &Actor,
        id: Uuid,
        input: ClusterInput,
    ) -> Result<Cluster, CatalogError> {
        self.require_operator(actor).await?;
        let valid = validate(&input)?;
        let mut tx = self.pool.begin().await?;
        let before = self.cluster_row(&mut tx, id).await?;
        let sealed = match input.sasl_password.as_deref() {
            Some(password) => {
                check_password(password)?;
                self.secrets.seal(password, &password_context(id))?
            }
            None => before.sasl_password_encrypted.clone(),
        };
        let registry_sealed = self.seal_registry_secret(
            id,
            &valid,
            &input,
            before.schema_registry_password_encrypted.as_ref(),
        )?;
        // Omitted: the stored bundle stays (it cannot be read back to be sent again); empty:
        // removed. A bundle only applies to SASL_SSL.
        let ca_pem = match &input.ca_pem {
            None if valid.protocol == SecurityProtocol::SaslSsl => before.ca_pem.clone(),
            _ => valid.ca_pem.clone(),
        };
        let row: ClusterRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update clusters set name = $2, region = $3, bootstrap_servers = $4, security_protocol = $5,
                    sasl_username = $6, sasl_password_encrypted = $7, ca_pem = $8, schema_registry_url = $9,
                    schema_registry_username = $10, schema_registry_password_encrypted = $11,
                    health_status = 'unknown', health_message = 'settings changed; not checked yet',
                    updated_at = now()
              where id = $1
              returning {CLUSTER_COLUMNS}"
        )))
        .bind(id)
        .bind(&valid.name)
        .bind(&valid.region)
        .bind(&valid.bootstrap_servers)
        .bind(valid.protocol.as_str())
        .bind(&valid.sasl_username)
        .bind(sealed)
        .bind(&ca_pem)
        .bind(&valid.schema_registry_url)
        .bind(&valid.schema_registry_username)
        .bind(registry_sealed)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| unique_name(e, &valid.name))?;
        let cluster = Cluster::from(&row);
        let mut after = serde_json::to_value(&cluster).unwrap_or_default();
        if input.sasl_password.is_some() {
            after["saslPasswordRotated"] = json!(true);
        }
        if input.schema_registry_password.is_some() && valid.schema_registry_username.is_some() {
            after["schemaRegistryPasswordRotated"] = json!(true);
        }
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: None,
                action: "cluster.updated",
                target_type: "cluster",
                target_id: id.to_string(),
                before: Some(serde_json::to_value(Cluster::from(&before)).unwrap_or_default()),
                after: Some(after),
            },
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            "cluster",
            &id.to_string(),
            "cluster.updated",
            json!({ "clusterId": id }),
        )
        .await?;
        tx.commit().await?;
        self.forget_admin(id);
        Ok(cluster)
    }

    /// Removes a cluster that no stream uses (operator only).
    pub async fn delete_cluster(&self, actor: &Actor, id: Uuid) -> Result<(), CatalogError> {
        self.require_operator(actor).await?;
        let mut tx = self.pool.begin().await?;
        let before = self.cluster_row(&mut tx, id).await?;
        let streams: i64 = sqlx::query_scalar("select count(*) from streams where cluster_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if streams > 0 {
            return Err(CatalogError::Conflict(format!(
                "{streams} stream(s) live on this cluster; retire and remove them first"
            )));
        }
        sqlx::query("delete from clusters where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: None,
                action: "cluster.deleted",
                target_type: "cluster",
                target_id: id.to_string(),
                before: Some(serde_json::to_value(Cluster::from(&before)).unwrap_or_default()),
                after: None,
            },
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            "cluster",
            &id.to_string(),
            "cluster.deleted",
            json!({ "clusterId": id }),
        )
        .await?;
        tx.commit().await?;
        self.forget_admin(id);
        Ok(())
    }

    /// Entitles an organization to adopt existing topics starting with `prefix` (operator only).
    pub async fn grant_topic_prefix(
        &self,
        actor: &Actor,
        cluster_id: Uuid,
        org_id: Uuid,
        prefix: &str,
    ) -> Result<(), CatalogError> {
        self.require_operator(actor).await?;
        let prefix = prefix.trim();
        if prefix.is_empty()
            || prefix.len() > 200
            || !prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(CatalogError::validation(
                "prefix",
                "must be 1 to 200 characters of letters, digits, `.`, `_`, `-`",
            ));
        }
        let mut tx = self.pool.begin().await?;
        self.cluster_row(&mut tx, cluster_id).await?;
        let org_exists: bool =
            sqlx::query_scalar("select exists(select 1 from organizations where id = $1)")
                .bind(org_id)
                .fetch_one(&mut *tx)
                .await?;
        if !org_exists {
            return Err(CatalogError::NotFound);
        }
        sqlx::query(
            "insert into cluster_topic_grants (cluster_id, org_id, prefix) values ($1, $2, $3) on conflict do nothing",
        )
        .bind(cluster_id)
        .bind(org_id)
        .bind(prefix)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: Some(org_id),
                action: "cluster.topic_prefix_granted",
                target_type: "cluster",
                target_id: cluster_id.to_string(),
                before: None,
                after: Some(json!({ "orgId": org_id, "prefix": prefix })),
            },
        )
        .await?;
        outbox::enqueue(
            &mut tx,
            "cluster",
            &cluster_id.to_string(),
            "cluster.topic_prefix_granted",
            json!({ "clusterId": cluster_id, "orgId": org_id, "prefix": prefix }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The topic prefixes an organization may adopt on a cluster.
    pub async fn topic_grants(
        &self,
        conn: &mut PgConnection,
        cluster_id: Uuid,
        org_id: Uuid,
    ) -> Result<Vec<String>, CatalogError> {
        Ok(sqlx::query_scalar(
            "select prefix from cluster_topic_grants where cluster_id = $1 and org_id = $2 order by prefix",
        )
        .bind(cluster_id)
        .bind(org_id)
        .fetch_all(conn)
        .await?)
    }

    /// The admin client of a cluster, logged in with its registered (decrypted) credentials.
    pub async fn admin(&self, cluster_id: Uuid) -> Result<KafkaAdmin, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let row = self.cluster_row(&mut conn, cluster_id).await?;
        drop(conn);
        self.admin_for(&row)
    }

    pub(crate) fn kafka_config(&self, row: &ClusterRow) -> Result<KafkaConfig, CatalogError> {
        let password = self
            .secrets
            .open(&row.sasl_password_encrypted, &password_context(row.id))?;
        Ok(KafkaConfig {
            bootstrap_servers: row.bootstrap_servers.clone(),
            security_protocol: SecurityProtocol::parse(&row.security_protocol)
                .unwrap_or(SecurityProtocol::SaslSsl),
            username: row.sasl_username.clone(),
            password: SecretString::from(password),
            ca_location: None,
            ca_pem: row.ca_pem.clone(),
        })
    }

    pub(crate) fn admin_for(&self, row: &ClusterRow) -> Result<KafkaAdmin, CatalogError> {
        let mut cache = self
            .admins
            .lock()
            .map_err(|_| CatalogError::Internal("admin cache poisoned".into()))?;
        if let Some((version, admin)) = cache.get(&row.id)
            && *version == row.updated_at
        {
            return Ok(admin.clone());
        }
        let admin = KafkaAdmin::new(&self.kafka_config(row)?, self.kafka_timeout)
            .map_err(|e| CatalogError::Unavailable(format!("cannot create a Kafka client: {e}")))?;
        cache.insert(row.id, (row.updated_at, admin.clone()));
        Ok(admin)
    }

    /// The external registry of a cluster, or `None` for the embedded one.
    pub(crate) fn registry_for(
        &self,
        row: &ClusterRow,
    ) -> Result<Option<RemoteRegistry>, CatalogError> {
        let Some(url) = &row.schema_registry_url else {
            return Ok(None);
        };
        let mut cache = self
            .registries
            .lock()
            .map_err(|_| CatalogError::Internal("registry cache poisoned".into()))?;
        if let Some((version, registry)) = cache.get(&row.id)
            && *version == row.updated_at
        {
            return Ok(Some(registry.clone()));
        }
        let credentials = match (
            &row.schema_registry_username,
            &row.schema_registry_password_encrypted,
        ) {
            (Some(user), Some(sealed)) => Some((
                user.clone(),
                SecretString::from(
                    self.secrets
                        .open(sealed, &registry_password_context(row.id))?,
                ),
            )),
            _ => None,
        };
        let http = tributary_registry::http_client(row.ca_pem.as_deref())
            .map_err(|e| CatalogError::Unavailable(e.to_string()))?;
        let registry = RemoteRegistry::new(url, http, credentials);
        cache.insert(row.id, (row.updated_at, registry.clone()));
        Ok(Some(registry))
    }

    fn forget_admin(&self, id: Uuid) {
        if let Ok(mut cache) = self.admins.lock() {
            cache.remove(&id);
        }
    }

    /// Connects to the cluster with its credentials, fetches metadata and records the outcome.
    pub async fn check_cluster_health(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<Cluster, CatalogError> {
        self.require_operator(actor).await?;
        self.check_health(id).await
    }

    /// The health check itself (also run periodically by the server for every cluster).
    pub async fn check_health(&self, id: Uuid) -> Result<Cluster, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let row = self.cluster_row(&mut conn, id).await?;
        drop(conn);
        let started = Instant::now();
        let outcome = match self.admin_for(&row) {
            Ok(admin) => admin
                .cluster_info()
                .await
                .map_err(|e| format!("cannot reach or log in: {e}")),
            Err(e) => Err(e.to_string()),
        };
        // An external schema registry is part of the cluster's health: streams cannot take
        // schema changes, nor samples be decoded, without it.
        let registry = match (&outcome, self.registry_for(&row)) {
            (Ok(_), Ok(Some(registry))) => registry.ping().await.err().map(|e| e.to_string()),
            (Ok(_), Err(e)) => Some(e.to_string()),
            _ => None,
        };
        let latency = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let (status, message, brokers) = match (&outcome, registry) {
            (Ok(info), None) => (
                "healthy",
                format!("{} broker(s) answered", info.broker_count),
                i32::try_from(info.broker_count).ok(),
            ),
            (Ok(info), Some(problem)) => (
                "unhealthy",
                format!(
                    "{} broker(s) answered, but the schema registry failed: {problem}",
                    info.broker_count
                ),
                i32::try_from(info.broker_count).ok(),
            ),
            (Err(reason), _) => ("unhealthy", reason.clone(), None),
        };
        let mut tx = self.pool.begin().await?;
        let previous: String =
            sqlx::query_scalar("select health_status from clusters where id = $1 for update")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let row: ClusterRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update clusters set health_status = $2, health_message = $3, health_checked_at = now(),
                    health_latency_ms = $4, broker_count = $5
              where id = $1 returning {CLUSTER_COLUMNS}"
        )))
        .bind(id)
        .bind(status)
        .bind(&message)
        .bind(latency)
        .bind(brokers)
        .fetch_one(&mut *tx)
        .await?;
        if previous != status {
            outbox::enqueue(
                &mut tx,
                "cluster",
                &id.to_string(),
                "cluster.health_changed",
                json!({ "clusterId": id, "from": previous, "to": status, "message": message }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Cluster::from(&row))
    }

    /// Checks every cluster; used by the server's periodic task.
    pub async fn check_all_clusters(&self) -> Result<Vec<Cluster>, CatalogError> {
        let ids: Vec<Uuid> = sqlx::query_scalar("select id from clusters order by name")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.check_health(id).await?);
        }
        Ok(out)
    }
}

fn unique_name(error: sqlx::Error, name: &str) -> CatalogError {
    match &error {
        sqlx::Error::Database(db) if db.constraint() == Some("clusters_name_key") => {
            CatalogError::Conflict(format!("a cluster named `{name}` exists already"))
        }
        _ => CatalogError::Database(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ClusterInput {
        ClusterInput {
            name: "eu-1".into(),
            region: "eu-west".into(),
            bootstrap_servers: "b1.example:9093, b2.example:9093".into(),
            security_protocol: "SASL_SSL".into(),
            sasl_username: "tributary".into(),
            sasl_password: Some("pw".into()),
            ca_pem: None,
            schema_registry_url: None,
            schema_registry_username: None,
            schema_registry_password: None,
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let v = validate(&input()).expect("valid");
        assert_eq!(v.bootstrap_servers, "b1.example:9093,b2.example:9093");
        assert_eq!(v.protocol, SecurityProtocol::SaslSsl);
    }

    #[test]
    fn bad_input_names_its_field() {
        let cases: Vec<(ClusterInput, &str)> = vec![
            (
                ClusterInput {
                    name: " ".into(),
                    ..input()
                },
                "name",
            ),
            (
                ClusterInput {
                    bootstrap_servers: "".into(),
                    ..input()
                },
                "bootstrapServers",
            ),
            (
                ClusterInput {
                    bootstrap_servers: "host-without-port".into(),
                    ..input()
                },
                "bootstrapServers",
            ),
            (
                ClusterInput {
                    bootstrap_servers: "h:99999".into(),
                    ..input()
                },
                "bootstrapServers",
            ),
            (
                ClusterInput {
                    security_protocol: "PLAINTEXT".into(),
                    ..input()
                },
                "securityProtocol",
            ),
            (
                ClusterInput {
                    sasl_username: "".into(),
                    ..input()
                },
                "saslUsername",
            ),
            (
                ClusterInput {
                    ca_pem: Some("not a pem".into()),
                    ..input()
                },
                "caPem",
            ),
            (
                ClusterInput {
                    security_protocol: "SASL_PLAINTEXT".into(),
                    ca_pem: Some("-----BEGIN CERTIFICATE-----".into()),
                    ..input()
                },
                "caPem",
            ),
            (
                ClusterInput {
                    schema_registry_url: Some("ftp://x".into()),
                    ..input()
                },
                "schemaRegistryUrl",
            ),
        ];
        for (case, field) in cases {
            match validate(&case) {
                Err(CatalogError::Validation { field: f, .. }) => assert_eq!(f, field),
                other => panic!(
                    "{field}: expected a validation error, got {:?}",
                    other.map(|_| ())
                ),
            }
        }
    }
}
