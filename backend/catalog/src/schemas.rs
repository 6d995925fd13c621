//! A stream's key and value schemas under the TopicNameStrategy subjects `<topic>-key` and
//! `<topic>-value`, held in the embedded registry or, when the stream's cluster names one, in an
//! external Confluent-compatible registry. In the embedded registry the stream claims both
//! subjects for its provider when it is created, so nobody else can register schemas for its
//! topic; an external registry enforces its own access rules.

use serde_json::json;
use similar::TextDiff;
use sqlx::PgConnection;
use tributary_identity::Actor;
use tributary_registry::{
    self as registry, Caller, CompatibilityReport, Level, Reference, Registered, RegistryError,
    RemoteRegistry, ResolvedReference, SchemaInput, SubjectVersion, VersionSelector,
};
use uuid::Uuid;

use crate::{
    Catalog, CatalogError, Stream,
    clusters::{CLUSTER_COLUMNS, ClusterRow},
    streams::can_edit,
};

/// A registry error as the catalog reports it.
pub(crate) fn schema_error(error: RegistryError) -> CatalogError {
    match error {
        RegistryError::InvalidSchema(m) => CatalogError::validation("schema", m),
        e @ RegistryError::TooComplex(_) => CatalogError::validation("schema", e.to_string()),
        RegistryError::Overloaded(m) => CatalogError::Unavailable(m),
        RegistryError::ReferenceNotFound(m) => {
            CatalogError::validation("references", format!("unknown reference: {m}"))
        }
        RegistryError::Incompatible(messages) => CatalogError::IncompatibleSchema(messages),
        RegistryError::SubjectNotFound(_)
        | RegistryError::VersionNotFound(_)
        | RegistryError::SchemaNotFound(_) => CatalogError::NotFound,
        RegistryError::InvalidVersion(v) => {
            CatalogError::validation("version", format!("`{v}` is not a version"))
        }
        RegistryError::Forbidden => CatalogError::Forbidden,
        RegistryError::Conflict(m) => CatalogError::Conflict(m),
        RegistryError::Database(e) => CatalogError::Database(e),
        RegistryError::Remote(m) => CatalogError::Unavailable(m),
        other => CatalogError::Schema(other.to_string()),
    }
}

/// Who a stream's new schemas resolve their references as: its provider, so a reference can
/// only name subjects the provider may read (its own, or public ones).
fn reader_for(stream: &Stream) -> Caller {
    Caller::Org {
        org_id: stream.provider_org_id,
        write: false,
    }
}

fn level(stream: &Stream) -> Level {
    Level::ALL
        .into_iter()
        .find(|l| l.as_str() == stream.compatibility)
        .unwrap_or(Level::Backward)
}

/// Where a stream's schemas live.
pub(crate) enum Schemas {
    /// The embedded registry, read and written in the caller's transaction.
    Embedded,
    /// The cluster's external registry.
    Remote(RemoteRegistry),
}

impl Schemas {
    async fn latest(
        &self,
        conn: &mut PgConnection,
        subject: &str,
    ) -> Result<Option<SubjectVersion>, CatalogError> {
        match self {
            Self::Embedded => match registry::latest(conn, subject).await {
                Ok(v) => Ok(Some(v)),
                Err(RegistryError::SubjectNotFound(_) | RegistryError::VersionNotFound(_)) => {
                    Ok(None)
                }
                Err(e) => Err(schema_error(e)),
            },
            Self::Remote(r) => r.latest(subject).await.map_err(schema_error),
        }
    }

    async fn versions(
        &self,
        conn: &mut PgConnection,
        subject: &str,
    ) -> Result<Vec<i32>, CatalogError> {
        match self {
            Self::Embedded => match registry::versions(conn, subject, false).await {
                Ok(n) => Ok(n),
                Err(RegistryError::SubjectNotFound(_)) => Ok(Vec::new()),
                Err(e) => Err(schema_error(e)),
            },
            Self::Remote(r) => r.versions(subject).await.map_err(schema_error),
        }
    }

    async fn version(
        &self,
        conn: &mut PgConnection,
        subject: &str,
        version: i32,
    ) -> Result<SubjectVersion, CatalogError> {
        match self {
            Self::Embedded => registry::version(conn, subject, VersionSelector::Number(version))
                .await
                .map_err(schema_error),
            Self::Remote(r) => r.version(subject, version).await.map_err(schema_error),
        }
    }

