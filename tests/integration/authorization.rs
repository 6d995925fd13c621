//! The authorization table: every query and mutation, run as every kind of caller, must be
//! allowed or refused exactly as listed. Later features add their operations here.

use serde_json::{Value, json};
use tributary_tests::{TestApp, unique};
use uuid::Uuid;

/// The callers of the table.
const CALLERS: [&str; 7] = [
    "anonymous",
    "viewer A",
    "developer A",
    "admin A",
    "owner A",
    "member B",
    "operator",
];

/// Expected outcome per caller, in `CALLERS` order: `ok` or an error code.
type Row = [&'static str; 7];

const OK: &str = "ok";
const UNAUTH: &str = "UNAUTHENTICATED";
const FORBID: &str = "FORBIDDEN";
const NOTFOUND: &str = "NOT_FOUND";

struct Operation {
    name: &'static str,
    document: &'static str,
    expected: Row,
}

/// Everything the table needs: org A with one member per role, org B, the operator.
struct World {
    org_a: Uuid,
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
    app.org_with(&unique("org-b"), &[(ids[4], "owner")], false)
        .await;
    app.org_with(&unique("operator"), &[(ids[5], "owner")], true)
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
    World {
        org_a,
        tokens,
        api_token_a,
    }
}

fn operations() -> Vec<Operation> {
    vec![
        Operation {
            name: "serverVersion",
            document: "{ serverVersion }",
            expected: [OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "catalog",
            document: "{ catalog(first: 1) { edges { cursor } } }",
            expected: [OK, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "viewer",
            document: "{ viewer { organizations { id } } }",
            expected: [UNAUTH, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "organization",
            document: "query($org: UUID!) { organization(id: $org) { name viewerRole } }",
            expected: [UNAUTH, OK, OK, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "organization.members",
            document: "query($org: UUID!) { organization(id: $org) { members { email role } } }",
            expected: [UNAUTH, OK, OK, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "organization.invitations",
            document: "query($org: UUID!) { organization(id: $org) { invitations { email } } }",
            expected: [UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "organization.apiTokens",
            document: "query($org: UUID!) { organization(id: $org) { apiTokens { prefix } } }",
            expected: [UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "organization.auditLog",
            document: "query($org: UUID!) { organization(id: $org) { auditLog { nodes { action } } } }",
            expected: [UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "platformAuditLog",
            document: "{ platformAuditLog { nodes { action } } }",
            expected: [UNAUTH, FORBID, FORBID, FORBID, FORBID, FORBID, OK],
        },
        Operation {
            name: "createOrganization",
            document: "mutation($name: String!) { createOrganization(name: $name) { id } }",
            expected: [UNAUTH, OK, OK, OK, OK, OK, OK],
        },
        Operation {
            name: "inviteMember",
            document: "mutation($org: UUID!, $email: String!) { inviteMember(organizationId: $org, email: $email, role: VIEWER) { id } }",
            expected: [UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "changeMemberRole",
            document: "mutation($org: UUID!, $target: UUID!) { changeMemberRole(organizationId: $org, userId: $target, role: BILLING) { role } }",
            expected: [UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "removeMember",
            document: "mutation($org: UUID!, $target: UUID!) { removeMember(organizationId: $org, userId: $target) }",
            expected: [UNAUTH, FORBID, FORBID, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "createApiToken",
            document: "mutation($org: UUID!, $name: String!) { createApiToken(input: { organizationId: $org, name: $name, scopes: [READ] }) { secret } }",
            expected: [UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "revokeApiToken",
            document: "mutation($org: UUID!, $token: UUID!) { revokeApiToken(organizationId: $org, tokenId: $token) { id } }",
            expected: [UNAUTH, FORBID, OK, OK, OK, NOTFOUND, NOTFOUND],
        },
        Operation {
            name: "signOut",
            document: "mutation { signOut }",
            expected: [UNAUTH, OK, OK, OK, OK, OK, OK],
        },
    ]
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
            let variables = json!({
                "org": w.org_a,
                "target": target,
                "token": w.api_token_a,
                "name": unique("matrix"),
                "email": format!("{}@example.com", unique("invitee")),
            });
            let response = match &w.tokens[i] {
                Some(token) => app.graphql_as(token, op.document, variables).await,
                None => app.graphql(op.document, variables).await,
            };
            let got = outcome(&response);
            cells += 1;
            if got != op.expected[i] {
                failures.push(format!(
                    "{:<26} as {:<12} expected {:<16} got {got}",
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
