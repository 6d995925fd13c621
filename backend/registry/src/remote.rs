//! A client of an external Confluent-compatible schema registry (Confluent Schema Registry,
//! Apicurio's `ccompat` API, Karapace, Redpanda), for clusters that keep their schemas there.
//!
//! Only the Confluent REST surface is used: subjects and versions, lookup, compatibility checks,
//! subject config, schemas by id, delete. Registries differ in their error bodies (Apicurio
//! answers 409 with `error_code` 0 and gives no compatibility messages), so errors are read from
//! the HTTP status first and the Confluent `error_code` second.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    CompatibilityReport, Level, Reference, RegistryError, ResolvedReference, SchemaInput,
    SchemaType, SubjectVersion,
    schema::{self, Parsed},
    wire,
};

/// How long one call to the registry may take.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Reference chains deeper than this are refused (a cycle, or an abuse).
const MAX_REFERENCE_DEPTH: usize = 16;
/// Schemas by id kept for decoding (ids never change meaning).
const SCHEMA_CACHE: usize = 1_000;

/// Makes rustls on ring the process's default crypto provider, for HTTP clients built without a
/// preconfigured TLS setup (tests, schema_registry_converter). Idempotent.
pub fn install_crypto_provider() {
    // An error means a provider is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the HTTP client for external registries: rustls on ring with the webpki roots, plus
/// the cluster's own CA bundle when it has one.
pub fn http_client(ca_pem: Option<&str>) -> Result<reqwest::Client, RegistryError> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| RegistryError::Remote(format!("CA bundle: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| RegistryError::Remote(format!("CA bundle: {e}")))?;
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| RegistryError::Remote(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| RegistryError::Remote(e.to_string()))
}

/// One external registry: base URL (e.g. `https://sr.example.com` or
/// `http://host:8080/apis/ccompat/v7`) and optional Basic credentials. Cheap to clone.
#[derive(Clone)]
pub struct RemoteRegistry {
    base: String,
    http: reqwest::Client,
    credentials: Option<(String, SecretString)>,
    schemas: Arc<Mutex<HashMap<i32, Arc<Parsed>>>>,
}

impl std::fmt::Debug for RemoteRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteRegistry")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionBody {
    subject: Option<String>,
    version: Option<i32>,
    id: i32,
    schema: String,
    schema_type: Option<String>,
    #[serde(default)]
    references: Option<Vec<ReferenceBody>>,
}

#[derive(Deserialize)]
struct ReferenceBody {
    name: String,
    subject: String,
    version: i32,
}

#[derive(Deserialize)]
struct ErrorBody {
    error_code: Option<i64>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct CompatibilityBody {
    is_compatible: bool,
    #[serde(default)]
    messages: Option<Vec<String>>,
    #[serde(default)]
    reason: Option<String>,
}

fn schema_type(name: Option<&str>) -> Result<SchemaType, RegistryError> {
    // Confluent omits the type for Avro.
    name.map_or(Ok(SchemaType::Avro), str::parse)
}

fn references(body: Option<Vec<ReferenceBody>>) -> Vec<Reference> {
    body.unwrap_or_default()
        .into_iter()
        .map(|r| Reference {
            name: r.name,
            subject: r.subject,
            version: r.version,
        })
        .collect()
}

/// Path segment encoding for subject names (which may hold `/`, `:`, spaces).
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl RemoteRegistry {
    pub fn new(
        base: &str,
        http: reqwest::Client,
        credentials: Option<(String, SecretString)>,
    ) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            credentials,
            schemas: Arc::default(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// One call; the body of a 2xx answer, or the registry's error as a [`RegistryError`].
    /// `subject` names what a 404 is about.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        subject: &str,
    ) -> Result<Value, RegistryError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(
                "accept",
                "application/vnd.schemaregistry.v1+json, application/json",
            );
        if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, Some(password.expose_secret()));
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|e| {
            RegistryError::Remote(format!(
                "the schema registry at {} did not answer: {e}",
                self.base
            ))
        })?;
        let status = response.status();
        let text = response.text().await.map_err(|e| {
            RegistryError::Remote(format!(
                "the schema registry at {} broke off: {e}",
                self.base
            ))
        })?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| {
                RegistryError::Remote(format!("the schema registry at {} answered {e}", self.base))
            });
        }
        let error: ErrorBody = serde_json::from_str(&text).unwrap_or(ErrorBody {
            error_code: None,
            message: None,
        });
        let message = error.message.unwrap_or_else(|| format!("HTTP {status}"));
        Err(match (status, error.error_code) {
            (StatusCode::NOT_FOUND, Some(40402)) => RegistryError::VersionNotFound(message),
            (StatusCode::NOT_FOUND, Some(40403)) => RegistryError::SchemaNotFound(message),
            (StatusCode::NOT_FOUND, _) => RegistryError::SubjectNotFound(subject.to_owned()),
            (StatusCode::CONFLICT, _) => RegistryError::Incompatible(vec![message]),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(42202)) => {
                RegistryError::InvalidVersion(message)
            }
            (StatusCode::UNPROCESSABLE_ENTITY, Some(42203)) => RegistryError::InvalidLevel(message),
            (StatusCode::UNPROCESSABLE_ENTITY, _) | (StatusCode::BAD_REQUEST, _) => {
                RegistryError::InvalidSchema(message)
            }
            (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN, _) => {
                RegistryError::Remote(format!(
                    "the schema registry at {} refused the cluster's registry credentials ({status}): {message}",
                    self.base
                ))
            }
            _ => RegistryError::Remote(format!(
                "the schema registry at {} failed ({status}): {message}",
                self.base
            )),
        })
    }

    fn version_of(subject: &str, body: Value) -> Result<SubjectVersion, RegistryError> {
        let v: VersionBody = serde_json::from_value(body)
            .map_err(|e| RegistryError::Remote(format!("unexpected version body: {e}")))?;
        Ok(SubjectVersion {
            subject: v.subject.unwrap_or_else(|| subject.to_owned()),
            version: v.version.unwrap_or(0),
            id: v.id,
            schema_type: schema_type(v.schema_type.as_deref())?,
            schema: v.schema,
            references: references(v.references),
            deleted: false,
        })
    }

    fn input_body(input: &SchemaInput) -> Value {
        let mut body = json!({ "schema": input.schema, "schemaType": input.schema_type.as_str() });
        if !input.references.is_empty() {
            body["references"] = input
                .references
                .iter()
                .map(|r| json!({ "name": r.name, "subject": r.subject, "version": r.version }))
                .collect();
        }
        body
    }

    /// Answers when the registry is reachable and accepts the credentials.
    pub async fn ping(&self) -> Result<(), RegistryError> {
        self.call(Method::GET, "/subjects", None, "")
            .await
            .map(|_| ())
    }

    /// Live version numbers of a subject, oldest first (empty if it has none).
    pub async fn versions(&self, subject: &str) -> Result<Vec<i32>, RegistryError> {
        match self
            .call(
                Method::GET,
                &format!("/subjects/{}/versions", segment(subject)),
                None,
                subject,
            )
            .await
        {
            Ok(body) => serde_json::from_value(body)
                .map_err(|e| RegistryError::Remote(format!("unexpected versions body: {e}"))),
            Err(RegistryError::SubjectNotFound(_)) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    pub async fn version(
        &self,
        subject: &str,
        version: i32,
    ) -> Result<SubjectVersion, RegistryError> {
        let body = self
            .call(
                Method::GET,
                &format!("/subjects/{}/versions/{version}", segment(subject)),
                None,
                subject,
            )
            .await?;
        Self::version_of(subject, body)
    }

    /// The newest live version, if the subject has one.
    pub async fn latest(&self, subject: &str) -> Result<Option<SubjectVersion>, RegistryError> {
        match self
            .call(
                Method::GET,
                &format!("/subjects/{}/versions/latest", segment(subject)),
                None,
                subject,
            )
            .await
        {
            Ok(body) => Self::version_of(subject, body).map(Some),
            Err(RegistryError::SubjectNotFound(_) | RegistryError::VersionNotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Registers (or finds) the schema under the subject; returns the version it has there.
    pub async fn register(
        &self,
        subject: &str,
        input: &SchemaInput,
    ) -> Result<SubjectVersion, RegistryError> {
        let path = format!("/subjects/{}", segment(subject));
        self.call(
            Method::POST,
            &format!("{path}/versions"),
            Some(Self::input_body(input)),
            subject,
        )
        .await?;
        // The lookup says which version the schema is (new, or the one it already was).
        let body = self
            .call(Method::POST, &path, Some(Self::input_body(input)), subject)
            .await?;
        let mut found = Self::version_of(subject, body)?;
        if found.schema.is_empty() {
            found.schema = input.schema.clone();
        }
        Ok(found)
    }

    /// Checks the schema against the subject's latest version under the subject's level.
    pub async fn check(
        &self,
        subject: &str,
        input: &SchemaInput,
    ) -> Result<CompatibilityReport, RegistryError> {
        let body = self
            .call(
                Method::POST,
                &format!(
                    "/compatibility/subjects/{}/versions/latest?verbose=true",
                    segment(subject)
                ),
                Some(Self::input_body(input)),
                subject,
            )
            .await?;
        let report: CompatibilityBody = serde_json::from_value(body)
            .map_err(|e| RegistryError::Remote(format!("unexpected compatibility body: {e}")))?;
        let mut messages = report.messages.unwrap_or_default();
        messages.extend(report.reason);
        if !report.is_compatible && messages.is_empty() {
            messages.push(format!(
                "the registry at {} found it incompatible with the latest version and gave no reason",
                self.base
            ));
        }
        Ok(CompatibilityReport {
            is_compatible: report.is_compatible,
            messages,
        })
    }

    pub async fn set_level(&self, subject: &str, level: Level) -> Result<(), RegistryError> {
        self.call(
            Method::PUT,
            &format!("/config/{}", segment(subject)),
            Some(json!({ "compatibility": level.as_str() })),
            subject,
        )
        .await
        .map(|_| ())
    }

    /// Deletes one version (soft, then permanently); a version that is not there is fine.
    pub async fn delete_version(&self, subject: &str, version: i32) -> Result<(), RegistryError> {
        for query in ["", "?permanent=true"] {
            match self
                .call(
                    Method::DELETE,
                    &format!("/subjects/{}/versions/{version}{query}", segment(subject)),
                    None,
                    subject,
                )
                .await
            {
                Ok(_)
                | Err(RegistryError::SubjectNotFound(_))
                | Err(RegistryError::VersionNotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Loads the referenced schemas, dependencies first.
    pub async fn resolve_references(
        &self,
        refs: &[Reference],
    ) -> Result<Vec<ResolvedReference>, RegistryError> {
        let mut out: Vec<ResolvedReference> = Vec::new();
        // Depth-first with an explicit stack: (reference, depth, children done).
        let mut stack: Vec<(Reference, usize, Option<String>)> =
            refs.iter().rev().map(|r| (r.clone(), 0, None)).collect();
        while let Some((reference, depth, loaded)) = stack.pop() {
            if depth > MAX_REFERENCE_DEPTH {
                return Err(RegistryError::ReferenceNotFound(format!(
                    "{}: references nest deeper than {MAX_REFERENCE_DEPTH}",
                    reference.name
                )));
            }
            if out.iter().any(|r| r.name == reference.name) {
                continue;
            }
            match loaded {
                Some(schema) => out.push(ResolvedReference {
                    name: reference.name,
                    schema,
                }),
                None => {
                    let version = self
                        .version(&reference.subject, reference.version)
                        .await
                        .map_err(|e| match e {
                            RegistryError::SubjectNotFound(_)
                            | RegistryError::VersionNotFound(_) => {
                                RegistryError::ReferenceNotFound(format!(
                                    "{} (subject {}, version {})",
                                    reference.name, reference.subject, reference.version
                                ))
                            }
                            e => e,
                        })?;
                    let children = version.references.clone();
                    stack.push((reference, depth, Some(version.schema)));
                    stack.extend(children.into_iter().rev().map(|c| (c, depth + 1, None)));
                }
            }
        }
        Ok(out)
    }

    /// The writer schema of an id, parsed (cached: an id never changes meaning).
    async fn parsed(&self, id: i32) -> Result<Arc<Parsed>, RegistryError> {
        if let Some(parsed) = self.schemas.lock().expect("schema cache").get(&id) {
            return Ok(parsed.clone());
        }
        let body = self
            .call(Method::GET, &format!("/schemas/ids/{id}"), None, "")
            .await
            .map_err(|e| match e {
                RegistryError::SubjectNotFound(_) => RegistryError::SchemaNotFound(id.to_string()),
                e => e,
            })?;
        let mut body = body;
        if let Some(object) = body.as_object_mut() {
            // `/schemas/ids/{id}` answers without the id.
            object.insert("id".into(), json!(id));
        }
        let record: VersionBody = serde_json::from_value(body)
            .map_err(|e| RegistryError::Remote(format!("unexpected schema body: {e}")))?;
        let refs = self
            .resolve_references(&references(record.references))
            .await?;
        let schema_type = schema_type(record.schema_type.as_deref())?;
        let parsed = Arc::new(
            crate::budget::run(move |budget| {
                schema::parse(schema_type, &record.schema, &refs, budget)
            })
            .await?,
        );
        let mut cache = self.schemas.lock().expect("schema cache");
        if cache.len() >= SCHEMA_CACHE {
            cache.clear();
        }
        cache.insert(id, parsed.clone());
        Ok(parsed)
    }

    /// Decodes a framed Kafka message with its writer schema from this registry, whatever id
    /// it names.
    pub async fn decode_message(&self, bytes: &[u8]) -> Result<Value, RegistryError> {
        let (id, payload) = wire::split(bytes)?;
        wire::decode_payload(&*self.parsed(id).await?, payload).map(crate::Datum::into_json)
    }

    /// The writer schema of an id in this registry (cached: an id never changes meaning).
    pub async fn writer_schema(&self, id: i32) -> Result<wire::WriterSchema, RegistryError> {
        Ok(wire::WriterSchema(self.parsed(id).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_path_safe() {
        assert_eq!(segment("orders-value"), "orders-value");
        assert_eq!(segment("a/b c:d"), "a%2Fb%20c%3Ad");
    }
}
