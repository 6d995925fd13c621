//! Signing up, in, resetting a forgotten password, and confirming links from mails.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::{
    AcceptInvitation, FormError, RequestPasswordReset, ResetPassword, SignIn, SignUp, VerifyEmail,
};
use crate::components::FieldError;

/// The error of the latest submission, for one field.
fn field_error<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<Result<T, FormError>, ServerFnError>>>,
    field: &'static str,
) -> Signal<Option<String>> {
    Signal::derive(move || match value.get() {
        Some(Ok(Err(e))) => e.for_field(field),
        _ => None,
    })
}

/// An error not tied to a field (or a transport failure).
fn form_error<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<Result<T, FormError>, ServerFnError>>>,
) -> Signal<Option<String>> {
    Signal::derive(move || match value.get() {
        Some(Ok(Err(e))) if e.field.is_none() => Some(e.message),
        Some(Err(e)) => Some(format!("The request failed: {e}")),
        _ => None,
    })
}

/// Whether a submission with a mailed link's token was refused because of the link.
fn link_refused<T>(value: &Option<Result<Result<T, FormError>, ServerFnError>>) -> bool {
    matches!(value, Some(Ok(Err(e))) if e.code == "UNAUTHENTICATED")
}

/// An error of a link form that is neither about a field nor about the link (e.g. too many tries).
fn other_error<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<Result<T, FormError>, ServerFnError>>>,
) -> Signal<Option<String>> {
    let general = form_error(value);
    Signal::derive(move || {
        if link_refused(&value.get()) {
            None
        } else {
            general.get()
        }
    })
}

