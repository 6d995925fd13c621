//! GraphQL subscriptions over WebSocket (graphql-transport-ws), authenticated at connection init.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};
use tributary_tests::{TestApp, unique};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, token: Option<&str>) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let payload = token.map_or(
        json!({}),
        |t| json!({ "Authorization": format!("Bearer {t}") }),
    );
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

/// The next protocol message (pings answered, other frames skipped), within `wait`.
pub(crate) async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame = tokio::time::timeout(left, socket.next())
            .await
            .ok()??
            .ok()?;
        if let Message::Text(text) = frame {
            let value: Value = serde_json::from_str(&text).expect("JSON message");
            if value["type"] == "ping" {
                send(socket, json!({ "type": "pong" })).await;
                continue;
            }
            return Some(value);
        }
    }
}

const SUBSCRIBE: &str =
    "subscription($org: UUID!) { auditEvents(organizationId: $org) { action targetType } }";

#[tokio::test]
async fn admins_receive_audit_events_live() {
    let app = TestApp::spawn().await;
    let admin = app.user(&format!("{}@example.com", unique("admin"))).await;
    let org = app
        .org_with(&unique("live"), &[(admin, "admin")], false)
        .await;
    let token = app.token_for(admin).await;

    let mut socket = acked(&app, Some(&token)).await;
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "org": org } } })).await;
    // Let the subscription start (it learns where the log ends), then change something.
    assert!(sync(&mut socket).await.is_empty(), "the subscription runs");
    let created = app
        .graphql_as(&token, "mutation($o: UUID!) { createApiToken(input: { organizationId: $o, name: \"live\", scopes: [READ] }) { secret } }", json!({ "o": org }))
        .await;
    assert!(created["errors"].is_null(), "{created}");

    let message = next(&mut socket, Duration::from_secs(10))
        .await
        .expect("an event");
    assert_eq!(message["type"], "next", "{message}");
    assert_eq!(message["id"], "1");
    assert_eq!(
        message["payload"]["data"]["auditEvents"]["action"],
        "api_token.created"
    );
    assert_eq!(
        message["payload"]["data"]["auditEvents"]["targetType"],
        "api_token"
    );
}

#[tokio::test]
async fn subscriptions_authorize_like_queries() {
    let app = TestApp::spawn().await;
    let viewer = app.user(&format!("{}@example.com", unique("viewer"))).await;
    let stranger = app
        .user(&format!("{}@example.com", unique("stranger")))
        .await;
    let org = app
        .org_with(&unique("guarded"), &[(viewer, "viewer")], false)
        .await;

    for (token, expected) in [
        (Some(app.token_for(viewer).await), "FORBIDDEN"),
        (Some(app.token_for(stranger).await), "NOT_FOUND"),
        (None, "UNAUTHENTICATED"),
    ] {
        let mut socket = acked(&app, token.as_deref()).await;
        send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "org": org } } })).await;
        let message = next(&mut socket, Duration::from_secs(5))
            .await
            .expect("an answer");
        let code = if message["type"] == "error" {
            message["payload"][0]["extensions"]["code"].clone()
        } else {
            message["payload"]["errors"][0]["extensions"]["code"].clone()
        };
        assert_eq!(code, expected, "{message}");
    }

    // A token that does not verify is refused at connection time.
    let mut socket = connect(&app, Some("forged.token.value")).await;
    let refused = next(&mut socket, Duration::from_secs(5)).await;
    assert!(
        refused.is_none()
            || refused
                .as_ref()
                .is_some_and(|m| m["type"] != "connection_ack"),
        "{refused:?}"
    );
}

/// Everything the server says until it answered a ping and half a second passed: every message
/// sent before the ping has been handled, and what it answered at once (a refusal) has arrived.
async fn sync(socket: &mut Socket) -> Vec<Value> {
    send(socket, json!({ "type": "ping" })).await;
    let mut said = Vec::new();
    loop {
        let message = next(socket, Duration::from_secs(5)).await.expect("pong");
        if message["type"] == "pong" {
            break;
        }
        said.push(message);
    }
    while let Some(message) = next(socket, Duration::from_millis(500)).await {
        said.push(message);
    }
    said
}

