//! The mailer: delivers mail queued in the outbox after the transactions that queued it commit.
//! With `TRIBUTARY_SMTP_URL` it sends through that SMTP server; without, it delivers into the
//! local mailbox (`GET /dev/mailbox`, tests). Each mail is claimed with a row lock and recorded
//! in the same transaction, so several mailers never send the same mail; a crash between the
//! SMTP hand-off and the commit re-sends it (at least once), with a stable Message-ID derived
//! from the outbox row so receivers can drop the copy.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tributary_db::outbox::{self, MailOutcome, PendingMail};

/// How often the outbox is checked for new mail.
const POLL: Duration = Duration::from_millis(250);
const BATCH: i64 = 50;

/// Where mail goes.
#[derive(Clone)]
pub enum MailTransport {
    /// The `mailbox` table (development and tests).
    LocalMailbox,
    /// Boxed: the transport is large and the enum is cloned into every mailer task.
    Smtp(Box<SmtpTarget>),
}

/// An SMTP server and the sender address used for every mail.
#[derive(Clone)]
pub struct SmtpTarget {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for MailTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::LocalMailbox => f.write_str("LocalMailbox"),
            Self::Smtp(target) => write!(f, "Smtp(from {})", target.from),
        }
    }
}

impl MailTransport {
    /// An SMTP transport from a URL such as `smtp://user:pass@host:587?tls=required` or
    /// `smtps://host:465`; the error names what is wrong (never the password).
    pub fn smtp(url: &str, from: &str) -> Result<Self, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("sender address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("SMTP URL: {e}"))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self::Smtp(Box::new(SmtpTarget { transport, from })))
    }
}

/// Why one mail was not sent.
enum SendError {
    /// Worth retrying later (connection refused, timeouts, 4xx).
    Transient(String),
    /// Never going to work (bad address, 5xx).
    Permanent(String),
}

async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    mail: &PendingMail,
) -> Result<(), SendError> {
    let to: Mailbox = mail
        .to
        .parse()
        .map_err(|e| SendError::Permanent(format!("recipient: {e}")))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .message_id(Some(format!("<outbox-{}@tributary>", mail.outbox_id)))
        .header(ContentType::TEXT_PLAIN)
        .body(mail.body.clone())
        .map_err(|e| SendError::Permanent(e.to_string()))?;
    transport.send(message).await.map(|_| ()).map_err(|e| {
        if e.is_permanent() {
            SendError::Permanent(e.to_string())
        } else {
            SendError::Transient(e.to_string())
        }
    })
}

/// Delivers one batch; returns how many mails were handled.
pub async fn deliver_batch(pool: &PgPool, transport: &MailTransport) -> Result<usize, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mails = outbox::claim_pending_mail(&mut tx, BATCH).await?;
    let mut handled = 0;
    for mail in &mails {
        match transport {
            MailTransport::LocalMailbox => {
                outbox::record_delivery(&mut tx, mail, MailOutcome::Local, None).await?;
                handled += 1;
            }
            MailTransport::Smtp(target) => {
                match send(&target.transport, &target.from, mail).await {
                    Ok(()) => {
                        outbox::record_delivery(&mut tx, mail, MailOutcome::Smtp, None).await?;
                        handled += 1;
                    }
                    Err(SendError::Permanent(error)) => {
                        tracing::warn!(outbox_id = mail.outbox_id, %error, "mail refused permanently; not retried");
                        outbox::record_delivery(&mut tx, mail, MailOutcome::Failed, Some(&error))
                            .await?;
                        handled += 1;
                    }
                    Err(SendError::Transient(error)) => {
                        // Keep what was delivered so far; the rest stays queued for the next tick.
                        tracing::warn!(outbox_id = mail.outbox_id, %error, "SMTP unavailable; will retry");
                        break;
                    }
                }
            }
        }
    }
    tx.commit().await?;
    Ok(handled)
}

/// Runs until `token` is cancelled; errors are logged and retried on the next tick.
pub async fn run(pool: PgPool, transport: MailTransport, token: CancellationToken) {
    tracing::info!(?transport, "mailer started");
    loop {
        match deliver_batch(&pool, &transport).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(handled = n, "mail delivered"),
            Err(e) => tracing::warn!(error = %e, "mail delivery failed; retrying"),
        }
        tokio::select! {
            () = token.cancelled() => break,
            () = tokio::time::sleep(POLL) => {}
        }
    }
    tracing::info!("mailer stopped");
}
