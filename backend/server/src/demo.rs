//! Demo data for the development stack: the operator, a provider with a few streams whose topics
//! a producer keeps feeding, and a consumer. Seeding is idempotent.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::producer::{FutureProducer, FutureRecord};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tributary_catalog::{
    Catalog, CatalogError, ClusterInput, ContractInput, PlanInput, StreamDetailsInput, StreamInput,
    TopicProvision,
};
use tributary_identity::{Actor, Principal};
use tributary_provisioning::{KafkaAdminError, KafkaConfig};
use tributary_registry::{SchemaInput, SchemaType};
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
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
}

/// Per demo topic: (category, tags, description, value JSON Schema, PII fields).
fn listing(
    topic: &str,
) -> (
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static [&'static str],
) {
    match topic {
        "demo.retail.orders" => (
            "retail",
            &["orders", "ecommerce", "eu"],
            "# Retail orders\n\nEvery order placed in Northwind's **140 stores**, published seconds after checkout.\n\n- keyed by store\n- amounts in minor units (`total_minor`)\n- customer e-mail is classified as **PII** and redacted from samples\n",
            r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"RetailOrder","type":"object","properties":{"order_id":{"type":"string"},"store_id":{"type":"integer"},"items":{"type":"integer"},"total_minor":{"type":"integer"},"currency":{"type":"string"},"customer_email":{"type":"string"},"ts":{"type":"integer"}},"required":["order_id","store_id","total_minor","currency","ts"]}"#,
            &["customer_email"],
        ),
        "demo.payments.events" => (
            "finance",
            &["payments", "cards", "eu"],
            "# Payment events\n\nCard authorisations and settlements with merchant category code (MCC) and amount in minor units.\n",
            r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"PaymentEvent","type":"object","properties":{"payment_id":{"type":"string"},"merchant_id":{"type":"integer"},"mcc":{"type":"integer"},"kind":{"type":"string","enum":["authorisation","settlement"]},"amount_minor":{"type":"integer"},"currency":{"type":"string"},"ts":{"type":"integer"}},"required":["payment_id","merchant_id","kind","amount_minor","currency","ts"]}"#,
            &[],
        ),
        "demo.fleet.telemetry" => (
            "mobility",
            &["telemetry", "gps", "vehicles"],
            "# Fleet telemetry\n\nPosition (micro-degrees), speed and fuel level of 60 delivery vans, once per second.\n",
            r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"VanTelemetry","type":"object","properties":{"van_id":{"type":"string"},"lat_micro":{"type":"integer"},"lon_micro":{"type":"integer"},"speed_kmh":{"type":"integer"},"fuel_pct":{"type":"integer"},"ts":{"type":"integer"}},"required":["van_id","lat_micro","lon_micro","ts"]}"#,
            &[],
        ),
        _ => (
            "weather",
            &["weather", "sensors", "cities"],
            "# Weather observations\n\nTemperature (tenths of a degree), wind and precipitation from 25 city weather stations.\n",
            r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"WeatherObservation","type":"object","properties":{"station_id":{"type":"string"},"temp_decicelsius":{"type":"integer"},"wind_kmh":{"type":"integer"},"precip_tenth_mm":{"type":"integer"},"ts":{"type":"integer"}},"required":["station_id","temp_decicelsius","ts"]}"#,
            &[],
        ),
    }
}

