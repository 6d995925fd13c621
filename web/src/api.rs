//! The portal's data access. Every call is a GraphQL document executed against the same schema
//! the public `/graphql` endpoint serves (in-process on the server, so no extra hop), as the
//! signed-in user of the browser's session cookie.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An API error as forms show it: next to `field` when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormError {
    pub code: String,
    pub field: Option<String>,
    pub message: String,
}

impl FormError {
    /// The message for `field`, if the error is about it, worded for display next to that field
    /// (the API's messages start with the field's name: "password must …" → "Must …",
    /// "email is not …" → "This is not …").
    pub fn for_field(&self, field: &str) -> Option<String> {
        (self.field.as_deref() == Some(field)).then(|| {
            let text = self
                .message
                .strip_prefix(&format!("{field} "))
                .unwrap_or(&self.message);
            if let Some(rest) = text.strip_prefix("is ") {
                return format!("This is {rest}");
            }
            let mut chars = text.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        })
    }
}

/// What a form submission returns: the value, or an error to show in the form.
pub type FormResult<T> = Result<T, FormError>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub role: String,
    /// The marketplace operator's organization (clusters, fees, moderation).
    #[serde(default)]
    pub is_operator: bool,
}

/// Whether a member of an organization operates the platform: the operator organization's
/// owners, admins and developers (as the API decides).
pub fn operates(is_operator_org: bool, role: &str) -> bool {
    is_operator_org
        && matches!(
            role.to_ascii_lowercase().as_str(),
            "owner" | "admin" | "developer"
        )
}

/// The signed-in person and their organizations (for the top bar and the org switcher).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerSummary {
    pub display_name: String,
    pub email: String,
    pub organizations: Vec<OrgSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// Everything the organization page shows; lists the caller may not see are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgOverview {
    pub id: String,
    pub name: String,
    pub viewer_role: String,
    pub members: Vec<MemberRow>,
    pub invitations: Option<Vec<InvitationRow>>,
    pub tokens: Option<Vec<TokenRow>>,
}

#[cfg(feature = "ssr")]
mod server {
    use leptos::prelude::*;
    use serde::de::DeserializeOwned;

    use super::FormError;

    fn internal(message: impl Into<String>) -> FormError {
        FormError {
            code: "INTERNAL".into(),
            field: None,
            message: message.into(),
        }
    }

    /// Runs a GraphQL document as the browser's session user; errors keep their code and field.
    pub async fn execute<T: DeserializeOwned>(
        query: &str,
        variables: serde_json::Value,
    ) -> Result<T, FormError> {
        execute_detailed(query, variables).await.map_err(|(e, _)| e)
    }

    /// As [`execute`], keeping an error's `extensions.reasons` (why a schema is incompatible).
    pub async fn execute_detailed<T: DeserializeOwned>(
        query: &str,
        variables: serde_json::Value,
    ) -> Result<T, (FormError, Vec<String>)> {
        let schema = use_context::<tributary_api::ApiSchema>()
            .ok_or_else(|| (internal("the API schema is not available"), Vec::new()))?;
        let identity = use_context::<tributary_identity::Identity>()
            .ok_or_else(|| (internal("identity is not available"), Vec::new()))?;
        let headers = use_context::<http::request::Parts>()
            .map(|p| p.headers)
            .unwrap_or_default();
        let context = crate::session::request_context(&identity, &headers).await;
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables))
            .data(context);
        let response = schema.execute(request).await;
        if let Some(error) = response.errors.first() {
            let ext = |key: &str| {
                error
                    .extensions
                    .as_ref()
                    .and_then(|e| e.get(key))
                    .and_then(|v| v.clone().into_json().ok())
                    .and_then(|v| v.as_str().map(str::to_owned))
            };
            let reasons = error
                .extensions
                .as_ref()
                .and_then(|e| e.get("reasons"))
                .and_then(|v| v.clone().into_json().ok())
                .and_then(|v| serde_json::from_value::<Vec<String>>(v).ok())
                .unwrap_or_default();
            return Err((
                FormError {
                    code: ext("code").unwrap_or_else(|| "INTERNAL".into()),
                    field: ext("field"),
                    message: error.message.clone(),
                },
                reasons,
            ));
        }
        let data = response
            .data
            .into_json()
            .map_err(|e| (internal(e.to_string()), Vec::new()))?;
        serde_json::from_value(data).map_err(|e| {
            (
                internal(format!("unexpected API response: {e}")),
                Vec::new(),
            )
        })
    }

    /// Runs a mutation whose answer the portal only needs as success or a form error.
    pub async fn mutate(query: &str, variables: serde_json::Value) -> Result<(), FormError> {
        execute::<serde_json::Value>(query, variables)
            .await
            .map(|_| ())
    }

    /// Stores a new session in the browser's cookies.
    pub fn set_session(session: &tributary_identity::Session) {
        let https = use_context::<crate::session::PortalSession>().is_some_and(|p| p.https);
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            for value in crate::session::session_cookies(session, https) {
                if let Ok(v) = http::HeaderValue::from_str(&value) {
                    response.append_header(http::header::SET_COOKIE, v);
                }
            }
        }
    }

    pub fn clear_session() {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            for value in crate::session::clearing_cookies() {
                if let Ok(v) = http::HeaderValue::from_str(&value) {
                    response.append_header(http::header::SET_COOKIE, v);
                }
            }
        }
    }
}

/// The signed-in user, or `None` for visitors.
#[server]
pub async fn load_viewer() -> Result<Option<ViewerSummary>, ServerFnError> {
    #[derive(Deserialize)]
    struct Data {
        viewer: Viewer,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Viewer {
        user: Option<User>,
        organizations: Vec<Org>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct User {
        display_name: String,
        email: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Org {
        id: String,
        name: String,
        slug: String,
        viewer_role: String,
        is_operator: bool,
    }
    let result: Result<Data, FormError> = server::execute(
        "{ viewer { user { displayName email } organizations { id name slug viewerRole isOperator } } }",
        serde_json::json!({}),
    )
    .await;
    match result {
        Ok(data) => Ok(data.viewer.user.map(|user| ViewerSummary {
            display_name: user.display_name,
            email: user.email,
            organizations: data
                .viewer
                .organizations
                .into_iter()
                .map(|o| OrgSummary {
                    id: o.id,
                    name: o.name,
                    slug: o.slug,
                    role: o.viewer_role.to_lowercase(),
                    is_operator: o.is_operator,
                })
                .collect(),
        })),
        Err(e) if e.code == "UNAUTHENTICATED" => Ok(None),
        Err(e) => Err(ServerFnError::new(e.message)),
    }
}

/// Signs in and stores the session in HttpOnly cookies.
#[server]
pub async fn sign_in(email: String, password: String) -> Result<FormResult<()>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        sign_in: Session,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Session {
        access_token: String,
        access_token_expires_at: String,
        refresh_token: String,
        user_id: String,
    }
    let result: Result<Data, FormError> = server::execute(
        "mutation($email: String!, $password: String!) { signIn(email: $email, password: $password) { accessToken accessTokenExpiresAt refreshToken userId } }",
        serde_json::json!({ "email": email, "password": password }),
    )
    .await;
    if result.is_ok() {
        leptos_axum::redirect("/organization");
    }
    Ok(result.map(|data| {
        let expires = chrono::DateTime::parse_from_rfc3339(&data.sign_in.access_token_expires_at)
            .map(|t| t.timestamp())
            .unwrap_or_default();
        server::set_session(&tributary_identity::Session {
            user_id: data.sign_in.user_id.parse().unwrap_or_default(),
            access_token: data.sign_in.access_token,
            access_expires_at: expires,
            refresh_token: data.sign_in.refresh_token,
        });
    }))
}

/// Creates an account; the answer is the same whether or not the address had one.
#[server]
pub async fn sign_up(
    email: String,
    password: String,
    display_name: String,
    organization_name: String,
) -> Result<FormResult<String>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        sign_up: Message,
    }
    #[derive(Deserialize)]
    struct Message {
        message: String,
    }
    let result: Result<Data, FormError> = server::execute(
        "mutation($input: SignUpInput!) { signUp(input: $input) { message } }",
        serde_json::json!({ "input": { "email": email, "password": password, "displayName": display_name, "organizationName": organization_name } }),
    )
    .await;
    Ok(result.map(|d| d.sign_up.message))
}

