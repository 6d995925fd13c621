//! Catalog search: full text over name, tags, category, schema field names, summary, provider
//! and description (weighted tsvector), typo tolerance through trigram word similarity, facets
//! with counts over the matching set, and sorting.

use std::collections::BTreeMap;

use serde::Serialize;
use tributary_identity::Actor;
use uuid::Uuid;

use crate::{Catalog, CatalogError, Stream, streams::STREAM_COLUMNS};

/// Longest query text accepted.
pub const MAX_QUERY_CHARS: usize = 200;
/// Largest page.
pub const MAX_PAGE: i64 = 100;
/// How similar a word of the query must be to a word of a stream to count as a (typo) match.
const WORD_SIMILARITY: &str = "0.5";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchSort {
    /// Best match first (newest first without query text).
    #[default]
    Relevance,
    Newest,
    Name,
}

#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub categories: Vec<String>,
    /// Every listed tag must be present.
    pub tags: Vec<String>,
    /// Provider organization slugs.
    pub providers: Vec<String>,
    /// Value schema types (`AVRO`, `JSON`, `PROTOBUF`).
    pub schema_types: Vec<String>,
    pub pricing_models: Vec<String>,
    /// `Some(true)`: only streams with a free plan; `Some(false)`: only with a paid plan.
    pub free: Option<bool>,
    pub sort: SearchSort,
    pub first: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    pub value: String,
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Facet {
    /// `category`, `tag`, `provider`, `schemaType`, `pricingModel`, `price`.
    pub name: String,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone)]
pub struct SearchPage {
    pub streams: Vec<Stream>,
    pub total: i64,
    pub facets: Vec<Facet>,
}

/// The filtered set, shared by the page, the total and the facets. `$1` text, `$2` categories,
/// `$3` tags, `$4` providers, `$5` schema types, `$6` pricing models, `$7` free, `$8` viewer orgs.
const MATCHES: &str = "
with q as (
    select websearch_to_tsquery('english', $1) as tsq, lower($1) as raw
), m as materialized (
    select s.id, s.name, s.category, s.tags, s.value_schema_type, s.pricing_models, s.published_at,
           o.slug as provider_slug, o.name as provider_name,
           case when $1 is null then 0::real
                else ts_rank_cd(s.search_vector, q.tsq, 32) * 4 + word_similarity(q.raw, s.search_text)
           end as rank
      from streams s
      join organizations o on o.id = s.provider_org_id
      cross join q
     where s.status in ('published', 'deprecated')
       and (s.visibility = 'public'
            or s.provider_org_id = any($8)
            or (s.visibility = 'private'
                and exists (select 1 from stream_access_grants g where g.stream_id = s.id and g.org_id = any($8))))
       and ($1 is null or s.search_vector @@ q.tsq or q.raw <% s.search_text)
       and (cardinality($2::text[]) = 0 or s.category = any($2))
       and (cardinality($3::text[]) = 0 or s.tags @> $3)
       and (cardinality($4::text[]) = 0 or o.slug = any($4))
       and (cardinality($5::text[]) = 0 or s.value_schema_type = any($5))
       and (cardinality($6::text[]) = 0 or s.pricing_models && $6)
       and ($7::boolean is null
            or ($7 and 'free' = any(s.pricing_models))
            or (not $7 and s.pricing_models && array['flat', 'usage']))
)";

fn clean_list(values: &[String], upper: bool) -> Vec<String> {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty() && v.len() <= 100)
        .map(|v| {
            if upper {
                v.to_uppercase()
            } else {
                v.to_lowercase()
            }
        })
        .take(20)
        .collect()
}

