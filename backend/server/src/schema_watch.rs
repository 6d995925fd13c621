//! Follows versions registered directly in external schema registries: a stream on a cluster
//! with an external registry learns of a new version within one interval, and its subscribers
//! get `stream.schema_changed` as if it had been registered through Tributary.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tributary_catalog::Catalog;

/// Looks now and then every `interval`, until `token` is cancelled.
pub async fn run(catalog: Catalog, interval: Duration, token: CancellationToken) {
    loop {
        match catalog.follow_external_registries().await {
            Ok(sync) => {
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
            }
            Err(e) => tracing::warn!(error = %e, "following external schema registries failed"),
        }
        tokio::select! {
            () = token.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
