//! The embedded schema registry: Confluent-compatible subjects, versions and global schema ids
//! over PostgreSQL, with real parsers (apache-avro, protox/prost-reflect, jsonschema) and
//! compatibility checkers for Avro, JSON Schema and Protobuf.
//!
//! Every function that writes takes `&mut PgConnection`, so callers (the streams service) run it
//! inside their own transaction. The HTTP surface (`router`) is the Confluent REST API.

mod access;
mod avro;
pub mod budget;
mod datum;
mod error;
mod http;
mod json_schema;
mod protobuf;
mod remote;
mod schema;
mod store;
mod wire;

pub use access::{AuthFailure, Caller, NoHooks, RegistryAuth, RegistryHooks};
pub use datum::{Datum, Entry, KeyRole, MAX_DECODE_BYTES, MAX_DECODE_DEPTH, plain_json};
pub use error::RegistryError;
pub use http::{root, router};
pub use remote::{RemoteRegistry, http_client, install_crypto_provider};
pub use schema::{
    CompatibilityReport, Level, MAX_SCHEMA_BYTES, Reference, ResolvedReference, SchemaInput,
    SchemaType, field_names, pretty,
};
pub use store::{
    MAX_REFERENCE_BYTES, MAX_REFERENCES, Registered, SchemaRecord, SubjectInfo, SubjectVersion,
    VersionSelector, check_compatibility, claim_subject, clear_subject_compatibility,
    delete_subject, delete_version, global_compatibility, latest, lookup, register,
    resolve_references, schema_by_id, schema_usages, set_global_compatibility, set_public_read,
    set_subject_compatibility, subject_compatibility, subject_info, subject_schema_ids, subjects,
    validate, version, version_of, versions,
};
pub use wire::{WriterSchema, decode_message, schema_id, writer_schema};