    /// Loads `refs` transitively; in the embedded registry each must be readable by `reader`.
    async fn resolve(
        &self,
        conn: &mut PgConnection,
        refs: &[Reference],
        reader: &Caller,
    ) -> Result<Vec<ResolvedReference>, CatalogError> {
        match self {
            Self::Embedded => registry::resolve_references(conn, refs, reader).await,
            Self::Remote(r) => r.resolve_references(refs).await,
        }
        .map_err(schema_error)
    }
}

/// What one look at the external registries found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ExternalSync {
    /// Versions registered there directly that became their stream's; each emitted
    /// `stream.schema_changed` with `via: "external-registry"`.
    pub followed: usize,
    /// Streams created before versions were tracked: their registry's latest version was taken
    /// as the one they follow, without an event (it was announced when it was registered).
    pub baselined: usize,
    /// What could not be read or followed (`cluster`, or `cluster/subject`, with the reason);
    /// the next look tries again.
    pub failed: Vec<(String, String)>,
}

/// A stream's followed versions, as the watcher compares them.
#[derive(sqlx::FromRow)]
struct Watched {
    id: Uuid,
    topic: String,
    key_schema_version: Option<i32>,
    value_schema_version: Option<i32>,
}

/// What following one external version did.
enum Followed {
    Version,
    Baseline,
    /// Already followed (another replica was first), or the stream was retired meanwhile.
    Nothing,
}

/// One version of a stream's schema, as the schema viewer shows it.
#[derive(Debug, Clone)]
pub struct SchemaVersionView {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    pub schema_type: String,
    pub schema: String,
    /// Diff-friendly text (pretty JSON, normalized `.proto`).
    pub pretty: String,
    pub references: Vec<registry::Reference>,
}

impl From<SubjectVersion> for SchemaVersionView {
    fn from(v: SubjectVersion) -> Self {
        Self {
            pretty: registry::pretty(v.schema_type, &v.schema),
            subject: v.subject,
            version: v.version,
            id: v.id,
            schema_type: v.schema_type.as_str().to_owned(),
            schema: v.schema,
            references: v.references,
        }
    }
}

impl Catalog {
    /// Where the stream's schemas live (its cluster's registry).
    pub(crate) async fn schemas_of(
        &self,
        conn: &mut PgConnection,
        stream: &Stream,
    ) -> Result<Schemas, CatalogError> {
        let cluster = self.cluster_row(conn, stream.cluster_id).await?;
        Ok(match self.registry_for(&cluster)? {
            Some(remote) => Schemas::Remote(remote),
            None => Schemas::Embedded,
        })
    }

