//! Operator: the Kafka clusters streams live on, with their health checks; registering, editing
//! and removing clusters. Only members of the marketplace operator's organization may use it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::streams::error_of;
use crate::api::{
    CheckClusterHealth, ClusterView, DeleteCluster, HealthView, RegisterCluster, UpdateCluster,
    load_clusters,
};
use crate::components::{ConfirmToggle, FieldError};

#[component]
pub fn OperatorClustersPage() -> impl IntoView {
    let register = ServerAction::<RegisterCluster>::new();
    let delete = ServerAction::<DeleteCluster>::new();
    let update = ServerAction::<UpdateCluster>::new();
    // Reloaded after a successful change only: an error must not rebuild the form being filled in.
    let changes = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(register.value().get(), Some(Ok(Ok(_)))) {
            changes.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(Ok(())))) {
            changes.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if matches!(update.value().get(), Some(Ok(Ok(())))) {
            changes.update(|n| *n += 1);
        }
    });
    let clusters = Resource::new(move || changes.get(), |_| load_clusters());
    let operator = Memo::new(move |_| matches!(clusters.get(), Some(Ok(Ok(_)))));
    view! {
        <Title text="Clusters" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                clusters
                    .get()
                    .map(|result| match result {
                        Ok(Err(e)) if e.code == "UNAUTHENTICATED" => {
                            view! {
                                <div class="empty-state">
                                    <h2>"Sign in to manage clusters"</h2>
                                    <p><a href="/sign-in">"Sign in"</a>" with an account of the marketplace operator."</p>
                                </div>
                            }
                                .into_any()
                        }
                        Ok(Err(e)) if e.code == "FORBIDDEN" => {
                            view! {
                                <div class="page-header">
                                    <div>
                                        <nav class="breadcrumbs" aria-label="Breadcrumb">"Operator"</nav>
                                        <h1>"Clusters"</h1>
                                    </div>
                                </div>
                                <div class="empty-state" id="operator-only">
                                    <h2>"Only the marketplace operator manages clusters"</h2>
                                    <p>
                                        "Clusters are run by the Tributary operator. To publish a stream, pick one of them in the "
                                        <a href="/my-streams/new">"publish wizard"</a>"."
                                    </p>
                                </div>
                            }
                                .into_any()
                        }
                        other => view! { <ClustersBody result=other delete update /> }.into_any(),
                    })
            }}
        </Transition>
        // Outside the list, which reloads after changes: the form keeps what was typed.
        <Transition fallback=|| ()>
            <Show when=move || operator.get()>
                <RegisterForm register />
            </Show>
        </Transition>
    }
}

