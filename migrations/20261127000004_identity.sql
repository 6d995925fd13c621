-- People, their memberships and roles, and every credential they hold (stored only as hashes).
create table users (
    id                uuid primary key default gen_random_uuid(),
    email             text not null,
    display_name      text not null,
    password_hash     text not null,
    email_verified_at timestamptz,
    created_at        timestamptz not null default now(),
    constraint users_email_key unique (email),
    constraint users_email_normalized check (email = lower(btrim(email))),
    constraint users_display_name_not_blank check (length(btrim(display_name)) between 1 and 100)
);

create table memberships (
    org_id     uuid not null references organizations (id) on delete cascade,
    user_id    uuid not null references users (id) on delete cascade,
    role       text not null,
    created_at timestamptz not null default now(),
    primary key (org_id, user_id),
    constraint memberships_role_check check (role in ('owner', 'admin', 'developer', 'billing', 'viewer'))
);
create index memberships_user_idx on memberships (user_id);

-- Refresh tokens rotate: each use marks the row used and issues a new one in the same family.
-- Presenting a used token again revokes the whole family (a stolen token is then useless).
create table refresh_tokens (
    id         uuid primary key default gen_random_uuid(),
    family_id  uuid not null,
    user_id    uuid not null references users (id) on delete cascade,
    token_hash bytea not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz,
    revoked_at timestamptz,
    constraint refresh_tokens_hash_key unique (token_hash)
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);

create table api_tokens (
    id           uuid primary key default gen_random_uuid(),
    org_id       uuid not null references organizations (id) on delete cascade,
    name         text not null,
    prefix       text not null,
    secret_hash  bytea not null,
    scopes       text[] not null,
    created_by   uuid references users (id) on delete set null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    constraint api_tokens_prefix_key unique (prefix),
    constraint api_tokens_org_name_key unique (org_id, name),
    constraint api_tokens_name_not_blank check (length(btrim(name)) between 1 and 100)
);

create table email_verifications (
    token_hash bytea primary key,
    user_id    uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz
);

create table invitations (
    id          uuid primary key default gen_random_uuid(),
    org_id      uuid not null references organizations (id) on delete cascade,
    email       text not null,
    role        text not null,
    token_hash  bytea not null,
    invited_by  uuid references users (id) on delete set null,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    constraint invitations_token_key unique (token_hash),
    constraint invitations_role_check check (role in ('owner', 'admin', 'developer', 'billing', 'viewer'))
);
create unique index invitations_open_per_email on invitations (org_id, email)
    where accepted_at is null and revoked_at is null;
