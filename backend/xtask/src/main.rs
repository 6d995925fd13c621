//! `cargo xtask dev`: install what is missing, start PostgreSQL, Kafka, stripe-mock and Tributary
//! with demo data, and stop everything in order on Ctrl-C.
//! `cargo xtask test`: the same real services (plus a third-party schema registry, Apicurio, for
//! interoperability tests), then every check and test (format, lints, unit and integration tests,
//! browser tests).

mod build;
mod proc;
mod services;
mod ui;

use std::{
    collections::BTreeMap,
    fs,
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    sync::atomic::Ordering,
    thread,
    time::{Duration, Instant},
};

use proc::Service;
use services::{KafkaInstance, Postgres};

const USAGE: &str = "\
Usage:
  cargo xtask dev             start the whole platform with demo data (Ctrl-C stops it)
  cargo xtask test [ARGS]     run every test; with ARGS, only `cargo test ARGS` against the real services
  cargo xtask bench [NAME]    run the benchmarks (release build) against the real services;
                              with NAME (graphql_throughput, catalog_search, schema_checks,
                              samples_load) only that one

Environment (all optional):
  DATABASE_URL           use this PostgreSQL server instead of the managed local cluster
  TRIBUTARY_CACHE_DIR    where downloads and tools are kept (default: ~/.cache/tributary)
  TRIBUTARY_PG_PORT      port of the managed PostgreSQL cluster (default 55432)
  CARGO_TARGET_DIR       cargo's target directory (default: ./target)";

/// A summary line to print last (the test count), set by the command that ran.
static FINAL_LINE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Paths shared by every step.
pub struct Ctx {
    pub root: PathBuf,
    pub cache: PathBuf,
    pub target: PathBuf,
    pub cargo: String,
}

impl Ctx {
    fn new() -> Result<Self, String> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .ok_or("cannot find the workspace root")?
            .to_path_buf();
        let cache = match std::env::var("TRIBUTARY_CACHE_DIR") {
            Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => {
                let base = std::env::var("XDG_CACHE_HOME")
                    .map(PathBuf::from)
                    .or_else(|_| std::env::var("HOME").map(|h| PathBuf::from(h).join(".cache")))
                    .map_err(|_| "set HOME or TRIBUTARY_CACHE_DIR")?;
                base.join("tributary")
            }
        };
        fs::create_dir_all(&cache).map_err(|e| format!("{}: {e}", cache.display()))?;
        let target = match std::env::var("CARGO_TARGET_DIR") {
            Ok(dir) if !dir.is_empty() => {
                let p = PathBuf::from(dir);
                if p.is_absolute() { p } else { root.join(p) }
            }
            _ => root.join("target"),
        };
        Ok(Self {
            root,
            cache,
            target,
            cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        })
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = proc::interrupted_flag();
    if let Err(e) = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("\nsecond interrupt: exiting now");
            std::process::exit(130);
        }
        eprintln!("\nstopping…");
    }) {
        eprintln!("warning: cannot install the Ctrl-C handler: {e}");
    }
    let ctx = match Ctx::new() {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("dev") => dev(&ctx),
        Some("test") => test(&ctx, &args[1..]),
        Some("bench") => bench(&ctx, args.get(1).map(String::as_str)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => {
            println!("done in {}", ui::human(started.elapsed()));
            if let Some(line) = FINAL_LINE.get() {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(line) = FINAL_LINE.get() {
                println!("{line}");
            }
            ExitCode::FAILURE
        }
    }
}

/// GET a path on loopback; returns the status code.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream =
        TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
            .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

fn port_from(listen: &str) -> Result<u16, String> {
    listen
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .ok_or_else(|| format!("cannot read a port from {listen:?}"))
}

/// Environment for `tributary` processes of the local stack.
fn tributary_env(
    db_url: &str,
    kafka: &KafkaInstance,
    site: &Path,
    listen: &str,
    jwt_secret: &str,
    encryption_key: &str,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("DATABASE_URL".into(), db_url.into()),
        ("TRIBUTARY_KAFKA_BOOTSTRAP".into(), kafka.bootstrap()),
        (
            "TRIBUTARY_KAFKA_USERNAME".into(),
            services::KAFKA_PLATFORM_USER.into(),
        ),
        ("TRIBUTARY_KAFKA_PASSWORD".into(), kafka.password.clone()),
        ("TRIBUTARY_SITE_ROOT".into(), site.display().to_string()),
        ("TRIBUTARY_LISTEN".into(), listen.into()),
        ("TRIBUTARY_GRAPHIQL".into(), "true".into()),
        ("TRIBUTARY_DEV_MAILBOX".into(), "true".into()),
        (
            "TRIBUTARY_JWT_KEYS".into(),
            format!("local-1={}", jwt_secret),
        ),
        ("TRIBUTARY_PUBLIC_URL".into(), format!("http://{listen}")),
        (
            "TRIBUTARY_ENCRYPTION_KEYS".into(),
            format!("local-1={encryption_key}"),
        ),
    ])
}

