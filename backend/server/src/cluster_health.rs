//! Periodic health checks of every registered cluster (results are visible in the API/portal).

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tributary_catalog::Catalog;

/// Checks every cluster now and then every `interval`, until `token` is cancelled.
pub async fn run(catalog: Catalog, interval: Duration, token: CancellationToken) {
    loop {
        match catalog.check_all_clusters().await {
            Ok(clusters) => {
                for c in clusters.iter().filter(|c| c.health.status != "healthy") {
                    tracing::warn!(cluster = %c.name, message = %c.health.message, "cluster unhealthy");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cluster health checks failed"),
        }
        tokio::select! {
            () = token.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
