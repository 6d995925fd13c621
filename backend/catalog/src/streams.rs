//! Streams: a provider's listing of one topic, from draft to retired.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgConnection;
use tributary_core::TopicName;
use tributary_db::{
    audit::{self, AuditEntry},
    outbox,
};
use tributary_identity::{Actor, Principal, Role};
use tributary_provisioning::TopicSpec;
use uuid::Uuid;

use crate::{Catalog, CatalogError, error::kafka, markdown};

/// The categories a stream may be filed under (a fixed list keeps facets useful).
pub const CATEGORIES: &[&str] = &[
    "finance",
    "mobility",
    "iot",
    "retail",
    "weather",
    "energy",
    "healthcare",
    "logistics",
    "media",
    "security",
    "other",
];

/// Who can see a published stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Listed in the catalog for everyone.
    Public,
    /// Not listed; anyone with the link sees it.
    Unlisted,
    /// Only the provider and organizations it invited.
    Private,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "public" => Some(Self::Public),
            "unlisted" => Some(Self::Unlisted),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

/// A stream as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Stream {
    pub id: Uuid,
    pub provider_org_id: Uuid,
    pub provider_slug: String,
    pub provider_name: String,
    pub cluster_id: Uuid,
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub topic: String,
    pub status: String,
    pub visibility: String,
    pub description_md: String,
    pub description_html: String,
    pub category: String,
    pub tags: Vec<String>,
    pub topic_mode: Option<String>,
    pub topic_provisioned_at: Option<DateTime<Utc>>,
    pub partitions: Option<i32>,
    pub retention_ms: Option<i64>,
    pub cleanup_policy: Option<String>,
    pub compatibility: String,
    pub replay_window_hours: Option<i32>,
    pub freshness_slo_seconds: Option<i32>,
    pub throughput_slo_per_sec: Option<i32>,
    pub field_classifications: Value,
    pub terms: String,
    pub key_schema_type: Option<String>,
    pub value_schema_type: Option<String>,
    pub schema_fields: Vec<String>,
    pub pricing_models: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub deprecated_at: Option<DateTime<Utc>>,
    pub deprecation_message: String,
    pub sunset_at: Option<DateTime<Utc>>,
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Stream {
    /// The registry subject of the key (`KEY`) or value schema (TopicNameStrategy).
    pub fn subject(&self, key: bool) -> String {
        format!("{}-{}", self.topic, if key { "key" } else { "value" })
    }

    /// Paths classified as personal data (redacted from samples; see `redact` for the syntax).
    pub fn pii_fields(&self) -> Vec<String> {
        self.field_classifications
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| v.as_str() == Some("pii"))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub(crate) const STREAM_COLUMNS: &str = "s.id, s.provider_org_id, o.slug as provider_slug, o.name as provider_name, s.cluster_id, s.slug, s.name, s.summary, s.topic, s.status, s.visibility, s.description_md, s.description_html, s.category, s.tags, s.topic_mode, s.topic_provisioned_at, s.partitions, s.retention_ms, s.cleanup_policy, s.compatibility, s.replay_window_hours, s.freshness_slo_seconds, s.throughput_slo_per_sec, s.field_classifications, s.terms, s.key_schema_type, s.value_schema_type, s.schema_fields, s.pricing_models, s.published_at, s.deprecated_at, s.deprecation_message, s.sunset_at, s.retired_at, s.created_at, s.updated_at";

/// A new draft stream.
#[derive(Debug, Clone, Default)]
pub struct StreamInput {
    pub cluster_id: Uuid,
    pub name: String,
    /// Derived from the name when absent.
    pub slug: Option<String>,
    pub topic: String,
    pub details: StreamDetailsInput,
}

/// What a provider may change at any time before retirement.
#[derive(Debug, Clone, Default)]
pub struct StreamDetailsInput {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub description_md: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub visibility: Option<String>,
}

/// The data contract: every field is replaced as a whole.
#[derive(Debug, Clone, Default)]
pub struct ContractInput {
    pub compatibility: String,
    pub replay_window_hours: Option<i32>,
    pub freshness_slo_seconds: Option<i32>,
    pub throughput_slo_per_sec: Option<i32>,
    /// field path → `pii` | `sensitive` | `public`
    pub field_classifications: Vec<(String, String)>,
    pub terms: String,
}

/// How a stream gets its topic.
#[derive(Debug, Clone)]
pub enum TopicProvision {
    /// A new topic created by Tributary on the stream's cluster.
    Create {
        partitions: i32,
        /// `-1` keeps data forever.
        retention_ms: i64,
        cleanup_policy: String,
    },
    /// An existing topic under a prefix the operator granted to the provider's organization.
    Adopt,
}

pub(crate) fn can_edit(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin | Role::Developer)
}