/// Runs one `tributary` subcommand to completion.
fn run_tributary(bin: &Path, command: &str, env: &BTreeMap<String, String>) -> Result<(), String> {
    proc::output(Command::new(bin).arg(command).envs(env)).map(|_| ())
}

/// A secret of the dev stack, generated once and kept in `file` so restarts reuse it.
fn persistent_secret(file: &Path, bytes: usize) -> Result<String, String> {
    if let Ok(secret) = fs::read_to_string(file) {
        return Ok(secret.trim().to_owned());
    }
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let secret = services::random_hex(bytes)?;
    fs::write(file, &secret).map_err(|e| e.to_string())?;
    Ok(secret)
}

fn dev(ctx: &Ctx) -> Result<(), String> {
    println!(
        "Tributary dev stack: cache {}, target {}",
        ctx.cache.display(),
        ctx.target.display()
    );
    let mut pg = ui::step("PostgreSQL", services::ensure_postgres)?;
    let result = dev_with_postgres(ctx, &pg);
    pg.stop();
    result
}

fn dev_with_postgres(ctx: &Ctx, pg: &Postgres) -> Result<(), String> {
    let lib = ui::step(
        &format!("Apache Kafka {} jars", services::KAFKA_VERSION),
        || services::ensure_kafka_jars(ctx),
    )?;
    let stripe_bin = ui::step("stripe-mock", || services::ensure_stripe_mock(ctx))?;
    let wasm_bindgen = ui::step("wasm toolchain", || build::ensure_wasm_toolchain(ctx))?;
    let bin = ui::step("build the tributary binary", || build::build_server(ctx))?;
    let site = ui::step("build the portal (wasm)", || {
        build::build_portal(ctx, &wasm_bindgen)
    })?;

    let dir = ctx.cache.join("dev/kafka");
    let kafka = KafkaInstance {
        password: persistent_secret(&dir.join("platform-password"), 16)?,
        dir,
        port: 19092,
        tls_port: 19094,
        controller_port: 19093,
    };
    let mut kafka_service = ui::step("start Kafka (KRaft, SASL/SCRAM, ACLs)", || {
        services::start_kafka(&lib, &kafka)
    })?;
    let mut stripe = ui::step("start stripe-mock", || {
        services::start_stripe_mock(&stripe_bin, 12111, &ctx.cache.join("dev/stripe-mock.log"))
    })?;

    let listen = std::env::var("TRIBUTARY_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let port = port_from(&listen)?;
    let jwt_secret = persistent_secret(&ctx.cache.join("dev/jwt-secret"), 32)?;
    let encryption_key = persistent_secret(&ctx.cache.join("dev/encryption-key"), 32)?;
    let env = tributary_env(
        &pg.url,
        &kafka,
        &site,
        &listen,
        &jwt_secret,
        &encryption_key,
    );
    ui::step("migrate the database", || {
        run_tributary(&bin, "migrate", &env)
    })?;
    ui::step(
        "seed demo data (organizations, cluster, streams, topics)",
        || run_tributary(&bin, "demo-seed", &env),
    )?;
    let logs = ctx.cache.join("dev/logs");
    let mut server = ui::step("start Tributary", || {
        let mut s = Service::spawn(
            "tributary serve",
            Command::new(&bin).arg("serve"),
            &logs.join("tributary.log"),
            &env,
            Duration::from_secs(15),
        )?;
        proc::wait_until(
            "Tributary /readyz",
            Duration::from_secs(60),
            Some(&mut s),
            || http_status(port, "/readyz") == Some(200),
        )?;
        Ok(s)
    })?;
    let mut producer = ui::step("start the demo producer", || {
        Service::spawn(
            "demo producer",
            Command::new(&bin).arg("demo-produce"),
            &logs.join("demo-producer.log"),
            &env,
            Duration::from_secs(10),
        )
    })?;

    println!(
        "
┌ Tributary is running ─────────────────────────────────────────────
│ Portal       http://{listen}/
│ GraphQL      http://{listen}/graphql   (GraphiQL in the browser)
│ Health       http://{listen}/healthz · http://{listen}/readyz
│ PostgreSQL   {db}
│ Kafka        {bootstrap}  SASL_PLAINTEXT, SCRAM-SHA-512
│              platform super user: {user} / {pw}
│ stripe-mock  http://127.0.0.1:12111
│ Demo data    operator 'tributary', provider 'northwind-data' (4 streams,
│              topics demo.* fed every 250 ms), consumer 'acme-analytics'
│ Sign in      operator@tributary.example, provider@northwind.example or
│              consumer@acme.example, password tributary-demo-2026
│              (new accounts: the verification mail is at /dev/mailbox)
│ Logs         {logs}
└ Ctrl-C stops everything ───────────────────────────────────────────",
        db = pg.url,
        bootstrap = kafka.bootstrap(),
        user = services::KAFKA_PLATFORM_USER,
        pw = kafka.password,
        logs = logs.display(),
    );

    let mut failure = None;
    while !proc::interrupted() {
        for service in [&mut server, &mut producer, &mut stripe, &mut kafka_service] {
            if let Some(status) = service.exited() {
                failure = Some(format!(
                    "{} exited unexpectedly ({status}); last log lines:\n{}",
                    service.name,
                    service.log_tail(15)
                ));
            }
        }
        if failure.is_some() {
            break;
        }
        thread::sleep(Duration::from_millis(250));
    }
    println!("stopping the stack…");
    producer.stop();
    server.stop();
    stripe.stop();
    kafka_service.stop();
    failure.map_or(Ok(()), Err)
}

/// Passed/failed counts read from test runners' summaries.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Reads `test result: ok. 3 passed; 0 failed; …` (cargo) and `# pass 3` / `# fail 0` (node).
    fn read(&mut self, line: &str) {
        if let Some(rest) = line.split("test result: ").nth(1) {
            for part in rest.split(';') {
                let words: Vec<&str> = part.split_whitespace().collect();
                let n = |w: &str| w.parse::<u64>().unwrap_or(0);
                match words.as_slice() {
                    [.., count, "passed"] => self.passed += n(count),
                    [count, "failed"] => self.failed += n(count),
                    _ => {}
                }
            }
        } else if let Some(count) = line.strip_prefix("# pass ") {
            self.passed += count.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(count) = line.strip_prefix("# fail ") {
            self.failed += count.trim().parse::<u64>().unwrap_or(0);
        }
    }
}

/// Runs a test command, echoing its output and counting results.
fn run_tests(cmd: &mut Command, tally: &mut Tally) -> Result<(), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            tally.read(&line);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("tests failed ({status})"))
    }
}