/// Confirms an address with the mailed token and the password chosen at sign-up.
#[server]
pub async fn verify_email(
    token: String,
    password: String,
) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($t: String!, $p: String!) { verifyEmail(token: $t, password: $p) }",
        serde_json::json!({ "t": token, "p": password }),
    )
    .await)
}

/// Asks for a password reset link; the answer is the same whether or not the address has an
/// account.
#[server]
pub async fn request_password_reset(email: String) -> Result<FormResult<String>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        request_password_reset: Message,
    }
    #[derive(Deserialize)]
    struct Message {
        message: String,
    }
    let result: Result<Data, FormError> = server::execute(
        "mutation($e: String!) { requestPasswordReset(email: $e) { message } }",
        serde_json::json!({ "e": email }),
    )
    .await;
    Ok(result.map(|d| d.request_password_reset.message))
}

/// Sets a new password with the mailed token. Every session of the account ends, this
/// browser's included.
#[server]
pub async fn reset_password(
    token: String,
    password: String,
) -> Result<FormResult<()>, ServerFnError> {
    let result = server::mutate(
        "mutation($t: String!, $p: String!) { resetPassword(token: $t, password: $p) }",
        serde_json::json!({ "t": token, "p": password }),
    )
    .await;
    if result.is_ok() {
        server::clear_session();
    }
    Ok(result)
}

#[server]
pub async fn sign_out() -> Result<(), ServerFnError> {
    // Ending the session server-side may fail if it already ended; the cookies go either way.
    let _ = server::mutate("mutation { signOut }", serde_json::json!({})).await;
    server::clear_session();
    leptos_axum::redirect("/");
    Ok(())
}

/// Accepts an invitation for the signed-in user; returns the organization id.
#[server]
pub async fn accept_invitation(token: String) -> Result<FormResult<String>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        accept_invitation: Id,
    }
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let result: Result<Data, FormError> = server::execute(
        "mutation($t: String!) { acceptInvitation(token: $t) { id } }",
        serde_json::json!({ "t": token }),
    )
    .await;
    Ok(result.map(|d| d.accept_invitation.id))
}

#[server]
pub async fn load_organization(
    org_id: Option<String>,
) -> Result<FormResult<OrgOverview>, ServerFnError> {
    #[derive(Deserialize)]
    struct Data {
        organization: Org,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Org {
        id: String,
        name: String,
        viewer_role: String,
        members: Vec<Member>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Member {
        user_id: String,
        email: String,
        display_name: String,
        role: String,
    }
    #[derive(Deserialize)]
    struct Invitations {
        organization: InvitationList,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct InvitationList {
        invitations: Vec<Invitation>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Invitation {
        id: String,
        email: String,
        role: String,
        expires_at: String,
    }
    #[derive(Deserialize)]
    struct Tokens {
        organization: TokenList,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct TokenList {
        api_tokens: Vec<Token>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Token {
        id: String,
        name: String,
        prefix: String,
        scopes: Vec<String>,
        created_at: String,
        expires_at: Option<String>,
        revoked_at: Option<String>,
        last_used_at: Option<String>,
    }
    #[derive(Deserialize)]
    struct Mine {
        viewer: MyOrgs,
    }
    #[derive(Deserialize)]
    struct MyOrgs {
        organizations: Vec<IdOnly>,
    }
    #[derive(Deserialize)]
    struct IdOnly {
        id: String,
    }
    // Without an explicit organization, show the caller's first one.
    let org_id = match org_id.filter(|id| !id.is_empty()) {
        Some(id) => id,
        None => {
            let mine: Mine =
                match server::execute("{ viewer { organizations { id } } }", serde_json::json!({}))
                    .await
                {
                    Ok(mine) => mine,
                    Err(e) => return Ok(Err(e)),
                };
            match mine.viewer.organizations.into_iter().next() {
                Some(first) => first.id,
                None => {
                    return Ok(Err(FormError {
                        code: "NOT_FOUND".into(),
                        field: None,
                        message: "you do not belong to any organization".into(),
                    }));
                }
            }
        }
    };
    let vars = serde_json::json!({ "org": org_id });
    let org: Data = match server::execute(
        "query($org: UUID!) { organization(id: $org) { id name viewerRole members { userId email displayName role } } }",
        vars.clone(),
    )
    .await
    {
        Ok(org) => org,
        Err(e) => return Ok(Err(e)),
    };
    // Lists the role may not read come back FORBIDDEN: the page then does not show them.
    let invitations: Option<Invitations> = server::execute(
        "query($org: UUID!) { organization(id: $org) { invitations { id email role expiresAt } } }",
        vars.clone(),
    )
    .await
    .ok();
    let tokens: Option<Tokens> = server::execute(
        "query($org: UUID!) { organization(id: $org) { apiTokens { id name prefix scopes createdAt expiresAt revokedAt lastUsedAt } } }",
        vars,
    )
    .await
    .ok();
    let o = org.organization;
    Ok(Ok(OrgOverview {
        id: o.id,
        name: o.name,
        viewer_role: o.viewer_role.to_lowercase(),
        members: o
            .members
            .into_iter()
            .map(|m| MemberRow {
                user_id: m.user_id,
                email: m.email,
                display_name: m.display_name,
                role: m.role.to_lowercase(),
            })
            .collect(),
        invitations: invitations.map(|i| {
            i.organization
                .invitations
                .into_iter()
                .map(|i| InvitationRow {
                    id: i.id,
                    email: i.email,
                    role: i.role.to_lowercase(),
                    expires_at: i.expires_at,
                })
                .collect()
        }),
        tokens: tokens.map(|t| {
            t.organization
                .api_tokens
                .into_iter()
                .map(|t| TokenRow {
                    id: t.id,
                    name: t.name,
                    prefix: t.prefix,
                    scopes: t.scopes,
                    created_at: t.created_at,
                    expires_at: t.expires_at,
                    revoked_at: t.revoked_at,
                    last_used_at: t.last_used_at,
                })
                .collect()
        }),
    }))
}

#[server]
pub async fn invite_member(
    org_id: String,
    email: String,
    role: String,
) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($org: UUID!, $email: String!, $role: Role!) { inviteMember(organizationId: $org, email: $email, role: $role) { id } }",
        serde_json::json!({ "org": org_id, "email": email, "role": role.to_uppercase() }),
    )
    .await)
}

#[server]
pub async fn revoke_invitation(
    org_id: String,
    invitation_id: String,
) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($org: UUID!, $id: UUID!) { revokeInvitation(organizationId: $org, invitationId: $id) { id } }",
        serde_json::json!({ "org": org_id, "id": invitation_id }),
    )
    .await)
}

