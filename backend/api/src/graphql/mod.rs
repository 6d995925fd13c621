//! The GraphQL schema: one module per domain, merged here.

mod catalog;
mod identity;

use std::net::SocketAddr;

use async_graphql::{EmptySubscription, MergedObject, Object, Schema, http::GraphiQLSource};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Extension,
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::{Html, IntoResponse},
};
use sqlx::PgPool;
use tributary_identity::Identity;

use crate::AppState;

/// Queries that describe the platform itself.
#[derive(Default)]
pub struct PlatformQuery;

#[Object]
impl PlatformQuery {
    /// The version of the Tributary server answering this request.
    async fn server_version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    PlatformQuery,
    catalog::CatalogQuery,
    identity::IdentityQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(identity::IdentityMutation);

pub type ApiSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Deepest document accepted; deeper ones are refused before execution.
pub const MAX_DEPTH: usize = 12;
/// Highest complexity (fields, weighted by page sizes) accepted.
pub const MAX_COMPLEXITY: usize = 2_000;

/// Builds the schema with its limits. The SDL of this schema is committed as `schema.graphql`.
pub fn build_schema(pool: PgPool, identity: Identity) -> ApiSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .data(pool)
    .data(identity)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .finish()
}

/// The schema's SDL, as committed in `backend/api/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .finish()
    .sdl()
}

pub(crate) async fn graphql_handler(
    State(state): State<AppState>,
    // An extension (not the extractor) so in-process callers without a socket still work.
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> GraphQLResponse {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let client_addr = connect.map(|Extension(ConnectInfo(addr))| addr.ip().to_string());
    match crate::auth::authenticate(&state.identity, &headers, request_id, client_addr).await {
        Ok(context) => state
            .schema
            .execute(request.into_inner().data(context))
            .await
            .into(),
        Err(error) => {
            let error: async_graphql::Error = error.into();
            async_graphql::Response::from_errors(vec![
                error.into_server_error(async_graphql::Pos::default()),
            ])
            .into()
        }
    }
}

pub(crate) async fn graphiql() -> impl IntoResponse {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

#[cfg(test)]
mod tests {
    /// The SDL is an artifact clients depend on: a change must show up in review as a diff.
    #[test]
    fn committed_sdl_matches_the_schema() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
        let current = super::sdl();
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(path, &current).expect("write schema.graphql");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == current,
            "backend/api/schema.graphql is out of date: run `UPDATE_SCHEMA=1 cargo test -p tributary-api` and commit the file"
        );
    }
}
