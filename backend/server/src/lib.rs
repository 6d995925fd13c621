//! The Tributary server as a library: the binary and the integration tests build the same app.

pub mod cluster_health;
pub mod config;
pub mod demo;
pub mod mailer;
pub mod relay;
pub mod schema_watch;
mod startup;
pub mod telemetry;

pub use config::{Config, ConfigError, LogFormat};
pub use startup::{StartupError, connect, migrate, router, serve, shutdown_signal};
