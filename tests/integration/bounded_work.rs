//! Bounded work and tenant isolation in the schema registry and the catalog: schemas built to
//! explode are checked in bounded work or refused with a typed error, references read only what
//! the caller may read, and typo suggestions come only from listings the viewer may see.

use std::time::Duration;

use serde_json::{Value, json};
use tributary_tests::{TestApp, unique};

use crate::streams::{code, draft, ok, provider, published, write_token};

/// `d1 … dN`, each with two properties that both `$ref` the next definition: 2^N paths through
/// a 4 KB text at N = 40.
fn fan_out(n: usize) -> String {
    let mut defs = serde_json::Map::new();
    for i in 1..n {
        let next = format!("#/$defs/d{}", i + 1);
        defs.insert(
            format!("d{i}"),
            json!({"type": "object", "properties": {"a": {"$ref": next}, "b": {"$ref": next}}}),
        );
    }
    defs.insert(format!("d{n}"), json!({"type": "string"}));
    json!({"type": "object", "$defs": defs, "properties": {"root": {"$ref": "#/$defs/d1"}}})
        .to_string()
}

const REGISTER: &str = "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created schema { version } stream { schemaFields } } }";
const CHECK: &str = "mutation($input: RegisterSchemaInput!) { checkStreamSchema(input: $input) { isCompatible messages } }";

fn schema_input(stream: &str, schema: &str, references: Value) -> Value {
    json!({ "input": { "streamId": stream, "role": "VALUE", "schemaType": "JSON",
                       "schema": schema, "references": references } })
}

/// A hang on a schema built to explode fails the test instead of stalling the run.
async fn bounded<T>(what: &str, work: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work)
        .await
        .unwrap_or_else(|_| panic!("{what} did not answer within 60 s"))
}

