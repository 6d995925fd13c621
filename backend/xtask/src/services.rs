//! The real components: PostgreSQL (Debian), Apache Kafka (Maven Central jars), stripe-mock (Go
//! module proxy), Apicurio Registry (built from Maven Central, tests only), Chromium (Debian).
//! Each `ensure_*` installs what is missing, idempotently.

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    path::{Path, PathBuf},
    process::Command,
    sync::Once,
    time::{Duration, Instant},
};

use crate::{
    Ctx,
    proc::{self, Service},
    ui,
};

pub const KAFKA_VERSION: &str = "4.4.0";
pub const STRIPE_MOCK_VERSION: &str = "v0.203.0";
const SLF4J_VERSION: &str = "2.0.17";
const LOG4J_VERSION: &str = "2.24.3";
/// The platform's super user on the local broker.
pub const KAFKA_PLATFORM_USER: &str = "tributary";

fn is_root() -> bool {
    proc::output(Command::new("id").arg("-u")).is_ok_and(|s| s.trim() == "0")
}

/// Installs Debian packages (running `apt-get update` once per process first).
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    static UPDATE: Once = Once::new();
    if !is_root() {
        return Err(format!(
            "missing system packages {packages:?}; install them (`sudo apt-get install -y {}`) or run as root",
            packages.join(" ")
        ));
    }
    let mut update = Ok(());
    UPDATE.call_once(|| {
        ui::detail("apt-get update");
        update = proc::run(Command::new("apt-get").args(["update", "-qq"]));
    });
    update?;
    ui::detail(format!("apt-get install {}", packages.join(" ")));
    proc::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Random bytes as lowercase hex, for throwaway secrets of the local stack.
pub fn random_hex(bytes: usize) -> Result<String, String> {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

// ---------------------------------------------------------------- PostgreSQL

pub struct Postgres {
    /// A URL whose role may create databases (tests create one per test).
    pub url: String,
    /// (version, cluster) when this process started the cluster and should stop it.
    started: Option<(String, String)>,
}

impl Postgres {
    pub fn stop(&mut self) {
        if let Some((version, cluster)) = self.started.take() {
            let _ = proc::run(Command::new("pg_ctlcluster").args([
                version.as_str(),
                cluster.as_str(),
                "stop",
            ]));
            ui::detail("PostgreSQL stopped");
        }
    }
}

fn newest_postgres_version() -> Option<String> {
    let mut versions: Vec<u32> = fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("bin/postgres").is_file())
        .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
        .collect();
    versions.sort_unstable();
    versions.last().map(u32::to_string)
}

fn psql_as_postgres(port: &str, sql: &str) -> Result<String, String> {
    proc::output(Command::new("runuser").args([
        "-u",
        "postgres",
        "--",
        "psql",
        "-p",
        port,
        "-h",
        "/var/run/postgresql",
        "-v",
        "ON_ERROR_STOP=1",
        "-tAc",
        sql,
    ]))
}

