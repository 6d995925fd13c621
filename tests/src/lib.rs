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
use tributary_api::{AppState, DevFeatures, HttpLimits};
use tributary_identity::{Identity, JwtConfig, JwtKeys};
use tributary_provisioning::{KafkaAdmin, KafkaConfig, SecurityProtocol};
use tributary_server::mailer::MailTransport;

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

/// The keys sealing secrets at rest in tests (fixed: test data is not secret).
pub fn secret_box() -> tributary_core::SecretBox {
    tributary_core::SecretBox::parse("test=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
        .expect("test key")
}

/// The broker's platform (super user) settings for this test run.
pub fn kafka_config() -> KafkaConfig {
    KafkaConfig {
        bootstrap_servers: var("TRIBUTARY_TEST_KAFKA_BOOTSTRAP"),
        security_protocol: SecurityProtocol::SaslPlaintext,
        username: var("TRIBUTARY_TEST_KAFKA_USERNAME"),
        password: SecretString::from(var("TRIBUTARY_TEST_KAFKA_PASSWORD")),
        ca_location: None,
        ca_pem: None,
    }
}

/// The same broker's SASL_SSL listener, with the CA bundle that signed its certificate and one
/// that did not (PEM text).
pub struct KafkaTls {
    pub bootstrap_servers: String,
    pub ca_pem: String,
    pub other_ca_pem: String,
}

pub fn kafka_tls() -> KafkaTls {
    let read = |name: &str| {
        let path = var(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name} ({path}): {e}"))
    };
    KafkaTls {
        bootstrap_servers: var("TRIBUTARY_TEST_KAFKA_TLS_BOOTSTRAP"),
        ca_pem: read("TRIBUTARY_TEST_KAFKA_CA_PEM"),
        other_ca_pem: read("TRIBUTARY_TEST_KAFKA_OTHER_CA_PEM"),
    }
}

/// Base URL of the external Confluent-compatible registry `cargo xtask test` starts (Apicurio
/// Registry's `ccompat` API).
pub fn external_registry_url() -> String {
    var("TRIBUTARY_TEST_EXTERNAL_REGISTRY_URL")
}

pub fn kafka_admin() -> KafkaAdmin {
    KafkaAdmin::new(&kafka_config(), Duration::from_secs(15)).expect("admin client")
}

/// The JWT signing key tests use (also given to the binary in its environment).
pub const JWT_KEYS: &str = "test-1=tributary-test-signing-key-0123456789abcdef";

pub fn jwt_config() -> JwtConfig {
    JwtConfig {
        keys: JwtKeys::parse(JWT_KEYS).expect("test keys"),
        issuer: "tributary".into(),
        audience: "tributary-api".into(),
        access_ttl: Duration::from_secs(900),
        refresh_ttl: Duration::from_secs(86_400),
    }
}

/// The password of users made by [`TestApp::user`].
pub const TEST_PASSWORD: &str = "correct horse battery staple";

/// The `tributary` binary built by `cargo xtask test`.
pub fn tributary_bin() -> PathBuf {
    PathBuf::from(var("TRIBUTARY_TEST_BIN"))
}

/// The folder where the test run's SMTP server stores what it receives (a maildir).
pub fn smtp_maildir() -> PathBuf {
    PathBuf::from(var("TRIBUTARY_TEST_MAILDIR"))
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
        // Every test and bench starts here; their HTTP clients need a TLS crypto provider.
        tributary_registry::install_crypto_provider();
        let admin_url = var("TRIBUTARY_TEST_DATABASE_URL");
        // `tt_<unix seconds>_<random>`: `cargo xtask test` drops leftovers older than an hour.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let name = format!(
            "tt_{now}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
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
    pub catalog: tributary_catalog::Catalog,
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
        Self::spawn_full(db, pool, kafka, limits, MailTransport::LocalMailbox).await
    }

    /// An app whose mail goes to the test run's SMTP server (a real one, `aiosmtpd`).
    pub async fn spawn_with_smtp() -> Self {
        let (db, pool) = TestDb::migrated().await;
        let mail = MailTransport::smtp(
            &var("TRIBUTARY_TEST_SMTP_URL"),
            "Tributary Tests <no-reply@tributary.test>",
        )
        .expect("SMTP transport");
        Self::spawn_full(db, pool, kafka_admin(), HttpLimits::default(), mail).await
    }

    async fn spawn_full(
        db: TestDb,
        pool: PgPool,
        kafka: KafkaAdmin,
        limits: HttpLimits,
        mail: MailTransport,
    ) -> Self {
        let identity = Identity::new(pool.clone(), jwt_config(), "http://portal.test".into());
        let dev = DevFeatures {
            graphiql: true,
            mailbox: true,
        };
        let catalog = tributary_catalog::Catalog::new(
            pool.clone(),
            identity.clone(),
            secret_box(),
            Duration::from_secs(10),
        );
        let state = AppState::new(pool.clone(), kafka, identity, catalog.clone(), limits, dev);
        let router = tributary_server::router(state, &site_root());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(tributary_server::mailer::run(
            pool.clone(),
            mail,
            stop.clone(),
        ));
        tokio::spawn(tributary_server::relay::run(
            pool.clone(),
            kafka_config(),
            Duration::from_secs(10),
            stop.clone(),
        ));
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { token.cancelled().await })
            .await
            .expect("server runs");
        });
        Self {
            addr,
            pool,
            catalog,
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

    /// POSTs a GraphQL document with `Authorization: Bearer <token>`.
    pub async fn graphql_as(
        &self,
        token: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> serde_json::Value {
        self.http
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON body")
    }

    /// Waits for the mailer to deliver a mail to `to` whose subject contains `subject`; returns its body.
    pub async fn mail_to(&self, to: &str, subject: &str) -> String {
        for _ in 0..100 {
            let body: Option<String> = sqlx::query_scalar(
                "select body from mailbox where to_address = $1 and subject like '%' || $2 || '%' order by id desc limit 1",
            )
            .bind(to)
            .bind(subject)
            .fetch_optional(&self.pool)
            .await
            .expect("mailbox");
            if let Some(body) = body {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail to {to} about {subject:?}");
    }

    /// Creates a verified user directly (fast path for tests that are not about sign-up).
    pub async fn user(&self, email: &str) -> uuid::Uuid {
        static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let hash =
            HASH.get_or_init(|| tributary_identity::hash_password(TEST_PASSWORD).expect("hash"));
        sqlx::query_scalar(
            "insert into users (email, display_name, password_hash, email_verified_at) values ($1, $1, $2, now()) returning id",
        )
        .bind(email)
        .bind(hash)
        .fetch_one(&self.pool)
        .await
        .expect("insert user")
    }

    /// An organization with `members` (email, role); returns its id and the members' ids.
    pub async fn org_with(
        &self,
        slug: &str,
        members: &[(uuid::Uuid, &str)],
        operator: bool,
    ) -> uuid::Uuid {
        let org: uuid::Uuid = sqlx::query_scalar(
            "insert into organizations (slug, name, is_operator) values ($1, $1, $2) returning id",
        )
        .bind(slug)
        .bind(operator)
        .fetch_one(&self.pool)
        .await
        .expect("insert org");
        for (user, role) in members {
            sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, $3)")
                .bind(org)
                .bind(user)
                .bind(role)
                .execute(&self.pool)
                .await
                .expect("insert membership");
        }
        org
    }

    /// Signs a user in without a password round trip: a live session and its access token.
    pub async fn token_for(&self, user: uuid::Uuid) -> String {
        let family = uuid::Uuid::new_v4();
        sqlx::query(
            "insert into refresh_tokens (family_id, user_id, token_hash, expires_at) values ($1, $2, $3, now() + interval '1 day')",
        )
        .bind(family)
        .bind(user)
        .bind(uuid::Uuid::new_v4().as_bytes().to_vec())
        .execute(&self.pool)
        .await
        .expect("session");
        jwt_config().issue(user, family).expect("issue").0
    }

    /// Registers this run's broker as a cluster (unique name) with the platform credentials.
    pub async fn cluster(&self) -> uuid::Uuid {
        let kafka = kafka_config();
        self.catalog
            .ensure_cluster_system(tributary_catalog::ClusterInput {
                name: unique("cluster"),
                region: "test".into(),
                bootstrap_servers: kafka.bootstrap_servers.clone(),
                security_protocol: kafka.security_protocol.as_str().into(),
                sasl_username: kafka.username.clone(),
                sasl_password: Some(
                    secrecy::ExposeSecret::expose_secret(&kafka.password).to_owned(),
                ),
                ca_pem: None,
                ..Default::default()
            })
            .await
            .expect("cluster")
            .id
    }

    /// Reads `tributary.events` until `count` events of `aggregate_id` arrived (or the deadline);
    /// answers the decoded envelopes in arrival order.
    pub async fn events_of(&self, aggregate_id: &str, count: usize) -> Vec<serde_json::Value> {
        events_of(aggregate_id, count, Duration::from_secs(30)).await
    }

    /// Seeds the demo organizations, cluster and streams into this app's database.
    pub async fn seed_demo(&self) {
        tributary_server::demo::seed(&self.pool, &self.catalog, &kafka_config())
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

/// Reads `tributary.events` from the beginning until `count` events keyed `aggregate_id` arrived
/// or `deadline` passed. Values are in the Confluent wire format: magic byte 0, a 4-byte schema
/// id, then the JSON envelope.
pub async fn events_of(
    aggregate_id: &str,
    count: usize,
    deadline: Duration,
) -> Vec<serde_json::Value> {
    let consumer: StreamConsumer = kafka_config()
        .client_config()
        .set("group.id", unique("events-reader"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer
        .subscribe(&["tributary.events"])
        .expect("subscribe");
    let mut events = Vec::new();
    let until = tokio::time::Instant::now() + deadline;
    while events.len() < count {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        if let Ok(Ok(message)) =
            tokio::time::timeout(left.min(Duration::from_millis(500)), consumer.recv()).await
        {
            if message.key() != Some(aggregate_id.as_bytes()) {
                continue;
            }
            let payload = message.payload().unwrap_or_default();
            assert!(
                payload.len() > 5 && payload[0] == 0,
                "event not in the wire format: {payload:?}"
            );
            let mut envelope: serde_json::Value =
                serde_json::from_slice(&payload[5..]).expect("JSON envelope");
            envelope["_schemaId"] = serde_json::json!(i32::from_be_bytes([
                payload[1], payload[2], payload[3], payload[4]
            ]));
            events.push(envelope);
        }
    }
    events
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
