//! The portal's data access. Every call is a GraphQL document executed against the same schema
//! the public `/graphql` endpoint serves (in-process on the server, so no extra hop), as the
//! signed-in user of the browser's session cookie.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of the catalog as the portal shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamCard {
    pub slug: String,
    pub name: String,
    pub summary: String,
    pub topic: String,
    pub status: String,
    pub provider: String,
}

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
        let schema = use_context::<tributary_api::ApiSchema>()
            .ok_or_else(|| internal("the API schema is not available"))?;
        let identity = use_context::<tributary_identity::Identity>()
            .ok_or_else(|| internal("identity is not available"))?;
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
            return Err(FormError {
                code: ext("code").unwrap_or_else(|| "INTERNAL".into()),
                field: ext("field"),
                message: error.message.clone(),
            });
        }
        let data = response
            .data
            .into_json()
            .map_err(|e| internal(e.to_string()))?;
        serde_json::from_value(data).map_err(|e| internal(format!("unexpected API response: {e}")))
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

/// The newest published streams of the catalog.
#[server]
pub async fn catalog_streams() -> Result<Vec<StreamCard>, ServerFnError> {
    #[derive(Deserialize)]
    struct Data {
        catalog: Conn,
    }
    #[derive(Deserialize)]
    struct Conn {
        edges: Vec<EdgeNode>,
    }
    #[derive(Deserialize)]
    struct EdgeNode {
        node: Node,
    }
    #[derive(Deserialize)]
    struct Node {
        slug: String,
        name: String,
        summary: String,
        topic: String,
        status: String,
        provider: Named,
    }
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    let data: Data = server::execute(
        "query PortalCatalog { catalog(first: 100) { edges { node { slug name summary topic status provider { name } } } } }",
        serde_json::json!({}),
    )
    .await
    .map_err(|e| ServerFnError::new(e.message))?;
    Ok(data
        .catalog
        .edges
        .into_iter()
        .map(|e| StreamCard {
            slug: e.node.slug,
            name: e.node.name,
            summary: e.node.summary,
            topic: e.node.topic,
            status: e.node.status,
            provider: e.node.provider.name,
        })
        .collect())
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
    }
    let result: Result<Data, FormError> = server::execute(
        "{ viewer { user { displayName email } organizations { id name slug viewerRole } } }",
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

#[server]
pub async fn verify_email(token: String) -> Result<FormResult<()>, ServerFnError> {
    Ok(server::mutate(
        "mutation($t: String!) { verifyEmail(token: $t) }",
        serde_json::json!({ "t": token }),
    )
    .await)
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
