//! Clusters (operator), streams with their topic, schemas, contract and plans (providers), the
//! catalog search (everyone, per visibility) and the stream page data.

use async_graphql::{
    Context, Enum, InputObject, Json, Object, SimpleObject,
    connection::{Connection, CursorType, Edge, OpaqueCursor},
};
use chrono::{DateTime, Utc};
use tributary_catalog::{self as catalog, Catalog};
use tributary_identity::Actor;
use tributary_registry::{Reference, SchemaInput, SchemaType};
use uuid::Uuid;

use crate::{ApiError, auth::RequestContext};

fn request<'a>(ctx: &'a Context<'_>) -> Option<&'a RequestContext> {
    ctx.data_opt::<RequestContext>()
}

fn viewer<'a>(ctx: &'a Context<'_>) -> Option<&'a Actor> {
    request(ctx).and_then(|r| r.actor.as_ref())
}

fn actor<'a>(ctx: &'a Context<'_>) -> Result<&'a Actor, ApiError> {
    viewer(ctx).ok_or_else(|| ApiError::Unauthenticated("sign in to do this".into()))
}

fn service<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Catalog> {
    ctx.data::<Catalog>()
}

/// The offset after a cursor returned by `catalog`/`catalogSearch`.
fn decode_offset(after: Option<String>) -> Result<i64, ApiError> {
    match after {
        Some(cursor) => OpaqueCursor::<i64>::decode_cursor(&cursor)
            .map(|c| c.0 + 1)
            .map_err(|_| ApiError::validation("after", "is not a cursor returned by this API")),
        None => Ok(0),
    }
}

// ------------------------------------------------------------------------------------ clusters

#[derive(SimpleObject)]
pub struct ClusterHealth {
    /// `unknown`, `healthy` or `unhealthy`.
    pub status: String,
    pub message: String,
    pub checked_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<i32>,
    pub broker_count: Option<i32>,
}

/// Whether a cluster answered its latest health check.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ClusterStatus {
    Up,
    /// The latest check failed, or none has run yet.
    Down,
}

/// A Kafka cluster as anyone signed in sees it, to choose where a stream lives. Its addresses,
/// users, registry and check details are the operator's (`managedClusters`).
#[derive(SimpleObject)]
pub struct ClusterSummary {
    pub id: Uuid,
    pub name: String,
    pub region: String,
    pub status: ClusterStatus,
}

impl From<catalog::ClusterSummary> for ClusterSummary {
    fn from(c: catalog::ClusterSummary) -> Self {
        Self {
            id: c.id,
            name: c.name,
            region: c.region,
            status: if c.up {
                ClusterStatus::Up
            } else {
                ClusterStatus::Down
            },
        }
    }
}

