//! The GraphQL schema: one module per domain, merged here.

mod codes;
mod identity;
mod live;
mod streams;

pub use codes::MAX_ALIASES;
pub use live::{CREDENTIAL_CHECK, MAX_SUBSCRIPTIONS_PER_CALLER, MAX_SUBSCRIPTIONS_PER_CONNECTION};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{
    Data, MergedObject, MergedSubscription, Object, Schema, dataloader::DataLoader,
    http::GraphiQLSource,
};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::{
    Extension,
    extract::{State, WebSocketUpgrade},
    http::HeaderMap,
    response::{Html, IntoResponse},
};
use sqlx::PgPool;
use tributary_identity::Identity;

use crate::{AppState, client_addr::ClientAddr};

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
    identity::IdentityQuery,
    streams::StreamsQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(identity::IdentityMutation, streams::StreamsMutation);

#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(identity::IdentitySubscription);

pub type ApiSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Deepest document accepted; deeper ones are refused before execution.
pub const MAX_DEPTH: usize = 12;
/// Highest complexity (fields, weighted by page sizes) accepted.
pub const MAX_COMPLEXITY: usize = 2_000;

/// Builds the schema with its limits. The SDL of this schema is committed as `schema.graphql`.
pub fn build_schema(
    pool: PgPool,
    identity: Identity,
    catalog: tributary_catalog::Catalog,
) -> ApiSchema {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .data(pool)
    // No cache: batching only, so no request ever sees another's stale data.
    .data(DataLoader::new(
        identity::MembersLoader {
            identity: identity.clone(),
        },
        tokio::spawn,
    ))
    .data(DataLoader::new(
        identity::InvitationsLoader {
            identity: identity.clone(),
        },
        tokio::spawn,
    ))
    .data(DataLoader::new(
        identity::ApiTokensLoader {
            identity: identity.clone(),
        },
        tokio::spawn,
    ))
    .data(identity)
    .data(catalog)
    .data(live::CallerSubscriptions::default())
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .extension(codes::ErrorCodes)
    .extension(live::SubscriptionBounds)
    .finish()
}

/// The schema's SDL, as committed in `backend/api/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}

pub(crate) async fn graphql_handler(
    State(state): State<AppState>,
    // Optional, so in-process callers without a socket still work.
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
    request: GraphQLRequest<BadRequest>,
) -> GraphQLResponse {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let client_addr = client.map(|Extension(ClientAddr(ip))| ip.to_string());
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

/// A POST to `/graphql` that is not a GraphQL request (a body that is not JSON, no `query`):
/// `400` with a GraphQL error body coded `BAD_REQUEST`.
pub(crate) struct BadRequest(async_graphql::ParseRequestError);

impl From<async_graphql::ParseRequestError> for BadRequest {
    fn from(value: async_graphql::ParseRequestError) -> Self {
        Self(value)
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> axum::response::Response {
        let (status, message) = match self.0 {
            async_graphql::ParseRequestError::PayloadTooLarge => (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large".to_owned(),
            ),
            other => (
                axum::http::StatusCode::BAD_REQUEST,
                format!("not a GraphQL request: {other}"),
            ),
        };
        let error =
            crate::ErrorCode::BadRequest.stamp(async_graphql::ServerError::new(message, None));
        (
            status,
            axum::Json(async_graphql::Response::from_errors(vec![error])),
        )
            .into_response()
    }
}

pub(crate) async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}

/// GraphQL subscriptions over WebSocket (`graphql-transport-ws`, and the older
/// `graphql-ws`). Clients authenticate in `connection_init`: `{"Authorization": "Bearer …"}`;
/// the subscriptions of a connection are bounded as `live` says.
pub(crate) async fn graphql_ws(
    State(state): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> axum::response::Response {
    let client_addr = client.map(|Extension(ClientAddr(ip))| ip.to_string());
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            let identity = state.identity.clone();
            GraphQLWebSocket::new(stream, state.schema.clone(), protocol)
                .on_connection_init(move |payload| async move {
                    let mut headers = HeaderMap::new();
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|v| v.as_str());
                    if let Some(value) =
                        token.and_then(|t| axum::http::HeaderValue::from_str(t).ok())
                    {
                        headers.insert(axum::http::header::AUTHORIZATION, value);
                    }
                    let context = crate::auth::authenticate(&identity, &headers, None, client_addr)
                        .await
                        .map_err(async_graphql::Error::from)?;
                    let mut data = Data::default();
                    data.insert(context);
                    data.insert(live::ConnectionSubscriptions::default());
                    Ok(data)
                })
                .serve()
        })
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
