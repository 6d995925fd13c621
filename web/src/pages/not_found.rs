use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path the portal does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <div class="page-header">
            <h1>"Page not found"</h1>
            <p class="page-description">"There is nothing at this address. "<a href="/">"Back to the catalog"</a></p>
        </div>
    }
}
