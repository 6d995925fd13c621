//! Subjects, versions, schemas and configuration in PostgreSQL. Writers take a connection so
//! the caller decides the transaction.

use std::{collections::HashSet, str::FromStr};

use serde::Serialize;
use sqlx::{PgConnection, types::Json};
use uuid::Uuid;

use crate::{
    CompatibilityReport, Level, Reference, RegistryError, ResolvedReference, SchemaInput,
    SchemaType,
    access::Caller,
    budget,
    budget::Budget,
    schema::{self, Normalized, Parsed},
};

/// What a registration answers: the global schema id and the subject's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Registered {
    pub id: i32,
    pub version: i32,
}

/// A schema by its global id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaRecord {
    pub id: i32,
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<Reference>,
}

/// One version of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectVersion {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<Reference>,
    pub deleted: bool,
}

/// A subject with the facts authorization needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectInfo {
    pub name: String,
    pub owner_org_id: Option<Uuid>,
    pub public_read: bool,
}

/// `latest` or a version number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionSelector {
    Latest,
    Number(i32),
}

impl FromStr for VersionSelector {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" || s == "-1" {
            return Ok(Self::Latest);
        }
        match s.parse::<i32>() {
            Ok(n) if n >= 1 => Ok(Self::Number(n)),
            _ => Err(RegistryError::InvalidVersion(s.to_owned())),
        }
    }
}

type VersionRow = (String, i32, i32, String, String, Json<Vec<Reference>>, bool);

const VERSION_COLUMNS: &str =
    "v.subject, v.version, s.id, s.schema_type, s.schema_text, s.schema_references, v.deleted";

fn version_from_row(row: VersionRow) -> Result<SubjectVersion, RegistryError> {
    let (subject, version, id, schema_type, schema, Json(references), deleted) = row;
    Ok(SubjectVersion {
        subject,
        version,
        id,
        schema_type: schema_type.parse()?,
        schema,
        references,
        deleted,
    })
}

/// A referenced version: its text and references, and its subject's owner and public flag.
type ReferencedRow = (String, Json<Vec<Reference>>, Option<Uuid>, bool);

/// Most references one schema may load, transitively.
pub const MAX_REFERENCES: usize = 100;
/// Most schema text one schema's references may load, transitively.
pub const MAX_REFERENCE_BYTES: usize = 4 * 1024 * 1024;

/// Loads the references' schemas transitively, dependencies first, each name once.
///
/// Each referenced subject must be readable by `reader`: a reference to a subject it may not
/// read fails exactly as one to a subject that does not exist, so references neither read
/// another tenant's schemas nor tell which subjects exist. Stored versions were checked when
/// they were registered and resolve as [`Caller::Operator`]. At most [`MAX_REFERENCES`]
/// references and [`MAX_REFERENCE_BYTES`] of text are loaded.
pub async fn resolve_references(
    conn: &mut PgConnection,
    references: &[Reference],
    reader: &Caller,
) -> Result<Vec<ResolvedReference>, RegistryError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut loaded = 0usize;
    let mut bytes = 0usize;
    // Depth-first with an explicit stack: (reference, children already expanded).
    let mut stack: Vec<(Reference, bool)> = references
        .iter()
        .rev()
        .cloned()
        .map(|r| (r, false))
        .collect();
    while let Some((reference, expanded)) = stack.pop() {
        if seen.contains(&reference.name) {
            continue;
        }
        loaded += 1;
        if loaded > 4 * MAX_REFERENCES {
            return Err(RegistryError::TooComplex(format!(
                "it needs more than {MAX_REFERENCES} references"
            )));
        }
        let row: Option<ReferencedRow> = sqlx::query_as(
            "select s.schema_text, s.schema_references, sub.owner_org_id, sub.public_read
               from registry_versions v
               join registry_schemas s on s.id = v.schema_id
               join registry_subjects sub on sub.name = v.subject
              where v.subject = $1 and v.version = $2",
        )
        .bind(&reference.subject)
        .bind(reference.version)
        .fetch_optional(&mut *conn)
        .await?;
        let readable = row.filter(|(_, _, owner_org_id, public_read)| {
            reader.can_read(&SubjectInfo {
                name: reference.subject.clone(),
                owner_org_id: *owner_org_id,
                public_read: *public_read,
            })
        });
        let (schema, Json(children), _, _) = readable.ok_or_else(|| {
            RegistryError::ReferenceNotFound(format!(
                "{} (subject {:?} version {}) does not exist",
                reference.name, reference.subject, reference.version
            ))
        })?;
        if expanded || children.iter().all(|c| seen.contains(&c.name)) {
            bytes += schema.len();
            if out.len() >= MAX_REFERENCES || bytes > MAX_REFERENCE_BYTES {
                return Err(RegistryError::TooComplex(format!(
                    "its references exceed {MAX_REFERENCES} schemas or {MAX_REFERENCE_BYTES} bytes"
                )));
            }
            seen.insert(reference.name.clone());
            out.push(ResolvedReference {
                name: reference.name,
                schema,
            });
        } else {
            stack.push((reference, true));
            for child in children.into_iter().rev() {
                if !seen.contains(&child.name) {
                    stack.push((child, false));
                }
            }
        }
    }
    Ok(out)
}