    /// Claims the stream's subjects for its provider and applies its compatibility level.
    ///
    /// A subject nobody owns that already has versions (embedded registry) is the operator's to
    /// list; one that already exists in an external registry needs a prefix grant covering the
    /// topic (the organization's proof that the topic is its own), and is recorded as not
    /// Tributary's: its level is never set and it is never deleted.
    pub(crate) async fn claim_subjects(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        stream: &Stream,
    ) -> Result<(), CatalogError> {
        // Subjects are named after the topic alone: two live streams with one topic name on
        // clusters that share a registry would share (and overwrite) each other's schemas. (A
        // transaction lock on the topic name makes two concurrent creations see each other.)
        sqlx::query("select pg_advisory_xact_lock(hashtextextended('tributary.topic:' || $1, 0))")
            .bind(&stream.topic)
            .execute(&mut *conn)
            .await?;
        let sharing: Option<(String, String)> = sqlx::query_as(
            "select s.name, c.name from streams s join clusters c on c.id = s.cluster_id
              where s.topic = $1 and s.id <> $2 and s.status <> 'retired'
                and c.schema_registry_url is not distinct from
                    (select schema_registry_url from clusters where id = $3)
              limit 1",
        )
        .bind(&stream.topic)
        .bind(stream.id)
        .bind(stream.cluster_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((other, cluster)) = sharing {
            return Err(CatalogError::Conflict(format!(
                "the registry subjects of topic `{}` belong to the stream \"{other}\" on cluster \"{cluster}\", which uses the same schema registry; choose another topic",
                stream.topic
            )));
        }
        let schemas = self.schemas_of(conn, stream).await?;
        match &schemas {
            Schemas::Embedded => {
                for key in [true, false] {
                    let subject = stream.subject(key);
                    let unowned = registry::subject_info(conn, &subject)
                        .await
                        .map_err(schema_error)?
                        .is_some_and(|info| info.owner_org_id.is_none());
                    let has_versions = unowned
                        && match registry::versions(conn, &subject, true).await {
                            Ok(versions) => !versions.is_empty(),
                            Err(RegistryError::SubjectNotFound(_)) => false,
                            Err(e) => return Err(schema_error(e)),
                        };
                    if has_versions && !self.identity.is_operator(actor).await? {
                        return Err(CatalogError::Conflict(format!(
                            "the registry subject `{subject}` already has schemas that no organization owns; only the operator can list this topic"
                        )));
                    }
                }
                self.claim_embedded(conn, stream).await?;
            }
            Schemas::Remote(remote) => {
                let mut preexisting = Vec::new();
                for key in [true, false] {
                    let subject = stream.subject(key);
                    if !remote
                        .versions(&subject)
                        .await
                        .map_err(schema_error)?
                        .is_empty()
                    {
                        preexisting.push(subject);
                    }
                }
                if let Some(subject) = preexisting.first() {
                    let grants = self
                        .topic_grants(conn, stream.cluster_id, stream.provider_org_id)
                        .await?;
                    if !grants.iter().any(|p| stream.topic.starts_with(p.as_str())) {
                        return Err(CatalogError::Conflict(format!(
                            "the subject `{subject}` already exists in this cluster's schema registry and Tributary did not make it: only a topic under a prefix the operator granted your organization can use it"
                        )));
                    }
                    sqlx::query("update streams set subjects_preexisting = $2 where id = $1")
                        .bind(stream.id)
                        .bind(&preexisting)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
        self.apply_level(conn, stream, &schemas).await
    }

    /// Subjects of an external registry that existed before the stream: Tributary never
    /// changes their level or deletes them.
    async fn preexisting_subjects(
        &self,
        conn: &mut PgConnection,
        stream: &Stream,
    ) -> Result<Vec<String>, CatalogError> {
        Ok(
            sqlx::query_scalar("select subjects_preexisting from streams where id = $1")
                .bind(stream.id)
                .fetch_optional(&mut *conn)
                .await?
                .unwrap_or_default(),
        )
    }

    /// Claims the stream's subjects in the embedded registry for its provider.
    async fn claim_embedded(
        &self,
        conn: &mut PgConnection,
        stream: &Stream,
    ) -> Result<(), CatalogError> {
        for key in [true, false] {
            let subject = stream.subject(key);
            registry::claim_subject(conn, &subject, stream.provider_org_id)
                .await
                .map_err(|e| match e {
                    RegistryError::Conflict(_) | RegistryError::Forbidden => CatalogError::Conflict(
                        format!("the registry subject `{subject}` belongs to another organization; choose another topic"),
                    ),
                    e => schema_error(e),
                })?;
        }
        Ok(())
    }

    /// Gives the registry subjects the stream's compatibility level.
    pub(crate) async fn apply_compatibility(
        &self,
        conn: &mut PgConnection,
        stream: &Stream,
    ) -> Result<(), CatalogError> {
        let schemas = self.schemas_of(conn, stream).await?;
        self.apply_level(conn, stream, &schemas).await
    }

    async fn apply_level(
        &self,
        conn: &mut PgConnection,
        stream: &Stream,
        schemas: &Schemas,
    ) -> Result<(), CatalogError> {
        let preexisting = match schemas {
            Schemas::Embedded => Vec::new(),
            Schemas::Remote(_) => self.preexisting_subjects(conn, stream).await?,
        };
        for key in [true, false] {
            if preexisting.contains(&stream.subject(key)) {
                continue;
            }
            match schemas {
                Schemas::Embedded => {
                    registry::set_subject_compatibility(conn, &stream.subject(key), level(stream))
                        .await
                }
                // Some registries (Apicurio) keep no config for a subject without versions;
                // registering sets the level again.
                Schemas::Remote(r) => {
                    match r.set_level(&stream.subject(key), level(stream)).await {
                        Err(RegistryError::SubjectNotFound(_)) => Ok(()),
                        other => other,
                    }
                }
            }
            .map_err(schema_error)?;
        }
        Ok(())
    }

    /// Schemas of listed streams are readable by every signed-in registry client (embedded
    /// registry; who reads an external registry is that registry's business, and its level was
    /// set when the stream was created or its contract changed).
    pub(crate) async fn sync_subject_visibility(
        &self,
        conn: &mut PgConnection,
        stream: &Stream,
    ) -> Result<(), CatalogError> {
        let schemas = self.schemas_of(conn, stream).await?;
        if let Schemas::Remote(_) = schemas {
            return Ok(());
        }
        // Streams listed before the registry existed have no subjects yet: claim them first.
        self.claim_embedded(conn, stream).await?;
        self.apply_level(conn, stream, &schemas).await?;
        let public = matches!(stream.status.as_str(), "published" | "deprecated")
            && matches!(stream.visibility.as_str(), "public" | "unlisted");
        for key in [true, false] {
            registry::set_public_read(conn, &stream.subject(key), public)
                .await
                .map_err(schema_error)?;
        }
        Ok(())
    }

    /// Removes a draft's subjects and every version in them.
    pub(crate) async fn release_subjects(
        &self,
        conn: &mut PgConnection,
        stream: &Stream,
    ) -> Result<(), CatalogError> {
        if let Schemas::Remote(remote) = self.schemas_of(conn, stream).await? {
            // Only the versions Tributary registered: a subject there has no owner, and what
            // others registered is theirs.
            let registered: Vec<(String, i32)> = sqlx::query_as(
                "select v->>'subject', (v->>'version')::int
                   from streams, jsonb_array_elements(registered_versions) v where id = $1",
            )
            .bind(stream.id)
            .fetch_all(&mut *conn)
            .await?;
            for (subject, version) in registered {
                remote
                    .delete_version(&subject, version)
                    .await
                    .map_err(schema_error)?;
            }
            return Ok(());
        }
        for key in [true, false] {
            let subject = stream.subject(key);
            for permanent in [false, true] {
                match registry::delete_subject(conn, &subject, permanent).await {
                    Ok(_)
                    | Err(RegistryError::SubjectNotFound(_))
                    | Err(RegistryError::SubjectSoftDeleted(_)) => {}
                    Err(e) => return Err(schema_error(e)),
                }
            }
            // The subject row itself goes too, so the topic name is free for a later listing.
            sqlx::query(
                "delete from registry_subjects s where name = $1
                   and not exists (select 1 from registry_versions v where v.subject = s.name)",
            )
            .bind(&subject)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Registers a new key or value schema version for the stream. It is accepted only if it is
    /// compatible under the stream's level; an accepted change emits `stream.schema_changed`.
    pub async fn register_schema(
        &self,
        actor: &Actor,
        stream_id: Uuid,
        key: bool,
        input: SchemaInput,
    ) -> Result<(Stream, SchemaVersionView, bool), CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream = self
            .stream_for_change(&mut tx, actor, stream_id, can_edit)
            .await?;
        let subject = stream.subject(key);
        let schemas = self.schemas_of(&mut tx, &stream).await?;
        let before = schemas.latest(&mut tx, &subject).await?;
        let current = match &schemas {
            Schemas::Embedded => {
                let Registered { version, .. } =
                    registry::register(&mut tx, &subject, input, &reader_for(&stream))
                        .await
                        .map_err(schema_error)?;
                schemas.version(&mut tx, &subject, version).await?
            }
            Schemas::Remote(remote) => {
                // Checked here first: the real parsers give precise errors, and a compatibility
                // check gives the reasons a bare 409 would not.
                let refs = remote
                    .resolve_references(&input.references)
                    .await
                    .map_err(schema_error)?;
                registry::field_names(input.schema_type, &input.schema, &refs)
                    .await
                    .map_err(schema_error)?;
                if before.is_some() {
                    let report = remote.check(&subject, &input).await.map_err(schema_error)?;
                    if !report.is_compatible {
                        return Err(CatalogError::IncompatibleSchema(report.messages));
                    }
                }
                let registered = remote
                    .register(&subject, &input)
                    .await
                    .map_err(schema_error)?;
                if before
                    .as_ref()
                    .is_none_or(|b| b.version < registered.version)
                {
                    sqlx::query(
                        "update streams set registered_versions = registered_versions || $2 where id = $1",
                    )
                    .bind(stream.id)
                    .bind(json!([{ "subject": subject, "version": registered.version }]))
                    .execute(&mut *tx)
                    .await?;
                }
                if !self
                    .preexisting_subjects(&mut tx, &stream)
                    .await?
                    .contains(&subject)
                {
                    remote
                        .set_level(&subject, level(&stream))
                        .await
                        .map_err(schema_error)?;
                }
                registered
            }
        };
        let version = current.version;
        let created = before.as_ref().is_none_or(|b| b.version < version);
        if created {
            self.follow_schema_version(
                &mut tx,
                &actor.audit(),
                &stream,
                key,
                &current,
                before.as_ref(),
                None,
            )
            .await?;
        }
        let after = self.stream_row(&mut tx, stream_id, false).await?;
        self.commit(tx).await?;
        Ok((after, SchemaVersionView::from(current), created))
    }

    /// A version registered through the registry's REST API (a serializer with
    /// `auto.register.schemas`, a CI pipeline): if the subject is a stream's, the stream's schema
    /// type and search fields follow, and subscribers get `stream.schema_changed` like for
    /// changes made through GraphQL. Runs in the registering transaction.
    pub async fn schema_registered_via_registry(
        &self,
        conn: &mut PgConnection,
        subject: &str,
        version: i32,
    ) -> Result<(), CatalogError> {
        let (topic, key) = match (subject.strip_suffix("-key"), subject.strip_suffix("-value")) {
            (Some(topic), _) => (topic, true),
            (_, Some(topic)) => (topic, false),
            _ => return Ok(()),
        };
        let Some(info) = registry::subject_info(conn, subject)
            .await
            .map_err(schema_error)?
        else {
            return Ok(());
        };
        let Some(owner) = info.owner_org_id else {
            return Ok(());
        };
        let id: Option<Uuid> = sqlx::query_scalar(
            "select id from streams where topic = $1 and provider_org_id = $2 and status <> 'retired' for update",
        )
        .bind(topic)
        .bind(owner)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(id) = id else {
            return Ok(());
        };
        let stream = self.stream_row(conn, id, false).await?;
        let current = registry::version(conn, subject, VersionSelector::Number(version))
            .await
            .map_err(schema_error)?;
        let before = registry::versions(conn, subject, false)
            .await
            .map_err(schema_error)?
            .into_iter()
            .filter(|v| *v < version)
            .max();
        let before = match before {
            Some(v) => registry::version(conn, subject, VersionSelector::Number(v))
                .await
                .ok(),
            None => None,
        };
        self.follow_schema_version(
            conn,
            &tributary_db::audit::AuditActor::default(),
            &stream,
            key,
            &current,
            before.as_ref(),
            Some("registry"),
        )
        .await
    }

    /// The published or deprecated stream whose key or value schemas `subject` holds in the
    /// embedded registry (its level follows the stream's contract; its versions stay).
    pub async fn stream_governing_subject(
        &self,
        conn: &mut PgConnection,
        subject: &str,
    ) -> Result<Option<String>, CatalogError> {
        let Some(topic) = subject
            .strip_suffix("-key")
            .or_else(|| subject.strip_suffix("-value"))
        else {
            return Ok(None);
        };
        let Some(owner) = registry::subject_info(conn, subject)
            .await
            .map_err(schema_error)?
            .and_then(|info| info.owner_org_id)
        else {
            return Ok(None);
        };
        Ok(sqlx::query_scalar(
            "select s.name from streams s join clusters c on c.id = s.cluster_id
              where s.topic = $1 and s.provider_org_id = $2 and s.status in ('published', 'deprecated')
                and c.schema_registry_url is null
              limit 1",
        )
        .bind(topic)
        .bind(owner)
        .fetch_optional(&mut *conn)
        .await?)
    }

    /// A new key/value version becomes the stream's: schema type and search fields follow, and
    /// `stream.schema_changed` (audit + outbox) tells subscribers.
    #[allow(clippy::too_many_arguments)]
    async fn follow_schema_version(
        &self,
        conn: &mut PgConnection,
        actor: &tributary_db::audit::AuditActor,
        stream: &Stream,
        key: bool,
        current: &SubjectVersion,
        before: Option<&SubjectVersion>,
        via: Option<&str>,
    ) -> Result<(), CatalogError> {
        let fields = self.current_fields(conn, stream, key, current).await?;
        let role = if key { "key" } else { "value" };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "update streams set {role}_schema_type = $2, {role}_schema_version = $3, schema_fields = $4, updated_at = now() where id = $1"
        )))
        .bind(stream.id)
        .bind(current.schema_type.as_str())
        .bind(current.version)
        .bind(&fields)
        .execute(&mut *conn)
        .await?;
        let after = self.stream_row(conn, stream.id, false).await?;
        let mut payload = json!({
            "subject": current.subject, "role": if key { "key" } else { "value" },
            "version": current.version, "schemaId": current.id,
            "schemaType": current.schema_type.as_str(), "compatibility": after.compatibility,
        });
        if let Some(via) = via {
            payload["via"] = json!(via);
        }
        self.record_as(
            conn,
            actor,
            &after,
            "stream.schema_changed",
            before.map(|b| json!({ "version": b.version, "schemaId": b.id })),
            payload,
        )
        .await
    }

    /// The union of the field names of the stream's current key and value schemas.
    async fn current_fields(
        &self,
        conn: &mut PgConnection,
        stream: &Stream,
        key: bool,
        new: &SubjectVersion,
    ) -> Result<Vec<String>, CatalogError> {
        let schemas = self.schemas_of(conn, stream).await?;
        let other = schemas.latest(conn, &stream.subject(!key)).await?;
        let mut fields = Vec::new();
        for version in [Some(new), other.as_ref()].into_iter().flatten() {
            // Stored versions: their references were checked when they were registered.
            let refs = schemas
                .resolve(conn, &version.references, &Caller::Operator)
                .await?;
            fields.extend(
                registry::field_names(version.schema_type, &version.schema, &refs)
                    .await
                    .map_err(schema_error)?,
            );
        }
        fields.sort();
        fields.dedup();
        fields.truncate(2000);
        Ok(fields)
    }

    /// Would this schema be accepted as the stream's next key/value version? (A dry run.)
    pub async fn check_schema(
        &self,
        actor: &Actor,
        stream_id: Uuid,
        key: bool,
        input: SchemaInput,
    ) -> Result<CompatibilityReport, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream = self
            .stream_for_change(&mut tx, actor, stream_id, can_edit)
            .await?;
        let subject = stream.subject(key);
        let schemas = self.schemas_of(&mut tx, &stream).await?;
        if schemas.latest(&mut tx, &subject).await?.is_none() {
            // First version: only validity matters.
            let refs = schemas
                .resolve(&mut tx, &input.references, &reader_for(&stream))
                .await?;
            registry::field_names(input.schema_type, &input.schema, &refs)
                .await
                .map_err(schema_error)?;
            return Ok(CompatibilityReport {
                is_compatible: true,
                messages: Vec::new(),
            });
        }
        let report = match &schemas {
            Schemas::Embedded => {
                registry::check_compatibility(
                    &mut tx,
                    &subject,
                    input,
                    VersionSelector::Latest,
                    &reader_for(&stream),
                )
                .await
            }
            Schemas::Remote(remote) => remote.check(&subject, &input).await,
        }
        .map_err(schema_error)?;
        tx.rollback().await?;
        Ok(report)
    }

    /// Every live version of the stream's key or value schema, oldest first.
    pub async fn schema_versions(
        &self,
        actor: Option<&Actor>,
        stream_id: Uuid,
        key: bool,
    ) -> Result<Vec<SchemaVersionView>, CatalogError> {
        let stream = self.stream(actor, stream_id).await?;
        let mut conn = self.pool.acquire().await?;
        let subject = stream.subject(key);
        let schemas = self.schemas_of(&mut conn, &stream).await?;
        let numbers = schemas.versions(&mut conn, &subject).await?;
        let mut out = Vec::with_capacity(numbers.len());
        for n in numbers {
            out.push(SchemaVersionView::from(
                schemas.version(&mut conn, &subject, n).await?,
            ));
        }
        Ok(out)
    }

    /// Looks at every external registry for versions registered there directly (a producer's
    /// serializer with `auto.register.schemas`, another tool) and follows each one like a
    /// version registered through Tributary: schema type, search fields, and
    /// `stream.schema_changed` so subscribers are told. Safe to run on every replica at once: a
    /// version is followed under the stream's row lock, once.
    pub async fn follow_external_registries(&self) -> Result<ExternalSync, CatalogError> {
        let clusters: Vec<ClusterRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {CLUSTER_COLUMNS} from clusters where schema_registry_url is not null order by name"
        )))
        .fetch_all(&self.pool)
        .await?;
        let mut sync = ExternalSync::default();
        'clusters: for cluster in clusters {
            let remote = match self.registry_for(&cluster) {
                Ok(Some(remote)) => remote,
                Ok(None) => continue,
                Err(e) => {
                    sync.failed.push((cluster.name.clone(), e.to_string()));
                    continue;
                }
            };
            let streams: Vec<Watched> = sqlx::query_as(
                "select id, topic, key_schema_version, value_schema_version from streams
                  where cluster_id = $1 and status <> 'retired' order by created_at",
            )
            .bind(cluster.id)
            .fetch_all(&self.pool)
            .await?;
            for stream in streams {
                for key in [true, false] {
                    let subject = format!("{}-{}", stream.topic, if key { "key" } else { "value" });
                    let latest = match remote.latest(&subject).await {
                        Ok(Some(latest)) => latest,
                        Ok(None) => continue,
                        // The registry is down or refuses us: the rest of it would fail too.
                        Err(RegistryError::Remote(reason)) => {
                            sync.failed.push((cluster.name.clone(), reason));
                            continue 'clusters;
                        }
                        Err(e) => {
                            sync.failed
                                .push((format!("{}/{subject}", cluster.name), e.to_string()));
                            continue;
                        }
                    };
                    let followed = if key {
                        stream.key_schema_version
                    } else {
                        stream.value_schema_version
                    };
                    if followed.is_some_and(|v| v >= latest.version) {
                        continue;
                    }
                    match self.follow_external_version(stream.id, key, &latest).await {
                        Ok(Followed::Version) => sync.followed += 1,
                        Ok(Followed::Baseline) => sync.baselined += 1,
                        Ok(Followed::Nothing) => {}
                        Err(e) => sync
                            .failed
                            .push((format!("{}/{subject}", cluster.name), e.to_string())),
                    }
                }
            }
        }
        Ok(sync)
    }

    async fn follow_external_version(
        &self,
        stream_id: Uuid,
        key: bool,
        latest: &SubjectVersion,
    ) -> Result<Followed, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let stream = self.stream_row(&mut tx, stream_id, true).await?;
        let role = if key { "key" } else { "value" };
        let (followed, schema_type): (Option<i32>, Option<String>) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {role}_schema_version, {role}_schema_type from streams where id = $1"
            )))
            .bind(stream_id)
            .fetch_one(&mut *tx)
            .await?;
        if stream.status == "retired" || followed.is_some_and(|v| v >= latest.version) {
            return Ok(Followed::Nothing);
        }
        if followed.is_none() && schema_type.is_some() {
            // A schema was registered before versions were tracked: start from here.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "update streams set {role}_schema_version = $2 where id = $1"
            )))
            .bind(stream_id)
            .bind(latest.version)
            .execute(&mut *tx)
            .await?;
            self.commit(tx).await?;
            return Ok(Followed::Baseline);
        }
        let schemas = self.schemas_of(&mut tx, &stream).await?;
        let before = match followed {
            Some(v) => schemas.version(&mut tx, &stream.subject(key), v).await.ok(),
            None => None,
        };
        self.follow_schema_version(
            &mut tx,
            &tributary_db::audit::AuditActor::default(),
            &stream,
            key,
            latest,
            before.as_ref(),
            Some("external-registry"),
        )
        .await?;
        self.commit(tx).await?;
        Ok(Followed::Version)
    }
}

/// A unified diff between two versions' pretty texts.
pub fn schema_diff(from: &SchemaVersionView, to: &SchemaVersionView) -> String {
    TextDiff::from_lines(&from.pretty, &to.pretty)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("version {}", from.version),
            &format!("version {}", to.version),
        )
        .to_string()
}
