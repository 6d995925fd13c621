use serde_json::json;
use tributary_tests::TestApp;

const CATALOG: &str = "query($first: Int, $after: String) {
  catalog(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { slug name topic status provider { slug name } } }
  }
}";

fn code(response: &serde_json::Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

#[tokio::test]
async fn catalog_lists_published_public_streams_with_their_provider() {
    let app = TestApp::spawn().await;
    app.seed_demo().await;
    // A draft and a private stream must stay out of the public catalog.
    sqlx::query("update streams set status = 'draft' where slug = 'fleet-telemetry'")
        .execute(&app.pool)
        .await
        .expect("draft");
    sqlx::query("update streams set visibility = 'private' where slug = 'payment-events'")
        .execute(&app.pool)
        .await
        .expect("private");

    let response = app.graphql(CATALOG, json!({ "first": 10 })).await;
    assert!(response["errors"].is_null(), "{response}");
    let edges = response["data"]["catalog"]["edges"]
        .as_array()
        .expect("edges");
    let mut slugs: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap_or_default())
        .collect();
    slugs.sort_unstable();
    assert_eq!(slugs, ["retail-orders", "weather-observations"]);
    for edge in edges {
        assert_eq!(edge["node"]["provider"]["slug"], "northwind-data");
        assert_eq!(edge["node"]["status"], "PUBLISHED");
    }
}

#[tokio::test]
async fn catalog_pages_forward_with_cursors() {
    let app = TestApp::spawn().await;
    app.seed_demo().await;
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for page in 0.. {
        let response = app
            .graphql(CATALOG, json!({ "first": 3, "after": after }))
            .await;
        let connection = &response["data"]["catalog"];
        for edge in connection["edges"].as_array().expect("edges") {
            seen.push(edge["node"]["slug"].as_str().expect("slug").to_owned());
        }
        assert_eq!(connection["pageInfo"]["hasPreviousPage"], page > 0);
        if connection["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
        assert!(page < 5, "pagination does not end");
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "a stream appeared twice: {seen:?}");
}

#[tokio::test]
async fn bad_pagination_arguments_are_validation_errors() {
    let app = TestApp::spawn().await;
    let too_many = app.graphql(CATALOG, json!({ "first": 1000 })).await;
    assert_eq!(code(&too_many), "VALIDATION", "{too_many}");
    assert_eq!(too_many["errors"][0]["extensions"]["field"], "first");

    let negative = app.graphql(CATALOG, json!({ "first": -1 })).await;
    assert_eq!(code(&negative), "VALIDATION");

    let forged = app
        .graphql(CATALOG, json!({ "first": 2, "after": "not-a-cursor" }))
        .await;
    assert_eq!(code(&forged), "VALIDATION", "{forged}");
    assert_eq!(forged["errors"][0]["extensions"]["field"], "after");
}

#[tokio::test]
async fn oversized_requests_are_refused_before_parsing() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(300 * 1024);
    let response = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": format!("{{ serverVersion }} # {padding}") }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], "VALIDATION");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("262144 bytes")
    );
}

#[tokio::test]
async fn too_deep_or_unknown_queries_are_refused() {
    let app = TestApp::spawn().await;
    let ok = app.graphql("{ serverVersion }", json!({})).await;
    assert_eq!(ok["data"]["serverVersion"], env!("CARGO_PKG_VERSION"));

    let nested = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(16),
        "} ".repeat(16)
    );
    let response = app.graphql(&nested, json!({})).await;
    let message = response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("nested too deep"), "{response}");
    assert!(response["data"].is_null());

    let unknown = app.graphql("{ noSuchField }", json!({})).await;
    assert!(
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("noSuchField")
    );
}

#[tokio::test]
async fn graphiql_is_served_in_development() {
    let app = TestApp::spawn().await;
    let response = app
        .http
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body = response.text().await.expect("body");
    assert!(body.contains("graphiql"), "GraphiQL page expected");
}
