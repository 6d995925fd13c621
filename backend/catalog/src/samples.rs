//! Recent sample messages of a stream, read from its topic with the cluster's credentials,
//! decoded to JSON with the stream's own schemas, with fields classified as PII redacted.
//!
//! Samples are anonymous-readable on public streams, so a read is shared and bounded: one read
//! of [`MAX_SAMPLES`] messages per stream serves every viewer and every `limit` for
//! [`SAMPLE_TTL`] (who asks while it runs waits for it); at most [`MAX_SAMPLE_READS`] reads run
//! at once on the whole platform (who finds them busy for [`SAMPLE_READ_WAIT`] gets the
//! stream's last samples, or `Unavailable`); Kafka consumers are kept per cluster and reused;
//! no database connection is held while Kafka is read.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, TimeZone, Utc};
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tributary_identity::Actor;
use tributary_registry::{RemoteRegistry, WriterSchema};
use uuid::Uuid;

use crate::{Catalog, CatalogError, Stream, redact::Redactor, schemas::schema_error};

/// Most samples served at once.
pub const MAX_SAMPLES: usize = 50;
pub use crate::redact::REDACTED;
/// How long samples read from a topic are served to every viewer of the stream before the topic
/// is read again (the stream page refreshes every 5 s).
pub const SAMPLE_TTL: Duration = Duration::from_secs(2);
/// Sample reads (Kafka I/O and decoding) running at once on the whole platform.
pub const MAX_SAMPLE_READS: usize = 4;
/// How long a request waits for a free read before it is answered from the stream's last
/// samples or refused.
pub const SAMPLE_READ_WAIT: Duration = Duration::from_secs(1);
/// What is shown instead of a key or value that did not decode with the stream's schemas.
pub const NOT_DECODABLE: &str = "not decodable with this stream's schemas";
/// How old the samples served while reads are busy may be.
const STALE_SAMPLES: Duration = Duration::from_secs(60);
/// Streams whose samples are kept at once.
const SAMPLE_CACHE: usize = 1_000;
/// Longest one read may wait on Kafka (metadata, offsets, then messages).
const KAFKA_READ_LIMIT: Duration = Duration::from_secs(3);
/// Embedded-registry writer schemas kept by id (an id never changes meaning).
const SCHEMA_CACHE: usize = 1_000;

/// One message from the topic.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<DateTime<Utc>>,
    pub key: Option<Value>,
    pub value: Option<Value>,
    /// Why the key is not shown decoded ([`NOT_DECODABLE`]); the key is then `None` when a
    /// classification applies to it.
    pub key_error: Option<String>,
    /// Why the value is not shown decoded, as for the key.
    pub value_error: Option<String>,
}

/// What the sample reads of this process did (for operators and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SampleReadStats {
    /// Reads of a topic.
    pub topic_reads: u64,
    /// Kafka consumers created (each one logs in); reads reuse idle ones.
    pub consumers_created: u64,
}

struct Cached {
    version: DateTime<Utc>,
    read_at: Instant,
    samples: Arc<Vec<Sample>>,
}

type Slot = Arc<tokio::sync::Mutex<Option<Cached>>>;

/// Idle consumers of one cluster, made from its settings as of `version`.
struct Consumers {
    version: DateTime<Utc>,
    idle: Vec<BaseConsumer>,
}

/// The shared state of sample reads. One per catalog.
pub(crate) struct SampleReads {
    slots: Mutex<HashMap<Uuid, Slot>>,
    permits: Semaphore,
    consumers: Mutex<HashMap<Uuid, Consumers>>,
    schemas: Mutex<HashMap<i32, WriterSchema>>,
    topic_reads: AtomicU64,
    consumers_created: AtomicU64,
}

impl Default for SampleReads {
    fn default() -> Self {
        Self {
            slots: Mutex::default(),
            permits: Semaphore::new(MAX_SAMPLE_READS),
            consumers: Mutex::default(),
            schemas: Mutex::default(),
            topic_reads: AtomicU64::new(0),
            consumers_created: AtomicU64::new(0),
        }
    }
}

