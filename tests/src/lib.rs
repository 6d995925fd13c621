//! The one test harness. `cargo xtask test` starts the real services and passes their addresses
//! in `TRIBUTARY_TEST_*` variables; every test gets its own database, topics and principals.

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use rdkafka::{
    ClientConfig, ClientContext, Message,
    consumer::{Consumer, ConsumerContext, StreamConsumer},
    error::KafkaError,
    producer::{FutureProducer, FutureRecord},
};
use secrecy::SecretString;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tributary_api::{AppState, HttpLimits};
use tributary_provisioning::{KafkaAdmin, KafkaConfig, SecurityProtocol};

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the integration tests through `cargo xtask test`, which starts PostgreSQL and Kafka")
    })
}

/// A short random suffix for names that must not collide between tests.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// The broker's platform (super user) settings for this test run.
pub fn kafka_config() -> KafkaConfig {
    KafkaConfig {
        bootstrap_servers: var("TRIBUTARY_TEST_KAFKA_BOOTSTRAP"),
        security_protocol: SecurityProtocol::SaslPlaintext,
        username: var("TRIBUTARY_TEST_KAFKA_USERNAME"),
        password: SecretString::from(var("TRIBUTARY_TEST_KAFKA_PASSWORD")),
        ca_location: None,
    }
}

pub fn kafka_admin() -> KafkaAdmin {
    KafkaAdmin::new(&kafka_config(), Duration::from_secs(15)).expect("admin client")
}

/// The `tributary` binary built by `cargo xtask test`.
pub fn tributary_bin() -> PathBuf {
    PathBuf::from(var("TRIBUTARY_TEST_BIN"))
}

/// The portal assets folder (holds `pkg/`).
pub fn site_root() -> PathBuf {
    PathBuf::from(var("TRIBUTARY_TEST_SITE_ROOT"))
}

/// A database of its own, created empty for one test.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates an empty database (no migrations applied).
    pub async fn empty() -> Self {
        let admin_url = var("TRIBUTARY_TEST_DATABASE_URL");
        let name = unique("tt").replace('-', "_");
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .expect("connect to the test PostgreSQL");
        // The name is ours (`tt_` + hex), never user input.
        sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.expect("close");
        let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub async fn pool(&self) -> PgPool {
        PgPool::connect(&self.url)
            .await
            .expect("connect to test database")
    }

    /// Creates a database and applies every migration.
    pub async fn migrated() -> (Self, PgPool) {
        let db = Self::empty().await;
        let pool = db.pool().await;
        tributary_db::migrate(&pool)
            .await
            .expect("migrations apply");
        (db, pool)
    }
}

/// Tributary's router served on an ephemeral port, on a migrated database of its own.
pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub db: TestDb,
    pub http: reqwest::Client,
    stop: CancellationToken,
}

impl TestApp {
    pub async fn spawn() -> Self {
        let (db, pool) = TestDb::migrated().await;
        Self::spawn_with(db, pool, kafka_admin(), HttpLimits::default()).await
    }

    pub async fn spawn_with(
        db: TestDb,
        pool: PgPool,
        kafka: KafkaAdmin,
        limits: HttpLimits,
    ) -> Self {
        let state = AppState::new(pool.clone(), kafka, limits, true);
        let router = tributary_server::router(state, &site_root());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await
                .expect("server runs");
        });
        Self {
            addr,
            pool,
            db,
            http: reqwest::Client::new(),
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a GraphQL document and returns the whole JSON response.
    pub async fn graphql(&self, query: &str, variables: serde_json::Value) -> serde_json::Value {
        self.http
            .post(self.url("/graphql"))
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON body")
    }

    /// Seeds the demo organizations, cluster and streams into this app's database.
    pub async fn seed_demo(&self) {
        tributary_server::demo::seed(&self.pool, &kafka_admin(), &kafka_config())
            .await
            .expect("demo seed");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A client context that keeps every error librdkafka reports (authentication failures arrive
/// only through this callback).
#[derive(Clone, Default)]
pub struct RecordingContext {
    pub errors: Arc<Mutex<Vec<KafkaError>>>,
}

impl ClientContext for RecordingContext {
    fn error(&self, error: KafkaError, _reason: &str) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(error);
        }
    }
}

impl ConsumerContext for RecordingContext {}

impl RecordingContext {
    pub fn errors(&self) -> Vec<KafkaError> {
        self.errors.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

/// What a consumer got before it stopped.
#[derive(Debug)]
pub enum Consumed {
    /// The expected number of message payloads.
    Messages(Vec<String>),
    /// The first error the consumer saw (poll error or client error callback).
    Error(KafkaError),
    /// Neither messages nor an error within the deadline.
    Nothing,
}

/// Consumes `expected` messages of `topic` as `user` in consumer group `group`.
pub async fn consume_as(
    user: &str,
    password: &str,
    topic: &str,
    group: &str,
    expected: usize,
    deadline: Duration,
) -> Consumed {
    let context = RecordingContext::default();
    let consumer: StreamConsumer<RecordingContext> = kafka_config()
        .client_config_as(user, password)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .create_with_context(context.clone())
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut messages = Vec::new();
    let until = tokio::time::Instant::now() + deadline;
    while messages.len() < expected {
        if let Some(error) = context.errors().into_iter().next() {
            return Consumed::Error(error);
        }
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        match tokio::time::timeout(left.min(Duration::from_millis(500)), consumer.recv()).await {
            Ok(Ok(message)) => {
                let payload = message
                    .payload_view::<str>()
                    .and_then(Result::ok)
                    .unwrap_or_default()
                    .to_owned();
                messages.push(payload);
            }
            Ok(Err(error)) => return Consumed::Error(error),
            Err(_) => {}
        }
    }
    if messages.len() >= expected {
        Consumed::Messages(messages)
    } else if let Some(error) = context.errors().into_iter().next() {
        Consumed::Error(error)
    } else {
        Consumed::Nothing
    }
}

/// Produces `payloads` to `topic` as the platform super user, waiting for each acknowledgement.
pub async fn produce(topic: &str, payloads: &[&str]) {
    let producer: FutureProducer = kafka_config().client_config().create().expect("producer");
    for payload in payloads {
        producer
            .send(
                FutureRecord::<str, str>::to(topic).payload(payload),
                Duration::from_secs(10),
            )
            .await
            .expect("delivered");
    }
}

/// Client settings for a SCRAM user of the test broker.
pub fn client_config_as(user: &str, password: &str) -> ClientConfig {
    kafka_config().client_config_as(user, password)
}
