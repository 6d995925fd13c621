//! Identity operations. Each mutation runs in one transaction together with its audit event and
//! its outbox rows (mail), and checks the caller's role in the organization it touches.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use tributary_db::{
    audit::{self, AuditActor, AuditEntry},
    outbox,
    rate_limit::{self, Limit},
};
use uuid::Uuid;

use crate::{
    ApiTokenSecret, Email, IdentityError, JwtConfig, Password, Role, Scope, hash_password,
    hash_secret, new_secret, password::dummy_hash, verify_password,
};

/// How long email verification and invitation links stay valid.
pub const LINK_TTL_HOURS: i64 = 72;

/// How long a password reset link stays valid.
pub const RESET_TTL_MINUTES: i64 = 30;

/// Mail that anonymous requests (sign-up, password reset) may cause to one recipient address.
/// Counted whether or not the address has an account, so the limit reveals nothing.
pub const MAIL_PER_RECIPIENT: Limit = Limit {
    name: "mail-recipient",
    max: 5,
    window_secs: 3600,
};
/// Invitations one person (or API token) may send.
pub const INVITATIONS_PER_ACCOUNT: Limit = Limit {
    name: "invitations-account",
    max: 20,
    window_secs: 3600,
};
/// Invitations one organization may send, whoever sends them.
pub const INVITATIONS_PER_ORG: Limit = Limit {
    name: "invitations-org",
    max: 50,
    window_secs: 3600,
};

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in person (from a verified access token).
    User { id: Uuid, session: Uuid },
    /// A machine using an org API token.
    ApiToken {
        id: Uuid,
        org_id: Uuid,
        scopes: Vec<Scope>,
    },
}

/// The caller of an operation, with what the audit trail records about the request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

impl Actor {
    pub fn audit(&self) -> AuditActor {
        let (user_id, api_token_id) = match &self.principal {
            Principal::User { id, .. } => (Some(*id), None),
            Principal::ApiToken { id, .. } => (None, Some(*id)),
        };
        AuditActor {
            user_id,
            api_token_id,
            request_id: self.request_id.clone(),
            client_addr: self.client_addr.clone(),
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match &self.principal {
            Principal::User { id, .. } => Some(*id),
            Principal::ApiToken { .. } => None,
        }
    }

    fn require_user(&self) -> Result<Uuid, IdentityError> {
        self.user_id().ok_or(IdentityError::Forbidden)
    }

    /// The person or token acting, as a rate-limit key.
    fn account_key(&self) -> String {
        match &self.principal {
            Principal::User { id, .. } => format!("user:{id}"),
            Principal::ApiToken { id, .. } => format!("token:{id}"),
        }
    }

    /// Whether the caller, with `role` in an organization, may manage its members and
    /// invitations. People only: an API token never does, whatever its scope.
    pub fn can_manage_members(&self, role: Role) -> bool {
        self.user_id().is_some() && role.can_manage_members()
    }

    /// Whether the caller, with `role` in an organization, may see, create and revoke its API
    /// tokens. People only: a token that could mint tokens would outlive its own revocation.
    pub fn can_manage_api_tokens(&self, role: Role) -> bool {
        self.user_id().is_some() && role.can_manage_api_tokens()
    }
}

/// Counts a hit inside the caller's transaction; refuses with `RateLimited` when over.
async fn quota(conn: &mut PgConnection, limit: Limit, key: &str) -> Result<(), IdentityError> {
    match rate_limit::hit(conn, limit, key).await?.retry_after_secs {
        Some(retry_after_secs) => Err(IdentityError::RateLimited { retry_after_secs }),
        None => Ok(()),
    }
}

/// Checks a password against a stored hash off the async threads (argon2 is slow on purpose).
async fn password_matches(password: &str, hash: &str) -> Result<bool, IdentityError> {
    let (password, hash) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| IdentityError::Internal(e.to_string()))
}

/// Records an event about a person's own account, with that person as the actor.
async fn record_own_event(
    conn: &mut PgConnection,
    audit_actor: &AuditActor,
    user_id: Uuid,
    action: &'static str,
    after: Option<serde_json::Value>,
) -> Result<(), IdentityError> {
    let actor = AuditActor {
        user_id: Some(user_id),
        ..audit_actor.clone()
    };
    audit::record(
        conn,
        &actor,
        AuditEntry {
            org_id: None,
            action,
            target_type: "user",
            target_id: user_id.to_string(),
            before: None,
            after,
        },
    )
    .await?;
    Ok(())
}

/// Refusal of a person whose address is not proven yet.
fn not_verified() -> IdentityError {
    IdentityError::validation("email", "is not verified yet: open the link we mailed you")
}

/// The local part of an address, which a password must not contain.
fn local_part(email: &Email) -> &str {
    email.as_str().split('@').next().unwrap_or_default()
}

