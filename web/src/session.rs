//! The portal's session (server side only). The browser holds two HttpOnly cookies — a
//! short-lived access token and the refresh token — so no script can read a credential. A
//! middleware refreshes an expired access token once per request, before the page or server
//! function runs; everything after only reads the access cookie.

use axum::{
    extract::{Request, State},
    http::{
        HeaderMap, HeaderValue,
        header::{AUTHORIZATION, COOKIE, SET_COOKIE},
    },
    middleware::Next,
    response::{IntoResponse, Response},
};
use tributary_api::RequestContext;
use tributary_identity::{Identity, Session};

pub const ACCESS_COOKIE: &str = "trb_access";
pub const REFRESH_COOKIE: &str = "trb_refresh";
/// Set by the middleware from the resolved client address; any client-sent value is removed first.
const CLIENT_ADDR_HEADER: &str = "x-tributary-client-addr";

/// The value of one cookie of a request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn secure_attr(identity_public_https: bool) -> &'static str {
    if identity_public_https {
        "; Secure"
    } else {
        ""
    }
}

/// `Set-Cookie` values that store a session.
pub fn session_cookies(session: &Session, https: bool) -> Vec<String> {
    let now = chrono::Utc::now().timestamp();
    // The access cookie expires a little before the token, so the browser never sends a stale one.
    let access_age = (session.access_expires_at - now - 30).max(1);
    vec![
        format!(
            "{ACCESS_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={access_age}{}",
            session.access_token,
            secure_attr(https)
        ),
        format!(
            "{REFRESH_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            session.refresh_token,
            30 * 24 * 3600,
            secure_attr(https)
        ),
    ]
}

