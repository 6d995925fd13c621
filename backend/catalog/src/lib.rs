//! The supply side of the marketplace: Kafka clusters (operator), streams with their topic,
//! schemas and data contract (providers), plans, and the catalog that consumers search.
//!
//! Every mutation runs in one transaction with its audit event and its outbox event (the relay
//! publishes those to `tributary.events`). Broker operations that cannot join a transaction are
//! ordered so a failure leaves nothing behind: the database change is prepared, the broker call
//! made, and the transaction committed only if it succeeded (compensated if the commit fails).

mod clusters;
mod error;
mod index;
pub mod markdown;
mod plans;
mod redact;
mod samples;
mod schemas;
mod search;
mod streams;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tributary_core::SecretBox;
use tributary_identity::Identity;
use tributary_provisioning::KafkaAdmin;
use uuid::Uuid;

pub use clusters::{Cluster, ClusterHealth, ClusterInput, ClusterSummary};
pub use error::CatalogError;
pub use plans::{Plan, PlanInput};
pub use samples::{
    MAX_SAMPLE_READS, MAX_SAMPLES, NOT_DECODABLE, REDACTED, SAMPLE_READ_WAIT, SAMPLE_TTL, Sample,
    SampleReadStats,
};
pub use schemas::{ExternalSync, SchemaVersionView, schema_diff};
pub use search::{Facet, FacetValue, SearchPage, SearchQuery, SearchSort};
pub use streams::{
    CATEGORIES, ContractInput, Stream, StreamDetailsInput, StreamInput, TopicProvision, Visibility,
};

/// Admin clients per cluster, with the `updated_at` of the settings they were made from.
type AdminCache = Arc<Mutex<HashMap<Uuid, (DateTime<Utc>, KafkaAdmin)>>>;

/// External schema registry clients per cluster, with the `updated_at` they were made from.
type RegistryCache = Arc<Mutex<HashMap<Uuid, (DateTime<Utc>, tributary_registry::RemoteRegistry)>>>;

/// The catalog service. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    pool: PgPool,
    identity: Identity,
    secrets: SecretBox,
    admins: AdminCache,
    kafka_timeout: Duration,
    search_index: Arc<search::SearchIndex>,
    registries: RegistryCache,
    samples: Arc<samples::SampleReads>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

impl Catalog {
    pub fn new(
        pool: PgPool,
        identity: Identity,
        secrets: SecretBox,
        kafka_timeout: Duration,
    ) -> Self {
        Self {
            search_index: search::SearchIndex::new(pool.clone()),
            pool,
            identity,
            secrets,
            admins: Arc::default(),
            registries: Arc::default(),
            samples: Arc::default(),
            kafka_timeout,
        }
    }

    /// Commits a catalog write; this process's next search reads it (read your writes).
    pub(crate) async fn commit(
        &self,
        tx: sqlx::Transaction<'static, sqlx::Postgres>,
    ) -> Result<(), CatalogError> {
        tx.commit().await?;
        self.search_index.changed();
        Ok(())
    }
}
