-- A provider's data product: one topic on one cluster.
create table streams (
    id              uuid primary key default gen_random_uuid(),
    provider_org_id uuid not null references organizations (id) on delete restrict,
    cluster_id      uuid not null references clusters (id) on delete restrict,
    slug            text not null,
    name            text not null,
    summary         text not null default '',
    topic           text not null,
    status          text not null default 'draft',
    visibility      text not null default 'public',
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    constraint streams_provider_slug_key unique (provider_org_id, slug),
    constraint streams_cluster_topic_key unique (cluster_id, topic),
    constraint streams_status_check check (status in ('draft', 'published', 'deprecated', 'retired')),
    constraint streams_visibility_check check (visibility in ('public', 'unlisted', 'private')),
    constraint streams_topic_format check (topic ~ '^[a-zA-Z0-9._-]{1,249}$' and topic not in ('.', '..')),
    constraint streams_name_not_blank check (length(btrim(name)) between 1 and 200)
);

create index streams_provider_idx on streams (provider_org_id);
create index streams_catalog_idx on streams (status, visibility, created_at desc, id);
