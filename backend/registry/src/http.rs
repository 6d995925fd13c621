//! The Confluent Schema Registry REST API, to be nested under `/registry`.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header::CONTENT_TYPE},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};

use crate::{
    AuthFailure, Caller, CompatibilityReport, Level, MAX_SCHEMA_BYTES, Reference, RegistryAuth,
    RegistryError, RegistryHooks, SchemaInput, SchemaType,
    store::{self, SubjectInfo, SubjectVersion, VersionSelector},
};

const CONTENT_TYPE_V1: &str = "application/vnd.schemaregistry.v1+json";

#[derive(Clone)]
struct RegistryState {
    pool: PgPool,
    auth: Arc<dyn RegistryAuth>,
    hooks: Arc<dyn RegistryHooks>,
}

/// The registry's routes (Confluent paths), to be nested at `/registry`. Generic over the outer
/// router's state so it nests anywhere (`Router<()>` by default).
pub fn router<S>(
    pool: PgPool,
    auth: Arc<dyn RegistryAuth>,
    hooks: Arc<dyn RegistryHooks>,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/", get(root))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(get_version_schema),
        )
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/versions", get(schema_versions))
        .route("/schemas/ids/{id}/subjects", get(schema_subjects))
        .route("/config", get(get_global_config).put(put_global_config))
        .route(
            "/config/{subject}",
            get(get_subject_config)
                .put(put_subject_config)
                .delete(delete_subject_config),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatibility),
        )
        .with_state(RegistryState { pool, auth, hooks })
}

/// `GET /`: Confluent answers the root with an empty object (clients use it as a ping). Mounted
/// under a prefix, the API serves it with and without the trailing slash.
pub async fn root() -> Response {
    reply(StatusCode::OK, &json!({}))
}

/// An error as Confluent clients expect it: status plus `{error_code, message}`.
#[derive(Debug)]
struct HttpError {
    status: StatusCode,
    code: u32,
    message: String,
}

impl From<RegistryError> for HttpError {
    fn from(e: RegistryError) -> Self {
        use RegistryError as E;
        let (status, code) = match &e {
            E::SubjectNotFound(_) => (StatusCode::NOT_FOUND, 40401),
            E::VersionNotFound(_) => (StatusCode::NOT_FOUND, 40402),
            E::SchemaNotFound(_) => (StatusCode::NOT_FOUND, 40403),
            E::SubjectSoftDeleted(_) => (StatusCode::NOT_FOUND, 40404),
            E::SubjectNotSoftDeleted(_) => (StatusCode::NOT_FOUND, 40405),
            E::VersionNotSoftDeleted { .. } => (StatusCode::NOT_FOUND, 40407),
            E::SubjectLevelNotConfigured(_) => (StatusCode::NOT_FOUND, 40408),
            E::InvalidSchema(_) | E::TooComplex(_) | E::ReferenceNotFound(_) | E::Decode(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, 42201)
            }
            E::InvalidVersion(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42202),
            E::InvalidLevel(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42203),
            E::NotPermitted(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42205),
            E::ReferenceExists(_) => (StatusCode::UNPROCESSABLE_ENTITY, 42206),
            E::Incompatible(_) => (StatusCode::CONFLICT, 409),
            E::Conflict(_) => (StatusCode::CONFLICT, 40901),
            E::Forbidden => (StatusCode::FORBIDDEN, 40301),
            E::Remote(_) => (StatusCode::BAD_GATEWAY, 50003),
            E::Overloaded(_) => (StatusCode::SERVICE_UNAVAILABLE, 50002),
            E::Database(cause) => {
                tracing::error!(error = %cause, "schema registry store error");
                return Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: 50001,
                    message: "Error in the backend data store".into(),
                };
            }
        };
        Self {
            status,
            code,
            message: e.to_string(),
        }
    }
}

impl From<sqlx::Error> for HttpError {
    fn from(e: sqlx::Error) -> Self {
        RegistryError::Database(e).into()
    }
}

impl From<AuthFailure> for HttpError {
    fn from(e: AuthFailure) -> Self {
        match e {
            AuthFailure::Unauthenticated(message) => Self {
                status: StatusCode::UNAUTHORIZED,
                code: 40101,
                message,
            },
            AuthFailure::Unavailable(cause) => {
                tracing::error!(error = %cause, "schema registry authentication failed");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: 50001,
                    message: "Error in the backend data store".into(),
                }
            }
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = reply(
            self.status,
            &json!({ "error_code": self.code, "message": self.message }),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Basic realm=\"tributary-registry\""),
            );
        }
        response
    }
}

fn reply(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_V1));
    response
}

fn ok(body: Value) -> Result<Response, HttpError> {
    Ok(reply(StatusCode::OK, &body))
}

type Params = Query<HashMap<String, String>>;

