//! The authorization table: every query and mutation, run as every kind of caller, must be
//! allowed or refused exactly as listed. Later features add their operations here.

use serde_json::{Value, json};
use tributary_tests::{TestApp, unique};
use uuid::Uuid;

/// The callers of the table.
const CALLERS: [&str; 10] = [
    "anonymous",
    "viewer A",
    "developer A",
    "admin A",
    "owner A",
    "member B",
    "operator",
    // A viewer of the operator organization operates nothing: like any member of another org.
    "operator viewer",
    // API tokens of org A: they act for it as a viewer (read) or a developer (write), but are
    // never a person: they manage no tokens, members or invitations and sign nothing out.
    "read token A",
    "write token A",
];

/// Expected outcome per caller, in `CALLERS` order: `ok` or an error code.
type Row = [&'static str; 10];

const OK: &str = "ok";
const UNAUTH: &str = "UNAUTHENTICATED";
const FORBID: &str = "FORBIDDEN";
const NOTFOUND: &str = "NOT_FOUND";
/// Authorized, then refused by a state rule (proves the caller got past authorization).
const INVALID: &str = "VALIDATION";
const CONFLICT: &str = "CONFLICT";
/// Asks for something the schema does not have (for everyone alike).
const SCHEMA: &str = "GRAPHQL_VALIDATION_FAILED";

struct Operation {
    name: &'static str,
    document: &'static str,
    expected: Row,
}

/// Everything the table needs: org A with one member per role, org B, the operator.
struct World {
    org_a: Uuid,
    org_b_slug: String,
    owner_a: Uuid,
    tokens: Vec<Option<String>>,
    api_token_a: Uuid,
}

async fn world(app: &TestApp) -> World {
    let mut ids = Vec::new();
    for name in [
        "viewer",
        "developer",
        "admin",
        "owner",
        "b-member",
        "operator",
        "operator-viewer",
    ] {
        ids.push(app.user(&format!("{}@example.com", unique(name))).await);
    }
    let org_a = app
        .org_with(
            &unique("org-a"),
            &[
                (ids[0], "viewer"),
                (ids[1], "developer"),
                (ids[2], "admin"),
                (ids[3], "owner"),
            ],
            false,
        )
        .await;
    let org_b_slug = unique("org-b");
    app.org_with(&org_b_slug, &[(ids[4], "owner")], false).await;
    app.org_with(
        &unique("operator"),
        &[(ids[5], "owner"), (ids[6], "viewer")],
        true,
    )
    .await;
    let api_token_a: Uuid = sqlx::query_scalar(
        "insert into api_tokens (org_id, name, prefix, secret_hash, scopes) values ($1, 'matrix', 'matrix000000', '\\x00', '{read}') returning id",
    )
    .bind(org_a)
    .fetch_one(&app.pool)
    .await
    .expect("token row");
    let mut tokens = vec![None];
    for id in &ids {
        tokens.push(Some(app.token_for(*id).await));
    }
    // The API tokens, made by org A's owner as any client would.
    for (name, scopes) in [
        ("read", json!(["READ"])),
        ("write", json!(["READ", "WRITE"])),
    ] {
        let created = app
            .graphql_as(
                tokens[4].as_deref().expect("owner token"),
                "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }",
                json!({ "input": { "organizationId": org_a, "name": name, "scopes": scopes } }),
            )
            .await;
        let secret = created["data"]["createApiToken"]["secret"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} token: {created}"));
        tokens.push(Some(secret.to_owned()));
    }
    World {
        org_a,
        org_b_slug,
        owner_a: ids[3],
        tokens,
        api_token_a,
    }
}

fn operations() -> Vec<Operation> {
    vec![
        Operation {
            name: "serverVersion",
            document: "{ serverVersion }",
            expected: [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "catalog",
            document: "{ catalog(first: 1) { edges { cursor } } }",
            expected: [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "viewer",
            document: "{ viewer { organizations { id } } }",
            expected: [UNAUTH, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "organization",
            document: "query($org: UUID!) { organization(id: $org) { name viewerRole } }",
            expected: [UNAUTH, OK, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, OK, OK],
        },
        Operation {
            name: "organization.members",
            document: "query($org: UUID!) { organization(id: $org) { members { email role } } }",
            expected: [UNAUTH, OK, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, OK, OK],
        },
        Operation {
            name: "organization.invitations",
            document: "query($org: UUID!) { organization(id: $org) { invitations { email } } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "organization.apiTokens",
            document: "query($org: UUID!) { organization(id: $org) { apiTokens { prefix } } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "organization.auditLog",
            document: "query($org: UUID!) { organization(id: $org) { auditLog { nodes { action } } } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "platformAuditLog",
            document: "{ platformAuditLog { nodes { action } } }",
            expected: [
                UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK, FORBID, FORBID, FORBID,
            ],
        },
        Operation {
            name: "createOrganization",
            document: "mutation($name: String!) { createOrganization(name: $name) { id } }",
            expected: [UNAUTH, OK, OK, OK, OK, OK, OK, OK, FORBID, FORBID],
        },
        Operation {
            name: "inviteMember",
            document: "mutation($org: UUID!, $email: String!) { inviteMember(organizationId: $org, email: $email, role: VIEWER) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "revokeInvitation",
            document: "mutation($org: UUID!, $invitation: UUID!) { revokeInvitation(organizationId: $org, invitationId: $invitation) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            // Open to anyone (the mailbox is the credential); the same answer for every caller.
            name: "requestPasswordReset",
            document: "mutation($email: String!) { requestPasswordReset(email: $email) { message } }",
            expected: [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            // The mailed token is the only credential: without a valid one, nobody gets through.
            name: "resetPassword",
            document: "mutation { resetPassword(token: \"forged\", password: \"a long enough passphrase\") }",
            expected: [
                UNAUTH, UNAUTH, UNAUTH, UNAUTH, UNAUTH, UNAUTH, UNAUTH, UNAUTH, UNAUTH, UNAUTH,
            ],
        },
        Operation {
            name: "changeMemberRole",
            document: "mutation($org: UUID!, $target: UUID!) { changeMemberRole(organizationId: $org, userId: $target, role: BILLING) { role } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "removeMember",
            document: "mutation($org: UUID!, $target: UUID!) { removeMember(organizationId: $org, userId: $target) }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "createApiToken",
            document: "mutation($org: UUID!, $name: String!) { createApiToken(input: { organizationId: $org, name: $name, scopes: [READ] }) { secret } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "revokeApiToken",
            document: "mutation($org: UUID!, $token: UUID!) { revokeApiToken(organizationId: $org, tokenId: $token) { id } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "clusters",
            document: "{ clusters { id name region status } }",
            expected: [UNAUTH, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            // What a provider needs to choose a cluster, and nothing of how to reach it.
            name: "clusters.bootstrapServers",
            document: "{ clusters { bootstrapServers saslUsername schemaRegistryUrl } }",
            expected: [
                SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA,
            ],
        },
        Operation {
            name: "managedClusters",
            document: "{ managedClusters { id bootstrapServers saslUsername schemaRegistryUrl health { status message } } }",
            expected: [
                UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK, FORBID, FORBID, FORBID,
            ],
        },
        Operation {
            name: "registerCluster",
            document: "mutation($name: String!) { registerCluster(input: { name: $name, bootstrapServers: \"127.0.0.1:9\", securityProtocol: \"SASL_PLAINTEXT\", saslUsername: \"u\", saslPassword: \"p\" }) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK, FORBID, FORBID, FORBID,
            ],
        },
        Operation {
            name: "updateCluster",
            document: "mutation($spare: UUID!, $name: String!) { updateCluster(id: $spare, input: { name: $name, bootstrapServers: \"127.0.0.1:9\", securityProtocol: \"SASL_PLAINTEXT\", saslUsername: \"u\" }) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK, FORBID, FORBID, FORBID,
            ],
        },
        Operation {
            name: "checkClusterHealth",
            document: "mutation($cluster: UUID!) { checkClusterHealth(id: $cluster) { health { status } } }",
            expected: [
                UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK, FORBID, FORBID, FORBID,
            ],
        },
        Operation {
            name: "grantTopicPrefix",
            document: "mutation($cluster: UUID!, $org: UUID!) { grantTopicPrefix(clusterId: $cluster, organizationId: $org, prefix: \"org-a.\") }",
            expected: [
                UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK, FORBID, FORBID, FORBID,
            ],
        },
        Operation {
            name: "deleteCluster",
            document: "mutation($spare: UUID!) { deleteCluster(id: $spare) }",
            expected: [
                UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK, FORBID, FORBID, FORBID,
            ],
        },
        Operation {
            name: "catalogSearch",
            document: "{ catalogSearch(query: \"orders\") { totalCount facets { name } } }",
            expected: [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "stream (draft)",
            document: "query($stream: UUID!) { stream(id: $stream) { name plans { id } } }",
            expected: [NOTFOUND, OK, OK, OK, OK, NOTFOUND, OK, NOTFOUND, OK, OK],
        },
        Operation {
            name: "stream.accessGrants",
            document: "query($stream: UUID!) { stream(id: $stream) { accessGrants { slug } } }",
            expected: [
                NOTFOUND, OK, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, OK, OK,
            ],
        },
        Operation {
            name: "stream.cluster",
            document: "query($stream: UUID!) { stream(id: $stream) { cluster { name region status } } }",
            expected: [NOTFOUND, OK, OK, OK, OK, NOTFOUND, OK, NOTFOUND, OK, OK],
        },
        Operation {
            name: "stream.cluster.saslUsername",
            document: "query($stream: UUID!) { stream(id: $stream) { cluster { bootstrapServers saslUsername } } }",
            expected: [
                SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA, SCHEMA,
            ],
        },
        Operation {
            name: "stream.schemaVersions",
            document: "query($stream: UUID!) { stream(id: $stream) { schemaVersions(role: VALUE) { version } } }",
            expected: [NOTFOUND, OK, OK, OK, OK, NOTFOUND, OK, NOTFOUND, OK, OK],
        },
        Operation {
            name: "stream.samples",
            document: "query($stream: UUID!) { stream(id: $stream) { samples(limit: 1) { offset } } }",
            expected: [NOTFOUND, OK, OK, OK, OK, NOTFOUND, OK, NOTFOUND, OK, OK],
        },
        Operation {
            name: "streamCategories",
            document: "{ streamCategories }",
            expected: [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "stream (published, private)",
            document: "query($private: UUID!) { stream(id: $private) { name } }",
            expected: [NOTFOUND, OK, OK, OK, OK, NOTFOUND, OK, NOTFOUND, OK, OK],
        },
        Operation {
            name: "stream.cluster (published)",
            document: "query($public: UUID!) { stream(id: $public) { name cluster { name } } }",
            expected: [UNAUTH, OK, OK, OK, OK, FORBID, OK, FORBID, OK, OK],
        },
        Operation {
            name: "stream.samples (published)",
            document: "query($public: UUID!) { stream(id: $public) { samples(limit: 1) { offset } } }",
            expected: [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "organizationStreams",
            document: "query($org: UUID!) { organizationStreams(organizationId: $org) { id } }",
            expected: [UNAUTH, OK, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, OK, OK],
        },
        Operation {
            name: "createStream",
            document: "mutation($org: UUID!, $cluster: UUID!, $topic: String!, $name: String!) { createStream(input: { organizationId: $org, clusterId: $cluster, name: $name, topic: $topic }) { id } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, OK,
            ],
        },
        Operation {
            name: "updateStream",
            document: "mutation($stream: UUID!) { updateStream(id: $stream, input: { summary: \"changed\" }) { id } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, OK,
            ],
        },
        Operation {
            name: "setStreamContract",
            document: "mutation($stream: UUID!) { setStreamContract(id: $stream, input: { compatibility: \"FULL\" }) { id } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, OK,
            ],
        },
        Operation {
            name: "provisionStreamTopic",
            document: "mutation($stream: UUID!) { provisionStreamTopic(id: $stream, input: { partitions: 1 }) { id } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, OK,
            ],
        },
        Operation {
            name: "registerStreamSchema",
            document: "mutation($stream: UUID!) { registerStreamSchema(input: { streamId: $stream, role: VALUE, schemaType: JSON, schema: \"{\\\"type\\\":\\\"object\\\"}\" }) { created } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, OK,
            ],
        },
        Operation {
            name: "checkStreamSchema",
            document: "mutation($stream: UUID!) { checkStreamSchema(input: { streamId: $stream, role: VALUE, schemaType: JSON, schema: \"{\\\"type\\\":\\\"object\\\"}\" }) { isCompatible } }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, OK,
            ],
        },
        Operation {
            name: "createPlan",
            document: "mutation($stream: UUID!) { createPlan(input: { streamId: $stream, name: \"Extra\", pricingModel: \"free\" }) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "archivePlan",
            document: "mutation($plan: UUID!) { archivePlan(id: $plan) { archivedAt } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "publishStream",
            document: "mutation($stream: UUID!) { publishStream(id: $stream) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, INVALID, INVALID, NOTFOUND, NOTFOUND, NOTFOUND, FORBID,
                FORBID,
            ],
        },
        Operation {
            name: "deprecateStream",
            document: "mutation($stream: UUID!) { deprecateStream(id: $stream, message: \"bye\") { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, CONFLICT, CONFLICT, NOTFOUND, NOTFOUND, NOTFOUND, FORBID,
                FORBID,
            ],
        },
        Operation {
            name: "retireStream",
            document: "mutation($stream: UUID!) { retireStream(id: $stream) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, CONFLICT, CONFLICT, NOTFOUND, NOTFOUND, NOTFOUND, FORBID,
                FORBID,
            ],
        },
        Operation {
            name: "grantStreamAccess",
            document: "mutation($stream: UUID!, $orgB: String!) { grantStreamAccess(streamId: $stream, organizationSlug: $orgB) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "revokeStreamAccess",
            document: "mutation($stream: UUID!, $orgB: String!) { revokeStreamAccess(streamId: $stream, organizationSlug: $orgB) { id } }",
            expected: [
                UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, FORBID,
            ],
        },
        Operation {
            name: "deleteDraftStream",
            document: "mutation($stream: UUID!) { deleteDraftStream(id: $stream) }",
            expected: [
                UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND, NOTFOUND, FORBID, OK,
            ],
        },
        Operation {
            name: "signOut",
            document: "mutation { signOut }",
            expected: [UNAUTH, OK, OK, OK, OK, OK, OK, OK, FORBID, FORBID],
        },
    ]
}

