//! `tributary`: one binary, a subcommand per role.

use std::{process::ExitCode, time::Duration};

use tokio_util::sync::CancellationToken;
use tributary_server::{Config, demo, telemetry};

const USAGE: &str = "\
Tributary: a self-service marketplace for real-time data streams.

Usage: tributary <command>

Commands:
  serve          serve the GraphQL API, the schema registry and the portal
  migrate        apply pending database migrations, then exit
  demo-seed      create the demo organizations, cluster, streams and topics (idempotent)
  demo-produce   keep producing demo messages to the demo topics until stopped
  help           show this text

Configuration comes from environment variables; see the README's configuration reference.";

/// Exit code for configuration errors (distinct from runtime failures, which exit with 1).
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    if matches!(command.as_str(), "" | "help" | "-h" | "--help") {
        println!("{USAGE}");
        return if command.is_empty() {
            ExitCode::from(EXIT_CONFIG)
        } else {
            ExitCode::SUCCESS
        };
    }
    let Some(role) = Role::parse(&command) else {
        eprintln!("error: unknown command {command:?}\n\n{USAGE}");
        return ExitCode::from(EXIT_CONFIG);
    };

    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: configuration: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    telemetry::init(&config);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(role, &config));
    // Blocking Kafka calls must not keep a stopping process alive.
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "{command} failed");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What this process does.
#[derive(Debug, Clone, Copy)]
enum Role {
    Serve,
    Migrate,
    DemoSeed,
    DemoProduce,
}

impl Role {
    fn parse(command: &str) -> Option<Self> {
        Some(match command {
            "serve" => Self::Serve,
            "migrate" => Self::Migrate,
            "demo-seed" => Self::DemoSeed,
            "demo-produce" => Self::DemoProduce,
            _ => return None,
        })
    }
}

async fn run(role: Role, config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    match role {
        Role::Serve => tributary_server::serve(config).await?,
        Role::Migrate => {
            let status = tributary_server::migrate(config).await?;
            println!("{status}");
        }
        Role::DemoSeed => {
            let (pool, _kafka) = tributary_server::connect(config).await?;
            tributary_db::migrate(&pool).await?;
            let identity = tributary_identity::Identity::new(
                pool.clone(),
                config.jwt.clone(),
                config.public_url.clone(),
            );
            let catalog = tributary_catalog::Catalog::new(
                pool.clone(),
                identity,
                config.secrets.clone(),
                config.kafka_timeout,
            );
            demo::seed(&pool, &catalog, &config.kafka).await?;
        }
        Role::DemoProduce => {
            let token = CancellationToken::new();
            tokio::spawn(tributary_server::shutdown_signal(token.clone()));
            let (pool, _kafka) = tributary_server::connect(config).await?;
            demo::produce(&pool, &config.kafka, Duration::from_millis(250), token).await?;
        }
    }
    Ok(())
}