/// A seeding step that may have been done by an earlier run.
fn done<T>(result: Result<T, CatalogError>) -> Result<(), CatalogError> {
    match result {
        Ok(_) | Err(CatalogError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates (or keeps) the demo organizations, users, cluster and published streams (topic,
/// schema, contract, plans), through the same services the API uses.
pub async fn seed(pool: &PgPool, catalog: &Catalog, config: &KafkaConfig) -> Result<(), DemoError> {
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

    let cluster = catalog
        .ensure_cluster_system(ClusterInput {
            name: "local".into(),
            region: "dev".into(),
            bootstrap_servers: config.bootstrap_servers.clone(),
            security_protocol: config.security_protocol.as_str().into(),
            sasl_username: config.username.clone(),
            sasl_password: Some(config.password.expose_secret().to_owned()),
            ca_pem: None,
            ..Default::default()
        })
        .await?;
    let actor_of = |user: Uuid| Actor {
        principal: Principal::User {
            id: user,
            session: Uuid::nil(),
        },
        request_id: Some("demo-seed".into()),
        client_addr: None,
    };
    let user_id = |email: &'static str| async move {
        sqlx::query_scalar::<_, Uuid>("select id from users where email = $1")
            .bind(email)
            .fetch_one(pool)
            .await
    };
    let operator = actor_of(user_id(USERS[0].0).await?);
    let provider = actor_of(user_id(USERS[1].0).await?);
    let provider_org: Uuid = sqlx::query_scalar("select id from organizations where slug = $1")
        .bind(PROVIDER)
        .fetch_one(pool)
        .await?;
    catalog
        .grant_topic_prefix(&operator, cluster.id, provider_org, "demo.")
        .await?;

    for (slug, name, summary, topic) in STREAMS {
        // Resumable: a stream from an earlier (or interrupted) seed gets whatever it still lacks;
        // a step that is done already answers CONFLICT, which is fine here.
        let existing: Option<Uuid> =
            sqlx::query_scalar("select id from streams where provider_org_id = $1 and slug = $2")
                .bind(provider_org)
                .bind(slug)
                .fetch_optional(pool)
                .await?;
        let (category, tags, description, schema, pii) = listing(topic);
        let details = StreamDetailsInput {
            summary: Some(summary.into()),
            description_md: Some(description.into()),
            category: Some(category.into()),
            tags: Some(tags.iter().map(|t| (*t).to_owned()).collect()),
            visibility: Some("public".into()),
            ..StreamDetailsInput::default()
        };
        let id = match existing {
            Some(id) => {
                catalog.update_stream(&provider, id, details).await?;
                id
            }
            None => {
                catalog
                    .create_stream(
                        &provider,
                        provider_org,
                        StreamInput {
                            cluster_id: cluster.id,
                            name: name.into(),
                            slug: Some(slug.into()),
                            topic: topic.into(),
                            details,
                        },
                    )
                    .await?
                    .id
            }
        };
        let create = TopicProvision::Create {
            partitions: 3,
            retention_ms: 7 * 24 * 3600 * 1000,
            cleanup_policy: "delete".into(),
        };
        // The topic may exist from an earlier stack (or a parallel test): adopt it then.
        match catalog.provision_topic(&provider, id, create).await {
            Err(CatalogError::Conflict(_)) => {
                done(
                    catalog
                        .provision_topic(&provider, id, TopicProvision::Adopt)
                        .await,
                )?;
            }
            other => done(other)?,
        }
        catalog
            .register_schema(
                &provider,
                id,
                false,
                SchemaInput {
                    schema_type: SchemaType::Json,
                    schema: schema.into(),
                    references: Vec::new(),
                },
            )
            .await?;
        catalog
            .set_contract(
                &provider,
                id,
                ContractInput {
                    compatibility: "BACKWARD".into(),
                    replay_window_hours: Some(168),
                    freshness_slo_seconds: Some(5),
                    throughput_slo_per_sec: Some(50),
                    field_classifications: pii
                        .iter()
                        .map(|f| ((*f).to_owned(), "pii".to_owned()))
                        .collect(),
                    terms: "Demo data, free to use for evaluation.".into(),
                },
            )
            .await?;
        done(
            catalog
                .create_plan(
                    &provider,
                    id,
                    PlanInput {
                        name: "Free tier".into(),
                        pricing_model: "free".into(),
                        currency: "eur".into(),
                        included_units: 1_000_000,
                        ..PlanInput::default()
                    },
                )
                .await,
        )?;
        done(
            catalog
                .create_plan(
                    &provider,
                    id,
                    PlanInput {
                        name: "Pay as you go".into(),
                        pricing_model: "usage".into(),
                        currency: "eur".into(),
                        unit_price_minor: 250,
                        usage_metric: "messages".into(),
                        approval_required: slug == "payment-events",
                        ..PlanInput::default()
                    },
                )
                .await,
        )?;
        done(catalog.publish_stream(&provider, id).await)?;
    }
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
    pool: &PgPool,
    config: &KafkaConfig,
    interval: Duration,
    token: CancellationToken,
) -> Result<u64, DemoError> {
    // Values carry the Confluent framing (magic byte + schema id) of each stream's registered
    // value schema, as a serializer would write them; unregistered topics get plain JSON.
    let mut schema_ids = std::collections::HashMap::new();
    for (_, _, _, topic) in STREAMS {
        let mut conn = pool.acquire().await?;
        if let Ok(v) = tributary_registry::latest(&mut conn, &format!("{topic}-value")).await {
            schema_ids.insert(topic, v.id);
        }
    }
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
            let mut payload = Vec::with_capacity(value.len() + 5);
            if let Some(id) = schema_ids.get(topic) {
                payload.push(0u8);
                payload.extend_from_slice(&id.to_be_bytes());
            }
            payload.extend_from_slice(value.as_bytes());
            let record = FutureRecord::to(topic).key(&key).payload(&payload);
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