/// A stored version's text with its references loaded, ready to parse off the async workers.
struct Unparsed {
    version: i32,
    schema_type: SchemaType,
    schema: String,
    references: Vec<ResolvedReference>,
}

impl Unparsed {
    async fn load(conn: &mut PgConnection, v: SubjectVersion) -> Result<Self, RegistryError> {
        let references = resolve_references(conn, &v.references, &Caller::Operator).await?;
        Ok(Self {
            version: v.version,
            schema_type: v.schema_type,
            schema: v.schema,
            references,
        })
    }

    fn parse(&self, budget: &mut Budget) -> Result<(i32, Parsed), RegistryError> {
        let parsed = schema::parse(self.schema_type, &self.schema, &self.references, budget)?;
        Ok((self.version, parsed))
    }
}

/// The subject's level, or the global one.
async fn effective_level(conn: &mut PgConnection, subject: &str) -> Result<Level, RegistryError> {
    match subject_compatibility(conn, subject).await? {
        Some(level) => Ok(level),
        None => global_compatibility(conn).await,
    }
}

/// Live versions of a subject, newest first.
async fn live_versions(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<Vec<SubjectVersion>, RegistryError> {
    subject_versions(conn, subject, false).await
}

/// Versions of a subject, newest first: live ones, or soft-deleted ones too.
async fn subject_versions(
    conn: &mut PgConnection,
    subject: &str,
    include_deleted: bool,
) -> Result<Vec<SubjectVersion>, RegistryError> {
    let rows: Vec<VersionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {VERSION_COLUMNS} from registry_versions v join registry_schemas s on s.id = v.schema_id
          where v.subject = $1 and ($2 or not v.deleted) order by v.version desc"
    )))
    .bind(subject)
    .bind(include_deleted)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(version_from_row).collect()
}

/// The schema as a client sent it, parsed and normalized off the async workers (see
/// [`crate::budget`]); its references are resolved as `reader`.
async fn normalized(
    conn: &mut PgConnection,
    input: &SchemaInput,
    reader: &Caller,
) -> Result<Normalized, RegistryError> {
    let refs = resolve_references(conn, &input.references, reader).await?;
    let input = input.clone();
    budget::run(move |budget| schema::normalize(&input, &refs, budget)).await
}

/// Parses and normalizes a schema as a client sent it (references resolved as `reader`):
/// `InvalidSchema`, `ReferenceNotFound` or `TooComplex` when it is not a schema.
pub async fn validate(
    conn: &mut PgConnection,
    input: &SchemaInput,
    reader: &Caller,
) -> Result<(), RegistryError> {
    normalized(conn, input, reader).await.map(|_| ())
}