impl SampleReads {
    /// The stream's slot; slots unused for a while go when there are many.
    fn slot(&self, stream: Uuid) -> Slot {
        let mut slots = self.slots.lock().expect("sample slots");
        if slots.len() >= SAMPLE_CACHE && !slots.contains_key(&stream) {
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.try_lock().map_or(true, |cached| {
                        cached
                            .as_ref()
                            .is_some_and(|c| c.read_at.elapsed() < STALE_SAMPLES)
                    })
            });
        }
        slots.entry(stream).or_default().clone()
    }

    /// An idle consumer of the cluster, or a new one.
    fn take_consumer(
        &self,
        cluster: Uuid,
        version: DateTime<Utc>,
        config: &ClientConfig,
    ) -> Result<BaseConsumer, CatalogError> {
        if let Some(pool) = self
            .consumers
            .lock()
            .expect("sample consumers")
            .get_mut(&cluster)
            && pool.version == version
            && let Some(consumer) = pool.idle.pop()
        {
            return Ok(consumer);
        }
        let consumer = config.create().map_err(|e| {
            CatalogError::Unavailable(format!("cannot read samples from the topic: {e}"))
        })?;
        self.consumers_created.fetch_add(1, Ordering::Relaxed);
        Ok(consumer)
    }

    /// Keeps a consumer for the next read (unless the cluster changed or enough are idle).
    fn give_back(&self, cluster: Uuid, version: DateTime<Utc>, consumer: BaseConsumer) {
        let mut pools = self.consumers.lock().expect("sample consumers");
        let pool = pools.entry(cluster).or_insert_with(|| Consumers {
            version,
            idle: Vec::new(),
        });
        if pool.version < version {
            // The cluster's settings changed: consumers made from the old ones go.
            *pool = Consumers {
                version,
                idle: Vec::new(),
            };
        }
        if pool.version == version && pool.idle.len() < MAX_SAMPLE_READS {
            pool.idle.push(consumer);
        }
    }
}

struct RawSample {
    partition: i32,
    offset: i64,
    timestamp: Option<i64>,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
}