/// Uses `DATABASE_URL` when set; otherwise runs a private Debian cluster `tributary` on
/// `TRIBUTARY_PG_PORT` (default 55432), tuned for a disposable local stack (no fsync).
pub fn ensure_postgres() -> Result<Postgres, String> {
    // The test runner uses psql to create and drop databases, whichever server it talks to.
    if !proc::on_path("psql") {
        apt_install(&["postgresql-client"])?;
    }
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        ui::detail("using the server DATABASE_URL names");
        return Ok(Postgres { url, started: None });
    }
    if !is_root() {
        return Err("set DATABASE_URL to a PostgreSQL server whose role may create databases, or run as root so the Debian cluster can be managed".into());
    }
    if newest_postgres_version().is_none() {
        apt_install(&["postgresql"])?;
    }
    let version = newest_postgres_version().ok_or("PostgreSQL binaries not found after install")?;
    let port = std::env::var("TRIBUTARY_PG_PORT").unwrap_or_else(|_| "55432".into());
    let cluster = "tributary";
    let clusters = proc::output(Command::new("pg_lsclusters").arg("-h"))?;
    let line = clusters
        .lines()
        .find(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[0] == version && f[1] == cluster
        })
        .map(str::to_owned);
    let line = match line {
        Some(line) => line,
        None => {
            ui::detail(format!(
                "creating cluster {version}/{cluster} on port {port}"
            ));
            proc::output(Command::new("pg_createcluster").args([
                "-p",
                &port,
                "--start-conf",
                "manual",
                "-o",
                "fsync=off",
                "-o",
                "synchronous_commit=off",
                "-o",
                "full_page_writes=off",
                "-o",
                "max_connections=300",
                &version,
                cluster,
            ]))?;
            format!("{version} {cluster} {port} down")
        }
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    let port = fields[2].to_owned();
    let mut started = None;
    if fields[3] != "online" {
        proc::output(Command::new("pg_ctlcluster").args([version.as_str(), cluster, "start"]))?;
        started = Some((version.clone(), cluster.to_owned()));
    } else {
        ui::detail("cluster already running");
    }
    proc::wait_until("PostgreSQL", Duration::from_secs(30), None, || {
        psql_as_postgres(&port, "select 1").is_ok()
    })?;
    let has_role = psql_as_postgres(&port, "select 1 from pg_roles where rolname = 'tributary'")?;
    if has_role.trim().is_empty() {
        psql_as_postgres(
            &port,
            "create role tributary login createdb password 'tributary'",
        )?;
    }
    let has_db = psql_as_postgres(
        &port,
        "select 1 from pg_database where datname = 'tributary'",
    )?;
    if has_db.trim().is_empty() {
        psql_as_postgres(&port, "create database tributary owner tributary")?;
    }
    Ok(Postgres {
        url: format!("postgres://tributary:tributary@127.0.0.1:{port}/tributary"),
        started,
    })
}

// ---------------------------------------------------------------- Java, Kafka

fn java_major() -> Option<u32> {
    let out = Command::new("java").arg("-version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let version = text.split('"').nth(1)?;
    version.split('.').next()?.parse().ok()
}

fn ensure_java_and_maven() -> Result<(), String> {
    let mut missing = Vec::new();
    if java_major().is_none_or(|v| v < 17) {
        missing.push("openjdk-17-jre-headless");
    }
    if !proc::on_path("mvn") {
        missing.push("maven");
    }
    if !missing.is_empty() {
        apt_install(&missing)?;
    }
    Ok(())
}

/// Downloads Kafka's jars from Maven Central once; returns the `lib` folder.
pub fn ensure_kafka_jars(ctx: &Ctx) -> Result<PathBuf, String> {
    let home = ctx.cache.join(format!("kafka-{KAFKA_VERSION}"));
    let lib = home.join("lib");
    let marker = home.join(".complete");
    if marker.is_file() {
        ui::detail(format!("Kafka {KAFKA_VERSION} jars cached"));
        return Ok(lib);
    }
    ensure_java_and_maven()?;
    fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let pom = format!(
        r#"<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tributary.stack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>{SLF4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>{LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
"#
    );
    fs::write(home.join("pom.xml"), pom).map_err(|e| e.to_string())?;
    let _ = fs::remove_dir_all(&lib);
    proc::run_with_progress(
        Command::new("mvn").current_dir(&home).args([
            "-B",
            "dependency:copy-dependencies",
            "-DoutputDirectory=lib",
            "-DincludeScope=runtime",
        ]),
        &home.join("maven.log"),
        "artifacts downloaded",
        "Downloaded from",
    )?;
    let jars = fs::read_dir(&lib).map(|d| d.count()).unwrap_or(0);
    ui::detail(format!("{jars} jars in {}", lib.display()));
    fs::write(&marker, "ok").map_err(|e| e.to_string())?;
    Ok(lib)
}

/// Where and how to run one broker.
pub struct KafkaInstance {
    pub dir: PathBuf,
    pub port: u16,
    /// A second client listener, SASL_SSL, with a certificate from a private CA (what real
    /// deployments use; the CA bundle is in [`KafkaInstance::ca_pem`]).
    pub tls_port: u16,
    pub controller_port: u16,
    pub password: String,
}

impl KafkaInstance {
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn tls_bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.tls_port)
    }

    fn tls_dir(&self) -> PathBuf {
        self.dir.join("tls")
    }

    /// The private CA that signed the broker's certificate.
    pub fn ca_pem(&self) -> PathBuf {
        self.tls_dir().join("ca.pem")
    }

    /// Another CA, which signed nothing the broker presents (for refusal tests).
    pub fn other_ca_pem(&self) -> PathBuf {
        self.tls_dir().join("other-ca.pem")
    }
}

