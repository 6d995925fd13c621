//! The catalog's search index: an in-memory read model of the listed streams, built from what
//! PostgreSQL analysed (each stream's english tsvector with its weights, and the lexicon of the
//! words streams use with their stems). It answers a search (match, rank, count, facets, page)
//! without visiting rows, which is what makes 100 000 streams searchable by 16 clients on 2 cores.
//!
//! Slots are append-only: a changed stream's old slot is marked dead and the new version is
//! appended, so every posting list stays sorted by slot without rewriting. The owner rebuilds
//! the index when dead slots pile up ([`Index::needs_compaction`]).
//!
//! Typo tolerance follows pg_trgm's definition: a word is padded with two spaces in front and
//! one behind, its trigrams are the distinct three-character windows, and the similarity of two
//! words is shared trigrams / all distinct trigrams of both.

use std::{cmp::Ordering, collections::HashMap, sync::OnceLock};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::SearchSort;

/// One stream as read from PostgreSQL.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct DocRow {
    pub id: Uuid,
    /// `search_xid`: the transaction that last changed the stream.
    pub version: i64,
    pub status: String,
    pub visibility: String,
    pub provider_org_id: Uuid,
    pub provider_slug: String,
    pub provider_name: String,
    pub category: String,
    pub tags: Vec<String>,
    pub value_schema_type: Option<String>,
    pub pricing_models: Vec<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub name: String,
    /// The tsvector in its text form: `'berlin':5A,9 'custom':12B`.
    pub vector: Option<String>,
    /// Organizations invited to a private stream.
    pub grants: Vec<Uuid>,
}

/// Score of a lexeme by its best weight (PostgreSQL's default weights, `{0.1, 0.2, 0.4, 1.0}`),
/// plus a little for each further occurrence.
fn lexeme_score(best: u8, occurrences: usize) -> f32 {
    let weight = match best {
        b'A' => 1.0,
        b'B' => 0.4,
        b'C' => 0.2,
        _ => 0.1,
    };
    weight + 0.02 * (occurrences.saturating_sub(1).min(10) as f32)
}

/// Lexemes of a tsvector's text form with their scores. Malformed input ends the parse (the text
/// comes from PostgreSQL's own output function).
pub(crate) fn parse_tsvector(text: &str) -> Vec<(String, f32)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        if bytes[i] != b'\'' {
            break;
        }
        i += 1;
        let mut lexeme = Vec::new();
        loop {
            match bytes.get(i) {
                None => return out,
                Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => {
                    lexeme.push(b'\'');
                    i += 2;
                }
                Some(b'\'') => {
                    i += 1;
                    break;
                }
                Some(b'\\') if i + 1 < bytes.len() => {
                    lexeme.push(bytes[i + 1]);
                    i += 2;
                }
                Some(&b) => {
                    lexeme.push(b);
                    i += 1;
                }
            }
        }
        // Positions: `:1A,5,9B`; none means a stripped vector (weight D, once).
        let (mut best, mut occurrences) = (b'D', 0usize);
        if bytes.get(i) == Some(&b':') {
            i += 1;
            while i < bytes.len() && bytes[i] != b' ' {
                match bytes[i] {
                    b'0'..=b'9' => {
                        while i < bytes.len() && bytes[i].is_ascii_digit() {
                            i += 1;
                        }
                        occurrences += 1;
                        let weight = match bytes.get(i) {
                            Some(&w @ (b'A' | b'B' | b'C' | b'D')) => {
                                i += 1;
                                w
                            }
                            _ => b'D',
                        };
                        // 'A' < 'B' < 'C' < 'D': the smallest letter is the heaviest weight.
                        best = best.min(weight);
                    }
                    _ => i += 1,
                }
            }
        }
        if let Ok(lexeme) = String::from_utf8(lexeme) {
            out.push((lexeme, lexeme_score(best, occurrences.max(1))));
        }
    }
    out
}

/// Distinct trigrams of a word as pg_trgm forms them.
fn trigrams(word: &str) -> Vec<[u8; 3]> {
    let padded: Vec<u8> = [b' ', b' ']
        .into_iter()
        .chain(word.bytes())
        .chain([b' '])
        .collect();
    let mut grams: Vec<[u8; 3]> = padded.windows(3).map(|w| [w[0], w[1], w[2]]).collect();
    grams.sort_unstable();
    grams.dedup();
    grams
}

