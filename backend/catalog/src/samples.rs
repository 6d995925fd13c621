//! Recent sample messages of a stream, read from its topic with the cluster's credentials,
//! decoded to JSON through the registry, with fields classified as PII redacted.

use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, TimeZone, Utc};
use rdkafka::{
    Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use serde::Serialize;
use serde_json::Value;
use tributary_identity::Actor;
use uuid::Uuid;

use crate::{Catalog, CatalogError};

/// Most samples served at once.
pub const MAX_SAMPLES: usize = 50;
/// What replaces a redacted value.
pub const REDACTED: &str = "[redacted]";
/// How long samples read from a topic are served to every viewer of the stream before the topic
/// is read again (the stream page refreshes every 5 s; each read creates a Kafka consumer).
pub const SAMPLE_TTL: Duration = Duration::from_secs(2);
/// Streams whose samples are kept at once.
const SAMPLE_CACHE: usize = 1_000;

/// Samples per (stream, limit, stream version), with when they were read.
pub(crate) type SampleCache = std::sync::Arc<
    std::sync::Mutex<
        std::collections::HashMap<(Uuid, usize, DateTime<Utc>), (Instant, Vec<Sample>)>,
    >,
>;

/// One message from the topic.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<DateTime<Utc>>,
    pub key: Option<Value>,
    pub value: Option<Value>,
}

struct RawSample {
    partition: i32,
    offset: i64,
    timestamp: Option<i64>,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
}

/// Replaces every value at a classified path (`a.b.c`, through arrays) with [`REDACTED`].
pub fn redact(value: &mut Value, paths: &[String]) {
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        redact_path(value, &parts);
    }
}

fn redact_path(value: &mut Value, parts: &[&str]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| redact_path(v, parts)),
        Value::Object(map) => {
            let Some((first, rest)) = parts.split_first() else {
                return;
            };
            if let Some(child) = map.get_mut(*first) {
                if rest.is_empty() {
                    *child = Value::String(REDACTED.into());
                } else {
                    redact_path(child, rest);
                }
            }
        }
        _ => {}
    }
}

impl Catalog {
    /// The newest `limit` messages of the stream's topic (spread over its partitions).
    pub async fn recent_samples(
        &self,
        actor: Option<&Actor>,
        stream_id: Uuid,
        limit: usize,
    ) -> Result<Vec<Sample>, CatalogError> {
        if !(1..=MAX_SAMPLES).contains(&limit) {
            return Err(CatalogError::validation(
                "limit",
                format!("must be between 1 and {MAX_SAMPLES}"),
            ));
        }
        let stream = self.stream(actor, stream_id).await?;
        if stream.topic_provisioned_at.is_none() {
            return Ok(Vec::new());
        }
        // The stream's version is part of the key: a changed classification is applied at once.
        let key = (stream.id, limit, stream.updated_at);
        if let Some((read_at, samples)) = self.samples.lock().expect("sample cache").get(&key)
            && read_at.elapsed() < SAMPLE_TTL
        {
            return Ok(samples.clone());
        }
        let mut conn = self.pool.acquire().await?;
        let cluster = self.cluster_row(&mut conn, stream.cluster_id).await?;
        let remote = self.registry_for(&cluster)?;
        let mut config = self.kafka_config(&cluster)?.client_config();
        config
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("group.id", format!("tributary-samples-{}", Uuid::new_v4()));
        let topic = stream.topic.clone();
        let timeout = self.kafka_timeout;
        let raw = tokio::task::spawn_blocking(move || read_tail(config, &topic, limit, timeout))
            .await
            .map_err(|e| CatalogError::Internal(e.to_string()))??;
        let pii = stream.pii_fields();
        let mut out = Vec::with_capacity(raw.len());
        for r in raw {
            let mut key = match r.key {
                Some(bytes) => Some(self.decode(&mut conn, remote.as_ref(), &bytes).await),
                None => None,
            };
            let mut value = match r.value {
                Some(bytes) => Some(self.decode(&mut conn, remote.as_ref(), &bytes).await),
                None => None,
            };
            for v in [key.as_mut(), value.as_mut()].into_iter().flatten() {
                redact(v, &pii);
            }
            out.push(Sample {
                partition: r.partition,
                offset: r.offset,
                timestamp: r
                    .timestamp
                    .and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
                key,
                value,
            });
        }
        let mut cache = self.samples.lock().expect("sample cache");
        cache.retain(|_, (read_at, _)| read_at.elapsed() < SAMPLE_TTL);
        if cache.len() < SAMPLE_CACHE {
            cache.insert(key, (Instant::now(), out.clone()));
        }
        Ok(out)
    }

