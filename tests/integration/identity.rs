//! Accounts and credentials end to end through the GraphQL API.

use serde_json::{Value, json};
use tributary_api::{HttpLimits, client_addr::TrustedProxies};
use tributary_tests::{TEST_PASSWORD, TestApp, TestDb, jwt_config, kafka_admin, unique};

fn code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

fn field(response: &Value) -> &str {
    response["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_default()
}

const SIGN_UP: &str = "mutation($input: SignUpInput!) { signUp(input: $input) { message } }";
const SIGN_IN: &str = "mutation($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { accessToken refreshToken accessTokenExpiresAt userId } }";
const VERIFY: &str = "mutation($t: String!, $p: String!) { verifyEmail(token: $t, password: $p) }";
const REQUEST_RESET: &str = "mutation($e: String!) { requestPasswordReset(email: $e) { message } }";
const RESET: &str = "mutation($t: String!, $p: String!) { resetPassword(token: $t, password: $p) }";
const VIEWER: &str =
    "{ viewer { user { email emailVerified } organizations { id slug viewerRole } } }";

fn sign_up_input(email: &str, org: &str) -> Value {
    json!({ "input": { "email": email, "password": TEST_PASSWORD, "displayName": "Ada Lovelace", "organizationName": org } })
}

/// The token in a mailed link (`…?token=<token>`).
fn link_token(mail: &str) -> String {
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..]
        .split_whitespace()
        .next()
        .expect("token")
        .to_owned()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn sign_up_verify_and_sign_in() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("ada"));
    let org = unique("Analytical Engines");
    let response = app.graphql(SIGN_UP, sign_up_input(&email, &org)).await;
    assert!(response["errors"].is_null(), "{response}");

    // Not verified yet: the right password is not enough.
    let early = app
        .graphql(
            SIGN_IN,
            json!({ "email": email, "password": TEST_PASSWORD }),
        )
        .await;
    assert_eq!(code(&early), "VALIDATION", "{early}");
    assert_eq!(field(&early), "email");

    let mail = app.mail_to(&email, "Verify your email").await;
    assert!(
        mail.contains("http://portal.test/verify-email?token="),
        "{mail}"
    );
    let token = link_token(&mail);
    let verified = app
        .graphql(VERIFY, json!({ "t": token, "p": TEST_PASSWORD }))
        .await;
    assert_eq!(verified["data"]["verifyEmail"], true, "{verified}");
    let again = app
        .graphql(VERIFY, json!({ "t": token, "p": TEST_PASSWORD }))
        .await;
    assert_eq!(code(&again), "UNAUTHENTICATED", "links are single use");

    let session = app
        .graphql(
            SIGN_IN,
            json!({ "email": email.to_uppercase(), "password": TEST_PASSWORD }),
        )
        .await;
    let access = session["data"]["signIn"]["accessToken"]
        .as_str()
        .expect("access token")
        .to_owned();
    let viewer = app.graphql_as(&access, VIEWER, json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["user"]["email"], email);
    assert_eq!(viewer["data"]["viewer"]["user"]["emailVerified"], true);
    assert_eq!(
        viewer["data"]["viewer"]["organizations"][0]["viewerRole"],
        "OWNER"
    );

    let actions: Vec<String> = sqlx::query_scalar("select action from audit_events order by id")
        .fetch_all(&app.pool)
        .await
        .expect("audit");
    assert_eq!(
        actions,
        ["user.signed_up", "user.email_verified", "user.signed_in"]
    );

    // Stored as argon2id, never in clear.
    let hash: String = sqlx::query_scalar("select password_hash from users where email = $1")
        .bind(&email)
        .fetch_one(&app.pool)
        .await
        .expect("hash");
    assert!(hash.starts_with("$argon2id$") && !hash.contains(TEST_PASSWORD));
}

#[tokio::test]
async fn bad_sign_up_input_is_typed_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let taken = unique("taken-org");
    let ok = app
        .graphql(
            SIGN_UP,
            sign_up_input(&format!("{}@example.com", unique("first")), &taken),
        )
        .await;
    assert!(ok["errors"].is_null(), "{ok}");
    let (users, orgs, audits) = (
        count(&app, "users").await,
        count(&app, "organizations").await,
        count(&app, "audit_events").await,
    );

    let cases = [
        (
            json!({ "email": "not-an-email", "password": TEST_PASSWORD, "displayName": "A", "organizationName": "Org One" }),
            "VALIDATION",
            "email",
        ),
        (
            json!({ "email": "", "password": TEST_PASSWORD, "displayName": "A", "organizationName": "Org One" }),
            "VALIDATION",
            "email",
        ),
        (
            json!({ "email": "b@example.com", "password": "short", "displayName": "A", "organizationName": "Org One" }),
            "VALIDATION",
            "password",
        ),
        (
            json!({ "email": "b@example.com", "password": "password1234", "displayName": "A", "organizationName": "Org One" }),
            "VALIDATION",
            "password",
        ),
        (
            json!({ "email": "b@example.com", "password": TEST_PASSWORD, "displayName": "", "organizationName": "Org One" }),
            "VALIDATION",
            "displayName",
        ),
        (
            json!({ "email": "b@example.com", "password": TEST_PASSWORD, "displayName": "A", "organizationName": "" }),
            "VALIDATION",
            "organizationName",
        ),
        (
            json!({ "email": "b@example.com", "password": TEST_PASSWORD, "displayName": "x".repeat(10_000), "organizationName": "Org" }),
            "VALIDATION",
            "displayName",
        ),
        (
            json!({ "email": "b@example.com", "password": TEST_PASSWORD, "displayName": "A", "organizationName": taken }),
            "CONFLICT",
            "",
        ),
    ];
    for (input, expected, expected_field) in cases {
        let response = app.graphql(SIGN_UP, json!({ "input": input })).await;
        assert_eq!(code(&response), expected, "{input}: {response}");
        assert_eq!(field(&response), expected_field, "{input}: {response}");
    }
    assert_eq!(count(&app, "users").await, users, "no user written");
    assert_eq!(
        count(&app, "organizations").await,
        orgs,
        "no organization written"
    );
    assert_eq!(
        count(&app, "audit_events").await,
        audits,
        "no audit event written"
    );
}