#[derive(Default)]
struct Interner {
    ids: HashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
}

impl Interner {
    fn intern(&mut self, value: &str) -> u32 {
        if let Some(id) = self.ids.get(value) {
            return *id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.into());
        self.ids.insert(value.into(), id);
        id
    }

    fn get(&self, value: &str) -> Option<u32> {
        self.ids.get(value).copied()
    }

    fn value(&self, id: u32) -> &str {
        &self.values[id as usize]
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visibility {
    Public,
    Unlisted,
    Private,
}

/// Values shown per facet (tags: [`TAG_VALUES`]), most frequent first.
pub(crate) const FACET_VALUES: usize = 50;
pub(crate) const TAG_VALUES: usize = 30;

const FREE: u8 = 1;
const FLAT: u8 = 2;
const USAGE: u8 = 4;

fn pricing_bit(model: &str) -> u8 {
    match model {
        "free" => FREE,
        "flat" => FLAT,
        "usage" => USAGE,
        _ => 0,
    }
}

struct Doc {
    id: Uuid,
    version: i64,
    alive: bool,
    provider_org: Uuid,
    provider: u32,
    visibility: Visibility,
    grants: Box<[Uuid]>,
    category: Option<u32>,
    tags: Box<[u32]>,
    schema_type: Option<u32>,
    pricing: u8,
    /// Microseconds since the epoch; unpublished sorts last.
    published_at: i64,
    /// `lower(name)`, the name sort's key.
    name_key: Box<str>,
}

#[derive(Clone, Copy)]
struct Posting {
    slot: u32,
    score: f32,
}

/// A match with its sort keys inline, so ordering it touches no other memory.
#[derive(Clone, Copy)]
struct Hit {
    slot: u32,
    score: f32,
    published_at: i64,
}

/// `(facet, value, label, count)`.
pub(crate) type FacetCount = (&'static str, String, String, i64);

/// What every search of the public catalog would otherwise recompute, until the index changes.
#[derive(Default)]
struct Memo {
    /// Listed public streams, newest first: browsing reads pages off it in order.
    public_newest: OnceLock<Vec<u32>>,
    /// Facet counts of all listed public streams (the landing view).
    public_facets: OnceLock<Vec<FacetCount>>,
}

/// Words streams use (name, tags, category, field names, provider, summary), for typo lookups.
#[derive(Default)]
struct Lexicon {
    ids: HashMap<Box<str>, u32>,
    words: Vec<Box<str>>,
    stems: Vec<Box<[Box<str>]>>,
    sizes: Vec<u16>,
    trigrams: HashMap<[u8; 3], Vec<u32>>,
}

impl Lexicon {
    fn add(&mut self, word: &str, stems: &[String]) {
        if let Some(&id) = self.ids.get(word) {
            self.stems[id as usize] = stems.iter().map(|s| s.as_str().into()).collect();
            return;
        }
        let id = self.words.len() as u32;
        let grams = trigrams(word);
        for gram in &grams {
            self.trigrams.entry(*gram).or_default().push(id);
        }
        self.sizes.push(grams.len() as u16);
        self.words.push(word.into());
        self.stems
            .push(stems.iter().map(|s| s.as_str().into()).collect());
        self.ids.insert(word.into(), id);
    }

    /// Known words whose similarity to `word` is at least `threshold`, best first.
    fn similar(&self, word: &str, threshold: f32, limit: usize) -> Vec<(u32, f32)> {
        let grams = trigrams(word);
        let mut shared: HashMap<u32, u16> = HashMap::new();
        for gram in &grams {
            for id in self.trigrams.get(gram).into_iter().flatten() {
                *shared.entry(*id).or_default() += 1;
            }
        }
        let mut found: Vec<(u32, f32)> = shared
            .into_iter()
            .filter(|(id, _)| &*self.words[*id as usize] != word)
            .map(|(id, common)| {
                let union =
                    grams.len() as f32 + f32::from(self.sizes[id as usize]) - f32::from(common);
                (id, f32::from(common) / union)
            })
            .filter(|(_, similarity)| *similarity >= threshold)
            .collect();
        found.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then_with(|| self.words[a.0 as usize].cmp(&self.words[b.0 as usize]))
        });
        found.truncate(limit);
        found
    }
}

/// What a search asks of the index; strings are compared as the index stores them (lower-case
/// categories, tags and provider slugs, upper-case schema types).
pub(crate) struct Evaluation<'a> {
    /// One group per query word: the lexemes that stand for it, with their weight. Every group
    /// must match. `None`: no query text (browse).
    pub groups: Option<&'a [Vec<(u32, f32)>]>,
    pub viewer_orgs: &'a [Uuid],
    pub categories: &'a [String],
    pub tags: &'a [String],
    pub providers: &'a [String],
    pub schema_types: &'a [String],
    pub pricing_models: &'a [String],
    pub free: Option<bool>,
    pub sort: SearchSort,
    pub first: usize,
    pub offset: usize,
}