#[server]
pub async fn change_member_role(
    org_id: String,
    user_id: String,
    role: String,
) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($org: UUID!, $user: UUID!, $role: Role!) { changeMemberRole(organizationId: $org, userId: $user, role: $role) { role } }",
        serde_json::json!({ "org": org_id, "user": user_id, "role": role.to_uppercase() }),
    )
    .await)
}

#[server]
pub async fn remove_member(
    org_id: String,
    user_id: String,
) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($org: UUID!, $user: UUID!) { removeMember(organizationId: $org, userId: $user) }",
        serde_json::json!({ "org": org_id, "user": user_id }),
    )
    .await)
}

/// Creates an API token and returns its secret (shown once).
#[server]
pub async fn create_api_token(
    org_id: String,
    name: String,
    scope: String,
    expires_in_days: String,
) -> Result<FormResult<String>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        create_api_token: Created,
    }
    #[derive(Deserialize)]
    struct Created {
        secret: String,
    }
    let scopes = if scope == "write" {
        vec!["READ", "WRITE"]
    } else {
        vec!["READ"]
    };
    let days = match expires_in_days.trim() {
        "" | "never" => None,
        raw => match raw.parse::<i32>() {
            Ok(days) => Some(days),
            Err(_) => {
                return Ok(Err(FormError {
                    code: "VALIDATION".into(),
                    field: Some("expiresInDays".into()),
                    message: "expiresInDays must be a number of days".into(),
                }));
            }
        },
    };
    let result: Result<Data, FormError> = server::execute(
        "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }",
        serde_json::json!({ "input": { "organizationId": org_id, "name": name, "scopes": scopes, "expiresInDays": days } }),
    )
    .await;
    Ok(result.map(|d| d.create_api_token.secret))
}

#[server]
pub async fn revoke_api_token(
    org_id: String,
    token_id: String,
) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($org: UUID!, $token: UUID!) { revokeApiToken(organizationId: $org, tokenId: $token) { id } }",
        serde_json::json!({ "org": org_id, "token": token_id }),
    )
    .await)
}

/// One row of the audit log as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub occurred_at: String,
    pub action: String,
    pub target: String,
    pub actor: String,
    pub change: String,
}

/// A page of the audit log, newest first, with the cursor of the next (older) page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next: Option<String>,
}

/// The organization's audit log (owners and admins), `first` events after `after`.
#[server]
pub async fn load_audit_log(
    org_id: String,
    after: Option<String>,
) -> Result<FormResult<AuditPage>, ServerFnError> {
    #[derive(Deserialize)]
    struct Data {
        organization: Org,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Org {
        audit_log: Log,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Log {
        page_info: PageInfo,
        nodes: Vec<Event>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PageInfo {
        has_next_page: bool,
        end_cursor: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Event {
        id: i64,
        occurred_at: String,
        action: String,
        target_type: String,
        target_id: String,
        actor_user_id: Option<String>,
        actor_api_token_id: Option<String>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    }
    let result: Result<Data, FormError> = server::execute(
        "query($org: UUID!, $after: String) { organization(id: $org) { auditLog(first: 20, after: $after) {
            pageInfo { hasNextPage endCursor }
            nodes { id occurredAt action targetType targetId actorUserId actorApiTokenId before after } } } }",
        serde_json::json!({ "org": org_id, "after": after }),
    )
    .await;
    let short = |id: &str| id.chars().take(8).collect::<String>();
    Ok(result.map(|data| {
        let log = data.organization.audit_log;
        AuditPage {
            next: log
                .page_info
                .end_cursor
                .filter(|_| log.page_info.has_next_page),
            rows: log
                .nodes
                .into_iter()
                .map(|e| AuditRow {
                    id: e.id,
                    occurred_at: e
                        .occurred_at
                        .chars()
                        .take(19)
                        .collect::<String>()
                        .replace('T', " "),
                    action: e.action,
                    target: format!("{} {}", e.target_type, short(&e.target_id)),
                    actor: match (e.actor_user_id, e.actor_api_token_id) {
                        (Some(user), _) => format!("user {}", short(&user)),
                        (None, Some(token)) => format!("API token {}", short(&token)),
                        (None, None) => "system".to_owned(),
                    },
                    change: match (e.before, e.after) {
                        (Some(b), Some(a)) => format!("{b} → {a}"),
                        (None, Some(a)) => a.to_string(),
                        (Some(b), None) => format!("{b} → removed"),
                        (None, None) => String::new(),
                    },
                })
                .collect(),
        }
    }))
}

// ------------------------------------------------------------------------------------ streams

/// What the catalog page searches for; everything lives in the URL. Every field may be absent
/// (server functions send form encoding, which writes no key for an empty list).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogParams {
    pub q: String,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    pub providers: Vec<String>,
    pub schema_types: Vec<String>,
    pub pricing_models: Vec<String>,
    /// `free`, `paid` or empty.
    pub price: String,
    /// `relevance`, `newest` or `name`.
    pub sort: String,
    pub after: Option<String>,
}