/// Makes the broker's TLS material once: a private CA, a second unrelated CA, and the broker's
/// key and certificate (for 127.0.0.1 and localhost) as one PEM keystore.
fn ensure_broker_tls(instance: &KafkaInstance) -> Result<(), String> {
    let dir = instance.tls_dir();
    if dir.join("broker-keystore.pem").is_file() && instance.other_ca_pem().is_file() {
        return Ok(());
    }
    if !proc::on_path("openssl") {
        apt_install(&["openssl"])?;
    }
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let openssl = |args: &[&str]| -> Result<(), String> {
        proc::output(Command::new("openssl").current_dir(&dir).args(args)).map(|_| ())
    };
    for (name, cn) in [
        ("ca", "Tributary test CA"),
        ("other-ca", "Unrelated test CA"),
    ] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-subj",
            &format!("/CN={cn}"),
        ])?;
    }
    fs::write(
        dir.join("broker.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .map_err(|e| e.to_string())?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "broker.key",
        "-out",
        "broker.csr",
        "-subj",
        "/CN=127.0.0.1",
    ])?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "broker.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "3650",
        "-out",
        "broker.crt",
        "-extfile",
        "broker.ext",
    ])?;
    openssl(&[
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        "broker.key",
        "-out",
        "broker.p8",
    ])?;
    let mut keystore = String::new();
    for part in ["broker.p8", "broker.crt", "ca.pem"] {
        keystore.push_str(&fs::read_to_string(dir.join(part)).map_err(|e| e.to_string())?);
    }
    fs::write(dir.join("broker-keystore.pem"), keystore).map_err(|e| e.to_string())
}

const LOG4J2_PROPERTIES: &str = "status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
";

fn server_properties(i: &KafkaInstance) -> String {
    // The controller listener is PLAINTEXT on loopback only and its ANONYMOUS principal is a super
    // user: KRaft's own controller traffic needs it, and no client is ever pointed at it. Every
    // client listener requires SCRAM-SHA-512 and is checked by the StandardAuthorizer.
    format!(
        "process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{cport}
listeners=SASL_PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{tport},CONTROLLER://127.0.0.1:{cport}
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port},SASL_SSL://127.0.0.1:{tport}
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{pw}\";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{user}\" password=\"{pw}\";
ssl.keystore.type=PEM
ssl.keystore.location={keystore}
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:{user};User:ANONYMOUS
log.dirs={data}
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
",
        port = i.port,
        tport = i.tls_port,
        keystore = i.tls_dir().join("broker-keystore.pem").display(),
        cport = i.controller_port,
        user = KAFKA_PLATFORM_USER,
        pw = i.password,
        data = i.dir.join("data").display(),
    )
}

fn java_command(lib: &Path, instance: &KafkaInstance, heap: &str) -> Command {
    let mut cmd = Command::new("java");
    cmd.arg(format!("-Xmx{heap}"))
        .arg("-Xms128m")
        .arg("-XX:+UseSerialGC")
        .arg("-Djava.awt.headless=true")
        .arg(format!(
            "-Dlog4j2.configurationFile={}",
            instance.dir.join("log4j2.properties").display()
        ))
        .arg(format!(
            "-Dkafka.logs.dir={}",
            instance.dir.join("logs").display()
        ))
        .arg("-cp")
        .arg(format!("{}/*", lib.display()));
    cmd
}

/// A Kafka cluster id: 16 random bytes, base64url without padding (what `random-uuid` prints).
/// Ids starting with '-' are drawn again: the storage tool would read them as an option.
fn cluster_id() -> Result<String, String> {
    loop {
        let id = random_cluster_id()?;
        if !id.starts_with('-') {
            return Ok(id);
        }
    }
}

fn random_cluster_id() -> Result<String, String> {
    let hex = random_hex(16)?;
    let bytes: Vec<u8> = (0..16)
        .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect();
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    Ok(out)
}