/// The first message about subscription `id` within `wait`, `complete` included.
async fn about(socket: &mut Socket, id: &str, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let message = next(socket, left).await?;
        if message["id"] == id {
            return Some(message);
        }
    }
}

async fn subscribe(socket: &mut Socket, id: &str, org: uuid::Uuid) {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "org": org } } }),
    )
    .await;
}

/// A connection the server acknowledged.
pub(crate) async fn acked(app: &TestApp, token: Option<&str>) -> Socket {
    let mut socket = connect(app, token).await;
    assert_eq!(
        next(&mut socket, Duration::from_secs(5))
            .await
            .expect("ack")["type"],
        "connection_ack"
    );
    socket
}

/// A subscription's last word when its credential stopped holding: an `UNAUTHENTICATED` error,
/// then `complete`.
async fn assert_ended(socket: &mut Socket, id: &str, wait: Duration) {
    let ended = about(socket, id, wait)
        .await
        .expect("the subscription ended");
    assert_eq!(ended["type"], "next", "{ended}");
    assert_eq!(
        ended["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{ended}"
    );
    let complete = about(socket, id, Duration::from_secs(5))
        .await
        .expect("complete");
    assert_eq!(complete["type"], "complete", "{complete}");
}

#[tokio::test]
async fn subscriptions_end_when_the_session_ends() {
    let app = TestApp::spawn().await;
    let admin = app.user(&format!("{}@example.com", unique("admin"))).await;
    let org = app
        .org_with(&unique("ending"), &[(admin, "admin")], false)
        .await;
    let token = app.token_for(admin).await;
    let mut socket = acked(&app, Some(&token)).await;
    subscribe(&mut socket, "1", org).await;
    assert!(sync(&mut socket).await.is_empty(), "the subscription runs");

    let out = app
        .graphql_as(&token, "mutation { signOut }", json!({}))
        .await;
    assert_eq!(out["data"]["signOut"], true, "{out}");
    assert_ended(
        &mut socket,
        "1",
        tributary_api::graphql::CREDENTIAL_CHECK * 3,
    )
    .await;

    // A new subscription on the same connection ends at once.
    subscribe(&mut socket, "2", org).await;
    assert_ended(&mut socket, "2", Duration::from_secs(5)).await;
}

#[tokio::test]
async fn subscriptions_end_when_the_access_token_expires() {
    let app = TestApp::spawn().await;
    let admin = app.user(&format!("{}@example.com", unique("admin"))).await;
    let org = app
        .org_with(&unique("expiring"), &[(admin, "admin")], false)
        .await;
    // A live session whose access token lives three seconds.
    let session = uuid::Uuid::new_v4();
    sqlx::query(
        "insert into refresh_tokens (family_id, user_id, token_hash, expires_at) values ($1, $2, $3, now() + interval '1 day')",
    )
    .bind(session)
    .bind(admin)
    .bind(session.as_bytes().to_vec())
    .execute(&app.pool)
    .await
    .expect("session");
    let mut config = tributary_tests::jwt_config();
    config.access_ttl = Duration::from_secs(3);
    let (token, _) = config.issue(admin, session).expect("token");

    let mut socket = acked(&app, Some(&token)).await;
    subscribe(&mut socket, "1", org).await;
    assert!(sync(&mut socket).await.is_empty(), "the subscription runs");
    let started = tokio::time::Instant::now();
    assert_ended(&mut socket, "1", Duration::from_secs(10)).await;
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "ended by the expiry, not at once"
    );
}