/// A free plan on the stream, made by its owner.
async fn free_plan(
    app: &TestApp,
    owner: &tributary_identity::Actor,
    stream: Uuid,
) -> tributary_catalog::Plan {
    app.catalog
        .create_plan(
            owner,
            stream,
            tributary_catalog::PlanInput {
                name: "Base".into(),
                pricing_model: "free".into(),
                currency: "usd".into(),
                ..Default::default()
            },
        )
        .await
        .expect("plan")
}

fn outcome(response: &Value) -> String {
    match response["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_owned(),
        None if response["errors"].is_null() => OK.to_owned(),
        None => format!("uncoded error: {}", response["errors"]),
    }
}

#[tokio::test]
async fn every_operation_authorizes_every_caller() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let cluster = app.cluster().await;
    let owner = tributary_identity::Actor {
        principal: tributary_identity::Principal::User {
            id: w.owner_a,
            session: Uuid::nil(),
        },
        request_id: None,
        client_addr: None,
    };
    // Two published streams of org A, one public and one private, shared by the read-only rows.
    let mut published = Vec::new();
    for visibility in ["public", "private"] {
        let stream = app
            .catalog
            .create_stream(
                &owner,
                w.org_a,
                tributary_catalog::StreamInput {
                    cluster_id: cluster,
                    name: format!("Listed {visibility}"),
                    slug: Some(unique("listed")),
                    topic: format!("{}.listed", unique("authz")),
                    details: tributary_catalog::StreamDetailsInput {
                        summary: Some("A listed stream".into()),
                        category: Some("finance".into()),
                        visibility: Some(visibility.into()),
                        ..Default::default()
                    },
                },
            )
            .await
            .expect("stream");
        app.catalog
            .provision_topic(
                &owner,
                stream.id,
                tributary_catalog::TopicProvision::Create {
                    partitions: 1,
                    retention_ms: 3_600_000,
                    cleanup_policy: "delete".into(),
                },
            )
            .await
            .expect("topic");
        app.catalog
            .register_schema(
                &owner,
                stream.id,
                false,
                tributary_registry::SchemaInput {
                    schema_type: tributary_registry::SchemaType::Json,
                    schema: r#"{"type":"object"}"#.into(),
                    references: Vec::new(),
                },
            )
            .await
            .expect("schema");
        free_plan(&app, &owner, stream.id).await;
        app.catalog
            .publish_stream(&owner, stream.id)
            .await
            .expect("published");
        published.push(stream.id);
    }
    let mut failures = Vec::new();
    let mut cells = 0;
    // Operation-major, so `signOut` (last) ends each session only after everything else ran.
    for op in operations() {
        for (i, caller) in CALLERS.iter().enumerate() {
            // A fresh member for every destructive call, so each caller is judged on its own.
            let target = app.user(&format!("{}@example.com", unique("target"))).await;
            sqlx::query(
                "insert into memberships (org_id, user_id, role) values ($1, $2, 'viewer')",
            )
            .bind(w.org_a)
            .bind(target)
            .execute(&app.pool)
            .await
            .expect("target membership");
            // A fresh draft stream (with a plan) and a spare cluster per cell.
            let topic = format!("{}.matrix", unique("authz"));
            let stream = app
                .catalog
                .create_stream(
                    &owner,
                    w.org_a,
                    tributary_catalog::StreamInput {
                        cluster_id: cluster,
                        name: "Matrix".into(),
                        slug: Some(unique("matrix")),
                        topic: topic.clone(),
                        details: Default::default(),
                    },
                )
                .await
                .expect("draft");
            let plan = free_plan(&app, &owner, stream.id).await;
            let invitation: Uuid = sqlx::query_scalar(
                "insert into invitations (org_id, email, role, token_hash, expires_at) values ($1, $2, 'viewer', $3, now() + interval '1 day') returning id",
            )
            .bind(w.org_a)
            .bind(format!("{}@example.com", unique("open-invite")))
            .bind(Uuid::new_v4().as_bytes().to_vec())
            .fetch_one(&app.pool)
            .await
            .expect("open invitation");
            let spare: Uuid = sqlx::query_scalar(
                "insert into clusters (name, bootstrap_servers, security_protocol) values ($1, '127.0.0.1:9', 'SASL_PLAINTEXT') returning id",
            )
            .bind(unique("spare"))
            .fetch_one(&app.pool)
            .await
            .expect("spare cluster");
            let variables = json!({
                "org": w.org_a,
                "orgB": w.org_b_slug,
                "cluster": cluster,
                "spare": spare,
                "stream": stream.id,
                "public": published[0],
                "private": published[1],
                "plan": plan.id,
                "topic": format!("{}.created", unique("authz")),
                "target": target,
                "token": w.api_token_a,
                "name": unique("matrix"),
                "email": format!("{}@example.com", unique("invitee")),
                "invitation": invitation,
            });
            let response = match &w.tokens[i] {
                Some(token) => app.graphql_as(token, op.document, variables).await,
                None => app.graphql(op.document, variables).await,
            };
            let got = outcome(&response);
            let detail = response["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            cells += 1;
            if got != op.expected[i] {
                failures.push(format!(
                    "{:<26} as {:<12} expected {:<16} got {got} {detail}",
                    op.name, caller, op.expected[i]
                ));
            }
        }
    }
    eprintln!(
        "authorization table: {} operations × {} callers = {cells} cells",
        operations().len(),
        CALLERS.len()
    );
    assert!(
        failures.is_empty(),
        "authorization table mismatches:\n{}",
        failures.join("\n")
    );
}
