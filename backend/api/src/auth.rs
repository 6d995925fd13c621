//! Who is calling: `Authorization: Bearer <access JWT | org API token>`, checked once per request.

use axum::http::{HeaderMap, header::AUTHORIZATION};
use tributary_identity::{Actor, Identity, Principal};

use crate::ApiError;

/// Per-request facts every resolver may need.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// `None` for anonymous callers.
    pub actor: Option<Actor>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
    /// When the presented credential stops being valid by itself (an access token's `exp`, unix
    /// seconds); `None` for anonymous callers and API tokens, whose end is looked up instead.
    pub expires_at: Option<i64>,
}

impl RequestContext {
    pub fn audit(&self) -> tributary_db::audit::AuditActor {
        self.actor
            .as_ref()
            .map(Actor::audit)
            .unwrap_or(tributary_db::audit::AuditActor {
                user_id: None,
                api_token_id: None,
                request_id: self.request_id.clone(),
                client_addr: self.client_addr.clone(),
            })
    }

    /// The caller, or `UNAUTHENTICATED`.
    pub fn require_actor(&self) -> Result<&Actor, ApiError> {
        self.actor
            .as_ref()
            .ok_or_else(|| ApiError::Unauthenticated("sign in to do this".into()))
    }
}

/// Resolves the request's credentials. No header: anonymous. A header that does not verify is
/// an error (never silently anonymous).
pub async fn authenticate(
    identity: &Identity,
    headers: &HeaderMap,
    request_id: Option<String>,
    client_addr: Option<String>,
) -> Result<RequestContext, ApiError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(RequestContext {
            actor: None,
            request_id,
            client_addr,
            expires_at: None,
        });
    };
    let bearer = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated("the Authorization header must be `Bearer <token>`".into())
        })?;
    let mut expires_at = None;
    let principal = if bearer.starts_with(tributary_identity::ApiTokenSecret::MARKER) {
        identity.authenticate_api_token(bearer).await?
    } else {
        let claims = identity.jwt().verify(bearer)?;
        if !identity.session_active(claims.sid).await? {
            return Err(ApiError::Unauthenticated(
                "the session has ended; sign in again".into(),
            ));
        }
        expires_at = Some(claims.exp);
        Principal::User {
            id: claims.sub,
            session: claims.sid,
        }
    };
    Ok(RequestContext {
        actor: Some(Actor {
            principal,
            request_id: request_id.clone(),
            client_addr: client_addr.clone(),
        }),
        request_id,
        client_addr,
        expires_at,
    })
}
