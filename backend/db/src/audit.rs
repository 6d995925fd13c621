//! The audit trail: one row per change, written in the transaction that makes the change.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// Who did something, and from where.
#[derive(Debug, Clone, Default)]
pub struct AuditActor {
    pub user_id: Option<Uuid>,
    pub api_token_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

/// One audited change.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub org_id: Option<Uuid>,
    /// Dotted verb, e.g. `member.role_changed`.
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Appends an audit event inside the caller's transaction.
pub async fn record(
    conn: &mut PgConnection,
    actor: &AuditActor,
    entry: AuditEntry<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit_events
            (actor_user_id, actor_api_token_id, org_id, action, target_type, target_id, before, after, request_id, client_addr)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(actor.user_id)
    .bind(actor.api_token_id)
    .bind(entry.org_id)
    .bind(entry.action)
    .bind(entry.target_type)
    .bind(entry.target_id)
    .bind(entry.before)
    .bind(entry.after)
    .bind(&actor.request_id)
    .bind(&actor.client_addr)
    .execute(conn)
    .await?;
    Ok(())
}
