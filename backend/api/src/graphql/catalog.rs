//! The public catalog as GraphQL: published, public streams with their provider.

use async_graphql::{
    Context, Object, SimpleObject,
    connection::{Connection, Edge, EmptyFields, OpaqueCursor},
};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::ApiError;

/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: i32 = 100;
const DEFAULT_PAGE_SIZE: i32 = 20;

/// Keyset position in the catalog order (newest first).
type CatalogCursor = OpaqueCursor<(DateTime<Utc>, Uuid)>;

#[derive(SimpleObject, Clone)]
pub struct Provider {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

#[derive(SimpleObject, Clone)]
pub struct Stream {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub topic: String,
    pub status: String,
    pub provider: Provider,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct StreamRow {
    id: Uuid,
    slug: String,
    name: String,
    summary: String,
    topic: String,
    status: String,
    created_at: DateTime<Utc>,
    provider_id: Uuid,
    provider_slug: String,
    provider_name: String,
}

impl From<StreamRow> for Stream {
    fn from(r: StreamRow) -> Self {
        Self {
            id: r.id,
            slug: r.slug,
            name: r.name,
            summary: r.summary,
            topic: r.topic,
            status: r.status,
            created_at: r.created_at,
            provider: Provider {
                id: r.provider_id,
                slug: r.provider_slug,
                name: r.provider_name,
            },
        }
    }
}

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// Published, public streams, newest first (forward Relay pagination).
    #[graphql(
        complexity = "first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(0, MAX_PAGE_SIZE) as usize * child_complexity"
    )]
    async fn catalog(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<CatalogCursor, Stream, EmptyFields, EmptyFields>> {
        let pool = ctx.data::<PgPool>()?;
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(0..=MAX_PAGE_SIZE).contains(&first) {
            return Err(ApiError::validation(
                "first",
                format!("must be between 0 and {MAX_PAGE_SIZE}"),
            )
            .into());
        }
        let after = after
            .map(|c| {
                async_graphql::connection::CursorType::decode_cursor(&c).map_err(|_| {
                    ApiError::validation("after", "is not a cursor returned by this API")
                })
            })
            .transpose()?
            .map(|c: CatalogCursor| c.0);

        let rows: Vec<StreamRow> = sqlx::query_as(
            "select s.id, s.slug, s.name, s.summary, s.topic, s.status, s.created_at,
                    o.id as provider_id, o.slug as provider_slug, o.name as provider_name
               from streams s join organizations o on o.id = s.provider_org_id
              where s.status = 'published' and s.visibility = 'public'
                and ($1::timestamptz is null or (s.created_at, s.id) < ($1, $2))
              order by s.created_at desc, s.id desc
              limit $3",
        )
        .bind(after.map(|(t, _)| t))
        .bind(after.map(|(_, id)| id))
        .bind(i64::from(first) + 1)
        .fetch_all(pool)
        .await
        .map_err(ApiError::from)?;

        let has_next = rows.len() > first as usize;
        let mut connection = Connection::new(after.is_some(), has_next);
        connection.edges.extend(
            rows.into_iter()
                .take(first as usize)
                .map(|r| Edge::new(OpaqueCursor((r.created_at, r.id)), Stream::from(r))),
        );
        Ok(connection)
    }
}
