use std::time::Duration;

use secrecy::SecretString;
use tributary_api::HttpLimits;
use tributary_provisioning::{KafkaAdmin, KafkaConfig, SecurityProtocol};
use tributary_tests::{TestApp, TestDb, kafka_admin};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn readyz_reports_every_dependency_when_ready() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["ready"], true);
    for check in ["postgres", "kafka", "migrations"] {
        assert_eq!(body[check]["ok"], true, "{check}: {body}");
    }
    assert_eq!(body["kafka"]["detail"], "1 broker(s)");
    assert_eq!(body["migrations"]["detail"], "all migrations applied");
}

#[tokio::test]
async fn readyz_is_unavailable_while_migrations_are_pending() {
    let db = TestDb::empty().await;
    let pool = db.pool().await;
    let app = TestApp::spawn_with(db, pool, kafka_admin(), HttpLimits::default()).await;
    let response = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["ready"], false);
    assert_eq!(body["postgres"]["ok"], true);
    assert_eq!(body["migrations"]["ok"], false);
    assert!(
        body["migrations"]["detail"]
            .as_str()
            .unwrap_or_default()
            .starts_with("pending: "),
        "{body}"
    );
}

#[tokio::test]
async fn readyz_is_unavailable_when_kafka_is_down() {
    let (db, pool) = TestDb::migrated().await;
    // A port nothing listens on: the broker is "down".
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let config = KafkaConfig {
        bootstrap_servers: format!("127.0.0.1:{port}"),
        security_protocol: SecurityProtocol::SaslPlaintext,
        username: "nobody".into(),
        password: SecretString::from("x"),
        ca_location: None,
        ca_pem: None,
    };
    let kafka = KafkaAdmin::new(&config, Duration::from_millis(800)).expect("client");
    let limits = HttpLimits {
        readiness_timeout: Duration::from_secs(2),
        ..HttpLimits::default()
    };
    let app = TestApp::spawn_with(db, pool, kafka, limits).await;
    let response = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["kafka"]["ok"], false, "{body}");
    assert_eq!(body["postgres"]["ok"], true);
    assert_eq!(body["migrations"]["ok"], true);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    let id = response
        .headers()
        .get("x-request-id")
        .expect("x-request-id header");
    assert_eq!(id.to_str().expect("ascii").len(), 36, "a UUID");
    let response = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "caller-chosen-id")
        .send()
        .await
        .expect("request");
    assert_eq!(response.headers()["x-request-id"], "caller-chosen-id");
}
