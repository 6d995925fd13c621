//! Start-up: check every dependency with a clear error, build the router, serve until a signal,
//! then drain within the grace period.

use std::path::Path;

use axum::Router;
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use tributary_api::{AppState, DevFeatures, HttpLimits};
use tributary_db::{DbError, MigrationStatus};
use tributary_identity::Identity;
use tributary_provisioning::{KafkaAdmin, KafkaAdminError};
use tributary_web::session::{PortalSession, refresh_middleware, refuse_cross_origin};

use crate::Config;

/// Why the server could not start. Each names the dependency and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] DbError),
    #[error("database schema is not current ({0}); run `tributary migrate` with this binary first")]
    MigrationsNotApplied(MigrationStatus),
    #[error("kafka: cannot reach or log in to {bootstrap}: {source}")]
    Kafka {
        bootstrap: String,
        #[source]
        source: KafkaAdminError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

/// Connects to PostgreSQL and Kafka and proves both answer.
pub async fn connect(config: &Config) -> Result<(PgPool, KafkaAdmin), StartupError> {
    let pool = config.database.connect().await?;
    let kafka_error = |source| StartupError::Kafka {
        bootstrap: config.kafka.bootstrap_servers.clone(),
        source,
    };
    let kafka = KafkaAdmin::new(&config.kafka, config.kafka_timeout).map_err(kafka_error)?;
    let info = kafka.cluster_info().await.map_err(kafka_error)?;
    tracing::info!(brokers = info.broker_count, "kafka reachable");
    Ok((pool, kafka))
}

/// `tributary migrate`: applies pending migrations.
pub async fn migrate(config: &Config) -> Result<MigrationStatus, StartupError> {
    let pool = config.database.connect().await?;
    tributary_db::migrate(&pool).await?;
    Ok(tributary_db::migration_status(&pool).await?)
}

/// The whole HTTP surface: API routes, the portal (SSR + hydration assets), middleware.
pub fn router(state: AppState, site_root: &Path) -> Router {
    let options = LeptosOptions::builder()
        .output_name("tributary_web")
        .site_root(site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(tributary_web::App);
    let schema = state.schema.clone();
    let session = PortalSession {
        identity: state.identity.clone(),
        https: state.identity.public_url().starts_with("https://"),
    };
    let context_session = session.clone();
    let shell_options = options.clone();
    let proxies = state.limits.trusted_proxies.clone();
    let portal = Router::new()
        .leptos_routes_with_context(
            &options,
            routes,
            move || {
                provide_context(schema.clone());
                provide_context(context_session.identity.clone());
                provide_context(context_session.clone());
            },
            move || tributary_web::shell(shell_options.clone()),
        )
        .route_service(
            &leptos_axum::site_pkg_dir_service_route_path(&options),
            leptos_axum::site_pkg_dir_service(&options),
        )
        .fallback(leptos_axum::file_and_error_handler(tributary_web::shell))
        .layer(axum::middleware::from_fn_with_state(
            session.clone(),
            refresh_middleware,
        ))
        // Outside the refresh: a refused request does not even rotate the session.
        .layer(axum::middleware::from_fn_with_state(
            session,
            refuse_cross_origin,
        ))
        .layer(axum::middleware::from_fn_with_state(
            proxies,
            tributary_api::client_addr::resolve,
        ))
        .with_state(options);

    tributary_api::router(state)
        .merge(portal)
        .layer(CatchPanicLayer::new())
        // Request spans at INFO, so an error logged while serving names its method and URI.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(
                    tower_http::trace::DefaultMakeSpan::new().level(tracing::Level::INFO),
                )
                .on_request(tower_http::trace::DefaultOnRequest::new().level(tracing::Level::DEBUG))
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::DEBUG),
                ),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Resolves on SIGINT or SIGTERM, and cancels `token` so background tasks stop too.
pub async fn shutdown_signal(token: CancellationToken) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
        () = token.cancelled() => {},
    }
    tracing::info!("shutdown requested");
    token.cancel();
}

/// `tributary serve`: checks dependencies, then serves until a signal; in-flight requests get
/// `shutdown_grace` to finish.
pub async fn serve(config: &Config) -> Result<(), StartupError> {
    let (pool, kafka) = connect(config).await?;
    let status = tributary_db::migration_status(&pool).await?;
    if !status.is_current() {
        return Err(StartupError::MigrationsNotApplied(status));
    }
    if !config.site_root.join("pkg").is_dir() {
        tracing::warn!(
            site_root = %config.site_root.display(),
            "portal assets not found: pages render, but stay non-interactive (build them with `cargo xtask`)"
        );
    }
    let limits = HttpLimits {
        max_body_bytes: config.max_body_bytes,
        trusted_proxies: config.trusted_proxies.clone(),
        ..HttpLimits::default()
    };
    let identity = Identity::new(pool.clone(), config.jwt.clone(), config.public_url.clone());
    let dev = DevFeatures {
        graphiql: config.graphiql,
        mailbox: config.dev_mailbox,
    };
    let catalog = tributary_catalog::Catalog::new(
        pool.clone(),
        identity.clone(),
        config.secrets.clone(),
        config.kafka_timeout,
    );
    // The search index loads before the first visitor asks (about a second per 100 000
    // streams); a failure here is retried by the first search.
    {
        let catalog = catalog.clone();
        tokio::spawn(async move {
            if let Err(e) = catalog.prepare_search().await {
                tracing::warn!(error = %e, "catalog search index not loaded yet");
            }
        });
    }
    let state = AppState::new(pool.clone(), kafka, identity, catalog.clone(), limits, dev);
    let app = router(state, &config.site_root);
    let listener =
        TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartupError::Listen {
                addr: config.listen,
                source,
            })?;
    tracing::info!(addr = %config.listen, "listening");

    let token = CancellationToken::new();
    let mailer = tokio::spawn(crate::mailer::run(
        pool.clone(),
        config.mail.clone(),
        token.clone(),
    ));
    let relay = tokio::spawn(crate::relay::run(
        pool.clone(),
        config.kafka.clone(),
        config.kafka_timeout,
        token.clone(),
    ));
    let health = tokio::spawn(crate::cluster_health::run(
        catalog.clone(),
        config.cluster_health_interval,
        token.clone(),
    ));
    let schema_watch = tokio::spawn(crate::schema_watch::run(
        catalog,
        pool.clone(),
        config.external_schema_interval,
        token.clone(),
    ));
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal(token.clone()));
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        result = &mut server => result.map_err(StartupError::Serve)?,
        () = token.cancelled() => {
            match tokio::time::timeout(config.shutdown_grace, &mut server).await {
                Ok(result) => result.map_err(StartupError::Serve)?,
                Err(_) => tracing::warn!(grace = ?config.shutdown_grace, "requests still running after the grace period; stopping anyway"),
            }
        }
    }
    token.cancel();
    for (name, task) in [
        ("mailer", mailer),
        ("event relay", relay),
        ("cluster health", health),
        ("external schema watch", schema_watch),
    ] {
        if tokio::time::timeout(config.shutdown_grace, task)
            .await
            .is_err()
        {
            tracing::warn!(task = name, "did not stop within the grace period");
        }
    }
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}
