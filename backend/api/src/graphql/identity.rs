//! Accounts, organizations, members, invitations, API tokens and the audit log.

use std::collections::HashMap;

use async_graphql::{
    Context, Enum, InputObject, Object, SimpleObject,
    connection::{Connection, CursorType, Edge, EmptyFields, OpaqueCursor},
    dataloader::{DataLoader, Loader},
};
use chrono::{DateTime, TimeZone, Utc};
use tributary_identity::{Identity, Role, Scope};
use uuid::Uuid;

use crate::{ApiError, auth::RequestContext, rate_limit};

fn request<'a>(ctx: &'a Context<'_>) -> &'a RequestContext {
    static ANONYMOUS: std::sync::OnceLock<RequestContext> = std::sync::OnceLock::new();
    ctx.data_opt::<RequestContext>()
        .unwrap_or_else(|| ANONYMOUS.get_or_init(RequestContext::default))
}

fn identity<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Identity> {
    ctx.data::<Identity>()
}

fn pool<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a sqlx::PgPool> {
    ctx.data::<sqlx::PgPool>()
}

/// A member's role.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(name = "Role")]
pub enum RoleValue {
    Owner,
    Admin,
    Developer,
    Billing,
    Viewer,
}

impl From<RoleValue> for Role {
    fn from(v: RoleValue) -> Self {
        match v {
            RoleValue::Owner => Role::Owner,
            RoleValue::Admin => Role::Admin,
            RoleValue::Developer => Role::Developer,
            RoleValue::Billing => Role::Billing,
            RoleValue::Viewer => Role::Viewer,
        }
    }
}

impl From<Role> for RoleValue {
    fn from(v: Role) -> Self {
        match v {
            Role::Owner => RoleValue::Owner,
            Role::Admin => RoleValue::Admin,
            Role::Developer => RoleValue::Developer,
            Role::Billing => RoleValue::Billing,
            Role::Viewer => RoleValue::Viewer,
        }
    }
}

fn role_value(raw: &str) -> RoleValue {
    raw.parse::<Role>()
        .map(RoleValue::from)
        .unwrap_or(RoleValue::Viewer)
}

/// What an API token may do.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum TokenScope {
    Read,
    Write,
}

#[derive(SimpleObject)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<tributary_identity::User> for User {
    fn from(u: tributary_identity::User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            email_verified: u.email_verified_at.is_some(),
            created_at: u.created_at,
        }
    }
}

/// A loader of one kind of per-organization list, batched over every organization in a
/// response (one query instead of one per organization).
macro_rules! org_list_loader {
    ($name:ident, $item:ty, $fetch:ident) => {
        pub struct $name {
            pub identity: Identity,
        }

        impl Loader<Uuid> for $name {
            type Value = Vec<$item>;
            type Error = async_graphql::Error;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                let rows = self.identity.$fetch(keys).await.map_err(ApiError::from)?;
                let mut by_org: HashMap<Uuid, Self::Value> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for (org, item) in rows {
                    by_org.entry(org).or_default().push(item);
                }
                Ok(by_org)
            }
        }
    };
}

org_list_loader!(MembersLoader, tributary_identity::Member, members_by_org);
org_list_loader!(
    InvitationsLoader,
    tributary_identity::Invitation,
    invitations_by_org
);
org_list_loader!(
    ApiTokensLoader,
    tributary_identity::ApiToken,
    api_tokens_by_org
);

/// An organization as one of its members (or an API token of it) sees it.
pub struct Organization {
    inner: tributary_identity::Organization,
    viewer_role: Role,
    /// What the caller may manage here (people only, by role).
    manages_members: bool,
    manages_api_tokens: bool,
}

impl Organization {
    fn new(
        inner: tributary_identity::Organization,
        viewer_role: Role,
        viewer: &tributary_identity::Actor,
    ) -> Self {
        Self {
            inner,
            viewer_role,
            manages_members: viewer.can_manage_members(viewer_role),
            manages_api_tokens: viewer.can_manage_api_tokens(viewer_role),
        }
    }
}

