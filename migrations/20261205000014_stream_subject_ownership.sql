-- What Tributary made in a stream's registry subjects. An external registry has no owners and
-- Tributary reaches it with one operator credential, so Tributary records which of a stream's
-- subjects existed before the stream (it never changes their level or deletes them) and which
-- versions it registered itself (the only ones it deletes when a draft is deleted).
alter table streams
    add column subjects_preexisting text[] not null default '{}',
    add column registered_versions jsonb not null default '[]';

comment on column streams.subjects_preexisting is
    'Subjects of an external registry that had versions before the stream claimed them: Tributary never sets their level or deletes them.';
comment on column streams.registered_versions is
    'Versions Tributary registered in an external registry for this stream, as [{"subject": s, "version": v}]: the only ones it deletes.';