/// What the hint under a new password says while it is typed.
fn password_hint(password: &str) -> String {
    let len = password.chars().count();
    if len == 0 {
        "At least 12 characters.".to_owned()
    } else if len < 12 {
        format!("{} more characters needed.", 12 - len)
    } else {
        "Length is fine.".to_owned()
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let value = Signal::derive(move || action.value().get());
    view! {
        <Title text="Sign in" />
        <div class="auth-card">
            <h1>"Sign in"</h1>
            <p class="page-description">"Welcome back. New here? "<a href="/sign-up">"Create an account"</a></p>
            <ActionForm action=action attr:id="sign-in-form" attr:class="stack">
                <label class="field">
                    <span class="field-label">"Email"</span>
                    <input type="email" name="email" id="email" autocomplete="email" required aria-describedby="email-error" />
                </label>
                <FieldError id="email-error" message=field_error(value, "email") />
                <label class="field">
                    <span class="field-label">"Password"</span>
                    <input type="password" name="password" id="password" autocomplete="current-password" required />
                </label>
                <p class="field-hint"><a href="/forgot-password" id="forgot-password-link">"Forgot password?"</a></p>
                <FieldError id="form-error" message=form_error(value) />
                <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </div>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let value = Signal::derive(move || action.value().get());
    let (password, set_password) = signal(String::new());
    let password_hint = move || password_hint(&password.get());
    let done = move || matches!(value.get(), Some(Ok(Ok(_))));
    view! {
        <Title text="Sign up" />
        <div class="auth-card">
            <h1>"Create your account"</h1>
            <p class="page-description">"Publish and subscribe to real-time data streams. Have an account? "<a href="/sign-in">"Sign in"</a></p>
            <Show
                when=done
                fallback=move || {
                    view! {
                        <ActionForm action=action attr:id="sign-up-form" attr:class="stack">
                            <label class="field">
                                <span class="field-label">"Email"</span>
                                <input type="email" name="email" id="email" autocomplete="email" required aria-describedby="email-error" />
                            </label>
                            <FieldError id="email-error" message=field_error(value, "email") />
                            <label class="field">
                                <span class="field-label">"Password"</span>
                                <input
                                    type="password"
                                    name="password"
                                    id="password"
                                    autocomplete="new-password"
                                    required
                                    minlength="12"
                                    aria-describedby="password-hint password-error"
                                    on:input=move |ev| set_password.set(event_target_value(&ev))
                                />
                            </label>
                            <p class="field-hint" id="password-hint" aria-live="polite">{password_hint}</p>
                            <FieldError id="password-error" message=field_error(value, "password") />
                            <label class="field">
                                <span class="field-label">"Your name"</span>
                                <input type="text" name="display_name" id="display-name" autocomplete="name" required />
                            </label>
                            <FieldError id="display-name-error" message=field_error(value, "displayName") />
                            <label class="field">
                                <span class="field-label">"Organization name"</span>
                                <input type="text" name="organization_name" id="organization-name" autocomplete="organization" required />
                            </label>
                            <FieldError id="organization-name-error" message=field_error(value, "organizationName") />
                            <FieldError id="form-error" message=form_error(value) />
                            <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                                {move || if action.pending().get() { "Creating…" } else { "Create account" }}
                            </button>
                        </ActionForm>
                    }
                }
            >
                <div class="callout callout-ok" role="status" id="sign-up-done">
                    {move || match value.get() {
                        Some(Ok(Ok(message))) => message,
                        _ => String::new(),
                    }}
                </div>
            </Show>
        </div>
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyEmail>::new();
    let value = Signal::derive(move || action.value().get());
    view! {
        <Title text="Confirm your email" />
        <div class="auth-card">
            <h1>"Confirm your email"</h1>
            {move || match value.get() {
                Some(Ok(Ok(()))) => {
                    view! {
                        <div class="callout callout-ok" role="status" id="verify-done">
                            "Your email is confirmed. "<a href="/sign-in">"Sign in"</a>
                        </div>
                    }
                        .into_any()
                }
                other => {
                    // A wrong password is shown at its field, a spent link here, anything else below.
                    let link_failed = link_refused(&other);
                    view! {
                        <p class="page-description">
                            "Enter the password you chose when signing up: it confirms the sign-up was yours."
                        </p>
                        <ActionForm action=action attr:id="verify-form" attr:class="stack">
                            <input type="hidden" name="token" prop:value=token />
                            <label class="field">
                                <span class="field-label">"Password"</span>
                                <input type="password" name="password" id="password" autocomplete="current-password" required aria-describedby="password-error" />
                            </label>
                            <FieldError id="password-error" message=field_error(value, "password") />
                            <FieldError id="form-error" message=other_error(value) />
                            <button type="submit" class="button button-primary" id="verify-button">"Confirm email"</button>
                        </ActionForm>
                        <Show when=move || link_failed>
                            <p class="field-error" role="alert" id="verify-error">
                                "This link is invalid or has expired. Sign up again to get a new one."
                            </p>
                        </Show>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<AcceptInvitation>::new();
    let value = Signal::derive(move || action.value().get());
    view! {
        <Title text="Accept invitation" />
        <div class="auth-card">
            <h1>"Join an organization"</h1>
            {move || match value.get() {
                Some(Ok(Ok(org_id))) => {
                    view! {
                        <div class="callout callout-ok" role="status" id="accept-done">
                            "You are in. "<a href=format!("/organization?org={org_id}")>"Open the organization"</a>
                        </div>
                    }
                        .into_any()
                }
                other => {
                    let error = match other {
                        Some(Ok(Err(e))) if e.code == "UNAUTHENTICATED" && e.message.contains("sign in") => {
                            Some("Sign in first, with the address the invitation was sent to.".to_owned())
                        }
                        Some(Ok(Err(_))) => Some("This invitation is invalid, expired, or meant for another address.".to_owned()),
                        Some(Err(e)) => Some(format!("The request failed: {e}")),
                        _ => None,
                    };
                    view! {
                        <p class="page-description">"Accept with the account of the address that was invited."</p>
                        <ActionForm action=action attr:class="stack">
                            <input type="hidden" name="token" prop:value=token />
                            <button type="submit" class="button button-primary" id="accept-button">"Accept invitation"</button>
                        </ActionForm>
                        {error.map(|e| view! { <p class="field-error" role="alert" id="accept-error">{e}</p> })}
                    }
                        .into_any()
                }
            }}
        </div>
    }
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let value = Signal::derive(move || action.value().get());
    let done = move || matches!(value.get(), Some(Ok(Ok(_))));
    view! {
        <Title text="Forgot password" />
        <div class="auth-card">
            <h1>"Reset your password"</h1>
            <p class="page-description">
                "We mail you a link to choose a new one; it works once, for 30 minutes. Remembered it? "
                <a href="/sign-in">"Sign in"</a>
            </p>
            <Show
                when=done
                fallback=move || {
                    view! {
                        <ActionForm action=action attr:id="forgot-form" attr:class="stack">
                            <label class="field">
                                <span class="field-label">"Email"</span>
                                <input type="email" name="email" id="email" autocomplete="email" required aria-describedby="email-error" />
                            </label>
                            <FieldError id="email-error" message=field_error(value, "email") />
                            <FieldError id="form-error" message=form_error(value) />
                            <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                                {move || if action.pending().get() { "Sending…" } else { "Send reset link" }}
                            </button>
                        </ActionForm>
                    }
                }
            >
                <div class="callout callout-ok" role="status" id="forgot-done">
                    {move || match value.get() {
                        Some(Ok(Ok(message))) => message,
                        _ => String::new(),
                    }}
                </div>
            </Show>
        </div>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<ResetPassword>::new();
    let value = Signal::derive(move || action.value().get());
    let (password, set_password) = signal(String::new());
    let hint = move || password_hint(&password.get());
    view! {
        <Title text="Choose a new password" />
        <div class="auth-card">
            <h1>"Choose a new password"</h1>
            {move || match value.get() {
                Some(Ok(Ok(()))) => {
                    view! {
                        <div class="callout callout-ok" role="status" id="reset-done">
                            "Your password is changed and every session was signed out. "
                            <a href="/sign-in">"Sign in"</a>
                        </div>
                    }
                        .into_any()
                }
                other => {
                    let link_failed = link_refused(&other);
                    view! {
                        <p class="page-description">"Every device signed in to your account is signed out when you save."</p>
                        <ActionForm action=action attr:id="reset-form" attr:class="stack">
                            <input type="hidden" name="token" prop:value=token />
                            <label class="field">
                                <span class="field-label">"New password"</span>
                                <input
                                    type="password"
                                    name="password"
                                    id="password"
                                    autocomplete="new-password"
                                    required
                                    minlength="12"
                                    aria-describedby="password-hint password-error"
                                    on:input=move |ev| set_password.set(event_target_value(&ev))
                                />
                            </label>
                            <p class="field-hint" id="password-hint" aria-live="polite">{hint}</p>
                            <FieldError id="password-error" message=field_error(value, "password") />
                            <FieldError id="form-error" message=other_error(value) />
                            <button type="submit" class="button button-primary" disabled=move || action.pending().get()>
                                {move || if action.pending().get() { "Saving…" } else { "Save password" }}
                            </button>
                        </ActionForm>
                        <Show when=move || link_failed>
                            <p class="field-error" role="alert" id="reset-error">
                                "This link is invalid, used or expired. "
                                <a href="/forgot-password">"Ask for a new one"</a>
                            </p>
                        </Show>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