/// Formats the instance's storage once (with the platform's SCRAM credential) and starts the
/// broker; returns when it reports itself started.
pub fn start_kafka(lib: &Path, instance: &KafkaInstance) -> Result<Service, String> {
    fs::create_dir_all(instance.dir.join("logs")).map_err(|e| e.to_string())?;
    fs::write(instance.dir.join("log4j2.properties"), LOG4J2_PROPERTIES)
        .map_err(|e| e.to_string())?;
    ensure_broker_tls(instance)?;
    let props = instance.dir.join("server.properties");
    fs::write(&props, server_properties(instance)).map_err(|e| e.to_string())?;
    if !instance.dir.join("data/meta.properties").is_file() {
        ui::detail("formatting storage (KRaft) with the platform's SCRAM credential");
        proc::output(
            java_command(lib, instance, "256m")
                .arg("kafka.tools.StorageTool")
                .arg("format")
                .arg("-t")
                .arg(cluster_id()?)
                .arg("-c")
                .arg(&props)
                .arg("--add-scram")
                .arg(format!(
                    "SCRAM-SHA-512=[name={KAFKA_PLATFORM_USER},password={}]",
                    instance.password
                )),
        )?;
    }
    for port in [instance.port, instance.tls_port] {
        if proc::port_open(port) {
            return Err(format!(
                "port {port} is already in use; is another Kafka running?"
            ));
        }
    }
    let server_log = instance.dir.join("logs/server.log");
    let _ = fs::remove_file(&server_log);
    let mut service = Service::spawn(
        "Kafka",
        java_command(lib, instance, "512m")
            .arg("kafka.Kafka")
            .arg(&props),
        &instance.dir.join("logs/stdout.log"),
        &BTreeMap::new(),
        Duration::from_secs(30),
    )?;
    let result = proc::wait_until(
        "Kafka",
        Duration::from_secs(120),
        Some(&mut service),
        || {
            proc::port_open(instance.port)
                && fs::read_to_string(&server_log)
                    .is_ok_and(|log| log.contains("Kafka Server started"))
        },
    );
    if let Err(e) = result {
        let tail = fs::read_to_string(&server_log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(20).collect();
        return Err(format!(
            "{e}\n{}\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            service.log_tail(10)
        ));
    }
    Ok(service)
}

// ---------------------------------------------------------------- stripe-mock

/// The Go toolchain: on PATH, else where these machines keep it, else Debian's.
fn go_binary() -> Result<PathBuf, String> {
    if proc::on_path("go") {
        Ok(PathBuf::from("go"))
    } else if Path::new("/usr/local/go/bin/go").is_file() {
        Ok(PathBuf::from("/usr/local/go/bin/go"))
    } else {
        apt_install(&["golang-go"])?;
        Ok(PathBuf::from("go"))
    }
}

pub fn ensure_stripe_mock(ctx: &Ctx) -> Result<PathBuf, String> {
    let bin_dir = ctx.cache.join("bin");
    let bin = bin_dir.join("stripe-mock");
    let marker = bin_dir.join("stripe-mock.version");
    if bin.is_file() && fs::read_to_string(&marker).is_ok_and(|v| v.trim() == STRIPE_MOCK_VERSION) {
        ui::detail(format!("stripe-mock {STRIPE_MOCK_VERSION} cached"));
        return Ok(bin);
    }
    let go = go_binary()?;
    fs::create_dir_all(&bin_dir).map_err(|e| e.to_string())?;
    ui::detail(format!(
        "go install github.com/stripe/stripe-mock@{STRIPE_MOCK_VERSION}"
    ));
    proc::run(
        Command::new(go)
            .args([
                "install",
                &format!("github.com/stripe/stripe-mock@{STRIPE_MOCK_VERSION}"),
            ])
            .env("GOBIN", &bin_dir)
            .env("GOFLAGS", "-mod=mod"),
    )?;
    fs::write(&marker, STRIPE_MOCK_VERSION).map_err(|e| e.to_string())?;
    Ok(bin)
}

pub fn start_stripe_mock(bin: &Path, port: u16, log: &Path) -> Result<Service, String> {
    if proc::port_open(port) {
        return Err(format!(
            "port {port} is already in use; is another stripe-mock running?"
        ));
    }
    let mut service = Service::spawn(
        "stripe-mock",
        // HTTPS is unused, but stripe-mock would otherwise also bind :12112, so two runs on one
        // machine (two checkouts) would collide: the system picks its port.
        Command::new(bin).args([
            "-http-addr",
            &format!("127.0.0.1:{port}"),
            "-https-addr",
            "127.0.0.1:",
        ]),
        log,
        &BTreeMap::new(),
        Duration::from_secs(5),
    )?;
    proc::wait_until(
        "stripe-mock",
        Duration::from_secs(30),
        Some(&mut service),
        || proc::port_open(port),
    )?;
    Ok(service)
}

// ---------------------------------------------------------------- Helm chart checks

pub const HELM_VERSION: &str = "v4.3.1";
pub const KUBERNETES_VALIDATE_VERSION: &str = "1.37.0";

/// Helm from the Go module proxy (no cluster can run here: charts are rendered and validated).
pub fn ensure_helm(ctx: &Ctx) -> Result<PathBuf, String> {
    let bin_dir = ctx.cache.join("bin");
    let bin = bin_dir.join("helm");
    let marker = bin_dir.join("helm.version");
    if bin.is_file() && fs::read_to_string(&marker).is_ok_and(|v| v.trim() == HELM_VERSION) {
        ui::detail(format!("helm {HELM_VERSION} cached"));
        return Ok(bin);
    }
    fs::create_dir_all(&bin_dir).map_err(|e| e.to_string())?;
    ui::detail(format!(
        "go install helm.sh/helm/v4/cmd/helm@{HELM_VERSION} (about 2 minutes, once)"
    ));
    proc::run(
        Command::new(go_binary()?)
            .args([
                "install",
                &format!("helm.sh/helm/v4/cmd/helm@{HELM_VERSION}"),
            ])
            .env("GOBIN", &bin_dir)
            .env("GOFLAGS", "-mod=mod"),
    )?;
    fs::write(&marker, HELM_VERSION).map_err(|e| e.to_string())?;
    Ok(bin)
}

/// A Python package pinned by version, installed once into its own folder of the cache.
fn ensure_python_package(ctx: &Ctx, name: &str, version: &str) -> Result<PathBuf, String> {
    ensure_python_requirement(
        ctx,
        &format!("{name}-{version}"),
        &format!("{name}=={version}"),
    )
}

/// One pip requirement (extras allowed), installed once into `python/<folder>` of the cache.
fn ensure_python_requirement(
    ctx: &Ctx,
    folder: &str,
    requirement: &str,
) -> Result<PathBuf, String> {
    let dir = ctx.cache.join(format!("python/{folder}"));
    let marker = dir.join(".complete");
    if marker.is_file() {
        ui::detail(format!("{requirement} cached"));
        return Ok(dir);
    }
    if !proc::on_path("python3") {
        apt_install(&["python3", "python3-pip"])?;
    }
    let _ = fs::remove_dir_all(&dir);
    proc::run(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "--target",
            ])
            .arg(&dir)
            .arg(requirement),
    )?;
    fs::write(&marker, "ok").map_err(|e| e.to_string())?;
    Ok(dir)
}

