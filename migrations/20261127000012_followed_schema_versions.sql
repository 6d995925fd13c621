-- The key and value schema versions each stream follows. A version registered directly in an
-- external registry (a producer's serializer, another tool) is found by comparing that
-- registry's latest version with these, and then followed like one registered through
-- Tributary: schema type, search fields and a `stream.schema_changed` event.
alter table streams
    add column key_schema_version integer,
    add column value_schema_version integer;

-- Streams in the embedded registry follow its latest live version today.
update streams s
   set key_schema_version = (select max(v.version) from registry_versions v
                              where v.subject = s.topic || '-key' and not v.deleted),
       value_schema_version = (select max(v.version) from registry_versions v
                                where v.subject = s.topic || '-value' and not v.deleted)
 where exists (select 1 from registry_versions v
                where v.subject in (s.topic || '-key', s.topic || '-value'));