/// A Kafka cluster streams live on, as the operator manages it. Its SASL password is never
/// readable.
#[derive(SimpleObject)]
pub struct Cluster {
    pub id: Uuid,
    pub name: String,
    pub region: String,
    pub bootstrap_servers: String,
    pub security_protocol: String,
    pub sasl_username: String,
    pub has_ca_bundle: bool,
    /// Empty: the embedded registry at `/registry` on this API's address.
    pub schema_registry_url: Option<String>,
    /// The user (or API key) the external registry is called with; its secret is never shown.
    pub schema_registry_username: Option<String>,
    pub health: ClusterHealth,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<catalog::Cluster> for Cluster {
    fn from(c: catalog::Cluster) -> Self {
        Self {
            id: c.id,
            name: c.name,
            region: c.region,
            bootstrap_servers: c.bootstrap_servers,
            security_protocol: c.security_protocol,
            sasl_username: c.sasl_username,
            has_ca_bundle: c.has_ca_bundle,
            schema_registry_url: c.schema_registry_url,
            schema_registry_username: c.schema_registry_username,
            health: ClusterHealth {
                status: c.health.status,
                message: c.health.message,
                checked_at: c.health.checked_at,
                latency_ms: c.health.latency_ms,
                broker_count: c.health.broker_count,
            },
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(InputObject)]
pub struct ClusterInput {
    pub name: String,
    #[graphql(default)]
    pub region: String,
    /// `host:port[,host:port…]`
    pub bootstrap_servers: String,
    /// `SASL_SSL` (with an optional CA bundle) or `SASL_PLAINTEXT` (local stacks only).
    pub security_protocol: String,
    pub sasl_username: String,
    /// Required to register; omit on update to keep the stored one. Stored encrypted.
    pub sasl_password: Option<String>,
    /// PEM CA bundle for clusters with a private CA. On update: omit to keep the stored one,
    /// empty to remove it.
    pub ca_pem: Option<String>,
    /// An external Confluent-compatible registry (e.g. `https://sr.example.com`); empty for the
    /// embedded one. Stream schemas of this cluster are then registered, checked and read there.
    pub schema_registry_url: Option<String>,
    /// HTTP Basic user (or API key) of the external registry; empty for none.
    pub schema_registry_username: Option<String>,
    /// Its secret: required with a new user, omit on update to keep the stored one. Stored
    /// encrypted, never returned.
    pub schema_registry_password: Option<String>,
}

impl From<ClusterInput> for catalog::ClusterInput {
    fn from(i: ClusterInput) -> Self {
        Self {
            name: i.name,
            region: i.region,
            bootstrap_servers: i.bootstrap_servers,
            security_protocol: i.security_protocol,
            sasl_username: i.sasl_username,
            sasl_password: i.sasl_password,
            ca_pem: i.ca_pem,
            schema_registry_url: i.schema_registry_url,
            schema_registry_username: i.schema_registry_username,
            schema_registry_password: i.schema_registry_password,
        }
    }
}

// ------------------------------------------------------------------------------------- streams

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum StreamStatus {
    Draft,
    Published,
    Deprecated,
    Retired,
}

fn status(raw: &str) -> StreamStatus {
    match raw {
        "published" => StreamStatus::Published,
        "deprecated" => StreamStatus::Deprecated,
        "retired" => StreamStatus::Retired,
        _ => StreamStatus::Draft,
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum StreamVisibility {
    Public,
    Unlisted,
    Private,
}

impl StreamVisibility {
    fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Unlisted => "unlisted",
            Self::Private => "private",
        }
    }
}

fn visibility(raw: &str) -> StreamVisibility {
    match raw {
        "unlisted" => StreamVisibility::Unlisted,
        "private" => StreamVisibility::Private,
        _ => StreamVisibility::Public,
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "SchemaType")]
pub enum SchemaTypeValue {
    Avro,
    Json,
    Protobuf,
}

impl From<SchemaTypeValue> for SchemaType {
    fn from(v: SchemaTypeValue) -> Self {
        match v {
            SchemaTypeValue::Avro => SchemaType::Avro,
            SchemaTypeValue::Json => SchemaType::Json,
            SchemaTypeValue::Protobuf => SchemaType::Protobuf,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SchemaRole {
    Key,
    Value,
}

/// One entry of a data contract's field classifications.
#[derive(SimpleObject, InputObject, Clone)]
#[graphql(input_name = "FieldClassificationInput")]
pub struct FieldClassification {
    /// Dotted path, e.g. `customer.email`.
    pub path: String,
    /// `pii`, `sensitive` or `public`. Samples redact `pii` fields.
    pub classification: String,
}

/// The data contract consumers rely on.
#[derive(SimpleObject)]
pub struct Contract {
    /// Compatibility level every new schema version is checked against.
    pub compatibility: String,
    pub retention_ms: Option<i64>,
    pub replay_window_hours: Option<i32>,
    pub freshness_slo_seconds: Option<i32>,
    pub throughput_slo_per_sec: Option<i32>,
    pub field_classifications: Vec<FieldClassification>,
    pub terms: String,
}

#[derive(SimpleObject)]
pub struct StreamProvider {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

#[derive(SimpleObject)]
pub struct TopicInfo {
    pub name: String,
    /// `created` by Tributary or `adopted`; empty until provisioned.
    pub mode: Option<String>,
    pub provisioned_at: Option<DateTime<Utc>>,
    pub partitions: Option<i32>,
    pub retention_ms: Option<i64>,
    pub cleanup_policy: Option<String>,
}

#[derive(SimpleObject)]
pub struct SchemaVersion {
    pub subject: String,
    pub version: i32,
    /// The global schema id (what serializers write into each message).
    pub id: i32,
    pub schema_type: String,
    pub schema: String,
    /// Diff-friendly text of the schema.
    pub pretty: String,
}

impl From<catalog::SchemaVersionView> for SchemaVersion {
    fn from(v: catalog::SchemaVersionView) -> Self {
        Self {
            subject: v.subject,
            version: v.version,
            id: v.id,
            schema_type: v.schema_type,
            schema: v.schema,
            pretty: v.pretty,
        }
    }
}

#[derive(SimpleObject)]
pub struct SchemaDiff {
    pub from_version: i32,
    pub to_version: i32,
    /// Unified diff of the two versions' pretty texts.
    pub unified: String,
}

/// What `samples` costs in a query's complexity: a topic read, not a field.
const SAMPLES_COMPLEXITY: usize = 40;

#[derive(SimpleObject)]
pub struct SampleMessage {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<DateTime<Utc>>,
    /// Decoded key (JSON), fields classified as PII redacted.
    pub key: Option<Json<serde_json::Value>>,
    /// Decoded value (JSON), fields classified as PII redacted.
    pub value: Option<Json<serde_json::Value>>,
    /// Why the key is not shown decoded ("not decodable with this stream's schemas": framed
    /// with another schema id, or not in the stream's format); the key is then null when a
    /// classification applies to it.
    pub key_error: Option<String>,
    /// Why the value is not shown decoded, as for the key.
    pub value_error: Option<String>,
}

#[derive(SimpleObject)]
pub struct Plan {
    pub id: Uuid,
    pub name: String,
    /// `free`, `flat` (fee per month) or `usage` (price per million units).
    pub pricing_model: String,
    pub currency: String,
    /// Minor units (cents).
    pub flat_fee_minor: i64,
    /// Minor units per million `usageMetric` units.
    pub unit_price_minor: i64,
    pub usage_metric: String,
    pub included_units: i64,
    pub trial_days: i32,
    pub approval_required: bool,
    pub throughput_quota: Option<i32>,
    pub archived_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<catalog::Plan> for Plan {
    fn from(p: catalog::Plan) -> Self {
        Self {
            id: p.id,
            name: p.name,
            pricing_model: p.pricing_model,
            currency: p.currency,
            flat_fee_minor: p.flat_fee_minor,
            unit_price_minor: p.unit_price_minor,
            usage_metric: p.usage_metric,
            included_units: p.included_units,
            trial_days: p.trial_days,
            approval_required: p.approval_required,
            throughput_quota: p.throughput_quota,
            archived_at: p.archived_at,
            created_at: p.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct OrganizationRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// A stream (listing) as the caller may see it.
pub struct Stream(pub catalog::Stream);

#[Object]
impl Stream {
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// The description as written (markdown).
    async fn description_markdown(&self) -> &str {
        &self.0.description_md
    }
    /// The description rendered and sanitized: safe to insert as HTML.
    async fn description_html(&self) -> &str {
        &self.0.description_html
    }
    async fn category(&self) -> &str {
        &self.0.category
    }
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    async fn status(&self) -> StreamStatus {
        status(&self.0.status)
    }
    async fn visibility(&self) -> StreamVisibility {
        visibility(&self.0.visibility)
    }
    async fn provider(&self) -> StreamProvider {
        StreamProvider {
            id: self.0.provider_org_id,
            slug: self.0.provider_slug.clone(),
            name: self.0.provider_name.clone(),
        }
    }
    async fn cluster_id(&self) -> Uuid {
        self.0.cluster_id
    }
    /// The cluster the topic lives on: for the provider's members and the operator.
    async fn cluster(&self, ctx: &Context<'_>) -> async_graphql::Result<ClusterSummary> {
        Ok(service(ctx)?
            .stream_cluster(actor(ctx)?, &self.0)
            .await
            .map_err(ApiError::from)?
            .into())
    }
    /// The topic (kept for clients of the first catalog API).
    async fn topic(&self) -> &str {
        &self.0.topic
    }
    async fn topic_info(&self) -> TopicInfo {
        TopicInfo {
            name: self.0.topic.clone(),
            mode: self.0.topic_mode.clone(),
            provisioned_at: self.0.topic_provisioned_at,
            partitions: self.0.partitions,
            retention_ms: self.0.retention_ms,
            cleanup_policy: self.0.cleanup_policy.clone(),
        }
    }
    async fn contract(&self) -> Contract {
        let classes = self
            .0
            .field_classifications
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(path, class)| FieldClassification {
                        path: path.clone(),
                        classification: class.as_str().unwrap_or_default().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Contract {
            compatibility: self.0.compatibility.clone(),
            retention_ms: self.0.retention_ms,
            replay_window_hours: self.0.replay_window_hours,
            freshness_slo_seconds: self.0.freshness_slo_seconds,
            throughput_slo_per_sec: self.0.throughput_slo_per_sec,
            field_classifications: classes,
            terms: self.0.terms.clone(),
        }
    }
    async fn key_schema_type(&self) -> Option<&str> {
        self.0.key_schema_type.as_deref()
    }
    async fn value_schema_type(&self) -> Option<&str> {
        self.0.value_schema_type.as_deref()
    }
    /// Field names of the current schemas (what search matches).
    async fn schema_fields(&self) -> &[String] {
        &self.0.schema_fields
    }
    async fn pricing_models(&self) -> &[String] {
        &self.0.pricing_models
    }
    /// Version history of the key or value schema, oldest first.
    async fn schema_versions(
        &self,
        ctx: &Context<'_>,
        role: SchemaRole,
    ) -> async_graphql::Result<Vec<SchemaVersion>> {
        Ok(service(ctx)?
            .schema_versions(viewer(ctx), self.0.id, role == SchemaRole::Key)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(SchemaVersion::from)
            .collect())
    }
    /// Differences between two versions of the key or value schema.
    async fn schema_diff(
        &self,
        ctx: &Context<'_>,
        role: SchemaRole,
        from_version: i32,
        to_version: i32,
    ) -> async_graphql::Result<SchemaDiff> {
        let versions = service(ctx)?
            .schema_versions(viewer(ctx), self.0.id, role == SchemaRole::Key)
            .await
            .map_err(ApiError::from)?;
        let find = |v: i32, field: &str| {
            versions
                .iter()
                .find(|s| s.version == v)
                .ok_or_else(|| ApiError::validation(field, format!("version {v} does not exist")))
        };
        let from = find(from_version, "fromVersion")?;
        let to = find(to_version, "toVersion")?;
        Ok(SchemaDiff {
            from_version,
            to_version,
            unified: catalog::schema_diff(from, to),
        })
    }
    /// The newest messages of the topic, decoded to JSON, PII-classified fields redacted.
    /// Complexity 40: a read of the topic (shared by every `limit` and viewer for a moment,
    /// but a Kafka read and a decode when it is not), whatever `limit` is.
    #[graphql(complexity = "SAMPLES_COMPLEXITY + child_complexity")]
    async fn samples(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] limit: i32,
    ) -> async_graphql::Result<Vec<SampleMessage>> {
        let limit = usize::try_from(limit)
            .map_err(|_| ApiError::validation("limit", "must be positive"))?;
        Ok(service(ctx)?
            .recent_samples(viewer(ctx), self.0.id, limit)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|s| SampleMessage {
                partition: s.partition,
                offset: s.offset,
                timestamp: s.timestamp,
                key: s.key.map(Json),
                value: s.value.map(Json),
                key_error: s.key_error,
                value_error: s.value_error,
            })
            .collect())
    }
    /// Live plans.
    async fn plans(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Plan>> {
        Ok(service(ctx)?
            .plans(viewer(ctx), self.0.id)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(Plan::from)
            .collect())
    }
    /// Organizations invited to this private stream (provider members only).
    async fn access_grants(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<OrganizationRef>> {
        Ok(service(ctx)?
            .stream_access_grants(actor(ctx)?, self.0.id)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|(id, slug, name)| OrganizationRef { id, slug, name })
            .collect())
    }
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
    async fn deprecated_at(&self) -> Option<DateTime<Utc>> {
        self.0.deprecated_at
    }
    async fn deprecation_message(&self) -> &str {
        &self.0.deprecation_message
    }
    async fn sunset_at(&self) -> Option<DateTime<Utc>> {
        self.0.sunset_at
    }
    async fn retired_at(&self) -> Option<DateTime<Utc>> {
        self.0.retired_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(SimpleObject)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: i64,
}

#[derive(SimpleObject)]
pub struct Facet {
    /// `category`, `tag`, `provider`, `schemaType`, `pricingModel` or `price` (free/paid).
    pub name: String,
    pub values: Vec<FacetValue>,
}

#[derive(SimpleObject)]
pub struct SearchExtra {
    pub total_count: i64,
    pub facets: Vec<Facet>,
    /// How the query was read, typo corrections included: `(wether | weather) & (stations)`.
    pub interpreted_as: Option<String>,
}

pub struct SearchConnectionName;

impl async_graphql::connection::ConnectionNameType for SearchConnectionName {
    fn type_name<T: async_graphql::OutputType>() -> String {
        "CatalogSearchConnection".into()
    }
}

pub struct SearchEdgeName;

impl async_graphql::connection::EdgeNameType for SearchEdgeName {
    fn type_name<T: async_graphql::OutputType>() -> String {
        "CatalogSearchEdge".into()
    }
}

pub type SearchConnection = Connection<
    OpaqueCursor<i64>,
    Stream,
    SearchExtra,
    async_graphql::connection::EmptyFields,
    SearchConnectionName,
    SearchEdgeName,
>;

/// The plain listing: published streams the caller may see, newest first.
pub type CatalogConnection = Connection<OpaqueCursor<i64>, Stream>;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum CatalogSort {
    /// Best match first (newest first without a query).
    #[default]
    Relevance,
    Newest,
    Name,
}

#[derive(InputObject, Default)]
pub struct CatalogFilter {
    #[graphql(default)]
    pub categories: Vec<String>,
    /// Streams must carry every one of these tags.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Provider organization slugs.
    #[graphql(default)]
    pub providers: Vec<String>,
    #[graphql(default)]
    pub schema_types: Vec<SchemaTypeValue>,
    /// `free`, `flat`, `usage`.
    #[graphql(default)]
    pub pricing_models: Vec<String>,
    /// Only streams with a free plan (`true`) or with a paid plan (`false`).
    pub free: Option<bool>,
}

#[derive(Default)]
pub struct StreamsQuery;

#[Object]
impl StreamsQuery {
    /// Every registered cluster: name, region and whether it is up (signed-in callers).
    async fn clusters(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ClusterSummary>> {
        actor(ctx)?;
        Ok(service(ctx)?
            .cluster_summaries()
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(ClusterSummary::from)
            .collect())
    }

    /// Every registered cluster with its addresses, users, registry and latest health check
    /// (operator).
    async fn managed_clusters(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Cluster>> {
        Ok(service(ctx)?
            .clusters(actor(ctx)?)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(Cluster::from)
            .collect())
    }

    /// Published streams the caller may see, newest first (forward Relay pagination). The
    /// same listing as `catalogSearch` without query, filters or facets.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn catalog(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CatalogConnection> {
        let offset = decode_offset(after)?;
        let page = service(ctx)?
            .search(
                viewer(ctx),
                &catalog::SearchQuery {
                    sort: catalog::SearchSort::Newest,
                    first: i64::from(first.unwrap_or(20)),
                    offset,
                    ..Default::default()
                },
            )
            .await
            .map_err(ApiError::from)?;
        let count = page.streams.len() as i64;
        let mut connection = Connection::new(offset > 0, offset + count < page.total);
        connection.edges.extend(
            page.streams
                .into_iter()
                .enumerate()
                .map(|(i, s)| Edge::new(OpaqueCursor(offset + i as i64), Stream(s))),
        );
        Ok(connection)
    }

    /// Searches the catalog: full text with typo tolerance, facets, sorting, Relay pages.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity + 20")]
    async fn catalog_search(
        &self,
        ctx: &Context<'_>,
        query: Option<String>,
        filter: Option<CatalogFilter>,
        sort: Option<CatalogSort>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<SearchConnection> {
        let offset = match after {
            Some(cursor) => {
                OpaqueCursor::<i64>::decode_cursor(&cursor)
                    .map_err(|_| {
                        ApiError::validation("after", "is not a cursor returned by this API")
                    })?
                    .0
                    + 1
            }
            None => 0,
        };
        let first = i64::from(first.unwrap_or(20));
        let filter = filter.unwrap_or_default();
        let page = service(ctx)?
            .search(
                viewer(ctx),
                &catalog::SearchQuery {
                    text: query,
                    categories: filter.categories,
                    tags: filter.tags,
                    providers: filter.providers,
                    schema_types: filter
                        .schema_types
                        .into_iter()
                        .map(|t| SchemaType::from(t).as_str().to_owned())
                        .collect(),
                    pricing_models: filter.pricing_models,
                    free: filter.free,
                    sort: match sort.unwrap_or_default() {
                        CatalogSort::Relevance => catalog::SearchSort::Relevance,
                        CatalogSort::Newest => catalog::SearchSort::Newest,
                        CatalogSort::Name => catalog::SearchSort::Name,
                    },
                    first,
                    offset,
                },
            )
            .await
            .map_err(ApiError::from)?;
        let count = page.streams.len() as i64;
        let mut connection = Connection::with_additional_fields(
            offset > 0,
            offset + count < page.total,
            SearchExtra {
                total_count: page.total,
                interpreted_as: page.interpreted_as,
                facets: page
                    .facets
                    .into_iter()
                    .map(|f| Facet {
                        name: f.name,
                        values: f
                            .values
                            .into_iter()
                            .map(|v| FacetValue {
                                value: v.value,
                                label: v.label,
                                count: v.count,
                            })
                            .collect(),
                    })
                    .collect(),
            },
        );
        connection.edges.extend(
            page.streams
                .into_iter()
                .enumerate()
                .map(|(i, s)| Edge::new(OpaqueCursor(offset + i as i64), Stream(s))),
        );
        Ok(connection)
    }

    /// A stream by id, or by `providerSlug` + `slug` (what portal URLs carry). Streams the caller
    /// may not see are `NOT_FOUND`.
    async fn stream(
        &self,
        ctx: &Context<'_>,
        id: Option<Uuid>,
        provider_slug: Option<String>,
        slug: Option<String>,
    ) -> async_graphql::Result<Stream> {
        let service = service(ctx)?;
        let stream = match (id, provider_slug, slug) {
            (Some(id), None, None) => service.stream(viewer(ctx), id).await,
            (None, Some(provider), Some(slug)) => {
                service.stream_by_slug(viewer(ctx), &provider, &slug).await
            }
            _ => {
                return Err(ApiError::validation(
                    "id",
                    "give either `id`, or both `providerSlug` and `slug`",
                )
                .into());
            }
        };
        Ok(Stream(stream.map_err(ApiError::from)?))
    }

    /// Every stream of an organization, drafts included (its members).
    async fn organization_streams(
        &self,
        ctx: &Context<'_>,
        organization_id: Uuid,
    ) -> async_graphql::Result<Vec<Stream>> {
        Ok(service(ctx)?
            .streams_of_org(actor(ctx)?, organization_id)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(Stream)
            .collect())
    }

    /// The categories streams are filed under.
    async fn stream_categories(&self) -> Vec<&'static str> {
        catalog::CATEGORIES.to_vec()
    }
}

#[derive(InputObject)]
pub struct CreateStreamInput {
    pub organization_id: Uuid,
    pub cluster_id: Uuid,
    pub name: String,
    /// URL name; derived from the name when absent.
    pub slug: Option<String>,
    pub topic: String,
    pub summary: Option<String>,
    /// Markdown; rendered and sanitized (no scripts, handlers or `javascript:` links survive).
    pub description_markdown: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub visibility: Option<StreamVisibility>,
}

#[derive(InputObject)]
pub struct UpdateStreamInput {
    pub name: Option<String>,
    pub summary: Option<String>,
    pub description_markdown: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub visibility: Option<StreamVisibility>,
}

fn details(
    name: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    category: Option<String>,
    tags: Option<Vec<String>>,
    visibility: Option<StreamVisibility>,
) -> catalog::StreamDetailsInput {
    catalog::StreamDetailsInput {
        name,
        summary,
        description_md: description,
        category,
        tags,
        visibility: visibility.map(|v| v.as_str().to_owned()),
    }
}

#[derive(InputObject)]
pub struct ContractInput {
    /// NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE.
    pub compatibility: String,
    pub replay_window_hours: Option<i32>,
    pub freshness_slo_seconds: Option<i32>,
    pub throughput_slo_per_sec: Option<i32>,
    #[graphql(default)]
    pub field_classifications: Vec<FieldClassification>,
    #[graphql(default)]
    pub terms: String,
}

/// How the stream gets its topic: `create` a new one, or `adopt` an existing one.
#[derive(InputObject)]
pub struct ProvisionTopicInput {
    /// `true` adopts the existing topic (the organization needs a topic-prefix grant).
    #[graphql(default)]
    pub adopt: bool,
    #[graphql(default = 3)]
    pub partitions: i32,
    /// Milliseconds; -1 keeps data forever. Default 7 days.
    #[graphql(default = 604800000)]
    pub retention_ms: i64,
    /// `delete`, `compact` or `compact,delete`.
    #[graphql(default_with = "\"delete\".to_owned()")]
    pub cleanup_policy: String,
}

#[derive(InputObject)]
pub struct SchemaReferenceInput {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

#[derive(InputObject)]
pub struct RegisterSchemaInput {
    pub stream_id: Uuid,
    pub role: SchemaRole,
    pub schema_type: SchemaTypeValue,
    pub schema: String,
    #[graphql(default)]
    pub references: Vec<SchemaReferenceInput>,
}

impl RegisterSchemaInput {
    fn schema_input(&self) -> SchemaInput {
        SchemaInput {
            schema_type: self.schema_type.into(),
            schema: self.schema.clone(),
            references: self
                .references
                .iter()
                .map(|r| Reference {
                    name: r.name.clone(),
                    subject: r.subject.clone(),
                    version: r.version,
                })
                .collect(),
        }
    }
}

#[derive(SimpleObject)]
pub struct RegisterSchemaPayload {
    pub stream: Stream,
    pub schema: SchemaVersion,
    /// `false` when the schema was registered already (nothing changed, no event).
    pub created: bool,
}

#[derive(SimpleObject)]
pub struct CompatibilityResult {
    pub is_compatible: bool,
    pub messages: Vec<String>,
}

#[derive(InputObject)]
pub struct PlanInput {
    pub stream_id: Uuid,
    pub name: String,
    /// `free`, `flat` or `usage`.
    pub pricing_model: String,
    #[graphql(default_with = "\"usd\".to_owned()")]
    pub currency: String,
    #[graphql(default)]
    pub flat_fee_minor: i64,
    #[graphql(default)]
    pub unit_price_minor: i64,
    #[graphql(default_with = "\"messages\".to_owned()")]
    pub usage_metric: String,
    #[graphql(default)]
    pub included_units: i64,
    #[graphql(default)]
    pub trial_days: i32,
    #[graphql(default)]
    pub approval_required: bool,
    pub throughput_quota: Option<i32>,
}

#[derive(Default)]
pub struct StreamsMutation;

#[Object]
impl StreamsMutation {
    /// Registers a Kafka cluster (operator).
    async fn register_cluster(
        &self,
        ctx: &Context<'_>,
        input: ClusterInput,
    ) -> async_graphql::Result<Cluster> {
        Ok(service(ctx)?
            .register_cluster(actor(ctx)?, input.into())
            .await
            .map_err(ApiError::from)?
            .into())
    }

    /// Changes a cluster; omit `saslPassword` to keep it (operator).
    async fn update_cluster(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: ClusterInput,
    ) -> async_graphql::Result<Cluster> {
        Ok(service(ctx)?
            .update_cluster(actor(ctx)?, id, input.into())
            .await
            .map_err(ApiError::from)?
            .into())
    }

    /// Removes a cluster no stream uses (operator).
    async fn delete_cluster(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<bool> {
        service(ctx)?
            .delete_cluster(actor(ctx)?, id)
            .await
            .map_err(ApiError::from)?;
        Ok(true)
    }

    /// Connects to the cluster now and records the outcome (operator).
    async fn check_cluster_health(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Cluster> {
        Ok(service(ctx)?
            .check_cluster_health(actor(ctx)?, id)
            .await
            .map_err(ApiError::from)?
            .into())
    }

    /// Entitles an organization to adopt existing topics under `prefix` (operator).
    async fn grant_topic_prefix(
        &self,
        ctx: &Context<'_>,
        cluster_id: Uuid,
        organization_id: Uuid,
        prefix: String,
    ) -> async_graphql::Result<bool> {
        service(ctx)?
            .grant_topic_prefix(actor(ctx)?, cluster_id, organization_id, &prefix)
            .await
            .map_err(ApiError::from)?;
        Ok(true)
    }

    /// Creates a draft stream (owners, admins, developers of the organization).
    async fn create_stream(
        &self,
        ctx: &Context<'_>,
        input: CreateStreamInput,
    ) -> async_graphql::Result<Stream> {
        let stream = service(ctx)?
            .create_stream(
                actor(ctx)?,
                input.organization_id,
                catalog::StreamInput {
                    cluster_id: input.cluster_id,
                    name: input.name,
                    slug: input.slug,
                    topic: input.topic,
                    details: details(
                        None,
                        input.summary,
                        input.description_markdown,
                        input.category,
                        input.tags,
                        input.visibility,
                    ),
                },
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Stream(stream))
    }

    async fn update_stream(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: UpdateStreamInput,
    ) -> async_graphql::Result<Stream> {
        let stream = service(ctx)?
            .update_stream(
                actor(ctx)?,
                id,
                details(
                    input.name,
                    input.summary,
                    input.description_markdown,
                    input.category,
                    input.tags,
                    input.visibility,
                ),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Stream(stream))
    }

    /// Replaces the stream's data contract; the compatibility level applies to its subjects.
    async fn set_stream_contract(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: ContractInput,
    ) -> async_graphql::Result<Stream> {
        let stream = service(ctx)?
            .set_contract(
                actor(ctx)?,
                id,
                catalog::ContractInput {
                    compatibility: input.compatibility,
                    replay_window_hours: input.replay_window_hours,
                    freshness_slo_seconds: input.freshness_slo_seconds,
                    throughput_slo_per_sec: input.throughput_slo_per_sec,
                    field_classifications: input
                        .field_classifications
                        .into_iter()
                        .map(|f| (f.path, f.classification))
                        .collect(),
                    terms: input.terms,
                },
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Stream(stream))
    }

    /// Creates the stream's topic on its cluster, or adopts an existing one.
    async fn provision_stream_topic(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        input: ProvisionTopicInput,
    ) -> async_graphql::Result<Stream> {
        let how = if input.adopt {
            catalog::TopicProvision::Adopt
        } else {
            catalog::TopicProvision::Create {
                partitions: input.partitions,
                retention_ms: input.retention_ms,
                cleanup_policy: input.cleanup_policy,
            }
        };
        let stream = service(ctx)?
            .provision_topic(actor(ctx)?, id, how)
            .await
            .map_err(ApiError::from)?;
        Ok(Stream(stream))
    }

    /// Registers a key or value schema version; refused with `INCOMPATIBLE_SCHEMA` when it
    /// breaks the stream's compatibility level.
    async fn register_stream_schema(
        &self,
        ctx: &Context<'_>,
        input: RegisterSchemaInput,
    ) -> async_graphql::Result<RegisterSchemaPayload> {
        let (stream, schema, created) = service(ctx)?
            .register_schema(
                actor(ctx)?,
                input.stream_id,
                input.role == SchemaRole::Key,
                input.schema_input(),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(RegisterSchemaPayload {
            stream: Stream(stream),
            schema: schema.into(),
            created,
        })
    }

    /// Checks a schema against the stream's level without registering it.
    async fn check_stream_schema(
        &self,
        ctx: &Context<'_>,
        input: RegisterSchemaInput,
    ) -> async_graphql::Result<CompatibilityResult> {
        let report = service(ctx)?
            .check_schema(
                actor(ctx)?,
                input.stream_id,
                input.role == SchemaRole::Key,
                input.schema_input(),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(CompatibilityResult {
            is_compatible: report.is_compatible,
            messages: report.messages,
        })
    }

    /// Publishes a draft (owners, admins): needs a topic, a value schema, a category, a
    /// summary or description, and a plan.
    async fn publish_stream(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Stream> {
        Ok(Stream(
            service(ctx)?
                .publish_stream(actor(ctx)?, id)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    /// Deprecates a published stream, telling subscribers why (owners, admins).
    async fn deprecate_stream(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
        message: String,
        sunset_at: Option<DateTime<Utc>>,
    ) -> async_graphql::Result<Stream> {
        Ok(Stream(
            service(ctx)?
                .deprecate_stream(actor(ctx)?, id, &message, sunset_at)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    /// Retires a deprecated stream (owners, admins).
    async fn retire_stream(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Stream> {
        Ok(Stream(
            service(ctx)?
                .retire_stream(actor(ctx)?, id)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    /// Deletes a draft with its topic (if Tributary created it) and its schemas.
    async fn delete_draft_stream(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<bool> {
        service(ctx)?
            .delete_draft(actor(ctx)?, id)
            .await
            .map_err(ApiError::from)?;
        Ok(true)
    }

    /// Lets an organization see a private stream (owners, admins).
    async fn grant_stream_access(
        &self,
        ctx: &Context<'_>,
        stream_id: Uuid,
        organization_slug: String,
    ) -> async_graphql::Result<Stream> {
        Ok(Stream(
            service(ctx)?
                .grant_stream_access(actor(ctx)?, stream_id, &organization_slug, true)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn revoke_stream_access(
        &self,
        ctx: &Context<'_>,
        stream_id: Uuid,
        organization_slug: String,
    ) -> async_graphql::Result<Stream> {
        Ok(Stream(
            service(ctx)?
                .grant_stream_access(actor(ctx)?, stream_id, &organization_slug, false)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    /// Adds a pricing plan (owners, admins). Amounts are integer minor units.
    async fn create_plan(
        &self,
        ctx: &Context<'_>,
        input: PlanInput,
    ) -> async_graphql::Result<Plan> {
        Ok(service(ctx)?
            .create_plan(
                actor(ctx)?,
                input.stream_id,
                catalog::PlanInput {
                    name: input.name,
                    pricing_model: input.pricing_model,
                    currency: input.currency,
                    flat_fee_minor: input.flat_fee_minor,
                    unit_price_minor: input.unit_price_minor,
                    usage_metric: input.usage_metric,
                    included_units: input.included_units,
                    trial_days: input.trial_days,
                    approval_required: input.approval_required,
                    throughput_quota: input.throughput_quota,
                },
            )
            .await
            .map_err(ApiError::from)?
            .into())
    }

    /// Archives a plan: no new subscriptions to it (owners, admins).
    async fn archive_plan(&self, ctx: &Context<'_>, id: Uuid) -> async_graphql::Result<Plan> {
        Ok(service(ctx)?
            .archive_plan(actor(ctx)?, id)
            .await
            .map_err(ApiError::from)?
            .into())
    }
}
