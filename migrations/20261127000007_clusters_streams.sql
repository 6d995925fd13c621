-- Clusters get their connection secrets (encrypted by the application with a configured key),
-- their schema registry choice and the result of the latest health check.
alter table clusters
    add column sasl_username           text not null default '',
    -- `<key id>:<base64(nonce || ciphertext)>`, XChaCha20-Poly1305; never plain text.
    add column sasl_password_encrypted text not null default '',
    add column ca_pem                  text,
    -- null: Tributary's embedded registry; otherwise an external Confluent-compatible registry.
    add column schema_registry_url     text,
    add column region                  text not null default '',
    add column health_status           text not null default 'unknown',
    add column health_message          text not null default '',
    add column health_checked_at       timestamptz,
    add column health_latency_ms       integer,
    add column broker_count            integer,
    add column updated_at              timestamptz not null default now(),
    add constraint clusters_health_status_check check (health_status in ('unknown', 'healthy', 'unhealthy')),
    add constraint clusters_name_not_blank check (length(btrim(name)) between 1 and 100),
    add constraint clusters_ca_only_with_ssl check (ca_pem is null or security_protocol = 'SASL_SSL');

-- Topic prefixes the operator entitles an organization to adopt on a cluster (topics that exist
-- on the broker already and whose ownership the operator vouches for).
create table cluster_topic_grants (
    cluster_id uuid not null references clusters (id) on delete cascade,
    org_id     uuid not null references organizations (id) on delete cascade,
    prefix     text not null,
    created_at timestamptz not null default now(),
    primary key (cluster_id, org_id, prefix),
    constraint cluster_topic_grants_prefix_format check (prefix ~ '^[a-zA-Z0-9._-]{1,200}$')
);

-- The stream listing grows its description, classification, topic settings and data contract.
-- Listings published before this migration had their topics already (the demo seeding created
-- them): they count as adopted, provisioned when they were listed.
alter table streams
    add column topic_mode           text,
    add column topic_provisioned_at timestamptz;
update streams set topic_mode = 'adopted', topic_provisioned_at = created_at where status <> 'draft';
alter table streams
    add column description_md          text not null default '',
    add column description_html        text not null default '',
    add column category                text not null default '',
    add column tags                    text[] not null default '{}',
    add column partitions              integer,
    add column retention_ms            bigint,
    add column cleanup_policy          text,
    add column compatibility           text not null default 'BACKWARD',
    add column replay_window_hours     integer,
    add column freshness_slo_seconds   integer,
    add column throughput_slo_per_sec  integer,
    -- { "<field path>": "pii" | "sensitive" | "public" }
    add column field_classifications   jsonb not null default '{}',
    add column terms                   text not null default '',
    add column key_schema_type         text,
    add column value_schema_type       text,
    -- every field name of the current key/value schemas, for search
    add column schema_fields           text[] not null default '{}',
    add column published_at            timestamptz,
    add column deprecated_at           timestamptz,
    add column deprecation_message     text not null default '',
    add column sunset_at               timestamptz,
    add column retired_at              timestamptz,
    add constraint streams_topic_mode_check check (topic_mode in ('created', 'adopted')),
    add constraint streams_cleanup_policy_check check (cleanup_policy in ('delete', 'compact', 'compact,delete')),
    add constraint streams_compatibility_check check (compatibility in
        ('NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE')),
    add constraint streams_schema_type_check check (
        coalesce(key_schema_type, 'AVRO') in ('AVRO', 'JSON', 'PROTOBUF')
        and coalesce(value_schema_type, 'AVRO') in ('AVRO', 'JSON', 'PROTOBUF')),
    add constraint streams_partitions_check check (partitions is null or partitions between 1 and 1000),
    add constraint streams_category_length check (length(category) <= 60),
    add constraint streams_tags_count check (cardinality(tags) <= 20),
    add constraint streams_description_length check (length(description_md) <= 100000),
    add constraint streams_published_needs_topic check (status = 'draft' or topic_provisioned_at is not null);

-- Organizations invited to see a private stream.
create table stream_access_grants (
    stream_id  uuid not null references streams (id) on delete cascade,
    org_id     uuid not null references organizations (id) on delete cascade,
    created_at timestamptz not null default now(),
    primary key (stream_id, org_id)
);
create index stream_access_grants_org_idx on stream_access_grants (org_id);

-- A stream's pricing plans (the subscription flow rates usage with them).
create table plans (
    id                   uuid primary key default gen_random_uuid(),
    stream_id            uuid not null references streams (id) on delete cascade,
    name                 text not null,
    pricing_model        text not null,
    currency             text not null default 'usd',
    -- integer minor units (cents) per period / per unit; never floats near money
    flat_fee_minor       bigint not null default 0,
    unit_price_minor     bigint not null default 0,
    -- the unit of usage-based plans: 'messages' or 'bytes', priced per 1 000 000 of them
    usage_metric         text not null default 'messages',
    included_units       bigint not null default 0,
    trial_days           integer not null default 0,
    approval_required    boolean not null default false,
    throughput_quota     integer,
    archived_at          timestamptz,
    created_at           timestamptz not null default now(),
    constraint plans_stream_name_key unique (stream_id, name),
    constraint plans_name_not_blank check (length(btrim(name)) between 1 and 80),
    constraint plans_pricing_model_check check (pricing_model in ('free', 'flat', 'usage')),
    constraint plans_currency_format check (currency ~ '^[a-z]{3}$'),
    constraint plans_amounts_non_negative check (flat_fee_minor >= 0 and unit_price_minor >= 0 and included_units >= 0 and trial_days between 0 and 365),
    constraint plans_usage_metric_check check (usage_metric in ('messages', 'bytes')),
    constraint plans_free_is_free check (pricing_model <> 'free' or (flat_fee_minor = 0 and unit_price_minor = 0))
);
create index plans_stream_idx on plans (stream_id) where archived_at is null;

-- The relay's progress is the outbox row itself (published_at); it also records attempts so a
-- row that keeps failing is visible.
alter table outbox
    add column publish_attempts integer not null default 0,
    add column last_error       text;
