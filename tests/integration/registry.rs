//! The embedded schema registry over HTTP: every endpoint and error code, authorization, and
//! clients nobody here wrote (schema_registry_converter, Confluent's Python client).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tributary_identity::{Actor, Identity, Principal, Scope};
use tributary_tests::{TestApp, jwt_config, unique};
use uuid::Uuid;

pub(crate) const CT: &str = "application/vnd.schemaregistry.v1+json";

const ORDER_V1: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int"}]}"#;
const ORDER_V2_OK: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int"},{"name":"note","type":"string","default":""}]}"#;
const ORDER_V2_BAD: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int"},{"name":"note","type":"string"}]}"#;
const EVENT_JSON: &str = r#"{"type":"object","properties":{"kind":{"type":"string"},"n":{"type":"integer"}},"required":["kind"]}"#;

/// Who is who in one registry test.
struct World {
    app: TestApp,
    org_a: Uuid,
    /// Org A's write and read-only API tokens, org B's write token.
    a_write: String,
    a_read: String,
    b_write: String,
    /// An operator's access token (JWT) and org A owner's.
    operator_jwt: String,
    a_owner_jwt: String,
}

async fn api_token(app: &TestApp, user: Uuid, org: Uuid, scopes: &[Scope]) -> String {
    let identity = Identity::new(app.pool.clone(), jwt_config(), "http://portal.test".into());
    let actor = Actor {
        principal: Principal::User {
            id: user,
            session: Uuid::new_v4(),
        },
        request_id: None,
        client_addr: None,
    };
    identity
        .create_api_token(&actor, org, &unique("registry"), scopes, None)
        .await
        .expect("API token")
        .1
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let operator = app.user(&format!("{}@op.test", unique("op"))).await;
    app.org_with(&unique("operator"), &[(operator, "owner")], true)
        .await;
    let a_owner = app.user(&format!("{}@a.test", unique("a"))).await;
    let org_a = app
        .org_with(&unique("org-a"), &[(a_owner, "owner")], false)
        .await;
    let b_owner = app.user(&format!("{}@b.test", unique("b"))).await;
    let org_b = app
        .org_with(&unique("org-b"), &[(b_owner, "owner")], false)
        .await;
    World {
        a_write: api_token(&app, a_owner, org_a, &[Scope::Read, Scope::Write]).await,
        a_read: api_token(&app, a_owner, org_a, &[Scope::Read]).await,
        b_write: api_token(&app, b_owner, org_b, &[Scope::Read, Scope::Write]).await,
        operator_jwt: app.token_for(operator).await,
        a_owner_jwt: app.token_for(a_owner).await,
        app,
        org_a,
    }
}

async fn claim(app: &TestApp, subject: &str, org: Uuid) {
    let mut conn = app.pool.acquire().await.expect("conn");
    tributary_registry::claim_subject(&mut conn, subject, org)
        .await
        .expect("claim");
}

