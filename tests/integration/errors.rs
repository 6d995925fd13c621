//! Every GraphQL error carries an `extensions.code`: malformed arguments of every query, mutation
//! and subscription (walked from the schema's own introspection, so a new operation is covered
//! without touching this file), unknown fields and arguments, documents that do not parse or
//! exceed a limit, and HTTP bodies that are not GraphQL requests.

use std::{collections::HashMap, time::Duration};

use serde_json::{Value, json};
use tributary_tests::{TestApp, unique};

use crate::subscriptions::{acked, next, send};

const INTROSPECTION: &str = "query {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      kind name
      fields { name args { name defaultValue type { ...T } } type { ...T } }
      inputFields { name defaultValue type { ...T } }
      enumValues { name }
    }
  }
}
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// The schema as introspection describes it: types by name.
struct Introspected {
    types: HashMap<String, Value>,
}

impl Introspected {
    fn kind(&self, name: &str) -> &str {
        self.types[name]["kind"].as_str().unwrap_or_default()
    }

    /// The named type under NON_NULL and LIST wrappers.
    fn named<'a>(&self, ty: &'a Value) -> &'a str {
        match ty["kind"].as_str() {
            Some("NON_NULL" | "LIST") => self.named(&ty["ofType"]),
            _ => ty["name"].as_str().unwrap_or_default(),
        }
    }

    /// The type as a variable declares it: `[UUID!]!`.
    fn declared(ty: &Value) -> String {
        match ty["kind"].as_str() {
            Some("NON_NULL") => format!("{}!", Self::declared(&ty["ofType"])),
            Some("LIST") => format!("[{}]", Self::declared(&ty["ofType"])),
            _ => ty["name"].as_str().unwrap_or_default().to_owned(),
        }
    }

    fn required(input: &Value) -> bool {
        input["type"]["kind"] == "NON_NULL" && input["defaultValue"].is_null()
    }

    /// A literal that coerces to `ty`.
    fn good(&self, ty: &Value) -> String {
        match ty["kind"].as_str() {
            Some("NON_NULL") => self.good(&ty["ofType"]),
            Some("LIST") => format!("[{}]", self.good(&ty["ofType"])),
            _ => {
                let name = self.named(ty);
                match self.kind(name) {
                    "ENUM" => self.types[name]["enumValues"][0]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    "INPUT_OBJECT" => format!(
                        "{{ {} }}",
                        self.types[name]["inputFields"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter(|f| Self::required(f))
                            .map(|f| format!(
                                "{}: {}",
                                f["name"].as_str().unwrap_or_default(),
                                self.good(&f["type"])
                            ))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => match name {
                        "UUID" => format!("\"{}\"", uuid::Uuid::new_v4()),
                        "Int" => "1".into(),
                        "Float" => "1.5".into(),
                        "Boolean" => "true".into(),
                        "DateTime" => "\"2026-01-01T00:00:00Z\"".into(),
                        "JSON" => "{}".into(),
                        _ => "\"x\"".into(),
                    },
                }
            }
        }
    }

    /// A literal that does not coerce to `ty`, if the type refuses anything.
    fn bad(&self, ty: &Value) -> Option<String> {
        match ty["kind"].as_str() {
            Some("NON_NULL") => self.bad(&ty["ofType"]),
            Some("LIST") => self.bad(&ty["ofType"]).map(|b| format!("[{b}]")),
            _ => {
                let name = self.named(ty);
                match self.kind(name) {
                    "ENUM" => Some("NOT_A_VALUE".into()),
                    "INPUT_OBJECT" => {
                        let fields = self.types[name]["inputFields"].as_array()?;
                        // Every required field well formed but one malformed field.
                        let (broken, value) = fields
                            .iter()
                            .find_map(|f| self.bad(&f["type"]).map(|b| (f["name"].as_str(), b)))?;
                        let mut parts: Vec<String> = fields
                            .iter()
                            .filter(|f| Self::required(f) && f["name"].as_str() != broken)
                            .map(|f| {
                                format!(
                                    "{}: {}",
                                    f["name"].as_str().unwrap_or_default(),
                                    self.good(&f["type"])
                                )
                            })
                            .collect();
                        parts.push(format!("{}: {value}", broken.unwrap_or_default()));
                        Some(format!("{{ {} }}", parts.join(", ")))
                    }
                    _ => match name {
                        "UUID" => Some("\"not-a-uuid\"".into()),
                        "Int" | "Float" | "Boolean" => Some("\"x\"".into()),
                        "String" | "ID" => Some("true".into()),
                        "DateTime" => Some("\"not a date\"".into()),
                        _ => None,
                    },
                }
            }
        }
    }

    /// A variable value (JSON) that does not coerce to `ty`, if the type refuses anything.
    fn bad_variable(&self, ty: &Value) -> Option<Value> {
        match ty["kind"].as_str() {
            Some("NON_NULL") => self.bad_variable(&ty["ofType"]),
            Some("LIST") => self.bad_variable(&ty["ofType"]).map(|b| json!([b])),
            _ => {
                let name = self.named(ty);
                match self.kind(name) {
                    "ENUM" => Some(json!("NOT_A_VALUE")),
                    "INPUT_OBJECT" => Some(json!({ "notAField": 1 })),
                    _ => match name {
                        "UUID" => Some(json!("not-a-uuid")),
                        "Int" | "Float" | "Boolean" => Some(json!("x")),
                        "String" | "ID" => Some(json!(true)),
                        "DateTime" => Some(json!("not a date")),
                        _ => None,
                    },
                }
            }
        }
    }

    /// What to select under a field of type `ty`.
    fn selection(&self, ty: &Value) -> &'static str {
        match self.kind(self.named(ty)) {
            "OBJECT" | "INTERFACE" | "UNION" => " { __typename }",
            _ => "",
        }
    }
}