#[Object]
impl Organization {
    async fn id(&self) -> Uuid {
        self.inner.id
    }
    async fn slug(&self) -> &str {
        &self.inner.slug
    }
    async fn name(&self) -> &str {
        &self.inner.name
    }
    async fn is_operator(&self) -> bool {
        self.inner.is_operator
    }
    /// The caller's role here.
    async fn viewer_role(&self) -> RoleValue {
        self.viewer_role.into()
    }
    /// Every member (any role may see who else belongs).
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Member>> {
        // This object exists only for organizations the caller belongs to, so membership is
        // already proven; the loader batches the lists of every organization in the response.
        let loader = ctx.data::<DataLoader<MembersLoader>>()?;
        let members = loader.load_one(self.inner.id).await?.unwrap_or_default();
        Ok(members.into_iter().map(Member::from).collect())
    }
    /// Open invitations (owners and admins; never API tokens).
    async fn invitations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Invitation>> {
        if !self.manages_members {
            return Err(ApiError::Forbidden.into());
        }
        let loader = ctx.data::<DataLoader<InvitationsLoader>>()?;
        let list = loader.load_one(self.inner.id).await?.unwrap_or_default();
        Ok(list.into_iter().map(Invitation::from).collect())
    }
    /// API tokens, never their secrets (owners, admins and developers; never API tokens).
    async fn api_tokens(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiToken>> {
        if !self.manages_api_tokens {
            return Err(ApiError::Forbidden.into());
        }
        let loader = ctx.data::<DataLoader<ApiTokensLoader>>()?;
        let list = loader.load_one(self.inner.id).await?.unwrap_or_default();
        Ok(list.into_iter().map(ApiToken::from).collect())
    }
    /// The organization's audit log, newest first (owners and admins; Relay pagination).
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AuditConnection> {
        audit_page(ctx, Some(self.inner.id), first, after).await
    }
}

#[derive(SimpleObject)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: RoleValue,
    pub joined_at: DateTime<Utc>,
}

impl From<tributary_identity::Member> for Member {
    fn from(m: tributary_identity::Member) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            display_name: m.display_name,
            role: role_value(&m.role),
            joined_at: m.created_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct Invitation {
    pub id: Uuid,
    pub email: String,
    pub role: RoleValue,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<tributary_identity::Invitation> for Invitation {
    fn from(i: tributary_identity::Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            role: role_value(&i.role),
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    /// The public part (`trb_<prefix>_…`), to recognise a token without revealing it.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<tributary_identity::ApiToken> for ApiToken {
    fn from(t: tributary_identity::ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            scopes: t.scopes,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(SimpleObject)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_token_id: Option<Uuid>,
    pub organization_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<async_graphql::Json<serde_json::Value>>,
    pub after: Option<async_graphql::Json<serde_json::Value>>,
    pub request_id: Option<String>,
    pub client_address: Option<String>,
}

impl From<tributary_identity::AuditEvent> for AuditEvent {
    fn from(e: tributary_identity::AuditEvent) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            actor_user_id: e.actor_user_id,
            actor_api_token_id: e.actor_api_token_id,
            organization_id: e.org_id,
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            before: e.before.map(async_graphql::Json),
            after: e.after.map(async_graphql::Json),
            request_id: e.request_id,
            client_address: e.client_addr,
        }
    }
}

/// A page of audit events; the cursor is the position in the (append-only) log.
pub type AuditConnection = Connection<OpaqueCursor<i64>, AuditEvent, EmptyFields, EmptyFields>;

async fn audit_page(
    ctx: &Context<'_>,
    org: Option<Uuid>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<AuditConnection> {
    let actor = request(ctx).require_actor()?;
    let first = first.unwrap_or(50);
    if !(1..=200).contains(&first) {
        return Err(ApiError::validation("first", "must be between 1 and 200").into());
    }
    let before_id = after
        .map(|c| {
            <OpaqueCursor<i64> as CursorType>::decode_cursor(&c)
                .map(|c| c.0)
                .map_err(|_| ApiError::validation("after", "is not a cursor returned by this API"))
        })
        .transpose()?;
    // One extra row tells whether another page follows.
    let mut events = identity(ctx)?
        .audit_log(actor, org, i64::from(first) + 1, before_id)
        .await
        .map_err(ApiError::from)?;
    let has_next = events.len() > first as usize;
    events.truncate(first as usize);
    let mut connection = Connection::new(before_id.is_some(), has_next);
    connection.edges.extend(
        events
            .into_iter()
            .map(|e| Edge::new(OpaqueCursor(e.id), AuditEvent::from(e))),
    );
    Ok(connection)
}

/// The signed-in caller. Fields load only when asked for.
pub struct Viewer {
    actor: tributary_identity::Actor,
}

#[Object]
impl Viewer {
    /// The person; `null` when the caller is an API token.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        match self.actor.user_id() {
            Some(id) => Ok(Some(
                identity(ctx)?
                    .user(id)
                    .await
                    .map_err(ApiError::from)?
                    .into(),
            )),
            None => Ok(None),
        }
    }

    /// The organizations the caller belongs to, with the caller's role in each.
    async fn organizations(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Organization>> {
        Ok(identity(ctx)?
            .my_organizations(&self.actor)
            .await
            .map_err(ApiError::from)?
            .into_iter()
            .map(|(inner, viewer_role)| Organization::new(inner, viewer_role, &self.actor))
            .collect())
    }
}

#[derive(Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The caller and the organizations it belongs to.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let actor = request(ctx).require_actor()?.clone();
        Ok(Viewer { actor })
    }