pub(crate) struct Outcome {
    pub total: usize,
    pub page: Vec<Uuid>,
    /// Counts over every match.
    pub facets: Vec<FacetCount>,
}

/// How one query word is read: the lexemes that match it and the known words it may be a typo of.
pub(crate) struct Reading {
    pub lexemes: Vec<(u32, f32)>,
    pub alternatives: Vec<String>,
}

#[derive(Default)]
pub(crate) struct Index {
    docs: Vec<Doc>,
    live: HashMap<Uuid, u32>,
    dead: usize,
    terms: Interner,
    postings: Vec<Vec<Posting>>,
    categories: Interner,
    tags: Interner,
    schema_types: Interner,
    providers: Interner,
    provider_names: Vec<Box<str>>,
    lexicon: Lexicon,
    /// Slots per category, tag and provider id (append-only like the postings; dead slots are
    /// skipped by the visibility check): a filtered browse reads only the smallest of them.
    by_category: Vec<Vec<u32>>,
    by_tag: Vec<Vec<u32>>,
    by_provider: Vec<Vec<u32>>,
    /// Organizations that see more than the public catalog (providers of unlisted or private
    /// streams, invitees), with how many such streams.
    hidden: HashMap<Uuid, u32>,
    memo: Memo,
}

impl Index {
    /// Streams the index holds.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// Whether dead slots make up a quarter of the index (the owner then rebuilds it).
    pub fn needs_compaction(&self) -> bool {
        self.dead > 1_000 && self.dead * 4 > self.docs.len()
    }

    /// Postings held, for the figures in logs.
    pub fn postings(&self) -> usize {
        self.postings.iter().map(Vec::len).sum()
    }

    /// Releases spare capacity after a bulk load.
    pub fn shrink(&mut self) {
        self.docs.shrink_to_fit();
        for list in &mut self.postings {
            list.shrink_to_fit();
        }
    }

    pub fn remove(&mut self, id: Uuid) {
        if let Some(slot) = self.live.remove(&id) {
            let doc = &mut self.docs[slot as usize];
            doc.alive = false;
            if doc.visibility != Visibility::Public {
                for org in std::iter::once(&doc.provider_org).chain(doc.grants.iter()) {
                    if let Some(n) = self.hidden.get_mut(org) {
                        *n -= 1;
                        if *n == 0 {
                            self.hidden.remove(org);
                        }
                    }
                }
            }
            self.dead += 1;
            self.memo = Memo::default();
        }
    }

