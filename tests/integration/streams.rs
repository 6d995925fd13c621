//! Clusters, streams, schemas, plans, the catalog search and the events they emit, through the
//! GraphQL API against the real PostgreSQL, Kafka and the embedded registry.

use std::time::Duration;

use serde_json::{Value, json};
use tributary_core::TopicName;
use tributary_tests::{TestApp, kafka_admin, unique};
use uuid::Uuid;

pub(crate) const AVRO_V1: &str = r#"{"type":"record","name":"Trade","namespace":"test","fields":[{"name":"trade_id","type":"string"},{"name":"price_minor","type":"long"},{"name":"customer_email","type":"string"}]}"#;
/// Adds an optional field with a default: BACKWARD compatible.
const AVRO_V2: &str = r#"{"type":"record","name":"Trade","namespace":"test","fields":[{"name":"trade_id","type":"string"},{"name":"price_minor","type":"long"},{"name":"customer_email","type":"string"},{"name":"venue","type":"string","default":"XAMS"}]}"#;
/// Adds a field without a default: new readers cannot read old data (not BACKWARD).
const AVRO_BAD: &str = r#"{"type":"record","name":"Trade","namespace":"test","fields":[{"name":"trade_id","type":"string"},{"name":"price_minor","type":"long"},{"name":"customer_email","type":"string"},{"name":"counterparty","type":"string"}]}"#;

pub(crate) fn code(response: &Value) -> Option<&str> {
    response["errors"][0]["extensions"]["code"].as_str()
}

pub(crate) fn ok(response: &Value) -> &Value {
    assert!(
        response["errors"].is_null(),
        "unexpected errors: {response}"
    );
    &response["data"]
}

/// A provider organization with an owner; answers (org id, owner token).
pub(crate) async fn provider(app: &TestApp) -> (Uuid, String) {
    let owner = app.user(&format!("{}@example.com", unique("owner"))).await;
    let org = app
        .org_with(&unique("provider"), &[(owner, "owner")], false)
        .await;
    (org, app.token_for(owner).await)
}

pub(crate) async fn operator(app: &TestApp) -> String {
    let user = app
        .user(&format!("{}@example.com", unique("operator")))
        .await;
    app.org_with(&unique("operator"), &[(user, "owner")], true)
        .await;
    app.token_for(user).await
}

