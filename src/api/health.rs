//! `GET /health`: is the service up, and does its database answer?

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