fn psql(admin_url: &str, sql: &str) -> Result<String, String> {
    proc::output(Command::new("psql").args([admin_url, "-v", "ON_ERROR_STOP=1", "-tAc", sql]))
}

/// Drops databases left by earlier test runs. Tests name theirs `tt_<unix seconds>_…` (browser
/// tests `e2e_<unix seconds>_…`); only those older than an hour go, so a run in progress elsewhere
/// keeps its databases.
fn drop_test_databases(admin_url: &str) -> Result<usize, String> {
    let names = psql(
        admin_url,
        "select datname from pg_database where datname like 'tt\\_%' or datname like 'e2e\\_%'",
    )?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut dropped = 0;
    for name in names.lines().map(str::trim).filter(|n| !n.is_empty()) {
        let created = name.split('_').nth(1).and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| t <= now && now - t < 3600) {
            continue;
        }
        psql(
            admin_url,
            &format!("drop database if exists \"{name}\" with (force)"),
        )?;
        dropped += 1;
    }
    Ok(dropped)
}

fn test(ctx: &Ctx, cargo_args: &[String]) -> Result<(), String> {
    let full = cargo_args.is_empty();
    let mut pg = ui::step("PostgreSQL", services::ensure_postgres)?;
    let result = test_with_postgres(ctx, &pg, cargo_args, full);
    pg.stop();
    result
}