fn flag(params: &HashMap<String, String>, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

async fn caller(state: &RegistryState, headers: &HeaderMap) -> Result<Caller, HttpError> {
    Ok(state.auth.authenticate(headers).await?)
}

fn forbidden() -> HttpError {
    RegistryError::Forbidden.into()
}

/// The subject if it exists and the caller may read it; 40401 otherwise, also when it is
/// someone else's (another tenant's draft or private topic names are not revealed).
async fn readable(
    conn: &mut PgConnection,
    caller: &Caller,
    subject: &str,
) -> Result<SubjectInfo, HttpError> {
    match store::subject_info(conn, subject).await? {
        Some(info) if caller.can_read(&info) => Ok(info),
        _ => Err(RegistryError::SubjectNotFound(subject.to_owned()).into()),
    }
}

async fn writable(
    conn: &mut PgConnection,
    caller: &Caller,
    subject: &str,
) -> Result<Option<SubjectInfo>, HttpError> {
    let info = store::subject_info(conn, subject).await?;
    if caller.can_write(info.as_ref()) {
        Ok(info)
    } else {
        Err(forbidden())
    }
}

/// A change of level or a deletion: the caller must be able to write the subject, and a
/// subject that carries a published stream's schemas refuses both (its level follows the
/// stream's contract and its versions are what subscribers read). The operator may still.
async fn changeable(
    state: &RegistryState,
    conn: &mut PgConnection,
    caller: &Caller,
    subject: &str,
    change: &str,
) -> Result<(), HttpError> {
    writable(conn, caller, subject).await?;
    if *caller == Caller::Operator {
        return Ok(());
    }
    match state.hooks.governing_stream(conn, subject).await? {
        Some(stream) => Err(RegistryError::NotPermitted(format!(
            "Subject '{subject}' carries the schemas of the published stream '{stream}': {change} is not permitted here. Its compatibility follows the stream's contract (change it in Tributary), and its versions stay until the stream is retired."
        ))
        .into()),
        None => Ok(()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaBody {
    schema: String,
    schema_type: Option<String>,
    references: Option<Vec<Reference>>,
}

fn schema_input(body: &Bytes) -> Result<SchemaInput, HttpError> {
    if body.len() > MAX_SCHEMA_BYTES + 64 * 1024 {
        return Err(RegistryError::InvalidSchema(format!(
            "the schema is larger than {MAX_SCHEMA_BYTES} bytes"
        ))
        .into());
    }
    let parsed: SchemaBody = serde_json::from_slice(body).map_err(|e| HttpError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: 42201,
        message: format!("Invalid request body: {e}"),
    })?;
    let schema_type = match parsed.schema_type.as_deref() {
        None | Some("") => SchemaType::Avro,
        Some(t) => t.parse()?,
    };
    Ok(SchemaInput {
        schema_type,
        schema: parsed.schema,
        references: parsed.references.unwrap_or_default(),
    })
}

fn version_json(v: &SubjectVersion) -> Value {
    let mut body = json!({
        "subject": v.subject,
        "version": v.version,
        "id": v.id,
        "schema": v.schema,
    });
    decorate(&mut body, v.schema_type, &v.references);
    body
}

/// Confluent omits `schemaType` for Avro and `references` when there are none.
fn decorate(body: &mut Value, schema_type: SchemaType, references: &[Reference]) {
    if schema_type != SchemaType::Avro {
        body["schemaType"] = json!(schema_type.as_str());
    }
    if !references.is_empty() {
        body["references"] = json!(references);
    }
}

// ------------------------------------------------------------------------- subjects

async fn list_subjects(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let mut conn = state.pool.acquire().await?;
    let names: Vec<String> = store::subjects(&mut conn, flag(&params, "deleted"))
        .await?
        .into_iter()
        .filter(|s| caller.can_read(s))
        .map(|s| s.name)
        .collect();
    ok(json!(names))
}

async fn list_versions(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(subject): Path<String>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let mut conn = state.pool.acquire().await?;
    readable(&mut conn, &caller, &subject).await?;
    ok(json!(
        store::versions(&mut conn, &subject, flag(&params, "deleted")).await?
    ))
}

async fn get_version(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path((subject, version)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let selector: VersionSelector = version.parse()?;
    let mut conn = state.pool.acquire().await?;
    readable(&mut conn, &caller, &subject).await?;
    let v = store::version(&mut conn, &subject, selector).await?;
    ok(version_json(&v))
}

async fn get_version_schema(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path((subject, version)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let selector: VersionSelector = version.parse()?;
    let mut conn = state.pool.acquire().await?;
    readable(&mut conn, &caller, &subject).await?;
    let v = store::version(&mut conn, &subject, selector).await?;
    Ok(raw(v.schema))
}

fn raw(schema: String) -> Response {
    let mut response = (StatusCode::OK, schema).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_V1));
    response
}

async fn register(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(subject): Path<String>,
    body: Bytes,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let input = schema_input(&body)?;
    let schema_type = input.schema_type;
    let mut tx = state.pool.begin().await?;
    writable(&mut tx, &caller, &subject).await?;
    let before = store::latest(&mut tx, &subject)
        .await
        .ok()
        .map(|v| v.version);
    let registered = store::register(&mut tx, &subject, input, &caller).await?;
    if before.is_none_or(|b| b < registered.version) {
        state
            .hooks
            .version_registered(&mut tx, &subject, registered.version)
            .await?;
    }
    let v = store::version(
        &mut tx,
        &subject,
        VersionSelector::Number(registered.version),
    )
    .await?;
    tx.commit().await?;
    let mut body = json!({
        "id": registered.id,
        "version": registered.version,
        "subject": subject,
        "schema": v.schema,
    });
    decorate(&mut body, schema_type, &v.references);
    ok(body)
}

async fn lookup(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(subject): Path<String>,
    body: Bytes,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let input = schema_input(&body)?;
    let mut conn = state.pool.acquire().await?;
    readable(&mut conn, &caller, &subject).await?;
    let v = store::lookup(&mut conn, &subject, input, &caller).await?;
    ok(version_json(&v))
}

async fn delete_subject(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(subject): Path<String>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let mut tx = state.pool.begin().await?;
    if store::subject_info(&mut tx, &subject).await?.is_none() {
        return Err(RegistryError::SubjectNotFound(subject).into());
    }
    changeable(&state, &mut tx, &caller, &subject, "deleting it").await?;
    let deleted = store::delete_subject(&mut tx, &subject, flag(&params, "permanent")).await?;
    tx.commit().await?;
    ok(json!(deleted))
}

async fn delete_version(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let selector: VersionSelector = version.parse()?;
    let mut tx = state.pool.begin().await?;
    if store::subject_info(&mut tx, &subject).await?.is_none() {
        return Err(RegistryError::SubjectNotFound(subject).into());
    }
    changeable(&state, &mut tx, &caller, &subject, "deleting a version").await?;
    let deleted =
        store::delete_version(&mut tx, &subject, selector, flag(&params, "permanent")).await?;
    tx.commit().await?;
    ok(json!(deleted))
}

// ------------------------------------------------------------------------- schemas

async fn schema_types(
    State(state): State<RegistryState>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    caller(&state, &headers).await?;
    ok(json!(["JSON", "PROTOBUF", "AVRO"]))
}

fn parse_id(id: &str) -> Result<i32, HttpError> {
    id.parse::<i32>()
        .map_err(|_| RegistryError::SchemaNotFound(id.to_owned()).into())
}

/// The (subject, version) pairs of schema `id` the caller may read; 40403 when none exists,
/// 40301 when none is readable.
async fn readable_usages(
    conn: &mut PgConnection,
    caller: &Caller,
    id: i32,
) -> Result<Vec<(String, i32, bool)>, HttpError> {
    store::schema_by_id(conn, id).await?;
    let usages = store::schema_usages(conn, id, true).await?;
    let mut out = Vec::new();
    for (subject, version) in usages {
        if let Some(info) = store::subject_info(conn, &subject).await?
            && caller.can_read(&info)
        {
            let live = store::version(conn, &subject, VersionSelector::Number(version))
                .await
                .is_ok();
            out.push((subject, version, live));
        }
    }
    if out.is_empty() && *caller != Caller::Operator {
        return Err(forbidden());
    }
    Ok(out)
}

async fn schema_by_id(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let id = parse_id(&id)?;
    let mut conn = state.pool.acquire().await?;
    readable_usages(&mut conn, &caller, id).await?;
    let record = store::schema_by_id(&mut conn, id).await?;
    let mut body = json!({ "schema": record.schema });
    decorate(&mut body, record.schema_type, &record.references);
    ok(body)
}

async fn raw_schema_by_id(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let id = parse_id(&id)?;
    let mut conn = state.pool.acquire().await?;
    readable_usages(&mut conn, &caller, id).await?;
    Ok(raw(store::schema_by_id(&mut conn, id).await?.schema))
}

async fn schema_versions(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let id = parse_id(&id)?;
    let mut conn = state.pool.acquire().await?;
    let deleted = flag(&params, "deleted");
    let pairs: Vec<Value> = readable_usages(&mut conn, &caller, id)
        .await?
        .into_iter()
        .filter(|(_, _, live)| *live || deleted)
        .map(|(subject, version, _)| json!({ "subject": subject, "version": version }))
        .collect();
    ok(json!(pairs))
}

async fn schema_subjects(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let id = parse_id(&id)?;
    let mut conn = state.pool.acquire().await?;
    let deleted = flag(&params, "deleted");
    let mut subjects: Vec<String> = readable_usages(&mut conn, &caller, id)
        .await?
        .into_iter()
        .filter(|(_, _, live)| *live || deleted)
        .map(|(subject, _, _)| subject)
        .collect();
    subjects.dedup();
    ok(json!(subjects))
}

// ------------------------------------------------------------------------- config

#[derive(Deserialize)]
struct ConfigBody {
    compatibility: String,
}

fn level_from(body: &Bytes) -> Result<Level, HttpError> {
    let parsed: ConfigBody = serde_json::from_slice(body)
        .map_err(|e| RegistryError::InvalidLevel(format!("invalid request body: {e}")))?;
    Ok(parsed.compatibility.parse()?)
}

async fn get_global_config(
    State(state): State<RegistryState>,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    caller(&state, &headers).await?;
    let mut conn = state.pool.acquire().await?;
    let level = store::global_compatibility(&mut conn).await?;
    ok(json!({ "compatibilityLevel": level.as_str() }))
}

async fn put_global_config(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, HttpError> {
    if caller(&state, &headers).await? != Caller::Operator {
        return Err(forbidden());
    }
    let level = level_from(&body)?;
    let mut conn = state.pool.acquire().await?;
    store::set_global_compatibility(&mut conn, level).await?;
    ok(json!({ "compatibility": level.as_str() }))
}

async fn get_subject_config(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(subject): Path<String>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let mut conn = state.pool.acquire().await?;
    // A subject without its own level answers 40408 (or the global level with
    // `defaultToGlobal`), also when it does not exist or the caller may not read it.
    let own = match store::subject_info(&mut conn, &subject).await? {
        Some(info) if caller.can_read(&info) => {
            store::subject_compatibility(&mut conn, &subject).await?
        }
        _ => None,
    };
    let level = match own {
        Some(level) => level,
        None if flag(&params, "defaultToGlobal") => store::global_compatibility(&mut conn).await?,
        None => return Err(RegistryError::SubjectLevelNotConfigured(subject).into()),
    };
    ok(json!({ "compatibilityLevel": level.as_str() }))
}

async fn put_subject_config(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(subject): Path<String>,
    body: Bytes,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let level = level_from(&body)?;
    let mut tx = state.pool.begin().await?;
    changeable(
        &state,
        &mut tx,
        &caller,
        &subject,
        "changing its compatibility",
    )
    .await?;
    store::set_subject_compatibility(&mut tx, &subject, level).await?;
    tx.commit().await?;
    ok(json!({ "compatibility": level.as_str() }))
}

async fn delete_subject_config(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path(subject): Path<String>,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let mut tx = state.pool.begin().await?;
    if store::subject_info(&mut tx, &subject).await?.is_none() {
        return Err(RegistryError::SubjectNotFound(subject).into());
    }
    changeable(
        &state,
        &mut tx,
        &caller,
        &subject,
        "changing its compatibility",
    )
    .await?;
    let previous = store::clear_subject_compatibility(&mut tx, &subject).await?;
    tx.commit().await?;
    ok(json!({ "compatibilityLevel": previous.as_str() }))
}

// ------------------------------------------------------------------------- compatibility

async fn compatibility(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    Path((subject, version)): Path<(String, String)>,
    Query(params): Params,
    body: Bytes,
) -> Result<Response, HttpError> {
    let caller = caller(&state, &headers).await?;
    let selector: VersionSelector = version.parse()?;
    let input = schema_input(&body)?;
    let mut conn = state.pool.acquire().await?;
    // As in Confluent's registry, a subject without versions accepts any valid schema at
    // `latest`, and has no numbered version (40402). A subject the caller may not read looks
    // exactly like one that does not exist.
    let readable = store::subject_info(&mut conn, &subject)
        .await?
        .is_some_and(|info| caller.can_read(&info));
    let checked = if readable {
        store::check_compatibility(&mut conn, &subject, input.clone(), selector, &caller).await
    } else {
        Err(RegistryError::SubjectNotFound(subject.clone()))
    };
    let report = match (checked, selector) {
        (Err(RegistryError::SubjectNotFound(_)), VersionSelector::Latest) => {
            store::validate(&mut conn, &input, &caller).await?;
            CompatibilityReport {
                is_compatible: true,
                messages: Vec::new(),
            }
        }
        (Err(RegistryError::SubjectNotFound(_)), VersionSelector::Number(n)) => {
            store::validate(&mut conn, &input, &caller).await?;
            return Err(RegistryError::VersionNotFound(n.to_string()).into());
        }
        (checked, _) => checked?,
    };
    if flag(&params, "verbose") {
        ok(json!({ "is_compatible": report.is_compatible, "messages": report.messages }))
    } else {
        ok(json!({ "is_compatible": report.is_compatible }))
    }
}