pub(crate) enum Auth<'a> {
    None,
    /// Confluent style: `Basic base64(user:token)`.
    Basic(&'a str),
    Bearer(&'a str),
}

pub(crate) async fn call(
    app: &TestApp,
    auth: Auth<'_>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .http
        .request(method, app.url(&format!("/registry{path}")));
    request = match auth {
        Auth::None => request,
        Auth::Basic(token) => request.basic_auth("client", Some(token)),
        Auth::Bearer(token) => request.bearer_auth(token),
    };
    if let Some(body) = body {
        request = request.header("content-type", CT).body(body.to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    assert_eq!(content_type, CT, "{path}: {text}");
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn avro(schema: &str) -> Value {
    json!({ "schema": schema })
}

fn assert_error(result: &(StatusCode, Value), status: u16, code: u64) {
    assert_eq!(result.0.as_u16(), status, "{}", result.1);
    assert_eq!(result.1["error_code"], code, "{}", result.1);
    assert!(result.1["message"].is_string(), "{}", result.1);
}

#[tokio::test]
async fn registry_speaks_confluent_rest() {
    let w = world().await;
    let app = &w.app;
    let a = || Auth::Basic(&w.a_write);
    claim(app, "orders-value", w.org_a).await;
    claim(app, "events-value", w.org_a).await;
    claim(app, "money", w.org_a).await;
    claim(app, "invoice-value", w.org_a).await;

    // Register (AVRO by default) and again: the same id and version.
    let first = call(
        app,
        a(),
        Method::POST,
        "/subjects/orders-value/versions",
        Some(avro(ORDER_V1)),
    )
    .await;
    assert_eq!(first.0, StatusCode::OK, "{}", first.1);
    let id = first.1["id"].as_i64().expect("id");
    assert_eq!(first.1["version"], 1);
    let again = call(
        app,
        a(),
        Method::POST,
        "/subjects/orders-value/versions",
        Some(json!({"schema": ORDER_V1, "schemaType": "AVRO"})),
    )
    .await;
    assert_eq!(
        (again.1["id"].as_i64(), again.1["version"].as_i64()),
        (Some(id), Some(1))
    );

    // Reads.
    assert_eq!(
        call(app, a(), Method::GET, "/subjects", None).await.1,
        json!(["orders-value"])
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::GET,
            "/subjects/orders-value/versions",
            None
        )
        .await
        .1,
        json!([1])
    );
    for v in ["1", "latest"] {
        let got = call(
            app,
            a(),
            Method::GET,
            &format!("/subjects/orders-value/versions/{v}"),
            None,
        )
        .await
        .1;
        assert_eq!(got["subject"], "orders-value");
        assert_eq!(got["version"], 1);
        assert_eq!(got["id"], id);
        assert!(got.get("schemaType").is_none(), "AVRO is implied: {got}");
        let schema: Value =
            serde_json::from_str(got["schema"].as_str().expect("schema")).expect("JSON");
        assert_eq!(
            schema,
            serde_json::from_str::<Value>(ORDER_V1).expect("JSON")
        );
    }
    let raw = call(
        app,
        a(),
        Method::GET,
        "/subjects/orders-value/versions/1/schema",
        None,
    )
    .await;
    assert_eq!(
        raw.1["name"], "Order",
        "raw schema is the schema itself: {}",
        raw.1
    );
    let by_id = call(app, a(), Method::GET, &format!("/schemas/ids/{id}"), None)
        .await
        .1;
    assert!(
        by_id["schema"].is_string() && by_id.get("schemaType").is_none(),
        "{by_id}"
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::GET,
            &format!("/schemas/ids/{id}/schema"),
            None
        )
        .await
        .1["type"],
        "record"
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::GET,
            &format!("/schemas/ids/{id}/versions"),
            None
        )
        .await
        .1,
        json!([{"subject": "orders-value", "version": 1}])
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::GET,
            &format!("/schemas/ids/{id}/subjects"),
            None
        )
        .await
        .1,
        json!(["orders-value"])
    );
    assert_eq!(
        call(app, a(), Method::GET, "/schemas/types", None).await.1,
        json!(["JSON", "PROTOBUF", "AVRO"])
    );

    // Lookup.
    let found = call(
        app,
        a(),
        Method::POST,
        "/subjects/orders-value",
        Some(avro(ORDER_V1)),
    )
    .await;
    assert_eq!(
        (
            found.1["id"].as_i64(),
            found.1["version"].as_i64(),
            found.1["subject"].as_str()
        ),
        (Some(id), Some(1), Some("orders-value"))
    );
    assert_error(
        &call(
            app,
            a(),
            Method::POST,
            "/subjects/orders-value",
            Some(avro(ORDER_V2_OK)),
        )
        .await,
        404,
        40403,
    );
    assert_error(
        &call(
            app,
            a(),
            Method::POST,
            "/subjects/events-value",
            Some(avro(ORDER_V1)),
        )
        .await,
        404,
        40401,
    );

    // Compatibility (global BACKWARD).
    let verdict = call(
        app,
        a(),
        Method::POST,
        "/compatibility/subjects/orders-value/versions/latest?verbose=true",
        Some(avro(ORDER_V2_BAD)),
    )
    .await
    .1;
    assert_eq!(verdict["is_compatible"], false, "{verdict}");
    assert!(
        verdict["messages"][0]
            .as_str()
            .unwrap_or_default()
            .contains("note"),
        "{verdict}"
    );
    let verdict = call(
        app,
        a(),
        Method::POST,
        "/compatibility/subjects/orders-value/versions/1",
        Some(avro(ORDER_V2_OK)),
    )
    .await
    .1;
    assert_eq!(verdict, json!({"is_compatible": true}));
    assert_error(
        &call(
            app,
            a(),
            Method::POST,
            "/subjects/orders-value/versions",
            Some(avro(ORDER_V2_BAD)),
        )
        .await,
        409,
        409,
    );
    let v2 = call(
        app,
        a(),
        Method::POST,
        "/subjects/orders-value/versions",
        Some(avro(ORDER_V2_OK)),
    )
    .await
    .1;
    assert_eq!(v2["version"], 2);

    // Invalid input.
    assert_error(
        &call(
            app,
            a(),
            Method::POST,
            "/subjects/orders-value/versions",
            Some(avro(r#"{"type":"record","name":"X"}"#)),
        )
        .await,
        422,
        42201,
    );
    assert_error(
        &call(
            app,
            a(),
            Method::POST,
            "/subjects/orders-value/versions",
            Some(json!({"schema": "{", "schemaType": "JSON"})),
        )
        .await,
        422,
        42201,
    );
    assert_error(&call(app, a(), Method::POST, "/subjects/orders-value/versions", Some(json!({"schema": ORDER_V1, "references": [{"name": "x.Y", "subject": "nope", "version": 1}]}))).await, 422, 42201);
    assert_error(
        &call(
            app,
            a(),
            Method::GET,
            "/subjects/orders-value/versions/abc",
            None,
        )
        .await,
        422,
        42202,
    );
    assert_error(
        &call(
            app,
            a(),
            Method::GET,
            "/subjects/orders-value/versions/0",
            None,
        )
        .await,
        422,
        42202,
    );
    assert_error(
        &call(
            app,
            a(),
            Method::GET,
            "/subjects/orders-value/versions/99",
            None,
        )
        .await,
        404,
        40402,
    );
    assert_error(
        &call(
            app,
            a(),
            Method::GET,
            "/subjects/unknown-value/versions",
            None,
        )
        .await,
        404,
        40401,
    );
    assert_error(
        &call(app, a(), Method::GET, "/schemas/ids/999999", None).await,
        404,
        40403,
    );

    // Configuration.
    assert_eq!(
        call(app, a(), Method::GET, "/config", None).await.1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    assert_error(
        &call(
            app,
            a(),
            Method::PUT,
            "/config/orders-value",
            Some(json!({"compatibility": "SIDEWAYS"})),
        )
        .await,
        422,
        42203,
    );
    assert_error(
        &call(app, a(), Method::GET, "/config/orders-value", None).await,
        404,
        40408,
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::GET,
            "/config/orders-value?defaultToGlobal=true",
            None
        )
        .await
        .1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::PUT,
            "/config/orders-value",
            Some(json!({"compatibility": "full_transitive"}))
        )
        .await
        .1,
        json!({"compatibility": "FULL_TRANSITIVE"})
    );
    assert_eq!(
        call(app, a(), Method::GET, "/config/orders-value", None)
            .await
            .1,
        json!({"compatibilityLevel": "FULL_TRANSITIVE"})
    );
    assert_eq!(
        call(app, a(), Method::DELETE, "/config/orders-value", None)
            .await
            .1,
        json!({"compatibilityLevel": "FULL_TRANSITIVE"})
    );
    assert_error(
        &call(
            app,
            a(),
            Method::PUT,
            "/config",
            Some(json!({"compatibility": "NONE"})),
        )
        .await,
        403,
        40301,
    );
    assert_eq!(
        call(
            app,
            Auth::Bearer(&w.operator_jwt),
            Method::PUT,
            "/config",
            Some(json!({"compatibility": "FORWARD"}))
        )
        .await
        .1,
        json!({"compatibility": "FORWARD"})
    );
    assert_eq!(
        call(app, a(), Method::GET, "/config", None).await.1,
        json!({"compatibilityLevel": "FORWARD"})
    );

    // JSON Schema and Protobuf with references.
    let event = call(
        app,
        a(),
        Method::POST,
        "/subjects/events-value/versions",
        Some(json!({"schema": EVENT_JSON, "schemaType": "JSON"})),
    )
    .await
    .1;
    let event_id = event["id"].as_i64().expect("id");
    assert_eq!(
        call(
            app,
            a(),
            Method::GET,
            &format!("/schemas/ids/{event_id}"),
            None
        )
        .await
        .1["schemaType"],
        "JSON"
    );
    let money = "syntax = \"proto3\";\npackage shop;\nmessage Money { int64 minor = 1; string currency = 2; }\n";
    let invoice = "syntax = \"proto3\";\npackage shop;\nimport \"shop/money.proto\";\nmessage Invoice { string id = 1; Money total = 2; }\n";
    let m = call(
        app,
        a(),
        Method::POST,
        "/subjects/money/versions",
        Some(json!({"schema": money, "schemaType": "PROTOBUF"})),
    )
    .await;
    assert_eq!(m.0, StatusCode::OK, "{}", m.1);
    let refs = json!([{"name": "shop/money.proto", "subject": "money", "version": 1}]);
    let inv = call(
        app,
        a(),
        Method::POST,
        "/subjects/invoice-value/versions",
        Some(json!({"schema": invoice, "schemaType": "PROTOBUF", "references": refs})),
    )
    .await;
    assert_eq!(inv.0, StatusCode::OK, "{}", inv.1);
    let inv_id = inv.1["id"].as_i64().expect("id");
    let got = call(
        app,
        a(),
        Method::GET,
        &format!("/schemas/ids/{inv_id}"),
        None,
    )
    .await
    .1;
    assert_eq!(
        (got["schemaType"].clone(), got["references"].clone()),
        (json!("PROTOBUF"), refs)
    );
    // A referenced version cannot be deleted while something uses it.
    assert_error(
        &call(app, a(), Method::DELETE, "/subjects/money/versions/1", None).await,
        422,
        42206,
    );
    // Decode a Protobuf message in the wire format: id, message index [0], Invoice{id:"i", total{minor:5}}.
    let mut framed = vec![0u8];
    framed.extend_from_slice(&i32::try_from(inv_id).expect("id").to_be_bytes());
    framed.extend_from_slice(&[0, 0x0a, 0x01, b'i', 0x12, 0x02, 0x08, 0x05]);
    let mut conn = app.pool.acquire().await.expect("conn");
    let decoded = tributary_registry::decode_message(&mut conn, &framed)
        .await
        .expect("decode");
    assert_eq!(decoded, json!({"id": "i", "total": {"minor": "5"}}));

    // Deletes: versions, then the subject, soft then permanent (Confluent's order).
    assert_error(
        &call(
            app,
            a(),
            Method::DELETE,
            "/subjects/orders-value/versions/2?permanent=true",
            None,
        )
        .await,
        404,
        40407,
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::DELETE,
            "/subjects/orders-value/versions/2",
            None
        )
        .await
        .1,
        json!(2)
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::GET,
            "/subjects/orders-value/versions",
            None
        )
        .await
        .1,
        json!([1])
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::GET,
            "/subjects/orders-value/versions?deleted=true",
            None
        )
        .await
        .1,
        json!([1, 2])
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::DELETE,
            "/subjects/orders-value/versions/2?permanent=true",
            None
        )
        .await
        .1,
        json!(2)
    );
    assert_error(
        &call(
            app,
            a(),
            Method::DELETE,
            "/subjects/orders-value?permanent=true",
            None,
        )
        .await,
        404,
        40405,
    );
    assert_eq!(
        call(app, a(), Method::DELETE, "/subjects/orders-value", None)
            .await
            .1,
        json!([1])
    );
    assert_error(
        &call(
            app,
            a(),
            Method::GET,
            "/subjects/orders-value/versions",
            None,
        )
        .await,
        404,
        40401,
    );
    assert_error(
        &call(app, a(), Method::DELETE, "/subjects/orders-value", None).await,
        404,
        40404,
    );
    let listed = call(app, a(), Method::GET, "/subjects?deleted=true", None)
        .await
        .1;
    assert!(
        listed
            .as_array()
            .expect("list")
            .contains(&json!("orders-value")),
        "{listed}"
    );
    assert!(
        !call(app, a(), Method::GET, "/subjects", None)
            .await
            .1
            .as_array()
            .expect("list")
            .contains(&json!("orders-value"))
    );
    assert_eq!(
        call(
            app,
            a(),
            Method::DELETE,
            "/subjects/orders-value?permanent=true",
            None
        )
        .await
        .1,
        json!([1])
    );
    assert_error(
        &call(
            app,
            a(),
            Method::DELETE,
            "/subjects/orders-value?permanent=true",
            None,
        )
        .await,
        404,
        40401,
    );
    // Re-registering after the permanent delete reuses the schema id, versions start again.
    let back = call(
        app,
        a(),
        Method::POST,
        "/subjects/orders-value/versions",
        Some(avro(ORDER_V1)),
    )
    .await
    .1;
    assert_eq!(
        (back["id"].as_i64(), back["version"].as_i64()),
        (Some(id), Some(1))
    );

    // The store failing answers 50001 without its cause.
    sqlx::query("alter table registry_config rename to registry_config_gone")
        .execute(&app.pool)
        .await
        .expect("break the store");
    let broken = call(app, a(), Method::GET, "/config", None).await;
    assert_error(&broken, 500, 50001);
    assert!(
        !broken.1["message"]
            .as_str()
            .unwrap_or_default()
            .contains("registry_config"),
        "{}",
        broken.1
    );
}

