//! `/api/v1/hospitals`: everyone reads the list; administrators register hospitals.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::extract::{AppJson, AppQuery};
use super::input;
use crate::auth::CurrentUser;
use crate::domain::RegionCode;
use crate::error::{AppError, AppResult, Msg, Problems};
use crate::hospital::{self, HospitalView, NewHospital};
use crate::state::AppState;

/// `?designated=true|false`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HospitalQuery {
    /// Only designated (or only other) hospitals.
    pub designated: Option<bool>,
}

/// `POST /api/v1/hospitals`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateHospitalRequest {
    /// Name.
    pub name: Option<String>,
    /// The programme's code, unique.
    pub code: Option<String>,
    /// 6-digit region code.
    pub region_code: Option<String>,
    /// Designated (定点); true when absent.
    pub designated: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/api/v1/hospitals",
    tag = "hospitals",
    params(HospitalQuery),
    responses(
        (status = 200, description = "Hospitals", body = Vec<HospitalView>),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `GET /api/v1/hospitals`: by code.
pub async fn list_hospitals(
    State(state): State<AppState>,
    _user: CurrentUser,
    AppQuery(q): AppQuery<HospitalQuery>,
) -> AppResult<Json<Vec<HospitalView>>> {
    Ok(Json(hospital::list(&state.db, q.designated).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/hospitals",
    tag = "hospitals",
    request_body = CreateHospitalRequest,
    responses(
        (status = 201, description = "The new hospital", body = HospitalView),
        (status = 401, description = "Not logged in", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The role may not do this", body = super::openapi::ErrorEnvelope),
        (status = 409, description = "The code is taken", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "A missing or bad field", body = super::openapi::ErrorEnvelope),
    ),
    security(("bearer" = []), ("cookie" = []))
)]
/// `POST /api/v1/hospitals`: registers a hospital inside the administrator's region.
pub async fn create_hospital(
    State(state): State<AppState>,
    admin: CurrentUser,
    AppJson(req): AppJson<CreateHospitalRequest>,
) -> AppResult<(StatusCode, Json<HospitalView>)> {
    let mut problems = Problems::new();
    let name = match req.name.as_deref().map(hospital::check_name) {
        Some(Ok(n)) => Some(n),
        Some(Err(e)) => {
            problems.push("invalid_name", &e.field, e.message);
            None
        }
        None => {
            input::missing("name", "医院名称", &mut problems);
            None
        }
    };
    let code = match req.code.as_deref().map(hospital::check_code) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            problems.push("invalid_hospital_code", &e.field, e.message);
            None
        }
        None => {
            input::missing("code", "医院编码", &mut problems);
            None
        }
    };
    let region = match req.region_code.as_deref().map(RegionCode::parse) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            problems.push_err("region_code", &e);
            None
        }
        None => {
            input::missing("region_code", "行政区划代码", &mut problems);
            None
        }
    };
    problems.check()?;
    let (Some(name), Some(code), Some(region)) = (name, code, region) else {
        return Err(anyhow::anyhow!("a hospital field was neither parsed nor reported").into());
    };
    if !admin.region.contains(&region) {
        return Err(AppError::forbidden(Msg::new(
            format!("您只能登记数据范围{}以内的医院。", admin.region),
            format!(
                "You can only register hospitals inside your scope {}.",
                admin.region
            ),
        )));
    }
    let view = hospital::create(
        &state.db,
        &admin.actor(),
        NewHospital {
            name,
            code,
            region,
            designated: req.designated.unwrap_or(true),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}
