//! The outside of Tributary: the GraphQL API, health and readiness. Thin by design: resolvers
//! parse input, call the domain crates and map their errors; business rules live elsewhere.

mod auth;
mod error;
pub mod graphql;
mod health;
pub mod rate_limit;
pub mod registry_auth;
mod state;

use std::time::Duration;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::header::CONTENT_LENGTH,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tower_http::limit::RequestBodyLimitLayer;

pub use auth::{RequestContext, authenticate};
pub use error::{ApiError, ErrorCode};
pub use graphql::{ApiSchema, build_schema, sdl};
pub use health::{Readiness, check_readiness};
pub use state::{AppState, DevFeatures};

/// Limits applied at the HTTP edge.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest accepted request body (GraphQL documents and variables included).
    pub max_body_bytes: usize,
    /// Time budget of each readiness probe dependency check.
    pub readiness_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 256 * 1024,
            readiness_timeout: Duration::from_secs(3),
        }
    }
}

/// The API routes: `/graphql`, `/healthz`, `/readyz`.
pub fn router(state: AppState) -> Router {
    let graphql = if state.dev.graphiql {
        get(graphql::graphiql).post(graphql::graphql_handler)
    } else {
        post(graphql::graphql_handler)
    };
    let mut router = Router::new();
    if state.dev.mailbox {
        router = router.route("/dev/mailbox", get(dev_mailbox));
    }
    router
        .route("/graphql", graphql)
        .route("/graphql/ws", get(graphql::graphql_ws))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/registry/", get(tributary_registry::root))
        .nest(
            "/registry",
            tributary_registry::router(
                state.pool.clone(),
                std::sync::Arc::new(registry_auth::ApiRegistryAuth::new(state.identity.clone())),
                std::sync::Arc::new(registry_auth::CatalogHooks::new(state.catalog.clone())),
            ),
        )
        // Streamed bodies are cut at the limit; declared lengths are refused up front with JSON.
        .layer(RequestBodyLimitLayer::new(state.limits.max_body_bytes))
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.limits.max_body_bytes,
            refuse_large_bodies,
        ))
        .with_state(state)
}

/// Answers `413` with the API's JSON error body when `Content-Length` exceeds the limit.
async fn refuse_large_bodies(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return ApiError::PayloadTooLarge { limit }.into_response();
    }
    next.run(request).await
}

/// The newest mails of the local mailbox (development only).
async fn dev_mailbox(
    State(state): State<AppState>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let rows: Vec<(i64, String, String, String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "select id, to_address, subject, body, created_at from mailbox order by id desc limit 50",
    )
    .fetch_all(&state.pool)
    .await?;
    let mails: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(id, to, subject, body, at)| serde_json::json!({ "id": id, "to": to, "subject": subject, "body": body, "createdAt": at }))
        .collect();
    Ok(axum::Json(serde_json::json!({ "mails": mails })))
}
