//! The Tributary portal. One crate compiled twice: with `ssr` it renders pages on the server
//! (and works without JavaScript); with `hydrate` it becomes the wasm module that makes those
//! pages interactive in the browser. Data comes from the same GraphQL API clients use.

#![recursion_limit = "256"]

pub mod api;
mod components;
mod pages;
#[cfg(feature = "ssr")]
pub mod session;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use components::{AppShell, Theme};

/// The stylesheet, inlined into every page so the first paint is styled without another request.
const STYLESHEET: &str = include_str!("../style/main.css");

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="data:," />
                <style inner_html=STYLESHEET></style>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes inside the shared layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let theme = RwSignal::new(Theme::Light);
    provide_context(theme);
    view! {
        <Title formatter=|page: String| format!("{page} · Tributary") />
        <Router>
            <AppShell>
                <Routes fallback=pages::NotFound>
                    // Async: the server waits for the page's data, so the HTML is complete without JavaScript.
                    <Route path=path!("/") view=pages::Catalog ssr=SsrMode::Async />
                    <Route path=path!("/sign-in") view=pages::SignInPage ssr=SsrMode::Async />
                    <Route path=path!("/sign-up") view=pages::SignUpPage ssr=SsrMode::Async />
                    <Route path=path!("/verify-email") view=pages::VerifyEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/forgot-password") view=pages::ForgotPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/reset-password") view=pages::ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/invitations/accept") view=pages::AcceptInvitationPage ssr=SsrMode::Async />
                    <Route path=path!("/organization") view=pages::OrganizationPage ssr=SsrMode::Async />
                    <Route path=path!("/streams/:provider/:slug") view=pages::StreamPage ssr=SsrMode::Async />
                    <Route path=path!("/my-streams") view=pages::MyStreamsPage ssr=SsrMode::Async />
                    <Route path=path!("/my-streams/new") view=pages::PublishWizardPage ssr=SsrMode::Async />
                    <Route path=path!("/operator/clusters") view=pages::OperatorClustersPage ssr=SsrMode::Async />
                </Routes>
            </AppShell>
        </Router>
    }
}

/// The browser entry point: attaches event handlers to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
