//! What a Confluent client or tool sees from `/registry` must match Confluent's own Schema
//! Registry (its `RestApiTest` and `RestApiCompatibilityTest` cases), as the operator and as a
//! tenant.

use reqwest::Method;
use serde_json::{Value, json};
use tributary_tests::{TestApp, unique};

use crate::{
    registry::{Auth, CT},
    streams::{provider, write_token},
};

const RECORD: &str = r#"{"type":"record","name":"R","fields":[{"name":"f1","type":"string"}]}"#;

/// The registry call of `registry.rs` with a tenant's token, status as a number.
async fn call(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, body) = crate::registry::call(app, Auth::Basic(token), method, path, body).await;
    (status.as_u16(), body)
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

#[tokio::test]
async fn soft_deleted_versions_references_and_content_types_behave_as_in_confluent() {
    let app = TestApp::spawn().await;
    let (org, owner) = provider(&app).await;
    let token = write_token(&app, &owner, org).await;
    let (other_org, other_owner) = provider(&app).await;
    let other = write_token(&app, &other_owner, other_org).await;
    let subject = format!("{}-value", unique("soft"));
    let user = format!("{}-value", unique("user"));
    let theirs = format!("{}-value", unique("theirs"));
    let mut conn = app.pool.acquire().await.expect("conn");
    for (name, owner) in [(&subject, org), (&user, org), (&theirs, other_org)] {
        tributary_registry::claim_subject(&mut conn, name, owner)
            .await
            .expect("claim");
    }
    let v1 = json!({ "schema": RECORD });
    let v2 = json!({ "schema": r#"{"type":"record","name":"R","fields":[{"name":"f1","type":"string"},{"name":"f2","type":"string","default":""}]}"# });
    for body in [&v1, &v2] {
        let (status, body) = call(
            &app,
            &token,
            Method::POST,
            &format!("/subjects/{subject}/versions"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }

    // referencedby: the ids of the live schemas that reference a version, readable ones only.
    let referencing = json!({ "schema": r#"{"type":"record","name":"U","fields":[{"name":"r","type":"R"}]}"#,
                              "references": [{ "name": "R", "subject": subject, "version": 1 }] });
    let (status, body) = call(
        &app,
        &token,
        Method::POST,
        &format!("/subjects/{user}/versions"),
        Some(referencing),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let user_id = body["id"].clone();
    let (status, body) = call(
        &app,
        &token,
        Method::GET,
        &format!("/subjects/{subject}/versions/1/referencedby"),
        None,
    )
    .await;
    assert_eq!((status, body), (200, json!([user_id])));
    let (status, body) = call(
        &app,
        &token,
        Method::GET,
        &format!("/subjects/{subject}/versions/2/referencedby"),
        None,
    )
    .await;
    assert_eq!((status, body), (200, json!([])));
    let (status, body) = call(
        &app,
        &other,
        Method::GET,
        &format!("/subjects/{subject}/versions/1/referencedby"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (404, Some(40401)),
        "{body}"
    );

    // Soft delete: ?deleted=true still reads the version and finds the schema; a second soft
    // delete answers 40406.
    let (status, body) = call(
        &app,
        &token,
        Method::DELETE,
        &format!("/subjects/{subject}/versions/2"),
        None,
    )
    .await;
    assert_eq!((status, &body), (200, &json!(2)));
    let (status, body) = call(
        &app,
        &token,
        Method::GET,
        &format!("/subjects/{subject}/versions/2"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (404, Some(40402)),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &token,
        Method::GET,
        &format!("/subjects/{subject}/versions/2?deleted=true"),
        None,
    )
    .await;
    assert_eq!((status, &body["version"]), (200, &json!(2)), "{body}");
    let (status, body) = call(
        &app,
        &token,
        Method::POST,
        &format!("/subjects/{subject}"),
        Some(v2.clone()),
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (404, Some(40403)),
        "{body}"
    );
    let (status, body) = call(
        &app,
        &token,
        Method::POST,
        &format!("/subjects/{subject}?deleted=true"),
        Some(v2.clone()),
    )
    .await;
    assert_eq!((status, &body["version"]), (200, &json!(2)), "{body}");
    let (status, body) = call(
        &app,
        &token,
        Method::DELETE,
        &format!("/subjects/{subject}/versions/2"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (404, Some(40406)),
        "{body}"
    );

    // POST /compatibility/subjects/{s}/versions checks as registration does.
    let (status, body) = call(&app, &token, Method::POST, &format!("/compatibility/subjects/{subject}/versions?verbose=true"), Some(json!({ "schema": r#"{"type":"record","name":"R","fields":[{"name":"f1","type":"int"}]}"# }))).await;
    assert_eq!(
        (status, &body["is_compatible"]),
        (200, &json!(false)),
        "{body}"
    );
    assert!(
        !body["messages"].as_array().expect("messages").is_empty(),
        "{body}"
    );

    // Content negotiation.
    let get = |accept: &'static str| {
        app.http
            .get(app.url(&format!("/registry/subjects/{subject}/versions")))
            .basic_auth("client", Some(token.as_str()))
            .header("accept", accept)
            .send()
    };
    for (accept, expected) in [
        ("application/vnd.schemaregistry.v1+json", CT),
        (
            "application/vnd.schemaregistry+json",
            "application/vnd.schemaregistry+json",
        ),
        ("application/json", "application/json"),
        ("text/html, application/json;q=0.9", "application/json"),
        ("*/*", CT),
    ] {
        let response = get(accept).await.expect("get");
        assert_eq!(response.status().as_u16(), 200, "{accept}");
        assert_eq!(response.headers()["content-type"], expected, "{accept}");
    }
    let response = get("text/html").await.expect("get");
    assert_eq!(response.status().as_u16(), 406);
    assert_eq!(
        response.json::<Value>().await.expect("JSON")["error_code"],
        406
    );
    let response = app
        .http
        .post(app.url(&format!("/registry/subjects/{subject}/versions")))
        .basic_auth("client", Some(token.as_str()))
        .header("content-type", "text/plain")
        .body(v1.to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 415);
    assert_eq!(
        response.json::<Value>().await.expect("JSON")["error_code"],
        415
    );
}