/// One malformed request and the codes it may be refused with.
struct Case {
    label: String,
    query: String,
    variables: Value,
    operation: &'static str,
    expected: &'static [&'static str],
}

const INPUT: &[&str] = &["BAD_USER_INPUT"];
const SCHEMA: &[&str] = &["GRAPHQL_VALIDATION_FAILED"];
/// Malformed dates: refused by validation or by coercion, as the scalar decides.
const EITHER: &[&str] = &["GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"];

fn expected_for(malformed: &str) -> &'static [&'static str] {
    if malformed.contains("not-a-uuid") {
        INPUT
    } else if malformed.contains("not a date") {
        EITHER
    } else {
        SCHEMA
    }
}

/// The malformed requests for every root field of the schema.
fn cases(schema: &Introspected, roots: &[(&'static str, String)]) -> Vec<Case> {
    let mut cases = Vec::new();
    for (operation, root) in roots {
        for field in schema.types[root]["fields"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let name = field["name"].as_str().unwrap_or_default();
            let args = field["args"].as_array().cloned().unwrap_or_default();
            let selection = schema.selection(&field["type"]);
            // The other required arguments, well formed.
            let others = |skip: &str| -> Vec<String> {
                args.iter()
                    .filter(|a| Introspected::required(a) && a["name"] != skip)
                    .map(|a| {
                        format!(
                            "{}: {}",
                            a["name"].as_str().unwrap_or_default(),
                            schema.good(&a["type"])
                        )
                    })
                    .collect()
            };
            let call = |parts: Vec<String>| {
                if parts.is_empty() {
                    name.to_owned()
                } else {
                    format!("{name}({})", parts.join(", "))
                }
            };
            for arg in &args {
                let arg_name = arg["name"].as_str().unwrap_or_default();
                if let Some(bad) = schema.bad(&arg["type"]) {
                    let mut parts = others(arg_name);
                    parts.push(format!("{arg_name}: {bad}"));
                    cases.push(Case {
                        label: format!("{name}({arg_name}: {bad})"),
                        query: format!("{operation} {{ {}{selection} }}", call(parts)),
                        variables: json!({}),
                        operation,
                        expected: expected_for(&bad),
                    });
                }
                if let Some(bad) = schema.bad_variable(&arg["type"]) {
                    let mut parts = others(arg_name);
                    parts.push(format!("{arg_name}: $v"));
                    cases.push(Case {
                        label: format!("{name}(${arg_name} = {bad})"),
                        query: format!(
                            "{operation}($v: {}) {{ {}{selection} }}",
                            Introspected::declared(&arg["type"]),
                            call(parts)
                        ),
                        expected: expected_for(&bad.to_string()),
                        variables: json!({ "v": bad }),
                        operation,
                    });
                }
            }
            let mut parts = others("");
            parts.push("notAnArgument: 1".into());
            cases.push(Case {
                label: format!("{name}(notAnArgument)"),
                query: format!("{operation} {{ {}{selection} }}", call(parts)),
                variables: json!({}),
                operation,
                expected: SCHEMA,
            });
            cases.push(Case {
                label: format!("{name} {{ notAField }}"),
                query: format!("{operation} {{ {} {{ notAField }} }}", call(others(""))),
                variables: json!({}),
                operation,
                expected: SCHEMA,
            });
        }
    }
    cases
}

/// The answer to subscription `id`: its first `next` message (the `complete` of earlier ones
/// skipped).
async fn answer(socket: &mut crate::subscriptions::Socket, id: &str) -> Value {
    loop {
        let Some(message) = next(socket, Duration::from_secs(5)).await else {
            return Value::Null;
        };
        if message["id"] == id && message["type"] != "complete" {
            return message;
        }
    }
}

/// The problems with a response's errors: none, uncoded, or coded otherwise than expected.
fn judge(label: &str, errors: &Value, expected: &[&str]) -> Vec<String> {
    let Some(errors) = errors.as_array().filter(|e| !e.is_empty()) else {
        return vec![format!("{label}: answered without an error")];
    };
    errors
        .iter()
        .filter_map(|e| {
            let code = e["extensions"]["code"].as_str();
            match code {
                Some(code) if expected.contains(&code) => None,
                Some(code) => Some(format!("{label}: {code}, expected {expected:?}: {e}")),
                None => Some(format!("{label}: no code: {e}")),
            }
        })
        .collect()
}

#[tokio::test]
async fn every_operation_codes_every_malformed_argument() {
    let app = TestApp::spawn().await;
    let owner = app.user(&format!("{}@example.com", unique("owner"))).await;
    app.org_with(&unique("codes"), &[(owner, "owner")], false)
        .await;
    let token = app.token_for(owner).await;

    let introspection = app.graphql_as(&token, INTROSPECTION, json!({})).await;
    assert!(introspection["errors"].is_null(), "{introspection}");
    let described = &introspection["data"]["__schema"];
    let schema = Introspected {
        types: described["types"]
            .as_array()
            .expect("types")
            .iter()
            .map(|t| (t["name"].as_str().unwrap_or_default().to_owned(), t.clone()))
            .collect(),
    };
    let mut roots = Vec::new();
    for (operation, key) in [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ] {
        if let Some(name) = described[key]["name"].as_str() {
            roots.push((operation, name.to_owned()));
        }
    }
    let cases = cases(&schema, &roots);
    let mut problems = Vec::new();
    let mut socket = acked(&app, Some(&token)).await;
    let (mut http, mut ws) = (0, 0);
    for (i, case) in cases.iter().enumerate() {
        let errors = if case.operation == "subscription" {
            ws += 1;
            let id = i.to_string();
            send(&mut socket, json!({ "id": id, "type": "subscribe", "payload": { "query": case.query, "variables": case.variables } })).await;
            answer(&mut socket, &id).await["payload"]["errors"].clone()
        } else {
            http += 1;
            app.graphql_as(&token, &case.query, case.variables.clone())
                .await["errors"]
                .clone()
        };
        problems.extend(judge(&case.label, &errors, case.expected));
    }
    eprintln!("malformed requests: {http} over HTTP, {ws} over WebSocket");
    // Every kind of root is walked, and each has arguments to break.
    assert!(http > 100 && ws > 0, "{http} {ws}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn refused_documents_and_bodies_carry_codes() {
    let app = TestApp::spawn().await;
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(16),
        "} ".repeat(16)
    );
    let deeper = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(30),
        "} ".repeat(30)
    );
    let aliases = |n: usize| {
        format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: serverVersion"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let within = app
        .graphql(&aliases(tributary_api::graphql::MAX_ALIASES), json!({}))
        .await;
    assert!(within["errors"].is_null(), "{within}");

    let complex = "{ catalog(first: 100) { edges { node { samples { partition offset timestamp key value } } } } }";
    for (label, query, expected) in [
        (
            "unparsable",
            "{ serverVersion".to_owned(),
            "GRAPHQL_PARSE_FAILED",
        ),
        ("empty", String::new(), "GRAPHQL_PARSE_FAILED"),
        (
            "unknown field",
            "{ noSuchField }".to_owned(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("too deep", deep, "GRAPHQL_VALIDATION_FAILED"),
        (
            "deeper than recursion allows",
            deeper,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "too complex",
            complex.to_owned(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "too many aliases",
            aliases(tributary_api::graphql::MAX_ALIASES + 1),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "subscription over HTTP",
            "subscription($o: UUID!) { auditEvents(organizationId: $o) { action } }".to_owned(),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ] {
        let response = app
            .graphql(&query, json!({ "o": uuid::Uuid::new_v4() }))
            .await;
        assert_eq!(
            response["errors"][0]["extensions"]["code"], expected,
            "{label}: {response}"
        );
        assert!(response["data"].is_null(), "{label}: {response}");
    }

    let unknown_operation = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "query A { serverVersion }", "operationName": "B" }))
        .send()
        .await
        .expect("request")
        .json::<Value>()
        .await
        .expect("JSON");
    assert_eq!(
        unknown_operation["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{unknown_operation}"
    );

    for (label, content_type, body) in [
        ("malformed JSON", "application/json", "{\"query\": "),
        ("not JSON", "text/plain", "{ serverVersion }"),
        ("not a request object", "application/json", "[1, 2]"),
        (
            "variables not an object",
            "application/json",
            "{\"query\": \"{ serverVersion }\", \"variables\": 5}",
        ),
    ] {
        let response = app
            .http
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 400, "{label}");
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
            "{label}: {body}"
        );
    }

    // The WebSocket endpoint codes its refusals too.
    let mut socket = acked(&app, None).await;
    for (id, query, expected) in [
        ("1", "subscription { auditEvents(", "GRAPHQL_PARSE_FAILED"),
        (
            "2",
            "subscription { noSuchField }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "3",
            "subscription { auditEvents(organizationId: \"nope\") { action } }",
            "BAD_USER_INPUT",
        ),
    ] {
        send(
            &mut socket,
            json!({ "id": id, "type": "subscribe", "payload": { "query": query } }),
        )
        .await;
        let message = answer(&mut socket, id).await;
        assert_eq!(
            message["payload"]["errors"][0]["extensions"]["code"], expected,
            "{query}: {message}"
        );
    }
}