/// Tokens handed to a client after sign-in or refresh. The refresh token is shown only here.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub access_token: String,
    pub access_expires_at: i64,
    pub refresh_token: String,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Organization {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub is_operator: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Invitation {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub actor_api_token_id: Option<Uuid>,
    pub org_id: Option<Uuid>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MemberWithOrg {
    org_id: Uuid,
    user_id: Uuid,
    email: String,
    display_name: String,
    role: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    id: Uuid,
    family_id: Uuid,
    user_id: Uuid,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
}

/// The identity service over a pool.
#[derive(Clone)]
pub struct Identity {
    pool: PgPool,
    jwt: JwtConfig,
    /// Base URL of the portal, for links in mails.
    public_url: String,
}

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if c.is_alphanumeric() {
            // Letters outside ASCII are dropped without splitting the word.
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(63).collect()
}

fn org_name(raw: &str) -> Result<(String, String), IdentityError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(IdentityError::validation(
            "organizationName",
            "must be 1 to 100 characters",
        ));
    }
    let slug = slugify(name);
    if slug.len() < 2 {
        return Err(IdentityError::validation(
            "organizationName",
            "needs at least two letters or digits",
        ));
    }
    Ok((name.to_owned(), slug))
}

fn display_name(raw: &str) -> Result<String, IdentityError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(IdentityError::validation(
            "displayName",
            "must be 1 to 100 printable characters",
        ));
    }
    Ok(name.to_owned())
}

/// Maps a unique violation to a conflict naming what is taken.
fn conflict_on(e: sqlx::Error, constraint: &str, message: &str) -> IdentityError {
    if e.as_database_error().and_then(|d| d.constraint()) == Some(constraint) {
        IdentityError::Conflict(message.to_owned())
    } else {
        IdentityError::Database(e)
    }
}

impl Identity {
    pub fn new(pool: PgPool, jwt: JwtConfig, public_url: String) -> Self {
        Self {
            pool,
            jwt,
            public_url,
        }
    }

    pub fn jwt(&self) -> &JwtConfig {
        &self.jwt
    }

    /// Base URL of the portal (links in mails).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The caller's role in `org_id`, or `NotFound` when the caller has no business there (other
    /// tenants are invisible, not forbidden).
    pub async fn role_in(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        org_id: Uuid,
    ) -> Result<Role, IdentityError> {
        match &actor.principal {
            Principal::User { id, .. } => {
                let role: Option<String> = sqlx::query_scalar(
                    "select role from memberships where org_id = $1 and user_id = $2",
                )
                .bind(org_id)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
                role.ok_or(IdentityError::NotFound)?.parse()
            }
            Principal::ApiToken {
                org_id: token_org,
                scopes,
                ..
            } if *token_org == org_id => Ok(if scopes.contains(&Scope::Write) {
                Role::Developer
            } else {
                Role::Viewer
            }),
            Principal::ApiToken { .. } => Err(IdentityError::NotFound),
        }
    }

    /// Whether the caller operates the platform: a member of the operator organization whose
    /// role [`Role::can_operate`].
    pub async fn is_operator(&self, actor: &Actor) -> Result<bool, IdentityError> {
        let Some(user) = actor.user_id() else {
            return Ok(false);
        };
        let roles: Vec<String> = sqlx::query_scalar(
            "select m.role from memberships m join organizations o on o.id = m.org_id
              where m.user_id = $1 and o.is_operator",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        Ok(roles
            .iter()
            .any(|r| r.parse::<Role>().is_ok_and(Role::can_operate)))
    }

    async fn require(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        org_id: Uuid,
        allowed: fn(Role) -> bool,
    ) -> Result<Role, IdentityError> {
        let role = self.role_in(conn, actor, org_id).await?;
        if allowed(role) {
            Ok(role)
        } else {
            Err(IdentityError::Forbidden)
        }
    }

    /// Like [`Self::require`], for what only people may do: an API token of the organization is
    /// `Forbidden` (a token of another one still `NotFound`).
    async fn require_person(
        &self,
        conn: &mut PgConnection,
        actor: &Actor,
        org_id: Uuid,
        allowed: fn(Role) -> bool,
    ) -> Result<Role, IdentityError> {
        let role = self.require(conn, actor, org_id, allowed).await?;
        actor.require_user()?;
        Ok(role)
    }

    async fn send_verification(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        email: &Email,
    ) -> Result<(), IdentityError> {
        let token = new_secret()?;
        sqlx::query("insert into email_verifications (token_hash, user_id, expires_at) values ($1, $2, now() + make_interval(hours => $3))")
            .bind(hash_secret(&token))
            .bind(user_id)
            .bind(LINK_TTL_HOURS as i32)
            .execute(&mut *conn)
            .await?;
        let link = format!("{}/verify-email?token={token}", self.public_url);
        outbox::enqueue_mail(
            conn,
            email.as_str(),
            "Verify your email for Tributary",
            &format!("Welcome to Tributary.\n\nConfirm your address within {LINK_TTL_HOURS} hours:\n{link}\n"),
        )
        .await?;
        Ok(())
    }

