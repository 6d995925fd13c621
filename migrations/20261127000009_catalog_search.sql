-- Catalog search: PostgreSQL full text (weighted tsvector) for relevance, trigrams for typos.
create extension if not exists pg_trgm;

alter table streams
    -- pricing models of the stream's live plans, kept by the application for facets
    add column pricing_models text[] not null default '{}',
    add column provider_name  text not null default '',
    add column search_vector  tsvector,
    -- lower-cased words that typo-tolerant matching compares against (name, tags, fields...)
    add column search_text    text not null default '';

create function streams_search_refresh() returns trigger language plpgsql as $$
declare
    fields text := array_to_string(new.schema_fields, ' ');
    tags   text := array_to_string(new.tags, ' ');
begin
    -- Field names like `customer_id` also match `customer` and `id`.
    fields := fields || ' ' || regexp_replace(fields, '[_.]', ' ', 'g');
    new.search_vector :=
        setweight(to_tsvector('english', coalesce(new.name, '')), 'A') ||
        setweight(to_tsvector('english', tags || ' ' || coalesce(new.category, '')), 'B') ||
        setweight(to_tsvector('simple', fields), 'B') ||
        setweight(to_tsvector('english', coalesce(new.summary, '')), 'C') ||
        setweight(to_tsvector('english', coalesce(new.provider_name, '')), 'C') ||
        setweight(to_tsvector('english', left(coalesce(new.description_md, ''), 20000)), 'D');
    new.search_text := lower(concat_ws(' ', new.name, tags, new.category, fields, new.provider_name));
    return new;
end;
$$;

create trigger streams_search_refresh before insert or update of
    name, summary, description_md, tags, category, schema_fields, provider_name
    on streams for each row execute function streams_search_refresh();

update streams s set provider_name = o.name from organizations o where o.id = s.provider_org_id;

create index streams_search_vector_idx on streams using gin (search_vector);
create index streams_search_text_trgm_idx on streams using gin (search_text gin_trgm_ops);
create index streams_listed_idx on streams (published_at desc, id)
    where status in ('published', 'deprecated') and visibility = 'public';