    /// Adds or replaces a stream; one that is not listed (draft, retired) leaves the index.
    pub fn upsert(&mut self, row: DocRow) {
        if let Some(&slot) = self.live.get(&row.id)
            && self.docs[slot as usize].version == row.version
        {
            return;
        }
        self.remove(row.id);
        if !matches!(row.status.as_str(), "published" | "deprecated") {
            return;
        }
        let slot = self.docs.len() as u32;
        let provider = self.providers.intern(&row.provider_slug);
        if provider as usize == self.provider_names.len() {
            self.provider_names.push(row.provider_name.as_str().into());
        } else {
            self.provider_names[provider as usize] = row.provider_name.as_str().into();
        }
        let mut tags: Vec<u32> = row.tags.iter().map(|t| self.tags.intern(t)).collect();
        tags.sort_unstable();
        tags.dedup();
        self.docs.push(Doc {
            id: row.id,
            version: row.version,
            alive: true,
            provider_org: row.provider_org_id,
            provider,
            visibility: match row.visibility.as_str() {
                "public" => Visibility::Public,
                "unlisted" => Visibility::Unlisted,
                _ => Visibility::Private,
            },
            grants: row.grants.into(),
            category: (!row.category.is_empty()).then(|| self.categories.intern(&row.category)),
            tags: tags.into(),
            schema_type: row
                .value_schema_type
                .as_deref()
                .map(|t| self.schema_types.intern(t)),
            pricing: row
                .pricing_models
                .iter()
                .map(|m| pricing_bit(m))
                .fold(0, |a, b| a | b),
            published_at: row
                .published_at
                .map_or(i64::MIN, |at| at.timestamp_micros()),
            name_key: row.name.to_lowercase().into(),
        });
        let doc = &self.docs[slot as usize];
        let lists = [
            (
                &mut self.by_category,
                doc.category.into_iter().collect::<Vec<_>>(),
            ),
            (&mut self.by_tag, doc.tags.to_vec()),
            (&mut self.by_provider, vec![doc.provider]),
        ];
        for (index, ids) in lists {
            for id in ids {
                let id = id as usize;
                if index.len() <= id {
                    index.resize_with(id + 1, Vec::new);
                }
                index[id].push(slot);
            }
        }
        if doc.visibility != Visibility::Public {
            for org in std::iter::once(&doc.provider_org).chain(doc.grants.iter()) {
                *self.hidden.entry(*org).or_default() += 1;
            }
        }
        self.memo = Memo::default();
        for (lexeme, score) in parse_tsvector(row.vector.as_deref().unwrap_or("")) {
            let term = self.terms.intern(&lexeme) as usize;
            if term == self.postings.len() {
                self.postings.push(Vec::new());
            }
            self.postings[term].push(Posting { slot, score });
        }
        self.live.insert(row.id, slot);
    }

    /// Adds words to the typo lexicon with their stems.
    pub fn add_word(&mut self, word: &str, stems: &[String]) {
        self.lexicon.add(word, stems);
    }