/// The problems of `new` against the subject's earlier live versions under `level` (the
/// newest only, unless the level is transitive), computed off the async workers. Answers
/// `new` back for further use.
async fn check_against(
    conn: &mut PgConnection,
    level: Level,
    new: Parsed,
    earlier: Vec<SubjectVersion>,
) -> Result<(Parsed, Vec<String>), RegistryError> {
    let mut unparsed = Vec::with_capacity(earlier.len());
    for v in earlier {
        unparsed.push(Unparsed::load(conn, v).await?);
    }
    budget::run(move |budget| {
        let earlier = unparsed
            .iter()
            .map(|u| u.parse(budget))
            .collect::<Result<Vec<_>, _>>()?;
        let messages = schema::check_level(level, &new, &earlier, budget)?;
        Ok((new, messages))
    })
    .await
}

/// Registers `input` under `subject` (creating an unowned subject row when none exists), its
/// references resolved as `reader`. Idempotent: a schema already live under the subject
/// answers its id and version. Checks compatibility under the subject's level (or the global
/// one), transitive levels against every live version.
pub async fn register(
    conn: &mut PgConnection,
    subject: &str,
    input: SchemaInput,
    reader: &Caller,
) -> Result<Registered, RegistryError> {
    let normalized = normalized(conn, &input, reader).await?;
    sqlx::query("insert into registry_subjects (name) values ($1) on conflict (name) do nothing")
        .bind(subject)
        .execute(&mut *conn)
        .await
        .map_err(|e| subject_name_error(e, subject))?;
    // Serializes registrations of one subject.
    sqlx::query("select 1 from registry_subjects where name = $1 for update")
        .bind(subject)
        .execute(&mut *conn)
        .await?;
    let existing: Option<(i32, i32)> = sqlx::query_as(
        "select s.id, v.version from registry_versions v join registry_schemas s on s.id = v.schema_id
          where v.subject = $1 and not v.deleted and s.schema_type = $2 and s.fingerprint = $3
          order by v.version limit 1",
    )
    .bind(subject)
    .bind(input.schema_type.as_str())
    .bind(&normalized.fingerprint)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((id, version)) = existing {
        return Ok(Registered { id, version });
    }
    let level = effective_level(conn, subject).await?;
    if level != Level::None {
        let mut earlier = live_versions(conn, subject).await?;
        if !level.is_transitive() {
            earlier.truncate(1);
        }
        let (_, messages) = check_against(conn, level, normalized.parsed, earlier).await?;
        if !messages.is_empty() {
            return Err(RegistryError::Incompatible(messages));
        }
    }
    sqlx::query(
        "insert into registry_schemas (schema_type, schema_text, schema_references, fingerprint)
         values ($1, $2, $3, $4) on conflict (schema_type, fingerprint) do nothing",
    )
    .bind(input.schema_type.as_str())
    .bind(&normalized.text)
    .bind(Json(&input.references))
    .bind(&normalized.fingerprint)
    .execute(&mut *conn)
    .await?;
    let id: i32 = sqlx::query_scalar(
        "select id from registry_schemas where schema_type = $1 and fingerprint = $2",
    )
    .bind(input.schema_type.as_str())
    .bind(&normalized.fingerprint)
    .fetch_one(&mut *conn)
    .await?;
    let version: i32 = sqlx::query_scalar(
        "insert into registry_versions (subject, version, schema_id)
         select $1, coalesce(max(version), 0) + 1, $2 from registry_versions where subject = $1
         returning version",
    )
    .bind(subject)
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("update registry_subjects set deleted_at = null where name = $1")
        .bind(subject)
        .execute(&mut *conn)
        .await?;
    Ok(Registered { id, version })
}

fn subject_name_error(e: sqlx::Error, subject: &str) -> RegistryError {
    if e.as_database_error().and_then(|d| d.constraint()) == Some("registry_subjects_name_format") {
        RegistryError::InvalidSchema(format!("invalid subject name {subject:?}"))
    } else {
        RegistryError::Database(e)
    }
}

