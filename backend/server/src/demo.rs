//! Demo data for the development stack: the operator, a provider with a few streams whose topics
//! a producer keeps feeding, and a consumer. Seeding is idempotent.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tributary_core::TopicName;
use tributary_provisioning::{KafkaAdmin, KafkaAdminError, KafkaConfig, TopicSpec};
use uuid::Uuid;

/// The demo organizations: (slug, name, is_operator).
pub const ORGANIZATIONS: [(&str, &str, bool); 3] = [
    ("tributary", "Tributary Marketplace", true),
    ("northwind-data", "Northwind Data", false),
    ("acme-analytics", "Acme Analytics", false),
];

/// Demo people, one owner per organization: (email, name, organization slug). They sign in with
/// [`DEMO_PASSWORD`]; this exists only in the development stack's demo data.
pub const USERS: [(&str, &str, &str); 3] = [
    ("operator@tributary.example", "Olivia Operator", "tributary"),
    (
        "provider@northwind.example",
        "Nadia Northwind",
        "northwind-data",
    ),
    ("consumer@acme.example", "Carlos Consumer", "acme-analytics"),
];

/// The demo users' password (development stack only).
pub const DEMO_PASSWORD: &str = "tributary-demo-2026";

/// The provider that owns every demo stream.
pub const PROVIDER: &str = "northwind-data";

