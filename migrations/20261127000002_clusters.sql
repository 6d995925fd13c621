-- Kafka clusters registered by the operator. Credentials arrive with cluster management.
create table clusters (
    id                uuid primary key default gen_random_uuid(),
    name              text not null,
    bootstrap_servers text not null,
    security_protocol text not null,
    created_at        timestamptz not null default now(),
    constraint clusters_name_key unique (name),
    constraint clusters_security_protocol_check check (security_protocol in ('SASL_PLAINTEXT', 'SASL_SSL')),
    constraint clusters_bootstrap_not_blank check (length(btrim(bootstrap_servers)) > 0)
);