/// Would `input` be accepted under `subject`? Against one version (the subject's level's
/// directions) or `Latest` (every live version when the level is transitive). References
/// resolve as `reader`.
pub async fn check_compatibility(
    conn: &mut PgConnection,
    subject: &str,
    input: SchemaInput,
    selector: VersionSelector,
    reader: &Caller,
) -> Result<CompatibilityReport, RegistryError> {
    let normalized = normalized(conn, &input, reader).await?;
    let level = effective_level(conn, subject).await?;
    let earlier = match selector {
        VersionSelector::Latest => {
            let mut earlier = live_versions(conn, subject).await?;
            if earlier.is_empty() {
                return Err(RegistryError::SubjectNotFound(subject.to_owned()));
            }
            if !level.is_transitive() {
                earlier.truncate(1);
            }
            earlier
        }
        VersionSelector::Number(_) => vec![version(conn, subject, selector).await?],
    };
    let (_, messages) = check_against(conn, level, normalized.parsed, earlier).await?;
    Ok(CompatibilityReport {
        is_compatible: messages.is_empty(),
        messages,
    })
}

/// Is this schema live under `subject`? Its version if so.
/// Soft-deleted versions (also of a soft-deleted subject) are found with `include_deleted`.
pub async fn lookup(
    conn: &mut PgConnection,
    subject: &str,
    input: SchemaInput,
    reader: &Caller,
    include_deleted: bool,
) -> Result<SubjectVersion, RegistryError> {
    let normalized = normalized(conn, &input, reader).await?;
    let live = subject_versions(conn, subject, include_deleted).await?;
    if live.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    let found: Option<i32> = sqlx::query_scalar(
        "select v.version from registry_versions v join registry_schemas s on s.id = v.schema_id
          where v.subject = $1 and ($4 or not v.deleted) and s.schema_type = $2 and s.fingerprint = $3
          order by v.version limit 1",
    )
    .bind(subject)
    .bind(input.schema_type.as_str())
    .bind(&normalized.fingerprint)
    .bind(include_deleted)
    .fetch_optional(&mut *conn)
    .await?;
    let version_number = found
        .ok_or_else(|| RegistryError::SchemaNotFound("not registered under this subject".into()))?;
    live.into_iter()
        .find(|v| v.version == version_number)
        .ok_or_else(|| RegistryError::SchemaNotFound(String::new()))
}

/// Sets the subject's own level (creating an unowned subject row when none exists).
pub async fn set_subject_compatibility(
    conn: &mut PgConnection,
    subject: &str,
    level: Level,
) -> Result<(), RegistryError> {
    sqlx::query(
        "insert into registry_subjects (name, compatibility) values ($1, $2)
         on conflict (name) do update set compatibility = excluded.compatibility",
    )
    .bind(subject)
    .bind(level.as_str())
    .execute(&mut *conn)
    .await
    .map_err(|e| subject_name_error(e, subject))?;
    Ok(())
}

