-- Password reset links: single use, short-lived, stored only as a hash of the mailed token.
create table password_resets (
    token_hash bytea primary key,
    user_id    uuid not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz
);
create index password_resets_user_idx on password_resets (user_id) where used_at is null;