/// `kubernetes-validate` (PyPI), which bundles the Kubernetes API schemas.
pub fn ensure_kubernetes_validate(ctx: &Ctx) -> Result<PathBuf, String> {
    ensure_python_package(ctx, "kubernetes-validate", KUBERNETES_VALIDATE_VERSION)
}

// ---------------------------------------------------------------- schema registry interop

pub const CONFLUENT_KAFKA_VERSION: &str = "2.16.1";

/// Confluent's Python client with what its schema-registry Avro and JSON serializers import
/// (fastavro, jsonschema, httpx, cachetools, attrs, authlib, … through its extras), in one
/// folder: the registry interop test runs it against our registry.
pub fn ensure_confluent_kafka_python(ctx: &Ctx) -> Result<PathBuf, String> {
    ensure_python_requirement(
        ctx,
        &format!("confluent-kafka-{CONFLUENT_KAFKA_VERSION}"),
        &format!("confluent-kafka[avro,json,schemaregistry]=={CONFLUENT_KAFKA_VERSION}"),
    )
}

// ---------------------------------------------------------------- SMTP (aiosmtpd)

pub const AIOSMTPD_VERSION: &str = "1.4.6";

/// A real SMTP server for the mail tests: Python's `aiosmtpd` from PyPI, in a private folder.
pub fn ensure_aiosmtpd(ctx: &Ctx) -> Result<PathBuf, String> {
    ensure_python_package(ctx, "aiosmtpd", AIOSMTPD_VERSION)
}