/// Removes the subject's own level (the global one applies again); answers the removed level.
pub async fn clear_subject_compatibility(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<Level, RegistryError> {
    let previous = subject_compatibility(conn, subject)
        .await?
        .ok_or_else(|| RegistryError::SubjectNotFound(subject.to_owned()))?;
    sqlx::query("update registry_subjects set compatibility = null where name = $1")
        .bind(subject)
        .execute(&mut *conn)
        .await?;
    Ok(previous)
}

/// The subject's own level, if it has one.
pub async fn subject_compatibility(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<Option<Level>, RegistryError> {
    let level: Option<Option<String>> =
        sqlx::query_scalar("select compatibility from registry_subjects where name = $1")
            .bind(subject)
            .fetch_optional(&mut *conn)
            .await?;
    level.flatten().map(|l| l.parse()).transpose()
}

pub async fn global_compatibility(conn: &mut PgConnection) -> Result<Level, RegistryError> {
    let level: String = sqlx::query_scalar("select compatibility from registry_config")
        .fetch_one(&mut *conn)
        .await?;
    level.parse()
}

pub async fn set_global_compatibility(
    conn: &mut PgConnection,
    level: Level,
) -> Result<(), RegistryError> {
    sqlx::query("update registry_config set compatibility = $1, updated_at = now()")
        .bind(level.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Makes `owner_org_id` the subject's owner (creating the subject). Claiming one's own subject
/// again is a no-op; a subject owned by another organization is a conflict.
pub async fn claim_subject(
    conn: &mut PgConnection,
    subject: &str,
    owner_org_id: Uuid,
) -> Result<(), RegistryError> {
    let owner: Option<Uuid> = sqlx::query_scalar(
        "insert into registry_subjects (name, owner_org_id) values ($1, $2)
         on conflict (name) do update set owner_org_id = coalesce(registry_subjects.owner_org_id, excluded.owner_org_id)
         returning owner_org_id",
    )
    .bind(subject)
    .bind(owner_org_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| subject_name_error(e, subject))?;
    if owner == Some(owner_org_id) {
        Ok(())
    } else {
        Err(RegistryError::Conflict(format!(
            "subject {subject:?} belongs to another organization"
        )))
    }
}

/// Lets every authenticated caller read the subject (or not).
pub async fn set_public_read(
    conn: &mut PgConnection,
    subject: &str,
    public_read: bool,
) -> Result<(), RegistryError> {
    let updated = sqlx::query("update registry_subjects set public_read = $2 where name = $1")
        .bind(subject)
        .bind(public_read)
        .execute(&mut *conn)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    Ok(())
}

/// The subject row (owner, public flag), whether or not it has versions.
pub async fn subject_info(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<Option<SubjectInfo>, RegistryError> {
    let row: Option<(String, Option<Uuid>, bool)> = sqlx::query_as(
        "select name, owner_org_id, public_read from registry_subjects where name = $1",
    )
    .bind(subject)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(name, owner_org_id, public_read)| SubjectInfo {
        name,
        owner_org_id,
        public_read,
    }))
}

/// Subjects with at least one live version (or any version with `include_deleted`), by name.
pub async fn subjects(
    conn: &mut PgConnection,
    include_deleted: bool,
) -> Result<Vec<SubjectInfo>, RegistryError> {
    let rows: Vec<(String, Option<Uuid>, bool)> = sqlx::query_as(
        "select s.name, s.owner_org_id, s.public_read from registry_subjects s
          where exists (select 1 from registry_versions v where v.subject = s.name and ($1 or not v.deleted))
          order by s.name",
    )
    .bind(include_deleted)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, owner_org_id, public_read)| SubjectInfo {
            name,
            owner_org_id,
            public_read,
        })
        .collect())
}

/// Version numbers of a subject, ascending.
pub async fn versions(
    conn: &mut PgConnection,
    subject: &str,
    include_deleted: bool,
) -> Result<Vec<i32>, RegistryError> {
    let numbers: Vec<i32> = sqlx::query_scalar(
        "select version from registry_versions where subject = $1 and ($2 or not deleted) order by version",
    )
    .bind(subject)
    .bind(include_deleted)
    .fetch_all(&mut *conn)
    .await?;
    if numbers.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    Ok(numbers)
}

/// The schema ids of a subject's versions, deleted ones too when `include_deleted` (none when
/// the subject does not exist).
pub async fn subject_schema_ids(
    conn: &mut PgConnection,
    subject: &str,
    include_deleted: bool,
) -> Result<Vec<i32>, RegistryError> {
    Ok(sqlx::query_scalar(
        "select distinct schema_id from registry_versions where subject = $1 and ($2 or not deleted) order by schema_id",
    )
    .bind(subject)
    .bind(include_deleted)
    .fetch_all(&mut *conn)
    .await?)
}

/// The newest live version.
pub async fn latest(
    conn: &mut PgConnection,
    subject: &str,
) -> Result<SubjectVersion, RegistryError> {
    version(conn, subject, VersionSelector::Latest).await
}