    /// Creates an account and its first organization (the user owns it) and mails a
    /// verification link. An address that already has a verified account gets a notice by mail
    /// instead, and the caller sees the same outcome either way (no account enumeration).
    ///
    /// An address whose account is still unverified cannot be claimed ahead of its owner: signing
    /// up again replaces the pending account (password, name, organization), every earlier link
    /// stops working, and [`Identity::verify_email`] activates the account only with the password
    /// of the sign-up that mailed the link. Whoever holds the mailbox and that password owns it.
    pub async fn sign_up(
        &self,
        audit_actor: &AuditActor,
        email: &str,
        password: &str,
        name: &str,
        organization_name: &str,
    ) -> Result<(), IdentityError> {
        let email = Email::parse(email)?;
        let password = Password::parse(password, local_part(&email))?;
        let name = display_name(name)?;
        let (org_name, slug) = org_name(organization_name)?;
        // Hash before any lookup so both paths cost the same.
        let hash = hash_password(password.expose())?;

        let mut tx = self.pool.begin().await?;
        quota(&mut tx, MAIL_PER_RECIPIENT, email.as_str()).await?;
        let existing: Option<(Uuid, Option<DateTime<Utc>>)> =
            sqlx::query_as("select id, email_verified_at from users where email = $1 for update")
                .bind(email.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let (user_id, replaced) = match existing {
            Some((_, Some(_))) => {
                outbox::enqueue_mail(
                    &mut tx,
                    email.as_str(),
                    "Someone tried to sign up with your address",
                    &format!("You already have a Tributary account. Sign in at {}/sign-in.\nForgot your password? Reset it at {}/forgot-password.\nIf this was not you, nothing changed.\n", self.public_url, self.public_url),
                )
                .await?;
                tx.commit().await?;
                return Ok(());
            }
            Some((user_id, None)) => {
                self.replace_pending_account(&mut tx, user_id, &name, &hash)
                    .await?;
                (user_id, true)
            }
            None => {
                let user_id: Uuid = sqlx::query_scalar("insert into users (email, display_name, password_hash) values ($1, $2, $3) returning id")
                    .bind(email.as_str())
                    .bind(&name)
                    .bind(&hash)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| conflict_on(e, "users_email_key", "an account with this email is being created"))?;
                (user_id, false)
            }
        };
        let org_id: Uuid = sqlx::query_scalar(
            "insert into organizations (slug, name) values ($1, $2) returning id",
        )
        .bind(&slug)
        .bind(&org_name)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            conflict_on(
                e,
                "organizations_slug_key",
                "an organization with this name exists; choose another name",
            )
        })?;
        sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, 'owner')")
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let actor = AuditActor {
            user_id: Some(user_id),
            ..audit_actor.clone()
        };
        audit::record(
            &mut tx,
            &actor,
            AuditEntry {
                org_id: Some(org_id),
                action: "user.signed_up",
                target_type: "user",
                target_id: user_id.to_string(),
                before: replaced.then(|| json!({ "pendingAccountReplaced": true })),
                after: Some(
                    json!({ "email": email.as_str(), "displayName": name, "organization": slug }),
                ),
            },
        )
        .await?;
        self.send_verification(&mut tx, user_id, &email).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resets an unverified account to a new sign-up: its organizations (no one else is in
    /// them, and an unverified person could not act there) go, and so do its unused links.
    async fn replace_pending_account(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        name: &str,
        password_hash: &str,
    ) -> Result<(), IdentityError> {
        sqlx::query("update users set display_name = $2, password_hash = $3 where id = $1")
            .bind(user_id)
            .bind(name)
            .bind(password_hash)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "delete from organizations o
              where o.id in (select org_id from memberships where user_id = $1)
                and not exists (select 1 from memberships m where m.org_id = o.id and m.user_id <> $1)",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "update email_verifications set used_at = now() where user_id = $1 and used_at is null",
        )
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Confirms an email address from the link's token (single use), with the password chosen
    /// at the sign-up that mailed the link: holding the mailbox alone does not activate an
    /// account someone else signed up for.
    pub async fn verify_email(
        &self,
        audit_actor: &AuditActor,
        token: &str,
        password: &str,
    ) -> Result<(), IdentityError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<(Uuid, String)> = sqlx::query_as(
            "select v.user_id, u.password_hash from email_verifications v join users u on u.id = v.user_id
              where v.token_hash = $1 and v.used_at is null and v.expires_at > now()
              for update of v",
        )
        .bind(hash_secret(token))
        .fetch_optional(&mut *tx)
        .await?;
        let (user_id, hash) = row.ok_or(IdentityError::InvalidToken)?;
        if !password_matches(password, &hash).await? {
            return Err(IdentityError::validation(
                "password",
                "is not the one chosen when signing up (sign up again to choose a new one)",
            ));
        }
        sqlx::query(
            "update email_verifications set used_at = now() where user_id = $1 and used_at is null",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "update users set email_verified_at = coalesce(email_verified_at, now()) where id = $1",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        record_own_event(&mut tx, audit_actor, user_id, "user.email_verified", None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Mails a single-use link to set a new password, valid for [`RESET_TTL_MINUTES`]. The
    /// caller sees the same outcome whether or not the address has an account; only verified
    /// accounts get a link (a pending one is taken over by signing up again).
    pub async fn request_password_reset(
        &self,
        audit_actor: &AuditActor,
        email: &str,
    ) -> Result<(), IdentityError> {
        let email = Email::parse(email)?;
        let mut tx = self.pool.begin().await?;
        quota(&mut tx, MAIL_PER_RECIPIENT, email.as_str()).await?;
        let user_id: Option<Uuid> = sqlx::query_scalar(
            "select id from users where email = $1 and email_verified_at is not null",
        )
        .bind(email.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(user_id) = user_id else {
            // Unknown address: nothing to send; the commit keeps the recipient's count.
            tx.commit().await?;
            return Ok(());
        };
        let token = new_secret()?;
        sqlx::query("insert into password_resets (token_hash, user_id, expires_at) values ($1, $2, now() + make_interval(mins => $3))")
            .bind(hash_secret(&token))
            .bind(user_id)
            .bind(RESET_TTL_MINUTES as i32)
            .execute(&mut *tx)
            .await?;
        outbox::enqueue_mail(
            &mut tx,
            email.as_str(),
            "Reset your Tributary password",
            &format!(
                "Someone asked to reset the password of your Tributary account.\n\nChoose a new password within {RESET_TTL_MINUTES} minutes:\n{}/reset-password?token={token}\n\nIf this was not you, ignore this mail: your password stays as it is.\n",
                self.public_url
            ),
        )
        .await?;
        record_own_event(
            &mut tx,
            audit_actor,
            user_id,
            "user.password_reset_requested",
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password from a reset link's token (single use, unexpired) and ends every
    /// session of the account: its refresh tokens are revoked, so its access tokens stop too.
    pub async fn reset_password(
        &self,
        audit_actor: &AuditActor,
        token: &str,
        new_password: &str,
    ) -> Result<(), IdentityError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<(Uuid, String)> = sqlx::query_as(
            "select r.user_id, u.email from password_resets r join users u on u.id = r.user_id
              where r.token_hash = $1 and r.used_at is null and r.expires_at > now()
              for update of r",
        )
        .bind(hash_secret(token))
        .fetch_optional(&mut *tx)
        .await?;
        let (user_id, email) = row.ok_or(IdentityError::InvalidToken)?;
        let email = Email::parse(&email)?;
        // A refused password leaves the link usable (the transaction rolls back).
        let password = Password::parse(new_password, local_part(&email))?;
        let hash = hash_password(password.expose())?;
        sqlx::query("update users set password_hash = $2 where id = $1")
            .bind(user_id)
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        // Every other open link of the account dies with this one.
        sqlx::query(
            "update password_resets set used_at = now() where user_id = $1 and used_at is null",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let ended: i64 = sqlx::query_scalar(
            "with ended as (
                update refresh_tokens set revoked_at = now() where user_id = $1 and revoked_at is null
                returning family_id)
             select count(distinct family_id) from ended",
        )
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        outbox::enqueue_mail(
            &mut tx,
            email.as_str(),
            "Your Tributary password was changed",
            &format!(
                "The password of your Tributary account was just changed, and every session was signed out.\nIf this was not you, reset it again at {}/forgot-password.\n",
                self.public_url
            ),
        )
        .await?;
        record_own_event(
            &mut tx,
            audit_actor,
            user_id,
            "user.password_reset",
            Some(json!({ "sessionsEnded": ended })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn new_session(
        &self,
        conn: &mut PgConnection,
        user_id: Uuid,
        family: Uuid,
    ) -> Result<Session, IdentityError> {
        let refresh = new_secret()?;
        let ttl = i64::try_from(self.jwt.refresh_ttl.as_secs()).unwrap_or(2_592_000);
        sqlx::query("insert into refresh_tokens (family_id, user_id, token_hash, expires_at) values ($1, $2, $3, $4)")
            .bind(family)
            .bind(user_id)
            .bind(hash_secret(&refresh))
            .bind(Utc::now() + ChronoDuration::seconds(ttl))
            .execute(&mut *conn)
            .await?;
        let (access_token, access_expires_at) = self.jwt.issue(user_id, family)?;
        Ok(Session {
            user_id,
            access_token,
            access_expires_at,
            refresh_token: refresh,
        })
    }

    /// Checks email and password; unknown emails cost the same time as wrong passwords.
    pub async fn sign_in(
        &self,
        audit_actor: &AuditActor,
        email: &str,
        password: &str,
    ) -> Result<Session, IdentityError> {
        let email = Email::parse(email).map_err(|_| IdentityError::InvalidCredentials)?;
        let row: Option<(Uuid, String, Option<DateTime<Utc>>)> = sqlx::query_as(
            "select id, password_hash, email_verified_at from users where email = $1",
        )
        .bind(email.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let hash = row.as_ref().map_or(dummy_hash(), |(_, h, _)| h.as_str());
        let ok = password_matches(password, hash).await?;
        let Some((user_id, _, verified)) = row.filter(|_| ok) else {
            return Err(IdentityError::InvalidCredentials);
        };
        if verified.is_none() {
            return Err(not_verified());
        }
        let mut tx = self.pool.begin().await?;
        let session = self.new_session(&mut tx, user_id, Uuid::new_v4()).await?;
        record_own_event(&mut tx, audit_actor, user_id, "user.signed_in", None).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Exchanges a refresh token for a new pair. A token used twice revokes its whole family.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Session, IdentityError> {
        let mut tx = self.pool.begin().await?;
        let row: Option<RefreshRow> = sqlx::query_as(
            "select id, family_id, user_id, used_at, revoked_at, expires_at from refresh_tokens where token_hash = $1 for update",
        )
        .bind(hash_secret(refresh_token))
        .fetch_optional(&mut *tx)
        .await?;
        let RefreshRow {
            id,
            family_id: family,
            user_id,
            used_at,
            revoked_at,
            expires_at,
        } = row.ok_or(IdentityError::InvalidToken)?;
        if used_at.is_some() {
            // Reuse of a rotated token: someone else holds a copy. End the session everywhere.
            sqlx::query("update refresh_tokens set revoked_at = coalesce(revoked_at, now()) where family_id = $1")
                .bind(family)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::warn!(%family, "refresh token reuse detected; session revoked");
            return Err(IdentityError::InvalidToken);
        }
        if revoked_at.is_some() || expires_at <= Utc::now() {
            return Err(IdentityError::InvalidToken);
        }
        sqlx::query("update refresh_tokens set used_at = now() where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let session = self.new_session(&mut tx, user_id, family).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Whether a session (refresh family) is still live; access tokens of ended sessions are refused.
    pub async fn session_active(&self, family: Uuid) -> Result<bool, IdentityError> {
        Ok(sqlx::query_scalar(
            "select exists(select 1 from refresh_tokens where family_id = $1 and revoked_at is null)",
        )
        .bind(family)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Whether the caller's credential still holds: its session not ended, its API token neither
    /// revoked nor expired. For connections that authenticated once and stay open.
    pub async fn credential_live(&self, actor: &Actor) -> Result<bool, IdentityError> {
        match &actor.principal {
            Principal::User { session, .. } => self.session_active(*session).await,
            Principal::ApiToken { id, .. } => Ok(sqlx::query_scalar(
                "select exists(select 1 from api_tokens where id = $1 and revoked_at is null
                                 and (expires_at is null or expires_at > now()))",
            )
            .bind(id)
            .fetch_one(&self.pool)
            .await?),
        }
    }

    /// Ends the caller's session: its refresh tokens and access tokens stop working.
    pub async fn sign_out(&self, actor: &Actor) -> Result<(), IdentityError> {
        let Principal::User { id, session } = actor.principal else {
            return Err(IdentityError::Forbidden);
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("update refresh_tokens set revoked_at = coalesce(revoked_at, now()) where family_id = $1 and user_id = $2")
            .bind(session)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: None,
                action: "user.signed_out",
                target_type: "session",
                target_id: session.to_string(),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user(&self, id: Uuid) -> Result<User, IdentityError> {
        sqlx::query_as("select id, email, display_name, email_verified_at, created_at from users where id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(IdentityError::NotFound)
    }

    /// The organizations the caller belongs to, with the caller's role in each.
    pub async fn my_organizations(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(Organization, Role)>, IdentityError> {
        match &actor.principal {
            Principal::User { id, .. } => {
                let rows: Vec<(Uuid, String, String, bool, DateTime<Utc>, String)> =
                    sqlx::query_as(
                        "select o.id, o.slug, o.name, o.is_operator, o.created_at, m.role
                       from memberships m join organizations o on o.id = m.org_id
                      where m.user_id = $1 order by o.name",
                    )
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?;
                rows.into_iter()
                    .map(|(id, slug, name, is_operator, created_at, role)| {
                        Ok((
                            Organization {
                                id,
                                slug,
                                name,
                                is_operator,
                                created_at,
                            },
                            role.parse()?,
                        ))
                    })
                    .collect()
            }
            Principal::ApiToken { org_id, .. } => {
                let org = self.organization(*org_id).await?;
                let mut conn = self.pool.acquire().await?;
                let role = self.role_in(&mut conn, actor, *org_id).await?;
                Ok(vec![(org, role)])
            }
        }
    }

    pub async fn organization(&self, id: Uuid) -> Result<Organization, IdentityError> {
        sqlx::query_as(
            "select id, slug, name, is_operator, created_at from organizations where id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(IdentityError::NotFound)
    }

    /// Creates an organization owned by the calling user.
    pub async fn create_organization(
        &self,
        actor: &Actor,
        name: &str,
    ) -> Result<Organization, IdentityError> {
        let user = actor.require_user()?;
        let (name, slug) = org_name(name)?;
        let mut tx = self.pool.begin().await?;
        let org: Organization = sqlx::query_as(
            "insert into organizations (slug, name) values ($1, $2) returning id, slug, name, is_operator, created_at",
        )
        .bind(&slug)
        .bind(&name)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on(e, "organizations_slug_key", "an organization with this name exists; choose another name"))?;
        sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, 'owner')")
            .bind(org.id)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: Some(org.id),
                action: "organization.created",
                target_type: "organization",
                target_id: org.id.to_string(),
                before: None,
                after: Some(json!({ "slug": org.slug, "name": org.name })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Members of several organizations in one query, for batch loaders. The caller must have
    /// authorized access to every organization asked for.
    pub async fn members_by_org(
        &self,
        org_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Member)>, IdentityError> {
        let rows: Vec<MemberWithOrg> = sqlx::query_as(
            "select m.org_id, u.id as user_id, u.email, u.display_name, m.role, m.created_at
               from memberships m join users u on u.id = m.user_id
              where m.org_id = any($1) order by u.display_name, u.id",
        )
        .bind(org_ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.org_id,
                    Member {
                        user_id: r.user_id,
                        email: r.email,
                        display_name: r.display_name,
                        role: r.role,
                        created_at: r.created_at,
                    },
                )
            })
            .collect())
    }

    /// Invites an address into an organization with a role; the link is mailed, never returned.
    pub async fn invite(
        &self,
        actor: &Actor,
        org_id: Uuid,
        email: &str,
        role: Role,
    ) -> Result<Invitation, IdentityError> {
        let email = Email::parse(email)?;
        let mut tx = self.pool.begin().await?;
        let mine = self
            .require_person(&mut tx, actor, org_id, Role::can_manage_members)
            .await?;
        if !mine.can_grant(role) {
            return Err(IdentityError::Forbidden);
        }
        let already: bool = sqlx::query_scalar(
            "select exists(select 1 from memberships m join users u on u.id = m.user_id where m.org_id = $1 and u.email = $2)",
        )
        .bind(org_id)
        .bind(email.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if already {
            return Err(IdentityError::Conflict(
                "this person is already a member".into(),
            ));
        }
        // Counted only for invitations that are sent (a refused one rolls back with the rest).
        quota(&mut tx, INVITATIONS_PER_ACCOUNT, &actor.account_key()).await?;
        quota(&mut tx, INVITATIONS_PER_ORG, &org_id.to_string()).await?;
        let token = new_secret()?;
        let invitation: Invitation = sqlx::query_as(
            "insert into invitations (org_id, email, role, token_hash, invited_by, expires_at)
             values ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))
             returning id, org_id, email, role, created_at, expires_at",
        )
        .bind(org_id)
        .bind(email.as_str())
        .bind(role.as_str())
        .bind(hash_secret(&token))
        .bind(actor.user_id())
        .bind(LINK_TTL_HOURS as i32)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            conflict_on(
                e,
                "invitations_open_per_email",
                "an invitation for this address is already open",
            )
        })?;
        let org = sqlx::query_scalar::<_, String>("select name from organizations where id = $1")
            .bind(org_id)
            .fetch_one(&mut *tx)
            .await?;
        outbox::enqueue_mail(
            &mut tx,
            email.as_str(),
            &format!("You are invited to {org} on Tributary"),
            &format!(
                "You were invited to join {org} as {role}.\nAccept within {LINK_TTL_HOURS} hours:\n{}/invitations/accept?token={token}\n",
                self.public_url
            ),
        )
        .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: Some(org_id),
                action: "invitation.created",
                target_type: "invitation",
                target_id: invitation.id.to_string(),
                before: None,
                after: Some(json!({ "email": invitation.email, "role": invitation.role })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(invitation)
    }

    /// Open invitations of several organizations in one query, for batch loaders. The caller
    /// must have authorized access (owners and admins) to every organization asked for.
    pub async fn invitations_by_org(
        &self,
        org_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Invitation)>, IdentityError> {
        let rows: Vec<Invitation> = sqlx::query_as(
            "select id, org_id, email, role, created_at, expires_at from invitations
              where org_id = any($1) and accepted_at is null and revoked_at is null and expires_at > now()
              order by created_at desc",
        )
        .bind(org_ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|i| (i.org_id, i)).collect())
    }

    /// Revokes an open invitation: its link stops working (owners and admins; an invitation to
    /// become owner only by owners, as only they send those).
    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        org_id: Uuid,
        invitation_id: Uuid,
    ) -> Result<Invitation, IdentityError> {
        let mut tx = self.pool.begin().await?;
        let mine = self
            .require(&mut tx, actor, org_id, Role::can_manage_members)
            .await?;
        let role: String = sqlx::query_scalar(
            "select role from invitations
              where id = $1 and org_id = $2 and accepted_at is null and revoked_at is null
              for update",
        )
        .bind(invitation_id)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(IdentityError::NotFound)?;
        if !mine.can_grant(role.parse()?) {
            return Err(IdentityError::Forbidden);
        }
        let invitation: Invitation = sqlx::query_as(
            "update invitations set revoked_at = now() where id = $1
             returning id, org_id, email, role, created_at, expires_at",
        )
        .bind(invitation_id)
        .fetch_one(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: Some(org_id),
                action: "invitation.revoked",
                target_type: "invitation",
                target_id: invitation.id.to_string(),
                before: Some(json!({ "email": invitation.email, "role": invitation.role })),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(invitation)
    }

    /// Accepts an invitation addressed to the calling user's verified email.
    pub async fn accept_invitation(
        &self,
        actor: &Actor,
        token: &str,
    ) -> Result<Organization, IdentityError> {
        let user_id = actor.require_user()?;
        let mut tx = self.pool.begin().await?;
        let (user_email, verified): (String, Option<DateTime<Utc>>) =
            sqlx::query_as("select email, email_verified_at from users where id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
        if verified.is_none() {
            // The address must be proven before it can claim what was sent to it.
            return Err(not_verified());
        }
        let row: Option<(Uuid, Uuid, String, String)> = sqlx::query_as(
            "select id, org_id, email, role from invitations
              where token_hash = $1 and accepted_at is null and revoked_at is null and expires_at > now()
              for update",
        )
        .bind(hash_secret(token))
        .fetch_optional(&mut *tx)
        .await?;
        let (invitation_id, org_id, email, role) = row.ok_or(IdentityError::InvalidToken)?;
        if user_email != email {
            // The link was meant for someone else; say nothing about which address it names.
            return Err(IdentityError::InvalidToken);
        }
        sqlx::query("update invitations set accepted_at = now() where id = $1")
            .bind(invitation_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, $3) on conflict do nothing")
            .bind(org_id)
            .bind(user_id)
            .bind(&role)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: Some(org_id),
                action: "invitation.accepted",
                target_type: "invitation",
                target_id: invitation_id.to_string(),
                before: None,
                after: Some(json!({ "userId": user_id, "role": role })),
            },
        )
        .await?;
        tx.commit().await?;
        self.organization(org_id).await
    }

    async fn owner_count(conn: &mut PgConnection, org_id: Uuid) -> Result<i64, IdentityError> {
        Ok(sqlx::query_scalar(
            "select count(*) from memberships where org_id = $1 and role = 'owner'",
        )
        .bind(org_id)
        .fetch_one(conn)
        .await?)
    }

    /// Changes a member's role. Only owners grant or take away ownership; the last owner stays.
    pub async fn change_role(
        &self,
        actor: &Actor,
        org_id: Uuid,
        user_id: Uuid,
        role: Role,
    ) -> Result<Member, IdentityError> {
        let mut tx = self.pool.begin().await?;
        let mine = self
            .require_person(&mut tx, actor, org_id, Role::can_manage_members)
            .await?;
        let current: String = sqlx::query_scalar(
            "select role from memberships where org_id = $1 and user_id = $2 for update",
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(IdentityError::NotFound)?;
        let current: Role = current.parse()?;
        if !mine.can_grant(role) || !mine.can_grant(current) {
            return Err(IdentityError::Forbidden);
        }
        if current == Role::Owner
            && role != Role::Owner
            && Self::owner_count(&mut tx, org_id).await? <= 1
        {
            return Err(IdentityError::Conflict(
                "an organization keeps at least one owner".into(),
            ));
        }
        sqlx::query("update memberships set role = $3 where org_id = $1 and user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: Some(org_id),
                action: "member.role_changed",
                target_type: "user",
                target_id: user_id.to_string(),
                before: Some(json!({ "role": current.as_str() })),
                after: Some(json!({ "role": role.as_str() })),
            },
        )
        .await?;
        let member: Member = sqlx::query_as(
            "select u.id as user_id, u.email, u.display_name, m.role, m.created_at
               from memberships m join users u on u.id = m.user_id where m.org_id = $1 and m.user_id = $2",
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(member)
    }

    /// Removes a member (or lets members leave); the last owner cannot go.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        org_id: Uuid,
        user_id: Uuid,
    ) -> Result<(), IdentityError> {
        let mut tx = self.pool.begin().await?;
        let leaving_self = actor.user_id() == Some(user_id);
        let mine = self.role_in(&mut tx, actor, org_id).await?;
        if !leaving_self && !actor.can_manage_members(mine) {
            return Err(IdentityError::Forbidden);
        }
        let current: String = sqlx::query_scalar(
            "select role from memberships where org_id = $1 and user_id = $2 for update",
        )
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(IdentityError::NotFound)?;
        let current: Role = current.parse()?;
        if !(leaving_self || (actor.can_manage_members(mine) && mine.can_grant(current))) {
            return Err(IdentityError::Forbidden);
        }
        if current == Role::Owner && Self::owner_count(&mut tx, org_id).await? <= 1 {
            return Err(IdentityError::Conflict(
                "an organization keeps at least one owner".into(),
            ));
        }
        sqlx::query("delete from memberships where org_id = $1 and user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: Some(org_id),
                action: "member.removed",
                target_type: "user",
                target_id: user_id.to_string(),
                before: Some(json!({ "role": current.as_str() })),
                after: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an org API token. The full token is returned here once and never stored.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        org_id: Uuid,
        name: &str,
        scopes: &[Scope],
        expires_in_days: Option<i32>,
    ) -> Result<(ApiToken, String), IdentityError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(IdentityError::validation(
                "name",
                "must be 1 to 100 characters",
            ));
        }
        if scopes.is_empty() {
            return Err(IdentityError::validation(
                "scopes",
                "must name at least one scope",
            ));
        }
        if let Some(days) = expires_in_days
            && !(1..=365).contains(&days)
        {
            return Err(IdentityError::validation(
                "expiresInDays",
                "must be between 1 and 365",
            ));
        }
        let mut tx = self.pool.begin().await?;
        let role = self
            .require_person(&mut tx, actor, org_id, Role::can_manage_api_tokens)
            .await?;
        if scopes.contains(&Scope::Write) && role == Role::Viewer {
            return Err(IdentityError::Forbidden);
        }
        let secret = ApiTokenSecret::generate()?;
        let mut scope_names: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
        scope_names.sort();
        scope_names.dedup();
        let token: ApiToken = sqlx::query_as(
            "insert into api_tokens (org_id, name, prefix, secret_hash, scopes, created_by, expires_at)
             values ($1, $2, $3, $4, $5, $6, case when $7::int is null then null else now() + make_interval(days => $7) end)
             returning id, org_id, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at",
        )
        .bind(org_id)
        .bind(name)
        .bind(&secret.prefix)
        .bind(hash_secret(&secret.secret))
        .bind(&scope_names)
        .bind(actor.user_id())
        .bind(expires_in_days)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_on(e, "api_tokens_org_name_key", "a token with this name exists in the organization"))?;
        audit::record(&mut tx, &actor.audit(), AuditEntry {
            org_id: Some(org_id),
            action: "api_token.created",
            target_type: "api_token",
            target_id: token.id.to_string(),
            before: None,
            after: Some(json!({ "name": token.name, "prefix": token.prefix, "scopes": token.scopes, "expiresAt": token.expires_at })),
        })
        .await?;
        tx.commit().await?;
        Ok((token, secret.reveal()))
    }

    /// API tokens (never secrets) of several organizations in one query, for batch loaders. The
    /// caller must have authorized access to every organization asked for.
    pub async fn api_tokens_by_org(
        &self,
        org_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, ApiToken)>, IdentityError> {
        let rows: Vec<ApiToken> = sqlx::query_as(
            "select id, org_id, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at
               from api_tokens where org_id = any($1) order by created_at desc",
        )
        .bind(org_ids)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|t| (t.org_id, t)).collect())
    }

    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        org_id: Uuid,
        token_id: Uuid,
    ) -> Result<ApiToken, IdentityError> {
        let mut tx = self.pool.begin().await?;
        self.require_person(&mut tx, actor, org_id, Role::can_manage_api_tokens)
            .await?;
        let token: ApiToken = sqlx::query_as(
            "update api_tokens set revoked_at = coalesce(revoked_at, now()) where id = $1 and org_id = $2
             returning id, org_id, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at",
        )
        .bind(token_id)
        .bind(org_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(IdentityError::NotFound)?;
        audit::record(
            &mut tx,
            &actor.audit(),
            AuditEntry {
                org_id: Some(org_id),
                action: "api_token.revoked",
                target_type: "api_token",
                target_id: token.id.to_string(),
                before: None,
                after: Some(json!({ "revokedAt": token.revoked_at })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Resolves a presented API token to its principal (live, unexpired, unrevoked).
    pub async fn authenticate_api_token(
        &self,
        presented: &str,
    ) -> Result<Principal, IdentityError> {
        let (prefix, secret) =
            ApiTokenSecret::split(presented).ok_or(IdentityError::InvalidToken)?;
        let row: Option<(Uuid, Uuid, Vec<String>)> = sqlx::query_as(
            "update api_tokens set last_used_at = now()
              where prefix = $1 and secret_hash = $2 and revoked_at is null and (expires_at is null or expires_at > now())
              returning id, org_id, scopes",
        )
        .bind(prefix)
        .bind(hash_secret(secret))
        .fetch_optional(&self.pool)
        .await?;
        let (id, org_id, scopes) = row.ok_or(IdentityError::InvalidToken)?;
        let scopes = scopes
            .iter()
            .map(|s| Scope::parse(s))
            .collect::<Result<_, _>>()?;
        Ok(Principal::ApiToken { id, org_id, scopes })
    }

    /// The audit log: an organization's (owners and admins), or everything (operator, `org_id = None`).
    pub async fn audit_log(
        &self,
        actor: &Actor,
        org_id: Option<Uuid>,
        limit: i64,
        before_id: Option<i64>,
    ) -> Result<Vec<AuditEvent>, IdentityError> {
        match org_id {
            Some(org) => {
                let mut conn = self.pool.acquire().await?;
                self.require(&mut conn, actor, org, Role::can_read_audit_log)
                    .await?;
            }
            None => {
                if !self.is_operator(actor).await? {
                    return Err(IdentityError::Forbidden);
                }
            }
        }
        Ok(sqlx::query_as(
            "select id, occurred_at, actor_user_id, actor_api_token_id, org_id, action, target_type, target_id,
                    before, after, request_id, client_addr
               from audit_events
              where ($1::uuid is null or org_id = $1) and ($2::bigint is null or id < $2)
              order by id desc limit $3",
        )
        .bind(org_id)
        .bind(before_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("  Acme Analytics, Inc. "), "acme-analytics-inc");
        assert_eq!(slugify("Ünïcode Co"), "ncode-co");
        assert!(org_name("!").is_err());
        assert!(org_name("").is_err());
        assert_eq!(org_name("Northwind Data").expect("ok").1, "northwind-data");
    }
}