    /// Registry-framed payloads decode with their schema (from the cluster's external registry
    /// if it has one); plain JSON stays JSON; anything else is shown as text or base64.
    async fn decode(
        &self,
        conn: &mut sqlx::PgConnection,
        remote: Option<&tributary_registry::RemoteRegistry>,
        bytes: &[u8],
    ) -> Value {
        if bytes.first() == Some(&0) && bytes.len() > 5 {
            let decoded = match remote {
                Some(registry) => registry.decode_message(bytes).await,
                None => tributary_registry::decode_message(conn, bytes).await,
            };
            match decoded {
                Ok(v) => return v,
                Err(e) => tracing::debug!(error = %e, "sample did not decode with the registry"),
            }
        }
        if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
            return v;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Value::String(text.to_owned()),
            Err(_) => serde_json::json!({ "base64": STANDARD.encode(bytes) }),
        }
    }
}

fn read_tail(
    config: rdkafka::ClientConfig,
    topic: &str,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<RawSample>, CatalogError> {
    let unavailable = |e: rdkafka::error::KafkaError| {
        CatalogError::Unavailable(format!("cannot read samples from the topic: {e}"))
    };
    let consumer: BaseConsumer = config.create().map_err(unavailable)?;
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(unavailable)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    let mut assignment = TopicPartitionList::new();
    let mut expected = 0usize;
    for p in &partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, timeout)
            .map_err(unavailable)?;
        let start = (high - limit as i64).max(low);
        if high > start {
            expected += usize::try_from(high - start).unwrap_or(0);
            assignment
                .add_partition_offset(topic, *p, Offset::Offset(start))
                .map_err(unavailable)?;
        }
    }
    if expected == 0 {
        return Ok(Vec::new());
    }
    consumer.assign(&assignment).map_err(unavailable)?;
    let deadline = Instant::now() + timeout.min(Duration::from_secs(3));
    let mut out = Vec::new();
    while out.len() < expected && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => out.push(RawSample {
                partition: m.partition(),
                offset: m.offset(),
                timestamp: m.timestamp().to_millis(),
                key: m.key().map(<[u8]>::to_vec),
                value: m.payload().map(<[u8]>::to_vec),
            }),
            Some(Err(e)) => return Err(unavailable(e)),
            None => {}
        }
    }
    out.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(b.offset.cmp(&a.offset)));
    out.truncate(limit);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn classified_paths_are_redacted_through_objects_and_arrays() {
        let mut v = json!({
            "email": "a@b.c",
            "customer": { "name": "Ada", "email": "ada@example.com" },
            "lines": [{ "card": "4111" }, { "card": "5500", "sku": "x" }],
            "amount": 12
        });
        redact(
            &mut v,
            &[
                "email".into(),
                "customer.email".into(),
                "lines.card".into(),
                "missing.path".into(),
            ],
        );
        assert_eq!(v["email"], REDACTED);
        assert_eq!(v["customer"]["email"], REDACTED);
        assert_eq!(v["customer"]["name"], "Ada");
        assert_eq!(v["lines"][0]["card"], REDACTED);
        assert_eq!(v["lines"][1]["card"], REDACTED);
        assert_eq!(v["lines"][1]["sku"], "x");
        assert_eq!(v["amount"], 12);
    }
}