    /// One organization the caller belongs to; others are `NOT_FOUND`.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        id: Uuid,
    ) -> async_graphql::Result<Organization> {
        let actor = request(ctx).require_actor()?;
        let identity = identity(ctx)?;
        let mut conn = pool(ctx)?.acquire().await.map_err(ApiError::from)?;
        let viewer_role = identity
            .role_in(&mut conn, actor, id)
            .await
            .map_err(ApiError::from)?;
        let inner = identity.organization(id).await.map_err(ApiError::from)?;
        Ok(Organization::new(inner, viewer_role, actor))
    }

    /// Every organization's audit events, newest first (operator only; Relay pagination).
    async fn platform_audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<AuditConnection> {
        audit_page(ctx, None, first, after).await
    }
}

#[derive(InputObject)]
pub struct SignUpInput {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub organization_name: String,
}

#[derive(SimpleObject)]
pub struct SignUpPayload {
    /// Always the same, whether or not the address already had an account.
    pub message: String,
}

/// An answer that is only a message to show.
#[derive(SimpleObject)]
pub struct MessagePayload {
    /// The same whatever the outcome, where that could reveal whether an account exists.
    pub message: String,
}

#[derive(SimpleObject)]
pub struct SessionPayload {
    pub access_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    /// Shown only here; exchange it with `refreshSession` before the access token expires.
    pub refresh_token: String,
    pub user_id: Uuid,
}

impl From<tributary_identity::Session> for SessionPayload {
    fn from(s: tributary_identity::Session) -> Self {
        Self {
            access_token: s.access_token,
            access_token_expires_at: Utc
                .timestamp_opt(s.access_expires_at, 0)
                .single()
                .unwrap_or_else(Utc::now),
            refresh_token: s.refresh_token,
            user_id: s.user_id,
        }
    }
}

#[derive(InputObject)]
pub struct CreateApiTokenInput {
    pub organization_id: Uuid,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    /// 1–365 days; omit for a token that does not expire.
    pub expires_in_days: Option<i32>,
}

#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    pub token: ApiToken,
    /// The full token. Shown once: it is stored only as a hash.
    pub secret: String,
}

/// Counts a hit against `limit` for the caller's address (and account, when given).
async fn limit(
    ctx: &Context<'_>,
    limit: rate_limit::Limit,
    account: Option<&str>,
) -> async_graphql::Result<()> {
    let address = request(ctx)
        .client_addr
        .as_deref()
        .map_or_else(|| "unknown".to_owned(), rate_limit::address_bucket);
    let key = match account {
        Some(account) => format!("{address}:{account}"),
        None => address.to_owned(),
    };
    rate_limit::hit(pool(ctx)?, limit, &key).await?;
    Ok(())
}