/// A stream in a list (catalog results, my streams).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamListing {
    pub id: String,
    pub provider_slug: String,
    pub provider: String,
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub category: String,
    pub tags: Vec<String>,
    pub status: String,
    pub topic: String,
    pub value_schema_type: Option<String>,
    pub pricing_models: Vec<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetOption {
    pub value: String,
    pub label: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetGroup {
    pub name: String,
    pub values: Vec<FacetOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogResults {
    /// Streams matching the search and filters.
    pub total_count: i64,
    /// Streams in the whole catalog (as the caller sees it).
    pub catalog_total: i64,
    pub streams: Vec<StreamListing>,
    pub facets: Vec<FacetGroup>,
    pub next: Option<String>,
}

#[cfg(feature = "ssr")]
mod wire {
    use serde::Deserialize;

    pub const LISTING_FIELDS: &str = "id slug name summary category tags status topic valueSchemaType pricingModels updatedAt provider { slug name }";

    #[derive(Deserialize)]
    pub struct Named {
        pub slug: String,
        pub name: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Listing {
        pub id: String,
        pub slug: String,
        pub name: String,
        pub summary: String,
        pub category: String,
        pub tags: Vec<String>,
        pub status: String,
        pub topic: String,
        pub value_schema_type: Option<String>,
        pub pricing_models: Vec<String>,
        pub updated_at: String,
        pub provider: Named,
    }

    impl From<Listing> for super::StreamListing {
        fn from(l: Listing) -> Self {
            Self {
                id: l.id,
                provider_slug: l.provider.slug,
                provider: l.provider.name,
                slug: l.slug,
                name: l.name,
                summary: l.summary,
                category: l.category,
                tags: l.tags,
                status: l.status.to_lowercase(),
                topic: l.topic,
                value_schema_type: l.value_schema_type,
                pricing_models: l.pricing_models,
                updated_at: l
                    .updated_at
                    .chars()
                    .take(16)
                    .collect::<String>()
                    .replace('T', " "),
            }
        }
    }
}

/// One page of catalog search results with facet counts.
#[server]
pub async fn search_catalog(
    params: CatalogParams,
) -> Result<FormResult<CatalogResults>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        catalog_search: Conn,
        all: Total,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Total {
        total_count: i64,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Conn {
        total_count: i64,
        facets: Vec<Facet>,
        page_info: PageInfo,
        edges: Vec<Edge>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PageInfo {
        has_next_page: bool,
        end_cursor: Option<String>,
    }
    #[derive(Deserialize)]
    struct Edge {
        node: wire::Listing,
    }
    #[derive(Deserialize)]
    struct Facet {
        name: String,
        values: Vec<Value>,
    }
    #[derive(Deserialize)]
    struct Value {
        value: String,
        label: String,
        count: i64,
    }
    let q = params.q.trim();
    let sort = match params.sort.as_str() {
        "newest" => "NEWEST",
        "name" => "NAME",
        _ => "RELEVANCE",
    };
    let free = match params.price.as_str() {
        "free" => Some(true),
        "paid" => Some(false),
        _ => None,
    };
    let filter = serde_json::json!({
        "categories": params.categories,
        "tags": params.tags,
        "providers": params.providers,
        "schemaTypes": params.schema_types.iter().map(|t| t.to_uppercase()).collect::<Vec<_>>(),
        "pricingModels": params.pricing_models,
        "free": free,
    });
    let document = format!(
        "query($q: String, $filter: CatalogFilter, $sort: CatalogSort!, $after: String) {{
            catalogSearch(query: $q, filter: $filter, sort: $sort, first: 20, after: $after) {{
                totalCount facets {{ name values {{ value label count }} }}
                pageInfo {{ hasNextPage endCursor }}
                edges {{ node {{ {} }} }}
            }}
            all: catalogSearch(first: 0) {{ totalCount }}
        }}",
        wire::LISTING_FIELDS
    );
    let result: Result<Data, FormError> = server::execute(
        &document,
        serde_json::json!({
            "q": (!q.is_empty()).then_some(q),
            "filter": filter,
            "sort": sort,
            "after": params.after.filter(|a| !a.is_empty()),
        }),
    )
    .await;
    Ok(result.map(|d| {
        let c = d.catalog_search;
        CatalogResults {
            total_count: c.total_count,
            catalog_total: d.all.total_count,
            streams: c.edges.into_iter().map(|e| e.node.into()).collect(),
            facets: c
                .facets
                .into_iter()
                .map(|f| FacetGroup {
                    name: f.name,
                    values: f
                        .values
                        .into_iter()
                        .map(|v| FacetOption {
                            value: v.value,
                            label: v.label,
                            count: v.count,
                        })
                        .collect(),
                })
                .collect(),
            next: c.page_info.end_cursor.filter(|_| c.page_info.has_next_page),
        }
    }))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaVersionView {
    pub version: i32,
    pub id: i32,
    pub schema_type: String,
    pub subject: String,
    pub pretty: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanView {
    pub id: String,
    pub name: String,
    pub pricing_model: String,
    pub currency: String,
    pub flat_fee_minor: i64,
    pub unit_price_minor: i64,
    pub usage_metric: String,
    pub included_units: i64,
    pub trial_days: i32,
    pub approval_required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractView {
    pub compatibility: String,
    pub retention_ms: Option<i64>,
    pub replay_window_hours: Option<i32>,
    pub freshness_slo_seconds: Option<i32>,
    pub throughput_slo_per_sec: Option<i32>,
    /// (path, classification)
    pub field_classifications: Vec<(String, String)>,
    pub terms: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamDetail {
    pub listing: StreamListing,
    pub description_html: String,
    pub visibility: String,
    pub deprecation_message: String,
    pub partitions: Option<i32>,
    pub cleanup_policy: Option<String>,
    pub topic_mode: Option<String>,
    pub contract: ContractView,
    pub key_versions: Vec<SchemaVersionView>,
    pub value_versions: Vec<SchemaVersionView>,
    pub plans: Vec<PlanView>,
    /// Owners and admins of the provider may deprecate and retire it.
    pub can_manage: bool,
}

/// The stream page's data, by the provider's slug and the stream's slug.
#[server]
pub async fn load_stream(
    provider: String,
    slug: String,
) -> Result<FormResult<StreamDetail>, ServerFnError> {
    #[derive(Deserialize)]
    struct Data {
        stream: Detail,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Detail {
        #[serde(flatten)]
        listing: wire::Listing,
        provider_id: IdOnly,
        description_html: String,
        visibility: String,
        deprecation_message: String,
        topic_info: Topic,
        contract: Contract,
        key_versions: Vec<Version>,
        value_versions: Vec<Version>,
        plans: Vec<Plan>,
    }
    #[derive(Deserialize)]
    struct IdOnly {
        id: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Topic {
        mode: Option<String>,
        partitions: Option<i32>,
        cleanup_policy: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Contract {
        compatibility: String,
        retention_ms: Option<i64>,
        replay_window_hours: Option<i32>,
        freshness_slo_seconds: Option<i32>,
        throughput_slo_per_sec: Option<i32>,
        field_classifications: Vec<Class>,
        terms: String,
    }
    #[derive(Deserialize)]
    struct Class {
        path: String,
        classification: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Version {
        version: i32,
        id: i32,
        schema_type: String,
        subject: String,
        pretty: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Plan {
        id: String,
        name: String,
        pricing_model: String,
        currency: String,
        flat_fee_minor: i64,
        unit_price_minor: i64,
        usage_metric: String,
        included_units: i64,
        trial_days: i32,
        approval_required: bool,
    }
    #[derive(Deserialize)]
    struct Mine {
        viewer: MyOrgs,
    }
    #[derive(Deserialize)]
    struct MyOrgs {
        organizations: Vec<MyOrg>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct MyOrg {
        id: String,
        viewer_role: String,
    }
    let document = format!(
        "query($p: String!, $s: String!) {{ stream(providerSlug: $p, slug: $s) {{
            {} providerId: provider {{ id }} descriptionHtml visibility deprecationMessage
            topicInfo {{ mode partitions cleanupPolicy }}
            contract {{ compatibility retentionMs replayWindowHours freshnessSloSeconds throughputSloPerSec fieldClassifications {{ path classification }} terms }}
            keyVersions: schemaVersions(role: KEY) {{ version id schemaType subject pretty }}
            valueVersions: schemaVersions(role: VALUE) {{ version id schemaType subject pretty }}
            plans {{ id name pricingModel currency flatFeeMinor unitPriceMinor usageMetric includedUnits trialDays approvalRequired }}
        }} }}",
        wire::LISTING_FIELDS
    );
    let data: Data =
        match server::execute(&document, serde_json::json!({ "p": provider, "s": slug })).await {
            Ok(data) => data,
            Err(e) => return Ok(Err(e)),
        };
    let mine: Option<Mine> = server::execute(
        "{ viewer { organizations { id viewerRole } } }",
        serde_json::json!({}),
    )
    .await
    .ok();
    let s = data.stream;
    let provider_id = s.provider_id.id;
    let can_manage = mine.is_some_and(|m| {
        m.viewer.organizations.iter().any(|o| {
            o.id == provider_id
                && matches!(o.viewer_role.to_lowercase().as_str(), "owner" | "admin")
        })
    });
    let versions = |list: Vec<Version>| {
        list.into_iter()
            .map(|v| SchemaVersionView {
                version: v.version,
                id: v.id,
                schema_type: v.schema_type,
                subject: v.subject,
                pretty: v.pretty,
            })
            .collect::<Vec<_>>()
    };
    Ok(Ok(StreamDetail {
        listing: s.listing.into(),
        description_html: s.description_html,
        visibility: s.visibility.to_lowercase(),
        deprecation_message: s.deprecation_message,
        partitions: s.topic_info.partitions,
        cleanup_policy: s.topic_info.cleanup_policy,
        topic_mode: s.topic_info.mode,
        contract: ContractView {
            compatibility: s.contract.compatibility,
            retention_ms: s.contract.retention_ms,
            replay_window_hours: s.contract.replay_window_hours,
            freshness_slo_seconds: s.contract.freshness_slo_seconds,
            throughput_slo_per_sec: s.contract.throughput_slo_per_sec,
            field_classifications: s
                .contract
                .field_classifications
                .into_iter()
                .map(|c| (c.path, c.classification))
                .collect(),
            terms: s.contract.terms,
        },
        key_versions: versions(s.key_versions),
        value_versions: versions(s.value_versions),
        plans: s
            .plans
            .into_iter()
            .map(|p| PlanView {
                id: p.id,
                name: p.name,
                pricing_model: p.pricing_model,
                currency: p.currency,
                flat_fee_minor: p.flat_fee_minor,
                unit_price_minor: p.unit_price_minor,
                usage_metric: p.usage_metric,
                included_units: p.included_units,
                trial_days: p.trial_days,
                approval_required: p.approval_required,
            })
            .collect(),
        can_manage,
    }))
}

/// The unified diff between two versions of a stream's key or value schema.
#[server]
pub async fn load_schema_diff(
    stream_id: String,
    key: bool,
    from: i32,
    to: i32,
) -> Result<FormResult<String>, ServerFnError> {
    #[derive(Deserialize)]
    struct Data {
        stream: Diffed,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Diffed {
        schema_diff: Diff,
    }
    #[derive(Deserialize)]
    struct Diff {
        unified: String,
    }
    let result: Result<Data, FormError> = server::execute(
        "query($id: UUID!, $role: SchemaRole!, $from: Int!, $to: Int!) { stream(id: $id) { schemaDiff(role: $role, fromVersion: $from, toVersion: $to) { unified } } }",
        serde_json::json!({ "id": stream_id, "role": if key { "KEY" } else { "VALUE" }, "from": from, "to": to }),
    )
    .await;
    Ok(result.map(|d| d.stream.schema_diff.unified))
}

/// A recent message of a stream, decoded (PII already redacted by the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRow {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: String,
    pub key: String,
    pub value: String,
}

#[server]
pub async fn load_samples(stream_id: String) -> Result<FormResult<Vec<SampleRow>>, ServerFnError> {
    #[derive(Deserialize)]
    struct Data {
        stream: Sampled,
    }
    #[derive(Deserialize)]
    struct Sampled {
        samples: Vec<Sample>,
    }
    #[derive(Deserialize)]
    struct Sample {
        partition: i32,
        offset: i64,
        timestamp: Option<String>,
        key: Option<serde_json::Value>,
        value: Option<serde_json::Value>,
        #[serde(rename = "keyError")]
        key_error: Option<String>,
        #[serde(rename = "valueError")]
        value_error: Option<String>,
    }
    let result: Result<Data, FormError> = server::execute(
        "query($id: UUID!) { stream(id: $id) { samples(limit: 10) { partition offset timestamp key value keyError valueError } } }",
        serde_json::json!({ "id": stream_id }),
    )
    .await;
    // What could not be decoded says so (and is withheld when PII is classified).
    let text = |v: Option<serde_json::Value>, error: Option<String>| match (v, error) {
        (Some(v), _) => v.to_string(),
        (None, Some(error)) => format!("({error})"),
        (None, None) => String::new(),
    };
    Ok(result.map(|d| {
        d.stream
            .samples
            .into_iter()
            .map(|s| SampleRow {
                partition: s.partition,
                offset: s.offset,
                timestamp: s
                    .timestamp
                    .map(|t| t.chars().take(19).collect::<String>().replace('T', " "))
                    .unwrap_or_default(),
                key: text(s.key, s.key_error),
                value: text(s.value, s.value_error),
            })
            .collect()
    }))
}

#[server]
pub async fn deprecate_stream(
    stream_id: String,
    message: String,
) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($id: UUID!, $m: String!) { deprecateStream(id: $id, message: $m) { id } }",
        serde_json::json!({ "id": stream_id, "m": message }),
    )
    .await)
}

#[server]
pub async fn retire_stream(stream_id: String) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($id: UUID!) { retireStream(id: $id) { id } }",
        serde_json::json!({ "id": stream_id }),
    )
    .await)
}

/// An organization's streams (drafts included) for the "My streams" page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgStreams {
    pub org_id: String,
    pub org_name: String,
    pub role: String,
    pub streams: Vec<StreamListing>,
}

/// The organization `org_id`, or the caller's first one.
#[cfg(feature = "ssr")]
async fn current_org(org_id: Option<String>) -> Result<(String, String, String), FormError> {
    #[derive(Deserialize)]
    struct Mine {
        viewer: MyOrgs,
    }
    #[derive(Deserialize)]
    struct MyOrgs {
        organizations: Vec<MyOrg>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct MyOrg {
        id: String,
        name: String,
        viewer_role: String,
    }
    let mine: Mine = server::execute(
        "{ viewer { organizations { id name viewerRole } } }",
        serde_json::json!({}),
    )
    .await?;
    let wanted = org_id.filter(|id| !id.is_empty());
    mine.viewer
        .organizations
        .into_iter()
        .find(|o| wanted.as_ref().is_none_or(|w| *w == o.id))
        .map(|o| (o.id, o.name, o.viewer_role.to_lowercase()))
        .ok_or_else(|| FormError {
            code: "NOT_FOUND".into(),
            field: None,
            message: "you do not belong to this organization".into(),
        })
}

#[server]
pub async fn load_org_streams(
    org_id: Option<String>,
) -> Result<FormResult<OrgStreams>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        organization_streams: Vec<wire::Listing>,
    }
    let (org_id, org_name, role) = match current_org(org_id).await {
        Ok(org) => org,
        Err(e) => return Ok(Err(e)),
    };
    let result: Result<Data, FormError> = server::execute(
        &format!(
            "query($org: UUID!) {{ organizationStreams(organizationId: $org) {{ {} }} }}",
            wire::LISTING_FIELDS
        ),
        serde_json::json!({ "org": org_id }),
    )
    .await;
    Ok(result.map(|d| OrgStreams {
        org_id,
        org_name,
        role,
        streams: d.organization_streams.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterOption {
    pub id: String,
    pub name: String,
    pub region: String,
}

/// What the publish wizard offers: the organization, clusters and categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WizardOptions {
    pub org_id: String,
    pub org_name: String,
    pub clusters: Vec<ClusterOption>,
    pub categories: Vec<String>,
}

#[server]
pub async fn load_wizard_options(
    org_id: Option<String>,
) -> Result<FormResult<WizardOptions>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        clusters: Vec<ClusterOption>,
        stream_categories: Vec<String>,
    }
    let (org_id, org_name, _) = match current_org(org_id).await {
        Ok(org) => org,
        Err(e) => return Ok(Err(e)),
    };
    let result: Result<Data, FormError> = server::execute(
        "{ clusters { id name region } streamCategories }",
        serde_json::json!({}),
    )
    .await;
    Ok(result.map(|d| WizardOptions {
        org_id,
        org_name,
        clusters: d.clusters,
        categories: d.stream_categories,
    }))
}

/// A draft the wizard created: its id and where its page lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedStream {
    pub id: String,
    pub slug: String,
    pub provider_slug: String,
}