/// A demo stream: (slug, name, summary, topic).
pub const STREAMS: [(&str, &str, &str, &str); 4] = [
    (
        "retail-orders",
        "Retail orders",
        "Every order placed in Northwind's 140 stores, seconds after checkout.",
        "demo.retail.orders",
    ),
    (
        "payment-events",
        "Payment events",
        "Card authorisations and settlements with merchant category and amount.",
        "demo.payments.events",
    ),
    (
        "fleet-telemetry",
        "Fleet telemetry",
        "Position, speed and fuel level of 60 delivery vans, once per second.",
        "demo.fleet.telemetry",
    ),
    (
        "weather-observations",
        "Weather observations",
        "Temperature, wind and precipitation from 25 city weather stations.",
        "demo.weather.observations",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaAdminError),
    #[error("kafka producer: {0}")]
    Producer(#[from] rdkafka::error::KafkaError),
    #[error("identity: {0}")]
    Identity(String),
    #[error("invalid demo topic: {0}")]
    Name(#[from] tributary_core::NameError),
}

/// Creates (or keeps) the demo organizations, cluster, streams and topics.
pub async fn seed(
    pool: &PgPool,
    kafka: &KafkaAdmin,
    config: &KafkaConfig,
) -> Result<(), DemoError> {
    for (_, _, _, topic) in STREAMS {
        kafka
            .ensure_topic(&TopicSpec {
                name: TopicName::parse(topic)?,
                partitions: 3,
                replication_factor: 1,
                configs: vec![("retention.ms".into(), (7 * 24 * 3600 * 1000).to_string())],
            })
            .await?;
    }

    let mut tx = pool.begin().await?;
    for (slug, name, is_operator) in ORGANIZATIONS {
        sqlx::query(
            "insert into organizations (slug, name, is_operator) values ($1, $2, $3)
             on conflict (slug) do nothing",
        )
        .bind(slug)
        .bind(name)
        .bind(is_operator)
        .execute(&mut *tx)
        .await?;
    }
    let cluster_id: Uuid = sqlx::query_scalar(
        "insert into clusters (name, bootstrap_servers, security_protocol) values ('local', $1, $2)
         on conflict (name) do update set bootstrap_servers = excluded.bootstrap_servers,
                                          security_protocol = excluded.security_protocol
         returning id",
    )
    .bind(&config.bootstrap_servers)
    .bind(config.security_protocol.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let provider_id: Uuid = sqlx::query_scalar("select id from organizations where slug = $1")
        .bind(PROVIDER)
        .fetch_one(&mut *tx)
        .await?;
    for (slug, name, summary, topic) in STREAMS {
        sqlx::query(
            "insert into streams (provider_org_id, cluster_id, slug, name, summary, topic, status, visibility)
             values ($1, $2, $3, $4, $5, $6, 'published', 'public')
             on conflict (provider_org_id, slug) do nothing",
        )
        .bind(provider_id)
        .bind(cluster_id)
        .bind(slug)
        .bind(name)
        .bind(summary)
        .bind(topic)
        .execute(&mut *tx)
        .await?;
    }
    let hash = tributary_identity::hash_password(DEMO_PASSWORD)
        .map_err(|e| DemoError::Identity(e.to_string()))?;
    for (email, name, org) in USERS {
        sqlx::query(
            "insert into users (email, display_name, password_hash, email_verified_at) values ($1, $2, $3, now())
             on conflict (email) do nothing",
        )
        .bind(email)
        .bind(name)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into memberships (org_id, user_id, role)
             select o.id, u.id, 'owner' from organizations o, users u where o.slug = $1 and u.email = $2
             on conflict do nothing",
        )
        .bind(org)
        .bind(email)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    tracing::info!(
        streams = STREAMS.len(),
        users = USERS.len(),
        "demo data seeded"
    );
    Ok(())
}

/// A small deterministic generator; demo values need variety, not cryptographic randomness.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One demo message for `topic`: (key, JSON value).
fn demo_message(topic: &str, seq: u64, rng: &mut SplitMix) -> (String, String) {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    match topic {
        "demo.retail.orders" => {
            let store = rng.below(140) + 1;
            let key = format!("store-{store}");
            let value = serde_json::json!({
                "order_id": format!("ord-{seq}"), "store_id": store, "items": rng.below(8) + 1,
                "total_minor": rng.below(25_000) + 199, "currency": "EUR",
                "customer_email": format!("customer{}@example.com", rng.below(10_000)), "ts": now_ms
            });
            (key, value.to_string())
        }
        "demo.payments.events" => {
            let merchant = rng.below(500);
            let mcc = [5411, 5812, 5999, 4111][rng.below(4) as usize];
            let value = serde_json::json!({
                "payment_id": format!("pay-{seq}"), "merchant_id": merchant,
                "mcc": mcc,
                "kind": if rng.below(5) == 0 { "settlement" } else { "authorisation" },
                "amount_minor": rng.below(50_000) + 50, "currency": "EUR", "ts": now_ms
            });
            (format!("merchant-{merchant}"), value.to_string())
        }
        "demo.fleet.telemetry" => {
            let van = rng.below(60) + 1;
            let value = serde_json::json!({
                "van_id": format!("van-{van:02}"),
                "lat_micro": 52_370_000 + rng.below(40_000), "lon_micro": 4_890_000 + rng.below(40_000),
                "speed_kmh": rng.below(90), "fuel_pct": rng.below(100), "ts": now_ms
            });
            (format!("van-{van:02}"), value.to_string())
        }
        _ => {
            let station = rng.below(25) + 1;
            let value = serde_json::json!({
                "station_id": format!("wx-{station:02}"), "temp_decicelsius": rng.below(350) as i64 - 50,
                "wind_kmh": rng.below(80), "precip_tenth_mm": rng.below(30), "ts": now_ms
            });
            (format!("wx-{station:02}"), value.to_string())
        }
    }
}

/// Produces a message to every demo topic each `interval` until `token` is cancelled.
pub async fn produce(
    config: &KafkaConfig,
    interval: Duration,
    token: CancellationToken,
) -> Result<u64, DemoError> {
    let producer: FutureProducer = config
        .client_config()
        .set("linger.ms", "20")
        .set("message.timeout.ms", "10000")
        .create()?;
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(42);
    let mut rng = SplitMix(seed);
    let mut seq = 0u64;
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            () = token.cancelled() => break,
            _ = ticker.tick() => {}
        }
        for (_, _, _, topic) in STREAMS {
            seq += 1;
            let (key, value) = demo_message(topic, seq, &mut rng);
            let record = FutureRecord::to(topic).key(&key).payload(&value);
            if let Err((e, _)) = producer.send(record, Duration::from_secs(5)).await {
                tracing::warn!(topic, error = %e, "demo message not delivered");
            }
        }
        if seq.is_multiple_of(400) {
            tracing::info!(messages = seq, "demo producer running");
        }
    }
    tracing::info!(messages = seq, "demo producer stopped");
    Ok(seq)
}
