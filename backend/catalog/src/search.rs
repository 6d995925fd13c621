//! Catalog search: full text over name, tags, category, schema field names, summary, provider
//! and description (a weighted tsvector kept by a trigger), typo tolerance through a lexicon of
//! the words streams use (pg_trgm picks the words a misspelt query word probably meant), facets
//! with counts, sorting.
//!
//! Cost model, so 16 clients on 2 cores stay fast at 100 000 streams: the match is always a GIN
//! tsvector lookup; the unfiltered catalog's facets come from trigger-kept counters; facets of
//! a very large match set are counted over its best [`FACET_SAMPLE`] rows and say so.

use std::collections::BTreeMap;

use serde::Serialize;
use tributary_identity::Actor;
use uuid::Uuid;

use crate::{Catalog, CatalogError, Stream, streams::STREAM_COLUMNS};

/// Longest query text accepted.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words of a query that are looked up.
const MAX_QUERY_WORDS: usize = 8;
/// Largest page.
pub const MAX_PAGE: i64 = 100;
/// Facets of a larger match set are counted over its best this-many rows (`facets_sampled`).
pub const FACET_SAMPLE: i64 = 2_000;
/// How similar (trigrams) a known word must be to a query word to stand in for it.
const TERM_SIMILARITY: &str = "0.4";
/// Known words tried per query word, besides the word itself.
const ALTERNATIVES: i64 = 3;

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
    /// The facets were counted over the best [`FACET_SAMPLE`] matches, not all of them.
    pub facets_sampled: bool,
    /// What the query words were read as (typo corrections included), e.g. `weather | wether`.
    pub interpreted_as: Option<String>,
}

/// Visibility and filters shared by every variant. `$1` tsquery text (or null), `$2` categories,
/// `$3` tags, `$4` providers, `$5` schema types, `$6` pricing models, `$7` free, `$8` viewer orgs.
/// `{materialized}`: `materialized` when the set is counted and faceted, `not materialized`
/// when only a page of it is read (the planner then walks the listing index).
const MATCHES: &str = "
with q as (
    select case when $1::text is null then null else to_tsquery('english', $1) end as tsq
), m as {materialized} (
    select s.id, s.name, s.category, s.tags, s.value_schema_type, s.pricing_models, s.published_at,
           s.provider_org_id, s.provider_name, s.visibility,
           case when q.tsq is null then 0::real else ts_rank_cd(s.search_vector, q.tsq, 32) end as rank
      from streams s
      cross join q
     where s.status in ('published', 'deprecated')
       and (s.visibility = 'public'
            or s.provider_org_id = any($8)
            or (s.visibility = 'private'
                and s.id in (select g.stream_id from stream_access_grants g where g.org_id = any($8))))
       and (q.tsq is null or s.search_vector @@ q.tsq)
       and (cardinality($2::text[]) = 0 or s.category = any($2))
       and (cardinality($3::text[]) = 0 or s.tags @> $3)
       and (cardinality($4::text[]) = 0 or s.provider_org_id in (select id from organizations where slug = any($4)))
       and (cardinality($5::text[]) = 0 or s.value_schema_type = any($5))
       and (cardinality($6::text[]) = 0 or s.pricing_models && $6)
       and ($7::boolean is null
            or ($7 and 'free' = any(s.pricing_models))
            or (not $7 and s.pricing_models && array['flat', 'usage']))
)";

/// Facet counts over a set `f` of rows shaped like `m`.
const FACETS_OF_F: &str = "
    select 'category' as facet, category as value, category as label, count(*) as n from f where category <> '' group by category
    union all
    select 'tag', t, t, count(*) from f, unnest(tags) t group by t
    union all
    select 'provider', o.slug, min(f.provider_name), count(*) from f join organizations o on o.id = f.provider_org_id group by o.slug
    union all
    select 'schemaType', value_schema_type, value_schema_type, count(*) from f where value_schema_type is not null group by value_schema_type
    union all
    select 'pricingModel', p, p, count(*) from f, unnest(pricing_models) p group by p
    union all
    select 'price', v, v, count(*) from f,
           unnest(array_remove(array[case when 'free' = any(pricing_models) then 'free' end,
                                     case when pricing_models && array['flat', 'usage'] then 'paid' end], null)) v
     group by v";

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

/// The words of a query as the search vectors store them: lower-case letters and digits
/// (`customer_email` is `customer` and `email`).
pub(crate) fn query_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= 40)
    {
        if !words.iter().any(|w| w == word) {
            words.push(word.to_owned());
        }
    }
    words.truncate(MAX_QUERY_WORDS);
    words
}