#[cfg(feature = "ssr")]
fn validation(field: &str, message: &str) -> FormError {
    FormError {
        code: "VALIDATION".into(),
        field: Some(field.into()),
        message: format!("{field} {message}"),
    }
}

/// Parses a whole number a form sent; `None` when empty.
#[cfg(feature = "ssr")]
fn form_int<T: std::str::FromStr>(raw: &str, field: &str) -> Result<Option<T>, FormError> {
    match raw.trim() {
        "" => Ok(None),
        raw => raw
            .parse()
            .map(Some)
            .map_err(|_| validation(field, "must be a whole number")),
    }
}

/// Digits after the decimal point of a currency's minor unit.
pub fn currency_decimals(currency: &str) -> u32 {
    match currency.to_lowercase().as_str() {
        "jpy" | "krw" | "clp" | "isk" | "vnd" => 0,
        "bhd" | "kwd" | "omr" | "jod" | "tnd" => 3,
        _ => 2,
    }
}

/// "12.5" in a 2-decimal currency → 1250 minor units, with integer arithmetic only.
pub fn parse_minor_units(raw: &str, decimals: u32) -> Option<i64> {
    let raw = raw.trim();
    let (whole, fraction) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !fraction.chars().all(|c| c.is_ascii_digit())
        || fraction.len() > decimals as usize
    {
        return None;
    }
    let scale = 10i64.checked_pow(decimals)?;
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let padded = format!("{fraction:0<width$}", width = decimals as usize);
    let fraction: i64 = if padded.is_empty() {
        0
    } else {
        padded.parse().ok()?
    };
    whole.checked_mul(scale)?.checked_add(fraction)
}

