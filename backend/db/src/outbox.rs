//! The transactional outbox: events are stored with the change that caused them and published
//! by relays after commit, so no event is lost and none describes a change that rolled back.

use serde_json::Value;
use sqlx::PgConnection;

/// Event type of a mail the platform must send; the mailer reacts to it.
pub const MAIL_REQUESTED: &str = "mail.requested";

/// Adds an event to the outbox inside the caller's transaction; returns its id.
pub async fn enqueue(
    conn: &mut PgConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    event_type: &str,
    payload: Value,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into outbox (aggregate_type, aggregate_id, event_type, payload) values ($1, $2, $3, $4) returning id",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(event_type)
    .bind(payload)
    .fetch_one(conn)
    .await
}

/// Queues a mail (delivered by the mailer after commit).
pub async fn enqueue_mail(
    conn: &mut PgConnection,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<i64, sqlx::Error> {
    enqueue(
        conn,
        "mail",
        to,
        MAIL_REQUESTED,
        serde_json::json!({ "to": to, "subject": subject, "body": body }),
    )
    .await
}

/// A mail taken from the outbox for delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PendingMail {
    pub outbox_id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Claims up to `batch` undelivered mails inside the caller's transaction. Rows are locked with
/// `FOR UPDATE SKIP LOCKED`, so concurrent mailers never take the same mail.
pub async fn claim_pending_mail(
    conn: &mut PgConnection,
    batch: i64,
) -> Result<Vec<PendingMail>, sqlx::Error> {
    sqlx::query_as(
        "select o.id as outbox_id, o.payload->>'to' as to, o.payload->>'subject' as subject, o.payload->>'body' as body
           from outbox o
          where o.event_type = $1
            and not exists (select 1 from mail_deliveries d where d.outbox_id = o.id)
          order by o.id
          limit $2
          for update of o skip locked",
    )
    .bind(MAIL_REQUESTED)
    .bind(batch)
    .fetch_all(conn)
    .await
}

/// How a claimed mail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailOutcome {
    /// Written to the local mailbox (no SMTP server configured).
    Local,
    /// Accepted by the SMTP server.
    Smtp,
    /// Refused permanently (the error is recorded); never retried.
    Failed,
}

/// Records how a claimed mail ended, in the transaction that claimed it.
pub async fn record_delivery(
    conn: &mut PgConnection,
    mail: &PendingMail,
    outcome: MailOutcome,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    if outcome == MailOutcome::Local {
        sqlx::query("insert into mailbox (outbox_id, to_address, subject, body) values ($1, $2, $3, $4) on conflict (outbox_id) do nothing")
            .bind(mail.outbox_id)
            .bind(&mail.to)
            .bind(&mail.subject)
            .bind(&mail.body)
            .execute(&mut *conn)
            .await?;
    }
    let transport = match outcome {
        MailOutcome::Local => "local",
        MailOutcome::Smtp => "smtp",
        MailOutcome::Failed => "failed",
    };
    sqlx::query("insert into mail_deliveries (outbox_id, transport, error) values ($1, $2, $3) on conflict (outbox_id) do nothing")
        .bind(mail.outbox_id)
        .bind(transport)
        .bind(error)
        .execute(conn)
        .await?;
    Ok(())
}
