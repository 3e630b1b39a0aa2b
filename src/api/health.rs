//! Health for whoever runs the service: `GET /health/live` (the process answers: restart it
//! if not), `GET /health/ready` (send it traffic: the database answers within a second, its
//! schema is this release's, the import worker runs) and `GET /health` (the database alone,
//! kept for monitors set up before).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::db;
use crate::state::AppState;

/// 200 when the database answers, 503 when it does not.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "Up, and the database answers", body = Object,
            example = json!({"status": "ok", "database": "reachable", "backend": "sqlite"})),
        (status = 503, description = "The database does not answer", body = Object,
            example = json!({"status": "unavailable", "database": "unreachable", "backend": "postgres"})),
    )
)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = db::backend_name(&state.db);
    if db::ping(&state.db).await {
        (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "reachable", "backend": backend})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "unreachable", "backend": backend})),
        )
    }
}

/// 200 while the process answers requests; nothing else is checked, so a database outage does
/// not get a healthy process restarted.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "health",
    responses((status = 200, description = "The process answers", body = Object,
        example = json!({"status": "ok"})))
)]
pub async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// How long readiness waits for the database before saying it does not answer.
const READY_WAIT: std::time::Duration = std::time::Duration::from_millis(900);

/// 200 when this instance can take work: the database answers (within a second), its schema is
/// this release's, and the import worker runs; 503 naming what is not.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Object,
            example = json!({"status": "ready", "database": "reachable", "schema": "current", "worker": "running"})),
        (status = 503, description = "Not ready, and why", body = Object,
            example = json!({"status": "unavailable", "database": "unreachable", "schema": "unknown", "worker": "running"})),
    )
)]
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let checked = tokio::time::timeout(READY_WAIT, async {
        if !db::ping(&state.db).await {
            return ("unreachable", "unknown");
        }
        let schema = match db::schema_state(&state.db).await {
            Ok(db::SchemaState::Current) => "current",
            Ok(db::SchemaState::Behind { .. }) => "behind",
            Ok(db::SchemaState::Ahead { .. }) => "ahead",
            Err(_) => "unknown",
        };
        ("reachable", schema)
    })
    .await;
    let (database, schema) = checked.unwrap_or(("unreachable", "unknown"));
    let worker = if state.imports.worker_running() {
        "running"
    } else {
        "stopped"
    };
    let ok = database == "reachable" && schema == "current" && worker == "running";
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ok { "ready" } else { "unavailable" },
            "database": database,
            "schema": schema,
            "worker": worker,
        })),
    )
}
