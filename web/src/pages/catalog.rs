use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::{StreamCard, catalog_streams};
use crate::components::StatusBadge;

fn matches(stream: &StreamCard, needle: &str) -> bool {
    let needle = needle.trim().to_lowercase();
    needle.is_empty()
        || [
            &stream.name,
            &stream.summary,
            &stream.topic,
            &stream.provider,
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(&needle))
}

/// The catalog: every published public stream, filterable as you type.
#[component]
pub fn Catalog() -> impl IntoView {
    let streams = Resource::new(|| (), |_| catalog_streams());
    let (filter, set_filter) = signal(String::new());

    view! {
        <Title text="Catalog" />
        <div class="page-header">
            <div>
                <h1>"Catalog"</h1>
                <p class="page-description">"Schema-governed Kafka streams you can subscribe to."</p>
            </div>
        </div>
        <div class="toolbar">
            <label class="field">
                <span class="field-label">"Filter streams"</span>
                <input
                    id="catalog-filter"
                    type="search"
                    placeholder="Name, topic or provider"
                    autocomplete="off"
                    prop:value=filter
                    on:input=move |ev| set_filter.set(event_target_value(&ev))
                />
            </label>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading the catalog…"</p> }>
            {move || {
                streams
                    .get()
                    .map(|result| match result {
                        Err(e) => {
                            view! {
                                <div class="callout callout-error" role="alert">
                                    "The catalog could not be loaded: "
                                    {e.to_string()}
                                </div>
                            }
                                .into_any()
                        }
                        Ok(list) if list.is_empty() => {
                            view! {
                                <div class="empty-state">
                                    <h2>"No streams yet"</h2>
                                    <p>"Providers have not published any stream. Check back soon."</p>
                                </div>
                            }
                                .into_any()
                        }
                        Ok(list) => view! { <CatalogTable list filter /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn CatalogTable(list: Vec<StreamCard>, filter: ReadSignal<String>) -> impl IntoView {
    let total = list.len();
    let list = StoredValue::new(list);
    let visible = move || {
        let needle = filter.get();
        list.with_value(|all| {
            all.iter()
                .filter(|s| matches(s, &needle))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <p class="muted" id="catalog-count" aria-live="polite">
            {move || format!("Showing {} of {} streams", visible().len(), total)}
        </p>
        <div class="table-wrap">
            <table class="table" id="catalog-table">
                <thead>
                    <tr>
                        <th scope="col">"Stream"</th>
                        <th scope="col">"Provider"</th>
                        <th scope="col">"Topic"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=visible key=|s| s.slug.clone() let:stream>
                        <tr>
                            <td>
                                <div class="cell-title">{stream.name.clone()}</div>
                                <div class="cell-sub">{stream.summary.clone()}</div>
                            </td>
                            <td>{stream.provider.clone()}</td>
                            <td><code>{stream.topic.clone()}</code></td>
                            <td><StatusBadge status=stream.status.clone() /></td>
                        </tr>
                    </For>
                </tbody>
            </table>
        </div>
        <Show when=move || visible().is_empty()>
            <p class="empty-inline">"No stream matches this filter."</p>
        </Show>
    }
}
