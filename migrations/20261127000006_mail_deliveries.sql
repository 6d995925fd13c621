-- One row per mail the mailer handled (delivered to SMTP or the local mailbox, or given up on),
-- so a mail is sent once per outbox row however many mailers run.
create table mail_deliveries (
    outbox_id    bigint primary key references outbox (id),
    transport    text not null,
    delivered_at timestamptz not null default now(),
    error        text,
    constraint mail_deliveries_transport_check check (transport in ('local', 'smtp', 'failed'))
);
