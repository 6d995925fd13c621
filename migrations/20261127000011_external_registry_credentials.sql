-- Credentials of a cluster's external schema registry (HTTP Basic: a user or API key and its
-- secret). The secret is sealed like the SASL password: XChaCha20-Poly1305 under a configured
-- key, the cluster id as authenticated data.
alter table clusters
    add column schema_registry_username text,
    add column schema_registry_password_encrypted text,
    add constraint clusters_registry_credentials_pair check (
        (schema_registry_username is null) = (schema_registry_password_encrypted is null));