#[tokio::test]
async fn open_subscriptions_are_capped_per_connection_and_per_caller() {
    use tributary_api::graphql::{MAX_SUBSCRIPTIONS_PER_CALLER, MAX_SUBSCRIPTIONS_PER_CONNECTION};

    let app = TestApp::spawn().await;
    let admin = app.user(&format!("{}@example.com", unique("admin"))).await;
    let org = app
        .org_with(&unique("capped"), &[(admin, "admin")], false)
        .await;
    let token = app.token_for(admin).await;

    // One connection: up to its cap, then refused with a code.
    let mut first = acked(&app, Some(&token)).await;
    for i in 0..MAX_SUBSCRIPTIONS_PER_CONNECTION {
        subscribe(&mut first, &format!("a{i}"), org).await;
    }
    assert!(sync(&mut first).await.is_empty(), "all run");
    subscribe(&mut first, "over", org).await;
    let refused = about(&mut first, "over", Duration::from_secs(5))
        .await
        .expect("refused");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{refused}"
    );
    // Completing one frees its place.
    send(&mut first, json!({ "id": "a0", "type": "complete" })).await;
    subscribe(&mut first, "again", org).await;
    assert!(
        sync(&mut first).await.iter().all(|m| m["id"] != "again"),
        "the freed place is taken"
    );

    // Across connections: the caller's cap.
    let mut sockets = vec![first];
    let mut held = MAX_SUBSCRIPTIONS_PER_CONNECTION;
    while held < MAX_SUBSCRIPTIONS_PER_CALLER {
        let mut socket = acked(&app, Some(&token)).await;
        let here = (MAX_SUBSCRIPTIONS_PER_CALLER - held).min(MAX_SUBSCRIPTIONS_PER_CONNECTION);
        for i in 0..here {
            subscribe(&mut socket, &format!("b{i}"), org).await;
        }
        assert!(sync(&mut socket).await.is_empty(), "all run");
        held += here;
        sockets.push(socket);
    }
    let mut extra = acked(&app, Some(&token)).await;
    subscribe(&mut extra, "over", org).await;
    let refused = about(&mut extra, "over", Duration::from_secs(5))
        .await
        .expect("refused");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{refused}"
    );
    // Another caller is not affected.
    let other = app.user(&format!("{}@example.com", unique("other"))).await;
    sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, 'owner')")
        .bind(org)
        .bind(other)
        .execute(&app.pool)
        .await
        .expect("member");
    let mut theirs = acked(&app, Some(&app.token_for(other).await)).await;
    subscribe(&mut theirs, "mine", org).await;
    assert!(sync(&mut theirs).await.is_empty(), "runs");

    // Closing a connection gives its places back.
    drop(sockets.pop());
    tokio::time::sleep(Duration::from_millis(500)).await;
    subscribe(&mut extra, "later", org).await;
    assert!(
        sync(&mut extra).await.iter().all(|m| m["id"] != "later"),
        "a place was freed"
    );
}

/// No subscription is open to API tokens today (the audit log is for people), so the end of a
/// token's subscriptions is proven on the check they run: a revoked or expired token stops
/// holding, a live one holds.
#[tokio::test]
async fn api_token_credentials_stop_holding_when_revoked_or_expired() {
    let app = TestApp::spawn().await;
    let owner = app.user(&format!("{}@example.com", unique("owner"))).await;
    let org = app
        .org_with(&unique("machine"), &[(owner, "owner")], false)
        .await;
    let jwt = app.token_for(owner).await;
    let identity = tributary_identity::Identity::new(
        app.pool.clone(),
        tributary_tests::jwt_config(),
        "http://portal.test".into(),
    );
    let mut actors = Vec::new();
    for name in ["revoked", "expired", "live"] {
        let created = app
            .graphql_as(&jwt, "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }", json!({ "input": { "organizationId": org, "name": name, "scopes": ["READ"], "expiresInDays": 1 } }))
            .await;
        let secret = created["data"]["createApiToken"]["secret"]
            .as_str()
            .expect("secret");
        let principal = identity
            .authenticate_api_token(secret)
            .await
            .expect("authenticates");
        let actor = tributary_identity::Actor {
            principal,
            request_id: None,
            client_addr: None,
        };
        assert!(identity.credential_live(&actor).await.expect("check"));
        actors.push(actor);
    }
    sqlx::query("update api_tokens set revoked_at = now() where name = 'revoked'")
        .execute(&app.pool)
        .await
        .expect("revoke");
    sqlx::query(
        "update api_tokens set expires_at = now() - interval '1 second' where name = 'expired'",
    )
    .execute(&app.pool)
    .await
    .expect("expire");
    let live: Vec<bool> =
        futures::future::join_all(actors.iter().map(|a| identity.credential_live(a)))
            .await
            .into_iter()
            .map(|r| r.expect("check"))
            .collect();
    assert_eq!(live, [false, false, true]);
}