/// The stream's own schema ids of one part (key or value).
#[derive(Default)]
struct OwnIds {
    ids: HashSet<i32>,
    /// The stream has a schema for this part.
    has_schema: bool,
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
        let samples = self.shared_samples(&stream).await?;
        Ok(samples.iter().take(limit).cloned().collect())
    }

    /// What the sample reads of this process did so far.
    pub fn sample_read_stats(&self) -> SampleReadStats {
        SampleReadStats {
            topic_reads: self.samples.topic_reads.load(Ordering::Relaxed),
            consumers_created: self.samples.consumers_created.load(Ordering::Relaxed),
        }
    }

    /// The stream's last [`MAX_SAMPLES`] samples: the shared read while it is fresh, else one
    /// new read (single flight: callers meanwhile wait for it).
    async fn shared_samples(&self, stream: &Stream) -> Result<Arc<Vec<Sample>>, CatalogError> {
        let slot = self.samples.slot(stream.id);
        let mut cached = slot.lock().await;
        // The stream's version is part of the key: a changed classification is applied at once.
        let current = |max_age: Duration| {
            cached
                .as_ref()
                .filter(|c| c.version == stream.updated_at && c.read_at.elapsed() < max_age)
                .map(|c| c.samples.clone())
        };
        if let Some(samples) = current(SAMPLE_TTL) {
            return Ok(samples);
        }
        let permit =
            match tokio::time::timeout(SAMPLE_READ_WAIT, self.samples.permits.acquire()).await {
                Ok(Ok(permit)) => permit,
                _ => {
                    return current(STALE_SAMPLES).ok_or_else(|| {
                        CatalogError::Unavailable(
                            "too many sample reads at once; try again in a moment".into(),
                        )
                    });
                }
            };
        let samples = Arc::new(self.read_samples(stream).await?);
        drop(permit);
        *cached = Some(Cached {
            version: stream.updated_at,
            read_at: Instant::now(),
            samples: samples.clone(),
        });
        Ok(samples)
    }

    /// Reads, decodes and redacts the newest messages. The database is used before and after
    /// Kafka is read, never during.
    async fn read_samples(&self, stream: &Stream) -> Result<Vec<Sample>, CatalogError> {
        let cluster = {
            let mut conn = self.pool.acquire().await?;
            self.cluster_row(&mut conn, stream.cluster_id).await?
        };
        let remote = self.registry_for(&cluster)?;
        let key_ids = self.own_ids(remote.as_ref(), stream, true).await?;
        let value_ids = self.own_ids(remote.as_ref(), stream, false).await?;

        let mut config = self.kafka_config(&cluster)?.client_config();
        config
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("group.id", format!("tributary-samples-{}", Uuid::new_v4()));
        let topic = stream.topic.clone();
        let timeout = self.kafka_timeout.min(KAFKA_READ_LIMIT);
        let reads = self.samples.clone();
        let (cluster_id, version) = (cluster.id, cluster.updated_at);
        let raw = tokio::task::spawn_blocking(move || {
            let consumer = reads.take_consumer(cluster_id, version, &config)?;
            let read = read_tail(&consumer, &topic, MAX_SAMPLES, timeout);
            if read.is_ok() {
                reads.give_back(cluster_id, version, consumer);
            }
            read
        })
        .await
        .map_err(|e| CatalogError::Internal(e.to_string()))??;
        self.samples.topic_reads.fetch_add(1, Ordering::Relaxed);

        // Only the stream's own schema ids decode; load those the messages name.
        let mut wanted = HashSet::new();
        for r in &raw {
            for (bytes, own) in [(&r.key, &key_ids), (&r.value, &value_ids)] {
                if let Some(id) = bytes.as_deref().and_then(tributary_registry::schema_id)
                    && own.ids.contains(&id)
                {
                    wanted.insert(id);
                }
            }
        }
        let schemas = self.writer_schemas(remote.as_ref(), wanted).await?;

        let pii = stream.pii_fields();
        let (key_rules, value_rules) = (
            Redactor::for_part(&pii, true),
            Redactor::for_part(&pii, false),
        );
        tokio::task::spawn_blocking(move || {
            raw.into_iter()
                .map(|r| {
                    let (key, key_error) = match &r.key {
                        Some(bytes) => shown(bytes, &key_ids, &schemas, &key_rules),
                        None => (None, None),
                    };
                    let (value, value_error) = match &r.value {
                        Some(bytes) => shown(bytes, &value_ids, &schemas, &value_rules),
                        None => (None, None),
                    };
                    Sample {
                        partition: r.partition,
                        offset: r.offset,
                        timestamp: r
                            .timestamp
                            .and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
                        key,
                        value,
                        key_error,
                        value_error,
                    }
                })
                .collect()
        })
        .await
        .map_err(|e| CatalogError::Internal(e.to_string()))
    }

    /// The schema ids of the versions of the stream's key or value subject.
    async fn own_ids(
        &self,
        remote: Option<&RemoteRegistry>,
        stream: &Stream,
        key: bool,
    ) -> Result<OwnIds, CatalogError> {
        let has_schema = if key {
            stream.key_schema_type.is_some()
        } else {
            stream.value_schema_type.is_some()
        };
        if !has_schema {
            return Ok(OwnIds::default());
        }
        let subject = stream.subject(key);
        let ids = match remote {
            None => {
                let mut conn = self.pool.acquire().await?;
                tributary_registry::subject_schema_ids(&mut conn, &subject, true)
                    .await
                    .map_err(schema_error)?
            }
            Some(registry) => {
                let versions = match registry.versions(&subject).await {
                    Ok(v) => v,
                    Err(tributary_registry::RegistryError::SubjectNotFound(_)) => Vec::new(),
                    Err(e) => return Err(schema_error(e)),
                };
                let mut ids = Vec::with_capacity(versions.len());
                for v in versions {
                    ids.push(
                        registry
                            .version(&subject, v)
                            .await
                            .map_err(schema_error)?
                            .id,
                    );
                }
                ids
            }
        };
        Ok(OwnIds {
            ids: ids.into_iter().collect(),
            has_schema,
        })
    }

    /// Writer schemas by id (one that cannot be loaded is left out: its messages do not decode).
    async fn writer_schemas(
        &self,
        remote: Option<&RemoteRegistry>,
        wanted: HashSet<i32>,
    ) -> Result<HashMap<i32, WriterSchema>, CatalogError> {
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.samples.schemas.lock().expect("schema cache");
            for id in wanted {
                match (remote, cache.get(&id)) {
                    (None, Some(schema)) => {
                        out.insert(id, schema.clone());
                    }
                    _ => missing.push(id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        match remote {
            Some(registry) => {
                for id in missing {
                    match registry.writer_schema(id).await {
                        Ok(schema) => {
                            out.insert(id, schema);
                        }
                        Err(e) => tracing::debug!(id, error = %e, "sample schema not loaded"),
                    }
                }
            }
            None => {
                let mut conn = self.pool.acquire().await?;
                let mut loaded = Vec::new();
                for id in missing {
                    match tributary_registry::writer_schema(&mut conn, id).await {
                        Ok(schema) => loaded.push((id, schema)),
                        Err(e) => tracing::debug!(id, error = %e, "sample schema not loaded"),
                    }
                }
                drop(conn);
                let mut cache = self.samples.schemas.lock().expect("schema cache");
                if cache.len() + loaded.len() > SCHEMA_CACHE {
                    cache.clear();
                }
                for (id, schema) in loaded {
                    cache.insert(id, schema.clone());
                    out.insert(id, schema);
                }
            }
        }
        Ok(out)
    }
}

/// How one key or value is shown: decoded with one of the stream's own schema ids (or read as
/// plain JSON when unframed) and redacted; anything else is not shown when a classification
/// applies to it (raw text, base64, another schema's framing), with the reason.
fn shown(
    bytes: &[u8],
    own: &OwnIds,
    schemas: &HashMap<i32, WriterSchema>,
    rules: &Redactor,
) -> (Option<Value>, Option<String>) {
    if rules.whole() {
        return (Some(Value::String(REDACTED.into())), None);
    }
    let decoded = match tributary_registry::schema_id(bytes) {
        Some(id) if own.ids.contains(&id) => match schemas.get(&id) {
            Some(schema) => schema.decode(bytes).map_err(|e| {
                tracing::debug!(id, error = %e, "sample did not decode with its schema");
            }),
            None => Err(()),
        },
        Some(id) => {
            tracing::debug!(
                id,
                "sample framed with a schema id that is not the stream's"
            );
            Err(())
        }
        None => match tributary_registry::plain_json(bytes) {
            Ok(datum) => Ok(datum),
            // Text on a part without schema is what it is (a string key); it has no fields.
            Err(_) if !own.has_schema => return (Some(raw(bytes)), None),
            Err(_) => Err(()),
        },
    };
    match decoded {
        Ok(datum) => (Some(rules.redact(datum)), None),
        Err(()) if rules.classifies() => (None, Some(NOT_DECODABLE.into())),
        Err(()) => (Some(raw(bytes)), Some(NOT_DECODABLE.into())),
    }
}

/// Bytes shown as they are: JSON, text, or base64.
fn raw(bytes: &[u8]) -> Value {
    if let Ok(v) = tributary_registry::plain_json(bytes) {
        return v.into_json();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Value::String(text.to_owned()),
        Err(_) => serde_json::json!({ "base64": STANDARD.encode(bytes) }),
    }
}

/// Reads the newest `limit` messages of every partition with a (reused) consumer: assigns the
/// tail of each partition, keeps only messages of those ranges, then unassigns.
fn read_tail(
    consumer: &BaseConsumer,
    topic: &str,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<RawSample>, CatalogError> {
    let unavailable = |e: rdkafka::error::KafkaError| {
        CatalogError::Unavailable(format!("cannot read samples from the topic: {e}"))
    };
    let deadline = Instant::now() + KAFKA_READ_LIMIT;
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(unavailable)?;
    let Some(described) = metadata
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none())
    else {
        return Err(CatalogError::Unavailable(
            "cannot read samples: the cluster did not describe the topic".into(),
        ));
    };
    let partitions: Vec<i32> = described.partitions().iter().map(|p| p.id()).collect();
    let mut assignment = TopicPartitionList::new();
    let mut ranges = HashMap::new();
    let mut expected = 0usize;
    for p in &partitions {
        let left = deadline.saturating_duration_since(Instant::now());
        let (low, high) = consumer
            .fetch_watermarks(topic, *p, left.min(timeout))
            .map_err(unavailable)?;
        let start = (high - limit as i64).max(low);
        if high > start {
            expected += usize::try_from(high - start).unwrap_or(0);
            ranges.insert(*p, start..high);
            assignment
                .add_partition_offset(topic, *p, Offset::Offset(start))
                .map_err(unavailable)?;
        }
    }
    if expected == 0 {
        return Ok(Vec::new());
    }
    consumer.assign(&assignment).map_err(unavailable)?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut failure = None;
    while out.len() < expected && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                // A reused consumer: only this read's ranges count, each message once.
                let wanted = m.topic() == topic
                    && ranges
                        .get(&m.partition())
                        .is_some_and(|r| r.contains(&m.offset()));
                if wanted && seen.insert((m.partition(), m.offset())) {
                    out.push(RawSample {
                        partition: m.partition(),
                        offset: m.offset(),
                        timestamp: m.timestamp().to_millis(),
                        key: m.key().map(<[u8]>::to_vec),
                        value: m.payload().map(<[u8]>::to_vec),
                    });
                }
            }
            Some(Err(e)) => {
                failure = Some(e);
                break;
            }
            None => {}
        }
    }
    consumer.unassign().map_err(unavailable)?;
    if let Some(e) = failure {
        return Err(unavailable(e));
    }
    out.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then(b.offset.cmp(&a.offset)));
    out.truncate(limit);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn own(ids: &[i32], has_schema: bool) -> OwnIds {
        OwnIds {
            ids: ids.iter().copied().collect(),
            has_schema,
        }
    }

    #[test]
    fn what_does_not_decode_is_not_shown_when_a_classification_applies() {
        let pii = vec!["email".to_owned()];
        let rules = Redactor::for_part(&pii, false);
        let none = HashMap::new();
        // Framed with an id that is not the stream's: never decoded, never shown raw.
        let foreign = [0u8, 0, 0, 0, 9, b'{', b'}'];
        assert_eq!(
            shown(&foreign, &own(&[1], true), &none, &rules),
            (None, Some(NOT_DECODABLE.into()))
        );
        // Text where the stream has a schema.
        assert_eq!(
            shown(b"ada@example.com", &own(&[1], true), &none, &rules),
            (None, Some(NOT_DECODABLE.into()))
        );
        // Without classifications it is shown as it is, with the reason.
        let open = Redactor::for_part(&[], false);
        assert_eq!(
            shown(b"plain", &own(&[1], true), &none, &open),
            (Some(json!("plain")), Some(NOT_DECODABLE.into()))
        );
        // Unframed JSON is read and redacted.
        assert_eq!(
            shown(br#"{"email":"a","n":1}"#, &own(&[1], true), &none, &rules),
            (Some(json!({"email": REDACTED, "n": 1})), None)
        );
        // A string key of a stream without key schema is a string.
        let key_rules = Redactor::for_part(&pii, true);
        assert_eq!(
            shown(b"k-1", &own(&[], false), &none, &key_rules),
            (Some(json!("k-1")), None)
        );
        // ...unless the key is classified.
        let whole = Redactor::for_part(&["@key".to_owned()], true);
        assert_eq!(
            shown(b"ada@example.com", &own(&[], false), &none, &whole),
            (Some(json!(REDACTED)), None)
        );
    }
}