/// A read-write API token of `org` (what a serializer or CI pipeline uses against the registry).
pub(crate) async fn write_token(app: &TestApp, token: &str, org: Uuid) -> String {
    let r = app
        .graphql_as(
            token,
            "mutation($org: UUID!) { createApiToken(input: { organizationId: $org, name: \"ci\", scopes: [READ, WRITE] }) { secret } }",
            json!({ "org": org }),
        )
        .await;
    ok(&r)["createApiToken"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned()
}

pub(crate) const CREATE: &str = "mutation($input: CreateStreamInput!) { createStream(input: $input) { id slug status topic descriptionHtml tags category } }";

pub(crate) async fn draft(
    app: &TestApp,
    token: &str,
    org: Uuid,
    cluster: Uuid,
    topic: &str,
    extra: Value,
) -> Value {
    let mut input = json!({
        "organizationId": org, "clusterId": cluster, "name": format!("Stream {topic}"),
        "topic": topic, "summary": "Test stream", "category": "finance", "tags": ["trades"],
    });
    if let (Some(base), Some(more)) = (input.as_object_mut(), extra.as_object()) {
        base.extend(more.clone());
    }
    let r = app
        .graphql_as(token, CREATE, json!({ "input": input }))
        .await;
    ok(&r)["createStream"].clone()
}

/// A draft taken to published: topic, Avro value schema, a plan.
pub(crate) async fn published(
    app: &TestApp,
    token: &str,
    org: Uuid,
    cluster: Uuid,
    topic: &str,
    extra: Value,
    plan: Value,
) -> String {
    let stream = draft(app, token, org, cluster, topic, extra).await;
    let id = stream["id"].as_str().expect("id").to_owned();
    ok(&app
        .graphql_as(
            token,
            "mutation($id: UUID!) { provisionStreamTopic(id: $id, input: { partitions: 2, retentionMs: 3600000 }) { id } }",
            json!({ "id": id }),
        )
        .await);
    ok(&app
        .graphql_as(
            token,
            "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created } }",
            json!({ "input": { "streamId": id, "role": "VALUE", "schemaType": "AVRO", "schema": AVRO_V1 } }),
        )
        .await);
    let mut plan_input = json!({ "streamId": id, "name": "Plan", "pricingModel": "free" });
    if let (Some(base), Some(more)) = (plan_input.as_object_mut(), plan.as_object()) {
        base.extend(more.clone());
    }
    ok(&app
        .graphql_as(
            token,
            "mutation($input: PlanInput!) { createPlan(input: $input) { id } }",
            json!({ "input": plan_input }),
        )
        .await);
    ok(&app
        .graphql_as(
            token,
            "mutation($id: UUID!) { publishStream(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await);
    id
}

/// The topic as the broker describes it, once it exists (`true`) or is gone (`false`), or after
/// 10 s whatever the broker says then (metadata follows admin operations with a short lag).
async fn topic_on_broker(
    topic: &str,
    exists: bool,
) -> Option<tributary_provisioning::TopicDescription> {
    let name = TopicName::parse(topic.to_owned()).expect("topic");
    let mut described = None;
    for _ in 0..50 {
        described = kafka_admin().describe_topic(&name).await.expect("describe");
        if described.is_some() == exists {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    described
}

#[tokio::test]
async fn clusters_keep_credentials_encrypted_and_report_health() {
    let app = TestApp::spawn().await;
    let op = operator(&app).await;
    let kafka = tributary_tests::kafka_config();
    let password = secrecy::ExposeSecret::expose_secret(&kafka.password).to_owned();
    let register = "mutation($input: ClusterInput!) { registerCluster(input: $input) { id name health { status } } }";
    let input = |name: &str, password: &str| {
        json!({ "input": {
            "name": name, "region": "test", "bootstrapServers": kafka.bootstrap_servers,
            "securityProtocol": "SASL_PLAINTEXT", "saslUsername": kafka.username, "saslPassword": password,
        } })
    };
    let name = unique("good");
    let r = app.graphql_as(&op, register, input(&name, &password)).await;
    let id = ok(&r)["registerCluster"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(r["data"]["registerCluster"]["health"]["status"], "unknown");

    // Stored sealed, never in clear.
    let stored: String =
        sqlx::query_scalar("select sasl_password_encrypted from clusters where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert!(
        !stored.contains(&password) && stored.starts_with("test:"),
        "{stored}"
    );

    let check = "mutation($id: UUID!) { checkClusterHealth(id: $id) { health { status message brokerCount latencyMs checkedAt } } }";
    let r = app.graphql_as(&op, check, json!({ "id": id })).await;
    let health = &ok(&r)["checkClusterHealth"]["health"];
    assert_eq!(health["status"], "healthy", "{health}");
    assert_eq!(health["brokerCount"], 1);
    assert!(health["checkedAt"].is_string());

    // A wrong password is an unhealthy cluster, with the reason.
    let r = app
        .graphql_as(&op, register, input(&unique("bad"), "not-the-password"))
        .await;
    let bad = ok(&r)["registerCluster"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let r = app.graphql_as(&op, check, json!({ "id": bad })).await;
    let health = &ok(&r)["checkClusterHealth"]["health"];
    assert_eq!(health["status"], "unhealthy", "{health}");
    assert!(!health["message"].as_str().unwrap_or_default().is_empty());

    // Bad input names its field; duplicates conflict.
    for (field, value) in [
        ("bootstrapServers", json!("no-port")),
        ("securityProtocol", json!("PLAINTEXT")),
        ("name", json!(" ")),
    ] {
        let mut i = input(&unique("x"), "pw");
        i["input"][field] = value;
        let r = app.graphql_as(&op, register, i).await;
        assert_eq!(code(&r), Some("VALIDATION"), "{field}: {r}");
        assert_eq!(r["errors"][0]["extensions"]["field"], field);
    }
    let r = app.graphql_as(&op, register, input(&name, "pw")).await;
    assert_eq!(code(&r), Some("CONFLICT"), "{r}");

    // An update without a password keeps the stored one (still healthy afterwards).
    let update = "mutation($id: UUID!, $input: ClusterInput!) { updateCluster(id: $id, input: $input) { region health { status } } }";
    let mut changed = input(&name, "ignored");
    changed["input"]["region"] = json!("eu-test");
    changed["input"]
        .as_object_mut()
        .expect("object")
        .remove("saslPassword");
    changed["id"] = json!(id);
    let r = app.graphql_as(&op, update, changed).await;
    assert_eq!(ok(&r)["updateCluster"]["region"], "eu-test");
    let r = app.graphql_as(&op, check, json!({ "id": id })).await;
    assert_eq!(ok(&r)["checkClusterHealth"]["health"]["status"], "healthy");

    // Only the operator manages clusters; everyone signed in sees them (no secrets in the type).
    let (_, provider_token) = provider(&app).await;
    let r = app
        .graphql_as(&provider_token, register, input(&unique("p"), "pw"))
        .await;
    assert_eq!(code(&r), Some("FORBIDDEN"));
    let r = app
        .graphql_as(
            &provider_token,
            "{ clusters { id name region status } }",
            json!({}),
        )
        .await;
    let listed = ok(&r)["clusters"].as_array().cloned().unwrap_or_default();
    assert!(listed.len() >= 2, "{r}");
    let checked = listed.iter().find(|c| c["id"] == id).expect("listed");
    assert_eq!(checked["status"], "UP", "{r}");
    // How to reach a cluster and its checks' details are the operator's.
    let details =
        "{ managedClusters { id bootstrapServers saslUsername health { status message } } }";
    let r = app.graphql_as(&provider_token, details, json!({})).await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "{r}");
    let r = app.graphql_as(&op, details, json!({})).await;
    let managed = ok(&r)["managedClusters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let checked = managed.iter().find(|c| c["id"] == id).expect("managed");
    assert_eq!(checked["health"]["status"], "healthy", "{r}");
    assert!(checked["bootstrapServers"].is_string());

    // A cluster with streams cannot be deleted.
    let (org, token) = provider(&app).await;
    draft(
        &app,
        &token,
        org,
        id.parse().expect("uuid"),
        &unique("keep.topic"),
        json!({}),
    )
    .await;
    let r = app
        .graphql_as(
            &op,
            "mutation($id: UUID!) { deleteCluster(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&r), Some("CONFLICT"), "{r}");
    let r = app
        .graphql_as(
            &op,
            "mutation($id: UUID!) { deleteCluster(id: $id) }",
            json!({ "id": bad }),
        )
        .await;
    assert_eq!(ok(&r)["deleteCluster"], true);
}

#[tokio::test]
async fn a_stream_goes_from_draft_to_retired_and_every_change_is_an_ordered_event() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let topic = format!("{}.trades", unique("it"));
    let stream = draft(
        &app,
        &token,
        org,
        cluster,
        &topic,
        json!({ "descriptionMarkdown": "# Trades\n\n<script>alert(1)</script>\n\nEvery **fill** <img src=x onerror=alert(2)> and [a link](javascript:alert(3)).\n\n<a href=\"javascript:alert(4)\">raw</a>" }),
    )
    .await;
    let id = stream["id"].as_str().expect("id").to_owned();
    assert_eq!(stream["status"], "DRAFT");
    let html = stream["descriptionHtml"].as_str().expect("html");
    assert!(
        html.contains("<h1>Trades</h1>") && html.contains("<strong>fill</strong>"),
        "{html}"
    );
    for bad in ["<script", "alert(1)", "onerror", "href=\"javascript"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }

    // Publishing too early says what is missing.
    let publish = "mutation($id: UUID!) { publishStream(id: $id) { status publishedAt } }";
    let r = app.graphql_as(&token, publish, json!({ "id": id })).await;
    assert_eq!(code(&r), Some("VALIDATION"));
    let message = r["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("a topic")
            && message.contains("a value schema")
            && message.contains("a plan"),
        "{message}"
    );

    // The topic is created on the broker with the requested settings.
    let r = app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { provisionStreamTopic(id: $id, input: { partitions: 3, retentionMs: 86400000, cleanupPolicy: \"delete\" }) { topicInfo { mode partitions retentionMs cleanupPolicy provisionedAt } } }",
            json!({ "id": id }),
        )
        .await;
    let info = &ok(&r)["provisionStreamTopic"]["topicInfo"];
    assert_eq!(info["mode"], "created");
    assert_eq!(info["partitions"], 3);
    let described = topic_on_broker(&topic, true).await.expect("topic exists");
    assert_eq!(described.partitions, 3);
    assert_eq!(
        described.configs.get("retention.ms").map(String::as_str),
        Some("86400000")
    );

    // Schemas: v1, an incompatible candidate (refused, typed, with reasons), a compatible v2.
    let register = "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created schema { version id subject } stream { valueSchemaType schemaFields } } }";
    let schema = |s: &str| json!({ "input": { "streamId": id, "role": "VALUE", "schemaType": "AVRO", "schema": s } });
    let r = app.graphql_as(&token, register, schema(AVRO_V1)).await;
    let v1 = &ok(&r)["registerStreamSchema"];
    assert_eq!(v1["schema"]["version"], 1);
    assert_eq!(v1["schema"]["subject"], format!("{topic}-value"));
    assert_eq!(v1["stream"]["valueSchemaType"], "AVRO");
    assert!(
        v1["stream"]["schemaFields"]
            .as_array()
            .expect("fields")
            .iter()
            .any(|f| f == "customer_email")
    );
    let r = app.graphql_as(&token, register, schema(AVRO_V1)).await;
    assert_eq!(
        ok(&r)["registerStreamSchema"]["created"],
        false,
        "same schema again is not a change"
    );
    let check = "mutation($input: RegisterSchemaInput!) { checkStreamSchema(input: $input) { isCompatible messages } }";
    let r = app.graphql_as(&token, check, schema(AVRO_BAD)).await;
    assert_eq!(ok(&r)["checkStreamSchema"]["isCompatible"], false);
    let r = app.graphql_as(&token, register, schema(AVRO_BAD)).await;
    assert_eq!(code(&r), Some("INCOMPATIBLE_SCHEMA"), "{r}");
    assert!(
        r["errors"][0]["extensions"]["reasons"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{r}"
    );
    let r = app.graphql_as(&token, register, schema("{ not avro")).await;
    assert_eq!(code(&r), Some("VALIDATION"));
    assert_eq!(r["errors"][0]["extensions"]["field"], "schema");
    let r = app.graphql_as(&token, register, schema(AVRO_V2)).await;
    assert_eq!(ok(&r)["registerStreamSchema"]["schema"]["version"], 2);

    // Contract with a PII field, a plan, then publish.
    let r = app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { setStreamContract(id: $id, input: { compatibility: \"FULL\", freshnessSloSeconds: 5, throughputSloPerSec: 100, replayWindowHours: 24, fieldClassifications: [{ path: \"customer_email\", classification: \"pii\" }], terms: \"Internal use\" }) { contract { compatibility fieldClassifications { path classification } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        ok(&r)["setStreamContract"]["contract"]["compatibility"],
        "FULL"
    );
    let r = app
        .graphql_as(
            &token,
            "mutation($input: PlanInput!) { createPlan(input: $input) { id pricingModel unitPriceMinor currency } }",
            json!({ "input": { "streamId": id, "name": "Metered", "pricingModel": "usage", "unitPriceMinor": 250, "currency": "eur" } }),
        )
        .await;
    assert_eq!(ok(&r)["createPlan"]["unitPriceMinor"], 250);
    let r = app.graphql_as(&token, publish, json!({ "id": id })).await;
    assert_eq!(ok(&r)["publishStream"]["status"], "PUBLISHED");

    // Anyone sees it now: schema history with a diff, plans, contract.
    let page = "query($id: UUID!) { stream(id: $id) { status plans { name } schemaVersions(role: VALUE) { version pretty } schemaDiff(role: VALUE, fromVersion: 1, toVersion: 2) { unified } } }";
    let r = app.graphql(page, json!({ "id": id })).await;
    let s = &ok(&r)["stream"];
    assert_eq!(s["schemaVersions"].as_array().map(Vec::len), Some(2));
    let diff = s["schemaDiff"]["unified"].as_str().expect("diff");
    assert!(
        diff.lines()
            .any(|l| l.starts_with('+') && l.contains("venue")),
        "{diff}"
    );

    // Deprecate, then retire: gone from the public page.
    let r = app
        .graphql_as(&token, "mutation($id: UUID!) { deprecateStream(id: $id, message: \"Use trades v2\") { status deprecationMessage } }", json!({ "id": id }))
        .await;
    assert_eq!(ok(&r)["deprecateStream"]["status"], "DEPRECATED");
    let r = app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { retireStream(id: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(ok(&r)["retireStream"]["status"], "RETIRED");
    let r = app.graphql(page, json!({ "id": id })).await;
    assert_eq!(code(&r), Some("NOT_FOUND"));
    let r = app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { updateStream(id: $id, input: { name: \"x\" }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&r), Some("CONFLICT"));

    // Every accepted change reached `tributary.events`, keyed by the stream, in order.
    let expected = [
        "stream.created",
        "stream.topic_provisioned",
        "stream.schema_changed",
        "stream.schema_changed",
        "stream.contract_changed",
        "plan.created",
        "stream.published",
        "stream.deprecated",
        "stream.retired",
    ];
    let events = app.events_of(&id, expected.len()).await;
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, expected, "{events:#?}");
    let ids: Vec<i64> = events.iter().filter_map(|e| e["id"].as_i64()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(events[3]["payload"]["version"], 2);
    // The envelope schema is registered, and its id is what each message carries.
    let mut conn = app.pool.acquire().await.expect("conn");
    let registered = tributary_registry::latest(&mut conn, "tributary.events-value")
        .await
        .expect("envelope schema");
    assert!(events.iter().all(|e| e["_schemaId"] == registered.id));
}

#[tokio::test]
async fn bad_stream_input_is_refused_and_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let (other_org, other_token) = provider(&app).await;
    let create = |topic: &str| json!({ "input": { "organizationId": org, "clusterId": cluster, "name": "S", "topic": topic } });

    for topic in [
        "bad topic!",
        "__consumer_offsets",
        "tributary.events",
        "",
        &"x".repeat(250),
    ] {
        let r = app.graphql_as(&token, CREATE, create(topic)).await;
        assert_eq!(code(&r), Some("VALIDATION"), "{topic}: {r}");
        assert_eq!(r["errors"][0]["extensions"]["field"], "topic");
    }
    for (field, value) in [
        ("category", json!("gossip")),
        ("tags", json!(["<b>"])),
        ("name", json!("")),
    ] {
        let mut input = create(&unique("t.v"));
        input["input"][field] = value;
        let r = app.graphql_as(&token, CREATE, input).await;
        assert_eq!(code(&r), Some("VALIDATION"), "{field}: {r}");
    }
    let huge = "x".repeat(200_001);
    let r = app.graphql_as(&token, CREATE, json!({ "input": { "organizationId": org, "clusterId": cluster, "name": "S", "topic": "t.huge", "descriptionMarkdown": huge } })).await;
    assert_eq!(code(&r), Some("VALIDATION"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "descriptionMarkdown");
    let streams: i64 = sqlx::query_scalar("select count(*) from streams")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(streams, 0, "refused input left rows behind");

    // One listing per topic.
    let topic = format!("{}.owned", unique("it"));
    let first = draft(&app, &token, org, cluster, &topic, json!({})).await;
    let r = app.graphql_as(&token, CREATE, json!({ "input": { "organizationId": org, "clusterId": cluster, "name": "Again", "slug": "again", "topic": topic } })).await;
    assert_eq!(code(&r), Some("CONFLICT"), "{r}");
    // Another organization cannot list the same topic, on the same cluster or on another one
    // sharing the registry (its subjects are the first listing's), and nothing is left behind.
    let elsewhere = app.cluster().await;
    for on in [cluster, elsewhere] {
        let r = app.graphql_as(&other_token, CREATE, json!({ "input": { "organizationId": other_org, "clusterId": on, "name": "Theirs", "topic": topic } })).await;
        assert_eq!(code(&r), Some("CONFLICT"), "{r}");
    }
    let listings: i64 = sqlx::query_scalar("select count(*) from streams where topic = $1")
        .bind(&topic)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(listings, 1);
    let owner: Option<Uuid> =
        sqlx::query_scalar("select owner_org_id from registry_subjects where name = $1")
            .bind(format!("{topic}-value"))
            .fetch_one(&app.pool)
            .await
            .expect("subject");
    assert_eq!(owner, Some(org), "the subject stays the first listing's");

    // Another org's stream does not exist for the caller.
    let id = first["id"].as_str().expect("id");
    for doc in [
        "mutation($id: UUID!) { updateStream(id: $id, input: { name: \"mine\" }) { id } }",
        "mutation($id: UUID!) { publishStream(id: $id) { id } }",
        "mutation($id: UUID!) { deleteDraftStream(id: $id) }",
        "query($id: UUID!) { stream(id: $id) { id } }",
    ] {
        let r = app.graphql_as(&other_token, doc, json!({ "id": id })).await;
        assert_eq!(code(&r), Some("NOT_FOUND"), "{doc}: {r}");
    }

    // A topic that exists on the broker already cannot be created again, nor adopted without a
    // grant; the stream stays unprovisioned.
    let existing = format!("{}.existing", unique("it"));
    kafka_admin()
        .ensure_topic(&tributary_provisioning::TopicSpec {
            name: TopicName::parse(existing.clone()).expect("topic"),
            partitions: 1,
            replication_factor: 1,
            configs: vec![],
        })
        .await
        .expect("topic");
    topic_on_broker(&existing, true)
        .await
        .expect("visible on the broker");
    let squat = draft(
        &app,
        &token,
        org,
        cluster,
        &existing,
        json!({ "slug": "squat" }),
    )
    .await;
    let provision = "mutation($id: UUID!, $adopt: Boolean!) { provisionStreamTopic(id: $id, input: { adopt: $adopt }) { topicInfo { mode } } }";
    let r = app
        .graphql_as(
            &token,
            provision,
            json!({ "id": squat["id"], "adopt": false }),
        )
        .await;
    assert_eq!(code(&r), Some("CONFLICT"), "{r}");
    let r = app
        .graphql_as(
            &token,
            provision,
            json!({ "id": squat["id"], "adopt": true }),
        )
        .await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "{r}");
    let provisioned: Option<String> =
        sqlx::query_scalar("select topic_mode from streams where id = $1::uuid")
            .bind(squat["id"].as_str())
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(provisioned, None);
    // With a grant from the operator it can be adopted.
    let op = operator(&app).await;
    let r = app
        .graphql_as(&op, "mutation($c: UUID!, $o: UUID!, $p: String!) { grantTopicPrefix(clusterId: $c, organizationId: $o, prefix: $p) }", json!({ "c": cluster, "o": org, "p": existing.split('.').next() }))
        .await;
    ok(&r);
    let granted: Value = sqlx::query_scalar(
        "select payload from outbox where aggregate_id = $1 and event_type = 'cluster.topic_prefix_granted'",
    )
    .bind(cluster.to_string())
    .fetch_one(&app.pool)
    .await
    .expect("the grant is an event");
    assert_eq!(granted["orgId"], json!(org));
    let r = app
        .graphql_as(
            &token,
            provision,
            json!({ "id": squat["id"], "adopt": true }),
        )
        .await;
    assert_eq!(
        ok(&r)["provisionStreamTopic"]["topicInfo"]["mode"],
        "adopted"
    );

    // An invalid schema registers nothing.
    let r = app
        .graphql_as(&token, "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created } }", json!({ "input": { "streamId": id, "role": "VALUE", "schemaType": "JSON", "schema": "{\"type\": 12}" } }))
        .await;
    assert_eq!(code(&r), Some("VALIDATION"), "{r}");
    let versions: i64 =
        sqlx::query_scalar("select count(*) from registry_versions where subject = $1")
            .bind(format!("{topic}-value"))
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(versions, 0);

    // Deleting a draft removes its created topic and its subjects.
    let r = app.graphql_as(&token, "mutation($id: UUID!) { provisionStreamTopic(id: $id, input: { partitions: 1 }) { id } }", json!({ "id": id })).await;
    ok(&r);
    let r = app
        .graphql_as(&token, "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created } }", json!({ "input": { "streamId": id, "role": "VALUE", "schemaType": "AVRO", "schema": AVRO_V1 } }))
        .await;
    ok(&r);
    let r = app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { deleteDraftStream(id: $id) }",
            json!({ "id": id }),
        )
        .await;
    ok(&r);
    let gone = topic_on_broker(&topic, false).await;
    assert!(gone.is_none(), "topic still on the broker");
    let subjects: i64 =
        sqlx::query_scalar("select count(*) from registry_subjects where name like $1")
            .bind(format!("{topic}-%"))
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(subjects, 0);
}

#[tokio::test]
async fn catalog_search_is_typo_tolerant_faceted_and_respects_visibility() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let (viewer_org, viewer_token) = provider(&app).await;
    let viewer_slug: String = sqlx::query_scalar("select slug from organizations where id = $1")
        .bind(viewer_org)
        .fetch_one(&app.pool)
        .await
        .expect("slug");
    let base = unique("cat");
    let weather = published(&app, &token, org, cluster, &format!("{base}.weather"), json!({ "name": "Weather observations", "category": "weather", "tags": ["sensors", "cities"] }), json!({})).await;
    published(
        &app,
        &token,
        org,
        cluster,
        &format!("{base}.fx"),
        json!({ "name": "FX rates", "category": "finance", "tags": ["fx", "cities"] }),
        json!({ "pricingModel": "flat", "flatFeeMinor": 4900 }),
    )
    .await;
    let private = published(&app, &token, org, cluster, &format!("{base}.private"), json!({ "name": "Private ticks", "slug": "private-ticks", "category": "finance", "visibility": "PRIVATE" }), json!({})).await;
    published(&app, &token, org, cluster, &format!("{base}.unlisted"), json!({ "name": "Unlisted ticks", "slug": "unlisted-ticks", "category": "finance", "visibility": "UNLISTED" }), json!({})).await;

    let search = "query($q: String, $f: CatalogFilter, $sort: CatalogSort) { catalogSearch(query: $q, filter: $f, sort: $sort, first: 10) { totalCount facets { name values { value count } } edges { node { id name } } } }";
    // Accepts a whole response or its `data`.
    let names = |r: &Value| -> Vec<String> {
        let r = if r["data"].is_null() { r } else { &r["data"] };
        r["catalogSearch"]["edges"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter_map(|n| n["node"]["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    // A typo still finds it; so does a schema field name.
    let r = app.graphql(search, json!({ "q": "wether" })).await;
    assert_eq!(
        names(ok(&r)).first().map(String::as_str),
        Some("Weather observations"),
        "{r}"
    );
    let r = app.graphql(search, json!({ "q": "customer_email" })).await;
    assert_eq!(ok(&r)["catalogSearch"]["totalCount"], 2, "{r}");
    // Facets count the matching set; filters narrow it.
    let r = app
        .graphql(search, json!({ "q": null, "sort": "NAME" }))
        .await;
    let data = &ok(&r)["catalogSearch"];
    assert_eq!(
        data["totalCount"], 2,
        "anonymous sees public streams only: {r}"
    );
    assert_eq!(names(&r), vec!["FX rates", "Weather observations"]);
    let facet = |name: &str, value: &str| -> i64 {
        data["facets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["name"] == name)
            .flat_map(|f| f["values"].as_array().cloned().unwrap_or_default())
            .find(|v| v["value"] == value)
            .and_then(|v| v["count"].as_i64())
            .unwrap_or(0)
    };
    assert_eq!(facet("tag", "cities"), 2);
    assert_eq!(facet("category", "weather"), 1);
    assert_eq!(facet("price", "free"), 1);
    assert_eq!(facet("price", "paid"), 1);
    assert_eq!(facet("schemaType", "AVRO"), 2);
    let r = app
        .graphql(search, json!({ "f": { "categories": ["weather"] } }))
        .await;
    assert_eq!(names(ok(&r)), vec!["Weather observations"]);
    let r = app
        .graphql(
            search,
            json!({ "q": "weather", "f": { "categories": ["weather"], "schemaTypes": ["AVRO"] } }),
        )
        .await;
    assert_eq!(
        names(ok(&r)),
        vec!["Weather observations"],
        "text and filters combine"
    );
    let r = app.graphql(search, json!({ "f": { "free": false } })).await;
    assert_eq!(names(ok(&r)), vec!["FX rates"]);
    let r = app
        .graphql(search, json!({ "f": { "tags": ["cities", "fx"] } }))
        .await;
    assert_eq!(names(ok(&r)), vec!["FX rates"]);

    // Private: invisible until the provider invites the viewer's org; unlisted: by link only.
    let by_id = "query($id: UUID!) { stream(id: $id) { name } }";
    let r = app
        .graphql_as(&viewer_token, by_id, json!({ "id": private }))
        .await;
    assert_eq!(code(&r), Some("NOT_FOUND"));
    let r = app
        .graphql_as(&token, "mutation($id: UUID!, $org: String!) { grantStreamAccess(streamId: $id, organizationSlug: $org) { id } }", json!({ "id": private, "org": viewer_slug }))
        .await;
    ok(&r);
    let r = app
        .graphql_as(&viewer_token, by_id, json!({ "id": private }))
        .await;
    assert_eq!(ok(&r)["stream"]["name"], "Private ticks");
    let r = app
        .graphql_as(&viewer_token, search, json!({ "q": "ticks" }))
        .await;
    assert_eq!(
        names(ok(&r)),
        vec!["Private ticks"],
        "unlisted is not listed, private is for the invited"
    );
    let provider_slug: String = sqlx::query_scalar("select slug from organizations where id = $1")
        .bind(org)
        .fetch_one(&app.pool)
        .await
        .expect("slug");
    let r = app
        .graphql(
            "query($p: String!) { stream(providerSlug: $p, slug: \"unlisted-ticks\") { name } }",
            json!({ "p": provider_slug }),
        )
        .await;
    assert_eq!(ok(&r)["stream"]["name"], "Unlisted ticks");

    // Bad search input is typed.
    let r = app.graphql(search, json!({ "q": "x".repeat(201) })).await;
    assert_eq!(code(&r), Some("VALIDATION"));
    let r = app
        .graphql("{ catalogSearch(first: 101) { totalCount } }", json!({}))
        .await;
    assert_eq!(code(&r), Some("VALIDATION"), "{r}");
    assert_eq!(r["errors"][0]["extensions"]["field"], "first");
    let r = app
        .graphql(
            "{ catalogSearch(after: \"bogus\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), Some("VALIDATION"));
    // Pagination: page 2 continues where page 1 stopped.
    let page = "query($after: String) { catalogSearch(first: 1, after: $after, sort: NAME) { pageInfo { hasNextPage endCursor } edges { node { name } } } }";
    let r = app.graphql(page, json!({ "after": null })).await;
    let cursor = ok(&r)["catalogSearch"]["pageInfo"]["endCursor"].clone();
    assert_eq!(r["data"]["catalogSearch"]["pageInfo"]["hasNextPage"], true);
    let r = app.graphql(page, json!({ "after": cursor })).await;
    assert_eq!(
        ok(&r)["catalogSearch"]["edges"][0]["node"]["name"],
        "Weather observations"
    );

    // A stream that leaves the catalog leaves the results and the facet counts at once.
    ok(&app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { deprecateStream(id: $id, message: \"moving\") { id } }",
            json!({ "id": weather }),
        )
        .await);
    let r = app.graphql(search, json!({ "q": "weather" })).await;
    assert_eq!(
        names(ok(&r)),
        vec!["Weather observations"],
        "deprecated streams stay listed"
    );
    ok(&app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { retireStream(id: $id) { id } }",
            json!({ "id": weather }),
        )
        .await);
    let r = app.graphql(search, json!({})).await;
    assert_eq!(names(ok(&r)), vec!["FX rates"]);
    let data = &r["data"]["catalogSearch"];
    assert_eq!(data["totalCount"], 1);
    let categories: Vec<&Value> = data["facets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["name"] == "category")
        .flat_map(|f| f["values"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(
        categories,
        vec![&json!({ "value": "finance", "count": 1 })],
        "{r}"
    );
}

/// Another replica's writes (here: SQL on the same database, as any other writer) reach this
/// replica's search index through the change notification, without a restart.
#[tokio::test]
async fn the_search_index_follows_changes_written_elsewhere() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let base = unique("idx");
    let id = published(
        &app,
        &token,
        org,
        cluster,
        &format!("{base}.tides"),
        json!({ "name": "Tide gauges", "category": "weather" }),
        json!({}),
    )
    .await;
    let search = "query($q: String) { catalogSearch(query: $q, first: 10) { totalCount interpretedAs edges { node { id name } } } }";
    let r = app.graphql(search, json!({ "q": "tide" })).await;
    assert_eq!(ok(&r)["catalogSearch"]["totalCount"], 1, "{r}");

    // Polls the search (the notification arrives within milliseconds) for up to 5 s.
    let until = |q: &'static str, expect: i64| {
        let app = &app;
        async move {
            let started = std::time::Instant::now();
            loop {
                let r = app.graphql(search, json!({ "q": q })).await;
                if ok(&r)["catalogSearch"]["totalCount"] == expect {
                    return started.elapsed();
                }
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(5),
                    "{q}: still {r} after 5 s"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    };
    sqlx::query("update streams set name = 'Harbour levels' where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .expect("rename");
    until("harbour", 1).await;
    until("tide", 0).await;
    // A new word of a name becomes a typo target too.
    let r = app.graphql(search, json!({ "q": "harbor" })).await;
    assert_eq!(
        ok(&r)["catalogSearch"]["interpretedAs"],
        "(harbor | harbour)",
        "{r}"
    );
    assert_eq!(
        r["data"]["catalogSearch"]["edges"][0]["node"]["id"],
        json!(id)
    );

    // Private by invitation: the grant row alone makes the stream findable for the invited.
    let (viewer_org, viewer_token) = provider(&app).await;
    sqlx::query("update streams set visibility = 'private' where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .expect("private");
    until("harbour", 0).await;
    sqlx::query("insert into stream_access_grants (stream_id, org_id) values ($1::uuid, $2)")
        .bind(&id)
        .bind(viewer_org)
        .execute(&app.pool)
        .await
        .expect("grant");
    let started = std::time::Instant::now();
    loop {
        let r = app
            .graphql_as(&viewer_token, search, json!({ "q": "harbour" }))
            .await;
        if ok(&r)["catalogSearch"]["totalCount"] == 1 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "grant not seen: {r}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    // Deleted rows leave the index.
    sqlx::query("update streams set visibility = 'public' where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .expect("public");
    until("harbour", 1).await;
    sqlx::query("delete from streams where id = $1::uuid")
        .bind(&id)
        .execute(&app.pool)
        .await
        .expect("delete");
    until("harbour", 0).await;
}

#[tokio::test]
async fn samples_are_decoded_with_the_registry_and_pii_is_redacted() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let topic = format!("{}.samples", unique("it"));
    let id = published(&app, &token, org, cluster, &topic, json!({}), json!({})).await;
    ok(&app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { setStreamContract(id: $id, input: { compatibility: \"BACKWARD\", fieldClassifications: [{ path: \"customer_email\", classification: \"pii\" }] }) { id } }",
            json!({ "id": id }),
        )
        .await);
    // Avro datums framed as a Confluent serializer writes them.
    let mut conn = app.pool.acquire().await.expect("conn");
    let schema_id = tributary_registry::latest(&mut conn, &format!("{topic}-value"))
        .await
        .expect("schema")
        .id;
    let avro = apache_avro::Schema::parse_str(AVRO_V1).expect("schema");
    let producer: rdkafka::producer::FutureProducer = tributary_tests::kafka_config()
        .client_config()
        .create()
        .expect("producer");
    for i in 0..3 {
        let record = apache_avro::types::Value::Record(vec![
            (
                "trade_id".into(),
                apache_avro::types::Value::String(format!("t-{i}")),
            ),
            (
                "price_minor".into(),
                apache_avro::types::Value::Long(100 + i),
            ),
            (
                "customer_email".into(),
                apache_avro::types::Value::String("ada@example.com".into()),
            ),
        ]);
        let mut payload = vec![0u8];
        payload.extend_from_slice(&schema_id.to_be_bytes());
        payload.extend(
            apache_avro::writer::datum::GenericDatumWriter::builder(&avro)
                .build()
                .expect("writer")
                .write_value_to_vec(record)
                .expect("encode"),
        );
        producer
            .send(
                rdkafka::producer::FutureRecord::<str, [u8]>::to(&topic)
                    .key("k")
                    .payload(&payload),
                Duration::from_secs(10),
            )
            .await
            .expect("delivered");
    }
    let r = app
        .graphql(
            "query($id: UUID!) { stream(id: $id) { samples(limit: 5) { offset value key } } }",
            json!({ "id": id }),
        )
        .await;
    let samples = ok(&r)["stream"]["samples"]
        .as_array()
        .cloned()
        .expect("samples");
    assert_eq!(samples.len(), 3, "{r}");
    for s in &samples {
        assert_eq!(s["value"]["customer_email"], "[redacted]", "{s}");
        assert!(
            s["value"]["trade_id"]
                .as_str()
                .is_some_and(|t| t.starts_with("t-")),
            "{s}"
        );
        assert_eq!(s["key"], "k");
    }
    // Viewers share one read of the topic for a moment: after a fresh read (the cache has
    // expired), a message produced meanwhile is not shown to a viewer asking within the TTL...
    let send_json = |payload: &'static str| {
        let (producer, topic) = (&producer, topic.clone());
        async move {
            producer
                .send(
                    rdkafka::producer::FutureRecord::<str, str>::to(&topic)
                        .key("k")
                        .payload(payload),
                    Duration::from_secs(10),
                )
                .await
                .expect("delivered");
        }
    };
    let query = "query($id: UUID!) { stream(id: $id) { samples(limit: 5) { value } } }";
    tokio::time::sleep(tributary_catalog::SAMPLE_TTL).await;
    let fresh_started = std::time::Instant::now();
    let fresh = app.graphql(query, json!({ "id": id })).await;
    assert_eq!(
        ok(&fresh)["stream"]["samples"].as_array().map(Vec::len),
        Some(3),
        "{fresh}"
    );
    send_json("{\"shared\": true}").await;
    let shared = app.graphql(query, json!({ "id": id })).await;
    // (The read finished after `fresh_started`; when this answer came within the TTL of that,
    // it can only have been the shared read. A machine too slow for the window proves nothing.)
    if fresh_started.elapsed() < tributary_catalog::SAMPLE_TTL {
        assert_eq!(
            shared, fresh,
            "a viewer within the TTL gets the shared read"
        );
    } else {
        eprintln!("samples: the machine was too slow to check sharing within the TTL");
    }
    // ...and new messages show once it expires.
    send_json("{\"plain\": true}").await;
    let started = std::time::Instant::now();
    loop {
        let r = app
            .graphql(
                "query($id: UUID!) { stream(id: $id) { samples(limit: 5) { value } } }",
                json!({ "id": id }),
            )
            .await;
        let samples = ok(&r)["stream"]["samples"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if samples.len() == 5 {
            assert_eq!(
                samples[0]["value"],
                json!({ "plain": true }),
                "newest first: {r}"
            );
            assert_eq!(samples[1]["value"], json!({ "shared": true }), "{r}");
            break;
        }
        assert!(
            started.elapsed() < tributary_catalog::SAMPLE_TTL * 3,
            "the new message never showed: {r}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = app
        .graphql(
            "query($id: UUID!) { stream(id: $id) { samples(limit: 500) { offset } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&r), Some("VALIDATION"));
}

/// Sends `bytes` (with `key`) to `topic`.
async fn send_raw(topic: &str, key: &[u8], bytes: &[u8]) {
    let producer: rdkafka::producer::FutureProducer = tributary_tests::kafka_config()
        .client_config()
        .create()
        .expect("producer");
    producer
        .send(
            rdkafka::producer::FutureRecord::<[u8], [u8]>::to(topic)
                .key(key)
                .payload(bytes),
            Duration::from_secs(10),
        )
        .await
        .expect("delivered");
}

/// A draft stream with its topic and a value schema (provider members see its samples).
async fn draft_with_schema(
    app: &TestApp,
    token: &str,
    org: Uuid,
    cluster: Uuid,
    topic: &str,
    schema: &str,
) -> (String, i32) {
    let id = draft(app, token, org, cluster, topic, json!({})).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(&app
        .graphql_as(token, "mutation($id: UUID!) { provisionStreamTopic(id: $id, input: { partitions: 1 }) { id } }", json!({ "id": id }))
        .await);
    ok(&app
        .graphql_as(token, "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created } }", json!({ "input": { "streamId": id, "role": "VALUE", "schemaType": "AVRO", "schema": schema } }))
        .await);
    let mut conn = app.pool.acquire().await.expect("conn");
    let schema_id = tributary_registry::latest(&mut conn, &format!("{topic}-value"))
        .await
        .expect("schema")
        .id;
    (id, schema_id)
}

fn framed_avro(schema_id: i32, schema: &str, value: apache_avro::types::Value) -> Vec<u8> {
    let avro = apache_avro::Schema::parse_str(schema).expect("schema");
    let mut payload = vec![0u8];
    payload.extend_from_slice(&schema_id.to_be_bytes());
    payload.extend(
        apache_avro::writer::datum::GenericDatumWriter::builder(&avro)
            .build()
            .expect("writer")
            .write_value_to_vec(value)
            .expect("encode"),
    );
    payload
}

async fn set_pii(app: &TestApp, token: &str, id: &str, paths: &[&str]) -> Value {
    let classes: Vec<Value> = paths
        .iter()
        .map(|p| json!({ "path": p, "classification": "pii" }))
        .collect();
    app.graphql_as(
        token,
        "mutation($id: UUID!, $classes: [FieldClassificationInput!]!) { setStreamContract(id: $id, input: { compatibility: \"BACKWARD\", fieldClassifications: $classes }) { id } }",
        json!({ "id": id, "classes": classes }),
    )
    .await
}

/// Published samples are readable anonymously: redaction must hold whatever a producer writes.
#[tokio::test]
async fn pii_redaction_cannot_be_side_stepped() {
    const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"shop","fields":[
        {"name":"contacts","type":{"type":"map","values":{"type":"record","name":"Contact","fields":[{"name":"email","type":"string"},{"name":"city","type":"string"}]}}},
        {"name":"customer","type":{"type":"record","name":"Customer","fields":[{"name":"email","type":"string"},{"name":"referrer","type":["null","Customer"]}]}}]}"#;
    const FOREIGN: &str = r#"{"type":"record","name":"Leak","namespace":"other","fields":[{"name":"secret","type":"string"}]}"#;
    use apache_avro::types::Value as A;
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let topic = format!("{}.redaction", unique("it"));
    let (id, own_id) = draft_with_schema(&app, &token, org, cluster, &topic, ORDER).await;
    // Another tenant's schema in the same (embedded) registry.
    let (other_org, other_token) = provider(&app).await;
    let other_topic = format!("{}.other", unique("it"));
    let (_, foreign_id) = draft_with_schema(
        &app,
        &other_token,
        other_org,
        cluster,
        &other_topic,
        FOREIGN,
    )
    .await;
    assert_ne!(own_id, foreign_id);

    let contact = |email: &str| {
        A::Record(vec![
            ("email".into(), A::String(email.into())),
            ("city".into(), A::String("Oslo".into())),
        ])
    };
    let order = A::Record(vec![
        (
            "contacts".into(),
            A::Map(
                [
                    ("home".to_owned(), contact("home@example.com")),
                    ("email".to_owned(), contact("work@example.com")),
                ]
                .into_iter()
                .collect(),
            ),
        ),
        (
            "customer".into(),
            A::Record(vec![
                ("email".into(), A::String("ada@example.com".into())),
                (
                    "referrer".into(),
                    A::Union(
                        1,
                        Box::new(A::Record(vec![
                            ("email".into(), A::String("bob@example.com".into())),
                            ("referrer".into(), A::Union(0, Box::new(A::Null))),
                        ])),
                    ),
                ),
            ]),
        ),
    ]);
    // Oldest first: a decodable order, a message framed with the other tenant's schema id, a
    // corrupt one with our id, and plain text where the stream has a schema.
    send_raw(
        &topic,
        b"ada@example.com",
        &framed_avro(own_id, ORDER, order),
    )
    .await;
    send_raw(
        &topic,
        b"k",
        &framed_avro(
            foreign_id,
            FOREIGN,
            A::Record(vec![("secret".into(), A::String("ada@example.com".into()))]),
        ),
    )
    .await;
    let mut corrupt = vec![0u8];
    corrupt.extend_from_slice(&own_id.to_be_bytes());
    corrupt.extend_from_slice(&[0xff, 0xff, 0xff]);
    send_raw(&topic, b"k", &corrupt).await;
    send_raw(&topic, b"k", b"ada@example.com").await;

    let samples = |r: &Value| -> Vec<Value> {
        let mut s = ok(r)["stream"]["samples"]
            .as_array()
            .cloned()
            .expect("samples");
        s.sort_by_key(|m| m["offset"].as_i64());
        s
    };
    let query = "query($id: UUID!) { stream(id: $id) { samples(limit: 10) { offset key value keyError valueError } } }";

    // The key, a plain string, is classified as a whole; map values are redacted through
    // their keys (`contacts.email` redacts every contact's email, even under the key "email").
    ok(&set_pii(&app, &token, &id, &["@key", "contacts.email"]).await);
    let r = app.graphql_as(&token, query, json!({ "id": id })).await;
    let s = samples(&r);
    assert_eq!(s.len(), 4, "{r}");
    assert_eq!(s[0]["key"], "[redacted]", "{r}");
    assert_eq!(
        s[0]["value"]["contacts"]["home"]["email"], "[redacted]",
        "{r}"
    );
    assert_eq!(
        s[0]["value"]["contacts"]["email"]["email"], "[redacted]",
        "{r}"
    );
    assert_eq!(s[0]["value"]["contacts"]["home"]["city"], "Oslo", "{r}");
    assert_eq!(s[0]["value"]["customer"]["email"], "ada@example.com", "{r}");
    // Not decodable with this stream's schemas, and not shown: another tenant's schema id, a
    // corrupt message, text.
    for m in &s[1..] {
        assert_eq!(m["value"], Value::Null, "{r}");
        assert_eq!(m["valueError"], tributary_catalog::NOT_DECODABLE, "{r}");
        assert_eq!(m["key"], "[redacted]", "{r}");
    }

    // Every occurrence at any depth, through the recursive type.
    ok(&set_pii(&app, &token, &id, &["**.email"]).await);
    let r = app.graphql_as(&token, query, json!({ "id": id })).await;
    let s = samples(&r);
    assert_eq!(s[0]["value"]["customer"]["email"], "[redacted]", "{r}");
    assert_eq!(
        s[0]["value"]["customer"]["referrer"]["email"], "[redacted]",
        "{r}"
    );
    assert_eq!(
        s[0]["value"]["contacts"]["email"]["email"], "[redacted]",
        "{r}"
    );
    assert_eq!(s[0]["value"]["contacts"]["email"]["city"], "Oslo", "{r}");
    // The string key is not named by `**.email` (it has no fields).
    assert_eq!(s[0]["key"], "ada@example.com", "{r}");
    assert_eq!(s[1]["value"], Value::Null, "{r}");

    // Without any classification, what does not decode is shown as it is, with the reason;
    // the other tenant's schema is still not used.
    ok(&set_pii(&app, &token, &id, &[]).await);
    let r = app.graphql_as(&token, query, json!({ "id": id })).await;
    let s = samples(&r);
    assert_eq!(s[1]["valueError"], tributary_catalog::NOT_DECODABLE, "{r}");
    assert!(
        !s[1]["value"].is_object(),
        "not decoded with the foreign schema: {r}"
    );
    assert_eq!(s[3]["value"], "ada@example.com", "{r}");

    // Paths are validated where they are set.
    for bad in ["a.**", "a.@key", "a b"] {
        let r = set_pii(&app, &token, &id, &[bad]).await;
        assert_eq!(code(&r), Some("VALIDATION"), "{bad}: {r}");
    }
}

/// One query with many `samples` aliases on one stream, from several anonymous clients at
/// once, reads the topic once; reads reuse the cluster's consumers.
#[tokio::test]
async fn samples_are_read_once_per_stream_whatever_the_limit() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let topic = format!("{}.shared", unique("it"));
    let id = published(&app, &token, org, cluster, &topic, json!({}), json!({})).await;
    for i in 0..6 {
        send_raw(&topic, b"k", format!("{{\"n\": {i}}}").as_bytes()).await;
    }
    let aliases: Vec<String> = (1..=8)
        .map(|n| format!("a{n}: samples(limit: {n}) {{ offset }}"))
        .collect();
    let query = format!(
        "query($id: UUID!) {{ stream(id: $id) {{ {} }} }}",
        aliases.join(" ")
    );
    let before = app.catalog.sample_read_stats();
    let answers =
        futures::future::join_all((0..4).map(|_| app.graphql(&query, json!({ "id": id })))).await;
    for r in &answers {
        for n in 1..=8usize {
            assert_eq!(
                ok(r)["stream"][format!("a{n}")].as_array().map(Vec::len),
                Some(n.min(6)),
                "{r}"
            );
        }
    }
    let after = app.catalog.sample_read_stats();
    assert_eq!(
        after.topic_reads - before.topic_reads,
        1,
        "one read for 32 aliases"
    );
    // Later reads reuse the consumer: no new login.
    tokio::time::sleep(tributary_catalog::SAMPLE_TTL).await;
    ok(&app.graphql(&query, json!({ "id": id })).await);
    let again = app.catalog.sample_read_stats();
    assert_eq!(again.topic_reads - before.topic_reads, 2);
    assert_eq!(again.consumers_created, after.consumers_created);
}

/// Sample reads are capped platform-wide and hold no database connection while Kafka is read:
/// with every read stuck on a broker that never answers, the pool stays free and another
/// stream's samples come from its last read, or are refused as UNAVAILABLE.
#[tokio::test]
async fn sample_reads_are_capped_and_hold_no_database_connection() {
    // A "broker" that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let stuck_cluster = app
        .catalog
        .ensure_cluster_system(tributary_catalog::ClusterInput {
            name: unique("silent"),
            region: "test".into(),
            bootstrap_servers: silent_addr.to_string(),
            security_protocol: "SASL_PLAINTEXT".into(),
            sasl_username: "silent".into(),
            sasl_password: Some("silent-password-1234".into()),
            ..Default::default()
        })
        .await
        .expect("cluster")
        .id;
    let (org, token) = provider(&app).await;
    let live_topic = format!("{}.live", unique("it"));
    let live = published(
        &app,
        &token,
        org,
        cluster,
        &live_topic,
        json!({}),
        json!({}),
    )
    .await;
    send_raw(&live_topic, b"k", b"{\"n\": 1}").await;
    let query = "query($id: UUID!) { stream(id: $id) { samples(limit: 5) { value } } }";
    let first = app.graphql(query, json!({ "id": live })).await;
    assert_eq!(
        ok(&first)["stream"]["samples"].as_array().map(Vec::len),
        Some(1)
    );
    // Streams whose reads get stuck, and one never read.
    let mut stuck = Vec::new();
    for i in 0..=tributary_catalog::MAX_SAMPLE_READS {
        let id = draft(
            &app,
            &token,
            org,
            cluster,
            &format!("{}.stuck{i}", unique("it")),
            json!({}),
        )
        .await["id"]
            .as_str()
            .expect("id")
            .to_owned();
        sqlx::query("update streams set topic_provisioned_at = now() where id = $1::uuid")
            .bind(&id)
            .execute(&app.pool)
            .await
            .expect("provisioned");
        stuck.push(id);
    }
    let never_read = stuck.pop().expect("one more");
    sqlx::query("update streams set cluster_id = $1 where id = any($2::uuid[])")
        .bind(stuck_cluster)
        .bind(&stuck)
        .execute(&app.pool)
        .await
        .expect("moved");
    tokio::time::sleep(tributary_catalog::SAMPLE_TTL).await;

    let reads: Vec<_> = stuck
        .iter()
        .map(|id| {
            let (app_url, token, id) = (app.url("/graphql"), token.clone(), id.clone());
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(app_url)
                    .bearer_auth(token)
                    .json(&json!({ "query": query, "variables": { "id": id } }))
                    .send()
                    .await
                    .expect("answer")
                    .json::<Value>()
                    .await
                    .expect("json")
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // While they wait on Kafka: connections in use (the relay and mailer may take one).
    let pool_in_use = async {
        let mut least = u32::MAX;
        for _ in 0..10 {
            least = least.min(app.pool.size() - app.pool.num_idle() as u32);
            tokio::time::sleep(Duration::from_millis(60)).await;
        }
        least
    };
    let (in_use, stale, refused) = tokio::join!(
        pool_in_use,
        app.graphql(query, json!({ "id": live })),
        app.graphql_as(&token, query, json!({ "id": never_read })),
    );
    assert!(in_use <= 1, "{in_use} connections held during Kafka reads");
    assert_eq!(stale, first, "the last samples while reads are busy");
    assert_eq!(code(&refused), Some("UNAVAILABLE"), "{refused}");
    for read in reads {
        let r = read.await.expect("read");
        assert_eq!(code(&r), Some("UNAVAILABLE"), "{r}");
    }
}

#[tokio::test]
async fn the_relay_loses_nothing_across_crashes_and_keeps_order_per_aggregate() {
    let (_db, pool) = tributary_tests::TestDb::migrated().await;
    let aggregates: Vec<String> = (0..4).map(|_| Uuid::new_v4().to_string()).collect();
    let mut tx = pool.begin().await.expect("tx");
    for seq in 0..60 {
        let aggregate = &aggregates[seq % aggregates.len()];
        tributary_db::outbox::enqueue(
            &mut tx,
            "test",
            aggregate,
            "test.happened",
            json!({ "seq": seq }),
        )
        .await
        .expect("enqueue");
    }
    tributary_db::outbox::enqueue_mail(
        &mut tx,
        "someone@example.com",
        "secret link",
        "https://x/verify?token=SECRET",
    )
    .await
    .expect("mail");
    tx.commit().await.expect("commit");

    let relay = std::sync::Arc::new(
        tributary_server::relay::Relay::new(
            pool.clone(),
            &tributary_tests::kafka_config(),
            Duration::from_secs(10),
        )
        .await
        .expect("relay"),
    );
    // Kill the relay mid-batch several times (dropping its task drops the open transaction,
    // exactly what a crashed process does), then let it finish.
    for delay_ms in [1u64, 3, 7, 15] {
        let r = relay.clone();
        let task = tokio::spawn(async move { r.relay_batch().await });
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        task.abort();
        let _ = task.await;
    }
    for _ in 0..20 {
        if relay.relay_batch().await.expect("batch") == Some(0) {
            break;
        }
    }
    let left: i64 = sqlx::query_scalar("select count(*) from outbox where published_at is null")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 0);

    for aggregate in &aggregates {
        let events = tributary_tests::events_of(aggregate, 15, Duration::from_secs(30)).await;
        let mut seen: Vec<i64> = Vec::new();
        for e in &events {
            assert_ne!(e["type"], "mail.requested");
            let seq = e["payload"]["seq"].as_i64().expect("seq");
            if !seen.contains(&seq) {
                seen.push(seq);
            }
        }
        assert_eq!(seen.len(), 15, "{aggregate}: {seen:?}");
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "out of order for {aggregate}: {seen:?}"
        );
    }
    // The mail row (secret link inside) was never put on the bus.
    let mail_events =
        tributary_tests::events_of("someone@example.com", 1, Duration::from_secs(3)).await;
    assert!(mail_events.is_empty());
}

#[tokio::test]
async fn versions_registered_through_the_registry_api_update_the_stream_and_notify() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let topic = format!("{}.rest", unique("it"));
    let stream = draft(&app, &token, org, cluster, &topic, json!({})).await;
    let id = stream["id"].as_str().expect("id").to_owned();
    let secret = write_token(&app, &token, org).await;
    // What a serializer with auto.register.schemas sends, with Confluent-style basic auth.
    let schema = r#"{"type":"object","properties":{"order_id":{"type":"string"},"shipping_zip":{"type":"string"}}}"#;
    let response = app
        .http
        .post(app.url(&format!("/registry/subjects/{topic}-value/versions")))
        .basic_auth("token", Some(&secret))
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .json(&json!({ "schemaType": "JSON", "schema": schema }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let r = app
        .graphql_as(&token, "query($id: UUID!) { stream(id: $id) { valueSchemaType schemaFields schemaVersions(role: VALUE) { version } } }", json!({ "id": id }))
        .await;
    let s = &ok(&r)["stream"];
    assert_eq!(s["valueSchemaType"], "JSON");
    assert!(
        s["schemaFields"]
            .as_array()
            .expect("fields")
            .iter()
            .any(|f| f == "shipping_zip"),
        "{s}"
    );
    let events = app.events_of(&id, 2).await;
    let changed = events
        .iter()
        .find(|e| e["type"] == "stream.schema_changed")
        .expect("schema event");
    assert_eq!(changed["payload"]["via"], "registry");
    assert_eq!(changed["payload"]["version"], 1);
    // The same schema again is no change: no second event, same version.
    let again = app
        .http
        .post(app.url(&format!("/registry/subjects/{topic}-value/versions")))
        .basic_auth("token", Some(&secret))
        .json(&json!({ "schemaType": "JSON", "schema": schema }))
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), 200);
    let changes: i64 = sqlx::query_scalar("select count(*) from outbox where aggregate_id = $1 and event_type = 'stream.schema_changed'")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(changes, 1);
}

/// A cluster whose schemas live in an external Confluent-compatible registry (Apicurio Registry,
/// a registry nobody here wrote, started by `cargo xtask test`): stream schemas are checked,
/// registered, listed and deleted there, and samples decode with its schema ids.
#[tokio::test]
async fn streams_on_a_cluster_with_an_external_registry_keep_their_schemas_there() {
    use schema_registry_converter::{
        async_impl::{avro::AvroEncoder, schema_registry::SrSettings},
        schema_registry_common::SubjectNameStrategy,
    };
    let external = tributary_tests::external_registry_url();
    let app = TestApp::spawn().await;
    let operator = operator(&app).await;
    let kafka = tributary_tests::kafka_config();
    let register = "mutation($input: ClusterInput!) { registerCluster(input: $input) { id schemaRegistryUrl schemaRegistryUsername } }";
    let input = |extra: Value| {
        let mut input = json!({
            "name": unique("ext"), "bootstrapServers": kafka.bootstrap_servers,
            "securityProtocol": kafka.security_protocol.as_str(), "saslUsername": kafka.username,
            "saslPassword": secrecy::ExposeSecret::expose_secret(&kafka.password),
        });
        if let (Some(base), Some(more)) = (input.as_object_mut(), extra.as_object()) {
            base.extend(more.clone());
        }
        json!({ "input": input })
    };
    // Credentials without a registry, or a user without a secret, are refused by field.
    let r = app
        .graphql_as(
            &operator,
            register,
            input(json!({ "schemaRegistryUsername": "reader", "schemaRegistryPassword": "x" })),
        )
        .await;
    assert_eq!(code(&r), Some("VALIDATION"), "{r}");
    assert_eq!(
        r["errors"][0]["extensions"]["field"],
        "schemaRegistryUsername"
    );
    let r = app
        .graphql_as(
            &operator,
            register,
            input(json!({ "schemaRegistryUrl": external, "schemaRegistryUsername": "reader" })),
        )
        .await;
    assert_eq!(
        r["errors"][0]["extensions"]["field"], "schemaRegistryPassword",
        "{r}"
    );
    // The registry's secret is sealed and never returned (Apicurio here runs without auth and
    // ignores the Basic header; the header's presence breaks nothing).
    let r = app
        .graphql_as(&operator, register, input(json!({ "schemaRegistryUrl": external, "schemaRegistryUsername": "reader", "schemaRegistryPassword": "registry-s3cret" })))
        .await;
    let cluster = &ok(&r)["registerCluster"];
    assert_eq!(cluster["schemaRegistryUsername"], "reader");
    assert_eq!(
        cluster["schemaRegistryUrl"],
        json!(external.trim_end_matches('/'))
    );
    let cluster: Uuid = cluster["id"].as_str().expect("id").parse().expect("uuid");
    let sealed: String =
        sqlx::query_scalar("select schema_registry_password_encrypted from clusters where id = $1")
            .bind(cluster)
            .fetch_one(&app.pool)
            .await
            .expect("sealed");
    assert!(!sealed.contains("registry-s3cret"));
    // An update without the secret keeps it; without the user, both go.
    let mut update =
        input(json!({ "schemaRegistryUrl": external, "schemaRegistryUsername": "reader" }));
    update["id"] = json!(cluster);
    let r = app
        .graphql_as(&operator, "mutation($id: UUID!, $input: ClusterInput!) { updateCluster(id: $id, input: $input) { schemaRegistryUsername } }", update.clone())
        .await;
    assert_eq!(ok(&r)["updateCluster"]["schemaRegistryUsername"], "reader");
    let kept: Option<String> =
        sqlx::query_scalar("select schema_registry_password_encrypted from clusters where id = $1")
            .bind(cluster)
            .fetch_one(&app.pool)
            .await
            .expect("kept");
    assert_eq!(kept.as_deref(), Some(sealed.as_str()));
    update["input"]["schemaRegistryUsername"] = json!("");
    let r = app
        .graphql_as(&operator, "mutation($id: UUID!, $input: ClusterInput!) { updateCluster(id: $id, input: $input) { schemaRegistryUsername } }", update)
        .await;
    assert_eq!(
        ok(&r)["updateCluster"]["schemaRegistryUsername"],
        Value::Null
    );
    let cleared: Option<String> =
        sqlx::query_scalar("select schema_registry_password_encrypted from clusters where id = $1")
            .bind(cluster)
            .fetch_one(&app.pool)
            .await
            .expect("cleared");
    assert_eq!(cleared, None);
    // Health covers the registry: this one answers, a registry that is down makes it unhealthy.
    let health =
        "mutation($id: UUID!) { checkClusterHealth(id: $id) { health { status message } } }";
    let r = app
        .graphql_as(&operator, health, json!({ "id": cluster }))
        .await;
    assert_eq!(
        ok(&r)["checkClusterHealth"]["health"]["status"],
        "healthy",
        "{r}"
    );
    let r = app
        .graphql_as(
            &operator,
            register,
            input(json!({ "schemaRegistryUrl": "http://127.0.0.1:9/nothing" })),
        )
        .await;
    let down = ok(&r)["registerCluster"]["id"].clone();
    let r = app
        .graphql_as(&operator, health, json!({ "id": down }))
        .await;
    let h = &ok(&r)["checkClusterHealth"]["health"];
    assert_eq!(h["status"], "unhealthy", "{r}");
    assert!(
        h["message"]
            .as_str()
            .is_some_and(|m| m.contains("schema registry")),
        "{r}"
    );

    // A published stream: its value schema went to the external registry, not the embedded one.
    let (org, token) = provider(&app).await;
    let topic = format!("{}.ext", unique("it"));
    let subject = format!("{topic}-value");
    let id = published(&app, &token, org, cluster, &topic, json!({}), json!({})).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        let (http, external) = (http.clone(), external.clone());
        async move {
            let response = http
                .get(format!("{external}{path}"))
                .send()
                .await
                .expect("external registry answers");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    assert_eq!(
        get(format!("/subjects/{subject}/versions")).await,
        (200, json!([1]))
    );
    let (_, config) = get(format!("/config/{subject}")).await;
    assert_eq!(
        config["compatibilityLevel"]
            .as_str()
            .or(config["compatibility"].as_str()),
        Some("BACKWARD"),
        "the stream's level is applied there: {config}"
    );
    let embedded: i64 =
        sqlx::query_scalar("select count(*) from registry_versions where subject = $1")
            .bind(&subject)
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(embedded, 0);

    // Compatibility is the external registry's verdict, with a reason even when it gives none.
    let schema_input = |schema: &str| json!({ "input": { "streamId": id, "role": "VALUE", "schemaType": "AVRO", "schema": schema } });
    let r = app
        .graphql_as(&token, "mutation($input: RegisterSchemaInput!) { checkStreamSchema(input: $input) { isCompatible messages } }", schema_input(AVRO_BAD))
        .await;
    assert_eq!(ok(&r)["checkStreamSchema"]["isCompatible"], false, "{r}");
    let register_schema = "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created schema { version id } stream { schemaFields } } }";
    let r = app
        .graphql_as(&token, register_schema, schema_input(AVRO_BAD))
        .await;
    assert_eq!(code(&r), Some("INCOMPATIBLE_SCHEMA"), "{r}");
    assert!(
        r["errors"][0]["extensions"]["reasons"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "{r}"
    );
    let r = app
        .graphql_as(
            &token,
            register_schema,
            schema_input("{\"type\": \"record\""),
        )
        .await;
    assert_eq!(
        code(&r),
        Some("VALIDATION"),
        "invalid schemas never reach the registry: {r}"
    );
    assert_eq!(
        get(format!("/subjects/{subject}/versions")).await,
        (200, json!([1]))
    );
    let r = app
        .graphql_as(&token, register_schema, schema_input(AVRO_V2))
        .await;
    let v2 = &ok(&r)["registerStreamSchema"];
    assert_eq!(v2["created"], true);
    assert_eq!(v2["schema"]["version"], 2);
    assert!(
        v2["stream"]["schemaFields"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("venue"))),
        "{r}"
    );
    // Registering the same schema again is idempotent: no new version, no event.
    let r = app
        .graphql_as(&token, register_schema, schema_input(AVRO_V2))
        .await;
    assert_eq!(ok(&r)["registerStreamSchema"]["created"], false);
    let r = app
        .graphql_as(
            &token,
            "query($id: UUID!) { stream(id: $id) { schemaVersions(role: VALUE) { version id } } }",
            json!({ "id": id }),
        )
        .await;
    let versions = ok(&r)["stream"]["schemaVersions"]
        .as_array()
        .cloned()
        .expect("versions");
    assert_eq!(versions.len(), 2, "{r}");
    assert_eq!(versions[1]["id"], v2["schema"]["id"]);

    // A producer serializing through the external registry (schema_registry_converter, with
    // the registry's own id for v2); the stream page decodes its messages there.
    let encoder = AvroEncoder::new(
        SrSettings::new_builder(external.clone())
            .no_proxy()
            .set_timeout(Duration::from_secs(10))
            .build()
            .expect("settings"),
    );
    let bytes = encoder
        .encode(
            vec![
                ("trade_id", apache_avro::types::Value::String("x-1".into())),
                ("price_minor", apache_avro::types::Value::Long(42)),
                (
                    "customer_email",
                    apache_avro::types::Value::String("ada@example.com".into()),
                ),
                ("venue", apache_avro::types::Value::String("XLON".into())),
            ],
            SubjectNameStrategy::TopicNameStrategy(topic.clone(), false),
        )
        .await
        .expect("encode with the external registry's latest schema");
    assert_eq!(
        i64::from(i32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]])),
        v2["schema"]["id"].as_i64().expect("id")
    );
    let producer: rdkafka::producer::FutureProducer =
        kafka.client_config().create().expect("producer");
    producer
        .send(
            rdkafka::producer::FutureRecord::<str, [u8]>::to(&topic).payload(&bytes),
            Duration::from_secs(10),
        )
        .await
        .expect("delivered");
    let r = app
        .graphql(
            "query($id: UUID!) { stream(id: $id) { samples(limit: 5) { value } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        ok(&r)["stream"]["samples"][0]["value"],
        json!({ "trade_id": "x-1", "price_minor": 42, "customer_email": "ada@example.com", "venue": "XLON" }),
        "{r}"
    );

    // A message framed with an id of another subject of the same registry (another tenant's
    // schema) is not decoded with it.
    let foreign = http
        .post(format!("{external}/subjects/{}-value/versions", unique("foreign")))
        .header("content-type", "application/vnd.schemaregistry.v1+json")
        .body(
            json!({ "schema": r#"{"type":"record","name":"Foreign","namespace":"other","fields":[{"name":"secret","type":"string"}]}"# })
                .to_string(),
        )
        .send()
        .await
        .expect("external registry answers")
        .json::<Value>()
        .await
        .expect("id");
    let foreign_id = i32::try_from(foreign["id"].as_i64().expect("foreign id")).expect("i32");
    let mut framed = vec![0u8];
    framed.extend_from_slice(&foreign_id.to_be_bytes());
    framed.extend_from_slice(&[0x0c, b'h', b'i', b'd', b'd', b'e', b'n']);
    producer
        .send(
            rdkafka::producer::FutureRecord::<str, [u8]>::to(&topic).payload(&framed),
            Duration::from_secs(10),
        )
        .await
        .expect("delivered");
    tokio::time::sleep(tributary_catalog::SAMPLE_TTL).await;
    let r = app
        .graphql(
            "query($id: UUID!) { stream(id: $id) { samples(limit: 5) { value valueError } } }",
            json!({ "id": id }),
        )
        .await;
    let newest = &ok(&r)["stream"]["samples"][0];
    assert_eq!(
        newest["valueError"],
        tributary_catalog::NOT_DECODABLE,
        "{r}"
    );
    assert_ne!(newest["value"], json!({ "secret": "hidden" }), "{r}");

    // Deleting a draft removes its subject from the external registry too.
    let other = format!("{}.extdraft", unique("it"));
    let draft_id = draft(&app, &token, org, cluster, &other, json!({})).await["id"].clone();
    ok(&app
        .graphql_as(&token, "mutation($id: UUID!) { provisionStreamTopic(id: $id, input: { partitions: 1 }) { id } }", json!({ "id": draft_id }))
        .await);
    ok(&app
        .graphql_as(&token, "mutation($input: RegisterSchemaInput!) { registerStreamSchema(input: $input) { created } }", json!({ "input": { "streamId": draft_id, "role": "VALUE", "schemaType": "AVRO", "schema": AVRO_V1 } }))
        .await);
    assert_eq!(
        get(format!("/subjects/{other}-value/versions")).await.0,
        200
    );
    ok(&app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { deleteDraftStream(id: $id) }",
            json!({ "id": draft_id }),
        )
        .await);
    assert_eq!(
        get(format!("/subjects/{other}-value/versions")).await.0,
        404
    );
}

/// A version registered directly in an external registry (a producer's serializer with
/// auto-registration, say) is followed on the next look: the stream's search fields follow and
/// subscribers get one `stream.schema_changed` with `via: "external-registry"`. Looking again
/// changes nothing, a registry that is down is reported without stopping the others, and a
/// stream from before versions were tracked takes its registry's latest version silently.
#[tokio::test]
async fn versions_registered_directly_in_an_external_registry_are_followed() {
    let external = tributary_tests::external_registry_url();
    let app = TestApp::spawn().await;
    let operator = operator(&app).await;
    let kafka = tributary_tests::kafka_config();
    let register = |name: String, registry: &str| {
        json!({ "input": {
            "name": name, "bootstrapServers": kafka.bootstrap_servers,
            "securityProtocol": kafka.security_protocol.as_str(), "saslUsername": kafka.username,
            "saslPassword": secrecy::ExposeSecret::expose_secret(&kafka.password),
            "schemaRegistryUrl": registry,
        } })
    };
    let mutation = "mutation($input: ClusterInput!) { registerCluster(input: $input) { id } }";
    let r = app
        .graphql_as(&operator, mutation, register(unique("ext"), &external))
        .await;
    let cluster: Uuid = ok(&r)["registerCluster"]["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    let (org, token) = provider(&app).await;
    // A second cluster whose registry goes down after a draft was created on it (its name sorts
    // first, so it is looked at first).
    let down_name = format!("a-{}", unique("down"));
    let r = app
        .graphql_as(&operator, mutation, register(down_name.clone(), &external))
        .await;
    let down = ok(&r)["registerCluster"]["id"].clone();
    let down_id: Uuid = down.as_str().expect("id").parse().expect("uuid");
    draft(
        &app,
        &token,
        org,
        down_id,
        &format!("{}.down", unique("it")),
        json!({}),
    )
    .await;
    let mut gone = register(down_name.clone(), "http://127.0.0.1:9/nothing");
    gone["id"] = down;
    ok(&app
        .graphql_as(
            &operator,
            "mutation($id: UUID!, $input: ClusterInput!) { updateCluster(id: $id, input: $input) { id } }",
            gone,
        )
        .await);

    let topic = format!("{}.direct", unique("it"));
    let id = published(&app, &token, org, cluster, &topic, json!({}), json!({})).await;
    let stream_id: Uuid = id.parse().expect("uuid");
    let followed = |column: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<i32>>(sqlx::AssertSqlSafe(format!(
                "select {column} from streams where id = $1"
            )))
            .bind(stream_id)
            .fetch_one(&pool)
            .await
            .expect("followed version")
        }
    };
    assert_eq!(followed("value_schema_version").await, Some(1));
    let events = || {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, Value>(
                "select payload from outbox where aggregate_id = $1 and event_type = 'stream.schema_changed' order by id",
            )
            .bind(stream_id.to_string())
            .fetch_all(&pool)
            .await
            .expect("events")
        }
    };
    assert_eq!(events().await.len(), 1, "v1, registered through Tributary");

    // Nothing new yet: the healthy registry is read, the one that is down is reported.
    let sync = app
        .catalog
        .follow_external_registries()
        .await
        .expect("look");
    assert_eq!((sync.followed, sync.baselined), (0, 0), "{sync:?}");
    assert_eq!(sync.failed.len(), 1, "{sync:?}");
    assert_eq!(sync.failed[0].0, down_name);

    // v2 of the value and a first key schema, registered straight into the external registry.
    let http = reqwest::Client::new();
    let post = |subject: String, schema: &'static str| {
        let (http, external) = (http.clone(), external.clone());
        async move {
            let response = http
                .post(format!("{external}/subjects/{subject}/versions"))
                .header("content-type", "application/vnd.schemaregistry.v1+json")
                .body(json!({ "schema": schema }).to_string())
                .send()
                .await
                .expect("external registry answers");
            assert!(
                response.status().is_success(),
                "{:?}",
                response.text().await
            );
        }
    };
    post(format!("{topic}-value"), AVRO_V2).await;
    post(format!("{topic}-key"), r#"{"type":"string"}"#).await;
    let sync = app
        .catalog
        .follow_external_registries()
        .await
        .expect("look");
    assert_eq!((sync.followed, sync.baselined), (2, 0), "{sync:?}");
    assert_eq!(followed("value_schema_version").await, Some(2));
    assert_eq!(followed("key_schema_version").await, Some(1));
    let payloads = events().await;
    assert_eq!(payloads.len(), 3, "{payloads:?}");
    let value_change = payloads
        .iter()
        .find(|p| p["role"] == "value" && p["version"] == 2)
        .expect("the value's v2 event");
    assert_eq!(value_change["via"], "external-registry");
    assert_eq!(value_change["subject"], format!("{topic}-value"));
    let key_change = payloads
        .iter()
        .find(|p| p["role"] == "key")
        .expect("the key's event");
    assert_eq!(key_change["version"], 1);
    // The stream page and search see the new field.
    let r = app
        .graphql(
            "query($id: UUID!) { stream(id: $id) { schemaFields } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        ok(&r)["stream"]["schemaFields"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("venue"))),
        "{r}"
    );
    let r = app
        .graphql(
            "query($q: String) { catalogSearch(query: $q) { edges { node { id } } } }",
            json!({ "q": "venue" }),
        )
        .await;
    assert!(
        ok(&r)["catalogSearch"]["edges"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["node"]["id"] == json!(id))),
        "{r}"
    );

    // Looking again finds nothing new.
    let sync = app
        .catalog
        .follow_external_registries()
        .await
        .expect("look");
    assert_eq!((sync.followed, sync.baselined), (0, 0), "{sync:?}");
    assert_eq!(events().await.len(), 3);

    // A stream from before versions were tracked starts from its registry's latest, silently.
    sqlx::query("update streams set value_schema_version = null where id = $1")
        .bind(stream_id)
        .execute(&app.pool)
        .await
        .expect("forget");
    let sync = app
        .catalog
        .follow_external_registries()
        .await
        .expect("look");
    assert_eq!((sync.followed, sync.baselined), (0, 1), "{sync:?}");
    assert_eq!(followed("value_schema_version").await, Some(2));
    assert_eq!(events().await.len(), 3);
}

/// A listed stream's promises hold whatever the tool: its registry subjects keep the contract's
/// level and their versions (42205 over REST), a developer cannot loosen its contract, a second
/// stream cannot take over its subjects from another cluster, and its cluster's addresses are
/// for its provider and the operator only.
#[tokio::test]
async fn a_published_streams_subjects_contract_and_cluster_are_guarded() {
    let app = TestApp::spawn().await;
    let cluster = app.cluster().await;
    let (org, token) = provider(&app).await;
    let topic = format!("{}.guarded", unique("it"));
    let subject = format!("{topic}-value");
    let id = published(&app, &token, org, cluster, &topic, json!({}), json!({})).await;
    let secret = write_token(&app, &token, org).await;
    let rest = |method: reqwest::Method, path: String, body: Option<Value>| {
        let request = app
            .http
            .request(method, app.url(&format!("/registry{path}")))
            .basic_auth("token", Some(&secret));
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        async move {
            let response = request.send().await.expect("request");
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    // The owner's own write token may not loosen the level or delete the versions.
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            format!("/config/{subject}"),
            Some(json!({ "compatibility": "NONE" })),
        ),
        (reqwest::Method::DELETE, format!("/config/{subject}"), None),
        (
            reqwest::Method::DELETE,
            format!("/subjects/{subject}"),
            None,
        ),
        (
            reqwest::Method::DELETE,
            format!("/subjects/{subject}/versions/1"),
            None,
        ),
    ] {
        let (status, body) = rest(method.clone(), path.clone(), body).await;
        assert_eq!(status, 422, "{method} {path}: {body}");
        assert_eq!(body["error_code"], 42205, "{method} {path}: {body}");
    }
    let (status, config) = rest(reqwest::Method::GET, format!("/config/{subject}"), None).await;
    assert_eq!(
        (status, config["compatibilityLevel"].as_str()),
        (200, Some("BACKWARD"))
    );
    let (_, versions) = rest(
        reqwest::Method::GET,
        format!("/subjects/{subject}/versions"),
        None,
    )
    .await;
    assert_eq!(versions, json!([1]));
    // New versions still come in over REST, checked under the contract's level.
    let (status, body) = rest(
        reqwest::Method::POST,
        format!("/subjects/{subject}/versions"),
        Some(json!({ "schema": AVRO_BAD })),
    )
    .await;
    assert_eq!((status, body["error_code"].as_i64()), (409, Some(409)));

    // A developer edits drafts' contracts, not a listed one's.
    let developer = app.user(&format!("{}@example.com", unique("dev"))).await;
    sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, 'developer')")
        .bind(org)
        .bind(developer)
        .execute(&app.pool)
        .await
        .expect("developer");
    let developer = app.token_for(developer).await;
    let contract = "mutation($id: UUID!) { setStreamContract(id: $id, input: { compatibility: \"NONE\" }) { contract { compatibility } } }";
    let r = app
        .graphql_as(&developer, contract, json!({ "id": id }))
        .await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "{r}");
    let r = app.graphql_as(&token, contract, json!({ "id": id })).await;
    assert_eq!(
        ok(&r)["setStreamContract"]["contract"]["compatibility"],
        "NONE"
    );

    // The same topic name on another cluster with the same (embedded) registry would share the
    // subjects: refused, and nothing is left behind.
    let second = app.cluster().await;
    let r = app
        .graphql_as(&token, CREATE, json!({ "input": { "organizationId": org, "clusterId": second, "name": "Twin", "topic": topic } }))
        .await;
    assert_eq!(code(&r), Some("CONFLICT"), "{r}");
    let twins: i64 = sqlx::query_scalar("select count(*) from streams where topic = $1")
        .bind(&topic)
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(twins, 1);

    // The cluster a stream lives on: the provider and the operator see which one and whether it
    // is up; nobody reads how to reach it through the stream.
    let query = "query($id: UUID!) { stream(id: $id) { name cluster { name region status } } }";
    let r = app.graphql(query, json!({ "id": id })).await;
    assert_eq!(code(&r), Some("UNAUTHENTICATED"), "{r}");
    let (_, stranger) = provider(&app).await;
    let r = app.graphql_as(&stranger, query, json!({ "id": id })).await;
    assert_eq!(code(&r), Some("FORBIDDEN"), "{r}");
    let r = app
        .graphql_as(
            &stranger,
            "query($id: UUID!) { stream(id: $id) { name } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        ok(&r)["stream"]["name"].is_string(),
        "the stream itself is public"
    );
    let r = app.graphql_as(&token, query, json!({ "id": id })).await;
    assert!(ok(&r)["stream"]["cluster"]["name"].is_string());
    let operator = operator(&app).await;
    let r = app.graphql_as(&operator, query, json!({ "id": id })).await;
    assert!(ok(&r)["stream"]["cluster"]["status"].is_string());
    let r = app
        .graphql_as(
            &token,
            "query($id: UUID!) { stream(id: $id) { cluster { bootstrapServers saslUsername } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&r), Some("GRAPHQL_VALIDATION_FAILED"), "{r}");
}

/// A SASL_SSL cluster (the test broker's TLS listener, its certificate from a private CA) is
/// reached with its CA bundle: healthy, and a stream's topic is provisioned over TLS. With a CA
/// bundle that did not sign the broker's certificate the cluster is unhealthy, with the reason.
#[tokio::test]
async fn a_sasl_ssl_cluster_is_reached_with_its_ca_bundle_only() {
    let app = TestApp::spawn().await;
    let operator = operator(&app).await;
    let kafka = tributary_tests::kafka_config();
    let tls = tributary_tests::kafka_tls();
    let register = |name: String, ca: &str| {
        json!({ "input": {
            "name": name, "bootstrapServers": tls.bootstrap_servers, "securityProtocol": "SASL_SSL",
            "saslUsername": kafka.username,
            "saslPassword": secrecy::ExposeSecret::expose_secret(&kafka.password),
            "caPem": ca,
        } })
    };
    let mutation =
        "mutation($input: ClusterInput!) { registerCluster(input: $input) { id hasCaBundle } }";
    let health = "mutation($id: UUID!) { checkClusterHealth(id: $id) { health { status message brokerCount } } }";

    let r = app
        .graphql_as(&operator, mutation, register(unique("tls"), &tls.ca_pem))
        .await;
    assert_eq!(ok(&r)["registerCluster"]["hasCaBundle"], true);
    let cluster = ok(&r)["registerCluster"]["id"].clone();
    let r = app
        .graphql_as(&operator, health, json!({ "id": cluster }))
        .await;
    let h = &ok(&r)["checkClusterHealth"]["health"];
    assert_eq!(h["status"], "healthy", "{r}");
    assert_eq!(h["brokerCount"], 1, "{r}");

    // A provider's topic goes onto the cluster over TLS.
    let (org, token) = provider(&app).await;
    let topic = format!("{}.tls", unique("it"));
    let cluster_id: Uuid = cluster.as_str().expect("id").parse().expect("uuid");
    let stream = draft(&app, &token, org, cluster_id, &topic, json!({})).await;
    let r = app
        .graphql_as(
            &token,
            "mutation($id: UUID!) { provisionStreamTopic(id: $id, input: { partitions: 2 }) { topicInfo { partitions } } }",
            json!({ "id": stream["id"] }),
        )
        .await;
    assert_eq!(
        ok(&r)["provisionStreamTopic"]["topicInfo"]["partitions"],
        2,
        "{r}"
    );
    let described = topic_on_broker(&topic, true).await;
    assert_eq!(described.map(|d| d.partitions), Some(2));

    // The wrong CA: the TLS handshake fails and the health check says so.
    let r = app
        .graphql_as(
            &operator,
            mutation,
            register(unique("tls-wrong-ca"), &tls.other_ca_pem),
        )
        .await;
    let wrong = ok(&r)["registerCluster"]["id"].clone();
    let r = app
        .graphql_as(&operator, health, json!({ "id": wrong }))
        .await;
    let h = &ok(&r)["checkClusterHealth"]["health"];
    assert_eq!(h["status"], "unhealthy", "{r}");
    assert!(
        h["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("cannot reach or log in")),
        "the brokers, not the registry, refused: {r}"
    );
}
