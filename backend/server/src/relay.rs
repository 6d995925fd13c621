//! The outbox relay: publishes committed outbox rows to the Kafka topic `tributary.events`,
//! keyed by aggregate id, as JSON in the Confluent wire format (magic byte, schema id of the
//! registered `tributary.events-value` JSON Schema, document).
//!
//! Guarantees:
//! - **At least once, never lost.** A row is marked published only after the broker acknowledged
//!   it (`acks=all`), in the transaction that holds its row lock. A relay that dies at any point
//!   leaves the row unpublished, and the next relay sends it again.
//! - **In order per aggregate.** One relay is active at a time (a transaction-scoped advisory
//!   lock; other replicas wait), rows are sent in id order, the key pins an aggregate to one
//!   partition, and the idempotent producer keeps order across its own retries.
//! - **Nothing secret on the bus.** Mail rows are delivered by the mailer, not relayed: their
//!   bodies carry verification and invitation links.

use std::time::Duration;

use rdkafka::{
    message::{Header, OwnedHeaders},
    producer::{FutureProducer, FutureRecord},
};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tributary_core::TopicName;
use tributary_provisioning::{KafkaAdmin, KafkaConfig, TopicSpec};
use tributary_registry::{SchemaInput, SchemaType};

/// The topic every domain event goes to.
pub const EVENTS_TOPIC: &str = "tributary.events";
/// The registry subject of its values.
pub const EVENTS_SUBJECT: &str = "tributary.events-value";
/// Advisory lock that makes one relay active at a time (any 64-bit constant unique to us).
const RELAY_LOCK: i64 = 0x7472_6962_7265_6c61; // "tribrela"
const BATCH: i64 = 500;
const IDLE: Duration = Duration::from_millis(200);

/// The JSON Schema of an event envelope (registered in the embedded registry).
pub const ENVELOPE_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "TributaryEvent",
  "type": "object",
  "properties": {
    "id": { "type": "integer", "description": "outbox sequence number; increases per aggregate" },
    "type": { "type": "string", "description": "dotted event type, e.g. stream.published" },
    "aggregateType": { "type": "string" },
    "aggregateId": { "type": "string" },
    "occurredAt": { "type": "string", "format": "date-time" },
    "payload": { "type": "object" }
  },
  "required": ["id", "type", "aggregateType", "aggregateId", "occurredAt", "payload"]
}"#;

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("kafka: {0}")]
    Kafka(String),
    #[error("registry: {0}")]
    Registry(#[from] tributary_registry::RegistryError),
}

