//! The layout every page shares: top bar, navigation, main area.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use crate::api::{OrgSummary, SignOut, ViewerSummary, load_viewer};

/// The colour theme; both come from the same design tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    fn toggled(self) -> Self {
        match self {
            Self::Light => Self::Dark,
            Self::Dark => Self::Light,
        }
    }
}

/// The signed-in viewer, loaded once per page for the top bar and navigation.
pub type ViewerResource = Resource<Result<Option<ViewerSummary>, ServerFnError>>;

/// The shared page frame.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    let theme = expect_context::<RwSignal<Theme>>();
    let location = use_location();
    // Reloaded on every navigation, so signing in, out or joining an organization shows at once.
    let viewer: ViewerResource = Resource::new(move || location.pathname.get(), |_| load_viewer());
    provide_context(viewer);
    // Effects run only in the browser, so this flips once hydration has attached the handlers;
    // browser tests wait for it instead of sleeping.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let current = move |path: &'static str| {
        let here = location.pathname.get();
        let active = if path == "/" {
            here == "/"
        } else {
            here.starts_with(path)
        };
        if active { Some("page") } else { None }
    };
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <div
            class="app"
            data-theme=move || theme.get().as_str()
            data-hydrated=move || if hydrated.get() { "true" } else { "false" }
        >
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"≋"</span>
                    "Tributary"
                </a>
                <div class="topbar-spacer"></div>
                <Transition fallback=|| ()>
                    {move || {
                        viewer
                            .get()
                            .map(|v| match v {
                                Ok(Some(viewer)) => {
                                    view! {
                                        <OrgSwitcher orgs=viewer.organizations.clone() />
                                        <span class="user-name" id="user-name">{viewer.display_name.clone()}</span>
                                        <ActionForm action=sign_out attr:class="inline-form">
                                            <button type="submit" class="button button-ghost" id="sign-out">"Sign out"</button>
                                        </ActionForm>
                                    }
                                        .into_any()
                                }
                                _ => {
                                    view! {
                                        <a class="button button-ghost" href="/sign-in" id="sign-in-link">"Sign in"</a>
                                        <a class="button button-primary" href="/sign-up">"Sign up"</a>
                                    }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
                <button
                    type="button"
                    class="button button-ghost"
                    id="theme-toggle"
                    aria-label=move || format!("Switch to {} theme", theme.get().toggled().as_str())
                    on:click=move |_| theme.update(|t| *t = t.toggled())
                >
                    {move || if theme.get() == Theme::Light { "Dark theme" } else { "Light theme" }}
                </button>
            </header>
            <div class="layout">
                <nav class="sidenav" aria-label="Main">
                    <ul>
                        <li><a href="/" aria-current=move || current("/")>"Catalog"</a></li>
                        <Transition fallback=|| ()>
                            {move || {
                                viewer
                                    .get()
                                    .and_then(|v| v.ok().flatten())
                                    .map(|viewer| {
                                        // Only members of the marketplace operator's organization run clusters.
                                        let operator = viewer.organizations.iter().any(|o| crate::api::operates(o.is_operator, &o.role));
                                        view! {
                                            <li>
                                                <a href="/my-streams" id="nav-my-streams" aria-current=move || current("/my-streams")>
                                                    "My streams"
                                                </a>
                                            </li>
                                            <li>
                                                <a href="/organization" aria-current=move || current("/organization")>
                                                    "Organization"
                                                </a>
                                            </li>
                                            {operator
                                                .then(|| {
                                                    view! {
                                                        <li>
                                                            <a href="/operator/clusters" id="nav-operator" aria-current=move || current("/operator")>
                                                                "Operator"
                                                            </a>
                                                        </li>
                                                    }
                                                })}
                                        }
                                    })
                            }}
                        </Transition>
                    </ul>
                </nav>
                <main id="main" class="content">{children()}</main>
            </div>
        </div>
    }
}

/// Switches the organization the pages show (kept in the URL, so links are shareable).
#[component]
fn OrgSwitcher(orgs: Vec<OrgSummary>) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let location = use_location();
    let selected = move || query.read().get("org").unwrap_or_default();
    view! {
        <label class="org-switcher">
            <span class="visually-hidden">"Organization"</span>
            <select
                id="org-switcher"
                on:change=move |ev| {
                    let id = event_target_value(&ev);
                    // Pages that show one organization's things stay; others go to the organization.
                    let here = location.pathname.get_untracked();
                    let page = if here.starts_with("/my-streams") { "/my-streams" } else { "/organization" };
                    navigate(&format!("{page}?org={id}"), Default::default());
                }
            >
                {orgs
                    .into_iter()
                    .map(|org| {
                        let id = org.id.clone();
                        let is_selected = move || selected() == id;
                        view! {
                            <option value=org.id.clone() selected=is_selected>
                                {format!("{} ({})", org.name, org.role)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// A form field's error message, linked to its input for screen readers.
#[component]
pub fn FieldError(id: &'static str, message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <p class="field-error" id=id role="alert">{move || message.get()}</p>
        </Show>
    }
}

/// A status badge with text and colour (never colour alone).
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let class = format!("badge badge-{status}");
    let label = match status.as_str() {
        "published" => "Published",
        "draft" => "Draft",
        "deprecated" => "Deprecated",
        "retired" => "Retired",
        _ => "Unknown",
    };
    view! { <span class=class>{label}</span> }
}

/// A destructive action in two steps: the button reveals `children` (the confirming form, which
/// says what will happen) and a Cancel button.
#[component]
pub fn ConfirmToggle(
    label: &'static str,
    trigger_class: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                view! {
                    <button
                        type="button"
                        class=format!("button button-ghost button-small {trigger_class}")
                        on:click=move |_| confirming.set(true)
                    >
                        {label}
                    </button>
                }
            }
        >
            <span class="inline-form">
                {children()}
                <button type="button" class="button button-ghost button-small" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </span>
        </Show>
    }
}