async fn registry_post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let (status, body) = crate::registry::call(
        app,
        crate::registry::Auth::Basic(token),
        reqwest::Method::POST,
        path,
        Some(body),
    )
    .await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn a_ref_fan_out_schema_is_checked_in_bounded_work() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let topic = unique("fanout");
    let stream = draft(&app, &token, org, cluster, &topic, json!({})).await;
    let id = stream["id"].as_str().expect("id");
    let schema = fan_out(40);
    assert!(schema.len() < 5_000, "{}", schema.len());

    let r = bounded(
        "registering",
        app.graphql_as(&token, REGISTER, schema_input(id, &schema, json!([]))),
    )
    .await;
    assert_eq!(ok(&r)["registerStreamSchema"]["schema"]["version"], 1);
    // The same text again: every one of the 2^40 paths leads to pairs compared already.
    let r = bounded(
        "checkStreamSchema",
        app.graphql_as(&token, CHECK, schema_input(id, &schema, json!([]))),
    )
    .await;
    assert_eq!(ok(&r)["checkStreamSchema"]["isCompatible"], true, "{r}");
    // A change at the bottom is still found.
    let changed = schema.replace(r#""d40":{"type":"string"}"#, r#""d40":{"type":"integer"}"#);
    assert_ne!(changed, schema);
    let r = bounded(
        "checkStreamSchema",
        app.graphql_as(&token, CHECK, schema_input(id, &changed, json!([]))),
    )
    .await;
    assert_eq!(ok(&r)["checkStreamSchema"]["isCompatible"], false, "{r}");

    // The Confluent REST API reaches the same checker.
    let api = write_token(&app, &token, org).await;
    let (status, body) = bounded(
        "the REST compatibility check",
        registry_post(
            &app,
            &api,
            &format!("/compatibility/subjects/{topic}-value/versions/latest?verbose=true"),
            json!({ "schemaType": "JSON", "schema": schema }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["is_compatible"], true, "{body}");
}

/// A JSON Schema with properties `p0 … p(n-1)`, each a `$ref` to reference `p{i}.json`.
fn referencing_all(n: usize) -> String {
    let properties: serde_json::Map<String, Value> = (0..n)
        .map(|i| (format!("p{i}"), json!({ "$ref": format!("p{i}.json") })))
        .collect();
    json!({ "type": "object", "properties": properties }).to_string()
}

#[tokio::test]
async fn too_many_references_are_refused_with_a_typed_error() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let topic = unique("refs");
    let stream = draft(&app, &token, org, cluster, &topic, json!({})).await;
    let id = stream["id"].as_str().expect("id");
    let api = write_token(&app, &token, org).await;
    // 101 small subjects the provider owns (claimed like a stream's subjects).
    let mut references = Vec::new();
    for i in 0..=tributary_registry::MAX_REFERENCES {
        let subject = format!("{topic}-part{i}-value");
        let mut conn = app.pool.acquire().await.expect("conn");
        tributary_registry::claim_subject(&mut conn, &subject, org)
            .await
            .expect("claim");
        let (status, body) = registry_post(
            &app,
            &api,
            &format!("/subjects/{subject}/versions"),
            json!({ "schemaType": "JSON", "schema": format!(r#"{{"type":"object","properties":{{"f{i}":{{"type":"string"}}}}}}"#) }),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        references.push(json!({ "name": format!("p{i}.json"), "subject": subject, "version": 1 }));
    }
    let schema = referencing_all(references.len());

    let r = app
        .graphql_as(
            &token,
            REGISTER,
            schema_input(id, &schema, json!(references)),
        )
        .await;
    assert_eq!(code(&r), Some("VALIDATION"), "{r}");
    assert!(r.to_string().contains("too complex"), "{r}");
    let (status, body) = registry_post(
        &app,
        &api,
        &format!("/subjects/{topic}-value/versions"),
        json!({ "schemaType": "JSON", "schema": schema, "references": references }),
    )
    .await;
    assert_eq!(
        (status, body["error_code"].as_u64()),
        (422, Some(42201)),
        "{body}"
    );
    // One fewer is fine.
    references.pop();
    let schema = referencing_all(references.len());
    let r = app
        .graphql_as(
            &token,
            REGISTER,
            schema_input(id, &schema, json!(references)),
        )
        .await;
    assert_eq!(
        ok(&r)["registerStreamSchema"]["schema"]["version"],
        1,
        "{r}"
    );
}

#[tokio::test]
async fn references_read_only_subjects_the_caller_may_read() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (acme, acme_token) = provider(&app).await;
    let (northwind, northwind_token) = provider(&app).await;
    // Northwind's private draft with a field name nobody else may learn.
    let secret_topic = unique("secret");
    let secret = draft(
        &app,
        &northwind_token,
        northwind,
        cluster,
        &secret_topic,
        json!({}),
    )
    .await;
    let r = app
        .graphql_as(
            &northwind_token,
            REGISTER,
            schema_input(
                secret["id"].as_str().expect("id"),
                r#"{"type":"object","properties":{"zz_secret_margin":{"type":"number"}}}"#,
                json!([]),
            ),
        )
        .await;
    ok(&r);

    let topic = unique("acme");
    let stream = draft(&app, &acme_token, acme, cluster, &topic, json!({})).await;
    let id = stream["id"].as_str().expect("id");
    let referencing = r#"{"type":"object","properties":{"x":{"$ref":"v"}}}"#;
    let reference_to = |subject: &str| json!([{ "name": "v", "subject": subject, "version": 1 }]);
    let missing_subject = format!("{}-value", unique("missing"));
    let secret_subject = format!("{secret_topic}-value");

    // GraphQL: another tenant's subject fails exactly as a missing one does.
    let refused = app
        .graphql_as(
            &acme_token,
            REGISTER,
            schema_input(id, referencing, reference_to(&secret_subject)),
        )
        .await;
    let missing = app
        .graphql_as(
            &acme_token,
            REGISTER,
            schema_input(id, referencing, reference_to(&missing_subject)),
        )
        .await;
    assert_eq!(code(&refused), Some("VALIDATION"), "{refused}");
    assert_eq!(
        refused["errors"][0]["message"]
            .as_str()
            .map(|m| m.replace(&secret_subject, "S")),
        missing["errors"][0]["message"]
            .as_str()
            .map(|m| m.replace(&missing_subject, "S")),
    );
    assert!(
        !refused.to_string().contains("zz_secret_margin"),
        "{refused}"
    );
    let checked = app
        .graphql_as(
            &acme_token,
            CHECK,
            schema_input(id, referencing, reference_to(&secret_subject)),
        )
        .await;
    assert_eq!(code(&checked), Some("VALIDATION"), "{checked}");

    // REST: the same, with the Confluent code of a missing reference.
    let api = write_token(&app, &acme_token, acme).await;
    for path in [
        format!("/subjects/{topic}-value/versions"),
        format!("/subjects/{topic}-value"),
    ] {
        let (status, body) = registry_post(
            &app,
            &api,
            &path,
            json!({ "schemaType": "JSON", "schema": referencing, "references": reference_to(&secret_subject) }),
        )
        .await;
        let (_, missing) = registry_post(
            &app,
            &api,
            &path,
            json!({ "schemaType": "JSON", "schema": referencing, "references": reference_to(&missing_subject) }),
        )
        .await;
        assert_eq!(status, 422, "{path}: {body}");
        assert_eq!(body["error_code"], 42201, "{path}: {body}");
        assert_eq!(
            body["message"]
                .as_str()
                .map(|m| m.replace(&secret_subject, "S")),
            missing["message"]
                .as_str()
                .map(|m| m.replace(&missing_subject, "S")),
            "{path}"
        );
    }

    // Its own subjects it may reference: the referenced field becomes searchable.
    let own_topic = unique("acme-own");
    let own = draft(&app, &acme_token, acme, cluster, &own_topic, json!({})).await;
    ok(&app
        .graphql_as(
            &acme_token,
            REGISTER,
            schema_input(
                own["id"].as_str().expect("id"),
                r#"{"type":"object","properties":{"acme_depth":{"type":"number"}}}"#,
                json!([]),
            ),
        )
        .await);
    let r = app
        .graphql_as(
            &acme_token,
            REGISTER,
            schema_input(id, referencing, reference_to(&format!("{own_topic}-value"))),
        )
        .await;
    let fields = ok(&r)["registerStreamSchema"]["stream"]["schemaFields"].to_string();
    assert!(fields.contains("acme_depth"), "{fields}");
}

#[tokio::test]
async fn another_tenants_reference_does_not_block_deleting_a_version() {
    let app = TestApp::spawn().await;
    let (acme, acme_token) = provider(&app).await;
    let (northwind, northwind_token) = provider(&app).await;
    let acme_api = write_token(&app, &acme_token, acme).await;
    let northwind_api = write_token(&app, &northwind_token, northwind).await;
    let public = format!("{}-value", unique("public"));
    let own = format!("{}-value", unique("own"));
    let theirs = format!("{}-value", unique("theirs"));
    let mut conn = app.pool.acquire().await.expect("conn");
    for (subject, org) in [(&public, acme), (&own, acme), (&theirs, northwind)] {
        tributary_registry::claim_subject(&mut conn, subject, org)
            .await
            .expect("claim");
    }
    let shared = r#"{"type":"object","properties":{"n":{"type":"integer"}}}"#;
    let (status, body) = registry_post(
        &app,
        &acme_api,
        &format!("/subjects/{public}/versions"),
        json!({ "schemaType": "JSON", "schema": shared }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // What a published public stream's subjects are: readable by every tenant.
    tributary_registry::set_public_read(&mut conn, &public, true)
        .await
        .expect("public");
    let referencing = r#"{"type":"object","properties":{"x":{"$ref":"shared.json"}}}"#;
    let references = json!([{ "name": "shared.json", "subject": public, "version": 1 }]);
    let (status, body) = registry_post(
        &app,
        &northwind_api,
        &format!("/subjects/{theirs}/versions"),
        json!({ "schemaType": "JSON", "schema": referencing, "references": references }),
    )
    .await;
    assert_eq!(
        status, 200,
        "Northwind may reference a public subject: {body}"
    );

    // Northwind's reference does not keep Acme from deleting its version…
    let delete = |path: String| {
        app.http
            .delete(app.url(&format!("/registry{path}")))
            .basic_auth("client", Some(acme_api.as_str()))
            .send()
    };
    let response = delete(format!("/subjects/{public}/versions/1"))
        .await
        .expect("delete");
    assert_eq!(
        response.status().as_u16(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    // …and Northwind's schema still resolves (a soft-deleted version stays readable by id).
    let (status, body) = registry_post(
        &app,
        &northwind_api,
        &format!("/subjects/{theirs}"),
        json!({ "schemaType": "JSON", "schema": referencing, "references": references }),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Acme's own references still protect what they use, as in Confluent's registry.
    let (status, body) = registry_post(
        &app,
        &acme_api,
        &format!("/subjects/{own}/versions"),
        json!({ "schemaType": "JSON", "schema": shared }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let user = format!("{}-value", unique("user"));
    tributary_registry::claim_subject(&mut conn, &user, acme)
        .await
        .expect("claim");
    let (status, body) = registry_post(&app, &acme_api, &format!("/subjects/{user}/versions"), json!({ "schemaType": "JSON", "schema": referencing, "references": [{ "name": "shared.json", "subject": own, "version": 1 }] })).await;
    assert_eq!(status, 200, "{body}");
    let response = delete(format!("/subjects/{own}/versions/1"))
        .await
        .expect("delete");
    assert_eq!(response.status().as_u16(), 422);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error_code"], 42206, "{body}");
}

#[tokio::test]
async fn typo_suggestions_come_only_from_listings_the_viewer_may_see() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let (_, other_token) = provider(&app).await;
    let word = "quokkalith";
    published(
        &app,
        &token,
        org,
        cluster,
        &unique("hidden"),
        json!({ "name": "Quokkalith assays", "summary": "Quokkalith assays, a private word",
                "visibility": "PRIVATE" }),
        json!({}),
    )
    .await;
    let search = "query($q: String) { catalogSearch(query: $q) { totalCount interpretedAs } }";
    // One letter off, and not the same stem: only a typo reading finds it.
    let typo = json!({ "q": "quokalith" });
    // The provider sees its private listing, so its word is a fair suggestion for it…
    let mine = app.graphql_as(&token, search, typo.clone()).await;
    let read = ok(&mine)["catalogSearch"]["interpretedAs"].to_string();
    assert!(read.contains(word), "{mine}");
    // …but not for anyone else, signed in or not.
    let anonymous = app.graphql(search, typo.clone()).await;
    let other = app.graphql_as(&other_token, search, typo).await;
    for r in [anonymous, other] {
        assert!(!r.to_string().contains(word), "{r}");
        assert_eq!(ok(&r)["catalogSearch"]["totalCount"], 0, "{r}");
    }
}

/// An external registry has no owners: a stream may use a subject that already exists there
/// only for a topic its organization was granted, and Tributary never changes the level of, or
/// deletes, what it did not make.
#[tokio::test]
async fn streams_use_only_subjects_their_organization_owns() {
    let external = tributary_tests::external_registry_url();
    let external = external.trim_end_matches('/').to_owned();
    let app = TestApp::spawn().await;
    let operator = crate::streams::operator(&app).await;
    let kafka = tributary_tests::kafka_config();
    let r = app
        .graphql_as(
            &operator,
            "mutation($input: ClusterInput!) { registerCluster(input: $input) { id } }",
            json!({ "input": {
                "name": unique("ext"), "bootstrapServers": kafka.bootstrap_servers,
                "securityProtocol": kafka.security_protocol.as_str(), "saslUsername": kafka.username,
                "saslPassword": secrecy::ExposeSecret::expose_secret(&kafka.password),
                "schemaRegistryUrl": external } }),
        )
        .await;
    let cluster: uuid::Uuid = ok(&r)["registerCluster"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let (org, token) = provider(&app).await;

    // Someone outside Tributary registered the topic's value subject directly.
    let prefix = format!("{}.", unique("theirs"));
    let topic = format!("{prefix}orders");
    let subject = format!("{topic}-value");
    let external_call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut request = app
            .http
            .request(method, format!("{external}{path}"))
            .header("accept", "application/vnd.schemaregistry.v1+json");
        if let Some(body) = body {
            request = request
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(body.to_string());
        }
        request.send()
    };
    let theirs = r#"{"type":"record","name":"Order","namespace":"theirs","fields":[{"name":"owner_only","type":"string"}]}"#;
    let response = external_call(
        reqwest::Method::POST,
        format!("/subjects/{subject}/versions"),
        Some(json!({ "schema": theirs })),
    )
    .await
    .expect("register directly");
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap_or_default()
    );
    let versions = || async {
        let response = external_call(
            reqwest::Method::GET,
            format!("/subjects/{subject}/versions"),
            None,
        )
        .await
        .expect("versions");
        response.json::<Value>().await.expect("JSON")
    };

    // Without a grant for the topic the subject is not the organization's.
    let create = crate::streams::CREATE;
    let input = json!({ "input": {
        "organizationId": org, "clusterId": cluster, "name": "Their orders", "topic": topic,
        "summary": "s", "category": "retail", "tags": [] } });
    let r = app.graphql_as(&token, create, input.clone()).await;
    assert_eq!(code(&r), Some("CONFLICT"), "{r}");

    // With a grant it may list it, but Tributary leaves the subject's level alone…
    ok(&app
        .graphql_as(
            &operator,
            "mutation($c: UUID!, $o: UUID!, $p: String!) { grantTopicPrefix(clusterId: $c, organizationId: $o, prefix: $p) }",
            json!({ "c": cluster, "o": org, "p": prefix }),
        )
        .await);
    let r = app.graphql_as(&token, create, input).await;
    let id = ok(&r)["createStream"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let config = external_call(reqwest::Method::GET, format!("/config/{subject}"), None)
        .await
        .expect("config");
    let config_status = config.status();
    let config_before = config.text().await.unwrap_or_default();
    ok(&app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { setStreamContract(id: $id, input: { compatibility: \"NONE\" }) { id } }",
            json!({ "id": id }),
        )
        .await);
    let config = external_call(reqwest::Method::GET, format!("/config/{subject}"), None)
        .await
        .expect("config");
    assert_eq!(config.status(), config_status);
    assert_eq!(config.text().await.unwrap_or_default(), config_before);

    // …registers its own version there, and deleting the draft removes only that version.
    let ours = r#"{"type":"record","name":"Order","namespace":"theirs","fields":[{"name":"owner_only","type":"string"},{"name":"ours","type":"string","default":""}]}"#;
    let mut input = schema_input(&id, ours, json!([]));
    input["input"]["schemaType"] = json!("AVRO");
    let r = app.graphql_as(&token, REGISTER, input).await;
    assert_eq!(ok(&r)["registerStreamSchema"]["created"], true, "{r}");
    assert_eq!(versions().await, json!([1, 2]));
    ok(&app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { deleteDraftStream(id: $id) }",
            json!({ "id": id }),
        )
        .await);
    assert_eq!(
        versions().await,
        json!([1]),
        "the version registered outside Tributary stays"
    );

    // Embedded registry: a subject nobody owns that already has versions is the operator's.
    let embedded = app.cluster().await;
    let orphan_topic = unique("orphan");
    let mut conn = app.pool.acquire().await.expect("conn");
    tributary_registry::register(
        &mut conn,
        &format!("{orphan_topic}-value"),
        tributary_registry::SchemaInput {
            schema_type: tributary_registry::SchemaType::Avro,
            schema: theirs.to_owned(),
            references: Vec::new(),
        },
        &tributary_registry::Caller::Operator,
    )
    .await
    .expect("register unowned");
    let r = app
        .graphql_as(
            &token,
            create,
            json!({ "input": { "organizationId": org, "clusterId": embedded, "name": "Orphan",
                               "topic": orphan_topic, "summary": "s", "category": "retail", "tags": [] } }),
        )
        .await;
    assert_eq!(code(&r), Some("CONFLICT"), "{r}");
    let owner: Option<uuid::Uuid> =
        sqlx::query_scalar("select owner_org_id from registry_subjects where name = $1")
            .bind(format!("{orphan_topic}-value"))
            .fetch_one(&app.pool)
            .await
            .expect("subject");
    assert_eq!(owner, None, "the refused claim left nothing behind");
}
