//! The layout every page shares: top bar, navigation, main area.

use leptos::prelude::*;

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

/// The shared page frame.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    let theme = expect_context::<RwSignal<Theme>>();
    // Effects run only in the browser, so this flips once hydration has attached the handlers;
    // browser tests wait for it instead of sleeping.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
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
                        <li><a href="/" aria-current="page">"Catalog"</a></li>
                    </ul>
                </nav>
                <main id="main" class="content">{children()}</main>
            </div>
        </div>
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