/// Starts `aiosmtpd` on loopback, storing every mail it accepts in `maildir`.
pub fn start_smtp(
    python_path: &Path,
    port: u16,
    maildir: &Path,
    log: &Path,
) -> Result<Service, String> {
    let env = BTreeMap::from([("PYTHONPATH".to_owned(), python_path.display().to_string())]);
    let mut service = Service::spawn(
        "SMTP server (aiosmtpd)",
        Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(maildir),
        log,
        &env,
        Duration::from_secs(5),
    )?;
    proc::wait_until(
        "SMTP server",
        Duration::from_secs(30),
        Some(&mut service),
        || proc::port_open(port),
    )?;
    Ok(service)
}

// ---------------------------------------------------------------- Chromium, Playwright

pub fn ensure_chromium() -> Result<PathBuf, String> {
    let bin = PathBuf::from(
        std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into()),
    );
    if !bin.is_file() {
        apt_install(&["chromium"])?;
    }
    if !bin.is_file() {
        return Err(format!(
            "{} not found after installing chromium",
            bin.display()
        ));
    }
    Ok(bin)
}

/// Installs the browser-test packages (playwright-core) from the lock file, once per lock change.
pub fn ensure_end2end_packages(ctx: &Ctx) -> Result<PathBuf, String> {
    let dir = ctx.root.join("web/end2end");
    if !proc::on_path("npm") {
        apt_install(&["nodejs", "npm"])?;
    }
    let lock = fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("web/end2end/package-lock.json: {e}"))?;
    let stamp = dir.join("node_modules/.tributary-lock");
    if fs::read(&stamp).is_ok_and(|s| s == lock) {
        ui::detail("node packages up to date");
        return Ok(dir);
    }
    proc::run(
        Command::new("npm")
            .current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )?;
    fs::write(&stamp, lock).map_err(|e| e.to_string())?;
    Ok(dir)
}

// ---------------------------------------------------------------- external schema registry (Apicurio)

pub const APICURIO_VERSION: &str = "2.4.2.Final";
/// Where Apicurio Registry serves the Confluent Schema Registry API.
const APICURIO_CCOMPAT_PATH: &str = "/apis/ccompat/v7";
/// The Maven project in `tests/external-registry/` that packages it; all of it is hashed into the
/// build marker, so changing any of these files rebuilds.
const APICURIO_SOURCES: [&str; 3] = [
    "pom.xml",
    "settings.xml",
    "src/main/resources/application.properties",
];