#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Creates an account and its first organization; a verification link is mailed.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        input: SignUpInput,
    ) -> async_graphql::Result<SignUpPayload> {
        let req = request(ctx);
        limit(ctx, rate_limit::SIGN_UP_PER_ADDRESS, None).await?;
        identity(ctx)?
            .sign_up(
                &req.audit(),
                &input.email,
                &input.password,
                &input.display_name,
                &input.organization_name,
            )
            .await
            .map_err(ApiError::from)?;
        Ok(SignUpPayload {
            message: "Check your inbox: we sent a link to confirm your email address.".into(),
        })
    }

    /// Confirms an email address with the token from the mailed link and the password chosen
    /// at that sign-up (holding the mailbox alone does not activate someone else's sign-up).
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> async_graphql::Result<bool> {
        let req = request(ctx);
        limit(ctx, rate_limit::TOKENS_PER_ADDRESS, None).await?;
        identity(ctx)?
            .verify_email(&req.audit(), &token, &password)
            .await
            .map_err(ApiError::from)?;
        Ok(true)
    }

    /// Mails a single-use link (valid 30 minutes) to choose a new password. The answer is the
    /// same whether or not the address has an account.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> async_graphql::Result<MessagePayload> {
        let req = request(ctx);
        limit(ctx, rate_limit::PASSWORD_RESET_PER_ADDRESS, None).await?;
        limit(
            ctx,
            rate_limit::PASSWORD_RESET_PER_ACCOUNT,
            Some(&email.trim().to_lowercase()),
        )
        .await?;
        identity(ctx)?
            .request_password_reset(&req.audit(), &email)
            .await
            .map_err(ApiError::from)?;
        Ok(MessagePayload {
            message: "If an account uses this address, we sent it a link to choose a new password."
                .into(),
        })
    }

    /// Sets a new password with the token from a reset mail; every session of the account ends.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> async_graphql::Result<bool> {
        let req = request(ctx);
        limit(ctx, rate_limit::PASSWORD_RESET_PER_ADDRESS, None).await?;
        identity(ctx)?
            .reset_password(&req.audit(), &token, &password)
            .await
            .map_err(ApiError::from)?;
        Ok(true)
    }

    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> async_graphql::Result<SessionPayload> {
        let req = request(ctx);
        limit(ctx, rate_limit::SIGN_IN_PER_ADDRESS, None).await?;
        limit(
            ctx,
            rate_limit::SIGN_IN_PER_ACCOUNT,
            Some(&email.trim().to_lowercase()),
        )
        .await?;
        let session = identity(ctx)?
            .sign_in(&req.audit(), &email, &password)
            .await
            .map_err(ApiError::from)?;
        Ok(session.into())
    }

    /// Rotates a refresh token into a new session pair; a reused token ends the session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        refresh_token: String,
    ) -> async_graphql::Result<SessionPayload> {
        limit(ctx, rate_limit::TOKENS_PER_ADDRESS, None).await?;
        Ok(identity(ctx)?
            .refresh(&refresh_token)
            .await
            .map_err(ApiError::from)?
            .into())
    }

    /// Ends the caller's session (its refresh and access tokens stop working).
    async fn sign_out(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let actor = request(ctx).require_actor()?;
        identity(ctx)?
            .sign_out(actor)
            .await
            .map_err(ApiError::from)?;
        Ok(true)
    }

    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        name: String,
    ) -> async_graphql::Result<Organization> {
        let actor = request(ctx).require_actor()?;
        let inner = identity(ctx)?
            .create_organization(actor, &name)
            .await
            .map_err(ApiError::from)?;
        Ok(Organization::new(inner, Role::Owner, actor))
    }

    /// Mails an invitation link (owners and admins; only owners invite owners).
    async fn invite_member(
        &self,
        ctx: &Context<'_>,
        organization_id: Uuid,
        email: String,
        role: RoleValue,
    ) -> async_graphql::Result<Invitation> {
        let actor = request(ctx).require_actor()?;
        let invitation = identity(ctx)?
            .invite(actor, organization_id, &email, role.into())
            .await
            .map_err(ApiError::from)?;
        Ok(invitation.into())
    }

    /// Revokes an open invitation; its link stops working (owners and admins).
    async fn revoke_invitation(
        &self,
        ctx: &Context<'_>,
        organization_id: Uuid,
        invitation_id: Uuid,
    ) -> async_graphql::Result<Invitation> {
        let actor = request(ctx).require_actor()?;
        let invitation = identity(ctx)?
            .revoke_invitation(actor, organization_id, invitation_id)
            .await
            .map_err(ApiError::from)?;
        Ok(invitation.into())
    }

    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> async_graphql::Result<Organization> {
        let req = request(ctx);
        limit(ctx, rate_limit::TOKENS_PER_ADDRESS, None).await?;
        let actor = req.require_actor()?;
        let identity = identity(ctx)?;
        let inner = identity
            .accept_invitation(actor, &token)
            .await
            .map_err(ApiError::from)?;
        let mut conn = pool(ctx)?.acquire().await.map_err(ApiError::from)?;
        let viewer_role = identity
            .role_in(&mut conn, actor, inner.id)
            .await
            .map_err(ApiError::from)?;
        Ok(Organization::new(inner, viewer_role, actor))
    }

    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        organization_id: Uuid,
        user_id: Uuid,
        role: RoleValue,
    ) -> async_graphql::Result<Member> {
        let actor = request(ctx).require_actor()?;
        let member = identity(ctx)?
            .change_role(actor, organization_id, user_id, role.into())
            .await
            .map_err(ApiError::from)?;
        Ok(member.into())
    }

    /// Removes a member; any member may remove themself.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        organization_id: Uuid,
        user_id: Uuid,
    ) -> async_graphql::Result<bool> {
        let actor = request(ctx).require_actor()?;
        identity(ctx)?
            .remove_member(actor, organization_id, user_id)
            .await
            .map_err(ApiError::from)?;
        Ok(true)
    }

    /// Creates an org API token and reveals it once (owners, admins and developers; never an
    /// API token, whatever its scope).
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        input: CreateApiTokenInput,
    ) -> async_graphql::Result<CreateApiTokenPayload> {
        let req = request(ctx);
        limit(ctx, rate_limit::TOKENS_PER_ADDRESS, None).await?;
        let actor = req.require_actor()?;
        let scopes: Vec<Scope> = input
            .scopes
            .iter()
            .map(|s| match s {
                TokenScope::Read => Scope::Read,
                TokenScope::Write => Scope::Write,
            })
            .collect();
        let (token, secret) = identity(ctx)?
            .create_api_token(
                actor,
                input.organization_id,
                &input.name,
                &scopes,
                input.expires_in_days,
            )
            .await
            .map_err(ApiError::from)?;
        Ok(CreateApiTokenPayload {
            token: token.into(),
            secret,
        })
    }

    /// Revokes an org API token (owners, admins and developers; never an API token).
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        organization_id: Uuid,
        token_id: Uuid,
    ) -> async_graphql::Result<ApiToken> {
        let actor = request(ctx).require_actor()?;
        let token = identity(ctx)?
            .revoke_api_token(actor, organization_id, token_id)
            .await
            .map_err(ApiError::from)?;
        Ok(token.into())
    }
}

