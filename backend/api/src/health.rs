//! Liveness (`/healthz`: the process serves requests) and readiness (`/readyz`: its dependencies
//! answer and the schema is the one this binary expects).

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use tributary_provisioning::KafkaAdmin;

use crate::AppState;

pub(crate) async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// One dependency's state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

/// The readiness report served by `/readyz`.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub postgres: Check,
    pub kafka: Check,
    pub migrations: Check,
}

async fn within<T, E: std::fmt::Display>(
    timeout: Duration,
    fut: impl Future<Output = Result<T, E>>,
    ok: impl FnOnce(T) -> String,
) -> Check {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(value)) => Check {
            ok: true,
            detail: ok(value),
        },
        Ok(Err(e)) => Check {
            ok: false,
            detail: e.to_string(),
        },
        Err(_) => Check {
            ok: false,
            detail: format!("no answer within {} ms", timeout.as_millis()),
        },
    }
}

/// Checks PostgreSQL, Kafka and the migrations concurrently, each within `timeout`.
pub async fn check_readiness(pool: &PgPool, kafka: &KafkaAdmin, timeout: Duration) -> Readiness {
    let postgres = within(
        timeout,
        sqlx::query_scalar::<_, i32>("select 1").fetch_one(pool),
        |_| "ok".to_owned(),
    );
    let kafka = within(timeout, kafka.cluster_info(), |info| {
        format!("{} broker(s)", info.broker_count)
    });
    let migrations = within(
        timeout,
        async {
            match tributary_db::migration_status(pool).await {
                Ok(status) if status.is_current() => Ok(status),
                Ok(status) => Err(status.to_string()),
                Err(e) => Err(e.to_string()),
            }
        },
        |status| status.to_string(),
    );
    let (postgres, kafka, migrations) = tokio::join!(postgres, kafka, migrations);
    Readiness {
        ready: postgres.ok && kafka.ok && migrations.ok,
        postgres,
        kafka,
        migrations,
    }
}

pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let report = check_readiness(&state.pool, &state.kafka, state.limits.readiness_timeout).await;
    let status = if report.ready {
        StatusCode::OK
    } else {
        tracing::warn!(?report, "not ready");
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report))
}
