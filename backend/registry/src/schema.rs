//! Schema types, compatibility levels and the dispatch to each format's parser and checker.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{RegistryError, avro, budget::Budget, json_schema, protobuf};

/// Largest schema text accepted (the HTTP body limit applies first; this guards the API too).
pub const MAX_SCHEMA_BYTES: usize = 1024 * 1024;
/// Most field names (bare names and dotted paths) taken from one schema for search. A schema
/// that reuses a named type along many paths has exponentially many paths; the walk stops here.
pub const MAX_FIELD_NAMES: usize = 10_000;

/// The three formats Confluent's registry knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    Avro,
    Json,
    Protobuf,
}

impl SchemaType {
    pub const ALL: [SchemaType; 3] = [Self::Avro, Self::Json, Self::Protobuf];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Avro => "AVRO",
            Self::Json => "JSON",
            Self::Protobuf => "PROTOBUF",
        }
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SchemaType {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| RegistryError::InvalidSchema(format!("unknown schema type {s:?}")))
    }
}

/// A reference from a schema to a version of another subject, imported under `name` (the Avro
/// full name, the JSON Schema `$ref` URL, or the `.proto` import path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// A reference with its schema text loaded (transitively, dependencies first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedReference {
    pub name: String,
    pub schema: String,
}

/// A schema as a client submits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaInput {
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<Reference>,
}

/// Result of a compatibility check; `messages` say what breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatibilityReport {
    pub is_compatible: bool,
    pub messages: Vec<String>,
}

/// A subject's compatibility level (Confluent's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Level {
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

impl Level {
    pub const ALL: [Level; 7] = [
        Self::None,
        Self::Backward,
        Self::BackwardTransitive,
        Self::Forward,
        Self::ForwardTransitive,
        Self::Full,
        Self::FullTransitive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::Backward => "BACKWARD",
            Self::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Self::Forward => "FORWARD",
            Self::ForwardTransitive => "FORWARD_TRANSITIVE",
            Self::Full => "FULL",
            Self::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// (new reads old, old reads new, against every live version).
    fn directions(self) -> (bool, bool, bool) {
        match self {
            Self::None => (false, false, false),
            Self::Backward => (true, false, false),
            Self::BackwardTransitive => (true, false, true),
            Self::Forward => (false, true, false),
            Self::ForwardTransitive => (false, true, true),
            Self::Full => (true, true, false),
            Self::FullTransitive => (true, true, true),
        }
    }

    /// Whether this level compares against every live version (else only the latest).
    pub fn is_transitive(self) -> bool {
        self.directions().2
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = RegistryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| RegistryError::InvalidLevel(s.to_owned()))
    }
}

/// A schema parsed by its format's real parser, references resolved.
pub(crate) enum Parsed {
    Avro(apache_avro::Schema),
    Json(json_schema::JsonSchema),
    Protobuf(prost_reflect::FileDescriptor),
}

/// What is stored for a schema: its text as served back and its identity for deduplication.
pub(crate) struct Normalized {
    pub parsed: Parsed,
    pub text: String,
    pub fingerprint: String,
}

pub(crate) fn parse(
    schema_type: SchemaType,
    text: &str,
    references: &[ResolvedReference],
    budget: &mut Budget,
) -> Result<Parsed, RegistryError> {
    budget.parse_cost(text)?;
    for r in references {
        budget.parse_cost(&r.schema)?;
    }
    if text.len() > MAX_SCHEMA_BYTES {
        return Err(RegistryError::InvalidSchema(format!(
            "the schema is larger than {MAX_SCHEMA_BYTES} bytes"
        )));
    }
    Ok(match schema_type {
        SchemaType::Avro => Parsed::Avro(avro::parse(text, references)?),
        SchemaType::Json => Parsed::Json(json_schema::parse(text, references)?),
        SchemaType::Protobuf => Parsed::Protobuf(protobuf::parse(text, references)?),
    })
}

/// Parses and normalizes: the stored text and a fingerprint over the format's canonical form
/// and the references (the same schema with other references is another schema). Avro's form
/// is its JSON with sorted keys and no whitespace, not the Parsing Canonical Form: that form drops
/// defaults and docs, and adding a default (the usual step before removing a field) must be a
/// new version, as in Confluent's registry.
pub(crate) fn normalize(
    input: &SchemaInput,
    references: &[ResolvedReference],
    budget: &mut Budget,
) -> Result<Normalized, RegistryError> {
    let parsed = parse(input.schema_type, &input.schema, references, budget)?;
    let (text, canonical) = match &parsed {
        Parsed::Avro(_) => {
            let text = avro::stored_text(&input.schema)?;
            (text.clone(), text)
        }
        Parsed::Json(schema) => {
            let compact = schema.root.to_string();
            (compact.clone(), compact)
        }
        Parsed::Protobuf(file) => (
            input.schema.trim().replace("\r\n", "\n"),
            protobuf::canonical(file),
        ),
    };
    let mut hash = Sha256::new();
    hash.update(input.schema_type.as_str());
    hash.update([0]);
    hash.update(canonical.as_bytes());
    for r in &input.references {
        hash.update([0]);
        hash.update(format!("{}\u{1}{}\u{1}{}", r.name, r.subject, r.version));
    }
    let fingerprint = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Normalized {
        parsed,
        text,
        fingerprint,
    })
}

