//! The mailer: delivers mail queued in the outbox after the transactions that queued it commit.
//! Without an SMTP server it delivers into the local mailbox (`GET /dev/mailbox`, tests).

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How often the outbox is checked for new mail.
const POLL: Duration = Duration::from_millis(250);

/// Runs until `token` is cancelled; errors are logged and retried on the next tick.
pub async fn run(pool: PgPool, token: CancellationToken) {
    tracing::info!("mailer started (local mailbox)");
    loop {
        match tributary_db::outbox::deliver_mail_to_mailbox(&pool, 100).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(delivered = n, "mail delivered to the local mailbox"),
            Err(e) => tracing::warn!(error = %e, "mail delivery failed; retrying"),
        }
        tokio::select! {
            () = token.cancelled() => break,
            () = tokio::time::sleep(POLL) => {}
        }
    }
    tracing::info!("mailer stopped");
}
