//! GraphQL throughput against its baseline, measured in the same run: an authenticated
//! `{ viewer { user { email } } }` through the whole API stack versus a bare axum handler doing
//! the same work (verify the JWT, check the session, load the user: the same SQL).
//!
//! Run with `cargo xtask bench` (starts PostgreSQL). Prints a table; target: GraphQL ≥ 60 %.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{Json, Router, extract::State, http::HeaderMap, routing::post};
use secrecy::SecretString;
use tributary_api::{AppState, DevFeatures, HttpLimits};
use tributary_identity::Identity;
use tributary_provisioning::{KafkaAdmin, KafkaConfig, SecurityProtocol};
use tributary_tests::{TestDb, jwt_config};

const CLIENTS: usize = 16;
const WARMUP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(10);
const QUERY: &str = "{ viewer { user { email } } }";

/// The baseline: the same checks and SQL with no GraphQL in between.
async fn bare_viewer(
    State(identity): State<Identity>,
    headers: HeaderMap,
) -> Json<serde_json::Value> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Ok(claims) = identity.jwt().verify(token) else {
        return Json(serde_json::json!({ "errors": [{ "message": "unauthenticated" }] }));
    };
    if !identity.session_active(claims.sid).await.unwrap_or(false) {
        return Json(serde_json::json!({ "errors": [{ "message": "unauthenticated" }] }));
    }
    match identity.user(claims.sub).await {
        Ok(user) => {
            Json(serde_json::json!({ "data": { "viewer": { "user": { "email": user.email } } } }))
        }
        Err(_) => Json(serde_json::json!({ "errors": [{ "message": "internal" }] })),
    }
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

struct Result {
    requests: usize,
    p50: Duration,
    p99: Duration,
    elapsed: Duration,
}

async fn load(url: String, token: Arc<String>) -> Result {
    let client = reqwest::Client::new();
    let body = serde_json::json!({ "query": QUERY }).to_string();
    let run = |until: Instant, record: bool| {
        let mut tasks = Vec::new();
        for _ in 0..CLIENTS {
            let (client, url, token, body) =
                (client.clone(), url.clone(), token.clone(), body.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let started = Instant::now();
                    let response = client
                        .post(&url)
                        .bearer_auth(token.as_str())
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .expect("request");
                    let text = response.text().await.expect("body");
                    assert!(text.contains("\"email\""), "unexpected answer: {text}");
                    if record {
                        latencies.push(started.elapsed());
                    }
                }
                latencies
            }));
        }
        tasks
    };
    for task in run(Instant::now() + WARMUP, false) {
        task.await.expect("warm-up");
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for task in run(started + MEASURE, true) {
        all.extend(task.await.expect("client"));
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Result {
        requests: all.len(),
        p50: at(0.50),
        p99: at(0.99),
        elapsed,
    }
}

#[tokio::main]
async fn main() {
    let (db, pool) = TestDb::migrated().await;
    let identity = Identity::new(pool.clone(), jwt_config(), "http://bench.test".into());
    // Kafka is not touched by this query; the admin client connects lazily.
    let kafka = KafkaAdmin::new(
        &KafkaConfig {
            bootstrap_servers: "127.0.0.1:9".into(),
            security_protocol: SecurityProtocol::SaslPlaintext,
            username: "bench".into(),
            password: SecretString::from("bench"),
            ca_location: None,
            ca_pem: None,
        },
        Duration::from_secs(1),
    )
    .expect("admin client");
    let catalog = tributary_catalog::Catalog::new(
        pool.clone(),
        identity.clone(),
        tributary_tests::secret_box(),
        Duration::from_secs(1),
    );
    let state = AppState::new(
        pool.clone(),
        kafka,
        identity.clone(),
        catalog,
        HttpLimits::default(),
        DevFeatures::default(),
    );
    let graphql = serve(tributary_api::router(state)).await;
    let bare = serve(
        Router::new()
            .route("/viewer", post(bare_viewer))
            .with_state(identity.clone()),
    )
    .await;

    let user: uuid::Uuid = sqlx::query_scalar(
        "insert into users (email, display_name, password_hash, email_verified_at) values ('bench@example.com', 'Bench', 'x', now()) returning id",
    )
    .fetch_one(&pool)
    .await
    .expect("user");
    let family = uuid::Uuid::new_v4();
    sqlx::query("insert into refresh_tokens (family_id, user_id, token_hash, expires_at) values ($1, $2, '\\x01', now() + interval '1 day')")
        .bind(family)
        .bind(user)
        .execute(&pool)
        .await
        .expect("session");
    let token = Arc::new(jwt_config().issue(user, family).expect("token").0);

    println!(
        "GraphQL throughput vs bare axum, same SQL; {CLIENTS} concurrent clients, {} s each (database {})",
        MEASURE.as_secs(),
        db.name
    );
    let baseline = load(format!("http://{bare}/viewer"), token.clone()).await;
    let measured = load(format!("http://{graphql}/graphql"), token.clone()).await;
    let rps = |r: &Result| r.requests as f64 / r.elapsed.as_secs_f64();
    println!("| variant | requests/s | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    for (name, r) in [
        ("bare axum handler (baseline)", &baseline),
        ("GraphQL (async-graphql)", &measured),
    ] {
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms |",
            rps(r),
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3
        );
    }
    let ratio = rps(&measured) / rps(&baseline);
    println!(
        "ratio GraphQL / baseline: {:.1} % (target ≥ 60 %): {}",
        ratio * 100.0,
        if ratio >= 0.6 { "met" } else { "NOT met" }
    );
    // A missed target fails the run (`cargo xtask bench` then exits non-zero).
    if ratio < 0.6 {
        std::process::exit(1);
    }
}
