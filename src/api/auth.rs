//! Login, logout and "who am I".

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::extract::{ValidatedJson, token_of};
use crate::access_log::Source;
use crate::auth::{self, CurrentUser, session};
use crate::domain::Role;
use crate::error::AppResult;
use crate::security::Transport;
use crate::state::AppState;

/// `POST /api/v1/auth/login`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct LoginRequest {
    /// Login name.
    #[validate(length(min = 1, max = 64))]
    pub username: String,
    /// Password.
    #[validate(length(min = 1, max = 256))]
    pub password: String,
}

/// The user part of a login answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    /// Id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Roles held.
    #[schema(value_type = Vec<String>, example = json!(["manager"]))]
    pub roles: Vec<Role>,
    /// Data scope.
    pub region_prefix: String,
}

impl From<&CurrentUser> for UserSummary {
    fn from(u: &CurrentUser) -> UserSummary {
        UserSummary {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            roles: u.roles.clone(),
            region_prefix: u.region.to_string(),
        }
    }
}

/// The answer to a login.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Who logged in.
    pub user: UserSummary,
}

/// Checks the password and opens a session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = LoginResponse),
        (status = 401, description = "Wrong name or password", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A field is missing or too long", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed logins for this name or address: wait for `Retry-After` seconds", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    source: Source,
    ValidatedJson(req): ValidatedJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let out = auth::login(
        &state.db,
        &state.settings,
        &source.client,
        &req.username,
        &req.password,
    )
    .await?;
    Ok(Json(LoginResponse {
        token: out.token,
        user: UserSummary::from(&out.user),
    }))
}

/// Ends the session of the presented token.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn logout(
    State(state): State<AppState>,
    _user: CurrentUser,
    transport: Transport,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    if let Some(token) = token_of(&headers, transport) {
        session::logout(&state.db, &state.sessions, &token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The logged-in user.
#[utoipa::path(
    get,
    path = "/api/v1/auth/me",
    tag = "auth",
    responses(
        (status = 200, description = "Who is logged in", body = UserSummary),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn me(user: CurrentUser) -> Json<UserSummary> {
    Json(UserSummary::from(&user))
}