    /// The stems of a word the lexicon knows.
    pub fn stems_of(&self, word: &str) -> Option<Vec<String>> {
        self.lexicon.ids.get(word).map(|id| {
            self.lexicon.stems[*id as usize]
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
    }

    /// How a query word is read: its own stems (weight 1) and up to `limit` known words at least
    /// `threshold` similar to it (weighted by their similarity) that add other lexemes.
    pub fn read_word(&self, stems: &[String], word: &str, threshold: f32, limit: usize) -> Reading {
        let mut lexemes: Vec<(u32, f32)> = stems
            .iter()
            .filter_map(|s| self.terms.get(s))
            .map(|t| (t, 1.0))
            .collect();
        let mut alternatives = Vec::new();
        for (id, similarity) in self.lexicon.similar(word, threshold, limit) {
            let mut adds = false;
            for stem in self.lexicon.stems[id as usize].iter() {
                if stems.iter().any(|s| s.as_str() == &**stem) {
                    continue;
                }
                if let Some(term) = self.terms.get(stem) {
                    match lexemes.iter_mut().find(|(t, _)| *t == term) {
                        Some(entry) => entry.1 = entry.1.max(similarity),
                        None => lexemes.push((term, similarity)),
                    }
                    adds = true;
                }
            }
            if adds {
                alternatives.push(self.lexicon.words[id as usize].to_string());
            }
        }
        Reading {
            lexemes,
            alternatives,
        }
    }

    /// Slots matching one query word, sorted by slot, with the best weighted score.
    fn group_matches(&self, group: &[(u32, f32)]) -> Vec<(u32, f32)> {
        let mut out: Vec<(u32, f32)> = Vec::new();
        for (term, weight) in group {
            out.extend(
                self.postings[*term as usize]
                    .iter()
                    .map(|p| (p.slot, p.score * weight)),
            );
        }
        if group.len() > 1 {
            // Sorted runs, concatenated: the stable sort merges them.
            out.sort_by_key(|(slot, _)| *slot);
            out.dedup_by(|later, kept| {
                if later.0 == kept.0 {
                    kept.1 = kept.1.max(later.1);
                    true
                } else {
                    false
                }
            });
        }
        out
    }

    fn visible(&self, doc: &Doc, viewer_orgs: &[Uuid]) -> bool {
        doc.alive
            && (doc.visibility == Visibility::Public
                || viewer_orgs.contains(&doc.provider_org)
                || (doc.visibility == Visibility::Private
                    && doc.grants.iter().any(|g| viewer_orgs.contains(g))))
    }

    pub fn evaluate(&self, q: &Evaluation<'_>) -> Outcome {
        let empty = Outcome {
            total: 0,
            page: Vec::new(),
            facets: Vec::new(),
        };
        // Filters as interned ids; a value the index does not know matches nothing.
        let any_of = |interner: &Interner, values: &[String]| -> Option<Vec<u32>> {
            let ids: Vec<u32> = values.iter().filter_map(|v| interner.get(v)).collect();
            (values.is_empty() || !ids.is_empty()).then_some(ids)
        };
        let (Some(categories), Some(providers), Some(schema_types)) = (
            any_of(&self.categories, q.categories),
            any_of(&self.providers, q.providers),
            any_of(&self.schema_types, q.schema_types),
        ) else {
            return empty;
        };
        let Some(tags) = q
            .tags
            .iter()
            .map(|t| self.tags.get(t))
            .collect::<Option<Vec<u32>>>()
        else {
            return empty;
        };
        let models = q
            .pricing_models
            .iter()
            .map(|m| pricing_bit(m))
            .fold(0, |a, b| a | b);
        if !q.pricing_models.is_empty() && models == 0 {
            return empty;
        }
        let keep = |doc: &Doc| -> bool {
            self.visible(doc, q.viewer_orgs)
                && (categories.is_empty() || doc.category.is_some_and(|c| categories.contains(&c)))
                && tags.iter().all(|t| doc.tags.contains(t))
                && (providers.is_empty() || providers.contains(&doc.provider))
                && (schema_types.is_empty()
                    || doc.schema_type.is_some_and(|t| schema_types.contains(&t)))
                && (models == 0 || doc.pricing & models != 0)
                && match q.free {
                    None => true,
                    Some(true) => doc.pricing & FREE != 0,
                    Some(false) => doc.pricing & (FLAT | USAGE) != 0,
                }
        };

        let filtered = !categories.is_empty()
            || !tags.is_empty()
            || !providers.is_empty()
            || !schema_types.is_empty()
            || models != 0
            || q.free.is_some();
        let page_of = |ordered: &mut dyn Iterator<Item = u32>| -> Vec<Uuid> {
            ordered
                .skip(q.offset)
                .take(q.first)
                .map(|slot| self.docs[slot as usize].id)
                .collect()
        };

        // Browsing newest first as someone who sees only the public catalog: read the memoized
        // order; the unfiltered landing view also takes its memoized facets.
        let public_only = q
            .viewer_orgs
            .iter()
            .all(|org| !self.hidden.contains_key(org));
        // (A browse filtered by category, provider or tag reads those slot lists instead.)
        let narrowed = !categories.is_empty() || !providers.is_empty() || !tags.is_empty();
        if q.groups.is_none() && public_only && q.sort != SearchSort::Name && !narrowed {
            let order = self.public_newest();
            if !filtered {
                let facets = self
                    .memo
                    .public_facets
                    .get_or_init(|| self.count_facets(order.iter().copied()))
                    .clone();
                return Outcome {
                    total: order.len(),
                    page: page_of(&mut order.iter().copied()),
                    facets,
                };
            }
            let matches: Vec<u32> = order
                .iter()
                .copied()
                .filter(|slot| keep(&self.docs[*slot as usize]))
                .collect();
            return Outcome {
                total: matches.len(),
                facets: self.count_facets(matches.iter().copied()),
                page: page_of(&mut matches.iter().copied()),
            };
        }

        let scored: Vec<(u32, f32)> = match q.groups {
            None => {
                // The smallest set a filter allows (all of a dimension's values together),
                // or every slot.
                let union = |index: &[Vec<u32>], ids: &[u32]| -> Vec<u32> {
                    let mut slots: Vec<u32> = ids
                        .iter()
                        .flat_map(|id| index.get(*id as usize).into_iter().flatten().copied())
                        .collect();
                    if ids.len() > 1 {
                        slots.sort_unstable();
                        slots.dedup();
                    }
                    slots
                };
                let mut sets: Vec<Vec<u32>> = Vec::new();
                if !categories.is_empty() {
                    sets.push(union(&self.by_category, &categories));
                }
                if !providers.is_empty() {
                    sets.push(union(&self.by_provider, &providers));
                }
                for tag in &tags {
                    sets.push(union(&self.by_tag, std::slice::from_ref(tag)));
                }
                let slots: Box<dyn Iterator<Item = u32>> =
                    match sets.into_iter().min_by_key(Vec::len) {
                        Some(smallest) => Box::new(smallest.into_iter()),
                        None => Box::new(0..self.docs.len() as u32),
                    };
                slots
                    .filter(|slot| keep(&self.docs[*slot as usize]))
                    .map(|slot| (slot, 0.0))
                    .collect()
            }
            Some([]) => return empty,
            Some(groups) => {
                // Start from the rarest word, then intersect.
                let mut lists: Vec<Vec<(u32, f32)>> =
                    groups.iter().map(|g| self.group_matches(g)).collect();
                lists.sort_by_key(Vec::len);
                let mut lists = lists.into_iter();
                let mut acc = lists.next().unwrap_or_default();
                for list in lists {
                    if acc.is_empty() {
                        break;
                    }
                    acc = intersect(&acc, &list);
                }
                acc.retain(|(slot, _)| keep(&self.docs[*slot as usize]));
                acc
            }
        };
        let facets = self.count_facets(scored.iter().map(|(slot, _)| *slot));
        let total = scored.len();
        let mut hits: Vec<Hit> = scored
            .into_iter()
            .map(|(slot, score)| Hit {
                slot,
                score,
                published_at: self.docs[slot as usize].published_at,
            })
            .collect();
        let by_id = |a: &Hit, b: &Hit| {
            self.docs[a.slot as usize]
                .id
                .cmp(&self.docs[b.slot as usize].id)
        };
        let by_newest = |a: &Hit, b: &Hit| -> Ordering {
            b.published_at
                .cmp(&a.published_at)
                .then_with(|| by_id(a, b))
        };
        let compare = |a: &Hit, b: &Hit| -> Ordering {
            match (q.sort, q.groups.is_some()) {
                (SearchSort::Relevance, true) => {
                    b.score.total_cmp(&a.score).then_with(|| by_newest(a, b))
                }
                (SearchSort::Relevance | SearchSort::Newest, _) => by_newest(a, b),
                (SearchSort::Name, _) => self.docs[a.slot as usize]
                    .name_key
                    .cmp(&self.docs[b.slot as usize].name_key)
                    .then_with(|| by_id(a, b)),
            }
        };
        let wanted = (q.offset + q.first).min(total);
        if wanted == 0 {
            return Outcome {
                total,
                page: Vec::new(),
                facets,
            };
        }
        if wanted < total {
            hits.select_nth_unstable_by(wanted - 1, compare);
            hits.truncate(wanted);
        }
        hits.sort_unstable_by(compare);
        Outcome {
            total,
            page: page_of(&mut hits.iter().map(|h| h.slot)),
            facets,
        }
    }

    /// Listed public streams, newest first (then by id), memoized until the index changes.
    fn public_newest(&self) -> &[u32] {
        self.memo.public_newest.get_or_init(|| {
            let mut slots: Vec<u32> = self
                .live
                .values()
                .copied()
                .filter(|slot| self.docs[*slot as usize].visibility == Visibility::Public)
                .collect();
            slots.sort_unstable_by(|a, b| {
                let (x, y) = (&self.docs[*a as usize], &self.docs[*b as usize]);
                y.published_at.cmp(&x.published_at).then(x.id.cmp(&y.id))
            });
            slots
        })
    }

    fn count_facets(&self, matches: impl Iterator<Item = u32>) -> Vec<FacetCount> {
        let mut categories = vec![0i64; self.categories.len()];
        let mut tags = vec![0i64; self.tags.len()];
        let mut providers = vec![0i64; self.providers.len()];
        let mut schema_types = vec![0i64; self.schema_types.len()];
        let (mut free, mut flat, mut usage, mut paid) = (0i64, 0i64, 0i64, 0i64);
        for slot in matches {
            let doc = &self.docs[slot as usize];
            if let Some(c) = doc.category {
                categories[c as usize] += 1;
            }
            for t in doc.tags.iter() {
                tags[*t as usize] += 1;
            }
            providers[doc.provider as usize] += 1;
            if let Some(t) = doc.schema_type {
                schema_types[t as usize] += 1;
            }
            free += i64::from(doc.pricing & FREE != 0);
            flat += i64::from(doc.pricing & FLAT != 0);
            usage += i64::from(doc.pricing & USAGE != 0);
            paid += i64::from(doc.pricing & (FLAT | USAGE) != 0);
        }
        let mut out = Vec::new();
        // The most frequent values of each facet, as the API shows them (ties by value); only
        // those become strings.
        let top = |counts: &[i64], interner: &Interner, limit: usize| -> Vec<(u32, i64)> {
            let mut ranked: Vec<(u32, i64)> = counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(id, n)| (id as u32, *n))
                .collect();
            ranked.sort_unstable_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| interner.value(a.0).cmp(interner.value(b.0)))
            });
            ranked.truncate(limit);
            ranked
        };
        for (facet, counts, interner) in [
            ("category", &categories, &self.categories),
            ("tag", &tags, &self.tags),
            ("schemaType", &schema_types, &self.schema_types),
        ] {
            let limit = if facet == "tag" {
                TAG_VALUES
            } else {
                FACET_VALUES
            };
            for (id, n) in top(counts, interner, limit) {
                let value = interner.value(id).to_owned();
                out.push((facet, value.clone(), value, n));
            }
        }
        for (id, n) in top(&providers, &self.providers, FACET_VALUES) {
            out.push((
                "provider",
                self.providers.value(id).to_owned(),
                self.provider_names[id as usize].to_string(),
                n,
            ));
        }
        for (facet, value, n) in [
            ("pricingModel", "free", free),
            ("pricingModel", "flat", flat),
            ("pricingModel", "usage", usage),
            ("price", "free", free),
            ("price", "paid", paid),
        ] {
            if n > 0 {
                out.push((facet, value.to_owned(), value.to_owned(), n));
            }
        }
        out
    }
}

