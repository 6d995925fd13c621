//! The organization: members and roles, invitations, API tokens.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{
    ChangeMemberRole, CreateApiToken, FormError, InviteMember, OrgOverview, RemoveMember,
    RevokeApiToken, RevokeInvitation, load_audit_log, load_organization,
};
use crate::components::{ConfirmToggle, FieldError};

const ROLES: [&str; 5] = ["owner", "admin", "developer", "billing", "viewer"];

fn can_manage_members(role: &str) -> bool {
    matches!(role, "owner" | "admin")
}

fn error_of<T: Clone + Send + Sync + 'static>(
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

#[component]
pub fn OrganizationPage() -> impl IntoView {
    let query = use_query_map();
    let invite = ServerAction::<InviteMember>::new();
    let change_role = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let create_token = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let revoke_invitation = ServerAction::<RevokeInvitation>::new();
    // Which token creation the user has dismissed the secret of; kept here because the token
    // list below is rebuilt after every change, and a rebuilt list must not show the secret again.
    let dismissed = RwSignal::new(0usize);
    // The selected organization comes from the URL; without one the server picks the first.
    let overview = Resource::new(
        move || {
            (
                query.read().get("org"),
                invite.version().get(),
                change_role.version().get(),
                remove.version().get(),
                create_token.version().get(),
                revoke.version().get(),
                revoke_invitation.version().get(),
            )
        },
        |(org, ..)| load_organization(org),
    );
    view! {
        <Title text="Organization" />
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                overview
                    .get()
                    .map(|result| match result {
                        Ok(Ok(org)) => {
                            view! { <OrgBody org invite revoke_invitation change_role remove create_token revoke dismissed /> }.into_any()
                        }
                        Ok(Err(e)) if e.code == "UNAUTHENTICATED" => view! { <SignInFirst /> }.into_any(),
                        Ok(Err(e)) => {
                            view! {
                                <div class="callout callout-error" role="alert">
                                    {if e.code == "NOT_FOUND" { "This organization does not exist or you are not a member.".to_owned() } else { e.message }}
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <div class="callout callout-error" role="alert">{e.to_string()}</div> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn SignInFirst() -> impl IntoView {
    view! {
        <div class="empty-state">
            <h2>"Sign in to see your organization"</h2>
            <p><a href="/sign-in">"Sign in"</a>" or "<a href="/sign-up">"create an account"</a>"."</p>
        </div>
    }
}

#[component]
fn OrgBody(
    org: OrgOverview,
    invite: ServerAction<InviteMember>,
    revoke_invitation: ServerAction<RevokeInvitation>,
    change_role: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
    create_token: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    dismissed: RwSignal<usize>,
) -> impl IntoView {
    let manage = can_manage_members(&org.viewer_role);
    let org_id = org.id.clone();
    view! {
        <div class="page-header">
            <div>
                <nav class="breadcrumbs" aria-label="Breadcrumb">"Organization"</nav>
                <h1 id="org-name">{org.name.clone()}</h1>
                <p class="page-description">
                    "Members, roles and machine credentials. Your role: "
                    <span class="badge badge-neutral" id="viewer-role">{org.viewer_role.clone()}</span>
                </p>
            </div>
        </div>

        <section class="panel" aria-labelledby="members-heading">
            <h2 id="members-heading">"Members"</h2>
            <FieldError id="members-error" message=error_of(Signal::derive(move || change_role.value().get()), None) />
            <FieldError id="remove-error" message=error_of(Signal::derive(move || remove.value().get()), None) />
            <div class="table-wrap">
                <table class="table" id="members-table">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Email"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {org
                            .members
                            .iter()
                            .cloned()
                            .map(|m| {
                                let org_id = org_id.clone();
                                view! { <MemberRowView member=m org_id manage change_role remove /> }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>

        {manage
            .then(|| {
                let org_id = org_id.clone();
                view! { <Invitations org_id invitations=org.invitations.clone().unwrap_or_default() invite revoke=revoke_invitation /> }
            })}

        {manage
            .then(|| {
                let org_id = org_id.clone();
                view! { <AuditLog org_id /> }
            })}

        {org
            .tokens
            .clone()
            .map(|tokens| {
                let org_id = org_id.clone();
                view! { <ApiTokens org_id tokens create_token revoke dismissed /> }
            })}
    }
}

#[component]
fn MemberRowView(
    member: crate::api::MemberRow,
    org_id: String,
    manage: bool,
    change_role: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let role = member.role.clone();
    let email = member.email.clone();
    let role_label = format!("Role of {email}");
    view! {
        <tr data-email=email.clone()>
            <td>{member.display_name.clone()}</td>
            <td>{email.clone()}</td>
            <td>
                {if manage {
                    let org_id = org_id.clone();
                    let user_id = member.user_id.clone();
                    view! {
                        <ActionForm action=change_role attr:class="inline-form">
                            <input type="hidden" name="org_id" value=org_id />
                            <input type="hidden" name="user_id" value=user_id />
                            <label>
                                <span class="visually-hidden">{role_label.clone()}</span>
                                <select name="role" class="role-select">
                                    {ROLES
                                        .iter()
                                        .map(|r| view! { <option value=*r selected=*r == role>{*r}</option> })
                                        .collect_view()}
                                </select>
                            </label>
                            <button type="submit" class="button button-ghost button-small">"Save"</button>
                        </ActionForm>
                    }
                        .into_any()
                } else {
                    view! { <span class="badge badge-neutral">{role.clone()}</span> }.into_any()
                }}
            </td>
            <td class="cell-actions">
                {manage
                    .then(|| {
                        let org_id = StoredValue::new(org_id.clone());
                        let user_id = StoredValue::new(member.user_id.clone());
                        view! {
                            <ConfirmToggle label="Remove" trigger_class="remove-member">
                                <ActionForm action=remove attr:class="inline-form confirm">
                                    <input type="hidden" name="org_id" value=org_id.get_value() />
                                    <input type="hidden" name="user_id" value=user_id.get_value() />
                                    <span class="confirm-text">"They lose access to this organization."</span>
                                    <button type="submit" class="button button-danger button-small confirm-remove">"Remove"</button>
                                </ActionForm>
                            </ConfirmToggle>
                        }
                    })}
            </td>
        </tr>
    }
}

#[component]
fn Invitations(
    org_id: String,
    invitations: Vec<crate::api::InvitationRow>,
    invite: ServerAction<InviteMember>,
    revoke: ServerAction<RevokeInvitation>,
) -> impl IntoView {
    let value = Signal::derive(move || invite.value().get());
    let revoke_value = Signal::derive(move || revoke.value().get());
    let invite_org = org_id.clone();
    view! {
        <section class="panel" aria-labelledby="invitations-heading">
            <h2 id="invitations-heading">"Invitations"</h2>
            <ActionForm action=invite attr:id="invite-form" attr:class="form-row">
                <input type="hidden" name="org_id" value=invite_org />
                <label class="field">
                    <span class="field-label">"Email"</span>
                    <input type="email" name="email" id="invite-email" required />
                </label>
                <label class="field field-narrow">
                    <span class="field-label">"Role"</span>
                    <select name="role" id="invite-role">
                        {ROLES.iter().map(|r| view! { <option value=*r selected=*r == "developer">{*r}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button button-primary" disabled=move || invite.pending().get()>"Send invitation"</button>
            </ActionForm>
            <FieldError id="invite-email-error" message=error_of(value, Some("email")) />
            <FieldError id="invite-error" message=error_of(value, None) />
            <FieldError id="revoke-invitation-error" message=error_of(revoke_value, None) />
            {if invitations.is_empty() {
                view! { <p class="muted" id="no-invitations">"No open invitations."</p> }.into_any()
            } else {
                view! {
                    <ul class="plain-list" id="invitation-list">
                        {invitations
                            .into_iter()
                            .map(|i| {
                                // Stored: the confirmation's children are rebuilt on each toggle.
                                let org_id = StoredValue::new(org_id.clone());
                                let invitation_id = StoredValue::new(i.id.clone());
                                view! {
                                    <li data-invitation=i.email.clone()>
                                        {format!("{} — {} (expires {})", i.email, i.role, &i.expires_at[..10.min(i.expires_at.len())])}
                                        " "
                                        <ConfirmToggle label="Revoke" trigger_class="revoke-invitation">
                                            <ActionForm action=revoke attr:class="inline-form confirm">
                                                <input type="hidden" name="org_id" value=org_id.get_value() />
                                                <input type="hidden" name="invitation_id" value=invitation_id.get_value() />
                                                <span class="confirm-text">"The mailed link stops working."</span>
                                                <button type="submit" class="button button-danger button-small confirm-revoke-invitation">"Revoke"</button>
                                            </ActionForm>
                                        </ConfirmToggle>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn ApiTokens(
    org_id: String,
    tokens: Vec<crate::api::TokenRow>,
    create_token: ServerAction<CreateApiToken>,
    revoke: ServerAction<RevokeApiToken>,
    dismissed: RwSignal<usize>,
) -> impl IntoView {
    let value = Signal::derive(move || create_token.value().get());
    let secret = move || match value.get() {
        Some(Ok(Ok(secret))) if dismissed.get() < create_token.version().get() => Some(secret),
        _ => None,
    };
    let copied = RwSignal::new(false);
    let form_org_id = org_id.clone();
    view! {
        <section class="panel" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"API tokens"</h2>
            <p class="muted">"For machines: send as "<code>"Authorization: Bearer <token>"</code>". Shown once when created."</p>
            <ActionForm action=create_token attr:id="token-form" attr:class="form-row">
                <input type="hidden" name="org_id" value=form_org_id />
                <label class="field">
                    <span class="field-label">"Name"</span>
                    <input type="text" name="name" id="token-name" required maxlength="100" />
                </label>
                <label class="field field-narrow">
                    <span class="field-label">"Access"</span>
                    <select name="scope" id="token-scope">
                        <option value="read">"Read"</option>
                        <option value="write">"Read and write"</option>
                    </select>
                </label>
                <label class="field field-narrow">
                    <span class="field-label">"Expires in (days)"</span>
                    <input type="number" name="expires_in_days" id="token-days" min="1" max="365" value="90" />
                </label>
                <button type="submit" class="button button-primary" disabled=move || create_token.pending().get()>"Create token"</button>
            </ActionForm>
            <FieldError id="token-name-error" message=error_of(value, Some("name")) />
            <FieldError id="token-days-error" message=error_of(value, Some("expiresInDays")) />
            <FieldError id="token-error" message=error_of(value, None) />
            <Show when=move || secret().is_some()>
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="secret-title" id="secret-dialog">
                    <h3 id="secret-title">"Copy your new token now"</h3>
                    <p class="callout callout-warn">"It will not be shown again: Tributary stores only a hash of it."</p>
                    <input type="text" readonly id="token-secret" class="secret" prop:value=move || secret().unwrap_or_default() />
                    <div class="dialog-actions">
                        <button
                            type="button"
                            class="button button-primary"
                            id="copy-secret"
                            on:click=move |_| {
                                #[cfg(feature = "hydrate")]
                                if let Some(secret) = secret() {
                                    let _ = window().navigator().clipboard().write_text(&secret);
                                }
                                copied.set(true);
                            }
                        >
                            {move || if copied.get() { "Copied" } else { "Copy" }}
                        </button>
                        <button
                            type="button"
                            class="button button-ghost"
                            id="close-secret"
                            on:click=move |_| {
                                dismissed.set(create_token.version().get_untracked());
                                copied.set(false);
                            }
                        >
                            "I saved it"
                        </button>
                    </div>
                </div>
            </Show>
            {if tokens.is_empty() {
                view! { <p class="muted" id="no-tokens">"No API tokens yet — create one for your first integration."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="table" id="tokens-table">
                            <thead>
                                <tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Token"</th>
                                    <th scope="col">"Access"</th>
                                    <th scope="col">"Expires"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                </tr>
                            </thead>
                            <tbody>
                                {tokens
                                    .into_iter()
                                    .map(|t| {
                                        let org_id = org_id.clone();
                                        view! { <TokenRowView token=t org_id revoke /> }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn TokenRowView(
    token: crate::api::TokenRow,
    org_id: String,
    revoke: ServerAction<RevokeApiToken>,
) -> impl IntoView {
    let revoked = token.revoked_at.is_some();
    let day = |s: &Option<String>| {
        s.as_deref()
            .map(|d| d[..10.min(d.len())].to_owned())
            .unwrap_or_else(|| "never".into())
    };
    view! {
        <tr data-token=token.name.clone()>
            <td>{token.name.clone()}</td>
            <td><code>{format!("trb_{}_…", token.prefix)}</code></td>
            <td>{token.scopes.join(", ")}</td>
            <td>{day(&token.expires_at)}</td>
            <td>
                {if revoked {
                    view! { <span class="badge badge-retired">"Revoked"</span> }.into_any()
                } else {
                    view! { <span class="badge badge-published">"Active"</span> }.into_any()
                }}
            </td>
            <td class="cell-actions">
                {(!revoked)
                    .then(|| {
                        let org_id = StoredValue::new(org_id.clone());
                        let token_id = StoredValue::new(token.id.clone());
                        view! {
                            <ConfirmToggle label="Revoke" trigger_class="revoke-token">
                                <ActionForm action=revoke attr:class="inline-form confirm">
                                    <input type="hidden" name="org_id" value=org_id.get_value() />
                                    <input type="hidden" name="token_id" value=token_id.get_value() />
                                    <span class="confirm-text">"Machines using it lose access at once."</span>
                                    <button type="submit" class="button button-danger button-small confirm-revoke">"Revoke"</button>
                                </ActionForm>
                            </ConfirmToggle>
                        }
                    })}
            </td>
        </tr>
    }
}

/// The organization's audit trail, newest first, one page at a time.
#[component]
fn AuditLog(org_id: String) -> impl IntoView {
    // The cursors of the pages shown so far: the first page has none.
    let cursor = RwSignal::new(None::<String>);
    let history = RwSignal::new(Vec::<Option<String>>::new());
    let org = StoredValue::new(org_id);
    let page = Resource::new(
        move || cursor.get(),
        move |after| load_audit_log(org.get_value(), after),
    );
    view! {
        <section class="panel" aria-labelledby="audit-heading">
            <h2 id="audit-heading">"Audit log"</h2>
            <p class="muted">"Every change in this organization: who, what, and the value before and after."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    page.get()
                        .map(|result| match result {
                            Ok(Ok(page)) if page.rows.is_empty() => {
                                view! { <p class="muted" id="no-audit">"Nothing has happened here yet."</p> }.into_any()
                            }
                            Ok(Ok(page)) => {
                                let next = page.next.clone();
                                view! {
                                    <div class="table-wrap">
                                        <table class="table" id="audit-table">
                                            <thead>
                                                <tr>
                                                    <th scope="col">"When (UTC)"</th>
                                                    <th scope="col">"Action"</th>
                                                    <th scope="col">"Target"</th>
                                                    <th scope="col">"By"</th>
                                                    <th scope="col">"Change"</th>
                                                </tr>
                                            </thead>
                                            <tbody>
                                                {page
                                                    .rows
                                                    .into_iter()
                                                    .map(|r| {
                                                        let action = r.action.clone();
                                                        view! {
                                                            <tr data-action=action>
                                                                <td>{r.occurred_at}</td>
                                                                <td><code>{r.action}</code></td>
                                                                <td>{r.target}</td>
                                                                <td>{r.actor}</td>
                                                                <td class="cell-sub"><code>{r.change}</code></td>
                                                            </tr>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </tbody>
                                        </table>
                                    </div>
                                    <div class="pager">
                                        <button
                                            type="button"
                                            class="button button-ghost button-small"
                                            id="audit-newer"
                                            disabled=move || history.with(Vec::is_empty)
                                            on:click=move |_| {
                                                let previous = history.try_update(|h| h.pop()).flatten().flatten();
                                                cursor.set(previous);
                                            }
                                        >
                                            "Newer"
                                        </button>
                                        <button
                                            type="button"
                                            class="button button-ghost button-small"
                                            id="audit-older"
                                            disabled=next.is_none()
                                            on:click=move |_| {
                                                history.update(|h| h.push(cursor.get_untracked()));
                                                cursor.set(next.clone());
                                            }
                                        >
                                            "Older"
                                        </button>
                                    </div>
                                }
                                    .into_any()
                            }
                            Ok(Err(e)) => view! { <p class="field-error" role="alert">{e.message}</p> }.into_any(),
                            Err(e) => view! { <p class="field-error" role="alert">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}
