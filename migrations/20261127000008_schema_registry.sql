-- The embedded schema registry (Confluent REST compatible). Schemas are global and deduplicated
-- by fingerprint; subjects hold numbered versions pointing at schemas.

-- One row per distinct schema; `id` is the global id carried in every Kafka message (wire format).
create table registry_schemas (
    id                integer generated always as identity (start with 1) primary key,
    schema_type       text not null,
    schema_text       text not null,
    -- [{"name": ..., "subject": ..., "version": ...}] in the order the client gave them.
    schema_references jsonb not null default '[]',
    -- SHA-256 over the type, the format's canonical form and the references.
    fingerprint       text not null,
    created_at        timestamptz not null default now(),
    constraint registry_schemas_type_check check (schema_type in ('AVRO', 'JSON', 'PROTOBUF')),
    constraint registry_schemas_fingerprint_key unique (schema_type, fingerprint),
    constraint registry_schemas_references_array check (jsonb_typeof(schema_references) = 'array')
);

-- A subject and who governs it. Claimed by the streams service for the provider org that owns the
-- topic; an unowned subject is written only by the operator (no squatting).
create table registry_subjects (
    name          text primary key,
    owner_org_id  uuid references organizations (id) on delete set null,
    public_read   boolean not null default false,
    -- null: the global level applies.
    compatibility text,
    mode          text not null default 'READWRITE',
    -- set by a soft delete of the whole subject, cleared by the next registration.
    deleted_at    timestamptz,
    created_at    timestamptz not null default now(),
    constraint registry_subjects_name_format check (length(name) between 1 and 255 and name !~ '[[:cntrl:]]'),
    constraint registry_subjects_compatibility_check check (compatibility in ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')),
    constraint registry_subjects_mode_check check (mode in ('READWRITE', 'READONLY', 'IMPORT'))
);

create index registry_subjects_owner_idx on registry_subjects (owner_org_id);

-- A subject's versions. Soft-deleted versions keep their number (Confluent semantics); a
-- permanent delete removes the row.
create table registry_versions (
    subject    text not null references registry_subjects (name) on delete cascade,
    version    integer not null,
    schema_id  integer not null references registry_schemas (id) on delete restrict,
    deleted    boolean not null default false,
    created_at timestamptz not null default now(),
    constraint registry_versions_pkey primary key (subject, version),
    constraint registry_versions_version_positive check (version >= 1)
);

-- A schema is live at most once per subject.
create unique index registry_versions_live_schema_key on registry_versions (subject, schema_id) where not deleted;
create index registry_versions_schema_idx on registry_versions (schema_id);

-- The global configuration: exactly one row.
create table registry_config (
    singleton     boolean primary key default true,
    compatibility text not null default 'BACKWARD',
    updated_at    timestamptz not null default now(),
    constraint registry_config_singleton check (singleton),
    constraint registry_config_compatibility_check check (compatibility in ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'))
);

insert into registry_config (singleton) values (true);
