use sqlx::PgPool;
use tributary_provisioning::KafkaAdmin;

use crate::{ApiSchema, HttpLimits};

/// Everything a request handler may use. Cheap to clone (all members are handles).
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub kafka: KafkaAdmin,
    pub schema: ApiSchema,
    pub limits: HttpLimits,
    /// Serve the GraphiQL IDE on `GET /graphql` (development).
    pub graphiql: bool,
}

impl AppState {
    pub fn new(pool: PgPool, kafka: KafkaAdmin, limits: HttpLimits, graphiql: bool) -> Self {
        let schema = crate::build_schema(pool.clone());
        Self {
            pool,
            kafka,
            schema,
            limits,
            graphiql,
        }
    }
}
