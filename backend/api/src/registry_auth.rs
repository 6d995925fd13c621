//! Credentials for the schema registry (`/registry`): what Confluent clients send
//! (`basic.auth.user.info=<anything>:<org API token>`) and what the rest of the API accepts
//! (`Bearer <access JWT | org API token>`), resolved to a registry [`Caller`].

use std::{future::Future, pin::Pin};

use axum::http::{HeaderMap, header::AUTHORIZATION};
use base64::Engine as _;
use tributary_identity::{Actor, ApiTokenSecret, Identity, IdentityError, Principal, Role, Scope};
use tributary_registry::{AuthFailure, Caller, RegistryAuth};
use uuid::Uuid;

/// The organization a signed-in person acts for when they belong to several.
pub const ORG_HEADER: &str = "x-tributary-org";

/// Resolves registry callers through the identity service.
#[derive(Clone)]
pub struct ApiRegistryAuth {
    identity: Identity,
}

impl ApiRegistryAuth {
    pub fn new(identity: Identity) -> Self {
        Self { identity }
    }

    async fn resolve(&self, headers: &HeaderMap) -> Result<Caller, AuthFailure> {
        let value = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                unauthenticated("send credentials: Basic <user>:<API token> or Bearer <token>")
            })?;
        let credential = if let Some(bearer) = value.strip_prefix("Bearer ") {
            bearer.trim().to_owned()
        } else if let Some(basic) = value.strip_prefix("Basic ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(basic.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| unauthenticated("malformed Basic credentials"))?;
            let (user, password) = decoded.split_once(':').unwrap_or(("", decoded.as_str()));
            // Confluent clients put the secret in the password; accept it in the user too.
            if password.starts_with(ApiTokenSecret::MARKER) {
                password
            } else {
                user
            }
            .to_owned()
        } else {
            return Err(unauthenticated(
                "the Authorization scheme must be Basic or Bearer",
            ));
        };
        if credential.is_empty() {
            return Err(unauthenticated("empty credentials"));
        }
        if credential.starts_with(ApiTokenSecret::MARKER) {
            let principal = self
                .identity
                .authenticate_api_token(&credential)
                .await
                .map_err(failure)?;
            let Principal::ApiToken { org_id, scopes, .. } = principal else {
                return Err(unauthenticated("not an API token"));
            };
            let write = scopes.contains(&Scope::Write);
            let org = self.identity.organization(org_id).await.map_err(failure)?;
            return Ok(if org.is_operator && write {
                Caller::Operator
            } else {
                Caller::Org { org_id, write }
            });
        }
        let claims = self
            .identity
            .jwt()
            .verify(&credential)
            .map_err(|_| unauthenticated("the access token is invalid or expired"))?;
        if !self
            .identity
            .session_active(claims.sid)
            .await
            .map_err(failure)?
        {
            return Err(unauthenticated("the session has ended; sign in again"));
        }
        let actor = Actor {
            principal: Principal::User {
                id: claims.sub,
                session: claims.sid,
            },
            request_id: None,
            client_addr: None,
        };
        let memberships = self
            .identity
            .my_organizations(&actor)
            .await
            .map_err(failure)?;
        // Operator staff who may change things act as the operator; operator viewers and billing
        // members do not get write access to every subject.
        if memberships
            .iter()
            .any(|(org, role)| org.is_operator && role.can_operate())
        {
            return Ok(Caller::Operator);
        }
        let chosen = match headers.get(ORG_HEADER).and_then(|v| v.to_str().ok()) {
            Some(raw) => {
                let org_id: Uuid = raw
                    .trim()
                    .parse()
                    .map_err(|_| unauthenticated("X-Tributary-Org must be an organization id"))?;
                memberships
                    .into_iter()
                    .find(|(org, _)| org.id == org_id)
                    .ok_or_else(|| {
                        unauthenticated(
                            "you are not a member of the organization in X-Tributary-Org",
                        )
                    })?
            }
            None => {
                let mut memberships = memberships;
                if memberships.len() != 1 {
                    return Err(unauthenticated(
                        "you belong to several organizations (or none): name one in X-Tributary-Org",
                    ));
                }
                memberships.remove(0)
            }
        };
        let (org, role) = chosen;
        Ok(Caller::Org {
            org_id: org.id,
            write: matches!(role, Role::Owner | Role::Admin | Role::Developer),
        })
    }
}

fn unauthenticated(message: &str) -> AuthFailure {
    AuthFailure::Unauthenticated(message.to_owned())
}

fn failure(e: IdentityError) -> AuthFailure {
    match e {
        IdentityError::Database(cause) => AuthFailure::Unavailable(cause.to_string()),
        IdentityError::Internal(cause) => AuthFailure::Unavailable(cause),
        other => AuthFailure::Unauthenticated(other.to_string()),
    }
}

impl RegistryAuth for ApiRegistryAuth {
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
    ) -> Pin<Box<dyn Future<Output = Result<Caller, AuthFailure>> + Send + 'a>> {
        Box::pin(self.resolve(headers))
    }
}

/// Keeps streams in step with versions registered through the REST API.
pub struct CatalogHooks {
    catalog: tributary_catalog::Catalog,
}

impl CatalogHooks {
    pub fn new(catalog: tributary_catalog::Catalog) -> Self {
        Self { catalog }
    }
}

impl tributary_registry::RegistryHooks for CatalogHooks {
    fn version_registered<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        subject: &'a str,
        version: i32,
    ) -> Pin<Box<dyn Future<Output = Result<(), tributary_registry::RegistryError>> + Send + 'a>>
    {
        Box::pin(async move {
            self.catalog
                .schema_registered_via_registry(conn, subject, version)
                .await
                .map_err(|e| match e {
                    tributary_catalog::CatalogError::Database(e) => {
                        tributary_registry::RegistryError::Database(e)
                    }
                    other => tributary_registry::RegistryError::Conflict(other.to_string()),
                })
        })
    }

    fn governing_stream<'a>(
        &'a self,
        conn: &'a mut sqlx::PgConnection,
        subject: &'a str,
    ) -> Pin<
        Box<
            dyn Future<Output = Result<Option<String>, tributary_registry::RegistryError>>
                + Send
                + 'a,
        >,
    > {
        Box::pin(async move {
            self.catalog
                .stream_governing_subject(conn, subject)
                .await
                .map_err(|e| match e {
                    tributary_catalog::CatalogError::Database(e) => {
                        tributary_registry::RegistryError::Database(e)
                    }
                    other => tributary_registry::RegistryError::Conflict(other.to_string()),
                })
        })
    }
}