/// 1250 minor units of EUR → "€12.50"; integer division and remainder only.
pub fn format_money(minor: i64, currency: &str) -> String {
    let decimals = currency_decimals(currency);
    let scale = 10i64.pow(decimals);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let whole = abs / scale as u64;
    let fraction = abs % scale as u64;
    let mut grouped = String::new();
    for (i, c) in whole.to_string().chars().enumerate() {
        let left = whole.to_string().len() - i;
        if i > 0 && left.is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let amount = if decimals == 0 {
        grouped
    } else {
        format!("{grouped}.{fraction:0width$}", width = decimals as usize)
    };
    match currency.to_lowercase().as_str() {
        "usd" => format!("{sign}${amount}"),
        "eur" => format!("{sign}€{amount}"),
        "gbp" => format!("{sign}£{amount}"),
        "jpy" => format!("{sign}¥{amount}"),
        other => format!("{sign}{amount} {}", other.to_uppercase()),
    }
}

#[server]
#[allow(clippy::too_many_arguments)]
pub async fn create_stream(
    org_id: String,
    cluster_id: String,
    name: String,
    topic: String,
    summary: String,
    category: String,
    tags: String,
    visibility: String,
    description: String,
) -> Result<FormResult<CreatedStream>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        create_stream: Created,
    }
    #[derive(Deserialize)]
    struct Created {
        id: String,
        slug: String,
        provider: wire::Named,
    }
    if cluster_id.is_empty() {
        return Ok(Err(validation("clusterId", "must be chosen")));
    }
    let tags: Vec<String> = tags
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let result: Result<Data, FormError> = server::execute(
        "mutation($input: CreateStreamInput!) { createStream(input: $input) { id slug provider { slug name } } }",
        serde_json::json!({ "input": {
            "organizationId": org_id,
            "clusterId": cluster_id,
            "name": name,
            "topic": topic,
            "summary": summary,
            "category": (!category.is_empty()).then_some(category),
            "tags": tags,
            "visibility": visibility.to_uppercase(),
            "descriptionMarkdown": description,
        } }),
    )
    .await;
    Ok(result.map(|d| CreatedStream {
        id: d.create_stream.id,
        slug: d.create_stream.slug,
        provider_slug: d.create_stream.provider.slug,
    }))
}

/// Creates (or adopts) the stream's topic; retention in hours (-1 keeps data forever).
#[server]
pub async fn provision_topic(
    stream_id: String,
    mode: String,
    partitions: String,
    retention_hours: String,
    cleanup_policy: String,
) -> Result<FormResult<()>, ServerFnError> {
    let partitions: Option<i32> = match form_int(&partitions, "partitions") {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let retention_ms: Option<i64> = match form_int::<i64>(&retention_hours, "retentionMs") {
        Ok(Some(-1)) => Some(-1),
        Ok(Some(h)) if h > 0 => h.checked_mul(3_600_000),
        Ok(Some(_)) => {
            return Ok(Err(validation(
                "retentionMs",
                "must be positive hours, or -1 for forever",
            )));
        }
        Ok(None) => None,
        Err(e) => return Ok(Err(e)),
    };
    let mut input =
        serde_json::json!({ "adopt": mode == "adopt", "cleanupPolicy": cleanup_policy });
    if let Some(p) = partitions {
        input["partitions"] = p.into();
    }
    if let Some(r) = retention_ms {
        input["retentionMs"] = r.into();
    }
    Ok(server::mutate(
        "mutation($id: UUID!, $input: ProvisionTopicInput!) { provisionStreamTopic(id: $id, input: $input) { id } }",
        serde_json::json!({ "id": stream_id, "input": input }),
    )
    .await)
}

/// The outcome of checking or registering a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaOutcome {
    pub ok: bool,
    /// The schema is a registered version now (not only checked).
    pub registered: bool,
    /// "Registered as version 2", "Compatible", …
    pub message: String,
    /// Why it is incompatible, or where it does not parse.
    pub reasons: Vec<String>,
}

/// What the schema step reports: the value schema's outcome and, when a key schema was given,
/// the key schema's (each with its own error, shown next to its own text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaStepOutcome {
    pub value: FormResult<SchemaOutcome>,
    /// `None`: no key schema was given (it is optional), so none was checked or registered.
    pub key: Option<FormResult<SchemaOutcome>>,
}

/// Checks (`register` false) or registers the value schema and, when one is given, the key
/// schema. Incompatibility is an outcome, not an error, so the form can list the reasons.
#[server]
pub async fn submit_schema(
    stream_id: String,
    schema_type: String,
    schema: String,
    key_schema_type: String,
    key_schema: String,
    register: bool,
) -> Result<SchemaStepOutcome, ServerFnError> {
    let value = submit_one_schema(&stream_id, "VALUE", &schema_type, &schema, register).await;
    let key = if key_schema.trim().is_empty() {
        None
    } else {
        Some(submit_one_schema(&stream_id, "KEY", &key_schema_type, &key_schema, register).await)
    };
    Ok(SchemaStepOutcome { value, key })
}