/// Slots in both sorted lists, scores added.
fn intersect(a: &[(u32, f32)], b: &[(u32, f32)]) -> Vec<(u32, f32)> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            Ordering::Less => i += 1,
            Ordering::Greater => j += 1,
            Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsvector_text_is_read_with_weights_and_escapes() {
        let lexemes = parse_tsvector("'berlin':5A,9 'custom':12B,14 'it''s':3C 'x\\\\y':2 'bare'");
        let get = |l: &str| {
            lexemes
                .iter()
                .find(|(x, _)| x == l)
                .map(|(_, s)| (s * 100.0).round() as i32)
        };
        assert_eq!(get("berlin"), Some(102), "A, twice");
        assert_eq!(get("custom"), Some(42), "B, twice");
        assert_eq!(get("it's"), Some(20));
        assert_eq!(get("x\\y"), Some(10), "no weight letter is D");
        assert_eq!(get("bare"), Some(10));
        assert_eq!(lexemes.len(), 5);
    }

    #[test]
    fn trigram_similarity_matches_pg_trgm() {
        // pg_trgm: similarity('wether', 'weather') = 0.5; similarity('ordrs', 'orders') = 0.44…
        let mut lexicon = Lexicon::default();
        lexicon.add("weather", &["weather".into()]);
        lexicon.add("orders", &["order".into()]);
        lexicon.add("berlin", &["berlin".into()]);
        let found = lexicon.similar("wether", 0.3, 3);
        assert_eq!(found.len(), 1);
        assert!((found[0].1 - 0.5).abs() < 1e-6, "{found:?}");
        let found = lexicon.similar("ordrs", 0.3, 3);
        assert!((found[0].1 - 4.0 / 9.0).abs() < 1e-6, "{found:?}");
        assert!(
            lexicon.similar("weather", 0.3, 3).is_empty(),
            "a word is not its own typo"
        );
    }

    fn row(name: &str, vector: &str, published: i64) -> DocRow {
        DocRow {
            id: Uuid::new_v4(),
            version: 1,
            status: "published".into(),
            visibility: "public".into(),
            provider_org_id: Uuid::nil(),
            provider_slug: "p".into(),
            provider_name: "P".into(),
            category: "weather".into(),
            tags: vec!["eu".into(), "eu".into()],
            value_schema_type: Some("AVRO".into()),
            pricing_models: vec!["free".into()],
            published_at: DateTime::from_timestamp(published, 0),
            name: name.into(),
            vector: Some(vector.into()),
            grants: Vec::new(),
        }
    }

    fn browse<'a>(sort: SearchSort) -> Evaluation<'a> {
        Evaluation {
            groups: None,
            viewer_orgs: &[],
            categories: &[],
            tags: &[],
            providers: &[],
            schema_types: &[],
            pricing_models: &[],
            free: None,
            sort,
            first: 10,
            offset: 0,
        }
    }

    #[test]
    fn ranks_counts_pages_and_replaces_changed_streams() {
        let mut index = Index::default();
        let a = row("Berlin weather", "'berlin':1A 'weather':2A", 10);
        let b = row("Weather archive", "'weather':3D 'archiv':1A", 20);
        let (a_id, b_id) = (a.id, b.id);
        index.upsert(a.clone());
        index.upsert(b);
        let weather = index.terms.get("weather").expect("term");
        let groups = vec![vec![(weather, 1.0)]];
        let eval = Evaluation {
            groups: Some(&groups),
            ..browse(SearchSort::Relevance)
        };
        let found = index.evaluate(&eval);
        assert_eq!(found.total, 2);
        assert_eq!(
            found.page,
            vec![a_id, b_id],
            "a name match outranks a description match"
        );
        assert!(
            found.facets.contains(&("tag", "eu".into(), "eu".into(), 2)),
            "duplicate tags count once"
        );
        let newest = index.evaluate(&browse(SearchSort::Newest));
        assert_eq!(newest.page, vec![b_id, a_id]);
        let second = index.evaluate(&Evaluation {
            first: 1,
            offset: 1,
            ..browse(SearchSort::Name)
        });
        assert_eq!((second.total, second.page), (2, vec![b_id]));

        // The same version again changes nothing; a new version replaces the old slot.
        index.upsert(a.clone());
        assert_eq!(index.dead, 0);
        index.upsert(DocRow {
            version: 2,
            status: "retired".into(),
            ..a
        });
        assert_eq!((index.len(), index.dead), (1, 1));
        assert_eq!(index.evaluate(&eval).page, vec![b_id]);
        // The memoized public listing and its facets follow the change.
        let landing = index.evaluate(&browse(SearchSort::Newest));
        assert_eq!((landing.total, landing.page), (1, vec![b_id]));
        assert!(
            landing
                .facets
                .contains(&("tag", "eu".into(), "eu".into(), 1))
        );
    }

    #[test]
    fn text_and_filters_combine() {
        let mut index = Index::default();
        let mut finance = row("Live payments", "'live':1A 'payment':2A", 1);
        finance.category = "finance".into();
        let other = row("Live payments too", "'live':1A 'payment':2A", 2);
        let finance_id = finance.id;
        index.upsert(finance);
        index.upsert(other);
        let payment = index.terms.get("payment").expect("term");
        let groups = vec![vec![(payment, 1.0)]];
        let categories = ["finance".to_owned()];
        let types = ["AVRO".to_owned()];
        let found = index.evaluate(&Evaluation {
            groups: Some(&groups),
            categories: &categories,
            schema_types: &types,
            ..browse(SearchSort::Relevance)
        });
        assert_eq!((found.total, found.page), (1, vec![finance_id]));
    }

    #[test]
    fn visibility_and_filters_narrow_the_set() {
        let mut index = Index::default();
        let org = Uuid::new_v4();
        let invited = Uuid::new_v4();
        let mut private = row("Private", "'privat':1A", 1);
        private.visibility = "private".into();
        private.provider_org_id = org;
        private.grants = vec![invited];
        let mut unlisted = row("Unlisted", "'unlist':1A", 2);
        unlisted.visibility = "unlisted".into();
        unlisted.provider_org_id = org;
        let mut paid = row("Paid", "'paid':1A", 3);
        paid.pricing_models = vec!["usage".into()];
        paid.category = "finance".into();
        for r in [private, unlisted, paid] {
            index.upsert(r);
        }
        let count = |viewer: &[Uuid]| {
            index
                .evaluate(&Evaluation {
                    viewer_orgs: viewer,
                    ..browse(SearchSort::Newest)
                })
                .total
        };
        assert_eq!(count(&[]), 1, "anonymous: public only");
        assert_eq!(count(&[invited]), 2, "invited: public and private");
        assert_eq!(count(&[org]), 3, "provider: all its own");
        let finance = ["finance".to_owned()];
        let filtered = index.evaluate(&Evaluation {
            categories: &finance,
            free: Some(false),
            ..browse(SearchSort::Newest)
        });
        assert_eq!(filtered.total, 1);
        let unknown = ["nope".to_owned()];
        assert_eq!(
            index
                .evaluate(&Evaluation {
                    tags: &unknown,
                    ..browse(SearchSort::Newest)
                })
                .total,
            0
        );
    }
}