/// `Set-Cookie` values that end the session in the browser.
pub fn clearing_cookies() -> Vec<String> {
    [ACCESS_COOKIE, REFRESH_COOKIE]
        .iter()
        .map(|name| format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"))
        .collect()
}

/// The portal's configuration shared with the middleware.
#[derive(Clone)]
pub struct PortalSession {
    pub identity: Identity,
    /// Mark cookies `Secure` (the public URL is https).
    pub https: bool,
}

/// Refreshes an expired access token from the refresh cookie, once, before the request runs.
pub async fn refresh_middleware(
    State(portal): State<PortalSession>,
    mut request: Request,
    next: Next,
) -> Response {
    // The client address as resolved from the socket and the trusted proxies, never from a
    // header the client could set.
    request.headers_mut().remove(CLIENT_ADDR_HEADER);
    let addr = request
        .extensions()
        .get::<tributary_api::client_addr::ClientAddr>()
        .map(|client| client.0.to_string());
    if let Some(v) = addr.and_then(|a| HeaderValue::from_str(&a).ok()) {
        request.headers_mut().insert(CLIENT_ADDR_HEADER, v);
    }
    let headers = request.headers();
    let access_valid =
        cookie(headers, ACCESS_COOKIE).is_some_and(|t| portal.identity.jwt().verify(&t).is_ok());
    let mut set_cookies = Vec::new();
    if !access_valid && let Some(refresh) = cookie(headers, REFRESH_COOKIE) {
        match portal.identity.refresh(&refresh).await {
            Ok(session) => {
                // Downstream code sees the new access token as if the browser had sent it.
                let others: Vec<String> = headers
                    .get_all(COOKIE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(';'))
                    .map(str::trim)
                    .filter(|p| {
                        !p.starts_with(&format!("{ACCESS_COOKIE}="))
                            && !p.starts_with(&format!("{REFRESH_COOKIE}="))
                    })
                    .map(str::to_owned)
                    .collect();
                let mut value = others.join("; ");
                if !value.is_empty() {
                    value.push_str("; ");
                }
                value.push_str(&format!("{ACCESS_COOKIE}={}", session.access_token));
                if let Ok(v) = HeaderValue::from_str(&value) {
                    request.headers_mut().insert(COOKIE, v);
                }
                set_cookies = session_cookies(&session, portal.https);
            }
            Err(_) => set_cookies = clearing_cookies(),
        }
    }
    let mut response = next.run(request).await;
    for value in set_cookies {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

/// Refuses state-changing requests (server functions: every non-GET portal request) that a
/// browser sent from another site, so a page elsewhere cannot act with the visitor's cookies.
/// `Sec-Fetch-Site` decides when present; else `Origin` must be this site (the request's host
/// or the public URL); requests with neither come from no browser and carry no ambient
/// authority to abuse. Refusals are `403` with the API's JSON error body.
pub async fn refuse_cross_origin(
    State(portal): State<PortalSession>,
    request: Request,
    next: Next,
) -> Response {
    if request.method().is_safe() || same_origin(request.headers(), portal.identity.public_url()) {
        return next.run(request).await;
    }
    let body = serde_json::json!({
        "error": {
            "code": tributary_api::ErrorCode::Forbidden,
            "message": "cross-origin requests are refused: submit the form from this site",
        }
    });
    (axum::http::StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

/// Whether the browser says the request comes from this site (see [`refuse_cross_origin`]).
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        // `none`: the user typed or bookmarked it, no other site was involved.
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = header("origin") else {
        return true;
    };
    let authority = |url: &str| -> Option<String> {
        let rest = url.split_once("://")?.1;
        Some(rest.split('/').next()?.to_ascii_lowercase())
    };
    let public = public_url.trim_end_matches('/');
    let public_origin = authority(public)
        .map(|a| format!("{}://{a}", public.split("://").next().unwrap_or_default()));
    origin != "null"
        && (public_origin.as_deref() == Some(&origin.to_ascii_lowercase())
            || authority(origin).is_some_and(|a| Some(a.as_str()) == header("host")))
}

/// The caller of the current portal request, from its access cookie (anonymous without one).
pub async fn request_context(identity: &Identity, headers: &HeaderMap) -> RequestContext {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let client_addr = headers
        .get(CLIENT_ADDR_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut auth = HeaderMap::new();
    if let Some(token) = cookie(headers, ACCESS_COOKIE)
        && let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}"))
    {
        auth.insert(AUTHORIZATION, v);
    }
    match tributary_api::authenticate(identity, &auth, request_id.clone(), client_addr.clone())
        .await
    {
        Ok(context) => context,
        Err(_) => RequestContext {
            actor: None,
            request_id,
            client_addr,
            expires_at: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).expect("header"));
        }
        map
    }

    const PUBLIC: &str = "https://portal.example";

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            PUBLIC
        ));
        assert!(same_origin(&headers(&[("sec-fetch-site", "none")]), PUBLIC));
        for site in ["cross-site", "same-site"] {
            let h = headers(&[("sec-fetch-site", site), ("origin", PUBLIC)]);
            assert!(
                !same_origin(&h, PUBLIC),
                "{site} is refused even with a good Origin"
            );
        }
    }

    #[test]
    fn origin_must_be_this_site() {
        assert!(same_origin(
            &headers(&[("origin", "https://portal.example")]),
            PUBLIC
        ));
        assert!(same_origin(
            &headers(&[
                ("origin", "http://10.0.0.5:8080"),
                ("host", "10.0.0.5:8080")
            ]),
            PUBLIC
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://evil.example")]),
            PUBLIC
        ));
        assert!(!same_origin(
            &headers(&[("origin", "https://portal.example.evil.example")]),
            PUBLIC
        ));
        assert!(!same_origin(&headers(&[("origin", "null")]), PUBLIC));
        assert!(
            !same_origin(&headers(&[("origin", "http://portal.example")]), PUBLIC),
            "another scheme is another origin"
        );
    }

    #[test]
    fn requests_from_no_browser_pass() {
        assert!(same_origin(&HeaderMap::new(), PUBLIC));
    }
}