/// Checks or registers one schema of the stream; `role` is `KEY` or `VALUE`.
#[cfg(feature = "ssr")]
async fn submit_one_schema(
    stream_id: &str,
    role: &str,
    schema_type: &str,
    schema: &str,
    register: bool,
) -> FormResult<SchemaOutcome> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Registered {
        register_stream_schema: Payload,
    }
    #[derive(Deserialize)]
    struct Payload {
        schema: Version,
        created: bool,
    }
    #[derive(Deserialize)]
    struct Version {
        version: i32,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Checked {
        check_stream_schema: Check,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Check {
        is_compatible: bool,
        messages: Vec<String>,
    }
    let input = serde_json::json!({ "input": {
        "streamId": stream_id, "role": role, "schemaType": schema_type.to_uppercase(), "schema": schema,
    } });
    let incompatible = |e: FormError, reasons: Vec<String>| {
        if e.code == "INCOMPATIBLE_SCHEMA" {
            Ok(SchemaOutcome {
                ok: false,
                registered: false,
                message: "Incompatible with the registered versions".into(),
                reasons: if reasons.is_empty() {
                    vec![e.message]
                } else {
                    reasons
                },
            })
        } else {
            Err(e)
        }
    };
    if register {
        let result = server::execute_detailed::<Registered>(
            "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { schema { version } created } }",
            input,
        )
        .await;
        match result {
            Ok(d) => Ok(SchemaOutcome {
                ok: true,
                registered: true,
                message: if d.register_stream_schema.created {
                    format!(
                        "Registered as version {}",
                        d.register_stream_schema.schema.version
                    )
                } else {
                    format!(
                        "Already registered as version {}",
                        d.register_stream_schema.schema.version
                    )
                },
                reasons: Vec::new(),
            }),
            Err((e, reasons)) => incompatible(e, reasons),
        }
    } else {
        let result = server::execute_detailed::<Checked>(
            "mutation($input: RegisterSchemaInput!) { checkStreamSchema(input: $input) { isCompatible messages } }",
            input,
        )
        .await;
        match result {
            Ok(d) if d.check_stream_schema.is_compatible => Ok(SchemaOutcome {
                ok: true,
                registered: false,
                message: "Compatible: this schema can be registered".into(),
                reasons: d.check_stream_schema.messages,
            }),
            Ok(d) => Ok(SchemaOutcome {
                ok: false,
                registered: false,
                message: "Incompatible with the registered versions".into(),
                reasons: d.check_stream_schema.messages,
            }),
            Err((e, reasons)) => incompatible(e, reasons),
        }
    }
}

#[server]
pub async fn set_contract(
    stream_id: String,
    compatibility: String,
    freshness_slo_seconds: String,
    throughput_slo_per_sec: String,
    replay_window_hours: String,
    pii_fields: String,
    terms: String,
) -> Result<FormResult<()>, ServerFnError> {
    let ints = (
        form_int::<i32>(&freshness_slo_seconds, "freshnessSloSeconds"),
        form_int::<i32>(&throughput_slo_per_sec, "throughputSloPerSec"),
        form_int::<i32>(&replay_window_hours, "replayWindowHours"),
    );
    let (freshness, throughput, replay) = match ints {
        (Ok(f), Ok(t), Ok(r)) => (f, t, r),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Ok(Err(e)),
    };
    let classes: Vec<serde_json::Value> = pii_fields
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| serde_json::json!({ "path": p, "classification": "pii" }))
        .collect();
    Ok(server::mutate(
        "mutation($id: UUID!, $input: ContractInput!) { setStreamContract(id: $id, input: $input) { id } }",
        serde_json::json!({ "id": stream_id, "input": {
            "compatibility": compatibility,
            "freshnessSloSeconds": freshness,
            "throughputSloPerSec": throughput,
            "replayWindowHours": replay,
            "fieldClassifications": classes,
            "terms": terms,
        } }),
    )
    .await)
}

/// Adds a plan; `price` is in major units ("12.50") and becomes integer minor units.
#[server]
pub async fn add_plan(
    stream_id: String,
    name: String,
    pricing_model: String,
    price: String,
    currency: String,
) -> Result<FormResult<String>, ServerFnError> {
    let currency = currency.trim().to_lowercase();
    let minor = if pricing_model == "free" {
        0
    } else {
        match parse_minor_units(&price, currency_decimals(&currency)) {
            Some(minor) if minor > 0 => minor,
            _ => {
                return Ok(Err(validation(
                    "price",
                    &format!(
                        "must be a positive amount with at most {} decimals",
                        currency_decimals(&currency)
                    ),
                )));
            }
        }
    };
    let (flat, unit) = match pricing_model.as_str() {
        "flat" => (minor, 0),
        "usage" => (0, minor),
        _ => (0, 0),
    };
    let result = server::mutate(
        "mutation($input: PlanInput!) { createPlan(input: $input) { id } }",
        serde_json::json!({ "input": {
            "streamId": stream_id, "name": name, "pricingModel": pricing_model, "currency": currency,
            "flatFeeMinor": flat, "unitPriceMinor": unit,
        } }),
    )
    .await;
    Ok(result.map(|_| name))
}

/// Publishes the draft and sends the browser to its page.
#[server]
pub async fn publish_stream(
    stream_id: String,
    provider_slug: String,
    slug: String,
) -> Result<FormResult<()>, ServerFnError> {
    let result = server::mutate(
        "mutation($id: UUID!) { publishStream(id: $id) { id } }",
        serde_json::json!({ "id": stream_id }),
    )
    .await;
    if result.is_ok() {
        leptos_axum::redirect(&format!("/streams/{provider_slug}/{slug}"));
    }
    Ok(result)
}

// ----------------------------------------------------------------------------------- operator

/// A cluster's latest health check as the operator page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthView {
    /// `unknown`, `healthy` or `unhealthy`.
    pub status: String,
    pub message: String,
    /// "2026-11-27 11:20:05 UTC", when it was checked.
    pub checked_at: Option<String>,
    /// "3 minutes ago", relative to when the server answered.
    pub checked_ago: Option<String>,
    pub latency_ms: Option<i32>,
    pub broker_count: Option<i32>,
}

/// A registered Kafka cluster (its SASL password is never readable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    pub id: String,
    pub name: String,
    pub region: String,
    pub bootstrap_servers: String,
    pub security_protocol: String,
    pub sasl_username: String,
    pub has_ca_bundle: bool,
    /// `None`: the embedded registry.
    pub schema_registry_url: Option<String>,
    /// The external registry's user, if it is called with credentials.
    pub schema_registry_username: Option<String>,
    pub health: HealthView,
}

/// How long ago something happened, in words: "just now", "1 minute ago", "3 hours ago".
pub fn time_ago(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match seconds.max(0) {
        s if s < 10 => "just now".to_owned(),
        s if s < 60 => plural(s, "second"),
        s if s < 3_600 => plural(s / 60, "minute"),
        s if s < 86_400 => plural(s / 3_600, "hour"),
        s => plural(s / 86_400, "day"),
    }
}

#[cfg(feature = "ssr")]
mod cluster_wire {
    use serde::Deserialize;