#[tokio::test]
async fn registry_authorization_follows_ownership() {
    let w = world().await;
    let app = &w.app;
    claim(app, "private-value", w.org_a).await;
    claim(app, "shared-value", w.org_a).await;
    let registered = call(
        app,
        Auth::Basic(&w.a_write),
        Method::POST,
        "/subjects/private-value/versions",
        Some(avro(ORDER_V1)),
    )
    .await;
    assert_eq!(registered.0, StatusCode::OK, "{}", registered.1);
    let id = registered.1["id"].as_i64().expect("id");

    // No or bad credentials: 401.
    assert_error(
        &call(app, Auth::None, Method::GET, "/subjects", None).await,
        401,
        40101,
    );
    assert_error(
        &call(
            app,
            Auth::Basic("trb_not_a_token"),
            Method::GET,
            "/subjects",
            None,
        )
        .await,
        401,
        40101,
    );
    assert_error(
        &call(
            app,
            Auth::Bearer("not.a.jwt"),
            Method::GET,
            "/schemas/types",
            None,
        )
        .await,
        401,
        40101,
    );

    // Another organization: reads answer as if the subject did not exist (its name is not
    // revealed), writes are forbidden, and lists hide the subject.
    let b = || Auth::Basic(&w.b_write);
    assert_error(
        &call(
            app,
            b(),
            Method::GET,
            "/subjects/private-value/versions",
            None,
        )
        .await,
        404,
        40401,
    );
    assert_error(
        &call(
            app,
            b(),
            Method::GET,
            "/subjects/private-value/versions/latest",
            None,
        )
        .await,
        404,
        40401,
    );
    assert_error(
        &call(app, b(), Method::GET, &format!("/schemas/ids/{id}"), None).await,
        403,
        40301,
    );
    assert_error(
        &call(
            app,
            b(),
            Method::POST,
            "/subjects/private-value/versions",
            Some(avro(ORDER_V2_OK)),
        )
        .await,
        403,
        40301,
    );
    assert_error(
        &call(app, b(), Method::DELETE, "/subjects/private-value", None).await,
        403,
        40301,
    );
    assert_error(
        &call(
            app,
            b(),
            Method::PUT,
            "/config/private-value",
            Some(json!({"compatibility": "NONE"})),
        )
        .await,
        403,
        40301,
    );
    assert_eq!(
        call(app, b(), Method::GET, "/subjects", None).await.1,
        json!([])
    );
    // No squatting: an unclaimed subject is the operator's alone.
    assert_error(
        &call(
            app,
            b(),
            Method::POST,
            "/subjects/unclaimed-value/versions",
            Some(avro(ORDER_V1)),
        )
        .await,
        403,
        40301,
    );
    assert_error(
        &call(
            app,
            Auth::Basic(&w.a_write),
            Method::POST,
            "/subjects/unclaimed-value/versions",
            Some(avro(ORDER_V1)),
        )
        .await,
        403,
        40301,
    );
    // A read-only token reads but does not write.
    assert_eq!(
        call(
            app,
            Auth::Basic(&w.a_read),
            Method::GET,
            "/subjects/private-value/versions",
            None
        )
        .await
        .1,
        json!([1])
    );
    assert_error(
        &call(
            app,
            Auth::Basic(&w.a_read),
            Method::POST,
            "/subjects/private-value/versions",
            Some(avro(ORDER_V2_OK)),
        )
        .await,
        403,
        40301,
    );
    // The owner signed in (JWT, only organization) and with X-Tributary-Org.
    assert_eq!(
        call(
            app,
            Auth::Bearer(&w.a_owner_jwt),
            Method::GET,
            "/subjects",
            None
        )
        .await
        .1,
        json!(["private-value"])
    );
    let with_header = app
        .http
        .get(app.url("/registry/subjects"))
        .bearer_auth(&w.a_owner_jwt)
        .header("X-Tributary-Org", w.org_a.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(with_header.status(), StatusCode::OK);
    let wrong_org = app
        .http
        .get(app.url("/registry/subjects"))
        .bearer_auth(&w.a_owner_jwt)
        .header("X-Tributary-Org", Uuid::new_v4().to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(wrong_org.status(), StatusCode::UNAUTHORIZED);

    // Public subjects are readable by every authenticated caller.
    let shared = call(
        app,
        Auth::Basic(&w.a_write),
        Method::POST,
        "/subjects/shared-value/versions",
        Some(avro(ORDER_V1)),
    )
    .await;
    assert_eq!(shared.0, StatusCode::OK, "{}", shared.1);
    let mut conn = app.pool.acquire().await.expect("conn");
    tributary_registry::set_public_read(&mut conn, "shared-value", true)
        .await
        .expect("public");
    assert_eq!(
        call(app, b(), Method::GET, "/subjects", None).await.1,
        json!(["shared-value"])
    );
    assert_eq!(
        call(
            app,
            b(),
            Method::GET,
            "/subjects/shared-value/versions/latest",
            None
        )
        .await
        .1["version"],
        1
    );
    assert_eq!(
        call(
            app,
            b(),
            Method::GET,
            &format!("/schemas/ids/{id}/subjects"),
            None
        )
        .await
        .1,
        json!(["shared-value"]),
        "only readable subjects are listed"
    );
    assert_error(
        &call(
            app,
            b(),
            Method::POST,
            "/subjects/shared-value/versions",
            Some(avro(ORDER_V2_OK)),
        )
        .await,
        403,
        40301,
    );
    assert_error(
        &call(
            app,
            Auth::None,
            Method::GET,
            "/subjects/shared-value/versions",
            None,
        )
        .await,
        401,
        40101,
    );

    // Another org cannot claim A's subject.
    let other = tributary_registry::claim_subject(&mut conn, "private-value", Uuid::new_v4()).await;
    assert!(
        matches!(other, Err(tributary_registry::RegistryError::Conflict(_))),
        "{other:?}"
    );

    // The operator reads and writes everything, unclaimed subjects included.
    let op = || Auth::Bearer(&w.operator_jwt);
    // (The platform's own `tributary.events-value` appears once the event relay has started.)
    let mut listed = call(app, op(), Method::GET, "/subjects", None).await.1;
    if let Some(subjects) = listed.as_array_mut() {
        subjects.retain(|s| s != "tributary.events-value");
    }
    assert_eq!(listed, json!(["private-value", "shared-value"]));
    let unclaimed = call(
        app,
        op(),
        Method::POST,
        "/subjects/unclaimed-value/versions",
        Some(avro(ORDER_V1)),
    )
    .await;
    assert_eq!(unclaimed.0, StatusCode::OK, "{}", unclaimed.1);
    assert_eq!(
        call(app, op(), Method::DELETE, "/subjects/private-value", None)
            .await
            .1,
        json!([1])
    );

    // An operator member with the viewer role does not act as the operator.
    let viewer = app.user(&format!("{}@op.test", unique("op-viewer"))).await;
    sqlx::query(
        "insert into memberships (org_id, user_id, role) select id, $1, 'viewer' from organizations where is_operator",
    )
    .bind(viewer)
    .execute(&app.pool)
    .await
    .expect("operator viewer");
    let viewer_jwt = app.token_for(viewer).await;
    let refused = call(
        app,
        Auth::Bearer(&viewer_jwt),
        Method::POST,
        "/subjects/unclaimed-value/versions",
        Some(avro(ORDER_V1)),
    )
    .await;
    assert_eq!(refused.0, StatusCode::FORBIDDEN, "{}", refused.1);
}

#[tokio::test]
async fn schema_registry_converter_round_trips_avro_and_json() {
    use apache_avro::types::Value as AvroValue;
    use schema_registry_converter::{
        async_impl::{
            avro::{AvroDecoder, AvroEncoder},
            json::{JsonDecoder, JsonEncoder},
            schema_registry::SrSettings,
        },
        schema_registry_common::{SchemaType, SubjectNameStrategy, SuppliedSchema},
    };

    let w = world().await;
    let app = &w.app;
    claim(app, "conv.orders-value", w.org_a).await;
    claim(app, "conv.events-value", w.org_a).await;
    let settings = || {
        SrSettings::new_builder(app.url("/registry"))
            .set_basic_authorization("client", Some(&w.a_write))
            .no_proxy()
            .set_timeout(Duration::from_secs(10))
            .build()
            .expect("settings")
    };
    let supplied =
        |schema_type, schema: &str| SuppliedSchema::new(None, schema_type, schema.to_owned());

    let encoder = AvroEncoder::new(settings());
    let bytes = encoder
        .encode(
            vec![
                ("id", AvroValue::String("o-1".into())),
                ("qty", AvroValue::Int(3)),
            ],
            SubjectNameStrategy::TopicNameStrategyWithSchema(
                "conv.orders".into(),
                false,
                supplied(SchemaType::Avro, ORDER_V1),
            ),
        )
        .await
        .expect("Avro encode registers the schema");
    assert_eq!(bytes[0], 0);
    let decoded = AvroDecoder::new(settings())
        .decode(Some(&bytes))
        .await
        .expect("Avro decode");
    assert_eq!(
        decoded.value,
        AvroValue::Record(vec![
            ("id".into(), AvroValue::String("o-1".into())),
            ("qty".into(), AvroValue::Int(3))
        ])
    );
    let mut conn = app.pool.acquire().await.expect("conn");
    let ours = tributary_registry::decode_message(&mut conn, &bytes)
        .await
        .expect("our decode");
    assert_eq!(ours, json!({"id": "o-1", "qty": 3}));

    let json_encoder = JsonEncoder::new(settings());
    let event = json!({"kind": "click", "n": 7});
    let bytes = json_encoder
        .encode(
            &event,
            SubjectNameStrategy::TopicNameStrategyWithSchema(
                "conv.events".into(),
                false,
                supplied(SchemaType::Json, EVENT_JSON),
            ),
        )
        .await
        .expect("JSON encode registers the schema");
    let decoded = JsonDecoder::new(settings())
        .decode(Some(&bytes))
        .await
        .expect("JSON decode")
        .expect("a value");
    assert_eq!(decoded.value, event);
    assert_eq!(
        tributary_registry::decode_message(&mut conn, &bytes)
            .await
            .expect("our decode"),
        event
    );
    // The registry saw both registrations under the topic-name subjects.
    let versions = call(
        app,
        Auth::Basic(&w.a_write),
        Method::GET,
        "/subjects/conv.events-value/versions",
        None,
    )
    .await
    .1;
    assert_eq!(versions, json!([1]));
}

#[tokio::test]
async fn confluent_python_client_interoperates() {
    let w = world().await;
    let app = &w.app;
    let prefix = "py.";
    claim(app, "py.orders-value", w.org_a).await;
    claim(app, "py.events-value", w.org_a).await;
    let python_path = std::env::var("TRIBUTARY_TEST_PYTHONPATH")
        .expect("TRIBUTARY_TEST_PYTHONPATH: run through `cargo xtask test`");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/registry_interop.py");
    let output = tokio::process::Command::new("python3")
        .arg(script)
        .arg(app.url("/registry"))
        .arg(&w.a_write)
        .arg(prefix)
        .env("PYTHONPATH", python_path)
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
    let result: Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or_default())
        .expect("one JSON line");
    assert_eq!(result["compatible"], true, "{result}");
    assert_eq!(result["incompatible"], false, "{result}");
    assert_eq!(result["incompatible_error_code"], 409, "{result}");
    assert_eq!(result["versions"], json!([1]), "{result}");
    assert_eq!(result["subjects"], json!(["py.orders-value"]), "{result}");
    assert_eq!(
        result["avro_roundtrip"],
        json!({"id": "o-1", "qty": 3}),
        "{result}"
    );
    assert_eq!(
        result["json_roundtrip"],
        json!({"kind": "click", "n": 7}),
        "{result}"
    );
    assert_eq!(result["json_subject_versions"], json!([1]), "{result}");

    // Their bytes through our decoder: the wire format holds both ways.
    let hex = result["avro_payload_hex"].as_str().expect("hex");
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    let mut conn = app.pool.acquire().await.expect("conn");
    let ours = tributary_registry::decode_message(&mut conn, &bytes)
        .await
        .expect("our decode");
    assert_eq!(ours, json!({"id": "o-1", "qty": 3}));
}

/// Plain levels check a new version against the latest one only; transitive levels against every
/// earlier one. Each case has a third version compatible with the second but not the first.
#[tokio::test]
async fn transitive_levels_check_every_earlier_version() {
    let w = world().await;
    let app = &w.app;
    let a = || Auth::Basic(&w.a_write);
    let record = |fields: &str| {
        format!(r#"{{"type":"record","name":"Reading","namespace":"levels","fields":[{fields}]}}"#)
    };
    let cases = [
        (
            "BACKWARD",
            // v3 reads v2's data (b is written) but not v1's (b missing, no default).
            [
                record(r#"{"name":"a","type":"string"}"#),
                record(
                    r#"{"name":"a","type":"string"},{"name":"b","type":"string","default":"x"}"#,
                ),
                record(r#"{"name":"b","type":"string"}"#),
            ],
        ),
        (
            "FORWARD",
            // v2 reads v3's data (a has a default) but v1 does not (a missing, no default).
            [
                record(r#"{"name":"a","type":"string"},{"name":"c","type":"string"}"#),
                record(
                    r#"{"name":"a","type":"string","default":"d"},{"name":"c","type":"string"}"#,
                ),
                record(r#"{"name":"c","type":"string"}"#),
            ],
        ),
    ];
    for (level, [v1, v2, v3]) in cases {
        for transitive in [true, false] {
            let subject = format!("{}-value", unique("levels"));
            claim(app, &subject, w.org_a).await;
            let configured = if transitive {
                format!("{level}_TRANSITIVE")
            } else {
                level.to_owned()
            };
            let (status, _) = call(
                app,
                a(),
                Method::PUT,
                &format!("/config/{subject}"),
                Some(json!({ "compatibility": configured })),
            )
            .await;
            assert_eq!(status, 200);
            for (n, schema) in [&v1, &v2].into_iter().enumerate() {
                let (status, body) = call(
                    app,
                    a(),
                    Method::POST,
                    &format!("/subjects/{subject}/versions"),
                    Some(avro(schema)),
                )
                .await;
                assert_eq!(status, 200, "{configured} v{}: {body}", n + 1);
            }
            let third = call(
                app,
                a(),
                Method::POST,
                &format!("/subjects/{subject}/versions"),
                Some(avro(&v3)),
            )
            .await;
            if transitive {
                assert_error(&third, 409, 409);
            } else {
                assert_eq!(third.0, 200, "{configured} v3: {}", third.1);
            }
            // The dry run answers the same against all versions.
            let (_, verdict) = call(
                app,
                a(),
                Method::POST,
                &format!("/compatibility/subjects/{subject}/versions/latest"),
                Some(avro(&v3)),
            )
            .await;
            assert!(verdict["is_compatible"].is_boolean(), "{verdict}");
        }
    }
}

/// Migration 0013 recomputes Avro fingerprints in SQL; run again over schemas this registry
/// fingerprinted (one with a reference), it must reproduce them exactly, or an identical schema
/// registered after the migration would become a second version.
#[tokio::test]
async fn the_avro_fingerprint_migration_matches_the_registry() {
    let w = world().await;
    let app = &w.app;
    let a = || Auth::Basic(&w.a_write);
    let money = r#"{"type":"record","name":"Money","namespace":"fp","fields":[{"name":"minor","type":"long"},{"name":"currency","type":"string","default":"EUR"}]}"#;
    let order = r#"{"type":"record","name":"Order","namespace":"fp","doc":"An order","fields":[{"name":"id","type":"string"},{"name":"total","type":"fp.Money"}]}"#;
    let money_subject = format!("{}-value", unique("fp-money"));
    let order_subject = format!("{}-value", unique("fp-order"));
    claim(app, &money_subject, w.org_a).await;
    claim(app, &order_subject, w.org_a).await;
    let (status, body) = call(
        app,
        a(),
        Method::POST,
        &format!("/subjects/{money_subject}/versions"),
        Some(avro(money)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        app,
        a(),
        Method::POST,
        &format!("/subjects/{order_subject}/versions"),
        Some(json!({ "schema": order, "references": [{ "name": "fp.Money", "subject": money_subject, "version": 1 }] })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let before: Vec<(i32, String)> = sqlx::query_as(
        "select id, fingerprint from registry_schemas where schema_type = 'AVRO' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("fingerprints");
    assert_eq!(before.len(), 2);
    sqlx::raw_sql(include_str!(
        "../../migrations/20261127000013_avro_fingerprints_keep_defaults.sql"
    ))
    .execute(&app.pool)
    .await
    .expect("migration");
    let after: Vec<(i32, String)> = sqlx::query_as(
        "select id, fingerprint from registry_schemas where schema_type = 'AVRO' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("fingerprints");
    assert_eq!(after, before);
    // And the registry still finds them: registering the same text again is no new version.
    let (status, body) = call(
        app,
        a(),
        Method::POST,
        &format!("/subjects/{money_subject}/versions"),
        Some(avro(money)),
    )
    .await;
    assert_eq!((status.as_u16(), body["version"].as_i64()), (200, Some(1)));
}