/// Whether data written with `writer` can be read with `reader`; the problems found.
pub(crate) fn reader_can_read(
    writer: &Parsed,
    reader: &Parsed,
    budget: &mut Budget,
) -> Result<Vec<String>, RegistryError> {
    Ok(match (writer, reader) {
        (Parsed::Avro(w), Parsed::Avro(r)) => {
            // apache-avro memoizes node pairs itself; its cost is bounded by the deadline.
            budget.spend(1)?;
            avro::can_read(w, r)
        }
        (Parsed::Json(w), Parsed::Json(r)) => json_schema::can_read(w, r, budget)?,
        (Parsed::Protobuf(w), Parsed::Protobuf(r)) => protobuf::can_read(w, r, budget)?,
        _ => vec!["the schema type differs from the earlier schema's".to_owned()],
    })
}

/// Checks `new` against earlier versions (newest first, with their version numbers) under
/// `level`: only the newest unless the level is transitive.
pub(crate) fn check_level(
    level: Level,
    new: &Parsed,
    earlier: &[(i32, Parsed)],
    budget: &mut Budget,
) -> Result<Vec<String>, RegistryError> {
    let (backward, forward, transitive) = level.directions();
    let against = if transitive {
        earlier
    } else {
        &earlier[..earlier.len().min(1)]
    };
    let mut messages = Vec::new();
    for (version, old) in against {
        if backward {
            for m in reader_can_read(old, new, budget)? {
                messages.push(format!("{{oldSchemaVersion: {version}}} backward: {m}"));
            }
        }
        if forward {
            for m in reader_can_read(new, old, budget)? {
                messages.push(format!("{{oldSchemaVersion: {version}}} forward: {m}"));
            }
        }
    }
    Ok(messages)
}

/// Every field name of a schema, nested ones included (dotted paths and bare names), for
/// full-text search. Sorted, without duplicates, at most [`MAX_FIELD_NAMES`] before
/// deduplication. The parse runs off the async workers within a [`Budget`].
pub async fn field_names(
    schema_type: SchemaType,
    schema: &str,
    references: &[ResolvedReference],
) -> Result<Vec<String>, RegistryError> {
    let schema = schema.to_owned();
    let references = references.to_vec();
    crate::budget::run(move |budget| {
        let parsed = parse(schema_type, &schema, &references, budget)?;
        Ok(names_of(&parsed))
    })
    .await
}

/// The field names of a parsed schema (see [`field_names`]).
pub(crate) fn names_of(parsed: &Parsed) -> Vec<String> {
    let mut names = match parsed {
        Parsed::Avro(s) => avro::field_names(s),
        Parsed::Json(s) => json_schema::field_names(s),
        Parsed::Protobuf(f) => protobuf::field_names(f),
    };
    names.truncate(MAX_FIELD_NAMES);
    names.sort();
    names.dedup();
    names
}

/// A stable, diff-friendly text of a schema: pretty JSON for Avro and JSON Schema (two-space
/// indent, keys in the order written), the `.proto` text with normalized line ends for Protobuf.
pub fn pretty(schema_type: SchemaType, schema: &str) -> String {
    match schema_type {
        SchemaType::Avro | SchemaType::Json => serde_json::from_str::<serde_json::Value>(schema)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| schema.to_owned()),
        SchemaType::Protobuf => {
            let mut out: String = schema
                .replace("\r\n", "\n")
                .lines()
                .map(|l| format!("{}\n", l.trim_end()))
                .collect();
            while out.ends_with("\n\n") {
                out.pop();
            }
            out
        }
    }
}

/// Unit-test shorthands.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod test_support {
    use super::*;

    /// [`check_level`](super::check_level) with a fresh budget, which must suffice.
    pub(crate) fn check_level(
        level: Level,
        new: &Parsed,
        earlier: &[(i32, Parsed)],
    ) -> Vec<String> {
        super::check_level(level, new, earlier, &mut Budget::new()).unwrap()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn schemas_over_one_mebibyte_are_refused() {
        let big = format!(
            r#"{{"type":"record","name":"R","doc":"{}","fields":[]}}"#,
            "x".repeat(MAX_SCHEMA_BYTES)
        );
        assert!(matches!(
            parse(SchemaType::Avro, &big, &[], &mut Budget::new()),
            Err(RegistryError::InvalidSchema(_))
        ));
    }

    #[test]
    fn levels_and_types_parse_like_confluent() {
        assert_eq!(
            "backward_transitive".parse::<Level>().unwrap(),
            Level::BackwardTransitive
        );
        assert!("SIDEWAYS".parse::<Level>().is_err());
        assert_eq!(
            "protobuf".parse::<SchemaType>().unwrap(),
            SchemaType::Protobuf
        );
    }

    #[test]
    fn same_schema_same_fingerprint_whatever_the_whitespace() {
        let a = SchemaInput {
            schema_type: SchemaType::Avro,
            schema: r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#.into(),
            references: vec![],
        };
        let b = SchemaInput {
            schema: "{ \"type\": \"record\",\n \"name\": \"R\", \"fields\": [ {\"name\": \"a\", \"type\": \"int\"} ] }".into(),
            ..a.clone()
        };
        let fingerprint = |input: &SchemaInput| {
            normalize(input, &[], &mut Budget::new())
                .unwrap()
                .fingerprint
        };
        assert_eq!(fingerprint(&a), fingerprint(&b));
        // A default is part of the schema: adding one is a new version.
        let with_default = SchemaInput {
            schema:
                r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":0}]}"#
                    .into(),
            ..a.clone()
        };
        assert_ne!(fingerprint(&a), fingerprint(&with_default));
        let parsed = parse(SchemaType::Avro, &a.schema, &[], &mut Budget::new()).unwrap();
        let names = names_of(&parsed);
        assert_eq!(names, vec!["a".to_owned()]);
        assert!(pretty(SchemaType::Avro, &a.schema).contains("\n  \"fields\""));
    }
}
