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

/// Delivers queued mail into the local mailbox (used when no SMTP server is configured).
/// Rows are claimed with `FOR UPDATE SKIP LOCKED`, so several workers share the work, and the
/// mailbox's unique `outbox_id` makes a redelivery after a crash a no-op. Returns how many
/// mails were delivered.
pub async fn deliver_mail_to_mailbox(pool: &sqlx::PgPool, batch: i64) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let delivered = sqlx::query(
        "with pending as (
             select o.id, o.payload from outbox o
              where o.event_type = $1
                and not exists (select 1 from mailbox m where m.outbox_id = o.id)
              order by o.id
              limit $2
              for update skip locked
         )
         insert into mailbox (outbox_id, to_address, subject, body)
         select id, payload->>'to', payload->>'subject', payload->>'body' from pending
         on conflict (outbox_id) do nothing",
    )
    .bind(MAIL_REQUESTED)
    .bind(batch)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(delivered)
}
