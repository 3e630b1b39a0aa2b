//! Login (password, then the second factor where the account has one), enrolment of a second
//! factor, logout and "who am I".

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use validator::Validate;

use super::extract::{LoginSession, ValidatedJson, client_info, token_of};
use crate::access_log::Source;
use crate::auth::session::Stage;
use crate::auth::{self, CurrentUser, second_factor, session};
use crate::domain::Role;
use crate::error::{AppError, AppResult, Msg};
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
    /// How far the login got.
    pub stage: LoginStage,
}

/// How far a login got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoginStage {
    /// Logged in.
    Full,
    /// The token can only send the code from the authenticator app (or a recovery code) to
    /// `POST /api/v1/auth/second-factor`.
    SecondFactor,
    /// The account must enrol a second factor (`POST /api/v1/auth/totp`, then `/confirm`)
    /// before anything else.
    Enrol,
}

impl From<Stage> for LoginStage {
    fn from(stage: Stage) -> LoginStage {
        match stage {
            Stage::Full => LoginStage::Full,
            Stage::SecondFactor => LoginStage::SecondFactor,
            Stage::Enrol => LoginStage::Enrol,
        }
    }
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
    headers: HeaderMap,
    ValidatedJson(req): ValidatedJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let out = auth::login(
        &state.db,
        &state.settings,
        &client_info(&source, &headers),
        &req.username,
        &req.password,
        state.clock.now(),
    )
    .await?;
    Ok(Json(LoginResponse {
        token: out.token,
        user: UserSummary::from(&out.user),
        stage: out.stage.into(),
    }))
}

/// `POST /api/v1/auth/second-factor`, `POST /api/v1/auth/totp/confirm`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct CodeRequest {
    /// The 6 digits the authenticator app shows, or (for the second factor) a recovery code.
    #[validate(length(min = 1, max = 32))]
    #[schema(example = "123456")]
    pub code: String,
}

/// Finishes a login that owes its second factor: the same token then acts for the user.
#[utoipa::path(
    post,
    path = "/api/v1/auth/second-factor",
    tag = "auth",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Logged in", body = UserSummary),
        (status = 401, description = "Not logging in, or a wrong or used code", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "This session owes no second factor", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "No code", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many wrong codes or passwords: wait for `Retry-After` seconds", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn second_factor(
    State(state): State<AppState>,
    LoginSession(found): LoginSession,
    source: Source,
    headers: HeaderMap,
    ValidatedJson(req): ValidatedJson<CodeRequest>,
) -> AppResult<Json<UserSummary>> {
    if found.stage != Stage::SecondFactor {
        return Err(AppError::conflict(
            "no_second_factor_owed",
            Msg::new(
                "这个登录不需要输入动态验证码。",
                "This login owes no second factor.",
            ),
        ));
    }
    let client = client_info(&source, &headers);
    second_factor::present(&state.db, &state.settings, &client, &found.user, &req.code).await?;
    state.sessions.forget_session(found.user.session_id);
    Ok(Json(UserSummary::from(&found.user)))
}

/// Starts enrolling an authenticator app: a new secret and its QR code (replacing one not yet
/// confirmed). Confirm it with a code from the app.
#[utoipa::path(
    post,
    path = "/api/v1/auth/totp",
    tag = "auth",
    responses(
        (status = 200, description = "The secret and its QR code", body = second_factor::Enrolment),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "A second factor is enrolled already", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn start_totp(
    State(state): State<AppState>,
    LoginSession(found): LoginSession,
) -> AppResult<Json<second_factor::Enrolment>> {
    Ok(Json(second_factor::start(&state.db, &found.user).await?))
}

/// The recovery codes of a confirmed enrolment: shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    /// Ten one-time codes, each good for one login without the phone.
    pub recovery_codes: Vec<String>,
}

/// Confirms the enrolment with a code from the app; answers the recovery codes, once. A
/// session that was only allowed to enrol is then logged in.
#[utoipa::path(
    post,
    path = "/api/v1/auth/totp/confirm",
    tag = "auth",
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Enrolled", body = RecoveryCodes),
        (status = 401, description = "Not logged in, or a wrong code", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "Enrolled already, or no enrolment started", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "No code", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many wrong codes: wait for `Retry-After` seconds", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn confirm_totp(
    State(state): State<AppState>,
    LoginSession(found): LoginSession,
    source: Source,
    headers: HeaderMap,
    ValidatedJson(req): ValidatedJson<CodeRequest>,
) -> AppResult<Json<RecoveryCodes>> {
    let client = client_info(&source, &headers);
    let codes =
        second_factor::confirm(&state.db, &state.settings, &client, &found.user, &req.code).await?;
    state.sessions.forget_session(found.user.session_id);
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
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
    // A login that still owes its code may be abandoned too.
    _session: LoginSession,
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
