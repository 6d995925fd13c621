//! Typed configuration, read once at start from the environment and validated before anything
//! connects. Every variable is listed in the README's configuration reference.

use std::{net::SocketAddr, path::PathBuf, str::FromStr, time::Duration};

use secrecy::SecretString;
use tributary_db::DbConfig;
use tributary_identity::{JwtConfig, JwtKeys};
use tributary_provisioning::{KafkaConfig, SecurityProtocol};

/// A configuration problem, naming the variable at fault. Secrets are never echoed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{var} is required: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database: DbConfig,
    pub kafka: KafkaConfig,
    /// Budget of one Kafka admin request (and of the start-up reachability check).
    pub kafka_timeout: Duration,
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info,tributary=debug`.
    pub log_filter: String,
    /// Folder holding `pkg/` (the portal's wasm and JS), written by `cargo xtask`.
    pub site_root: PathBuf,
    pub graphiql: bool,
    /// Serve `GET /dev/mailbox` (mail that no SMTP server took).
    pub dev_mailbox: bool,
    pub jwt: JwtConfig,
    /// Keys that seal secrets at rest (cluster SASL passwords).
    pub secrets: tributary_core::SecretBox,
    /// How often every cluster's health is checked.
    pub cluster_health_interval: Duration,
    /// How often external schema registries are read for versions registered there directly.
    pub external_schema_interval: Duration,
    /// Base URL of the portal, used in links sent by mail.
    pub public_url: String,
    /// Where mail goes: an SMTP server, or the local mailbox when none is configured.
    pub mail: crate::mailer::MailTransport,
    pub shutdown_grace: Duration,
    pub max_body_bytes: usize,
    /// Proxies whose forwarding headers name the client (for rate limits and the audit trail).
    pub trusted_proxies: tributary_api::client_addr::TrustedProxies,
}

/// Reads a variable through `lookup`, treating empty values as unset.
struct Vars<F: Fn(&str) -> Option<String>>(F);

impl<F: Fn(&str) -> Option<String>> Vars<F> {
    fn get(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    fn required(&self, var: &'static str, hint: &'static str) -> Result<String, ConfigError> {
        self.get(var).ok_or(ConfigError::Missing { var, hint })
    }

    fn parsed<T: FromStr>(&self, var: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(var) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e: T::Err| ConfigError::Invalid {
                    var,
                    reason: format!("{raw:?}: {e}"),
                }),
        }
    }

    fn bool(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self
            .get(var)
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => Err(ConfigError::Invalid {
                var,
                reason: format!("{other:?} is not a boolean (use true or false)"),
            }),
        }
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// Reads configuration through any lookup function (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let vars = Vars(lookup);

        let database_url = vars.required(
            "DATABASE_URL",
            "the PostgreSQL URL, e.g. postgres://user:pass@host:5432/tributary",
        )?;
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid {
                var: "DATABASE_URL",
                reason: "must start with postgres:// or postgresql://".into(),
            });
        }
        let database = DbConfig {
            url: SecretString::from(database_url),
            max_connections: vars.parsed("TRIBUTARY_DB_MAX_CONNECTIONS", 10u32)?,
            acquire_timeout: Duration::from_secs(5),
        };
        if database.max_connections == 0 {
            return Err(ConfigError::Invalid {
                var: "TRIBUTARY_DB_MAX_CONNECTIONS",
                reason: "must be at least 1".into(),
            });
        }
        database
            .connect_options()
            .map_err(|e| ConfigError::Invalid {
                var: "DATABASE_URL",
                // The sqlx message never contains the password; the URL itself is not repeated.
                reason: e.to_string(),
            })?;

        let bootstrap_servers = vars
            .get("TRIBUTARY_KAFKA_BOOTSTRAP")
            .unwrap_or_else(|| "127.0.0.1:19092".to_owned());
        for server in bootstrap_servers.split(',') {
            let ok = server.trim().rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !ok {
                return Err(ConfigError::Invalid {
                    var: "TRIBUTARY_KAFKA_BOOTSTRAP",
                    reason: format!("{server:?} is not host:port"),
                });
            }
        }
        let protocol_raw = vars
            .get("TRIBUTARY_KAFKA_SECURITY_PROTOCOL")
            .unwrap_or_else(|| "SASL_PLAINTEXT".to_owned());
        let security_protocol =
            SecurityProtocol::parse(&protocol_raw).ok_or_else(|| ConfigError::Invalid {
                var: "TRIBUTARY_KAFKA_SECURITY_PROTOCOL",
                reason: format!("{protocol_raw:?} is not SASL_PLAINTEXT or SASL_SSL"),
            })?;
        let ca_location = vars.get("TRIBUTARY_KAFKA_CA_LOCATION").map(PathBuf::from);
        if let Some(ca) = ca_location.as_ref().filter(|ca| !ca.is_file()) {
            return Err(ConfigError::Invalid {
                var: "TRIBUTARY_KAFKA_CA_LOCATION",
                reason: format!("{} is not a readable file", ca.display()),
            });
        }
        let kafka = KafkaConfig {
            bootstrap_servers,
            security_protocol,
            username: vars
                .get("TRIBUTARY_KAFKA_USERNAME")
                .unwrap_or_else(|| "tributary".to_owned()),
            password: SecretString::from(vars.required(
                "TRIBUTARY_KAFKA_PASSWORD",
                "the SCRAM-SHA-512 secret of the platform's Kafka super user",
            )?),
            ca_location,
            ca_pem: None,
        };

        let log_format = match vars.get("TRIBUTARY_LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "TRIBUTARY_LOG_FORMAT",
                    reason: format!("{other:?} is not text or json"),
                });
            }
        };
        let log_filter = vars
            .get("TRIBUTARY_LOG")
            .unwrap_or_else(|| "info".to_owned());
        tracing_subscriber::EnvFilter::try_new(&log_filter).map_err(|e| ConfigError::Invalid {
            var: "TRIBUTARY_LOG",
            reason: e.to_string(),
        })?;

        let kafka_timeout =
            Duration::from_millis(vars.parsed("TRIBUTARY_KAFKA_TIMEOUT_MS", 10_000u64)?);
        if kafka_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                var: "TRIBUTARY_KAFKA_TIMEOUT_MS",
                reason: "must be positive".into(),
            });
        }

        let secrets = vars.required(
            "TRIBUTARY_ENCRYPTION_KEYS",
            "keys sealing secrets at rest: kid=<base64 of 32 bytes>[,kid=…]; the first seals",
        )?;
        let secrets =
            tributary_core::SecretBox::parse(&secrets).map_err(|e| ConfigError::Invalid {
                var: "TRIBUTARY_ENCRYPTION_KEYS",
                reason: e.to_string(),
            })?;
        let cluster_health_interval =
            Duration::from_secs(vars.parsed("TRIBUTARY_CLUSTER_HEALTH_INTERVAL_SECS", 60u64)?);
        if cluster_health_interval < Duration::from_secs(5) {
            return Err(ConfigError::Invalid {
                var: "TRIBUTARY_CLUSTER_HEALTH_INTERVAL_SECS",
                reason: "must be at least 5".into(),
            });
        }
        let external_schema_interval =
            Duration::from_secs(vars.parsed("TRIBUTARY_EXTERNAL_SCHEMA_INTERVAL_SECS", 30u64)?);
        if external_schema_interval < Duration::from_secs(5) {
            return Err(ConfigError::Invalid {
                var: "TRIBUTARY_EXTERNAL_SCHEMA_INTERVAL_SECS",
                reason: "must be at least 5".into(),
            });
        }

        let keys = vars.required(
            "TRIBUTARY_JWT_KEYS",
            "signing keys for access tokens: kid=secret[,kid=secret…], secrets of 32+ bytes; the first signs",
        )?;
        let keys = JwtKeys::parse(&keys).map_err(|reason| ConfigError::Invalid {
            var: "TRIBUTARY_JWT_KEYS",
            reason,
        })?;
        let jwt = JwtConfig {
            keys,
            issuer: vars
                .get("TRIBUTARY_JWT_ISSUER")
                .unwrap_or_else(|| "tributary".to_owned()),
            audience: vars
                .get("TRIBUTARY_JWT_AUDIENCE")
                .unwrap_or_else(|| "tributary-api".to_owned()),
            access_ttl: Duration::from_secs(
                vars.parsed("TRIBUTARY_ACCESS_TOKEN_TTL_SECS", 900u64)?,
            ),
            refresh_ttl: Duration::from_secs(
                vars.parsed("TRIBUTARY_REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600u64)?,
            ),
        };
        if jwt.access_ttl.is_zero() || jwt.access_ttl > Duration::from_secs(3600) {
            return Err(ConfigError::Invalid {
                var: "TRIBUTARY_ACCESS_TOKEN_TTL_SECS",
                reason: "must be between 1 and 3600 (access tokens are short-lived)".into(),
            });
        }
        let public_url = vars
            .get("TRIBUTARY_PUBLIC_URL")
            .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned())
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                var: "TRIBUTARY_PUBLIC_URL",
                reason: "must start with http:// or https://".into(),
            });
        }

        let mail = match vars.get("TRIBUTARY_SMTP_URL") {
            None => crate::mailer::MailTransport::LocalMailbox,
            Some(url) => {
                let from = vars
                    .get("TRIBUTARY_MAIL_FROM")
                    .unwrap_or_else(|| "Tributary <no-reply@tributary.invalid>".to_owned());
                crate::mailer::MailTransport::smtp(&url, &from).map_err(|reason| {
                    ConfigError::Invalid {
                        var: "TRIBUTARY_SMTP_URL",
                        reason,
                    }
                })?
            }
        };

        let trusted_proxies = tributary_api::client_addr::TrustedProxies::parse(
            &vars.get("TRIBUTARY_TRUSTED_PROXIES").unwrap_or_default(),
        )
        .map_err(|reason| ConfigError::Invalid {
            var: "TRIBUTARY_TRUSTED_PROXIES",
            reason,
        })?;

        Ok(Self {
            listen: vars.parsed("TRIBUTARY_LISTEN", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            database,
            kafka,
            kafka_timeout,
            log_format,
            log_filter,
            site_root: PathBuf::from(
                vars.get("TRIBUTARY_SITE_ROOT")
                    .unwrap_or_else(|| "target/site".to_owned()),
            ),
            graphiql: vars.bool("TRIBUTARY_GRAPHIQL", false)?,
            dev_mailbox: vars.bool("TRIBUTARY_DEV_MAILBOX", false)?,
            jwt,
            secrets,
            cluster_health_interval,
            external_schema_interval,
            public_url,
            mail,
            shutdown_grace: Duration::from_secs(
                vars.parsed("TRIBUTARY_SHUTDOWN_GRACE_SECS", 10u64)?,
            ),
            max_body_bytes: vars.parsed("TRIBUTARY_MAX_BODY_BYTES", 256 * 1024usize)?,
            trusted_proxies,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(move |k| map.get(k).cloned())
    }

    const BASE: [(&str, &str); 4] = [
        ("DATABASE_URL", "postgres://u:p@127.0.0.1:5432/db"),
        ("TRIBUTARY_KAFKA_PASSWORD", "s3cret"),
        ("TRIBUTARY_JWT_KEYS", "k1=0123456789abcdef0123456789abcdef"),
        (
            "TRIBUTARY_ENCRYPTION_KEYS",
            "e1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
    ];

    #[test]
    fn defaults_apply_when_only_secrets_are_given() {
        let config = load(&BASE).expect("valid");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.kafka.bootstrap_servers, "127.0.0.1:19092");
        assert_eq!(
            config.kafka.security_protocol,
            SecurityProtocol::SaslPlaintext
        );
        assert_eq!(config.kafka.password.expose_secret(), "s3cret");
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(!config.graphiql);
        assert!(
            config.trusted_proxies.is_empty(),
            "no proxy is trusted unless configured"
        );
        assert_eq!(config.external_schema_interval, Duration::from_secs(30));
    }

    #[test]
    fn trusted_proxies_are_read() {
        let mut pairs = BASE.to_vec();
        pairs.push(("TRIBUTARY_TRUSTED_PROXIES", " 10.0.0.0/8, fd00::/8 "));
        let config = load(&pairs).expect("valid");
        assert!(!config.trusted_proxies.is_empty());
    }

    #[test]
    fn missing_database_url_is_named() {
        let err = load(&[BASE[1], BASE[2]]).expect_err("must fail");
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "DATABASE_URL",
                ..
            }
        ));
    }

    #[test]
    fn missing_kafka_secret_is_named() {
        let err = load(&[BASE[0]]).expect_err("must fail");
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "TRIBUTARY_KAFKA_PASSWORD",
                ..
            }
        ));
        let err =
            load(&[BASE[0], ("TRIBUTARY_KAFKA_PASSWORD", "  ")]).expect_err("blank is missing");
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "TRIBUTARY_KAFKA_PASSWORD",
                ..
            }
        ));
    }

    #[test]
    fn missing_jwt_keys_are_named() {
        let err = load(&[BASE[0], BASE[1], BASE[3]]).expect_err("must fail");
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "TRIBUTARY_JWT_KEYS",
                ..
            }
        ));
    }

    #[test]
    fn encryption_keys_are_required_and_checked() {
        let err = load(&BASE[..3]).expect_err("must fail");
        assert!(matches!(
            err,
            ConfigError::Missing {
                var: "TRIBUTARY_ENCRYPTION_KEYS",
                ..
            }
        ));
        let err = load(&[
            BASE[0],
            BASE[1],
            BASE[2],
            ("TRIBUTARY_ENCRYPTION_KEYS", "e1=dG9vLXNob3J0"),
        ])
        .expect_err("short key");
        assert!(
            matches!(err, ConfigError::Invalid { var: "TRIBUTARY_ENCRYPTION_KEYS", ref reason } if reason.contains("32 bytes")),
            "{err}"
        );
    }

    #[test]
    fn bad_values_are_named_and_do_not_echo_secrets() {
        let cases: &[(&str, &str, &str)] = &[
            ("DATABASE_URL", "mysql://u:topsecret@h/db", "DATABASE_URL"),
            (
                "DATABASE_URL",
                "postgres://u:topsecret@h:notaport/db",
                "DATABASE_URL",
            ),
            (
                "TRIBUTARY_KAFKA_BOOTSTRAP",
                "localhost",
                "TRIBUTARY_KAFKA_BOOTSTRAP",
            ),
            (
                "TRIBUTARY_KAFKA_BOOTSTRAP",
                "a:1,b:0",
                "TRIBUTARY_KAFKA_BOOTSTRAP",
            ),
            (
                "TRIBUTARY_KAFKA_SECURITY_PROTOCOL",
                "PLAINTEXT",
                "TRIBUTARY_KAFKA_SECURITY_PROTOCOL",
            ),
            (
                "TRIBUTARY_KAFKA_CA_LOCATION",
                "/nonexistent/ca.pem",
                "TRIBUTARY_KAFKA_CA_LOCATION",
            ),
            ("TRIBUTARY_LISTEN", "8080", "TRIBUTARY_LISTEN"),
            ("TRIBUTARY_LOG_FORMAT", "xml", "TRIBUTARY_LOG_FORMAT"),
            ("TRIBUTARY_GRAPHIQL", "maybe", "TRIBUTARY_GRAPHIQL"),
            (
                "TRIBUTARY_DB_MAX_CONNECTIONS",
                "0",
                "TRIBUTARY_DB_MAX_CONNECTIONS",
            ),
            (
                "TRIBUTARY_KAFKA_TIMEOUT_MS",
                "-5",
                "TRIBUTARY_KAFKA_TIMEOUT_MS",
            ),
            (
                "TRIBUTARY_CLUSTER_HEALTH_INTERVAL_SECS",
                "4",
                "TRIBUTARY_CLUSTER_HEALTH_INTERVAL_SECS",
            ),
            (
                "TRIBUTARY_EXTERNAL_SCHEMA_INTERVAL_SECS",
                "2",
                "TRIBUTARY_EXTERNAL_SCHEMA_INTERVAL_SECS",
            ),
            (
                "TRIBUTARY_TRUSTED_PROXIES",
                "10.0.0.0/8,proxy.internal",
                "TRIBUTARY_TRUSTED_PROXIES",
            ),
            (
                "TRIBUTARY_TRUSTED_PROXIES",
                "10.0.0.1/8",
                "TRIBUTARY_TRUSTED_PROXIES",
            ),
        ];
        for (var, value, expected) in cases {
            let mut pairs: Vec<(&str, &str)> =
                BASE.iter().filter(|(k, _)| k != var).copied().collect();
            pairs.push((var, value));
            let err = load(&pairs).expect_err(&format!("{var}={value} must be refused"));
            match &err {
                ConfigError::Invalid { var, .. } => assert_eq!(var, expected),
                other => panic!("{var}={value}: unexpected {other:?}"),
            }
            assert!(
                !err.to_string().contains("topsecret"),
                "secret leaked: {err}"
            );
            assert!(!err.to_string().contains("s3cret"), "secret leaked: {err}");
        }
    }
}