/// One live version (`Latest` = the newest live one).
pub async fn version(
    conn: &mut PgConnection,
    subject: &str,
    selector: VersionSelector,
) -> Result<SubjectVersion, RegistryError> {
    version_of(conn, subject, selector, false).await
}

/// One version, soft-deleted ones included when `include_deleted` (`?deleted=true`).
pub async fn version_of(
    conn: &mut PgConnection,
    subject: &str,
    selector: VersionSelector,
    include_deleted: bool,
) -> Result<SubjectVersion, RegistryError> {
    let live = subject_versions(conn, subject, include_deleted).await?;
    if live.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    match selector {
        VersionSelector::Latest => live.into_iter().next(),
        VersionSelector::Number(n) => live.into_iter().find(|v| v.version == n),
    }
    .ok_or_else(|| RegistryError::VersionNotFound(version_label(selector)))
}

fn version_label(selector: VersionSelector) -> String {
    match selector {
        VersionSelector::Latest => "latest".into(),
        VersionSelector::Number(n) => n.to_string(),
    }
}

pub async fn schema_by_id(conn: &mut PgConnection, id: i32) -> Result<SchemaRecord, RegistryError> {
    let row: Option<(i32, String, String, Json<Vec<Reference>>)> = sqlx::query_as(
        "select id, schema_type, schema_text, schema_references from registry_schemas where id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let (id, schema_type, schema, Json(references)) =
        row.ok_or_else(|| RegistryError::SchemaNotFound(id.to_string()))?;
    Ok(SchemaRecord {
        id,
        schema_type: schema_type.parse()?,
        schema,
        references,
    })
}

/// (subject, version) pairs using schema `id`, live ones unless `include_deleted`.
pub async fn schema_usages(
    conn: &mut PgConnection,
    id: i32,
    include_deleted: bool,
) -> Result<Vec<(String, i32)>, RegistryError> {
    Ok(sqlx::query_as(
        "select subject, version from registry_versions where schema_id = $1 and ($2 or not deleted)
          order by subject, version",
    )
    .bind(id)
    .bind(include_deleted)
    .fetch_all(&mut *conn)
    .await?)
}

/// Ids of the live schemas that reference `subject` at `version`, with the subjects using each
/// (so the caller can be shown only what it may read), by id.
pub async fn referenced_by(
    conn: &mut PgConnection,
    subject: &str,
    version: i32,
) -> Result<Vec<(i32, SubjectInfo)>, RegistryError> {
    let rows: Vec<(i32, String, Option<Uuid>, bool)> = sqlx::query_as(
        "select distinct s.id, r.name, r.owner_org_id, r.public_read
           from registry_schemas s
           join registry_versions v on v.schema_id = s.id
           join registry_subjects r on r.name = v.subject
          where not v.deleted and s.schema_references @> $1
          order by s.id",
    )
    .bind(serde_json::json!([{ "subject": subject, "version": version }]))
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, owner_org_id, public_read)| {
            (
                id,
                SubjectInfo {
                    name,
                    owner_org_id,
                    public_read,
                },
            )
        })
        .collect())
}

/// Fails when a live schema of the same owner references `subject` (at `version`, or any
/// version), as Confluent's registry does. References from another owner's subjects do not
/// count: a tenant must not be able to keep another from deleting its own versions (it can
/// only reference public ones, and a soft-deleted version still resolves).
async fn refuse_if_referenced(
    conn: &mut PgConnection,
    subject: &str,
    version: Option<i32>,
) -> Result<(), RegistryError> {
    let pattern = match version {
        Some(v) => serde_json::json!([{ "subject": subject, "version": v }]),
        None => serde_json::json!([{ "subject": subject }]),
    };
    let referenced: bool = sqlx::query_scalar(
        "select exists(select 1 from registry_schemas s
                          join registry_versions v on v.schema_id = s.id
                          join registry_subjects r on r.name = v.subject
                         where not v.deleted and s.schema_references @> $1
                           and r.owner_org_id is not distinct from
                               (select owner_org_id from registry_subjects where name = $2))",
    )
    .bind(pattern)
    .bind(subject)
    .fetch_one(&mut *conn)
    .await?;
    if referenced {
        return Err(RegistryError::ReferenceExists(subject.to_owned()));
    }
    Ok(())
}

