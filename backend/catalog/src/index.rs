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

use std::{borrow::Cow, cmp::Ordering, collections::HashMap, sync::OnceLock};

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

/// Values shown per facet (tags: [`TAG_VALUES`]), most frequent first (ties by value).
const FACET_VALUES: usize = 50;
const TAG_VALUES: usize = 30;

// Bits of `Facts::flags`: the pricing models, then liveness and visibility.
const FREE: u8 = 1;
const FLAT: u8 = 2;
const USAGE: u8 = 4;
const PRICING: u8 = FREE | FLAT | USAGE;
const ALIVE: u8 = 8;
const PUBLIC: u8 = 16;
const PRIVATE: u8 = 32;

/// An absent category or schema type.
const NONE: u32 = u32::MAX;

fn pricing_bit(model: &str) -> u8 {
    match model {
        "free" => FREE,
        "flat" => FLAT,
        "usage" => USAGE,
        _ => 0,
    }
}

/// What filtering, facet counting and ordering read of a slot, packed into half a cache line:
/// a search touches these for every match, and the rest of a stream ([`Doc`]) only for the few
/// it shows or when the viewer sees more than the public catalog.
#[derive(Clone, Copy)]
struct Facts {
    /// Microseconds since the epoch; unpublished sorts last.
    published_at: i64,
    provider: u32,
    category: u32,
    schema_type: u32,
    /// The slot's tags are `tag_ids[tags_start..tags_start + tags_len]`.
    tags_start: u32,
    tags_len: u16,
    flags: u8,
}

/// The rest of a slot.
struct Doc {
    id: Uuid,
    version: i64,
    provider_org: Uuid,
    grants: Box<[Uuid]>,
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
    facts: Vec<Facts>,
    docs: Vec<Doc>,
    tag_ids: Vec<u32>,
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

/// A search's filters as interned ids, and who is looking.
struct Filter<'a> {
    categories: Vec<u32>,
    tags: Vec<u32>,
    providers: Vec<u32>,
    schema_types: Vec<u32>,
    /// Pricing bits of which one must be set (0: any).
    models: u8,
    free: Option<bool>,
    viewer_orgs: &'a [Uuid],
    /// The viewer sees exactly the public catalog (nothing unlisted or private is theirs).
    public_only: bool,
}

impl Filter<'_> {
    /// Whether a filter other than visibility applies.
    fn narrows(&self) -> bool {
        !self.categories.is_empty()
            || !self.tags.is_empty()
            || !self.providers.is_empty()
            || !self.schema_types.is_empty()
            || self.models != 0
            || self.free.is_some()
    }
}

/// Facet counts over a set of matches.
struct Counts {
    categories: Vec<u32>,
    tags: Vec<u32>,
    providers: Vec<u32>,
    schema_types: Vec<u32>,
    /// Streams per pricing-bit combination.
    pricing: [u32; 8],
}

/// The first `wanted` matches in a ranking, kept while matches stream past: a buffer of twice
/// that size is cut back to the best `wanted` whenever it fills, and the worst one kept then is
/// the bar a later match must clear to be buffered at all.
struct TopK<F: Fn(&Hit, &Hit) -> Ordering> {
    wanted: usize,
    hits: Vec<Hit>,
    bar: Option<Hit>,
    compare: F,
}

impl<F: Fn(&Hit, &Hit) -> Ordering> TopK<F> {
    fn new(wanted: usize, compare: F) -> Self {
        TopK {
            wanted,
            hits: Vec::with_capacity(2 * wanted),
            bar: None,
            compare,
        }
    }

    fn push(&mut self, hit: Hit) {
        if self.wanted == 0
            || self
                .bar
                .is_some_and(|bar| (self.compare)(&hit, &bar) != Ordering::Less)
        {
            return;
        }
        self.hits.push(hit);
        if self.hits.len() >= 2 * self.wanted {
            self.cut();
        }
    }

    fn cut(&mut self) {
        if self.hits.len() > self.wanted {
            self.hits
                .select_nth_unstable_by(self.wanted - 1, &self.compare);
            self.hits.truncate(self.wanted);
            self.bar = self.hits.last().copied();
        }
    }