/// A relay bound to a database and a broker.
pub struct Relay {
    pool: PgPool,
    producer: FutureProducer,
    schema_id: i32,
    timeout: Duration,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    aggregate_type: String,
    aggregate_id: String,
    event_type: String,
    payload: Value,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl Relay {
    /// Ensures the topic and the envelope schema exist, and creates the producer.
    pub async fn new(
        pool: PgPool,
        kafka: &KafkaConfig,
        timeout: Duration,
    ) -> Result<Self, RelayError> {
        let admin =
            KafkaAdmin::new(kafka, timeout).map_err(|e| RelayError::Kafka(e.to_string()))?;
        admin
            .ensure_topic(&TopicSpec {
                name: TopicName::parse(EVENTS_TOPIC)
                    .map_err(|e| RelayError::Kafka(e.to_string()))?,
                partitions: 6,
                replication_factor: -1,
                configs: vec![(
                    "retention.ms".into(),
                    (30i64 * 24 * 3600 * 1000).to_string(),
                )],
            })
            .await
            .map_err(|e| RelayError::Kafka(e.to_string()))?;
        let mut tx = pool.begin().await?;
        let registered = tributary_registry::register(
            &mut tx,
            EVENTS_SUBJECT,
            SchemaInput {
                schema_type: SchemaType::Json,
                schema: ENVELOPE_SCHEMA.to_owned(),
                references: Vec::new(),
            },
            &tributary_registry::Caller::Operator,
        )
        .await?;
        tx.commit().await?;
        let producer: FutureProducer = kafka
            .client_config()
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", "zstd")
            .set("linger.ms", "5")
            .set(
                "message.timeout.ms",
                timeout.as_millis().max(5000).to_string(),
            )
            .create()
            .map_err(|e| RelayError::Kafka(e.to_string()))?;
        Ok(Self {
            pool,
            producer,
            schema_id: registered.id,
            timeout,
        })
    }

    /// The registry id of the envelope schema written in every message.
    pub fn schema_id(&self) -> i32 {
        self.schema_id
    }

    /// Publishes one batch; answers how many rows it relayed (`None`: another relay is active).
    pub async fn relay_batch(&self) -> Result<Option<usize>, RelayError> {
        let mut tx = self.pool.begin().await?;
        let leader: bool = sqlx::query_scalar("select pg_try_advisory_xact_lock($1)")
            .bind(RELAY_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !leader {
            return Ok(None);
        }
        let rows: Vec<Row> = sqlx::query_as(
            "select id, aggregate_type, aggregate_id, event_type, payload, created_at
               from outbox where published_at is null order by id limit $1 for update",
        )
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(Some(0));
        }
        let mut done: Vec<i64> = Vec::with_capacity(rows.len());
        let mut sends = Vec::new();
        for row in &rows {
            if row.event_type == tributary_db::outbox::MAIL_REQUESTED {
                done.push(row.id);
                continue;
            }
            let envelope = json!({
                "id": row.id,
                "type": row.event_type,
                "aggregateType": row.aggregate_type,
                "aggregateId": row.aggregate_id,
                "occurredAt": row.created_at,
                "payload": row.payload,
            });
            let mut bytes = Vec::with_capacity(256);
            bytes.push(0u8);
            bytes.extend_from_slice(&self.schema_id.to_be_bytes());
            bytes.extend_from_slice(envelope.to_string().as_bytes());
            let headers = OwnedHeaders::new().insert(Header {
                key: "event-type",
                value: Some(row.event_type.as_bytes()),
            });
            let record = FutureRecord::to(EVENTS_TOPIC)
                .key(row.aggregate_id.as_str())
                .payload(&bytes)
                .headers(headers);
            // Enqueued in id order; acknowledgements are awaited below, in the same order.
            let delivery = self
                .producer
                .send_result(record)
                .map_err(|(e, _)| RelayError::Kafka(e.to_string()));
            sends.push((row.id, delivery));
        }
        let mut failure = None;
        for (id, delivery) in sends {
            let outcome = match delivery {
                Ok(future) => match tokio::time::timeout(self.timeout * 2, future).await {
                    Ok(Ok(Ok(_))) => Ok(()),
                    Ok(Ok(Err((e, _)))) => Err(e.to_string()),
                    Ok(Err(_)) => Err("the producer dropped the message".to_owned()),
                    Err(_) => Err("no acknowledgement in time".to_owned()),
                },
                Err(e) => Err(e.to_string()),
            };
            match outcome {
                // Only an unbroken prefix counts: after a failure, later rows are sent again.
                Ok(()) if failure.is_none() => done.push(id),
                Ok(()) => {}
                Err(e) => {
                    if failure.is_none() {
                        failure = Some((id, e));
                    }
                }
            }
        }
        if let Some((id, _)) = &failure {
            // Mail rows after the failure stay for the next round too (keeps the prefix rule).
            done.retain(|d| d < id);
        }
        sqlx::query("update outbox set published_at = now() where id = any($1)")
            .bind(&done)
            .execute(&mut *tx)
            .await?;
        if let Some((id, error)) = &failure {
            sqlx::query("update outbox set publish_attempts = publish_attempts + 1, last_error = $2 where id = $1")
                .bind(id)
                .bind(error)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        match failure {
            Some((id, error)) => Err(RelayError::Kafka(format!("outbox row {id}: {error}"))),
            None => Ok(Some(done.len())),
        }
    }
}

/// Runs the relay until `token` is cancelled; failures are logged and retried with backoff.
pub async fn run(pool: PgPool, kafka: KafkaConfig, timeout: Duration, token: CancellationToken) {
    let mut backoff = Duration::from_millis(500);
    let relay = loop {
        match Relay::new(pool.clone(), &kafka, timeout).await {
            Ok(relay) => break relay,
            Err(e) => {
                tracing::warn!(error = %e, "event relay cannot start yet; retrying");
                tokio::select! {
                    () = token.cancelled() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    };
    tracing::info!(
        topic = EVENTS_TOPIC,
        schema_id = relay.schema_id(),
        "event relay started"
    );
    let mut backoff = Duration::from_millis(200);
    loop {
        let pause = match relay.relay_batch().await {
            Ok(Some(n)) if n > 0 => {
                tracing::debug!(relayed = n, "events relayed");
                backoff = Duration::from_millis(200);
                Duration::ZERO
            }
            Ok(_) => IDLE,
            Err(e) => {
                tracing::warn!(error = %e, "event relay failed; retrying");
                backoff = (backoff * 2).min(Duration::from_secs(30));
                backoff
            }
        };
        tokio::select! {
            () = token.cancelled() => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    tracing::info!("event relay stopped");
}
