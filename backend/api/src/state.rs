use sqlx::PgPool;
use tributary_catalog::Catalog;
use tributary_identity::Identity;
use tributary_provisioning::KafkaAdmin;

use crate::{ApiSchema, HttpLimits};

/// Everything a request handler may use. Cheap to clone (all members are handles).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub kafka: KafkaAdmin,
    pub identity: Identity,
    pub catalog: Catalog,
    pub schema: ApiSchema,
    pub limits: HttpLimits,
    pub dev: DevFeatures,
}

/// Development conveniences, off by default.
#[derive(Debug, Clone, Copy, Default)]
pub struct DevFeatures {
    /// Serve the GraphiQL IDE on `GET /graphql`.
    pub graphiql: bool,
    /// Serve the local mailbox (mail that no SMTP server took) on `GET /dev/mailbox`.
    pub mailbox: bool,
}

impl AppState {
    pub fn new(
        pool: PgPool,
        kafka: KafkaAdmin,
        identity: Identity,
        catalog: Catalog,
        limits: HttpLimits,
        dev: DevFeatures,
    ) -> Self {
        let schema = crate::build_schema(pool.clone(), identity.clone(), catalog.clone());
        Self {
            pool,
            kafka,
            identity,
            catalog,
            schema,
            limits,
            dev,
        }
    }
}