/// How often a live audit subscription looks for new events.
const AUDIT_POLL: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Default)]
pub struct IdentitySubscription;

#[async_graphql::Subscription]
impl IdentitySubscription {
    /// New audit events of an organization as they are written (owners and admins).
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        organization_id: Uuid,
    ) -> async_graphql::Result<impl futures::Stream<Item = AuditEvent> + use<>> {
        let actor = request(ctx).require_actor()?.clone();
        let identity = identity(ctx)?.clone();
        // Authorizes once up front (and learns where the log ends now).
        let newest = identity
            .audit_log(&actor, Some(organization_id), 1, None)
            .await
            .map_err(ApiError::from)?
            .first()
            .map_or(0, |e| e.id);
        let state = (
            identity,
            actor,
            newest,
            std::collections::VecDeque::<AuditEvent>::new(),
        );
        Ok(futures::stream::unfold(
            state,
            move |(identity, actor, mut last, mut pending)| async move {
                loop {
                    if let Some(event) = pending.pop_front() {
                        return Some((event, (identity, actor, last, pending)));
                    }
                    tokio::time::sleep(AUDIT_POLL).await;
                    // Re-checks the caller's role on every poll: a removed admin stops receiving.
                    let newer = identity
                        .audit_log(&actor, Some(organization_id), 200, None)
                        .await
                        .ok()?;
                    let mut fresh: Vec<_> = newer.into_iter().filter(|e| e.id > last).collect();
                    fresh.sort_by_key(|e| e.id);
                    if let Some(max) = fresh.last() {
                        last = max.id;
                    }
                    pending.extend(fresh.into_iter().map(AuditEvent::from));
                }
            },
        ))
    }
}
