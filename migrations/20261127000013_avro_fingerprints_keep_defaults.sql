-- Avro schemas were fingerprinted over the Parsing Canonical Form, which drops defaults and docs:
-- registering a version that only added a default answered the earlier version instead of
-- creating one. Fingerprints are now taken over the stored text (JSON with sorted keys, no
-- whitespace), as the registry computes them from now on:
--   sha256(type, 0x00, text, then per reference 0x00, name 0x01 subject 0x01 version), hex.
update registry_schemas s
   set fingerprint = encode(sha256(
         convert_to('AVRO', 'UTF8') || '\x00'::bytea || convert_to(s.schema_text, 'UTF8') ||
         coalesce((select string_agg('\x00'::bytea || convert_to(
                                       (r.value ->> 'name') || chr(1) || (r.value ->> 'subject') || chr(1) || (r.value ->> 'version'),
                                       'UTF8'), ''::bytea order by r.ordinality)
                     from jsonb_array_elements(s.schema_references) with ordinality r),
                  ''::bytea)), 'hex')
 where s.schema_type = 'AVRO';
