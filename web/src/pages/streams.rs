//! Streams: the catalog search with facets, the provider's "My streams" list and the publish
//! wizard.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    NavigateOptions,
    hooks::{use_navigate, use_query_map},
    params::ParamsMap,
};

use crate::api::{
    AddPlan, CatalogParams, CatalogResults, CreateStream, FacetGroup, FormError, FormResult,
    ProvisionTopic, PublishStream, SchemaOutcome, SetContract, StreamListing, SubmitSchema,
    WizardOptions, load_org_streams, load_wizard_options, search_catalog,
};
use crate::components::{FieldError, StatusBadge};

/// A form error for `field` (or, without one, an error about no field), for [`FieldError`].
pub(crate) fn error_of<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<Result<T, FormError>, ServerFnError>>>,
    field: Option<&'static str>,
) -> Signal<Option<String>> {
    Signal::derive(move || match (value.get(), field) {
        (Some(Ok(Err(e))), Some(f)) => e.for_field(f),
        (Some(Ok(Err(e))), None) if e.field.is_none() => Some(e.message),
        (Some(Err(e)), None) => Some(format!("The request failed: {e}")),
        _ => None,
    })
}

pub(crate) fn stream_href(provider_slug: &str, slug: &str) -> String {
    format!("/streams/{provider_slug}/{slug}")
}

// ------------------------------------------------------------------------------------- catalog

/// URL keys of the facets, by the API's facet name.
const FACETS: [(&str, &str, &str); 6] = [
    ("category", "category", "Category"),
    ("tag", "tag", "Tag"),
    ("provider", "provider", "Provider"),
    ("schemaType", "schema", "Schema type"),
    ("pricingModel", "pricing", "Pricing model"),
    ("price", "price", "Price"),
];

fn params_of(query: &ParamsMap) -> CatalogParams {
    let all = |key: &str| query.get_all(key).unwrap_or_default();
    CatalogParams {
        q: query.get("q").unwrap_or_default(),
        categories: all("category"),
        tags: all("tag"),
        providers: all("provider"),
        schema_types: all("schema"),
        pricing_models: all("pricing"),
        price: query.get("price").unwrap_or_default(),
        sort: query.get("sort").unwrap_or_default(),
        after: query.get("after"),
    }
}

/// The catalog URL for `params` (empty values left out, so the plain catalog is just `/`).
fn catalog_href(params: &CatalogParams) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let q = params.q.trim();
    if !q.is_empty() {
        pairs.push(("q", q));
    }
    for (key, values) in [
        ("category", &params.categories),
        ("tag", &params.tags),
        ("provider", &params.providers),
        ("schema", &params.schema_types),
        ("pricing", &params.pricing_models),
    ] {
        pairs.extend(values.iter().map(|v| (key, v.as_str())));
    }
    if !params.price.is_empty() {
        pairs.push(("price", &params.price));
    }
    if !params.sort.is_empty() && params.sort != "relevance" {
        pairs.push(("sort", &params.sort));
    }
    if let Some(after) = params.after.as_deref().filter(|a| !a.is_empty()) {
        pairs.push(("after", after));
    }
    if pairs.is_empty() {
        return "/".into();
    }
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("/?{query}")
}

/// `params` with facet value `value` of URL key `key` switched on or off (back to page one).
fn toggled(params: &CatalogParams, key: &str, value: &str) -> (CatalogParams, bool) {
    let mut next = params.clone();
    next.after = None;
    let list = match key {
        "category" => &mut next.categories,
        "tag" => &mut next.tags,
        "provider" => &mut next.providers,
        "schema" => &mut next.schema_types,
        "pricing" => &mut next.pricing_models,
        _ => {
            let on = next.price == value;
            next.price = if on { String::new() } else { value.to_owned() };
            return (next, on);
        }
    };
    let on = list.iter().any(|v| v.eq_ignore_ascii_case(value));
    if on {
        list.retain(|v| !v.eq_ignore_ascii_case(value));
    } else {
        list.push(value.to_owned());
    }
    (next, on)
}

