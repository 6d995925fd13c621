-- Tenants. Exactly one organization may be the marketplace operator.
create table organizations (
    id          uuid primary key default gen_random_uuid(),
    slug        text not null,
    name        text not null,
    is_operator boolean not null default false,
    created_at  timestamptz not null default now(),
    constraint organizations_slug_key unique (slug),
    constraint organizations_slug_format check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
    constraint organizations_name_not_blank check (length(btrim(name)) between 1 and 200)
);

create unique index organizations_single_operator on organizations (is_operator) where is_operator;