/// `(w1 | alt | alt) & (w2 | alt)`: every word must match, as written or as a known word it is
/// close to. Only `[a-z0-9]` reach this text, so it cannot inject tsquery syntax.
fn tsquery_text(words: &[(String, Vec<String>)]) -> String {
    words
        .iter()
        .map(|(word, alternatives)| {
            let mut options = vec![word.clone()];
            options.extend(alternatives.iter().filter(|a| *a != word).cloned());
            format!("({})", options.join(" | "))
        })
        .collect::<Vec<_>>()
        .join(" & ")
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
        let unfiltered = categories.is_empty()
            && tags.is_empty()
            && providers.is_empty()
            && schema_types.is_empty()
            && models.is_empty()
            && query.free.is_none();

        let mut tx = self.pool.begin().await?;
        let (orgs, _) = self.viewer_orgs(&mut tx, actor).await?;

        // Query words → each with the known words it is probably a typo of.
        let words = text.as_deref().map(query_words).unwrap_or_default();
        let tsquery = if words.is_empty() {
            None
        } else {
            sqlx::query("select set_config('pg_trgm.similarity_threshold', $1, true)")
                .bind(TERM_SIMILARITY)
                .execute(&mut *tx)
                .await?;
            let alternatives: Vec<(String, Vec<String>)> = sqlx::query_as(
                "select w, array(select term from catalog_terms where term % w order by term <-> w limit $2)
                   from unnest($1::text[]) with ordinality as u(w, i) order by i",
            )
            .bind(&words)
            .bind(ALTERNATIVES)
            .fetch_all(&mut *tx)
            .await?;
            Some(tsquery_text(&alternatives))
        };
        if text.is_some() && tsquery.is_none() {
            // Only punctuation: nothing can match.
            tx.commit().await?;
            return Ok(SearchPage {
                streams: Vec::new(),
                total: 0,
                facets: Vec::new(),
                facets_sampled: false,
                interpreted_as: None,
            });
        }

        let order = match (query.sort, tsquery.is_some()) {
            (SearchSort::Relevance, true) => "rank desc, published_at desc, id",
            (SearchSort::Relevance | SearchSort::Newest, _) => "published_at desc, id",
            (SearchSort::Name, _) => "lower(name), id",
        };
        // The landing page (no query, no filter): facets from the counters, plus whatever the
        // viewer sees beyond the public catalog (their own unlisted/private streams, invitations).
        let counted = tsquery.is_none() && unfiltered;
        let sql = if counted {
            let matches = MATCHES.replace("{materialized}", "not materialized");
            format!(
                "{matches}, beyond as (select * from m where visibility <> 'public')
                select (select coalesce(sum(n), 0)::bigint from catalog_facet_counts where facet = '_total')
                         + (select count(*) from beyond) as total,
                       coalesce((select array_agg(id) from (select id from m order by {order} limit $9 offset $10) p), '{{}}') as ids,
                       (select coalesce(json_agg(json_build_array(facet, value, label, n)), '[]') from (
                            select facet, value, label, n from catalog_facet_counts where n > 0 and facet <> '_total'
                            union all
                            select * from (with f as (select * from beyond) {FACETS_OF_F}) extra
                       ) all_facets) as facets"
            )
        } else {
            let matches = MATCHES.replace("{materialized}", "materialized");
            format!(
                "{matches}
                select (select count(*) from m) as total,
                       coalesce((select array_agg(id) from (select id from m order by {order} limit $9 offset $10) p), '{{}}') as ids,
                       (select coalesce(json_agg(json_build_array(facet, value, label, n)), '[]') from (
                            with f as (select * from m order by {order} limit {FACET_SAMPLE})
                            {FACETS_OF_F}
                       ) sampled) as facets"
            )
        };
        type FacetRow = (String, String, String, i64);
        let (total, ids, rows): (i64, Vec<Uuid>, sqlx::types::Json<Vec<FacetRow>>) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(&tsquery)
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

        let mut facets: BTreeMap<String, BTreeMap<String, FacetValue>> = [
            "category",
            "tag",
            "provider",
            "schemaType",
            "pricingModel",
            "price",
        ]
        .into_iter()
        .map(|f| (f.to_owned(), BTreeMap::new()))
        .collect();
        for (facet, value, label, count) in rows.0 {
            let values = facets.entry(facet).or_default();
            let entry = values.entry(value.clone()).or_insert(FacetValue {
                value,
                label,
                count: 0,
            });
            entry.count += count;
        }
        let facets = facets
            .into_iter()
            .map(|(name, values)| {
                let mut values: Vec<FacetValue> = values.into_values().collect();
                values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
                values.truncate(if name == "tag" { 30 } else { 50 });
                Facet { name, values }
            })
            .collect();
        Ok(SearchPage {
            streams,
            total,
            facets,
            facets_sampled: !counted && total > FACET_SAMPLE,
            interpreted_as: tsquery,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_are_what_the_index_stores() {
        assert_eq!(
            query_words("Weather  STATIONS!"),
            vec!["weather", "stations"]
        );
        assert_eq!(query_words("customer_email"), vec!["customer", "email"]);
        assert_eq!(query_words("a & b | !c <-> 'd'"), vec!["a", "b", "c", "d"]);
        assert!(query_words("&|!()").is_empty());
        assert_eq!(query_words(&"w ".repeat(20)).len(), 1);
    }

    #[test]
    fn every_word_must_match_as_written_or_as_a_close_known_word() {
        let text = tsquery_text(&[
            ("wether".into(), vec!["weather".into(), "wether".into()]),
            ("stations".into(), vec![]),
        ]);
        assert_eq!(text, "(wether | weather) & (stations)");
    }
}