/// The catalog: full-text search with typo tolerance, facets and sorting, all in the URL.
#[component]
pub fn Catalog() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let params = Memo::new(move |_| params_of(&query.read()));
    let results = Resource::new(move || params.get(), search_catalog);
    // What is typed; the URL follows it (replacing the history entry), not the other way round.
    let typed = RwSignal::new(params.get_untracked().q);
    let go = move |next: CatalogParams| {
        navigate(
            &catalog_href(&next),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        )
    };
    let go_typed = go.clone();
    let go_sort = go.clone();
    view! {
        <Title text="Catalog" />
        <div class="page-header">
            <div>
                <h1>"Catalog"</h1>
                <p class="page-description">"Schema-governed Kafka streams you can subscribe to."</p>
            </div>
        </div>
        <form
            class="toolbar catalog-search"
            method="get"
            action="/"
            role="search"
            on:submit=move |ev| {
                ev.prevent_default();
                let mut next = params.get_untracked();
                next.q = typed.get_untracked();
                next.after = None;
                go(next);
            }
        >
            <label class="field catalog-query">
                <span class="field-label">"Search streams"</span>
                <input
                    id="catalog-filter"
                    type="search"
                    name="q"
                    placeholder="Name, field, topic, provider…"
                    autocomplete="off"
                    prop:value=typed
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        typed.set(text.clone());
                        let mut next = params.get_untracked();
                        next.q = text;
                        next.after = None;
                        go_typed(next);
                    }
                />
            </label>
            <label class="field field-narrow">
                <span class="field-label">"Sort by"</span>
                <select
                    name="sort"
                    id="catalog-sort"
                    on:change=move |ev| {
                        let mut next = params.get_untracked();
                        next.sort = event_target_value(&ev);
                        next.after = None;
                        go_sort(next);
                    }
                >
                    {[("relevance", "Best match"), ("newest", "Newest"), ("name", "Name")]
                        .into_iter()
                        .map(|(value, label)| {
                            view! {
                                <option value=value selected=move || params.read().sort == value || (value == "relevance" && params.read().sort.is_empty())>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            // Facet choices ride along when the form is sent without JavaScript.
            {move || {
                let p = params.get();
                [
                    ("category", p.categories),
                    ("tag", p.tags),
                    ("provider", p.providers),
                    ("schema", p.schema_types),
                    ("pricing", p.pricing_models),
                    ("price", if p.price.is_empty() { vec![] } else { vec![p.price] }),
                ]
                    .into_iter()
                    .flat_map(|(key, values)| values.into_iter().map(move |v| view! { <input type="hidden" name=key value=v /> }))
                    .collect_view()
            }}
            <button type="submit" class="button button-ghost">"Search"</button>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading the catalog…"</p> }>
            {move || {
                results
                    .get()
                    .map(|result| match result {
                        Ok(Ok(found)) => view! { <CatalogResultsView found params /> }.into_any(),
                        Ok(Err(e)) => {
                            view! {
                                <div class="callout callout-error" role="alert">
                                    "The catalog could not be searched: "
                                    {e.message}
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => {
                            view! {
                                <div class="callout callout-error" role="alert">
                                    "The catalog could not be loaded: "
                                    {e.to_string()}
                                </div>
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}

#[component]
fn CatalogResultsView(found: CatalogResults, params: Memo<CatalogParams>) -> impl IntoView {
    let current = params.get_untracked();
    if found.catalog_total == 0 {
        return view! {
            <div class="empty-state">
                <h2>"No streams yet"</h2>
                <p>"Providers have not published any stream. Check back soon."</p>
            </div>
        }
        .into_any();
    }
    let next_href = found.next.clone().map(|after| {
        let mut next = current.clone();
        next.after = Some(after);
        catalog_href(&next)
    });
    let first_href = current.after.is_some().then(|| {
        let mut first = current.clone();
        first.after = None;
        catalog_href(&first)
    });
    let filtered = current != CatalogParams::default()
        && !(current.q.trim().is_empty()
            && current.sort.is_empty()
            && current.after.is_none()
            && current.categories.is_empty()
            && current.tags.is_empty()
            && current.providers.is_empty()
            && current.schema_types.is_empty()
            && current.pricing_models.is_empty()
            && current.price.is_empty());
    view! {
        <div class="catalog-layout">
            <aside class="facets" aria-label="Filters">
                {found
                    .facets
                    .iter()
                    .filter(|f| !f.values.is_empty())
                    .map(|f| view! { <FacetList facet=f.clone() current=current.clone() /> })
                    .collect_view()}
                {filtered
                    .then(|| view! { <a class="button button-ghost button-small" href="/" id="clear-filters">"Clear all"</a> })}
            </aside>
            <div class="catalog-results">
                <p class="muted" id="catalog-count" aria-live="polite">
                    {format!("Showing {} of {} streams", found.total_count, found.catalog_total)}
                </p>
                {if found.streams.is_empty() {
                    view! {
                        <div class="empty-state" id="catalog-empty">
                            <p class="empty-inline">"No stream matches this filter."</p>
                            <p><a href="/">"Clear the search and filters"</a></p>
                        </div>
                    }
                        .into_any()
                } else {
                    view! { <StreamTable streams=found.streams.clone() /> }.into_any()
                }}
                <nav class="pager" aria-label="Pages">
                    {first_href.map(|href| view! { <a class="button button-ghost button-small" href=href>"First page"</a> })}
                    {next_href.map(|href| view! { <a class="button button-ghost button-small" id="catalog-next" href=href>"Next page"</a> })}
                </nav>
            </div>
        </div>
    }
    .into_any()
}

#[component]
fn FacetList(facet: FacetGroup, current: CatalogParams) -> impl IntoView {
    let (key, title) = FACETS
        .iter()
        .find(|(name, ..)| *name == facet.name)
        .map(|(_, key, title)| (*key, *title))
        .unwrap_or(("", ""));
    if key.is_empty() {
        return ().into_any();
    }
    let heading_id = format!("facet-{key}");
    let labelled_by = heading_id.clone();
    view! {
        <section class="facet" aria-labelledby=labelled_by data-facet=key>
            <h2 class="facet-title" id=heading_id>{title}</h2>
            <ul>
                {facet
                    .values
                    .into_iter()
                    .map(|v| {
                        let (next, on) = toggled(&current, key, &v.value);
                        let label = if key == "price" {
                            match v.value.as_str() {
                                "free" => "Free plan".to_owned(),
                                "paid" => "Paid plans".to_owned(),
                                _ => v.label.clone(),
                            }
                        } else {
                            v.label.clone()
                        };
                        view! {
                            <li>
                                <a
                                    class="facet-option"
                                    href=catalog_href(&next)
                                    role="checkbox"
                                    aria-checked=if on { "true" } else { "false" }
                                    data-value=v.value.clone()
                                >
                                    <span class="facet-check" aria-hidden="true">{if on { "✓" } else { "" }}</span>
                                    <span class="facet-label">{label}</span>
                                    <span class="facet-count">{v.count}</span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
    .into_any()
}

fn pricing_label(models: &[String]) -> String {
    let free = models.iter().any(|m| m == "free");
    let paid = models.iter().any(|m| m != "free");
    match (free, paid) {
        (true, true) => "Free · Paid".into(),
        (true, false) => "Free".into(),
        (false, true) => "Paid".into(),
        _ => "—".into(),
    }
}

#[component]
fn StreamTable(streams: Vec<StreamListing>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" id="catalog-table">
                <thead>
                    <tr>
                        <th scope="col">"Stream"</th>
                        <th scope="col">"Provider"</th>
                        <th scope="col">"Category"</th>
                        <th scope="col">"Schema"</th>
                        <th scope="col">"Pricing"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {streams
                        .into_iter()
                        .map(|s| {
                            view! {
                                <tr data-slug=s.slug.clone()>
                                    <td>
                                        <a class="cell-title" href=stream_href(&s.provider_slug, &s.slug)>{s.name.clone()}</a>
                                        <div class="cell-sub">{s.summary.clone()}</div>
                                        <div class="tag-list">
                                            <code class="cell-topic">{s.topic.clone()}</code>
                                            {s.tags.iter().map(|t| view! { <span class="tag">{t.clone()}</span> }).collect_view()}
                                        </div>
                                    </td>
                                    <td>{s.provider.clone()}</td>
                                    <td>{s.category.clone()}</td>
                                    <td>{s.value_schema_type.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td>{pricing_label(&s.pricing_models)}</td>
                                    <td><StatusBadge status=s.status.clone() /></td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

// ---------------------------------------------------------------------------------- my streams

#[component]
fn SignInFirst(what: &'static str) -> impl IntoView {
    view! {
        <div class="empty-state">
            <h2>{format!("Sign in to see {what}")}</h2>
            <p><a href="/sign-in">"Sign in"</a>" or "<a href="/sign-up">"create an account"</a>"."</p>
        </div>
    }
}

fn org_query(org: &Option<String>) -> String {
    org.as_deref()
        .filter(|o| !o.is_empty())
        .map(|o| format!("?org={o}"))
        .unwrap_or_default()
}

/// The streams of the organization chosen in the org switcher, drafts included.
#[component]
pub fn MyStreamsPage() -> impl IntoView {
    let query = use_query_map();
    let org = move || query.read().get("org");
    let streams = Resource::new(org, load_org_streams);
    view! {
        <Title text="My streams" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                streams
                    .get()
                    .map(|result| match result {
                        Ok(Ok(mine)) => {
                            let new_href = format!("/my-streams/new?org={}", mine.org_id);
                            view! {
                                <div class="page-header">
                                    <div>
                                        <nav class="breadcrumbs" aria-label="Breadcrumb">{mine.org_name.clone()}</nav>
                                        <h1>"My streams"</h1>
                                        <p class="page-description">"Streams your organization provides: drafts, published, deprecated and retired."</p>
                                    </div>
                                    <a class="button button-primary" id="publish-stream" href=new_href.clone()>"Publish a stream"</a>
                                </div>
                                {if mine.streams.is_empty() {
                                    view! {
                                        <div class="empty-state" id="my-streams-empty">
                                            <h2>"No streams yet — Publish your first stream"</h2>
                                            <p>"Describe it, create its topic, register its schema, set a plan, publish."</p>
                                            <a class="button button-primary" href=new_href>"Publish a stream"</a>
                                        </div>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <div class="table-wrap">
                                            <table class="table" id="my-streams-table">
                                                <thead>
                                                    <tr>
                                                        <th scope="col">"Name"</th>
                                                        <th scope="col">"Status"</th>
                                                        <th scope="col">"Topic"</th>
                                                        <th scope="col">"Schema"</th>
                                                        <th scope="col">"Updated (UTC)"</th>
                                                    </tr>
                                                </thead>
                                                <tbody>
                                                    {mine
                                                        .streams
                                                        .into_iter()
                                                        .map(|s| {
                                                            view! {
                                                                <tr data-slug=s.slug.clone()>
                                                                    <td>
                                                                        <a class="cell-title" href=stream_href(&s.provider_slug, &s.slug)>{s.name.clone()}</a>
                                                                        <div class="cell-sub">{s.summary.clone()}</div>
                                                                    </td>
                                                                    <td><StatusBadge status=s.status.clone() /></td>
                                                                    <td><code>{s.topic.clone()}</code></td>
                                                                    <td>{s.value_schema_type.clone().unwrap_or_else(|| "—".into())}</td>
                                                                    <td>{s.updated_at.clone()}</td>
                                                                </tr>
                                                            }
                                                        })
                                                        .collect_view()}
                                                </tbody>
                                            </table>
                                        </div>
                                    }
                                        .into_any()
                                }}
                            }
                                .into_any()
                        }
                        Ok(Err(e)) if e.code == "UNAUTHENTICATED" => view! { <SignInFirst what="your streams" /> }.into_any(),
                        Ok(Err(e)) => view! { <div class="callout callout-error" role="alert">{e.message}</div> }.into_any(),
                        Err(e) => view! { <div class="callout callout-error" role="alert">{e.to_string()}</div> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

// ------------------------------------------------------------------------------ publish wizard

/// Publishing a stream in six steps on one page; each step unlocks when the one it needs is done.
#[component]
pub fn PublishWizardPage() -> impl IntoView {
    let query = use_query_map();
    let options = Resource::new(move || query.read().get("org"), load_wizard_options);
    view! {
        <Title text="Publish a stream" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                options
                    .get()
                    .map(|result| match result {
                        Ok(Ok(options)) => view! { <Wizard options org=query.read_untracked().get("org") /> }.into_any(),
                        Ok(Err(e)) if e.code == "UNAUTHENTICATED" => view! { <SignInFirst what="the publish wizard" /> }.into_any(),
                        Ok(Err(e)) => view! { <div class="callout callout-error" role="alert">{e.message}</div> }.into_any(),
                        Err(e) => view! { <div class="callout callout-error" role="alert">{e.to_string()}</div> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

/// The schema formats the registry checks.
#[component]
fn SchemaTypeSelect(name: &'static str, id: &'static str) -> impl IntoView {
    view! {
        <label class="field field-narrow">
            <span class="field-label">"Schema type"</span>
            <select name=name id=id>
                <option value="JSON">"JSON Schema"</option>
                <option value="AVRO">"Avro"</option>
                <option value="PROTOBUF">"Protobuf"</option>
            </select>
        </label>
    }
}

/// The form names and element ids of one schema of the wizard (the browser tests use the ids).
struct SchemaPartIds {
    heading: &'static str,
    type_name: &'static str,
    type_id: &'static str,
    text_name: &'static str,
    text_id: &'static str,
    text_error: &'static str,
    outcome: &'static str,
    reasons: &'static str,
    error: &'static str,
}

const VALUE_PART: SchemaPartIds = SchemaPartIds {
    heading: "value-schema-heading",
    type_name: "schema_type",
    type_id: "schema-type",
    text_name: "schema",
    text_id: "schema-text",
    text_error: "schema-text-error",
    outcome: "schema-outcome",
    reasons: "schema-reasons",
    error: "schema-error",
};

const KEY_PART: SchemaPartIds = SchemaPartIds {
    heading: "key-schema-heading",
    type_name: "key_schema_type",
    type_id: "key-schema-type",
    text_name: "key_schema",
    text_id: "key-schema-text",
    text_error: "key-schema-text-error",
    outcome: "key-schema-outcome",
    reasons: "key-schema-reasons",
    error: "key-schema-error",
};

/// One schema of the wizard's schema step (the value's, required, or the key's, optional) with
/// what checking or registering it found.
#[component]
fn SchemaPart(
    key: bool,
    outcome: Signal<Option<Result<FormResult<SchemaOutcome>, ServerFnError>>>,
) -> impl IntoView {
    let ids = if key { &KEY_PART } else { &VALUE_PART };
    view! {
        <div class="schema-part" role="group" aria-labelledby=ids.heading>
            <h3 class="subheading" id=ids.heading>
                {if key { "Key schema " } else { "Value schema" }}
                {key.then(|| view! { <span class="badge badge-neutral">"Optional"</span> })}
            </h3>
            <p class="field-hint">
                {if key {
                    "For keyed topics. Leave it empty to skip it: keys then stay plain bytes."
                } else {
                    "Required: what every message's value looks like."
                }}
            </p>
            <SchemaTypeSelect name=ids.type_name id=ids.type_id />
            <label class="field">
                <span class="field-label">"Schema"</span>
                <textarea name=ids.text_name id=ids.text_id rows="10" class="code-input" spellcheck="false"></textarea>
                <FieldError id=ids.text_error message=error_of(outcome, Some("schema")) />
            </label>
            <SchemaOutcomeView outcome id=ids.outcome reasons_id=ids.reasons />
            <FieldError id=ids.error message=error_of(outcome, None) />
        </div>
    }
}

/// What checking or registering one schema found: compatible or registered, or why not.
#[component]
fn SchemaOutcomeView(
    outcome: Signal<Option<Result<FormResult<SchemaOutcome>, ServerFnError>>>,
    id: &'static str,
    reasons_id: &'static str,
) -> impl IntoView {
    move || {
        outcome
            .get()
            .and_then(|v| v.ok())
            .and_then(|v| v.ok())
            .map(|outcome| {
                let class = if outcome.ok { "callout callout-ok" } else { "callout callout-error" };
                view! {
                    <div class=class id=id role="status">
                        <strong>{outcome.message}</strong>
                        {(!outcome.reasons.is_empty())
                            .then(|| view! {
                                <ul class="schema-reasons" id=reasons_id>
                                    {outcome.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}
                                </ul>
                            })}
                    </div>
                }
            })
    }
}

#[component]
fn StepHeader(number: u8, title: &'static str, done: Signal<bool>) -> impl IntoView {
    view! {
        <h2 class="step-title">
            <span class="step-number" aria-hidden="true">{number}</span>
            {title}
            <Show when=move || done.get()>
                <span class="badge badge-published step-done">"Done"</span>
            </Show>
        </h2>
    }
}

#[component]
fn Wizard(options: WizardOptions, org: Option<String>) -> impl IntoView {
    let create = ServerAction::<CreateStream>::new();
    let provision = ServerAction::<ProvisionTopic>::new();
    let schema = ServerAction::<SubmitSchema>::new();
    let contract = ServerAction::<SetContract>::new();
    let plan = ServerAction::<AddPlan>::new();
    let publish = ServerAction::<PublishStream>::new();

    let created = Memo::new(move |_| match create.value().get() {
        Some(Ok(Ok(c))) => Some(c),
        _ => None,
    });
    let is_created = Signal::derive(move || created.get().is_some());
    let provisioned = Signal::derive(move || matches!(provision.value().get(), Some(Ok(Ok(())))));
    // Once registered, a schema stays registered: a later check does not undo the step.
    let registered = RwSignal::new(false);
    let key_registered = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(step)) = schema.value().get() {
            let done = |o: &FormResult<SchemaOutcome>| matches!(o, Ok(o) if o.registered);
            if done(&step.value) {
                registered.set(true);
            }
            if step.key.as_ref().is_some_and(done) {
                key_registered.set(true);
            }
        }
    });
    let contract_set = Signal::derive(move || matches!(contract.value().get(), Some(Ok(Ok(())))));
    let plans = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| {
        if let Some(Ok(Ok(name))) = plan.value().get() {
            plans.update(|p| p.push(name));
        }
    });
    let has_plan = Signal::derive(move || !plans.read().is_empty());
    let stream_id = move || created.get().map(|c| c.id).unwrap_or_default();

    let create_value = Signal::derive(move || create.value().get());
    let provision_value = Signal::derive(move || provision.value().get());
    let schema_value = Signal::derive(move || schema.value().get().map(|r| r.map(|s| s.value)));
    // A request that failed as a whole is reported once, with the value schema.
    let key_schema_value = Signal::derive(move || match schema.value().get() {
        Some(Ok(step)) => step.key.map(Ok),
        _ => None,
    });
    let contract_value = Signal::derive(move || contract.value().get());
    let plan_value = Signal::derive(move || plan.value().get());
    let publish_value = Signal::derive(move || publish.value().get());
    let pricing = RwSignal::new("free".to_owned());
    let topic_mode = RwSignal::new("create".to_owned());
    let back = format!("/my-streams{}", org_query(&org));

    view! {
        <div class="page-header">
            <div>
                <nav class="breadcrumbs" aria-label="Breadcrumb">
                    <a href=back>"My streams"</a>" / Publish"
                </nav>
                <h1>"Publish a stream"</h1>
                <p class="page-description">{format!("A new stream of {}: details, topic, schema, contract, plan, then publish.", options.org_name)}</p>
            </div>
        </div>

        <section class="panel step" id="step-details" aria-labelledby="step-details-title">
            <div id="step-details-title"><StepHeader number=1 title="Details" done=is_created /></div>
            <ActionForm action=create attr:id="details-form">
                <fieldset class="plain-fieldset" disabled=move || is_created.get()>
                    <legend class="visually-hidden">"Stream details"</legend>
                    <input type="hidden" name="org_id" value=options.org_id.clone() />
                    <div class="form-grid">
                        <label class="field">
                            <span class="field-label">"Cluster"</span>
                            <select name="cluster_id" id="stream-cluster" required>
                                {options
                                    .clusters
                                    .iter()
                                    .map(|c| {
                                        let label = if c.region.is_empty() { c.name.clone() } else { format!("{} ({})", c.name, c.region) };
                                        view! { <option value=c.id.clone()>{label}</option> }
                                    })
                                    .collect_view()}
                            </select>
                            <FieldError id="stream-cluster-error" message=error_of(create_value, Some("clusterId")) />
                        </label>
                        <label class="field">
                            <span class="field-label">"Name"</span>
                            <input type="text" name="name" id="stream-name" required maxlength="120" />
                            <FieldError id="stream-name-error" message=error_of(create_value, Some("name")) />
                        </label>
                        <label class="field">
                            <span class="field-label">"Topic"</span>
                            <input type="text" name="topic" id="stream-topic" required placeholder="team.domain.events" />
                            <FieldError id="stream-topic-error" message=error_of(create_value, Some("topic")) />
                        </label>
                        <label class="field">
                            <span class="field-label">"Category"</span>
                            <select name="category" id="stream-category">
                                <option value="">"Choose…"</option>
                                {options.categories.iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                            </select>
                            <FieldError id="stream-category-error" message=error_of(create_value, Some("category")) />
                        </label>
                        <label class="field field-wide">
                            <span class="field-label">"Summary"</span>
                            <input type="text" name="summary" id="stream-summary" maxlength="280" placeholder="One sentence: what is in it, how fresh." />
                            <FieldError id="stream-summary-error" message=error_of(create_value, Some("summary")) />
                        </label>
                        <label class="field">
                            <span class="field-label">"Tags"</span>
                            <input type="text" name="tags" id="stream-tags" placeholder="orders, eu" />
                            <p class="field-hint">"Comma-separated."</p>
                            <FieldError id="stream-tags-error" message=error_of(create_value, Some("tags")) />
                        </label>
                        <label class="field">
                            <span class="field-label">"Visibility"</span>
                            <select name="visibility" id="stream-visibility">
                                <option value="public">"Public — listed in the catalog"</option>
                                <option value="unlisted">"Unlisted — anyone with the link"</option>
                                <option value="private">"Private — invited organizations"</option>
                            </select>
                        </label>
                        <label class="field field-wide">
                            <span class="field-label">"Description (Markdown)"</span>
                            <textarea name="description" id="stream-description" rows="5"></textarea>
                            <FieldError id="stream-description-error" message=error_of(create_value, Some("descriptionMarkdown")) />
                        </label>
                    </div>
                    <FieldError id="details-error" message=error_of(create_value, None) />
                    <button type="submit" class="button button-primary" id="create-stream" disabled=move || create.pending().get()>
                        {move || if create.pending().get() { "Creating…" } else { "Create draft" }}
                    </button>
                </fieldset>
            </ActionForm>
            {move || created.get().map(|c| view! { <p class="callout callout-ok" id="draft-created">"Draft created: "<code>{c.slug}</code></p> })}
        </section>

        <section class="panel step" id="step-topic" aria-labelledby="step-topic-title">
            <div id="step-topic-title"><StepHeader number=2 title="Topic" done=provisioned /></div>
            <ActionForm action=provision attr:id="topic-form">
                <fieldset class="plain-fieldset" disabled=move || !is_created.get() || provisioned.get()>
                    <legend class="visually-hidden">"Topic"</legend>
                    <input type="hidden" name="stream_id" prop:value=stream_id />
                    <div class="choice-row" role="radiogroup" aria-label="How to get the topic">
                        <label class="choice">
                            <input type="radio" name="mode" value="create" checked on:change=move |_| topic_mode.set("create".into()) />
                            "Create a new topic"
                        </label>
                        <label class="choice">
                            <input type="radio" name="mode" value="adopt" id="topic-adopt" on:change=move |_| topic_mode.set("adopt".into()) />
                            "Adopt an existing topic"
                        </label>
                    </div>
                    <div class="form-grid" class:is-hidden=move || topic_mode.get() == "adopt">
                        <label class="field field-narrow">
                            <span class="field-label">"Partitions"</span>
                            <input type="number" name="partitions" id="topic-partitions" min="1" max="1000" value="3" />
                            <FieldError id="topic-partitions-error" message=error_of(provision_value, Some("partitions")) />
                        </label>
                        <label class="field field-narrow">
                            <span class="field-label">"Retention (hours)"</span>
                            <input type="number" name="retention_hours" id="topic-retention" min="-1" value="168" />
                            <p class="field-hint">"-1 keeps data forever."</p>
                            <FieldError id="topic-retention-error" message=error_of(provision_value, Some("retentionMs")) />
                        </label>
                        <label class="field field-narrow">
                            <span class="field-label">"Cleanup policy"</span>
                            <select name="cleanup_policy" id="topic-cleanup">
                                <option value="delete">"delete"</option>
                                <option value="compact">"compact"</option>
                                <option value="compact,delete">"compact,delete"</option>
                            </select>
                            <FieldError id="topic-cleanup-error" message=error_of(provision_value, Some("cleanupPolicy")) />
                        </label>
                    </div>
                    <FieldError id="topic-error" message=error_of(provision_value, None) />
                    <button type="submit" class="button button-primary" id="provision-topic" disabled=move || provision.pending().get()>
                        {move || if provision.pending().get() { "Provisioning on the broker…" } else { "Provision topic" }}
                    </button>
                </fieldset>
            </ActionForm>
            <Show when=move || provisioned.get()>
                <p class="callout callout-ok" id="topic-done">"The topic is ready on the cluster."</p>
            </Show>
        </section>

        <section class="panel step" id="step-schema" aria-labelledby="step-schema-title">
            <div id="step-schema-title"><StepHeader number=3 title="Schemas" done=registered.into() /></div>
            <ActionForm action=schema attr:id="schema-form">
                <fieldset class="plain-fieldset" disabled=move || !is_created.get()>
                    <legend class="visually-hidden">"Schemas"</legend>
                    <input type="hidden" name="stream_id" prop:value=stream_id />
                    <div class="schema-parts">
                        <SchemaPart key=false outcome=schema_value />
                        <SchemaPart key=true outcome=key_schema_value />
                    </div>
                    <p class="muted">"Check and Register act on both schemas; an empty key schema is skipped."</p>
                    <div class="button-row">
                        <button type="submit" name="register" value="false" class="button button-ghost" id="check-schema" disabled=move || schema.pending().get()>
                            "Check compatibility"
                        </button>
                        <button type="submit" name="register" value="true" class="button button-primary" id="register-schema" disabled=move || schema.pending().get()>
                            {move || if schema.pending().get() { "Sending…" } else { "Register" }}
                        </button>
                    </div>
                </fieldset>
            </ActionForm>
        </section>

        <section class="panel step" id="step-contract" aria-labelledby="step-contract-title">
            <div id="step-contract-title"><StepHeader number=4 title="Data contract" done=contract_set /></div>
            <ActionForm action=contract attr:id="contract-form">
                <fieldset class="plain-fieldset" disabled=move || !is_created.get()>
                    <legend class="visually-hidden">"Data contract"</legend>
                    <input type="hidden" name="stream_id" prop:value=stream_id />
                    <div class="form-grid">
                        <label class="field">
                            <span class="field-label">"Compatibility"</span>
                            <select name="compatibility" id="contract-compatibility">
                                {["BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "NONE"]
                                    .into_iter()
                                    .map(|c| view! { <option value=c>{c}</option> })
                                    .collect_view()}
                            </select>
                            <FieldError id="contract-compatibility-error" message=error_of(contract_value, Some("compatibility")) />
                        </label>
                        <label class="field field-narrow">
                            <span class="field-label">"Freshness SLO (s)"</span>
                            <input type="number" name="freshness_slo_seconds" id="contract-freshness" min="1" />
                            <FieldError id="contract-freshness-error" message=error_of(contract_value, Some("freshnessSloSeconds")) />
                        </label>
                        <label class="field field-narrow">
                            <span class="field-label">"Throughput SLO (msg/s)"</span>
                            <input type="number" name="throughput_slo_per_sec" id="contract-throughput" min="1" />
                            <FieldError id="contract-throughput-error" message=error_of(contract_value, Some("throughputSloPerSec")) />
                        </label>
                        <label class="field field-narrow">
                            <span class="field-label">"Replay window (h)"</span>
                            <input type="number" name="replay_window_hours" id="contract-replay" min="1" />
                            <FieldError id="contract-replay-error" message=error_of(contract_value, Some("replayWindowHours")) />
                        </label>
                        <label class="field field-wide">
                            <span class="field-label">"PII fields"</span>
                            <input type="text" name="pii_fields" id="contract-pii" placeholder="customer.email, **.phone, @key" />
                            <p class="field-hint">"Comma-separated paths; samples redact them. "<code>"*"</code>" is any one field, "<code>"**.email"</code>" every email at any depth (through lists and maps), "<code>"@key"</code>" the whole message key ("<code>"@value.x"</code>" the value only)."</p>
                            <FieldError id="contract-pii-error" message=error_of(contract_value, Some("fieldClassifications")) />
                        </label>
                        <label class="field field-wide">
                            <span class="field-label">"Terms"</span>
                            <textarea name="terms" id="contract-terms" rows="3"></textarea>
                        </label>
                    </div>
                    <FieldError id="contract-error" message=error_of(contract_value, None) />
                    <button type="submit" class="button button-primary" id="save-contract" disabled=move || contract.pending().get()>
                        {move || if contract.pending().get() { "Saving…" } else { "Save contract" }}
                    </button>
                </fieldset>
            </ActionForm>
            <Show when=move || contract_set.get()>
                <p class="callout callout-ok" id="contract-done">"Contract saved."</p>
            </Show>
        </section>

        <section class="panel step" id="step-plan" aria-labelledby="step-plan-title">
            <div id="step-plan-title"><StepHeader number=5 title="Plan" done=has_plan /></div>
            <ActionForm action=plan attr:id="plan-form">
                <fieldset class="plain-fieldset" disabled=move || !is_created.get()>
                    <legend class="visually-hidden">"Plan"</legend>
                    <input type="hidden" name="stream_id" prop:value=stream_id />
                    <div class="form-grid">
                        <label class="field">
                            <span class="field-label">"Plan name"</span>
                            <input type="text" name="name" id="plan-name" value="Free tier" required />
                            <FieldError id="plan-name-error" message=error_of(plan_value, Some("name")) />
                        </label>
                        <label class="field field-narrow">
                            <span class="field-label">"Pricing"</span>
                            <select name="pricing_model" id="plan-pricing" on:change=move |ev| pricing.set(event_target_value(&ev))>
                                <option value="free">"Free"</option>
                                <option value="flat">"Flat fee per month"</option>
                                <option value="usage">"Per million messages"</option>
                            </select>
                            <FieldError id="plan-pricing-error" message=error_of(plan_value, Some("pricingModel")) />
                        </label>
                        <label class="field field-narrow" class:is-hidden=move || pricing.get() == "free">
                            <span class="field-label">"Price"</span>
                            <input type="text" name="price" id="plan-price" inputmode="decimal" placeholder="49.00" />
                            <FieldError id="plan-price-error" message=error_of(plan_value, Some("price")) />
                        </label>
                        <label class="field field-narrow" class:is-hidden=move || pricing.get() == "free">
                            <span class="field-label">"Currency"</span>
                            <select name="currency" id="plan-currency">
                                <option value="usd">"USD"</option>
                                <option value="eur">"EUR"</option>
                                <option value="gbp">"GBP"</option>
                                <option value="jpy">"JPY"</option>
                            </select>
                            <FieldError id="plan-currency-error" message=error_of(plan_value, Some("currency")) />
                        </label>
                    </div>
                    <FieldError id="plan-error" message=error_of(plan_value, None) />
                    <button type="submit" class="button button-primary" id="add-plan" disabled=move || plan.pending().get()>
                        {move || if plan.pending().get() { "Adding…" } else { "Add plan" }}
                    </button>
                </fieldset>
            </ActionForm>
            <Show when=move || has_plan.get()>
                <ul class="plain-list" id="plan-list">
                    {move || plans.get().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
            </Show>
        </section>

        <section class="panel step" id="step-publish" aria-labelledby="step-publish-title">
            <div id="step-publish-title"><StepHeader number=6 title="Publish" done=Signal::derive(|| false) /></div>
            <ul class="checklist">
                <li class:done=is_created>"Draft with details"</li>
                <li class:done=provisioned>"Topic on the cluster"</li>
                <li class:done=registered>"Value schema"</li>
                <li class:done=key_registered>"Key schema (optional)"</li>
                <li class:done=has_plan>"At least one plan"</li>
            </ul>
            <ActionForm action=publish attr:id="publish-form">
                <input type="hidden" name="stream_id" prop:value=stream_id />
                <input type="hidden" name="provider_slug" prop:value=move || created.get().map(|c| c.provider_slug).unwrap_or_default() />
                <input type="hidden" name="slug" prop:value=move || created.get().map(|c| c.slug).unwrap_or_default() />
                <FieldError
                    id="publish-error"
                    message=Signal::derive(move || match publish_value.get() {
                        Some(Ok(Err(e))) => Some(e.message),
                        Some(Err(e)) => Some(format!("The request failed: {e}")),
                        _ => None,
                    })
                />
                <button
                    type="submit"
                    class="button button-primary"
                    id="publish-button"
                    disabled=move || !is_created.get() || publish.pending().get()
                >
                    {move || if publish.pending().get() { "Publishing…" } else { "Publish to the catalog" }}
                </button>
            </ActionForm>
        </section>
    }
}
