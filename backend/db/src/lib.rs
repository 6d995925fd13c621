//! PostgreSQL access shared by every crate: the pool, the migrations and their status, the
//! audit trail, the transactional outbox and the shared rate-limit counters.

pub mod audit;
pub mod outbox;
pub mod rate_limit;

use std::{str::FromStr, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{
    PgPool,
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPoolOptions},
};

/// The migrations in the top-level `migrations/` folder, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    #[error("PostgreSQL is unreachable: {0}")]
    Unreachable(#[source] sqlx::Error),
    #[error("applying migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

/// Pool settings, read once at start by the binary.
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// The connection URL; a secret because it usually embeds the password.
    pub url: SecretString,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl DbConfig {
    /// Parses the URL without connecting, so a typo is reported before anything starts.
    pub fn connect_options(&self) -> Result<PgConnectOptions, DbError> {
        PgConnectOptions::from_str(self.url.expose_secret()).map_err(DbError::InvalidUrl)
    }

    /// Opens the pool and proves the server answers.
    pub async fn connect(&self) -> Result<PgPool, DbError> {
        let options = self.connect_options()?;
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(DbError::Unreachable)
    }
}

/// Where the database stands against the migrations compiled into this binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Versions this binary knows but the database has not applied.
    pub pending: Vec<i64>,
    /// Versions applied with a checksum that differs from this binary's file (edited after release).
    pub modified: Vec<i64>,
    /// Versions the database has that this binary does not know (a newer binary migrated it).
    pub unknown: Vec<i64>,
    /// A migration that started and failed (`success = false`).
    pub failed: Vec<i64>,
}

impl MigrationStatus {
    /// True when the schema is exactly what this binary expects.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty()
            && self.modified.is_empty()
            && self.failed.is_empty()
            && self.unknown.is_empty()
    }
}

impl std::fmt::Display for MigrationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_current() {
            return f.write_str("all migrations applied");
        }
        let mut parts = Vec::new();
        for (label, list) in [
            ("pending", &self.pending),
            ("modified after apply", &self.modified),
            ("failed", &self.failed),
            ("unknown to this binary", &self.unknown),
        ] {
            if !list.is_empty() {
                let versions: Vec<String> = list.iter().map(i64::to_string).collect();
                parts.push(format!("{label}: {}", versions.join(", ")));
            }
        }
        f.write_str(&parts.join("; "))
    }
}

/// Compares the `_sqlx_migrations` table with [`MIGRATOR`].
pub async fn migration_status(pool: &PgPool) -> Result<MigrationStatus, DbError> {
    let table_exists: bool =
        sqlx::query_scalar("select to_regclass('public._sqlx_migrations') is not null")
            .fetch_one(pool)
            .await?;
    let applied: Vec<(i64, Vec<u8>, bool)> = if table_exists {
        sqlx::query_as("select version, checksum, success from _sqlx_migrations order by version")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };

    let mut status = MigrationStatus {
        pending: Vec::new(),
        modified: Vec::new(),
        unknown: Vec::new(),
        failed: Vec::new(),
    };
    for migration in MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
    {
        match applied.iter().find(|(v, _, _)| *v == migration.version) {
            None => status.pending.push(migration.version),
            Some((version, _, false)) => status.failed.push(*version),
            Some((version, checksum, true)) if checksum.as_slice() != &*migration.checksum => {
                status.modified.push(*version)
            }
            Some(_) => {}
        }
    }
    status.unknown = applied
        .iter()
        .map(|(v, _, _)| *v)
        .filter(|v| !MIGRATOR.iter().any(|m| m.version == *v))
        .collect();
    Ok(status)
}

/// Applies every pending migration (idempotent).
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    Ok(())
}
