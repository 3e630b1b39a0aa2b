//! `/api/v1/users`: administrators manage accounts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use validator::Validate;

use super::extract::{AppPath, ValidatedJson};
use crate::auth::CurrentUser;
use crate::auth::password_rules::NewPassword;
use crate::domain::{RegionPrefix, Role};
use crate::error::{AppError, AppResult, FieldError, Msg};
use crate::state::AppState;
use crate::users::{self, NewUser, UserPatch, UserView};

/// `POST /api/v1/users`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct CreateUserRequest {
    /// Login name.
    #[validate(length(min = 3, max = 32))]
    pub username: String,
    /// Name shown in the UI.
    #[serde(default)]
    #[validate(length(max = 64))]
    pub display_name: String,
    /// Initial password: at least 12 characters, not the username, not a common password.
    #[validate(length(min = 1))]
    pub password: String,
    /// Role codes.
    #[validate(length(min = 1))]
    pub roles: Vec<String>,
    /// Data scope ("22", "2201", "220102").
    pub region_prefix: String,
}

/// `PATCH /api/v1/users/{id}`.
#[derive(Debug, Deserialize, Validate, utoipa::ToSchema)]
pub struct UpdateUserRequest {
    /// New display name.
    #[validate(length(max = 64))]
    pub display_name: Option<String>,
    /// New password, under the same rules as the initial one.
    #[validate(length(min = 1))]
    pub password: Option<String>,
    /// New role codes.
    #[validate(length(min = 1))]
    pub roles: Option<Vec<String>>,
    /// New data scope.
    pub region_prefix: Option<String>,
    /// Enable or disable the account.
    pub active: Option<bool>,
}

fn parse_roles(raw: &[String]) -> Result<Vec<Role>, FieldError> {
    Role::parse_list(&raw.join(",")).map_err(|e| FieldError::new("roles", Msg::of(&e)))
}

fn parse_region(admin: &crate::auth::CurrentUser, raw: &str) -> AppResult<RegionPrefix> {
    let region = RegionPrefix::parse(raw).map_err(|e| AppError::field("region_prefix", &e))?;
    if !admin.region.covers(&region) {
        return Err(AppError::forbidden(Msg::new(
            format!("您只能管理数据范围在{}以内的账号。", admin.region),
            format!(
                "You can only manage accounts inside your own scope {}.",
                admin.region
            ),
        )));
    }
    Ok(region)
}

/// Every account.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    responses(
        (status = 200, description = "Every account", body = Vec<UserView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not an administrator", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn list_users(
    State(state): State<AppState>,
    admin: CurrentUser,
) -> AppResult<Json<Vec<UserView>>> {
    Ok(Json(users::list(&state.db, &admin.region).await?))
}

/// One account.
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The account", body = UserView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not an administrator", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such account", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn get_user(
    State(state): State<AppState>,
    admin: CurrentUser,
    AppPath(id): AppPath<i64>,
) -> AppResult<Json<UserView>> {
    Ok(Json(users::get(&state.db, &admin.region, id).await?))
}

/// Creates an account inside the administrator's scope.
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not an administrator, or a scope outside the administrator's", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "The username is taken", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A field is not valid", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn create_user(
    State(state): State<AppState>,
    admin: CurrentUser,
    ValidatedJson(req): ValidatedJson<CreateUserRequest>,
) -> AppResult<(StatusCode, Json<UserView>)> {
    let mut problems = Vec::new();
    if let Err(e) = users::check_username(&req.username) {
        problems.push(e);
    }
    let roles = parse_roles(&req.roles).map_err(|e| problems.push(e)).ok();
    let password = NewPassword::parse(&req.password, &req.username)
        .map_err(|e| problems.push(e))
        .ok();
    let (Some(roles), Some(password), true) = (roles, password, problems.is_empty()) else {
        return Err(AppError::validation(problems));
    };
    let region = parse_region(&admin, &req.region_prefix)?;
    let new = NewUser {
        username: req.username,
        display_name: req.display_name,
        password,
        roles,
        region,
    };
    let view = users::create(&state.db, &admin.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Changes roles, scope, name, password or whether the account is active.
#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "Changed", body = UserView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "Not an administrator, or a scope outside the administrator's", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such account", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "An administrator cannot lock themselves out", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A field is not valid", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
pub async fn update_user(
    State(state): State<AppState>,
    admin: CurrentUser,
    AppPath(id): AppPath<i64>,
    ValidatedJson(req): ValidatedJson<UpdateUserRequest>,
) -> AppResult<Json<UserView>> {
    let roles = match &req.roles {
        Some(r) => Some(parse_roles(r).map_err(|e| AppError::validation(vec![e]))?),
        None => None,
    };
    if id == admin.id
        && (req.active == Some(false) || roles.as_ref().is_some_and(|r| !r.contains(&Role::Admin)))
    {
        return Err(AppError::conflict(
            "cannot_lock_out_self",
            Msg::new(
                "不能停用自己的账号或去掉自己的管理员角色。",
                "You cannot disable your own account or remove your own admin role.",
            ),
        ));
    }
    let region = match &req.region_prefix {
        Some(r) => Some(parse_region(&admin, r)?),
        None => None,
    };
    let password = match &req.password {
        // The rules need the account's name; an account outside the scope is a 404 here too.
        Some(p) => {
            let target = users::get(&state.db, &admin.region, id).await?;
            Some(
                NewPassword::parse(p, &target.username)
                    .map_err(|e| AppError::validation(vec![e]))?,
            )
        }
        None => None,
    };
    let patch = UserPatch {
        display_name: req.display_name,
        password,
        roles,
        region,
        active: req.active,
    };
    let view = users::update(&state.db, &admin.actor(), &admin.region, id, patch).await?;
    // Whatever changed (roles, scope, password, active), the user's next request must see it.
    state.sessions.forget_user(id);
    Ok(Json(view))
}
