-- Append-only audit trail, written in the same transaction as the change it records.
create table audit_events (
    id                 bigint generated always as identity primary key,
    occurred_at        timestamptz not null default now(),
    actor_user_id      uuid,
    actor_api_token_id uuid,
    org_id             uuid,
    action             text not null,
    target_type        text not null,
    target_id          text not null,
    before             jsonb,
    after              jsonb,
    request_id         text,
    client_addr        text
);
create index audit_events_org_idx on audit_events (org_id, id desc);

create function audit_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit_events is append-only';
end;
$$;
create trigger audit_events_no_update before update or delete on audit_events
    for each row execute function audit_events_append_only();

-- Transactional outbox: a state change and its event commit together; relays publish afterwards.
create table outbox (
    id             bigint generated always as identity primary key,
    aggregate_type text not null,
    aggregate_id   text not null,
    event_type     text not null,
    payload        jsonb not null,
    created_at     timestamptz not null default now(),
    published_at   timestamptz
);
create index outbox_unpublished_idx on outbox (id) where published_at is null;

-- Where mail goes when no SMTP server is configured (development and tests read it).
create table mailbox (
    id         bigint generated always as identity primary key,
    outbox_id  bigint not null unique,
    to_address text not null,
    subject    text not null,
    body       text not null,
    created_at timestamptz not null default now()
);

-- Fixed-window counters shared by every API replica.
create table rate_limit_windows (
    key          text not null,
    window_start timestamptz not null,
    hits         integer not null,
    primary key (key, window_start)
);