#[tokio::test]
async fn signing_up_twice_reveals_nothing_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("twice"));
    let first = app
        .graphql(SIGN_UP, sign_up_input(&email, &unique("Org A")))
        .await;
    let token = link_token(&app.mail_to(&email, "Verify your email").await);
    let verified = app
        .graphql(VERIFY, json!({ "t": token, "p": TEST_PASSWORD }))
        .await;
    assert_eq!(verified["data"]["verifyEmail"], true, "{verified}");
    let second = app
        .graphql(SIGN_UP, sign_up_input(&email, &unique("Org B")))
        .await;
    assert_eq!(first["data"], second["data"], "same answer either way");
    let users: i64 = sqlx::query_scalar("select count(*) from users where email = $1")
        .bind(&email)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(users, 1);
    let notice = app.mail_to(&email, "Someone tried to sign up").await;
    assert!(
        notice.contains("http://portal.test/forgot-password"),
        "{notice}"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("known"));
    app.user(&email).await;
    let wrong = app
        .graphql(
            SIGN_IN,
            json!({ "email": email, "password": "wrong password 123" }),
        )
        .await;
    let unknown = app
        .graphql(
            SIGN_IN,
            json!({ "email": "nobody@example.com", "password": "wrong password 123" }),
        )
        .await;
    let malformed = app
        .graphql(SIGN_IN, json!({ "email": "not an email", "password": "x" }))
        .await;
    for response in [&wrong, &unknown, &malformed] {
        assert_eq!(code(response), "UNAUTHENTICATED", "{response}");
    }
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        wrong["errors"][0]["message"],
        malformed["errors"][0]["message"]
    );
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let user = app.user(&format!("{}@example.com", unique("tok"))).await;
    let good = app.token_for(user).await;
    assert!(app.graphql_as(&good, VIEWER, json!({})).await["errors"].is_null());

    let mut foreign = jwt_config();
    foreign.audience = "another-service".into();
    let (wrong_audience, _) = foreign.issue(user, uuid::Uuid::new_v4()).expect("issue");
    let mut parts: Vec<&str> = good.split('.').collect();
    let tampered_sig = format!("{}x", parts[2]);
    parts[2] = &tampered_sig;
    let tampered = parts.join(".");
    // A valid signature over a session that does not exist.
    let (no_session, _) = jwt_config()
        .issue(user, uuid::Uuid::new_v4())
        .expect("issue");

    for (token, what) in [
        (wrong_audience.as_str(), "wrong audience"),
        (tampered.as_str(), "tampered"),
        ("garbage", "garbage"),
        (no_session.as_str(), "unknown session"),
        ("trb_0123456789ab_nope", "unknown API token"),
    ] {
        let response = app.graphql_as(token, VIEWER, json!({})).await;
        assert_eq!(code(&response), "UNAUTHENTICATED", "{what}: {response}");
        assert!(response["data"].is_null(), "{what}");
    }
    // Anonymous callers get UNAUTHENTICATED on private fields, but public ones work.
    assert_eq!(
        code(&app.graphql(VIEWER, json!({})).await),
        "UNAUTHENTICATED"
    );
    assert!(app.graphql("{ serverVersion }", json!({})).await["errors"].is_null());
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_ends_the_session() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("rot"));
    app.user(&email).await;
    let session = app
        .graphql(
            SIGN_IN,
            json!({ "email": email, "password": TEST_PASSWORD }),
        )
        .await;
    let first_refresh = session["data"]["signIn"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let refresh =
        "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";

    let rotated = app.graphql(refresh, json!({ "t": first_refresh })).await;
    let second_refresh = rotated["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .expect("new refresh")
        .to_owned();
    let access = rotated["data"]["refreshSession"]["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    assert_ne!(first_refresh, second_refresh);
    assert!(app.graphql_as(&access, VIEWER, json!({})).await["errors"].is_null());

    // Replaying the first token: refused, and the whole session ends.
    assert_eq!(
        code(&app.graphql(refresh, json!({ "t": first_refresh })).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(&app.graphql(refresh, json!({ "t": second_refresh })).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        code(&app.graphql_as(&access, VIEWER, json!({})).await),
        "UNAUTHENTICATED"
    );

    let stored: i64 = sqlx::query_scalar(
        "select count(*) from refresh_tokens where token_hash = convert_to($1, 'UTF8')",
    )
    .bind(&first_refresh)
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(stored, 0, "refresh tokens are stored hashed");
}

#[tokio::test]
async fn signing_out_ends_the_access_token() {
    let app = TestApp::spawn().await;
    let user = app.user(&format!("{}@example.com", unique("out"))).await;
    let token = app.token_for(user).await;
    let out = app
        .graphql_as(&token, "mutation { signOut }", json!({}))
        .await;
    assert_eq!(out["data"]["signOut"], true, "{out}");
    assert_eq!(
        code(&app.graphql_as(&token, VIEWER, json!({})).await),
        "UNAUTHENTICATED"
    );
}

const CREATE_TOKEN: &str = "mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { secret token { id name prefix scopes expiresAt } } }";

#[tokio::test]
async fn api_tokens_are_shown_once_stored_hashed_and_revocable() {
    let app = TestApp::spawn().await;
    let dev = app.user(&format!("{}@example.com", unique("dev"))).await;
    let org = app
        .org_with(&unique("tokens"), &[(dev, "developer")], false)
        .await;
    let jwt = app.token_for(dev).await;

    let created = app
        .graphql_as(&jwt, CREATE_TOKEN, json!({ "input": { "organizationId": org, "name": "ci", "scopes": ["READ"], "expiresInDays": 30 } }))
        .await;
    let secret = created["data"]["createApiToken"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let id = created["data"]["createApiToken"]["token"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(secret.starts_with("trb_"));
    assert!(!created["data"]["createApiToken"]["token"]["expiresAt"].is_null());

    let listed = app
        .graphql_as(
            &jwt,
            "query($o: UUID!) { organization(id: $o) { apiTokens { name prefix } } }",
            json!({ "o": org }),
        )
        .await;
    assert!(
        !listed.to_string().contains(&secret),
        "listing never reveals the secret"
    );

    let hashes: Vec<Vec<u8>> = sqlx::query_scalar("select secret_hash from api_tokens")
        .fetch_all(&app.pool)
        .await
        .expect("hash");
    assert_eq!(hashes.len(), 1);
    assert!(!String::from_utf8_lossy(&hashes[0]).contains(&secret[17..]));

    // The token authenticates as its organization, read-only.
    let as_token = app.graphql_as(&secret, VIEWER, json!({})).await;
    assert_eq!(
        as_token["data"]["viewer"]["organizations"][0]["viewerRole"], "VIEWER",
        "{as_token}"
    );
    assert!(as_token["data"]["viewer"]["user"].is_null());

    let revoke = "mutation($o: UUID!, $t: UUID!) { revokeApiToken(organizationId: $o, tokenId: $t) { revokedAt } }";
    let revoked = app
        .graphql_as(&jwt, revoke, json!({ "o": org, "t": id }))
        .await;
    assert!(
        !revoked["data"]["revokeApiToken"]["revokedAt"].is_null(),
        "{revoked}"
    );
    assert_eq!(
        code(&app.graphql_as(&secret, VIEWER, json!({})).await),
        "UNAUTHENTICATED"
    );

    for (input, expected_field) in [
        (
            json!({ "organizationId": org, "name": "", "scopes": ["READ"] }),
            "name",
        ),
        (
            json!({ "organizationId": org, "name": "x", "scopes": [] }),
            "scopes",
        ),
        (
            json!({ "organizationId": org, "name": "x", "scopes": ["READ"], "expiresInDays": 0 }),
            "expiresInDays",
        ),
        (
            json!({ "organizationId": org, "name": "x", "scopes": ["READ"], "expiresInDays": 9999 }),
            "expiresInDays",
        ),
    ] {
        let response = app
            .graphql_as(&jwt, CREATE_TOKEN, json!({ "input": input }))
            .await;
        assert_eq!(code(&response), "VALIDATION", "{input}: {response}");
        assert_eq!(field(&response), expected_field);
    }
    let duplicate = app
        .graphql_as(
            &jwt,
            CREATE_TOKEN,
            json!({ "input": { "organizationId": org, "name": "ci", "scopes": ["READ"] } }),
        )
        .await;
    assert_eq!(code(&duplicate), "CONFLICT");
}

/// A write token acts for its organization as a developer would on its streams, but it is never a
/// person: it mints no token (one without expiry would outlive its own revocation), revokes none,
/// lists none, and manages no member or invitation. Nothing is written by the refusals.
#[tokio::test]
async fn api_tokens_never_manage_tokens_members_or_invitations() {
    let app = TestApp::spawn().await;
    let owner = app.user(&format!("{}@example.com", unique("owner"))).await;
    let member = app.user(&format!("{}@example.com", unique("member"))).await;
    let org = app
        .org_with(
            &unique("machines"),
            &[(owner, "owner"), (member, "viewer")],
            false,
        )
        .await;
    let jwt = app.token_for(owner).await;
    let mut secrets = Vec::new();
    let mut ids = Vec::new();
    for (name, scopes) in [
        ("writer", json!(["READ", "WRITE"])),
        ("other", json!(["READ"])),
    ] {
        let created = app
            .graphql_as(
                &jwt,
                CREATE_TOKEN,
                json!({ "input": { "organizationId": org, "name": name, "scopes": scopes } }),
            )
            .await;
        secrets.push(
            created["data"]["createApiToken"]["secret"]
                .as_str()
                .expect("secret")
                .to_owned(),
        );
        ids.push(
            created["data"]["createApiToken"]["token"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let (writer, other) = (&secrets[0], &ids[1]);
    let as_token = app.graphql_as(writer, VIEWER, json!({})).await;
    assert_eq!(
        as_token["data"]["viewer"]["organizations"][0]["viewerRole"], "DEVELOPER",
        "{as_token}"
    );

    let refused = [
        (
            CREATE_TOKEN,
            json!({ "input": { "organizationId": org, "name": "forever", "scopes": ["READ", "WRITE"] } }),
        ),
        (
            "mutation($o: UUID!, $t: UUID!) { revokeApiToken(organizationId: $o, tokenId: $t) { id } }",
            json!({ "o": org, "t": other }),
        ),
        (
            "query($o: UUID!) { organization(id: $o) { apiTokens { prefix } } }",
            json!({ "o": org }),
        ),
        (
            "query($o: UUID!) { organization(id: $o) { invitations { email } } }",
            json!({ "o": org }),
        ),
        (
            "mutation($o: UUID!) { inviteMember(organizationId: $o, email: \"new@example.com\", role: VIEWER) { id } }",
            json!({ "o": org }),
        ),
        (
            "mutation($o: UUID!, $u: UUID!) { changeMemberRole(organizationId: $o, userId: $u, role: ADMIN) { role } }",
            json!({ "o": org, "u": member }),
        ),
        (
            "mutation($o: UUID!, $u: UUID!) { removeMember(organizationId: $o, userId: $u) }",
            json!({ "o": org, "u": member }),
        ),
    ];
    for (document, variables) in refused {
        let response = app.graphql_as(writer, document, variables).await;
        assert_eq!(code(&response), "FORBIDDEN", "{document}: {response}");
    }

    let tokens: i64 = sqlx::query_scalar("select count(*) from api_tokens where org_id = $1")
        .bind(org)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(tokens, 2, "no token was minted");
    let invitations: i64 = sqlx::query_scalar("select count(*) from invitations")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(invitations, 0);
    let role: String =
        sqlx::query_scalar("select role from memberships where org_id = $1 and user_id = $2")
            .bind(org)
            .bind(member)
            .fetch_one(&app.pool)
            .await
            .expect("still a member");
    assert_eq!(role, "viewer");
    // The other token still works: it was not revoked.
    let still = app.graphql_as(&secrets[1], VIEWER, json!({})).await;
    assert!(still["errors"].is_null(), "{still}");
}

#[tokio::test]
async fn invitations_add_members_with_the_invited_role() {
    let app = TestApp::spawn().await;
    let owner = app.user(&format!("{}@example.com", unique("owner"))).await;
    let admin = app.user(&format!("{}@example.com", unique("admin"))).await;
    let org = app
        .org_with(
            &unique("team"),
            &[(owner, "owner"), (admin, "admin")],
            false,
        )
        .await;
    let invitee_email = format!("{}@example.com", unique("invitee"));
    let invitee = app.user(&invitee_email).await;
    let stranger = app
        .user(&format!("{}@example.com", unique("stranger")))
        .await;
    let invite = "mutation($o: UUID!, $e: String!, $r: Role!) { inviteMember(organizationId: $o, email: $e, role: $r) { id role } }";

    let admin_jwt = app.token_for(admin).await;
    let not_owner = app
        .graphql_as(
            &admin_jwt,
            invite,
            json!({ "o": org, "e": invitee_email, "r": "OWNER" }),
        )
        .await;
    assert_eq!(code(&not_owner), "FORBIDDEN", "only owners invite owners");
    let bad_email = app
        .graphql_as(
            &admin_jwt,
            invite,
            json!({ "o": org, "e": "nope", "r": "VIEWER" }),
        )
        .await;
    assert_eq!(code(&bad_email), "VALIDATION");

    let invited = app
        .graphql_as(
            &admin_jwt,
            invite,
            json!({ "o": org, "e": invitee_email, "r": "DEVELOPER" }),
        )
        .await;
    assert_eq!(
        invited["data"]["inviteMember"]["role"], "DEVELOPER",
        "{invited}"
    );
    let twice = app
        .graphql_as(
            &admin_jwt,
            invite,
            json!({ "o": org, "e": invitee_email, "r": "DEVELOPER" }),
        )
        .await;
    assert_eq!(code(&twice), "CONFLICT");

    let token = link_token(&app.mail_to(&invitee_email, "You are invited").await);
    let accept = "mutation($t: String!) { acceptInvitation(token: $t) { id viewerRole } }";
    let wrong_person = app
        .graphql_as(
            &app.token_for(stranger).await,
            accept,
            json!({ "t": token }),
        )
        .await;
    assert_eq!(
        code(&wrong_person),
        "UNAUTHENTICATED",
        "the link belongs to the invited address"
    );
    let accepted = app
        .graphql_as(&app.token_for(invitee).await, accept, json!({ "t": token }))
        .await;
    assert_eq!(
        accepted["data"]["acceptInvitation"]["viewerRole"], "DEVELOPER",
        "{accepted}"
    );
    let reused = app
        .graphql_as(&app.token_for(invitee).await, accept, json!({ "t": token }))
        .await;
    assert_eq!(code(&reused), "UNAUTHENTICATED");
}

#[tokio::test]
async fn role_changes_keep_an_owner_and_respect_rank() {
    let app = TestApp::spawn().await;
    let owner = app.user(&format!("{}@example.com", unique("owner"))).await;
    let admin = app.user(&format!("{}@example.com", unique("admin"))).await;
    let viewer = app.user(&format!("{}@example.com", unique("viewer"))).await;
    let org = app
        .org_with(
            &unique("ranks"),
            &[(owner, "owner"), (admin, "admin"), (viewer, "viewer")],
            false,
        )
        .await;
    let change = "mutation($o: UUID!, $u: UUID!, $r: Role!) { changeMemberRole(organizationId: $o, userId: $u, role: $r) { role } }";
    let owner_jwt = app.token_for(owner).await;
    let admin_jwt = app.token_for(admin).await;

    assert_eq!(
        code(
            &app.graphql_as(
                &owner_jwt,
                change,
                json!({ "o": org, "u": owner, "r": "ADMIN" })
            )
            .await
        ),
        "CONFLICT",
        "last owner stays"
    );
    assert_eq!(
        code(
            &app.graphql_as(
                &admin_jwt,
                change,
                json!({ "o": org, "u": owner, "r": "VIEWER" })
            )
            .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &app.graphql_as(
                &admin_jwt,
                change,
                json!({ "o": org, "u": viewer, "r": "OWNER" })
            )
            .await
        ),
        "FORBIDDEN"
    );
    let promoted = app
        .graphql_as(
            &admin_jwt,
            change,
            json!({ "o": org, "u": viewer, "r": "DEVELOPER" }),
        )
        .await;
    assert_eq!(
        promoted["data"]["changeMemberRole"]["role"], "DEVELOPER",
        "{promoted}"
    );

    let audit = app
        .graphql_as(&owner_jwt, "query($o: UUID!) { organization(id: $o) { auditLog(first: 1) { pageInfo { hasNextPage } nodes { action before after actorUserId } } } }", json!({ "o": org }))
        .await;
    let event = &audit["data"]["organization"]["auditLog"]["nodes"][0];
    assert_eq!(
        audit["data"]["organization"]["auditLog"]["pageInfo"]["hasNextPage"],
        false
    );
    assert_eq!(event["action"], "member.role_changed", "{audit}");
    assert_eq!(event["before"]["role"], "viewer");
    assert_eq!(event["after"]["role"], "developer");
    assert_eq!(event["actorUserId"], admin.to_string());
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_address_and_account() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("limited"));
    let mut last = Value::Null;
    for _ in 0..11 {
        last = app
            .graphql(
                SIGN_IN,
                json!({ "email": email, "password": "wrong password 123" }),
            )
            .await;
    }
    assert_eq!(code(&last), "RATE_LIMITED", "{last}");
    assert!(
        last["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );
    // Another account from the same address is not locked out by it.
    let other = app
        .graphql(
            SIGN_IN,
            json!({ "email": "other@example.com", "password": "wrong password 123" }),
        )
        .await;
    assert_eq!(code(&other), "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let app = TestApp::spawn().await;
    let user = app.user(&format!("{}@example.com", unique("audit"))).await;
    let token = app.token_for(user).await;
    app.graphql_as(
        &token,
        "mutation { createOrganization(name: \"Audited Org\") { id } }",
        json!({}),
    )
    .await;
    let update = sqlx::query("update audit_events set action = 'x'")
        .execute(&app.pool)
        .await;
    assert!(
        update
            .expect_err("update refused")
            .to_string()
            .contains("append-only")
    );
    let delete = sqlx::query("delete from audit_events")
        .execute(&app.pool)
        .await;
    assert!(delete.is_err());
}

#[tokio::test]
async fn nested_member_lists_are_batched_and_correct() {
    let app = TestApp::spawn().await;
    let me = app.user(&format!("{}@example.com", unique("many"))).await;
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..12 {
        let other = app
            .user(&format!("{}@example.com", unique(&format!("m{i}"))))
            .await;
        let org = app
            .org_with(
                &unique(&format!("org{i}")),
                &[(me, "viewer"), (other, "developer")],
                false,
            )
            .await;
        expected.insert(org.to_string(), 2);
    }
    let token = app.token_for(me).await;
    let response = app
        .graphql_as(
            &token,
            "{ viewer { organizations { id members { email role } } } }",
            json!({}),
        )
        .await;
    assert!(response["errors"].is_null(), "{response}");
    let orgs = response["data"]["viewer"]["organizations"]
        .as_array()
        .expect("orgs");
    assert_eq!(orgs.len(), 12);
    for org in orgs {
        let id = org["id"].as_str().expect("id");
        let members = org["members"].as_array().expect("members");
        assert_eq!(members.len(), expected[id], "{org}");
        assert!(members.iter().any(|m| m["role"] == "DEVELOPER"));
    }
}

#[tokio::test]
async fn the_audit_log_pages_newest_first_with_cursors() {
    let app = TestApp::spawn().await;
    let owner = app.user(&format!("{}@example.com", unique("pager"))).await;
    let org = app
        .org_with(&unique("paged"), &[(owner, "owner")], false)
        .await;
    let token = app.token_for(owner).await;
    for i in 0..5 {
        let created = app
            .graphql_as(&token, CREATE_TOKEN, json!({ "input": { "organizationId": org, "name": format!("t{i}"), "scopes": ["READ"] } }))
            .await;
        assert!(created["errors"].is_null(), "{created}");
    }
    let page = "query($o: UUID!, $after: String) { organization(id: $o) {
        auditLog(first: 2, after: $after) { pageInfo { hasNextPage endCursor } nodes { id after } } } }";
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let response = app
            .graphql_as(&token, page, json!({ "o": org, "after": after }))
            .await;
        let log = &response["data"]["organization"]["auditLog"];
        for node in log["nodes"].as_array().expect("nodes") {
            ids.push(node["id"].as_i64().expect("id"));
        }
        if log["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = log["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        assert!(ids.len() < 20, "pagination does not end");
    }
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let bad = app
        .graphql_as(&token, page, json!({ "o": org, "after": "nope" }))
        .await;
    assert_eq!(code(&bad), "VALIDATION");
}

#[tokio::test]
async fn demo_people_sign_in_to_their_organizations() {
    let app = TestApp::spawn().await;
    app.seed_demo().await;
    for (email, _, org) in tributary_server::demo::USERS {
        let session = app
            .graphql(
                SIGN_IN,
                json!({ "email": email, "password": tributary_server::demo::DEMO_PASSWORD }),
            )
            .await;
        let token = session["data"]["signIn"]["accessToken"]
            .as_str()
            .expect("signed in")
            .to_owned();
        let viewer = app.graphql_as(&token, VIEWER, json!({})).await;
        assert_eq!(
            viewer["data"]["viewer"]["organizations"][0]["slug"], org,
            "{viewer}"
        );
        assert_eq!(
            viewer["data"]["viewer"]["organizations"][0]["viewerRole"],
            "OWNER"
        );
    }
    // Seeding twice changes nothing.
    app.seed_demo().await;
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(users, 3);
}

/// Rows of the outbox that mail `to` (what the mailer will send, whether or not it has yet).
async fn mails_queued_to(app: &TestApp, to: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from outbox where aggregate_type = 'mail' and payload->>'to' = $1",
    )
    .bind(to)
    .fetch_one(&app.pool)
    .await
    .expect("outbox")
}

#[tokio::test]
async fn a_mailed_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("forgot"));
    let user = app.user(&email).await;
    // Two live sessions: one signed in with the password, one from elsewhere.
    let session = app
        .graphql(
            SIGN_IN,
            json!({ "email": email, "password": TEST_PASSWORD }),
        )
        .await;
    let access = session["data"]["signIn"]["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    let refresh = session["data"]["signIn"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let other_device = app.token_for(user).await;

    let known = app.graphql(REQUEST_RESET, json!({ "e": email })).await;
    let unknown_email = format!("{}@example.com", unique("nobody"));
    let unknown = app
        .graphql(REQUEST_RESET, json!({ "e": unknown_email }))
        .await;
    assert!(known["errors"].is_null(), "{known}");
    assert_eq!(known, unknown, "no account oracle");
    assert_eq!(mails_queued_to(&app, &unknown_email).await, 0);

    let mail = app.mail_to(&email, "Reset your Tributary password").await;
    assert!(
        mail.contains("http://portal.test/reset-password?token="),
        "{mail}"
    );
    let token = link_token(&mail);
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from password_resets where token_hash = sha256(convert_to($1, 'UTF8')) and expires_at <= now() + interval '30 minutes'",
    )
    .bind(&token)
    .fetch_one(&app.pool)
    .await
    .expect("stored");
    assert_eq!(stored, 1, "only the hash is stored, valid 30 minutes");

    // A refused password leaves the link usable.
    let weak = app
        .graphql(RESET, json!({ "t": token, "p": "password1234" }))
        .await;
    assert_eq!(
        (code(&weak), field(&weak)),
        ("VALIDATION", "password"),
        "{weak}"
    );
    let new_password = "a completely different passphrase";
    let reset = app
        .graphql(RESET, json!({ "t": token, "p": new_password }))
        .await;
    assert_eq!(reset["data"]["resetPassword"], true, "{reset}");
    let again = app
        .graphql(
            RESET,
            json!({ "t": token, "p": "yet another long passphrase" }),
        )
        .await;
    assert_eq!(code(&again), "UNAUTHENTICATED", "single use");

    // Every session ended: access tokens and the refresh token.
    for token in [&access, &other_device] {
        assert_eq!(
            code(&app.graphql_as(token, VIEWER, json!({})).await),
            "UNAUTHENTICATED"
        );
    }
    let refreshed = app
        .graphql(
            "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }",
            json!({ "t": refresh }),
        )
        .await;
    assert_eq!(code(&refreshed), "UNAUTHENTICATED", "{refreshed}");

    let old = app
        .graphql(
            SIGN_IN,
            json!({ "email": email, "password": TEST_PASSWORD }),
        )
        .await;
    assert_eq!(code(&old), "UNAUTHENTICATED");
    let new = app
        .graphql(SIGN_IN, json!({ "email": email, "password": new_password }))
        .await;
    assert!(new["errors"].is_null(), "{new}");
    app.mail_to(&email, "Your Tributary password was changed")
        .await;
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'user.password_reset' and target_id = $1 and (after->>'sessionsEnded')::int = 2",
    )
    .bind(user.to_string())
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1);

    // An expired link does nothing.
    app.graphql(REQUEST_RESET, json!({ "e": email })).await;
    let expired = loop {
        let body = app.mail_to(&email, "Reset your Tributary password").await;
        let next = link_token(&body);
        if next != token {
            break next;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    sqlx::query(
        "update password_resets set expires_at = now() - interval '1 second' where used_at is null",
    )
    .execute(&app.pool)
    .await
    .expect("expire");
    let late = app
        .graphql(
            RESET,
            json!({ "t": expired, "p": "yet another long passphrase" }),
        )
        .await;
    assert_eq!(code(&late), "UNAUTHENTICATED", "{late}");
}

#[tokio::test]
async fn reset_requests_are_limited_alike_for_known_and_unknown_addresses() {
    let app = TestApp::spawn().await;
    let known = format!("{}@example.com", unique("known"));
    app.user(&known).await;
    let unknown = format!("{}@example.com", unique("unknown"));
    let mut answers = Vec::new();
    for email in [&known, &unknown] {
        let mut codes = Vec::new();
        for _ in 0..6 {
            let response = app.graphql(REQUEST_RESET, json!({ "e": email })).await;
            codes.push(code(&response).to_owned());
        }
        answers.push(codes);
    }
    assert_eq!(answers[0], answers[1], "the same answers for both");
    assert_eq!(answers[0][..5], ["", "", "", "", ""]);
    assert_eq!(
        answers[0][5], "RATE_LIMITED",
        "five mails per recipient and hour"
    );
    assert_eq!(mails_queued_to(&app, &known).await, 5);

    // Per client: 30 requests in five minutes, whatever addresses they name.
    let mut last = Value::Null;
    for _ in 12..31 {
        last = app
            .graphql(
                REQUEST_RESET,
                json!({ "e": format!("{}@example.com", unique("spray")) }),
            )
            .await;
    }
    assert_eq!(code(&last), "RATE_LIMITED", "{last}");
    let bad = app
        .graphql(
            RESET,
            json!({ "t": "forged", "p": "a long enough passphrase" }),
        )
        .await;
    assert_eq!(
        code(&bad),
        "RATE_LIMITED",
        "completing shares the client's budget"
    );
}

#[tokio::test]
async fn an_unverified_address_cannot_be_claimed_ahead_of_its_owner() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("victim"));
    let attacker_org = unique("Squatters");
    let attacker_password = "the attacker's own passphrase";
    let first = app
        .graphql(
            SIGN_UP,
            json!({ "input": { "email": email, "password": attacker_password, "displayName": "Mallory", "organizationName": attacker_org } }),
        )
        .await;
    assert!(first["errors"].is_null(), "{first}");
    let attacker_link = link_token(&app.mail_to(&email, "Verify your email").await);

    // The owner signs up too: the pending account becomes theirs.
    let owner_org = unique("Rightful Owners");
    let second = app
        .graphql(SIGN_UP, sign_up_input(&email, &owner_org))
        .await;
    assert_eq!(first["data"], second["data"], "same answer");
    let owner_link = loop {
        let next = link_token(&app.mail_to(&email, "Verify your email").await);
        if next != attacker_link {
            break next;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let stale = app
        .graphql(
            VERIFY,
            json!({ "t": attacker_link, "p": attacker_password }),
        )
        .await;
    assert_eq!(
        code(&stale),
        "UNAUTHENTICATED",
        "earlier links die: {stale}"
    );
    // The mailbox alone is not enough: the link activates only with the password of its sign-up.
    let wrong = app
        .graphql(VERIFY, json!({ "t": owner_link, "p": attacker_password }))
        .await;
    assert_eq!(
        (code(&wrong), field(&wrong)),
        ("VALIDATION", "password"),
        "{wrong}"
    );
    let verified = app
        .graphql(VERIFY, json!({ "t": owner_link, "p": TEST_PASSWORD }))
        .await;
    assert_eq!(verified["data"]["verifyEmail"], true, "{verified}");

    let squatter = app
        .graphql(
            SIGN_IN,
            json!({ "email": email, "password": attacker_password }),
        )
        .await;
    assert_eq!(code(&squatter), "UNAUTHENTICATED");
    let owner = app
        .graphql(
            SIGN_IN,
            json!({ "email": email, "password": TEST_PASSWORD }),
        )
        .await;
    let access = owner["data"]["signIn"]["accessToken"]
        .as_str()
        .expect("owner signs in")
        .to_owned();
    let viewer = app
        .graphql_as(&access, "{ viewer { organizations { name } } }", json!({}))
        .await;
    assert_eq!(
        viewer["data"]["viewer"]["organizations"],
        json!([{ "name": owner_org }]),
        "the squatter's organization went with the pending account"
    );
    let users: i64 = sqlx::query_scalar("select count(*) from users where email = $1")
        .bind(&email)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(users, 1);
}

const INVITE: &str = "mutation($o: UUID!, $e: String!, $r: Role!) { inviteMember(organizationId: $o, email: $e, role: $r) { id role } }";
const REVOKE_INVITATION: &str = "mutation($o: UUID!, $i: UUID!) { revokeInvitation(organizationId: $o, invitationId: $i) { id email } }";
const ACCEPT: &str = "mutation($t: String!) { acceptInvitation(token: $t) { id viewerRole } }";

#[tokio::test]
async fn invitations_need_a_verified_address_and_can_be_revoked() {
    let app = TestApp::spawn().await;
    let owner = app.user(&format!("{}@example.com", unique("owner"))).await;
    let admin = app.user(&format!("{}@example.com", unique("admin"))).await;
    let org = app
        .org_with(
            &unique("team"),
            &[(owner, "owner"), (admin, "admin")],
            false,
        )
        .await;
    let admin_jwt = app.token_for(admin).await;
    let owner_jwt = app.token_for(owner).await;

    // An account whose address is not proven cannot take what was mailed to that address.
    let pending_email = format!("{}@example.com", unique("pending"));
    let pending: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, display_name, password_hash) values ($1, 'Pending', 'x') returning id",
    )
    .bind(&pending_email)
    .fetch_one(&app.pool)
    .await
    .expect("unverified user");
    let invited = app
        .graphql_as(
            &admin_jwt,
            INVITE,
            json!({ "o": org, "e": pending_email, "r": "VIEWER" }),
        )
        .await;
    assert!(invited["errors"].is_null(), "{invited}");
    let token = link_token(&app.mail_to(&pending_email, "You are invited").await);
    let unproven = app
        .graphql_as(&app.token_for(pending).await, ACCEPT, json!({ "t": token }))
        .await;
    assert_eq!(
        (code(&unproven), field(&unproven)),
        ("VALIDATION", "email"),
        "{unproven}"
    );

    // Revoked: the link stops working even once the address is proven.
    let invitation = invited["data"]["inviteMember"]["id"].clone();
    let revoked = app
        .graphql_as(
            &admin_jwt,
            REVOKE_INVITATION,
            json!({ "o": org, "i": invitation }),
        )
        .await;
    assert_eq!(
        revoked["data"]["revokeInvitation"]["email"], pending_email,
        "{revoked}"
    );
    sqlx::query("update users set email_verified_at = now() where id = $1")
        .bind(pending)
        .execute(&app.pool)
        .await
        .expect("verify");
    let dead = app
        .graphql_as(&app.token_for(pending).await, ACCEPT, json!({ "t": token }))
        .await;
    assert_eq!(code(&dead), "UNAUTHENTICATED", "{dead}");
    let twice = app
        .graphql_as(
            &admin_jwt,
            REVOKE_INVITATION,
            json!({ "o": org, "i": invitation }),
        )
        .await;
    assert_eq!(code(&twice), "NOT_FOUND");
    let open = app
        .graphql_as(
            &admin_jwt,
            "query($o: UUID!) { organization(id: $o) { invitations { id } } }",
            json!({ "o": org }),
        )
        .await;
    assert_eq!(open["data"]["organization"]["invitations"], json!([]));

    // Only owners take back an invitation to become owner, as only they send one.
    let to_owner = app
        .graphql_as(
            &owner_jwt,
            INVITE,
            json!({ "o": org, "e": format!("{}@example.com", unique("heir")), "r": "OWNER" }),
        )
        .await;
    let heir = to_owner["data"]["inviteMember"]["id"].clone();
    let by_admin = app
        .graphql_as(
            &admin_jwt,
            REVOKE_INVITATION,
            json!({ "o": org, "i": heir }),
        )
        .await;
    assert_eq!(code(&by_admin), "FORBIDDEN");
    let by_owner = app
        .graphql_as(
            &owner_jwt,
            REVOKE_INVITATION,
            json!({ "o": org, "i": heir }),
        )
        .await;
    assert!(by_owner["errors"].is_null(), "{by_owner}");

    let audited: Vec<(String, Option<uuid::Uuid>)> = sqlx::query_as(
        "select target_id, actor_user_id from audit_events where action = 'invitation.revoked' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audited.len(), 2);
    assert_eq!(
        audited[0],
        (invitation.as_str().expect("id").to_owned(), Some(admin))
    );
}

#[tokio::test]
async fn invitation_mail_is_limited_per_account_and_per_organization() {
    let app = TestApp::spawn().await;
    let mut admins = Vec::new();
    for _ in 0..3 {
        admins.push(app.user(&format!("{}@example.com", unique("admin"))).await);
    }
    let org = app
        .org_with(
            &unique("busy"),
            &[
                (admins[0], "owner"),
                (admins[1], "admin"),
                (admins[2], "admin"),
            ],
            false,
        )
        .await;
    let mut outcomes = Vec::new();
    for (admin, tries) in [(admins[0], 21), (admins[1], 20), (admins[2], 11)] {
        let jwt = app.token_for(admin).await;
        let mut last = Value::Null;
        for _ in 0..tries {
            last = app
                .graphql_as(
                    &jwt,
                    INVITE,
                    json!({ "o": org, "e": format!("{}@example.com", unique("guest")), "r": "VIEWER" }),
                )
                .await;
        }
        outcomes.push(last);
    }
    // The first admin's 21st: over the account's 20 an hour.
    assert_eq!(code(&outcomes[0]), "RATE_LIMITED", "{}", outcomes[0]);
    assert!(
        outcomes[0]["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );
    // Another admin is not held back by it…
    assert!(outcomes[1]["errors"].is_null(), "{}", outcomes[1]);
    // …until the organization's 50 an hour are sent.
    assert_eq!(code(&outcomes[2]), "RATE_LIMITED", "{}", outcomes[2]);
    let sent: i64 = sqlx::query_scalar("select count(*) from invitations where org_id = $1")
        .bind(org)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(sent, 50, "refused invitations are not written");
}

/// Signs in (with a wrong password) as if forwarded for `client`.
async fn sign_in_via(app: &TestApp, email: &str, client: &str) -> Value {
    app.http
        .post(app.url("/graphql"))
        .header("x-forwarded-for", format!("203.0.113.250, {client}"))
        .json(&json!({ "query": SIGN_IN, "variables": { "email": email, "password": "wrong password 123" } }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

async fn app_trusting(proxies: &str) -> TestApp {
    let (db, pool) = TestDb::migrated().await;
    let limits = HttpLimits {
        trusted_proxies: TrustedProxies::parse(proxies).expect("proxies"),
        ..HttpLimits::default()
    };
    TestApp::spawn_with(db, pool, kafka_admin(), limits).await
}

#[tokio::test]
async fn behind_a_trusted_proxy_limits_follow_the_forwarded_client() {
    // The test client connects from 127.0.0.1: here it plays the proxy.
    let app = app_trusting("127.0.0.0/8").await;
    let email = format!("{}@example.com", unique("proxied"));
    for _ in 0..10 {
        assert_eq!(
            code(&sign_in_via(&app, &email, "198.51.100.1").await),
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        code(&sign_in_via(&app, &email, "198.51.100.1").await),
        "RATE_LIMITED"
    );
    assert_eq!(
        code(&sign_in_via(&app, &email, "198.51.100.2").await),
        "UNAUTHENTICATED",
        "another client behind the same proxy is not locked out"
    );

    // IPv6 clients count per /64.
    for i in 0..10 {
        let response = sign_in_via(&app, &email, &format!("2001:db8:1:2::{i:x}")).await;
        assert_eq!(code(&response), "UNAUTHENTICATED");
    }
    assert_eq!(
        code(&sign_in_via(&app, &email, "2001:db8:1:2:ffff::1").await),
        "RATE_LIMITED",
        "a new address in the same /64 is the same client"
    );
    assert_eq!(
        code(&sign_in_via(&app, &email, "2001:db8:1:3::1").await),
        "UNAUTHENTICATED"
    );

    // The audit trail records the forwarded client too.
    let user = app
        .user(&format!("{}@example.com", unique("audited")))
        .await;
    let jwt = app.token_for(user).await;
    let created = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&jwt)
        .header("forwarded", "for=192.0.2.60;proto=https")
        .json(&json!({ "query": "mutation($n: String!) { createOrganization(name: $n) { id } }", "variables": { "n": unique("Audited") } }))
        .send()
        .await
        .expect("request");
    assert!(created.status().is_success());
    let addr: Option<String> = sqlx::query_scalar(
        "select client_addr from audit_events where action = 'organization.created' and actor_user_id = $1",
    )
    .bind(user)
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(addr.as_deref(), Some("192.0.2.60"));
}

#[tokio::test]
async fn without_trusted_proxies_forwarding_headers_are_ignored() {
    let app = TestApp::spawn().await;
    let email = format!("{}@example.com", unique("direct"));
    for i in 0..10 {
        let response = sign_in_via(&app, &email, &format!("198.51.100.{i}")).await;
        assert_eq!(code(&response), "UNAUTHENTICATED");
    }
    assert_eq!(
        code(&sign_in_via(&app, &email, "198.51.100.99").await),
        "RATE_LIMITED",
        "a client cannot pick a new address by writing a header"
    );
}
