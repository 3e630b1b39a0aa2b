//! Sessions: a user lists and ends their own; an administrator ends all of a user's, or removes
//! a user's second factor (a lost phone).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use super::extract::AppPath;
use crate::auth::session::{self, Limits, SessionView};
use crate::auth::{CurrentUser, second_factor};
use crate::error::AppResult;
use crate::state::AppState;
use crate::users;

/// The caller's live sessions, the latest first; `current` marks the one asking.
#[utoipa::path(
    get,
    path = "/api/v1/auth/sessions",
    tag = "auth",
    responses(
        (status = 200, description = "The caller's sessions", body = Vec<SessionView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_own(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<Json<Vec<SessionView>>> {
    let limits = Limits::of(&state.settings);
    Ok(Json(
        session::list_of_user(&state.db, limits, user.id, Some(user.session_id), user.now).await?,
    ))
}

/// Ends one of the caller's sessions (the current one too: that is a logout).
#[utoipa::path(
    delete,
    path = "/api/v1/auth/sessions/{id}",
    tag = "auth",
    params(("id" = i64, Path, description = "Session id, from the list")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such session of the caller", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn end_own(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<StatusCode> {
    session::end_one(&state.db, &state.sessions, user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many sessions were ended.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ended {
    /// Sessions ended.
    pub ended: u64,
}

/// Ends every session of a user of the administrator's scope (they must log in again).
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/sessions",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "Ended", body = Ended),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not an administrator", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such account in the administrator's scope", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn end_users(
    State(state): State<AppState>,
    admin: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<Ended>> {
    let target = users::get(&state.db, &admin.region, id).await?;
    let ended = session::end_all(&state.db, &state.sessions, &admin.actor(), target.id).await?;
    Ok(Json(Ended { ended }))
}

/// Removes a user's second factor and recovery codes (a lost phone), ending their sessions:
/// they enrol again at their next login.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}/second-factor",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not an administrator", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such account in the administrator's scope", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn remove_second_factor(
    State(state): State<AppState>,
    admin: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<StatusCode> {
    second_factor::remove(
        &state.db,
        &state.sessions,
        &admin.actor(),
        &admin.region,
        id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