/// Deletes every version of a subject: soft (marks them deleted) or, after a soft delete,
/// permanent (removes them). Answers the versions deleted.
pub async fn delete_subject(
    conn: &mut PgConnection,
    subject: &str,
    permanent: bool,
) -> Result<Vec<i32>, RegistryError> {
    let all: Vec<(i32, bool)> = sqlx::query_as(
        "select version, deleted from registry_versions where subject = $1 order by version for update",
    )
    .bind(subject)
    .fetch_all(&mut *conn)
    .await?;
    if all.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    let any_live = all.iter().any(|(_, deleted)| !deleted);
    if permanent {
        if any_live {
            return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned()));
        }
        sqlx::query("delete from registry_versions where subject = $1")
            .bind(subject)
            .execute(&mut *conn)
            .await?;
        return Ok(all.into_iter().map(|(v, _)| v).collect());
    }
    if !any_live {
        return Err(RegistryError::SubjectSoftDeleted(subject.to_owned()));
    }
    refuse_if_referenced(conn, subject, None).await?;
    let deleted: Vec<i32> = sqlx::query_scalar(
        "update registry_versions set deleted = true where subject = $1 and not deleted returning version",
    )
    .bind(subject)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("update registry_subjects set deleted_at = now() where name = $1")
        .bind(subject)
        .execute(&mut *conn)
        .await?;
    let mut deleted = deleted;
    deleted.sort_unstable();
    Ok(deleted)
}

/// Deletes one version: soft, or permanent after a soft delete. Answers its number.
pub async fn delete_version(
    conn: &mut PgConnection,
    subject: &str,
    selector: VersionSelector,
    permanent: bool,
) -> Result<i32, RegistryError> {
    let all: Vec<(i32, bool)> = sqlx::query_as(
        "select version, deleted from registry_versions where subject = $1 order by version desc for update",
    )
    .bind(subject)
    .fetch_all(&mut *conn)
    .await?;
    if all.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    let found = match selector {
        VersionSelector::Latest if permanent => all.first().copied(),
        VersionSelector::Latest => all.iter().find(|(_, d)| !d).copied(),
        VersionSelector::Number(n) => all.iter().find(|(v, _)| *v == n).copied(),
    };
    let (number, deleted) =
        found.ok_or_else(|| RegistryError::VersionNotFound(version_label(selector)))?;
    if permanent {
        if !deleted {
            return Err(RegistryError::VersionNotSoftDeleted {
                subject: subject.to_owned(),
                version: number,
            });
        }
        sqlx::query("delete from registry_versions where subject = $1 and version = $2")
            .bind(subject)
            .bind(number)
            .execute(&mut *conn)
            .await?;
        return Ok(number);
    }
    if deleted {
        return Err(RegistryError::VersionSoftDeleted {
            subject: subject.to_owned(),
            version: number,
        });
    }
    refuse_if_referenced(conn, subject, Some(number)).await?;
    sqlx::query("update registry_versions set deleted = true where subject = $1 and version = $2")
        .bind(subject)
        .bind(number)
        .execute(&mut *conn)
        .await?;
    Ok(number)
}

/// A schema parsed with its references, for decoding (parsed off the async workers).
pub(crate) async fn parsed_schema(
    conn: &mut PgConnection,
    id: i32,
) -> Result<Parsed, RegistryError> {
    let record = schema_by_id(conn, id).await?;
    let refs = resolve_references(conn, &record.references, &Caller::Operator).await?;
    budget::run(move |budget| schema::parse(record.schema_type, &record.schema, &refs, budget))
        .await
}
