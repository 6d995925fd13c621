//! The `tributary` binary as an operator runs it: configuration errors, start-up checks, JSON
//! logs, readiness and graceful shutdown.

use std::{
    collections::BTreeMap,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use tributary_tests::{TestDb, kafka_config, site_root, tributary_bin};

fn base_env(database_url: &str, listen: &str) -> BTreeMap<&'static str, String> {
    let kafka = kafka_config();
    BTreeMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        ("TRIBUTARY_KAFKA_BOOTSTRAP", kafka.bootstrap_servers.clone()),
        ("TRIBUTARY_KAFKA_USERNAME", kafka.username.clone()),
        (
            "TRIBUTARY_KAFKA_PASSWORD",
            secrecy::ExposeSecret::expose_secret(&kafka.password).to_owned(),
        ),
        ("TRIBUTARY_LISTEN", listen.to_owned()),
        ("TRIBUTARY_SITE_ROOT", site_root().display().to_string()),
        ("TRIBUTARY_KAFKA_TIMEOUT_MS", "3000".to_owned()),
        ("TRIBUTARY_JWT_KEYS", tributary_tests::JWT_KEYS.to_owned()),
        (
            "TRIBUTARY_ENCRYPTION_KEYS",
            "test=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
        ),
    ])
}

fn tributary(command: &str, env: &BTreeMap<&'static str, String>) -> Command {
    let mut cmd = Command::new(tributary_bin());
    cmd.arg(command)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env);
    cmd
}

fn free_listen() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").to_string()
}

/// Runs a command that must fail; returns (exit code, stderr).
fn run_failing(mut cmd: Command) -> (i32, String) {
    let out = cmd.output().expect("run tributary");
    assert!(
        !out.status.success(),
        "expected failure, stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn missing_secret_is_named_and_exits_with_2() {
    let db = TestDb::empty().await;
    let mut env = base_env(&db.url, &free_listen());
    env.remove("TRIBUTARY_KAFKA_PASSWORD");
    let (code, stderr) = run_failing(tributary("serve", &env));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("TRIBUTARY_KAFKA_PASSWORD is required"),
        "{stderr}"
    );
}

#[tokio::test]
async fn bad_url_is_named_and_exits_with_2() {
    let db = TestDb::empty().await;
    let mut env = base_env(&db.url, &free_listen());
    env.insert("DATABASE_URL", "http://user:hunter2@db/x".into());
    let (code, stderr) = run_failing(tributary("serve", &env));
    assert_eq!(code, 2);
    assert!(stderr.contains("DATABASE_URL is invalid"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the secret leaked: {stderr}");
}

#[tokio::test]
async fn unknown_command_exits_with_2() {
    let (code, stderr) = run_failing(tributary("frobnicate", &BTreeMap::new()));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown command"), "{stderr}");
}

#[tokio::test]
async fn unreachable_kafka_stops_start_up_with_a_clear_error() {
    let db = TestDb::empty().await;
    let mut env = base_env(&db.url, &free_listen());
    let closed = free_listen();
    env.insert("TRIBUTARY_KAFKA_BOOTSTRAP", closed.clone());
    let started = Instant::now();
    let (code, stderr) = run_failing(tributary("serve", &env));
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("kafka: cannot reach or log in to {closed}")),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "gave up in time"
    );
}

#[tokio::test]
async fn wrong_kafka_password_stops_start_up() {
    let db = TestDb::empty().await;
    let mut env = base_env(&db.url, &free_listen());
    env.insert("TRIBUTARY_KAFKA_PASSWORD", "wrong".into());
    let (code, stderr) = run_failing(tributary("serve", &env));
    assert_eq!(code, 1);
    assert!(stderr.contains("kafka: cannot reach or log in"), "{stderr}");
}

#[tokio::test]
async fn unreachable_database_stops_start_up() {
    let closed = free_listen();
    let env = base_env(&format!("postgres://u:p@{closed}/db"), &free_listen());
    let (code, stderr) = run_failing(tributary("serve", &env));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("database: PostgreSQL is unreachable"),
        "{stderr}"
    );
}

#[tokio::test]
async fn serve_refuses_an_unmigrated_database_then_migrate_fixes_it() {
    let db = TestDb::empty().await;
    let env = base_env(&db.url, &free_listen());
    let (code, stderr) = run_failing(tributary("serve", &env));
    assert_eq!(code, 1);
    assert!(stderr.contains("run `tributary migrate`"), "{stderr}");

    let out = tributary("migrate", &env).output().expect("migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("all migrations applied"));
}

#[tokio::test]
async fn serve_becomes_ready_logs_json_and_stops_gracefully_on_sigterm() {
    let db = TestDb::empty().await;
    let listen = free_listen();
    let mut env = base_env(&db.url, &listen);
    env.insert("TRIBUTARY_LOG_FORMAT", "json".into());
    assert!(
        tributary("migrate", &env)
            .status()
            .expect("migrate")
            .success()
    );

    let mut child = tributary("serve", &env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("http://{listen}/readyz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "serve never became ready");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "serve exited early"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let stopped_at = Instant::now();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("output");
    assert!(out.status.success(), "graceful exit, got {:?}", out.status);
    assert!(
        stopped_at.elapsed() < Duration::from_secs(12),
        "stopped within the grace period"
    );

    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(messages.contains(&"listening"), "{messages:?}");
    assert!(messages.contains(&"shutdown requested"), "{messages:?}");
    assert!(messages.contains(&"stopped"), "{messages:?}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
}