/// FNV-1a (64 bit): a stable fingerprint of the sources for the cache marker.
fn fingerprint(parts: &[(&str, &[u8])]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, bytes) in parts {
        let len = (bytes.len() as u64).to_le_bytes();
        for b in name.bytes().chain(len).chain(bytes.iter().copied()) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Builds Apicurio Registry (a third-party, Confluent-compatible schema registry) from Maven
/// Central once per change of `tests/external-registry/`; returns the runnable jar.
pub fn ensure_external_registry(ctx: &Ctx) -> Result<PathBuf, String> {
    let sources = ctx.root.join("tests/external-registry");
    let mut files = Vec::new();
    for name in APICURIO_SOURCES {
        let bytes = fs::read(sources.join(name))
            .map_err(|e| format!("tests/external-registry/{name}: {e}"))?;
        files.push((name, bytes));
    }
    let stamp = fingerprint(
        &files
            .iter()
            .map(|(n, b)| (*n, b.as_slice()))
            .collect::<Vec<_>>(),
    );
    let home = ctx
        .cache
        .join(format!("apicurio-registry-{APICURIO_VERSION}"));
    let jar = home.join("target/apicurio-runtime-1-runner.jar");
    let marker = home.join(".complete");
    if jar.is_file() && fs::read_to_string(&marker).is_ok_and(|m| m.trim() == stamp) {
        ui::detail(format!(
            "Apicurio Registry {APICURIO_VERSION} cached (sources {stamp})"
        ));
        return Ok(jar);
    }
    ensure_java_and_maven()?;
    let _ = fs::remove_dir_all(&home);
    for (name, bytes) in &files {
        let file = home.join(name);
        if let Some(dir) = file.parent() {
            fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        fs::write(&file, bytes).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    ui::detail(format!(
        "mvn package: Quarkus build of Apicurio Registry {APICURIO_VERSION} (1–2 minutes, once)"
    ));
    proc::run_with_progress(
        Command::new("mvn")
            .current_dir(&home)
            .arg("-B")
            .arg("-s")
            .arg(home.join("settings.xml"))
            .args(["package", "-DskipTests"]),
        &home.join("maven.log"),
        "artifacts downloaded",
        "Downloaded from",
    )?;
    if !jar.is_file() {
        return Err(format!(
            "the Maven build did not produce {}; see {}",
            jar.display(),
            home.join("maven.log").display()
        ));
    }
    let jars = fs::read_dir(home.join("target/lib"))
        .map(|d| d.count())
        .unwrap_or(0);
    ui::detail(format!("{} and {jars} libraries", jar.display()));
    fs::write(&marker, &stamp).map_err(|e| e.to_string())?;
    Ok(jar)
}

/// One Apicurio Registry for a test run (in-memory storage, so every run starts empty).
pub struct ExternalRegistry {
    service: Service,
    port: u16,
    started: Instant,
}

impl ExternalRegistry {
    /// The base URL of its Confluent-compatible API, e.g. `http://127.0.0.1:41234/apis/ccompat/v7`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{APICURIO_CCOMPAT_PATH}", self.port)
    }

    /// Waits until `GET <url>/subjects` answers 200: at most 60 s after the launch, but at least
    /// 20 s from now (cargo builds running meanwhile can starve its JVM on two cores).
    pub fn wait_ready(&mut self) -> Result<(), String> {
        const BUDGET: Duration = Duration::from_secs(60);
        const MIN_WAIT: Duration = Duration::from_secs(20);
        let port = self.port;
        let path = format!("{APICURIO_CCOMPAT_PATH}/subjects");
        proc::wait_until(
            "Apicurio Registry",
            BUDGET.saturating_sub(self.started.elapsed()).max(MIN_WAIT),
            Some(&mut self.service),
            || crate::http_status(port, &path) == Some(200),
        )
        .map_err(|e| {
            format!(
                "{e}: GET {path} did not answer 200 in the {} since the launch; last lines of {}:\n{}",
                ui::human(self.started.elapsed()),
                self.service.log.display(),
                self.service.log_tail(20)
            )
        })?;
        // Quarkus logs "… started in 6.936s. Listening on: …": the real boot time (the wait may
        // begin long after it).
        let log = fs::read_to_string(&self.service.log).unwrap_or_default();
        let boot = log
            .split_once(" started in ")
            .and_then(|(_, rest)| rest.split_once(". "))
            .map_or_else(String::new, |(time, _)| format!(" (booted in {time})"));
        ui::detail(format!("answering at {}{boot}", self.url()));
        Ok(())
    }

    pub fn stop(&mut self) {
        self.service.stop();
    }
}

/// Launches the registry on loopback without waiting for it, so its JVM boots while other
/// services start; `ExternalRegistry::wait_ready` waits. Runs in `dir` (its log goes there too).
pub fn launch_external_registry(jar: &Path, dir: &Path) -> Result<ExternalRegistry, String> {
    let port = proc::free_port()?;
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let service = Service::spawn(
        "Apicurio Registry",
        Command::new("java")
            .current_dir(dir)
            .args([
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-Djava.awt.headless=true",
                "-Dquarkus.http.host=127.0.0.1",
            ])
            .arg(format!("-Dquarkus.http.port={port}"))
            .arg("-jar")
            .arg(jar),
        &dir.join("external-registry.log"),
        &BTreeMap::new(),
        Duration::from_secs(10),
    )?;
    ui::detail(format!("booting on 127.0.0.1:{port}"));
    Ok(ExternalRegistry {
        service,
        port,
        started: Instant::now(),
    })
}
