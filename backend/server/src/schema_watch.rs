//! Follows versions registered directly in external schema registries: a stream on a cluster
//! with an external registry learns of a new version within one interval, and its subscribers
//! get `stream.schema_changed` as if it had been registered through Tributary.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tributary_catalog::Catalog;

/// Advisory lock that makes one replica look per round (any 64-bit constant unique to us):
/// every replica would otherwise ask every external registry the same questions.
const WATCH_LOCK: i64 = 0x7472_6962_7363_6877; // "tribschw"

/// Looks now and then every `interval`, until `token` is cancelled.
pub async fn run(catalog: Catalog, pool: PgPool, interval: Duration, token: CancellationToken) {
    loop {
        if let Err(e) = look(&catalog, &pool).await {
            tracing::warn!(error = %e, "following external schema registries failed");
        }
        tokio::select! {
            () = token.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// One round, if no other replica is doing one (the lock lives as long as the transaction).
async fn look(catalog: &Catalog, pool: &PgPool) -> Result<(), Box<dyn std::error::Error>> {
    let mut lock = pool.begin().await?;
    let leader: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
        .bind(WATCH_LOCK)
        .fetch_one(&mut *lock)
        .await?;
    if !leader {
        return Ok(());
    }
    let sync = catalog.follow_external_registries().await?;
    lock.rollback().await?;
    if sync.followed > 0 || sync.baselined > 0 {
        tracing::info!(
            followed = sync.followed,
            baselined = sync.baselined,
            "schema versions registered in external registries followed"
        );
    }
    for (what, reason) in &sync.failed {
        tracing::warn!(%what, %reason, "external schema registry not followed");
    }
    Ok(())
}