    fn into_sorted(mut self) -> Vec<Hit> {
        self.cut();
        self.hits.sort_unstable_by(&self.compare);
        self.hits
    }
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
        self.facts.shrink_to_fit();
        self.docs.shrink_to_fit();
        self.tag_ids.shrink_to_fit();
        for list in &mut self.postings {
            list.shrink_to_fit();
        }
    }

    /// The orgs that may see a slot beyond the public: its provider and, if private, invitees.
    fn insiders(&self, slot: u32) -> impl Iterator<Item = &Uuid> {
        let doc = &self.docs[slot as usize];
        std::iter::once(&doc.provider_org).chain(doc.grants.iter())
    }

    pub fn remove(&mut self, id: Uuid) {
        if let Some(slot) = self.live.remove(&id) {
            let facts = &mut self.facts[slot as usize];
            facts.flags &= !ALIVE;
            if facts.flags & PUBLIC == 0 {
                let orgs: Vec<Uuid> = self.insiders(slot).copied().collect();
                for org in orgs {
                    if let Some(n) = self.hidden.get_mut(&org) {
                        *n -= 1;
                        if *n == 0 {
                            self.hidden.remove(&org);
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
        tags.truncate(usize::from(u16::MAX));
        let visibility = match row.visibility.as_str() {
            "public" => PUBLIC,
            "unlisted" => 0,
            _ => PRIVATE,
        };
        let category = if row.category.is_empty() {
            NONE
        } else {
            self.categories.intern(&row.category)
        };
        let pricing = row
            .pricing_models
            .iter()
            .map(|m| pricing_bit(m))
            .fold(0, |a, b| a | b);
        self.facts.push(Facts {
            published_at: row
                .published_at
                .map_or(i64::MIN, |at| at.timestamp_micros()),
            provider,
            category,
            schema_type: row
                .value_schema_type
                .as_deref()
                .map_or(NONE, |t| self.schema_types.intern(t)),
            tags_start: self.tag_ids.len() as u32,
            tags_len: tags.len() as u16,
            flags: pricing | ALIVE | visibility,
        });
        self.tag_ids.extend_from_slice(&tags);
        self.docs.push(Doc {
            id: row.id,
            version: row.version,
            provider_org: row.provider_org_id,
            grants: row.grants.into(),
            name_key: row.name.to_lowercase().into(),
        });
        let categories = if category == NONE {
            Vec::new()
        } else {
            vec![category]
        };
        for (lists, ids) in [
            (&mut self.by_category, categories),
            (&mut self.by_tag, tags),
            (&mut self.by_provider, vec![provider]),
        ] {
            for id in ids {
                let id = id as usize;
                if lists.len() <= id {
                    lists.resize_with(id + 1, Vec::new);
                }
                lists[id].push(slot);
            }
        }
        if visibility != PUBLIC {
            let orgs: Vec<Uuid> = self.insiders(slot).copied().collect();
            for org in orgs {
                *self.hidden.entry(org).or_default() += 1;
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
    ///
    /// The lexicon holds the words of every listing, but a word is suggested only through
    /// lexemes that occur in a listing the viewer (`viewer_orgs`, empty when anonymous) may see:
    /// a typo of a word used only in another tenant's private or draft listing reads as nothing.
    pub fn read_word(
        &self,
        stems: &[String],
        word: &str,
        threshold: f32,
        limit: usize,
        viewer_orgs: &[Uuid],
    ) -> Reading {
        let mut lexemes: Vec<(u32, f32)> = stems
            .iter()
            .filter_map(|s| self.terms.get(s))
            .map(|t| (t, 1.0))
            .collect();
        let public_only = !viewer_orgs.iter().any(|o| self.hidden.contains_key(o));
        let seen = |term: u32| {
            self.postings[term as usize]
                .iter()
                .any(|p| self.visible(p.slot, viewer_orgs, public_only))
        };
        let mut alternatives = Vec::new();
        for (id, similarity) in self.lexicon.similar(word, threshold, limit) {
            let mut adds = false;
            for stem in self.lexicon.stems[id as usize].iter() {
                if stems.iter().any(|s| s.as_str() == &**stem) {
                    continue;
                }
                if let Some(term) = self.terms.get(stem).filter(|t| seen(*t)) {
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

    /// Slots matching one query word, sorted by slot, with the best weighted score. A word read
    /// as one lexeme borrows its posting list as it is.
    fn group_matches(&self, group: &[(u32, f32)]) -> (Cow<'_, [Posting]>, f32) {
        match group {
            [] => (Cow::Borrowed(&[]), 1.0),
            [(term, weight)] => (Cow::Borrowed(&self.postings[*term as usize]), *weight),
            [(term, weight), rest @ ..] => {
                let weighted = |term: u32, weight: f32| {
                    self.postings[term as usize].iter().map(move |p| Posting {
                        slot: p.slot,
                        score: p.score * weight,
                    })
                };
                let mut merged: Vec<Posting> = weighted(*term, *weight).collect();
                for (term, weight) in rest {
                    merged = union_max(&merged, weighted(*term, *weight));
                }
                (Cow::Owned(merged), 1.0)
            }
        }
    }

    /// Whether the viewer (members of `viewer_orgs`; none when anonymous) may see the slot's
    /// listing: alive, and public or theirs (provider, or invited to a private one).
    #[inline]
    fn visible(&self, slot: u32, viewer_orgs: &[Uuid], public_only: bool) -> bool {
        let f = &self.facts[slot as usize];
        if f.flags & ALIVE == 0 {
            return false;
        }
        if f.flags & PUBLIC != 0 {
            return true;
        }
        if public_only {
            return false;
        }
        let doc = &self.docs[slot as usize];
        viewer_orgs.contains(&doc.provider_org)
            || (f.flags & PRIVATE != 0 && doc.grants.iter().any(|g| viewer_orgs.contains(g)))
    }

    /// Whether the slot passes the filters and the viewer may see it.
    #[inline]
    fn keep(&self, filter: &Filter<'_>, slot: u32) -> bool {
        if !self.visible(slot, filter.viewer_orgs, filter.public_only) {
            return false;
        }
        let f = &self.facts[slot as usize];
        (filter.categories.is_empty() || filter.categories.contains(&f.category))
            && (filter.providers.is_empty() || filter.providers.contains(&f.provider))
            && (filter.schema_types.is_empty() || filter.schema_types.contains(&f.schema_type))
            && (filter.models == 0 || f.flags & filter.models != 0)
            && match filter.free {
                None => true,
                Some(true) => f.flags & FREE != 0,
                Some(false) => f.flags & (FLAT | USAGE) != 0,
            }
            && (filter.tags.is_empty() || {
                let tags = self.tags_of(f);
                filter.tags.iter().all(|t| tags.contains(t))
            })
    }

    #[inline]
    fn tags_of(&self, f: &Facts) -> &[u32] {
        let start = f.tags_start as usize;
        &self.tag_ids[start..start + usize::from(f.tags_len)]
    }

    fn counts(&self) -> Counts {
        Counts {
            categories: vec![0; self.categories.len()],
            tags: vec![0; self.tags.len()],
            providers: vec![0; self.providers.len()],
            schema_types: vec![0; self.schema_types.len()],
            pricing: [0; 8],
        }
    }

    #[inline]
    fn count(&self, counts: &mut Counts, slot: u32) {
        let f = &self.facts[slot as usize];
        if f.category != NONE {
            counts.categories[f.category as usize] += 1;
        }
        for t in self.tags_of(f) {
            counts.tags[*t as usize] += 1;
        }
        counts.providers[f.provider as usize] += 1;
        if f.schema_type != NONE {
            counts.schema_types[f.schema_type as usize] += 1;
        }
        counts.pricing[usize::from(f.flags & PRICING)] += 1;
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
        let filter = Filter {
            categories,
            tags,
            providers,
            schema_types,
            models,
            free: q.free,
            viewer_orgs: q.viewer_orgs,
            public_only: q
                .viewer_orgs
                .iter()
                .all(|org| !self.hidden.contains_key(org)),
        };
        let wanted = q.offset + q.first;
        let page_of = |slots: &mut dyn Iterator<Item = u32>| -> Vec<Uuid> {
            slots
                .skip(q.offset)
                .take(q.first)
                .map(|slot| self.docs[slot as usize].id)
                .collect()
        };

        // Browsing newest first as someone who sees only the public catalog: read the memoized
        // order, which is already the page order; the unfiltered landing view also takes its
        // memoized facets. (A browse by category, provider or tag reads those slot lists.)
        let by_list = !filter.categories.is_empty()
            || !filter.providers.is_empty()
            || !filter.tags.is_empty();
        if q.groups.is_none() && filter.public_only && q.sort != SearchSort::Name && !by_list {
            let order = self.public_newest();
            if !filter.narrows() {
                let facets = self
                    .memo
                    .public_facets
                    .get_or_init(|| {
                        let mut counts = self.counts();
                        for slot in order {
                            self.count(&mut counts, *slot);
                        }
                        self.facets(&counts)
                    })
                    .clone();
                return Outcome {
                    total: order.len(),
                    page: page_of(&mut order.iter().copied()),
                    facets,
                };
            }
            let mut counts = self.counts();
            let mut total = 0;
            let mut page = Vec::with_capacity(wanted.min(order.len()));
            for slot in order.iter().copied().filter(|s| self.keep(&filter, *s)) {
                self.count(&mut counts, slot);
                if total < wanted {
                    page.push(slot);
                }
                total += 1;
            }
            return Outcome {
                total,
                facets: self.facets(&counts),
                page: page_of(&mut page.into_iter()),
            };
        }

        // Everything else: one pass over the candidates counts facets and keeps the page.
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
        let text = q.groups.is_some();
        let compare = |a: &Hit, b: &Hit| -> Ordering {
            match (q.sort, text) {
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
        let mut counts = self.counts();
        let mut total = 0;
        let mut top = TopK::new(wanted, compare);
        let mut take = |slot: u32, score: f32| {
            if self.keep(&filter, slot) {
                self.count(&mut counts, slot);
                total += 1;
                top.push(Hit {
                    slot,
                    score,
                    published_at: self.facts[slot as usize].published_at,
                });
            }
        };
        match q.groups {
            None => {
                // The smallest set a filter allows (all of a dimension's values together),
                // or every slot.
                let mut sets: Vec<Cow<'_, [u32]>> = Vec::new();
                if !filter.categories.is_empty() {
                    sets.push(slot_union(&self.by_category, &filter.categories));
                }
                if !filter.providers.is_empty() {
                    sets.push(slot_union(&self.by_provider, &filter.providers));
                }
                for tag in &filter.tags {
                    sets.push(slot_union(&self.by_tag, std::slice::from_ref(tag)));
                }
                match sets.into_iter().min_by_key(|s| s.len()) {
                    Some(smallest) => smallest.iter().for_each(|slot| take(*slot, 0.0)),
                    None => (0..self.facts.len() as u32).for_each(|slot| take(slot, 0.0)),
                }
            }
            Some([]) => return empty,
            Some(groups) => {
                // Start from the rarest word, then intersect.
                let mut lists: Vec<(Cow<'_, [Posting]>, f32)> =
                    groups.iter().map(|g| self.group_matches(g)).collect();
                lists.sort_by_key(|(list, _)| list.len());
                let mut lists = lists.into_iter();
                let (first, weight) = lists.next().expect("a group");
                let mut acc: Option<Vec<Posting>> = None;
                for (list, w) in lists {
                    let next = match &acc {
                        None => intersect(&first, weight, &list, w),
                        Some(acc) => intersect(acc, 1.0, &list, w),
                    };
                    acc = Some(next);
                }
                match acc {
                    None => first.iter().for_each(|p| take(p.slot, p.score * weight)),
                    Some(acc) => acc.iter().for_each(|p| take(p.slot, p.score)),
                }
            }
        }
        let hits = top.into_sorted();
        Outcome {
            total,
            page: page_of(&mut hits.iter().map(|h| h.slot)),
            facets: self.facets(&counts),
        }
    }

    /// Listed public streams, newest first (then by id), memoized until the index changes.
    fn public_newest(&self) -> &[u32] {
        self.memo.public_newest.get_or_init(|| {
            let mut slots: Vec<u32> = self
                .live
                .values()
                .copied()
                .filter(|slot| self.facts[*slot as usize].flags & PUBLIC != 0)
                .collect();
            slots.sort_unstable_by(|a, b| {
                let (x, y) = (&self.facts[*a as usize], &self.facts[*b as usize]);
                y.published_at
                    .cmp(&x.published_at)
                    .then_with(|| self.docs[*a as usize].id.cmp(&self.docs[*b as usize].id))
            });
            slots
        })
    }

    /// The most frequent values of each facet, as the API shows them (ties by value); only
    /// those become strings.
    fn facets(&self, counts: &Counts) -> Vec<FacetCount> {
        let top = |counts: &[u32], interner: &Interner, limit: usize| -> Vec<(u32, i64)> {
            let mut ranked: Vec<(u32, i64)> = counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(id, n)| (id as u32, i64::from(*n)))
                .collect();
            ranked.sort_unstable_by(|a, b| {
                b.1.cmp(&a.1)
                    .then_with(|| interner.value(a.0).cmp(interner.value(b.0)))
            });
            ranked.truncate(limit);
            ranked
        };
        let mut out = Vec::new();
        for (facet, counts, interner, limit) in [
            (
                "category",
                &counts.categories,
                &self.categories,
                FACET_VALUES,
            ),
            ("tag", &counts.tags, &self.tags, TAG_VALUES),
            (
                "schemaType",
                &counts.schema_types,
                &self.schema_types,
                FACET_VALUES,
            ),
        ] {
            for (id, n) in top(counts, interner, limit) {
                let value = interner.value(id).to_owned();
                out.push((facet, value.clone(), value, n));
            }
        }
        for (id, n) in top(&counts.providers, &self.providers, FACET_VALUES) {
            out.push((
                "provider",
                self.providers.value(id).to_owned(),
                self.provider_names[id as usize].to_string(),
                n,
            ));
        }
        let with = |bits: u8| -> i64 {
            (0..8u8)
                .filter(|combination| combination & bits != 0)
                .map(|combination| i64::from(counts.pricing[usize::from(combination)]))
                .sum()
        };
        for (facet, options) in [
            (
                "pricingModel",
                vec![
                    ("free", with(FREE)),
                    ("flat", with(FLAT)),
                    ("usage", with(USAGE)),
                ],
            ),
            (
                "price",
                vec![("free", with(FREE)), ("paid", with(FLAT | USAGE))],
            ),
        ] {
            let mut ranked: Vec<(&str, i64)> =
                options.into_iter().filter(|(_, n)| *n > 0).collect();
            ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            for (value, n) in ranked {
                out.push((facet, value.to_owned(), value.to_owned(), n));
            }
        }
        out
    }
}

/// The slots of one or more of a dimension's values (category, tag, provider), sorted.
fn slot_union<'a>(lists: &'a [Vec<u32>], ids: &[u32]) -> Cow<'a, [u32]> {
    let list = |id: &u32| lists.get(*id as usize).map_or(&[][..], Vec::as_slice);
    match ids {
        [id] => Cow::Borrowed(list(id)),
        _ => {
            let mut slots: Vec<u32> = ids.iter().flat_map(|id| list(id).iter().copied()).collect();
            slots.sort_unstable();
            slots.dedup();
            Cow::Owned(slots)
        }
    }
}

/// Both sorted lists merged, each slot once with its best score.
fn union_max(a: &[Posting], b: impl Iterator<Item = Posting>) -> Vec<Posting> {
    let mut out = Vec::with_capacity(a.len());
    let mut a = a.iter().copied().peekable();
    let mut b = b.peekable();
    loop {
        let next = match (a.peek(), b.peek()) {
            (None, None) => return out,
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (Some(x), Some(y)) => match x.slot.cmp(&y.slot) {
                Ordering::Less => a.next(),
                Ordering::Greater => b.next(),
                Ordering::Equal => {
                    let score = x.score.max(y.score);
                    let slot = x.slot;
                    a.next();
                    b.next();
                    Some(Posting { slot, score })
                }
            },
        };
        out.extend(next);
    }
}

/// Slots in both sorted lists, weighted scores added. The shorter list leads and the longer one
/// is searched from where the last match was (galloping), so a rare word costs little against a
/// common one.
fn intersect(short: &[Posting], ws: f32, long: &[Posting], wl: f32) -> Vec<Posting> {
    let mut out = Vec::with_capacity(short.len().min(long.len()));
    let mut rest = long;
    for p in short {
        // Exponential search for the first posting at or after `p.slot`.
        let mut bound = 1;
        while bound < rest.len() && rest[bound].slot < p.slot {
            bound *= 2;
        }
        let end = (bound + 1).min(rest.len());
        let at = rest[..end].partition_point(|x| x.slot < p.slot);
        rest = &rest[at..];
        match rest.first() {
            None => break,
            Some(x) if x.slot == p.slot => {
                out.push(Posting {
                    slot: p.slot,
                    score: p.score * ws + x.score * wl,
                });
                rest = &rest[1..];
            }
            Some(_) => {}
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

    /// The one-pass evaluation (borrowed postings, galloping intersection, bounded top-k,
    /// facet counts) against a brute-force reading of the same index, over many random
    /// indexes, viewers, filters, sorts and pages.
    #[test]
    fn evaluation_agrees_with_brute_force() {
        let seed = std::cell::Cell::new(0x2545_f491_4f6c_dd1du64);
        let next = |n: u64| {
            let mut x = seed.get();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seed.set(x);
            x % n
        };
        let orgs: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
        let words = ["alpha", "beta", "gamma", "delta", "omega"];
        let categories = ["finance", "weather", "iot"];
        let tags = ["eu", "us", "gps", "fx"];
        for round in 0..40 {
            let mut index = Index::default();
            let mut rows = Vec::new();
            for i in 0..(50 + next(250)) {
                let mut r = row(&format!("Stream {}", next(1000)), "", next(40) as i64);
                // Weight A only: every score is exact, so sums agree in any order.
                let mut lexemes: Vec<&str> =
                    words.iter().copied().filter(|_| next(3) == 0).collect();
                lexemes.sort_unstable();
                r.vector = Some(
                    lexemes
                        .iter()
                        .enumerate()
                        .map(|(at, w)| format!("'{w}':{}A", at + 1))
                        .collect::<Vec<_>>()
                        .join(" "),
                );
                r.visibility = ["public", "public", "unlisted", "private"][next(4) as usize].into();
                r.provider_org_id = orgs[next(4) as usize];
                r.provider_slug = format!(
                    "p{}",
                    orgs.iter()
                        .position(|o| *o == r.provider_org_id)
                        .unwrap_or(0)
                );
                r.grants = if next(2) == 0 {
                    vec![orgs[next(4) as usize]]
                } else {
                    Vec::new()
                };
                r.category = categories[next(3) as usize].into();
                r.tags = tags
                    .iter()
                    .filter(|_| next(2) == 0)
                    .map(|t| (*t).into())
                    .collect();
                r.value_schema_type = Some(["AVRO", "JSON"][next(2) as usize].into());
                r.pricing_models = match next(3) {
                    0 => vec!["free".into()],
                    1 => vec!["usage".into()],
                    _ => vec!["flat".into(), "free".into()],
                };
                if i % 7 == 3 {
                    r.status = "draft".into();
                }
                rows.push(r);
            }
            for r in &rows {
                index.upsert(r.clone());
            }
            // Replace some streams (dead slots) and remove some.
            for r in rows.iter_mut().filter(|_| next(5) == 0) {
                r.version += 1;
                r.category = categories[next(3) as usize].into();
                index.upsert(r.clone());
            }
            for r in rows.iter().filter(|_| next(9) == 0) {
                index.remove(r.id);
            }
            let listed: Vec<&DocRow> = rows
                .iter()
                .filter(|r| index.live.contains_key(&r.id))
                .collect();

            for _ in 0..30 {
                let viewer: Vec<Uuid> = match next(3) {
                    0 => Vec::new(),
                    _ => vec![orgs[next(4) as usize]],
                };
                let groups: Option<Vec<Vec<(u32, f32)>>> = match next(3) {
                    0 => None,
                    n => Some(
                        (0..n)
                            .map(|_| {
                                (0..1 + next(2))
                                    .filter_map(|_| {
                                        index
                                            .terms
                                            .get(words[next(5) as usize])
                                            .map(|t| (t, if next(2) == 0 { 1.0 } else { 0.5 }))
                                    })
                                    .collect::<Vec<_>>()
                            })
                            .map(|mut g| {
                                g.sort_by_key(|(t, _)| *t);
                                g.dedup_by_key(|(t, _)| *t);
                                g
                            })
                            .collect(),
                    ),
                };
                let pick = |n: u64, values: &[&str]| -> Vec<String> {
                    if n == 0 {
                        vec![values[0].to_string()]
                    } else {
                        Vec::new()
                    }
                };
                let cats = pick(next(3), &categories[next(3) as usize..]);
                let tag_filter = pick(next(3), &tags[next(4) as usize..]);
                let providers = pick(next(4), &["p0", "p1", "p2"][next(3) as usize..]);
                let types = pick(next(4), &["AVRO", "JSON"][next(2) as usize..]);
                let models = pick(next(4), &["usage", "flat"][next(2) as usize..]);
                let free = [None, Some(true), Some(false)][next(3) as usize];
                let sort =
                    [SearchSort::Relevance, SearchSort::Newest, SearchSort::Name][next(3) as usize];
                let (first, offset) = (1 + next(12) as usize, next(3) as usize * 5);
                let eval = Evaluation {
                    groups: groups.as_deref(),
                    viewer_orgs: &viewer,
                    categories: &cats,
                    tags: &tag_filter,
                    providers: &providers,
                    schema_types: &types,
                    pricing_models: &models,
                    free,
                    sort,
                    first,
                    offset,
                };
                let got = index.evaluate(&eval);

                // Brute force over the rows as written.
                let score_of = |r: &DocRow| -> Option<f32> {
                    let Some(groups) = &groups else {
                        return Some(0.0);
                    };
                    if groups.iter().any(Vec::is_empty) {
                        return None;
                    }
                    let vector = r.vector.clone().unwrap_or_default();
                    let mut total = 0.0;
                    for group in groups {
                        let best = group
                            .iter()
                            .filter(|(t, _)| {
                                vector.contains(&format!("'{}'", index.terms.value(*t)))
                            })
                            .map(|(_, w)| *w)
                            .fold(None, |a: Option<f32>, w| Some(a.map_or(w, |a| a.max(w))))?;
                        total += best;
                    }
                    Some(total)
                };
                let mut matches: Vec<(&DocRow, f32)> = listed
                    .iter()
                    .filter(|r| {
                        r.visibility == "public"
                            || viewer.contains(&r.provider_org_id)
                            || (r.visibility == "private"
                                && r.grants.iter().any(|g| viewer.contains(g)))
                    })
                    .filter(|r| cats.is_empty() || cats.contains(&r.category))
                    .filter(|r| tag_filter.iter().all(|t| r.tags.contains(t)))
                    .filter(|r| providers.is_empty() || providers.contains(&r.provider_slug))
                    .filter(|r| {
                        types.is_empty()
                            || r.value_schema_type
                                .as_ref()
                                .is_some_and(|t| types.contains(t))
                    })
                    .filter(|r| {
                        models.is_empty() || models.iter().any(|m| r.pricing_models.contains(m))
                    })
                    .filter(|r| match free {
                        None => true,
                        Some(true) => r.pricing_models.iter().any(|m| m == "free"),
                        Some(false) => r.pricing_models.iter().any(|m| m != "free"),
                    })
                    .filter_map(|r| score_of(r).map(|s| (*r, s)))
                    .collect();
                let newest = |a: &DocRow, b: &DocRow| {
                    b.published_at.cmp(&a.published_at).then(a.id.cmp(&b.id))
                };
                matches.sort_by(|(a, x), (b, y)| match (sort, groups.is_some()) {
                    (SearchSort::Relevance, true) => y.total_cmp(x).then_with(|| newest(a, b)),
                    (SearchSort::Name, _) => a
                        .name
                        .to_lowercase()
                        .cmp(&b.name.to_lowercase())
                        .then(a.id.cmp(&b.id)),
                    _ => newest(a, b),
                });
                let page: Vec<Uuid> = matches
                    .iter()
                    .skip(offset)
                    .take(first)
                    .map(|(r, _)| r.id)
                    .collect();
                let context = format!(
                    "round {round}: groups {groups:?}, viewer {viewer:?}, {cats:?} {tag_filter:?} {providers:?} {types:?} {models:?} {free:?} {sort:?} {first}+{offset}"
                );
                assert_eq!(got.total, matches.len(), "{context}");
                assert_eq!(got.page, page, "{context}");
                let mut category_counts: HashMap<&str, i64> = HashMap::new();
                for (r, _) in &matches {
                    *category_counts.entry(r.category.as_str()).or_default() += 1;
                }
                let got_categories: HashMap<&str, i64> = got
                    .facets
                    .iter()
                    .filter(|f| f.0 == "category")
                    .map(|f| (f.1.as_str(), f.3))
                    .collect();
                assert_eq!(got_categories, category_counts, "{context}");
                let paid = matches
                    .iter()
                    .filter(|(r, _)| r.pricing_models.iter().any(|m| m != "free"))
                    .count() as i64;
                let got_paid = got
                    .facets
                    .iter()
                    .find(|f| f.0 == "price" && f.1 == "paid")
                    .map_or(0, |f| f.3);
                assert_eq!(got_paid, paid, "{context}");
                // Each facet lists its values most frequent first, ties by value (the API shows
                // them in this order).
                for pair in got.facets.windows(2) {
                    let (a, b) = (&pair[0], &pair[1]);
                    if a.0 == b.0 {
                        assert!(
                            a.3 > b.3 || (a.3 == b.3 && a.1 < b.1),
                            "{context}: {a:?} before {b:?}"
                        );
                    }
                }
            }
        }
    }
}