impl Catalog {
    /// Searches the catalog as `actor` sees it.
    pub async fn search(
        &self,
        actor: Option<&Actor>,
        query: &SearchQuery,
    ) -> Result<SearchPage, CatalogError> {
        let text = query
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_QUERY_CHARS)
        {
            return Err(CatalogError::validation(
                "query",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        if !(0..=MAX_PAGE).contains(&query.first) {
            return Err(CatalogError::validation(
                "first",
                format!("must be between 0 and {MAX_PAGE}"),
            ));
        }
        if !(0..=10_000).contains(&query.offset) {
            return Err(CatalogError::validation(
                "after",
                "pages beyond 10 000 results are not served; refine the search",
            ));
        }
        let categories = clean_list(&query.categories, false);
        let tags = clean_list(&query.tags, false);
        let providers = clean_list(&query.providers, false);
        let schema_types = clean_list(&query.schema_types, true);
        let models = clean_list(&query.pricing_models, false);

        let mut tx = self.pool.begin().await?;
        let (orgs, _) = self.viewer_orgs(&mut tx, actor).await?;
        sqlx::query("select set_config('pg_trgm.word_similarity_threshold', $1, true)")
            .bind(WORD_SIMILARITY)
            .execute(&mut *tx)
            .await?;
        let order = match (query.sort, text.is_some()) {
            (SearchSort::Relevance, true) => "rank desc, published_at desc, id",
            (SearchSort::Relevance | SearchSort::Newest, _) => "published_at desc, id",
            (SearchSort::Name, _) => "lower(name), id",
        };
        let page_sql = format!(
            "{MATCHES}
            select (select count(*) from m) as total,
                   coalesce((select array_agg(id) from (select id from m order by {order} limit $9 offset $10) p), '{{}}') as ids"
        );
        let (total, ids): (i64, Vec<Uuid>) = sqlx::query_as(sqlx::AssertSqlSafe(page_sql))
            .bind(&text)
            .bind(&categories)
            .bind(&tags)
            .bind(&providers)
            .bind(&schema_types)
            .bind(&models)
            .bind(query.free)
            .bind(&orgs)
            .bind(query.first)
            .bind(query.offset)
            .fetch_one(&mut *tx)
            .await?;
        let facet_sql = format!(
            "{MATCHES}
            select 'category' as facet, category as value, category as label, count(*) from m where category <> '' group by category
            union all
            select 'tag', t, t, count(*) from m, unnest(tags) t group by t
            union all
            select 'provider', provider_slug, min(provider_name), count(*) from m group by provider_slug
            union all
            select 'schemaType', value_schema_type, value_schema_type, count(*) from m where value_schema_type is not null group by value_schema_type
            union all
            select 'pricingModel', p, p, count(*) from m, unnest(pricing_models) p group by p
            union all
            select 'price', v, v, count(*) from m,
                   unnest(array_remove(array[case when 'free' = any(pricing_models) then 'free' end,
                                             case when pricing_models && array['flat', 'usage'] then 'paid' end], null)) v
             group by v"
        );
        let rows: Vec<(String, String, String, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(facet_sql))
                .bind(&text)
                .bind(&categories)
                .bind(&tags)
                .bind(&providers)
                .bind(&schema_types)
                .bind(&models)
                .bind(query.free)
                .bind(&orgs)
                .fetch_all(&mut *tx)
                .await?;
        let streams: Vec<Stream> = if ids.is_empty() {
            Vec::new()
        } else {
            let mut found: Vec<Stream> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {STREAM_COLUMNS} from streams s join organizations o on o.id = s.provider_org_id where s.id = any($1)"
            )))
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
            found.sort_by_key(|s| ids.iter().position(|id| *id == s.id));
            found
        };
        tx.commit().await?;

        let mut facets: BTreeMap<String, Vec<FacetValue>> = [
            "category",
            "tag",
            "provider",
            "schemaType",
            "pricingModel",
            "price",
        ]
        .into_iter()
        .map(|f| (f.to_owned(), Vec::new()))
        .collect();
        for (facet, value, label, count) in rows {
            facets.entry(facet).or_default().push(FacetValue {
                value,
                label,
                count,
            });
        }
        let facets = facets
            .into_iter()
            .map(|(name, mut values)| {
                values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                values.truncate(if name == "tag" { 30 } else { 50 });
                Facet { name, values }
            })
            .collect();
        Ok(SearchPage {
            streams,
            total,
            facets,
        })
    }
}
