//! What a Confluent client or tool sees from `/registry` must match Confluent's own Schema
//! Registry (its `RestApiTest` and `RestApiCompatibilityTest` cases), as the operator and as a
//! tenant.

use reqwest::Method;
use serde_json::{Value, json};
use tributary_tests::{TestApp, unique};

use crate::streams::{provider, write_token};

const CT: &str = "application/vnd.schemaregistry.v1+json";
const RECORD: &str = r#"{"type":"record","name":"R","fields":[{"name":"f1","type":"string"}]}"#;

async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .http
        .request(method, app.url(&format!("/registry{path}")))
        .basic_auth("client", Some(token));
    if let Some(body) = body {
        request = request.header("content-type", CT).body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn root_config_and_compatibility_of_unknown_subjects_answer_as_confluent_does() {
    let app = TestApp::spawn().await;
    let (org, owner) = provider(&app).await;
    let token = write_token(&app, &owner, org).await;
    let (other_org, other_owner) = provider(&app).await;
    let other = write_token(&app, &other_owner, other_org).await;
    let subject = format!("{}-value", unique("conformance"));
    let mut conn = app.pool.acquire().await.expect("conn");
    tributary_registry::claim_subject(&mut conn, &subject, org)
        .await
        .expect("claim");

    // GET / answers {} (with and without the trailing slash).
    for path in ["", "/"] {
        let response = app
            .http
            .get(app.url(&format!("/registry{path}")))
            .send()
            .await
            .expect("root");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert_eq!(
            response.json::<Value>().await.expect("JSON"),
            json!({}),
            "{path}"
        );
    }

    // A subject without its own level: 40408, whether it exists, is unknown or is another
    // tenant's; with defaultToGlobal, the global level.
    let unknown = format!("{}-value", unique("unknown"));
    for (who, path) in [
        (&token, format!("/config/{subject}")),
        (&token, format!("/config/{unknown}")),
        (&other, format!("/config/{subject}")),
    ] {
        let (status, body) = call(&app, who, Method::GET, &path, None).await;
        assert_eq!(
            (status, body["error_code"].as_u64()),
            (404, Some(40408)),
            "{path}: {body}"
        );
    }
    let (status, body) = call(
        &app,
        &token,
        Method::GET,
        &format!("/config/{unknown}?defaultToGlobal=true"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["compatibilityLevel"].is_string(), "{body}");

    // Compatibility against a subject with no versions: compatible at `latest`, 40402 for a
    // numbered version, 42201 for an invalid schema; the same for another tenant's subject.
    let schema = json!({ "schema": RECORD });
    for (who, subject) in [(&token, &subject), (&token, &unknown), (&other, &subject)] {
        let (status, body) = call(
            &app,
            who,
            Method::POST,
            &format!("/compatibility/subjects/{subject}/versions/latest"),
            Some(schema.clone()),
        )
        .await;
        assert_eq!(
            (status, &body),
            (200, &json!({ "is_compatible": true })),
            "{subject}"
        );
        let (status, body) = call(
            &app,
            who,
            Method::POST,
            &format!("/compatibility/subjects/{subject}/versions/1"),
            Some(schema.clone()),
        )
        .await;
        assert_eq!(
            (status, body["error_code"].as_u64()),
            (404, Some(40402)),
            "{subject}: {body}"
        );
        let (status, body) = call(
            &app,
            who,
            Method::POST,
            &format!("/compatibility/subjects/{subject}/versions/latest"),
            Some(json!({ "schema": "{\"type\":\"bogus\"}" })),
        )
        .await;
        assert_eq!(
            (status, body["error_code"].as_u64()),
            (422, Some(42201)),
            "{subject}: {body}"
        );
    }

    // Once it has a version, the owner's checks compare with it.
    let (status, body) = call(
        &app,
        &token,
        Method::POST,
        &format!("/subjects/{subject}/versions"),
        Some(schema.clone()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let incompatible = json!({ "schema": r#"{"type":"record","name":"R","fields":[{"name":"f1","type":"int"}]}"# });
    let (status, body) = call(
        &app,
        &token,
        Method::POST,
        &format!("/compatibility/subjects/{subject}/versions/latest"),
        Some(incompatible),
    )
    .await;
    assert_eq!(
        (status, &body),
        (200, &json!({ "is_compatible": false })),
        "{body}"
    );
}