/// The page for operators: title, the clusters table and its errors, and the edit form of the
/// cluster named in the URL (`?edit=<id>`, so it opens without JavaScript too).
#[component]
fn ClustersBody(
    result: Result<crate::api::FormResult<Vec<ClusterView>>, ServerFnError>,
    delete: ServerAction<DeleteCluster>,
    update: ServerAction<UpdateCluster>,
) -> impl IntoView {
    let delete_value = Signal::derive(move || delete.value().get());
    let query = use_query_map();
    let listed = StoredValue::new(match &result {
        Ok(Ok(clusters)) => clusters.clone(),
        _ => Vec::new(),
    });
    let find = move |key: &'static str| {
        query
            .read()
            .get(key)
            .and_then(|id| listed.with_value(|all| all.iter().find(|c| c.id == id).cloned()))
    };
    let editing = Memo::new(move |_| find("edit"));
    let updated = Memo::new(move |_| find("updated").map(|c| c.name));
    // Another cluster (or none) in the form: the last answer belongs to the one before.
    Effect::new(move |previous: Option<Option<String>>| {
        let id = editing.with(|c| c.as_ref().map(|c| c.id.clone()));
        if previous.is_some_and(|p| p != id) {
            update.clear();
        }
        id
    });
    let table = match result {
        Ok(Ok(clusters)) if clusters.is_empty() => view! {
            <div class="empty-state" id="clusters-empty">
                <h2>"No clusters yet — Register your first cluster"</h2>
                <p>"Streams need a Kafka cluster to live on."</p>
            </div>
        }
        .into_any(),
        Ok(Ok(clusters)) => view! {
            <div class="table-wrap">
                <table class="table cluster-table" id="clusters-table">
                    <thead>
                        <tr>
                            <th scope="col">"Cluster"</th>
                            <th scope="col">"Health"</th>
                            <th scope="col">"Latency"</th>
                            <th scope="col">"Brokers"</th>
                            <th scope="col">"Connection"</th>
                            <th scope="col">"Schema registry"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {clusters
                            .into_iter()
                            .map(|cluster| view! { <ClusterRow cluster delete /> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
        Ok(Err(e)) => {
            view! { <div class="callout callout-error" role="alert">{e.message}</div> }.into_any()
        }
        Err(e) => view! { <div class="callout callout-error" role="alert">{e.to_string()}</div> }
            .into_any(),
    };
    view! {
        <div class="page-header">
            <div>
                <nav class="breadcrumbs" aria-label="Breadcrumb">"Operator"</nav>
                <h1>"Clusters"</h1>
                <p class="page-description">"The Kafka clusters streams live on, and whether Tributary can reach them right now."</p>
            </div>
            <a class="button button-primary" href="#register-cluster" id="register-cluster-link">"Register cluster"</a>
        </div>
        {move || {
            updated
                .get()
                .map(|name| {
                    view! {
                        <p class="callout callout-ok" id="cluster-updated" role="status">
                            {format!("Saved the changes to {name}. Press “Check now” in its row to test the new settings.")}
                        </p>
                    }
                })
        }}
        <FieldError id="cluster-delete-error" message=error_of(delete_value, None) />
        {move || editing.get().map(|cluster| view! { <EditClusterForm cluster update /> })}
        {table}
    }
}

/// The health badge: text and colour.
fn health_label(status: &str) -> &'static str {
    match status {
        "healthy" => "Healthy",
        "unhealthy" => "Unhealthy",
        _ => "Unknown",
    }
}

#[component]
fn ClusterRow(cluster: ClusterView, delete: ServerAction<DeleteCluster>) -> impl IntoView {
    let check = ServerAction::<CheckClusterHealth>::new();
    let initial = cluster.health.clone();
    // The newest check: the one just run here, or the one the page loaded with.
    let health = Memo::new(move |_| match check.value().get() {
        Some(Ok(Ok(h))) => h,
        _ => initial.clone(),
    });
    let check_error = error_of(Signal::derive(move || check.value().get()), None);
    let field = move |f: fn(&HealthView) -> String| move || health.with(f);
    let id = StoredValue::new(cluster.id.clone());
    let name = cluster.name.clone();
    let registry = match (
        &cluster.schema_registry_url,
        &cluster.schema_registry_username,
    ) {
        (Some(url), Some(user)) => format!("{url} (as {user})"),
        (Some(url), None) => url.clone(),
        (None, _) => "Embedded".to_owned(),
    };
    let protocol = if cluster.has_ca_bundle {
        format!("{} · private CA", cluster.security_protocol)
    } else {
        cluster.security_protocol.clone()
    };
    view! {
        <tr data-cluster=name.clone()>
            <td data-label="Cluster">
                <div class="cell-title">{name.clone()}</div>
                <div class="cell-sub">{if cluster.region.is_empty() { "No region".to_owned() } else { cluster.region.clone() }}</div>
            </td>
            <td data-label="Health" class="cell-health">
                <span class=move || format!("badge badge-{} health-status", health.with(|h| h.status.clone()))>
                    {move || health_label(&health.with(|h| h.status.clone()))}
                </span>
                <div class="cell-sub health-message">{field(|h| if h.message.is_empty() { "Not checked yet".to_owned() } else { h.message.clone() })}</div>
                <div class="cell-sub health-checked" title=field(|h| h.checked_at.clone().unwrap_or_default())>
                    {field(|h| h.checked_ago.as_ref().map(|a| format!("Checked {a}")).unwrap_or_else(|| "Never checked".to_owned()))}
                </div>
                {move || check_error.get().map(|m| view! { <p class="field-error check-error" role="alert">{m}</p> })}
            </td>
            <td data-label="Latency" class="nowrap health-latency">
                {field(|h| h.latency_ms.map(|l| format!("{l} ms")).unwrap_or_else(|| "—".to_owned()))}
            </td>
            <td data-label="Brokers" class="health-brokers">
                {field(|h| h.broker_count.map(|b| b.to_string()).unwrap_or_else(|| "—".to_owned()))}
            </td>
            <td data-label="Connection">
                <code class="cluster-bootstrap">{cluster.bootstrap_servers.replace(',', ", ")}</code>
                <div class="cell-sub">{protocol}</div>
                <div class="cell-sub">{format!("User {}", cluster.sasl_username)}</div>
            </td>
            <td data-label="Schema registry" class="cluster-registry">{registry}</td>
            <td class="cell-actions">
                <div class="cluster-actions">
                <a
                    class="button button-ghost button-small edit-cluster"
                    href=format!("/operator/clusters?edit={}#edit-cluster", cluster.id)
                    aria-label=format!("Edit {name}")
                >
                    "Edit"
                </a>
                <ActionForm action=check attr:class="inline-form">
                    <input type="hidden" name="cluster_id" value=id.get_value() />
                    <button type="submit" class="button button-ghost button-small check-health" disabled=move || check.pending().get()>
                        {move || if check.pending().get() { "Checking…" } else { "Check now" }}
                    </button>
                </ActionForm>
                <ConfirmToggle label="Delete" trigger_class="delete-cluster">
                    <ActionForm action=delete attr:class="inline-form confirm">
                        <input type="hidden" name="cluster_id" value=id.get_value() />
                        <span class="confirm-text">"Removes it from Tributary; nothing changes on the brokers. Clusters with streams cannot be deleted."</span>
                        <button type="submit" class="button button-danger button-small confirm-delete" disabled=move || delete.pending().get()>"Delete"</button>
                    </ActionForm>
                </ConfirmToggle>
                </div>
            </td>
        </tr>
    }
}

#[component]
fn RegisterForm(register: ServerAction<RegisterCluster>) -> impl IntoView {
    let value = Signal::derive(move || register.value().get());
    let protocol = RwSignal::new("SASL_SSL".to_owned());
    let form = NodeRef::<leptos::html::Form>::new();
    // Registered: start over with an empty form (the password must not linger either).
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(Ok(_)))) {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
            protocol.set("SASL_SSL".to_owned());
        }
    });
    let registered = move || match value.get() {
        Some(Ok(Ok(name))) => Some(name),
        _ => None,
    };
    view! {
        <section class="panel" id="register-cluster" aria-labelledby="register-heading">
            <h2 id="register-heading">"Register cluster"</h2>
            <p class="muted">"Tributary connects with SASL/SCRAM. The password is stored encrypted and never shown again."</p>
            <ActionForm action=register node_ref=form attr:id="register-cluster-form">
                <div class="form-grid">
                    <label class="field">
                        <span class="field-label">"Name"</span>
                        <input type="text" name="name" id="cluster-name" required maxlength="100" placeholder="eu-prod-1" />
                        <FieldError id="cluster-name-error" message=error_of(value, Some("name")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"Region"</span>
                        <input type="text" name="region" id="cluster-region" maxlength="60" placeholder="eu-west-1" />
                        <FieldError id="cluster-region-error" message=error_of(value, Some("region")) />
                    </label>
                    <label class="field field-wide">
                        <span class="field-label">"Bootstrap servers"</span>
                        <input type="text" name="bootstrap_servers" id="cluster-bootstrap" required placeholder="b1.example.com:9093,b2.example.com:9093" />
                        <p class="field-hint">"host:port addresses, separated by commas."</p>
                        <FieldError id="cluster-bootstrap-error" message=error_of(value, Some("bootstrapServers")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"Security protocol"</span>
                        <select name="security_protocol" id="cluster-protocol" on:change=move |ev| protocol.set(event_target_value(&ev))>
                            <option value="SASL_SSL">"SASL_SSL"</option>
                            <option value="SASL_PLAINTEXT">"SASL_PLAINTEXT (local stacks only)"</option>
                        </select>
                        <FieldError id="cluster-protocol-error" message=error_of(value, Some("securityProtocol")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"SASL username"</span>
                        <input type="text" name="sasl_username" id="cluster-username" required autocomplete="off" />
                        <FieldError id="cluster-username-error" message=error_of(value, Some("saslUsername")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"SASL password"</span>
                        <input type="password" name="sasl_password" id="cluster-password" required autocomplete="new-password" />
                        <FieldError id="cluster-password-error" message=error_of(value, Some("saslPassword")) />
                    </label>
                    <label class="field field-wide" class:is-hidden=move || protocol.get() != "SASL_SSL">
                        <span class="field-label">"CA bundle (optional)"</span>
                        <textarea name="ca_pem" id="cluster-ca" rows="4" class="code-input" spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----"></textarea>
                        <p class="field-hint">"PEM certificates, for clusters with a private certificate authority."</p>
                        <FieldError id="cluster-ca-error" message=error_of(value, Some("caPem")) />
                    </label>
                    <label class="field field-wide">
                        <span class="field-label">"Schema registry URL (optional)"</span>
                        <input type="text" name="schema_registry_url" id="cluster-registry" placeholder="Empty: the embedded registry" />
                        <p class="field-hint">"A Confluent-compatible registry (Confluent, Apicurio, Karapace, Redpanda); stream schemas of this cluster are kept there."</p>
                        <FieldError id="cluster-registry-error" message=error_of(value, Some("schemaRegistryUrl")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"Registry user (optional)"</span>
                        <input type="text" name="schema_registry_username" id="cluster-registry-user" autocomplete="off" />
                        <p class="field-hint">"A user name or an API key."</p>
                        <FieldError id="cluster-registry-user-error" message=error_of(value, Some("schemaRegistryUsername")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"Registry secret"</span>
                        <input type="password" name="schema_registry_password" id="cluster-registry-password" autocomplete="new-password" />
                        <FieldError id="cluster-registry-password-error" message=error_of(value, Some("schemaRegistryPassword")) />
                    </label>
                </div>
                <FieldError id="cluster-error" message=error_of(value, None) />
                <Show when=move || registered().is_some()>
                    <p class="callout callout-ok" id="cluster-registered" role="status">
                        {move || format!("Registered {}. Press “Check now” in its row to test the connection.", registered().unwrap_or_default())}
                    </p>
                </Show>
                <button type="submit" class="button button-primary" id="register-cluster-submit" disabled=move || register.pending().get()>
                    {move || if register.pending().get() { "Registering…" } else { "Register cluster" }}
                </button>
            </ActionForm>
        </section>
    }
}

/// Editing one cluster, prefilled with what is stored. Secrets cannot be read back: empty
/// password fields keep them, and a stored CA bundle must be pasted again or removed explicitly,
/// because the API stores a missing bundle as none.
#[component]
fn EditClusterForm(cluster: ClusterView, update: ServerAction<UpdateCluster>) -> impl IntoView {
    let value = Signal::derive(move || update.value().get());
    let protocol = RwSignal::new(cluster.security_protocol.clone());
    let name_input = NodeRef::<leptos::html::Input>::new();
    // Opened from a row: the form takes the focus (and scrolls into view).
    Effect::new(move |_| {
        if let Some(input) = name_input.get() {
            let _ = input.focus();
        }
    });
    let has_ca = cluster.has_ca_bundle;
    let has_registry_user = cluster.schema_registry_username.is_some();
    let is_ssl = cluster.security_protocol == "SASL_SSL";
    view! {
        <section class="panel" id="edit-cluster" aria-labelledby="edit-cluster-heading">
            <h2 id="edit-cluster-heading">{format!("Edit {}", cluster.name)}</h2>
            <p class="muted">"Saving marks the cluster as not checked until its next health check. Stored passwords are never shown."</p>
            <ActionForm action=update attr:id="edit-cluster-form">
                <input type="hidden" name="cluster_id" value=cluster.id.clone() />
                <div class="form-grid">
                    <label class="field">
                        <span class="field-label">"Name"</span>
                        <input type="text" name="name" id="edit-cluster-name" node_ref=name_input required maxlength="100" value=cluster.name.clone() />
                        <FieldError id="edit-cluster-name-error" message=error_of(value, Some("name")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"Region"</span>
                        <input type="text" name="region" id="edit-cluster-region" maxlength="60" value=cluster.region.clone() />
                        <FieldError id="edit-cluster-region-error" message=error_of(value, Some("region")) />
                    </label>
                    <label class="field field-wide">
                        <span class="field-label">"Bootstrap servers"</span>
                        <input type="text" name="bootstrap_servers" id="edit-cluster-bootstrap" required value=cluster.bootstrap_servers.clone() />
                        <p class="field-hint">"host:port addresses, separated by commas."</p>
                        <FieldError id="edit-cluster-bootstrap-error" message=error_of(value, Some("bootstrapServers")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"Security protocol"</span>
                        <select name="security_protocol" id="edit-cluster-protocol" on:change=move |ev| protocol.set(event_target_value(&ev))>
                            <option value="SASL_SSL" selected=is_ssl>"SASL_SSL"</option>
                            <option value="SASL_PLAINTEXT" selected=!is_ssl>"SASL_PLAINTEXT (local stacks only)"</option>
                        </select>
                        <FieldError id="edit-cluster-protocol-error" message=error_of(value, Some("securityProtocol")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"SASL username"</span>
                        <input type="text" name="sasl_username" id="edit-cluster-username" required autocomplete="off" value=cluster.sasl_username.clone() />
                        <FieldError id="edit-cluster-username-error" message=error_of(value, Some("saslUsername")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"SASL password"</span>
                        <input type="password" name="sasl_password" id="edit-cluster-password" autocomplete="new-password" placeholder="Unchanged" />
                        <p class="field-hint">"Leave empty to keep the stored one."</p>
                        <FieldError id="edit-cluster-password-error" message=error_of(value, Some("saslPassword")) />
                    </label>
                    <div class="field field-wide" class:is-hidden=move || protocol.get() != "SASL_SSL">
                        <label class="field-label" for="edit-cluster-ca">
                            {if has_ca { "New CA bundle" } else { "CA bundle (optional)" }}
                        </label>
                        {has_ca
                            .then(|| {
                                view! {
                                    <p class="callout callout-warn ca-stored" id="edit-cluster-ca-stored">
                                        "A CA bundle is stored. It cannot be shown: leave this empty to keep it, paste another to replace it, or remove it."
                                    </p>
                                }
                            })}
                        <textarea name="ca_pem" id="edit-cluster-ca" rows="4" class="code-input" spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----"></textarea>
                        <p class="field-hint">"PEM certificates, for clusters with a private certificate authority."</p>
                        {has_ca
                            .then(|| {
                                view! {
                                    <label class="choice">
                                        <input type="checkbox" name="remove_ca_bundle" value="true" id="edit-cluster-remove-ca" />
                                        "Remove the stored CA bundle"
                                    </label>
                                }
                            })}
                        <FieldError id="edit-cluster-ca-error" message=error_of(value, Some("caPem")) />
                    </div>
                    <label class="field field-wide">
                        <span class="field-label">"Schema registry URL (optional)"</span>
                        <input type="text" name="schema_registry_url" id="edit-cluster-registry" placeholder="Empty: the embedded registry" value=cluster.schema_registry_url.clone().unwrap_or_default() />
                        <p class="field-hint">"A Confluent-compatible registry; empty for the embedded one."</p>
                        <FieldError id="edit-cluster-registry-error" message=error_of(value, Some("schemaRegistryUrl")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"Registry user (optional)"</span>
                        <input type="text" name="schema_registry_username" id="edit-cluster-registry-user" autocomplete="off" value=cluster.schema_registry_username.clone().unwrap_or_default() />
                        <p class="field-hint">"A user name or an API key."</p>
                        <FieldError id="edit-cluster-registry-user-error" message=error_of(value, Some("schemaRegistryUsername")) />
                    </label>
                    <label class="field">
                        <span class="field-label">"Registry secret"</span>
                        <input type="password" name="schema_registry_password" id="edit-cluster-registry-password" autocomplete="new-password" placeholder=if has_registry_user { "Unchanged" } else { "" } />
                        <p class="field-hint">
                            {if has_registry_user { "Leave empty to keep the stored one." } else { "Needed with a registry user." }}
                        </p>
                        <FieldError id="edit-cluster-registry-password-error" message=error_of(value, Some("schemaRegistryPassword")) />
                    </label>
                </div>
                <FieldError id="edit-cluster-error" message=error_of(value, None) />
                <div class="button-row">
                    <button type="submit" class="button button-primary" id="edit-cluster-submit" disabled=move || update.pending().get()>
                        {move || if update.pending().get() { "Saving…" } else { "Save changes" }}
                    </button>
                    <a class="button button-ghost" href="/operator/clusters" id="edit-cluster-cancel">"Cancel"</a>
                </div>
            </ActionForm>
        </section>
    }
}