    /// A form field as `ClusterInput` takes it: trimmed, or left out when empty.
    pub fn non_empty(s: String) -> Option<String> {
        let trimmed = s.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    /// The `ClusterInput` the register and edit forms send. Secrets are sent as typed, and left
    /// out when empty (on an edit that keeps the stored ones); `ca_pem` as the caller decided.
    #[allow(clippy::too_many_arguments)]
    pub fn input(
        name: String,
        region: String,
        bootstrap_servers: String,
        security_protocol: String,
        sasl_username: String,
        sasl_password: String,
        ca_pem: Option<String>,
        schema_registry_url: String,
        schema_registry_username: String,
        schema_registry_password: String,
    ) -> serde_json::Value {
        let secret = |s: String| (!s.is_empty()).then_some(s);
        serde_json::json!({
            "name": name,
            "region": region,
            "bootstrapServers": bootstrap_servers,
            "securityProtocol": security_protocol,
            "saslUsername": sasl_username,
            "saslPassword": secret(sasl_password),
            "caPem": ca_pem,
            "schemaRegistryUrl": non_empty(schema_registry_url),
            "schemaRegistryUsername": non_empty(schema_registry_username),
            "schemaRegistryPassword": secret(schema_registry_password),
        })
    }

    pub const CLUSTER_FIELDS: &str = "id name region bootstrapServers securityProtocol saslUsername hasCaBundle schemaRegistryUrl schemaRegistryUsername health { status message checkedAt latencyMs brokerCount }";

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Health {
        pub status: String,
        pub message: String,
        pub checked_at: Option<String>,
        pub latency_ms: Option<i32>,
        pub broker_count: Option<i32>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Cluster {
        pub id: String,
        pub name: String,
        pub region: String,
        pub bootstrap_servers: String,
        pub security_protocol: String,
        pub sasl_username: String,
        pub has_ca_bundle: bool,
        pub schema_registry_url: Option<String>,
        pub schema_registry_username: Option<String>,
        pub health: Health,
    }

    impl From<Health> for super::HealthView {
        fn from(h: Health) -> Self {
            let checked = h
                .checked_at
                .as_deref()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            Self {
                status: h.status.to_lowercase(),
                message: h.message,
                checked_at: checked.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
                checked_ago: checked
                    .map(|t| super::time_ago((chrono::Utc::now() - t).num_seconds())),
                latency_ms: h.latency_ms,
                broker_count: h.broker_count,
            }
        }
    }

    impl From<Cluster> for super::ClusterView {
        fn from(c: Cluster) -> Self {
            Self {
                id: c.id,
                name: c.name,
                region: c.region,
                bootstrap_servers: c.bootstrap_servers,
                security_protocol: c.security_protocol,
                sasl_username: c.sasl_username,
                has_ca_bundle: c.has_ca_bundle,
                schema_registry_url: c.schema_registry_url.filter(|u| !u.is_empty()),
                schema_registry_username: c.schema_registry_username,
                health: c.health.into(),
            }
        }
    }
}

/// Every registered cluster with its latest health check — for members of the operator's
/// organization only (others get `FORBIDDEN`, so the page can explain).
#[server]
pub async fn load_clusters() -> Result<FormResult<Vec<ClusterView>>, ServerFnError> {
    #[derive(Deserialize)]
    struct Mine {
        viewer: MyOrgs,
    }
    #[derive(Deserialize)]
    struct MyOrgs {
        user: Option<serde_json::Value>,
        organizations: Vec<MyOrg>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct MyOrg {
        is_operator: bool,
        viewer_role: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        managed_clusters: Vec<cluster_wire::Cluster>,
    }
    let mine: Mine = match server::execute(
        "{ viewer { user { email } organizations { isOperator viewerRole } } }",
        serde_json::json!({}),
    )
    .await
    {
        Ok(mine) => mine,
        Err(e) => return Ok(Err(e)),
    };
    if mine.viewer.user.is_none() {
        return Ok(Err(FormError {
            code: "UNAUTHENTICATED".into(),
            field: None,
            message: "sign in first".into(),
        }));
    }
    if !mine
        .viewer
        .organizations
        .iter()
        .any(|o| operates(o.is_operator, &o.viewer_role))
    {
        return Ok(Err(FormError {
            code: "FORBIDDEN".into(),
            field: None,
            message: "Only the marketplace operator manages clusters".into(),
        }));
    }
    let result: Result<Data, FormError> = server::execute(
        &format!(
            "{{ managedClusters {{ {} }} }}",
            cluster_wire::CLUSTER_FIELDS
        ),
        serde_json::json!({}),
    )
    .await;
    Ok(result.map(|d| d.managed_clusters.into_iter().map(Into::into).collect()))
}

/// Registers a cluster (operator); returns its name. The CA bundle is sent only for SASL_SSL.
#[server]
#[allow(clippy::too_many_arguments)]
pub async fn register_cluster(
    name: String,
    region: String,
    bootstrap_servers: String,
    security_protocol: String,
    sasl_username: String,
    sasl_password: String,
    ca_pem: String,
    schema_registry_url: String,
    schema_registry_username: String,
    schema_registry_password: String,
) -> Result<FormResult<String>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        register_cluster: Named,
    }
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    let ca_pem = cluster_wire::non_empty(ca_pem).filter(|_| security_protocol == "SASL_SSL");
    let input = cluster_wire::input(
        name,
        region,
        bootstrap_servers,
        security_protocol,
        sasl_username,
        sasl_password,
        ca_pem,
        schema_registry_url,
        schema_registry_username,
        schema_registry_password,
    );
    let result: Result<Data, FormError> = server::execute(
        "mutation($input: ClusterInput!) { registerCluster(input: $input) { name } }",
        serde_json::json!({ "input": input }),
    )
    .await;
    Ok(result.map(|d| d.register_cluster.name))
}

/// Changes a cluster (operator) and sends the browser back to the list with a status message.
/// Empty password fields and an empty CA bundle keep what is stored (they are left out of
/// `updateCluster`); `remove_ca_bundle` removes the stored bundle.
#[server]
#[allow(clippy::too_many_arguments)]
pub async fn update_cluster(
    cluster_id: String,
    name: String,
    region: String,
    bootstrap_servers: String,
    security_protocol: String,
    sasl_username: String,
    sasl_password: String,
    remove_ca_bundle: Option<String>,
    ca_pem: String,
    schema_registry_url: String,
    schema_registry_username: String,
    schema_registry_password: String,
) -> Result<FormResult<()>, ServerFnError> {
    let ca_pem = match (remove_ca_bundle, cluster_wire::non_empty(ca_pem)) {
        (Some(_), _) => Some(String::new()),
        (None, pasted) => pasted,
    };
    let input = cluster_wire::input(
        name,
        region,
        bootstrap_servers,
        security_protocol,
        sasl_username,
        sasl_password,
        ca_pem,
        schema_registry_url,
        schema_registry_username,
        schema_registry_password,
    );
    let result = server::mutate(
        "mutation($id: UUID!, $input: ClusterInput!) { updateCluster(id: $id, input: $input) { id } }",
        serde_json::json!({ "id": cluster_id, "input": input }),
    )
    .await;
    if result.is_ok() {
        // The list without the form, saying what was saved (also without JavaScript).
        leptos_axum::redirect(&format!("/operator/clusters?updated={cluster_id}"));
    }
    Ok(result)
}

/// Connects to the cluster now (operator) and returns the recorded outcome.
#[server]
pub async fn check_cluster_health(
    cluster_id: String,
) -> Result<FormResult<HealthView>, ServerFnError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        check_cluster_health: Checked,
    }
    #[derive(Deserialize)]
    struct Checked {
        health: cluster_wire::Health,
    }
    let result: Result<Data, FormError> = server::execute(
        "mutation($id: UUID!) { checkClusterHealth(id: $id) { health { status message checkedAt latencyMs brokerCount } } }",
        serde_json::json!({ "id": cluster_id }),
    )
    .await;
    Ok(result.map(|d| d.check_cluster_health.health.into()))
}

/// Removes a cluster (operator); `CONFLICT` while streams live on it.
#[server]
pub async fn delete_cluster(cluster_id: String) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($id: UUID!) { deleteCluster(id: $id) }",
        serde_json::json!({ "id": cluster_id }),
    )
    .await)
}

#[cfg(test)]
mod operator_tests {
    use super::time_ago;

    #[test]
    fn time_ago_reads_as_words() {
        assert_eq!(time_ago(-5), "just now");
        assert_eq!(time_ago(3), "just now");
        assert_eq!(time_ago(42), "42 seconds ago");
        assert_eq!(time_ago(60), "1 minute ago");
        assert_eq!(time_ago(7_300), "2 hours ago");
        assert_eq!(time_ago(86_400 * 3), "3 days ago");
    }
}
