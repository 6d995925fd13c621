//! GraphQL subscriptions over WebSocket (graphql-transport-ws), authenticated at connection init.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};
use tributary_tests::{TestApp, unique};

type Socket =
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

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

/// The next protocol message (pings answered, other frames skipped), within `wait`.
async fn next(socket: &mut Socket, wait: Duration) -> Option<Value> {
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

    let mut socket = connect(&app, Some(&token)).await;
    assert_eq!(
        next(&mut socket, Duration::from_secs(5))
            .await
            .expect("ack")["type"],
        "connection_ack"
    );
    send(&mut socket, json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE, "variables": { "org": org } } })).await;
    // Give the subscription its first poll, then change something.
    tokio::time::sleep(Duration::from_millis(300)).await;
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
        let mut socket = connect(&app, token.as_deref()).await;
        assert_eq!(
            next(&mut socket, Duration::from_secs(5))
                .await
                .expect("ack")["type"],
            "connection_ack"
        );
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
