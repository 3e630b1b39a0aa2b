//! Starting and stopping the service.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::config::Settings;
use crate::http::layers;
use crate::state::AppState;
use crate::{api, db, web};

/// Connects, migrates and returns the shared state.
pub async fn prepare(settings: Settings) -> anyhow::Result<AppState> {
    crate::clock::set_zone(settings.time_zone)
        .map_err(|e| anyhow::anyhow!("CANCER_AID_TIME_ZONE: {e}"))?;
    if let Some(dir) = &settings.layout_dir {
        crate::payment::layout::install_dir(dir)
            .map_err(|e| anyhow::anyhow!("CANCER_AID_LAYOUT_DIR: {e}"))?;
    }
    let conn = db::connect_waiting(&settings.database_url, None, settings.sqlite_busy).await?;
    db::migrate(&conn).await?;
    tracing::info!(
        backend = db::backend_name(&conn),
        "Database ready at {}",
        db::redact(&settings.database_url)
    );
    Ok(AppState::new(conn, settings))
}

/// Builds the whole application: the API (with the health check and the API description),
/// the pages, and the middleware every request passes through.
pub fn router(state: AppState) -> Router {
    api::router(&state)
        // The browser's pages are for people, not programs: not in the API's description.
        .merge(web::router(&state))
        .fallback(layers::not_found)
        .method_not_allowed_fallback(layers::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings.max_json_bytes))
        // Inside `language`, so that a request stopped for time hears it in its language.
        .layer(middleware::from_fn_with_state(
            layers::TimeLimits {
                request: state.settings.request_timeout,
                transfer: state.settings.transfer_timeout,
            },
            layers::time_limit,
        ))
        // Inside `language`, so that a refusal is worded in the request's language.
        .layer(middleware::from_fn_with_state(
            state.settings.clone(),
            crate::security::csrf::refuse_cross_site,
        ))
        .layer(middleware::from_fn(layers::language))
        .layer(TraceLayer::new_for_http().make_span_with(layers::request_span))
        .layer(CatchPanicLayer::custom(layers::panic_response))
        // Outermost: every answer, a panic's included, carries the security headers.
        .layer(middleware::from_fn_with_state(
            state.settings.clone(),
            crate::security::guard,
        ))
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve(state: AppState, bind: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    tracing::info!("Listening on http://{}", listener.local_addr()?);
    let db = state.db.clone();
    let worker = crate::roster::jobs::spawn_worker(state.db.clone(), state.imports.clone());
    // Uploaded files and rejected rows are personal data: deleted after their retention.
    let retention = crate::roster::retention::spawn(
        state.db.clone(),
        state.settings.upload_retention_days,
        state.settings.access_log_retention_days,
        state.settings.retention_interval,
        state.clock.clone(),
    );
    // Scheduled backups of the embedded database, when a folder is given.
    let backups = match (
        &state.settings.backup_dir,
        db::sqlite_path(&state.settings.database_url),
    ) {
        (Some(dir), Some(_)) => Some(crate::backup::spawn_schedule(
            state.db.clone(),
            dir.clone(),
            state.settings.backup_interval,
            state.settings.backup_keep,
            state.clock.clone(),
        )),
        (Some(_), None) => {
            tracing::warn!(
                "CANCER_AID_BACKUP_DIR is for the embedded database: back PostgreSQL up with pg_dump"
            );
            None
        }
        _ => None,
    };
    // The client's address reaches handlers (the access log records it).
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    // An import still running is rolled back with its transaction; the next start marks it failed.
    worker.abort();
    // A purge stopped between two batches goes on at the next start.
    retention.abort();
    if let Some(b) = backups {
        b.abort();
    }
    db.close().await.ok();
    tracing::info!("Stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
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
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("Shutting down: finishing requests in flight");
}