pub(crate) fn can_manage(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

const COMPATIBILITY_LEVELS: &[&str] = &[
    "NONE",
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
];

fn clean_name(raw: &str) -> Result<String, CatalogError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CatalogError::validation(
            "name",
            "must be 1 to 200 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(CatalogError::validation(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

fn slugify(raw: &str) -> String {
    let mut slug = String::new();
    for c in raw.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(80).collect()
}

fn clean_slug(raw: &str) -> Result<String, CatalogError> {
    let slug = raw.trim();
    let valid = (1..=80).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if valid {
        Ok(slug.to_owned())
    } else {
        Err(CatalogError::validation(
            "slug",
            "must be 1 to 80 lowercase letters, digits and inner dashes",
        ))
    }
}

fn clean_topic(raw: &str) -> Result<TopicName, CatalogError> {
    let topic = TopicName::parse(raw.trim())
        .map_err(|e| CatalogError::validation("topic", e.to_string()))?;
    let name = topic.as_str();
    if name.starts_with("__") || name.starts_with("tributary.") || name.starts_with("_confluent") {
        return Err(CatalogError::validation(
            "topic",
            "names starting with `__`, `_confluent` or `tributary.` are reserved for the platform",
        ));
    }
    if name.contains('.') && name.contains('_') {
        // Kafka maps `.` and `_` to the same metric name; mixing them invites collisions.
        return Err(CatalogError::validation(
            "topic",
            "use either `.` or `_` in a topic name, not both",
        ));
    }
    Ok(topic)
}

fn clean_summary(raw: &str) -> Result<String, CatalogError> {
    let summary = raw.trim();
    if summary.chars().count() > 300 {
        return Err(CatalogError::validation(
            "summary",
            "must be at most 300 characters",
        ));
    }
    Ok(summary.to_owned())
}

fn clean_description(raw: &str) -> Result<String, CatalogError> {
    if raw.len() > markdown::MAX_DESCRIPTION_BYTES {
        return Err(CatalogError::validation(
            "descriptionMarkdown",
            format!("must be at most {} bytes", markdown::MAX_DESCRIPTION_BYTES),
        ));
    }
    Ok(raw.trim().to_owned())
}

fn clean_category(raw: &str) -> Result<String, CatalogError> {
    let category = raw.trim().to_lowercase();
    if category.is_empty() || CATEGORIES.contains(&category.as_str()) {
        Ok(category)
    } else {
        Err(CatalogError::validation(
            "category",
            format!("must be one of: {}", CATEGORIES.join(", ")),
        ))
    }
}

fn clean_tags(raw: &[String]) -> Result<Vec<String>, CatalogError> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() {
            continue;
        }
        let valid = tag.len() <= 32
            && tag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(CatalogError::validation(
                "tags",
                format!("`{tag}` is not a tag: use up to 32 lowercase letters, digits and dashes"),
            ));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > 20 {
        return Err(CatalogError::validation("tags", "at most 20 tags"));
    }
    Ok(tags)
}

fn clean_visibility(raw: &str) -> Result<Visibility, CatalogError> {
    Visibility::parse(raw.trim().to_lowercase().as_str()).ok_or_else(|| {
        CatalogError::validation("visibility", "must be public, unlisted or private")
    })
}

fn clean_contract(input: &ContractInput) -> Result<(String, Value, String), CatalogError> {
    let compatibility = input.compatibility.trim().to_uppercase();
    if !COMPATIBILITY_LEVELS.contains(&compatibility.as_str()) {
        return Err(CatalogError::validation(
            "compatibility",
            format!("must be one of: {}", COMPATIBILITY_LEVELS.join(", ")),
        ));
    }
    let ranges: [(&'static str, Option<i32>, i32); 3] = [
        (
            "replayWindowHours",
            input.replay_window_hours,
            24 * 365 * 10,
        ),
        ("freshnessSloSeconds", input.freshness_slo_seconds, 86_400),
        (
            "throughputSloPerSec",
            input.throughput_slo_per_sec,
            10_000_000,
        ),
    ];
    for (field, value, max) in ranges {
        if let Some(v) = value
            && !(1..=max).contains(&v)
        {
            return Err(CatalogError::validation(
                field,
                format!("must be between 1 and {max}"),
            ));
        }
    }
    if input.field_classifications.len() > 500 {
        return Err(CatalogError::validation(
            "fieldClassifications",
            "at most 500 classified fields",
        ));
    }
    let mut classes = BTreeMap::new();
    for (path, class) in &input.field_classifications {
        let path = path.trim();
        crate::redact::parse_path(path)
            .map_err(|message| CatalogError::validation("fieldClassifications", message))?;
        let class = class.trim().to_lowercase();
        if !matches!(class.as_str(), "pii" | "sensitive" | "public") {
            return Err(CatalogError::validation(
                "fieldClassifications",
                format!("`{class}` is not a classification: use pii, sensitive or public"),
            ));
        }
        classes.insert(path.to_owned(), Value::String(class));
    }
    let terms = input.terms.trim();
    if terms.len() > 20_000 {
        return Err(CatalogError::validation(
            "terms",
            "must be at most 20 000 bytes",
        ));
    }
    Ok((
        compatibility,
        Value::Object(classes.into_iter().collect()),
        terms.to_owned(),
    ))
}

fn stream_conflict(error: sqlx::Error) -> CatalogError {
    match &error {
        sqlx::Error::Database(db) => match db.constraint() {
            Some("streams_cluster_topic_key") => CatalogError::Conflict(
                "another listing already owns this topic on this cluster".into(),
            ),
            Some("streams_provider_slug_key") => CatalogError::Conflict(
                "your organization already has a stream with this slug; choose another".into(),
            ),
            _ => CatalogError::Database(error),
        },
        _ => CatalogError::Database(error),
    }
}

impl Catalog {
    pub(crate) async fn stream_row(
        &self,
        conn: &mut PgConnection,
        id: Uuid,
        lock: bool,
    ) -> Result<Stream, CatalogError> {
        let sql = format!(
            "select {STREAM_COLUMNS} from streams s join organizations o on o.id = s.provider_org_id where s.id = $1{}",
            if lock { " for update of s" } else { "" }
        );
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(conn)
            .await?
            .ok_or(CatalogError::NotFound)
    }

    /// Loads a stream the caller may change, locked, checking their role in its provider org.
    pub(crate) async fn stream_for_change(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        id: Uuid,
        allowed: fn(Role) -> bool,
    ) -> Result<Stream, CatalogError> {
        let stream = self.stream_row(conn, id, true).await?;
        let role = self
            .identity
            .role_in(conn, actor, stream.provider_org_id)
            .await?;
        if !allowed(role) {
            return Err(CatalogError::Forbidden);
        }
        if stream.status == "retired" {
            return Err(CatalogError::Conflict("the stream is retired".into()));
        }
        Ok(stream)
    }

    /// Past the draft stage, changes subscribers rely on (visibility, contract) are for the
    /// provider's owners and admins, not its developers.
    async fn require_manager_once_listed(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        stream: &Stream,
    ) -> Result<(), CatalogError> {
        if stream.status == "draft" {
            return Ok(());
        }
        let role = self
            .identity
            .role_in(conn, actor, stream.provider_org_id)
            .await?;
        if can_manage(role) {
            Ok(())
        } else {
            Err(CatalogError::Forbidden)
        }
    }

    /// The organizations the caller acts for (all memberships of a person; a token's own org).
    pub(crate) async fn viewer_orgs(
        &self,
        conn: &mut PgConnection,
        actor: Option<&Actor>,
    ) -> Result<(Vec<Uuid>, bool), CatalogError> {
        let Some(actor) = actor else {
            return Ok((Vec::new(), false));
        };
        match &actor.principal {
            Principal::User { id, .. } => {
                let rows: Vec<(Uuid, bool, String)> = sqlx::query_as(
                    "select o.id, o.is_operator, m.role from memberships m join organizations o on o.id = m.org_id where m.user_id = $1",
                )
                .bind(id)
                .fetch_all(conn)
                .await?;
                let operator = rows.iter().any(|(_, is_operator, role)| {
                    *is_operator && role.parse::<Role>().is_ok_and(Role::can_operate)
                });
                Ok((rows.into_iter().map(|(id, ..)| id).collect(), operator))
            }
            Principal::ApiToken { org_id, .. } => Ok((vec![*org_id], false)),
        }
    }

    /// Whether the caller may see this stream: the provider's members always; others once it is
    /// published (public, unlisted by link, private by invitation); the operator always.
    pub(crate) async fn can_view(
        &self,
        conn: &mut PgConnection,
        actor: Option<&Actor>,
        stream: &Stream,
    ) -> Result<bool, CatalogError> {
        let (orgs, operator) = self.viewer_orgs(conn, actor).await?;
        if operator || orgs.contains(&stream.provider_org_id) {
            return Ok(true);
        }
        if !matches!(stream.status.as_str(), "published" | "deprecated") {
            return Ok(false);
        }
        match stream.visibility.as_str() {
            "public" | "unlisted" => Ok(true),
            _ => Ok(sqlx::query_scalar(
                "select exists(select 1 from stream_access_grants where stream_id = $1 and org_id = any($2))",
            )
            .bind(stream.id)
            .bind(&orgs)
            .fetch_one(conn)
            .await?),
        }
    }

    /// A stream by id, if the caller may see it (otherwise `NotFound`: existence is not revealed).
    pub async fn stream(&self, actor: Option<&Actor>, id: Uuid) -> Result<Stream, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let stream = self.stream_row(&mut conn, id, false).await?;
        if self.can_view(&mut conn, actor, &stream).await? {
            Ok(stream)
        } else {
            Err(CatalogError::NotFound)
        }
    }

    /// A stream by `provider-slug/stream-slug`, if the caller may see it.
    pub async fn stream_by_slug(
        &self,
        actor: Option<&Actor>,
        provider_slug: &str,
        slug: &str,
    ) -> Result<Stream, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let id: Option<Uuid> = sqlx::query_scalar(
            "select s.id from streams s join organizations o on o.id = s.provider_org_id where o.slug = $1 and s.slug = $2",
        )
        .bind(provider_slug)
        .bind(slug)
        .fetch_optional(&mut *conn)
        .await?;
        let stream = self
            .stream_row(&mut conn, id.ok_or(CatalogError::NotFound)?, false)
            .await?;
        if self.can_view(&mut conn, actor, &stream).await? {
            Ok(stream)
        } else {
            Err(CatalogError::NotFound)
        }
    }

    /// Every stream of an organization, drafts included (members only).
    pub async fn streams_of_org(
        &self,
        actor: &Actor,
        org_id: Uuid,
    ) -> Result<Vec<Stream>, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        self.identity.role_in(&mut conn, actor, org_id).await?;
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {STREAM_COLUMNS} from streams s join organizations o on o.id = s.provider_org_id
              where s.provider_org_id = $1 order by s.updated_at desc"
        )))
        .bind(org_id)
        .fetch_all(&mut *conn)
        .await?)
    }

    /// Writes the audit event and the outbox event of a change the caller made to `stream`.
    pub(crate) async fn record(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        stream: &Stream,
        action: &str,
        before: Option<Value>,
        payload: Value,
    ) -> Result<(), CatalogError> {
        self.record_as(conn, &actor.audit(), stream, action, before, payload)
            .await
    }

    /// Writes the audit event and the outbox event of a change to `stream`.
    pub(crate) async fn record_as(
        &self,
        conn: &mut PgConnection,
        actor: &audit::AuditActor,
        stream: &Stream,
        action: &str,
        before: Option<Value>,
        payload: Value,
    ) -> Result<(), CatalogError> {
        audit::record(
            conn,
            actor,
            AuditEntry {
                org_id: Some(stream.provider_org_id),
                action,
                target_type: "stream",
                target_id: stream.id.to_string(),
                before,
                after: Some(payload.clone()),
            },
        )
        .await?;
        let mut event = payload;
        if let Some(map) = event.as_object_mut() {
            map.insert("streamId".into(), json!(stream.id));
            map.insert("providerOrgId".into(), json!(stream.provider_org_id));
        }
        outbox::enqueue(conn, "stream", &stream.id.to_string(), action, event).await?;
        Ok(())
    }

    /// Creates a draft stream for `org_id` (owners, admins and developers).
    pub async fn create_stream(
        &self,
        actor: &Actor,
        org_id: Uuid,
        input: StreamInput,
    ) -> Result<Stream, CatalogError> {
        let name = clean_name(&input.name)?;
        let slug = match input.slug.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(slug) => clean_slug(slug)?,
            None => clean_slug(&slugify(&name)).map_err(|_| {
                CatalogError::validation(
                    "slug",
                    "choose a slug (the name has no letters or digits)",
                )
            })?,
        };
        let topic = clean_topic(&input.topic)?;
        let d = &input.details;
        let summary = clean_summary(d.summary.as_deref().unwrap_or(""))?;
        let description = clean_description(d.description_md.as_deref().unwrap_or(""))?;
        let category = clean_category(d.category.as_deref().unwrap_or(""))?;
        let tags = clean_tags(d.tags.as_deref().unwrap_or(&[]))?;
        let visibility = clean_visibility(d.visibility.as_deref().unwrap_or("public"))?;

        let mut tx = self.pool.begin().await?;
        let role = self.identity.role_in(&mut tx, actor, org_id).await?;
        if !can_edit(role) {
            return Err(CatalogError::Forbidden);
        }
        self.cluster_row(&mut tx, input.cluster_id)
            .await
            .map_err(|e| match e {
                CatalogError::NotFound => CatalogError::validation("clusterId", "no such cluster"),
                e => e,
            })?;
        let id = Uuid::new_v4();
        sqlx::query(
            "insert into streams (id, provider_org_id, cluster_id, slug, name, summary, topic, description_md, description_html, category, tags, visibility, provider_name)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, (select name from organizations where id = $2))",
        )
        .bind(id)
        .bind(org_id)
        .bind(input.cluster_id)
        .bind(&slug)
        .bind(&name)
        .bind(&summary)
        .bind(topic.as_str())
        .bind(&description)
        .bind(markdown::render(&description))
        .bind(&category)
        .bind(&tags)
        .bind(visibility.as_str())
        .execute(&mut *tx)
        .await
        .map_err(stream_conflict)?;
        let stream = self.stream_row(&mut tx, id, false).await?;
        self.claim_subjects(&mut tx, actor, &stream).await?;
        self.record(
            &mut tx,
            actor,
            &stream,
            "stream.created",
            None,
            json!({ "name": name, "slug": slug, "topic": stream.topic, "clusterId": stream.cluster_id, "visibility": stream.visibility }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(stream)
    }

    /// Changes name, summary, description, category, tags or visibility.
    pub async fn update_stream(
        &self,
        actor: &Actor,
        id: Uuid,
        input: StreamDetailsInput,
    ) -> Result<Stream, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let before = self.stream_for_change(&mut tx, actor, id, can_edit).await?;
        let name = input.name.as_deref().map(clean_name).transpose()?;
        let summary = input.summary.as_deref().map(clean_summary).transpose()?;
        let description = input
            .description_md
            .as_deref()
            .map(clean_description)
            .transpose()?;
        let category = input.category.as_deref().map(clean_category).transpose()?;
        let tags = input.tags.as_deref().map(clean_tags).transpose()?;
        let visibility = input
            .visibility
            .as_deref()
            .map(clean_visibility)
            .transpose()?;
        if visibility.is_some() {
            self.require_manager_once_listed(&mut tx, actor, &before)
                .await?;
        }
        sqlx::query(
            "update streams set
                name = coalesce($2, name), summary = coalesce($3, summary),
                description_md = coalesce($4, description_md), description_html = coalesce($5, description_html),
                category = coalesce($6, category), tags = coalesce($7, tags), visibility = coalesce($8, visibility),
                updated_at = now()
              where id = $1",
        )
        .bind(id)
        .bind(&name)
        .bind(&summary)
        .bind(&description)
        .bind(description.as_deref().map(markdown::render))
        .bind(&category)
        .bind(&tags)
        .bind(visibility.map(Visibility::as_str))
        .execute(&mut *tx)
        .await?;
        let after = self.stream_row(&mut tx, id, false).await?;
        if visibility.is_some() {
            self.sync_subject_visibility(&mut tx, &after).await?;
        }
        self.record(
            &mut tx,
            actor,
            &after,
            "stream.updated",
            Some(json!({ "name": before.name, "summary": before.summary, "category": before.category, "tags": before.tags, "visibility": before.visibility })),
            json!({ "name": after.name, "summary": after.summary, "category": after.category, "tags": after.tags, "visibility": after.visibility, "descriptionChanged": description.is_some() }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Replaces the data contract. A new compatibility level also applies to the registry
    /// subjects, so later schema versions are checked under it.
    pub async fn set_contract(
        &self,
        actor: &Actor,
        id: Uuid,
        input: ContractInput,
    ) -> Result<Stream, CatalogError> {
        let (compatibility, classes, terms) = clean_contract(&input)?;
        let mut tx = self.pool.begin().await?;
        let before = self.stream_for_change(&mut tx, actor, id, can_edit).await?;
        // A listed stream's contract is a promise to its subscribers: changing it (a looser
        // compatibility, a dropped PII classification) is for the owners and admins who publish.
        self.require_manager_once_listed(&mut tx, actor, &before)
            .await?;
        sqlx::query(
            "update streams set compatibility = $2, replay_window_hours = $3, freshness_slo_seconds = $4,
                    throughput_slo_per_sec = $5, field_classifications = $6, terms = $7, updated_at = now()
              where id = $1",
        )
        .bind(id)
        .bind(&compatibility)
        .bind(input.replay_window_hours)
        .bind(input.freshness_slo_seconds)
        .bind(input.throughput_slo_per_sec)
        .bind(&classes)
        .bind(&terms)
        .execute(&mut *tx)
        .await?;
        let after = self.stream_row(&mut tx, id, false).await?;
        self.apply_compatibility(&mut tx, &after).await?;
        let contract = |s: &Stream| {
            json!({
                "compatibility": s.compatibility, "replayWindowHours": s.replay_window_hours,
                "freshnessSloSeconds": s.freshness_slo_seconds, "throughputSloPerSec": s.throughput_slo_per_sec,
                "fieldClassifications": s.field_classifications, "terms": s.terms,
            })
        };
        self.record(
            &mut tx,
            actor,
            &after,
            "stream.contract_changed",
            Some(contract(&before)),
            contract(&after),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Gives a draft stream its topic: creates it on the cluster, or adopts an existing one the
    /// provider's organization is entitled to. A topic created here and not recorded (commit
    /// failure) is deleted again, so no orphan stays on the broker.
    pub async fn provision_topic(
        &self,
        actor: &Actor,
        id: Uuid,
        how: TopicProvision,
    ) -> Result<Stream, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream = self.stream_for_change(&mut tx, actor, id, can_edit).await?;
        if stream.topic_provisioned_at.is_some() {
            return Err(CatalogError::Conflict(
                "the stream has its topic already".into(),
            ));
        }
        let cluster = self.cluster_row(&mut tx, stream.cluster_id).await?;
        let admin = self.admin_for(&cluster)?;
        let topic = clean_topic(&stream.topic)?;
        let (created, partitions, retention, cleanup) = match how {
            TopicProvision::Create {
                partitions,
                retention_ms,
                cleanup_policy,
            } => {
                if !(1..=1000).contains(&partitions) {
                    return Err(CatalogError::validation(
                        "partitions",
                        "must be between 1 and 1000",
                    ));
                }
                if retention_ms != -1 && !(60_000..=315_360_000_000).contains(&retention_ms) {
                    return Err(CatalogError::validation(
                        "retentionMs",
                        "must be -1 (forever) or between one minute and ten years",
                    ));
                }
                let cleanup = cleanup_policy.trim().to_lowercase().replace(' ', "");
                if !matches!(cleanup.as_str(), "delete" | "compact" | "compact,delete") {
                    return Err(CatalogError::validation(
                        "cleanupPolicy",
                        "must be delete, compact or compact,delete",
                    ));
                }
                let spec = TopicSpec {
                    name: topic.clone(),
                    partitions,
                    replication_factor: -1,
                    configs: vec![
                        ("retention.ms".into(), retention_ms.to_string()),
                        ("cleanup.policy".into(), cleanup.clone()),
                    ],
                };
                admin
                    .create_topic(&spec)
                    .await
                    .map_err(|e| kafka(e, "topic"))?;
                (true, partitions, Some(retention_ms), Some(cleanup))
            }
            TopicProvision::Adopt => {
                let grants = self
                    .topic_grants(&mut tx, stream.cluster_id, stream.provider_org_id)
                    .await?;
                if !grants
                    .iter()
                    .any(|p| topic.as_str().starts_with(p.as_str()))
                {
                    return Err(CatalogError::Forbidden);
                }
                let described = admin
                    .describe_topic(&topic)
                    .await
                    .map_err(|e| kafka(e, "topic"))?;
                let Some(described) = described else {
                    return Err(CatalogError::validation(
                        "topic",
                        "the topic does not exist on the cluster, so it cannot be adopted",
                    ));
                };
                let retention = described
                    .configs
                    .get("retention.ms")
                    .and_then(|v| v.parse::<i64>().ok());
                let cleanup = described
                    .configs
                    .get("cleanup.policy")
                    .map(|v| v.replace(' ', ""))
                    .filter(|v| matches!(v.as_str(), "delete" | "compact" | "compact,delete"));
                (false, described.partitions, retention, cleanup)
            }
        };
        // From here on a topic this call created is deleted again if anything fails, so a
        // draft never points at nothing and no topic is left without its listing.
        let result = async {
            sqlx::query(
                "update streams set topic_mode = $2, topic_provisioned_at = now(), partitions = $3,
                        retention_ms = $4, cleanup_policy = $5, updated_at = now() where id = $1",
            )
            .bind(id)
            .bind(if created { "created" } else { "adopted" })
            .bind(partitions)
            .bind(retention)
            .bind(cleanup)
            .execute(&mut *tx)
            .await?;
            let after = self.stream_row(&mut tx, id, false).await?;
            self.record(
                &mut tx,
                actor,
                &after,
                "stream.topic_provisioned",
                None,
                json!({ "topic": after.topic, "mode": after.topic_mode, "partitions": after.partitions, "retentionMs": after.retention_ms, "cleanupPolicy": after.cleanup_policy }),
            )
            .await?;
            self.commit(tx).await?;
            Ok::<_, CatalogError>(after)
        }
        .await;
        if result.is_err()
            && created
            && let Err(cleanup) = admin.delete_topic(&topic).await
        {
            tracing::error!(topic = %topic.as_str(), error = %cleanup, "could not delete a topic whose stream update failed");
        }
        result
    }

    /// Makes a draft visible: needs its topic, a value schema, a description and a plan.
    pub async fn publish_stream(&self, actor: &Actor, id: Uuid) -> Result<Stream, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream = self
            .stream_for_change(&mut tx, actor, id, can_manage)
            .await?;
        if stream.status != "draft" {
            return Err(CatalogError::Conflict(format!(
                "the stream is {}, not a draft",
                stream.status
            )));
        }
        let mut missing = Vec::new();
        if stream.topic_provisioned_at.is_none() {
            missing.push("a topic");
        }
        if stream.value_schema_type.is_none() {
            missing.push("a value schema");
        }
        if stream.description_md.is_empty() && stream.summary.is_empty() {
            missing.push("a summary or description");
        }
        if stream.category.is_empty() {
            missing.push("a category");
        }
        let plans: i64 = sqlx::query_scalar(
            "select count(*) from plans where stream_id = $1 and archived_at is null",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if plans == 0 {
            missing.push("a plan");
        }
        if !missing.is_empty() {
            return Err(CatalogError::validation(
                "status",
                format!("before publishing, add {}", missing.join(", ")),
            ));
        }
        sqlx::query(
            "update streams set status = 'published', published_at = now(), updated_at = now() where id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = self.stream_row(&mut tx, id, false).await?;
        self.sync_subject_visibility(&mut tx, &after).await?;
        self.record(
            &mut tx,
            actor,
            &after,
            "stream.published",
            Some(json!({ "status": stream.status })),
            json!({ "status": after.status, "visibility": after.visibility }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Announces the end of a published stream; subscribers keep access until it is retired.
    pub async fn deprecate_stream(
        &self,
        actor: &Actor,
        id: Uuid,
        message: &str,
        sunset_at: Option<DateTime<Utc>>,
    ) -> Result<Stream, CatalogError> {
        let message = message.trim();
        if message.is_empty() || message.chars().count() > 2000 {
            return Err(CatalogError::validation(
                "message",
                "tell subscribers why and what to use instead (1 to 2000 characters)",
            ));
        }
        if sunset_at.is_some_and(|at| at <= Utc::now()) {
            return Err(CatalogError::validation(
                "sunsetAt",
                "must be in the future",
            ));
        }
        let mut tx = self.pool.begin().await?;
        let stream = self
            .stream_for_change(&mut tx, actor, id, can_manage)
            .await?;
        if stream.status != "published" {
            return Err(CatalogError::Conflict(format!(
                "only a published stream can be deprecated; this one is {}",
                stream.status
            )));
        }
        sqlx::query(
            "update streams set status = 'deprecated', deprecated_at = now(), deprecation_message = $2, sunset_at = $3, updated_at = now() where id = $1",
        )
        .bind(id)
        .bind(message)
        .bind(sunset_at)
        .execute(&mut *tx)
        .await?;
        let after = self.stream_row(&mut tx, id, false).await?;
        self.record(
            &mut tx,
            actor,
            &after,
            "stream.deprecated",
            Some(json!({ "status": stream.status })),
            json!({ "status": after.status, "message": message, "sunsetAt": sunset_at }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Takes a deprecated stream out of the catalog for good. The topic stays on the broker (it
    /// holds the provider's data); its schemas stop being readable by the public.
    pub async fn retire_stream(&self, actor: &Actor, id: Uuid) -> Result<Stream, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream = self
            .stream_for_change(&mut tx, actor, id, can_manage)
            .await?;
        if stream.status != "deprecated" {
            return Err(CatalogError::Conflict(
                "deprecate the stream first, so subscribers are told before it goes".into(),
            ));
        }
        sqlx::query(
            "update streams set status = 'retired', retired_at = now(), updated_at = now() where id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = self.stream_row(&mut tx, id, false).await?;
        self.sync_subject_visibility(&mut tx, &after).await?;
        self.record(
            &mut tx,
            actor,
            &after,
            "stream.retired",
            Some(json!({ "status": stream.status })),
            json!({ "status": after.status }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(after)
    }

    /// Deletes a draft together with what it created: its topic (when Tributary created it) and
    /// its registry subjects.
    pub async fn delete_draft(&self, actor: &Actor, id: Uuid) -> Result<(), CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream = self.stream_for_change(&mut tx, actor, id, can_edit).await?;
        if stream.status != "draft" {
            return Err(CatalogError::Conflict(
                "only drafts can be deleted; deprecate and retire a published stream".into(),
            ));
        }
        self.release_subjects(&mut tx, &stream).await?;
        sqlx::query("delete from streams where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.record(
            &mut tx,
            actor,
            &stream,
            "stream.deleted",
            None,
            json!({ "topic": stream.topic }),
        )
        .await?;
        if stream.topic_mode.as_deref() == Some("created") {
            let admin = self.admin(stream.cluster_id).await?;
            let topic = clean_topic(&stream.topic)?;
            admin
                .delete_topic(&topic)
                .await
                .map_err(|e| kafka(e, "topic"))?;
        }
        self.commit(tx).await?;
        Ok(())
    }

    /// Lets another organization see a private stream (owners and admins of the provider).
    pub async fn grant_stream_access(
        &self,
        actor: &Actor,
        id: Uuid,
        org_slug: &str,
        grant: bool,
    ) -> Result<Stream, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream = self
            .stream_for_change(&mut tx, actor, id, can_manage)
            .await?;
        let org: Option<Uuid> = sqlx::query_scalar("select id from organizations where slug = $1")
            .bind(org_slug.trim())
            .fetch_optional(&mut *tx)
            .await?;
        let org = org
            .ok_or_else(|| CatalogError::validation("orgSlug", "no organization has this slug"))?;
        if org == stream.provider_org_id {
            return Err(CatalogError::validation(
                "orgSlug",
                "the provider sees its own streams",
            ));
        }
        let sql = if grant {
            "insert into stream_access_grants (stream_id, org_id) values ($1, $2) on conflict do nothing"
        } else {
            "delete from stream_access_grants where stream_id = $1 and org_id = $2"
        };
        sqlx::query(sql)
            .bind(id)
            .bind(org)
            .execute(&mut *tx)
            .await?;
        self.record(
            &mut tx,
            actor,
            &stream,
            if grant {
                "stream.access_granted"
            } else {
                "stream.access_revoked"
            },
            None,
            json!({ "orgId": org }),
        )
        .await?;
        self.commit(tx).await?;
        Ok(stream)
    }

    /// Organizations invited to a private stream (provider members only).
    pub async fn stream_access_grants(
        &self,
        actor: &Actor,
        id: Uuid,
    ) -> Result<Vec<(Uuid, String, String)>, CatalogError> {
        let mut conn = self.pool.acquire().await?;
        let stream = self.stream_row(&mut conn, id, false).await?;
        self.identity
            .role_in(&mut conn, actor, stream.provider_org_id)
            .await?;
        Ok(sqlx::query_as(
            "select o.id, o.slug, o.name from stream_access_grants g join organizations o on o.id = g.org_id where g.stream_id = $1 order by o.name",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(slugify("  Live Trades (EU) — v2 "), "live-trades-eu-v2");
        assert_eq!(slugify("!!!"), "");
        assert!(clean_slug("Bad Slug").is_err());
        assert!(clean_slug("-x").is_err());
        assert_eq!(clean_slug("ok-1").ok().as_deref(), Some("ok-1"));
    }

    #[test]
    fn topics_kafka_would_refuse_or_we_reserve_are_refused() {
        for bad in [
            "",
            "a b",
            "..",
            "x".repeat(250).as_str(),
            "__consumer_offsets",
            "tributary.events",
            "a.b_c",
            "ümlaut",
        ] {
            assert!(clean_topic(bad).is_err(), "{bad:?} accepted");
        }
        assert!(clean_topic("northwind.trades.v1").is_ok());
    }

    #[test]
    fn tags_are_normalised_and_bounded() {
        let tags = clean_tags(&["Fx".into(), "fx".into(), " ".into(), "eu-equities".into()])
            .expect("valid");
        assert_eq!(tags, vec!["fx", "eu-equities"]);
        assert!(clean_tags(&["<b>".into()]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(clean_tags(&many).is_err());
    }

    #[test]
    fn contracts_are_checked() {
        let ok = ContractInput {
            compatibility: "backward_transitive".into(),
            replay_window_hours: Some(168),
            freshness_slo_seconds: Some(5),
            throughput_slo_per_sec: Some(1000),
            field_classifications: vec![
                ("customer.email".into(), "PII".into()),
                ("**.phone".into(), "pii".into()),
                ("@key".into(), "pii".into()),
            ],
            terms: "Internal analytics only.".into(),
        };
        let (level, classes, _) = clean_contract(&ok).expect("valid");
        assert_eq!(level, "BACKWARD_TRANSITIVE");
        assert_eq!(classes["customer.email"], "pii");
        assert_eq!(classes["**.phone"], "pii");
        assert_eq!(classes["@key"], "pii");
        for bad in ["a.**", "a.@key", "a b"] {
            assert!(
                clean_contract(&ContractInput {
                    field_classifications: vec![(bad.into(), "pii".into())],
                    ..ok.clone()
                })
                .is_err(),
                "{bad}"
            );
        }
        assert!(
            clean_contract(&ContractInput {
                compatibility: "SOMETIMES".into(),
                ..ok.clone()
            })
            .is_err()
        );
        assert!(
            clean_contract(&ContractInput {
                freshness_slo_seconds: Some(0),
                ..ok.clone()
            })
            .is_err()
        );
        assert!(
            clean_contract(&ContractInput {
                field_classifications: vec![("a..b".into(), "pii".into())],
                ..ok.clone()
            })
            .is_err()
        );
        assert!(
            clean_contract(&ContractInput {
                field_classifications: vec![("a".into(), "secret".into())],
                ..ok
            })
            .is_err()
        );
    }
}
