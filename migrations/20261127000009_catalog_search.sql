-- Catalog search.
--   * Full text: a weighted tsvector per stream, kept by a trigger.
--   * Typos: a lexicon of the words streams use (`catalog_terms`), searched with pg_trgm, turns a
--     misspelt query word into the words it probably meant; the main query then stays a GIN
--     tsvector match (PostgreSQL's documented approach to spelling suggestions).
--   * Facets of the unfiltered catalog: counters kept by a trigger (`catalog_facet_counts`), so
--     the landing page never counts 100 000 rows.
create extension if not exists pg_trgm;

alter table streams
    -- pricing models of the stream's live plans, kept by the application for facets
    add column pricing_models text[] not null default '{}',
    add column provider_name  text not null default '',
    add column search_vector  tsvector;

create table catalog_terms (
    term text primary key
);
create index catalog_terms_trgm_idx on catalog_terms using gist (term gist_trgm_ops);

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
        setweight(to_tsvector('english', fields), 'B') ||
        setweight(to_tsvector('english', coalesce(new.summary, '')), 'C') ||
        setweight(to_tsvector('english', coalesce(new.provider_name, '')), 'C') ||
        setweight(to_tsvector('english', left(coalesce(new.description_md, ''), 20000)), 'D');
    insert into catalog_terms (term)
    select distinct w
      from regexp_split_to_table(
               lower(concat_ws(' ', new.name, tags, new.category, fields, new.provider_name, new.summary)),
               '[^a-z0-9]+') w
     where length(w) between 3 and 40
    on conflict do nothing;
    return new;
end;
$$;

create trigger streams_search_refresh before insert or update of
    name, summary, description_md, tags, category, schema_fields, provider_name
    on streams for each row execute function streams_search_refresh();

update streams s set provider_name = o.name from organizations o where o.id = s.provider_org_id;

create index streams_search_vector_idx on streams using gin (search_vector);
create index streams_listed_idx on streams (published_at desc, id)
    where status in ('published', 'deprecated');
create index streams_listed_name_idx on streams ((lower(name)), id)
    where status in ('published', 'deprecated');
-- What a viewer sees beyond the public catalog (their own unlisted/private streams).
create index streams_not_public_idx on streams (provider_org_id) where visibility <> 'public';

-- Facet counts of the public catalog (listed = published or deprecated, and public).
create table catalog_facet_counts (
    facet text not null,
    value text not null,
    label text not null,
    n     bigint not null,
    primary key (facet, value)
);

create function catalog_facets_apply(s streams, delta integer) returns void language sql as $$
    insert into catalog_facet_counts (facet, value, label, n)
    select facet, value, min(label), delta from (
        select '_total' as facet, '' as value, '' as label
        union all select 'category', s.category, s.category where s.category <> ''
        union all select 'tag', t, t from unnest(s.tags) t
        union all select 'provider', o.slug, s.provider_name from organizations o where o.id = s.provider_org_id
        union all select 'schemaType', s.value_schema_type, s.value_schema_type where s.value_schema_type is not null
        union all select 'pricingModel', p, p from unnest(s.pricing_models) p
        union all select 'price', 'free', 'free' where 'free' = any(s.pricing_models)
        union all select 'price', 'paid', 'paid' where s.pricing_models && array['flat', 'usage']
    ) f
    -- a value listed twice (duplicate tags) counts once
    group by facet, value
    on conflict (facet, value) do update
        set n = catalog_facet_counts.n + excluded.n, label = excluded.label;
$$;

create function streams_facet_counts() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') and old.status in ('published', 'deprecated') and old.visibility = 'public' then
        perform catalog_facets_apply(old, -1);
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.status in ('published', 'deprecated') and new.visibility = 'public' then
        perform catalog_facets_apply(new, 1);
    end if;
    return null;
end;
$$;

create trigger streams_facet_counts after insert or delete or update of
    status, visibility, category, tags, value_schema_type, pricing_models, provider_name
    on streams for each row execute function streams_facet_counts();

-- Recounts the facet counters from scratch (after bulk loads that ran with the trigger disabled,
-- or to check the counters against the truth).
create function catalog_facets_rebuild() returns void language plpgsql as $$
begin
    delete from catalog_facet_counts;
    insert into catalog_facet_counts (facet, value, label, n)
    select facet, value, min(label), count(*) from (
        select '_total' as facet, '' as value, '' as label, s.id from streams s
         where s.status in ('published', 'deprecated') and s.visibility = 'public'
        union all select 'category', s.category, s.category, s.id from streams s
         where s.status in ('published', 'deprecated') and s.visibility = 'public' and s.category <> ''
        union all select distinct 'tag', t, t, s.id from streams s, unnest(s.tags) t
         where s.status in ('published', 'deprecated') and s.visibility = 'public'
        union all select 'provider', o.slug, s.provider_name, s.id from streams s join organizations o on o.id = s.provider_org_id
         where s.status in ('published', 'deprecated') and s.visibility = 'public'
        union all select 'schemaType', s.value_schema_type, s.value_schema_type, s.id from streams s
         where s.status in ('published', 'deprecated') and s.visibility = 'public' and s.value_schema_type is not null
        union all select distinct 'pricingModel', p, p, s.id from streams s, unnest(s.pricing_models) p
         where s.status in ('published', 'deprecated') and s.visibility = 'public'
        union all select 'price', 'free', 'free', s.id from streams s
         where s.status in ('published', 'deprecated') and s.visibility = 'public' and 'free' = any(s.pricing_models)
        union all select 'price', 'paid', 'paid', s.id from streams s
         where s.status in ('published', 'deprecated') and s.visibility = 'public' and s.pricing_models && array['flat', 'usage']
    ) rows
    group by facet, value;
end;
$$;
