//! A stream's page: what it is, its contract, plans, schema versions and live samples.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::{
    DeprecateStream, PlanView, RetireStream, SchemaVersionView, StreamDetail, format_money,
    load_samples, load_schema_diff, load_stream,
};
use crate::components::{FieldError, StatusBadge};
use crate::pages::streams::error_of;

/// How often the samples table asks for new messages.
const SAMPLE_REFRESH_MS: u64 = 5000;

#[component]
pub fn StreamPage() -> impl IntoView {
    let params = use_params_map();
    let deprecate = ServerAction::<DeprecateStream>::new();
    let retire = ServerAction::<RetireStream>::new();
    let stream = Resource::new(
        move || {
            (
                params.read().get("provider").unwrap_or_default(),
                params.read().get("slug").unwrap_or_default(),
                deprecate.version().get(),
                retire.version().get(),
            )
        },
        |(provider, slug, ..)| load_stream(provider, slug),
    );
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                stream
                    .get()
                    .map(|result| match result {
                        Ok(Ok(detail)) => view! { <StreamBody detail deprecate retire /> }.into_any(),
                        Ok(Err(e)) if e.code == "NOT_FOUND" => {
                            view! {
                                <Title text="Stream not found" />
                                <div class="empty-state">
                                    <h1>"Stream not found"</h1>
                                    <p>"It does not exist, or it is not visible to you. "<a href="/">"Back to the catalog"</a></p>
                                </div>
                            }
                                .into_any()
                        }
                        Ok(Err(e)) => view! { <div class="callout callout-error" role="alert">{e.message}</div> }.into_any(),
                        Err(e) => view! { <div class="callout callout-error" role="alert">{e.to_string()}</div> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

fn duration_hours(ms: i64) -> String {
    if ms < 0 {
        return "forever".into();
    }
    let hours = ms / 3_600_000;
    if hours >= 24 && hours % 24 == 0 {
        format!("{} days", hours / 24)
    } else {
        format!("{hours} hours")
    }
}

fn plan_price(plan: &PlanView) -> String {
    match plan.pricing_model.as_str() {
        "free" => "Free".into(),
        "flat" => format!(
            "{} / month",
            format_money(plan.flat_fee_minor, &plan.currency)
        ),
        _ => format!(
            "{} per million {}",
            format_money(plan.unit_price_minor, &plan.currency),
            plan.usage_metric
        ),
    }
}

fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[component]
fn StreamBody(
    detail: StreamDetail,
    deprecate: ServerAction<DeprecateStream>,
    retire: ServerAction<RetireStream>,
) -> impl IntoView {
    let s = detail.listing.clone();
    let c = detail.contract.clone();
    let status = s.status.clone();
    let stream_id = s.id.clone();
    let has_key = !detail.key_versions.is_empty();
    view! {
        <Title text=s.name.clone() />
        <div class="page-header">
            <div>
                <nav class="breadcrumbs" aria-label="Breadcrumb">
                    <a href="/">"Catalog"</a>" / "{s.provider.clone()}
                </nav>
                <h1 id="stream-title">{s.name.clone()}" "<StatusBadge status=status.clone() /></h1>
                <p class="page-description" id="stream-summary">{s.summary.clone()}</p>
                <p class="stream-meta">
                    "by "<strong id="stream-provider">{s.provider.clone()}</strong>
                    " · "<span id="stream-category">{s.category.clone()}</span>
                    " · topic "<code>{s.topic.clone()}</code>
                    {s.value_schema_type.clone().map(|t| view! { " · "<span>{t}</span> })}
                </p>
                <div class="tag-list" id="stream-tags">
                    {s.tags.iter().map(|t| view! { <a class="tag" href=format!("/?tag={t}")>{t.clone()}</a> }).collect_view()}
                </div>
            </div>
        </div>
        {(status == "deprecated")
            .then(|| {
                view! {
                    <div class="callout callout-warn" id="deprecation" role="note">
                        <strong>"Deprecated. "</strong>
                        {detail.deprecation_message.clone()}
                    </div>
                }
            })}
        {(status == "retired")
            .then(|| view! { <div class="callout callout-error" role="note">"Retired: this stream no longer accepts subscriptions."</div> })}
        <div class="stream-layout">
            <div class="stream-main">
                <section class="panel" aria-labelledby="about-heading">
                    <h2 id="about-heading">"About"</h2>
                    <div class="prose" id="stream-description" inner_html=detail.description_html.clone()></div>
                </section>
                <SchemaViewer stream_id=stream_id.clone() versions=detail.value_versions.clone() key=false />
                {has_key.then(|| view! { <SchemaViewer stream_id=stream_id.clone() versions=detail.key_versions.clone() key=true /> })}
                <Samples stream_id=stream_id.clone() />
            </div>
            <div class="stream-side">
                <section class="panel" aria-labelledby="plans-heading" id="plans">
                    <h2 id="plans-heading">"Plans"</h2>
                    {if detail.plans.is_empty() {
                        view! { <p class="muted">"No plans yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="plan-list">
                                {detail
                                    .plans
                                    .iter()
                                    .map(|p| {
                                        view! {
                                            <li class="plan" data-plan=p.name.clone()>
                                                <div class="plan-name">{p.name.clone()}</div>
                                                <div class="plan-price">{plan_price(p)}</div>
                                                <div class="muted">
                                                    {(p.included_units > 0).then(|| format!("{} {} included · ", grouped(p.included_units), p.usage_metric))}
                                                    {(p.trial_days > 0).then(|| format!("{}-day trial · ", p.trial_days))}
                                                    {if p.approval_required { "Provider approval required" } else { "Instant access" }}
                                                </div>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }}
                </section>
                <section class="panel" aria-labelledby="contract-heading" id="contract">
                    <h2 id="contract-heading">"Data contract"</h2>
                    <dl class="facts">
                        <dt>"Compatibility"</dt>
                        <dd><code>{c.compatibility.clone()}</code></dd>
                        <dt>"Freshness"</dt>
                        <dd>{c.freshness_slo_seconds.map(|s| format!("within {s} s")).unwrap_or_else(|| "not promised".into())}</dd>
                        <dt>"Throughput"</dt>
                        <dd>{c.throughput_slo_per_sec.map(|t| format!("{} msg/s", grouped(t.into()))).unwrap_or_else(|| "not promised".into())}</dd>
                        <dt>"Retention"</dt>
                        <dd>{c.retention_ms.map(duration_hours).unwrap_or_else(|| "cluster default".into())}</dd>
                        <dt>"Replay window"</dt>
                        <dd>{c.replay_window_hours.map(|h| duration_hours(i64::from(h) * 3_600_000)).unwrap_or_else(|| "none".into())}</dd>
                        <dt>"Partitions"</dt>
                        <dd>{detail.partitions.map(|p| p.to_string()).unwrap_or_else(|| "—".into())}</dd>
                    </dl>
                    <h3 class="subheading">"Field classifications"</h3>
                    {if c.field_classifications.is_empty() {
                        view! { <p class="muted">"No classified fields."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="plain-list" id="classifications">
                                {c
                                    .field_classifications
                                    .iter()
                                    .map(|(path, class)| {
                                        view! {
                                            <li>
                                                <code>{path.clone()}</code>" "
                                                <span class="badge badge-deprecated">{class.to_uppercase()}</span>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }}
                    {(!c.terms.is_empty())
                        .then(|| view! {
                            <h3 class="subheading">"Terms"</h3>
                            <p class="terms">{c.terms.clone()}</p>
                        })}
                </section>
                {detail.can_manage.then(|| view! { <Lifecycle stream_id=stream_id.clone() status=status.clone() deprecate retire /> })}
            </div>
        </div>
    }
}

#[component]
fn SchemaViewer(stream_id: String, versions: Vec<SchemaVersionView>, key: bool) -> impl IntoView {
    let role = if key { "key" } else { "value" };
    let title = if key { "Key schema" } else { "Value schema" };
    if versions.is_empty() {
        return view! {
            <section class="panel" id=format!("{role}-schema")>
                <h2>{title}</h2>
                <p class="muted">"No schema registered yet."</p>
            </section>
        }
        .into_any();
    }
    let latest = versions.last().map(|v| v.version).unwrap_or(1);
    let first = versions.first().map(|v| v.version).unwrap_or(1);
    let selected = RwSignal::new(latest);
    let versions = StoredValue::new(versions);
    let shown = move || {
        versions.with_value(|all| {
            all.iter()
                .find(|v| v.version == selected.get())
                .or_else(|| all.last())
                .cloned()
        })
    };
    let diff_from = RwSignal::new(if latest > first { latest - 1 } else { first });
    let diff_to = RwSignal::new(latest);
    let compare = RwSignal::new(None::<(i32, i32)>);
    let id = StoredValue::new(stream_id);
    let diff = Resource::new(
        move || compare.get(),
        move |pair| async move {
            match pair {
                Some((from, to)) => Some(load_schema_diff(id.get_value(), key, from, to).await),
                None => None,
            }
        },
    );
    let options = move |current: RwSignal<i32>| {
        versions.with_value(|all| {
            all.iter()
                .map(|v| {
                    let n = v.version;
                    view! { <option value=n.to_string() selected=move || current.get() == n>{format!("Version {n}")}</option> }
                })
                .collect_view()
        })
    };
    let many = latest > first;
    view! {
        <section class="panel schema-viewer" id=format!("{role}-schema") aria-labelledby=format!("{role}-schema-heading")>
            <div class="panel-head">
                <h2 id=format!("{role}-schema-heading")>{title}</h2>
                <label class="inline-form">
                    <span class="field-label">"Version"</span>
                    <select
                        class="version-picker"
                        id=format!("{role}-version")
                        on:change=move |ev| {
                            if let Ok(v) = event_target_value(&ev).parse() {
                                selected.set(v);
                            }
                        }
                    >
                        {options(selected)}
                    </select>
                </label>
            </div>
            <p class="muted">
                {move || shown().map(|v| format!("{} · subject {} · schema id {}", v.schema_type, v.subject, v.id))}
            </p>
            <pre class="code-block" id=format!("{role}-schema-text")><code>{move || shown().map(|v| v.pretty).unwrap_or_default()}</code></pre>
            {if many {
                view! {
                    <div class="diff-controls">
                        <h3 class="subheading">"Compare versions"</h3>
                        <div class="form-row">
                            <label class="field field-narrow">
                                <span class="field-label">"From"</span>
                                <select id=format!("{role}-diff-from") on:change=move |ev| if let Ok(v) = event_target_value(&ev).parse() { diff_from.set(v) }>
                                    {options(diff_from)}
                                </select>
                            </label>
                            <label class="field field-narrow">
                                <span class="field-label">"To"</span>
                                <select id=format!("{role}-diff-to") on:change=move |ev| if let Ok(v) = event_target_value(&ev).parse() { diff_to.set(v) }>
                                    {options(diff_to)}
                                </select>
                            </label>
                            <button
                                type="button"
                                class="button button-ghost"
                                id=format!("{role}-diff-button")
                                on:click=move |_| compare.set(Some((diff_from.get(), diff_to.get())))
                            >
                                "Show differences"
                            </button>
                        </div>
                        <Transition fallback=|| ()>
                            {move || {
                                diff.get()
                                    .flatten()
                                    .map(|result| match result {
                                        Ok(Ok(text)) if text.trim().is_empty() => view! { <p class="muted">"No differences."</p> }.into_any(),
                                        Ok(Ok(text)) => view! { <DiffView text /> }.into_any(),
                                        Ok(Err(e)) => view! { <p class="field-error" role="alert">{e.message}</p> }.into_any(),
                                        Err(e) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
                                    })
                            }}
                        </Transition>
                    </div>
                }
                    .into_any()
            } else {
                view! { <p class="muted">"One version so far; later versions can be compared here."</p> }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn DiffView(text: String) -> impl IntoView {
    view! {
        <pre class="code-block diff" id="schema-diff">
            {text
                .lines()
                .map(|line| {
                    let class = if line.starts_with("+++") || line.starts_with("---") {
                        "diff-file"
                    } else if line.starts_with('+') {
                        "diff-add"
                    } else if line.starts_with('-') {
                        "diff-del"
                    } else if line.starts_with("@@") {
                        "diff-hunk"
                    } else {
                        "diff-ctx"
                    };
                    view! { <span class=class>{format!("{line}\n")}</span> }
                })
                .collect_view()}
        </pre>
    }
}

/// The newest messages, refreshed every few seconds once the page is interactive.
#[component]
fn Samples(stream_id: String) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let id = StoredValue::new(stream_id);
    let samples = Resource::new(move || tick.get(), move |_| load_samples(id.get_value()));
    // Effects run only in the browser: the server renders one snapshot.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || tick.update(|t| *t = t.wrapping_add(1)),
            std::time::Duration::from_millis(SAMPLE_REFRESH_MS),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <section class="panel" id="samples" aria-labelledby="samples-heading">
            <div class="panel-head">
                <h2 id="samples-heading">"Live samples"</h2>
                <span class="muted live-dot">{format!("Refreshes every {} s · PII redacted", SAMPLE_REFRESH_MS / 1000)}</span>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading samples…"</p> }>
                {move || {
                    samples
                        .get()
                        .map(|result| match result {
                            Ok(Ok(rows)) if rows.is_empty() => {
                                view! {
                                    <p class="empty-inline" id="samples-empty">
                                        "No recent messages. Samples appear here as soon as the provider produces to the topic."
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(Ok(rows)) => {
                                view! {
                                    <div class="table-wrap">
                                        <table class="table" id="samples-table">
                                            <thead>
                                                <tr>
                                                    <th scope="col">"Partition"</th>
                                                    <th scope="col">"Offset"</th>
                                                    <th scope="col">"Time (UTC)"</th>
                                                    <th scope="col">"Key"</th>
                                                    <th scope="col">"Value"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {rows
                                                    .into_iter()
                                                    .map(|r| {
                                                        view! {
                                                            <tr>
                                                                <td>{r.partition}</td>
                                                                <td>{r.offset}</td>
                                                                <td class="nowrap">{r.timestamp}</td>
                                                                <td><code>{r.key}</code></td>
                                                                <td class="sample-value"><code>{r.value}</code></td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                }
                                    .into_any()
                            }
                            Ok(Err(e)) => {
                                view! { <p class="callout callout-warn" id="samples-unavailable">"Samples are unavailable right now: "{e.message}</p> }.into_any()
                            }
                            Err(e) => view! { <p class="callout callout-warn" id="samples-unavailable">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

/// Deprecate and retire, for owners and admins of the provider.
#[component]
fn Lifecycle(
    stream_id: String,
    status: String,
    deprecate: ServerAction<DeprecateStream>,
    retire: ServerAction<RetireStream>,
) -> impl IntoView {
    let id = StoredValue::new(stream_id);
    let deprecate_value = Signal::derive(move || deprecate.value().get());
    let retire_value = Signal::derive(move || retire.value().get());
    view! {
        <section class="panel" aria-labelledby="lifecycle-heading" id="lifecycle">
            <h2 id="lifecycle-heading">"Lifecycle"</h2>
            {match status.as_str() {
                "published" => {
                    view! {
                        <p class="muted">"Deprecating tells subscribers the stream will end; they keep access until you retire it."</p>
                        <Confirm label="Deprecate…" trigger_id="deprecate-stream">
                            <ActionForm action=deprecate attr:class="stack confirm">
                                <input type="hidden" name="stream_id" value=id.get_value() />
                                <label class="field">
                                    <span class="field-label">"Message to subscribers"</span>
                                    <input type="text" name="message" id="deprecation-message" required placeholder="Replaced by orders-v2; ends on 1 March." />
                                </label>
                                <FieldError id="deprecation-message-error" message=error_of(deprecate_value, Some("message")) />
                                <button type="submit" class="button button-danger" id="confirm-deprecate" disabled=move || deprecate.pending().get()>
                                    "Deprecate stream"
                                </button>
                            </ActionForm>
                        </Confirm>
                        <FieldError id="deprecate-error" message=error_of(deprecate_value, None) />
                    }
                        .into_any()
                }
                "deprecated" => {
                    view! {
                        <p class="muted">"Retiring takes the stream out of the catalog for good. The topic stays on the broker with its data; its schemas stop being public."</p>
                        <Confirm label="Retire…" trigger_id="retire-stream">
                            <ActionForm action=retire attr:class="inline-form confirm">
                                <input type="hidden" name="stream_id" value=id.get_value() />
                                <span class="confirm-text">"This cannot be undone."</span>
                                <button type="submit" class="button button-danger" id="confirm-retire" disabled=move || retire.pending().get()>
                                    "Retire stream"
                                </button>
                            </ActionForm>
                        </Confirm>
                        <FieldError id="retire-error" message=error_of(retire_value, None) />
                    }
                        .into_any()
                }
                _ => view! { <p class="muted">"No lifecycle actions for this status."</p> }.into_any(),
            }}
        </section>
    }
}

/// A destructive action in two steps: the trigger reveals `children` (the confirming form, which
/// says what will happen) and a Cancel button.
#[component]
fn Confirm(label: &'static str, trigger_id: &'static str, children: ChildrenFn) -> impl IntoView {
    let confirming = RwSignal::new(false);
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                view! {
                    <button type="button" class="button button-ghost" id=trigger_id on:click=move |_| confirming.set(true)>
                        {label}
                    </button>
                }
            }
        >
            <div class="confirm-box">
                {children()}
                <button type="button" class="button button-ghost button-small" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </div>
        </Show>
    }
}