fn test_with_postgres(
    ctx: &Ctx,
    pg: &Postgres,
    cargo_args: &[String],
    full: bool,
) -> Result<(), String> {
    if full {
        ui::step("cargo fmt --check", || {
            proc::run(
                Command::new(&ctx.cargo)
                    .current_dir(&ctx.root)
                    .args(["fmt", "--all", "--", "--check"]),
            )
        })?;
    }
    ui::step("remove databases of earlier test runs", || {
        drop_test_databases(&pg.url).map(|n| ui::detail(format!("{n} dropped")))
    })?;
    let lib = ui::step(
        &format!("Apache Kafka {} jars", services::KAFKA_VERSION),
        || services::ensure_kafka_jars(ctx),
    )?;
    let stripe_bin = ui::step("stripe-mock", || services::ensure_stripe_mock(ctx))?;

    // Service logs and data of this run; kept when something fails.
    let run_dir = ctx
        .target
        .join("test-stack")
        .join(format!("run-{}", std::process::id()));
    let _ = fs::remove_dir_all(&run_dir);
    let registry_jar = ui::step(
        &format!(
            "Apicurio Registry {} (third-party schema registry)",
            services::APICURIO_VERSION
        ),
        || services::ensure_external_registry(ctx),
    )?;
    // Its JVM boots (≈ 6 s) while the next steps run; it is waited for before the tests.
    let mut registry = ui::step("launch Apicurio Registry for this run", || {
        services::launch_external_registry(&registry_jar, &run_dir)
    })?;

    let (chromium, end2end, site) = if full {
        let chromium = ui::step("Chromium", services::ensure_chromium)?;
        let end2end = ui::step("browser-test packages", || {
            services::ensure_end2end_packages(ctx)
        })?;
        let wasm_bindgen = ui::step("wasm toolchain", || build::ensure_wasm_toolchain(ctx))?;
        let site = ui::step("build the portal (wasm)", || {
            build::build_portal(ctx, &wasm_bindgen)
        })?;
        (
            Some(chromium),
            Some(end2end),
            ctx.target.join("site").canonicalize().unwrap_or(site),
        )
    } else {
        (None, None, ctx.target.join("site"))
    };
    let bin = ui::step("build the tributary binary", || build::build_server(ctx))?;

    let (kafka, mut kafka_service) = start_run_kafka(&lib, &run_dir)?;
    let stripe_port = proc::free_port()?;
    let mut stripe = ui::step("start stripe-mock for this run", || {
        services::start_stripe_mock(&stripe_bin, stripe_port, &run_dir.join("stripe-mock.log"))
    })?;

    let python = ui::step("SMTP server (aiosmtpd)", || services::ensure_aiosmtpd(ctx))?;
    let registry_python = ui::step("Confluent's Python client (registry interop)", || {
        services::ensure_confluent_kafka_python(ctx)
    })?;
    let smtp_port = proc::free_port()?;
    let maildir = run_dir.join("maildir");
    let mut smtp = ui::step("start the SMTP server for this run", || {
        services::start_smtp(&python, smtp_port, &maildir, &run_dir.join("smtp.log"))
    })?;
    ui::step("wait for Apicurio Registry", || registry.wait_ready())?;

    let output_dir = ctx.target.join("test-output");
    fs::create_dir_all(&output_dir).map_err(|e| e.to_string())?;
    let test_env = BTreeMap::from([
        ("TRIBUTARY_TEST_DATABASE_URL".to_owned(), pg.url.clone()),
        (
            "TRIBUTARY_TEST_KAFKA_BOOTSTRAP".to_owned(),
            kafka.bootstrap(),
        ),
        (
            "TRIBUTARY_TEST_KAFKA_TLS_BOOTSTRAP".to_owned(),
            kafka.tls_bootstrap(),
        ),
        (
            "TRIBUTARY_TEST_KAFKA_CA_PEM".to_owned(),
            kafka.ca_pem().display().to_string(),
        ),
        (
            "TRIBUTARY_TEST_KAFKA_OTHER_CA_PEM".to_owned(),
            kafka.other_ca_pem().display().to_string(),
        ),
        (
            "TRIBUTARY_TEST_KAFKA_USERNAME".to_owned(),
            services::KAFKA_PLATFORM_USER.to_owned(),
        ),
        (
            "TRIBUTARY_TEST_KAFKA_PASSWORD".to_owned(),
            kafka.password.clone(),
        ),
        ("TRIBUTARY_TEST_BIN".to_owned(), bin.display().to_string()),
        (
            "TRIBUTARY_TEST_SITE_ROOT".to_owned(),
            site.display().to_string(),
        ),
        (
            "TRIBUTARY_TEST_OUTPUT".to_owned(),
            output_dir.display().to_string(),
        ),
        (
            "STRIPE_MOCK_URL".to_owned(),
            format!("http://127.0.0.1:{stripe_port}"),
        ),
        (
            "TRIBUTARY_TEST_SMTP_URL".to_owned(),
            format!("smtp://127.0.0.1:{smtp_port}"),
        ),
        (
            "TRIBUTARY_TEST_MAILDIR".to_owned(),
            maildir.display().to_string(),
        ),
        (
            "TRIBUTARY_TEST_PYTHONPATH".to_owned(),
            registry_python.display().to_string(),
        ),
        (
            "TRIBUTARY_TEST_EXTERNAL_REGISTRY_URL".to_owned(),
            registry.url(),
        ),
    ]);

    let mut tally = Tally::default();
    let mut failures = Vec::new();
    if full
        && let Err(e) = ui::step("cargo clippy --all-targets -D warnings", || {
            proc::run(Command::new(&ctx.cargo).current_dir(&ctx.root).args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        })
    {
        failures.push(e);
    }
    if full
        && let Err(e) = ui::step(
            "Helm chart: lint, render, validate against Kubernetes schemas",
            || check_chart(ctx, &run_dir),
        )
    {
        failures.push(e);
    }
    let cargo_test = ui::step("cargo test (unit and integration, real services)", || {
        let mut cmd = Command::new(&ctx.cargo);
        cmd.current_dir(&ctx.root)
            .args(["test", "--workspace", "--no-fail-fast"])
            .args(cargo_args)
            .envs(&test_env);
        run_tests(&mut cmd, &mut tally)
    });
    if let Err(e) = cargo_test {
        failures.push(e);
    }

    if let (Some(chromium), Some(end2end)) = (chromium, end2end) {
        let browser = ui::step("browser tests (Playwright, headless Chromium)", || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            let db = format!("e2e_{now}_{}", services::random_hex(6)?);
            psql(&pg.url, &format!("create database {db}"))?;
            let db_url = replace_database(&pg.url, &db)?;
            let port = proc::free_port()?;
            let listen = format!("127.0.0.1:{port}");
            let env = tributary_env(
                &db_url,
                &kafka,
                &site,
                &listen,
                &services::random_hex(32)?,
                &services::random_hex(32)?,
            );
            run_tributary(&bin, "migrate", &env)?;
            run_tributary(&bin, "demo-seed", &env)?;
            let mut server = Service::spawn(
                "tributary serve (browser tests)",
                Command::new(&bin).arg("serve"),
                &run_dir.join("e2e-server.log"),
                &env,
                Duration::from_secs(10),
            )?;
            proc::wait_until(
                "Tributary /readyz",
                Duration::from_secs(60),
                Some(&mut server),
                || http_status(port, "/readyz") == Some(200),
            )?;
            // Live samples on the stream pages: the demo producer writes to every demo topic.
            let mut producer = Service::spawn(
                "tributary demo-produce (browser tests)",
                Command::new(&bin).arg("demo-produce"),
                &run_dir.join("e2e-producer.log"),
                &env,
                Duration::from_secs(10),
            )?;
            let mut cmd = Command::new("node");
            cmd.current_dir(&end2end)
                .args([
                    "--test",
                    "--test-reporter=tap",
                    "--test-concurrency=1",
                    "tests/",
                ])
                .env("BASE_URL", format!("http://{listen}"))
                .env("CHROMIUM_PATH", &chromium)
                .env("TEST_OUTPUT", output_dir.join("browser"));
            let result = run_tests(&mut cmd, &mut tally);
            producer.stop();
            server.stop();
            result
        });
        if let Err(e) = browser {
            failures.push(e);
        }
        ui::detail(format!(
            "screenshots: {}",
            output_dir.join("browser").display()
        ));
    }

    smtp.stop();
    registry.stop();
    stripe.stop();
    kafka_service.stop();
    if failures.is_empty() {
        let _ = fs::remove_dir_all(&run_dir);
    } else {
        ui::detail(format!("service logs kept in {}", run_dir.display()));
    }
    // Printed by `main` as the very last line, where CI reads the test count.
    let _ = FINAL_LINE.set(format!(
        "tests: {} passed, {} failed",
        tally.passed, tally.failed
    ));
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// Lints the chart, renders it with several value sets and validates every manifest strictly;
/// also checks that a missing required value stops rendering.
fn check_chart(ctx: &Ctx, run_dir: &Path) -> Result<(), String> {
    let helm = services::ensure_helm(ctx)?;
    let validator = services::ensure_kubernetes_validate(ctx)?;
    let chart = ctx.root.join("charts/tributary");
    proc::run(
        Command::new(&helm)
            .arg("lint")
            .arg("--strict")
            .arg(&chart)
            .args(["--set", "existingSecret=tributary-secrets"]),
    )?;
    let variants: [(&str, &[&str]); 2] = [
        ("defaults", &["--set", "existingSecret=tributary-secrets"]),
        (
            "private-ca",
            &[
                "--set",
                "existingSecret=tributary-secrets",
                "--set",
                "kafka.caConfigMap=kafka-ca",
                "--set",
                "replicaCount=3",
                "--set",
                "trustedProxies=10.0.0.0/8",
            ],
        ),
    ];
    fs::create_dir_all(run_dir).map_err(|e| e.to_string())?;
    for (name, values) in variants {
        let rendered = proc::output(
            Command::new(&helm)
                .arg("template")
                .arg("tributary")
                .arg(&chart)
                .args(values),
        )?;
        let file = run_dir.join(format!("chart-{name}.yaml"));
        fs::write(&file, rendered).map_err(|e| e.to_string())?;
        proc::run(
            Command::new("python3")
                .args([
                    "-m",
                    "kubernetes_validate",
                    "--strict",
                    "--quiet",
                    "-k",
                    services::KUBERNETES_VALIDATE_VERSION,
                ])
                .arg(&file)
                .env("PYTHONPATH", &validator),
        )
        .map_err(|e| format!("{name}: {e}"))?;
        ui::detail(format!("{name}: rendered and valid"));
    }
    if proc::output(
        Command::new(&helm)
            .arg("template")
            .arg("tributary")
            .arg(&chart),
    )
    .is_ok()
    {
        return Err("the chart rendered without existingSecret, which it requires".into());
    }
    Ok(())
}

/// One broker for a run, on free ports, with a fresh data folder and secret.
fn start_run_kafka(lib: &Path, run_dir: &Path) -> Result<(KafkaInstance, Service), String> {
    let kafka = KafkaInstance {
        dir: run_dir.join("kafka"),
        port: proc::free_port()?,
        tls_port: proc::free_port()?,
        controller_port: proc::free_port()?,
        password: services::random_hex(16)?,
    };
    let service = ui::step("start Kafka for this run", || {
        services::start_kafka(lib, &kafka)
    })?;
    Ok((kafka, service))
}

/// Benchmarks print tables comparing each target with its baseline measured in the same run.
/// `only`: run just the bench of that name.
fn bench(ctx: &Ctx, only: Option<&str>) -> Result<(), String> {
    let mut pg = ui::step("PostgreSQL", services::ensure_postgres)?;
    let result = bench_with_postgres(ctx, &pg, only);
    pg.stop();
    result
}

fn bench_with_postgres(ctx: &Ctx, pg: &Postgres, only: Option<&str>) -> Result<(), String> {
    let wanted = |name: &str| only.is_none_or(|o| o == name);
    for (title, bench) in [
        (
            "GraphQL throughput vs bare axum (release build)",
            "graphql_throughput",
        ),
        (
            "catalog search, 100 000 streams (release build)",
            "catalog_search",
        ),
        (
            "schema checks built to explode vs their baseline (release build)",
            "schema_checks",
        ),
    ] {
        if !wanted(bench) {
            continue;
        }
        ui::step(title, || {
            drop_test_databases(&pg.url)?;
            proc::run(
                Command::new(&ctx.cargo)
                    .current_dir(&ctx.root)
                    .args(["bench", "--package", "tributary-tests", "--bench", bench])
                    .env("TRIBUTARY_TEST_DATABASE_URL", &pg.url),
            )
        })?;
    }
    if !wanted("samples_load") {
        return Ok(());
    }
    // Live samples read Kafka: one broker for this run, as for the tests.
    let lib = ui::step(
        &format!("Apache Kafka {} jars", services::KAFKA_VERSION),
        || services::ensure_kafka_jars(ctx),
    )?;
    let run_dir = ctx
        .target
        .join("bench-stack")
        .join(format!("run-{}", std::process::id()));
    let _ = fs::remove_dir_all(&run_dir);
    let (kafka, mut kafka_service) = start_run_kafka(&lib, &run_dir)?;
    let result = ui::step(
        "live samples under anonymous load, /readyz alongside (release build)",
        || {
            drop_test_databases(&pg.url)?;
            proc::run(
                Command::new(&ctx.cargo)
                    .current_dir(&ctx.root)
                    .args([
                        "bench",
                        "--package",
                        "tributary-tests",
                        "--bench",
                        "samples_load",
                    ])
                    .env("TRIBUTARY_TEST_DATABASE_URL", &pg.url)
                    .env("TRIBUTARY_TEST_KAFKA_BOOTSTRAP", kafka.bootstrap())
                    .env(
                        "TRIBUTARY_TEST_KAFKA_USERNAME",
                        services::KAFKA_PLATFORM_USER,
                    )
                    .env("TRIBUTARY_TEST_KAFKA_PASSWORD", &kafka.password)
                    .env(
                        "TRIBUTARY_TEST_SITE_ROOT",
                        ctx.target.join("site").display().to_string(),
                    ),
            )
        },
    );
    kafka_service.stop();
    if result.is_ok() {
        let _ = fs::remove_dir_all(&run_dir);
    }
    result
}

/// The same server URL with another database name.
fn replace_database(url: &str, db: &str) -> Result<String, String> {
    let (base, rest) = url
        .rsplit_once('/')
        .ok_or("DATABASE_URL has no database name")?;
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Ok(format!("{base}/{db}{query}"))
}
